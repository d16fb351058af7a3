/* SPDX-License-Identifier: MIT */
/*
 * emu/diff.c: compare a walker translation with the MMU oracle's answer.
 *
 * This file is THE ONE PLACE that lists how Unicorn 2.0.1's MMU deviates from the Intel SDM
 * (measured: ../shared/notes/unicorn-2.0.1.md, and the PDPTE bit scan described below). Each
 * deviation is recognised explicitly and reported as PT_DIFF_DEVIATION with its name; nothing
 * is skipped silently. The only skipped case is a walk that needs a table the dump does not
 * hold (the walker says PT_NOT_IN_DUMP; Unicorn reads zeros there).
 *
 * The documented deviations (enum pt_diff_deviation):
 *
 *  PT_DEV_PAE_PDPTE_REREAD   PAE: the SDM (4.4.1) loads the four PDPTEs into registers at MOV to
 *                            CR3; Unicorn reads the PDPTE from memory on every walk. Detected
 *                            when the PDPTE the oracle read differs from the one the walker's
 *                            context loaded (ctx->pdpte[]) and the answers differ.
 *  PT_DEV_PAE_PDPTE_RW       PAE: a present PDPTE with a reserved bit among 2:1 and 8:5 is a #GP
 *                            at MOV to CR3 (SDM 4.4.1, Table 4-8); Unicorn never checks those bits
 *                            (the notes measured RW; a scan of every PDPTE bit found U/S and 8:5
 *                            ignored alike, so this deviation covers all of 2:1 and 8:5).
 *                            Detected when the walker reports the #GP at CR3 load and every
 *                            reserved bit of the faulting PDPTE is one Unicorn ignores.
 *  PT_DEV_PAE_PDPTE_RSVD_PF  PAE: a reserved PDPTE bit Unicorn does check (63:MAXPHYADDR) gives
 *                            #PF(P|RSVD) at level 3 when an access uses that PDPTE, instead of #GP
 *                            at MOV to CR3. Detected when the walker reports the #GP at CR3 load:
 *                            if the oracle's walk used a PDPTE with such a bit, its answer must be
 *                            exactly that #PF (else MISMATCH); other accesses proceed.
 *  PT_DEV_1G_WITHOUT_CPUID   IA-32e/LA57: CPUID.80000001H:EDX.Page1GB = 0 in Unicorn, so PS in a
 *                            PDPTE should be reserved (#PF RSVD, SDM 4.5.4); Unicorn maps 1 GiB
 *                            pages anyway. The walker assumes 1 GiB pages are supported, so both
 *                            agree; a probe whose answer rests on a 1 GiB leaf (a translation or
 *                            a protection fault at a level-3 PS=1 entry) and on which they agree
 *                            exactly is counted as this deviation, not as a plain match.
 *                            If they disagree it is a MISMATCH.
 *  PT_DEV_SMAP_IMPLICIT_AC   With CR4.SMAP = 1 and RFLAGS.AC = 1, Unicorn lets an implicit
 *                            supervisor-mode read at CPL < 3 (a descriptor-table read) reach a
 *                            user-mode page: its kernel MMU index honours AC whenever CPL < 3.
 *                            SDM 4.6.1: "if EFLAGS.AC = 0 or the access is implicit, data may not
 *                            be read from any user-mode address" (STAC only opens explicit
 *                            accesses). Measured while building this oracle (not in the notes).
 *                            Detected when the walker's only reason to fault is that rule: the
 *                            same access made explicit passes pt_access_check, and the oracle
 *                            translated through exactly the walker's entries to the walker's PA.
 */
#include "ptlab/emu.h"

/** PAE PDPTE bits the SDM reserves (Table 4-8) that Unicorn ignores: 2:1 and 8:5. */
static const uint64_t UC_PDPTE_IGNORED = PT_BIT(PTE_BIT_RW) | PT_BIT(PTE_BIT_US) | PT_BIT(PTE_BIT_A) |
					 PT_BIT(PTE_BIT_D) | PT_BIT(PTE_BIT_PS) | PT_BIT(PTE_BIT_G);

