/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd_convert.c: `ptlab convert DUMP --to FORMAT OUT`: write any dump ptlab reads as a
 * kdump-compressed file (libptkdump's writer: zlib, lzo, snappy or zstd pages) or as an ELF core
 * in QEMU's layout (pt_core_write). The CPU state and VMCOREINFO travel with the memory, so every
 * command gives the same answers on OUT as on DUMP. Debian 12's QEMU writes only zlib kdump
 * files and its makedumpfile cannot recompress a 6.1 kernel's dump: the other compressions come
 * from here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ptlab/kdump.h"
#include "util.h"

static const char cmd_name[] = "convert";

enum convert_opt {
	OPT_TO = PTL_OPT_COMMAND,
};

/* The shared options convert understands (no paging context: it copies memory). */
static const struct option long_options[] = {
	{ "help", no_argument, NULL, PTL_OPT_HELP },
	{ "json", no_argument, NULL, PTL_OPT_JSON },
	{ "raw-dump", no_argument, NULL, PTL_OPT_RAW_DUMP },
	{ "progress", no_argument, NULL, PTL_OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, PTL_OPT_NO_PROGRESS },
	{ "to", required_argument, NULL, OPT_TO },
	{ NULL, 0, NULL, 0 },
};

void ptl_usage_convert(FILE *out)
{
	fputs("Usage: ptlab convert DUMP --to FORMAT OUT [options]\n"
	      "Write DUMP (raw, ELF core, LiME or kdump-compressed) as FORMAT to OUT, with its CPU\n"
	      "state and VMCOREINFO, so every command answers the same on OUT as on DUMP.\n"
	      "\n"
	      "  --to FORMAT          kdump-zlib, kdump-lzo, kdump-snappy, kdump-zstd: the standard\n"
	      "                       kdump-compressed file (\"KDUMP   \", as `makedumpfile -R`\n"
	      "                       gives; libkdumpfile, crash and ptlab read it), each page\n"
	      "                       compressed alone, stored when that is not smaller;\n"
	      "                       elf: an ELF core in QEMU's dump-guest-memory layout\n"
	      "  --raw-dump           read DUMP as a flat physical image whatever its magic\n"
	      "  --json               print one JSON object on stdout\n"
	      "  --progress           a progress line on stderr past 2 s even when it is not a terminal\n"
	      "  --no-progress        no progress line (default: only on a terminal)\n"
	      "  -h, --help           print this help\n"
	      "\n"
	      "A kdump file holds whole 4 KiB pages: a page DUMP holds only in part is left out\n"
	      "(counted in the output). Exit: 0 written, 2 bad usage, unreadable input (a corrupt\n"
	      "page of a kdump DUMP: its file and offset) or OUT cannot be written.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab convert guest.core --to kdump-lzo guest.kdump-lzo\n"
	      "  ptlab convert guest.kdump-zlib --to elf guest.core --json\n"
	      "  ptlab convert memory.lime --to kdump-zstd memory.kdump\n",
	      out);
}

/** What to write. */
struct convert_args {
	struct ptl_ctx_opts ctx;
	const char *in, *out, *to;
	bool elf;
	enum pt_kdump_compression compression;
};

static int own_option(void *state, int opt, const char *arg)
{
	struct convert_args *a = state;

	if (opt == OPT_TO)
		a->to = arg;
	return PTL_CONTINUE;
}

/* Parse argv; returns PTL_CONTINUE to go on, else an exit status (help printed or usage error). */
static int parse_args(int argc, char *argv[], struct convert_args *a)
{
	const struct ptl_option_spec spec = { cmd_name, long_options, ":h", &a->ctx, own_option, a };
	int ret = ptl_parse_options(&spec, argc, argv);

	if (ret != PTL_CONTINUE)
		return ret;
	if (a->ctx.help)
		return ptl_print_usage(ptl_usage_convert);
	if (argc - optind != 2)
		return ptl_usage_error(cmd_name, "expected DUMP and OUT, got %d argument%s",
				       argc - optind, argc - optind == 1 ? "" : "s");
	a->in = argv[optind];
	a->out = argv[optind + 1];
	if (!a->to)
		return ptl_usage_error(cmd_name, "--to FORMAT is required (kdump-zlib, kdump-lzo, "
				       "kdump-snappy, kdump-zstd or elf)");
	if (strcmp(a->to, "elf") == 0)
		a->elf = true;
	else if (strncmp(a->to, "kdump-", 6) != 0 ||
		 !pt_kdump_compression_parse(a->to + 6, &a->compression))
		return ptl_usage_error(cmd_name, "--to '%s' is not kdump-zlib, kdump-lzo, "
				       "kdump-snappy, kdump-zstd or elf", a->to);
	return PTL_CONTINUE;
}

/** OUT must not be DUMP itself (truncating it would pull the memory from under the reader). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	ptl_progress_update(arg, done, total);
}

/** A source page that cannot be read: the reader's message (file and offset), else a plain one. */
static int source_unreadable(const struct pt_dump *src, uint64_t pa)
{
	struct pt_error first;

	if (pt_dump_read_errors(src, &first) > 0)
		ptl_error("%s", first.message);
	else
		ptl_error("%s: page at PA 0x%llx is in the dump's ranges but not readable",
			  pt_dump_path(src), (unsigned long long)pa);
	return PTL_EXIT_USAGE;
}

/**
 * --to elf: read every range (decompressing a kdump source page by page, with progress), then
 * one pt_core_write with the source's machine, CPU note kind and VMCOREINFO.
 */
static int write_elf(const struct pt_dump *src, const char *out, struct ptl_progress *prog,
		     uint64_t *pages_ret)
{
	const struct pt_mem *mem = pt_dump_mem(src);
	size_t n = 0, vlen = 0;
	const struct pt_dump_range *r = pt_dump_ranges(src, &n);
	const char *vmci = pt_dump_vmcoreinfo(src, &vlen);
	struct pt_core_segment *segs = calloc(n ? n : 1, sizeof(*segs));
	struct pt_core_desc desc;
	struct pt_cpu_state cpu;
	enum pt_cpu_source source = pt_dump_cpu(src, &cpu);
	char *vmci_text = NULL;
	uint64_t total = 0, done = 0;
	struct pt_error err;
	int ret = PTL_EXIT_OK;

	for (size_t i = 0; i < n; i++)
		total += (r[i].size + 4095) / 4096;
	if (!segs || (vmci && !(vmci_text = strndup(vmci, vlen)))) {
		ptl_error("out of memory");
		ret = PTL_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		for (uint64_t off = 0; off < r[i].size; off += 4096, done++) {
			uint64_t len = r[i].size - off < 4096 ? r[i].size - off : 4096;

			if (!mem->ptr(mem, r[i].pa + off, (size_t)len)) {
				ret = source_unreadable(src, r[i].pa + off);
				goto out;
			}
			if (done % 4096 == 0)
				ptl_progress_update(prog, done, total);
		}
		segs[i] = (struct pt_core_segment){ .pa = r[i].pa, .size = r[i].size,
						    .data = mem->ptr(mem, r[i].pa, (size_t)r[i].size) };
	}
	memset(&desc, 0, sizeof(desc));
	desc.machine = pt_dump_elf_machine(src) ? pt_dump_elf_machine(src) : 62;
	desc.segments = segs;
	desc.nsegments = n;
	desc.cpu = source != PT_CPU_NONE ? &cpu : NULL;
	desc.ptlab_note = source == PT_CPU_PTLAB;
	desc.vmcoreinfo = vmci_text;
	memset(&err, 0, sizeof(err));
	if (pt_core_write(out, &desc, &err) != PT_OK) {
		ptl_error("%s", err.message);
		ret = PTL_EXIT_USAGE;
	}
	*pages_ret = total;
out:
	free(segs);
	free(vmci_text);
	return ret;
}

/** The result, as text or JSON. `st` is NULL for --to elf. */
static void print_result(const struct convert_args *a, const struct pt_dump *src,
			 const struct pt_kdump_write_stats *st, uint64_t pages, double secs)
{
	struct stat sb;
	uint64_t bytes = stat(a->out, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	const char *from = pt_dump_format_name(pt_dump_format(src));
	struct ptl_json j;

	if (!a->ctx.json) {
		printf("converted  %s (%s) -> %s (%s)\n", a->in, from, a->out, a->to);
		if (st)
			printf("pages      %llu: %llu compressed, %llu stored, %llu zero (one shared copy)\n",
			       (unsigned long long)st->pages, (unsigned long long)st->compressed,
			       (unsigned long long)st->stored, (unsigned long long)st->zero);
		else
			printf("pages      %llu\n", (unsigned long long)pages);
		if (st && st->partial_left_out)
			printf("left out   %llu page(s) the dump holds only in part\n",
			       (unsigned long long)st->partial_left_out);
		printf("size       %llu bytes (%.1f%% of the memory)\n", (unsigned long long)bytes,
		       pages ? 100.0 * (double)bytes / ((double)pages * 4096.0) : 0.0);
		printf("time       %.2f s (%.0f pages/s)\n", secs, secs > 0 ? (double)pages / secs : 0.0);
		return;
	}
	ptl_json_init(&j, stdout);
	ptl_json_object_begin(&j);
	ptl_json_key(&j, "dump");
	ptl_json_string(&j, a->in);
	ptl_json_key(&j, "format");
	ptl_json_string(&j, from);
	ptl_json_key(&j, "out");
	ptl_json_string(&j, a->out);
	ptl_json_key(&j, "to");
	ptl_json_string(&j, a->to);
	ptl_json_key(&j, "pages");
	ptl_json_u64(&j, pages);
	const char *keys[] = { "compressed", "stored", "zero", "partial_left_out" };
	const uint64_t vals[] = { st ? st->compressed : 0, st ? st->stored : 0, st ? st->zero : 0,
				  st ? st->partial_left_out : 0 };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ptl_json_key(&j, keys[i]);
		if (st)
			ptl_json_u64(&j, vals[i]);
		else
			ptl_json_null(&j);
	}
	ptl_json_key(&j, "file_bytes");
	ptl_json_u64(&j, bytes);
	ptl_json_key(&j, "milliseconds");
	ptl_json_u64(&j, (uint64_t)(secs * 1000.0 + 0.5));
	ptl_json_object_end(&j);
	ptl_json_finish(&j);
}

int ptl_cmd_convert(int argc, char *argv[])
{
	struct convert_args a;
	struct pt_dump_open_opts open_opts;
	struct pt_kdump_write_stats stats;
	struct pt_dump *src = NULL;
	struct ptl_progress prog;
	struct pt_error err;
	uint64_t pages = 0;
	double t0;
	int ret;

	memset(&a, 0, sizeof(a));
	memset(&stats, 0, sizeof(stats));
	ret = parse_args(argc, argv, &a);
	if (ret != PTL_CONTINUE)
		return ret;
	if (same_file(a.in, a.out)) {
		ptl_error("%s: OUT is DUMP itself: write to another file", a.out);
		return PTL_EXIT_USAGE;
	}
	memset(&err, 0, sizeof(err));
	open_opts = (struct pt_dump_open_opts){ .force_raw = a.ctx.raw_dump };
	if (pt_kdump_open_dump(a.in, &open_opts, &src, &err) != PT_OK) {
		ptl_error("%s", err.message[0] ? err.message : "cannot open the dump");
		return PTL_EXIT_USAGE;
	}
	t0 = ptl_now();
	ptl_progress_init(&prog, cmd_name, "pages", 1, a.ctx.progress);
	if (a.elf) {
		ret = write_elf(src, a.out, &prog, &pages);
	} else {
		struct pt_kdump_write_opts wo = { .compression = a.compression,
						  .progress = on_progress, .progress_arg = &prog };

		ret = PTL_EXIT_OK;
		if (pt_kdump_write(a.out, src, &wo, &stats, &err) != PT_OK) {
			ptl_error("%s", err.message);
			ret = PTL_EXIT_USAGE;
		}
		pages = stats.pages;
	}
	ptl_progress_finish(&prog);
	if (ret == PTL_EXIT_OK)
		print_result(&a, src, a.elf ? NULL : &stats, pages, ptl_now() - t0);
	pt_dump_close(src);
	return ret;
}
