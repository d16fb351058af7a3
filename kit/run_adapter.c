/* SPDX-License-Identifier: MIT */
/*
 * kit/run_adapter.c: a C adapter runs each case in a child process. The child loads the shared
 * object, opens the walker over the case's memory and translates the probes, writing each answer
 * into memory shared with the parent and advancing a counter; so when the walker dies (a signal,
 * an exit) the parent knows which probe killed it, fails that probe naming the signal, and starts
 * a new child at the next probe. A case that outlives its timeout is killed; its probe in flight
 * and the ones not reached fail as timed out. ptlab itself never runs the walker's code.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kit_internal.h"

/** Restarts after crashes within one case before its remaining probes are given up. */
enum { MAX_RESTARTS = 32 };
/** Cases whose open() failed in a row, with no case ever opened, before the walker is taken as
 *  one that cannot be started. */
enum { MAX_DEAD_STARTS = 3 };

/** How far a child got. */
enum phase { PHASE_LOAD = 0, PHASE_OPEN, PHASE_TRANSLATE, PHASE_CLOSE, PHASE_DONE };

/** Shared with a case's child: its progress, then one slot per probe asked. */
struct shared_head {
	uint32_t phase;       /**< enum phase */
	uint32_t next;        /**< index (in todo) of the probe being translated */
	uint32_t unsupported; /**< open() returned NULL */
	char msg[512];        /**< why loading failed */
};
struct shared_slot {
	int32_t rc;
	struct ptlab_result r;
};

struct adapter_walker {
	struct ptk_walker base;
	char path[PATH_MAX];
	bool opened_once;
	unsigned dead_starts;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/** In the child: signals back to their defaults, so a crash ends the process with its signal
 *  (a sanitizer's handler would turn it into an abort), and stdout onto stderr (the scorecard
 *  and --json own stdout). */
static void child_setup(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGPIPE };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	dup2(2, 1);
}

static void __attribute__((noreturn))
child_main(const char *path, const struct ptk_case *c, const uint32_t *todo, size_t ntodo,
	   size_t start, struct shared_head *h, struct shared_slot *slots)
{
	struct ptk_adapter a;
	struct pt_error err;
	void *w;

	child_setup();
	if (ptk_adapter_load(path, &a, &err) != PT_OK) {
		snprintf(h->msg, sizeof(h->msg), "%s", err.message);
		_exit(3);
	}
	__atomic_store_n(&h->phase, PHASE_OPEN, __ATOMIC_SEQ_CST);
	w = a.desc->open(&c->cpu, ptk_read_phys, (void *)c->mem);
	if (!w) {
		h->unsupported = 1;
		__atomic_store_n(&h->phase, PHASE_DONE, __ATOMIC_SEQ_CST);
		_exit(0);
	}
	__atomic_store_n(&h->phase, PHASE_TRANSLATE, __ATOMIC_SEQ_CST);
	for (size_t k = start; k < ntodo; k++) {
		const struct ptk_probe *p = &c->probes[todo[k]];
		struct ptlab_result r;

		__atomic_store_n(&h->next, (uint32_t)k, __ATOMIC_SEQ_CST);
		memset(&r, 0, sizeof(r));
		slots[k].rc = a.desc->translate(w, p->va, p->access, &r);
		slots[k].r = r;
	}
	__atomic_store_n(&h->next, (uint32_t)ntodo, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->phase, PHASE_CLOSE, __ATOMIC_SEQ_CST);
	a.desc->close(w);
	__atomic_store_n(&h->phase, PHASE_DONE, __ATOMIC_SEQ_CST);
	_exit(0);
}

/** Wait for the child to end (its end of the pipe closes) or the deadline. True if it ended. */
static bool wait_child(int fd, double deadline)
{
	for (;;) {
		double left = deadline - now();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char buf[64];

		if (left <= 0)
			return false;
		int n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
			return true;
	}
}

