/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_cr3_pcid_unmasked.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * CR3 bits 11:0 (a PCID with CR4.PCIDE, or PWT/PCD) not masked off the root table's address (SDM
 * Tables 4-12/4-13, 4.10.1).
 * ptlab check must fail it on `cr3-flags` (tests/CMakeLists.txt).
 */
#define TW_BUG cr3_low_bits
#define TW_NAME "broken walker: cr3-flags"
#include "tw_walker.c"
