/* SPDX-License-Identifier: MIT */
/*
 * kit/kit.h: libptkit, the conformance kit (docs/conformance.md). It runs a page-table walker that
 * is not ptlab's over ptlab's cases and scores it per feature tag:
 *
 * - cases: deterministic dumps (the SDM's situations, the peers' failure classes, random tables,
 *   the tables the boot images build in Unicorn, the real tier's Debian dumps, or an exported
 *   vector corpus), each with probes whose expected answers come from libptwalk;
 * - walkers: a C adapter (include/ptlab/adapter.h) run in a child process, or a command speaking
 *   the JSON-lines protocol; a walker that crashes, hangs or talks nonsense fails the probes it
 *   was working on, and the run goes on;
 * - the report: per tag passed / failed / unsupported and the first failure with the
 *   `ptlab translate` command that replays it on the case's dump.
 *
 * The `ptlab check` and `ptlab vectors` commands are thin layers over this; the adapter loader
 * is also what the adapter fuzz target uses.
 */
#ifndef PTLAB_KIT_H
#define PTLAB_KIT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptlab/adapter.h"
#include "ptlab/dump.h"
#include "ptlab/error.h"
#include "ptlab/walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Loading a C adapter ---------------------------------------------------------------- */

/** A walker shared object loaded into this process. */
struct ptk_adapter {
	void *handle;                     /**< from dlopen */
	const struct ptlab_adapter *desc; /**< what its ptlab_adapter_v1() returned */
};

/**
 * dlopen `path` (RTLD_NOW | RTLD_LOCAL), look up ptlab_adapter_v1, call it and check the
 * descriptor: ABI number, a name, non-NULL open/translate/close. Runs the walker's own code (its
 * constructors and ptlab_adapter_v1): `ptlab check` calls it in a child process. PT_EINVAL with
 * one line in err ("PATH: no such file", "PATH: not a shared object: ...", "PATH: no symbol
 * ptlab_adapter_v1", "PATH: adapter ABI 2, this ptlab speaks ABI 1", ...).
 */
enum pt_status ptk_adapter_load(const char *path, struct ptk_adapter *adapter_ret,
				struct pt_error *err);
/** dlclose. Safe on a zeroed adapter. */
void ptk_adapter_unload(struct ptk_adapter *adapter);

/* ---- Capabilities ---------------------------------------------------------------------- */

/**
 * Parse a comma-separated list of capability names into PTLAB_CAP_* bits: "legacy32", "pae",
 * "ia32e4", "ia32e5", "rights", "pf-error", "page-size", "sme-cbit". False on an unknown name
 * (*bad_ret then points at it, may be NULL).
 */
bool ptk_caps_parse(const char *list, uint32_t *caps_ret, const char **bad_ret);
/** The name of one PTLAB_CAP_* bit ("?" for none). */
const char *ptk_cap_name(uint32_t cap);
/** Names of the bits set in caps, comma-separated, into buf. */
const char *ptk_caps_format(uint32_t caps, char *buf, size_t len);

/* ---- Cases and probes ------------------------------------------------------------------ */

/** What a probe's answer must be. */
enum ptk_expect_kind {
	PTK_EXPECT_PA = 0, /**< translates to pa (page_size) */
	PTK_EXPECT_PF = 1, /**< #PF with pf_error (SDM 4.7) */
	PTK_EXPECT_GP = 2, /**< #GP: a non-canonical address (SDM 3.3.7.1), before any walk */
};

/** The expected answer of a probe, from libptwalk. */
struct ptk_expect {
	enum ptk_expect_kind kind;
	uint32_t pf_error;   /**< PF: the error code for the probe's access */
	uint64_t pa;         /**< PA: the physical address */
	uint64_t page_size;  /**< PA: 4 KiB, 2 MiB, 4 MiB or 1 GiB */
};

