/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_cbit_as_address.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * LibVMI: the AMD SME C-bit is taken for an address bit (AMD APM vol. 2, 7.10.1: it is stripped).
 * ptlab check must fail it on `peer-bugs.cbit-as-address` (tests/CMakeLists.txt).
 */
#define TW_BUG cbit_in_frame
#define TW_NAME "broken walker: peer-bugs.cbit-as-address"
#include "tw_walker.c"
