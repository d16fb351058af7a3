/* SPDX-License-Identifier: MIT */
/*
 * Enumeration tests: a property test over random page tables in every mode (every VA inside a
 * listed range translates to the listed PA and rights; every VA outside faults or hits the
 * reported missing table; the ranges tile the address space), plus the cases peers get wrong:
 * an unreadable sub-table, legacy 4 MiB pages, massive aliasing (ESPFIX) and hostile
 * self-similar tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ptbuild.h"
#include "ptlab/maps.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic per seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static void context_of(struct ptb *b, struct pt_context *ctx)
{
	struct pt_cpu_state cpu;
	ptb_cpu(b, &cpu);
	cpu.maxphyaddr = 46;
	assert_int_equal(pt_context_init(ctx, &cpu, ptb_mem(b), NULL, NULL), PT_OK);
}

/** Collect every range of an enumeration. */
static size_t collect(const struct pt_context *ctx, const struct pt_mem *mem,
		      const struct pt_maps_opts *opts, struct pt_range **out, struct pt_maps_stats *st)
{
	struct pt_maps_iter *it;
	assert_int_equal(pt_maps_create(ctx, mem, opts, &it), PT_OK);
	size_t n = 0, cap = 256;
	struct pt_range *v = malloc(cap * sizeof(*v));
	assert_non_null(v);
	struct pt_range r;
	while (pt_maps_next(it, &r)) {
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		v[n++] = r;
	}
	if (st)
		pt_maps_get_stats(it, st);
	pt_maps_destroy(it);
	*out = v;
	return n;
}

/* ---- random page tables -------------------------------------------------------------------- */

struct rand_tree {
	struct ptb b;
	uint64_t tables[4096];
	size_t ntables;
};

/** Fill the table at `table` (level `level`) with random entries, recursing into new tables. */
static void fill_random(struct rand_tree *t, uint64_t table, unsigned level)
{
	const struct pt_mode_desc *d = t->b.desc;
	const unsigned count = 1u << d->level[level].index_bits;
	const unsigned n = 1 + (unsigned)rnd_below(level == d->levels ? 6 : 5);
	const bool pae_top = t->b.mode == PT_MODE_PAE && level == 3;
	for (unsigned k = 0; k < n; k++) {
		const unsigned idx = (unsigned)rnd_below(count);
		const uint64_t epa = table + (uint64_t)idx * d->entry_size;
		uint64_t flags = PTE_P;
		if (!pae_top) {
			flags |= rnd_below(4) ? PTE_RW : 0;
			flags |= rnd_below(4) ? PTE_US : 0;
			if (d->entry_size == 8 && rnd_below(5) == 0)
				flags |= PTE_XD;
		}
		const unsigned choice = (unsigned)rnd_below(10);
		const bool can_leaf = level == 1 || (d->level[level].may_map_page && !pae_top);
		if (level == 1 || (can_leaf && choice < 3)) {
			/* A leaf: a frame in memory, or past its end. */
			uint64_t size = UINT64_C(1) << d->level[level].va_shift;
			uint64_t frame = (rnd_below(4) ? rnd_below(t->b.size) : rnd_below(UINT64_C(1) << 32))
					 & ~(size - 1);
			uint64_t e = frame | flags | (level > 1 ? PTE_PS : 0);
			if (t->b.mode == PT_MODE_LEGACY && level == 2)
				e = (frame & 0xffc00000) | flags | PTE_PS;
			if (rnd_below(12) == 0 && d->entry_size == 8)
				e |= UINT64_C(1) << 50; /* reserved with MAXPHYADDR 46 */
			if (rnd_below(3) == 0)
				e &= ~PTE_P;
			ptb_set(&t->b, epa, e);
		} else if (choice == 3) {
			/* A table pointer outside the dump. */
			ptb_set(&t->b, epa, (t->b.size + 0x1000 * rnd_below(64)) | flags);
		} else if (choice == 4 && t->ntables > 0) {
			/* Share an existing table (aliasing, even across levels). */
			ptb_set(&t->b, epa, t->tables[rnd_below(t->ntables)] | flags);
		} else if (t->b.next_free + 4096 <= t->b.size && t->ntables < 4096) {
			uint64_t child = ptb_alloc_page(&t->b);
			t->tables[t->ntables++] = child;
			ptb_set(&t->b, epa, child | flags);
			fill_random(t, child, level - 1);
		}
	}
}

