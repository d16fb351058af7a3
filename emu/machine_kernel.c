/* SPDX-License-Identifier: MIT */
/*
 * emu/machine_kernel.c: what the machine does for a real x86-64 kernel (vmlinux:PATH,
 * bzimage:PATH) besides running it: the kernel and its symbols checked against each other, its
 * manifest entry, the early #PF of copy_bootdata delivered through the kernel's own IDT (Unicorn
 * reports exceptions to a hook and never enters a handler), SCE/NXE of a WRMSR to EFER set in
 * the context (Unicorn's WRMSR drops them), and the bzImage's hand-over from Linux's own
 * decompressor to the kernel it extracted (spotted from the CPUID hook).
 */
#include <string.h>

#include "machine.h"
#include "ptlab/le.h"

/* Where a real kernel's image is linked (__START_KERNEL_map). */
static const uint64_t START_KERNEL_MAP = PT_LINUX_START_KERNEL_MAP;
/* #PFs the machine delivers through the kernel's IDT before it calls the boot a loop. */
static const uint32_t MAX_PAGE_FAULTS = 100000;
/* IA32_EFER, and the writable bits Unicorn's WRMSR drops because its CPU model lacks SYSCALL
 * and NX (SDM Vol. 3A 2.2.1: SCE, LME and NXE are writable; LMA is the CPU's). */
static const uint32_t MSR_EFER = 0xc0000080;
static const uint64_t EFER_PATCHED = PT_BIT(0) | PT_BIT(EFER_BIT_NXE); /* SCE, NXE */
/* The RFLAGS bits a 64-bit interrupt or trap gate clears (SDM Vol. 3A 6.14.2). */
static const uint64_t RFLAGS_TF = 1u << 8, RFLAGS_IF = 1u << 9, RFLAGS_NT = 1u << 14,
		      RFLAGS_RF = 1u << 16, RFLAGS_VM = 1u << 17;

/* ---- the kernel and its symbols --------------------------------------------------------------- */

/* vmlinux:PATH: load the kernel and make its manifest entry. It is entered like linux64, through
 * the built-in decompressor stage (the 32-bit boot protocol, then the identity map and long
 * mode the 64-bit boot protocol promises startup_64, with 5-level tables when CPUID reports
 * LA57, since 6.1's __startup_64 takes 5-level paging from CR4.LA57 as the decompressor left
 * it), and stops at start_kernel. */
