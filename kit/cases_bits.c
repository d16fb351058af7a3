/* SPDX-License-Identifier: MIT */
/*
 * kit/cases_bits.c: the bits of entries and CR3 a walker must read right: reserved-bits (every
 * level of every mode, SDM Tables 4-5..4-20: bits M..51, PS in a PML4E/PML5E, the low bits of a
 * large page's frame, XD without NXE), maxphyaddr (36..52, frames and tables at the top of the
 * physical space), cr3-flags (PWT/PCD, PCID, the 32-byte PAE PDPT; 4.5, 4.10.1, 4.4.1),
 * large-page-pat (bit 12 of a 2 MiB / 4 MiB / 1 GiB entry is PAT, not an address bit), sme-cbit
 * (AMD's C-bit in CR3 and every entry is no address bit). Every probe states its answer. Where
 * the CPU faults on a reserved bit, kit_case_finish puts into the dump what walkers that ignore
 * the bit read, so a walker answering with bytes cannot pass by reading outside the dump.
 */
#include "kit_internal.h"

/** Entry bits set to 1 where they are reserved; the expected fault of a read. */
static const uint32_t RSVD = PF_ERR_P | PF_ERR_RSVD;

/* ---- reserved-bits -------------------------------------------------------------------------- */

/** One mapping, one entry of it changed, and what that does. */
struct rsvd_row {
	uint8_t leaf;       /**< the mapping's leaf level */
	uint8_t level;      /**< the entry changed */
	uint64_t set;       /**< bits set in it */
	uint64_t clear;     /**< bits cleared in it */
	enum { W_RSVD, W_OK, W_NOT_PRESENT } want;
	uint64_t pa_delta;  /**< W_OK: the address bits `set` adds to the PA */
};

static void rsvd_rows(struct kit_builder *b, const struct rsvd_row *rows, size_t n)
{
	kb_tag(b, "reserved-bits");
	for (unsigned k = 0; k < n; k++) {
		const struct rsvd_row *r = &rows[k];
		const uint64_t size = PT_BIT(b->desc->level[r->leaf].va_shift);
		uint64_t va, pa;
		struct kit_intent in;

		kb_slot(b, k, &va, &pa);
		kb_map(b, va, pa, r->leaf, KIT_LEAF_FLAGS);
		kb_or(b, va, r->level, r->set);
		kb_clear(b, va, r->level, r->clear);
		for (unsigned j = 0; j < 3; j++) {
			const uint64_t off = j == 0 ? 0 : j == 1 ? size - 8 : (size / 2) + 0x238;
			if (r->want == W_RSVD)
				in = ki_pf(RSVD);
			else if (r->want == W_NOT_PRESENT)
				in = ki_pf(0);
			else
				in = ki_pa(pa + r->pa_delta + off, size);
			kb_probe(b, va + off, KA_R, in);
		}
	}
}

#define ROWS(a) a, sizeof(a) / sizeof(a[0])

