/* SPDX-License-Identifier: MIT */
/*
 * emu/oracle.c: the MMU oracle. Unicorn 2.0.1's own page walk answers "what does this access
 * to VA x do" for a physical-memory dump and a CPU state, so the walker can be checked
 * against an independent implementation (design.md, house style 10).
 *
 * How (measured facts: ../shared/notes/unicorn-2.0.1.md):
 *  - The dump is mapped with uc_mmio_map over all of the uc address space except two small
 *    "harness windows". Every page-walk load then reaches mmio_read() with its physical
 *    address, which serves it from the dump (0 where the dump has nothing) and records it.
 *    Writes (A/D bits, the probe's store) are absorbed: the dump is never modified.
 *  - The harness (GDT, iret frames, the probe code and its own page tables) lives in one host
 *    buffer mapped as RAM at its physical address and aliased at the two windows (Unicorn
 *    fetches code from the uc address equal to the VA). Its page-table chain is plugged into
 *    the probed address space through the dump's top-level table: while the harness runs,
 *    mmio_read() presents the top-level entry of the window's slot as the plug; during the
 *    probe itself it presents the dump's own entry. The window used is the one whose
 *    top-level slot differs from the probed VA's, so the probed walk never needs the plug.
 *  - One engine per paging mode (UC_MODE_32 for 32-bit and PAE paging, UC_MODE_64 for 4- and
 *    5-level), made on first use. Per paging configuration (CR0.WP, CR4.PSE/SMEP/SMAP/PKE,
 *    PKRU, EFER.NXE) a clean context is made once: guest MOVs to CR0/CR4 and WRPKRU (so
 *    Unicorn's hflags follow), then EFER.NXE patched into the blob.
 *  - A probe restores that context (Unicorn never clears its exception state), loads CR3 with
 *    a guest MOV (the TLB is flushed: nothing stale leaks), optionally LLDT and an IRET to
 *    CPL 1..3, then performs one access: MOV AL,[RDI] / MOV [RDI],AL / JMP RDI (stopped at
 *    the target, never executed) / LAR (an implicit supervisor read of the LDT at VA). The
 *    code hook switches mmio_read() from "harness" to "probe" at the probe instruction and
 *    stops the run after it; the interrupt hook takes the vector, CR2 and the error code
 *    (from the context blob) and stops the run.
 *  - The answer is the chain of entries the MMU read, followed from the top-level entry of
 *    the VA by address; the level reached and the leaf entry give the PA, decoded here from
 *    the SDM entry formats (not by walker code).
 *  - EFER.NXE cannot be set by WRMSR in Unicorn: it is patched into the context blob. The
 *    offsets of EFER and of the #PF/#GP error code in the blob come from ucblob.h (found once
 *    per process by their effects); the EFER one is checked again in each engine.
 *  - MAXPHYADDR is measured per engine at start-up: the lowest frame bit that makes a PTE
 *    reserved (#PF with RSVD).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "ptlab/emu.h"
#include "ptlab/error.h"
#include "ptlab/le.h"
#include "ucblob.h"

/* ---- constants ---------------------------------------------------------------------- */

#define PAGE 4096u
#define HARNESS_PAGES 16u
#define HARNESS_SIZE (HARNESS_PAGES * PAGE)
#define MAX_READS 64u
#define MAX_VARIANTS 16u

/* Pages of the harness buffer. */
enum hpage {
	HP_ROOT5 = 0,  /**< LA57: setup PML5 */
	HP_ROOT4 = 1,  /**< 64-bit: setup PML4 (and, for LA57, the PML4 the plug points to) */
	HP_PDPT = 2,   /**< 64-bit: PDPT; PAE: setup PDPT (32 bytes) */
	HP_PD = 3,     /**< 64-bit, PAE: PD; legacy: setup page directory */
	HP_PT = 4,     /**< page table mapping the 16 harness pages */
	HP_GDT = 5,
	HP_STACK = 6,  /**< IRET frames */
	HP_SCODE = 8,  /**< supervisor code: setup, calibration, CPL0 probes, CPL1/2 targets */
	HP_UCODE = 9,  /**< user code: CPL3 targets */
	HP_TEST = 10,  /**< target of the MAXPHYADDR measurement */
};

/* GDT selectors: ring n code 0x08 + 0x10 n, data 0x10 + 0x10 n; the LDT descriptor. */
static const uint16_t SEL_LDT = 0x48;
static const unsigned GDT_LIMIT = 0x57;
/** LAR selector: LDT (TI = 1), index 0, RPL 3. */
static const uint32_t SEL_LAR = 0x7;

/* Architectural bits the oracle sets itself (SDM Vol. 3A 2.5). */
#define X_RFLAGS_FIXED (UINT64_C(1) << 1)
#define MSR_EFER 0xc0000080u

/** What mmio_read() presents at the plug address and whether it records. */
enum phase {
	PH_HARNESS = 0, /**< harness code runs: the plug is visible, nothing recorded */
	PH_PROBE = 1,   /**< the probe access: dump values, reads recorded */
	PH_DONE = 2,    /**< after it: the plug again, nothing recorded */
};

/* The probe instructions (enum pt_access_kind + the implicit read). */
enum probe_kind { PK_READ = 0, PK_WRITE = 1, PK_FETCH = 2, PK_IMPLICIT = 3, PK_COUNT = 4 };

/** One page-walk load seen by mmio_read(). */
struct mmio_read_rec {
	uint64_t pa;
	uint64_t value; /**< as stored in the dump (no C-bit stripping) */
	unsigned size;
};

struct engine;

/** One uc_mmio_map piece: its base for the callbacks. */
struct mmio_piece {
	struct engine *engine;
	uint64_t base;
};

/** Addresses of one probe stub. */
struct stub {
	uint64_t entry;  /**< offset in the S page of the CPL0 entry */
	uint64_t insn;   /**< offset (in the S or U page) of the probe instruction */
	uint64_t next;   /**< offset of the instruction after it (nop) */
	bool user_page;  /**< insn/next are in the U page */
};

/** A clean context for one paging configuration (what CR0/CR4/EFER/PKRU the probe needs). */
struct variant {
	uint64_t cr0, cr4;
	uint32_t pkru;
	bool nxe;
	uc_context *ctx;
};

/** An engine for one paging mode. */
struct engine {
	struct pt_oracle *oracle;
	enum pt_mode mode;
	bool x64;             /**< UC_MODE_64 (IA-32e, LA57) */
	uc_engine *uc;
	uint8_t *buf;         /**< the harness buffer (HARNESS_SIZE) */
	uint8_t *pristine;    /**< its content after set-up */
	uint64_t pa_base;     /**< physical (and uc) address of the buffer */
	uint64_t window[2];   /**< VAs (and uc addresses) aliasing the buffer */
	unsigned slot[2];     /**< their top-level slots */
	uint64_t setup_root;  /**< CR3 of the harness-only address space */
	unsigned esize;       /**< entry size */
	unsigned levels;
	unsigned maxphyaddr;  /**< measured */
	uc_context *base[2];  /**< clean context after set-up; [1] is scratch for the EFER check */
	uc_context *scratch;
	struct variant variants[MAX_VARIANTS]; /**< contexts per paging configuration */
	unsigned nvariants;
	unsigned next_evict;
	size_t ctx_size;
	struct mmio_piece pieces[4];
	unsigned npieces;
	struct stub stubs[4][PK_COUNT];   /**< by CPL and probe kind */
	uint64_t config_entry[2], config_end[2]; /**< CR0, CR4 [, WRPKRU] */
	uint64_t test_entry, test_end;    /**< mov cr3, rsi; mov al, [rdi] */
	uint64_t setup_entry, setup_end;

