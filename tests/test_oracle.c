/* SPDX-License-Identifier: MIT */
/*
 * test_oracle.c: the MMU oracle (emu/oracle.c) and the comparison (emu/diff.c).
 *
 *  - One test per fault kind on hand-made tables: the oracle's answer is asserted against a
 *    literal PA or vector + error code + level (from the SDM), and pt_diff_compare of the
 *    walker's answer against it must give MATCH, or the named DEVIATION where Unicorn 2.0.1
 *    documentedly departs from the SDM (PAE PDPTEs, 1 GiB pages without CPUID support).
 *  - Planted walker bugs: the walker's result is corrupted the way a buggy walker would get it
 *    wrong (NX or U/S ignored, a lost error-code bit, a wrong PA or level, a reserved bit
 *    ignored) and the comparison must say MISMATCH.
 *  - A randomized differential: random tables in every mode, about 20k probes, 0 mismatches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ptbuild.h"
#include "rng.h"
#include "ptlab/emu.h"

#define MEM_SIZE (UINT64_C(16) << 20)
#define TABLES_PA UINT64_C(0x100000)
/** Unicorn 2.0.1's MAXPHYADDR (measured by the oracle; the walker must use the same). */
#define UC_MAXPHYADDR 40

static uint64_t bit(unsigned n)
{
	return UINT64_C(1) << n;
}

/* Error-code bits (SDM 4.7) as plain numbers for the literal expectations. */
enum { E_P = 1, E_W = 2, E_U = 4, E_RSVD = 8, E_ID = 16, E_PK = 32 };

/* CR4 / RFLAGS bits the tests toggle. */
#define RFLAGS_AC bit(18)

/* ---- fixture ------------------------------------------------------------------------------- */

/** Tables under construction, the CPU state and an oracle over the same (live) memory. */
struct fx {
	struct ptb b;
	struct pt_cpu_state cpu;
	struct pt_oracle *oracle;
};

static void fx_init(struct fx *f, enum pt_mode mode)
{
	struct pt_error err;

	memset(f, 0, sizeof(*f));
	ptb_init(&f->b, mode, MEM_SIZE, TABLES_PA);
	ptb_cpu(&f->b, &f->cpu);
	f->cpu.maxphyaddr = UC_MAXPHYADDR;
	memset(&err, 0, sizeof(err));
	if (pt_oracle_create(ptb_mem(&f->b), f->b.size, &f->oracle, &err) != PT_OK)
		fail_msg("pt_oracle_create: %s", err.message);
	assert_int_equal(pt_oracle_maxphyaddr(f->oracle), UC_MAXPHYADDR);
}

static void fx_deinit(struct fx *f)
{
	pt_oracle_destroy(f->oracle);
	ptb_deinit(&f->b);
}

static struct pt_access acc(enum pt_access_kind kind, unsigned cpl)
{
	struct pt_access a = { kind, (uint8_t)cpl, false };
	return a;
}

static const struct pt_access READ0 = { PT_ACCESS_READ, 0, false };
static const struct pt_access WRITE0 = { PT_ACCESS_WRITE, 0, false };
static const struct pt_access FETCH0 = { PT_ACCESS_FETCH, 0, false };
static const struct pt_access READ3 = { PT_ACCESS_READ, 3, false };
static const struct pt_access WRITE3 = { PT_ACCESS_WRITE, 3, false };
static const struct pt_access FETCH3 = { PT_ACCESS_FETCH, 3, false };
static const struct pt_access IMPLICIT3 = { PT_ACCESS_READ, 3, true };

/** Ask the oracle; the probe itself must succeed. */
static void oracle_probe(struct fx *f, uint64_t va, struct pt_access a, struct pt_oracle_answer *ans)
{
	struct pt_error err;

	memset(&err, 0, sizeof(err));
	if (pt_oracle_probe(f->oracle, &f->cpu, va, &a, ans, &err) != PT_OK)
		fail_msg("pt_oracle_probe(0x%llx): %s", (unsigned long long)va, err.message);
}

/** The walker's answer as `ptlab diff` forms it (the PAE CR3-load #GP applies to every VA). */
static enum pt_status walker_translate(struct fx *f, struct pt_context *ctx, uint64_t va,
				       struct pt_access a, struct pt_result *res)
{
	struct pt_fault fault;
	uint64_t table_pa = 0;
	enum pt_status st;

	memset(res, 0, sizeof(*res));
	st = pt_context_init(ctx, &f->cpu, ptb_mem(&f->b), &fault, &table_pa);
	if (st != PT_OK) {
		res->va = va;
		res->fault = fault;
		res->table_pa = table_pa;
		return st;
	}
	return pt_translate(ctx, ptb_mem(&f->b), va, &a, res);
}

/** The walker against `ans`: the verdict and deviation must be as expected. */
static void assert_verdict(struct fx *f, uint64_t va, struct pt_access a,
			   const struct pt_oracle_answer *ans, enum pt_diff_verdict want,
			   enum pt_diff_deviation want_dev)
{
	struct pt_context ctx;
	struct pt_result res;
	enum pt_diff_deviation dev = (enum pt_diff_deviation)-1;
	enum pt_status st = walker_translate(f, &ctx, va, a, &res);
	enum pt_diff_verdict v = pt_diff_compare(&ctx, &a, st, &res, ans, &dev);

	if (v != want || dev != want_dev)
		fail_msg("VA 0x%llx: verdict %d deviation %s, expected %d %s (walker %s, oracle %s "
			 "pa 0x%llx vector %u error 0x%x level %u)",
			 (unsigned long long)va, v, pt_diff_deviation_name(dev), want,
			 pt_diff_deviation_name(want_dev), pt_status_name(st),
			 pt_status_name(ans->status), (unsigned long long)ans->pa, ans->vector,
			 ans->error_code, ans->level);
}

