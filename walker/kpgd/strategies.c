/* SPDX-License-Identifier: MIT */
/*
 * The strategies with symbols that need no scan of the page tables (kpgd.h): 2 symbol-direct
 * (kpgd = the table's symbol - the boundary), 3 KASLR (linux_banner located physically at an
 * address congruent to its link address, the slide found by walking the window), and 4 the
 * early-boot identity map in CR3 (the decompressor stage).
 */
#include <inttypes.h>
#include <string.h>

#include "kpgd_internal.h"

/* ---- strategy 2: symbol-direct ------------------------------------------------------------------- */

void kpgd_strategy_symbols(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl)
{
	for (size_t li = 0; li < nl; li++) {
		const struct kpgd_layout *L = &Ls[li];
		if (!L->has_kpgd) {
			kpgd_log(f, "symbols: no init_top_pgt, init_level4_pgt or swapper_pg_dir in the %s", L->source);
			return;
		}
		const uint64_t kpgd = L->kpgd_sym - L->map_base;
		const uint64_t text_va = L->file_text;
		const uint64_t text_pa = L->file_text - L->map_base;
		enum pt_mode modes[2];
		size_t nm = kpgd_modes_for(f, L->is64, modes);
		for (size_t m = 0; m < nm; m++) {
			struct kpgd_work w;
			bool have = false;
			kpgd_try_hypothesis(f, L, PT_KPGD_SYMBOLS, modes[m], kpgd, text_va, text_pa, &w, &have);
			if (!have) {
				kpgd_log(f, "symbols: %s 0x%" PRIx64 " - 0x%" PRIx64 " = 0x%" PRIx64 " (%s): not a table "
					 "in the dump", L->kpgd_name, L->kpgd_sym, L->map_base, kpgd, pt_mode_name(modes[m]));
				continue;
			}
			kpgd_log(f, "symbols: %s 0x%" PRIx64 " - 0x%" PRIx64 " = 0x%" PRIx64 " (%s): %s", L->kpgd_name,
				 L->kpgd_sym, L->map_base, kpgd, pt_mode_name(modes[m]),
				 w.c.verified ? "verified" : kpgd_first_failure(&w));
			if (w.c.verified) {
				kpgd_fact(&w, true, "boundary 0x%" PRIx64 " = %s", L->map_base,
					  pt_symtab_lookup(L->syms, "phys_startup_64") ? "startup_64 - phys_startup_64"
					  : L->is64 ? "__START_KERNEL_map" : "PAGE_OFFSET");
				kpgd_keep(f, &w);
				return;
			}
		}
	}
}

/* ---- strategy 3: KASLR (banner located physically) ------------------------------------------------- */

/** The search over one layout: the best hypothesis, and how many verified ones tie with it. */
struct kaslr_search {
	struct kpgd_work best;
	bool have_best;
	unsigned nverified_top;
	size_t hits, tried;
};

/** Keep the best verified hypothesis; count the verified ones that tie with it on score. */
static void consider(struct kpgd_finder *f, const struct kpgd_layout *L, enum pt_mode mode, uint64_t kpgd,
		     uint64_t text_va, uint64_t text_pa, struct kaslr_search *s)
{
	struct kpgd_work w;
	bool have = false;
	s->tried++;
	kpgd_try_hypothesis(f, L, PT_KPGD_KASLR, mode, kpgd, text_va, text_pa, &w, &have);
	if (!have)
		return;
	if (kpgd_beats(&w, &s->best, s->have_best)) {
		kpgd_take(&s->best, &w);
		s->have_best = true;
		s->nverified_top = w.c.verified ? 1 : 0;
	} else if (w.c.verified && s->best.c.verified && w.c.score == s->best.c.score &&
		   w.c.text_va != s->best.c.text_va) {
		s->nverified_top++;
	}
}

/** The hypotheses of a banner at PA b: the table at the same image offset, in each mode, with
 *  every slide that maps _text there (i386: virtual and physical move together). */
static void kaslr_banner(struct kpgd_finder *f, const struct kpgd_layout *L, uint64_t b, struct kaslr_search *s)
{
	const uint64_t link_pa = L->text_link - L->map_base;
	const uint64_t text_pa = b - (L->banner_sym - L->file_text);
	const uint64_t kpgd = text_pa + (L->kpgd_sym - L->file_text);
	enum pt_mode modes[2];
	size_t nm = kpgd_modes_for(f, L->is64, modes);
	for (size_t m = 0; m < nm; m++) {
		struct pt_context ctx;
		if (!kpgd_make_ctx(f, modes[m], kpgd, &ctx))
			continue;
		if (!L->is64) {
			consider(f, L, modes[m], kpgd, L->text_link + (text_pa - link_pa), text_pa, s);
			continue;
		}
		/* x86-64: the slide by walking the window for VAs that map text_pa */
		for (uint64_t off = 0; off < KERNEL_WINDOW; off += PMD_SIZE) {
			uint64_t va = L->map_base + off + (L->text_link & (PMD_SIZE - 1));
			uint64_t pa;
			if (!kpgd_walk_pa(f, &ctx, va, &pa, NULL, 0) || pa != text_pa)
				continue;
			consider(f, L, modes[m], kpgd, va, text_pa, s);
		}
	}
}

