/* SPDX-License-Identifier: MIT */
/*
 * Recovering the kernel's kallsyms tables from memory (walker/kallsyms.c, ctest label `kpgd`).
 *
 * The tables are made here by a small encoder written from the format (see kallsyms.c): a token
 * table of 256 strings, names compressed greedily with it (a length byte, or two when bit 7 is
 * set, then token indices; the type letter first), markers every 256 symbols, optional
 * seqs_of_names, s32 offsets (64-bit absolute-percpu or 32-bit plain) and relative_base, in the
 * up-to-6.3 order and in the 6.4+ order. They are placed in synthetic memory and must come back
 * exactly: every name, type and address, and the physical address of every table.
 * Hostile cases (truncated tables, a lying num_syms, inconsistent markers, tables crossing the
 * end of a dump range, thousands of fake token indexes, random corruption) must give a clean
 * "not found" (or a table that is still self-consistent), never a crash (the test build runs
 * under ASan and UBSan).
 * Then the finder on two mini kernels built with the page-table builder and no symbol file:
 * an x86-64 KASLR kernel with KALLSYMS_ALL (init_top_pgt, linux_banner in the tables) and an
 * i386 PAE kernel with text symbols only, whose PDPTE carries the accessed bit QEMU writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ptbuild.h"
#include "ptlab/kpgd.h"
#include "ptlab/symbols.h"

/* ---- the encoder ------------------------------------------------------------------------------ */

struct ksym {
	char name[600];
	char type;
	uint64_t addr;
};

/** How to lay the tables out. */
struct ksenc_opts {
	unsigned ptr;          /**< 8 (x86-64) or 4 (i386): pointer size and ALGN */
	bool percpu;           /**< KALLSYMS_ABSOLUTE_PERCPU ('A' symbols are absolute) */
	bool seqs;             /**< kallsyms_seqs_of_names */
	bool order64;          /**< the 6.4+ order (offsets, relative_base, seqs after token_index) */
	unsigned marker_width; /**< 4 or 8 */
};

/** Where each table landed, as offsets into the blob. */
struct ksenc_out {
	uint8_t *buf;
	size_t len, cap;
	size_t offsets, rb, num, names, markers, seqs, tt, ti;
	uint64_t base;
	char tokens[256][16];
};

static void put(struct ksenc_out *o, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2 + 4096;
		o->buf = realloc(o->buf, o->cap);
		assert_non_null(o->buf);
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_le(struct ksenc_out *o, uint64_t v, unsigned n)
{
	uint8_t b[8];
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(o, b, n);
}

/** .balign a: the generator's ALGN before every label (zero fill). */
static size_t label(struct ksenc_out *o, unsigned a)
{
	static const uint8_t zero[8] = { 0 };
	put(o, zero, (a - o->len % a) % a);
	return o->len;
}

/**
 * The token table: every character the strings use as a one-char token, then a few multi-char
 * tokens (so the greedy encoder compresses), then distinct filler strings up to 256.
 */
static void make_tokens(struct ksenc_out *o, const struct ksym *s, size_t n)
{
	static const char *const multi[] = { "init_", "_text", "start", "fn_", "pgt", "kernel", "up_", "_t" };
	bool used[128] = { false };
	unsigned k = 0;
	for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
		snprintf(o->tokens[k++], sizeof(o->tokens[0]), "%s", multi[i]);
	for (size_t i = 0; i < n; i++) {
		used[(unsigned char)s[i].type] = true;
		for (const char *c = s[i].name; *c; c++)
			used[(unsigned char)*c] = true;
	}
	for (unsigned c = 0x21; c < 0x7f; c++)
		if (used[c])
			snprintf(o->tokens[k++], sizeof(o->tokens[0]), "%c", (char)c);
	for (unsigned f = 0; k < 256; f++)
		snprintf(o->tokens[k++], sizeof(o->tokens[0]), "Q%03u", f);
}

/** Greedy longest-match encoding of type + name into token indices. */
static size_t encode(const struct ksenc_out *o, const struct ksym *s, uint8_t *idx)
{
	char text[602];
	snprintf(text, sizeof(text), "%c%s", s->type, s->name);
	size_t n = 0;
	for (const char *p = text; *p;) {
		unsigned best = 0;
		size_t best_len = 0;
		for (unsigned t = 0; t < 256; t++) {
			size_t l = strlen(o->tokens[t]);
			if (l > best_len && strncmp(p, o->tokens[t], l) == 0) {
				best = t;
				best_len = l;
			}
		}
		assert_true(best_len > 0);
		idx[n++] = (uint8_t)best;
		p += best_len;
	}
	return n;
}

static int by_name(const void *a, const void *b, void *arg)
{
	const struct ksym *s = arg;
	return strcmp(s[*(const size_t *)a].name, s[*(const size_t *)b].name);
}

/** Encode `n` symbols (sorted by address) into o->buf. */
static void ksenc(const struct ksym *s, size_t n, const struct ksenc_opts *op, struct ksenc_out *o)
{
	memset(o, 0, sizeof(*o));
	const unsigned a = op->ptr;
	make_tokens(o, s, n);
	/* relative_base: the lowest address that is not an absolute per-cpu value */
	uint64_t base = UINT64_MAX;
	for (size_t i = 0; i < n; i++)
		if (!(op->percpu && s[i].type == 'A') && s[i].addr < base)
			base = s[i].addr;
	o->base = base;
	/* names and markers into side buffers */
	struct ksenc_out names = { 0 };
	uint64_t *markers = calloc(n / 256 + 1, sizeof(*markers));
	assert_non_null(markers);
	for (size_t i = 0; i < n; i++) {
		uint8_t idx[700];
		if (i % 256 == 0)
			markers[i / 256] = names.len;
		size_t l = encode(o, &s[i], idx);
		if (l > 127) {
			put_le(&names, (l & 0x7f) | 0x80, 1);
			put_le(&names, l >> 7, 1);
		} else {
			put_le(&names, l, 1);
		}
		put(&names, idx, l);
	}
	size_t *order = malloc(n * sizeof(*order));
	assert_non_null(order);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), by_name, (void *)s);

