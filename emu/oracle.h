/* SPDX-License-Identifier: MIT */
/*
 * emu/oracle.h: the MMU oracle's engines (internal to libptemu). How the oracle works is told at
 * the head of oracle.c; one concern per file:
 *   oracle.c          the public API and one probe: the request checked, the probe set up in
 *                     the engine of its paging mode, run, and its completion checked;
 *   oracle_engine.c   an engine per paging mode: Unicorn with the dump behind MMIO, the hooks,
 *                     running harness code, the clean contexts per paging configuration, the
 *                     context-blob offsets and the MAXPHYADDR measurement;
 *   oracle_harness.c  the harness the probes run in: its code stubs, GDT and page tables, and
 *                     the plug that hooks them into the probed address space;
 *   oracle_trace.c    the answer decoded from the page-walk loads the MMU made (the SDM entry
 *                     formats, not walker code).
 */
#ifndef PTLAB_EMU_ORACLE_H
#define PTLAB_EMU_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <unicorn/unicorn.h>

#include "ptlab/emu.h"
#include "ptlab/error.h"

/** Sizes of the harness and of what an engine records. */
enum {
	PAGE = 4096,
	HARNESS_PAGES = 16,
	HARNESS_SIZE = HARNESS_PAGES * PAGE,
	MAX_READS = 64,    /**< page-walk loads recorded per probe */
	MAX_VARIANTS = 16, /**< clean contexts kept per engine */
};

/* Pages of the harness buffer. */
enum oracle_page {
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

/* RFLAGS bit 1, which is always 1 (SDM Vol. 3A 2.3): the flags the harness loads. */
static const uint64_t X_RFLAGS_FIXED = UINT64_C(1) << 1;

/** What mmio_read() presents at the plug address and whether it records. */
enum oracle_phase {
	PH_HARNESS = 0, /**< harness code runs: the plug is visible, nothing recorded */
	PH_PROBE = 1,   /**< the probe access: dump values, reads recorded */
	PH_DONE = 2,    /**< after it: the plug again, nothing recorded */
};

/* The probe instructions (enum pt_access_kind + the implicit read). */
enum oracle_probe_kind { PK_READ = 0, PK_WRITE = 1, PK_FETCH = 2, PK_IMPLICIT = 3, PK_COUNT = 4 };

/** One page-walk load seen by mmio_read(). */
struct oracle_load {
	uint64_t pa;
	uint64_t value; /**< as stored in the dump (no C-bit stripping) */
	unsigned size;
};

struct oracle_engine;

/** One uc_mmio_map piece: its base for the callbacks. */
struct oracle_mmio_piece {
	struct oracle_engine *engine;
	uint64_t base;
};

/** Addresses of one probe stub. */
struct oracle_stub {
	uint64_t entry;  /**< offset in the S page of the CPL0 entry */
	uint64_t insn;   /**< offset (in the S or U page) of the probe instruction */
	uint64_t next;   /**< offset of the instruction after it (nop) */
	bool user_page;  /**< insn/next are in the U page */
};

/** A clean context for one paging configuration (what CR0/CR4/EFER/PKRU the probe needs). */
struct oracle_variant {
	uint64_t cr0, cr4;
	uint32_t pkru;
	bool nxe;
	uc_context *ctx;
};

/** An engine for one paging mode. */
struct oracle_engine {
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
	struct oracle_variant variants[MAX_VARIANTS]; /**< contexts per paging configuration */
	unsigned nvariants;
	unsigned next_evict;
	size_t ctx_size;
	struct oracle_mmio_piece pieces[4];
	unsigned npieces;
	struct oracle_stub stubs[4][PK_COUNT];   /**< by CPL and probe kind */
	uint64_t config_entry[2], config_end[2]; /**< CR0, CR4 [, WRPKRU] */
	uint64_t test_entry, test_end;    /**< mov cr3, rsi; mov al, [rdi] */
	uint64_t setup_entry, setup_end;

