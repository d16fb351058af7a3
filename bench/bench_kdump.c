/* SPDX-License-Identifier: MIT */
/*
 * bench-kdump: how fast libptkdump writes and reads kdump-compressed dumps, next to the ELF core
 * they come from.
 *
 * The dump DUMP (any format; the real tier's cores are the realistic case) is written as kdump
 * with each compression into DIR; then each file (and DUMP itself) is opened and every page read
 * once through pt_dump_mem (first touch: decompression into the page cache), then again (served
 * from that cache), then the whole address space enumerated from the dump's CR3 when it has one.
 * Medians of RUNS runs; the file is in the page cache (one warm-up open). Figures only.
 *
 *   bench-kdump DUMP [RUNS] [DIR]     (DIR default /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ptlab/kdump.h"
#include "ptlab/maps.h"
#include "bench_util.h"

static void die(const char *what, const struct pt_error *err)
{
	fprintf(stderr, "bench-kdump: %s: %s\n", what, err ? err->message : "failed");
	exit(1);
}

/** Read every whole page once; returns the pages read. */
static uint64_t read_all(const struct pt_dump *d)
{
	const struct pt_mem *mem = pt_dump_mem(d);
	size_t n = 0;
	const struct pt_dump_range *r = pt_dump_ranges(d, &n);
	volatile uint8_t sink = 0;
	uint64_t pages = 0;

	for (size_t i = 0; i < n; i++) {
		for (uint64_t off = 0; off + 4096 <= r[i].size; off += 4096) {
			const uint8_t *p = mem->ptr(mem, r[i].pa + off, 4096);

			if (!p)
				die("a page does not read", NULL);
			sink ^= p[0] ^ p[2048];
			pages++;
		}
	}
	(void)sink;
	return pages;
}

/** Enumerate the address space of the dump's CR3 (coalesced); returns the leaves, or 0. */
static uint64_t enumerate(const struct pt_dump *d)
{
	struct pt_cpu_state cpu;
	struct pt_context ctx;
	struct pt_maps_opts opts = { .coalesce = true };
	struct pt_maps_iter *it = NULL;
	struct pt_maps_stats st;
	struct pt_range r;

	if (pt_dump_cpu(d, &cpu) == PT_CPU_NONE ||
	    pt_context_init(&ctx, &cpu, pt_dump_mem(d), NULL, NULL) != PT_OK ||
	    pt_maps_create(&ctx, pt_dump_mem(d), &opts, &it) != PT_OK)
		return 0;
	while (pt_maps_next(it, &r))
		;
	pt_maps_get_stats(it, &st);
	pt_maps_destroy(it);
	return st.leaves;
}

/** Open, read everything twice, enumerate: one row of the table. */
static void bench_file(const char *label, const char *path, int runs)
{
	double t_open[32], t_first[32], t_again[32], t_maps[32];
	uint64_t pages = 0, leaves = 0;
	struct pt_error err;
	struct stat sb;

	for (int k = -1; k < runs; k++) {
		struct pt_dump *d = NULL;
		double t0 = bench_now();

		if (pt_kdump_open_dump(path, NULL, &d, &err) != PT_OK)
			die(path, &err);
		double t1 = bench_now();
		pages = read_all(d);
		double t2 = bench_now();
		read_all(d);
		double t3 = bench_now();
		leaves = enumerate(d);
		double t4 = bench_now();
		pt_dump_close(d);
		if (k < 0)
			continue; /* warm-up */
		t_open[k] = t1 - t0;
		t_first[k] = t2 - t1;
		t_again[k] = t3 - t2;
		t_maps[k] = t4 - t3;
	}
	stat(path, &sb);
	double first = bench_median(t_first, runs), again = bench_median(t_again, runs);
	printf("| %-13s | %8.1f MB | %7.2f ms | %8.0f k pages/s (%6.0f MB/s) | %8.0f k pages/s | "
	       "%7.1f ms (%llu leaves) |\n", label, (double)sb.st_size / 1e6, 1e3 * bench_median(t_open, runs),
	       (double)pages / first / 1e3, (double)pages * 4096 / first / 1e6, (double)pages / again / 1e3,
	       1e3 * bench_median(t_maps, runs), (unsigned long long)leaves);
}

int main(int argc, char **argv)
{
	static const enum pt_kdump_compression all[] = { PT_KDUMP_ZLIB, PT_KDUMP_LZO, PT_KDUMP_SNAPPY,
							 PT_KDUMP_ZSTD };
	const int runs = argc > 2 ? atoi(argv[2]) : 3;
	const char *dir = argc > 3 ? argv[3] : "/tmp";
	char paths[4][512];
	struct pt_dump *src = NULL;
	struct pt_error err;

	if (argc < 2 || runs < 1 || runs > 32) {
		fprintf(stderr, "usage: bench-kdump DUMP [RUNS (1..32)] [DIR]\n");
		return 2;
	}
	if (pt_kdump_open_dump(argv[1], NULL, &src, &err) != PT_OK)
		die(argv[1], &err);
	printf("bench-kdump %s, medians of %d runs\n\nwriting (pt_kdump_write):\n\n", argv[1], runs);
	printf("| compression | pages | compressed / stored / zero | file | time | pages/s |\n");
	printf("| --- | --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < 4; i++) {
		struct pt_kdump_write_opts o = { .compression = all[i] };
		struct pt_kdump_write_stats st;
		double t[32];

		snprintf(paths[i], sizeof(paths[i]), "%s/bench-kdump.%s", dir,
			 pt_kdump_compression_name(all[i]));
		for (int k = 0; k < runs; k++) {
			double t0 = bench_now();

			if (pt_kdump_write(paths[i], src, &o, &st, &err) != PT_OK)
				die(paths[i], &err);
			t[k] = bench_now() - t0;
		}
		double m = bench_median(t, runs);
		printf("| %s | %llu | %llu / %llu / %llu | %.1f MB | %.2f s | %.0f k |\n",
		       pt_kdump_compression_name(all[i]), (unsigned long long)st.pages,
		       (unsigned long long)st.compressed, (unsigned long long)st.stored,
		       (unsigned long long)st.zero, (double)st.file_bytes / 1e6, m,
		       (double)st.pages / m / 1e3);
	}
	pt_dump_close(src);
	printf("\nreading (pt_kdump_open_dump, every page through pt_dump_mem, then maps):\n\n");
	printf("| dump | file | open | first read (decompress) | again (cached) | enumeration |\n");
	printf("| --- | --- | --- | --- | --- | --- |\n");
	bench_file(pt_dump_format_name(PT_DUMP_ELF), argv[1], runs);
	for (size_t i = 0; i < 4; i++) {
		char label[32];

		snprintf(label, sizeof(label), "kdump-%s", pt_kdump_compression_name(all[i]));
		bench_file(label, paths[i], runs);
		remove(paths[i]);
	}
	return 0;
}
