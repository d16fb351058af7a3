/* SPDX-License-Identifier: MIT */
/*
 * i386 boot-image integration tests (ctest label `emu`): boot every 32-bit image (PAE, 2-level,
 * with and without large pages, PAGE_OFFSET 0xc0000000 / 0x80000000 / 0x40000000) and variant
 * (default, --phys-load, --virt-offset, KASLR seeds, a big memory) in Unicorn and assert, with
 * the walker and by reading the tables, exactly what head_32 and setup_arch had to build:
 * - CR3 = __pa(swapper_pg_dir), CR0/CR4/EFER exactly, the paging mode;
 * - one offset moves physical and virtual addresses (16 MiB steps, from 16 MiB, below 512 MiB);
 * - the early map: PAGE_OFFSET + x -> x (and x -> x in initial_page_table) with 4 KiB pages for
 *   x below pa(_end) + MAPPING_BEYOND_END rounded up to a page table's span, its page tables taken
 *   in order from __brk_base, max_pfn_mapped and _brk_end recording it, the fixmap's page table
 *   present and empty;
 * - swapper_pg_dir: the kernel half (2-level: nothing below PAGE_OFFSET; PAE: the identity PDPTE
 *   kept), with 4 MiB / 2 MiB pages up to max_low_pfn (RAM capped at MAXMEM) for the PSE images;
 *   the complete list of mapped ranges (coalesced enumeration), so what is not listed is not mapped;
 * - the banner at __pa(linux_banner); an ELF core of the machine reads back as EM_386 with the
 *   CPU state and translates PAGE_OFFSET + 16 MiB; the System.map has 8-digit addresses;
 * - bad options and a starved budget fail with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ptlab/dump.h"
#include "ptlab/emu.h"
#include "ptlab/maps.h"

static const uint64_t MiB = UINT64_C(1) << 20;
static const uint64_t LOAD_PHYSICAL_ADDR = 0x1000000;
static const uint64_t KERNEL_IMAGE_SIZE = UINT64_C(512) << 20;
static const uint64_t VMALLOC_RESERVE = UINT64_C(128) << 20;
static const uint64_t CR0_STATE = 0x80050033; /* PE MP ET NE WP AM PG */
static const uint64_t CR4_PGE = 0x80;
static const uint64_t PTE_IDENT = 0x003, PDE_IDENT = 0x063, PGD_IDENT = 0x001, LARGE = 0x1e3;
static const uint64_t AD_BITS = 0x60; /* accessed/dirty, set by the MMU as it walks */

/** What the test expects of each image (stated here, not read from the manifest). */
struct img32 {
	const char *name;
	uint64_t page_offset;
	bool pae;
	bool large; /**< swapper_pg_dir maps lowmem with 4 MiB (2 MiB under PAE) pages */
};

static const struct img32 IMAGES[] = {
	{ "linux32-pae", 0xc0000000, true, false },
	{ "linux32-pae-pse", 0xc0000000, true, true },
	{ "linux32", 0xc0000000, false, false },
	{ "linux32-pse", 0xc0000000, false, true },
	{ "linux32-pae-vmsplit2g", 0x80000000, true, false },
	{ "linux32-vmsplit1g", 0x40000000, false, false },
	{ "linux32-pae-vmsplit1g", 0x40000000, true, false },
};
static const size_t NIMAGES = sizeof(IMAGES) / sizeof(IMAGES[0]);

struct booted {
	const struct img32 *img;
	struct pt_emu_machine *m;
	struct pt_emu_boot_result r;
	struct pt_context ctx;
	const struct pt_mem *mem;
	uint64_t mem_size;
	uint64_t offset; /**< the one relocation offset (virtual = physical) */
};

static void boot(struct booted *b, const struct img32 *img, struct pt_emu_boot_opts o)
{
	struct pt_error err;
	memset(b, 0, sizeof(*b));
	o.image = img->name;
	b->img = img;
	if (pt_emu_boot(&o, &b->m, &b->r, &err) != PT_OK)
		fail_msg("%s: boot failed: %s", img->name, err.message);
	b->mem = pt_emu_mem(b->m);
	b->mem_size = pt_emu_mem_size(b->m);
	b->offset = b->r.phys_load - LOAD_PHYSICAL_ADDR;
	assert_int_equal(pt_context_init(&b->ctx, &b->r.cpu, b->mem, NULL, NULL), PT_OK);
}

