/* SPDX-License-Identifier: MIT */
/*
 * test_walk_sdm.c: the walker against the Intel SDM, Vol. 3A, chapter 4, table-driven.
 *
 * Two kinds of cases:
 *  - spot cases (g_spots[]): hand-written, every expected value a literal number taken from
 *    the SDM text (exact PA, exact vector / error code / level). Each spot is also fed to the
 *    oracle below, so the spots check the oracle as much as the walker.
 *  - families: generated systematically (mode x page size x level x bit x access x CPL x
 *    WP/NXE/SMEP/SMAP/AC/PKE/MAXPHYADDR/C-bit); the expectation comes from oracle(), a small
 *    independent reading of the SDM written for this test. It reads the built memory itself
 *    and never calls walker internals (only the public entry points are under test).
 *
 * The builder (ptbuild.h) only allocates tables: every entry on a tested path is written
 * here, and where the builder placed it is cross-checked against our own index arithmetic.
 *
 * Mismatches are reported one per line with the case description ("MISMATCH [...]"), all of
 * them (up to a limit), and each test function fails at its end if any were found.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ptbuild.h"
#include "ptlab/walk.h"

/* ---- Test memory layout ---------------------------------------------------------------- */

#define MEM_SIZE (UINT64_C(8) << 20) /* 8 MiB of "physical memory" */
#define TABLES_PA UINT64_C(0x10000)  /* the builder allocates tables from here */
#define MAX_PRINT 40                /* mismatches printed per test function */

static uint64_t bit(unsigned n)
{
	return UINT64_C(1) << n;
}

/* Mask of bits hi..lo inclusive (empty when hi < lo). */
static uint64_t bits(unsigned hi, unsigned lo)
{
	if (hi < lo || lo > 63)
		return 0;
	uint64_t top = hi >= 63 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1;
	return top & ~((UINT64_C(1) << lo) - 1);
}

/* ---- Soft assertions: every mismatch is printed with the case that produced it ---------- */

static unsigned long g_cases;     /* cases run, all tests */
static unsigned long g_fail;      /* mismatches in the current test function */
static unsigned long g_fail_all;  /* mismatches, all tests */
static char g_desc[384];          /* description of the current case */

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	va_list ap;

	g_fail++;
	g_fail_all++;
	if (g_fail > MAX_PRINT)
		return;
	fprintf(stderr, "MISMATCH [%s]: ", g_desc);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static unsigned long g_cases_at_begin;

static void begin(void)
{
	g_fail = 0;
	g_cases_at_begin = g_cases;
}

static void finish(void)
{
	printf("    %lu cases\n", g_cases - g_cases_at_begin);
	/* A test function whose case list came out empty checks nothing: that is a failure. */
	if (g_cases == g_cases_at_begin)
		fail_msg("no case ran: this test checks nothing");
	if (g_fail > MAX_PRINT)
		fprintf(stderr, "... %lu mismatches in this test (first %d printed)\n", g_fail,
			MAX_PRINT);
	if (g_fail)
		fail_msg("%lu mismatches", g_fail);
}

/* A walker answer: the status and the result (the result alone does not carry the status). */
struct outcome {
	enum pt_status st;
	struct pt_result r;
};

static const char *got(const struct outcome *o)
{
	static char buf[256];

	switch (o->st) {
	case PT_OK:
		snprintf(buf, sizeof buf, "OK pa=0x%" PRIx64 " size=0x%" PRIx64 " level=%u",
			 o->r.pa, o->r.page_size, o->r.level);
		break;
	case PT_FAULT:
		snprintf(buf, sizeof buf,
			 "FAULT vector=%u error=0x%x level=%u entry_pa=0x%" PRIx64
			 " entry=0x%" PRIx64,
			 o->r.fault.vector, o->r.fault.error_code, o->r.fault.level,
			 o->r.fault.entry_pa, o->r.fault.entry);
		break;
	case PT_NOT_IN_DUMP:
		snprintf(buf, sizeof buf, "NOT_IN_DUMP table_pa=0x%" PRIx64, o->r.table_pa);
		break;
	default:
		snprintf(buf, sizeof buf, "status %d (%s)", (int)o->st, pt_status_name(o->st));
		break;
	}
	return buf;
}

/* Domain helpers. Each returns whether it held. */

static bool assert_status(const struct outcome *o, enum pt_status want)
{
	if (o->st == want)
		return true;
	failf("expected status %s, got %s", pt_status_name(want), got(o));
	return false;
}

static bool assert_pa(const struct outcome *o, uint64_t pa)
{
	if (o->st == PT_OK && o->r.pa == pa)
		return true;
	failf("expected OK pa=0x%" PRIx64 ", got %s", pa, got(o));
	return false;
}

static bool assert_pf(const struct outcome *o, unsigned level, uint32_t error_code)
{
	if (o->st == PT_FAULT && o->r.fault.vector == PT_VEC_PF && o->r.fault.level == level &&
	    o->r.fault.error_code == error_code)
		return true;
	failf("expected #PF level=%u error=0x%x, got %s", level, error_code, got(o));
	return false;
}

static bool assert_gp(const struct outcome *o)
{
	if (o->st == PT_FAULT && o->r.fault.vector == PT_VEC_GP && o->r.fault.error_code == 0 &&
	    o->r.fault.level == 0)
		return true;
	failf("expected #GP(0) level 0 before the walk, got %s", got(o));
	return false;
}

static bool assert_not_in_dump(const struct outcome *o, uint64_t table_pa)
{
	if (o->st == PT_NOT_IN_DUMP && o->r.table_pa == table_pa)
		return true;
	failf("expected NOT_IN_DUMP table_pa=0x%" PRIx64 ", got %s", table_pa, got(o));
	return false;
}

static void assert_mapping(const struct outcome *o, uint64_t page_size, unsigned level)
{
	if (o->r.page_size != page_size || o->r.level != level)
		failf("expected page_size=0x%" PRIx64 " level=%u, got page_size=0x%" PRIx64
		      " level=%u",
		      page_size, level, o->r.page_size, o->r.level);
}

static void assert_rights(const struct outcome *o, const struct pt_rights *want)
{
	const struct pt_rights *g = &o->r.rights;

	if (g->writable != want->writable || g->user != want->user || g->nx != want->nx ||
	    g->pkey != want->pkey)
		failf("expected rights w=%d u=%d nx=%d pkey=%u, got w=%d u=%d nx=%d pkey=%u",
		      want->writable, want->user, want->nx, want->pkey, g->writable, g->user,
		      g->nx, g->pkey);
}

static void assert_in_dump(const struct outcome *o, bool in_dump)
{
	if (o->r.pa_in_dump != in_dump)
		failf("expected pa_in_dump=%d for pa=0x%" PRIx64 ", got %d", in_dump, o->r.pa,
		      o->r.pa_in_dump);
}

static void assert_fault_entry(const struct outcome *o, uint64_t entry_pa, uint64_t entry)
{
	if (o->r.fault.entry_pa != entry_pa || o->r.fault.entry != entry)
		failf("expected fault entry_pa=0x%" PRIx64 " entry=0x%" PRIx64
		      ", got entry_pa=0x%" PRIx64 " entry=0x%" PRIx64,
		      entry_pa, entry, o->r.fault.entry_pa, o->r.fault.entry);
}

/* ---- CPU configuration ----------------------------------------------------------------- */

enum cfg_flag {
	F_WP = 1u << 0,
	F_NXE = 1u << 1,
	F_PSE = 1u << 2,
	F_SMEP = 1u << 3,
	F_SMAP = 1u << 4,
	F_PKE = 1u << 5,
	F_AC = 1u << 6,
	F_PCIDE = 1u << 7,
};

/* One paging configuration, as the test sees it (folded by mk_cpu into raw registers). */
struct ocfg {
	enum pt_mode mode;
	unsigned f; /* enum cfg_flag */
	uint32_t pkru;
	uint8_t m;    /* MAXPHYADDR */
	uint8_t cbit; /* 0 = no SME */
	uint64_t cr3;
};

static bool is64(enum pt_mode mode)
{
	return mode == PT_MODE_IA32E || mode == PT_MODE_LA57;
}

static const char *flags_str(unsigned f)
{
	static char buf[96];
	static const char *const names[] = {"WP", "NXE", "PSE", "SMEP", "SMAP", "PKE", "AC", "PCIDE"};

	buf[0] = 0;
	for (unsigned i = 0; i < 8; i++) {
		if (f & (1u << i)) {
			if (buf[0])
				strcat(buf, "|");
			strcat(buf, names[i]);
		}
	}
	if (!buf[0])
		strcpy(buf, "-");
	return buf;
}

static const char *acc_str(const struct pt_access *a)
{
	static char buf[32];
	static const char *const k[] = {"read", "write", "fetch"};

	snprintf(buf, sizeof buf, "%s/cpl%u%s", k[a->kind], a->cpl, a->implicit ? "/implicit" : "");
	return buf;
}

/* Raw register values for a configuration (SDM 2.5 and 4.1.1, Table 4-1). */
static void mk_cpu(struct pt_cpu_state *cpu, const struct ocfg *c)
{
	memset(cpu, 0, sizeof *cpu);
	cpu->cr0 = bit(0) | bit(CR0_BIT_PG) | ((c->f & F_WP) ? bit(CR0_BIT_WP) : 0);
	cpu->cr4 = ((c->f & F_PSE) ? bit(CR4_BIT_PSE) : 0) |
		   (c->mode != PT_MODE_LEGACY ? bit(CR4_BIT_PAE) : 0) |
		   (c->mode == PT_MODE_LA57 ? bit(CR4_BIT_LA57) : 0) |
		   ((c->f & F_PCIDE) ? bit(CR4_BIT_PCIDE) : 0) |
		   ((c->f & F_SMEP) ? bit(CR4_BIT_SMEP) : 0) |
		   ((c->f & F_SMAP) ? bit(CR4_BIT_SMAP) : 0) | ((c->f & F_PKE) ? bit(CR4_BIT_PKE) : 0);
	cpu->efer = (is64(c->mode) ? bit(EFER_BIT_LME) | bit(EFER_BIT_LMA) : 0) |
		    ((c->f & F_NXE) ? bit(EFER_BIT_NXE) : 0);
	cpu->rflags = bit(1) | ((c->f & F_AC) ? bit(RFLAGS_BIT_AC) : 0);
	cpu->pkru = c->pkru;
	cpu->maxphyaddr = c->m;
	cpu->cbit = c->cbit;
	cpu->cr3 = c->cr3;
}

/* ---- The oracle: SDM Vol. 3A, 4.3-4.7, independently of the walker --------------------- */

static unsigned o_levels(enum pt_mode mode)
{
	switch (mode) {
	case PT_MODE_LEGACY: return 2;
	case PT_MODE_PAE: return 3;
	case PT_MODE_IA32E: return 4;
	case PT_MODE_LA57: return 5;
	default: return 0;
	}
}

static unsigned o_esize(enum pt_mode mode)
{
	return mode == PT_MODE_LEGACY ? 4 : 8;
}

/* Lowest linear-address bit translated by an entry at `level` (4.3: 22/12; 4.4, 4.5: 9 each). */
static unsigned o_shift(enum pt_mode mode, unsigned level)
{
	if (mode == PT_MODE_LEGACY)
		return level == 2 ? 22 : 12;
	return 12 + 9 * (level - 1);
}

static unsigned o_index(enum pt_mode mode, unsigned level, uint64_t va)
{
	if (mode == PT_MODE_LEGACY)
		return (unsigned)((va >> o_shift(mode, level)) & 0x3ff);
	if (mode == PT_MODE_PAE && level == 3)
		return (unsigned)((va >> 30) & 3);
	return (unsigned)((va >> o_shift(mode, level)) & 0x1ff);
}

/* Can an entry with PS = 1 at `level` map a page? (4.3: CR4.PSE; 4.4: PDE; 4.5: PDE, PDPTE) */
static bool o_may_map(const struct ocfg *c, unsigned level)
{
	switch (c->mode) {
	case PT_MODE_LEGACY: return level == 2 && (c->f & F_PSE);
	case PT_MODE_PAE: return level == 2;
	default: return level == 2 || level == 3;
	}
}

/*
 * Reserved bits of a present entry (M = MAXPHYADDR):
 *  32-bit (Table 4-4..4-6): none, except a 4-MByte PDE: bit 21 and bits 20:(M'-19), M' = min(M,40).
 *  PAE (Tables 4-8..4-11): PDPTE bits 2:1, 8:5, 63:M; PDE/PTE bits 62:M, bit 63 if NXE = 0,
 *    2-MByte PDE also bits 20:13.
 *  4-/5-level (Tables 4-14..4-20): bits 51:M, bit 63 if NXE = 0; PS (bit 7) of PML5E/PML4E;
 *    1-GByte PDPTE bits 29:13; 2-MByte PDE bits 20:13.
 */
