/* SPDX-License-Identifier: MIT */
/*
 * The walker's fast paths against its detailed walk, exhaustively over built tables of every mode
 * (issue 14). The level loop is instantiated per shape (4-level, 5-level, descriptor-driven) and
 * reads entries inline from a pt_chunk_mem's run and table or a pt_flat_mem's buffer, 4- and
 * 5-level pt_translate and pt_walk first run a common-case instantiation (over a run that starts
 * at PA 0) that hands anything unusual (an entry or a page outside the run, a fault, a reserved
 * bit, an access the inline check does not allow) to the full one, and pt_translate_lean leaves
 * the per-level record out; none of this may change an answer (the callback reader below and
 * the run at 0x180000 are walked by the full instantiation alone, the flat buffer, the run at 0
 * and the reader without a run by the common one first). For every
 * entry of every table built (a VA through it, with a random offset) and a few VAs the tables do
 * not reach, under CPU states with and without WP, SMEP, SMAP, AC, PKE, NXE and an SME C-bit,
 * and for every access kind and privilege:
 *   - pt_translate through five readers of the same bytes (the flat buffer read inline; a plain
 *     callback the walker must call; a pt_chunk_mem with a run at 0x180000, a table with holes
 *     and a fallback; the same with a run of the first 1.5 MiB, which holds only some of the
 *     tables; a pt_chunk_mem with no run) gives the same result, field by field;
 *   - pt_translate_lean gives pt_translate's result (on PT_OK without the record);
 *   - pt_walk followed by pt_result_check_access gives pt_translate's result.
 * The tables hold random entries (reserved bits, PS, not-present, pointers out of the dump),
 * so faults of every level and kind are among the answers (counted, and required).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ptbuild.h"
#include "rng.h"
#include "ptlab/walk.h"

static uint64_t rnd_state = 0x243f6a8885a308d3u;

static uint64_t rnd(void)
{
	return ts_xorshift64(&rnd_state);
}

/* A plain callback reader over the builder's memory: the walker cannot read it inline. */
struct call_mem {
	struct pt_mem mem;
	const struct pt_mem *inner;
};

static const void *call_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	const struct call_mem *c = (const struct call_mem *)mem;
	return c->inner->ptr(c->inner, pa, len);
}

static void assert_same(enum pt_status a, const struct pt_result *ra, enum pt_status b,
			const struct pt_result *rb, bool b_lean)
{
	assert_int_equal(a, b);
	assert_int_equal(ra->va, rb->va);
	assert_int_equal(ra->pa, rb->pa);
	assert_int_equal(ra->page_size, rb->page_size);
	assert_int_equal(ra->level, rb->level);
	assert_int_equal(ra->rights.writable, rb->rights.writable);
	assert_int_equal(ra->rights.user, rb->rights.user);
	assert_int_equal(ra->rights.nx, rb->rights.nx);
	assert_int_equal(ra->rights.pkey, rb->rights.pkey);
	assert_int_equal(ra->pa_in_dump, rb->pa_in_dump);
	assert_int_equal(ra->fault.vector, rb->fault.vector);
	assert_int_equal(ra->fault.error_code, rb->fault.error_code);
	assert_int_equal(ra->fault.level, rb->fault.level);
	assert_int_equal(ra->fault.entry_pa, rb->fault.entry_pa);
	assert_int_equal(ra->fault.entry, rb->fault.entry);
	assert_int_equal(ra->table_pa, rb->table_pa);
	if (b_lean && a == PT_OK) {
		assert_int_equal(rb->nentries, 0);
		return;
	}
	assert_int_equal(ra->nentries, rb->nentries);
	for (unsigned i = 0; i < ra->nentries; i++) {
		assert_int_equal(ra->entry[i].level, rb->entry[i].level);
		assert_int_equal(ra->entry[i].pa, rb->entry[i].pa);
		assert_int_equal(ra->entry[i].value, rb->entry[i].value);
	}
}

/* Random bits for an entry at `level`: mostly well-formed, sometimes with a reserved bit, PS,
 * P clear, XD, a protection key or the C-bit. */
static uint64_t noise(const struct ptb *b, unsigned cbit)
{
	uint64_t v = 0;
	switch (rnd() % 12) {
	case 0: v |= PT_BIT(13 + rnd() % 8); break;                         /* large-page rsvd */
	case 1: v |= PT_BIT(b->desc->entry_size == 8 ? 40 + rnd() % 12 : 21); break; /* above M */
	case 2: v |= PTE_PS; break;
	case 3: v |= PTE_XD; break;
	case 4: v |= (rnd() % 16) << PTE_BIT_PKEY; break;
	case 5: v |= cbit ? PT_BIT(cbit) : 0; break;
	default: break;
	}
	if (b->desc->entry_size == 4)
		v &= UINT32_MAX;
	return v;
}

