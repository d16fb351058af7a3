/* SPDX-License-Identifier: MIT */
/*
 * The answer: the kept candidates ranked (verified first, then score), byte-identical copies of
 * the answer named, a tie between two verified tables refused, then the PTI user copy and how the
 * dump's CR3 relates to the answer; and the names the CLI and the JSON print.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kpgd_internal.h"
#include "ptlab/le.h"

static const char *const METHOD_NAMES[] = {
	[PT_KPGD_AUTO] = "auto", [PT_KPGD_VMCOREINFO] = "vmcoreinfo", [PT_KPGD_SYMBOLS] = "symbols",
	[PT_KPGD_KASLR] = "kaslr", [PT_KPGD_IDENTITY] = "identity", [PT_KPGD_BRUTE] = "brute-force",
};
static const char *const CR3_NAMES[] = {
	[PT_KPGD_CR3_UNKNOWN] = "unknown", [PT_KPGD_CR3_SAME] = "same", [PT_KPGD_CR3_USER_COPY] = "user-copy",
	[PT_KPGD_CR3_PROCESS] = "process", [PT_KPGD_CR3_OTHER] = "other",
};

const char *pt_kpgd_method_name(enum pt_kpgd_method method)
{
	return (unsigned)method < sizeof(METHOD_NAMES) / sizeof(METHOD_NAMES[0]) ? METHOD_NAMES[method] : "?";
}

bool pt_kpgd_method_parse(const char *name, enum pt_kpgd_method *method_ret)
{
	for (unsigned m = 0; m < sizeof(METHOD_NAMES) / sizeof(METHOD_NAMES[0]); m++) {
		if (strcmp(name, METHOD_NAMES[m]) == 0) {
			*method_ret = (enum pt_kpgd_method)m;
			return true;
		}
	}
	return false;
}

const char *pt_kpgd_cr3_name(enum pt_kpgd_cr3 rel)
{
	return (unsigned)rel < sizeof(CR3_NAMES) / sizeof(CR3_NAMES[0]) ? CR3_NAMES[rel] : "unknown";
}

void pt_kpgd_result_deinit(struct pt_kpgd_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->ncandidates; i++)
		free(res->candidates[i].facts);
	free(res->candidates);
	for (size_t i = 0; i < res->nlog; i++)
		free(res->log[i]);
	free(res->log);
	pt_symtab_destroy(res->kallsyms_symtab);
	memset(res, 0, sizeof(*res));
}

static int cand_cmp(const void *pa, const void *pb)
{
	const struct pt_kpgd_candidate *a = pa, *b = pb;
	if (a->verified != b->verified)
		return a->verified ? -1 : 1;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->kpgd != b->kpgd)
		return a->kpgd < b->kpgd ? -1 : 1;
	return (int)a->mode - (int)b->mode;
}

/** Is b a verified, byte-identical copy of the verified answer a (same mode, same score)? */
static bool same_table(const struct kpgd_finder *f, const struct pt_kpgd_candidate *a,
		       const struct pt_kpgd_candidate *b)
{
	const uint64_t page = ~(PT_PAGE_4K - 1);
	const uint8_t *ta = kpgd_bytes(f, a->kpgd & page, PT_PAGE_4K);
	const uint8_t *tb = kpgd_bytes(f, b->kpgd & page, PT_PAGE_4K);
	return b->verified && b->score == a->score && b->mode == a->mode && ta && tb &&
	       memcmp(ta, tb, PT_PAGE_4K) == 0;
}

/** Byte-identical copies of the answer: the lowest address is taken and the copies are named;
 *  translations through any of them agree. */
static void name_copies(struct kpgd_finder *f)
{
	for (size_t i = 1; i < f->ncands && f->cands[0].verified; i++) {
		struct pt_kpgd_candidate *a = &f->cands[0], *b = &f->cands[i];
		if (!same_table(f, a, b) || b->kpgd > a->kpgd)
			continue;
		struct pt_kpgd_candidate t = *a;
		*a = *b;
		*b = t;
	}
	for (size_t i = 1; i < f->ncands && f->cands[0].verified && !f->oom; i++) {
		struct pt_kpgd_candidate *a = &f->cands[0], *b = &f->cands[i];
		if (!same_table(f, a, b))
			continue;
		b->score--; /* a copy ranks below the table it copies */
		kpgd_candidate_fact(f, a, "0x%" PRIx64 " holds a byte-identical table (the lowest address is taken; "
				    "both translate alike)", b->kpgd);
	}
}

