/* SPDX-License-Identifier: MIT */
/*
 * kit/cases_rights.c: access rights (SDM Vol. 3A 4.6) and #PF error codes (4.7), for walkers that
 * declare PTLAB_CAP_RIGHTS (and PTLAB_CAP_PF_ERROR for pf-error). Every probe carries
 * PTLAB_ACCESS_CHECK: rights.rw (R/W at every level, CR0.WP), rights.us (U/S), rights.nx (XD with
 * NXE), rights.smep, rights.smap (RFLAGS.AC = 0), rights.pkeys (PKRU AD/WD for user pages),
 * pf-error (not present at each level, reserved bits, protection, the I/D bit only where 4.7 says
 * it is reported). Every probe states its answer.
 */
#include "kit_internal.h"

/** The mappings a rights case may use; slot k = mapping k (kb_slot). */
enum rmap_id {
	M_URW, M_URO_PTE, M_URO_PDE, M_URO_TOP, M_URO_BIG, M_SUP_PTE, M_SUP_TOP, M_SUP_BIG,
	M_NX_PTE, M_NX_MID, M_SNX_BIG, M_K0, M_K1, M_K2, M_K3, M_SK1, M_NP_TOP, M_NP_PTE,
	M_RSVD_LEAF, M_COUNT
};

#define M64 ((1u << PT_MODE_IA32E) | (1u << PT_MODE_LA57))
#define MNX (M64 | (1u << PT_MODE_PAE))
#define MALL (MNX | (1u << PT_MODE_LEGACY))
#define UF (KIT_LEAF_FLAGS | PTE_US)
#define BIG 9   /* the mode's largest page (1 GiB, 2 MiB or 4 MiB) */
#define TOP -1  /* the top-level entry */

/** A mapping: its leaf flags and level, then one entry of its walk changed. */
static const struct rmap {
	uint8_t leaf;       /**< 0: nothing mapped */
	int8_t level;       /**< the entry changed (0: none; TOP) */
	uint64_t flags, set, clear;
	unsigned modes;     /**< 1 << enum pt_mode where it exists */
} rmaps[M_COUNT] = {
	[M_URW] = { 1, 0, UF, 0, 0, MALL },
	[M_URO_PTE] = { 1, 0, UF & ~PTE_RW, 0, 0, MALL },
	[M_URO_PDE] = { 1, 2, UF, 0, PTE_RW, MALL },
	[M_URO_TOP] = { 1, TOP, UF, 0, PTE_RW, M64 },
	[M_URO_BIG] = { 2, 0, UF & ~PTE_RW, 0, 0, MALL },
	[M_SUP_PTE] = { 1, 0, KIT_LEAF_FLAGS, 0, 0, MALL },
	[M_SUP_TOP] = { 1, TOP, UF, 0, PTE_US, M64 },
	[M_SUP_BIG] = { BIG, 0, KIT_LEAF_FLAGS, 0, 0, MALL },
	[M_NX_PTE] = { 1, 0, UF | PTE_XD, 0, 0, MNX },
	[M_NX_MID] = { 1, 2, UF, PTE_XD, 0, MNX },
	[M_SNX_BIG] = { 2, 0, KIT_LEAF_FLAGS | PTE_XD, 0, 0, MNX },
	[M_K0] = { 1, 0, UF, 0, 0, M64 },
	[M_K1] = { 1, 0, UF | UINT64_C(1) << PTE_BIT_PKEY, 0, 0, M64 },
	[M_K2] = { 1, 0, UF | UINT64_C(2) << PTE_BIT_PKEY, 0, 0, M64 },
	[M_K3] = { 1, 0, UF | UINT64_C(3) << PTE_BIT_PKEY, 0, 0, M64 },
	[M_SK1] = { 1, 0, KIT_LEAF_FLAGS | UINT64_C(1) << PTE_BIT_PKEY, 0, 0, M64 },
	[M_NP_TOP] = { 0, 0, 0, 0, 0, MALL },
	[M_NP_PTE] = { 1, 1, UF, 0, PTE_P, MALL },
	[M_RSVD_LEAF] = { 1, 0, UF, 0, 0, MALL }, /* its reserved bit is set by map_all */
};

/** One probe: a mapping, an access (KA_*; KA_C added), the #PF error code, or ALLOW. */
struct rrow {
	const char *tag;
	uint8_t map;
	uint8_t access;
	uint8_t err;
};

