/* SPDX-License-Identifier: MIT */
/*
 * The brute-force screens: which pages of the dump have the shape of a top-level table. Pages
 * are decoded with the walker's own decoder (pt_entry_decode) over decode-only contexts
 * (pt_context_init_mode, MAXPHYADDR 52 and no C-bit, so that a C-bit or a narrower CPU is
 * tolerated here and judged when the candidate is walked), then the scan of the whole dump.
 */
#include <stdlib.h>
#include <time.h>

#include "kpgd_internal.h"
#include "ptlab/le.h"

/** Plausible-table thresholds: corrupt entries tolerated in a 64-bit top table and in the kernel
 *  part of a 32-bit page directory. */
static const unsigned MAX_BAD64 = 16, MAX_BAD32 = 8;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void kpgd_screen_ctx_init(struct kpgd_screen_ctx *s)
{
	pt_context_init_mode(&s->ia32e, PT_MODE_IA32E, PT_MAXPHYADDR_MAX, 0);
	pt_context_init_mode(&s->pae, PT_MODE_PAE, PT_MAXPHYADDR_MAX, 0);
	pt_context_init_mode(&s->legacy, PT_MODE_LEGACY, PT_MAXPHYADDR_MAX, 0);
}

/* Second stage of the 64-bit screen: the whole page decoded as a top-level table (a PML4 and a
 * PML5 have one format, Tables 4-14 and 4-15). */
bool kpgd_plausible_top64(const struct pt_context *loose, const uint8_t *t, uint64_t phys_end)
{
	const unsigned top = loose->desc->levels, n = pt_level_entries(loose->desc, top);
	unsigned bad = 0, present = 0;
	for (unsigned i = 0; i < n; i++) {
		struct pt_entry_info e;
		pt_entry_decode(loose, top, pt_le64(t + 8 * i), &e);
		if (!e.present)
			continue; /* non-present: whatever the bits, tolerated */
		present++;
		if (e.rsvd_bits || kpgd_frame_fits(e.frame, phys_end) < 0)
			bad++;
	}
	return bad <= MAX_BAD64 && bad < present;
}

/** Stage 1 on one entry: present, no reserved bit at the top level (PS), frame in the dump. */
static bool top_slot_ok(const struct pt_context *loose, uint64_t e, uint64_t phys_end)
{
	const uint64_t top_rsvd = loose->rsvd[loose->desc->levels][0];
	return (e & (PTE_P | top_rsvd)) == PTE_P && kpgd_frame_fits(e & loose->addr_mask, phys_end) >= 0;
}

static uint64_t screen64(const struct pt_context *loose, const uint8_t *data, uint64_t pa, uint64_t len,
			 uint64_t phys_end, void (*found)(void *arg, uint64_t page_pa), void *arg)
{
	/* Stage 1 reads the entry of the kernel image's slot (511 in both 4- and 5-level tables) of
	 * every page. Pages are taken 8 at a time so the compiler can keep the loads in flight. */
	const size_t slot = (size_t)kpgd_kernel_slot(loose->desc) * 8;
	uint64_t n = 0, off = 0;
	for (; off + 8 * PT_PAGE_4K <= len; off += 8 * PT_PAGE_4K) {
		uint64_t e[8];
		unsigned hit = 0;
		for (unsigned k = 0; k < 8; k++) {
			e[k] = pt_le64(data + off + k * PT_PAGE_4K + slot);
			hit |= (unsigned)((e[k] & (PTE_P | loose->rsvd[loose->desc->levels][0])) == PTE_P) << k;
		}
		while (hit) {
			unsigned k = (unsigned)__builtin_ctz(hit);
			hit &= hit - 1;
			if (!top_slot_ok(loose, e[k], phys_end) ||
			    !kpgd_plausible_top64(loose, data + off + k * PT_PAGE_4K, phys_end))
				continue;
			n++;
			if (found)
				found(arg, pa + off + k * PT_PAGE_4K);
		}
	}
	for (; off + PT_PAGE_4K <= len; off += PT_PAGE_4K) {
		if (!top_slot_ok(loose, pt_le64(data + off + slot), phys_end) ||
		    !kpgd_plausible_top64(loose, data + off, phys_end))
			continue;
		n++;
		if (found)
			found(arg, pa + off);
	}
	return n;
}

uint64_t pt_kpgd_screen64(const uint8_t *data, uint64_t pa, uint64_t len, uint64_t phys_end,
			  void (*found)(void *arg, uint64_t page_pa), void *arg)
{
	struct pt_context loose;
	pt_context_init_mode(&loose, PT_MODE_IA32E, PT_MAXPHYADDR_MAX, 0);
	return screen64(&loose, data, pa, len, phys_end, found, arg);
}

/** A PAE PDPT: present PDPTEs without reserved bits (bit 5 tolerated: PDPTE_ACCESSED, QEMU's
 *  TCG writes it) pointing into the dump, the top GiB's present (the kernel's for every split). */
