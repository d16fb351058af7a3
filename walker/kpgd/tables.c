/* SPDX-License-Identifier: MIT */
/*
 * A candidate table as the CPU would use it: its context (the mode's usual state, MAXPHYADDR, the
 * SME C-bit voted over its entries when the CPU state has none, the PAE PDPTEs as MOV to CR3
 * loads them), walks through it with the shared walker (pt_walk), and its top-level entries.
 */
#include <inttypes.h>
#include <stdio.h>

#include "kpgd_internal.h"
#include "ptlab/le.h"

const uint8_t *kpgd_bytes(const struct kpgd_finder *f, uint64_t pa, size_t len)
{
	return f->mem->ptr(f->mem, pa, len);
}

bool kpgd_spend(const struct kpgd_finder *f, uint64_t units)
{
	if (*f->work_left == 0)
		return false;
	if (*f->work_left != UINT64_MAX)
		*f->work_left = *f->work_left > units ? *f->work_left - units : 0;
	return true;
}

int kpgd_frame_fits(uint64_t frame, uint64_t phys_end)
{
	if (frame < phys_end)
		return 0;
	int b = 63 - __builtin_clzll(frame);
	if (b < PT_CBIT_MIN)
		return -1;
	return (frame & ~(UINT64_C(1) << b)) < phys_end ? b : -1;
}

/** The C-bit a table's entries carry, voted over its present entries (0 = none). */
static uint8_t table_cbit(const struct kpgd_finder *f, enum pt_mode mode, uint64_t root)
{
	if (f->cbit || mode == PT_MODE_LEGACY)
		return f->cbit;
	const struct pt_context *loose = &f->screen.ia32e; /* frames as wide as any entry holds */
	const unsigned top = loose->desc->levels, n = pt_level_entries(loose->desc, top);
	const uint8_t *t = kpgd_bytes(f, root & ~(PT_PAGE_4K - 1), PT_PAGE_4K);
	if (!t)
		return 0;
	unsigned votes[64] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		struct pt_entry_info e;
		pt_entry_decode(loose, top, pt_le64(t + 8 * i), &e);
		if (!e.present)
			continue;
		int b = kpgd_frame_fits(e.frame, f->phys_end);
		if (b > 0)
			votes[b]++;
	}
	unsigned best = 0;
	for (unsigned b = PT_CBIT_MIN; b < PT_MAXPHYADDR_MAX; b++) {
		if (votes[b] > votes[best])
			best = b;
	}
	return (uint8_t)(votes[best] ? best : 0);
}

/*
 * pt_context_init over the dump; a PAE PDPT that faults at the load is loaded once more as a
 * QEMU dump reader loads it (pdpte_written_by_dumper: the accessed bit QEMU writes is cleared),
 * whatever wrote the dump. *stripped_ret (may be NULL) says when that was needed.
 */
enum pt_status kpgd_load_context(const struct kpgd_finder *f, const struct pt_cpu_state *cpu,
				 struct pt_context *ctx, bool *stripped_ret)
{
	if (stripped_ret)
		*stripped_ret = false;
	enum pt_status st = pt_context_init(ctx, cpu, f->mem, NULL, NULL);
	if (st != PT_FAULT || ctx->mode != PT_MODE_PAE || (cpu->pdpte_written_by_dumper & PDPTE_ACCESSED))
		return st; /* only a PAE PDPTE load faults at init */
	struct pt_cpu_state forgiving = *cpu;
	forgiving.pdpte_written_by_dumper |= PDPTE_ACCESSED;
	st = pt_context_init(ctx, &forgiving, f->mem, NULL, NULL);
	if (st == PT_OK && stripped_ret)
		*stripped_ret = true;
	return st;
}

