/* SPDX-License-Identifier: MIT */
/*
 * test_kdump.c: libptkdump (kdump-compressed dumps) and the extension point of dump.h it plugs
 * into (pt_dump_open_reader).
 *
 * A source ELF core with page tables, stored-worthy (incompressible), compressible and zero
 * pages, a partial page and a page above 4 GiB is written as kdump with each compression, then
 * read back twice: by libkdumpfile directly (an independent reader: every page, the holes, the
 * VMCOREINFO, the layout) and by pt_kdump_open (ranges, bytes, CPU state, a walk). Then lying
 * files: each header field patched gives PT_EINVAL naming the exact offset; truncated page data;
 * a corrupt compressed page reads as not in dump, is counted with its file offset, and makes a
 * walk through it PT_NOT_IN_DUMP with its address; a flattened stream is refused with the
 * `makedumpfile -R` command.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ptbuild.h"
#include "ptlab/dump.h"
#include "ptlab/kdump.h"
#include "ptlab/le.h"
#include "tmpdir.h"
#include "rng.h"

enum { PAGE = 4096 };

/* ---- Fixture: a temporary directory ------------------------------------------------------- */

static char tmpdir[256];

static int group_setup(void **state)
{
	(void)state;
	return ts_tmpdir_create(tmpdir, sizeof(tmpdir), "kdump");
}

static int group_teardown(void **state)
{
	(void)state;
	return ts_tmpdir_remove(tmpdir);
}

static char *tpath(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
	return buf;
}

static void patch_le(const char *path, uint64_t off, uint64_t v, unsigned n)
{
	uint8_t b[8];
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	pt_le_put(b, v, n);
	assert_int_equal(pwrite(fd, b, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static uint64_t read_le(const char *path, uint64_t off, unsigned n)
{
	uint8_t b[8];
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, b, n, (off_t)off), (ssize_t)n);
	close(fd);
	return pt_le_get(b, n);
}

/** The file offset of the first `text` in the file (which must hold it). */
static uint64_t find_text(const char *path, const char *text)
{
	static uint8_t buf[1 << 20];
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	const ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 0);
	const uint8_t *at = memmem(buf, (size_t)n, text, strlen(text));
	assert_non_null(at);
	return (uint64_t)(at - buf);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

/* ---- The source dump ------------------------------------------------------------------------ */

/** What the source holds, besides the page tables the builder puts at 0x1000.. */
enum {
	LOW_SIZE = 64 * 1024,             /**< [0, 64 KiB): tables, data, zero pages */
	TEXT_PA = 0x8000,                 /**< the page VA_TEXT maps: compressible text */
	NOISE_PA = 0x9000,                /**< incompressible bytes: stored as they are */
	MID_PA = 0x100000,                /**< two whole pages and 0x100 bytes of a third */
	MID_SIZE = 2 * PAGE + 0x100,
};
static const uint64_t HIGH_PA = UINT64_C(0x140000000); /* 5 GiB: one page */
static const uint64_t VA_TEXT = UINT64_C(0xffffffff81000000);
static const char VMCI[] = "OSRELEASE=6.1.0-ptlab-test\nPAGESIZE=4096\nNUMBER(phys_base)=-260046848\n";

static uint8_t low[LOW_SIZE], mid[MID_SIZE], high[PAGE];
static struct pt_cpu_state src_cpu;
static uint64_t pd_pa; /* the page directory of VA_TEXT's walk */

/** Pseudo-random bytes (xorshift): compression cannot shrink them. */
static void noise(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)ts_xorshift64(&seed);
}

static void text(uint8_t *p, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)word[i % w];
}

