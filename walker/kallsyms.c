/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own symbol table (CONFIG_KALLSYMS), recovered from physical memory.
 *
 * Format: what scripts/kallsyms generates and kernel/kallsyms.c reads back, as those two files
 * describe it. Each table starts at an ALGN boundary (.balign 4 on 32-bit, 8 on 64-bit):
 *   kallsyms_offsets        s32 per symbol, symbols sorted by address (KALLSYMS_BASE_RELATIVE).
 *                           Plain: address = relative_base + (u32)off. With
 *                           KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP): off >= 0 is the absolute
 *                           value itself (the per-cpu symbols, linked at 0) and off < 0 means
 *                           relative_base - 1 - off.
 *   kallsyms_relative_base  unsigned long; relocated at boot like any pointer, so a dump of a
 *                           running kernel holds run-time addresses (a vmlinux file link-time).
 *   kallsyms_num_syms       unsigned int.
 *   kallsyms_names          per symbol a length, then that many token indices. The length is
 *                           one byte, or (6.1+, for long Rust names) two when bit 7 of the first
 *                           is set: len = (b0 & 0x7f) | b1 << 7. The expansion's first char is the
 *                           nm type letter, the rest the name.
 *   kallsyms_markers        offset in names of every 256th symbol: u32 in current kernels,
 *                           unsigned long in older ones (both tried).
 *   kallsyms_seqs_of_names  (6.2+, backported to some 6.1 stable kernels, Debian's among them)
 *                           3 bytes per symbol, a big-endian symbol index, in name order: a
 *                           permutation of 0..n-1.
 *   kallsyms_token_table    256 NUL-terminated strings, back to back.
 *   kallsyms_token_index    256 u16: offset of each string in the token table.
 * Up to 6.3 the tables come in the order listed; from 6.4 the generator writes num_syms, names,
 * markers, token_table, token_index, then offsets, relative_base and seqs_of_names. Both are
 * accepted.
 *
 * The locator trusts nothing it has not cross-checked: token_index (256 increasing u16 from 0)
 * must describe, string for string, the token table that ends right before it; the markers
 * (0, then increasing by a plausible block size) sit before the token table, or before
 * seqs_of_names; num_syms sits right before names and agrees with the number of markers;
 * every one of the num_syms entries decodes, lands on its marker every 256 symbols, expands to
 * a type letter and printable characters, and the last one ends where the markers begin;
 * seqs_of_names is a permutation; the offsets give addresses sorted as kallsyms sorts them.
 * Every read goes through the pt_mem reader with its exact length, so a table that crosses the
 * end of a dump range is "not found", never an overrun.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ptlab/le.h"
#include "ptlab/symbols.h"
#include "ptlab/walk.h"

enum {
	KS_TOKENS = 256,
	KS_BLOCK = 256,               /**< symbols per marker */
	KS_MAX_EXPANDED = 1024,       /**< chars of one expansion (KSYM_NAME_LEN is 512 in 6.1) */
	KS_MAX_ENTRY = KS_MAX_EXPANDED, /**< token indices of one entry (each yields >= 1 char) */
	KS_MAX_ALIGN = 8,             /**< ALGN on 64-bit; padding between tables is below it */
	KS_MAX_SHAPES = 64,           /**< token_index shapes checked in full, at most */
};
/** Most symbols accepted (a 6.1 allmodconfig-sized kernel has about 300k). */
static const uint64_t KS_MAX_SYMS = UINT64_C(1) << 22;
/** Bytes of a marker block: 256 entries of at least 2 and at most 2 + KS_MAX_ENTRY bytes. */
static const uint64_t KS_BLOCK_MIN = 2 * KS_BLOCK;
static const uint64_t KS_BLOCK_MAX = (2 + KS_MAX_ENTRY) * (uint64_t)KS_BLOCK;
/** Bytes examined at most by the backward searches and decodes, over all candidates (hostile
 *  input; a real kernel's tables need a few MiB of it). */
static const uint64_t KS_WORK_BUDGET = UINT64_C(256) << 20;

/** Bytes of a start searched between calls of opts->passed. */
static const uint64_t KS_PASSED_EVERY = UINT64_C(16) << 20;

struct kscan {
	const struct pt_mem *mem;
	const struct pt_dump_range *ranges;
	size_t nranges;
	struct pt_kallsyms_info *info;
	uint64_t work;
	/* the current candidate */
	uint64_t p;                 /**< PA of token_index */
	uint16_t ix[KS_TOKENS];
	uint64_t t;                 /**< PA of the token table */
	uint8_t tok_len[KS_TOKENS];
	const uint8_t *tok;         /**< the token table's bytes (ix[255] + tok_len[255] + 1) */
	/* markers */
	uint64_t q;                 /**< PA of markers */
	uint64_t m;                 /**< markers */
	unsigned mw;                /**< marker width */
	const uint8_t *mk;
	/* names */
	uint64_t s;                 /**< PA of names */
	uint64_t n;
	uint64_t num_pa;
	uint64_t names_end;
	uint64_t seqs_pa;
	bool has_seqs;
};

/** The reader's bytes [pa, pa + len), or NULL (not in one range of the dump, or overflow). */
static const uint8_t *ks_at(const struct kscan *k, uint64_t pa, uint64_t len)
{
	if (len == 0)
		len = 1;
	if (pa + len < pa || len > SIZE_MAX)
		return NULL;
	return k->mem->ptr(k->mem, pa, (size_t)len);
}

/** How many bytes right before `pa` the range holding pa - 1 has (at most `want`). */
static uint64_t ks_before(const struct kscan *k, uint64_t pa, uint64_t want)
{
	for (size_t i = 0; i < k->nranges; i++) {
		const struct pt_dump_range *r = &k->ranges[i];
		if (pa > r->pa && pa - r->pa <= r->size) {
			uint64_t have = pa - r->pa;
			return have < want ? have : want;
		}
	}
	return 0;
}

static void why(struct kscan *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(struct kscan *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->info->why, sizeof(k->info->why), fmt, ap);
	va_end(ap);
}

static bool token_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f; /* symbol names and type letters: printable, no blank */
}

