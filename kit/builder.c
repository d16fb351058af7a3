/* SPDX-License-Identifier: MIT */
/*
 * kit/builder.c: the case builder. Tables come from a small allocator (low memory unless a case
 * asks otherwise), leaves may point anywhere in the 52-bit physical space (the pages are sparse),
 * the level arithmetic is the walker's own (pt_mode_desc), and every probe carries the answer its
 * author states, which kb_finish sets beside libptwalk's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_internal.h"
#include "ptlab/le.h"

/** The one tag whose probes compare #PF error codes (PTLAB_CAP_PF_ERROR). */
static const char TAG_PF_ERROR[] = "pf-error";

static void die(const struct kit_builder *b, const char *what)
{
	fprintf(stderr, "ptlab: conformance case %s: %s\n", b->kc ? b->kc->name : "?", what);
	abort();
}

/** FNV-1a of the case name: each case's random choices are its own and fixed. */
static uint64_t name_seed(const char *name)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * UINT64_C(0x100000001b3);
	return h;
}

void kb_begin(struct kit_builder *b, const char *name, enum pt_mode mode, unsigned maxphyaddr,
	      uint64_t table_base, const char *globs)
{
	struct kit_case *kc = kit_case_new(name);
	struct pt_cpu_state *s;

	memset(b, 0, sizeof(*b));
	b->kc = kc;
	b->globs = globs;
	b->mode = mode;
	b->desc = pt_mode_desc(mode);
	if (!b->desc)
		die(b, "paging mode without tables");
	b->table_next = table_base;
	b->rng = name_seed(name);
	b->root = kb_table(b);
	s = &kc->pub.state;
	pt_cpu_state_default(s, b->root);
	pt_cpu_state_set_mode(s, mode);
	s->maxphyaddr = (uint8_t)maxphyaddr;
	if (mode == PT_MODE_LEGACY)
		s->efer = 0; /* a 32-bit kernel: no EFER bits in use */
	if (mode == PT_MODE_IA32E || mode == PT_MODE_LA57)
		kc->root_vaddr = KIT_ROOT_VA;
}

uint64_t kb_table(struct kit_builder *b)
{
	uint64_t pa = b->table_next;

	if (pa % PT_PAGE_4K || kit_pages_find(&b->kc->pages, pa))
		die(b, "table allocator ran into a page in use");
	b->table_next += PT_PAGE_4K;
	kit_pages_table(&b->kc->pages, pa);
	return pa;
}

struct pt_cpu_state *kb_cpu(struct kit_builder *b)
{
	return &b->kc->pub.state;
}

uint64_t kb_get(const struct kit_builder *b, uint64_t entry_pa)
{
	const uint8_t *page = kit_pages_find(&b->kc->pages, entry_pa);
	const unsigned n = b->desc->entry_size;

	if (!page)
		die(b, "entry outside the tables");
	return pt_le_get(page + (entry_pa & (PT_PAGE_4K - 1)), n);
}

void kb_set(struct kit_builder *b, uint64_t entry_pa, uint64_t value)
{
	uint8_t *page = kit_pages_table(&b->kc->pages, entry_pa);

	pt_le_put(page + (entry_pa & (PT_PAGE_4K - 1)), value, b->desc->entry_size);
}

/** The top table: the root page, or the PDPT inside it. */
static uint64_t top_table(const struct kit_builder *b)
{
	return b->root + b->pdpt_offset;
}

/** PA of the entry for va at `level` in the table at `table` (the walker's index arithmetic). */
static uint64_t entry_in(const struct kit_builder *b, uint64_t table, uint64_t va, unsigned level)
{
	const struct pt_level_desc *ld = &b->desc->level[level];
	const uint64_t index = (va >> ld->va_shift) & (PT_BIT(ld->index_bits) - 1);
	return table + index * b->desc->entry_size;
}

/** The table an entry points to: bits 31:12 of a 4-byte entry, M-1:12 of an 8-byte one, the
 *  C-bit not included. */
static uint64_t next_table(const struct kit_builder *b, uint64_t entry)
{
	const struct pt_cpu_state *s = &b->kc->pub.state;
	uint64_t mask = b->desc->entry_size == 4 ? UINT64_C(0xfffff000)
						 : (PT_BIT(s->maxphyaddr) - 1) & ~UINT64_C(0xfff);
	if (s->cbit)
		mask &= ~PT_BIT(s->cbit);
	return entry & mask;
}

uint64_t kb_entry(const struct kit_builder *b, uint64_t va, unsigned level)
{
	uint64_t table = top_table(b);

	for (unsigned l = b->desc->levels; l > level; l--) {
		uint64_t e = kb_get(b, entry_in(b, table, va, l));
		if (!(e & PTE_P))
			die(b, "kb_entry: no table on the way");
		table = next_table(b, e);
	}
	return entry_in(b, table, va, level);
}

