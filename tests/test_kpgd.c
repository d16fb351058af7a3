/* SPDX-License-Identifier: MIT */
/*
 * kpgd finder tests (ctest label `kpgd`): boot every image and variant in Unicorn and check that
 * the finder's kpgd is the table the image loaded into CR3 and the offsets are the ones the boot
 * chose, with every symbol source (System.map, kallsyms-style with link-time and with run-time
 * addresses, the vmlinux ELF, VMCOREINFO, none). Then hostile edits of those dumps: a corrupt
 * entry in the real table, 30 decoy tables, a stray mapping below the kernel text, the SME
 * C-bit, a CR3 that holds another table, a truncated dump, another kernel's map. And LA57: the
 * kpgd is the PML5, not the PML4 under PML5[511]. The --sme boots (C-bit 39 in every entry the
 * kernel stage wrote and in CR3) give the right kpgd and report the C-bit, from the CPU state or
 * voted from the table; the --pti boots report the user copy at kpgd + 4 KiB, also when CR3
 * holds it, and the user copy is never taken for the kpgd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ptlab/emu.h"
#include "ptlab/kpgd.h"
#include "ptlab/symbols.h"
#include "rng.h"

#ifndef PTLAB_KERNEL64_ELF
#error "PTLAB_KERNEL64_ELF must name the build's boot_images/kernel64.elf"
#endif

static const uint64_t LINK_TEXT = UINT64_C(0xffffffff81000000);

/** A booted image, its memory copied so tests may edit it, and its symbol sources. */
struct booted {
	struct pt_emu_machine *m;
	struct pt_emu_boot_result r;
	uint8_t *mem;          /**< the machine's physical memory (the tests edit it in place) */
	uint64_t size;
	struct pt_flat_mem flat;
	struct pt_dump_range range;
	char map_path[64];
	struct pt_symtab *map;       /**< System.map as pt_emu_write_symbols wrote it */
	struct pt_symtab *kallsyms;  /**< the same without absolute symbols */
	struct pt_symtab *runtime;   /**< kallsyms with run-time addresses (+ virt_offset) */
	uint64_t text_link;          /**< link-time _text of the image */
};

static char *read_file(const char *path, size_t *len_ret)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len_ret = (size_t)n;
	return buf;
}

/** Rewrite a System.map: drop absolute symbols, add `shift` to the others. */
static struct pt_symtab *derive_map(const char *text, uint64_t shift, bool keep_abs)
{
	size_t cap = strlen(text) + 1024, used = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		unsigned long long v;
		char type, name[256];
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (sscanf(line, "%llx %c %255s", &v, &type, name) == 3) {
			bool abs = type == 'A' || type == 'a';
			if (!abs || keep_abs)
				used += (size_t)snprintf(out + used, cap - used, "%016llx %c %s\n",
							 abs ? v : v + (unsigned long long)shift, type, name);
		}
		p = nl ? nl + 1 : p + len;
	}
	struct pt_symtab *tab;
	struct pt_error err;
	if (pt_symtab_load_buffer(out, used, "derived.map", &tab, &err) != PT_OK)
		fail_msg("%s", err.message);
	free(out);
	return tab;
}

static void boot(struct booted *b, const struct pt_emu_boot_opts *o)
{
	struct pt_error err;
	memset(b, 0, sizeof(*b));
	if (pt_emu_boot(o, &b->m, &b->r, &err) != PT_OK)
		fail_msg("boot failed: %s", err.message);
	b->size = pt_emu_mem_size(b->m);
	/* The machine's own memory, edited in place by the hostile cases (nothing runs the machine
	 * again): copying 256 MiB per boot cost more than every search of the test together. */
	const struct pt_mem *mem = pt_emu_mem(b->m);
	b->mem = (uint8_t *)(uintptr_t)mem->ptr(mem, 0, b->size);
	assert_non_null(b->mem);
	pt_flat_mem_init(&b->flat, b->mem, b->size);
	b->range = (struct pt_dump_range){ 0, b->size, 0 };
	snprintf(b->map_path, sizeof(b->map_path), "kpgd-test-%d.map", (int)getpid());
	assert_int_equal(pt_emu_write_symbols(b->m, b->map_path, &err), PT_OK);
	if (pt_symtab_load(b->map_path, &b->map, &err) != PT_OK)
		fail_msg("%s", err.message);
	size_t len;
	char *text = read_file(b->map_path, &len);
	b->kallsyms = derive_map(text, 0, false);
	b->runtime = derive_map(text, b->r.virt_offset, false);
	free(text);
	unlink(b->map_path);
	if (!pt_symtab_value(b->map, "_text", &b->text_link))
		b->text_link = LINK_TEXT;
}

static void unboot(struct booted *b)
{
	pt_symtab_destroy(b->map);
	pt_symtab_destroy(b->kallsyms);
	pt_symtab_destroy(b->runtime);
	pt_emu_destroy(b->m);
}

static uint64_t sym(const struct booted *b, const char *name)
{
	uint64_t v = 0;
	if (!pt_emu_symbol(b->m, name, &v))
		fail_msg("no symbol %s", name);
	return v;
}

/** Physical address of a kernel-image symbol as loaded. */
static uint64_t sym_pa(const struct booted *b, const char *name)
{
	return b->r.phys_load + (sym(b, name) - b->text_link);
}

static uint64_t rd64(const struct booted *b, uint64_t pa)
{
	uint64_t v;
	memcpy(&v, b->mem + pa, 8);
	return v;
}

static void wr64(struct booted *b, uint64_t pa, uint64_t v)
{
	memcpy(b->mem + pa, &v, 8);
}

