/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_reserved_bits_ignored.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * Volatility and LibVMI honour only the present bit: an entry with a reserved bit set (SDM 4.3-4.5,
 * Tables 4-5..4-20) still translates.
 * ptlab check must fail it on `reserved-bits` (tests/CMakeLists.txt).
 */
#define TW_BUG no_reserved
#define TW_NAME "broken walker: reserved-bits"
#include "tw_walker.c"
