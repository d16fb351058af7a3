/* SPDX-License-Identifier: MIT */
/* tests/walkers/correct.c: the independent walker of testsupport/tw_walker.c with no bug (every
 * mode, pure translation). The broken walkers are this one with one peer bug each. */
#define TW_NAME "correct walker (tests/walkers/correct.c)"
#include "tw_walker.c"
