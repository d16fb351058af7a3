/* SPDX-License-Identifier: MIT */
/*
 * Boot-image integration tests (ctest label `emu`): boot every image and variant in Unicorn and
 * assert, with the walker, the exact tables the boot code had to build:
 * - decompressor: VA x -> PA x for every x below 4 GiB with 2 MiB pages, nothing above;
 * - kernel stage: CR3 = __pa(init_top_pgt); __START_KERNEL_map + i*2M -> i*2M + load_delta for
 *   all 256 PMDs of level2_kernel_pgt; early_top_pgt also maps the load area 1:1 (the
 *   switch-over mapping); init_top_pgt[511] == early_top_pgt[511] and nothing else;
 * - relocated, KASLR (--virt-offset and several --kaslr seeds), LA57 and LA57+KASLR variants;
 * - SME (--sme, alone and with LA57, KASLR, a relocated load): CR3 and every entry the kernel stage
 *   wrote carry the C-bit (bit 39, reported by CPUID 0x8000001F), the CPU state says so and the
 *   walker strips it: the translations are those without SME;
 * - PTI (--pti: the command line pti=on): init_top_pgt is 8 KiB aligned and CR3 holds it; its user
 *   copy at +4 KiB has an empty user half and one kernel-half entry, a chain through
 *   pti_user_pgts mapping only the entry text (entry_SYSCALL_64) with 4 KiB pages to the frames
 *   the kernel table maps it to; _text and everything else in the kernel half do not map there;
 * - bad options and a starved instruction budget fail with a message, never a hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ptlab/emu.h"
#include "ptlab/maps.h"

static const uint64_t START_KERNEL_MAP = UINT64_C(0xffffffff80000000);
static const uint64_t LINK_TEXT = UINT64_C(0xffffffff81000000);
/* The SME C-bit the machine reports (CPUID 0x8000001F EBX[5:0]): below Unicorn's MAXPHYADDR 40. */
static const unsigned SME_CBIT = 39;

/** What a linux64 boot was asked for: the expectations follow from it. */
struct variant {
	uint64_t phys_load, virt_offset;
	bool la57, sme, pti;
};

struct booted {
	struct pt_emu_machine *m;
	struct pt_emu_boot_result r;
	struct pt_context ctx;
	const struct pt_mem *mem;
};

static void boot(struct booted *b, const struct pt_emu_boot_opts *o)
{
	struct pt_error err;
	memset(b, 0, sizeof(*b));
	if (pt_emu_boot(o, &b->m, &b->r, &err) != PT_OK)
		fail_msg("boot failed: %s", err.message);
	b->mem = pt_emu_mem(b->m);
	assert_int_equal(pt_context_init(&b->ctx, &b->r.cpu, b->mem, NULL, NULL), PT_OK);
}

static uint64_t sym(const struct booted *b, const char *name)
{
	uint64_t v = 0;
	if (!pt_emu_symbol(b->m, name, &v))
		fail_msg("no symbol %s", name);
	return v;
}

/** Physical address of a kernel symbol as loaded: load address + its offset in the image. */
static uint64_t sym_pa(const struct booted *b, const char *name)
{
	return b->r.phys_load + (sym(b, name) - LINK_TEXT);
}

static uint64_t read64(const struct booted *b, uint64_t pa)
{
	const uint8_t *p = b->mem->ptr(b->mem, pa, 8);
	assert_non_null(p);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
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
	assert_int_equal(r.pa, pa);
	assert_int_equal(r.page_size, page_size);
}

static void assert_unmapped(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
			    unsigned level)
{
	struct pt_result r;
	const struct pt_access rd = { PT_ACCESS_READ, 0, false };
	if (pt_translate(ctx, mem, va, &rd, &r) != PT_FAULT)
		fail_msg("va 0x%llx maps to 0x%llx: expected a #PF at level %u", (unsigned long long)va,
			 (unsigned long long)r.pa, level);
	assert_int_equal(r.fault.vector, PT_VEC_PF);
	assert_int_equal(r.fault.error_code, 0);
	assert_int_equal(r.fault.level, level);
}

/** The NUL-terminated string at a kernel symbol (empty when the first byte is 0). */
static const char *sym_string(const struct booted *b, const char *name, size_t max)
{
	const char *p = (const char *)b->mem->ptr(b->mem, sym_pa(b, name), max);
	assert_non_null(p);
	assert_non_null(memchr(p, 0, max));
	return p;
}

