/* SPDX-License-Identifier: MIT */
/*
 * cli/main.c: the `ptlab` command: dispatch to one command per file through a table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ptlab/version.h"
#include "util.h"

/** One subcommand. */
struct ptl_command {
	const char *name;
	int (*run)(int argc, char *argv[]); /**< argv[0] is the command's name */
	void (*usage)(FILE *out);
	const char *summary;
};

static const struct ptl_command commands[] = {
	{ "demo", ptl_cmd_demo, ptl_usage_demo,
	  "boot the built-in image, find its kpgd, walk it, diff against Unicorn's MMU" },
	{ "images", ptl_cmd_images, ptl_usage_images,
	  "list the boot images built into ptlab and their variants" },
	{ "boot", ptl_cmd_boot, ptl_usage_boot,
	  "run a boot image in Unicorn; write its dump and System.map" },
	{ "translate", ptl_cmd_translate, ptl_usage_translate,
	  "translate linear addresses through a dump's page tables" },
	{ "maps", ptl_cmd_maps, ptl_usage_maps,
	  "list every mapped range of a dump's address space" },
	{ "find-kpgd", ptl_cmd_find_kpgd, ptl_usage_find_kpgd,
	  "find the kernel's top-level page table, paging mode and KASLR offsets" },
	{ "diff", ptl_cmd_diff, ptl_usage_diff, "check the walker against Unicorn's MMU on random probes" },
	{ "check", ptl_cmd_check, ptl_usage_check,
	  "run a walker that is not ptlab's over the conformance cases; print its scorecard" },
	{ "vectors", ptl_cmd_vectors, ptl_usage_vectors,
	  "export the conformance cases (dumps + manifest.json) for other projects' tests" },
	{ "convert", ptl_cmd_convert, ptl_usage_convert,
	  "write a dump as kdump-compressed (zlib, lzo, snappy, zstd) or as an ELF core" },
};

static const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

static void usage(FILE *out)
{
	fputs("Usage: ptlab COMMAND [ARGS...]\n"
	      "       ptlab COMMAND --help\n"
	      "x86 paging lab: walk page tables in memory dumps as the CPU would.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < ncommands; i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help       print this help (ptlab help COMMAND: that command's)\n"
	      "  -V, --version    print the version\n"
	      "\n"
	      "Exit status: 0 success, 1 a fault or failed check, 2 bad usage or unreadable input.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab translate sample.core 0xffffffff81000000\n"
	      "  ptlab maps sample.core --json\n",
	      out);
}

static const struct ptl_command *find_command(const char *name)
{
	for (size_t i = 0; i < ncommands; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static int unknown(const char *what, const char *name)
{
	ptl_error("unknown %s '%s' (see 'ptlab --help')", what, name);
	return PTL_EXIT_USAGE;
}

/* `ptlab help [COMMAND]` */
static int help(int argc, char *argv[])
{
	const struct ptl_command *cmd;

	if (argc < 3) {
		usage(stdout);
		return PTL_EXIT_OK;
	}
	cmd = find_command(argv[2]);
	if (cmd == NULL)
		return unknown("command", argv[2]);
	cmd->usage(stdout);
	return PTL_EXIT_OK;
}

static int dispatch(int argc, char *argv[])
{
	const struct ptl_command *cmd;
	const char *name;

	if (argc < 2) {
		ptl_error("missing command (see 'ptlab --help')");
		return PTL_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0)
		return help(argc, argv);
	if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
		printf("ptlab %s\n", PTLAB_VERSION_STRING);
		return PTL_EXIT_OK;
	}
	if (name[0] == '-')
		return unknown("option", name);
	cmd = find_command(name);
	if (cmd == NULL)
		return unknown("command", name);
	return cmd->run(argc - 1, argv + 1);
}

int main(int argc, char *argv[])
{
	int ret = dispatch(argc, argv);

	/* A full disk or closed pipe must not pass for success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ptl_error("writing standard output: %s", strerror(errno));
		return PTL_EXIT_USAGE;
	}
	return ret;
}
