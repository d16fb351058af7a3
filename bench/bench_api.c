/* SPDX-License-Identifier: MIT */
/*
 * bench-api: what a consumer of libptwalk sees, measured on a real dump. Uses only the public
 * headers and the library, as an outside program would:
 *   - pt_translate, pt_translate_lean and pt_walk on random VAs inside mapped leaf pages (ESPFIX's aliases left out:
 *     65,536 leaves of one frame would flatter every walker), against a bare 4- or 5-level C walk
 *     over a flat copy of the dump's memory measured in the same run: the limit;
 *   - the same VAs through the software TLB (pt_tlb_translate), cold and warm;
 *   - enumeration of the whole address space (pt_maps, coalesced and raw).
 * Every figure is the median of several rounds, with the bare walk's rate over each as a ratio;
 * pt_walk and pt_translate must agree with the bare walk on every VA (the count of mismatches is
 * printed and makes the exit status 1). Nothing passes or fails on time.
 *
 *   bench-api DUMP [--cr3 PA] [--vas N] [--rounds N] [--json]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ptlab/dump.h"
#include "ptlab/maps.h"
#include "ptlab/tlb.h"
#include "bench_util.h"

/* ESPFIX: Linux maps 65,536 aliases of one page in P4D slot -2 (0xffffff0000000000, 512 GiB). */
static const uint64_t ESPFIX_BASE = UINT64_C(0xffffff0000000000);
static const uint64_t ESPFIX_END = UINT64_C(0xffffff8000000000);

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- the bare walk: what a minimal forensic walker does over a flat copy ------------------ */

struct flat {
	uint8_t *bytes;
	uint64_t size;
};

/* 4- or 5-level IA-32e walk over `f`: present bits and PS only, frames bits 51:12, no reserved
 * bits, no rights; returns the PA or UINT64_MAX. This is the floor a full walker is compared with. */
static inline uint64_t bare_walk(const struct flat *f, uint64_t root, unsigned levels, uint64_t va)
{
	const uint64_t frame_mask = UINT64_C(0x000ffffffffff000);
	uint64_t table = root;
	for (unsigned level = levels; level >= 1; level--) {
		const unsigned shift = 12 + 9 * (level - 1);
		const uint64_t pa = table + ((va >> shift) & 511) * 8;
		if (pa + 8 > f->size)
			return UINT64_MAX;
		uint64_t e;
		memcpy(&e, f->bytes + pa, 8);
		if (!(e & 1))
			return UINT64_MAX;
		if (level == 1 || ((level == 2 || level == 3) && (e & 0x80))) {
			const uint64_t size = UINT64_C(1) << shift;
			return (e & frame_mask & ~(size - 1)) | (va & (size - 1));
		}
		table = e & frame_mask;
	}
	return UINT64_MAX;
}

/* ---- setup ----------------------------------------------------------------------------- */

struct bench {
	struct pt_dump *dump;
	const struct pt_mem *mem;
	struct pt_context ctx;
	struct flat flat;
	unsigned levels;
	uint64_t *vas;
	size_t nvas;
	uint64_t leaves;
};

/* Random VAs inside mapped leaves (a random leaf, then a random 8-byte-aligned offset). */
static int pick_vas(struct bench *b, size_t want)
{
	struct pt_maps_opts opts = { .coalesce = false };
	struct pt_maps_iter *it;
	struct pt_range r;
	struct pt_range *leaves = NULL;
	size_t n = 0, cap = 0;
	uint64_t seed = 0x9e3779b97f4a7c15u;

	if (pt_maps_create(&b->ctx, b->mem, &opts, &it) != PT_OK)
		return -1;
	while (pt_maps_next(it, &r)) {
		if (r.kind != PT_RANGE_MAPPED || (r.va >= ESPFIX_BASE && r.va < ESPFIX_END))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			struct pt_range *grown = realloc(leaves, cap * sizeof(*leaves));
			if (!grown)
				return -1;
			leaves = grown;
		}
		leaves[n++] = r;
	}
	pt_maps_destroy(it);
	if (!n) {
		free(leaves);
		return -1;
	}
	b->leaves = n;
	b->vas = malloc(want * sizeof(*b->vas));
	if (!b->vas)
		return -1;
	for (size_t i = 0; i < want; i++) {
		const struct pt_range *l = &leaves[xorshift(&seed) % n];
		b->vas[i] = l->va + (xorshift(&seed) % l->size & ~UINT64_C(7));
	}
	b->nvas = want;
	free(leaves);
	return 0;
}

static int flat_copy(struct bench *b)
{
	size_t n;
	const struct pt_dump_range *r = pt_dump_ranges(b->dump, &n);
	b->flat.size = pt_dump_phys_end(b->dump);
	b->flat.bytes = calloc(1, b->flat.size);
	if (!b->flat.bytes)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const void *p = b->mem->ptr(b->mem, r[i].pa, r[i].size);
		if (p)
			memcpy(b->flat.bytes + r[i].pa, p, r[i].size);
	}
	return 0;
}

/* ---- the measurements ---------------------------------------------------------------------- */

