/* SPDX-License-Identifier: MIT */
/*
 * emu/vmcoreinfo.c: the VMCOREINFO note of the cores libptemu writes, so that tools which read
 * kdump-style cores (drgn, crash, libkdumpfile, ptlab's own find-kpgd) open ours as they open a
 * kernel's. Everything in it is what the kernel that ran would say about itself, derived from
 * the boot: its symbols moved by the boot's KASLR slide, phys_base from where it was loaded, the
 * release from its own banner in memory, 5-level paging and the SME mask from the CPU state.
 *
 * Linux writes the text in kernel/crash_core.c (crash_save_vmcoreinfo_init: OSRELEASE, PAGESIZE,
 * SYMBOL(swapper_pg_dir), SYMBOL(_stext)) and arch/x86/kernel/crash_core_{64,32}.c
 * (NUMBER(phys_base), SYMBOL(init_top_pgt), NUMBER(pgtable_l5_enabled), KERNELOFFSET,
 * NUMBER(sme_mask); CONFIG_X86_PAE=y). On x86-64 swapper_pg_dir is a macro for init_top_pgt,
 * so both name the same table. pt_vmcoreinfo_format (walker/dump_write.c) spells the lines.
 */
#include "vmcoreinfo.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ptlab/dump.h"
#include "ptlab/kpgd.h"

/** A symbol's run-time address: its link-time value moved by the boot's slide. */
static bool runtime_symbol(const struct pt_emu_machine *m, const struct pt_emu_boot_result *r,
			   const char *name, uint64_t *va_ret)
{
	uint64_t link;
	if (!pt_emu_symbol(m, name, &link))
		return false;
	*va_ret = link + r->virt_offset;
	return true;
}

/**
 * The kernel release from its banner ("Linux version 6.1.0-56-amd64 (...) ..."), read through
 * the boot's own page tables as the kernel would see it; false when it is not there.
 */
static bool banner_release(const struct pt_emu_machine *m, const struct pt_emu_boot_result *r,
			   char *release, size_t len)
{
	static const char prefix[] = "Linux version ";
	uint64_t va;
	struct pt_context ctx;
	const struct pt_mem *mem = pt_emu_mem(m);
	if (!runtime_symbol(m, r, "linux_banner", &va) ||
	    pt_context_init(&ctx, &r->cpu, mem, NULL, NULL) != PT_OK)
		return false;
	char text[128];
	size_t n = 0;
	for (; n < sizeof(text) - 1; n++) {
		struct pt_result res;
		const uint8_t *p;
		if (pt_walk(&ctx, mem, va + n, &res) != PT_OK || !(p = mem->ptr(mem, res.pa, 1)))
			break;
		text[n] = (char)*p;
		if (!*p)
			break;
	}
	text[n] = '\0';
	const size_t plen = sizeof(prefix) - 1;
	if (strncmp(text, prefix, plen) != 0)
		return false;
	const size_t rlen = strcspn(text + plen, " ");
	if (rlen == 0 || rlen >= len)
		return false;
	memcpy(release, text + plen, rlen);
	release[rlen] = '\0';
	return true;
}

bool emu_vmcoreinfo_build(const struct pt_emu_machine *m, const struct pt_emu_boot_result *r,
			  struct emu_vmcoreinfo *out)
{
	const bool x86_64 = r->paging == PT_MODE_IA32E || r->paging == PT_MODE_LA57;
	char release[65];
	struct pt_vmcoreinfo_fields f = { .osrelease = release, .x86_64 = x86_64 };
	uint64_t top;

	memset(out, 0, sizeof(*out));
	/* The table: init_top_pgt (x86-64; older kernels init_level4_pgt), swapper_pg_dir (i386). */
	const bool have_top = x86_64 ? runtime_symbol(m, r, "init_top_pgt", &top) ||
					       runtime_symbol(m, r, "init_level4_pgt", &top)
				     : runtime_symbol(m, r, "swapper_pg_dir", &top);
	if (!have_top || !banner_release(m, r, release, sizeof(release)))
		return false;
	f.swapper_pg_dir = top;
	/* x86's linker script puts _stext at _text. */
	if (!runtime_symbol(m, r, "_stext", &f.stext))
		runtime_symbol(m, r, "_text", &f.stext);
	if (x86_64) {
		/* __pa(x) = x - __START_KERNEL_map + phys_base for the kernel image: phys_base is
		 * how far the load address moved beyond the slide of the virtual one. */
		f.init_top_pgt = top;
		f.phys_base = (int64_t)(r->phys_offset - r->virt_offset);
		f.kernel_offset = r->virt_offset;
		f.la57 = r->paging == PT_MODE_LA57;
		out->root_vaddr = top;
		out->root_paddr = top - PT_LINUX_START_KERNEL_MAP + (uint64_t)f.phys_base;
	} else {
		f.x86_pae = r->paging == PT_MODE_PAE;
	}
	size_t len = pt_vmcoreinfo_format(&f, out->text, sizeof(out->text));
	/* sme_me_mask, as VMCOREINFO_NUMBER prints it (signed decimal), when SME is on. */
	if (x86_64 && r->cpu.cbit && len < sizeof(out->text))
		len += (size_t)snprintf(out->text + len, sizeof(out->text) - len,
					"NUMBER(sme_mask)=%" PRId64 "\n", (int64_t)(UINT64_C(1) << r->cpu.cbit));
	return len < sizeof(out->text);
}