enum { P = PF_ERR_P, W = PF_ERR_W, U = PF_ERR_U, RS = PF_ERR_RSVD, ID = PF_ERR_ID, PK = PF_ERR_PK,
       ALLOW = 0x80 /**< the access is allowed: the probe translates */ };

static unsigned leaf_level(const struct kit_builder *b, unsigned leaf)
{
	return leaf == BIG ? (b->desc->levels >= 4 ? 3 : 2) : leaf;
}

/** Build every mapping the mode has. */
static void map_all(struct kit_builder *b)
{
	for (unsigned k = 0; k < M_COUNT; k++) {
		const struct rmap *m = &rmaps[k];
		uint64_t va, pa;

		if (!(m->modes & (1u << b->mode)) || !m->leaf)
			continue;
		kb_slot(b, k, &va, &pa);
		kb_map(b, va, pa, leaf_level(b, m->leaf), m->flags);
		if (m->level) {
			const unsigned level = m->level == TOP ? b->desc->levels : (unsigned)m->level;
			kb_or(b, va, level, m->set);
			kb_clear(b, va, level, m->clear);
		}
	}
	/* M_RSVD_LEAF: the first reserved bit of its leaf, bit M; 32-bit PTEs have no reserved
	 * bit, so there it becomes a 4 MiB page with bit 21 set (Table 4-5, MAXPHYADDR 36). */
	uint64_t va, pa;
	kb_slot(b, M_RSVD_LEAF, &va, &pa);
	if (b->mode == PT_MODE_LEGACY) {
		kb_set(b, kb_entry(b, va, 2), PTE_P | PTE_RW | PTE_US | PTE_PS | PT_BIT(21) | pa);
	} else {
		kb_or(b, va, 1, PT_BIT(kb_cpu(b)->maxphyaddr));
	}
}

static void rows(struct kit_builder *b, const struct rrow *r, size_t n)
{
	static const uint64_t offs[] = { 0x10, 0x7f8, 0xff0 };

	for (size_t i = 0; i < n; i++) {
		const struct rmap *m = &rmaps[r[i].map];
		uint64_t va, pa, size;

		kb_slot(b, r[i].map, &va, &pa);
		size = PT_BIT(b->desc->level[leaf_level(b, m->leaf ? m->leaf : 1)].va_shift);
		kb_tag(b, r[i].tag);
		for (unsigned j = 0; j < 3; j++)
			kb_probe(b, va + offs[j], r[i].access | KA_C,
				 r[i].err == ALLOW ? ki_pa(pa + offs[j], size) : ki_pf(r[i].err));
	}
}

#define RW "rights.rw"
#define US "rights.us"
#define NX "rights.nx"

/** CR0.WP = 1, NXE on, no SMEP/SMAP/PKE: the plain rights of 4.6.1. */
static const struct rrow plain64[] = {
	{ RW, M_URW, KA_U | KA_W, ALLOW },     { RW, M_URW, KA_U, ALLOW },        { RW, M_URW, KA_W, ALLOW },
	{ RW, M_URO_PTE, KA_U | KA_W, P | W | U }, { RW, M_URO_PTE, KA_U, ALLOW },
	{ RW, M_URO_PTE, KA_W, P | W },    { RW, M_URO_PTE, KA_R, ALLOW },
	{ RW, M_URO_PDE, KA_U | KA_W, P | W | U }, { RW, M_URO_PDE, KA_W, P | W },
	{ RW, M_URO_TOP, KA_U | KA_W, P | W | U }, { RW, M_URO_TOP, KA_W, P | W },
	{ RW, M_URO_TOP, KA_U, ALLOW },
	{ RW, M_URO_BIG, KA_U | KA_W, P | W | U }, { RW, M_URO_BIG, KA_W, P | W },
	{ US, M_SUP_PTE, KA_U, P | U },    { US, M_SUP_PTE, KA_U | KA_W, P | W | U },
	{ US, M_SUP_PTE, KA_U | KA_X, P | U | ID }, { US, M_SUP_PTE, KA_R, ALLOW },
	{ US, M_SUP_PTE, KA_W, ALLOW },        { US, M_SUP_TOP, KA_U, P | U }, { US, M_SUP_TOP, KA_R, ALLOW },
	{ US, M_SUP_BIG, KA_U, P | U },    { US, M_SUP_BIG, KA_U | KA_W, P | W | U },
	{ US, M_SUP_BIG, KA_W, ALLOW },
	{ NX, M_NX_PTE, KA_U | KA_X, P | U | ID }, { NX, M_NX_PTE, KA_X, P | ID },
	{ NX, M_NX_PTE, KA_U, ALLOW },         { NX, M_NX_MID, KA_U | KA_X, P | U | ID },
	{ NX, M_NX_MID, KA_X, P | ID },    { NX, M_SNX_BIG, KA_X, P | ID }, { NX, M_SNX_BIG, KA_R, ALLOW },
	{ NX, M_URW, KA_U | KA_X, ALLOW },     { NX, M_URW, KA_X, ALLOW },
};

