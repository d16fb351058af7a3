/* SPDX-License-Identifier: MIT */
/*
 * A real kernel's vmlinux (ELF64, x86-64) turned into a boot blob: its PT_LOAD segments laid
 * out at their physical addresses (p_paddr) as one contiguous image, the way a boot loader
 * places the decompressed kernel (Documentation/x86/boot.rst, "64-bit boot protocol": the
 * kernel is loaded as one block; head_64.S finds itself with a RIP-relative _text).
 *
 * The vmlinux of 6.1 amd64 has a per-cpu segment linked at VA 0 (the zero-based per-cpu area)
 * whose p_paddr continues the image; it is placed by p_paddr like the others, and the image's
 * virtual alias (one block at base_va) covers it at its load address (__per_cpu_load), which is
 * where the kernel reads the boot CPU's per-cpu data before setup_per_cpu_areas.
 */
#include <stdlib.h>
#include <string.h>

#include "ptlab/error.h"
#include "ptlab/kpgd.h"
#include "ptlab/le.h"
#include "vmlinux.h"

/* ELF64 layout (System V gABI / the x86-64 psABI). */
enum {
	EHDR64_SIZE = 64,
	PHDR64_SIZE = 56,
	EM_X86_64 = 62,
	ET_EXEC = 2,
	PT_LOAD = 1,
};

/* The x86-64 kernel's virtual base (__START_KERNEL_map); segments linked below it (the per-cpu
 * segment at 0) are not part of the kernel-image mapping. */
static const uint64_t START_KERNEL_MAP = PT_LINUX_START_KERNEL_MAP;
/* A vmlinux larger than this is not a kernel this loader places (6.1 amd64: 54 MiB of image). */
static const uint64_t MAX_IMAGE = UINT64_C(1) << 30;

/* The whole file, mapped read-only through the raw-dump reader (file bytes at "PA" 0..len). */
static const uint8_t *map_file(const char *path, struct pt_dump **dump_ret, size_t *len_ret,
			       struct pt_error *err)
{
	const struct pt_dump_open_opts raw = { .force_raw = true };
	if (pt_dump_open(path, &raw, dump_ret, err) != PT_OK)
		return NULL;
	const uint64_t len = pt_dump_phys_end(*dump_ret);
	const struct pt_mem *mem = pt_dump_mem(*dump_ret);
	const uint8_t *bytes = len ? mem->ptr(mem, 0, (size_t)len) : NULL;
	if (!bytes) {
		pt_dump_close(*dump_ret);
		*dump_ret = NULL;
		pt_error_set(err, path, 0, "empty file");
		return NULL;
	}
	*len_ret = (size_t)len;
	return bytes;
}

enum pt_status emu_vmlinux_load(const char *path, struct emu_vmlinux *img, struct pt_error *err)
{
	memset(img, 0, sizeof(*img));
	size_t len = 0;
	struct pt_dump *src = NULL;
	const uint8_t *file = map_file(path, &src, &len, err);
	if (!file)
		return PT_EINVAL;
	enum pt_status st = PT_EINVAL;
	if (len < EHDR64_SIZE || memcmp(file, "\x7f" "ELF", 4) != 0) {
		pt_error_set(err, path, 0, "not an ELF file (a vmlinux; extract it from vmlinuz first: "
			     "ci/real-kernels fetch does)");
		goto out;
	}
	if (file[4] != 2 || file[5] != 1) {
		pt_error_set(err, path, 4, "not a little-endian ELF64 file (an x86-64 vmlinux is)");
		goto out;
	}
	const unsigned type = (unsigned)pt_le_get(file + 16, 2), machine = (unsigned)pt_le_get(file + 18, 2);
	if (machine != EM_X86_64 || type != ET_EXEC) {
		pt_error_set(err, path, 16, "ELF type %u machine %u: not an x86-64 executable "
			     "(ET_EXEC, EM_X86_64); i386 vmlinux is not supported here", type, machine);
		goto out;
	}
	const uint64_t entry = pt_le_get(file + 24, 8), phoff = pt_le_get(file + 32, 8);
	const unsigned phentsize = (unsigned)pt_le_get(file + 54, 2), phnum = (unsigned)pt_le_get(file + 56, 2);
	if (phentsize != PHDR64_SIZE || phoff > len || (uint64_t)phnum * PHDR64_SIZE > len - phoff) {
		pt_error_set(err, path, 32, "program headers (%u x %u bytes at 0x%llx) lie outside the "
			     "file", phnum, phentsize, (unsigned long long)phoff);
		goto out;
	}

