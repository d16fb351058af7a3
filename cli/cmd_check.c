/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd_check.c: `ptlab check`: run a page-table walker that is not ptlab's (a C adapter or a
 * command speaking JSON lines) over the conformance kit's cases and print its scorecard
 * (docs/conformance.md). The work is libptkit's (kit/kit.h); this file parses and prints.
 */
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "util.h"

static const char cmd_name[] = "check";

enum check_opt {
	OPT_ADAPTER = PTL_OPT_COMMAND,
	OPT_EXEC,
	OPT_CAPS,
	OPT_TAGS,
	OPT_VECTORS,
	OPT_REAL,
	OPT_NO_REAL,
	OPT_TIMEOUT,
	OPT_KEEP,
};

static const struct option long_options[] = {
	{ "help", no_argument, NULL, PTL_OPT_HELP },
	{ "json", no_argument, NULL, PTL_OPT_JSON },
	{ "progress", no_argument, NULL, PTL_OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, PTL_OPT_NO_PROGRESS },
	{ "adapter", required_argument, NULL, OPT_ADAPTER },
	{ "exec", required_argument, NULL, OPT_EXEC },
	{ "caps", required_argument, NULL, OPT_CAPS },
	{ "tags", required_argument, NULL, OPT_TAGS },
	{ "vectors", required_argument, NULL, OPT_VECTORS },
	{ "real", required_argument, NULL, OPT_REAL },
	{ "no-real", no_argument, NULL, OPT_NO_REAL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ NULL, 0, NULL, 0 },
};

void ptl_usage_check(FILE *out)
{
	fputs("Usage: ptlab check --adapter WALKER.so [options]\n"
	      "       ptlab check --exec 'COMMAND ARGS' [--caps LIST] [options]\n"
	      "Run a page-table walker over ptlab's conformance cases (the SDM's paging modes,\n"
	      "page sizes, reserved bits, MAXPHYADDR, CR3 bits, PAT, SME, rights and #PF error\n"
	      "codes; the failure classes of LibVMI, Volatility, crash, QEMU/Unicorn; random\n"
	      "tables; the tables ptlab's boot images build; the real tier's Debian dumps) and\n"
	      "print its scorecard per feature tag (docs/conformance.md).\n"
	      "\n"
	      "  --adapter WALKER.so  a C adapter (include/ptlab/adapter.h); each case runs in a\n"
	      "                       child process, so a crash fails the probe it was on\n"
	      "  --exec 'COMMAND'     a walker speaking JSON lines on stdin/stdout (/bin/sh -c)\n"
	      "  --caps LIST          what the exec walker does beyond translating, comma-separated:\n"
	      "                       rights, pf-error, page-size, sme-cbit (its open reply may\n"
	      "                       also say \"caps\":[...]; modes: it answers open unsupported)\n"
	      "  --tags GLOB[,GLOB]   only these tags (fnmatch), e.g. 'ia32e4.*,canonical'\n"
	      "  --vectors DIR        the cases of an exported corpus (ptlab vectors export)\n"
	      "  --real DIR           real dumps (NAME.core, tag real.NAME); default: the real\n"
	      "                       tier's cache when present (ci/real-kernels path dumps)\n"
	      "  --no-real            no real.* cases\n"
	      "  --timeout SECONDS    per case (adapter) or per request (exec); default 20\n"
	      "  --keep DIR           where failing cases' dumps are kept (default\n"
	      "                       ./ptlab-check-failures)\n"
	      "  --json               one JSON object (format ptlab-check/1)\n"
	      "  --progress, --no-progress  a progress line on stderr past 2 s (default: on a tty)\n"
	      "\n"
	      "Exit: 0 every supported probe passed, 1 a probe failed, 2 bad usage or a walker\n"
	      "that cannot be loaded or started.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab check --adapter build/ptwalk_adapter.so\n"
	      "  ptlab check --adapter ./mywalker.so --tags 'ia32e4.*,canonical' --json\n"
	      "  ptlab check --exec 'python3 walker.py' --caps page-size\n"
	      "  ptlab check --adapter ./mywalker.so --vectors corpus/\n",
	      out);
}

/** What the command line asked for. */
struct check_args {
	struct ptl_ctx_opts common;   /**< --help, --json, --progress */
	const char *adapter, *exec, *caps;
	double timeout;
	struct ptk_check_opts check;
};

static int parse_timeout(const char *arg, double *ret)
{
	char *end;
	double t = strtod(arg, &end);

	if (end == arg || *end || !(t > 0) || t > 3600)
		return ptl_usage_error(cmd_name, "--timeout '%s' is not a number of seconds in (0, 3600]",
				       arg);
	*ret = t;
	return PTL_CONTINUE;
}

