/* SPDX-License-Identifier: MIT */
/*
 * The machine: synthetic physical memory, a boot image placed in it, and Unicorn 2.0.1 running
 * the image's own code to its stop point. What Unicorn does not do as hardware would is done
 * here explicitly (../shared/notes/unicorn-2.0.1.md):
 * - Unicorn accesses the uc address equal to the *virtual* address after its page walk, so the
 *   kernel image is aliased at its run-time virtual address (same host memory, mapped twice);
 * - its 64-bit engine starts in long mode with paging off, so a small shim (boot_images/entry32.S)
 *   enters the image per the 32-bit boot protocol;
 * - i386 kernels (legacy and PAE paging) run in a UC_MODE_32 engine instead, set up here as the
 *   32-bit boot protocol wants (GDT, segments, CR0.PE, ESI = boot_params) and entered at
 *   startup_32; lowmem is aliased at PAGE_OFFSET; in that engine register reads store 32 bits
 *   (CR0/CR3/CR4, EIP, EFLAGS: read into zeroed 64-bit variables) and RIP/RFLAGS read nothing;
 * - CPUID is fixed at reset, so a hook answers the leaves the image checks (long mode, LA57,
 *   SME; PAE, PSE, PGE for the 32-bit CPU);
 * - RDMSR of an MSR Unicorn does not know reads 0 (and UC_HOOK_INSN cannot hook RDMSR), so with
 *   --sme the code hook emulates RDMSR of SYSCFG and steps RIP past it;
 * - with --sme the page-walk loads of tables whose entries carry the C-bit go to the physical
 *   address C-bit | PA, so physical memory is aliased there as well (see SME_CBIT);
 * - exceptions never go through the IDT: a hook stops the run and reports vector and address;
 *   for a real kernel (vmlinux:PATH, bzimage:PATH) a #PF is delivered through the kernel's own
 *   IDT instead (deliver_page_fault), the direct map is aliased too, WRMSR's EFER.SCE/NXE are set
 *   in the context (prepare_efer_write), and Unicorn's exception-in-flight bookkeeping is reset
 *   before every resume (ucblob.h);
 * - bzimage:PATH runs Linux's decompressor without the per-instruction hook and spots the
 *   hand-over to the kernel from the CPUID hook (spot_kernel, kernel_starts).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicorn/unicorn.h>

#include "ptlab/error.h"
#include "images.h"
#include "ptlab/emu.h"
#include "ptlab/kpgd.h"
#include "ptlab/symbols.h"
#include "ptlab/le.h"
#include "ucblob.h"
#include "vmlinux.h"

static const uint64_t DEFAULT_MEM = UINT64_C(256) << 20;
static const uint64_t DEFAULT_BUDGET = 10000000;
static const uint64_t BOOT_PARAMS_PA = 0x7000;
static const uint64_t SHIM_PA = 0x1000;
/* The boot GDT the machine gives a native 32-bit image (boot protocol: __BOOT_CS 0x10, __BOOT_DS 0x18). */
static const uint64_t BOOT_GDT_PA = 0x5000;
static const uint16_t BOOT_CS = 0x10;
static const uint16_t BOOT_DS = 0x18;
static const uint64_t FLAT_CODE32 = UINT64_C(0x00cf9a000000ffff); /* base 0, 4 GiB, 32-bit, readable */
static const uint64_t FLAT_DATA32 = UINT64_C(0x00cf92000000ffff); /* base 0, 4 GiB, writable */
static const uint64_t PMD_SIZE = 0x200000;
/* Unicorn's MAXPHYADDR (QEMU's TCG default of 40 physical-address bits). */
static const unsigned EMU_MAXPHYADDR = 40;

/* SME (--sme): the C-bit position CPUID 0x8000001F EBX[5:0] reports. Real AMD parts put it at 47
 * (or 51) with MAXPHYADDR 48 (52), but Unicorn 2.0.1's MMU has a fixed MAXPHYADDR of 40 and knows
 * nothing of SME: a C-bit at 40 or above is a reserved bit to it (every walk would #PF(RSVD)), so
 * it must sit below 40. Bit 39 is the highest that works: to Unicorn it is an ordinary address
 * bit, so the page-walk loads of tables reached through entries (and CR3) carrying it go to the
 * physical address (1 << 39) | PA, where the machine maps the same host memory once more (the
 * data accesses after a walk use the virtual address anyway, ../shared/notes/unicorn-2.0.1.md).
 * The physical-address reduction EBX[11:6] is 1: with SME on, bit 39 is no longer an address
 * bit, which leaves 39 (0x80000008 still reports the unreduced 40, as AMD's CPUs do). Memory is
 * at most 4 GiB, far below 1 << 39. */
static const unsigned SME_CBIT = 39;
static const unsigned SME_PHYS_REDUCTION = 1;
/* MSR_AMD64_SYSCFG and its MemEncryptionModeEn bit (AMD APM vol. 2, Secure Memory Encryption). */
static const uint32_t MSR_SYSCFG = 0xc0010010;
static const uint64_t SYSCFG_MEM_ENCRYPT = UINT64_C(1) << 23;
/* IA32_EFER, and the writable bits Unicorn's WRMSR drops because its CPU model lacks SYSCALL
 * and NX (SDM Vol. 3A 2.2.1: SCE, LME and NXE are writable; LMA is the CPU's). */
static const uint32_t MSR_EFER = 0xc0000080;
static const uint64_t EFER_PATCHED = (1u << 0) | (1u << 11); /* SCE, NXE */

/* The kernel command line the loader writes for --pti, and where (below the decompressor, above
 * boot_params; Documentation/x86/boot.txt lets it sit anywhere below 0xA0000). */
static const uint64_t CMDLINE_PA = 0x8000;
static const char PTI_CMDLINE[] = "pti=on";

/* boot_params (the "zero page", Documentation/x86/zero-page.txt) fields we fill. */
enum {
	BP_E820_ENTRIES = 0x1e8,
	BP_BOOT_FLAG = 0x1fe,
	BP_HEADER = 0x202,
	BP_VERSION = 0x206,
	BP_TYPE_OF_LOADER = 0x210,
	BP_CODE32_START = 0x214,
	BP_CMD_LINE_PTR = 0x228,
	BP_PREF_ADDRESS = 0x258,
	BP_E820_TABLE = 0x2d0,
	E820_RAM = 1,
};

/* A real kernel (vmlinux:PATH): its budget, where the direct map starts (page_offset_base before
 * KASLR's kernel_randomize_memory, which runs later, in setup_arch: __PAGE_OFFSET_BASE_L4 and
 * _L5 of arch/x86/include/asm/page_64_types.h), and the kernel's stop symbol. */
static const uint64_t VMLINUX_BUDGET = 200000000;
static const uint64_t DIRECT_MAP_L4 = UINT64_C(0xffff888000000000);
static const uint64_t DIRECT_MAP_L5 = UINT64_C(0xff11000000000000);
static const char VMLINUX_STOP[] = "start_kernel";
static const uint64_t START_KERNEL_MAP = PT_LINUX_START_KERNEL_MAP;
/* bzimage: how long the decompressor may run (it has no instruction budget: no hook). */
static const uint64_t BZIMAGE_TIMEOUT_US = UINT64_C(600) * 1000000;
/* #PFs the machine delivers through the kernel's IDT before it calls the boot a loop. */
static const uint32_t MAX_PAGE_FAULTS = 100000;

/* bzimage: where the kernel's own symbols put things, as offsets from _text (link time). */
struct bz_layout {
	uint64_t text;            /* _text, link-time VA */
	uint64_t size;            /* _end - _text */
	uint64_t verify_cpu;      /* offsets from _text */
	uint64_t initial_code;
	uint64_t start_kernel_va; /* x86_64_start_kernel, link-time VA (initial_code's value unslid) */
};

struct pt_emu_machine {
	const struct emu_image_def *def;
	/* vmlinux:PATH: the manifest entry made for it, the kernel and its symbols. */
	bool is_vmlinux;
	bool vm_la57;
	struct emu_image_def vm_def;
	struct emu_vmlinux vmlinux;
	/* bzimage:PATH: the bzImage, and the kernel's place once the decompressor has put it */
	bool is_bzimage;
	struct emu_bzimage bz;
	struct bz_layout bz_layout;
	struct emu_blob bz_kernel;
	const struct pt_symtab *symbols;
	uint8_t *mem;
	uint64_t mem_size;
	struct pt_flat_mem flat;
	struct pt_emu_boot_result result;
};