static bool plausible_pdpt(const struct pt_context *pae, const uint8_t *t, uint64_t phys_end)
{
	if (!(pt_le64(t + 8 * kpgd_kernel_slot(pae->desc)) & PTE_P))
		return false; /* first, as it rules out most pages */
	unsigned present = 0;
	for (unsigned i = 0; i < pt_level_entries(pae->desc, 3); i++) {
		struct pt_entry_info e;
		pt_entry_decode(pae, 3, pt_le64(t + 8 * i) & ~PDPTE_ACCESSED, &e);
		if (!e.present)
			continue;
		if (e.rsvd_bits || e.frame >= phys_end)
			return false;
		present++;
	}
	return present > 0;
}

/** A legacy page directory: its kernel part (above the lowest PAGE_OFFSET) mostly plausible,
 *  and an entry at the top or at one of the PAGE_OFFSETs. */
static bool plausible_pd(const struct pt_context *legacy, const uint8_t *t, uint64_t phys_end)
{
	const struct pt_mode_desc *d = legacy->desc;
	const unsigned n = pt_level_entries(d, 2);
	/* first, as it rules out most pages (zero pages above all) */
	bool anchored = pt_le32(t + 4 * (n - 1)) != 0;
	for (size_t i = 0; i < NPAGE_OFFSETS32; i++)
		anchored = anchored || pt_le32(t + 4 * pt_level_index(d, 2, PAGE_OFFSETS32[i])) != 0;
	if (!anchored)
		return false;
	unsigned present = 0, bad = 0;
	for (unsigned i = pt_level_index(d, 2, PAGE_OFFSETS32[NPAGE_OFFSETS32 - 1]); i < n; i++) {
		struct pt_entry_info e;
		pt_entry_decode(legacy, 2, pt_le32(t + 4 * i), &e);
		if (!e.present)
			continue;
		present++;
		if (!e.maps_page && e.frame >= phys_end)
			bad++;
	}
	return present >= 1 && bad <= MAX_BAD32 && bad * 2 < present;
}

void kpgd_screen_add(void *arg, uint64_t page_pa)
{
	struct kpgd_screen *s = arg;
	s->total++;
	if (s->n >= MAX_SCREENED) {
		s->full = true;
		return;
	}
	if (s->n == s->cap) { /* grown as needed: most dumps have a few, a fuzz input has none */
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint64_t *p = realloc(s->pages, cap * sizeof(*p));
		if (!p) {
			s->oom = true;
			return;
		}
		s->pages = p;
		s->cap = cap;
	}
	s->pages[s->n++] = page_pa;
}

void kpgd_screen_range(const struct kpgd_finder *f, const uint8_t *p, uint64_t pa, uint64_t len, bool is64,
		       struct kpgd_screen *s)
{
	const struct kpgd_screen_ctx *c = &f->screen;
	if (is64) {
		screen64(&c->ia32e, p, pa, len, f->phys_end, kpgd_screen_add, s);
		return;
	}
	/* a 32-bit CR3 holds the table's address */
	for (uint64_t off = 0; off + PT_PAGE_4K <= len && pa + off <= UINT32_MAX; off += PT_PAGE_4K) {
		if (plausible_pd(&c->legacy, p + off, f->phys_end) || plausible_pdpt(&c->pae, p + off, f->phys_end))
			kpgd_screen_add(s, pa + off);
	}
}

/** The screens of one scan: what is tried, and where the pages that pass go. */
struct screen_pass {
	struct kpgd_screen *s64, *s32;
};

/** kpgd_scan_nonzero's look: the whole pages of a window. */
static bool screen_window(struct kpgd_finder *f, void *arg, const uint8_t *p, uint64_t pa, uint64_t len,
			  const struct pt_dump_range *r)
{
	(void)r;
	const struct screen_pass *sp = arg;
	const uint64_t start = kpgd_page_up(pa);
	if (start >= pa + len)
		return true;
	const uint64_t n = (pa + len - start) & ~(PT_PAGE_4K - 1);
	if (n && f->try64)
		kpgd_screen_range(f, p + (start - pa), start, n, true, sp->s64);
	if (n && f->try32)
		kpgd_screen_range(f, p + (start - pa), start, n, false, sp->s32);
	return true;
}

void kpgd_run_screen(struct kpgd_finder *f, struct kpgd_screen *s64, struct kpgd_screen *s32)
{
	const struct pt_kpgd_inputs *in = f->in;
	double t0 = now_seconds();
	/* all-zero pages have no present entry: only the pages with a nonzero byte are screened */
	struct screen_pass sp = { s64, s32 };
	kpgd_scan_nonzero(f, screen_window, &sp);
	uint64_t done = 0;
	for (size_t i = 0; i < in->nranges; i++) {
		const struct pt_dump_range *r = &in->ranges[i];
		const uint64_t start = kpgd_page_up(r->pa);
		if (start < r->pa + r->size)
			done += (r->pa + r->size - start) & ~(PT_PAGE_4K - 1);
	}
	f->res->bytes_scanned = done;
	f->res->scan_seconds = now_seconds() - t0;
	f->res->screened = s64->total + s32->total;
	f->oom = f->oom || s64->oom || s32->oom;
}