static uint64_t o_rsvd(const struct ocfg *c, unsigned level, bool leaf)
{
	bool nxe = c->f & F_NXE;
	unsigned m = c->m;
	uint64_t r;

	switch (c->mode) {
	case PT_MODE_LEGACY:
		if (level == 2 && leaf) {
			unsigned m40 = m < 40 ? m : 40;
			return bit(21) | bits(20, m40 - 19);
		}
		return 0;
	case PT_MODE_PAE:
		if (level == 3)
			return bits(2, 1) | bits(8, 5) | bits(63, m);
		r = bits(62, m) | (nxe ? 0 : bit(63));
		if (level == 2 && leaf)
			r |= bits(20, 13);
		return r;
	default:
		r = bits(51, m) | (nxe ? 0 : bit(63));
		if (level >= 4)
			r |= bit(7);
		if (level == 3 && leaf)
			r |= bits(29, 13);
		if (level == 2 && leaf)
			r |= bits(20, 13);
		return r;
	}
}

static uint64_t o_table_frame(const struct ocfg *c, uint64_t e)
{
	return c->mode == PT_MODE_LEGACY ? (e & 0xfffff000u) : (e & bits(c->m - 1, 12));
}

/* Frame of a page mapped by a (valid) leaf at `level`. */
static uint64_t o_page_frame(const struct ocfg *c, unsigned level, uint64_t e)
{
	if (c->mode == PT_MODE_LEGACY) {
		if (level == 2) /* 4 MiB: PA 31:22 from 31:22, PA 39:32 from 20:13 (PSE-36) */
			return (e & 0xffc00000u) | (((e >> 13) & 0xff) << 32);
		return e & 0xfffff000u;
	}
	return e & bits(c->m - 1, o_shift(c->mode, level));
}

/* Root table from CR3 (Tables 4-3, 4-7, 4-12): 31:12; 31:5; M-1:12 (PCID/flags below 12). */
static uint64_t o_root(const struct ocfg *c)
{
	uint64_t cm = c->cbit ? bit(c->cbit) : 0;

	switch (c->mode) {
	case PT_MODE_LEGACY: return c->cr3 & 0xfffff000u;
	case PT_MODE_PAE: return c->cr3 & 0xffffffe0u;
	default: return (c->cr3 & ~cm) & bits(c->m - 1, 12);
	}
}

static bool o_user_access(const struct pt_access *a)
{
	return a->cpl == 3 && !a->implicit;
}

/* W/U/I-D bits of any #PF error code for this access (4.7). */
static uint32_t o_acc_err(const struct ocfg *c, const struct pt_access *a)
{
	uint32_t e = 0;

	if (a->kind == PT_ACCESS_WRITE)
		e |= PF_ERR_W;
	if (o_user_access(a))
		e |= PF_ERR_U;
	if (a->kind == PT_ACCESS_FETCH &&
	    ((c->f & F_SMEP) || (c->mode != PT_MODE_LEGACY && (c->f & F_NXE))))
		e |= PF_ERR_ID;
	return e;
}

/* Access rights (4.6.1) and protection keys (4.6.2): the error code, or 0 when allowed. */
static uint32_t o_access(const struct ocfg *c, bool user_addr, bool writable, bool nx,
			 unsigned pkey, const struct pt_access *a)
{
	bool ua = o_user_access(a);
	bool wr = a->kind == PT_ACCESS_WRITE, fx = a->kind == PT_ACCESS_FETCH;
	bool wp = c->f & F_WP, smep = c->f & F_SMEP, smap = c->f & F_SMAP, ac = c->f & F_AC;
	bool bad = false, pk = false;

	if (ua) {
		if (!user_addr)
			bad = true;
		else if (wr && !writable)
			bad = true;
		else if (fx && nx)
			bad = true;
	} else if (!user_addr) {
		if (wr && wp && !writable)
			bad = true;
		if (fx && nx)
			bad = true;
	} else if (fx) {
		if (smep || nx)
			bad = true;
	} else {
		if (smap && (a->implicit || !ac))
			bad = true;
		else if (wr && wp && !writable)
			bad = true;
	}
	if (is64(c->mode) && (c->f & F_PKE) && user_addr && !fx) {
		bool ad = (c->pkru >> (2 * pkey)) & 1, wd = (c->pkru >> (2 * pkey + 1)) & 1;
		pk = ad || (wd && wr && (ua || wp));
	}
	if (!bad && !pk)
		return 0;
	return PF_ERR_P | o_acc_err(c, a) | (pk ? PF_ERR_PK : 0);
}

/* What the SDM says about one translation. */
struct oexp {
	enum pt_status init_st; /* pt_context_init: OK, FAULT (#GP, PAE PDPTE), NOT_IN_DUMP */
	enum pt_status st;
	bool leaf_reached;       /* the walk found a page (st OK, or a protection fault) */
	uint64_t pa, page_size;
	unsigned level;
	struct pt_rights rights;
	bool pa_in_dump, pa_in_dump_known;
	uint32_t err;
	unsigned vector, flevel;
	uint64_t fentry_pa, fentry;
	uint64_t table_pa;
	unsigned nent;
	unsigned ent_level[5];
	uint64_t ent_pa[5], ent_val[5];
};

static bool o_read(const struct ptb *b, uint64_t pa, unsigned n, uint64_t *v)
{
	uint64_t x = 0;

	if (pa >= b->size || b->size - pa < n)
		return false;
	for (unsigned i = 0; i < n; i++)
		x |= (uint64_t)b->mem[pa + i] << (8 * i);
	*v = x;
	return true;
}

static void o_pf(struct oexp *x, unsigned level, uint32_t err, uint64_t epa, uint64_t raw)
{
	x->st = PT_FAULT;
	x->vector = PT_VEC_PF;
	x->err = err;
	x->flevel = level;
	x->fentry_pa = epa;
	x->fentry = raw;
}

static void oracle(const struct ptb *b, const struct ocfg *c, uint64_t va,
		   const struct pt_access *a, struct oexp *x)
{
	enum pt_mode mode = c->mode;
	unsigned top = o_levels(mode), esz = o_esize(mode);
	uint64_t cm = c->cbit ? bit(c->cbit) : 0;
	uint64_t pdpt = 0, pdpte[4] = {0, 0, 0, 0};
	uint32_t aerr = o_acc_err(c, a);
	bool w = true, u = true, xd = false;
	uint64_t table;

	memset(x, 0, sizeof *x);
	x->init_st = PT_OK;
	if (mode == PT_MODE_PAE) { /* 4.4.1: PDPTEs loaded and checked at MOV to CR3 */
		pdpt = c->cr3 & 0xffffffe0u;
		for (unsigned i = 0; i < 4; i++) {
			if (!o_read(b, pdpt + 8 * i, 8, &pdpte[i])) {
				x->init_st = PT_NOT_IN_DUMP;
				x->table_pa = pdpt;
				return;
			}
		}
		for (unsigned i = 0; i < 4; i++) {
			uint64_t e = pdpte[i] & ~cm;
			if ((e & PTE_P) && (e & o_rsvd(c, 3, false))) {
				x->init_st = PT_FAULT;
				return;
			}
		}
	}
	if (!is64(mode)) {
		if (va >> 32) {
			x->st = PT_EINVAL;
			return;
		}
	} else {
		unsigned width = mode == PT_MODE_LA57 ? 57 : 48;
		uint64_t upper = va >> (width - 1);
		if (upper != 0 && upper != (~UINT64_C(0) >> (width - 1))) {
			x->st = PT_FAULT;
			x->vector = PT_VEC_GP;
			return;
		}
	}
	table = o_root(c);
	for (unsigned level = top; level >= 1; level--) {
		unsigned idx = o_index(mode, level, va);
		uint64_t epa, raw, e;
		bool leaf;

		if (mode == PT_MODE_PAE && level == 3) {
			epa = pdpt + 8 * idx;
			raw = pdpte[idx];
		} else {
			epa = table + (uint64_t)idx * esz;
			if (!o_read(b, epa, esz, &raw)) {
				x->st = PT_NOT_IN_DUMP;
				x->table_pa = table;
				return;
			}
		}
		x->ent_level[x->nent] = level;
		x->ent_pa[x->nent] = epa;
		x->ent_val[x->nent] = raw;
		x->nent++;
		e = raw & ~cm;
		if (!(e & PTE_P)) {
			o_pf(x, level, aerr, epa, raw);
			return;
		}
		leaf = level == 1 || ((e & PTE_PS) && o_may_map(c, level));
		if (e & o_rsvd(c, level, leaf)) {
			o_pf(x, level, aerr | PF_ERR_P | PF_ERR_RSVD, epa, raw);
			return;
		}
		if (!(mode == PT_MODE_PAE && level == 3)) { /* PAE PDPTEs carry no rights */
			w = w && (e & PTE_RW);
			u = u && (e & PTE_US);
			if (mode != PT_MODE_LEGACY && (e & PTE_XD))
				xd = true;
		}
		if (leaf) {
			uint64_t psz = bit(o_shift(mode, level)), base = o_page_frame(c, level, e);
			uint32_t err;

			x->leaf_reached = true;
			x->pa = base | (va & (psz - 1));
			x->page_size = psz;
			x->level = level;
			x->rights.writable = w;
			x->rights.user = u;
			x->rights.nx = xd && (c->f & F_NXE);
			x->rights.pkey = (is64(mode) && (c->f & F_PKE)) ? (uint8_t)((e >> 59) & 0xf) : 0;
			x->pa_in_dump = x->pa < b->size;
			x->pa_in_dump_known = base >= b->size || base + psz <= b->size;
			err = o_access(c, u, w, x->rights.nx, x->rights.pkey, a);
			if (err)
				o_pf(x, level, err, epa, raw);
			else
				x->st = PT_OK;
			return;
		}
		table = o_table_frame(c, e);
	}
}

/* ---- Paths: one VA's entries, placed by the builder, written by the test ---------------- */

struct path {
	struct ptb b;
	enum pt_mode mode;
	unsigned top, leaf;
	uint64_t va;
	uint64_t epa[6];  /* entry PA per level */
	uint64_t base[6]; /* the entry value the path was built with */
};

/*
 * Build the path of `va` down to `leaf` (tables from the builder), then write every entry:
 * intermediate entries P|RW|US pointing to the builder's tables (PAE PDPTE: P only), the leaf
 * `leaf_entry` verbatim. Entry placement is checked against our own index arithmetic.
 */
static void path_init(struct path *p, enum pt_mode mode, uint64_t va, unsigned leaf,
		      uint64_t leaf_entry)
{
	unsigned esz = o_esize(mode);
	uint64_t table;

	memset(p, 0, sizeof *p);
	ptb_init(&p->b, mode, MEM_SIZE, TABLES_PA);
	p->mode = mode;
	p->top = o_levels(mode);
	p->leaf = leaf;
	p->va = va;
	ptb_map(&p->b, va, 0, leaf, PTE_P | PTE_RW | PTE_US, PTB_TABLE_FLAGS);
	table = p->b.root;
	for (unsigned level = p->top; level >= leaf; level--) {
		uint64_t epa = table + (uint64_t)o_index(mode, level, va) * esz;

		assert_int_equal(epa, ptb_entry_pa(&p->b, va, level));
		p->epa[level] = epa;
		if (level == leaf) {
			p->base[level] = leaf_entry;
		} else {
			uint64_t mask = mode == PT_MODE_LEGACY ? 0xfffff000u : bits(51, 12);
			uint64_t next = ptb_get(&p->b, epa) & mask;

			assert_true(next >= TABLES_PA && next < MEM_SIZE);
			p->base[level] = next | PTE_P |
					 ((mode == PT_MODE_PAE && level == 3) ? 0 : PTE_RW | PTE_US);
			table = next;
		}
		ptb_set(&p->b, epa, p->base[level]);
	}
}

static void path_set(struct path *p, unsigned level, uint64_t value)
{
	ptb_set(&p->b, p->epa[level], value);
}

static uint64_t path_get(struct path *p, unsigned level)
{
	return ptb_get(&p->b, p->epa[level]);
}

static void path_reset(struct path *p)
{
	for (unsigned level = p->top; level >= p->leaf; level--)
		ptb_set(&p->b, p->epa[level], p->base[level]);
}

/* ---- Running one case: walker vs oracle ------------------------------------------------- */

