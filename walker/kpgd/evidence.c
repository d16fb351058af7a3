/* SPDX-License-Identifier: MIT */
/*
 * The evidence of the kpgd finder: a candidate under test (struct kpgd_work) and its facts, the
 * finder's log, the list of candidates kept, and the first fact every strategy checks, the shape
 * of the top-level table as the shared decoder (pt_entry_decode) reads it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpgd_internal.h"

void kpgd_work_init(struct kpgd_work *w, enum pt_kpgd_method method, enum pt_mode mode, uint64_t kpgd)
{
	memset(w, 0, sizeof(*w));
	w->c.method = method;
	w->c.mode = mode;
	w->c.kpgd = kpgd;
	w->c.facts = w->facts;
}

void kpgd_fact(struct kpgd_work *w, bool ok, const char *fmt, ...)
{
	if (w->c.nfacts >= MAX_FACTS)
		return;
	struct pt_kpgd_fact *f = &w->facts[w->c.nfacts++];
	f->ok = ok;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

void kpgd_log(struct kpgd_finder *f, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char **log = realloc(f->res->log, (f->res->nlog + 1) * sizeof(*log));
	if (!log) {
		f->oom = true;
		return;
	}
	f->res->log = log;
	log[f->res->nlog] = strdup(buf);
	if (!log[f->res->nlog]) {
		f->oom = true;
		return;
	}
	f->res->nlog++;
}

void kpgd_keep(struct kpgd_finder *f, const struct kpgd_work *w)
{
	struct kpgd_work spent;
	if (w->c.verified && *f->work_left == 0) {
		/* The work budget (max_work) ran out before it was kept: a check that wants a walk to
		 * fail ("nothing maps it yet") may have been cut short, so nothing is verified then. */
		kpgd_take(&spent, w);
		spent.c.verified = false;
		kpgd_fact(&spent, false, "the work budget (max_work) ran out: not verified");
		w = &spent;
	}
	for (size_t i = 0; i < f->ncands; i++) {
		struct pt_kpgd_candidate *o = &f->cands[i];
		if (o->kpgd == w->c.kpgd && o->mode == w->c.mode) {
			if (o->verified > w->c.verified || (o->verified == w->c.verified && o->score >= w->c.score))
				return;
			free(o->facts);
			f->cands[i] = f->cands[--f->ncands];
			break;
		}
	}
	if (f->ncands == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct pt_kpgd_candidate *c = realloc(f->cands, cap * sizeof(*c));
		if (!c) {
			f->oom = true;
			return;
		}
		f->cands = c;
		f->cap = cap;
	}
	struct pt_kpgd_candidate c = w->c;
	c.facts = malloc((c.nfacts ? c.nfacts : 1) * sizeof(*c.facts));
	if (!c.facts) {
		f->oom = true;
		return;
	}
	memcpy(c.facts, w->facts, c.nfacts * sizeof(*c.facts));
	f->cands[f->ncands++] = c;
}

void kpgd_candidate_fact(struct kpgd_finder *f, struct pt_kpgd_candidate *c, const char *fmt, ...)
{
	struct pt_kpgd_fact *facts = realloc(c->facts, (c->nfacts + 1) * sizeof(*facts));
	if (!facts) {
		f->oom = true;
		return;
	}
	c->facts = facts;
	struct pt_kpgd_fact *fa = &facts[c->nfacts++];
	fa->ok = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fa->text, sizeof(fa->text), fmt, ap);
	va_end(ap);
}

bool kpgd_any_verified(const struct kpgd_finder *f)
{
	for (size_t i = 0; i < f->ncands; i++) {
		if (f->cands[i].verified)
			return true;
	}
	return false;
}

const char *kpgd_first_failure(const struct kpgd_work *w)
{
	for (size_t i = 0; i < w->c.nfacts; i++) {
		if (!w->facts[i].ok)
			return w->facts[i].text;
	}
	return "not enough facts";
}

bool kpgd_beats(const struct kpgd_work *w, const struct kpgd_work *best, bool have_best)
{
	return !have_best || w->c.verified > best->c.verified ||
	       (w->c.verified == best->c.verified && w->c.score > best->c.score);
}

void kpgd_take(struct kpgd_work *best, const struct kpgd_work *w)
{
	*best = *w;
	best->c.facts = best->facts;
}

void kpgd_fact_table_shape(struct kpgd_work *w, const struct kpgd_finder *f, const struct pt_context *ctx)
{
	const unsigned top = ctx->desc->levels;
	const unsigned n = pt_level_entries(ctx->desc, top);
	const uint8_t *t = kpgd_top_table(f, ctx);
	if (!t) {
		kpgd_fact(w, false, "top table 0x%" PRIx64 " is not in the dump", ctx->root);
		return;
	}
	unsigned present = 0, rsvd = 0, outside = 0, user = 0, accessed = 0;
	for (unsigned i = 0; i < n; i++) {
		struct pt_entry_info info;
		pt_entry_decode(ctx, top, kpgd_top_entry(ctx, t, i), &info);
		if (!info.present)
			continue;
		present++;
		if (info.rsvd_bits)
			rsvd++;
		else if (info.frame >= f->phys_end)
			outside++;
		if (i < n / 2)
			user++;
		/* PAE: the bit QEMU writes, present in memory but not in the PDPTE loaded */
		accessed += ctx->mode == PT_MODE_PAE && (kpgd_raw_entry(ctx, t, i) & PDPTE_ACCESSED) &&
			    !(ctx->pdpte[i] & PDPTE_ACCESSED);
	}
	w->c.cbit = ctx->cbit_mask ? (uint8_t)__builtin_ctzll(ctx->cbit_mask) : 0;
	char cb[128] = "";
	if (w->c.cbit)
		snprintf(cb, sizeof(cb), ", SME C-bit %u stripped", w->c.cbit);
	if (accessed)
		snprintf(cb, sizeof(cb), "; %u PDPTE(s) carry bit 5 (A, reserved), which QEMU's TCG writes "
			 "after CR3 load: read without it", accessed);
	kpgd_fact(w, present > 0 && rsvd + outside < present,
		  "%s table 0x%" PRIx64 ": %u present entries (%u in the user half), %u with reserved bits, "
		  "%u pointing outside the dump%s", pt_mode_name(ctx->mode), ctx->root, present, user, rsvd,
		  outside, cb);
}
