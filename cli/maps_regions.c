/* SPDX-License-Identifier: MIT */
/*
 * cli/maps_regions.c: where the kernel's regions are in a dump's address space, for the picture
 * of `ptlab maps --svg` (maps_svg.c).
 *
 * Nothing is assumed that the dump does not confirm. The kpgd finder (walker/kpgd.c) must verify
 * the kernel first, from a symbol file, VMCOREINFO or the kallsyms tables recovered from memory;
 * it gives the run-time _text (the KASLR slide) and the direct map (page_offset_base). Then:
 *   kernel text, kernel data  _text.._etext and _etext.._end from the symbols, slid;
 *   vmalloc, vmemmap          the bases the kernel keeps in vmalloc_base and vmemmap_base, read
 *                             from the dump (the image maps linearly: a symbol's PA is
 *                             text_pa + (symbol - _text)), or the layout's defaults without KASLR
 *                             of memory (Documentation/x86/x86_64/mm.rst);
 *   cpu_entry_area, ESPFIX, modules, fixmap, vsyscall
 *                             the fixed areas of that layout (4- and 5-level alike);
 *   i386: lowmem              PAGE_OFFSET (the image's VA - PA) up to 896 MiB of the dump's RAM.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps_svg.h"
#include "ptlab/kpgd.h"
#include "ptlab/le.h"
#include "ptlab/symbols.h"

/** The x86-64 Linux layout (Documentation/x86/x86_64/mm.rst), the parts that do not move. */
static const uint64_t CPU_ENTRY_AREA = UINT64_C(0xfffffe0000000000);
static const uint64_t ESPFIX_BASE = UINT64_C(0xffffff0000000000);
static const uint64_t START_KERNEL_MAP = UINT64_C(0xffffffff80000000);
static const uint64_t MODULES_END = UINT64_C(0xffffffffff000000);
static const uint64_t VSYSCALL = UINT64_C(0xffffffffff600000);
static const uint64_t P4D_SPAN = UINT64_C(1) << 39; /* 512 GiB: one PML4 slot */
/** Without KASLR of memory (CONFIG_RANDOMIZE_MEMORY=n): mm.rst's bases, 4-level and 5-level. */
static const uint64_t VMALLOC_DEFAULT[2] = { UINT64_C(0xffffc90000000000), UINT64_C(0xffa0000000000000) };
static const uint64_t VMEMMAP_DEFAULT[2] = { UINT64_C(0xffffea0000000000), UINT64_C(0xffd4000000000000) };
/** Sizes of vmalloc and vmemmap: 32 TiB and 1 TiB (4-level), 12800 TiB and 512 TiB (5-level). */
static const uint64_t VMALLOC_SIZE[2] = { UINT64_C(32) << 40, UINT64_C(12800) << 40 };
static const uint64_t VMEMMAP_SIZE[2] = { UINT64_C(1) << 40, UINT64_C(512) << 40 };
/** i386: lowmem ends at 896 MiB at most (the rest of the 1 GiB kernel window is vmalloc). */
static const uint64_t I386_LOWMEM_MAX = UINT64_C(896) << 20;

static void add(struct ptl_regions *out, uint64_t start, uint64_t end, const char *name,
		const char *source)
{
	struct ptl_region *r;

	if (out->count == sizeof(out->items) / sizeof(out->items[0]) || end <= start)
		return;
	r = &out->items[out->count++];
	r->start = start;
	r->end = end;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->source, sizeof(r->source), "%s", source);
}

/** What the regions are derived from. */
struct layout_src {
	const struct pt_kpgd_candidate *c;
	const struct pt_symtab *syms;   /**< the symbol file, or the table recovered from memory */
	const char *what;               /**< "System.map"-ish name of syms */
	uint64_t file_text;             /**< _text as syms gives it */
	const struct pt_mem *mem;
};

/** Run-time VA of a symbol (syms may hold link-time or run-time values: slide by _text). */
static bool sym_va(const struct layout_src *L, const char *name, uint64_t *va)
{
	uint64_t v;

	if (!L->syms || !pt_symtab_value(L->syms, name, &v))
		return false;
	*va = L->c->text_va + (v - L->file_text);
	return true;
}

/** A kernel variable's 8 bytes, read at its PA (the image maps linearly from _text). */
static bool sym_u64(const struct layout_src *L, const char *name, uint64_t *value)
{
	const uint8_t *p;
	uint64_t v;

	if (!L->syms || !pt_symtab_value(L->syms, name, &v))
		return false;
	p = L->mem->ptr(L->mem, L->c->text_pa + (v - L->file_text), 8);
	if (!p)
		return false;
	*value = pt_le64(p);
	return true;
}

/** _text.._etext and _etext.._end (or _sdata.._end). */
static void image_regions(const struct layout_src *L, struct ptl_regions *out)
{
	uint64_t text = L->c->text_va, etext, end, sdata;
	char src[80];

	if (sym_va(L, "_etext", &etext)) {
		snprintf(src, sizeof(src), "%s _text.._etext", L->what);
		add(out, text, etext, "kernel text", src);
		if (sym_va(L, "_end", &end)) {
			if (!sym_va(L, "_sdata", &sdata) || sdata < etext)
				sdata = etext;
			snprintf(src, sizeof(src), "%s _sdata.._end", L->what);
			add(out, sdata, end, "kernel data, bss", src);
		}
	} else {
		snprintf(src, sizeof(src), "run-time _text (kpgd finder, %s)", L->what);
		add(out, text, text + (UINT64_C(2) << 20), "kernel text (start)", src);
	}
}

