/* SPDX-License-Identifier: MIT */
/*
 * emu/machine_cpuid.c: the CPUs the boot images see. Unicorn's CPUID is fixed when the engine is
 * made, so the machine's CPUID hook (machine_run.c) answers the leaves an image checks from one
 * of three models (SDM Vol. 2A, CPUID; AMD APM vol. 3, CPUID Fn8000_001F); a leaf the model does
 * not know keeps Unicorn's answer.
 *
 * SME (--sme): the C-bit position CPUID 0x8000001F EBX[5:0] reports. Real AMD parts put it at 47
 * (or 51) with MAXPHYADDR 48 (52), but Unicorn 2.0.1's MMU has a fixed MAXPHYADDR of 40 and knows
 * nothing of SME: a C-bit at 40 or above is a reserved bit to it (every walk would #PF(RSVD)), so
 * it must sit below 40. Bit 39 is the highest that works: to Unicorn it is an ordinary address
 * bit, so the page-walk loads of tables reached through entries (and CR3) carrying it go to the
 * physical address (1 << 39) | PA, where the machine maps the same host memory once more (the
 * data accesses after a walk use the virtual address anyway, ../shared/notes/unicorn-2.0.1.md).
 * The physical-address reduction EBX[11:6] is 1: with SME on, bit 39 is no longer an address
 * bit, which leaves 39 (0x80000008 still reports the unreduced 40, as AMD's CPUs do). Memory is
 * at most 4 GiB, far below 1 << 39.
 */
#include "machine.h"

#include "ptlab/le.h"

enum { EAX = 0, EBX = 1, ECX = 2, EDX = 3 };

static const unsigned SME_PHYS_REDUCTION = 1;

/* CPUID.01H:EDX of the 32-bit CPU: FPU, PSE, TSC, MSR, PAE, CX8, SEP, PGE, CMOV, PAT, PSE-36,
 * MMX, FXSR, SSE, SSE2 (a Pentium M-like part). */
static const uint32_t CPU32_LEAF1_EDX = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |
					(1u << 8) | (1u << 11) | (1u << 13) | (1u << 15) | (1u << 16) |
					(1u << 17) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26);

/* Leaf 0: the highest basic leaf, and the vendor string in EBX, EDX, ECX (that order). */
static void leaf0(uint32_t regs[4], uint32_t max_leaf, const char vendor[12])
{
	regs[EAX] = max_leaf;
	regs[EBX] = (uint32_t)pt_le_get((const uint8_t *)vendor, 4);
	regs[EDX] = (uint32_t)pt_le_get((const uint8_t *)vendor + 4, 4);
	regs[ECX] = (uint32_t)pt_le_get((const uint8_t *)vendor + 8, 4);
}

static void set_regs(uint32_t regs[4], uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	regs[EAX] = a;
	regs[EBX] = b;
	regs[ECX] = c;
	regs[EDX] = d;
}

/* The CPU an i386 kernel sees: PAE, PSE and PGE, no long mode and no NX (Unicorn 2.0.1 cannot set
 * EFER.NXE, so a kernel must not be told it may); MAXPHYADDR as Unicorn enforces it. */
static bool cpuid32(uint32_t leaf, uint32_t regs[4])
{
	switch (leaf) {
	case 0:
		leaf0(regs, 1, "GenuineIntel");
		return true;
	case 1:
		set_regs(regs, 0x6d8, 0, 0, CPU32_LEAF1_EDX); /* family 6, model 13, stepping 8 */
		return true;
	case 0x80000000:
		set_regs(regs, 0x80000008, 0, 0, 0);
		return true;
	case 0x80000001:
		set_regs(regs, 0, 0, 0, 0); /* no LM, no NX */
		return true;
	case 0x80000008:
		set_regs(regs, EMU_MAXPHYADDR | (32u << 8), 0, 0, 0);
		return true;
	default:
		return false; /* Unicorn's own answer */
	}
}

/* The CPU the 64-bit images expect: long mode, NX, and LA57 when asked for; with --sme an AMD
 * part reporting SME (AMD APM vol. 3, CPUID Fn8000_001F). */
static bool cpuid64(const struct emu_cpu_model *cpu, uint32_t leaf, uint32_t sub, uint32_t regs[4])
{
	switch (leaf) {
	case 0:
		leaf0(regs, 0xd, cpu->sme ? "AuthenticAMD" : "GenuineIntel");
		return true;
	case 7:
		set_regs(regs, 0, 0, (sub == 0 && cpu->la57) ? (1u << 16) : 0, 0); /* LA57 */
		return true;
	case 0x80000000:
		set_regs(regs, cpu->sme ? 0x8000001f : 0x80000008, 0, 0, 0);
		return true;
	case 0x80000001:
		set_regs(regs, 0, 0, 0, (1u << 29) | (1u << 20) | (1u << 11)); /* LM, NX, SYSCALL */
		return true;
	case 0x80000008:
		set_regs(regs, EMU_MAXPHYADDR | ((cpu->la57 ? 57u : 48u) << 8), 0, 0, 0);
		return true;
	case 0x8000001f:
		/* EAX[0] SME; EBX[5:0] C-bit position, EBX[11:6] physical-address reduction. */
		set_regs(regs, cpu->sme ? 1u : 0u, cpu->sme ? EMU_SME_CBIT | (SME_PHYS_REDUCTION << 6) : 0u,
			 0, 0);
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
static bool cpuid_real64(const struct emu_cpu_model *cpu, uint32_t leaf, uint32_t sub, uint32_t regs[4])
{
	if (leaf == 1) {
		/* family 6, model 0x55, stepping 4; one logical CPU, CLFLUSH line 8 x 8 bytes, APIC id
		 * 0; SSE3 SSSE3 CX16 SSE4.1 SSE4.2 POPCNT, hypervisor; FPU VME DE PSE TSC MSR PAE MCE
		 * CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2 */
		set_regs(regs, 0x50654, (1u << 16) | (8u << 8),
			 (1u << 0) | (1u << 9) | (1u << 13) | (1u << 19) | (1u << 20) | (1u << 23) | (1u << 31),
			 0x0789fbff);
		return true;
	}
	if (!cpuid64(cpu, leaf, sub, regs))
		set_regs(regs, 0, 0, 0, 0);
	return true;
}

bool emu_cpuid(const struct emu_cpu_model *cpu, uint32_t leaf, uint32_t sub, uint32_t regs[4])
{
	if (cpu->native32)
		return cpuid32(leaf, regs);
	if (cpu->real_kernel)
		return cpuid_real64(cpu, leaf, sub, regs);
	return cpuid64(cpu, leaf, sub, regs);
}
