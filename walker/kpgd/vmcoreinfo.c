/* SPDX-License-Identifier: MIT */
/*
 * VMCOREINFO: the key=value text Linux writes for kdump (kernel/crash_core.c's vmcoreinfo_data),
 * read from the dump's note (strategy 1: SYMBOL(init_top_pgt|swapper_pg_dir), NUMBER(phys_base),
 * KERNELOFFSET, NUMBER(pgtable_l5_enabled)) or found in memory next to the kernel's kallsyms
 * tables, where it names the table and the slide.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpgd_internal.h"

/** The names VMCOREINFO gives the top table, in the order they are looked up. */
static const char *const VMCI_KPGD_NAMES[] = { "init_top_pgt", "swapper_pg_dir", "init_level4_pgt" };
enum { NVMCI_KPGD_NAMES = 3 };

bool kpgd_vmci_lookup(const char *text, size_t len, const char *key, char *buf, size_t buflen)
{
	const char *p = text, *end = p + len;
	size_t klen = strlen(key);
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) > klen && p[klen] == '=' && memcmp(p, key, klen) == 0) {
			size_t vlen = (size_t)(le - p) - klen - 1;
			while (vlen && (p[klen + vlen] == '\r' || p[klen + vlen] == 0))
				vlen--;
			if (vlen >= buflen)
				return false;
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = 0;
			return true;
		}
		p = nl ? nl + 1 : end;
	}
	return false;
}

bool kpgd_parse_num(const char *s, int base, bool allow_neg, uint64_t *v)
{
	bool neg = false;
	if (allow_neg && *s == '-') {
		neg = true;
		s++;
	}
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return false;
	uint64_t x = 0;
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		x = x * (uint64_t)base + (uint64_t)d;
	}
	*v = neg ? (uint64_t)0 - x : x;
	return true;
}

/** A number under `key` in VMCOREINFO text. */
static bool vmci_num(const char *text, size_t len, const char *key, int base, bool allow_neg, uint64_t *v)
{
	char buf[128];
	return kpgd_vmci_lookup(text, len, key, buf, sizeof(buf)) && kpgd_parse_num(buf, base, allow_neg, v);
}

/** The table VMCOREINFO text names: SYMBOL(name)=VA, its name in *name_ret; false when none. */
static bool vmci_kpgd(const char *text, size_t len, const char **name_ret, uint64_t *va_ret)
{
	char key[48];
	for (size_t i = 0; text && i < NVMCI_KPGD_NAMES; i++) {
		snprintf(key, sizeof(key), "SYMBOL(%s)", VMCI_KPGD_NAMES[i]);
		if (vmci_num(text, len, key, 16, false, va_ret)) {
			*name_ret = VMCI_KPGD_NAMES[i];
			return true;
		}
	}
	return false;
}

bool kpgd_fact_vmci_kpgd(struct kpgd_work *w, const struct kpgd_finder *f, uint64_t kva)
{
	const char *name;
	uint64_t v;
	if (!vmci_kpgd(f->mvi, f->mvi_len, &name, &v))
		return false;
	w->ok_vmci = v == kva;
	w->vmci_said = true;
	kpgd_fact(w, w->ok_vmci, "Linux's VMCOREINFO text in memory (PA 0x%" PRIx64 ") says %s=0x%" PRIx64 "%s",
		  f->mvi_pa, name, v, w->ok_vmci ? ": this table" : ", not this table");
	return true;
}

/* ---- strategy 1: the dump's VMCOREINFO note ------------------------------------------------------ */

/** What the dump's VMCOREINFO says. */
struct vmci {
	const char *kname;
	uint64_t kpgd_va, phys_base, koff, stext, l5;
	bool has_pb, has_koff, has_stext, has_l5, pae, is64;
	char osrel[80];
};

static bool read_vmci(struct kpgd_finder *f, struct vmci *v)
{
	const char *text = f->in->vmcoreinfo;
	const size_t len = f->in->vmcoreinfo_len;
	char buf[128];
	memset(v, 0, sizeof(*v));
	if (!vmci_kpgd(text, len, &v->kname, &v->kpgd_va)) {
		kpgd_log(f, "vmcoreinfo: no SYMBOL(init_top_pgt) or SYMBOL(swapper_pg_dir)");
		return false;
	}
	v->has_pb = vmci_num(text, len, "NUMBER(phys_base)", 10, true, &v->phys_base);
	v->has_koff = vmci_num(text, len, "KERNELOFFSET", 16, false, &v->koff);
	v->has_stext = vmci_num(text, len, "SYMBOL(_stext)", 16, false, &v->stext);
	v->has_l5 = vmci_num(text, len, "NUMBER(pgtable_l5_enabled)", 10, false, &v->l5);
	v->pae = kpgd_vmci_lookup(text, len, "CONFIG_X86_PAE", buf, sizeof(buf)) && strcmp(buf, "y") == 0;
	kpgd_vmci_lookup(text, len, "OSRELEASE", v->osrel, sizeof(v->osrel));
	v->is64 = v->kpgd_va > UINT32_MAX;
	return true;
}

