/* SPDX-License-Identifier: MIT */
/*
 * `ptlab demo`: the main job, on the boot image built into the binary (no files needed):
 * boot it in Unicorn, read its System.map as a user's would be read, find the kpgd from those
 * symbols and check it against the CR3 the boot code loaded and the offsets the boot chose,
 * show the coalesced map, read linux_banner through the walker, and diff the walker against
 * Unicorn's MMU on 100k probes. Each step is timed; exit 0 only if every check holds.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab/emu.h"
#include "ptlab/kpgd.h"
#include "ptlab/maps.h"
#include "ptlab/symbols.h"
#include "util.h"

static const char cmd_name[] = "demo";
static const uint64_t DEFAULT_PROBES = 100000;

void ptl_usage_demo(FILE *out)
{
	fputs("Usage: ptlab demo [--probes N] [--la57] [--kaslr SEED] [--json]\n"
	      "The main job, on the default boot image built into ptlab (no files needed):\n"
	      "  1. boot it in Unicorn: the decompressor's identity map, head_64's early_top_pgt\n"
	      "     with the load_delta fix-up, then init_top_pgt;\n"
	      "  2. read its System.map and find the kernel page table (kpgd) from those symbols,\n"
	      "     checked against the CR3 the boot code loaded and the offsets the boot chose;\n"
	      "  3. show the coalesced map; read linux_banner through the walker;\n"
	      "  4. compare the walker with Unicorn's MMU on N probes (default 100000).\n"
	      "Each step is timed. Exit 0 only if every check holds, else 1.\n"
	      "\n"
	      "  --probes N           differential probes (default 100000)\n"
	      "  --la57               boot with LA57: 5-level tables\n"
	      "  --kaslr SEED         boot with physical and virtual offsets picked from SEED\n"
	      "  --json               print one JSON object on stdout\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab demo\n"
	      "  ptlab demo --kaslr 7 --la57 --json\n",
	      out);
}

/** One step of the demo and its verdict. */
struct step {
	const char *name;
	bool ok;
	double seconds;
	char detail[320];
};

/** The demo's state: its options, what each step made, and the steps' verdicts. */
struct demo {
	bool json;
	uint64_t probes;
	struct pt_emu_boot_opts boot_opts;
	struct step steps[6];
	unsigned nsteps;
	bool all;                      /**< every check so far holds */
	struct pt_emu_machine *m;      /**< the booted machine (NULL when the boot failed) */
	struct pt_emu_boot_result br;
	const struct pt_mem *mem;      /**< its memory */
	struct pt_context ctx;         /**< the paging context at its stop point */
	struct pt_symtab *syms;
	struct pt_kpgd_result kr;
	struct pt_oracle *oracle;
	struct pt_diff_stats *ds;
	struct pt_error err;
};

static struct step *step_begin(struct demo *d, const char *name)
{
	struct step *s = &d->steps[d->nsteps++];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->seconds = ptl_now();
	return s;
}

