/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd_find_kpgd.c: `ptlab find-kpgd DUMP [--symbols FILE]`: the kernel's top-level page
 * table, its paging mode and the KASLR offsets, with the evidence for each (walker/kpgd.c).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ptlab/kdump.h"
#include "ptlab/kpgd.h"
#include "ptlab/symbols.h"
#include "util.h"

static const char cmd_name[] = "find-kpgd";

enum kpgd_opt {
	OPT_SYMBOLS = PTL_OPT_COMMAND,
	OPT_METHOD,
	OPT_CANDIDATES,
	OPT_NO_KALLSYMS,
};

static const struct option long_options[] = {
	{ "help", no_argument, NULL, PTL_OPT_HELP },
	{ "json", no_argument, NULL, PTL_OPT_JSON },
	{ "raw-dump", no_argument, NULL, PTL_OPT_RAW_DUMP },
	{ "cbit", required_argument, NULL, PTL_OPT_CBIT },
	{ "maxphyaddr", required_argument, NULL, PTL_OPT_MAXPHYADDR },
	{ "symbols", required_argument, NULL, OPT_SYMBOLS },
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "candidates", required_argument, NULL, OPT_CANDIDATES },
	{ "no-kallsyms", no_argument, NULL, OPT_NO_KALLSYMS },
	{ "progress", no_argument, NULL, PTL_OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, PTL_OPT_NO_PROGRESS },
	{ NULL, 0, NULL, 0 },
};

void ptl_usage_find_kpgd(FILE *out)
{
	fputs("Usage: ptlab find-kpgd DUMP [--symbols FILE] [options]\n"
	      "Find the kernel's top-level page table (init_top_pgt on x86-64, swapper_pg_dir on\n"
	      "i386) in DUMP: its physical address, the paging mode, the KASLR offsets and the\n"
	      "evidence. Strategies, cheapest first, each verified by walking the table:\n"
	      "VMCOREINFO, symbol-direct, KASLR (linux_banner located physically), the early-boot\n"
	      "identity map, brute force over every page. The dump's CR3 is compared, never trusted.\n"
	      "Without FILE, or when FILE lacks the table's symbol (i386 kallsyms has text symbols\n"
	      "only), the kernel's own kallsyms tables are recovered from memory and used like a\n"
	      "/proc/kallsyms of the running kernel (run-time addresses; the link-time _text from\n"
	      "KERNELOFFSET in Linux's VMCOREINFO text in memory, else assumed and said so).\n"
	      "\n"
	      "  -s, --symbols FILE   System.map, /proc/kallsyms text or a vmlinux ELF\n"
	      "  --method M           run one strategy only: vmcoreinfo, symbols, kaslr, identity,\n"
	      "                       brute-force (default: auto, all in order)\n"
	      "  --candidates N       ranked candidates to list (default 8)\n"
	      "  --cbit N             SME C-bit position (default: the dump's note, else detected)\n"
	      "  --maxphyaddr BITS    physical-address width, 32..52 (default: the note, else 52)\n"
	      "  --raw-dump           read DUMP as a flat physical image whatever its magic\n"
	      "  --no-kallsyms        do not look for the kernel's kallsyms tables in memory\n"
	      "  --progress           a progress line on stderr past 2 s even when it is not a terminal\n"
	      "  --no-progress        no progress line (default: only on a terminal)\n"
	      "  --json               one JSON object on stdout: {\"kpgd\",\"paging\",\"virt_offset\",\n"
	      "                       \"phys_offset\",\"method\",\"verified\",\"evidence\":[...],...}\n"
	      "  -h, --help           print this help\n"
	      "\n"
	      "virt_offset = run-time VA of _text minus its link-time VA (the KASLR slide);\n"
	      "phys_offset = run-time PA of _text minus its link-time PA. Without any symbols (no\n"
	      "FILE and no kallsyms tables in memory) the offsets are unknown (null) and candidates\n"
	      "are ranked by what they map.\n"
	      "Exit: 0 found and verified, 1 not found or not verified, 2 bad input.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab boot linux64 --kaslr 7 --out k.core --symbols-out k.map\n"
	      "  ptlab find-kpgd k.core --symbols k.map\n"
	      "  ptlab find-kpgd k.core --symbols /boot/vmlinux-6.1.0-56-amd64 --json\n"
	      "  ptlab find-kpgd vmcore                # the kernel's own kallsyms tables from memory\n"
	      "  ptlab find-kpgd memory.raw --no-kallsyms   # no symbols: ranked candidates\n",
	      out);
}

