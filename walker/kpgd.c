/* SPDX-License-Identifier: MIT */
/*
 * The kpgd finder (see kpgd.h for the strategies). Everything is checked by walking candidate
 * tables with the shared walker (pt_walk, whose level loop decodes entries with the same
 * decoder as pt_entry_decode) and by reading the bytes the walk lands on.
 *
 * Vocabulary: the "symbol file" gives values as the file has them (link-time for System.map and
 * vmlinux, run-time for a /proc/kallsyms read from a KASLR kernel); `file_text` is the file's
 * _text. A hypothesis is (table, mode, run-time VA of _text, run-time PA of _text); any symbol
 * S then sits at VA text_va + (S - file_text) and PA text_pa + (S - file_text). The offsets
 * reported are relative to the link-time _text (`text_link`).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ptlab/error.h"
#include "ptlab/kpgd.h"
#include "ptlab/maps.h"
#include "ptlab/le.h"

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
static const uint64_t PMD_SIZE = 0x200000;
static const uint64_t PAGE = 4096;
/** The VMSPLIT choices of PAGE_OFFSET on i386. */
static const uint64_t PAGE_OFFSETS32[] = { 0xc0000000, 0x80000000, 0x40000000 };
static const char BANNER[] = "Linux version ";
#define BANNER_LEN (sizeof(BANNER) - 1)
/** Bounds that keep a hostile dump from making the search long. */
static const size_t MAX_BANNER_HITS = 256;
static const size_t MAX_SCREENED = 4096;
static const unsigned MAX_FACTS = 16;
/** Hypotheses verified at most in one search (each walks up to ~1000 addresses). */
static const uint64_t HYPOTHESIS_BUDGET = 20000;
/** Ranges enumerated at most when ranking candidates without symbols. */
static const uint64_t RANGE_BUDGET = 1000000;
/** Bytes between progress reports of the scan. */
static const uint64_t SCAN_CHUNK = UINT64_C(64) << 20;
/**
 * PAE PDPTE bit 5 (the accessed bit of other levels). Table 4-8 reserves it and Linux writes
 * PDPTEs as address | _PAGE_PRESENT, yet QEMU's software MMU (TCG) sets it when it walks a
 * PDPTE, as it does at every level: the i386 PAE dumps QEMU writes have it in swapper_pg_dir.
 * A CPU loads the PDPTEs at MOV to CR3 (4.4.1), before any such write, so the finder reads the
 * PDPT as the CPU loaded it: this bit cleared (and says so in the evidence).
 */
static const uint64_t PDPTE_ACCESSED = PT_QEMU_PDPTE_A;
/** Tables screened around the kernel's kallsyms tables (text-only symbols), each side. */
static const uint64_t TEXTONLY_WINDOW64 = UINT64_C(256) << 20;
static const uint64_t TEXTONLY_WINDOW32 = UINT64_C(64) << 20;
/** Share of a symbol file's names that must sit where the kernel's own table puts them. */
static const unsigned AGREE_PERCENT = 95;

const char *pt_kpgd_method_name(enum pt_kpgd_method method)
{
	switch (method) {
	case PT_KPGD_AUTO:
		return "auto";
	case PT_KPGD_VMCOREINFO:
		return "vmcoreinfo";
	case PT_KPGD_SYMBOLS:
		return "symbols";
	case PT_KPGD_KASLR:
		return "kaslr";
	case PT_KPGD_IDENTITY:
		return "identity";
	case PT_KPGD_BRUTE:
		return "brute-force";
	}
	return "?";
}

bool pt_kpgd_method_parse(const char *name, enum pt_kpgd_method *method_ret)
{
	for (int m = PT_KPGD_AUTO; m <= PT_KPGD_BRUTE; m++) {
		if (strcmp(name, pt_kpgd_method_name((enum pt_kpgd_method)m)) == 0) {
			*method_ret = (enum pt_kpgd_method)m;
			return true;
		}
	}
	return false;
}

const char *pt_kpgd_cr3_name(enum pt_kpgd_cr3 rel)
{
	switch (rel) {
	case PT_KPGD_CR3_SAME:
		return "same";
	case PT_KPGD_CR3_USER_COPY:
		return "user-copy";
	case PT_KPGD_CR3_PROCESS:
		return "process";
	case PT_KPGD_CR3_OTHER:
		return "other";
	case PT_KPGD_CR3_UNKNOWN:
		break;
	}
	return "unknown";
}

void pt_kpgd_inputs_from_dump(struct pt_kpgd_inputs *in, const struct pt_dump *dump)
{
	in->mem = pt_dump_mem(dump);
	in->ranges = pt_dump_ranges(dump, &in->nranges);
	in->vmcoreinfo = pt_dump_vmcoreinfo(dump, &in->vmcoreinfo_len);
	in->has_cpu = pt_dump_cpu(dump, &in->cpu) != PT_CPU_NONE;
	in->elf_machine = pt_dump_elf_machine(dump);
}

/* ---- small helpers -------------------------------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/** Frame bits of a 64-bit entry, architecturally widest (bits 51:12). */
static const uint64_t FRAME52 = UINT64_C(0x000ffffffffff000);

/**
 * Is `frame` (bits 51:12 of an entry) inside [0, phys_end), possibly after removing one SME
 * C-bit (a single bit at 32..51 that puts it outside)? Returns the C-bit position used
 * (0 = none needed), or -1 when the frame is outside the dump either way.
 */
static int frame_fits(uint64_t frame, uint64_t phys_end)
{
	if (frame < phys_end)
		return 0;
	int b = 63 - __builtin_clzll(frame);
	if (b < 32)
		return -1;
	return (frame & ~(UINT64_C(1) << b)) < phys_end ? b : -1;
}

/* ---- facts and candidates --------------------------------------------------------------------- */

/** A candidate being checked, with room for its facts. */
struct work {
	struct pt_kpgd_candidate c;
	struct pt_kpgd_fact facts[16];
	bool ok_text, ok_banner, ok_self, ok_linear, ok_tables, ok_vmci;
	bool vmci_said;          /**< the VMCOREINFO text in memory named the table (ok_vmci: this one) */
	unsigned window_slots;   /**< 2 MiB slots of the kernel window mapped consistently */
};

static void work_init(struct work *w, enum pt_kpgd_method method, enum pt_mode mode, uint64_t kpgd)
{
	memset(w, 0, sizeof(*w));
	w->c.method = method;
	w->c.mode = mode;
	w->c.kpgd = kpgd;
	w->c.facts = w->facts;
}

