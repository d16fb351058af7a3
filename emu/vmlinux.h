/* SPDX-License-Identifier: MIT */
/* emu/vmlinux.h: a real x86-64 vmlinux as a boot blob (internal to libptemu). */
#ifndef PTLAB_EMU_VMLINUX_H
#define PTLAB_EMU_VMLINUX_H

#include "blob.h"
#include "ptlab/dump.h"
#include "ptlab/walk.h"

/** A loaded vmlinux: its PT_LOAD segments at their physical offsets from blob.base_pa. */
struct emu_vmlinux {
	struct emu_blob blob;  /**< bytes = the image (filesz = memsz), base_pa/base_va of its lowest
			           segment, entry = e_entry (phys_startup_64); no symbols, no relocs */
	uint8_t *bytes;       /**< owned */
	unsigned nload;       /**< PT_LOAD segments placed */
};

/** Read an x86-64 vmlinux ELF; errors name the file and the offset of the bad header. */
enum pt_status emu_vmlinux_load(const char *path, struct emu_vmlinux *img, struct pt_error *err);
/** Free what emu_vmlinux_load allocated. */
void emu_vmlinux_unload(struct emu_vmlinux *img);

/** A bzImage: its protected-mode part (the decompressor and the compressed kernel) as the blob
 *  a boot loader places at 1 MiB, and the setup header it copies into boot_params. */
struct emu_bzimage {
	struct emu_blob blob;   /**< the protected-mode code, base/entry 0x100000 (code32_start) */
	const uint8_t *hdr;    /**< the setup header: file bytes from 0x1f1 */
	size_t hdr_len;        /**< up to the end the header's jump at 0x200 gives */
	uint64_t init_size;    /**< memory the decompressor needs from its load address */
	struct pt_dump *file;  /**< the bzImage, mapped (owned); blob and hdr point into it */
};

/** Read a bzImage (boot protocol 2.10+); errors name the file and the header offset. */
enum pt_status emu_bzimage_load(const char *path, struct emu_bzimage *bz, struct pt_error *err);
/** Free what emu_bzimage_load allocated. */
void emu_bzimage_unload(struct emu_bzimage *bz);

#endif
