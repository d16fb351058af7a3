/* SPDX-License-Identifier: MIT */
/*
 * kit/cases_modes.c: the paging modes and page sizes (SDM Vol. 3A 4.3 32-bit paging, 4.4 PAE,
 * 4.5 4-level and 5-level paging): ia32e4.4k/2m/1g, canonical, ia32e5, pae.4k, pae.2m,
 * pae.pdpte-from-register, pae.frames-above-4g, legacy32.4k, legacy32.pse-4m, legacy32.pse36.
 * Every probe states its answer (ki_pa / ki_pf / ki_gp); the kit's tests check each against
 * libptwalk.
 */
#include "kit_internal.h"

/** A frame for mapping i: spread over the physical space below 2^m, aligned to `align`, never in
 *  the low 16 MiB where the tables live. */
static uint64_t spread_frame(unsigned i, uint64_t mult, uint64_t align, unsigned m)
{
	uint64_t pa = ((uint64_t)(i + 1) * mult) & (PT_BIT(m) - 1) & ~(align - 1);

	if (pa < (UINT64_C(16) << 20))
		pa += align > (UINT64_C(16) << 20) ? align : (UINT64_C(16) << 20);
	return pa;
}

/* One step changes the index at every level of 4-level paging (PML4, PDPT, PD, PT). */
static const uint64_t STEP4 = PT_BIT(39) + PT_BIT(30) + PT_BIT(21) + PT_BIT(12);

/* ---- ia32e4.4k / 2m / 1g ------------------------------------------------------------------ */

/** 4 KiB pages in both halves; a not-present entry at each level next to each. */
static void ia32e4_4k(struct kit_builder *b)
{
	kb_tag(b, "ia32e4.4k");
	for (unsigned i = 0; i < 40; i++) {
		const uint64_t base = i % 2 ? UINT64_C(0xffff888000000000) : UINT64_C(0x0000100000000000);
		const uint64_t va = base + (i / 2) * STEP4;
		const uint64_t pa = spread_frame(i, UINT64_C(0x1234567000), PT_PAGE_4K, 46);
		uint64_t flags = KIT_LEAF_FLAGS | (i % 3 ? PTE_US : 0) | (i % 5 ? 0 : PTE_XD | PTE_G);

		kb_map(b, va, pa, 1, flags);
		kb_probe_mapping(b, va, pa, PT_PAGE_4K, 3, KA_R);
		kb_probe(b, va + 0x1000, KA_R, ki_pf(0));        /* PTE not present */
		kb_probe(b, va + PT_PAGE_2M, KA_R, ki_pf(0));    /* PDE not present */
		kb_probe(b, va + PT_PAGE_1G + 8, KA_R, ki_pf(0)); /* PDPTE not present */
	}
	/* PML4 slots nobody uses. */
	static const uint64_t empty[] = { 0x0000008000000000, 0x00007ffffffff000,
					  0xffff800000000000, 0xffffff8000000ff8,
					  0x00000ffffffffff8 };
	for (unsigned i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
		kb_probe(b, empty[i], KA_R, ki_pf(0));
	/* Not-present PTEs that hold other bits (as Linux's swap entries do): still not present. */
	for (unsigned i = 0; i < 8; i++) {
		const uint64_t va = UINT64_C(0x0000100000000000) + i * STEP4 * 2 + 0x3000;
		kb_set(b, kb_entry(b, va, 1), UINT64_C(0x7ff0001234567ffe) - i * 0x1000);
		kb_probe(b, va, KA_R, ki_pf(0));
		kb_probe(b, va + 0xff8, KA_R, ki_pf(0));
	}
}

static void ia32e4_2m(struct kit_builder *b)
{
	kb_tag(b, "ia32e4.2m");
	for (unsigned i = 0; i < 24; i++) {
		const uint64_t base = i % 2 ? UINT64_C(0xffffc90000000000) : UINT64_C(0x0000200000000000);
		const uint64_t va = base + (i / 2) * (PT_BIT(39) + PT_BIT(30) + 3 * PT_PAGE_2M);
		const uint64_t pa = spread_frame(i, UINT64_C(0x12346600000), PT_PAGE_2M, 46);
		/* Bits 62:52 of an entry are ignored (4.5.4, Tables 4-18..4-20): not an address. */
		uint64_t flags = KIT_LEAF_FLAGS | (i % 2 ? PTE_G : PTE_US) |
				 (i % 4 == 3 ? UINT64_C(0x0070000000000000) : 0);

		kb_map(b, va, pa, 2, flags);
		kb_probe_mapping(b, va, pa, PT_PAGE_2M, 5, KA_R);
		kb_probe(b, va + PT_PAGE_2M, KA_R, ki_pf(0));
		kb_probe(b, va - 8, KA_R, ki_pf(0));
	}
}

static void ia32e4_1g(struct kit_builder *b)
{
	kb_tag(b, "ia32e4.1g");
	for (unsigned i = 0; i < 16; i++) {
		const uint64_t base = i % 2 ? UINT64_C(0xffffd00000000000) : UINT64_C(0x0000300000000000);
		const uint64_t va = base + (i / 2) * (PT_BIT(39) + 5 * PT_PAGE_1G);
		const uint64_t pa = spread_frame(i, UINT64_C(0x2b40000000), PT_PAGE_1G, 46);

		kb_map(b, va, pa, 3, KIT_LEAF_FLAGS | (i % 2 ? 0 : PTE_US));
		kb_probe_mapping(b, va, pa, PT_PAGE_1G, 5, KA_R);
		kb_probe(b, va + PT_PAGE_1G, KA_R, ki_pf(0));
	}
}

static struct kit_case *build_ia32e4(const struct kit_case_def *def, const char *globs,
				     struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_IA32E, 46, 0x100000, globs);
	ia32e4_4k(&b);
	ia32e4_2m(&b);
	ia32e4_1g(&b);
	return kb_finish(&b);
}

