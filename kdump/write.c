/* SPDX-License-Identifier: MIT */
/*
 * kdump/write.c: write any dump as a standard kdump-compressed file (format.h), from the
 * format's description: makedumpfile's and QEMU's writers were not looked at for this.
 *
 * What is written, in file order:
 *   block 0           disk_dump_header, version 6, in the layout of the source's machine
 *                     (x86_64, or i386 for EM_386): utsname "Linux" / release from VMCOREINFO's
 *                     OSRELEASE / machine "x86_64" or "i686", status = the compression,
 *                     block_size 4096, nr_cpus 1
 *   block 1..         kdump_sub_header (phys_base from VMCOREINFO's NUMBER(phys_base), dump
 *                     level 0: nothing was filtered), then the VMCOREINFO text, then the
 *                     source's ELF notes as they are (QEMU's or ptlab's CPU note included)
 *   bitmaps           both mark exactly the pages the source holds whole; written run by run,
 *                     the zero stretches left as holes of the file
 *   descriptors       one per page, in pfn order
 *   page data         each page compressed alone (codec.c), or stored when that is not
 *                     smaller; all-zero pages share one stored copy
 * A page the source holds only in part cannot be written (the format dumps whole pages): it is
 * left out and counted. Everything goes through pwrite at computed offsets, with one buffer
 * for the descriptors and one for the page data, so memory stays small whatever the dump size.
 */
#include "ptlab/kdump.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "format.h"
#include "ptlab/le.h"

/** Pages per descriptor buffer flush, and per progress report. */
enum { DESC_BATCH = 4096, DATA_BUF = 1 << 20, BITMAP_BUF = 1 << 16 };

/** Frame numbers of a 52-bit physical address space end here. */
static const uint64_t PFN_LIMIT = UINT64_C(1) << (52 - 12);

/** A run of whole pages the source holds. */
struct wrun {
	uint64_t pfn, npages;
};

/** The writer's state. */
struct writer {
	const char *path;
	int fd;
	const struct pt_dump *src;
	const struct pt_mem *mem;
	const struct kd_layout *L;
	struct kd_codec codec;
	struct wrun *runs;
	size_t nruns;
	uint64_t npages, max_mapnr;
	uint64_t sub_blocks, bitmap_blocks, bitmap_off, desc_off, data_off;
	uint64_t vmci_off, note_off;
	const char *vmci;
	size_t vmci_len;
	const void *notes;
	size_t notes_len;
	uint8_t *descbuf;         /**< DESC_BATCH descriptors */
	uint64_t desc_done;       /**< descriptors already in the file */
	size_t ndesc;             /**< descriptors in descbuf */
	uint8_t *databuf;         /**< DATA_BUF bytes of page data */
	size_t data_fill;
	uint64_t data_pos;        /**< file offset of databuf[0] */
	bool zero_written;
	uint64_t zero_off;
	struct pt_kdump_write_stats stats;
};

const char *pt_kdump_compression_name(enum pt_kdump_compression compression)
{
	switch (compression) {
	case PT_KDUMP_ZLIB:
		return "zlib";
	case PT_KDUMP_LZO:
		return "lzo";
	case PT_KDUMP_SNAPPY:
		return "snappy";
	case PT_KDUMP_ZSTD:
		return "zstd";
	}
	return "unknown";
}

bool pt_kdump_compression_parse(const char *name, enum pt_kdump_compression *compression_ret)
{
	static const enum pt_kdump_compression all[] = { PT_KDUMP_ZLIB, PT_KDUMP_LZO,
							 PT_KDUMP_SNAPPY, PT_KDUMP_ZSTD };

	for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, pt_kdump_compression_name(all[i])) == 0) {
			*compression_ret = all[i];
			return true;
		}
	}
	return false;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/** pwrite all of it. */
static enum pt_status put(struct writer *w, const void *p, size_t len, uint64_t off,
			  struct pt_error *err)
{
	const uint8_t *b = p;

