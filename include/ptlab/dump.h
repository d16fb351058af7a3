/* SPDX-License-Identifier: MIT */
/*
 * ptlab dump.h: physical-memory dumps. Reads raw flat images, ELF cores (QEMU's
 * dump-guest-memory, kdump/makedumpfile vmcores; ELF32 and ELF64, EM_X86_64 and EM_386)
 * and LiME. Files are mapped (mmap), never read whole. Memory missing from a dump is
 * "not in dump", distinct from zero. Writes ELF cores in QEMU's layout plus a PTLAB note.
 */
#ifndef PTLAB_DUMP_H
#define PTLAB_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptlab/error.h"
#include "ptlab/walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Formats a dump can have. */
enum pt_dump_format {
	PT_DUMP_RAW = 0,  /**< flat physical image starting at PA 0 */
	PT_DUMP_ELF = 1,  /**< ELF core: PT_LOAD p_paddr = physical address */
	PT_DUMP_LIME = 2, /**< LiME: "EMiL" range headers */
};
/** "raw", "elf" or "lime". */
const char *pt_dump_format_name(enum pt_dump_format format);

/** One contiguous physical range held by the dump. */
struct pt_dump_range {
	uint64_t pa;       /**< first physical address */
	uint64_t size;     /**< bytes */
	uint64_t file_off; /**< where the bytes start in the file */
};

/** Where the CPU state came from. */
enum pt_cpu_source {
	PT_CPU_NONE = 0,  /**< no CPU state in the dump */
	PT_CPU_QEMU = 1,  /**< QEMU note: CR0..CR4, RFLAGS; EFER, MAXPHYADDR inferred */
	PT_CPU_PTLAB = 2, /**< PTLAB note: everything exact */
};

/** An opened dump. */
struct pt_dump;

/** How to open a dump. */
struct pt_dump_open_opts {
	bool force_raw; /**< treat the file as a raw image whatever its magic says */
};

/**
 * Open and validate a dump, detecting the format from its magic (ELF, LiME, else raw).
 * Headers that lie (segment past end of file, overlapping segments with different bytes,
 * absurd counts or sizes, truncated notes) fail with PT_EINVAL and err naming the file
 * and offset. opts may be NULL.
 */
enum pt_status pt_dump_open(const char *path, const struct pt_dump_open_opts *opts,
			    struct pt_dump **dump_ret, struct pt_error *err);
/** Unmap and free. NULL is ignored. */
void pt_dump_close(struct pt_dump *dump);

/** The reader over the dump's physical memory, valid until pt_dump_close. */
const struct pt_mem *pt_dump_mem(const struct pt_dump *dump);
/** Format of the dump. */
enum pt_dump_format pt_dump_format(const struct pt_dump *dump);
/** The path it was opened from. */
const char *pt_dump_path(const struct pt_dump *dump);
/** e_machine for ELF dumps (62 = EM_X86_64, 3 = EM_386), 0 otherwise. */
unsigned pt_dump_elf_machine(const struct pt_dump *dump);
/** The physical ranges, sorted by address, not overlapping. */
const struct pt_dump_range *pt_dump_ranges(const struct pt_dump *dump, size_t *count_ret);
/** One past the highest physical address held. */
uint64_t pt_dump_phys_end(const struct pt_dump *dump);

/**
 * The CPU state recorded in the dump (first CPU). Returns where it came from; with PT_CPU_NONE
 * *cpu_ret is left untouched. For a QEMU note, EFER is inferred: with CR0.PG and CR4.PAE set,
 * NXE, plus LMA|LME when the ELF machine is EM_X86_64; MAXPHYADDR is 52 unless known; and
 * pdpte_written_by_dumper says QEMU sets the Accessed bit in PAE PDPTEs (PT_QEMU_PDPTE_A).
 */
enum pt_cpu_source pt_dump_cpu(const struct pt_dump *dump, struct pt_cpu_state *cpu_ret);

