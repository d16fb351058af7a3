/* SPDX-License-Identifier: MIT */
/*
 * ptlab error.h: the one error type of libptwalk, libptemu and the ptlab command. An error names
 * what it is about (a file and offset, a line, an argument) in one line fit for stderr; the status
 * that goes with it is an enum pt_status (walk.h).
 */
#ifndef PTLAB_ERROR_H
#define PTLAB_ERROR_H

#include <stdint.h>

#include "ptlab/walk.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PT_PRINTF(f, a)
#endif

/** No file offset: the error is not about a position in a file. */
#define PT_ERROR_NO_OFFSET UINT64_MAX

/** An error with the file and offset it concerns, formatted for one stderr line. */
struct pt_error {
	uint64_t offset;   /**< file offset the error is about (PT_ERROR_NO_OFFSET: none) */
	char message[512]; /**< "FILE: offset 0xN: what is wrong", or just "what is wrong" */
};

/**
 * Fill `err` (may be NULL) with "PATH: offset 0xN: reason", or "PATH: reason" when `offset` is
 * PT_ERROR_NO_OFFSET, and return PT_EINVAL. The message is truncated to fit.
 */
PT_PRINTF(4, 5)
enum pt_status pt_error_set(struct pt_error *err, const char *path, uint64_t offset,
			    const char *fmt, ...);

/** Fill `err` (may be NULL) with a message about no file ("unicorn: ...") and return PT_EINVAL. */
PT_PRINTF(2, 3)
enum pt_status pt_error_printf(struct pt_error *err, const char *fmt, ...);

#ifdef __cplusplus
}
#endif
#endif