/** The oracle translates `va` to exactly `pa` at `level`; the walker agrees (or `dev`). */
static void expect_pa_dev(struct fx *f, uint64_t va, struct pt_access a, uint64_t pa,
			  unsigned level, enum pt_diff_deviation dev)
{
	struct pt_oracle_answer ans;

	oracle_probe(f, va, a, &ans);
	if (ans.status != PT_OK)
		fail_msg("VA 0x%llx: oracle fault vector %u error 0x%x level %u, expected PA 0x%llx",
			 (unsigned long long)va, ans.vector, ans.error_code, ans.level,
			 (unsigned long long)pa);
	assert_int_equal(ans.pa, pa);
	assert_int_equal(ans.level, level);
	assert_verdict(f, va, a, &ans, dev ? PT_DIFF_DEVIATION : PT_DIFF_MATCH, dev);
}

static void expect_pa(struct fx *f, uint64_t va, struct pt_access a, uint64_t pa, unsigned level)
{
	expect_pa_dev(f, va, a, pa, level, PT_DEV_NONE);
}

/** The oracle raises exactly `vector`/`code` at `level`; the walker agrees (or `dev`). */
static void expect_fault_dev(struct fx *f, uint64_t va, struct pt_access a, unsigned vector,
			     uint32_t code, unsigned level, enum pt_diff_deviation dev)
{
	struct pt_oracle_answer ans;

	oracle_probe(f, va, a, &ans);
	if (ans.status != PT_FAULT)
		fail_msg("VA 0x%llx: oracle PA 0x%llx, expected vector %u error 0x%x",
			 (unsigned long long)va, (unsigned long long)ans.pa, vector, code);
	assert_int_equal(ans.vector, vector);
	assert_int_equal(ans.error_code, code);
	assert_int_equal(ans.level, level);
	assert_verdict(f, va, a, &ans, dev ? PT_DIFF_DEVIATION : PT_DIFF_MATCH, dev);
}

static void expect_fault(struct fx *f, uint64_t va, struct pt_access a, unsigned vector,
			 uint32_t code, unsigned level)
{
	expect_fault_dev(f, va, a, vector, code, level, PT_DEV_NONE);
}

#define PF 14
#define GP 13
#define RW_US (PTE_P | PTE_RW | PTE_US)

/* ---- translations: page sizes and modes ------------------------------------------------- */

static void test_4level_4k_2m_1g(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US, PTB_TABLE_FLAGS);
	ptb_map(&f.b, 0xffffffff81000000, 0x1000000, 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	ptb_map(&f.b, 0xffff888100000000, 0x40000000, 3, PTE_P | PTE_RW, PTB_TABLE_FLAGS);

	expect_pa(&f, 0x400abc, READ0, 0x345abc, 1);
	expect_pa(&f, 0x400fff, WRITE3, 0x345fff, 1);
	expect_pa(&f, 0x400000, FETCH3, 0x345000, 1);
	expect_pa(&f, 0xffffffff811fffff, READ0, 0x11fffff, 2);
	expect_pa(&f, 0xffffffff81012345, FETCH0, 0x1012345, 2);
	/* A 1 GiB page: Unicorn maps it although its CPUID has no Page1GB (a named deviation). */
	expect_pa_dev(&f, 0xffff888123456789, WRITE0, 0x63456789, 3, PT_DEV_1G_WITHOUT_CPUID);
	fx_deinit(&f);
}

static void test_5level(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_LA57);
	/* PML5 slot 0x156, beyond what 4-level paging can address. */
	const uint64_t va = 0xff56a00012345678;
	ptb_map(&f.b, va & ~UINT64_C(0xfff), 0x777000, 1, RW_US, PTB_TABLE_FLAGS);
	ptb_map(&f.b, 0x00f0000000200000, 0xa00000, 2, PTE_P, PTB_TABLE_FLAGS);

	expect_pa(&f, va, READ3, 0x777678, 1);
	expect_pa(&f, 0x00f00000002abcde, READ0, 0xaabcde, 2);
	/* 0x0000800000000000 is canonical with 57 bits: an empty PML5 slot 0 entry (not present). */
	expect_fault(&f, 0x0000800000000000, READ0, PF, 0, 5);
	/* Non-canonical for 57 bits. */
	expect_fault(&f, 0x0100000000000000, READ0, GP, 0, 0);
	fx_deinit(&f);
}

static void test_legacy_4k_and_4m(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_LEGACY);
	ptb_map(&f.b, 0x08048000, 0x00123000, 1, RW_US, PTB_TABLE_FLAGS);
	/* A 4 MiB page with PSE-36: PA bits 39:32 = 0x12 in PDE bits 20:13 (SDM Table 4-4). */
	ptb_map(&f.b, 0xc0000000, UINT64_C(0x1200c00000), 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);

	expect_pa(&f, 0x08048123, READ3, 0x00123123, 1);
	expect_pa(&f, 0xc0123456, WRITE0, UINT64_C(0x1200d23456), 2);
	expect_fault(&f, 0xc0123456, READ3, PF, E_P | E_U, 2);
	/* The next 4 MiB region has no PDE. */
	expect_fault(&f, 0xc0400000, WRITE3, PF, E_W | E_U, 2);
	/* Without CR4.PSE, PS is ignored: the PDE points to a "page table" at its frame. */
	f.cpu.cr4 &= ~CR4_PSE;
	{
		struct pt_oracle_answer ans;
		const uint64_t pde = ptb_get(&f.b, ptb_entry_pa(&f.b, 0xc0123456, 2));
		oracle_probe(&f, 0xc0123456, READ0, &ans);
		assert_int_equal(ans.nentries, 2);
		assert_int_equal(ans.entry_pa[1], (pde & 0xfffff000) + 0x123 * 4);
		assert_verdict(&f, 0xc0123456, READ0, &ans, PT_DIFF_MATCH, PT_DEV_NONE);
	}
	fx_deinit(&f);
}

static void test_pae_4k_2m_nx(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_PAE);
	ptb_map(&f.b, 0x00401000, UINT64_C(0x3456789000), 1, RW_US, PTB_TABLE_FLAGS);
	ptb_map(&f.b, 0xc0200000, 0x00600000, 2, PTE_P | PTE_RW | PTE_XD, PTB_TABLE_FLAGS);

	expect_pa(&f, 0x00401abc, READ3, UINT64_C(0x3456789abc), 1);
	expect_pa(&f, 0xc02fffff, READ0, 0x006fffff, 2);
	expect_fault(&f, 0xc0201000, FETCH0, PF, E_P | E_ID, 2);
	/* PDPTE 1 (VA 1..2 GiB) is not present: #PF at level 3. */
	expect_fault(&f, 0x40000000, READ0, PF, 0, 3);
	fx_deinit(&f);
}

