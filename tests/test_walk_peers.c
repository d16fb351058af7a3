/* SPDX-License-Identifier: MIT */
/*
 * test_walk_peers.c: one test per walker failure of the tools ptlab is measured against
 * (/work/shared/notes/peers.md: LibVMI file mode, Volatility 3, drgn). Each test is named after
 * the failure and is built so that a walker with that bug fails it; the expected values are
 * the SDM's (Vol. 3A, chapter 4), written as literal numbers. Enumeration and cache failures
 * are tested elsewhere.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ptbuild.h"
#include "ptlab/walk.h"

#define MEM_SIZE (UINT64_C(4) << 20) /* 4 MiB of "physical memory" */
#define TABLES_PA UINT64_C(0x10000)

static uint64_t bit(unsigned n)
{
	return UINT64_C(1) << n;
}

/* ---- CPU state -------------------------------------------------------------------------- */

enum cfg_flag {
	F_WP = 1u << 0,
	F_NXE = 1u << 1,
	F_PSE = 1u << 2,
	F_SMEP = 1u << 3,
	F_SMAP = 1u << 4,
};

/* Registers for `mode` with CR3 = the builder's root (SDM 2.5, 4.1.1 Table 4-1). */
static void mk_cpu(struct pt_cpu_state *cpu, const struct ptb *b, enum pt_mode mode, unsigned f,
		   uint8_t m, uint8_t cbit)
{
	bool lma = mode == PT_MODE_IA32E || mode == PT_MODE_LA57;

	memset(cpu, 0, sizeof *cpu);
	cpu->cr0 = bit(0) | bit(CR0_BIT_PG) | ((f & F_WP) ? bit(CR0_BIT_WP) : 0);
	cpu->cr4 = ((f & F_PSE) ? bit(CR4_BIT_PSE) : 0) |
		   (mode != PT_MODE_LEGACY ? bit(CR4_BIT_PAE) : 0) |
		   (mode == PT_MODE_LA57 ? bit(CR4_BIT_LA57) : 0) |
		   ((f & F_SMEP) ? bit(CR4_BIT_SMEP) : 0) | ((f & F_SMAP) ? bit(CR4_BIT_SMAP) : 0);
	cpu->efer = (lma ? bit(EFER_BIT_LME) | bit(EFER_BIT_LMA) : 0) |
		    ((f & F_NXE) ? bit(EFER_BIT_NXE) : 0);
	cpu->rflags = bit(1);
	cpu->maxphyaddr = m;
	cpu->cbit = cbit;
	cpu->cr3 = b->root;
}

/* ---- Outcomes and domain assertions ------------------------------------------------------ */

struct outcome {
	enum pt_status st;
	struct pt_result r;
};

static const char *got(const struct outcome *o)
{
	static char buf[256];

	switch (o->st) {
	case PT_OK:
		snprintf(buf, sizeof buf, "OK pa=0x%" PRIx64 " size=0x%" PRIx64 " level=%u in_dump=%d",
			 o->r.pa, o->r.page_size, o->r.level, o->r.pa_in_dump);
		break;
	case PT_FAULT:
		snprintf(buf, sizeof buf, "FAULT vector=%u error=0x%x level=%u", o->r.fault.vector,
			 o->r.fault.error_code, o->r.fault.level);
		break;
	case PT_NOT_IN_DUMP:
		snprintf(buf, sizeof buf, "NOT_IN_DUMP table_pa=0x%" PRIx64, o->r.table_pa);
		break;
	default:
		snprintf(buf, sizeof buf, "status %d", (int)o->st);
		break;
	}
	return buf;
}

/* cmocka's fail_msg at the caller's file and line. */
static void fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_at(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	print_error("%s\n", msg);
	_fail(file, line);
}

#define assert_pa(o, pa) do_assert_pa((o), (pa), __FILE__, __LINE__)
static void do_assert_pa(const struct outcome *o, uint64_t pa, const char *file, int line)
{
	if (o->st != PT_OK || o->r.pa != pa)
		fail_at(file, line, "expected OK pa=0x%" PRIx64 ", got %s", pa, got(o));
}