/** The CR3 table address of the boot (PAE: the PDPT). */
static uint64_t cr3_root(const struct booted *b)
{
	struct pt_context ctx;
	assert_int_equal(pt_context_init(&ctx, &b->r.cpu, &b->flat.mem, NULL, NULL), PT_OK);
	return ctx.root;
}

static void inputs(struct pt_kpgd_inputs *in, struct booted *b, const struct pt_symtab *syms)
{
	memset(in, 0, sizeof(*in));
	in->mem = &b->flat.mem;
	in->ranges = &b->range;
	in->nranges = 1;
	in->symbols = syms;
	in->has_cpu = true;
	in->cpu = b->r.cpu;
}

static void dump_result(const struct pt_kpgd_result *res)
{
	for (size_t i = 0; i < res->nlog; i++)
		print_message("  log: %s\n", res->log[i]);
	if (res->found)
		for (size_t i = 0; i < res->candidates[0].nfacts; i++)
			print_message("  %c %s\n", res->candidates[0].facts[i].ok ? '+' : '-',
				      res->candidates[0].facts[i].text);
}

static void find(const struct pt_kpgd_inputs *in, struct pt_kpgd_result *res)
{
	struct pt_error err;
	if (pt_kpgd_find(in, res, &err) != PT_OK)
		fail_msg("pt_kpgd_find: %s", err.message);
}

/** The finder must say exactly what the boot did. */
static void expect_boot(struct booted *b, const struct pt_kpgd_inputs *in, bool offsets, const char *what)
{
	struct pt_kpgd_result res;
	find(in, &res);
	const struct pt_kpgd_candidate *c = res.found ? &res.candidates[0] : NULL;
	if (!c || !res.verified || c->kpgd != cr3_root(b) || c->mode != b->r.paging ||
	    (offsets && (!c->offsets_known || c->virt_offset != b->r.virt_offset ||
			 c->phys_offset != b->r.phys_offset))) {
		dump_result(&res);
		fail_msg("%s (%s): want kpgd 0x%llx %s virt 0x%llx phys 0x%llx; got %s kpgd 0x%llx %s virt 0x%llx "
			 "phys 0x%llx verified %d", b->r.image->name, what, (unsigned long long)cr3_root(b),
			 pt_mode_name(b->r.paging), (unsigned long long)b->r.virt_offset,
			 (unsigned long long)b->r.phys_offset, c ? "" : "nothing", c ? (unsigned long long)c->kpgd : 0,
			 c ? pt_mode_name(c->mode) : "-", c ? (unsigned long long)c->virt_offset : 0,
			 c ? (unsigned long long)c->phys_offset : 0, res.verified);
	}
	if (in->has_cpu)
		assert_int_equal(res.cr3_relation, PT_KPGD_CR3_SAME);
	pt_kpgd_result_deinit(&res);
}

/** Every symbol source on one booted variant. */
static void expect_all_sources(struct booted *b, const char *variant)
{
	struct pt_kpgd_inputs in;
	char what[128];
	inputs(&in, b, b->map);
	snprintf(what, sizeof(what), "%s, System.map", variant);
	expect_boot(b, &in, true, what);
	inputs(&in, b, b->kallsyms);
	snprintf(what, sizeof(what), "%s, kallsyms (link-time)", variant);
	expect_boot(b, &in, true, what);
	inputs(&in, b, b->runtime);
	snprintf(what, sizeof(what), "%s, kallsyms (run-time)", variant);
	expect_boot(b, &in, true, what);
	struct pt_symtab *elf = NULL;
	struct pt_error err;
	if (strcmp(b->r.image->name, "linux64") == 0 || strcmp(b->r.image->name, "linux64-decompressor") == 0) {
		if (pt_symtab_load(PTLAB_KERNEL64_ELF, &elf, &err) != PT_OK)
			fail_msg("%s", err.message);
		inputs(&in, b, elf);
		snprintf(what, sizeof(what), "%s, vmlinux ELF", variant);
		expect_boot(b, &in, true, what);
		pt_symtab_destroy(elf);
	}
	/* No symbols: the table, verified, offsets unknown. */
	inputs(&in, b, NULL);
	snprintf(what, sizeof(what), "%s, no symbols", variant);
	expect_boot(b, &in, false, what);
	/* No symbols and no CPU state either. */
	in.has_cpu = false;
	snprintf(what, sizeof(what), "%s, no symbols, no CPU state", variant);
	if (strcmp(b->r.image->name, "linux64-decompressor") != 0)
		expect_boot(b, &in, false, what);
}

/* ---- every image and variant ----------------------------------------------------------------- */

static void test_default_image(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ 0 });
	expect_all_sources(&b, "default");
	unboot(&b);
}

static void test_relocated(void **state)
{
	(void)state;
	const uint64_t loads[] = { 0x200000, 0x4000000, 0x7e00000 };
	for (size_t i = 0; i < 3; i++) {
		struct booted b;
		boot(&b, &(struct pt_emu_boot_opts){ .phys_load = loads[i] });
		expect_all_sources(&b, "relocated");
		unboot(&b);
	}
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .phys_load = 0x4000000, .has_virt_offset = true,
					     .virt_offset = 0x2000000 });
	expect_all_sources(&b, "virt-offset");
	unboot(&b);
}

static void test_kaslr_seeds(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct booted b;
		boot(&b, &(struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = seed });
		char v[32];
		snprintf(v, sizeof(v), "kaslr %llu", (unsigned long long)seed);
		expect_all_sources(&b, v);
		unboot(&b);
	}
}

