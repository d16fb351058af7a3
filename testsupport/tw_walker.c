/* SPDX-License-Identifier: MIT */
/*
 * testsupport/tw_walker.c: an independent, complete pure-translation walker for every x86
 * paging mode, written as an outside walker would be (the adapter ABI, no libptwalk), and the
 * base of the deliberately broken walkers.
 *
 * The correct walker (tests/walkers/correct.c) and the adapter fuzz target's own walker
 * (fuzz/adapter_diff.c, when PTLAB_ADAPTER names none; library ptlab_tw_walker) are this file as it
 * is. Each tests/walkers/broken_<class>.c defines TW_BUG to one member of struct tw_bugs before
 * including it: the same walker with exactly one peer bug of ../shared/notes/peers.md. `ptlab check` must fail each broken walker on the tag of
 * its class and pass it on every tag the bug does not touch (tests/CMakeLists.txt).
 *
 * The rules are the Intel SDM's, Vol. 3A chapter 4: 32-bit paging (4.3, Tables 4-4..4-7), PAE
 * (4.4, Tables 4-8..4-11), 4- and 5-level paging (4.5, Tables 4-12..4-20); canonical addresses
 * (Vol. 1, 3.3.7.1); the SME C-bit (AMD APM Vol. 2, 7.10.1). Pure translation: no access rights.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "ptlab/adapter.h"

#ifndef TW_NAME
#define TW_NAME "tw_walker (testsupport/tw_walker.c)"
#endif

/** The peer bugs a broken walker may have (at most one is switched on). */
struct tw_bugs {
	bool no_canonical;       /* LibVMI, Volatility: VA bits above 47 masked, not checked */
	bool frame_bit51;        /* LibVMI: frames are bits 51:12 whatever MAXPHYADDR says */
	bool pae_frame32;        /* LibVMI: PAE frames truncated to 32 bits */
	bool pae_pdpte_np_zero;  /* LibVMI: a non-present PDPTE "translates" to PA 0 */
	bool legacy_pd_at_zero;  /* LibVMI since 2021: 32-bit paging walks the directory at PA 0 */
	bool no_pse36;           /* Volatility: PDE bits 20:13 of a 4 MiB page are not PA 39:32 */
	bool pml4_ps_page;       /* Volatility (fixed bug): PS in a PML4E taken as a 512 GiB page */
	bool la57_as_4level;     /* Volatility before 5-level support: PML5 walked as a PML4 */
	bool pse_4m_identity;    /* LibVMI enumeration: a 4 MiB page gives PA = VA */
	bool pat_in_frame;       /* bit 12 (PAT) of a large page kept as an address bit */
	bool pdpte_reread;       /* Unicorn 2.0.1, most walkers: PAE PDPTEs re-read from memory */
	bool cr3_low_bits;       /* CR3 bits 11:0 (PCID, PWT, PCD) not masked off the root */
	bool no_reserved;        /* Volatility, LibVMI: only the present bit is honoured */
	bool cbit_in_frame;      /* LibVMI: the SME C-bit kept as an address bit */
	bool direct_map_math;    /* crash's vtop summary: direct-map VAs by arithmetic, no walk */
};

#ifdef TW_BUG
static const struct tw_bugs bug = { .TW_BUG = true };
#else
static const struct tw_bugs bug;
#endif

#define BIT(n) (UINT64_C(1) << (n))
#define ENTRY_P BIT(0)
#define ENTRY_PS BIT(7)
#define ENTRY_XD BIT(63)
#define CR4_PSE BIT(4)
#define EFER_NXE BIT(11)

/** Bits hi..lo (empty when hi < lo). */
static uint64_t bits(unsigned hi, unsigned lo)
{
	if (hi < lo)
		return 0;
	return (hi == 63 ? ~UINT64_C(0) : BIT(hi + 1) - 1) & ~(BIT(lo) - 1);
}

/** One open case. Levels are numbered as the SDM does: 1 = PTE ... 5 = PML5E. */
struct tw_walker {
	ptlab_read_phys_fn read;
	void *read_ctx;
	uint32_t paging;
	unsigned levels;     /* 2, 3 (PAE: the PDPTEs, then PD and PT), 4 or 5 */
	unsigned entry_size; /* 4 or 8 */
	unsigned va_bits;    /* 32, 48 or 57 */
	uint64_t root;       /* the top table (PAE: the PDPT) */
	uint64_t pdpte[4];   /* PAE: the PDPTE registers */
	uint64_t cbit;       /* the SME C-bit mask (0: none) */
	uint64_t frame;      /* bits M-1:12 */
	uint64_t reserved;   /* reserved in every 8-byte entry: above M, and XD without NXE */
	unsigned pse36_bits; /* 32-bit paging: M' = min(M, 40) */
	bool pse;            /* 32-bit paging: CR4.PSE */
};