/* The brute-force scan's progress (bytes screened) on the shared progress line. */
static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	ptl_progress_update(arg, done, total);
}

/** One line on the kernel's kallsyms tables searched for in memory (nothing when not searched). */
static void print_kallsyms_text(const struct pt_kpgd_result *r)
{
	const struct pt_kallsyms_info *k = &r->kallsyms;
	if (!r->kallsyms_searched)
		return;
	if (!k->found) {
		printf("kallsyms    not in memory (%s)\n", k->why);
		return;
	}
	printf("kallsyms    %llu symbols (%llu distinct names) recovered from the kernel's own tables\n"
	       "            (run-time addresses, %.3f s): names 0x%llx, markers 0x%llx,\n"
	       "            token_table 0x%llx, token_index 0x%llx, offsets 0x%llx, relative_base 0x%llx = 0x%llx",
	       (unsigned long long)k->num_syms,
	       (unsigned long long)(r->kallsyms_symtab ? pt_symtab_count(r->kallsyms_symtab) : 0), k->seconds,
	       (unsigned long long)k->pa_names,
	       (unsigned long long)k->pa_markers, (unsigned long long)k->pa_token_table,
	       (unsigned long long)k->pa_token_index, (unsigned long long)k->pa_offsets,
	       (unsigned long long)k->pa_relative_base, (unsigned long long)k->relative_base);
	if (k->has_seqs)
		printf(", seqs_of_names 0x%llx", (unsigned long long)k->pa_seqs);
	printf("\n");
	if (r->vmcoreinfo_in_memory)
		printf("vmcoreinfo  Linux's VMCOREINFO text in memory at 0x%llx\n", (unsigned long long)r->vmcoreinfo_pa);
}

static void print_text(const struct pt_kpgd_result *r, const struct pt_symtab *syms)
{
	if (!r->found) {
		printf("kpgd        not found\n");
	} else {
		const struct pt_kpgd_candidate *c = &r->candidates[0];
		printf("kpgd        0x%llx\n", (unsigned long long)c->kpgd);
		printf("paging      %s\n", pt_mode_name(c->mode));
		if (c->offsets_known) {
			printf("virt_offset 0x%llx%s\n", (unsigned long long)c->virt_offset,
			       c->link_assumed ? " (link-time _text assumed)" : "");
			printf("phys_offset 0x%llx\n", (unsigned long long)c->phys_offset);
		} else {
			printf("virt_offset unknown (no symbols)\n");
			printf("phys_offset unknown (no symbols)\n");
		}
		if ((c->mode == PT_MODE_IA32E || c->mode == PT_MODE_LA57) && c->method != PT_KPGD_IDENTITY)
			printf("phys_base   0x%llx\n", (unsigned long long)c->phys_base);
		if (c->has_direct_map)
			printf("direct_map  0x%llx\n", (unsigned long long)c->direct_map);
		if (c->has_user_pgd)
			printf("user_pgd    0x%llx (PTI user copy)\n", (unsigned long long)c->user_pgd);
		if (c->cbit)
			printf("sme_cbit    %u\n", c->cbit);
		printf("method      %s\n", pt_kpgd_method_name(c->method));
		printf("verified    %s\n", c->verified ? "yes" : "NO");
		if (r->cr3_relation != PT_KPGD_CR3_UNKNOWN)
			printf("cr3         0x%llx (%s)\n", (unsigned long long)r->cr3, pt_kpgd_cr3_name(r->cr3_relation));
		printf("evidence:\n");
		for (size_t i = 0; i < c->nfacts; i++)
			printf("  %s %s\n", c->facts[i].ok ? "+" : "-", c->facts[i].text);
		if (r->ncandidates > 1) {
			printf("other candidates:\n");
			for (size_t i = 1; i < r->ncandidates; i++) {
				const struct pt_kpgd_candidate *o = &r->candidates[i];
				printf("  0x%llx %s %s score %d%s\n", (unsigned long long)o->kpgd, pt_mode_name(o->mode),
				       pt_kpgd_method_name(o->method), o->score, o->verified ? " verified" : "");
			}
		}
	}
	if (syms) {
		const struct pt_symtab_stats *st = pt_symtab_stats(syms);
		printf("symbols     %s: %s, %llu symbols", pt_symtab_path(syms),
		       pt_symtab_format_name(pt_symtab_format(syms)), (unsigned long long)st->symbols);
		if (st->skipped)
			printf(", %llu lines skipped", (unsigned long long)st->skipped);
		printf("\n");
	}
	print_kallsyms_text(r);
	printf("strategies:\n");
	for (size_t i = 0; i < r->nlog; i++)
		printf("  %s\n", r->log[i]);
}

