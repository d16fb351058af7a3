/* SPDX-License-Identifier: MIT */
/*
 * The boot-image manifest: every image, its entry protocol, its stop point and what its page
 * tables must show there. The assembly is in boot_images/; the build embeds it (pack.c).
 */
#include <string.h>

#include "images.h"

static const struct emu_image_def manifest[] = {
	{
		.pub = {
			.name = "linux64",
			.description = "decompressor (4 GiB identity map, long mode) then head_64 "
				       "(early_top_pgt with the load_delta fix-up, init_top_pgt)",
			.paging = PT_MODE_IA32E,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_VIRT_OFFSET | PT_EMU_OPT_LA57 |
				   PT_EMU_OPT_SME | PT_EMU_OPT_PTI,
		},
		.entry = EMU_ENTRY_PROTECTED_32,
		.first = &emu_blob_decomp64,
		.first_pa = 0x100000,
		.kernel = &emu_blob_kernel64,
		.default_phys_load = 0x1000000,
		.stop_blob = &emu_blob_kernel64,
		.stop_symbol = "ptlab_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.expect = "CR3 = __pa(init_top_pgt) (8 KiB aligned); init_top_pgt[511] = early_top_pgt[511]; "
			  "__START_KERNEL_map + i*2M -> i*2M + load_delta over 512 MiB. --sme (CPUID "
			  "0x8000001F C-bit 39, SYSCFG MemEncryptionModeEn): CR3 and every entry the kernel "
			  "stage writes carry bit 39. --pti (command line pti=on): the user copy at "
			  "init_top_pgt + 4 KiB has an empty user half and only entry 511, through "
			  "pti_user_pgts, mapping the entry-text page(s) (entry_SYSCALL_64) with 4 KiB pages "
			  "to the kernel table's frames",
	},
	{
		.pub = {
			.name = "linux64-decompressor",
			.description = "the decompressor stage alone, stopped before it jumps to the "
				       "kernel: the 4 GiB identity map with 2 MiB pages",
			.paging = PT_MODE_IA32E,
			.options = PT_EMU_OPT_LA57,
		},
		.entry = EMU_ENTRY_PROTECTED_32,
		.first = &emu_blob_decomp64,
		.first_pa = 0x100000,
		.kernel = &emu_blob_kernel64,
		.default_phys_load = 0x1000000,
		.stop_blob = &emu_blob_decomp64,
		.stop_symbol = "decompressor_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.expect = "VA x -> PA x for x < 4 GiB, 2 MiB pages, nothing above",
	},

	/* ---- i386 kernels after head_32.S (boot_images/kernel32.S, one blob per variant) ----
	 * Entered per the 32-bit boot protocol at startup_32's physical address (LOAD_PHYSICAL_ADDR
	 * 16 MiB); linked at PAGE_OFFSET + 16 MiB. --phys-load, --virt-offset and --kaslr all move
	 * the virtual and physical addresses by one offset (the loader applies the relocations for
	 * it, as the i386 decompressor does), in 16 MiB steps (CONFIG_PHYSICAL_ALIGN of Debian's
	 * i386 kernels, whose KASLR offsets are multiples of 16 MiB), from 16 MiB, with the kernel
	 * (brk included) ending in RAM and below KERNEL_IMAGE_SIZE (512 MiB), as i386 KASLR keeps it.
	 * "early map end" below is max_pfn_mapped << 12: pa(_end) + MAPPING_BEYOND_END (the page
	 * tables for all of lowmem: 1 MiB 2-level, 2 MiB + 16 KiB PAE at a 3G split) rounded up to
	 * what one page table maps (4 MiB 2-level, 2 MiB PAE). */
	{
		.pub = {
			.name = "linux32-pae",
			.description = "i386 PAE kernel, PAGE_OFFSET 0xc0000000: head_32's PDPT and "
				       "PMD with 4 KiB page tables from the brk, then swapper_pg_dir",
			.paging = PT_MODE_PAE,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_VIRT_OFFSET,
		},
		.entry = EMU_ENTRY_NATIVE_32,
		.kernel = &emu_blob_kernel32_pae,
		.default_phys_load = 0x1000000,
		.stop_blob = &emu_blob_kernel32_pae,
		.stop_symbol = "ptlab_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.page_offset = 0xc0000000,
		.phys_align = 0x1000000,
		.expect = "CR3 = __pa(swapper_pg_dir), CR4.PAE; swapper PDPTEs = initial_page_table's: "
			  "PDPTE 0 and 3 -> initial_pg_pmd (P only), 1 and 2 empty; 0xc0000000 + x -> x and "
			  "x -> x with 4 KiB pages for x below the early map end; initial_pg_pmd[511] -> "
			  "initial_pg_fixmap (empty)",
	},
	{
		.pub = {
			.name = "linux32-pae-pse",
			.description = "i386 PAE kernel, PAGE_OFFSET 0xc0000000, CPU with PSE: head_32's "
				       "tables, then lowmem remapped with 2 MiB pages (CR4.PSE|PGE)",
			.paging = PT_MODE_PAE,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_VIRT_OFFSET,
		},
		.entry = EMU_ENTRY_NATIVE_32,
		.kernel = &emu_blob_kernel32_pae_pse,
		.default_phys_load = 0x1000000,
		.stop_blob = &emu_blob_kernel32_pae_pse,
		.stop_symbol = "ptlab_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.page_offset = 0xc0000000,
		.phys_align = 0x1000000,
		.expect = "CR3 = __pa(swapper_pg_dir), CR4.PAE|PSE|PGE; PDPTE 0 and 3 -> initial_pg_pmd; "
			  "0xc0000000 + x -> x and x -> x with 2 MiB pages (0x1e3) for x below max_low_pfn "
			  "<< 12 (RAM, at most 896 MiB), 4 KiB pages on to the early map end",
	},
	{
		.pub = {
			.name = "linux32",
			.description = "i386 kernel without PAE, PAGE_OFFSET 0xc0000000: head_32's "
				       "initial_page_table with 4 KiB page tables, then swapper_pg_dir",
			.paging = PT_MODE_LEGACY,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_VIRT_OFFSET,
		},
		.entry = EMU_ENTRY_NATIVE_32,
		.kernel = &emu_blob_kernel32,
		.default_phys_load = 0x1000000,
		.stop_blob = &emu_blob_kernel32,
		.stop_symbol = "ptlab_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.page_offset = 0xc0000000,
		.phys_align = 0x1000000,
		.expect = "CR3 = __pa(swapper_pg_dir), CR4 = 0; swapper PDEs 768.. = initial_page_table's: "
			  "0xc0000000 + x -> x with 4 KiB pages for x below the early map end, PDE 1023 -> "
			  "initial_pg_fixmap (empty); PDEs 0..767 empty (the identity map only in "
			  "initial_page_table)",
	},
	{
		.pub = {
			.name = "linux32-pse",
			.description = "i386 kernel without PAE, PAGE_OFFSET 0xc0000000, CPU with PSE: "
				       "head_32's tables, then lowmem in swapper_pg_dir with 4 MiB pages",
			.paging = PT_MODE_LEGACY,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_VIRT_OFFSET,
		},
		.entry = EMU_ENTRY_NATIVE_32,
		.kernel = &emu_blob_kernel32_pse,
		.default_phys_load = 0x1000000,
		.stop_blob = &emu_blob_kernel32_pse,
		.stop_symbol = "ptlab_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.page_offset = 0xc0000000,
		.phys_align = 0x1000000,
		.expect = "CR3 = __pa(swapper_pg_dir), CR4.PSE|PGE; 0xc0000000 + x -> x with 4 MiB pages "
			  "(0x1e3) for x below max_low_pfn << 12 (RAM, at most 896 MiB), 4 KiB pages on to "
			  "the early map end; PDE 1023 -> initial_pg_fixmap; no identity map in swapper",
	},
	{
		.pub = {
			.name = "linux32-pae-vmsplit2g",
			.description = "i386 PAE kernel with a 2G/2G split, PAGE_OFFSET 0x80000000: two "
				       "kernel PMDs",
			.paging = PT_MODE_PAE,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_VIRT_OFFSET,
		},
		.entry = EMU_ENTRY_NATIVE_32,
		.kernel = &emu_blob_kernel32_pae_2g,
		.default_phys_load = 0x1000000,
		.stop_blob = &emu_blob_kernel32_pae_2g,
		.stop_symbol = "ptlab_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.page_offset = 0x80000000,
		.phys_align = 0x1000000,
		.expect = "CR3 = __pa(swapper_pg_dir), CR4.PAE; PDPTE 0 and 2 -> initial_pg_pmd, 3 -> "
			  "initial_pg_pmd + 4 KiB, 1 empty; 0x80000000 + x -> x and x -> x with 4 KiB pages "
			  "for x below the early map end; the second PMD's entry 511 -> initial_pg_fixmap",
	},
	{
		.pub = {
			.name = "linux32-vmsplit1g",
			.description = "i386 kernel without PAE with a 1G/3G split, PAGE_OFFSET 0x40000000",
			.paging = PT_MODE_LEGACY,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_VIRT_OFFSET,
		},
		.entry = EMU_ENTRY_NATIVE_32,
		.kernel = &emu_blob_kernel32_1g,
		.default_phys_load = 0x1000000,
		.stop_blob = &emu_blob_kernel32_1g,
		.stop_symbol = "ptlab_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.page_offset = 0x40000000,
		.phys_align = 0x1000000,
		.expect = "CR3 = __pa(swapper_pg_dir); swapper PDEs 256.. = initial_page_table's: "
			  "0x40000000 + x -> x with 4 KiB pages for x below the early map end (pa(_end) + "
			  "3 MiB, rounded up to 4 MiB); PDE 1023 -> initial_pg_fixmap; PDEs 0..255 empty",
	},
	{
		.pub = {
			.name = "linux32-pae-vmsplit1g",
			.description = "i386 PAE kernel with a 1G/3G split, PAGE_OFFSET 0x40000000: three "
				       "kernel PMDs, PDPTEs 0 and 1 share the first",
			.paging = PT_MODE_PAE,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_VIRT_OFFSET,
		},
		.entry = EMU_ENTRY_NATIVE_32,
		.kernel = &emu_blob_kernel32_pae_1g,
		.default_phys_load = 0x1000000,
		.stop_blob = &emu_blob_kernel32_pae_1g,
		.stop_symbol = "ptlab_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.page_offset = 0x40000000,
		.phys_align = 0x1000000,
		.expect = "CR3 = __pa(swapper_pg_dir), CR4.PAE; PDPTEs 0 and 1 -> initial_pg_pmd, 2 -> "
			  "+4 KiB, 3 -> +8 KiB; 0x40000000 + x -> x and x -> x with 4 KiB pages for x below "
			  "the early map end (pa(_end) + ~6 MiB, rounded up to 2 MiB); the third PMD's "
			  "entry 511 -> initial_pg_fixmap",
	},
};