static void *tw_open(const struct ptlab_cpu *cpu, ptlab_read_phys_fn read, void *read_ctx)
{
	if (cpu->paging < PTLAB_PAGING_LEGACY32 || cpu->paging > PTLAB_PAGING_IA32E_5 ||
	    cpu->maxphyaddr < 32 || cpu->maxphyaddr > 52)
		return NULL;
	struct tw_walker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	const unsigned m = cpu->maxphyaddr;
	w->read = read;
	w->read_ctx = read_ctx;
	w->paging = cpu->paging;
	w->frame = bits(bug.frame_bit51 ? 51 : m - 1, 12);
	if (cpu->sme_cbit && cpu->paging != PTLAB_PAGING_LEGACY32 && !bug.cbit_in_frame)
		w->cbit = BIT(cpu->sme_cbit);
	if (cpu->sme_cbit && bug.cbit_in_frame)
		w->frame |= BIT(cpu->sme_cbit); /* the bug: the C-bit read as one more address bit */
	const uint64_t no_xd = cpu->efer & EFER_NXE ? 0 : ENTRY_XD;
	const uint64_t cr3 = cpu->cr3 & ~w->cbit;
	switch (cpu->paging) {
	case PTLAB_PAGING_LEGACY32:
		/* Table 4-3: CR3 bits 31:12 locate the page directory. */
		w->levels = 2, w->entry_size = 4, w->va_bits = 32;
		w->root = bug.legacy_pd_at_zero ? 0 : cr3 & bits(31, 12);
		w->pse = cpu->cr4 & CR4_PSE;
		w->pse36_bits = m < 40 ? m : 40;
		w->frame = bits(31, 12);
		break;
	case PTLAB_PAGING_PAE:
		/* Table 4-7: CR3 bits 31:5 locate the PDPT; the four PDPTEs are registers loaded
		 * at MOV to CR3 (4.4.1). Tables 4-9..4-11: bits 62:M reserved, 63 without NXE. */
		w->levels = 3, w->entry_size = 8, w->va_bits = 32;
		w->root = cr3 & bits(31, 5);
		for (unsigned i = 0; i < 4; i++)
			w->pdpte[i] = cpu->pdpte[i];
		w->reserved = bits(62, bug.frame_bit51 ? 52 : m) | no_xd;
		if (bug.pae_frame32)
			w->frame = bits(31, 12);
		break;
	case PTLAB_PAGING_IA32E_4:
	case PTLAB_PAGING_IA32E_5:
		/* Tables 4-12/4-13: CR3 bits M-1:12 locate the top table; 11:0 are PCID or PWT/PCD.
		 * 4.5.4: bits 51:M reserved in every entry, 63 without NXE. */
		w->levels = cpu->paging == PTLAB_PAGING_IA32E_5 && !bug.la57_as_4level ? 5 : 4;
		w->entry_size = 8;
		w->va_bits = w->levels == 5 ? 57 : 48;
		w->root = cr3 & (bug.cr3_low_bits ? bits(m - 1, 0) : bits(m - 1, 12));
		w->reserved = (bug.frame_bit51 ? 0 : bits(51, m)) | no_xd;
		break;
	}
	if (w->cbit)
		w->reserved &= ~w->cbit;
	if (bug.no_reserved)
		w->reserved = 0;
	return w;
}

/** Reserved bits of a present entry at `level` beyond w->reserved (SDM tables per mode). */
static uint64_t tw_level_reserved(const struct tw_walker *w, unsigned level, uint64_t e)
{
	if (bug.no_reserved)
		return 0;
	if (w->paging == PTLAB_PAGING_LEGACY32) {
		/* Table 4-5: a 4 MiB PDE reserves bits 21:(M'-19); nothing else is reserved. */
		return level == 2 && w->pse && (e & ENTRY_PS) && !bug.no_pse36 ? bits(21, w->pse36_bits - 19) : 0;
	}
	if (level >= 4 && !bug.pml4_ps_page)
		return ENTRY_PS;                          /* Tables 4-14/4-15 */
	if (level == 3 && (e & ENTRY_PS) && w->paging != PTLAB_PAGING_PAE)
		return bits(29, 13);                      /* Table 4-16: 1 GiB page */
	if (level == 2 && (e & ENTRY_PS))
		return bits(20, 13);                      /* Tables 4-9, 4-18: 2 MiB page */
	return 0;
}

/** Whether a present entry at `level` maps a page. */
static bool tw_is_leaf(const struct tw_walker *w, unsigned level, uint64_t e)
{
	if (level == 1)
		return true;
	if (!(e & ENTRY_PS))
		return false;
	if (w->paging == PTLAB_PAGING_LEGACY32)
		return level == 2 && w->pse;              /* 4.3: PS honoured only with CR4.PSE */
	if (w->paging == PTLAB_PAGING_PAE)
		return level == 2;                        /* a PDPTE has no PS bit (Table 4-8) */
	return level == 2 || level == 3 || (bug.pml4_ps_page && level == 4);
}