enum pt_status emu_vmlinux_prepare(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
				      struct pt_error *err)
{
	const char *path = opts->image + strlen(PT_EMU_VMLINUX_PREFIX);
	if (!*path)
		return pt_error_set(err, opts->image, UINT64_MAX, "vmlinux: needs a path (vmlinux:PATH)");
	/* A virtual slide needs the kernel's relocation table (vmlinux.relocs, which only the
	 * bzImage carries, for the decompressor); SME and PTI are not modelled for a real kernel. */
	if (opts->has_virt_offset || opts->has_kaslr_seed)
		return pt_error_set(err, opts->image, UINT64_MAX, "--virt-offset/--kaslr: a vmlinux has no "
				    "relocation table (the bzImage's vmlinux.relocs), so it runs at its "
				    "link-time virtual address; use --phys-load");
	if (opts->sme || opts->pti)
		return pt_error_set(err, opts->image, UINT64_MAX, "--sme/--pti are for the built-in images");
	if (!opts->symbols)
		return pt_error_set(err, path, UINT64_MAX, "a real kernel needs its symbols for the stop "
				    "point start_kernel (--symbols: a kallsyms map, System.map or vmlinux "
				    "with .symtab)");
	enum pt_status st = emu_vmlinux_load(path, &m->vmlinux, err);
	if (st != PT_OK)
		return st;
	const struct emu_blob *k = &m->vmlinux.blob;
	const char *spath = pt_symtab_path(opts->symbols) ? pt_symtab_path(opts->symbols) : "symbols";
	uint64_t stop = 0, startup = 0, banner = 0;
	if (!pt_symtab_value(opts->symbols, emu_image_vmlinux.stop_symbol, &stop) || stop < k->base_va ||
	    stop - k->base_va >= k->memsz)
		return pt_error_set(err, spath, UINT64_MAX, "no %s inside %s's image (0x%llx, 0x%llx "
				    "bytes): not this kernel's symbols", emu_image_vmlinux.stop_symbol, path,
				    (unsigned long long)k->base_va, (unsigned long long)k->memsz);
	/* The symbols must be this kernel's: startup_64 at the entry (phys_startup_64), and the
	 * banner text at linux_banner when the table has data symbols (CONFIG_KALLSYMS_ALL). */
	if (!pt_symtab_value(opts->symbols, "startup_64", &startup) ||
	    startup - k->base_va != k->entry - k->base_pa)
		return pt_error_set(err, spath, UINT64_MAX, "startup_64 is not at %s's entry point "
				    "(VA 0x%llx): not this kernel's symbols", path,
				    (unsigned long long)(k->base_va + (k->entry - k->base_pa)));
	if (pt_symtab_value(opts->symbols, "linux_banner", &banner) &&
	    (banner < k->base_va || banner - k->base_va > k->memsz - 14 ||
	     memcmp(k->bytes + (banner - k->base_va), "Linux version ", 14) != 0))
		return pt_error_set(err, spath, UINT64_MAX, "linux_banner 0x%llx does not hold \"Linux "
				    "version\" in %s: not this kernel's symbols", (unsigned long long)banner,
				    path);
	m->symbols = opts->symbols;
	m->is_vmlinux = true;
	m->vm_la57 = opts->la57;
	/* The manifest entry: the built-in decompressor stage first, then this kernel. */
	m->vm_def = emu_image_vmlinux;
	m->vm_def.kernel = k;
	m->vm_def.default_phys_load = k->base_pa;
	m->def = &m->vm_def;
	return PT_OK;
}

/* bzimage:PATH: the bzImage's protected-mode part is the first stage, placed at 1 MiB and entered
 * at code32_start per the 32-bit boot protocol with its setup header in boot_params, so Linux's
 * own decompressor runs: it relocates itself, builds its page tables (on demand, through its #PF
 * handler), picks the KASLR slots unless the command line says nokaslr, extracts and relocates the
 * kernel and jumps to it; the kernel then runs as for vmlinux:PATH. */
enum pt_status emu_bzimage_prepare(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
				      struct pt_error *err)
{
	const char *path = opts->image + strlen(PT_EMU_BZIMAGE_PREFIX);
	if (!*path)
		return pt_error_set(err, opts->image, UINT64_MAX, "bzimage: needs a path (bzimage:PATH)");
	if (opts->has_virt_offset || opts->has_kaslr_seed || opts->phys_load || opts->sme || opts->pti)
		return pt_error_set(err, opts->image, UINT64_MAX, "--phys-load/--virt-offset/--kaslr/--sme/"
				    "--pti: the decompressor places the kernel itself (KASLR unless "
				    "--cmdline has nokaslr)");
	if (!opts->symbols)
		return pt_error_set(err, path, UINT64_MAX, "a real kernel needs its symbols for the stop "
				    "point start_kernel (--symbols: a kallsyms map is enough)");
	enum pt_status st = emu_bzimage_load(path, &m->bz, err);
	if (st != PT_OK)
		return st;
	const char *spath = pt_symtab_path(opts->symbols) ? pt_symtab_path(opts->symbols) : "symbols";
	const char *const need[] = { "_text", "_end", "verify_cpu", "initial_code",
					    "x86_64_start_kernel", emu_image_vmlinux.stop_symbol };
	uint64_t v[6];
	for (size_t i = 0; i < 6; i++)
		if (!pt_symtab_value(opts->symbols, need[i], &v[i]))
			return pt_error_set(err, spath, UINT64_MAX, "no %s in the symbols: a bzimage boot "
					    "needs _text, _end, verify_cpu, initial_code, x86_64_start_kernel "
					    "and start_kernel (a kallsyms map of a CONFIG_KALLSYMS_ALL kernel)",
					    need[i]);
	if (v[0] < START_KERNEL_MAP || v[1] <= v[0] || v[1] - v[0] > (UINT64_C(1) << 30) ||
	    v[2] < v[0] || v[3] < v[0] || v[2] >= v[1] || v[3] >= v[1])
		return pt_error_set(err, spath, UINT64_MAX, "_text 0x%llx .. _end 0x%llx: not an x86-64 "
				    "kernel's symbols", (unsigned long long)v[0], (unsigned long long)v[1]);
	m->bz_layout = (struct emu_bz_layout){ .text = v[0], .size = v[1] - v[0], .verify_cpu = v[2] - v[0],
					   .initial_code = v[3] - v[0], .start_kernel_va = v[4] };
	m->symbols = opts->symbols;
	m->is_bzimage = true;
	m->vm_la57 = opts->la57;
	/* The manifest entry: the bzImage's protected-mode part first; the kernel is placed by its
	 * decompressor (emu_kernel_starts). */
	m->vm_def = emu_image_bzimage;
	m->vm_def.first = &m->bz.blob;
	m->vm_def.first_pa = m->bz.blob.base_pa;
	m->def = &m->vm_def;
	return PT_OK;
}

