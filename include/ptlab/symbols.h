/* SPDX-License-Identifier: MIT */
/*
 * ptlab symbols.h: kernel symbol tables for the kpgd finder.
 *
 * Sources, detected from the file's first bytes:
 * - System.map and /proc/kallsyms text ("ADDR TYPE NAME", kallsyms adds "\t[module]" to module
 *   symbols, which are skipped): read through mmap (or streamed from a pipe or /proc file);
 * - a vmlinux ELF (ELF32 or ELF64, little-endian): its .symtab, and the bytes of its loaded
 *   sections (pt_symtab_bytes), so the finder can compare dump contents with the image.
 *
 * Bad input never crashes: a garbage line is skipped and counted (the first one is kept, with
 * its line number, for a warning); a file that is mostly garbage, empty, or holds only zero
 * addresses (kallsyms read without privileges) fails with "FILE: line N: ...". Duplicate names
 * keep their first definition and are counted; input need not be sorted.
 */
#ifndef PTLAB_SYMBOLS_H
#define PTLAB_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptlab/dump.h"
#include "ptlab/walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where a symbol table came from. */
enum pt_symtab_format {
	PT_SYMS_NONE = 0,   /**< built with pt_symtab_create / pt_symtab_add */
	PT_SYMS_MAP = 1,    /**< System.map-style text with absolute symbols */
	PT_SYMS_KALLSYMS = 2, /**< the same text without absolute symbols (/proc/kallsyms-style) */
	PT_SYMS_ELF = 3,    /**< a vmlinux ELF's .symtab */
	PT_SYMS_MEMORY = 4, /**< the kernel's own kallsyms tables, recovered from memory */
};
/** "built", "System.map", "kallsyms", "vmlinux ELF" or "kallsyms in memory". */
const char *pt_symtab_format_name(enum pt_symtab_format format);

/** One symbol. */
struct pt_symbol {
	const char *name;   /**< NUL-terminated, owned by the table */
	uint64_t value;     /**< the address (or absolute value) as the file gives it */
	char type;          /**< nm-style letter: T t D d R r B b A a W ...; 'A'/'a' = absolute */
	uint32_t conflicts; /**< later definitions of the same name with another value */
	uint64_t line;      /**< line number in a text file (1-based), symbol index in an ELF */
};

/** Counters of one load. */
struct pt_symtab_stats {
	uint64_t lines;          /**< lines read (text), or .symtab entries (ELF) */
	uint64_t symbols;        /**< distinct names kept */
	uint64_t skipped;        /**< garbage lines (text) or unusable entries (ELF) */
	uint64_t duplicates;     /**< repeated names (the first definition is kept) */
	uint64_t modules;        /**< kallsyms module symbols ("[mod]"), ignored */
	uint64_t absolutes;      /**< absolute symbols among the kept ones */
	uint64_t first_bad_line; /**< line number of the first skipped line, 0 = none */
	char first_bad[160];     /**< why it was skipped, e.g. "line 7: no type letter" */
};

struct pt_symtab;

/**
 * Load a symbol table from `path` (System.map, kallsyms text or vmlinux ELF, auto-detected).
 * Returns PT_OK, or PT_EINVAL with err ("FILE: line N: ..." or "FILE: offset 0xN: ...").
 */
enum pt_status pt_symtab_load(const char *path, struct pt_symtab **tab_ret, struct pt_error *err);

/**
 * Load from a buffer (same detection and rules); `name` is used in messages. The buffer is
 * copied where needed: it need not outlive the table.
 */
enum pt_status pt_symtab_load_buffer(const void *data, size_t len, const char *name,
				     struct pt_symtab **tab_ret, struct pt_error *err);

/** An empty table to fill with pt_symtab_add (e.g. from VMCOREINFO). NULL on out of memory. */
struct pt_symtab *pt_symtab_create(void);
/**
 * An empty table with a name (returned by pt_symtab_path, used in messages) and the format to
 * report, to fill with pt_symtab_add. NULL on out of memory.
 */
struct pt_symtab *pt_symtab_create_named(const char *name, enum pt_symtab_format format);
/** Add a symbol; a name already present is counted as a duplicate. false on out of memory. */
bool pt_symtab_add(struct pt_symtab *tab, const char *name, uint64_t value, char type);
/** Free. NULL is ignored. */
void pt_symtab_destroy(struct pt_symtab *tab);

