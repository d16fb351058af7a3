/* SPDX-License-Identifier: MIT */
/*
 * emu/oracle_engine.c: one Unicorn engine per paging mode for the MMU oracle (oracle.h). The dump
 * is behind uc_mmio_map over all of the uc address space but the two harness windows, so every
 * page-walk load reaches mmio_read() with its physical address: served from the dump (0 where it
 * has nothing), recorded during the probe, with the plug in place of the top-level entry outside
 * it; writes are absorbed. The hooks switch the probe phase and take the exception (vector, CR2,
 * the error code from the context blob). Made once per engine: paging turned on in the harness,
 * the context-blob offsets checked (ucblob.h), MAXPHYADDR measured; per paging configuration a
 * clean context.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "ptlab/le.h"
#include "ucblob.h"

/* ---- physical memory as the MMU sees it --------------------------------------------- */

/** Bytes [pa, pa+n) of the dump, 0 where it has none. */
static void dump_bytes(const struct pt_mem *mem, uint64_t pa, uint8_t *out, unsigned n)
{
	const uint8_t *p = pa + n >= pa ? mem->ptr(mem, pa, n) : NULL;

	if (p != NULL) {
		memcpy(out, p, n);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		p = mem->ptr(mem, pa + i, 1);
		out[i] = p ? *p : 0;
	}
}

static uint64_t mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
	const struct oracle_mmio_piece *piece = user;
	struct oracle_engine *e = piece->engine;
	const uint64_t pa = piece->base + offset;
	uint8_t bytes[16] = { 0 };
	uint64_t value, presented;
	(void)uc;

	if (size == 0 || size > 8)
		return 0;
	dump_bytes(e->oracle->mem, pa, bytes, size);
	value = pt_le_get(bytes, size);
	/* SME: the memory controller decodes the C-bit; the dump's entries reach the MMU without
	 * it. Only the dump's bytes: the plug below is the harness's own entry, whose address has
	 * the C-bit's position set when the C-bit is below 40 (the harness sits just under 2^40). */
	if (e->cbit_mask != 0 && size >= 4 && e->esize == 8) {
		uint64_t aligned = pa & ~UINT64_C(7);
		unsigned shift = (unsigned)(pa - aligned) * 8;
		if (pa + size <= aligned + 8)
			pt_le_put(bytes, value & ~(e->cbit_mask >> shift), size);
	}
	/* The plug: the harness's top-level entry, visible only outside the probe. */
	if (e->plug_active && e->phase != PH_PROBE && pa < e->plug_pa + e->esize &&
	    e->plug_pa < pa + size) {
		uint8_t plug[8];
		pt_le_put(plug, e->plug_value, e->esize);
		for (unsigned i = 0; i < size; i++) {
			uint64_t a = pa + i;
			if (a >= e->plug_pa && a < e->plug_pa + e->esize)
				bytes[i] = plug[a - e->plug_pa];
		}
	}
	presented = pt_le_get(bytes, size);
	if (e->phase == PH_PROBE && size >= 4) {
		if (e->nreads < MAX_READS) {
			e->reads[e->nreads].pa = pa;
			e->reads[e->nreads].size = size;
			e->reads[e->nreads].value = value;
			e->nreads++;
		} else {
			e->reads_overflow = true;
		}
	}
	return presented;
}

static void mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
	/* A/D-bit updates and the probe's own store: absorbed, the dump stays as it is. */
	(void)uc;
	(void)offset;
	(void)size;
	(void)value;
	(void)user;
}

/* ---- hooks ------------------------------------------------------------------------- */

static void hook_code(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct oracle_engine *e = user;
	(void)uc;
	(void)size;

	if (address == e->probe_insn && e->phase == PH_HARNESS) {
		e->phase = PH_PROBE;
	} else if (address == e->fetch_target && e->phase == PH_PROBE) {
		e->reached_target = true; /* the fetch was allowed: never execute the target */
		uc_emu_stop(uc);
	} else if (address == e->probe_next && e->phase == PH_PROBE) {
		e->phase = PH_DONE; /* the access is done: stop before anything else runs */
		uc_emu_stop(uc);
	}
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct oracle_engine *e = user;

	if (!e->faulted) {
		e->faulted = true;
		e->fault_vector = intno;
		e->fault_phase = e->phase;
		e->fault_cr2 = 0;
		uc_reg_read(uc, UC_X86_REG_CR2, &e->fault_cr2);
		e->fault_code = 0;
		if (e->oracle->errcode_off != 0 && uc_context_save(uc, e->scratch) == UC_ERR_OK) {
			uint32_t code;
			memcpy(&code, (const uint8_t *)e->scratch + e->oracle->errcode_off, 4);
			e->fault_code = code;
		}
	}
	e->phase = PH_DONE;
	uc_emu_stop(uc);
}

