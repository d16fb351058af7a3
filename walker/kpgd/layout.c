/* SPDX-License-Identifier: MIT */
/*
 * What a symbol source says about the kernel's layout (struct kpgd_layout): _text as the source
 * gives it and at link time, the boundary (__START_KERNEL_map, or PAGE_OFFSET on i386), the
 * table's and the banner's symbols; the paging modes to try; and the KASLR offsets a verified
 * hypothesis implies (design.md: virt_offset = run-time _text - link-time _text, phys_offset =
 * run-time PA of _text - its link-time PA).
 */
#include <inttypes.h>

#include "kpgd_internal.h"

bool kpgd_source_text(const struct pt_symtab *syms, uint64_t *v)
{
	return pt_symtab_value(syms, "_text", v) || pt_symtab_value(syms, "startup_64", v) ||
	       pt_symtab_value(syms, "startup_32", v) || pt_symtab_value(syms, "_stext", v);
}

/** The layout of an x86-64 source: the boundary from the symbols, else __START_KERNEL_map. */
static size_t layout64(const struct pt_symtab *syms, struct kpgd_layout base, struct kpgd_layout *out)
{
	uint64_t startup = base.file_text, phys, v;
	pt_symtab_value(syms, "startup_64", &startup);
	base.map_base = START_KERNEL_MAP;
	base.text_link = base.file_text;
	if (pt_symtab_value(syms, "phys_startup_64", &phys)) {
		/* LibVMI's boundary: startup_64 - phys_startup_64 (always __START_KERNEL_map in
		 * Linux; a map that says otherwise is believed and checked like any other). */
		base.map_base = startup - phys;
	} else if (pt_symtab_value(syms, "__START_KERNEL_map", &v)) {
		base.map_base = v;
	} else if (base.file_text > START_KERNEL_MAP + DEFAULT_PHYSICAL_START) {
		/* kallsyms without absolute symbols, above the default link address: a run-time
		 * /proc/kallsyms of a KASLR kernel (or a kernel linked higher): the link-time
		 * _text is taken as the default. */
		base.text_link = START_KERNEL_MAP + DEFAULT_PHYSICAL_START;
		base.link_assumed = true;
	}
	out[0] = base;
	return 1;
}

/** The layouts of an i386 source: the boundary from the symbols, else one per PAGE_OFFSET. */
static size_t layouts32(const struct pt_symtab *syms, const struct kpgd_layout *base, struct kpgd_layout *out,
			size_t max)
{
	uint64_t startup = base->file_text, phys;
	pt_symtab_value(syms, "startup_32", &startup);
	size_t n = 0;
	if (pt_symtab_value(syms, "phys_startup_32", &phys) && startup > phys) {
		out[n] = *base;
		out[n].map_base = startup - phys;
		out[n].text_link = base->file_text;
		return 1;
	}
	for (size_t i = 0; i < NPAGE_OFFSETS32 && n < max; i++) {
		uint64_t po = PAGE_OFFSETS32[i];
		if (base->file_text < po)
			continue;
		out[n] = *base;
		out[n].map_base = po;
		out[n].text_link = base->file_text;
		if (base->file_text > po + DEFAULT_PHYSICAL_START) {
			out[n].text_link = po + DEFAULT_PHYSICAL_START;
			out[n].link_assumed = true;
		}
		n++;
	}
	return n;
}

size_t kpgd_layouts_from_syms(struct kpgd_finder *f, const struct pt_symtab *syms, struct kpgd_layout *out,
			      size_t max)
{
	const char *source = pt_symtab_format_name(pt_symtab_format(syms));
	struct kpgd_layout base = { .syms = syms, .source = source };
	if (!kpgd_source_text(syms, &base.file_text)) {
		kpgd_log(f, "symbols: %s has no _text, startup_64, startup_32 or _stext", pt_symtab_path(syms));
		return 0;
	}
	/* startup_64 / startup_32 decide; the ELF class does not (an i386 vmlinux may be linked
	 * as ELF64, ours is). */
	bool is64;
	if (pt_symtab_lookup(syms, "startup_64"))
		is64 = true;
	else if (pt_symtab_lookup(syms, "startup_32"))
		is64 = base.file_text > UINT32_MAX;
	else
		is64 = base.file_text > UINT32_MAX || pt_symtab_elf_class(syms) == 64;
	base.is64 = is64;
	/* x86-64: init_top_pgt (init_level4_pgt before 4.13, swapper_pg_dir); i386: swapper_pg_dir */
	static const char *const names64[] = { "init_top_pgt", "init_level4_pgt", "swapper_pg_dir" };
	static const char *const names32[] = { "swapper_pg_dir" };
	const char *const *names = is64 ? names64 : names32;
	size_t nnames = is64 ? 3 : 1;
	for (size_t i = 0; i < nnames; i++) {
		if (pt_symtab_value(syms, names[i], &base.kpgd_sym)) {
			base.kpgd_name = names[i];
			base.has_kpgd = true;
			break;
		}
	}
	if (!base.has_kpgd)
		base.kpgd_name = names[0];
	base.has_banner = pt_symtab_value(syms, "linux_banner", &base.banner_sym);
	uint64_t far = 0;
	if (base.has_banner && base.banner_sym > base.file_text)
		far = base.banner_sym - base.file_text;
	if (base.has_kpgd && base.kpgd_sym > base.file_text && base.kpgd_sym - base.file_text > far)
		far = base.kpgd_sym - base.file_text;
	base.image_span = far < KERNEL_WINDOW ? far : 0;
	return is64 ? layout64(syms, base, out) : layouts32(syms, &base, out, max);
}

size_t kpgd_modes_for(const struct kpgd_finder *f, bool is64, enum pt_mode *modes)
{
	if (is64) {
		bool la57_first = f->cpu_mode == PT_MODE_LA57;
		modes[0] = la57_first ? PT_MODE_LA57 : PT_MODE_IA32E;
		modes[1] = la57_first ? PT_MODE_IA32E : PT_MODE_LA57;
	} else {
		bool pae_first = f->cpu_mode == PT_MODE_PAE;
		modes[0] = pae_first ? PT_MODE_PAE : PT_MODE_LEGACY;
		modes[1] = pae_first ? PT_MODE_LEGACY : PT_MODE_PAE;
	}
	return 2;
}

void kpgd_set_offsets(struct kpgd_work *w, const struct kpgd_finder *f, const struct kpgd_layout *L,
		      uint64_t text_va, uint64_t text_pa)
{
	w->c.text_va = text_va;
	w->c.text_pa = text_pa;
	w->c.offsets_known = true;
	w->c.link_assumed = L->link_assumed;
	w->c.virt_offset = text_va - L->text_link;
	w->c.phys_offset = text_pa - (L->text_link - L->map_base);
	/* __pa(x) = x - __START_KERNEL_map + phys_base for the kernel image (x86-64) */
	w->c.phys_base = L->is64 ? text_pa - (text_va - START_KERNEL_MAP) : 0;
	if (L->link_assumed)
		kpgd_fact(w, true, "link-time _text taken as 0x%" PRIx64 " (CONFIG_PHYSICAL_START 16 MiB): the %s "
			  "gives no absolute symbol%s", L->text_link, L->source,
			  L->ks ? " and memory holds no KERNELOFFSET" : "");
	else if (L->ks && L->is64 && f->koff_known)
		kpgd_fact(w, true, "link-time _text 0x%" PRIx64 " = run-time _text - KERNELOFFSET 0x%" PRIx64
			  " (Linux's VMCOREINFO text in memory)", L->text_link, f->koff);
}