#define OFFSETS_AND_BASE()                                                                              \
	do {                                                                                            \
		o->offsets = label(o, a);                                                               \
		for (size_t i = 0; i < n; i++) {                                                        \
			int64_t off;                                                                    \
			if (op->percpu)                                                                 \
				off = s[i].type == 'A' ? (int64_t)s[i].addr                             \
						       : -1 - (int64_t)(s[i].addr - base);              \
			else                                                                            \
				off = (int64_t)(uint32_t)(s[i].addr - base);                            \
			put_le(o, (uint64_t)off, 4);                                                    \
		}                                                                                       \
		o->rb = label(o, a);                                                                    \
		put_le(o, base, a);                                                                     \
	} while (0)
#define SEQS()                                                                                          \
	do {                                                                                            \
		o->seqs = label(o, a);                                                                  \
		for (size_t i = 0; i < n; i++) {                                                        \
			uint8_t b3[3] = { (uint8_t)(order[i] >> 16), (uint8_t)(order[i] >> 8),          \
					  (uint8_t)order[i] };                                          \
			put(o, b3, 3);                                                                  \
		}                                                                                       \
	} while (0)

	if (!op->order64)
		OFFSETS_AND_BASE();
	o->num = label(o, a);
	put_le(o, n, 4);
	o->names = label(o, a);
	put(o, names.buf, names.len);
	o->markers = label(o, a);
	for (size_t i = 0; i < (n + 255) / 256; i++)
		put_le(o, markers[i], op->marker_width);
	if (op->seqs && !op->order64)
		SEQS();
	o->tt = label(o, a);
	for (unsigned t = 0; t < 256; t++)
		put(o, o->tokens[t], strlen(o->tokens[t]) + 1);
	o->ti = label(o, a);
	size_t pos = 0;
	for (unsigned t = 0; t < 256; t++) {
		put_le(o, pos, 2);
		pos += strlen(o->tokens[t]) + 1;
	}
	if (op->order64) {
		OFFSETS_AND_BASE();
		if (op->seqs)
			SEQS();
	}
	label(o, a);
#undef OFFSETS_AND_BASE
#undef SEQS
	free(order);
	free(markers);
	free(names.buf);
}

/* ---- symbol sets ------------------------------------------------------------------------------ */

