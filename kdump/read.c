/* SPDX-License-Identifier: MIT */
/*
 * kdump/read.c: read a kdump-compressed file through libkdumpfile and hand it to libptwalk as a
 * struct pt_dump (pt_dump_open_reader).
 *
 * header.c checks the file first, so libkdumpfile only ever sees headers whose every offset is
 * inside the file; it then decompresses pages (zlib, lzo, snappy, zstd) on request. The pages
 * are read by machine-physical address (KDUMP_MACHPHYSADDR: the frame numbers the file stores,
 * which for a guest or a bare-metal kernel are its physical addresses), so no address
 * translation of libkdumpfile's is involved. Its arch.name is set when the file leaves it unset
 * (QEMU's files do; libkdumpfile wants it for the rest of its attributes).
 *
 * struct pt_mem's contract keeps returned bytes valid while the reader lives, and the walker
 * reads an entry at a time: each page is decompressed once, into its slot of a cache mapped
 * (MAP_NORESERVE) with one 4 KiB slot per dumped page, the n-th dumped page in slot n. Runs of
 * consecutive dumped pages are therefore contiguous in the cache, so ptr() serves any span
 * inside one run. Two bitmaps record which slots are decoded and which failed; a failed page
 * stays unreadable (NULL) and its first error is kept for pt_dump_read_errors.
 */
#include "ptlab/kdump.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "header.h"

/** libkdumpfile's cache of decompressed pages (its default is 1024): ours holds every page. */
static const kdump_num_t LIBKDUMPFILE_CACHE_PAGES = 64;
/** A transparent huge page: the cache is committed in these steps where the kernel offers them. */
static const size_t HUGE_PAGE = (size_t)2 << 20;

/** The reader's state (pt_mem.opaque). */
struct kd_reader {
	char *path;
	int fd;
	const uint8_t *map;     /**< the whole file, read-only (header checks, messages) */
	size_t map_size;
	struct kd_header h;
	kdump_ctx_t *ctx;
	uint8_t *cache;         /**< h.ndumped slots of KD_PAGE_SIZE bytes, 2 MiB aligned */
	void *cache_map;        /**< the mapping that holds it (cache_size bytes) */
	size_t cache_size;
	uint64_t *decoded;      /**< one bit per slot: the slot holds its page */
	uint64_t *bad;          /**< one bit per slot: reading the page failed */
	size_t nerrors;
	struct pt_error first;  /**< the first failed page's message */
	uint64_t zero_off;      /**< file offset of a stored all-zero page (0: none seen yet) */
};

static bool bit_get(const uint64_t *b, uint64_t i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

static void bit_set(uint64_t *b, uint64_t i)
{
	b[i / 64] |= UINT64_C(1) << (i % 64);
}

/** The run holding frame `pfn`, or NULL (binary search over the sorted runs). */
static const struct kd_run *run_find(const struct kd_header *h, uint64_t pfn)
{
	size_t lo = 0, hi = h->nruns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->runs[mid].pfn <= pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || pfn - h->runs[lo - 1].pfn >= h->runs[lo - 1].npages)
		return NULL;
	return &h->runs[lo - 1];
}

/** Record that the page in `slot` (frame `pfn`) could not be read, with libkdumpfile's reason. */
static void page_failed(struct kd_reader *r, uint64_t slot, uint64_t pfn, const char *why)
{
	struct kd_desc d;

	bit_set(r->bad, slot);
	if (r->nerrors++ > 0)
		return;
	kd_desc_read(&r->h, r->map, slot, &d);
	pt_error_set(&r->first, r->path, d.offset, "page at PA 0x%" PRIx64 " (%s, %" PRIu32 " bytes; "
		     "descriptor at 0x%" PRIx64 ") is unreadable: %s", pfn * KD_PAGE_SIZE,
		     kd_flags_name(d.flags), d.size, d.desc_off, why);
}

/**
 * Is the page of descriptor `d` a stored page of zeros? Writers store every zero page once and
 * point all their descriptors at that copy (QEMU, makedumpfile, ours): its offset is remembered.
 */
static bool stored_zero(struct kd_reader *r, const struct kd_desc *d)
{
	const uint8_t *p = r->map + d->offset;

	if (d->flags != 0 || d->size != KD_PAGE_SIZE)
		return false;
	if (r->zero_off != 0 && d->offset == r->zero_off)
		return true;
	for (size_t i = 0; i < KD_PAGE_SIZE; i++)
		if (p[i] != 0)
			return false;
	r->zero_off = d->offset;
	return true;
}