#define assert_pf(o, level, err) do_assert_pf((o), (level), (err), __FILE__, __LINE__)
static void do_assert_pf(const struct outcome *o, unsigned level, uint32_t err, const char *file,
			 int line)
{
	if (o->st != PT_FAULT || o->r.fault.vector != PT_VEC_PF || o->r.fault.level != level ||
	    o->r.fault.error_code != err)
		fail_at(file, line, "expected #PF level=%u error=0x%x, got %s", level, err,
			     got(o));
}

#define assert_gp(o) do_assert_gp((o), __FILE__, __LINE__)
static void do_assert_gp(const struct outcome *o, const char *file, int line)
{
	if (o->st != PT_FAULT || o->r.fault.vector != PT_VEC_GP || o->r.fault.error_code != 0 ||
	    o->r.fault.level != 0)
		fail_at(file, line, "expected #GP(0) before the walk, got %s", got(o));
}

#define assert_not_in_dump(o, tpa) do_assert_nid((o), (tpa), __FILE__, __LINE__)
static void do_assert_nid(const struct outcome *o, uint64_t tpa, const char *file, int line)
{
	if (o->st != PT_NOT_IN_DUMP || o->r.table_pa != tpa)
		fail_at(file, line, "expected NOT_IN_DUMP table_pa=0x%" PRIx64 ", got %s", tpa,
			     got(o));
}


static void xlate_ctx(struct pt_context *ctx, struct ptb *b, const struct pt_cpu_state *cpu)
{
	struct pt_fault f;
	uint64_t tpa = 0;

	memset(&f, 0, sizeof f);
	enum pt_status st = pt_context_init(ctx, cpu, ptb_mem(b), &f, &tpa);
	if (st != PT_OK)
		fail_msg("pt_context_init: %s (vector %u, table 0x%" PRIx64 ")", pt_status_name(st),
			 f.vector, tpa);
}

static struct outcome xlate(struct ptb *b, const struct pt_cpu_state *cpu, uint64_t va,
			    enum pt_access_kind kind, uint8_t cpl)
{
	struct pt_context ctx;
	struct pt_access a = {kind, cpl, false};
	struct outcome o;

	xlate_ctx(&ctx, b, cpu);
	memset(&o, 0, sizeof o);
	o.st = pt_translate(&ctx, ptb_mem(b), va, &a, &o.r);
	return o;
}

static struct outcome walk(struct ptb *b, const struct pt_cpu_state *cpu, uint64_t va)
{
	struct pt_context ctx;
	struct outcome o;

	xlate_ctx(&ctx, b, cpu);
	memset(&o, 0, sizeof o);
	o.st = pt_walk(&ctx, ptb_mem(b), va, &o.r);
	return o;
}


static const uint64_t URW = PTE_P | PTE_RW | PTE_US;

/* ---- LibVMI: no canonical-address check (a non-canonical VA translated as sign-extended) -- */

static void test_libvmi_noncanonical_va_translated_as_sign_extended(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;

	/* 4-level: 0xffff800000001000 is mapped; 0x0000800000001000 sign-extends to it. */
	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, UINT64_C(0xffff800000001000), 0x123000, 1, URW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, UINT64_C(0xffff800000001234), PT_ACCESS_READ, 0);
	assert_pa(&o, 0x123234); /* the canonical VA itself translates */
	o = xlate(&b, &cpu, UINT64_C(0x0000800000001234), PT_ACCESS_READ, 0);
	assert_gp(&o);
	o = xlate(&b, &cpu, UINT64_C(0x7fff800000001234), PT_ACCESS_READ, 0);
	assert_gp(&o);
	o = walk(&b, &cpu, UINT64_C(0x0000800000001234));
	assert_gp(&o);
	ptb_deinit(&b);

	/* 5-level: 0xff00000000001000 mapped; 0x0100000000001000 sign-extends (57 bits) to it. */
	ptb_init(&b, PT_MODE_LA57, MEM_SIZE, TABLES_PA);
	ptb_map(&b, UINT64_C(0xff00000000001000), 0x123000, 1, URW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_LA57, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, UINT64_C(0xff00000000001234), PT_ACCESS_READ, 0);
	assert_pa(&o, 0x123234);
	o = xlate(&b, &cpu, UINT64_C(0x0100000000001234), PT_ACCESS_READ, 0);
	assert_gp(&o);
	ptb_deinit(&b);
}

/* ---- Volatility 3: addresses masked to 48 bits rather than checked for canonical form ---- */