/* ---- canonical -------------------------------------------------------------------------------- */

/** 4-level: the canonical edges map; every address whose bits 63:47 differ is #GP (3.3.7.1). */
static struct kit_case *build_canonical4(const struct kit_case_def *def, const char *globs,
					 struct pt_error *err)
{
	static const uint64_t edges[] = { 0x00007ffffffff000, 0xffff800000000000,
					  0xfffffffffffff000, 0x0000000000000000 };
	static const uint64_t bad[] = { 0x0000800000000000, 0x0000800000000008, 0xffff7ffffffff000,
					0x8000000000000000, 0x7ffffffffffff000, 0x0001000000000000,
					0xfffe800000000000, 0x0000fffffffff000, 0x0000fffffffffff8,
					0x00008000001ff000, 0x7fff800000000000, 0xffff000000000000 };
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_IA32E, 46, 0x100000, globs);
	kb_tag(&b, "canonical");
	for (unsigned i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		const uint64_t pa = 0x40000000 + i * 0x3000;
		kb_map(&b, edges[i], pa, 1, KIT_LEAF_FLAGS);
		kb_probe(&b, edges[i], KA_R, ki_pa(pa, PT_PAGE_4K));
		kb_probe(&b, edges[i] + 0xff8, KA_R, ki_pa(pa + 0xff8, PT_PAGE_4K));
	}
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		kb_probe(&b, bad[i], KA_R, ki_gp());
	/* One bit of 63:48 flipped in a mapped address. */
	for (unsigned bit = 48; bit < 64; bit++) {
		kb_probe(&b, edges[0] | PT_BIT(bit), KA_R, ki_gp());
		kb_probe(&b, edges[1] & ~PT_BIT(bit), KA_R, ki_gp());
	}
	/* Kernel mappings, and the same addresses with bits 63:48 cleared (what a walker that
	 * masks instead of checking would translate). */
	for (unsigned i = 0; i < 16; i++) {
		const uint64_t va = UINT64_C(0xffff9a0000000000) + i * (STEP4 + 0x5000);
		const uint64_t pa = spread_frame(i, UINT64_C(0x7654321000), PT_PAGE_4K, 46);
		kb_map(&b, va, pa, 1, KIT_LEAF_FLAGS);
		kb_probe(&b, va + 0x10, KA_R, ki_pa(pa + 0x10, PT_PAGE_4K));
		kb_probe(&b, (va + 0x10) & UINT64_C(0x0000ffffffffffff), KA_R, ki_gp());
	}
	return kb_finish(&b);
}

