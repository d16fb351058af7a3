/* SPDX-License-Identifier: MIT */
/*
 * fuzz/mkseeds_kdump.c: the seed corpus of the `kdump` target (ci/make-seeds runs it; the output
 * is checked in).
 *   fuzz-mkseeds-kdump OUTDIR      (writes into OUTDIR/kdump/)
 * Small kdump-compressed files from a 4-level page table and a few data pages, written by
 * libptkdump with each compression, in the x86_64 and the i386 layout, two with holes and a
 * page at 8 MiB, and the head of makedumpfile's flattened stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptbuild.h"
#include "ptlab/kdump.h"

static const char *outdir;

static void die(const char *what, const struct pt_error *err)
{
	fprintf(stderr, "mkseeds-kdump: %s: %s\n", what, err ? err->message : "failed");
	exit(1);
}

/** Write `segs` as an ELF core, then as kdump with `c` to OUTDIR/kdump/NAME. */
static void seed(const char *name, unsigned machine, const struct pt_core_segment *segs, size_t n,
		 const struct pt_cpu_state *cpu, enum pt_kdump_compression c)
{
	char core[1024], out[1024];
	struct pt_core_desc desc = { .machine = machine, .segments = segs, .nsegments = n,
				     .cpu = cpu, .ptlab_note = true,
				     .vmcoreinfo = "OSRELEASE=6.1.0-seed\nPAGESIZE=4096\n" };
	struct pt_kdump_write_opts opts = { .compression = c };
	struct pt_dump *src = NULL;
	struct pt_error err;

	snprintf(core, sizeof(core), "%s/kdump/.%s.core", outdir, name);
	snprintf(out, sizeof(out), "%s/kdump/%s", outdir, name);
	if (pt_core_write(core, &desc, &err) != PT_OK)
		die(core, &err);
	if (pt_dump_open(core, NULL, &src, &err) != PT_OK)
		die(core, &err);
	if (pt_kdump_write(out, src, &opts, NULL, &err) != PT_OK)
		die(out, &err);
	pt_dump_close(src);
	remove(core);
	printf("%s\n", out);
}

int main(int argc, char **argv)
{
	static const uint8_t flat[32] = { 'm', 'a', 'k', 'e', 'd', 'u', 'm', 'p', 'f', 'i', 'l', 'e',
					  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const enum pt_kdump_compression all[] = { PT_KDUMP_ZLIB, PT_KDUMP_LZO, PT_KDUMP_SNAPPY,
							 PT_KDUMP_ZSTD };
	struct pt_cpu_state cpu;
	struct ptb b;
	char path[1024], name[64];
	static uint8_t text[4096], high[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-mkseeds-kdump OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	ptb_init(&b, PT_MODE_IA32E, 0x6000, 0x1000);
	ptb_map(&b, UINT64_C(0xffffffff81000000), 0x5000, 1, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	ptb_cpu(&b, &cpu);
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)"Linux version 6.1.0-seed "[i % 25];
	for (size_t i = 0; i < sizeof(high); i++)
		high[i] = (uint8_t)(i * 131 + (i >> 5));
	memcpy(b.mem + 0x5000, text, sizeof(text));
	const struct pt_core_segment low[] = { { 0, 0x6000, b.mem } };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		snprintf(name, sizeof(name), "k64-%s", pt_kdump_compression_name(all[i]));
		seed(name, 62, low, 1, &cpu, all[i]);
	}
	seed("k32-zlib", 3, low, 1, &cpu, PT_KDUMP_ZLIB);
	const struct pt_core_segment holes[] = { { 0, 0x6000, b.mem }, { 0x20000, 0x1000, text },
						 { 0x800000, 0x1000, high } };
	seed("k64-holes-snappy", 62, holes, 3, &cpu, PT_KDUMP_SNAPPY);
	seed("k32-holes-lzo", 3, holes, 3, NULL, PT_KDUMP_LZO);
	snprintf(path, sizeof(path), "%s/kdump/flattened", outdir);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(flat, 1, sizeof(flat), f) != sizeof(flat) || fclose(f) != 0)
		die(path, NULL);
	ptb_deinit(&b);
	return 0;
}
