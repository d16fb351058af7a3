/* SPDX-License-Identifier: MIT */
/*
 * fuzz/driver.c: the one shared driver for builds without a fuzzing engine. Every target defines
 * only LLVMFuzzerTestOneInput (and optionally LLVMFuzzerInitialize); this main() runs it
 *   - over each file named on the command line (replay: reproducers);
 *   - over every regular file of a directory argument, in name order (ctest's fuzz-replay tests
 *     name the corpus directory); a directory without one fails, so an empty corpus cannot pass;
 *   - under afl-clang-fast without arguments: AFL++'s persistent shared-memory loop
 *     (__AFL_LOOP), so one binary serves AFL++ without libAFLDriver.a too;
 *   - without arguments otherwise: once over stdin.
 * libFuzzer builds (-fsanitize=fuzzer or $LIB_FUZZING_ENGINE) do not link this file.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h> /* read(), used by AFL++'s __AFL_FUZZ_TESTCASE_LEN */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

static int run_stream(FILE *f, const char *name)
{
	size_t cap = 1 << 16, len = 0, n;
	uint8_t *buf = malloc(cap);

	if (buf == NULL)
		return 1;
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				return 1;
			}
			buf = nb;
			cap *= 2;
		}
	}
	/* An exact-size copy, so ASan catches any read past the input's end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return 1;
	}
	memcpy(exact, buf, len);
	free(buf);
	fprintf(stderr, "replay: %s (%zu bytes)\n", name, len);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		perror(path);
		return 1;
	}
	int rc = run_stream(f, path);
	fclose(f);
	return rc;
}

/* Only regular files, not dot files: what a corpus directory holds besides is not an input. */
static int is_input_name(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* Every regular file of the directory, in name order; a directory without one is an error, so
 * that an empty corpus cannot pass for a replayed one. Adds the files run to *count. */
static int run_dir(const char *path, unsigned *count)
{
	struct dirent **names = NULL;
	int n = scandir(path, &names, is_input_name, alphasort);
	int rc = 0;
	unsigned before = *count;

	if (n < 0) {
		perror(path);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
		char *p = malloc(len);
		struct stat st;

		if (p == NULL) {
			rc = 1;
		} else {
			snprintf(p, len, "%s/%s", path, names[i]->d_name);
			if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
				rc |= run_file(p);
				(*count)++;
			}
		}
		free(p);
		free(names[i]);
	}
	free(names);
	if (*count == before) {
		fprintf(stderr, "replay: %s holds no input file\n", path);
		return 1;
	}
	return rc;
}

static int run_path(const char *path, unsigned *count)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (S_ISDIR(st.st_mode))
		return run_dir(path, count);
	(*count)++;
	return run_file(path);
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
#ifdef __AFL_FUZZ_TESTCASE_LEN
	if (argc < 2) {
		const unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
		while (__AFL_LOOP(100000)) {
			size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
			uint8_t *copy = malloc(len ? len : 1);
			if (copy == NULL)
				return 1;
			memcpy(copy, buf, len);
			LLVMFuzzerTestOneInput(copy, len);
			free(copy);
		}
		return 0;
	}
#endif
	if (argc < 2)
		return run_stream(stdin, "<stdin>");
	unsigned count = 0;
	for (int i = 1; i < argc; i++)
		rc |= run_path(argv[i], &count);
	if (rc == 0)
		fprintf(stderr, "replay: %u input(s) OK\n", count);
	return rc;
}
