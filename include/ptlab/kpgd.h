/* SPDX-License-Identifier: MIT */
/*
 * ptlab kpgd.h: find the kernel's top-level page table (the "kpgd": init_top_pgt on x86-64,
 * swapper_pg_dir on i386) in a physical memory dump, with the paging mode, the KASLR offsets
 * and the evidence for each fact checked.
 *
 * Strategies, cheapest first; nothing is believed before it is verified:
 *  1. VMCOREINFO (SYMBOL(init_top_pgt|swapper_pg_dir), NUMBER(phys_base), KERNELOFFSET,
 *     NUMBER(pgtable_l5_enabled)).
 *  2. Symbol-direct: kpgd = init_top_pgt (init_level4_pgt, swapper_pg_dir) - boundary, with
 *     boundary = startup_64 - phys_startup_64 (or __START_KERNEL_map); on i386 swapper_pg_dir -
 *     PAGE_OFFSET for 0xC0000000, 0x80000000, 0x40000000, legacy or PAE told by the table.
 *  3. KASLR: the physical offset from linux_banner found at a physical address congruent to its
 *     link address modulo the physical alignment; the virtual offset by walking the table.
 *  4. The early-boot identity map: the table in CR3 identity-maps the located kernel image and
 *     nothing maps it at its virtual address yet (the decompressor stage). CR3 is only a
 *     candidate here, checked like any other.
 *  4b. Text-only symbols (i386 without KALLSYMS_ALL: no swapper_pg_dir, no linux_banner): the
 *     kernel image is located by its own kallsyms tables, found in memory by content; the
 *     tables near them (and CR3) are candidates, verified by what they map.
 *  5. Brute force: every page of the dump is screened for top-level-table shape (tolerating
 *     corrupt and non-present entries, the SME C-bit and 5-level tables); candidates are
 *     verified with the symbols, or without symbols ranked by evidence ("Linux version" banner
 *     mapped in the kernel half, the table mapping itself through the same kernel mapping).
 *
 * Without a symbol file (or with one that lacks the table's symbol), the kernel's own kallsyms
 * tables are recovered from memory (pt_kallsyms_recover) and used as a /proc/kallsyms read from
 * the running kernel: run-time addresses, the link-time _text taken from Linux's VMCOREINFO
 * text in memory (KERNELOFFSET) when it is there, else assumed (and said so).
 *
 * Verification walks the candidate with the shared walker (pt_walk, pt_entry_decode) and needs
 * independent facts to agree: _text maps to the kernel's physical address, linux_banner maps to
 * the banner bytes at the same image offset, the table maps its own symbol address to itself,
 * the image maps linearly. A symbol file from another kernel yields "not verified".
 * The dump's CR3 is compared with the answer, never trusted: it may hold a process's table.
 */
#ifndef PTLAB_KPGD_H
#define PTLAB_KPGD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptlab/dump.h"
#include "ptlab/symbols.h"
#include "ptlab/walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/** __START_KERNEL_map: where x86-64 Linux maps its kernel image (VA = this + PA - phys_base). */
#define PT_LINUX_START_KERNEL_MAP UINT64_C(0xffffffff80000000)

/** How a kpgd was found. */
enum pt_kpgd_method {
	PT_KPGD_AUTO = 0,       /**< (input) every strategy in order */
	PT_KPGD_VMCOREINFO = 1, /**< the dump's VMCOREINFO note */
	PT_KPGD_SYMBOLS = 2,    /**< symbol-direct (LibVMI's linux_filemode_init) */
	PT_KPGD_KASLR = 3,      /**< linux_banner located physically, slide found by walking */
	PT_KPGD_IDENTITY = 4,   /**< early boot: CR3's identity map of the kernel image */
	PT_KPGD_BRUTE = 5,      /**< every page screened, candidates verified */
};
/** "auto", "vmcoreinfo", "symbols", "kaslr", "identity", "brute-force". */
const char *pt_kpgd_method_name(enum pt_kpgd_method method);
/** Parse a method name (as printed); false when unknown. */
bool pt_kpgd_method_parse(const char *name, enum pt_kpgd_method *method_ret);

/** What the finder gets. Zero-initialise, then fill; pt_kpgd_inputs_from_dump fills most. */
struct pt_kpgd_inputs {
	const struct pt_mem *mem;            /**< physical memory (required) */
	const struct pt_dump_range *ranges;  /**< what `mem` holds, sorted (required for scans) */
	size_t nranges;
	const struct pt_symtab *symbols;     /**< NULL: none (the kernel's kallsyms tables are then looked
					          for in memory, unless no_kallsyms) */
	const char *vmcoreinfo;              /**< NULL: none (key=value lines) */
	size_t vmcoreinfo_len;
	bool has_cpu;                        /**< cpu holds the dump's CPU state */
	struct pt_cpu_state cpu;             /**< CR3 is compared, never trusted; CR4/EFER give a
					          mode hint, MAXPHYADDR and the C-bit are used */
	unsigned elf_machine;                /**< 62 (x86-64), 3 (i386) or 0 (unknown): a hint */
	enum pt_kpgd_method only;            /**< PT_KPGD_AUTO, or run this strategy alone */
	unsigned max_candidates;             /**< ranked candidates kept in the result (0: 8) */
	/** Called during the brute-force scan (may be NULL): bytes screened so far, of total. */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	bool no_kallsyms;                    /**< never look for the kernel's kallsyms tables in memory */
	/** At most this many page-table walks and enumerated ranges in one search (0: no bound but
	 *  the finder's own); once spent, nothing more is walked and what is left is not verified
	 *  (the log says so). A fuzzer's per-input budget. */
	uint64_t max_work;
	/** The dump `mem` reads, when there is one (pt_kpgd_inputs_from_dump sets it; may be NULL):
	 *  the whole-dump scans then skip the file's holes and release the pages they have read,
	 *  so their memory stays bounded whatever the dump's size. */
	const struct pt_dump *dump;
};

