/* SPDX-License-Identifier: MIT */
/*
 * fuzz/symmutator.c: a structure-aware mutator for symbol-table text (System.map, kallsyms):
 * one line-level change per call: shift addresses (one line, or every line by a KASLR-like
 * 2 MiB-multiple slide), drop a line, duplicate a line, swap two lines, or corrupt a line (a
 * byte replaced by a character that parsers trip on, the line cut short, the address made
 * overlong). Serves libFuzzer as LLVMFuzzerCustomMutator (the `symbols` target) and AFL++ through
 * fuzz/afl_mutator.c (PTLAB_AFL_MUTATOR=symbols).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

struct line {
	size_t start, len; /* without the '\n' */
};

/** Split into lines (at most `cap`); returns the count. */
static size_t split(const uint8_t *d, size_t size, struct line *v, size_t cap)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= size && n < cap; i++) {
		if (i == size || d[i] == '\n') {
			if (i > start || i < size)
				v[n++] = (struct line){ start, i - start };
			start = i + 1;
		}
	}
	return n;
}

/** The hex address at the start of a line, and its digit count (0 when none). */
static unsigned parse_addr(const uint8_t *p, size_t len, uint64_t *v)
{
	unsigned n = 0;
	*v = 0;
	while (n < len && n < 16) {
		uint8_t c = p[n];
		unsigned d = 16;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a') + 10;
		if (d == 16)
			break;
		*v = *v << 4 | d;
		n++;
	}
	return n;
}

/** Append bytes to out (bounded by cap); false when full. */
static bool put(uint8_t *out, size_t *used, size_t cap, const void *p, size_t len)
{
	if (len > cap - *used)
		return false;
	memcpy(out + *used, p, len);
	*used += len;
	return true;
}

/** Append line `l` of `d`, its address shifted by `delta` when it has one. */
static bool put_shifted(uint8_t *out, size_t *used, size_t cap, const uint8_t *d, struct line l,
			uint64_t delta)
{
	uint64_t a;
	unsigned digits = parse_addr(d + l.start, l.len, &a);
	if (digits == 0 || delta == 0)
		return put(out, used, cap, d + l.start, l.len);
	char hex[17];
	static const char x[] = "0123456789abcdef";
	a += delta;
	for (int i = (int)digits - 1; i >= 0; i--, a >>= 4)
		hex[i] = x[a & 15];
	return put(out, used, cap, hex, digits) &&
	       put(out, used, cap, d + l.start + digits, l.len - digits);
}

size_t fz_mutate_symbols(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	enum { MAX_LINES = 4096 };
	struct line *lines = malloc(MAX_LINES * sizeof(*lines));
	uint8_t *out = malloc(max_size ? max_size : 1);
	uint64_t rng = seed;
	size_t used = 0, n;
	bool ok = true;

	if (!lines || !out)
		goto keep;
	n = split(data, size, lines, MAX_LINES);
	if (n == 0)
		goto keep;
	const unsigned op = (unsigned)(next(&rng) % 6);
	const size_t a = next(&rng) % n, b = next(&rng) % n;
	/* A slide of the whole map (as KASLR moves a kernel), or one line moved anywhere. */
	const uint64_t slide = (next(&rng) % 64) * 0x200000 * (next(&rng) % 2 ? 1 : (uint64_t)-1);
	const uint64_t nudge = next(&rng) % 3 ? (next(&rng) % 512) * 0x1000 : next(&rng);

	for (size_t i = 0; i < n && ok; i++) {
		size_t src = i;
		if (op == 3 && i == a) /* reorder: swap lines a and b */
			src = b;
		else if (op == 3 && i == b)
			src = a;
		if (op == 1 && i == a) /* drop */
			continue;
		struct line l = lines[src];
		if (op == 0)
			ok = put_shifted(out, &used, max_size, data, l, slide);
		else if (op == 4 && i == a)
			ok = put_shifted(out, &used, max_size, data, l, nudge);
		else if (op == 5 && i == a) {
			/* corrupt: a hostile byte, a cut, or an overlong address */
			static const char evil[] = " \t\rxg0f\0At[";
			uint8_t buf[512];
			size_t len = l.len < sizeof(buf) ? l.len : sizeof(buf);
			memcpy(buf, data + l.start, len);
			switch (next(&rng) % 3) {
			case 0:
				if (len)
					buf[next(&rng) % len] = (uint8_t)evil[next(&rng) % (sizeof(evil) - 1)];
				ok = put(out, &used, max_size, buf, len);
				break;
			case 1:
				ok = put(out, &used, max_size, buf, len ? next(&rng) % len : 0);
				break;
			default:
				ok = put(out, &used, max_size, "fffffffff", 9) && put(out, &used, max_size, buf, len);
				break;
			}
		} else {
			ok = put(out, &used, max_size, data + l.start, l.len);
		}
		if (ok && op == 2 && i == a) /* duplicate: the line again */
			ok = put(out, &used, max_size, "\n", 1) && put(out, &used, max_size, data + l.start, l.len);
		if (ok && (i + 1 < n || (size && data[size - 1] == '\n')))
			ok = put(out, &used, max_size, "\n", 1);
	}
	if (!ok)
		goto keep;
	memcpy(data, out, used);
	free(lines);
	free(out);
	return used;
keep:
	free(lines);
	free(out);
	return size;
}

#ifndef PTLAB_NO_LIBFUZZER_MUTATOR
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	if (seed % 2 == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	return fz_mutate_symbols(data, size, max_size, seed);
}
#endif