static void test_volatility_noncanonical_va_masked_not_checked(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;

	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, UINT64_C(0x0000123400001000), 0x123000, 1, URW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, UINT64_C(0x0000123400001abc), PT_ACCESS_READ, 3);
	assert_pa(&o, 0x123abc);
	/* the same low 48 bits with garbage above: masking would "translate" it */
	o = xlate(&b, &cpu, UINT64_C(0xdead123400001abc), PT_ACCESS_READ, 3);
	assert_gp(&o);
	o = xlate(&b, &cpu, UINT64_C(0x0001123400001abc), PT_ACCESS_READ, 3);
	assert_gp(&o);
	ptb_deinit(&b);
}

/* ---- LibVMI / Volatility: only the present bit honoured (three tests) -------------------- */

/* XD (4.6.1, NXE = 1): no instruction fetch from a page with XD = 1 at any level. */
static void test_libvmi_only_present_bit_honoured_nx_ignored(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	const uint64_t va = UINT64_C(0xffffffff81000000);

	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, 0x200000, 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	ptb_set_bits(&b, va, 3, PTE_XD); /* XD on the PDPTE only */
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va + 0x1234, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x201234);
	assert_true(o.r.rights.nx);
	o = xlate(&b, &cpu, va + 0x1234, PT_ACCESS_FETCH, 0);
	assert_pf(&o, 2, PF_ERR_P | PF_ERR_ID); /* 0x11 */
	/* PAE too (XD is bit 63 of the 8-byte entries) */
	ptb_deinit(&b);
	ptb_init(&b, PT_MODE_PAE, MEM_SIZE, TABLES_PA);
	ptb_map(&b, 0xc1000000, 0x345000, 1, PTE_P | PTE_XD, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_PAE, F_WP | F_NXE, 36, 0);
	o = xlate(&b, &cpu, 0xc1000010, PT_ACCESS_FETCH, 0);
	assert_pf(&o, 1, 0x11);
	ptb_deinit(&b);
}

/* U/S (4.6.1): user-mode accesses only to user-mode addresses (U/S = 1 at every level). */
static void test_libvmi_only_present_bit_honoured_us_ignored(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	const uint64_t va = UINT64_C(0x00007f0000400000);

	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	ptb_clear_bits(&b, va, 2, PTE_US); /* supervisor at the PDE only */
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va + 0x10, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x345010);
	assert_false(o.r.rights.user);
	o = xlate(&b, &cpu, va + 0x10, PT_ACCESS_READ, 3);
	assert_pf(&o, 1, PF_ERR_P | PF_ERR_U); /* 0x5 */
	ptb_deinit(&b);
	/* 32-bit paging */
	ptb_init(&b, PT_MODE_LEGACY, MEM_SIZE, TABLES_PA);
	ptb_map(&b, 0xc0001000, 0x345000, 1, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_LEGACY, F_WP, 32, 0);
	o = xlate(&b, &cpu, 0xc0001010, PT_ACCESS_WRITE, 3);
	assert_pf(&o, 1, 0x7);
	ptb_deinit(&b);
}

/* R/W (4.6.1): user writes need R/W = 1 at every level; supervisor writes too when CR0.WP = 1. */
static void test_libvmi_only_present_bit_honoured_rw_ignored(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	const uint64_t va = UINT64_C(0x00007f0000400000);

	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	ptb_clear_bits(&b, va, 4, PTE_RW); /* read-only at the PML4E only */
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va + 0x10, PT_ACCESS_READ, 3);
	assert_pa(&o, 0x345010);
	assert_false(o.r.rights.writable);
	o = xlate(&b, &cpu, va + 0x10, PT_ACCESS_WRITE, 3);
	assert_pf(&o, 1, PF_ERR_P | PF_ERR_W | PF_ERR_U); /* 0x7 */
	o = xlate(&b, &cpu, va + 0x10, PT_ACCESS_WRITE, 0);
	assert_pf(&o, 1, PF_ERR_P | PF_ERR_W); /* 0x3, CR0.WP = 1 */
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_NXE, 52, 0);
	o = xlate(&b, &cpu, va + 0x10, PT_ACCESS_WRITE, 0);
	assert_pa(&o, 0x345010); /* CR0.WP = 0: supervisor writes allowed */
	ptb_deinit(&b);
}

