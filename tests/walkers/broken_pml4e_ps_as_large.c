/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_pml4e_ps_as_large.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * Volatility (a fixed bug): PS in a PML4E taken as a 512 GiB page, one level too early (SDM Table
 * 4-15: PS is reserved in a PML4E).
 * ptlab check must fail it on `peer-bugs.pml4e-ps-as-large` (tests/CMakeLists.txt).
 */
#define TW_BUG pml4_ps_page
#define TW_NAME "broken walker: peer-bugs.pml4e-ps-as-large"
#include "tw_walker.c"
