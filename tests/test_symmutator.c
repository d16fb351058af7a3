/* SPDX-License-Identifier: MIT */
/*
 * The symbol-table mutator (fuzz/symmutator.c) makes each of its changes, within max_size:
 * over many seeds on a small System.map it must drop a line, duplicate one, reorder two, slide
 * every address by one 2 MiB-multiple delta, move one address, and corrupt a line; and it never
 * writes past max_size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/mutator.h"

static const char MAP[] = "ffffffff81000000 T _text\n"
			  "ffffffff81000000 T startup_64\n"
			  "ffffffff81001000 R linux_banner\n"
			  "ffffffff81004000 D init_top_pgt\n"
			  "0000000001000000 A phys_startup_64\n";

static size_t count_lines(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

/** Every line's address shifted by the same non-zero delta (the lines otherwise equal)? */
static int slid_all(const char *out, size_t n)
{
	uint64_t delta = 0;
	const char *p = out, *q = MAP;
	for (int line = 0; line < 5; line++) {
		if ((size_t)(p - out) + 17 > n)
			return 0;
		uint64_t a = strtoull(p, NULL, 16), b = strtoull(q, NULL, 16);
		if (line == 0)
			delta = a - b;
		if (a - b != delta || memcmp(p + 16, q + 16, strchr(q, '\n') - q - 16) != 0)
			return 0;
		p = strchr(p, '\n') + 1;
		q = strchr(q, '\n') + 1;
	}
	return delta != 0 && delta % 0x200000 == 0;
}

static void test_every_mutation_happens(void **state)
{
	(void)state;
	unsigned fewer = 0, more = 0, reordered = 0, slid = 0, other = 0;
	char buf[1024];
	const char *second = strchr(MAP, '\n') + 1;
	const size_t second_len = (size_t)(strchr(second, '\n') + 1 - second);
	for (unsigned seed = 0; seed < 4000; seed++) {
		const size_t max = sizeof(MAP) + 64;
		memset(buf, 0x5a, sizeof(buf));
		memcpy(buf, MAP, sizeof(MAP) - 1);
		size_t n = fz_mutate_symbols((uint8_t *)buf, sizeof(MAP) - 1, max, seed);
		assert_true(n <= max);
		assert_int_equal((unsigned char)buf[max], 0x5a); /* nothing written past max_size */
		size_t lines = count_lines(buf, n);
		if (lines == 4)
			fewer++;
		else if (lines == 6)
			more++;
		else if (n == sizeof(MAP) - 1 && memcmp(buf, MAP, n) != 0 && slid_all(buf, n))
			slid++;
		else if (n == sizeof(MAP) - 1 && memcmp(buf, MAP, n) != 0 &&
			 memcmp(buf, second, second_len) == 0) /* line 2 moved to the front */
			reordered++;
		else if (memcmp(buf, MAP, sizeof(MAP) - 1) != 0)
			other++;
	}
	printf("drop %u, duplicate %u, slide %u, reorder %u, moved/corrupted %u\n", fewer, more, slid,
	       reordered, other);
	assert_true(fewer > 100 && more > 100 && slid > 100 && reordered > 10 && other > 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_mutation_happens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
