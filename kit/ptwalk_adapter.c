/* SPDX-License-Identifier: MIT */
/*
 * kit/ptwalk_adapter.c: libptwalk itself as a conformance-kit adapter (ptwalk_adapter.so), built
 * only against the public headers. It declares every capability, so `ptlab check --adapter
 * ptwalk_adapter.so` runs every tag, and a ctest requires all of them to pass: the kit's cases,
 * the dumps it writes and the adapter protocol are checked end to end against the walker the
 * expected answers come from.
 */
#include <stdlib.h>
#include <string.h>

#include "ptlab/adapter.h"
#include "ptlab/walk.h"

/** One opened walker: the folded context and a pt_mem over the reader ptlab gives. */
struct ptwalk_adapter {
	struct pt_mem mem;            /**< first member */
	ptlab_read_phys_fn read;
	void *read_ctx;
	struct pt_context ctx;
	uint8_t buf[64];              /**< the bytes of the last ptr() (the walker reads an entry at a
					   time, at most the 32-byte PAE PDPT) */
};

static const void *adapter_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	struct ptwalk_adapter *w = (struct ptwalk_adapter *)mem;

	if (len > sizeof(w->buf) || w->read(w->read_ctx, pa, w->buf, len) != 0)
		return NULL;
	return w->buf;
}

static void *adapter_open(const struct ptlab_cpu *cpu, ptlab_read_phys_fn read, void *read_ctx)
{
	struct ptwalk_adapter *w = calloc(1, sizeof(*w));
	struct pt_cpu_state s;

	if (!w)
		return NULL;
	memset(&s, 0, sizeof(s));
	s.cr0 = cpu->cr0;
	s.cr3 = cpu->cr3;
	s.cr4 = cpu->cr4;
	s.efer = cpu->efer;
	s.pkru = cpu->pkru;
	s.maxphyaddr = (uint8_t)cpu->maxphyaddr;
	s.cbit = (uint8_t)cpu->sme_cbit;
	if (cpu->paging == PTLAB_PAGING_PAE) {
		/* The registers as loaded at the last CR3 write, not what memory holds now. */
		s.has_pdpte_regs = true;
		memcpy(s.pdpte_regs, cpu->pdpte, sizeof(s.pdpte_regs));
	}
	w->mem.ptr = adapter_ptr;
	w->mem.opaque = w;
	w->read = read;
	w->read_ctx = read_ctx;
	if (pt_context_init(&w->ctx, &s, &w->mem, NULL, NULL) != PT_OK || w->ctx.mode == PT_MODE_OFF) {
		free(w);
		return NULL;
	}
	return w;
}

static int adapter_translate(void *walker, uint64_t va, uint32_t access, struct ptlab_result *out)
{
	struct ptwalk_adapter *w = walker;
	const struct pt_access a = {
		.kind = (access & PTLAB_ACCESS_FETCH) ? PT_ACCESS_FETCH
			: (access & PTLAB_ACCESS_WRITE) ? PT_ACCESS_WRITE : PT_ACCESS_READ,
		.cpl = (access & PTLAB_ACCESS_USER) ? 3 : 0,
	};
	struct pt_result r;
	enum pt_status st;

	/* Pure translation is pt_walk; the error code of its faults still names the access,
	 * which pt_translate adds to the same fault (SDM 4.7). */
	st = (access & PTLAB_ACCESS_CHECK) ? pt_translate(&w->ctx, &w->mem, va, &a, &r)
					   : pt_walk(&w->ctx, &w->mem, va, &r);
	if (st == PT_FAULT && r.fault.vector == PT_VEC_PF && !(access & PTLAB_ACCESS_CHECK))
		st = pt_translate(&w->ctx, &w->mem, va, &a, &r);
	memset(out, 0, sizeof(*out));
	if (st == PT_OK) {
		out->mapped = 1;
		out->pa = r.pa;
		out->page_size = r.page_size;
		return 0;
	}
	if (st == PT_FAULT) {
		out->pf_error = r.fault.vector == PT_VEC_PF ? r.fault.error_code : 0;
		return 0;
	}
	return -1; /* a table is not in the dump, or the VA is wider than the mode */
}

static void adapter_close(void *walker)
{
	free(walker);
}

static const struct ptlab_adapter adapter = {
	.abi = PTLAB_ADAPTER_ABI,
	.caps = PTLAB_CAP_LEGACY32 | PTLAB_CAP_PAE | PTLAB_CAP_IA32E_4 | PTLAB_CAP_IA32E_5 |
		PTLAB_CAP_RIGHTS | PTLAB_CAP_PF_ERROR | PTLAB_CAP_PAGE_SIZE | PTLAB_CAP_SME_CBIT,
	.name = "libptwalk",
	.open = adapter_open,
	.translate = adapter_translate,
	.close = adapter_close,
};

const struct ptlab_adapter *ptlab_adapter_v1(void)
{
	return &adapter;
}
