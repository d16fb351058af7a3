/* SPDX-License-Identifier: MIT */
/*
 * Software TLB tests: cached answers equal the uncached walk for every access kind, CPL and
 * rights control; the key covers the whole paging context (LibVMI's cache ignored the mode);
 * flushing one address space works and leaves the others (LibVMI's flush did nothing);
 * the cache is bounded (LibVMI's grew without limit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ptbuild.h"
#include "ptlab/tlb.h"

static uint64_t rng_state = 12345;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static void assert_same_result(enum pt_status a, const struct pt_result *ra, enum pt_status b,
			       const struct pt_result *rb)
{
	assert_int_equal(a, b);
	assert_int_equal(ra->va, rb->va);
	if (a == PT_OK) {
		assert_int_equal(ra->pa, rb->pa);
		assert_int_equal(ra->page_size, rb->page_size);
		assert_int_equal(ra->level, rb->level);
		assert_memory_equal(&ra->rights, &rb->rights, sizeof(ra->rights));
		assert_int_equal(ra->pa_in_dump, rb->pa_in_dump);
	}
	if (a == PT_FAULT) {
		assert_int_equal(ra->fault.vector, rb->fault.vector);
		assert_int_equal(ra->fault.error_code, rb->fault.error_code);
		assert_int_equal(ra->fault.level, rb->fault.level);
		assert_int_equal(ra->fault.entry_pa, rb->fault.entry_pa);
		assert_int_equal(ra->fault.entry, rb->fault.entry);
	}
	if (a == PT_NOT_IN_DUMP)
		assert_int_equal(ra->table_pa, rb->table_pa);
	assert_int_equal(ra->nentries, rb->nentries);
	for (unsigned i = 0; i < ra->nentries; i++) {
		assert_int_equal(ra->entry[i].pa, rb->entry[i].pa);
		assert_int_equal(ra->entry[i].value, rb->entry[i].value);
	}
}

/** A small kernel-like space with every kind of page and rights. */
static void build_space(struct ptb *b, enum pt_mode mode)
{
	ptb_init(b, mode, 16 << 20, 0x100000);
	const bool wide = mode == PT_MODE_IA32E || mode == PT_MODE_LA57;
	const uint64_t kbase = wide ? UINT64_C(0xffffffff81000000) : 0xc1000000;
	for (unsigned i = 0; i < 64; i++) {
		uint64_t flags = PTE_P | (i & 1 ? PTE_RW : 0) | (i & 2 ? PTE_US : 0) |
				 (i & 4 && mode != PT_MODE_LEGACY ? PTE_XD : 0);
		ptb_map(b, 0x400000 + i * 0x1000, 0x800000 + i * 0x1000, 1, flags, PTB_TABLE_FLAGS);
		if (i % 3 == 0)
			ptb_map(b, kbase + i * 0x400000, 0x400000 * (i % 4), 2, flags, PTB_TABLE_FLAGS);
	}
	if (wide) {
		ptb_map(b, UINT64_C(0xffff888000000000), 0, 3, PTE_P | PTE_RW | PTE_XD, PTB_TABLE_FLAGS);
		/* Protection keys on a user page. */
		ptb_map(b, 0x600000, 0x900000, 1, PTE_P | PTE_RW | PTE_US | (UINT64_C(5) << 59),
			PTB_TABLE_FLAGS);
	}
	/* A table outside the dump. */
	uint64_t epa = ptb_map(b, 0x10000000, 0x1000, 1, PTE_P, PTB_TABLE_FLAGS);
	(void)epa;
	ptb_set(b, ptb_entry_pa(b, 0x10000000, 2), UINT64_C(0x40000000) | PTB_TABLE_FLAGS);
}