/* ---- LibVMI: frames masked to bit 51 whatever MAXPHYADDR (two ways it goes wrong) -------- */

/* With MAXPHYADDR = 46, bits 51:46 are reserved (Tables 4-15..4-20): a #PF with RSVD, not an
 * address bit. */
static void test_libvmi_frame_mask_bit51_reserved_bit_taken_as_address(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	const uint64_t va = UINT64_C(0xffff888000123000);

	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 46, 0);
	o = xlate(&b, &cpu, va + 0x678, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x345678);
	ptb_set_bits(&b, va, 1, bit(47)); /* leaf: bit 47 >= M */
	o = xlate(&b, &cpu, va + 0x678, PT_ACCESS_READ, 0);
	assert_pf(&o, 1, PF_ERR_P | PF_ERR_RSVD); /* 0x9, not PA 0x800000345678 */
	ptb_clear_bits(&b, va, 1, bit(47));
	ptb_set_bits(&b, va, 3, bit(50)); /* a table pointer */
	o = xlate(&b, &cpu, va + 0x678, PT_ACCESS_WRITE, 3);
	assert_pf(&o, 3, PF_ERR_P | PF_ERR_W | PF_ERR_U | PF_ERR_RSVD); /* 0xf */
	ptb_clear_bits(&b, va, 3, bit(50));
	/* with M = 52 the same bit 47 is an address bit */
	ptb_set_bits(&b, va, 1, bit(47));
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va + 0x678, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x800000345678));
	assert_false(o.r.pa_in_dump);
	ptb_deinit(&b);
}

/* SME: the C-bit is stripped from every entry and CR3; it is not an address bit even when it
 * is below 52. */
static void test_libvmi_frame_mask_bit51_cbit_taken_as_address(void **state)
{
	static const uint8_t cbits[] = {47, 51};
	const uint64_t va = UINT64_C(0xffffffff81234000);

	for (size_t i = 0; i < 2; i++) {
		struct ptb b;
		struct pt_cpu_state cpu;
		struct outcome o;
		uint64_t c = bit(cbits[i]);

		ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
		ptb_map(&b, va, 0x345000, 1, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
		for (unsigned level = 1; level <= 4; level++) /* bottom-up: the builder follows */
			ptb_set_bits(&b, va, level, c);     /* pointers with bits 51:12 */
		mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, cbits[i]);
		cpu.cr3 |= c;
		o = xlate(&b, &cpu, va + 0x567, PT_ACCESS_READ, 0);
		assert_pa(&o, 0x345567);
		assert_true(o.r.pa_in_dump);
		/* and above a small MAXPHYADDR it is not reserved either */
		mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 43, cbits[i]);
		cpu.cr3 |= c;
		o = xlate(&b, &cpu, va + 0x567, PT_ACCESS_READ, 0);
		assert_pa(&o, 0x345567);
		ptb_deinit(&b);
	}
}

/* ---- LibVMI: no 5-level paging; Volatility: the PML5 walked as a PML4 ------------------- */

static void test_libvmi_no_5level_paging(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	/* PML5 index 0x1fe, PML4 0x1ff, PDPT 0x1ff, PD 0x008, PT 0x123 */
	const uint64_t va = UINT64_C(0xfffeffffc1123000);

	ptb_init(&b, PT_MODE_LA57, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_LA57, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va + 0x9ab, PT_ACCESS_READ, 3);
	assert_pa(&o, 0x3459ab);
	assert_int_equal(o.r.nentries, 5);
	assert_int_equal(o.r.entry[0].level, 5);
	assert_int_equal(o.r.entry[0].pa, b.root + 0x1fe * 8);
	/* a VA whose bits 56:48 are all that differ is a different mapping */
	o = xlate(&b, &cpu, va - (UINT64_C(1) << 48) + 0x9ab, PT_ACCESS_READ, 3);
	assert_pf(&o, 5, PF_ERR_U);
	/* a VA 4-level paging rejects as non-canonical is valid under LA57 */
	ptb_map(&b, UINT64_C(0x0000800000000000), 0x346000, 1, URW, PTB_TABLE_FLAGS);
	o = xlate(&b, &cpu, UINT64_C(0x0000800000000010), PT_ACCESS_READ, 3);
	assert_pa(&o, 0x346010);
	ptb_deinit(&b);
}

