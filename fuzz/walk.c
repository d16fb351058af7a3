/* SPDX-License-Identifier: MIT */
/*
 * fuzz target `walk`. Invariant: for any architecturally possible CPU state and any page tables,
 * pt_context_init, pt_translate, pt_walk and pt_tlb_translate never crash, hang or read outside
 * the memory they were given, and every answer is consistent with the SDM, recomputed here from
 * the entries the walk reports (fz_check.c): each entry at the VA's index in the table the
 * previous one points to; the PA inside the leaf's frame; page size from the leaf's level; R/W,
 * U/S and XD combined across levels; no allowed access that 4.6 forbids; #PF error-code bits
 * that match the access. pt_walk agrees with pt_translate, and the cached translation
 * (pt_tlb_translate, asked twice: miss then hit) equals the uncached one, and so does the fast
 * path (pt_translate_lean: the same answer without the per-level record).
 *
 * What one input runs: every distinct VA is translated for the header's access and checked; the
 * VA that header byte 7 picks (fz_input.check: bits 1:0 the slot) also gets the cross-checks:
 * pt_walk checked on its own and against pt_translate, pt_translate against pt_walk +
 * pt_result_check_access, then against pt_translate either pt_translate_lean or, with
 * FZ_CHECK_TLB (bit 2), the TLB miss and hit; and with FZ_OPT_ALL_ACCESSES all six accesses
 * (every kind at CPL 0 and 3) checked. Running every cross-check on every VA and access (up to
 * 76 walks an input) made a run cost 20 times the walker's own work (issue 14); here it is 3 to
 * 6 walks (11 when the picked VA faults with FZ_OPT_ALL_ACCESSES). Nothing goes
 * unchecked over a campaign: the slot, the access and the VAs are input bytes the fuzzer sets
 * (the structure-aware mutator re-rolls byte 7 with every header change), so any VA and access
 * can reach every cross-check.
 */
#include <stdlib.h>

#include "fz_check.h"
#include "input.h"
#include "ptlab/tlb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pt_tlb *tlb;

/** pt_translate of `va` for `a`, checked on its own; returns its status (result in r). */
static enum pt_status translate_checked(const struct pt_context *ctx, const struct fz_mem *m,
					uint64_t va, const struct pt_access *a, struct pt_result *r)
{
	const enum pt_status st = pt_translate(ctx, &m->mem, va, a, r);
	fz_check_result(ctx, va, a, st, r);
	return st;
}

/** pt_translate's answer (st, r) for `a` against pt_walk's (sw, rw): the walk does not check the
 *  access, so the two differ only by a protection fault. */
static void check_against_walk(uint64_t va, enum pt_status st, const struct pt_result *r,
			       enum pt_status sw, const struct pt_result *rw)
{
	if (st == PT_OK && (sw != PT_OK || rw->pa != r->pa))
		fz_fail("pt_translate translated 0x%llx but pt_walk did not agree",
			(unsigned long long)va);
	if (sw == PT_OK && st == PT_FAULT &&
	    (!(r->fault.error_code & PF_ERR_P) || (r->fault.error_code & PF_ERR_RSVD)))
		fz_fail("pt_walk translated 0x%llx, pt_translate faults for a non-protection reason",
			(unsigned long long)va);
	if (sw != PT_OK && st != sw)
		fz_fail("pt_walk status %d, pt_translate %d", sw, st);
}

/** Every cross-check for one VA: pt_walk, pt_translate for the header's access against it and
 *  against pt_walk + pt_result_check_access (pt_translate's contract, walk.h), pt_translate_lean
 *  or (FZ_CHECK_TLB) the TLB, miss then hit, against pt_translate; with FZ_OPT_ALL_ACCESSES every
 *  kind at CPL 0 and 3 as well: by that contract (the walk's mapping, each access applied, no
 *  walk again) when the walk translates, by pt_translate when it faults (the #PF error code
 *  depends on the access). */
static void cross_check(const struct pt_context *ctx, const struct fz_mem *m,
			const struct fz_input *in, uint64_t va)
{
	struct pt_result rw, r, rt;

	const enum pt_status sw = pt_walk(ctx, &m->mem, va, &rw);
	fz_check_result(ctx, va, NULL, sw, &rw);

	const enum pt_status st = translate_checked(ctx, m, va, &in->access, &r);
	check_against_walk(va, st, &r, sw, &rw);
	if (sw == PT_OK) {
		rt = rw;
		const enum pt_status sc = pt_result_check_access(ctx, &in->access, &rt);
		fz_check_same("pt_walk + pt_result_check_access vs pt_translate", va, st, &r, sc, &rt);
	}
	if (in->check & FZ_CHECK_TLB) {
		for (int pass = 0; pass < 2; pass++) {
			const enum pt_status s2 =
				pt_tlb_translate(tlb, ctx, &m->mem, va, &in->access, &rt);
			fz_check_same(pass ? "TLB hit vs walk" : "TLB miss vs walk", va, st, &r,
				      s2, &rt);
		}
	} else {
		/* the fast path: pt_translate_lean answers as pt_translate does */
		const enum pt_status sl = pt_translate_lean(ctx, &m->mem, va, &in->access, &rt);
		fz_check_same("pt_translate_lean vs pt_translate", va, st, &r, sl, &rt);
	}

	if (!(in->options & FZ_OPT_ALL_ACCESSES))
		return;
	for (unsigned k = 0; k < 3; k++)
		for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
			const struct pt_access a = { (enum pt_access_kind)k, (uint8_t)cpl, false };
			if (a.kind == in->access.kind && a.cpl == in->access.cpl && !in->access.implicit)
				continue; /* asked above */
			if (sw == PT_OK) {
				r = rw;
				const enum pt_status sa = pt_result_check_access(ctx, &a, &r);
				fz_check_result(ctx, va, &a, sa, &r);
			} else {
				const enum pt_status sa = translate_checked(ctx, m, va, &a, &r);
				check_against_walk(va, sa, &r, sw, &rw);
			}
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_mem m;
	struct fz_input in;
	struct pt_context ctx;
	struct pt_fault fault;
	uint64_t table_pa;

	if (tlb == NULL && pt_tlb_create(6, &tlb) != PT_OK)
		abort();
	fz_mem_init(&m);
	fz_parse(data, size, NULL, &in, &m);
	pt_tlb_flush_all(tlb); /* the memory behind the same reader changed */

	const enum pt_status st = pt_context_init(&ctx, &in.cpu, &m.mem, &fault, &table_pa);
	if (st == PT_EINVAL && in.cpu.maxphyaddr >= 32)
		fz_fail("the sanitiser let an impossible state through (mode %d)", in.mode);
	if (st == PT_OK) {
		const uint64_t picked = in.va[in.check & FZ_CHECK_SLOT];
		cross_check(&ctx, &m, &in, picked);
		for (unsigned i = 0; i < FZ_NVA; i++) {
			struct pt_result r;
			if (in.va[i] != picked && !fz_va_repeated(&in, i))
				translate_checked(&ctx, &m, in.va[i], &in.access, &r);
		}
	}
	fz_mem_reset(&m);
	return 0;
}
