/* SPDX-License-Identifier: MIT */
/*
 * The kpgd finder's rooms (kpgd.h for what it does). Included only by the files of walker/kpgd/; nothing
 * here is exported (the cross-file functions carry the kpgd_ prefix, never pt_).
 *
 *   find.c        pt_kpgd_find: the finder's state, the strategies in order, the architecture
 *   report.c      the answer: ranking, byte-identical copies, ambiguity, CR3's relation, names
 *   evidence.c    a candidate under test (struct kpgd_work), its facts, the log, the kept list
 *   tables.c      a candidate table's context (C-bit vote, PDPTEs as the CPU loaded them), walks
 *                 through it, its top-level entries
 *   banner.c      linux_banner found by its bytes
 *   layout.c      what a symbol source says about the kernel's layout, the modes to try, the
 *                 KASLR offsets of a hypothesis
 *   verify.c      verification of a hypothesis against the symbols
 *   vmcoreinfo.c  VMCOREINFO text (the dump's note, or Linux's page in memory); strategy 1
 *   strategies.c  symbol-direct, KASLR via linux_banner, the early identity map (strategies 2-4)
 *   kallsyms.c    the kernel's own kallsyms tables recovered from memory; text-only symbols (4b)
 *   screen.c      the brute-force screens of top-level-table shape and the scan of the dump
 *   brute.c       brute force with and without symbols (strategy 5)
 *   pti.c         the PTI user copy of the answer
 *
 * Vocabulary: the "symbol file" gives values as the file has them (link-time for System.map and
 * vmlinux, run-time for a /proc/kallsyms read from a KASLR kernel); `file_text` is the file's
 * _text. A hypothesis is (table, mode, run-time VA of _text, run-time PA of _text); any symbol
 * S then sits at VA text_va + (S - file_text) and PA text_pa + (S - file_text). The offsets
 * reported are relative to the link-time _text (`text_link`).
 */
#ifndef PTLAB_KPGD_INTERNAL_H
#define PTLAB_KPGD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptlab/kpgd.h"

/* ---- constants of the Linux x86 layout ------------------------------------------------------ */

static const uint64_t START_KERNEL_MAP = PT_LINUX_START_KERNEL_MAP;
/** The kernel image window (KERNEL_IMAGE_SIZE at most 1 GiB). */
static const uint64_t KERNEL_WINDOW = UINT64_C(1) << 30;
/** CONFIG_PHYSICAL_START's default: the link-time physical address of _text. */
static const uint64_t DEFAULT_PHYSICAL_START = 0x1000000;
/** Physical KASLR alignment on x86-64 (CONFIG_PHYSICAL_ALIGN, at least 2 MiB). */
static const uint64_t ALIGN64 = 0x200000;
/** The smallest CONFIG_PHYSICAL_ALIGN on i386. */
static const uint64_t ALIGN32 = 0x2000;
/** Linux's PMD_SIZE: the 2 MiB steps in which the kernel image is mapped and checked. */
static const uint64_t PMD_SIZE = 0x200000;
/** The VMSPLIT choices of PAGE_OFFSET on i386, the default (3G/1G) first. */
static const uint64_t PAGE_OFFSETS32[] = { 0xc0000000, 0x80000000, 0x40000000 };
enum { NPAGE_OFFSETS32 = 3 };
static const char BANNER[] = "Linux version ";
#define BANNER_LEN (sizeof(BANNER) - 1)

/* ---- bounds that keep a hostile dump from making the search long ----------------------------- */

static const size_t MAX_BANNER_HITS = 256;
static const size_t MAX_SCREENED = 4096;
enum { MAX_FACTS = 16 };
/** Hypotheses verified at most in one search (each walks up to ~1000 addresses). */
static const uint64_t HYPOTHESIS_BUDGET = 20000;
/** Ranges enumerated at most when ranking candidates without symbols. */
static const uint64_t RANGE_BUDGET = 1000000;

/**
 * PAE PDPTE bit 5 (the accessed bit of other levels). Table 4-8 reserves it and Linux writes
 * PDPTEs as address | _PAGE_PRESENT, yet QEMU's software MMU (TCG) sets it when it walks a
 * PDPTE, as it does at every level: the i386 PAE dumps QEMU writes have it in swapper_pg_dir.
 * A CPU loads the PDPTEs at MOV to CR3 (4.4.1), before any such write, so the finder reads the
 * PDPT as the CPU loaded it: this bit cleared (and says so in the evidence).
 */
