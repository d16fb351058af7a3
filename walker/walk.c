/* SPDX-License-Identifier: MIT */
/*
 * The translation core: one level loop for every x86 paging mode, written from the Intel SDM,
 * Vol. 3A, chapter 4 ("Paging"). Section and table numbers below are those of that chapter
 * (Tables 4-4..4-20 give the entry formats of 32-bit, PAE, 4-level and 5-level paging).
 */
#if defined(__GNUC__) && !defined(__clang__)
/* GCC's straight-line vectorizer (on at -O2 since GCC 12) pairs each level's two 8-byte stores of
 * the record (entry pa, entry value) into one vector store built from two registers: four
 * instructions where two stores do, on the walker's hottest path. Set before any function so that
 * every function here, and the header inlines they use, are compiled alike. */
#pragma GCC optimize("no-tree-slp-vectorize")
#endif
#include <string.h>

#include "ptlab/walk.h"
#include "ptlab/le.h"
#include "mem_inline.h"

/* The level loop's parts (decode_present, fold_and and fold_or, rights_of,
 * access_allowed_inline) are inlined into each instantiation of the level loop (walk_level,
 * walk_levels), and each instantiation is a function of its own, so that its registers are
 * allocated for its shape alone. */
#if defined(__GNUC__)
#define WALK_INLINE static inline __attribute__((always_inline))
#define WALK_INSTANCE static __attribute__((noinline))
#define WALK_COLD static __attribute__((noinline, cold))
#else
#define WALK_INLINE static inline
#define WALK_INSTANCE static
#define WALK_COLD static
#endif

/* WALK_REREAD: a compiler barrier that emits no instruction. What was read from memory before it
 * is read again after it (as an operand of the instruction that uses it) rather than held in a
 * register. The common-case walk (walk_shape.full) puts one at the top of each level and two in
 * the rights fold: its values then fit in the registers a call may clobber, so it saves none of
 * its caller's. That matters more than the loads it adds: a caller's loop keeps its index in
 * such a register, and a push and pop of it would hold the next VA back until this walk's last
 * instruction (measured with the walk saving two: a loop whose index sat in one of them made 10%
 * fewer calls a second than one whose index did not). */
#if defined(__GNUC__)
#define WALK_REREAD() __asm__ volatile("" ::: "memory")
#else
#define WALK_REREAD() ((void)0)
#endif

/** A 4- or 8-byte paging-structure entry (paging structures are little-endian). */
static inline uint64_t entry_load(const void *p, unsigned size)
{
	return size == 4 ? pt_le32(p) : pt_le64(p);
}

/* ---- small helpers --------------------------------------------------------------------- */

/** Mask of bits hi..lo inclusive (empty when hi < lo). */
static uint64_t bits(unsigned hi, unsigned lo)
{
	if (hi < lo || lo > 63)
		return 0;
	uint64_t top = hi >= 63 ? ~UINT64_C(0) : (PT_BIT(hi + 1) - 1);
	return top & ~(PT_BIT(lo) - 1);
}

/* ---- flat memory reader ------------------------------------------------------------------ */

const void *walk_flat_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	return mem_at(mem, pa, len); /* the flat case of the inline reader */
}

const uint8_t *walk_mem_at_slow(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	return mem_at(mem, pa, len);
}

void pt_flat_mem_init(struct pt_flat_mem *flat, const void *base, uint64_t size)
{
	flat->mem.ptr = walk_flat_ptr;
	flat->mem.opaque = flat;
	flat->base = base;
	flat->size = size;
}

/* ---- chunked memory reader --------------------------------------------------------------- */

void pt_chunk_mem_init(struct pt_chunk_mem *cm, const uint8_t *const *chunks, uint64_t nchunks,
		       unsigned shift, const struct pt_mem *fallback)
{
	cm->mem.ptr = pt_chunk_mem_ptr;
	cm->mem.opaque = cm;
	cm->chunks = chunks;
	cm->nchunks = chunks ? nchunks : 0;
	cm->shift = shift < PT_PAGE_SHIFT ? PT_PAGE_SHIFT : shift > 63 ? 63 : shift;
	cm->offset_mask = PT_BIT(cm->shift) - 1;
	cm->fallback = fallback;
	cm->run = NULL;
	cm->run_pa = 0;
	cm->run_size = 0;
	cm->end = UINT64_MAX;
}

void pt_chunk_mem_set_end(struct pt_chunk_mem *cm, uint64_t end)
{
	cm->end = end;
}

void pt_chunk_mem_set_run(struct pt_chunk_mem *cm, const uint8_t *run, uint64_t pa, uint64_t size)
{
	/* whole 8-byte words from an aligned start: an aligned entry read in the run ends in it */
	const bool aligned = (pa & 7) == 0;
	cm->run = aligned ? run : NULL;
	cm->run_pa = aligned ? pa : 0;
	cm->run_size = run && aligned ? size & ~(uint64_t)7 : 0;
}

const void *pt_chunk_mem_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	const struct pt_chunk_mem *cm = (const struct pt_chunk_mem *)mem;
	const uint8_t *p = chunk_at(cm, pa, len);
	if (p || pa >= cm->end || len > cm->end - pa)
		return p;
	return cm->fallback ? cm->fallback->ptr(cm->fallback, pa, len) : NULL;
}

/* ---- modes ------------------------------------------------------------------------------- */

/* 32-bit paging (4.3): a 1024-entry page directory and page tables of 4-byte entries;
 * a PDE maps a 4 MiB page when CR4.PSE = 1 and PS = 1. */
