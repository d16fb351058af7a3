/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd_translate.c: `ptlab translate DUMP VA...`: translate linear addresses through the
 * page tables of a dump, one line (or one JSON result) per address, in the order given.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char cmd_name[] = "translate";

/** translate's own options, after the shared ones. */
enum translate_opt {
	OPT_ACCESS = PTL_OPT_COMMAND,
	OPT_USER,
	OPT_IMPLICIT,
};

static const struct option long_options[] = {
	PTL_CONTEXT_LONG_OPTIONS,
	{ "access", required_argument, NULL, OPT_ACCESS },
	{ "user", no_argument, NULL, OPT_USER },
	{ "implicit", no_argument, NULL, OPT_IMPLICIT },
	{ NULL, 0, NULL, 0 },
};

void ptl_usage_translate(FILE *out)
{
	fputs("Usage: ptlab translate DUMP VA... [options]\n"
	      "Translate linear addresses through the page tables of DUMP (raw image, ELF core,\n"
	      "LiME), as the CPU would for the given access.\n"
	      "\n"
	      "  --access r|w|x       the access to check: read (default), write or fetch\n"
	      "  --user               a user-mode access (same as --cpl 3)\n"
	      "  --implicit           an implicit supervisor access (e.g. a GDT or TSS read):\n"
	      "                       supervisor rights at any CPL, SMAP ignores RFLAGS.AC\n",
	      out);
	fputs(ptl_context_usage, out);
	fputs("\n"
	      "Output: one line per VA: PA, page size, level, rights and the entries read;\n"
	      "or the fault (#PF error code, level, entry) or the page table missing from the dump.\n"
	      "Exit: 0 every VA translated, 1 some faulted or hit a missing table, 2 bad input.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab translate sample.core 0xffffffff81000000 0x400000\n"
	      "  ptlab translate sample.core 0x400000 --access w --user --json\n"
	      "  ptlab translate memory.raw 0xc0000000 --cr3 0x1000 --mode pae\n",
	      out);
}

/** One address's outcome. */
struct outcome {
	const char *arg;          /**< the VA as given */
	enum pt_status status;    /**< PT_OK, PT_FAULT, PT_NOT_IN_DUMP */
	bool at_cr3_load;         /**< the fault or missing table comes from loading CR3 (PAE) */
	struct pt_result result;
};

static bool parse_access(const char *arg, enum pt_access_kind *kind_ret)
{
	static const struct {
		const char *name;
		enum pt_access_kind kind;
	} names[] = {
		{ "r", PT_ACCESS_READ },   { "read", PT_ACCESS_READ },
		{ "w", PT_ACCESS_WRITE },  { "write", PT_ACCESS_WRITE },
		{ "x", PT_ACCESS_FETCH },  { "fetch", PT_ACCESS_FETCH },
		{ "exec", PT_ACCESS_FETCH },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(arg, names[i].name) == 0) {
			*kind_ret = names[i].kind;
			return true;
		}
	}
	return false;
}

/** What translate's own options set. */
struct translate_args {
	struct ptl_ctx_opts ctx;
	struct pt_access access;
};

static int own_option(void *state, int opt, const char *arg)
{
	struct translate_args *a = state;

	switch (opt) {
	case OPT_ACCESS:
		if (!parse_access(arg, &a->access.kind))
			return ptl_usage_error(cmd_name, "unknown access '%s' (r, w or x)", arg);
		break;
	case OPT_USER:
		a->ctx.has_cpl = true;
		a->ctx.cpl = 3;
		break;
	case OPT_IMPLICIT:
		a->access.implicit = true;
		break;
	}
	return PTL_CONTINUE;
}

/* Parse argv; returns PTL_CONTINUE to go on, else an exit status (help printed or usage error). */
static int parse_args(int argc, char *argv[], struct translate_args *a)
{
	const struct ptl_option_spec spec = { cmd_name, long_options, ":h", &a->ctx, own_option, a };
	int ret = ptl_parse_options(&spec, argc, argv);

	if (ret != PTL_CONTINUE)
		return ret;
	if (a->ctx.help)
		return ptl_print_usage(ptl_usage_translate);
	if (argc - optind < 1)
		return ptl_usage_error(cmd_name, "missing DUMP");
	if (argc - optind < 2)
		return ptl_usage_error(cmd_name, "missing VA");
	return PTL_CONTINUE;
}

