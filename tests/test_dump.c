/* SPDX-License-Identifier: MIT */
/*
 * test_dump.c: the dump readers (raw, ELF32/ELF64 cores, LiME) and the ELF-core writer.
 *
 * Cores are written with pt_core_write, or by hand where the writer cannot produce the case
 * (ELF32, lying headers: a valid core is written, then single fields are patched). Every test
 * asserts an exact outcome: the ranges and bytes read back, or PT_EINVAL with the message
 * "PATH: offset 0xN: ..." naming the exact header or field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ptlab/dump.h"
#include "ptlab/le.h"
#include "tmpdir.h"

/* ---- Fixture: a temporary directory -------------------------------------------------- */

static char tmpdir[256];

static int group_setup(void **state)
{
	(void)state;
	return ts_tmpdir_create(tmpdir, sizeof(tmpdir), "dump");
}

static int group_teardown(void **state)
{
	(void)state;
	return ts_tmpdir_remove(tmpdir);
}

/** buf = tmpdir/name. */
static char *tpath(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
	return buf;
}

/* ---- File helpers --------------------------------------------------------------------- */

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/** The whole file (malloc'ed) and its size. */
static uint8_t *slurp(const char *path, size_t *len_ret)
{
	struct stat sb;
	uint8_t *buf;
	FILE *f;

	assert_int_equal(stat(path, &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	assert_non_null(buf);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, (size_t)sb.st_size, f), (size_t)sb.st_size);
	fclose(f);
	*len_ret = (size_t)sb.st_size;
	return buf;
}

static uint64_t file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return (uint64_t)sb.st_size;
}

/** Overwrite `n` little-endian bytes of `v` at `off`. */
static void patch_le(const char *path, uint64_t off, uint64_t v, unsigned n)
{
	uint8_t b[8];
	FILE *f = fopen(path, "r+b");
	unsigned i;

	assert_non_null(f);
	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	assert_int_equal(fwrite(b, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/** Deterministic, position-dependent bytes (no two pages alike). */
static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8) * 13u + 1u);
}

/* ---- Dump helpers --------------------------------------------------------------------- */

static struct pt_dump *open_ok(const char *path)
{
	struct pt_dump *d = NULL;
	struct pt_error err;
	enum pt_status st = pt_dump_open(path, NULL, &d, &err);

	if (st != PT_OK)
		fail_msg("open %s: status %d: %s", path, (int)st, err.message);
	assert_non_null(d);
	return d;
}

/**
 * Open must fail with PT_EINVAL, err.offset == off and the message
 * "PATH: offset 0xOFF: ...reason..." (or "PATH: ...reason..." when off is UINT64_MAX).
 */
static void expect_fail(const char *path, uint64_t off, const char *reason)
{
	struct pt_dump *d = (struct pt_dump *)1;
	struct pt_error err;
	char prefix[600];
	enum pt_status st = pt_dump_open(path, NULL, &d, &err);

	if (st != PT_EINVAL)
		fail_msg("open %s: expected PT_EINVAL, got %d", path, (int)st);
	assert_null(d);
	if (off == UINT64_MAX)
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	else
		snprintf(prefix, sizeof(prefix), "%s: offset 0x%" PRIx64 ": ", path, off);
	if (strncmp(err.message, prefix, strlen(prefix)) != 0)
		fail_msg("message '%s' does not start with '%s'", err.message, prefix);
	if (!strstr(err.message, reason))
		fail_msg("message '%s' does not contain '%s'", err.message, reason);
	assert_int_equal(err.offset, off);
	assert_true(strlen(err.message) < sizeof(err.message));
}

static const uint8_t *rd(const struct pt_dump *d, uint64_t pa, size_t len)
{
	const struct pt_mem *mem = pt_dump_mem(d);

	return mem->ptr(mem, pa, len);
}

/* ---- A standard core ------------------------------------------------------------------ */

/* Two segments: [0, 0x3000) and [0x10000, 0x12000). */
static uint8_t seg0[0x3000], seg1[0x2000];
static const uint64_t SEG0_PA = 0, SEG1_PA = 0x10000;

static const char VMCI[] = "OSRELEASE=6.1.0-56-amd64\n"
			   "PAGESIZE=4096\n"
			   "SYMBOL(init_top_pgt)=ffffffff82a10000\n"
			   "SYMBOL(init_top_pgt_x)=1\n"
			   "NUMBER(phys_base)=0\n"
			   "KERNELOFFSET=39c00000\n";

static const uint64_t CR4_PGE = 1u << 7;
static const uint64_t EFER_LONG = (1u << 8) | (1u << 10) | (1u << 11);

static struct pt_cpu_state std_cpu(void)
{
	struct pt_cpu_state c = {
		.cr0 = CR0_PG | CR0_WP | CR0_PE | 0x32,
		.cr3 = 0x2a10000,
		.cr4 = CR4_PAE | CR4_PGE | 0x6f0 | (1u << 12),
		.efer = EFER_LONG | 1,
		.rflags = 0x40246,
		.pkru = 0x55555554,
		.maxphyaddr = 46,
		.cbit = 47,
	};
	return c;
}

/** Write the standard core to `path`; `cpu` may be NULL. */
static void write_std_core(const char *path, unsigned machine, const struct pt_cpu_state *cpu,
			   bool ptlab, const char *vmcoreinfo)
{
	const struct pt_core_segment segs[2] = {
		{ .pa = SEG0_PA, .size = sizeof(seg0), .data = seg0 },
		{ .pa = SEG1_PA, .size = sizeof(seg1), .data = seg1 },
	};
	struct pt_core_desc desc = {
		.machine = machine,
		.segments = segs,
		.nsegments = 2,
		.cpu = cpu,
		.ptlab_note = ptlab,
		.vmcoreinfo = vmcoreinfo,
	};
	struct pt_error err;

	if (pt_core_write(path, &desc, &err) != PT_OK)
		fail_msg("pt_core_write: %s", err.message);
}

/* Offsets in a standard core: ELF64 header, phdrs at 0x40; with notes phdr[0] is PT_NOTE. */
static const uint64_t PHOFF = 0x40, PHSZ = 56;
static const uint64_t P_OFFSET = 8, P_PADDR = 24, P_FILESZ = 32, P_MEMSZ = 40;
static const uint64_t QEMU_NOTE_LEN = 12 + 8 + 440, PTLAB_NOTE_LEN = 12 + 8 + 72;

static int setup_data(void **state)
{
	(void)state;
	fill(seg0, sizeof(seg0), 1);
	fill(seg1, sizeof(seg1), 2);
	return 0;
}

/* ---- Raw images ----------------------------------------------------------------------- */