/* ---- small helpers ---------------------------------------------------------------------- */


static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/** The nearest symbol at or below `addr` (run-time address) of the image, for messages. */
static void describe_address(const struct pt_emu_machine *m, uint64_t addr, char *buf, size_t buflen)
{
	const struct emu_image_def *def = m->def;
	const uint64_t phys_load = m->result.phys_load, virt_offset = m->result.virt_offset;
	const struct emu_blob *blobs[2] = { def->first, def->kernel };
	const char *best = NULL;
	uint64_t best_off = UINT64_MAX;
	if (m->symbols && def->kernel) {
		/* A real kernel: its symbol table, at the kernel's virtual and physical addresses. */
		const uint64_t base_va = def->kernel->base_va, base_pa = def->kernel->base_pa;
		for (size_t i = 0; i < pt_symtab_count(m->symbols); i++) {
			const struct pt_symbol *s = pt_symtab_at(m->symbols, i);
			if (s->type == 'A' || s->type == 'a' || s->value < base_va)
				continue;
			uint64_t cand[2] = { s->value + virt_offset, s->value - base_va + base_pa + m->result.phys_offset };
			for (int k = 0; k < 2; k++) {
				if (addr >= cand[k] && addr - cand[k] < best_off) {
					best_off = addr - cand[k];
					best = s->name;
				}
			}
		}
	}
	for (int b = 0; b < 2 && !m->symbols && !m->is_bzimage; b++) {
		const struct emu_blob *blob = blobs[b];
		if (!blob)
			continue;
		for (size_t i = 0; i < blob->nsyms; i++) {
			const struct emu_blob_sym *s = &blob->syms[i];
			if (s->type == 'A' || s->type == 'a')
				continue;
			uint64_t off_in_image = s->value - blob->base_va;
			uint64_t phys = (blob == def->kernel ? phys_load : def->first_pa) + off_in_image;
			uint64_t virt = s->value + (blob == def->kernel ? virt_offset : 0);
			uint64_t cand[2] = { phys, virt };
			for (int k = 0; k < 2; k++) {
				if (addr >= cand[k] && addr - cand[k] < best_off) {
					best_off = addr - cand[k];
					best = s->name;
				}
			}
		}
	}
	if (best && best_off == 0)
		snprintf(buf, buflen, "0x%llx (%s)", (unsigned long long)addr, best);
	else if (best && best_off < 0x10000)
		snprintf(buf, buflen, "0x%llx (%s+0x%llx)", (unsigned long long)addr, best,
			 (unsigned long long)best_off);
	else
		snprintf(buf, buflen, "0x%llx", (unsigned long long)addr);
}

/* ---- CPUID and run-time hooks ------------------------------------------------------------- */

struct run_state {
	uc_engine *uc;
	const struct pt_emu_boot_opts *opts;
	bool native32;           /**< a UC_MODE_32 engine running an i386 kernel */
	bool real_kernel;        /**< vmlinux:PATH: real CPUID profile, #PF through the IDT, WRMSR EFER */
	uint64_t startup64_pa;   /**< real kernel: __startup_64's physical address (0 = unknown) */
	bool verify_cpu_seen;    /**< RAX was read at __startup_64 (verify_cpu's return value) */
	uint64_t verify_cpu_rax;
	bool have_layout;        /**< real kernel: the context blob layout (EFER, exception state) */
	/* bzimage: the decompressor runs without the per-instruction hook; the CPUID hook spots the
	 * kernel's verify_cpu running from the kernel it put in memory (kernel_found). */
	bool bz_searching;
	uint64_t mem_size;
	const struct bz_layout *bz;
	bool kernel_found;
	uint64_t kernel_pa, kernel_virt_offset;
	struct emu_ucblob_layout layout;
	bool efer_failed;        /**< EFER.NXE could not be set */
	bool emulate_syscfg;     /**< --sme: RDMSR of SYSCFG answers MemEncryptionModeEn */
	uint64_t insns;
	uint64_t budget;
	bool budget_spent;
	bool faulted;
	uint32_t vector;
	uint64_t fault_rip, fault_cr2;
	uc_context *fault_ctx;   /**< the engine's state inside the exception hook (holds the error code) */
};

/* CPUID.01H:EDX of the 32-bit CPU: FPU, PSE, TSC, MSR, PAE, CX8, SEP, PGE, CMOV, PAT, PSE-36,
 * MMX, FXSR, SSE, SSE2 (a Pentium M-like part). */
static const uint32_t CPU32_LEAF1_EDX = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |
					(1u << 8) | (1u << 11) | (1u << 13) | (1u << 15) | (1u << 16) |
					(1u << 17) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26);

/* The CPU an i386 kernel sees: PAE, PSE and PGE, no long mode and no NX (Unicorn 2.0.1 cannot set
 * EFER.NXE, so a kernel must not be told it may); MAXPHYADDR as Unicorn enforces it. */
static bool cpuid32(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	switch (leaf) {
	case 0:
		*a = 1;
		*b = 0x756e6547; /* "GenuineIntel" */
		*d = 0x49656e69;
		*c = 0x6c65746e;
		return true;
	case 1:
		*a = 0x6d8; /* family 6, model 13, stepping 8 */
		*b = *c = 0;
		*d = CPU32_LEAF1_EDX;
		return true;
	case 0x80000000:
		*a = 0x80000008;
		*b = *c = *d = 0;
		return true;
	case 0x80000001:
		*a = *b = *c = *d = 0; /* no LM, no NX */
		return true;
	case 0x80000008:
		*a = EMU_MAXPHYADDR | (32u << 8);
		*b = *c = *d = 0;
		return true;
	default:
		return false; /* Unicorn's own answer */
	}
}

/* The CPU the 64-bit images expect: long mode, NX, and LA57 when asked for; with --sme an AMD
 * part reporting SME (AMD APM vol. 3, CPUID Fn8000_001F). */
static bool cpuid64(const struct run_state *rs, uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
		    uint32_t *c, uint32_t *d)
{
	const bool sme = rs->opts->sme;
	switch (leaf) {
	case 0:
		*a = 0xd;
		if (sme) {
			*b = 0x68747541; /* "AuthenticAMD" */
			*d = 0x69746e65;
			*c = 0x444d4163;
		} else {
			*b = 0x756e6547; /* "GenuineIntel" */
			*d = 0x49656e69;
			*c = 0x6c65746e;
		}
		return true;
	case 7:
		*a = 0;
		*b = 0;
		*c = (sub == 0 && rs->opts->la57) ? (1u << 16) : 0; /* LA57 */
		*d = 0;
		return true;
	case 0x80000000:
		*a = sme ? 0x8000001f : 0x80000008;
		*b = *c = *d = 0;
		return true;
	case 0x80000001:
		*a = *b = *c = 0;
		*d = (1u << 29) | (1u << 20) | (1u << 11); /* LM, NX, SYSCALL */
		return true;
	case 0x80000008:
		*a = EMU_MAXPHYADDR | ((rs->opts->la57 ? 57u : 48u) << 8);
		*b = *c = *d = 0;
		return true;
	case 0x8000001f:
		/* EAX[0] SME; EBX[5:0] C-bit position, EBX[11:6] physical-address reduction. */
		*a = sme ? 1u : 0u;
		*b = sme ? SME_CBIT | (SME_PHYS_REDUCTION << 6) : 0u;
		*c = *d = 0;
		return true;
	default:
		return false; /* Unicorn's own answer */
	}
}

/* The CPU a real x86-64 kernel sees: the 64-bit images' CPU (long mode, NX, LA57 when asked, no
 * SME: vmlinux boots refuse --sme) with a full leaf 1, an Intel part under a hypervisor. Leaf 1
 * has what verify_cpu requires (REQUIRED_MASK0: FPU PSE MSR PAE CX8 PGE CMOV FXSR SSE SSE2)
 * plus what such a CPU has and Unicorn's TCG executes; CPUID.1:ECX[31] (hypervisor) is what a
 * guest sees under QEMU or KVM, and tells the early microcode loader not to try
 * (check_loader_disabled_bsp). Every other leaf is empty, as a CPU answers below its maximum
 * leaves (and, on Intel, above the basic maximum: the highest basic leaf, 0xD, is empty). */
