/* SPDX-License-Identifier: MIT */
/*
 * cli/util.h: what the `ptlab` commands share: number parsing, a small JSON writer,
 * one-line error messages, the paging-context options and loading a dump into a context.
 *
 * Exit statuses follow design.md: 0 success, 1 the check or lookup failed, 2 bad usage or
 * unreadable input.
 */
#ifndef PTLAB_CLI_UTIL_H
#define PTLAB_CLI_UTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "progress.h"
#include "ptlab/dump.h"
#include "ptlab/walk.h"

/** Exit statuses of every command. */
enum ptl_exit {
	PTL_EXIT_OK = 0,     /**< success */
	PTL_EXIT_FAILED = 1, /**< a fault, a missing table, a failed check */
	PTL_EXIT_USAGE = 2,  /**< bad usage or unreadable input */
};

/* ---- Messages ------------------------------------------------------------------------- */

/** Print "ptlab: MESSAGE" as one line on stderr. */
void ptl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Print "ptlab: warning: MESSAGE" as one line on stderr. */
void ptl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/**
 * Print "ptlab: CMD: MESSAGE (see 'ptlab CMD --help')" as one line on stderr and return
 * PTL_EXIT_USAGE, so a command can `return ptl_usage_error(...)`.
 */
int ptl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/**
 * Report what getopt_long rejected (`opt` is '?' or ':'), as a usage error of `cmd`.
 * The option string must start with ':' and opterr must be 0.
 */
int ptl_getopt_error(const char *cmd, int opt, char *const argv[]);

/* ---- Numbers ------------------------------------------------------------------------- */

/**
 * Parse an unsigned 64-bit number: "0x" or "0X" then hex digits, or decimal digits.
 * The whole string must be the number: no sign, no spaces, no suffix; overflow is rejected.
 * Returns false (leaving *value_ret untouched) on any error.
 */
bool ptl_parse_u64(const char *text, uint64_t *value_ret);

/** Short name of a page size: "4K", "2M", "4M", "1G", else the size in bytes as hex. */
const char *ptl_page_size_name(uint64_t page_size, char *buf, size_t buflen);

/** The #PF error-code bits as names ("P W U RSVD ID PK"), or "none". */
const char *ptl_pf_error_names(uint32_t error_code, char *buf, size_t buflen);

/* ---- JSON writer --------------------------------------------------------------------- */

/** Deepest nesting the writer tracks. */
#define PTL_JSON_MAX_DEPTH 16

/** A streaming writer of one compact JSON value. Call in document order; keys inside objects. */
struct ptl_json {
	FILE *out;
	unsigned depth;                      /**< open objects/arrays */
	bool has_items[PTL_JSON_MAX_DEPTH];  /**< the container at this depth has a member already */
	bool after_key;                      /**< a key was written, its value comes next */
};

/** Start writing to `out`. */
void ptl_json_init(struct ptl_json *json, FILE *out);
void ptl_json_object_begin(struct ptl_json *json);
void ptl_json_object_end(struct ptl_json *json);
void ptl_json_array_begin(struct ptl_json *json);
void ptl_json_array_end(struct ptl_json *json);
/** The key of the next member (escaped like any string). */
void ptl_json_key(struct ptl_json *json, const char *key);
/** A string, escaped per RFC 8259; invalid UTF-8 bytes become U+FFFD. */
void ptl_json_string(struct ptl_json *json, const char *text);
/** An address or other 64-bit value as a "0x..." string. */
void ptl_json_hex(struct ptl_json *json, uint64_t value);
/** An unsigned number. */
void ptl_json_u64(struct ptl_json *json, uint64_t value);
void ptl_json_bool(struct ptl_json *json, bool value);
void ptl_json_null(struct ptl_json *json);
/**
 * The member "fault": null unless `status` is PT_FAULT, else {"vector","error_code","level",
 * "entry_pa","entry" (null for a #GP before the walk),"reason" (#GP only),"at_cr3_load"}.
 */
void ptl_json_fault(struct ptl_json *json, enum pt_status status, const struct pt_fault *fault,
		    bool at_cr3_load);