/** A 64-bit kernel's symbols, sorted by address: per-cpu absolutes, text, a 2-byte-length name. */
static size_t syms64(struct ksym *s, uint64_t text, size_t nfn)
{
	size_t n = 0;
	static const char *const percpu[] = { "fixed_percpu_data", "cpu_debug_store", "irq_stack_backing_store" };
	for (size_t i = 0; i < 3; i++)
		s[n++] = (struct ksym){ .type = 'A', .addr = i * 0x1000 };
	for (size_t i = 0; i < 3; i++)
		snprintf(s[i].name, sizeof(s[i].name), "%s", percpu[i]);
	static const char *const head[] = { "startup_64", "_stext", "_text" };
	for (size_t i = 0; i < 3; i++) {
		s[n] = (struct ksym){ .type = 'T', .addr = text };
		snprintf(s[n++].name, sizeof(s[0].name), "%s", head[i]);
	}
	for (size_t i = 0; i < nfn; i++) {
		s[n] = (struct ksym){ .type = i % 3 ? 't' : 'T', .addr = text + 0x1000 + i * 0x40 };
		snprintf(s[n++].name, sizeof(s[0].name), "fn_%05zu_kernel", i);
	}
	/* 150 'z' never merge into a multi-char token: 151 indices, a 2-byte length */
	s[n] = (struct ksym){ .type = 'T', .addr = text + 0x1000 + nfn * 0x40 };
	memset(s[n].name, 'z', 150);
	s[n++].name[150] = 0;
	s[n] = (struct ksym){ .type = 'T', .addr = text + 0x100000 };
	snprintf(s[n++].name, sizeof(s[0].name), "_etext");
	return n;
}

/** An i386 kernel's text symbols (no data: no KALLSYMS_ALL). */
static size_t syms32(struct ksym *s, uint64_t text, size_t nfn)
{
	size_t n = 0;
	static const char *const head[] = { "startup_32", "_stext", "_text" };
	for (size_t i = 0; i < 3; i++) {
		s[n] = (struct ksym){ .type = 'T', .addr = text };
		snprintf(s[n++].name, sizeof(s[0].name), "%s", head[i]);
	}
	for (size_t i = 0; i < nfn; i++) {
		s[n] = (struct ksym){ .type = i % 2 ? 't' : 'T', .addr = text + 0x1000 + i * 0x30 };
		snprintf(s[n++].name, sizeof(s[0].name), "fn_%05zu", i);
	}
	s[n] = (struct ksym){ .type = 'T', .addr = text + 0x100000 };
	snprintf(s[n++].name, sizeof(s[0].name), "_etext");
	s[n] = (struct ksym){ .type = 'T', .addr = text + 0x100100 };
	snprintf(s[n++].name, sizeof(s[0].name), "start_kernel");
	return n;
}

/* ---- recovery on flat memory ------------------------------------------------------------------ */

/** Memory of `size` bytes with the blob at `pa` (noise around it: non-zero, no table shapes). */
struct flat {
	uint8_t *mem;
	uint64_t size;
	struct pt_flat_mem fm;
	struct pt_dump_range range;
};

static void flat_init(struct flat *f, uint64_t size)
{
	f->mem = calloc(1, size);
	assert_non_null(f->mem);
	f->size = size;
	for (uint64_t i = 0; i < size; i += 4)
		f->mem[i] = (uint8_t)(0x5a ^ (i >> 12)); /* a non-zero low byte: no u16 0 at 4-aligned */
	pt_flat_mem_init(&f->fm, f->mem, size);
	f->range = (struct pt_dump_range){ 0, size, 0 };
}

static void flat_deinit(struct flat *f)
{
	free(f->mem);
}

static bool recover(const struct pt_mem *mem, const struct pt_dump_range *r, size_t nr, struct pt_symtab **tab,
		    struct pt_kallsyms_info *info)
{
	struct pt_error err;
	assert_int_equal(pt_kallsyms_recover(mem, r, nr, NULL, tab, info, &err), PT_OK);
	assert_int_equal(*tab != NULL, info->found);
	return info->found;
}

/** Every symbol back with its address and type; every table where the encoder put it. */
static void expect_exact(const struct pt_symtab *tab, const struct pt_kallsyms_info *info, const struct ksym *s,
			 size_t n, const struct ksenc_out *o, uint64_t pa, const struct ksenc_opts *op)
{
	assert_int_equal(info->num_syms, n);
	assert_int_equal(pt_symtab_count(tab), n);
	assert_int_equal(pt_symtab_format(tab), PT_SYMS_MEMORY);
	for (size_t i = 0; i < n; i++) {
		const struct pt_symbol *r = pt_symtab_lookup(tab, s[i].name);
		if (!r)
			fail_msg("symbol %zu (%.40s) missing", i, s[i].name);
		assert_int_equal(r->value, s[i].addr);
		assert_int_equal(r->type, s[i].type);
	}
	assert_int_equal(info->ptr_size, op->ptr);
	assert_int_equal(info->absolute_percpu, op->percpu);
	assert_int_equal(info->has_seqs, op->seqs);
	assert_int_equal(info->offsets_after_index, op->order64);
	assert_int_equal(info->marker_size, op->marker_width);
	assert_int_equal(info->relative_base, o->base);
	assert_int_equal(info->pa_offsets, pa + o->offsets);
	assert_int_equal(info->pa_relative_base, pa + o->rb);
	assert_int_equal(info->pa_num_syms, pa + o->num);
	assert_int_equal(info->pa_names, pa + o->names);
	assert_int_equal(info->pa_markers, pa + o->markers);
	assert_int_equal(info->pa_seqs, op->seqs ? pa + o->seqs : 0);
	assert_int_equal(info->pa_token_table, pa + o->tt);
	assert_int_equal(info->pa_token_index, pa + o->ti);
	assert_true(info->run_time);
}

