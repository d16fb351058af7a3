/* SPDX-License-Identifier: MIT */
/*
 * emu/machine_run.c: the Unicorn engine that runs a boot image, and the run loop. What Unicorn
 * 2.0.1 does not do as hardware would is done here explicitly (../shared/notes/unicorn-2.0.1.md):
 * - Unicorn accesses the uc address equal to the *virtual* address after its page walk, so the
 *   kernel image is aliased at its run-time virtual address (same host memory, mapped twice);
 * - its 64-bit engine starts in long mode with paging off, so a small shim (boot_images/entry32.S)
 *   enters the image per the 32-bit boot protocol;
 * - i386 kernels (legacy and PAE paging) run in a UC_MODE_32 engine instead, set up here as the
 *   32-bit boot protocol wants (GDT, segments, CR0.PE, ESI = boot_params) and entered at
 *   startup_32; lowmem is aliased at PAGE_OFFSET; in that engine register reads store 32 bits
 *   (CR0/CR3/CR4, EIP, EFLAGS: read into zeroed 64-bit variables) and RIP/RFLAGS read nothing;
 * - CPUID is fixed at reset, so a hook answers the leaves the image checks (machine_cpuid.c);
 * - RDMSR of an MSR Unicorn does not know reads 0 (and UC_HOOK_INSN cannot hook RDMSR), so with
 *   --sme the code hook emulates RDMSR of SYSCFG and steps RIP past it;
 * - with --sme the page-walk loads of tables whose entries carry the C-bit go to the physical
 *   address C-bit | PA, so physical memory is aliased there as well (machine_cpuid.c);
 * - exceptions never go through the IDT: a hook stops the run and reports vector and address;
 *   for a real kernel (vmlinux:PATH, bzimage:PATH) a #PF is delivered through the kernel's own
 *   IDT instead, the direct map is aliased too, WRMSR's EFER.SCE/NXE are set in the context, and
 *   Unicorn's exception-in-flight bookkeeping is reset before every resume (machine_kernel.c,
 *   ucblob.h);
 * - bzimage:PATH runs Linux's decompressor without the per-instruction hook and spots the
 *   hand-over to the kernel from the CPUID hook (machine_kernel.c).
 */
#include <string.h>
#include <time.h>

#include "machine.h"
#include "ptlab/le.h"

static const uint64_t DEFAULT_BUDGET = 10000000;
/* A real kernel's budget (vmlinux:PATH), and how long a bzImage's decompressor may run (it has
 * no instruction budget: no hook). */
static const uint64_t VMLINUX_BUDGET = 200000000;
static const uint64_t BZIMAGE_TIMEOUT_US = UINT64_C(600) * 1000000;
/* The boot GDT the machine gives a native 32-bit image (boot protocol: __BOOT_CS 0x10, __BOOT_DS 0x18). */
static const uint16_t BOOT_CS = 0x10;
static const uint16_t BOOT_DS = 0x18;
static const uint64_t FLAT_CODE32 = UINT64_C(0x00cf9a000000ffff); /* base 0, 4 GiB, 32-bit, readable */
static const uint64_t FLAT_DATA32 = UINT64_C(0x00cf92000000ffff); /* base 0, 4 GiB, writable */
/* MSR_AMD64_SYSCFG and its MemEncryptionModeEn bit (AMD APM vol. 2, Secure Memory Encryption). */
static const uint32_t MSR_SYSCFG = 0xc0010010;
static const uint64_t SYSCFG_MEM_ENCRYPT = UINT64_C(1) << 23;
/* Where a real kernel's direct map starts (page_offset_base before KASLR's
 * kernel_randomize_memory, which runs later, in setup_arch: __PAGE_OFFSET_BASE_L4 and _L5 of
 * arch/x86/include/asm/page_64_types.h). */
static const uint64_t DIRECT_MAP_L4 = UINT64_C(0xffff888000000000);
static const uint64_t DIRECT_MAP_L5 = UINT64_C(0xff11000000000000);

/* ---- hooks ------------------------------------------------------------------------------------ */

/* The program counter. A UC_MODE_32 engine answers EIP (4 bytes) and leaves RIP untouched. */
uint64_t emu_read_pc(uc_engine *uc, bool native32)
{
	uint64_t pc = 0;
	uc_reg_read(uc, native32 ? UC_X86_REG_EIP : UC_X86_REG_RIP, &pc);
	return native32 ? (uint32_t)pc : pc;
}

