/* SPDX-License-Identifier: MIT */
/*
 * kit/cases_peers.c: peer-bugs.*, one tag per failure class that LibVMI, Volatility, crash or
 * QEMU/Unicorn showed (../shared/notes/peers.md). Each case is built so that the wrong reading
 * gives an answer different from the right one (a different PA, or a PA where the CPU faults),
 * and holds some honest mappings too, so a walker is caught on the bug and not on everything.
 * Every probe states its answer, and where the bug reads instead (kb_decoy, or kit_case_finish
 * for the bugs it works out itself: reserved bits, PDPTEs from memory, PA 0 of a non-present
 * PDPTE): the dump holds a tagged page there, so a walker that answers with the bytes it read
 * is caught like one that answers with a PA, never excused by a read outside the dump that it
 * reports as a fault.
 */
#include "kit_internal.h"

static const uint32_t RSVD = PF_ERR_P | PF_ERR_RSVD;
static const uint64_t STEP4 = PT_BIT(39) + PT_BIT(30) + PT_BIT(21) + PT_BIT(12);

/** LibVMI does not check canonical form, Volatility masks to 48 bits: the same address with
 *  bits 63:48 changed must be #GP, not the mapping it would be if sign-extended (3.3.7.1). */
static struct kit_case *build_noncanonical(const struct kit_case_def *def, const char *globs,
					   struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_IA32E, 46, 0x100000, globs);
	kb_tag(&b, "peer-bugs.noncanonical-sign-extended");
	for (unsigned i = 0; i < 12; i++) {
		const uint64_t kva = UINT64_C(0xffff888000000000) + i * STEP4;
		const uint64_t uva = UINT64_C(0x0000100000000000) + i * STEP4;
		const uint64_t kpa = 0x10000000 + i * 0x3000, upa = 0x20000000 + i * 0x5000;

		kb_map(&b, kva, kpa, 1, KIT_LEAF_FLAGS);
		kb_map(&b, uva, upa, 1, KIT_LEAF_FLAGS | PTE_US);
		kb_probe(&b, kva + 0x40, KA_R, ki_pa(kpa + 0x40, PT_PAGE_4K));
		kb_probe(&b, uva + 0x40, KA_R, ki_pa(upa + 0x40, PT_PAGE_4K));
		kb_probe(&b, (kva + 0x40) & UINT64_C(0x0000ffffffffffff), KA_R, ki_gp());
		kb_probe(&b, ((kva + 0x40) & UINT64_C(0x0000ffffffffffff)) | UINT64_C(0x1234000000000000),
			 KA_R, ki_gp());
		kb_probe(&b, (uva + 0x40) | UINT64_C(0xffff000000000000), KA_R, ki_gp());
		kb_probe(&b, (uva + 0x40) | PT_BIT(63), KA_R, ki_gp());
	}
	return kb_finish(&b);
}

/** LibVMI masks frames with bits 51:12 whatever MAXPHYADDR is: with MAXPHYADDR 40, bits 51:40
 *  of an entry are reserved (4.5.4), not address bits. */
