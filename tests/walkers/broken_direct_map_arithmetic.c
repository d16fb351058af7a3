/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_direct_map_arithmetic.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * crash 8.0.2's vtop summary: a kernel direct-map VA gives VA - PAGE_OFFSET without a walk, even
 * where the tables map it elsewhere or not at all.
 * ptlab check must fail it on `peer-bugs.direct-map-arithmetic` (tests/CMakeLists.txt).
 */
#define TW_BUG direct_map_math
#define TW_NAME "broken walker: peer-bugs.direct-map-arithmetic"
#include "tw_walker.c"
