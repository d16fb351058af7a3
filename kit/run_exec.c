/* SPDX-License-Identifier: MIT */
/*
 * kit/run_exec.c: the exec protocol (docs/conformance.md, "a walker in another language"). Per
 * case: its dump (written to a temporary directory for built cases), one open, translate
 * requests of at most BATCH addresses grouped by (user, check), one close. A walker that dies,
 * hangs or prints something else fails the probes of the request in flight, with the reason and
 * its stderr tail; it is started again and the case reopened for the rest, a few times per case.
 * One that dies before it ever answered an open, three times running, cannot be started: the
 * check ends with an error (exit 2) instead of failing every case the same way.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_proc.h"
#include "kit_internal.h"

/** Addresses per translate request. */
enum { BATCH = 256 };
/** Restarts of the walker within one case. */
enum { MAX_RESTARTS = 3 };
/** Starts in a row that died before any open was ever answered. */
enum { MAX_DEAD_STARTS = 3 };

/** Every paging mode: an exec walker declines a mode by answering open "unsupported". */
static const uint32_t ALL_MODES = PTLAB_CAP_LEGACY32 | PTLAB_CAP_PAE | PTLAB_CAP_IA32E_4 |
				  PTLAB_CAP_IA32E_5;

struct exec_walker {
	struct ptk_walker base;
	struct kit_proc proc;
	char *command;
	uint32_t declared;      /**< --caps, and the caps of every open reply so far */
	char tmpdir[PATH_MAX];  /**< dumps of built cases while they run */
	bool ever_opened;
	unsigned dead_starts;
};

/** Per case: where the probes stand. */
struct exec_case {
	const struct ptk_case *c;
	const char *dump;
	uint32_t caps;          /**< declared plus what the open reply said */
	unsigned restarts;
	struct kit_run *run;
};

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

/** A JSON integer or "0x..." / decimal string as a 64-bit number. */
static bool get_u64(const json_t *v, uint64_t *ret)
{
	const char *s;
	char *end;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*ret = (uint64_t)json_integer_value(v);
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*ret = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	return errno == 0 && end != s && !*end;
}

static json_t *open_request(const struct ptk_case *c, const char *dump)
{
	json_t *pdpte = json_array();

	for (unsigned i = 0; i < 4; i++)
		json_array_append_new(pdpte, hex(c->cpu.pdpte[i]));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:I}", "op", "open",
			 "case", c->name, "dump", dump, "format", pt_dump_format_name(c->format),
			 "paging", ptk_paging_name(c->cpu.paging), "maxphyaddr",
			 (json_int_t)c->cpu.maxphyaddr, "cr0", hex(c->cpu.cr0), "cr3", hex(c->cpu.cr3),
			 "cr4", hex(c->cpu.cr4), "efer", hex(c->cpu.efer), "pdpte", pdpte, "pkru",
			 hex(c->cpu.pkru), "cbit", (json_int_t)c->cpu.sme_cbit);
}

/** Fail probes[from..to) of the list with a message. */
static void fail_list(struct exec_case *ec, const uint32_t *list, size_t from, size_t to,
		      uint16_t msg)
{
	for (size_t k = from; k < to; k++) {
		ec->run->answers[list[k]].kind = KIT_ANS_ERROR;
		ec->run->answers[list[k]].msg = msg;
	}
}

/** Start the walker if needed and open the case. 1 opened, 0 declined (unsupported, msg set),
 *  -1 failed (why set). */
static int open_case(struct exec_walker *x, struct exec_case *ec, char *why, size_t len,
		     uint16_t *msg_ret)
{
	json_t *req, *reply, *ok, *caps;
	size_t i;
	json_t *v;

	if (!x->proc.pid && !kit_proc_start(&x->proc, why, len))
		return -1;
	req = open_request(ec->c, ec->dump);
	reply = kit_proc_exchange(&x->proc, req, why, len);
	json_decref(req);
	if (!reply)
		return -1;
	ok = json_object_get(reply, "ok");
	if (!json_is_boolean(ok)) {
		char *text = json_dumps(reply, JSON_COMPACT);
		snprintf(why, len, "the open reply has no \"ok\": %.160s", text ? text : "?");
		free(text);
		json_decref(reply);
		kit_proc_stop(&x->proc, false);
		return -1;
	}
	x->ever_opened = true;
	x->dead_starts = 0;
	if (!json_is_true(ok)) {
		const char *r = json_string_value(json_object_get(reply, "unsupported"));
		*msg_ret = kit_run_msg(ec->run, "the walker declined the case: %s", r ? r : "(no reason)");
		json_decref(reply);
		return 0;
	}
	caps = json_object_get(reply, "caps");
	json_array_foreach(caps, i, v) {
		uint32_t bits;
		if (json_is_string(v) && ptk_caps_parse(json_string_value(v), &bits, NULL))
			x->declared |= bits & ~ALL_MODES;
	}
	ec->caps = x->declared | ALL_MODES;
	json_decref(reply);
	return 1;
}

