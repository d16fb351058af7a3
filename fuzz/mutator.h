/* SPDX-License-Identifier: MIT */
/* fuzz/mutator.h: the structure-aware mutation of the paging input format (fuzz/mutator.c). */
#ifndef PTLAB_FUZZ_MUTATOR_H
#define PTLAB_FUZZ_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

/** Mutate `data` (size bytes, room for max_size) in place with one structure-aware change;
 *  returns the new size. Deterministic in `seed`. */
size_t fz_mutate(uint8_t *data, size_t size, size_t max_size, unsigned seed);

/** The same for symbol-table text (fuzz/symmutator.c): one line-level change (shift addresses,
 *  drop, duplicate, reorder or corrupt a line). */
size_t fz_mutate_symbols(uint8_t *data, size_t size, size_t max_size, unsigned seed);

#endif
