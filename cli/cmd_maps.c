/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd_maps.c: `ptlab maps DUMP`: every mapped range of a dump's address space, coalesced
 * like QEMU's `info mem`, or one line per leaf entry (--raw) like QEMU's `info tlb`.
 * Unreadable subtrees, entries with reserved bits and collapsed aliases are listed after the
 * ranges (and counted in one warning on stderr).
 */
#include <stdlib.h>
#include <string.h>

#include "maps_svg.h"
#include "ptlab/maps.h"
#include "util.h"

static const char cmd_name[] = "maps";

/** maps' own options, after the shared ones. */
enum maps_opt {
	OPT_RAW = PTL_OPT_COMMAND,
	OPT_HOLES,
	OPT_ALIAS_BUDGET,
	OPT_SVG,
	OPT_SYMBOLS,
};

static const struct option long_options[] = {
	PTL_CONTEXT_LONG_OPTIONS,
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "holes", no_argument, NULL, OPT_HOLES },
	{ "alias-budget", required_argument, NULL, OPT_ALIAS_BUDGET },
	{ "svg", required_argument, NULL, OPT_SVG },
	{ "symbols", required_argument, NULL, OPT_SYMBOLS },
	{ NULL, 0, NULL, 0 },
};

void ptl_usage_maps(FILE *out)
{
	fputs("Usage: ptlab maps DUMP [options]\n"
	      "List every mapped range of the address space in DUMP, in VA order.\n"
	      "Default view (like QEMU's `info mem`): adjacent pages with the same rights, page size\n"
	      "and contiguous frames merged:  VA-END SIZE PERM PA PAGESIZE  (PERM: u/- r w/- x/-).\n"
	      "\n"
	      "  --raw                one line per leaf entry (like QEMU's `info tlb`):\n"
	      "                       VA: PA FLAGS  (FLAGS: X=XD G P=PS/PAT D A C=PCD T=PWT U W)\n"
	      "  --holes              also list the unmapped gaps\n"
	      "  --alias-budget N     leaf entries repeated tables may yield before they are\n"
	      "                       reported as aliases (default: the library's, 4Mi)\n"
	      "  --svg FILE           also draw the address space into FILE (SVG): each canonical\n"
	      "                       half on a segmented axis, ranges coloured by rights and page\n"
	      "                       size, the kernel's regions labelled when the dump says where\n"
	      "  --symbols FILE       System.map, kallsyms or vmlinux for the labels (default: the\n"
	      "                       dump's VMCOREINFO or the kernel's kallsyms found in memory)\n",
	      out);
	fputs(ptl_context_usage, out);
	fputs("\n"
	      "Subtrees whose page table is not in the dump, entries with reserved bits and\n"
	      "collapsed aliases are listed after the ranges (JSON: \"unreadable\", \"reserved\",\n"
	      "\"aliases\") with one warning on stderr. In the text view, 3 or more ranges that\n"
	      "map the same frame at a constant VA stride (Linux's ESPFIX area) are shown as\n"
	      "the first one and a summary line; --raw and --json list every one.\n"
	      "Exit: 0 listed, 1 loading CR3 faults (#GP from PAE PDPTEs: JSON \"fault\"),\n"
	      "2 bad input.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab maps sample.core\n"
	      "  ptlab maps sample.core --raw\n"
	      "  ptlab maps k.core --svg k.svg --symbols k.map > /dev/null\n"
	      "  ptlab maps memory.raw --cr3 0x2a10000 --json\n",
	      out);
}

/** A growing array of ranges, for what is printed after the mapped ranges. */
struct range_list {
	struct pt_range *items;
	size_t count, capacity;
};

static bool range_list_push(struct range_list *list, const struct pt_range *range)
{
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 16;
		struct pt_range *items = realloc(list->items, capacity * sizeof(*items));

		if (items == NULL)
			return false;
		list->items = items;
		list->capacity = capacity;
	}
	list->items[list->count++] = *range;
	return true;
}

static void range_list_free(struct range_list *list)
{
	free(list->items);
	memset(list, 0, sizeof(*list));
}

