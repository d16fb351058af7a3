/* SPDX-License-Identifier: MIT */
/*
 * Verification of a hypothesis (table, mode, run-time VA and PA of _text) against a symbol
 * source: every check walks the candidate table with the shared walker and reads the bytes the
 * walk lands on; nothing is believed before the independent facts agree (kpgd.h).
 */
#include <inttypes.h>
#include <string.h>

#include "kpgd_internal.h"
#include "ptlab/le.h"

/** How far past _text's PA the banner is looked for by content (no banner symbol). */
static const uint64_t BANNER_SPAN = UINT64_C(64) << 20;
/** 2 MiB steps of the image checked at most (1 GiB, the kernel window). */
static const unsigned MAX_LINEAR_STEPS = 512;
/** i386 lowmem: what the kernel maps linearly above PAGE_OFFSET (at most 896 MiB). */
static const uint64_t LOWMEM32 = UINT64_C(896) << 20;

/** Run-time VA of a symbol under a hypothesis. */
static uint64_t sym_va(const struct kpgd_layout *L, uint64_t text_va, uint64_t value)
{
	return text_va + (value - L->file_text);
}

/** 1. _text -> its physical address (and, with the vmlinux, the text bytes there). */
static void check_text(const struct kpgd_finder *f, const struct kpgd_layout *L, const struct pt_context *ctx,
		       uint64_t text_va, uint64_t text_pa, struct kpgd_work *w)
{
	char why[160];
	uint64_t pa = 0;
	w->ok_text = kpgd_walk_pa(f, ctx, text_va, &pa, why, sizeof(why)) && pa == text_pa;
	if (w->ok_text) {
		/* With the vmlinux: the first bytes there are startup's code (RIP-relative, not
		 * relocated), a fact independent of the walk. */
		const uint8_t *img = pt_symtab_bytes(L->syms, L->file_text, 16);
		const uint8_t *dmp = kpgd_bytes(f, text_pa, 16);
		if (img && dmp)
			kpgd_fact(w, memcmp(img, dmp, 16) == 0, "_text 0x%" PRIx64 " -> 0x%" PRIx64 ", which %s",
				  text_va, pa, memcmp(img, dmp, 16) == 0 ? "holds the vmlinux's kernel text"
				  : "does not hold the vmlinux's first 16 bytes of text");
		else
			kpgd_fact(w, true, "_text 0x%" PRIx64 " -> 0x%" PRIx64 " (the kernel's load address)", text_va, pa);
	} else if (why[0]) {
		kpgd_fact(w, false, "_text 0x%" PRIx64 " %s", text_va, why);
	} else {
		kpgd_fact(w, false, "_text 0x%" PRIx64 " -> 0x%" PRIx64 ", not 0x%" PRIx64, text_va, pa, text_pa);
	}
}

/** 2. linux_banner -> the banner bytes, at the same image offset as in the symbols. */
static void check_banner_symbol(const struct kpgd_finder *f, const struct kpgd_layout *L,
				const struct pt_context *ctx, uint64_t text_va, uint64_t text_pa,
				struct kpgd_work *w)
{
	char why[160], text[96];
	uint64_t pa = 0;
	const uint64_t bva = sym_va(L, text_va, L->banner_sym);
	const uint64_t bpa = text_pa + (L->banner_sym - L->file_text);
	const bool mapped = kpgd_walk_pa(f, ctx, bva, &pa, why, sizeof(why));
	w->ok_banner = mapped && pa == bpa && kpgd_banner_at(f, pa);
	if (w->ok_banner) {
		kpgd_printable(f, pa, text, sizeof(text), 72);
		kpgd_fact(w, true, "linux_banner 0x%" PRIx64 " -> 0x%" PRIx64 " holds \"%s\"", bva, pa, text);
		/* With the vmlinux: the bytes are the image's. */
		const uint8_t *img = pt_symtab_bytes(L->syms, L->banner_sym, BANNER_LEN + 16);
		const uint8_t *dmp = kpgd_bytes(f, pa, BANNER_LEN + 16);
		if (img && dmp)
			kpgd_fact(w, memcmp(img, dmp, BANNER_LEN + 16) == 0, "the banner bytes %s the vmlinux's",
				  memcmp(img, dmp, BANNER_LEN + 16) == 0 ? "equal" : "differ from");
	} else if (!mapped) {
		kpgd_fact(w, false, "linux_banner 0x%" PRIx64 " %s", bva, why);
	} else if (pa != bpa) {
		kpgd_fact(w, false, "linux_banner 0x%" PRIx64 " -> 0x%" PRIx64 ", not 0x%" PRIx64
			  " (_text + its image offset)", bva, pa, bpa);
	} else {
		kpgd_fact(w, false, "linux_banner 0x%" PRIx64 " -> 0x%" PRIx64 ": no \"Linux version\" there",
			  bva, pa);
	}
}