	while (len > 0) {
		ssize_t n = pwrite(w->fd, b, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pt_error_set(err, w->path, off, "cannot write: %s",
					    n < 0 ? strerror(errno) : "no progress");
		b += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return PT_OK;
}

/* ---- Which pages ----------------------------------------------------------------------- */

/** The runs of whole pages in the source's ranges; pages held only in part are counted. */
static enum pt_status plan_pages(struct writer *w, struct pt_error *err)
{
	size_t n = 0, i;
	const struct pt_dump_range *r = pt_dump_ranges(w->src, &n);
	uint64_t last_partial = UINT64_MAX;

	w->runs = calloc(n ? n : 1, sizeof(*w->runs));
	if (!w->runs)
		return pt_error_set(err, w->path, PT_ERROR_NO_OFFSET, "out of memory");
	for (i = 0; i < n; i++) {
		const uint64_t last_byte = r[i].pa + (r[i].size - 1);
		const uint64_t lo = r[i].pa / KD_PAGE_SIZE, hi = last_byte / KD_PAGE_SIZE;
		const uint64_t first = lo + (r[i].pa % KD_PAGE_SIZE != 0);             /* whole pages: */
		const uint64_t end = hi + (last_byte % KD_PAGE_SIZE == KD_PAGE_SIZE - 1); /* [first, end) */

		if (lo < first && lo != last_partial) {
			w->stats.partial_left_out++;
			last_partial = lo;
		}
		if (end <= hi && hi != last_partial) {
			w->stats.partial_left_out++;
			last_partial = hi;
		}
		if (first >= end)
			continue;
		if (end > PFN_LIMIT)
			return pt_error_set(err, pt_dump_path(w->src), PT_ERROR_NO_OFFSET,
					    "range at PA 0x%" PRIx64 " reaches past the 52-bit physical "
					    "address space: not writable as kdump", r[i].pa);
		if (w->nruns > 0 && w->runs[w->nruns - 1].pfn + w->runs[w->nruns - 1].npages == first)
			w->runs[w->nruns - 1].npages += end - first;
		else
			w->runs[w->nruns++] = (struct wrun){ .pfn = first, .npages = end - first };
		w->npages += end - first;
		w->max_mapnr = end;
	}
	return PT_OK;
}

/** Where each part goes (see the file comment). */
static void plan_layout(struct writer *w)
{
	uint64_t sub_end, half_blocks;

	w->vmci = pt_dump_vmcoreinfo(w->src, &w->vmci_len);
	w->notes = pt_dump_notes(w->src, &w->notes_len);
	w->vmci_off = KD_PAGE_SIZE + align_up(w->L->sub_size, 8);
	w->note_off = align_up(w->vmci_off + w->vmci_len, 8);
	sub_end = w->note_off + w->notes_len;
	w->sub_blocks = align_up(sub_end - KD_PAGE_SIZE, KD_PAGE_SIZE) / KD_PAGE_SIZE;
	half_blocks = align_up((w->max_mapnr + 7) / 8, KD_PAGE_SIZE) / KD_PAGE_SIZE;
	if (half_blocks == 0)
		half_blocks = 1;
	w->bitmap_blocks = 2 * half_blocks;
	w->bitmap_off = (1 + w->sub_blocks) * KD_PAGE_SIZE;
	w->desc_off = w->bitmap_off + w->bitmap_blocks * KD_PAGE_SIZE;
	w->data_off = w->desc_off + w->npages * KD_DESC_SIZE;
	w->data_pos = w->data_off;
}

/* ---- Headers and bitmaps --------------------------------------------------------------- */

/** A number from VMCOREINFO (decimal, maybe negative, or 0x hex), or `dflt`. */
static uint64_t vmci_number(const struct pt_dump *src, const char *key, uint64_t dflt)
{
	char buf[64], *end = NULL;
	long long v;

	if (!pt_dump_vmcoreinfo_get(src, key, buf, sizeof(buf)))
		return dflt;
	errno = 0;
	v = strtoll(buf, &end, 0);
	return errno == 0 && end != buf && *end == 0 ? (uint64_t)v : dflt;
}

/** disk_dump_header and kdump_sub_header. */
static enum pt_status write_headers(struct writer *w, enum pt_kdump_compression c,
				    struct pt_error *err)
{
	const struct kd_layout *L = w->L;
	uint8_t hdr[KD_PAGE_SIZE], sub[128];
	char release[KD_UTS_FIELD];
	enum pt_status st;

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, KD_SIGNATURE, sizeof(KD_SIGNATURE));
	pt_le_put(hdr + 8, KD_HEADER_VERSION, 4);
	memcpy(hdr + KD_UTS_OFF, "Linux", 5);
	memset(release, 0, sizeof(release));
	if (pt_dump_vmcoreinfo_get(w->src, "OSRELEASE", release, sizeof(release)))
		memcpy(hdr + KD_UTS_RELEASE, release, strlen(release));
	memcpy(hdr + KD_UTS_MACHINE, L->is64 ? "x86_64" : "i686", L->is64 ? 6 : 4);
	pt_le_put(hdr + L->status, (uint64_t)c, 4);
	pt_le_put(hdr + L->block_size, KD_PAGE_SIZE, 4);
	pt_le_put(hdr + L->sub_hdr_size, w->sub_blocks, 4);
	pt_le_put(hdr + L->bitmap_blocks, w->bitmap_blocks, 4);
	pt_le_put(hdr + L->max_mapnr, w->max_mapnr > UINT32_MAX ? UINT32_MAX : w->max_mapnr, 4);
	pt_le_put(hdr + L->nr_cpus, 1, 4);
	st = put(w, hdr, L->header_size, 0, err);
	if (st != PT_OK)
		return st;

	memset(sub, 0, sizeof(sub));
	pt_le_put(sub + L->phys_base, vmci_number(w->src, "NUMBER(phys_base)", 0), L->word);
	pt_le_put(sub + L->end_pfn, L->is64 || w->max_mapnr <= UINT32_MAX ? w->max_mapnr : UINT32_MAX,
		  L->word);
	if (w->vmci_len > 0) {
		pt_le_put(sub + L->offset_vmcoreinfo, w->vmci_off, 8);
		pt_le_put(sub + L->size_vmcoreinfo, w->vmci_len, L->word);
	}
	if (w->notes_len > 0) {
		pt_le_put(sub + L->offset_note, w->note_off, 8);
		pt_le_put(sub + L->size_note, w->notes_len, L->word);
	}
	pt_le_put(sub + L->end_pfn_64, w->max_mapnr, 8);
	pt_le_put(sub + L->max_mapnr_64, w->max_mapnr, 8);
	st = put(w, sub, L->sub_size, KD_PAGE_SIZE, err);
	if (st == PT_OK && w->vmci_len > 0)
		st = put(w, w->vmci, w->vmci_len, w->vmci_off, err);
	if (st == PT_OK && w->notes_len > 0)
		st = put(w, w->notes, w->notes_len, w->note_off, err);
	return st;
}

/** A window of bitmap bytes being filled; flushed to both bitmaps. */
struct bitwin {
	uint64_t start;            /**< bitmap byte index of buf[0] */
	size_t len;
	uint8_t buf[BITMAP_BUF];
};

static enum pt_status bitwin_flush(struct writer *w, struct bitwin *b, struct pt_error *err)
{
	const uint64_t half = w->bitmap_blocks / 2 * KD_PAGE_SIZE;
	enum pt_status st = PT_OK;

