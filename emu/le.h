/* SPDX-License-Identifier: MIT */
/* emu/le.h: little-endian field access for guest memory (internal to libptemu). */
#ifndef PTLAB_EMU_LE_H
#define PTLAB_EMU_LE_H

#include <stdint.h>

/** Store the low `n` bytes of `v` at `p`, least significant first. */
static inline void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/** Load `n` bytes at `p`, least significant first. */
static inline uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif
