/* SPDX-License-Identifier: MIT */
/*
 * cli/progress.h: one progress line on stderr for any command that runs longer than two seconds
 * (a brute-force scan, a differential run, an export, a conformance check, a large enumeration).
 *
 * The line shows the work done, the rate and the time left. It appears only when stderr is a
 * terminal (redrawn in place) or when the user asked with --progress (one line every 2 s, for
 * logs); never within the first two seconds, and never on stdout.
 */
#ifndef PTLAB_CLI_PROGRESS_H
#define PTLAB_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/** When a progress line is shown. */
enum ptl_progress_mode {
	PTL_PROGRESS_AUTO = 0, /**< only when stderr is a terminal */
	PTL_PROGRESS_ON = 1,   /**< --progress: also when stderr is a file or a pipe */
	PTL_PROGRESS_OFF = 2,  /**< --no-progress */
};

/** The state of one progress line. */
struct ptl_progress {
	const char *cmd;   /**< "find-kpgd", "check", ... (the line starts "ptlab: CMD: ") */
	const char *unit;  /**< what is counted: "MiB", "probes", "cases" */
	uint64_t divisor;  /**< done/total are divided by this for display (1, or 1 MiB for bytes) */
	bool enabled, tty, shown;
	double start, last;
};

/** Monotonic seconds. */
double ptl_now(void);

/** Start a progress line for `cmd` counting `unit` (shown as counts / divisor). */
void ptl_progress_init(struct ptl_progress *p, const char *cmd, const char *unit, uint64_t divisor,
		       enum ptl_progress_mode mode);
/** Report `done` of `total` (total 0: unknown). Cheap to call often: prints at most 4 times/s. */
void ptl_progress_update(struct ptl_progress *p, uint64_t done, uint64_t total);
/** End the line (a newline on a terminal if anything was shown). */
void ptl_progress_finish(struct ptl_progress *p);

#endif
