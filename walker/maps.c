/* SPDX-License-Identifier: MIT */
/*
 * Enumeration of an address space (maps.h). A depth-first walk over whole tables with an
 * explicit stack; entries are decoded by pt_entry_decode, the same decoder translation uses,
 * and rights combine over the levels with pt_rights_combine, the rule pt_walk uses (SDM 4.6.1).
 *
 * Aliasing: a table reached again at the same level (the same physical page referenced from
 * several entries) is a repeat. Repeats are expanded while the alias budget lasts (Linux's
 * ESPFIX area, 65,536 leaves of one frame, fits by far); once it is spent, a repeated subtree is
 * yielded as one PT_RANGE_ALIAS range. Every table is then expanded in full at most once per
 * level, so the work is bounded by the number of distinct tables, whatever the dump holds.
 */
#include <stdlib.h>
#include <string.h>

#include "ptlab/maps.h"
#include "ptlab/le.h"
#include "mem_inline.h"

static const uint64_t DEFAULT_ALIAS_BUDGET = UINT64_C(4) << 20;

const char *pt_range_kind_name(enum pt_range_kind kind)
{
	switch (kind) {
	case PT_RANGE_MAPPED: return "mapped";
	case PT_RANGE_HOLE: return "hole";
	case PT_RANGE_RESERVED: return "reserved";
	case PT_RANGE_UNREADABLE: return "unreadable";
	case PT_RANGE_ALIAS: return "alias";
	}
	return "?";
}

/* ---- set of tables already expanded: (table PA, level) -> first VA ---------------------- */

struct seen_slot {
	uint64_t key; /* table_pa | level (table PAs are 4 KiB aligned, except the PAE PDPT) */
	uint64_t first_va;
};

struct seen_set {
	struct seen_slot *slots;
	size_t cap; /* power of two; key 0 marks an empty slot */
	size_t used;
};

static uint64_t seen_hash(uint64_t key)
{
	key ^= key >> 29;
	key *= UINT64_C(0xbf58476d1ce4e5b9);
	key ^= key >> 32;
	return key;
}

/** Find `key`; returns the slot (empty when absent). */
static struct seen_slot *seen_find(const struct seen_set *s, uint64_t key)
{
	size_t i = seen_hash(key) & (s->cap - 1);
	while (s->slots[i].key != 0 && s->slots[i].key != key)
		i = (i + 1) & (s->cap - 1);
	return &s->slots[i];
}

static bool seen_grow(struct seen_set *s)
{
	struct seen_set bigger = { calloc(s->cap * 2, sizeof(struct seen_slot)), s->cap * 2, s->used };
	if (!bigger.slots)
		return false;
	for (size_t i = 0; i < s->cap; i++) {
		if (s->slots[i].key)
			*seen_find(&bigger, s->slots[i].key) = s->slots[i];
	}
	free(s->slots);
	*s = bigger;
	return true;
}

/* ---- the iterator ------------------------------------------------------------------------ */

struct maps_frame {
	const uint8_t *entries; /* the whole table, read at once */
	uint64_t table_pa;
	uint64_t va_base;       /* linear address of entry 0 (not yet sign-extended) */
	struct pt_rights rights; /* combined over the levels above */
	unsigned level;
	unsigned index;
	unsigned count;
	bool repeat;            /* inside a subtree reached before */
};

struct pt_maps_iter {
	const struct pt_context *ctx;
	const struct pt_mem *mem;
	struct pt_maps_opts opts;
	struct maps_frame stack[6];
	unsigned depth;
	uint8_t pae_pdpt[32];   /* PAE: the PDPTEs loaded with CR3, as the top "table" */
	struct pt_range pending;
	bool have_pending;
	uint64_t alias_used;
	unsigned top_missing;   /* top table missing: unreadable ranges still to yield (2 halves in IA-32e) */
	struct seen_set seen;
	struct pt_maps_stats stats;
};

