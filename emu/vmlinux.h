/* SPDX-License-Identifier: MIT */
/* emu/vmlinux.h: a real x86-64 vmlinux as a boot blob (internal to libptemu). */
#ifndef PTLAB_EMU_VMLINUX_H
#define PTLAB_EMU_VMLINUX_H

#include "blob.h"
#include "ptlab/walk.h"

/** A loaded vmlinux: its PT_LOAD segments at their physical offsets from blob.base_pa. */
struct vmlinux_image {
	struct pt_blob blob;  /**< bytes = the image (filesz = memsz), base_pa/base_va of its lowest
			           segment, entry = e_entry (phys_startup_64); no symbols, no relocs */
	uint8_t *bytes;       /**< owned */
	unsigned nload;       /**< PT_LOAD segments placed */
};

/** Read an x86-64 vmlinux ELF; errors name the file and the offset of the bad header. */
enum pt_status vmlinux_load(const char *path, struct vmlinux_image *img, struct pt_error *err);
/** Free what vmlinux_load allocated. */
void vmlinux_unload(struct vmlinux_image *img);

#endif
