/* SPDX-License-Identifier: MIT */
/*
 * cli/message.h: the exit statuses of every ptlab command and its one-line messages on stderr.
 *
 * Exit statuses follow design.md: 0 success, 1 the check or lookup failed, 2 bad usage or
 * unreadable input (with ONE line on stderr naming the file and offset, or the argument).
 */
#ifndef PTLAB_CLI_MESSAGE_H
#define PTLAB_CLI_MESSAGE_H

/** Exit statuses of every command. */
enum ptl_exit {
	PTL_EXIT_OK = 0,     /**< success */
	PTL_EXIT_FAILED = 1, /**< a fault, a missing table, a failed check */
	PTL_EXIT_USAGE = 2,  /**< bad usage or unreadable input */
};

/** Print "ptlab: MESSAGE" as one line on stderr. */
void ptl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Print "ptlab: warning: MESSAGE" as one line on stderr. */
void ptl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/**
 * Print "ptlab: CMD: MESSAGE (see 'ptlab CMD --help')" as one line on stderr and return
 * PTL_EXIT_USAGE, so a command can `return ptl_usage_error(...)`.
 */
int ptl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