/* ---- not present ------------------------------------------------------------------------- */

static void test_not_present_each_level(void **state)
{
	static const enum pt_mode modes[] = { PT_MODE_LEGACY, PT_MODE_PAE, PT_MODE_IA32E, PT_MODE_LA57 };
	(void)state;
	for (unsigned m = 0; m < 4; m++) {
		struct fx f;
		fx_init(&f, modes[m]);
		const unsigned levels = f.b.desc->levels;
		const uint64_t va = 0x12345000;
		for (unsigned level = 1; level <= levels; level++) {
			ptb_map(&f.b, va, 0x555000, 1, RW_US, PTB_TABLE_FLAGS);
			ptb_clear_bits(&f.b, va, level, PTE_P);
			expect_fault(&f, va + 0x10, READ0, PF, 0, level);
			expect_fault(&f, va + 0x10, WRITE3, PF, E_W | E_U, level);
			ptb_set_bits(&f.b, va, level, PTE_P);
		}
		expect_pa(&f, va + 0x10, READ0, 0x555010, 1);
		fx_deinit(&f);
	}
}

/* ---- reserved bits ------------------------------------------------------------------------ */

static void test_reserved_above_maxphyaddr(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US, PTB_TABLE_FLAGS);
	/* Bit 39 is an address bit with MAXPHYADDR 40, bit 40 is reserved. */
	ptb_set_bits(&f.b, 0x400000, 1, bit(39));
	expect_pa(&f, 0x400123, READ0, UINT64_C(0x8000345123), 1);
	ptb_set_bits(&f.b, 0x400000, 1, bit(40));
	expect_fault(&f, 0x400123, READ0, PF, E_P | E_RSVD, 1);
	expect_fault(&f, 0x400123, WRITE3, PF, E_P | E_RSVD | E_W | E_U, 1);
	/* In a non-leaf entry too. */
	ptb_clear_bits(&f.b, 0x400000, 1, bit(40) | bit(39));
	ptb_set_bits(&f.b, 0x400000, 3, bit(51));
	expect_fault(&f, 0x400123, READ3, PF, E_P | E_RSVD | E_U, 3);
	fx_deinit(&f);
}

static void test_reserved_ps_in_pml4e(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US, PTB_TABLE_FLAGS);
	ptb_set_bits(&f.b, 0x400000, 4, PTE_PS);
	expect_fault(&f, 0x400123, READ0, PF, E_P | E_RSVD, 4);
	expect_fault(&f, 0x400123, FETCH0, PF, E_P | E_RSVD | E_ID, 4);
	fx_deinit(&f);
}

static void test_reserved_1g_bits_13_to_29(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x40000000, 0x80000000, 3, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	expect_pa_dev(&f, 0x40000123, READ0, 0x80000123, 3, PT_DEV_1G_WITHOUT_CPUID);
	/* Bit 12 is PAT; bits 29:13 are reserved in a 1 GiB PDPTE (SDM Table 4-16). A reserved
	 * fault is what the SDM gives with or without 1 GiB support: a plain match. */
	ptb_set_bits(&f.b, 0x40000000, 3, bit(12));
	expect_pa_dev(&f, 0x40000123, READ0, 0x80000123, 3, PT_DEV_1G_WITHOUT_CPUID);
	ptb_set_bits(&f.b, 0x40000000, 3, bit(13));
	expect_fault(&f, 0x40000123, READ0, PF, E_P | E_RSVD, 3);
	ptb_clear_bits(&f.b, 0x40000000, 3, bit(13));
	ptb_set_bits(&f.b, 0x40000000, 3, bit(29));
	expect_fault(&f, 0x40000123, WRITE0, PF, E_P | E_RSVD | E_W, 3);
	fx_deinit(&f);
}

static void test_reserved_2m_and_xd_without_nxe(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x200000, 0x400000, 2, PTE_P | PTE_RW | PTE_XD, PTB_TABLE_FLAGS);
	expect_fault(&f, 0x200000, FETCH0, PF, E_P | E_ID, 2);
	/* XD is reserved when EFER.NXE = 0 (and I/D is not reported without NXE or SMEP). */
	f.cpu.efer &= ~EFER_NXE;
	expect_fault(&f, 0x200000, FETCH0, PF, E_P | E_RSVD, 2);
	f.cpu.efer |= EFER_NXE;
	ptb_clear_bits(&f.b, 0x200000, 2, PTE_XD);
	ptb_set_bits(&f.b, 0x200000, 2, bit(20));
	expect_fault(&f, 0x200000, READ0, PF, E_P | E_RSVD, 2);
	fx_deinit(&f);
}

/* ---- protection ---------------------------------------------------------------------------- */

static void test_write_readonly_wp(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, PTE_P | PTE_US, PTB_TABLE_FLAGS);
	/* CR0.WP = 1: supervisor writes honour R/W. */
	expect_fault(&f, 0x400010, WRITE0, PF, E_P | E_W, 1);
	expect_fault(&f, 0x400010, WRITE3, PF, E_P | E_W | E_U, 1);
	/* CR0.WP = 0: a supervisor may write a read-only page; a user still may not. */
	f.cpu.cr0 &= ~CR0_WP;
	expect_pa(&f, 0x400010, WRITE0, 0x345010, 1);
	expect_fault(&f, 0x400010, WRITE3, PF, E_P | E_W | E_U, 1);
	/* R/W = 0 at a higher level counts as well. */
	f.cpu.cr0 |= CR0_WP;
	ptb_set_bits(&f.b, 0x400000, 1, PTE_RW);
	ptb_clear_bits(&f.b, 0x400000, 3, PTE_RW);
	expect_fault(&f, 0x400010, WRITE0, PF, E_P | E_W, 1);
	fx_deinit(&f);
}