/** Build the memory once: 4-level tables mapping VA_TEXT -> TEXT_PA, text, noise, zeros. */
static void build_memory(void)
{
	struct ptb b;

	ptb_init(&b, PT_MODE_IA32E, LOW_SIZE, 0x1000);
	ptb_map(&b, VA_TEXT, TEXT_PA, 1, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	pd_pa = ptb_get(&b, ptb_entry_pa(&b, VA_TEXT, 3)) & ~UINT64_C(0xfff) & ((UINT64_C(1) << 52) - 1);
	ptb_cpu(&b, &src_cpu);
	memcpy(low, b.mem, LOW_SIZE);
	ptb_deinit(&b);
	text(low + TEXT_PA, PAGE, "Linux version 6.1.0-ptlab-test ");
	noise(low + NOISE_PA, PAGE, 0x9e3779b97f4a7c15u);
	text(mid, MID_SIZE, "compressible middle ");
	noise(high, PAGE, 42);
}

/** Write the source core (machine 62 or 3) to `path`. */
static void write_source(const char *path, unsigned machine)
{
	const struct pt_core_segment segs[] = {
		{ .pa = 0, .size = LOW_SIZE, .data = low },
		{ .pa = MID_PA, .size = MID_SIZE, .data = mid },
		{ .pa = HIGH_PA, .size = PAGE, .data = high },
	};
	struct pt_core_desc desc = { .machine = machine, .segments = segs, .nsegments = 3,
				     .cpu = &src_cpu, .ptlab_note = true, .vmcoreinfo = VMCI };
	struct pt_error err;

	assert_int_equal(pt_core_write(path, &desc, &err), PT_OK);
}

/** The source's bytes of the whole page at `pa`, or NULL when it holds no whole page there. */
static const uint8_t *source_page(uint64_t pa)
{
	if (pa + PAGE <= LOW_SIZE)
		return low + pa;
	if (pa >= MID_PA && pa + PAGE <= MID_PA + 2 * PAGE)
		return mid + (pa - MID_PA);
	if (pa == HIGH_PA)
		return high;
	return NULL;
}

/** Write `src_path` as kdump with `c` to `out`; the stats. */
static struct pt_kdump_write_stats write_kdump(const char *src_path, const char *out,
					       enum pt_kdump_compression c)
{
	struct pt_kdump_write_opts opts = { .compression = c };
	struct pt_kdump_write_stats st;
	struct pt_dump *src = NULL;
	struct pt_error err;

	assert_int_equal(pt_kdump_open_dump(src_path, NULL, &src, &err), PT_OK);
	memset(&st, 0, sizeof(st));
	if (pt_kdump_write(out, src, &opts, &st, &err) != PT_OK)
		fail_msg("%s", err.message);
	pt_dump_close(src);
	return st;
}

/* ---- libkdumpfile, the independent reader ---------------------------------------------------- */

/** Every whole source page reads back equal through libkdumpfile; the rest is not in the file. */
static void check_with_libkdumpfile(const char *path, unsigned ptr_size)
{
	static const uint64_t probes[] = { 0, 0x1000, TEXT_PA, NOISE_PA, 0xf000, 0x10000, 0x20000,
					   MID_PA, MID_PA + PAGE, MID_PA + 2 * PAGE, 0x13ffff000,
					   0x140000000, 0x140001000 };
	kdump_ctx_t *ctx = kdump_new();
	kdump_num_t num = 0;
	char *raw = NULL;
	uint8_t buf[PAGE];
	int fd = open(path, O_RDONLY);

	assert_non_null(ctx);
	assert_true(fd >= 0);
	if (kdump_open_fd(ctx, fd) != KDUMP_OK)
		fail_msg("libkdumpfile: %s", kdump_get_err(ctx));
	assert_int_equal(kdump_get_number_attr(ctx, KDUMP_ATTR_PTR_SIZE, &num), KDUMP_OK);
	assert_int_equal(num, ptr_size);
	assert_int_equal(kdump_get_number_attr(ctx, "max_pfn", &num), KDUMP_OK);
	assert_int_equal(num, HIGH_PA / PAGE + 1);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const uint8_t *want = source_page(probes[i]);
		size_t got = PAGE;
		kdump_status ks = kdump_read(ctx, KDUMP_MACHPHYSADDR, probes[i], buf, &got);

		if (want) {
			if (ks != KDUMP_OK)
				fail_msg("PA 0x%" PRIx64 ": %s", probes[i], kdump_get_err(ctx));
			assert_int_equal(got, PAGE);
			assert_memory_equal(buf, want, PAGE);
		} else {
			assert_int_equal(ks, KDUMP_ERR_NODATA);
		}
	}
	assert_int_equal(kdump_set_string_attr(ctx, KDUMP_ATTR_ARCH_NAME,
					       ptr_size == 8 ? KDUMP_ARCH_X86_64 : KDUMP_ARCH_IA32), KDUMP_OK);
	assert_int_equal(kdump_set_string_attr(ctx, KDUMP_ATTR_OSTYPE, "linux"), KDUMP_OK);
	if (kdump_vmcoreinfo_raw(ctx, &raw) != KDUMP_OK)
		fail_msg("vmcoreinfo: %s", kdump_get_err(ctx));
	assert_string_equal(raw, VMCI);
	free(raw);
	kdump_free(ctx);
	close(fd);
}