static void test_volatility_la57_pml5_walked_as_pml4(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	/* canonical under both 4- and 5-level paging: PML5 0x000, PML4 0x0ff, PDPT/PD/PT 1 */
	const uint64_t va = UINT64_C(0x00007f8040201000);
	uint64_t pdpt, pd, pt;

	ptb_init(&b, PT_MODE_LA57, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	/* the decoy: the PML5 read as a PML4 (index 0x0ff) leads to another page */
	pdpt = ptb_alloc_page(&b);
	pd = ptb_alloc_page(&b);
	pt = ptb_alloc_page(&b);
	ptb_set(&b, b.root + 0x0ff * 8, pdpt | URW);
	ptb_set(&b, pdpt + 1 * 8, pd | URW);
	ptb_set(&b, pd + 1 * 8, pt | URW);
	ptb_set(&b, pt + 1 * 8, 0x0bad000 | URW);

	mk_cpu(&cpu, &b, PT_MODE_LA57, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va + 0x42, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x345042);
	/* the same memory under 4-level paging does reach the decoy: the trap is real */
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va + 0x42, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x0bad042);
	ptb_deinit(&b);
}

/* ---- LibVMI: PAE truncates frames above 4 GiB -------------------------------------------- */

static void test_libvmi_pae_truncates_frames_above_4gib(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;

	ptb_init(&b, PT_MODE_PAE, MEM_SIZE, TABLES_PA);
	ptb_map(&b, 0xc0001000, UINT64_C(0x923456000), 1, URW, PTB_TABLE_FLAGS);
	ptb_map(&b, 0xc0400000, UINT64_C(0x9e0000000), 2, URW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_PAE, F_WP | F_NXE, 36, 0);
	o = xlate(&b, &cpu, 0xc0001abc, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x923456abc));
	assert_false(o.r.pa_in_dump);
	o = xlate(&b, &cpu, 0xc0512345, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x9e0112345));
	assert_int_equal(o.r.page_size, 2 << 20);
	/* a page table above 4 GiB too: not in this dump, and said so with its full address */
	ptb_map(&b, 0xc0800000, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	ptb_set(&b, ptb_entry_pa(&b, 0xc0800000, 2), UINT64_C(0x900010000) | URW);
	o = xlate(&b, &cpu, 0xc0800000, PT_ACCESS_READ, 0);
	assert_not_in_dump(&o, UINT64_C(0x900010000));
	ptb_deinit(&b);
}

/* ---- LibVMI: a non-present PAE PDPTE "translates" to PA 0 ------------------------------- */