	/* ---- per probe ---- */
	enum phase phase;
	uint64_t win;          /**< window in use */
	uint64_t probe_insn;   /**< uc address of the probe instruction */
	uint64_t probe_next;
	uint64_t plug_pa;      /**< top-level entry presented as the plug */
	uint64_t plug_value;
	bool plug_active;
	uint64_t cbit_mask;
	struct mmio_read_rec reads[MAX_READS];
	unsigned nreads;
	bool reads_overflow;
	bool faulted;
	uint32_t fault_vector;
	uint64_t fault_cr2;
	uint32_t fault_code;
	enum phase fault_phase;
	uint64_t fetch_target; /**< a fetch probe stops when it reaches this address */
	bool reached_target;
};

struct pt_oracle {
	const struct pt_mem *mem;
	uint64_t phys_size;
	unsigned maxphyaddr;
	size_t efer_off;      /**< offset of EFER in a uc_context (ucblob.h) */
	size_t errcode_off;   /**< offset of the exception error code */
	struct engine *engines[5]; /**< by enum pt_mode */
};

/* ---- small helpers ------------------------------------------------------------------ */

static uint64_t mask_bits(unsigned hi, unsigned lo)
{
	uint64_t top = hi >= 63 ? ~UINT64_C(0) : ((UINT64_C(1) << (hi + 1)) - 1);
	return top & ~((UINT64_C(1) << lo) - 1);
}


/* ---- physical memory as the MMU sees it --------------------------------------------- */

/** Bytes [pa, pa+n) of the dump, 0 where it has none. */
static void dump_bytes(const struct pt_mem *mem, uint64_t pa, uint8_t *out, unsigned n)
{
	const uint8_t *p = pa + n >= pa ? mem->ptr(mem, pa, n) : NULL;

	if (p != NULL) {
		memcpy(out, p, n);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		p = mem->ptr(mem, pa + i, 1);
		out[i] = p ? *p : 0;
	}
}

static uint64_t mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
	const struct mmio_piece *piece = user;
	struct engine *e = piece->engine;
	const uint64_t pa = piece->base + offset;
	uint8_t bytes[16] = { 0 };
	uint64_t value, presented;
	(void)uc;

	if (size == 0 || size > 8)
		return 0;
	dump_bytes(e->oracle->mem, pa, bytes, size);
	value = pt_le_get(bytes, size);
	/* SME: the memory controller decodes the C-bit; the dump's entries reach the MMU without
	 * it. Only the dump's bytes: the plug below is the harness's own entry, whose address has
	 * the C-bit's position set when the C-bit is below 40 (the harness sits just under 2^40). */
	if (e->cbit_mask != 0 && size >= 4 && e->esize == 8) {
		uint64_t aligned = pa & ~UINT64_C(7);
		unsigned shift = (unsigned)(pa - aligned) * 8;
		if (pa + size <= aligned + 8)
			pt_le_put(bytes, value & ~(e->cbit_mask >> shift), size);
	}
	/* The plug: the harness's top-level entry, visible only outside the probe. */
	if (e->plug_active && e->phase != PH_PROBE && pa < e->plug_pa + e->esize &&
	    e->plug_pa < pa + size) {
		uint8_t plug[8];
		pt_le_put(plug, e->plug_value, e->esize);
		for (unsigned i = 0; i < size; i++) {
			uint64_t a = pa + i;
			if (a >= e->plug_pa && a < e->plug_pa + e->esize)
				bytes[i] = plug[a - e->plug_pa];
		}
	}
	presented = pt_le_get(bytes, size);
	if (e->phase == PH_PROBE && size >= 4) {
		if (e->nreads < MAX_READS) {
			e->reads[e->nreads].pa = pa;
			e->reads[e->nreads].size = size;
			e->reads[e->nreads].value = value;
			e->nreads++;
		} else {
			e->reads_overflow = true;
		}
	}
	return presented;
}

static void mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
	/* A/D-bit updates and the probe's own store: absorbed, the dump stays as it is. */
	(void)uc;
	(void)offset;
	(void)size;
	(void)value;
	(void)user;
}

/* ---- hooks ------------------------------------------------------------------------- */

static void hook_code(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct engine *e = user;
	(void)uc;
	(void)size;

	if (address == e->probe_insn && e->phase == PH_HARNESS) {
		e->phase = PH_PROBE;
	} else if (address == e->fetch_target && e->phase == PH_PROBE) {
		e->reached_target = true; /* the fetch was allowed: never execute the target */
		uc_emu_stop(uc);
	} else if (address == e->probe_next && e->phase == PH_PROBE) {
		e->phase = PH_DONE; /* the access is done: stop before anything else runs */
		uc_emu_stop(uc);
	}
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct engine *e = user;

	if (!e->faulted) {
		e->faulted = true;
		e->fault_vector = intno;
		e->fault_phase = e->phase;
		e->fault_cr2 = 0;
		uc_reg_read(uc, UC_X86_REG_CR2, &e->fault_cr2);
		e->fault_code = 0;
		if (e->oracle->errcode_off != 0 && uc_context_save(uc, e->scratch) == UC_ERR_OK) {
			uint32_t code;
			memcpy(&code, (const uint8_t *)e->scratch + e->oracle->errcode_off, 4);
			e->fault_code = code;
		}
	}
	e->phase = PH_DONE;
	uc_emu_stop(uc);
}

/* ---- the harness -------------------------------------------------------------------- */

/** A tiny code emitter. */
struct emit {
	uint8_t *page;
	unsigned off;
};

static void emit_bytes(struct emit *em, const uint8_t *bytes, unsigned n)
{
	memcpy(em->page + em->off, bytes, n);
	em->off += n;
}
#define EMIT(em, ...)                                                  \
	do {                                                           \
		static const uint8_t b_[] = { __VA_ARGS__ };           \
		emit_bytes((em), b_, (unsigned)sizeof(b_));            \
	} while (0)

static void align_emit(struct emit *em)
{
	em->off = (em->off + 15u) & ~15u;
}

/** The probe instruction of `kind`, then a nop. */
static void emit_probe(struct emit *em, enum probe_kind kind, uint64_t *insn, uint64_t *next)
{
	*insn = em->off;
	switch (kind) {
	case PK_READ:
		EMIT(em, 0x8a, 0x07); /* mov al, [rdi] / [edi] */
		break;
	case PK_WRITE:
		EMIT(em, 0x88, 0x07); /* mov [rdi], al */
		break;
	case PK_FETCH:
		EMIT(em, 0xff, 0xe7); /* jmp rdi / edi */
		break;
	case PK_IMPLICIT:
		EMIT(em, 0x0f, 0x02, 0xc1); /* lar eax, ecx: reads the LDT descriptor at VA */
		break;
	case PK_COUNT:
		break;
	}
	*next = em->off;
	EMIT(em, 0x90); /* nop */
}

/** What every probe does first, at CPL 0: CR3 (flushing the TLB), and LLDT for LAR probes. */
static void emit_prologue(struct emit *em, bool x64, bool lldt)
{
	EMIT(em, 0x0f, 0x22, 0xde); /* mov cr3, rsi */
	if (!lldt)
		return;
	if (x64)
		EMIT(em, 0x41, 0x0f, 0x00, 0xd0); /* lldt r8w */
	else
		EMIT(em, 0x0f, 0x00, 0xd3); /* lldt bx */
}

