/* SPDX-License-Identifier: MIT */
/*
 * The finder's passes over the whole dump (the kallsyms tables, Linux's VMCOREINFO page, the
 * brute-force screen, the banners) look only where something can be: what they look for starts
 * with a nonzero byte (a table's present entry, a token index's nonzero second entry, "Linux
 * version ", "OSRELEASE="), so an all-zero page holds nothing for any of them. The first pass
 * finds the pages with a nonzero byte, reading the file in blocks (pt_dump_read) and skipping a
 * sparse file's holes unread (pt_dump_data_extent), and keeps them as a list of extents that
 * every later pass walks. The passes go in windows, each released behind them (pt_dump_release)
 * when the dump is larger than KEEP_BYTES, so that the memory they hold is bounded whatever the
 * dump's size.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kpgd_internal.h"

/** Bytes of one window (a multiple of the page size). */
static const uint64_t WINDOW = UINT64_C(16) << 20;
/** Bytes the first pass reads at a time from a dump file (a buffer that stays in the cache). */
static const uint64_t BLOCK = UINT64_C(1) << 20;
/** Dumps up to this size stay mapped between passes (releasing would only make each pass read
 *  them again); larger ones are released window by window. */
static const uint64_t KEEP_BYTES = UINT64_C(256) << 20;
/** Extents kept at most: past it, the nearest ones are joined (the gaps they close are read by
 *  the later passes; what the passes find does not change). */
static const size_t MAX_EXTENTS = (size_t)1 << 16;

/** A page of zeros to compare with. */
static const uint8_t ZERO_PAGE[4096];

/** Do the `n` bytes (at most a page) at `p` hold only zeros? (memcmp runs at memory speed, and
 *  as one call in sanitised builds too.) */
static bool all_zero(const uint8_t *p, size_t n)
{
	return memcmp(p, ZERO_PAGE, n) == 0;
}

/** Join the extents whose gap is at most `gap` (within one range). */
static void join_extents(struct kpgd_content *c, uint64_t gap)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct kpgd_extent *last = n ? &c->ext[n - 1] : NULL;
		if (last && last->range == c->ext[i].range && c->ext[i].pa - last->end <= gap)
			last->end = c->ext[i].end;
		else
			c->ext[n++] = c->ext[i];
	}
	c->n = n;
}