/** The symbol named `name` (first definition), or NULL. */
const struct pt_symbol *pt_symtab_lookup(const struct pt_symtab *tab, const char *name);
/** Convenience: the value of `name`; false when absent. */
bool pt_symtab_value(const struct pt_symtab *tab, const char *name, uint64_t *value_ret);
/** Number of symbols kept. */
size_t pt_symtab_count(const struct pt_symtab *tab);
/** Symbol `index` in file order (0..count-1), or NULL. */
const struct pt_symbol *pt_symtab_at(const struct pt_symtab *tab, size_t index);
/** Format detected at load. */
enum pt_symtab_format pt_symtab_format(const struct pt_symtab *tab);
/** The counters of the load. */
const struct pt_symtab_stats *pt_symtab_stats(const struct pt_symtab *tab);
/** The file name the table was loaded from ("" for a built table). */
const char *pt_symtab_path(const struct pt_symtab *tab);
/** ELF class of a vmlinux source (32 or 64), 0 for text. */
unsigned pt_symtab_elf_class(const struct pt_symtab *tab);

/**
 * ELF sources only: a pointer to `len` bytes of the image at link-time address `va`, when one
 * loaded section with file contents (SHT_PROGBITS, SHF_ALLOC) holds all of them; else NULL.
 */
const void *pt_symtab_bytes(const struct pt_symtab *tab, uint64_t va, size_t len);

/* ---- The kernel's own kallsyms tables, recovered from memory (walker/kallsyms.c) ---------- */

/** Where to look (may be NULL: all of memory, a running kernel's). */
struct pt_kallsyms_opts {
	uint64_t pa_start, pa_end; /**< scan [pa_start, pa_end) only; pa_end 0 = no end */
	bool link_time;            /**< the memory holds a vmlinux image, not a running kernel */
	/** Where the tables may start, when not everywhere (NULL): parts of the ranges, sorted, each
	 *  inside one range (e.g. without the all-zero pages, which hold no table start). The
	 *  checks still read anywhere in the ranges. */
	const struct pt_dump_range *starts;
	size_t nstarts;
	/** Called once the search has moved past [pa, pa + len) of a start (may be NULL): e.g.
	 *  pt_dump_release, to keep the search's memory bounded. */
	void (*passed)(void *arg, uint64_t pa, uint64_t len);
	void *passed_arg;
};

/** What pt_kallsyms_recover found, and where. */
struct pt_kallsyms_info {
	bool found;                /**< the table was recovered */
	bool run_time;             /**< addresses are run-time (relocated at boot: a dump of a running
				        kernel), else link-time (opts->link_time) */
	uint64_t num_syms;         /**< kallsyms_num_syms */
	uint64_t skipped;          /**< entries not kept (names longer than 512 characters) */
	uint64_t relative_base;    /**< kallsyms_relative_base as stored */
	unsigned ptr_size;         /**< 8 (64-bit kernel) or 4 (32-bit) */
	unsigned marker_size;      /**< 4 (u32 markers) or 8 (unsigned long, older kernels) */
	bool absolute_percpu;      /**< KALLSYMS_ABSOLUTE_PERCPU: offsets >= 0 are absolute values */
	bool has_seqs;             /**< kallsyms_seqs_of_names is present (6.2+ and backports) */
	bool offsets_after_index;  /**< 6.4+ order: offsets and relative_base after token_index */
	/** Physical addresses of the tables (pa_seqs 0 without seqs_of_names). */
	uint64_t pa_offsets, pa_relative_base, pa_num_syms, pa_names, pa_markers, pa_seqs,
		 pa_token_table, pa_token_index;
	uint64_t names_size;       /**< bytes of kallsyms_names */
	uint64_t shapes;           /**< token tables checked in full */
	uint64_t bytes_scanned;
	double seconds;
	char why[160];             /**< not found: why the last candidate failed */
};

/**
 * Find the kernel's kallsyms tables in physical memory (`mem`, holding `ranges`, sorted) and
 * decode every symbol. The locator needs no symbol: the token index, the token table, the markers,
 * num_syms and every names entry must agree with each other and the offsets must give sorted
 * addresses (see kallsyms.c). Addresses are as the tables hold them: run-time for a dump of a
 * running kernel. Returns PT_OK with *tab_ret (release with pt_symtab_destroy; format
 * PT_SYMS_MEMORY) when found, PT_OK with *tab_ret NULL and info_ret->why when not, PT_EINVAL
 * (err) for unusable inputs or out of memory. A table crossing the end of a range is not found.
 */
enum pt_status pt_kallsyms_recover(const struct pt_mem *mem, const struct pt_dump_range *ranges, size_t nranges,
				   const struct pt_kallsyms_opts *opts, struct pt_symtab **tab_ret,
				   struct pt_kallsyms_info *info_ret, struct pt_error *err);

#ifdef __cplusplus
}
#endif
#endif