/** Every present entry of the 4 KiB table at `pa` carries the C-bit `c` (none does when c is 0,
 * except entries whose negative load_delta wrapped them into bits 63:MAXPHYADDR). */
static void assert_table_cbit(const struct booted *b, const char *what, uint64_t pa, uint64_t c)
{
	const uint64_t bit = UINT64_C(1) << SME_CBIT;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = read64(b, pa + 8 * i);
		if (!(e & 1) || (!c && (int64_t)e < 0))
			continue;
		if ((e & bit) != c)
			fail_msg("%s (0x%llx) entry %u = 0x%llx: C-bit %s", what, (unsigned long long)pa, i,
				 (unsigned long long)e, c ? "missing" : "set without --sme");
	}
}

/** The C-bit in every table the kernel stage wrote, in CR3 and in the CPU state. */
static void check_cbit(const struct booted *b, const struct variant *v)
{
	const uint64_t c = v->sme ? UINT64_C(1) << SME_CBIT : 0;
	assert_int_equal(b->r.cpu.cbit, v->sme ? SME_CBIT : 0);
	assert_int_equal(b->r.cpu.cr3 & (UINT64_C(1) << SME_CBIT), c);
	/* sme_enable's result: the mask from CPUID 0x8000001F EBX[5:0], SYSCFG bit 23 set */
	assert_int_equal(read64(b, sym_pa(b, "sme_me_mask")), c);
	const char *tables[] = { "early_top_pgt", "init_top_pgt", "level3_kernel_pgt", "level2_kernel_pgt",
				 "level2_fixmap_pgt", "level4_kernel_pgt" };
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		if (strcmp(tables[t], "level4_kernel_pgt") == 0 && !v->la57)
			continue; /* left as linked (unused) in 4-level mode */
		assert_table_cbit(b, tables[t], sym_pa(b, tables[t]), c);
	}
	/* the identity map's tables handed out from early_dynamic_pgts */
	const uint64_t dyn = sym_pa(b, "early_dynamic_pgts");
	const uint64_t used = (read64(b, sym_pa(b, "next_early_pgt")) - dyn) / 4096;
	assert_int_equal(used, v->la57 ? 3 : 2);
	for (uint64_t i = 0; i < used; i++)
		assert_table_cbit(b, "early_dynamic_pgts", dyn + i * 4096, c);
	/* the PTI user copy and its own tables */
	const uint64_t pool = sym_pa(b, "pti_user_pgts");
	assert_table_cbit(b, "init_top_pgt user copy", sym_pa(b, "init_top_pgt") + 4096, c);
	for (uint64_t i = 0; i < read64(b, sym_pa(b, "pti_next_pgt")); i++)
		assert_table_cbit(b, "pti_user_pgts", pool + i * 4096, c);
}