bool kpgd_make_ctx(const struct kpgd_finder *f, enum pt_mode mode, uint64_t root, struct pt_context *ctx)
{
	struct pt_cpu_state cpu;
	pt_cpu_state_default(&cpu, root);
	pt_cpu_state_set_mode(&cpu, mode);
	cpu.maxphyaddr = f->maxphyaddr;
	cpu.cbit = table_cbit(f, mode, root);
	if ((mode == PT_MODE_LEGACY || mode == PT_MODE_PAE) && root > UINT32_MAX)
		return false; /* CR3 is 32 bits wide there */
	return kpgd_load_context(f, &cpu, ctx, NULL) == PT_OK;
}

bool kpgd_walk_pa(const struct kpgd_finder *f, const struct pt_context *ctx, uint64_t va, uint64_t *pa_ret,
		  char *why, size_t whylen)
{
	struct pt_result r;
	if (why && whylen)
		why[0] = 0;
	if (!pt_va_canonical(ctx, va)) {
		if (why)
			snprintf(why, whylen, "is not canonical");
		return false;
	}
	if (!kpgd_spend(f, 1)) {
		if (why)
			snprintf(why, whylen, "is not walked: the work budget is spent");
		return false;
	}
	enum pt_status st = pt_walk(ctx, f->mem, va, &r);
	if (st == PT_OK) {
		*pa_ret = r.pa;
		return true;
	}
	if (why) {
		if (st == PT_NOT_IN_DUMP)
			snprintf(why, whylen, "needs table 0x%" PRIx64 ", not in the dump", r.table_pa);
		else if (st == PT_FAULT)
			snprintf(why, whylen, "does not map (%s at level %u, entry 0x%" PRIx64 ")",
				 (r.fault.error_code & PF_ERR_RSVD) ? "reserved bit" : "not present",
				 r.fault.level, r.fault.entry);
		else
			snprintf(why, whylen, "cannot be walked");
	}
	return false;
}

const uint8_t *kpgd_top_table(const struct kpgd_finder *f, const struct pt_context *ctx)
{
	const unsigned top = ctx->desc->levels;
	return kpgd_bytes(f, ctx->root, (size_t)pt_level_entries(ctx->desc, top) * ctx->desc->entry_size);
}

uint64_t kpgd_raw_entry(const struct pt_context *ctx, const uint8_t *t, unsigned i)
{
	const unsigned esize = ctx->desc->entry_size;
	return pt_le_get(t + (size_t)i * esize, esize);
}

uint64_t kpgd_top_entry(const struct pt_context *ctx, const uint8_t *t, unsigned i)
{
	/* PAE: the PDPTEs as the CPU loaded them (see kpgd_load_context) */
	return ctx->mode == PT_MODE_PAE ? ctx->pdpte[i] : kpgd_raw_entry(ctx, t, i);
}

unsigned kpgd_kernel_slot(const struct pt_mode_desc *desc)
{
	const uint64_t kernel = desc->va_bits == 32 ? PAGE_OFFSETS32[0] : START_KERNEL_MAP;
	return pt_level_index(desc, desc->levels, kernel);
}

/*
 * Present entries of a table's user half (0: the kernel's own table, init_mm's): the lower half
 * of the top table on x86-64, the entries below PAGE_OFFSET (`split`) on i386.
 */
unsigned kpgd_user_entries(const struct kpgd_finder *f, const struct pt_context *ctx, uint64_t split)
{
	const struct pt_mode_desc *desc = ctx->desc;
	const unsigned top = desc->levels, shift = desc->level[top].va_shift;
	const bool is32 = desc->va_bits == 32;
	const unsigned n = pt_level_entries(desc, top) / (is32 ? 1 : 2);
	const uint8_t *t = ctx->mode == PT_MODE_PAE ? NULL : kpgd_top_table(f, ctx);
	if (!t && ctx->mode != PT_MODE_PAE)
		return UINT32_MAX;
	unsigned user = 0;
	for (unsigned i = 0; i < n && (!is32 || (uint64_t)i << shift < split); i++)
		user += (kpgd_top_entry(ctx, t, i) & PTE_P) != 0;
	return user;
}