static struct kit_case *build_rsvd_ia32e4(const struct kit_case_def *def, const char *globs,
					  struct pt_error *err)
{
	/* MAXPHYADDR 46, NXE on. Tables 4-15 (PML4E), 4-16/4-17 (PDPTE), 4-18/4-19 (PDE), 4-20. */
	static const struct rsvd_row rows[] = {
		{ 1, 4, PT_BIT(46), 0, W_RSVD, 0 },  { 1, 4, PT_BIT(51), 0, W_RSVD, 0 },
		{ 1, 4, PTE_PS, 0, W_RSVD, 0 },      { 1, 3, PT_BIT(47), 0, W_RSVD, 0 },
		{ 1, 2, PT_BIT(50), 0, W_RSVD, 0 },  { 1, 1, PT_BIT(46), 0, W_RSVD, 0 },
		{ 1, 1, PT_BIT(51), 0, W_RSVD, 0 },  { 2, 2, PT_BIT(13), 0, W_RSVD, 0 },
		{ 2, 2, PT_BIT(20), 0, W_RSVD, 0 },  { 2, 2, PT_BIT(48), 0, W_RSVD, 0 },
		{ 3, 3, PT_BIT(13), 0, W_RSVD, 0 },  { 3, 3, PT_BIT(29), 0, W_RSVD, 0 },
		{ 3, 3, PT_BIT(21), 0, W_RSVD, 0 },  { 3, 3, PT_BIT(49), 0, W_RSVD, 0 },
		/* Ignored bits (52..62, 11:9, 6 and 8 of non-leaf entries), protection keys with
		 * CR4.PKE = 0: no fault, no address change. */
		{ 1, 1, UINT64_C(0x7ff0000000000e00), 0, W_OK, 0 },
		{ 1, 4, UINT64_C(0x7ff0000000000f40), 0, W_OK, 0 },
		{ 1, 3, UINT64_C(0x0010000000000140), 0, W_OK, 0 },
		{ 1, 2, UINT64_C(0x0020000000000140), 0, W_OK, 0 },
		{ 2, 2, UINT64_C(0x7800000000000000), 0, W_OK, 0 },
		/* Not present wins over reserved bits (4.7: P = 0 in the error code). */
		{ 1, 1, PT_BIT(46) | PTE_PS, PTE_P, W_NOT_PRESENT, 0 },
		{ 1, 4, PT_BIT(50) | PTE_PS, PTE_P, W_NOT_PRESENT, 0 },
	};
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_IA32E, 46, 0x100000, globs);
	rsvd_rows(&b, ROWS(rows));
	return kb_finish(&b);
}

static struct kit_case *build_rsvd_nonxe(const struct kit_case_def *def, const char *globs,
					 struct pt_error *err)
{
	/* XD (bit 63) is reserved when IA32_EFER.NXE = 0 (4.5.4, Table 4-15..4-20; PAE 4-9..4-11). */
	static const struct rsvd_row rows64[] = {
		{ 1, 4, PTE_XD, 0, W_RSVD, 0 }, { 1, 3, PTE_XD, 0, W_RSVD, 0 },
		{ 1, 2, PTE_XD, 0, W_RSVD, 0 }, { 1, 1, PTE_XD, 0, W_RSVD, 0 },
		{ 2, 2, PTE_XD, 0, W_RSVD, 0 }, { 3, 3, PTE_XD, 0, W_RSVD, 0 },
	};
	static const struct rsvd_row rows_pae[] = {
		{ 1, 2, PTE_XD, 0, W_RSVD, 0 }, { 1, 1, PTE_XD, 0, W_RSVD, 0 },
		{ 2, 2, PTE_XD, 0, W_RSVD, 0 },
	};
	const enum pt_mode mode = (enum pt_mode)def->arg;
	struct kit_builder b;

	kb_begin(&b, def->name, mode, mode == PT_MODE_PAE ? 36 : 46, 0x100000, globs);
	kb_cpu(&b)->efer &= ~EFER_NXE;
	if (mode == PT_MODE_PAE)
		rsvd_rows(&b, ROWS(rows_pae));
	else
		rsvd_rows(&b, ROWS(rows64));
	return kb_finish(&b);
}

static struct kit_case *build_rsvd_la57(const struct kit_case_def *def, const char *globs,
					struct pt_error *err)
{
	/* 5-level, MAXPHYADDR 48: Table 4-14 (PML5E): PS reserved, bits 51:M reserved. */
	static const struct rsvd_row rows[] = {
		{ 1, 5, PTE_PS, 0, W_RSVD, 0 },     { 1, 5, PT_BIT(48), 0, W_RSVD, 0 },
		{ 1, 5, PT_BIT(51), 0, W_RSVD, 0 }, { 1, 4, PTE_PS, 0, W_RSVD, 0 },
		{ 1, 1, PT_BIT(50), 0, W_RSVD, 0 }, { 3, 3, PT_BIT(17), 0, W_RSVD, 0 },
		{ 1, 5, UINT64_C(0x7ff0000000000e40), 0, W_OK, 0 },
	};
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_LA57, 48, 0x100000, globs);
	rsvd_rows(&b, ROWS(rows));
	return kb_finish(&b);
}

