/* SPDX-License-Identifier: MIT */
/*
 * Strategy 5, brute force: every page that passed the screen (screen.c) is a candidate. With
 * symbols, each is verified like any hypothesis at every slide its kernel window allows; without,
 * the candidates are ranked by what they map (a "Linux version" banner in the kernel half, the
 * table mapped by the same mapping, an empty user half, the direct map).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "kpgd_internal.h"
#include "ptlab/maps.h"

/** Bounds of one enumeration without symbols (a hostile table that aliases one page everywhere
 *  is cut short: alias budget, range cap, and f->range_budget over all). */
static const uint64_t ALIAS_BUDGET = 4096;
static const unsigned MAX_RANGES = 4096;
/** The shortest run from PA 0 taken for the direct map (Linux's page_offset_base). */
static const uint64_t DIRECT_MAP_MIN = UINT64_C(16) << 20;

/** With symbols, one screened table in one mode: every slide its kernel window allows (i386: the
 *  one that maps the link-time _text); the best hypothesis kept when it verifies. */
static bool brute_table(struct kpgd_finder *f, const struct kpgd_layout *L, const struct pt_context *ctx,
			uint64_t table)
{
	const uint64_t link_pa = L->text_link - L->map_base;
	struct kpgd_work best;
	bool have = false;
	uint64_t pa;
	if (L->is64) {
		for (uint64_t off = 0; off < KERNEL_WINDOW; off += PMD_SIZE) {
			uint64_t va = L->map_base + off + (L->text_link & (PMD_SIZE - 1));
			if (!kpgd_walk_pa(f, ctx, va, &pa, NULL, 0) || pa % ALIGN64 != link_pa % ALIGN64)
				continue;
			kpgd_try_hypothesis(f, L, PT_KPGD_BRUTE, ctx->mode, table, va, pa, &best, &have);
		}
	} else if (kpgd_walk_pa(f, ctx, L->file_text, &pa, NULL, 0)) {
		kpgd_try_hypothesis(f, L, PT_KPGD_BRUTE, ctx->mode, table, L->file_text, pa, &best, &have);
	}
	if (!have || !best.c.verified)
		return false;
	kpgd_keep(f, &best);
	return true;
}

/** Brute force with symbols: every screened table, every slide the window allows. */
static void brute_with_syms(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl,
			    const struct kpgd_screen *s, bool is64)
{
	size_t nverified = 0;
	for (size_t li = 0; li < nl; li++) {
		const struct kpgd_layout *L = &Ls[li];
		if (L->is64 != is64 || (L->ks && !L->has_kpgd))
			continue; /* text only with the kallsyms tables: kpgd_strategy_textonly's, with its checks */
		for (size_t i = 0; i < s->n; i++) {
			enum pt_mode modes[2];
			size_t nm = kpgd_modes_for(f, is64, modes);
			for (size_t m = 0; m < nm; m++) {
				struct pt_context ctx;
				if (kpgd_make_ctx(f, modes[m], s->pages[i], &ctx))
					nverified += brute_table(f, L, &ctx, s->pages[i]);
			}
		}
	}
	kpgd_log(f, "brute-force: %zu screened table(s) checked with the symbols: %zu verified", s->n, nverified);
}

/** The next range of `it`, charged to the work budget: the range and the tables read for it
 *  (*tables: how many were read so far). False at the end or when the budget is spent. */
static bool next_charged(const struct kpgd_finder *f, struct pt_maps_iter *it, struct pt_range *r,
			 uint64_t *tables)
{
	if (!kpgd_spend(f, 1) || !pt_maps_next(it, r))
		return false;
	struct pt_maps_stats st;
	pt_maps_get_stats(it, &st);
	const uint64_t read = st.tables_read - *tables;
	*tables = st.tables_read;
	return kpgd_spend(f, read) || read == 0;
}

/**
 * The direct map without symbols: in the kernel half below the image window, a mapping that
 * starts at PA 0 and runs linearly for at least 16 MiB (Linux's page_offset_base). Bounded.
 */
static bool find_direct_map(const struct kpgd_finder *f, const struct pt_context *ctx, uint64_t *base_ret,
			    uint64_t *size_ret)
{
	struct pt_maps_opts o = { .coalesce = true, .va_start = pt_mode_upper_half(ctx->mode),
				  .va_last = START_KERNEL_MAP - 1, .alias_budget = ALIAS_BUDGET };
	struct pt_maps_iter *it;
	if (pt_maps_create(ctx, f->mem, &o, &it) != PT_OK)
		return false;
	struct pt_range r;
	bool found = false;
	uint64_t cur_va = 0, cur_end = 0;
	uint64_t tables = 0;
	for (unsigned n = 0; n < MAX_RANGES && !found && next_charged(f, it, &r, &tables); n++) {
		if (r.kind != PT_RANGE_MAPPED)
			continue;
		/* coalesced ranges split where the rights or the page size change: join them */
		if (cur_end && r.va == cur_va + cur_end && r.pa == cur_end) {
			cur_end += r.size;
		} else if (r.pa == 0) {
			cur_va = r.va;
			cur_end = r.size;
		} else {
			cur_end = 0;
			continue;
		}
		if (cur_end >= DIRECT_MAP_MIN || cur_end >= f->phys_end) {
			found = true;
			*base_ret = cur_va;
			*size_ret = cur_end;
		}
	}
	pt_maps_destroy(it);
	return found;
}

