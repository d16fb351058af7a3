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
};

/* One cached page: what pt_walk returned for its first byte, compactly (the level of entry i
 * is levels - i, so it is not stored). */
struct tlb_page {
	uint64_t vpn;       /* va >> PT_PAGE_SHIFT */
	uint64_t gen;       /* generation of the space at fill time; 0 = empty */
	uint64_t page_pa;   /* PA of the 4 KiB page */
	uint64_t page_size;
	struct pt_rights rights;
	uint8_t level;
	uint8_t nentries;
};
struct tlb_entry {
	struct tlb_page p;
	uint64_t entry_pa[5];
	uint64_t entry_value[5];
};

struct pt_tlb {
	struct tlb_entry *entries;
	uint64_t mask;
	struct tlb_space spaces[TLB_SPACES];
	unsigned last_space; /* most recently used, checked first */
	unsigned next_victim;
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

/** The space slot of `key`, taking one (and invalidating its old entries) if needed. */
static struct tlb_space *get_space(struct pt_tlb *tlb, const struct space_key *key)
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
	tlb->last_space = i;
	return s;
}

static uint64_t slot_index(const struct pt_tlb *tlb, uint64_t vpn, uint64_t gen)
{
	uint64_t h = (vpn ^ (gen * UINT64_C(0x9e3779b97f4a7c15))) * UINT64_C(0xff51afd7ed558ccd);
	return (h >> 29 ^ h) & tlb->mask;
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
		space = get_space(tlb, &key);
	}
	const uint64_t vpn = va >> PT_PAGE_SHIFT;
	struct tlb_entry *e = &tlb->entries[slot_index(tlb, vpn, space->gen)];

	if (e->p.gen == space->gen && e->p.vpn == vpn) {
		tlb->stats.hits++;
		const unsigned top = ctx->desc->levels;
		r->va = va;
		r->pa = e->p.page_pa | (va & (PT_PAGE_4K - 1));
		r->page_size = e->p.page_size;
		r->level = e->p.level;
		r->rights = e->p.rights;
		r->pa_in_dump = mem->ptr(mem, r->pa, 1) != NULL;
		r->nentries = e->p.nentries;
		for (unsigned i = 0; i < e->p.nentries; i++) {
			r->entry[i].level = (uint8_t)(top - i);
			r->entry[i].pa = e->entry_pa[i];
			r->entry[i].value = e->entry_value[i];
		}
		r->fault = (struct pt_fault){ 0 };
		r->table_pa = 0;
		return pt_result_check_access(ctx, access, r);
	}
	tlb->stats.misses++;
	enum pt_status st = pt_walk(ctx, mem, va & ~(PT_PAGE_4K - 1), r);
	if (st == PT_OK) {
		e->p = (struct tlb_page){ .vpn = vpn, .gen = space->gen, .page_pa = r->pa, .page_size = r->page_size,
					  .rights = r->rights, .level = r->level, .nentries = r->nentries };
		for (unsigned i = 0; i < r->nentries; i++) {
			e->entry_pa[i] = r->entry[i].pa;
			e->entry_value[i] = r->entry[i].value;
		}
		r->va = va;
		r->pa |= va & (PT_PAGE_4K - 1);
		r->pa_in_dump = mem->ptr(mem, r->pa, 1) != NULL;
		return pt_result_check_access(ctx, access, r);
	}
	/* Faults and missing tables are not cached: redo the full translation for its answer. */
	return pt_translate(ctx, mem, va, access, r);
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