static struct kit_case *build_frame_bits(const struct kit_case_def *def, const char *globs,
					 struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_IA32E, 40, 0x100000, globs);
	kb_tag(&b, "peer-bugs.frame-bits-above-maxphyaddr");
	for (unsigned i = 0; i < 12; i++) {
		const uint64_t va = UINT64_C(0x0000100000000000) + i * STEP4;
		const uint64_t pa = 0xff00000000 - i * 0x10000000 - 0x3000;
		const unsigned level = 1 + i % 2;
		const uint64_t size = level == 1 ? PT_PAGE_4K : PT_PAGE_2M;
		const uint64_t frame = pa & ~(size - 1);

		kb_map(&b, va & ~(size - 1), frame, level, KIT_LEAF_FLAGS);
		kb_probe(&b, (va & ~(size - 1)) + 0x88, KA_R, ki_pa(frame + 0x88, size));
		/* The same page with one bit of 51:40 set: reserved. */
		const uint64_t bad = UINT64_C(0x0000200000000000) + i * STEP4;
		kb_map(&b, bad & ~(size - 1), frame | PT_BIT(40 + i), level, KIT_LEAF_FLAGS);
		kb_probe(&b, (bad & ~(size - 1)) + 0x88, KA_R, ki_pf(RSVD));
		kb_probe(&b, (bad & ~(size - 1)) + size - 8, KA_R, ki_pf(RSVD));
	}
	/* A table pointer with bit 44 set. (Where the bug reads, for these reserved bits, the kit
	 * works out itself: kit_case_finish's lenient walks.) */
	kb_map(&b, 0x0000300000000000, 0x1000000, 1, KIT_LEAF_FLAGS);
	kb_or(&b, 0x0000300000000000, 2, PT_BIT(44));
	kb_probe(&b, 0x0000300000000000, KA_R, ki_pf(RSVD));
	return kb_finish(&b);
}

/** LibVMI's PAE walker truncates frames to 32 bits (Tables 4-9..4-11: bits M-1:12). */
static struct kit_case *build_pae_truncated(const struct kit_case_def *def, const char *globs,
					    struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_PAE, 40, 0x100000, globs);
	kb_tag(&b, "peer-bugs.pae-frame-above-4g-truncated");
	for (unsigned i = 0; i < 16; i++) {
		const unsigned level = 1 + i % 2;
		const uint64_t size = level == 1 ? PT_PAGE_4K : PT_PAGE_2M;
		const uint64_t va = ((uint64_t)(i % 4) << 30 | (uint64_t)(i + 1) << 21) & ~(size - 1);
		const uint64_t pa = ((uint64_t)(i + 1) << 32 | (uint64_t)(i * 0x1234567)) & ~(size - 1) &
				    (PT_BIT(40) - 1);
		kb_map(&b, va, pa, level, KIT_LEAF_FLAGS);
		kb_probe_mapping_bug(&b, va, pa, size, 4, KA_R, pa & UINT64_C(0xffffffff));
	}
	return kb_finish(&b);
}

/** LibVMI: a PAE PDPTE that is not present "translates" to PA 0. It is a #PF (4.4.2). */
static struct kit_case *build_pae_nonpresent(const struct kit_case_def *def, const char *globs,
					     struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_PAE, 36, 0x100000, globs);
	kb_tag(&b, "peer-bugs.pae-nonpresent-pdpte");
	for (unsigned i = 0; i < 8; i++) {
		const uint64_t va = (i % 2 ? 0xc0000000 : 0x40000000) + (uint64_t)i * 0x1234000;
		const uint64_t pa = 0x3000000 + i * 0x7000;
		kb_map(&b, va, pa, 1, KIT_LEAF_FLAGS);
		kb_probe(&b, va + 0x18, KA_R, ki_pa(pa + 0x18, PT_PAGE_4K));
		/* PDPTEs 0 and 2 are not present. */
		kb_probe(&b, (va & 0x3fffffff) + 0x18, KA_R, ki_pf(0));
		kb_probe(&b, (va & 0x3fffffff) + 0x80000018, KA_R, ki_pf(0));
	}
	return kb_finish(&b);
}

/** LibVMI's 32-bit walker read the directory at PA 0 (CR3 ignored): a decoy directory there
 *  maps the same addresses elsewhere. */
static struct kit_case *build_legacy_cr3(const struct kit_case_def *def, const char *globs,
					 struct pt_error *err)
{
	struct kit_builder b;
	uint64_t real_root;