static bool type_letter(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '?';
}

/* ---- 1. token_index and the token table before it ------------------------------------------ */

/** Quick screen of a 4-aligned position: the first u16 is 0, the next ones increase by >= 2. */
static bool index_shape(const uint8_t *p)
{
	uint16_t prev = 0;
	for (unsigned i = 1; i < 8; i++) {
		uint16_t v = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
		if (v < prev + 2u)
			return false;
		prev = v;
	}
	return true;
}

static bool check_tokens(struct kscan *k)
{
	const uint8_t *idx = ks_at(k, k->p, 2 * KS_TOKENS);
	if (!idx)
		return false;
	for (unsigned i = 0; i < KS_TOKENS; i++) {
		k->ix[i] = (uint16_t)pt_le_get(idx + 2 * i, 2);
		if (i == 0 ? k->ix[0] != 0 : k->ix[i] < k->ix[i - 1] + 2u)
			return false;
	}
	/* The last token ends with a NUL right before token_index, give or take the padding to
	 * ALGN: skip zero bytes (at most the padding plus the NUL), then the token's characters. */
	uint64_t e = k->p;
	unsigned zeros = 0;
	for (;;) {
		const uint8_t *b = e ? ks_at(k, e - 1, 1) : NULL;
		if (!b)
			return false;
		if (*b != 0)
			break;
		if (++zeros > KS_MAX_ALIGN)
			return false;
		e--;
	}
	uint64_t s = e; /* one past the last token's last character */
	unsigned len = 0;
	for (;;) {
		const uint8_t *b = s ? ks_at(k, s - 1, 1) : NULL;
		if (!b)
			return false;
		if (*b == 0)
			break;
		if (!token_char(*b) || ++len > KS_MAX_EXPANDED)
			return false;
		s--;
	}
	if (len == 0 || s < k->ix[255])
		return false;
	k->t = s - k->ix[255];
	const uint64_t tlen = (uint64_t)k->ix[255] + len + 1;
	k->tok = ks_at(k, k->t, tlen);
	if (!k->tok)
		return false;
	for (unsigned i = 0; i < KS_TOKENS; i++) {
		uint64_t a = k->ix[i], b = i + 1 < KS_TOKENS ? k->ix[i + 1] : tlen;
		/* b - a - 1 characters, then the NUL */
		if (k->tok[b - 1] != 0)
			return false;
		for (uint64_t j = a; j + 1 < b; j++) {
			if (!token_char(k->tok[j]))
				return false;
		}
		k->tok_len[i] = (uint8_t)(b - a - 1 > 255 ? 255 : b - a - 1);
		if (b - a - 1 > 255)
			return false;
	}
	return true;
}