static void assert_entries(const struct outcome *o, const struct oexp *x, enum pt_mode mode)
{
	unsigned skip = 0;

	/* PAE: the PDPTE comes from the PDPTE registers; reporting it is allowed, not required. */
	if (mode == PT_MODE_PAE && x->nent > 0 && x->ent_level[0] == 3 &&
	    (unsigned)o->r.nentries + 1 == x->nent)
		skip = 1;
	if ((unsigned)o->r.nentries + skip != x->nent) {
		failf("expected %u entries read, got %u", x->nent, o->r.nentries);
		return;
	}
	for (unsigned i = 0; i < o->r.nentries; i++) {
		unsigned j = i + skip;
		if (o->r.entry[i].level != x->ent_level[j] || o->r.entry[i].pa != x->ent_pa[j] ||
		    o->r.entry[i].value != x->ent_val[j]) {
			failf("entry[%u]: expected level %u pa=0x%" PRIx64 " value=0x%" PRIx64
			      ", got level %u pa=0x%" PRIx64 " value=0x%" PRIx64,
			      i, x->ent_level[j], x->ent_pa[j], x->ent_val[j], o->r.entry[i].level,
			      o->r.entry[i].pa, o->r.entry[i].value);
			return;
		}
	}
}

/* Compare a pt_translate outcome with the oracle's expectation. */
static void expect_oracle(const struct outcome *o, const struct oexp *x, enum pt_mode mode)
{
	switch (x->st) {
	case PT_OK:
		if (!assert_pa(o, x->pa))
			return;
		assert_mapping(o, x->page_size, x->level);
		assert_rights(o, &x->rights);
		if (x->pa_in_dump_known)
			assert_in_dump(o, x->pa_in_dump);
		assert_entries(o, x, mode);
		return;
	case PT_FAULT:
		if (x->vector == PT_VEC_GP) {
			assert_gp(o);
			return;
		}
		if (!assert_pf(o, x->flevel, x->err))
			return;
		assert_fault_entry(o, x->fentry_pa, x->fentry);
		assert_entries(o, x, mode);
		return;
	case PT_NOT_IN_DUMP:
		assert_not_in_dump(o, x->table_pa);
		return;
	default:
		assert_status(o, x->st);
		return;
	}
}

static bool init_ctx(struct ptb *b, const struct ocfg *c, const struct oexp *x,
		     struct pt_context *ctx)
{
	struct pt_cpu_state cpu;
	struct pt_fault f;
	uint64_t tpa = ~UINT64_C(0);
	enum pt_status st;

	mk_cpu(&cpu, c);
	memset(&f, 0, sizeof f);
	st = pt_context_init(ctx, &cpu, ptb_mem(b), &f, &tpa);
	switch (x->init_st) {
	case PT_FAULT:
		if (st != PT_FAULT || f.vector != PT_VEC_GP || f.error_code != 0)
			failf("pt_context_init: expected #GP(0) (PAE PDPTE reserved bit, 4.4.1), "
			      "got status %s vector %u error 0x%x",
			      pt_status_name(st), f.vector, f.error_code);
		return false;
	case PT_NOT_IN_DUMP:
		if (st != PT_NOT_IN_DUMP || tpa != x->table_pa)
			failf("pt_context_init: expected NOT_IN_DUMP table_pa=0x%" PRIx64
			      ", got %s table_pa=0x%" PRIx64,
			      x->table_pa, pt_status_name(st), tpa);
		return false;
	default:
		if (st != PT_OK) {
			failf("pt_context_init: expected OK, got %s (vector %u)", pt_status_name(st),
			      f.vector);
			return false;
		}
		return true;
	}
}

/* One case: pt_translate, pt_walk and pt_access_check against the oracle. */
static void run_case(struct ptb *b, const struct ocfg *c, uint64_t va, const struct pt_access *a)
{
	struct oexp x;
	struct pt_context ctx;
	struct outcome o, w;

	g_cases++;
	oracle(b, c, va, a, &x);
	if (!init_ctx(b, c, &x, &ctx))
		return;

	memset(&o, 0, sizeof o);
	o.st = pt_translate(&ctx, ptb_mem(b), va, a, &o.r);
	expect_oracle(&o, &x, c->mode);

	/* pt_walk: the same walk without the access check. */
	memset(&w, 0, sizeof w);
	w.st = pt_walk(&ctx, ptb_mem(b), va, &w.r);
	if (x.leaf_reached) {
		if (assert_pa(&w, x.pa)) {
			/* The verdict and the P/RSVD/PK bits here; the W/U/I-D bits of
			 * pt_access_check's code are pinned by test_family_access_check. */
			const uint32_t acc_bits = PF_ERR_W | PF_ERR_U | PF_ERR_ID;
			uint32_t ec = pt_access_check(&ctx, &w.r.rights, a);
			uint32_t want = x.st == PT_FAULT ? x.err : 0;

			assert_mapping(&w, x.page_size, x.level);
			assert_rights(&w, &x.rights);
			if ((ec != 0) != (want != 0) || (ec & ~acc_bits) != (want & ~acc_bits))
				failf("pt_access_check after pt_walk: expected 0x%x, got 0x%x", want,
				      ec);
		}
	} else if (x.st == PT_FAULT) {
		if (w.st != PT_FAULT || w.r.fault.vector != x.vector ||
		    w.r.fault.level != x.flevel)
			failf("pt_walk: expected fault vector %u level %u, got %s", x.vector,
			      x.flevel, got(&w));
	} else if (x.st == PT_NOT_IN_DUMP) {
		if (w.st != PT_NOT_IN_DUMP || w.r.table_pa != x.table_pa)
			failf("pt_walk: expected NOT_IN_DUMP table_pa=0x%" PRIx64 ", got %s",
			      x.table_pa, got(&w));
	} else if (w.st != x.st) {
		failf("pt_walk: expected %s, got %s", pt_status_name(x.st), got(&w));
	}
}

/* ---- Accesses --------------------------------------------------------------------------- */

static const struct pt_access ACC_ALL[] = {
	{PT_ACCESS_READ, 0, false},  {PT_ACCESS_WRITE, 0, false}, {PT_ACCESS_FETCH, 0, false},
	{PT_ACCESS_READ, 3, false},  {PT_ACCESS_WRITE, 3, false}, {PT_ACCESS_FETCH, 3, false},
	{PT_ACCESS_READ, 0, true},   {PT_ACCESS_WRITE, 0, true},  {PT_ACCESS_READ, 3, true},
	{PT_ACCESS_WRITE, 3, true},
};
#define N_ACC_ALL (sizeof ACC_ALL / sizeof ACC_ALL[0])

static const struct pt_access ACC_3[] = {
	{PT_ACCESS_READ, 0, false},
	{PT_ACCESS_WRITE, 3, false},
	{PT_ACCESS_FETCH, 3, false},
};

/* ---- Shapes: one mapping per mode and page size ------------------------------------------ */

struct shape {
	const char *name;
	enum pt_mode mode;
	unsigned leaf;
	bool pse;
	uint64_t va;
	uint64_t leaf_entry; /* user, writable: P|RW|US (+PS) */
};

static const struct shape g_shapes[] = {
	{"legacy-4K", PT_MODE_LEGACY, 1, false, 0x87654321, 0x00345007},
	{"legacy-4K-pse", PT_MODE_LEGACY, 1, true, 0x87654321, 0x00345007},
	{"legacy-4M", PT_MODE_LEGACY, 2, true, 0xc0123456, 0x00400087},
	{"pae-4K", PT_MODE_PAE, 1, false, 0xb7e5d123, 0x00345007},
	{"pae-2M", PT_MODE_PAE, 2, false, 0x40712345, 0x00200087},
	{"ia32e-4K", PT_MODE_IA32E, 1, false, 0x00007a5bc3d4e123, 0x00345007},
	{"ia32e-2M", PT_MODE_IA32E, 2, false, 0xffff8a5bc3d4e123, 0x00200087},
	{"ia32e-1G", PT_MODE_IA32E, 3, false, 0xffffffff81234567, 0x40000087},
	{"la57-4K", PT_MODE_LA57, 1, false, 0x00abcdef12345678, 0x00345007},
	{"la57-2M", PT_MODE_LA57, 2, false, 0xff12345678912345, 0x00600087},
	{"la57-1G", PT_MODE_LA57, 3, false, 0x00f23456c9abcdef, 0x40000087},
};
#define N_SHAPES (sizeof g_shapes / sizeof g_shapes[0])

static struct ocfg shape_cfg(const struct shape *s, const struct path *p, unsigned f, uint8_t m)
{
	struct ocfg c;

	memset(&c, 0, sizeof c);
	c.mode = s->mode;
	c.f = f | (s->pse ? F_PSE : 0);
	c.m = m;
	c.cr3 = p->b.root;
	return c;
}

/* ---- Spot cases: literal numbers from the SDM ------------------------------------------- */

struct spot {
	const char *name;
	enum pt_mode mode;
	unsigned leaf;
	uint64_t va;         /* mapped VA */
	uint64_t leaf_entry; /* literal leaf entry */
	unsigned mod_level;  /* 0: none */
	uint64_t mod_set, mod_clear;
	uint64_t all_set; /* ORed into every entry of the path (e.g. the C-bit) */
	unsigned f;
	uint32_t pkru;
	uint8_t m; /* 0: 52 */
	uint8_t cbit;
	uint64_t cr3_or;
	uint64_t tva; /* VA translated, 0: va */
	enum pt_access_kind kind;
	uint8_t cpl;
	bool implicit;
	/* expected */
	bool init_gp;
	enum pt_status st;
	uint64_t pa;
	uint64_t page_size; /* 0: not checked */
	uint8_t vector;     /* 14 or 13 for PT_FAULT */
	uint32_t err;
	uint8_t level;
};

#define LEG PT_MODE_LEGACY
#define PAE PT_MODE_PAE
#define I4 PT_MODE_IA32E
#define I5 PT_MODE_LA57
#define RD PT_ACCESS_READ
#define WR PT_ACCESS_WRITE
#define FX PT_ACCESS_FETCH
#define OK(p) .st = PT_OK, .pa = (p)
#define PF(l, e) .st = PT_FAULT, .vector = 14, .level = (l), .err = (e)
#define GP .st = PT_FAULT, .vector = 13, .level = 0, .err = 0
#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define M4 UINT64_C(0x400000)
#define G1 UINT64_C(0x40000000)