static struct kit_case *build_rsvd_pae(const struct kit_case_def *def, const char *globs,
				       struct pt_error *err)
{
	/* MAXPHYADDR 36, NXE on. Tables 4-9 (2 MiB PDE), 4-10 (PDE), 4-11 (PTE): 62:M reserved;
	 * XD allowed. (A reserved PDPTE bit is a #GP at the CR3 load: no such state exists.) */
	static const struct rsvd_row rows[] = {
		{ 1, 2, PT_BIT(36), 0, W_RSVD, 0 }, { 1, 2, PT_BIT(62), 0, W_RSVD, 0 },
		{ 1, 1, PT_BIT(36), 0, W_RSVD, 0 }, { 1, 1, PT_BIT(40), 0, W_RSVD, 0 },
		{ 1, 1, PT_BIT(62), 0, W_RSVD, 0 }, { 2, 2, PT_BIT(13), 0, W_RSVD, 0 },
		{ 2, 2, PT_BIT(20), 0, W_RSVD, 0 }, { 2, 2, PT_BIT(52), 0, W_RSVD, 0 },
		{ 1, 1, PTE_XD | UINT64_C(0xe00), 0, W_OK, 0 },
		{ 2, 2, PTE_XD | PTE_PAT_LARGE, 0, W_OK, 0 },
		{ 1, 1, PT_BIT(36), PTE_P, W_NOT_PRESENT, 0 },
	};
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_PAE, 36, 0x100000, globs);
	rsvd_rows(&b, ROWS(rows));
	return kb_finish(&b);
}

static struct kit_case *build_rsvd_legacy(const struct kit_case_def *def, const char *globs,
					  struct pt_error *err)
{
	/* Table 4-5 (4 MiB PDE): bits 21:(M'-19) reserved, M' = min(MAXPHYADDR, 40); bits
	 * (M'-20):13 are PA bits (M'-1):32. 32-bit PTEs and table PDEs have no reserved bits. */
	static const struct rsvd_row m32[] = {
		{ 2, 2, PT_BIT(13), 0, W_RSVD, 0 }, { 2, 2, PT_BIT(21), 0, W_RSVD, 0 },
		{ 1, 1, UINT64_C(0xf80), 0, W_OK, 0 }, { 1, 2, UINT64_C(0xf40), 0, W_OK, 0 },
	};
	static const struct rsvd_row m36[] = {
		{ 2, 2, PT_BIT(17), 0, W_RSVD, 0 }, { 2, 2, PT_BIT(21), 0, W_RSVD, 0 },
		{ 2, 2, PT_BIT(16), 0, W_OK, PT_BIT(35) }, { 2, 2, PT_BIT(13), 0, W_OK, PT_BIT(32) },
	};
	static const struct rsvd_row m40[] = {
		{ 2, 2, PT_BIT(21), 0, W_RSVD, 0 }, { 2, 2, PT_BIT(20), 0, W_OK, PT_BIT(39) },
		{ 2, 2, PT_BIT(12), 0, W_OK, 0 },
	};
	const unsigned m = (unsigned)def->arg;
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_LEGACY, m, 0x100000, globs);
	if (m == 32)
		rsvd_rows(&b, ROWS(m32));
	else if (m == 36)
		rsvd_rows(&b, ROWS(m36));
	else
		rsvd_rows(&b, ROWS(m40));
	return kb_finish(&b);
}

/* ---- maxphyaddr ------------------------------------------------------------------------------- */