/* ---- running code ------------------------------------------------------------------- */

uc_err emu_oracle_write_regs(struct oracle_engine *e, const struct oracle_regs *r)
{
	if (e->x64) {
		int ids[] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
			      UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_RSP, UC_X86_REG_R8,
			      UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_RFLAGS };
		void *const vals[] = { (void *)&r->rax, (void *)&r->rcx, (void *)&r->rdx,
				       (void *)&r->rbx, (void *)&r->rsi, (void *)&r->rdi,
				       (void *)&r->rsp, (void *)&r->r8,  (void *)&r->r9,
				       (void *)&r->r10, (void *)&r->rflags };
		return uc_reg_write_batch(e->uc, ids, vals, (int)(sizeof(ids) / sizeof(ids[0])));
	}
	uint32_t v[8] = { (uint32_t)r->rax, (uint32_t)r->rcx, (uint32_t)r->rdx, (uint32_t)r->rbx,
			  (uint32_t)r->rsi, (uint32_t)r->rdi, (uint32_t)r->rsp, (uint32_t)r->rflags };
	int ids[] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
		      UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_ESP, UC_X86_REG_EFLAGS };
	void *const vals[] = { &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7] };
	return uc_reg_write_batch(e->uc, ids, vals, 8);
}

void emu_oracle_reset_probe(struct oracle_engine *e)
{
	e->phase = PH_HARNESS;
	e->nreads = 0;
	e->reads_overflow = false;
	e->faulted = false;
	e->fault_vector = 0;
	e->fault_code = 0;
	e->fault_cr2 = 0;
	e->reached_target = false;
}

/** Run from `begin` to `until` (uc addresses); returns the uc error and RIP at the end. */
uc_err emu_oracle_run(struct oracle_engine *e, uint64_t begin, uint64_t until, uint64_t *rip_ret)
{
	uc_err ue = uc_emu_start(e->uc, begin, until, 0, 0);
	uint64_t rip = 0;

	if (e->x64) {
		uc_reg_read(e->uc, UC_X86_REG_RIP, &rip);
	} else {
		uint32_t eip = 0;
		uc_reg_read(e->uc, UC_X86_REG_EIP, &eip);
		rip = eip;
	}
	*rip_ret = rip;
	return ue;
}

/* ---- engine set-up ----------------------------------------------------------------- */

static bool map_uc(struct oracle_engine *e, struct pt_error *err)
{
	uc_err ue;
	uint64_t lo[2] = { e->window[0], e->window[1] };
	const uint64_t top = ~UINT64_C(0) - (PAGE - 1); /* uc_mmio_map cannot end at 2^64 */
	uint64_t start = 0;

	/* The buffer at its physical address and at both windows (one of which is pa_base). */
	for (unsigned w = 0; w < 2; w++) {
		ue = uc_mem_map_ptr(e->uc, lo[w], HARNESS_SIZE, UC_PROT_ALL, e->buf);
		if (ue != UC_ERR_OK) {
			pt_error_printf(err, "unicorn: mapping the harness at 0x%" PRIx64 ": %s", lo[w],
				uc_strerror(ue));
			return false;
		}
	}
	if (lo[0] > lo[1]) {
		uint64_t t = lo[0];
		lo[0] = lo[1];
		lo[1] = t;
	}
	/* MMIO everywhere else: the dump's bytes, or zeros. */
	e->npieces = 0;
	for (unsigned w = 0; w <= 2; w++) {
		uint64_t end = w < 2 ? lo[w] : top;
		if (w == 2 && lo[1] + HARNESS_SIZE == 0)
			break; /* the top window reaches 2^64 */
		if (end > start) {
			struct oracle_mmio_piece *p = &e->pieces[e->npieces++];
			p->engine = e;
			p->base = start;
			ue = uc_mmio_map(e->uc, start, (size_t)(end - start), mmio_read, p, mmio_write, p);
			if (ue != UC_ERR_OK) {
				pt_error_printf(err, "unicorn: uc_mmio_map(0x%" PRIx64 ", 0x%" PRIx64 "): %s",
					start, end - start, uc_strerror(ue));
				return false;
			}
		}
		if (w < 2)
			start = lo[w] + HARNESS_SIZE;
	}
	if (lo[1] + HARNESS_SIZE != 0) {
		/* The top page (a 32-bit engine never reaches it). */
		ue = uc_mem_map(e->uc, top, PAGE, UC_PROT_ALL);
		if (ue != UC_ERR_OK) {
			pt_error_printf(err, "unicorn: mapping the top page: %s", uc_strerror(ue));
			return false;
		}
	}
	return true;
}