static void fact(struct work *w, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fact(struct work *w, bool ok, const char *fmt, ...)
{
	if (w->c.nfacts >= MAX_FACTS)
		return;
	struct pt_kpgd_fact *f = &w->facts[w->c.nfacts++];
	f->ok = ok;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

/* ---- the finder ---------------------------------------------------------------------------------- */

/** What a symbol source says about the kernel's layout (one per PAGE_OFFSET tried on i386). */
struct layout {
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

struct finder {
	const struct pt_kpgd_inputs *in;
	const struct pt_mem *mem;
	uint64_t phys_end;
	uint8_t maxphyaddr;
	uint8_t cbit;              /**< from the CPU state; 0 = detect per table */
	enum pt_mode cpu_mode;     /**< PT_MODE_OFF when unknown */
	bool try64, try32;
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

static void logf_(struct finder *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct finder *f, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char **log = realloc(f->res->log, (f->res->nlog + 1) * sizeof(*log));
	if (!log) {
		f->oom = true;
		return;
	}
	f->res->log = log;
	log[f->res->nlog] = strdup(buf);
	if (!log[f->res->nlog]) {
		f->oom = true;
		return;
	}
	f->res->nlog++;
}

/** Keep a candidate (its facts copied to the heap). Same table and mode: keep the better. */
static void keep(struct finder *f, const struct work *w)
{
	for (size_t i = 0; i < f->ncands; i++) {
		struct pt_kpgd_candidate *o = &f->cands[i];
		if (o->kpgd == w->c.kpgd && o->mode == w->c.mode) {
			if (o->verified > w->c.verified || (o->verified == w->c.verified && o->score >= w->c.score))
				return;
			free(o->facts);
			f->cands[i] = f->cands[--f->ncands];
			break;
		}
	}
	if (f->ncands == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct pt_kpgd_candidate *c = realloc(f->cands, cap * sizeof(*c));
		if (!c) {
			f->oom = true;
			return;
		}
		f->cands = c;
		f->cap = cap;
	}
	struct pt_kpgd_candidate c = w->c;
	c.facts = malloc((c.nfacts ? c.nfacts : 1) * sizeof(*c.facts));
	if (!c.facts) {
		f->oom = true;
		return;
	}
	memcpy(c.facts, w->facts, c.nfacts * sizeof(*c.facts));
	f->cands[f->ncands++] = c;
}

static bool any_verified(const struct finder *f)
{
	for (size_t i = 0; i < f->ncands; i++) {
		if (f->cands[i].verified)
			return true;
	}
	return false;
}

/* ---- contexts and walks ---------------------------------------------------------------------------- */

static const uint8_t *bytes_at(const struct finder *f, uint64_t pa, size_t len)
{
	return f->mem->ptr(f->mem, pa, len);
}

/** The C-bit a table's entries carry, voted over its present entries (0 = none). */
static uint8_t table_cbit(const struct finder *f, enum pt_mode mode, uint64_t root)
{
	if (f->cbit || mode == PT_MODE_LEGACY)
		return f->cbit;
	const uint8_t *t = f->mem->ptr(f->mem, root & ~(PAGE - 1), PAGE);
	if (!t)
		return 0;
	unsigned votes[64] = { 0 };
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = pt_le64(t + 8 * i);
		if (!(e & PTE_P))
			continue;
		int b = frame_fits(e & FRAME52, f->phys_end);
		if (b > 0)
			votes[b]++;
	}
	unsigned best = 0;
	for (unsigned b = 32; b < 52; b++) {
		if (votes[b] > votes[best])
			best = b;
	}
	return (uint8_t)(votes[best] ? best : 0);
}

/**
 * pt_context_init over the dump; a PAE PDPT that faults at the load is loaded once more as a
 * QEMU dump reader loads it (pdpte_written_by_dumper: the accessed bit QEMU writes is cleared),
 * whatever wrote the dump. *stripped_ret (may be NULL) says when that was needed.
 */
static enum pt_status load_context(const struct finder *f, const struct pt_cpu_state *cpu, struct pt_context *ctx,
				   bool *stripped_ret)
{
	if (stripped_ret)
		*stripped_ret = false;
	enum pt_status st = pt_context_init(ctx, cpu, f->mem, NULL, NULL);
	if (st != PT_FAULT || ctx->mode != PT_MODE_PAE || (cpu->pdpte_written_by_dumper & PDPTE_ACCESSED))
		return st; /* only a PAE PDPTE load faults at init */
	struct pt_cpu_state forgiving = *cpu;
	forgiving.pdpte_written_by_dumper |= PDPTE_ACCESSED;
	st = pt_context_init(ctx, &forgiving, f->mem, NULL, NULL);
	if (st == PT_OK && stripped_ret)
		*stripped_ret = true;
	return st;
}

/** A context for the table at `root` in `mode` (C-bit detected when the CPU state has none). */
static bool make_ctx(const struct finder *f, enum pt_mode mode, uint64_t root, struct pt_context *ctx)
{
	struct pt_cpu_state cpu;
	pt_cpu_state_default(&cpu, root);
	pt_cpu_state_set_mode(&cpu, mode);
	cpu.maxphyaddr = f->maxphyaddr;
	cpu.cbit = table_cbit(f, mode, root);
	if ((mode == PT_MODE_LEGACY || mode == PT_MODE_PAE) && root > UINT32_MAX)
		return false;
	return load_context(f, &cpu, ctx, NULL) == PT_OK;
}

/** Walk `va`: true with *pa_ret when it maps (and the page is in the dump). */
static bool walk_pa(const struct finder *f, const struct pt_context *ctx, uint64_t va, uint64_t *pa_ret,
		    char *why, size_t whylen)
{
	struct pt_result r;
	if (why && whylen)
		why[0] = 0;
	if (!pt_va_canonical(ctx, va)) {
		if (why)
			snprintf(why, whylen, "is not canonical");
		return false;
	}
	enum pt_status st = pt_walk(ctx, f->mem, va, &r);
	if (st == PT_OK) {
		*pa_ret = r.pa;
		return true;
	}
	if (why) {
		if (st == PT_NOT_IN_DUMP)
			snprintf(why, whylen, "needs table 0x%" PRIx64 ", not in the dump", r.table_pa);
		else if (st == PT_FAULT)
			snprintf(why, whylen, "does not map (%s at level %u, entry 0x%" PRIx64 ")",
				 (r.fault.error_code & PF_ERR_RSVD) ? "reserved bit" : "not present",
				 r.fault.level, r.fault.entry);
		else
			snprintf(why, whylen, "cannot be walked");
	}
	return false;
}

/** Printable prefix of the bytes at physical address `pa` (for banner evidence): up to `max`
 *  chars, up to a newline, and only as far as the dump holds them, read byte by byte (the text
 *  may end a dump range, or straddle two). */
static void printable_at(const struct finder *f, uint64_t pa, char *buf, size_t buflen, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < max && n + 1 < buflen; i++) {
		const uint8_t *p = bytes_at(f, pa + i, 1);
		if (!p || *p == 0 || *p == '\n')
			break;
		buf[n++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
	}
	buf[n] = 0;
}

static bool banner_at(const struct finder *f, uint64_t pa)
{
	const uint8_t *p = bytes_at(f, pa, BANNER_LEN);
	return p && memcmp(p, BANNER, BANNER_LEN) == 0;
}

/** The top table's shape, through the shared decoder: present entries, reserved bits. */
static void fact_table_shape(struct work *w, const struct finder *f, const struct pt_context *ctx)
{
	const unsigned esize = ctx->desc->entry_size;
	const unsigned top = ctx->desc->levels;
	const unsigned n = ctx->mode == PT_MODE_PAE ? 4 : (ctx->mode == PT_MODE_LEGACY ? 1024 : 512);
	const uint64_t base = ctx->mode == PT_MODE_PAE ? ctx->root : ctx->root & ~(PAGE - 1);
	const uint8_t *t = bytes_at(f, base, (size_t)n * esize);
	if (!t) {
		fact(w, false, "top table 0x%" PRIx64 " is not in the dump", base);
		return;
	}
	unsigned present = 0, rsvd = 0, outside = 0, user = 0;
	for (unsigned i = 0; i < n; i++) {
		/* PAE: the PDPTEs as the CPU loaded them (see load_context) */
		uint64_t raw = ctx->mode == PT_MODE_PAE ? ctx->pdpte[i] : esize == 8 ? pt_le64(t + 8 * i) : pt_le32(t + 4 * i);
		struct pt_entry_info info;
		pt_entry_decode(ctx, top, raw, &info);
		if (!info.present)
			continue;
		present++;
		if (info.rsvd_bits)
			rsvd++;
		else if (info.frame >= f->phys_end)
			outside++;
		if (i < n / 2)
			user++;
	}
	w->c.cbit = ctx->cbit_mask ? (uint8_t)__builtin_ctzll(ctx->cbit_mask) : 0;
	char cb[128] = "";
	if (w->c.cbit)
		snprintf(cb, sizeof(cb), ", SME C-bit %u stripped", w->c.cbit);
	unsigned accessed = 0;
	for (unsigned i = 0; ctx->mode == PT_MODE_PAE && i < 4; i++)
		accessed += (pt_le64(t + 8 * i) & PTE_P) && (pt_le64(t + 8 * i) & PDPTE_ACCESSED) &&
			    !(ctx->pdpte[i] & PDPTE_ACCESSED);
	if (accessed)
		snprintf(cb, sizeof(cb), "; %u PDPTE(s) carry bit 5 (A, reserved), which QEMU's TCG writes "
			 "after CR3 load: read without it", accessed);
	fact(w, present > 0 && rsvd + outside < present,
	     "%s table 0x%" PRIx64 ": %u present entries (%u in the user half), %u with reserved bits, "
	     "%u pointing outside the dump%s", pt_mode_name(ctx->mode), base, present, user, rsvd, outside, cb);
}

/* ---- verification with symbols ------------------------------------------------------------------- */

static bool vmci_lookup(const char *text, size_t len, const char *key, char *buf, size_t buflen);
static bool parse_num(const char *s, int base, bool allow_neg, uint64_t *v);

/**
 * Linux's VMCOREINFO text found in memory names the table (SYMBOL(init_top_pgt) or
 * SYMBOL(swapper_pg_dir), a run-time address): does it name `kva`? false (no fact) when it
 * says nothing.
 */
static bool fact_vmci_kpgd(struct work *w, const struct finder *f, uint64_t kva)
{
	static const char *const keys[] = { "init_top_pgt", "swapper_pg_dir", "init_level4_pgt" };
	char key[48], buf[64];
	uint64_t v;
	for (size_t i = 0; f->mvi && i < 3; i++) {
		snprintf(key, sizeof(key), "SYMBOL(%s)", keys[i]);
		if (!vmci_lookup(f->mvi, f->mvi_len, key, buf, sizeof(buf)) || !parse_num(buf, 16, false, &v))
			continue;
		w->ok_vmci = v == kva;
		w->vmci_said = true;
		fact(w, w->ok_vmci, "Linux's VMCOREINFO text in memory (PA 0x%" PRIx64 ") says %s=0x%" PRIx64 "%s",
		     f->mvi_pa, keys[i], v, w->ok_vmci ? ": this table" : ", not this table");
		return true;
	}
	return false;
}

/** Run-time VA and PA of a symbol under a hypothesis. */
static uint64_t sym_va(const struct layout *L, uint64_t text_va, uint64_t value)
{
	return text_va + (value - L->file_text);
}

/** Search [pa, pa + span) of the dump for the banner (with the release when known). */
static bool find_banner_near_uncached(const struct finder *f, uint64_t pa, uint64_t span,
				      const char *osrelease, uint64_t *hit_ret);
static bool find_banner_near(struct finder *f, uint64_t pa, uint64_t span, const char *osrelease,
			     uint64_t *hit_ret)
{
	if (!f->near_valid || f->near_pa != pa) {
		f->near_valid = true;
		f->near_pa = pa;
		f->near_found = find_banner_near_uncached(f, pa, span, osrelease, &f->near_hit);
	}
	*hit_ret = f->near_hit;
	return f->near_found;
}

static bool find_banner_near_uncached(const struct finder *f, uint64_t pa, uint64_t span,
				      const char *osrelease, uint64_t *hit_ret)
{
	char needle[160];
	snprintf(needle, sizeof(needle), "%s%s", BANNER, osrelease ? osrelease : "");
	size_t nlen = strlen(needle);
	const struct pt_kpgd_inputs *in = f->in;
	for (size_t i = 0; i < in->nranges; i++) {
		const struct pt_dump_range *r = &in->ranges[i];
		uint64_t lo = pa > r->pa ? pa : r->pa;
		uint64_t hi = pa + span < r->pa + r->size ? pa + span : r->pa + r->size;
		if (lo >= hi || hi - lo < nlen)
			continue;
		const uint8_t *p = bytes_at(f, lo, (size_t)(hi - lo));
		if (!p)
			continue;
		const uint8_t *h = memmem(p, (size_t)(hi - lo), needle, nlen);
		if (h) {
			*hit_ret = lo + (uint64_t)(h - p);
			return true;
		}
	}
	return false;
}

/**
 * Check hypothesis (ctx, text_va, text_pa) against the layout's symbols. Fills w (facts,
 * offsets, verified, score).
 */
static void verify_syms(struct finder *f, const struct layout *L, const struct pt_context *ctx,
			uint64_t text_va, uint64_t text_pa, struct work *w)
{
	char why[160];
	uint64_t pa = 0;
	const uint64_t kpgd = w->c.kpgd;

	fact_table_shape(w, f, ctx);
	/* 1. _text -> its physical address */
	w->ok_text = walk_pa(f, ctx, text_va, &pa, why, sizeof(why)) && pa == text_pa;
	if (w->ok_text) {
		/* With the vmlinux: the first bytes there are startup's code (RIP-relative, not
		 * relocated), a fact independent of the walk. */
		const uint8_t *img = pt_symtab_bytes(L->syms, L->file_text, 16);
		const uint8_t *dmp = bytes_at(f, text_pa, 16);
		if (img && dmp)
			fact(w, memcmp(img, dmp, 16) == 0, "_text 0x%" PRIx64 " -> 0x%" PRIx64 ", which %s",
			     text_va, pa, memcmp(img, dmp, 16) == 0 ? "holds the vmlinux's kernel text"
			     : "does not hold the vmlinux's first 16 bytes of text");
		else
			fact(w, true, "_text 0x%" PRIx64 " -> 0x%" PRIx64 " (the kernel's load address)", text_va, pa);
	}
	else if (why[0])
		fact(w, false, "_text 0x%" PRIx64 " %s", text_va, why);
	else
		fact(w, false, "_text 0x%" PRIx64 " -> 0x%" PRIx64 ", not 0x%" PRIx64, text_va, pa, text_pa);

	/* 2. linux_banner -> the banner bytes, at the same image offset */
	char text[96];
	if (L->has_banner) {
		uint64_t bva = sym_va(L, text_va, L->banner_sym);
		uint64_t bpa = text_pa + (L->banner_sym - L->file_text);
		bool mapped = walk_pa(f, ctx, bva, &pa, why, sizeof(why));
		const uint8_t *b = mapped ? bytes_at(f, pa, 1) : NULL;
		w->ok_banner = mapped && pa == bpa && banner_at(f, pa);
		if (w->ok_banner) {
			printable_at(f, pa, text, sizeof(text), 72);
			fact(w, true, "linux_banner 0x%" PRIx64 " -> 0x%" PRIx64 " holds \"%s\"", bva, pa, text);
			/* With the vmlinux: the bytes are the image's. */
			const uint8_t *img = pt_symtab_bytes(L->syms, L->banner_sym, BANNER_LEN + 16);
			const uint8_t *dmp = bytes_at(f, pa, BANNER_LEN + 16);
			if (img && dmp)
				fact(w, memcmp(img, dmp, BANNER_LEN + 16) == 0,
				     "the banner bytes %s the vmlinux's",
				     memcmp(img, dmp, BANNER_LEN + 16) == 0 ? "equal" : "differ from");
		} else if (!mapped) {
			fact(w, false, "linux_banner 0x%" PRIx64 " %s", bva, why);
		} else if (pa != bpa) {
			fact(w, false, "linux_banner 0x%" PRIx64 " -> 0x%" PRIx64 ", not 0x%" PRIx64
			     " (_text + its image offset)", bva, pa, bpa);
		} else {
			printable_at(f, pa, text, sizeof(text), b ? 1 : 0);
			fact(w, false, "linux_banner 0x%" PRIx64 " -> 0x%" PRIx64 ": no \"Linux version\" there",
			     bva, pa);
		}
	} else {
		/* No banner symbol: find it by content in the image and check that it is mapped. */
		uint64_t hit;
		if (find_banner_near(f, text_pa, UINT64_C(64) << 20, L->osrelease, &hit)) {
			uint64_t bva = text_va + (hit - text_pa);
			w->ok_banner = walk_pa(f, ctx, bva, &pa, why, sizeof(why)) && pa == hit;
			fact(w, w->ok_banner, "the banner at 0x%" PRIx64 " (found by content) is mapped at "
			     "0x%" PRIx64 " (_text + 0x%" PRIx64 ")%s", hit, bva, hit - text_pa,
			     w->ok_banner ? "" : ": no");
		} else {
			fact(w, false, "no \"%s%s\" within 64 MiB of _text's PA 0x%" PRIx64, BANNER,
			     L->osrelease ? L->osrelease : "", text_pa);
		}
	}

	/* 3. the table maps its own symbol address to itself */
	if (L->has_kpgd) {
		uint64_t kva = sym_va(L, text_va, L->kpgd_sym);
		bool mapped = walk_pa(f, ctx, kva, &pa, why, sizeof(why));
		w->ok_self = mapped && pa == kpgd;
		if (mapped)
			fact(w, w->ok_self, "%s 0x%" PRIx64 " -> 0x%" PRIx64 "%s", L->kpgd_name, kva, pa,
			     w->ok_self ? ": the table maps its own symbol address to itself" : ", not this table");
		else
			fact(w, false, "%s 0x%" PRIx64 " %s", L->kpgd_name, kva, why);
	}

	/* 4. the image maps linearly, 2 MiB at a time, from _text to the furthest symbol checked
	 *    (and to the kallsyms tables when they were found in memory) */
	uint64_t span = L->image_span;
	if (L->ks && L->ks->pa_token_index > text_pa && L->ks->pa_token_index - text_pa < KERNEL_WINDOW &&
	    L->ks->pa_token_index - text_pa > span)
		span = L->ks->pa_token_index - text_pa;
	unsigned lin_ok = 0, lin_n = 0;
	for (uint64_t off = 0; off <= span && lin_n < 512; off += PMD_SIZE) {
		lin_n++;
		if (walk_pa(f, ctx, text_va + off, &pa, NULL, 0) && pa == text_pa + off)
			lin_ok++;
	}
	w->ok_linear = lin_ok == lin_n;
	fact(w, w->ok_linear, "%u of %u 2 MiB steps from _text map linearly to 0x%" PRIx64 "+", lin_ok,
	     lin_n, text_pa);

	/* 4b. the kernel's own kallsyms tables were found in memory by their content alone: this
	 *     hypothesis must put them inside its image (past _etext, before _end) and map them
	 *     there. Independent of every page table: it is what places the image physically. */
	if (L->ks) {
		const struct pt_kallsyms_info *ks = L->ks;
		const uint64_t off = ks->pa_names - text_pa;
		const uint64_t end = L->end_off ? L->end_off : KERNEL_WINDOW;
		const bool inside = ks->pa_names >= text_pa && off >= L->etext_off && off < end;
		w->ok_tables = inside && walk_pa(f, ctx, text_va + off, &pa, why, sizeof(why)) && pa == ks->pa_names;
		if (inside)
			fact(w, w->ok_tables, "the kernel's kallsyms tables, found in memory by content (%" PRIu64
			     " symbols, names at PA 0x%" PRIx64 "), are _text + 0x%" PRIx64 " in this image%s: "
			     "0x%" PRIx64 " %s", ks->num_syms, ks->pa_names, off,
			     L->etext_off ? " (past _etext)" : "", text_va + off,
			     w->ok_tables ? "maps there" : "does not map there");
		else
			fact(w, false, "the kernel's kallsyms tables (names at PA 0x%" PRIx64 ") are not inside an "
			     "image at 0x%" PRIx64 " (_etext at +0x%" PRIx64 ", end at +0x%" PRIx64 ")",
			     ks->pa_names, text_pa, L->etext_off, end);
		if (L->has_kpgd)
			fact_vmci_kpgd(w, f, sym_va(L, text_va, L->kpgd_sym));
		if (f->agree[0])
			fact(w, true, "%s", f->agree);
	}

	/* 5. how much of the kernel window agrees with this slide (a stray alias agrees in one slot) */
	const uint64_t win_base = L->is64 ? L->map_base : L->map_base;
	const uint64_t win_size = L->is64 ? KERNEL_WINDOW : (f->phys_end < (UINT64_C(896) << 20) ? f->phys_end : UINT64_C(896) << 20);
	unsigned agree = 0;
	for (uint64_t off = 0; off < win_size; off += PMD_SIZE) {
		uint64_t va = win_base + off + (text_va & (PMD_SIZE - 1));
		if (va - text_va + text_pa > f->phys_end && va > text_va)
			break;
		if (walk_pa(f, ctx, va, &pa, NULL, 0) && pa == va - text_va + text_pa)
			agree++;
	}
	w->window_slots = agree;

	/* offsets */
	w->c.text_va = text_va;
	w->c.text_pa = text_pa;
	w->c.offsets_known = true;
	w->c.link_assumed = L->link_assumed;
	w->c.virt_offset = text_va - L->text_link;
	w->c.phys_offset = text_pa - (L->text_link - L->map_base);
	w->c.phys_base = L->is64 ? text_pa - (text_va - START_KERNEL_MAP) : 0;
	if (L->link_assumed)
		fact(w, true, "link-time _text taken as 0x%" PRIx64 " (CONFIG_PHYSICAL_START 16 MiB): the %s "
		     "gives no absolute symbol%s", L->text_link, L->source,
		     L->ks ? " and memory holds no KERNELOFFSET" : "");
	else if (L->ks && L->is64 && f->koff_known)
		fact(w, true, "link-time _text 0x%" PRIx64 " = run-time _text - KERNELOFFSET 0x%" PRIx64
		     " (Linux's VMCOREINFO text in memory)", L->text_link, f->koff);

	/* direct map: page_offset_base holds its base (KASLR moves it) */
	uint64_t pob;
	if (L->is64 && w->ok_text && pt_symtab_value(L->syms, "page_offset_base", &pob)) {
		const uint8_t *p = bytes_at(f, text_pa + (pob - L->file_text), 8);
		uint64_t dm = p ? pt_le64(p) : 0;
		if (dm && walk_pa(f, ctx, dm + text_pa, &pa, NULL, 0) && pa == text_pa) {
			w->c.has_direct_map = true;
			w->c.direct_map = dm;
			fact(w, true, "direct map at 0x%" PRIx64 " (page_offset_base): it maps _text's PA too", dm);
		}
	}

	w->c.verified = w->ok_text && w->ok_linear && w->ok_banner &&
			(!L->has_kpgd || w->ok_self) && (!L->ks || w->ok_tables) &&
			(!w->vmci_said || w->ok_vmci);
	int facts_ok = 0;
	for (size_t i = 0; i < w->c.nfacts; i++)
		facts_ok += w->facts[i].ok;
	w->c.score = facts_ok * 1000 + (int)agree;
	fact(w, agree > 0, "%u 2 MiB slots of the kernel mapping agree with this slide", agree);
}

/* ---- layouts from the symbol source ------------------------------------------------------------ */

/** Fill the layouts a symbol table allows: 1 for x86-64, up to 3 (PAGE_OFFSETs) for i386. */
static size_t layouts_from_syms(struct finder *f, const struct pt_symtab *syms, struct layout *out, size_t max)
{
	uint64_t v;
	const char *source = pt_symtab_format_name(pt_symtab_format(syms));
	struct layout base = { .syms = syms, .source = source };
	bool have_text = pt_symtab_value(syms, "_text", &base.file_text) ||
			 pt_symtab_value(syms, "startup_64", &base.file_text) ||
			 pt_symtab_value(syms, "startup_32", &base.file_text) ||
			 pt_symtab_value(syms, "_stext", &base.file_text);
	if (!have_text) {
		logf_(f, "symbols: %s has no _text, startup_64, startup_32 or _stext", pt_symtab_path(syms));
		return 0;
	}
	/* startup_64 / startup_32 decide; the ELF class does not (an i386 vmlinux may be linked
	 * as ELF64, ours is). */
	bool is64;
	if (pt_symtab_lookup(syms, "startup_64"))
		is64 = true;
	else if (pt_symtab_lookup(syms, "startup_32"))
		is64 = base.file_text > UINT32_MAX;
	else
		is64 = base.file_text > UINT32_MAX || pt_symtab_elf_class(syms) == 64;
	base.is64 = is64;
	static const char *const names64[] = { "init_top_pgt", "init_level4_pgt", "swapper_pg_dir" };
	static const char *const names32[] = { "swapper_pg_dir" };
	const char *const *names = is64 ? names64 : names32;
	size_t nnames = is64 ? 3 : 1;
	for (size_t i = 0; i < nnames; i++) {
		if (pt_symtab_value(syms, names[i], &base.kpgd_sym)) {
			base.kpgd_name = names[i];
			base.has_kpgd = true;
			break;
		}
	}
	if (!base.has_kpgd)
		base.kpgd_name = names[0];
	base.has_banner = pt_symtab_value(syms, "linux_banner", &base.banner_sym);
	uint64_t far = 0;
	if (base.has_banner && base.banner_sym > base.file_text)
		far = base.banner_sym - base.file_text;
	if (base.has_kpgd && base.kpgd_sym > base.file_text && base.kpgd_sym - base.file_text > far)
		far = base.kpgd_sym - base.file_text;
	base.image_span = far < KERNEL_WINDOW ? far : 0;

	if (is64) {
		uint64_t startup = base.file_text, phys;
		pt_symtab_value(syms, "startup_64", &startup);
		base.map_base = START_KERNEL_MAP;
		base.text_link = base.file_text;
		if (pt_symtab_value(syms, "phys_startup_64", &phys)) {
			/* LibVMI's boundary: startup_64 - phys_startup_64 (always __START_KERNEL_map in
			 * Linux; a map that says otherwise is believed and checked like any other). */
			base.map_base = startup - phys;
		} else if (pt_symtab_value(syms, "__START_KERNEL_map", &v)) {
			base.map_base = v;
		} else if (base.file_text > START_KERNEL_MAP + DEFAULT_PHYSICAL_START) {
			/* kallsyms without absolute symbols, above the default link address: a run-time
			 * /proc/kallsyms of a KASLR kernel (or a kernel linked higher): the link-time
			 * _text is taken as the default. */
			base.text_link = START_KERNEL_MAP + DEFAULT_PHYSICAL_START;
			base.link_assumed = true;
		}
		out[0] = base;
		return 1;
	}
	/* i386 */
	uint64_t startup = base.file_text, phys;
	pt_symtab_value(syms, "startup_32", &startup);
	size_t n = 0;
	if (pt_symtab_value(syms, "phys_startup_32", &phys) && startup > phys) {
		out[n] = base;
		out[n].map_base = startup - phys;
		out[n].text_link = base.file_text;
		n++;
	} else {
		for (size_t i = 0; i < 3 && n < max; i++) {
			uint64_t po = PAGE_OFFSETS32[i];
			if (base.file_text < po)
				continue;
			out[n] = base;
			out[n].map_base = po;
			out[n].text_link = base.file_text;
			if (base.file_text > po + DEFAULT_PHYSICAL_START) {
				out[n].text_link = po + DEFAULT_PHYSICAL_START;
				out[n].link_assumed = true;
			}
			n++;
		}
	}
	return n;
}

/** Modes to try for a layout, the CPU's first. */
static size_t modes_for(const struct finder *f, bool is64, enum pt_mode *modes)
{
	if (is64) {
		bool la57_first = f->cpu_mode == PT_MODE_LA57;
		modes[0] = la57_first ? PT_MODE_LA57 : PT_MODE_IA32E;
		modes[1] = la57_first ? PT_MODE_IA32E : PT_MODE_LA57;
	} else {
		bool pae_first = f->cpu_mode == PT_MODE_PAE;
		modes[0] = pae_first ? PT_MODE_PAE : PT_MODE_LEGACY;
		modes[1] = pae_first ? PT_MODE_LEGACY : PT_MODE_PAE;
	}
	return 2;
}

/** Short reason a hypothesis failed (its first failed fact). */
static const char *first_failure(const struct work *w)
{
	for (size_t i = 0; i < w->c.nfacts; i++) {
		if (!w->facts[i].ok)
			return w->facts[i].text;
	}
	return "not enough facts";
}

/**
 * Try one (table, mode, text_va, text_pa) hypothesis; keep it if verified. Returns true when
 * verified. `best` (may be NULL) receives it when it beats what is there.
 */
static bool try_hypothesis(struct finder *f, const struct layout *L, enum pt_kpgd_method method,
			   enum pt_mode mode, uint64_t kpgd, uint64_t text_va, uint64_t text_pa,
			   struct work *best, bool *have_best)
{
	struct pt_context ctx;
	struct work w;
	if (f->budget == 0) {
		if (!f->budget_logged)
			logf_(f, "budget of %" PRIu64 " hypotheses spent: the rest is not checked", HYPOTHESIS_BUDGET);
		f->budget_logged = true;
		return false;
	}
	f->budget--;
	work_init(&w, method, mode, kpgd);
	if (!make_ctx(f, mode, kpgd, &ctx))
		return false;
	verify_syms(f, L, &ctx, text_va, text_pa, &w);
	if (best && (!*have_best || w.c.verified > best->c.verified ||
		     (w.c.verified == best->c.verified && w.c.score > best->c.score))) {
		*best = w;
		best->c.facts = best->facts;
		*have_best = true;
	}
	return w.c.verified;
}

/* ---- strategy 1: VMCOREINFO ---------------------------------------------------------------------- */

static bool vmci_get(const struct finder *f, const char *key, char *buf, size_t buflen)
{
	return vmci_lookup(f->in->vmcoreinfo, f->in->vmcoreinfo_len, key, buf, buflen);
}

static bool vmci_lookup(const char *text, size_t len, const char *key, char *buf, size_t buflen)
{
	const char *p = text, *end = p + len;
	size_t klen = strlen(key);
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) > klen && p[klen] == '=' && memcmp(p, key, klen) == 0) {
			size_t vlen = (size_t)(le - p) - klen - 1;
			while (vlen && (p[klen + vlen] == '\r' || p[klen + vlen] == 0))
				vlen--;
			if (vlen >= buflen)
				return false;
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = 0;
			return true;
		}
		p = nl ? nl + 1 : end;
	}
	return false;
}