static bool cpuid_real64(const struct run_state *rs, uint32_t leaf, uint32_t sub, uint32_t *a,
			 uint32_t *b, uint32_t *c, uint32_t *d)
{
	if (leaf == 1) {
		*a = 0x50654; /* family 6, model 0x55, stepping 4 */
		*b = (1u << 16) | (8u << 8); /* one logical CPU, CLFLUSH line 8 x 8 bytes, APIC id 0 */
		/* SSE3 SSSE3 CX16 SSE4.1 SSE4.2 POPCNT, hypervisor */
		*c = (1u << 0) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) | (1u << 23) | (1u << 31);
		/* FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH MMX FXSR
		 * SSE SSE2 */
		*d = 0x0789fbff;
		return true;
	}
	if (!cpuid64(rs, leaf, sub, a, b, c, d))
		*a = *b = *c = *d = 0;
	return true;
}

/* The program counter. A UC_MODE_32 engine answers EIP (4 bytes) and leaves RIP untouched. */
static uint64_t read_pc(uc_engine *uc, bool native32)
{
	uint64_t pc = 0;
	uc_reg_read(uc, native32 ? UC_X86_REG_EIP : UC_X86_REG_RIP, &pc);
	return native32 ? (uint32_t)pc : pc;
}

/* bzimage: is this CPUID the kernel's verify_cpu, running at its physical address from the
 * copy the decompressor made? It is if, for P = the 2 MiB-aligned address RIP - verify_cpu
 * rounds down to (CONFIG_PHYSICAL_ALIGN; the decompressor places the kernel at such an
 * address), RIP is within verify_cpu, and initial_code in that image holds
 * x86_64_start_kernel's address slid by a 2 MiB multiple below 1 GiB (the relocated pointer).
 * The decompressor's own verify_cpu runs before the kernel exists and fails the second test. */
static void spot_kernel(struct run_state *rs, uc_engine *uc, uint64_t mem_size)
{
	const struct bz_layout *bz = rs->bz;
	const uint64_t rip = read_pc(uc, false);
	if (rip < bz->verify_cpu)
		return;
	const uint64_t at = rip - bz->verify_cpu, p = at & ~(PMD_SIZE - 1);
	uint8_t ptr[8];
	if (at - p >= 0x400 || p + bz->size > mem_size ||
	    uc_mem_read(uc, p + bz->initial_code, ptr, sizeof(ptr)) != UC_ERR_OK)
		return;
	const uint64_t slide = pt_le_get(ptr, 8) - bz->start_kernel_va;
	if (slide % PMD_SIZE != 0 || slide >= (UINT64_C(1) << 30))
		return;
	rs->kernel_found = true;
	rs->bz_searching = false;
	rs->kernel_pa = p;
	rs->kernel_virt_offset = slide;
	uc_emu_stop(uc);
}

/* CPUID as the image's CPU answers it; leaves neither profile knows keep Unicorn's answer. */
static int on_cpuid(uc_engine *uc, void *user)
{
	struct run_state *rs = user;
	uint32_t leaf = 0, sub = 0, a, b, c, d;
	uc_reg_read(uc, UC_X86_REG_EAX, &leaf);
	uc_reg_read(uc, UC_X86_REG_ECX, &sub);
	const bool known = rs->native32      ? cpuid32(leaf, &a, &b, &c, &d)
			   : rs->real_kernel ? cpuid_real64(rs, leaf, sub, &a, &b, &c, &d)
					     : cpuid64(rs, leaf, sub, &a, &b, &c, &d);
	if (!known)
		return 0;
	uc_reg_write(uc, UC_X86_REG_EAX, &a);
	uc_reg_write(uc, UC_X86_REG_EBX, &b);
	uc_reg_write(uc, UC_X86_REG_ECX, &c);
	uc_reg_write(uc, UC_X86_REG_EDX, &d);
	if (rs->bz_searching)
		spot_kernel(rs, uc, rs->mem_size);
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

/* Write `size` bytes of `value` at `off` of the engine's context blob: state Unicorn has no
 * register id for (ucblob.h). */
static bool patch_context(uc_engine *uc, size_t off, uint64_t value, unsigned size)
{
	uc_context *ctx = NULL;
	if (uc_context_alloc(uc, &ctx) != UC_ERR_OK)
		return false;
	bool ok = off + size <= uc_context_size(uc) && uc_context_save(uc, ctx) == UC_ERR_OK;
	if (ok) {
		pt_le_put((uint8_t *)ctx + off, value, size);
		ok = uc_context_restore(uc, ctx) == UC_ERR_OK;
	}
	uc_context_free(ctx);
	return ok;
}

/* A WRMSR to IA32_EFER about to run: Unicorn's WRMSR changes only the bits its CPU model
 * supports, which leaves out SCE and NXE. A kernel told that NX exists sets NXE and then
 * writes entries with bit 63 (early_pmd_flags), which are reserved-bit faults while NXE is
 * clear. So SCE and NXE are set (or cleared) in the context as EAX asks, just before the
 * instruction; Unicorn's WRMSR then keeps them and does the rest (LME). */
static void prepare_efer_write(struct run_state *rs, uc_engine *uc, uint64_t address)
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
	if (!rs->have_layout || !patch_context(uc, rs->layout.efer, want, 8)) {
		rs->efer_failed = true;
		uc_emu_stop(uc);
	}
}

static void on_code(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct run_state *rs = user;
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
		prepare_efer_write(rs, uc, address);
}


static void on_interrupt(uc_engine *uc, uint32_t intno, void *user)
{
	struct run_state *rs = user;
	uint64_t cr2 = 0;
	rs->faulted = true;
	rs->vector = intno;
	rs->fault_rip = read_pc(uc, rs->native32);
	uc_reg_read(uc, UC_X86_REG_CR2, &cr2);
	rs->fault_cr2 = rs->native32 ? (uint32_t)cr2 : cr2;
	/* The error code is not a register in Unicorn 2.0.1: it is only in the context blob. */
	if (!rs->fault_ctx && uc_context_alloc(uc, &rs->fault_ctx) != UC_ERR_OK)
		rs->fault_ctx = NULL;
	if (rs->fault_ctx)
		uc_context_save(uc, rs->fault_ctx);
	uc_emu_stop(uc);
}

/* ---- the exception error code ------------------------------------------------------------- */

/** The fault's error code as Unicorn pushed it, or false when it cannot be recovered. */
static bool fault_error_code(const struct run_state *rs, uc_engine *uc, uint32_t *code_ret)
{
	struct emu_ucblob_layout layout;
	if (!rs->fault_ctx || !emu_ucblob_layout_get(&layout) || layout.error_code + 4 > uc_context_size(uc))
		return false;
	*code_ret = (uint32_t)pt_le_get((const uint8_t *)rs->fault_ctx + layout.error_code, 4);
	return true;
}

/* ---- placing the images ------------------------------------------------------------------- */

static void place_blob(uint8_t *mem, uint64_t pa, const struct emu_blob *blob)
{
	memcpy(mem + pa, blob->bytes, blob->filesz);
	memset(mem + pa + blob->filesz, 0, blob->memsz - blob->filesz);
}

/* Apply the kernel's relocations for a virtual offset, as the decompressor applies
 * vmlinux.relocs: add the offset to every recorded 64-bit (and 32-bit) field. */
static void relocate(uint8_t *image, const struct emu_blob *blob, uint64_t virt_offset)
{
	for (size_t i = 0; i < blob->nrelocs; i++) {
		uint8_t *p = image + blob->relocs[i].offset;
		unsigned n = blob->relocs[i].size;
		pt_le_put(p, pt_le_get(p, n) + virt_offset, n);
	}
}