/* CPUID as the image's CPU answers it; leaves neither profile knows keep Unicorn's answer. */
static int on_cpuid(uc_engine *uc, void *user)
{
	struct emu_run_state *rs = user;
	const struct emu_cpu_model cpu = { .native32 = rs->native32, .real_kernel = rs->real_kernel,
					   .la57 = rs->opts->la57, .sme = rs->opts->sme };
	uint32_t leaf = 0, sub = 0, regs[4];
	uc_reg_read(uc, UC_X86_REG_EAX, &leaf);
	uc_reg_read(uc, UC_X86_REG_ECX, &sub);
	if (!emu_cpuid(&cpu, leaf, sub, regs))
		return 0;
	uc_reg_write(uc, UC_X86_REG_EAX, &regs[0]);
	uc_reg_write(uc, UC_X86_REG_EBX, &regs[1]);
	uc_reg_write(uc, UC_X86_REG_ECX, &regs[2]);
	uc_reg_write(uc, UC_X86_REG_EDX, &regs[3]);
	if (rs->bz_searching)
		emu_spot_kernel(rs, uc);
	return 1;
}

/* RDMSR of SYSCFG, emulated (Unicorn reads unknown MSRs as 0): EDX:EAX = MemEncryptionModeEn,
 * RIP past the instruction. Other MSRs are left to Unicorn. */
static void emulate_rdmsr_syscfg(uc_engine *uc, uint64_t address)
{
	uint8_t op[2];
	uint32_t ecx = 0;
	if (uc_mem_read(uc, address, op, sizeof(op)) != UC_ERR_OK || op[0] != 0x0f || op[1] != 0x32)
		return;
	uc_reg_read(uc, UC_X86_REG_ECX, &ecx);
	if (ecx != MSR_SYSCFG)
		return;
	uint32_t lo = (uint32_t)SYSCFG_MEM_ENCRYPT, hi = (uint32_t)(SYSCFG_MEM_ENCRYPT >> 32);
	uint64_t next = address + sizeof(op);
	uc_reg_write(uc, UC_X86_REG_EAX, &lo);
	uc_reg_write(uc, UC_X86_REG_EDX, &hi);
	uc_reg_write(uc, UC_X86_REG_RIP, &next);
}

void emu_on_code(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct emu_run_state *rs = user;
	if (++rs->insns > rs->budget) {
		rs->budget_spent = true;
		uc_emu_stop(uc);
		return;
	}
	/* Only with --sme, and only 2-byte instructions are read (RDMSR is 0F 32). */
	if (rs->emulate_syscfg && size == 2)
		emulate_rdmsr_syscfg(uc, address);
	if (!rs->real_kernel)
		return;
	/* startup_64 calls verify_cpu and then, without touching RAX, __startup_64: RAX there is
	 * verify_cpu's verdict (0 = the CPU has what the kernel needs). */
	if (address == rs->startup64_pa && !rs->verify_cpu_seen) {
		rs->verify_cpu_seen = true;
		uc_reg_read(uc, UC_X86_REG_RAX, &rs->verify_cpu_rax);
	}
	if (size == 2)
		emu_prepare_efer_write(rs, uc, address);
}

static void on_interrupt(uc_engine *uc, uint32_t intno, void *user)
{
	struct emu_run_state *rs = user;
	uint64_t cr2 = 0;
	rs->faulted = true;
	rs->vector = intno;
	rs->fault_rip = emu_read_pc(uc, rs->native32);
	uc_reg_read(uc, UC_X86_REG_CR2, &cr2);
	rs->fault_cr2 = rs->native32 ? (uint32_t)cr2 : cr2;
	/* The error code is not a register in Unicorn 2.0.1: it is only in the context blob. */
	if (!rs->fault_ctx && uc_context_alloc(uc, &rs->fault_ctx) != UC_ERR_OK)
		rs->fault_ctx = NULL;
	if (rs->fault_ctx)
		uc_context_save(uc, rs->fault_ctx);
	uc_emu_stop(uc);
}

enum pt_status emu_unicorn_fail(struct pt_error *err, const char *img, const char *what, uc_err e)
{
	return pt_error_set(err, img, UINT64_MAX, "unicorn: %s: %s", what, uc_strerror(e));
}

/* ---- the engine ------------------------------------------------------------------------------- */

/* The 64-bit engine for images entered through the shim: physical memory at uc address = PA, the
 * kernel again at its run-time virtual address, with --sme physical memory again at the C-bit,
 * a stack under boot_params for the shim. */
