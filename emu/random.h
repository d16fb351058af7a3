/* SPDX-License-Identifier: MIT */
/* emu/random.h: the one PRNG of libptemu (internal): KASLR picks and probe sequences follow from
 * their seeds. */
#ifndef PTLAB_EMU_RANDOM_H
#define PTLAB_EMU_RANDOM_H

#include <stdint.h>

/** splitmix64 (Steele, Lea, Flood 2014): a small, well-mixed generator; advances *state. */
static inline uint64_t emu_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#endif