/** Fill mem, ranges, VMCOREINFO, the CPU state and the ELF machine from an opened dump. */
void pt_kpgd_inputs_from_dump(struct pt_kpgd_inputs *in, const struct pt_dump *dump);

/** One fact checked. */
struct pt_kpgd_fact {
	bool ok;          /**< it holds */
	char text[232];   /**< what was checked, e.g. "linux_banner 0xffffffff81001000 -> 0x1001000
			       holds \"Linux version 4.14.0-ptlab ...\"" */
};

/** One kpgd with its interpretation. */
struct pt_kpgd_candidate {
	uint64_t kpgd;              /**< physical address of the top table (PML5 with LA57) */
	enum pt_mode mode;          /**< legacy, pae, ia32e or la57 */
	enum pt_kpgd_method method;
	bool verified;              /**< every required fact holds */
	bool offsets_known;         /**< virt_offset/phys_offset are meaningful (symbols were given, or
				         recovered from the kernel's kallsyms tables in memory) */
	uint64_t virt_offset;       /**< run-time VA of _text minus its link-time VA */
	uint64_t phys_offset;       /**< run-time PA of _text minus its link-time PA */
	bool link_assumed;          /**< the link-time _text was assumed (a kallsyms-style map, or the
				         tables recovered from memory with no KERNELOFFSET there) */
	uint64_t text_va, text_pa;  /**< run-time _text (offsets_known), or the banner's mapping */
	uint64_t phys_base;         /**< __pa(x) = x - __START_KERNEL_map + phys_base (64-bit) */
	uint8_t cbit;               /**< SME C-bit position used (0 = none) */
	bool has_user_pgd;          /**< PTI: the user copy of the table */
	uint64_t user_pgd;
	bool has_direct_map;        /**< the direct map (page_offset_base) was found */
	uint64_t direct_map;
	int score;                  /**< rank: facts that hold, weighted */
	struct pt_kpgd_fact *facts; /**< the evidence, in the order checked */
	size_t nfacts;
};

/** How the dump's CR3 relates to the answer. */
enum pt_kpgd_cr3 {
	PT_KPGD_CR3_UNKNOWN = 0,   /**< no CPU state, or no answer */
	PT_KPGD_CR3_SAME = 1,      /**< CR3 is the kpgd */
	PT_KPGD_CR3_USER_COPY = 2, /**< CR3 is the kpgd's PTI user copy */
	PT_KPGD_CR3_PROCESS = 3,   /**< another table that shares the kernel half (a process's) */
	PT_KPGD_CR3_OTHER = 4,     /**< another table */
};
/** "unknown", "same", "user-copy", "process", "other". */
const char *pt_kpgd_cr3_name(enum pt_kpgd_cr3 rel);

/** What the finder found. */
struct pt_kpgd_result {
	bool found;                 /**< candidates[0] is the answer (verified or best ranked) */
	bool verified;              /**< candidates[0].verified */
	struct pt_kpgd_candidate *candidates; /**< best first */
	size_t ncandidates;
	enum pt_kpgd_cr3 cr3_relation;
	uint64_t cr3;               /**< the dump's CR3 (table address part) when has_cpu */
	char **log;                 /**< one line per strategy tried, what it concluded */
	size_t nlog;
	uint64_t bytes_scanned;     /**< brute force: bytes of the dump screened */
	uint64_t screened;          /**< pages that passed the screen */
	double scan_seconds;
	bool kallsyms_searched;     /**< the kernel's kallsyms tables were looked for in memory */
	struct pt_kallsyms_info kallsyms;  /**< what the search found (kallsyms.found) and where */
	struct pt_symtab *kallsyms_symtab; /**< the recovered table (run-time addresses; owned by the
					        result, freed by pt_kpgd_result_deinit), or NULL */
	bool vmcoreinfo_in_memory;  /**< Linux's VMCOREINFO text (vmcoreinfo_data) found in memory and
				         consistent with the recovered table */
	uint64_t vmcoreinfo_pa;     /**< where */
};

/**
 * Find the kpgd. Returns PT_OK (see result->found / verified; the result must be released with
 * pt_kpgd_result_deinit) or PT_EINVAL for unusable inputs (err says why).
 */
enum pt_status pt_kpgd_find(const struct pt_kpgd_inputs *in, struct pt_kpgd_result *result_ret,
			    struct pt_error *err);
/** Free what a result holds. */
void pt_kpgd_result_deinit(struct pt_kpgd_result *result);

/**
 * The brute-force screen alone, over `len` bytes of page-aligned memory at physical address
 * `pa`: calls `found(arg, page_pa)` for each 4 KiB page whose entry 511 looks like a present
 * table pointer into [0, phys_end) (C-bit tolerated) and whose 512 entries are mostly
 * plausible. Exposed for the bench. Returns the number of pages that passed.
 */
uint64_t pt_kpgd_screen64(const uint8_t *data, uint64_t pa, uint64_t len, uint64_t phys_end,
			  void (*found)(void *arg, uint64_t page_pa), void *arg);

#ifdef __cplusplus
}
#endif
#endif