static uint64_t sym(const struct booted *b, const char *name)
{
	uint64_t v = 0;
	if (!pt_emu_symbol(b->m, name, &v))
		fail_msg("%s: no symbol %s", b->img->name, name);
	return v;
}

/** Where a kernel symbol is at run time: __pa() of its relocated address. */
static uint64_t sym_pa(const struct booted *b, const char *name)
{
	return sym(b, name) - b->img->page_offset + b->offset;
}

static uint64_t read_le(const struct booted *b, uint64_t pa, unsigned n)
{
	const uint8_t *p = b->mem->ptr(b->mem, pa, n);
	if (!p)
		fail_msg("pa 0x%llx not in memory", (unsigned long long)pa);
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) / align * align;
}

static void assert_maps(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
			uint64_t pa, uint64_t page_size)
{
	struct pt_result r;
	const struct pt_access rd = { PT_ACCESS_READ, 0, false };
	enum pt_status st = pt_translate(ctx, mem, va, &rd, &r);
	if (st != PT_OK)
		fail_msg("va 0x%llx: %s (fault level %u, error 0x%x)", (unsigned long long)va,
			 pt_status_name(st), r.fault.level, r.fault.error_code);
	if (r.pa != pa || r.page_size != page_size)
		fail_msg("va 0x%llx -> 0x%llx (page 0x%llx), expected 0x%llx (page 0x%llx)",
			 (unsigned long long)va, (unsigned long long)r.pa, (unsigned long long)r.page_size,
			 (unsigned long long)pa, (unsigned long long)page_size);
	assert_true(r.rights.writable);
	assert_false(r.rights.user);
}

/** Not present at `level` (#PF, error code 0 for a supervisor read). */
static void assert_unmapped(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
			    unsigned level)
{
	struct pt_result r;
	const struct pt_access rd = { PT_ACCESS_READ, 0, false };
	enum pt_status st = pt_translate(ctx, mem, va, &rd, &r);
	if (st != PT_FAULT)
		fail_msg("va 0x%llx: %s (pa 0x%llx), expected not present", (unsigned long long)va,
			 pt_status_name(st), (unsigned long long)r.pa);
	assert_int_equal(r.fault.vector, PT_VEC_PF);
	assert_int_equal(r.fault.error_code, 0);
	if (r.fault.level != level)
		fail_msg("va 0x%llx: not present at level %u, expected %u", (unsigned long long)va,
			 r.fault.level, level);
}

/* ---- what the image must have computed, derived here from the layout ---------------------- */

/** Bytes one page table maps: 4 MiB (1024 x 4 KiB) 2-level, 2 MiB (512 x 4 KiB) PAE. */
static uint64_t pt_span(const struct img32 *img)
{
	return img->pae ? 2 * MiB : 4 * MiB;
}

/** Kernel PMD pages of a PAE kernel: one per GiB above PAGE_OFFSET. */
static unsigned kpmds(const struct img32 *img)
{
	return (unsigned)(((UINT64_C(1) << 32) - img->page_offset) >> 30);
}

/** First kernel entry of the top table: PDPTE (PAE) or PDE (2-level) of PAGE_OFFSET. */
static unsigned kernel_pgd_boundary(const struct img32 *img)
{
	return (unsigned)(img->page_offset >> (img->pae ? 30 : 22));
}

/** head_32's MAPPING_BEYOND_END: the page tables that map all of lowmem. */
static uint64_t mapping_beyond_end(const struct img32 *img)
{
	uint64_t pages = ((UINT64_C(1) << 32) - img->page_offset) >> 12;
	return (img->pae ? pages / 512 + 4 : pages / 1024) << 12;
}

/** End of head_32's early map: pa(_end) + MAPPING_BEYOND_END in whole page tables. */
static uint64_t early_end(const struct booted *b)
{
	return round_up(sym_pa(b, "_end") + mapping_beyond_end(b->img), pt_span(b->img));
}