static void test_user_access_to_supervisor_page(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	expect_fault(&f, 0x400010, READ3, PF, E_P | E_U, 1);
	expect_fault(&f, 0x400010, FETCH3, PF, E_P | E_U | E_ID, 1);
	expect_pa(&f, 0x400010, READ0, 0x345010, 1);
	/* CPL 1 and 2 are supervisor mode too. */
	expect_pa(&f, 0x400010, acc(PT_ACCESS_WRITE, 1), 0x345010, 1);
	expect_pa(&f, 0x400010, acc(PT_ACCESS_READ, 2), 0x345010, 1);
	/* U/S = 0 in the PML4E makes the whole subtree supervisor. */
	ptb_set_bits(&f.b, 0x400000, 1, PTE_US);
	ptb_clear_bits(&f.b, 0x400000, 4, PTE_US);
	expect_fault(&f, 0x400010, WRITE3, PF, E_P | E_W | E_U, 1);
	fx_deinit(&f);
}

static void test_nx_fetch(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US | PTE_XD, PTB_TABLE_FLAGS);
	expect_fault(&f, 0x400010, FETCH0, PF, E_P | E_ID, 1);
	expect_fault(&f, 0x400010, FETCH3, PF, E_P | E_U | E_ID, 1);
	expect_pa(&f, 0x400010, READ3, 0x345010, 1);
	/* XD at the PDPTE level only. */
	ptb_clear_bits(&f.b, 0x400000, 1, PTE_XD);
	ptb_set_bits(&f.b, 0x400000, 3, PTE_XD);
	expect_fault(&f, 0x400010, FETCH3, PF, E_P | E_U | E_ID, 1);
	fx_deinit(&f);
}

static void test_smep_fetch(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US, PTB_TABLE_FLAGS);
	expect_pa(&f, 0x400010, FETCH0, 0x345010, 1);
	f.cpu.cr4 |= CR4_SMEP;
	expect_fault(&f, 0x400010, FETCH0, PF, E_P | E_ID, 1);
	expect_pa(&f, 0x400010, FETCH3, 0x345010, 1);
	/* SMEP reports I/D even without NXE. */
	f.cpu.efer &= ~EFER_NXE;
	expect_fault(&f, 0x400010, FETCH0, PF, E_P | E_ID, 1);
	fx_deinit(&f);
}

static void test_smap_read_ac(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US, PTB_TABLE_FLAGS);
	f.cpu.cr4 |= CR4_SMAP;
	f.cpu.rflags = 0;
	expect_fault(&f, 0x400010, READ0, PF, E_P, 1);
	expect_fault(&f, 0x400010, WRITE0, PF, E_P | E_W, 1);
	expect_pa(&f, 0x400010, READ3, 0x345010, 1);
	/* RFLAGS.AC = 1 lets explicit supervisor accesses through. */
	f.cpu.rflags = RFLAGS_AC;
	expect_pa(&f, 0x400010, READ0, 0x345010, 1);
	expect_pa(&f, 0x400010, WRITE0, 0x345010, 1);
	/* Not an implicit supervisor access at CPL 3 (e.g. a descriptor-table read). */
	expect_fault(&f, 0x400010, IMPLICIT3, PF, E_P, 1);
	/* Nor at CPL 0 (SDM 4.6.1: implicit accesses ignore AC). Unicorn lets that one through:
	 * the named deviation smap-implicit-ac, with Unicorn's PA exactly the walker's. */
	{
		const struct pt_access implicit0 = { PT_ACCESS_READ, 0, true };
		struct pt_oracle_answer ans;
		oracle_probe(&f, 0x400010, implicit0, &ans);
		assert_int_equal(ans.status, PT_OK);
		assert_int_equal(ans.pa, 0x345010);
		assert_verdict(&f, 0x400010, implicit0, &ans, PT_DIFF_DEVIATION, PT_DEV_SMAP_IMPLICIT_AC);
		/* A walker that let it through would match Unicorn: not flagged as the deviation, and
		 * with AC = 0 Unicorn faults too, so the walker's fault is a plain match. */
		f.cpu.rflags = 0;
		oracle_probe(&f, 0x400010, implicit0, &ans);
		assert_int_equal(ans.status, PT_FAULT);
		assert_int_equal(ans.error_code, E_P);
		assert_verdict(&f, 0x400010, implicit0, &ans, PT_DIFF_MATCH, PT_DEV_NONE);
	}
	f.cpu.cr4 &= ~CR4_SMAP;
	expect_pa(&f, 0x400010, IMPLICIT3, 0x345010, 1);
	fx_deinit(&f);
}

static void test_implicit_supervisor_read(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	/* A supervisor page: an implicit access at CPL 3 is a supervisor access (no U bit). */
	ptb_map(&f.b, 0x400000, 0x345000, 1, PTE_P, PTB_TABLE_FLAGS);
	expect_pa(&f, 0x400ff8, IMPLICIT3, 0x345ff8, 1);
	expect_fault(&f, 0x400ff8, READ3, PF, E_P | E_U, 1);
	ptb_clear_bits(&f.b, 0x400000, 2, PTE_P);
	expect_fault(&f, 0x400ff8, IMPLICIT3, PF, 0, 2);
	fx_deinit(&f);
}

static void test_noncanonical_gp(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US, PTB_TABLE_FLAGS);
	expect_fault(&f, 0x0000800000000000, READ0, GP, 0, 0);
	expect_fault(&f, 0xfffeffffffffffff, WRITE3, GP, 0, 0);
	expect_fault(&f, 0x8000000000400000, FETCH0, GP, 0, 0);
	expect_fault(&f, 0x0001000000400000, IMPLICIT3, GP, 0, 0);
	/* The last canonical address below the hole: not present at level 4. */
	expect_fault(&f, 0x00007fffffffffff, READ3, PF, E_U, 4);
	fx_deinit(&f);
}