static bool parse_num(const char *s, int base, bool allow_neg, uint64_t *v)
{
	bool neg = false;
	if (allow_neg && *s == '-') {
		neg = true;
		s++;
	}
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return false;
	uint64_t x = 0;
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		x = x * (uint64_t)base + (uint64_t)d;
	}
	*v = neg ? (uint64_t)0 - x : x;
	return true;
}

static void strategy_vmcoreinfo(struct finder *f)
{
	if (!f->in->vmcoreinfo) {
		logf_(f, "vmcoreinfo: the dump has no VMCOREINFO note");
		return;
	}
	char buf[128], osrel[80] = "";
	uint64_t kpgd_va = 0, phys_base = 0, koff = 0, stext = 0, l5 = 0;
	const char *kname = NULL;
	static const char *const keys[] = { "init_top_pgt", "swapper_pg_dir", "init_level4_pgt" };
	for (size_t i = 0; i < 3 && !kname; i++) {
		char key[64];
		snprintf(key, sizeof(key), "SYMBOL(%s)", keys[i]);
		if (vmci_get(f, key, buf, sizeof(buf)) && parse_num(buf, 16, false, &kpgd_va))
			kname = keys[i];
	}
	if (!kname) {
		logf_(f, "vmcoreinfo: no SYMBOL(init_top_pgt) or SYMBOL(swapper_pg_dir)");
		return;
	}
	bool has_pb = vmci_get(f, "NUMBER(phys_base)", buf, sizeof(buf)) && parse_num(buf, 10, true, &phys_base);
	bool has_koff = vmci_get(f, "KERNELOFFSET", buf, sizeof(buf)) && parse_num(buf, 16, false, &koff);
	bool has_stext = vmci_get(f, "SYMBOL(_stext)", buf, sizeof(buf)) && parse_num(buf, 16, false, &stext);
	bool has_l5 = vmci_get(f, "NUMBER(pgtable_l5_enabled)", buf, sizeof(buf)) && parse_num(buf, 10, false, &l5);
	bool pae = vmci_get(f, "CONFIG_X86_PAE", buf, sizeof(buf)) && strcmp(buf, "y") == 0;
	vmci_get(f, "OSRELEASE", osrel, sizeof(osrel));
	const bool is64 = kpgd_va > UINT32_MAX;

	struct pt_symtab *vs = pt_symtab_create();
	if (!vs) {
		f->oom = true;
		return;
	}
	pt_symtab_add(vs, kname, kpgd_va, 'D');
	struct layout L = {
		.is64 = is64, .source = "VMCOREINFO", .syms = vs, .kpgd_name = kname, .has_kpgd = true,
		.kpgd_sym = kpgd_va, .osrelease = osrel[0] ? osrel : NULL,
	};
	/* A symbol file adds linux_banner, converted to run-time with KERNELOFFSET. */
	uint64_t ftext, fbanner;
	const struct pt_symtab *fs = f->in->symbols;
	size_t nl = 0;
	uint64_t pos[3];
	if (is64) {
		pos[nl++] = START_KERNEL_MAP;
	} else {
		for (size_t i = 0; i < 3; i++)
			if (kpgd_va >= PAGE_OFFSETS32[i])
				pos[nl++] = PAGE_OFFSETS32[i];
	}
	bool done = false;
	for (size_t li = 0; li < nl && !done; li++) {
		L.map_base = pos[li];
		uint64_t text_va;
		if (has_stext)
			text_va = stext;
		else if (has_koff)
			text_va = L.map_base + DEFAULT_PHYSICAL_START + koff;
		else
			text_va = L.map_base + DEFAULT_PHYSICAL_START;
		L.file_text = text_va;
		L.text_link = has_koff ? text_va - koff : L.map_base + DEFAULT_PHYSICAL_START;
		L.link_assumed = !has_koff && !is64;
		uint64_t text_pa, kpgd;
		if (is64) {
			if (!has_pb) {
				logf_(f, "vmcoreinfo: SYMBOL(%s) but no NUMBER(phys_base)", kname);
				break;
			}
			text_pa = text_va - START_KERNEL_MAP + phys_base;
			kpgd = kpgd_va - START_KERNEL_MAP + phys_base;
		} else {
			text_pa = text_va - L.map_base;
			kpgd = kpgd_va - L.map_base;
		}
		L.has_banner = false;
		if (fs && pt_symtab_value(fs, "linux_banner", &fbanner) &&
		    (pt_symtab_value(fs, "_text", &ftext) || pt_symtab_value(fs, "startup_64", &ftext) ||
		     pt_symtab_value(fs, "startup_32", &ftext))) {
			L.has_banner = true;
			L.banner_sym = text_va + (fbanner - ftext);
		}
		L.image_span = kpgd_va > text_va && kpgd_va - text_va < KERNEL_WINDOW ? kpgd_va - text_va : 0;
		enum pt_mode modes[2];
		size_t nm = 0;
		if (is64 && has_l5) {
			modes[nm++] = l5 ? PT_MODE_LA57 : PT_MODE_IA32E;
		} else if (!is64) {
			modes[nm++] = pae ? PT_MODE_PAE : PT_MODE_LEGACY;
			modes[nm++] = pae ? PT_MODE_LEGACY : PT_MODE_PAE;
		} else {
			nm = modes_for(f, true, modes);
		}
		for (size_t m = 0; m < nm && !done; m++) {
			struct work w;
			bool have = false;
			try_hypothesis(f, &L, PT_KPGD_VMCOREINFO, modes[m], kpgd, text_va, text_pa, &w, &have);
			if (!have)
				continue;
			if (is64)
				fact(&w, true, "VMCOREINFO: %s=0x%" PRIx64 " phys_base=0x%" PRIx64 "%s", kname,
				     kpgd_va, phys_base, has_l5 ? (l5 ? " pgtable_l5_enabled=1" : " pgtable_l5_enabled=0") : "");
			keep(f, &w);
			logf_(f, "vmcoreinfo: %s 0x%" PRIx64 " -> kpgd 0x%" PRIx64 " (%s): %s", kname, kpgd_va, kpgd,
			      pt_mode_name(modes[m]), w.c.verified ? "verified" : first_failure(&w));
			done = w.c.verified;
		}
	}
	pt_symtab_destroy(vs);
}

