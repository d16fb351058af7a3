/* SPDX-License-Identifier: MIT */
/*
 * emu/machine_report.c: a boot that did not reach its stop point, said in one line: where it
 * stopped (the address and the image's nearest symbol, at its run-time physical or virtual
 * address), why (the vector and the error code Unicorn pushed, read from the context blob since
 * it has no register id; the instruction budget; Unicorn's own error) and, for a real kernel,
 * verify_cpu's verdict.
 */
#include <stdio.h>

#include "machine.h"
#include "ptlab/le.h"

/** The nearest symbol at or below `addr` (run-time address) of the image, for messages. */
void emu_describe_address(const struct pt_emu_machine *m, uint64_t addr, char *buf, size_t buflen)
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

/** The fault's error code as Unicorn pushed it, or false when it cannot be recovered. */
bool emu_fault_error_code(const struct emu_run_state *rs, uc_engine *uc, uint32_t *code_ret)
{
	struct emu_ucblob_layout layout;
	if (!rs->fault_ctx || !emu_ucblob_layout_get(&layout) || layout.error_code + 4 > uc_context_size(uc))
		return false;
	*code_ret = (uint32_t)pt_le_get((const uint8_t *)rs->fault_ctx + layout.error_code, 4);
	return true;
}

enum pt_status emu_run_verdict(const struct pt_emu_machine *m, const struct emu_run_state *rs,
			       uc_engine *uc, uc_err e, uint64_t stop, struct pt_error *err)
{
	const char *img = m->def->pub.name;
	const uint64_t rip = emu_read_pc(uc, rs->native32);
	char where[160];
	uint32_t code = 0;

	if (rs->faulted) {
		emu_describe_address(m, rs->fault_rip, where, sizeof(where));
		if (emu_fault_error_code(rs, uc, &code))
			return pt_error_set(err, img, UINT64_MAX,
					    "boot code raised vector %u, error code 0x%x, at %s (CR2 0x%llx)",
					    rs->vector, code, where, (unsigned long long)rs->fault_cr2);
		return pt_error_set(err, img, UINT64_MAX,
				    "boot code raised vector %u at %s (CR2 0x%llx; error code unknown)",
				    rs->vector, where, (unsigned long long)rs->fault_cr2);
	}
	emu_describe_address(m, rip, where, sizeof(where));
	if (rs->budget_spent)
		return pt_error_set(err, img, UINT64_MAX,
				    "instruction budget of %llu spent before the stop point, at %s",
				    (unsigned long long)rs->budget, where);
	if (e != UC_ERR_OK)
		return pt_error_set(err, img, UINT64_MAX, "unicorn stopped at %s: %s", where, uc_strerror(e));
	if (rip != stop)
		return pt_error_set(err, img, UINT64_MAX, "boot code stopped at %s, not at %s", where,
				    m->def->stop_symbol);
	if (rs->real_kernel && rs->verify_cpu_seen && rs->verify_cpu_rax != 0)
		return pt_error_set(err, img, UINT64_MAX,
				    "verify_cpu rejected the emulated CPU (returned %llu): the "
				    "CPUID answers lack a feature the kernel requires",
				    (unsigned long long)rs->verify_cpu_rax);
	return PT_OK;
}