	kb_begin(&b, def->name, PT_MODE_LEGACY, 36, 0x200000, globs);
	kb_tag(&b, "peer-bugs.legacy-cr3-ignored");
	for (unsigned i = 0; i < 8; i++) {
		const unsigned level = 1 + i % 2;
		const uint64_t size = level == 1 ? PT_PAGE_4K : PT_PAGE_4M;
		const uint64_t va = (0xc0000000 + (uint64_t)i * 0x1c00000) & ~(size - 1);
		const uint64_t pa = 0x4000000 + (uint64_t)i * 0x1000000;
		kb_map(&b, va, pa, level, KIT_LEAF_FLAGS);
		/* Where the bug reads: the decoy directory below maps va 0x5000000 higher. */
		kb_probe_mapping_bug(&b, va, pa, size, 3, KA_R, pa + 0x5000000);
	}
	/* The decoy: a directory at PA 0 with its tables just above it. */
	real_root = b.root;
	b.table_next = 0;
	b.root = kb_table(&b);
	b.tag_on = false;
	for (unsigned i = 0; i < 8; i++) {
		const unsigned level = 1 + i % 2;
		const uint64_t size = level == 1 ? PT_PAGE_4K : PT_PAGE_4M;
		kb_map(&b, (0xc0000000 + (uint64_t)i * 0x1c00000) & ~(size - 1),
		       0x9000000 + (uint64_t)i * 0x1000000, level, KIT_LEAF_FLAGS);
	}
	b.root = real_root;
	return kb_finish(&b);
}

/** 32-bit 4 MiB pages: Volatility has no PSE-36 (PA bits 39:32 in PDE bits 20:13, Table 4-5);
 *  LibVMI reports PA = VA. */
static struct kit_case *build_legacy_4m(const struct kit_case_def *def, const char *globs,
					struct pt_error *err)
{
	const bool pse36 = def->arg;
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_LEGACY, 40, 0x100000, globs);
	kb_tag(&b, pse36 ? "peer-bugs.pse36-missing" : "peer-bugs.pse-4m-pa-eq-va");
	for (unsigned i = 0; i < 10; i++) {
		const uint64_t va = 0x80000000 + (uint64_t)i * 3 * PT_PAGE_4M;
		const uint64_t pa = pse36 ? ((uint64_t)(i + 1) << 32 | (uint64_t)i << 22) & (PT_BIT(40) - 1)
					  : (uint64_t)(i * 7 + 2) * PT_PAGE_4M;
		kb_map(&b, va, pa, 2, KIT_LEAF_FLAGS);
		/* Where the bug reads: without PSE-36, the PA less bits 39:32; with PA = VA, the VA. */
		kb_probe_mapping_bug(&b, va, pa, PT_PAGE_4M, 4, KA_R,
				     pse36 ? pa & UINT64_C(0xffffffff) : va);
	}
	return kb_finish(&b);
}

/** Volatility once took PS in a PML4E for a large page; it is a reserved bit (Table 4-15). */
static struct kit_case *build_pml4e_ps(const struct kit_case_def *def, const char *globs,
				       struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_IA32E, 46, 0x100000, globs);
	kb_tag(&b, "peer-bugs.pml4e-ps-as-large");
	for (unsigned i = 0; i < 10; i++) {
		const uint64_t va = UINT64_C(0xffff888000000000) + i * STEP4;
		const uint64_t pa = 0x5000000 + i * 0x11000;
		kb_map(&b, va, pa, 1, KIT_LEAF_FLAGS);
		kb_probe(&b, va + 0x100, KA_R, ki_pa(pa + 0x100, PT_PAGE_4K));
		const uint64_t bad = UINT64_C(0x0000100000000000) + i * STEP4;
		kb_map(&b, bad, pa, 1, KIT_LEAF_FLAGS);
		kb_or(&b, bad, 4, PTE_PS);
		kb_probe(&b, bad + 0x100, KA_R, ki_pf(RSVD));
		kb_probe(&b, bad + PT_PAGE_1G * 3 + 0x100, KA_R, ki_pf(RSVD));
	}
	return kb_finish(&b);
}

/** Volatility's pull requests walked a PML5 as a PML4: every address must go through five
 *  levels (4.5). */