/**
 * Decompress the page of `slot` (frame `pfn`) into its cache slot. A stored zero page is not
 * copied: the slot of the anonymous mapping reads as zeros already and stays uncommitted.
 */
static bool page_decode(struct kd_reader *r, uint64_t slot, uint64_t pfn)
{
	uint8_t *dst = r->cache + slot * KD_PAGE_SIZE;
	size_t got = KD_PAGE_SIZE;
	struct kd_desc d;
	kdump_status ks;

	if (bit_get(r->bad, slot))
		return false;
	kd_desc_read(&r->h, r->map, slot, &d);
	if (stored_zero(r, &d)) {
		bit_set(r->decoded, slot);
		return true;
	}
	ks = kdump_read(r->ctx, KDUMP_MACHPHYSADDR, pfn * KD_PAGE_SIZE, dst, &got);
	if (ks != KDUMP_OK || got != KD_PAGE_SIZE) {
		page_failed(r, slot, pfn, ks != KDUMP_OK ? kdump_get_err(r->ctx) : "short read");
		return false;
	}
	bit_set(r->decoded, slot);
	return true;
}

/** pt_mem callback: [pa, pa + len) when one run of dumped pages holds it and every page reads. */
static const void *kd_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	struct kd_reader *r = mem->opaque;
	const struct kd_run *run;
	uint64_t first, last, pfn;

	if (len == 0)
		len = 1;
	if ((uint64_t)len - 1 > UINT64_MAX - pa)
		return NULL;
	first = pa / KD_PAGE_SIZE;
	last = (pa + (len - 1)) / KD_PAGE_SIZE;
	run = run_find(&r->h, first);
	if (!run || last - run->pfn >= run->npages)
		return NULL;
	for (pfn = first; pfn <= last; pfn++) {
		uint64_t slot = run->slot + (pfn - run->pfn);

		if (!bit_get(r->decoded, slot) && !page_decode(r, slot, pfn))
			return NULL;
	}
	return r->cache + run->slot * KD_PAGE_SIZE + (pa - run->pfn * KD_PAGE_SIZE);
}

static size_t kd_read_errors(void *opaque, struct pt_error *first_ret)
{
	struct kd_reader *r = opaque;

	if (first_ret && r->nerrors > 0)
		*first_ret = r->first;
	return r->nerrors;
}

static void kd_close(void *opaque)
{
	struct kd_reader *r = opaque;

	if (!r)
		return;
	if (r->ctx)
		kdump_free(r->ctx);
	if (r->cache_map)
		munmap(r->cache_map, r->cache_size);
	if (r->map)
		munmap((void *)(uintptr_t)r->map, r->map_size);
	if (r->fd >= 0)
		close(r->fd);
	kd_header_deinit(&r->h);
	free(r->decoded);
	free(r->bad);
	free(r->path);
	free(r);
}

/** Open and map the file (read-only). */
static enum pt_status map_file(struct kd_reader *r, struct pt_error *err)
{
	struct stat sb;
	void *map;

	r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return pt_error_set(err, r->path, PT_ERROR_NO_OFFSET, "cannot open: %s", strerror(errno));
	if (fstat(r->fd, &sb) != 0)
		return pt_error_set(err, r->path, PT_ERROR_NO_OFFSET, "cannot stat: %s", strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return pt_error_set(err, r->path, PT_ERROR_NO_OFFSET, "not a regular file");
	if (sb.st_size == 0 || (uintmax_t)sb.st_size > SIZE_MAX)
		return pt_error_set(err, r->path, PT_ERROR_NO_OFFSET, "empty or too large to map");
	r->map_size = (size_t)sb.st_size;
	map = mmap(NULL, r->map_size, PROT_READ, MAP_PRIVATE, r->fd, 0);
	if (map == MAP_FAILED)
		return pt_error_set(err, r->path, PT_ERROR_NO_OFFSET, "cannot map: %s", strerror(errno));
	r->map = map;
	return PT_OK;
}

/**
 * Open the file with libkdumpfile, name the architecture when the file does not (QEMU's files
 * leave arch.name unset), and check that libkdumpfile sees as many pages as the header says.
 */
static enum pt_status open_libkdumpfile(struct kd_reader *r, struct pt_error *err)
{
	const char *arch = NULL;
	kdump_num_t max_pfn = 0, ptr_size = 0, page_size = 0;