/* ---- 3. names: decode every entry against the markers ---------------------------------------- */

static uint64_t marker(const struct kscan *k, uint64_t i)
{
	return pt_le_get(k->mk + (size_t)i * k->mw, k->mw);
}

/**
 * Walk `n` entries of names starting at `names` (at most `len` bytes): every 256th starts at its
 * marker, each expands to a type letter and at least one more char. Returns the end offset, or
 * UINT64_MAX.
 */
static uint64_t walk_names(const struct kscan *k, const uint8_t *names, uint64_t len, uint64_t n, uint64_t *used)
{
	uint64_t pos = 0;
	for (uint64_t i = 0; i < n; i++, *used = pos) {
		if (i % KS_BLOCK == 0 && marker(k, i / KS_BLOCK) != pos)
			return UINT64_MAX;
		if (pos >= len)
			return UINT64_MAX;
		unsigned l = names[pos++];
		if (l & 0x80) {
			if (pos >= len)
				return UINT64_MAX;
			l = (l & 0x7f) | (unsigned)names[pos++] << 7;
		}
		if (l == 0 || l > KS_MAX_ENTRY || l > len - pos)
			return UINT64_MAX;
		if (!type_letter(k->tok[k->ix[names[pos]]]))
			return UINT64_MAX;
		unsigned chars = 0;
		for (unsigned j = 0; j < l; j++)
			chars += k->tok_len[names[pos + j]];
		if (chars < 2 || chars > KS_MAX_EXPANDED)
			return UINT64_MAX;
		pos += l;
	}
	*used = pos;
	return pos;
}

/** One entry at names[pos] looks right: a length that fits, a type letter first. */
static bool entry_plausible(const struct kscan *k, const uint8_t *names, uint64_t len, uint64_t pos)
{
	if (pos >= len)
		return false;
	unsigned l = names[pos++];
	if (l & 0x80) {
		if (pos >= len)
			return false;
		l = (l & 0x7f) | (unsigned)names[pos++] << 7;
	}
	return l > 0 && l <= KS_MAX_ENTRY && l <= len - pos && type_letter(k->tok[k->ix[names[pos]]]);
}

static bool zero_bytes(const struct kscan *k, uint64_t pa, uint64_t len)
{
	if (len == 0)
		return true;
	const uint8_t *b = ks_at(k, pa, len);
	if (!b)
		return false;
	for (uint64_t i = 0; i < len; i++) {
		if (b[i])
			return false;
	}
	return true;
}

/** seqs_of_names at `pa`: n big-endian 3-byte indices, each below n, no two alike. */
static bool check_seqs(struct kscan *k, uint64_t pa)
{
	const uint8_t *b = ks_at(k, pa, 3 * k->n);
	if (!b)
		return false;
	uint8_t *seen = calloc((size_t)(k->n + 7) / 8, 1);
	if (!seen)
		return false;
	bool ok = true;
	for (uint64_t i = 0; i < k->n && ok; i++) {
		uint64_t v = (uint64_t)b[3 * i] << 16 | (uint64_t)b[3 * i + 1] << 8 | b[3 * i + 2];
		if (v >= k->n || (seen[v / 8] & (1u << (v % 8))))
			ok = false;
		else
			seen[v / 8] |= (uint8_t)(1u << (v % 8));
	}
	free(seen);
	return ok;
}

/**
 * names at `s` with `n` symbols: every entry decodes against the markers and the last one ends
 * where the markers begin (zero padding below ALGN).
 */