/* ---- ptlab's reader ---------------------------------------------------------------------------- */

static struct pt_dump *kdump_open_ok(const char *path)
{
	struct pt_dump *d = NULL;
	struct pt_error err;

	if (pt_kdump_open_dump(path, NULL, &d, &err) != PT_OK)
		fail_msg("%s", err.message);
	return d;
}

/** Ranges, bytes, holes, CPU state, VMCOREINFO and a walk as the source has them. */
static void check_with_reader(const char *path, unsigned machine)
{
	struct pt_dump *d = kdump_open_ok(path);
	const struct pt_mem *mem = pt_dump_mem(d);
	struct pt_cpu_state cpu;
	struct pt_context ctx;
	struct pt_result res;
	size_t n = 0;
	const struct pt_dump_range *r = pt_dump_ranges(d, &n);
	char buf[32];

	assert_int_equal(pt_dump_format(d), PT_DUMP_KDUMP);
	assert_string_equal(pt_dump_format_name(pt_dump_format(d)), "kdump");
	assert_int_equal(pt_dump_elf_machine(d), machine);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].pa, 0);
	assert_int_equal(r[0].size, LOW_SIZE);
	assert_int_equal(r[0].file_off, PT_DUMP_NO_FILE_OFF);
	assert_int_equal(r[1].pa, MID_PA);
	assert_int_equal(r[1].size, 2 * PAGE); /* the partial third page is left out */
	assert_int_equal(r[2].pa, HIGH_PA);
	assert_int_equal(pt_dump_phys_end(d), HIGH_PA + PAGE);
	assert_memory_equal(mem->ptr(mem, 0, LOW_SIZE), low, LOW_SIZE);
	assert_memory_equal(mem->ptr(mem, MID_PA + 8, 2 * PAGE - 8), mid + 8, 2 * PAGE - 8);
	assert_memory_equal(mem->ptr(mem, HIGH_PA, PAGE), high, PAGE);
	assert_null(mem->ptr(mem, LOW_SIZE, 1));                     /* a hole */
	assert_null(mem->ptr(mem, LOW_SIZE - 8, 16));                /* runs into it */
	assert_null(mem->ptr(mem, MID_PA + 2 * PAGE, 1));            /* the partial page */
	assert_null(mem->ptr(mem, UINT64_MAX - 3, 8));               /* wraps */
	assert_int_equal(pt_dump_read_errors(d, NULL), 0);
	assert_int_equal(pt_dump_cpu(d, &cpu), PT_CPU_PTLAB);
	assert_int_equal(cpu.cr3, src_cpu.cr3);
	assert_int_equal(cpu.efer, src_cpu.efer);
	assert_true(pt_dump_vmcoreinfo_get(d, "OSRELEASE", buf, sizeof(buf)));
	assert_string_equal(buf, "6.1.0-ptlab-test");
	assert_int_equal(pt_context_init(&ctx, &cpu, mem, NULL, NULL), PT_OK);
	assert_int_equal(pt_walk(&ctx, mem, VA_TEXT + 0x123, &res), PT_OK);
	assert_int_equal(res.pa, TEXT_PA + 0x123);
	pt_dump_close(d);
}