/* ---- strategy 2: symbol-direct ------------------------------------------------------------------- */

static void strategy_symbols(struct finder *f, const struct layout *Ls, size_t nl)
{
	for (size_t li = 0; li < nl; li++) {
		const struct layout *L = &Ls[li];
		if (!L->has_kpgd) {
			logf_(f, "symbols: no init_top_pgt, init_level4_pgt or swapper_pg_dir in the %s", L->source);
			return;
		}
		const uint64_t kpgd = L->kpgd_sym - L->map_base;
		const uint64_t text_va = L->file_text;
		const uint64_t text_pa = L->file_text - L->map_base;
		enum pt_mode modes[2];
		size_t nm = modes_for(f, L->is64, modes);
		for (size_t m = 0; m < nm; m++) {
			struct work w;
			bool have = false;
			try_hypothesis(f, L, PT_KPGD_SYMBOLS, modes[m], kpgd, text_va, text_pa, &w, &have);
			if (!have) {
				logf_(f, "symbols: %s 0x%" PRIx64 " - 0x%" PRIx64 " = 0x%" PRIx64 " (%s): not a table in the dump",
				      L->kpgd_name, L->kpgd_sym, L->map_base, kpgd, pt_mode_name(modes[m]));
				continue;
			}
			logf_(f, "symbols: %s 0x%" PRIx64 " - 0x%" PRIx64 " = 0x%" PRIx64 " (%s): %s", L->kpgd_name,
			      L->kpgd_sym, L->map_base, kpgd, pt_mode_name(modes[m]),
			      w.c.verified ? "verified" : first_failure(&w));
			if (w.c.verified) {
				fact(&w, true, "boundary 0x%" PRIx64 " = %s", L->map_base,
				     pt_symtab_lookup(L->syms, "phys_startup_64") ? "startup_64 - phys_startup_64"
				     : L->is64 ? "__START_KERNEL_map" : "PAGE_OFFSET");
				keep(f, &w);
				return;
			}
		}
	}
}

/* ---- strategy 3: KASLR (banner located physically) ------------------------------------------------- */

/** Keep the best verified hypothesis; count the verified ones that tie with it on score. */
static void consider(struct finder *f, const struct layout *L, enum pt_mode mode, uint64_t kpgd,
		     uint64_t text_va, uint64_t text_pa, struct work *best, bool *have_best, unsigned *ntop)
{
	struct work w;
	bool have = false;
	try_hypothesis(f, L, PT_KPGD_KASLR, mode, kpgd, text_va, text_pa, &w, &have);
	if (!have)
		return;
	if (!*have_best || (w.c.verified && !best->c.verified) ||
	    (w.c.verified == best->c.verified && w.c.score > best->c.score)) {
		*best = w;
		best->c.facts = best->facts;
		*have_best = true;
		*ntop = w.c.verified ? 1 : 0;
	} else if (w.c.verified && best->c.verified && w.c.score == best->c.score &&
		   w.c.text_va != best->c.text_va) {
		(*ntop)++;
	}
}

static void strategy_kaslr(struct finder *f, const struct layout *Ls, size_t nl)
{
	for (size_t li = 0; li < nl; li++) {
		const struct layout *L = &Ls[li];
		if (!L->has_kpgd || !L->has_banner) {
			logf_(f, "kaslr: needs linux_banner and %s in the %s", L->kpgd_name, L->source);
			return;
		}
		const uint64_t align = L->is64 ? ALIGN64 : ALIGN32;
		const uint64_t banner_off = L->banner_sym - L->file_text;
		const uint64_t link_pa = L->text_link - L->map_base;
		if (banner_off > KERNEL_WINDOW) {
			logf_(f, "kaslr: linux_banner is not inside the kernel image (0x%" PRIx64 " from _text)", banner_off);
			return;
		}
		const uint64_t want = (link_pa + banner_off) % align; /* banner PA mod align */
		size_t hits = 0, tried = 0;
		struct work best;
		bool have_best = false;
		unsigned nverified_top = 0;
		for (size_t ri = 0; ri < f->in->nranges && hits < MAX_BANNER_HITS; ri++) {
			const struct pt_dump_range *r = &f->in->ranges[ri];
			uint64_t b = r->pa - r->pa % align + want;
			if (b < r->pa)
				b += align;
			for (; b + BANNER_LEN <= r->pa + r->size && hits < MAX_BANNER_HITS; b += align) {
				if (!banner_at(f, b) || b < banner_off)
					continue;
				hits++;
				const uint64_t text_pa = b - banner_off;
				const uint64_t kpgd = text_pa + (L->kpgd_sym - L->file_text);
				enum pt_mode modes[2];
				size_t nm = modes_for(f, L->is64, modes);
				for (size_t m = 0; m < nm; m++) {
					struct pt_context ctx;
					if (!make_ctx(f, modes[m], kpgd, &ctx))
						continue;
					if (!L->is64) {
						/* i386: virtual and physical move together */
						tried++;
						consider(f, L, modes[m], kpgd, L->text_link + (text_pa - link_pa), text_pa,
							 &best, &have_best, &nverified_top);
						continue;
					}
					/* x86-64: the slide by walking the window for VAs that map text_pa */
					for (uint64_t off = 0; off < KERNEL_WINDOW; off += PMD_SIZE) {
						uint64_t va = L->map_base + off + (L->text_link & (PMD_SIZE - 1));
						uint64_t pa;
						if (!walk_pa(f, &ctx, va, &pa, NULL, 0) || pa != text_pa)
							continue;
						tried++;
						consider(f, L, modes[m], kpgd, va, text_pa, &best, &have_best, &nverified_top);
					}
				}
			}
		}
		if (have_best && best.c.verified) {
			if (nverified_top > 1) {
				best.c.verified = false;
				fact(&best, false, "%u slides verify equally well: ambiguous", nverified_top);
			}
			fact(&best, true, "linux_banner found at PA 0x%" PRIx64 " (congruent to its link address "
			     "modulo 0x%" PRIx64 "): phys_offset 0x%" PRIx64, best.c.text_pa + banner_off, align,
			     best.c.phys_offset);
			keep(f, &best);
			logf_(f, "kaslr: %zu banner(s) at congruent addresses, %zu hypotheses: kpgd 0x%" PRIx64
			      " virt_offset 0x%" PRIx64 " phys_offset 0x%" PRIx64 ": %s", hits, tried, best.c.kpgd,
			      best.c.virt_offset, best.c.phys_offset, best.c.verified ? "verified" : "ambiguous");
			if (best.c.verified)
				return;
		} else {
			logf_(f, "kaslr: %zu banner(s) at addresses congruent to 0x%" PRIx64 " mod 0x%" PRIx64
			      ", %zu hypotheses: none verified%s%s", hits, want, align, tried,
			      have_best ? ": " : "", have_best ? first_failure(&best) : "");
		}
	}
}

/* ---- banner hits by content (for the strategies without symbols) ------------------------------ */

static void scan_banners(struct finder *f)
{
	if (f->banners_scanned)
		return;
	f->banners_scanned = true;
	f->banners = calloc(MAX_BANNER_HITS, sizeof(*f->banners));
	if (!f->banners) {
		f->oom = true;
		return;
	}
	for (size_t ri = 0; ri < f->in->nranges && f->nbanners < MAX_BANNER_HITS; ri++) {
		const struct pt_dump_range *r = &f->in->ranges[ri];
		const uint8_t *p = bytes_at(f, r->pa, (size_t)r->size);
		if (!p)
			continue;
		/* memchr for the first byte runs at memory speed over the zero pages that make up most
		 * of a dump; memmem (two-way) is several times slower there. */
		const uint8_t *q = p, *end = p + r->size;
		while (f->nbanners < MAX_BANNER_HITS && (size_t)(end - q) >= BANNER_LEN &&
		       (q = memchr(q, BANNER[0], (size_t)(end - q) - BANNER_LEN + 1)) != NULL) {
			if (memcmp(q, BANNER, BANNER_LEN) == 0)
				f->banners[f->nbanners++] = r->pa + (uint64_t)(q - p);
			q++;
		}
	}
}