/* The zero page: e820 map, the kernel's address (pref_address, where our decompressor stand-in
 * finds it), code32_start (the 32-bit entry the loader jumps to) and, when there is one, the
 * kernel command line (cmd_line_ptr, a physical pointer to a NUL-terminated string). */
static void write_boot_params(uint8_t *mem, uint64_t mem_size, uint64_t kernel_entry_pa,
			      uint64_t code32_start, const char *cmdline)
{
	uint8_t *bp = mem + BOOT_PARAMS_PA;
	memset(bp, 0, 4096);
	if (cmdline) {
		memcpy(mem + CMDLINE_PA, cmdline, strlen(cmdline) + 1);
		pt_le_put(bp + BP_CMD_LINE_PTR, CMDLINE_PA, 4);
	}
	pt_le_put(bp + BP_BOOT_FLAG, 0xaa55, 2);
	memcpy(bp + BP_HEADER, "HdrS", 4);
	pt_le_put(bp + BP_VERSION, 0x020f, 2);
	pt_le_put(bp + BP_PREF_ADDRESS, kernel_entry_pa, 8);
	pt_le_put(bp + BP_CODE32_START, code32_start, 4);
	/* e820: low memory below the EBDA, then everything from 1 MiB. */
	uint8_t *e = bp + BP_E820_TABLE;
	pt_le_put(e + 0, 0, 8);
	pt_le_put(e + 8, 0x9fc00, 8);
	pt_le_put(e + 16, E820_RAM, 4);
	pt_le_put(e + 20, 0x100000, 8);
	pt_le_put(e + 28, mem_size - 0x100000, 8);
	pt_le_put(e + 36, E820_RAM, 4);
	bp[BP_E820_ENTRIES] = 2;
}

/* ---- options ---------------------------------------------------------------------------------- */

/* An i386 kernel (EMU_ENTRY_NATIVE_32): one offset moves the virtual and the physical addresses, as
 * the i386 decompressor applies the relocations for (load address - LOAD_PHYSICAL_ADDR) and
 * i386 KASLR picks the virtual address equal to the physical one. The load address is a
 * multiple of phys_align (CONFIG_PHYSICAL_ALIGN) from LOAD_PHYSICAL_ADDR (the kernel never runs
 * lower), and the kernel with its brk ends in RAM and below KERNEL_IMAGE_SIZE (the window i386
 * KASLR picks from; it also keeps the kernel's page tables below PAGE_OFFSET physically, where
 * the machine's uc mapping of physical memory ends). */
static enum pt_status resolve_layout32(const struct emu_image_def *def, const struct pt_emu_boot_opts *o,
				       uint64_t mem_size, uint64_t *phys_load_ret,
				       uint64_t *virt_offset_ret, struct pt_error *err)
{
	const char *img = def->pub.name;
	const uint64_t base = def->kernel->base_pa; /* LOAD_PHYSICAL_ADDR */
	const uint64_t align = def->phys_align;
	const uint64_t ksize = round_up(def->kernel->memsz, 4096);
	const uint64_t top = mem_size < def->kernel_image_size ? mem_size : def->kernel_image_size;
	uint64_t phys_load = base;

	if (o->has_kaslr_seed) {
		/* A phys_align slot from LOAD_PHYSICAL_ADDR that keeps the kernel below top. */
		if (top < base + ksize)
			return pt_error_set(err, img, UINT64_MAX, "--mem is too small for --kaslr");
		uint64_t state = o->kaslr_seed;
		uint64_t slots = (top - base - ksize) / align + 1;
		phys_load = base + (splitmix64(&state) % slots) * align;
	} else {
		const char *what = "--phys-load";
		uint64_t given = o->phys_load;
		if (o->phys_load)
			phys_load = o->phys_load;
		if (o->has_virt_offset) {
			if (o->phys_load && o->phys_load - base != o->virt_offset)
				return pt_error_set(err, img, UINT64_MAX,
						    "--virt-offset 0x%llx and --phys-load 0x%llx disagree: a "
						    "32-bit kernel moves both by one offset (phys-load = 0x%llx "
						    "+ virt-offset)",
						    (unsigned long long)o->virt_offset,
						    (unsigned long long)o->phys_load, (unsigned long long)base);
			if (o->virt_offset > def->kernel_image_size)
				return pt_error_set(err, img, UINT64_MAX,
						    "--virt-offset 0x%llx: the kernel must end below %llu MiB",
						    (unsigned long long)o->virt_offset,
						    (unsigned long long)(def->kernel_image_size >> 20));
			what = "--virt-offset";
			given = o->virt_offset;
			phys_load = base + o->virt_offset;
		}
		if (phys_load % align != 0 || phys_load < base)
			return pt_error_set(err, img, UINT64_MAX,
					    "%s 0x%llx: a 32-bit kernel loads at a multiple of %llu MiB "
					    "from %llu MiB", what, (unsigned long long)given,
					    (unsigned long long)(align >> 20), (unsigned long long)(base >> 20));
		if (phys_load > mem_size || ksize > mem_size - phys_load)
			return pt_error_set(err, img, UINT64_MAX,
					    "%s 0x%llx: the kernel (0x%llx bytes at 0x%llx) does not fit in "
					    "0x%llx bytes of memory", what, (unsigned long long)given,
					    (unsigned long long)ksize, (unsigned long long)phys_load,
					    (unsigned long long)mem_size);
		if (phys_load + ksize > def->kernel_image_size)
			return pt_error_set(err, img, UINT64_MAX,
					    "%s 0x%llx: the kernel must end below %llu MiB (KERNEL_IMAGE_SIZE)",
					    what, (unsigned long long)given,
					    (unsigned long long)(def->kernel_image_size >> 20));
	}
	*phys_load_ret = phys_load;
	*virt_offset_ret = phys_load - base;
	return PT_OK;
}

/* Resolve phys_load and virt_offset from the options (and the KASLR seed). */
static enum pt_status resolve_layout(const struct emu_image_def *def, const struct pt_emu_boot_opts *o,
				     uint64_t mem_size, uint64_t *phys_load_ret,
				     uint64_t *virt_offset_ret, struct pt_error *err)
{
	const char *img = def->pub.name;
	const uint64_t ksize = def->kernel ? round_up(def->kernel->memsz, PMD_SIZE) : 0;
	uint64_t phys_load = o->phys_load ? o->phys_load : def->default_phys_load;
	uint64_t virt_offset = o->has_virt_offset ? o->virt_offset : 0;

	if ((o->phys_load || o->has_kaslr_seed) && !(def->pub.options & PT_EMU_OPT_PHYS_LOAD))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --phys-load or --kaslr");
	if ((o->has_virt_offset || o->has_kaslr_seed) && !(def->pub.options & PT_EMU_OPT_VIRT_OFFSET))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --virt-offset or --kaslr");
	if (o->la57 && !(def->pub.options & PT_EMU_OPT_LA57))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --la57");
	if (o->sme && !(def->pub.options & PT_EMU_OPT_SME))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --sme");
	if (o->pti && !(def->pub.options & PT_EMU_OPT_PTI))
		return pt_error_set(err, img, UINT64_MAX, "this image does not take --pti");
	if (o->has_kaslr_seed && (o->phys_load || o->has_virt_offset))
		return pt_error_set(err, img, UINT64_MAX, "--kaslr picks both offsets: drop --phys-load/--virt-offset");
	if (def->entry == EMU_ENTRY_NATIVE_32)
		return resolve_layout32(def, o, mem_size, phys_load_ret, virt_offset_ret, err);

	if (o->has_kaslr_seed) {
		/* As the kernel's KASLR does: a 2 MiB-aligned physical slot at or above 16 MiB inside
		 * RAM, and a 2 MiB-aligned virtual slide that keeps the image inside the kernel's
		 * virtual window (here level2_kernel_pgt's 512 MiB). */
		uint64_t state = o->kaslr_seed;
		const uint64_t lowest = 0x1000000;
		if (mem_size < lowest + ksize)
			return pt_error_set(err, img, UINT64_MAX, "--mem is too small for --kaslr");
		uint64_t pslots = (mem_size - lowest - ksize) / PMD_SIZE + 1;
		phys_load = lowest + (splitmix64(&state) % pslots) * PMD_SIZE;
		uint64_t vslots = (def->kernel_image_size - (def->kernel->base_pa + ksize)) / PMD_SIZE + 1;
		virt_offset = (splitmix64(&state) % vslots) * PMD_SIZE;
	}
	if (def->kernel) {
		if (phys_load % PMD_SIZE != 0 || phys_load < PMD_SIZE)
			return pt_error_set(err, img, UINT64_MAX,
					    "--phys-load 0x%llx is not a 2 MiB-aligned address above 2 MiB",
					    (unsigned long long)phys_load);
		if (phys_load > mem_size || ksize > mem_size - phys_load)
			return pt_error_set(err, img, UINT64_MAX,
					    "--phys-load 0x%llx: the kernel (0x%llx bytes) does not fit in "
					    "0x%llx bytes of memory",
					    (unsigned long long)phys_load, (unsigned long long)ksize,
					    (unsigned long long)mem_size);
		if (virt_offset % PMD_SIZE != 0 ||
		    virt_offset > def->kernel_image_size - (def->kernel->base_pa + ksize))
			return pt_error_set(err, img, UINT64_MAX,
					    "--virt-offset 0x%llx: must be a multiple of 2 MiB keeping "
					    "the image inside the %llu MiB kernel window",
					    (unsigned long long)virt_offset,
					    (unsigned long long)(def->kernel_image_size >> 20));
	}
	*phys_load_ret = phys_load;
	*virt_offset_ret = virt_offset;
	return PT_OK;
}

