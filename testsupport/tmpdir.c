/* SPDX-License-Identifier: MIT */
/*
 * tmpdir.c: see tmpdir.h.
 */
#define _XOPEN_SOURCE 700
#include "tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int ts_tmpdir_create(char *dir, size_t size, const char *tag)
{
	const int n = snprintf(dir, size, "/tmp/ptlab-test-%s-XXXXXX", tag);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int ts_tmpdir_remove(const char *dir)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