static void build_stubs(struct engine *e)
{
	struct emit s = { e->buf + HP_SCODE * PAGE, 0 };
	struct emit u = { e->buf + HP_UCODE * PAGE, 0 };
	const bool x64 = e->x64;
	struct stub target_s[PK_COUNT], target_u[PK_COUNT];

	memset(s.page, 0xf4, PAGE); /* hlt everywhere else */
	memset(u.page, 0xf4, PAGE);

	/* Set-up: paging on (CR4 was written before the run). */
	e->setup_entry = s.off;
	EMIT(&s, 0x0f, 0x22, 0xde); /* mov cr3, rsi */
	EMIT(&s, 0x0f, 0x22, 0xc0); /* mov cr0, rax */
	EMIT(&s, 0x90);
	e->setup_end = s.off;
	align_emit(&s);

	/* A configuration: CR0, CR4 (guest writes: hflags follow), PKRU. */
	for (unsigned pke = 0; pke < 2; pke++) {
		e->config_entry[pke] = s.off;
		EMIT(&s, 0x0f, 0x22, 0xc0); /* mov cr0, rax */
		EMIT(&s, 0x0f, 0x22, 0xe2); /* mov cr4, rdx */
		if (pke) {
			EMIT(&s, 0x44, 0x89, 0xc8); /* mov eax, r9d */
			EMIT(&s, 0x31, 0xc9);       /* xor ecx, ecx */
			EMIT(&s, 0x31, 0xd2);       /* xor edx, edx */
			EMIT(&s, 0x0f, 0x01, 0xef); /* wrpkru (eax) */
		}
		EMIT(&s, 0x90);
		e->config_end[pke] = s.off;
		align_emit(&s);
	}

	/* MAXPHYADDR measurement: a read through the harness's own tables. */
	e->test_entry = s.off;
	EMIT(&s, 0x0f, 0x22, 0xde); /* mov cr3, rsi */
	EMIT(&s, 0x8a, 0x07);       /* mov al, [rdi] */
	EMIT(&s, 0x90);
	e->test_end = s.off;
	align_emit(&s);

	/* Targets of the IRET for CPL 1, 2 (supervisor page) and 3 (user page). */
	for (unsigned k = 0; k < PK_COUNT; k++) {
		emit_probe(&s, (enum probe_kind)k, &target_s[k].insn, &target_s[k].next);
		align_emit(&s);
		emit_probe(&u, (enum probe_kind)k, &target_u[k].insn, &target_u[k].next);
		align_emit(&u);
	}

	for (unsigned k = 0; k < PK_COUNT; k++) {
		const bool lldt = k == PK_IMPLICIT;
		/* CPL 0: prologue then the probe. */
		struct stub *st = &e->stubs[0][k];
		st->entry = s.off;
		emit_prologue(&s, x64, lldt);
		emit_probe(&s, (enum probe_kind)k, &st->insn, &st->next);
		st->user_page = false;
		align_emit(&s);
		/* CPL 1..3: prologue then IRET to the target. */
		uint64_t iret_entry = s.off;
		emit_prologue(&s, x64, lldt);
		if (x64)
			EMIT(&s, 0x48, 0xcf); /* iretq */
		else
			EMIT(&s, 0xcf); /* iretd */
		align_emit(&s);
		for (unsigned cpl = 1; cpl < 4; cpl++) {
			const struct stub *t = cpl == 3 ? &target_u[k] : &target_s[k];
			st = &e->stubs[cpl][k];
			st->entry = iret_entry;
			st->insn = t->insn;
			st->next = t->next;
			st->user_page = cpl == 3;
		}
	}
}

static uint64_t seg_desc(unsigned dpl, bool code, bool x64)
{
	/* Flat 4 GiB, present, S = 1; code: execute/read (L = 1 in 64-bit, D = 1 in 32-bit),
	 * data: read/write. */
	uint64_t access = 0x80u | (dpl << 5) | 0x10u | (code ? 0x0au : 0x02u);
	uint64_t flags = code && x64 ? 0xau : 0xcu; /* G, and L or D/B */
	return 0xffffu | (access << 40) | (UINT64_C(0xf) << 48) | (flags << 52);
}

static void build_gdt(struct engine *e)
{
	uint8_t *gdt = e->buf + HP_GDT * PAGE;

	memset(gdt, 0, PAGE);
	for (unsigned ring = 0; ring < 4; ring++) {
		pt_le_put(gdt + 0x08 + 0x10 * ring, seg_desc(ring, true, e->x64), 8);
		pt_le_put(gdt + 0x10 + 0x10 * ring, seg_desc(ring, false, e->x64), 8);
	}
}

/** Point the LDT descriptor at `base` (limit 7: one descriptor). */
static void set_ldt_base(struct engine *e, uint64_t base)
{
	uint8_t *d = e->buf + HP_GDT * PAGE + SEL_LDT;
	uint64_t lo = 0x7u | ((base & 0xffffffu) << 16) | (UINT64_C(0x82) << 40) |
		      (((base >> 24) & 0xffu) << 56);
	pt_le_put(d, lo, 8);
	if (e->x64)
		pt_le_put(d + 8, base >> 32, 8);
}

/** The top-level slot of `va` in this engine's mode. */
static unsigned top_slot(const struct engine *e, uint64_t va)
{
	switch (e->mode) {
	case PT_MODE_LEGACY:
		return (unsigned)((va >> 22) & 0x3ff);
	case PT_MODE_PAE:
		return (unsigned)((va >> 30) & 0x3);
	case PT_MODE_IA32E:
		return (unsigned)((va >> 39) & 0x1ff);
	default:
		return (unsigned)((va >> 48) & 0x1ff);
	}
}

/** Index of `va` in a table of `level` (1 = PT) for this engine's mode. */
static unsigned index_at(const struct engine *e, uint64_t va, unsigned level)
{
	if (e->mode == PT_MODE_LEGACY)
		return (unsigned)((va >> (12 + 10 * (level - 1))) & 0x3ff);
	if (e->mode == PT_MODE_PAE && level == 3)
		return (unsigned)((va >> 30) & 0x3);
	return (unsigned)((va >> (12 + 9 * (level - 1))) & 0x1ff);
}

static void put_entry(struct engine *e, unsigned page, unsigned index, uint64_t value)
{
	pt_le_put(e->buf + page * PAGE + index * e->esize, value, e->esize);
}

/**
 * The harness's page tables: the 16 buffer pages at both windows, supervisor except the user
 * code page; a setup root that maps the windows; the plug target.
 */
static void build_tables(struct engine *e)
{
	const uint64_t pa = e->pa_base;
	const uint64_t tbl = PTE_P | PTE_RW | PTE_US | PTE_A;
	const uint64_t w0 = e->window[0];

	for (unsigned i = 0; i < HARNESS_PAGES; i++) {
		uint64_t leaf = (pa + i * PAGE) | PTE_P | PTE_RW | PTE_A | PTE_D;
		if (i == HP_UCODE)
			leaf |= PTE_US;
		/* Both windows have the same index at every level below the top. */
		put_entry(e, HP_PT, index_at(e, w0 + i * PAGE, 1), leaf);
	}
	switch (e->mode) {
	case PT_MODE_LEGACY:
		for (unsigned w = 0; w < 2; w++)
			put_entry(e, HP_PD, e->slot[w], (pa + HP_PT * PAGE) | tbl);
		e->setup_root = pa + HP_PD * PAGE;
		break;
	case PT_MODE_PAE:
		put_entry(e, HP_PD, index_at(e, w0, 2), (pa + HP_PT * PAGE) | tbl);
		for (unsigned w = 0; w < 2; w++)
			put_entry(e, HP_PDPT, e->slot[w], (pa + HP_PD * PAGE) | PTE_P);
		e->setup_root = pa + HP_PDPT * PAGE;
		break;
	case PT_MODE_IA32E:
	case PT_MODE_LA57:
		put_entry(e, HP_PD, index_at(e, w0, 2), (pa + HP_PT * PAGE) | tbl);
		put_entry(e, HP_PDPT, index_at(e, w0, 3), (pa + HP_PD * PAGE) | tbl);
		for (unsigned w = 0; w < 2; w++)
			put_entry(e, HP_ROOT4, index_at(e, e->window[w], 4), (pa + HP_PDPT * PAGE) | tbl);
		if (e->mode == PT_MODE_LA57) {
			for (unsigned w = 0; w < 2; w++)
				put_entry(e, HP_ROOT5, e->slot[w], (pa + HP_ROOT4 * PAGE) | tbl);
			e->setup_root = pa + HP_ROOT5 * PAGE;
		} else {
			e->setup_root = pa + HP_ROOT4 * PAGE;
		}
		break;
	case PT_MODE_OFF:
		break;
	}
}