/** End the document with a newline (all containers must be closed). */
void ptl_json_finish(struct ptl_json *json);

/* ---- Paging-context options shared by translate and maps ------------------------------ */

/** getopt_long values of the options every dump command takes. */
enum ptl_opt {
	PTL_OPT_HELP = 'h',
	PTL_OPT_JSON = 256,
	PTL_OPT_CR3,
	PTL_OPT_MODE,
	PTL_OPT_CR0,
	PTL_OPT_CR4,
	PTL_OPT_EFER,
	PTL_OPT_MAXPHYADDR,
	PTL_OPT_CPL,
	PTL_OPT_RAW_DUMP,
	PTL_OPT_CBIT,
	PTL_OPT_PKRU,
	PTL_OPT_RFLAGS,
	PTL_OPT_PROGRESS,
	PTL_OPT_NO_PROGRESS,
	PTL_OPT_COMMAND = 512, /**< first value a command may use for its own options */
};

/** The long options of enum ptl_opt, to put first in a command's option array. */
#define PTL_CONTEXT_LONG_OPTIONS                                              \
	{ "help", no_argument, NULL, PTL_OPT_HELP },                          \
	{ "json", no_argument, NULL, PTL_OPT_JSON },                          \
	{ "cr3", required_argument, NULL, PTL_OPT_CR3 },                      \
	{ "mode", required_argument, NULL, PTL_OPT_MODE },                    \
	{ "cr0", required_argument, NULL, PTL_OPT_CR0 },                      \
	{ "cr4", required_argument, NULL, PTL_OPT_CR4 },                      \
	{ "efer", required_argument, NULL, PTL_OPT_EFER },                    \
	{ "maxphyaddr", required_argument, NULL, PTL_OPT_MAXPHYADDR },        \
	{ "cpl", required_argument, NULL, PTL_OPT_CPL },                      \
	{ "raw-dump", no_argument, NULL, PTL_OPT_RAW_DUMP },                  \
	{ "cbit", required_argument, NULL, PTL_OPT_CBIT },                    \
	{ "pkru", required_argument, NULL, PTL_OPT_PKRU },                    \
	{ "rflags", required_argument, NULL, PTL_OPT_RFLAGS },                \
	{ "progress", no_argument, NULL, PTL_OPT_PROGRESS },                  \
	{ "no-progress", no_argument, NULL, PTL_OPT_NO_PROGRESS }

/** Usage text of the shared options, for a command's --help. */
extern const char ptl_context_usage[];

/** Which context options were given, and their values. */
struct ptl_ctx_opts {
	bool help, json, raw_dump;
	bool has_cr3, has_mode, has_cr0, has_cr4, has_efer, has_maxphyaddr, has_cpl;
	bool has_cbit, has_pkru, has_rflags;
	uint64_t cr3, cr0, cr4, efer, pkru, rflags;
	uint8_t cbit;
	enum pt_mode mode;
	uint8_t maxphyaddr;
	uint8_t cpl;
	enum ptl_progress_mode progress; /**< --progress / --no-progress (default: on a terminal) */
};

/**
 * Handle one getopt_long result if it is a shared option. Returns 1 when handled, 0 when `opt`
 * is not a shared option, -1 after printing a usage error (bad value).
 */
int ptl_ctx_option(const char *cmd, struct ptl_ctx_opts *opts, int opt, const char *arg);

/**
 * The end of a one-DUMP command's option parsing: with --help print `usage` and return
 * PTL_EXIT_OK; without exactly one argument left (argv[optind] = DUMP) return a usage error;
 * else -1 (go on).
 */
int ptl_one_dump_args(const char *cmd, const struct ptl_ctx_opts *opts, void (*usage)(FILE *out),
		      int argc, char *argv[]);

/* ---- A dump opened with its paging context -------------------------------------------- */