static uint64_t pick_va(const struct pt_context *ctx)
{
	const bool wide = ctx->desc->va_bits > 32;
	switch (rnd() % 6) {
	case 0: return 0x400000 + rnd() % (64 * 0x1000);
	case 1: return (wide ? UINT64_C(0xffffffff81000000) : 0xc1000000) + rnd() % (64 * 0x400000);
	case 2: return wide ? UINT64_C(0xffff888000000000) + rnd() % (1 << 30) : rnd() % (1u << 31);
	case 3: return 0x600000 + rnd() % 0x1000;
	case 4: return 0x10000000 + rnd() % 0x1000;
	default: return wide ? rnd() : (rnd() & 0xffffffff); /* often non-canonical */
	}
}

static void test_cached_equals_uncached(void **state)
{
	(void)state;
	const enum pt_mode modes[] = { PT_MODE_LEGACY, PT_MODE_PAE, PT_MODE_IA32E, PT_MODE_LA57 };
	struct pt_tlb *tlb;
	assert_int_equal(pt_tlb_create(8, &tlb), PT_OK); /* small: forces evictions */
	uint64_t translated = 0;
	for (size_t m = 0; m < 4; m++) {
		struct ptb b;
		build_space(&b, modes[m]);
		for (unsigned variant = 0; variant < 64; variant++) {
			struct pt_cpu_state cpu;
			ptb_cpu(&b, &cpu);
			cpu.cr0 = variant & 1 ? cpu.cr0 | PT_BIT(CR0_BIT_WP) : cpu.cr0 & ~PT_BIT(CR0_BIT_WP);
			if (variant & 2)
				cpu.cr4 |= PT_BIT(CR4_BIT_SMEP);
			if (variant & 4)
				cpu.cr4 |= PT_BIT(CR4_BIT_SMAP);
			if (variant & 8)
				cpu.rflags |= PT_BIT(RFLAGS_BIT_AC);
			if (variant & 16) {
				cpu.cr4 |= PT_BIT(CR4_BIT_PKE);
				cpu.pkru = 0x3 << 10 | 0x2 << 2; /* key 5: AD+WD; key 1: WD */
			}
			if (variant & 32)
				cpu.efer &= ~PT_BIT(EFER_BIT_NXE);
			struct pt_context ctx;
			assert_int_equal(pt_context_init(&ctx, &cpu, ptb_mem(&b), NULL, NULL), PT_OK);
			for (unsigned k = 0; k < 600; k++) {
				uint64_t va = pick_va(&ctx);
				struct pt_access acc = { .kind = (enum pt_access_kind)(rnd() % 3),
							 .cpl = rnd() % 2 ? 3 : 0, .implicit = rnd() % 5 == 0 };
				struct pt_result want, got, again;
				enum pt_status sw = pt_translate(&ctx, ptb_mem(&b), va, &acc, &want);
				enum pt_status sg = pt_tlb_translate(tlb, &ctx, ptb_mem(&b), va, &acc, &got);
				enum pt_status sa = pt_tlb_translate(tlb, &ctx, ptb_mem(&b), va, &acc, &again);
				assert_same_result(sw, &want, sg, &got);
				assert_same_result(sw, &want, sa, &again);
				translated += sw == PT_OK;
			}
		}
		ptb_deinit(&b);
	}
	struct pt_tlb_stats st;
	pt_tlb_get_stats(tlb, &st);
	/* The second lookup of every translated VA came from the cache. */
	assert_true(translated > 10000);
	assert_true(st.hits >= translated);
	pt_tlb_destroy(tlb);
}

/* LibVMI's cache ignored the paging mode: the same root read as 4-level and as 5-level tables
 * must give different answers through one cache. */
