/* SPDX-License-Identifier: MIT */
/*
 * fuzz target `dump`. Invariant: pt_dump_open never crashes on any file (ELF core, LiME or raw,
 * auto-detected), and when it accepts one, every range it reports is readable through
 * pt_dump_mem: the first and last byte of each range, and the whole range in one ptr() call;
 * the CPU-state notes and VMCOREINFO accessors work on whatever it parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "input.h"
#include "ptlab/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	struct pt_dump *dump = NULL;
	struct pt_error err;

	if (fd < 0 && (fd = memfd_create("ptlab-fuzz-dump", 0)) < 0)
		fz_fail("memfd_create");
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		fz_fail("writing the memfd");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (pt_dump_open(path, NULL, &dump, &err) != PT_OK)
		return 0;

	const struct pt_mem *mem = pt_dump_mem(dump);
	size_t n = 0;
	const struct pt_dump_range *r = pt_dump_ranges(dump, &n);
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].size == 0)
			continue;
		const uint8_t *a = mem->ptr(mem, r[i].pa, 1);
		const uint8_t *b = mem->ptr(mem, r[i].pa + r[i].size - 1, 1);
		if (a == NULL || b == NULL)
			fz_fail("range %zu (pa 0x%llx size 0x%llx) not readable", i,
				(unsigned long long)r[i].pa, (unsigned long long)r[i].size);
		sink ^= *a ^ *b;
		const uint8_t *all = mem->ptr(mem, r[i].pa, r[i].size);
		if (all == NULL)
			fz_fail("range %zu not readable in one piece", i);
		sink ^= all[r[i].size / 2];
	}
	struct pt_cpu_state cpu;
	(void)pt_dump_cpu(dump, &cpu);
	size_t vlen = 0;
	const char *v = pt_dump_vmcoreinfo(dump, &vlen);
	if (v != NULL && vlen > 0)
		sink ^= (uint8_t)v[vlen - 1];
	char buf[64];
	(void)pt_dump_vmcoreinfo_get(dump, "SYMBOL(init_top_pgt)", buf, sizeof(buf));
	(void)pt_dump_phys_end(dump);
	pt_dump_close(dump);
	(void)sink;
	return 0;
}