/** PAE and 32-bit: the same without top-level rights (a PAE PDPTE has none) and, in 32-bit
 *  paging, without XD (and so without I/D in the error code). */
static const struct rrow plain_pae[] = {
	{ RW, M_URO_PTE, KA_U | KA_W, P | W | U }, { RW, M_URO_PTE, KA_W, P | W },
	{ RW, M_URO_PDE, KA_U | KA_W, P | W | U }, { RW, M_URO_BIG, KA_U | KA_W, P | W | U },
	{ RW, M_URW, KA_U | KA_W, ALLOW },
	{ US, M_SUP_PTE, KA_U, P | U },    { US, M_SUP_BIG, KA_U, P | U },
	{ US, M_SUP_PTE, KA_U | KA_X, P | U | ID },
	{ NX, M_NX_PTE, KA_U | KA_X, P | U | ID }, { NX, M_NX_PTE, KA_X, P | ID },
	{ NX, M_NX_MID, KA_U | KA_X, P | U | ID }, { NX, M_URW, KA_X, ALLOW },
};
static const struct rrow plain_legacy[] = {
	{ RW, M_URO_PTE, KA_U | KA_W, P | W | U }, { RW, M_URO_PTE, KA_W, P | W },
	{ RW, M_URO_PDE, KA_U | KA_W, P | W | U }, { RW, M_URO_BIG, KA_U | KA_W, P | W | U },
	{ RW, M_URW, KA_U | KA_W, ALLOW },
	{ US, M_SUP_PTE, KA_U, P | U },    { US, M_SUP_PTE, KA_U | KA_X, P | U },
	{ US, M_SUP_BIG, KA_U, P | U },    { US, M_URW, KA_U | KA_X, ALLOW },
};
/** CR0.WP = 0: supervisor writes ignore R/W (4.6.1). */
static const struct rrow wp0[] = {
	{ RW, M_URO_PTE, KA_W, ALLOW },        { RW, M_URO_PTE, KA_U | KA_W, P | W | U },
	{ RW, M_URO_TOP, KA_W, ALLOW },        { RW, M_URO_BIG, KA_W, ALLOW }, { RW, M_SUP_PTE, KA_W, ALLOW },
};
/** CR4.SMEP: no supervisor fetch from a user page. */
static const struct rrow smep[] = {
	{ "rights.smep", M_URW, KA_X, P | ID },     { "rights.smep", M_URW, KA_U | KA_X, ALLOW },
	{ "rights.smep", M_URW, KA_R, ALLOW },          { "rights.smep", M_SUP_PTE, KA_X, ALLOW },
	{ "rights.smep", M_NX_PTE, KA_X, P | ID },  { "rights.smep", M_URO_BIG, KA_X, P | ID },
	{ "rights.smep", M_SUP_BIG, KA_X, ALLOW },
};
/** CR4.SMAP with RFLAGS.AC = 0: no supervisor data access to a user page. */
static const struct rrow smap[] = {
	{ "rights.smap", M_URW, KA_R, P },          { "rights.smap", M_URW, KA_W, P | W },
	{ "rights.smap", M_URW, KA_X, ALLOW },          { "rights.smap", M_URW, KA_U, ALLOW },
	{ "rights.smap", M_SUP_PTE, KA_R, ALLOW },      { "rights.smap", M_URO_PTE, KA_W, P | W },
	{ "rights.smap", M_URO_PTE, KA_R, P },      { "rights.smap", M_SUP_BIG, KA_R, ALLOW },
};
/** CR4.PKE, PKRU 0xe4: key 1 access-disabled, key 2 write-disabled, key 3 both (4.6.2). */
static const struct rrow pkeys[] = {
	{ "rights.pkeys", M_K0, KA_U, ALLOW },          { "rights.pkeys", M_K0, KA_U | KA_W, ALLOW },
	{ "rights.pkeys", M_K1, KA_U, P | U | PK }, { "rights.pkeys", M_K1, KA_U | KA_W, P | W | U | PK },
	{ "rights.pkeys", M_K1, KA_U | KA_X, ALLOW },   { "rights.pkeys", M_K1, KA_R, P | PK },
	{ "rights.pkeys", M_K1, KA_W, P | W | PK }, { "rights.pkeys", M_K2, KA_U, ALLOW },
	{ "rights.pkeys", M_K2, KA_U | KA_W, P | W | U | PK }, { "rights.pkeys", M_K2, KA_W, P | W | PK },
	{ "rights.pkeys", M_K2, KA_R, ALLOW },          { "rights.pkeys", M_K3, KA_U, P | U | PK },
	{ "rights.pkeys", M_K3, KA_U | KA_X, ALLOW },   { "rights.pkeys", M_SK1, KA_R, ALLOW },
	{ "rights.pkeys", M_SK1, KA_U, P | U },     { "rights.pkeys", M_SK1, KA_W, ALLOW },
};
/** The same keys with CR0.WP = 0: write-disable no longer stops supervisor writes. */
static const struct rrow pkeys_wp0[] = {
	{ "rights.pkeys", M_K2, KA_W, ALLOW },          { "rights.pkeys", M_K2, KA_U | KA_W, P | W | U | PK },
	{ "rights.pkeys", M_K1, KA_W, P | W | PK },
};