/** A dump, the CPU state chosen for it and the folded context. */
struct ptl_session {
	const char *path;
	struct pt_dump *dump;
	const struct pt_mem *mem;
	enum pt_cpu_source source;   /**< where the CPU state came from before the overrides */
	struct pt_cpu_state cpu;     /**< the state in effect */
	uint8_t cpl;                 /**< privilege of accesses (0 unless --cpl / --user) */
	struct pt_context ctx;
	/** pt_context_init's outcome: PT_OK, PT_FAULT (#GP from a PAE PDPTE, init_fault) or
	 *  PT_NOT_IN_DUMP (the PAE PDPT, init_table_pa). Translations report it per address. */
	enum pt_status init_status;
	struct pt_fault init_fault;
	uint64_t init_table_pa;
};

/**
 * Open the dump at `path` and build its context: the dump's CPU note, else the default
 * (IA-32e, WP, NXE, MAXPHYADDR 52); then --mode; then --cr0/--cr4/--efer/--maxphyaddr/--cpl/
 * --cbit/--pkru/--rflags;
 * then --cr3. Returns PTL_EXIT_OK, or PTL_EXIT_USAGE after printing one line (unreadable dump,
 * no CPU state and no --cr3, impossible CPU state naming the register).
 */
int ptl_session_open(struct ptl_session *session, const char *path, const struct ptl_ctx_opts *opts);
/**
 * Warn once (one line) when an outside reader found pages it could not read (a corrupt
 * compressed page of a kdump file: read as not in dump), naming the first one's file offset.
 */
void ptl_warn_read_errors(const struct pt_dump *dump);
/** Close the dump (after ptl_warn_read_errors). Safe on a zeroed or closed session. */
void ptl_session_close(struct ptl_session *session);
/** "ptlab", "qemu" or "none": where the session's CPU state came from. */
const char *ptl_cpu_source_name(enum pt_cpu_source source);

/**
 * Write the members "dump" (the path), "format" ("raw", "elf", "lime") and
 * "context":{"mode","cr0","cr3","cr4","efer","maxphyaddr","cpl","cpu_source"}, the session's
 * paging context (inside an open object).
 */
void ptl_json_context(struct ptl_json *json, const struct ptl_session *session);

/* ---- Commands (one file each) ---------------------------------------------------------- */

/** `ptlab translate`: argv[0] is "translate". Returns an exit status. */
int ptl_cmd_translate(int argc, char *argv[]);
/** Print translate's usage to `out`. */
void ptl_usage_translate(FILE *out);
/** `ptlab demo`: the main job on the built-in default image. */
int ptl_cmd_demo(int argc, char *argv[]);
void ptl_usage_demo(FILE *out);
/** `ptlab images`: the boot images built in. */
int ptl_cmd_images(int argc, char *argv[]);
void ptl_usage_images(FILE *out);
/** `ptlab boot`: run a boot image in Unicorn, write its dump and System.map. */
int ptl_cmd_boot(int argc, char *argv[]);
void ptl_usage_boot(FILE *out);
/** `ptlab maps`: argv[0] is "maps". Returns an exit status. */
int ptl_cmd_maps(int argc, char *argv[]);
/** Print maps' usage to `out`. */
void ptl_usage_maps(FILE *out);
/** `ptlab find-kpgd`: the kernel's top-level page table and offsets. Returns an exit status. */
int ptl_cmd_find_kpgd(int argc, char *argv[]);
/** Print find-kpgd's usage to `out`. */
void ptl_usage_find_kpgd(FILE *out);
/** `ptlab convert`: write a dump as kdump-compressed (zlib, lzo, snappy, zstd) or an ELF core. */
int ptl_cmd_convert(int argc, char *argv[]);
/** Print convert's usage to `out`. */
void ptl_usage_convert(FILE *out);
/** `ptlab diff`: the walker against Unicorn's MMU (the oracle). */
int ptl_cmd_diff(int argc, char *argv[]); void ptl_usage_diff(FILE *out);
/** `ptlab check`: a walker that is not ptlab's, over the conformance kit's cases. */
int ptl_cmd_check(int argc, char *argv[]);
void ptl_usage_check(FILE *out);
/** `ptlab vectors export`: the conformance cases as files for other projects' tests. */
int ptl_cmd_vectors(int argc, char *argv[]);
void ptl_usage_vectors(FILE *out);

#endif