static const struct pt_mode_desc mode_legacy = {
	.mode = PT_MODE_LEGACY, .levels = 2, .entry_size = 4, .va_bits = 32,
	.level = { [1] = { 12, 10, false }, [2] = { 22, 10, true } },
};
/* PAE paging (4.4): four PDPTEs loaded with CR3, then 512-entry tables of 8-byte entries. */
static const struct pt_mode_desc mode_pae = {
	.mode = PT_MODE_PAE, .levels = 3, .entry_size = 8, .va_bits = 32,
	.level = { [1] = { 12, 9, false }, [2] = { 21, 9, true }, [3] = { 30, 2, false } },
};
/* 4-level paging (4.5): PML4, PDPT (1 GiB pages), PD (2 MiB pages), PT. */
static const struct pt_mode_desc mode_ia32e = {
	.mode = PT_MODE_IA32E, .levels = 4, .entry_size = 8, .va_bits = 48,
	.level = { [1] = { 12, 9, false }, [2] = { 21, 9, true }, [3] = { 30, 9, true },
		   [4] = { 39, 9, false } },
};
/* 5-level paging (4.5, CR4.LA57 = 1): a PML5 above the PML4. */
static const struct pt_mode_desc mode_la57 = {
	.mode = PT_MODE_LA57, .levels = 5, .entry_size = 8, .va_bits = 57,
	.level = { [1] = { 12, 9, false }, [2] = { 21, 9, true }, [3] = { 30, 9, true },
		   [4] = { 39, 9, false }, [5] = { 48, 9, false } },
};

const struct pt_mode_desc *pt_mode_desc(enum pt_mode mode)
{
	switch (mode) {
	case PT_MODE_LEGACY: return &mode_legacy;
	case PT_MODE_PAE: return &mode_pae;
	case PT_MODE_IA32E: return &mode_ia32e;
	case PT_MODE_LA57: return &mode_la57;
	case PT_MODE_OFF: break;
	}
	return NULL;
}

/** The index of `va` in a table of level `ld` (SDM 4.3, 4.4.2, 4.5.4). */
static inline uint64_t level_index(const struct pt_level_desc *ld, uint64_t va)
{
	return (va >> ld->va_shift) & (PT_BIT(ld->index_bits) - 1);
}

unsigned pt_level_index(const struct pt_mode_desc *desc, unsigned level, uint64_t va)
{
	return (unsigned)level_index(&desc->level[level], va);
}

unsigned pt_level_entries(const struct pt_mode_desc *desc, unsigned level)
{
	return 1u << desc->level[level].index_bits;
}

uint64_t pt_mode_upper_half(enum pt_mode mode)
{
	const struct pt_mode_desc *desc = pt_mode_desc(mode);
	if (!desc || desc->va_bits == 32)
		return 0;
	/* 3.3.7.1: bits 63:va_bits-1 all set */
	return ~UINT64_C(0) << (desc->va_bits - 1);
}

static const char *const mode_names[] = {
	[PT_MODE_OFF] = "off", [PT_MODE_LEGACY] = "legacy", [PT_MODE_PAE] = "pae",
	[PT_MODE_IA32E] = "ia32e", [PT_MODE_LA57] = "la57",
};

const char *pt_mode_name(enum pt_mode mode)
{
	if ((unsigned)mode < sizeof(mode_names) / sizeof(mode_names[0]))
		return mode_names[mode];
	return "?";
}

bool pt_mode_parse(const char *name, enum pt_mode *mode_ret)
{
	for (unsigned i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcmp(name, mode_names[i]) == 0) {
			*mode_ret = (enum pt_mode)i;
			return true;
		}
	}
	return false;
}

const char *pt_status_name(enum pt_status status)
{
	switch (status) {
	case PT_OK: return "ok";
	case PT_FAULT: return "fault";
	case PT_NOT_IN_DUMP: return "table not in dump";
	case PT_EINVAL: return "invalid input";
	}
	return "?";
}

const char *pt_access_kind_name(enum pt_access_kind kind)
{
	switch (kind) {
	case PT_ACCESS_WRITE:
		return "write";
	case PT_ACCESS_FETCH:
		return "fetch";
	case PT_ACCESS_READ:
		break;
	}
	return "read";
}

/* ---- CPU state ----------------------------------------------------------------------------- */

void pt_cpu_state_default(struct pt_cpu_state *cpu, uint64_t cr3)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->cr0 = CR0_PG | CR0_WP | CR0_PE;
	cpu->cr4 = CR4_PAE | CR4_PSE;
	cpu->efer = EFER_LME | EFER_LMA | EFER_NXE;
	cpu->cr3 = cr3;
	cpu->maxphyaddr = 52;
}

void pt_cpu_state_set_mode(struct pt_cpu_state *cpu, enum pt_mode mode)
{
	if (mode == PT_MODE_OFF) {
		cpu->cr0 &= ~CR0_PG;
		cpu->efer &= ~EFER_LMA;
		return;
	}
	cpu->cr0 |= CR0_PG | CR0_PE;
	switch (mode) {
	case PT_MODE_LEGACY:
		cpu->cr4 = (cpu->cr4 & ~(CR4_PAE | CR4_LA57)) | CR4_PSE;
		cpu->efer &= ~(EFER_LMA | EFER_LME);
		break;
	case PT_MODE_PAE:
		cpu->cr4 = (cpu->cr4 & ~CR4_LA57) | CR4_PAE;
		cpu->efer &= ~(EFER_LMA | EFER_LME);
		break;
	case PT_MODE_IA32E:
		cpu->cr4 = (cpu->cr4 & ~CR4_LA57) | CR4_PAE;
		cpu->efer |= EFER_LMA | EFER_LME;
		break;
	case PT_MODE_LA57:
		cpu->cr4 |= CR4_PAE | CR4_LA57;
		cpu->efer |= EFER_LMA | EFER_LME;
		break;
	case PT_MODE_OFF:
		break;
	}
}

/* ---- context ------------------------------------------------------------------------------ */

/* Reserved-bit masks, one per (level, table-or-page), transcribed from the entry-format tables.
 * M is MAXPHYADDR; the C-bit, when SME is on, is removed from every mask (it is stripped from
 * the entry before decoding, so it is neither an address bit nor a reserved bit). */