/** Everything one listing needs. */
struct maps_run {
	const struct ptl_session *s;
	bool json, raw, holes;
	const char *svg_path, *symbols_path; /**< --svg, --symbols */
	struct ptl_svg *svg;           /**< the picture being collected, with --svg */
	struct ptl_progress progress;  /**< VA covered, for large spaces */
	uint64_t listed;               /**< ranges seen (holes aside) */
	int va_width;                  /**< hex digits of a VA: 8 in 32-bit modes, else 16 */
	struct ptl_json j;
	struct range_list hole_list, unreadable, reserved, aliases;
	/* Text view: a run of ranges that map the same frame at a constant VA stride (Linux's
	 * ESPFIX area: 65,536 of them) is printed as its first range and one summary line. */
	struct pt_range fold_first;
	uint64_t fold_stride, fold_count, fold_last_va;
};

/** What maps' options set. */
struct maps_args {
	struct ptl_ctx_opts ctx;
	struct pt_maps_opts maps;
	bool raw, holes;
	const char *svg_path, *symbols_path; /**< --svg, --symbols */
};

static int own_option(void *state, int opt, const char *arg)
{
	struct maps_args *a = state;
	uint64_t budget;

	switch (opt) {
	case OPT_RAW:
		a->raw = true;
		break;
	case OPT_HOLES:
		a->holes = true;
		break;
	case OPT_ALIAS_BUDGET:
		if (!ptl_parse_u64(arg, &budget) || budget == 0)
			return ptl_usage_error(cmd_name, "--alias-budget '%s' is not a positive number",
					       arg);
		a->maps.alias_budget = budget;
		break;
	case OPT_SVG:
		a->svg_path = arg;
		break;
	case OPT_SYMBOLS:
		a->symbols_path = arg;
		break;
	}
	return PTL_CONTINUE;
}

/* ---- Text --------------------------------------------------------------------------------- */

/* "START-END SIZE" with END exclusive, wrapping at the top of the address space as QEMU's. */
static void text_range_span(const struct maps_run *run, const struct pt_range *r)
{
	uint64_t end = r->va + r->size;

	if (run->va_width == 8)
		end &= UINT32_MAX;
	printf("%0*llx-%0*llx %0*llx", run->va_width, (unsigned long long)r->va, run->va_width,
	       (unsigned long long)end, run->va_width, (unsigned long long)r->size);
}

static void text_mapped(const struct maps_run *run, const struct pt_range *r)
{
	char buf[32];

	text_range_span(run, r);
	printf(" %c%c%c%c %016llx %s", r->rights.user ? 'u' : '-', 'r',
	       r->rights.writable ? 'w' : '-', r->rights.nx ? '-' : 'x', (unsigned long long)r->pa,
	       ptl_page_size_name(r->page_size, buf, sizeof(buf)));
	if ((run->s->ctx.flags & PT_CTX_PKE) && r->rights.user)
		printf(" pkey %u", r->rights.pkey);
	if (!r->pa_in_dump)
		fputs(" (frame not in dump)", stdout);
	fputc('\n', stdout);
}

/* QEMU's `info tlb` letters, in its order; X only where XD exists (PAE, IA-32e). */
static void text_leaf(const struct maps_run *run, const struct pt_range *r)
{
	static const struct {
		uint64_t bit;
		char letter;
	} flags[] = {
		{ PT_BIT(PTE_BIT_G), 'G' },  { PT_BIT(PTE_BIT_PS), 'P' }, { PT_BIT(PTE_BIT_D), 'D' },
		{ PT_BIT(PTE_BIT_A), 'A' },  { PT_BIT(PTE_BIT_PCD), 'C' }, { PT_BIT(PTE_BIT_PWT), 'T' },
		{ PT_BIT(PTE_BIT_US), 'U' }, { PT_BIT(PTE_BIT_RW), 'W' },
	};

	printf("%0*llx: %016llx ", run->va_width, (unsigned long long)r->va,
	       (unsigned long long)r->pa);
	if (run->s->ctx.mode != PT_MODE_LEGACY)
		fputc(r->entry & PT_BIT(PTE_BIT_XD) ? 'X' : '-', stdout);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		fputc(r->entry & flags[i].bit ? flags[i].letter : '-', stdout);
	if (!r->pa_in_dump)
		fputs(" (frame not in dump)", stdout);
	fputc('\n', stdout);
}

