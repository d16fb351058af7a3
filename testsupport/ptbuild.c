/* SPDX-License-Identifier: MIT */
/* A page-table builder for tests and benches; see ptbuild.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptbuild.h"

static void die(const char *what)
{
	fprintf(stderr, "ptbuild: %s\n", what);
	abort();
}

void ptb_init(struct ptb *b, enum pt_mode mode, uint64_t size, uint64_t first_table_pa)
{
	memset(b, 0, sizeof(*b));
	b->mode = mode;
	b->desc = pt_mode_desc(mode);
	if (!b->desc)
		die("paging mode has no tables");
	b->mem = calloc(1, size);
	if (!b->mem)
		die("out of memory");
	b->size = size;
	b->next_free = (first_table_pa + 4095) & ~UINT64_C(4095);
	pt_flat_mem_init(&b->flat, b->mem, size);
	b->root = ptb_alloc_page(b);
}

void ptb_deinit(struct ptb *b)
{
	free(b->mem);
	memset(b, 0, sizeof(*b));
}

uint64_t ptb_alloc_page(struct ptb *b)
{
	if (b->next_free + 4096 > b->size)
		die("table memory exhausted");
	uint64_t pa = b->next_free;
	b->next_free += 4096;
	memset(b->mem + pa, 0, 4096);
	return pa;
}

uint64_t ptb_get(const struct ptb *b, uint64_t entry_pa)
{
	const unsigned n = b->desc->entry_size;
	if (entry_pa + n > b->size)
		die("entry outside memory");
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b->mem[entry_pa + i] << (8 * i);
	return v;
}

void ptb_set(struct ptb *b, uint64_t entry_pa, uint64_t value)
{
	const unsigned n = b->desc->entry_size;
	if (entry_pa + n > b->size)
		die("entry outside memory");
	for (unsigned i = 0; i < n; i++)
		b->mem[entry_pa + i] = (uint8_t)(value >> (8 * i));
}

/** PA of the entry for `va` in the table at `table` for `level` (the walker's index arithmetic). */
static uint64_t entry_in(const struct ptb *b, uint64_t table, uint64_t va, unsigned level)
{
	const struct pt_level_desc *ld = &b->desc->level[level];
	uint64_t index = (va >> ld->va_shift) & ((UINT64_C(1) << ld->index_bits) - 1);
	return table + index * b->desc->entry_size;
}

/** The table an entry points to (tables are in low memory: bits 51:12, or 31:12 for 32-bit). */
static uint64_t next_table(const struct ptb *b, uint64_t entry)
{
	return entry & (b->desc->entry_size == 4 ? UINT64_C(0xfffff000) : UINT64_C(0x000ffffffffff000));
}

uint64_t ptb_entry_pa(const struct ptb *b, uint64_t va, unsigned level)
{
	uint64_t table = b->root;
	for (unsigned l = b->desc->levels; l > level; l--) {
		uint64_t e = ptb_get(b, entry_in(b, table, va, l));
		if (!(e & PTE_P))
			die("ptb_entry_pa: no table on the way");
		table = next_table(b, e);
	}
	return entry_in(b, table, va, level);
}

uint64_t ptb_map(struct ptb *b, uint64_t va, uint64_t pa, unsigned leaf_level,
		 uint64_t leaf_flags, uint64_t table_flags)
{
	uint64_t table = b->root;
	for (unsigned l = b->desc->levels; l > leaf_level; l--) {
		uint64_t epa = entry_in(b, table, va, l);
		uint64_t e = ptb_get(b, epa);
		if (!(e & PTE_P)) {
			uint64_t flags = table_flags;
			if (b->mode == PT_MODE_PAE && l == 3)
				flags &= PTE_P | PTE_PWT | PTE_PCD; /* Table 4-8: PDPTE has no R/W, U/S */
			e = ptb_alloc_page(b) | flags | PTE_P;
			ptb_set(b, epa, e);
		}
		table = next_table(b, e);
	}
	uint64_t leaf = leaf_flags;
	if (leaf_level > 1) {
		leaf |= PTE_PS;
		if (b->mode == PT_MODE_LEGACY) {
			/* Table 4-5: PA bits 39:32 of a 4 MiB page go to entry bits 20:13. */
			leaf |= (pa & UINT64_C(0xffc00000)) | (((pa >> 32) & 0xff) << 13);
		} else {
			leaf |= pa;
		}
	} else {
		leaf |= pa;
	}
	uint64_t epa = entry_in(b, table, va, leaf_level);
	ptb_set(b, epa, leaf);
	return epa;
}

void ptb_set_bits(struct ptb *b, uint64_t va, unsigned level, uint64_t bits)
{
	uint64_t epa = ptb_entry_pa(b, va, level);
	ptb_set(b, epa, ptb_get(b, epa) | bits);
}

void ptb_clear_bits(struct ptb *b, uint64_t va, unsigned level, uint64_t bits)
{
	uint64_t epa = ptb_entry_pa(b, va, level);
	ptb_set(b, epa, ptb_get(b, epa) & ~bits);
}

const struct pt_mem *ptb_mem(struct ptb *b)
{
	return &b->flat.mem;
}

void ptb_cpu(const struct ptb *b, struct pt_cpu_state *cpu)
{
	pt_cpu_state_default(cpu, b->root);
	pt_cpu_state_set_mode(cpu, b->mode);
}