/** End of the large-page lowmem map: RAM capped at MAXMEM, in whole large pages (0 without). */
static uint64_t lowmem_end(const struct booted *b)
{
	if (!b->img->large)
		return 0;
	uint64_t maxmem = (UINT64_C(1) << 32) - b->img->page_offset - VMALLOC_RESERVE;
	uint64_t end = b->mem_size < maxmem ? b->mem_size : maxmem;
	return end / pt_span(b->img) * pt_span(b->img);
}

/* ---- the checks -------------------------------------------------------------------------- */

struct expected_range {
	uint64_t va, pa, size, page_size;
};

/** The coalesced enumeration of `ctx` is exactly `want` (and nothing else is mapped). */
static void assert_ranges(const struct booted *b, const struct pt_context *ctx,
			  const struct expected_range *want, size_t n)
{
	struct pt_maps_iter *it;
	struct pt_range range;
	size_t i = 0;
	assert_int_equal(pt_maps_create(ctx, b->mem, &(struct pt_maps_opts){ .coalesce = true }, &it), PT_OK);
	while (pt_maps_next(it, &range)) {
		if (i >= n)
			fail_msg("%s: extra %s range at va 0x%llx size 0x%llx", b->img->name,
				 pt_range_kind_name(range.kind), (unsigned long long)range.va,
				 (unsigned long long)range.size);
		if (range.kind != PT_RANGE_MAPPED || range.va != want[i].va || range.pa != want[i].pa ||
		    range.size != want[i].size || range.page_size != want[i].page_size)
			fail_msg("%s: range %zu is %s va 0x%llx pa 0x%llx size 0x%llx page 0x%llx; expected "
				 "va 0x%llx pa 0x%llx size 0x%llx page 0x%llx", b->img->name, i,
				 pt_range_kind_name(range.kind), (unsigned long long)range.va,
				 (unsigned long long)range.pa, (unsigned long long)range.size,
				 (unsigned long long)range.page_size, (unsigned long long)want[i].va,
				 (unsigned long long)want[i].pa, (unsigned long long)want[i].size,
				 (unsigned long long)want[i].page_size);
		assert_true(range.rights.writable);
		assert_false(range.rights.user);
		i++;
	}
	pt_maps_destroy(it);
	if (i != n)
		fail_msg("%s: %zu ranges, expected %zu", b->img->name, i, n);
}

/** Ranges of one view of low memory at `base`: large pages to lowmem_end, 4 KiB to early_end. */
static size_t lowmem_ranges(const struct booted *b, uint64_t base, struct expected_range *out)
{
	const uint64_t early = early_end(b), low = lowmem_end(b);
	size_t n = 0;
	if (low)
		out[n++] = (struct expected_range){ base, 0, low, pt_span(b->img) };
	if (early > low)
		out[n++] = (struct expected_range){ base + low, low, early - low, 4096 };
	return n;
}

