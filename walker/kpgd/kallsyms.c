/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own kallsyms tables, recovered from memory (pt_kallsyms_recover, walker/kallsyms.c),
 * as the finder uses them: a stand-in for /proc/kallsyms of the running kernel when there is no
 * symbol file, a check of the symbol file when there is one, layouts with run-time addresses,
 * and strategy 4b for text-only symbols (i386 without KALLSYMS_ALL), which the tables' physical
 * address places.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "kpgd_internal.h"

/** Tables screened around the kernel's kallsyms tables (text-only symbols), each side. */
static const uint64_t TEXTONLY_WINDOW64 = UINT64_C(256) << 20;
static const uint64_t TEXTONLY_WINDOW32 = UINT64_C(64) << 20;
/** Share of a symbol file's names that must sit where the kernel's own table puts them. */
static const unsigned AGREE_PERCENT = 95;

/** pt_kallsyms_recover has moved past [pa, pa + len). */
static void passed(void *arg, uint64_t pa, uint64_t len)
{
	kpgd_release(arg, pa, len);
}

void kpgd_recover_kallsyms(struct kpgd_finder *f)
{
	struct pt_kpgd_result *res = f->res;
	struct pt_error err;
	res->kallsyms_searched = true;
	/* a token index starts with a nonzero byte within 4: only the pages with one are searched */
	const struct kpgd_content *c = kpgd_content(f);
	struct pt_dump_range *starts = malloc((c->n ? c->n : 1) * sizeof(*starts));
	if (!starts) {
		f->oom = true;
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct pt_dump_range *r = &f->in->ranges[c->ext[i].range];
		starts[i] = (struct pt_dump_range){ c->ext[i].pa, c->ext[i].end - c->ext[i].pa,
						    r->file_off == PT_DUMP_NO_FILE_OFF ? PT_DUMP_NO_FILE_OFF
						    : r->file_off + (c->ext[i].pa - r->pa) };
	}
	const struct pt_kallsyms_opts opts = { .starts = starts, .nstarts = c->n, .passed = passed, .passed_arg = f };
	const enum pt_status st = pt_kallsyms_recover(f->mem, f->in->ranges, f->in->nranges, &opts,
						      &res->kallsyms_symtab, &res->kallsyms, &err);
	free(starts);
	if (st != PT_OK || f->oom) {
		f->oom = true;
		return;
	}
	const struct pt_kallsyms_info *ks = &res->kallsyms;
	if (!ks->found) {
		kpgd_log(f, "kallsyms: the kernel's tables are not in memory (%s; 0x%" PRIx64 " bytes in %.3f s)",
			 ks->why, ks->bytes_scanned, ks->seconds);
		return;
	}
	kpgd_log(f, "kallsyms: %" PRIu64 " symbols recovered from the kernel's own tables in %.3f s: names at PA 0x%"
		 PRIx64 ", markers 0x%" PRIx64 ", token table 0x%" PRIx64 ", token index 0x%" PRIx64 ", offsets 0x%"
		 PRIx64 ", relative_base 0x%" PRIx64 " = 0x%" PRIx64 " (run-time addresses)", ks->num_syms,
		 ks->seconds, ks->pa_names, ks->pa_markers, ks->pa_token_table, ks->pa_token_index, ks->pa_offsets,
		 ks->pa_relative_base, ks->relative_base);
	kpgd_find_vmcoreinfo_in_memory(f, res->kallsyms_symtab);
}

/*
 * Does a symbol file describe the kernel whose tables were recovered? Every name both hold must
 * sit at the same distance from _text (the file may be link-time, the tables run-time).
 */
bool kpgd_file_agrees(struct kpgd_finder *f, const struct pt_symtab *file, const struct pt_symtab *rec, char *text,
			size_t textlen)
{
	uint64_t ft, rt;
	if (!kpgd_source_text(file, &ft) || !kpgd_source_text(rec, &rt))
		return false;
	const uint64_t delta = rt - ft;
	size_t common = 0, agree = 0;
	for (size_t i = 0; i < pt_symtab_count(file); i++) {
		const struct pt_symbol *s = pt_symtab_at(file, i);
		if (s->type == 'A' || s->type == 'a')
			continue; /* absolute: not relocated */
		const struct pt_symbol *r = pt_symtab_lookup(rec, s->name);
		if (!r)
			continue;
		common++;
		agree += r->value - s->value == delta;
	}
	const bool ok = common > 0 && agree * 100 >= common * AGREE_PERCENT;
	snprintf(text, textlen, "%s: %zu of the %zu names it shares with the kernel's own kallsyms tables sit "
		 "at +0x%" PRIx64 " (the slide), %zu symbols in the file", pt_symtab_path(file), agree, common, delta,
		 pt_symtab_count(file));
	kpgd_log(f, "kallsyms: %s%s", text, ok ? "" : ": another kernel's symbols, not used");
	return ok;
}