static int own_option(void *state, int opt, const char *arg)
{
	struct check_args *a = state;

	switch (opt) {
	case OPT_ADAPTER: a->adapter = arg; break;
	case OPT_EXEC: a->exec = arg; break;
	case OPT_CAPS: a->caps = arg; break;
	case OPT_TAGS: a->check.select.tags = arg; break;
	case OPT_VECTORS: a->check.select.vectors_dir = arg; break;
	case OPT_REAL: a->check.select.real_dir = arg; break;
	case OPT_NO_REAL: a->check.select.real_dir = ""; break;
	case OPT_KEEP: a->check.keep_dir = arg; break;
	case OPT_TIMEOUT: return parse_timeout(arg, &a->timeout);
	}
	return PTL_CONTINUE;
}

/* Parse argv; returns PTL_CONTINUE to go on, else an exit status (help printed or usage error). */
static int parse_args(int argc, char *argv[], struct check_args *a)
{
	const struct ptl_option_spec spec = { cmd_name, long_options, ":h", &a->common, own_option, a };
	int ret = ptl_parse_options(&spec, argc, argv);

	if (ret != PTL_CONTINUE)
		return ret;
	if (a->common.help)
		return ptl_print_usage(ptl_usage_check);
	if ((ret = ptl_no_operands(cmd_name, argc, argv)) != PTL_CONTINUE)
		return ret;
	if (!a->adapter == !a->exec)
		return ptl_usage_error(cmd_name, "give exactly one of --adapter WALKER.so and --exec 'CMD'");
	if (a->caps && !a->exec)
		return ptl_usage_error(cmd_name, "--caps is for --exec walkers (an adapter declares its caps)");
	return PTL_CONTINUE;
}

static void progress(void *user, uint64_t done, uint64_t total)
{
	ptl_progress_update(user, done, total);
}

/* ---- Output ---------------------------------------------------------------------------------- */

static void print_text(const struct ptk_report *r, const char *what)
{
	printf("ptlab check: walker '%s' (%s): %llu cases, %llu probes, %.1f s\n\n", r->walker, what,
	       (unsigned long long)r->cases, (unsigned long long)r->probes, r->seconds);
	printf("%-40s %8s %8s %12s\n", "tag", "passed", "failed", "unsupported");
	for (size_t i = 0; i < r->ntags; i++)
		printf("%-40s %8llu %8llu %12llu\n", r->tags[i].name,
		       (unsigned long long)r->tags[i].passed, (unsigned long long)r->tags[i].failed,
		       (unsigned long long)r->tags[i].unsupported);
	printf("%-40s %8llu %8llu %12llu\n", "total", (unsigned long long)r->passed,
	       (unsigned long long)r->failed, (unsigned long long)r->unsupported);
	for (size_t i = 0; i < r->ntags; i++) {
		const struct ptk_tag_score *t = &r->tags[i];
		char access[64];

		if (!t->has_failure)
			continue;
		printf("\nFAIL %s: %llu of %llu probes; the first:\n", t->name,
		       (unsigned long long)t->failed,
		       (unsigned long long)(t->passed + t->failed));
		printf("  case      %s (CR3 0x%llx)\n", t->first.case_name,
		       (unsigned long long)t->first.cr3);
		printf("  probe     VA 0x%llx, %s\n", (unsigned long long)t->first.va,
		       ptk_access_text(t->first.access, access, sizeof(access)));
		printf("  expected  %s\n", t->first.expected);
		printf("  got       %s\n", t->first.got);
		printf("  replay    %s\n", t->first.replay);
	}
	if (r->keep_dir[0])
		printf("\nthe failing cases' dumps are kept in %s/\n", r->keep_dir);
	if (r->stopped[0])
		printf("\nstopped early: %s\n", r->stopped);
	if (r->failed)
		printf("\nresult: FAILED: %llu of %llu supported probes\n", (unsigned long long)r->failed,
		       (unsigned long long)(r->passed + r->failed));
	else
		printf("\nresult: passed: all %llu supported probes (%llu unsupported)\n",
		       (unsigned long long)r->passed, (unsigned long long)r->unsupported);
}

static void json_counts(struct ptl_json *j, uint64_t passed, uint64_t failed, uint64_t unsupported)
{
	ptl_json_key(j, "passed");
	ptl_json_u64(j, passed);
	ptl_json_key(j, "failed");
	ptl_json_u64(j, failed);
	ptl_json_key(j, "unsupported");
	ptl_json_u64(j, unsupported);
}