static void test_la57(void **state)
{
	(void)state;
	const struct pt_emu_boot_opts opts[] = {
		{ .la57 = true },
		{ .la57 = true, .has_kaslr_seed = true, .kaslr_seed = 42 },
		{ .la57 = true, .has_kaslr_seed = true, .kaslr_seed = 5 },
	};
	for (size_t i = 0; i < 3; i++) {
		struct booted b;
		boot(&b, &opts[i]);
		expect_all_sources(&b, "la57");
		/* The kpgd is the PML5, not the PML4 under PML5[511], with every strategy alone. */
		struct pt_kpgd_inputs in;
		inputs(&in, &b, NULL);
		in.only = PT_KPGD_BRUTE;
		expect_boot(&b, &in, false, "la57, brute force, no symbols");
		in.has_cpu = false;
		expect_boot(&b, &in, false, "la57, brute force, no symbols, no CPU state");
		inputs(&in, &b, b.map);
		in.only = PT_KPGD_BRUTE;
		in.has_cpu = false;
		expect_boot(&b, &in, true, "la57, brute force, System.map, no CPU state");
		unboot(&b);
	}
}

static void test_decompressor(void **state)
{
	(void)state;
	for (int la57 = 0; la57 <= 1; la57++) {
		struct booted b;
		boot(&b, &(struct pt_emu_boot_opts){ .image = "linux64-decompressor", .la57 = la57 });
		expect_all_sources(&b, "decompressor");
		unboot(&b);
	}
}

/** Every image the emulator has (32-bit ones included when present), default options. */
static void test_every_image(void **state)
{
	(void)state;
	/* the 2 x86-64 and 7 i386 images (README): an empty list would check nothing */
	assert_true(pt_emu_image_count() >= 9);
	for (size_t i = 0; i < pt_emu_image_count(); i++) {
		const struct pt_emu_image *img = pt_emu_image_at(i);
		struct booted b;
		boot(&b, &(struct pt_emu_boot_opts){ .image = img->name });
		struct pt_kpgd_inputs in;
		inputs(&in, &b, b.map);
		expect_boot(&b, &in, true, "System.map");
		inputs(&in, &b, b.kallsyms);
		expect_boot(&b, &in, true, "kallsyms");
		inputs(&in, &b, NULL);
		expect_boot(&b, &in, false, "no symbols");
		if (img->options & PT_EMU_OPT_VIRT_OFFSET) {
			unboot(&b);
			for (uint64_t seed = 11; seed <= 13; seed++) {
				boot(&b, &(struct pt_emu_boot_opts){ .image = img->name, .has_kaslr_seed = true,
								     .kaslr_seed = seed });
				inputs(&in, &b, b.map);
				expect_boot(&b, &in, true, "System.map, KASLR");
				inputs(&in, &b, b.runtime);
				expect_boot(&b, &in, true, "run-time kallsyms, KASLR");
				if (seed < 13)
					unboot(&b);
			}
		}
		unboot(&b);
	}
}

/* ---- strategies on their own ---------------------------------------------------------------- */

static void test_each_strategy(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = 9 });
	struct pt_kpgd_inputs in;
	struct pt_kpgd_result res;
	/* symbol-direct alone cannot see a physical offset */
	inputs(&in, &b, b.map);
	in.only = PT_KPGD_SYMBOLS;
	find(&in, &res);
	assert_false(res.verified && b.r.phys_offset != 0);
	pt_kpgd_result_deinit(&res);
	in.only = PT_KPGD_KASLR;
	expect_boot(&b, &in, true, "kaslr alone");
	in.only = PT_KPGD_BRUTE;
	expect_boot(&b, &in, true, "brute force alone, System.map");
	in.only = PT_KPGD_BRUTE;
	in.symbols = b.runtime;
	expect_boot(&b, &in, true, "brute force alone, run-time kallsyms");
	/* the method is reported */
	inputs(&in, &b, b.map);
	find(&in, &res);
	assert_int_equal(res.candidates[0].method, PT_KPGD_KASLR);
	pt_kpgd_result_deinit(&res);
	unboot(&b);

	boot(&b, &(struct pt_emu_boot_opts){ 0 });
	inputs(&in, &b, b.map);
	find(&in, &res);
	assert_true(res.verified);
	assert_int_equal(res.candidates[0].method, PT_KPGD_SYMBOLS);
	assert_false(res.candidates[0].has_user_pgd); /* without pti=on the +4 KiB page stays empty */
	pt_kpgd_result_deinit(&res);
	unboot(&b);
}

/* ---- VMCOREINFO -------------------------------------------------------------------------------- */

static void vmcoreinfo_case(const struct pt_emu_boot_opts *o, bool with_map)
{
	struct booted b;
	boot(&b, o);
	char vmci[1024];
	const uint64_t phys_base = b.r.phys_offset - b.r.virt_offset;
	snprintf(vmci, sizeof(vmci),
		 "OSRELEASE=4.14.0-ptlab\nPAGESIZE=4096\nSYMBOL(init_top_pgt)=%llx\nSYMBOL(_stext)=%llx\n"
		 "NUMBER(phys_base)=%lld\nKERNELOFFSET=%llx\nNUMBER(pgtable_l5_enabled)=%d\n",
		 (unsigned long long)(sym(&b, "init_top_pgt") + b.r.virt_offset),
		 (unsigned long long)(LINK_TEXT + b.r.virt_offset), (long long)phys_base,
		 (unsigned long long)b.r.virt_offset, b.r.paging == PT_MODE_LA57);
	char path[64];
	snprintf(path, sizeof(path), "kpgd-vmci-%d.core", (int)getpid());
	const struct pt_core_segment seg = { 0, b.size, b.mem };
	const struct pt_core_desc desc = { .machine = 62, .segments = &seg, .nsegments = 1, .vmcoreinfo = vmci };
	struct pt_error err;
	assert_int_equal(pt_core_write(path, &desc, &err), PT_OK);
	struct pt_dump *dump;
	assert_int_equal(pt_dump_open(path, NULL, &dump, &err), PT_OK);
	struct pt_kpgd_inputs in = { 0 };
	pt_kpgd_inputs_from_dump(&in, dump);
	assert_false(in.has_cpu); /* no CPU note: VMCOREINFO alone */
	in.symbols = with_map ? b.map : NULL;
	struct pt_kpgd_result res;
	find(&in, &res);
	if (!res.verified)
		dump_result(&res);
	assert_true(res.verified);
	const struct pt_kpgd_candidate *c = &res.candidates[0];
	assert_int_equal(c->method, PT_KPGD_VMCOREINFO);
	assert_int_equal(c->kpgd, cr3_root(&b));
	assert_int_equal(c->mode, b.r.paging);
	assert_int_equal(c->virt_offset, b.r.virt_offset);
	assert_int_equal(c->phys_offset, b.r.phys_offset);
	pt_kpgd_result_deinit(&res);
	pt_dump_close(dump);
	unlink(path);
	unboot(&b);
}