static void step_end(struct demo *d, struct step *s, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void step_end(struct demo *d, struct step *s, bool ok, const char *fmt, ...)
{
	va_list ap;
	s->ok = ok;
	d->all &= ok;
	s->seconds = ptl_now() - s->seconds;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
	if (!d->json)
		printf("%-8s %s %8.1f ms  %s\n", s->name, ok ? "ok  " : "FAIL", s->seconds * 1e3, s->detail);
}

/** The image's System.map, as `ptlab boot --symbols-out` writes it, parsed by the symbol loader. */
static struct pt_symtab *load_symbols(const struct pt_emu_machine *m, struct pt_error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct pt_symtab *tab = NULL;
	if (!f) {
		snprintf(err->message, sizeof(err->message), "demo: out of memory");
		return NULL;
	}
	if (pt_emu_print_symbols(m, f) != PT_OK || fclose(f) != 0) {
		free(text);
		snprintf(err->message, sizeof(err->message), "demo: cannot format the System.map");
		return NULL;
	}
	if (pt_symtab_load_buffer(text, len, "System.map", &tab, err) != PT_OK)
		tab = NULL;
	free(text);
	return tab;
}

static void print_map(const struct pt_context *ctx, const struct pt_mem *mem)
{
	struct pt_maps_iter *it;
	struct pt_range r;
	char size[32];
	struct pt_maps_opts opts = { .coalesce = true };
	if (pt_maps_create(ctx, mem, &opts, &it) != PT_OK)
		return;
	while (pt_maps_next(it, &r)) {
		if (r.kind != PT_RANGE_MAPPED)
			continue;
		printf("           %016llx-%016llx -> %016llx  %s%s%s  %s pages%s\n",
		       (unsigned long long)r.va, (unsigned long long)(r.va + r.size),
		       (unsigned long long)r.pa, r.rights.user ? "u" : "-", r.rights.writable ? "w" : "-",
		       r.rights.nx ? "-" : "x", ptl_page_size_name(r.page_size, size, sizeof(size)),
		       r.pa_in_dump ? "" : " (partly past RAM)");
	}
	pt_maps_destroy(it);
}

enum demo_opt {
	OPT_PROBES = PTL_OPT_COMMAND,
	OPT_LA57,
	OPT_KASLR,
};

static int own_option(void *state, int opt, const char *arg)
{
	struct demo *d = state;

	switch (opt) {
	case OPT_PROBES:
		if (!ptl_parse_u64(arg, &d->probes) || d->probes == 0 || d->probes > (UINT64_C(1) << 32))
			return ptl_usage_error(cmd_name, "--probes '%s' is not a number in 1..2^32", arg);
		break;
	case OPT_LA57:
		d->boot_opts.la57 = true;
		break;
	case OPT_KASLR:
		if (!ptl_parse_u64(arg, &d->boot_opts.kaslr_seed))
			return ptl_usage_error(cmd_name, "--kaslr '%s' is not a number", arg);
		d->boot_opts.has_kaslr_seed = true;
		break;
	case PTL_OPT_JSON:
		d->json = true;
		break;
	case PTL_OPT_HELP:
		return ptl_print_usage(ptl_usage_demo);
	}
	return PTL_CONTINUE;
}

/* 1. Boot the default image in Unicorn; false when it did not boot (nothing else can run). */
static bool step_boot(struct demo *d)
{
	struct step *s = step_begin(d, "boot");
	const struct pt_emu_boot_result *br = &d->br;

	if (pt_emu_boot(&d->boot_opts, &d->m, &d->br, &d->err) != PT_OK) {
		step_end(d, s, false, "%s", d->err.message);
		return false;
	}
	step_end(d, s, true, "%s: %llu instructions in Unicorn; CR3 0x%llx, %s paging, "
		 "phys_load 0x%llx, virt_offset 0x%llx", br->image->name, (unsigned long long)br->insns,
		 (unsigned long long)br->cpu.cr3, pt_mode_name(br->paging),
		 (unsigned long long)br->phys_load, (unsigned long long)br->virt_offset);
	d->mem = pt_emu_mem(d->m);
	pt_context_init(&d->ctx, &br->cpu, d->mem, NULL, NULL);
	return true;
}

/* 2. The kpgd from the image's System.map, against the CR3 and offsets of the boot. */
static void step_kpgd(struct demo *d)
{
	struct step *s = step_begin(d, "kpgd");
	const struct pt_emu_boot_result *br = &d->br;

	d->syms = load_symbols(d->m, &d->err);
	if (!d->syms) {
		step_end(d, s, false, "%s", d->err.message);
		return;
	}
	struct pt_dump_range range = { 0, pt_emu_mem_size(d->m), 0 };
	struct pt_kpgd_inputs in = {
		.mem = d->mem, .ranges = &range, .nranges = 1, .symbols = d->syms,
		.has_cpu = true, .cpu = br->cpu, .elf_machine = 62,
	};
	if (pt_kpgd_find(&in, &d->kr, &d->err) != PT_OK || !d->kr.found) {
		step_end(d, s, false, "not found: %s", d->err.message[0] ? d->err.message : "no candidate");
		return;
	}
	const struct pt_kpgd_candidate *c = &d->kr.candidates[0];
	const bool same_cr3 = c->kpgd == (br->cpu.cr3 & ~UINT64_C(0xfff));
	const bool ok = d->kr.verified && same_cr3 && c->mode == br->paging &&
			c->virt_offset == br->virt_offset && c->phys_offset == br->phys_offset;
	step_end(d, s, ok, "%s: kpgd 0x%llx (%s, %s) %s CR3; virt_offset 0x%llx, "
		 "phys_offset 0x%llx; %zu facts checked", pt_kpgd_method_name(c->method),
		 (unsigned long long)c->kpgd, pt_mode_name(c->mode),
		 d->kr.verified ? "verified" : "NOT verified", same_cr3 ? "==" : "!=",
		 (unsigned long long)c->virt_offset, (unsigned long long)c->phys_offset, c->nfacts);
}

/* 3. linux_banner read through the walker, and the map (text only). */
static void step_walk(struct demo *d)
{
	struct step *s = step_begin(d, "walk");
	uint64_t banner_link = 0;
	struct pt_result r;
	const struct pt_access rd = { PT_ACCESS_READ, 0, false };
	bool ok = pt_emu_symbol(d->m, "linux_banner", &banner_link);
	const uint64_t va = banner_link + d->br.virt_offset;

	ok = ok && pt_translate(&d->ctx, d->mem, va, &rd, &r) == PT_OK;
	const char *text = ok ? d->mem->ptr(d->mem, r.pa, 14) : NULL;
	ok = text && memcmp(text, "Linux version ", 14) == 0;
	step_end(d, s, ok, "linux_banner 0x%llx -> 0x%llx: \"%.40s\"", (unsigned long long)va,
		 ok ? (unsigned long long)r.pa : 0ULL, ok ? text : "(not mapped)");
	if (!d->json)
		print_map(&d->ctx, d->mem);
}

/* 4. The walker against Unicorn's MMU. */
static void step_diff(struct demo *d)
{
	struct step *s = step_begin(d, "diff");
	const struct pt_diff_stats *ds = d->ds;

	if (pt_oracle_create(d->mem, pt_emu_mem_size(d->m), &d->oracle, &d->err) != PT_OK) {
		step_end(d, s, false, "%s", d->err.message);
		return;
	}
	struct pt_cpu_state cpu = d->br.cpu;
	cpu.maxphyaddr = (uint8_t)pt_oracle_maxphyaddr(d->oracle);
	const struct pt_diff_run_opts ro = { .probes = d->probes, .seed = 1, .cpl = -1 };
	if (pt_diff_run(&cpu, d->mem, d->oracle, &ro, d->ds, &d->err) != PT_OK) {
		step_end(d, s, false, "%s", d->err.message);
		return;
	}
	uint64_t ndev = 0;
	for (unsigned i = 0; i < PT_DEV_COUNT; i++)
		ndev += ds->deviations[i];
	step_end(d, s, ds->mismatches == 0 && ds->unanswered == 0,
		 "%llu probes: %llu match, %llu documented Unicorn deviations, "
		 "%llu skipped, %llu mismatches (%.0f probes/s)",
		 (unsigned long long)ds->probes, (unsigned long long)ds->matches,
		 (unsigned long long)ndev, (unsigned long long)ds->skipped,
		 (unsigned long long)ds->mismatches,
		 ds->seconds > 0 ? (double)ds->probes / ds->seconds : 0.0);
}

static void print_json(const struct demo *d, double total)
{
	struct ptl_json j;

	ptl_json_init(&j, stdout);
	ptl_json_object_begin(&j);
	ptl_json_key(&j, "ok");
	ptl_json_bool(&j, d->all);
	ptl_json_key(&j, "image");
	ptl_json_string(&j, d->m ? d->br.image->name : "linux64");
	if (d->m) {
		ptl_json_key(&j, "cr3");
		ptl_json_hex(&j, d->br.cpu.cr3);
		ptl_json_key(&j, "paging");
		ptl_json_string(&j, pt_mode_name(d->br.paging));
		ptl_json_key(&j, "phys_offset");
		ptl_json_hex(&j, d->br.phys_offset);
		ptl_json_key(&j, "virt_offset");
		ptl_json_hex(&j, d->br.virt_offset);
	}
	if (d->kr.found) {
		ptl_json_key(&j, "kpgd");
		ptl_json_hex(&j, d->kr.candidates[0].kpgd);
	}
	ptl_json_key(&j, "probes");
	ptl_json_u64(&j, d->ds->probes);
	ptl_json_key(&j, "mismatches");
	ptl_json_u64(&j, d->ds->mismatches);
	ptl_json_key(&j, "steps");
	ptl_json_array_begin(&j);
	for (unsigned i = 0; i < d->nsteps; i++) {
		ptl_json_object_begin(&j);
		ptl_json_key(&j, "step");
		ptl_json_string(&j, d->steps[i].name);
		ptl_json_key(&j, "ok");
		ptl_json_bool(&j, d->steps[i].ok);
		ptl_json_key(&j, "microseconds");
		ptl_json_u64(&j, (uint64_t)(d->steps[i].seconds * 1e6));
		ptl_json_key(&j, "detail");
		ptl_json_string(&j, d->steps[i].detail);
		ptl_json_object_end(&j);
	}
	ptl_json_array_end(&j);
	ptl_json_key(&j, "microseconds");
	ptl_json_u64(&j, (uint64_t)(total * 1e6));
	ptl_json_object_end(&j);
	ptl_json_finish(&j);
}

int ptl_cmd_demo(int argc, char *argv[])
{
	static const struct option long_options[] = {
		{ "probes", required_argument, NULL, OPT_PROBES },
		{ "la57", no_argument, NULL, OPT_LA57 },
		{ "kaslr", required_argument, NULL, OPT_KASLR },
		{ "json", no_argument, NULL, PTL_OPT_JSON },
		{ "help", no_argument, NULL, PTL_OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct demo d;
	const struct ptl_option_spec spec = { cmd_name, long_options, ":h", NULL, own_option, &d };
	int ret;

	memset(&d, 0, sizeof(d));
	d.probes = DEFAULT_PROBES;
	d.all = true;
	ret = ptl_parse_options(&spec, argc, argv);
	if (ret == PTL_CONTINUE)
		ret = ptl_no_operands(cmd_name, argc, argv);
	if (ret != PTL_CONTINUE)
		return ret;
	d.ds = calloc(1, sizeof(*d.ds));
	if (!d.ds) {
		ptl_error("out of memory");
		return PTL_EXIT_USAGE;
	}
	const double t_start = ptl_now();
	if (step_boot(&d)) {
		step_kpgd(&d);
		step_walk(&d);
		step_diff(&d);
	}
	const double total = ptl_now() - t_start;
	if (d.json)
		print_json(&d, total);
	else
		printf("%s: every check %s (%.0f ms in all)\n", d.all ? "demo passed" : "demo FAILED",
		       d.all ? "holds" : "does not hold", total * 1e3);
	pt_kpgd_result_deinit(&d.kr);
	pt_symtab_destroy(d.syms);
	pt_oracle_destroy(d.oracle);
	pt_emu_destroy(d.m);
	free(d.ds);
	return d.all ? PTL_EXIT_OK : PTL_EXIT_FAILED;
}
