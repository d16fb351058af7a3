/* SPDX-License-Identifier: MIT */
/*
 * ptlab kdump.h: libptkdump, kdump-compressed dumps ("KDUMP   ", the diskdump format
 * makedumpfile, Debian's kdump-tools and QEMU's dump-guest-memory -z/-l/-s write).
 *
 * Reading goes through Debian's libkdumpfile (zlib, lzo, snappy and zstd pages), after this
 * library has checked every header, bitmap and page descriptor against the file; the result is
 * a struct pt_dump (dump.h) like any other, so the walker, enumeration and the kpgd finder read
 * it unchanged. Writing is our own, from the format's description, on zlib, liblzo2, libsnappy
 * and libzstd. libptwalk stays free of these dependencies: it only recognises the magic.
 */
#ifndef PTLAB_KDUMP_H
#define PTLAB_KDUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "ptlab/dump.h"
#include "ptlab/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Open any dump: a kdump-compressed file through pt_kdump_open, every other format through
 * pt_dump_open (which refuses makedumpfile's flattened stream with the `makedumpfile -R`
 * command that rebuilds the standard file). opts may be NULL; force_raw reads the file raw.
 */
enum pt_status pt_kdump_open_dump(const char *path, const struct pt_dump_open_opts *opts,
				  struct pt_dump **dump_ret, struct pt_error *err);

/**
 * Open a kdump-compressed file. The headers, the bitmaps and every page descriptor are checked
 * first (a lie fails with PT_EINVAL naming the file and offset); the CPU state comes from the
 * ELF notes the file carries (QEMU's or ptlab's note), VMCOREINFO from its note or its own area.
 * Pages not dumped are "not in dump" (ptr() gives NULL), never zeros.
 *
 * Memory: pt_mem's contract keeps every pointer valid while the dump is open, so each page read
 * is decompressed once into a cache that lives as long as the dump: an anonymous mapping with
 * one 4 KiB slot per dumped page (consecutive dumped pages in consecutive slots), reserved (not
 * committed) at open. RAM grows as pages are read, in 2 MiB steps where the kernel offers
 * transparent huge pages (madvise; 4 KiB steps otherwise): a walk costs a few MiB, while reading
 * everything (find-kpgd's brute-force scan, kallsyms recovery, conversion) holds the dump's
 * memory, less its zero pages (a stored zero page is never copied: its slot stays untouched).
 * Plus 2 bits per dumped page of bookkeeping and libkdumpfile's own cache (64 pages).
 *
 * A page whose compressed data is corrupt reads as NULL, like a page not in the dump, and is
 * counted: pt_dump_read_errors gives the count and the first message (file, offset of the
 * page's data, PA, libkdumpfile's reason). Not thread-safe: one thread at a time per dump.
 */
enum pt_status pt_kdump_open(const char *path, struct pt_dump **dump_ret, struct pt_error *err);

/** Page compressions of the format (the values are its flags). */
enum pt_kdump_compression {
	PT_KDUMP_ZLIB = 0x1,   /**< a zlib stream per page (what QEMU 7.2 and makedumpfile -c write) */
	PT_KDUMP_LZO = 0x2,    /**< LZO1X-1 (makedumpfile -l) */
	PT_KDUMP_SNAPPY = 0x4, /**< snappy's raw format (makedumpfile -p) */
	PT_KDUMP_ZSTD = 0x20,  /**< a zstd frame (makedumpfile -z) */
};
/** "zlib", "lzo", "snappy", "zstd". */
const char *pt_kdump_compression_name(enum pt_kdump_compression compression);
/** Parse one of those names; false for anything else. */
bool pt_kdump_compression_parse(const char *name, enum pt_kdump_compression *compression_ret);

/** How to write a kdump-compressed file. */
struct pt_kdump_write_opts {
	enum pt_kdump_compression compression;
	/** Called after every 4096 pages and at the end (pages done, pages in all); may be NULL. */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

/** What pt_kdump_write wrote. */
struct pt_kdump_write_stats {
	uint64_t pages;            /**< pages dumped */
	uint64_t compressed;       /**< stored compressed */
	uint64_t stored;           /**< stored as they are (compression did not make them smaller) */
	uint64_t zero;             /**< all-zero pages, sharing one stored copy */
	uint64_t partial_left_out; /**< pages the source holds only in part (not written: a page is
				        dumped whole or not at all) */
	uint64_t file_bytes;       /**< size of the file written */
};

/**
 * Write the dump `src` (any format) as a standard kdump-compressed file at `path`: header
 * version 6 in the x86_64 layout (the i386 one when src's machine is EM_386), both bitmaps
 * marking the pages src holds, one descriptor per page, each page compressed alone (stored
 * when that does not make it smaller; zero pages share one stored copy), src's ELF notes as
 * they are (so its CPU state reads back the same) and its VMCOREINFO. A page src cannot read
 * (a corrupt page of a kdump source) fails with that page's error. Returns PT_OK, or
 * PT_EINVAL with err naming the file (and offset when a source page is at fault).
 */
enum pt_status pt_kdump_write(const char *path, const struct pt_dump *src,
			      const struct pt_kdump_write_opts *opts,
			      struct pt_kdump_write_stats *stats_ret, struct pt_error *err);

#ifdef __cplusplus
}
#endif
#endif