static void json_facts(struct ptl_json *j, const struct pt_kpgd_candidate *c)
{
	ptl_json_array_begin(j);
	for (size_t i = 0; i < c->nfacts; i++) {
		ptl_json_object_begin(j);
		ptl_json_key(j, "ok");
		ptl_json_bool(j, c->facts[i].ok);
		ptl_json_key(j, "fact");
		ptl_json_string(j, c->facts[i].text);
		ptl_json_object_end(j);
	}
	ptl_json_array_end(j);
}

/** "kallsyms": null when not searched, else what was found and where (physical addresses). */
static void json_kallsyms(struct ptl_json *j, const struct pt_kpgd_result *r)
{
	const struct pt_kallsyms_info *k = &r->kallsyms;
	ptl_json_key(j, "kallsyms");
	if (!r->kallsyms_searched) {
		ptl_json_null(j);
		return;
	}
	ptl_json_object_begin(j);
	ptl_json_key(j, "found");
	ptl_json_bool(j, k->found);
	ptl_json_key(j, "symbols");
	ptl_json_u64(j, k->num_syms);
	ptl_json_key(j, "names");
	ptl_json_u64(j, r->kallsyms_symtab ? pt_symtab_count(r->kallsyms_symtab) : 0);
	ptl_json_key(j, "run_time");
	ptl_json_bool(j, k->found && k->run_time);
	ptl_json_key(j, "relative_base");
	ptl_json_hex_or_null(j, k->found, k->relative_base);
	ptl_json_key(j, "ptr_size");
	ptl_json_u64(j, k->ptr_size);
	ptl_json_key(j, "absolute_percpu");
	ptl_json_bool(j, k->absolute_percpu);
	ptl_json_key(j, "tables");
	if (k->found) {
		ptl_json_object_begin(j);
		ptl_json_key(j, "offsets");
		ptl_json_hex(j, k->pa_offsets);
		ptl_json_key(j, "relative_base");
		ptl_json_hex(j, k->pa_relative_base);
		ptl_json_key(j, "num_syms");
		ptl_json_hex(j, k->pa_num_syms);
		ptl_json_key(j, "names");
		ptl_json_hex(j, k->pa_names);
		ptl_json_key(j, "markers");
		ptl_json_hex(j, k->pa_markers);
		ptl_json_key(j, "seqs_of_names");
		ptl_json_hex_or_null(j, k->has_seqs, k->pa_seqs);
		ptl_json_key(j, "token_table");
		ptl_json_hex(j, k->pa_token_table);
		ptl_json_key(j, "token_index");
		ptl_json_hex(j, k->pa_token_index);
		ptl_json_object_end(j);
	} else {
		ptl_json_null(j);
	}
	ptl_json_key(j, "why");
	if (k->found)
		ptl_json_null(j);
	else
		ptl_json_string(j, k->why);
	ptl_json_key(j, "seconds");
	ptl_json_seconds(j, k->seconds);
	ptl_json_object_end(j);
}

