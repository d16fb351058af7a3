/* SPDX-License-Identifier: MIT */
/* cli/progress.c: the progress line on stderr (progress.h). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

/** Nothing is shown before a command has run this long. */
static const double PROGRESS_AFTER_S = 2.0;

double ptl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ptl_progress_init(struct ptl_progress *p, const char *cmd, const char *unit, uint64_t divisor,
		       enum ptl_progress_mode mode)
{
	p->cmd = cmd;
	p->unit = unit;
	p->divisor = divisor ? divisor : 1;
	p->tty = isatty(2);
	p->enabled = mode == PTL_PROGRESS_ON || (mode == PTL_PROGRESS_AUTO && p->tty);
	p->shown = false;
	p->start = ptl_now();
	p->last = p->start;
}

/** "1m05s", "12s". */
static void format_duration(double s, char *buf, size_t len)
{
	unsigned long t = s > 0 ? (unsigned long)(s + 0.5) : 0;
	if (t >= 60)
		snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
	else
		snprintf(buf, len, "%lus", t);
}

void ptl_progress_update(struct ptl_progress *p, uint64_t done, uint64_t total)
{
	double t;
	char eta[64] = "";

	if (!p->enabled)
		return;
	t = ptl_now();
	if (t - p->start < PROGRESS_AFTER_S)
		return;
	if (p->shown && t - p->last < (p->tty ? 0.25 : 2.0) && (total == 0 || done < total))
		return;
	p->last = t;
	p->shown = true;
	double rate = (double)done / (double)p->divisor / (t - p->start);
	if (total && done && done <= total) {
		char left[48];
		format_duration((t - p->start) * (double)(total - done) / (double)done, left, sizeof(left));
		snprintf(eta, sizeof(eta), ", %s left", left);
	}
	if (total)
		fprintf(stderr, "%sptlab: %s: %3.0f%% (%llu of %llu %s, %.0f %s/s%s)%s", p->tty ? "\r" : "",
			p->cmd, 100.0 * (double)done / (double)total,
			(unsigned long long)(done / p->divisor), (unsigned long long)(total / p->divisor),
			p->unit, rate, p->unit, eta, p->tty ? "\033[K" : "\n");
	else
		fprintf(stderr, "%sptlab: %s: %llu %s (%.0f %s/s)%s", p->tty ? "\r" : "", p->cmd,
			(unsigned long long)(done / p->divisor), p->unit, rate, p->unit,
			p->tty ? "\033[K" : "\n");
	fflush(stderr);
}

void ptl_progress_finish(struct ptl_progress *p)
{
	if (p->enabled && p->shown && p->tty) {
		fputc('\n', stderr);
		fflush(stderr);
	}
	p->shown = false;
}