	r->ctx = kdump_new();
	if (!r->ctx)
		return pt_error_set(err, r->path, PT_ERROR_NO_OFFSET, "libkdumpfile: out of memory");
	/* before opening: libkdumpfile sizes (and clears) its page cache at open */
	kdump_set_number_attr(r->ctx, "cache.size", LIBKDUMPFILE_CACHE_PAGES);
	if (kdump_open_fd(r->ctx, r->fd) != KDUMP_OK)
		return pt_error_set(err, r->path, 0, "libkdumpfile cannot read it: %s",
				    kdump_get_err(r->ctx));
	if (kdump_get_number_attr(r->ctx, KDUMP_ATTR_PTR_SIZE, &ptr_size) != KDUMP_OK ||
	    ptr_size != r->h.layout->word)
		return pt_error_set(err, r->path, r->h.layout->block_size, "libkdumpfile reads the "
				    "header in the %u-bit layout, the checks here in the %u-bit one",
				    (unsigned)ptr_size * 8, (unsigned)r->h.layout->word * 8);
	if (kdump_get_string_attr(r->ctx, KDUMP_ATTR_ARCH_NAME, &arch) != KDUMP_OK &&
	    kdump_set_string_attr(r->ctx, KDUMP_ATTR_ARCH_NAME,
				  r->h.layout->is64 ? KDUMP_ARCH_X86_64 : KDUMP_ARCH_IA32) != KDUMP_OK)
		return pt_error_set(err, r->path, r->h.note_size ? r->h.note_off : 0,
				    "libkdumpfile: setting arch.name: %s", kdump_get_err(r->ctx));
	/* libkdumpfile believes PAGESIZE= in the dump's VMCOREINFO over the block size, and then
	 * sizes its page buffers by it (a fuzzed PAGESIZE=4 overflowed them): refuse any other */
	if (kdump_get_number_attr(r->ctx, KDUMP_ATTR_PAGE_SIZE, &page_size) != KDUMP_OK ||
	    page_size != KD_PAGE_SIZE)
		return pt_error_set(err, r->path, r->h.note_size ? r->h.note_off : r->h.vmcoreinfo_off,
				    "libkdumpfile takes a page size of %" PRIu64 " from the dump (its "
				    "VMCOREINFO's PAGESIZE), not the block size %d", (uint64_t)page_size,
				    KD_PAGE_SIZE);
	if (kdump_get_number_attr(r->ctx, "max_pfn", &max_pfn) != KDUMP_OK || max_pfn != r->h.max_mapnr)
		return pt_error_set(err, r->path, r->h.layout->max_mapnr, "libkdumpfile reads max_pfn "
				    "0x%" PRIx64 ", the header says 0x%" PRIx64, (uint64_t)max_pfn,
				    r->h.max_mapnr);
	return PT_OK;
}

/**
 * The cache (reserved at open, committed as pages are read) and its two bitmaps. It asks for
 * transparent huge pages: a page fault costs tens of microseconds in a VM (measured 30-50 us
 * here) and dominated reading, while one 2 MiB fault serves 512 slots (10 times faster). The
 * price is RAM in 2 MiB steps (a walk touching tables in 5 places commits about 10 MiB).
 */
static enum pt_status make_cache(struct kd_reader *r, struct pt_error *err)
{
	size_t words = (size_t)((r->h.ndumped + 63) / 64);
	void *map;