/* ---- during the run ----------------------------------------------------------------------- */

/* bzimage: is this CPUID the kernel's verify_cpu, running at its physical address from the
 * copy the decompressor made? It is if, for P = the 2 MiB-aligned address RIP - verify_cpu
 * rounds down to (CONFIG_PHYSICAL_ALIGN; the decompressor places the kernel at such an
 * address), RIP is within verify_cpu, and initial_code in that image holds
 * x86_64_start_kernel's address slid by a 2 MiB multiple below 1 GiB (the relocated pointer).
 * The decompressor's own verify_cpu runs before the kernel exists and fails the second test. */
void emu_spot_kernel(struct emu_run_state *rs, uc_engine *uc)
{
	const struct emu_bz_layout *bz = rs->bz;
	const uint64_t rip = emu_read_pc(uc, false);
	if (rip < bz->verify_cpu)
		return;
	const uint64_t at = rip - bz->verify_cpu, p = at & ~(EMU_PMD_SIZE - 1);
	uint8_t ptr[8];
	if (at - p >= 0x400 || p + bz->size > rs->mem_size ||
	    uc_mem_read(uc, p + bz->initial_code, ptr, sizeof(ptr)) != UC_ERR_OK)
		return;
	const uint64_t slide = pt_le_get(ptr, 8) - bz->start_kernel_va;
	if (slide % EMU_PMD_SIZE != 0 || slide >= (UINT64_C(1) << 30))
		return;
	rs->kernel_found = true;
	rs->bz_searching = false;
	rs->kernel_pa = p;
	rs->kernel_virt_offset = slide;
	uc_emu_stop(uc);
}

/* A WRMSR to IA32_EFER about to run: Unicorn's WRMSR changes only the bits its CPU model
 * supports, which leaves out SCE and NXE. A kernel told that NX exists sets NXE and then
 * writes entries with bit 63 (early_pmd_flags), which are reserved-bit faults while NXE is
 * clear. So SCE and NXE are set (or cleared) in the context as EAX asks, just before the
 * instruction; Unicorn's WRMSR then keeps them and does the rest (LME). */
void emu_prepare_efer_write(struct emu_run_state *rs, uc_engine *uc, uint64_t address)
{
	uint8_t op[2];
	uint32_t ecx = 0;
	if (uc_mem_read(uc, address, op, sizeof(op)) != UC_ERR_OK || op[0] != 0x0f || op[1] != 0x30)
		return;
	uc_reg_read(uc, UC_X86_REG_ECX, &ecx);
	if (ecx != MSR_EFER)
		return;
	uint64_t rax = 0;
	uc_x86_msr efer = { .rid = MSR_EFER };
	uc_reg_read(uc, UC_X86_REG_RAX, &rax);
	uc_reg_read(uc, UC_X86_REG_MSR, &efer);
	const uint64_t want = (efer.value & ~EFER_PATCHED) | (rax & EFER_PATCHED);
	if (want == efer.value)
		return;
	if (!rs->have_layout || !emu_ucblob_patch(uc, rs->layout.efer, want, 8)) {
		rs->efer_failed = true;
		uc_emu_stop(uc);
	}
}