enum pt_status pt_maps_create(const struct pt_context *ctx, const struct pt_mem *mem,
			      const struct pt_maps_opts *opts, struct pt_maps_iter **iter_ret)
{
	*iter_ret = NULL;
	if (!ctx->desc)
		return PT_EINVAL;
	struct pt_maps_iter *it = calloc(1, sizeof(*it));
	if (!it)
		return PT_EINVAL;
	it->ctx = ctx;
	it->mem = mem;
	if (opts)
		it->opts = *opts;
	if (!it->opts.alias_budget)
		it->opts.alias_budget = DEFAULT_ALIAS_BUDGET;
	if (!it->opts.va_start && !it->opts.va_last)
		it->opts.va_last = ctx->desc->va_bits == 32 ? UINT32_MAX : UINT64_MAX;
	it->seen.cap = 1024;
	it->seen.slots = calloc(it->seen.cap, sizeof(struct seen_slot));
	if (!it->seen.slots) {
		free(it);
		return PT_EINVAL;
	}

	const struct pt_mode_desc *desc = ctx->desc;
	struct maps_frame *top = &it->stack[0];
	top->level = desc->levels;
	top->count = pt_level_entries(desc, desc->levels);
	top->table_pa = ctx->root;
	top->rights = PT_RIGHTS_TOP;
	if (ctx->mode == PT_MODE_PAE) {
		for (unsigned i = 0; i < 4; i++)
			pt_le_put(it->pae_pdpt + 8 * i, ctx->pdpte[i], 8);
		top->entries = it->pae_pdpt;
	} else {
		top->entries = mem_at(mem, ctx->root, (size_t)top->count * desc->entry_size);
	}
	if (!top->entries) {
		/* The top table itself is missing: raw_next reports the whole space unreadable. */
		it->top_missing = desc->va_bits == 32 ? 1 : 2;
		it->stats.unreadable++;
	} else {
		it->depth = 1;
		it->stats.tables_read++;
	}
	*iter_ret = it;
	return PT_OK;
}

void pt_maps_destroy(struct pt_maps_iter *it)
{
	if (!it)
		return;
	free(it->seen.slots);
	free(it);
}

void pt_maps_get_stats(const struct pt_maps_iter *it, struct pt_maps_stats *stats_ret)
{
	*stats_ret = it->stats;
}

/** Clip a range to [va_start, va_last]; false when nothing is left. */
static bool clip(const struct pt_maps_iter *it, struct pt_range *r)
{
	const uint64_t start = it->opts.va_start, last = it->opts.va_last;
	uint64_t r_last = r->va + (r->size - 1);
	if (r_last < start || r->va > last)
		return false;
	if (r->va < start) {
		uint64_t d = start - r->va;
		r->va += d;
		if (r->kind == PT_RANGE_MAPPED)
			r->pa += d;
	}
	if (r_last > last)
		r_last = last;
	r->size = r_last - r->va + 1;
	return true;
}