/* Parse every VA before touching the dump; returns an exit status. */
static int parse_vas(char *const vas[], size_t count, struct outcome *outcomes)
{
	for (size_t i = 0; i < count; i++) {
		outcomes[i].arg = vas[i];
		if (!ptl_parse_u64(vas[i], &outcomes[i].result.va))
			return ptl_usage_error(cmd_name,
					       "VA '%s' is not a 64-bit number (0x... hex or decimal)",
					       vas[i]);
	}
	return PTL_EXIT_OK;
}

/* Translate every parsed VA in outcomes[]; returns an exit status. */
static int translate_all(const struct ptl_session *s, const struct pt_access *access,
			 struct outcome *outcomes, size_t count)
{
	int ret = PTL_EXIT_OK;

	for (size_t i = 0; i < count; i++) {
		struct outcome *o = &outcomes[i];
		uint64_t va = o->result.va;

		if (s->init_status != PT_OK) {
			/* Loading CR3 already failed (PAE PDPTEs): every address reports it. */
			o->status = s->init_status;
			o->at_cr3_load = true;
			o->result.fault = s->init_fault;
			o->result.table_pa = s->init_table_pa;
		} else {
			o->status = pt_translate(&s->ctx, s->mem, va, access, &o->result);
			o->result.va = va;
		}
		if (o->status == PT_EINVAL)
			return ptl_usage_error(cmd_name, "VA '%s' is wider than %s paging allows",
					       o->arg, pt_mode_name(s->ctx.mode));
		if (o->status != PT_OK)
			ret = PTL_EXIT_FAILED;
	}
	return ret;
}

/* ---- Text output ------------------------------------------------------------------------ */

static void print_entries(const struct pt_result *r)
{
	if (r->nentries == 0)
		return;
	fputs("  [entries:", stdout);
	ptl_print_entries(stdout, r);
	fputc(']', stdout);
}

static void print_ok(const struct ptl_session *s, const struct pt_result *r)
{
	char buf[32];

	printf("0x%llx -> 0x%llx", (unsigned long long)r->va, (unsigned long long)r->pa);
	if (s->ctx.mode == PT_MODE_OFF) {
		fputs("  paging off\n", stdout);
		return;
	}
	printf("  %s page (level %u)  r%c%c %s",
	       ptl_page_size_name(r->page_size, buf, sizeof(buf)), r->level,
	       r->rights.writable ? 'w' : '-', r->rights.nx ? '-' : 'x',
	       r->rights.user ? "user" : "kernel");
	if ((s->ctx.flags & PT_CTX_PKE) && r->rights.user)
		printf(" pkey %u", r->rights.pkey);
	if (!r->pa_in_dump)
		fputs("  (frame not in dump)", stdout);
	print_entries(r);
	fputc('\n', stdout);
}

static void print_fault(const struct outcome *o)
{
	const struct pt_fault *f = &o->result.fault;
	char names[40];

	printf("0x%llx -> ", (unsigned long long)o->result.va);
	if (f->vector == PT_VEC_GP && o->at_cr3_load)
		printf("#GP at CR3 load: PDPTE 0x%llx = 0x%llx has reserved bits",
		       (unsigned long long)f->entry_pa, (unsigned long long)f->entry);
	else if (f->vector == PT_VEC_GP)
		fputs("#GP (non-canonical)", stdout);
	else
		printf("#PF error 0x%x (%s) at level %u, entry 0x%llx = 0x%llx", f->error_code,
		       ptl_pf_error_names(f->error_code, names, sizeof(names)), f->level,
		       (unsigned long long)f->entry_pa, (unsigned long long)f->entry);
	print_entries(&o->result);
	fputc('\n', stdout);
}

static void print_not_in_dump(const struct outcome *o)
{
	printf("0x%llx -> table not in dump: 0x%llx%s", (unsigned long long)o->result.va,
	       (unsigned long long)o->result.table_pa, o->at_cr3_load ? " (PAE PDPT, at CR3 load)" : "");
	print_entries(&o->result);
	fputc('\n', stdout);
}

