/* SPDX-License-Identifier: MIT */
/*
 * kit/exec_proc.h: the process of an exec walker (exec_proc.c), used by run_exec.c only.
 */
#ifndef PTLAB_KIT_EXEC_PROC_H
#define PTLAB_KIT_EXEC_PROC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/** Bytes of the walker's stderr kept for messages. */
enum { KIT_PROC_TAIL = 2048 };

/** A walker process and its three pipes. Zero it, set command and timeout. */
struct kit_proc {
	const char *command;      /**< run with /bin/sh -c */
	double timeout;           /**< seconds per request */
	pid_t pid;                /**< 0 when not running */
	bool reaped;              /**< its exit status was collected already */
	int to_fd, from_fd, err_fd;
	char *buf;                /**< stdout bytes not consumed yet */
	size_t buf_len, buf_cap;
	char *line;               /**< the last line read */
	size_t line_cap;
	bool out_eof, err_eof;
	char tail[KIT_PROC_TAIL]; /**< the last bytes of stderr (a ring) */
	size_t tail_pos, tail_total;
};

/** Start the command; false with why. */
bool kit_proc_start(struct kit_proc *proc, char *why, size_t len);
/** Stop it: end of input and up to 2 s to exit when `gently`, then SIGKILL to its group. */
void kit_proc_stop(struct kit_proc *proc, bool gently);
/**
 * Send `request` as one line and read one line back as a JSON object. NULL with why (and the
 * process stopped) when it died, hung past the timeout or printed something else; why ends
 * with the tail of its stderr.
 */
json_t *kit_proc_exchange(struct kit_proc *proc, json_t *request, char *why, size_t len);
/** Stop and free. */
void kit_proc_deinit(struct kit_proc *proc);

#endif
