/* SPDX-License-Identifier: MIT */
/*
 * kit/cases_random.c: random.* (random page-table trees per mode, fixed seeds) and random.rights
 * (the same with the rights checked under random CR0.WP/SMEP/SMAP/PKE). A tree is grown top-down
 * from the root: each table gets a few entries at random indices, each a table, a leaf (where the
 * level may map a page), a non-present entry with garbage in its other bits, or, now and then, an
 * entry with a reserved bit; entries carry random rights, PWT/PCD/A/D/G, PAT, ignored bits and
 * protection keys, frames anywhere below 2^MAXPHYADDR. Probes land in every entry's range and at
 * random addresses, canonical or not. The expected answers are libptwalk's alone.
 */
#include <stdlib.h>

#include "kit_internal.h"

/** The largest number of tables one tree may have. */
enum { MAX_TABLES = 96 };

/** What a random case draws from. */
struct rnd {
	struct kit_builder *b;
	unsigned tables;        /**< tables allocated so far */
	bool wide;              /**< 8-byte entries */
	uint64_t *targets;      /**< addresses worth probing (one per entry written) */
	size_t ntargets, cap;
};

static bool chance(struct kit_builder *b, unsigned one_in)
{
	return kit_below(&b->rng, one_in) == 0;
}

static void add_target(struct rnd *r, uint64_t va)
{
	if (r->ntargets == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		uint64_t *t = realloc(r->targets, r->cap * sizeof(*t));
		if (!t)
			abort();
		r->targets = t;
	}
	r->targets[r->ntargets++] = va;
}

/** Random attribute bits of an entry at `level` (P set; no frame). */
static uint64_t random_flags(struct rnd *r, unsigned level, bool leaf)
{
	struct kit_builder *b = r->b;
	uint64_t f = PTE_P | (kit_rand(&b->rng) & (PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A));

	if (r->wide && chance(b, 4))
		f |= PTE_XD;
	if (r->wide && chance(b, 4))
		f |= (kit_rand(&b->rng) & UINT64_C(0x7f)) << 52; /* ignored bits 58:52 (and keys) */
	if (chance(b, 4))
		f |= (kit_rand(&b->rng) & 7) << 9;               /* ignored bits 11:9 */
	if (leaf) {
		f |= kit_rand(&b->rng) & (PTE_D | PTE_G);
		if (level == 1 && chance(b, 4))
			f |= PTE_PAT;
		if (level > 1 && chance(b, 3))
			f |= PTE_PAT_LARGE;
		if (r->wide && chance(b, 3))
			f |= (kit_rand(&b->rng) & 0xf) << PTE_BIT_PKEY;
	}
	return f;
}

/** A frame of `size` below 2^M (32-bit tables: below 4 GiB but for PSE-36 pages). */
static uint64_t random_frame(struct rnd *r, uint64_t size)
{
	const unsigned m = kb_cpu(r->b)->maxphyaddr;
	unsigned top = r->wide || size == PT_PAGE_4M ? m : 32;

	if (!r->wide && size == PT_PAGE_4M && top > 40)
		top = 40;
	if (chance(r->b, 3) && top > 34)
		top = 32 + (unsigned)kit_below(&r->b->rng, top - 32); /* often near the bottom */
	return kit_rand(&r->b->rng) & (PT_BIT(top) - 1) & ~(size - 1);
}

/** A reserved bit of an entry at `level` (a large page's low frame bits, bits 51:M, PS above
 *  level 3), or 0 when the mode has none there. */
static uint64_t random_reserved(struct rnd *r, unsigned level, bool large)
{
	struct kit_builder *b = r->b;
	const unsigned m = kb_cpu(b)->maxphyaddr;

	if (large && chance(b, 2))
		return PT_BIT(13 + kit_below(&b->rng, r->wide ? (level == 3 ? 17 : 8) : 1));
	if (r->wide && m < 52)
		return PT_BIT(m + kit_below(&b->rng, 52 - m));
	if (r->wide && level >= 4)
		return PTE_PS;
	return 0;
}