static struct kit_case *build_la57(const struct kit_case_def *def, const char *globs,
				   struct pt_error *err)
{
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_LA57, 52, 0x100000, globs);
	kb_tag(&b, "peer-bugs.la57-walked-as-4-level");
	for (unsigned i = 0; i < 16; i++) {
		/* Half of them in PML5 entry 0 (VAs below 2^48, where a 4-level reading indexes the
		 * PML5 with bits 47:39), half at other PML5 entries. */
		const uint64_t va = (i % 2 ? (uint64_t)(i + 1) << 48 : 0) + UINT64_C(0x0000123400000000) +
				    i * STEP4;
		const uint64_t kva = UINT64_C(0xff00000000000000) + ((uint64_t)(i + 3) << 48) + i * STEP4;
		const uint64_t pa = 0x6000000 + i * 0x9000;
		kb_map(&b, va, pa, 1, KIT_LEAF_FLAGS);
		kb_map(&b, kva, pa + 0x1000, 1, KIT_LEAF_FLAGS);
		kb_probe(&b, va + 0x238, KA_R, ki_pa(pa + 0x238, PT_PAGE_4K));
		kb_probe(&b, kva + 0x238, KA_R, ki_pa(pa + 0x1238, PT_PAGE_4K));
	}
	return kb_finish(&b);
}

/** Volatility strips the PAT bit of large pages; a walker that keeps it adds 4 KiB (Tables 4-9,
 *  4-16, 4-18). */
static struct kit_case *build_pat(const struct kit_case_def *def, const char *globs,
				  struct pt_error *err)
{
	const enum pt_mode mode = (enum pt_mode)def->arg;
	struct kit_builder b;

	kb_begin(&b, def->name, mode, 46, 0x100000, globs);
	kb_tag(&b, "peer-bugs.pat-bit-as-address");
	for (unsigned i = 0; i < 10; i++) {
		const unsigned level = mode == PT_MODE_PAE ? 2 : 2 + i % 2;
		const uint64_t size = level == 2 ? PT_PAGE_2M : PT_PAGE_1G;
		const uint64_t va = mode == PT_MODE_PAE ? 0x40000000 + (uint64_t)i * 3 * PT_PAGE_2M
					: UINT64_C(0xffffc90000000000) + i * (PT_BIT(39) + PT_BIT(30));
		const uint64_t pa = (uint64_t)(i + 1) * PT_PAGE_1G + (level == 2 ? 5 * PT_PAGE_2M : 0);
		kb_map(&b, va & ~(size - 1), pa, level, KIT_LEAF_FLAGS | PTE_PAT_LARGE);
		kb_probe_mapping_bug(&b, va & ~(size - 1), pa, size, 4, KA_R, pa | PTE_PAT_LARGE);
	}
	return kb_finish(&b);
}

/** LibVMI (and any walker that masks frames with 51:12) takes the SME C-bit for an address bit. */
static struct kit_case *build_cbit(const struct kit_case_def *def, const char *globs,
				   struct pt_error *err)
{
	struct kit_builder b;
	struct pt_cpu_state *s;

	kb_begin(&b, def->name, PT_MODE_IA32E, 48, 0x100000, globs);
	s = kb_cpu(&b);
	s->cbit = 47;
	s->cr3 |= PT_BIT(47);
	b.table_extra = PT_BIT(47);
	kb_tag(&b, "peer-bugs.cbit-as-address");
	for (unsigned i = 0; i < 12; i++) {
		const unsigned level = 1 + i % 3;
		const uint64_t size = PT_BIT(12 + 9 * (level - 1));
		const uint64_t va = (UINT64_C(0xffff888000000000) + i * STEP4) & ~(size - 1);
		const uint64_t pa = ((uint64_t)(i + 1) << 33) & ~(size - 1);
		kb_map(&b, va, pa, level, KIT_LEAF_FLAGS | PT_BIT(47));
		kb_probe_mapping(&b, va, pa, size, 4, KA_R);
	}
	return kb_finish(&b);
}

/** LibVMI and Volatility honour only the present bit: with the rights checked, R/W, U/S and XD
 *  decide (4.6). */