/** The plug: the entry the harness needs in the dump's top-level table. */
static uint64_t plug_value(const struct engine *e)
{
	const uint64_t pa = e->pa_base;
	switch (e->mode) {
	case PT_MODE_LEGACY:
		return (pa + HP_PT * PAGE) | PTE_P | PTE_RW | PTE_US | PTE_A;
	case PT_MODE_PAE:
		return (pa + HP_PD * PAGE) | PTE_P;
	case PT_MODE_IA32E:
		return (pa + HP_PDPT * PAGE) | PTE_P | PTE_RW | PTE_US | PTE_A;
	default:
		return (pa + HP_ROOT4 * PAGE) | PTE_P | PTE_RW | PTE_US | PTE_A;
	}
}

/* ---- running code ------------------------------------------------------------------- */

/** Registers a run sets; the 32-bit engine uses the low halves. */
struct regs {
	uint64_t rax, rcx, rdx, rbx, rsi, rdi, rsp, r8, r9, r10, rflags;
};

static uc_err write_regs(struct engine *e, const struct regs *r)
{
	if (e->x64) {
		int ids[] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
			      UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_RSP, UC_X86_REG_R8,
			      UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_RFLAGS };
		void *const vals[] = { (void *)&r->rax, (void *)&r->rcx, (void *)&r->rdx,
				       (void *)&r->rbx, (void *)&r->rsi, (void *)&r->rdi,
				       (void *)&r->rsp, (void *)&r->r8,  (void *)&r->r9,
				       (void *)&r->r10, (void *)&r->rflags };
		return uc_reg_write_batch(e->uc, ids, vals, (int)(sizeof(ids) / sizeof(ids[0])));
	}
	uint32_t v[8] = { (uint32_t)r->rax, (uint32_t)r->rcx, (uint32_t)r->rdx, (uint32_t)r->rbx,
			  (uint32_t)r->rsi, (uint32_t)r->rdi, (uint32_t)r->rsp, (uint32_t)r->rflags };
	int ids[] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
		      UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_ESP, UC_X86_REG_EFLAGS };
	void *const vals[] = { &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7] };
	return uc_reg_write_batch(e->uc, ids, vals, 8);
}

static void reset_probe_state(struct engine *e)
{
	e->phase = PH_HARNESS;
	e->nreads = 0;
	e->reads_overflow = false;
	e->faulted = false;
	e->fault_vector = 0;
	e->fault_code = 0;
	e->fault_cr2 = 0;
	e->reached_target = false;
}

/** Run from `begin` to `until` (uc addresses); returns the uc error and RIP at the end. */
static uc_err run(struct engine *e, uint64_t begin, uint64_t until, uint64_t *rip_ret)
{
	uc_err ue = uc_emu_start(e->uc, begin, until, 0, 0);
	uint64_t rip = 0;

	if (e->x64) {
		uc_reg_read(e->uc, UC_X86_REG_RIP, &rip);
	} else {
		uint32_t eip = 0;
		uc_reg_read(e->uc, UC_X86_REG_EIP, &eip);
		rip = eip;
	}
	*rip_ret = rip;
	return ue;
}

/* ---- engine set-up ----------------------------------------------------------------- */

static bool map_uc(struct engine *e, struct pt_error *err)
{
	uc_err ue;
	uint64_t lo[2] = { e->window[0], e->window[1] };
	const uint64_t top = ~UINT64_C(0) - (PAGE - 1); /* uc_mmio_map cannot end at 2^64 */
	uint64_t start = 0;

	/* The buffer at its physical address and at both windows (one of which is pa_base). */
	for (unsigned w = 0; w < 2; w++) {
		ue = uc_mem_map_ptr(e->uc, lo[w], HARNESS_SIZE, UC_PROT_ALL, e->buf);
		if (ue != UC_ERR_OK) {
			pt_error_printf(err, "unicorn: mapping the harness at 0x%" PRIx64 ": %s", lo[w],
				uc_strerror(ue));
			return false;
		}
	}
	if (lo[0] > lo[1]) {
		uint64_t t = lo[0];
		lo[0] = lo[1];
		lo[1] = t;
	}
	/* MMIO everywhere else: the dump's bytes, or zeros. */
	e->npieces = 0;
	for (unsigned w = 0; w <= 2; w++) {
		uint64_t end = w < 2 ? lo[w] : top;
		if (w == 2 && lo[1] + HARNESS_SIZE == 0)
			break; /* the top window reaches 2^64 */
		if (end > start) {
			struct mmio_piece *p = &e->pieces[e->npieces++];
			p->engine = e;
			p->base = start;
			ue = uc_mmio_map(e->uc, start, (size_t)(end - start), mmio_read, p, mmio_write, p);
			if (ue != UC_ERR_OK) {
				pt_error_printf(err, "unicorn: uc_mmio_map(0x%" PRIx64 ", 0x%" PRIx64 "): %s",
					start, end - start, uc_strerror(ue));
				return false;
			}
		}
		if (w < 2)
			start = lo[w] + HARNESS_SIZE;
	}
	if (lo[1] + HARNESS_SIZE != 0) {
		/* The top page (a 32-bit engine never reaches it). */
		ue = uc_mem_map(e->uc, top, PAGE, UC_PROT_ALL);
		if (ue != UC_ERR_OK) {
			pt_error_printf(err, "unicorn: mapping the top page: %s", uc_strerror(ue));
			return false;
		}
	}
	return true;
}

static uint64_t read_efer(struct engine *e)
{
	uc_x86_msr msr = { .rid = MSR_EFER, .value = 0 };
	uc_reg_read(e->uc, UC_X86_REG_MSR, &msr);
	return msr.value;
}

/** Does patching EFER at `off` in a copy of base[0] give `want` as EFER? */
static bool efer_offset_works(struct engine *e, size_t off, uint64_t want)
{
	uint64_t got;

	memcpy(e->base[1], e->base[0], e->ctx_size);
	pt_le_put((uint8_t *)e->base[1] + off, want, 8);
	uc_context_restore(e->uc, e->base[1]);
	got = read_efer(e);
	uc_context_restore(e->uc, e->base[0]);
	return got == want;
}

/** Where EFER and the error code sit in the context blob (ucblob.h: found once per process);
 *  the EFER offset is checked here by its effect, in this engine. */
static bool find_blob_offsets(struct engine *e, struct pt_error *err)
{
	struct emu_ucblob_layout layout;
	if (!emu_ucblob_layout_get(&layout) || layout.error_code + 4 > e->ctx_size ||
	    layout.efer + 8 > e->ctx_size) {
		pt_error_printf(err, "unicorn: IA32_EFER or the exception error code is not in the context blob");
		return false;
	}
	if (!efer_offset_works(e, layout.efer, read_efer(e) ^ EFER_NXE)) {
		pt_error_printf(err, "unicorn: patching IA32_EFER at blob offset %zu has no effect", layout.efer);
		return false;
	}
	e->oracle->efer_off = layout.efer;
	e->oracle->errcode_off = layout.error_code;
	return true;
}

