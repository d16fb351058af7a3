/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_pae_pdpte_reread.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * Unicorn 2.0.1 and QEMU's TCG re-read the PAE PDPTEs from memory on every walk (SDM 4.4.1: they
 * are registers loaded at MOV to CR3).
 * ptlab check must fail it on `peer-bugs.pae-pdpte-reread` (tests/CMakeLists.txt).
 */
#define TW_BUG pdpte_reread
#define TW_NAME "broken walker: peer-bugs.pae-pdpte-reread"
#include "tw_walker.c"