/* ---- boot --------------------------------------------------------------------------------------- */

static enum pt_status unicorn_fail(struct pt_error *err, const char *img, const char *what, uc_err e)
{
	return pt_error_set(err, img, UINT64_MAX, "unicorn: %s: %s", what, uc_strerror(e));
}

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
		return unicorn_fail(err, img, "map physical memory", e);
	if (def->kernel) {
		/* The kernel at its run-time virtual address: the same host memory again. */
		uint64_t va = def->kernel->base_va + m->result.virt_offset;
		uint64_t size = round_up(def->kernel->memsz, 4096);
		if ((e = uc_mem_map_ptr(uc, va, size, UC_PROT_ALL, m->mem + m->result.phys_load)) != UC_ERR_OK)
			return unicorn_fail(err, img, "alias the kernel at its virtual address", e);
	}
	if (m->is_vmlinux || m->is_bzimage) {
		/* A real kernel reads boot_params and builds page tables through the direct map
		 * (__va) before start_kernel: physical memory again at page_offset_base. */
		const uint64_t base = m->vm_la57 ? DIRECT_MAP_L5 : DIRECT_MAP_L4;
		if ((e = uc_mem_map_ptr(uc, base, m->mem_size, UC_PROT_ALL, m->mem)) != UC_ERR_OK)
			return unicorn_fail(err, img, "alias physical memory at the direct map", e);
	}
	if (sme) {
		/* Physical memory again at C-bit | PA, where Unicorn's page walk loads tables that
		 * entries (and CR3) carrying the C-bit point to (see SME_CBIT). */
		e = uc_mem_map_ptr(uc, UINT64_C(1) << SME_CBIT, m->mem_size, UC_PROT_ALL, m->mem);
		if (e != UC_ERR_OK)
			return unicorn_fail(err, img, "alias physical memory at the SME C-bit", e);
	}
	uint64_t rsp = BOOT_PARAMS_PA - 16;
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
		return unicorn_fail(err, img, "map physical memory", e);
	if ((e = uc_mem_map_ptr(uc, def->page_offset, alias_span, UC_PROT_ALL, m->mem)) != UC_ERR_OK)
		return unicorn_fail(err, img, "alias lowmem at PAGE_OFFSET", e);

	/* The boot GDT: null, null, __BOOT_CS, __BOOT_DS. */
	uint8_t *gdt = m->mem + BOOT_GDT_PA;
	memset(gdt, 0, 4 * 8);
	pt_le_put(gdt + BOOT_CS, FLAT_CODE32, 8);
	pt_le_put(gdt + BOOT_DS, FLAT_DATA32, 8);
	uc_x86_mmr gdtr = { .base = BOOT_GDT_PA, .limit = 4 * 8 - 1 };
	if ((e = uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr)) != UC_ERR_OK)
		return unicorn_fail(err, img, "load GDTR", e);
	/* CR0: PE (and ET) on, PG off. The 32-bit engine starts that way (CR0 = 0x11); say so. */
	uint64_t cr0 = 0;
	uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
	uint32_t cr0_32 = (uint32_t)((cr0 | CR0_PE | CR0_ET) & ~CR0_PG);
	if ((e = uc_reg_write(uc, UC_X86_REG_CR0, &cr0_32)) != UC_ERR_OK)
		return unicorn_fail(err, img, "write CR0", e);
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
			return unicorn_fail(err, img, "load a segment register from the boot GDT", e);
	}
	const struct {
		int reg;
		uint32_t value;
	} regs[] = {
		{ UC_X86_REG_ESI, (uint32_t)BOOT_PARAMS_PA },
		{ UC_X86_REG_EBP, 0 }, { UC_X86_REG_EDI, 0 }, { UC_X86_REG_EBX, 0 },
		{ UC_X86_REG_EFLAGS, 0x2 }, /* IF = 0 */
	};
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint32_t v = regs[i].value;
		if ((e = uc_reg_write(uc, regs[i].reg, &v)) != UC_ERR_OK)
			return unicorn_fail(err, img, "set the boot protocol's registers", e);
	}
	return PT_OK;
}

/* ---- what the machine does for a real kernel --------------------------------------------- */

enum { VECTOR_PF = 14 };
static const uint64_t RFLAGS_TF = 1u << 8, RFLAGS_IF = 1u << 9, RFLAGS_NT = 1u << 14,
		      RFLAGS_RF = 1u << 16, RFLAGS_VM = 1u << 17;

/* A #PF delivered as the CPU delivers it in 64-bit mode (SDM Vol. 3A 6.14.1-6.14.2): the IDT
 * gate of vector 14, no privilege change (the kernel runs at CPL 0; early handlers use no
 * IST), RSP aligned down to 16, then SS, RSP, RFLAGS, CS, RIP of the faulting instruction and
 * the error code pushed; an interrupt gate clears IF; TF, NT, RF and VM cleared. Unicorn
 * reports the fault to UC_HOOK_INTR and never enters the handler: head_64's early handler
 * (early_idt_handler_array, then early_make_pgtable) builds the missing mapping and IRETQs. */