/** The lowest frame bit that makes a leaf reserved: the MAXPHYADDR Unicorn enforces. */
static bool measure_maxphyaddr(struct engine *e, struct pt_error *err)
{
	const uint64_t win = e->window[0];
	const uint64_t va = win + HP_TEST * PAGE;
	const unsigned pt_index = index_at(e, va, 1);
	const uint64_t saved = pt_le_get(e->buf + HP_PT * PAGE + pt_index * e->esize, e->esize);
	unsigned found = 0;

	if (e->mode == PT_MODE_LEGACY) {
		/* 32-bit paging: PSE-36 bits 20:13 of a 4 MiB PDE hold PA bits 39:32 (Table 4-4);
		 * the first of them that faults is M. Use a spare PDE slot of the setup PD. */
		const unsigned slot = 0x100;
		const uint64_t big_va = (uint64_t)slot << 22;
		for (unsigned bit = 13; bit <= 21 && !found; bit++) {
			struct regs r = { 0 };
			uint64_t rip;
			put_entry(e, HP_PD, slot, (UINT64_C(1) << bit) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_PS);
			uc_context_restore(e->uc, e->base[0]);
			r.rsi = e->setup_root;
			r.rdi = big_va;
			r.rax = CR0_PG | CR0_PE | CR0_ET | CR0_NE;
			r.rflags = X_RFLAGS_FIXED;
			write_regs(e, &r);
			reset_probe_state(e);
			/* uc address big_va is MMIO (zeros): the walk is what matters. */
			run(e, win + HP_SCODE * PAGE + e->test_entry, win + HP_SCODE * PAGE + e->test_end,
			    &rip);
			if (e->faulted && e->fault_vector == 14 && (e->fault_code & PF_ERR_RSVD))
				found = 32 + (bit - 13);
		}
		put_entry(e, HP_PD, slot, 0);
		if (!found)
			found = 40;
	} else {
		for (unsigned bit = 32; bit < 52 && !found; bit++) {
			struct regs r = { 0 };
			uint64_t rip;
			uint64_t leaf = (e->pa_base + HP_TEST * PAGE) | (UINT64_C(1) << bit) | PTE_P | PTE_RW |
					PTE_A | PTE_D;
			put_entry(e, HP_PT, pt_index, leaf);
			uc_context_restore(e->uc, e->base[0]);
			r.rsi = e->setup_root;
			r.rdi = va;
			r.rflags = X_RFLAGS_FIXED;
			write_regs(e, &r);
			reset_probe_state(e);
			run(e, win + HP_SCODE * PAGE + e->test_entry, win + HP_SCODE * PAGE + e->test_end,
			    &rip);
			if (e->faulted && e->fault_vector == 14 && (e->fault_code & PF_ERR_RSVD))
				found = bit;
		}
		put_entry(e, HP_PT, pt_index, saved);
		if (!found)
			found = 52;
	}
	uc_context_restore(e->uc, e->base[0]);
	if (found < 32) {
		pt_error_printf(err, "unicorn: MAXPHYADDR measured as %u", found);
		return false;
	}
	e->maxphyaddr = found;
	return true;
}

/**
 * Make (or find) the clean context for a configuration: run the configuration stub (guest
 * MOV to CR0/CR4 so hflags and the TLB follow, WRPKRU), save, patch EFER.NXE into the blob.
 * Returns NULL with err when the guest faults (e.g. a CR4 bit the CPU lacks).
 */
static uc_context *get_variant(struct engine *e, uint64_t cr0, uint64_t cr4, uint32_t pkru,
			       bool nxe, struct pt_error *err)
{
	struct variant *v;
	struct regs r = { 0 };
	uint64_t rip, got_cr4 = 0;
	const uint64_t win = e->window[0];
	const unsigned pke = (cr4 & CR4_PKE) ? 1 : 0;
	uc_err ue;

	if (!pke)
		pkru = 0;
	for (unsigned i = 0; i < e->nvariants; i++) {
		v = &e->variants[i];
		if (v->cr0 == cr0 && v->cr4 == cr4 && v->pkru == pkru && v->nxe == nxe)
			return v->ctx;
	}
	if (e->nvariants < MAX_VARIANTS) {
		v = &e->variants[e->nvariants];
		if (uc_context_alloc(e->uc, &v->ctx) != UC_ERR_OK) {
			v->ctx = NULL;
			pt_error_printf(err, "unicorn: uc_context_alloc failed");
			return NULL;
		}
		e->nvariants++;
	} else {
		v = &e->variants[e->next_evict];
		e->next_evict = (e->next_evict + 1) % MAX_VARIANTS;
	}
	v->cr0 = v->cr4 = ~UINT64_C(0); /* invalid until made */

	uc_context_restore(e->uc, e->base[0]);
	r.rax = cr0;
	r.rdx = cr4;
	r.r9 = pkru;
	r.rsi = e->setup_root;
	r.rsp = win + HP_STACK * PAGE + 0xf00;
	r.rflags = X_RFLAGS_FIXED;
	write_regs(e, &r);
	reset_probe_state(e);
	ue = run(e, win + HP_SCODE * PAGE + e->config_entry[pke], win + HP_SCODE * PAGE + e->config_end[pke],
		 &rip);
	uc_reg_read(e->uc, UC_X86_REG_CR4, &got_cr4);
	if (ue != UC_ERR_OK || e->faulted || rip != win + HP_SCODE * PAGE + e->config_end[pke] ||
	    got_cr4 != cr4) {
		pt_error_printf(err,
			"oracle: Unicorn cannot take CR0 0x%" PRIx64 " CR4 0x%" PRIx64
			" (CR4 became 0x%" PRIx64 ", %s, vector %u)",
			cr0, cr4, got_cr4, uc_strerror(ue), e->faulted ? e->fault_vector : 0);
		uc_context_restore(e->uc, e->base[0]);
		return NULL;
	}
	uc_context_save(e->uc, v->ctx);
	if (nxe) {
		uint8_t *blob = (uint8_t *)v->ctx;
		pt_le_put(blob + e->oracle->efer_off, pt_le_get(blob + e->oracle->efer_off, 8) | EFER_NXE, 8);
	}
	v->cr0 = cr0;
	v->cr4 = cr4;
	v->pkru = pkru;
	v->nxe = nxe;
	return v->ctx;
}

static void engine_destroy(struct engine *e)
{
	if (e == NULL)
		return;
	if (e->uc != NULL) {
		for (unsigned i = 0; i < 2; i++)
			if (e->base[i] != NULL)
				uc_context_free(e->base[i]);
		for (unsigned i = 0; i < e->nvariants; i++)
			if (e->variants[i].ctx != NULL)
				uc_context_free(e->variants[i].ctx);
		if (e->scratch != NULL)
			uc_context_free(e->scratch);
		uc_close(e->uc);
	}
	free(e->buf);
	free(e->pristine);
	free(e);
}

