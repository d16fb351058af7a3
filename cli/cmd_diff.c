/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd_diff.c: `ptlab diff DUMP [--probes N] [--seed S]`: the walker against Unicorn's MMU
 * (the oracle of emu/oracle.c) on N probes drawn deterministically from the seed: addresses in
 * the dump's mapped and reserved ranges, their first and last bytes and the bytes just outside
 * them, random canonical and non-canonical addresses; reads, writes and fetches at CPL 0 and 3,
 * and implicit supervisor reads (the probe driver is pt_diff_run in emu/diff_run.c). Every probe is compared with pt_diff_compare: match,
 * a documented Unicorn deviation (named), skipped (a table not in the dump), or a mismatch.
 *
 * The walker runs with Unicorn's MAXPHYADDR so both enforce the same reserved bits.
 */
#include <stdlib.h>
#include <string.h>

#include "ptlab/emu.h"
#include "util.h"

static const char cmd_name[] = "diff";

enum diff_opt {
	OPT_PROBES = PTL_OPT_COMMAND,
	OPT_SEED,
};

static const struct option long_options[] = {
	PTL_CONTEXT_LONG_OPTIONS,
	{ "probes", required_argument, NULL, OPT_PROBES },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ NULL, 0, NULL, 0 },
};

static const uint64_t DEFAULT_PROBES = 10000;
static const uint64_t DEFAULT_SEED = 1;
static const uint64_t MAX_PROBES = UINT64_C(1) << 32;

void ptl_usage_diff(FILE *out)
{
	fputs("Usage: ptlab diff DUMP [--probes N] [--seed S] [options]\n"
	      "Check the walker against Unicorn 2.0.1's MMU (an independent page walk) on N probes\n"
	      "drawn from the seed: addresses in the dump's mapped ranges, their first and last\n"
	      "bytes and the bytes just outside them, random canonical and non-canonical addresses;\n"
	      "reads, writes and fetches at CPL 0 and 3 (only --cpl N if given) and implicit\n"
	      "supervisor reads.\n"
	      "\n"
	      "  --probes N           how many probes (default 10000)\n"
	      "  --seed S             seed of the probe sequence (default 1): same seed, same probes\n",
	      out);
	fputs(ptl_context_usage, out);
	fputs("\n"
	      "The walker runs with Unicorn's MAXPHYADDR (40), whatever the dump or --maxphyaddr\n"
	      "says, so that both enforce the same reserved bits.\n"
	      "Each probe is a match, a documented Unicorn deviation from the SDM (named: PAE\n"
	      "PDPTEs re-read, reserved PDPTE bits accepted or faulting at access time, 1 GiB pages\n"
	      "without CPUID support, implicit reads passing SMAP with AC = 1), skipped (a page\n"
	      "table not in the dump: Unicorn reads zeros\n"
	      "there) or a mismatch; the first mismatch is printed in full.\n"
	      "Exit: 0 no mismatch, 1 a mismatch (or a probe Unicorn could not answer), 2 bad input.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab diff sample.core --probes 100000\n"
	      "  ptlab diff sample.core --seed 7 --json\n"
	      "  ptlab diff memory.raw --cr3 0x1000 --mode pae\n",
	      out);
}

/* Progress on stderr, past 2 s (pt_diff_run calls this about every 2 s). */
static void progress(void *user, uint64_t done, uint64_t total, double elapsed)
{
	(void)elapsed;
	ptl_progress_update(user, done, total);
}

/* ---- text output --------------------------------------------------------------------------- */

static void print_walker(const struct pt_diff_probe *p)
{
	const struct pt_result *r = &p->walker;
	const struct pt_fault *f = &r->fault;
	char names[40];

	fputs("  walker: ", stdout);
	switch (p->walker_status) {
	case PT_OK:
		printf("PA 0x%llx (level %u)\n", (unsigned long long)r->pa, r->level);
		break;
	case PT_FAULT:
		if (f->vector == PT_VEC_GP && p->at_cr3_load)
			printf("#GP at CR3 load: PDPTE 0x%llx = 0x%llx has reserved bits\n",
			       (unsigned long long)f->entry_pa, (unsigned long long)f->entry);
		else if (f->vector == PT_VEC_GP)
			puts("#GP (non-canonical)");
		else
			printf("#PF error 0x%x (%s) at level %u\n", f->error_code,
			       ptl_pf_error_names(f->error_code, names, sizeof(names)), f->level);
		break;
	default:
		printf("%s (0x%llx)\n", pt_status_name(p->walker_status),
		       (unsigned long long)r->table_pa);
		break;
	}
	fputs("    entries:", stdout);
	if (r->nentries == 0)
		fputs(" none", stdout);
	ptl_print_entries(stdout, r);
	fputc('\n', stdout);
}