/* ---- real kernels (vmlinux:PATH, bzimage:PATH): the machine fills in the stages ----------- */

const struct emu_image_def emu_image_vmlinux = {
	.pub = {
		.name = "vmlinux",
		.description = "a real x86-64 kernel: its own startup_64, __startup_64 and "
			       "x86_64_start_kernel, to start_kernel",
		.paging = PT_MODE_IA32E,
		.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_LA57,
	},
	.entry = EMU_ENTRY_PROTECTED_32,
	.first = &emu_blob_decomp64,
	.first_pa = 0x100000,
	.kernel = NULL,            /* the kernel read from PATH */
	.default_phys_load = 0,    /* its link-time physical address */
	.stop_blob = NULL,         /* the stop symbol is in the kernel's symbol table */
	.stop_symbol = "start_kernel",
	/* KERNEL_IMAGE_SIZE with KASLR (arch/x86/include/asm/page_64_types.h). */
	.kernel_image_size = UINT64_C(1) << 30,
	.expect = "CR3 = early_top_pgt; __START_KERNEL_map + x -> load address + x over the "
		  "image; init_top_pgt[511] = early_top_pgt[511]",
};

const struct emu_image_def emu_image_bzimage = {
	.pub = {
		.name = "bzimage",
		.description = "a real x86-64 bzImage: Linux's own decompressor (KASLR, "
			       "extraction, relocation), then startup_64 to start_kernel",
		.paging = PT_MODE_IA32E,
		.options = PT_EMU_OPT_LA57,
	},
	.entry = EMU_ENTRY_PROTECTED_32,
	.first = NULL,             /* the bzImage's protected-mode part, at its code32_start */
	.kernel = NULL,            /* placed by the decompressor */
	.stop_symbol = "start_kernel",
	.kernel_image_size = UINT64_C(1) << 30,
	.expect = "as vmlinux, at the slots the decompressor picked",
};

