/* SPDX-License-Identifier: MIT */
/*
 * tmpdir.h: a temporary directory for the files a test writes (dumps, cores), made before a
 * group of tests and removed with everything in it after.
 */
#ifndef PTLAB_TESTSUPPORT_TMPDIR_H
#define PTLAB_TESTSUPPORT_TMPDIR_H

#include <stddef.h>

/** Make /tmp/ptlab-test-TAG-XXXXXX into dir[size]. 0, or -1 (errno set). */
int ts_tmpdir_create(char *dir, size_t size, const char *tag);

/** Remove dir and everything under it. 0, or -1. */
int ts_tmpdir_remove(const char *dir);

#endif
