/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_noncanonical_sign_extended.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * LibVMI's walker has no canonical-address check, Volatility masks addresses to 48 bits: a
 * non-canonical VA translates as if it were sign-extended (SDM 3.3.7.1: it is a #GP).
 * ptlab check must fail it on `peer-bugs.noncanonical-sign-extended` (tests/CMakeLists.txt).
 */
#define TW_BUG no_canonical
#define TW_NAME "broken walker: peer-bugs.noncanonical-sign-extended"
#include "tw_walker.c"