static const struct ksenc_opts LAYOUTS[] = {
	{ .ptr = 8, .percpu = true, .seqs = true, .order64 = false, .marker_width = 4 },  /* Debian 6.1 */
	{ .ptr = 8, .percpu = true, .seqs = false, .order64 = false, .marker_width = 4 }, /* 6.1 */
	{ .ptr = 8, .percpu = true, .seqs = false, .order64 = false, .marker_width = 8 }, /* older */
	{ .ptr = 8, .percpu = false, .seqs = false, .order64 = false, .marker_width = 4 }, /* !SMP */
	{ .ptr = 8, .percpu = true, .seqs = true, .order64 = true, .marker_width = 4 },   /* 6.4+ */
	{ .ptr = 4, .percpu = false, .seqs = true, .order64 = false, .marker_width = 4 }, /* i386 6.1 */
	{ .ptr = 4, .percpu = false, .seqs = false, .order64 = false, .marker_width = 4 },
	{ .ptr = 4, .percpu = false, .seqs = true, .order64 = true, .marker_width = 4 },
};

static void test_roundtrip(void **state)
{
	(void)state;
	static struct ksym s[1200];
	for (size_t l = 0; l < sizeof(LAYOUTS) / sizeof(LAYOUTS[0]); l++) {
		const struct ksenc_opts *op = &LAYOUTS[l];
		/* 700 functions: 3 markers and a partial last block; and 250: one marker */
		for (size_t nfn = 250; nfn <= 700; nfn += 450) {
			size_t n = op->ptr == 8 ? syms64(s, UINT64_C(0xffffffffa2a00000), nfn)
						: syms32(s, 0xcd000000, nfn);
			if (op->ptr == 8 && !op->percpu)
				for (size_t i = 0; i < 3; i++) /* no absolute per-cpu symbols without SMP */
					s[i].addr = UINT64_C(0xffffffffa2a00000), s[i].type = 'T';
			struct ksenc_out o;
			ksenc(s, n, op, &o);
			struct flat f;
			flat_init(&f, 4 << 20);
			const uint64_t pa = 0x123000 + 8 * l;
			memcpy(f.mem + pa, o.buf, o.len);
			struct pt_symtab *tab;
			struct pt_kallsyms_info info;
			if (!recover(&f.fm.mem, &f.range, 1, &tab, &info))
				fail_msg("layout %zu, %zu symbols: not found: %s", l, n, info.why);
			expect_exact(tab, &info, s, n, &o, pa, op);
			assert_non_null(strstr(pt_symtab_path(tab), "kallsyms in memory"));
			pt_symtab_destroy(tab);
			flat_deinit(&f);
			free(o.buf);
		}
	}
}

/* ---- hostile memory ----------------------------------------------------------------------------- */

/** Encode the Debian-6.1-like layout of 700 functions into f at pa; returns the blob. */
static struct ksenc_out standard(struct flat *f, uint64_t pa, struct ksym *s, size_t *n_ret)
{
	static const struct ksenc_opts op = { .ptr = 8, .percpu = true, .seqs = true, .marker_width = 4 };
	*n_ret = syms64(s, UINT64_C(0xffffffff81000000), 700);
	struct ksenc_out o;
	ksenc(s, *n_ret, &op, &o);
	flat_init(f, 4 << 20);
	memcpy(f->mem + pa, o.buf, o.len);
	return o;
}

static void expect_not_found(const struct pt_mem *mem, const struct pt_dump_range *r, size_t nr, const char *what)
{
	struct pt_symtab *tab;
	struct pt_kallsyms_info info;
	if (recover(mem, r, nr, &tab, &info))
		fail_msg("%s: found %llu symbols", what, (unsigned long long)info.num_syms);
	assert_true(info.why[0] != 0);
}

