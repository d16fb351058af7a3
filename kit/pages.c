/* SPDX-License-Identifier: MIT */
/*
 * kit/pages.c: the sparse physical memory of a built case: 4 KiB pages anywhere in the 52-bit
 * physical space (frames above 4 GiB and near 2^MAXPHYADDR cost one page each), in an
 * open-addressing hash keyed by page frame number. Data pages hold, in every 8-byte word, the
 * word's own PA XOR PTK_DATA_TAG_XOR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_internal.h"
#include "ptlab/le.h"

static void out_of_memory(void)
{
	fputs("ptlab: out of memory building a conformance case\n", stderr);
	abort();
}

static size_t slot_of(const struct kit_pages *p, uint64_t pfn)
{
	uint64_t h = pfn * UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(h >> 20) & (p->cap - 1);
}

static const void *pages_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	const struct kit_pages *p = (const struct kit_pages *)mem;
	const uint64_t off = pa & (PT_PAGE_4K - 1);
	const uint8_t *page;

	if (len > PT_PAGE_4K - off)
		return NULL; /* the pages are not contiguous in our memory */
	page = kit_pages_find(p, pa);
	return page ? page + off : NULL;
}

void kit_pages_init(struct kit_pages *p)
{
	memset(p, 0, sizeof(*p));
	p->mem.ptr = pages_ptr;
	p->mem.opaque = p;
}

void kit_pages_deinit(struct kit_pages *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->data ? p->data[i] : NULL);
	free(p->keys);
	free(p->data);
	free(p->is_table);
	kit_pages_init(p);
}

uint8_t *kit_pages_find(const struct kit_pages *p, uint64_t pa)
{
	const uint64_t pfn = pa >> 12;

	if (!p->cap)
		return NULL;
	for (size_t i = slot_of(p, pfn);; i = (i + 1) & (p->cap - 1)) {
		if (p->keys[i] == pfn)
			return p->data[i];
		if (p->keys[i] == KIT_NO_PAGE)
			return NULL;
	}
}

/** Double the table (or make the first one). */
static void grow(struct kit_pages *p)
{
	struct kit_pages bigger = *p;
	size_t cap = p->cap ? 2 * p->cap : 256;

	bigger.cap = cap;
	bigger.keys = malloc(cap * sizeof(*bigger.keys));
	bigger.data = calloc(cap, sizeof(*bigger.data));
	bigger.is_table = calloc(cap, 1);
	if (!bigger.keys || !bigger.data || !bigger.is_table)
		out_of_memory();
	for (size_t i = 0; i < cap; i++)
		bigger.keys[i] = KIT_NO_PAGE;
	for (size_t i = 0; i < p->cap; i++) {
		if (p->keys[i] == KIT_NO_PAGE)
			continue;
		size_t j = slot_of(&bigger, p->keys[i]);
		while (bigger.keys[j] != KIT_NO_PAGE)
			j = (j + 1) & (cap - 1);
		bigger.keys[j] = p->keys[i];
		bigger.data[j] = p->data[i];
		bigger.is_table[j] = p->is_table[i];
	}
	free(p->keys);
	free(p->data);
	free(p->is_table);
	p->keys = bigger.keys;
	p->data = bigger.data;
	p->is_table = bigger.is_table;
	p->cap = cap;
}

/** The page of pa, created (zeroed, or tagged for data) when absent. */
static uint8_t *get_or_add(struct kit_pages *p, uint64_t pa, bool table)
{
	const uint64_t pfn = pa >> 12;
	uint8_t *page = kit_pages_find(p, pa);
	size_t i;

	if (page)
		return page;
	if ((p->count + 1) * 4 > p->cap * 3)
		grow(p);
	for (i = slot_of(p, pfn); p->keys[i] != KIT_NO_PAGE; i = (i + 1) & (p->cap - 1))
		;
	page = malloc(PT_PAGE_4K);
	if (!page)
		out_of_memory();
	if (table) {
		memset(page, 0, PT_PAGE_4K);
	} else {
		const uint64_t base = pfn << 12;
		for (unsigned off = 0; off < PT_PAGE_4K; off += 8)
			pt_le_put(page + off, ptk_data_tag(base + off), 8);
	}
	p->keys[i] = pfn;
	p->data[i] = page;
	p->is_table[i] = table;
	p->count++;
	return page;
}

uint8_t *kit_pages_table(struct kit_pages *p, uint64_t pa)
{
	return get_or_add(p, pa, true);
}

uint8_t *kit_pages_data(struct kit_pages *p, uint64_t pa)
{
	return get_or_add(p, pa, false);
}

static int cmp_u64(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t *kit_pages_sorted(const struct kit_pages *p, size_t *count_ret)
{
	uint64_t *pas = malloc((p->count ? p->count : 1) * sizeof(*pas));
	size_t n = 0;

	if (!pas)
		out_of_memory();
	for (size_t i = 0; i < p->cap; i++) {
		if (p->keys[i] != KIT_NO_PAGE)
			pas[n++] = p->keys[i] << 12;
	}
	qsort(pas, n, sizeof(*pas), cmp_u64);
	*count_ret = n;
	return pas;
}
