/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/runner_nosym.c: a shared object that is no walker: it exports no
 * ptlab_adapter_v1, so `ptlab check --adapter` must refuse it with exit 2 (tests/test_check.sh).
 */
#include "ptlab/adapter.h"

/** Spelt almost right, which is what happens. */
const struct ptlab_adapter *ptlab_adapter_v0(void);

const struct ptlab_adapter *ptlab_adapter_v0(void)
{
	return 0;
}