static void build_reserved_masks(struct pt_context *ctx)
{
	const unsigned m = ctx->maxphyaddr;
	const uint64_t xd = (ctx->flags & PT_CTX_NXE) ? 0 : PTE_XD;
	memset(ctx->rsvd, 0, sizeof(ctx->rsvd));

	switch (ctx->mode) {
	case PT_MODE_LEGACY: {
		/* Table 4-5 (PDE mapping a 4-MByte page): bits (M'-20):13 hold PA bits (M'-1):32
		 * (PSE-36, at most 40 address bits, M' = min(M, 40)); bits 21:(M'-19) are reserved.
		 * Tables 4-6 and 4-7 (PDE referencing a table, PTE): no reserved bits. */
		unsigned mp = m < 40 ? m : 40;
		ctx->rsvd[2][1] = bits(21, mp - 19);
		break;
	}
	case PT_MODE_PAE: {
		/* Table 4-8 (PDPTE): bits 2:1, 8:5 and 63:M reserved (checked at CR3 load, 4.4.1).
		 * Table 4-9 (PDE, 2-MByte page): 62:M, 20:13, and 63 without NXE.
		 * Tables 4-10, 4-11 (PDE referencing a table, PTE): 62:M, and 63 without NXE. */
		uint64_t high = bits(62, m);
		ctx->rsvd[3][0] = bits(2, 1) | bits(8, 5) | bits(63, m);
		ctx->rsvd[2][0] = high | xd;
		ctx->rsvd[2][1] = high | bits(20, 13) | xd;
		ctx->rsvd[1][1] = high | xd;
		break;
	}
	case PT_MODE_IA32E:
	case PT_MODE_LA57: {
		/* Bits 51:M are reserved in every entry (4.5.4; bits 62:52 are ignored except the
		 * protection key 62:59 of a leaf); bit 63 without NXE.
		 * Table 4-14/4-15 (PML5E, PML4E): bit 7 (PS) reserved.
		 * Table 4-16 (PDPTE, 1-GByte page): bits 29:13 reserved. Table 4-17: table PDPTE.
		 * Table 4-18 (PDE, 2-MByte page): bits 20:13 reserved. Table 4-19: table PDE.
		 * Table 4-20 (PTE). */
		uint64_t high = bits(51, m) | xd;
		ctx->rsvd[5][0] = high | PTE_PS;
		ctx->rsvd[4][0] = high | PTE_PS;
		ctx->rsvd[3][0] = high;
		ctx->rsvd[3][1] = high | bits(29, 13);
		ctx->rsvd[2][0] = high;
		ctx->rsvd[2][1] = high | bits(20, 13);
		ctx->rsvd[1][1] = high;
		break;
	}
	case PT_MODE_OFF:
		break;
	}
	for (unsigned l = 0; l < 6; l++) {
		ctx->rsvd[l][0] &= ~ctx->cbit_mask;
		ctx->rsvd[l][1] &= ~ctx->cbit_mask;
	}
}

uint64_t pt_cr3_root(enum pt_mode mode, uint64_t cr3, uint64_t cbit_mask)
{
	cr3 &= ~cbit_mask;
	switch (mode) {
	case PT_MODE_LEGACY:
		return cr3 & bits(31, 12); /* Table 4-3: CR3 bits 31:12 locate the page directory */
	case PT_MODE_PAE:
		return cr3 & bits(31, 5);  /* Table 4-7 / 4.4.1: CR3 bits 31:5 locate the 32-byte PDPT */
	case PT_MODE_IA32E:
	case PT_MODE_LA57:
		/* Table 4-12/4-13: bits M-1:12 locate the top table; bits 11:0 are PWT/PCD or, with
		 * CR4.PCIDE, the PCID (4.10.1); bit 63 of a MOV to CR3 is the no-flush hint with
		 * PCIDE and bits 62:61 are LAM controls: none of them is an address bit. */
		return cr3 & ~(bits(11, 0) | bits(63, 61));
	case PT_MODE_OFF:
		break;
	}
	return 0;
}

/**
 * Fold CR0/CR4/EFER/RFLAGS, MAXPHYADDR and the C-bit into ctx: mode, descriptor, flags, address
 * and reserved masks (everything but the root and the PDPTEs). PT_EINVAL for a state no CPU has.
 */
static enum pt_status fold_state(struct pt_context *ctx, const struct pt_cpu_state *cpu)
{
	memset(ctx, 0, sizeof(*ctx));
	if (cpu->maxphyaddr < PT_MAXPHYADDR_MIN || cpu->maxphyaddr > PT_MAXPHYADDR_MAX)
		return PT_EINVAL;
	/* The SME C-bit (CPUID 0x8000001F EBX[5:0]) sits above every physical address the CPU forms:
	 * never below bit 32 (it would be an address bit of a 32-bit CR3 or a 32-bit PDPT pointer;
	 * real parts report 47 or 51). A lower position is not a CPU state. */
	if (cpu->cbit != 0 && (cpu->cbit < PT_CBIT_MIN || cpu->cbit > PT_CBIT_MAX))
		return PT_EINVAL;
	ctx->maxphyaddr = cpu->maxphyaddr;
	ctx->cbit_mask = cpu->cbit ? PT_BIT(cpu->cbit) : 0;
	ctx->pkru = cpu->pkru;

	if (!(cpu->cr0 & CR0_PG)) {
		ctx->mode = PT_MODE_OFF;
		return PT_OK;
	}
	const bool lma = cpu->efer & EFER_LMA;
	const bool pae = cpu->cr4 & CR4_PAE;
	if (lma && !pae)
		return PT_EINVAL; /* setting CR0.PG with LME=1 and PAE=0 is #GP: never a CPU state */
	if (lma)
		ctx->mode = (cpu->cr4 & CR4_LA57) ? PT_MODE_LA57 : PT_MODE_IA32E;
	else
		ctx->mode = pae ? PT_MODE_PAE : PT_MODE_LEGACY;
	ctx->desc = pt_mode_desc(ctx->mode);