struct figures {
	double translate_mps, lean_mps, walk_mps, bare_mps, tlb_cold_mps, tlb_warm_mps;
	double maps_coalesced_ms, maps_raw_ms;
	uint64_t mismatches;
};

static volatile uint64_t sink;

static double rate(size_t n, double t0, double t1)
{
	return (double)n / (t1 - t0) / 1e6;
}

static void one_round(struct bench *b, struct pt_tlb *tlb, struct figures *f)
{
	const struct pt_access access = { .kind = PT_ACCESS_READ };
	struct pt_result r;
	uint64_t acc = 0;
	double t0, t1;

	t0 = bench_now();
	for (size_t i = 0; i < b->nvas; i++) {
		pt_translate(&b->ctx, b->mem, b->vas[i], &access, &r);
		acc += r.pa;
	}
	t1 = bench_now();
	f->translate_mps = rate(b->nvas, t0, t1);

	t0 = bench_now();
	for (size_t i = 0; i < b->nvas; i++) {
		pt_translate_lean(&b->ctx, b->mem, b->vas[i], &access, &r);
		acc += r.pa;
	}
	t1 = bench_now();
	f->lean_mps = rate(b->nvas, t0, t1);

	t0 = bench_now();
	for (size_t i = 0; i < b->nvas; i++) {
		pt_walk(&b->ctx, b->mem, b->vas[i], &r);
		acc += r.pa;
	}
	t1 = bench_now();
	f->walk_mps = rate(b->nvas, t0, t1);

	t0 = bench_now();
	for (size_t i = 0; i < b->nvas; i++)
		acc += bare_walk(&b->flat, b->ctx.root, b->levels, b->vas[i]);
	t1 = bench_now();
	f->bare_mps = rate(b->nvas, t0, t1);

	pt_tlb_flush_all(tlb);
	t0 = bench_now();
	for (size_t i = 0; i < b->nvas; i++) {
		pt_tlb_translate(tlb, &b->ctx, b->mem, b->vas[i], &access, &r);
		acc += r.pa;
	}
	t1 = bench_now();
	f->tlb_cold_mps = rate(b->nvas, t0, t1);
	t0 = bench_now();
	for (size_t i = 0; i < b->nvas; i++) {
		pt_tlb_translate(tlb, &b->ctx, b->mem, b->vas[i], &access, &r);
		acc += r.pa;
	}
	t1 = bench_now();
	f->tlb_warm_mps = rate(b->nvas, t0, t1);

	for (int raw = 0; raw < 2; raw++) {
		struct pt_maps_opts opts = { .coalesce = !raw };
		struct pt_maps_iter *it;
		struct pt_range range;
		t0 = bench_now();
		if (pt_maps_create(&b->ctx, b->mem, &opts, &it) == PT_OK) {
			while (pt_maps_next(it, &range))
				acc += range.size;
			pt_maps_destroy(it);
		}
		t1 = bench_now();
		*(raw ? &f->maps_raw_ms : &f->maps_coalesced_ms) = (t1 - t0) * 1e3;
	}
	sink = acc;
}

static uint64_t count_mismatches(struct bench *b)
{
	const struct pt_access access = { .kind = PT_ACCESS_READ };
	uint64_t bad = 0;
	struct pt_result r;
	for (size_t i = 0; i < b->nvas; i++) {
		const uint64_t bare = bare_walk(&b->flat, b->ctx.root, b->levels, b->vas[i]);
		enum pt_status st = pt_walk(&b->ctx, b->mem, b->vas[i], &r);
		bool same = (st == PT_OK ? r.pa : UINT64_MAX) == bare;
		st = pt_translate(&b->ctx, b->mem, b->vas[i], &access, &r);
		same = same && (st == PT_OK ? r.pa : UINT64_MAX) == bare;
		st = pt_translate_lean(&b->ctx, b->mem, b->vas[i], &access, &r);
		same = same && (st == PT_OK ? r.pa : UINT64_MAX) == bare;
		bad += !same;
	}
	return bad;
}