static const char *const deviation_names[] = {
	[PT_DEV_NONE] = "none",
	[PT_DEV_PAE_PDPTE_RW] = "pae-pdpte-rw",
	[PT_DEV_PAE_PDPTE_RSVD_PF] = "pae-pdpte-rsvd-pf",
	[PT_DEV_PAE_PDPTE_REREAD] = "pae-pdpte-reread",
	[PT_DEV_1G_WITHOUT_CPUID] = "1g-without-cpuid",
	[PT_DEV_SMAP_IMPLICIT_AC] = "smap-implicit-ac",
};

const char *pt_diff_deviation_name(enum pt_diff_deviation dev)
{
	if ((unsigned)dev < sizeof(deviation_names) / sizeof(deviation_names[0]))
		return deviation_names[dev];
	return "?";
}

/** The same chain of entries (addresses and raw values), top level first. */
static bool same_entries(const struct pt_result *w, const struct pt_oracle_answer *o)
{
	if (w->nentries != o->nentries)
		return false;
	for (unsigned i = 0; i < w->nentries && i < 5; i++) {
		if (w->entry[i].pa != o->entry_pa[i] || w->entry[i].value != o->entry[i])
			return false;
	}
	return true;
}

/** Exactly the same answer: PA and leaf level, or vector, error code and level; same entries. */
static bool same_answer(enum pt_status ws, const struct pt_result *w, const struct pt_oracle_answer *o)
{
	if (ws == PT_OK && o->status == PT_OK)
		return w->pa == o->pa && w->level == o->level && same_entries(w, o);
	if (ws == PT_FAULT && o->status == PT_FAULT) {
		if (w->fault.vector != o->vector)
			return false;
		if (o->vector == PT_VEC_PF &&
		    (w->fault.error_code != o->error_code || w->fault.level != o->level))
			return false;
		return same_entries(w, o);
	}
	return false;
}

/** The oracle's answer rests on a 1 GiB leaf: a PS = 1 PDPTE it did not call reserved. */
static bool uses_1g_leaf(const struct pt_context *ctx, const struct pt_oracle_answer *o)
{
	unsigned i;

	if (ctx->mode != PT_MODE_IA32E && ctx->mode != PT_MODE_LA57)
		return false;
	if (o->level != 3 || o->nentries == 0)
		return false;
	i = o->nentries - 1u; /* the level-3 entry is the last one read */
	if ((o->entry[i] & (PTE_P | PTE_PS)) != (PTE_P | PTE_PS))
		return false;
	return o->status == PT_OK || (o->vector == PT_VEC_PF && !(o->error_code & PF_ERR_RSVD));
}

/** The walker's #GP at CR3 load (PAE) against Unicorn, which checks PDPTEs at access time. */
static enum pt_diff_verdict pae_load_gp(const struct pt_context *ctx, const struct pt_result *w,
					const struct pt_oracle_answer *o, enum pt_diff_deviation *dev)
{
	const uint64_t bad = w->fault.entry & ~ctx->cbit_mask;
	const uint64_t checked = bad & ctx->rsvd[3][0] & ~UC_PDPTE_IGNORED;

	if (o->nentries >= 1) {
		const uint64_t v = o->entry[0] & ~ctx->cbit_mask;
		if ((v & PTE_P) && (v & ctx->rsvd[3][0] & ~UC_PDPTE_IGNORED)) {
			/* This access uses a PDPTE with a bit Unicorn checks: exactly #PF(P|RSVD) at
			 * level 3 after that one entry. */
			if (o->status == PT_FAULT && o->vector == PT_VEC_PF && o->level == 3 &&
			    o->nentries == 1 &&
			    (o->error_code & (PF_ERR_P | PF_ERR_RSVD)) == (PF_ERR_P | PF_ERR_RSVD)) {
				*dev = PT_DEV_PAE_PDPTE_RSVD_PF;
				return PT_DIFF_DEVIATION;
			}
			return PT_DIFF_MISMATCH;
		}
	}
	/* This access's PDPTE passes Unicorn's check: the walk goes on where the SDM has already
	 * raised #GP at MOV to CR3. Which deviation lets it: the faulting PDPTE's bits. */
	*dev = checked ? PT_DEV_PAE_PDPTE_RSVD_PF : PT_DEV_PAE_PDPTE_RW;
	return PT_DIFF_DEVIATION;
}