	uint32_t flags = 0;
	if (cpu->cr0 & CR0_WP)
		flags |= PT_CTX_WP;
	if (ctx->mode != PT_MODE_LEGACY && (cpu->efer & EFER_NXE))
		flags |= PT_CTX_NXE;
	if (cpu->cr4 & CR4_PSE)
		flags |= PT_CTX_PSE;
	if (cpu->cr4 & PT_BIT(CR4_BIT_SMEP))
		flags |= PT_CTX_SMEP;
	if (cpu->cr4 & PT_BIT(CR4_BIT_SMAP))
		flags |= PT_CTX_SMAP;
	if (lma && (cpu->cr4 & PT_BIT(CR4_BIT_PKE)))
		flags |= PT_CTX_PKE; /* 4.6.2: protection keys apply to 4-level and 5-level paging only */
	if (cpu->rflags & PT_BIT(RFLAGS_BIT_AC))
		flags |= PT_CTX_AC;
	/* 4.7: I/D is reported when SMEP = 1, or when PAE = 1 (PAE, 4-level, 5-level) and NXE = 1. */
	if ((flags & PT_CTX_SMEP) || (flags & PT_CTX_NXE))
		flags |= PT_CTX_ID_BIT;
	ctx->flags = flags;
	/* Frame bits of a table pointer: 31:12 in 32-bit paging (Tables 4-6, 4-7), M-1:12 else. */
	ctx->addr_mask = ctx->mode == PT_MODE_LEGACY ? bits(31, 12) : bits(cpu->maxphyaddr - 1, 12);
	ctx->addr_mask &= ~ctx->cbit_mask;
	build_reserved_masks(ctx);
	for (unsigned l = 1; l <= ctx->desc->levels; l++) {
		const struct pt_level_desc *ld = &ctx->desc->level[l];
		/* 4.3: in 32-bit paging PS maps a 4 MiB page only with CR4.PSE = 1, else it is ignored */
		if (ld->may_map_page && (ctx->mode != PT_MODE_LEGACY || (flags & PT_CTX_PSE)))
			ctx->ps_mask[l] = PTE_PS;
		ctx->page_frame[l] = ctx->addr_mask & ~(PT_BIT(ld->va_shift) - 1);
		if (l > 1)
			ctx->table_step[l] = PTE_P | ctx->ps_mask[l] | ctx->rsvd[l][0];
		ctx->leaf_step[l] = PTE_P | ctx->ps_mask[l] | ctx->rsvd[l][1];
	}
	return PT_OK;
}

enum pt_status pt_context_init_mode(struct pt_context *ctx, enum pt_mode mode, uint8_t maxphyaddr,
				    uint8_t cbit)
{
	struct pt_cpu_state cpu;
	pt_cpu_state_default(&cpu, 0);
	pt_cpu_state_set_mode(&cpu, mode);
	cpu.maxphyaddr = maxphyaddr;
	cpu.cbit = cbit;
	enum pt_status st = fold_state(ctx, &cpu);
	if (st == PT_OK && !ctx->desc)
		st = PT_EINVAL;
	return st;
}

enum pt_status pt_context_init(struct pt_context *ctx, const struct pt_cpu_state *cpu,
			       const struct pt_mem *mem, struct pt_fault *fault_ret,
			       uint64_t *table_pa_ret)
{
	enum pt_status st = fold_state(ctx, cpu);
	if (st != PT_OK || ctx->mode == PT_MODE_OFF)
		return st;
	ctx->root = pt_cr3_root(ctx->mode, cpu->cr3, ctx->cbit_mask);
	if ((ctx->mode == PT_MODE_IA32E || ctx->mode == PT_MODE_LA57) &&
	    (ctx->root & ~bits(cpu->maxphyaddr - 1, 12)))
		return PT_EINVAL; /* MOV to CR3 would #GP: not a CPU state */

	if (ctx->mode == PT_MODE_PAE) {
		/* 4.4.1: MOV to CR3 in PAE mode loads the four PDPTEs into internal registers;
		 * a present PDPTE with a reserved bit set is a #GP, not a #PF. */
		const uint8_t *pdpt = NULL;
		if (!cpu->has_pdpte_regs) {
			pdpt = mem ? mem->ptr(mem, ctx->root, 32) : NULL;
			if (!pdpt) {
				if (table_pa_ret)
					*table_pa_ret = ctx->root;
				return PT_NOT_IN_DUMP;
			}
		}
		for (unsigned i = 0; i < 4; i++) {
			uint64_t raw = pdpt ? entry_load(pdpt + 8 * i, 8) & ~cpu->pdpte_written_by_dumper
					    : cpu->pdpte_regs[i];
			uint64_t value = raw & ~ctx->cbit_mask;
			ctx->pdpte[i] = raw;
			if ((value & PTE_P) && (value & ctx->rsvd[3][0])) {
				if (fault_ret) {
					fault_ret->vector = PT_VEC_GP;
					fault_ret->error_code = 0;
					fault_ret->level = 3;
					fault_ret->entry_pa = ctx->root + 8 * i;
					fault_ret->entry = raw;
				}
				return PT_FAULT;
			}
		}
	}
	return PT_OK;
}

/* ---- the shared entry decoder --------------------------------------------------------- */

/* The fields of a present entry at `level` (1..levels), from the masks pt_context_init derived:
 * PS maps a page where ps_mask says so (4.3: in 32-bit paging only with CR4.PSE = 1, else PS is
 * ignored), the reserved bits of a table or a page entry, and the frame. `legacy`: 32-bit paging,
 * whose 4 MiB pages place PA bits above 31 in entry bits 20:13 (Table 4-5, PSE-36). */
WALK_INLINE void decode_present(const struct pt_context *ctx, unsigned level, uint64_t value,
				  bool legacy, struct pt_entry_info *info)
{
	const bool maps_page = level == 1 || (value & ctx->ps_mask[level]) != 0;
	info->maps_page = maps_page;
	info->rsvd_bits = value & ctx->rsvd[level][maps_page];
	if (!maps_page) {
		info->frame = value & ctx->addr_mask;
	} else if (legacy && level == 2) {
		/* Table 4-5: PA bits 31:22 from entry bits 31:22, PA bits (M'-1):32 from 20:13. */
		unsigned mp = ctx->maxphyaddr < 40 ? ctx->maxphyaddr : 40;
		uint64_t high = (value >> 13) & (PT_BIT(mp - 32) - 1);
		info->frame = (value & bits(31, 22)) | (high << 32);
	} else {
		/* A page's frame is aligned to its size; bit 12 of a large page is PAT. */
		info->frame = value & ctx->page_frame[level];
	}
}

/* The decoder proper; every field is assigned. */
static inline void decode_entry(const struct pt_context *ctx, unsigned level, uint64_t raw,
				struct pt_entry_info *info)
{
	const struct pt_mode_desc *desc = ctx->desc;
	const uint64_t value = raw & ~ctx->cbit_mask;
	info->raw = raw;
	info->value = value;
	info->present = value & PTE_P;
	info->frame = 0;
	info->rsvd_bits = 0;
	info->maps_page = false;
	if (!info->present || !desc || level < 1 || level > desc->levels)
		return;
	decode_present(ctx, level, value, ctx->mode == PT_MODE_LEGACY, info);
}

