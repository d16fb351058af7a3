/* SPDX-License-Identifier: MIT */
/*
 * Symbol tables (ctest label `kpgd`): System.map and kallsyms text (modules, CRLF, unsorted,
 * duplicates, garbage lines skipped and counted with their line number, mostly-garbage and
 * all-zero files rejected naming the line), a huge file, a pipe, the vmlinux ELF (.symtab,
 * absolute symbols, section bytes) and broken ELFs (clear errors, never a crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ptlab/symbols.h"

#ifndef PTLAB_KERNEL64_ELF
#error "PTLAB_KERNEL64_ELF must name the build's boot_images/kernel64.elf"
#endif

static struct pt_symtab *load_text(const char *text)
{
	struct pt_symtab *tab = NULL;
	struct pt_error err;
	if (pt_symtab_load_buffer(text, strlen(text), "t.map", &tab, &err) != PT_OK)
		fail_msg("%s", err.message);
	return tab;
}

static void expect_error(const char *text, size_t len, const char *needle)
{
	struct pt_symtab *tab = NULL;
	struct pt_error err;
	assert_int_equal(pt_symtab_load_buffer(text, len, "bad.map", &tab, &err), PT_EINVAL);
	assert_null(tab);
	if (!strstr(err.message, needle))
		fail_msg("message '%s' lacks '%s'", err.message, needle);
	assert_non_null(strstr(err.message, "bad.map"));
}

static void test_system_map(void **state)
{
	(void)state;
	struct pt_symtab *t = load_text("0000000001000000 A phys_startup_64\n"
					"ffffffff81000000 T _text\n"
					"ffffffff81000000 T startup_64\n"
					"ffffffff82a10000 D init_top_pgt\n"
					"ffffffff82161900 R linux_banner\n");
	assert_int_equal(pt_symtab_format(t), PT_SYMS_MAP);
	assert_int_equal(pt_symtab_count(t), 5);
	uint64_t v;
	assert_true(pt_symtab_value(t, "init_top_pgt", &v));
	assert_int_equal(v, UINT64_C(0xffffffff82a10000));
	const struct pt_symbol *s = pt_symtab_lookup(t, "phys_startup_64");
	assert_non_null(s);
	assert_int_equal(s->type, 'A');
	assert_int_equal(s->line, 1);
	assert_null(pt_symtab_lookup(t, "nope"));
	assert_null(pt_symtab_lookup(t, "init_top_pg")); /* prefix is not a match */
	assert_null(pt_symtab_bytes(t, UINT64_C(0xffffffff81000000), 4));
	assert_int_equal(pt_symtab_stats(t)->skipped, 0);
	pt_symtab_destroy(t);
}

static void test_kallsyms(void **state)
{
	(void)state;
	/* unsorted, CRLF, tabs, module symbols, 32-bit addresses, duplicates */
	struct pt_symtab *t = load_text("ffffffff82a10000 D init_top_pgt\r\n"
					"ffffffff81000000 T _text\n"
					"ffffffffc0a01000 t ext4_fill_super\t[ext4]\n"
					"\n"
					"   \t\n"
					"ffffffff81000000 T startup_64\n"
					"ffffffff81234567 t __func__.1\n"
					"ffffffff81234999 t __func__.1\n"
					"ffffffff81234567 t __func__.1\n"
					"c1000000 T startup_32\n");
	assert_int_equal(pt_symtab_format(t), PT_SYMS_KALLSYMS);
	const struct pt_symtab_stats *st = pt_symtab_stats(t);
	assert_int_equal(st->modules, 1);
	assert_int_equal(st->duplicates, 2);
	assert_int_equal(st->skipped, 0);
	assert_int_equal(st->lines, 10);
	const struct pt_symbol *s = pt_symtab_lookup(t, "__func__.1");
	assert_int_equal(s->value, UINT64_C(0xffffffff81234567)); /* first definition kept */
	assert_int_equal(s->conflicts, 1);
	assert_null(pt_symtab_lookup(t, "ext4_fill_super"));
	uint64_t v;
	assert_true(pt_symtab_value(t, "startup_32", &v));
	assert_int_equal(v, 0xc1000000);
	assert_true(pt_symtab_value(t, "init_top_pgt", &v)); /* CR stripped */
	pt_symtab_destroy(t);
}

