/* SPDX-License-Identifier: MIT */
/* emu/vmcoreinfo.h: the VMCOREINFO a booted kernel would export, for the cores libptemu writes
 * (internal to libptemu). */
#ifndef PTLAB_EMU_VMCOREINFO_H
#define PTLAB_EMU_VMCOREINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "ptlab/emu.h"

/** What the core writer adds for a booted kernel: the text, and (x86-64) the virtual PT_LOAD of
 *  the kernel's root table. */
struct emu_vmcoreinfo {
	char text[1024];
	uint64_t root_vaddr; /**< 0: no virtual segment (i386) */
	uint64_t root_paddr;
};

/**
 * The VMCOREINFO Linux would have written for the boot `r` of machine `m` (crash_save_vmcoreinfo
 * and arch_crash_save_vmcoreinfo): OSRELEASE from the banner in memory, PAGESIZE, the kernel's
 * top table and _stext at their run-time addresses, and on x86-64 phys_base, KERNELOFFSET,
 * pgtable_l5_enabled and sme_mask; CONFIG_X86_PAE on a PAE i386 kernel. False when the stage
 * that ran has no kernel yet (the decompressor alone) or its symbols lack the table or the
 * banner: nothing truthful can be said then.
 */
bool emu_vmcoreinfo_build(const struct pt_emu_machine *m, const struct pt_emu_boot_result *r,
			  struct emu_vmcoreinfo *out);

#endif