static bool check_names(struct kscan *k, uint64_t s, uint64_t n)
{
	if (n == 0 || n > KS_MAX_SYMS || (n + KS_BLOCK - 1) / KS_BLOCK != k->m || s > k->q)
		return false;
	const uint8_t *names = ks_at(k, s, k->q - s);
	if (!names)
		return false;
	/* cheap first: the entry at every marker must look like one */
	for (uint64_t i = 0; i < k->m; i++) {
		if (!entry_plausible(k, names, k->q - s, marker(k, i)))
			return false;
	}
	k->work += k->m;
	uint64_t used = 0;
	uint64_t end = walk_names(k, names, k->q - s, n, &used);
	k->work += used + 1;
	if (end == UINT64_MAX || k->q - s - end >= KS_MAX_ALIGN || !zero_bytes(k, s + end, k->q - s - end))
		return false;
	k->s = s;
	k->n = n;
	k->names_end = s + end;
	return true;
}

/* ---- 2. markers before the token table (or before seqs_of_names) -------------------------- */

/**
 * The markers array starting at q (width w): 0, then increasing by a block's size, as far as
 * the values qualify and the array stays before the token table. Returns the count (>= 1).
 */
static uint64_t marker_run(const uint8_t *win, uint64_t win_pa, uint64_t q, unsigned w, uint64_t t)
{
	uint64_t m = 1, prev = 0;
	while (q + (m + 1) * w <= t) {
		uint64_t v = pt_le_get(win + (q - win_pa) + m * w, w);
		if (v < prev + KS_BLOCK_MIN || v - prev > KS_BLOCK_MAX)
			break;
		prev = v;
		m++;
	}
	return m;
}

/** The lowest PAGE_OFFSET of an i386 kernel (VMSPLIT_1G). */
static const uint64_t LOWEST_PAGE_OFFSET32 = 0x40000000;

/** A relative_base value: a kernel address (upper half on x86-64, >= VMSPLIT_1G on i386). */
static bool base_plausible(uint64_t v, unsigned ptr)
{
	if (ptr == 8)
		return v >= pt_mode_upper_half(PT_MODE_IA32E); /* within 5-level's upper half too */
	return v >= LOWEST_PAGE_OFFSET32 && v <= UINT32_MAX;
}

/**
 * For the one-marker candidates (see find_markers): num_syms `n` at num_pa needs a relative_base
 * next to it, right before it (up to 6.3) or after n offsets past token_index (6.4+).
 */
static bool tiny_anchor(const struct kscan *k, uint64_t num_pa, uint64_t n)
{
	for (unsigned ptr = 8; ptr >= 4; ptr -= 4) {
		const uint8_t *b = num_pa >= ptr && num_pa % ptr == 0 ? ks_at(k, num_pa - ptr, ptr) : NULL;
		if (b && base_plausible(pt_le_get(b, ptr), ptr))
			return true;
		const uint64_t o = (k->p + 2 * KS_TOKENS + ptr - 1) & ~(uint64_t)(ptr - 1);
		const uint64_t rb = (o + 4 * n + ptr - 1) & ~(uint64_t)(ptr - 1);
		b = ks_at(k, rb, ptr);
		if (b && base_plausible(pt_le_get(b, ptr), ptr))
			return true;
	}
	return false;
}

/**
 * num_syms and names below the markers (k->q, k->m): num_syms is a u32 in [lo_n, hi_n] (one
 * value when seqs_of_names fixed it) right before names, or 4 bytes before with zero padding
 * (a 4-byte value in an 8-aligned slot).
 */
