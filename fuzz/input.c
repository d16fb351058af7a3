/* SPDX-License-Identifier: MIT */
/*
 * fuzz/input.c: decoding and sanitising the fuzz input format (see input.h), and the sparse
 * physical memory the targets read through.
 */
#include "input.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ptlab/le.h"

_Noreturn void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz invariant failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

/* ---- sparse memory ------------------------------------------------------------------ */

#if defined(__SANITIZE_ADDRESS__)
#define FZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#ifdef FZ_ASAN
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define FZ_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FZ_POISON(p, n) ((void)(p), (void)(n))
#define FZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/** The arena's slot i: after a leading guard page, every other page. */
static uint8_t *slot_page(const struct fz_mem *m, unsigned i)
{
	return m->arena + (2 * (size_t)i + 1) * FZ_PAGE;
}

/** The hash slot where page `base` is, or the empty slot where it would go. */
FZ_NO_COVERAGE static unsigned hash_find(const struct fz_mem *m, uint64_t base)
{
	unsigned h = (unsigned)(((base >> 12) * UINT64_C(0x9e3779b97f4a7c15)) >> 56);

	for (;; h = (h + 1) & (FZ_HASH_SLOTS - 1)) {
		const unsigned e = m->hash[h];
		if (e == 0 || m->pa[e - 1] == base)
			return h;
	}
}

FZ_NO_COVERAGE static const void *fz_mem_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	struct fz_mem *m = mem->opaque;
	const uint64_t base = pa & ~(uint64_t)(FZ_PAGE - 1);

	m->reads++;
	if (len == 0 || len > FZ_PAGE || (pa - base) + len > FZ_PAGE)
		return NULL; /* every page is its own range: nothing spans two */
	const unsigned e = m->hash[hash_find(m, base)];
	return e ? m->page[e - 1] + (pa - base) : NULL;
}

void fz_mem_init(struct fz_mem *m)
{
	if (m->arena != NULL) {
		fz_mem_reset(m);
		return;
	}
	memset(m, 0, sizeof(*m));
	m->mem.ptr = fz_mem_ptr;
	m->mem.opaque = m;
	/* Allocated once per process and kept (as libFuzzer keeps the target's statics). */
	const size_t size = (2 * (size_t)FZ_MAX_PAGES + 1) * FZ_PAGE;
	m->arena = aligned_alloc(FZ_PAGE, size);
	if (m->arena == NULL)
		fz_fail("out of memory");
	memset(m->arena, 0, size);
	FZ_POISON(m->arena, size);
}

/** Zero bytes [lo, hi) of page i, and take them out of its dirty span. */
FZ_NO_COVERAGE static void page_clear(struct fz_mem *m, unsigned i, unsigned lo, unsigned hi)
{
	if (lo < m->dirty_lo[i])
		lo = m->dirty_lo[i];
	if (hi > m->dirty_hi[i])
		hi = m->dirty_hi[i];
	if (lo < hi)
		memset(m->page[i] + lo, 0, hi - lo);
}

/** Widen page i's dirty span to cover [lo, hi). */
FZ_NO_COVERAGE static void page_dirty(struct fz_mem *m, unsigned i, unsigned lo, unsigned hi)
{
	if (m->dirty_lo[i] >= m->dirty_hi[i]) {
		m->dirty_lo[i] = (uint16_t)lo;
		m->dirty_hi[i] = (uint16_t)hi;
		return;
	}
	if (lo < m->dirty_lo[i])
		m->dirty_lo[i] = (uint16_t)lo;
	if (hi > m->dirty_hi[i])
		m->dirty_hi[i] = (uint16_t)hi;
}

FZ_NO_COVERAGE void fz_mem_reset(struct fz_mem *m)
{
	for (unsigned i = 0; i < m->npages; i++) {
		page_clear(m, i, 0, FZ_PAGE);
		m->dirty_lo[i] = m->dirty_hi[i] = 0;
		FZ_POISON(m->page[i], FZ_PAGE);
	}
	if (m->npages)
		memset(m->hash, 0, sizeof(m->hash));
	m->npages = 0;
	m->reads = 0;
}

