/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/broken_frame_bits_above_maxphyaddr.c: the correct walker (testsupport/tw_walker.c)
 * with one peer bug.
 * LibVMI masks frames with bits 51:12 whatever MAXPHYADDR is: a reserved bit M..51 becomes an
 * address bit (SDM 4.5.4: bits 51:M are reserved).
 * ptlab check must fail it on `peer-bugs.frame-bits-above-maxphyaddr` (tests/CMakeLists.txt).
 */
#define TW_BUG frame_bit51
#define TW_NAME "broken walker: peer-bugs.frame-bits-above-maxphyaddr"
#include "tw_walker.c"