/** Does patching EFER at `off` in a copy of base[0] give `want` as EFER? */
static bool efer_offset_works(struct oracle_engine *e, size_t off, uint64_t want)
{
	uint64_t got;

	memcpy(e->base[1], e->base[0], e->ctx_size);
	pt_le_put((uint8_t *)e->base[1] + off, want, 8);
	uc_context_restore(e->uc, e->base[1]);
	got = emu_read_efer(e->uc);
	uc_context_restore(e->uc, e->base[0]);
	return got == want;
}

/** Where EFER and the error code sit in the context blob (ucblob.h: found once per process);
 *  the EFER offset is checked here by its effect, in this engine. */
static bool find_blob_offsets(struct oracle_engine *e, struct pt_error *err)
{
	struct emu_ucblob_layout layout;
	if (!emu_ucblob_layout_get(&layout) || layout.error_code + 4 > e->ctx_size ||
	    layout.efer + 8 > e->ctx_size) {
		pt_error_printf(err, "unicorn: IA32_EFER or the exception error code is not in the context blob");
		return false;
	}
	if (!efer_offset_works(e, layout.efer, emu_read_efer(e->uc) ^ EFER_NXE)) {
		pt_error_printf(err, "unicorn: patching IA32_EFER at blob offset %zu has no effect", layout.efer);
		return false;
	}
	e->oracle->efer_off = layout.efer;
	e->oracle->errcode_off = layout.error_code;
	return true;
}

/* The MAXPHYADDR test: a read of `va` through the harness's own tables (from the setup root);
 * true when it raises #PF with RSVD set. */
static bool test_read_reserved(struct oracle_engine *e, uint64_t va)
{
	const uint64_t code = e->window[0] + HP_SCODE * PAGE;
	const struct oracle_regs r = { .rsi = e->setup_root, .rdi = va, .rflags = X_RFLAGS_FIXED };
	uint64_t rip;

	uc_context_restore(e->uc, e->base[0]);
	emu_oracle_write_regs(e, &r);
	emu_oracle_reset_probe(e);
	emu_oracle_run(e, code + e->test_entry, code + e->test_end, &rip);
	return e->faulted && e->fault_vector == PT_VEC_PF && (e->fault_code & PF_ERR_RSVD);
}

/** The lowest frame bit that makes a leaf reserved: the MAXPHYADDR Unicorn enforces. */
static bool measure_maxphyaddr(struct oracle_engine *e, struct pt_error *err)
{
	const uint64_t va = e->window[0] + HP_TEST * PAGE;
	const unsigned pt_index = emu_oracle_index_at(e, va, 1);
	const uint64_t saved = pt_le_get(e->buf + HP_PT * PAGE + pt_index * e->esize, e->esize);
	unsigned found = 0;

	if (e->mode == PT_MODE_LEGACY) {
		/* 32-bit paging: PSE-36 bits 20:13 of a 4 MiB PDE hold PA bits 39:32 (Table 4-4);
		 * the first of them that faults is M. Use a spare PDE slot of the setup PD; uc
		 * address big_va is MMIO (zeros): the walk is what matters. */
		const unsigned slot = 0x100;
		const uint64_t big_va = (uint64_t)slot << 22;
		for (unsigned bit = 13; bit <= 21 && !found; bit++) {
			emu_oracle_put_entry(e, HP_PD, slot,
					     (UINT64_C(1) << bit) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_PS);
			if (test_read_reserved(e, big_va))
				found = 32 + (bit - 13);
		}
		emu_oracle_put_entry(e, HP_PD, slot, 0);
		if (!found)
			found = 40;
	} else {
		for (unsigned bit = 32; bit < 52 && !found; bit++) {
			emu_oracle_put_entry(e, HP_PT, pt_index, (e->pa_base + HP_TEST * PAGE) |
					     (UINT64_C(1) << bit) | PTE_P | PTE_RW | PTE_A | PTE_D);
			if (test_read_reserved(e, va))
				found = bit;
		}
		emu_oracle_put_entry(e, HP_PT, pt_index, saved);
		if (!found)
			found = 52;
	}
	uc_context_restore(e->uc, e->base[0]);
	if (found < 32) {
		pt_error_printf(err, "unicorn: MAXPHYADDR measured as %u", found);
		return false;
	}
	e->maxphyaddr = found;
	return true;
}