	if (b->len > 0) {
		st = put(w, b->buf, b->len, w->bitmap_off + b->start, err);
		if (st == PT_OK)
			st = put(w, b->buf, b->len, w->bitmap_off + half + b->start, err);
	}
	b->len = 0;
	return st;
}

/** Both bitmaps: one bit per page of every run; bytes no run touches stay holes (zero). */
static enum pt_status write_bitmaps(struct writer *w, struct pt_error *err)
{
	struct bitwin *b = calloc(1, sizeof(*b));
	enum pt_status st = PT_OK;

	if (!b)
		return pt_error_set(err, w->path, PT_ERROR_NO_OFFSET, "out of memory");
	for (size_t i = 0; i < w->nruns && st == PT_OK; i++) {
		const struct wrun *run = &w->runs[i];

		for (uint64_t pfn = run->pfn; pfn < run->pfn + run->npages && st == PT_OK; pfn++) {
			const uint64_t byte = pfn / 8; /* pfns ascend: byte >= b->start */

			if (b->len > 0 && (byte > b->start + b->len ||
					   (byte == b->start + b->len && b->len == BITMAP_BUF)))
				st = bitwin_flush(w, b, err);
			if (b->len == 0)
				b->start = byte;
			if (byte == b->start + b->len)
				b->buf[b->len++] = 0;
			b->buf[byte - b->start] |= (uint8_t)(1u << (pfn % 8));
		}
	}
	if (st == PT_OK)
		st = bitwin_flush(w, b, err);
	free(b);
	return st;
}

/* ---- Pages ------------------------------------------------------------------------------ */

static enum pt_status flush_data(struct writer *w, struct pt_error *err)
{
	enum pt_status st = put(w, w->databuf, w->data_fill, w->data_pos, err);