/** vmalloc and vmemmap: the randomised bases in memory, else the layout's defaults. */
static void moving_regions(const struct layout_src *L, bool la57, struct ptl_regions *out)
{
	static const char *const names[2] = { "vmalloc", "vmemmap" };
	static const char *const vars[2] = { "vmalloc_base", "vmemmap_base" };
	const uint64_t *defaults[2] = { VMALLOC_DEFAULT, VMEMMAP_DEFAULT };
	const uint64_t *sizes[2] = { VMALLOC_SIZE, VMEMMAP_SIZE };
	char src[80];

	for (int i = 0; i < 2; i++) {
		uint64_t base;

		if (sym_u64(L, vars[i], &base) && base >> 63) {
			snprintf(src, sizeof(src), "%s = 0x%" PRIx64 " in memory", vars[i], base);
		} else {
			base = defaults[i][la57];
			snprintf(src, sizeof(src), "mm.rst default (no %s symbol)", vars[i]);
		}
		add(out, base, base + sizes[i][la57], names[i], src);
	}
}

/** The x86-64 kernel half. */
static void regions64(const struct layout_src *L, uint64_t phys_end, const struct pt_dump *dump,
		      struct ptl_regions *out)
{
	const bool la57 = L->c->mode == PT_MODE_LA57;
	char buf[32], src[80];
	uint64_t image_size = UINT64_C(1) << 30;

	image_regions(L, out);
	if (L->c->has_direct_map) {
		add(out, L->c->direct_map, L->c->direct_map + phys_end, "direct map",
		    "page_offset_base in memory (kpgd finder)");
	}
	moving_regions(L, la57, out);
	add(out, CPU_ENTRY_AREA, CPU_ENTRY_AREA + P4D_SPAN, "cpu_entry_area", "x86-64 layout (mm.rst)");
	add(out, ESPFIX_BASE, ESPFIX_BASE + P4D_SPAN, "ESPFIX stacks", "x86-64 layout (mm.rst)");
	if (pt_dump_vmcoreinfo_get(dump, "NUMBER(KERNEL_IMAGE_SIZE)", buf, sizeof(buf)))
		image_size = strtoull(buf, NULL, 10);
	snprintf(src, sizeof(src), "__START_KERNEL_map + KERNEL_IMAGE_SIZE 0x%" PRIx64, image_size);
	add(out, START_KERNEL_MAP + image_size, MODULES_END, "modules", src);
	add(out, MODULES_END, VSYSCALL, "fixmap", "x86-64 layout (mm.rst)");
	add(out, VSYSCALL, VSYSCALL + 4096, "vsyscall", "x86-64 layout (mm.rst)");
}

/** i386: lowmem from PAGE_OFFSET, the image inside it. */
static void regions32(const struct layout_src *L, uint64_t phys_end, struct ptl_regions *out)
{
	const uint64_t page_offset = L->c->text_va - L->c->text_pa;
	uint64_t lowmem = phys_end < I386_LOWMEM_MAX ? phys_end : I386_LOWMEM_MAX;

	if (page_offset > UINT32_MAX)
		return;
	add(out, page_offset, page_offset + lowmem, "lowmem (direct map)", "PAGE_OFFSET = _text VA - PA");
	image_regions(L, out);
}

int ptl_regions_find(const struct ptl_session *s, const char *symbols_path, struct ptl_regions *out)
{
	struct pt_kpgd_inputs in;
	struct pt_kpgd_result res;
	struct pt_symtab *file_syms = NULL;
	struct pt_error err;
	struct layout_src L;

	memset(out, 0, sizeof(*out));
	if (symbols_path && pt_symtab_load(symbols_path, &file_syms, &err) != PT_OK) {
		ptl_error("%s", err.message);
		return PTL_EXIT_USAGE;
	}
	memset(&in, 0, sizeof(in));
	pt_kpgd_inputs_from_dump(&in, s->dump);
	in.symbols = file_syms;
	memset(&res, 0, sizeof(res));
	if (pt_kpgd_find(&in, &res, &err) != PT_OK || !res.found || !res.verified ||
	    !res.candidates[0].offsets_known) {
		snprintf(out->note, sizeof(out->note), "no region labels: no Linux kernel verified in "
			 "the dump%s", symbols_path ? "" : " (give --symbols System.map)");
		goto out;
	}
	memset(&L, 0, sizeof(L));
	L.c = &res.candidates[0];
	L.mem = s->mem;
	L.syms = file_syms ? file_syms : res.kallsyms_symtab;
	L.what = file_syms ? "symbols" : "kallsyms in memory";
	if (!L.syms || !pt_symtab_value(L.syms, "_text", &L.file_text))
		L.syms = NULL;
	if (L.c->mode == PT_MODE_IA32E || L.c->mode == PT_MODE_LA57)
		regions64(&L, pt_dump_phys_end(s->dump), s->dump, out);
	else
		regions32(&L, pt_dump_phys_end(s->dump), out);
	snprintf(out->note, sizeof(out->note), "regions from the kernel at kpgd 0x%" PRIx64 " (%s, "
		 "%s): _text at 0x%" PRIx64, L.c->kpgd, pt_kpgd_method_name(L.c->method),
		 file_syms ? symbols_path : "no symbol file", L.c->text_va);
out:
	pt_kpgd_result_deinit(&res);
	pt_symtab_destroy(file_syms);
	return PTL_EXIT_OK;
}