/** One translation a walker is asked for. */
struct ptk_probe {
	uint64_t va;         /**< 8-byte aligned; va..va+7 lie in one page */
	uint32_t access;     /**< PTLAB_ACCESS_* */
	uint32_t tag;        /**< index into the case's tags */
	uint32_t needs;      /**< PTLAB_CAP_* the walker needs for this probe beyond the case's */
	struct ptk_expect expect;
};

/** One case: a dump, one CPU state and probes. */
struct ptk_case {
	const char *name;            /**< unique in a run, also the dump's file name stem */
	const char *const *tags;     /**< the tag names its probes use */
	size_t ntags;
	struct ptlab_cpu cpu;        /**< what walkers get (PAE: the PDPTE registers) */
	struct pt_cpu_state state;   /**< the same state for libptwalk and the dump's note */
	uint32_t needs;              /**< PTLAB_CAP_* every probe needs (the mode; SME) */
	const struct pt_mem *mem;    /**< the case's physical memory */
	const char *dump;            /**< path of its dump, or NULL until ptk_case_write */
	enum pt_dump_format format;
	const struct ptk_probe *probes;
	size_t nprobes;
};

/** The word every 8-byte physical word outside the page tables of a built case holds is its own
 *  PA XOR this (so 8 bytes read at a wrong PA name the PA that was read). */
#define PTK_DATA_TAG_XOR UINT64_C(0xda7a000000000000)

/** The tag word of physical address pa (8-byte aligned). */
static inline uint64_t ptk_data_tag(uint64_t pa)
{
	return pa ^ PTK_DATA_TAG_XOR;
}

/** Which cases to run or export. */
struct ptk_select {
	const char *tags;        /**< comma-separated fnmatch globs; NULL or "": every tag */
	const char *real_dir;    /**< directory of real dumps (NAME.core); NULL: the real tier's cache
				      when present; "": none */
	const char *vectors_dir; /**< an exported corpus instead of the built-in cases; NULL: none */
	bool builtin_only;       /**< no real.* cases (vectors export) */
};

/** An iterator over the selected cases. */
struct ptk_cases;

/** Start iterating; PT_EINVAL with err for an unreadable corpus or real directory. */
enum pt_status ptk_cases_open(const struct ptk_select *select, struct ptk_cases **cases_ret,
			      struct pt_error *err);
/**
 * The next case in *case_ret (NULL after the last), valid until the next call. PT_EINVAL with
 * err when a case cannot be built or read (a corrupt corpus, an unreadable real dump).
 */
enum pt_status ptk_cases_next(struct ptk_cases *cases, const struct ptk_case **case_ret,
			      struct pt_error *err);
/** How many cases the iterator will yield at most (for progress). */
size_t ptk_cases_total(const struct ptk_cases *cases);
/** Free. NULL is ignored. */
void ptk_cases_close(struct ptk_cases *cases);

/**
 * Write the case's dump to `path`: an ELF core with the PTLAB note (the exact CPU state, PAE
 * PDPTE registers included) and, for IA-32e cases, VMCOREINFO plus a virtual segment over the
 * root table (docs/conformance.md). Only for built cases (not real or corpus ones, whose dump is
 * already a file: PT_EINVAL).
 */
enum pt_status ptk_case_write(const struct ptk_case *c, const char *path, struct pt_error *err);

/** "legacy32", "pae", "ia32e4" or "ia32e5": the exec protocol's name of a case's paging. */
const char *ptk_paging_name(uint32_t paging);

/** Read `len` bytes at `pa` from a case's memory: 0, or -1 when some are not in the dump. The
 *  ptlab_read_phys_fn handed to adapters, with ctx = the case's mem. */
int ptk_read_phys(void *mem, uint64_t pa, void *buf, size_t len);

/* ---- Running a walker ------------------------------------------------------------------- */

/** The walker under test: a C adapter (each case in a child process) or a command. */
struct ptk_walker;

