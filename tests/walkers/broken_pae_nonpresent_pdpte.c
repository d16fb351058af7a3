/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_pae_nonpresent_pdpte.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * LibVMI: a non-present PAE PDPTE "translates" to PA 0 (SDM 4.4.1: it is a #PF).
 * ptlab check must fail it on `peer-bugs.pae-nonpresent-pdpte` (tests/CMakeLists.txt).
 */
#define TW_BUG pae_pdpte_np_zero
#define TW_NAME "broken walker: peer-bugs.pae-nonpresent-pdpte"
#include "tw_walker.c"
