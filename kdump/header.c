/* SPDX-License-Identifier: MIT */
/*
 * kdump/header.c: check a kdump-compressed file's headers, bitmaps and page descriptors against
 * the file before libkdumpfile reads anything through them (format.h describes the format).
 *
 * libkdumpfile's own messages name no file offset; ptlab's contract is one line naming the file
 * and the offset of what is wrong, and no crash on any input. So every field is checked here
 * first: the signature, the machine (utsname.machine: x86_64, or i386..i686), the layout
 * (32- or 64-bit, told by structure as libkdumpfile tells it, and read as libkdumpfile will read
 * it), the block size (the 4 KiB page), the sub header, the VMCOREINFO, notes and erase-info
 * areas, the two bitmaps, and each page descriptor (its data inside the file, one known
 * compression, at most a page, stored pages a whole page). The dumped pages (the second bitmap)
 * become runs of consecutive frames; the n-th dumped page has the n-th descriptor.
 */
#include "header.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab/le.h"

/** The highest page frame number + 1 of a 52-bit physical address space. */
static const uint64_t MAX_PFNS = UINT64_C(1) << (52 - 12);

/** True when [off, off + len) lies inside a file of `size` bytes (no overflow). */
static bool in_file(uint64_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

const char *kd_flags_name(uint32_t flags)
{
	switch (flags) {
	case 0:
		return "stored";
	case KD_FLAG_ZLIB:
		return "zlib";
	case KD_FLAG_LZO:
		return "lzo";
	case KD_FLAG_SNAPPY:
		return "snappy";
	case KD_FLAG_ZSTD:
		return "zstd";
	}
	return "unknown";
}

void kd_desc_read(const struct kd_header *h, const uint8_t *map, uint64_t slot, struct kd_desc *d)
{
	const uint8_t *p;

	d->desc_off = h->desc_off + slot * KD_DESC_SIZE;
	p = map + d->desc_off;
	d->offset = pt_le64(p + KD_DESC_OFFSET);
	d->size = pt_le32(p + KD_DESC_SIZE_FIELD);
	d->flags = pt_le32(p + KD_DESC_FLAGS);
}

/** A NUL-terminated copy of a 65-byte utsname field. */
static void uts_copy(char *out, const uint8_t *field)
{
	memcpy(out, field, KD_UTS_FIELD);
	out[KD_UTS_FIELD] = 0;
}

/** The machine utsname.machine names: 62 (x86_64), 3 (i386..i686) or 0. */
static unsigned machine_for(const char *machine)
{
	static const char *const i386_names[] = { "i386", "i486", "i586", "i686" };

	if (strcmp(machine, "x86_64") == 0)
		return 62;
	for (size_t i = 0; i < sizeof(i386_names) / sizeof(i386_names[0]); i++)
		if (strcmp(machine, i386_names[i]) == 0)
			return 3;
	return 0;
}

/** One way to read the header: a layout and a byte order. */
struct kd_reading {
	const struct kd_layout *layout;
	bool big_endian;
};

/**
 * The readings in the order libkdumpfile 0.5 tries them (diskdump.c: open_common, try_header_32,
 * try_header_64); it takes the first whose block size is 4 KiB..256 KiB (its MIN_PAGE_SIZE and
 * MAX_PAGE_SIZE) and whose bitmaps cover max_mapnr. The layout is told by structure, not by
 * utsname.machine: QEMU writes the 64-bit layout for an i386 guest whose memory map reaches 4 GiB
 * (the 32-bit layout's block_size lies inside the 64-bit layout's timestamp, which QEMU leaves
 * zero).
 */
static const struct kd_reading READINGS[] = {
	{ &KD_LAYOUT32, false }, { &KD_LAYOUT32, true }, { &KD_LAYOUT64, false }, { &KD_LAYOUT64, true },
};
enum { LIBKDUMPFILE_MIN_BLOCK = 4096, LIBKDUMPFILE_MAX_BLOCK = 1 << 18 };

static uint32_t u32_in(const uint8_t *p, bool big_endian)
{
	return big_endian ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
			  : pt_le32(p);
}

/** Would libkdumpfile take reading R of the header (*block_ret: the block size it reads)? */
static bool reading_fits(const uint8_t *map, uint64_t size, const struct kd_reading *R,
			 uint32_t *block_ret)
{
	const struct kd_layout *L = R->layout;

	if (size < L->header_size)
		return false;
	*block_ret = u32_in(map + L->block_size, R->big_endian);
	if (*block_ret < LIBKDUMPFILE_MIN_BLOCK || *block_ret > LIBKDUMPFILE_MAX_BLOCK)
		return false;
	return (uint64_t)8 * u32_in(map + L->bitmap_blocks, R->big_endian) * *block_ret >=
	       u32_in(map + L->max_mapnr, R->big_endian);
}

/** A word-wide field (4 or 8 bytes) of the layout. */
static uint64_t word_at(const struct kd_header *h, const uint8_t *p)
{
	return pt_le_get(p, h->layout->word);
}

/** The disk_dump_header: signature, layout, version, block size, bitmap size. */
static enum pt_status parse_main(const char *path, const uint8_t *map, uint64_t size,
				 struct kd_header *h, uint32_t *sub_blocks_ret,
				 uint32_t *bitmap_blocks_ret, struct pt_error *err)
{
	const struct kd_layout *L;

	if (size < sizeof(KD_SIGNATURE) || memcmp(map, KD_SIGNATURE, sizeof(KD_SIGNATURE)) != 0)
		return pt_error_set(err, path, 0, "not a kdump-compressed file (no \"KDUMP   \" signature)");
	if (size < KD_LAYOUT32.header_size)
		return pt_error_set(err, path, 0, "truncated kdump header: %" PRIu64 " bytes, need %u",
				    size, KD_LAYOUT32.header_size);
	uts_copy(h->uts_machine, map + KD_UTS_MACHINE);
	uts_copy(h->uts_release, map + KD_UTS_RELEASE);
	h->machine = machine_for(h->uts_machine);
	if (!h->machine)
		return pt_error_set(err, path, KD_UTS_MACHINE,
				    "utsname.machine \"%.65s\" is not x86_64 or i386..i686: not an x86 dump",
				    h->uts_machine);
	/* The reading libkdumpfile will take must be the one checked here: little-endian, 4 KiB
	 * blocks. Any other (a crafted header can make a big-endian or larger-block reading come
	 * first) would have it read the file otherwise, its tables sized from fields never checked
	 * (a 21 kB file made it ask for 4 GiB). */
	L = NULL;
	for (size_t i = 0; i < sizeof(READINGS) / sizeof(READINGS[0]) && !L; i++) {
		const struct kd_reading *R = &READINGS[i];
		uint32_t block;

		if (!reading_fits(map, size, R, &block))
			continue;
		if (R->big_endian || block != KD_PAGE_SIZE)
			return pt_error_set(err, path, R->layout->block_size, "block_size reads first "
					    "as %" PRIu32 " in a %s-endian %s header, as libkdumpfile "
					    "would read it: ptlab reads little-endian x86 dumps with "
					    "%d-byte blocks", block, R->big_endian ? "big" : "little",
					    R->layout->is64 ? "x86_64" : "i386", KD_PAGE_SIZE);
		L = R->layout;
	}
	if (!L)
		return pt_error_set(err, path, KD_LAYOUT64.block_size, "neither header layout (i386: "
				    "block_size at 0x%x, x86_64: at 0x%x) has a block size of %d with "
				    "bitmaps covering max_mapnr", KD_LAYOUT32.block_size,
				    KD_LAYOUT64.block_size, KD_PAGE_SIZE);
	h->layout = L;
	h->version = pt_le32(map + 8);
	if (h->version == 0)
		return pt_error_set(err, path, 8, "header_version 0: no sub header (need 1 or later)");
	h->status = pt_le32(map + L->status);
	h->block_size = KD_PAGE_SIZE;
	*sub_blocks_ret = pt_le32(map + L->sub_hdr_size);
	*bitmap_blocks_ret = pt_le32(map + L->bitmap_blocks);
	h->nr_cpus = pt_le32(map + L->nr_cpus);
	if (*sub_blocks_ret == 0)
		return pt_error_set(err, path, L->sub_hdr_size, "sub_hdr_size 0: no sub header");
	if (!in_file(size, h->block_size, (uint64_t)*sub_blocks_ret * h->block_size))
		return pt_error_set(err, path, L->sub_hdr_size, "sub header of %" PRIu32 " blocks runs "
				    "past the end of the file (size 0x%" PRIx64 ")", *sub_blocks_ret, size);
	if (*bitmap_blocks_ret % 2 != 0)
		return pt_error_set(err, path, L->bitmap_blocks, "bitmap_blocks %" PRIu32 " is odd: "
				    "the format has two bitmaps of equal size", *bitmap_blocks_ret);
	return PT_OK;
}

/** One area (VMCOREINFO, notes) the sub header points at: inside the file or absent. */
static enum pt_status parse_area(const char *path, uint64_t size, uint64_t field_off,
				 const char *what, uint64_t off, uint64_t len, struct pt_error *err)
{
	if (len != 0 && !in_file(size, off, len))
		return pt_error_set(err, path, field_off, "%s [0x%" PRIx64 ", +0x%" PRIx64 ") runs past "
				    "the end of the file (size 0x%" PRIx64 ")", what, off, len, size);
	return PT_OK;
}

/** The kdump_sub_header (block 1): phys_base, dump_level, VMCOREINFO, notes, max_mapnr_64. */
static enum pt_status parse_sub(const char *path, const uint8_t *map, uint64_t size,
				struct kd_header *h, uint32_t sub_blocks, struct pt_error *err)
{
	const struct kd_layout *L = h->layout;
	const uint64_t sub = h->block_size;
	const uint8_t *s = map + sub;
	enum pt_status st;

	if (!L->is64 && h->version >= 3) {
		/* libkdumpfile 0.5 reads an i386 sub header of version 3 or later packed (the layout
		 * read here) only when its VMCOREINFO is absent or lies after the sub header's first
		 * block and before the bitmaps; else padded (read_sub_hdr_32), its fields elsewhere */
		const uint64_t off = pt_le64(s + L->offset_vmcoreinfo);
		const uint64_t len = pt_le32(s + L->size_vmcoreinfo);
		const uint64_t bitmaps = (uint64_t)(1 + sub_blocks) * h->block_size;
		if (!(off == 0 && len == 0) &&
		    !(off > h->block_size && len <= bitmaps && off <= bitmaps - len))
			return pt_error_set(err, path, sub + L->offset_vmcoreinfo, "VMCOREINFO [0x%"
					    PRIx64 ", +0x%" PRIx64 ") is not between the sub header and "
					    "the bitmaps: libkdumpfile would read the i386 sub header "
					    "padded, ptlab reads it packed", off, len);
	}

	h->phys_base = word_at(h, s + L->phys_base);
	h->dump_level = pt_le32(s + L->dump_level);
	h->max_mapnr = pt_le32(map + L->max_mapnr);
	if (h->version >= 6)
		h->max_mapnr = pt_le64(s + L->max_mapnr_64);
	if (h->max_mapnr > MAX_PFNS)
		return pt_error_set(err, path, h->version >= 6 ? sub + L->max_mapnr_64 : L->max_mapnr,
				    "max_mapnr 0x%" PRIx64 " pages is more than a 52-bit physical "
				    "address space holds", h->max_mapnr);
	if (h->version >= 3) {
		h->vmcoreinfo_off = pt_le64(s + L->offset_vmcoreinfo);
		h->vmcoreinfo_size = word_at(h, s + L->size_vmcoreinfo);
		st = parse_area(path, size, sub + L->offset_vmcoreinfo, "VMCOREINFO",
				h->vmcoreinfo_off, h->vmcoreinfo_size, err);
		if (st != PT_OK)
			return st;
	}
	if (h->version >= 4) {
		h->note_off = pt_le64(s + L->offset_note);
		h->note_size = word_at(h, s + L->size_note);
		st = parse_area(path, size, sub + L->offset_note, "ELF notes", h->note_off,
				h->note_size, err);
		if (st != PT_OK)
			return st;
		/* not used here, but libkdumpfile reads it whole */
		st = parse_area(path, size, sub + L->offset_eraseinfo, "erase info",
				pt_le64(s + L->offset_eraseinfo), word_at(h, s + L->size_eraseinfo), err);
		if (st != PT_OK)
			return st;
	}
	return PT_OK;
}

/**
 * The VMCOREINFO text at map[off, off + len), as libkdumpfile 0.5 will parse it
 * (vmcoreinfo.c): every byte of the blob, split at newlines, each line a key up to its first
 * '=' and a value, and the key made an attribute path at its dots (OFFSET(page.flags)). So: only
 * printable ASCII and newlines (a NUL would cut a key short: a PAGESIZE line with no value and
 * NULs after it made it ask for 2^63 bytes), keys whose dots part non-empty names (".0" made it
 * read past a buffer), and every PAGESIZE line saying 4096 (it takes the page size from there
 * over the header's block size and sizes its buffers by it: PAGESIZE=4 overflowed them). All
 * found by fuzz-kdump.
 */
static enum pt_status check_vmcoreinfo_text(const char *path, const uint8_t *map, uint64_t off,
					    uint64_t len, struct pt_error *err)
{
	static const char pagesize[] = "PAGESIZE=4096";
	const uint64_t end = off + len;

	for (uint64_t i = off; i < end; i++)
		if (map[i] != '\n' && (map[i] < 0x20 || map[i] > 0x7e))
			return pt_error_set(err, path, i, "VMCOREINFO byte 0x%02x is not text "
					    "(printable ASCII lines)", map[i]);
	for (uint64_t line = off; line < end;) {
		uint64_t eol = line, key_end;
		while (eol < end && map[eol] != '\n')
			eol++;
		for (key_end = line; key_end < eol && map[key_end] != '='; key_end++)
			if (map[key_end] == '.' && (key_end == line || map[key_end - 1] == '.' ||
						    key_end + 1 == eol || map[key_end + 1] == '='))
				return pt_error_set(err, path, key_end, "VMCOREINFO line \"%.*s\": "
						    "an empty name at a dot in its key",
						    (int)(eol - line < 40 ? eol - line : 40),
						    (const char *)map + line);
		const uint64_t n = eol - line, k = sizeof("PAGESIZE") - 1;
		if (key_end - line == k && memcmp(map + line, pagesize, k) == 0 &&
		    !(n == sizeof(pagesize) - 1 && memcmp(map + line, pagesize, n) == 0))
			return pt_error_set(err, path, line, "VMCOREINFO line \"%.*s\": a page size "
					    "other than 4096 (libkdumpfile would take it over the block "
					    "size)", (int)(n < 40 ? n : 40), (const char *)map + line);
		line = eol + 1;
	}
	return PT_OK;
}

/** The VMCOREINFO text libkdumpfile reads: the sub header's area and every VMCOREINFO note. */
static enum pt_status check_vmcoreinfo(const char *path, const uint8_t *map,
				       const struct kd_header *h, struct pt_error *err)
{
	const uint64_t end = h->note_off + h->note_size; /* inside the file: parse_sub */
	enum pt_status st = PT_OK;

	if (h->vmcoreinfo_size)
		st = check_vmcoreinfo_text(path, map, h->vmcoreinfo_off, h->vmcoreinfo_size, err);
	/* ELF notes: namesz, descsz, type, then the name and the descriptor, each padded to 4 */
	for (uint64_t pos = h->note_off; st == PT_OK && end - pos >= 12;) {
		const uint64_t namesz = pt_le32(map + pos), descsz = pt_le32(map + pos + 4);
		const uint64_t name = pos + 12, desc = name + ((namesz + 3) & ~UINT64_C(3));
		if (desc > end || ((descsz + 3) & ~UINT64_C(3)) > end - desc)
			break; /* the notes' own reader names what is wrong with them */
		if (namesz >= 10 && memcmp(map + name, "VMCOREINFO", 10) == 0)
			st = check_vmcoreinfo_text(path, map, desc, descsz, err);
		pos = desc + ((descsz + 3) & ~UINT64_C(3));
	}
	return st;
}

/** Set bits among the first `nbits` of the bitmap at `b`. */
static uint64_t bitmap_count(const uint8_t *b, uint64_t nbits)
{
	uint64_t n = 0, i;

	for (i = 0; i + 64 <= nbits; i += 64)
		n += (uint64_t)__builtin_popcountll(pt_le64(b + i / 8));
	for (; i < nbits; i++)
		n += (b[i / 8] >> (i % 8)) & 1;
	return n;
}

/** Append page `pfn` (dumped page number `slot`) to the runs (slots arrive in order). */
static bool runs_add(struct kd_header *h, size_t *cap, uint64_t pfn, uint64_t npages, uint64_t slot)
{
	struct kd_run *last = h->nruns ? &h->runs[h->nruns - 1] : NULL;

	if (last && last->pfn + last->npages == pfn) {
		last->npages += npages;
		return true;
	}
	if (h->nruns == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct kd_run *r = realloc(h->runs, ncap * sizeof(*r));

		if (!r)
			return false;
		h->runs = r;
		*cap = ncap;
	}
	h->runs[h->nruns++] = (struct kd_run){ .pfn = pfn, .npages = npages, .slot = slot };
	return true;
}

/** The runs of dumped pages: the second bitmap, 64 frames at a time where it can. */
static enum pt_status build_runs(const char *path, const uint8_t *map, struct kd_header *h,
				 struct pt_error *err)
{
	const uint8_t *b = map + h->bitmap2_off;
	uint64_t pfn = 0, slot = 0;
	size_t cap = 0;

	while (pfn < h->max_mapnr) {
		uint64_t w = 0, nbits = h->max_mapnr - pfn < 64 ? h->max_mapnr - pfn : 64;

		if (nbits == 64)
			w = pt_le64(b + pfn / 8);
		if (nbits == 64 && w == 0) {
			pfn += 64;
			continue;
		}
		if (nbits == 64 && w == UINT64_MAX) {
			if (!runs_add(h, &cap, pfn, 64, slot))
				goto oom;
			pfn += 64;
			slot += 64;
			continue;
		}
		for (uint64_t i = 0; i < nbits; i++, pfn++) {
			if (!((b[pfn / 8] >> (pfn % 8)) & 1))
				continue;
			if (!runs_add(h, &cap, pfn, 1, slot))
				goto oom;
			slot++;
		}
	}
	return PT_OK;
oom:
	return pt_error_set(err, path, UINT64_MAX, "out of memory for the runs of dumped pages");
}

/** Every page descriptor: data inside the file, one known compression, at most a page. */
static enum pt_status check_descs(const char *path, const uint8_t *map, uint64_t size,
				  const struct kd_header *h, struct pt_error *err)
{
	const char *incomplete = h->status & KD_FLAG_INCOMPLETE ?
					 " (the header marks the dump incomplete)" : "";

	for (size_t r = 0; r < h->nruns; r++) {
		const struct kd_run *run = &h->runs[r];

		for (uint64_t i = 0; i < run->npages; i++) {
			const uint64_t pa = (run->pfn + i) * KD_PAGE_SIZE;
			struct kd_desc d;

			kd_desc_read(h, map, run->slot + i, &d);
			if (d.flags & ~(uint32_t)KD_FLAG_COMPRESSED || __builtin_popcount(d.flags) > 1)
				return pt_error_set(err, path, d.desc_off + KD_DESC_FLAGS, "page descriptor "
						    "of PA 0x%" PRIx64 ": flags 0x%" PRIx32 " are not one known "
						    "compression%s", pa, d.flags, incomplete);
			if (d.size == 0 || d.size > h->block_size ||
			    (d.flags == 0 && d.size != h->block_size))
				return pt_error_set(err, path, d.desc_off + KD_DESC_SIZE_FIELD, "page "
						    "descriptor of PA 0x%" PRIx64 ": size %" PRIu32 " for a "
						    "%s page of %" PRIu32 " bytes%s", pa, d.size,
						    kd_flags_name(d.flags), h->block_size, incomplete);
			if (!in_file(size, d.offset, d.size))
				return pt_error_set(err, path, d.desc_off, "page data of PA 0x%" PRIx64
						    " [0x%" PRIx64 ", +%" PRIu32 ") runs past the end of the "
						    "file (size 0x%" PRIx64 "): truncated%s", pa, d.offset,
						    d.size, size, incomplete);
		}
	}
	return PT_OK;
}

enum pt_status kd_header_parse(const char *path, const uint8_t *map, uint64_t size,
			       struct kd_header *h, struct pt_error *err)
{
	uint32_t sub_blocks = 0, bitmap_blocks = 0;
	uint64_t bitmap_off, half;
	enum pt_status st;

	memset(h, 0, sizeof(*h));
	st = parse_main(path, map, size, h, &sub_blocks, &bitmap_blocks, err);
	if (st == PT_OK)
		st = parse_sub(path, map, size, h, sub_blocks, err);
	if (st == PT_OK)
		st = check_vmcoreinfo(path, map, h, err);
	if (st != PT_OK)
		goto out;
	bitmap_off = (uint64_t)(1 + sub_blocks) * h->block_size;
	half = (uint64_t)bitmap_blocks / 2 * h->block_size;
	if (!in_file(size, bitmap_off, 2 * half)) {
		st = pt_error_set(err, path, h->layout->bitmap_blocks, "bitmaps of %" PRIu32 " blocks at "
				  "0x%" PRIx64 " run past the end of the file (size 0x%" PRIx64 ")",
				  bitmap_blocks, bitmap_off, size);
		goto out;
	}
	if (h->max_mapnr > half * 8) {
		st = pt_error_set(err, path, h->layout->bitmap_blocks, "bitmaps of %" PRIu64 " bytes "
				  "each hold fewer than max_mapnr 0x%" PRIx64 " pages", half, h->max_mapnr);
		goto out;
	}
	h->bitmap2_off = bitmap_off + half;
	h->desc_off = bitmap_off + 2 * half;
	h->ndumped = bitmap_count(map + h->bitmap2_off, h->max_mapnr);
	/* ndumped <= 2^40, so the product cannot overflow */
	if (!in_file(size, h->desc_off, h->ndumped * KD_DESC_SIZE)) {
		st = pt_error_set(err, path, h->desc_off, "%" PRIu64 " page descriptors run past the "
				  "end of the file (size 0x%" PRIx64 "): truncated", h->ndumped, size);
		goto out;
	}
	st = build_runs(path, map, h, err);
	if (st == PT_OK)
		st = check_descs(path, map, size, h, err);
out:
	if (st != PT_OK)
		kd_header_deinit(h);
	return st;
}

void kd_header_deinit(struct kd_header *h)
{
	free(h->runs);
	h->runs = NULL;
	h->nruns = 0;
}