static void test_raw(void **state)
{
	uint8_t img[8192];
	char path[512];
	struct pt_dump *d;
	const struct pt_dump_range *r;
	struct pt_cpu_state cpu;
	size_t n, len;

	(void)state;
	fill(img, sizeof(img), 3);
	img[0] = 'M'; /* not a magic */
	write_bytes(tpath(path, sizeof(path), "raw.img"), img, sizeof(img));
	d = open_ok(path);
	assert_int_equal(pt_dump_format(d), PT_DUMP_RAW);
	assert_string_equal(pt_dump_format_name(pt_dump_format(d)), "raw");
	assert_string_equal(pt_dump_path(d), path);
	assert_int_equal(pt_dump_elf_machine(d), 0);
	r = pt_dump_ranges(d, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].pa, 0);
	assert_int_equal(r[0].size, sizeof(img));
	assert_int_equal(r[0].file_off, 0);
	assert_int_equal(pt_dump_phys_end(d), sizeof(img));

	assert_non_null(rd(d, 0, 1));
	assert_memory_equal(rd(d, 0, 8), img, 8);
	assert_memory_equal(rd(d, 0, sizeof(img)), img, sizeof(img));
	assert_memory_equal(rd(d, 8191, 1), img + 8191, 1);
	assert_memory_equal(rd(d, 8184, 8), img + 8184, 8);
	assert_null(rd(d, 8191, 2));
	assert_null(rd(d, 8185, 8));
	assert_null(rd(d, 8192, 1));
	assert_null(rd(d, 0, sizeof(img) + 1));
	assert_null(rd(d, UINT64_MAX, 1));
	assert_null(rd(d, 8, SIZE_MAX));
	assert_null(rd(d, UINT64_MAX - 3, 8));

	assert_int_equal(pt_dump_cpu(d, &cpu), PT_CPU_NONE);
	assert_null(pt_dump_vmcoreinfo(d, &len));
	assert_int_equal(len, 0);
	assert_false(pt_dump_vmcoreinfo_get(d, "OSRELEASE", (char[8]){ 0 }, 8));
	pt_dump_close(d);
}

static void test_force_raw(void **state)
{
	struct pt_dump_open_opts opts = { .force_raw = true };
	struct pt_dump *d = NULL;
	struct pt_error err;
	char path[512];

	(void)state;
	write_std_core(tpath(path, sizeof(path), "forceraw.core"), 62, NULL, false, NULL);
	assert_int_equal(pt_dump_open(path, &opts, &d, &err), PT_OK);
	assert_int_equal(pt_dump_format(d), PT_DUMP_RAW);
	assert_memory_equal(rd(d, 0, 4), "\177ELF", 4);
	assert_int_equal(pt_dump_phys_end(d), file_size(path));
	assert_int_equal(pt_dump_elf_machine(d), 0);
	pt_dump_close(d);
}

static void test_bad_files(void **state)
{
	char path[512];

	(void)state;
	write_bytes(tpath(path, sizeof(path), "empty"), "", 0);
	expect_fail(path, UINT64_MAX, "empty file");
	expect_fail(tpath(path, sizeof(path), "does-not-exist"), UINT64_MAX, "cannot open");
	expect_fail(tmpdir, UINT64_MAX, "not a regular file");
	pt_dump_close(NULL);
	assert_string_equal(pt_dump_format_name(PT_DUMP_ELF), "elf");
	assert_string_equal(pt_dump_format_name(PT_DUMP_LIME), "lime");
}

/* ---- ELF64 cores written by pt_core_write --------------------------------------------- */

/** The standard segments are in the dump, byte for byte, and nothing else is. */
static void check_std_ranges(const struct pt_dump *d)
{
	const struct pt_dump_range *r;
	size_t n;

	r = pt_dump_ranges(d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].pa, SEG0_PA);
	assert_int_equal(r[0].size, sizeof(seg0));
	assert_int_equal(r[0].file_off % 4096, 0);
	assert_int_equal(r[1].pa, SEG1_PA);
	assert_int_equal(r[1].size, sizeof(seg1));
	assert_int_equal(r[1].file_off % 4096, 0);
	assert_int_equal(pt_dump_phys_end(d), SEG1_PA + sizeof(seg1));

	assert_memory_equal(rd(d, SEG0_PA, sizeof(seg0)), seg0, sizeof(seg0));
	assert_memory_equal(rd(d, SEG1_PA, sizeof(seg1)), seg1, sizeof(seg1));
	assert_memory_equal(rd(d, 0x2ff8, 8), seg0 + 0x2ff8, 8);
	assert_memory_equal(rd(d, 0x11000, 8), seg1 + 0x1000, 8);
	assert_null(rd(d, 0x2ff8, 9));   /* runs into the gap */
	assert_null(rd(d, 0x3000, 1));   /* the gap */
	assert_null(rd(d, 0xfff8, 8));
	assert_null(rd(d, 0xfff8, 16));  /* crosses into segment 1 */
	assert_null(rd(d, 0x11ff8, 16)); /* past the end */
	assert_null(rd(d, 0x12000, 1));
	assert_null(rd(d, UINT64_MAX, 1));
}

static void test_elf64_qemu_note(void **state)
{
	struct pt_cpu_state in = std_cpu(), out;
	struct pt_dump *d;
	char path[512], buf[64];
	const char *vmci;
	size_t len;

	(void)state;
	write_std_core(tpath(path, sizeof(path), "qemu.core"), 62, &in, false, VMCI);
	d = open_ok(path);
	assert_int_equal(pt_dump_format(d), PT_DUMP_ELF);
	assert_int_equal(pt_dump_elf_machine(d), 62);
	check_std_ranges(d);

	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_QEMU);
	assert_int_equal(out.cr0, in.cr0);
	assert_int_equal(out.cr3, in.cr3);
	assert_int_equal(out.cr4, in.cr4);
	assert_int_equal(out.rflags, in.rflags);
	assert_int_equal(out.efer, EFER_LONG); /* inferred: not SCE */
	assert_int_equal(out.maxphyaddr, 52);
	assert_int_equal(out.cbit, 0);
	assert_int_equal(out.pkru, 0);

	vmci = pt_dump_vmcoreinfo(d, &len);
	assert_non_null(vmci);
	assert_int_equal(len, strlen(VMCI));
	assert_memory_equal(vmci, VMCI, len);
	assert_true(pt_dump_vmcoreinfo_get(d, "SYMBOL(init_top_pgt)", buf, sizeof(buf)));
	assert_string_equal(buf, "ffffffff82a10000");
	assert_true(pt_dump_vmcoreinfo_get(d, "KERNELOFFSET", buf, sizeof(buf)));
	assert_string_equal(buf, "39c00000");
	assert_true(pt_dump_vmcoreinfo_get(d, "OSRELEASE", buf, sizeof(buf)));
	assert_string_equal(buf, "6.1.0-56-amd64");
	assert_true(pt_dump_vmcoreinfo_get(d, "NUMBER(phys_base)", buf, sizeof(buf)));
	assert_string_equal(buf, "0");
	assert_true(pt_dump_vmcoreinfo_get(d, "SYMBOL(init_top_pgt_x)", buf, sizeof(buf)));
	assert_string_equal(buf, "1");
	/* exact keys only */
	assert_false(pt_dump_vmcoreinfo_get(d, "SYMBOL(init_top", buf, sizeof(buf)));
	assert_string_equal(buf, "");
	assert_false(pt_dump_vmcoreinfo_get(d, "RELEASE", buf, sizeof(buf)));
	assert_false(pt_dump_vmcoreinfo_get(d, "KERNELOFFSET=39c00000", buf, sizeof(buf)));
	assert_false(pt_dump_vmcoreinfo_get(d, "", buf, sizeof(buf)));
	assert_false(pt_dump_vmcoreinfo_get(d, "MISSING", buf, sizeof(buf)));
	/* a value that does not fit is not cut off */
	assert_false(pt_dump_vmcoreinfo_get(d, "KERNELOFFSET", buf, 8));
	assert_string_equal(buf, "");
	assert_true(pt_dump_vmcoreinfo_get(d, "KERNELOFFSET", buf, 9));
	assert_string_equal(buf, "39c00000");
	assert_true(pt_dump_vmcoreinfo_get(d, "PAGESIZE", NULL, 0));
	pt_dump_close(d);
}