static const uint64_t PDPTE_ACCESSED = PT_QEMU_PDPTE_A;

/** `pa` rounded up to a page boundary. */
static inline uint64_t kpgd_page_up(uint64_t pa)
{
	return (pa + PT_PAGE_4K - 1) & ~(PT_PAGE_4K - 1);
}

/* ---- the state ---------------------------------------------------------------------------------- */

/** A candidate being checked, with room for its facts. */
struct kpgd_work {
	struct pt_kpgd_candidate c;
	struct pt_kpgd_fact facts[MAX_FACTS];
	bool ok_text, ok_banner, ok_self, ok_linear, ok_tables, ok_vmci;
	bool vmci_said;          /**< the VMCOREINFO text in memory named the table (ok_vmci: this one) */
	unsigned window_slots;   /**< 2 MiB slots of the kernel window mapped consistently */
};

/** What a symbol source says about the kernel's layout (one per PAGE_OFFSET tried on i386). */
struct kpgd_layout {
	bool is64;
	const char *source;        /**< "System.map", "kallsyms", "vmlinux ELF", "VMCOREINFO" */
	const struct pt_symtab *syms;
	uint64_t map_base;         /**< __START_KERNEL_map, or PAGE_OFFSET on i386 */
	uint64_t file_text;        /**< _text as the source gives it */
	uint64_t text_link;        /**< link-time VA of _text */
	bool link_assumed;
	const char *kpgd_name;
	bool has_kpgd;
	uint64_t kpgd_sym;
	bool has_banner;
	uint64_t banner_sym;
	const char *osrelease;     /**< from VMCOREINFO, to recognise the banner by content */
	uint64_t image_span;       /**< bytes from _text that must map linearly (to the furthest of
				        the banner and the table) */
	/* the kernel's own kallsyms tables, recovered from memory: the source holds run-time
	 * addresses and the tables' physical addresses place the image */
	const struct pt_kallsyms_info *ks;
	uint64_t etext_off;        /**< _etext - _text (0 unknown): the tables lie past the text */
	uint64_t end_off;          /**< _end - _text (0 unknown: the kernel window bounds the image) */
};
/** Layouts one symbol source can give: 1 on x86-64, one per PAGE_OFFSET on i386. */
enum { MAX_LAYOUTS = NPAGE_OFFSETS32 };

/** The decode-only contexts the screens read raw pages with (MAXPHYADDR 52, no C-bit). */
struct kpgd_screen_ctx {
	struct pt_context ia32e, pae, legacy;
};

/** Pages of the dump with a nonzero byte, joined into extents (scan.c). */
struct kpgd_extent {
	uint64_t pa, end;
	size_t range;              /**< index in the inputs' ranges of the range holding it */
};
struct kpgd_content {
	bool built;
	struct kpgd_extent *ext;   /**< sorted */
	size_t n, cap;
	uint64_t gap;              /**< extents at most this far apart are joined (0: adjacent only) */
	uint64_t total;            /**< bytes of the dump's ranges */
};

struct kpgd_finder {
	const struct pt_kpgd_inputs *in;
	const struct pt_mem *mem;
	uint64_t phys_end;
	uint8_t maxphyaddr;
	uint8_t cbit;              /**< from the CPU state; 0 = detect per table */
	enum pt_mode cpu_mode;     /**< PT_MODE_OFF when unknown */
	bool try64, try32;
	struct kpgd_screen_ctx screen;
	struct pt_kpgd_result *res;
	bool oom;
	/* candidates kept (heap facts) */
	struct pt_kpgd_candidate *cands;
	size_t ncands, cap;
	/* hypotheses left to verify: a hostile dump (every slot aliasing the kernel, thousands of
	 * table-shaped pages) must not make the search run for hours */
	uint64_t budget;
	uint64_t range_budget;   /**< ranges enumerated without symbols, over all candidates */
	bool budget_logged;
	/* walks and enumerated ranges left under the inputs' max_work (UINT64_MAX: unbounded); through
	 * a pointer so that the walks of a const finder count too */
	uint64_t *work_left;
	uint64_t work_store;
	struct kpgd_content content; /**< built by the first whole-dump pass (scan.c) */
	/* the last search for a banner by content near a PA */
	bool near_valid, near_found;
	uint64_t near_pa, near_hit;
	/* banner hits by content (lazily scanned) */
	bool banners_scanned;
	uint64_t *banners;
	size_t nbanners;
	/* Linux's VMCOREINFO text found in memory (consistent with the recovered kallsyms) */
	const char *mvi;
	size_t mvi_len;
	uint64_t mvi_pa;
	bool koff_known;          /**< mvi has KERNELOFFSET (x86-64) */
	uint64_t koff;
	char agree[232];          /**< the symbol file checked against the recovered table ("" none) */
};