/* ---- strategy 4: the early-boot identity map in CR3 ---------------------------------------------- */

static void strategy_identity(struct finder *f, const struct layout *Ls, size_t nl)
{
	if (!f->in->has_cpu || f->cpu_mode == PT_MODE_OFF) {
		logf_(f, "identity: no CPU state with paging on");
		return;
	}
	struct pt_context ctx;
	struct pt_cpu_state cpu = f->in->cpu;
	if (load_context(f, &cpu, &ctx, NULL) != PT_OK) {
		logf_(f, "identity: the CPU state's table cannot be loaded");
		return;
	}
	const uint64_t root = ctx.root;
	uint64_t pa;
	/* The table must map itself 1:1 (the code that set it up runs identity-mapped). */
	if (!walk_pa(f, &ctx, root, &pa, NULL, 0) || pa != root) {
		logf_(f, "identity: CR3's table 0x%" PRIx64 " does not identity-map itself", root);
		return;
	}
	/* The kernel image: from the symbols (banner at a congruent PA), else any banner. */
	const struct layout *L = nl ? &Ls[0] : NULL;
	uint64_t text_pa = 0, banner_pa = 0;
	bool found = false;
	if (L && L->has_banner) {
		const uint64_t banner_off = L->banner_sym - L->file_text;
		const uint64_t link_pa = L->text_link - L->map_base;
		const uint64_t align = L->is64 ? ALIGN64 : ALIGN32;
		scan_banners(f);
		for (size_t i = 0; i < f->nbanners && !found; i++) {
			uint64_t b = f->banners[i];
			if (b < banner_off || (b - banner_off) % align != link_pa % align)
				continue;
			if (walk_pa(f, &ctx, b, &pa, NULL, 0) && pa == b) {
				banner_pa = b;
				text_pa = b - banner_off;
				found = true;
			}
		}
	} else {
		scan_banners(f);
		for (size_t i = 0; i < f->nbanners && !found; i++) {
			uint64_t b = f->banners[i];
			if (walk_pa(f, &ctx, b, &pa, NULL, 0) && pa == b) {
				banner_pa = b;
				found = true;
			}
		}
	}
	if (!found) {
		logf_(f, "identity: CR3's table 0x%" PRIx64 " maps no kernel banner 1:1", root);
		return;
	}
	struct work w;
	work_init(&w, PT_KPGD_IDENTITY, ctx.mode, root & ~(PAGE - 1));
	if (ctx.mode == PT_MODE_PAE)
		w.c.kpgd = root;
	fact_table_shape(&w, f, &ctx);
	fact(&w, true, "the table maps its own address 0x%" PRIx64 " to itself (identity)", root);
	char text[96];
	printable_at(f, banner_pa, text, sizeof(text), 60);
	fact(&w, true, "the banner at 0x%" PRIx64 " is identity-mapped: \"%s\"", banner_pa, text);
	bool text_ok = true, unmapped = true;
	if (L) {
		text_ok = walk_pa(f, &ctx, text_pa, &pa, NULL, 0) && pa == text_pa;
		fact(&w, text_ok, "_text's PA 0x%" PRIx64 " is identity-mapped", text_pa);
		char why[160];
		unmapped = !walk_pa(f, &ctx, L->file_text, &pa, why, sizeof(why));
		fact(&w, unmapped, "_text's virtual address 0x%" PRIx64 " %s", L->file_text,
		     unmapped ? why : "is mapped: not an early-boot table");
		if (L->has_kpgd) {
			const uint8_t *k = bytes_at(f, text_pa + (L->kpgd_sym - L->file_text), PAGE);
			bool empty = true;
			for (size_t i = 0; k && i < PAGE && empty; i++)
				empty = k[i] == 0;
			fact(&w, true, "%s at 0x%" PRIx64 " is %s", L->kpgd_name, text_pa + (L->kpgd_sym - L->file_text),
			     !k ? "not in the dump" : empty ? "still empty: the kernel has not started"
			     : "not empty");
		}
		w.c.offsets_known = true;
		w.c.text_pa = text_pa;
		w.c.text_va = text_pa;
		w.c.virt_offset = 0;
		w.c.phys_offset = text_pa - (L->text_link - L->map_base);
		w.c.link_assumed = L->link_assumed;
		fact(&w, true, "the kernel is not mapped at its virtual address yet (decompressor stage): "
		     "virt_offset 0");
	} else {
		/* no symbols: nothing in the kernel half */
		uint64_t probe = ctx.desc->va_bits == 32 ? 0xc0000000 : START_KERNEL_MAP + DEFAULT_PHYSICAL_START;
		unmapped = !walk_pa(f, &ctx, probe, &pa, NULL, 0);
		fact(&w, unmapped, "0x%" PRIx64 " (the kernel's usual address) is %s", probe,
		     unmapped ? "not mapped" : "mapped");
		w.c.text_pa = banner_pa;
		w.c.text_va = banner_pa;
	}
	w.c.verified = text_ok && unmapped;
	w.c.score = 5000;
	keep(f, &w);
	logf_(f, "identity: CR3's table 0x%" PRIx64 " identity-maps the kernel image: %s", root,
	      w.c.verified ? "verified" : first_failure(&w));
}

/* ---- strategy 5: brute force ------------------------------------------------------------------- */

/** Second stage of the 64-bit screen: the whole page decoded loosely. */
static bool plausible_top64(const uint8_t *t, uint64_t phys_end)
{
	unsigned bad = 0, present = 0;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = pt_le64(t + 8 * i);
		if (!(e & 1))
			continue; /* non-present: whatever the bits, tolerated */
		present++;
		if ((e & PTE_PS) || frame_fits(e & FRAME52, phys_end) < 0)
			bad++;
	}
	return bad <= 16 && bad < present;
}

uint64_t pt_kpgd_screen64(const uint8_t *data, uint64_t pa, uint64_t len, uint64_t phys_end,
			  void (*found)(void *arg, uint64_t page_pa), void *arg)
{
	uint64_t n = 0;
	/* Stage 1 reads entry 511 of every page (the kernel image's slot in both 4- and 5-level
	 * tables): present, PS clear (reserved at the top level), frame inside the dump modulo a
	 * C-bit. Pages are taken 8 at a time so the compiler can keep the loads in flight. */
	uint64_t off = 0;
	for (; off + 8 * PAGE <= len; off += 8 * PAGE) {
		uint64_t e[8];
		unsigned hit = 0;
		for (unsigned k = 0; k < 8; k++) {
			memcpy(&e[k], data + off + k * PAGE + 4088, 8);
			hit |= (unsigned)((e[k] & 0x81) == 0x1) << k;
		}
		while (hit) {
			unsigned k = (unsigned)__builtin_ctz(hit);
			hit &= hit - 1;
			if (frame_fits(e[k] & FRAME52, phys_end) < 0)
				continue;
			if (!plausible_top64(data + off + k * PAGE, phys_end))
				continue;
			n++;
			if (found)
				found(arg, pa + off + k * PAGE);
		}
	}
	for (; off + PAGE <= len; off += PAGE) {
		uint64_t e;
		memcpy(&e, data + off + 4088, 8);
		if ((e & 0x81) != 0x1 || frame_fits(e & FRAME52, phys_end) < 0 ||
		    !plausible_top64(data + off, phys_end))
			continue;
		n++;
		if (found)
			found(arg, pa + off);
	}
	return n;
}

/** 32-bit screens: a legacy page directory or a PAE PDPT with the kernel half present. */
static bool plausible_top32(const uint8_t *t, uint64_t phys_end, bool pae)
{
	if (pae) {
		unsigned present = 0;
		for (unsigned i = 0; i < 4; i++) {
			uint64_t e = pt_le64(t + 8 * i);
			if (!(e & 1))
				continue;
			/* PDPTE: bits 2:1, 8:5 and 63:52 reserved (SDM Table 4-8); bit 5 tolerated
			 * (PDPTE_ACCESSED: QEMU's TCG writes it) */
			if ((e & (0x1e6 & ~PDPTE_ACCESSED)) || (e >> 52) || (e & FRAME52) >= phys_end)
				return false;
			present++;
		}
		return present > 0 && (pt_le64(t + 24) & 1); /* the top GiB holds the kernel for every split */
	}
	unsigned present = 0, bad = 0;
	for (unsigned i = 256; i < 1024; i++) {
		uint64_t e = pt_le32(t + 4 * i);
		if (!(e & 1))
			continue;
		present++;
		if (!(e & PTE_PS) && (e & ~(PAGE - 1)) >= phys_end)
			bad++;
	}
	return present >= 1 && bad <= 8 && bad * 2 < present && (pt_le32(t + 4 * 1023) || pt_le32(t + 4 * 768) || pt_le32(t + 4 * 512) || pt_le32(t + 4 * 256));
}

struct screen_list {
	uint64_t *pages;
	size_t n;
	bool full;
	uint64_t total;
};

static void screen_add(void *arg, uint64_t page_pa)
{
	struct screen_list *s = arg;
	s->total++;
	if (s->n < MAX_SCREENED)
		s->pages[s->n++] = page_pa;
	else
		s->full = true;
}

static void run_screen(struct finder *f, struct screen_list *s64, struct screen_list *s32)
{
	const struct pt_kpgd_inputs *in = f->in;
	uint64_t total = 0, done = 0;
	for (size_t i = 0; i < in->nranges; i++)
		total += in->ranges[i].size;
	double t0 = now_seconds();
	for (size_t i = 0; i < in->nranges; i++) {
		const struct pt_dump_range *r = &in->ranges[i];
		uint64_t start = (r->pa + PAGE - 1) & ~(PAGE - 1);
		if (start >= r->pa + r->size)
			continue;
		for (uint64_t pa = start; pa < r->pa + r->size; pa += SCAN_CHUNK) {
			uint64_t len = r->pa + r->size - pa;
			if (len > SCAN_CHUNK)
				len = SCAN_CHUNK;
			len &= ~(PAGE - 1);
			const uint8_t *p = len ? bytes_at(f, pa, (size_t)len) : NULL;
			if (p) {
				if (f->try64)
					pt_kpgd_screen64(p, pa, len, f->phys_end, screen_add, s64);
				if (f->try32 && pa < (UINT64_C(1) << 32)) {
					for (uint64_t off = 0; off + PAGE <= len; off += PAGE) {
						if (plausible_top32(p + off, f->phys_end, false) ||
						    plausible_top32(p + off, f->phys_end, true))
							screen_add(s32, pa + off);
					}
				}
			}
			done += len;
			if (in->progress)
				in->progress(in->progress_arg, done, total);
		}
	}
	f->res->bytes_scanned = done;
	f->res->scan_seconds = now_seconds() - t0;
	f->res->screened = s64->total + s32->total;
}

/** Brute force with symbols: every screened table, every slide the window allows. */
static void brute_with_syms(struct finder *f, const struct layout *Ls, size_t nl, const struct screen_list *s,
			    bool is64)
{
	size_t nverified = 0;
	for (size_t li = 0; li < nl; li++) {
		const struct layout *L = &Ls[li];
		if (L->is64 != is64 || (L->ks && !L->has_kpgd))
			continue; /* text only with the kallsyms tables: strategy_textonly's, with its checks */
		const uint64_t link_pa = L->text_link - L->map_base;
		for (size_t i = 0; i < s->n; i++) {
			enum pt_mode modes[2];
			size_t nm = modes_for(f, is64, modes);
			for (size_t m = 0; m < nm; m++) {
				struct pt_context ctx;
				if (!make_ctx(f, modes[m], s->pages[i], &ctx))
					continue;
				struct work best;
				bool have = false;
				if (is64) {
					for (uint64_t off = 0; off < KERNEL_WINDOW; off += PMD_SIZE) {
						uint64_t va = L->map_base + off + (L->text_link & (PMD_SIZE - 1));
						uint64_t pa;
						if (!walk_pa(f, &ctx, va, &pa, NULL, 0) || pa % ALIGN64 != link_pa % ALIGN64)
							continue;
						try_hypothesis(f, L, PT_KPGD_BRUTE, modes[m], s->pages[i], va, pa, &best, &have);
					}
				} else {
					uint64_t pa;
					if (walk_pa(f, &ctx, L->file_text, &pa, NULL, 0))
						try_hypothesis(f, L, PT_KPGD_BRUTE, modes[m], s->pages[i], L->file_text, pa,
							       &best, &have);
				}
				if (have && best.c.verified) {
					keep(f, &best);
					nverified++;
				}
			}
		}
	}
	logf_(f, "brute-force: %zu screened table(s) checked with the symbols: %zu verified", s->n, nverified);
}