static void print_oracle(const struct ptl_session *s, const struct pt_diff_probe *p)
{
	const struct pt_oracle_answer *o = &p->oracle;
	char names[40];

	fputs("  oracle: ", stdout);
	if (o->status == PT_OK)
		printf("PA 0x%llx (level %u)\n", (unsigned long long)o->pa, o->level);
	else if (o->vector == PT_VEC_GP)
		puts("#GP");
	else
		printf("#PF error 0x%x (%s) at level %u\n", o->error_code,
		       ptl_pf_error_names(o->error_code, names, sizeof(names)), o->level);
	fputs("    entries:", stdout);
	if (o->nentries == 0)
		fputs(" none", stdout);
	for (unsigned i = 0; i < o->nentries && i < 5; i++)
		printf(" L%u 0x%llx=0x%llx", s->ctx.desc->levels - i, (unsigned long long)o->entry_pa[i],
		       (unsigned long long)o->entry[i]);
	fputc('\n', stdout);
}

static void print_text(const struct ptl_session *s, const struct pt_diff_stats *t, uint64_t seed,
		       uint8_t dump_maxphyaddr, unsigned oracle_maxphyaddr)
{
	uint64_t ndev = 0;

	for (unsigned d = 0; d < PT_DEV_COUNT; d++)
		ndev += t->deviations[d];
	printf("diff %s: %s paging, CR3 0x%llx, walker vs Unicorn %s MMU\n", s->path,
	       pt_mode_name(s->ctx.mode), (unsigned long long)s->cpu.cr3, "2.0.1");
	printf("MAXPHYADDR  %u for both (Unicorn's; the context said %u)\n", oracle_maxphyaddr,
	       dump_maxphyaddr);
	printf("probes      %llu (seed %llu)\n", (unsigned long long)t->probes,
	       (unsigned long long)seed);
	printf("matches     %llu\n", (unsigned long long)t->matches);
	printf("deviations  %llu", (unsigned long long)ndev);
	for (unsigned d = 1; d < PT_DEV_COUNT; d++)
		if (t->deviations[d] != 0)
			printf("  %s %llu", pt_diff_deviation_name((enum pt_diff_deviation)d),
			       (unsigned long long)t->deviations[d]);
	fputc('\n', stdout);
	printf("skipped     %llu (a page table not in the dump)\n", (unsigned long long)t->skipped);
	printf("mismatches  %llu\n", (unsigned long long)t->mismatches);
	if (t->unanswered != 0)
		printf("unanswered  %llu (first, VA 0x%llx: %s)\n", (unsigned long long)t->unanswered,
		       (unsigned long long)t->first_unanswered_va, t->first_unanswered);
	printf("time        %.3f s, %.0f probes/s\n", t->seconds,
	       t->seconds > 0 ? (double)t->probes / t->seconds : 0.0);
	if (t->have_mismatch) {
		const struct pt_diff_probe *p = &t->first_mismatch;
		printf("first mismatch: VA 0x%llx, %s%s at CPL %u\n", (unsigned long long)p->va,
		       p->access.implicit ? "implicit supervisor " : "", pt_access_kind_name(p->access.kind),
		       p->access.cpl);
		print_walker(p);
		print_oracle(s, p);
	}
}

/* ---- JSON output --------------------------------------------------------------------------- */

/** "walker": what the walker answered for the probe. */
static void json_walker(struct ptl_json *j, const struct pt_diff_probe *p)
{
	const struct pt_result *r = &p->walker;
	const bool ok = p->walker_status == PT_OK;

	ptl_json_key(j, "walker");
	ptl_json_object_begin(j);
	ptl_json_key(j, "status");
	ptl_json_string(j, pt_status_name(p->walker_status));
	ptl_json_key(j, "pa");
	ptl_json_hex_or_null(j, ok, r->pa);
	ptl_json_key(j, "level");
	ptl_json_u64(j, ok ? r->level : r->fault.level);
	ptl_json_fault(j, p->walker_status, &r->fault, p->at_cr3_load);
	ptl_json_entries(j, r);
	ptl_json_object_end(j);
}