const struct emu_image_def *emu_images_manifest(size_t *count_ret)
{
	*count_ret = sizeof(manifest) / sizeof(manifest[0]);
	return manifest;
}

const struct emu_image_def *emu_images_find(const char *name)
{
	for (size_t i = 0; i < sizeof(manifest) / sizeof(manifest[0]); i++) {
		if (strcmp(manifest[i].pub.name, name) == 0)
			return &manifest[i];
	}
	return NULL;
}

bool emu_blob_symbol(const struct emu_blob *blob, const char *name, uint64_t *value_ret)
{
	for (size_t i = 0; i < blob->nsyms; i++) {
		if (strcmp(blob->syms[i].name, name) == 0) {
			*value_ret = blob->syms[i].value;
			return true;
		}
	}
	return false;
}

/* ---- public view of the manifest ------------------------------------------------------------ */

size_t pt_emu_image_count(void)
{
	return sizeof(manifest) / sizeof(manifest[0]);
}

const struct pt_emu_image *pt_emu_image_at(size_t index)
{
	return index < pt_emu_image_count() ? &manifest[index].pub : NULL;
}

const struct pt_emu_image *pt_emu_image_find(const char *name)
{
	const struct emu_image_def *def = emu_images_find(name);
	return def ? &def->pub : NULL;
}
