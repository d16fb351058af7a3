/* SPDX-License-Identifier: MIT */
/*
 * kdump/format.h: the kdump-compressed ("diskdump") file format, as the reader's header check
 * (header.c) and the writer (write.c) both need it. Internal to libptkdump.
 *
 * The format (makedumpfile's IMPLEMENTATION notes; QEMU's dump-guest-memory writes the same):
 *
 *   block 0                      disk_dump_header: "KDUMP   ", header_version, the kernel's
 *                                utsname, a timestamp, status (compression), block_size,
 *                                sub_hdr_size (blocks), bitmap_blocks, max_mapnr, ..., nr_cpus
 *   blocks 1 .. sub_hdr_size     kdump_sub_header: phys_base, dump_level, split, offsets and
 *                                sizes of the VMCOREINFO text, the ELF notes and the erase
 *                                information (kept inside these blocks), max_mapnr_64 (v6)
 *   bitmap_blocks blocks         two bitmaps of max_mapnr bits, each half of the area: the
 *                                first marks the pages that exist, the second the pages
 *                                dumped; bit (pfn % 8) of byte (pfn / 8)
 *   page descriptors             one per set bit of the second bitmap, in pfn order (not block
 *                                aligned at the end): u64 offset of the page's data in the
 *                                file, u32 size, u32 flags (the compression, 0 = stored), u64
 *                                page flags (unused here)
 *   page data                    each page's bytes, compressed alone (zlib stream, LZO1X,
 *                                snappy raw format, zstd frame), or stored when compression
 *                                does not make it smaller (flags 0, size = block size)
 *
 * Pages are block_size bytes (the page size: 4 KiB on x86). The header has two layouts: the
 * 64-bit one (x86_64, 8-byte longs and timeval) and the 32-bit one (i386); utsname.machine
 * tells which. All fields are little-endian on x86.
 */
#ifndef PTLAB_KDUMP_FORMAT_H
#define PTLAB_KDUMP_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

/** "KDUMP   ": the first 8 bytes. */
static const char KD_SIGNATURE[8] = { 'K', 'D', 'U', 'M', 'P', ' ', ' ', ' ' };

/** Sizes and per-page flags of the format. */
enum {
	KD_UTS_FIELD = 65,         /**< each of the six new_utsname strings */
	KD_UTS_OFF = 12,           /**< utsname follows signature and header_version */
	KD_UTS_RELEASE = KD_UTS_OFF + 2 * KD_UTS_FIELD,  /**< utsname.release */
	KD_UTS_MACHINE = KD_UTS_OFF + 4 * KD_UTS_FIELD,  /**< utsname.machine */
	KD_DESC_SIZE = 24,         /**< struct page_desc: u64 offset, u32 size, u32 flags, u64 */
	KD_DESC_OFFSET = 0,
	KD_DESC_SIZE_FIELD = 8,
	KD_DESC_FLAGS = 12,
	KD_PAGE_SIZE = 4096,       /**< x86 pages; block_size must be this */
	KD_HEADER_VERSION = 6,     /**< what the writer writes (max_mapnr_64 in the sub header) */
};

/** Compression flags, in the header's status and in each page descriptor. */
enum kd_flag {
	KD_FLAG_ZLIB = 0x1,
	KD_FLAG_LZO = 0x2,
	KD_FLAG_SNAPPY = 0x4,
	KD_FLAG_INCOMPLETE = 0x8,  /**< status only: the writer ran out of space */
	KD_FLAG_EXCLUDED_VMEMMAP = 0x10, /**< status only */
	KD_FLAG_ZSTD = 0x20,
	KD_FLAG_COMPRESSED = KD_FLAG_ZLIB | KD_FLAG_LZO | KD_FLAG_SNAPPY | KD_FLAG_ZSTD,
};

/**
 * Field offsets of one header layout. The sub header starts at block 1. Fields marked "word"
 * are `word` bytes wide (4 or 8); offsets and sizes of the VMCOREINFO, notes and erase info
 * are 8-byte offsets and word-wide sizes; the *_64 fields are 8 bytes.
 */
struct kd_layout {
	bool is64;
	uint8_t word;              /**< sizeof(long) of the dumped kernel */
	uint16_t header_size;      /**< sizeof(struct disk_dump_header) */
	uint16_t status, block_size, sub_hdr_size, bitmap_blocks, max_mapnr, nr_cpus;
	uint16_t timestamp;        /**< struct timeval: two words */
	uint8_t sub_size;          /**< sizeof(struct kdump_sub_header) */
	uint8_t phys_base, dump_level, split, start_pfn, end_pfn;   /* phys_base..end_pfn: words */
	uint8_t offset_vmcoreinfo, size_vmcoreinfo, offset_note, size_note;
	uint8_t offset_eraseinfo, size_eraseinfo;
	uint8_t start_pfn_64, end_pfn_64, max_mapnr_64;
};

/** The x86_64 layout (disk_dump_header 464 bytes, kdump_sub_header 104 bytes). */
static const struct kd_layout KD_LAYOUT64 = {
	.is64 = true, .word = 8, .header_size = 464,
	.timestamp = 408, .status = 424, .block_size = 428, .sub_hdr_size = 432,
	.bitmap_blocks = 436, .max_mapnr = 440, .nr_cpus = 460,
	.sub_size = 104, .phys_base = 0, .dump_level = 8, .split = 12, .start_pfn = 16, .end_pfn = 24,
	.offset_vmcoreinfo = 32, .size_vmcoreinfo = 40, .offset_note = 48, .size_note = 56,
	.offset_eraseinfo = 64, .size_eraseinfo = 72,
	.start_pfn_64 = 80, .end_pfn_64 = 88, .max_mapnr_64 = 96,
};

/** The i386 layout (disk_dump_header 452 bytes, kdump_sub_header 80 bytes, 4-byte aligned). */
static const struct kd_layout KD_LAYOUT32 = {
	.is64 = false, .word = 4, .header_size = 452,
	.timestamp = 404, .status = 412, .block_size = 416, .sub_hdr_size = 420,
	.bitmap_blocks = 424, .max_mapnr = 428, .nr_cpus = 448,
	.sub_size = 80, .phys_base = 0, .dump_level = 4, .split = 8, .start_pfn = 12, .end_pfn = 16,
	.offset_vmcoreinfo = 20, .size_vmcoreinfo = 28, .offset_note = 32, .size_note = 40,
	.offset_eraseinfo = 44, .size_eraseinfo = 52,
	.start_pfn_64 = 56, .end_pfn_64 = 64, .max_mapnr_64 = 72,
};

#endif