/** Check one VA against what the enumeration said about it. */
static void check_va(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
		     const struct pt_range *r)
{
	struct pt_result res;
	enum pt_status st = pt_walk(ctx, mem, va, &res);
	if (!r) {
		/* Outside every listed range: must not translate. */
		if (st == PT_OK)
			fail_msg("va 0x%llx translates to 0x%llx but no range lists it",
				 (unsigned long long)va, (unsigned long long)res.pa);
		return;
	}
	switch (r->kind) {
	case PT_RANGE_MAPPED:
		if (st != PT_OK)
			fail_msg("va 0x%llx listed as mapped, walk says %s", (unsigned long long)va,
				 pt_status_name(st));
		assert_int_equal(res.pa, r->pa + (va - r->va));
		assert_int_equal(res.page_size, r->page_size);
		assert_int_equal(res.rights.writable, r->rights.writable);
		assert_int_equal(res.rights.user, r->rights.user);
		assert_int_equal(res.rights.nx, r->rights.nx);
		break;
	case PT_RANGE_HOLE:
		assert_int_equal(st, PT_FAULT);
		assert_int_equal(res.fault.error_code & PF_ERR_P, 0);
		break;
	case PT_RANGE_RESERVED:
		assert_int_equal(st, PT_FAULT);
		assert_int_equal(res.fault.error_code, PF_ERR_P | PF_ERR_RSVD);
		break;
	case PT_RANGE_UNREADABLE:
		assert_int_equal(st, PT_NOT_IN_DUMP);
		assert_int_equal(res.table_pa, r->table_pa);
		break;
	case PT_RANGE_ALIAS:
		break;
	}
}

static void property_one(enum pt_mode mode, uint64_t seed)
{
	struct rand_tree *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	rng_state = seed * 0x9e3779b97f4a7c15 + 1;
	ptb_init(&t->b, mode, 8 << 20, 0x100000);
	fill_random(t, t->b.root, t->b.desc->levels);
	struct pt_context ctx;
	context_of(&t->b, &ctx);
	const struct pt_mem *mem = ptb_mem(&t->b);

	for (int coalesce = 0; coalesce <= 1; coalesce++) {
		struct pt_maps_opts opts = { .coalesce = coalesce, .holes = true };
		struct pt_range *v;
		size_t n = collect(&ctx, mem, &opts, &v, NULL);
		assert_true(n > 0); /* with holes, something always covers the space */
		/* The ranges tile the canonical address space in VA order. */
		uint64_t expect_va = 0;
		for (size_t i = 0; i < n; i++) {
			if (v[i].va != expect_va) {
				/* The only allowed jump is the non-canonical gap. */
				assert_true(ctx.desc->va_bits != 32);
				assert_int_equal(v[i].va, pt_va_canonicalize(&ctx, expect_va));
			}
			expect_va = v[i].va + v[i].size;
			/* First, last and random VAs of every range agree with the walker. */
			check_va(&ctx, mem, v[i].va, &v[i]);
			check_va(&ctx, mem, v[i].va + v[i].size - 1, &v[i]);
			for (int k = 0; k < 4; k++)
				check_va(&ctx, mem, v[i].va + rnd_below(v[i].size), &v[i]);
			if (i > 0 && coalesce && v[i].kind == PT_RANGE_MAPPED &&
			    v[i - 1].kind == PT_RANGE_MAPPED && v[i - 1].va + v[i - 1].size == v[i].va) {
				/* Coalesced: neighbours differ in something. */
				const struct pt_range *p = &v[i - 1];
				assert_true(p->pa + p->size != v[i].pa || p->page_size != v[i].page_size ||
					    p->rights.writable != v[i].rights.writable ||
					    p->rights.user != v[i].rights.user || p->rights.nx != v[i].rights.nx ||
					    p->pa_in_dump != v[i].pa_in_dump);
			}
		}
		if (ctx.desc->va_bits == 32)
			assert_int_equal(expect_va, UINT64_C(1) << 32);
		else
			assert_int_equal(expect_va, 0); /* wrapped past the top of the upper half */

		/* Without holes: random VAs outside every mapped range do not translate. */
		struct pt_maps_opts mapped_only = { .coalesce = coalesce };
		struct pt_range *m;
		size_t nm = collect(&ctx, mem, &mapped_only, &m, NULL);
		/* the same ranges as with holes, the holes left out */
		size_t not_holes = 0;
		for (size_t i = 0; i < n; i++) {
			if (v[i].kind == PT_RANGE_HOLE)
				continue;
			assert_true(not_holes < nm);
			assert_int_equal(m[not_holes].va, v[i].va);
			assert_int_equal(m[not_holes].size, v[i].size);
			assert_int_equal(m[not_holes].kind, v[i].kind);
			not_holes++;
		}
		assert_int_equal(not_holes, nm);
		for (int k = 0; k < 2000; k++) {
			uint64_t va = pt_va_canonicalize(&ctx, rnd() & ((UINT64_C(1) << ctx.desc->va_bits) - 1));
			const struct pt_range *hit = NULL;
			for (size_t i = 0; i < nm && !hit; i++) {
				if (m[i].kind == PT_RANGE_MAPPED && va - m[i].va < m[i].size)
					hit = &m[i];
			}
			check_va(&ctx, mem, va, hit);
		}
		free(m);
		free(v);
	}
	ptb_deinit(&t->b);
	free(t);
}