/** Fill the table at `table` (level `level`, covering VAs from `va`) and recurse. */
static void grow(struct rnd *r, uint64_t table, unsigned level, uint64_t va)
{
	struct kit_builder *b = r->b;
	const struct pt_level_desc *ld = &b->desc->level[level];
	const unsigned n = level == b->desc->levels ? 6 + (unsigned)kit_below(&b->rng, 6)
						    : 1 + (unsigned)kit_below(&b->rng, 5);
	const bool pdpt = b->mode == PT_MODE_PAE && level == 3;
	const bool may_page = ld->may_map_page && !(b->mode == PT_MODE_LEGACY && !(kb_cpu(b)->cr4 & CR4_PSE));

	for (unsigned i = 0; i < (pdpt ? 4 : n); i++) {
		const uint64_t index = pdpt ? i : kit_below(&b->rng, PT_BIT(ld->index_bits));
		const uint64_t epa = table + index * b->desc->entry_size;
		const uint64_t eva = pt_va_canonicalize(&(struct pt_context){ .desc = b->desc },
							va + (index << ld->va_shift));
		const unsigned roll = (unsigned)kit_below(&b->rng, 16);
		uint64_t e;

		if (kb_get(b, epa))
			continue;
		add_target(r, eva);
		if (pdpt && roll < 3)
			continue; /* a not-present PDPTE (a present one may have no reserved bit) */
		if (roll < 2 && !pdpt) {
			/* Not present, other bits random (never a #GP: P = 0). */
			kb_set(b, epa, (kit_rand(&b->rng) & ~PTE_P) & (r->wide ? ~UINT64_C(0) : 0xffffffff));
		} else if (level > 1 && (pdpt || roll < 9 || !may_page) && r->tables < MAX_TABLES) {
			const uint64_t t = kb_table(b);
			r->tables++;
			e = t | (pdpt ? PTE_P : random_flags(r, level, false) | (chance(b, 2) ? KIT_TABLE_FLAGS : 0));
			if (!pdpt && chance(b, 20))
				e |= random_reserved(r, level, false);
			kb_set(b, epa, e);
			grow(r, t, level - 1, eva);
		} else if (level == 1 || may_page) {
			const uint64_t size = b->mode == PT_MODE_LEGACY && level == 2 ? PT_PAGE_4M
												: PT_BIT(ld->va_shift);
			const uint64_t frame = random_frame(r, size);
			e = random_flags(r, level, true) | (level > 1 ? PTE_PS : 0);
			if (b->mode == PT_MODE_LEGACY && level == 2)
				e |= (frame & UINT64_C(0xffc00000)) | (((frame >> 32) & 0xff) << 13);
			else
				e |= frame;
			if (chance(b, 16))
				e |= random_reserved(r, level, level > 1);
			kb_set(b, epa, e);
		}
	}
}

/** Random CPU state bits a mode allows. */
static void random_cpu(struct kit_builder *b, bool rights)
{
	struct pt_cpu_state *s = kb_cpu(b);

	if (b->mode == PT_MODE_LEGACY && chance(b, 3))
		s->cr4 &= ~CR4_PSE;
	if (b->mode != PT_MODE_LEGACY && chance(b, 4))
		s->efer &= ~EFER_NXE;
	if ((b->mode == PT_MODE_IA32E || b->mode == PT_MODE_LA57) && chance(b, 2)) {
		s->cr4 |= CR4_PCIDE;
		s->cr3 |= kit_below(&b->rng, 4096);
	}
	if (!rights)
		return; /* pure translation: no SMAP or keys (a supervisor read replays it) */
	if (chance(b, 3))
		s->cr0 &= ~CR0_WP;
	s->cr4 |= kit_rand(&b->rng) & (CR4_SMEP | CR4_SMAP);
	if (b->mode == PT_MODE_IA32E && chance(b, 2)) {
		s->cr4 |= CR4_PKE;
		s->pkru = (uint32_t)kit_rand(&b->rng);
	}
}

