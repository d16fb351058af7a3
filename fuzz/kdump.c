/* SPDX-License-Identifier: MIT */
/*
 * fuzz target `kdump`. Invariant: pt_kdump_open_dump never crashes on any file (kdump-compressed
 * in either layout, flattened, or anything else it hands to pt_dump_open), and when it accepts a
 * kdump file: the ranges are sorted, page-aligned and disjoint; every page of every range either
 * reads (ptr() non-NULL) or is counted by pt_dump_read_errors with a message naming the file (a
 * page is never silently unreadable, never silently zero); and writing the dump again as
 * kdump-lzo gives a file that opens with the same ranges and the same bytes for every page that
 * read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "input.h"
#include "ptlab/kdump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Pages the round trip compares at most (keeps an input's cost bounded). */
static const uint64_t MAX_PAGES_CHECKED = 4096;

/** A memfd's /proc path, created once per process. */
static const char *memfd_path(int *fd, const char *name, char *buf, size_t len)
{
	if (*fd < 0 && (*fd = memfd_create(name, 0)) < 0)
		fz_fail("memfd_create");
	snprintf(buf, len, "/proc/self/fd/%d", *fd);
	return buf;
}

/** Every page reads or is counted; returns how many read. */
static uint64_t check_pages(struct pt_dump *dump)
{
	const struct pt_mem *mem = pt_dump_mem(dump);
	size_t n = 0;
	const struct pt_dump_range *r = pt_dump_ranges(dump, &n);
	uint64_t read = 0, checked = 0;
	volatile uint8_t sink = 0;

	for (size_t i = 0; i < n; i++) {
		if (r[i].pa % 4096 || r[i].size % 4096 || r[i].size == 0)
			fz_fail("range %zu (0x%llx + 0x%llx) is not whole pages", i,
				(unsigned long long)r[i].pa, (unsigned long long)r[i].size);
		if (i > 0 && r[i].pa < r[i - 1].pa + r[i - 1].size)
			fz_fail("range %zu is not after range %zu", i, i - 1);
		for (uint64_t off = 0; off < r[i].size && checked < MAX_PAGES_CHECKED; off += 4096) {
			const uint8_t *p = mem->ptr(mem, r[i].pa + off, 4096);
			size_t before = pt_dump_read_errors(dump, NULL);

			checked++;
			if (p) {
				sink ^= p[0] ^ p[4095];
				read++;
				continue;
			}
			if (before == 0)
				fz_fail("page at PA 0x%llx unreadable and not counted",
					(unsigned long long)(r[i].pa + off));
		}
	}
	(void)sink;
	return read;
}

/** Write `dump` as kdump-lzo and compare what reads back. */
static void roundtrip(struct pt_dump *dump)
{
	static int out_fd = -1;
	char path[64];
	struct pt_kdump_write_opts opts = { .compression = PT_KDUMP_LZO };
	struct pt_dump *back = NULL;
	struct pt_error err;
	size_t n1 = 0, n2 = 0;

	memfd_path(&out_fd, "ptlab-fuzz-kdump-out", path, sizeof(path));
	if (ftruncate(out_fd, 0) != 0)
		fz_fail("ftruncate");
	if (pt_kdump_write(path, dump, &opts, NULL, &err) != PT_OK)
		return; /* a page that does not read: the writer refuses, as it must */
	if (pt_kdump_open(path, &back, &err) != PT_OK)
		fz_fail("our own kdump file does not open: %s", err.message);
	const struct pt_dump_range *r1 = pt_dump_ranges(dump, &n1);
	const struct pt_dump_range *r2 = pt_dump_ranges(back, &n2);
	if (n1 != n2)
		fz_fail("round trip: %zu ranges became %zu", n1, n2);
	const struct pt_mem *m1 = pt_dump_mem(dump), *m2 = pt_dump_mem(back);
	uint64_t checked = 0;
	for (size_t i = 0; i < n1; i++) {
		if (r1[i].pa != r2[i].pa || r1[i].size != r2[i].size)
			fz_fail("round trip: range %zu differs", i);
		for (uint64_t off = 0; off < r1[i].size && checked < MAX_PAGES_CHECKED; off += 4096) {
			const void *a = m1->ptr(m1, r1[i].pa + off, 4096);
			const void *b = m2->ptr(m2, r2[i].pa + off, 4096);

			checked++;
			if (!a || !b || memcmp(a, b, 4096) != 0)
				fz_fail("round trip: page at PA 0x%llx differs",
					(unsigned long long)(r1[i].pa + off));
		}
	}
	struct pt_cpu_state c1, c2;
	if (pt_dump_cpu(dump, &c1) != pt_dump_cpu(back, &c2))
		fz_fail("round trip: the CPU state's source differs");
	pt_dump_close(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	struct pt_dump *dump = NULL;
	struct pt_error err;

	memfd_path(&fd, "ptlab-fuzz-kdump", path, sizeof(path));
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		fz_fail("writing the memfd");
	if (pt_kdump_open_dump(path, NULL, &dump, &err) != PT_OK) {
		if (strncmp(err.message, path, strlen(path)) != 0)
			fz_fail("error message does not name the file: %s", err.message);
		return 0;
	}
	if (pt_dump_format(dump) == PT_DUMP_KDUMP) {
		uint64_t read = check_pages(dump);
		if (read > 0 && pt_dump_read_errors(dump, NULL) == 0)
			roundtrip(dump);
	}
	struct pt_cpu_state cpu;
	(void)pt_dump_cpu(dump, &cpu);
	char buf[64];
	(void)pt_dump_vmcoreinfo_get(dump, "OSRELEASE", buf, sizeof(buf));
	pt_dump_close(dump);
	return 0;
}