/** 2'. No banner symbol: the banner found by content in the image, mapped where it lies. */
static void check_banner_content(struct kpgd_finder *f, const struct kpgd_layout *L,
				 const struct pt_context *ctx, uint64_t text_va, uint64_t text_pa,
				 struct kpgd_work *w)
{
	uint64_t hit, pa = 0;
	if (!kpgd_find_banner_near(f, text_pa, BANNER_SPAN, L->osrelease, &hit)) {
		kpgd_fact(w, false, "no \"%s%s\" within 64 MiB of _text's PA 0x%" PRIx64, BANNER,
			  L->osrelease ? L->osrelease : "", text_pa);
		return;
	}
	const uint64_t bva = text_va + (hit - text_pa);
	w->ok_banner = kpgd_walk_pa(f, ctx, bva, &pa, NULL, 0) && pa == hit;
	kpgd_fact(w, w->ok_banner, "the banner at 0x%" PRIx64 " (found by content) is mapped at "
		  "0x%" PRIx64 " (_text + 0x%" PRIx64 ")%s", hit, bva, hit - text_pa, w->ok_banner ? "" : ": no");
}

/** 3. The table maps its own symbol address to itself. */
static void check_self(const struct kpgd_finder *f, const struct kpgd_layout *L, const struct pt_context *ctx,
		       uint64_t text_va, struct kpgd_work *w)
{
	char why[160];
	uint64_t pa = 0;
	const uint64_t kva = sym_va(L, text_va, L->kpgd_sym);
	const bool mapped = kpgd_walk_pa(f, ctx, kva, &pa, why, sizeof(why));
	w->ok_self = mapped && pa == w->c.kpgd;
	if (mapped)
		kpgd_fact(w, w->ok_self, "%s 0x%" PRIx64 " -> 0x%" PRIx64 "%s", L->kpgd_name, kva, pa,
			  w->ok_self ? ": the table maps its own symbol address to itself" : ", not this table");
	else
		kpgd_fact(w, false, "%s 0x%" PRIx64 " %s", L->kpgd_name, kva, why);
}

/** 4. The image maps linearly, 2 MiB at a time, from _text to the furthest symbol checked (and to
 *     the kallsyms tables when they were found in memory). */
static void check_linear(const struct kpgd_finder *f, const struct kpgd_layout *L, const struct pt_context *ctx,
			 uint64_t text_va, uint64_t text_pa, struct kpgd_work *w)
{
	uint64_t span = L->image_span, pa;
	if (L->ks && L->ks->pa_token_index > text_pa && L->ks->pa_token_index - text_pa < KERNEL_WINDOW &&
	    L->ks->pa_token_index - text_pa > span)
		span = L->ks->pa_token_index - text_pa;
	unsigned lin_ok = 0, lin_n = 0;
	for (uint64_t off = 0; off <= span && lin_n < MAX_LINEAR_STEPS; off += PMD_SIZE) {
		lin_n++;
		if (kpgd_walk_pa(f, ctx, text_va + off, &pa, NULL, 0) && pa == text_pa + off)
			lin_ok++;
	}
	w->ok_linear = lin_ok == lin_n;
	kpgd_fact(w, w->ok_linear, "%u of %u 2 MiB steps from _text map linearly to 0x%" PRIx64 "+", lin_ok,
		  lin_n, text_pa);
}

/**
 * 4b. The kernel's own kallsyms tables were found in memory by their content alone: this
 *     hypothesis must put them inside its image (past _etext, before _end) and map them there.
 *     Independent of every page table: it is what places the image physically.
 */
static void check_tables(const struct kpgd_finder *f, const struct kpgd_layout *L, const struct pt_context *ctx,
			 uint64_t text_va, uint64_t text_pa, struct kpgd_work *w)
{
	char why[160];
	uint64_t pa = 0;
	const struct pt_kallsyms_info *ks = L->ks;
	const uint64_t off = ks->pa_names - text_pa;
	const uint64_t end = L->end_off ? L->end_off : KERNEL_WINDOW;
	const bool inside = ks->pa_names >= text_pa && off >= L->etext_off && off < end;
	w->ok_tables = inside && kpgd_walk_pa(f, ctx, text_va + off, &pa, why, sizeof(why)) && pa == ks->pa_names;
	if (inside)
		kpgd_fact(w, w->ok_tables, "the kernel's kallsyms tables, found in memory by content (%" PRIu64
			  " symbols, names at PA 0x%" PRIx64 "), are _text + 0x%" PRIx64 " in this image%s: "
			  "0x%" PRIx64 " %s", ks->num_syms, ks->pa_names, off,
			  L->etext_off ? " (past _etext)" : "", text_va + off,
			  w->ok_tables ? "maps there" : "does not map there");
	else
		kpgd_fact(w, false, "the kernel's kallsyms tables (names at PA 0x%" PRIx64 ") are not inside an "
			  "image at 0x%" PRIx64 " (_etext at +0x%" PRIx64 ", end at +0x%" PRIx64 ")",
			  ks->pa_names, text_pa, L->etext_off, end);
	if (L->has_kpgd)
		kpgd_fact_vmci_kpgd(w, f, sym_va(L, text_va, L->kpgd_sym));
	if (f->agree[0])
		kpgd_fact(w, true, "%s", f->agree);
}

