/* SPDX-License-Identifier: MIT */
/*
 * kit/check.c: the check loop. Each selected case is given to the walker, each answer judged and
 * counted under the probe's tag; the first failure of a tag keeps the case's dump (in the keep
 * directory) and the `ptlab translate` command that replays the probe on it. A walker that hangs
 * in three cases ends the run early (said in the report); one that cannot be started at all ends
 * it with an error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kit_internal.h"

/** Cases that timed out before the run stops. */
enum { MAX_HUNG_CASES = 3 };

static const char DEFAULT_KEEP_DIR[] = "ptlab-check-failures";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *ptk_walker_name(const struct ptk_walker *w)
{
	return w->name;
}

void ptk_walker_close(struct ptk_walker *w)
{
	if (w)
		w->ops->close(w);
}

void ptk_report_deinit(struct ptk_report *r)
{
	free(r->tags);
	memset(r, 0, sizeof(*r));
}

/** The report's entry for a tag (added at the end when new). */
static struct ptk_tag_score *tag_score(struct ptk_report *r, const char *name)
{
	struct ptk_tag_score *t;

	for (size_t i = 0; i < r->ntags; i++) {
		if (strcmp(r->tags[i].name, name) == 0)
			return &r->tags[i];
	}
	t = realloc(r->tags, (r->ntags + 1) * sizeof(*t));
	if (!t)
		abort();
	r->tags = t;
	t = &r->tags[r->ntags++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	return t;
}

/** `s`, single-quoted for a shell when it holds anything but [A-Za-z0-9_./+-]. */
static void shell_word(const char *s, char *buf, size_t len)
{
	size_t pos = 0;

	if (!*s || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-:=,")
		       != strlen(s)) {
		buf[pos++] = '\'';
		for (; *s && pos + 5 < len; s++) {
			if (*s == '\'') {
				memcpy(buf + pos, "'\\''", 4);
				pos += 4;
			} else {
				buf[pos++] = *s;
			}
		}
		buf[pos++] = '\'';
		buf[pos] = 0;
	} else {
		snprintf(buf, len, "%s", s);
	}
}

/** The command that shows libptwalk's answer for the probe on the case's dump. Pure translation
 *  is a supervisor read with no SMAP or protection keys in the way. */
static void replay_command(const struct ptk_case *c, const struct ptk_probe *p, const char *dump,
			   char *buf, size_t len)
{
	char word[PATH_MAX + 64], extra[96] = "";
	const uint32_t a = p->access;

	shell_word(dump, word, sizeof(word));
	if (a & PTLAB_ACCESS_CHECK) {
		snprintf(extra, sizeof(extra), "%s%s",
			 (a & PTLAB_ACCESS_FETCH) ? " --access x" : (a & PTLAB_ACCESS_WRITE) ? " --access w" : "",
			 (a & PTLAB_ACCESS_USER) ? " --user" : "");
	} else if (c->state.cr4 & (CR4_SMAP | CR4_PKE)) {
		snprintf(extra, sizeof(extra), " --cr4 0x%" PRIx64, c->state.cr4 & ~(CR4_SMAP | CR4_PKE));
	}
	snprintf(buf, len, "ptlab translate %s 0x%" PRIx64 "%s", word, p->va, extra);
}

/** The case's dump for a failure: its own file, or written into the keep directory. */
static enum pt_status keep_dump(const struct ptk_case *c, const char *dir, struct ptk_report *r,
				bool *written, char *path, size_t len, struct pt_error *err)
{
	if (c->dump) {
		snprintf(path, len, "%s", c->dump);
		return PT_OK;
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return pt_error_set(err, dir, PT_ERROR_NO_OFFSET, "cannot create: %s", strerror(errno));
	snprintf(r->keep_dir, sizeof(r->keep_dir), "%s", dir);
	snprintf(path, len, "%s/%s.core", dir, c->name);
	if (*written)
		return PT_OK; /* kept for another tag's failure in this case */
	*written = true;
	return ptk_case_write(c, path, err);
}

/** Judge every answer of a case into the report. */
static enum pt_status score_case(const struct ptk_case *c, const struct kit_run *run,
				 const char *keep_dir, struct ptk_report *r, struct pt_error *err)
{
	bool written = false;

	for (size_t i = 0; i < c->nprobes; i++) {
		const struct ptk_probe *p = &c->probes[i];
		struct ptk_tag_score *t = tag_score(r, c->tags[p->tag]);
		struct ptk_failure *f = &t->first;

		switch (kit_judge(c, p, &run->answers[i])) {
		case KIT_PASS:
			t->passed++;
			r->passed++;
			continue;
		case KIT_UNSUPPORTED:
			t->unsupported++;
			r->unsupported++;
			continue;
		case KIT_FAIL:
			break;
		}
		t->failed++;
		r->failed++;
		if (t->has_failure)
			continue;
		t->has_failure = true;
		snprintf(f->case_name, sizeof(f->case_name), "%s", c->name);
		f->cr3 = c->cpu.cr3;
		f->va = p->va;
		f->access = p->access;
		kit_expect_text(p, f->expected, sizeof(f->expected));
		kit_answer_text(&run->answers[i], run, f->got, sizeof(f->got));
		if (keep_dump(c, keep_dir, r, &written, f->dump, sizeof(f->dump), err) != PT_OK)
			return PT_EINVAL;
		replay_command(c, p, f->dump, f->replay, sizeof(f->replay));
	}
	return PT_OK;
}

/** Run one case; PT_EINVAL when the walker cannot be started at all. */
static enum pt_status check_case(struct ptk_walker *w, const struct ptk_case *c,
				 const char *keep_dir, struct ptk_report *r, struct pt_error *err)
{
	struct kit_run *run = calloc(1, sizeof(*run));
	enum pt_status st;

	if (!run)
		return pt_error_printf(err, "out of memory");
	run->answers = calloc(c->nprobes ? c->nprobes : 1, sizeof(*run->answers));
	if (!run->answers) {
		free(run);
		return pt_error_printf(err, "out of memory");
	}
	st = w->ops->run_case(w, c, run, err);
	if (st == PT_OK && run->fatal)
		st = pt_error_printf(err, "%s: the walker cannot be started: %s", w->name,
				     run->msgs[run->nmsgs ? run->nmsgs - 1 : 0]);
	if (st == PT_OK) {
		r->cases++;
		r->probes += c->nprobes;
		if (run->hung)
			w->hung_cases++;
		st = score_case(c, run, keep_dir, r, err);
	}
	free(run->answers);
	free(run);
	return st;
}

enum pt_status ptk_check(struct ptk_walker *w, const struct ptk_check_opts *opts,
			 struct ptk_report *r, struct pt_error *err)
{
	const char *keep_dir = opts->keep_dir ? opts->keep_dir : DEFAULT_KEEP_DIR;
	const double t0 = now();
	struct ptk_cases *cases = NULL;
	const struct ptk_case *c;
	enum pt_status st;
	uint64_t done = 0;

	memset(r, 0, sizeof(*r));
	snprintf(r->walker, sizeof(r->walker), "%s", w->name);
	st = ptk_cases_open(&opts->select, &cases, err);
	while (st == PT_OK && (st = ptk_cases_next(cases, &c, err)) == PT_OK && c) {
		st = check_case(w, c, keep_dir, r, err);
		if (opts->progress)
			opts->progress(opts->user, ++done, ptk_cases_total(cases));
		if (st == PT_OK && w->hung_cases >= MAX_HUNG_CASES) {
			snprintf(r->stopped, sizeof(r->stopped),
				 "the walker hung in %u cases; the cases after %s were not run",
				 w->hung_cases, c->name);
			break;
		}
	}
	ptk_cases_close(cases);
	r->seconds = now() - t0;
	return st;
}
