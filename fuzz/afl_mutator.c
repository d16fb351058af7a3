/* SPDX-License-Identifier: MIT */
/*
 * fuzz/afl_mutator.c: the AFL++ custom-mutator shim around fz_mutate (fuzz/mutator.c), for the
 * paging targets (walk, walk_diff, maps), or around fz_mutate_symbols (fuzz/symmutator.c) for the
 * symbols target when PTLAB_AFL_MUTATOR=symbols:
 *   AFL_CUSTOM_MUTATOR_LIBRARY=build-afl-asan/fuzz/libptlab-afl-mutator.so afl-fuzz ...
 * AFL++ keeps its own mutations too (unless AFL_CUSTOM_MUTATOR_ONLY=1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

struct afl_state;

struct shim {
	unsigned seed;
	int symbols; /* PTLAB_AFL_MUTATOR=symbols: symbol-table text, else paging inputs */
	uint8_t *buf;
	size_t cap;
};

void *afl_custom_init(struct afl_state *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
const char *afl_custom_describe(void *data, size_t max_description_len);
void afl_custom_deinit(void *data);

void *afl_custom_init(struct afl_state *afl, unsigned int seed)
{
	struct shim *s = calloc(1, sizeof(*s));
	if (s != NULL) {
		const char *kind = getenv("PTLAB_AFL_MUTATOR");
		s->seed = seed;
		s->symbols = kind != NULL && strcmp(kind, "symbols") == 0;
	}
	return s;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
	struct shim *s = data;
	const size_t need = (buf_size > max_size ? buf_size : max_size) + 128;

	if (need > s->cap) {
		uint8_t *nb = realloc(s->buf, need);
		if (nb == NULL) {
			*out_buf = buf;
			return buf_size;
		}
		s->buf = nb;
		s->cap = need;
	}
	memcpy(s->buf, buf, buf_size);
	*out_buf = s->buf;
	if (s->symbols)
		return fz_mutate_symbols(s->buf, buf_size, max_size, s->seed++);
	return fz_mutate(s->buf, buf_size, max_size, s->seed++);
}

const char *afl_custom_describe(void *data, size_t max_description_len)
{
	const struct shim *s = data;
	return s != NULL && s->symbols ? "ptlab-symbols" : "ptlab-pte";
}

void afl_custom_deinit(void *data)
{
	struct shim *s = data;
	if (s != NULL)
		free(s->buf);
	free(s);
}