static void print_text(const struct ptl_session *s, const struct outcome *outcomes, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		switch (outcomes[i].status) {
		case PT_OK:
			print_ok(s, &outcomes[i].result);
			break;
		case PT_FAULT:
			print_fault(&outcomes[i]);
			break;
		default:
			print_not_in_dump(&outcomes[i]);
			break;
		}
	}
}

/* ---- JSON output ------------------------------------------------------------------------ */

/* The mapping members: values when translated, nulls otherwise. */
static void json_mapping(struct ptl_json *j, const struct outcome *o)
{
	static const char *const keys[] = { "pa", "page_size", "level", "writable", "user", "nx",
					    "pkey", "pa_in_dump" };
	const struct pt_result *r = &o->result;

	if (o->status != PT_OK) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			ptl_json_key(j, keys[i]);
			ptl_json_null(j);
		}
		return;
	}
	ptl_json_key(j, "pa");
	ptl_json_hex(j, r->pa);
	ptl_json_key(j, "page_size");
	ptl_json_u64(j, r->page_size);
	ptl_json_key(j, "level");
	ptl_json_u64(j, r->level);
	ptl_json_rights(j, &r->rights);
	ptl_json_key(j, "pkey");
	ptl_json_u64(j, r->rights.pkey);
	ptl_json_key(j, "pa_in_dump");
	ptl_json_bool(j, r->pa_in_dump);
}

static void json_error(struct ptl_json *j, const struct outcome *o)
{
	ptl_json_key(j, "error");
	if (o->status != PT_NOT_IN_DUMP) {
		ptl_json_null(j);
		return;
	}
	ptl_json_object_begin(j);
	ptl_json_key(j, "reason");
	ptl_json_string(j, "table not in dump");
	ptl_json_key(j, "table_pa");
	ptl_json_hex(j, o->result.table_pa);
	ptl_json_object_end(j);
}

static void print_json(const struct ptl_session *s, const struct pt_access *access,
		       const struct outcome *outcomes, size_t count)
{
	struct ptl_json j;

	ptl_json_init(&j, stdout);
	ptl_json_object_begin(&j);
	ptl_json_key(&j, "results");
	ptl_json_array_begin(&j);
	for (size_t i = 0; i < count; i++) {
		const struct outcome *o = &outcomes[i];

		ptl_json_object_begin(&j);
		ptl_json_key(&j, "va");
		ptl_json_hex(&j, o->result.va);
		json_mapping(&j, o);
		ptl_json_fault(&j, o->status, &o->result.fault, o->at_cr3_load);
		json_error(&j, o);
		ptl_json_entries(&j, &o->result);
		ptl_json_object_end(&j);
	}
	ptl_json_array_end(&j);
	ptl_json_key(&j, "access");
	ptl_json_string(&j, pt_access_kind_name(access->kind));
	ptl_json_key(&j, "implicit");
	ptl_json_bool(&j, access->implicit);
	ptl_json_context(&j, s);
	ptl_json_object_end(&j);
	ptl_json_finish(&j);
}

int ptl_cmd_translate(int argc, char *argv[])
{
	struct translate_args args;
	struct ptl_session session;
	struct outcome *outcomes = NULL;
	size_t count;
	int ret;

	memset(&args, 0, sizeof(args));
	memset(&session, 0, sizeof(session));
	ret = parse_args(argc, argv, &args);
	if (ret != PTL_CONTINUE)
		return ret;
	count = (size_t)(argc - optind - 1);
	outcomes = calloc(count, sizeof(*outcomes));
	if (outcomes == NULL) {
		ptl_error("out of memory");
		return PTL_EXIT_USAGE;
	}
	ret = parse_vas(&argv[optind + 1], count, outcomes);
	if (ret != PTL_EXIT_OK)
		goto out;
	ret = ptl_session_open(&session, argv[optind], &args.ctx);
	if (ret != PTL_EXIT_OK)
		goto out;
	args.access.cpl = session.cpl;
	ret = translate_all(&session, &args.access, outcomes, count);
	if (ret == PTL_EXIT_USAGE)
		goto out;
	if (args.ctx.json)
		print_json(&session, &args.access, outcomes, count);
	else
		print_text(&session, outcomes, count);
out:
	ptl_session_close(&session);
	free(outcomes);
	return ret;
}