/** "SIGSEGV" / "exit status 3" / "a timeout after 20 s". */
static void describe_end(int status, bool timed_out, double timeout, char *buf, size_t len)
{
	char sig[32];

	if (timed_out)
		snprintf(buf, len, "no answer within the case's %g s (killed)", timeout);
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "the walker crashed: %s",
			 kit_signal_name(WTERMSIG(status), sig, sizeof(sig)));
	else
		snprintf(buf, len, "the walker exited (status %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/** A translate() answer as the kit's answer. */
static void take_answer(const struct ptk_walker *w, const struct shared_slot *s,
			struct kit_run *run, struct kit_answer *a)
{
	memset(a, 0, sizeof(*a));
	if (s->rc != 0) {
		a->kind = KIT_ANS_ERROR;
		a->msg = kit_run_msg(run, "walker error: translate() returned %d", (int)s->rc);
	} else if (s->r.mapped) {
		a->kind = KIT_ANS_PA;
		a->pa = s->r.pa;
		a->page_size = s->r.page_size;
		a->has_size = s->r.page_size != 0 || (w->caps & PTLAB_CAP_PAGE_SIZE);
	} else {
		a->kind = KIT_ANS_FAULT;
		a->pf_error = s->r.pf_error;
		a->has_error = (w->caps & PTLAB_CAP_PF_ERROR) != 0;
	}
}

/** Fail todo[from..to) with message msg. */
static void fail_range(struct kit_run *run, const uint32_t *todo, size_t from, size_t to,
		       uint16_t msg)
{
	for (size_t k = from; k < to; k++) {
		run->answers[todo[k]].kind = KIT_ANS_ERROR;
		run->answers[todo[k]].msg = msg;
	}
}

/** Start one child at todo[start]; wait; return its phase and fill status/timed_out. */
static enum phase run_child(struct adapter_walker *aw, const struct ptk_case *c,
			    const uint32_t *todo, size_t ntodo, size_t start, double deadline,
			    struct shared_head *h, struct shared_slot *slots, int *status,
			    bool *timed_out)
{
	int fds[2];
	pid_t pid;

	memset(h, 0, sizeof(*h));
	*timed_out = false;
	*status = 0;
	if (pipe(fds) != 0)
		return PHASE_LOAD;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child_main(aw->path, c, todo, ntodo, start, h, slots);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		snprintf(h->msg, sizeof(h->msg), "fork: %s", strerror(errno));
		return PHASE_LOAD;
	}
	if (!wait_child(fds[0], deadline)) {
		*timed_out = true;
		kill(pid, SIGKILL);
	}
	close(fds[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return (enum phase)__atomic_load_n(&h->phase, __ATOMIC_SEQ_CST);
}

static enum pt_status adapter_run_case(struct ptk_walker *w, const struct ptk_case *c,
				       struct kit_run *run, struct pt_error *err)
{
	struct adapter_walker *aw = (struct adapter_walker *)w;
	uint32_t *todo = malloc((c->nprobes ? c->nprobes : 1) * sizeof(*todo));
	size_t ntodo = 0, start = 0, map_len;
	unsigned restarts = 0;
	struct shared_head *h;
	struct shared_slot *slots;
	const double deadline = now() + w->timeout;

	if (!todo)
		return pt_error_printf(err, "out of memory");
	for (size_t i = 0; i < c->nprobes; i++) {
		if (kit_supported(w->caps, c, &c->probes[i]))
			todo[ntodo++] = (uint32_t)i;
	}
	/* The slots follow the head, aligned for their 64-bit members. */
	const size_t head_len = (sizeof(*h) + 63) & ~(size_t)63;
	map_len = head_len + (ntodo ? ntodo : 1) * sizeof(*slots);
	h = ntodo ? mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
		  : NULL;
	if (h == MAP_FAILED) {
		free(todo);
		return pt_error_printf(err, "mmap: %s", strerror(errno));
	}
	slots = ntodo ? (struct shared_slot *)((char *)h + head_len) : NULL;
	while (start < ntodo) {
		char how[256];
		int status;
		bool timed_out;
		enum phase ph = run_child(aw, c, todo, ntodo, start, deadline, h, slots, &status,
					  &timed_out);
		const size_t next = ph >= PHASE_TRANSLATE ? h->next : start;

		for (size_t k = start; k < next && k < ntodo; k++)
			take_answer(w, &slots[k], run, &run->answers[todo[k]]);
		if (ph == PHASE_DONE && h->unsupported) {
			uint16_t msg = kit_run_msg(run, "open() returned NULL: the walker declines this "
						   "CPU state");
			for (size_t k = start; k < ntodo; k++) {
				run->answers[todo[k]].kind = KIT_ANS_UNSUPPORTED;
				run->answers[todo[k]].msg = msg;
			}
		}
		if (ph >= PHASE_TRANSLATE) {
			aw->opened_once = true;
			aw->dead_starts = 0;
		}
		if (ph == PHASE_DONE || ph == PHASE_CLOSE)
			break;
		describe_end(status, timed_out, w->timeout, how, sizeof(how));
		if (ph == PHASE_LOAD) {
			fail_range(run, todo, start, ntodo,
				   kit_run_msg(run, "the child could not load the walker: %s",
					       h->msg[0] ? h->msg : how));
			break;
		}
		if (ph == PHASE_OPEN) {
			fail_range(run, todo, start, ntodo, kit_run_msg(run, "%s in open()", how));
			if (!aw->opened_once && ++aw->dead_starts >= MAX_DEAD_STARTS) {
				run->fatal = true;
				kit_run_msg(run, "%s in open() of the first %d cases it was given", how,
					    MAX_DEAD_STARTS);
			}
			if (timed_out)
				run->hung = true;
			break;
		}
		/* PHASE_TRANSLATE: probe `next` was in flight. */
		fail_range(run, todo, next, next + 1, kit_run_msg(run, "%s translating this probe", how));
		if (timed_out) {
			run->hung = true;
			fail_range(run, todo, next + 1, ntodo,
				   kit_run_msg(run, "not run: the case's %g s were up", w->timeout));
			break;
		}
		if (++restarts > MAX_RESTARTS) {
			fail_range(run, todo, next + 1, ntodo,
				   kit_run_msg(run, "not run: the walker died %d times in this case",
					       MAX_RESTARTS + 1));
			break;
		}
		start = next + 1;
	}
	if (h)
		munmap(h, map_len);
	free(todo);
	return PT_OK;
}

static void adapter_close(struct ptk_walker *w)
{
	free(w);
}

static const struct kit_walker_ops adapter_ops = { adapter_run_case, adapter_close };

/** What the loading child reports. */
struct load_report {
	int ok;
	uint32_t caps;
	char name[200];
	char msg[512];
};

/** Read what the child writes until it closes the pipe (true) or the deadline passes. */
static bool read_until_eof(int fd, void *buf, size_t len, size_t *got_ret, double deadline)
{
	size_t got = 0;

	for (;;) {
		double left = deadline - now();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char sink[256];
		ssize_t r;

		if (left <= 0)
			break;
		int n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n <= 0)
			continue;
		if (got < len)
			r = read(fd, (char *)buf + got, len - got);
		else
			r = read(fd, sink, sizeof(sink));
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
			*got_ret = got;
			return true;
		}
		if (r > 0 && got < len)
			got += (size_t)r;
	}
	*got_ret = got;
	return false;
}

