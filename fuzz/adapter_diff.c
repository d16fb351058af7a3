/* SPDX-License-Identifier: MIT */
/*
 * fuzz target `adapter_diff`. Invariant: an outside walker (a ptlab adapter, include/ptlab/
 * adapter.h, named by the environment variable PTLAB_ADAPTER; without it, the independent walker
 * of testsupport/tw_walker.c linked in) answers every probe as libptwalk does, for every CPU state and page tables the input describes in a paging mode the walker
 * declares: pure translation (mapped or not, the PA, and the page size when it declares
 * PTLAB_CAP_PAGE_SIZE); with PTLAB_CAP_RIGHTS also the access check of the input's access, and
 * with PTLAB_CAP_PF_ERROR the #PF error code of a refused access. A disagreement prints one
 * reproducer line (mode, CR0/CR3/CR4/EFER, MAXPHYADDR, C-bit, VA, access, expected, got, and
 * the entries libptwalk read) and aborts, so libFuzzer and AFL++ keep the input.
 *
 * PAE inputs may also say that the PDPT in memory changed after the last MOV to CR3 (SDM 4.4.1:
 * the PDPTE registers keep what was loaded): header byte 6 (reserved in fuzz/input.h for the
 * other targets), bits 1:0 = r, makes PDPTE register i the in-memory PDPTE (i + r) % 4, as if
 * software had rotated the table since; both libptwalk and the walker get the registers.
 *
 * Inputs libptwalk cannot compare are skipped: modes the walker does not declare, the SME C-bit
 * unless it declares PTLAB_CAP_SME_CBIT, PAE states whose PDPTEs would #GP at CR3 load (not a
 * CPU state a dump can hold), probes whose tables are not in the input (ptlab says "not in
 * dump", the ABI has no such answer), and implicit supervisor accesses (the ABI has no RFLAGS
 * and no implicit flag: RFLAGS.AC is 0 for every comparison).
 *
 *   PTLAB_ADAPTER=walker.so fuzz-adapter_diff CORPUS...    (ci/fuzz-adapter builds and runs it)
 *   fuzz-adapter_diff CORPUS...                            (libptwalk against tw_walker.c)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "kit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ptk_adapter loaded;
static const struct ptlab_adapter *adapter;

/** Load the walker named by PTLAB_ADAPTER with the kit's loader (kit/loader.c), once; any
 *  failure ends the run. Without PTLAB_ADAPTER: the walker linked in (testsupport/tw_walker.c). */
static void load_adapter(void)
{
	const char *path = getenv("PTLAB_ADAPTER");
	struct pt_error err;
	if (!path || !*path) {
		adapter = ptlab_adapter_v1();
		return;
	}
	if (ptk_adapter_load(path, &loaded, &err) != PT_OK)
		fz_fail("%s", err.message);
	adapter = loaded.desc;
}

/* Before the first input: the walker's code is loaded (and, when built with coverage, its
 * counters registered) before libFuzzer starts measuring. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	load_adapter();
	return 0;
}

/** ptlab_read_phys_fn over the input's sparse pages (a read may span pages). */
static int read_phys(void *ctx, uint64_t pa, void *buf, size_t len)
{
	const struct fz_mem *m = ctx;
	uint8_t *out = buf;
	while (len) {
		const size_t in_page = FZ_PAGE - (size_t)(pa & (FZ_PAGE - 1));
		const size_t n = len < in_page ? len : in_page;
		const void *p = m->mem.ptr(&m->mem, pa, n);
		if (!p)
			return -1;
		memcpy(out, p, n);
		out += n, pa += n, len -= n;
	}
	return 0;
}

static uint32_t paging_of(enum pt_mode mode)
{
	switch (mode) {
	case PT_MODE_LEGACY: return PTLAB_PAGING_LEGACY32;
	case PT_MODE_PAE: return PTLAB_PAGING_PAE;
	case PT_MODE_IA32E: return PTLAB_PAGING_IA32E_4;
	case PT_MODE_LA57: return PTLAB_PAGING_IA32E_5;
	default: return 0;
	}
}