static void test_libvmi_pae_nonpresent_pdpte_translates_to_pa0(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;

	ptb_init(&b, PT_MODE_PAE, MEM_SIZE, TABLES_PA);
	ptb_map(&b, 0xc0001000, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	/* PDPTE 1 (VA 0x40000000..0x7fffffff) is not present; PA 0 holds something */
	b.mem[0] = 0x5a;
	mk_cpu(&cpu, &b, PT_MODE_PAE, F_WP | F_NXE, 36, 0);
	o = xlate(&b, &cpu, 0x40000000, PT_ACCESS_READ, 0);
	assert_pf(&o, 3, 0);
	assert_int_equal(o.r.fault.entry_pa, b.root + 8);
	o = xlate(&b, &cpu, 0x40000123, PT_ACCESS_WRITE, 3);
	assert_pf(&o, 3, PF_ERR_W | PF_ERR_U);
	o = walk(&b, &cpu, 0x7fffffff);
	assert_int_equal(o.st, PT_FAULT);
	assert_int_equal(o.r.fault.level, 3);
	ptb_deinit(&b);
}

/* ---- QEMU dumps of PAE guests: QEMU wrote Accessed into the PDPTE ------------------------ */

/* QEMU's PAE walker sets bit 5 of the PDPTE it uses, a reserved bit there (SDM Table 4-8), so a
 * MOV to CR3 over the dumped bytes would #GP; the CPU's PDPTE registers never held it (seen on
 * Debian's 686-pae under QEMU 7.2). A QEMU dump reader says so (pdpte_written_by_dumper), and
 * only that bit is forgiven. */
static void test_qemu_pae_pdpte_accessed_bit(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct pt_context ctx;
	struct pt_fault fault;
	struct outcome o;

	(void)state;
	ptb_init(&b, PT_MODE_PAE, MEM_SIZE, TABLES_PA);
	ptb_map(&b, 0xc0001000, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	ptb_set_bits(&b, 0xc0001000, 3, PT_QEMU_PDPTE_A);
	mk_cpu(&cpu, &b, PT_MODE_PAE, F_WP | F_NXE, 36, 0);
	assert_int_equal(pt_context_init(&ctx, &cpu, ptb_mem(&b), &fault, NULL), PT_FAULT);
	assert_int_equal(fault.vector, PT_VEC_GP);
	assert_int_equal(fault.entry_pa, b.root + 8 * 3);
	cpu.pdpte_written_by_dumper = PT_QEMU_PDPTE_A;
	o = xlate(&b, &cpu, 0xc0001abc, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x345abc);
	/* another reserved PDPTE bit (6) is still a #GP */
	ptb_set_bits(&b, 0xc0001000, 3, UINT64_C(1) << 6);
	assert_int_equal(pt_context_init(&ctx, &cpu, ptb_mem(&b), &fault, NULL), PT_FAULT);
	ptb_deinit(&b);
}

/* ---- LibVMI: legacy 32-bit walks the directory at PA 0 ---------------------------------- */

static void test_libvmi_legacy_walks_directory_at_pa0(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	const uint64_t va = 0xc0123456;

	/* the real directory at 0x5000; a plausible fake one at PA 0 mapping va elsewhere */
	ptb_init(&b, PT_MODE_LEGACY, MEM_SIZE, 0x5000);
	assert_int_equal(b.root, 0x5000);
	ptb_map(&b, va, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	ptb_set(&b, 0 + (va >> 22) * 4, 0x1000 | URW);
	ptb_set(&b, 0x1000 + ((va >> 12) & 0x3ff) * 4, 0x0bad000 | URW);
	mk_cpu(&cpu, &b, PT_MODE_LEGACY, F_WP, 32, 0);
	o = xlate(&b, &cpu, va, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x345456);
	assert_int_equal(o.r.entry[0].pa, 0x5000 + (va >> 22) * 4);
	/* and a VA mapped only in the fake directory is not mapped */
	ptb_set(&b, 0 + (0x08048000 >> 22) * 4, 0x1000 | URW);
	o = xlate(&b, &cpu, 0x08048000, PT_ACCESS_READ, 0);
	assert_pf(&o, 2, 0);
	ptb_deinit(&b);
}

/* ---- LibVMI: a leaf frame past the end of the image still "translates" unflagged -------- */

static void test_libvmi_leaf_frame_past_image_end_unflagged(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	const uint64_t va = UINT64_C(0xffff888000400000);

	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, MEM_SIZE - 0x1000, 1, URW, PTB_TABLE_FLAGS); /* last page: in */
	ptb_map(&b, va + 0x1000, MEM_SIZE, 1, URW, PTB_TABLE_FLAGS); /* first page past the end */
	ptb_map(&b, va + 0x200000, UINT64_C(0x7fe00000), 2, URW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va + 0xfff, PT_ACCESS_READ, 0);
	assert_pa(&o, MEM_SIZE - 1);
	assert_true(o.r.pa_in_dump);
	o = xlate(&b, &cpu, va + 0x1000, PT_ACCESS_READ, 0);
	assert_pa(&o, MEM_SIZE); /* the PA is right ... */
	assert_false(o.r.pa_in_dump); /* ... and flagged */
	o = xlate(&b, &cpu, va + 0x212345, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x7fe12345));
	assert_false(o.r.pa_in_dump);
	ptb_deinit(&b);
}

/* ---- drgn: a page table missing from the dump is not a page fault ------------------------ */

static void test_drgn_missing_page_table_is_not_a_fault(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	const uint64_t va = UINT64_C(0xffffffff81000000);

	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	ptb_set(&b, ptb_entry_pa(&b, va, 2), UINT64_C(0x80000000) | URW); /* PT at 2 GiB */
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va, PT_ACCESS_READ, 0);
	assert_not_in_dump(&o, UINT64_C(0x80000000));
	o = walk(&b, &cpu, va);
	assert_not_in_dump(&o, UINT64_C(0x80000000));
	ptb_deinit(&b);
}

/* ---- Volatility: PAT bit stripped or taken as an address bit on large pages -------------- */