/** How the dump's CR3 relates to the answer c: the same table, its PTI user copy, a process's
 *  table that shares the kernel's top-level entries, or another. */
static void describe_cr3(struct kpgd_finder *f, const struct pt_kpgd_candidate *c)
{
	struct pt_kpgd_result *res = f->res;
	const struct pt_cpu_state *cpu = &f->in->cpu;
	if (!f->in->has_cpu || !(cpu->cr0 & CR0_PG))
		return;
	const uint64_t cr3 = pt_cr3_root(c->mode, cpu->cr3, cpu->cbit ? PT_BIT(cpu->cbit) : 0);
	res->cr3 = cr3;
	if (cr3 == c->kpgd) {
		res->cr3_relation = PT_KPGD_CR3_SAME;
		return;
	}
	if (c->has_user_pgd && cr3 == c->user_pgd) {
		res->cr3_relation = PT_KPGD_CR3_USER_COPY;
		return;
	}
	/* The kernel's top-level entry (PAE: the PDPTE of the top GiB, as loaded: see
	 * kpgd_load_context; legacy: the kernel's quarter of the directory) is shared. */
	const struct pt_mode_desc *desc = pt_mode_desc(c->mode);
	const size_t esize = desc->entry_size, slot = kpgd_kernel_slot(desc) * esize;
	const uint64_t page = ~(PT_PAGE_4K - 1);
	const uint8_t *a = kpgd_bytes(f, cr3 & page, PT_PAGE_4K), *b = kpgd_bytes(f, c->kpgd & page, PT_PAGE_4K);
	bool shares = false;
	if (a && b && (c->mode == PT_MODE_IA32E || c->mode == PT_MODE_LA57)) {
		shares = pt_le64(a + slot) == pt_le64(b + slot) && (pt_le64(a + slot) & PTE_P);
	} else if (a && b && c->mode == PT_MODE_LEGACY) {
		shares = memcmp(a + slot, b + slot, PT_PAGE_4K - slot) == 0;
	} else if (c->mode == PT_MODE_PAE) {
		const uint8_t *pa = kpgd_bytes(f, cr3 + slot, esize), *pb = kpgd_bytes(f, c->kpgd + slot, esize);
		shares = pa && pb && (pt_le64(pa) & PTE_P) &&
			 (pt_le64(pa) & ~PDPTE_ACCESSED) == (pt_le64(pb) & ~PDPTE_ACCESSED);
	}
	res->cr3_relation = shares ? PT_KPGD_CR3_PROCESS : PT_KPGD_CR3_OTHER;
}

void kpgd_report(struct kpgd_finder *f, const struct kpgd_layout *L)
{
	struct pt_kpgd_result *res = f->res;
	if (!f->ncands)
		return;
	qsort(f->cands, f->ncands, sizeof(*f->cands), cand_cmp);
	size_t keepn = f->in->max_candidates ? f->in->max_candidates : 8;
	while (f->ncands > keepn)
		free(f->cands[--f->ncands].facts);
	name_copies(f);
	/* Two verified answers that disagree: believe neither. */
	if (f->ncands > 1 && f->cands[0].verified && f->cands[1].verified &&
	    f->cands[0].score == f->cands[1].score && f->cands[0].kpgd != f->cands[1].kpgd) {
		f->cands[0].verified = false;
		kpgd_log(f, "ambiguous: 0x%" PRIx64 " and 0x%" PRIx64 " verify equally well", f->cands[0].kpgd,
			 f->cands[1].kpgd);
	}
	kpgd_describe_pti(f, &f->cands[0], L);
	describe_cr3(f, &f->cands[0]);
	res->found = true;
	res->verified = f->cands[0].verified;
}