void pt_entry_decode(const struct pt_context *ctx, unsigned level, uint64_t raw,
		     struct pt_entry_info *info_ret)
{
	decode_entry(ctx, level, raw, info_ret);
}

/* ---- rights over the levels ----------------------------------------------------------- */

/* The rule proper, on whole entries: 4.6.1 combines R/W and U/S by AND and XD by OR over every
 * level, so the entries are ANDed and ORed; a PAE PDPTE has no R/W, U/S or XD (Table 4-8) and
 * takes no part. In two halves, so that the walk can fold its record one half at a time (at the
 * leaf, over the entries it recorded: each is then an operand of one instruction, not a register
 * held across both). */
WALK_INLINE uint64_t fold_and(bool pae_pdpte, uint64_t value, uint64_t and_bits)
{
	return pae_pdpte ? and_bits : and_bits & value;
}

WALK_INLINE uint64_t fold_or(bool pae_pdpte, uint64_t value, uint64_t or_bits)
{
	return pae_pdpte ? or_bits : or_bits | value;
}

/* The rights the folded entries give: writable and user when every level allows it, NX when some
 * level sets XD; a leaf (`leaf`: the entry, read as `leaf_raw`, maps a page) gives the protection
 * key with CR4.PKE (4.6.2), else the key is left as it is. The entries folded have no reserved
 * bit set, and without IA32_EFER.NXE bit 63 is reserved in every PAE and IA-32e entry (Tables
 * 4-9 to 4-11, 4-14 to 4-20; 32-bit paging's entries have no bit 63): XD set means NXE = 1. */
WALK_INLINE void rights_of(const struct pt_context *ctx, uint64_t and_bits, uint64_t or_bits,
			   bool leaf, uint64_t leaf_raw, struct pt_rights *rights)
{
	/* writable and user by R/W and U/S (bits 1 and 2): one load of both, not two extractions */
	static const struct pt_rights by_rw_us[4] = {
		{ .writable = false, .user = false }, { .writable = true, .user = false },
		{ .writable = false, .user = true }, { .writable = true, .user = true },
	};
	_Static_assert(PTE_BIT_US == PTE_BIT_RW + 1, "R/W and U/S are adjacent bits");
	const uint32_t flags = ctx->flags;
	const struct pt_rights *rw_us = &by_rw_us[(and_bits >> PTE_BIT_RW) & 3];
	rights->writable = rw_us->writable;
	rights->user = rw_us->user;
	rights->nx = (or_bits & PTE_XD) != 0;
	if (leaf && (flags & PT_CTX_PKE)) /* the key of the entry as read, its C-bit removed */
		rights->pkey = (uint8_t)(((leaf_raw & ~ctx->cbit_mask) & PTE_PKEY) >> PTE_BIT_PKEY);
}

void pt_rights_combine(const struct pt_context *ctx, unsigned level, const struct pt_entry_info *entry,
		       struct pt_rights *rights)
{
	/* the rights so far as the entry bits they came from (nx implies NXE), then one more fold */
	const bool pae_pdpte = ctx->mode == PT_MODE_PAE && level == 3;
	const uint64_t and_bits = fold_and(pae_pdpte, entry->value,
					   (rights->writable ? PTE_RW : 0) | (rights->user ? PTE_US : 0));
	const uint64_t or_bits = fold_or(pae_pdpte, entry->value, rights->nx ? PTE_XD : 0);
	rights_of(ctx, and_bits, or_bits, entry->maps_page, entry->raw, rights);
}

/* ---- the level loop ------------------------------------------------------------------- */

bool pt_va_canonical(const struct pt_context *ctx, uint64_t va)
{
	if (!ctx->desc)
		return true;
	const unsigned width = ctx->desc->va_bits;
	if (width == 32)
		return va <= UINT32_MAX;
	/* 3.3.7.1: bits 63:width-1 all equal. */
	const int64_t shifted = (int64_t)(va << (64 - width)) >> (64 - width);
	return (uint64_t)shifted == va;
}

uint64_t pt_va_canonicalize(const struct pt_context *ctx, uint64_t va)
{
	if (!ctx->desc || ctx->desc->va_bits == 32)
		return va;
	const unsigned width = ctx->desc->va_bits;
	return (uint64_t)((int64_t)(va << (64 - width)) >> (64 - width));
}

static void set_fault(struct pt_result *r, uint8_t vector, uint32_t code, uint8_t level,
		      uint64_t entry_pa, uint64_t entry)
{
	r->fault.vector = vector;
	r->fault.error_code = code;
	r->fault.level = level;
	r->fault.entry_pa = entry_pa;
	r->fault.entry = entry;
}

/** The access-dependent error-code bits (4.7): W/R, U/S, I/D. */
static uint32_t access_error_bits(const struct pt_context *ctx, const struct pt_access *access)
{
	uint32_t code = 0;
	if (access->kind == PT_ACCESS_WRITE)
		code |= PF_ERR_W;
	if (access->cpl == 3 && !access->implicit)
		code |= PF_ERR_U;
	if (access->kind == PT_ACCESS_FETCH && (ctx->flags & PT_CTX_ID_BIT))
		code |= PF_ERR_ID;
	return code;
}

#if defined(PTLAB_PLANTED_BUG)
/* Test-only builds (tests/CMakeLists.txt: ptwalk_planted) compile a walker with one known bug, so
 * the differential tests can prove they catch a real walker mistake. Never set in a product build.
 *   1: U/S ignored for user-mode accesses (LibVMI's "only the present bit honoured");
 *   2: XD ignored (the same, for NX). */
static struct pt_rights planted_rights(const struct pt_rights *rights, bool user_access)
{
	struct pt_rights r = *rights;
	if (PTLAB_PLANTED_BUG == 1 && user_access)
		r.user = true;
	if (PTLAB_PLANTED_BUG == 2)
		r.nx = false;
	return r;
}
#endif

/* The access check proper (4.6) for every access but the one access_allowed_inline answers (a
 * supervisor read of a supervisor-mode address, always allowed). */