static void roundtrip(enum pt_kdump_compression c, unsigned machine, const char *name)
{
	char src[300], out[300];
	struct pt_kdump_write_stats st;

	write_source(tpath(src, sizeof(src), machine == 3 ? "src32.core" : "src.core"), machine);
	st = write_kdump(src, tpath(out, sizeof(out), name), c);
	assert_int_equal(st.pages, LOW_SIZE / PAGE + 2 + 1);
	assert_int_equal(st.partial_left_out, 1);
	assert_int_equal(st.stored, 2);                      /* the two noise pages */
	assert_int_equal(st.zero + st.compressed + st.stored, st.pages);
	assert_true(st.zero >= 8);
	assert_int_equal(read_le(out, 0, 8), pt_le64("KDUMP   "));
	check_with_libkdumpfile(out, machine == 3 ? 4 : 8);
	check_with_reader(out, machine);
}

static void test_roundtrip_zlib(void **state)
{
	(void)state;
	roundtrip(PT_KDUMP_ZLIB, 62, "a.kdump-zlib");
}

static void test_roundtrip_lzo(void **state)
{
	(void)state;
	roundtrip(PT_KDUMP_LZO, 62, "a.kdump-lzo");
}

static void test_roundtrip_snappy(void **state)
{
	(void)state;
	roundtrip(PT_KDUMP_SNAPPY, 62, "a.kdump-snappy");
}

static void test_roundtrip_zstd(void **state)
{
	(void)state;
	roundtrip(PT_KDUMP_ZSTD, 62, "a.kdump-zstd");
}

/** An EM_386 source gets the i386 layout (4-byte words), a page above 4 GiB included. */
static void test_roundtrip_i386(void **state)
{
	(void)state;
	roundtrip(PT_KDUMP_LZO, 3, "a32.kdump-lzo");
}

/** kdump -> kdump keeps everything (the notes travel as they are). */
static void test_kdump_to_kdump(void **state)
{
	char src[300], mid_path[300], out[300];

	(void)state;
	write_source(tpath(src, sizeof(src), "src.core"), 62);
	write_kdump(src, tpath(mid_path, sizeof(mid_path), "k1.kdump"), PT_KDUMP_SNAPPY);
	write_kdump(mid_path, tpath(out, sizeof(out), "k2.kdump"), PT_KDUMP_ZSTD);
	check_with_libkdumpfile(out, 8);
	check_with_reader(out, 62);
}

/* ---- Lying files -------------------------------------------------------------------------------- */

/** Offsets in a file our writer made (64-bit layout): header fields and the first descriptor. */
struct made {
	char path[300];
	uint64_t desc_off;  /**< descriptor of page 0 */
};

static void make_good(struct made *m, const char *name, enum pt_kdump_compression c)
{
	char src[300];
	uint64_t sub_blocks, bitmap_blocks;

	write_source(tpath(src, sizeof(src), "src.core"), 62);
	write_kdump(src, tpath(m->path, sizeof(m->path), name), c);
	sub_blocks = read_le(m->path, 432, 4);
	bitmap_blocks = read_le(m->path, 436, 4);
	m->desc_off = (1 + sub_blocks + bitmap_blocks) * PAGE;
}

/** Opening fails with PT_EINVAL and the message "PATH: offset 0xOFF: ...WHAT...". */
static void open_fails(const char *path, uint64_t off, const char *what)
{
	struct pt_dump *d = NULL;
	struct pt_error err;
	char prefix[400];

	assert_int_equal(pt_kdump_open_dump(path, NULL, &d, &err), PT_EINVAL);
	assert_null(d);
	snprintf(prefix, sizeof(prefix), "%s: offset 0x%" PRIx64 ": ", path, off);
	if (strncmp(err.message, prefix, strlen(prefix)) != 0 || !strstr(err.message, what))
		fail_msg("want \"%s...%s...\", got \"%s\"", prefix, what, err.message);
	assert_int_equal(err.offset, off);
}