static uint32_t cap_of(uint32_t paging)
{
	static const uint32_t caps[] = { 0, PTLAB_CAP_LEGACY32, PTLAB_CAP_PAE, PTLAB_CAP_IA32E_4,
					 PTLAB_CAP_IA32E_5 };
	return paging < sizeof(caps) / sizeof(caps[0]) ? caps[paging] : 0;
}

/** PAE: the PDPTE registers as loaded before software rotated the PDPT by `r` entries (see the
 *  top of the file); false when the PDPT is not in memory (libptwalk then says so). */
static bool rotated_pdpte_regs(struct pt_cpu_state *cpu, const struct fz_mem *m, unsigned r)
{
	const uint8_t *pdpt = m->mem.ptr(&m->mem, cpu->cr3 & 0xffffffe0u, 32);
	if (!pdpt)
		return false;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (unsigned b = 0; b < 8; b++)
			v |= (uint64_t)pdpt[8 * ((i + r) % 4) + b] << (8 * b);
		cpu->pdpte_regs[i] = v;
	}
	cpu->has_pdpte_regs = true;
	return true;
}

/** What libptwalk says, in the adapter's terms. */
struct expect {
	enum pt_status status;
	struct pt_result r;
};

static void fail_probe(const struct fz_input *in, const char *what, uint64_t va, uint32_t access,
		       const struct expect *want, int rc, const struct ptlab_result *got)
{
	char exp[96], gotbuf[96];
	if (want->status == PT_OK)
		snprintf(exp, sizeof(exp), "pa 0x%" PRIx64 " size 0x%" PRIx64, want->r.pa, want->r.page_size);
	else if (want->r.fault.vector == PT_VEC_PF)
		snprintf(exp, sizeof(exp), "#PF error 0x%x at level %u", want->r.fault.error_code,
			 want->r.fault.level);
	else
		snprintf(exp, sizeof(exp), "#GP (non-canonical)");
	if (rc != 0)
		snprintf(gotbuf, sizeof(gotbuf), "translate() returned %d (no answer)", rc);
	else if (got->mapped)
		snprintf(gotbuf, sizeof(gotbuf), "pa 0x%" PRIx64 " size 0x%" PRIx64, got->pa, got->page_size);
	else
		snprintf(gotbuf, sizeof(gotbuf), "not mapped, pf_error 0x%x", got->pf_error);
	fprintf(stderr, "adapter_diff: %s: %s differs from libptwalk:\n", adapter->name, what);
	fprintf(stderr, "  mode %s CR0 0x%" PRIx64 " CR3 0x%" PRIx64 " CR4 0x%" PRIx64 " EFER 0x%" PRIx64
		" MAXPHYADDR %u C-bit %u VA 0x%" PRIx64 " access %s%s%s%s expected %s, got %s\n",
		pt_mode_name(in->mode), in->cpu.cr0, in->cpu.cr3, in->cpu.cr4, in->cpu.efer,
		in->cpu.maxphyaddr, in->cpu.cbit, va, access & PTLAB_ACCESS_CHECK ? "check" : "pure",
		access & PTLAB_ACCESS_WRITE ? ",write" : "", access & PTLAB_ACCESS_FETCH ? ",fetch" : "",
		access & PTLAB_ACCESS_USER ? ",user" : "", exp, gotbuf);
	for (unsigned i = 0; i < want->r.nentries && i < 5; i++)
		fprintf(stderr, "  libptwalk read L%u @0x%" PRIx64 " = 0x%" PRIx64 "\n",
			want->r.entry[i].level, want->r.entry[i].pa, want->r.entry[i].value);
	fz_fail("outside walker mismatch (replay: PTLAB_ADAPTER=... fuzz-adapter_diff-replay FILE)");
}

