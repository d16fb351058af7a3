/* SPDX-License-Identifier: MIT */
/*
 * kit/kit_internal.h: what the files of libptkit share (never included outside kit/ and its
 * tests): the sparse physical memory of a built case, the case builder the case files use, the
 * case catalogue, and the answer a walker gave.
 */
#ifndef PTLAB_KIT_INTERNAL_H
#define PTLAB_KIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit.h"

/* ---- Sparse physical memory ---------------------------------------------------------------- */

/** 4 KiB pages at arbitrary physical addresses (a case's dump). Table pages start zeroed; data
 *  pages hold the tag word of every 8-byte address (ptk_data_tag). */
struct kit_pages {
	struct pt_mem mem;   /**< first member: the reader over the pages (within one page) */
	uint64_t *keys;      /**< page frame numbers, KIT_NO_PAGE for an empty slot */
	uint8_t **data;      /**< the pages, parallel to keys */
	uint8_t *is_table;   /**< 1: a page-table page */
	size_t cap, count;
};
#define KIT_NO_PAGE UINT64_MAX

void kit_pages_init(struct kit_pages *pages);
void kit_pages_deinit(struct kit_pages *pages);
/** The page holding pa, or NULL. */
uint8_t *kit_pages_find(const struct kit_pages *pages, uint64_t pa);
/** The page holding pa as a table page (created zeroed when absent). */
uint8_t *kit_pages_table(struct kit_pages *pages, uint64_t pa);
/** The page holding pa; created as a tagged data page when absent. */
uint8_t *kit_pages_data(struct kit_pages *pages, uint64_t pa);
/** The page addresses in increasing order (malloc'd; *count_ret of them). */
uint64_t *kit_pages_sorted(const struct kit_pages *pages, size_t *count_ret);

/* ---- Deterministic randomness ------------------------------------------------------------- */

/** splitmix64: a fixed seed gives the same stream on every host. */
static inline uint64_t kit_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}
/** Uniform in [0, n) (n > 0; the bias is irrelevant here). */
static inline uint64_t kit_below(uint64_t *state, uint64_t n)
{
	return kit_rand(state) % n;
}

/* ---- A case --------------------------------------------------------------------------------- */

/** The most tags one case's probes use. */
#define KIT_MAX_TAGS 16

/** What the author of a hand-built probe says its answer is (checked against libptwalk by the
 *  kit's tests, so the cases cannot drift silently). */
struct kit_intent {
	enum {
		KIT_INTENT_DERIVE = 0, /**< no stated answer: libptwalk's (random, boot, real cases) */
		KIT_INTENT_PA,
		KIT_INTENT_PF,
		KIT_INTENT_GP,
	} kind;
	uint32_t pf_error;
	uint64_t pa, page_size;
};

/** A case and everything it owns. */
struct kit_case {
	struct ptk_case pub;
	char name[96];
	char dump_path[PATH_MAX];
	const char *tag_names[KIT_MAX_TAGS];
	char *owned_tags[KIT_MAX_TAGS];  /**< tag names copied from a corpus or a file name */
	struct kit_pages pages;          /**< built cases */
	struct pt_dump *dump;            /**< real and corpus cases: the opened file */
	struct ptk_probe *probes;
	struct kit_intent *intents;      /**< built cases: one per probe */
	size_t nprobes, cap;
	uint64_t root_vaddr;             /**< IA-32e built cases: SYMBOL(swapper_pg_dir) */
	size_t dropped;                  /**< probes left out (their walk needs memory not in the dump) */
	uint64_t *decoys;                /**< built cases: PAs that get a tagged page (kb_decoy) */
	size_t ndecoys, decoy_cap;
};

/** A new empty built case over sparse pages (aborts when out of memory). */
struct kit_case *kit_case_new(const char *name);
/**
 * Compute every probe's expected answer with libptwalk over the case's memory (dropping derived
 * probes whose walk needs memory the case lacks; a stated one that does is a bug: abort) and,
 * with `data_pages`, put a tagged page at every expected PA and every decoy. False when no probe
 * is left.
 */
bool kit_case_finish(struct kit_case *kc, bool data_pages);
/** Free a case. NULL is ignored. */
void kit_case_free(struct kit_case *kc);
/** Fill kc->pub.cpu and kc->pub.needs from kc->pub.state and the context; PT_EINVAL if the
 *  state is not one pt_context_init accepts. */