/** The best candidate's members (nulls when none was found). */
static void json_answer(struct ptl_json *j, const struct pt_kpgd_result *r)
{
	const struct pt_kpgd_candidate *c = r->found ? &r->candidates[0] : NULL;

	ptl_json_key(j, "kpgd");
	ptl_json_hex_or_null(j, c != NULL, c ? c->kpgd : 0);
	ptl_json_key(j, "paging");
	if (c)
		ptl_json_string(j, pt_mode_name(c->mode));
	else
		ptl_json_null(j);
	ptl_json_key(j, "virt_offset");
	ptl_json_hex_or_null(j, c && c->offsets_known, c ? c->virt_offset : 0);
	ptl_json_key(j, "phys_offset");
	ptl_json_hex_or_null(j, c && c->offsets_known, c ? c->phys_offset : 0);
	ptl_json_key(j, "method");
	if (c)
		ptl_json_string(j, pt_kpgd_method_name(c->method));
	else
		ptl_json_null(j);
	ptl_json_key(j, "verified");
	ptl_json_bool(j, r->verified);
	ptl_json_key(j, "evidence");
	if (c) {
		json_facts(j, c);
	} else {
		ptl_json_array_begin(j);
		ptl_json_array_end(j);
	}
	ptl_json_key(j, "link_assumed");
	ptl_json_bool(j, c && c->link_assumed);
	ptl_json_key(j, "phys_base");
	ptl_json_hex_or_null(j, c && (c->mode == PT_MODE_IA32E || c->mode == PT_MODE_LA57) &&
				     c->method != PT_KPGD_IDENTITY, c ? c->phys_base : 0);
	ptl_json_key(j, "direct_map");
	ptl_json_hex_or_null(j, c && c->has_direct_map, c ? c->direct_map : 0);
	ptl_json_key(j, "user_pgd");
	ptl_json_hex_or_null(j, c && c->has_user_pgd, c ? c->user_pgd : 0);
	ptl_json_key(j, "sme_cbit");
	ptl_json_u64(j, c ? c->cbit : 0);
}

/** "cr3": the dump's CR3 and how it relates to the kpgd, or null. */
static void json_cr3(struct ptl_json *j, const struct pt_kpgd_result *r)
{
	ptl_json_key(j, "cr3");
	if (r->cr3_relation == PT_KPGD_CR3_UNKNOWN) {
		ptl_json_null(j);
		return;
	}
	ptl_json_object_begin(j);
	ptl_json_key(j, "value");
	ptl_json_hex(j, r->cr3);
	ptl_json_key(j, "relation");
	ptl_json_string(j, pt_kpgd_cr3_name(r->cr3_relation));
	ptl_json_object_end(j);
}

/** "symbols": the symbol file read, or null. */
static void json_symbols(struct ptl_json *j, const struct pt_symtab *syms)
{
	ptl_json_key(j, "symbols");
	if (!syms) {
		ptl_json_null(j);
		return;
	}
	const struct pt_symtab_stats *st = pt_symtab_stats(syms);
	ptl_json_object_begin(j);
	ptl_json_key(j, "path");
	ptl_json_string(j, pt_symtab_path(syms));
	ptl_json_key(j, "format");
	ptl_json_string(j, pt_symtab_format_name(pt_symtab_format(syms)));
	ptl_json_key(j, "count");
	ptl_json_u64(j, st->symbols);
	ptl_json_key(j, "skipped");
	ptl_json_u64(j, st->skipped);
	ptl_json_key(j, "duplicates");
	ptl_json_u64(j, st->duplicates);
	ptl_json_object_end(j);
}

