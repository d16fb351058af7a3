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
 * path (pt_translate_lean: the same answer without the per-level record). Each distinct VA is
 * walked once (pt_walk does not depend on the access) and translated for every access asked for.
 */
#include <stdlib.h>

#include "fz_check.h"
#include "input.h"
#include "ptlab/tlb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pt_tlb *tlb;

/** pt_walk of `va`, checked on its own: the mapping without an access check (the same for every
 *  access, so walked once per VA). */
static enum pt_status walk_once(const struct pt_context *ctx, const struct fz_mem *m, uint64_t va,
				struct pt_result *rw)
{
	const enum pt_status sw = pt_walk(ctx, &m->mem, va, rw);
	fz_check_result(ctx, va, NULL, sw, rw);
	return sw;
}

/** One access to `va`: pt_translate checked, against pt_walk's answer (sw, rw) too, then the TLB. */
static void one(const struct pt_context *ctx, const struct fz_mem *m, uint64_t va,
		const struct pt_access *a, enum pt_status sw, const struct pt_result *rw)
{
	struct pt_result r, rt;

	const enum pt_status st = pt_translate(ctx, &m->mem, va, a, &r);
	fz_check_result(ctx, va, a, st, &r);
	/* the fast path: pt_translate_lean answers as pt_translate does */
	const enum pt_status sl = pt_translate_lean(ctx, &m->mem, va, a, &rt);
	fz_check_same("pt_translate_lean vs pt_translate", va, st, &r, sl, &rt);
	if (st == PT_OK && (sw != PT_OK || rw->pa != r.pa))
		fz_fail("pt_translate translated 0x%llx but pt_walk did not agree",
			(unsigned long long)va);
	if (sw == PT_OK && st == PT_FAULT &&
	    (!(r.fault.error_code & PF_ERR_P) || (r.fault.error_code & PF_ERR_RSVD)))
		fz_fail("pt_walk translated 0x%llx, pt_translate faults for a non-protection reason",
			(unsigned long long)va);
	if (sw != PT_OK && st != sw)
		fz_fail("pt_walk status %d, pt_translate %d", sw, st);

	for (int pass = 0; pass < 2; pass++) {
		const enum pt_status s2 = pt_tlb_translate(tlb, ctx, &m->mem, va, a, &rt);
		fz_check_same(pass ? "TLB hit vs walk" : "TLB miss vs walk", va, st, &r, s2, &rt);
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
		for (unsigned i = 0; i < FZ_NVA; i++) {
			if (fz_va_repeated(&in, i))
				continue;
			struct pt_result rw;
			const enum pt_status sw = walk_once(&ctx, &m, in.va[i], &rw);
			if (in.options & FZ_OPT_ALL_ACCESSES) {
				for (unsigned k = 0; k < 3; k++)
					for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
						struct pt_access a = { (enum pt_access_kind)k,
								       (uint8_t)cpl, false };
						one(&ctx, &m, in.va[i], &a, sw, &rw);
					}
			} else {
				one(&ctx, &m, in.va[i], &in.access, sw, &rw);
			}
		}
	}
	fz_mem_reset(&m);
	return 0;
}