static enum pt_status setup_engine64(struct pt_emu_machine *m, uc_engine *uc, bool sme,
				     struct pt_error *err)
{
	const struct emu_image_def *def = m->def;
	const char *img = def->pub.name;
	uc_err e;
	if ((e = uc_mem_map_ptr(uc, 0, m->mem_size, UC_PROT_ALL, m->mem)) != UC_ERR_OK)
		return emu_unicorn_fail(err, img, "map physical memory", e);
	if (def->kernel) {
		/* The kernel at its run-time virtual address: the same host memory again. */
		uint64_t va = def->kernel->base_va + m->result.virt_offset;
		uint64_t size = emu_round_up(def->kernel->memsz, 4096);
		if ((e = uc_mem_map_ptr(uc, va, size, UC_PROT_ALL, m->mem + m->result.phys_load)) != UC_ERR_OK)
			return emu_unicorn_fail(err, img, "alias the kernel at its virtual address", e);
	}
	if (m->is_vmlinux || m->is_bzimage) {
		/* A real kernel reads boot_params and builds page tables through the direct map
		 * (__va) before start_kernel: physical memory again at page_offset_base. */
		const uint64_t base = m->vm_la57 ? DIRECT_MAP_L5 : DIRECT_MAP_L4;
		if ((e = uc_mem_map_ptr(uc, base, m->mem_size, UC_PROT_ALL, m->mem)) != UC_ERR_OK)
			return emu_unicorn_fail(err, img, "alias physical memory at the direct map", e);
	}
	if (sme) {
		/* Physical memory again at C-bit | PA, where Unicorn's page walk loads tables that
		 * entries (and CR3) carrying the C-bit point to (see EMU_SME_CBIT). */
		e = uc_mem_map_ptr(uc, UINT64_C(1) << EMU_SME_CBIT, m->mem_size, UC_PROT_ALL, m->mem);
		if (e != UC_ERR_OK)
			return emu_unicorn_fail(err, img, "alias physical memory at the SME C-bit", e);
	}
	uint64_t rsp = EMU_BOOT_PARAMS_PA - 16;
	uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
	return PT_OK;
}

/* The 32-bit engine for an i386 kernel, in the state the 32-bit boot protocol promises
 * (Documentation/x86/boot.txt): protected mode with paging off, a GDT with __BOOT_CS and
 * __BOOT_DS flat 4 GiB descriptors, CS/DS/ES/SS loaded from it, ESI = boot_params, EBP, EDI and
 * EBX zero, interrupts off. Memory: physical at uc address = PA (up to PAGE_OFFSET; the kernel
 * and its tables are below KERNEL_IMAGE_SIZE), and lowmem once more at PAGE_OFFSET, because
 * Unicorn accesses the uc address equal to the VA after its walk and VA PAGE_OFFSET + x maps x. */
static enum pt_status setup_engine32(struct pt_emu_machine *m, uc_engine *uc, struct pt_error *err)
{
	const struct emu_image_def *def = m->def;
	const char *img = def->pub.name;
	const uint64_t phys_span = m->mem_size < def->page_offset ? m->mem_size : def->page_offset;
	const uint64_t lowmem_span = (UINT64_C(1) << 32) - def->page_offset;
	const uint64_t alias_span = m->mem_size < lowmem_span ? m->mem_size : lowmem_span;
	uc_err e;

	if ((e = uc_mem_map_ptr(uc, 0, phys_span, UC_PROT_ALL, m->mem)) != UC_ERR_OK)
		return emu_unicorn_fail(err, img, "map physical memory", e);
	if ((e = uc_mem_map_ptr(uc, def->page_offset, alias_span, UC_PROT_ALL, m->mem)) != UC_ERR_OK)
		return emu_unicorn_fail(err, img, "alias lowmem at PAGE_OFFSET", e);