static void test_garbage_lines(void **state)
{
	(void)state;
	/* a few garbage lines among good ones: skipped, counted, the first one named */
	struct pt_symtab *t = load_text("ffffffff81000000 T _text\n"
					"this is not a symbol\n"
					"ffffffff81000000\n"
					"ffffffff81000000 T\n"
					"ffffffff81000000 TT name\n"
					"12345678901234567 T too_wide\n"
					"ffffffff81000010 T two names here\n"
					"ffffffff82a10000 D init_top_pgt\n");
	const struct pt_symtab_stats *st = pt_symtab_stats(t);
	assert_int_equal(st->skipped, 6);
	assert_int_equal(st->first_bad_line, 2);
	assert_non_null(strstr(st->first_bad, "line 2"));
	assert_int_equal(pt_symtab_count(t), 2);
	pt_symtab_destroy(t);
	/* an over-long line and a NUL byte */
	char buf[2048];
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "ffffffff81000000 T _text\nffffffff81000000 T ", 44);
	buf[sizeof(buf) - 1] = '\n';
	memcpy(buf + 1500, "\nffff\0fff T x\nffffffff82000000 D y\n", 35);
	struct pt_symtab *tab;
	struct pt_error err;
	assert_int_equal(pt_symtab_load_buffer(buf, sizeof(buf), "long.map", &tab, &err), PT_OK);
	assert_int_equal(pt_symtab_stats(tab)->skipped, 3);
	assert_int_equal(pt_symtab_stats(tab)->first_bad_line, 2);
	assert_non_null(strstr(pt_symtab_stats(tab)->first_bad, "longer"));
	pt_symtab_destroy(tab);
}

static void test_rejected_files(void **state)
{
	(void)state;
	expect_error("", 0, "empty");
	expect_error("\n\n  \n", 4, "empty");
	expect_error("hello world\n", 12, "line 1");
	/* mostly garbage: a binary-ish file with two symbol-like lines */
	char buf[4096];
	size_t n = 0;
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "garbage %d\n", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "ffffffff81000000 T _text\nffffffff81000000 T a\n");
	expect_error(buf, n, "line 1");
	/* kallsyms read without privileges */
	expect_error("0000000000000000 T _text\n0000000000000000 D init_top_pgt\n", 58, "every address is 0");
	/* only module symbols */
	expect_error("ffffffffc0000000 t f\t[mod]\n", 27, "module");
	/* files */
	struct pt_symtab *tab;
	struct pt_error err;
	assert_int_equal(pt_symtab_load("/nonexistent/System.map", &tab, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, "/nonexistent/System.map: cannot open"));
	assert_int_equal(pt_symtab_load("/", &tab, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, "directory"));
}

static void test_huge_file(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "syms-huge-%d.map", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	const unsigned n = 1500000;
	for (unsigned i = n; i > 0; i--) /* unsorted: descending */
		fprintf(f, "%016llx t sym_%u\n", 0xffffffff81000000ull + i * 16ull, i);
	fputs("garbage line\n", f);
	fclose(f);
	struct pt_symtab *tab;
	struct pt_error err;
	if (pt_symtab_load(path, &tab, &err) != PT_OK)
		fail_msg("%s", err.message);
	assert_int_equal(pt_symtab_count(tab), n);
	assert_int_equal(pt_symtab_stats(tab)->skipped, 1);
	assert_int_equal(pt_symtab_stats(tab)->first_bad_line, n + 1);
	uint64_t v;
	assert_true(pt_symtab_value(tab, "sym_777777", &v));
	assert_int_equal(v, 0xffffffff81000000ull + 777777ull * 16);
	pt_symtab_destroy(tab);
	unlink(path);
}

static void test_pipe(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "syms-fifo-%d", (int)getpid());
	assert_int_equal(mkfifo(path, 0600), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *w = fopen(path, "w");
		if (!w)
			_exit(1);
		for (int i = 0; i < 100000; i++)
			fprintf(w, "%016llx T f%d\n", 0xffffffff81000000ull + (unsigned)i, i);
		fclose(w);
		_exit(0);
	}
	struct pt_symtab *tab;
	struct pt_error err;
	enum pt_status st = pt_symtab_load(path, &tab, &err);
	int status;
	waitpid(pid, &status, 0);
	unlink(path);
	if (st != PT_OK)
		fail_msg("%s", err.message);
	assert_int_equal(pt_symtab_count(tab), 100000);
	pt_symtab_destroy(tab);
}