static bool find_names(struct kscan *k, uint64_t lo_n, uint64_t hi_n)
{
	const uint64_t last = marker(k, k->m - 1);
	/* names start at most q - last - 2 (the last block holds >= 1 entry of >= 2 bytes) and at
	 * least q - last - KS_BLOCK_MAX */
	if (k->q < last + 2 + 8)
		return false;
	const uint64_t hi = k->q - last - 2;
	const uint64_t span = ks_before(k, hi, KS_BLOCK_MAX + 8);
	if (span < 8)
		return false;
	const uint8_t *win = ks_at(k, hi - span, span);
	if (!win)
		return false;
	k->work += span;
	for (uint64_t s = hi & ~UINT64_C(3); s >= hi - span + 8; s -= 4) {
		for (unsigned gap = 4; gap <= 8; gap += 4) {
			const uint8_t *num = win + (s - gap - (hi - span));
			uint64_t n = pt_le_get(num, 4);
			if (n < lo_n || n > hi_n)
				continue;
			if (gap == 8 && pt_le_get(num + 4, 4) != 0)
				continue;
			if (k->m == 1 && lo_n != hi_n && !tiny_anchor(k, s - gap, n))
				continue;
			if (check_names(k, s, n)) {
				k->num_pa = s - gap;
				return true;
			}
		}
		if (k->work > KS_WORK_BUDGET)
			return false;
	}
	return false;
}

/**
 * Markers (k->q, k->m, k->mw) ending at `mend`: either the token table follows (zero padding
 * below ALGN) and num_syms is any count the markers allow, or seqs_of_names follows, whose size
 * fixes num_syms to one of a few values, each checked as a permutation before names are
 * searched for.
 */
static bool after_markers(struct kscan *k, uint64_t mend)
{
	const uint64_t lo_n = (k->m - 1) * KS_BLOCK + 1, hi_n = k->m * KS_BLOCK;
	if (k->t - mend < KS_MAX_ALIGN) {
		if (!zero_bytes(k, mend, k->t - mend))
			return false;
		k->has_seqs = false;
		return find_names(k, lo_n, hi_n);
	}
	for (uint64_t pad = 0; pad < KS_MAX_ALIGN; pad += 4) {
		const uint64_t sp = mend + pad;
		if (sp >= k->t || !zero_bytes(k, mend, pad))
			continue;
		const uint64_t room = k->t - sp;
		/* 3n bytes, then zero padding below ALGN up to the token table */
		for (uint64_t n = room / 3; n > 0 && room - 3 * n < KS_MAX_ALIGN; n--) {
			if (n < lo_n || n > hi_n || !zero_bytes(k, sp + 3 * n, room - 3 * n))
				continue;
			k->n = n;
			k->work += 3 * n;
			if (!check_seqs(k, sp))
				continue;
			k->has_seqs = true;
			k->seqs_pa = sp;
			if (find_names(k, n, n))
				return true;
		}
	}
	return false;
}

/**
 * Markers before the token table. `tiny`: only the one-marker candidates that sit right before
 * the token table (at most 256 symbols, no seqs_of_names), the costliest to rule out: any u32
 * from 1 to 256 below them may be num_syms, and names self-synchronise, so a wrong start decodes
 * long. They are tried after everything else, for tables too small for a real kernel.
 */
static bool find_markers(struct kscan *k, bool tiny)
{
	/* The markers end before the token table, or before seqs_of_names (3 bytes per symbol):
	 * search back over both. */
	const uint64_t want = 3 * KS_MAX_SYMS + 8 * (KS_MAX_SYMS / KS_BLOCK) + 2 * KS_MAX_ALIGN;
	const uint64_t span = ks_before(k, k->t, want);
	if (span < 4)
		return false;
	const uint64_t win_pa = k->t - span;
	const uint8_t *win = ks_at(k, win_pa, span);
	if (!win)
		return false;
	/* 4-aligned positions from the last word before the token table down to the window's start,
	 * counted so that nothing wraps below address 0 */
	const uint64_t q_hi = (k->t - 4) & ~UINT64_C(3), q_lo = (win_pa + 3) & ~UINT64_C(3);
	const uint64_t count = q_hi >= q_lo && k->t >= 4 ? (q_hi - q_lo) / 4 + 1 : 0;
	for (uint64_t i = 0; i < count; i++) {
		const uint64_t q = q_hi - 4 * i;
		k->work += 4;
		if (k->work > KS_WORK_BUDGET) {
			why(k, "work budget spent");
			return false;
		}
		if (pt_le_get(win + (q - win_pa), 4) != 0)
			continue;
		for (unsigned w = 4; w <= 8; w += 4) {
			if (w == 8 && (q % 8 != 0 || q + 8 > k->t || pt_le_get(win + (q - win_pa), 8) != 0))
				continue;
			/* The run may go on into what follows the markers (seqs_of_names bytes can look like
			 * one more marker): every length up to the run's is a candidate if it ends right
			 * before the token table, or before seqs_of_names of a fitting size. */
			const uint64_t run = marker_run(win, win_pa, q, w, k->t);
			for (uint64_t m = run; m >= 1; m--) {
				const uint64_t gap = k->t - (q + m * w);
				const bool direct = gap < KS_MAX_ALIGN;
				const bool seqs = gap >= 3 * ((m - 1) * KS_BLOCK + 1) &&
						  gap < 3 * m * KS_BLOCK + 2 * KS_MAX_ALIGN;
				if ((!direct && !seqs) || tiny != (direct && m == 1))
					continue;
				k->q = q;
				k->m = m;
				k->mw = w;
				k->mk = win + (q - win_pa);
				if (after_markers(k, q + m * w))
					return true;
			}
		}
	}
	return false;
}