/** MAXPHYADDR M: tables at 2^(M-1), frames up to 2^M - 1 (bits M-1:12), bit M reserved. */
static struct kit_case *build_maxphyaddr(const struct kit_case_def *def, const char *globs,
					 struct pt_error *err)
{
	const unsigned m = (unsigned)def->arg;
	const uint64_t top = PT_BIT(m);
	const struct {
		uint64_t va, pa;
		unsigned level;
	} maps[] = {
		{ 0x0000100000000000, top - PT_PAGE_4K, 1 },
		{ 0x0000100000001000, top / 2 + top / 4 + 0x5000, 1 },
		{ 0x0000200000000000, top - PT_PAGE_2M, 2 },
		{ 0x0000300000000000, top - PT_PAGE_1G, 3 },
	};
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_IA32E, m, top / 2, globs);
	kb_tag(&b, "maxphyaddr");
	for (unsigned i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const uint64_t size = PT_BIT(12 + 9 * (maps[i].level - 1));
		kb_map(&b, maps[i].va, maps[i].pa, maps[i].level, KIT_LEAF_FLAGS);
		kb_probe_mapping(&b, maps[i].va, maps[i].pa, size, 4, KA_R);
	}
	if (m < 52) {
		/* Bit M is the first reserved bit: in a leaf, a table entry, a large page. */
		kb_map(&b, 0x0000400000000000, 0x5000000, 1, KIT_LEAF_FLAGS | PT_BIT(m));
		kb_map(&b, 0x0000500000000000, 0x6000000, 1, KIT_LEAF_FLAGS);
		kb_or(&b, 0x0000500000000000, 2, PT_BIT(m));
		kb_map(&b, 0x0000600000000000, 0x7000000 & ~(PT_PAGE_2M - 1), 2,
		       KIT_LEAF_FLAGS | PT_BIT(51));
		for (unsigned j = 0; j < 3; j++) {
			kb_probe(&b, 0x0000400000000000 + 0x7f8 * j, KA_R, ki_pf(RSVD));
			kb_probe(&b, 0x0000500000000000 + 0x7f8 * j, KA_R, ki_pf(RSVD));
			kb_probe(&b, 0x0000600000000000 + 0xff8 * j, KA_R, ki_pf(RSVD));
		}
	}
	return kb_finish(&b);
}

/* ---- cr3-flags -------------------------------------------------------------------------------- */

/** A few mappings and their probes, the same in every cr3-flags case. */
static void cr3_mappings(struct kit_builder *b, uint64_t base)
{
	for (unsigned i = 0; i < 6; i++) {
		const unsigned level = 1 + i % 2;
		const uint64_t size = level == 1 ? PT_PAGE_4K
				      : b->mode == PT_MODE_LEGACY ? PT_PAGE_4M : PT_PAGE_2M;
		const uint64_t va = base + i * 4 * PT_PAGE_4M;
		const uint64_t pa = 0x04000000 + i * PT_PAGE_4M * 3;
		kb_map(b, va, pa, level, KIT_LEAF_FLAGS);
		kb_probe_mapping(b, va, pa, size, 4, KA_R);
		kb_probe(b, va + 2 * PT_PAGE_4M, KA_R, ki_pf(0));
	}
}

static struct kit_case *build_cr3(const struct kit_case_def *def, const char *globs,
				  struct pt_error *err)
{
	const enum pt_mode mode = (enum pt_mode)(def->arg & 0xff);
	const uint64_t low = def->arg >> 8; /* CR3 bits 11:0 (PCID, PWT/PCD, ignored bits) */
	const uint64_t base = mode == PT_MODE_LEGACY || mode == PT_MODE_PAE
			      ? 0x40000000 : UINT64_C(0xffffffff80000000);
	struct kit_builder b;
	struct pt_cpu_state *s;