static void test_vmcoreinfo(void **state)
{
	(void)state;
	vmcoreinfo_case(&(struct pt_emu_boot_opts){ .mem_size = 64 << 20 }, false);
	vmcoreinfo_case(&(struct pt_emu_boot_opts){ .mem_size = 64 << 20, .has_kaslr_seed = true, .kaslr_seed = 3 }, false);
	vmcoreinfo_case(&(struct pt_emu_boot_opts){ .mem_size = 64 << 20, .has_kaslr_seed = true, .kaslr_seed = 4 }, true);
	vmcoreinfo_case(&(struct pt_emu_boot_opts){ .mem_size = 64 << 20, .la57 = true, .has_kaslr_seed = true,
						    .kaslr_seed = 8 }, false);
}

/* ---- hostile edits ----------------------------------------------------------------------------- */

/** LibVMI's filter rejects a table with bit 7 or 63 in any entry: one corrupt entry must not. */
static void test_corrupt_entry(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = 2 });
	const uint64_t top = cr3_root(&b);
	wr64(&b, top + 8 * 100, UINT64_C(0x8000000000000080));          /* non-present, bits 7 and 63 */
	wr64(&b, top + 8 * 300, UINT64_C(0x80000fffff0000e3));          /* present garbage with PS */
	struct pt_kpgd_inputs in;
	inputs(&in, &b, b.map);
	expect_boot(&b, &in, true, "corrupt entries, auto");
	in.only = PT_KPGD_BRUTE;
	expect_boot(&b, &in, true, "corrupt entries, brute force");
	inputs(&in, &b, NULL);
	expect_boot(&b, &in, false, "corrupt entries, no symbols");
	unboot(&b);
}

/** 30 copies of the real table elsewhere in memory: only the real one maps its own symbol. */
static void test_decoys(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .phys_load = 0x2000000 });
	const uint64_t top = cr3_root(&b);
	for (uint64_t i = 0; i < 30; i++)
		memcpy(b.mem + 0x8000000 + i * 0x11000, b.mem + top, 4096);
	struct pt_kpgd_inputs in;
	inputs(&in, &b, b.map);
	in.only = PT_KPGD_BRUTE;
	expect_boot(&b, &in, true, "30 decoys, brute force");
	in.has_cpu = false;
	expect_boot(&b, &in, true, "30 decoys, brute force, no CPU state");
	inputs(&in, &b, b.kallsyms);
	expect_boot(&b, &in, true, "30 decoys, kallsyms, auto");
	unboot(&b);
}

/** A stray 2 MiB mapping of the kernel's frame below _text: the slide must not follow it. */
static void test_stray_mapping(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = 6 });
	const uint64_t l2 = sym_pa(&b, "level2_kernel_pgt");
	const uint64_t text_slot = (LINK_TEXT + b.r.virt_offset - UINT64_C(0xffffffff80000000)) >> 21;
	assert_true(text_slot > 3);
	wr64(&b, l2 + 8 * 1, b.r.phys_load | 0x1e3);
	wr64(&b, l2 + 8 * (text_slot - 2), b.r.phys_load | 0x1e3);
	struct pt_kpgd_inputs in;
	inputs(&in, &b, b.kallsyms);
	expect_boot(&b, &in, true, "stray mappings, kallsyms");
	inputs(&in, &b, b.runtime);
	expect_boot(&b, &in, true, "stray mappings, run-time kallsyms");
	inputs(&in, &b, b.map);
	in.only = PT_KPGD_BRUTE;
	expect_boot(&b, &in, true, "stray mappings, brute force");
	unboot(&b);
}

/** SME: every entry of the kernel's tables carries the C-bit; nothing in the CPU state says so. */
static void test_sme_cbit(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = 4 });
	const uint64_t c = UINT64_C(1) << 47;
	const char *tables[] = { "init_top_pgt", "level3_kernel_pgt", "level2_kernel_pgt", "level2_fixmap_pgt" };
	for (size_t t = 0; t < 4; t++) {
		uint64_t pa = sym_pa(&b, tables[t]);
		for (unsigned i = 0; i < 512; i++)
			if (rd64(&b, pa + 8 * i) & 1)
				wr64(&b, pa + 8 * i, rd64(&b, pa + 8 * i) | c);
	}
	b.r.cpu.cbit = 0;
	struct pt_kpgd_inputs in;
	inputs(&in, &b, b.map);
	expect_boot(&b, &in, true, "C-bit 47, System.map");
	struct pt_kpgd_result res;
	find(&in, &res);
	assert_int_equal(res.candidates[0].cbit, 47);
	pt_kpgd_result_deinit(&res);
	in.only = PT_KPGD_BRUTE;
	expect_boot(&b, &in, true, "C-bit 47, brute force");
	inputs(&in, &b, NULL);
	expect_boot(&b, &in, false, "C-bit 47, no symbols");
	unboot(&b);
}