enum pt_status kit_case_cpu(struct kit_case *kc, struct pt_context *ctx_ret, struct pt_error *err);
/** Compute a probe's expected answer with libptwalk; false when the walk needs memory that is
 *  not in the dump (the probe is then left out). */
bool kit_expect(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
		uint32_t access, struct ptk_expect *expect_ret);

/** The VA every built IA-32e case names as SYMBOL(swapper_pg_dir) (its root table, reachable
 *  through a virtual segment of the dump); never probed. */
#define KIT_ROOT_VA UINT64_C(0xfffffe0000000000)

/* ---- Tag selection -------------------------------------------------------------------------- */

/** Whether `tag` matches the comma-separated globs (NULL or "": everything). */
bool kit_tag_selected(const char *globs, const char *tag);

/* ---- The case builder (hand-built and random cases) ---------------------------------------- */

/** Builds one case: tables from a low allocator, leaves anywhere, probes with stated answers. */
struct kit_builder {
	struct kit_case *kc;
	const char *globs;         /**< the selection: probes of other tags are left out */
	enum pt_mode mode;
	const struct pt_mode_desc *desc;
	uint64_t table_next;       /**< next table page */
	uint64_t root;             /**< the top table's page (PAE: the page holding the PDPT) */
	uint64_t pdpt_offset;      /**< PAE: the PDPT's offset in that page (32-byte aligned) */
	uint64_t table_extra;      /**< bits kb_map adds to the table entries it creates (a C-bit) */
	uint32_t tag;              /**< tag of the probes added now */
	bool tag_on;               /**< that tag is selected */
	uint64_t rng;              /**< for the case's random choices */
};

/** Access flags, short (PTLAB_ACCESS_*). */
enum kit_access {
	KA_R = 0,                  /**< a read */
	KA_W = PTLAB_ACCESS_WRITE,
	KA_U = PTLAB_ACCESS_USER,
	KA_X = PTLAB_ACCESS_FETCH,
	KA_C = PTLAB_ACCESS_CHECK,
};

/** Default flags of a table-pointing entry: P | RW | US (PAE PDPTEs: P). */
#define KIT_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US)
/** Default flags of a leaf: P | RW | A | D (supervisor, writable, executable). */
#define KIT_LEAF_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D)

/**
 * Start a case NAME in `mode` with MAXPHYADDR `maxphyaddr`: CPU state as pt_cpu_state_default /
 * pt_cpu_state_set_mode give (WP, NXE where it exists, PSE), tables from `table_base` up, the
 * root allocated, CR3 = root. `globs` selects tags.
 */
void kb_begin(struct kit_builder *b, const char *name, enum pt_mode mode, unsigned maxphyaddr,
	      uint64_t table_base, const char *globs);
/** A zeroed table page. */
uint64_t kb_table(struct kit_builder *b);
/** Map va to pa with a leaf at `level` (PS added above 1; 32-bit 4 MiB frames encoded as Table
 *  4-5 says), creating tables; returns the leaf entry's PA. */
uint64_t kb_map(struct kit_builder *b, uint64_t va, uint64_t pa, unsigned level, uint64_t flags);
/** PA of the entry for va at level (tables above must exist). */
uint64_t kb_entry(const struct kit_builder *b, uint64_t va, unsigned level);
/** Read / write an entry. */
uint64_t kb_get(const struct kit_builder *b, uint64_t entry_pa);
void kb_set(struct kit_builder *b, uint64_t entry_pa, uint64_t value);
/** OR bits into / clear bits of the entry for va at level. */
void kb_or(struct kit_builder *b, uint64_t va, unsigned level, uint64_t bits);
void kb_clear(struct kit_builder *b, uint64_t va, unsigned level, uint64_t bits);
/** The CPU state being built (set CR0/CR4/EFER/PKRU/C-bit...; CR3 is root | flags). */
struct pt_cpu_state *kb_cpu(struct kit_builder *b);
/** The probes added from now on have tag `tag` (a static string). */
void kb_tag(struct kit_builder *b, const char *tag);
/** Add a probe; `intent` is the answer the author states (KIT_INTENT_DERIVE: none). */
void kb_probe(struct kit_builder *b, uint64_t va, uint32_t access, struct kit_intent intent);
/** Compute every expected answer, put a tagged page at every expected PA; the case, or NULL
 *  when no probe was selected (the builder is then freed). */
