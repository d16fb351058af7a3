/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fz_check.c: recompute what a walk must have produced from the entries it reports, with
 * the SDM's rules written out again here (4.3-4.7), independently of walker/walk.c. Not
 * instrumented for coverage (FZ_NO_COVERAGE): the checker's branches say nothing about the walker.
 */
#include "fz_check.h"

#include <inttypes.h>
#include <stdio.h>

#include "input.h"

FZ_NO_COVERAGE static uint64_t mask_bits(unsigned hi, unsigned lo)
{
	return (hi >= 63 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1) & ~((UINT64_C(1) << lo) - 1);
}

FZ_NO_COVERAGE static bool is_x64(const struct pt_context *ctx)
{
	return ctx->mode == PT_MODE_IA32E || ctx->mode == PT_MODE_LA57;
}

/** May an entry at `level` with value `v` map a page (PS), per mode (SDM 4.3, 4.4.2, 4.5.4)? */
FZ_NO_COVERAGE static bool maps_page(const struct pt_context *ctx, unsigned level, uint64_t v)
{
	if (level == 1)
		return true;
	if (!(v & PTE_PS))
		return false;
	if (ctx->mode == PT_MODE_LEGACY)
		return level == 2 && (ctx->flags & PT_CTX_PSE);
	if (ctx->mode == PT_MODE_PAE)
		return level == 2;
	return level == 2 || level == 3;
}

static void dump_result(uint64_t va, enum pt_status st, const struct pt_result *r)
{
	fprintf(stderr, "va 0x%" PRIx64 ": %s pa 0x%" PRIx64 " size 0x%" PRIx64 " level %u "
		"rights w%d u%d nx%d pk%u fault vec %u err 0x%x level %u\n", va, pt_status_name(st),
		r->pa, r->page_size, r->level, r->rights.writable, r->rights.user, r->rights.nx,
		r->rights.pkey, r->fault.vector, r->fault.error_code, r->fault.level);
	for (unsigned i = 0; i < r->nentries && i < 5; i++)
		fprintf(stderr, "  L%u entry @0x%" PRIx64 " = 0x%" PRIx64 "\n", r->entry[i].level,
			r->entry[i].pa, r->entry[i].value);
}

#define FAIL(...)                                    \
	do {                                         \
		dump_result(va, status, r);          \
		fz_fail(__VA_ARGS__);                \
	} while (0)