static void text_hole(const struct maps_run *run, const struct pt_range *r)
{
	text_range_span(run, r);
	fputs(" hole\n", stdout);
}

static void text_unreadable(const struct maps_run *run, const struct pt_range *r)
{
	fputs("unreadable ", stdout);
	text_range_span(run, r);
	printf(" level %u entry 0x%llx = 0x%llx: table 0x%llx not in dump\n", r->level,
	       (unsigned long long)r->entry_pa, (unsigned long long)r->entry,
	       (unsigned long long)r->table_pa);
}

static void text_reserved(const struct maps_run *run, const struct pt_range *r)
{
	struct pt_entry_info info;

	pt_entry_decode(&run->s->ctx, r->level, r->entry, &info);
	fputs("reserved ", stdout);
	text_range_span(run, r);
	printf(" level %u entry 0x%llx = 0x%llx: reserved bits 0x%llx\n", r->level,
	       (unsigned long long)r->entry_pa, (unsigned long long)r->entry,
	       (unsigned long long)info.rsvd_bits);
}

static void text_alias(const struct maps_run *run, const struct pt_range *r)
{
	fputs("alias ", stdout);
	text_range_span(run, r);
	printf(" level %u: table 0x%llx, expanded at 0x%llx\n", r->level,
	       (unsigned long long)r->table_pa, (unsigned long long)r->alias_va);
}

