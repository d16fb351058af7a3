/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_pae_frame_above_4g_truncated.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * LibVMI truncates PAE frames to 32 bits: tables and pages above 4 GiB land below it (SDM 4.4.2:
 * PAE entries hold bits M-1:12).
 * ptlab check must fail it on `peer-bugs.pae-frame-above-4g-truncated` (tests/CMakeLists.txt).
 */
#define TW_BUG pae_frame32
#define TW_NAME "broken walker: peer-bugs.pae-frame-above-4g-truncated"
#include "tw_walker.c"
