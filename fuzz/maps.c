/* SPDX-License-Identifier: MIT */
/*
 * fuzz target `maps`. Invariant: enumeration agrees with translation. For any possible CPU state
 * and page tables, pt_maps_* never crashes or hangs (the alias budget bounds hostile tables);
 * ranges come in increasing VA order without overlap, inside the window asked for; for every
 * range, pt_walk of its first and last byte agrees with it: a MAPPED range translates to its PA
 * (+ offset) with its page size and rights, a RESERVED one faults with RSVD, a HOLE faults
 * not-present, an UNREADABLE one hits a table not in the memory; and a sampled VA inside the part
 * of the window enumerated that pt_walk translates lies in a yielded MAPPED or ALIAS range (at
 * the PA the range says).
 *
 * What one input runs: the first MAX_RANGES ranges of one window, the whole space or (with
 * FZ_CHECK_WINDOW in header byte 7) from va[check & 3] to va[(check + 1) & 3]. Enumerating all of
 * an input's tables (up to 64 tables of 512 entries: 600 ranges on average over a fuzzed corpus,
 * up to 4096 walked) made a run cost 15 to 20 runs of the walk target (issue 14). Every range
 * of every input is still reachable: the window start is a VA the fuzzer sets, so any part of the
 * space can come first; and the alias budget is low enough for collapsed (ALIAS) ranges to come
 * within the first MAX_RANGES.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "fz_check.h"
#include "input.h"
#include "ptlab/maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Ranges enumerated (and walked at both ends) per input. */
#define MAX_RANGES 64
/** Leaves that repeated subtrees may yield before they collapse into ALIAS ranges (see above). */
#define ALIAS_BUDGET 48

static struct pt_range ranges[MAX_RANGES];

static void check_walk(const struct pt_context *ctx, const struct fz_mem *m,
		       const struct pt_range *g, uint64_t off)
{
	struct pt_result r;
	const uint64_t va = g->va + off;
	const enum pt_status st = pt_walk(ctx, &m->mem, va, &r);

	fz_check_result(ctx, va, NULL, st, &r);
	switch (g->kind) {
	case PT_RANGE_MAPPED:
		if (st != PT_OK || r.pa != g->pa + off || r.page_size != g->page_size ||
		    r.rights.writable != g->rights.writable || r.rights.user != g->rights.user ||
		    r.rights.nx != g->rights.nx || r.rights.pkey != g->rights.pkey)
			fz_fail("mapped range va 0x%" PRIx64 " +0x%" PRIx64 " pa 0x%" PRIx64
				": pt_walk says %s pa 0x%" PRIx64, g->va, off, g->pa,
				pt_status_name(st), r.pa);
		break;
	case PT_RANGE_RESERVED:
		if (st != PT_FAULT || !(r.fault.error_code & PF_ERR_RSVD))
			fz_fail("reserved range va 0x%" PRIx64 ": pt_walk says %s", g->va,
				pt_status_name(st));
		break;
	case PT_RANGE_HOLE:
		if (st != PT_FAULT || (r.fault.error_code & PF_ERR_P))
			fz_fail("hole va 0x%" PRIx64 ": pt_walk says %s", g->va, pt_status_name(st));
		break;
	case PT_RANGE_UNREADABLE:
		if (st != PT_NOT_IN_DUMP)
			fz_fail("unreadable range va 0x%" PRIx64 ": pt_walk says %s", g->va,
				pt_status_name(st));
		break;
	case PT_RANGE_ALIAS:
		break;
	}
}

/** The window of input `in` for mode `ctx` ([*lo, *hi], inclusive): the whole space, or with
 *  FZ_CHECK_WINDOW from the page of one header VA to the end of another's (to the top of the
 *  space when that one lies below). */
