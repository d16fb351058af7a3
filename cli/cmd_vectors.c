/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd_vectors.c: `ptlab vectors export DIR`: the conformance kit's built-in cases as files
 * (one ELF core per case and manifest.json, format ptlab-vectors/1) that another project's tests
 * read without ptlab; `ptlab check --vectors DIR` runs a walker on them. The work is libptkit's.
 */
#include <string.h>

#include "kit.h"
#include "util.h"

static const char cmd_name[] = "vectors";

enum vectors_opt { OPT_TAGS = PTL_OPT_COMMAND };

static const struct option long_options[] = {
	{ "help", no_argument, NULL, PTL_OPT_HELP },
	{ "json", no_argument, NULL, PTL_OPT_JSON },
	{ "progress", no_argument, NULL, PTL_OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, PTL_OPT_NO_PROGRESS },
	{ "tags", required_argument, NULL, OPT_TAGS },
	{ NULL, 0, NULL, 0 },
};

void ptl_usage_vectors(FILE *out)
{
	fputs("Usage: ptlab vectors export DIR [--tags GLOB[,GLOB]] [--json]\n"
	      "Write the conformance kit's built-in cases to DIR (created if missing): one ELF\n"
	      "core per case (NAME.core) and manifest.json (\"format\": \"ptlab-vectors/1\"): per\n"
	      "case its dump, physical ranges with file offsets, CPU state, tags and every probe\n"
	      "with its expected answer. Deterministic: two exports are byte-identical. A test\n"
	      "of another project reads them with no ptlab installed (docs/conformance.md has\n"
	      "every field and a Python example); `ptlab check --vectors DIR` runs a walker on\n"
	      "them. The real tier's dumps (real.*) are not exported.\n"
	      "\n"
	      "  --tags GLOB[,GLOB]   only cases with probes of these tags (fnmatch)\n"
	      "  --json               print {\"dir\",\"cases\",\"probes\",\"tags\",\"bytes\"}\n"
	      "\n"
	      "Exit: 0 written, 2 bad usage or DIR cannot be written.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab vectors export corpus/\n"
	      "  ptlab vectors export corpus-4level/ --tags 'ia32e4.*,canonical'\n",
	      out);
}

static int own_option(void *state, int opt, const char *arg)
{
	struct ptk_select *sel = state;

	if (opt == OPT_TAGS)
		sel->tags = arg;
	return PTL_CONTINUE;
}

/* Parse argv; returns PTL_CONTINUE to go on (argv[optind + 1] is DIR), else an exit status. */
static int parse_args(int argc, char *argv[], struct ptl_ctx_opts *common, struct ptk_select *sel)
{
	const struct ptl_option_spec spec = { cmd_name, long_options, ":h", common, own_option, sel };
	int ret = ptl_parse_options(&spec, argc, argv);

	if (ret != PTL_CONTINUE)
		return ret;
	if (common->help)
		return ptl_print_usage(ptl_usage_vectors);
	if (optind >= argc)
		return ptl_usage_error(cmd_name, "missing 'export DIR'");
	if (strcmp(argv[optind], "export") != 0)
		return ptl_usage_error(cmd_name, "unknown subcommand '%s' (export)", argv[optind]);
	if (argc - optind != 2)
		return ptl_usage_error(cmd_name, argc - optind < 2 ? "missing DIR"
								  : "unexpected argument after DIR");
	return PTL_CONTINUE;
}

int ptl_cmd_vectors(int argc, char *argv[])
{
	struct ptl_ctx_opts common;
	struct ptk_select sel = { .builtin_only = true };
	struct ptk_export_stats stats;
	struct pt_error err;
	const char *dir;
	int ret;

	memset(&common, 0, sizeof(common));
	if ((ret = parse_args(argc, argv, &common, &sel)) != PTL_CONTINUE)
		return ret;
	dir = argv[optind + 1];
	if (ptk_vectors_export(dir, &sel, &stats, &err) != PT_OK) {
		ptl_error("%s", err.message);
		return PTL_EXIT_USAGE;
	}
	if (stats.cases == 0)
		return ptl_usage_error(cmd_name, "no case has a probe of the tags '%s'",
				       sel.tags ? sel.tags : "");
	if (common.json) {
		struct ptl_json j;

		ptl_json_init(&j, stdout);
		ptl_json_object_begin(&j);
		ptl_json_key(&j, "dir");
		ptl_json_string(&j, dir);
		ptl_json_key(&j, "cases");
		ptl_json_u64(&j, stats.cases);
		ptl_json_key(&j, "probes");
		ptl_json_u64(&j, stats.probes);
		ptl_json_key(&j, "tags");
		ptl_json_u64(&j, stats.ntags);
		ptl_json_key(&j, "bytes");
		ptl_json_u64(&j, stats.bytes);
		ptl_json_object_end(&j);
		ptl_json_finish(&j);
	} else {
		printf("wrote %llu cases, %llu probes of %zu tags to %s/ (manifest.json + %llu dumps, "
		       "%.1f MiB)\n", (unsigned long long)stats.cases, (unsigned long long)stats.probes,
		       stats.ntags, dir, (unsigned long long)stats.cases,
		       (double)stats.bytes / (1024.0 * 1024.0));
	}
	return PTL_EXIT_OK;
}