/** PTI: the user copy of init_top_pgt, exactly; without PTI an empty page. */
static void check_pti(const struct booted *b, const struct variant *v)
{
	const uint64_t c = v->sme ? UINT64_C(1) << SME_CBIT : 0;
	const unsigned top = v->la57 ? 5 : 4;
	const uint64_t kpgd = sym_pa(b, "init_top_pgt");
	const uint64_t user = kpgd + 4096;
	assert_int_equal(kpgd % 8192, 0); /* the order-1 PGD */
	assert_string_equal(sym_string(b, "boot_command_line", 2048), v->pti ? "pti=on" : "");
	const uint64_t pool = sym_pa(b, "pti_user_pgts");
	const uint64_t npool = read64(b, sym_pa(b, "pti_next_pgt"));
	if (!v->pti) {
		for (unsigned i = 0; i < 512; i++)
			assert_int_equal(read64(b, user + 8 * i), 0);
		assert_int_equal(npool, 0);
		return;
	}
	/* The user half is the kernel table's (empty at this point of the boot), the kernel half
	 * holds only entry 511: a chain top -> (p4d ->) pud -> pmd -> pte through pti_user_pgts. */
	assert_int_equal(npool, top - 1);
	for (unsigned i = 0; i < 511; i++)
		assert_int_equal(read64(b, user + 8 * i), 0);
	const uint64_t text_va = LINK_TEXT + v->virt_offset;
	const uint64_t entry_va = sym(b, "entry_SYSCALL_64") + v->virt_offset;
	const uint64_t entry_pa = sym_pa(b, "entry_SYSCALL_64");
	assert_int_equal(entry_va % 4096, 0);
	assert_int_equal(sym(b, "__entry_text_start"), sym(b, "entry_SYSCALL_64"));
	assert_true(sym(b, "__entry_text_end") - sym(b, "__entry_text_start") <= 4096);
	uint64_t table = user;
	for (unsigned level = top; level >= 1; level--) {
		const unsigned idx = (unsigned)((entry_va >> (12 + 9 * (level - 1))) & 511);
		for (unsigned i = 0; i < 512; i++) {
			uint64_t e = read64(b, table + 8 * i);
			if (i != idx) {
				assert_int_equal(e, 0);
				continue;
			}
			if (level > 1) {
				/* _KERNPG_TABLE | C-bit, the next pool page */
				const uint64_t next = pool + 4096 * (top - level);
				assert_int_equal(e, next | 0x63 | c);
				table = next;
			} else {
				/* the kernel's 2 MiB mapping narrowed to this 4 KiB page, without G */
				assert_int_equal(e, entry_pa | 0x63 | c);
			}
		}
	}

	/* With the walker: entry_SYSCALL_64 maps to the same frame through both tables; _text
	 * and linux_banner (same 2 MiB, other pages) do not map through the user copy, nor does the
	 * next 2 MiB or the user half. */
	struct pt_cpu_state ucpu = b->r.cpu;
	ucpu.cr3 = user | c;
	struct pt_context uctx;
	assert_int_equal(pt_context_init(&uctx, &ucpu, b->mem, NULL, NULL), PT_OK);
	assert_maps(&b->ctx, b->mem, entry_va + 0x10, entry_pa + 0x10, 0x200000);
	assert_maps(&uctx, b->mem, entry_va + 0x10, entry_pa + 0x10, 0x1000);
	assert_maps(&uctx, b->mem, entry_va + 0xfff, entry_pa + 0xfff, 0x1000);
	assert_unmapped(&uctx, b->mem, text_va, 1);
	assert_unmapped(&uctx, b->mem, entry_va - 1, 1);
	assert_unmapped(&uctx, b->mem, entry_va + 0x1000, 1);
	assert_unmapped(&uctx, b->mem, sym(b, "linux_banner") + v->virt_offset, 1);
	assert_unmapped(&uctx, b->mem, sym(b, "init_top_pgt") + v->virt_offset, 1);
	assert_unmapped(&uctx, b->mem, (entry_va & ~UINT64_C(0x1fffff)) + 0x200000, 2);
	assert_unmapped(&uctx, b->mem, 0x400000, top);
	/* The user copy's coalesced view: one 4 KiB range, the entry text. */
	struct pt_maps_iter *it;
	struct pt_range range;
	assert_int_equal(pt_maps_create(&uctx, b->mem, &(struct pt_maps_opts){ .coalesce = true }, &it), PT_OK);
	assert_true(pt_maps_next(it, &range));
	assert_int_equal(range.kind, PT_RANGE_MAPPED);
	assert_int_equal(range.va, entry_va);
	assert_int_equal(range.pa, entry_pa);
	assert_int_equal(range.size, 0x1000);
	assert_false(pt_maps_next(it, &range));
	pt_maps_destroy(it);
}