static void test_elf64_ptlab_note(void **state)
{
	struct pt_cpu_state in = std_cpu(), out;
	struct pt_dump *d;
	char path[512];

	(void)state;
	write_std_core(tpath(path, sizeof(path), "ptlab.core"), 62, &in, true, NULL);
	d = open_ok(path);
	check_std_ranges(d);
	assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_PTLAB);
	assert_int_equal(out.cr0, in.cr0);
	assert_int_equal(out.cr3, in.cr3);
	assert_int_equal(out.cr4, in.cr4);
	assert_int_equal(out.efer, in.efer);
	assert_int_equal(out.rflags, in.rflags);
	assert_int_equal(out.pkru, in.pkru);
	assert_int_equal(out.maxphyaddr, 46);
	assert_int_equal(out.cbit, 47);
	assert_null(pt_dump_vmcoreinfo(d, NULL));
	pt_dump_close(d);

	/* maxphyaddr 0 in the note means unknown: 52 */
	{
		uint64_t ptlab = PHOFF + 3 * PHSZ + QEMU_NOTE_LEN; /* PT_NOTE + 2 PT_LOAD */

		patch_le(path, ptlab + 20 + 52, 0, 1);
		d = open_ok(path);
		assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_PTLAB);
		assert_int_equal(out.maxphyaddr, 52);
		pt_dump_close(d);

		/* a bad version is a lying note */
		patch_le(path, ptlab + 20, 0, 4);
		expect_fail(path, ptlab, "PTLAB note");
	}
}

static void test_qemu_efer_inference(void **state)
{
	struct pt_cpu_state in = std_cpu(), out;
	struct pt_dump *d;
	char path[512];

	(void)state;
	/* 64-bit machine, paging without PAE: not long mode */
	in.cr4 &= ~CR4_PAE;
	write_std_core(tpath(path, sizeof(path), "nopae.core"), 62, &in, false, NULL);
	d = open_ok(path);
	assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_QEMU);
	assert_int_equal(out.efer, 0);
	pt_dump_close(d);

	/* paging off */
	in = std_cpu();
	in.cr0 &= ~CR0_PG;
	write_std_core(path, 62, &in, false, NULL);
	d = open_ok(path);
	assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_QEMU);
	assert_int_equal(out.efer, 0);
	pt_dump_close(d);

	/* EM_386 with PAE paging: no long mode, NXE taken as set; the PDPTE Accessed bit QEMU
	 * writes is declared */
	in = std_cpu();
	write_std_core(path, 3, &in, false, NULL);
	d = open_ok(path);
	assert_int_equal(pt_dump_elf_machine(d), 3);
	assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_QEMU);
	assert_int_equal(out.cr4, in.cr4);
	assert_int_equal(out.efer, UINT64_C(1) << 11);
	assert_int_equal(out.pdpte_written_by_dumper, PT_QEMU_PDPTE_A);
	assert_int_equal(out.maxphyaddr, 52);
	pt_dump_close(d);
}

static void test_em386(void **state)
{
	struct pt_cpu_state in = std_cpu(), out;
	struct pt_dump *d;
	char path[512];

	(void)state;
	in.cr4 = CR4_PSE;
	in.cr0 = CR0_PG | CR0_PE;
	in.efer = 0;
	write_std_core(tpath(path, sizeof(path), "i386.core"), 3, &in, true, NULL);
	d = open_ok(path);
	assert_int_equal(pt_dump_format(d), PT_DUMP_ELF);
	assert_int_equal(pt_dump_elf_machine(d), 3);
	check_std_ranges(d);
	assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_PTLAB);
	assert_int_equal(out.cr0, in.cr0);
	assert_int_equal(out.cr4, CR4_PSE);
	assert_int_equal(out.efer, 0);
	pt_dump_close(d);
}

static void test_no_segments(void **state)
{
	struct pt_core_desc desc = { .machine = 62 };
	struct pt_cpu_state out;
	struct pt_error err;
	struct pt_dump *d;
	char path[512];
	size_t n = 99;

	(void)state;
	assert_int_equal(pt_core_write(tpath(path, sizeof(path), "none.core"), &desc, &err), PT_OK);
	assert_int_equal(file_size(path), 64);
	d = open_ok(path);
	pt_dump_ranges(d, &n);
	assert_int_equal(n, 0);
	assert_int_equal(pt_dump_phys_end(d), 0);
	assert_null(rd(d, 0, 1));
	assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_NONE);
	pt_dump_close(d);
}

static void test_write_errors(void **state)
{
	const struct pt_core_segment seg = { .pa = UINT64_MAX - 1, .size = 4, .data = seg0 };
	const struct pt_core_segment nodata = { .pa = 0, .size = 4, .data = NULL };
	struct pt_core_desc desc = { .machine = 40 };
	struct pt_error err;
	char path[512], bad[600];

	(void)state;
	tpath(path, sizeof(path), "werr.core");
	assert_int_equal(pt_core_write(path, &desc, &err), PT_EINVAL);
	assert_int_equal(strncmp(err.message, path, strlen(path)), 0);
	assert_non_null(strstr(err.message, "machine 40"));
	assert_int_equal(err.offset, UINT64_MAX);

	desc.machine = 62;
	desc.segments = &seg;
	desc.nsegments = 1;
	assert_int_equal(pt_core_write(path, &desc, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, "overflows"));
	desc.segments = &nodata;
	assert_int_equal(pt_core_write(path, &desc, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, "no data"));

	desc.nsegments = 0;
	snprintf(bad, sizeof(bad), "%s/no-such-dir/x.core", tmpdir);
	assert_int_equal(pt_core_write(bad, &desc, &err), PT_EINVAL);
	assert_int_equal(strncmp(err.message, bad, strlen(bad)), 0);
	assert_non_null(strstr(err.message, "cannot create"));
}

/* ---- Hand-made and patched cores ------------------------------------------------------- */