static const struct spot g_spots[] = {
	/* ---- 32-bit paging (4.3) ---- */
	{"legacy 4K read", LEG, 1, 0x08048123, 0x00123007, .f = F_WP, .m = 40, .kind = RD,
	 OK(0x00123123), .page_size = K4},
	{"legacy 4K user write to read-only", LEG, 1, 0x08048123, 0x00123005, .f = F_WP, .m = 40,
	 .kind = WR, .cpl = 3, PF(1, 0x7)},
	{"legacy 4K supervisor write read-only WP=1", LEG, 1, 0x08048123, 0x00123005, .f = F_WP,
	 .m = 40, .kind = WR, PF(1, 0x3)},
	{"legacy 4K supervisor write read-only WP=0", LEG, 1, 0x08048123, 0x00123005, .f = 0,
	 .m = 40, .kind = WR, OK(0x00123123)},
	{"legacy 4K user read of supervisor page", LEG, 1, 0x08048123, 0x00123003, .f = F_WP,
	 .m = 40, .kind = RD, .cpl = 3, PF(1, 0x5)},
	{"legacy PTE not present, user fetch, NXE=1 (no I/D without PAE)", LEG, 1, 0x08048123,
	 0x00123006, .f = F_WP | F_NXE, .m = 40, .kind = FX, .cpl = 3, PF(1, 0x4)},
	{"legacy PTE not present, user fetch, SMEP=1 (I/D)", LEG, 1, 0x08048123, 0x00123006,
	 .f = F_WP | F_SMEP, .m = 40, .kind = FX, .cpl = 3, PF(1, 0x14)},
	{"legacy PDE not present", LEG, 1, 0x08048123, 0x00123007, .mod_level = 2,
	 .mod_clear = PTE_P, .f = F_WP, .m = 40, .kind = RD, PF(2, 0x0)},
	{"legacy 4M page (PSE)", LEG, 2, 0xc0123456, 0x00400087, .f = F_WP | F_PSE, .m = 40,
	 .kind = RD, OK(0x00523456), .page_size = M4},
	{"legacy PSE-36, M=40: PA bits 39:32 from PDE 20:13", LEG, 2, 0x80123456, 0xc0024087,
	 .f = F_WP | F_PSE, .m = 40, .kind = RD, OK(UINT64_C(0x12c0123456)), .page_size = M4},
	{"legacy PSE-36, M=36: PDE bit 17 reserved", LEG, 2, 0x80123456, 0xc0024087,
	 .f = F_WP | F_PSE, .m = 36, .kind = RD, PF(2, 0x9)},
	{"legacy PSE-36, M=36: PA 0x5c0123456", LEG, 2, 0x80123456, 0xc000a087,
	 .f = F_WP | F_PSE, .m = 36, .kind = RD, OK(UINT64_C(0x5c0123456))},
	{"legacy 4M PDE bit 21 reserved", LEG, 2, 0x80123456, 0xc0224087, .f = F_WP | F_PSE,
	 .m = 40, .kind = RD, PF(2, 0x9)},
	{"legacy 4M M=32: PDE bit 13 reserved", LEG, 2, 0xc0123456, 0x00402087,
	 .f = F_WP | F_PSE, .m = 32, .kind = RD, PF(2, 0x9)},
	{"legacy 4M M=32: user write reserved", LEG, 2, 0xc0123456, 0x00402087,
	 .f = F_WP | F_PSE, .m = 32, .kind = WR, .cpl = 3, PF(2, 0xf)},
	{"legacy PSE-36, M=52 limited to 40 bits", LEG, 2, 0x80123456, 0xc01fe087,
	 .f = F_WP | F_PSE, .m = 52, .kind = RD, OK(UINT64_C(0xffc0123456))},
	{"legacy 4M PAT bit 12 is not an address bit", LEG, 2, 0xc0123456, 0x00401087,
	 .f = F_WP | F_PSE, .m = 40, .kind = RD, OK(0x00523456)},
	{"legacy 4M PAT bit 12 with PSE-36 bits", LEG, 2, 0xc0123456, 0x00403087,
	 .f = F_WP | F_PSE, .m = 40, .kind = RD, OK(UINT64_C(0x100523456))},
	{"legacy PS ignored without CR4.PSE (PDE -> table, PTE not present)", LEG, 2, 0xc0123456,
	 0x00400087, .f = F_WP, .m = 40, .kind = RD, PF(1, 0x0)},
	{"legacy 4M SMAP: supervisor read of user page", LEG, 2, 0xc0123456, 0x00400087,
	 .f = F_WP | F_PSE | F_SMAP, .m = 40, .kind = RD, PF(2, 0x1)},
	{"legacy 4M SMAP with RFLAGS.AC", LEG, 2, 0xc0123456, 0x00400087,
	 .f = F_WP | F_PSE | F_SMAP | F_AC, .m = 40, .kind = RD, OK(0x00523456)},
	{"legacy SMEP: supervisor fetch of user page", LEG, 1, 0x08048123, 0x00123007,
	 .f = F_WP | F_SMEP, .m = 40, .kind = FX, PF(1, 0x11)},
	{"legacy CR3 PWT/PCD ignored", LEG, 1, 0x08048123, 0x00123007, .f = F_WP, .m = 40,
	 .cr3_or = 0x18, .kind = RD, OK(0x00123123)},
	{"legacy VA above 4 GiB", LEG, 1, 0x08048123, 0x00123007, .f = F_WP, .m = 40,
	 .tva = UINT64_C(0x108048123), .kind = RD, .st = PT_EINVAL},

	/* ---- PAE paging (4.4) ---- */
	{"pae 4K frame above 4 GiB", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, OK(UINT64_C(0xabcdef123)), .page_size = K4},
	{"pae 2M frame above 4 GiB", PAE, 2, 0x40712345, UINT64_C(0x123400087),
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, OK(UINT64_C(0x123512345)), .page_size = M2},
	{"pae 2M PDE bit 13 reserved", PAE, 2, 0x40712345, UINT64_C(0x123402087),
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, PF(2, 0x9)},
	{"pae 2M PDE bit 20 reserved", PAE, 2, 0x40712345, UINT64_C(0x123500087),
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, PF(2, 0x9)},
	{"pae 2M PAT bit 12 not an address bit", PAE, 2, 0x40712345, UINT64_C(0x123401087),
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, OK(UINT64_C(0x123512345))},
	{"pae XD reserved when NXE=0", PAE, 1, 0xb7e5d123, UINT64_C(0x8000000abcdef007),
	 .f = F_WP, .m = 36, .kind = RD, PF(1, 0x9)},
	{"pae XD reserved when NXE=0, fetch (no I/D)", PAE, 1, 0xb7e5d123,
	 UINT64_C(0x8000000abcdef007), .f = F_WP, .m = 36, .kind = FX, PF(1, 0x9)},
	{"pae XD fetch with NXE=1", PAE, 1, 0xb7e5d123, UINT64_C(0x8000000abcdef007),
	 .f = F_WP | F_NXE, .m = 36, .kind = FX, PF(1, 0x11)},
	{"pae XD user read with NXE=1", PAE, 1, 0xb7e5d123, UINT64_C(0x8000000abcdef007),
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, .cpl = 3, OK(UINT64_C(0xabcdef123))},
	{"pae bit 52 reserved (62:M)", PAE, 1, 0xb7e5d123, UINT64_C(0x0010000abcdef007),
	 .f = F_WP | F_NXE, .m = 52, .kind = RD, PF(1, 0x9)},
	{"pae bit 62 reserved", PAE, 1, 0xb7e5d123, UINT64_C(0x4000000abcdef007),
	 .f = F_WP | F_NXE, .m = 52, .kind = RD, PF(1, 0x9)},
	{"pae M=36: PDE bit 36 reserved", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 2, .mod_set = UINT64_C(1) << 36, .f = F_WP | F_NXE, .m = 36, .kind = RD,
	 PF(2, 0x9)},
	{"pae M=40: PTE bits 39:36 are address", PAE, 1, 0xb7e5d123, UINT64_C(0xf000345007),
	 .f = F_WP | F_NXE, .m = 40, .kind = RD, OK(UINT64_C(0xf000345123))},
	{"pae PDPTE not present, user write", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 3, .mod_clear = PTE_P, .f = F_WP | F_NXE, .m = 36, .kind = WR, .cpl = 3,
	 PF(3, 0x6)},
	{"pae PDPTE not present, user fetch NXE (I/D)", PAE, 1, 0xb7e5d123,
	 UINT64_C(0xabcdef007), .mod_level = 3, .mod_clear = PTE_P, .f = F_WP | F_NXE, .m = 36,
	 .kind = FX, .cpl = 3, PF(3, 0x14)},
	{"pae PDPTE not present with reserved bits: no #GP, #PF", PAE, 1, 0xb7e5d123,
	 UINT64_C(0xabcdef007), .mod_level = 3, .mod_clear = PTE_P, .mod_set = 0x1e6,
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, PF(3, 0x0)},
	{"pae PDPTE R/W reserved: #GP at CR3 load", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 3, .mod_set = PTE_RW, .f = F_WP | F_NXE, .m = 36, .kind = RD,
	 .init_gp = true},
	{"pae PDPTE U/S reserved: #GP", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 3, .mod_set = PTE_US, .f = F_WP | F_NXE, .m = 36, .kind = RD,
	 .init_gp = true},
	{"pae PDPTE bit 5 reserved: #GP", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 3, .mod_set = 0x20, .f = F_WP | F_NXE, .m = 36, .kind = RD,
	 .init_gp = true},
	{"pae PDPTE bit 7 reserved: #GP", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 3, .mod_set = 0x80, .f = F_WP | F_NXE, .m = 36, .kind = RD,
	 .init_gp = true},
	{"pae PDPTE bit 8 reserved: #GP", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 3, .mod_set = 0x100, .f = F_WP | F_NXE, .m = 36, .kind = RD,
	 .init_gp = true},
	{"pae PDPTE bit 63 reserved even with NXE: #GP", PAE, 1, 0xb7e5d123,
	 UINT64_C(0xabcdef007), .mod_level = 3, .mod_set = UINT64_C(1) << 63,
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, .init_gp = true},
	{"pae PDPTE bit 36 reserved with M=36: #GP", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 3, .mod_set = UINT64_C(1) << 36, .f = F_WP | F_NXE, .m = 36, .kind = RD,
	 .init_gp = true},
	{"pae PDPTE PWT/PCD allowed", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 3, .mod_set = 0x18, .f = F_WP | F_NXE, .m = 36, .kind = RD,
	 OK(UINT64_C(0xabcdef123))},
	{"pae PDPTE bits 11:9 ignored", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .mod_level = 3, .mod_set = 0xe00, .f = F_WP | F_NXE, .m = 36, .kind = RD,
	 OK(UINT64_C(0xabcdef123))},
	{"pae PTE not present, fetch, NXE=1 (I/D)", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef006),
	 .f = F_WP | F_NXE, .m = 36, .kind = FX, PF(1, 0x10)},
	{"pae PTE not present, fetch, NXE=0 (no I/D)", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef006),
	 .f = F_WP, .m = 36, .kind = FX, PF(1, 0x0)},
	{"pae PKE ignored outside IA-32e", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007),
	 .f = F_WP | F_NXE | F_PKE, .pkru = 0xffffffff, .m = 36, .kind = WR, .cpl = 3,
	 OK(UINT64_C(0xabcdef123))},
	{"pae VA above 4 GiB", PAE, 1, 0xb7e5d123, UINT64_C(0xabcdef007), .f = F_WP | F_NXE,
	 .m = 36, .tva = UINT64_C(0x1b7e5d123), .kind = RD, .st = PT_EINVAL},

	/* ---- 4-level paging (4.5) ---- */
	{"ia32e 4K", I4, 1, 0x00007f1234567abc, UINT64_C(0x123456007), .f = F_WP | F_NXE,
	 .kind = RD, OK(UINT64_C(0x123456abc)), .page_size = K4},
	{"ia32e 2M supervisor", I4, 2, 0xffffffff81234567, UINT64_C(0x7c0200083),
	 .f = F_WP | F_NXE, .kind = RD, OK(UINT64_C(0x7c0234567)), .page_size = M2},
	{"ia32e 1G", I4, 3, 0xffff888012345678, UINT64_C(0xc080000083), .f = F_WP | F_NXE,
	 .kind = RD, OK(UINT64_C(0xc092345678)), .page_size = G1},
	{"ia32e 1G bit 30 is address", I4, 3, 0xffff888012345678, UINT64_C(0xc0c0000083),
	 .f = F_WP | F_NXE, .kind = RD, OK(UINT64_C(0xc0d2345678))},
	{"ia32e 1G bit 13 reserved", I4, 3, 0xffff888012345678, UINT64_C(0xc080002083),
	 .f = F_WP | F_NXE, .kind = RD, PF(3, 0x9)},
	{"ia32e 1G bit 29 reserved", I4, 3, 0xffff888012345678, UINT64_C(0xc0a0000083),
	 .f = F_WP | F_NXE, .kind = RD, PF(3, 0x9)},
	{"ia32e 1G PAT bit 12 not an address bit", I4, 3, 0xffff888012345678,
	 UINT64_C(0xc080001083), .f = F_WP | F_NXE, .kind = RD, OK(UINT64_C(0xc092345678))},
	{"ia32e 2M bit 20 reserved", I4, 2, 0xffffffff81234567, UINT64_C(0x7c0300083),
	 .f = F_WP | F_NXE, .kind = RD, PF(2, 0x9)},
	{"ia32e 2M bit 13 reserved, user write", I4, 2, 0xffffffff81234567,
	 UINT64_C(0x7c0202087), .f = F_WP | F_NXE, .kind = WR, .cpl = 3, PF(2, 0xf)},
	{"ia32e 2M PAT bit 12 not an address bit", I4, 2, 0xffffffff81234567,
	 UINT64_C(0x7c0201083), .f = F_WP | F_NXE, .kind = RD, OK(UINT64_C(0x7c0234567))},
	{"ia32e PS in PML4E reserved", I4, 1, 0x00007f1234567abc, UINT64_C(0x123456007),
	 .mod_level = 4, .mod_set = PTE_PS, .f = F_WP | F_NXE, .kind = RD, PF(4, 0x9)},
	{"ia32e PS in PML4E reserved, user write", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .mod_level = 4, .mod_set = PTE_PS, .f = F_WP | F_NXE,
	 .kind = WR, .cpl = 3, PF(4, 0xf)},
	{"ia32e M=36: bit 35 is address", I4, 1, 0x00007f1234567abc, UINT64_C(0x823456007),
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, OK(UINT64_C(0x823456abc))},
	{"ia32e M=36: bit 36 reserved", I4, 1, 0x00007f1234567abc, UINT64_C(0x1023456007),
	 .f = F_WP | F_NXE, .m = 36, .kind = RD, PF(1, 0x9)},
	{"ia32e M=40: bit 39 is address", I4, 1, 0x00007f1234567abc, UINT64_C(0x8023456007),
	 .f = F_WP | F_NXE, .m = 40, .kind = RD, OK(UINT64_C(0x8023456abc))},
	{"ia32e M=40: bit 40 reserved", I4, 1, 0x00007f1234567abc, UINT64_C(0x10023456007),
	 .f = F_WP | F_NXE, .m = 40, .kind = RD, PF(1, 0x9)},
	{"ia32e M=46: bit 45 is address", I4, 1, 0x00007f1234567abc, UINT64_C(0x200023456007),
	 .f = F_WP | F_NXE, .m = 46, .kind = RD, OK(UINT64_C(0x200023456abc))},
	{"ia32e M=46: bit 46 reserved", I4, 1, 0x00007f1234567abc, UINT64_C(0x400023456007),
	 .f = F_WP | F_NXE, .m = 46, .kind = RD, PF(1, 0x9)},
	{"ia32e M=52: bit 51 is address", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x8000023456007), .f = F_WP | F_NXE, .m = 52, .kind = RD,
	 OK(UINT64_C(0x8000023456abc))},
	{"ia32e M=52: bit 52 ignored", I4, 1, 0x00007f1234567abc, UINT64_C(0x10000023456007),
	 .f = F_WP | F_NXE, .m = 52, .kind = RD, OK(UINT64_C(0x23456abc))},
	{"ia32e bits 58:52 ignored", I4, 1, 0x00007f1234567abc, UINT64_C(0x07f0000023456007),
	 .f = F_WP | F_NXE, .kind = RD, OK(UINT64_C(0x23456abc))},
	{"ia32e PK bits ignored without CR4.PKE", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x7800000023456007), .f = F_WP | F_NXE, .pkru = 0xffffffff, .kind = WR,
	 .cpl = 3, OK(UINT64_C(0x23456abc))},
	{"ia32e M=46: PDPTE bit 51 reserved, user fetch NXE", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .mod_level = 3, .mod_set = UINT64_C(1) << 51, .f = F_WP | F_NXE,
	 .m = 46, .kind = FX, .cpl = 3, PF(3, 0x1d)},
	{"ia32e XD reserved when NXE=0, user read", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x8000000023456007), .f = F_WP, .kind = RD, .cpl = 3, PF(1, 0xd)},
	{"ia32e XD reserved NXE=0, fetch with SMEP (I/D)", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x8000000023456003), .f = F_WP | F_SMEP, .kind = FX, PF(1, 0x19)},
	{"ia32e XD in PML4E reserved when NXE=0", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .mod_level = 4, .mod_set = UINT64_C(1) << 63, .f = F_WP,
	 .kind = RD, PF(4, 0x9)},
	{"ia32e user read of supervisor page", I4, 1, 0x00007f1234567abc, UINT64_C(0x23456003),
	 .f = F_WP | F_NXE, .kind = RD, .cpl = 3, PF(1, 0x5)},
	{"ia32e U/S clear in PML4E, user read", I4, 1, 0x00007f1234567abc, UINT64_C(0x23456007),
	 .mod_level = 4, .mod_clear = PTE_US, .f = F_WP | F_NXE, .kind = RD, .cpl = 3,
	 PF(1, 0x5)},
	{"ia32e R/W clear in PDPTE, user write", I4, 1, 0x00007f1234567abc, UINT64_C(0x23456007),
	 .mod_level = 3, .mod_clear = PTE_RW, .f = F_WP | F_NXE, .kind = WR, .cpl = 3,
	 PF(1, 0x7)},
	{"ia32e R/W clear in PDE, supervisor write WP=1", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456003), .mod_level = 2, .mod_clear = PTE_RW, .f = F_WP | F_NXE,
	 .kind = WR, PF(1, 0x3)},
	{"ia32e R/W clear in PDE, supervisor write WP=0", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456003), .mod_level = 2, .mod_clear = PTE_RW, .f = F_NXE, .kind = WR,
	 OK(UINT64_C(0x23456abc))},
	{"ia32e R/W clear, user write WP=0 still faults", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456005), .f = F_NXE, .kind = WR, .cpl = 3, PF(1, 0x7)},
	{"ia32e XD in PML4E, user fetch", I4, 1, 0x00007f1234567abc, UINT64_C(0x23456007),
	 .mod_level = 4, .mod_set = UINT64_C(1) << 63, .f = F_WP | F_NXE, .kind = FX, .cpl = 3,
	 PF(1, 0x15)},
	{"ia32e XD in PDE, user read allowed", I4, 1, 0x00007f1234567abc, UINT64_C(0x23456007),
	 .mod_level = 2, .mod_set = UINT64_C(1) << 63, .f = F_WP | F_NXE, .kind = RD, .cpl = 3,
	 OK(UINT64_C(0x23456abc))},
	{"ia32e SMAP: supervisor read of user page", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .f = F_WP | F_NXE | F_SMAP, .kind = RD, PF(1, 0x1)},
	{"ia32e SMAP with AC: explicit read allowed", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .f = F_WP | F_NXE | F_SMAP | F_AC, .kind = RD,
	 OK(UINT64_C(0x23456abc))},
	{"ia32e SMAP: implicit read ignores AC", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .f = F_WP | F_NXE | F_SMAP | F_AC, .kind = RD, .implicit = true,
	 PF(1, 0x1)},
	{"ia32e implicit access at CPL3 is supervisor (U=0)", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .f = F_WP | F_NXE | F_SMAP | F_AC, .kind = WR, .cpl = 3,
	 .implicit = true, PF(1, 0x3)},
	{"ia32e implicit read at CPL3 of supervisor page", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456003), .f = F_WP | F_NXE, .kind = RD, .cpl = 3, .implicit = true,
	 OK(UINT64_C(0x23456abc))},
	{"ia32e SMAP: supervisor write of user page", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .f = F_WP | F_NXE | F_SMAP, .kind = WR, PF(1, 0x3)},
	{"ia32e SMAP+AC write to read-only user page, WP=1", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456005), .f = F_WP | F_NXE | F_SMAP | F_AC, .kind = WR, PF(1, 0x3)},
	{"ia32e SMAP+AC write to read-only user page, WP=0", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456005), .f = F_NXE | F_SMAP | F_AC, .kind = WR, OK(UINT64_C(0x23456abc))},
	{"ia32e SMEP: supervisor fetch of user page", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .f = F_WP | F_NXE | F_SMEP, .kind = FX, PF(1, 0x11)},
	{"ia32e no SMEP: supervisor fetch of user page", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .f = F_WP | F_NXE, .kind = FX, OK(UINT64_C(0x23456abc))},
	{"ia32e no SMEP: supervisor fetch of XD user page", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x8000000023456007), .f = F_WP | F_NXE, .kind = FX, PF(1, 0x11)},
	{"ia32e SMEP without NXE still sets I/D", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456007), .f = F_WP | F_SMEP, .kind = FX, PF(1, 0x11)},
	{"ia32e not present, fetch, NXE=0 SMEP=0 (no I/D)", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456006), .f = F_WP, .kind = FX, PF(1, 0x0)},
	{"ia32e not present, fetch, NXE=1 (I/D)", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456006), .f = F_WP | F_NXE, .kind = FX, PF(1, 0x10)},
	{"ia32e CPL 1 is supervisor", I4, 1, 0x00007f1234567abc, UINT64_C(0x23456003),
	 .f = F_WP | F_NXE, .kind = RD, .cpl = 1, OK(UINT64_C(0x23456abc))},
	{"ia32e CPL 2 write to supervisor read-only page, WP=1", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x23456001), .f = F_WP | F_NXE, .kind = WR, .cpl = 2, PF(1, 0x3)},
	/* protection keys (4.6.2): key 5 = leaf bits 62:59 = 0101b */
	{"ia32e PK: AD, user read", I4, 1, 0x00007f1234567abc, UINT64_C(0x2800000023456007),
	 .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 10, .kind = RD, .cpl = 3, PF(1, 0x25)},
	{"ia32e PK: WD, user write", I4, 1, 0x00007f1234567abc, UINT64_C(0x2800000023456007),
	 .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 11, .kind = WR, .cpl = 3, PF(1, 0x27)},
	{"ia32e PK: WD, user read allowed", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x2800000023456007), .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 11, .kind = RD,
	 .cpl = 3, OK(UINT64_C(0x23456abc))},
	{"ia32e PK: WD, supervisor write WP=1", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x2800000023456007), .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 11, .kind = WR,
	 PF(1, 0x23)},
	{"ia32e PK: WD, supervisor write WP=0 allowed", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x2800000023456007), .f = F_NXE | F_PKE, .pkru = 1u << 11, .kind = WR,
	 OK(UINT64_C(0x23456abc))},
	{"ia32e PK: AD does not affect fetch", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x2800000023456007), .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 10, .kind = FX,
	 .cpl = 3, OK(UINT64_C(0x23456abc))},
	{"ia32e PK: AD, supervisor read of user page", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x2800000023456007), .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 10, .kind = RD,
	 PF(1, 0x21)},
	{"ia32e PK: supervisor page not subject to keys", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x2800000023456003), .f = F_WP | F_NXE | F_PKE, .pkru = 0xffffffff,
	 .kind = WR, OK(UINT64_C(0x23456abc))},
	{"ia32e PK: WD and R/W=0, user write (PK co-caused)", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x2800000023456005), .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 11, .kind = WR,
	 .cpl = 3, PF(1, 0x27)},
	{"ia32e PK: R/W=0 without WD, user write", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x2800000023456005), .f = F_WP | F_NXE | F_PKE, .pkru = 0xfffff3ff,
	 .kind = WR, .cpl = 3, PF(1, 0x7)},
	{"ia32e PK: other key's AD", I4, 1, 0x00007f1234567abc, UINT64_C(0x2800000023456007),
	 .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 8, .kind = RD, .cpl = 3,
	 OK(UINT64_C(0x23456abc))},
	{"ia32e PK: key 15 AD", I4, 1, 0x00007f1234567abc, UINT64_C(0x7800000023456007),
	 .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 30, .kind = RD, .cpl = 3, PF(1, 0x25)},
	{"ia32e PK: 2M page key 1 WD, user write", I4, 2, 0xffff8a5bc3d4e123,
	 UINT64_C(0x0800000000200087), .f = F_WP | F_NXE | F_PKE, .pkru = 1u << 3, .kind = WR,
	 .cpl = 3, PF(2, 0x27)},
	/* CR3 */
	{"ia32e PCID in CR3[11:0] ignored for the address", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .f = F_WP | F_NXE | F_PCIDE, .cr3_or = 0xabc, .kind = RD,
	 OK(UINT64_C(0x123456abc))},
	{"ia32e CR3 bit 63 (no-flush) ignored with PCIDE", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .f = F_WP | F_NXE | F_PCIDE,
	 .cr3_or = (UINT64_C(1) << 63) | 0x123, .kind = RD, OK(UINT64_C(0x123456abc))},
	{"ia32e CR3 PWT/PCD ignored without PCIDE", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .f = F_WP | F_NXE, .cr3_or = 0x18, .kind = RD,
	 OK(UINT64_C(0x123456abc))},
	/* SME C-bit */
	{"ia32e C-bit 47 in every entry and CR3, M=52", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .all_set = UINT64_C(1) << 47, .cbit = 47,
	 .cr3_or = UINT64_C(1) << 47, .f = F_WP | F_NXE, .kind = RD, OK(UINT64_C(0x123456abc))},
	{"ia32e C-bit 47 above M=43 is not reserved", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .all_set = UINT64_C(1) << 47, .cbit = 47, .m = 43,
	 .cr3_or = UINT64_C(1) << 47, .f = F_WP | F_NXE, .kind = RD, OK(UINT64_C(0x123456abc))},
	{"ia32e C-bit 47, M=43: bit 46 still reserved", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .all_set = UINT64_C(1) << 47, .cbit = 47, .m = 43,
	 .mod_level = 1, .mod_set = UINT64_C(1) << 46, .f = F_WP | F_NXE, .kind = RD,
	 PF(1, 0x9)},
	{"ia32e C-bit 51, M=52, 1G page", I4, 3, 0xffff888012345678, UINT64_C(0xc080000083),
	 .all_set = UINT64_C(1) << 51, .cbit = 51, .f = F_WP | F_NXE, .kind = RD,
	 OK(UINT64_C(0xc092345678))},
	/* canonical addresses */
	{"ia32e non-canonical 0x0000800000000000: #GP", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .f = F_WP | F_NXE, .tva = UINT64_C(0x0000800000000000),
	 .kind = RD, GP},
	{"ia32e non-canonical 0xffff7fffffffffff: #GP", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .f = F_WP | F_NXE, .tva = UINT64_C(0xffff7fffffffffff),
	 .kind = FX, .cpl = 3, GP},
	{"ia32e non-canonical alias of a mapped VA: #GP", I4, 1, 0x00007f1234567abc,
	 UINT64_C(0x123456007), .f = F_WP | F_NXE, .tva = UINT64_C(0x80007f1234567abc),
	 .kind = RD, GP},
	{"ia32e canonical 0xffff800000000000 is walked (PML4E 256 not present)", I4, 1,
	 0x00007f1234567abc, UINT64_C(0x123456007), .f = F_WP | F_NXE,
	 .tva = UINT64_C(0xffff800000000000), .kind = RD, PF(4, 0x0)},

	/* ---- 5-level paging (4.5) ---- */
	{"la57 4K", I5, 1, 0xff123456789abcde, UINT64_C(0x000abcdef0123007), .f = F_WP | F_NXE,
	 .kind = RD, OK(UINT64_C(0xabcdef0123cde)), .page_size = K4},
	{"la57 2M", I5, 2, 0x00fedcba98765432, UINT64_C(0x123456600087), .f = F_WP | F_NXE,
	 .kind = RD, OK(UINT64_C(0x123456765432)), .page_size = M2},
	{"la57 1G", I5, 3, 0x0001234512345678, UINT64_C(0x4000000083), .f = F_WP | F_NXE,
	 .kind = RD, OK(UINT64_C(0x4012345678)), .page_size = G1},
	{"la57 accepts 0x0000800000000123 (4-level rejects it)", I5, 1, 0x0000800000000123,
	 UINT64_C(0x123456007), .f = F_WP | F_NXE, .kind = RD, OK(UINT64_C(0x123456123))},
	{"la57 non-canonical 0x0100000000000000: #GP", I5, 1, 0xff123456789abcde,
	 UINT64_C(0x000abcdef0123007), .f = F_WP | F_NXE, .tva = UINT64_C(0x0100000000000000),
	 .kind = RD, GP},
	{"la57 non-canonical 0xfeffffffffffffff: #GP", I5, 1, 0xff123456789abcde,
	 UINT64_C(0x000abcdef0123007), .f = F_WP | F_NXE, .tva = UINT64_C(0xfeffffffffffffff),
	 .kind = WR, .cpl = 3, GP},
	{"la57 PS in PML5E reserved", I5, 1, 0xff123456789abcde, UINT64_C(0x000abcdef0123007),
	 .mod_level = 5, .mod_set = PTE_PS, .f = F_WP | F_NXE, .kind = RD, PF(5, 0x9)},
	{"la57 PS in PML4E reserved", I5, 1, 0xff123456789abcde, UINT64_C(0x000abcdef0123007),
	 .mod_level = 4, .mod_set = PTE_PS, .f = F_WP | F_NXE, .kind = RD, PF(4, 0x9)},
	{"la57 PML5E not present, user write", I5, 1, 0xff123456789abcde,
	 UINT64_C(0x000abcdef0123007), .mod_level = 5, .mod_clear = PTE_P, .f = F_WP | F_NXE,
	 .kind = WR, .cpl = 3, PF(5, 0x6)},
	{"la57 M=46: PML5E bit 46 reserved", I5, 1, 0xff123456789abcde,
	 UINT64_C(0x00000def0123007), .mod_level = 5, .mod_set = UINT64_C(1) << 46, .m = 46,
	 .f = F_WP | F_NXE, .kind = RD, PF(5, 0x9)},
	{"la57 1G bit 29 reserved", I5, 3, 0x0001234512345678, UINT64_C(0x4020000083),
	 .f = F_WP | F_NXE, .kind = RD, PF(3, 0x9)},
	{"la57 C-bit 47 everywhere", I5, 2, 0x00fedcba98765432, UINT64_C(0x123456600087),
	 .all_set = UINT64_C(1) << 47, .cbit = 47, .cr3_or = UINT64_C(1) << 47,
	 .f = F_WP | F_NXE, .kind = RD, OK(UINT64_C(0x123456765432))},
	{"la57 U/S clear in PML5E, user read", I5, 1, 0xff123456789abcde,
	 UINT64_C(0x000abcdef0123007), .mod_level = 5, .mod_clear = PTE_US, .f = F_WP | F_NXE,
	 .kind = RD, .cpl = 3, PF(1, 0x5)},
};
#define N_SPOTS (sizeof g_spots / sizeof g_spots[0])