/*
 * Layouts from the recovered table: run-time addresses. The link-time _text comes from the
 * symbol file when one agrees with the table (`file`, its layouts), else from Linux's own
 * statement (KERNELOFFSET in the VMCOREINFO text in memory, x86-64), else it is assumed:
 * PAGE_OFFSET or __START_KERNEL_map + CONFIG_PHYSICAL_START's default 16 MiB.
 */
size_t kpgd_layouts_recovered(struct kpgd_finder *f, const struct kpgd_layout *file, size_t nfile, struct kpgd_layout *out,
				size_t max)
{
	const struct pt_symtab *rec = f->res->kallsyms_symtab;
	size_t n = kpgd_layouts_from_syms(f, rec, out, max);
	uint64_t v;
	for (size_t i = 0; i < n; i++) {
		struct kpgd_layout *L = &out[i];
		L->ks = &f->res->kallsyms;
		L->source = nfile ? "kallsyms in memory (the symbol file agrees)" : "kallsyms in memory";
		L->etext_off = pt_symtab_value(rec, "_etext", &v) && v > L->file_text ? v - L->file_text : 0;
		L->end_off = pt_symtab_value(rec, "_end", &v) && v > L->file_text ? v - L->file_text : 0;
		const struct kpgd_layout *F = NULL;
		for (size_t j = 0; j < nfile && !F; j++)
			if (file[j].is64 == L->is64 && file[j].map_base == L->map_base)
				F = &file[j];
		if (F) {
			L->text_link = F->text_link;
			L->link_assumed = F->link_assumed;
		} else if (L->is64 && f->koff_known) {
			L->text_link = L->file_text - f->koff;
			L->link_assumed = false;
		} else {
			L->text_link = L->map_base + DEFAULT_PHYSICAL_START;
			L->link_assumed = true;
		}
	}
	return n;
}

/* ---- strategy 4b: text-only symbols, the image placed by the kallsyms tables ------------------------ */

/** The candidates: CR3's table first (a tie-breaker, checked like the others), then the pages
 *  within `win` of the kallsyms tables that pass the screen. *has_cr3_ret: pages[0] is CR3's. */
static bool textonly_candidates(struct kpgd_finder *f, const struct kpgd_layout *L0, uint64_t win,
				struct kpgd_screen *s, bool *has_cr3_ret)
{
	const uint64_t anchor = L0->ks->pa_names;
	const uint64_t lo = anchor > win ? anchor - win : 0, hi = anchor + win;
	*has_cr3_ret = f->in->has_cpu && f->cpu_mode != PT_MODE_OFF;
	if (*has_cr3_ret) {
		const struct pt_cpu_state *cpu = &f->in->cpu;
		kpgd_screen_add(s, pt_cr3_root(f->cpu_mode, cpu->cr3, cpu->cbit ? PT_BIT(cpu->cbit) : 0));
	}
	for (size_t ri = 0; ri < f->in->nranges; ri++) {
		const struct pt_dump_range *r = &f->in->ranges[ri];
		uint64_t a = (r->pa > lo ? r->pa : lo), b = r->pa + r->size < hi ? r->pa + r->size : hi;
		a = kpgd_page_up(a);
		if (a >= b || b - a < PT_PAGE_4K)
			continue;
		const uint64_t len = (b - a) & ~(PT_PAGE_4K - 1);
		const uint8_t *p = kpgd_bytes(f, a, (size_t)len);
		if (p)
			kpgd_screen_range(f, p, a, len, L0->is64, s);
	}
	f->oom = f->oom || s->oom;
	return !s->oom;
}

/**
 * Check the table `kpgd` in ctx, which maps the run-time _text to text_pa: the symbols' facts,
 * then the table inside the image mapping its own address there, an empty user half, and what
 * Linux's VMCOREINFO text in memory says. `cr3`: the dump's CR3 holds it.
 */
