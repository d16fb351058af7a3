/* SPDX-License-Identifier: MIT */
/*
 * examples/walkers/minimal.c: the smallest honest 4-level page-table walker, as a ptlab adapter.
 *
 * Start here to write your own walker. It does pure translation (what a forensics or debugger
 * walker does: no U/S, R/W, NX, SMEP, SMAP or PKU checks) for IA-32e 4-level paging only, and
 * says so in its capabilities, so `ptlab check` runs only the cases it claims and reports the
 * rest (PAE, 32-bit, 5-level, rights, #PF error codes, the SME C-bit) as "unsupported".
 *
 * Every rule below is from the Intel SDM, Vol. 3A, chapter 4 (section numbers of the 2023+
 * editions; the entry-format tables are Tables 4-14 to 4-20):
 *   - the linear address must be canonical (Vol. 1, 3.3.7.1; 4.5): else #GP, no translation;
 *   - CR3 bits M-1:12 locate the PML4 (Table 4-12/4-13); bits 11:0 are PWT/PCD or a PCID and
 *     bits 63:M are not address bits (M = MAXPHYADDR);
 *   - each level: not present (bit 0 = 0) stops the walk (4.5.4);
 *   - reserved bits stop the walk (4.5.4): bits 51:M of every entry, bit 63 (XD) when
 *     IA32_EFER.NXE = 0, PS (bit 7) of a PML4E, bits 29:13 of a 1-GByte PDPTE and bits 20:13 of
 *     a 2-MByte PDE;
 *   - PS = 1 in a PDPTE maps a 1-GByte page, in a PDE a 2-MByte page (4.5.4); bit 12 of such an
 *     entry is its PAT bit, not an address bit (Tables 4-16 and 4-18).
 *
 * Build and check it (from a ptlab build directory):
 *   cc -shared -fPIC -O2 -I../include -o minimal.so ../examples/walkers/minimal.c
 *   ./ptlab check --adapter ./minimal.so
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "ptlab/adapter.h"

/* Entry bits (SDM Tables 4-14 to 4-20). */
#define BIT(n) (UINT64_C(1) << (n))
#define ENTRY_P BIT(0)   /* present */
#define ENTRY_PS BIT(7)  /* page size: this PDPTE / PDE maps a page */
#define ENTRY_XD BIT(63) /* execute-disable; a reserved bit when IA32_EFER.NXE = 0 */
#define EFER_NXE BIT(11)

/** Bits hi..lo set (hi >= lo); an empty mask when hi < lo (e.g. bits 51:52 for M = 52). */
static uint64_t bit_range(unsigned hi, unsigned lo)
{
	if (hi < lo)
		return 0;
	return (hi == 63 ? ~UINT64_C(0) : BIT(hi + 1) - 1) & ~(BIT(lo) - 1);
}

/** One open case: the CPU state folded once, and ptlab's physical-memory reader. */
struct minimal_walker {
	ptlab_read_phys_fn read;
	void *read_ctx;
	uint64_t pml4;      /* physical address of the PML4 table */
	uint64_t addr_mask; /* bits M-1:12: where a table or page frame lives in an entry */
	uint64_t reserved;  /* reserved in every entry: 51:M, and XD without NXE */
};

static void *minimal_open(const struct ptlab_cpu *cpu, ptlab_read_phys_fn read, void *read_ctx)
{
	/* Only 4-level paging; MAXPHYADDR is 32..52 on every CPU with IA-32e mode (4.1.4). */
	if (cpu->paging != PTLAB_PAGING_IA32E_4 || cpu->maxphyaddr < 32 || cpu->maxphyaddr > 52)
		return NULL;
	struct minimal_walker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	const unsigned m = cpu->maxphyaddr;
	w->read = read;
	w->read_ctx = read_ctx;
	w->addr_mask = bit_range(m - 1, 12);
	/* Table 4-12/4-13: the PML4's address is CR3 bits M-1:12; the low 12 bits are PWT/PCD (or
	 * the PCID when CR4.PCIDE = 1, 4.10.1) and never part of the address. */
	w->pml4 = cpu->cr3 & w->addr_mask;
	w->reserved = bit_range(51, m);
	if (!(cpu->efer & EFER_NXE))
		w->reserved |= ENTRY_XD; /* 4.5.4: XD is reserved unless IA32_EFER.NXE = 1 */
	return w;
}

