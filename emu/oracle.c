/* SPDX-License-Identifier: MIT */
/*
 * emu/oracle.c: the MMU oracle. Unicorn 2.0.1's own page walk answers "what does this access
 * to VA x do" for a physical-memory dump and a CPU state, so the walker can be checked
 * against an independent implementation (design.md, house style 10).
 *
 * How (measured facts: ../shared/notes/unicorn-2.0.1.md):
 *  - The dump is mapped with uc_mmio_map over all of the uc address space except two small
 *    "harness windows". Every page-walk load then reaches mmio_read() with its physical
 *    address, which serves it from the dump (0 where the dump has nothing) and records it.
 *    Writes (A/D bits, the probe's store) are absorbed: the dump is never modified.
 *  - The harness (GDT, iret frames, the probe code and its own page tables) lives in one host
 *    buffer mapped as RAM at its physical address and aliased at the two windows (Unicorn
 *    fetches code from the uc address equal to the VA). Its page-table chain is plugged into
 *    the probed address space through the dump's top-level table: while the harness runs,
 *    mmio_read() presents the top-level entry of the window's slot as the plug; during the
 *    probe itself it presents the dump's own entry. The window used is the one whose
 *    top-level slot differs from the probed VA's, so the probed walk never needs the plug.
 *  - One engine per paging mode (UC_MODE_32 for 32-bit and PAE paging, UC_MODE_64 for 4- and
 *    5-level), made on first use. Per paging configuration (CR0.WP, CR4.PSE/SMEP/SMAP/PKE,
 *    PKRU, EFER.NXE) a clean context is made once: guest MOVs to CR0/CR4 and WRPKRU (so
 *    Unicorn's hflags follow), then EFER.NXE patched into the blob.
 *  - A probe restores that context (Unicorn never clears its exception state), loads CR3 with
 *    a guest MOV (the TLB is flushed: nothing stale leaks), optionally LLDT and an IRET to
 *    CPL 1..3, then performs one access: MOV AL,[RDI] / MOV [RDI],AL / JMP RDI (stopped at
 *    the target, never executed) / LAR (an implicit supervisor read of the LDT at VA). The
 *    code hook switches mmio_read() from "harness" to "probe" at the probe instruction and
 *    stops the run after it; the interrupt hook takes the vector, CR2 and the error code
 *    (from the context blob) and stops the run.
 *  - The answer is the chain of entries the MMU read, followed from the top-level entry of
 *    the VA by address; the level reached and the leaf entry give the PA, decoded here from
 *    the SDM entry formats (not by walker code).
 *  - EFER.NXE cannot be set by WRMSR in Unicorn: it is patched into the context blob. The
 *    offsets of EFER and of the #PF/#GP error code in the blob come from ucblob.h (found once
 *    per process by their effects); the EFER one is checked again in each engine.
 *  - MAXPHYADDR is measured per engine at start-up: the lowest frame bit that makes a PTE
 *    reserved (#PF with RSVD).
 * The files: oracle.h.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "ptlab/le.h"

/* ---- public API ------------------------------------------------------------------- */

enum pt_status pt_oracle_create(const struct pt_mem *mem, uint64_t phys_size,
				struct pt_oracle **oracle_ret, struct pt_error *err)
{
	struct pt_oracle *o;

	*oracle_ret = NULL;
	if (mem == NULL || mem->ptr == NULL) {
		pt_error_printf(err, "oracle: no memory reader");
		return PT_EINVAL;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		pt_error_printf(err, "out of memory");
		return PT_EINVAL;
	}
	o->mem = mem;
	o->phys_size = phys_size;
	/* The IA-32e engine now: it finds the context offsets and measures MAXPHYADDR. */
	if (emu_oracle_get_engine(o, PT_MODE_IA32E, err) == NULL) {
		pt_oracle_destroy(o);
		return PT_EINVAL;
	}
	o->maxphyaddr = o->engines[PT_MODE_IA32E]->maxphyaddr;
	*oracle_ret = o;
	return PT_OK;
}

