/* SPDX-License-Identifier: MIT */
/*
 * emu/machine_layout.c: the machine's physical memory before the run. Where the kernel loads
 * (the options, or KASLR's pick from the seed, as the kernel's own KASLR picks), the stages placed
 * and the kernel relocated there (as the decompressor applies vmlinux.relocs), and boot_params,
 * the "zero page" of the boot protocol (Documentation/x86/boot.rst, zero-page.txt).
 */
#include <string.h>

#include "machine.h"
#include "random.h"
#include "ptlab/le.h"

/* The kernel command line the loader writes for --pti (below the decompressor, above
 * boot_params; Documentation/x86/boot.txt lets it sit anywhere below 0xA0000). */
static const char PTI_CMDLINE[] = "pti=on";

/* boot_params (the "zero page", Documentation/x86/zero-page.txt) fields we fill. */
enum {
	BP_E820_ENTRIES = 0x1e8,
	BP_BOOT_FLAG = 0x1fe,
	BP_HEADER = 0x202,
	BP_VERSION = 0x206,
	BP_TYPE_OF_LOADER = 0x210,
	BP_CODE32_START = 0x214,
	BP_CMD_LINE_PTR = 0x228,
	BP_PREF_ADDRESS = 0x258,
	BP_E820_TABLE = 0x2d0,
	E820_RAM = 1,
};

uint64_t emu_round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* ---- load addresses ------------------------------------------------------------------------- */

/* An i386 kernel (EMU_ENTRY_NATIVE_32): one offset moves the virtual and the physical addresses, as
 * the i386 decompressor applies the relocations for (load address - LOAD_PHYSICAL_ADDR) and
 * i386 KASLR picks the virtual address equal to the physical one. The load address is a
 * multiple of phys_align (CONFIG_PHYSICAL_ALIGN) from LOAD_PHYSICAL_ADDR (the kernel never runs
 * lower), and the kernel with its brk ends in RAM and below KERNEL_IMAGE_SIZE (the window i386
 * KASLR picks from; it also keeps the kernel's page tables below PAGE_OFFSET physically, where
 * the machine's uc mapping of physical memory ends). */
static enum pt_status resolve_layout32(const struct emu_image_def *def, const struct pt_emu_boot_opts *o,
				       uint64_t mem_size, uint64_t *phys_load_ret,
				       uint64_t *virt_offset_ret, struct pt_error *err)
{
	const char *img = def->pub.name;
	const uint64_t base = def->kernel->base_pa; /* LOAD_PHYSICAL_ADDR */
	const uint64_t align = def->phys_align;
	const uint64_t ksize = emu_round_up(def->kernel->memsz, 4096);
	const uint64_t top = mem_size < def->kernel_image_size ? mem_size : def->kernel_image_size;
	uint64_t phys_load = base;

	if (o->has_kaslr_seed) {
		/* A phys_align slot from LOAD_PHYSICAL_ADDR that keeps the kernel below top. */
		if (top < base + ksize)
			return pt_error_set(err, img, UINT64_MAX, "--mem is too small for --kaslr");
		uint64_t state = o->kaslr_seed;
		uint64_t slots = (top - base - ksize) / align + 1;
		phys_load = base + (emu_splitmix64(&state) % slots) * align;
	} else {
		const char *what = "--phys-load";
		uint64_t given = o->phys_load;
		if (o->phys_load)
			phys_load = o->phys_load;
		if (o->has_virt_offset) {
			if (o->phys_load && o->phys_load - base != o->virt_offset)
				return pt_error_set(err, img, UINT64_MAX,
						    "--virt-offset 0x%llx and --phys-load 0x%llx disagree: a "
						    "32-bit kernel moves both by one offset (phys-load = 0x%llx "
						    "+ virt-offset)",
						    (unsigned long long)o->virt_offset,
						    (unsigned long long)o->phys_load, (unsigned long long)base);
			if (o->virt_offset > def->kernel_image_size)
				return pt_error_set(err, img, UINT64_MAX,
						    "--virt-offset 0x%llx: the kernel must end below %llu MiB",
						    (unsigned long long)o->virt_offset,
						    (unsigned long long)(def->kernel_image_size >> 20));
			what = "--virt-offset";
			given = o->virt_offset;
			phys_load = base + o->virt_offset;
		}
		if (phys_load % align != 0 || phys_load < base)
			return pt_error_set(err, img, UINT64_MAX,
					    "%s 0x%llx: a 32-bit kernel loads at a multiple of %llu MiB "
					    "from %llu MiB", what, (unsigned long long)given,
					    (unsigned long long)(align >> 20), (unsigned long long)(base >> 20));
		if (phys_load > mem_size || ksize > mem_size - phys_load)
			return pt_error_set(err, img, UINT64_MAX,
					    "%s 0x%llx: the kernel (0x%llx bytes at 0x%llx) does not fit in "
					    "0x%llx bytes of memory", what, (unsigned long long)given,
					    (unsigned long long)ksize, (unsigned long long)phys_load,
					    (unsigned long long)mem_size);
		if (phys_load + ksize > def->kernel_image_size)
			return pt_error_set(err, img, UINT64_MAX,
					    "%s 0x%llx: the kernel must end below %llu MiB (KERNEL_IMAGE_SIZE)",
					    what, (unsigned long long)given,
					    (unsigned long long)(def->kernel_image_size >> 20));
	}
	*phys_load_ret = phys_load;
	*virt_offset_ret = phys_load - base;
	return PT_OK;
}

