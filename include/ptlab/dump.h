/* SPDX-License-Identifier: MIT */
/*
 * ptlab dump.h: physical-memory dumps. Reads raw flat images, ELF cores (QEMU's
 * dump-guest-memory, kdump/makedumpfile vmcores; ELF32 and ELF64, EM_X86_64 and EM_386)
 * and LiME. Files are mapped (mmap), never read whole. Memory missing from a dump is
 * "not in dump", distinct from zero. Writes ELF cores in QEMU's layout plus a PTLAB note.
 *
 * Formats libptwalk does not decode itself (kdump-compressed files, whose pages need zlib,
 * lzo, snappy or zstd) are read by an outside reader that hands its memory, ranges and notes
 * to pt_dump_open_reader; the result is a struct pt_dump like any other (libptkdump,
 * ptlab/kdump.h, does this through libkdumpfile). pt_dump_open recognises those formats by
 * their magic and says which library opens them.
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
	PT_DUMP_KDUMP = 3,     /**< kdump-compressed ("KDUMP   "): read by an outside reader (libptkdump) */
	PT_DUMP_FLATTENED = 4, /**< makedumpfile's flattened stream: recognised, never read */
};
/** "raw", "elf", "lime", "kdump" or "flattened". */
const char *pt_dump_format_name(enum pt_dump_format format);
/**
 * The format the first bytes of a file say (`len` of them at `head`): ELF, LiME, kdump
 * ("KDUMP   "), flattened ("makedumpfile"), else raw.
 */
enum pt_dump_format pt_dump_detect(const void *head, size_t len);

/** One contiguous physical range held by the dump. */
struct pt_dump_range {
	uint64_t pa;       /**< first physical address */
	uint64_t size;     /**< bytes */
	uint64_t file_off; /**< where the bytes start in the file, or PT_DUMP_NO_FILE_OFF */
};
/** pt_dump_range.file_off of bytes not stored flat in the file (kdump-compressed pages). */
#define PT_DUMP_NO_FILE_OFF UINT64_MAX

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
 * and offset. A kdump-compressed file fails with PT_EINVAL saying it needs libptkdump
 * (pt_kdump_open_dump opens every format); a flattened stream fails with the
 * `makedumpfile -R` command that rebuilds the standard file. opts may be NULL.
 */
enum pt_status pt_dump_open(const char *path, const struct pt_dump_open_opts *opts,
			    struct pt_dump **dump_ret, struct pt_error *err);
/** Unmap and free (an outside reader's close hook is called). NULL is ignored. */
void pt_dump_close(struct pt_dump *dump);

/**
 * What an outside reader hands to pt_dump_open_reader: a dump whose bytes libptwalk does not
 * decode itself. The struct pt_dump made from it answers every function of this header, so the
 * walker, enumeration and the kpgd finder read it unchanged.
 */
struct pt_dump_reader {
	enum pt_dump_format format;         /**< what was read (PT_DUMP_KDUMP) */
	struct pt_mem mem;                  /**< its memory, as struct pt_mem says: bytes valid until
					         close, NULL for bytes not in the dump (or unreadable) */
	const struct pt_dump_range *ranges; /**< sorted, not overlapping (checked); copied */
	size_t nranges;
	unsigned machine;                   /**< 62 (EM_X86_64), 3 (EM_386) or 0 (unknown) */
	const void *notes;                  /**< ELF notes as a PT_NOTE segment holds them ("QEMU",
					         "PTLAB", "VMCOREINFO", ...), read as an ELF core's;
					         copied; NULL when none */
	size_t notes_size;
	uint64_t notes_file_off;            /**< where the notes are in the file (for messages) */
	const char *vmcoreinfo;             /**< VMCOREINFO text kept outside the notes, used when no
					         note has one; copied; NULL when none */
	size_t vmcoreinfo_len;
	/** Pages found unreadable since opening (e.g. corrupt compressed data): their count, and
	 *  the first one's message ("FILE: offset 0xN: ...") in *first_ret. NULL: never any. */
	size_t (*read_errors)(void *opaque, struct pt_error *first_ret);
	/** Release mem.opaque. Called exactly once: by pt_dump_close, or by pt_dump_open_reader
	 *  when it fails. NULL: nothing to release. */
	void (*close)(void *opaque);
};

/**
 * Make a struct pt_dump over an outside reader's memory. The ranges, notes and VMCOREINFO are
 * copied; the notes are parsed as an ELF core's are (CPU state from a QEMU or PTLAB note,
 * VMCOREINFO), with errors at notes_file_off + their offset. On any result the reader belongs to
 * the dump (closed on failure). Returns PT_OK or PT_EINVAL (err names the file and offset).
 */
enum pt_status pt_dump_open_reader(const char *path, const struct pt_dump_reader *reader,
				   struct pt_dump **dump_ret, struct pt_error *err);
/**
 * Pages an outside reader found unreadable since opening (0 for every format libptwalk reads
 * itself): their count, and the first one's message in *first_ret (may be NULL).
 */
size_t pt_dump_read_errors(const struct pt_dump *dump, struct pt_error *first_ret);
/** The dump's ELF notes as stored (every PT_NOTE segment in file order), or NULL. */
const void *pt_dump_notes(const struct pt_dump *dump, size_t *size_ret);

/** The reader over the dump's physical memory, valid until pt_dump_close. */
const struct pt_mem *pt_dump_mem(const struct pt_dump *dump);
/** Format of the dump. */
enum pt_dump_format pt_dump_format(const struct pt_dump *dump);
/** The path it was opened from. */
const char *pt_dump_path(const struct pt_dump *dump);
/** e_machine for ELF dumps (62 = EM_X86_64, 3 = EM_386), the outside reader's machine for
 *  theirs, 0 otherwise. */
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

/* ---- Scanning a whole dump (walker/dump_scan.c) ----------------------------------------- */

/**
 * Where [pa, pa + len), which must lie in one of the dump's ranges, can hold nonzero bytes: on
 * return [*start_ret, *end_ret) is its first stretch that the file stores as data, and every
 * byte of [pa, *start_ret) reads as zero (a hole of a sparse file, found with lseek SEEK_DATA /
 * SEEK_HOLE, never read). Returns false when all of it is holes. Where that cannot be known (an
 * outside reader's dump, a file system without SEEK_DATA) the answer is [pa, pa + len) whole.
 */
bool pt_dump_data_extent(const struct pt_dump *dump, uint64_t pa, uint64_t len, uint64_t *start_ret,
			 uint64_t *end_ret);

/**
 * Copy [pa, pa + len), which must lie in one of the dump's ranges, into `buf`: read from the file
 * (pread) when the dump's bytes are flat in it, so that nothing stays mapped; else copied from
 * its memory. Returns false when the bytes cannot be had.
 */
bool pt_dump_read(const struct pt_dump *dump, uint64_t pa, void *buf, size_t len);

/**
 * A scan is done with [pa, pa + len) for now: the pages of the mapping wholly inside it are
 * dropped from memory (MADV_DONTNEED; the mapping is read-only, so they are read from the file
 * again when touched, and pointers into it stay valid). Keeps a scan over a dump larger than
 * memory bounded. No effect for an outside reader's dump or memory not mapped from the file.
 */
void pt_dump_release(const struct pt_dump *dump, uint64_t pa, uint64_t len);

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