	if (r->h.ndumped == 0)
		return PT_OK;
	if (r->h.ndumped > (SIZE_MAX - HUGE_PAGE) / KD_PAGE_SIZE)
		return pt_error_set(err, r->path, PT_ERROR_NO_OFFSET, "too many pages to cache");
	r->cache_size = (size_t)r->h.ndumped * KD_PAGE_SIZE + HUGE_PAGE;
	map = mmap(NULL, r->cache_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		r->cache_size = 0;
		return pt_error_set(err, r->path, PT_ERROR_NO_OFFSET, "cannot reserve %" PRIu64
				    " MiB for the page cache: %s", r->h.ndumped >> 8, strerror(errno));
	}
	r->cache_map = map;
	r->cache = (uint8_t *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	(void)madvise(r->cache, (size_t)r->h.ndumped * KD_PAGE_SIZE, MADV_HUGEPAGE); /* a hint */
	r->decoded = calloc(words, sizeof(uint64_t));
	r->bad = calloc(words, sizeof(uint64_t));
	if (!r->decoded || !r->bad)
		return pt_error_set(err, r->path, PT_ERROR_NO_OFFSET, "out of memory");
	return PT_OK;
}

/** Hand the reader to libptwalk: ranges from the runs, the notes and VMCOREINFO areas. */
static enum pt_status make_dump(struct kd_reader *r, struct pt_dump **dump_ret, struct pt_error *err)
{
	struct pt_dump_range *ranges = NULL;
	struct pt_dump_reader rd;
	enum pt_status st;
	const char *path = r->path;

	if (r->h.nruns > 0) {
		ranges = calloc(r->h.nruns, sizeof(*ranges));
		if (!ranges) {
			st = pt_error_set(err, path, PT_ERROR_NO_OFFSET, "out of memory");
			kd_close(r);
			return st;
		}
	}
	for (size_t i = 0; i < r->h.nruns; i++) {
		ranges[i].pa = r->h.runs[i].pfn * KD_PAGE_SIZE;
		ranges[i].size = r->h.runs[i].npages * KD_PAGE_SIZE;
		ranges[i].file_off = PT_DUMP_NO_FILE_OFF;
	}
	memset(&rd, 0, sizeof(rd));
	rd.format = PT_DUMP_KDUMP;
	rd.mem.ptr = kd_ptr;
	rd.mem.opaque = r;
	rd.ranges = ranges;
	rd.nranges = r->h.nruns;
	rd.machine = r->h.machine;
	if (r->h.note_size > 0) {
		rd.notes = r->map + r->h.note_off;
		rd.notes_size = (size_t)r->h.note_size;
		rd.notes_file_off = r->h.note_off;
	}
	if (r->h.vmcoreinfo_size > 0) {
		rd.vmcoreinfo = (const char *)r->map + r->h.vmcoreinfo_off;
		rd.vmcoreinfo_len = (size_t)r->h.vmcoreinfo_size;
	}
	rd.read_errors = kd_read_errors;
	rd.close = kd_close;
	st = pt_dump_open_reader(path, &rd, dump_ret, err); /* owns r from here */
	free(ranges);
	return st;
}

enum pt_status pt_kdump_open(const char *path, struct pt_dump **dump_ret, struct pt_error *err)
{
	struct kd_reader *r;
	enum pt_status st;
	size_t plen;

	if (err) {
		err->offset = PT_ERROR_NO_OFFSET;
		err->message[0] = 0;
	}
	if (!path || !dump_ret)
		return pt_error_set(err, path ? path : "(null)", PT_ERROR_NO_OFFSET,
				    "no path or no result pointer");
	*dump_ret = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET, "out of memory");
	r->fd = -1;
	plen = strlen(path);
	r->path = malloc(plen + 1);
	if (!r->path) {
		st = pt_error_set(err, path, PT_ERROR_NO_OFFSET, "out of memory");
		goto fail;
	}
	memcpy(r->path, path, plen + 1);
	st = map_file(r, err);
	if (st == PT_OK)
		st = kd_header_parse(path, r->map, r->map_size, &r->h, err);
	if (st == PT_OK)
		st = open_libkdumpfile(r, err);
	if (st == PT_OK)
		st = make_cache(r, err);
	if (st != PT_OK)
		goto fail;
	return make_dump(r, dump_ret, err);
fail:
	kd_close(r);
	return st;
}

enum pt_status pt_kdump_open_dump(const char *path, const struct pt_dump_open_opts *opts,
				  struct pt_dump **dump_ret, struct pt_error *err)
{
	uint8_t head[16];
	ssize_t got = -1;
	int fd;

	if (path && !(opts && opts->force_raw)) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			got = read(fd, head, sizeof(head));
			close(fd);
		}
		if (got > 0 && pt_dump_detect(head, (size_t)got) == PT_DUMP_KDUMP)
			return pt_kdump_open(path, dump_ret, err);
	}
	return pt_dump_open(path, opts, dump_ret, err);
}