static void test_protection_keys(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US | (UINT64_C(5) << PTE_BIT_PKEY), PTB_TABLE_FLAGS);
	f.cpu.cr4 |= CR4_PKE;
	f.cpu.pkru = 1u << (2 * 5 + 1); /* key 5: write disable */
	expect_pa(&f, 0x400010, READ3, 0x345010, 1);
	expect_fault(&f, 0x400010, WRITE3, PF, E_P | E_W | E_U | E_PK, 1);
	expect_fault(&f, 0x400010, WRITE0, PF, E_P | E_W | E_PK, 1);
	f.cpu.pkru = 1u << (2 * 5); /* key 5: access disable */
	expect_fault(&f, 0x400010, READ3, PF, E_P | E_U | E_PK, 1);
	expect_pa(&f, 0x400010, FETCH3, 0x345010, 1); /* keys do not apply to fetches */
	fx_deinit(&f);
}

static void test_sme_cbit(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US, PTB_TABLE_FLAGS);
	/* C-bit 47 in every entry and in CR3: the walker strips it; the oracle presents entries
	 * to Unicorn without it (as the memory controller would) and reports them raw. */
	for (unsigned level = 1; level <= 4; level++)
		ptb_set_bits(&f.b, 0x400000, level, bit(47));
	f.cpu.cbit = 47;
	f.cpu.cr3 |= bit(47);
	{
		struct pt_oracle_answer ans;
		expect_pa(&f, 0x400123, READ3, 0x345123, 1);
		oracle_probe(&f, 0x400123, READ3, &ans);
		assert_true((ans.entry[3] & bit(47)) != 0);
	}
	fx_deinit(&f);
}

/* ---- PAE PDPTEs: the documented deviations -------------------------------------------------- */

static void test_pae_pdpte_rw_accepted(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_PAE);
	ptb_map(&f.b, 0x00401000, 0x00789000, 1, RW_US, PTB_TABLE_FLAGS);
	/* R/W (bit 1) is reserved in a PAE PDPTE (Table 4-8): #GP at MOV to CR3 (SDM 4.4.1).
	 * Unicorn never checks it and translates. */
	ptb_set_bits(&f.b, 0x00401000, 3, PTE_RW);
	expect_pa_dev(&f, 0x00401abc, READ0, 0x00789abc, 1, PT_DEV_PAE_PDPTE_RW);
	/* U/S and bits 8:5 alike (measured: Unicorn ignores all of 2:1 and 8:5). */
	ptb_clear_bits(&f.b, 0x00401000, 3, PTE_RW);
	ptb_set_bits(&f.b, 0x00401000, 3, PTE_US | PTE_PS);
	expect_pa_dev(&f, 0x00401abc, WRITE3, 0x00789abc, 1, PT_DEV_PAE_PDPTE_RW);
	fx_deinit(&f);
}

static void test_pae_pdpte_reserved_pf(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_PAE);
	ptb_map(&f.b, 0x00401000, 0x00789000, 1, RW_US, PTB_TABLE_FLAGS);
	ptb_map(&f.b, 0x80401000, 0x0078a000, 1, RW_US, PTB_TABLE_FLAGS);
	/* Bit 40 (above MAXPHYADDR) in PDPTE 0: the SDM's #GP at CR3 load becomes #PF(RSVD) at
	 * level 3 when an access uses that PDPTE... */
	ptb_set_bits(&f.b, 0x00401000, 3, bit(40));
	expect_fault_dev(&f, 0x00401abc, READ0, PF, E_P | E_RSVD, 3, PT_DEV_PAE_PDPTE_RSVD_PF);
	expect_fault_dev(&f, 0x00401abc, WRITE3, PF, E_P | E_RSVD | E_W | E_U, 3,
			 PT_DEV_PAE_PDPTE_RSVD_PF);
	/* ...while an access through a good PDPTE goes on (no #GP at load). */
	expect_pa_dev(&f, 0x80401abc, READ0, 0x0078aabc, 1, PT_DEV_PAE_PDPTE_RSVD_PF);
	/* Bit 63 (XD is reserved in a PDPTE, NXE or not). */
	ptb_clear_bits(&f.b, 0x00401000, 3, bit(40));
	ptb_set_bits(&f.b, 0x00401000, 3, PTE_XD);
	expect_fault_dev(&f, 0x00401abc, FETCH0, PF, E_P | E_RSVD | E_ID, 3, PT_DEV_PAE_PDPTE_RSVD_PF);
	fx_deinit(&f);
}

static void test_pae_pdpte_reread(void **state)
{
	struct fx f;
	struct pt_context ctx;
	struct pt_result res;
	struct pt_oracle_answer ans;
	enum pt_diff_deviation dev;
	(void)state;
	fx_init(&f, PT_MODE_PAE);
	ptb_map(&f.b, 0x00401000, 0x00789000, 1, RW_US, PTB_TABLE_FLAGS);
	/* The walker's context loads the PDPTEs now (MOV to CR3)... */
	assert_int_equal(pt_context_init(&ctx, &f.cpu, ptb_mem(&f.b), NULL, NULL), PT_OK);
	/* ...then the PDPT changes in memory without a CR3 reload: the CPU keeps the old PDPTE,
	 * Unicorn re-reads it on the next walk. */
	ptb_clear_bits(&f.b, 0x00401000, 3, PTE_P);
	oracle_probe(&f, 0x00401abc, READ0, &ans);
	assert_int_equal(ans.status, PT_FAULT);
	assert_int_equal(ans.vector, PF);
	assert_int_equal(ans.error_code, 0);
	assert_int_equal(ans.level, 3);
	assert_int_equal(pt_translate(&ctx, ptb_mem(&f.b), 0x00401abc, &READ0, &res), PT_OK);
	assert_int_equal(res.pa, 0x00789abc);
	assert_int_equal(pt_diff_compare(&ctx, &READ0, PT_OK, &res, &ans, &dev), PT_DIFF_DEVIATION);
	assert_int_equal(dev, PT_DEV_PAE_PDPTE_REREAD);
	/* With the PDPT unchanged there is nothing to see: a plain match. */
	ptb_set_bits(&f.b, 0x00401000, 3, PTE_P);
	oracle_probe(&f, 0x00401abc, READ0, &ans);
	assert_int_equal(pt_diff_compare(&ctx, &READ0, PT_OK, &res, &ans, &dev), PT_DIFF_MATCH);
	assert_int_equal(dev, PT_DEV_NONE);
	fx_deinit(&f);
}