/** Pages that passed a screen (the first MAX_SCREENED kept). */
struct kpgd_screen {
	uint64_t *pages;
	size_t n, cap;
	bool full;
	bool oom;
	uint64_t total;
};

/* ---- evidence.c ------------------------------------------------------------------------------ */

/** Start checking (kpgd, mode) for `method`: no facts yet. */
void kpgd_work_init(struct kpgd_work *w, enum pt_kpgd_method method, enum pt_mode mode, uint64_t kpgd);
/** Add a fact (dropped past MAX_FACTS). */
void kpgd_fact(struct kpgd_work *w, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Add a line to the result's log. */
void kpgd_log(struct kpgd_finder *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Keep a candidate (its facts copied to the heap). Same table and mode: keep the better. */
void kpgd_keep(struct kpgd_finder *f, const struct kpgd_work *w);
/** Add a fact to a kept candidate (its facts are on the heap). */
void kpgd_candidate_fact(struct kpgd_finder *f, struct pt_kpgd_candidate *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Has a kept candidate verified (the strategies after it are then skipped)? */
bool kpgd_any_verified(const struct kpgd_finder *f);
/** Short reason a hypothesis failed (its first failed fact). */
const char *kpgd_first_failure(const struct kpgd_work *w);
/** Does `w` rank above the best so far (verified first, then score)? */
bool kpgd_beats(const struct kpgd_work *w, const struct kpgd_work *best, bool have_best);
/** Copy `w` to *best (its facts pointer made to point into *best). */
void kpgd_take(struct kpgd_work *best, const struct kpgd_work *w);
/** The top table's shape, through the shared decoder: present entries, reserved bits. */
void kpgd_fact_table_shape(struct kpgd_work *w, const struct kpgd_finder *f, const struct pt_context *ctx);

/* ---- tables.c -------------------------------------------------------------------------------- */

/** Spend `units` of the work budget (a walk, an enumerated range, a table read: one each); false
 *  when it was already spent. */
bool kpgd_spend(const struct kpgd_finder *f, uint64_t units);
/** `len` bytes of the dump at `pa`, or NULL when they are not all in it. */
const uint8_t *kpgd_bytes(const struct kpgd_finder *f, uint64_t pa, size_t len);
/** Is `frame` inside the dump, possibly after removing one SME C-bit? The C-bit position used
 *  (0 = none needed), or -1 when it is outside either way. */
int kpgd_frame_fits(uint64_t frame, uint64_t phys_end);
/** pt_context_init over the dump, a PAE PDPT read as QEMU's dump reader reads it when needed. */
enum pt_status kpgd_load_context(const struct kpgd_finder *f, const struct pt_cpu_state *cpu,
				 struct pt_context *ctx, bool *stripped_ret);
/** A context for the table at `root` in `mode` (C-bit detected when the CPU state has none). */
bool kpgd_make_ctx(const struct kpgd_finder *f, enum pt_mode mode, uint64_t root, struct pt_context *ctx);
/** Walk `va`: true with *pa_ret when it maps; `why` (may be NULL) says why not. */
bool kpgd_walk_pa(const struct kpgd_finder *f, const struct pt_context *ctx, uint64_t va, uint64_t *pa_ret,
		  char *why, size_t whylen);
/** The whole top-level table of ctx (at ctx->root), or NULL when it is not in the dump. */
const uint8_t *kpgd_top_table(const struct kpgd_finder *f, const struct pt_context *ctx);
/** Entry i of top table bytes `t` as memory holds it. */
uint64_t kpgd_raw_entry(const struct pt_context *ctx, const uint8_t *t, unsigned i);
/** Entry i of the top table as the CPU uses it (PAE: the PDPTE loaded; `t` unused). */
uint64_t kpgd_top_entry(const struct pt_context *ctx, const uint8_t *t, unsigned i);
/** The top-level entry that maps the kernel: __START_KERNEL_map's on x86-64 (511 in 4- and
 *  5-level tables), the default PAGE_OFFSET's on i386. */
unsigned kpgd_kernel_slot(const struct pt_mode_desc *desc);
/** Present entries of a table's user half (UINT32_MAX when the table is not in the dump). */
unsigned kpgd_user_entries(const struct kpgd_finder *f, const struct pt_context *ctx, uint64_t split);

/* ---- banner.c -------------------------------------------------------------------------------- */

/** The printable prefix of the text at `pa` (up to `max` characters, a newline or the dump's end). */
void kpgd_printable(const struct kpgd_finder *f, uint64_t pa, char *buf, size_t buflen, size_t max);
/** Does "Linux version " start at `pa`? */
bool kpgd_banner_at(const struct kpgd_finder *f, uint64_t pa);
/** Search [pa, pa + span) for the banner (with the release when known); cached for one `pa`. */
bool kpgd_find_banner_near(struct kpgd_finder *f, uint64_t pa, uint64_t span, const char *osrelease,
			   uint64_t *hit_ret);
/** Every banner in the dump, by content (the first MAX_BANNER_HITS), once. */
void kpgd_scan_banners(struct kpgd_finder *f);

/* ---- layout.c -------------------------------------------------------------------------------- */

/** _text as a symbol source gives it (_text, startup_64, startup_32 or _stext). */
bool kpgd_source_text(const struct pt_symtab *syms, uint64_t *v);
/** The layouts a symbol table allows: 1 for x86-64, up to 3 (PAGE_OFFSETs) for i386. */
size_t kpgd_layouts_from_syms(struct kpgd_finder *f, const struct pt_symtab *syms, struct kpgd_layout *out,
			      size_t max);
/** Modes to try for a layout, the CPU's first. */
size_t kpgd_modes_for(const struct kpgd_finder *f, bool is64, enum pt_mode *modes);
/** The offsets of hypothesis (text_va, text_pa) under L, with their facts. */
void kpgd_set_offsets(struct kpgd_work *w, const struct kpgd_finder *f, const struct kpgd_layout *L,
		      uint64_t text_va, uint64_t text_pa);

/* ---- verify.c -------------------------------------------------------------------------------- */

/** Check hypothesis (ctx, text_va, text_pa) against the layout's symbols: facts, offsets,
 *  verified, score. */
void kpgd_verify_syms(struct kpgd_finder *f, const struct kpgd_layout *L, const struct pt_context *ctx,
		      uint64_t text_va, uint64_t text_pa, struct kpgd_work *w);
/** Verify one (table, mode, text_va, text_pa) hypothesis within the budget; true when verified.
 *  `best` (may be NULL) receives it when it beats what is there. */
bool kpgd_try_hypothesis(struct kpgd_finder *f, const struct kpgd_layout *L, enum pt_kpgd_method method,
			 enum pt_mode mode, uint64_t kpgd, uint64_t text_va, uint64_t text_pa,
			 struct kpgd_work *best, bool *have_best);

/* ---- vmcoreinfo.c ---------------------------------------------------------------------------- */

/** The value of `key` in VMCOREINFO text (key=value lines). */
bool kpgd_vmci_lookup(const char *text, size_t len, const char *key, char *buf, size_t buflen);
/** A number in VMCOREINFO text (hex with or without 0x, or decimal, maybe negative). */
bool kpgd_parse_num(const char *s, int base, bool allow_neg, uint64_t *v);
/** Linux's VMCOREINFO text in memory names the table: is it `kva`? false (no fact) when silent. */
bool kpgd_fact_vmci_kpgd(struct kpgd_work *w, const struct kpgd_finder *f, uint64_t kva);
/** Find Linux's VMCOREINFO text in memory that agrees with the recovered kallsyms table. */
void kpgd_find_vmcoreinfo_in_memory(struct kpgd_finder *f, const struct pt_symtab *rec);
/** Strategy 1: the table the dump's VMCOREINFO note names, verified. */
void kpgd_strategy_vmcoreinfo(struct kpgd_finder *f);

/* ---- strategies.c ---------------------------------------------------------------------------- */

/** Strategy 2: kpgd = the table's symbol - the boundary, per layout. */
void kpgd_strategy_symbols(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl);
/** Strategy 3: linux_banner at a congruent PA gives phys_offset, walking the window the slide. */
void kpgd_strategy_kaslr(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl);
/** Strategy 4: CR3's table identity-maps the kernel image and nothing maps it at its VA yet. */
void kpgd_strategy_identity(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl);

/* ---- kallsyms.c ------------------------------------------------------------------------------ */

/** Look for the kernel's kallsyms tables in memory (into the result), then its VMCOREINFO page. */
void kpgd_recover_kallsyms(struct kpgd_finder *f);
/** Does a symbol file describe the kernel whose tables were recovered? */
bool kpgd_file_agrees(struct kpgd_finder *f, const struct pt_symtab *file, const struct pt_symtab *rec,
		      char *text, size_t textlen);
/** Layouts from the recovered table (run-time addresses; link-time _text from `file`'s layouts). */
size_t kpgd_layouts_recovered(struct kpgd_finder *f, const struct kpgd_layout *file, size_t nfile,
			      struct kpgd_layout *out, size_t max);
/** Strategy 4b: text-only symbols, the image placed by the recovered kallsyms tables. */
void kpgd_strategy_textonly(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl);

/* ---- scan.c ---------------------------------------------------------------------------------- */

/** A pass's look at `len` bytes at `p` (physical address pa, inside range r); false: stop. */
typedef bool (*kpgd_scan_fn)(struct kpgd_finder *f, void *arg, const uint8_t *p, uint64_t pa, uint64_t len,
			     const struct pt_dump_range *r);
/** The nonzero extents of the dump, found by the first pass (with progress) when not yet. */
const struct kpgd_content *kpgd_content(struct kpgd_finder *f);
/** Free the extents. */
void kpgd_content_deinit(struct kpgd_content *c);
/** Call fn on every window of every nonzero extent, in address order, each released after. */
void kpgd_scan_nonzero(struct kpgd_finder *f, kpgd_scan_fn fn, void *arg);
/** A pass is done with [pa, pa + len): released when the dump is too large to keep mapped. */
void kpgd_release(const struct kpgd_finder *f, uint64_t pa, uint64_t len);

/* ---- screen.c -------------------------------------------------------------------------------- */

/** Build the screens' decode-only contexts. */
void kpgd_screen_ctx_init(struct kpgd_screen_ctx *s);
/** The whole page decoded loosely as a 64-bit top-level table. */
bool kpgd_plausible_top64(const struct pt_context *loose, const uint8_t *t, uint64_t phys_end);
/** Record a page that passed (pt_kpgd_screen64's callback). */
void kpgd_screen_add(void *arg, uint64_t page_pa);
/** Screen [pa, pa + len) of page-aligned memory at `p` for 64-bit (`is64`) or 32-bit tops. */
void kpgd_screen_range(const struct kpgd_finder *f, const uint8_t *p, uint64_t pa, uint64_t len, bool is64,
		       struct kpgd_screen *s);
/** Screen every page of the dump for the architectures tried. */
void kpgd_run_screen(struct kpgd_finder *f, struct kpgd_screen *s64, struct kpgd_screen *s32);

/* ---- brute.c, pti.c, report.c ---------------------------------------------------------------- */

/** Strategy 5: every page screened, candidates verified with the symbols or ranked without. */
void kpgd_strategy_brute(struct kpgd_finder *f, const struct kpgd_layout *Ls, size_t nl);
/** The PTI user copy of the answer (a fact and c->user_pgd when there is one). */
void kpgd_describe_pti(struct kpgd_finder *f, struct pt_kpgd_candidate *c, const struct kpgd_layout *L);
/** Rank the kept candidates, name byte-identical copies, refuse a tie; then PTI and CR3. */
void kpgd_report(struct kpgd_finder *f, const struct kpgd_layout *L);

#endif