/** One result object of a translate reply. */
static void parse_result(const json_t *r, struct exec_case *ec, struct kit_answer *a)
{
	const json_t *data = json_object_get(r, "data"), *fault = json_object_get(r, "fault");
	const json_t *pa = json_object_get(r, "pa"), *size = json_object_get(r, "size");
	const json_t *error = json_object_get(r, "error");
	uint64_t v;

	memset(a, 0, sizeof(*a));
	if (json_is_string(data) && strlen(json_string_value(data)) == 16) {
		const char *s = json_string_value(data);
		a->kind = KIT_ANS_DATA;
		for (unsigned i = 0; i < 16; i++) {
			const char ch = s[i];
			const int d = ch >= '0' && ch <= '9' ? ch - '0'
				      : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
				      : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
			if (d < 0)
				goto bad;
			a->data[i / 2] = (uint8_t)(a->data[i / 2] << 4 | d);
		}
		return;
	}
	if (json_is_true(fault)) {
		a->kind = KIT_ANS_FAULT;
		if (error) {
			if (!get_u64(error, &v) || v > UINT32_MAX)
				goto bad;
			a->has_error = true;
			a->pf_error = (uint32_t)v;
		}
		return;
	}
	if (pa && get_u64(pa, &a->pa)) {
		a->kind = KIT_ANS_PA;
		if (size) {
			if (!get_u64(size, &a->page_size))
				goto bad;
			a->has_size = true;
		}
		return;
	}
bad: {
		char *text = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);
		a->kind = KIT_ANS_ERROR;
		a->msg = kit_run_msg(ec->run, "an answer that is not the protocol: %.200s",
				     text ? text : "?");
		free(text);
	}
}

/** One translate request for probes list[0..n); false when the walker failed (why set). */
static bool translate_batch(struct exec_walker *x, struct exec_case *ec, const uint32_t *list,
			    size_t n, char *why, size_t len)
{
	const struct ptk_probe *first = &ec->c->probes[list[0]];
	json_t *vas = json_array(), *access = json_array(), *req, *reply, *results;

	for (size_t k = 0; k < n; k++) {
		const struct ptk_probe *p = &ec->c->probes[list[k]];
		json_array_append_new(vas, hex(p->va));
		json_array_append_new(access, json_string((p->access & PTLAB_ACCESS_FETCH) ? "x"
							  : (p->access & PTLAB_ACCESS_WRITE) ? "w" : "r"));
	}
	req = json_pack("{s:s,s:o,s:o,s:b,s:b}", "op", "translate", "vas", vas, "access", access,
			"user", (first->access & PTLAB_ACCESS_USER) != 0, "check",
			(first->access & PTLAB_ACCESS_CHECK) != 0);
	reply = kit_proc_exchange(&x->proc, req, why, len);
	json_decref(req);
	if (!reply)
		return false;
	results = json_object_get(reply, "results");
	if (!json_is_array(results) || json_array_size(results) != n) {
		snprintf(why, len, "the translate reply has %s for %zu addresses",
			 json_is_array(results) ? "another number of results" : "no \"results\" array", n);
		json_decref(reply);
		kit_proc_stop(&x->proc, false);
		return false;
	}
	for (size_t k = 0; k < n; k++)
		parse_result(json_array_get(results, k), ec, &ec->run->answers[list[k]]);
	json_decref(reply);
	return true;
}

/** A start or open that failed: counts toward "cannot be started" until an open succeeds. */
static void dead_start(struct exec_walker *x, struct exec_case *ec, const char *why)
{
	if (!x->ever_opened && ++x->dead_starts >= MAX_DEAD_STARTS) {
		ec->run->fatal = true;
		kit_run_msg(ec->run, "%s (before answering the open of its first %d cases)", why,
			    MAX_DEAD_STARTS);
	}
}

/** Translate the probes of `list` (one group), batch by batch, restarting when needed. */
static void run_group(struct exec_walker *x, struct exec_case *ec, const uint32_t *list, size_t n)
{
	char why[1024];
	uint16_t msg;

	for (size_t from = 0; from < n; from += BATCH) {
		const size_t count = n - from < BATCH ? n - from : BATCH;
		if (!x->proc.pid) {
			/* Restarted after a failure in this case: open it again. */
			if (++ec->restarts > MAX_RESTARTS) {
				fail_list(ec, list, from, n,
					  kit_run_msg(ec->run, "not run: the walker failed %d times in this "
						      "case", MAX_RESTARTS));
				return;
			}
			int o = open_case(x, ec, why, sizeof(why), &msg);
			if (o <= 0) {
				fail_list(ec, list, from, n, o < 0 ? kit_run_msg(ec->run, "reopening the "
						"case after a failure: %s", why) : msg);
				return;
			}
		}
		if (!translate_batch(x, ec, list + from, count, why, sizeof(why))) {
			fail_list(ec, list, from, from + count, kit_run_msg(ec->run, "%s", why));
			if (strstr(why, "within"))
				ec->run->hung = true;
		}
	}
}

