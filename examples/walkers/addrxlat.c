/* SPDX-License-Identifier: MIT */
/*
 * examples/walkers/addrxlat.c: a ptlab adapter over libaddrxlat (libkdumpfile 0.5.1, Debian's
 * libkdumpfile-dev), the page-table translator behind libkdumpfile. Nobody on ptlab wrote its
 * walk: `ptlab check --adapter addrxlat.so` measures libaddrxlat, not us.
 *
 * The adapter does only what a user of the library does: it describes the page tables as an
 * ADDRXLAT_PGT method (root, PTE format, the VA's bit fields), gives the library a read callback
 * over ptlab's physical-memory reader, and runs the walk step by step (addrxlat_launch /
 * addrxlat_step) to see at which level the walk ended, which gives the page size.
 *
 * The root is CR3's address bits as the SDM defines them (bits M-1:12; PAE: 31:5; 32-bit: 31:12;
 * the SME C-bit stripped), so the scorecard measures the library's walk, not the adapter. With
 * PTLAB_ADDRXLAT_ROOT=libkdumpfile in the environment the root is taken from CR3 as libkdumpfile's
 * own Linux set-up takes it (src/addrxlat/x86_64.c and ia32.c, get_linux_pgt_root, 0.5.1): x86-64
 * clears bits 11:0 only (the C-bit stays), IA-32 takes CR3 as it is (docs/conformance.md shows
 * what that costs). The SME C-bit is the method's pte_mask, as libkdumpfile sets it from
 * VMCOREINFO's NUMBER(sme_mask).
 *
 * What it declares (docs/conformance.md has the scorecard): 32-bit, PAE, 4-level and 5-level
 * paging, page sizes, and the SME C-bit. Not the access rights (the
 * library has no notion of them) and not #PF error codes (it says "not present" or "invalid").
 *
 * Build it as a user would:
 *   cc -shared -fPIC -O2 -I/path/to/ptlab/include -o addrxlat.so addrxlat.c \
 *      $(pkg-config --cflags --libs libaddrxlat)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libkdumpfile/addrxlat.h>

#include "ptlab/adapter.h"

/** One open case: the library's context and the PGT method that describes the tables. */
struct axl_walker {
	ptlab_read_phys_fn read;
	void *read_ctx;
	addrxlat_ctx_t *ctx;
	addrxlat_meth_t meth;
	unsigned first_field_bits; /* bits a leaf PTE maps (12) */
	unsigned level_bits;       /* bits each level above it indexes (10 on IA-32, else 9) */
};

/* ---- callbacks: physical memory through ptlab's reader ---------------------------------- */

/** Release a buffer axl_get_page handed out (the library calls it when it evicts the buffer
 *  from its read cache). */
static void axl_put_page(const addrxlat_buffer_t *buf)
{
	free(buf->priv);
}

/*
 * The get-page callback. The library keeps the buffers it gets in a small read cache and gives
 * them back through put_page, so each call hands out memory of its own: the whole 4 KiB page
 * when the dump holds it, else (a page partly outside the dump) just the 8 or 4 aligned bytes
 * around the address. The library reads at most 8 aligned bytes at a time and never across the
 * end of a buffer (addrxlat.h, struct _addrxlat_buffer).
 */
static addrxlat_status axl_get_page(const addrxlat_cb_t *cb, addrxlat_buffer_t *buf)
{
	const struct axl_walker *w = cb->priv;
	const uint64_t addr = buf->addr.addr;
	static const uint64_t sizes[] = { 4096, 8, 4 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const uint64_t start = addr & ~(sizes[i] - 1);
		uint8_t *data = malloc(sizes[i]);
		if (!data)
			return addrxlat_ctx_err(w->ctx, ADDRXLAT_ERR_NOMEM, "out of memory");
		if (w->read(w->read_ctx, start, data, sizes[i]) == 0) {
			buf->addr.addr = start;
			buf->ptr = data;
			buf->size = sizes[i];
			buf->byte_order = ADDRXLAT_LITTLE_ENDIAN;
			buf->put_page = axl_put_page;
			buf->priv = data;
			return ADDRXLAT_OK;
		}
		free(data);
	}
	return addrxlat_ctx_err(w->ctx, ADDRXLAT_ERR_NODATA, "PA 0x%llx not in the dump",
				(unsigned long long)addr);
}