	/* The boot GDT: null, null, __BOOT_CS, __BOOT_DS. */
	uint8_t *gdt = m->mem + EMU_BOOT_GDT_PA;
	memset(gdt, 0, 4 * 8);
	pt_le_put(gdt + BOOT_CS, FLAT_CODE32, 8);
	pt_le_put(gdt + BOOT_DS, FLAT_DATA32, 8);
	uc_x86_mmr gdtr = { .base = EMU_BOOT_GDT_PA, .limit = 4 * 8 - 1 };
	if ((e = uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr)) != UC_ERR_OK)
		return emu_unicorn_fail(err, img, "load GDTR", e);
	/* CR0: PE (and ET) on, PG off. The 32-bit engine starts that way (CR0 = 0x11); say so. */
	uint64_t cr0 = 0;
	uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
	uint32_t cr0_32 = (uint32_t)((cr0 | CR0_PE | CR0_ET) & ~CR0_PG);
	if ((e = uc_reg_write(uc, UC_X86_REG_CR0, &cr0_32)) != UC_ERR_OK)
		return emu_unicorn_fail(err, img, "write CR0", e);
	/* Segments: in UC_MODE_32 these writes load the descriptors from the GDT (and fail on a
	 * bad one), as a far jump and mov to a segment register would. */
	const struct {
		int reg;
		uint16_t sel;
	} segs[] = {
		{ UC_X86_REG_CS, BOOT_CS }, { UC_X86_REG_DS, BOOT_DS }, { UC_X86_REG_ES, BOOT_DS },
		{ UC_X86_REG_SS, BOOT_DS }, { UC_X86_REG_FS, BOOT_DS }, { UC_X86_REG_GS, BOOT_DS },
	};
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		uint32_t sel = segs[i].sel;
		if ((e = uc_reg_write(uc, segs[i].reg, &sel)) != UC_ERR_OK)
			return emu_unicorn_fail(err, img, "load a segment register from the boot GDT", e);
	}
	const struct {
		int reg;
		uint32_t value;
	} regs[] = {
		{ UC_X86_REG_ESI, (uint32_t)EMU_BOOT_PARAMS_PA },
		{ UC_X86_REG_EBP, 0 }, { UC_X86_REG_EDI, 0 }, { UC_X86_REG_EBX, 0 },
		{ UC_X86_REG_EFLAGS, 0x2 }, /* IF = 0 */
	};
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint32_t v = regs[i].value;
		if ((e = uc_reg_write(uc, regs[i].reg, &v)) != UC_ERR_OK)
			return emu_unicorn_fail(err, img, "set the boot protocol's registers", e);
	}
	return PT_OK;
}

/* ---- the run -------------------------------------------------------------------------------- */

/* The engine for the image with its memory, registers and hooks (the per-instruction hook only
 * when the run starts with it: not while a bzImage's decompressor runs). */
static enum pt_status open_engine(struct pt_emu_machine *m, struct emu_run_state *rs, uc_hook *h_code,
				  struct pt_error *err)
{
	const char *img = m->def->pub.name;
	uc_hook h_cpuid, h_intr;
	uc_err e;

	if ((e = uc_open(UC_ARCH_X86, rs->native32 ? UC_MODE_32 : UC_MODE_64, &rs->uc)) != UC_ERR_OK) {
		rs->uc = NULL;
		return emu_unicorn_fail(err, img, "open", e);
	}
	enum pt_status st = rs->native32 ? setup_engine32(m, rs->uc, err)
					 : setup_engine64(m, rs->uc, rs->opts->sme, err);
	if (st != PT_OK)
		return st;
	if ((e = uc_hook_add(rs->uc, &h_cpuid, UC_HOOK_INSN, (void *)on_cpuid, rs, 1, 0, UC_X86_INS_CPUID)) ||
	    (!m->is_bzimage && (e = uc_hook_add(rs->uc, h_code, UC_HOOK_CODE, (void *)emu_on_code, rs, 1, 0))) ||
	    (e = uc_hook_add(rs->uc, &h_intr, UC_HOOK_INTR, (void *)on_interrupt, rs, 1, 0)))
		return emu_unicorn_fail(err, img, "hook", e);
	rs->have_layout = rs->real_kernel && emu_ucblob_layout_get(&rs->layout);
	uint64_t startup64;
	const struct emu_blob *k = m->def->kernel;
	if (m->is_vmlinux && pt_symtab_value(m->symbols, "__startup_64", &startup64) &&
	    startup64 >= k->base_va && startup64 - k->base_va < k->memsz)
		rs->startup64_pa = m->result.phys_load + (startup64 - k->base_va);
	return PT_OK;
}

/*
 * Run from `start` until `*stop`. A real kernel's run is a loop: Unicorn stops for what it does
 * not do as a CPU would (a WRMSR to EFER, a #PF to deliver through the kernel's IDT, the bzImage's
 * hand-over, which also moves the stop point) and the machine does it. Returns PT_OK with Unicorn's
 * last error in *e_ret, or the error of what the machine could not do.
 */
