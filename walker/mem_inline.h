/* SPDX-License-Identifier: MIT */
/*
 * walker/mem_inline.h: reading physical memory without a call where the reader allows it. The
 * walker (walk.c), enumeration (maps.c) and the TLB (tlb.c) read every entry through
 * mem_at: a pt_chunk_mem's table or a pt_flat_mem's buffer is indexed inline; any other reader
 * is called. Internal to libptwalk: not installed, not included outside walker/.
 */
#ifndef PTLAB_WALKER_MEM_INLINE_H
#define PTLAB_WALKER_MEM_INLINE_H

#include "ptlab/le.h"
#include "ptlab/walk.h"

#if defined(__GNUC__)
#define WALK_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define WALK_LIKELY(x) (x)
#endif

/** The ptr callback of a pt_flat_mem (walk.c). */
const void *walk_flat_ptr(const struct pt_mem *mem, uint64_t pa, size_t len);

/** `len` bytes at `pa` from the run or the chunk table of `cm`, or NULL when neither holds them
 *  (then cm->fallback may). */
static inline const uint8_t *chunk_at(const struct pt_chunk_mem *cm, uint64_t pa, size_t len)
{
	const uint64_t run_off = pa - cm->run_pa;
	if (WALK_LIKELY(run_off < cm->run_size) && len <= cm->run_size - run_off)
		return cm->run + run_off;
	const uint64_t c = pa >> cm->shift;
	const uint64_t off = pa & cm->offset_mask;
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

/** mem_at out of line: the rare read the chunk reader's run and table do not answer (kept out
 *  of the loops so that their registers stay theirs). */
const uint8_t *walk_mem_at_slow(const struct pt_mem *mem, uint64_t pa, size_t len);

/** The pt_chunk_mem behind `mem`, or NULL for any other reader. */
static inline const struct pt_chunk_mem *chunk_mem_of(const struct pt_mem *mem)
{
	return mem->ptr == pt_chunk_mem_ptr ? (const struct pt_chunk_mem *)mem : NULL;
}

/** The chunk reader to read `mem` through with the view_* functions below, never NULL: `mem`
 *  itself when it is a pt_chunk_mem, else `spare` made into one that holds no chunk (so every
 *  read goes to `mem`), with a pt_flat_mem's buffer as its run. The loops test no reader kind
 *  per entry. */
static inline const struct pt_chunk_mem *chunk_view(const struct pt_mem *mem, struct pt_chunk_mem *spare)
{
	if (mem->ptr == pt_chunk_mem_ptr)
		return (const struct pt_chunk_mem *)mem;
	pt_chunk_mem_init(spare, NULL, 0, PT_PAGE_SHIFT, mem);
	if (mem->ptr == walk_flat_ptr) {
		const struct pt_flat_mem *flat = (const struct pt_flat_mem *)mem;
		pt_chunk_mem_set_run(spare, flat->base, 0, flat->size);
	}
	return spare;
}

/** mem_at with the chunk reader `cm` of `mem` (or NULL) inline: its run, then its table. */
static inline const uint8_t *view_at(const struct pt_chunk_mem *cm, const struct pt_mem *mem,
				     uint64_t pa, size_t len)
{
	if (cm) {
		const uint8_t *p = chunk_at(cm, pa, len);
		if (p)
			return p;
		if (pa >= cm->end)
			return NULL;
	}
	return walk_mem_at_slow(mem, pa, len);
}

/** Whether the byte at `pa` is in the dump (mem_at(mem, pa, 1) != NULL), the run and table
 *  of `cm` (chunk_view: never NULL) inline. */
static inline bool view_has_byte(const struct pt_chunk_mem *cm, const struct pt_mem *mem, uint64_t pa)
{
	return view_at(cm, mem, pa, 1) != NULL;
}

/** Read the paging-structure entry of `esize` bytes (4 or 8) at `pa` (aligned to its size) into
 *  *raw; false when it is not in the dump. The run and the chunk table of `cm` (chunk_view: never
 *  NULL) are read inline and without length compares: the entry's size divides the run's start
 *  and size (pt_chunk_mem_set_run) and the chunk size (>= 4 KiB), so the entry never crosses the
 *  end of either. */
static inline bool view_entry_read(const struct pt_chunk_mem *cm, const struct pt_mem *mem,
				   uint64_t pa, size_t esize, uint64_t *raw)
{
	const uint64_t c = pa >> cm->shift;
	const uint8_t *p;
	if (WALK_LIKELY(pa - cm->run_pa < cm->run_size))
		p = cm->run + (pa - cm->run_pa);
	else if (c < cm->nchunks && cm->chunks[c] != NULL)
		p = cm->chunks[c] + (pa & cm->offset_mask);
	else if (pa >= cm->end || !(p = walk_mem_at_slow(mem, pa, esize)))
		return false;
	*raw = esize == 8 ? pt_le64(p) : pt_le32(p);
	return true;
}

#endif