void pt_oracle_destroy(struct pt_oracle *oracle)
{
	if (oracle == NULL)
		return;
	for (unsigned i = 0; i < 5; i++)
		emu_oracle_engine_destroy(oracle->engines[i]);
	free(oracle);
}

unsigned pt_oracle_maxphyaddr(const struct pt_oracle *oracle)
{
	return oracle->maxphyaddr;
}

/* ---- one probe ------------------------------------------------------------------------ */

/** The paging mode of `cpu` (SDM Table 4-1), decided here without walker code. */
static enum pt_mode mode_of(const struct pt_cpu_state *cpu)
{
	if (!(cpu->cr0 & CR0_PG))
		return PT_MODE_OFF;
	if (!(cpu->cr4 & CR4_PAE))
		return (cpu->efer & EFER_LMA) ? PT_MODE_OFF : PT_MODE_LEGACY; /* LMA: PAE required */
	if (!(cpu->efer & EFER_LMA))
		return PT_MODE_PAE;
	return (cpu->cr4 & CR4_LA57) ? PT_MODE_LA57 : PT_MODE_IA32E;
}

/* The request must name a walk the oracle can ask for. */
static enum pt_status check_request(enum pt_mode mode, uint64_t va, const struct pt_access *access,
				    struct pt_error *err)
{
	if (mode == PT_MODE_OFF) {
		pt_error_printf(err, "oracle: paging is off (CR0.PG = 0) or impossible (EFER.LMA without "
			     "CR4.PAE): there is no walk to ask for");
		return PT_EINVAL;
	}
	if (access->cpl > 3 || (unsigned)access->kind > PT_ACCESS_FETCH) {
		pt_error_printf(err, "oracle: bad access (cpl %u, kind %d)", access->cpl, (int)access->kind);
		return PT_EINVAL;
	}
	if (access->implicit && access->kind != PT_ACCESS_READ) {
		pt_error_printf(err, "oracle: only implicit supervisor reads can be probed (a LAR of the LDT)");
		return PT_EINVAL;
	}
	if ((mode == PT_MODE_LEGACY || mode == PT_MODE_PAE) && va > UINT32_MAX) {
		pt_error_printf(err, "oracle: VA 0x%" PRIx64 " is wider than 32 bits", va);
		return PT_EINVAL;
	}
	return PT_OK;
}

/* CR3 -> the top table (SDM Tables 4-3, 4-7, 4-12), which the MMU must be able to reach and the
 * oracle to observe. Sets the engine's C-bit mask. */
static enum pt_status top_table(struct oracle_engine *e, const struct pt_cpu_state *cpu, enum pt_mode mode,
				uint64_t *root_ret, struct pt_error *err)
{
	uint64_t root;

	e->cbit_mask = (e->esize == 8 && cpu->cbit >= 32 && cpu->cbit <= 62) ?
			       UINT64_C(1) << cpu->cbit : 0;
	switch (mode) {
	case PT_MODE_LEGACY:
		root = cpu->cr3 & UINT64_C(0xfffff000);
		break;
	case PT_MODE_PAE:
		root = cpu->cr3 & UINT64_C(0xffffffe0);
		break;
	default:
		root = cpu->cr3 & ~e->cbit_mask & emu_oracle_mask_bits(51, 12);
		break;
	}
	if (e->esize == 8 && root >> e->maxphyaddr) {
		pt_error_printf(err, "oracle: CR3 0x%" PRIx64 " is beyond Unicorn's MAXPHYADDR (%u)", cpu->cr3,
			e->maxphyaddr);
		return PT_EINVAL;
	}
	if (emu_oracle_overlaps_window(e, root & ~UINT64_C(0xfff), PAGE)) {
		pt_error_printf(err, "oracle: the top-level table 0x%" PRIx64 " overlaps the harness memory",
			root);
		return PT_EINVAL;
	}
	*root_ret = root;
	return PT_OK;
}

