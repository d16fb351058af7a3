/* SPDX-License-Identifier: MIT */
/*
 * cli/util.h: what every `ptlab` command file includes: the exit statuses and messages
 * (message.h), numbers and the option loop with the shared paging-context options (options.h),
 * the JSON writer (json.h), a dump opened with its paging context (session.h), the short names
 * of the text output (format.h), the progress line (progress.h), and the commands themselves
 * (one cmd_*.c each, dispatched by main.c).
 */
#ifndef PTLAB_CLI_UTIL_H
#define PTLAB_CLI_UTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "format.h"
#include "json.h"
#include "message.h"
#include "options.h"
#include "progress.h"
#include "ptlab/dump.h"
#include "ptlab/walk.h"
#include "session.h"

/* ---- Commands (one file each) ---------------------------------------------------------- */

/** `ptlab translate`: argv[0] is "translate". Returns an exit status. */
int ptl_cmd_translate(int argc, char *argv[]);
/** Print translate's usage to `out`. */
void ptl_usage_translate(FILE *out);
/** `ptlab demo`: the main job on the built-in default image. */
int ptl_cmd_demo(int argc, char *argv[]);
void ptl_usage_demo(FILE *out);
/** `ptlab images`: the boot images built in. */
int ptl_cmd_images(int argc, char *argv[]);
void ptl_usage_images(FILE *out);
/** `ptlab boot`: run a boot image in Unicorn, write its dump and System.map. */
int ptl_cmd_boot(int argc, char *argv[]);
void ptl_usage_boot(FILE *out);
/** `ptlab maps`: argv[0] is "maps". Returns an exit status. */
int ptl_cmd_maps(int argc, char *argv[]);
/** Print maps' usage to `out`. */
void ptl_usage_maps(FILE *out);
/** `ptlab find-kpgd`: the kernel's top-level page table and offsets. Returns an exit status. */
int ptl_cmd_find_kpgd(int argc, char *argv[]);
/** Print find-kpgd's usage to `out`. */
void ptl_usage_find_kpgd(FILE *out);
/** `ptlab diff`: the walker against Unicorn's MMU (the oracle). */
int ptl_cmd_diff(int argc, char *argv[]); void ptl_usage_diff(FILE *out);
/** `ptlab convert`: write a dump as kdump-compressed (zlib, lzo, snappy, zstd) or an ELF core. */
int ptl_cmd_convert(int argc, char *argv[]);
/** Print convert's usage to `out`. */
void ptl_usage_convert(FILE *out);
/** `ptlab check`: a walker that is not ptlab's, over the conformance kit's cases. */
int ptl_cmd_check(int argc, char *argv[]);
void ptl_usage_check(FILE *out);
/** `ptlab vectors export`: the conformance cases as files for other projects' tests. */
int ptl_cmd_vectors(int argc, char *argv[]);
void ptl_usage_vectors(FILE *out);

#endif