/** head_32's early tables, as initial_page_table still holds them. */
static void check_early_tables(const struct booted *b)
{
	const struct img32 *img = b->img;
	const uint64_t early = early_end(b), span = pt_span(img);
	const uint64_t brk = sym_pa(b, "__brk_base");
	const uint64_t npt = early / span; /* page tables used */

	/* Bookkeeping: max_pfn_mapped, _brk_end (a VA) after the page tables used. */
	assert_int_equal(read_le(b, sym_pa(b, "max_pfn_mapped"), 4), early >> 12);
	assert_int_equal(read_le(b, sym_pa(b, "_brk_end"), 4), sym(b, "__brk_base") + b->offset + npt * 4096);
	assert_true(brk + npt * 4096 <= sym_pa(b, "__brk_limit"));

	/* The page tables: in order from __brk_base, each mapping its span of physical memory with
	 * P RW 4 KiB pages (accessed/dirty where the boot code went). Before the large-page remap
	 * of a PAE PSE image, that is; there the PMD entries below lowmem_end are large now. */
	const uint64_t pmd_or_pd = img->pae ? sym_pa(b, "initial_pg_pmd") : sym_pa(b, "initial_page_table");
	const unsigned esize = img->pae ? 8 : 4;
	const uint64_t first_untouched = img->pae && img->large ? lowmem_end(b) / span : 0;
	for (uint64_t i = 0; i < npt; i++) {
		uint64_t entry_pa = pmd_or_pd + (img->pae ? 0 : 4 * kernel_pgd_boundary(img)) + i * esize;
		uint64_t entry = read_le(b, entry_pa, esize);
		if (i < first_untouched) {
			assert_int_equal(entry, i * span | LARGE);
			continue;
		}
		assert_int_equal(entry, (brk + i * 4096) | PDE_IDENT);
		if (!img->pae) /* the identity PDE is the same */
			assert_int_equal(read_le(b, sym_pa(b, "initial_page_table") + i * 4, 4), entry);
		for (uint64_t k = 0; k < span / 4096; k += 97) {
			uint64_t pte = read_le(b, brk + i * 4096 + k * esize, esize);
			assert_int_equal(pte & ~AD_BITS, (i * span + k * 4096) | PTE_IDENT);
		}
	}
	/* Nothing after the last one (in the kernel half; the fixmap is the top entry). */
	uint64_t next_pa = pmd_or_pd + (img->pae ? 0 : 4 * kernel_pgd_boundary(img)) + npt * esize;
	if (!(img->pae && img->large))
		assert_int_equal(read_le(b, next_pa, esize), 0);

	/* The fixmap: its page table (empty) in the top entry of the kernel's space. */
	uint64_t fixmap_entry = img->pae ? sym_pa(b, "initial_pg_pmd") + 8 * (512 * kpmds(img) - 1)
					 : sym_pa(b, "initial_page_table") + 4 * 1023;
	assert_int_equal(read_le(b, fixmap_entry, esize), sym_pa(b, "initial_pg_fixmap") | PDE_IDENT);
	for (uint64_t k = 0; k < 4096; k += 8)
		assert_int_equal(read_le(b, sym_pa(b, "initial_pg_fixmap") + k, 8), 0);

	if (img->pae) {
		/* initial_page_table is the PDPT: PDPTE 0 and PDPTE j >= boundary -> the kernel PMDs. */
		const uint64_t pdpt = sym_pa(b, "initial_page_table"), pmd = sym_pa(b, "initial_pg_pmd");
		assert_int_equal(read_le(b, pdpt, 8), pmd | PGD_IDENT);
		for (unsigned j = 1; j < 4; j++) {
			uint64_t want = j >= kernel_pgd_boundary(img)
						? (pmd + (j - kernel_pgd_boundary(img)) * 4096) | PGD_IDENT
						: 0;
			assert_int_equal(read_le(b, pdpt + 8 * j, 8), want);
		}
	}

	/* Walk initial_page_table: the identity map and the PAGE_OFFSET map of the early range
	 * (4 KiB pages; PAE PSE: its PMDs are shared with swapper's, so large pages below lowmem_end). */
	struct pt_cpu_state cpu = b->r.cpu;
	cpu.cr3 = sym_pa(b, "initial_page_table");
	struct pt_context ictx;
	assert_int_equal(pt_context_init(&ictx, &cpu, b->mem, NULL, NULL), PT_OK);
	for (uint64_t x = 0; x < early; x += 0x5000 + 0x123) {
		uint64_t page = img->pae && img->large && x < lowmem_end(b) ? span : 4096;
		assert_maps(&ictx, b->mem, x, x, page);
		assert_maps(&ictx, b->mem, img->page_offset + x, x, page);
	}
	assert_maps(&ictx, b->mem, b->r.phys_load, b->r.phys_load,
		    img->pae && img->large && b->r.phys_load < lowmem_end(b) ? span : 4096);
	if (!(img->pae && img->large)) {
		assert_unmapped(&ictx, b->mem, early, 2);
		assert_unmapped(&ictx, b->mem, img->page_offset + early, 2);
	}
}