/** Brute force without symbols: rank the screened tables by what they map. */
/**
 * The direct map without symbols: in the kernel half below the image window, a mapping that
 * starts at PA 0 and runs linearly for at least 16 MiB (Linux's page_offset_base). Bounded.
 */
static bool find_direct_map(const struct finder *f, const struct pt_context *ctx, uint64_t *base_ret,
			    uint64_t *size_ret)
{
	const uint64_t half = ctx->mode == PT_MODE_LA57 ? UINT64_C(0xff00000000000000) : UINT64_C(0xffff800000000000);
	struct pt_maps_opts o = { .coalesce = true, .va_start = half, .va_last = START_KERNEL_MAP - 1,
				  .alias_budget = 4096 };
	struct pt_maps_iter *it;
	if (pt_maps_create(ctx, f->mem, &o, &it) != PT_OK)
		return false;
	struct pt_range r;
	bool found = false;
	uint64_t cur_va = 0, cur_end = 0;
	for (unsigned n = 0; n < 4096 && !found && pt_maps_next(it, &r); n++) {
		if (r.kind != PT_RANGE_MAPPED)
			continue;
		/* coalesced ranges split where the rights or the page size change: join them */
		if (cur_end && r.va == cur_va + cur_end && r.pa == cur_end) {
			cur_end += r.size;
		} else if (r.pa == 0) {
			cur_va = r.va;
			cur_end = r.size;
		} else {
			cur_end = 0;
			continue;
		}
		if (cur_end >= (UINT64_C(16) << 20) || cur_end >= f->phys_end) {
			found = true;
			*base_ret = cur_va;
			*size_ret = cur_end;
		}
	}
	pt_maps_destroy(it);
	return found;
}

static void brute_without_syms(struct finder *f, const struct screen_list *s, bool is64)
{
	scan_banners(f);
	size_t nverified = 0;
	for (size_t i = 0; i < s->n; i++) {
		enum pt_mode modes[2];
		size_t nm = modes_for(f, is64, modes);
		for (size_t m = 0; m < nm; m++) {
			struct pt_context ctx;
			if (!make_ctx(f, modes[m], s->pages[i], &ctx))
				continue;
			/* Which banner copies does the kernel half map, and where? */
			const uint64_t half = is64 ? (modes[m] == PT_MODE_LA57 ? UINT64_C(0xff00000000000000)
								     : UINT64_C(0xffff800000000000))
						   : 0x40000000;
			const uint64_t win = is64 ? START_KERNEL_MAP : half;
			struct pt_maps_iter *it;
			if (f->budget == 0 || f->range_budget == 0) {
				if (!f->budget_logged)
					logf_(f, "brute-force: work budget spent: the remaining candidates are not checked");
				f->budget_logged = true;
				break;
			}
			f->budget--;
			/* A kernel image window holds a few dozen ranges; a hostile table that aliases one
			 * page everywhere is cut short (alias budget, range cap, and a budget over all). */
			struct pt_maps_opts o = { .coalesce = true, .va_start = win, .va_last = is64 ? UINT64_MAX : 0xffffffff,
						  .alias_budget = 4096 };
			if (pt_maps_create(&ctx, f->mem, &o, &it) != PT_OK)
				continue;
			struct pt_range r;
			uint64_t bva = 0, bpa = 0;
			bool banner = false;
			unsigned ranges = 0;
			while (!banner && ranges < 4096 && f->range_budget > 0 && pt_maps_next(it, &r)) {
				ranges++;
				f->range_budget--;
				if (r.kind != PT_RANGE_MAPPED)
					continue;
				for (size_t b = 0; b < f->nbanners; b++) {
					if (f->banners[b] >= r.pa && f->banners[b] - r.pa < r.size) {
						bpa = f->banners[b];
						bva = r.va + (bpa - r.pa);
						banner = true;
						break;
					}
				}
			}
			pt_maps_destroy(it);
			if (!banner)
				continue;
			struct work w;
			work_init(&w, PT_KPGD_BRUTE, modes[m], s->pages[i]);
			fact_table_shape(&w, f, &ctx);
			char text[96];
			printable_at(f, bpa, text, sizeof(text), 60);
			w.ok_banner = true;
			fact(&w, true, "the kernel half maps 0x%" PRIx64 " -> 0x%" PRIx64 ": \"%s\"", bva, bpa, text);
			/* The same kernel mapping maps the table itself. */
			const uint64_t delta = bva - bpa; /* VA - PA of the kernel mapping */
			uint64_t pa;
			uint64_t tva = s->pages[i] + delta;
			w.ok_self = walk_pa(f, &ctx, tva, &pa, NULL, 0) && pa == s->pages[i];
			fact(&w, w.ok_self, "the same mapping (VA - PA = 0x%" PRIx64 ") maps the table: 0x%" PRIx64
			     " -> %s", delta, tva, w.ok_self ? "itself" : "elsewhere");
			/* Linear extent of that mapping, 2 MiB at a time around the banner. */
			unsigned agree = 0;
			uint64_t lo = is64 ? START_KERNEL_MAP : half;
			for (uint64_t off = 0; off < KERNEL_WINDOW; off += PMD_SIZE) {
				uint64_t va = lo + off + (bva & (PMD_SIZE - 1));
				if (walk_pa(f, &ctx, va, &pa, NULL, 0) && pa == va - delta)
					agree++;
			}
			w.window_slots = agree;
			fact(&w, agree >= 1, "%u 2 MiB slots of the kernel mapping share that offset", agree);
			/* An empty user half is the kernel's own table (init_mm), not a process's. */
			const uint8_t *t = bytes_at(f, ctx.root & ~(PAGE - 1), PAGE);
			unsigned user = 0;
			unsigned n = ctx.desc->entry_size == 8 ? 256 : 512;
			for (unsigned e = 0; t && e < (ctx.mode == PT_MODE_PAE ? 2 : n); e++)
				user += ctx.desc->entry_size == 8 ? (pt_le64(t + 8 * e) & 1) : (pt_le32(t + 4 * e) & 1);
			fact(&w, user == 0, "user half: %u present entries%s", user,
			     user ? " (a process's or an early table?)" : " (the kernel's own table)");
			/* A 5-level table above a 4-level candidate is the real top. */
			int la57_bonus = 0;
			if (modes[m] == PT_MODE_LA57 && t) {
				uint64_t child = pt_le64(t + 8 * 511) & ctx.addr_mask;
				for (size_t j = 0; j < s->n; j++)
					if (s->pages[j] == child)
						la57_bonus = 1;
				if (la57_bonus)
					fact(&w, true, "PML5[511] -> 0x%" PRIx64 ", itself a table: the top is the PML5",
					     child);
			}
			if (f->in->has_cpu) {
				struct pt_context cctx;
				if (pt_context_init(&cctx, &f->in->cpu, NULL, NULL, NULL) == PT_OK ||
				    cctx.mode == PT_MODE_PAE) {
					bool same = (cctx.root & ~(PAGE - 1)) == (ctx.root & ~(PAGE - 1)) && cctx.mode == ctx.mode;
					if (same)
						fact(&w, true, "the dump's CR3 agrees (a tie-breaker only)");
					w.c.score += same ? 1 : 0;
					if (cctx.mode != ctx.mode)
						w.c.score -= 100;
				}
			}
			uint64_t dm, dmsize;
			if (is64 && find_direct_map(f, &ctx, &dm, &dmsize) && walk_pa(f, &ctx, dm + bpa, &pa, NULL, 0) &&
			    pa == bpa) {
				w.c.has_direct_map = true;
				w.c.direct_map = dm;
				w.c.score += 200;
				fact(&w, true, "direct map at 0x%" PRIx64 ": PA 0.. 0x%" PRIx64 " linearly, the banner too",
				     dm, dmsize);
			}
			w.c.verified = w.ok_banner && w.ok_self;
			w.c.text_va = bva;
			w.c.text_pa = bpa;
			w.c.phys_base = is64 ? bpa - (bva - START_KERNEL_MAP) : 0;
			w.c.score += (w.ok_self ? 1000 : 0) + (user == 0 ? 500 : 0) + la57_bonus * 600 + (int)agree;
			keep(f, &w);
			nverified += w.c.verified;
		}
	}
	logf_(f, "brute-force: %zu screened table(s), %zu banner(s) by content: %zu candidate(s) map a banner "
	      "and themselves", s->n, f->nbanners, nverified);
}

static void strategy_brute(struct finder *f, const struct layout *Ls, size_t nl)
{
	struct screen_list s64 = { 0 }, s32 = { 0 };
	s64.pages = calloc(MAX_SCREENED, sizeof(uint64_t));
	s32.pages = calloc(MAX_SCREENED, sizeof(uint64_t));
	if (!s64.pages || !s32.pages) {
		f->oom = true;
		goto out;
	}
	run_screen(f, &s64, &s32);
	logf_(f, "brute-force: screened 0x%" PRIx64 " bytes in %.3f s: %" PRIu64 " 64-bit and %" PRIu64
	      " 32-bit table shapes%s", f->res->bytes_scanned, f->res->scan_seconds, s64.total, s32.total,
	      s64.full || s32.full ? " (only the first 4096 of each kept)" : "");
	/* Text-only symbols recovered from memory are strategy_textonly's (brute_with_syms skips
	 * them): alone, the brute force ranks the tables as without symbols. */
	if (nl && !(Ls[0].ks && !Ls[0].has_kpgd)) {
		if (f->try64)
			brute_with_syms(f, Ls, nl, &s64, true);
		if (f->try32)
			brute_with_syms(f, Ls, nl, &s32, false);
	} else {
		if (f->try64)
			brute_without_syms(f, &s64, true);
		if (f->try32)
			brute_without_syms(f, &s32, false);
	}
out:
	free(s64.pages);
	free(s32.pages);
}

/* ---- the kernel's own kallsyms tables, recovered from memory ------------------------------------ */

/**
 * Linux's VMCOREINFO text in memory: vmcoreinfo_data is a zeroed page of its own whose text
 * starts with "OSRELEASE=" (crash_save_vmcoreinfo_init writes that line first, at boot, with
 * the SYMBOL() lines and on x86-64 KERNELOFFSET). Only a copy whose SYMBOL(_stext) is the
 * recovered table's _stext is believed (a stale page of another kernel is not).
 */
static void find_vmcoreinfo_in_memory(struct finder *f, const struct pt_symtab *rec)
{
	static const char KEY[] = "OSRELEASE=";
	uint64_t stext = 0;
	const bool has_stext = pt_symtab_value(rec, "_stext", &stext);
	unsigned pages = 0;
	for (size_t ri = 0; ri < f->in->nranges && !f->mvi; ri++) {
		const struct pt_dump_range *r = &f->in->ranges[ri];
		const uint8_t *base = bytes_at(f, r->pa, (size_t)r->size);
		if (!base)
			continue;
		for (uint64_t pa = (r->pa + PAGE - 1) & ~(PAGE - 1); pa + sizeof(KEY) <= r->pa + r->size; pa += PAGE) {
			const char *t = (const char *)base + (pa - r->pa);
			if (memcmp(t, KEY, sizeof(KEY) - 1) != 0)
				continue;
			pages++;
			uint64_t avail = r->pa + r->size - pa;
			size_t len = strnlen(t, (size_t)(avail < PAGE ? avail : PAGE));
			char buf[64];
			uint64_t v;
			if (!has_stext || !vmci_lookup(t, len, "SYMBOL(_stext)", buf, sizeof(buf)) ||
			    !parse_num(buf, 16, false, &v) || v != stext)
				continue;
			f->mvi = t;
			f->mvi_len = len;
			f->mvi_pa = pa;
			f->koff_known = vmci_lookup(t, len, "KERNELOFFSET", buf, sizeof(buf)) &&
					parse_num(buf, 16, false, &f->koff);
			break;
		}
	}
	f->res->vmcoreinfo_in_memory = f->mvi != NULL;
	f->res->vmcoreinfo_pa = f->mvi_pa;
	if (f->mvi) {
		char koff[48] = "no KERNELOFFSET";
		if (f->koff_known)
			snprintf(koff, sizeof(koff), "KERNELOFFSET=0x%" PRIx64, f->koff);
		logf_(f, "vmcoreinfo in memory: Linux's VMCOREINFO text at PA 0x%" PRIx64 " (SYMBOL(_stext) "
		      "agrees with the kallsyms tables): %s", f->mvi_pa, koff);
	} else if (pages) {
		logf_(f, "vmcoreinfo in memory: %u page(s) start with OSRELEASE=, none agrees with the kallsyms "
		      "tables' _stext: not used", pages);
	} else {
		logf_(f, "vmcoreinfo in memory: no page starts with OSRELEASE=");
	}
}