enum pt_status ptk_walker_adapter(const char *path, const struct ptk_walker_opts *opts,
				  struct ptk_walker **walker_ret, struct pt_error *err)
{
	const double timeout = opts && opts->timeout > 0 ? opts->timeout : 20;
	struct load_report rep;
	struct adapter_walker *aw;
	int fds[2], status = 0;
	size_t got = 0;
	bool ended;
	pid_t pid;

	*walker_ret = NULL;
	if (strlen(path) >= sizeof(aw->path))
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET, "path too long");
	if (pipe(fds) != 0)
		return pt_error_printf(err, "pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		struct ptk_adapter a;
		struct pt_error lerr;

		close(fds[0]);
		child_setup();
		memset(&rep, 0, sizeof(rep));
		if (ptk_adapter_load(path, &a, &lerr) == PT_OK) {
			rep.ok = 1;
			rep.caps = a.desc->caps;
			snprintf(rep.name, sizeof(rep.name), "%s", a.desc->name);
		} else {
			snprintf(rep.msg, sizeof(rep.msg), "%s", lerr.message);
		}
		_exit(write(fds[1], &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 1);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return pt_error_printf(err, "fork: %s", strerror(errno));
	}
	memset(&rep, 0, sizeof(rep));
	ended = read_until_eof(fds[0], &rep, sizeof(rep), &got, now() + timeout);
	close(fds[0]);
	if (!ended)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got == sizeof(rep) && !rep.ok)
		return pt_error_printf(err, "%s", rep.msg);
	if (got != sizeof(rep) || !rep.ok) {
		char how[256];
		describe_end(status, !ended, timeout, how, sizeof(how));
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET, "loading it failed: %s", how);
	}
	aw = calloc(1, sizeof(*aw));
	if (!aw)
		return pt_error_printf(err, "out of memory");
	aw->base.ops = &adapter_ops;
	aw->base.caps = rep.caps;
	aw->base.timeout = timeout;
	rep.name[sizeof(rep.name) - 1] = 0;
	snprintf(aw->base.name, sizeof(aw->base.name), "%s", rep.name);
	snprintf(aw->path, sizeof(aw->path), "%s", path);
	*walker_ret = &aw->base;
	return PT_OK;
}