uint64_t kb_map(struct kit_builder *b, uint64_t va, uint64_t pa, unsigned level, uint64_t flags)
{
	uint64_t table = top_table(b), leaf = flags, epa;

	for (unsigned l = b->desc->levels; l > level; l--) {
		epa = entry_in(b, table, va, l);
		uint64_t e = kb_get(b, epa);
		if (!(e & PTE_P)) {
			/* Table 4-8: a PAE PDPTE has no R/W or U/S bits (they are reserved). */
			uint64_t tflags = (b->mode == PT_MODE_PAE && l == 3) ? PTE_P : KIT_TABLE_FLAGS;
			e = kb_table(b) | tflags | b->table_extra;
			kb_set(b, epa, e);
		}
		table = next_table(b, e);
	}
	if (level > 1) {
		leaf |= PTE_PS;
		if (b->mode == PT_MODE_LEGACY) /* Table 4-5: PA bits 39:32 in entry bits 20:13 */
			leaf |= (pa & UINT64_C(0xffc00000)) | (((pa >> 32) & 0xff) << 13);
		else
			leaf |= pa;
	} else {
		leaf |= pa;
	}
	epa = entry_in(b, table, va, level);
	kb_set(b, epa, leaf);
	return epa;
}

void kb_or(struct kit_builder *b, uint64_t va, unsigned level, uint64_t bits)
{
	uint64_t epa = kb_entry(b, va, level);
	kb_set(b, epa, kb_get(b, epa) | bits);
}

void kb_clear(struct kit_builder *b, uint64_t va, unsigned level, uint64_t bits)
{
	uint64_t epa = kb_entry(b, va, level);
	kb_set(b, epa, kb_get(b, epa) & ~bits);
}

void kb_tag(struct kit_builder *b, const char *tag)
{
	b->tag_on = kit_tag_selected(b->globs, tag);
	if (b->tag_on)
		b->tag = kit_case_add_tag(b->kc, tag, false);
}

void kb_probe(struct kit_builder *b, uint64_t va, uint32_t access, struct kit_intent intent)
{
	struct kit_case *kc = b->kc;
	struct ptk_probe *p;

	if (va % 8)
		die(b, "probe VA not 8-byte aligned");
	if (!b->tag_on)
		return;
	if (kc->root_vaddr && (va & ~(PT_PAGE_4K - 1)) == kc->root_vaddr)
		return; /* drgn serves that page from the dump's virtual segment, without a walk */
	p = kit_case_add_probe(kc);
	p->va = va;
	p->access = access;
	p->tag = b->tag;
	if (access & PTLAB_ACCESS_CHECK)
		p->needs |= PTLAB_CAP_RIGHTS;
	if (strcmp(kc->tag_names[b->tag], TAG_PF_ERROR) == 0)
		p->needs |= PTLAB_CAP_PF_ERROR | PTLAB_CAP_RIGHTS;
	kc->intents[kc->nprobes - 1] = intent;
}

void kb_decoy(struct kit_builder *b, uint64_t pa)
{
	struct kit_case *kc = b->kc;

	if (!b->tag_on)
		return; /* no probe of this tag: nothing to catch */
	if (kc->ndecoys == kc->decoy_cap) {
		size_t cap = kc->decoy_cap ? 2 * kc->decoy_cap : 32;
		uint64_t *decoys = realloc(kc->decoys, cap * sizeof(*decoys));
		if (!decoys)
			die(b, "out of memory");
		kc->decoys = decoys;
		kc->decoy_cap = cap;
	}
	kc->decoys[kc->ndecoys++] = pa & ~(PT_PAGE_4K - 1);
}

void kb_probe_mapping(struct kit_builder *b, uint64_t va, uint64_t pa, uint64_t size,
		      unsigned count, uint32_t access)
{
	kb_probe_mapping_bug(b, va, pa, size, count, access, pa);
}

void kb_probe_mapping_bug(struct kit_builder *b, uint64_t va, uint64_t pa, uint64_t size,
			  unsigned count, uint32_t access, uint64_t bug_pa)
{
	const uint64_t pages = size / PT_PAGE_4K;
	const uint64_t inner[2] = { (pages > 2 ? 1 + kit_below(&b->rng, pages - 2) : 0) * PT_PAGE_4K,
				    (pages / 2) * PT_PAGE_4K };

	for (unsigned k = 0; k < count; k++) {
		uint64_t off;
		if (k == 0)
			off = 0;
		else if (k == 1)
			off = size - 8;
		else
			off = inner[k & 1] + 8 * kit_below(&b->rng, PT_PAGE_4K / 8);
		kb_probe(b, va + off, access, ki_pa(pa + off, size));
		if (bug_pa != pa)
			kb_decoy(b, bug_pa + off);
	}
}

void kb_slot(const struct kit_builder *b, unsigned k, uint64_t *va, uint64_t *pa)
{
	switch (b->mode) {
	case PT_MODE_IA32E:
		*va = (uint64_t)(k + 1) << 39;
		*pa = (uint64_t)(k + 1) << 30;
		break;
	case PT_MODE_LA57:
		*va = (uint64_t)(k + 1) << 48;
		*pa = (uint64_t)(k + 1) << 30;
		break;
	case PT_MODE_PAE:
		*va = (uint64_t)(k % 4) << 30 | (uint64_t)(k / 4 + 1) << 21;
		*pa = (uint64_t)(k + 1) << 28;
		break;
	case PT_MODE_LEGACY:
	case PT_MODE_OFF:
		*va = (uint64_t)(k + 1) << 22;
		*pa = (uint64_t)(k + 1) << 24;
		break;
	}
}

void kb_abort(struct kit_builder *b)
{
	kit_case_free(b->kc);
	b->kc = NULL;
}

struct kit_case *kb_finish(struct kit_builder *b)
{
	struct kit_case *kc = b->kc;

	b->kc = NULL;
	if (!kit_case_finish(kc, true)) {
		kit_case_free(kc);
		return NULL;
	}
	return kc;
}
