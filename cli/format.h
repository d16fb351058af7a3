/* SPDX-License-Identifier: MIT */
/* cli/format.h: the short names the text output of several commands shares. */
#ifndef PTLAB_CLI_FORMAT_H
#define PTLAB_CLI_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ptlab/walk.h"

/** Short name of a page size: "4K", "2M", "4M", "1G", else the size in bytes as hex. */
const char *ptl_page_size_name(uint64_t page_size, char *buf, size_t buflen);

/** The #PF error-code bits as names ("P W U RSVD ID PK"), or "none". */
const char *ptl_pf_error_names(uint32_t error_code, char *buf, size_t buflen);

/** The entries a walk read, top level first, each as " LN 0xPA=0xVALUE" (nothing when none). */
void ptl_print_entries(FILE *out, const struct pt_result *result);

#endif