/** Compare one answer; `check`: the access-checked form (rights, #PF error code). */
static void compare(const struct fz_input *in, void *walker, uint64_t va, uint32_t access,
		    const struct expect *want)
{
	struct ptlab_result got = { 0 };
	const int rc = adapter->translate(walker, va, access, &got);
	const bool mapped = want->status == PT_OK;
	const char *what = NULL;
	if (rc != 0)
		what = "an unanswered probe";
	else if (got.mapped != (mapped ? 1u : 0u))
		what = mapped ? "a mapped VA" : "an unmapped VA";
	else if (mapped && got.pa != want->r.pa)
		what = "the physical address";
	else if (mapped && (adapter->caps & PTLAB_CAP_PAGE_SIZE) && got.page_size != want->r.page_size)
		what = "the page size";
	else if (!mapped && (access & PTLAB_ACCESS_CHECK) && (adapter->caps & PTLAB_CAP_PF_ERROR) &&
		 want->r.fault.vector == PT_VEC_PF && got.pf_error != want->r.fault.error_code)
		what = "the #PF error code";
	if (what)
		fail_probe(in, what, va, access, want, rc, &got);
}

static void probe(const struct fz_input *in, const struct pt_context *ctx, const struct fz_mem *m,
		  void *walker, uint64_t va)
{
	struct expect want = { 0 };
	want.status = pt_walk(ctx, &m->mem, va, &want.r);
	if (want.status == PT_NOT_IN_DUMP || want.status == PT_EINVAL)
		return;
	compare(in, walker, va, 0, &want);

	if (!(adapter->caps & PTLAB_CAP_RIGHTS) || in->access.implicit)
		return;
	/* The input's access: CPL 3 is a user access, others supervisor (SDM 4.6). */
	const struct pt_access a = { in->access.kind, in->access.cpl == 3 ? 3 : 0, false };
	uint32_t access = PTLAB_ACCESS_CHECK;
	if (a.kind == PT_ACCESS_WRITE)
		access |= PTLAB_ACCESS_WRITE;
	if (a.kind == PT_ACCESS_FETCH)
		access |= PTLAB_ACCESS_FETCH;
	if (a.cpl == 3)
		access |= PTLAB_ACCESS_USER;
	want.status = pt_translate(ctx, &m->mem, va, &a, &want.r);
	if (want.status == PT_NOT_IN_DUMP || want.status == PT_EINVAL)
		return;
	compare(in, walker, va, access, &want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_mem mem;
	struct fz_input in;
	struct pt_context ctx;

	if (!adapter)
		load_adapter();
	fz_mem_init(&mem);
	const struct fz_parse_opts opts = { .no_cbit = !(adapter->caps & PTLAB_CAP_SME_CBIT) };
	fz_parse(data, size, &opts, &in, &mem);
	in.cpu.rflags = 0; /* the ABI carries no RFLAGS: AC is 0 on both sides */
	const unsigned rotate = size > 6 ? data[6] & 3 : 0;
	if (in.mode == PT_MODE_PAE && rotate)
		rotated_pdpte_regs(&in.cpu, &mem, rotate);
	const uint32_t paging = paging_of(in.mode);
	if (!paging || !(adapter->caps & cap_of(paging)) ||
	    pt_context_init(&ctx, &in.cpu, &mem.mem, NULL, NULL) != PT_OK)
		goto out;

	struct ptlab_cpu cpu = {
		.paging = paging, .maxphyaddr = in.cpu.maxphyaddr, .cr0 = in.cpu.cr0,
		.cr3 = in.cpu.cr3, .cr4 = in.cpu.cr4, .efer = in.cpu.efer, .pkru = in.cpu.pkru,
	};
	if (in.mode == PT_MODE_PAE)
		memcpy(cpu.pdpte, ctx.pdpte, sizeof(cpu.pdpte)); /* loaded at CR3 load (4.4.1) */
	cpu.sme_cbit = in.cpu.cbit;
	void *walker = adapter->open(&cpu, read_phys, &mem);
	if (!walker)
		goto out; /* the walker says it cannot handle this state: unsupported, not wrong */
	for (unsigned i = 0; i < FZ_NVA; i++)
		probe(&in, &ctx, &mem, walker, in.va[i]);
	adapter->close(walker);
out:
	fz_mem_reset(&mem);
	return 0;
}