static void test_elf32_handcrafted(void **state)
{
	uint8_t f[0x480] = { 0 };
	uint8_t *qemu;
	struct pt_cpu_state out;
	const struct pt_dump_range *r;
	struct pt_dump *d;
	char path[512];
	size_t n;

	(void)state;
	/* ELF32 header */
	memcpy(f, "\177ELF\001\001\001", 7);
	put_le(f + 16, 4, 2);  /* ET_CORE */
	put_le(f + 18, 3, 2);  /* EM_386 */
	put_le(f + 20, 1, 4);
	put_le(f + 28, 52, 4); /* e_phoff */
	put_le(f + 40, 52, 2);
	put_le(f + 42, 32, 2); /* e_phentsize */
	put_le(f + 44, 3, 2);  /* e_phnum */
	/* PT_NOTE: notes at 148, QEMU note (460) + CORE note (36) */
	put_le(f + 52, 4, 4);
	put_le(f + 52 + 4, 148, 4);
	put_le(f + 52 + 16, 460 + 36, 4);
	/* PT_LOAD pa 0x1000, 0x100 bytes at 0x300 */
	put_le(f + 84, 1, 4);
	put_le(f + 84 + 4, 0x300, 4);
	put_le(f + 84 + 12, 0x1000, 4);
	put_le(f + 84 + 16, 0x100, 4);
	put_le(f + 84 + 20, 0x100, 4);
	/* PT_LOAD pa 0x5000, filesz 0x80, memsz 0x200 at 0x400 */
	put_le(f + 116, 1, 4);
	put_le(f + 116 + 4, 0x400, 4);
	put_le(f + 116 + 12, 0x5000, 4);
	put_le(f + 116 + 16, 0x80, 4);
	put_le(f + 116 + 20, 0x200, 4);
	/* QEMU note */
	put_le(f + 148, 5, 4);
	put_le(f + 152, 440, 4);
	put_le(f + 156, 0, 4);
	memcpy(f + 160, "QEMU", 5);
	qemu = f + 168;
	put_le(qemu, 1, 4);
	put_le(qemu + 4, 440, 4);
	put_le(qemu + 144, 0x40002, 8);           /* rflags */
	put_le(qemu + 392, CR0_PG | CR0_PE, 8);   /* cr0 */
	put_le(qemu + 392 + 16, 0xdeadbeef, 8);   /* cr2: ignored */
	put_le(qemu + 392 + 24, 0x9000, 8);       /* cr3 */
	put_le(qemu + 392 + 32, CR4_PSE, 8);      /* cr4 */
	/* CORE NT_PRSTATUS note (ignored) */
	put_le(f + 608, 5, 4);
	put_le(f + 612, 16, 4);
	put_le(f + 616, 1, 4);
	memcpy(f + 620, "CORE", 5);
	memset(f + 628, 0xee, 16);
	fill(f + 0x300, 0x100, 5);
	fill(f + 0x400, 0x80, 6);

	write_bytes(tpath(path, sizeof(path), "elf32.core"), f, sizeof(f));
	d = open_ok(path);
	assert_int_equal(pt_dump_format(d), PT_DUMP_ELF);
	assert_int_equal(pt_dump_elf_machine(d), 3);
	r = pt_dump_ranges(d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].pa, 0x1000);
	assert_int_equal(r[0].size, 0x100);
	assert_int_equal(r[0].file_off, 0x300);
	assert_int_equal(r[1].pa, 0x5000);
	assert_int_equal(r[1].size, 0x80);
	assert_int_equal(r[1].file_off, 0x400);
	assert_memory_equal(rd(d, 0x1000, 0x100), f + 0x300, 0x100);
	assert_memory_equal(rd(d, 0x5078, 8), f + 0x478, 8);
	assert_null(rd(d, 0x5080, 1)); /* in p_memsz, not in p_filesz: not in dump */
	assert_null(rd(d, 0x51f8, 8));
	assert_int_equal(pt_dump_phys_end(d), 0x5080);
	assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_QEMU);
	assert_int_equal(out.cr0, CR0_PG | CR0_PE);
	assert_int_equal(out.cr3, 0x9000);
	assert_int_equal(out.cr4, CR4_PSE);
	assert_int_equal(out.rflags, 0x40002);
	assert_int_equal(out.efer, 0);
	pt_dump_close(d);

	/* ELF32 lies: e_phentsize, a segment past the end of the file */
	put_le(f + 42, 56, 2);
	write_bytes(path, f, sizeof(f));
	expect_fail(path, 42, "e_phentsize 56");
	put_le(f + 42, 32, 2);
	put_le(f + 116 + 16, 0x81, 4);
	write_bytes(path, f, sizeof(f));
	expect_fail(path, 116, "runs past end of file");
	put_le(f + 116 + 16, 0x80, 4);
	put_le(f + 116 + 12, 0xffffff90, 4); /* 32-bit p_paddr + p_filesz fits in 64 bits */
	write_bytes(path, f, sizeof(f));
	d = open_ok(path);
	assert_int_equal(pt_dump_phys_end(d), UINT64_C(0x100000010));
	pt_dump_close(d);
}

static void test_memsz_tail(void **state)
{
	const struct pt_dump_range *r;
	struct pt_dump *d;
	char path[512];
	size_t n;

	(void)state;
	write_std_core(tpath(path, sizeof(path), "memsz.core"), 62, NULL, false, NULL);
	patch_le(path, PHOFF + 1 * PHSZ + P_MEMSZ, 0x8000, 8);
	d = open_ok(path);
	r = pt_dump_ranges(d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[1].size, sizeof(seg1));
	assert_memory_equal(rd(d, 0x11ff8, 8), seg1 + 0x1ff8, 8);
	assert_null(rd(d, 0x12000, 8));
	assert_null(rd(d, 0x17ff8, 8));
	assert_int_equal(pt_dump_phys_end(d), 0x12000);
	pt_dump_close(d);

	/* a PT_LOAD with p_filesz 0 (all of it in p_memsz) is skipped, whatever its offset */
	patch_le(path, PHOFF + 1 * PHSZ + P_FILESZ, 0, 8);
	patch_le(path, PHOFF + 1 * PHSZ + P_OFFSET, UINT64_MAX, 8);
	d = open_ok(path);
	pt_dump_ranges(d, &n);
	assert_int_equal(n, 1);
	assert_null(rd(d, 0x10000, 1));
	assert_int_equal(pt_dump_phys_end(d), 0x3000);
	pt_dump_close(d);
}

static void test_pn_xnum(void **state)
{
	enum { NSEG = 70000 };
	struct pt_core_segment *segs = calloc(NSEG, sizeof(*segs));
	uint8_t *data = malloc((size_t)NSEG * 8), hdr[256];
	struct pt_core_desc desc = { .machine = 62, .segments = segs, .nsegments = NSEG };
	struct pt_cpu_state in = std_cpu(), out;
	const struct pt_dump_range *r;
	struct pt_error err;
	struct pt_dump *d;
	char path[512];
	size_t i, n;
	FILE *f;

	(void)state;
	assert_non_null(segs);
	assert_non_null(data);
	fill(data, (size_t)NSEG * 8, 7);
	for (i = 0; i < NSEG; i++) {
		/* in reverse PA order: the reader sorts */
		segs[i].pa = (uint64_t)(NSEG - 1 - i) * 0x1000 + 0x10;
		segs[i].size = 8;
		segs[i].data = data + i * 8;
	}
	desc.cpu = &in;
	assert_int_equal(pt_core_write(tpath(path, sizeof(path), "xnum.core"), &desc, &err), PT_OK);

	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	fclose(f);
	assert_int_equal(get_le(hdr + 56, 2), 0xffff); /* e_phnum = PN_XNUM */
	assert_int_equal(get_le(hdr + 40, 8), 64);     /* e_shoff */
	assert_int_equal(get_le(hdr + 64 + 44, 4), NSEG + 1); /* sh_info: PT_NOTE + PT_LOADs */

	d = open_ok(path);
	r = pt_dump_ranges(d, &n);
	assert_int_equal(n, NSEG);
	for (i = 0; i < n; i++) {
		assert_int_equal(r[i].pa, (uint64_t)i * 0x1000 + 0x10);
		assert_int_equal(r[i].size, 8);
	}
	for (i = 0; i < NSEG; i += 997) {
		assert_memory_equal(rd(d, segs[i].pa, 8), data + i * 8, 8);
		assert_null(rd(d, segs[i].pa + 8, 1));
		assert_null(rd(d, segs[i].pa - 1, 1));
		assert_null(rd(d, segs[i].pa + 4, 8));
	}
	assert_int_equal(pt_dump_phys_end(d), (uint64_t)(NSEG - 1) * 0x1000 + 0x18);
	assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_QEMU);
	assert_int_equal(out.cr3, in.cr3);
	pt_dump_close(d);
	remove(path);
	free(segs);
	free(data);
}

