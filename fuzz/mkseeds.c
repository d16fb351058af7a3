/* SPDX-License-Identifier: MIT */
/*
 * fuzz/mkseeds.c: writes the seed corpora (ci/make-seeds runs it; the output is checked in).
 *   fuzz-mkseeds OUTDIR
 * Paging targets (walk, walk_diff, maps) get compact inputs (input.h): the CPU state and just the
 * page-table pages on the walks of four chosen addresses, from
 *   - every boot image and variant booted in Unicorn (the tables our boot code wrote), and
 *   - tables built with testsupport/ptbuild.h in every mode (4 KiB / large / 1 GiB leaves, R/W, U/S,
 *     XD, reserved bits, a missing table);
 * sparse pages are written as entry records. The dump target gets a small ELF core with notes
 * (pt_core_write), a LiME file and a raw image; symbols gets System.map / kallsyms text.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptbuild.h"
#include "input.h"
#include "ptlab/emu.h"
#include "ptlab/maps.h"

static const char *outdir;
static unsigned nseeds;

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put64(struct buf *b, uint64_t v)
{
	uint8_t x[8];
	for (unsigned i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	put(b, x, 8);
}

static void write_file(const char *target, const char *name, const void *data, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	nseeds++;
}

/** One page into `b`: entry records when that is smaller, else the whole page. */
static void put_page(struct buf *b, const struct pt_mem *mem, uint64_t pa)
{
	const uint8_t *p = mem->ptr(mem, pa, FZ_PAGE);
	unsigned nz = 0;

	if (p == NULL)
		return;
	for (unsigned i = 0; i < FZ_PAGE; i += 8)
		nz += memcmp(p + i, "\0\0\0\0\0\0\0\0", 8) != 0;
	if (nz * 16 < FZ_PAGE + 8) {
		for (unsigned i = 0; i < FZ_PAGE; i += 8)
			if (memcmp(p + i, "\0\0\0\0\0\0\0\0", 8) != 0) {
				put64(b, (pa + i) | 1);
				put(b, p + i, 8);
			}
	} else {
		put64(b, pa);
		put(b, p, FZ_PAGE);
	}
}

/** A paging seed: header of `in`, and the table pages on the walks of in->va[]. */
static void paging_seed(const char *name, const struct fz_input *in, const struct pt_mem *mem)
{
	struct pt_context ctx;
	uint64_t pages[64];
	unsigned np = 0;
	struct buf b = { 0 };
	uint8_t h[FZ_HEADER_SIZE];

	if (pt_context_init(&ctx, &in->cpu, mem, NULL, NULL) != PT_OK) {
		fprintf(stderr, "mkseeds: %s: no valid context\n", name);
		exit(1);
	}
	pages[np++] = ctx.root & ~(uint64_t)(FZ_PAGE - 1);
	for (unsigned i = 0; i < FZ_NVA; i++) {
		struct pt_result r;
		pt_walk(&ctx, mem, in->va[i], &r);
		for (unsigned k = 0; k < r.nentries; k++) {
			const uint64_t pg = r.entry[k].pa & ~(uint64_t)(FZ_PAGE - 1);
			unsigned j;
			for (j = 0; j < np && pages[j] != pg; j++)
				;
			if (j == np && np < 64)
				pages[np++] = pg;
		}
	}
	fz_encode_header(in, h);
	put(&b, h, sizeof(h));
	for (unsigned j = 0; j < np; j++)
		put_page(&b, mem, pages[j]);
	write_file("walk", name, b.p, b.len);
	write_file("walk_diff", name, b.p, b.len);
	write_file("maps", name, b.p, b.len);
	free(b.p);
}

/* ---- boot images ------------------------------------------------------------------- */

static void add_page(uint64_t *pages, unsigned *np, uint64_t pa)
{
	pa &= ~(uint64_t)(FZ_PAGE - 1);
	for (unsigned j = 0; j < *np; j++)
		if (pages[j] == pa)
			return;
	if (*np < 48)
		pages[(*np)++] = pa;
}