static void test_key_includes_mode(void **state)
{
	(void)state;
	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, 4 << 20, 0x100000);
	ptb_map(&b, 0x1000, 0x5000, 1, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	struct pt_cpu_state cpu;
	ptb_cpu(&b, &cpu);
	struct pt_context c4, c5;
	assert_int_equal(pt_context_init(&c4, &cpu, ptb_mem(&b), NULL, NULL), PT_OK);
	pt_cpu_state_set_mode(&cpu, PT_MODE_LA57);
	assert_int_equal(pt_context_init(&c5, &cpu, ptb_mem(&b), NULL, NULL), PT_OK);
	struct pt_tlb *tlb;
	assert_int_equal(pt_tlb_create(10, &tlb), PT_OK);
	struct pt_access rd = { PT_ACCESS_READ, 0, false };
	struct pt_result r;
	assert_int_equal(pt_tlb_translate(tlb, &c4, ptb_mem(&b), 0x1234, &rd, &r), PT_OK);
	assert_int_equal(r.pa, 0x5234);
	/* As 5-level tables the PML4 is read as a PML5: one more level, and the PTE page is read
	 * as a page directory... whose entry 0 (the 0x5000 PTE, PS=0) points to page 0x5000, a table
	 * of zeros: not present at level 1. */
	struct pt_result want;
	enum pt_status sw = pt_translate(&c5, ptb_mem(&b), 0x1234, &rd, &want);
	assert_int_equal(sw, PT_FAULT);
	assert_int_equal(pt_tlb_translate(tlb, &c5, ptb_mem(&b), 0x1234, &rd, &r), PT_FAULT);
	assert_int_equal(r.fault.level, want.fault.level);
	pt_tlb_destroy(tlb);
	ptb_deinit(&b);
}

/* LibVMI's flush of one address space did nothing. Flushing space A refreshes A only. */
static void test_flush_one_space(void **state)
{
	(void)state;
	struct ptb a;
	ptb_init(&a, PT_MODE_IA32E, 4 << 20, 0x100000);
	uint64_t ea = ptb_map(&a, 0x1000, 0x5000, 1, PTE_P, PTB_TABLE_FLAGS);
	struct pt_cpu_state cpu;
	struct pt_context ca;
	ptb_cpu(&a, &cpu);
	assert_int_equal(pt_context_init(&ca, &cpu, ptb_mem(&a), NULL, NULL), PT_OK);
	struct pt_tlb *tlb;
	assert_int_equal(pt_tlb_create(10, &tlb), PT_OK);
	struct pt_access rd = { PT_ACCESS_READ, 0, false };
	struct pt_result r;
	assert_int_equal(pt_tlb_translate(tlb, &ca, ptb_mem(&a), 0x1000, &rd, &r), PT_OK);
	assert_int_equal(r.pa, 0x5000);
	/* Change A's PTE: like a hardware TLB, the stale translation stays until flushed. */
	ptb_set(&a, ea, 0x6000 | PTE_P);
	assert_int_equal(pt_tlb_translate(tlb, &ca, ptb_mem(&a), 0x1000, &rd, &r), PT_OK);
	assert_int_equal(r.pa, 0x5000);
	pt_tlb_flush_space(tlb, &ca, ptb_mem(&a));
	assert_int_equal(pt_tlb_translate(tlb, &ca, ptb_mem(&a), 0x1000, &rd, &r), PT_OK);
	assert_int_equal(r.pa, 0x6000);

	/* Two real spaces in one memory: flushing one keeps the other cached. */
	struct ptb m;
	ptb_init(&m, PT_MODE_IA32E, 4 << 20, 0x100000);
	uint64_t e1 = ptb_map(&m, 0x1000, 0x5000, 1, PTE_P, PTB_TABLE_FLAGS);
	uint64_t root1 = m.root;
	m.root = ptb_alloc_page(&m);
	uint64_t e2 = ptb_map(&m, 0x1000, 0x7000, 1, PTE_P, PTB_TABLE_FLAGS);
	struct pt_context s1, s2;
	ptb_cpu(&m, &cpu);
	cpu.cr3 = root1;
	assert_int_equal(pt_context_init(&s1, &cpu, ptb_mem(&m), NULL, NULL), PT_OK);
	cpu.cr3 = m.root;
	assert_int_equal(pt_context_init(&s2, &cpu, ptb_mem(&m), NULL, NULL), PT_OK);
	/* s1 has A's root value (0x100000) but another memory: A's cached 0x6000 must not leak. */
	assert_int_equal(s1.root, ca.root);
	assert_int_equal(pt_tlb_translate(tlb, &s1, ptb_mem(&m), 0x1000, &rd, &r), PT_OK);
	assert_int_equal(r.pa, 0x5000);
	assert_int_equal(pt_tlb_translate(tlb, &s2, ptb_mem(&m), 0x1000, &rd, &r), PT_OK);
	assert_int_equal(r.pa, 0x7000);
	ptb_set(&m, e1, 0x9000 | PTE_P);
	ptb_set(&m, e2, 0xa000 | PTE_P);
	pt_tlb_flush_space(tlb, &s1, ptb_mem(&m));
	assert_int_equal(pt_tlb_translate(tlb, &s1, ptb_mem(&m), 0x1000, &rd, &r), PT_OK);
	assert_int_equal(r.pa, 0x9000);
	assert_int_equal(pt_tlb_translate(tlb, &s2, ptb_mem(&m), 0x1000, &rd, &r), PT_OK);
	assert_int_equal(r.pa, 0x7000); /* not flushed: still the old translation */
	pt_tlb_flush_all(tlb);
	assert_int_equal(pt_tlb_translate(tlb, &s2, ptb_mem(&m), 0x1000, &rd, &r), PT_OK);
	assert_int_equal(r.pa, 0xa000);
	pt_tlb_destroy(tlb);
	ptb_deinit(&m);
	ptb_deinit(&a);
}

