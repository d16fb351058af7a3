/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_pat_bit_as_address.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * Bit 12 of a large-page entry (its PAT bit, SDM Tables 4-5, 4-9, 4-16, 4-18) kept as an address bit.
 * ptlab check must fail it on `peer-bugs.pat-bit-as-address` (tests/CMakeLists.txt).
 */
#define TW_BUG pat_in_frame
#define TW_NAME "broken walker: peer-bugs.pat-bit-as-address"
#include "tw_walker.c"