/* ---- 4. offsets and relative_base ----------------------------------------------------------- */

/** Addresses from the offsets under one interpretation; true when they come out sorted. */
static bool eval_offsets(const struct kscan *k, const uint8_t *offs, uint64_t base, unsigned ptr,
			 bool percpu, uint64_t *addrs)
{
	bool any_negative = false;
	uint64_t prev = 0;
	for (uint64_t i = 0; i < k->n; i++) {
		int32_t off = (int32_t)(uint32_t)pt_le_get(offs + 4 * i, 4);
		uint64_t a;
		if (percpu)
			a = off >= 0 ? (uint64_t)off : base - 1 - (uint64_t)(int64_t)off;
		else
			a = base + (uint32_t)off;
		if (ptr == 4)
			a &= UINT32_MAX;
		any_negative |= off < 0;
		if (i > 0 && a < prev)
			return false;
		prev = a;
		if (addrs)
			addrs[i] = a;
	}
	return !percpu || any_negative;
}

static bool try_offsets(struct kscan *k, uint64_t offs_pa, uint64_t rb_pa, unsigned ptr, uint64_t *addrs)
{
	struct pt_kallsyms_info *info = k->info;
	const uint8_t *offs = ks_at(k, offs_pa, 4 * k->n);
	const uint8_t *rb = ks_at(k, rb_pa, ptr);
	if (!offs || !rb)
		return false;
	const uint64_t base = pt_le_get(rb, ptr);
	/* This also keeps a 32-bit layout from being read as a 64-bit one. */
	if (!base_plausible(base, ptr))
		return false;
	if (!zero_bytes(k, offs_pa + 4 * k->n, rb_pa - (offs_pa + 4 * k->n)))
		return false;
	k->work += 4 * k->n;
	for (int percpu = ptr == 8; percpu >= 0; percpu--) {
		if (!eval_offsets(k, offs, base, ptr, percpu, NULL))
			continue;
		eval_offsets(k, offs, base, ptr, percpu, addrs);
		info->ptr_size = ptr;
		info->absolute_percpu = percpu;
		info->relative_base = base;
		info->pa_offsets = offs_pa;
		info->pa_relative_base = rb_pa;
		return true;
	}
	return false;
}

static bool find_offsets(struct kscan *k, uint64_t *addrs)
{
	for (unsigned ptr = 8; ptr >= 4; ptr -= 4) {
		/* Up to 6.3: offsets, relative_base, num_syms, each at an ALGN (= ptr) boundary. */
		if (k->num_pa >= ptr && k->num_pa % ptr == 0) {
			uint64_t rb = k->num_pa - ptr;
			for (uint64_t pad = 0; pad < ptr; pad += 4) {
				if (rb >= 4 * k->n + pad && try_offsets(k, rb - pad - 4 * k->n, rb, ptr, addrs)) {
					k->info->offsets_after_index = false;
					return true;
				}
			}
		}
		/* 6.4+: offsets after token_index, relative_base after the offsets. */
		uint64_t o = (k->p + 2 * KS_TOKENS + ptr - 1) & ~(uint64_t)(ptr - 1);
		uint64_t rb = (o + 4 * k->n + ptr - 1) & ~(uint64_t)(ptr - 1);
		if (try_offsets(k, o, rb, ptr, addrs)) {
			k->info->offsets_after_index = true;
			/* and seqs_of_names after relative_base */
			const uint64_t sp = (rb + ptr + ptr - 1) & ~(uint64_t)(ptr - 1);
			if (!k->has_seqs && check_seqs(k, sp)) {
				k->has_seqs = true;
				k->seqs_pa = sp;
			}
			return true;
		}
	}
	return false;
}

