/* SPDX-License-Identifier: MIT */
/*
 * walkbench: a program from outside the ptlab tree, built against an INSTALLED libptwalk (through
 * pkg-config or find_package(ptlab), shared or static; tests/consumer/check-install.sh). It opens
 * a dump, takes the CPU state the dump records, lists the mapped ranges (pt_maps), draws N linear
 * addresses from them and translates each twice, with pt_walk and with pt_translate (a supervisor
 * read), timing both. Every answer must agree with the range the address came from, and the two
 * walks with each other: pt_translate succeeds with pt_walk's address exactly when the rights
 * pt_walk reports allow the access (pt_access_check), and otherwise raises #PF with the error code
 * pt_access_check computes.
 *
 *   walkbench DUMP [N]     N addresses (default 1000000)
 *   exit 0: every answer agrees; 1: a mismatch (the first ones printed), no mapped range, or the
 *   library's version differs from its headers'; 2: bad usage or an unreadable dump.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ptlab/dump.h>
#include <ptlab/maps.h>
#include <ptlab/version.h>
#include <ptlab/walk.h>

/** A mapped range: [va, va + size) -> [pa, pa + size). */
struct span {
	uint64_t va, size, pa;
};

/** One address to translate, with what the range it came from says. */
struct probe {
	uint64_t va;
	uint64_t expect_pa;
	uint64_t walk_pa;
	struct pt_rights rights;
};

static uint64_t next_random(uint64_t *state)
{
	/* xorshift64*: enough to spread the addresses, same sequence every run. */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The mapped ranges of `ctx`, coalesced. Returns how many (0: none or out of memory). */
static size_t collect_spans(const struct pt_context *ctx, const struct pt_mem *mem,
			    struct span **spans_ret)
{
	const struct pt_maps_opts opts = { .coalesce = true };
	struct pt_maps_iter *iter = NULL;
	struct pt_range range;
	struct span *spans = NULL;
	size_t n = 0, cap = 0;

	*spans_ret = NULL;
	if (pt_maps_create(ctx, mem, &opts, &iter) != PT_OK)
		return 0;
	while (pt_maps_next(iter, &range)) {
		if (range.kind != PT_RANGE_MAPPED)
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct span *grown = realloc(spans, ncap * sizeof(*spans));
			if (grown == NULL) {
				n = 0;
				goto out;
			}
			spans = grown;
			cap = ncap;
		}
		spans[n++] = (struct span){ range.va, range.size, range.pa };
	}
out:
	pt_maps_destroy(iter);
	if (n == 0) {
		free(spans);
		spans = NULL;
	}
	*spans_ret = spans;
	return n;
}

/* pt_walk over every probe: the PA must be the range's. Returns the mismatches. */
static uint64_t run_walks(const struct pt_context *ctx, const struct pt_mem *mem,
			  struct probe *probes, size_t n, double *seconds_ret)
{
	struct pt_result r;
	uint64_t bad = 0;
	const double t0 = seconds_now();

	for (size_t i = 0; i < n; i++) {
		const enum pt_status st = pt_walk(ctx, mem, probes[i].va, &r);
		probes[i].walk_pa = r.pa;
		probes[i].rights = r.rights;
		if (st == PT_OK && r.pa == probes[i].expect_pa)
			continue;
		if (bad++ < 5)
			fprintf(stderr, "walkbench: pt_walk 0x%" PRIx64 ": %s, pa 0x%" PRIx64
				", the range says 0x%" PRIx64 "\n", probes[i].va, pt_status_name(st),
				r.pa, probes[i].expect_pa);
	}
	*seconds_ret = seconds_now() - t0;
	return bad;
}