/* Resolve phys_load and virt_offset from the options (and the KASLR seed). */
enum pt_status emu_resolve_layout(const struct emu_image_def *def, const struct pt_emu_boot_opts *o,
				     uint64_t mem_size, uint64_t *phys_load_ret,
				     uint64_t *virt_offset_ret, struct pt_error *err)
{
	const char *img = def->pub.name;
	const uint64_t ksize = def->kernel ? emu_round_up(def->kernel->memsz, EMU_PMD_SIZE) : 0;
	uint64_t phys_load = o->phys_load ? o->phys_load : def->default_phys_load;
	uint64_t virt_offset = o->has_virt_offset ? o->virt_offset : 0;

	if ((o->phys_load || o->has_kaslr_seed) && !(def->pub.options & PT_EMU_OPT_PHYS_LOAD))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --phys-load or --kaslr");
	if ((o->has_virt_offset || o->has_kaslr_seed) && !(def->pub.options & PT_EMU_OPT_VIRT_OFFSET))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --virt-offset or --kaslr");
	if (o->la57 && !(def->pub.options & PT_EMU_OPT_LA57))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --la57");
	if (o->sme && !(def->pub.options & PT_EMU_OPT_SME))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --sme");
	if (o->pti && !(def->pub.options & PT_EMU_OPT_PTI))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --pti");
	if (o->has_kaslr_seed && (o->phys_load || o->has_virt_offset))
		return pt_error_set(err, img, UINT64_MAX, "--kaslr picks both offsets: drop --phys-load/--virt-offset");
	if (def->entry == EMU_ENTRY_NATIVE_32)
		return resolve_layout32(def, o, mem_size, phys_load_ret, virt_offset_ret, err);

	if (o->has_kaslr_seed) {
		/* As the kernel's KASLR does: a 2 MiB-aligned physical slot at or above 16 MiB inside
		 * RAM, and a 2 MiB-aligned virtual slide that keeps the image inside the kernel's
		 * virtual window (here level2_kernel_pgt's 512 MiB). */
		uint64_t state = o->kaslr_seed;
		const uint64_t lowest = 0x1000000;
		if (mem_size < lowest + ksize)
			return pt_error_set(err, img, UINT64_MAX, "--mem is too small for --kaslr");
		uint64_t pslots = (mem_size - lowest - ksize) / EMU_PMD_SIZE + 1;
		phys_load = lowest + (emu_splitmix64(&state) % pslots) * EMU_PMD_SIZE;
		uint64_t vslots = (def->kernel_image_size - (def->kernel->base_pa + ksize)) / EMU_PMD_SIZE + 1;
		virt_offset = (emu_splitmix64(&state) % vslots) * EMU_PMD_SIZE;
	}
	if (def->kernel) {
		if (phys_load % EMU_PMD_SIZE != 0 || phys_load < EMU_PMD_SIZE)
			return pt_error_set(err, img, UINT64_MAX,
					    "--phys-load 0x%llx is not a 2 MiB-aligned address above 2 MiB",
					    (unsigned long long)phys_load);
		if (phys_load > mem_size || ksize > mem_size - phys_load)
			return pt_error_set(err, img, UINT64_MAX,
					    "--phys-load 0x%llx: the kernel (0x%llx bytes) does not fit in "
					    "0x%llx bytes of memory",
					    (unsigned long long)phys_load, (unsigned long long)ksize,
					    (unsigned long long)mem_size);
		if (virt_offset % EMU_PMD_SIZE != 0 ||
		    virt_offset > def->kernel_image_size - (def->kernel->base_pa + ksize))
			return pt_error_set(err, img, UINT64_MAX,
					    "--virt-offset 0x%llx: must be a multiple of 2 MiB keeping "
					    "the image inside the %llu MiB kernel window",
					    (unsigned long long)virt_offset,
					    (unsigned long long)(def->kernel_image_size >> 20));
	}
	*phys_load_ret = phys_load;
	*virt_offset_ret = virt_offset;
	return PT_OK;
}

/* ---- the images in memory ------------------------------------------------------------------ */

static void place_blob(uint8_t *mem, uint64_t pa, const struct emu_blob *blob)
{
	memcpy(mem + pa, blob->bytes, blob->filesz);
	memset(mem + pa + blob->filesz, 0, blob->memsz - blob->filesz);
}

/* Apply the kernel's relocations for a virtual offset, as the decompressor applies
 * vmlinux.relocs: add the offset to every recorded 64-bit (and 32-bit) field. */
