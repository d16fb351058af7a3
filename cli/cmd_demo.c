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
#include <time.h>

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

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/** One step of the demo and its verdict. */
struct step {
	const char *name;
	bool ok;
	double seconds;
	char detail[320];
};

struct demo {
	bool json;
	struct step steps[6];
	unsigned nsteps;
};

static struct step *step_begin(struct demo *d, const char *name)
{
	struct step *s = &d->steps[d->nsteps++];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->seconds = now();
	return s;
}

static void step_end(const struct demo *d, struct step *s, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void step_end(const struct demo *d, struct step *s, bool ok, const char *fmt, ...)
{
	va_list ap;
	s->ok = ok;
	s->seconds = now() - s->seconds;
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
	struct pt_maps_opts opts = { .coalesce = true };
	if (pt_maps_create(ctx, mem, &opts, &it) != PT_OK)
		return;
	while (pt_maps_next(it, &r)) {
		if (r.kind != PT_RANGE_MAPPED)
			continue;
		printf("           %016llx-%016llx -> %016llx  %s%s%s  %s pages%s\n",
		       (unsigned long long)r.va, (unsigned long long)(r.va + r.size),
		       (unsigned long long)r.pa, r.rights.user ? "u" : "-", r.rights.writable ? "w" : "-",
		       r.rights.nx ? "-" : "x", r.page_size == 0x200000 ? "2M" : r.page_size == 0x40000000 ? "1G" : "4K",
		       r.pa_in_dump ? "" : " (partly past RAM)");
	}
	pt_maps_destroy(it);
}

int ptl_cmd_demo(int argc, char *argv[])
{
	static const struct option long_options[] = {
		{ "probes", required_argument, NULL, 'p' },
		{ "la57", no_argument, NULL, 'l' },
		{ "kaslr", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pt_emu_boot_opts bo;
	struct demo d;
	uint64_t probes = DEFAULT_PROBES;
	int opt;

	memset(&bo, 0, sizeof(bo));
	memset(&d, 0, sizeof(d));
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (!ptl_parse_u64(optarg, &probes) || probes == 0 || probes > (UINT64_C(1) << 32))
				return ptl_usage_error(cmd_name, "--probes '%s' is not a number in 1..2^32", optarg);
			break;
		case 'l':
			bo.la57 = true;
			break;
		case 'k':
			if (!ptl_parse_u64(optarg, &bo.kaslr_seed))
				return ptl_usage_error(cmd_name, "--kaslr '%s' is not a number", optarg);
			bo.has_kaslr_seed = true;
			break;
		case 'j':
			d.json = true;
			break;
		case 'h':
			ptl_usage_demo(stdout);
			return PTL_EXIT_OK;
		default:
			return ptl_getopt_error(cmd_name, opt, argv);
		}
	}
	if (optind != argc)
		return ptl_usage_error(cmd_name, "unexpected argument '%s'", argv[optind]);

	struct pt_emu_machine *m = NULL;
	struct pt_emu_boot_result br;
	struct pt_symtab *syms = NULL;
	struct pt_oracle *oracle = NULL;
	struct pt_kpgd_result kr;
	struct pt_diff_stats *ds = calloc(1, sizeof(*ds));
	struct pt_error err;
	struct pt_context ctx;
	bool all = true;
	memset(&kr, 0, sizeof(kr));
	memset(&err, 0, sizeof(err));
	if (!ds) {
		ptl_error("out of memory");
		return PTL_EXIT_USAGE;
	}
	const double t_start = now();

	/* 1. boot */
	struct step *s = step_begin(&d, "boot");
	if (pt_emu_boot(&bo, &m, &br, &err) != PT_OK) {
		step_end(&d, s, false, "%s", err.message);
		all = false;
		goto summary;
	}
	step_end(&d, s, true, "%s: %llu instructions in Unicorn; CR3 0x%llx, %s paging, "
		 "phys_load 0x%llx, virt_offset 0x%llx", br.image->name, (unsigned long long)br.insns,
		 (unsigned long long)br.cpu.cr3, pt_mode_name(br.paging),
		 (unsigned long long)br.phys_load, (unsigned long long)br.virt_offset);
	const struct pt_mem *mem = pt_emu_mem(m);
	pt_context_init(&ctx, &br.cpu, mem, NULL, NULL);

	/* 2. kpgd from the image's System.map */
	s = step_begin(&d, "kpgd");
	syms = load_symbols(m, &err);
	if (!syms) {
		step_end(&d, s, false, "%s", err.message);
		all = false;
	} else {
		struct pt_dump_range range = { 0, pt_emu_mem_size(m), 0 };
		struct pt_kpgd_inputs in = {
			.mem = mem, .ranges = &range, .nranges = 1, .symbols = syms,
			.has_cpu = true, .cpu = br.cpu, .elf_machine = 62,
		};
		if (pt_kpgd_find(&in, &kr, &err) != PT_OK || !kr.found) {
			step_end(&d, s, false, "not found: %s", err.message[0] ? err.message : "no candidate");
			all = false;
		} else {
			const struct pt_kpgd_candidate *c = &kr.candidates[0];
			bool ok = kr.verified && c->kpgd == (br.cpu.cr3 & ~UINT64_C(0xfff)) &&
				  c->mode == br.paging && c->virt_offset == br.virt_offset &&
				  c->phys_offset == br.phys_offset;
			step_end(&d, s, ok, "%s: kpgd 0x%llx (%s, %s) %s CR3; virt_offset 0x%llx, "
				 "phys_offset 0x%llx; %zu facts checked", pt_kpgd_method_name(c->method),
				 (unsigned long long)c->kpgd, pt_mode_name(c->mode),
				 kr.verified ? "verified" : "NOT verified",
				 c->kpgd == (br.cpu.cr3 & ~UINT64_C(0xfff)) ? "==" : "!=",
				 (unsigned long long)c->virt_offset, (unsigned long long)c->phys_offset,
				 c->nfacts);
			all &= ok;
		}
	}

	/* 3. the map, and linux_banner read through the walker */
	s = step_begin(&d, "walk");
	{
		uint64_t banner_link = 0;
		struct pt_result r;
		const struct pt_access rd = { PT_ACCESS_READ, 0, false };
		bool ok = pt_emu_symbol(m, "linux_banner", &banner_link);
		const uint64_t va = banner_link + br.virt_offset;
		ok = ok && pt_translate(&ctx, mem, va, &rd, &r) == PT_OK;
		const char *text = ok ? mem->ptr(mem, r.pa, 14) : NULL;
		ok = text && memcmp(text, "Linux version ", 14) == 0;
		step_end(&d, s, ok, "linux_banner 0x%llx -> 0x%llx: \"%.40s\"", (unsigned long long)va,
			 ok ? (unsigned long long)r.pa : 0ULL, ok ? text : "(not mapped)");
		all &= ok;
		if (!d.json)
			print_map(&ctx, mem);
	}

	/* 4. walker vs Unicorn's MMU */
	s = step_begin(&d, "diff");
	if (pt_oracle_create(mem, pt_emu_mem_size(m), &oracle, &err) != PT_OK) {
		step_end(&d, s, false, "%s", err.message);
		all = false;
	} else {
		struct pt_cpu_state cpu = br.cpu;
		cpu.maxphyaddr = (uint8_t)pt_oracle_maxphyaddr(oracle);
		const struct pt_diff_run_opts ro = { .probes = probes, .seed = 1, .cpl = -1 };
		if (pt_diff_run(&cpu, mem, oracle, &ro, ds, &err) != PT_OK) {
			step_end(&d, s, false, "%s", err.message);
			all = false;
		} else {
			uint64_t ndev = 0;
			for (unsigned i = 0; i < PT_DEV_COUNT; i++)
				ndev += ds->deviations[i];
			bool ok = ds->mismatches == 0 && ds->unanswered == 0;
			step_end(&d, s, ok, "%llu probes: %llu match, %llu documented Unicorn deviations, "
				 "%llu skipped, %llu mismatches (%.0f probes/s)",
				 (unsigned long long)ds->probes, (unsigned long long)ds->matches,
				 (unsigned long long)ndev, (unsigned long long)ds->skipped,
				 (unsigned long long)ds->mismatches,
				 ds->seconds > 0 ? (double)ds->probes / ds->seconds : 0.0);
			all &= ok;
		}
	}

summary:;
	const double total = now() - t_start;
	if (d.json) {
		struct ptl_json j;
		ptl_json_init(&j, stdout);
		ptl_json_object_begin(&j);
		ptl_json_key(&j, "ok");
		ptl_json_bool(&j, all);
		ptl_json_key(&j, "image");
		ptl_json_string(&j, m ? br.image->name : "linux64");
		if (m) {
			ptl_json_key(&j, "cr3");
			ptl_json_hex(&j, br.cpu.cr3);
			ptl_json_key(&j, "paging");
			ptl_json_string(&j, pt_mode_name(br.paging));
			ptl_json_key(&j, "phys_offset");
			ptl_json_hex(&j, br.phys_offset);
			ptl_json_key(&j, "virt_offset");
			ptl_json_hex(&j, br.virt_offset);
		}
		if (kr.found) {
			ptl_json_key(&j, "kpgd");
			ptl_json_hex(&j, kr.candidates[0].kpgd);
		}
		ptl_json_key(&j, "probes");
		ptl_json_u64(&j, ds->probes);
		ptl_json_key(&j, "mismatches");
		ptl_json_u64(&j, ds->mismatches);
		ptl_json_key(&j, "steps");
		ptl_json_array_begin(&j);
		for (unsigned i = 0; i < d.nsteps; i++) {
			ptl_json_object_begin(&j);
			ptl_json_key(&j, "step");
			ptl_json_string(&j, d.steps[i].name);
			ptl_json_key(&j, "ok");
			ptl_json_bool(&j, d.steps[i].ok);
			ptl_json_key(&j, "microseconds");
			ptl_json_u64(&j, (uint64_t)(d.steps[i].seconds * 1e6));
			ptl_json_key(&j, "detail");
			ptl_json_string(&j, d.steps[i].detail);
			ptl_json_object_end(&j);
		}
		ptl_json_array_end(&j);
		ptl_json_key(&j, "microseconds");
		ptl_json_u64(&j, (uint64_t)(total * 1e6));
		ptl_json_object_end(&j);
		ptl_json_finish(&j);
	} else {
		printf("%s: every check %s (%.0f ms in all)\n", all ? "demo passed" : "demo FAILED",
		       all ? "holds" : "does not hold", total * 1e3);
	}
	pt_kpgd_result_deinit(&kr);
	pt_symtab_destroy(syms);
	pt_oracle_destroy(oracle);
	pt_emu_destroy(m);
	free(ds);
	return all ? PTL_EXIT_OK : PTL_EXIT_FAILED;
}