static void print_json(const struct ptk_report *r)
{
	struct ptl_json j;

	ptl_json_init(&j, stdout);
	ptl_json_object_begin(&j);
	ptl_json_key(&j, "format");
	ptl_json_string(&j, "ptlab-check/1");
	ptl_json_key(&j, "adapter");
	ptl_json_string(&j, r->walker);
	json_counts(&j, r->passed, r->failed, r->unsupported);
	ptl_json_key(&j, "tags");
	ptl_json_object_begin(&j);
	for (size_t i = 0; i < r->ntags; i++) {
		const struct ptk_tag_score *t = &r->tags[i];

		ptl_json_key(&j, t->name);
		ptl_json_object_begin(&j);
		json_counts(&j, t->passed, t->failed, t->unsupported);
		ptl_json_key(&j, "first_failure");
		if (!t->has_failure) {
			ptl_json_null(&j);
		} else {
			ptl_json_object_begin(&j);
			ptl_json_key(&j, "case");
			ptl_json_string(&j, t->first.case_name);
			ptl_json_key(&j, "cr3");
			ptl_json_hex(&j, t->first.cr3);
			ptl_json_key(&j, "va");
			ptl_json_hex(&j, t->first.va);
			ptl_json_key(&j, "expected");
			ptl_json_string(&j, t->first.expected);
			ptl_json_key(&j, "got");
			ptl_json_string(&j, t->first.got);
			ptl_json_key(&j, "replay");
			ptl_json_string(&j, t->first.replay);
			ptl_json_key(&j, "access");
			ptl_json_u64(&j, t->first.access);
			ptl_json_key(&j, "dump");
			ptl_json_string(&j, t->first.dump);
			ptl_json_object_end(&j);
		}
		ptl_json_object_end(&j);
	}
	ptl_json_object_end(&j);
	ptl_json_key(&j, "cases");
	ptl_json_u64(&j, r->cases);
	ptl_json_key(&j, "probes");
	ptl_json_u64(&j, r->probes);
	ptl_json_key(&j, "keep_dir");
	if (r->keep_dir[0])
		ptl_json_string(&j, r->keep_dir);
	else
		ptl_json_null(&j);
	ptl_json_key(&j, "stopped");
	if (r->stopped[0])
		ptl_json_string(&j, r->stopped);
	else
		ptl_json_null(&j);
	ptl_json_object_end(&j);
	ptl_json_finish(&j);
}

int ptl_cmd_check(int argc, char *argv[])
{
	struct check_args a;
	struct ptk_walker_opts wopts = { 0 };
	struct ptk_walker *w = NULL;
	struct ptk_report report;
	struct ptl_progress prog;
	struct pt_error err;
	int ret;

	memset(&a, 0, sizeof(a));
	if ((ret = parse_args(argc, argv, &a)) != PTL_CONTINUE)
		return ret;
	wopts.timeout = a.timeout;
	if (a.caps) {
		const char *bad = NULL;
		if (!ptk_caps_parse(a.caps, &wopts.caps, &bad))
			return ptl_usage_error(cmd_name, "--caps: unknown capability at '%s' (rights, "
					       "pf-error, page-size, sme-cbit)", bad);
	}
	if ((a.adapter ? ptk_walker_adapter(a.adapter, &wopts, &w, &err)
		       : ptk_walker_exec(a.exec, &wopts, &w, &err)) != PT_OK) {
		ptl_error("%s", err.message);
		return PTL_EXIT_USAGE;
	}
	ptl_progress_init(&prog, cmd_name, "cases", 1, a.common.progress);
	a.check.progress = progress;
	a.check.user = &prog;
	if (ptk_check(w, &a.check, &report, &err) != PT_OK) {
		ptl_progress_finish(&prog);
		ptl_error("%s", err.message);
		ptk_walker_close(w);
		ptk_report_deinit(&report);
		return PTL_EXIT_USAGE;
	}
	ptl_progress_finish(&prog);
	ptk_walker_close(w);
	if (report.probes == 0) {
		ptk_report_deinit(&report);
		return ptl_usage_error(cmd_name, "no case has a probe of the tags '%s'",
				       a.check.select.tags ? a.check.select.tags : "");
	}
	if (a.common.json)
		print_json(&report);
	else
		print_text(&report, a.adapter ? a.adapter : "exec");
	ret = report.failed ? PTL_EXIT_FAILED : PTL_EXIT_OK;
	ptk_report_deinit(&report);
	return ret;
}
