/* SPDX-License-Identifier: MIT */
/* walker/error.c: formatting of struct pt_error (include/ptlab/error.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "ptlab/error.h"

/* Append a formatted reason after `n` bytes already written. */
PT_PRINTF(3, 0)
static void error_append(struct pt_error *err, int n, const char *fmt, va_list ap)
{
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof(err->message))
		vsnprintf(err->message + n, sizeof(err->message) - (size_t)n, fmt, ap);
}

enum pt_status pt_error_set(struct pt_error *err, const char *path, uint64_t offset,
			    const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return PT_EINVAL;
	err->offset = offset;
	if (offset == PT_ERROR_NO_OFFSET)
		n = snprintf(err->message, sizeof(err->message), "%s: ", path);
	else
		n = snprintf(err->message, sizeof(err->message), "%s: offset 0x%" PRIx64 ": ",
			     path, offset);
	va_start(ap, fmt);
	error_append(err, n, fmt, ap);
	va_end(ap);
	return PT_EINVAL;
}

enum pt_status pt_error_printf(struct pt_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return PT_EINVAL;
	err->offset = PT_ERROR_NO_OFFSET;
	va_start(ap, fmt);
	error_append(err, 0, fmt, ap);
	va_end(ap);
	return PT_EINVAL;
}
