/* SPDX-License-Identifier: MIT */
/*
 * cli/options.h: how a ptlab command reads its argv. Numbers (hex or decimal), the paging-context
 * options every dump command shares, and ONE option loop for every command:
 *
 *     static int own_option(void *state, int opt, const char *arg)   // the command's options
 *     {
 *             struct my_args *a = state;
 *             switch (opt) {
 *             case OPT_PROBES:
 *                     if (!ptl_parse_u64(arg, &a->probes))
 *                             return ptl_usage_error("my-cmd", "--probes '%s' ...", arg);
 *                     return PTL_CONTINUE;
 *             }
 *             return PTL_CONTINUE;
 *     }
 *     const struct ptl_option_spec spec = { "my-cmd", long_options, ":h", &a.ctx, own_option, &a };
 *     int ret = ptl_parse_options(&spec, argc, argv);
 *     if (ret == PTL_CONTINUE)
 *             ret = ptl_one_dump_args("my-cmd", &a.ctx, ptl_usage_my_cmd, argc, argv);
 *     if (ret != PTL_CONTINUE)
 *             return ret;          // --help printed, or a usage error
 *     ... argv[optind] is the DUMP
 *
 * Exit statuses and messages: message.h.
 */
#ifndef PTLAB_CLI_OPTIONS_H
#define PTLAB_CLI_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "message.h"
#include "progress.h"
#include "ptlab/walk.h"

/* ---- Numbers ------------------------------------------------------------------------- */

/**
 * Parse an unsigned 64-bit number: "0x" or "0X" then hex digits, or decimal digits.
 * The whole string must be the number: no sign, no spaces, no suffix; overflow is rejected.
 * Returns false (leaving *value_ret untouched) on any error.
 */
bool ptl_parse_u64(const char *text, uint64_t *value_ret);

/** Parse a size: a number (ptl_parse_u64) with an optional K, M or G suffix (powers of 1024). */
bool ptl_parse_size(const char *text, uint64_t *value_ret);

/* ---- Paging-context options shared by the dump commands -------------------------------- */

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
 * else PTL_CONTINUE (-1: go on).
 */
int ptl_one_dump_args(const char *cmd, const struct ptl_ctx_opts *opts, void (*usage)(FILE *out),
		      int argc, char *argv[]);

/* ---- The option loop ------------------------------------------------------------------ */

/** What an option handler (and the argument checks below) return to let parsing go on. */
enum { PTL_CONTINUE = -1 };

/**
 * A command's handler of one of its own options: `opt` is getopt_long's value, `arg` its
 * argument (NULL without one). Returns PTL_CONTINUE, or an exit status to stop with (after
 * printing the usage, or a usage error with ptl_usage_error).
 */
typedef int (*ptl_option_fn)(void *state, int opt, const char *arg);

/** How one command reads its options. */
struct ptl_option_spec {
	const char *cmd;                   /**< the command's name, for messages */
	const struct option *long_options; /**< getopt_long's table, ending in a zero entry */
	const char *short_options;         /**< getopt's short options; must start with ':' */
	struct ptl_ctx_opts *ctx;          /**< where the shared options go (ptl_ctx_option), or
					        NULL when the command takes none of them */
	ptl_option_fn own;                 /**< the command's own options (NULL: none) */
	void *state;                       /**< passed to `own` */
};

/**
 * Read every option of argv (argv[0] is the command's name): a shared option into spec->ctx,
 * any other to spec->own; an unknown option or a missing value is a usage error of spec->cmd.
 * Returns PTL_CONTINUE when all were read (optind is then the first operand), else the exit
 * status to return (a usage error printed, or what `own` returned).
 */
int ptl_parse_options(const struct ptl_option_spec *spec, int argc, char *argv[]);

/**
 * Report what getopt_long rejected (`opt` is '?' or ':'), as a usage error of `cmd`.
 * The option string must start with ':' and opterr must be 0.
 */
int ptl_getopt_error(const char *cmd, int opt, char *const argv[]);

/** Print `usage` on stdout and return PTL_EXIT_OK (for --help). */
int ptl_print_usage(void (*usage)(FILE *out));

/** After the options of a command that takes no operand: a usage error if one is left, else
 *  PTL_CONTINUE. */
int ptl_no_operands(const char *cmd, int argc, char *argv[]);

#endif