static void test_not_in_dump_skipped(void **state)
{
	struct fx f;
	struct pt_oracle_answer ans;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US, PTB_TABLE_FLAGS);
	/* The page table is beyond the 16 MiB dump: the walker stops, Unicorn reads zeros. */
	uint64_t pde = ptb_entry_pa(&f.b, 0x400000, 2);
	ptb_set(&f.b, pde, UINT64_C(0x40000000) | PTB_TABLE_FLAGS);
	oracle_probe(&f, 0x400010, READ0, &ans);
	assert_int_equal(ans.status, PT_FAULT);
	assert_int_equal(ans.error_code, 0);
	assert_int_equal(ans.level, 1);
	assert_int_equal(ans.entry_pa[3], 0x40000000 + 8 * 0);
	assert_verdict(&f, 0x400010, READ0, &ans, PT_DIFF_SKIPPED, PT_DEV_NONE);
	fx_deinit(&f);
}

static void test_oracle_entries_and_errors(void **state)
{
	struct fx f;
	struct pt_oracle_answer ans;
	struct pt_error err;
	struct pt_access bad = { PT_ACCESS_WRITE, 3, true };
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	const uint64_t leaf = ptb_map(&f.b, 0x400000, 0x345000, 1, RW_US, PTB_TABLE_FLAGS);
	oracle_probe(&f, 0x400010, READ3, &ans);
	assert_int_equal(ans.nentries, 4);
	assert_int_equal(ans.entry_pa[0], f.b.root);
	assert_int_equal(ans.entry_pa[3], leaf);
	assert_int_equal(ans.entry[3], 0x345000 | RW_US);
	/* The dump is never written (Unicorn's A/D updates are absorbed). */
	assert_int_equal(ptb_get(&f.b, leaf), 0x345000 | RW_US);
	/* What the oracle cannot ask Unicorn. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(pt_oracle_probe(f.oracle, &f.cpu, 0x400010, &bad, &ans, &err), PT_EINVAL);
	assert_true(err.message[0] != '\0');
	f.cpu.cr0 &= ~bit(CR0_BIT_PG);
	assert_int_equal(pt_oracle_probe(f.oracle, &f.cpu, 0x400010, &READ0, &ans, &err), PT_EINVAL);
	assert_string_equal(pt_diff_deviation_name(PT_DEV_1G_WITHOUT_CPUID), "1g-without-cpuid");
	assert_string_equal(pt_diff_deviation_name(PT_DEV_PAE_PDPTE_REREAD), "pae-pdpte-reread");
	fx_deinit(&f);
}

/* ---- planted walker bugs: the comparison must catch them ---------------------------------- */

/** The walker's real answer, then `corrupt` applied, against the oracle: MISMATCH. */
static void expect_caught(struct fx *f, uint64_t va, struct pt_access a,
			  void (*corrupt)(struct fx *, uint64_t, enum pt_status *, struct pt_result *))
{
	struct pt_context ctx;
	struct pt_result res;
	struct pt_oracle_answer ans;
	enum pt_diff_deviation dev;
	enum pt_status st = walker_translate(f, &ctx, va, a, &res);

	oracle_probe(f, va, a, &ans);
	/* The honest walker agrees... */
	assert_int_equal(pt_diff_compare(&ctx, &a, st, &res, &ans, &dev), PT_DIFF_MATCH);
	/* ...the buggy one does not. */
	corrupt(f, va, &st, &res);
	assert_int_equal(pt_diff_compare(&ctx, &a, st, &res, &ans, &dev), PT_DIFF_MISMATCH);
}

/** A walker that ignores access rights: the fault becomes the translation pt_walk gives. */
static void bug_ignore_rights(struct fx *f, uint64_t va, enum pt_status *st, struct pt_result *r)
{
	struct pt_context ctx;
	assert_int_equal(*st, PT_FAULT);
	assert_int_equal(pt_context_init(&ctx, &f->cpu, ptb_mem(&f->b), NULL, NULL), PT_OK);
	assert_int_equal(pt_walk(&ctx, ptb_mem(&f->b), va, r), PT_OK);
	*st = PT_OK;
}

static void bug_drop_write_bit(struct fx *f, uint64_t va, enum pt_status *st, struct pt_result *r)
{
	(void)f;
	(void)va;
	assert_int_equal(*st, PT_FAULT);
	r->fault.error_code &= ~(uint32_t)E_W;
}

static void bug_pa_off_by_page(struct fx *f, uint64_t va, enum pt_status *st, struct pt_result *r)
{
	(void)f;
	(void)va;
	assert_int_equal(*st, PT_OK);
	r->pa += 0x1000;
}

static void bug_no_pse36(struct fx *f, uint64_t va, enum pt_status *st, struct pt_result *r)
{
	(void)f;
	(void)va;
	assert_int_equal(*st, PT_OK);
	r->pa &= UINT32_MAX; /* a walker that forgets PDE bits 20:13 */
}

static void bug_fault_level(struct fx *f, uint64_t va, enum pt_status *st, struct pt_result *r)
{
	(void)f;
	(void)va;
	assert_int_equal(*st, PT_FAULT);
	r->fault.level++;
}

static void bug_wrong_entry(struct fx *f, uint64_t va, enum pt_status *st, struct pt_result *r)
{
	(void)f;
	(void)va;
	assert_int_equal(*st, PT_OK);
	r->entry[1].pa += 8; /* read the neighbouring PDPTE, same result by luck */
}

static void test_planted_bugs_are_caught(void **state)
{
	struct fx f;
	(void)state;
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x400000, 0x345000, 1, PTE_P | PTE_US | PTE_XD, PTB_TABLE_FLAGS);
	ptb_map(&f.b, 0x600000, 0x346000, 1, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	ptb_map(&f.b, 0x800000, 0x347000, 1, PTE_P | PTE_RW | PTE_US, PTB_TABLE_FLAGS);
	ptb_map(&f.b, 0xa00000, 0x348000, 1, RW_US | bit(45), PTB_TABLE_FLAGS);

	expect_caught(&f, 0x400010, FETCH3, bug_ignore_rights);  /* NX ignored */
	expect_caught(&f, 0x600010, READ3, bug_ignore_rights);   /* U/S ignored */
	expect_caught(&f, 0x400010, WRITE0, bug_ignore_rights);  /* R/W ignored with WP = 1 */
	expect_caught(&f, 0x400010, WRITE3, bug_drop_write_bit); /* error code without W */
	expect_caught(&f, 0x800010, READ0, bug_pa_off_by_page);
	expect_caught(&f, 0x800010, READ0, bug_wrong_entry);
	expect_caught(&f, 0x200000, READ0, bug_fault_level);     /* not present, wrong level */
	f.cpu.cr4 |= CR4_SMAP;
	expect_caught(&f, 0x800010, READ0, bug_ignore_rights);   /* SMAP ignored */
	f.cpu.cr4 = (f.cpu.cr4 & ~CR4_SMAP) | CR4_SMEP;
	expect_caught(&f, 0x800010, FETCH0, bug_ignore_rights);  /* SMEP ignored */
	{
		/* A reserved bit ignored: the walker translates where the CPU faults. */
		struct pt_context ctx;
		struct pt_result res;
		struct pt_oracle_answer ans;
		enum pt_diff_deviation dev;
		assert_int_equal(pt_context_init(&ctx, &f.cpu, ptb_mem(&f.b), NULL, NULL), PT_OK);
		assert_int_equal(pt_translate(&ctx, ptb_mem(&f.b), 0xa00010, &READ0, &res), PT_FAULT);
		oracle_probe(&f, 0xa00010, READ0, &ans);
		assert_int_equal(pt_diff_compare(&ctx, &READ0, PT_FAULT, &res, &ans, &dev), PT_DIFF_MATCH);
		res.pa = 0x348010 | bit(45);
		res.level = 1;
		assert_int_equal(pt_diff_compare(&ctx, &READ0, PT_OK, &res, &ans, &dev), PT_DIFF_MISMATCH);
	}
	fx_deinit(&f);

	fx_init(&f, PT_MODE_LEGACY);
	ptb_map(&f.b, 0xc0000000, UINT64_C(0x1200c00000), 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	expect_caught(&f, 0xc0123456, READ0, bug_no_pse36);
	fx_deinit(&f);

	/* A deviation is not a licence: a wrong PA through a 1 GiB page is still a mismatch. */
	fx_init(&f, PT_MODE_IA32E);
	ptb_map(&f.b, 0x40000000, 0x80000000, 3, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	{
		struct pt_context ctx;
		struct pt_result res;
		struct pt_oracle_answer ans;
		enum pt_diff_deviation dev;
		enum pt_status st = walker_translate(&f, &ctx, 0x40000123, READ0, &res);
		oracle_probe(&f, 0x40000123, READ0, &ans);
		res.pa ^= 0x1000;
		assert_int_equal(pt_diff_compare(&ctx, &READ0, st, &res, &ans, &dev), PT_DIFF_MISMATCH);
	}
	fx_deinit(&f);
}

/* ---- randomized differential ------------------------------------------------------------ */

static uint64_t g_rng = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rnd(void)
{
	return ts_xorshift64(&g_rng);
}

static uint64_t canonical(const struct pt_mode_desc *d, uint64_t va)
{
	if (d->va_bits == 32)
		return va & UINT32_MAX;
	va &= bit(d->va_bits) - 1;
	if (va & bit(d->va_bits - 1))
		va |= ~UINT64_C(0) << d->va_bits;
	return va;
}

/** Random mappings (every page size the mode has, random rights) and some damage. */
static unsigned build_random(struct fx *f, uint64_t *vas, unsigned max)
{
	const struct pt_mode_desc *d = f->b.desc;
	const bool x64 = d->va_bits != 32;
	unsigned n = 0;

	for (unsigned i = 0; i < max; i++) {
		const unsigned level = 1 + (unsigned)(rnd() % (x64 ? 3 : 2));
		const uint64_t size = bit(d->level[level].va_shift);
		const uint64_t va = canonical(d, rnd()) & ~(size - 1);
		uint64_t pa = (rnd() % bit(UC_MAXPHYADDR - 1)) & ~(size - 1);
		uint64_t leaf = PTE_P | (rnd() & (PTE_RW | PTE_US | PTE_A | PTE_D | PTE_G | PTE_PWT));
		uint64_t tables = PTE_P | ((rnd() % 4) ? PTE_RW | PTE_US : rnd() & (PTE_RW | PTE_US));
		struct pt_cpu_state cpu = f->cpu;
		struct pt_context ctx;
		struct pt_result r;

		if (f->b.mode == PT_MODE_LEGACY)
			pa &= level == 1 ? UINT64_C(0xfffff000) : UINT64_C(0xffffc00000);
		if (f->b.mode != PT_MODE_LEGACY && rnd() % 3 == 0)
			leaf |= PTE_XD;
		if (x64) {
			leaf |= (rnd() & 0xf) << PTE_BIT_PKEY;
			if (rnd() % 6 == 0)
				tables |= PTE_XD;
		}
		/* Do not build under an existing leaf or past the table memory. */
		cpu.cr4 |= CR4_PSE;
		if (pt_context_init(&ctx, &cpu, ptb_mem(&f->b), NULL, NULL) != PT_OK)
			break;
		enum pt_status st = pt_walk(&ctx, ptb_mem(&f->b), va, &r);
		if (st == PT_OK || st == PT_NOT_IN_DUMP || (st == PT_FAULT && r.fault.level <= level))
			continue;
		if (f->b.next_free + 6 * 4096 > f->b.size)
			break;
		ptb_map(&f->b, va, pa, level, leaf, tables);
		vas[n++] = va + rnd() % size;
	}
	/* Damage: flip a low bit or a high (reserved, key, XD) bit of some entry on a path. */
	for (unsigned i = 0; i < 8 && n > 0; i++) {
		struct pt_context ctx;
		struct pt_result r;
		const uint64_t va = vas[rnd() % n];
		if (pt_context_init(&ctx, &f->cpu, ptb_mem(&f->b), NULL, NULL) != PT_OK)
			break;
		pt_walk(&ctx, ptb_mem(&f->b), va, &r);
		if (r.nentries == 0)
			continue;
		const unsigned k = (unsigned)(rnd() % r.nentries);
		if (f->b.mode == PT_MODE_PAE && k == 0)
			continue; /* PDPTE damage is the deviation tests' business */
		const unsigned b = d->entry_size == 4 ? (unsigned)(rnd() % 32)
						      : (rnd() % 2 ? 38 + (unsigned)(rnd() % 26)
								   : (unsigned)(rnd() % 13));
		ptb_set(&f->b, r.entry[k].pa, r.entry[k].value ^ bit(b));
	}
	return n;
}

static void test_random_differential(void **state)
{
	static const enum pt_mode modes[] = { PT_MODE_LEGACY, PT_MODE_PAE, PT_MODE_IA32E, PT_MODE_LA57 };
	const unsigned rounds = 2, probes = 2500; /* 4 modes x 2 rounds x 2500 = 20000 probes */
	unsigned long total = 0, mismatches = 0, ok = 0, faults = 0, deviations = 0, skipped = 0;
	(void)state;

	for (unsigned round = 0; round < rounds; round++) {
		for (unsigned m = 0; m < 4; m++) {
			struct fx f;
			uint64_t vas[64];
			fx_init(&f, modes[m]);
			const struct pt_mode_desc *d = f.b.desc;
			const unsigned nv = build_random(&f, vas, 64);
			for (unsigned i = 0; i < probes; i++) {
				struct pt_access a = { (enum pt_access_kind)(rnd() % 3), 0, false };
				struct pt_oracle_answer ans;
				struct pt_context ctx;
				struct pt_result res;
				enum pt_diff_deviation dev;
				uint64_t va;

				if (i % 250 == 0) {
					/* A new paging configuration. */
					f.cpu.cr0 = (f.cpu.cr0 & ~CR0_WP) | (rnd() % 4 ? CR0_WP : 0);
					f.cpu.cr4 &= ~(CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_PSE);
					f.cpu.cr4 |= rnd() & (CR4_SMEP | CR4_SMAP | CR4_PSE);
					if (d->va_bits != 32 && rnd() % 2) {
						f.cpu.cr4 |= CR4_PKE;
						f.cpu.pkru = (uint32_t)rnd();
					}
					f.cpu.efer = (f.cpu.efer & ~EFER_NXE) | (rnd() % 3 ? EFER_NXE : 0);
					f.cpu.rflags = rnd() % 2 ? RFLAGS_AC : 0;
				}
				if (nv > 0 && rnd() % 4 != 0)
					va = vas[rnd() % nv] + (rnd() % 3 == 0 ? rnd() % 0x3000 - 0x1000 : 0);
				else
					va = rnd();
				if (d->va_bits == 32)
					va &= UINT32_MAX;
				else if (rnd() % 8 != 0)
					va = canonical(d, va);
				a.cpl = (uint8_t)(rnd() % 2 ? 3 : rnd() % 3);
				/* Implicit reads at every CPL (at CPL < 3 with SMAP and AC = 1: the
				 * deviation smap-implicit-ac, see emu/diff.c). */
				if (rnd() % 8 == 0) {
					a.kind = PT_ACCESS_READ;
					a.implicit = true;
				}
				oracle_probe(&f, va, a, &ans);
				enum pt_status st = walker_translate(&f, &ctx, va, a, &res);
				enum pt_diff_verdict v = pt_diff_compare(&ctx, &a, st, &res, &ans, &dev);
				total++;
				if (ans.status == PT_OK)
					ok++;
				else
					faults++;
				if (v == PT_DIFF_DEVIATION)
					deviations++;
				if (v == PT_DIFF_SKIPPED)
					skipped++;
				if (v == PT_DIFF_MISMATCH && mismatches++ < 10)
					fprintf(stderr,
						"MISMATCH %s VA 0x%llx kind %d cpl %u implicit %d: walker %s "
						"pa 0x%llx err 0x%x lvl %u / oracle %s pa 0x%llx err 0x%x lvl %u\n",
						pt_mode_name(modes[m]), (unsigned long long)va, (int)a.kind,
						a.cpl, a.implicit, pt_status_name(st),
						(unsigned long long)res.pa, res.fault.error_code,
						st == PT_OK ? res.level : res.fault.level,
						pt_status_name(ans.status), (unsigned long long)ans.pa,
						ans.error_code, ans.level);
			}
			fx_deinit(&f);
		}
	}
	fprintf(stderr, "random differential: %lu probes, %lu translated, %lu faulted, %lu deviations, "
			"%lu skipped, %lu mismatches\n",
		total, ok, faults, deviations, skipped, mismatches);
	assert_int_equal(mismatches, 0);
	/* The probes must have exercised both outcomes. */
	assert_true(ok > total / 10);
	assert_true(faults > total / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4level_4k_2m_1g),
		cmocka_unit_test(test_5level),
		cmocka_unit_test(test_legacy_4k_and_4m),
		cmocka_unit_test(test_pae_4k_2m_nx),
		cmocka_unit_test(test_not_present_each_level),
		cmocka_unit_test(test_reserved_above_maxphyaddr),
		cmocka_unit_test(test_reserved_ps_in_pml4e),
		cmocka_unit_test(test_reserved_1g_bits_13_to_29),
		cmocka_unit_test(test_reserved_2m_and_xd_without_nxe),
		cmocka_unit_test(test_write_readonly_wp),
		cmocka_unit_test(test_user_access_to_supervisor_page),
		cmocka_unit_test(test_nx_fetch),
		cmocka_unit_test(test_smep_fetch),
		cmocka_unit_test(test_smap_read_ac),
		cmocka_unit_test(test_implicit_supervisor_read),
		cmocka_unit_test(test_noncanonical_gp),
		cmocka_unit_test(test_protection_keys),
		cmocka_unit_test(test_sme_cbit),
		cmocka_unit_test(test_pae_pdpte_rw_accepted),
		cmocka_unit_test(test_pae_pdpte_reserved_pf),
		cmocka_unit_test(test_pae_pdpte_reread),
		cmocka_unit_test(test_not_in_dump_skipped),
		cmocka_unit_test(test_oracle_entries_and_errors),
		cmocka_unit_test(test_planted_bugs_are_caught),
		cmocka_unit_test(test_random_differential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