static bool engine_setup_run(struct engine *e, struct pt_error *err)
{
	uc_x86_mmr gdtr = { 0 };
	struct regs r = { 0 };
	uint64_t cr4, rip;
	uc_err ue;
	const uint64_t ident = e->pa_base; /* the identity window: paging is off at first */

	gdtr.base = ident + HP_GDT * PAGE;
	gdtr.limit = GDT_LIMIT;
	uc_reg_write(e->uc, UC_X86_REG_GDTR, &gdtr);
	if (e->x64) {
		/* UC_MODE_64 starts in long mode with paging off; only selectors change here. */
		uint64_t cs = 0x08, ds = 0x10;
		uc_reg_write(e->uc, UC_X86_REG_CS, &cs);
		uc_reg_write(e->uc, UC_X86_REG_SS, &ds);
		uc_reg_write(e->uc, UC_X86_REG_DS, &ds);
		uc_reg_write(e->uc, UC_X86_REG_ES, &ds);
	} else {
		/* UC_MODE_32: a segment write is a real descriptor load from our GDT. */
		uint32_t cs = 0x08, ds = 0x10;
		if (uc_reg_write(e->uc, UC_X86_REG_CS, &cs) != UC_ERR_OK ||
		    uc_reg_write(e->uc, UC_X86_REG_SS, &ds) != UC_ERR_OK ||
		    uc_reg_write(e->uc, UC_X86_REG_DS, &ds) != UC_ERR_OK ||
		    uc_reg_write(e->uc, UC_X86_REG_ES, &ds) != UC_ERR_OK) {
			pt_error_printf(err, "unicorn: loading the harness segments failed");
			return false;
		}
	}
	/* CR4 by a raw register write (the guest cannot set LA57 in 64-bit code). */
	switch (e->mode) {
	case PT_MODE_LEGACY:
		cr4 = CR4_PSE;
		break;
	case PT_MODE_PAE:
	case PT_MODE_IA32E:
		cr4 = CR4_PAE;
		break;
	default:
		cr4 = CR4_PAE | CR4_LA57;
		break;
	}
	uc_reg_write(e->uc, UC_X86_REG_CR4, &cr4);
	r.rsi = e->setup_root;
	r.rax = CR0_PG | CR0_PE | CR0_ET | CR0_NE | CR0_WP;
	r.rflags = X_RFLAGS_FIXED;
	r.rsp = ident + HP_STACK * PAGE + 0xf00;
	write_regs(e, &r);
	reset_probe_state(e);
	ue = run(e, ident + HP_SCODE * PAGE + e->setup_entry, ident + HP_SCODE * PAGE + e->setup_end,
		 &rip);
	if (ue != UC_ERR_OK || e->faulted || rip != ident + HP_SCODE * PAGE + e->setup_end) {
		pt_error_printf(err, "unicorn: enabling %s paging failed (%s, vector %u, rip 0x%" PRIx64 ")",
			pt_mode_name(e->mode), uc_strerror(ue), e->faulted ? e->fault_vector : 0, rip);
		return false;
	}
	if (e->x64) {
		uint64_t efer = read_efer(e);
		if (!(efer & EFER_LMA)) {
			pt_error_printf(err, "unicorn: long mode not active after enabling paging");
			return false;
		}
	}
	return true;
}

static struct engine *engine_create(struct pt_oracle *o, enum pt_mode mode, struct pt_error *err)
{
	struct engine *e = calloc(1, sizeof(*e));
	uc_err ue;

	if (e == NULL) {
		pt_error_printf(err, "out of memory");
		return NULL;
	}
	e->oracle = o;
	e->mode = mode;
	e->x64 = mode == PT_MODE_IA32E || mode == PT_MODE_LA57;
	e->esize = mode == PT_MODE_LEGACY ? 4 : 8;
	e->levels = mode == PT_MODE_LEGACY ? 2 : mode == PT_MODE_PAE ? 3 : mode == PT_MODE_IA32E ? 4 : 5;
	if (e->x64) {
		/* Just under 2^40 (Unicorn's MAXPHYADDR, measured below) and the top of the
		 * address space: top-level slots 1 and 511 (4-level), 0 and 511 (5-level). */
		e->pa_base = (UINT64_C(1) << 40) - HARNESS_SIZE;
		e->window[0] = e->pa_base;
		e->window[1] = ~UINT64_C(0) - (HARNESS_SIZE - 1);
	} else {
		/* Top of the 32-bit space: PDE 1023 / PDPTE 3; alias: PDE 767 / PDPTE 2. */
		e->pa_base = UINT64_C(0x100000000) - HARNESS_SIZE;
		e->window[0] = e->pa_base;
		e->window[1] = UINT64_C(0xc0000000) - HARNESS_SIZE;
	}
	for (unsigned w = 0; w < 2; w++)
		e->slot[w] = top_slot(e, e->window[w]);

	if (posix_memalign((void **)&e->buf, PAGE, HARNESS_SIZE) != 0) {
		e->buf = NULL;
		pt_error_printf(err, "out of memory");
		goto fail;
	}
	memset(e->buf, 0, HARNESS_SIZE);
	e->pristine = malloc(HARNESS_SIZE);
	if (e->pristine == NULL) {
		pt_error_printf(err, "out of memory");
		goto fail;
	}

	ue = uc_open(UC_ARCH_X86, e->x64 ? UC_MODE_64 : UC_MODE_32, &e->uc);
	if (ue != UC_ERR_OK) {
		e->uc = NULL;
		pt_error_printf(err, "unicorn: uc_open: %s", uc_strerror(ue));
		goto fail;
	}
	/* A model with SMAP and PKU in CPUID leaf 7 (CR4 drops bits the model lacks). */
	ue = uc_ctl_set_cpu_model(e->uc, UC_CPU_X86_SKYLAKE_SERVER);
	if (ue != UC_ERR_OK) {
		pt_error_printf(err, "unicorn: selecting the CPU model: %s", uc_strerror(ue));
		goto fail;
	}
	if (!map_uc(e, err))
		goto fail;
	{
		uc_hook h;
		ue = uc_hook_add(e->uc, &h, UC_HOOK_INTR, (void *)hook_intr, e, 1, 0);
		/* Every instruction (a probe runs a handful): the phase switch and the fetch stop. */
		if (ue == UC_ERR_OK)
			ue = uc_hook_add(e->uc, &h, UC_HOOK_CODE, (void *)hook_code, e, 1, 0);
		if (ue != UC_ERR_OK) {
			pt_error_printf(err, "unicorn: uc_hook_add: %s", uc_strerror(ue));
			goto fail;
		}
	}
	build_tables(e);
	build_gdt(e);
	build_stubs(e);

	e->ctx_size = uc_context_size(e->uc);
	for (unsigned i = 0; i < 2; i++) {
		if (uc_context_alloc(e->uc, &e->base[i]) != UC_ERR_OK) {
			e->base[i] = NULL;
			pt_error_printf(err, "unicorn: uc_context_alloc failed");
			goto fail;
		}
	}
	if (uc_context_alloc(e->uc, &e->scratch) != UC_ERR_OK) {
		e->scratch = NULL;
		pt_error_printf(err, "unicorn: uc_context_alloc failed");
		goto fail;
	}
	if (!engine_setup_run(e, err))
		goto fail;
	uc_context_save(e->uc, e->base[0]);
	memcpy(e->base[1], e->base[0], e->ctx_size);

	if (!find_blob_offsets(e, err))
		goto fail;
	if (!measure_maxphyaddr(e, err))
		goto fail;
	memcpy(e->pristine, e->buf, HARNESS_SIZE);
	return e;
fail:
	engine_destroy(e);
	return NULL;
}

static struct engine *get_engine(struct pt_oracle *o, enum pt_mode mode, struct pt_error *err)
{
	if (o->engines[mode] == NULL)
		o->engines[mode] = engine_create(o, mode, err);
	return o->engines[mode];
}

/* ---- public API ------------------------------------------------------------------- */

enum pt_status pt_oracle_create(const struct pt_mem *mem, uint64_t phys_size,
				struct pt_oracle **oracle_ret, struct pt_error *err)
{
	struct pt_oracle *o;

	*oracle_ret = NULL;
	if (mem == NULL || mem->ptr == NULL) {
		pt_error_printf(err, "oracle: no memory reader");
		return PT_EINVAL;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		pt_error_printf(err, "out of memory");
		return PT_EINVAL;
	}
	o->mem = mem;
	o->phys_size = phys_size;
	/* The IA-32e engine now: it finds the context offsets and measures MAXPHYADDR. */
	if (get_engine(o, PT_MODE_IA32E, err) == NULL) {
		pt_oracle_destroy(o);
		return PT_EINVAL;
	}
	o->maxphyaddr = o->engines[PT_MODE_IA32E]->maxphyaddr;
	*oracle_ret = o;
	return PT_OK;
}