static void test_pn_xnum_lies(void **state)
{
	char path[512];
	uint64_t size;

	(void)state;
	write_std_core(tpath(path, sizeof(path), "xnumlie.core"), 62, NULL, false, NULL);
	size = file_size(path);
	patch_le(path, 56, 0xffff, 2);
	expect_fail(path, 40, "PN_XNUM");             /* e_shoff 0 */
	patch_le(path, 40, size - 10, 8);
	expect_fail(path, 58, "e_shentsize 0");      /* the writer left it 0 */
	patch_le(path, 58, 64, 2);
	expect_fail(path, size - 10, "section header 0 runs past end of file");
	/* section header 0 at 0x1000 (segment 0's data): sh_info is the count there */
	patch_le(path, 40, 0x1000, 8);
	expect_fail(path, 0x1000 + 44, "absurd program header count");
}

/* ---- Overlapping segments ------------------------------------------------------------- */

static void test_overlap_identical(void **state)
{
	uint8_t x[0x4000], c[0x3000];
	const struct pt_core_segment segs[] = {
		{ .pa = 0x1000, .size = 0x1000, .data = x + 0x1000 }, /* inside A (kernel text) */
		{ .pa = 0, .size = 0x4000, .data = x },               /* A */
		{ .pa = 0x3000, .size = 0x3000, .data = c },          /* tail of A, then more */
		{ .pa = 0, .size = 0x4000, .data = x },               /* A again */
	};
	struct pt_core_desc desc = { .machine = 62, .segments = segs, .nsegments = 4 };
	const struct pt_dump_range *r;
	struct pt_error err;
	struct pt_dump *d;
	char path[512];
	size_t n;

	(void)state;
	fill(x, sizeof(x), 8);
	memcpy(c, x + 0x3000, 0x1000);
	fill(c + 0x1000, 0x2000, 9);
	assert_int_equal(pt_core_write(tpath(path, sizeof(path), "ovl.core"), &desc, &err), PT_OK);
	d = open_ok(path);
	r = pt_dump_ranges(d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].pa, 0);
	assert_int_equal(r[0].size, 0x4000);
	assert_int_equal(r[1].pa, 0x4000);
	assert_int_equal(r[1].size, 0x2000);
	assert_memory_equal(rd(d, 0, 0x4000), x, 0x4000);
	assert_memory_equal(rd(d, 0x4000, 0x2000), c + 0x1000, 0x2000);
	assert_null(rd(d, 0x6000, 1));
	assert_int_equal(pt_dump_phys_end(d), 0x6000);
	pt_dump_close(d);
}

static void test_overlap_coalesce(void **state)
{
	const struct pt_core_segment segs[] = {
		{ .pa = 0, .size = 0x1000, .data = seg0 },
		{ .pa = 0x1000, .size = 0x2000, .data = seg0 + 0x1000 },
	};
	struct pt_core_desc desc = { .machine = 62, .segments = segs, .nsegments = 2 };
	const struct pt_dump_range *r;
	struct pt_error err;
	struct pt_dump *d;
	char path[512];
	size_t n;

	(void)state;
	/* page-sized segments contiguous in PA and in the file become one range */
	assert_int_equal(pt_core_write(tpath(path, sizeof(path), "coal.core"), &desc, &err), PT_OK);
	d = open_ok(path);
	r = pt_dump_ranges(d, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].size, 0x3000);
	assert_memory_equal(rd(d, 0xff8, 16), seg0 + 0xff8, 16);
	pt_dump_close(d);
}

static void test_overlap_different(void **state)
{
	uint8_t x[0x2000], y[0x2000];
	struct pt_core_segment segs[] = {
		{ .pa = 0, .size = 0x2000, .data = x },
		{ .pa = 0x1000, .size = 0x2000, .data = y },
	};
	struct pt_core_desc desc = { .machine = 62, .segments = segs, .nsegments = 2 };
	struct pt_error err;
	char path[512];

	(void)state;
	fill(x, sizeof(x), 10);
	memcpy(y, x + 0x1000, 0x1000);
	fill(y + 0x1000, 0x1000, 11);
	y[0x800] ^= 1; /* PA 0x1800 differs */
	assert_int_equal(pt_core_write(tpath(path, sizeof(path), "ovld.core"), &desc, &err), PT_OK);
	expect_fail(path, PHOFF + PHSZ, "different bytes (first at PA 0x1800)");

	/* the later header overlaps first in PA order: the higher segment is still the one named */
	segs[0] = (struct pt_core_segment){ .pa = 0x1000, .size = 0x2000, .data = y };
	segs[1] = (struct pt_core_segment){ .pa = 0, .size = 0x2000, .data = x };
	assert_int_equal(pt_core_write(path, &desc, &err), PT_OK);
	expect_fail(path, PHOFF, "different bytes (first at PA 0x1800)");

	/* same PA, same size, one byte different at the end */
	memcpy(y, x, 0x2000);
	y[0x1fff] ^= 0x80;
	segs[0] = (struct pt_core_segment){ .pa = 0, .size = 0x2000, .data = x };
	segs[1] = (struct pt_core_segment){ .pa = 0, .size = 0x2000, .data = y };
	assert_int_equal(pt_core_write(path, &desc, &err), PT_OK);
	expect_fail(path, PHOFF + PHSZ, "first at PA 0x1fff");
}

/* ---- Lying headers -------------------------------------------------------------------- */

/** A fresh copy of the standard core without notes (phdr 0 at 0x40, phdr 1 at 0x78). */
static const char *plain_core(char *path, size_t size)
{
	write_std_core(tpath(path, size, "lie.core"), 62, NULL, false, NULL);
	return path;
}

static void test_lying_elf_header(void **state)
{
	uint8_t *f;
	char path[512];
	uint64_t size;
	size_t len;

	(void)state;
	plain_core(path, sizeof(path));
	f = slurp(path, &len);
	size = len;

	write_bytes(path, f, 40);
	expect_fail(path, 0, "truncated ELF header: 40 bytes, need 64");
	write_bytes(path, f, 5);
	expect_fail(path, 0, "truncated ELF header");
	write_bytes(path, f, 4);
	expect_fail(path, 0, "truncated ELF header");

	plain_core(path, sizeof(path));
	patch_le(path, 4, 3, 1);
	expect_fail(path, 4, "EI_CLASS 3");
	plain_core(path, sizeof(path));
	patch_le(path, 5, 2, 1);
	expect_fail(path, 5, "little-endian");
	plain_core(path, sizeof(path));
	patch_le(path, 16, 2, 2);
	expect_fail(path, 0x10, "not ET_CORE");
	plain_core(path, sizeof(path));
	patch_le(path, 18, 183, 2);
	expect_fail(path, 0x12, "e_machine 183 (EM_AARCH64)");
	plain_core(path, sizeof(path));
	patch_le(path, 18, 0x1234, 2);
	expect_fail(path, 0x12, "e_machine 4660");

	plain_core(path, sizeof(path));
	patch_le(path, 0x36, 32, 2);
	expect_fail(path, 0x36, "e_phentsize 32, expected 56");

	plain_core(path, sizeof(path));
	patch_le(path, 0x38, 0xfffe, 2);
	expect_fail(path, 0x38, "absurd program header count 65534");

	plain_core(path, sizeof(path));
	patch_le(path, 0x20, size - 56, 8);
	expect_fail(path, size - 56, "2 program headers run past end of file");
	plain_core(path, sizeof(path));
	patch_le(path, 0x20, UINT64_MAX - 10, 8);
	expect_fail(path, UINT64_MAX - 10, "program headers run past end of file");
	free(f);
}