static enum pt_status deliver_page_fault(struct pt_emu_machine *m, struct run_state *rs, uc_engine *uc,
					 uint64_t *pc, struct pt_error *err)
{
	const char *img = m->def->pub.name;
	uint32_t code = 0;
	char where[160];
	describe_address(m, rs->fault_rip, where, sizeof(where));
	if (!fault_error_code(rs, uc, &code))
		return pt_error_set(err, img, UINT64_MAX, "#PF at %s (CR2 0x%llx): its error code "
				    "cannot be read from Unicorn", where, (unsigned long long)rs->fault_cr2);
	if (++m->result.page_faults > MAX_PAGE_FAULTS)
		return pt_error_set(err, img, UINT64_MAX, "more than %u page faults: the kernel's #PF "
				    "handler loops (last at %s, CR2 0x%llx, error code 0x%x)",
				    MAX_PAGE_FAULTS, where, (unsigned long long)rs->fault_cr2, code);

	uc_x86_mmr idtr = { 0 };
	uint8_t gate[16];
	uc_reg_read(uc, UC_X86_REG_IDTR, &idtr);
	if (idtr.limit < VECTOR_PF * 16 + 15 ||
	    uc_mem_read(uc, idtr.base + VECTOR_PF * 16, gate, sizeof(gate)) != UC_ERR_OK)
		return pt_error_set(err, img, UINT64_MAX, "#PF at %s (CR2 0x%llx, error code 0x%x) "
				    "before the kernel loaded an IDT with a #PF gate (IDTR 0x%llx limit "
				    "0x%x)", where, (unsigned long long)rs->fault_cr2, code,
				    (unsigned long long)idtr.base, idtr.limit);
	const unsigned type = gate[5] & 0xf, ist = gate[4] & 7;
	if (!(gate[5] & 0x80) || (type != 0xe && type != 0xf) || ist != 0)
		return pt_error_set(err, img, UINT64_MAX, "#PF at %s (CR2 0x%llx): IDT gate 14 at 0x%llx "
				    "is not a present interrupt/trap gate without IST (bytes 4-5: "
				    "0x%02x 0x%02x)", where, (unsigned long long)rs->fault_cr2,
				    (unsigned long long)(idtr.base + VECTOR_PF * 16), gate[4], gate[5]);
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
static enum pt_status kernel_starts(struct pt_emu_machine *m, struct run_state *rs, uc_engine *uc,
				    uc_hook *h_code, uint64_t *stop, struct pt_error *err)
{
	const struct bz_layout *bz = &m->bz_layout;
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
	if ((e = uc_mem_map_ptr(uc, bz->text + rs->kernel_virt_offset, round_up(bz->size, 4096), UC_PROT_ALL,
				m->mem + rs->kernel_pa)) != UC_ERR_OK)
		return unicorn_fail(err, img, "alias the kernel at its virtual address", e);
	if ((e = uc_hook_add(uc, h_code, UC_HOOK_CODE, (void *)on_code, rs, 1, 0)) != UC_ERR_OK)
		return unicorn_fail(err, img, "hook", e);
	uc_ctl_flush_tlb(uc); /* UC_CTL_TB_FLUSH: translation blocks, not the TLB */
	if (pt_symtab_value(m->symbols, "__startup_64", &startup64))
		rs->startup64_pa = rs->kernel_pa + (startup64 - bz->text);
	pt_symtab_value(m->symbols, VMLINUX_STOP, &start_kernel);
	*stop = start_kernel + rs->kernel_virt_offset;
	return PT_OK;
}

/* Run the image in Unicorn from `start` to `stop`; fills m->result.cpu. */
static enum pt_status run(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
			  uint64_t start, uint64_t stop, struct pt_error *err)
{
	const struct emu_image_def *def = m->def;
	const char *img = def->pub.name;
	const bool native32 = def->entry == EMU_ENTRY_NATIVE_32;
	struct run_state rs = { .opts = opts, .native32 = native32, .emulate_syscfg = !native32 && opts->sme,
				.real_kernel = m->is_vmlinux || m->is_bzimage,
				.bz_searching = m->is_bzimage, .bz = &m->bz_layout, .mem_size = m->mem_size,
				.budget = opts->insn_budget ? opts->insn_budget
					  : m->is_vmlinux || m->is_bzimage ? VMLINUX_BUDGET : DEFAULT_BUDGET };
	enum pt_status st = PT_EINVAL;
	uc_engine *uc = NULL;
	uc_hook h_cpuid, h_code, h_intr;
	uc_err e;

	if ((e = uc_open(UC_ARCH_X86, native32 ? UC_MODE_32 : UC_MODE_64, &uc)) != UC_ERR_OK)
		return unicorn_fail(err, img, "open", e);
	rs.uc = uc;
	st = native32 ? setup_engine32(m, uc, err) : setup_engine64(m, uc, opts->sme, err);
	if (st != PT_OK)
		goto out;
	/* bzimage: no per-instruction hook while the decompressor runs (it executes billions of
	 * instructions); it is added when the kernel starts (kernel_starts). */
	if ((e = uc_hook_add(uc, &h_cpuid, UC_HOOK_INSN, (void *)on_cpuid, &rs, 1, 0, UC_X86_INS_CPUID)) ||
	    (!m->is_bzimage && (e = uc_hook_add(uc, &h_code, UC_HOOK_CODE, (void *)on_code, &rs, 1, 0))) ||
	    (e = uc_hook_add(uc, &h_intr, UC_HOOK_INTR, (void *)on_interrupt, &rs, 1, 0))) {
		st = unicorn_fail(err, img, "hook", e);
		goto out;
	}

	rs.have_layout = rs.real_kernel && emu_ucblob_layout_get(&rs.layout);
	uint64_t startup64;
	if (m->is_vmlinux && pt_symtab_value(m->symbols, "__startup_64", &startup64) &&
	    startup64 >= def->kernel->base_va && startup64 - def->kernel->base_va < def->kernel->memsz)
		rs.startup64_pa = m->result.phys_load + (startup64 - def->kernel->base_va);

	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	/* A real kernel's run is a loop: Unicorn stops for what it does not do as a CPU would
	 * (a WRMSR to EFER, a #PF to deliver through the kernel's IDT) and the machine does it. */
	uint64_t pc = start;
	for (;;) {
		e = uc_emu_start(uc, pc, stop, rs.bz_searching ? BZIMAGE_TIMEOUT_US : 0, 0);
		if (e != UC_ERR_OK || rs.budget_spent)
			break;
		if (rs.efer_failed) {
			st = pt_error_set(err, img, UINT64_MAX, "unicorn: cannot set IA32_EFER.NXE (no "
					  "EFER in the context blob)");
			goto out;
		}
		if (rs.kernel_found) {
			rs.kernel_found = false;
			if ((st = kernel_starts(m, &rs, uc, &h_code, &stop, err)) != PT_OK)
				goto out;
			pc = read_pc(uc, false);
		} else if (rs.faulted && rs.real_kernel && rs.vector == VECTOR_PF) {
			if ((st = deliver_page_fault(m, &rs, uc, &pc, err)) != PT_OK)
				goto out;
		} else {
			break;
		}
		/* Nothing is in flight when the run resumes: the #PF was delivered, and a run that
		 * stops walks the `until` address again, which faults while it is unmapped and leaves
		 * Unicorn's double-fault bookkeeping set (the next #PF would be a #DF, ucblob.h). */
		if (!rs.have_layout || !patch_context(uc, rs.layout.old_exception, UINT32_MAX, 4)) {
			st = pt_error_set(err, img, UINT64_MAX, "unicorn: cannot clear the exception in flight");
			goto out;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	m->result.seconds = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
	m->result.insns = rs.insns;

	uint64_t rip = read_pc(uc, native32);
	char where[160];
	if (rs.bz_searching && !rs.faulted && e == UC_ERR_OK) {
		st = pt_error_set(err, img, UINT64_MAX, "the decompressor did not start the kernel within "
				  "%llu s (stopped at 0x%llx)", (unsigned long long)(BZIMAGE_TIMEOUT_US / 1000000),
				  (unsigned long long)rip);
		goto out;
	}
	if (rs.faulted) {
		describe_address(m, rs.fault_rip, where, sizeof(where));
		uint32_t code = 0;
		if (fault_error_code(&rs, uc, &code))
			st = pt_error_set(err, img, UINT64_MAX,
					  "boot code raised vector %u, error code 0x%x, at %s (CR2 0x%llx)",
					  rs.vector, code, where, (unsigned long long)rs.fault_cr2);
		else
			st = pt_error_set(err, img, UINT64_MAX,
					  "boot code raised vector %u at %s (CR2 0x%llx; error code unknown)",
					  rs.vector, where, (unsigned long long)rs.fault_cr2);
		goto out;
	}
	if (rs.budget_spent) {
		describe_address(m, rip, where, sizeof(where));
		st = pt_error_set(err, img, UINT64_MAX,
				  "instruction budget of %llu spent before the stop point, at %s",
				  (unsigned long long)rs.budget, where);
		goto out;
	}
	if (e != UC_ERR_OK) {
		describe_address(m, rip, where, sizeof(where));
		st = pt_error_set(err, img, UINT64_MAX, "unicorn stopped at %s: %s", where, uc_strerror(e));
		goto out;
	}
	if (rip != stop) {
		describe_address(m, rip, where, sizeof(where));
		st = pt_error_set(err, img, UINT64_MAX, "boot code stopped at %s, not at %s", where,
				  def->stop_symbol);
		goto out;
	}
	if (rs.real_kernel) {
		m->result.verify_cpu_checked = rs.verify_cpu_seen;
		if (rs.verify_cpu_seen && rs.verify_cpu_rax != 0) {
			st = pt_error_set(err, img, UINT64_MAX,
					  "verify_cpu rejected the emulated CPU (returned %llu): the "
					  "CPUID answers lack a feature the kernel requires",
					  (unsigned long long)rs.verify_cpu_rax);
			goto out;
		}
	}

	struct pt_cpu_state *cpu = &m->result.cpu;
	memset(cpu, 0, sizeof(*cpu));
	uc_x86_msr efer = { .rid = 0xc0000080 };
	uc_reg_read(uc, UC_X86_REG_CR0, &cpu->cr0);
	uc_reg_read(uc, UC_X86_REG_CR3, &cpu->cr3);
	uc_reg_read(uc, UC_X86_REG_CR4, &cpu->cr4);
	uc_reg_read(uc, native32 ? UC_X86_REG_EFLAGS : UC_X86_REG_RFLAGS, &cpu->rflags);
	uc_reg_read(uc, UC_X86_REG_MSR, &efer);
	if (native32) {
		/* The 32-bit engine stores 4 bytes into these (the rest stayed zero): keep exactly
		 * the architectural 32 bits. */
		cpu->cr0 = (uint32_t)cpu->cr0;
		cpu->cr3 = (uint32_t)cpu->cr3;
		cpu->cr4 = (uint32_t)cpu->cr4;
		cpu->rflags = (uint32_t)cpu->rflags;
	}
	cpu->efer = efer.value;
	cpu->maxphyaddr = EMU_MAXPHYADDR;
	/* With SYSCFG.MemEncryptionModeEn set the C-bit is live: the walker (and the PTLAB note of
	 * the dump) strip it. */
	cpu->cbit = opts->sme ? (uint8_t)SME_CBIT : 0;
	m->result.stop_rip = rip;
	st = PT_OK;
out:
	if (rs.fault_ctx)
		uc_context_free(rs.fault_ctx);
	uc_close(uc);
	return st;
}

/* vmlinux:PATH: load the kernel and make its manifest entry. It is entered like linux64, through
 * the built-in decompressor stage (the 32-bit boot protocol, then the identity map and long
 * mode the 64-bit boot protocol promises startup_64, with 5-level tables when CPUID reports
 * LA57, since 6.1's __startup_64 takes 5-level paging from CR4.LA57 as the decompressor left
 * it), and stops at start_kernel. */
static enum pt_status vmlinux_prepare(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
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
	if (!pt_symtab_value(opts->symbols, VMLINUX_STOP, &stop) || stop < k->base_va ||
	    stop - k->base_va >= k->memsz)
		return pt_error_set(err, spath, UINT64_MAX, "no %s inside %s's image (0x%llx, 0x%llx "
				    "bytes): not this kernel's symbols", VMLINUX_STOP, path,
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
	m->vm_def = (struct emu_image_def){
		.pub = {
			.name = "vmlinux",
			.description = "a real x86-64 kernel: its own startup_64, __startup_64 and "
				       "x86_64_start_kernel, to start_kernel",
			.paging = PT_MODE_IA32E,
			.options = PT_EMU_OPT_PHYS_LOAD | PT_EMU_OPT_LA57,
		},
		.entry = EMU_ENTRY_PROTECTED_32,
		.first = &emu_blob_decomp64,
		.first_pa = 0x100000,
		.kernel = k,
		.default_phys_load = k->base_pa,
		.stop_blob = NULL,
		.stop_symbol = VMLINUX_STOP,
		/* KERNEL_IMAGE_SIZE with KASLR (arch/x86/include/asm/page_64_types.h). */
		.kernel_image_size = UINT64_C(1) << 30,
		.expect = "CR3 = early_top_pgt; __START_KERNEL_map + x -> load address + x over the "
			  "image; init_top_pgt[511] = early_top_pgt[511]",
	};
	m->def = &m->vm_def;
	return PT_OK;
}

/* bzimage:PATH: the bzImage's protected-mode part is the first stage, placed at 1 MiB and entered
 * at code32_start per the 32-bit boot protocol with its setup header in boot_params, so Linux's
 * own decompressor runs: it relocates itself, builds its page tables (on demand, through its #PF
 * handler), picks the KASLR slots unless the command line says nokaslr, extracts and relocates the
 * kernel and jumps to it; the kernel then runs as for vmlinux:PATH. */
static enum pt_status bzimage_prepare(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
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
	static const char *const need[] = { "_text", "_end", "verify_cpu", "initial_code",
					    "x86_64_start_kernel", VMLINUX_STOP };
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
	m->bz_layout = (struct bz_layout){ .text = v[0], .size = v[1] - v[0], .verify_cpu = v[2] - v[0],
					   .initial_code = v[3] - v[0], .start_kernel_va = v[4] };
	m->symbols = opts->symbols;
	m->is_bzimage = true;
	m->vm_la57 = opts->la57;
	m->vm_def = (struct emu_image_def){
		.pub = {
			.name = "bzimage",
			.description = "a real x86-64 bzImage: Linux's own decompressor (KASLR, "
				       "extraction, relocation), then startup_64 to start_kernel",
			.paging = PT_MODE_IA32E,
			.options = PT_EMU_OPT_LA57,
		},
		.entry = EMU_ENTRY_PROTECTED_32,
		.first = &m->bz.blob,
		.first_pa = m->bz.blob.base_pa,
		.kernel = NULL, /* placed by the decompressor: kernel_starts */
		.stop_symbol = VMLINUX_STOP,
		.kernel_image_size = UINT64_C(1) << 30,
		.expect = "as vmlinux, at the slots the decompressor picked",
	};
	m->def = &m->vm_def;
	return PT_OK;
}

/* boot_params for a bzImage, as a boot loader fills them (Documentation/x86/boot.rst): the setup
 * header copied from the image, type_of_loader "undefined" (0xff), code32_start, the command
 * line; the e820 map stays as write_boot_params made it. */
static void bzimage_boot_params(struct pt_emu_machine *m, const char *cmdline)
{
	uint8_t *bp = m->mem + BOOT_PARAMS_PA;
	memcpy(bp + 0x1f1, m->bz.hdr, m->bz.hdr_len);
	bp[BP_TYPE_OF_LOADER] = 0xff;
	pt_le_put(bp + BP_CODE32_START, m->bz.blob.base_pa, 4);
	memset(m->mem + CMDLINE_PA, 0, 256);
	memcpy(m->mem + CMDLINE_PA, cmdline, strlen(cmdline) + 1);
	pt_le_put(bp + BP_CMD_LINE_PTR, CMDLINE_PA, 4);
}

enum pt_status pt_emu_boot(const struct pt_emu_boot_opts *opts, struct pt_emu_machine **machine_ret,
			   struct pt_emu_boot_result *result_ret, struct pt_error *err)
{
	*machine_ret = NULL;
	const bool bzimage = opts->image && strncmp(opts->image, PT_EMU_BZIMAGE_PREFIX,
						     strlen(PT_EMU_BZIMAGE_PREFIX)) == 0;
	const bool vmlinux = bzimage || (opts->image && strncmp(opts->image, PT_EMU_VMLINUX_PREFIX,
								 strlen(PT_EMU_VMLINUX_PREFIX)) == 0);
	const struct emu_image_def *def = vmlinux ? NULL
				      : opts->image ? emu_images_find(opts->image) : emu_images_manifest(&(size_t){ 0 });
	if (!def && !vmlinux)
		return pt_error_set(err, opts->image, UINT64_MAX, "no such image (see 'ptlab images')");
	const char *img = vmlinux ? opts->image : def->pub.name;
	const uint64_t mem_size = opts->mem_size ? opts->mem_size : DEFAULT_MEM;
	if (mem_size < (UINT64_C(32) << 20) || mem_size > (UINT64_C(4) << 30) || mem_size % 4096)
		return pt_error_set(err, img, UINT64_MAX,
				    "--mem 0x%llx: must be a multiple of 4 KiB from 32 MiB to 4 GiB",
				    (unsigned long long)mem_size);

	struct pt_emu_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return pt_error_set(err, img, UINT64_MAX, "out of memory");
	enum pt_status st;
	if (vmlinux) {
		if ((st = bzimage ? bzimage_prepare(m, opts, err) : vmlinux_prepare(m, opts, err)) != PT_OK)
			goto fail;
		def = m->def;
	}
	m->def = def;
	m->mem_size = mem_size;
	m->result.image = &def->pub;
	st = resolve_layout(def, opts, mem_size, &m->result.phys_load, &m->result.virt_offset, err);
	if (st != PT_OK)
		goto fail;
	m->mem = calloc(1, mem_size);
	if (!m->mem) {
		st = pt_error_set(err, img, UINT64_MAX, "cannot allocate 0x%llx bytes of memory",
				  (unsigned long long)mem_size);
		goto fail;
	}
	pt_flat_mem_init(&m->flat, m->mem, mem_size);

	/* Physical layout: the shim at 4 KiB (the boot GDT at 20 KiB for a native 32-bit entry),
	 * boot_params at 28 KiB, the command line (--pti) at 32 KiB, the first stage at 1 MiB, the
	 * kernel at its load address. */
	uint64_t kernel_entry = 0, start;
	if (def->kernel) {
		place_blob(m->mem, m->result.phys_load, def->kernel);
		relocate(m->mem + m->result.phys_load, def->kernel, m->result.virt_offset);
		kernel_entry = m->result.phys_load + (def->kernel->entry - def->kernel->base_pa);
		m->result.phys_offset = m->result.phys_load - def->kernel->base_pa;
	}
	if (def->entry == EMU_ENTRY_NATIVE_32) {
		/* Straight into startup_32 at its physical address (code32_start). */
		start = kernel_entry;
		write_boot_params(m->mem, mem_size, kernel_entry, start, NULL);
	} else {
		place_blob(m->mem, SHIM_PA, &emu_blob_entry32);
		place_blob(m->mem, def->first_pa, def->first);
		uint64_t first_entry = def->first_pa + (def->first->entry - def->first->base_va);
		write_boot_params(m->mem, mem_size, kernel_entry, first_entry,
				  opts->pti ? PTI_CMDLINE : NULL);
		uint64_t slot;
		if (m->is_bzimage)
			bzimage_boot_params(m, opts->cmdline ? opts->cmdline : "");
		emu_blob_symbol(&emu_blob_entry32, "boot_params_slot", &slot);
		pt_le_put(m->mem + slot, BOOT_PARAMS_PA, 4);
		emu_blob_symbol(&emu_blob_entry32, "entry_slot", &slot);
		pt_le_put(m->mem + slot, first_entry, 4);
		start = SHIM_PA;
	}

	for (size_t i = 0; i < opts->npatches; i++) {
		const struct pt_emu_patch *p = &opts->patches[i];
		if (p->size < 1 || p->size > 8 || p->pa > mem_size || p->size > mem_size - p->pa) {
			st = pt_error_set(err, img, UINT64_MAX, "patch %zu: %u bytes at 0x%llx are not in "
					  "memory", i, p->size, (unsigned long long)p->pa);
			goto fail;
		}
		pt_le_put(m->mem + p->pa, p->value, p->size);
	}

	/* The stop point, at its run-time address. */
	uint64_t stop_sym;
	if (m->is_vmlinux || m->is_bzimage) {
		/* checked by vmlinux_prepare / bzimage_prepare; a bzImage's slide is known later */
		pt_symtab_value(m->symbols, def->stop_symbol, &stop_sym);
	} else if (!emu_blob_symbol(def->stop_blob, def->stop_symbol, &stop_sym)) {
		st = pt_error_set(err, img, UINT64_MAX, "stop symbol %s missing", def->stop_symbol);
		goto fail;
	}
	uint64_t stop = m->is_vmlinux || m->is_bzimage || def->stop_blob == def->kernel ? stop_sym + m->result.virt_offset
						      : def->first_pa + (stop_sym - def->first->base_va);

	/* From here on a failure is the boot's, not the inputs' (pt_emu_boot's contract). */
	st = run(m, opts, start, stop, err);
	if (st != PT_OK) {
		st = PT_FAULT;
		goto fail;
	}
	/* The stop point must be in the paging mode the image promises: an image that never
	 * turned paging on still "runs" here, because the kernel is aliased at its VA. */
	struct pt_context ctx;
	enum pt_mode want = def->pub.paging == PT_MODE_IA32E && opts->la57 ? PT_MODE_LA57 : def->pub.paging;
	if (pt_context_init(&ctx, &m->result.cpu, &m->flat.mem, NULL, NULL) != PT_OK || ctx.mode != want) {
		pt_error_set(err, img, UINT64_MAX,
				  "stopped at %s in paging mode %s (CR0 0x%llx CR4 0x%llx EFER 0x%llx), "
				  "expected %s", def->stop_symbol, pt_mode_name(ctx.mode),
				  (unsigned long long)m->result.cpu.cr0, (unsigned long long)m->result.cpu.cr4,
				  (unsigned long long)m->result.cpu.efer, pt_mode_name(want));
		st = PT_FAULT;
		goto fail;
	}
	m->result.paging = ctx.mode;
	*result_ret = m->result;
	*machine_ret = m;
	return PT_OK;
fail:
	pt_emu_destroy(m);
	return st;
}

void pt_emu_destroy(struct pt_emu_machine *m)
{
	if (!m)
		return;
	emu_vmlinux_unload(&m->vmlinux);
	emu_bzimage_unload(&m->bz);
	free(m->mem);
	free(m);
}

const struct pt_mem *pt_emu_mem(const struct pt_emu_machine *m)
{
	return &m->flat.mem;
}

uint64_t pt_emu_mem_size(const struct pt_emu_machine *m)
{
	return m->mem_size;
}

enum pt_status pt_emu_write_core(const struct pt_emu_machine *m, const char *path,
				 struct pt_error *err)
{
	/* All of RAM in one PT_LOAD, as QEMU's dump-guest-memory writes it, so that "not in dump"
	 * keeps meaning "outside RAM". The PTLAB note adds EFER, MAXPHYADDR and the SME C-bit
	 * (result.cpu.cbit), so that translate/maps strip it. */
	const struct pt_core_segment seg = { 0, m->mem_size, m->mem };
	const struct pt_core_desc desc = {
		.machine = m->result.paging == PT_MODE_LEGACY || m->result.paging == PT_MODE_PAE ? 3 : 62,
		.segments = &seg,
		.nsegments = 1,
		.cpu = &m->result.cpu,
		.ptlab_note = true,
	};
	return pt_core_write(path, &desc, err);
}

enum pt_status pt_emu_print_symbols(const struct pt_emu_machine *m, FILE *out)
{
	if (m->symbols) {
		/* A real kernel: the table it was booted with, as a System.map. */
		for (size_t i = 0; i < pt_symtab_count(m->symbols); i++) {
			const struct pt_symbol *s = pt_symtab_at(m->symbols, i);
			if (fprintf(out, "%016llx %c %s\n", (unsigned long long)s->value, s->type, s->name) < 0)
				return PT_EINVAL;
		}
		return PT_OK;
	}
	const struct emu_blob *blob = m->def->kernel ? m->def->kernel : m->def->first;
	/* An i386 System.map prints 8 hex digits, an x86-64 one 16. */
	const int width = m->def->entry == EMU_ENTRY_NATIVE_32 ? 8 : 16;
	for (size_t i = 0; i < blob->nsyms; i++) {
		if (fprintf(out, "%0*llx %c %s\n", width, (unsigned long long)blob->syms[i].value,
			    blob->syms[i].type, blob->syms[i].name) < 0)
			return PT_EINVAL;
	}
	return PT_OK;
}

enum pt_status pt_emu_write_symbols(const struct pt_emu_machine *m, const char *path,
				    struct pt_error *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return pt_error_set(err, path, UINT64_MAX, "cannot create: %s", strerror(errno));
	const enum pt_status st = pt_emu_print_symbols(m, f);
	if (fclose(f) != 0 || st != PT_OK)
		return pt_error_set(err, path, UINT64_MAX, "write failed");
	return PT_OK;
}

bool pt_emu_symbol(const struct pt_emu_machine *m, const char *name, uint64_t *value_ret)
{
	if (m->symbols)
		return pt_symtab_value(m->symbols, name, value_ret);
	const struct emu_blob *blob = m->def->kernel ? m->def->kernel : m->def->first;
	return emu_blob_symbol(blob, name, value_ret);
}