/** The modes VMCOREINFO allows: the one pgtable_l5_enabled names, PAE's or legacy's first. */
static size_t vmci_modes(const struct kpgd_finder *f, const struct vmci *v, enum pt_mode *modes)
{
	if (v->is64 && v->has_l5) {
		modes[0] = v->l5 ? PT_MODE_LA57 : PT_MODE_IA32E;
		return 1;
	}
	if (!v->is64) {
		modes[0] = v->pae ? PT_MODE_PAE : PT_MODE_LEGACY;
		modes[1] = v->pae ? PT_MODE_LEGACY : PT_MODE_PAE;
		return 2;
	}
	return kpgd_modes_for(f, true, modes);
}

/**
 * Try the table VMCOREINFO names with the boundary L->map_base: 1 verified, 0 not, -1 when
 * VMCOREINFO lacks what the layout needs.
 */
static int vmci_try(struct kpgd_finder *f, const struct vmci *v, struct kpgd_layout *L)
{
	uint64_t text_va, ftext, fbanner;
	if (v->has_stext)
		text_va = v->stext;
	else if (v->has_koff)
		text_va = L->map_base + DEFAULT_PHYSICAL_START + v->koff;
	else
		text_va = L->map_base + DEFAULT_PHYSICAL_START;
	L->file_text = text_va;
	L->text_link = v->has_koff ? text_va - v->koff : L->map_base + DEFAULT_PHYSICAL_START;
	L->link_assumed = !v->has_koff && !v->is64;
	uint64_t text_pa, kpgd;
	if (v->is64) {
		if (!v->has_pb) {
			kpgd_log(f, "vmcoreinfo: SYMBOL(%s) but no NUMBER(phys_base)", v->kname);
			return -1;
		}
		text_pa = text_va - START_KERNEL_MAP + v->phys_base;
		kpgd = v->kpgd_va - START_KERNEL_MAP + v->phys_base;
	} else {
		text_pa = text_va - L->map_base;
		kpgd = v->kpgd_va - L->map_base;
	}
	/* A symbol file adds linux_banner, converted to run-time with KERNELOFFSET. */
	const struct pt_symtab *fs = f->in->symbols;
	L->has_banner = false;
	if (fs && pt_symtab_value(fs, "linux_banner", &fbanner) &&
	    (pt_symtab_value(fs, "_text", &ftext) || pt_symtab_value(fs, "startup_64", &ftext) ||
	     pt_symtab_value(fs, "startup_32", &ftext))) {
		L->has_banner = true;
		L->banner_sym = text_va + (fbanner - ftext);
	}
	L->image_span = v->kpgd_va > text_va && v->kpgd_va - text_va < KERNEL_WINDOW ? v->kpgd_va - text_va : 0;
	enum pt_mode modes[2];
	const size_t nm = vmci_modes(f, v, modes);
	for (size_t m = 0; m < nm; m++) {
		struct kpgd_work w;
		bool have = false;
		kpgd_try_hypothesis(f, L, PT_KPGD_VMCOREINFO, modes[m], kpgd, text_va, text_pa, &w, &have);
		if (!have)
			continue;
		if (v->is64)
			kpgd_fact(&w, true, "VMCOREINFO: %s=0x%" PRIx64 " phys_base=0x%" PRIx64 "%s", v->kname,
				  v->kpgd_va, v->phys_base,
				  v->has_l5 ? (v->l5 ? " pgtable_l5_enabled=1" : " pgtable_l5_enabled=0") : "");
		kpgd_keep(f, &w);
		kpgd_log(f, "vmcoreinfo: %s 0x%" PRIx64 " -> kpgd 0x%" PRIx64 " (%s): %s", v->kname, v->kpgd_va, kpgd,
			 pt_mode_name(modes[m]), w.c.verified ? "verified" : kpgd_first_failure(&w));
		if (w.c.verified)
			return 1;
	}
	return 0;
}