static void test_lying_segments(void **state)
{
	char path[512];
	uint64_t size;

	(void)state;
	plain_core(path, sizeof(path));
	size = file_size(path);
	patch_le(path, PHOFF + P_FILESZ, size, 8);
	expect_fail(path, PHOFF, "PT_LOAD p_offset 0x1000 + p_filesz");

	plain_core(path, sizeof(path));
	patch_le(path, PHOFF + PHSZ + P_OFFSET, UINT64_MAX - 1, 8);
	expect_fail(path, PHOFF + PHSZ, "runs past end of file");

	plain_core(path, sizeof(path));
	patch_le(path, PHOFF + PHSZ + P_OFFSET, size - 0x1fff, 8);
	expect_fail(path, PHOFF + PHSZ, "runs past end of file");

	plain_core(path, sizeof(path));
	patch_le(path, PHOFF + PHSZ + P_FILESZ, UINT64_MAX, 8);
	expect_fail(path, PHOFF + PHSZ, "runs past end of file");

	plain_core(path, sizeof(path));
	patch_le(path, PHOFF + PHSZ + P_PADDR, UINT64_MAX - 0x100, 8);
	expect_fail(path, PHOFF + PHSZ, "overflows the physical address space");

	/* ending exactly at 2^64 is not representable either */
	plain_core(path, sizeof(path));
	patch_le(path, PHOFF + PHSZ + P_PADDR, (uint64_t)0 - 0x2000, 8);
	expect_fail(path, PHOFF + PHSZ, "overflows");

	/* ending one byte below 2^64 is fine */
	plain_core(path, sizeof(path));
	patch_le(path, PHOFF + PHSZ + P_PADDR, (uint64_t)0 - 0x2001, 8);
	{
		struct pt_dump *d = open_ok(path);

		assert_int_equal(pt_dump_phys_end(d), UINT64_MAX);
		assert_memory_equal(rd(d, UINT64_MAX - 8, 8), seg1 + 0x1ff8, 8);
		assert_null(rd(d, UINT64_MAX - 8, 9));
		assert_null(rd(d, UINT64_MAX, 1));
		pt_dump_close(d);
	}
}

static void test_lying_notes(void **state)
{
	struct pt_cpu_state in = std_cpu();
	const uint64_t notes = PHOFF + 3 * PHSZ; /* PT_NOTE + 2 PT_LOADs */
	char path[512];

	(void)state;
	tpath(path, sizeof(path), "notelie.core");
	write_std_core(path, 62, &in, true, VMCI);
	patch_le(path, PHOFF + P_FILESZ, 8, 8);
	expect_fail(path, notes, "truncated note header: 8 bytes left");

	write_std_core(path, 62, &in, true, VMCI);
	patch_le(path, PHOFF + P_FILESZ, QEMU_NOTE_LEN + 5, 8);
	expect_fail(path, notes + QEMU_NOTE_LEN, "truncated note header: 5 bytes left");

	write_std_core(path, 62, &in, true, VMCI);
	patch_le(path, notes, 0x10000, 4);
	expect_fail(path, notes, "n_namesz 65536");

	write_std_core(path, 62, &in, true, VMCI);
	patch_le(path, notes, UINT32_MAX, 4);
	expect_fail(path, notes, "n_namesz 4294967295");

	write_std_core(path, 62, &in, true, VMCI);
	patch_le(path, notes + 4, 0x10000, 4);
	expect_fail(path, notes, "n_descsz 65536");

	write_std_core(path, 62, &in, true, VMCI);
	patch_le(path, notes + QEMU_NOTE_LEN + PTLAB_NOTE_LEN + 4, UINT32_MAX, 4);
	expect_fail(path, notes + QEMU_NOTE_LEN + PTLAB_NOTE_LEN, "n_descsz 4294967295");

	write_std_core(path, 62, &in, true, VMCI);
	patch_le(path, notes + 4, 100, 4);
	expect_fail(path, notes, "QEMU note: descriptor of 100 bytes");

	write_std_core(path, 62, &in, true, VMCI);
	patch_le(path, PHOFF + P_FILESZ, UINT64_MAX - 8, 8);
	expect_fail(path, PHOFF, "PT_NOTE p_offset");

	/*
	 * A PT_NOTE that runs on into zero padding (the gap before the page-aligned segment
	 * data): an all-zero note header ends the notes.
	 */
	write_std_core(path, 62, &in, true, VMCI);
	{
		uint8_t *f;
		size_t len;
		uint64_t filesz;
		struct pt_cpu_state out;
		struct pt_dump *d;
		char buf[32];

		f = slurp(path, &len);
		filesz = get_le(f + PHOFF + P_FILESZ, 8);
		free(f);
		patch_le(path, PHOFF + P_FILESZ, filesz + 16, 8);
		d = open_ok(path);
		assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_PTLAB);
		assert_true(pt_dump_vmcoreinfo_get(d, "PAGESIZE", buf, sizeof(buf)));
		assert_string_equal(buf, "4096");
		pt_dump_close(d);
		/* a non-zero header there is a real note: its name must fit */
		patch_le(path, notes + filesz, 8, 4);
		expect_fail(path, notes + filesz, "n_namesz 8 runs past the end");
	}

	/* the PT_NOTE may end right after the QEMU note: then only that note counts */
	write_std_core(path, 62, &in, true, VMCI);
	patch_le(path, PHOFF + P_FILESZ, QEMU_NOTE_LEN, 8);
	{
		struct pt_cpu_state out;
		struct pt_dump *d = open_ok(path);

		assert_int_equal(pt_dump_cpu(d, &out), PT_CPU_QEMU);
		assert_null(pt_dump_vmcoreinfo(d, NULL));
		pt_dump_close(d);
	}
}

static void test_vmcoreinfo_edges(void **state)
{
	char path[512], buf[32];
	struct pt_dump *d;
	uint8_t *f;
	size_t len, i;
	const char *v;

	(void)state;
	/* no final newline */
	write_std_core(tpath(path, sizeof(path), "vmci.core"), 62, NULL, false, "A=1\nBB=22\nC=333");
	d = open_ok(path);
	assert_int_equal(pt_dump_cpu(d, NULL), PT_CPU_NONE);
	assert_true(pt_dump_vmcoreinfo_get(d, "C", buf, sizeof(buf)));
	assert_string_equal(buf, "333");
	assert_true(pt_dump_vmcoreinfo_get(d, "A", buf, sizeof(buf)));
	assert_string_equal(buf, "1");
	assert_false(pt_dump_vmcoreinfo_get(d, "B", buf, sizeof(buf)));
	pt_dump_close(d);

	/* a trailing NUL in place of the final newline, and a CRLF line */
	write_std_core(path, 62, NULL, false, "A=1\r\nBB=22\n");
	f = slurp(path, &len);
	for (i = 0; i + 6 <= len; i++)
		if (memcmp(f + i, "BB=22\n", 6) == 0)
			break;
	assert_true(i + 6 <= len);
	patch_le(path, i + 5, 0, 1);
	free(f);
	d = open_ok(path);
	v = pt_dump_vmcoreinfo(d, &len);
	assert_int_equal(len, 10);
	assert_memory_equal(v, "A=1\r\nBB=22", 10);
	assert_true(pt_dump_vmcoreinfo_get(d, "BB", buf, sizeof(buf)));
	assert_string_equal(buf, "22");
	assert_true(pt_dump_vmcoreinfo_get(d, "A", buf, sizeof(buf)));
	assert_string_equal(buf, "1");
	pt_dump_close(d);
}