/** The callback reads physical addresses directly (no translation needed to read them). */
static unsigned long axl_read_caps(const addrxlat_cb_t *cb)
{
	(void)cb;
	return ADDRXLAT_CAPS(ADDRXLAT_MACHPHYSADDR) | ADDRXLAT_CAPS(ADDRXLAT_KPHYSADDR);
}

/* ---- open: the paging form of each mode ------------------------------------------------- */

/** Bits hi..lo of v. */
static uint64_t axl_bits(uint64_t v, unsigned hi, unsigned lo)
{
	return (v >> lo & ((UINT64_C(2) << (hi - lo)) - 1)) << lo;
}

/** The root table's address from CR3 (see the top of the file). */
static uint64_t axl_root(const struct ptlab_cpu *cpu)
{
	const char *how = getenv("PTLAB_ADDRXLAT_ROOT");
	const bool as_libkdumpfile = how && strcmp(how, "libkdumpfile") == 0;
	const uint64_t cr3 = cpu->cr3 & ~(cpu->sme_cbit ? UINT64_C(1) << cpu->sme_cbit : 0);
	switch (cpu->paging) {
	case PTLAB_PAGING_LEGACY32: /* SDM Table 4-3 */
		return as_libkdumpfile ? cpu->cr3 : axl_bits(cr3, 31, 12);
	case PTLAB_PAGING_PAE:      /* SDM Table 4-7: a 32-byte aligned PDPT */
		return as_libkdumpfile ? cpu->cr3 : axl_bits(cr3, 31, 5);
	default:                    /* SDM Tables 4-12, 4-13 */
		return as_libkdumpfile ? cpu->cr3 & ~UINT64_C(0xfff) : axl_bits(cr3, cpu->maxphyaddr - 1, 12);
	}
}

/** Fill the PGT method for `cpu`; false for a mode the library has no form for. */
static bool axl_describe(struct axl_walker *w, const struct ptlab_cpu *cpu)
{
	addrxlat_param_pgt_t *pgt = &w->meth.param.pgt;
	addrxlat_paging_form_t *pf = &pgt->pf;

	w->meth.kind = ADDRXLAT_PGT;
	w->meth.target_as = ADDRXLAT_MACHPHYSADDR;
	pgt->root.as = ADDRXLAT_MACHPHYSADDR;
	pgt->pte_mask = 0;
	pgt->root.addr = axl_root(cpu);
	w->first_field_bits = 12;
	w->level_bits = 9;
	switch (cpu->paging) {
	case PTLAB_PAGING_LEGACY32:
		/* 32-bit paging: 4-byte entries, VA = 10 + 10 + 12 bits. */
		pf->pte_format = ADDRXLAT_PTE_IA32;
		pf->nfields = 3;
		pf->fieldsz[0] = 12, pf->fieldsz[1] = 10, pf->fieldsz[2] = 10;
		w->level_bits = 10;
		return true;
	case PTLAB_PAGING_PAE:
		/* PAE: 8-byte entries, VA = 2 + 9 + 9 + 12 bits; the library reads the four PDPTEs
		 * from memory at the root (it has no PDPTE registers). */
		pf->pte_format = ADDRXLAT_PTE_IA32_PAE;
		pf->nfields = 4;
		pf->fieldsz[0] = 12, pf->fieldsz[1] = 9, pf->fieldsz[2] = 9, pf->fieldsz[3] = 2;
		return true;
	case PTLAB_PAGING_IA32E_4:
	case PTLAB_PAGING_IA32E_5: {
		/* x86-64: 9 bits per level above the 12-bit offset, a fifth table with LA57. */
		const unsigned levels = cpu->paging == PTLAB_PAGING_IA32E_5 ? 5 : 4;
		pf->pte_format = ADDRXLAT_PTE_X86_64;
		pf->nfields = (unsigned short)(levels + 1);
		pf->fieldsz[0] = 12;
		for (unsigned i = 1; i <= levels; i++)
			pf->fieldsz[i] = 9;
		if (cpu->sme_cbit) /* PTLAB_CAP_SME_CBIT: strip the C-bit from every entry */
			pgt->pte_mask = UINT64_C(1) << cpu->sme_cbit;
		return true;
	}
	default:
		return false;
	}
}