void pt_oracle_destroy(struct pt_oracle *oracle)
{
	if (oracle == NULL)
		return;
	for (unsigned i = 0; i < 5; i++)
		engine_destroy(oracle->engines[i]);
	free(oracle);
}

unsigned pt_oracle_maxphyaddr(const struct pt_oracle *oracle)
{
	return oracle->maxphyaddr;
}

/* ---- one probe ------------------------------------------------------------------------ */

/** The paging mode of `cpu` (SDM Table 4-1), decided here without walker code. */
static enum pt_mode mode_of(const struct pt_cpu_state *cpu)
{
	if (!(cpu->cr0 & CR0_PG))
		return PT_MODE_OFF;
	if (!(cpu->cr4 & CR4_PAE))
		return (cpu->efer & EFER_LMA) ? PT_MODE_OFF : PT_MODE_LEGACY; /* LMA: PAE required */
	if (!(cpu->efer & EFER_LMA))
		return PT_MODE_PAE;
	return (cpu->cr4 & CR4_LA57) ? PT_MODE_LA57 : PT_MODE_IA32E;
}

static bool overlaps_window(const struct engine *e, uint64_t pa, uint64_t len)
{
	if (pa + len < pa)
		return true;
	for (unsigned w = 0; w < 2; w++)
		if (pa < e->window[w] + HARNESS_SIZE && e->window[w] < pa + len)
			return true;
	return false;
}

/** Does the entry at `level` map a page (given it is present)? */
static bool maps_page(const struct engine *e, unsigned level, uint64_t value, uint64_t cr4)
{
	if (level == 1)
		return true;
	if (!(value & PTE_PS))
		return false;
	switch (e->mode) {
	case PT_MODE_LEGACY:
		return level == 2 && (cr4 & CR4_PSE);
	case PT_MODE_PAE:
		return level == 2;
	default:
		return level == 2 || level == 3;
	}
}

/** The frame an entry points to (a table, or the page for a leaf at `level`). */
static uint64_t entry_frame(const struct engine *e, unsigned level, uint64_t value, bool leaf)
{
	if (e->mode == PT_MODE_LEGACY) {
		if (leaf && level == 2) {
			/* SDM Table 4-4: PA 31:22 from 31:22, PA (M'-1):32 from bits (M'-20):13. */
			unsigned m = e->maxphyaddr < 40 ? e->maxphyaddr : 40;
			uint64_t high = (value >> 13) & ((UINT64_C(1) << (m - 32)) - 1);
			return (value & UINT64_C(0xffc00000)) | (high << 32);
		}
		return value & UINT64_C(0xfffff000);
	}
	uint64_t frame = value & ~e->cbit_mask & mask_bits(e->maxphyaddr - 1, 12);
	if (leaf && level > 1)
		frame &= ~((UINT64_C(1) << (12 + 9 * (level - 1))) - 1);
	return frame;
}

/** Merge the recorded loads into whole entries (8-byte entries arrive as two 4-byte loads). */
static unsigned merge_entries(const struct engine *e, uint64_t *pa, uint64_t *val, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < e->nreads && n < max; i++) {
		const struct mmio_read_rec *r = &e->reads[i];
		if (e->esize == 4) {
			if (r->size != 4)
				continue;
			pa[n] = r->pa;
			val[n++] = r->value;
			continue;
		}
		if (r->size == 8 && (r->pa & 7) == 0) {
			pa[n] = r->pa;
			val[n++] = r->value;
		} else if (r->size == 4 && (r->pa & 7) == 0 && i + 1 < e->nreads &&
			   e->reads[i + 1].size == 4 && e->reads[i + 1].pa == r->pa + 4) {
			pa[n] = r->pa;
			val[n++] = r->value | (e->reads[i + 1].value << 32);
			i++;
		}
	}
	return n;
}

enum pt_status pt_oracle_probe(struct pt_oracle *o, const struct pt_cpu_state *cpu, uint64_t va,
			       const struct pt_access *access, struct pt_oracle_answer *answer,
			       struct pt_error *err)
{
	const enum pt_mode mode = mode_of(cpu);
	struct engine *e;
	uint64_t root, cr4, cr0;
	struct regs r = { 0 };
	const struct stub *st;
	enum probe_kind kind;
	unsigned w;
	uint64_t rip, until, page;
	uc_context *ctx;
	uc_err ue;

	memset(answer, 0, sizeof(*answer));
	if (mode == PT_MODE_OFF) {
		pt_error_printf(err, "oracle: paging is off (CR0.PG = 0) or impossible (EFER.LMA without "
			     "CR4.PAE): there is no walk to ask for");
		return PT_EINVAL;
	}
	if (access->cpl > 3 || (unsigned)access->kind > PT_ACCESS_FETCH) {
		pt_error_printf(err, "oracle: bad access (cpl %u, kind %d)", access->cpl, (int)access->kind);
		return PT_EINVAL;
	}
	if (access->implicit && access->kind != PT_ACCESS_READ) {
		pt_error_printf(err, "oracle: only implicit supervisor reads can be probed (a LAR of the LDT)");
		return PT_EINVAL;
	}
	if ((mode == PT_MODE_LEGACY || mode == PT_MODE_PAE) && va > UINT32_MAX) {
		pt_error_printf(err, "oracle: VA 0x%" PRIx64 " is wider than 32 bits", va);
		return PT_EINVAL;
	}
	e = get_engine(o, mode, err);
	if (e == NULL)
		return PT_EINVAL;

	/* CR3 -> the top table (SDM Tables 4-3, 4-7, 4-12). */
	e->cbit_mask = (e->esize == 8 && cpu->cbit >= 32 && cpu->cbit <= 62) ?
			       UINT64_C(1) << cpu->cbit : 0;
	switch (mode) {
	case PT_MODE_LEGACY:
		root = cpu->cr3 & UINT64_C(0xfffff000);
		break;
	case PT_MODE_PAE:
		root = cpu->cr3 & UINT64_C(0xffffffe0);
		break;
	default:
		root = cpu->cr3 & ~e->cbit_mask & mask_bits(51, 12);
		break;
	}
	if (e->esize == 8 && root >> e->maxphyaddr) {
		pt_error_printf(err, "oracle: CR3 0x%" PRIx64 " is beyond Unicorn's MAXPHYADDR (%u)", cpu->cr3,
			e->maxphyaddr);
		return PT_EINVAL;
	}
	if (overlaps_window(e, root & ~UINT64_C(0xfff), PAGE)) {
		pt_error_printf(err, "oracle: the top-level table 0x%" PRIx64 " overlaps the harness memory",
			root);
		return PT_EINVAL;
	}

	/* CR0 and CR4 as far as paging goes; the mode bits are the engine's. */
	cr0 = CR0_PG | CR0_PE | CR0_ET | CR0_NE | (cpu->cr0 & CR0_WP);
	cr4 = cpu->cr4 & (CR4_SMEP | CR4_SMAP | (e->x64 ? CR4_PKE : 0));
	cr4 |= mode == PT_MODE_LEGACY ? (cpu->cr4 & CR4_PSE) :
	       mode == PT_MODE_LA57   ? CR4_PAE | CR4_LA57 :
					CR4_PAE;
	ctx = get_variant(e, cr0, cr4, cpu->pkru, (cpu->efer & EFER_NXE) != 0, err);
	if (ctx == NULL)
		return PT_EINVAL;

	/* The window whose top-level slot differs from the VA's. */
	w = top_slot(e, va) == e->slot[0] ? 1 : 0;
	e->win = e->window[w];
	e->plug_pa = root + (uint64_t)e->slot[w] * e->esize;
	e->plug_value = plug_value(e);

