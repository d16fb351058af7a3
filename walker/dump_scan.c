/* SPDX-License-Identifier: MIT */
/*
 * walker/dump_scan.c: what a scan over a whole dump needs from the file behind it (dump.h):
 * where a sparse file holds data at all (lseek SEEK_DATA / SEEK_HOLE, so that its holes are
 * skipped unread), reading in blocks without mapping (pread: a block read into a buffer that
 * stays in the cache is faster than touching the mapping page by page), and giving back the
 * pages a scan has moved past (madvise MADV_DONTNEED on the read-only private mapping: they are
 * read from the file again if touched), so that the memory a scan holds stays bounded whatever
 * the dump's size.
 */
#include "dump_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/** The range holding [pa, pa + len), or NULL when no one range holds all of it. */
static const struct pt_dump_range *range_of(const struct pt_dump *d, uint64_t pa, uint64_t len)
{
	const size_t i = dump_range_find(d->ranges, d->nranges, pa);

	if (i == d->nranges || len > d->ranges[i].size - (pa - d->ranges[i].pa))
		return NULL;
	return &d->ranges[i];
}

bool pt_dump_data_extent(const struct pt_dump *dump, uint64_t pa, uint64_t len, uint64_t *start_ret,
			 uint64_t *end_ret)
{
	const struct pt_dump_range *r = range_of(dump, pa, len);

	*start_ret = pa;
	*end_ret = pa + len;
	if (len == 0)
		return false;
	if (!r || !dump->has_fd || r->file_off == PT_DUMP_NO_FILE_OFF)
		return true;
#if defined(SEEK_DATA) && defined(SEEK_HOLE)
	const uint64_t off = r->file_off + (pa - r->pa), end = off + len;
	const off_t data = lseek(dump->fd, (off_t)off, SEEK_DATA);
	if (data < 0)
		/* ENXIO: only holes from off to the end of the file; anything else (a file system
		 * without the call): read it all */
		return errno != ENXIO;
	if ((uint64_t)data >= end)
		return false;
	off_t hole = lseek(dump->fd, data, SEEK_HOLE);
	if (hole < 0 || (uint64_t)hole > end)
		hole = (off_t)end;
	*start_ret = pa + ((uint64_t)data - off);
	*end_ret = pa + ((uint64_t)hole - off);
#endif
	return true;
}

bool pt_dump_read(const struct pt_dump *dump, uint64_t pa, void *buf, size_t len)
{
	const struct pt_dump_range *r = range_of(dump, pa, len);

	if (!r)
		return false;
	if (!dump->has_fd || r->file_off == PT_DUMP_NO_FILE_OFF) {
		const void *p = dump->mem.ptr(&dump->mem, pa, len);
		if (p)
			memcpy(buf, p, len);
		return p != NULL;
	}
	uint8_t *out = buf;
	uint64_t off = r->file_off + (pa - r->pa);
	while (len) {
		const ssize_t n = pread(dump->fd, out, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		out += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return true;
}

void pt_dump_release(const struct pt_dump *dump, uint64_t pa, uint64_t len)
{
	const struct pt_dump_range *r = range_of(dump, pa, len);

	if (!r || !dump->map || dump->has_reader || r->file_off == PT_DUMP_NO_FILE_OFF)
		return;
	const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	const uintptr_t base = (uintptr_t)dump->map;
	/* only the pages wholly inside [pa, pa + len): a neighbour may still be in use */
	const uintptr_t lo = (base + r->file_off + (pa - r->pa) + page - 1) & ~(uintptr_t)(page - 1);
	const uintptr_t hi = (base + r->file_off + (pa - r->pa) + len) & ~(uintptr_t)(page - 1);
	if (lo < hi)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}