/** Where the kernel half starts without symbols: the upper canonical half on x86-64, the lowest
 *  PAGE_OFFSET on i386. */
static uint64_t kernel_half(const struct pt_context *ctx)
{
	return ctx->desc->va_bits == 32 ? PAGE_OFFSETS32[NPAGE_OFFSETS32 - 1] : pt_mode_upper_half(ctx->mode);
}

/** Which banner copy does the kernel window of ctx map, and where? (One enumeration, bounded.) */
static bool kernel_banner(struct kpgd_finder *f, const struct pt_context *ctx, uint64_t *bva_ret,
			  uint64_t *bpa_ret)
{
	const bool is64 = ctx->desc->va_bits != 32;
	struct pt_maps_opts o = { .coalesce = true, .va_start = is64 ? START_KERNEL_MAP : kernel_half(ctx),
				  .va_last = is64 ? UINT64_MAX : UINT32_MAX, .alias_budget = ALIAS_BUDGET };
	struct pt_maps_iter *it;
	if (pt_maps_create(ctx, f->mem, &o, &it) != PT_OK)
		return false;
	struct pt_range r;
	bool banner = false;
	unsigned ranges = 0;
	uint64_t tables = 0;
	while (!banner && ranges < MAX_RANGES && f->range_budget > 0 && next_charged(f, it, &r, &tables)) {
		ranges++;
		f->range_budget--;
		if (r.kind != PT_RANGE_MAPPED)
			continue;
		for (size_t b = 0; b < f->nbanners; b++) {
			if (f->banners[b] >= r.pa && f->banners[b] - r.pa < r.size) {
				*bpa_ret = f->banners[b];
				*bva_ret = r.va + (*bpa_ret - r.pa);
				banner = true;
				break;
			}
		}
	}
	pt_maps_destroy(it);
	return banner;
}

/** A PML5 whose kernel slot points at another screened table (the PML4 below): the real top. */
static bool la57_above_screened(const struct pt_context *ctx, const uint8_t *t, const struct kpgd_screen *s,
				uint64_t *child_ret)
{
	if (ctx->mode != PT_MODE_LA57 || !t)
		return false;
	const unsigned top = ctx->desc->levels;
	struct pt_entry_info e;
	pt_entry_decode(ctx, top, kpgd_raw_entry(ctx, t, kpgd_kernel_slot(ctx->desc)), &e);
	*child_ret = e.frame;
	for (size_t j = 0; e.present && j < s->n; j++)
		if (s->pages[j] == e.frame)
			return true;
	return false;
}

/** How the dump's CR3 compares: +1 the same table (a tie-breaker only), -100 another mode. */
static int cr3_agreement(const struct kpgd_finder *f, const struct pt_context *ctx, struct kpgd_work *w)
{
	struct pt_context cctx;
	if (!f->in->has_cpu ||
	    (pt_context_init(&cctx, &f->in->cpu, NULL, NULL, NULL) != PT_OK && cctx.mode != PT_MODE_PAE))
		return 0;
	const uint64_t page = ~(PT_PAGE_4K - 1);
	const bool same = (cctx.root & page) == (ctx->root & page) && cctx.mode == ctx->mode;
	if (same)
		kpgd_fact(w, true, "the dump's CR3 agrees (a tie-breaker only)");
	return (same ? 1 : 0) - (cctx.mode != ctx->mode ? 100 : 0);
}