/** One probe, set up in its engine. */
struct probe {
	uint64_t va;
	uint64_t root;                /**< the top-level table */
	uint64_t cr4;                 /**< CR4 as far as paging goes */
	enum oracle_probe_kind kind;
	const struct oracle_stub *st; /**< the stub that runs it */
	uint64_t until;               /**< the run's end address (never reached) */
	struct oracle_regs regs;
};

/* The window, the plug, the stub and the registers of the probe (with the IRET frame for CPL 1..3
 * and the LDT descriptor for an implicit read). */
static void set_up_probe(struct oracle_engine *e, const struct pt_cpu_state *cpu,
			 const struct pt_access *access, struct probe *p)
{
	struct oracle_regs *r = &p->regs;

	/* The window whose top-level slot differs from the VA's. */
	const unsigned w = emu_oracle_top_slot(e, p->va) == e->slot[0] ? 1 : 0;
	e->win = e->window[w];
	e->plug_pa = p->root + (uint64_t)e->slot[w] * e->esize;
	e->plug_value = emu_oracle_plug_value(e);

	p->kind = access->implicit ? PK_IMPLICIT : (enum oracle_probe_kind)access->kind;
	p->st = &e->stubs[access->cpl][p->kind];
	const uint64_t page = e->win + (p->st->user_page ? HP_UCODE : HP_SCODE) * PAGE;
	e->probe_insn = page + p->st->insn;
	e->probe_next = page + p->st->next;
	/* hook_code() stops the run after the probe instruction, or at a fetch probe's target
	 * (Unicorn stops by itself at a first fetch from MMIO). `until` is a never-executed hlt:
	 * Unicorn invalidates the translated code at `until` on every run, so an address in the
	 * probe code would be retranslated each time (and a page-aligned one makes Unicorn walk
	 * the page before it). */
	p->until = e->win + HP_SCODE * PAGE + PAGE - 16;
	e->fetch_target = p->kind == PK_FETCH ? p->va : p->until;

	if (p->kind == PK_IMPLICIT)
		emu_oracle_set_ldt_base(e, p->va & ~UINT64_C(7));
	memset(r, 0, sizeof(*r));
	r->rflags = X_RFLAGS_FIXED | (cpu->rflags & RFLAGS_AC);
	if (access->cpl != 0) {
		/* IRET frame: RIP, CS, RFLAGS, RSP, SS (8 bytes each, 4 in 32-bit). */
		const unsigned n = e->x64 ? 8 : 4;
		uint8_t *f = e->buf + HP_STACK * PAGE + 0x800;
		const uint64_t cs = (0x08u + 0x10u * access->cpl) | access->cpl;
		const uint64_t ss = (0x10u + 0x10u * access->cpl) | access->cpl;
		pt_le_put(f + 0 * n, e->probe_insn, n);
		pt_le_put(f + 1 * n, cs, n);
		pt_le_put(f + 2 * n, r->rflags, n);
		pt_le_put(f + 3 * n, e->win + HP_STACK * PAGE + 0xf00, n);
		pt_le_put(f + 4 * n, ss, n);
		r->rsp = e->win + HP_STACK * PAGE + 0x800;
	} else {
		r->rsp = e->win + HP_STACK * PAGE + 0xf00;
	}
	r->rsi = p->root;
	r->rdi = p->va;
	r->r8 = r->rbx = p->kind == PK_IMPLICIT ? SEL_LDT : 0;
	r->rcx = SEL_LAR;
}

/* Run the probe from the clean context `ctx`: Unicorn's last error in *ue_ret, RIP in *rip_ret. */
static enum pt_status run_probe(struct oracle_engine *e, uc_context *ctx, const struct probe *p,
				uc_err *ue_ret, uint64_t *rip_ret, struct pt_error *err)
{
	uc_err ue;

	uc_context_restore(e->uc, ctx);
	ue = emu_oracle_write_regs(e, &p->regs);
	if (ue == UC_ERR_OK) {
		/* The GDT (IRET, LLDT) in the window in use: the other one is not mapped now. */
		uc_x86_mmr gdtr = { 0 };
		gdtr.base = e->win + HP_GDT * PAGE;
		gdtr.limit = GDT_LIMIT;
		ue = uc_reg_write(e->uc, UC_X86_REG_GDTR, &gdtr);
	}
	if (ue != UC_ERR_OK) {
		pt_error_printf(err, "unicorn: writing registers: %s", uc_strerror(ue));
		return PT_EINVAL;
	}
	emu_oracle_reset_probe(e);
	e->plug_active = true;
	*ue_ret = emu_oracle_run(e, e->win + HP_SCODE * PAGE + p->st->entry, p->until, rip_ret);
	e->plug_active = false;
	if (p->kind == PK_WRITE && emu_oracle_overlaps_window(e, p->va, 1))
		memcpy(e->buf, e->pristine, HARNESS_SIZE);
	return PT_OK;
}

