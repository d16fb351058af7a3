/* SPDX-License-Identifier: MIT */
/*
 * A software TLB (tlb.h). Direct-mapped, keyed by (address space, 4 KiB page number). An address
 * space is identified by everything that decides a walk: mode, root, PAE PDPTEs, MAXPHYADDR,
 * C-bit, and the NXE/PSE/PKE flags (the reserved masks follow from those). Rights-only controls
 * (WP, SMEP, SMAP, AC, PKRU, CPL, access kind) are applied on every hit by
 * pt_result_check_access, the walker's own check, so a hit answers exactly as a walk would.
 */
#include <stdlib.h>
#include <string.h>

#include "ptlab/tlb.h"
#include "mem_inline.h"

enum { TLB_SPACES = 16 };

/** What identifies an address space (zero-padded so memcmp compares it). */
struct space_key {
	const struct pt_mem *mem; /* two dumps with the same CR3 are two address spaces */
	uint64_t root;
	uint64_t pdpte[4];
	uint64_t cbit_mask;
	uint32_t mode;
	uint32_t walk_flags;
	uint32_t maxphyaddr;
	uint32_t pad;
};

struct tlb_space {
	struct space_key key;
	uint64_t gen;  /* entries tagged with another generation are stale */
	bool used;
	unsigned nclasses;   /* the page sizes the mode maps, smallest first (size_classes) */
	uint8_t level[3];    /* the leaf level of each */
	uint8_t shift[3];    /* log2 of each page size */
};

/* One cached page, of any size, in one cache line: what pt_walk returned for it. Large pages are
 * cached once at their own size (a 2 MiB page is one entry, not 512), like a hardware TLB's
 * large-page entries. The level of the leaf follows from the size class; entry i of the walk is
 * at level `levels - i`, and its address follows from the entry above it (the frame of a table
 * pointer is value & addr_mask) and the VA's index there, so only the values are kept. */
struct tlb_entry {
	uint64_t tag;      /* (va >> page shift) << 2 | size class; with `meta`'s generation */
	uint64_t meta;     /* generation of the space << 8 | the rights packed (RIGHTS_*); 0 = empty */
	uint64_t page_pa;  /* PA of the page's first byte */
	uint64_t value[5]; /* the entries read, top level first */
};

/* The rights in one byte: W, U, NX, and the protection key in bits 7:4. */
enum { RIGHT_W = 1, RIGHT_U = 2, RIGHT_NX = 4, RIGHTS_PKEY_SHIFT = 4, META_GEN_SHIFT = 8 };

struct pt_tlb {
	struct tlb_entry *entries;
	uint64_t mask;
	struct tlb_space spaces[TLB_SPACES];
	unsigned last_space; /* most recently used, checked first */
	unsigned next_victim;
	unsigned last_class;  /* size class of the last hit, probed first */
	uint64_t next_gen;
	struct pt_tlb_stats stats;
};

static void make_key(const struct pt_context *ctx, const struct pt_mem *mem, struct space_key *k)
{
	memset(k, 0, sizeof(*k));
	k->mem = mem;
	k->root = ctx->root;
	memcpy(k->pdpte, ctx->pdpte, sizeof(k->pdpte));
	k->cbit_mask = ctx->cbit_mask;
	k->mode = ctx->mode;
	k->walk_flags = ctx->flags & (PT_CTX_NXE | PT_CTX_PSE | PT_CTX_PKE);
	k->maxphyaddr = ctx->maxphyaddr;
}

enum pt_status pt_tlb_create(unsigned entries_log2, struct pt_tlb **tlb_ret)
{
	*tlb_ret = NULL;
	if (entries_log2 < 4 || entries_log2 > 24)
		return PT_EINVAL;
	struct pt_tlb *tlb = calloc(1, sizeof(*tlb));
	if (!tlb)
		return PT_EINVAL;
	tlb->entries = calloc((size_t)1 << entries_log2, sizeof(struct tlb_entry));
	if (!tlb->entries) {
		free(tlb);
		return PT_EINVAL;
	}
	tlb->mask = (UINT64_C(1) << entries_log2) - 1;
	tlb->next_gen = 1;
	*tlb_ret = tlb;
	return PT_OK;
}