/** 5-level: 57-bit canonical form; 0x0000800000000000 is a user address there. */
static struct kit_case *build_canonical5(const struct kit_case_def *def, const char *globs,
					 struct pt_error *err)
{
	static const uint64_t edges[] = { 0x0000800000000000, 0x00fffffffffff000,
					  0xff00000000000000, 0xffff800000000000,
					  0xfffffffffffff000 };
	static const uint64_t bad[] = { 0x0100000000000000, 0xfeff000000000000, 0x8000000000000000,
					0x01fffffffffff000, 0x7f00000000000000, 0xfe00000000001000 };
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_LA57, 52, 0x100000, globs);
	kb_tag(&b, "canonical");
	for (unsigned i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		const uint64_t pa = 0x80000000 + i * 0x5000;
		kb_map(&b, edges[i], pa, 1, KIT_LEAF_FLAGS);
		kb_probe(&b, edges[i], KA_R, ki_pa(pa, PT_PAGE_4K));
		kb_probe(&b, edges[i] + 0xff8, KA_R, ki_pa(pa + 0xff8, PT_PAGE_4K));
	}
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		kb_probe(&b, bad[i], KA_R, ki_gp());
	for (unsigned bit = 57; bit < 64; bit++) {
		kb_probe(&b, edges[1] | PT_BIT(bit), KA_R, ki_gp());
		kb_probe(&b, edges[2] & ~PT_BIT(bit), KA_R, ki_gp());
	}
	return kb_finish(&b);
}

/* ---- ia32e5 ------------------------------------------------------------------------------------ */

/** 5-level paging: PML5 indices in use; addresses that differ only in bits 56:48 map apart. */
static struct kit_case *build_ia32e5(const struct kit_case_def *def, const char *globs,
				     struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_LA57, 52, 0x100000, globs);
	kb_tag(&b, "ia32e5");
	for (unsigned i = 0; i < 24; i++) {
		const uint64_t base = i % 2 ? UINT64_C(0xff00000000000000) : 0;
		const unsigned level = 1 + i % 3;
		const uint64_t size = PT_BIT(12 + 9 * (level - 1));
		const uint64_t va = (base + (uint64_t)(i / 2 + 1) * PT_BIT(48) + (i / 2) * STEP4) &
				    ~(size - 1);
		const uint64_t pa = spread_frame(i, UINT64_C(0x3456789abc000), size, 52);

		kb_map(&b, va, pa, level, KIT_LEAF_FLAGS);
		kb_probe_mapping(&b, va, pa, size, 4, KA_R);
		/* The same address with another PML5 index: not mapped. */
		kb_probe(&b, va + 64 * PT_BIT(48), KA_R, ki_pf(0));
	}
	/* Two addresses one PML5 entry apart, mapped to different frames. */
	for (unsigned i = 0; i < 8; i++) {
		const uint64_t va = UINT64_C(0x0080000000000000) + i * PT_BIT(48) + 0x7000;
		const uint64_t pa = 0x100000000 + i * 0x1000000;
		kb_map(&b, va, pa, 1, KIT_LEAF_FLAGS);
		kb_probe(&b, va + 0x88, KA_R, ki_pa(pa + 0x88, PT_PAGE_4K));
	}
	kb_probe(&b, 0x00f0000000000000, KA_R, ki_pf(0)); /* PML5E not present */
	kb_probe(&b, 0xfff0000000000000, KA_R, ki_pf(0));
	return kb_finish(&b);
}