/** Everything the kernel stage must have built, for any load address, slide, depth, SME and PTI. */
static void check_variant(const struct booted *b, const struct variant *v)
{
	const uint64_t phys_load = v->phys_load, virt_offset = v->virt_offset;
	const bool la57 = v->la57;
	const unsigned top = la57 ? 5 : 4;
	const uint64_t c = v->sme ? UINT64_C(1) << SME_CBIT : 0;
	assert_int_equal(b->r.phys_load, phys_load);
	assert_int_equal(b->r.virt_offset, virt_offset);
	assert_int_equal(b->r.phys_offset, phys_load - 0x1000000);
	assert_int_equal(b->ctx.mode, la57 ? PT_MODE_LA57 : PT_MODE_IA32E);
	/* CR3 = __pa(init_top_pgt) | sme_me_mask, the kernel table also with PTI */
	assert_int_equal(b->r.cpu.cr3, sym_pa(b, "init_top_pgt") | c);
	assert_int_equal(b->ctx.root, sym_pa(b, "init_top_pgt"));

	/* load_delta = physaddr - (_text - __START_KERNEL_map) with _text relocated by the slide.
	 * It is negative when the kernel sits lower than its slid link address: then the first PMDs
	 * wrap to addresses with bits above MAXPHYADDR (and XD without NXE) set, as Linux's
	 * __startup_64 also leaves them ("we might write invalid pmds"): reserved-bit faults. */
	const uint64_t load_delta = phys_load - (0x1000000 + virt_offset);
	uint64_t first_valid = 256;
	for (uint64_t i = 0; i < 256; i++) {
		uint64_t va = START_KERNEL_MAP + i * 0x200000;
		uint64_t pa = i * 0x200000 + load_delta;
		if ((int64_t)pa < 0) {
			struct pt_result r;
			const struct pt_access rd = { PT_ACCESS_READ, 0, false };
			assert_int_equal(pt_translate(&b->ctx, b->mem, va, &rd, &r), PT_FAULT);
			assert_int_equal(r.fault.error_code, PF_ERR_P | PF_ERR_RSVD);
			assert_int_equal(r.fault.level, 2);
			assert_int_equal(r.fault.entry, pa + 0x1e3);
			continue;
		}
		if (first_valid == 256)
			first_valid = i;
		assert_maps(&b->ctx, b->mem, va + 0x1234, pa + 0x1234, 0x200000);
	}
	/* _text and linux_banner at their run-time VAs */
	assert_maps(&b->ctx, b->mem, LINK_TEXT + virt_offset, phys_load, 0x200000);
	assert_maps(&b->ctx, b->mem, sym(b, "linux_banner") + virt_offset, sym_pa(b, "linux_banner"), 0x200000);
	const uint8_t *banner = b->mem->ptr(b->mem, sym_pa(b, "linux_banner"), 14);
	assert_memory_equal(banner, "Linux version ", 14);
	/* Beyond level2_kernel_pgt's 512 MiB: nothing (PD entry 256 is empty). */
	assert_unmapped(&b->ctx, b->mem, START_KERNEL_MAP + (UINT64_C(512) << 20), 2);
	/* The identity map is gone from init_top_pgt: only entry 511 is set. */
	const uint64_t root = b->ctx.root;
	for (unsigned i = 0; i < 511; i++)
		assert_int_equal(read64(b, root + 8 * i), 0);
	assert_int_equal(read64(b, root + 8 * 511), read64(b, sym_pa(b, "early_top_pgt") + 8 * 511));
	assert_unmapped(&b->ctx, b->mem, phys_load, top);
	/* The top entry's target: level3_kernel_pgt (4-level) or level4_kernel_pgt (5-level). */
	uint64_t top511 = read64(b, root + 8 * 511);
	assert_int_equal(top511, sym_pa(b, la57 ? "level4_kernel_pgt" : "level3_kernel_pgt") | 0x67 | c);
	if (la57)
		assert_int_equal(read64(b, sym_pa(b, "level4_kernel_pgt") + 8 * 511),
				 sym_pa(b, "level3_kernel_pgt") | 0x67 | c);
	/* level3_kernel_pgt[510] -> level2_kernel_pgt, [511] -> level2_fixmap_pgt -> level1_fixmap_pgt */
	uint64_t l3 = sym_pa(b, "level3_kernel_pgt");
	assert_int_equal(read64(b, l3 + 8 * 510), sym_pa(b, "level2_kernel_pgt") | 0x63 | c);
	assert_int_equal(read64(b, l3 + 8 * 511), sym_pa(b, "level2_fixmap_pgt") | 0x67 | c);
	assert_int_equal(read64(b, sym_pa(b, "level2_fixmap_pgt") + 8 * 506), sym_pa(b, "level1_fixmap_pgt") | 0x67 | c);
	/* phys_base = load_delta */
	assert_int_equal(read64(b, sym_pa(b, "phys_base")), load_delta);

	/* early_top_pgt still holds the switch-over identity mapping of the load area (2 MiB pages
	 * without G), in early_dynamic_pgts. */
	struct pt_cpu_state early = b->r.cpu;
	early.cr3 = sym_pa(b, "early_top_pgt") | c;
	struct pt_context ectx;
	assert_int_equal(pt_context_init(&ectx, &early, b->mem, NULL, NULL), PT_OK);
	assert_maps(&ectx, b->mem, phys_load + 0x5678, phys_load + 0x5678, 0x200000);
	assert_maps(&ectx, b->mem, LINK_TEXT + virt_offset, phys_load, 0x200000);
	struct pt_result r;
	const struct pt_access rd = { PT_ACCESS_READ, 0, false };
	assert_int_equal(pt_translate(&ectx, b->mem, phys_load, &rd, &r), PT_OK);
	assert_int_equal(r.entry[r.nentries - 1].value, phys_load | 0xe3 | c); /* LARGE_EXEC & ~G */
	assert_int_equal(r.entry[1].pa & ~UINT64_C(0xfff), sym_pa(b, "early_dynamic_pgts"));

	/* The coalesced view: the wrapped PMDs (if any) as one reserved range each, then the valid
	 * part of the kernel window in one range (two if RAM ends inside it). */
	struct pt_maps_iter *it;
	struct pt_range range;
	assert_int_equal(pt_maps_create(&b->ctx, b->mem, &(struct pt_maps_opts){ .coalesce = true }, &it), PT_OK);
	for (uint64_t i = 0; i < first_valid; i++) {
		assert_true(pt_maps_next(it, &range));
		assert_int_equal(range.kind, PT_RANGE_RESERVED);
		assert_int_equal(range.va, START_KERNEL_MAP + i * 0x200000);
	}
	assert_true(pt_maps_next(it, &range));
	assert_int_equal(range.kind, PT_RANGE_MAPPED);
	assert_int_equal(range.va, START_KERNEL_MAP + first_valid * 0x200000);
	assert_int_equal(range.pa, first_valid * 0x200000 + load_delta);
	pt_maps_destroy(it);

	check_cbit(b, v);
	check_pti(b, v);
}