static void *axl_open(const struct ptlab_cpu *cpu, ptlab_read_phys_fn read, void *read_ctx)
{
	struct axl_walker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->read = read;
	w->read_ctx = read_ctx;
	if (!axl_describe(w, cpu))
		goto fail;
	w->ctx = addrxlat_ctx_new();
	if (!w->ctx)
		goto fail;
	addrxlat_cb_t *cb = addrxlat_ctx_add_cb(w->ctx);
	if (!cb)
		goto fail;
	cb->priv = w;
	cb->get_page = axl_get_page;
	cb->read_caps = axl_read_caps;
	return w;
fail:
	if (w->ctx)
		addrxlat_ctx_decref(w->ctx);
	free(w);
	return NULL;
}

/* ---- translate ---------------------------------------------------------------------------- */

static int axl_translate(void *walker, uint64_t va, uint32_t access, struct ptlab_result *out)
{
	struct axl_walker *w = walker;
	(void)access; /* pure translation: the library checks no rights */

	memset(out, 0, sizeof(*out));
	addrxlat_step_t step = { .ctx = w->ctx, .sys = NULL, .meth = &w->meth };
	addrxlat_status st = addrxlat_launch(&step, va);
	/* Step by step: the step that leaves one remaining step (the page offset) read the leaf
	 * entry, at level remain - 1 (1 = PTE, 2 = PDE ...), which gives the page size. */
	unsigned leaf_level = 0;
	while (st == ADDRXLAT_OK && step.remain > 0) {
		const unsigned before = step.remain;
		st = addrxlat_step(&step);
		if (st == ADDRXLAT_OK && step.remain == 1 && before > 1)
			leaf_level = before - 1;
	}
	switch (st) {
	case ADDRXLAT_OK:
		out->mapped = 1;
		out->pa = step.base.addr;
		if (leaf_level)
			out->page_size = UINT64_C(1) << (w->first_field_bits + w->level_bits * (leaf_level - 1));
		return 0;
	case ADDRXLAT_ERR_NOTPRESENT: /* a not-present entry */
	case ADDRXLAT_ERR_INVALID:    /* "Virtual address too big": non-canonical, or above 4 GiB */
		return 0;
	default:                      /* NODATA (a table not in the dump) and anything else */
		return -1;
	}
}

static void axl_close(void *walker)
{
	struct axl_walker *w = walker;
	addrxlat_ctx_decref(w->ctx);
	free(w);
}

static const struct ptlab_adapter axl_adapter = {
	.abi = PTLAB_ADAPTER_ABI,
	.caps = PTLAB_CAP_LEGACY32 | PTLAB_CAP_PAE | PTLAB_CAP_IA32E_4 | PTLAB_CAP_IA32E_5 |
		PTLAB_CAP_PAGE_SIZE | PTLAB_CAP_SME_CBIT,
	.name = "libaddrxlat " ADDRXLAT_VERSION_STRING " (examples/walkers/addrxlat.c)",
	.open = axl_open,
	.translate = axl_translate,
	.close = axl_close,
};

const struct ptlab_adapter *ptlab_adapter_v1(void)
{
	return &axl_adapter;
}
