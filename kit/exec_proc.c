/* SPDX-License-Identifier: MIT */
/*
 * kit/exec_proc.c: the process of an exec walker: started with /bin/sh -c in a process group of
 * its own, one JSON object per line each way, every write and read under a deadline (poll), its
 * stderr drained all along and the tail kept for messages. Anything that goes wrong (it died,
 * hung, printed something else) stops the process and says why; run_exec.c decides what follows.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kit_internal.h"
#include "exec_proc.h"

/** The longest line a walker may print. */
enum { MAX_LINE = 16 << 20 };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- The process ------------------------------------------------------------------------------ */

void kit_proc_stop(struct kit_proc *x, bool gently)
{
	int status;

	if (!x->pid)
		return;
	if (x->to_fd >= 0)
		close(x->to_fd);
	x->to_fd = -1;
	if (gently && !x->reaped) {
		/* End of input ends the walker; give it 2 s. */
		for (int i = 0; i < 200; i++) {
			pid_t r = waitpid(x->pid, &status, WNOHANG);
			if (r == x->pid || r < 0) {
				x->reaped = true;
				break;
			}
			usleep(10000);
		}
	}
	kill(-x->pid, SIGKILL); /* the shell's children too */
	if (!x->reaped) {
		kill(x->pid, SIGKILL);
		while (waitpid(x->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (x->from_fd >= 0)
		close(x->from_fd);
	if (x->err_fd >= 0)
		close(x->err_fd);
	x->from_fd = x->err_fd = -1;
	x->pid = 0;
	x->reaped = false;
	x->buf_len = 0;
}

bool kit_proc_start(struct kit_proc *x, char *why, size_t len)
{
	int in[2], out[2], err[2];
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return false;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", x->command, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		close(err[0]);
		snprintf(why, len, "fork: %s", strerror(errno));
		return false;
	}
	setpgid(pid, pid);
	x->pid = pid;
	x->to_fd = in[1];
	x->from_fd = out[0];
	x->err_fd = err[0];
	fcntl(x->to_fd, F_SETFL, O_NONBLOCK);
	fcntl(x->from_fd, F_SETFL, O_NONBLOCK);
	fcntl(x->err_fd, F_SETFL, O_NONBLOCK);
	x->out_eof = x->err_eof = false;
	x->buf_len = 0;
	x->tail_pos = x->tail_total = 0;
	x->reaped = false;
	return true;
}

static void take_stderr(struct kit_proc *x)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(x->err_fd, chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			x->tail[x->tail_pos] = chunk[i];
			x->tail_pos = (x->tail_pos + 1) % KIT_PROC_TAIL;
		}
		x->tail_total += (size_t)n;
	}
	if (n == 0)
		x->err_eof = true;
}

/** "; stderr: ...the last lines..." (or nothing when it wrote none). */
static void stderr_tail(struct kit_proc *x, char *buf, size_t len)
{
	char t[KIT_PROC_TAIL + 1];
	size_t n = x->tail_total < KIT_PROC_TAIL ? x->tail_total : KIT_PROC_TAIL, start, lines = 0;

	if (x->err_fd >= 0)
		take_stderr(x);
	n = x->tail_total < KIT_PROC_TAIL ? x->tail_total : KIT_PROC_TAIL;
	for (size_t i = 0; i < n; i++)
		t[i] = x->tail[(x->tail_pos + KIT_PROC_TAIL - n + i) % KIT_PROC_TAIL];
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r'))
		n--;
	t[n] = 0;
	/* The last 4 lines, at most 600 bytes. */
	for (start = n; start > 0 && lines < 4 && n - start < 600; start--) {
		if (t[start - 1] == '\n')
			lines++;
	}
	if (lines == 4)
		start++;
	if (n == 0) {
		snprintf(buf, len, "; no stderr");
		return;
	}
	size_t pos = (size_t)snprintf(buf, len, "; stderr: ");
	for (size_t i = start; i < n && pos + 4 < len; i++) {
		if (t[i] == '\n') {
			memcpy(buf + pos, " | ", 3);
			pos += 3;
		} else {
			buf[pos++] = t[i];
		}
	}
	buf[pos < len ? pos : len - 1] = 0;
}