/**
 * Make (or find) the clean context for a configuration: run the configuration stub (guest
 * MOV to CR0/CR4 so hflags and the TLB follow, WRPKRU), save, patch EFER.NXE into the blob.
 * Returns NULL with err when the guest faults (e.g. a CR4 bit the CPU lacks).
 */
uc_context *emu_oracle_get_variant(struct oracle_engine *e, uint64_t cr0, uint64_t cr4, uint32_t pkru,
			       bool nxe, struct pt_error *err)
{
	struct oracle_variant *v;
	struct oracle_regs r = { 0 };
	uint64_t rip, got_cr4 = 0;
	const uint64_t win = e->window[0];
	const unsigned pke = (cr4 & CR4_PKE) ? 1 : 0;
	uc_err ue;

	if (!pke)
		pkru = 0;
	for (unsigned i = 0; i < e->nvariants; i++) {
		v = &e->variants[i];
		if (v->cr0 == cr0 && v->cr4 == cr4 && v->pkru == pkru && v->nxe == nxe)
			return v->ctx;
	}
	if (e->nvariants < MAX_VARIANTS) {
		v = &e->variants[e->nvariants];
		if (uc_context_alloc(e->uc, &v->ctx) != UC_ERR_OK) {
			v->ctx = NULL;
			pt_error_printf(err, "unicorn: uc_context_alloc failed");
			return NULL;
		}
		e->nvariants++;
	} else {
		v = &e->variants[e->next_evict];
		e->next_evict = (e->next_evict + 1) % MAX_VARIANTS;
	}
	v->cr0 = v->cr4 = ~UINT64_C(0); /* invalid until made */

	uc_context_restore(e->uc, e->base[0]);
	r.rax = cr0;
	r.rdx = cr4;
	r.r9 = pkru;
	r.rsi = e->setup_root;
	r.rsp = win + HP_STACK * PAGE + 0xf00;
	r.rflags = X_RFLAGS_FIXED;
	emu_oracle_write_regs(e, &r);
	emu_oracle_reset_probe(e);
	ue = emu_oracle_run(e, win + HP_SCODE * PAGE + e->config_entry[pke], win + HP_SCODE * PAGE + e->config_end[pke],
		 &rip);
	uc_reg_read(e->uc, UC_X86_REG_CR4, &got_cr4);
	if (ue != UC_ERR_OK || e->faulted || rip != win + HP_SCODE * PAGE + e->config_end[pke] ||
	    got_cr4 != cr4) {
		pt_error_printf(err,
			"oracle: Unicorn cannot take CR0 0x%" PRIx64 " CR4 0x%" PRIx64
			" (CR4 became 0x%" PRIx64 ", %s, vector %u)",
			cr0, cr4, got_cr4, uc_strerror(ue), e->faulted ? e->fault_vector : 0);
		uc_context_restore(e->uc, e->base[0]);
		return NULL;
	}
	uc_context_save(e->uc, v->ctx);
	if (nxe) {
		uint8_t *blob = (uint8_t *)v->ctx;
		pt_le_put(blob + e->oracle->efer_off, pt_le_get(blob + e->oracle->efer_off, 8) | EFER_NXE, 8);
	}
	v->cr0 = cr0;
	v->cr4 = cr4;
	v->pkru = pkru;
	v->nxe = nxe;
	return v->ctx;
}