static void text_trailer(const struct maps_run *run)
{
	for (size_t i = 0; i < run->unreadable.count; i++)
		text_unreadable(run, &run->unreadable.items[i]);
	for (size_t i = 0; i < run->reserved.count; i++)
		text_reserved(run, &run->reserved.items[i]);
	for (size_t i = 0; i < run->aliases.count; i++)
		text_alias(run, &run->aliases.items[i]);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void json_span(struct ptl_json *j, const struct pt_range *r)
{
	ptl_json_key(j, "va");
	ptl_json_hex(j, r->va);
	ptl_json_key(j, "size");
	ptl_json_u64(j, r->size);
}

static void json_entry(struct ptl_json *j, const struct pt_range *r)
{
	ptl_json_key(j, "level");
	ptl_json_u64(j, r->level);
	ptl_json_key(j, "entry_pa");
	ptl_json_hex(j, r->entry_pa);
	ptl_json_key(j, "entry");
	ptl_json_hex(j, r->entry);
}

static void json_mapped(struct maps_run *run, const struct pt_range *r)
{
	struct ptl_json *j = &run->j;

	ptl_json_object_begin(j);
	ptl_json_key(j, "va");
	ptl_json_hex(j, r->va);
	ptl_json_key(j, "pa");
	ptl_json_hex(j, r->pa);
	ptl_json_key(j, "size");
	ptl_json_u64(j, r->size);
	ptl_json_rights(j, &r->rights);
	ptl_json_key(j, "page_size");
	ptl_json_u64(j, r->page_size);
	ptl_json_key(j, "pkey");
	ptl_json_u64(j, r->rights.pkey);
	ptl_json_key(j, "pa_in_dump");
	ptl_json_bool(j, r->pa_in_dump);
	if (run->raw)
		json_entry(j, r);
	ptl_json_object_end(j);
}

static void json_list(struct maps_run *run, const char *key, const struct range_list *list)
{
	struct ptl_json *j = &run->j;

	ptl_json_key(j, key);
	ptl_json_array_begin(j);
	for (size_t i = 0; i < list->count; i++) {
		const struct pt_range *r = &list->items[i];
		struct pt_entry_info info;

		ptl_json_object_begin(j);
		json_span(j, r);
		if (r->kind != PT_RANGE_HOLE)
			json_entry(j, r);
		if (r->kind == PT_RANGE_UNREADABLE || r->kind == PT_RANGE_ALIAS) {
			ptl_json_key(j, "table_pa");
			ptl_json_hex(j, r->table_pa);
		}
		if (r->kind == PT_RANGE_ALIAS) {
			ptl_json_key(j, "alias_va");
			ptl_json_hex(j, r->alias_va);
		}
		if (r->kind == PT_RANGE_RESERVED) {
			pt_entry_decode(&run->s->ctx, r->level, r->entry, &info);
			ptl_json_key(j, "reserved_bits");
			ptl_json_hex(j, info.rsvd_bits);
		}
		ptl_json_object_end(j);
	}
	ptl_json_array_end(j);
}

static void json_stats(struct ptl_json *j, const struct pt_maps_stats *st)
{
	ptl_json_key(j, "stats");
	ptl_json_object_begin(j);
	ptl_json_key(j, "tables_read");
	ptl_json_u64(j, st->tables_read);
	ptl_json_key(j, "leaves");
	ptl_json_u64(j, st->leaves);
	ptl_json_key(j, "unreadable");
	ptl_json_u64(j, st->unreadable);
	ptl_json_key(j, "reserved");
	ptl_json_u64(j, st->reserved);
	ptl_json_key(j, "aliases_collapsed");
	ptl_json_u64(j, st->aliases_collapsed);
	ptl_json_object_end(j);
}

/* "fault": the #GP of loading CR3 (PAE PDPTEs), or null. */
static void json_trailer(struct maps_run *run, const struct pt_maps_stats *st)
{
	ptl_json_array_end(&run->j); /* "ranges" */
	if (run->holes)
		json_list(run, "holes", &run->hole_list);
	json_list(run, "unreadable", &run->unreadable);
	json_list(run, "reserved", &run->reserved);
	json_list(run, "aliases", &run->aliases);
	json_stats(&run->j, st);
	ptl_json_fault(&run->j, run->s->init_status, &run->s->init_fault, true);
	ptl_json_context(&run->j, run->s);
	ptl_json_object_end(&run->j);
	ptl_json_finish(&run->j);
}

/** Print the pending run of same-frame ranges, folded when it has 3 or more members. */
static void fold_flush(struct maps_run *run)
{
	if (run->fold_count == 0)
		return;
	text_mapped(run, &run->fold_first);
	if (run->fold_count == 2) {
		struct pt_range second = run->fold_first;
		second.va = run->fold_last_va;
		text_mapped(run, &second);
	} else if (run->fold_count > 2) {
		printf("  ... %llu more ranges mapping the same frame every 0x%llx, the last at %0*llx\n",
		       (unsigned long long)(run->fold_count - 1), (unsigned long long)run->fold_stride,
		       run->va_width, (unsigned long long)run->fold_last_va);
	}
	run->fold_count = 0;
}

/** Text view of a mapped range: extend the pending run, or print it and start a new one. */
static void fold_mapped(struct maps_run *run, const struct pt_range *r)
{
	const struct pt_range *f = &run->fold_first;
	if (run->fold_count > 0 && r->pa == f->pa && r->size == f->size &&
	    r->page_size == f->page_size && r->pa_in_dump == f->pa_in_dump &&
	    memcmp(&r->rights, &f->rights, sizeof(r->rights)) == 0 && r->va > run->fold_last_va &&
	    (run->fold_count == 1 || r->va - run->fold_last_va == run->fold_stride)) {
		run->fold_stride = r->va - run->fold_last_va;
		run->fold_last_va = r->va;
		run->fold_count++;
		return;
	}
	fold_flush(run);
	run->fold_first = *r;
	run->fold_last_va = r->va;
	run->fold_count = 1;
}

/* ---- The listing -------------------------------------------------------------------------- */

/* Print a mapped range (or a hole in text) now; keep the rest for after the ranges. */
static bool take_range(struct maps_run *run, const struct pt_range *r)
{
	if (run->svg && !ptl_svg_add(run->svg, r))
		return false;
	run->listed += r->kind != PT_RANGE_HOLE;
	switch (r->kind) {
	case PT_RANGE_MAPPED:
		if (run->json)
			json_mapped(run, r);
		else if (run->raw)
			text_leaf(run, r);
		else
			fold_mapped(run, r);
		return true;
	case PT_RANGE_HOLE:
		if (!run->json) {
			fold_flush(run);
			text_hole(run, r);
			return true;
		}
		return range_list_push(&run->hole_list, r);
	case PT_RANGE_UNREADABLE:
		return range_list_push(&run->unreadable, r);
	case PT_RANGE_RESERVED:
		return range_list_push(&run->reserved, r);
	case PT_RANGE_ALIAS:
		return range_list_push(&run->aliases, r);
	}
	return true;
}

static void warn_trailer(const struct maps_run *run)
{
	char msg[200];
	size_t used = 0;
	const struct {
		size_t count;
		const char *one, *many;
	} parts[] = {
		{ run->unreadable.count, "unreadable subtree (page table not in dump)",
		  "unreadable subtrees (page tables not in dump)" },
		{ run->reserved.count, "entry with reserved bits", "entries with reserved bits" },
		{ run->aliases.count, "aliased subtree collapsed", "aliased subtrees collapsed" },
	};

	msg[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		int n;

		if (parts[i].count == 0)
			continue;
		n = snprintf(msg + used, sizeof(msg) - used, "%s%zu %s", used ? ", " : "",
			     parts[i].count, parts[i].count == 1 ? parts[i].one : parts[i].many);
		if (n < 0 || (size_t)n >= sizeof(msg) - used)
			break;
		used += (size_t)n;
	}
	if (used != 0)
		ptl_warn("%s: %s (listed after the ranges)", run->s->path, msg);
}

/* The PAE PDPT itself is not in the dump: the whole 4 GiB space is one unreadable subtree. */
static bool push_missing_root(struct maps_run *run)
{
	struct pt_range r;

	memset(&r, 0, sizeof(r));
	r.kind = PT_RANGE_UNREADABLE;
	r.va = 0;
	r.size = UINT64_C(1) << 32;
	r.level = 3;
	r.table_pa = run->s->init_table_pa;
	return range_list_push(&run->unreadable, &r);
}

/*
 * The iterator, or none when loading CR3 failed: a missing PAE PDPT becomes one unreadable
 * range, a #GP from its PDPTEs is reported (exit 1). Returns an exit status.
 */
static int open_iterator(struct maps_run *run, const struct pt_maps_opts *maps_opts,
			 struct pt_maps_iter **iter_ret)
{
	const struct ptl_session *s = run->s;
	const struct pt_fault *f = &s->init_fault;
	enum pt_status st;

	*iter_ret = NULL;
	switch (s->init_status) {
	case PT_NOT_IN_DUMP:
		if (!push_missing_root(run)) {
			ptl_error("out of memory");
			return PTL_EXIT_USAGE;
		}
		return PTL_EXIT_OK;
	case PT_FAULT:
		ptl_error("%s: loading CR3 0x%llx raises #GP: PDPTE 0x%llx = 0x%llx has reserved bits",
			  s->path, (unsigned long long)s->cpu.cr3, (unsigned long long)f->entry_pa,
			  (unsigned long long)f->entry);
		return PTL_EXIT_FAILED;
	default:
		break;
	}
	st = pt_maps_create(&s->ctx, s->mem, maps_opts, iter_ret);
	if (st != PT_OK) {
		*iter_ret = NULL;
		ptl_error("%s: cannot enumerate: %s", s->path, pt_status_name(st));
		return PTL_EXIT_USAGE;
	}
	return PTL_EXIT_OK;
}

/* Bytes of linear address space the mode has: 4 GiB, or both canonical halves. */
static uint64_t va_space(const struct ptl_session *s)
{
	if (s->ctx.mode == PT_MODE_LEGACY || s->ctx.mode == PT_MODE_PAE)
		return UINT64_C(1) << 32;
	return UINT64_C(1) << (s->ctx.mode == PT_MODE_LA57 ? 57 : 48);
}

/* How much of va_space the enumeration has passed at the end of `r` (for the progress line). */
static uint64_t va_covered(const struct ptl_session *s, const struct pt_range *r)
{
	uint64_t end = r->va + (r->size - 1);

	if (end >> 63) /* the upper canonical half follows the lower one */
		return va_space(s) / 2 + (end - (0 - va_space(s) / 2));
	return end;
}

static int list_ranges(struct maps_run *run, const struct pt_maps_opts *maps_opts)
{
	struct pt_maps_iter *iter = NULL;
	struct pt_maps_stats stats;
	struct pt_range r;
	int ret;

	memset(&stats, 0, sizeof(stats));
	ret = open_iterator(run, maps_opts, &iter);
	if (ret == PTL_EXIT_USAGE)
		return ret;
	if (run->json) {
		ptl_json_init(&run->j, stdout);
		ptl_json_object_begin(&run->j);
		ptl_json_key(&run->j, "ranges");
		ptl_json_array_begin(&run->j);
	}
	while (iter != NULL && pt_maps_next(iter, &r)) {
		if (!take_range(run, &r)) {
			ptl_error("out of memory");
			ret = PTL_EXIT_USAGE;
			goto out;
		}
		ptl_progress_update(&run->progress, va_covered(run->s, &r), va_space(run->s));
	}
	ptl_progress_finish(&run->progress);
	if (iter != NULL)
		pt_maps_get_stats(iter, &stats);
	if (run->json) {
		json_trailer(run, &stats);
	} else {
		fold_flush(run);
		text_trailer(run);
	}
	warn_trailer(run);
	if (run->listed == 0 && run->unreadable.count == 0 && ret == PTL_EXIT_OK)
		ptl_error("%s: nothing is mapped in this address space (%s, CR3 0x%llx)", run->s->path,
			  pt_mode_name(run->s->ctx.mode), (unsigned long long)run->s->cpu.cr3);
	if (run->svg && ret == PTL_EXIT_OK)
		ret = ptl_svg_write(run->svg, run->symbols_path);
out:
	pt_maps_destroy(iter);
	return ret;
}

/* Paging off: nothing to enumerate. */
static int check_context(const struct ptl_session *s)
{
	if (s->ctx.mode == PT_MODE_OFF) {
		ptl_error("%s: paging is off (CR0.PG = 0 in CR0 0x%llx): give --mode or --cr0",
			  s->path, (unsigned long long)s->cpu.cr0);
		return PTL_EXIT_USAGE;
	}
	return PTL_EXIT_OK;
}

int ptl_cmd_maps(int argc, char *argv[])
{
	struct maps_args args;
	const struct ptl_option_spec spec = { cmd_name, long_options, ":h", &args.ctx, own_option, &args };
	struct ptl_session session;
	struct maps_run run;
	int ret;

	memset(&args, 0, sizeof(args));
	memset(&session, 0, sizeof(session));
	memset(&run, 0, sizeof(run));
	ret = ptl_parse_options(&spec, argc, argv);
	if (ret == PTL_CONTINUE)
		ret = ptl_one_dump_args(cmd_name, &args.ctx, ptl_usage_maps, argc, argv);
	if (ret != PTL_CONTINUE)
		return ret;
	ret = ptl_session_open(&session, argv[optind], &args.ctx);
	if (ret != PTL_EXIT_OK)
		goto out;
	ret = check_context(&session);
	if (ret != PTL_EXIT_OK)
		goto out;
	run.s = &session;
	run.json = args.ctx.json;
	run.raw = args.raw;
	run.holes = args.holes;
	run.va_width = session.ctx.mode == PT_MODE_LEGACY || session.ctx.mode == PT_MODE_PAE ? 8 : 16;
	run.svg_path = args.svg_path;
	run.symbols_path = args.symbols_path;
	args.maps.coalesce = !run.raw;
	args.maps.holes = run.holes;
	ptl_progress_init(&run.progress, cmd_name, "GiB of VA", UINT64_C(1) << 30, args.ctx.progress);
	if (run.svg_path && !(run.svg = ptl_svg_create(&session, run.svg_path))) {
		ret = PTL_EXIT_USAGE;
		goto out;
	}
	ret = list_ranges(&run, &args.maps);
out:
	ptl_svg_destroy(run.svg);
	range_list_free(&run.hole_list);
	range_list_free(&run.unreadable);
	range_list_free(&run.reserved);
	range_list_free(&run.aliases);
	ptl_session_close(&session);
	return ret;
}
