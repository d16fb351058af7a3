/* SPDX-License-Identifier: MIT */
/*
 * walker/mem_inline.h: reading physical memory without a call where the reader allows it. The
 * walker (walk.c), enumeration (maps.c) and the TLB (tlb.c) read every entry through
 * mem_at: a pt_chunk_mem's table or a pt_flat_mem's buffer is indexed inline; any other reader
 * is called. Internal to libptwalk: not installed, not included outside walker/.
 */
#ifndef PTLAB_WALKER_MEM_INLINE_H
#define PTLAB_WALKER_MEM_INLINE_H

#include "ptlab/walk.h"

/** The ptr callback of a pt_flat_mem (walk.c). */
const void *walk_flat_ptr(const struct pt_mem *mem, uint64_t pa, size_t len);

/** `len` bytes at `pa` from the run or the chunk table of `cm`, or NULL when neither holds them
 *  (then cm->fallback may). */
static inline const uint8_t *chunk_at(const struct pt_chunk_mem *cm, uint64_t pa, size_t len)
{
	const uint64_t c = pa >> cm->shift;
	const uint64_t off = pa & cm->offset_mask;
	if (pa - cm->run_pa < cm->run_size && len <= cm->run_size - (pa - cm->run_pa))
		return cm->run + (pa - cm->run_pa);
	if (c < cm->nchunks && cm->chunks[c] && len <= cm->offset_mask + 1 - off)
		return cm->chunks[c] + off;
	return NULL;
}

/** `len` bytes at physical address `pa`, or NULL when not all of them are in the dump: what
 *  mem->ptr answers, without calling it for the readers libptwalk knows. */
static inline const uint8_t *mem_at(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	if (mem->ptr == pt_chunk_mem_ptr) {
		const uint8_t *p = chunk_at((const struct pt_chunk_mem *)mem, pa, len);
		if (p)
			return p;
	} else if (mem->ptr == walk_flat_ptr) {
		const struct pt_flat_mem *flat = (const struct pt_flat_mem *)mem;
		if (pa >= flat->size || len > flat->size - pa)
			return NULL;
		return flat->base + pa;
	}
	return mem->ptr(mem, pa, len);
}

/**
 * A pt_chunk_mem's run and table (or a pt_flat_mem's buffer, as a run) held in locals for a loop
 * of reads (a walk, a table scan): the loop's stores into its results cannot make the compiler
 * reload them. Other readers leave it empty and every read goes to mem_at.
 */
struct chunk_view {
	const uint8_t *run;
	uint64_t run_pa, run_size; /* run_size 0: no run */
	const uint8_t *const *chunks;
	uint64_t nchunks;          /* 0: no table */
	uint64_t offset_mask;
	unsigned shift;
};

static inline struct chunk_view chunk_view_of(const struct pt_mem *mem)
{
	struct chunk_view v = { 0 };
	if (mem->ptr == pt_chunk_mem_ptr) {
		const struct pt_chunk_mem *cm = (const struct pt_chunk_mem *)mem;
		v.run = cm->run;
		v.run_pa = cm->run_pa;
		v.run_size = cm->run_size;
		v.chunks = cm->chunks;
		v.nchunks = cm->nchunks;
		v.offset_mask = cm->offset_mask;
		v.shift = cm->shift;
	} else if (mem->ptr == walk_flat_ptr) {
		const struct pt_flat_mem *flat = (const struct pt_flat_mem *)mem;
		v.run = flat->base;
		v.run_size = flat->size;
	}
	return v;
}

/** mem_at out of line: the rare read a chunk view does not answer (kept out of the loops so
 *  that their registers stay theirs). */
const uint8_t *walk_mem_at_slow(const struct pt_mem *mem, uint64_t pa, size_t len);

/** mem_at through a chunk view: the run or the table inline, anything else through mem_at. */
static inline const uint8_t *view_at(const struct chunk_view *v, const struct pt_mem *mem, uint64_t pa,
				     size_t len)
{
	const uint64_t run_off = pa - v->run_pa;
	if (run_off < v->run_size && len <= v->run_size - run_off)
		return v->run + run_off;
	const uint64_t c = pa >> v->shift;
	if (c < v->nchunks) {
		const uint8_t *base = v->chunks[c];
		const uint64_t off = pa & v->offset_mask;
		if (base != NULL && len <= v->offset_mask + 1 - off)
			return base + off;
	}
	return walk_mem_at_slow(mem, pa, len);
}

/** view_at for one paging-structure entry: `pa` is aligned to the entry's size, which divides the
 *  chunk size (>= 4 KiB) and the run's size (a multiple of 4 KiB, as every range of a dump is not:
 *  hence the run's check stays whole), so the entry never crosses a chunk's end. */
static inline const uint8_t *view_entry_at(const struct chunk_view *v, const struct pt_mem *mem,
					   uint64_t pa, size_t esize)
{
	const uint64_t run_off = pa - v->run_pa;
	if (run_off < v->run_size && esize <= v->run_size - run_off)
		return v->run + run_off;
	const uint64_t c = pa >> v->shift;
	if (c < v->nchunks) {
		const uint8_t *base = v->chunks[c];
		if (base != NULL)
			return base + (pa & v->offset_mask);
	}
	return walk_mem_at_slow(mem, pa, esize);
}

#endif