static void run_spot(const struct spot *s)
{
	struct path p;
	struct ocfg c;
	struct oexp x;
	struct pt_cpu_state cpu;
	struct pt_context ctx;
	struct pt_fault f;
	struct outcome o;
	struct pt_access a = {s->kind, s->cpl, s->implicit};
	uint64_t tva = s->tva ? s->tva : s->va, tpa = 0;
	enum pt_status ist;

	snprintf(g_desc, sizeof g_desc, "spot: %s", s->name);
	g_cases++;
	path_init(&p, s->mode, s->va, s->leaf, s->leaf_entry);
	if (s->all_set)
		for (unsigned level = p.top; level >= p.leaf; level--)
			path_set(&p, level, path_get(&p, level) | s->all_set);
	if (s->mod_level)
		path_set(&p, s->mod_level, (path_get(&p, s->mod_level) | s->mod_set) & ~s->mod_clear);

	memset(&c, 0, sizeof c);
	c.mode = s->mode;
	c.f = s->f;
	c.pkru = s->pkru;
	c.m = s->m ? s->m : 52;
	c.cbit = s->cbit;
	c.cr3 = p.b.root | s->cr3_or;

	/* The oracle must agree with the literal (it is what the families trust). */
	oracle(&p.b, &c, tva, &a, &x);
	if (s->init_gp) {
		if (x.init_st != PT_FAULT)
			failf("ORACLE: expected init #GP");
	} else if (x.init_st != PT_OK || x.st != s->st ||
		   (s->st == PT_OK && x.pa != s->pa) ||
		   (s->st == PT_FAULT &&
		    (x.vector != s->vector || x.err != s->err || x.flevel != s->level))) {
		failf("ORACLE disagrees with the literal: st %d pa 0x%" PRIx64
		      " vector %u err 0x%x level %u",
		      (int)x.st, x.pa, x.vector, x.err, x.flevel);
	}

	mk_cpu(&cpu, &c);
	memset(&f, 0, sizeof f);
	ist = pt_context_init(&ctx, &cpu, ptb_mem(&p.b), &f, &tpa);
	if (s->init_gp) {
		if (ist != PT_FAULT || f.vector != PT_VEC_GP || f.error_code != 0)
			failf("pt_context_init: expected #GP(0), got %s vector %u error 0x%x",
			      pt_status_name(ist), f.vector, f.error_code);
		goto out;
	}
	if (ist != PT_OK) {
		failf("pt_context_init: expected OK, got %s vector %u", pt_status_name(ist),
		      f.vector);
		goto out;
	}
	memset(&o, 0, sizeof o);
	o.st = pt_translate(&ctx, ptb_mem(&p.b), tva, &a, &o.r);
	switch (s->st) {
	case PT_OK:
		if (assert_pa(&o, s->pa) && s->page_size)
			assert_mapping(&o, s->page_size, s->leaf);
		break;
	case PT_FAULT:
		if (s->vector == PT_VEC_GP)
			assert_gp(&o);
		else
			assert_pf(&o, s->level, s->err);
		break;
	default:
		assert_status(&o, s->st);
		break;
	}
	/* and the full comparison (entries, rights, pa_in_dump, walk, access check) */
	g_cases--; /* run_case counts it again */
	run_case(&p.b, &c, tva, &a);
out:
	ptb_deinit(&p.b);
}

