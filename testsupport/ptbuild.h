/* SPDX-License-Identifier: MIT */
/*
 * ptbuild.h: a small page-table builder for tests and benches. It shares the walker's level
 * arithmetic (pt_mode_desc) so a test says "map VA x to PA y with a 2 MiB page" and the
 * builder places the entries where the walker will look for them.
 */
#ifndef PTLAB_TESTS_PTBUILD_H
#define PTLAB_TESTS_PTBUILD_H

#include <stdint.h>

#include "ptlab/walk.h"

/** Physical memory being built: one flat zeroed buffer, tables allocated from `next_free` up. */
struct ptb {
	enum pt_mode mode;
	const struct pt_mode_desc *desc;
	uint8_t *mem;        /**< physical addresses [0, size) */
	uint64_t size;
	uint64_t next_free;  /**< next page the allocator hands out */
	uint64_t root;       /**< PA of the top table (PAE: the PDPT) */
	struct pt_flat_mem flat;
};

/** Default flags of intermediate entries: P | RW | US (PAE PDPTEs get P only). */
#define PTB_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US)

/** Allocate `size` bytes of zeroed memory, tables from `first_table_pa` up; allocate the root. */
void ptb_init(struct ptb *b, enum pt_mode mode, uint64_t size, uint64_t first_table_pa);
/** Free the memory. */
void ptb_deinit(struct ptb *b);
/** A zeroed 4 KiB page for a table (aborts when memory is exhausted). */
uint64_t ptb_alloc_page(struct ptb *b);
/**
 * Map `va` to `pa` with a leaf at `leaf_level` (1: 4 KiB; 2: 2 MiB or 4 MiB; 3: 1 GiB), creating
 * missing tables with `table_flags`. PS is added to `leaf_flags` for levels above 1. Returns the
 * PA of the leaf entry.
 */
uint64_t ptb_map(struct ptb *b, uint64_t va, uint64_t pa, unsigned leaf_level,
		 uint64_t leaf_flags, uint64_t table_flags);
/** PA of the entry for `va` at `level` (tables above must exist; aborts otherwise). */
uint64_t ptb_entry_pa(const struct ptb *b, uint64_t va, unsigned level);
/** Read / write an entry (4 or 8 bytes by mode) at `entry_pa`. */
uint64_t ptb_get(const struct ptb *b, uint64_t entry_pa);
void ptb_set(struct ptb *b, uint64_t entry_pa, uint64_t value);
/** OR / AND-NOT bits into the entry for `va` at `level`. */
void ptb_set_bits(struct ptb *b, uint64_t va, unsigned level, uint64_t bits);
void ptb_clear_bits(struct ptb *b, uint64_t va, unsigned level, uint64_t bits);
/** The reader over the built memory. */
const struct pt_mem *ptb_mem(struct ptb *b);
/** A CPU state for the mode (pt_cpu_state_default + pt_cpu_state_set_mode) with CR3 = root. */
void ptb_cpu(const struct ptb *b, struct pt_cpu_state *cpu_ret);

#endif