/** CR3 holding another table (a process's) is reported, never believed. */
static void test_cr3_not_trusted(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = 5 });
	const uint64_t real = cr3_root(&b);
	/* a "process": a copy of the kernel table with a user half */
	const uint64_t proc = 0x9000000;
	memcpy(b.mem + proc, b.mem + real, 4096);
	wr64(&b, proc, sym_pa(&b, "level3_kernel_pgt") | 0x67);
	for (int src = 0; src < 3; src++) {
		struct pt_kpgd_inputs in;
		inputs(&in, &b, src == 0 ? b.map : src == 1 ? b.kallsyms : NULL);
		in.cpu.cr3 = proc;
		struct pt_kpgd_result res;
		find(&in, &res);
		if (!res.verified || res.candidates[0].kpgd != real)
			dump_result(&res);
		assert_true(res.verified);
		assert_int_equal(res.candidates[0].kpgd, real);
		assert_int_equal(res.cr3_relation, PT_KPGD_CR3_PROCESS);
		pt_kpgd_result_deinit(&res);
		in.cpu.cr3 = 0x5000; /* some unrelated page */
		find(&in, &res);
		assert_true(res.verified);
		assert_int_equal(res.candidates[0].kpgd, real);
		assert_int_equal(res.cr3_relation, PT_KPGD_CR3_OTHER);
		pt_kpgd_result_deinit(&res);
	}
	unboot(&b);
}

/** Another kernel's map (every address + 2 MiB, linux_banner elsewhere): never verified. */
static void test_other_kernels_map(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = 1 });
	struct pt_symtab *other = pt_symtab_create();
	assert_non_null(other);
	for (size_t i = 0; i < pt_symtab_count(b.map); i++) {
		const struct pt_symbol *s = pt_symtab_at(b.map, i);
		bool abs = s->type == 'A' || s->type == 'a';
		uint64_t v = abs ? s->value : s->value + 0x200000;
		if (strcmp(s->name, "linux_banner") == 0)
			v += 0x40;
		if (strcmp(s->name, "phys_startup_64") == 0)
			v += 0x200000;
		assert_true(pt_symtab_add(other, s->name, v, s->type));
	}
	for (int m = PT_KPGD_AUTO; m <= PT_KPGD_BRUTE; m++) {
		if (m == PT_KPGD_VMCOREINFO || m == PT_KPGD_IDENTITY)
			continue;
		struct pt_kpgd_inputs in;
		inputs(&in, &b, other);
		in.only = (enum pt_kpgd_method)m;
		struct pt_kpgd_result res;
		find(&in, &res);
		if (res.verified)
			dump_result(&res);
		assert_false(res.verified);
		pt_kpgd_result_deinit(&res);
	}
	pt_symtab_destroy(other);
	unboot(&b);
}

/** A dump cut short: a clear error for the ELF, "not verified" for a raw image missing tables. */
static void test_truncated(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .mem_size = 64 << 20 });
	char path[64];
	snprintf(path, sizeof(path), "kpgd-trunc-%d.core", (int)getpid());
	struct pt_error err;
	assert_int_equal(pt_emu_write_core(b.m, path, &err), PT_OK);
	assert_int_equal(truncate(path, 20 << 20), 0);
	struct pt_dump *dump = NULL;
	assert_int_equal(pt_dump_open(path, NULL, &dump, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, path));
	/* raw image holding the kernel's first pages but not level3/level2 */
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	const uint64_t cut = sym_pa(&b, "level3_kernel_pgt");
	assert_int_equal(fwrite(b.mem, 1, cut, f), cut);
	fclose(f);
	assert_int_equal(pt_dump_open(path, NULL, &dump, &err), PT_OK);
	struct pt_kpgd_inputs in = { 0 };
	pt_kpgd_inputs_from_dump(&in, dump);
	in.symbols = b.map;
	struct pt_kpgd_result res;
	find(&in, &res);
	assert_false(res.verified);
	pt_kpgd_result_deinit(&res);
	in.symbols = NULL;
	find(&in, &res);
	assert_false(res.verified);
	pt_kpgd_result_deinit(&res);
	pt_dump_close(dump);
	unlink(path);
	unboot(&b);
}

/** A real core file through pt_dump_open, as the CLI reads it: written without its VMCOREINFO
 * note (the symbol file answers, through the KASLR strategy), and as ptlab writes it by default (the note answers, also with
 * no symbol file at all); the same table, mode and offsets every time. */
static void test_core_file(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .mem_size = 64 << 20, .la57 = true, .has_kaslr_seed = true, .kaslr_seed = 77 });
	char path[64];
	snprintf(path, sizeof(path), "kpgd-core-%d.core", (int)getpid());
	for (int with_note = 0; with_note < 2; with_note++) {
		struct pt_error err;
		const struct pt_emu_core_opts copts = { .no_vmcoreinfo = !with_note };
		assert_int_equal(pt_emu_write_core_opts(b.m, path, &copts, &err), PT_OK);
		struct pt_dump *dump;
		assert_int_equal(pt_dump_open(path, NULL, &dump, &err), PT_OK);
		assert_int_equal(pt_dump_vmcoreinfo(dump, NULL) != NULL, with_note);
		for (int with_map = with_note ? 0 : 1; with_map < 2; with_map++) {
			struct pt_kpgd_inputs in = { 0 };
			pt_kpgd_inputs_from_dump(&in, dump);
			assert_true(in.has_cpu);
			in.symbols = with_map ? b.map : NULL;
			struct pt_kpgd_result res;
			find(&in, &res);
			assert_true(res.verified);
			assert_int_equal(res.candidates[0].method, with_note ? PT_KPGD_VMCOREINFO : PT_KPGD_KASLR);
			assert_int_equal(res.candidates[0].kpgd, cr3_root(&b));
			assert_int_equal(res.candidates[0].mode, PT_MODE_LA57);
			assert_int_equal(res.candidates[0].virt_offset, b.r.virt_offset);
			assert_int_equal(res.candidates[0].phys_offset, b.r.phys_offset);
			pt_kpgd_result_deinit(&res);
		}
		pt_dump_close(dump);
	}
	unlink(path);
	unboot(&b);
}