#define PF "pf-error"
/** Error codes (4.7): not present at the top and at the PTE, reserved, protection; I/D reported
 *  because NXE = 1. */
static const struct rrow pf64[] = {
	{ PF, M_NP_TOP, KA_R, 0 },         { PF, M_NP_TOP, KA_W, W },     { PF, M_NP_TOP, KA_U, U },
	{ PF, M_NP_TOP, KA_U | KA_W, W | U }, { PF, M_NP_TOP, KA_X, ID }, { PF, M_NP_TOP, KA_U | KA_X, U | ID },
	{ PF, M_NP_PTE, KA_R, 0 },         { PF, M_NP_PTE, KA_W, W },     { PF, M_NP_PTE, KA_U, U },
	{ PF, M_NP_PTE, KA_U | KA_W, W | U }, { PF, M_NP_PTE, KA_X, ID }, { PF, M_NP_PTE, KA_U | KA_X, U | ID },
	{ PF, M_RSVD_LEAF, KA_R, P | RS }, { PF, M_RSVD_LEAF, KA_U | KA_W, P | RS | W | U },
	{ PF, M_RSVD_LEAF, KA_X, P | RS | ID }, { PF, M_RSVD_LEAF, KA_U | KA_X, P | RS | U | ID },
	{ PF, M_URO_PTE, KA_U | KA_W, P | W | U }, { PF, M_SUP_PTE, KA_U, P | U },
	{ PF, M_NX_PTE, KA_X, P | ID },    { PF, M_NX_PTE, KA_U | KA_X, P | U | ID },
	{ PF, M_URW, KA_U | KA_W, ALLOW },
};
/** 32-bit paging without SMEP: no I/D bit, even for fetches. */
static const struct rrow pf_legacy[] = {
	{ PF, M_NP_TOP, KA_X, 0 },         { PF, M_NP_TOP, KA_U | KA_X, U }, { PF, M_NP_PTE, KA_W, W },
	{ PF, M_RSVD_LEAF, KA_U | KA_W, P | RS | W | U }, { PF, M_RSVD_LEAF, KA_X, P | RS },
	{ PF, M_URO_PTE, KA_U | KA_W, P | W | U }, { PF, M_SUP_PTE, KA_U | KA_X, P | U },
};
/** 32-bit paging with SMEP: I/D reported. */
static const struct rrow pf_legacy_smep[] = {
	{ PF, M_URW, KA_X, P | ID },       { PF, M_NP_PTE, KA_X, ID },    { PF, M_NP_PTE, KA_U | KA_X, U | ID },
	{ PF, M_URW, KA_U | KA_X, ALLOW },
};
/** PAE with NXE = 0: XD is a reserved bit and I/D is not reported. */
static const struct rrow pf_pae_nonxe[] = {
	{ PF, M_NP_PTE, KA_X, 0 },         { PF, M_NX_PTE, KA_X, P | RS }, { PF, M_NX_PTE, KA_U, P | RS | U },
	{ PF, M_SUP_PTE, KA_U | KA_W, P | W | U },
};
/** Protection keys: PK. */
static const struct rrow pf_pkeys[] = {
	{ PF, M_K1, KA_U, P | U | PK },    { PF, M_K2, KA_U | KA_W, P | W | U | PK },
	{ PF, M_K1, KA_W, P | W | PK },
};