/** Everything an i386 image must show at its stop point. */
static void check_image(const struct booted *b)
{
	const struct img32 *img = b->img;
	const uint64_t early = early_end(b), low = lowmem_end(b), span = pt_span(img);

	/* One offset, in 16 MiB steps, from 16 MiB, the kernel in RAM and below 512 MiB. */
	assert_int_equal(b->r.phys_offset, b->offset);
	assert_int_equal(b->r.virt_offset, b->offset);
	assert_int_equal(b->r.phys_load % (16 * MiB), 0);
	assert_true(b->r.phys_load >= LOAD_PHYSICAL_ADDR);
	assert_true(sym_pa(b, "_end") <= b->mem_size);
	assert_true(sym_pa(b, "_end") <= KERNEL_IMAGE_SIZE);
	assert_int_equal(sym(b, "_text"), img->page_offset + LOAD_PHYSICAL_ADDR);
	assert_int_equal(sym(b, "startup_32"), sym(b, "_text"));
	assert_int_equal(sym(b, "phys_startup_32"), LOAD_PHYSICAL_ADDR);
	assert_int_equal(b->r.stop_rip, sym(b, "ptlab_stop") + b->offset);

	/* The CPU: paging as promised, swapper_pg_dir loaded, no long mode, no NX. */
	assert_int_equal(b->ctx.mode, img->pae ? PT_MODE_PAE : PT_MODE_LEGACY);
	assert_int_equal(b->r.paging, b->ctx.mode);
	assert_int_equal(b->r.image->paging, b->ctx.mode);
	assert_int_equal(b->r.cpu.cr3, sym_pa(b, "swapper_pg_dir"));
	assert_int_equal(b->r.cpu.cr0, CR0_STATE);
	assert_int_equal(b->r.cpu.cr4, (img->pae ? CR4_PAE : 0) | (img->large ? CR4_PSE | CR4_PGE : 0));
	assert_int_equal(b->r.cpu.efer, 0);
	assert_int_equal(b->r.cpu.rflags & 0x202, 0x2); /* reserved bit 1 set, IF clear */
	assert_true(b->r.insns > 1000);

	/* boot_params copied into the kernel (the e820 map it sized lowmem from). */
	assert_int_equal(read_le(b, sym_pa(b, "boot_params") + 0x202, 4), 0x53726448); /* "HdrS" */
	assert_int_equal(read_le(b, sym_pa(b, "boot_params") + 0x214, 4), b->r.phys_load); /* code32_start */
	if (img->large)
		assert_int_equal(read_le(b, sym_pa(b, "max_low_pfn"), 4), low >> 12);

	/* The banner, at __pa(linux_banner) and through the tables. */
	const uint8_t *banner = b->mem->ptr(b->mem, sym_pa(b, "linux_banner"), 14);
	assert_non_null(banner);
	assert_memory_equal(banner, "Linux version ", 14);
	uint64_t banner_va = sym(b, "linux_banner") + b->offset;
	assert_maps(&b->ctx, b->mem, banner_va, sym_pa(b, "linux_banner"),
		    sym_pa(b, "linux_banner") < low ? span : 4096);

	/* swapper_pg_dir's entries. */
	const uint64_t swapper = sym_pa(b, "swapper_pg_dir");
	if (img->pae) {
		/* The four PDPTEs of initial_page_table: the kernel PMDs and PDPTE 0's identity map. */
		for (unsigned j = 0; j < 4; j++)
			assert_int_equal(read_le(b, swapper + 8 * j, 8),
					 read_le(b, sym_pa(b, "initial_page_table") + 8 * j, 8));
		assert_int_equal(read_le(b, swapper, 8), sym_pa(b, "initial_pg_pmd") | PGD_IDENT);
	} else {
		const unsigned kpgd = kernel_pgd_boundary(img);
		for (unsigned i = 0; i < kpgd; i++) /* no user half, no identity map */
			assert_int_equal(read_le(b, swapper + 4 * i, 4), 0);
		for (unsigned i = kpgd; i < 1024; i++) {
			uint64_t e = read_le(b, swapper + 4 * i, 4);
			uint64_t x = (uint64_t)(i - kpgd) << 22; /* the physical address it maps */
			if (x < low)
				assert_int_equal(e, x | LARGE);
			else
				assert_int_equal(e, read_le(b, sym_pa(b, "initial_page_table") + 4 * i, 4));
		}
	}
	if (img->large) {
		uint64_t first = img->pae ? sym_pa(b, "initial_pg_pmd") : swapper + 4 * kernel_pgd_boundary(img);
		unsigned esize = img->pae ? 8 : 4;
		for (uint64_t x = 0; x < low; x += span)
			assert_int_equal(read_le(b, first + x / span * esize, esize), x | LARGE);
	}

	/* Translations through swapper_pg_dir: PAGE_OFFSET + x -> x over the mapped lowmem. */
	const uint64_t top = early > low ? early : low;
	for (uint64_t x = 0; x < top; x += 0x7000 + 0x321) {
		uint64_t page = x < low ? span : 4096;
		assert_maps(&b->ctx, b->mem, img->page_offset + x, x, page);
		if (img->pae && x < (UINT64_C(1) << 30)) /* PDPTE 0 shares the first kernel PMD */
			assert_maps(&b->ctx, b->mem, x, x, page);
	}
	assert_maps(&b->ctx, b->mem, sym(b, "_text") + b->offset, b->r.phys_load,
		    b->r.phys_load < low ? span : 4096);
	assert_maps(&b->ctx, b->mem, sym(b, "swapper_pg_dir") + b->offset, swapper,
		    swapper < low ? span : 4096);
	assert_maps(&b->ctx, b->mem, img->page_offset + top - 1, top - 1, top - 1 < low ? span : 4096);

	/* What is not mapped: past the lowmem map (an empty PDE / PMD entry), the fixmap (its page
	 * table is empty), the identity range in a 2-level swapper_pg_dir, the absent PDPTEs. */
	assert_unmapped(&b->ctx, b->mem, img->page_offset + top, 2);
	assert_unmapped(&b->ctx, b->mem, UINT64_C(0xfffff000), 1);
	assert_unmapped(&b->ctx, b->mem, UINT64_C(0xffe00000), 1);
	if (img->pae) {
		for (unsigned j = 1; j < kernel_pgd_boundary(img); j++)
			assert_unmapped(&b->ctx, b->mem, (uint64_t)j << 30, 3);
		assert_unmapped(&b->ctx, b->mem, top, 2);
	} else {
		assert_unmapped(&b->ctx, b->mem, 0, 2);
		assert_unmapped(&b->ctx, b->mem, b->r.phys_load, 2);
		assert_unmapped(&b->ctx, b->mem, img->page_offset - 4096, 2);
	}

	/* The complete list of mapped ranges (coalesced): nothing else is mapped. */
	struct expected_range want[8];
	size_t n = 0;
	if (img->pae) {
		/* PDPTE 0 (and PDPTE 1 for a 1G/3G split, the kernel's first PDPTE there) see the
		 * first kernel PMD; its entry 511 is the fixmap's for a 3G/1G split (empty). */
		n += lowmem_ranges(b, 0, want + n);
	}
	n += lowmem_ranges(b, img->page_offset, want + n);
	assert_ranges(b, &b->ctx, want, n);

	check_early_tables(b);
}

