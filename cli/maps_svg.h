/* SPDX-License-Identifier: MIT */
/*
 * cli/maps_svg.h: `ptlab maps DUMP --svg FILE`: a picture of the address space (maps_svg.c), with
 * the kernel's regions labelled where the dump and its symbols say they are (maps_regions.c).
 */
#ifndef PTLAB_CLI_MAPS_SVG_H
#define PTLAB_CLI_MAPS_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptlab/maps.h"
#include "util.h"

/** A named stretch of the kernel's address space (kernel text, direct map, vmalloc...). */
struct ptl_region {
	uint64_t start, end;   /**< [start, end) */
	char name[40];         /**< "kernel text", "direct map", ... */
	char source[80];       /**< what says so: "System.map _text.._etext", "vmalloc_base in memory" */
};

/** The regions found, and why there are none when there are none. */
struct ptl_regions {
	struct ptl_region items[16];
	size_t count;
	char note[160];        /**< how they were found, or why not */
};

/**
 * Find the kernel's regions in the session's dump: the kpgd finder (with `symbols_path` when not
 * NULL, else VMCOREINFO or the kallsyms tables recovered from memory) gives the kernel's slide and
 * direct map; symbols give _text.._etext and, read from memory through the kernel's own table, the
 * randomised bases (vmalloc_base, vmemmap_base); the fixed areas of the x86 layout are added for
 * a verified Linux kernel. Returns PTL_EXIT_OK (maybe with no region, note says why), or
 * PTL_EXIT_USAGE after printing one line (an unreadable symbol file).
 */
int ptl_regions_find(const struct ptl_session *s, const char *symbols_path, struct ptl_regions *out);

/** The picture being collected. */
struct ptl_svg;

/**
 * Start a picture of the session's address space, to be written to `path` (created now, so that
 * an unwritable path fails before anything is listed). NULL after printing one line.
 */
struct ptl_svg *ptl_svg_create(const struct ptl_session *s, const char *path);
/** Add one range the enumeration yielded (any kind). False when out of memory. */
bool ptl_svg_add(struct ptl_svg *svg, const struct pt_range *range);
/**
 * Write the SVG: both canonical halves (one space in 32-bit modes) on a segmented
 * axis, each segment to scale, regions labelled, a legend. Returns PTL_EXIT_OK, or
 * PTL_EXIT_USAGE after printing one line (the file cannot be written, bad symbols).
 */
int ptl_svg_write(struct ptl_svg *svg, const char *symbols_path);
/** Free. NULL is ignored. */
void ptl_svg_destroy(struct ptl_svg *svg);

#endif