static void recover_kallsyms(struct finder *f)
{
	struct pt_kpgd_result *res = f->res;
	struct pt_error err;
	res->kallsyms_searched = true;
	if (pt_kallsyms_recover(f->mem, f->in->ranges, f->in->nranges, NULL, &res->kallsyms_symtab, &res->kallsyms,
				&err) != PT_OK) {
		f->oom = true;
		return;
	}
	const struct pt_kallsyms_info *ks = &res->kallsyms;
	if (!ks->found) {
		logf_(f, "kallsyms: the kernel's tables are not in memory (%s; 0x%" PRIx64 " bytes in %.3f s)",
		      ks->why, ks->bytes_scanned, ks->seconds);
		return;
	}
	logf_(f, "kallsyms: %" PRIu64 " symbols recovered from the kernel's own tables in %.3f s: names at PA 0x%"
	      PRIx64 ", markers 0x%" PRIx64 ", token table 0x%" PRIx64 ", token index 0x%" PRIx64 ", offsets 0x%"
	      PRIx64 ", relative_base 0x%" PRIx64 " = 0x%" PRIx64 " (run-time addresses)", ks->num_syms,
	      ks->seconds, ks->pa_names, ks->pa_markers, ks->pa_token_table, ks->pa_token_index, ks->pa_offsets,
	      ks->pa_relative_base, ks->relative_base);
	find_vmcoreinfo_in_memory(f, res->kallsyms_symtab);
}

/** _text as a symbol source gives it (the names layouts_from_syms accepts). */
static bool source_text(const struct pt_symtab *syms, uint64_t *v)
{
	return pt_symtab_value(syms, "_text", v) || pt_symtab_value(syms, "startup_64", v) ||
	       pt_symtab_value(syms, "startup_32", v) || pt_symtab_value(syms, "_stext", v);
}

/**
 * Does a symbol file describe the kernel whose tables were recovered? Every name both hold must
 * sit at the same distance from _text (the file may be link-time, the tables run-time).
 */
static bool file_agrees(struct finder *f, const struct pt_symtab *file, const struct pt_symtab *rec, char *text,
			size_t textlen)
{
	uint64_t ft, rt;
	if (!source_text(file, &ft) || !source_text(rec, &rt))
		return false;
	const uint64_t delta = rt - ft;
	size_t common = 0, agree = 0;
	for (size_t i = 0; i < pt_symtab_count(file); i++) {
		const struct pt_symbol *s = pt_symtab_at(file, i);
		if (s->type == 'A' || s->type == 'a')
			continue; /* absolute: not relocated */
		const struct pt_symbol *r = pt_symtab_lookup(rec, s->name);
		if (!r)
			continue;
		common++;
		agree += r->value - s->value == delta;
	}
	const bool ok = common > 0 && agree * 100 >= common * AGREE_PERCENT;
	snprintf(text, textlen, "%s: %zu of the %zu names it shares with the kernel's own kallsyms tables sit "
		 "at +0x%" PRIx64 " (the slide), %zu symbols in the file", pt_symtab_path(file), agree, common, delta,
		 pt_symtab_count(file));
	logf_(f, "kallsyms: %s%s", text, ok ? "" : ": another kernel's symbols, not used");
	return ok;
}

/**
 * Layouts from the recovered table: run-time addresses. The link-time _text comes from the
 * symbol file when one agrees with the table (`file`, its layouts), else from Linux's own
 * statement (KERNELOFFSET in the VMCOREINFO text in memory, x86-64), else it is assumed:
 * PAGE_OFFSET or __START_KERNEL_map + CONFIG_PHYSICAL_START's default 16 MiB.
 */
static size_t layouts_recovered(struct finder *f, const struct layout *file, size_t nfile, struct layout *out,
				size_t max)
{
	const struct pt_symtab *rec = f->res->kallsyms_symtab;
	size_t n = layouts_from_syms(f, rec, out, max);
	uint64_t v;
	for (size_t i = 0; i < n; i++) {
		struct layout *L = &out[i];
		L->ks = &f->res->kallsyms;
		L->source = nfile ? "kallsyms in memory (the symbol file agrees)" : "kallsyms in memory";
		L->etext_off = pt_symtab_value(rec, "_etext", &v) && v > L->file_text ? v - L->file_text : 0;
		L->end_off = pt_symtab_value(rec, "_end", &v) && v > L->file_text ? v - L->file_text : 0;
		const struct layout *F = NULL;
		for (size_t j = 0; j < nfile && !F; j++)
			if (file[j].is64 == L->is64 && file[j].map_base == L->map_base)
				F = &file[j];
		if (F) {
			L->text_link = F->text_link;
			L->link_assumed = F->link_assumed;
		} else if (L->is64 && f->koff_known) {
			L->text_link = L->file_text - f->koff;
			L->link_assumed = false;
		} else {
			L->text_link = L->map_base + DEFAULT_PHYSICAL_START;
			L->link_assumed = true;
		}
	}
	return n;
}

/**
 * Present entries of a table's user half (0: the kernel's own table, init_mm's): the lower 256
 * of 512 on x86-64, the entries below PAGE_OFFSET (`split`) on i386.
 */
static unsigned user_entries(const struct finder *f, const struct pt_context *ctx, uint64_t split)
{
	unsigned user = 0;
	if (ctx->mode == PT_MODE_PAE) {
		for (unsigned i = 0; i < 4 && (uint64_t)i << 30 < split; i++)
			user += ctx->pdpte[i] & 1; /* one PDPTE per GiB */
		return user;
	}
	const uint8_t *t = bytes_at(f, ctx->root & ~(PAGE - 1), PAGE);
	if (!t)
		return UINT32_MAX;
	if (ctx->desc->entry_size == 8) {
		for (unsigned e = 0; e < 256; e++)
			user += pt_le64(t + 8 * e) & 1;
	} else {
		for (unsigned e = 0; e < 1024 && (uint64_t)e << 22 < split; e++)
			user += pt_le32(t + 4 * e) & 1; /* one PDE per 4 MiB */
	}
	return user;
}

/**
 * Symbols without the table's name (i386 lacks KALLSYMS_ALL: text symbols only). The kallsyms
 * tables found in memory place the kernel image; the candidates are CR3's table and the tables
 * screened around the kallsyms tables. A candidate must map _text (run-time) to an image that
 * holds those tables, lie itself inside that image and map its own address there, and have an
 * empty user half (init_mm's table, not a process's). On i386, _text's VA - PA must also be the
 * layout's PAGE_OFFSET: the kernel sits in the linear lowmem mapping.
 */
static void strategy_textonly(struct finder *f, const struct layout *Ls, size_t nl)
{
	const struct layout *L0 = &Ls[0];
	if (!L0->ks) {
		logf_(f, "symbols (text only): no %s in the %s, and the kernel's kallsyms tables are not in memory "
		      "to place the image", L0->kpgd_name, L0->source);
		return;
	}
	const uint64_t anchor = L0->ks->pa_names;
	const uint64_t win = L0->is64 ? TEXTONLY_WINDOW64 : TEXTONLY_WINDOW32;
	const uint64_t lo = anchor > win ? anchor - win : 0, hi = anchor + win;
	struct screen_list s = { 0 };
	s.pages = calloc(MAX_SCREENED + 1, sizeof(uint64_t));
	if (!s.pages) {
		f->oom = true;
		return;
	}
	/* CR3 first (a tie-breaker, checked like the others), then the screened pages */
	if (f->in->has_cpu && (f->in->cpu.cr0 & PT_BIT(CR0_BIT_PG))) {
		uint64_t cbit = f->in->cpu.cbit ? UINT64_C(1) << f->in->cpu.cbit : 0;
		s.pages[s.n++] = (f->in->cpu.cr3 & ~cbit) & FRAME52;
	}
	for (size_t ri = 0; ri < f->in->nranges; ri++) {
		const struct pt_dump_range *r = &f->in->ranges[ri];
		uint64_t a = (r->pa > lo ? r->pa : lo), b = r->pa + r->size < hi ? r->pa + r->size : hi;
		a = (a + PAGE - 1) & ~(PAGE - 1);
		if (a >= b || b - a < PAGE)
			continue;
		const uint64_t len = (b - a) & ~(PAGE - 1);
		const uint8_t *p = bytes_at(f, a, (size_t)len);
		if (!p)
			continue;
		if (L0->is64) {
			pt_kpgd_screen64(p, a, len, f->phys_end, screen_add, &s);
		} else {
			for (uint64_t off = 0; off + PAGE <= len && a + off < (UINT64_C(1) << 32); off += PAGE)
				if (plausible_top32(p + off, f->phys_end, false) || plausible_top32(p + off, f->phys_end, true))
					screen_add(&s, a + off);
		}
	}
	size_t nverified = 0, nmapped = 0;
	struct work best;
	bool have_best = false;
	for (size_t li = 0; li < nl; li++) {
		const struct layout *L = &Ls[li];
		const uint64_t text_va = L->file_text; /* run-time: the tables were relocated at boot */
		for (size_t i = 0; i < s.n; i++) {
			if (i > 0 && s.pages[i] == s.pages[0])
				continue; /* CR3's table, already tried */
			enum pt_mode modes[2];
			size_t nm = modes_for(f, L->is64, modes);
			for (size_t m = 0; m < nm; m++) {
				const uint64_t kpgd = s.pages[i];
				struct pt_context ctx;
				uint64_t text_pa;
				if (f->budget == 0)
					break;
				if (!make_ctx(f, modes[m], kpgd, &ctx) || !walk_pa(f, &ctx, text_va, &text_pa, NULL, 0))
					continue;
				if (!L->is64 && text_va - text_pa != L->map_base)
					continue; /* another PAGE_OFFSET's layout */
				if (text_pa > anchor)
					continue; /* the tables lie after _text */
				f->budget--;
				nmapped++;
				struct work w;
				work_init(&w, PT_KPGD_SYMBOLS, modes[m], kpgd);
				verify_syms(f, L, &ctx, text_va, text_pa, &w);
				/* the table inside the image, mapping its own address there */
				const uint64_t end = L->end_off ? L->end_off : (L->is64 ? KERNEL_WINDOW : win);
				const uint64_t koff = kpgd - text_pa;
				const uint64_t kva = text_va + koff;
				uint64_t pa;
				const bool inside = kpgd >= text_pa && koff < end;
				w.ok_self = inside && walk_pa(f, &ctx, kva, &pa, NULL, 0) && pa == kpgd;
				if (inside)
					fact(&w, w.ok_self, "the table lies in the kernel image (_text + 0x%" PRIx64 ") and %s",
					     koff, w.ok_self ? "maps its own address there to itself" : "does not map its own address");
				else
					fact(&w, false, "the table 0x%" PRIx64 " is not inside the kernel image at 0x%" PRIx64,
					     kpgd, text_pa);
				const unsigned user = user_entries(f, &ctx, L->map_base);
				fact(&w, user == 0, "user half: %u present entries%s", user,
				     user ? " (a process's or an early table)" : " (the kernel's own table, init_mm's)");
				fact_vmci_kpgd(&w, f, kva);
				const bool cr3 = f->in->has_cpu && i == 0;
				if (cr3)
					fact(&w, true, "the dump's CR3 holds this table (a tie-breaker only)");
				if (!L->is64)
					fact(&w, true, "_text 0x%" PRIx64 " - 0x%" PRIx64 " = PAGE_OFFSET 0x%" PRIx64 ": i386 "
					     "KASLR moves virtual and physical addresses together", text_va, text_pa, L->map_base);
				w.c.verified = w.c.verified && w.ok_self && user == 0 && (!w.vmci_said || w.ok_vmci);
				w.c.score += (w.ok_self ? 1000 : 0) + (user == 0 ? 500 : 0) + (cr3 ? 1 : 0);
				if (w.c.verified) {
					nverified++;
					keep(f, &w);
				}
				if (!have_best || w.c.verified > best.c.verified ||
				    (w.c.verified == best.c.verified && w.c.score > best.c.score)) {
					best = w;
					best.c.facts = best.facts;
					have_best = true;
				}
			}
		}
	}
	logf_(f, "symbols (text only): %zu table(s) tried (CR3 and those within 0x%" PRIx64 " of the kallsyms "
	      "tables), %zu map the run-time _text, %zu verified%s%s", s.n, win, nmapped, nverified,
	      have_best && !best.c.verified ? ": best fails: " : "",
	      have_best && !best.c.verified ? first_failure(&best) : "");
	free(s.pages);
}

/* ---- after the answer: PTI user copy, CR3 ------------------------------------------------------ */