static void test_spots(void **state)
{
	begin();
	for (size_t i = 0; i < N_SPOTS; i++)
		run_spot(&g_spots[i]);
	finish();
}

/* ---- Hand-built special layouts ---------------------------------------------------------- */

/* 32-bit paging without CR4.PSE: PS in a PDE is ignored, the PDE references a page table. */
static void test_legacy_ps_ignored_without_pse(void **state)
{
	struct ptb b;
	struct ocfg c;
	struct pt_cpu_state cpu;
	struct pt_context ctx;
	struct outcome o;
	struct pt_access a = {PT_ACCESS_READ, 0, false};
	uint64_t va = 0xc0123456, pde_pa, pt;

	begin();
	snprintf(g_desc, sizeof g_desc, "legacy PS ignored without CR4.PSE");
	ptb_init(&b, PT_MODE_LEGACY, MEM_SIZE, TABLES_PA);
	pt = ptb_alloc_page(&b);
	pde_pa = b.root + (va >> 22) * 4;
	ptb_set(&b, pde_pa, pt | PTE_PS | PTE_P | PTE_RW | PTE_US);
	ptb_set(&b, pt + ((va >> 12) & 0x3ff) * 4, 0x00777000 | PTE_P | PTE_RW | PTE_US);

	memset(&c, 0, sizeof c);
	c.mode = PT_MODE_LEGACY;
	c.f = F_WP;
	c.m = 36;
	c.cr3 = b.root;
	mk_cpu(&cpu, &c);
	assert_int_equal(pt_context_init(&ctx, &cpu, ptb_mem(&b), NULL, NULL), PT_OK);
	o.st = pt_translate(&ctx, ptb_mem(&b), va, &a, &o.r);
	g_cases++;
	if (assert_pa(&o, 0x00777456))
		assert_mapping(&o, K4, 1);
	/* with CR4.PSE the same PDE maps a 4 MiB page at pt & 0xffc00000 = 0 (bits 20:13 of
	 * the table address 0x11000 are PSE-36 bits: 0x11000 has bit 16 and bit 12 set) */
	c.f = F_WP | F_PSE;
	mk_cpu(&cpu, &c);
	assert_int_equal(pt_context_init(&ctx, &cpu, ptb_mem(&b), NULL, NULL), PT_OK);
	o.st = pt_translate(&ctx, ptb_mem(&b), va, &a, &o.r);
	g_cases++;
	{
		uint64_t pde = pt | PTE_PS | PTE_P | PTE_RW | PTE_US;
		uint64_t want = (pde & 0xffc00000u) | (((pde >> 13) & 0xff) << 32) | (va & 0x3fffff);
		if (pde & bits(20, 17)) /* M = 36: bits 20:17 reserved */
			assert_pf(&o, 2, 0x9);
		else
			assert_pa(&o, want);
	}
	ptb_deinit(&b);
	finish();
}

/* PAE CR3 holds a 32-byte-aligned PDPT address in bits 31:5; bits 4:0 are ignored (Table 4-7). */
static void test_pae_cr3_32_byte_aligned(void **state)
{
	struct path p;
	struct ocfg c;
	struct pt_access a = {PT_ACCESS_READ, 0, false};
	uint64_t newpdpt;

	begin();
	snprintf(g_desc, sizeof g_desc, "pae CR3 32-byte aligned PDPT");
	path_init(&p, PT_MODE_PAE, 0xb7e5d123, 1, UINT64_C(0xabcdef007));
	newpdpt = p.b.root + 0x860; /* 32-byte aligned, not page aligned */
	for (unsigned i = 0; i < 4; i++) {
		ptb_set(&p.b, newpdpt + 8 * i, ptb_get(&p.b, p.b.root + 8 * i));
		ptb_set(&p.b, p.b.root + 8 * i, 0);
	}
	memset(&c, 0, sizeof c);
	c.mode = PT_MODE_PAE;
	c.f = F_WP | F_NXE;
	c.m = 36;
	for (uint64_t low = 0; low < 32; low++) {
		struct pt_cpu_state cpu;
		struct pt_context ctx;
		struct outcome o;

		c.cr3 = newpdpt | low;
		mk_cpu(&cpu, &c);
		g_cases++;
		snprintf(g_desc, sizeof g_desc, "pae CR3=0x%" PRIx64, c.cr3);
		if (pt_context_init(&ctx, &cpu, ptb_mem(&p.b), NULL, NULL) != PT_OK) {
			failf("pt_context_init failed");
			continue;
		}
		o.st = pt_translate(&ctx, ptb_mem(&p.b), 0xb7e5d123, &a, &o.r);
		assert_pa(&o, UINT64_C(0xabcdef123));
		/* through the generic comparison too */
		run_case(&p.b, &c, 0xb7e5d123, &a);
	}
	ptb_deinit(&p.b);
	finish();
}