static void test_lies(void **state)
{
	(void)state;
	static struct ksym s[800];
	const uint64_t pa = 0x200000;
	size_t n;
	struct flat f;
	struct ksenc_out o = standard(&f, pa, s, &n);
	uint32_t v;

	/* num_syms one more, one less, and one that needs another marker */
	const uint32_t lies[] = { (uint32_t)n + 1, (uint32_t)n - 1, (uint32_t)n + 256, 0, UINT32_MAX };
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		memcpy(f.mem + pa + o.num, &lies[i], 4);
		expect_not_found(&f.fm.mem, &f.range, 1, "lying num_syms");
	}
	v = (uint32_t)n;
	memcpy(f.mem + pa + o.num, &v, 4);

	/* a marker off by one, a marker past the names, markers[0] not 0 */
	const size_t mk[] = { 4, 8, 0 };
	const uint32_t delta[] = { 1, 0x100000, 2 };
	for (size_t i = 0; i < 3; i++) {
		memcpy(&v, f.mem + pa + o.markers + mk[i], 4);
		v += delta[i];
		memcpy(f.mem + pa + o.markers + mk[i], &v, 4);
		expect_not_found(&f.fm.mem, &f.range, 1, "inconsistent markers");
		v -= delta[i];
		memcpy(f.mem + pa + o.markers + mk[i], &v, 4);
	}

	/* a names entry whose length runs into the next one */
	f.mem[pa + o.names] += 1;
	expect_not_found(&f.fm.mem, &f.range, 1, "names entry length");
	f.mem[pa + o.names] -= 1;

	/* two seqs alike: not a permutation */
	memcpy(f.mem + pa + o.seqs, f.mem + pa + o.seqs + 3, 3);
	expect_not_found(&f.fm.mem, &f.range, 1, "seqs_of_names not a permutation");
	memcpy(f.mem + pa + o.seqs, o.buf + o.seqs, 3);

	/* offsets out of order */
	memcpy(&v, f.mem + pa + o.offsets + 4 * 10, 4);
	uint32_t w;
	memcpy(&w, f.mem + pa + o.offsets + 4 * 11, 4);
	memcpy(f.mem + pa + o.offsets + 4 * 10, &w, 4);
	memcpy(f.mem + pa + o.offsets + 4 * 11, &v, 4);
	expect_not_found(&f.fm.mem, &f.range, 1, "unsorted offsets");
	memcpy(f.mem + pa + o.offsets + 4 * 10, &v, 4);
	memcpy(f.mem + pa + o.offsets + 4 * 11, &w, 4);

	/* a token that is not printable, a token index that is not increasing */
	f.mem[pa + o.tt + 1] = 0x01;
	expect_not_found(&f.fm.mem, &f.range, 1, "token table byte");
	f.mem[pa + o.tt + 1] = o.buf[o.tt + 1];
	memcpy(f.mem + pa + o.ti + 20, f.mem + pa + o.ti + 18, 2);
	expect_not_found(&f.fm.mem, &f.range, 1, "token index not increasing");
	memcpy(f.mem + pa + o.ti + 20, o.buf + o.ti + 20, 2);

	/* repaired: found again */
	struct pt_symtab *tab;
	struct pt_kallsyms_info info;
	assert_true(recover(&f.fm.mem, &f.range, 1, &tab, &info));
	assert_int_equal(info.num_syms, n);
	pt_symtab_destroy(tab);
	flat_deinit(&f);
	free(o.buf);
}

static void test_truncated(void **state)
{
	(void)state;
	static struct ksym s[800];
	const uint64_t pa = 0x200000;
	size_t n;
	struct flat f;
	struct ksenc_out o = standard(&f, pa, s, &n);
	/* the range ends inside each table in turn, then one byte short of the end */
	const size_t cut[] = { o.offsets + 100, o.rb + 4, o.num + 2, o.names + 1000, o.markers + 4, o.seqs + 5,
			       o.tt + 30, o.ti + 100, o.len - 9 };
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		struct pt_dump_range r = { 0, pa + cut[i], 0 };
		struct pt_flat_mem fm;
		pt_flat_mem_init(&fm, f.mem, pa + cut[i]);
		expect_not_found(&fm.mem, &r, 1, "truncated");
	}
	/* the range starts inside the tables */
	struct pt_dump_range r = { pa + o.names + 64, f.size - (pa + o.names + 64), 0 };
	expect_not_found(&f.fm.mem, &r, 1, "range starts inside names");
	flat_deinit(&f);
	free(o.buf);
}