/* A space of every mode's shapes, then random damage to a copy of some of its entries. */
static void build(struct ptb *b, enum pt_mode mode, unsigned cbit)
{
	const bool wide = mode == PT_MODE_IA32E || mode == PT_MODE_LA57;
	ptb_init(b, mode, 8 << 20, 0x100000);
	for (unsigned i = 0; i < 48; i++) {
		uint64_t flags = PTE_P | (rnd() & (PTE_RW | PTE_US)) |
				 (mode != PT_MODE_LEGACY && rnd() % 3 == 0 ? PTE_XD : 0);
		uint64_t base = wide && i % 2 ? UINT64_C(0xffffffff80000000) : 0x400000;
		ptb_map(b, base + i * 0x1000, 0x200000 + i * 0x1000, 1, flags, PTB_TABLE_FLAGS);
		if (i % 4 == 0)
			ptb_map(b, base + 0x40000000 + i * 0x400000, (rnd() % 4) * 0x400000, 2, flags,
				PTB_TABLE_FLAGS);
		if (wide && i % 16 == 0)
			ptb_map(b, UINT64_C(0xffff888000000000) + i * (UINT64_C(1) << 30), 0, 3, flags,
				PTB_TABLE_FLAGS);
	}
	/* frames beyond the memory: pa_in_dump false, tables not in the dump */
	ptb_map(b, 0x7000000, UINT64_C(0x7ff000), 1, PTE_P, PTB_TABLE_FLAGS);
	ptb_set(b, ptb_entry_pa(b, 0x7000000, 1), (b->size + 0x5000) | PTE_P);
	ptb_map(b, 0x9000000, 0x1000, 1, PTE_P, PTB_TABLE_FLAGS);
	ptb_set(b, ptb_entry_pa(b, 0x9000000, 2), (b->size + 0x10000) | PTB_TABLE_FLAGS);
	/* damage: random bits in random entries of the allocated tables */
	const unsigned esize = b->desc->entry_size;
	for (unsigned k = 0; k < 200; k++) {
		uint64_t page = 0x100000 + (rnd() % ((b->next_free - 0x100000) / 4096)) * 4096;
		uint64_t epa = page + (rnd() % (4096 / esize)) * esize;
		uint64_t v = ptb_get(b, epa);
		if (!v)
			continue;
		v |= noise(b, cbit);
		if (rnd() % 8 == 0)
			v &= ~PTE_P;
		ptb_set(b, epa, v);
	}
}

/* Every VA the tables reach, one per entry of every table (a DFS over the built tree), plus VAs
 * no table reaches and non-canonical ones. Returns how many were written to vas[]. */
static size_t collect(struct ptb *b, uint64_t table, unsigned level, uint64_t va_base, uint64_t *vas,
		      size_t n, size_t cap)
{
	const struct pt_mode_desc *d = b->desc;
	const unsigned entries = pt_level_entries(d, level);
	const unsigned shift = d->level[level].va_shift;
	for (unsigned i = 0; i < entries && n < cap; i++) {
		const uint64_t epa = table + (uint64_t)i * d->entry_size;
		const uint64_t v = ptb_get(b, epa);
		const uint64_t va = va_base | (uint64_t)i << shift;
		if (!v && i % 64)
			continue; /* empty entries: a sample */
		vas[n++] = va | (rnd() & (PT_BIT(shift) - 1));
		const uint64_t next = v & (d->entry_size == 8 ? UINT64_C(0x000ffffffffff000) : 0xfffff000u);
		if (level > 1 && (v & PTE_P) && !(v & PTE_PS) && next >= 0x100000 && next < b->next_free)
			n = collect(b, next, level - 1, va, vas, n, cap);
	}
	return n;
}