/* Impossible CPU states are PT_EINVAL at context init (walk.h). */
static void test_context_einval(void **state)
{
	struct pt_cpu_state cpu;
	struct pt_context ctx;
	struct ocfg c;
	static const uint8_t bad_m[] = {0, 31, 53, 64};

	begin();
	memset(&c, 0, sizeof c);
	c.mode = PT_MODE_IA32E;
	c.f = F_WP | F_NXE;
	c.cr3 = TABLES_PA;
	for (size_t i = 0; i < sizeof bad_m; i++) {
		c.m = bad_m[i];
		mk_cpu(&cpu, &c);
		snprintf(g_desc, sizeof g_desc, "MAXPHYADDR %u", bad_m[i]);
		g_cases++;
		if (pt_context_init(&ctx, &cpu, NULL, NULL, NULL) != PT_EINVAL)
			failf("expected PT_EINVAL");
	}
	/* LMA without CR4.PAE */
	c.m = 52;
	mk_cpu(&cpu, &c);
	cpu.cr4 &= ~bit(CR4_BIT_PAE);
	snprintf(g_desc, sizeof g_desc, "EFER.LMA without CR4.PAE");
	g_cases++;
	if (pt_context_init(&ctx, &cpu, NULL, NULL, NULL) != PT_EINVAL)
		failf("expected PT_EINVAL");
	/* C-bit below 32: an address bit of a 32-bit CR3, not a CPU state (found by the walk_diff
	 * campaign: a PAE context with the C-bit at 12 made the PDPT address ambiguous) */
	const uint8_t bad_cbits[] = { 11, 12, 31, 63 };
	for (size_t i = 0; i < sizeof(bad_cbits); i++) {
		mk_cpu(&cpu, &c);
		cpu.cbit = bad_cbits[i];
		snprintf(g_desc, sizeof g_desc, "C-bit %u", bad_cbits[i]);
		g_cases++;
		if (pt_context_init(&ctx, &cpu, NULL, NULL, NULL) != PT_EINVAL)
			failf("expected PT_EINVAL");
	}
	mk_cpu(&cpu, &c);
	cpu.cbit = 32;
	snprintf(g_desc, sizeof g_desc, "C-bit 32 (the lowest possible)");
	g_cases++;
	if (pt_context_init(&ctx, &cpu, NULL, NULL, NULL) != PT_OK)
		failf("expected PT_OK");
	finish();
}

/* A table missing from the dump is PT_NOT_IN_DUMP with its PA, never a #PF; a frame past the
 * end translates with pa_in_dump = false. */
static void test_not_in_dump(void **state)
{
	static const struct pt_access acc[] = {{PT_ACCESS_READ, 0, false},
					       {PT_ACCESS_WRITE, 3, false}};

	begin();
	for (size_t si = 0; si < N_SHAPES; si++) {
		const struct shape *s = &g_shapes[si];
		struct path p;
		uint64_t far = s->mode == PT_MODE_LEGACY ? UINT64_C(0xf0000000)
							 : UINT64_C(0x1000000000) /* bit 36 */;

		path_init(&p, s->mode, s->va, s->leaf, s->leaf_entry);
		for (uint8_t m = 40; m <= 52; m += 12) {
			struct ocfg c = shape_cfg(s, &p, F_WP | F_NXE, m);

			for (size_t ai = 0; ai < 2; ai++) {
				/* each table pointer (or the PAE PDPTE) sent outside memory */
				for (unsigned level = p.top; level > p.leaf; level--) {
					uint64_t v = (p.base[level] & 0xfff) | far;
					path_set(&p, level, v);
					snprintf(g_desc, sizeof g_desc,
						 "%s: level %u table at 0x%" PRIx64 " M=%u %s", s->name,
						 level, far, m, acc_str(&acc[ai]));
					run_case(&p.b, &c, s->va, &acc[ai]);
					path_reset(&p);
				}
				/* leaf frame outside memory */
				{
					uint64_t pmask = s->leaf == 1 ? 0xfff : 0x1fff;
					path_set(&p, p.leaf, (p.base[p.leaf] & pmask) | far);
					snprintf(g_desc, sizeof g_desc,
						 "%s: leaf frame 0x%" PRIx64 " M=%u %s", s->name, far,
						 m, acc_str(&acc[ai]));
					run_case(&p.b, &c, s->va, &acc[ai]);
					path_reset(&p);
				}
				/* root outside memory (PAE: the PDPT, at context init) */
				{
					struct ocfg c2 = c;
					c2.cr3 = s->mode == PT_MODE_LEGACY || s->mode == PT_MODE_PAE
							 ? UINT64_C(0xf0000000)
							 : far;
					snprintf(g_desc, sizeof g_desc, "%s: root 0x%" PRIx64 " %s",
						 s->name, c2.cr3, acc_str(&acc[ai]));
					run_case(&p.b, &c2, s->va, &acc[ai]);
				}
			}
		}
		ptb_deinit(&p.b);
	}
	finish();
}

/* ---- Families ------------------------------------------------------------------------- */

/*
 * Every bit of every entry on the path toggled, one at a time (P, R/W, U/S, PS, PAT, address
 * bits, reserved bits, ignored bits, XD, PK), for MAXPHYADDR 36/40/46/52 (32/36/40/52 for
 * 32-bit paging), NXE off/on, and three accesses.
 */
static void test_family_bit_toggle(void **state)
{
	static const uint8_t m64[] = {36, 40, 46, 52}, m32[] = {32, 36, 40, 52};

	begin();
	for (size_t si = 0; si < N_SHAPES; si++) {
		const struct shape *s = &g_shapes[si];
		struct path p;
		unsigned nbits = o_esize(s->mode) * 8;
		const uint8_t *ms = s->mode == PT_MODE_LEGACY ? m32 : m64;

		path_init(&p, s->mode, s->va, s->leaf, s->leaf_entry);
		for (unsigned level = p.top; level >= p.leaf; level--) {
			for (unsigned b = 0; b < nbits; b++) {
				path_set(&p, level, p.base[level] ^ bit(b));
				for (unsigned mi = 0; mi < 4; mi++) {
					for (unsigned nxe = 0; nxe < 2; nxe++) {
						struct ocfg c = shape_cfg(s, &p, F_WP | (nxe ? F_NXE : 0),
									  ms[mi]);
						for (size_t ai = 0; ai < 3; ai++) {
							snprintf(g_desc, sizeof g_desc,
								 "%s: level %u bit %u toggled (entry "
								 "0x%" PRIx64 ") M=%u %s %s",
								 s->name, level, b, p.base[level] ^ bit(b),
								 ms[mi], flags_str(c.f), acc_str(&ACC_3[ai]));
							run_case(&p.b, &c, s->va, &ACC_3[ai]);
						}
					}
				}
			}
			path_reset(&p);
		}
		ptb_deinit(&p.b);
	}
	finish();
}

enum op { OP_NONE, OP_CLR_P, OP_CLR_RW, OP_CLR_US, OP_SET_XD };
static const char *const op_names[] = {"none", "clear P", "clear R/W", "clear U/S", "set XD"};

static uint64_t apply_op(uint64_t v, enum op op)
{
	switch (op) {
	case OP_CLR_P: return v & ~PTE_P;
	case OP_CLR_RW: return v & ~PTE_RW;
	case OP_CLR_US: return v & ~PTE_US;
	case OP_SET_XD: return v | PTE_XD;
	default: return v;
	}
}

static unsigned flags5(unsigned i)
{
	return ((i & 1) ? F_WP : 0) | ((i & 2) ? F_NXE : 0) | ((i & 4) ? F_SMEP : 0) |
	       ((i & 8) ? F_SMAP : 0) | ((i & 16) ? F_AC : 0);
}

/*
 * Rights (4.6.1): for each shape, no change or one of {clear P, clear R/W, clear U/S, set XD}
 * at one level, x WP/NXE/SMEP/SMAP/AC (32 combinations) x 10 accesses (read/write/fetch at
 * CPL 0 and 3, implicit read/write at CPL 0 and 3).
 */
static void test_family_rights(void **state)
{
	begin();
	for (size_t si = 0; si < N_SHAPES; si++) {
		const struct shape *s = &g_shapes[si];
		struct path p;

		path_init(&p, s->mode, s->va, s->leaf, s->leaf_entry);
		for (unsigned level = p.top; level >= p.leaf; level--) {
			for (int op = OP_NONE; op <= OP_SET_XD; op++) {
				uint64_t v = apply_op(p.base[level], (enum op)op);
				if (op == OP_NONE && level != p.top)
					continue;
				if (op != OP_NONE && v == p.base[level])
					continue;
				if (s->mode == PT_MODE_LEGACY && op == OP_SET_XD)
					continue;
				path_set(&p, level, v);
				for (unsigned fi = 0; fi < 32; fi++) {
					struct ocfg c = shape_cfg(s, &p, flags5(fi), 52);
					if (s->mode == PT_MODE_LEGACY)
						c.m = 40;
					for (size_t ai = 0; ai < N_ACC_ALL; ai++) {
						snprintf(g_desc, sizeof g_desc,
							 "%s: level %u %s, %s, %s", s->name, level,
							 op_names[op], flags_str(c.f),
							 acc_str(&ACC_ALL[ai]));
						run_case(&p.b, &c, s->va, &ACC_ALL[ai]);
					}
				}
				path_reset(&p);
			}
		}
		ptb_deinit(&p.b);
	}
	finish();
}

/*
 * Rights combined over levels: two changes at two different levels (R/W, U/S, XD), with the
 * leaf supervisor or user, x WP/NXE/SMAP x 10 accesses.
 */
static void test_family_rights_pairs(void **state)
{
	static const enum op ops[] = {OP_CLR_RW, OP_CLR_US, OP_SET_XD};

	begin();
	for (size_t si = 0; si < N_SHAPES; si++) {
		const struct shape *s = &g_shapes[si];
		struct path p;

		if (s->mode == PT_MODE_LEGACY && s->leaf == 2)
			continue; /* one level only */
		path_init(&p, s->mode, s->va, s->leaf, s->leaf_entry);
		for (unsigned l1 = p.top; l1 > p.leaf; l1--) {
			for (unsigned l2 = l1 - 1; l2 >= p.leaf; l2--) {
				if (s->mode == PT_MODE_PAE && (l1 == 3 || l2 == 3))
					continue; /* PDPTE: no rights bits */
				for (size_t o1 = 0; o1 < 3; o1++) {
					for (size_t o2 = 0; o2 < 3; o2++) {
						if (s->mode == PT_MODE_LEGACY &&
						    (ops[o1] == OP_SET_XD || ops[o2] == OP_SET_XD))
							continue;
						path_set(&p, l1, apply_op(p.base[l1], ops[o1]));
						path_set(&p, l2, apply_op(p.base[l2], ops[o2]));
						for (unsigned fi = 0; fi < 8; fi++) {
							unsigned f = ((fi & 1) ? F_WP : 0) |
								     ((fi & 2) ? F_NXE : 0) |
								     ((fi & 4) ? F_SMAP : 0);
							struct ocfg c = shape_cfg(s, &p, f, 52);
							for (size_t ai = 0; ai < N_ACC_ALL; ai++) {
								snprintf(g_desc, sizeof g_desc,
									 "%s: level %u %s + level %u "
									 "%s, %s, %s",
									 s->name, l1, op_names[ops[o1]],
									 l2, op_names[ops[o2]],
									 flags_str(c.f),
									 acc_str(&ACC_ALL[ai]));
								run_case(&p.b, &c, s->va,
									 &ACC_ALL[ai]);
							}
						}
						path_reset(&p);
					}
				}
			}
		}
		ptb_deinit(&p.b);
	}
	finish();
}

/*
 * Protection keys (4.6.2): IA-32e shapes, key 0/6/15 in the leaf, leaf user or supervisor,
 * writable or not, PKRU patterns (none, AD, WD, AD|WD of the key, every other key denied,
 * all AD, all WD) x WP/SMAP/AC x 10 accesses, with CR4.PKE = 1; the same with PKE = 0.
 */