/* ---- Truncation and corruption sweeps --------------------------------------------------- */

/** Open must fail cleanly (PT_EINVAL naming the path) or give ranges inside the file. */
static void open_clean(const char *path, uint64_t size)
{
	struct pt_dump *d = NULL;
	struct pt_error err;
	enum pt_status st = pt_dump_open(path, NULL, &d, &err);

	if (st == PT_OK) {
		const struct pt_dump_range *r;
		size_t n, i;

		r = pt_dump_ranges(d, &n);
		for (i = 0; i < n; i++) {
			assert_true(r[i].file_off <= size && r[i].size <= size - r[i].file_off);
			assert_non_null(rd(d, r[i].pa + r[i].size - 1, 1));
			if (i > 0)
				assert_true(r[i - 1].pa + r[i - 1].size <= r[i].pa);
		}
		pt_dump_cpu(d, NULL);
		pt_dump_close(d);
		return;
	}
	assert_int_equal(st, PT_EINVAL);
	assert_null(d);
	assert_int_equal(strncmp(err.message, path, strlen(path)), 0);
	assert_true(strlen(err.message) < sizeof(err.message));
}

static void test_truncations(void **state)
{
	struct pt_cpu_state in = std_cpu();
	char src[512], path[512];
	uint8_t *f;
	size_t len, cut;

	(void)state;
	write_std_core(tpath(src, sizeof(src), "trunc-src.core"), 62, &in, true, VMCI);
	f = slurp(src, &len);
	tpath(path, sizeof(path), "trunc.core");
	/*
	 * Every byte through the headers and notes, then every 8 bytes to the end. The file ends
	 * with segment 1's data, so every cut of 4 bytes or more (the ELF magic) is an error;
	 * shorter ones are not ELF and open as raw images.
	 */
	for (cut = 1; cut < len; cut += cut < 0x400 ? 1 : 8) {
		struct pt_dump *d = NULL;
		struct pt_error err;
		enum pt_status st;

		write_bytes(path, f, cut);
		open_clean(path, cut);
		st = pt_dump_open(path, NULL, &d, &err);
		if (cut < 4) {
			assert_int_equal(st, PT_OK);
			assert_int_equal(pt_dump_format(d), PT_DUMP_RAW);
			pt_dump_close(d);
			continue;
		}
		if (st != PT_EINVAL)
			fail_msg("cut at %zu: expected PT_EINVAL, got %d", cut, (int)st);
		assert_non_null(strstr(err.message, ": offset 0x"));
		assert_true(err.offset < cut);
	}
	free(f);
}

static void test_corruptions(void **state)
{
	struct pt_cpu_state in = std_cpu();
	static const uint8_t values[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
	char src[512], path[512];
	uint8_t *f;
	size_t len, i, v, hdr_end;

	(void)state;
	write_std_core(tpath(src, sizeof(src), "corrupt-src.core"), 62, &in, true, VMCI);
	f = slurp(src, &len);
	hdr_end = PHOFF + 3 * PHSZ + QEMU_NOTE_LEN + PTLAB_NOTE_LEN + 12 + 12 + sizeof(VMCI);
	tpath(path, sizeof(path), "corrupt.core");
	for (i = 0; i < hdr_end; i++) {
		for (v = 0; v < sizeof(values); v++) {
			uint8_t saved = f[i];

			f[i] = values[v];
			write_bytes(path, f, len);
			open_clean(path, len);
			f[i] = saved;
		}
	}
	free(f);
}

/* ---- LiME ----------------------------------------------------------------------------- */

/** Append a LiME header for [s, e] (inclusive) at f + pos; returns the position after it. */
static size_t lime_hdr(uint8_t *f, size_t pos, uint64_t s, uint64_t e)
{
	memcpy(f + pos, "EMiL", 4);
	put_le(f + pos + 4, 1, 4);
	put_le(f + pos + 8, s, 8);
	put_le(f + pos + 16, e, 8);
	memset(f + pos + 24, 0, 8);
	return pos + 32;
}

static uint8_t lime[2 * (32 + 0x1000) + 64];

/** The good LiME file: [0x100000, 0x100fff] then [0x1000, 0x1fff]. Returns its size. */
static size_t lime_good(void)
{
	size_t pos;

	memset(lime, 0, sizeof(lime));
	pos = lime_hdr(lime, 0, 0x100000, 0x100fff);
	fill(lime + pos, 0x1000, 12);
	pos = lime_hdr(lime, pos + 0x1000, 0x1000, 0x1fff);
	fill(lime + pos, 0x1000, 13);
	return pos + 0x1000;
}

static void test_lime_good(void **state)
{
	const struct pt_dump_range *r;
	struct pt_dump *d;
	char path[512];
	size_t len = lime_good(), n;

	(void)state;
	write_bytes(tpath(path, sizeof(path), "good.lime"), lime, len);
	d = open_ok(path);
	assert_int_equal(pt_dump_format(d), PT_DUMP_LIME);
	assert_string_equal(pt_dump_format_name(pt_dump_format(d)), "lime");
	assert_int_equal(pt_dump_elf_machine(d), 0);
	r = pt_dump_ranges(d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].pa, 0x1000);
	assert_int_equal(r[0].size, 0x1000);
	assert_int_equal(r[0].file_off, 32 + 0x1000 + 32);
	assert_int_equal(r[1].pa, 0x100000);
	assert_int_equal(r[1].size, 0x1000);
	assert_int_equal(r[1].file_off, 32);
	assert_memory_equal(rd(d, 0x1000, 0x1000), lime + 0x1040, 0x1000);
	assert_memory_equal(rd(d, 0x100ff8, 8), lime + 32 + 0xff8, 8);
	assert_null(rd(d, 0x0fff, 2));
	assert_null(rd(d, 0x2000, 1));
	assert_null(rd(d, 0x1ff8, 9));
	assert_null(rd(d, 0x101000, 1));
	assert_int_equal(pt_dump_phys_end(d), 0x101000);
	assert_int_equal(pt_dump_cpu(d, NULL), PT_CPU_NONE);
	pt_dump_close(d);

	/* a one-byte range: e_addr == s_addr */
	memset(lime, 0, sizeof(lime));
	lime_hdr(lime, 0, 0x5000, 0x5000);
	lime[32] = 0x42;
	write_bytes(path, lime, 33);
	d = open_ok(path);
	assert_int_equal(*rd(d, 0x5000, 1), 0x42);
	assert_null(rd(d, 0x5000, 2));
	pt_dump_close(d);
}

