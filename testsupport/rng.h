/* SPDX-License-Identifier: MIT */
/*
 * testsupport/rng.h: the pseudo-random numbers tests and benchmarks draw (xorshift64, shifts
 * 13, 7, 17: Marsaglia, "Xorshift RNGs", J. Stat. Soft. 8(14), 2003). Deterministic from its
 * seed, so a failing test draws the same tables again. Not for anything that needs real
 * randomness.
 */
#ifndef PTLAB_TESTSUPPORT_RNG_H
#define PTLAB_TESTSUPPORT_RNG_H

#include <stdint.h>

/** Advance `*state` (never 0) and return the new value. */
static inline uint64_t ts_xorshift64(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

#endif