FZ_NO_COVERAGE void fz_check_result(const struct pt_context *ctx, uint64_t va,
				    const struct pt_access *access, enum pt_status status,
				    const struct pt_result *r)
{
	const struct pt_mode_desc *d = ctx->desc;

	if (status == PT_EINVAL || status == PT_NOT_IN_DUMP || d == NULL)
		return;
	const unsigned esize = d->entry_size;
	const uint64_t cbit = esize == 8 ? ctx->cbit_mask : 0;
	const unsigned m = ctx->maxphyaddr;
	const bool user_mode = access && access->cpl == 3 && !access->implicit;

	if (status == PT_FAULT && r->fault.vector == PT_VEC_GP) {
		if (!is_x64(ctx) || pt_va_canonical(ctx, va))
			FAIL("#GP for a canonical address (or outside IA-32e mode)");
		return;
	}
	if (status == PT_FAULT && r->fault.vector != PT_VEC_PF)
		FAIL("fault vector %u", r->fault.vector);
	if (r->nentries == 0 || r->nentries > d->levels)
		FAIL("%u entries read", r->nentries);

	/* The chain: each entry sits in the table the previous one points to, at VA's index. */
	uint64_t table = ctx->root;
	for (unsigned i = 0; i < r->nentries; i++) {
		const unsigned level = d->levels - i;
		const struct pt_level_desc *ld = &d->level[level];
		const uint64_t index = (va >> ld->va_shift) & ((UINT64_C(1) << ld->index_bits) - 1);
		const uint64_t v = r->entry[i].value & ~cbit;
		if (r->entry[i].level != level)
			FAIL("entry %u has level %u, expected %u", i, r->entry[i].level, level);
		if (r->entry[i].pa != table + index * esize)
			FAIL("entry %u at 0x%" PRIx64 ", expected 0x%" PRIx64, i, r->entry[i].pa,
			     table + index * esize);
		if (i + 1 < r->nentries) {
			if (!(v & PTE_P) || maps_page(ctx, level, v))
				FAIL("walk went on below a non-present or leaf entry at level %u", level);
		}
		table = esize == 4 ? v & mask_bits(31, 12) : v & mask_bits(m - 1, 12);
	}
	const unsigned last_level = d->levels - (r->nentries - 1u);
	const uint64_t leaf = r->entry[r->nentries - 1].value & ~cbit;

	if (status == PT_FAULT) {
		const uint32_t ec = r->fault.error_code;
		if (access) {
			if (!!(ec & PF_ERR_W) != (access->kind == PT_ACCESS_WRITE))
				FAIL("#PF W bit wrong");
			if (!!(ec & PF_ERR_U) != user_mode)
				FAIL("#PF U/S bit wrong");
			if (!!(ec & PF_ERR_ID) !=
			    (access->kind == PT_ACCESS_FETCH && (ctx->flags & PT_CTX_ID_BIT)))
				FAIL("#PF I/D bit wrong");
		}
		if ((ec & PF_ERR_RSVD) && !(ec & PF_ERR_P))
			FAIL("#PF RSVD without P");
		if (!(ec & PF_ERR_P)) {
			if (leaf & PTE_P)
				FAIL("#PF not-present but the last entry is present");
			if (r->fault.level != last_level)
				FAIL("#PF not-present at level %u, last entry at %u", r->fault.level,
				     last_level);
		}
		return;
	}

	/* PT_OK: the last entry is a present leaf; page size, PA and rights follow from it. */
	if (!(leaf & PTE_P) || !maps_page(ctx, last_level, leaf))
		FAIL("translation ends at a non-present or non-leaf entry");
	if (r->level != last_level)
		FAIL("level %u, leaf entry at %u", r->level, last_level);
	const unsigned shift = last_level == 1 ? 12 : last_level == 3 ? 30 : esize == 4 ? 22 : 21;
	const uint64_t size = UINT64_C(1) << shift;
	if (r->page_size != size)
		FAIL("page size 0x%" PRIx64 ", expected 0x%" PRIx64, r->page_size, size);
	if ((r->pa & (size - 1)) != (va & (size - 1)))
		FAIL("page offset not kept");
	uint64_t frame;
	if (esize == 8) {
		frame = leaf & mask_bits(m - 1, shift);
	} else if (shift == 12) {
		frame = leaf & mask_bits(31, 12);
	} else {
		/* 4 MiB page (Table 4-4): bits 31:22, and bits (M-20):13 give PA bits (M-1):32,
		 * with M at most 40 in 32-bit paging. */
		const unsigned m32 = m > 40 ? 40 : m;
		frame = (leaf & mask_bits(31, 22)) |
			(((leaf >> 13) & ((UINT64_C(1) << (m32 - 32)) - 1)) << 32);
	}
	if ((r->pa & ~(size - 1)) != frame)
		FAIL("frame 0x%" PRIx64 ", leaf says 0x%" PRIx64, r->pa & ~(size - 1), frame);

	/* Rights (4.6): R/W and U/S must be 1 at every level, XD 1 at any level (NXE); PAE
	 * PDPTEs carry no rights. */
	bool w = true, u = true, nx = false;
	for (unsigned i = 0; i < r->nentries; i++) {
		const uint64_t v = r->entry[i].value & ~cbit;
		if (ctx->mode == PT_MODE_PAE && r->entry[i].level == 3)
			continue;
		w = w && (v & PTE_RW);
		u = u && (v & PTE_US);
		nx = nx || (esize == 8 && (v & PTE_XD));
	}
	nx = nx && (ctx->flags & PT_CTX_NXE);
	const uint8_t pkey = (ctx->flags & PT_CTX_PKE) ? (uint8_t)((leaf >> 59) & 0xf) : 0;
	if (r->rights.writable != w || r->rights.user != u || r->rights.nx != nx ||
	    r->rights.pkey != pkey)
		FAIL("rights w%d u%d nx%d pk%u, expected w%d u%d nx%d pk%u", r->rights.writable,
		     r->rights.user, r->rights.nx, r->rights.pkey, w, u, nx, pkey);

	/* An allowed access breaks none of the 4.6 rules that do not involve protection keys. */
	if (access) {
		const bool wp = ctx->flags & PT_CTX_WP;
		if (user_mode) {
			if (!u)
				FAIL("user access to a supervisor page allowed");
			if (access->kind == PT_ACCESS_WRITE && !w)
				FAIL("user write to a read-only page allowed");
		} else if (access->kind == PT_ACCESS_WRITE && wp && !w) {
			FAIL("supervisor write to a read-only page allowed with CR0.WP");
		}
		if (access->kind == PT_ACCESS_FETCH && nx)
			FAIL("fetch from an XD page allowed");
		if (!user_mode && u && access->kind == PT_ACCESS_FETCH && (ctx->flags & PT_CTX_SMEP))
			FAIL("supervisor fetch from a user page allowed with SMEP");
		if (!user_mode && u && access->kind != PT_ACCESS_FETCH &&
		    (ctx->flags & PT_CTX_SMAP) &&
		    (access->implicit || access->cpl == 3 || !(ctx->flags & PT_CTX_AC)))
			FAIL("supervisor data access to a user page allowed with SMAP");
	}
}

FZ_NO_COVERAGE void fz_check_same(const char *what, uint64_t va, enum pt_status s1,
				  const struct pt_result *r1, enum pt_status s2,
				  const struct pt_result *r2)
{
	bool same = s1 == s2;

	if (same && s1 == PT_OK)
		same = r1->pa == r2->pa && r1->page_size == r2->page_size && r1->level == r2->level &&
		       r1->rights.writable == r2->rights.writable &&
		       r1->rights.user == r2->rights.user && r1->rights.nx == r2->rights.nx &&
		       r1->rights.pkey == r2->rights.pkey && r1->pa_in_dump == r2->pa_in_dump;
	if (same && s1 == PT_FAULT)
		same = r1->fault.vector == r2->fault.vector &&
		       r1->fault.error_code == r2->fault.error_code &&
		       r1->fault.level == r2->fault.level && r1->fault.entry_pa == r2->fault.entry_pa;
	if (same && s1 == PT_NOT_IN_DUMP)
		same = r1->table_pa == r2->table_pa;
	if (!same) {
		dump_result(va, s1, r1);
		dump_result(va, s2, r2);
		fz_fail("%s: the two answers differ", what);
	}
}
