/* SPDX-License-Identifier: MIT */
/*
 * emu/diff_run.c: the differential run, the walker against the MMU oracle on a deterministic
 * sequence of probes (pt_diff_run). Shared by `ptlab diff` and `ptlab demo`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ptlab/error.h"
#include "ptlab/emu.h"
#include "ptlab/maps.h"
#include "random.h"

/** Ranges kept from the enumeration (a uniform sample of them beyond this). */
#define MAX_RANGES 65536u

/* ---- the probe sequence ------------------------------------------------------------------ */

static uint64_t random_below(uint64_t *state, uint64_t n)
{
	return n == 0 ? 0 : emu_splitmix64(state) % n;
}

/** A range to draw addresses from. */
struct target {
	uint64_t va, size;
};

struct probe_set {
	struct target *ranges;
	size_t nranges;
	uint64_t seen; /**< ranges offered to the sample */
};

/** Collect the ranges that are not holes (a uniform sample of MAX_RANGES when there are more). */
static bool collect_ranges(const struct pt_context *ctx, enum pt_status init_status,
			   const struct pt_mem *mem, uint64_t *rng, struct probe_set *set)
{
	struct pt_maps_opts opts = { .coalesce = true };
	struct pt_maps_iter *iter = NULL;
	struct pt_range r;

	set->ranges = calloc(MAX_RANGES, sizeof(*set->ranges));
	if (set->ranges == NULL)
		return false;
	if (init_status != PT_OK)
		return true; /* PAE #GP at CR3 load or no PDPT: random addresses only */
	if (pt_maps_create(ctx, mem, &opts, &iter) != PT_OK)
		return true;
	while (pt_maps_next(iter, &r)) {
		if (r.kind == PT_RANGE_HOLE)
			continue; /* mapped, reserved, unreadable (skipped probes), aliased */
		set->seen++;
		if (set->nranges < MAX_RANGES) {
			set->ranges[set->nranges++] = (struct target){ r.va, r.size };
		} else {
			uint64_t j = random_below(rng, set->seen);
			if (j < MAX_RANGES)
				set->ranges[j] = (struct target){ r.va, r.size };
		}
	}
	pt_maps_destroy(iter);
	return true;
}

/** A random address of the mode's width: canonical, or (1 in 2 when asked) not. */
static uint64_t random_va(const struct pt_context *ctx, uint64_t *rng, bool noncanonical)
{
	uint64_t va = emu_splitmix64(rng);
	const unsigned width = ctx->desc->va_bits;

	if (width == 32)
		return va & UINT32_MAX;
	va = pt_va_canonicalize(ctx, va);
	if (noncanonical)
		va ^= UINT64_C(1) << (width + random_below(rng, 64 - width)); /* flip one upper bit */
	return va;
}

/** The i-th probe's address. */
static uint64_t draw_va(const struct pt_context *ctx, const struct probe_set *set, uint64_t *rng)
{
	const uint64_t pick = random_below(rng, 100);
	uint64_t va;

	if (set->nranges == 0 || pick >= 80)
		return random_va(ctx, rng, pick >= 93 && ctx->desc->va_bits != 32);
	const struct target *t = &set->ranges[random_below(rng, set->nranges)];
	if (pick < 40)
		va = t->va + random_below(rng, t->size);
	else if (pick < 50)
		va = t->va;
	else if (pick < 60)
		va = t->va + t->size - 1;
	else if (pick < 70)
		va = t->va - 1;
	else
		va = t->va + t->size;
	if (ctx->desc->va_bits == 32)
		va &= UINT32_MAX;
	return va;
}

/** The i-th probe's access: r/w/x uniformly, CPL 0 or 3; 1 in 16 an implicit supervisor read
 *  (at CPL < 3 with SMAP and AC = 1 that is the named deviation smap-implicit-ac). */