void emu_oracle_engine_destroy(struct oracle_engine *e)
{
	if (e == NULL)
		return;
	if (e->uc != NULL) {
		for (unsigned i = 0; i < 2; i++)
			if (e->base[i] != NULL)
				uc_context_free(e->base[i]);
		for (unsigned i = 0; i < e->nvariants; i++)
			if (e->variants[i].ctx != NULL)
				uc_context_free(e->variants[i].ctx);
		if (e->scratch != NULL)
			uc_context_free(e->scratch);
		uc_close(e->uc);
	}
	free(e->buf);
	free(e->pristine);
	free(e);
}

static bool engine_setup_run(struct oracle_engine *e, struct pt_error *err)
{
	uc_x86_mmr gdtr = { 0 };
	struct oracle_regs r = { 0 };
	uint64_t cr4, rip;
	uc_err ue;
	const uint64_t ident = e->pa_base; /* the identity window: paging is off at first */

	gdtr.base = ident + HP_GDT * PAGE;
	gdtr.limit = GDT_LIMIT;
	uc_reg_write(e->uc, UC_X86_REG_GDTR, &gdtr);
	if (e->x64) {
		/* UC_MODE_64 starts in long mode with paging off; only selectors change here. */
		uint64_t cs = 0x08, ds = 0x10;
		uc_reg_write(e->uc, UC_X86_REG_CS, &cs);
		uc_reg_write(e->uc, UC_X86_REG_SS, &ds);
		uc_reg_write(e->uc, UC_X86_REG_DS, &ds);
		uc_reg_write(e->uc, UC_X86_REG_ES, &ds);
	} else {
		/* UC_MODE_32: a segment write is a real descriptor load from our GDT. */
		uint32_t cs = 0x08, ds = 0x10;
		if (uc_reg_write(e->uc, UC_X86_REG_CS, &cs) != UC_ERR_OK ||
		    uc_reg_write(e->uc, UC_X86_REG_SS, &ds) != UC_ERR_OK ||
		    uc_reg_write(e->uc, UC_X86_REG_DS, &ds) != UC_ERR_OK ||
		    uc_reg_write(e->uc, UC_X86_REG_ES, &ds) != UC_ERR_OK) {
			pt_error_printf(err, "unicorn: loading the harness segments failed");
			return false;
		}
	}
	/* CR4 by a raw register write (the guest cannot set LA57 in 64-bit code). */
	switch (e->mode) {
	case PT_MODE_LEGACY:
		cr4 = CR4_PSE;
		break;
	case PT_MODE_PAE:
	case PT_MODE_IA32E:
		cr4 = CR4_PAE;
		break;
	default:
		cr4 = CR4_PAE | CR4_LA57;
		break;
	}
	uc_reg_write(e->uc, UC_X86_REG_CR4, &cr4);
	r.rsi = e->setup_root;
	r.rax = CR0_PG | CR0_PE | CR0_ET | CR0_NE | CR0_WP;
	r.rflags = X_RFLAGS_FIXED;
	r.rsp = ident + HP_STACK * PAGE + 0xf00;
	emu_oracle_write_regs(e, &r);
	emu_oracle_reset_probe(e);
	ue = emu_oracle_run(e, ident + HP_SCODE * PAGE + e->setup_entry, ident + HP_SCODE * PAGE + e->setup_end,
		 &rip);
	if (ue != UC_ERR_OK || e->faulted || rip != ident + HP_SCODE * PAGE + e->setup_end) {
		pt_error_printf(err, "unicorn: enabling %s paging failed (%s, vector %u, rip 0x%" PRIx64 ")",
			pt_mode_name(e->mode), uc_strerror(ue), e->faulted ? e->fault_vector : 0, rip);
		return false;
	}
	if (e->x64) {
		uint64_t efer = emu_read_efer(e->uc);
		if (!(efer & EFER_LMA)) {
			pt_error_printf(err, "unicorn: long mode not active after enabling paging");
			return false;
		}
	}
	return true;
}

static struct oracle_engine *engine_create(struct pt_oracle *o, enum pt_mode mode, struct pt_error *err)
{
	struct oracle_engine *e = calloc(1, sizeof(*e));
	uc_err ue;

