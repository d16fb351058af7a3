/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_la57_walked_as_4_level.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * Volatility before 5-level support: with CR4.LA57 the PML5 is walked as a PML4 and addresses are
 * 48-bit (SDM 4.5).
 * ptlab check must fail it on `peer-bugs.la57-walked-as-4-level` (tests/CMakeLists.txt).
 */
#define TW_BUG la57_as_4level
#define TW_NAME "broken walker: peer-bugs.la57-walked-as-4-level"
#include "tw_walker.c"
