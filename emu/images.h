/* SPDX-License-Identifier: MIT */
/* emu/images.h: the boot-image manifest (internal to libptemu). */
#ifndef PTLAB_EMU_IMAGES_H
#define PTLAB_EMU_IMAGES_H

#include "blob.h"
#include "ptlab/emu.h"

/** How an image is entered. */
enum image_entry {
	ENTRY_PROTECTED_32 = 1, /**< 32-bit boot protocol: flat segments, paging off, ESI = boot_params */
};

/** One image of the manifest: what to load, how to enter it, where it stops, what it must show. */
struct image_def {
	struct pt_emu_image pub;
	enum image_entry entry;
	const struct pt_blob *first;    /**< the stage entered first (placed at first_pa) */
	uint64_t first_pa;
	const struct pt_blob *kernel;   /**< the kernel stage (placed at the load address), or NULL */
	uint64_t default_phys_load;
	const struct pt_blob *stop_blob; /**< the blob that holds the stop symbol */
	const char *stop_symbol;
	uint64_t kernel_image_size;     /**< virtual window the kernel may slide in (KASLR) */
	/** What the dump must show at the stop point (asserted by tests/test_emu.c). */
	const char *expect;
};

/** The manifest, the default image first. */
const struct image_def *images_manifest(size_t *count_ret);
/** Find an image by name. */
const struct image_def *images_find(const char *name);
/** A symbol of a blob (link-time value). */
bool blob_symbol(const struct pt_blob *blob, const char *name, uint64_t *value_ret);

#endif