static void test_property_random_tables(void **state)
{
	(void)state;
	const enum pt_mode modes[] = { PT_MODE_LEGACY, PT_MODE_PAE, PT_MODE_IA32E, PT_MODE_LA57 };
	for (size_t m = 0; m < 4; m++) {
		for (uint64_t seed = 1; seed <= 40; seed++)
			property_one(modes[m], seed);
	}
}

/* ---- peers' enumeration failures ------------------------------------------------------------ */

/* LibVMI: enumeration aborts entirely when one sub-table is unreadable. */
static void test_unreadable_subtree_is_reported_and_skipped(void **state)
{
	(void)state;
	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, 4 << 20, 0x100000);
	ptb_map(&b, 0x400000, 0x200000, 1, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	ptb_map(&b, UINT64_C(0x8000000000), 0x201000, 1, PTE_P, PTB_TABLE_FLAGS);
	ptb_map(&b, UINT64_C(0x10000000000), 0x202000, 1, PTE_P, PTB_TABLE_FLAGS);
	/* Point the middle subtree's PDPT at a table outside the 4 MiB dump. */
	uint64_t epa = ptb_entry_pa(&b, UINT64_C(0x8000000000), 4);
	ptb_set(&b, epa, UINT64_C(0x7000000) | PTB_TABLE_FLAGS);
	struct pt_context ctx;
	context_of(&b, &ctx);
	struct pt_range *v;
	struct pt_maps_stats st;
	size_t n = collect(&ctx, ptb_mem(&b), NULL, &v, &st);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].kind, PT_RANGE_MAPPED);
	assert_int_equal(v[0].va, 0x400000);
	assert_int_equal(v[0].pa, 0x200000);
	assert_int_equal(v[1].kind, PT_RANGE_UNREADABLE);
	assert_int_equal(v[1].va, UINT64_C(0x8000000000));
	assert_int_equal(v[1].size, UINT64_C(1) << 39);
	assert_int_equal(v[1].table_pa, 0x7000000);
	assert_int_equal(v[1].level, 4);
	assert_int_equal(v[2].kind, PT_RANGE_MAPPED);
	assert_int_equal(v[2].va, UINT64_C(0x10000000000));
	assert_int_equal(v[2].pa, 0x202000);
	assert_int_equal(st.unreadable, 1);
	free(v);
	ptb_deinit(&b);
}