/* ---- PAE ---------------------------------------------------------------------------------------- */

static struct kit_case *build_pae(const struct kit_case_def *def, const char *globs,
				  struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_PAE, 36, 0x100000, globs);
	kb_tag(&b, "pae.4k");
	for (unsigned i = 0; i < 30; i++) {
		/* PDPTEs 0, 1 and 3; PDPTE 2 stays not present. */
		const uint64_t va = (uint64_t)(i % 3 == 2 ? 3 : i % 3) << 30 |
				    (uint64_t)((i * 37) % 512) << 21 | (uint64_t)((i * 91) % 512) << 12;
		const uint64_t pa = 0x10000000 + i * 0x5000;
		kb_map(&b, va, pa, 1, KIT_LEAF_FLAGS | (i % 4 ? PTE_US : PTE_XD));
		kb_probe_mapping(&b, va, pa, PT_PAGE_4K, 3, KA_R);
		kb_probe(&b, va ^ 0x1000, KA_R, ki_pf(0));
	}
	kb_probe(&b, 0x80000000, KA_R, ki_pf(0));
	kb_probe(&b, 0xbffffff8, KA_R, ki_pf(0));
	kb_probe(&b, 0x92345678 & ~7u, KA_R, ki_pf(0));
	kb_tag(&b, "pae.2m");
	for (unsigned i = 0; i < 16; i++) {
		const uint64_t va = 0xc0000000 + (uint64_t)(3 + i * 29 % 500) * PT_PAGE_2M;
		const uint64_t pa = 0x20000000 + (uint64_t)(i * 7) * PT_PAGE_2M;
		kb_map(&b, va, pa, 2, KIT_LEAF_FLAGS | (i % 2 ? PTE_G : PTE_XD));
		kb_probe_mapping(&b, va, pa, PT_PAGE_2M, 4, KA_R);
		kb_probe(&b, va + PT_PAGE_2M, KA_R, ki_pf(0));
	}
	return kb_finish(&b);
}

/**
 * The PDPTE registers were loaded at the last MOV to CR3; the PDPT in memory was rewritten
 * since. Translation uses the registers (4.4.1): PDPTE 3 points to another directory in memory,
 * PDPTE 1 is not present in memory but is in the register, PDPTE 2 the other way round.
 */
static struct kit_case *build_pae_registers(const struct kit_case_def *def, const char *globs,
					    struct pt_error *err)
{
	struct kit_builder b;
	struct pt_cpu_state *s;
	uint64_t pdpt = 0, regs[4];

	kb_begin(&b, def->name, PT_MODE_PAE, 36, 0x100000, globs);
	kb_tag(&b, "pae.pdpte-from-register");
	kb_map(&b, 0xc0000000, 0x3000000, 1, KIT_LEAF_FLAGS);
	kb_map(&b, 0xc0200000, 0x3200000, 2, KIT_LEAF_FLAGS);
	kb_map(&b, 0x40000000, 0x4000000, 1, KIT_LEAF_FLAGS);
	pdpt = b.root;
	for (unsigned i = 0; i < 4; i++)
		regs[i] = kb_get(&b, pdpt + 8 * i);
	/* Memory from now on: PDPTE 3 -> a second directory mapping the same VAs elsewhere,
	 * PDPTE 1 cleared, PDPTE 2 -> a directory of its own. */
	kb_set(&b, pdpt + 8 * 3, 0);
	kb_map(&b, 0xc0000000, 0x5000000, 1, KIT_LEAF_FLAGS);
	kb_map(&b, 0xc0200000, 0x5200000, 2, KIT_LEAF_FLAGS);
	kb_map(&b, 0x80000000, 0x6000000, 1, KIT_LEAF_FLAGS);
	kb_set(&b, pdpt + 8 * 1, 0);
	s = kb_cpu(&b);
	s->has_pdpte_regs = true;
	for (unsigned i = 0; i < 4; i++)
		s->pdpte_regs[i] = regs[i];
	for (unsigned i = 0; i < 6; i++) {
		const uint64_t off = i * 0x2a8;
		kb_probe(&b, 0xc0000000 + off, KA_R, ki_pa(0x3000000 + off, PT_PAGE_4K));
		kb_probe(&b, 0xc0200000 + off * 0x101, KA_R, ki_pa(0x3200000 + off * 0x101, PT_PAGE_2M));
		kb_probe(&b, 0x40000000 + off, KA_R, ki_pa(0x4000000 + off, PT_PAGE_4K));
		kb_probe(&b, 0x80000000 + off, KA_R, ki_pf(0));
	}
	return kb_finish(&b);
}