	kb_begin(&b, def->name, mode, mode == PT_MODE_LEGACY ? 32 : 46, 0x100000, globs);
	kb_tag(&b, "cr3-flags");
	s = kb_cpu(&b);
	if ((mode == PT_MODE_IA32E || mode == PT_MODE_LA57) && low > 0x18)
		s->cr4 |= CR4_PCIDE; /* 4.10.1: CR3 bits 11:0 are the PCID */
	if (mode == PT_MODE_PAE)
		b.pdpt_offset = 0x60; /* 4.4.1, Table 4-7: a 32-byte aligned PDPT; bits 4:0 ignored */
	s->cr3 = b.root + b.pdpt_offset + low;
	cr3_mappings(&b, base);
	if (mode == PT_MODE_PAE) {
		/* Decoy PDPTEs at the start of the page map the same addresses elsewhere: what a
		 * walker that takes the PDPT as page aligned would read. */
		b.pdpt_offset = 0;
		b.tag_on = false;
		for (unsigned i = 0; i < 6; i++)
			kb_map(&b, base + i * 4 * PT_PAGE_4M, 0x30000000 + i * PT_PAGE_4M * 3, 1 + i % 2,
			       KIT_LEAF_FLAGS);
		b.pdpt_offset = 0x60;
	}
	return kb_finish(&b);
}

/* ---- large-page-pat --------------------------------------------------------------------------- */

/** Large pages with the PAT bit (12) set, and 4 KiB PTEs with theirs (bit 7): memory types, not
 *  address bits nor a page size (Tables 4-5, 4-9, 4-16, 4-18; 4.9.2). */
static struct kit_case *build_pat(const struct kit_case_def *def, const char *globs,
				  struct pt_error *err)
{
	const enum pt_mode mode = (enum pt_mode)def->arg;
	const bool wide = mode == PT_MODE_IA32E || mode == PT_MODE_LA57;
	const uint64_t big = mode == PT_MODE_LEGACY ? PT_PAGE_4M : PT_PAGE_2M;
	const uint64_t base = wide ? UINT64_C(0xffff888000000000) : 0x80000000;
	struct kit_builder b;

	kb_begin(&b, def->name, mode, mode == PT_MODE_LEGACY ? 40 : 46, 0x100000, globs);
	kb_tag(&b, "large-page-pat");
	for (unsigned i = 0; i < 8; i++) {
		const uint64_t va = base + i * 2 * PT_PAGE_4M;
		const uint64_t pa = (mode == PT_MODE_LEGACY && i % 2 ? UINT64_C(0x100000000) : 0) +
				    0x10000000 + i * 2 * PT_PAGE_4M;
		kb_map(&b, va, pa, 2, KIT_LEAF_FLAGS | PTE_PAT_LARGE);
		kb_probe_mapping(&b, va, pa, big, 5, KA_R);
	}
	for (unsigned i = 0; i < 4; i++) {
		const uint64_t va = base + 0x30000000 + i * 0x3000;
		const uint64_t pa = 0x20000000 + i * 0x5000;
		kb_map(&b, va, pa, 1, KIT_LEAF_FLAGS | PTE_PAT);
		kb_probe_mapping(&b, va, pa, PT_PAGE_4K, 3, KA_R);
	}
	if (wide) {
		for (unsigned i = 0; i < 4; i++) {
			const uint64_t va = UINT64_C(0xffffc00000000000) + i * 3 * PT_PAGE_1G;
			const uint64_t pa = (uint64_t)(i + 2) * PT_PAGE_1G;
			kb_map(&b, va, pa, 3, KIT_LEAF_FLAGS | PTE_PAT_LARGE);
			kb_probe_mapping(&b, va, pa, PT_PAGE_1G, 5, KA_R);
		}
	}
	return kb_finish(&b);
}

/* ---- sme-cbit --------------------------------------------------------------------------------- */

/** AMD SME: the C-bit in CR3 and in every entry (tables and pages), stripped before the walk
 *  uses an address (AMD APM vol. 2, 7.10); some pages shared (no C-bit). */
static struct kit_case *build_sme(const struct kit_case_def *def, const char *globs,
				  struct pt_error *err)
{
	const enum pt_mode mode = (enum pt_mode)(def->arg & 0xff);
	const unsigned cbit = (unsigned)(def->arg >> 8);
	const uint64_t c = PT_BIT(cbit);
	const uint64_t base = mode == PT_MODE_LA57 ? UINT64_C(0xff11000000000000)
						   : UINT64_C(0xffff888000000000);
	struct kit_builder b;
	struct pt_cpu_state *s;

