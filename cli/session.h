/* SPDX-License-Identifier: MIT */
/*
 * cli/session.h: a dump opened with its paging context, as translate, maps, diff (and every
 * command that walks a dump) use it: ptl_session_open reads the dump (walker/dump.c), takes the
 * CPU state from its note or the default, applies the context options (options.h) and folds it
 * with pt_context_init; the command then walks session.ctx over session.mem.
 */
#ifndef PTLAB_CLI_SESSION_H
#define PTLAB_CLI_SESSION_H

#include <stdint.h>

#include "json.h"
#include "options.h"
#include "ptlab/dump.h"
#include "ptlab/walk.h"

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

#endif