/** PAE frames and tables above 4 GiB, up to 2^MAXPHYADDR (Tables 4-9..4-11: bits M-1:12). */
static struct kit_case *build_pae_high(const struct kit_case_def *def, const char *globs,
				       struct pt_error *err)
{
	const unsigned m = (unsigned)def->arg;
	const uint64_t top = PT_BIT(m);
	const uint64_t frames4k[] = { 0x100000000, 0x123456000 & (top - 1), top - 0x1000,
				      top / 2 + 0x7000, 0x1fffff000 };
	const uint64_t frames2m[] = { 0x200000000, top - PT_PAGE_2M, top / 2 + PT_PAGE_2M * 5 };
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_PAE, m, 0x100000, globs);
	b.table_next = top / 4; /* directories and page tables above 4 GiB; the PDPT stays low */
	kb_tag(&b, "pae.frames-above-4g");
	for (unsigned i = 0; i < sizeof(frames4k) / sizeof(frames4k[0]); i++) {
		const uint64_t va = 0x08000000 + i * 0x20201000;
		kb_map(&b, va, frames4k[i], 1, KIT_LEAF_FLAGS);
		kb_probe_mapping(&b, va, frames4k[i], PT_PAGE_4K, 4, KA_R);
	}
	for (unsigned i = 0; i < sizeof(frames2m) / sizeof(frames2m[0]); i++) {
		const uint64_t va = 0xc0000000 + i * 0x10600000;
		kb_map(&b, va, frames2m[i], 2, KIT_LEAF_FLAGS);
		kb_probe_mapping(&b, va, frames2m[i], PT_PAGE_2M, 6, KA_R);
	}
	return kb_finish(&b);
}

/* ---- 32-bit paging ------------------------------------------------------------------------------ */

static struct kit_case *build_legacy(const struct kit_case_def *def, const char *globs,
				     struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_LEGACY, 36, 0x100000, globs);
	kb_tag(&b, "legacy32.4k");
	for (unsigned i = 0; i < 32; i++) {
		const uint64_t va = (uint64_t)((i * 101 + 3) % 1024) << 22 | (uint64_t)((i * 37) % 1024) << 12;
		const uint64_t pa = 0x08000000 + i * 0x7000;
		kb_map(&b, va, pa, 1, PTE_P | PTE_RW | (i % 2 ? PTE_US : 0) | (i % 3 ? 0 : PTE_PAT));
		kb_probe_mapping(&b, va, pa, PT_PAGE_4K, 3, KA_R);
		kb_probe(&b, va ^ 0x1000, KA_R, ki_pf(0));
	}
	kb_probe(&b, 0x00000000, KA_R, ki_pf(0));
	kb_probe(&b, 0xfffffff8, KA_R, ki_pf(0));
	kb_tag(&b, "legacy32.pse-4m");
	for (unsigned i = 0; i < 16; i++) {
		/* 4 MiB pages at 0x80000000 up, their frames nowhere near the VA. */
		const uint64_t va = 0x80000000 + (uint64_t)i * 3 * PT_PAGE_4M;
		const uint64_t pa = (uint64_t)(i * 5 + 1) * PT_PAGE_4M;
		kb_map(&b, va, pa, 2, PTE_P | PTE_RW | (i % 2 ? PTE_G : PTE_US));
		kb_probe_mapping(&b, va, pa, PT_PAGE_4M, 5, KA_R);
		kb_probe(&b, va + PT_PAGE_4M, KA_R, ki_pf(0));
	}
	return kb_finish(&b);
}

