/* SPDX-License-Identifier: MIT */
/*
 * emu/machine.h: the machine that runs a boot image in Unicorn (internal to libptemu). One
 * concern per file:
 *   machine.c         pt_emu_boot (the steps in order) and the public accessors, dump and
 *                     System.map writing;
 *   machine_layout.c  physical memory: load addresses from the options (KASLR included), the
 *                     images placed and relocated, boot_params;
 *   machine_cpuid.c   the CPUs the images see (CPUID answers);
 *   machine_run.c     the Unicorn engine: memory mappings, registers, hooks, the run loop and
 *                     the CPU state at the stop point;
 *   machine_kernel.c  what a real kernel (vmlinux:PATH, bzimage:PATH) needs besides: checks of
 *                     its symbols, #PF delivery through its IDT, WRMSR to EFER, the bzImage's
 *                     hand-over to the kernel;
 *   machine_report.c  a failed boot in one line: the address with its symbol, the vector and
 *                     the error code.
 * What Unicorn does not do as hardware would is done explicitly, and each file says where
 * (../shared/notes/unicorn-2.0.1.md).
 */
#ifndef PTLAB_EMU_MACHINE_H
#define PTLAB_EMU_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include <unicorn/unicorn.h>

#include "images.h"
#include "ptlab/emu.h"
#include "ptlab/error.h"
#include "ptlab/kpgd.h"
#include "ptlab/symbols.h"
#include "ucblob.h"
#include "vmlinux.h"

/* ---- physical layout (machine_layout.c places things there) ---------------------------- */

/** Low physical memory the machine uses: the shim at 4 KiB (the boot GDT at 20 KiB for a native
 *  32-bit entry), boot_params at 28 KiB, the command line at 32 KiB. */
enum emu_low_memory {
	EMU_SHIM_PA = 0x1000,
	EMU_BOOT_GDT_PA = 0x5000,
	EMU_BOOT_PARAMS_PA = 0x7000,
	EMU_CMDLINE_PA = 0x8000,
};

/** CONFIG_PHYSICAL_ALIGN of x86-64 and the size of a 2 MiB page. */
static const uint64_t EMU_PMD_SIZE = 0x200000;
/** Unicorn's MAXPHYADDR (QEMU's TCG default of 40 physical-address bits). */
static const unsigned EMU_MAXPHYADDR = 40;
/** SME (--sme): the C-bit position CPUID 0x8000001F reports (machine_cpuid.c says why 39). */
static const unsigned EMU_SME_CBIT = 39;

/** bzimage: where the kernel's own symbols put things, as offsets from _text (link time). */
struct emu_bz_layout {
	uint64_t text;            /**< _text, link-time VA */
	uint64_t size;            /**< _end - _text */
	uint64_t verify_cpu;      /**< offsets from _text */
	uint64_t initial_code;
	uint64_t start_kernel_va; /**< x86_64_start_kernel, link-time VA (initial_code's value unslid) */
};

/** The machine: its image, its memory and what the boot found. */
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
	struct emu_bz_layout bz_layout;
	struct emu_blob bz_kernel;
	const struct pt_symtab *symbols;
	uint8_t *mem;
	uint64_t mem_size;
	struct pt_flat_mem flat;
	struct pt_emu_boot_result result;
};

