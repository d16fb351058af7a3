/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_legacy_cr3_ignored.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * LibVMI's 32-bit walker (broken since 2021) reads the page directory at PA 0, not at CR3 (SDM
 * Table 4-3: CR3 bits 31:12).
 * ptlab check must fail it on `peer-bugs.legacy-cr3-ignored` (tests/CMakeLists.txt).
 */
#define TW_BUG legacy_pd_at_zero
#define TW_NAME "broken walker: peer-bugs.legacy-cr3-ignored"
#include "tw_walker.c"
