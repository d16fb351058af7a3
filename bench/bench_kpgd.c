/* SPDX-License-Identifier: MIT */
/*
 * bench-kpgd: how long `find-kpgd` takes, and how fast its brute-force screen reads memory
 * compared with this machine's plain memory scan over the same mapping.
 *
 * Two dumps are made from booted images: a 4 GiB sparse raw image (linux64 --mem 4G, only the
 * pages the boot wrote are allocated on disk) and a 512 MiB dense ELF core (linux64 --mem 512M
 * --kaslr 7, every page the boot left zero filled with pseudo-random data). For each: the finder
 * with the System.map (auto: symbol-direct or KASLR), brute force with the map, brute force
 * without symbols; then the bare screen (pt_kpgd_screen64) in MB/s next to a sum of 64-bit words
 * and a memchr over the same mapping. Medians of RUNS runs after one warm-up run (the page cache
 * holds the file). Figures only: nothing here passes or fails.
 *
 *   bench-kpgd [RUNS] [DIR]      (DIR: where the dumps are written, default /tmp)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ptlab/dump.h"
#include "ptlab/emu.h"
#include "ptlab/kpgd.h"
#include "ptlab/symbols.h"
#include "bench_util.h"

static void die(const char *what, const struct pt_error *err)
{
	fprintf(stderr, "bench-kpgd: %s: %s\n", what, err ? err->message : "failed");
	exit(1);
}

/* Boot an image and return a private copy of its memory and the System.map path. */
static uint8_t *boot_copy(const struct pt_emu_boot_opts *o, const char *map_path,
			  struct pt_emu_boot_result *r, uint64_t *size_ret, bool copy)
{
	struct pt_emu_machine *m;
	struct pt_error err;
	if (pt_emu_boot(o, &m, r, &err) != PT_OK)
		die("boot", &err);
	if (pt_emu_write_symbols(m, map_path, &err) != PT_OK)
		die("symbols", &err);
	uint64_t size = pt_emu_mem_size(m);
	const struct pt_mem *mem = pt_emu_mem(m);
	const uint8_t *src = mem->ptr(mem, 0, size);
	uint8_t *out = NULL;
	if (copy) {
		out = malloc(size);
		if (!out)
			die("malloc", NULL);
		memcpy(out, src, size);
	} else {
		/* sparse: write only the non-zero pages of a raw image */
		out = (uint8_t *)1;
	}
	*size_ret = size;
	if (!copy) {
		static char raw_path[512];
		snprintf(raw_path, sizeof(raw_path), "%s.raw", map_path);
		int fd = open(raw_path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
			die("create raw dump", NULL);
		static const uint8_t zero[4096];
		for (uint64_t pa = 0; pa < size; pa += 4096) {
			if (memcmp(src + pa, zero, 4096) != 0 &&
			    pwrite(fd, src + pa, 4096, (off_t)pa) != 4096)
				die("write raw dump", NULL);
		}
		close(fd);
	}
	pt_emu_destroy(m);
	return out;
}

struct figures {
	double auto_s, brute_sym_s, brute_nosym_s;
	double screen_mbs, sum_mbs, memchr_mbs;
	uint64_t bytes;
	bool verified[3];
	uint64_t kpgd;
};

static double time_find(const struct pt_kpgd_inputs *in, int runs, bool *verified, uint64_t *kpgd)
{
	double t[99];
	for (int i = -1; i < runs; i++) {
		struct pt_kpgd_result res;
		struct pt_error err;
		double a = bench_now();
		if (pt_kpgd_find(in, &res, &err) != PT_OK)
			die("find", &err);
		double b = bench_now();
		if (i >= 0)
			t[i] = b - a;
		*verified = res.verified;
		if (kpgd && res.found)
			*kpgd = res.candidates[0].kpgd;
		pt_kpgd_result_deinit(&res);
	}
	return bench_median(t, runs);
}

static volatile uint64_t sink;

static void measure(const char *dump_path, const char *map_path, int runs, struct figures *fg)
{
	struct pt_dump *dump;
	struct pt_symtab *syms;
	struct pt_error err;
	if (pt_dump_open(dump_path, NULL, &dump, &err) != PT_OK)
		die("open dump", &err);
	if (pt_symtab_load(map_path, &syms, &err) != PT_OK)
		die("load symbols", &err);
	struct pt_kpgd_inputs in = { 0 };
	pt_kpgd_inputs_from_dump(&in, dump);
	in.symbols = syms;
	fg->auto_s = time_find(&in, runs, &fg->verified[0], &fg->kpgd);
	in.only = PT_KPGD_BRUTE;
	fg->brute_sym_s = time_find(&in, runs, &fg->verified[1], NULL);
	in.symbols = NULL;
	fg->brute_nosym_s = time_find(&in, runs, &fg->verified[2], NULL);

	size_t nr;
	const struct pt_dump_range *r = pt_dump_ranges(dump, &nr);
	const struct pt_mem *mem = pt_dump_mem(dump);
	uint64_t total = 0;
	for (size_t i = 0; i < nr; i++)
		total += r[i].size;
	fg->bytes = total;
	double ts[99], tsum[99], tchr[99];
	for (int k = -1; k < runs; k++) {
		double a = bench_now();
		uint64_t n = 0;
		for (size_t i = 0; i < nr; i++) {
			const uint8_t *p = mem->ptr(mem, r[i].pa, (size_t)r[i].size);
			n += pt_kpgd_screen64(p, r[i].pa, r[i].size & ~UINT64_C(4095), pt_dump_phys_end(dump), NULL, NULL);
		}
		double b = bench_now();
		sink += n;
		uint64_t s = 0;
		for (size_t i = 0; i < nr; i++) {
			const uint64_t *p = mem->ptr(mem, r[i].pa, (size_t)r[i].size);
			for (uint64_t w = 0; w < r[i].size / 8; w++)
				s += p[w];
		}
		double c = bench_now();
		sink += s;
		uint64_t hits = 0;
		for (size_t i = 0; i < nr; i++) {
			const uint8_t *p = mem->ptr(mem, r[i].pa, (size_t)r[i].size), *end = p + r[i].size;
			/* a byte the dense data rarely holds in a row is still common: count them all */
			while (p < end && (p = memchr(p, 0xa5, (size_t)(end - p))) != NULL) {
				hits++;
				p++;
			}
		}
		double d = bench_now();
		sink += hits;
		if (k >= 0) {
			ts[k] = b - a;
			tsum[k] = c - b;
			tchr[k] = d - c;
		}
	}
	fg->screen_mbs = (double)total / bench_median(ts, runs) / 1e6;
	fg->sum_mbs = (double)total / bench_median(tsum, runs) / 1e6;
	fg->memchr_mbs = (double)total / bench_median(tchr, runs) / 1e6;
	pt_symtab_destroy(syms);
	pt_dump_close(dump);
}

static void print(const char *name, const struct figures *f)
{
	printf("%s (%.0f MiB in the dump), kpgd 0x%llx:\n", name, (double)f->bytes / 1048576.0,
	       (unsigned long long)f->kpgd);
	printf("  find-kpgd, System.map (auto)        %9.3f ms  %s\n", f->auto_s * 1e3, f->verified[0] ? "verified" : "NOT verified");
	printf("  find-kpgd, brute force + System.map %9.3f ms  %s\n", f->brute_sym_s * 1e3, f->verified[1] ? "verified" : "NOT verified");
	printf("  find-kpgd, brute force, no symbols  %9.3f ms  %s\n", f->brute_nosym_s * 1e3, f->verified[2] ? "verified" : "NOT verified");
	printf("  screen alone                        %9.0f MB/s\n", f->screen_mbs);
	printf("  plain scan: sum of 64-bit words     %9.0f MB/s\n", f->sum_mbs);
	printf("  plain scan: memchr                  %9.0f MB/s\n", f->memchr_mbs);
}

int main(int argc, char **argv)
{
	const int runs = argc > 1 ? atoi(argv[1]) : 5;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	if (runs < 1 || runs > 99) {
		fprintf(stderr, "usage: bench-kpgd [RUNS 1..99] [DIR]\n");
		return 2;
	}
	char map4[512], raw4[600], map512[512], core512[600];
	snprintf(map4, sizeof(map4), "%s/bench-kpgd-%d-4g.map", dir, (int)getpid());
	snprintf(raw4, sizeof(raw4), "%s.raw", map4);
	snprintf(map512, sizeof(map512), "%s/bench-kpgd-%d-512m.map", dir, (int)getpid());
	snprintf(core512, sizeof(core512), "%s.core", map512);

	/* 4 GiB sparse */
	struct pt_emu_boot_result r;
	uint64_t size;
	boot_copy(&(struct pt_emu_boot_opts){ .mem_size = UINT64_C(4) << 30, .has_kaslr_seed = true, .kaslr_seed = 3 },
		  map4, &r, &size, false);
	printf("4 GiB sparse raw dump: linux64 --mem 4G --kaslr 3 (CR3 0x%llx)\n", (unsigned long long)r.cpu.cr3);

	/* 512 MiB dense */
	uint8_t *mem = boot_copy(&(struct pt_emu_boot_opts){ .mem_size = UINT64_C(512) << 20, .has_kaslr_seed = true,
							     .kaslr_seed = 7 }, map512, &r, &size, true);
	static const uint8_t zero[4096];
	uint64_t x = 88172645463325252ull, filled = 0;
	for (uint64_t pa = 0; pa < size; pa += 4096) {
		if (memcmp(mem + pa, zero, 4096) != 0)
			continue;
		for (unsigned i = 0; i < 512; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(mem + pa + 8 * i, &x, 8);
		}
		filled++;
	}
	const struct pt_core_segment seg = { 0, size, mem };
	const struct pt_core_desc desc = { .machine = 62, .segments = &seg, .nsegments = 1, .cpu = &r.cpu, .ptlab_note = true };
	struct pt_error err;
	if (pt_core_write(core512, &desc, &err) != PT_OK)
		die("write core", &err);
	free(mem);
	printf("512 MiB dense ELF core: linux64 --mem 512M --kaslr 7 (CR3 0x%llx), %llu zero pages filled with random data\n\n",
	       (unsigned long long)r.cpu.cr3, (unsigned long long)filled);

	struct figures f4 = { 0 }, f512 = { 0 };
	measure(raw4, map4, runs, &f4);
	print("4 GiB sparse", &f4);
	measure(core512, map512, runs, &f512);
	print("512 MiB dense", &f512);
	printf("(medians of %d runs after a warm-up; the screen reads entry 511 of every page, then the\n"
	       " whole page for the few that pass)\n", runs);
	unlink(map4);
	unlink(raw4);
	unlink(map512);
	unlink(core512);
	return 0;
}