/** Two ranges, adjacent physically, held in two separate buffers: a read may not span them. */
struct split_mem {
	struct pt_mem mem;
	uint64_t boundary, size;
	uint8_t *lo, *hi;
};

static const void *split_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	const struct split_mem *m = mem->opaque;
	if (pa + len < pa || pa + len > m->size)
		return NULL;
	if (pa + len <= m->boundary)
		return m->lo + pa;
	if (pa >= m->boundary)
		return m->hi + (pa - m->boundary);
	return NULL;
}

static void test_crossing_range_end(void **state)
{
	(void)state;
	static struct ksym s[800];
	const uint64_t pa = 0x200000;
	size_t n;
	struct flat f;
	struct ksenc_out o = standard(&f, pa, s, &n);
	/* (a boundary between two tables is no crossing: each table is still read in one piece) */
	const size_t at[] = { o.offsets + 1000, o.rb + 4, o.num + 2, o.names + 333, o.markers + 4, o.seqs + 100, o.tt + 100,
			      o.ti + 200 };
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct split_mem m = { .mem = { .ptr = split_ptr }, .boundary = pa + at[i], .size = f.size };
		m.mem.opaque = &m;
		m.lo = malloc(m.boundary);
		m.hi = malloc(f.size - m.boundary);
		assert_non_null(m.lo);
		assert_non_null(m.hi);
		memcpy(m.lo, f.mem, m.boundary);
		memcpy(m.hi, f.mem + m.boundary, f.size - m.boundary);
		struct pt_dump_range r[2] = { { 0, m.boundary, 0 }, { m.boundary, f.size - m.boundary, 0 } };
		expect_not_found(&m.mem, r, 2, "tables crossing a range end");
		free(m.lo);
		free(m.hi);
	}
	flat_deinit(&f);
	free(o.buf);
}

static void test_fake_shapes(void **state)
{
	(void)state;
	static struct ksym s[800];
	size_t n;
	struct flat f;
	struct ksenc_out o = standard(&f, 0x200000, s, &n);
	/* thousands of copies of the token index and token table, without the rest: bounded work,
	 * a clean "not found" */
	flat_deinit(&f);
	flat_init(&f, 8 << 20);
	const size_t unit = (o.len - o.tt + 7) & ~(size_t)7;
	for (uint64_t pa = 0x1000; pa + unit < f.size; pa += unit)
		memcpy(f.mem + pa, o.buf + o.tt, o.len - o.tt);
	struct pt_symtab *tab;
	struct pt_kallsyms_info info;
	assert_false(recover(&f.fm.mem, &f.range, 1, &tab, &info));
	assert_true(info.shapes <= 64);
	/* a zero page and an empty list of ranges */
	flat_deinit(&f);
	flat_init(&f, 1 << 20);
	memset(f.mem, 0, f.size);
	expect_not_found(&f.fm.mem, &f.range, 1, "zero memory");
	expect_not_found(&f.fm.mem, NULL, 0, "no ranges");
	flat_deinit(&f);
	free(o.buf);
}

/** Random corruption of the tables: found or not, never a crash; what is found holds up. */
static void test_corruption(void **state)
{
	(void)state;
	static struct ksym s[800];
	const uint64_t pa = 0x200000;
	size_t n;
	struct flat f;
	struct ksenc_out o = standard(&f, pa, s, &n);
	uint64_t seed = 0x9e3779b97f4a7c15;
	unsigned found = 0;
	for (unsigned round = 0; round < 300; round++) {
		memcpy(f.mem + pa, o.buf, o.len);
		for (unsigned k = 0; k < 1 + round % 4; k++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			size_t at = (size_t)(seed >> 33) % o.len;
			f.mem[pa + at] ^= (uint8_t)(1u << ((seed >> 20) & 7));
		}
		struct pt_symtab *tab;
		struct pt_kallsyms_info info;
		if (recover(&f.fm.mem, &f.range, 1, &tab, &info)) {
			found++;
			/* a flipped bit inside a name or an address still decodes; the shape holds */
			assert_int_equal(info.num_syms, n);
			assert_true(pt_symtab_count(tab) <= n);
			pt_symtab_destroy(tab);
		}
	}
	print_message("corruption: %u of 300 rounds still decode (bits in names/addresses)\n", found);
	flat_deinit(&f);
	free(o.buf);
}

/* ---- the finder on mini kernels without a symbol file ------------------------------------------ */

static const uint64_t MB = UINT64_C(1) << 20;