/** Options of a walker. */
struct ptk_walker_opts {
	double timeout;   /**< seconds: per case (adapter), per request (exec); 0 = 20 */
	uint32_t caps;    /**< exec: the declared rights/pf-error/page-size/sme-cbit caps */
};

/**
 * Load and check an adapter (in a child process, so a crashing constructor is reported, not
 * suffered). PT_EINVAL with a one-line err when it cannot be loaded.
 */
enum pt_status ptk_walker_adapter(const char *path, const struct ptk_walker_opts *opts,
				  struct ptk_walker **walker_ret, struct pt_error *err);
/** A command started with /bin/sh -c that speaks the exec protocol (started at the first case). */
enum pt_status ptk_walker_exec(const char *command, const struct ptk_walker_opts *opts,
			       struct ptk_walker **walker_ret, struct pt_error *err);
/** The walker's name (the adapter's name, or the command). */
const char *ptk_walker_name(const struct ptk_walker *walker);
/** Stop the walker (an exec walker gets end of input, then SIGKILL after 2 s). NULL ignored. */
void ptk_walker_close(struct ptk_walker *walker);

/* ---- The check and its report ------------------------------------------------------------ */

/** The first failure of a tag. */
struct ptk_failure {
	char case_name[96];
	uint64_t cr3, va;
	uint32_t access;          /**< PTLAB_ACCESS_* */
	char expected[160];
	char got[1024];           /**< the answer, or what went wrong (signal, timeout, stderr tail) */
	char dump[PATH_MAX];      /**< the case's dump (kept) */
	char replay[PATH_MAX + 256]; /**< `ptlab translate DUMP VA ...` */
};

/** One tag's totals. */
struct ptk_tag_score {
	char name[64];
	uint64_t passed, failed, unsupported;
	bool has_failure;
	struct ptk_failure first;
};

/** The outcome of a check. */
struct ptk_report {
	char walker[256];
	uint64_t passed, failed, unsupported;
	uint64_t cases, probes;
	double seconds;
	struct ptk_tag_score *tags;  /**< in the order tags first appeared */
	size_t ntags;
	char keep_dir[PATH_MAX];     /**< where failing cases' dumps were kept ("" when none failed) */
	char stopped[512];           /**< why the run stopped early ("" when it did not) */
};

/** How to run a check. */
struct ptk_check_opts {
	struct ptk_select select;
	const char *keep_dir;        /**< failing cases' dumps go here; NULL: ./ptlab-check-failures */
	/** Called after each case (NULL: none). */
	void (*progress)(void *user, uint64_t cases_done, uint64_t cases_total);
	void *user;
};

/**
 * Run `walker` over the selected cases and fill `report`. PT_OK when the run completed (failures
 * are in the report); PT_EINVAL with err for bad input (an unreadable corpus) or a walker that
 * cannot be started at all.
 */
enum pt_status ptk_check(struct ptk_walker *walker, const struct ptk_check_opts *opts,
			 struct ptk_report *report, struct pt_error *err);
/** "user write, rights checked" / "supervisor read, pure translation". */
const char *ptk_access_text(uint32_t access, char *buf, size_t len);
/** Free what the report holds. */
void ptk_report_deinit(struct ptk_report *report);

/* ---- The vector corpus --------------------------------------------------------------------- */

/** What an export wrote. */
struct ptk_export_stats {
	uint64_t cases, probes, bytes;
	size_t ntags;
};

/**
 * Write the selected built-in cases to `dir` (created if missing): one NAME.core per case and
 * manifest.json ("format": "ptlab-vectors/1"; docs/conformance.md). Deterministic: two exports
 * are byte-identical. PT_EINVAL with err.
 */
enum pt_status ptk_vectors_export(const char *dir, const struct ptk_select *select,
				  struct ptk_export_stats *stats_ret, struct pt_error *err);

#ifdef __cplusplus
}
#endif
#endif