/** 5. How much of the kernel window agrees with this slide (a stray alias agrees in one slot). */
static unsigned window_agreement(const struct kpgd_finder *f, const struct kpgd_layout *L,
				 const struct pt_context *ctx, uint64_t text_va, uint64_t text_pa)
{
	/* x86-64: the 1 GiB image window; i386: lowmem (at most 896 MiB) above PAGE_OFFSET */
	const uint64_t win_size = L->is64 ? KERNEL_WINDOW : (f->phys_end < LOWMEM32 ? f->phys_end : LOWMEM32);
	unsigned agree = 0;
	uint64_t pa;
	for (uint64_t off = 0; off < win_size; off += PMD_SIZE) {
		uint64_t va = L->map_base + off + (text_va & (PMD_SIZE - 1));
		if (va - text_va + text_pa > f->phys_end && va > text_va)
			break;
		if (kpgd_walk_pa(f, ctx, va, &pa, NULL, 0) && pa == va - text_va + text_pa)
			agree++;
	}
	return agree;
}

/** The direct map: page_offset_base holds its base (KASLR moves it); it must map _text's PA too. */
static void check_direct_map(const struct kpgd_finder *f, const struct kpgd_layout *L,
			     const struct pt_context *ctx, uint64_t text_pa, struct kpgd_work *w)
{
	uint64_t pob, pa;
	if (!L->is64 || !w->ok_text || !pt_symtab_value(L->syms, "page_offset_base", &pob))
		return;
	const uint8_t *p = kpgd_bytes(f, text_pa + (pob - L->file_text), 8);
	uint64_t dm = p ? pt_le64(p) : 0;
	if (dm && kpgd_walk_pa(f, ctx, dm + text_pa, &pa, NULL, 0) && pa == text_pa) {
		w->c.has_direct_map = true;
		w->c.direct_map = dm;
		kpgd_fact(w, true, "direct map at 0x%" PRIx64 " (page_offset_base): it maps _text's PA too", dm);
	}
}

void kpgd_verify_syms(struct kpgd_finder *f, const struct kpgd_layout *L, const struct pt_context *ctx,
		      uint64_t text_va, uint64_t text_pa, struct kpgd_work *w)
{
	kpgd_fact_table_shape(w, f, ctx);
	check_text(f, L, ctx, text_va, text_pa, w);
	if (L->has_banner)
		check_banner_symbol(f, L, ctx, text_va, text_pa, w);
	else
		check_banner_content(f, L, ctx, text_va, text_pa, w);
	if (L->has_kpgd)
		check_self(f, L, ctx, text_va, w);
	check_linear(f, L, ctx, text_va, text_pa, w);
	if (L->ks)
		check_tables(f, L, ctx, text_va, text_pa, w);
	const unsigned agree = window_agreement(f, L, ctx, text_va, text_pa);
	w->window_slots = agree;
	kpgd_set_offsets(w, f, L, text_va, text_pa);
	check_direct_map(f, L, ctx, text_pa, w);

	w->c.verified = w->ok_text && w->ok_linear && w->ok_banner &&
			(!L->has_kpgd || w->ok_self) && (!L->ks || w->ok_tables) &&
			(!w->vmci_said || w->ok_vmci);
	int facts_ok = 0;
	for (size_t i = 0; i < w->c.nfacts; i++)
		facts_ok += w->facts[i].ok;
	w->c.score = facts_ok * 1000 + (int)agree;
	kpgd_fact(w, agree > 0, "%u 2 MiB slots of the kernel mapping agree with this slide", agree);
}

bool kpgd_try_hypothesis(struct kpgd_finder *f, const struct kpgd_layout *L, enum pt_kpgd_method method,
			 enum pt_mode mode, uint64_t kpgd, uint64_t text_va, uint64_t text_pa,
			 struct kpgd_work *best, bool *have_best)
{
	struct pt_context ctx;
	struct kpgd_work w;
	if (f->budget == 0) {
		if (!f->budget_logged)
			kpgd_log(f, "budget of %" PRIu64 " hypotheses spent: the rest is not checked", HYPOTHESIS_BUDGET);
		f->budget_logged = true;
		return false;
	}
	f->budget--;
	kpgd_work_init(&w, method, mode, kpgd);
	if (!kpgd_make_ctx(f, mode, kpgd, &ctx))
		return false;
	kpgd_verify_syms(f, L, &ctx, text_va, text_pa, &w);
	if (best && kpgd_beats(&w, best, *have_best)) {
		kpgd_take(best, &w);
		*have_best = true;
	}
	return w.c.verified;
}