/** Rank the table s->pages[i] in ctx, whose kernel half maps the banner at bpa from bva. */
static bool brute_rank(struct kpgd_finder *f, const struct kpgd_screen *s, size_t i, const struct pt_context *ctx,
		       uint64_t bva, uint64_t bpa)
{
	const bool is64 = ctx->desc->va_bits != 32;
	const uint64_t table = s->pages[i];
	struct kpgd_work w;
	kpgd_work_init(&w, PT_KPGD_BRUTE, ctx->mode, table);
	kpgd_fact_table_shape(&w, f, ctx);
	char text[96];
	kpgd_printable(f, bpa, text, sizeof(text), 60);
	w.ok_banner = true;
	kpgd_fact(&w, true, "the kernel half maps 0x%" PRIx64 " -> 0x%" PRIx64 ": \"%s\"", bva, bpa, text);
	/* The same kernel mapping maps the table itself. */
	const uint64_t delta = bva - bpa; /* VA - PA of the kernel mapping */
	uint64_t pa;
	uint64_t tva = table + delta;
	w.ok_self = kpgd_walk_pa(f, ctx, tva, &pa, NULL, 0) && pa == table;
	kpgd_fact(&w, w.ok_self, "the same mapping (VA - PA = 0x%" PRIx64 ") maps the table: 0x%" PRIx64
		  " -> %s", delta, tva, w.ok_self ? "itself" : "elsewhere");
	/* Linear extent of that mapping, 2 MiB at a time around the banner. */
	unsigned agree = 0;
	const uint64_t lo = is64 ? START_KERNEL_MAP : kernel_half(ctx);
	for (uint64_t off = 0; off < KERNEL_WINDOW; off += PMD_SIZE) {
		uint64_t va = lo + off + (bva & (PMD_SIZE - 1));
		if (kpgd_walk_pa(f, ctx, va, &pa, NULL, 0) && pa == va - delta)
			agree++;
	}
	w.window_slots = agree;
	kpgd_fact(&w, agree >= 1, "%u 2 MiB slots of the kernel mapping share that offset", agree);
	/* An empty user half is the kernel's own table (init_mm), not a process's (i386: the lower
	 * 2 GiB, below every PAGE_OFFSET but VMSPLIT_1G's). */
	const unsigned user = kpgd_user_entries(f, ctx, PAGE_OFFSETS32[1]);
	kpgd_fact(&w, user == 0, "user half: %u present entries%s", user,
		  user ? " (a process's or an early table?)" : " (the kernel's own table)");
	/* A 5-level table above a 4-level candidate is the real top. */
	uint64_t child;
	const int la57_bonus = la57_above_screened(ctx, kpgd_top_table(f, ctx), s, &child) ? 1 : 0;
	if (la57_bonus)
		kpgd_fact(&w, true, "PML5[511] -> 0x%" PRIx64 ", itself a table: the top is the PML5", child);
	w.c.score += cr3_agreement(f, ctx, &w);
	uint64_t dm, dmsize;
	if (is64 && find_direct_map(f, ctx, &dm, &dmsize) && kpgd_walk_pa(f, ctx, dm + bpa, &pa, NULL, 0) &&
	    pa == bpa) {
		w.c.has_direct_map = true;
		w.c.direct_map = dm;
		w.c.score += 200;
		kpgd_fact(&w, true, "direct map at 0x%" PRIx64 ": PA 0.. 0x%" PRIx64 " linearly, the banner too",
			  dm, dmsize);
	}
	w.c.verified = w.ok_banner && w.ok_self;
	w.c.text_va = bva;
	w.c.text_pa = bpa;
	w.c.phys_base = is64 ? bpa - (bva - START_KERNEL_MAP) : 0;
	w.c.score += (w.ok_self ? 1000 : 0) + (user == 0 ? 500 : 0) + la57_bonus * 600 + (int)agree;
	kpgd_keep(f, &w);
	return w.c.verified;
}

/** Brute force without symbols: rank the screened tables by what they map. */
static void brute_without_syms(struct kpgd_finder *f, const struct kpgd_screen *s, bool is64)
{
	kpgd_scan_banners(f);
	size_t nverified = 0;
	for (size_t i = 0; i < s->n; i++) {
		enum pt_mode modes[2];
		size_t nm = kpgd_modes_for(f, is64, modes);
		for (size_t m = 0; m < nm; m++) {
			struct pt_context ctx;
			if (!kpgd_make_ctx(f, modes[m], s->pages[i], &ctx))
				continue;
			if (f->budget == 0 || f->range_budget == 0) {
				if (!f->budget_logged)
					kpgd_log(f, "brute-force: work budget spent: the remaining candidates are not checked");
				f->budget_logged = true;
				break;
			}
			f->budget--;
			uint64_t bva = 0, bpa = 0;
			if (kernel_banner(f, &ctx, &bva, &bpa))
				nverified += brute_rank(f, s, i, &ctx, bva, bpa);
		}
	}
	kpgd_log(f, "brute-force: %zu screened table(s), %zu banner(s) by content: %zu candidate(s) map a banner "
		 "and themselves", s->n, f->nbanners, nverified);
}

void kpgd_strategy_brute(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl)
{
	struct kpgd_screen s64 = { 0 }, s32 = { 0 };
	kpgd_run_screen(f, &s64, &s32);
	if (f->oom)
		goto out;
	kpgd_log(f, "brute-force: screened 0x%" PRIx64 " bytes in %.3f s: %" PRIu64 " 64-bit and %" PRIu64
		 " 32-bit table shapes%s", f->res->bytes_scanned, f->res->scan_seconds, s64.total, s32.total,
		 s64.full || s32.full ? " (only the first 4096 of each kept)" : "");
	/* Text-only symbols recovered from memory are kpgd_strategy_textonly's (brute_with_syms skips
	 * them): alone, the brute force ranks the tables as without symbols. */
	if (nl && !(Ls[0].ks && !Ls[0].has_kpgd)) {
		if (f->try64)
			brute_with_syms(f, Ls, nl, &s64, true);
		if (f->try32)
			brute_with_syms(f, Ls, nl, &s32, false);
	} else {
		if (f->try64)
			brute_without_syms(f, &s64, true);
		if (f->try32)
			brute_without_syms(f, &s32, false);
	}
out:
	free(s64.pages);
	free(s32.pages);
}