static void test_family_pkeys(void **state)
{
	static const unsigned keys[] = {0, 6, 15};

	begin();
	for (size_t si = 0; si < N_SHAPES; si++) {
		const struct shape *s = &g_shapes[si];
		struct path p;

		if (!is64(s->mode) && !(s->mode == PT_MODE_PAE && s->leaf == 1))
			continue;
		path_init(&p, s->mode, s->va, s->leaf, s->leaf_entry);
		for (size_t ki = 0; ki < 3; ki++) {
			unsigned k = keys[ki];
			uint32_t pats[] = {0,
					   1u << (2 * k),
					   1u << (2 * k + 1),
					   3u << (2 * k),
					   ~(3u << (2 * k)),
					   0x55555555,
					   0xaaaaaaaa};
			for (unsigned lf = 0; lf < 4; lf++) {
				uint64_t leafv = p.base[p.leaf];
				if (is64(s->mode))
					leafv |= (uint64_t)k << 59;
				if (lf & 1)
					leafv &= ~PTE_US;
				if (lf & 2)
					leafv &= ~PTE_RW;
				path_set(&p, p.leaf, leafv);
				for (size_t pi = 0; pi < 7; pi++) {
					for (unsigned fi = 0; fi < 16; fi++) {
						unsigned f = F_NXE | ((fi & 1) ? F_WP : 0) |
							     ((fi & 2) ? F_SMAP : 0) |
							     ((fi & 4) ? F_AC : 0) |
							     ((fi & 8) ? 0 : F_PKE);
						struct ocfg c = shape_cfg(s, &p, f, 52);
						if (!(f & F_PKE) && pi > 3)
							continue;
						c.pkru = pats[pi];
						for (size_t ai = 0; ai < N_ACC_ALL; ai++) {
							snprintf(g_desc, sizeof g_desc,
								 "%s: key %u leaf 0x%" PRIx64
								 " PKRU 0x%08x %s %s",
								 s->name, k, leafv, c.pkru,
								 flags_str(c.f), acc_str(&ACC_ALL[ai]));
							run_case(&p.b, &c, s->va, &ACC_ALL[ai]);
						}
					}
				}
				path_reset(&p);
			}
		}
		ptb_deinit(&p.b);
	}
	finish();
}

/*
 * Canonical addresses: every bit of the mapped VA toggled (4-level: bits 63:47 must be equal;
 * 5-level: bits 63:56), edge VAs, and 32-bit modes given VAs above 4 GiB.
 */
static void test_family_canonical(void **state)
{
	static const uint64_t edges[] = {
		0x00007fffffffffff, 0x0000800000000000, 0xffff7fffffffffff, 0xffff800000000000,
		0x00ffffffffffffff, 0x0100000000000000, 0xfeffffffffffffff, 0xff00000000000000,
		0x8000000000000000, 0x7fffffffffffffff, 0xffffffffffffffff, 0,
		0x0000000100000000, 0x00000000ffffffff,
	};

	begin();
	for (size_t si = 0; si < N_SHAPES; si++) {
		const struct shape *s = &g_shapes[si];
		struct path p;
		struct ocfg c;

		path_init(&p, s->mode, s->va, s->leaf, s->leaf_entry);
		c = shape_cfg(s, &p, F_WP | F_NXE, 52);
		for (unsigned b = 0; b < 64; b++) {
			for (size_t ai = 0; ai < 3; ai++) {
				uint64_t va = s->va ^ bit(b);
				snprintf(g_desc, sizeof g_desc, "%s: VA 0x%" PRIx64 " %s", s->name,
					 va, acc_str(&ACC_3[ai]));
				run_case(&p.b, &c, va, &ACC_3[ai]);
			}
		}
		for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
			snprintf(g_desc, sizeof g_desc, "%s: VA 0x%" PRIx64, s->name, edges[e]);
			run_case(&p.b, &c, edges[e], &ACC_3[0]);
		}
		ptb_deinit(&p.b);
	}
	finish();
}

/*
 * SME C-bit (cbit 39/43/47/51 where above 11, MAXPHYADDR 40..52): the C-bit set in any subset
 * of the path's entries (and CR3 for 64-bit modes) changes nothing; with a reserved bit also
 * set (bit M of the leaf) the reserved fault stays.
 */
static void test_family_cbit(void **state)
{
	static const uint8_t cbits[] = {39, 43, 47, 51};
	static const uint8_t ms[] = {40, 43, 46, 52};

	begin();
	for (size_t si = 0; si < N_SHAPES; si++) {
		const struct shape *s = &g_shapes[si];
		struct path p;
		unsigned nlev;

		if (s->mode == PT_MODE_LEGACY)
			continue;
		path_init(&p, s->mode, s->va, s->leaf, s->leaf_entry);
		nlev = p.top - p.leaf + 1;
		for (size_t ci = 0; ci < 4; ci++) {
			for (size_t mi = 0; mi < 4; mi++) {
				for (unsigned subset = 0; subset < (1u << nlev); subset++) {
					for (unsigned cr3c = 0; cr3c < (is64(s->mode) ? 2u : 1u);
					     cr3c++) {
						for (unsigned extra = 0; extra < 2; extra++) {
							struct ocfg c = shape_cfg(s, &p, F_WP | F_NXE,
										  ms[mi]);
							c.cbit = cbits[ci];
							if (cr3c)
								c.cr3 |= bit(c.cbit);
							if (extra && (ms[mi] >= 52 || ms[mi] == c.cbit))
								continue;
							for (unsigned i = 0; i < nlev; i++) {
								unsigned level = p.top - i;
								uint64_t v = p.base[level];
								if (subset & (1u << i))
									v |= bit(c.cbit);
								if (extra && level == p.leaf)
									v |= bit(ms[mi]);
								path_set(&p, level, v);
							}
							for (size_t ai = 0; ai < 3; ai++) {
								snprintf(g_desc, sizeof g_desc,
									 "%s: C-bit %u in levels mask 0x%x "
									 "cr3 %u, M=%u%s, %s",
									 s->name, c.cbit, subset, cr3c,
									 ms[mi],
									 extra ? " + bit M in leaf" : "",
									 acc_str(&ACC_3[ai]));
								run_case(&p.b, &c, s->va, &ACC_3[ai]);
							}
							path_reset(&p);
						}
					}
				}
			}
		}
		ptb_deinit(&p.b);
	}
	finish();
}

/*
 * PCID and CR3 low bits: for 64-bit shapes every CR3[11:0] pattern in a sample, with and
 * without PCIDE, plus bit 63 with PCIDE. For 32-bit modes the ignored CR3 bits.
 */
static void test_family_cr3_bits(void **state)
{
	static const uint64_t lows[] = {0, 1, 0x8, 0x10, 0x18, 0x7ff, 0x800, 0xabc, 0xfff};

	begin();
	for (size_t si = 0; si < N_SHAPES; si++) {
		const struct shape *s = &g_shapes[si];
		struct path p;

		path_init(&p, s->mode, s->va, s->leaf, s->leaf_entry);
		for (size_t li = 0; li < sizeof lows / sizeof lows[0]; li++) {
			for (unsigned pc = 0; pc < (is64(s->mode) ? 3u : 1u); pc++) {
				struct ocfg c = shape_cfg(s, &p, F_WP | F_NXE | (pc ? F_PCIDE : 0), 52);
				uint64_t low = lows[li];
				if (s->mode == PT_MODE_PAE)
					low &= 0x1f; /* bits 11:5 are address bits in PAE CR3 */
				c.cr3 |= low;
				if (pc == 2)
					c.cr3 |= bit(63);
				snprintf(g_desc, sizeof g_desc, "%s: CR3 0x%" PRIx64 " %s", s->name,
					 c.cr3, flags_str(c.f));
				run_case(&p.b, &c, s->va, &ACC_3[0]);
			}
		}
		ptb_deinit(&p.b);
	}
	finish();
}

/*
 * pt_access_check alone (4.6): every consistent combination of combined rights, pkey, PKRU,
 * WP/NXE/SMEP/SMAP/AC/PKE and the 10 accesses, in 32-bit, PAE and 4-level contexts.
 */
static void test_family_access_check(void **state)
{
	static const enum pt_mode modes[] = {PT_MODE_LEGACY, PT_MODE_PAE, PT_MODE_IA32E};
	static const uint32_t pkrus[] = {0, 1u << 6, 1u << 7, 3u << 6, 0xffffffff};

	begin();
	for (size_t mi = 0; mi < 3; mi++) {
		for (unsigned fi = 0; fi < 64; fi++) {
			unsigned f = flags5(fi & 31) | ((fi & 32) ? F_PKE : 0);
			struct ocfg c;
			struct pt_cpu_state cpu;
			struct pt_context ctx;
			struct ptb b;

			memset(&c, 0, sizeof c);
			c.mode = modes[mi];
			c.f = f;
			c.m = 52;
			ptb_init(&b, c.mode, MEM_SIZE, TABLES_PA);
			c.cr3 = b.root;
			for (size_t pi = 0; pi < 5; pi++) {
				c.pkru = pkrus[pi];
				mk_cpu(&cpu, &c);
				if (pt_context_init(&ctx, &cpu, ptb_mem(&b), NULL, NULL) != PT_OK) {
					snprintf(g_desc, sizeof g_desc, "access check ctx %s %s",
						 pt_mode_name(c.mode), flags_str(f));
					failf("pt_context_init failed");
					continue;
				}
				for (unsigned r = 0; r < 8; r++) {
					for (unsigned key = 0; key < 16; key += 3) {
						struct pt_rights rt;
						bool pkey_ok = is64(c.mode) && (f & F_PKE);
						rt.writable = r & 1;
						rt.user = r & 2;
						rt.nx = r & 4;
						rt.pkey = (uint8_t)key;
						if (rt.nx && (c.mode == PT_MODE_LEGACY || !(f & F_NXE)))
							continue;
						if (key && !pkey_ok)
							continue;
						for (size_t ai = 0; ai < N_ACC_ALL; ai++) {
							uint32_t want = o_access(&c, rt.user, rt.writable,
										 rt.nx, rt.pkey,
										 &ACC_ALL[ai]);
							uint32_t ec = pt_access_check(&ctx, &rt,
										      &ACC_ALL[ai]);
							g_cases++;
							if (ec != want) {
								snprintf(g_desc, sizeof g_desc,
									 "pt_access_check %s %s PKRU "
									 "0x%08x w=%d u=%d nx=%d key %u %s",
									 pt_mode_name(c.mode), flags_str(f),
									 c.pkru, rt.writable, rt.user,
									 rt.nx, key, acc_str(&ACC_ALL[ai]));
								failf("expected 0x%x, got 0x%x", want, ec);
							}
						}
					}
				}
			}
			ptb_deinit(&b);
		}
	}
	finish();
}

/*
 * pt_access_check returns "the #PF error code it raises" (walk.h); that code (SDM 4.7,
 * Figure 4-12) carries W/R (bit 1), U/S (bit 2) and I/D (bit 4) as well as P and PK.
 */
static void test_access_check_full_error_code(void **state)
{
	struct ocfg c;
	struct pt_cpu_state cpu;
	struct pt_context ctx;
	struct pt_rights ro_user = {false, true, false, 0}, sup = {true, false, false, 0};
	struct pt_access uw = {PT_ACCESS_WRITE, 3, false}, ur = {PT_ACCESS_READ, 3, false};
	struct pt_access sf = {PT_ACCESS_FETCH, 0, false};

	begin();
	memset(&c, 0, sizeof c);
	c.mode = PT_MODE_IA32E;
	c.f = F_WP | F_NXE | F_SMEP;
	c.m = 52;
	c.cr3 = TABLES_PA;
	mk_cpu(&cpu, &c);
	assert_int_equal(pt_context_init(&ctx, &cpu, NULL, NULL, NULL), PT_OK);
	snprintf(g_desc, sizeof g_desc, "pt_access_check literal error codes");
	g_cases += 3;
	if (pt_access_check(&ctx, &ro_user, &uw) != 0x7)
		failf("user write to read-only user page: expected 0x7 (P|W|U), got 0x%x",
		      pt_access_check(&ctx, &ro_user, &uw));
	if (pt_access_check(&ctx, &sup, &ur) != 0x5)
		failf("user read of supervisor page: expected 0x5 (P|U), got 0x%x",
		      pt_access_check(&ctx, &sup, &ur));
	if (pt_access_check(&ctx, &ro_user, &sf) != 0x11)
		failf("SMEP supervisor fetch of user page: expected 0x11 (P|I/D), got 0x%x",
		      pt_access_check(&ctx, &ro_user, &sf));
	finish();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spots),
		cmocka_unit_test(test_legacy_ps_ignored_without_pse),
		cmocka_unit_test(test_pae_cr3_32_byte_aligned),
		cmocka_unit_test(test_context_einval),
		cmocka_unit_test(test_not_in_dump),
		cmocka_unit_test(test_family_bit_toggle),
		cmocka_unit_test(test_family_rights),
		cmocka_unit_test(test_family_rights_pairs),
		cmocka_unit_test(test_family_pkeys),
		cmocka_unit_test(test_family_canonical),
		cmocka_unit_test(test_family_cbit),
		cmocka_unit_test(test_family_cr3_bits),
		cmocka_unit_test(test_family_access_check),
		cmocka_unit_test(test_access_check_full_error_code),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	printf("test_walk_sdm: %lu cases (%zu spot cases with literal expectations), "
	       "%lu mismatches\n",
	       g_cases, (size_t)N_SPOTS, g_fail_all);
	return rc;
}