/** "candidates": every ranked candidate with its evidence. */
static void json_candidates(struct ptl_json *j, const struct pt_kpgd_result *r)
{
	ptl_json_key(j, "candidates");
	ptl_json_array_begin(j);
	for (size_t i = 0; i < r->ncandidates; i++) {
		const struct pt_kpgd_candidate *o = &r->candidates[i];
		ptl_json_object_begin(j);
		ptl_json_key(j, "kpgd");
		ptl_json_hex(j, o->kpgd);
		ptl_json_key(j, "paging");
		ptl_json_string(j, pt_mode_name(o->mode));
		ptl_json_key(j, "method");
		ptl_json_string(j, pt_kpgd_method_name(o->method));
		ptl_json_key(j, "verified");
		ptl_json_bool(j, o->verified);
		ptl_json_key(j, "score");
		ptl_json_u64(j, o->score < 0 ? 0 : (uint64_t)o->score);
		ptl_json_key(j, "evidence");
		json_facts(j, o);
		ptl_json_object_end(j);
	}
	ptl_json_array_end(j);
}

/** "log" (the strategies tried) and "scan" (the brute-force screen). */
static void json_log_and_scan(struct ptl_json *j, const struct pt_kpgd_result *r)
{
	ptl_json_key(j, "log");
	ptl_json_array_begin(j);
	for (size_t i = 0; i < r->nlog; i++)
		ptl_json_string(j, r->log[i]);
	ptl_json_array_end(j);
	ptl_json_key(j, "scan");
	ptl_json_object_begin(j);
	ptl_json_key(j, "bytes");
	ptl_json_u64(j, r->bytes_scanned);
	ptl_json_key(j, "screened");
	ptl_json_u64(j, r->screened);
	ptl_json_key(j, "seconds");
	ptl_json_seconds(j, r->scan_seconds);
	ptl_json_object_end(j);
}

static void print_json(const struct pt_kpgd_result *r, const char *dump_path, const struct pt_symtab *syms)
{
	struct ptl_json j;
	ptl_json_init(&j, stdout);
	ptl_json_object_begin(&j);
	ptl_json_key(&j, "dump");
	ptl_json_string(&j, dump_path);
	json_answer(&j, r);
	json_cr3(&j, r);
	json_symbols(&j, syms);
	json_kallsyms(&j, r);
	ptl_json_key(&j, "vmcoreinfo_in_memory");
	ptl_json_hex_or_null(&j, r->vmcoreinfo_in_memory, r->vmcoreinfo_pa);
	json_candidates(&j, r);
	json_log_and_scan(&j, r);
	ptl_json_object_end(&j);
	ptl_json_finish(&j);
}

/** What find-kpgd's options set. */
struct kpgd_args {
	struct ptl_ctx_opts ctx;
	const char *symbols_path;
	enum pt_kpgd_method method;
	uint64_t ncand;
	bool no_kallsyms;
};

static int own_option(void *state, int opt, const char *arg)
{
	struct kpgd_args *a = state;

	switch (opt) {
	case 's':
	case OPT_SYMBOLS:
		a->symbols_path = arg;
		break;
	case OPT_METHOD:
		if (!pt_kpgd_method_parse(arg, &a->method))
			return ptl_usage_error(cmd_name, "unknown method '%s' (vmcoreinfo, symbols, kaslr, "
					       "identity, brute-force)", arg);
		break;
	case OPT_CANDIDATES:
		if (!ptl_parse_u64(arg, &a->ncand) || a->ncand == 0 || a->ncand > 1000)
			return ptl_usage_error(cmd_name, "--candidates '%s' is not a number 1..1000", arg);
		break;
	case OPT_NO_KALLSYMS:
		a->no_kallsyms = true;
		break;
	}
	return PTL_CONTINUE;
}

/* The symbol file, when one is given (a warning for lines that are not symbols); returns an exit
 * status. */