static void test_lime_bad(void **state)
{
	char path[512];
	size_t len;

	(void)state;
	tpath(path, sizeof(path), "bad.lime");

	len = lime_good();
	write_bytes(path, lime, 14);
	expect_fail(path, 0, "truncated LiME header: 14 bytes left");
	write_bytes(path, lime, len + 10);
	expect_fail(path, len, "truncated LiME header: 10 bytes left");

	put_le(lime + 4, 2, 4);
	write_bytes(path, lime, len);
	expect_fail(path, 4, "LiME version 2");

	len = lime_good();
	put_le(lime + 16, 0xfffff, 8);
	write_bytes(path, lime, len);
	expect_fail(path, 16, "e_addr 0xfffff is below s_addr 0x100000");

	len = lime_good();
	put_le(lime + 16, 0x102fff, 8); /* 0x3000 bytes claimed, 0x1020 held */
	write_bytes(path, lime, len);
	expect_fail(path, 0, "runs past end of file");

	len = lime_good();
	put_le(lime + 8, 0, 8);
	put_le(lime + 16, UINT64_MAX, 8);
	write_bytes(path, lime, len);
	expect_fail(path, 16, "top of the physical address space");

	len = lime_good();
	put_le(lime + 0x1020 + 8, 0x100800, 8); /* second range starts inside the first */
	put_le(lime + 0x1020 + 16, 0x1017ff, 8);
	write_bytes(path, lime, len);
	expect_fail(path, 0x1020, "overlaps an earlier range");

	len = lime_good();
	memcpy(lime + 0x1020, "EMiX", 4);
	write_bytes(path, lime, len);
	expect_fail(path, 0x1020, "bad LiME magic");

	/* a last range one byte short */
	len = lime_good();
	write_bytes(path, lime, len - 1);
	expect_fail(path, 0x1020, "runs past end of file");
}

/* A virtual PT_LOAD for the root table (what drgn 0.0.22 needs, see dump.h): written over the
 * physical segment's bytes, p_vaddr/p_paddr exact, and invisible to ptlab's reader (the overlap
 * is identical, so the ranges are the standard ones). */
static void test_core_root_vsegment(void **state)
{
	const struct pt_core_segment segs[2] = {
		{ .pa = SEG0_PA, .size = sizeof(seg0), .data = seg0 },
		{ .pa = SEG1_PA, .size = sizeof(seg1), .data = seg1 },
	};
	struct pt_core_desc desc = { .machine = 62, .segments = segs, .nsegments = 2,
				     .vmcoreinfo = "OSRELEASE=6.1.0\n",
				     .root_vaddr = UINT64_C(0xffffffff82a0a000), .root_paddr = SEG1_PA + 0x1000 };
	struct pt_dump *d;
	struct pt_error err;
	char path[512];
	size_t len;

	(void)state;
	tpath(path, sizeof(path), "root-vseg.core");
	assert_int_equal(pt_core_write(path, &desc, &err), PT_OK);
	uint8_t *f = slurp(path, &len);
	assert_int_equal(pt_le16(f + 56), 4); /* e_phnum: note, 2 physical loads, the root page */
	const uint8_t *ph = f + PHOFF + 3 * PHSZ, *seg1_ph = f + PHOFF + 2 * PHSZ;
	assert_int_equal(pt_le32(ph), 1); /* PT_LOAD */
	assert_int_equal(pt_le64(ph + 16), UINT64_C(0xffffffff82a0a000));
	assert_int_equal(pt_le64(ph + P_PADDR), SEG1_PA + 0x1000);
	assert_int_equal(pt_le64(ph + P_FILESZ), 4096);
	assert_int_equal(pt_le64(ph + P_MEMSZ), 4096);
	assert_int_equal(pt_le64(ph + P_OFFSET), pt_le64(seg1_ph + P_OFFSET) + 0x1000);
	assert_int_equal(pt_le64(seg1_ph + 16), 0); /* physical segments keep p_vaddr 0 */
	assert_true(pt_le64(ph + P_OFFSET) + 4096 <= len);
	assert_memory_equal(f + pt_le64(ph + P_OFFSET), seg1 + 0x1000, 4096);
	free(f);
	assert_int_equal(pt_dump_open(path, NULL, &d, &err), PT_OK);
	check_std_ranges(d);
	pt_dump_close(d);

	/* a root page that is not aligned, or not inside one segment, is refused */
	desc.root_paddr = SEG1_PA + 0x800;
	assert_int_equal(pt_core_write(path, &desc, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, "root table page 0x10800 (virtual 0xffffffff82a0a000) is not 4 KiB aligned"));
	desc.root_paddr = SEG0_PA + 0x3000;
	assert_int_equal(pt_core_write(path, &desc, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, "not inside one segment"));
}

/* VMCOREINFO text exactly as Linux prints it: hex without 0x, signed decimal phys_base. */
static void test_vmcoreinfo_format(void **state)
{
	const struct pt_vmcoreinfo_fields f64 = {
		.osrelease = "6.1.0-56-amd64", .swapper_pg_dir = UINT64_C(0xffffffff9fe10000),
		.init_top_pgt = UINT64_C(0xffffffff9fe10000), .stext = UINT64_C(0xffffffff9e400000),
		.x86_64 = true, .la57 = true, .phys_base = -260046848, .kernel_offset = 0x1d400000,
	};
	const struct pt_vmcoreinfo_fields f32 = { .osrelease = "6.1.0-50-686-pae", .page_size = 4096,
						  .swapper_pg_dir = 0xc1c5d000, .x86_pae = true };
	const char *want64 = "OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n"
			     "SYMBOL(swapper_pg_dir)=ffffffff9fe10000\nSYMBOL(_stext)=ffffffff9e400000\n"
			     "NUMBER(phys_base)=-260046848\nSYMBOL(init_top_pgt)=ffffffff9fe10000\n"
			     "NUMBER(pgtable_l5_enabled)=1\nKERNELOFFSET=1d400000\n";
	const char *want32 = "OSRELEASE=6.1.0-50-686-pae\nPAGESIZE=4096\n"
			     "SYMBOL(swapper_pg_dir)=c1c5d000\nCONFIG_X86_PAE=y\n";
	char buf[512], small[16];

	(void)state;
	assert_int_equal(pt_vmcoreinfo_format(&f64, buf, sizeof(buf)), strlen(want64));
	assert_string_equal(buf, want64);
	assert_int_equal(pt_vmcoreinfo_format(&f32, buf, sizeof(buf)), strlen(want32));
	assert_string_equal(buf, want32);
	/* too small a buffer: truncated, NUL-terminated, the full length returned */
	assert_int_equal(pt_vmcoreinfo_format(&f64, small, sizeof(small)), strlen(want64));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, want64, sizeof(small) - 1);
	assert_int_equal(pt_vmcoreinfo_format(&f64, NULL, 0), strlen(want64));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_force_raw),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_elf64_qemu_note),
		cmocka_unit_test(test_elf64_ptlab_note),
		cmocka_unit_test(test_qemu_efer_inference),
		cmocka_unit_test(test_em386),
		cmocka_unit_test(test_no_segments),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_elf32_handcrafted),
		cmocka_unit_test(test_memsz_tail),
		cmocka_unit_test(test_pn_xnum),
		cmocka_unit_test(test_pn_xnum_lies),
		cmocka_unit_test(test_overlap_identical),
		cmocka_unit_test(test_overlap_coalesce),
		cmocka_unit_test(test_overlap_different),
		cmocka_unit_test(test_lying_elf_header),
		cmocka_unit_test(test_lying_segments),
		cmocka_unit_test(test_lying_notes),
		cmocka_unit_test(test_vmcoreinfo_edges),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_corruptions),
		cmocka_unit_test(test_lime_good),
		cmocka_unit_test(test_lime_bad),
		cmocka_unit_test(test_core_root_vsegment),
		cmocka_unit_test(test_vmcoreinfo_format),
	};
	int rc;

	if (setup_data(NULL) != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	return rc;
}