/** How the process ended, if it did ("exited (status 2)", "killed by SIGSEGV"); reaps it. */
static void exit_text(struct kit_proc *x, char *buf, size_t len)
{
	int status;
	char sig[32];
	pid_t r = 0;

	for (int i = 0; i < 100 && (r = waitpid(x->pid, &status, WNOHANG)) == 0; i++)
		usleep(2000);
	if (r != x->pid) {
		snprintf(buf, len, "the walker closed its standard output");
		return;
	}
	if (WIFSIGNALED(status))
		snprintf(buf, len, "the walker was killed by %s",
			 kit_signal_name(WTERMSIG(status), sig, sizeof(sig)));
	else if (WIFEXITED(status) && (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126))
		/* POSIX sh: 127 command not found, 126 found but not executable. */
		snprintf(buf, len, "the command was %s (status %d)",
			 WEXITSTATUS(status) == 127 ? "not found" : "not executable",
			 WEXITSTATUS(status));
	else
		snprintf(buf, len, "the walker exited (status %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	x->reaped = true;
}

/** Send one line; false (why set) when the walker is gone or does not read in time. */
static bool send_line(struct kit_proc *x, const char *line, double deadline, char *why,
		      size_t len)
{
	size_t n = strlen(line), off = 0;

	while (off <= n) {
		const char *p = off < n ? line + off : "\n";
		size_t want = off < n ? n - off : 1;
		ssize_t w = write(x->to_fd, p, want);

		if (w > 0) {
			off += (size_t)w;
			if (off == n + 1 || (off > n))
				return true;
			continue;
		}
		if (w < 0 && errno == EPIPE) {
			exit_text(x, why, len);
			return false;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, len, "writing to the walker: %s", strerror(errno));
			return false;
		}
		double left = deadline - now();
		if (left <= 0) {
			snprintf(why, len, "the walker did not read its input within %g s (killed)",
				 x->timeout);
			return false;
		}
		struct pollfd pfd[2] = { { .fd = x->to_fd, .events = POLLOUT },
					 { .fd = x->err_fd, .events = POLLIN } };
		poll(pfd, x->err_eof ? 1 : 2, (int)(left * 1000) + 1);
		if (!x->err_eof && (pfd[1].revents & (POLLIN | POLLHUP)))
			take_stderr(x);
	}
	return true;
}

/** The next line of stdout (NUL-terminated, valid until the next call), or NULL with why. */
static char *read_line(struct kit_proc *x, double deadline, char *why, size_t len)
{
	for (;;) {
		char *nl = x->buf_len ? memchr(x->buf, '\n', x->buf_len) : NULL;

		if (nl) {
			size_t n = (size_t)(nl - x->buf);
			if (n + 1 > x->line_cap) {
				char *l = realloc(x->line, n + 1);
				if (!l)
					abort();
				x->line = l;
				x->line_cap = n + 1;
			}
			memcpy(x->line, x->buf, n);
			x->line[n] = 0;
			memmove(x->buf, nl + 1, x->buf_len - n - 1);
			x->buf_len -= n + 1;
			return x->line;
		}
		if (x->buf_len >= MAX_LINE) {
			snprintf(why, len, "the walker printed a line longer than %d MiB", MAX_LINE >> 20);
			return NULL;
		}
		if (x->out_eof) {
			exit_text(x, why, len);
			return NULL;
		}
		double left = deadline - now();
		if (left <= 0) {
			snprintf(why, len, "no answer within %g s (killed)", x->timeout);
			return NULL;
		}
		struct pollfd pfd[2] = { { .fd = x->from_fd, .events = POLLIN },
					 { .fd = x->err_fd, .events = POLLIN } };
		poll(pfd, x->err_eof ? 1 : 2, (int)(left * 1000) + 1);
		if (!x->err_eof && (pfd[1].revents & (POLLIN | POLLHUP)))
			take_stderr(x);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (x->buf_cap - x->buf_len < 65536) {
				size_t cap = x->buf_cap ? 2 * x->buf_cap : 131072;
				char *b = realloc(x->buf, cap);
				if (!b)
					abort();
				x->buf = b;
				x->buf_cap = cap;
			}
			ssize_t n = read(x->from_fd, x->buf + x->buf_len, x->buf_cap - x->buf_len);
			if (n > 0)
				x->buf_len += (size_t)n;
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				x->out_eof = true;
		}
	}
}

/** One request and its reply parsed as a JSON object; NULL with why (the walker is then
 *  stopped: whatever it does next cannot be trusted). */
json_t *kit_proc_exchange(struct kit_proc *x, json_t *request, char *why, size_t len)
{
	const double deadline = now() + x->timeout;
	char *text = json_dumps(request, JSON_COMPACT);
	char *line;
	json_t *reply = NULL;
	json_error_t jerr;
	char tail[800];

	if (!text)
		abort();
	if (!send_line(x, text, deadline, why, len) || !(line = read_line(x, deadline, why, len))) {
		free(text);
		stderr_tail(x, tail, sizeof(tail));
		snprintf(why + strlen(why), len - strlen(why), "%s", tail);
		kit_proc_stop(x, false);
		return NULL;
	}
	free(text);
	reply = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	if (!reply || !json_is_object(reply)) {
		stderr_tail(x, tail, sizeof(tail));
		snprintf(why, len, "the walker printed a line that is not the protocol (%s): '%.120s'%s",
			 reply ? "not a JSON object" : jerr.text, line, tail);
		json_decref(reply);
		kit_proc_stop(x, false);
		return NULL;
	}
	return reply;
}

void kit_proc_deinit(struct kit_proc *x)
{
	kit_proc_stop(x, true);
	free(x->buf);
	free(x->line);
	x->buf = x->line = NULL;
	x->buf_cap = x->line_cap = 0;
}