static uint32_t access_check_rest(const struct pt_context *ctx, const struct pt_rights *rights,
				  const struct pt_access *access)
{
	if (!ctx->desc)
		return 0;
#if defined(PTLAB_PLANTED_BUG)
	const struct pt_rights planted = planted_rights(rights, access->cpl == 3 && !access->implicit);
	rights = &planted;
#endif
	const uint32_t flags = ctx->flags;
	const bool user_access = access->cpl == 3 && !access->implicit;
	const bool write = access->kind == PT_ACCESS_WRITE;
	const bool fetch = access->kind == PT_ACCESS_FETCH;
	bool denied = false;

	if (user_access) {
		/* 4.6.1, user-mode access: only user-mode addresses; writes need R/W = 1 at every
		 * level whatever CR0.WP; fetches need XD = 0 (when NXE). */
		if (!rights->user || (write && !rights->writable) || (fetch && rights->nx))
			denied = true;
	} else {
		/* Supervisor-mode access. To a user-mode address: fetches are blocked by SMEP;
		 * data accesses by SMAP when the access is implicit or RFLAGS.AC = 0. */
		if (rights->user) {
			if (fetch && (flags & PT_CTX_SMEP))
				denied = true;
			if (!fetch && (flags & PT_CTX_SMAP) &&
			    (access->implicit || !(flags & PT_CTX_AC)))
				denied = true;
		}
		if (write && !rights->writable && (flags & PT_CTX_WP))
			denied = true;
		if (fetch && rights->nx)
			denied = true;
	}

	/* 4.6.2: protection keys restrict data accesses to user-mode addresses: AD denies every
	 * data access; WD denies user-mode writes and supervisor writes when CR0.WP = 1. */
	bool pk_denied = false;
	if ((flags & PT_CTX_PKE) && rights->user && !fetch) {
		const unsigned ad = (ctx->pkru >> (2 * rights->pkey)) & 1;
		const unsigned wd = (ctx->pkru >> (2 * rights->pkey + 1)) & 1;
		if (ad || (write && wd && (user_access || (flags & PT_CTX_WP))))
			pk_denied = true;
	}
	if (!denied && !pk_denied)
		return 0;
	uint32_t code = PF_ERR_P | access_error_bits(ctx, access);
	if (pk_denied)
		code |= PF_ERR_PK;
	return code;
}

/* The access allowed inline in translation: a supervisor read of a supervisor-mode address (the
 * reads of a kernel's own memory, the case a forensic walker sees most) is always allowed, as
 * access_check_rest shows: of its rules only SMAP and protection keys restrict supervisor reads,
 * and both only of user-mode addresses. */
WALK_INLINE bool access_allowed_inline(const struct pt_rights *rights, const struct pt_access *access)
{
	return WALK_LIKELY(access->kind == PT_ACCESS_READ && !rights->user &&
			   (access->cpl != 3 || access->implicit));
}

uint32_t pt_access_check(const struct pt_context *ctx, const struct pt_rights *rights,
			 const struct pt_access *access)
{
	if (access_allowed_inline(rights, access))
		return 0;
	return access_check_rest(ctx, rights, access);
}

enum pt_status pt_result_check_access(const struct pt_context *ctx, const struct pt_access *access,
				      struct pt_result *r)
{
	const uint32_t code = pt_access_check(ctx, &r->rights, access);
	if (!code)
		return PT_OK;
	const unsigned last = r->nentries - 1u;
	set_fault(r, PT_VEC_PF, code, r->level, r->entry[last].pa, r->entry[last].value);
	return PT_FAULT;
}


/* ---- the level loop ------------------------------------------------------------------- */

/* One instantiation of the level loop: pt_translate and pt_walk (`access` NULL) call these. */
typedef enum pt_status (*walk_fn)(const struct pt_context *ctx, const struct pt_chunk_mem *cm,
				  uint64_t va, const struct pt_access *access, struct pt_result *r);

/* What the level loop needs of a mode, as constants where the instantiation knows them. */
struct walk_shape {
	unsigned levels;  /**< 4 or 5 for the 64-bit instantiations; 0: read ctx->desc */
	/** The common case only: every entry in the reader's run, which starts at PA 0 (the caller
	 *  checks run_pa == 0: RAM from 0 is a dump's largest range on most machines), each a table
	 *  or a page without a reserved bit, the page in the run too, the access one pt_access_check
	 *  allows inline; at anything else the walk starts again in `full` (no call stays on the
	 *  way, so the loop keeps its values in the registers a call would clobber). NULL: the whole
	 *  rule set, every reader. */
	walk_fn full;
};

/* The walk stopped before a mapping (a fault, a table not in the dump, an address too wide): the
 * mapping fields are cleared, `n` entries were read, `table_pa` is the table not in the dump or
 * 0. Out of line: the loop's registers stay its own. */
WALK_COLD void stop_walk(struct pt_result *r, unsigned n, uint64_t table_pa)
{
	r->pa = 0;
	r->page_size = 0;
	r->level = 0;
	r->rights = (struct pt_rights){ 0 };
	r->pa_in_dump = false;
	r->nentries = (uint8_t)n;
	r->fault = (struct pt_fault){ 0 };
	r->table_pa = table_pa;
}

/* walk_level's answers besides a pt_status: go on to the next level; or (shape.full only) start
 * again in the full walk. */
enum { WALK_NEXT = -1, WALK_AGAIN = -2 };

/* What the walk carries from one level to the next (in registers, once inlined). */
struct walk_state {
	uint64_t table;              /**< the table the next level reads */
	unsigned n;                  /**< entries recorded */
};

/* One level of the walk: read the entry of `va` in w->table, record it, and either step to the
 * next table (WALK_NEXT) or end the walk (a pt_status, or WALK_AGAIN). Fault order (house
 * style 3): not present, then reserved bit. On PT_OK every field of `r` but va and the unused
 * tail of entry[] is set; on any other status stop_walk has set them.
 * The SME C-bit is in none of the masks an entry is tested or folded with here (fold_state takes
 * it out of each; rights use bits 1, 2 and 63, where no C-bit is), so an entry is tested as read;
 * a leaf's protection key and a faulting entry are decoded without it. */
