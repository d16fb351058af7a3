/* SPDX-License-Identifier: MIT */
/*
 * The kpgd finder's driver (kpgd.h for the strategies): the finder's state from the inputs, the
 * layouts the symbols give (or the kernel's own kallsyms tables, recovered from memory, when
 * there is no symbol file or it lacks the table's symbol), the architecture to try, and the
 * strategies, cheapest first, until one verifies. Everything is checked by walking candidate
 * tables with the shared walker (pt_walk, pt_entry_decode) and by reading the bytes the walk
 * lands on.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kpgd_internal.h"
#include "ptlab/error.h"

/** ELF e_machine values (System V ABI): the dump's architecture hint. */
enum { ELF_EM_386 = 3, ELF_EM_X86_64 = 62 };

void pt_kpgd_inputs_from_dump(struct pt_kpgd_inputs *in, const struct pt_dump *dump)
{
	in->mem = pt_dump_mem(dump);
	in->ranges = pt_dump_ranges(dump, &in->nranges);
	in->vmcoreinfo = pt_dump_vmcoreinfo(dump, &in->vmcoreinfo_len);
	in->has_cpu = pt_dump_cpu(dump, &in->cpu) != PT_CPU_NONE;
	in->elf_machine = pt_dump_elf_machine(dump);
	in->dump = dump;
}

/** The finder's state: the dump's extent, MAXPHYADDR, the C-bit and the mode of the CPU state. */
static enum pt_status finder_init(struct kpgd_finder *f, const struct pt_kpgd_inputs *in,
				  struct pt_kpgd_result *res, struct pt_error *err)
{
	memset(f, 0, sizeof(*f));
	f->in = in;
	f->mem = in->mem;
	f->res = res;
	f->maxphyaddr = PT_MAXPHYADDR_MAX;
	f->budget = HYPOTHESIS_BUDGET;
	f->range_budget = RANGE_BUDGET;
	f->work_store = in->max_work ? in->max_work : UINT64_MAX;
	f->work_left = &f->work_store;
	if (in->max_work && in->max_work < f->range_budget)
		f->range_budget = in->max_work;
	kpgd_screen_ctx_init(&f->screen);
	for (size_t i = 0; i < in->nranges; i++) {
		uint64_t end = in->ranges[i].pa + in->ranges[i].size;
		if (end > f->phys_end)
			f->phys_end = end;
	}
	if (f->phys_end == 0)
		return pt_error_set(err, "find-kpgd", UINT64_MAX, "the dump holds no memory");
	if (in->has_cpu) {
		struct pt_context cctx;
		if (in->cpu.maxphyaddr >= PT_MAXPHYADDR_MIN && in->cpu.maxphyaddr <= PT_MAXPHYADDR_MAX)
			f->maxphyaddr = in->cpu.maxphyaddr;
		f->cbit = in->cpu.cbit;
		/* the mode even when the PAE PDPT cannot be loaded */
		if (pt_context_init(&cctx, &in->cpu, NULL, NULL, NULL) == PT_OK || cctx.mode == PT_MODE_PAE)
			f->cpu_mode = cctx.mode;
	}
	return PT_OK;
}

/**
 * No symbol file, or one without the table's symbol (text only): the kernel's own kallsyms
 * tables, recovered from memory, stand in for a /proc/kallsyms of the running kernel (when the
 * symbol file agrees with them). Replaces `layouts` by the recovered ones; returns their count.
 */
static size_t use_recovered_kallsyms(struct kpgd_finder *f, struct kpgd_layout *layouts, size_t nl)
{
	kpgd_recover_kallsyms(f);
	if (!f->res->kallsyms_symtab)
		return nl;
	struct kpgd_layout rec[MAX_LAYOUTS];
	size_t nr = 0;
	if (nl == 0)
		nr = kpgd_layouts_recovered(f, NULL, 0, rec, MAX_LAYOUTS);
	else if (kpgd_file_agrees(f, f->in->symbols, f->res->kallsyms_symtab, f->agree, sizeof(f->agree)))
		nr = kpgd_layouts_recovered(f, layouts, nl, rec, MAX_LAYOUTS);
	else
		f->agree[0] = 0;
	if (!nr)
		return nl;
	memcpy(layouts, rec, nr * sizeof(*rec));
	return nr;
}