	w->data_pos += w->data_fill;
	w->data_fill = 0;
	return st;
}

static enum pt_status flush_descs(struct writer *w, struct pt_error *err)
{
	enum pt_status st = put(w, w->descbuf, w->ndesc * KD_DESC_SIZE,
				w->desc_off + w->desc_done * KD_DESC_SIZE, err);

	w->desc_done += w->ndesc;
	w->ndesc = 0;
	return st;
}

/** Append `len` bytes of page data; returns its file offset in *off_ret. */
static enum pt_status add_data(struct writer *w, const void *p, size_t len, uint64_t *off_ret,
			       struct pt_error *err)
{
	if (w->data_fill + len > DATA_BUF) {
		enum pt_status st = flush_data(w, err);

		if (st != PT_OK)
			return st;
	}
	*off_ret = w->data_pos + w->data_fill;
	memcpy(w->databuf + w->data_fill, p, len);
	w->data_fill += len;
	return PT_OK;
}

static enum pt_status add_desc(struct writer *w, uint64_t off, uint32_t size, uint32_t flags,
			       struct pt_error *err)
{
	uint8_t *d = w->descbuf + w->ndesc * KD_DESC_SIZE;

	memset(d, 0, KD_DESC_SIZE);
	pt_le_put(d + KD_DESC_OFFSET, off, 8);
	pt_le_put(d + KD_DESC_SIZE_FIELD, size, 4);
	pt_le_put(d + KD_DESC_FLAGS, flags, 4);
	if (++w->ndesc == DESC_BATCH)
		return flush_descs(w, err);
	return PT_OK;
}

static bool all_zero(const uint8_t *p)
{
	for (size_t i = 0; i < KD_PAGE_SIZE; i += 8)
		if (pt_le64(p + i) != 0)
			return false;
	return true;
}

/** The source page at `pa` could not be read: its reader's message, else a plain one. */
static enum pt_status source_unreadable(struct writer *w, uint64_t pa, struct pt_error *err)
{
	struct pt_error first;

	if (pt_dump_read_errors(w->src, &first) > 0) {
		if (err)
			*err = first;
		return PT_EINVAL;
	}
	return pt_error_set(err, pt_dump_path(w->src), PT_ERROR_NO_OFFSET,
			    "page at PA 0x%" PRIx64 " is in the dump's ranges but not readable", pa);
}

/** One page: shared zero copy, compressed, or stored. */
static enum pt_status write_page(struct writer *w, uint64_t pfn, uint8_t *out, struct pt_error *err)
{
	const uint8_t *p = w->mem->ptr(w->mem, pfn * KD_PAGE_SIZE, KD_PAGE_SIZE);
	enum pt_status st;
	uint64_t off;
	size_t n;