	/* First pass: the physical extent and the virtual base of the image. */
	uint64_t lo = UINT64_MAX, hi = 0, base_va_of_lo = 0;
	unsigned nload = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = file + phoff + (uint64_t)i * PHDR64_SIZE;
		if (pt_le_get(ph, 4) != PT_LOAD)
			continue;
		const uint64_t off = pt_le_get(ph + 8, 8), va = pt_le_get(ph + 16, 8), pa = pt_le_get(ph + 24, 8);
		const uint64_t filesz = pt_le_get(ph + 32, 8), memsz = pt_le_get(ph + 40, 8);
		const uint64_t at = phoff + (uint64_t)i * PHDR64_SIZE;
		if (filesz > memsz || off > len || filesz > len - off) {
			pt_error_set(err, path, at, "PT_LOAD %u: %llu file bytes at 0x%llx (memsz %llu) "
				     "lie outside the file", i, (unsigned long long)filesz,
				     (unsigned long long)off, (unsigned long long)memsz);
			goto out;
		}
		if (memsz == 0)
			continue;
		if (pa > UINT64_MAX - memsz) {
			pt_error_set(err, path, at, "PT_LOAD %u: physical range wraps", i);
			goto out;
		}
		if (pa < lo) {
			lo = pa;
			base_va_of_lo = va;
		}
		if (pa + memsz > hi)
			hi = pa + memsz;
		nload++;
	}
	if (nload == 0) {
		pt_error_set(err, path, phoff, "no PT_LOAD segment");
		goto out;
	}
	if (hi - lo > MAX_IMAGE) {
		pt_error_set(err, path, phoff, "the segments span 0x%llx bytes of physical addresses: "
			     "not one kernel image", (unsigned long long)(hi - lo));
		goto out;
	}
	if (base_va_of_lo < START_KERNEL_MAP || lo % 4096 != 0) {
		pt_error_set(err, path, phoff, "the lowest segment (PA 0x%llx, VA 0x%llx) is not a "
			     "page-aligned kernel-text segment above __START_KERNEL_map",
			     (unsigned long long)lo, (unsigned long long)base_va_of_lo);
		goto out;
	}
	if (entry < lo || entry >= hi) {
		pt_error_set(err, path, 24, "entry 0x%llx is outside the image [0x%llx, 0x%llx): the "
			     "x86-64 vmlinux entry is phys_startup_64", (unsigned long long)entry,
			     (unsigned long long)lo, (unsigned long long)hi);
		goto out;
	}

	/* Second pass: place each segment at its physical offset; memsz beyond filesz stays 0. */
	const uint64_t size = hi - lo;
	uint8_t *image = calloc(1, size);
	if (!image) {
		pt_error_set(err, path, UINT64_MAX, "out of memory for a 0x%llx-byte image",
			     (unsigned long long)size);
		goto out;
	}
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = file + phoff + (uint64_t)i * PHDR64_SIZE;
		if (pt_le_get(ph, 4) != PT_LOAD || pt_le_get(ph + 40, 8) == 0)
			continue;
		const uint64_t off = pt_le_get(ph + 8, 8), pa = pt_le_get(ph + 24, 8);
		const uint64_t filesz = pt_le_get(ph + 32, 8);
		memcpy(image + (pa - lo), file + off, filesz);
	}
	img->bytes = image;
	img->blob.name = "vmlinux";
	img->blob.bytes = image;
	img->blob.filesz = size;
	img->blob.memsz = size;
	img->blob.base_pa = lo;
	img->blob.base_va = base_va_of_lo;
	img->blob.entry = entry;
	img->nload = nload;
	st = PT_OK;