/** Which architecture: the symbols, the dump's machine, the CPU mode; else both. */
static void choose_arch(struct kpgd_finder *f, const struct kpgd_layout *layouts, size_t nl)
{
	if (nl) {
		f->try64 = layouts[0].is64;
		f->try32 = !layouts[0].is64;
		return;
	}
	const unsigned machine = f->in->elf_machine;
	if (machine == ELF_EM_X86_64 || f->cpu_mode == PT_MODE_IA32E || f->cpu_mode == PT_MODE_LA57)
		f->try64 = true;
	else if (machine == ELF_EM_386 || f->cpu_mode == PT_MODE_LEGACY || f->cpu_mode == PT_MODE_PAE)
		f->try32 = true;
	else
		f->try64 = f->try32 = true;
}

/** Strategies 2 to 5, each when asked for alone, or in order while nothing verified. */
static void run_strategies(struct kpgd_finder *f, const struct kpgd_layout *layouts, size_t nl)
{
	const enum pt_kpgd_method only = f->in->only;
	if ((!only && !kpgd_any_verified(f)) || only == PT_KPGD_SYMBOLS) {
		if (nl && layouts[0].has_kpgd)
			kpgd_strategy_symbols(f, layouts, nl);
		else if (nl)
			kpgd_strategy_textonly(f, layouts, nl);
		else
			kpgd_log(f, "symbols: %s", f->in->symbols ? "the symbol file gives no usable layout"
			         : "no symbol file");
	}
	if ((!only && !kpgd_any_verified(f)) || only == PT_KPGD_KASLR) {
		if (nl)
			kpgd_strategy_kaslr(f, layouts, nl);
		else
			kpgd_log(f, "kaslr: needs symbols");
	}
	if ((!only && !kpgd_any_verified(f)) || only == PT_KPGD_IDENTITY)
		kpgd_strategy_identity(f, layouts, nl);
	if ((!only && !kpgd_any_verified(f)) || only == PT_KPGD_BRUTE)
		kpgd_strategy_brute(f, layouts, nl);
}

enum pt_status pt_kpgd_find(const struct pt_kpgd_inputs *in, struct pt_kpgd_result *res,
			    struct pt_error *err)
{
	memset(res, 0, sizeof(*res));
	if (!in || !in->mem)
		return pt_error_set(err, "find-kpgd", UINT64_MAX, "no memory to search");
	struct kpgd_finder f;
	enum pt_status st = finder_init(&f, in, res, err);
	if (st != PT_OK)
		return st;
	struct kpgd_layout layouts[MAX_LAYOUTS];
	size_t nl = 0;
	if (in->symbols)
		nl = kpgd_layouts_from_syms(&f, in->symbols, layouts, MAX_LAYOUTS);
	const enum pt_kpgd_method only = in->only;
	if (!only || only == PT_KPGD_VMCOREINFO)
		kpgd_strategy_vmcoreinfo(&f);
	const bool uses_syms = !only || only == PT_KPGD_SYMBOLS || only == PT_KPGD_KASLR || only == PT_KPGD_BRUTE;
	if (uses_syms && !in->no_kallsyms && !kpgd_any_verified(&f) && (nl == 0 || !layouts[0].has_kpgd))
		nl = use_recovered_kallsyms(&f, layouts, nl);
	choose_arch(&f, layouts, nl);
	run_strategies(&f, layouts, nl);
	if (*f.work_left == 0)
		kpgd_log(&f, "work budget of %" PRIu64 " walks spent: what was left is not verified", in->max_work);
	kpgd_report(&f, nl ? &layouts[0] : NULL);
	res->candidates = f.cands;
	res->ncandidates = f.ncands;
	free(f.banners);
	kpgd_content_deinit(&f.content);
	if (f.oom) {
		pt_kpgd_result_deinit(res);
		return pt_error_set(err, "find-kpgd", UINT64_MAX, "out of memory");
	}
	return PT_OK;
}