/** Yield the next range as the tables say it, one entry at a time; false at the end. */
static bool raw_next(struct pt_maps_iter *it, struct pt_range *r)
{
	const struct pt_context *ctx = it->ctx;
	const struct pt_mode_desc *desc = ctx->desc;
	const unsigned esize = desc->entry_size;

	if (it->top_missing) {
		/* 32-bit modes: one range over 4 GiB; IA-32e: the lower, then the upper canonical half. */
		const unsigned half = desc->va_bits == 32 ? 32 : desc->va_bits - 1;
		const bool upper = it->top_missing == 1 && desc->va_bits != 32;
		it->top_missing--;
		*r = (struct pt_range){ .kind = PT_RANGE_UNREADABLE, .va = upper ? pt_mode_upper_half(ctx->mode) : 0,
			.size = UINT64_C(1) << half, .level = (uint8_t)desc->levels, .table_pa = ctx->root };
		return true;
	}
	const struct pt_chunk_mem *cm = chunk_mem_of(it->mem);
	/* 3.3.7.1: a 64-bit mode's linear addresses are sign-extended from va_bits */
	const unsigned sign_shift = desc->va_bits == 32 ? 0 : 64 - desc->va_bits;
	while (it->depth > 0) {
		struct maps_frame *f = &it->stack[it->depth - 1];
		if (!it->opts.holes) {
			/* Not-present entries yield nothing: skip them on their P bit (bit 0 of the
			 * entry's low byte, never the C-bit) before anything else is looked at. */
			unsigned k = f->index;
			while (k < f->count && !(f->entries[(size_t)k * esize] & PTE_P))
				k++;
			f->index = k;
		}
		if (f->index >= f->count) {
			it->depth--;
			continue;
		}
		const unsigned i = f->index++;
		const unsigned shift = desc->level[f->level].va_shift;
		const uint64_t span = UINT64_C(1) << shift;
		const uint64_t va_raw = f->va_base + ((uint64_t)i << shift);
		const uint64_t va = sign_shift ? (uint64_t)((int64_t)(va_raw << sign_shift) >> sign_shift) : va_raw;
		const uint64_t va_last = va + (span - 1);
		if (va_last < it->opts.va_start || va > it->opts.va_last)
			continue;

		const uint64_t raw = esize == 8 ? pt_le64(f->entries + (size_t)i * 8)
					       : pt_le32(f->entries + (size_t)i * 4);
		const uint64_t entry_pa = f->table_pa + (uint64_t)i * esize;
		struct pt_entry_info e;
		pt_entry_decode(ctx, f->level, raw, &e);

		*r = (struct pt_range){ .va = va, .size = span, .level = (uint8_t)f->level,
					.entry_pa = entry_pa, .entry = raw };
		if (!e.present) {
			r->kind = PT_RANGE_HOLE;
			return true;
		}
		if (e.rsvd_bits) {
			r->kind = PT_RANGE_RESERVED;
			it->stats.reserved++;
			return true;
		}
		struct pt_rights rights = f->rights;
		pt_rights_combine(ctx, f->level, &e, &rights);
		if (e.maps_page) {
			r->kind = PT_RANGE_MAPPED;
			r->pa = e.frame;
			r->page_size = span;
			r->rights = rights;
			/* The frame's first and last bytes are in the dump (a page may span
			 * two adjacent dump ranges, so one lookup of the whole page is wrong). */
			r->pa_in_dump = view_at(cm, it->mem, e.frame, 1) != NULL &&
					view_at(cm, it->mem, e.frame + span - 1, 1) != NULL;
			it->stats.leaves++;
			if (f->repeat)
				it->alias_used++;
			return true;
		}

		/* A table: expand it, unless it is a repeat and the alias budget is spent. */
		const unsigned child_level = f->level - 1;
		const uint64_t key = e.frame | child_level;
		struct seen_slot *slot = seen_find(&it->seen, key);
		const bool seen = slot->key != 0;
		if (seen && it->alias_used >= it->opts.alias_budget) {
			r->kind = PT_RANGE_ALIAS;
			r->rights = rights;
			r->table_pa = e.frame;
			r->alias_va = slot->first_va;
			it->stats.aliases_collapsed++;
			return true;
		}
		const unsigned count = pt_level_entries(desc, child_level);
		const uint8_t *entries = view_at(cm, it->mem, e.frame, (size_t)count * esize);
		if (!entries) {
			r->kind = PT_RANGE_UNREADABLE;
			r->table_pa = e.frame;
			it->stats.unreadable++;
			return true;
		}
		if (!seen) {
			slot->key = key;
			slot->first_va = va;
			if (++it->seen.used * 2 > it->seen.cap && !seen_grow(&it->seen)) {
				/* Out of memory for the set: treat further tables as repeats. */
				it->alias_used = it->opts.alias_budget;
			}
		}
		it->stats.tables_read++;
		struct maps_frame *child = &it->stack[it->depth++];
		*child = (struct maps_frame){ .entries = entries, .table_pa = e.frame,
			.va_base = f->va_base + ((uint64_t)i << shift), .rights = rights,
			.level = child_level, .index = 0, .count = count,
			.repeat = f->repeat || seen };
	}
	return false;
}

static bool rights_equal(const struct pt_rights *a, const struct pt_rights *b)
{
	return a->writable == b->writable && a->user == b->user && a->nx == b->nx &&
	       a->pkey == b->pkey;
}

/** Can `next` extend `prev`? */
static bool mergeable(const struct pt_maps_iter *it, const struct pt_range *prev,
		      const struct pt_range *next)
{
	if (prev->kind != next->kind || prev->va + prev->size != next->va || prev->size == 0)
		return false;
	if (next->kind == PT_RANGE_HOLE)
		return true;
	if (next->kind != PT_RANGE_MAPPED || !it->opts.coalesce)
		return false;
	return prev->pa + prev->size == next->pa && prev->page_size == next->page_size &&
	       prev->pa_in_dump == next->pa_in_dump && rights_equal(&prev->rights, &next->rights);
}

bool pt_maps_next(struct pt_maps_iter *it, struct pt_range *range_ret)
{
	struct pt_range r;
	while (raw_next(it, &r)) {
		if (r.kind == PT_RANGE_HOLE && !it->opts.holes)
			continue;
		if (!clip(it, &r))
			continue;
		if (it->have_pending && mergeable(it, &it->pending, &r)) {
			it->pending.size += r.size;
			continue;
		}
		if (it->have_pending) {
			*range_ret = it->pending;
			it->pending = r;
			return true;
		}
		it->pending = r;
		it->have_pending = true;
	}
	if (it->have_pending) {
		*range_ret = it->pending;
		it->have_pending = false;
		return true;
	}
	return false;
}
