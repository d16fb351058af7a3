/* SPDX-License-Identifier: MIT */
/*
 * fuzz target `walk_diff`. Invariant: the walker agrees with Unicorn's MMU (the oracle,
 * emu/oracle.c) on every probe: for the input's CPU state (MAXPHYADDR forced to Unicorn's), page
 * tables and addresses, pt_diff_compare of pt_translate's answer and the oracle's must be MATCH,
 * a documented Unicorn DEVIATION (emu/diff.c) or SKIPPED (a table not in the memory); a MISMATCH
 * prints both answers and aborts. PAE states whose PDPTEs #GP at CR3 load are compared as
 * pt_diff_run does (the CR3-load outcome is the walker's answer for every address).
 * One oracle serves every input: it reads the tables through the reader it was created with at
 * probe time (MMIO callbacks, nothing cached), and each probe starts with a guest MOV to CR3.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "ptlab/emu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz_mem mem;
static struct pt_oracle *oracle;
/** Verdict counts (PT_DIFF_*; index 4: the oracle could not answer), printed per input when
 *  PTLAB_FUZZ_VERBOSE is set (replay: shows the seeds really exercise the oracle). */
static uint64_t counts[5];

static void print_answers(uint64_t va, const struct pt_access *a, enum pt_status ws,
			  const struct pt_result *w, const struct pt_oracle_answer *o)
{
	fprintf(stderr, "MISMATCH va 0x%" PRIx64 " kind %d cpl %u implicit %d\n", va, a->kind,
		a->cpl, a->implicit);
	fprintf(stderr, " walker: %s pa 0x%" PRIx64 " level %u fault vec %u err 0x%x level %u\n",
		pt_status_name(ws), w->pa, w->level, w->fault.vector, w->fault.error_code,
		w->fault.level);
	for (unsigned i = 0; i < w->nentries && i < 5; i++)
		fprintf(stderr, "  L%u @0x%" PRIx64 " = 0x%" PRIx64 "\n", w->entry[i].level,
			w->entry[i].pa, w->entry[i].value);
	fprintf(stderr, " oracle: %s pa 0x%" PRIx64 " level %u vec %u err 0x%x\n",
		pt_status_name(o->status), o->pa, o->level, o->vector, o->error_code);
	for (unsigned i = 0; i < o->nentries && i < 5; i++)
		fprintf(stderr, "  @0x%" PRIx64 " = 0x%" PRIx64 "\n", o->entry_pa[i], o->entry[i]);
}

static void probe(const struct fz_input *in, const struct pt_context *ctx, enum pt_status init,
		  const struct pt_fault *init_fault, uint64_t init_table_pa, uint64_t va,
		  const struct pt_access *a)
{
	struct pt_result w = { 0 };
	struct pt_oracle_answer o;
	struct pt_error err;
	enum pt_status ws;
	enum pt_diff_deviation dev;

	if (init != PT_OK) {
		ws = init;
		w.va = va;
		w.fault = *init_fault;
		w.table_pa = init_table_pa;
	} else {
		ws = pt_translate(ctx, &mem.mem, va, a, &w);
	}
	if (pt_oracle_probe(oracle, &in->cpu, va, a, &o, &err) != PT_OK) {
		counts[4]++;
		return; /* not observable in Unicorn (e.g. a table in the oracle's harness memory) */
	}
	const enum pt_diff_verdict v = pt_diff_compare(ctx, a, ws, &w, &o, &dev);
	counts[v]++;
	if (v == PT_DIFF_MISMATCH) {
		print_answers(va, a, ws, &w, &o);
		fz_fail("walker and Unicorn disagree (mode %s, CR0 0x%" PRIx64 " CR3 0x%" PRIx64
			" CR4 0x%" PRIx64 " EFER 0x%" PRIx64 ")", pt_mode_name(in->mode), in->cpu.cr0,
			in->cpu.cr3, in->cpu.cr4, in->cpu.efer);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_input in;
	struct pt_context ctx;
	struct pt_fault fault = { 0 };
	uint64_t table_pa = 0;

	if (oracle == NULL) {
		struct pt_error err;
		fz_mem_init(&mem);
		if (pt_oracle_create(&mem.mem, UINT64_C(1) << 40, &oracle, &err) != PT_OK)
			fz_fail("oracle: %s", err.message);
	}
	const struct fz_parse_opts opts = { .force_maxphyaddr = (uint8_t)pt_oracle_maxphyaddr(oracle) };
	fz_parse(data, size, &opts, &in, &mem);
	const enum pt_status init = pt_context_init(&ctx, &in.cpu, &mem.mem, &fault, &table_pa);
	if (init != PT_EINVAL && ctx.mode != PT_MODE_OFF) {
		for (unsigned i = 0; i < FZ_NVA; i++) {
			if (in.options & FZ_OPT_ALL_ACCESSES) {
				for (unsigned k = 0; k < 3; k++)
					for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
						struct pt_access a = { (enum pt_access_kind)k,
								       (uint8_t)cpl, false };
						probe(&in, &ctx, init, &fault, table_pa, in.va[i], &a);
					}
			} else {
				probe(&in, &ctx, init, &fault, table_pa, in.va[i], &in.access);
			}
		}
	}
	if (getenv("PTLAB_FUZZ_VERBOSE"))
		fprintf(stderr, "walk_diff: %s: match %" PRIu64 " deviation %" PRIu64 " skipped %" PRIu64
			" unanswered %" PRIu64 "\n", pt_mode_name(in.mode), counts[0], counts[2],
			counts[3], counts[4]);
	memset(counts, 0, sizeof(counts));
	fz_mem_reset(&mem);
	return 0;
}