	kind = access->implicit ? PK_IMPLICIT : (enum probe_kind)access->kind;
	st = &e->stubs[access->cpl][kind];
	page = e->win + (st->user_page ? HP_UCODE : HP_SCODE) * PAGE;
	e->probe_insn = page + st->insn;
	e->probe_next = page + st->next;
	/* hook_code() stops the run after the probe instruction, or at a fetch probe's target
	 * (Unicorn stops by itself at a first fetch from MMIO). `until` is a never-executed hlt:
	 * Unicorn invalidates the translated code at `until` on every run, so an address in the
	 * probe code would be retranslated each time (and a page-aligned one makes Unicorn walk
	 * the page before it). */
	until = e->win + HP_SCODE * PAGE + PAGE - 16;
	e->fetch_target = kind == PK_FETCH ? va : until;

	if (kind == PK_IMPLICIT)
		set_ldt_base(e, va & ~UINT64_C(7));
	r.rflags = X_RFLAGS_FIXED | (cpu->rflags & RFLAGS_AC);
	if (access->cpl != 0) {
		/* IRET frame: RIP, CS, RFLAGS, RSP, SS (8 bytes each, 4 in 32-bit). */
		const unsigned n = e->x64 ? 8 : 4;
		uint8_t *f = e->buf + HP_STACK * PAGE + 0x800;
		const uint64_t cs = (0x08u + 0x10u * access->cpl) | access->cpl;
		const uint64_t ss = (0x10u + 0x10u * access->cpl) | access->cpl;
		pt_le_put(f + 0 * n, e->probe_insn, n);
		pt_le_put(f + 1 * n, cs, n);
		pt_le_put(f + 2 * n, r.rflags, n);
		pt_le_put(f + 3 * n, e->win + HP_STACK * PAGE + 0xf00, n);
		pt_le_put(f + 4 * n, ss, n);
		r.rsp = e->win + HP_STACK * PAGE + 0x800;
	} else {
		r.rsp = e->win + HP_STACK * PAGE + 0xf00;
	}
	r.rsi = root;
	r.rdi = va;
	r.r8 = r.rbx = kind == PK_IMPLICIT ? SEL_LDT : 0;
	r.rcx = SEL_LAR;

	uc_context_restore(e->uc, ctx);
	ue = write_regs(e, &r);
	if (ue == UC_ERR_OK) {
		/* The GDT (IRET, LLDT) in the window in use: the other one is not mapped now. */
		uc_x86_mmr gdtr = { 0 };
		gdtr.base = e->win + HP_GDT * PAGE;
		gdtr.limit = GDT_LIMIT;
		ue = uc_reg_write(e->uc, UC_X86_REG_GDTR, &gdtr);
	}
	if (ue != UC_ERR_OK) {
		pt_error_printf(err, "unicorn: writing registers: %s", uc_strerror(ue));
		return PT_EINVAL;
	}
	reset_probe_state(e);
	e->plug_active = true;
	ue = run(e, e->win + HP_SCODE * PAGE + st->entry, until, &rip);
	e->plug_active = false;
	if (kind == PK_WRITE && overlaps_window(e, va, 1))
		memcpy(e->buf, e->pristine, HARNESS_SIZE);

	/* What happened. */
	if (e->faulted && e->fault_phase != PH_PROBE) {
		pt_error_printf(err,
			"oracle: the harness faulted before the probe (vector %u, error 0x%x, CR2 0x%" PRIx64
			", rip 0x%" PRIx64 ")",
			e->fault_vector, e->fault_code, e->fault_cr2, rip);
		return PT_EINVAL;
	}
	if (!e->faulted) {
		bool done;
		if (kind == PK_FETCH)
			done = e->phase == PH_PROBE &&
			       (e->reached_target || ue == UC_ERR_FETCH_PROT || ue == UC_ERR_FETCH_UNMAPPED);
		else
			done = e->phase == PH_DONE && ue == UC_ERR_OK;
		if (!done) {
			pt_error_printf(err,
				"oracle: the probe did not complete (%s, rip 0x%" PRIx64 ", expected 0x%" PRIx64
				")",
				uc_strerror(ue), rip, kind == PK_FETCH ? va : e->probe_next);
			return PT_EINVAL;
		}
	}
	if (e->reads_overflow) {
		pt_error_printf(err, "oracle: too many page-walk loads");
		return PT_EINVAL;
	}

	/* Follow the chain of entries from the top-level entry of the VA. */
	uint64_t epa[MAX_READS], eval[MAX_READS];
	const unsigned n = merge_entries(e, epa, eval, MAX_READS);
	uint64_t table = root;
	unsigned level = e->levels, got = 0;
	bool leaf = false, last_present = false;

	for (unsigned i = 0; i < n && level >= 1; i++) {
		const uint64_t want = table + (uint64_t)index_at(e, va, level) * e->esize;
		if (epa[i] != want)
			break;
		answer->entry_pa[got] = epa[i];
		answer->entry[got] = eval[i];
		got++;
		const uint64_t v = eval[i] & ~e->cbit_mask;
		last_present = (v & PTE_P) != 0;
		if (!last_present)
			break;
		if (maps_page(e, level, v, cr4)) {
			leaf = true;
			break;
		}
		table = entry_frame(e, level, v, false);
		if (overlaps_window(e, table, PAGE)) {
			pt_error_printf(err, "oracle: a paging structure at 0x%" PRIx64
				     " lies in the harness memory%s: not observable",
				table, table < o->phys_size ? " (the dump has memory there)" : "");
			return PT_EINVAL;
		}
		level--;
	}
	answer->nentries = (uint8_t)got;

	if (e->faulted) {
		answer->status = PT_FAULT;
		answer->vector = (uint8_t)e->fault_vector;
		answer->error_code = e->fault_vector == 14 ? e->fault_code : 0;
		answer->level = got ? (uint8_t)(e->levels - got + 1) : 0;
		if (e->fault_vector == 14) {
			const uint64_t expect = kind == PK_IMPLICIT ? (va & ~UINT64_C(7)) : va;
			/* A #PF ends the walk at a not-present entry, a reserved bit, or a leaf. */
			const bool explained = !last_present || leaf || (e->fault_code & PF_ERR_RSVD);
			if (e->fault_cr2 != expect || got == 0 || !explained) {
				pt_error_printf(err, "oracle: #PF (error 0x%x, CR2 0x%" PRIx64 ") for VA 0x%" PRIx64
					     " not explained by the %u entries seen",
					e->fault_code, e->fault_cr2, va, got);
				return PT_EINVAL;
			}
		} else if (e->fault_vector == 13) {
			if (got != 0) {
				pt_error_printf(err, "oracle: #GP after %u entries for VA 0x%" PRIx64, got, va);
				return PT_EINVAL;
			}
		} else {
			pt_error_printf(err, "oracle: unexpected exception %u (error 0x%x) at VA 0x%" PRIx64,
				e->fault_vector, e->fault_code, va);
			return PT_EINVAL;
		}
		return PT_OK;
	}
	if (!leaf) {
		pt_error_printf(err, "oracle: the access completed but the walk seen ends at level %u without a "
			     "leaf (%u loads)",
			level, e->nreads);
		return PT_EINVAL;
	}
	const uint64_t size = UINT64_C(1) << (e->mode == PT_MODE_LEGACY ? 12 + 10 * (level - 1) :
									12 + 9 * (level - 1));
	answer->status = PT_OK;
	answer->level = (uint8_t)level;
	answer->pa = entry_frame(e, level, answer->entry[got - 1] & ~e->cbit_mask, true) |
		     (va & (size - 1));
	return PT_OK;
}
