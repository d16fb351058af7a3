/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fz_check.h: independent checks of a walker result, recomputed from result->entry[] with
 * the SDM's rules (shared by the walk and maps targets; the walker's own decoder is not used).
 */
#ifndef PTLAB_FUZZ_CHECK_H
#define PTLAB_FUZZ_CHECK_H

#include "ptlab/walk.h"

/** Check a pt_translate/pt_walk answer for `va` (access NULL: pt_walk). Aborts on a violation. */
void fz_check_result(const struct pt_context *ctx, uint64_t va, const struct pt_access *access,
		     enum pt_status status, const struct pt_result *r);
/** Abort unless two answers are the same (status and every architectural field). */
void fz_check_same(const char *what, uint64_t va, enum pt_status s1, const struct pt_result *r1,
		   enum pt_status s2, const struct pt_result *r2);

#endif