static void test_elf(void **state)
{
	(void)state;
	struct pt_symtab *t;
	struct pt_error err;
	if (pt_symtab_load(PTLAB_KERNEL64_ELF, &t, &err) != PT_OK)
		fail_msg("%s", err.message);
	assert_int_equal(pt_symtab_format(t), PT_SYMS_ELF);
	assert_int_equal(pt_symtab_elf_class(t), 64);
	uint64_t text, banner, phys, init;
	assert_true(pt_symtab_value(t, "_text", &text));
	assert_int_equal(text, UINT64_C(0xffffffff81000000));
	assert_true(pt_symtab_value(t, "phys_startup_64", &phys));
	assert_int_equal(phys, 0x1000000);
	assert_int_equal(pt_symtab_lookup(t, "phys_startup_64")->type, 'A');
	assert_int_equal(pt_symtab_lookup(t, "startup_64")->type, 'T');
	assert_int_equal(pt_symtab_lookup(t, "high")->type, 't');
	assert_true(pt_symtab_value(t, "init_top_pgt", &init));
	assert_int_equal(pt_symtab_lookup(t, "init_top_pgt")->type, 'D');
	assert_int_equal(pt_symtab_lookup(t, "early_dynamic_pgts")->type, 'B');
	assert_true(pt_symtab_value(t, "linux_banner", &banner));
	const char *b = pt_symtab_bytes(t, banner, 14);
	assert_non_null(b);
	assert_memory_equal(b, "Linux version ", 14);
	assert_null(pt_symtab_bytes(t, UINT64_C(0xffffffff8100a000), 8)); /* .bss: no file bytes */
	/* through a buffer too, then broken copies of it */
	FILE *f = fopen(PTLAB_KERNEL64_ELF, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *img = malloc((size_t)n);
	assert_int_equal(fread(img, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	struct pt_symtab *t2;
	assert_int_equal(pt_symtab_load_buffer(img, (size_t)n, "k.elf", &t2, &err), PT_OK);
	assert_int_equal(pt_symtab_count(t2), pt_symtab_count(t));
	pt_symtab_destroy(t2);
	pt_symtab_destroy(t);

	/* truncated at every size up to the headers, and cut before the section headers */
	for (size_t cut = 0; cut < 80; cut += 7) {
		assert_int_equal(pt_symtab_load_buffer(img, cut, "cut.elf", &t2, &err), PT_EINVAL);
		assert_non_null(strstr(err.message, "cut.elf"));
	}
	assert_int_equal(pt_symtab_load_buffer(img, (size_t)n - 100, "cut.elf", &t2, &err), PT_EINVAL);
	assert_non_null(strstr(err.message, "section headers"));
	/* hostile section headers: symtab size absurd, string table link out of range */
	uint64_t shoff;
	memcpy(&shoff, img + 0x28, 8);
	uint16_t shnum;
	memcpy(&shnum, img + 0x3c, 2);
	for (uint16_t i = 0; i < shnum; i++) {
		uint8_t *h = img + shoff + (uint64_t)i * 64;
		uint32_t type;
		memcpy(&type, h + 4, 4);
		if (type != 2)
			continue;
		uint8_t save[64];
		memcpy(save, h, 64);
		uint64_t big = UINT64_C(0x7fffffffffffff00);
		memcpy(h + 0x20, &big, 8);
		assert_int_equal(pt_symtab_load_buffer(img, (size_t)n, "hostile.elf", &t2, &err), PT_EINVAL);
		assert_non_null(strstr(err.message, ".symtab"));
		memcpy(h, save, 64);
		uint32_t link = 999;
		memcpy(h + 0x28, &link, 4);
		assert_int_equal(pt_symtab_load_buffer(img, (size_t)n, "hostile.elf", &t2, &err), PT_EINVAL);
		assert_non_null(strstr(err.message, "string table"));
		memcpy(h, save, 64);
		/* no symtab at all: a stripped vmlinux */
		uint32_t progbits = 1;
		memcpy(h + 4, &progbits, 4);
		assert_int_equal(pt_symtab_load_buffer(img, (size_t)n, "stripped.elf", &t2, &err), PT_EINVAL);
		assert_non_null(strstr(err.message, "stripped"));
		memcpy(h, save, 64);
	}
	/* every byte of the header region flipped in turn: errors or a table, never a crash */
	for (size_t i = 0; i < 64; i++) {
		img[i] ^= 0xff;
		if (pt_symtab_load_buffer(img, (size_t)n, "flip.elf", &t2, &err) == PT_OK)
			pt_symtab_destroy(t2);
		img[i] ^= 0xff;
	}
	free(img);
}

static void test_built_table(void **state)
{
	(void)state;
	struct pt_symtab *t = pt_symtab_create();
	assert_non_null(t);
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_true(pt_symtab_add(t, name, (uint64_t)i * 3, 'T'));
	}
	assert_true(pt_symtab_add(t, "s17", 1, 'T')); /* duplicate */
	assert_false(pt_symtab_add(t, "", 1, 'T'));
	assert_int_equal(pt_symtab_count(t), 5000);
	assert_int_equal(pt_symtab_stats(t)->duplicates, 1);
	for (int i = 0; i < 5000; i += 97) {
		snprintf(name, sizeof(name), "s%d", i);
		uint64_t v;
		assert_true(pt_symtab_value(t, name, &v));
		assert_int_equal(v, (uint64_t)i * 3);
	}
	assert_string_equal(pt_symtab_at(t, 4999)->name, "s4999");
	assert_null(pt_symtab_at(t, 5000));
	assert_int_equal(pt_symtab_format(t), PT_SYMS_NONE);
	pt_symtab_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_map),
		cmocka_unit_test(test_kallsyms),
		cmocka_unit_test(test_garbage_lines),
		cmocka_unit_test(test_rejected_files),
		cmocka_unit_test(test_huge_file),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_elf),
		cmocka_unit_test(test_built_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
