/* SPDX-License-Identifier: MIT */
/*
 * ptlab maps.h: enumeration of an address space as a range iterator (house style 7).
 * Yields mapped ranges in VA order, and on request the holes between them; reads whole
 * tables at a time; an unreadable subtree (a table not in the dump) is reported and skipped;
 * a table referenced again and again (Linux's ESPFIX area points one table at 65k slots) is
 * expanded up to an alias budget and then reported as an alias of its first appearance, so a
 * hostile dump whose every entry points to the same table stays bounded.
 */
#ifndef PTLAB_MAPS_H
#define PTLAB_MAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "ptlab/walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a yielded range is. */
enum pt_range_kind {
	PT_RANGE_MAPPED = 0,     /**< translates: va..va+size-1 -> pa.. */
	PT_RANGE_HOLE = 1,       /**< not present (only with opts.holes) */
	PT_RANGE_RESERVED = 2,   /**< a present entry with reserved bits: every access faults (RSVD) */
	PT_RANGE_UNREADABLE = 3, /**< a table of this subtree is not in the dump (table_pa) */
	PT_RANGE_ALIAS = 4,      /**< same table as at alias_va, not expanded again (alias budget spent) */
};
/** "mapped", "hole", "reserved", "unreadable", "alias". */
const char *pt_range_kind_name(enum pt_range_kind kind);

/** One range of the address space. */
struct pt_range {
	enum pt_range_kind kind;
	uint64_t va;          /**< first VA (canonical form) */
	uint64_t size;        /**< bytes */
	uint64_t pa;          /**< MAPPED: PA of va */
	uint64_t page_size;   /**< MAPPED: size of the pages (ranges merge only with equal page size) */
	uint8_t level;        /**< level of the leaf, or of the entry that is reserved/points to the missing table */
	struct pt_rights rights; /**< MAPPED/ALIAS: combined rights */
	bool pa_in_dump;      /**< MAPPED: the first and last byte of every page's frame are in the dump */
	uint64_t entry_pa;    /**< the entry behind this range (raw view: the leaf entry) */
	uint64_t entry;       /**< its raw value */
	uint64_t table_pa;    /**< UNREADABLE: the missing table; ALIAS: the repeated table */
	uint64_t alias_va;    /**< ALIAS: where that table was first expanded */
};

/** How to enumerate. */
struct pt_maps_opts {
	bool coalesce;          /**< merge adjacent mapped ranges with equal rights, page size and
				     contiguous PAs (QEMU `info mem`-like); false: one range per leaf
				     entry (`info tlb`-like) */
	bool holes;             /**< also yield PT_RANGE_HOLE ranges */
	uint64_t va_start;      /**< first VA (canonical form), 0 for all */
	uint64_t va_last;       /**< last VA (inclusive, canonical), 0 for all */
	uint64_t alias_budget;  /**< leaf entries that repeated subtrees may yield before they are
				     collapsed into PT_RANGE_ALIAS; 0 = default (4 Mi) */
};

/** Counters of one enumeration. */
struct pt_maps_stats {
	uint64_t tables_read;
	uint64_t leaves;
	uint64_t unreadable;
	uint64_t reserved;
	uint64_t aliases_collapsed;
};

struct pt_maps_iter;

/** Start enumerating `ctx` (which must stay valid). opts may be NULL. PT_EINVAL if paging is off. */
enum pt_status pt_maps_create(const struct pt_context *ctx, const struct pt_mem *mem,
			      const struct pt_maps_opts *opts, struct pt_maps_iter **iter_ret);
/** The next range in VA order; false at the end. */
bool pt_maps_next(struct pt_maps_iter *iter, struct pt_range *range_ret);
/** Counters so far. */
void pt_maps_get_stats(const struct pt_maps_iter *iter, struct pt_maps_stats *stats_ret);
/** Free. NULL is ignored. */
void pt_maps_destroy(struct pt_maps_iter *iter);

#ifdef __cplusplus
}
#endif
#endif
