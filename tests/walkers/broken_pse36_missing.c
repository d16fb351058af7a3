/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_pse36_missing.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * Volatility has no PSE-36: bits 20:13 of a 4 MiB PDE are not taken as PA bits 39:32 (SDM
 * Table 4-5).
 * ptlab check must fail it on `peer-bugs.pse36-missing` (tests/CMakeLists.txt).
 */
#define TW_BUG no_pse36
#define TW_NAME "broken walker: peer-bugs.pse36-missing"
#include "tw_walker.c"