static void test_volatility_pat_bit_on_large_pages(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	const uint64_t va2m = UINT64_C(0xffff888000200000), va1g = UINT64_C(0xffff888040000000);
	const uint64_t va4k = UINT64_C(0xffff888000001000);

	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va2m, UINT64_C(0x12345600000), 2, URW | PTE_PAT_LARGE, PTB_TABLE_FLAGS);
	ptb_map(&b, va1g, UINT64_C(0x3c0000000), 3, URW | PTE_PAT_LARGE, PTB_TABLE_FLAGS);
	ptb_map(&b, va4k, 0x345000, 1, URW | PTE_PAT, PTB_TABLE_FLAGS); /* PTE bit 7 = PAT */
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va2m + 0x1abcde, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x123457abcde)); /* not ...7bcde: bit 12 is not an address bit */
	assert_int_equal(o.r.page_size, 2 << 20);
	o = xlate(&b, &cpu, va1g + 0x3ffff123, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x3fffff123));
	assert_int_equal(o.r.page_size, UINT64_C(1) << 30);
	o = xlate(&b, &cpu, va4k + 0x10, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x345010);
	assert_int_equal(o.r.page_size, 4096);
	ptb_deinit(&b);

	/* PAE 2 MiB and 32-bit 4 MiB pages (bit 12 PAT next to the PSE-36 bits 20:13) */
	ptb_init(&b, PT_MODE_PAE, MEM_SIZE, TABLES_PA);
	ptb_map(&b, 0xc0400000, UINT64_C(0x9e0000000), 2, URW | PTE_PAT_LARGE, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_PAE, F_WP | F_NXE, 36, 0);
	o = xlate(&b, &cpu, 0xc0400123, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x9e0000123));
	ptb_deinit(&b);
	ptb_init(&b, PT_MODE_LEGACY, MEM_SIZE, TABLES_PA);
	ptb_set(&b, b.root + (0xc0000000u >> 22) * 4,
		0x00c00000 | (0x3u << 13) | PTE_PAT_LARGE | PTE_PS | URW); /* PA 0x300c00000 */
	mk_cpu(&cpu, &b, PT_MODE_LEGACY, F_WP | F_PSE, 40, 0);
	o = xlate(&b, &cpu, 0xc0000123, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x300c00123));
	ptb_deinit(&b);
}

/* ---- Volatility: no PSE-36 --------------------------------------------------------------- */

static void test_volatility_no_pse36(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;

	ptb_init(&b, PT_MODE_LEGACY, MEM_SIZE, TABLES_PA);
	/* 4 MiB page at PA 0x12_c0000000: entry bits 31:22 = 0xc00, bits 20:13 = 0x12 */
	ptb_set(&b, b.root + (0x80000000u >> 22) * 4, 0xc0024000u | PTE_PS | URW);
	mk_cpu(&cpu, &b, PT_MODE_LEGACY, F_WP | F_PSE, 40, 0);
	o = xlate(&b, &cpu, 0x80123456, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x12c0123456));
	assert_int_equal(o.r.page_size, 4 << 20);
	/* with MAXPHYADDR 36, PA bits 35:32 only: bit 17 (PA bit 36) is reserved */
	mk_cpu(&cpu, &b, PT_MODE_LEGACY, F_WP | F_PSE, 36, 0);
	o = xlate(&b, &cpu, 0x80123456, PT_ACCESS_READ, 0);
	assert_pf(&o, 2, PF_ERR_P | PF_ERR_RSVD);
	/* the builder agrees on the encoding (Table 4-5) */
	ptb_map(&b, 0x40000000, UINT64_C(0x5c0000000), 2, URW, PTB_TABLE_FLAGS);
	o = xlate(&b, &cpu, 0x40000abc, PT_ACCESS_READ, 0);
	assert_pa(&o, UINT64_C(0x5c0000abc));
	ptb_deinit(&b);
}

/* ---- Volatility: PS on a PML4E taken as a large page ------------------------------------- */