/** The index of the page holding `pa`, created (zeroed, clean) if needed; -1 when FZ_MAX_PAGES
 *  are in use. */
FZ_NO_COVERAGE static int page_index(struct fz_mem *m, uint64_t pa)
{
	const uint64_t base = pa & ~(uint64_t)(FZ_PAGE - 1);
	const unsigned h = hash_find(m, base);

	if (m->hash[h])
		return m->hash[h] - 1;
	if (m->npages == FZ_MAX_PAGES)
		return -1;
	const unsigned i = m->npages++;
	m->pa[i] = base;
	m->page[i] = slot_page(m, i);
	FZ_UNPOISON(m->page[i], FZ_PAGE);
	m->hash[h] = (uint8_t)(i + 1);
	return (int)i;
}

uint8_t *fz_mem_page(struct fz_mem *m, uint64_t pa)
{
	const int i = page_index(m, pa);

	if (i < 0)
		return NULL;
	page_dirty(m, (unsigned)i, 0, FZ_PAGE); /* the caller may write anywhere in it */
	return m->page[i];
}

/* ---- the header -------------------------------------------------------------------- */

static uint64_t sign_extend(uint64_t va, unsigned bits)
{
	const uint64_t sign = UINT64_C(1) << (bits - 1);
	va &= (sign << 1) - 1;
	return (va ^ sign) - sign;
}

void fz_parse(const uint8_t *data, size_t size, const struct fz_parse_opts *opts,
	      struct fz_input *in, struct fz_mem *m)
{
	uint8_t h[FZ_HEADER_SIZE] = { 0 };

	memcpy(h, data, size < FZ_HEADER_SIZE ? size : FZ_HEADER_SIZE);
	memset(in, 0, sizeof(*in));

	/* Mode first: CR0.PG, CR4.PAE/LA57 and EFER.LME/LMA follow from it (SDM Table 4-1), so
	 * LMA always implies PAE and PG. */
	in->mode = (enum pt_mode)(h[0] % 5);
	const bool x64 = in->mode == PT_MODE_IA32E || in->mode == PT_MODE_LA57;
	struct pt_cpu_state *c = &in->cpu;
	c->maxphyaddr = opts && opts->force_maxphyaddr ? opts->force_maxphyaddr
						       : (uint8_t)(32 + h[1] % 21);
	/* The SME C-bit (0 = none, else 32..62: never an address bit of a 32-bit CR3 or PDPT
	 * pointer, see pt_context_init) tags 8-byte entries only: none in 32-bit paging. */
	c->cbit = (opts && opts->no_cbit) || !(h[2] & 1) || in->mode == PT_MODE_LEGACY
			  ? 0 : (uint8_t)(32 + (h[2] >> 1) % 31);
	in->access.cpl = h[3] % 4;
	in->access.kind = (h[4] & 3) == 3 ? PT_ACCESS_READ : (enum pt_access_kind)(h[4] & 3);
	in->access.implicit = (h[4] & 4) && in->access.kind == PT_ACCESS_READ;
	in->options = h[5];
	in->check = h[7];

	c->cr0 = (pt_le_get(h + 8, 8) & PT_BIT(CR0_BIT_WP)) | 1 /* PE */;
	if (in->mode != PT_MODE_OFF)
		c->cr0 |= PT_BIT(CR0_BIT_PG);
	uint64_t cr4 = pt_le_get(h + 24, 8) & (PT_BIT(CR4_BIT_PSE) | PT_BIT(CR4_BIT_SMEP) |
					     PT_BIT(CR4_BIT_SMAP) | PT_BIT(CR4_BIT_PKE) |
					     PT_BIT(CR4_BIT_PCIDE));
	if (!x64)
		cr4 &= ~PT_BIT(CR4_BIT_PCIDE); /* setting PCIDE outside IA-32e mode is #GP */
	if (in->mode >= PT_MODE_PAE)
		cr4 |= PT_BIT(CR4_BIT_PAE);
	if (in->mode == PT_MODE_LA57)
		cr4 |= PT_BIT(CR4_BIT_LA57);
	c->cr4 = cr4;
	c->efer = pt_le_get(h + 32, 8) & PT_BIT(EFER_BIT_NXE);
	if (x64)
		c->efer |= PT_BIT(EFER_BIT_LME) | PT_BIT(EFER_BIT_LMA);
	c->rflags = pt_le_get(h + 40, 8) & PT_BIT(RFLAGS_BIT_AC);
	c->pkru = (uint32_t)pt_le_get(h + 48, 4);