/* ---- 5. the table ---------------------------------------------------------------------------- */

static bool build_table(struct kscan *k, const uint64_t *addrs, struct pt_symtab *tab)
{
	const uint8_t *names = ks_at(k, k->s, k->names_end - k->s);
	if (!names)
		return false;
	char buf[KS_MAX_EXPANDED + 1];
	const uint64_t size = k->names_end - k->s;
	uint64_t pos = 0;
	for (uint64_t i = 0; i < k->n; i++) {
		/* walk_names checked all of this; checked again, cheaply, in case the file under the
		 * mapping changed since (a dump being written) */
		if (pos + 2 > size)
			return false;
		unsigned l = names[pos++];
		if (l & 0x80)
			l = (l & 0x7f) | (unsigned)names[pos++] << 7;
		if (l > size - pos)
			return false;
		size_t len = 0;
		for (unsigned j = 0; j < l; j++) {
			const uint8_t t = names[pos + j];
			if (len + k->tok_len[t] > KS_MAX_EXPANDED)
				return false;
			memcpy(buf + len, k->tok + k->ix[t], k->tok_len[t]);
			len += k->tok_len[t];
		}
		pos += l;
		buf[len] = 0;
		if (len < 2)
			return false;
		/* buf[0] is the type letter; names past pt_symtab's limit are counted, not kept */
		if (len - 1 > 512) {
			k->info->skipped++;
			continue;
		}
		if (!pt_symtab_add(tab, buf + 1, addrs[i], buf[0]))
			return false;
	}
	return true;
}

static double ks_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/** Full check of a token_index candidate at k->p; fills the table on success. */
static bool try_candidate(struct kscan *k, struct pt_symtab **tab_ret, bool *oom)
{
	if (!check_tokens(k))
		return false;
	k->info->shapes++;
	if (!find_markers(k, false) && !find_markers(k, true)) {
		if (!k->info->why[0])
			why(k, "token table at 0x%" PRIx64 ", but no markers and names that decode before it", k->t);
		return false;
	}
	uint64_t *addrs = malloc((size_t)k->n * sizeof(*addrs));
	if (!addrs) {
		*oom = true;
		return false;
	}
	if (!find_offsets(k, addrs)) {
		why(k, "names at 0x%" PRIx64 " (%" PRIu64 " symbols) decode, but no offsets give sorted addresses",
		    k->s, k->n);
		free(addrs);
		return false;
	}
	char name[96];
	snprintf(name, sizeof(name), "kallsyms in memory at 0x%" PRIx64, k->s);
	struct pt_symtab *tab = pt_symtab_create_named(name, PT_SYMS_MEMORY);
	if (!tab || !build_table(k, addrs, tab)) {
		pt_symtab_destroy(tab);
		free(addrs);
		*oom = true;
		return false;
	}
	free(addrs);
	struct pt_kallsyms_info *info = k->info;
	info->found = true;
	info->num_syms = k->n;
	info->marker_size = k->mw;
	info->has_seqs = k->has_seqs;
	info->pa_num_syms = k->num_pa;
	info->pa_names = k->s;
	info->names_size = k->names_end - k->s;
	info->pa_markers = k->q;
	info->pa_seqs = k->has_seqs ? k->seqs_pa : 0;
	info->pa_token_table = k->t;
	info->pa_token_index = k->p;
	info->why[0] = 0;
	*tab_ret = tab;
	return true;
}