static void test_bad_headers(void **state)
{
	struct made m;
	char bad[300];
	const struct {
		uint64_t off;
		uint64_t value;
		unsigned n;
		uint64_t err_off; /**< UINT64_MAX: the patched offset */
		const char *what;
	} cases[] = {
		{ 0x110, 0x34366863726161, 8, UINT64_MAX, "is not x86_64 or i386..i686" }, /* "aarch64" */
		{ 428, 0, 4, 428, "neither header layout" },
		/* the reading libkdumpfile takes first must be the one checked (fuzz-kdump found a
		 * header it read as big-endian i386, sizing its tables from unchecked fields) */
		{ 428, 8192, 4, UINT64_MAX, "reads first as 8192 in a little-endian x86_64 header" },
		{ 416, 8192, 4, UINT64_MAX, "reads first as 8192 in a little-endian i386 header" },
		{ 416, 0x00800000, 4, UINT64_MAX, "reads first as 32768 in a big-endian i386 header" },
		{ 8, 0, 4, UINT64_MAX, "header_version 0" },
		{ 432, 0, 4, UINT64_MAX, "sub_hdr_size 0" },
		{ 432, 0x100000, 4, UINT64_MAX, "sub header of 1048576 blocks runs past" },
		{ 436, 83, 4, UINT64_MAX, "bitmap_blocks 83 is odd" },
		{ 436, 0x7ffff000, 4, UINT64_MAX, "bitmaps of 2147479552 blocks" },
		{ 4096 + 96, UINT64_C(1) << 41, 8, UINT64_MAX, "more than a 52-bit physical address space" },
		{ 4096 + 96, UINT64_C(1) << 30, 8, 436, "hold fewer than max_mapnr" },
		{ 4096 + 48, UINT64_C(1) << 40, 8, UINT64_MAX, "ELF notes" },
		{ 4096 + 32, UINT64_C(1) << 40, 8, UINT64_MAX, "VMCOREINFO" },
		{ 4096 + 72, UINT64_C(1) << 40, 8, 4096 + 64, "erase info" },
	};

	(void)state;
	make_good(&m, "good.kdump", PT_KDUMP_ZLIB);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(bad, sizeof(bad), "%s/bad%zu.kdump", tmpdir, i);
		copy_file(m.path, bad);
		patch_le(bad, cases[i].off, cases[i].value, cases[i].n);
		open_fails(bad, cases[i].err_off == UINT64_MAX ? cases[i].off : cases[i].err_off,
			   cases[i].what);
	}
	/* VMCOREINFO's page size: libkdumpfile takes it over the block size (fuzz-kdump: a
	 * PAGESIZE line with no value made it ask for 2^63 bytes) */
	snprintf(bad, sizeof(bad), "%s/pagesize-8192.kdump", tmpdir);
	copy_file(m.path, bad);
	const uint64_t pagesize = find_text(bad, "PAGESIZE=4096");
	patch_le(bad, pagesize + 9, 0x32393138, 4); /* "8192" */
	open_fails(bad, pagesize, "VMCOREINFO line \"PAGESIZE=8192\"");
	snprintf(bad, sizeof(bad), "%s/pagesize-none.kdump", tmpdir);
	copy_file(m.path, bad);
	patch_le(bad, pagesize + 8, '\n', 1);
	open_fails(bad, pagesize, "VMCOREINFO line \"PAGESIZE\"");
	snprintf(bad, sizeof(bad), "%s/vmcoreinfo-binary.kdump", tmpdir);
	copy_file(m.path, bad);
	patch_le(bad, pagesize + 2, 0x02, 1);
	open_fails(bad, pagesize + 2, "VMCOREINFO byte 0x02 is not text");
	snprintf(bad, sizeof(bad), "%s/vmcoreinfo-dot.kdump", tmpdir);
	copy_file(m.path, bad);
	const uint64_t osrelease = find_text(bad, "OSRELEASE=");
	patch_le(bad, osrelease, '.', 1);
	open_fails(bad, osrelease, "an empty name at a dot in its key");
	/* an i386 sub header that libkdumpfile would read padded (its VMCOREINFO offset inside the
	 * sub header's first block), not packed as written */
	char src32[300];
	write_source(tpath(src32, sizeof(src32), "src32.core"), 3);
	snprintf(bad, sizeof(bad), "%s/i386-padded.kdump", tmpdir);
	write_kdump(src32, bad, PT_KDUMP_ZLIB);
	patch_le(bad, 4096 + 20, 100, 8);
	open_fails(bad, 4096 + 20, "libkdumpfile would read the i386 sub header padded");
	/* the descriptors: flags, sizes, data offsets */
	snprintf(bad, sizeof(bad), "%s/desc-flags.kdump", tmpdir);
	copy_file(m.path, bad);
	patch_le(bad, m.desc_off + 12, 0x40, 4);
	open_fails(bad, m.desc_off + 12, "flags 0x40 are not one known compression");
	snprintf(bad, sizeof(bad), "%s/desc-two.kdump", tmpdir);
	copy_file(m.path, bad);
	patch_le(bad, m.desc_off + 12, 0x3, 4);
	open_fails(bad, m.desc_off + 12, "flags 0x3");
	snprintf(bad, sizeof(bad), "%s/desc-size.kdump", tmpdir);
	copy_file(m.path, bad);
	patch_le(bad, m.desc_off + 8, 5000, 4);
	open_fails(bad, m.desc_off + 8, "size 5000");
	snprintf(bad, sizeof(bad), "%s/desc-stored.kdump", tmpdir);
	copy_file(m.path, bad);
	patch_le(bad, m.desc_off + 8, 100, 4);
	patch_le(bad, m.desc_off + 12, 0, 4);
	open_fails(bad, m.desc_off + 8, "size 100 for a stored page");
	snprintf(bad, sizeof(bad), "%s/desc-off.kdump", tmpdir);
	copy_file(m.path, bad);
	patch_le(bad, m.desc_off, UINT64_C(1) << 40, 8);
	open_fails(bad, m.desc_off, "runs past the end of the file");
}