/* LibVMI: legacy 4 MiB pages report PA = VA. */
static void test_legacy_4m_page_pa_is_frame(void **state)
{
	(void)state;
	struct ptb b;
	ptb_init(&b, PT_MODE_LEGACY, 4 << 20, 0x100000);
	ptb_map(&b, 0xc0000000, 0x01000000, 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	ptb_map(&b, 0xc0400000, 0x01400000, 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	/* PSE-36: PA bits 39:32 in PDE bits 20:13. */
	ptb_map(&b, 0xd0000000, UINT64_C(0x3400000000), 2, PTE_P, PTB_TABLE_FLAGS);
	struct pt_context ctx;
	struct pt_cpu_state cpu;
	ptb_cpu(&b, &cpu);
	cpu.maxphyaddr = 40;
	assert_int_equal(pt_context_init(&ctx, &cpu, ptb_mem(&b), NULL, NULL), PT_OK);
	struct pt_maps_opts opts = { .coalesce = true };
	struct pt_range *v;
	size_t n = collect(&ctx, ptb_mem(&b), &opts, &v, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].va, 0xc0000000);
	assert_int_equal(v[0].pa, 0x01000000);
	assert_int_equal(v[0].size, 8 << 20);
	assert_int_equal(v[0].page_size, 4 << 20);
	assert_int_equal(v[1].va, 0xd0000000);
	assert_int_equal(v[1].pa, UINT64_C(0x3400000000));
	assert_false(v[1].pa_in_dump);
	free(v);
	ptb_deinit(&b);
}

/* Linux's ESPFIX area: one PTE page referenced by every entry of a PD, itself referenced by
 * many PDPT entries: 65,536 leaves of one frame. Expanded in full within the budget. */
static void test_espfix_aliasing_expanded(void **state)
{
	(void)state;
	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, 4 << 20, 0x100000);
	const uint64_t base = UINT64_C(0xffffff0000000000);
	ptb_map(&b, base, 0x300000, 1, PTE_P | PTE_XD, PTB_TABLE_FLAGS);
	uint64_t pt = ptb_get(&b, ptb_entry_pa(&b, base, 2)) & ~UINT64_C(0xfff);
	uint64_t pd = ptb_get(&b, ptb_entry_pa(&b, base, 3)) & ~UINT64_C(0xfff);
	uint64_t pdpt = ptb_get(&b, ptb_entry_pa(&b, base, 4)) & ~UINT64_C(0xfff);
	for (unsigned i = 0; i < 128; i++) /* 128 PTEs x 512 PDEs = 65,536 leaves */
		ptb_set(&b, pt + 8 * i, 0x300000 | PTE_P);
	for (unsigned i = 0; i < 512; i++)
		ptb_set(&b, pd + 8 * i, pt | PTB_TABLE_FLAGS);
	(void)pdpt;
	struct pt_context ctx;
	context_of(&b, &ctx);
	struct pt_range *v;
	struct pt_maps_stats st;
	size_t n = collect(&ctx, ptb_mem(&b), NULL, &v, &st);
	assert_int_equal(n, 65536); /* every alias listed: same frame, so nothing coalesces */
	assert_int_equal(st.leaves, 65536);
	assert_int_equal(st.aliases_collapsed, 0);
	assert_int_equal(v[0].va, base);
	assert_int_equal(v[65535].va, base + (UINT64_C(511) << 21) + 127 * 4096);
	assert_int_equal(v[65535].pa, 0x300000);
	free(v);
	ptb_deinit(&b);
}

/* Hostile: every entry of every level points to the next level's single table: 512^3 PTE pages'
 * worth of leaves (2^36). The budget collapses repeats; work stays bounded. */
static void test_hostile_self_similar_tables_bounded(void **state)
{
	(void)state;
	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, 4 << 20, 0x100000);
	uint64_t pdpt = ptb_alloc_page(&b), pd = ptb_alloc_page(&b), pt = ptb_alloc_page(&b);
	for (unsigned i = 0; i < 512; i++) {
		ptb_set(&b, b.root + 8 * i, pdpt | PTB_TABLE_FLAGS);
		ptb_set(&b, pdpt + 8 * i, pd | PTB_TABLE_FLAGS);
		ptb_set(&b, pd + 8 * i, pt | PTB_TABLE_FLAGS);
		ptb_set(&b, pt + 8 * i, 0x300000 | PTE_P);
	}
	struct pt_context ctx;
	context_of(&b, &ctx);
	struct pt_maps_opts opts = { .alias_budget = 100000 };
	struct pt_range *v;
	struct pt_maps_stats st;
	size_t n = collect(&ctx, ptb_mem(&b), &opts, &v, &st);
	/* The budget bounds the leaves (at most one table past it) and everything else is aliases. */
	assert_true(st.leaves <= 100000 + 512 + 512);
	assert_true(st.aliases_collapsed > 0);
	assert_true(n < 400000);
	assert_int_equal(v[0].kind, PT_RANGE_MAPPED);
	assert_int_equal(v[0].va, 0);
	/* The last range is an alias of the PDPT first seen at VA 0 (top-level entry 511). */
	assert_int_equal(v[n - 1].kind, PT_RANGE_ALIAS);
	assert_int_equal(v[n - 1].table_pa, pdpt);
	assert_int_equal(v[n - 1].alias_va, 0);
	assert_int_equal(v[n - 1].va, UINT64_C(0xffffff8000000000));
	free(v);
	ptb_deinit(&b);
}