static struct kit_case *build_rights_ignored(const struct kit_case_def *def, const char *globs,
					     struct pt_error *err)
{
	static const struct {
		uint64_t flags;
		uint32_t access, code;
	} rows[] = {
		{ PTE_P | PTE_US, KA_U | KA_W, PF_ERR_P | PF_ERR_W | PF_ERR_U },
		{ PTE_P | PTE_RW, KA_U, PF_ERR_P | PF_ERR_U },
		{ PTE_P | PTE_RW | PTE_US | PTE_XD, KA_U | KA_X, PF_ERR_P | PF_ERR_U | PF_ERR_ID },
		{ PTE_P | PTE_RW | PTE_XD, KA_X, PF_ERR_P | PF_ERR_ID },
		{ PTE_P, KA_W, PF_ERR_P | PF_ERR_W },
	};
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_IA32E, 46, 0x100000, globs);
	kb_tag(&b, "peer-bugs.rights-ignored");
	for (unsigned i = 0; i < 20; i++) {
		const uint64_t va = UINT64_C(0x0000100000000000) + i * STEP4;
		const uint64_t pa = 0x7000000 + i * 0x3000;
		kb_map(&b, va, pa, 1, rows[i % 5].flags);
		kb_probe(&b, va + 0x10 * i, rows[i % 5].access | KA_C, ki_pf(rows[i % 5].code));
		kb_probe(&b, va + 0x10 * i + 8, KA_U | KA_C,
			 (rows[i % 5].flags & PTE_US) ? ki_pa(pa + 0x10 * i + 8, PT_PAGE_4K)
						      : ki_pf(PF_ERR_P | PF_ERR_U));
		kb_decoy(&b, pa); /* the page, when the rights are not checked */
	}
	return kb_finish(&b);
}

/** crash's vtop answers direct-map arithmetic (VA - PAGE_OFFSET) for kernel addresses it does
 *  not take for vmalloc space, even where the tables map them elsewhere or not at all. */
static struct kit_case *build_direct_map(const struct kit_case_def *def, const char *globs,
					 struct pt_error *err)
{
	const uint64_t page_offset = UINT64_C(0xffff888000000000);
	struct kit_builder b;

	kb_begin(&b, def->name, PT_MODE_IA32E, 46, 0x100000, globs);
	kb_tag(&b, "peer-bugs.direct-map-arithmetic");
	/* The direct map proper (PA = VA - PAGE_OFFSET) for the first 64 MiB... */
	for (uint64_t off = 0; off < 64 * PT_PAGE_2M / 2; off += PT_PAGE_2M)
		kb_map(&b, page_offset + off, off, 2, KIT_LEAF_FLAGS | PTE_G);
	for (unsigned i = 0; i < 8; i++)
		kb_probe(&b, page_offset + i * 0x401008, KA_R, ki_pa(i * 0x401008, PT_PAGE_2M));
	/* ...holes in it, pages remapped elsewhere, and an ESPFIX-like alias area. */
	for (unsigned i = 0; i < 12; i++) {
		const uint64_t va = page_offset + 0x10000000 + i * 0x203000;
		const uint64_t pa = 0x40000000 - (uint64_t)(i + 1) * 0x7000;
		kb_decoy(&b, va - page_offset); /* what the arithmetic reads */
		if (i % 3 == 0) {
			kb_probe(&b, va, KA_R, ki_pf(0));
			continue;
		}
		kb_map(&b, va, pa, 1, KIT_LEAF_FLAGS);
		kb_probe(&b, va + 0x2a8, KA_R, ki_pa(pa + 0x2a8, PT_PAGE_4K));
	}
	for (unsigned i = 0; i < 16; i++) {
		const uint64_t va = UINT64_C(0xffffff0000000000) + i * 0x10000;
		kb_map(&b, va, 0x3000000, 1, KIT_LEAF_FLAGS);
		kb_probe(&b, va + 8 * i, KA_R, ki_pa(0x3000000 + 8 * i, PT_PAGE_4K));
		kb_decoy(&b, va + 8 * i - page_offset);
	}
	return kb_finish(&b);
}