/** "oracle": what Unicorn's MMU answered for the probe. */
static void json_oracle(struct ptl_json *j, const struct ptl_session *s, const struct pt_oracle_answer *o)
{
	ptl_json_key(j, "oracle");
	ptl_json_object_begin(j);
	ptl_json_key(j, "status");
	ptl_json_string(j, pt_status_name(o->status));
	ptl_json_key(j, "pa");
	ptl_json_hex_or_null(j, o->status == PT_OK, o->pa);
	ptl_json_key(j, "level");
	ptl_json_u64(j, o->level);
	ptl_json_key(j, "fault");
	if (o->status == PT_FAULT) {
		ptl_json_object_begin(j);
		ptl_json_key(j, "vector");
		ptl_json_u64(j, o->vector);
		ptl_json_key(j, "error_code");
		ptl_json_u64(j, o->error_code);
		ptl_json_object_end(j);
	} else {
		ptl_json_null(j);
	}
	ptl_json_key(j, "entries");
	ptl_json_array_begin(j);
	for (unsigned i = 0; i < o->nentries && i < 5; i++)
		ptl_json_entry(j, s->ctx.desc->levels - i, o->entry_pa[i], o->entry[i]);
	ptl_json_array_end(j);
	ptl_json_object_end(j);
}

/** The first mismatch: the probe (VA and access), and both answers. */
static void json_mismatch(struct ptl_json *j, const struct ptl_session *s, const struct pt_diff_probe *p)
{
	ptl_json_object_begin(j);
	ptl_json_key(j, "va");
	ptl_json_hex(j, p->va);
	ptl_json_key(j, "access");
	ptl_json_string(j, pt_access_kind_name(p->access.kind));
	ptl_json_key(j, "cpl");
	ptl_json_u64(j, p->access.cpl);
	ptl_json_key(j, "implicit");
	ptl_json_bool(j, p->access.implicit);
	json_walker(j, p);
	json_oracle(j, s, &p->oracle);
	ptl_json_object_end(j);
}

static void print_json(const struct ptl_session *s, const struct pt_diff_stats *t, uint64_t seed,
		       uint8_t dump_maxphyaddr, unsigned oracle_maxphyaddr)
{
	struct ptl_json j;

	ptl_json_init(&j, stdout);
	ptl_json_object_begin(&j);
	ptl_json_key(&j, "probes");
	ptl_json_u64(&j, t->probes);
	ptl_json_key(&j, "mismatches");
	ptl_json_u64(&j, t->mismatches);
	ptl_json_key(&j, "first_mismatch");
	if (t->have_mismatch)
		json_mismatch(&j, s, &t->first_mismatch);
	else
		ptl_json_null(&j);
	ptl_json_key(&j, "matches");
	ptl_json_u64(&j, t->matches);
	ptl_json_key(&j, "deviations");
	ptl_json_object_begin(&j);
	for (unsigned d = 1; d < PT_DEV_COUNT; d++) {
		ptl_json_key(&j, pt_diff_deviation_name((enum pt_diff_deviation)d));
		ptl_json_u64(&j, t->deviations[d]);
	}
	ptl_json_object_end(&j);
	ptl_json_key(&j, "skipped");
	ptl_json_u64(&j, t->skipped);
	ptl_json_key(&j, "unanswered");
	ptl_json_u64(&j, t->unanswered);
	ptl_json_key(&j, "first_unanswered");
	if (t->unanswered != 0) {
		ptl_json_object_begin(&j);
		ptl_json_key(&j, "va");
		ptl_json_hex(&j, t->first_unanswered_va);
		ptl_json_key(&j, "error");
		ptl_json_string(&j, t->first_unanswered);
		ptl_json_object_end(&j);
	} else {
		ptl_json_null(&j);
	}
	ptl_json_key(&j, "seed");
	ptl_json_u64(&j, seed);
	ptl_json_key(&j, "maxphyaddr");
	ptl_json_u64(&j, oracle_maxphyaddr);
	ptl_json_key(&j, "context_maxphyaddr");
	ptl_json_u64(&j, dump_maxphyaddr);
	ptl_json_key(&j, "microseconds");
	ptl_json_u64(&j, (uint64_t)(t->seconds * 1e6));
	ptl_json_key(&j, "probes_per_second");
	ptl_json_u64(&j, t->seconds > 0 ? (uint64_t)((double)t->probes / t->seconds) : 0);
	ptl_json_context(&j, s);
	ptl_json_object_end(&j);
	ptl_json_finish(&j);
}