/** CR4.PSE = 0: the PS bit of a PDE is ignored and the PDE points to a page table (4.3). */
static struct kit_case *build_legacy_nopse(const struct kit_case_def *def, const char *globs,
					   struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_LEGACY, 32, 0x100000, globs);
	kb_cpu(&b)->cr4 &= ~CR4_PSE;
	kb_tag(&b, "legacy32.4k");
	for (unsigned i = 0; i < 8; i++) {
		const uint64_t va = 0xc0000000 + (uint64_t)i * (PT_PAGE_4M + 0x3000);
		const uint64_t pa = 0x01000000 + i * 0x11000;
		kb_map(&b, va, pa, 1, PTE_P | PTE_RW);
		kb_or(&b, va, 2, PTE_PS);
		kb_probe_mapping(&b, va, pa, PT_PAGE_4K, 3, KA_R);
		kb_probe(&b, va + 0x1000, KA_R, ki_pf(0));
	}
	return kb_finish(&b);
}

/** PSE-36 (Table 4-5): a 4 MiB page's PA bits (M'-1):32 sit in PDE bits (M'-20):13, M' =
 *  min(MAXPHYADDR, 40). */
static struct kit_case *build_pse36(const struct kit_case_def *def, const char *globs,
				    struct pt_error *err)
{
	const unsigned m = (unsigned)def->arg, mp = m < 40 ? m : 40;
	const uint64_t top = PT_BIT(mp);
	const uint64_t frames[] = { 0x100000000, 0x100400000, top - PT_PAGE_4M, top / 2 + 0x2c00000,
				    0x1c0000000 & (top - 1) };
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_LEGACY, m, 0x100000, globs);
	kb_tag(&b, "legacy32.pse36");
	for (unsigned i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		const uint64_t va = 0xc0000000 + (uint64_t)i * 2 * PT_PAGE_4M;
		kb_map(&b, va, frames[i], 2, PTE_P | PTE_RW);
		kb_probe_mapping(&b, va, frames[i], PT_PAGE_4M, 6, KA_R);
	}
	return kb_finish(&b);
}

const struct kit_case_def kit_cases_modes[] = {
	{ "ia32e4-pages", "ia32e4.4k,ia32e4.2m,ia32e4.1g", build_ia32e4, 0 },
	{ "canonical-4level", "canonical", build_canonical4, 0 },
	{ "canonical-5level", "canonical", build_canonical5, 0 },
	{ "ia32e5-pages", "ia32e5", build_ia32e5, 0 },
	{ "pae-pages", "pae.4k,pae.2m", build_pae, 0 },
	{ "pae-pdpte-registers", "pae.pdpte-from-register", build_pae_registers, 0 },
	{ "pae-frames-above-4g-m40", "pae.frames-above-4g", build_pae_high, 40 },
	{ "pae-frames-above-4g-m52", "pae.frames-above-4g", build_pae_high, 52 },
	{ "legacy32-pages", "legacy32.4k,legacy32.pse-4m", build_legacy, 0 },
	{ "legacy32-no-pse", "legacy32.4k", build_legacy_nopse, 0 },
	{ "legacy32-pse36-m36", "legacy32.pse36", build_pse36, 36 },
	{ "legacy32-pse36-m40", "legacy32.pse36", build_pse36, 40 },
	{ "legacy32-pse36-m52", "legacy32.pse36", build_pse36, 52 },
	{ 0 },
};