static void usage(FILE *out)
{
	fputs("usage: bench-api DUMP [--cr3 PA] [--vas N] [--rounds N] [--json]\n"
	      "  translate/walk/TLB/enumeration through libptwalk's public API vs a bare C walk\n"
	      "  --cr3: the address space to measure (default: the CPU state in the dump)\n"
	      "  example: bench-api amd64-nokaslr.core --cr3 0x2a10000 --vas 2000000 --rounds 7\n",
	      out);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	size_t nvas = 2000000;
	int rounds = 7;
	bool json = false;
	bool have_cr3 = false;
	uint64_t cr3 = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--vas") && i + 1 < argc)
			nvas = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cr3") && i + 1 < argc) {
			have_cr3 = true;
			cr3 = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!path && argv[i][0] != '-')
			path = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!path || nvas < 1000 || nvas > 100000000 || rounds < 1 || rounds > 99) {
		usage(stderr);
		return 2;
	}

	struct bench b = { 0 };
	struct pt_error err;
	struct pt_cpu_state cpu;
	if (pt_dump_open(path, NULL, &b.dump, &err) != PT_OK) {
		fprintf(stderr, "bench-api: %s\n", err.message);
		return 2;
	}
	b.mem = pt_dump_mem(b.dump);
	if (pt_dump_cpu(b.dump, &cpu) == PT_CPU_NONE)
		pt_cpu_state_default(&cpu, cr3);
	if (have_cr3)
		cpu.cr3 = cr3;
	if ((!have_cr3 && pt_dump_cpu(b.dump, NULL) == PT_CPU_NONE) ||
	    pt_context_init(&b.ctx, &cpu, b.mem, NULL, NULL) != PT_OK ||
	    (b.ctx.mode != PT_MODE_IA32E && b.ctx.mode != PT_MODE_LA57)) {
		fprintf(stderr, "bench-api: %s: needs a dump with a 4- or 5-level CPU state\n", path);
		return 2;
	}
	b.levels = b.ctx.mode == PT_MODE_LA57 ? 5 : 4;
	if (flat_copy(&b) != 0 || pick_vas(&b, nvas) != 0) {
		fprintf(stderr, "bench-api: %s: out of memory, or nothing mapped\n", path);
		return 2;
	}
	struct pt_tlb *tlb;
	if (pt_tlb_create(16, &tlb) != PT_OK) {
		fprintf(stderr, "bench-api: out of memory for the TLB\n");
		return 2;
	}

	struct figures fig[99], med = { 0 };
	double col[99];
	one_round(&b, tlb, &fig[0]); /* warm-up */
	for (int i = 0; i < rounds; i++)
		one_round(&b, tlb, &fig[i]);
#define MEDIAN_OF(field)                           \
	do {                                       \
		for (int i = 0; i < rounds; i++)   \
			col[i] = fig[i].field;     \
		med.field = bench_median(col, rounds);   \
	} while (0)
	MEDIAN_OF(translate_mps);
	MEDIAN_OF(lean_mps);
	MEDIAN_OF(walk_mps);
	MEDIAN_OF(bare_mps);
	MEDIAN_OF(tlb_cold_mps);
	MEDIAN_OF(tlb_warm_mps);
	MEDIAN_OF(maps_coalesced_ms);
	MEDIAN_OF(maps_raw_ms);
#undef MEDIAN_OF
	med.mismatches = count_mismatches(&b);

	if (json) {
		printf("{\"dump\":\"%s\",\"mode\":\"%s\",\"root\":\"0x%" PRIx64 "\",\"leaves\":%" PRIu64
		       ",\"vas\":%zu,\"rounds\":%d,\"translate_mps\":%.1f,\"translate_lean_mps\":%.1f,"
		       "\"walk_mps\":%.1f,\"bare_mps\":%.1f,\"bare_over_translate\":%.2f,"
		       "\"bare_over_walk\":%.2f,\"bare_over_lean\":%.2f,\"tlb_cold_mps\":%.1f,"
		       "\"tlb_warm_mps\":%.1f,\"tlb_warm_over_translate\":%.2f,"
		       "\"maps_coalesced_ms\":%.3f,\"maps_raw_ms\":%.3f,\"mismatches\":%" PRIu64 "}\n",
		       path, pt_mode_name(b.ctx.mode), b.ctx.root, b.leaves, b.nvas, rounds,
		       med.translate_mps, med.lean_mps, med.walk_mps, med.bare_mps,
		       med.bare_mps / med.translate_mps, med.bare_mps / med.walk_mps,
		       med.bare_mps / med.lean_mps, med.tlb_cold_mps, med.tlb_warm_mps,
		       med.tlb_warm_mps / med.translate_mps, med.maps_coalesced_ms, med.maps_raw_ms,
		       med.mismatches);
	} else {
		printf("%s: %s, root 0x%" PRIx64 ", %" PRIu64 " leaf entries (ESPFIX left out), %zu random VAs, "
		       "median of %d rounds\n", path, pt_mode_name(b.ctx.mode), b.ctx.root, b.leaves, b.nvas,
		       rounds);
		printf("  pt_translate          %7.1f M/s   (bare walk / this: %.2fx)\n", med.translate_mps,
		       med.bare_mps / med.translate_mps);
		printf("  pt_translate_lean     %7.1f M/s   (%.2fx)\n", med.lean_mps, med.bare_mps / med.lean_mps);
		printf("  pt_walk               %7.1f M/s   (%.2fx)\n", med.walk_mps, med.bare_mps / med.walk_mps);
		printf("  bare C walk (limit)   %7.1f M/s\n", med.bare_mps);
		printf("  TLB cold / warm       %7.1f / %.1f M/s   (warm / pt_translate: %.2fx)\n",
		       med.tlb_cold_mps, med.tlb_warm_mps, med.tlb_warm_mps / med.translate_mps);
		printf("  enumeration           %7.3f ms coalesced, %.3f ms raw\n", med.maps_coalesced_ms,
		       med.maps_raw_ms);
		printf("  pt_walk, pt_translate(_lean) vs bare walk: %" PRIu64 " mismatches\n", med.mismatches);
	}
	pt_tlb_destroy(tlb);
	free(b.vas);
	free(b.flat.bytes);
	pt_dump_close(b.dump);
	return med.mismatches ? 1 : 0;
}