static enum pt_status exec_run_case(struct ptk_walker *w, const struct ptk_case *c,
				    struct kit_run *run, struct pt_error *err)
{
	struct exec_walker *x = (struct exec_walker *)w;
	struct exec_case ec = { .c = c, .run = run, .caps = x->declared | ALL_MODES };
	uint32_t *list = malloc((c->nprobes ? c->nprobes : 1) * sizeof(*list));
	char path[PATH_MAX + 128], why[1024];
	uint16_t msg;
	size_t n = 0;
	int o;

	if (!list)
		return pt_error_printf(err, "out of memory");
	/* Until a first open is answered, its caps are unknown: assume all of them, to ask. */
	for (size_t i = 0; i < c->nprobes; i++)
		n += kit_supported(x->ever_opened ? ec.caps : ~0u, c, &c->probes[i]);
	if (n == 0) {
		free(list);
		return PT_OK; /* nothing it could answer: not even opened */
	}
	ec.dump = c->dump;
	if (!ec.dump) {
		snprintf(path, sizeof(path), "%s/%s.core", x->tmpdir, c->name);
		if (ptk_case_write(c, path, err) != PT_OK) {
			free(list);
			return PT_EINVAL;
		}
		ec.dump = path;
	}
	o = open_case(x, &ec, why, sizeof(why), &msg);
	for (unsigned key = 0; o > 0 && key < 4; key++) {
		/* key: bit 0 user, bit 1 check; one group per (user, check), in probe order. */
		n = 0;
		for (size_t i = 0; i < c->nprobes; i++) {
			const struct ptk_probe *p = &c->probes[i];
			const unsigned k = ((p->access & PTLAB_ACCESS_USER) ? 1 : 0) |
					   ((p->access & PTLAB_ACCESS_CHECK) ? 2 : 0);
			if (k == key && kit_supported(ec.caps, c, p))
				list[n++] = (uint32_t)i;
		}
		if (n)
			run_group(x, &ec, list, n);
	}
	if (o != 1) {
		/* Declined (every probe it was offered is unsupported) or failed. */
		uint16_t m = o == 0 ? msg : kit_run_msg(run, "open failed: %s", why);
		for (size_t i = 0; i < c->nprobes; i++) {
			if (kit_supported(ec.caps, c, &c->probes[i])) {
				run->answers[i].kind = o == 0 ? KIT_ANS_UNSUPPORTED : KIT_ANS_ERROR;
				run->answers[i].msg = m;
			}
		}
		if (o < 0) {
			run->hung = strstr(why, "within") != NULL;
			dead_start(x, &ec, why);
		}
	} else if (x->proc.pid) {
		json_t *req = json_pack("{s:s}", "op", "close");
		json_t *reply = kit_proc_exchange(&x->proc, req, why, sizeof(why));
		json_decref(req);
		json_decref(reply); /* a bad close reply stopped the walker; the next case restarts it */
	}
	if (!c->dump)
		unlink(path);
	free(list);
	return PT_OK;
}

static void exec_close(struct ptk_walker *w)
{
	struct exec_walker *x = (struct exec_walker *)w;

	kit_proc_deinit(&x->proc);
	if (x->tmpdir[0])
		rmdir(x->tmpdir);
	free(x->command);
	free(x);
}

static const struct kit_walker_ops exec_ops = { exec_run_case, exec_close };

enum pt_status ptk_walker_exec(const char *command, const struct ptk_walker_opts *opts,
			       struct ptk_walker **walker_ret, struct pt_error *err)
{
	struct exec_walker *x = calloc(1, sizeof(*x));
	const char *tmp = getenv("TMPDIR");

	*walker_ret = NULL;
	if (!x || !(x->command = strdup(command))) {
		free(x);
		return pt_error_printf(err, "out of memory");
	}
	if (!*command) {
		exec_close(&x->base);
		return pt_error_printf(err, "--exec: empty command");
	}
	snprintf(x->tmpdir, sizeof(x->tmpdir), "%s/ptlab-check-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(x->tmpdir)) {
		int e = errno;
		x->tmpdir[0] = 0;
		exec_close(&x->base);
		return pt_error_printf(err, "cannot create a temporary directory: %s", strerror(e));
	}
	/* A walker that dies while we write to it must not take ptlab with it. */
	signal(SIGPIPE, SIG_IGN);
	x->base.ops = &exec_ops;
	x->base.timeout = opts && opts->timeout > 0 ? opts->timeout : 20;
	x->declared = (opts ? opts->caps : 0) & ~ALL_MODES;
	x->base.caps = x->declared | ALL_MODES;
	snprintf(x->base.name, sizeof(x->base.name), "%s", command);
	x->proc.command = x->command;
	x->proc.timeout = x->base.timeout;
	x->proc.to_fd = x->proc.from_fd = x->proc.err_fd = -1;
	*walker_ret = &x->base;
	return PT_OK;
}