/* ---- the tests ----------------------------------------------------------------------------- */

static void test_default(void **state)
{
	(void)state;
	for (size_t i = 0; i < NIMAGES; i++) {
		struct booted b;
		boot(&b, &IMAGES[i], (struct pt_emu_boot_opts){ 0 });
		assert_string_equal(b.r.image->name, IMAGES[i].name);
		assert_int_equal(b.r.phys_load, LOAD_PHYSICAL_ADDR);
		assert_int_equal(b.offset, 0);
		check_image(&b);
		print_message("  %-22s default: CR3 0x%llx, %llu instructions, %.2f ms\n", IMAGES[i].name,
			      (unsigned long long)b.r.cpu.cr3, (unsigned long long)b.r.insns, b.r.seconds * 1e3);
		pt_emu_destroy(b.m);
	}
}

static void test_relocated(void **state)
{
	(void)state;
	for (size_t i = 0; i < NIMAGES; i++) {
		struct booted b;
		boot(&b, &IMAGES[i], (struct pt_emu_boot_opts){ .phys_load = 0x4000000 });
		assert_int_equal(b.r.phys_load, 0x4000000);
		assert_int_equal(b.offset, 0x3000000);
		check_image(&b);
		pt_emu_destroy(b.m);
		/* --virt-offset alone: the same one offset */
		boot(&b, &IMAGES[i], (struct pt_emu_boot_opts){ .has_virt_offset = true, .virt_offset = 0x2000000 });
		assert_int_equal(b.r.phys_load, 0x3000000);
		check_image(&b);
		pt_emu_destroy(b.m);
		/* both, agreeing */
		boot(&b, &IMAGES[i], (struct pt_emu_boot_opts){ .phys_load = 0x9000000, .has_virt_offset = true,
								 .virt_offset = 0x8000000 });
		assert_int_equal(b.offset, 0x8000000);
		check_image(&b);
		pt_emu_destroy(b.m);
	}
}