/* ---- the command ----------------------------------------------------------------------------- */

/** What diff's options set. */
struct diff_args {
	struct ptl_ctx_opts ctx;
	uint64_t probes, seed;
};

static int own_option(void *state, int opt, const char *arg)
{
	struct diff_args *a = state;

	switch (opt) {
	case OPT_PROBES:
		if (!ptl_parse_u64(arg, &a->probes) || a->probes == 0 || a->probes > MAX_PROBES)
			return ptl_usage_error(cmd_name, "--probes '%s' is not a number in 1..2^32", arg);
		break;
	case OPT_SEED:
		if (!ptl_parse_u64(arg, &a->seed))
			return ptl_usage_error(cmd_name, "--seed '%s' is not a 64-bit number", arg);
		break;
	}
	return PTL_CONTINUE;
}

int ptl_cmd_diff(int argc, char *argv[])
{
	struct diff_args args = { .probes = DEFAULT_PROBES, .seed = DEFAULT_SEED };
	const struct ptl_option_spec spec = { cmd_name, long_options, ":h", &args.ctx, own_option, &args };
	struct ptl_session session;
	struct pt_oracle *oracle = NULL;
	struct pt_error err;
	struct pt_diff_stats *tally = NULL;
	uint8_t context_maxphyaddr;
	unsigned oracle_maxphyaddr;
	int ret;

	memset(&session, 0, sizeof(session));
	ret = ptl_parse_options(&spec, argc, argv);
	if (ret == PTL_CONTINUE)
		ret = ptl_one_dump_args(cmd_name, &args.ctx, ptl_usage_diff, argc, argv);
	if (ret != PTL_CONTINUE)
		return ret;
	ret = ptl_session_open(&session, argv[optind], &args.ctx);
	if (ret != PTL_EXIT_OK)
		return ret;
	if (session.ctx.mode == PT_MODE_OFF) {
		ret = ptl_usage_error(cmd_name, "%s: paging is off (CR0.PG = 0): nothing to compare",
				      session.path);
		goto out;
	}

	memset(&err, 0, sizeof(err));
	if (pt_oracle_create(session.mem, pt_dump_phys_end(session.dump), &oracle, &err) != PT_OK) {
		ptl_error("%s", err.message);
		ret = PTL_EXIT_USAGE;
		goto out;
	}
	/* The walker enforces the reserved bits Unicorn enforces. */
	context_maxphyaddr = session.cpu.maxphyaddr;
	oracle_maxphyaddr = pt_oracle_maxphyaddr(oracle);
	session.cpu.maxphyaddr = (uint8_t)oracle_maxphyaddr;
	session.init_status = pt_context_init(&session.ctx, &session.cpu, session.mem,
					      &session.init_fault, &session.init_table_pa);
	if (session.init_status == PT_EINVAL) {
		ret = ptl_usage_error(cmd_name,
				      "%s: the context is not a possible CPU state with MAXPHYADDR %u "
				      "(CR3 0x%llx)",
				      session.path, oracle_maxphyaddr,
				      (unsigned long long)session.cpu.cr3);
		goto out;
	}

	tally = calloc(1, sizeof(*tally));
	if (tally == NULL) {
		ptl_error("out of memory");
		ret = PTL_EXIT_USAGE;
		goto out;
	}
	struct ptl_progress prog;
	ptl_progress_init(&prog, "diff", "probes", 1, args.ctx.progress);
	const struct pt_diff_run_opts run_opts = {
		.probes = args.probes, .seed = args.seed, .cpl = args.ctx.has_cpl ? args.ctx.cpl : -1,
		.progress = progress, .user = &prog,
	};
	if (pt_diff_run(&session.cpu, session.mem, oracle, &run_opts, tally, &err) != PT_OK) {
		ptl_error("%s: %s", session.path, err.message);
		ret = PTL_EXIT_USAGE;
		goto out;
	}
	ptl_progress_update(&prog, tally->probes, tally->probes);
	ptl_progress_finish(&prog);
	if (args.ctx.json)
		print_json(&session, tally, args.seed, context_maxphyaddr, oracle_maxphyaddr);
	else
		print_text(&session, tally, args.seed, context_maxphyaddr, oracle_maxphyaddr);
	ret = tally->mismatches != 0 || tally->unanswered != 0 ? PTL_EXIT_FAILED : PTL_EXIT_OK;
out:
	free(tally);
	pt_oracle_destroy(oracle);
	ptl_session_close(&session);
	return ret;
}