void kpgd_strategy_vmcoreinfo(struct kpgd_finder *f)
{
	if (!f->in->vmcoreinfo) {
		kpgd_log(f, "vmcoreinfo: the dump has no VMCOREINFO note");
		return;
	}
	struct vmci v;
	if (!read_vmci(f, &v))
		return;
	struct pt_symtab *vs = pt_symtab_create();
	if (!vs) {
		f->oom = true;
		return;
	}
	pt_symtab_add(vs, v.kname, v.kpgd_va, 'D');
	struct kpgd_layout L = {
		.is64 = v.is64, .source = "VMCOREINFO", .syms = vs, .kpgd_name = v.kname, .has_kpgd = true,
		.kpgd_sym = v.kpgd_va, .osrelease = v.osrel[0] ? v.osrel : NULL,
	};
	/* The boundary: __START_KERNEL_map, or each PAGE_OFFSET below the table on i386. */
	uint64_t bases[NPAGE_OFFSETS32];
	size_t nb = 0;
	if (v.is64) {
		bases[nb++] = START_KERNEL_MAP;
	} else {
		for (size_t i = 0; i < NPAGE_OFFSETS32; i++)
			if (v.kpgd_va >= PAGE_OFFSETS32[i])
				bases[nb++] = PAGE_OFFSETS32[i];
	}
	for (size_t i = 0; i < nb; i++) {
		L.map_base = bases[i];
		if (vmci_try(f, &v, &L) != 0)
			break;
	}
	pt_symtab_destroy(vs);
}

/* ---- Linux's VMCOREINFO text in memory ----------------------------------------------------------- */

/*
 * Linux's VMCOREINFO text in memory: vmcoreinfo_data is a zeroed page of its own whose text
 * starts with "OSRELEASE=" (crash_save_vmcoreinfo_init writes that line first, at boot, with
 * the SYMBOL() lines and on x86-64 KERNELOFFSET). Only a copy whose SYMBOL(_stext) is the
 * recovered table's _stext is believed (a stale page of another kernel is not).
 */
/** What the search for Linux's VMCOREINFO page knows. */
struct vmci_search {
	bool has_stext;
	uint64_t stext;  /**< the recovered table's _stext */
	unsigned pages;  /**< pages that start with OSRELEASE= */
};

/** kpgd_scan_nonzero's look: the pages of the window that start with OSRELEASE=. */
static bool vmci_window(struct kpgd_finder *f, void *arg, const uint8_t *p, uint64_t pa, uint64_t len,
			const struct pt_dump_range *r)
{
	static const char KEY[] = "OSRELEASE=";
	struct vmci_search *vs = arg;
	for (uint64_t at = kpgd_page_up(pa); at < pa + len && at + sizeof(KEY) <= r->pa + r->size; at += PT_PAGE_4K) {
		const char *t = (const char *)p + (at - pa);
		if (memcmp(t, KEY, sizeof(KEY) - 1) != 0)
			continue;
		vs->pages++;
		uint64_t avail = r->pa + r->size - at;
		size_t tlen = strnlen(t, (size_t)(avail < PT_PAGE_4K ? avail : PT_PAGE_4K));
		char buf[64];
		uint64_t v;
		if (!vs->has_stext || !kpgd_vmci_lookup(t, tlen, "SYMBOL(_stext)", buf, sizeof(buf)) ||
		    !kpgd_parse_num(buf, 16, false, &v) || v != vs->stext)
			continue;
		f->mvi = t;
		f->mvi_len = tlen;
		f->mvi_pa = at;
		f->koff_known = kpgd_vmci_lookup(t, tlen, "KERNELOFFSET", buf, sizeof(buf)) &&
				kpgd_parse_num(buf, 16, false, &f->koff);
		return false;
	}
	return true;
}

void kpgd_find_vmcoreinfo_in_memory(struct kpgd_finder *f, const struct pt_symtab *rec)
{
	struct vmci_search vs = { 0 };
	vs.has_stext = pt_symtab_value(rec, "_stext", &vs.stext);
	/* the page starts with "O": only the pages with a nonzero byte are searched */
	kpgd_scan_nonzero(f, vmci_window, &vs);
	const unsigned pages = vs.pages;
	f->res->vmcoreinfo_in_memory = f->mvi != NULL;
	f->res->vmcoreinfo_pa = f->mvi_pa;
	if (f->mvi) {
		char koff[48] = "no KERNELOFFSET";
		if (f->koff_known)
			snprintf(koff, sizeof(koff), "KERNELOFFSET=0x%" PRIx64, f->koff);
		kpgd_log(f, "vmcoreinfo in memory: Linux's VMCOREINFO text at PA 0x%" PRIx64 " (SYMBOL(_stext) "
			 "agrees with the kallsyms tables): %s", f->mvi_pa, koff);
	} else if (pages) {
		kpgd_log(f, "vmcoreinfo in memory: %u page(s) start with OSRELEASE=, none agrees with the kallsyms "
			 "tables' _stext: not used", pages);
	} else {
		kpgd_log(f, "vmcoreinfo in memory: no page starts with OSRELEASE=");
	}
}
