/* SPDX-License-Identifier: MIT */
/*
 * bench-walk: translation and enumeration speed over a large synthetic 4-level address space
 * mapped with 4 KiB pages (default 1 GiB: 262,144 PTEs in 512 page tables).
 * Prints the median of several runs of: uncached pt_translate on random VAs, pt_tlb_translate on
 * the same VAs (cold random, and a hot working set that fits the TLB), and a full enumeration
 * (raw and coalesced). Figures only: nothing here passes or fails on time.
 *
 *   bench-walk [GIB] [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ptbuild.h"
#include "ptlab/dump.h"
#include "ptlab/maps.h"
#include "ptlab/tlb.h"
#include "bench_util.h"
#include "rng.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	return ts_xorshift64(&rng);
}

int main(int argc, char **argv)
{
	const uint64_t gib = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	const int runs = argc > 2 ? atoi(argv[2]) : 7;
	if (gib < 1 || gib > 64 || runs < 1 || runs > 99) {
		fprintf(stderr, "usage: bench-walk [GIB 1..64] [RUNS 1..99]\n");
		return 2;
	}
	const uint64_t pages = gib << 18;
	const uint64_t base = UINT64_C(0xffffc90000000000); /* vmalloc-like area */
	const uint64_t table_bytes = (pages / 512 + pages / (512 * 512) + 16) * 4096;

	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, table_bytes + (1 << 20), 0x1000);
	double t0 = bench_now();
	for (uint64_t i = 0; i < pages; i++) {
		/* Scattered frames (a permutation-like spread over 64 GiB), NX data pages. */
		uint64_t frame = ((i * UINT64_C(2654435761)) % (UINT64_C(16) << 20)) << 12;
		ptb_map(&b, base + (i << 12), frame, 1, PTE_P | PTE_RW | PTE_XD | PTE_A | PTE_D,
			PTB_TABLE_FLAGS);
	}
	double build = bench_now() - t0;
	struct pt_cpu_state cpu;
	ptb_cpu(&b, &cpu);
	struct pt_context ctx;
	if (pt_context_init(&ctx, &cpu, ptb_mem(&b), NULL, NULL) != PT_OK)
		return 1;
	const struct pt_mem *mem = ptb_mem(&b);

	enum { NVA = 1 << 22, HOT = 1 << 12 };
	uint64_t *vas = malloc(NVA * sizeof(*vas));
	uint64_t *hot = malloc(NVA * sizeof(*hot));
	if (!vas || !hot)
		return 1;
	for (int i = 0; i < NVA; i++) {
		vas[i] = base + (rnd() % (pages << 12));
		hot[i] = base + ((rnd() % HOT) << 12) + (rnd() & 0xfff);
	}
	printf("bench-walk: %llu GiB mapped with 4 KiB pages (%llu PTEs, %.1f MiB of tables, built in %.2f s), "
	       "%d runs, medians\n",
	       (unsigned long long)gib, (unsigned long long)pages, b.next_free / 1048576.0, build, runs);

	double *t = calloc((size_t)runs, sizeof(double));
	const struct pt_access rd = { PT_ACCESS_READ, 0, false };
	struct pt_result r;
	uint64_t sink = 0;

	for (int k = 0; k < runs; k++) {
		double s = bench_now();
		for (int i = 0; i < NVA; i++) {
			pt_translate(&ctx, mem, vas[i], &rd, &r);
			sink += r.pa;
		}
		t[k] = bench_now() - s;
	}
	double m = bench_median(t, runs);
	printf("  uncached translate, random VAs : %7.2f M/s  (%5.1f ns each)\n", NVA / m / 1e6, m / NVA * 1e9);

	struct pt_tlb *tlb;
	pt_tlb_create(16, &tlb);
	for (int k = 0; k < runs; k++) {
		double s = bench_now();
		for (int i = 0; i < NVA; i++) {
			pt_tlb_translate(tlb, &ctx, mem, vas[i], &rd, &r);
			sink += r.pa;
		}
		t[k] = bench_now() - s;
	}
	m = bench_median(t, runs);
	struct pt_tlb_stats st;
	pt_tlb_get_stats(tlb, &st);
	printf("  TLB (64Ki entries), random VAs : %7.2f M/s  (%5.1f ns each, hit rate %.1f%%)\n", NVA / m / 1e6,
	       m / NVA * 1e9, 100.0 * st.hits / (st.hits + st.misses));

	pt_tlb_flush_all(tlb);
	for (int k = 0; k < runs; k++) {
		double s = bench_now();
		for (int i = 0; i < NVA; i++) {
			pt_tlb_translate(tlb, &ctx, mem, hot[i], &rd, &r);
			sink += r.pa;
		}
		t[k] = bench_now() - s;
	}
	m = bench_median(t, runs);
	printf("  TLB, hot set of %d pages      : %7.2f M/s  (%5.1f ns each)\n", HOT, NVA / m / 1e6, m / NVA * 1e9);
	for (int k = 0; k < runs; k++) {
		double s = bench_now();
		for (int i = 0; i < NVA; i++) {
			pt_translate(&ctx, mem, hot[i], &rd, &r);
			sink += r.pa;
		}
		t[k] = bench_now() - s;
	}
	m = bench_median(t, runs);
	printf("  uncached, same hot set          : %7.2f M/s  (%5.1f ns each)\n", NVA / m / 1e6, m / NVA * 1e9);
	pt_tlb_destroy(tlb);

	/* The same tables through the dump reader: an ELF core with 8 PT_LOADs (holes between
	 * them, as real dumps have), mmap'ed, ranges binary-searched on every entry read. */
	char path[] = "/tmp/bench-walk-XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0) {
		close(fd);
		struct pt_core_segment seg[8];
		const uint64_t chunk = (b.size + 7) / 8;
		for (int i = 0; i < 8; i++) {
			uint64_t start = i * chunk, end = start + chunk < b.size ? start + chunk : b.size;
			seg[i] = (struct pt_core_segment){ start, end - start, b.mem + start };
		}
		struct pt_core_desc desc = { .machine = 62, .segments = seg, .nsegments = 8, .cpu = &cpu,
					     .ptlab_note = true };
		struct pt_error err;
		struct pt_dump *dump = NULL;
		if (pt_core_write(path, &desc, &err) == PT_OK && pt_dump_open(path, NULL, &dump, &err) == PT_OK) {
			const struct pt_mem *dmem = pt_dump_mem(dump);
			for (int k = 0; k < runs; k++) {
				double s = bench_now();
				for (int i = 0; i < NVA; i++) {
					pt_translate(&ctx, dmem, vas[i], &rd, &r);
					sink += r.pa;
				}
				t[k] = bench_now() - s;
			}
			m = bench_median(t, runs);
			printf("  ELF core reader, random VAs   : %7.2f M/s  (%5.1f ns each)\n", NVA / m / 1e6,
			       m / NVA * 1e9);
			struct pt_tlb *dtlb;
			pt_tlb_create(16, &dtlb);
			for (int k = 0; k < runs; k++) {
				double s = bench_now();
				for (int i = 0; i < NVA; i++) {
					pt_tlb_translate(dtlb, &ctx, dmem, hot[i], &rd, &r);
					sink += r.pa;
				}
				t[k] = bench_now() - s;
			}
			m = bench_median(t, runs);
			printf("  ELF core reader + TLB, hot set: %7.2f M/s  (%5.1f ns each)\n", NVA / m / 1e6,
			       m / NVA * 1e9);
			pt_tlb_destroy(dtlb);
		} else {
			fprintf(stderr, "bench-walk: %s\n", err.message);
		}
		pt_dump_close(dump);
		unlink(path);
	}

	for (int coalesce = 0; coalesce <= 1; coalesce++) {
		uint64_t n = 0;
		for (int k = 0; k < runs; k++) {
			struct pt_maps_opts opts = { .coalesce = coalesce };
			struct pt_maps_iter *it;
			struct pt_range rg;
			double s = bench_now();
			pt_maps_create(&ctx, mem, &opts, &it);
			n = 0;
			while (pt_maps_next(it, &rg))
				n++;
			pt_maps_destroy(it);
			t[k] = bench_now() - s;
		}
		m = bench_median(t, runs);
		printf("  enumerate (%s)         : %7.2f ms for %llu ranges (%.1f ns per PTE)\n",
		       coalesce ? "coalesced" : "raw      ", m * 1e3, (unsigned long long)n, m / pages * 1e9);
	}
	printf("  (checksum %llx)\n", (unsigned long long)sink);
	free(t);
	free(vas);
	free(hot);
	ptb_deinit(&b);
	return 0;
}