/** One rights case: the mode, the CPU bits that differ, the rows. */
static const struct rcase {
	enum pt_mode mode;
	uint64_t cr0_clear, cr4_set, efer_clear;
	uint32_t pkru;
	const struct rrow *rows;
	size_t nrows;
} rcases[] = {
#define R(mode, cr0c, cr4s, eferc, pkru, rows) { mode, cr0c, cr4s, eferc, pkru, rows, sizeof(rows) / sizeof(rows[0]) }
	R(PT_MODE_IA32E, 0, 0, 0, 0, plain64),                         /* 0 */
	R(PT_MODE_LA57, 0, 0, 0, 0, plain64),                          /* 1 */
	R(PT_MODE_PAE, 0, 0, 0, 0, plain_pae),                         /* 2 */
	R(PT_MODE_LEGACY, 0, 0, 0, 0, plain_legacy),                   /* 3 */
	R(PT_MODE_IA32E, CR0_WP, 0, 0, 0, wp0),                        /* 4 */
	R(PT_MODE_IA32E, 0, CR4_SMEP, 0, 0, smep),                     /* 5 */
	R(PT_MODE_IA32E, 0, CR4_SMAP, 0, 0, smap),                     /* 6 */
	R(PT_MODE_PAE, 0, CR4_SMAP, 0, 0, smap),                       /* 7 */
	R(PT_MODE_IA32E, 0, CR4_PKE, 0, 0xe4, pkeys),                  /* 8 */
	R(PT_MODE_IA32E, CR0_WP, CR4_PKE, 0, 0xe4, pkeys_wp0),         /* 9 */
	R(PT_MODE_IA32E, 0, 0, 0, 0, pf64),                            /* 10 */
	R(PT_MODE_LEGACY, 0, 0, 0, 0, pf_legacy),                      /* 11 */
	R(PT_MODE_LEGACY, 0, CR4_SMEP, 0, 0, pf_legacy_smep),          /* 12 */
	R(PT_MODE_PAE, 0, 0, EFER_NXE, 0, pf_pae_nonxe),               /* 13 */
	R(PT_MODE_LA57, 0, CR4_PKE, 0, 0xe4, pf_pkeys),                /* 14 */
#undef R
};

static struct kit_case *build_rights(const struct kit_case_def *def, const char *globs,
				     struct pt_error *err)
{
	const struct rcase *rc = &rcases[def->arg];
	struct kit_builder b;
	struct pt_cpu_state *s;

	kb_begin(&b, def->name, rc->mode, rc->mode == PT_MODE_LEGACY ? 36 : 46, 0x100000, globs);
	s = kb_cpu(&b);
	s->cr0 &= ~rc->cr0_clear;
	s->cr4 |= rc->cr4_set;
	s->efer &= ~rc->efer_clear;
	s->pkru = rc->pkru;
	map_all(&b);
	rows(&b, rc->rows, rc->nrows);
	return kb_finish(&b);
}

const struct kit_case_def kit_cases_rights[] = {
	{ "rights-ia32e4", "rights.rw,rights.us,rights.nx", build_rights, 0 },
	{ "rights-ia32e5", "rights.rw,rights.us,rights.nx", build_rights, 1 },
	{ "rights-pae", "rights.rw,rights.us,rights.nx", build_rights, 2 },
	{ "rights-legacy32", "rights.rw,rights.us", build_rights, 3 },
	{ "rights-ia32e4-wp0", "rights.rw", build_rights, 4 },
	{ "rights-ia32e4-smep", "rights.smep", build_rights, 5 },
	{ "rights-ia32e4-smap", "rights.smap", build_rights, 6 },
	{ "rights-pae-smap", "rights.smap", build_rights, 7 },
	{ "rights-ia32e4-pkeys", "rights.pkeys", build_rights, 8 },
	{ "rights-ia32e4-pkeys-wp0", "rights.pkeys", build_rights, 9 },
	{ "pf-error-ia32e4", "pf-error", build_rights, 10 },
	{ "pf-error-legacy32", "pf-error", build_rights, 11 },
	{ "pf-error-legacy32-smep", "pf-error", build_rights, 12 },
	{ "pf-error-pae-nxe-off", "pf-error", build_rights, 13 },
	{ "pf-error-ia32e5-pkeys", "pf-error", build_rights, 14 },
	{ 0 },
};
