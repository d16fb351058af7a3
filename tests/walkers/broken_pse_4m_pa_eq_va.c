/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_pse_4m_pa_eq_va.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * LibVMI's enumeration reports 32-bit 4 MiB pages with PA = VA.
 * ptlab check must fail it on `peer-bugs.pse-4m-pa-eq-va` (tests/CMakeLists.txt).
 */
#define TW_BUG pse_4m_identity
#define TW_NAME "broken walker: peer-bugs.pse-4m-pa-eq-va"
#include "tw_walker.c"
