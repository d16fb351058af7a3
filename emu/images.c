/* SPDX-License-Identifier: MIT */
/*
 * The boot-image manifest: every image, its entry protocol, its stop point and what its page
 * tables must show there. The assembly is in boot_images/; the build embeds it (pack.c).
 */
#include <string.h>

#include "images.h"

static const struct image_def manifest[] = {
	{
		.pub = {
			.name = "linux64",
			.description = "decompressor (4 GiB identity map, long mode) then head_64 "
				       "(early_top_pgt with the load_delta fix-up, init_top_pgt)",
			.paging = PT_MODE_IA32E,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_VIRT_OFFSET | PT_EMU_OPT_LA57,
		},
		.entry = ENTRY_PROTECTED_32,
		.first = &pt_blob_decomp64,
		.first_pa = 0x100000,
		.kernel = &pt_blob_kernel64,
		.default_phys_load = 0x1000000,
		.stop_blob = &pt_blob_kernel64,
		.stop_symbol = "ptlab_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.expect = "CR3 = __pa(init_top_pgt); init_top_pgt[511] = early_top_pgt[511]; "
			  "__START_KERNEL_map + i*2M -> i*2M + load_delta over 512 MiB",
	},
	{
		.pub = {
			.name = "linux64-decompressor",
			.description = "the decompressor stage alone, stopped before it jumps to the "
				       "kernel: the 4 GiB identity map with 2 MiB pages",
			.paging = PT_MODE_IA32E,
			.options = PT_EMU_OPT_LA57,
		},
		.entry = ENTRY_PROTECTED_32,
		.first = &pt_blob_decomp64,
		.first_pa = 0x100000,
		.kernel = &pt_blob_kernel64,
		.default_phys_load = 0x1000000,
		.stop_blob = &pt_blob_decomp64,
		.stop_symbol = "decompressor_stop",
		.kernel_image_size = UINT64_C(512) << 20,
		.expect = "VA x -> PA x for x < 4 GiB, 2 MiB pages, nothing above",
	},
};

const struct image_def *images_manifest(size_t *count_ret)
{
	*count_ret = sizeof(manifest) / sizeof(manifest[0]);
	return manifest;
}

const struct image_def *images_find(const char *name)
{
	for (size_t i = 0; i < sizeof(manifest) / sizeof(manifest[0]); i++) {
		if (strcmp(manifest[i].pub.name, name) == 0)
			return &manifest[i];
	}
	return NULL;
}

bool blob_symbol(const struct pt_blob *blob, const char *name, uint64_t *value_ret)
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
	const struct image_def *def = images_find(name);
	return def ? &def->pub : NULL;
}