struct kit_case *kb_finish(struct kit_builder *b);
/**
 * The address and frame of slot k: each slot has a top-level entry of its own (PAE: a PDE,
 * 32-bit: a PDE), so changing an entry of one slot's walk changes no other; frames are aligned to
 * the largest page of the mode (1 GiB, 2 MiB or 4 MiB).
 */
void kb_slot(const struct kit_builder *b, unsigned k, uint64_t *va, uint64_t *pa);
/** Abandon a case being built. */
void kb_abort(struct kit_builder *b);

/*
 * Decoys: what a walker with a bug reads must be in the dump too. A walker that answers with the
 * bytes it read (drgn's Program.read) turns a read outside the dump into a fault; where the CPU
 * faults, that is the right answer, and the bug would go unseen. So the dump holds a tagged page
 * where the bug reads (naming the wrong PA), and copies of the tables it walks through.
 */
/** A decoy: a tagged data page at the page of `pa` (added by kb_finish; a page already there
 *  stays). Where walkers that ignore reserved bits or PDPTE registers read, kit_case_finish
 *  works out itself (lenient walks of libptwalk); cases state the other bugs' reads with this. */
void kb_decoy(struct kit_builder *b, uint64_t pa);

/** Stated answers. */
static inline struct kit_intent ki_pa(uint64_t pa, uint64_t page_size)
{
	return (struct kit_intent){ .kind = KIT_INTENT_PA, .pa = pa, .page_size = page_size };
}
static inline struct kit_intent ki_pf(uint32_t pf_error)
{
	return (struct kit_intent){ .kind = KIT_INTENT_PF, .pf_error = pf_error };
}
static inline struct kit_intent ki_gp(void)
{
	return (struct kit_intent){ .kind = KIT_INTENT_GP };
}
static inline struct kit_intent ki_derive(void)
{
	return (struct kit_intent){ .kind = KIT_INTENT_DERIVE };
}

/**
 * Probe a mapping of `size` bytes at va -> pa at a few offsets (first word, last word, a few
 * words in between from b->rng; at most 4 distinct 4 KiB pages), each with its stated PA.
 */
void kb_probe_mapping(struct kit_builder *b, uint64_t va, uint64_t pa, uint64_t size,
		      unsigned count, uint32_t access);
/** kb_probe_mapping where a peer bug maps va to `bug_pa` instead: a decoy at bug_pa + offset of
 *  each probe (none when bug_pa == pa). */
void kb_probe_mapping_bug(struct kit_builder *b, uint64_t va, uint64_t pa, uint64_t size,
			  unsigned count, uint32_t access, uint64_t bug_pa);

/* ---- The catalogue -------------------------------------------------------------------------- */

/** One case (or a family of cases told apart by `arg`) the kit can build. */
struct kit_case_def {
	const char *name;
	const char *tags;   /**< comma-separated: every tag its probes may have (for selection) */
	/** Build it: the case, or NULL with err unset when nothing of it was selected, or NULL with
	 *  err set when it cannot be built. */
	struct kit_case *(*build)(const struct kit_case_def *def, const char *globs,
				  struct pt_error *err);
	uint64_t arg;
};

/** The case definitions of each family, each array ending with a zeroed entry. */
extern const struct kit_case_def kit_cases_modes[];
extern const struct kit_case_def kit_cases_bits[];
extern const struct kit_case_def kit_cases_rights[];
extern const struct kit_case_def kit_cases_peers[];
extern const struct kit_case_def kit_cases_random[];
extern const struct kit_case_def kit_cases_boot[];

/** A case over an existing dump file (real.*): tags real.STEM, probes sampled from its maps. */
struct kit_case *kit_real_case(const char *path, const char *stem, const char *globs,
			       struct pt_error *err);

/**
 * Add probes sampled from the address space of `ctx` over `mem` (mapped ranges: their first and
 * last words and a few inside; holes; non-canonical addresses), at most `max` of them and at most
 * `per_slot` per top-level entry (ESPFIX's 65,536 aliases stay a handful), skipping `skip_va`'s
 * page. With `intents`, each gets KIT_INTENT_DERIVE. Used by boot and real cases.
 */
void kit_sample_probes(struct kit_case *kc, const struct pt_context *ctx, const struct pt_mem *mem,
		       uint64_t seed, size_t max, size_t per_slot, uint64_t skip_va, uint32_t tag);