WALK_INLINE int walk_level(const struct pt_context *ctx, const struct pt_chunk_mem *cm, uint64_t va,
			   struct pt_result *restrict r, struct walk_shape shape, unsigned level,
			   struct walk_state *w)
{
	if (shape.full)
		WALK_REREAD();
	const struct pt_mode_desc *desc = ctx->desc;
	const unsigned esize = shape.levels ? 8 : desc->entry_size;
	const bool pae_pdpte = !shape.levels && ctx->mode == PT_MODE_PAE && level == 3;
	const bool legacy = !shape.levels && ctx->mode == PT_MODE_LEGACY;
	const unsigned shift = shape.levels ? 12 + 9 * (level - 1) : desc->level[level].va_shift;
	const uint64_t index = shape.levels ? (va >> shift) & 511 : level_index(&desc->level[level], va);
	const uint64_t entry_pa = w->table + index * esize;
	uint64_t raw;

	if (pae_pdpte) {
		raw = ctx->pdpte[index]; /* loaded at CR3 load (4.4.1), not re-read */
	} else if (shape.full) {
		if (entry_pa >= cm->run_size) /* the run starts at PA 0 */
			return WALK_AGAIN;
		raw = pt_le64(cm->run + entry_pa);
	} else if (!view_entry_read(cm, &cm->mem, entry_pa, esize, &raw)) {
		stop_walk(r, w->n, w->table);
		return PT_NOT_IN_DUMP;
	}
	const unsigned n = w->n + 1; /* entries read, this one included */
	r->entry[w->n].level = (uint8_t)level;
	r->entry[w->n].pa = entry_pa;
	r->entry[w->n].value = raw;
	w->n = n;
	if (WALK_LIKELY(level > 1 && !pae_pdpte && (raw & ctx->table_step[level]) == PTE_P)) {
		/* the common step, as decode_present decides it: present, PS clear (or ignored), no
		 * reserved bit: a table at raw & addr_mask */
		w->table = raw & ctx->addr_mask;
		return WALK_NEXT;
	}
	struct pt_entry_info e;
	if (shape.levels && level <= 3 &&
	    WALK_LIKELY((raw & ctx->leaf_step[level]) == (level == 1 ? PTE_P : PTE_P | PTE_PS))) {
		/* the common leaf, as decode_present decides it: a PTE, or a PDE or PDPTE with PS = 1,
		 * present, no reserved bit: a page at raw & page_frame */
		e.maps_page = true;
		e.frame = raw & ctx->page_frame[level];
	} else if (shape.full) {
		return WALK_AGAIN;
	} else {
		e.value = raw & ~ctx->cbit_mask;
		if (!(e.value & PTE_P)) {
			stop_walk(r, n, 0);
			set_fault(r, PT_VEC_PF, 0, (uint8_t)level, entry_pa, raw);
			return PT_FAULT;
		}
		decode_present(ctx, level, e.value, legacy, &e);
		if (e.rsvd_bits) {
			stop_walk(r, n, 0);
			set_fault(r, PT_VEC_PF, PF_ERR_P | PF_ERR_RSVD, (uint8_t)level, entry_pa, raw);
			return PT_FAULT;
		}
	}
	if (!e.maps_page) {
		w->table = e.frame;
		return WALK_NEXT;
	}
	const uint64_t page_size = PT_BIT(shift);
	const uint64_t pa = e.frame | (va & (page_size - 1));
	bool in_dump = true;
	if (shape.full) {
		if (pa >= cm->run_size)
			return WALK_AGAIN; /* the reader has the answer */
	} else {
		in_dump = view_has_byte(cm, &cm->mem, pa);
	}
	r->pa = pa;
	r->page_size = page_size;
	r->level = (uint8_t)level;
	r->pa_in_dump = in_dump;
	r->nentries = (uint8_t)n;
	/* The rights (4.6.1): the leaf as read, folded with every entry above it as recorded, the
	 * ANDs first, then the ORs. In PAE paging entry[0] is the PDPTE, which takes no part. */
	const bool pae = !shape.levels && ctx->mode == PT_MODE_PAE;
	uint64_t and_bits = raw, or_bits = raw;
	if (shape.full)
		WALK_REREAD();
	for (unsigned k = 0; k + 1 < n; k++)
		and_bits = fold_and(pae && k == 0, r->entry[k].value, and_bits);
	if (shape.full)
		WALK_REREAD();
	for (unsigned k = 0; k + 1 < n; k++)
		or_bits = fold_or(pae && k == 0, r->entry[k].value, or_bits);
	r->rights.pkey = 0;
	rights_of(ctx, and_bits, or_bits, true, raw, &r->rights);
	r->fault = (struct pt_fault){ 0 };
	r->table_pa = 0;
	return PT_OK;
}

/* The level loop: walk_level from the top level down, with the shape's levels as constants (each
 * level its own inlined copy) or the mode's descriptor. Non-canonical is #GP before the walk.
 * Returns a pt_status, or WALK_AGAIN (shape.full only). */
WALK_INLINE int walk_levels(const struct pt_context *ctx, const struct pt_chunk_mem *cm, uint64_t va,
			    struct pt_result *restrict r, struct walk_shape shape)
{
	const struct pt_mode_desc *desc = ctx->desc;
	struct walk_state w = { .table = ctx->root, .n = 0 };
	int st = WALK_NEXT;

	if (shape.levels) {
		/* 3.3.7.1: bits 63:width-1 all equal */
		const unsigned width = shape.levels == 5 ? 57 : 48;
		if ((uint64_t)((int64_t)(va << (64 - width)) >> (64 - width)) != va) {
			if (shape.full)
				return WALK_AGAIN;
			stop_walk(r, 0, 0);
			set_fault(r, PT_VEC_GP, 0, 0, 0, 0); /* 6.15 #GP: non-canonical, before any walk */
			return PT_FAULT;
		}
		if (shape.levels == 5)
			st = walk_level(ctx, cm, va, r, shape, 5, &w);
		if (st == WALK_NEXT)
			st = walk_level(ctx, cm, va, r, shape, 4, &w);
		if (st == WALK_NEXT)
			st = walk_level(ctx, cm, va, r, shape, 3, &w);
		if (st == WALK_NEXT)
			st = walk_level(ctx, cm, va, r, shape, 2, &w);
		if (st == WALK_NEXT)
			st = walk_level(ctx, cm, va, r, shape, 1, &w);
	} else {
		if (desc->va_bits == 32 && va > UINT32_MAX) {
			stop_walk(r, 0, 0);
			return PT_EINVAL;
		}
		for (unsigned level = desc->levels; level >= 1 && st == WALK_NEXT; level--)
			st = walk_level(ctx, cm, va, r, shape, level, &w);
	}
	if (st == WALK_NEXT) { /* unreachable: level 1 always maps a page */
		stop_walk(r, w.n, 0);
		st = PT_EINVAL;
	}
	return st;
}