/** PTI: a user copy planted at kpgd + 4 KiB (in a boot without pti=on) with its own tables is
 * reported, also as CR3; not without the entry-text symbols to check it with. */
static void test_pti_user_copy(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .phys_load = 0x3000000 });
	const uint64_t k = cr3_root(&b);
	assert_int_equal(k % 8192, 0);
	const uint64_t user = k + 4096; /* init_top_pgt's user-copy page, empty without pti=on */
	const uint64_t pud = 0x6000000;  /* the user copy's own PUD: level3_kernel_pgt copied */
	memcpy(b.mem + pud, b.mem + sym_pa(&b, "level3_kernel_pgt"), 4096);
	memset(b.mem + user, 0, 4096);
	wr64(&b, user + 8 * 511, pud | 0x67);
	/* The image's map names entry_SYSCALL_64 and __entry_text_start; `bare` is the map without
	 * them. */
	struct pt_symtab *bare = pt_symtab_create();
	for (size_t i = 0; i < pt_symtab_count(b.map); i++) {
		const struct pt_symbol *s = pt_symtab_at(b.map, i);
		if (strcmp(s->name, "entry_SYSCALL_64") != 0 && strncmp(s->name, "__entry_text_", 13) != 0)
			pt_symtab_add(bare, s->name, s->value, s->type);
	}
	assert_int_equal(pt_symtab_count(bare) + 3, pt_symtab_count(b.map));
	struct pt_kpgd_inputs in;
	inputs(&in, &b, b.map);
	struct pt_kpgd_result res;
	find(&in, &res);
	assert_true(res.verified);
	assert_int_equal(res.candidates[0].kpgd, k);
	assert_true(res.candidates[0].has_user_pgd);
	assert_int_equal(res.candidates[0].user_pgd, user);
	pt_kpgd_result_deinit(&res);
	in.cpu.cr3 = user; /* CR3 holds the user copy: reported, not believed */
	find(&in, &res);
	assert_true(res.verified);
	assert_int_equal(res.candidates[0].kpgd, k);
	assert_int_equal(res.cr3_relation, PT_KPGD_CR3_USER_COPY);
	pt_kpgd_result_deinit(&res);
	/* without the entry-text symbols nothing is claimed */
	inputs(&in, &b, bare);
	find(&in, &res);
	assert_true(res.verified);
	assert_false(res.candidates[0].has_user_pgd);
	pt_kpgd_result_deinit(&res);
	pt_symtab_destroy(bare);
	unboot(&b);
}

/* ---- the --sme and --pti boots ------------------------------------------------------------------- */

static const unsigned SME_CBIT = 39; /* what the machine's CPUID 0x8000001F reports */

/** The C-bit the finder reports for the answer. */
static void expect_cbit(struct booted *b, const struct pt_kpgd_inputs *in, unsigned cbit, const char *what)
{
	struct pt_kpgd_result res;
	find(in, &res);
	if (!res.verified || res.candidates[0].kpgd != cr3_root(b) || res.candidates[0].cbit != cbit) {
		dump_result(&res);
		fail_msg("%s: want kpgd 0x%llx with C-bit %u, got 0x%llx with %u (verified %d)", what,
			 (unsigned long long)cr3_root(b), cbit,
			 res.found ? (unsigned long long)res.candidates[0].kpgd : 0,
			 res.found ? res.candidates[0].cbit : 0, res.verified);
	}
	pt_kpgd_result_deinit(&res);
}

/** SME boots: every source finds the table (CR3 carries the C-bit), and the C-bit is reported
 * from the CPU state, voted from the table without it, and carried by the dump's PTLAB note. */