/* A #PF delivered as the CPU delivers it in 64-bit mode (SDM Vol. 3A 6.14.1-6.14.2): the IDT
 * gate of vector 14, no privilege change (the kernel runs at CPL 0; early handlers use no
 * IST), RSP aligned down to 16, then SS, RSP, RFLAGS, CS, RIP of the faulting instruction and
 * the error code pushed; an interrupt gate clears IF; TF, NT, RF and VM cleared. Unicorn
 * reports the fault to UC_HOOK_INTR and never enters the handler: head_64's early handler
 * (early_idt_handler_array, then early_make_pgtable) builds the missing mapping and IRETQs. */
enum pt_status emu_deliver_page_fault(struct pt_emu_machine *m, struct emu_run_state *rs, uc_engine *uc,
					 uint64_t *pc, struct pt_error *err)
{
	const char *img = m->def->pub.name;
	uint32_t code = 0;
	char where[160];
	emu_describe_address(m, rs->fault_rip, where, sizeof(where));
	if (!emu_fault_error_code(rs, uc, &code))
		return pt_error_set(err, img, UINT64_MAX, "#PF at %s (CR2 0x%llx): its error code "
				    "cannot be read from Unicorn", where, (unsigned long long)rs->fault_cr2);
	if (++m->result.page_faults > MAX_PAGE_FAULTS)
		return pt_error_set(err, img, UINT64_MAX, "more than %u page faults: the kernel's #PF "
				    "handler loops (last at %s, CR2 0x%llx, error code 0x%x)",
				    MAX_PAGE_FAULTS, where, (unsigned long long)rs->fault_cr2, code);

	uc_x86_mmr idtr = { 0 };
	uint8_t gate[16];
	uc_reg_read(uc, UC_X86_REG_IDTR, &idtr);
	if (idtr.limit < PT_VEC_PF * 16 + 15 ||
	    uc_mem_read(uc, idtr.base + PT_VEC_PF * 16, gate, sizeof(gate)) != UC_ERR_OK)
		return pt_error_set(err, img, UINT64_MAX, "#PF at %s (CR2 0x%llx, error code 0x%x) "
				    "before the kernel loaded an IDT with a #PF gate (IDTR 0x%llx limit "
				    "0x%x)", where, (unsigned long long)rs->fault_cr2, code,
				    (unsigned long long)idtr.base, idtr.limit);
	const unsigned type = gate[5] & 0xf, ist = gate[4] & 7;
	if (!(gate[5] & 0x80) || (type != 0xe && type != 0xf) || ist != 0)
		return pt_error_set(err, img, UINT64_MAX, "#PF at %s (CR2 0x%llx): IDT gate 14 at 0x%llx "
				    "is not a present interrupt/trap gate without IST (bytes 4-5: "
				    "0x%02x 0x%02x)", where, (unsigned long long)rs->fault_cr2,
				    (unsigned long long)(idtr.base + PT_VEC_PF * 16), gate[4], gate[5]);
	const uint64_t handler = pt_le_get(gate, 2) | (pt_le_get(gate + 6, 2) << 16) | (pt_le_get(gate + 8, 4) << 32);
	const uint64_t selector = pt_le_get(gate + 2, 2);

	uint64_t rsp = 0, rflags = 0, cs = 0, ss = 0;
	uc_reg_read(uc, UC_X86_REG_RSP, &rsp);
	uc_reg_read(uc, UC_X86_REG_RFLAGS, &rflags);
	uc_reg_read(uc, UC_X86_REG_CS, &cs);
	uc_reg_read(uc, UC_X86_REG_SS, &ss);
	const uint64_t top = rsp & ~UINT64_C(15);
	uint8_t frame[48];
	pt_le_put(frame + 0, code, 8);
	pt_le_put(frame + 8, rs->fault_rip, 8);
	pt_le_put(frame + 16, cs & 0xffff, 8);
	pt_le_put(frame + 24, rflags, 8);
	pt_le_put(frame + 32, rsp, 8);
	pt_le_put(frame + 40, ss & 0xffff, 8);
	if (uc_mem_write(uc, top - sizeof(frame), frame, sizeof(frame)) != UC_ERR_OK)
		return pt_error_set(err, img, UINT64_MAX, "#PF at %s: the stack at 0x%llx is not in "
				    "memory the machine maps", where, (unsigned long long)(top - sizeof(frame)));
	uint64_t new_rsp = top - sizeof(frame);
	uint64_t new_rflags = rflags & ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	if (type == 0xe)
		new_rflags &= ~RFLAGS_IF;
	uc_reg_write(uc, UC_X86_REG_RSP, &new_rsp);
	uc_reg_write(uc, UC_X86_REG_RFLAGS, &new_rflags);
	/* The stop address is walked again when a run ends and may have overwritten CR2. */
	uc_reg_write(uc, UC_X86_REG_CR2, &rs->fault_cr2);
	if (selector != (cs & 0xffff))
		uc_reg_write(uc, UC_X86_REG_CS, &selector);
	rs->faulted = false;
	*pc = handler;
	return PT_OK;
}