static void test_kaslr_seeds(void **state)
{
	(void)state;
	for (size_t i = 0; i < NIMAGES; i++) {
		uint64_t moved = 0;
		for (uint64_t seed = 1; seed <= 3; seed++) {
			struct booted b;
			boot(&b, &IMAGES[i], (struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = seed });
			check_image(&b);
			moved |= b.offset;
			pt_emu_destroy(b.m);
		}
		assert_true(moved != 0); /* the seeds really move the kernel */
	}
}

/* More RAM than lowmem: the large-page map stops at MAXMEM (896 MiB at a 3G/1G split), KASLR
 * stays below KERNEL_IMAGE_SIZE, and the 1G/3G split's lowmem alias fits. */
static void test_big_memory(void **state)
{
	(void)state;
	for (size_t i = 0; i < NIMAGES; i++) {
		struct booted b;
		boot(&b, &IMAGES[i], (struct pt_emu_boot_opts){ .mem_size = UINT64_C(1) << 30 });
		check_image(&b);
		if (IMAGES[i].large)
			assert_int_equal(lowmem_end(&b), UINT64_C(896) << 20);
		pt_emu_destroy(b.m);
		boot(&b, &IMAGES[i], (struct pt_emu_boot_opts){ .mem_size = UINT64_C(1) << 30,
								 .has_kaslr_seed = true, .kaslr_seed = 10 + i });
		check_image(&b);
		pt_emu_destroy(b.m);
	}
	/* The top of the KASLR window: the last 16 MiB slot below 512 MiB. */
	struct booted b;
	boot(&b, &IMAGES[0], (struct pt_emu_boot_opts){ .mem_size = UINT64_C(1) << 30, .phys_load = 0x1f000000 });
	check_image(&b);
	pt_emu_destroy(b.m);
}

/* The dump ptlab boot writes: ELF64 with e_machine EM_386, the PTLAB note's CPU state, and a
 * translation of PAGE_OFFSET + 16 MiB from it alone; the System.map with 8-digit addresses. */