/** The MAXPHYADDR of a random case. */
static unsigned random_m(struct kit_builder *b)
{
	static const uint8_t legacy[] = { 32, 36, 40, 46 }, other[] = { 36, 39, 40, 42, 46, 48, 52 };
	return b->mode == PT_MODE_LEGACY ? legacy[kit_below(&b->rng, 4)] : other[kit_below(&b->rng, 7)];
}

static struct kit_case *build_random(const struct kit_case_def *def, const char *globs,
				     struct pt_error *err)
{
	const enum pt_mode mode = (enum pt_mode)(def->arg & 0xff);
	const bool rights = (def->arg >> 8) & 1;
	static const uint32_t kinds[] = { KA_R, KA_W, KA_X };
	struct kit_builder b;
	struct rnd r = { .b = &b, .wide = mode != PT_MODE_LEGACY };
	struct pt_context ctx = { 0 };

	kb_begin(&b, def->name, mode, 46, 0x100000, globs);
	kb_cpu(&b)->maxphyaddr = (uint8_t)random_m(&b);
	random_cpu(&b, rights);
	ctx.desc = b.desc;
	kb_tag(&b, rights ? "random.rights" : def->tags);
	grow(&r, b.root + b.pdpt_offset, b.desc->levels, 0);
	for (size_t i = 0; i < r.ntargets; i++) {
		for (unsigned j = 0; j < 4; j++) {
			const unsigned level_shift = (unsigned)kit_below(&b.rng, 22);
			const uint64_t va = r.targets[i] + ((kit_rand(&b.rng) & (PT_BIT(level_shift) - 1)) & ~UINT64_C(7));
			const uint32_t access = rights ? (kinds[kit_below(&b.rng, 3)] |
							  (chance(&b, 2) ? KA_U : 0) | KA_C) : KA_R;
			kb_probe(&b, va, access, ki_derive());
		}
	}
	for (unsigned i = 0; i < 40; i++) {
		/* Anywhere: canonical or not (32-bit modes: any 32-bit address). */
		uint64_t va = kit_rand(&b.rng) & ~UINT64_C(7);
		if (mode == PT_MODE_LEGACY || mode == PT_MODE_PAE)
			va &= 0xffffffff;
		else if (chance(&b, 2))
			va = pt_va_canonicalize(&ctx, va);
		kb_probe(&b, va, rights ? KA_U | KA_C : KA_R, ki_derive());
	}
	free(r.targets);
	return kb_finish(&b);
}

#define RND(name, tag, mode, seed) { name, tag, build_random, (mode) | (uint64_t)(seed) << 16 }
const struct kit_case_def kit_cases_random[] = {
	RND("random-legacy32-1", "random.legacy32", PT_MODE_LEGACY, 1),
	RND("random-legacy32-2", "random.legacy32", PT_MODE_LEGACY, 2),
	RND("random-legacy32-3", "random.legacy32", PT_MODE_LEGACY, 3),
	RND("random-pae-1", "random.pae", PT_MODE_PAE, 1),
	RND("random-pae-2", "random.pae", PT_MODE_PAE, 2),
	RND("random-pae-3", "random.pae", PT_MODE_PAE, 3),
	RND("random-ia32e4-1", "random.ia32e4", PT_MODE_IA32E, 1),
	RND("random-ia32e4-2", "random.ia32e4", PT_MODE_IA32E, 2),
	RND("random-ia32e4-3", "random.ia32e4", PT_MODE_IA32E, 3),
	RND("random-ia32e5-1", "random.ia32e5", PT_MODE_LA57, 1),
	RND("random-ia32e5-2", "random.ia32e5", PT_MODE_LA57, 2),
	RND("random-ia32e5-3", "random.ia32e5", PT_MODE_LA57, 3),
	{ "random-rights-ia32e4", "random.rights", build_random, PT_MODE_IA32E | 1 << 8 },
	{ "random-rights-pae", "random.rights", build_random, PT_MODE_PAE | 1 << 8 },
	{ "random-rights-legacy32", "random.rights", build_random, PT_MODE_LEGACY | 1 << 8 },
	{ 0 },
};