static void check_mode(enum pt_mode mode, unsigned *faults_ret, unsigned *ok_ret)
{
	struct ptb b;
	const unsigned cbit = mode == PT_MODE_IA32E || mode == PT_MODE_LA57 ? 47 : 0;
	build(&b, mode, cbit);
	enum { CAP = 1 << 16 };
	uint64_t *vas = malloc(CAP * sizeof(*vas));
	assert_non_null(vas);
	const struct pt_mode_desc *d = b.desc;
	size_t n = mode == PT_MODE_PAE ? 0 : collect(&b, b.root, d->levels, 0, vas, 0, CAP - 64);
	if (mode == PT_MODE_PAE) {
		/* the PDPT's four entries: one VA through each, the rest through collect per PD */
		for (unsigned i = 0; i < 4; i++) {
			const uint64_t v = ptb_get(&b, b.root + 8 * i);
			vas[n++] = (uint64_t)i << 30 | (rnd() & 0x3fffffff);
			if (v & PTE_P)
				n = collect(&b, v & UINT64_C(0x000ffffffffff000), 2, (uint64_t)i << 30, vas, n,
					    CAP - 64);
		}
	}
	for (unsigned k = 0; k < 32; k++)
		vas[n++] = rnd(); /* mostly non-canonical or unmapped */

	/* the readers */
	struct call_mem call = { .mem = { .ptr = call_ptr }, .inner = ptb_mem(&b) };
	call.mem.opaque = &call;
	enum { SHIFT = 16 };
	const uint64_t nchunks = b.size >> SHIFT;
	const uint8_t **chunks = calloc(nchunks, sizeof(*chunks));
	assert_non_null(chunks);
	for (uint64_t c = 0; c < nchunks; c++)
		chunks[c] = c % 5 == 3 ? NULL : b.mem + (c << SHIFT); /* holes: read by the fallback */
	struct pt_chunk_mem with_run, low_run, no_run;
	pt_chunk_mem_init(&with_run, chunks, nchunks, SHIFT, &call.mem);
	pt_chunk_mem_set_run(&with_run, b.mem + 0x180000, 0x180000, 0x100000);
	pt_chunk_mem_set_end(&with_run, b.size);
	pt_chunk_mem_init(&low_run, chunks, nchunks, SHIFT, &call.mem);
	pt_chunk_mem_set_run(&low_run, b.mem, 0, 0x180000);
	pt_chunk_mem_set_end(&low_run, b.size);
	pt_chunk_mem_init(&no_run, chunks, nchunks, SHIFT, ptb_mem(&b));
	const struct pt_mem *readers[] = { &call.mem, &with_run.mem, &low_run.mem, &no_run.mem };
	const unsigned nreaders = sizeof(readers) / sizeof(readers[0]);

	for (unsigned variant = 0; variant < 16; variant++) {
		struct pt_cpu_state cpu;
		ptb_cpu(&b, &cpu);
		cpu.cbit = (uint8_t)cbit;
		if (variant & 1)
			cpu.cr0 &= ~CR0_WP;
		if (variant & 2)
			cpu.cr4 |= CR4_SMEP | CR4_SMAP;
		if (variant & 4) {
			cpu.cr4 |= CR4_PKE;
			cpu.pkru = (uint32_t)rnd();
			cpu.rflags |= RFLAGS_AC;
		}
		if (variant & 8) {
			cpu.efer &= ~EFER_NXE;
			cpu.maxphyaddr = 40;
		}
		struct pt_context ctx;
		struct pt_fault gp;
		if (pt_context_init(&ctx, &cpu, ptb_mem(&b), &gp, NULL) != PT_OK)
			continue; /* a damaged PAE PDPTE: #GP at CR3 load, no walk */
		for (size_t i = 0; i < n; i++) {
			const struct pt_access acc = { .kind = (enum pt_access_kind)(i % 3),
						       .cpl = (i / 3) % 2 ? 3 : 0,
						       .implicit = (i / 6) % 4 == 0 };
			struct pt_result want, got;
			const enum pt_status sw = pt_translate(&ctx, ptb_mem(&b), vas[i], &acc, &want);
			for (unsigned m = 0; m < nreaders; m++) {
				enum pt_status sg = pt_translate(&ctx, readers[m], vas[i], &acc, &got);
				assert_same(sw, &want, sg, &got, false);
			}
			enum pt_status sl = pt_translate_lean(&ctx, ptb_mem(&b), vas[i], &acc, &got);
			assert_same(sw, &want, sl, &got, true);
			sl = pt_translate_lean(&ctx, &with_run.mem, vas[i], &acc, &got);
			assert_same(sw, &want, sl, &got, true);
			sl = pt_translate_lean(&ctx, &low_run.mem, vas[i], &acc, &got);
			assert_same(sw, &want, sl, &got, true);
			enum pt_status sk = pt_walk(&ctx, &no_run.mem, vas[i], &got);
			if (sk == PT_OK)
				sk = pt_result_check_access(&ctx, &acc, &got);
			else if (sk == PT_FAULT && got.fault.vector == PT_VEC_PF)
				got.fault.error_code = want.fault.error_code; /* pt_walk has no access bits */
			assert_same(sw, &want, sk, &got, false);
			*faults_ret += sw == PT_FAULT;
			*ok_ret += sw == PT_OK;
		}
	}
	free(chunks);
	free(vas);
	ptb_deinit(&b);
}

static void test_fast_equals_detailed(void **state)
{
	(void)state;
	const enum pt_mode modes[] = { PT_MODE_LEGACY, PT_MODE_PAE, PT_MODE_IA32E, PT_MODE_LA57 };
	for (unsigned m = 0; m < 4; m++) {
		unsigned faults = 0, ok = 0;
		check_mode(modes[m], &faults, &ok);
		print_message("%s: %u translated, %u faults\n", pt_mode_name(modes[m]), ok, faults);
		/* the comparisons saw both answers in number */
		assert_true(faults > 200);
		assert_true(ok > 200);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_equals_detailed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