/** The VMCOREINFO note's text (key=value lines), or NULL. *len_ret gets its length. */
const char *pt_dump_vmcoreinfo(const struct pt_dump *dump, size_t *len_ret);
/**
 * Look up KEY in VMCOREINFO ("SYMBOL(init_top_pgt)", "KERNELOFFSET", "NUMBER(phys_base)"...).
 * Copies the value (NUL-terminated) into buf; returns false when absent or no VMCOREINFO.
 */
bool pt_dump_vmcoreinfo_get(const struct pt_dump *dump, const char *key, char *buf, size_t buflen);

/* ---- Writing ELF cores (used by emu and by tests) -------------------------------------- */

/** One physical range to write. */
struct pt_core_segment {
	uint64_t pa;
	uint64_t size;
	const void *data;
};

/** What to write into an ELF core. */
struct pt_core_desc {
	unsigned machine;             /**< 62 (EM_X86_64) or 3 (EM_386); the file is ELF64 either way */
	const struct pt_core_segment *segments;
	size_t nsegments;
	const struct pt_cpu_state *cpu; /**< NULL: no QEMU/PTLAB notes */
	bool ptlab_note;              /**< also write the PTLAB note (EFER, MAXPHYADDR, C-bit, PKRU) */
	const char *vmcoreinfo;       /**< NULL, or VMCOREINFO text for a kdump-style note */
	/**
	 * When nonzero: one more PT_LOAD with p_vaddr = root_vaddr and p_paddr = root_paddr, 4 KiB,
	 * over the same file bytes as the physical segment holding root_paddr (nothing is written
	 * twice). A kdump /proc/vmcore has such virtual segments; drgn 0.0.22 reads the kernel's top
	 * table (SYMBOL(swapper_pg_dir) in VMCOREINFO) through one before it can walk anything else.
	 * root_paddr must be 4 KiB aligned and its page inside one segment.
	 */
	uint64_t root_vaddr;
	uint64_t root_paddr;
};

/** What a Linux kernel exports in VMCOREINFO that a reader of the core needs to translate
 *  kernel addresses (crash_save_vmcoreinfo and x86's arch_crash_save_vmcoreinfo). */
struct pt_vmcoreinfo_fields {
	const char *osrelease;    /**< OSRELEASE, e.g. "6.1.0-56-amd64" (required) */
	uint64_t page_size;       /**< PAGESIZE (0: 4096) */
	uint64_t swapper_pg_dir;  /**< SYMBOL(swapper_pg_dir): VA of the kernel's top table */
	uint64_t init_top_pgt;    /**< SYMBOL(init_top_pgt) (x86-64; 0: left out) */
	uint64_t stext;           /**< SYMBOL(_stext) (0: left out) */
	bool x86_64;              /**< x86-64: NUMBER(phys_base), KERNELOFFSET, pgtable_l5_enabled */
	bool la57;                /**< NUMBER(pgtable_l5_enabled)=1 (x86-64 with 5-level paging) */
	bool x86_pae;             /**< i386 PAE kernel: CONFIG_X86_PAE=y */
	int64_t phys_base;        /**< NUMBER(phys_base): signed decimal, as Linux prints it */
	uint64_t kernel_offset;   /**< KERNELOFFSET: the KASLR slide (hex without 0x) */
};

/**
 * Format VMCOREINFO text ("KEY=value" lines) as a Linux kernel writes it: SYMBOL() and
 * KERNELOFFSET in hex without 0x, NUMBER() in signed decimal. Writes at most `len` bytes
 * (NUL-terminated when len > 0) and returns the length the whole text needs, snprintf-style.
 */
size_t pt_vmcoreinfo_format(const struct pt_vmcoreinfo_fields *fields, char *buf, size_t len);

/** Write an ELF core in QEMU's dump-guest-memory layout. Returns PT_OK or PT_EINVAL (err). */
enum pt_status pt_core_write(const char *path, const struct pt_core_desc *desc, struct pt_error *err);

#ifdef __cplusplus
}
#endif
#endif