/** Add [pa, end) of range `range` to the nonzero extents. */
static void add_extent(struct kpgd_finder *f, size_t range, uint64_t pa, uint64_t end)
{
	struct kpgd_content *c = &f->content;
	struct kpgd_extent *last = c->n ? &c->ext[c->n - 1] : NULL;
	if (last && last->range == range && pa - last->end <= c->gap) {
		last->end = end;
		return;
	}
	while (c->n == MAX_EXTENTS) {
		c->gap = c->gap ? c->gap * 2 : 2 * PT_PAGE_4K;
		join_extents(c, c->gap);
		last = c->n ? &c->ext[c->n - 1] : NULL;
		if (last && last->range == range && pa - last->end <= c->gap) {
			last->end = end;
			return;
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct kpgd_extent *e = realloc(c->ext, cap * sizeof(*e));
		if (!e) {
			f->oom = true;
			return;
		}
		c->ext = e;
		c->cap = cap;
	}
	c->ext[c->n++] = (struct kpgd_extent){ pa, end, range };
}

/** The pages of [pa, end) (inside range `ri`) that hold a nonzero byte, as extents: read in
 *  blocks into `buf` (BLOCK bytes) from the dump file when there is one (NULL: looked at in
 *  place, as a dump kept mapped is). */
static void content_window(struct kpgd_finder *f, size_t ri, uint64_t pa, uint64_t end, uint8_t *buf)
{
	const uint8_t *p = NULL;
	if (!buf)
		p = kpgd_bytes(f, pa, (size_t)(end - pa));
	else if (end - pa <= BLOCK && pt_dump_read(f->in->dump, pa, buf, (size_t)(end - pa)))
		p = buf;
	if (!p) {
		add_extent(f, ri, pa, end); /* not readable as one piece: the passes judge it */
		return;
	}
	for (uint64_t a = pa; a < end;) {
		uint64_t b = (a & ~(PT_PAGE_4K - 1)) + PT_PAGE_4K;
		if (b > end)
			b = end;
		if (!all_zero(p + (a - pa), (size_t)(b - a)))
			add_extent(f, ri, a, b);
		a = b;
	}
}

void kpgd_release(const struct kpgd_finder *f, uint64_t pa, uint64_t len)
{
	if (f->in->dump && f->content.total > KEEP_BYTES)
		pt_dump_release(f->in->dump, pa, len);
}

/** The first pass: the nonzero extents of the whole dump, with progress. */
static void content_build(struct kpgd_finder *f)
{
	const struct pt_kpgd_inputs *in = f->in;
	struct kpgd_content *c = &f->content;
	c->built = true;
	for (size_t i = 0; i < in->nranges; i++)
		c->total += in->ranges[i].size;
	/* a dump too large to keep mapped is read in blocks, never mapped by this pass */
	const bool read = in->dump && c->total > KEEP_BYTES;
	uint8_t *buf = read ? malloc(BLOCK) : NULL;
	if (read && !buf) {
		f->oom = true;
		return;
	}
	uint64_t done = 0;
	for (size_t ri = 0; ri < in->nranges && !f->oom; ri++) {
		const struct pt_dump_range *r = &in->ranges[ri];
		const uint64_t end = r->pa + r->size;
		uint64_t ds = r->pa, de = end;
		for (uint64_t cur = r->pa; cur < end && !f->oom; cur = de) {
			if (in->dump && !pt_dump_data_extent(in->dump, cur, end - cur, &ds, &de))
				break; /* holes to the end of the range */
			if (!in->dump) {
				ds = cur;
				de = end;
			}
			for (uint64_t w = ds; w < de;) {
				uint64_t we = (w & ~(BLOCK - 1)) + BLOCK;
				if (we > de)
					we = de;
				content_window(f, ri, w, we, buf);
				if (in->progress && ((we - r->pa) & (WINDOW - 1)) == 0)
					in->progress(in->progress_arg, done + (we - r->pa), c->total);
				w = we;
			}
		}
		done += r->size;
		if (in->progress)
			in->progress(in->progress_arg, done, c->total);
	}
	free(buf);
	uint64_t nonzero = 0;
	for (size_t i = 0; i < c->n; i++)
		nonzero += c->ext[i].end - c->ext[i].pa;
	kpgd_log(f, "content: 0x%" PRIx64 " of the dump's 0x%" PRIx64 " bytes in pages with a nonzero byte (%zu "
		 "extents): the scans look there only", nonzero, c->total, c->n);
}

const struct kpgd_content *kpgd_content(struct kpgd_finder *f)
{
	if (!f->content.built)
		content_build(f);
	return &f->content;
}

void kpgd_content_deinit(struct kpgd_content *c)
{
	free(c->ext);
	memset(c, 0, sizeof(*c));
}

void kpgd_scan_nonzero(struct kpgd_finder *f, kpgd_scan_fn fn, void *arg)
{
	const struct kpgd_content *c = kpgd_content(f);
	for (size_t i = 0; i < c->n; i++) {
		const struct kpgd_extent *e = &c->ext[i];
		const struct pt_dump_range *r = &f->in->ranges[e->range];
		for (uint64_t w = e->pa; w < e->end;) {
			uint64_t we = (w & ~(WINDOW - 1)) + WINDOW;
			if (we > e->end)
				we = e->end;
			const uint8_t *p = kpgd_bytes(f, w, (size_t)(we - w));
			const bool more = !p || fn(f, arg, p, w, we - w, r);
			kpgd_release(f, w, we - w);
			if (!more)
				return;
			w = we;
		}
	}
}