/** Append a probe to a case (grows the arrays). */
struct ptk_probe *kit_case_add_probe(struct kit_case *kc);
/** Add a tag name to a case (static string, or copied when `copy`); its index. */
uint32_t kit_case_add_tag(struct kit_case *kc, const char *name, bool copy);

/* ---- Corpus cases ---------------------------------------------------------------------------- */

struct kit_corpus;
/** Read DIR/manifest.json and check every field; PT_EINVAL with "DIR/manifest.json: WHERE: what". */
enum pt_status kit_corpus_open(const char *dir, const char *globs, struct kit_corpus **corpus_ret,
			       struct pt_error *err);
size_t kit_corpus_count(const struct kit_corpus *corpus);
/** Case `index` with its dump opened; NULL (err set) when the dump is unreadable, NULL with
 *  err->message empty when none of its probes is selected. */
struct kit_case *kit_corpus_case(struct kit_corpus *corpus, size_t index, struct pt_error *err);
void kit_corpus_close(struct kit_corpus *corpus);

/* ---- A walker's answer ------------------------------------------------------------------------ */

/** What came back for one probe. */
struct kit_answer {
	enum {
		KIT_ANS_NONE = 0,   /**< not asked (unsupported) */
		KIT_ANS_PA,         /**< translated to pa (page_size when has_size) */
		KIT_ANS_FAULT,      /**< did not translate (pf_error when has_error) */
		KIT_ANS_DATA,       /**< the 8 bytes read through the walker's translation */
		KIT_ANS_ERROR,      /**< the walker failed on it: msg says how */
		KIT_ANS_UNSUPPORTED,/**< the walker declined the whole case */
	} kind;
	bool has_size, has_error;
	uint32_t pf_error;
	uint64_t pa, page_size;
	uint8_t data[8];
	uint16_t msg;           /**< ERROR / UNSUPPORTED: index into the case run's messages */
};

/** Messages of one case run (crash, timeout, protocol error with the stderr tail). */
#define KIT_MAX_MSGS 8
struct kit_run {
	struct kit_answer *answers;   /**< one per probe */
	char msgs[KIT_MAX_MSGS][1024];
	unsigned nmsgs;
	bool fatal;                   /**< the walker cannot be started at all: stop the check */
	bool hung;                    /**< a timeout happened in this case */
};
/** Store a message; its index (the last slot is reused when full). */
uint16_t kit_run_msg(struct kit_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** The walker's operations (adapter or exec). */
struct kit_walker_ops {
	/** Answer every probe of c into run->answers (those already KIT_ANS_NONE with needs met
	 *  are asked). PT_EINVAL with err only when the walker cannot be started at all. */
	enum pt_status (*run_case)(struct ptk_walker *w, const struct ptk_case *c, struct kit_run *run,
				   struct pt_error *err);
	void (*close)(struct ptk_walker *w);
};

/** The common head of a walker. */
struct ptk_walker {
	const struct kit_walker_ops *ops;
	char name[256];
	uint32_t caps;        /**< PTLAB_CAP_* */
	double timeout;
	unsigned hung_cases;  /**< cases that timed out so far */
};

/** Whether the walker has what the probe needs. */
static inline bool kit_supported(uint32_t caps, const struct ptk_case *c, const struct ptk_probe *p)
{
	const uint32_t needs = c->needs | p->needs;
	return (caps & needs) == needs;
}

/* ---- Verdicts and the scorecard's texts (judge.c) ------------------------------------------ */

enum kit_verdict { KIT_PASS = 0, KIT_FAIL, KIT_UNSUPPORTED };
/** The verdict on one probe's answer. */
enum kit_verdict kit_judge(const struct ptk_case *c, const struct ptk_probe *p,
			   const struct kit_answer *a);
/** "PA 0x... (2M page)", "#PF, error code 0x6 (W U)", "#GP (non-canonical address)". */
void kit_expect_text(const struct ptk_probe *p, char *buf, size_t len);
/** The answer as the scorecard shows it (messages of the run included). */
void kit_answer_text(const struct kit_answer *a, const struct kit_run *run, char *buf, size_t len);
/** "0x7 (P W U)". */
const char *kit_pf_error_text(uint32_t code, char *buf, size_t len);

/** A signal's name ("SIGSEGV"), or "signal N". */
const char *kit_signal_name(int sig, char *buf, size_t len);

#endif