/* Coalescing merges equal neighbours only; a VA window clips ranges. */
static void test_coalesce_and_window(void **state)
{
	(void)state;
	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, 8 << 20, 0x100000);
	for (unsigned i = 0; i < 4; i++) /* 4 contiguous 2 MiB pages */
		ptb_map(&b, UINT64_C(0xffffffff81000000) + i * 0x200000, 0x1000000 + i * 0x200000, 2,
			PTE_P | PTE_G, PTB_TABLE_FLAGS);
	ptb_map(&b, UINT64_C(0xffffffff81800000), 0x1800000, 2, PTE_P | PTE_RW | PTE_XD, PTB_TABLE_FLAGS);
	struct pt_context ctx;
	context_of(&b, &ctx);
	struct pt_maps_opts opts = { .coalesce = true };
	struct pt_range *v;
	size_t n = collect(&ctx, ptb_mem(&b), &opts, &v, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].va, UINT64_C(0xffffffff81000000));
	assert_int_equal(v[0].size, 8 << 20);
	assert_false(v[0].rights.writable);
	assert_false(v[0].rights.nx);
	assert_int_equal(v[1].va, UINT64_C(0xffffffff81800000));
	assert_true(v[1].rights.writable);
	assert_true(v[1].rights.nx);
	free(v);
	struct pt_maps_opts raw = { .coalesce = false };
	assert_int_equal(collect(&ctx, ptb_mem(&b), &raw, &v, NULL), 5);
	free(v);
	struct pt_maps_opts window = { .coalesce = true, .va_start = UINT64_C(0xffffffff81123000),
				       .va_last = UINT64_C(0xffffffff81800fff) };
	n = collect(&ctx, ptb_mem(&b), &window, &v, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].va, UINT64_C(0xffffffff81123000));
	assert_int_equal(v[0].pa, 0x1123000);
	assert_int_equal(v[0].size, UINT64_C(0xffffffff81800000) - UINT64_C(0xffffffff81123000));
	assert_int_equal(v[1].size, 0x1000);
	free(v);
	ptb_deinit(&b);
}

/* A top table outside the dump: both canonical halves are reported, each clipped to a window. */
static void test_missing_top_table(void **state)
{
	(void)state;
	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, 2 << 20, 0x100000);
	struct pt_cpu_state cpu;
	ptb_cpu(&b, &cpu);
	cpu.cr3 = 0x40000000;
	struct pt_context ctx;
	assert_int_equal(pt_context_init(&ctx, &cpu, ptb_mem(&b), NULL, NULL), PT_OK);
	struct pt_range *v;
	size_t n = collect(&ctx, ptb_mem(&b), NULL, &v, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].kind, PT_RANGE_UNREADABLE);
	assert_int_equal(v[0].va, 0);
	assert_int_equal(v[0].size, UINT64_C(1) << 47);
	assert_int_equal(v[0].table_pa, 0x40000000);
	assert_int_equal(v[1].kind, PT_RANGE_UNREADABLE);
	assert_int_equal(v[1].va, UINT64_C(0xffff800000000000));
	assert_int_equal(v[1].size, UINT64_C(1) << 47);
	free(v);
	struct pt_maps_opts window = { .va_start = UINT64_C(0xffffffff80000000), .va_last = UINT64_MAX };
	n = collect(&ctx, ptb_mem(&b), &window, &v, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].va, UINT64_C(0xffffffff80000000));
	assert_int_equal(v[0].size, UINT64_C(0x80000000));
	free(v);
	ptb_deinit(&b);
}

/* A 1 GiB page whose frame starts in the dump but ends outside it is flagged. */
static void test_large_frame_partly_outside_dump(void **state)
{
	(void)state;
	struct ptb b;
	ptb_init(&b, PT_MODE_IA32E, 4 << 20, 0x100000);
	ptb_map(&b, UINT64_C(0xffff888000000000), 0, 3, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	ptb_map(&b, 0x200000, 0x200000, 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	struct pt_context ctx;
	context_of(&b, &ctx);
	struct pt_range *v;
	size_t n = collect(&ctx, ptb_mem(&b), NULL, &v, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].va, 0x200000);
	assert_true(v[0].pa_in_dump); /* 2 MiB..4 MiB: inside the 4 MiB memory */
	assert_int_equal(v[1].va, UINT64_C(0xffff888000000000));
	assert_false(v[1].pa_in_dump); /* 0..1 GiB: mostly outside */
	free(v);
	ptb_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_property_random_tables),
		cmocka_unit_test(test_unreadable_subtree_is_reported_and_skipped),
		cmocka_unit_test(test_legacy_4m_page_pa_is_frame),
		cmocka_unit_test(test_espfix_aliasing_expanded),
		cmocka_unit_test(test_hostile_self_similar_tables_bounded),
		cmocka_unit_test(test_coalesce_and_window),
		cmocka_unit_test(test_missing_top_table),
		cmocka_unit_test(test_large_frame_partly_outside_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