/** Reserved bits of an entry at `level` (4 = PML4E .. 1 = PTE) beyond those of every entry. */
static uint64_t level_reserved(unsigned level, uint64_t entry)
{
	if (level == 4)
		return ENTRY_PS;              /* Table 4-15: PS of a PML4E is reserved */
	if (level == 3 && (entry & ENTRY_PS))
		return bit_range(29, 13);     /* Table 4-16: 1-GByte page */
	if (level == 2 && (entry & ENTRY_PS))
		return bit_range(20, 13);     /* Table 4-18: 2-MByte page */
	return 0;
}

static int minimal_translate(void *walker, uint64_t va, uint32_t access, struct ptlab_result *out)
{
	const struct minimal_walker *w = walker;
	(void)access; /* pure translation: rights are not checked (no PTLAB_CAP_RIGHTS) */

	out->mapped = 0;
	out->pf_error = 0;
	out->pa = 0;
	out->page_size = 0;

	/* 4-level paging translates 48-bit linear addresses; bits 63:47 must all equal bit 47
	 * (canonical form, SDM Vol. 1, 3.3.7.1): else a #GP before any table is read. */
	const uint64_t upper = va >> 47;
	if (upper != 0 && upper != 0x1ffff)
		return 0;

	uint64_t table = w->pml4;
	for (unsigned level = 4; level >= 1; level--) {
		/* Each level indexes its table with 9 VA bits: 47:39, 38:30, 29:21, 20:12. */
		const unsigned shift = 12 + 9 * (level - 1);
		const uint64_t index = (va >> shift) & 511;
		uint8_t bytes[8];
		if (w->read(w->read_ctx, table + 8 * index, bytes, sizeof(bytes)) != 0)
			return -1; /* the table is not in the dump: we cannot answer */
		uint64_t entry = 0;
		for (unsigned i = 0; i < 8; i++)
			entry |= (uint64_t)bytes[i] << (8 * i); /* entries are little-endian */

		if (!(entry & ENTRY_P))
			return 0; /* not present: #PF */
		if (entry & (w->reserved | level_reserved(level, entry)))
			return 0; /* a reserved bit is set: #PF with RSVD */

		const bool leaf = level == 1 || ((level == 3 || level == 2) && (entry & ENTRY_PS));
		if (leaf) {
			/* The page's frame is bits M-1:(shift) of the entry: for a large page this
			 * drops bit 12 (its PAT bit) and the reserved bits below the page size. */
			const uint64_t page_size = UINT64_C(1) << shift;
			out->mapped = 1;
			out->pa = (entry & w->addr_mask & ~(page_size - 1)) | (va & (page_size - 1));
			out->page_size = page_size;
			return 0;
		}
		table = entry & w->addr_mask; /* the next table: bits M-1:12 */
	}
	return 0; /* not reached: level 1 is always a leaf */
}

static void minimal_close(void *walker)
{
	free(walker);
}

static const struct ptlab_adapter minimal_adapter = {
	.abi = PTLAB_ADAPTER_ABI,
	.caps = PTLAB_CAP_IA32E_4 | PTLAB_CAP_PAGE_SIZE,
	.name = "minimal 4-level walker (examples/walkers/minimal.c)",
	.open = minimal_open,
	.translate = minimal_translate,
	.close = minimal_close,
};

const struct ptlab_adapter *ptlab_adapter_v1(void)
{
	return &minimal_adapter;
}