/* bzimage: the decompressor has put the kernel at rs->kernel_pa, slid by rs->kernel_virt_offset,
 * and its verify_cpu runs. From here on it is a vmlinux boot: the kernel aliased at its run-time
 * virtual address, the per-instruction hook (budget, verify_cpu's verdict, WRMSR to EFER), the
 * stop at start_kernel + slide. Translation blocks made without the hook are dropped. */
enum pt_status emu_kernel_starts(struct pt_emu_machine *m, struct emu_run_state *rs, uc_engine *uc,
				    uc_hook *h_code, uint64_t *stop, struct pt_error *err)
{
	const struct emu_bz_layout *bz = &m->bz_layout;
	const char *img = m->def->pub.name;
	uint64_t start_kernel = 0, startup64 = 0;
	uc_err e;
	m->bz_kernel = (struct emu_blob){ .name = "vmlinux (decompressed)", .base_va = bz->text,
					  .base_pa = bz->text - START_KERNEL_MAP, .memsz = bz->size,
					  .filesz = bz->size, .bytes = m->mem + rs->kernel_pa };
	m->vm_def.kernel = &m->bz_kernel;
	m->result.phys_load = rs->kernel_pa;
	m->result.phys_offset = rs->kernel_pa - m->bz_kernel.base_pa;
	m->result.virt_offset = rs->kernel_virt_offset;
	if ((e = uc_mem_map_ptr(uc, bz->text + rs->kernel_virt_offset, emu_round_up(bz->size, 4096), UC_PROT_ALL,
				m->mem + rs->kernel_pa)) != UC_ERR_OK)
		return emu_unicorn_fail(err, img, "alias the kernel at its virtual address", e);
	if ((e = uc_hook_add(uc, h_code, UC_HOOK_CODE, (void *)emu_on_code, rs, 1, 0)) != UC_ERR_OK)
		return emu_unicorn_fail(err, img, "hook", e);
	uc_ctl_flush_tlb(uc); /* UC_CTL_TB_FLUSH: translation blocks, not the TLB */
	if (pt_symtab_value(m->symbols, "__startup_64", &startup64))
		rs->startup64_pa = rs->kernel_pa + (startup64 - bz->text);
	pt_symtab_value(m->symbols, emu_image_vmlinux.stop_symbol, &start_kernel);
	*stop = start_kernel + rs->kernel_virt_offset;
	return PT_OK;
}