static int load_symbols(const char *path, struct pt_symtab **syms_ret)
{
	struct pt_error err;

	*syms_ret = NULL;
	if (!path)
		return PTL_EXIT_OK;
	if (pt_symtab_load(path, syms_ret, &err) != PT_OK) {
		ptl_error("%s", err.message);
		return PTL_EXIT_USAGE;
	}
	const struct pt_symtab_stats *st = pt_symtab_stats(*syms_ret);
	if (st->skipped)
		ptl_warn("%s: skipped %llu line(s) that are not symbols (first: %s)", path,
			 (unsigned long long)st->skipped, st->first_bad);
	return PTL_EXIT_OK;
}

/* The finder's inputs: the dump's, the symbols, and the options that matter to it. */
static void make_inputs(const struct kpgd_args *a, struct pt_dump *dump, struct pt_symtab *syms,
			struct pt_kpgd_inputs *in)
{
	memset(in, 0, sizeof(*in));
	pt_kpgd_inputs_from_dump(in, dump);
	in->symbols = syms;
	in->only = a->method;
	in->max_candidates = (unsigned)a->ncand;
	in->no_kallsyms = a->no_kallsyms;
	if (a->ctx.has_cbit || a->ctx.has_maxphyaddr) {
		if (!in->has_cpu) {
			/* only C-bit / MAXPHYADDR matter to the finder: a state without paging */
			pt_cpu_state_default(&in->cpu, 0);
			in->cpu.cr0 = 0;
			in->has_cpu = true;
		}
		if (a->ctx.has_cbit)
			in->cpu.cbit = a->ctx.cbit;
		if (a->ctx.has_maxphyaddr)
			in->cpu.maxphyaddr = a->ctx.maxphyaddr;
	}
}

/* Run the finder over an open dump and print what it found; returns an exit status. */
static int find_and_print(const struct kpgd_args *a, const char *path, struct pt_dump *dump,
			  struct pt_symtab *syms)
{
	struct pt_kpgd_inputs in;
	struct pt_kpgd_result res;
	struct ptl_progress prog;
	struct pt_error err;

	make_inputs(a, dump, syms, &in);
	ptl_progress_init(&prog, "find-kpgd: scanning", "MiB", UINT64_C(1) << 20, a->ctx.progress);
	in.progress = on_progress;
	in.progress_arg = &prog;
	enum pt_status st = pt_kpgd_find(&in, &res, &err);
	ptl_progress_finish(&prog);
	if (st != PT_OK) {
		ptl_error("%s", err.message);
		return PTL_EXIT_USAGE;
	}
	if (a->ctx.json)
		print_json(&res, path, syms);
	else
		print_text(&res, syms);
	int rc = res.verified ? PTL_EXIT_OK : PTL_EXIT_FAILED;
	ptl_warn_read_errors(dump);
	pt_kpgd_result_deinit(&res);
	return rc;
}

int ptl_cmd_find_kpgd(int argc, char *argv[])
{
	struct kpgd_args args = { .method = PT_KPGD_AUTO, .ncand = 8 };
	const struct ptl_option_spec spec = { cmd_name, long_options, ":hs:", &args.ctx, own_option, &args };
	struct pt_dump_open_opts dopts = { 0 };
	struct pt_dump *dump = NULL;
	struct pt_symtab *syms = NULL;
	struct pt_error err;
	int ret;

	ret = ptl_parse_options(&spec, argc, argv);
	if (ret == PTL_CONTINUE)
		ret = ptl_one_dump_args(cmd_name, &args.ctx, ptl_usage_find_kpgd, argc, argv);
	if (ret != PTL_CONTINUE)
		return ret;
	const char *path = argv[optind];
	dopts.force_raw = args.ctx.raw_dump;
	if (pt_kdump_open_dump(path, &dopts, &dump, &err) != PT_OK) {
		ptl_error("%s", err.message);
		return PTL_EXIT_USAGE;
	}
	ret = load_symbols(args.symbols_path, &syms);
	if (ret == PTL_EXIT_OK)
		ret = find_and_print(&args, path, dump, syms);
	pt_symtab_destroy(syms);
	pt_dump_close(dump);
	return ret;
}