	if (!p)
		return source_unreadable(w, pfn * KD_PAGE_SIZE, err);
	if (all_zero(p)) {
		if (!w->zero_written) {
			st = add_data(w, p, KD_PAGE_SIZE, &w->zero_off, err);
			if (st != PT_OK)
				return st;
			w->zero_written = true;
		}
		w->stats.zero++;
		return add_desc(w, w->zero_off, KD_PAGE_SIZE, 0, err);
	}
	n = kd_codec_compress(&w->codec, p, KD_PAGE_SIZE, out);
	if (n == 0)
		return pt_error_set(err, w->path, PT_ERROR_NO_OFFSET, "%s failed on the page at PA "
				    "0x%" PRIx64, pt_kdump_compression_name(w->codec.compression),
				    pfn * KD_PAGE_SIZE);
	if (n < KD_PAGE_SIZE) {
		w->stats.compressed++;
		st = add_data(w, out, n, &off, err);
		return st == PT_OK ? add_desc(w, off, (uint32_t)n, (uint32_t)w->codec.compression, err) : st;
	}
	w->stats.stored++;
	st = add_data(w, p, KD_PAGE_SIZE, &off, err);
	return st == PT_OK ? add_desc(w, off, KD_PAGE_SIZE, 0, err) : st;
}

static enum pt_status write_pages(struct writer *w, const struct pt_kdump_write_opts *opts,
				  struct pt_error *err)
{
	uint8_t *out = malloc(KD_CODEC_OUT_MAX);
	enum pt_status st = PT_OK;
	uint64_t done = 0;

	if (!out)
		return pt_error_set(err, w->path, PT_ERROR_NO_OFFSET, "out of memory");
	for (size_t i = 0; i < w->nruns && st == PT_OK; i++) {
		for (uint64_t k = 0; k < w->runs[i].npages && st == PT_OK; k++) {
			st = write_page(w, w->runs[i].pfn + k, out, err);
			if (++done % DESC_BATCH == 0 && opts->progress)
				opts->progress(opts->progress_arg, done, w->npages);
		}
	}
	if (st == PT_OK)
		st = flush_data(w, err);
	if (st == PT_OK)
		st = flush_descs(w, err);
	if (st == PT_OK && opts->progress)
		opts->progress(opts->progress_arg, done, w->npages);
	free(out);
	return st;
}

enum pt_status pt_kdump_write(const char *path, const struct pt_dump *src,
			      const struct pt_kdump_write_opts *opts,
			      struct pt_kdump_write_stats *stats_ret, struct pt_error *err)
{
	struct writer w;
	enum pt_status st;

	memset(&w, 0, sizeof(w));
	w.path = path;
	w.fd = -1;
	w.src = src;
	if (!path || !src || !opts)
		return pt_error_set(err, path ? path : "(null)", PT_ERROR_NO_OFFSET, "no source or options");
	w.mem = pt_dump_mem(src);
	w.L = pt_dump_elf_machine(src) == 3 ? &KD_LAYOUT32 : &KD_LAYOUT64;
	if (kd_codec_init(&w.codec, opts->compression) != 0)
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET, "cannot start the %s compressor",
				    pt_kdump_compression_name(opts->compression));
	w.descbuf = malloc(DESC_BATCH * KD_DESC_SIZE);
	w.databuf = malloc(DATA_BUF);
	st = w.descbuf && w.databuf ? plan_pages(&w, err) :
		pt_error_set(err, path, PT_ERROR_NO_OFFSET, "out of memory");
	if (st != PT_OK)
		goto out;
	plan_layout(&w);
	w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w.fd < 0) {
		st = pt_error_set(err, path, PT_ERROR_NO_OFFSET, "cannot create: %s", strerror(errno));
		goto out;
	}
	if (ftruncate(w.fd, (off_t)w.data_off) != 0) {
		st = pt_error_set(err, path, PT_ERROR_NO_OFFSET, "cannot size: %s", strerror(errno));
		goto out;
	}
	st = write_headers(&w, opts->compression, err);
	if (st == PT_OK)
		st = write_bitmaps(&w, err);
	if (st == PT_OK)
		st = write_pages(&w, opts, err);
	w.stats.pages = w.npages;
	w.stats.file_bytes = w.data_pos;
out:
	if (w.fd >= 0 && close(w.fd) != 0 && st == PT_OK)
		st = pt_error_set(err, path, PT_ERROR_NO_OFFSET, "cannot close: %s", strerror(errno));
	if (st != PT_OK && w.fd >= 0)
		unlink(path);
	if (st == PT_OK && stats_ret)
		*stats_ret = w.stats;
	kd_codec_deinit(&w.codec);
	free(w.runs);
	free(w.descbuf);
	free(w.databuf);
	return st;
}