/** Cut inside the page data: the first page whose data is cut names its descriptor. */
static void test_truncated(void **state)
{
	struct made m;
	char cut[300];
	struct stat sb;
	uint64_t last_desc, last_data;

	(void)state;
	make_good(&m, "good.kdump", PT_KDUMP_LZO);
	assert_int_equal(stat(m.path, &sb), 0);
	/* the last page written (HIGH_PA's noise, stored) is the last in the file */
	last_desc = m.desc_off + (uint64_t)(LOW_SIZE / PAGE + 2) * 24;
	last_data = read_le(m.path, last_desc, 8);
	assert_int_equal(last_data + PAGE, (uint64_t)sb.st_size);
	snprintf(cut, sizeof(cut), "%s/cut.kdump", tmpdir);
	copy_file(m.path, cut);
	assert_int_equal(truncate(cut, (off_t)(last_data + 100)), 0);
	open_fails(cut, last_desc, "truncated");
	assert_int_equal(truncate(cut, (off_t)(m.desc_off + 30)), 0);
	open_fails(cut, m.desc_off, "page descriptors run past the end of the file");
	assert_int_equal(truncate(cut, 300), 0);
	open_fails(cut, 0, "truncated kdump header: 300 bytes");
}

/** The descriptor of the page at `pa` (pa < LOW_SIZE: every page below is dumped). */
static void desc_of(const struct made *m, uint64_t pa, uint64_t *data_off, uint32_t *size)
{
	uint64_t d = m->desc_off + pa / PAGE * 24;

	*data_off = read_le(m->path, d, 8);
	*size = (uint32_t)read_le(m->path, d + 8, 4);
	assert_int_equal(read_le(m->path, d + 12, 4), 1); /* zlib */
}

