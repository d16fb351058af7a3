/* SPDX-License-Identifier: MIT */
/* emu/images.h: the boot-image manifest (internal to libptemu). */
#ifndef PTLAB_EMU_IMAGES_H
#define PTLAB_EMU_IMAGES_H

#include "blob.h"
#include "ptlab/emu.h"

/** How an image is entered. */
enum emu_image_entry {
	/** 32-bit boot protocol (flat segments, paging off, ESI = boot_params), reached from the
	 *  64-bit engine through the shim (boot_images/entry32.S): for images that go to long mode. */
	EMU_ENTRY_PROTECTED_32 = 1,
	/** The same protocol in a UC_MODE_32 engine (GDT, segments and CR0.PE set up by the machine),
	 *  straight into the kernel's startup_32: for i386 kernels, whose legacy/PAE paging the
	 *  64-bit engine cannot run. Virtual = physical + page_offset, one relocation offset. */
	EMU_ENTRY_NATIVE_32 = 2,
};

/** One image of the manifest: what to load, how to enter it, where it stops, what it must show. */
struct emu_image_def {
	struct pt_emu_image pub;
	enum emu_image_entry entry;
	const struct emu_blob *first;    /**< the stage entered first (placed at first_pa), or NULL
					     when the kernel is entered directly (EMU_ENTRY_NATIVE_32) */
	uint64_t first_pa;
	const struct emu_blob *kernel;   /**< the kernel stage (placed at the load address), or NULL */
	uint64_t default_phys_load;
	const struct emu_blob *stop_blob; /**< the blob that holds the stop symbol */
	const char *stop_symbol;
	uint64_t kernel_image_size;     /**< virtual window the kernel may slide in (KASLR); i386:
					     KERNEL_IMAGE_SIZE, the kernel must end below it */
	uint64_t page_offset;           /**< EMU_ENTRY_NATIVE_32: PAGE_OFFSET (lowmem is aliased there) */
	uint64_t phys_align;            /**< EMU_ENTRY_NATIVE_32: CONFIG_PHYSICAL_ALIGN of --phys-load,
					     --virt-offset and KASLR (16 MiB) */
	/** What the dump must show at the stop point (asserted by tests/test_emu.c, test_emu32.c). */
	const char *expect;
};

/** The manifest entries of a real kernel: the machine copies one and fills in its stages
 *  (vmlinux: .kernel and .default_phys_load; bzimage: .first and .first_pa). */
extern const struct emu_image_def emu_image_vmlinux;
extern const struct emu_image_def emu_image_bzimage;

/** The manifest, the default image first. */
const struct emu_image_def *emu_images_manifest(size_t *count_ret);
/** Find an image by name. */
const struct emu_image_def *emu_images_find(const char *name);
/** A symbol of a blob (link-time value). */
bool emu_blob_symbol(const struct emu_blob *blob, const char *name, uint64_t *value_ret);

#endif
