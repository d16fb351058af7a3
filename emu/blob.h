/* SPDX-License-Identifier: MIT */
/* emu/blob.h: a boot image embedded by boot_images/pack.c (internal to libptemu). */
#ifndef PTLAB_EMU_BLOB_H
#define PTLAB_EMU_BLOB_H

#include <stddef.h>
#include <stdint.h>

/** A symbol of the image, at its link-time address; type as nm prints it (T t D d B b R A). */
struct emu_blob_sym {
	uint64_t value;
	char type;
	const char *name;
};

/** A relocation site: `size` (8 or 4) bytes at `offset` from the image start get the virtual
 *  offset added (R_X86_64_64, and R_X86_64_32/32S as 32-bit fields). */
struct emu_blob_reloc {
	uint64_t offset;
	unsigned size;
};

/** One linked image. */
struct emu_blob {
	const char *name;
	const uint8_t *bytes;  /**< the first filesz bytes; the rest up to memsz is zero (bss) */
	uint64_t filesz, memsz;
	uint64_t base_pa;      /**< link-time physical address of bytes[0] */
	uint64_t base_va;      /**< link-time virtual address of bytes[0] */
	uint64_t entry;        /**< ELF entry (physical for the kernel stage) */
	const struct emu_blob_sym *syms;
	size_t nsyms;
	const struct emu_blob_reloc *relocs;
	size_t nrelocs;
};

extern const struct emu_blob emu_blob_entry32;
extern const struct emu_blob emu_blob_decomp64;
extern const struct emu_blob emu_blob_kernel64;
/* The i386 kernels: boot_images/kernel32.S assembled per variant (CMakeLists.txt). */
extern const struct emu_blob emu_blob_kernel32;
extern const struct emu_blob emu_blob_kernel32_pse;
extern const struct emu_blob emu_blob_kernel32_pae;
extern const struct emu_blob emu_blob_kernel32_pae_pse;
extern const struct emu_blob emu_blob_kernel32_pae_2g;
extern const struct emu_blob emu_blob_kernel32_1g;
extern const struct emu_blob emu_blob_kernel32_pae_1g;

#endif
