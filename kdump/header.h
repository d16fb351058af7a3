/* SPDX-License-Identifier: MIT */
/*
 * kdump/header.h: a kdump-compressed file's headers, checked against the file before anything
 * is read through them (header.c). Internal to libptkdump.
 */
#ifndef PTLAB_KDUMP_HEADER_H
#define PTLAB_KDUMP_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "ptlab/error.h"

/** A run of consecutive dumped pages. */
struct kd_run {
	uint64_t pfn;    /**< first page frame number */
	uint64_t npages;
	uint64_t slot;   /**< index of its first page among the dumped pages (= its descriptor) */
};

/** What the headers say, every offset checked against the file size. */
struct kd_header {
	const struct kd_layout *layout;
	unsigned machine;           /**< 62 (EM_X86_64) or 3 (EM_386), from utsname.machine */
	char uts_machine[KD_UTS_FIELD + 1];
	char uts_release[KD_UTS_FIELD + 1];
	uint32_t version, status, block_size, nr_cpus;
	uint64_t max_mapnr;         /**< pages the bitmaps describe */
	uint64_t phys_base, dump_level;
	uint64_t vmcoreinfo_off, vmcoreinfo_size; /**< size 0: none */
	uint64_t note_off, note_size;             /**< size 0: none */
	uint64_t bitmap2_off;       /**< the second bitmap (pages dumped) */
	uint64_t desc_off;          /**< the first page descriptor */
	uint64_t ndumped;           /**< pages dumped (descriptors) */
	struct kd_run *runs;        /**< sorted by pfn */
	size_t nruns;
};

/** What one page descriptor says. */
struct kd_desc {
	uint64_t desc_off;          /**< where the descriptor is in the file */
	uint64_t offset;            /**< where the page's data is */
	uint32_t size, flags;
};

/**
 * Check the headers of the kdump-compressed file mapped at `map` (`size` bytes): the signature,
 * the layout (utsname.machine), block size, bitmaps, every page descriptor (data inside the
 * file, a known compression, no more than a page). Fills *h (kd_header_deinit frees it).
 * Returns PT_OK or PT_EINVAL with err naming `path` and the offset.
 */
enum pt_status kd_header_parse(const char *path, const uint8_t *map, uint64_t size,
			       struct kd_header *h, struct pt_error *err);
/** Free what kd_header_parse allocated. */
void kd_header_deinit(struct kd_header *h);
/** Descriptor number `slot` (< h->ndumped) of the file mapped at `map`. */
void kd_desc_read(const struct kd_header *h, const uint8_t *map, uint64_t slot, struct kd_desc *d);
/** "zlib", "lzo", "snappy", "zstd" or "stored" for a descriptor's flags. */
const char *kd_flags_name(uint32_t flags);

#endif