static void pick_window(const struct pt_context *ctx, const struct fz_input *in, uint64_t *lo,
			uint64_t *hi)
{
	const uint64_t top = ctx->desc->va_bits == 32 ? UINT32_MAX : UINT64_MAX;

	*lo = 0;
	*hi = top;
	if (!(in->check & FZ_CHECK_WINDOW))
		return;
	const unsigned slot = in->check & FZ_CHECK_SLOT;
	*lo = in->va[slot] & ~(uint64_t)(FZ_PAGE - 1);
	const uint64_t end = in->va[(slot + 1) & FZ_CHECK_SLOT] | (FZ_PAGE - 1);
	if (end >= *lo && end <= top)
		*hi = end;
}

/** A sampled VA that pt_walk translates, inside the part [lo, last] of the window that was
 *  enumerated, lies in a yielded MAPPED or ALIAS range, at the PA a MAPPED range says. */
static void check_covered(const struct pt_context *ctx, const struct fz_mem *m, uint64_t va,
			  uint64_t lo, uint64_t last, size_t n)
{
	struct pt_result r;

	if (va < lo || va > last || pt_walk(ctx, &m->mem, va, &r) != PT_OK)
		return;
	size_t k;
	for (k = 0; k < n; k++)
		if (va - ranges[k].va < ranges[k].size)
			break;
	if (k == n)
		fz_fail("pt_walk translates 0x%" PRIx64 " but no range covers it", va);
	if (ranges[k].kind == PT_RANGE_MAPPED && r.pa != ranges[k].pa + (va - ranges[k].va))
		fz_fail("0x%" PRIx64 ": pt_walk pa 0x%" PRIx64 ", range says 0x%" PRIx64, va, r.pa,
			ranges[k].pa + (va - ranges[k].va));
	if (ranges[k].kind != PT_RANGE_MAPPED && ranges[k].kind != PT_RANGE_ALIAS)
		fz_fail("pt_walk translates 0x%" PRIx64 " inside a %s range", va,
			pt_range_kind_name(ranges[k].kind));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_mem m;
	struct fz_input in;
	struct pt_context ctx;
	struct pt_maps_iter *it = NULL;

	fz_mem_init(&m);
	fz_parse(data, size, NULL, &in, &m);
	if (pt_context_init(&ctx, &in.cpu, &m.mem, NULL, NULL) != PT_OK || ctx.mode == PT_MODE_OFF)
		goto out;
	uint64_t lo, hi;
	pick_window(&ctx, &in, &lo, &hi);
	const struct pt_maps_opts opts = {
		.coalesce = in.options & FZ_OPT_COALESCE,
		.holes = in.options & FZ_OPT_HOLES,
		.va_start = lo,
		.va_last = hi,
		.alias_budget = ALIAS_BUDGET,
	};
	if (pt_maps_create(&ctx, &m.mem, &opts, &it) != PT_OK)
		fz_fail("pt_maps_create failed on a valid context");

	size_t n = 0;
	struct pt_range g;
	uint64_t next = lo;   /* where the next range may start */
	bool at_top = false;  /* a range ended at the top of the space */
	while (n < MAX_RANGES && pt_maps_next(it, &g)) {
		if (g.size == 0)
			fz_fail("empty range at 0x%" PRIx64, g.va);
		if (g.va < next)
			fz_fail("range 0x%" PRIx64 " overlaps or precedes the previous one (or the "
				"window start 0x%" PRIx64 ")", g.va, lo);
		if (g.va > hi || g.size - 1 > hi - g.va)
			fz_fail("range 0x%" PRIx64 " +0x%" PRIx64 " ends past the window's last VA 0x%"
				PRIx64, g.va, g.size, hi);
		check_walk(&ctx, &m, &g, 0);
		check_walk(&ctx, &m, &g, g.size - 1);
		ranges[n++] = g;
		next = g.va + g.size;
		if (next == 0) {
			at_top = true;
			break;
		}
	}
	/* Enumerated: the whole window when the iterator ended, else up to the last range's end. */
	const bool ended = at_top || n < MAX_RANGES || !pt_maps_next(it, &g);
	for (unsigned i = 0; i < FZ_NVA; i++)
		check_covered(&ctx, &m, in.va[i], lo, ended ? hi : next - 1, n);
out:
	pt_maps_destroy(it);
	fz_mem_reset(&m);
	return 0;
}