/** A corrupt zlib page: not in dump (never zeros), counted with its offset, a walk stops there. */
static void test_corrupt_page(void **state)
{
	struct made m;
	struct pt_dump *d;
	const struct pt_mem *mem;
	struct pt_error first;
	struct pt_cpu_state cpu;
	struct pt_context ctx;
	struct pt_result res;
	uint64_t data_off;
	uint32_t size;
	char want[400], out[300];

	(void)state;
	make_good(&m, "corrupt.kdump", PT_KDUMP_ZLIB);
	desc_of(&m, pd_pa, &data_off, &size);
	/* the stream's last byte is its Adler-32 checksum: inflate must refuse the page */
	patch_le(m.path, data_off + size - 1, read_le(m.path, data_off + size - 1, 1) ^ 0x5a, 1);
	d = kdump_open_ok(m.path);
	mem = pt_dump_mem(d);
	assert_int_equal(pt_dump_cpu(d, &cpu), PT_CPU_PTLAB);
	assert_int_equal(pt_context_init(&ctx, &cpu, mem, NULL, NULL), PT_OK);
	assert_int_equal(pt_walk(&ctx, mem, VA_TEXT, &res), PT_NOT_IN_DUMP);
	assert_int_equal(res.table_pa, pd_pa);
	assert_null(mem->ptr(mem, pd_pa, 8));
	assert_null(mem->ptr(mem, 0, LOW_SIZE));      /* a span over it */
	assert_non_null(mem->ptr(mem, TEXT_PA, PAGE)); /* the others still read */
	assert_int_equal(pt_dump_read_errors(d, &first), 1);
	snprintf(want, sizeof(want), "%s: offset 0x%" PRIx64 ": page at PA 0x%" PRIx64 " (zlib, %" PRIu32
		 " bytes; descriptor at 0x%" PRIx64 ") is unreadable: ", m.path, data_off, pd_pa, size,
		 m.desc_off + pd_pa / PAGE * 24);
	if (strncmp(first.message, want, strlen(want)) != 0)
		fail_msg("want \"%s...\", got \"%s\"", want, first.message);
	/* writing it elsewhere fails on that page, with the same message */
	{
		struct pt_kdump_write_opts opts = { .compression = PT_KDUMP_LZO };
		struct pt_error err;

		assert_int_equal(pt_kdump_write(tpath(out, sizeof(out), "from-corrupt.kdump"), d, &opts,
						NULL, &err), PT_EINVAL);
		assert_string_equal(err.message, first.message);
		assert_int_equal(access(out, F_OK), -1); /* no half-written file left */
	}
	pt_dump_close(d);
}

/** makedumpfile's flattened stream: refused with the command that rebuilds the standard file. */
static void test_flattened(void **state)
{
	static const uint8_t head[32] = { 'm', 'a', 'k', 'e', 'd', 'u', 'm', 'p', 'f', 'i', 'l', 'e',
					  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	char path[300], want[900];
	struct pt_dump *d = NULL;
	struct pt_error err;
	FILE *f;

	(void)state;
	f = fopen(tpath(path, sizeof(path), "qemu.flat"), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(head, 1, sizeof(head), f), sizeof(head));
	fclose(f);
	snprintf(want, sizeof(want), "makedumpfile -R '%s.kdump' < '%s'", path, path);
	assert_int_equal(pt_dump_open(path, NULL, &d, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, want));
	assert_int_equal(err.offset, 0);
	assert_int_equal(pt_kdump_open_dump(path, NULL, &d, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, want));
	assert_int_equal(pt_dump_detect(head, sizeof(head)), PT_DUMP_FLATTENED);
	assert_string_equal(pt_dump_format_name(PT_DUMP_FLATTENED), "flattened");
}

/** libptwalk alone recognises a kdump file and says which library opens it. */
static void test_dump_open_says_libptkdump(void **state)
{
	struct made m;
	struct pt_dump *d = NULL;
	struct pt_error err;
	struct pt_dump_open_opts raw = { .force_raw = true };

	(void)state;
	make_good(&m, "plain.kdump", PT_KDUMP_SNAPPY);
	assert_int_equal(pt_dump_open(m.path, NULL, &d, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, "pt_kdump_open_dump (libptkdump)"));
	/* --raw-dump still reads any file flat, through either opener */
	assert_int_equal(pt_kdump_open_dump(m.path, &raw, &d, &err), PT_OK);
	assert_int_equal(pt_dump_format(d), PT_DUMP_RAW);
	pt_dump_close(d);
}

/* ---- pt_dump_open_reader ------------------------------------------------------------------------ */

static int closes;
static uint8_t fake_mem[2 * PAGE];

static const void *fake_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	(void)mem;
	return pa >= 0x10000 && pa - 0x10000 + len <= sizeof(fake_mem) ? fake_mem + (pa - 0x10000) : NULL;
}

static void fake_close(void *opaque)
{
	assert_ptr_equal(opaque, fake_mem);
	closes++;
}