static void test_sme_boots(void **state)
{
	(void)state;
	const struct pt_emu_boot_opts opts[] = {
		{ .mem_size = 64 << 20, .sme = true },
		{ .mem_size = 64 << 20, .sme = true, .la57 = true, .has_kaslr_seed = true, .kaslr_seed = 7 },
		{ .mem_size = 64 << 20, .sme = true, .has_kaslr_seed = true, .kaslr_seed = 3 },
		{ .mem_size = 64 << 20, .sme = true, .phys_load = 0x200000 },
		{ .mem_size = 64 << 20, .sme = true, .pti = true, .la57 = true },
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct booted b;
		boot(&b, &opts[i]);
		assert_int_equal(b.r.cpu.cbit, SME_CBIT);
		assert_true(b.r.cpu.cr3 >> SME_CBIT & 1);
		expect_all_sources(&b, "sme");
		struct pt_kpgd_inputs in;
		inputs(&in, &b, b.map);
		expect_cbit(&b, &in, SME_CBIT, "sme, System.map, C-bit from the CPU state");
		in.cpu.cbit = 0; /* the C-bit unknown: voted from the table's entries */
		expect_cbit(&b, &in, SME_CBIT, "sme, System.map, C-bit voted");
		in.only = PT_KPGD_BRUTE;
		expect_cbit(&b, &in, SME_CBIT, "sme, brute force, C-bit voted");
		inputs(&in, &b, NULL);
		in.has_cpu = false;
		expect_cbit(&b, &in, SME_CBIT, "sme, no symbols, no CPU state");
		unboot(&b);
	}
	/* The ELF core: the PTLAB note carries the C-bit, as the CLI reads it. */
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .mem_size = 64 << 20, .sme = true, .has_kaslr_seed = true,
					     .kaslr_seed = 21 });
	char path[64];
	snprintf(path, sizeof(path), "kpgd-sme-%d.core", (int)getpid());
	struct pt_error err;
	assert_int_equal(pt_emu_write_core(b.m, path, &err), PT_OK);
	struct pt_dump *dump;
	assert_int_equal(pt_dump_open(path, NULL, &dump, &err), PT_OK);
	struct pt_kpgd_inputs in = { 0 };
	pt_kpgd_inputs_from_dump(&in, dump);
	assert_true(in.has_cpu);
	assert_int_equal(in.cpu.cbit, SME_CBIT);
	assert_int_equal(in.cpu.cr3, b.r.cpu.cr3);
	in.symbols = b.map;
	expect_cbit(&b, &in, SME_CBIT, "sme, ELF core");
	struct pt_kpgd_result res;
	find(&in, &res);
	assert_int_equal(res.cr3_relation, PT_KPGD_CR3_SAME);
	assert_int_equal(res.candidates[0].virt_offset, b.r.virt_offset);
	assert_int_equal(res.candidates[0].phys_offset, b.r.phys_offset);
	pt_kpgd_result_deinit(&res);
	pt_dump_close(dump);
	unlink(path);
	unboot(&b);
}

/** The PTI user copy reported (symbols name entry_SYSCALL_64), or not claimed without them. */
static void expect_user_copy(struct booted *b, const struct pt_kpgd_inputs *in, bool want, const char *what)
{
	struct pt_kpgd_result res;
	find(in, &res);
	const struct pt_kpgd_candidate *c = res.found ? &res.candidates[0] : NULL;
	if (!c || !res.verified || c->kpgd != cr3_root(b) || c->has_user_pgd != want ||
	    (want && c->user_pgd != c->kpgd + 4096)) {
		dump_result(&res);
		fail_msg("%s: want kpgd 0x%llx %s user copy; got 0x%llx has_user_pgd %d user_pgd 0x%llx", what,
			 (unsigned long long)cr3_root(b), want ? "with its" : "without a",
			 c ? (unsigned long long)c->kpgd : 0, c ? c->has_user_pgd : 0,
			 c ? (unsigned long long)c->user_pgd : 0);
	}
	pt_kpgd_result_deinit(&res);
}

/** PTI boots: the kpgd (never its user copy) with every source, the user copy at kpgd + 4 KiB
 * reported with symbols, and a CR3 holding the user copy recognised as such. */
static void test_pti_boots(void **state)
{
	(void)state;
	const struct pt_emu_boot_opts opts[] = {
		{ .mem_size = 64 << 20, .pti = true },
		{ .mem_size = 64 << 20, .pti = true, .la57 = true },
		{ .mem_size = 64 << 20, .pti = true, .has_kaslr_seed = true, .kaslr_seed = 9 },
		{ .mem_size = 64 << 20, .pti = true, .la57 = true, .has_kaslr_seed = true, .kaslr_seed = 42 },
		{ .mem_size = 64 << 20, .pti = true, .phys_load = 0x2000000 },
		{ .mem_size = 64 << 20, .pti = true, .sme = true, .has_kaslr_seed = true, .kaslr_seed = 5 },
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct booted b;
		boot(&b, &opts[i]);
		const uint64_t k = cr3_root(&b);
		assert_int_equal(k % 8192, 0);
		expect_all_sources(&b, "pti");
		struct pt_kpgd_inputs in;
		inputs(&in, &b, b.map);
		expect_user_copy(&b, &in, true, "pti, System.map");
		inputs(&in, &b, b.kallsyms);
		expect_user_copy(&b, &in, true, "pti, kallsyms");
		inputs(&in, &b, b.runtime);
		expect_user_copy(&b, &in, true, "pti, run-time kallsyms");
		inputs(&in, &b, b.map);
		in.only = PT_KPGD_BRUTE;
		in.has_cpu = false;
		expect_user_copy(&b, &in, true, "pti, brute force, System.map, no CPU state");
		inputs(&in, &b, NULL);
		expect_user_copy(&b, &in, false, "pti, no symbols"); /* no entry text to check: no claim */
		in.has_cpu = false;
		in.only = PT_KPGD_BRUTE;
		expect_user_copy(&b, &in, false, "pti, brute force, no symbols, no CPU state");
		/* CR3 holding the user copy (user mode, or the entry trampoline before its switch) */
		inputs(&in, &b, b.map);
		in.cpu.cr3 = b.r.cpu.cr3 | 0x1000;
		struct pt_kpgd_result res;
		find(&in, &res);
		assert_true(res.verified);
		assert_int_equal(res.candidates[0].kpgd, k);
		assert_true(res.candidates[0].has_user_pgd);
		assert_int_equal(res.candidates[0].user_pgd, k + 4096);
		assert_int_equal(res.cr3_relation, PT_KPGD_CR3_USER_COPY);
		pt_kpgd_result_deinit(&res);
		unboot(&b);
	}
	/* without pti=on: no user copy */
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .mem_size = 64 << 20, .la57 = true });
	struct pt_kpgd_inputs in;
	inputs(&in, &b, b.map);
	expect_user_copy(&b, &in, false, "no pti, System.map");
	unboot(&b);
}