/* Walk, then (with `access`) apply the access check: pt_translate's rule. */
WALK_INLINE enum pt_status translate_shape(const struct pt_context *ctx, const struct pt_chunk_mem *cm,
					   uint64_t va, const struct pt_access *access,
					   struct pt_result *restrict r, struct walk_shape shape)
{
	r->va = va;
	const int st = walk_levels(ctx, cm, va, r, shape);
	if (shape.full && st == WALK_AGAIN)
		return shape.full(ctx, cm, va, access, r);
	if (st != PT_OK) {
		if (access && st == PT_FAULT && r->fault.vector == PT_VEC_PF)
			r->fault.error_code |= access_error_bits(ctx, access);
		return (enum pt_status)st;
	}
	if (!access || access_allowed_inline(&r->rights, access))
		return PT_OK;
	return pt_result_check_access(ctx, access, r); /* sets the fault at the leaf */
}

/* The instantiations: 4-level, 5-level, and the descriptor-driven loop for 32-bit and PAE; the
 * 4- and 5-level walks have a common-case instantiation in front (shape.full). */
#define WALK_INSTANTIATE(name, nlevels, full_walk)                                                  \
	WALK_INSTANCE enum pt_status name(const struct pt_context *ctx, const struct pt_chunk_mem *cm, \
					  uint64_t va, const struct pt_access *access,                 \
					  struct pt_result *r)                                          \
	{                                                                                             \
		const struct walk_shape shape = { .levels = nlevels, .full = full_walk };            \
		return translate_shape(ctx, cm, va, access, r, shape);                                \
	}
WALK_INSTANTIATE(translate_ia32e, 4, NULL)
WALK_INSTANTIATE(translate_la57, 5, NULL)
WALK_INSTANTIATE(translate_desc, 0, NULL)
WALK_INSTANTIATE(common_ia32e, 4, translate_ia32e)
WALK_INSTANTIATE(common_la57, 5, translate_la57)

/* Paging off: linear = physical, no rights apply. */
static enum pt_status translate_off(const struct pt_mem *mem, uint64_t va, struct pt_result *r)
{
	*r = (struct pt_result){ .va = va, .pa = va, .page_size = PT_PAGE_4K };
	r->rights.writable = r->rights.user = true;
	r->pa_in_dump = mem && mem_at(mem, va, 1) != NULL;
	return PT_OK;
}

/* `access` NULL: pt_walk. `cm` reads the memory (chunk_view). The 4- and 5-level walks start in
 * their common-case instantiation when the reader's run starts at PA 0. */
static enum pt_status translate_detailed(const struct pt_context *ctx, const struct pt_chunk_mem *cm,
					 uint64_t va, const struct pt_access *access, struct pt_result *r)
{
	const bool run_at_0 = cm->run_pa == 0;
	switch (ctx->mode) {
	case PT_MODE_IA32E:
		return (run_at_0 ? common_ia32e : translate_ia32e)(ctx, cm, va, access, r);
	case PT_MODE_LA57:
		return (run_at_0 ? common_la57 : translate_la57)(ctx, cm, va, access, r);
	case PT_MODE_LEGACY:
	case PT_MODE_PAE:
		return translate_desc(ctx, cm, va, access, r);
	case PT_MODE_OFF:
		break;
	}
	return translate_off(&cm->mem, va, r);
}

/* Any other reader than a pt_chunk_mem: read through a chunk view of it (out of line, so that
 * the entry points stay a compare and a jump). */
WALK_INSTANCE enum pt_status translate_other(const struct pt_context *ctx, const struct pt_mem *mem,
					     uint64_t va, const struct pt_access *access,
					     struct pt_result *r)
{
	if (!mem) {
		if (ctx->mode == PT_MODE_OFF)
			return translate_off(NULL, va, r);
		r->va = va;
		stop_walk(r, 0, 0);
		return PT_EINVAL; /* no memory to read the tables from */
	}
	struct pt_chunk_mem spare;
	return translate_detailed(ctx, chunk_view(mem, &spare), va, access, r);
}

/* pt_translate's body, inlined into it, pt_walk and pt_translate_lean */
WALK_INLINE enum pt_status translate_entry(const struct pt_context *ctx, const struct pt_mem *mem,
					   uint64_t va, const struct pt_access *access,
					   struct pt_result *r)
{
	/* the hot case first, inlined here: 4-level paging over a mapped dump, its run at PA 0 */
	const struct pt_chunk_mem *cm = (const struct pt_chunk_mem *)mem;
	if (WALK_LIKELY(ctx->mode == PT_MODE_IA32E && mem && mem->ptr == pt_chunk_mem_ptr &&
			cm->run_pa == 0)) {
		const struct walk_shape shape = { .levels = 4, .full = translate_ia32e };
		return translate_shape(ctx, cm, va, access, r, shape);
	}
	if (mem && mem->ptr == pt_chunk_mem_ptr)
		return translate_detailed(ctx, cm, va, access, r);
	return translate_other(ctx, mem, va, access, r);
}

enum pt_status pt_translate(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
			    const struct pt_access *access, struct pt_result *r)
{
	return translate_entry(ctx, mem, va, access, r);
}

enum pt_status pt_walk(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
		       struct pt_result *r)
{
	return translate_entry(ctx, mem, va, NULL, r); /* no access: no access check */
}

enum pt_status pt_translate_lean(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
				 const struct pt_access *access, struct pt_result *r)
{
	/* The walk records every entry as it reads it (the rights are folded from the record at the
	 * leaf), so no walk is cheaper without it: the lean result is pt_translate's with the count
	 * of entries cleared on PT_OK. */
	const enum pt_status st = translate_entry(ctx, mem, va, access, r);
	if (st == PT_OK)
		r->nentries = 0;
	return st;
}