/** A kpgd seed: the CPU state, the System.map, and the pages the finder needs to verify. */
static void kpgd_seed(const char *name, const struct pt_emu_machine *m,
		      const struct pt_emu_boot_result *r, const struct fz_input *in)
{
	static const char *const syms[] = { "_text", "linux_banner", "init_top_pgt", "swapper_pg_dir",
					    "startup_64", "page_offset_base", "_end" };
	const struct pt_mem *mem = pt_emu_mem(m);
	struct pt_context ctx;
	uint64_t pages[48];
	unsigned np = 0;
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	struct buf b = { 0 };
	uint8_t h[FZ_HEADER_SIZE];

	if (f == NULL || pt_emu_print_symbols(m, f) != PT_OK || fclose(f) != 0)
		exit(1);
	if (tlen > 65535)
		tlen = 65535;
	if (pt_context_init(&ctx, &r->cpu, mem, NULL, NULL) != PT_OK)
		exit(1);
	add_page(pages, &np, ctx.root);
	for (unsigned i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		uint64_t v;
		struct pt_result w;
		if (!pt_emu_symbol(m, syms[i], &v))
			continue;
		v += r->virt_offset;
		if (pt_walk(&ctx, mem, v, &w) != PT_OK && w.nentries == 0)
			continue;
		for (unsigned k = 0; k < w.nentries; k++)
			add_page(pages, &np, w.entry[k].pa);
		if (w.nentries && w.level)
			add_page(pages, &np, w.pa);
	}
	struct fz_input k = *in;
	k.options |= FZ_OPT_KPGD_CPU;
	fz_encode_header(&k, h);
	put(&b, h, sizeof(h));
	const uint8_t len[2] = { (uint8_t)tlen, (uint8_t)(tlen >> 8) };
	put(&b, len, 2);
	put(&b, text, tlen);
	for (unsigned j = 0; j < np; j++)
		put_page(&b, mem, pages[j]);
	write_file("kpgd", name, b.p, b.len);
	free(b.p);
	free(text);
}

static void boot_seed(const char *label, const struct pt_emu_boot_opts *bo)
{
	struct pt_emu_machine *m = NULL;
	struct pt_emu_boot_result r;
	struct pt_error err;
	struct pt_context ctx;
	struct pt_maps_iter *it = NULL;
	struct pt_range g, first = { 0 }, last = { 0 }, mid = { 0 };
	uint64_t n = 0;

	if (pt_emu_boot(bo, &m, &r, &err) != PT_OK) {
		fprintf(stderr, "mkseeds: boot %s: %s\n", label, err.message);
		exit(1);
	}
	const struct pt_mem *mem = pt_emu_mem(m);
	if (pt_context_init(&ctx, &r.cpu, mem, NULL, NULL) != PT_OK ||
	    pt_maps_create(&ctx, mem, &(struct pt_maps_opts){ .coalesce = true }, &it) != PT_OK) {
		fprintf(stderr, "mkseeds: %s: no address space\n", label);
		exit(1);
	}
	while (pt_maps_next(it, &g)) {
		if (g.kind != PT_RANGE_MAPPED)
			continue;
		if (n == 0)
			first = g;
		if (n % 7 == 3)
			mid = g;
		last = g;
		n++;
	}
	pt_maps_destroy(it);

	struct fz_input in = { 0 };
	in.mode = r.paging;
	in.cpu = r.cpu;
	if (in.cpu.maxphyaddr < 32 || in.cpu.maxphyaddr > 52)
		in.cpu.maxphyaddr = 40;
	in.options = FZ_OPT_ALL_ACCESSES | FZ_OPT_CANONICAL;
	in.va[0] = first.va;
	in.va[1] = mid.va + mid.size / 2;
	in.va[2] = last.va + last.size - 1;
	in.va[3] = last.va + last.size; /* just past the last range */
	char name[128];
	snprintf(name, sizeof(name), "boot-%s", label);
	paging_seed(name, &in, mem);
	kpgd_seed(name, m, &r, &in);
	pt_emu_destroy(m);
}