/** Unicorn (and QEMU's TCG) re-read PAE PDPTEs from memory on every walk; the CPU uses the
 *  registers loaded at the last MOV to CR3 (4.4.1). */
static struct kit_case *build_pdpte_reread(const struct kit_case_def *def, const char *globs,
					   struct pt_error *err)
{
	struct kit_builder b;
	struct pt_cpu_state *s;
	uint64_t regs[4];

	kb_begin(&b, def->name, PT_MODE_PAE, 36, 0x100000, globs);
	kb_tag(&b, "peer-bugs.pae-pdpte-reread");
	for (unsigned i = 0; i < 4; i++)
		kb_map(&b, (uint64_t)i << 30 | 0x1234000, 0x8000000 + i * 0x100000, 1, KIT_LEAF_FLAGS);
	for (unsigned i = 0; i < 4; i++)
		regs[i] = kb_get(&b, b.root + 8 * i);
	/* Memory now: every PDPTE points to a fresh directory mapping the same VAs elsewhere. */
	for (unsigned i = 0; i < 4; i++) {
		kb_set(&b, b.root + 8 * i, 0);
		kb_map(&b, (uint64_t)i << 30 | 0x1234000, 0x9000000 + i * 0x100000, 1, KIT_LEAF_FLAGS);
	}
	s = kb_cpu(&b);
	s->has_pdpte_regs = true;
	for (unsigned i = 0; i < 4; i++)
		s->pdpte_regs[i] = regs[i];
	for (unsigned i = 0; i < 4; i++) {
		for (unsigned j = 0; j < 4; j++) {
			const uint64_t off = 0x3f8 * j;
			kb_probe(&b, ((uint64_t)i << 30 | 0x1234000) + off, KA_R,
				 ki_pa(0x8000000 + i * 0x100000 + off, PT_PAGE_4K));
		}
	}
	return kb_finish(&b);
}

const struct kit_case_def kit_cases_peers[] = {
	{ "peer-noncanonical", "peer-bugs.noncanonical-sign-extended", build_noncanonical, 0 },
	{ "peer-frame-bits-m40", "peer-bugs.frame-bits-above-maxphyaddr", build_frame_bits, 0 },
	{ "peer-pae-frames-above-4g", "peer-bugs.pae-frame-above-4g-truncated", build_pae_truncated, 0 },
	{ "peer-pae-nonpresent-pdpte", "peer-bugs.pae-nonpresent-pdpte", build_pae_nonpresent, 0 },
	{ "peer-legacy-cr3", "peer-bugs.legacy-cr3-ignored", build_legacy_cr3, 0 },
	{ "peer-pse36", "peer-bugs.pse36-missing", build_legacy_4m, 1 },
	{ "peer-pse-4m", "peer-bugs.pse-4m-pa-eq-va", build_legacy_4m, 0 },
	{ "peer-pml4e-ps", "peer-bugs.pml4e-ps-as-large", build_pml4e_ps, 0 },
	{ "peer-la57", "peer-bugs.la57-walked-as-4-level", build_la57, 0 },
	{ "peer-pat-ia32e4", "peer-bugs.pat-bit-as-address", build_pat, PT_MODE_IA32E },
	{ "peer-pat-pae", "peer-bugs.pat-bit-as-address", build_pat, PT_MODE_PAE },
	{ "peer-cbit", "peer-bugs.cbit-as-address", build_cbit, 0 },
	{ "peer-rights-ignored", "peer-bugs.rights-ignored", build_rights_ignored, 0 },
	{ "peer-direct-map", "peer-bugs.direct-map-arithmetic", build_direct_map, 0 },
	{ "peer-pae-pdpte-reread", "peer-bugs.pae-pdpte-reread", build_pdpte_reread, 0 },
	{ 0 },
};