/** The page's physical address from its leaf entry. */
static uint64_t tw_page_pa(const struct tw_walker *w, unsigned level, uint64_t e, uint64_t va,
			   uint64_t size)
{
	const uint64_t offset = va & (size - 1);
	if (w->paging == PTLAB_PAGING_LEGACY32 && level == 2) {
		if (bug.pse_4m_identity)
			return va;
		/* Table 4-5: PA 31:22 from entry 31:22, PA (M'-1):32 from entry (M'-20):13. */
		uint64_t pa = e & bits(31, 22);
		if (!bug.no_pse36)
			pa |= (e & bits(w->pse36_bits - 20, 13)) << 19;
		if (bug.pat_in_frame)
			pa |= e & BIT(12);
		return pa | offset;
	}
	/* Bit 12 of a large page is its PAT bit (Tables 4-9, 4-16, 4-18), not an address bit. */
	uint64_t frame_mask = w->frame & ~(size - 1);
	if (bug.pat_in_frame && level > 1)
		frame_mask |= BIT(12);
	return (e & frame_mask) | offset;
}

static int tw_read_entry(const struct tw_walker *w, uint64_t pa, uint64_t *entry)
{
	uint8_t b[8];
	if (w->read(w->read_ctx, pa, b, w->entry_size) != 0)
		return -1;
	*entry = 0;
	for (unsigned i = 0; i < w->entry_size; i++)
		*entry |= (uint64_t)b[i] << (8 * i);
	return 0;
}

static int tw_translate(void *walker, uint64_t va, uint32_t access, struct ptlab_result *out)
{
	const struct tw_walker *w = walker;
	(void)access;

	*out = (struct ptlab_result){ 0 };
	/* SDM Vol. 1, 3.3.7.1: bits 63:va_bits-1 all equal, else #GP; 32-bit modes: 32-bit VAs. */
	if (w->va_bits == 32) {
		if (va >> 32)
			return 0;
	} else if (bug.no_canonical) {
		va &= bits(w->va_bits - 1, 0);
	} else {
		const uint64_t upper = va >> (w->va_bits - 1);
		if (upper != 0 && upper != bits(64 - w->va_bits, 0))
			return 0;
	}

	/* Linux's 4-level direct map (PAGE_OFFSET 0xffff888000000000, 64 TiB). */
	const uint64_t page_offset = UINT64_C(0xffff888000000000);
	if (bug.direct_map_math && w->va_bits == 48 && va - page_offset < BIT(46)) {
		out->mapped = 1;
		out->pa = va - page_offset;
		return 0;
	}

	uint64_t table = w->root;
	const unsigned index_bits = w->paging == PTLAB_PAGING_LEGACY32 ? 10 : 9;
	for (unsigned level = w->levels; level >= 1; level--) {
		const unsigned shift = 12 + index_bits * (level - 1);
		uint64_t e;
		if (w->paging == PTLAB_PAGING_PAE && level == 3) {
			/* The PDPTE registers (4.4.1), VA bits 31:30. */
			const unsigned i = (unsigned)(va >> 30) & 3;
			if (bug.pdpte_reread) {
				if (tw_read_entry(w, w->root + 8 * i, &e) != 0)
					return -1;
			} else {
				e = w->pdpte[i];
			}
			e &= ~w->cbit;
			if (!(e & ENTRY_P)) {
				if (bug.pae_pdpte_np_zero)
					out->mapped = 1; /* PA 0 */
				return 0;
			}
			table = e & w->frame;
			continue;
		}
		const uint64_t index = (va >> shift) & (BIT(index_bits) - 1);
		if (tw_read_entry(w, table + w->entry_size * index, &e) != 0)
			return -1;
		e &= ~w->cbit;
		if (!(e & ENTRY_P))
			return 0;
		if (e & (w->reserved | tw_level_reserved(w, level, e)))
			return 0;
		if (tw_is_leaf(w, level, e)) {
			const uint64_t size = BIT(shift);
			out->mapped = 1;
			out->pa = tw_page_pa(w, level, e, va, size);
			out->page_size = size;
			return 0;
		}
		table = e & w->frame;
	}
	return 0;
}

static void tw_close(void *walker)
{
	free(walker);
}

static const struct ptlab_adapter tw_adapter = {
	.abi = PTLAB_ADAPTER_ABI,
	.caps = PTLAB_CAP_LEGACY32 | PTLAB_CAP_PAE | PTLAB_CAP_IA32E_4 | PTLAB_CAP_IA32E_5 |
		PTLAB_CAP_PAGE_SIZE | PTLAB_CAP_SME_CBIT,
	.name = TW_NAME,
	.open = tw_open,
	.translate = tw_translate,
	.close = tw_close,
};

const struct ptlab_adapter *ptlab_adapter_v1(void)
{
	return &tw_adapter;
}