/** The plain variants (no SME, no PTI). */
static void check_kernel_stage(const struct booted *b, uint64_t phys_load, uint64_t virt_offset, bool la57)
{
	const struct variant v = { .phys_load = phys_load, .virt_offset = virt_offset, .la57 = la57 };
	check_variant(b, &v);
}

static void test_default_image(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ 0 });
	assert_string_equal(b.r.image->name, "linux64");
	check_kernel_stage(&b, 0x1000000, 0, false);
	assert_int_equal(b.r.cpu.efer & 0x500, 0x500); /* LME | LMA */
	assert_true(b.r.insns > 1000);
	pt_emu_destroy(b.m);
}

static void test_relocated(void **state)
{
	(void)state;
	const uint64_t loads[] = { 0x200000, 0x4000000, 0x7e00000 };
	for (size_t i = 0; i < 3; i++) {
		struct booted b;
		boot(&b, &(struct pt_emu_boot_opts){ .phys_load = loads[i] });
		check_kernel_stage(&b, loads[i], 0, false);
		pt_emu_destroy(b.m);
	}
}

static void test_virt_offset(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .phys_load = 0x4000000, .has_virt_offset = true,
					     .virt_offset = 0x2000000 });
	check_kernel_stage(&b, 0x4000000, 0x2000000, false);
	pt_emu_destroy(b.m);
}

static void test_kaslr_seeds(void **state)
{
	(void)state;
	uint64_t seen_phys = 0, seen_virt = 0;
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct booted b;
		boot(&b, &(struct pt_emu_boot_opts){ .has_kaslr_seed = true, .kaslr_seed = seed });
		assert_int_equal(b.r.phys_load % 0x200000, 0);
		assert_true(b.r.phys_load >= 0x1000000);
		check_kernel_stage(&b, b.r.phys_load, b.r.virt_offset, false);
		seen_phys |= b.r.phys_load;
		seen_virt |= b.r.virt_offset;
		pt_emu_destroy(b.m);
	}
	assert_true(seen_phys != 0x1000000 && seen_virt != 0); /* the seeds really move things */
}

static void test_la57(void **state)
{
	(void)state;
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .la57 = true });
	check_kernel_stage(&b, 0x1000000, 0, true);
	assert_true(b.r.cpu.cr4 & (1u << 12));
	pt_emu_destroy(b.m);
	boot(&b, &(struct pt_emu_boot_opts){ .la57 = true, .has_kaslr_seed = true, .kaslr_seed = 42 });
	check_kernel_stage(&b, b.r.phys_load, b.r.virt_offset, true);
	pt_emu_destroy(b.m);
}