static void textonly_check(struct kpgd_finder *f, const struct kpgd_layout *L, const struct pt_context *ctx,
			   uint64_t kpgd, uint64_t text_pa, uint64_t win, bool cr3, struct kpgd_work *w)
{
	const uint64_t text_va = L->file_text;
	kpgd_work_init(w, PT_KPGD_SYMBOLS, ctx->mode, kpgd);
	kpgd_verify_syms(f, L, ctx, text_va, text_pa, w);
	/* the table inside the image, mapping its own address there */
	const uint64_t end = L->end_off ? L->end_off : (L->is64 ? KERNEL_WINDOW : win);
	const uint64_t koff = kpgd - text_pa;
	const uint64_t kva = text_va + koff;
	uint64_t pa;
	const bool inside = kpgd >= text_pa && koff < end;
	w->ok_self = inside && kpgd_walk_pa(f, ctx, kva, &pa, NULL, 0) && pa == kpgd;
	if (inside)
		kpgd_fact(w, w->ok_self, "the table lies in the kernel image (_text + 0x%" PRIx64 ") and %s", koff,
			  w->ok_self ? "maps its own address there to itself" : "does not map its own address");
	else
		kpgd_fact(w, false, "the table 0x%" PRIx64 " is not inside the kernel image at 0x%" PRIx64, kpgd,
			  text_pa);
	const unsigned user = kpgd_user_entries(f, ctx, L->map_base);
	kpgd_fact(w, user == 0, "user half: %u present entries%s", user,
		  user ? " (a process's or an early table)" : " (the kernel's own table, init_mm's)");
	kpgd_fact_vmci_kpgd(w, f, kva);
	if (cr3)
		kpgd_fact(w, true, "the dump's CR3 holds this table (a tie-breaker only)");
	if (!L->is64)
		kpgd_fact(w, true, "_text 0x%" PRIx64 " - 0x%" PRIx64 " = PAGE_OFFSET 0x%" PRIx64 ": i386 "
			  "KASLR moves virtual and physical addresses together", text_va, text_pa, L->map_base);
	w->c.verified = w->c.verified && w->ok_self && user == 0 && (!w->vmci_said || w->ok_vmci);
	w->c.score += (w->ok_self ? 1000 : 0) + (user == 0 ? 500 : 0) + (cr3 ? 1 : 0);
}

/**
 * Symbols without the table's name (i386 lacks KALLSYMS_ALL: text symbols only). The kallsyms
 * tables found in memory place the kernel image; the candidates are CR3's table and the tables
 * screened around the kallsyms tables. A candidate must map _text (run-time) to an image that
 * holds those tables, lie itself inside that image and map its own address there, and have an
 * empty user half (init_mm's table, not a process's). On i386, _text's VA - PA must also be the
 * layout's PAGE_OFFSET: the kernel sits in the linear lowmem mapping.
 */
void kpgd_strategy_textonly(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl)
{
	const struct kpgd_layout *L0 = &Ls[0];
	if (!L0->ks) {
		kpgd_log(f, "symbols (text only): no %s in the %s, and the kernel's kallsyms tables are not in memory "
			 "to place the image", L0->kpgd_name, L0->source);
		return;
	}
	const uint64_t anchor = L0->ks->pa_names;
	const uint64_t win = L0->is64 ? TEXTONLY_WINDOW64 : TEXTONLY_WINDOW32;
	struct kpgd_screen s = { 0 };
	bool has_cr3;
	if (!textonly_candidates(f, L0, win, &s, &has_cr3)) {
		free(s.pages);
		return;
	}
	size_t nverified = 0, nmapped = 0;
	struct kpgd_work best;
	bool have_best = false;
	for (size_t li = 0; li < nl; li++) {
		const struct kpgd_layout *L = &Ls[li];
		const uint64_t text_va = L->file_text; /* run-time: the tables were relocated at boot */
		for (size_t i = 0; i < s.n; i++) {
			if (i > 0 && s.pages[i] == s.pages[0])
				continue; /* CR3's table, already tried */
			enum pt_mode modes[2];
			size_t nm = kpgd_modes_for(f, L->is64, modes);
			for (size_t m = 0; m < nm && f->budget > 0; m++) {
				struct pt_context ctx;
				uint64_t text_pa;
				if (!kpgd_make_ctx(f, modes[m], s.pages[i], &ctx) ||
				    !kpgd_walk_pa(f, &ctx, text_va, &text_pa, NULL, 0))
					continue;
				if (!L->is64 && text_va - text_pa != L->map_base)
					continue; /* another PAGE_OFFSET's layout */
				if (text_pa > anchor)
					continue; /* the tables lie after _text */
				f->budget--;
				nmapped++;
				struct kpgd_work w;
				textonly_check(f, L, &ctx, s.pages[i], text_pa, win, has_cr3 && i == 0, &w);
				if (w.c.verified) {
					nverified++;
					kpgd_keep(f, &w);
				}
				if (kpgd_beats(&w, &best, have_best)) {
					kpgd_take(&best, &w);
					have_best = true;
				}
			}
		}
	}
	kpgd_log(f, "symbols (text only): %zu table(s) tried (CR3 and those within 0x%" PRIx64 " of the kallsyms "
		 "tables), %zu map the run-time _text, %zu verified%s%s", s.n, win, nmapped, nverified,
		 have_best && !best.c.verified ? ": best fails: " : "",
		 have_best && !best.c.verified ? kpgd_first_failure(&best) : "");
	free(s.pages);
}
