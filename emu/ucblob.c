/* SPDX-License-Identifier: MIT */
/* emu/ucblob.c: Unicorn's context blob: the calibration of its layout, and a field patched in it
 * (see ucblob.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "ucblob.h"
#include "ptlab/le.h"
#include "ptlab/walk.h"

static const uint32_t MSR_EFER = 0xc0000080;

struct calib_state {
	uc_context *ctx;
	bool faulted;
};

static void on_calib_interrupt(uc_engine *uc, uint32_t intno, void *user)
{
	struct calib_state *cs = user;
	cs->faulted = intno == PT_VEC_GP;
	uc_context_save(uc, cs->ctx);
	uc_emu_stop(uc);
}

uint64_t emu_read_efer(uc_engine *uc)
{
	uc_x86_msr msr = { .rid = MSR_EFER, .value = 0 };
	uc_reg_read(uc, UC_X86_REG_MSR, &msr);
	return msr.value;
}

/* The 8-byte field equal to EFER whose patched value RDMSR returns. */
static bool find_efer(uc_engine *uc, uc_context *scratch, const uint8_t *clean, size_t size,
		      size_t *off_ret)
{
	const uint64_t efer = emu_read_efer(uc);
	for (size_t off = 0; off + 8 <= size; off += 4) {
		if (pt_le_get(clean + off, 8) != efer)
			continue;
		memcpy((void *)scratch, clean, size);
		pt_le_put((uint8_t *)scratch + off, efer ^ EFER_NXE, 8);
		uc_context_restore(uc, scratch);
		const bool hit = emu_read_efer(uc) == (efer ^ EFER_NXE);
		memcpy((void *)scratch, clean, size);
		uc_context_restore(uc, scratch);
		if (hit) {
			*off_ret = off;
			return true;
		}
	}
	return false;
}

static bool calibrate(struct emu_ucblob_layout *out)
{
	static const uint8_t code[] = { 0x8e, 0xd9, 0x90 }; /* mov ds, cx; nop */
	static const uint32_t sels[2] = { 0x123b, 0x2473 };
	uint8_t *blobs[2] = { NULL, NULL }, *clean = NULL;
	uc_engine *uc = NULL;
	uc_context *clean_ctx = NULL, *scratch = NULL;
	struct calib_state cs = { 0 };
	uc_hook h;
	bool ok = false, have_err = false, have_old = false;

	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
		return false;
	if (uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL) != UC_ERR_OK ||
	    uc_mem_write(uc, 0x1000, code, sizeof(code)) != UC_ERR_OK ||
	    uc_context_alloc(uc, &cs.ctx) != UC_ERR_OK || uc_context_alloc(uc, &scratch) != UC_ERR_OK ||
	    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_calib_interrupt, &cs, 1, 0) != UC_ERR_OK)
		goto out;
	/* A GDT of one (null) descriptor: both selectors lie beyond its limit, so loading DS raises
	 * #GP(selector) rather than reading a descriptor. */
	uc_x86_mmr gdtr = { .base = 0x1800, .limit = 7 };
	if (uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr) != UC_ERR_OK)
		goto out;
	const size_t size = uc_context_size(uc);
	if (uc_context_alloc(uc, &clean_ctx) != UC_ERR_OK || uc_context_save(uc, clean_ctx) != UC_ERR_OK ||
	    !(clean = malloc(size)))
		goto out;
	memcpy(clean, clean_ctx, size);
	if (!find_efer(uc, scratch, clean, size, &out->efer))
		goto out;
	for (unsigned i = 0; i < 2; i++) {
		uint64_t rcx = sels[i];
		cs.faulted = false;
		/* From the clean state each time: a second #GP after the first would be a #DF. */
		uc_context_restore(uc, clean_ctx);
		uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
		uc_emu_start(uc, 0x1000, 0x1000 + sizeof(code), 0, 10);
		if (!cs.faulted || !(blobs[i] = malloc(size)))
			goto out;
		memcpy(blobs[i], cs.ctx, size);
	}
	for (size_t off = 0; off + 4 <= size; off += 4) {
		const uint64_t a = pt_le_get(blobs[0] + off, 4), b = pt_le_get(blobs[1] + off, 4);
		if (!have_err && a == (sels[0] & ~3u) && b == (sels[1] & ~3u)) {
			out->error_code = off;
			have_err = true;
		}
		if (!have_old && pt_le_get(clean + off, 4) == UINT32_MAX && a == PT_VEC_GP && b == PT_VEC_GP) {
			out->old_exception = off;
			have_old = true;
		}
	}
	ok = have_err && have_old;
out:
	free(blobs[0]);
	free(blobs[1]);
	free(clean);
	if (cs.ctx)
		uc_context_free(cs.ctx);
	if (scratch)
		uc_context_free(scratch);
	if (clean_ctx)
		uc_context_free(clean_ctx);
	uc_close(uc);
	return ok;
}

bool emu_ucblob_layout_get(struct emu_ucblob_layout *layout_ret)
{
	static struct emu_ucblob_layout cached;
	static int state; /* 0 not tried, 1 found, -1 not found */
	if (state == 0)
		state = calibrate(&cached) ? 1 : -1;
	if (state < 0)
		return false;
	*layout_ret = cached;
	return true;
}

bool emu_ucblob_patch(uc_engine *uc, size_t off, uint64_t value, unsigned size)
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