/** KASLR over one layout; true when it verified (the search stops). */
static bool kaslr_layout(struct kpgd_finder *f, const struct kpgd_layout *L)
{
	const uint64_t align = L->is64 ? ALIGN64 : ALIGN32;
	const uint64_t banner_off = L->banner_sym - L->file_text;
	const uint64_t link_pa = L->text_link - L->map_base;
	const uint64_t want = (link_pa + banner_off) % align; /* banner PA mod align */
	struct kaslr_search s;
	memset(&s, 0, sizeof(s));
	for (size_t ri = 0; ri < f->in->nranges && s.hits < MAX_BANNER_HITS; ri++) {
		const struct pt_dump_range *r = &f->in->ranges[ri];
		uint64_t b = r->pa - r->pa % align + want;
		if (b < r->pa)
			b += align;
		for (; b + BANNER_LEN <= r->pa + r->size && s.hits < MAX_BANNER_HITS; b += align) {
			if (!kpgd_banner_at(f, b) || b < banner_off)
				continue;
			s.hits++;
			kaslr_banner(f, L, b, &s);
		}
	}
	if (!s.have_best || !s.best.c.verified) {
		kpgd_log(f, "kaslr: %zu banner(s) at addresses congruent to 0x%" PRIx64 " mod 0x%" PRIx64
			 ", %zu hypotheses: none verified%s%s", s.hits, want, align, s.tried,
			 s.have_best ? ": " : "", s.have_best ? kpgd_first_failure(&s.best) : "");
		return false;
	}
	if (s.nverified_top > 1) {
		s.best.c.verified = false;
		kpgd_fact(&s.best, false, "%u slides verify equally well: ambiguous", s.nverified_top);
	}
	kpgd_fact(&s.best, true, "linux_banner found at PA 0x%" PRIx64 " (congruent to its link address "
		  "modulo 0x%" PRIx64 "): phys_offset 0x%" PRIx64, s.best.c.text_pa + banner_off, align,
		  s.best.c.phys_offset);
	kpgd_keep(f, &s.best);
	kpgd_log(f, "kaslr: %zu banner(s) at congruent addresses, %zu hypotheses: kpgd 0x%" PRIx64
		 " virt_offset 0x%" PRIx64 " phys_offset 0x%" PRIx64 ": %s", s.hits, s.tried, s.best.c.kpgd,
		 s.best.c.virt_offset, s.best.c.phys_offset, s.best.c.verified ? "verified" : "ambiguous");
	return s.best.c.verified;
}

void kpgd_strategy_kaslr(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl)
{
	for (size_t li = 0; li < nl; li++) {
		const struct kpgd_layout *L = &Ls[li];
		if (!L->has_kpgd || !L->has_banner) {
			kpgd_log(f, "kaslr: needs linux_banner and %s in the %s", L->kpgd_name, L->source);
			return;
		}
		const uint64_t banner_off = L->banner_sym - L->file_text;
		if (banner_off > KERNEL_WINDOW) {
			kpgd_log(f, "kaslr: linux_banner is not inside the kernel image (0x%" PRIx64 " from _text)",
				 banner_off);
			return;
		}
		if (kaslr_layout(f, L))
			return;
	}
}

/* ---- strategy 4: the early-boot identity map in CR3 ---------------------------------------------- */

/**
 * The kernel image in an identity map: a banner the table maps 1:1, at a PA congruent to the
 * banner's link address when the symbols give it (then *text_pa_ret is _text's PA).
 */
static bool identity_banner(struct kpgd_finder *f, const struct pt_context *ctx, const struct kpgd_layout *L,
			    uint64_t *banner_pa_ret, uint64_t *text_pa_ret)
{
	const bool congruent = L && L->has_banner;
	const uint64_t banner_off = congruent ? L->banner_sym - L->file_text : 0;
	const uint64_t link_pa = congruent ? L->text_link - L->map_base : 0;
	const uint64_t align = L && L->is64 ? ALIGN64 : ALIGN32;
	uint64_t pa;
	kpgd_scan_banners(f);
	for (size_t i = 0; i < f->nbanners; i++) {
		uint64_t b = f->banners[i];
		if (congruent && (b < banner_off || (b - banner_off) % align != link_pa % align))
			continue;
		if (kpgd_walk_pa(f, ctx, b, &pa, NULL, 0) && pa == b) {
			*banner_pa_ret = b;
			*text_pa_ret = congruent ? b - banner_off : 0;
			return true;
		}
	}
	return false;
}