	if (e == NULL) {
		pt_error_printf(err, "out of memory");
		return NULL;
	}
	e->oracle = o;
	e->mode = mode;
	e->x64 = mode == PT_MODE_IA32E || mode == PT_MODE_LA57;
	e->esize = mode == PT_MODE_LEGACY ? 4 : 8;
	e->levels = mode == PT_MODE_LEGACY ? 2 : mode == PT_MODE_PAE ? 3 : mode == PT_MODE_IA32E ? 4 : 5;
	if (e->x64) {
		/* Just under 2^40 (Unicorn's MAXPHYADDR, measured below) and the top of the
		 * address space: top-level slots 1 and 511 (4-level), 0 and 511 (5-level). */
		e->pa_base = (UINT64_C(1) << 40) - HARNESS_SIZE;
		e->window[0] = e->pa_base;
		e->window[1] = ~UINT64_C(0) - (HARNESS_SIZE - 1);
	} else {
		/* Top of the 32-bit space: PDE 1023 / PDPTE 3; alias: PDE 767 / PDPTE 2. */
		e->pa_base = UINT64_C(0x100000000) - HARNESS_SIZE;
		e->window[0] = e->pa_base;
		e->window[1] = UINT64_C(0xc0000000) - HARNESS_SIZE;
	}
	for (unsigned w = 0; w < 2; w++)
		e->slot[w] = emu_oracle_top_slot(e, e->window[w]);

	if (posix_memalign((void **)&e->buf, PAGE, HARNESS_SIZE) != 0) {
		e->buf = NULL;
		pt_error_printf(err, "out of memory");
		goto fail;
	}
	memset(e->buf, 0, HARNESS_SIZE);
	e->pristine = malloc(HARNESS_SIZE);
	if (e->pristine == NULL) {
		pt_error_printf(err, "out of memory");
		goto fail;
	}

	ue = uc_open(UC_ARCH_X86, e->x64 ? UC_MODE_64 : UC_MODE_32, &e->uc);
	if (ue != UC_ERR_OK) {
		e->uc = NULL;
		pt_error_printf(err, "unicorn: uc_open: %s", uc_strerror(ue));
		goto fail;
	}
	/* A model with SMAP and PKU in CPUID leaf 7 (CR4 drops bits the model lacks). */
	ue = uc_ctl_set_cpu_model(e->uc, UC_CPU_X86_SKYLAKE_SERVER);
	if (ue != UC_ERR_OK) {
		pt_error_printf(err, "unicorn: selecting the CPU model: %s", uc_strerror(ue));
		goto fail;
	}
	if (!map_uc(e, err))
		goto fail;
	{
		uc_hook h;
		ue = uc_hook_add(e->uc, &h, UC_HOOK_INTR, (void *)hook_intr, e, 1, 0);
		/* Every instruction (a probe runs a handful): the phase switch and the fetch stop. */
		if (ue == UC_ERR_OK)
			ue = uc_hook_add(e->uc, &h, UC_HOOK_CODE, (void *)hook_code, e, 1, 0);
		if (ue != UC_ERR_OK) {
			pt_error_printf(err, "unicorn: uc_hook_add: %s", uc_strerror(ue));
			goto fail;
		}
	}
	emu_oracle_build_harness(e);

	e->ctx_size = uc_context_size(e->uc);
	for (unsigned i = 0; i < 2; i++) {
		if (uc_context_alloc(e->uc, &e->base[i]) != UC_ERR_OK) {
			e->base[i] = NULL;
			pt_error_printf(err, "unicorn: uc_context_alloc failed");
			goto fail;
		}
	}
	if (uc_context_alloc(e->uc, &e->scratch) != UC_ERR_OK) {
		e->scratch = NULL;
		pt_error_printf(err, "unicorn: uc_context_alloc failed");
		goto fail;
	}
	if (!engine_setup_run(e, err))
		goto fail;
	uc_context_save(e->uc, e->base[0]);
	memcpy(e->base[1], e->base[0], e->ctx_size);

	if (!find_blob_offsets(e, err))
		goto fail;
	if (!measure_maxphyaddr(e, err))
		goto fail;
	memcpy(e->pristine, e->buf, HARNESS_SIZE);
	return e;
fail:
	emu_oracle_engine_destroy(e);
	return NULL;
}

struct oracle_engine *emu_oracle_get_engine(struct pt_oracle *o, enum pt_mode mode, struct pt_error *err)
{
	if (o->engines[mode] == NULL)
		o->engines[mode] = engine_create(o, mode, err);
	return o->engines[mode];
}