static void draw_access(int cpl, uint64_t *rng, struct pt_access *acc)
{
	const uint64_t r = emu_splitmix64(rng);

	acc->kind = (enum pt_access_kind)(r % 3);
	acc->cpl = cpl >= 0 ? (uint8_t)cpl : ((r >> 8) & 1) ? 3 : 0;
	acc->implicit = ((r >> 16) & 15) == 0;
	if (acc->implicit)
		acc->kind = PT_ACCESS_READ;
}

/* ---- the run ---------------------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum pt_status pt_diff_run(const struct pt_cpu_state *cpu, const struct pt_mem *mem,
			   struct pt_oracle *oracle, const struct pt_diff_run_opts *opts,
			   struct pt_diff_stats *t, struct pt_error *err)
{
	struct pt_context ctx;
	struct pt_fault init_fault = { 0 };
	uint64_t init_table_pa = 0;
	uint64_t rng = opts->seed;
	struct probe_set set = { 0 };
	const double start = now();
	double next_report = start + 2.0;

	memset(t, 0, sizeof(*t));
	const enum pt_status init = pt_context_init(&ctx, cpu, mem, &init_fault, &init_table_pa);
	if (init == PT_EINVAL)
		return pt_error_set(err, "diff", UINT64_MAX,
				    "not a possible CPU state with MAXPHYADDR %u (CR0 0x%llx CR3 0x%llx "
				    "CR4 0x%llx EFER 0x%llx)", cpu->maxphyaddr,
				    (unsigned long long)cpu->cr0, (unsigned long long)cpu->cr3,
				    (unsigned long long)cpu->cr4, (unsigned long long)cpu->efer);
	if (ctx.mode == PT_MODE_OFF)
		return pt_error_set(err, "diff", UINT64_MAX, "paging is off (CR0.PG = 0): nothing to compare");
	if (!collect_ranges(&ctx, init, mem, &rng, &set))
		return pt_error_set(err, "diff", UINT64_MAX, "out of memory");

	for (uint64_t i = 0; i < opts->probes; i++) {
		struct pt_diff_probe p;
		struct pt_error perr;
		enum pt_diff_deviation dev;

		memset(&p, 0, sizeof(p));
		p.va = draw_va(&ctx, &set, &rng);
		draw_access(opts->cpl, &rng, &p.access);
		/* The walker's answer; the PAE CR3-load outcome applies to every address. */
		p.at_cr3_load = init != PT_OK;
		if (p.at_cr3_load) {
			p.walker_status = init;
			p.walker.va = p.va;
			p.walker.fault = init_fault;
			p.walker.table_pa = init_table_pa;
		} else {
			p.walker_status = pt_translate(&ctx, mem, p.va, &p.access, &p.walker);
		}
		t->probes++;
		memset(&perr, 0, sizeof(perr));
		if (pt_oracle_probe(oracle, cpu, p.va, &p.access, &p.oracle, &perr) != PT_OK) {
			if (p.walker_status == PT_NOT_IN_DUMP) {
				t->skipped++;
			} else if (t->unanswered++ == 0) {
				snprintf(t->first_unanswered, sizeof(t->first_unanswered), "%s", perr.message);
				t->first_unanswered_va = p.va;
			}
			continue;
		}
		switch (pt_diff_compare(&ctx, &p.access, p.walker_status, &p.walker, &p.oracle, &dev)) {
		case PT_DIFF_MATCH:
			t->matches++;
			break;
		case PT_DIFF_DEVIATION:
			t->deviations[dev]++;
			break;
		case PT_DIFF_SKIPPED:
			t->skipped++;
			break;
		case PT_DIFF_MISMATCH:
			if (t->mismatches++ == 0) {
				t->first_mismatch = p;
				t->have_mismatch = true;
			}
			break;
		}
		if (opts->progress && (i & 1023) == 1023) {
			double tnow = now();
			if (tnow >= next_report) {
				opts->progress(opts->user, i + 1, opts->probes, tnow - start);
				next_report = tnow + 2.0;
			}
		}
	}
	t->seconds = now() - start;
	free(set.ranges);
	return PT_OK;
}