/* pt_translate (supervisor read) over every probe, against pt_walk's answer. */
static uint64_t run_translates(const struct pt_context *ctx, const struct pt_mem *mem,
			       const struct probe *probes, size_t n, double *seconds_ret)
{
	const struct pt_access read = { .kind = PT_ACCESS_READ, .cpl = 0, .implicit = false };
	struct pt_result r;
	uint64_t bad = 0;
	const double t0 = seconds_now();

	for (size_t i = 0; i < n; i++) {
		const enum pt_status st = pt_translate(ctx, mem, probes[i].va, &read, &r);
		const uint32_t code = pt_access_check(ctx, &probes[i].rights, &read);
		bool ok;
		if (code == 0)
			ok = st == PT_OK && r.pa == probes[i].walk_pa;
		else
			ok = st == PT_FAULT && r.fault.vector == PT_VEC_PF && r.fault.error_code == code;
		if (ok)
			continue;
		if (bad++ < 5)
			fprintf(stderr, "walkbench: pt_translate 0x%" PRIx64 ": %s, pa 0x%" PRIx64
				" error code 0x%" PRIx32 "; pt_walk: pa 0x%" PRIx64 ", expected error code 0x%"
				PRIx32 "\n", probes[i].va, pt_status_name(st), r.pa, r.fault.error_code,
				probes[i].walk_pa, code);
	}
	*seconds_ret = seconds_now() - t0;
	return bad;
}

static int bench(const char *path, const struct pt_dump *dump, size_t nprobes)
{
	const struct pt_mem *mem = pt_dump_mem(dump);
	struct pt_cpu_state cpu;
	struct pt_context ctx;
	struct span *spans = NULL;
	struct probe *probes = NULL;
	uint64_t seed = 0x9e3779b97f4a7c15u, bad;
	double walk_s, translate_s;
	int ret = 2;

	if (pt_dump_cpu(dump, &cpu) == PT_CPU_NONE) {
		fprintf(stderr, "walkbench: %s: the dump records no CPU state\n", path);
		goto out;
	}
	if (pt_context_init(&ctx, &cpu, mem, NULL, NULL) != PT_OK) {
		fprintf(stderr, "walkbench: %s: the dump's CPU state is not a paging context\n", path);
		goto out;
	}
	const size_t nspans = collect_spans(&ctx, mem, &spans);
	if (nspans == 0) {
		fprintf(stderr, "walkbench: %s: no mapped range\n", path);
		ret = 1;
		goto out;
	}
	probes = calloc(nprobes, sizeof(*probes));
	if (probes == NULL) {
		fprintf(stderr, "walkbench: out of memory for %zu probes\n", nprobes);
		goto out;
	}
	for (size_t i = 0; i < nprobes; i++) {
		const struct span *s = &spans[next_random(&seed) % nspans];
		const uint64_t off = next_random(&seed) % s->size;
		probes[i].va = s->va + off;
		probes[i].expect_pa = s->pa + off;
	}
	bad = run_walks(&ctx, mem, probes, nprobes, &walk_s);
	bad += run_translates(&ctx, mem, probes, nprobes, &translate_s);
	printf("walkbench: libptwalk %s (headers %s), %s: %s paging, %zu mapped ranges, %zu addresses\n",
	       pt_version(), PTLAB_VERSION_STRING, path, pt_mode_name(ctx.mode), nspans, nprobes);
	printf("  pt_walk       %8.2f M/s  %7.1f ns per address\n", nprobes / walk_s / 1e6,
	       walk_s * 1e9 / nprobes);
	printf("  pt_translate  %8.2f M/s  %7.1f ns per address\n", nprobes / translate_s / 1e6,
	       translate_s * 1e9 / nprobes);
	printf("  mismatches    %" PRIu64 "\n", bad);
	ret = bad == 0 ? 0 : 1;
out:
	free(probes);
	free(spans);
	return ret;
}

int main(int argc, char *argv[])
{
	struct pt_dump *dump = NULL;
	struct pt_error err;
	size_t nprobes = 1000000;
	char *end;
	int ret;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: walkbench DUMP [N]\n");
		return 2;
	}
	if (argc == 3) {
		unsigned long long v = strtoull(argv[2], &end, 0);
		if (*argv[2] == '\0' || *end != '\0' || v == 0 || v > 100000000) {
			fprintf(stderr, "walkbench: N '%s': a number from 1 to 100000000\n", argv[2]);
			return 2;
		}
		nprobes = (size_t)v;
	}
	if (strcmp(pt_version(), PTLAB_VERSION_STRING) != 0) {
		fprintf(stderr, "walkbench: libptwalk is %s, its headers %s\n", pt_version(),
			PTLAB_VERSION_STRING);
		return 1;
	}
	if (pt_dump_open(argv[1], NULL, &dump, &err) != PT_OK) {
		fprintf(stderr, "walkbench: %s\n", err.message);
		return 2;
	}
	ret = bench(argv[1], dump, nprobes);
	pt_dump_close(dump);
	return ret;
}