	/* ---- per probe ---- */
	enum oracle_phase phase;
	uint64_t win;          /**< window in use */
	uint64_t probe_insn;   /**< uc address of the probe instruction */
	uint64_t probe_next;
	uint64_t plug_pa;      /**< top-level entry presented as the plug */
	uint64_t plug_value;
	bool plug_active;
	uint64_t cbit_mask;
	struct oracle_load reads[MAX_READS];
	unsigned nreads;
	bool reads_overflow;
	bool faulted;
	uint32_t fault_vector;
	uint64_t fault_cr2;
	uint32_t fault_code;
	enum oracle_phase fault_phase;
	uint64_t fetch_target; /**< a fetch probe stops when it reaches this address */
	bool reached_target;
};

/** The oracle: the dump and one engine per paging mode, made on first use. */
struct pt_oracle {
	const struct pt_mem *mem;
	uint64_t phys_size;
	unsigned maxphyaddr;
	size_t efer_off;      /**< offset of EFER in a uc_context (ucblob.h) */
	size_t errcode_off;   /**< offset of the exception error code */
	struct oracle_engine *engines[5]; /**< by enum pt_mode */
};

/** Registers a run sets; the 32-bit engine uses the low halves. */
struct oracle_regs {
	uint64_t rax, rcx, rdx, rbx, rsi, rdi, rsp, r8, r9, r10, rflags;
};

/** Bits hi..lo set. */
static inline uint64_t emu_oracle_mask_bits(unsigned hi, unsigned lo)
{
	uint64_t top = hi >= 63 ? ~UINT64_C(0) : ((UINT64_C(1) << (hi + 1)) - 1);
	return top & ~((UINT64_C(1) << lo) - 1);
}

/* ---- oracle_engine.c ------------------------------------------------------------------- */

/** The engine of `mode`, made (and measured) on first use; NULL with err when it cannot be. */
struct oracle_engine *emu_oracle_get_engine(struct pt_oracle *o, enum pt_mode mode, struct pt_error *err);
/** Free an engine (NULL is fine). */
void emu_oracle_engine_destroy(struct oracle_engine *e);
/**
 * The clean context for a paging configuration, made on first use (guest MOVs to CR0/CR4 so
 * Unicorn's hflags follow, WRPKRU, EFER.NXE patched into the blob); NULL with err when the guest
 * faults (e.g. a CR4 bit the CPU lacks).
 */
uc_context *emu_oracle_get_variant(struct oracle_engine *e, uint64_t cr0, uint64_t cr4, uint32_t pkru,
				   bool nxe, struct pt_error *err);
/** Load the registers of a run (the low halves in a 32-bit engine). */
uc_err emu_oracle_write_regs(struct oracle_engine *e, const struct oracle_regs *r);
/** Forget what the last probe recorded. */
void emu_oracle_reset_probe(struct oracle_engine *e);
/** Run from `begin` to `until` (uc addresses); returns the uc error and RIP at the end. */
uc_err emu_oracle_run(struct oracle_engine *e, uint64_t begin, uint64_t until, uint64_t *rip_ret);

/* ---- oracle_harness.c ------------------------------------------------------------------- */

/** Write the harness into the engine's buffer: page tables, GDT, code stubs. */
void emu_oracle_build_harness(struct oracle_engine *e);
/** The top-level slot of `va` in the engine's mode. */
unsigned emu_oracle_top_slot(const struct oracle_engine *e, uint64_t va);
/** Index of `va` in a table of `level` (1 = PT) for the engine's mode. */
unsigned emu_oracle_index_at(const struct oracle_engine *e, uint64_t va, unsigned level);
/** Write entry `index` of harness page `page`. */
void emu_oracle_put_entry(struct oracle_engine *e, unsigned page, unsigned index, uint64_t value);
/** Point the LDT descriptor at `base` (limit 7: one descriptor). */
void emu_oracle_set_ldt_base(struct oracle_engine *e, uint64_t base);
/** The plug: the entry the harness needs in the dump's top-level table. */
uint64_t emu_oracle_plug_value(const struct oracle_engine *e);

/* ---- oracle_trace.c --------------------------------------------------------------------- */

/** Does [pa, pa + len) touch the harness memory (either window)? */
bool emu_oracle_overlaps_window(const struct oracle_engine *e, uint64_t pa, uint64_t len);
/**
 * The answer of a completed probe of `va` (walk from `root`, with `cr4`): the chain of entries
 * the MMU read from the top-level entry of the VA, and the PA or the fault it ends in. PT_EINVAL
 * with err when what was seen does not explain itself.
 */
enum pt_status emu_oracle_decode(const struct pt_oracle *o, const struct oracle_engine *e, uint64_t va,
				 uint64_t root, uint64_t cr4, enum oracle_probe_kind kind,
				 struct pt_oracle_answer *answer, struct pt_error *err);

#endif