out:
	pt_dump_close(src);
	return st;
}

void emu_vmlinux_unload(struct emu_vmlinux *img)
{
	free(img->bytes);
	memset(img, 0, sizeof(*img));
}

/* ---- bzImage ------------------------------------------------------------------------------ */

/* The real-mode header of a bzImage (Documentation/x86/boot.rst, "The real-mode kernel header"). */
enum {
	HDR_START = 0x1f1,     /* setup_sects: the header a boot loader copies starts here */
	HDR_SETUP_SECTS = 0x1f1,
	HDR_JUMP = 0x200,      /* a 2-byte jump; its displacement byte ends the header */
	HDR_MAGIC = 0x202,     /* "HdrS" */
	HDR_VERSION = 0x206,
	HDR_LOADFLAGS = 0x211,
	HDR_INIT_SIZE = 0x260, /* protocol 2.10+ */
	LOADED_HIGH = 0x01,
};
/* Where the protected-mode kernel goes (code32_start of a bzImage, the protocol's default). */
static const uint64_t BZIMAGE_PM_ADDR = 0x100000;

enum pt_status emu_bzimage_load(const char *path, struct emu_bzimage *bz, struct pt_error *err)
{
	memset(bz, 0, sizeof(*bz));
	size_t len = 0;
	struct pt_dump *src = NULL;
	const uint8_t *file = map_file(path, &src, &len, err);
	if (!file)
		return PT_EINVAL;
	if (len < HDR_INIT_SIZE + 4 || memcmp(file + HDR_MAGIC, "HdrS", 4) != 0) {
		pt_dump_close(src);
		return pt_error_set(err, path, HDR_MAGIC, "no \"HdrS\" boot header: not a bzImage");
	}
	const unsigned version = (unsigned)pt_le_get(file + HDR_VERSION, 2);
	const unsigned loadflags = file[HDR_LOADFLAGS];
	if (version < 0x20a || !(loadflags & LOADED_HIGH)) {
		pt_dump_close(src);
		return pt_error_set(err, path, HDR_VERSION, "boot protocol %u.%02u (loadflags 0x%02x): "
				    "a bzImage of protocol 2.10 or later is needed (init_size)",
				    version >> 8, version & 0xff, loadflags);
	}
	const unsigned setup_sects = file[HDR_SETUP_SECTS] ? file[HDR_SETUP_SECTS] : 4;
	const uint64_t pm_off = (uint64_t)(setup_sects + 1) * 512;
	const uint64_t hdr_end = HDR_JUMP + 2 + file[HDR_JUMP + 1];
	if (pm_off >= len || hdr_end > pm_off) {
		pt_dump_close(src);
		return pt_error_set(err, path, HDR_SETUP_SECTS, "setup_sects %u: the protected-mode "
				    "kernel would start at 0x%llx, past the file's 0x%zx bytes", setup_sects,
				    (unsigned long long)pm_off, len);
	}
	bz->file = src;
	bz->hdr = file + HDR_START;
	bz->hdr_len = hdr_end - HDR_START;
	bz->init_size = pt_le_get(file + HDR_INIT_SIZE, 4);
	bz->blob.name = "bzImage";
	bz->blob.bytes = file + pm_off;
	bz->blob.filesz = bz->blob.memsz = len - pm_off;
	bz->blob.base_pa = bz->blob.base_va = bz->blob.entry = BZIMAGE_PM_ADDR;
	return PT_OK;
}

void emu_bzimage_unload(struct emu_bzimage *bz)
{
	pt_dump_close(bz->file);
	memset(bz, 0, sizeof(*bz));
}