/* What happened: the probe's access either faulted or completed, and nothing else did. */
static enum pt_status check_completion(const struct oracle_engine *e, const struct probe *p, uc_err ue,
				       uint64_t rip, struct pt_error *err)
{
	if (e->faulted && e->fault_phase != PH_PROBE) {
		pt_error_printf(err,
			"oracle: the harness faulted before the probe (vector %u, error 0x%x, CR2 0x%" PRIx64
			", rip 0x%" PRIx64 ")",
			e->fault_vector, e->fault_code, e->fault_cr2, rip);
		return PT_EINVAL;
	}
	if (!e->faulted) {
		bool done;
		if (p->kind == PK_FETCH)
			done = e->phase == PH_PROBE &&
			       (e->reached_target || ue == UC_ERR_FETCH_PROT || ue == UC_ERR_FETCH_UNMAPPED);
		else
			done = e->phase == PH_DONE && ue == UC_ERR_OK;
		if (!done) {
			pt_error_printf(err,
				"oracle: the probe did not complete (%s, rip 0x%" PRIx64 ", expected 0x%" PRIx64
				")",
				uc_strerror(ue), rip, p->kind == PK_FETCH ? p->va : e->probe_next);
			return PT_EINVAL;
		}
	}
	if (e->reads_overflow) {
		pt_error_printf(err, "oracle: too many page-walk loads");
		return PT_EINVAL;
	}
	return PT_OK;
}

enum pt_status pt_oracle_probe(struct pt_oracle *o, const struct pt_cpu_state *cpu, uint64_t va,
			       const struct pt_access *access, struct pt_oracle_answer *answer,
			       struct pt_error *err)
{
	const enum pt_mode mode = mode_of(cpu);
	struct oracle_engine *e;
	struct probe p = { .va = va };
	uint64_t rip = 0;
	uc_err ue = UC_ERR_OK;

	memset(answer, 0, sizeof(*answer));
	if (check_request(mode, va, access, err) != PT_OK)
		return PT_EINVAL;
	e = emu_oracle_get_engine(o, mode, err);
	if (e == NULL || top_table(e, cpu, mode, &p.root, err) != PT_OK)
		return PT_EINVAL;
	/* CR0 and CR4 as far as paging goes; the mode bits are the engine's. */
	const uint64_t cr0 = CR0_PG | CR0_PE | CR0_ET | CR0_NE | (cpu->cr0 & CR0_WP);
	p.cr4 = cpu->cr4 & (CR4_SMEP | CR4_SMAP | (e->x64 ? CR4_PKE : 0));
	p.cr4 |= mode == PT_MODE_LEGACY ? (cpu->cr4 & CR4_PSE) :
		 mode == PT_MODE_LA57   ? CR4_PAE | CR4_LA57 :
					  CR4_PAE;
	uc_context *ctx = emu_oracle_get_variant(e, cr0, p.cr4, cpu->pkru, (cpu->efer & EFER_NXE) != 0, err);
	if (ctx == NULL)
		return PT_EINVAL;
	set_up_probe(e, cpu, access, &p);
	if (run_probe(e, ctx, &p, &ue, &rip, err) != PT_OK || check_completion(e, &p, ue, rip, err) != PT_OK)
		return PT_EINVAL;
	return emu_oracle_decode(o, e, va, p.root, p.cr4, p.kind, answer, err);
}