void pt_tlb_destroy(struct pt_tlb *tlb)
{
	if (!tlb)
		return;
	free(tlb->entries);
	free(tlb);
}

/** Does `ctx` over `mem` have the key `k`? (Field by field: no key built on a hit.) */
static bool key_matches(const struct space_key *k, const struct pt_context *ctx,
			const struct pt_mem *mem)
{
	return k->mem == mem && k->root == ctx->root && k->mode == (uint32_t)ctx->mode &&
	       k->cbit_mask == ctx->cbit_mask && k->maxphyaddr == ctx->maxphyaddr &&
	       k->walk_flags == (ctx->flags & (PT_CTX_NXE | PT_CTX_PSE | PT_CTX_PKE)) &&
	       memcmp(k->pdpte, ctx->pdpte, sizeof(k->pdpte)) == 0;
}

/** The space slot of `key`, or NULL. */
static struct tlb_space *find_space(struct pt_tlb *tlb, const struct space_key *key)
{
	struct tlb_space *s;
	for (unsigned i = 0; i < TLB_SPACES; i++) {
		s = &tlb->spaces[i];
		if (s->used && memcmp(&s->key, key, sizeof(*key)) == 0) {
			tlb->last_space = i;
			return s;
		}
	}
	return NULL;
}

/* The page sizes a mode maps, smallest first (SDM 4.3-4.5): the levels whose entries may map a
 * page. */
static void size_classes(const struct pt_mode_desc *desc, struct tlb_space *s)
{
	s->nclasses = 0;
	for (unsigned level = 1; level <= desc->levels && s->nclasses < 3; level++) {
		if (level == 1 || desc->level[level].may_map_page) {
			s->level[s->nclasses] = (uint8_t)level;
			s->shift[s->nclasses] = desc->level[level].va_shift;
			s->nclasses++;
		}
	}
}

/** The space slot of `key`, taking one (and invalidating its old entries) if needed. */
static struct tlb_space *get_space(struct pt_tlb *tlb, const struct space_key *key,
				   const struct pt_mode_desc *desc)
{
	struct tlb_space *s = find_space(tlb, key);
	if (s)
		return s;
	unsigned i = tlb->next_victim;
	tlb->next_victim = (i + 1) % TLB_SPACES;
	s = &tlb->spaces[i];
	s->key = *key;
	s->gen = tlb->next_gen++;
	s->used = true;
	size_classes(desc, s);
	tlb->last_space = i;
	return s;
}

static uint64_t slot_index(const struct pt_tlb *tlb, uint64_t tag, uint64_t gen)
{
	uint64_t h = (tag ^ (gen * UINT64_C(0x9e3779b97f4a7c15))) * UINT64_C(0xff51afd7ed558ccd);
	return (h >> 29 ^ h) & tlb->mask;
}

/* Fill `r` from a hit: the walk's answer for `va` in the cached page. */
static void fill_from_entry(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
			    const struct tlb_entry *e, unsigned leaf_level, struct pt_result *r)
{
	const struct pt_mode_desc *desc = ctx->desc;
	const unsigned top = desc->levels;
	const uint64_t page_size = PT_BIT(desc->level[leaf_level].va_shift);
	const uint8_t packed = (uint8_t)e->meta;
	uint64_t table = ctx->root;

	r->va = va;
	r->pa = e->page_pa | (va & (page_size - 1));
	r->page_size = page_size;
	r->level = (uint8_t)leaf_level;
	r->rights = (struct pt_rights){ .writable = packed & RIGHT_W, .user = (packed & RIGHT_U) != 0,
					.nx = (packed & RIGHT_NX) != 0,
					.pkey = (uint8_t)(packed >> RIGHTS_PKEY_SHIFT) };
	r->pa_in_dump = mem_at(mem, r->pa, 1) != NULL;
	r->nentries = (uint8_t)(top - leaf_level + 1);
	for (unsigned i = 0; i < r->nentries; i++) {
		const unsigned level = top - i;
		r->entry[i].level = (uint8_t)level;
		const struct pt_level_desc *ld = &desc->level[level];
		const uint64_t index = (va >> ld->va_shift) & (PT_BIT(ld->index_bits) - 1);
		r->entry[i].pa = table + index * desc->entry_size;
		r->entry[i].value = e->value[i];
		table = e->value[i] & ~ctx->cbit_mask & ctx->addr_mask;
	}
	r->fault = (struct pt_fault){ 0 };
	r->table_pa = 0;
}

