/* SPDX-License-Identifier: MIT */
/*
 * ptlab tlb.h: a software TLB in front of pt_translate. Keyed by the memory reader and the
 * whole paging context (mode, root, PAE PDPTEs, MAXPHYADDR, C-bit, NXE, PSE: everything that decides a walk) and
 * the 4 KiB page number; the access check is redone on every hit from the cached rights, so
 * an answer always equals the uncached walk. Faults and "not in dump" are never cached.
 * Like a hardware TLB it does not see later writes to the tables: flush after changing them.
 */
#ifndef PTLAB_TLB_H
#define PTLAB_TLB_H

#include <stdint.h>

#include "ptlab/walk.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pt_tlb;

/** Hit/miss counters. */
struct pt_tlb_stats {
	uint64_t hits;
	uint64_t misses;
};

/** Create a TLB of 2^entries_log2 entries (4..24). */
enum pt_status pt_tlb_create(unsigned entries_log2, struct pt_tlb **tlb_ret);
/** Free. NULL is ignored. */
void pt_tlb_destroy(struct pt_tlb *tlb);
/** pt_translate through the cache; same return values and result. */
enum pt_status pt_tlb_translate(struct pt_tlb *tlb, const struct pt_context *ctx,
				const struct pt_mem *mem, uint64_t va,
				const struct pt_access *access, struct pt_result *result);
/** Forget every translation of the address space `ctx` over `mem`. */
void pt_tlb_flush_space(struct pt_tlb *tlb, const struct pt_context *ctx, const struct pt_mem *mem);
/** Forget everything. */
void pt_tlb_flush_all(struct pt_tlb *tlb);
/** Counters. */
void pt_tlb_get_stats(const struct pt_tlb *tlb, struct pt_tlb_stats *stats_ret);

#ifdef __cplusplus
}
#endif
#endif
