/* SPDX-License-Identifier: MIT */
/*
 * The translation core: one level loop for every x86 paging mode, written from the Intel SDM,
 * Vol. 3A, chapter 4 ("Paging"). Section and table numbers below are those of that chapter
 * (Tables 4-4..4-20 give the entry formats of 32-bit, PAE, 4-level and 5-level paging).
 */
#include <string.h>

#include "ptlab/walk.h"
#include "ptlab/le.h"

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

static const void *flat_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	const struct pt_flat_mem *flat = (const struct pt_flat_mem *)mem;
	if (pa >= flat->size || len > flat->size - pa)
		return NULL;
	return flat->base + pa;
}

void pt_flat_mem_init(struct pt_flat_mem *flat, const void *base, uint64_t size)
{
	flat->mem.ptr = flat_ptr;
	flat->mem.opaque = flat;
	flat->base = base;
	flat->size = size;
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

enum pt_status pt_context_init(struct pt_context *ctx, const struct pt_cpu_state *cpu,
			       const struct pt_mem *mem, struct pt_fault *fault_ret,
			       uint64_t *table_pa_ret)
{
	memset(ctx, 0, sizeof(*ctx));
	if (cpu->maxphyaddr < 32 || cpu->maxphyaddr > 52)
		return PT_EINVAL;
	/* The SME C-bit (CPUID 0x8000001F EBX[5:0]) sits above every physical address the CPU forms:
	 * never below bit 32 (it would be an address bit of a 32-bit CR3 or a 32-bit PDPT pointer;
	 * real parts report 47 or 51). A lower position is not a CPU state. */
	if (cpu->cbit != 0 && (cpu->cbit < 32 || cpu->cbit > 62))
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

	const uint64_t cr3 = cpu->cr3 & ~ctx->cbit_mask;
	switch (ctx->mode) {
	case PT_MODE_LEGACY:
		/* Table 4-3: CR3 bits 31:12 locate the page directory. */
		ctx->addr_mask = bits(31, 12);
		ctx->root = cr3 & bits(31, 12);
		break;
	case PT_MODE_PAE:
		/* Table 4-7 / 4.4.1: CR3 bits 31:5 locate the 32-byte PDPT. */
		ctx->addr_mask = bits(cpu->maxphyaddr - 1, 12);
		ctx->root = cr3 & bits(31, 5);
		break;
	case PT_MODE_IA32E:
	case PT_MODE_LA57: {
		/* Table 4-12/4-13: bits M-1:12 locate the top table; bits 11:0 are PWT/PCD or, with
		 * CR4.PCIDE, the PCID (4.10.1); bit 63 of a MOV to CR3 is the no-flush hint with
		 * PCIDE and bits 62:61 are LAM controls: none of them is an address bit. */
		uint64_t addr = cr3 & ~(bits(11, 0) | bits(63, 61));
		if (addr & ~bits(cpu->maxphyaddr - 1, 12))
			return PT_EINVAL; /* MOV to CR3 would #GP: not a CPU state */
		ctx->addr_mask = bits(cpu->maxphyaddr - 1, 12);
		ctx->root = addr;
		break;
	}
	case PT_MODE_OFF:
		break;
	}
	ctx->addr_mask &= ~ctx->cbit_mask;
	build_reserved_masks(ctx);

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

/* The decoder proper, inlined into the level loop; every field is assigned. */
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

	bool maps_page = level == 1;
	if (desc->level[level].may_map_page && (value & PTE_PS)) {
		/* 4.3: in 32-bit paging PS is honoured only with CR4.PSE = 1, else ignored. */
		maps_page = ctx->mode != PT_MODE_LEGACY || (ctx->flags & PT_CTX_PSE);
	}
	info->maps_page = maps_page;
	info->rsvd_bits = value & ctx->rsvd[level][maps_page];

	if (!maps_page || level == 1) {
		info->frame = value & ctx->addr_mask;
	} else if (ctx->mode == PT_MODE_LEGACY) {
		/* Table 4-5: PA bits 31:22 from entry bits 31:22, PA bits (M'-1):32 from 20:13. */
		unsigned mp = ctx->maxphyaddr < 40 ? ctx->maxphyaddr : 40;
		uint64_t high = (value >> 13) & (PT_BIT(mp - 32) - 1);
		info->frame = (value & bits(31, 22)) | (high << 32);
	} else {
		/* A large page's frame is aligned to its size; bit 12 is PAT (PTE_BIT_PAT_LARGE). */
		info->frame = value & ctx->addr_mask & ~(PT_BIT(desc->level[level].va_shift) - 1);
	}
}

void pt_entry_decode(const struct pt_context *ctx, unsigned level, uint64_t raw,
		     struct pt_entry_info *info_ret)
{
	decode_entry(ctx, level, raw, info_ret);
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

enum pt_status pt_walk(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
		       struct pt_result *r)
{
	const struct pt_mode_desc *desc = ctx->desc;
	/* Every field but the unused tail of entry[] is set (zeroing all of it cost more than
	 * the walk itself). */
	r->va = va;
	r->pa = 0;
	r->page_size = 0;
	r->level = 0;
	r->rights = (struct pt_rights){ 0 };
	r->pa_in_dump = false;
	r->nentries = 0;
	r->fault = (struct pt_fault){ 0 };
	r->table_pa = 0;

	if (!desc) {
		/* Paging off: linear = physical, no rights apply. */
		r->pa = va;
		r->page_size = 4096;
		r->rights.writable = r->rights.user = true;
		r->pa_in_dump = mem && mem->ptr(mem, va, 1) != NULL;
		return PT_OK;
	}
	if (desc->va_bits == 32 && va > UINT32_MAX)
		return PT_EINVAL;
	if (!pt_va_canonical(ctx, va)) {
		set_fault(r, PT_VEC_GP, 0, 0, 0, 0); /* 6.15 #GP: non-canonical, before any walk */
		return PT_FAULT;
	}

	/* Rights combine over every level (4.6.1): R/W and U/S by AND, XD by OR. Kept in locals
	 * (as is the entry count) so the reader's indirect call does not force reloads. */
	uint64_t and_bits = ~UINT64_C(0), or_bits = 0;
	const unsigned esize = desc->entry_size;
	const bool pae = ctx->mode == PT_MODE_PAE;
	uint64_t table = ctx->root;
	unsigned n = 0;

	for (unsigned level = desc->levels; level >= 1; level--) {
		const struct pt_level_desc *ld = &desc->level[level];
		const uint64_t index = (va >> ld->va_shift) & (PT_BIT(ld->index_bits) - 1);
		const uint64_t entry_pa = table + index * esize;
		const bool pae_pdpte = pae && level == 3;
		uint64_t raw;

		if (pae_pdpte) {
			raw = ctx->pdpte[index]; /* loaded at CR3 load (4.4.1), not re-read */
		} else {
			const void *p = mem->ptr(mem, entry_pa, esize);
			if (!p) {
				r->nentries = (uint8_t)n;
				r->table_pa = table;
				return PT_NOT_IN_DUMP;
			}
			raw = entry_load(p, esize);
		}
		r->entry[n].level = (uint8_t)level;
		r->entry[n].pa = entry_pa;
		r->entry[n].value = raw;
		n++;

		struct pt_entry_info e;
		decode_entry(ctx, level, raw, &e);
		if (!e.present || e.rsvd_bits) {
			r->nentries = (uint8_t)n;
			set_fault(r, PT_VEC_PF, e.present ? PF_ERR_P | PF_ERR_RSVD : 0, (uint8_t)level,
				  entry_pa, raw);
			return PT_FAULT;
		}
		if (!pae_pdpte) { /* PAE PDPTEs carry no R/W, U/S or XD (Table 4-8) */
			and_bits &= e.value;
			or_bits |= e.value;
		}
		if (e.maps_page) {
			const uint64_t page_size = PT_BIT(ld->va_shift);
			r->nentries = (uint8_t)n;
			r->rights.writable = (and_bits & PTE_RW) != 0;
			r->rights.user = (and_bits & PTE_US) != 0;
			r->rights.nx = (ctx->flags & PT_CTX_NXE) && (or_bits & PTE_XD);
			if (ctx->flags & PT_CTX_PKE)
				r->rights.pkey = (uint8_t)((e.value & PTE_PKEY) >> PTE_BIT_PKEY);
			r->page_size = page_size;
			r->level = (uint8_t)level;
			r->pa = e.frame | (va & (page_size - 1));
			r->pa_in_dump = mem->ptr(mem, r->pa, 1) != NULL;
			return PT_OK;
		}
		table = e.frame;
	}
	r->nentries = (uint8_t)n;
	return PT_EINVAL; /* unreachable: level 1 always maps a page */
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

uint32_t pt_access_check(const struct pt_context *ctx, const struct pt_rights *rights,
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

enum pt_status pt_translate(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
			    const struct pt_access *access, struct pt_result *r)
{
	enum pt_status st = pt_walk(ctx, mem, va, r);
	if (st == PT_FAULT && r->fault.vector == PT_VEC_PF)
		r->fault.error_code |= access_error_bits(ctx, access);
	if (st != PT_OK)
		return st;
	return pt_result_check_access(ctx, access, r);
}
