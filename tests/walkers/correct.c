/* SPDX-License-Identifier: MIT */
/* tests/walkers/correct.c: the independent walker of tw_walker.c with no bug: every mode, pure
 * translation. The broken walkers are this one with one peer bug each. */
#include "tw_walker.c"