static void place(struct ptb *b, uint64_t pa, const void *p, size_t n)
{
	assert_true(pa + n <= b->size);
	memcpy(b->mem + pa, p, n);
}

static const char BANNER[] = "Linux version 6.1.0-kstest (synthetic) #1 SMP PREEMPT_DYNAMIC\n";

static void find(const struct pt_kpgd_inputs *in, struct pt_kpgd_result *res)
{
	struct pt_error err;
	if (pt_kpgd_find(in, res, &err) != PT_OK)
		fail_msg("pt_kpgd_find: %s", err.message);
}

static void dump_result(const struct pt_kpgd_result *res)
{
	for (size_t i = 0; i < res->nlog; i++)
		print_message("  log: %s\n", res->log[i]);
	for (size_t i = 0; res->found && i < res->candidates[0].nfacts; i++)
		print_message("  %c %s\n", res->candidates[0].facts[i].ok ? '+' : '-', res->candidates[0].facts[i].text);
}

/**
 * x86-64, KASLR: _text at 0xffffffff81000000 + 0x3a00000, loaded at PA 0x2400000 (phys offset
 * 0x1400000). The image maps 8 MiB with 2 MiB pages; init_top_pgt at _text + 6 MiB is the root;
 * the banner at _text + 0x161900; the kallsyms tables at _text + 2 MiB (past _etext, before _end).
 * With `vmcoreinfo`, a page of Linux's VMCOREINFO text states KERNELOFFSET.
 */
static void mini64(bool vmcoreinfo, bool cpu)
{
	const uint64_t slide = 0x3a00000, img = 0x2400000;
	const uint64_t text = UINT64_C(0xffffffff81000000) + slide;
	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, 64 * MB, img + 6 * MB);
	for (uint64_t off = 0; off < 8 * MB; off += 2 * MB)
		ptb_map(&b, text + off, img + off, 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	place(&b, img + 0x161900, BANNER, sizeof(BANNER));
	static struct ksym s[900];
	size_t n = syms64(s, text, 700);
	s[n] = (struct ksym){ .type = 'D', .addr = text + 0x161900 };
	snprintf(s[n++].name, sizeof(s[0].name), "linux_banner");
	s[n] = (struct ksym){ .type = 'D', .addr = text + (b.root - img) };
	snprintf(s[n++].name, sizeof(s[0].name), "init_top_pgt");
	s[n] = (struct ksym){ .type = 'B', .addr = text + 8 * MB };
	snprintf(s[n++].name, sizeof(s[0].name), "_end");
	const struct ksenc_opts op = { .ptr = 8, .percpu = true, .seqs = true, .marker_width = 4 };
	struct ksenc_out o;
	ksenc(s, n, &op, &o);
	place(&b, img + 2 * MB, o.buf, o.len);
	if (vmcoreinfo) {
		char t[512];
		int len = snprintf(t, sizeof(t), "OSRELEASE=6.1.0-kstest\nPAGESIZE=4096\nSYMBOL(_stext)=%llx\n"
				   "SYMBOL(init_top_pgt)=%llx\nKERNELOFFSET=%llx\n", (unsigned long long)text,
				   (unsigned long long)(text + (b.root - img)), (unsigned long long)slide);
		place(&b, 40 * MB, t, (size_t)len);
	}
	struct pt_dump_range r = { 0, b.size, 0 };
	struct pt_kpgd_inputs in = { .mem = ptb_mem(&b), .ranges = &r, .nranges = 1, .has_cpu = cpu };
	ptb_cpu(&b, &in.cpu);
	struct pt_kpgd_result res;
	find(&in, &res);
	const struct pt_kpgd_candidate *c = res.found ? &res.candidates[0] : NULL;
	if (!c || !res.verified || c->kpgd != b.root || c->mode != PT_MODE_IA32E || !c->offsets_known ||
	    c->virt_offset != slide || c->phys_offset != img - 0x1000000 || c->link_assumed == vmcoreinfo) {
		dump_result(&res);
		fail_msg("mini64 (vmcoreinfo %d, cpu %d): want kpgd 0x%llx", vmcoreinfo, cpu,
			 (unsigned long long)b.root);
	}
	assert_true(res.kallsyms_searched);
	assert_true(res.kallsyms.found);
	assert_int_equal(res.kallsyms.num_syms, n);
	assert_int_equal(res.kallsyms.pa_names, img + 2 * MB + o.names);
	assert_non_null(res.kallsyms_symtab);
	assert_int_equal(res.vmcoreinfo_in_memory, vmcoreinfo);
	if (vmcoreinfo)
		assert_int_equal(res.vmcoreinfo_pa, 40 * MB);
	if (cpu)
		assert_int_equal(res.cr3_relation, PT_KPGD_CR3_SAME);
	pt_kpgd_result_deinit(&res);

	/* --no-kallsyms: no symbols, offsets unknown */
	in.no_kallsyms = true;
	find(&in, &res);
	assert_false(res.kallsyms_searched);
	assert_true(!res.found || !res.candidates[0].offsets_known);
	pt_kpgd_result_deinit(&res);
	free(o.buf);
	ptb_deinit(&b);
}