static enum pt_status run_loop(struct pt_emu_machine *m, struct emu_run_state *rs, uc_hook *h_code,
			       uint64_t start, uint64_t *stop, uc_err *e_ret, struct pt_error *err)
{
	const char *img = m->def->pub.name;
	uc_engine *uc = rs->uc;
	uint64_t pc = start;
	enum pt_status st;

	for (;;) {
		*e_ret = uc_emu_start(uc, pc, *stop, rs->bz_searching ? BZIMAGE_TIMEOUT_US : 0, 0);
		if (*e_ret != UC_ERR_OK || rs->budget_spent)
			return PT_OK;
		if (rs->efer_failed)
			return pt_error_set(err, img, UINT64_MAX, "unicorn: cannot set IA32_EFER.NXE (no "
					    "EFER in the context blob)");
		if (rs->kernel_found) {
			rs->kernel_found = false;
			if ((st = emu_kernel_starts(m, rs, uc, h_code, stop, err)) != PT_OK)
				return st;
			pc = emu_read_pc(uc, false);
		} else if (rs->faulted && rs->real_kernel && rs->vector == PT_VEC_PF) {
			if ((st = emu_deliver_page_fault(m, rs, uc, &pc, err)) != PT_OK)
				return st;
		} else {
			return PT_OK;
		}
		/* Nothing is in flight when the run resumes: the #PF was delivered, and a run that
		 * stops walks the `until` address again, which faults while it is unmapped and leaves
		 * Unicorn's double-fault bookkeeping set (the next #PF would be a #DF, ucblob.h). */
		if (!rs->have_layout || !emu_ucblob_patch(uc, rs->layout.old_exception, UINT32_MAX, 4))
			return pt_error_set(err, img, UINT64_MAX, "unicorn: cannot clear the exception in flight");
	}
}

/* The CPU state at the stop point, into m->result.cpu. */
static void read_cpu_state(struct pt_emu_machine *m, const struct emu_run_state *rs)
{
	struct pt_cpu_state *cpu = &m->result.cpu;
	uc_engine *uc = rs->uc;

	memset(cpu, 0, sizeof(*cpu));
	uc_reg_read(uc, UC_X86_REG_CR0, &cpu->cr0);
	uc_reg_read(uc, UC_X86_REG_CR3, &cpu->cr3);
	uc_reg_read(uc, UC_X86_REG_CR4, &cpu->cr4);
	uc_reg_read(uc, rs->native32 ? UC_X86_REG_EFLAGS : UC_X86_REG_RFLAGS, &cpu->rflags);
	if (rs->native32) {
		/* The 32-bit engine stores 4 bytes into these (the rest stayed zero): keep exactly
		 * the architectural 32 bits. */
		cpu->cr0 = (uint32_t)cpu->cr0;
		cpu->cr3 = (uint32_t)cpu->cr3;
		cpu->cr4 = (uint32_t)cpu->cr4;
		cpu->rflags = (uint32_t)cpu->rflags;
	}
	cpu->efer = emu_read_efer(uc);
	cpu->maxphyaddr = EMU_MAXPHYADDR;
	/* With SYSCFG.MemEncryptionModeEn set the C-bit is live: the walker (and the PTLAB note of
	 * the dump) strip it. */
	cpu->cbit = rs->opts->sme ? (uint8_t)EMU_SME_CBIT : 0;
	m->result.stop_rip = emu_read_pc(uc, rs->native32);
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

enum pt_status emu_machine_run(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
			       uint64_t start, uint64_t stop, struct pt_error *err)
{
	const bool native32 = m->def->entry == EMU_ENTRY_NATIVE_32;
	const bool real_kernel = m->is_vmlinux || m->is_bzimage;
	struct emu_run_state rs = { .opts = opts, .native32 = native32, .emulate_syscfg = !native32 && opts->sme,
				    .real_kernel = real_kernel, .bz_searching = m->is_bzimage,
				    .bz = &m->bz_layout, .mem_size = m->mem_size,
				    .budget = opts->insn_budget ? opts->insn_budget
					      : real_kernel ? VMLINUX_BUDGET : DEFAULT_BUDGET };
	struct timespec a, b;
	uc_hook h_code;
	uc_err e = UC_ERR_OK;

	enum pt_status st = open_engine(m, &rs, &h_code, err);
	if (st != PT_OK)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &a);
	st = run_loop(m, &rs, &h_code, start, &stop, &e, err);
	if (st != PT_OK)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &b);
	m->result.seconds = seconds_between(&a, &b);
	m->result.insns = rs.insns;
	if (rs.bz_searching && !rs.faulted && e == UC_ERR_OK) {
		st = pt_error_set(err, m->def->pub.name, UINT64_MAX, "the decompressor did not start the "
				  "kernel within %llu s (stopped at 0x%llx)",
				  (unsigned long long)(BZIMAGE_TIMEOUT_US / 1000000),
				  (unsigned long long)emu_read_pc(rs.uc, false));
		goto out;
	}
	if (real_kernel)
		m->result.verify_cpu_checked = rs.verify_cpu_seen;
	st = emu_run_verdict(m, &rs, rs.uc, e, stop, err);
	if (st == PT_OK)
		read_cpu_state(m, &rs);
out:
	if (rs.fault_ctx)
		uc_context_free(rs.fault_ctx);
	if (rs.uc)
		uc_close(rs.uc);
	return st;
}