static void describe_pti(struct finder *f, struct pt_kpgd_candidate *c, const struct layout *L)
{
	if (c->mode != PT_MODE_IA32E && c->mode != PT_MODE_LA57)
		return;
	if (c->kpgd % (2 * PAGE) != 0)
		return;
	const uint64_t user = c->kpgd + PAGE;
	const uint8_t *u = bytes_at(f, user, PAGE);
	const uint8_t *k = bytes_at(f, c->kpgd, PAGE);
	if (!u || !k || !plausible_top64(u, f->phys_end))
		return;
	/* Linux's PTI user copy: the same user half, kernel-half entries only where the kernel table
	 * has them, at least one of its own (the entry-text tables pti_clone_* allocated), and not a
	 * table the kernel table points to (a PML4 under a PML5). */
	unsigned kern = 0, own = 0;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t eu = pt_le64(u + 8 * i), ek = pt_le64(k + 8 * i);
		if ((ek & 1) && (ek & FRAME52 & ~(c->cbit ? UINT64_C(1) << c->cbit : 0)) == user)
			return;
		if (i < 256) {
			if (eu != ek)
				return;
			continue;
		}
		if (!(eu & 1))
			continue;
		if (!(ek & 1))
			return;
		kern++;
		own += eu != ek;
	}
	if (kern == 0 || own == 0)
		return;
	/* The entry text must map to the same frame through both tables. */
	static const char *const entry_syms[] = { "entry_SYSCALL_64", "__entry_text_start" };
	uint64_t sym = 0;
	const char *name = NULL;
	for (size_t i = 0; L && c->offsets_known && i < 2 && !name; i++)
		if (pt_symtab_value(L->syms, entry_syms[i], &sym))
			name = entry_syms[i];
	if (!name)
		return;
	const uint64_t va = sym + (L->text_link + c->virt_offset - L->file_text);
	struct pt_context kc, uc;
	uint64_t kpa, upa;
	if (!make_ctx(f, c->mode, c->kpgd, &kc) || !make_ctx(f, c->mode, user, &uc) ||
	    !walk_pa(f, &kc, va, &kpa, NULL, 0) || !walk_pa(f, &uc, va, &upa, NULL, 0) || kpa != upa)
		return;
	c->has_user_pgd = true;
	c->user_pgd = user;
	struct pt_kpgd_fact *facts = realloc(c->facts, (c->nfacts + 1) * sizeof(*facts));
	if (!facts) {
		f->oom = true;
		return;
	}
	c->facts = facts;
	struct pt_kpgd_fact *fa = &facts[c->nfacts++];
	fa->ok = true;
	snprintf(fa->text, sizeof(fa->text), "PTI: the user copy at 0x%" PRIx64 " (kpgd + 4 KiB) has %u "
		 "kernel-half entries, %u of its own, and maps %s 0x%" PRIx64 " -> 0x%" PRIx64 " as the kernel "
		 "table does", user, kern, own, name, va, kpa);
}

static void describe_cr3(struct finder *f, const struct pt_kpgd_candidate *c)
{
	struct pt_kpgd_result *res = f->res;
	if (!f->in->has_cpu)
		return;
	const struct pt_cpu_state *cpu = &f->in->cpu;
	if (!(cpu->cr0 & PT_BIT(CR0_BIT_PG)))
		return;
	uint64_t cbit = cpu->cbit ? UINT64_C(1) << cpu->cbit : 0;
	uint64_t cr3 = cpu->cr3 & ~cbit;
	cr3 &= (c->mode == PT_MODE_PAE) ? ~UINT64_C(0x1f) : ~(PAGE - 1);
	cr3 &= ~(UINT64_C(7) << 61);
	res->cr3 = cr3;
	if (cr3 == c->kpgd)
		res->cr3_relation = PT_KPGD_CR3_SAME;
	else if (c->has_user_pgd && cr3 == c->user_pgd)
		res->cr3_relation = PT_KPGD_CR3_USER_COPY;
	else {
		const uint8_t *a = bytes_at(f, cr3 & ~(PAGE - 1), PAGE), *b = bytes_at(f, c->kpgd & ~(PAGE - 1), PAGE);
		bool shares = false;
		if (a && b && (c->mode == PT_MODE_IA32E || c->mode == PT_MODE_LA57))
			shares = pt_le64(a + 8 * 511) == pt_le64(b + 8 * 511) && (pt_le64(a + 8 * 511) & 1);
		else if (a && b && c->mode == PT_MODE_LEGACY)
			shares = memcmp(a + 3072, b + 3072, 1024) == 0;
		else if (c->mode == PT_MODE_PAE) {
			/* PDPTE 3 (the top GiB, the kernel's for every split), as loaded: see load_context */
			const uint8_t *pa = bytes_at(f, cr3 + 24, 8), *pb = bytes_at(f, c->kpgd + 24, 8);
			shares = pa && pb && (pt_le64(pa) & PTE_P) &&
				 (pt_le64(pa) & ~PDPTE_ACCESSED) == (pt_le64(pb) & ~PDPTE_ACCESSED);
		}
		res->cr3_relation = shares ? PT_KPGD_CR3_PROCESS : PT_KPGD_CR3_OTHER;
	}
}

/* ---- the entry point -------------------------------------------------------------------------------- */

static int cand_cmp(const void *pa, const void *pb)
{
	const struct pt_kpgd_candidate *a = pa, *b = pb;
	if (a->verified != b->verified)
		return a->verified ? -1 : 1;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->kpgd != b->kpgd)
		return a->kpgd < b->kpgd ? -1 : 1;
	return (int)a->mode - (int)b->mode;
}

void pt_kpgd_result_deinit(struct pt_kpgd_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->ncandidates; i++)
		free(res->candidates[i].facts);
	free(res->candidates);
	for (size_t i = 0; i < res->nlog; i++)
		free(res->log[i]);
	free(res->log);
	pt_symtab_destroy(res->kallsyms_symtab);
	memset(res, 0, sizeof(*res));
}

enum pt_status pt_kpgd_find(const struct pt_kpgd_inputs *in, struct pt_kpgd_result *res,
			    struct pt_error *err)
{
	memset(res, 0, sizeof(*res));
	if (!in || !in->mem)
		return pt_error_set(err, "find-kpgd", UINT64_MAX, "no memory to search");
	struct finder f = { .in = in, .mem = in->mem, .res = res, .maxphyaddr = 52, .budget = HYPOTHESIS_BUDGET,
			    .range_budget = RANGE_BUDGET };
	for (size_t i = 0; i < in->nranges; i++) {
		uint64_t end = in->ranges[i].pa + in->ranges[i].size;
		if (end > f.phys_end)
			f.phys_end = end;
	}
	if (f.phys_end == 0)
		return pt_error_set(err, "find-kpgd", UINT64_MAX, "the dump holds no memory");
	struct pt_context cctx;
	if (in->has_cpu) {
		if (in->cpu.maxphyaddr >= 32 && in->cpu.maxphyaddr <= 52)
			f.maxphyaddr = in->cpu.maxphyaddr;
		f.cbit = in->cpu.cbit;
		struct pt_cpu_state cpu = in->cpu;
		if (pt_context_init(&cctx, &cpu, NULL, NULL, NULL) == PT_OK || cctx.mode == PT_MODE_PAE)
			f.cpu_mode = cctx.mode;
	}
	struct layout layouts[3];
	size_t nl = 0;
	if (in->symbols)
		nl = layouts_from_syms(&f, in->symbols, layouts, 3);
	const enum pt_kpgd_method only = in->only;
	if (!only || only == PT_KPGD_VMCOREINFO)
		strategy_vmcoreinfo(&f);
	/* No symbol file, or one without the table's symbol (text only): the kernel's own kallsyms
	 * tables, recovered from memory, stand in for a /proc/kallsyms of the running kernel. */
	const bool uses_syms = !only || only == PT_KPGD_SYMBOLS || only == PT_KPGD_KASLR || only == PT_KPGD_BRUTE;
	if (uses_syms && !in->no_kallsyms && !any_verified(&f) && (nl == 0 || !layouts[0].has_kpgd)) {
		recover_kallsyms(&f);
		if (res->kallsyms_symtab) {
			struct layout rec[3];
			size_t nr = 0;
			if (nl == 0)
				nr = layouts_recovered(&f, NULL, 0, rec, 3);
			else if (file_agrees(&f, in->symbols, res->kallsyms_symtab, f.agree, sizeof(f.agree)))
				nr = layouts_recovered(&f, layouts, nl, rec, 3);
			else
				f.agree[0] = 0;
			if (nr) {
				memcpy(layouts, rec, nr * sizeof(*rec));
				nl = nr;
			}
		}
	}
	/* Which architecture: the symbols, the dump's machine, the CPU mode; else both. */
	if (nl) {
		f.try64 = layouts[0].is64;
		f.try32 = !layouts[0].is64;
	}
	if (!f.try64 && !f.try32) {
		if (in->elf_machine == 62 || f.cpu_mode == PT_MODE_IA32E || f.cpu_mode == PT_MODE_LA57)
			f.try64 = true;
		else if (in->elf_machine == 3 || f.cpu_mode == PT_MODE_LEGACY || f.cpu_mode == PT_MODE_PAE)
			f.try32 = true;
		else
			f.try64 = f.try32 = true;
	}
	if ((!only && !any_verified(&f)) || only == PT_KPGD_SYMBOLS) {
		if (nl && layouts[0].has_kpgd)
			strategy_symbols(&f, layouts, nl);
		else if (nl)
			strategy_textonly(&f, layouts, nl);
		else
			logf_(&f, "symbols: %s", in->symbols ? "the symbol file gives no usable layout" : "no symbol file");
	}
	if ((!only && !any_verified(&f)) || only == PT_KPGD_KASLR) {
		if (nl)
			strategy_kaslr(&f, layouts, nl);
		else
			logf_(&f, "kaslr: needs symbols");
	}
	if ((!only && !any_verified(&f)) || only == PT_KPGD_IDENTITY)
		strategy_identity(&f, layouts, nl);
	if ((!only && !any_verified(&f)) || only == PT_KPGD_BRUTE)
		strategy_brute(&f, layouts, nl);

	if (f.ncands) {
		qsort(f.cands, f.ncands, sizeof(*f.cands), cand_cmp);
		size_t keepn = in->max_candidates ? in->max_candidates : 8;
		while (f.ncands > keepn)
			free(f.cands[--f.ncands].facts);
		/* Byte-identical copies of the answer (same mode, same score): the lowest address is
		 * taken and the copies are named; translations through any of them agree. */
		for (size_t i = 1; i < f.ncands && f.cands[0].verified; i++) {
			struct pt_kpgd_candidate *a = &f.cands[0], *b = &f.cands[i];
			const uint8_t *ta = bytes_at(&f, a->kpgd & ~(PAGE - 1), PAGE);
			const uint8_t *tb = bytes_at(&f, b->kpgd & ~(PAGE - 1), PAGE);
			if (!b->verified || b->score != a->score || b->mode != a->mode || !ta || !tb ||
			    memcmp(ta, tb, PAGE) != 0 || b->kpgd > a->kpgd)
				continue;
			struct pt_kpgd_candidate t = *a;
			*a = *b;
			*b = t;
		}
		for (size_t i = 1; i < f.ncands && f.cands[0].verified; i++) {
			struct pt_kpgd_candidate *a = &f.cands[0], *b = &f.cands[i];
			const uint8_t *ta = bytes_at(&f, a->kpgd & ~(PAGE - 1), PAGE);
			const uint8_t *tb = bytes_at(&f, b->kpgd & ~(PAGE - 1), PAGE);
			if (!b->verified || b->score != a->score || b->mode != a->mode || !ta || !tb ||
			    memcmp(ta, tb, PAGE) != 0)
				continue;
			b->score--; /* a copy ranks below the table it copies */
			struct pt_kpgd_fact *facts = realloc(a->facts, (a->nfacts + 1) * sizeof(*facts));
			if (!facts) {
				f.oom = true;
				break;
			}
			a->facts = facts;
			facts[a->nfacts].ok = true;
			snprintf(facts[a->nfacts].text, sizeof(facts[a->nfacts].text), "0x%" PRIx64 " holds a "
				 "byte-identical table (the lowest address is taken; both translate alike)", b->kpgd);
			a->nfacts++;
		}
		/* Two verified answers that disagree: believe neither. */
		if (f.ncands > 1 && f.cands[0].verified && f.cands[1].verified &&
		    f.cands[0].score == f.cands[1].score && f.cands[0].kpgd != f.cands[1].kpgd) {
			f.cands[0].verified = false;
			logf_(&f, "ambiguous: 0x%" PRIx64 " and 0x%" PRIx64 " verify equally well", f.cands[0].kpgd,
			      f.cands[1].kpgd);
		}
		describe_pti(&f, &f.cands[0], nl ? &layouts[0] : NULL);
		describe_cr3(&f, &f.cands[0]);
		res->found = true;
		res->verified = f.cands[0].verified;
	}
	res->candidates = f.cands;
	res->ncandidates = f.ncands;
	free(f.banners);
	if (f.oom) {
		pt_kpgd_result_deinit(res);
		return pt_error_set(err, "find-kpgd", UINT64_MAX, "out of memory");
	}
	return PT_OK;
}