/** What the hooks of one run share with the run loop. */
struct emu_run_state {
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
	const struct emu_bz_layout *bz;
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

/* ---- machine_layout.c ---------------------------------------------------------------- */

/** `v` rounded up to a multiple of `align` (a power of two). */
uint64_t emu_round_up(uint64_t v, uint64_t align);
/** Resolve phys_load and virt_offset from the options (and the KASLR seed). */
enum pt_status emu_resolve_layout(const struct emu_image_def *def, const struct pt_emu_boot_opts *o,
				  uint64_t mem_size, uint64_t *phys_load_ret, uint64_t *virt_offset_ret,
				  struct pt_error *err);
/** Place the image's stages in m->mem at the resolved addresses, relocate the kernel, write
 *  boot_params; returns the physical address the run starts at. */
uint64_t emu_place_images(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts);

/* ---- machine_cpuid.c ----------------------------------------------------------------- */

/** Which CPU answers CPUID. */
struct emu_cpu_model {
	bool native32;    /**< the i386 kernels' CPU: PAE, PSE, PGE, no long mode, no NX */
	bool real_kernel; /**< a real kernel's: an Intel part under a hypervisor, full leaf 1 */
	bool la57;        /**< LA57 in leaf 7 */
	bool sme;         /**< an AMD part with SME (64-bit images) */
};

/** CPUID (leaf, subleaf) as the model answers it into regs (EAX, EBX, ECX, EDX); false: leave
 *  it to Unicorn. */
bool emu_cpuid(const struct emu_cpu_model *cpu, uint32_t leaf, uint32_t sub, uint32_t regs[4]);

/* ---- machine_run.c --------------------------------------------------------------------- */

/** Run the image in Unicorn from `start` to `stop`; fills m->result (CPU state, counts). */
enum pt_status emu_machine_run(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
			       uint64_t start, uint64_t stop, struct pt_error *err);
/** The per-instruction hook: budget, SYSCFG, verify_cpu's verdict, WRMSR to EFER. */
void emu_on_code(uc_engine *uc, uint64_t address, uint32_t size, void *user);
/** The program counter (EIP in a UC_MODE_32 engine). */
uint64_t emu_read_pc(uc_engine *uc, bool native32);
/** "unicorn: WHAT: why" about the image `img`; returns PT_EINVAL. */
enum pt_status emu_unicorn_fail(struct pt_error *err, const char *img, const char *what, uc_err e);

/* ---- machine_kernel.c ------------------------------------------------------------------ */

/** vmlinux:PATH: load the kernel, check its symbols, make its manifest entry (m->def). */
enum pt_status emu_vmlinux_prepare(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
				   struct pt_error *err);
/** bzimage:PATH: load the bzImage, check the kernel's symbols, make its manifest entry. */
enum pt_status emu_bzimage_prepare(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
				   struct pt_error *err);
/** bzimage: from the CPUID hook, stop the run when the kernel's own verify_cpu runs. */
void emu_spot_kernel(struct emu_run_state *rs, uc_engine *uc);
/** Before a WRMSR to IA32_EFER: set SCE/NXE in the context as EAX asks (Unicorn drops them). */
void emu_prepare_efer_write(struct emu_run_state *rs, uc_engine *uc, uint64_t address);
/** Deliver the #PF the run stopped at through the kernel's IDT; *pc = the handler. */
enum pt_status emu_deliver_page_fault(struct pt_emu_machine *m, struct emu_run_state *rs, uc_engine *uc,
				      uint64_t *pc, struct pt_error *err);
/** bzimage: the decompressor has put the kernel in place; continue as a vmlinux boot. */
enum pt_status emu_kernel_starts(struct pt_emu_machine *m, struct emu_run_state *rs, uc_engine *uc,
				 uc_hook *h_code, uint64_t *stop, struct pt_error *err);

/* ---- machine_report.c ------------------------------------------------------------------ */

/** `addr` with the image's nearest symbol at or below it: "0x... (symbol+0x...)". */
void emu_describe_address(const struct pt_emu_machine *m, uint64_t addr, char *buf, size_t buflen);
/** The fault's error code as Unicorn pushed it, or false when it cannot be recovered. */
bool emu_fault_error_code(const struct emu_run_state *rs, uc_engine *uc, uint32_t *code_ret);
/**
 * After the run loop: PT_OK when the run stopped at `stop` (and a real kernel's verify_cpu
 * passed), else the error that says why not (a fault, the budget, Unicorn's error, elsewhere).
 */
enum pt_status emu_run_verdict(const struct pt_emu_machine *m, const struct emu_run_state *rs,
			       uc_engine *uc, uc_err e, uint64_t stop, struct pt_error *err);

#endif