enum pt_status pt_tlb_translate(struct pt_tlb *tlb, const struct pt_context *ctx,
				const struct pt_mem *mem, uint64_t va,
				const struct pt_access *access, struct pt_result *r)
{
	if (!ctx->desc)
		return pt_translate(ctx, mem, va, access, r);
	struct tlb_space *space = &tlb->spaces[tlb->last_space];
	if (!space->used || !key_matches(&space->key, ctx, mem)) {
		struct space_key key;
		make_key(ctx, mem, &key);
		space = get_space(tlb, &key, ctx->desc);
	}
	const unsigned nclasses = space->nclasses;
	struct tlb_entry *slot[3];
	uint64_t tag[3];

	/* The size class that hit last is probed first (workloads stay on one page size for a
	 * while); the others only when it misses. */
	unsigned c = tlb->last_class < nclasses ? tlb->last_class : 0;
	for (unsigned tries = 0; tries < nclasses; tries++, c = (c + 1) % nclasses) {
		tag[c] = (va >> space->shift[c]) << 2 | c;
		slot[c] = &tlb->entries[slot_index(tlb, tag[c], space->gen)];
		const struct tlb_entry *e = slot[c];
		if (e->tag == tag[c] && e->meta >> META_GEN_SHIFT == space->gen) {
			tlb->stats.hits++;
			tlb->last_class = c;
			fill_from_entry(ctx, mem, va, e, space->level[c], r);
			return pt_result_check_access(ctx, access, r);
		}
	}
	tlb->stats.misses++;
	enum pt_status st = pt_walk(ctx, mem, va, r);
	if (st != PT_OK) {
		/* Faults and missing tables are not cached: the full translation gives the answer. */
		return pt_translate(ctx, mem, va, access, r);
	}
	for (c = 0; c < nclasses; c++) {
		if (space->level[c] != r->level)
			continue;
		struct tlb_entry *e = slot[c];
		const struct pt_rights *rt = &r->rights;
		e->tag = tag[c];
		e->meta = space->gen << META_GEN_SHIFT | (rt->writable ? RIGHT_W : 0) |
			  (rt->user ? RIGHT_U : 0) | (rt->nx ? RIGHT_NX : 0) |
			  (unsigned)(rt->pkey << RIGHTS_PKEY_SHIFT);
		e->page_pa = r->pa - (va & (r->page_size - 1));
		for (unsigned i = 0; i < r->nentries; i++)
			e->value[i] = r->entry[i].value;
	}
	return pt_result_check_access(ctx, access, r);
}

void pt_tlb_flush_space(struct pt_tlb *tlb, const struct pt_context *ctx, const struct pt_mem *mem)
{
	struct space_key key;
	make_key(ctx, mem, &key);
	struct tlb_space *s = find_space(tlb, &key);
	if (s)
		s->gen = tlb->next_gen++;
}

void pt_tlb_flush_all(struct pt_tlb *tlb)
{
	for (unsigned i = 0; i < TLB_SPACES; i++) {
		if (tlb->spaces[i].used)
			tlb->spaces[i].gen = tlb->next_gen++;
	}
}

void pt_tlb_get_stats(const struct pt_tlb *tlb, struct pt_tlb_stats *stats_ret)
{
	*stats_ret = tlb->stats;
}
