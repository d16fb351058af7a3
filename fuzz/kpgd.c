/* SPDX-License-Identifier: MIT */
/*
 * fuzz target `kpgd`. Invariant: pt_kpgd_find never crashes and stays bounded on mutated symbol
 * text and mutated memory, and whenever it says "verified", the claim holds: the candidate's table,
 * walked with the shared walker in the candidate's mode (its C-bit, the input's MAXPHYADDR), maps
 * the run-time _text VA it reports to the PA it reports.
 * The search gets a work budget per input (max_work: every seed still verifies within it), and a
 * verified claim must hold whatever the budget cut short.
 * Input: the fuzz header (input.h; option bit FZ_OPT_KPGD_CPU passes its CPU state as the dump's),
 * a little-endian u16 length and that many bytes of System.map/kallsyms text, then memory records.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "input.h"
#include "ptlab/kpgd.h"
#include "ptlab/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** The finder's work budget per input (walks, enumerated ranges, tables read): a few hypotheses
 *  verified in full (every seed of corpora/kpgd verifies at 2048, one stops at 1024), so that an
 *  input costs about a millisecond, not a real search's worth. */
static const uint64_t MAX_WORK = 2048;

static int cmp_range(const void *a, const void *b)
{
	const struct pt_dump_range *x = a, *y = b;
	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_mem m;
	struct fz_input in;
	struct pt_dump_range ranges[FZ_MAX_PAGES];
	struct pt_symtab *syms = NULL;
	struct pt_kpgd_result res;
	struct pt_error err;

	if (size < FZ_HEADER_SIZE + 2)
		return 0;
	fz_mem_init(&m);
	fz_parse(data, size, NULL, &in, NULL);
	size_t off = FZ_HEADER_SIZE;
	size_t symlen = data[off] | (size_t)data[off + 1] << 8;
	off += 2;
	if (symlen > size - off)
		symlen = size - off;
	if (symlen > 0 && pt_symtab_load_buffer(data + off, symlen, "fuzz.map", &syms, &err) != PT_OK)
		syms = NULL;
	off += symlen;
	fz_parse_memory(data + off, size - off, in.cpu.maxphyaddr, &m);

	for (unsigned i = 0; i < m.npages; i++)
		ranges[i] = (struct pt_dump_range){ m.pa[i], FZ_PAGE, 0 };
	qsort(ranges, m.npages, sizeof(ranges[0]), cmp_range);

	struct pt_kpgd_inputs kin = {
		.mem = &m.mem,
		.ranges = ranges,
		.nranges = m.npages,
		.symbols = syms,
		.has_cpu = in.options & FZ_OPT_KPGD_CPU,
		.cpu = in.cpu,
		.elf_machine = in.mode == PT_MODE_IA32E || in.mode == PT_MODE_LA57 ? 62 : 3,
		.max_work = MAX_WORK,
	};
	if (pt_kpgd_find(&kin, &res, &err) == PT_OK) {
		if (getenv("PTLAB_FUZZ_VERBOSE"))
			fprintf(stderr, "kpgd: found %d verified %d kpgd 0x%" PRIx64 " (%zu candidates)\n",
				res.found, res.verified, res.ncandidates ? res.candidates[0].kpgd : 0,
				res.ncandidates);
		for (size_t i = 0; i < res.ncandidates; i++) {
			const struct pt_kpgd_candidate *c = &res.candidates[i];
			struct pt_cpu_state cpu;
			struct pt_context ctx;
			struct pt_result r;
			if (!c->verified || !c->offsets_known)
				continue;
			/* As the finder builds it: the mode's usual state, MAXPHYADDR from the CPU
			 * state when there is one (else 52), the candidate's C-bit. */
			pt_cpu_state_default(&cpu, c->kpgd);
			pt_cpu_state_set_mode(&cpu, c->mode);
			cpu.maxphyaddr = kin.has_cpu ? in.cpu.maxphyaddr : 52;
			cpu.cbit = c->cbit;
			if (pt_context_init(&ctx, &cpu, &m.mem, NULL, NULL) != PT_OK ||
			    pt_walk(&ctx, &m.mem, c->text_va, &r) != PT_OK || r.pa != c->text_pa)
				fz_fail("kpgd 0x%" PRIx64 " (%s, %s) verified, but it does not map _text "
					"0x%" PRIx64 " to 0x%" PRIx64, c->kpgd, pt_mode_name(c->mode),
					pt_kpgd_method_name(c->method), c->text_va, c->text_pa);
		}
		pt_kpgd_result_deinit(&res);
	}
	pt_symtab_destroy(syms);
	fz_mem_reset(&m);
	return 0;
}