/** Boot with the SME/PTI options of `v` (and its LA57, load address or KASLR seed) and check. */
static void boot_variant(struct variant v, uint64_t kaslr_seed)
{
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .la57 = v.la57, .sme = v.sme, .pti = v.pti,
					     .phys_load = kaslr_seed ? 0 : v.phys_load,
					     .has_kaslr_seed = kaslr_seed != 0, .kaslr_seed = kaslr_seed });
	if (kaslr_seed) {
		/* the seed picks the offsets: take them, then everything else must follow */
		v.phys_load = b.r.phys_load;
		v.virt_offset = b.r.virt_offset;
		assert_true(v.phys_load != 0x1000000 || v.virt_offset != 0);
	} else if (!v.phys_load) {
		v.phys_load = 0x1000000;
	}
	check_variant(&b, &v);
	pt_emu_destroy(b.m);
}

static void test_sme(void **state)
{
	(void)state;
	boot_variant((struct variant){ .sme = true }, 0);
	boot_variant((struct variant){ .sme = true, .la57 = true }, 7);
	boot_variant((struct variant){ .sme = true, .la57 = true }, 42);
	boot_variant((struct variant){ .sme = true }, 3);
	boot_variant((struct variant){ .sme = true, .phys_load = 0x200000 }, 0);  /* negative load_delta */
	boot_variant((struct variant){ .sme = true, .phys_load = 0x7e00000 }, 0);
	/* The translation strips the C-bit: _text -> the load address, as without SME. */
	struct booted b;
	boot(&b, &(struct pt_emu_boot_opts){ .sme = true, .phys_load = 0x4000000 });
	assert_true(b.r.cpu.cr3 >> SME_CBIT & 1);
	assert_maps(&b.ctx, b.mem, LINK_TEXT, 0x4000000, 0x200000);
	/* The same tables read without the C-bit known: bit 39 is then an address bit, and the
	 * translation lands 512 GiB up (outside RAM), which is what --cbit / the note prevent. */
	struct pt_cpu_state raw = b.r.cpu;
	raw.cbit = 0;
	raw.cr3 &= ~(UINT64_C(1) << SME_CBIT);
	struct pt_context rctx;
	assert_int_equal(pt_context_init(&rctx, &raw, b.mem, NULL, NULL), PT_OK);
	struct pt_result r;
	const struct pt_access rd = { PT_ACCESS_READ, 0, false };
	assert_int_equal(pt_translate(&rctx, b.mem, LINK_TEXT, &rd, &r), PT_NOT_IN_DUMP);
	pt_emu_destroy(b.m);
}

static void test_pti(void **state)
{
	(void)state;
	boot_variant((struct variant){ .pti = true }, 0);
	boot_variant((struct variant){ .pti = true, .la57 = true }, 0);
	boot_variant((struct variant){ .pti = true }, 9);
	boot_variant((struct variant){ .pti = true, .la57 = true }, 42);
	boot_variant((struct variant){ .pti = true, .phys_load = 0x200000 }, 0);
	boot_variant((struct variant){ .pti = true, .phys_load = 0x4000000 }, 0);
}

static void test_sme_pti(void **state)
{
	(void)state;
	boot_variant((struct variant){ .sme = true, .pti = true }, 0);
	boot_variant((struct variant){ .sme = true, .pti = true, .la57 = true }, 0);
	boot_variant((struct variant){ .sme = true, .pti = true, .la57 = true }, 5);
	boot_variant((struct variant){ .sme = true, .pti = true, .phys_load = 0x6000000 }, 0);
}

static void test_decompressor_identity_map(void **state)
{
	(void)state;
	for (int la57 = 0; la57 <= 1; la57++) {
		struct booted b;
		boot(&b, &(struct pt_emu_boot_opts){ .image = "linux64-decompressor", .la57 = la57 });
		assert_int_equal(b.ctx.mode, la57 ? PT_MODE_LA57 : PT_MODE_IA32E);
		for (uint64_t pa = 0; pa < (UINT64_C(4) << 30); pa += 0x200000)
			assert_maps(&b.ctx, b.mem, pa + 0x1ff, pa + 0x1ff, 0x200000);
		assert_maps(&b.ctx, b.mem, UINT64_C(0xffffffff), UINT64_C(0xffffffff), 0x200000);
		assert_unmapped(&b.ctx, b.mem, UINT64_C(4) << 30, 3);
		assert_unmapped(&b.ctx, b.mem, UINT64_C(1) << 39, 4);
		assert_unmapped(&b.ctx, b.mem, LINK_TEXT, la57 ? 5 : 4);
		/* CR3: the PML4 (or PML5) in the decompressor's bss at 1 MiB + 4 KiB */
		assert_int_equal(b.r.cpu.cr3, la57 ? 0x107000 : 0x101000);
		pt_emu_destroy(b.m);
	}
}

