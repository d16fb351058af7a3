/* SPDX-License-Identifier: MIT */
/*
 * emu/ucblob.h: where Unicorn 2.0.1 keeps CPU state that has no register id, inside its
 * uc_context blob (internal to libptemu). The blob layout is Unicorn's and the same for every
 * engine of a build, so it is found once per process, by effect, in a scratch engine
 * (../shared/notes/unicorn-2.0.1.md):
 * - the pending exception's error code: `mov ds, cx` with two selectors beyond the GDT limit
 *   raises #GP(selector & ~3) twice; the one 4-byte field holding both codes is it;
 * - the exception in flight (QEMU's double-fault bookkeeping): -1 in a clean blob, the vector
 *   after the #GP. Unicorn's UC_HOOK_INTR skips the interrupt delivery that would reset it, so
 *   a second fault in a row turns into #DF unless it is reset to -1;
 * - IA32_EFER: WRMSR cannot set EFER.NXE in Unicorn; the blob field is the one whose patched
 *   value RDMSR then returns.
 */
#ifndef PTLAB_EMU_UCBLOB_H
#define PTLAB_EMU_UCBLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <unicorn/unicorn.h>

/** Offsets of state without a register id in Unicorn's context blob. */
struct emu_ucblob_layout {
	size_t error_code;     /**< uint32 */
	size_t old_exception;  /**< int32, -1 = none in flight */
	size_t efer;           /**< uint64 */
};

/** The layout (calibrated on the first call, then cached); false when it cannot be found. */
bool emu_ucblob_layout_get(struct emu_ucblob_layout *layout_ret);

/** Write `size` bytes of `value` at offset `off` of the engine's context (save, patch, restore);
 *  false when the context cannot be saved or restored or `off` is outside it. */
bool emu_ucblob_patch(uc_engine *uc, size_t off, uint64_t value, unsigned size);

/** IA32_EFER as RDMSR returns it. */
uint64_t emu_read_efer(uc_engine *uc);

#endif