static void test_core_and_symbols(void **state)
{
	(void)state;
	char core[] = "/tmp/ptlab-test-emu32-core-XXXXXX", map[] = "/tmp/ptlab-test-emu32-map-XXXXXX";
	int fd1 = mkstemp(core), fd2 = mkstemp(map);
	assert_true(fd1 >= 0 && fd2 >= 0);
	close(fd1);
	close(fd2);
	for (size_t i = 0; i < NIMAGES; i++) {
		struct booted b;
		struct pt_error err;
		boot(&b, &IMAGES[i], (struct pt_emu_boot_opts){ .mem_size = UINT64_C(64) << 20,
								 .has_kaslr_seed = true, .kaslr_seed = 5 });
		assert_int_equal(pt_emu_write_core(b.m, core, &err), PT_OK);
		assert_int_equal(pt_emu_write_symbols(b.m, map, &err), PT_OK);

		struct pt_dump *d;
		if (pt_dump_open(core, NULL, &d, &err) != PT_OK)
			fail_msg("%s", err.message);
		assert_int_equal(pt_dump_elf_machine(d), 3);
		struct pt_cpu_state cpu;
		assert_int_equal(pt_dump_cpu(d, &cpu), PT_CPU_PTLAB);
		assert_int_equal(cpu.cr0, b.r.cpu.cr0);
		assert_int_equal(cpu.cr3, b.r.cpu.cr3);
		assert_int_equal(cpu.cr4, b.r.cpu.cr4);
		assert_int_equal(cpu.efer, b.r.cpu.efer);
		struct pt_context ctx;
		assert_int_equal(pt_context_init(&ctx, &cpu, pt_dump_mem(d), NULL, NULL), PT_OK);
		assert_int_equal(ctx.mode, IMAGES[i].pae ? PT_MODE_PAE : PT_MODE_LEGACY);
		uint64_t va = IMAGES[i].page_offset + LOAD_PHYSICAL_ADDR;
		uint64_t page = IMAGES[i].large ? pt_span(&IMAGES[i]) : 4096;
		assert_maps(&ctx, pt_dump_mem(d), va, LOAD_PHYSICAL_ADDR, page);
		assert_maps(&ctx, pt_dump_mem(d), va + b.offset, b.r.phys_load, page);
		pt_dump_close(d);

		/* System.map: "%08x T name", _text and swapper_pg_dir at link time. */
		FILE *f = fopen(map, "r");
		assert_non_null(f);
		char line[256], want_text[64], want_swapper[64];
		snprintf(want_text, sizeof(want_text), "%08llx T _text\n", (unsigned long long)sym(&b, "_text"));
		snprintf(want_swapper, sizeof(want_swapper), "%08llx B swapper_pg_dir\n",
			 (unsigned long long)sym(&b, "swapper_pg_dir"));
		bool text = false, swapper = false;
		while (fgets(line, sizeof(line), f)) {
			assert_true(strlen(line) > 11 && line[8] == ' ' && line[10] == ' ');
			text |= strcmp(line, want_text) == 0;
			swapper |= strcmp(line, want_swapper) == 0;
		}
		fclose(f);
		assert_true(text && swapper);
		pt_emu_destroy(b.m);
	}
	unlink(core);
	unlink(map);
}

/* A boot that fails with `status` (PT_EINVAL: the options; PT_FAULT: the boot itself). */
static void expect_boot_status(const char *image, struct pt_emu_boot_opts o, enum pt_status status,
			       const char *needle)
{
	struct pt_emu_machine *m = NULL;
	struct pt_emu_boot_result r;
	struct pt_error err;
	o.image = image;
	assert_int_equal(pt_emu_boot(&o, &m, &r, &err), status);
	assert_null(m);
	if (!strstr(err.message, needle))
		fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static void test_bad_options_and_budget(void **state)
{
	(void)state;
	const char *img = "linux32-pae";
	expect_boot_status(img, (struct pt_emu_boot_opts){ .phys_load = 0x1200000 }, PT_EINVAL, "multiple of 16 MiB");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .phys_load = 0x800000 }, PT_EINVAL, "from 16 MiB");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .phys_load = 0x10000000 }, PT_EINVAL, "does not fit");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .phys_load = 0x20000000, .mem_size = UINT64_C(1) << 30 },
			  PT_EINVAL, "below 512 MiB");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .has_virt_offset = true, .virt_offset = 0x200000 },
			  PT_EINVAL, "--virt-offset 0x200000");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .has_virt_offset = true, .virt_offset = UINT64_C(1) << 40 },
			  PT_EINVAL, "--virt-offset");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .phys_load = 0x2000000, .has_virt_offset = true,
							  .virt_offset = 0x2000000 }, PT_EINVAL, "disagree");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = 1,
							  .phys_load = 0x2000000 }, PT_EINVAL, "--kaslr picks both");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .la57 = true }, PT_EINVAL, "does not take --la57");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .sme = true }, PT_EINVAL, "--sme");
	expect_boot_status(img, (struct pt_emu_boot_opts){ .pti = true }, PT_EINVAL, "--pti");
	/* A starved budget stops inside head_32, naming where (a physical address: paging is off). */
	expect_boot_status(img, (struct pt_emu_boot_opts){ .insn_budget = 100 }, PT_FAULT, "budget of 100");
	expect_boot_status("linux32", (struct pt_emu_boot_opts){ .insn_budget = 100 },
			  PT_FAULT, "spent before the stop point, at 0x1000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_relocated),
		cmocka_unit_test(test_kaslr_seeds),
		cmocka_unit_test(test_big_memory),
		cmocka_unit_test(test_core_and_symbols),
		cmocka_unit_test(test_bad_options_and_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