enum pt_status pt_kallsyms_recover(const struct pt_mem *mem, const struct pt_dump_range *ranges, size_t nranges,
				   const struct pt_kallsyms_opts *opts, struct pt_symtab **tab_ret,
				   struct pt_kallsyms_info *info_ret, struct pt_error *err)
{
	*tab_ret = NULL;
	memset(info_ret, 0, sizeof(*info_ret));
	if (!mem || (!ranges && nranges)) {
		if (err) {
			err->offset = UINT64_MAX;
			snprintf(err->message, sizeof(err->message), "kallsyms: no memory to search");
		}
		return PT_EINVAL;
	}
	struct kscan k = { .mem = mem, .ranges = ranges, .nranges = nranges, .info = info_ret };
	const uint64_t lo = opts ? opts->pa_start : 0;
	const uint64_t hi = opts && opts->pa_end ? opts->pa_end : UINT64_MAX;
	info_ret->run_time = !(opts && opts->link_time);
	const double t0 = ks_now();
	bool oom = false, done = false;
	const struct pt_dump_range *starts = opts && opts->starts ? opts->starts : ranges;
	const size_t nstarts = opts && opts->starts ? opts->nstarts : nranges;
	for (size_t ri = 0; ri < nstarts && !done && !oom; ri++) {
		const struct pt_dump_range *r = &starts[ri];
		uint64_t a = r->pa > lo ? r->pa : lo;
		uint64_t b = r->size > hi - r->pa ? hi : r->pa + r->size;
		if (a >= b || b - a < 2 * KS_TOKENS)
			continue;
		a = (a + 3) & ~UINT64_C(3);
		if (a >= b || b - a < 2 * KS_TOKENS)
			continue;
		const uint8_t *base = ks_at(&k, a, b - a);
		if (!base)
			continue;
		const uint64_t len = b - a;
		info_ret->bytes_scanned += len;
		/* token_index starts with a u16 0, then a u16 in [2, 256) (the first token's length + 1),
		 * at a 4-aligned address. 32 zero bytes hold no such start (most of a dump is zero
		 * pages): skipped with one test; else each 4-aligned position is tested. */
		for (uint64_t blk = 0; blk + 2 * KS_TOKENS <= len; blk += 32) {
			uint64_t z[4];
			memcpy(z, base + blk, sizeof(z));
			if ((z[0] | z[1] | z[2] | z[3]) == 0)
				continue;
			unsigned hits = 0;
			for (unsigned j = 0; j < 8; j++) {
				const uint8_t *w = base + blk + 4 * j;
				const unsigned first = (unsigned)w[0] | (unsigned)w[1] << 8;
				const unsigned second = (unsigned)w[2] | (unsigned)w[3] << 8;
				hits |= (unsigned)(first == 0 && second - 2u < 254u) << j;
			}
			for (; hits && !done; hits &= hits - 1) {
				const uint64_t off = blk + 4 * (unsigned)__builtin_ctz(hits);
				if (off + 2 * KS_TOKENS > len || !index_shape(base + off))
					continue;
				k.p = a + off;
				if (info_ret->shapes >= KS_MAX_SHAPES) {
					why(&k, "more than %d token-table shapes: hostile or unusual memory", KS_MAX_SHAPES);
					done = true;
				} else if (try_candidate(&k, tab_ret, &oom) || oom || k.work > KS_WORK_BUDGET) {
					done = true;
				}
			}
			if (done)
				break;
			if (opts && opts->passed && (blk + 32) % KS_PASSED_EVERY == 0)
				opts->passed(opts->passed_arg, a + blk + 32 - KS_PASSED_EVERY, KS_PASSED_EVERY);
		}
	}
	info_ret->seconds = ks_now() - t0;
	if (oom) {
		if (err) {
			err->offset = UINT64_MAX;
			snprintf(err->message, sizeof(err->message), "kallsyms: out of memory");
		}
		return PT_EINVAL;
	}
	if (!info_ret->found && !info_ret->why[0])
		why(&k, info_ret->shapes ? "no token table checked out" : "no kallsyms_token_index shape in memory");
	return PT_OK;
}