static void boot_seeds(void)
{
	for (size_t i = 0; i < pt_emu_image_count(); i++) {
		const struct pt_emu_image *img = pt_emu_image_at(i);
		char label[96];
		boot_seed(img->name, &(struct pt_emu_boot_opts){ .image = img->name });
		if (img->options & PT_EMU_OPT_LA57) {
			snprintf(label, sizeof(label), "%s-la57", img->name);
			boot_seed(label, &(struct pt_emu_boot_opts){ .image = img->name, .la57 = true });
		}
		if (img->options & PT_EMU_OPT_PTI) {
			snprintf(label, sizeof(label), "%s-pti", img->name);
			boot_seed(label, &(struct pt_emu_boot_opts){ .image = img->name, .pti = true });
		}
		if (img->options & PT_EMU_OPT_SME) {
			snprintf(label, sizeof(label), "%s-sme", img->name);
			boot_seed(label, &(struct pt_emu_boot_opts){ .image = img->name, .sme = true });
		}
	}
}

/* ---- built tables ------------------------------------------------------------------ */

static void built_seeds(void)
{
	static const enum pt_mode modes[] = { PT_MODE_LEGACY, PT_MODE_PAE, PT_MODE_IA32E,
					      PT_MODE_LA57 };
	for (unsigned mi = 0; mi < 4; mi++) {
		const enum pt_mode mode = modes[mi];
		const bool x64 = mode >= PT_MODE_IA32E;
		const uint64_t xd = mode == PT_MODE_LEGACY ? 0 : PTE_XD;
		struct ptb b;
		ptb_init(&b, mode, 4u << 20, 0x100000);
		const uint64_t kva = x64 ? (mode == PT_MODE_LA57 ? UINT64_C(0xff11000000000000)
								 : UINT64_C(0xffffffff81000000))
					 : UINT64_C(0xc1000000);
		/* A user 4 KiB page, a read-only page, a kernel large page, an XD page. */
		ptb_map(&b, 0x400000, 0x5000, 1, PTE_P | PTE_RW | PTE_US, PTB_TABLE_FLAGS);
		ptb_map(&b, 0x401000, 0x6000, 1, PTE_P | PTE_US, PTB_TABLE_FLAGS);
		ptb_map(&b, kva, 0x200000 * (mode == PT_MODE_LEGACY ? 2 : 1), 2,
			PTE_P | PTE_RW | PTE_G, PTB_TABLE_FLAGS);
		ptb_map(&b, 0x800000, 0x7000, 1, PTE_P | PTE_RW | xd, PTB_TABLE_FLAGS);
		if (x64)
			ptb_map(&b, UINT64_C(0x40000000), UINT64_C(0x40000000), 3,
				PTE_P | PTE_RW | PTE_US, PTB_TABLE_FLAGS);
		struct fz_input in = { 0 };
		in.mode = mode;
		ptb_cpu(&b, &in.cpu);
		in.cpu.maxphyaddr = 40;
		in.cpu.cr4 |= PT_BIT(CR4_BIT_PSE);
		in.options = FZ_OPT_ALL_ACCESSES | FZ_OPT_CANONICAL;
		in.va[0] = 0x400123;
		in.va[1] = 0x401ff8;
		in.va[2] = kva + 0x1234;
		in.va[3] = 0x800010;
		char name[64];
		snprintf(name, sizeof(name), "built-%s", pt_mode_name(mode));
		paging_seed(name, &in, ptb_mem(&b));

		/* The same with SMEP/SMAP/WP, a user access, and a reserved bit in the PTE. */
		in.cpu.cr4 |= PT_BIT(CR4_BIT_SMEP) | PT_BIT(CR4_BIT_SMAP);
		in.options = FZ_OPT_CANONICAL;
		in.access = (struct pt_access){ PT_ACCESS_WRITE, 3, false };
		ptb_set_bits(&b, 0x401000, 1, x64 || mode == PT_MODE_PAE ? UINT64_C(1) << 45 : 0);
		snprintf(name, sizeof(name), "built-%s-rsvd", pt_mode_name(mode));
		paging_seed(name, &in, ptb_mem(&b));
		ptb_deinit(&b);
	}
}