/* A boot that fails with `status` (PT_EINVAL: the options; PT_FAULT: the boot itself). */
static void expect_boot_status(const struct pt_emu_boot_opts *o, enum pt_status status, const char *needle)
{
	struct pt_emu_machine *m = NULL;
	struct pt_emu_boot_result r;
	struct pt_error err;
	assert_int_equal(pt_emu_boot(o, &m, &r, &err), status);
	assert_null(m);
	if (!strstr(err.message, needle))
		fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static void test_bad_options_and_budget(void **state)
{
	(void)state;
	expect_boot_status(&(struct pt_emu_boot_opts){ .phys_load = 0x1001000 }, PT_EINVAL, "2 MiB-aligned");
	expect_boot_status(&(struct pt_emu_boot_opts){ .phys_load = 0x20000000 }, PT_EINVAL, "does not fit");
	expect_boot_status(&(struct pt_emu_boot_opts){ .has_virt_offset = true, .virt_offset = 0x1000 }, PT_EINVAL, "--virt-offset");
	expect_boot_status(&(struct pt_emu_boot_opts){ .has_virt_offset = true, .virt_offset = UINT64_C(0x20000000) },
			  PT_EINVAL, "kernel window");
	expect_boot_status(&(struct pt_emu_boot_opts){ .image = "nope" }, PT_EINVAL, "no such image");
	expect_boot_status(&(struct pt_emu_boot_opts){ .image = "linux64-decompressor", .phys_load = 0x4000000 },
			  PT_EINVAL, "does not take");
	expect_boot_status(&(struct pt_emu_boot_opts){ .mem_size = 4096 }, PT_EINVAL, "--mem");
	expect_boot_status(&(struct pt_emu_boot_opts){ .image = "linux64-decompressor", .sme = true },
			  PT_EINVAL, "does not take --sme");
	expect_boot_status(&(struct pt_emu_boot_opts){ .image = "linux64-decompressor", .pti = true },
			  PT_EINVAL, "does not take --pti");
	/* A fault in the boot code names the vector, the exact error code and where: bit 51 (above
	 * MAXPHYADDR 40) in the static level3_kernel_pgt[510] makes the jump to the high VA fault
	 * with #PF P|RSVD on the instruction fetch (no I/D: EFER.NXE and SMEP are off). */
	{
		struct pt_emu_machine *m0;
		struct pt_emu_boot_result r0;
		struct pt_error err;
		assert_int_equal(pt_emu_boot(&(struct pt_emu_boot_opts){ 0 }, &m0, &r0, &err), PT_OK);
		uint64_t l3 = 0, high = 0;
		assert_true(pt_emu_symbol(m0, "level3_kernel_pgt", &l3));
		assert_true(pt_emu_symbol(m0, "high", &high));
		pt_emu_destroy(m0);
		const uint64_t entry_pa = 0x1000000 + (l3 - LINK_TEXT) + 510 * 8 + 6;
		const struct pt_emu_patch bad = { entry_pa, 0x08, 1 }; /* byte 6, bit 3: bit 51 */
		char want[96];
		snprintf(want, sizeof(want), "vector 14, error code 0x9, at 0x%llx (high)",
			 (unsigned long long)high);
		expect_boot_status(&(struct pt_emu_boot_opts){ .patches = &bad, .npatches = 1 }, PT_FAULT, want);
		const struct pt_emu_patch outside = { UINT64_C(1) << 40, 0, 8 };
		expect_boot_status(&(struct pt_emu_boot_opts){ .patches = &outside, .npatches = 1 }, PT_EINVAL, "not in memory");
	}
	/* A starved budget stops inside the boot code, naming where. */
	expect_boot_status(&(struct pt_emu_boot_opts){ .insn_budget = 500 }, PT_FAULT, "budget of 500");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_image),
		cmocka_unit_test(test_relocated),
		cmocka_unit_test(test_virt_offset),
		cmocka_unit_test(test_kaslr_seeds),
		cmocka_unit_test(test_la57),
		cmocka_unit_test(test_sme),
		cmocka_unit_test(test_pti),
		cmocka_unit_test(test_sme_pti),
		cmocka_unit_test(test_decompressor_identity_map),
		cmocka_unit_test(test_bad_options_and_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