/* LibVMI's cache was unbounded: ours holds 2^n entries whatever is translated. */
static void test_bounded(void **state)
{
	(void)state;
	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, 4 << 20, 0x100000);
	ptb_map(&b, 0, 0, 3, PTE_P | PTE_RW, PTB_TABLE_FLAGS); /* 1 GiB: 262,144 pages */
	struct pt_cpu_state cpu;
	ptb_cpu(&b, &cpu);
	struct pt_context ctx;
	assert_int_equal(pt_context_init(&ctx, &cpu, ptb_mem(&b), NULL, NULL), PT_OK);
	/* 16 MiB of 4 KiB pages above it: 4,096 pages */
	for (uint64_t off = 0; off < (UINT64_C(16) << 20); off += 4096)
		ptb_map(&b, (UINT64_C(1) << 30) + off, (UINT64_C(1) << 30) + off, 1, PTE_P | PTE_RW,
			PTB_TABLE_FLAGS);
	struct pt_tlb *tlb;
	assert_int_equal(pt_tlb_create(6, &tlb), PT_OK);
	struct pt_access rd = { PT_ACCESS_READ, 0, false };
	struct pt_result r;
	struct pt_tlb_stats st;
	/* the 1 GiB page is cached once at its size: one miss, then 262,143 hits */
	for (uint64_t va = 0; va < (UINT64_C(1) << 30); va += 4096) {
		assert_int_equal(pt_tlb_translate(tlb, &ctx, ptb_mem(&b), va + 5, &rd, &r), PT_OK);
		assert_int_equal(r.pa, va + 5);
		assert_int_equal(r.page_size, PT_PAGE_1G);
	}
	pt_tlb_get_stats(tlb, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 262143);
	/* 4 KiB pages: each is a miss the first time, and 64 entries hold no more than 64 */
	for (uint64_t off = 0; off < (UINT64_C(16) << 20); off += 4096) {
		const uint64_t va = (UINT64_C(1) << 30) + off + 5;
		assert_int_equal(pt_tlb_translate(tlb, &ctx, ptb_mem(&b), va, &rd, &r), PT_OK);
		assert_int_equal(r.pa, va);
	}
	pt_tlb_get_stats(tlb, &st);
	assert_int_equal(st.misses, 1 + 4096);
	pt_tlb_destroy(tlb);
	assert_int_equal(pt_tlb_create(3, &tlb), PT_EINVAL);
	assert_int_equal(pt_tlb_create(25, &tlb), PT_EINVAL);
	ptb_deinit(&b);
	struct pt_tlb *t2 = NULL;
	assert_int_equal(pt_tlb_create(4, &t2), PT_OK);
	pt_tlb_destroy(t2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cached_equals_uncached),
		cmocka_unit_test(test_key_includes_mode),
		cmocka_unit_test(test_flush_one_space),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