/** With symbols: _text's PA mapped 1:1, its VA not mapped yet, the kernel's table still empty. */
static bool identity_with_symbols(const struct kpgd_finder *f, const struct pt_context *ctx,
				  const struct kpgd_layout *L, uint64_t text_pa, struct kpgd_work *w)
{
	char why[160];
	uint64_t pa;
	const bool text_ok = kpgd_walk_pa(f, ctx, text_pa, &pa, NULL, 0) && pa == text_pa;
	kpgd_fact(w, text_ok, "_text's PA 0x%" PRIx64 " is identity-mapped", text_pa);
	const bool unmapped = !kpgd_walk_pa(f, ctx, L->file_text, &pa, why, sizeof(why));
	kpgd_fact(w, unmapped, "_text's virtual address 0x%" PRIx64 " %s", L->file_text,
		  unmapped ? why : "is mapped: not an early-boot table");
	if (L->has_kpgd) {
		const uint64_t kpa = text_pa + (L->kpgd_sym - L->file_text);
		const uint8_t *k = kpgd_bytes(f, kpa, PT_PAGE_4K);
		bool empty = true;
		for (size_t i = 0; k && i < PT_PAGE_4K && empty; i++)
			empty = k[i] == 0;
		kpgd_fact(w, true, "%s at 0x%" PRIx64 " is %s", L->kpgd_name, kpa,
			  !k ? "not in the dump" : empty ? "still empty: the kernel has not started" : "not empty");
	}
	w->c.offsets_known = true;
	w->c.text_pa = text_pa;
	w->c.text_va = text_pa;
	w->c.virt_offset = 0;
	w->c.phys_offset = text_pa - (L->text_link - L->map_base);
	w->c.link_assumed = L->link_assumed;
	kpgd_fact(w, true, "the kernel is not mapped at its virtual address yet (decompressor stage): "
		  "virt_offset 0");
	return text_ok && unmapped;
}

void kpgd_strategy_identity(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl)
{
	if (!f->in->has_cpu || f->cpu_mode == PT_MODE_OFF) {
		kpgd_log(f, "identity: no CPU state with paging on");
		return;
	}
	struct pt_context ctx;
	struct pt_cpu_state cpu = f->in->cpu;
	if (kpgd_load_context(f, &cpu, &ctx, NULL) != PT_OK) {
		kpgd_log(f, "identity: the CPU state's table cannot be loaded");
		return;
	}
	const uint64_t root = ctx.root;
	uint64_t pa;
	/* The table must map itself 1:1 (the code that set it up runs identity-mapped). */
	if (!kpgd_walk_pa(f, &ctx, root, &pa, NULL, 0) || pa != root) {
		kpgd_log(f, "identity: CR3's table 0x%" PRIx64 " does not identity-map itself", root);
		return;
	}
	/* The kernel image: from the symbols (banner at a congruent PA), else any banner. */
	const struct kpgd_layout *L = nl ? &Ls[0] : NULL;
	uint64_t text_pa = 0, banner_pa = 0;
	if (!identity_banner(f, &ctx, L, &banner_pa, &text_pa)) {
		kpgd_log(f, "identity: CR3's table 0x%" PRIx64 " maps no kernel banner 1:1", root);
		return;
	}
	struct kpgd_work w;
	kpgd_work_init(&w, PT_KPGD_IDENTITY, ctx.mode, root);
	kpgd_fact_table_shape(&w, f, &ctx);
	kpgd_fact(&w, true, "the table maps its own address 0x%" PRIx64 " to itself (identity)", root);
	char text[96];
	kpgd_printable(f, banner_pa, text, sizeof(text), 60);
	kpgd_fact(&w, true, "the banner at 0x%" PRIx64 " is identity-mapped: \"%s\"", banner_pa, text);
	if (L) {
		w.c.verified = identity_with_symbols(f, &ctx, L, text_pa, &w);
	} else {
		/* no symbols: nothing at the kernel's usual address */
		uint64_t probe = ctx.desc->va_bits == 32 ? PAGE_OFFSETS32[0] : START_KERNEL_MAP + DEFAULT_PHYSICAL_START;
		const bool unmapped = !kpgd_walk_pa(f, &ctx, probe, &pa, NULL, 0);
		kpgd_fact(&w, unmapped, "0x%" PRIx64 " (the kernel's usual address) is %s", probe,
			  unmapped ? "not mapped" : "mapped");
		w.c.text_pa = banner_pa;
		w.c.text_va = banner_pa;
		w.c.verified = unmapped;
	}
	w.c.score = 5000;
	kpgd_keep(f, &w);
	kpgd_log(f, "identity: CR3's table 0x%" PRIx64 " identity-maps the kernel image: %s", root,
		 w.c.verified ? "verified" : kpgd_first_failure(&w));
}
