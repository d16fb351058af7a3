/* SPDX-License-Identifier: MIT */
/*
 * ptlab emu.h: libptemu, built on Unicorn 2.0.1.
 *
 * - Boot images: our own assembly that does what Linux's boot path does (decompressor identity
 *   map, head_64's early_top_pgt with the load_delta fix-up, then init_top_pgt; head_32 for the
 *   32-bit variants), run in Unicorn over synthetic physical memory. The page tables in the
 *   resulting dump were written by that code.
 * - The MMU oracle: Unicorn's own page walk answers "does VA x map, to what, with which fault"
 *   for a dump and a CPU state, for differential tests of the walker.
 */
#ifndef PTLAB_EMU_H
#define PTLAB_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ptlab/dump.h"
#include "ptlab/walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- MMU oracle ----------------------------------------------------------------------- */

/** What Unicorn's MMU said about one access. */
struct pt_oracle_answer {
	enum pt_status status;  /**< PT_OK (pa valid) or PT_FAULT (vector, error_code) */
	uint64_t pa;            /**< PT_OK: the physical address accessed */
	uint8_t level;          /**< level of the leaf (PT_OK) or of the last entry read (fault) */
	uint8_t vector;         /**< PT_FAULT: 14 (#PF) or 13 (#GP) */
	uint32_t error_code;    /**< PT_FAULT: as the CPU pushed it */
	uint8_t nentries;       /**< paging-structure entries the MMU read, top level first */
	uint64_t entry_pa[5];
	uint64_t entry[5];      /**< their values */
};

struct pt_oracle;

/**
 * An oracle over physical memory `mem` holding [0, phys_size). Memory is never written
 * (Unicorn's A/D updates are absorbed). Unicorn's MAXPHYADDR is fixed: see
 * pt_oracle_maxphyaddr. Returns PT_OK or PT_EINVAL with err.
 */
enum pt_status pt_oracle_create(const struct pt_mem *mem, uint64_t phys_size,
				struct pt_oracle **oracle_ret, struct pt_error *err);
/** Free. NULL is ignored. */
void pt_oracle_destroy(struct pt_oracle *oracle);
/** The MAXPHYADDR Unicorn enforces (reserved bits above it); contexts compared must use it. */
unsigned pt_oracle_maxphyaddr(const struct pt_oracle *oracle);

/**
 * Ask Unicorn's MMU to perform `access` at `va` with the paging state `cpu` (CR0/CR3/CR4/EFER,
 * RFLAGS.AC, CPL from access). Returns PT_OK with the answer filled, or PT_EINVAL when the
 * state cannot be set up in Unicorn (answer.status then is meaningless; err says why).
 */
enum pt_status pt_oracle_probe(struct pt_oracle *oracle, const struct pt_cpu_state *cpu,
			       uint64_t va, const struct pt_access *access,
			       struct pt_oracle_answer *answer, struct pt_error *err);

/** How a walker answer compares with the oracle's. */
enum pt_diff_verdict {
	PT_DIFF_MATCH = 0,      /**< same PA, or same vector and error code */
	PT_DIFF_MISMATCH = 1,   /**< a real disagreement */
	PT_DIFF_DEVIATION = 2,  /**< differs exactly as a documented Unicorn deviation predicts */
	PT_DIFF_SKIPPED = 3,    /**< not comparable (a table not in the dump: Unicorn reads zeros) */
};

/** The documented Unicorn 2.0.1 deviations from the SDM (../shared/notes/unicorn-2.0.1.md). */
enum pt_diff_deviation {
	PT_DEV_NONE = 0,
	PT_DEV_PAE_PDPTE_RW,        /**< PAE PDPTE with reserved bits 2:1 or 8:5 (RW, U/S...) accepted */
	PT_DEV_PAE_PDPTE_RSVD_PF,   /**< reserved PDPTE bit: #PF(RSVD) at access instead of #GP at load */
	PT_DEV_PAE_PDPTE_REREAD,    /**< PDPTEs re-read on every walk instead of at CR3 load */
	PT_DEV_1G_WITHOUT_CPUID,    /**< 1 GiB pages work although CPUID says unsupported */
	PT_DEV_SMAP_IMPLICIT_AC,    /**< implicit supervisor read of a user page at CPL < 3 passes
				         SMAP when RFLAGS.AC = 1 (the SDM: implicit accesses ignore AC) */
	PT_DEV_COUNT                /**< number of values above */
};
/** A short name of a deviation. */
const char *pt_diff_deviation_name(enum pt_diff_deviation dev);

/**
 * Compare the walker's translation of `access` (status + result, from pt_translate under `ctx`)
 * with the oracle's answer. *dev_ret gets the deviation for PT_DIFF_DEVIATION.
 */