	/* CR3: a MOV to CR3 #GPs on address bits at or above MAXPHYADDR; 32-bit modes hold 32. */
	const uint64_t pa_mask = (UINT64_C(1) << c->maxphyaddr) - 1;
	uint64_t cr3 = pt_le_get(h + 16, 8);
	c->cr3 = x64 ? (cr3 & pa_mask) : (cr3 & UINT32_MAX);

	for (unsigned i = 0; i < FZ_NVA; i++) {
		uint64_t va = pt_le_get(h + 56 + 8 * i, 8);
		if (!x64)
			va &= UINT32_MAX;
		else if (in->options & FZ_OPT_CANONICAL)
			va = sign_extend(va, in->mode == PT_MODE_LA57 ? 57 : 48);
		in->va[i] = va;
	}

	if (m != NULL && size > FZ_HEADER_SIZE)
		fz_parse_memory(data + FZ_HEADER_SIZE, size - FZ_HEADER_SIZE, c->maxphyaddr, m);
}

FZ_NO_COVERAGE void fz_parse_memory(const uint8_t *data, size_t size, unsigned maxphyaddr,
				    struct fz_mem *m)
{
	const uint64_t pa_mask = (UINT64_C(1) << maxphyaddr) - 1;
	size_t off = 0;

	while (off + 8 <= size) {
		const uint64_t addr = pt_le_get(data + off, 8) & pa_mask;
		off += 8;
		const int i = page_index(m, addr);
		if (addr & 1) {
			const size_t n = size - off < 8 ? size - off : 8;
			const unsigned at = (unsigned)(addr & (FZ_PAGE - 1) & ~UINT64_C(7));
			if (i >= 0) {
				uint8_t *p = m->page[i] + at;
				memcpy(p, data + off, n);
				memset(p + n, 0, 8 - n);
				page_dirty(m, (unsigned)i, at, at + 8);
			}
			off += n;
		} else {
			const size_t n = size - off < FZ_PAGE ? size - off : FZ_PAGE;
			if (i >= 0) {
				/* the page becomes these n bytes, then zeros */
				page_clear(m, (unsigned)i, (unsigned)n, FZ_PAGE);
				memcpy(m->page[i], data + off, n);
				m->dirty_lo[i] = 0;
				m->dirty_hi[i] = (uint16_t)n;
			}
			off += n;
		}
	}
}

bool fz_va_repeated(const struct fz_input *in, unsigned i)
{
	for (unsigned j = 0; j < i; j++)
		if (in->va[j] == in->va[i])
			return true;
	return false;
}

void fz_encode_header(const struct fz_input *in, uint8_t out[FZ_HEADER_SIZE])
{
	memset(out, 0, FZ_HEADER_SIZE);
	out[0] = (uint8_t)in->mode;
	out[1] = (uint8_t)(in->cpu.maxphyaddr - 32);
	out[2] = in->cpu.cbit ? (uint8_t)(((in->cpu.cbit - 32) << 1) | 1) : 0;
	out[3] = in->access.cpl;
	out[4] = (uint8_t)(in->access.kind | (in->access.implicit ? 4 : 0));
	out[5] = in->options;
	out[7] = in->check;
	pt_le_put(out + 8, in->cpu.cr0, 8);
	pt_le_put(out + 16, in->cpu.cr3, 8);
	pt_le_put(out + 24, in->cpu.cr4, 8);
	pt_le_put(out + 32, in->cpu.efer, 8);
	pt_le_put(out + 40, in->cpu.rflags, 8);
	pt_le_put(out + 48, in->cpu.pkru, 4);
	for (unsigned i = 0; i < FZ_NVA; i++)
		pt_le_put(out + 56 + 8 * i, in->va[i], 8);
}