static size_t fake_errors(void *opaque, struct pt_error *first_ret)
{
	(void)opaque;
	if (first_ret)
		pt_error_set(first_ret, "fake", 0x1234, "bad page");
	return 7;
}

static void test_reader_api(void **state)
{
	/* a QEMU note (QEMUCPUState, 440 bytes) with CR0.PG | PE, CR3 0x10000, CR4.PAE */
	uint8_t notes[12 + 8 + 440];
	struct pt_dump_range ranges[2] = { { 0x10000, PAGE, PT_DUMP_NO_FILE_OFF },
					   { 0x11000, PAGE, PT_DUMP_NO_FILE_OFF } };
	struct pt_dump_reader rd = { .format = PT_DUMP_KDUMP, .mem = { fake_ptr, fake_mem },
				     .ranges = ranges, .nranges = 2, .machine = 62,
				     .notes = notes, .notes_size = sizeof(notes), .notes_file_off = 0x2000,
				     .vmcoreinfo = "OSRELEASE=x\n", .vmcoreinfo_len = 12,
				     .read_errors = fake_errors, .close = fake_close };
	struct pt_dump *d = NULL;
	struct pt_error err, first;
	struct pt_cpu_state cpu;
	char buf[8];
	size_t nnotes;

	(void)state;
	memset(notes, 0, sizeof(notes));
	pt_le_put(notes, 5, 4);
	pt_le_put(notes + 4, 440, 4);
	memcpy(notes + 12, "QEMU", 5);
	pt_le_put(notes + 20 + 392, 0x80000011, 8);
	pt_le_put(notes + 20 + 392 + 24, 0x10000, 8);
	pt_le_put(notes + 20 + 392 + 32, 0x20, 8);
	closes = 0;
	assert_int_equal(pt_dump_open_reader("fake.kdump", &rd, &d, &err), PT_OK);
	assert_int_equal(pt_dump_cpu(d, &cpu), PT_CPU_QEMU);
	assert_int_equal(cpu.cr3, 0x10000);
	assert_int_equal(cpu.efer & PT_BIT(EFER_BIT_LMA), PT_BIT(EFER_BIT_LMA)); /* machine 62 */
	assert_true(pt_dump_vmcoreinfo_get(d, "OSRELEASE", buf, sizeof(buf)));
	assert_string_equal(buf, "x");
	assert_non_null(pt_dump_notes(d, &nnotes));
	assert_int_equal(nnotes, sizeof(notes));
	assert_int_equal(pt_dump_read_errors(d, &first), 7);
	assert_string_equal(first.message, "fake: offset 0x1234: bad page");
	assert_ptr_equal(pt_dump_mem(d)->ptr(pt_dump_mem(d), 0x10ff8, 16), fake_mem + 0xff8);
	assert_int_equal(pt_dump_phys_end(d), 0x12000);
	assert_int_equal(closes, 0);
	pt_dump_close(d);
	assert_int_equal(closes, 1);

	/* lying ranges and notes: PT_EINVAL, and the reader is closed exactly once */
	ranges[1].pa = 0x10800;
	assert_int_equal(pt_dump_open_reader("fake.kdump", &rd, &d, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, "is below the end of range 0"));
	assert_int_equal(closes, 2);
	ranges[1].pa = 0x11000;
	pt_le_put(notes + 4, 1000, 4); /* n_descsz past the notes */
	assert_int_equal(pt_dump_open_reader("fake.kdump", &rd, &d, &err), PT_EINVAL);
	assert_string_equal(err.message, "fake.kdump: offset 0x2000: note descriptor: n_descsz 1000 "
			    "runs past the end of the PT_NOTE segment at 0x21cc");
	assert_int_equal(closes, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_zlib),
		cmocka_unit_test(test_roundtrip_lzo),
		cmocka_unit_test(test_roundtrip_snappy),
		cmocka_unit_test(test_roundtrip_zstd),
		cmocka_unit_test(test_roundtrip_i386),
		cmocka_unit_test(test_kdump_to_kdump),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt_page),
		cmocka_unit_test(test_flattened),
		cmocka_unit_test(test_dump_open_says_libptkdump),
		cmocka_unit_test(test_reader_api),
	};

	build_memory();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
