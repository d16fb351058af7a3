/* SPDX-License-Identifier: MIT */
/* walker/dump_internal.h: what the dump reader and writer share inside libptwalk. */
#ifndef PTLAB_WALKER_DUMP_INTERNAL_H
#define PTLAB_WALKER_DUMP_INTERNAL_H

#include <stdint.h>

#include "ptlab/dump.h"

#if defined(__GNUC__)
#define PT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PT_PRINTF(f, a)
#endif

/**
 * Fill `err` (may be NULL) with "PATH: offset 0xN: reason", or "PATH: reason" when `offset`
 * is UINT64_MAX, and return PT_EINVAL. The message is truncated to fit.
 */
PT_PRINTF(4, 5)
enum pt_status pt_error_set(struct pt_error *err, const char *path, uint64_t offset,
			    const char *fmt, ...);

#endif