static void relocate(uint8_t *image, const struct emu_blob *blob, uint64_t virt_offset)
{
	for (size_t i = 0; i < blob->nrelocs; i++) {
		uint8_t *p = image + blob->relocs[i].offset;
		unsigned n = blob->relocs[i].size;
		pt_le_put(p, pt_le_get(p, n) + virt_offset, n);
	}
}

/* The zero page: e820 map, the kernel's address (pref_address, where our decompressor stand-in
 * finds it), code32_start (the 32-bit entry the loader jumps to) and, when there is one, the
 * kernel command line (cmd_line_ptr, a physical pointer to a NUL-terminated string). */
static void write_boot_params(uint8_t *mem, uint64_t mem_size, uint64_t kernel_entry_pa,
			      uint64_t code32_start, const char *cmdline)
{
	uint8_t *bp = mem + EMU_BOOT_PARAMS_PA;
	memset(bp, 0, 4096);
	if (cmdline) {
		memcpy(mem + EMU_CMDLINE_PA, cmdline, strlen(cmdline) + 1);
		pt_le_put(bp + BP_CMD_LINE_PTR, EMU_CMDLINE_PA, 4);
	}
	pt_le_put(bp + BP_BOOT_FLAG, 0xaa55, 2);
	memcpy(bp + BP_HEADER, "HdrS", 4);
	pt_le_put(bp + BP_VERSION, 0x020f, 2);
	pt_le_put(bp + BP_PREF_ADDRESS, kernel_entry_pa, 8);
	pt_le_put(bp + BP_CODE32_START, code32_start, 4);
	/* e820: low memory below the EBDA, then everything from 1 MiB. */
	uint8_t *e = bp + BP_E820_TABLE;
	pt_le_put(e + 0, 0, 8);
	pt_le_put(e + 8, 0x9fc00, 8);
	pt_le_put(e + 16, E820_RAM, 4);
	pt_le_put(e + 20, 0x100000, 8);
	pt_le_put(e + 28, mem_size - 0x100000, 8);
	pt_le_put(e + 36, E820_RAM, 4);
	bp[BP_E820_ENTRIES] = 2;
}

/* boot_params for a bzImage, as a boot loader fills them (Documentation/x86/boot.rst): the setup
 * header copied from the image, type_of_loader "undefined" (0xff), code32_start, the command
 * line; the e820 map stays as write_boot_params made it. */
static void bzimage_boot_params(struct pt_emu_machine *m, const char *cmdline)
{
	uint8_t *bp = m->mem + EMU_BOOT_PARAMS_PA;
	memcpy(bp + 0x1f1, m->bz.hdr, m->bz.hdr_len);
	bp[BP_TYPE_OF_LOADER] = 0xff;
	pt_le_put(bp + BP_CODE32_START, m->bz.blob.base_pa, 4);
	memset(m->mem + EMU_CMDLINE_PA, 0, 256);
	memcpy(m->mem + EMU_CMDLINE_PA, cmdline, strlen(cmdline) + 1);
	pt_le_put(bp + BP_CMD_LINE_PTR, EMU_CMDLINE_PA, 4);
}

uint64_t emu_place_images(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts)
{
	const struct emu_image_def *def = m->def;

	/* Physical layout: the shim at 4 KiB (the boot GDT at 20 KiB for a native 32-bit entry),
	 * boot_params at 28 KiB, the command line (--pti) at 32 KiB, the first stage at 1 MiB, the
	 * kernel at its load address. */
	uint64_t kernel_entry = 0, start;
	if (def->kernel) {
		place_blob(m->mem, m->result.phys_load, def->kernel);
		relocate(m->mem + m->result.phys_load, def->kernel, m->result.virt_offset);
		kernel_entry = m->result.phys_load + (def->kernel->entry - def->kernel->base_pa);
		m->result.phys_offset = m->result.phys_load - def->kernel->base_pa;
	}
	if (def->entry == EMU_ENTRY_NATIVE_32) {
		/* Straight into startup_32 at its physical address (code32_start). */
		start = kernel_entry;
		write_boot_params(m->mem, m->mem_size, kernel_entry, start, NULL);
	} else {
		place_blob(m->mem, EMU_SHIM_PA, &emu_blob_entry32);
		place_blob(m->mem, def->first_pa, def->first);
		uint64_t first_entry = def->first_pa + (def->first->entry - def->first->base_va);
		write_boot_params(m->mem, m->mem_size, kernel_entry, first_entry,
				  opts->pti ? PTI_CMDLINE : NULL);
		uint64_t slot;
		if (m->is_bzimage)
			bzimage_boot_params(m, opts->cmdline ? opts->cmdline : "");
		emu_blob_symbol(&emu_blob_entry32, "boot_params_slot", &slot);
		pt_le_put(m->mem + slot, EMU_BOOT_PARAMS_PA, 4);
		emu_blob_symbol(&emu_blob_entry32, "entry_slot", &slot);
		pt_le_put(m->mem + slot, first_entry, 4);
		start = EMU_SHIM_PA;
	}
	return start;
}
