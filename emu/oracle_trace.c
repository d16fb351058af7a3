/* SPDX-License-Identifier: MIT */
/*
 * emu/oracle_trace.c: a probe's answer, read from what the MMU did (oracle.h). The page-walk loads
 * mmio_read() recorded are merged into whole entries and followed by address from the top-level
 * entry of the VA, as the SDM's walk goes (Tables 4-4 .. 4-20 for the entry formats; decoded
 * here, not by walker code, so that the oracle stays independent); the level reached and the
 * leaf give the PA, and a fault must be explained by the entries seen.
 */
#include <inttypes.h>

#include "oracle.h"

bool emu_oracle_overlaps_window(const struct oracle_engine *e, uint64_t pa, uint64_t len)
{
	if (pa + len < pa)
		return true;
	for (unsigned w = 0; w < 2; w++)
		if (pa < e->window[w] + HARNESS_SIZE && e->window[w] < pa + len)
			return true;
	return false;
}

/** Does the entry at `level` map a page (given it is present)? */
static bool maps_page(const struct oracle_engine *e, unsigned level, uint64_t value, uint64_t cr4)
{
	if (level == 1)
		return true;
	if (!(value & PTE_PS))
		return false;
	switch (e->mode) {
	case PT_MODE_LEGACY:
		return level == 2 && (cr4 & CR4_PSE);
	case PT_MODE_PAE:
		return level == 2;
	default:
		return level == 2 || level == 3;
	}
}

/** The frame an entry points to (a table, or the page for a leaf at `level`). */
static uint64_t entry_frame(const struct oracle_engine *e, unsigned level, uint64_t value, bool leaf)
{
	if (e->mode == PT_MODE_LEGACY) {
		if (leaf && level == 2) {
			/* SDM Table 4-4: PA 31:22 from 31:22, PA (M'-1):32 from bits (M'-20):13. */
			unsigned m = e->maxphyaddr < 40 ? e->maxphyaddr : 40;
			uint64_t high = (value >> 13) & ((UINT64_C(1) << (m - 32)) - 1);
			return (value & UINT64_C(0xffc00000)) | (high << 32);
		}
		return value & UINT64_C(0xfffff000);
	}
	uint64_t frame = value & ~e->cbit_mask & emu_oracle_mask_bits(e->maxphyaddr - 1, 12);
	if (leaf && level > 1)
		frame &= ~((UINT64_C(1) << (12 + 9 * (level - 1))) - 1);
	return frame;
}

/** Merge the recorded loads into whole entries (8-byte entries arrive as two 4-byte loads). */
static unsigned merge_entries(const struct oracle_engine *e, uint64_t *pa, uint64_t *val, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < e->nreads && n < max; i++) {
		const struct oracle_load *r = &e->reads[i];
		if (e->esize == 4) {
			if (r->size != 4)
				continue;
			pa[n] = r->pa;
			val[n++] = r->value;
			continue;
		}
		if (r->size == 8 && (r->pa & 7) == 0) {
			pa[n] = r->pa;
			val[n++] = r->value;
		} else if (r->size == 4 && (r->pa & 7) == 0 && i + 1 < e->nreads &&
			   e->reads[i + 1].size == 4 && e->reads[i + 1].pa == r->pa + 4) {
			pa[n] = r->pa;
			val[n++] = r->value | (e->reads[i + 1].value << 32);
			i++;
		}
	}
	return n;
}

/** What the chain of entries showed. */
struct chain {
	unsigned got;       /**< entries in the chain (answer->entry[0..got)) */
	unsigned level;     /**< the level of the last one */
	bool leaf;          /**< the last one maps a page */
	bool last_present;  /**< the last one is present */
};

/* Follow the chain of entries from the top-level entry of the VA, into answer->entry[]. */
static enum pt_status follow_chain(const struct pt_oracle *o, const struct oracle_engine *e, uint64_t va,
				   uint64_t root, uint64_t cr4, struct pt_oracle_answer *answer,
				   struct chain *c, struct pt_error *err)
{
	uint64_t epa[MAX_READS], eval[MAX_READS];
	const unsigned n = merge_entries(e, epa, eval, MAX_READS);
	uint64_t table = root;