static void test_volatility_ps_on_pml4e_taken_as_large_page(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;
	const uint64_t va = UINT64_C(0xffff888000123000);

	ptb_init(&b, PT_MODE_IA32E, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	ptb_set_bits(&b, va, 4, PTE_PS); /* Table 4-15: PML4E bit 7 reserved */
	mk_cpu(&cpu, &b, PT_MODE_IA32E, F_WP | F_NXE, 52, 0);
	o = xlate(&b, &cpu, va, PT_ACCESS_READ, 0);
	assert_pf(&o, 4, PF_ERR_P | PF_ERR_RSVD);
	o = walk(&b, &cpu, va);
	assert_int_equal(o.st, PT_FAULT);
	assert_int_equal(o.r.fault.level, 4);
	ptb_deinit(&b);

	/* PML5E (Table 4-14) and the PML4E under 5-level paging */
	ptb_init(&b, PT_MODE_LA57, MEM_SIZE, TABLES_PA);
	ptb_map(&b, va, 0x345000, 1, URW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_LA57, F_WP | F_NXE, 52, 0);
	ptb_set_bits(&b, va, 5, PTE_PS);
	o = xlate(&b, &cpu, va, PT_ACCESS_WRITE, 3);
	assert_pf(&o, 5, PF_ERR_P | PF_ERR_W | PF_ERR_U | PF_ERR_RSVD);
	ptb_clear_bits(&b, va, 5, PTE_PS);
	ptb_set_bits(&b, va, 4, PTE_PS);
	o = xlate(&b, &cpu, va, PT_ACCESS_READ, 0);
	assert_pf(&o, 4, PF_ERR_P | PF_ERR_RSVD);
	ptb_deinit(&b);
}

/* ---- LibVMI: a legacy 4 MiB page reports PA = VA ---------------------------------------- */

static void test_libvmi_legacy_4mib_page_reports_pa_equals_va(void **state)
{
	struct ptb b;
	struct pt_cpu_state cpu;
	struct outcome o;

	ptb_init(&b, PT_MODE_LEGACY, MEM_SIZE, TABLES_PA);
	ptb_map(&b, 0xc0000000, 0x00000000, 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	ptb_map(&b, 0xc0400000, 0x00400000, 2, PTE_P | PTE_RW, PTB_TABLE_FLAGS);
	ptb_map(&b, 0x08000000, 0x01c00000, 2, URW, PTB_TABLE_FLAGS);
	mk_cpu(&cpu, &b, PT_MODE_LEGACY, F_WP | F_PSE, 36, 0);
	o = xlate(&b, &cpu, 0xc0523456, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x00523456);
	assert_int_equal(o.r.page_size, 4 << 20);
	assert_int_equal(o.r.level, 2);
	o = xlate(&b, &cpu, 0xc0000010, PT_ACCESS_READ, 0);
	assert_pa(&o, 0x10);
	o = xlate(&b, &cpu, 0x08048123, PT_ACCESS_READ, 3);
	assert_pa(&o, 0x01c48123);
	ptb_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libvmi_noncanonical_va_translated_as_sign_extended),
		cmocka_unit_test(test_volatility_noncanonical_va_masked_not_checked),
		cmocka_unit_test(test_libvmi_only_present_bit_honoured_nx_ignored),
		cmocka_unit_test(test_libvmi_only_present_bit_honoured_us_ignored),
		cmocka_unit_test(test_libvmi_only_present_bit_honoured_rw_ignored),
		cmocka_unit_test(test_libvmi_frame_mask_bit51_reserved_bit_taken_as_address),
		cmocka_unit_test(test_libvmi_frame_mask_bit51_cbit_taken_as_address),
		cmocka_unit_test(test_libvmi_no_5level_paging),
		cmocka_unit_test(test_volatility_la57_pml5_walked_as_pml4),
		cmocka_unit_test(test_libvmi_pae_truncates_frames_above_4gib),
		cmocka_unit_test(test_libvmi_pae_nonpresent_pdpte_translates_to_pa0),
		cmocka_unit_test(test_libvmi_legacy_walks_directory_at_pa0),
		cmocka_unit_test(test_libvmi_leaf_frame_past_image_end_unflagged),
		cmocka_unit_test(test_drgn_missing_page_table_is_not_a_fault),
		cmocka_unit_test(test_volatility_pat_bit_on_large_pages),
		cmocka_unit_test(test_volatility_no_pse36),
		cmocka_unit_test(test_qemu_pae_pdpte_accessed_bit),
		cmocka_unit_test(test_volatility_ps_on_pml4e_taken_as_large_page),
		cmocka_unit_test(test_libvmi_legacy_4mib_page_reports_pa_equals_va),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
