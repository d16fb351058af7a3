/* SPDX-License-Identifier: MIT */
/*
 * bench-emu: how long booting each image takes in Unicorn (open, map, run the image's own code to
 * its stop point), median of several runs, plus the instructions executed. Figures only.
 *
 *   bench-emu [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ptlab/emu.h"
#include "bench_util.h"

static void bench(const char *label, const struct pt_emu_boot_opts *o, int runs)
{
	double *total = calloc((size_t)runs, sizeof(double));
	double *in_uc = calloc((size_t)runs, sizeof(double));
	uint64_t insns = 0;
	for (int k = 0; k < runs; k++) {
		struct pt_emu_machine *m;
		struct pt_emu_boot_result r;
		struct pt_error err;
		double s = bench_now();
		if (pt_emu_boot(o, &m, &r, &err) != PT_OK) {
			printf("  %-36s failed: %s\n", label, err.message);
			goto out;
		}
		total[k] = bench_now() - s;
		in_uc[k] = r.seconds;
		insns = r.insns;
		pt_emu_destroy(m);
	}
	qsort(total, (size_t)runs, sizeof(double), bench_cmp_double);
	qsort(in_uc, (size_t)runs, sizeof(double), bench_cmp_double);
	printf("  %-36s %7.2f ms total, %6.2f ms running %llu instructions (%.1f M insn/s)\n", label,
	       total[runs / 2] * 1e3, in_uc[runs / 2] * 1e3, (unsigned long long)insns,
	       (double)insns / in_uc[runs / 2] / 1e6);
out:
	free(total);
	free(in_uc);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 9;
	if (runs < 1 || runs > 999) {
		fprintf(stderr, "usage: bench-emu [RUNS 1..999]\n");
		return 2;
	}
	printf("bench-emu: boot to the stop point, 256 MiB of memory, median of %d runs\n", runs);
	for (size_t i = 0; i < pt_emu_image_count(); i++) {
		const struct pt_emu_image *img = pt_emu_image_at(i);
		struct pt_emu_boot_opts o = { .image = img->name };
		bench(img->name, &o, runs);
		if (img->options & PT_EMU_OPT_LA57) {
			char label[96];
			snprintf(label, sizeof(label), "%s --la57", img->name);
			o.la57 = true;
			bench(label, &o, runs);
		}
		if (img->options & PT_EMU_OPT_VIRT_OFFSET) {
			char label[96];
			snprintf(label, sizeof(label), "%s --kaslr 7", img->name);
			struct pt_emu_boot_opts k = { .image = img->name, .has_kaslr_seed = true, .kaslr_seed = 7 };
			bench(label, &k, runs);
		}
	}
	return 0;
}