	kb_begin(&b, def->name, mode, cbit + 1, 0x100000, globs);
	s = kb_cpu(&b);
	s->cbit = (uint8_t)cbit;
	s->cr3 |= c;
	b.table_extra = c;
	/* The top-level table's own entries are written before any table exists: none yet. */
	kb_tag(&b, "sme-cbit");
	for (unsigned i = 0; i < 18; i++) {
		const unsigned level = 1 + i % 3;
		const uint64_t size = PT_BIT(12 + 9 * (level - 1));
		const uint64_t va = base + i * (PT_BIT(39) + 3 * PT_PAGE_1G);
		/* Frames below the C-bit, some with the bit just under it set. */
		const uint64_t pa = ((i % 2 ? PT_BIT(cbit - 1) : 0) + (uint64_t)(i + 1) * PT_PAGE_1G) &
				    ~(size - 1);
		kb_map(&b, va, pa, level, KIT_LEAF_FLAGS | (i % 5 == 4 ? 0 : c));
		kb_probe_mapping(&b, va, pa, size, 4, KA_R);
		kb_probe(&b, va + size, KA_R, ki_pf(0));
	}
	return kb_finish(&b);
}

const struct kit_case_def kit_cases_bits[] = {
	{ "reserved-ia32e4", "reserved-bits", build_rsvd_ia32e4, 0 },
	{ "reserved-ia32e4-nxe-off", "reserved-bits", build_rsvd_nonxe, PT_MODE_IA32E },
	{ "reserved-ia32e5", "reserved-bits", build_rsvd_la57, 0 },
	{ "reserved-pae", "reserved-bits", build_rsvd_pae, 0 },
	{ "reserved-pae-nxe-off", "reserved-bits", build_rsvd_nonxe, PT_MODE_PAE },
	{ "reserved-legacy32-m32", "reserved-bits", build_rsvd_legacy, 32 },
	{ "reserved-legacy32-m36", "reserved-bits", build_rsvd_legacy, 36 },
	{ "reserved-legacy32-m40", "reserved-bits", build_rsvd_legacy, 40 },
	{ "maxphyaddr-36", "maxphyaddr", build_maxphyaddr, 36 },
	{ "maxphyaddr-39", "maxphyaddr", build_maxphyaddr, 39 },
	{ "maxphyaddr-40", "maxphyaddr", build_maxphyaddr, 40 },
	{ "maxphyaddr-42", "maxphyaddr", build_maxphyaddr, 42 },
	{ "maxphyaddr-46", "maxphyaddr", build_maxphyaddr, 46 },
	{ "maxphyaddr-48", "maxphyaddr", build_maxphyaddr, 48 },
	{ "maxphyaddr-52", "maxphyaddr", build_maxphyaddr, 52 },
	{ "cr3-ia32e4-pwt-pcd", "cr3-flags", build_cr3, PT_MODE_IA32E | 0x18 << 8 },
	{ "cr3-ia32e4-pcid", "cr3-flags", build_cr3, PT_MODE_IA32E | 0xabc << 8 },
	{ "cr3-ia32e5-pcid", "cr3-flags", build_cr3, PT_MODE_LA57 | 0x5a5 << 8 },
	{ "cr3-pae-32-byte-pdpt", "cr3-flags", build_cr3, PT_MODE_PAE | 0x18 << 8 },
	{ "cr3-legacy32-low-bits", "cr3-flags", build_cr3, PT_MODE_LEGACY | 0xfff << 8 },
	{ "pat-ia32e4", "large-page-pat", build_pat, PT_MODE_IA32E },
	{ "pat-pae", "large-page-pat", build_pat, PT_MODE_PAE },
	{ "pat-legacy32", "large-page-pat", build_pat, PT_MODE_LEGACY },
	{ "sme-ia32e4-cbit47", "sme-cbit", build_sme, PT_MODE_IA32E | 47 << 8 },
	{ "sme-ia32e5-cbit51", "sme-cbit", build_sme, PT_MODE_LA57 | 51 << 8 },
	{ 0 },
};