enum pt_diff_verdict pt_diff_compare(const struct pt_context *ctx, const struct pt_access *access,
				     enum pt_status walker_status,
				     const struct pt_result *walker,
				     const struct pt_oracle_answer *oracle,
				     enum pt_diff_deviation *dev_ret);

/** One probe of a differential run, with both answers. */
struct pt_diff_probe {
	uint64_t va;
	struct pt_access access;
	enum pt_status walker_status;
	bool at_cr3_load;                /**< the walker's answer is the PAE CR3-load outcome */
	struct pt_result walker;
	struct pt_oracle_answer oracle;
};

/** Totals of a differential run. */
struct pt_diff_stats {
	uint64_t probes, matches, skipped, mismatches;
	uint64_t unanswered;             /**< probes the oracle could not set up */
	uint64_t deviations[PT_DEV_COUNT];
	bool have_mismatch;
	struct pt_diff_probe first_mismatch;
	char first_unanswered[512];      /**< why the first unanswered probe failed */
	uint64_t first_unanswered_va;
	double seconds;
};

/** How to run a differential test. */
struct pt_diff_run_opts {
	uint64_t probes;
	uint64_t seed;                   /**< same seed, same probes */
	int cpl;                         /**< -1: CPL 0 and 3 mixed; else every probe at this CPL */
	/** Called about every 2 s with the probes done so far (NULL: no progress). */
	void (*progress)(void *user, uint64_t done, uint64_t total, double elapsed);
	void *user;
};

/**
 * The walker against the oracle on opts->probes probes of the address space `cpu` over `mem`:
 * addresses in the mapped (and reserved) ranges, their first and last bytes and the bytes just
 * outside them, random canonical and non-canonical addresses; reads, writes and fetches at CPL 0
 * and 3, and implicit supervisor reads; each compared with pt_diff_compare. `cpu` should carry
 * the oracle's MAXPHYADDR so both enforce the same reserved bits. Returns PT_OK (mismatches are
 * in stats) or PT_EINVAL (impossible CPU state, no memory) with err.
 */
enum pt_status pt_diff_run(const struct pt_cpu_state *cpu, const struct pt_mem *mem,
			   struct pt_oracle *oracle, const struct pt_diff_run_opts *opts,
			   struct pt_diff_stats *stats, struct pt_error *err);

/* ---- Boot images and the machine ----------------------------------------------------- */

/** Variant options an image accepts. */
enum pt_emu_option {
	PT_EMU_OPT_PHYS_LOAD = 1u << 0,   /**< --phys-load PA (2 MiB aligned; i386: 16 MiB steps) */
	PT_EMU_OPT_VIRT_OFFSET = 1u << 1, /**< --virt-offset OFF / --kaslr SEED */
	PT_EMU_OPT_LA57 = 1u << 2,        /**< --la57 */
	PT_EMU_OPT_SME = 1u << 3,         /**< --sme */
	PT_EMU_OPT_PTI = 1u << 4,         /**< --pti */
};

/** A boot image built into the binary. */
struct pt_emu_image {
	const char *name;
	const char *description;
	enum pt_mode paging;     /**< paging mode at the stop point (without --la57) */
	uint32_t options;        /**< enum pt_emu_option bits */
};

/** Number of images built in. */
size_t pt_emu_image_count(void);
/** Image `index` (0 = the default image), or NULL past the end. */
const struct pt_emu_image *pt_emu_image_at(size_t index);
/** Look an image up by name; NULL when unknown. */
const struct pt_emu_image *pt_emu_image_find(const char *name);

/** Bytes to write over physical memory after the images are placed, before the run (fault
 *  injection: a corrupt static entry, a hostile table). */
struct pt_emu_patch {
	uint64_t pa;
	uint64_t value;  /**< little-endian */
	unsigned size;   /**< 1..8 bytes */
};

struct pt_symtab;

/** The prefix of an image name that boots a real kernel: "vmlinux:PATH" (an x86-64 vmlinux ELF,
 *  e.g. extracted from a distribution's vmlinuz by ci/real-kernels fetch). The kernel's own
 *  startup_64, __startup_64 and x86_64_start_kernel run to start_kernel, entered through the
 *  built-in decompressor stage (identity map, long mode, LA57 when asked); options --phys-load
 *  and --la57. Needs `symbols` (start_kernel; a kallsyms map is enough). */
#define PT_EMU_VMLINUX_PREFIX "vmlinux:"
/** "bzimage:PATH": a real x86-64 bzImage from its 32-bit entry, through Linux's own decompressor
 *  (its KASLR, extraction and relocation), then as vmlinux:PATH to start_kernel. Options --la57,
 *  --mem, --cmdline (e.g. "nokaslr"); `symbols` must have data symbols (initial_code). */
#define PT_EMU_BZIMAGE_PREFIX "bzimage:"