/* ---- dump and symbols ----------------------------------------------------------------- */

static void dump_seeds(void)
{
	static uint8_t seg0[512], seg1[256];
	struct pt_cpu_state cpu;
	struct pt_error err;
	char path[1024];

	for (unsigned i = 0; i < sizeof(seg0); i++)
		seg0[i] = (uint8_t)(i * 7);
	memset(seg1, 0xa5, sizeof(seg1));
	pt_cpu_state_default(&cpu, 0x1000);
	const struct pt_core_segment segs[] = { { 0x0, sizeof(seg0), seg0 },
						{ 0x100000, sizeof(seg1), seg1 } };
	const struct pt_core_desc d = { .machine = 62, .segments = segs, .nsegments = 2, .cpu = &cpu,
					.ptlab_note = true,
					.vmcoreinfo = "OSRELEASE=6.1.0\nSYMBOL(init_top_pgt)=ffffffff82a0a000\n" };
	snprintf(path, sizeof(path), "%s/dump/elf-core", outdir);
	if (pt_core_write(path, &d, &err) != PT_OK) {
		fprintf(stderr, "mkseeds: %s\n", err.message);
		exit(1);
	}
	nseeds++;
	const struct pt_core_desc d32 = { .machine = 3, .segments = segs, .nsegments = 1 };
	snprintf(path, sizeof(path), "%s/dump/elf-core-i386-nonotes", outdir);
	if (pt_core_write(path, &d32, &err) != PT_OK)
		exit(1);
	nseeds++;

	struct buf b = { 0 };
	for (unsigned r = 0; r < 2; r++) {
		const uint64_t s = r ? 0x200000 : 0x1000, len = r ? 128 : 64;
		put64(&b, UINT64_C(0x0000000100000000) | 0x4C694D45); /* magic "EMiL", version 1 */
		put64(&b, s);
		put64(&b, s + len - 1);
		put64(&b, 0);
		put(&b, seg0, len);
	}
	write_file("dump", "lime", b.p, b.len);
	free(b.p);
	write_file("dump", "raw", seg0, sizeof(seg0));
}

static void symbol_seeds(void)
{
	static const char sysmap[] =
		"0000000000000000 D __per_cpu_start\n"
		"ffffffff81000000 T _text\n"
		"ffffffff81000000 T startup_64\n"
		"ffffffff81000040 T secondary_startup_64\n"
		"ffffffff82a0a000 D init_top_pgt\n"
		"ffffffff82a0a000 D init_top_pgt\n"
		"0000000001000000 A phys_startup_64\n"
		"ffffffff82c00000 B _end\n";
	static const char kallsyms[] =
		"ffffffff81000000 T _text\n"
		"ffffffff81000000 T startup_64\n"
		"ffffffff82a0a000 D init_top_pgt\n"
		"ffffffffc0000000 t mod_init\t[mymod]\n"
		"garbage line\n";
	static const char i386map[] = "c1000000 T _text\nc1a0b000 D swapper_pg_dir\nc1000000 T startup_32\n";
	write_file("symbols", "system-map", sysmap, sizeof(sysmap) - 1);
	write_file("symbols", "kallsyms", kallsyms, sizeof(kallsyms) - 1);
	write_file("symbols", "system-map-i386", i386map, sizeof(i386map) - 1);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-mkseeds OUTDIR (with OUTDIR/<target>/ existing)\n");
		return 2;
	}
	outdir = argv[1];
	built_seeds();
	boot_seeds();
	dump_seeds();
	symbol_seeds();
	printf("mkseeds: %u seeds in %s\n", nseeds, outdir);
	return 0;
}
