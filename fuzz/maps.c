/* SPDX-License-Identifier: MIT */
/*
 * fuzz target `maps`. Invariant: enumeration agrees with translation. For any possible CPU state
 * and page tables, pt_maps_* never crashes or hangs (the alias budget bounds hostile tables);
 * ranges come in increasing VA order without overlap; for every MAPPED range (the first 128 and
 * then every 16th) pt_walk of its first and last byte translates to the range's PA (+ offset) with the range's page size and rights;
 * RESERVED ranges fault with RSVD, HOLE ranges fault not-present, UNREADABLE ranges hit a table
 * not in the memory; and a sampled VA that pt_walk translates lies in a yielded MAPPED or ALIAS
 * range (at the PA the range says).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "fz_check.h"
#include "input.h"
#include "ptlab/maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RANGES 4096

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
	const struct pt_maps_opts opts = {
		.coalesce = in.options & FZ_OPT_COALESCE,
		.holes = in.options & FZ_OPT_HOLES,
		.alias_budget = 1024,
	};
	if (pt_maps_create(&ctx, &m.mem, &opts, &it) != PT_OK)
		fz_fail("pt_maps_create failed on a valid context");

	size_t n = 0;
	bool complete = true;
	struct pt_range g;
	uint64_t next = 0;
	while (pt_maps_next(it, &g)) {
		if (g.size == 0)
			fz_fail("empty range at 0x%" PRIx64, g.va);
		if (n > 0 && g.va < next)
			fz_fail("range 0x%" PRIx64 " overlaps or precedes the previous one", g.va);
		next = g.va + g.size;
		/* Every range's first and last byte for the first 128 ranges, then every 16th (a
		 * full table of 4 KiB leaves would otherwise cost thousands of walks per input). */
		if (n < 128 || n % 16 == 0) {
			check_walk(&ctx, &m, &g, 0);
			check_walk(&ctx, &m, &g, g.size - 1);
		}
		if (n == MAX_RANGES) {
			complete = false;
			break;
		}
		ranges[n++] = g;
		if (next == 0)
			break; /* the range ends at the top of the address space */
	}

	/* Sampled VAs: a translation lies in a MAPPED (or ALIAS) range. */
	for (unsigned i = 0; complete && i < FZ_NVA; i++) {
		struct pt_result r;
		const uint64_t va = in.va[i];
		if (pt_walk(&ctx, &m.mem, va, &r) != PT_OK)
			continue;
		size_t k;
		for (k = 0; k < n; k++)
			if (va - ranges[k].va < ranges[k].size)
				break;
		if (k == n)
			fz_fail("pt_walk translates 0x%" PRIx64 " but no range covers it", va);
		if (ranges[k].kind == PT_RANGE_MAPPED && r.pa != ranges[k].pa + (va - ranges[k].va))
			fz_fail("0x%" PRIx64 ": pt_walk pa 0x%" PRIx64 ", range says 0x%" PRIx64, va,
				r.pa, ranges[k].pa + (va - ranges[k].va));
		if (ranges[k].kind != PT_RANGE_MAPPED && ranges[k].kind != PT_RANGE_ALIAS)
			fz_fail("pt_walk translates 0x%" PRIx64 " inside a %s range", va,
				pt_range_kind_name(ranges[k].kind));
	}
out:
	pt_maps_destroy(it);
	fz_mem_reset(&m);
	return 0;
}