/** How to boot. Zero-initialise, then set what differs from the defaults. */
struct pt_emu_boot_opts {
	const char *image;       /**< NULL: the default image; "vmlinux:PATH" for a real kernel */
	const struct pt_symtab *symbols; /**< vmlinux/bzimage: the kernel's symbols (link-time
					      addresses); must outlive the machine. Ignored otherwise. */
	const char *cmdline;     /**< bzimage: the kernel command line (NULL: empty) */
	uint64_t mem_size;       /**< 0: 256 MiB */
	uint64_t phys_load;      /**< 0: the image's default load address */
	bool has_virt_offset;
	uint64_t virt_offset;    /**< KASLR slide of the virtual addresses (2 MiB multiple) */
	bool has_kaslr_seed;
	uint64_t kaslr_seed;     /**< pick phys_load and virt_offset from this seed */
	bool la57, sme, pti;
	uint64_t insn_budget;    /**< 0: 10 million (vmlinux: 200 million) */
	const struct pt_emu_patch *patches; /**< applied in order; NULL for none */
	size_t npatches;
};

/** What a boot produced. */
struct pt_emu_boot_result {
	const struct pt_emu_image *image;
	struct pt_cpu_state cpu; /**< at the stop point */
	enum pt_mode paging;
	uint64_t phys_load;      /**< where the kernel stage was loaded */
	uint64_t phys_offset;    /**< phys_load minus the link-time physical address */
	uint64_t virt_offset;    /**< run-time minus link-time VA of _text */
	uint64_t stop_rip;
	uint64_t insns;          /**< instructions executed */
	uint32_t page_faults;    /**< vmlinux: #PFs delivered through the kernel's IDT */
	bool verify_cpu_checked; /**< vmlinux: verify_cpu's verdict was seen (EAX at __startup_64) */
	double seconds;
};

struct pt_emu_machine;

/**
 * Boot an image to its stop point. Bad options and unreadable inputs (a vmlinux or bzImage that
 * is not one, symbols of another kernel) fail with PT_EINVAL; a boot that does not reach its
 * stop point in the promised paging mode (a fault in the boot code, with its address, vector
 * and error code; the instruction budget spent; Unicorn giving up) fails with PT_FAULT. err
 * says why either way.
 */
enum pt_status pt_emu_boot(const struct pt_emu_boot_opts *opts, struct pt_emu_machine **machine_ret,
			   struct pt_emu_boot_result *result_ret, struct pt_error *err);
/** Free. NULL is ignored. */
void pt_emu_destroy(struct pt_emu_machine *machine);
/** The machine's physical memory. */
const struct pt_mem *pt_emu_mem(const struct pt_emu_machine *machine);
/** Size of physical memory. */
uint64_t pt_emu_mem_size(const struct pt_emu_machine *machine);
/** Write an ELF core (QEMU layout, QEMU + PTLAB notes) of the machine, with the VMCOREINFO a
 *  kernel would export (pt_emu_write_core_opts with the defaults). */
enum pt_status pt_emu_write_core(const struct pt_emu_machine *machine, const char *path,
				 struct pt_error *err);

/** How to write a core. Zero-initialise for the defaults. */
struct pt_emu_core_opts {
	/** Leave out the VMCOREINFO note and the virtual PT_LOAD of the kernel's root table
	 *  (a core as QEMU writes it without `-device vmcoreinfo`). */
	bool no_vmcoreinfo;
};

/**
 * Write an ELF core of the machine. By default, when the stage that ran has a kernel (not the
 * decompressor alone), the core carries a "VMCOREINFO" note with what that kernel would export
 * about this boot (OSRELEASE from its banner, PAGESIZE, SYMBOL(swapper_pg_dir) and
 * SYMBOL(_stext) at run-time addresses; x86-64: NUMBER(phys_base), SYMBOL(init_top_pgt),
 * NUMBER(pgtable_l5_enabled), KERNELOFFSET, NUMBER(sme_mask) with SME; i386 PAE:
 * CONFIG_X86_PAE=y) and, on x86-64, one more PT_LOAD whose p_vaddr is the root table's VA, as a
 * kdump /proc/vmcore has (drgn 0.0.22 reads swapper_pg_dir through it). `opts` may be NULL.
 */
enum pt_status pt_emu_write_core_opts(const struct pt_emu_machine *machine, const char *path,
				      const struct pt_emu_core_opts *opts, struct pt_error *err);
/** Print the image's System.map (link-time addresses, `nm -n` format) to `out`. */
enum pt_status pt_emu_print_symbols(const struct pt_emu_machine *machine, FILE *out);
/** Write the image's System.map (link-time addresses, as a distribution ships it). */
enum pt_status pt_emu_write_symbols(const struct pt_emu_machine *machine, const char *path,
				    struct pt_error *err);
/** The image's symbol value at link time; false when unknown. */
bool pt_emu_symbol(const struct pt_emu_machine *machine, const char *name, uint64_t *value_ret);

#ifdef __cplusplus
}
#endif
#endif