/** A direct map (PA 0.. at 0xffff888000000000 with 1 GiB pages) is found with and without symbols. */
static void test_direct_map(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = 12 });
	const uint64_t k = cr3_root(&b);
	const uint64_t pud = 0x7000000;
	memset(b.mem + pud, 0, 4096);
	wr64(&b, pud, 0x1e3); /* 1 GiB page at PA 0 */
	wr64(&b, k + 8 * 273, pud | 0x63);
	struct pt_kpgd_inputs in;
	inputs(&in, &b, NULL);
	struct pt_kpgd_result res;
	find(&in, &res);
	assert_true(res.verified);
	assert_int_equal(res.candidates[0].kpgd, k);
	assert_true(res.candidates[0].has_direct_map);
	assert_int_equal(res.candidates[0].direct_map, UINT64_C(0xffff888000000000));
	pt_kpgd_result_deinit(&res);
	/* with symbols: page_offset_base holds it */
	struct pt_symtab *syms = pt_symtab_create();
	for (size_t i = 0; i < pt_symtab_count(b.map); i++) {
		const struct pt_symbol *s = pt_symtab_at(b.map, i);
		pt_symtab_add(syms, s->name, s->value, s->type);
	}
	pt_symtab_add(syms, "page_offset_base", sym(&b, "next_early_pgt"), 'D');
	wr64(&b, sym_pa(&b, "next_early_pgt"), UINT64_C(0xffff888000000000));
	inputs(&in, &b, syms);
	expect_boot(&b, &in, true, "direct map, page_offset_base");
	find(&in, &res);
	assert_true(res.candidates[0].has_direct_map);
	assert_int_equal(res.candidates[0].direct_map, UINT64_C(0xffff888000000000));
	pt_kpgd_result_deinit(&res);
	pt_symtab_destroy(syms);
	unboot(&b);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	struct pt_kpgd_inputs in = { 0 };
	struct pt_kpgd_result res;
	struct pt_error err;
	assert_int_equal(pt_kpgd_find(&in, &res, &err), PT_EINVAL);
	/* memory of zeros: nothing found, no crash */
	uint8_t *zero = calloc(1, 1 << 20);
	struct pt_flat_mem flat;
	pt_flat_mem_init(&flat, zero, 1 << 20);
	struct pt_dump_range r = { 0, 1 << 20, 0 };
	in.mem = &flat.mem;
	in.ranges = &r;
	in.nranges = 1;
	assert_int_equal(pt_kpgd_find(&in, &res, &err), PT_OK);
	assert_false(res.found);
	pt_kpgd_result_deinit(&res);
	free(zero);
	/* hostile memory: random words, a banner at every congruent 2 MiB slot, table-shaped pages
	 * whose every entry points to one page: bounded work, nothing verified */
	const uint64_t size = 64 << 20;
	uint8_t *junk = malloc(size);
	assert_non_null(junk);
	uint64_t x = 12345;
	for (uint64_t i = 0; i < size; i += 8) {
		ts_xorshift64(&x);
		memcpy(junk + i, &x, 8);
	}
	for (uint64_t pa = 0x1000; pa + 64 < size; pa += 0x200000)
		memcpy(junk + pa, "Linux version 9.9.9", 19);
	for (uint64_t pg = 0x100000; pg < 0x100000 + 2000 * 4096; pg += 4096)
		for (unsigned e = 0; e < 512; e++) {
			uint64_t v = 0x100000 | 0x63;
			memcpy(junk + pg + 8 * e, &v, 8);
		}
	pt_flat_mem_init(&flat, junk, size);
	struct pt_dump_range jr = { 0, size, 0 };
	in.ranges = &jr;
	in.mem = &flat.mem;
	struct pt_symtab *syms = pt_symtab_create();
	pt_symtab_add(syms, "_text", UINT64_C(0xffffffff81000000), 'T');
	pt_symtab_add(syms, "startup_64", UINT64_C(0xffffffff81000000), 'T');
	pt_symtab_add(syms, "linux_banner", UINT64_C(0xffffffff81001000), 'R');
	pt_symtab_add(syms, "init_top_pgt", UINT64_C(0xffffffff81004000), 'D');
	for (int withsyms = 0; withsyms <= 1; withsyms++) {
		in.symbols = withsyms ? syms : NULL;
		assert_int_equal(pt_kpgd_find(&in, &res, &err), PT_OK);
		assert_false(res.verified);
		pt_kpgd_result_deinit(&res);
	}
	pt_symtab_destroy(syms);
	free(junk);
	enum pt_kpgd_method m;
	assert_true(pt_kpgd_method_parse("brute-force", &m));
	assert_int_equal(m, PT_KPGD_BRUTE);
	assert_false(pt_kpgd_method_parse("nope", &m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_image),
		cmocka_unit_test(test_relocated),
		cmocka_unit_test(test_kaslr_seeds),
		cmocka_unit_test(test_la57),
		cmocka_unit_test(test_decompressor),
		cmocka_unit_test(test_every_image),
		cmocka_unit_test(test_each_strategy),
		cmocka_unit_test(test_vmcoreinfo),
		cmocka_unit_test(test_corrupt_entry),
		cmocka_unit_test(test_decoys),
		cmocka_unit_test(test_stray_mapping),
		cmocka_unit_test(test_sme_cbit),
		cmocka_unit_test(test_cr3_not_trusted),
		cmocka_unit_test(test_other_kernels_map),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_core_file),
		cmocka_unit_test(test_pti_user_copy),
		cmocka_unit_test(test_sme_boots),
		cmocka_unit_test(test_pti_boots),
		cmocka_unit_test(test_direct_map),
		cmocka_unit_test(test_bad_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