/** The walker faulted only because an implicit read ignores RFLAGS.AC under SMAP, and Unicorn
 *  translated it to the same place (PT_DEV_SMAP_IMPLICIT_AC). */
static bool smap_implicit_ac(const struct pt_context *ctx, const struct pt_access *access,
			     enum pt_status ws, const struct pt_result *w, const struct pt_oracle_answer *o)
{
	if (!access->implicit || access->cpl == 3 || !(ctx->flags & PT_CTX_SMAP) ||
	    !(ctx->flags & PT_CTX_AC))
		return false;
	if (ws != PT_FAULT || w->fault.vector != PT_VEC_PF || (w->fault.error_code & PF_ERR_RSVD) ||
	    !(w->fault.error_code & PF_ERR_P) || !w->rights.user || o->status != PT_OK)
		return false;
	struct pt_access explicit_access = *access;
	explicit_access.implicit = false;
	if (pt_access_check(ctx, &w->rights, &explicit_access) != 0)
		return false;
	return o->pa == w->pa && o->level == w->level && same_entries(w, o);
}

enum pt_diff_verdict pt_diff_compare(const struct pt_context *ctx, const struct pt_access *access,
				     enum pt_status walker_status, const struct pt_result *walker,
				     const struct pt_oracle_answer *oracle,
				     enum pt_diff_deviation *dev_ret)
{
	enum pt_diff_deviation dev = PT_DEV_NONE;
	enum pt_diff_verdict verdict;

	if (dev_ret != NULL)
		*dev_ret = PT_DEV_NONE;
	if (walker_status == PT_NOT_IN_DUMP)
		return PT_DIFF_SKIPPED;
	if (walker_status != PT_OK && walker_status != PT_FAULT)
		return PT_DIFF_MISMATCH;

	if (ctx->mode == PT_MODE_PAE) {
		if (walker_status == PT_FAULT && walker->fault.vector == PT_VEC_GP &&
		    walker->fault.level == 3) {
			verdict = pae_load_gp(ctx, walker, oracle, &dev);
			goto out;
		}
		if (oracle->nentries >= 1 && oracle->entry_pa[0] >= ctx->root &&
		    oracle->entry_pa[0] < ctx->root + 32) {
			const unsigned idx = (unsigned)((oracle->entry_pa[0] - ctx->root) / 8);
			if (oracle->entry[0] != ctx->pdpte[idx] &&
			    !same_answer(walker_status, walker, oracle)) {
				dev = PT_DEV_PAE_PDPTE_REREAD;
				verdict = PT_DIFF_DEVIATION;
				goto out;
			}
		}
	}
	if (smap_implicit_ac(ctx, access, walker_status, walker, oracle)) {
		dev = PT_DEV_SMAP_IMPLICIT_AC;
		verdict = PT_DIFF_DEVIATION;
	} else if (!same_answer(walker_status, walker, oracle)) {
		verdict = PT_DIFF_MISMATCH;
	} else if (uses_1g_leaf(ctx, oracle)) {
		dev = PT_DEV_1G_WITHOUT_CPUID;
		verdict = PT_DIFF_DEVIATION;
	} else {
		verdict = PT_DIFF_MATCH;
	}
out:
	if (dev_ret != NULL)
		*dev_ret = dev;
	return verdict;
}