	*c = (struct chain){ .level = e->levels };
	for (unsigned i = 0; i < n && c->level >= 1; i++) {
		const uint64_t want = table + (uint64_t)emu_oracle_index_at(e, va, c->level) * e->esize;
		if (epa[i] != want)
			break;
		answer->entry_pa[c->got] = epa[i];
		answer->entry[c->got] = eval[i];
		c->got++;
		const uint64_t v = eval[i] & ~e->cbit_mask;
		c->last_present = (v & PTE_P) != 0;
		if (!c->last_present)
			break;
		if (maps_page(e, c->level, v, cr4)) {
			c->leaf = true;
			break;
		}
		table = entry_frame(e, c->level, v, false);
		if (emu_oracle_overlaps_window(e, table, PAGE)) {
			pt_error_printf(err, "oracle: a paging structure at 0x%" PRIx64
				     " lies in the harness memory%s: not observable",
				table, table < o->phys_size ? " (the dump has memory there)" : "");
			return PT_EINVAL;
		}
		c->level--;
	}
	answer->nentries = (uint8_t)c->got;
	return PT_OK;
}

/* The probe faulted: the vector and error code, checked against the chain (a #PF ends the walk
 * at a not-present entry, a reserved bit, or a leaf; a #GP comes before any entry). */
static enum pt_status fault_answer(const struct oracle_engine *e, uint64_t va, enum oracle_probe_kind kind,
				   const struct chain *c, struct pt_oracle_answer *answer, struct pt_error *err)
{
	answer->status = PT_FAULT;
	answer->vector = (uint8_t)e->fault_vector;
	answer->error_code = e->fault_vector == PT_VEC_PF ? e->fault_code : 0;
	answer->level = c->got ? (uint8_t)(e->levels - c->got + 1) : 0;
	if (e->fault_vector == PT_VEC_PF) {
		const uint64_t expect = kind == PK_IMPLICIT ? (va & ~UINT64_C(7)) : va;
		const bool explained = !c->last_present || c->leaf || (e->fault_code & PF_ERR_RSVD);
		if (e->fault_cr2 != expect || c->got == 0 || !explained) {
			pt_error_printf(err, "oracle: #PF (error 0x%x, CR2 0x%" PRIx64 ") for VA 0x%" PRIx64
				     " not explained by the %u entries seen",
				e->fault_code, e->fault_cr2, va, c->got);
			return PT_EINVAL;
		}
	} else if (e->fault_vector == PT_VEC_GP) {
		if (c->got != 0) {
			pt_error_printf(err, "oracle: #GP after %u entries for VA 0x%" PRIx64, c->got, va);
			return PT_EINVAL;
		}
	} else {
		pt_error_printf(err, "oracle: unexpected exception %u (error 0x%x) at VA 0x%" PRIx64,
			e->fault_vector, e->fault_code, va);
		return PT_EINVAL;
	}
	return PT_OK;
}

enum pt_status emu_oracle_decode(const struct pt_oracle *o, const struct oracle_engine *e, uint64_t va,
				 uint64_t root, uint64_t cr4, enum oracle_probe_kind kind,
				 struct pt_oracle_answer *answer, struct pt_error *err)
{
	struct chain c;

	if (follow_chain(o, e, va, root, cr4, answer, &c, err) != PT_OK)
		return PT_EINVAL;
	if (e->faulted)
		return fault_answer(e, va, kind, &c, answer, err);
	if (!c.leaf) {
		pt_error_printf(err, "oracle: the access completed but the walk seen ends at level %u without a "
			     "leaf (%u loads)",
			c.level, e->nreads);
		return PT_EINVAL;
	}
	const uint64_t size = UINT64_C(1) << (e->mode == PT_MODE_LEGACY ? 12 + 10 * (c.level - 1) :
									12 + 9 * (c.level - 1));
	answer->status = PT_OK;
	answer->level = (uint8_t)c.level;
	answer->pa = entry_frame(e, c.level, answer->entry[c.got - 1] & ~e->cbit_mask, true) |
		     (va & (size - 1));
	return PT_OK;
}