static void test_finder64(void **state)
{
	(void)state;
	mini64(false, true);
	mini64(true, true);
	mini64(false, false);
}

/**
 * i386 PAE, text symbols only, KASLR moving virtual and physical together by 16 MiB: _text at
 * 0xc2000000, PA 0x2000000; lowmem (64 MiB) mapped at PAGE_OFFSET 0xc0000000 with 2 MiB pages;
 * swapper_pg_dir (the PDPT) at _text + 6 MiB, its kernel PDPTE with the accessed bit set as QEMU
 * leaves it; the tables at _text + 3 MiB, the banner found by content. `decoy`: CR3 holds a
 * process's copy of the table (a user PDPTE), the answer must stay swapper_pg_dir.
 */
static void mini32(bool cpu, bool decoy)
{
	const uint64_t img = 0x2000000, text = 0xc0000000 + img;
	struct ptb b;
	ptb_init(&b, PT_MODE_PAE, 64 * MB, img + 6 * MB);
	for (uint64_t pa = 0; pa < 64 * MB; pa += 2 * MB)
		ptb_map(&b, 0xc0000000 + pa, pa, 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	const uint64_t pdpte3 = b.root + 24;
	ptb_set(&b, pdpte3, ptb_get(&b, pdpte3) | (1u << 5));
	place(&b, img + 0x180000, BANNER, sizeof(BANNER));
	static struct ksym s[900];
	size_t n = syms32(s, text, 600);
	const struct ksenc_opts op = { .ptr = 4, .percpu = false, .seqs = true, .marker_width = 4 };
	struct ksenc_out o;
	ksenc(s, n, &op, &o);
	place(&b, img + 3 * MB, o.buf, o.len);
	struct pt_dump_range r = { 0, b.size, 0 };
	struct pt_kpgd_inputs in = { .mem = ptb_mem(&b), .ranges = &r, .nranges = 1, .has_cpu = cpu };
	ptb_cpu(&b, &in.cpu);
	if (decoy) {
		/* a process's PDPT in a page of its own: a user PDPTE, the kernel's shared */
		const uint64_t proc = 50 * MB;
		uint64_t user_pd = 51 * MB;
		uint64_t e0 = user_pd | PTE_P, e3 = ptb_get(&b, pdpte3);
		memcpy(b.mem + proc, &e0, 8);
		memcpy(b.mem + proc + 24, &e3, 8);
		in.cpu.cr3 = proc;
	}
	struct pt_kpgd_result res;
	find(&in, &res);
	const struct pt_kpgd_candidate *c = res.found ? &res.candidates[0] : NULL;
	if (!c || !res.verified || c->kpgd != b.root || c->mode != PT_MODE_PAE || !c->offsets_known ||
	    c->virt_offset != 0x1000000 || c->phys_offset != 0x1000000 || !c->link_assumed) {
		dump_result(&res);
		fail_msg("mini32 (cpu %d, decoy %d): want kpgd 0x%llx", cpu, decoy, (unsigned long long)b.root);
	}
	bool said_accessed = false;
	for (size_t i = 0; i < c->nfacts; i++)
		said_accessed |= strstr(c->facts[i].text, "bit 5 (A, reserved)") != NULL;
	assert_true(said_accessed);
	assert_int_equal(res.kallsyms.num_syms, n);
	assert_int_equal(res.kallsyms.ptr_size, 4);
	if (cpu)
		assert_int_equal(res.cr3_relation, decoy ? PT_KPGD_CR3_PROCESS : PT_KPGD_CR3_SAME);
	pt_kpgd_result_deinit(&res);
	free(o.buf);
	ptb_deinit(&b);
}

static void test_finder32(void **state)
{
	(void)state;
	mini32(true, false);
	mini32(false, false);
	mini32(true, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_lies),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_crossing_range_end),
		cmocka_unit_test(test_fake_shapes),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_finder64),
		cmocka_unit_test(test_finder32),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
