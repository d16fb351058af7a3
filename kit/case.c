/* SPDX-License-Identifier: MIT */
/*
 * kit/case.c: a case's common parts: its CPU state as walkers see it, expected answers from
 * libptwalk, tag selection, the physical-memory reader handed to adapters, and its dump (an ELF
 * core with the PTLAB note and, for IA-32e, the VMCOREINFO drgn needs).
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_internal.h"

void kit_case_free(struct kit_case *kc)
{
	if (!kc)
		return;
	kit_pages_deinit(&kc->pages);
	pt_dump_close(kc->dump);
	for (size_t i = 0; i < KIT_MAX_TAGS; i++)
		free(kc->owned_tags[i]);
	free(kc->probes);
	free(kc->intents);
	free(kc->decoys);
	free(kc);
}

struct kit_case *kit_case_new(const char *name)
{
	struct kit_case *kc = calloc(1, sizeof(*kc));

	if (!kc) {
		fputs("ptlab: out of memory building a conformance case\n", stderr);
		abort();
	}
	kit_pages_init(&kc->pages);
	snprintf(kc->name, sizeof(kc->name), "%s", name);
	kc->pub.name = kc->name;
	kc->pub.mem = &kc->pages.mem;
	kc->pub.format = PT_DUMP_ELF;
	return kc;
}

/** The case's memory with tables copied where a walker that keeps extra bits in a table's
 *  address reads it: page to[k] reads as page from[k] (a trial: nothing is written). */
struct copy_overlay {
	struct pt_mem mem;   /**< first member */
	const struct pt_mem *base;
	uint64_t to[5], from[5];
	unsigned n;
};

static const void *overlay_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	const struct copy_overlay *o = (const struct copy_overlay *)mem;

	for (unsigned k = 0; k < o->n; k++) {
		if (pa >> 12 == o->to[k] >> 12)
			return o->base->ptr(o->base, o->from[k] | (pa & (PT_PAGE_4K - 1)), len);
	}
	return o->base->ptr(o->base, pa, len);
}

/**
 * One walk of a walker that ignores what `lenient` leaves out; the page it ends on gets a decoy
 * (a tagged page, unless a page is there already). With `frame_mask` (the case's own: the bits
 * the bug kept dropped), a table it reads that is not in the dump, but is there at its address
 * under that mask, is taken as copied there; if the walk then ends on a page, the copies are
 * made. A walk that ends in a fault leaves the dump as it was. (Only for probes where the CPU
 * faults: a copy must never let a bug reach the right PA of a probe that translates.)
 */
static void lenient_walk(struct kit_case *kc, const struct pt_context *lenient, uint64_t frame_mask,
			 uint64_t va)
{
	struct copy_overlay o = { .mem = { .ptr = overlay_ptr }, .base = kc->pub.mem };

	for (;;) {
		struct pt_result r;
		const enum pt_status st = pt_walk(lenient, &o.mem, va, &r);
		uint64_t from;

		if (st == PT_OK) {
			for (unsigned k = 0; k < o.n; k++)
				memcpy(kit_pages_table(&kc->pages, o.to[k]),
				       kit_pages_find(&kc->pages, o.from[k]), PT_PAGE_4K);
			kit_pages_data(&kc->pages, r.pa);
		}
		if (st != PT_NOT_IN_DUMP || !frame_mask || o.n == sizeof(o.to) / sizeof(o.to[0]))
			return;
		from = r.table_pa & frame_mask & ~(PT_PAGE_4K - 1);
		if (from >> 12 == r.table_pa >> 12 || !kit_pages_find(&kc->pages, from))
			return; /* the table is missing under the case's own mask too */
		o.to[o.n] = r.table_pa & ~(PT_PAGE_4K - 1);
		o.from[o.n++] = from;
	}
}

/**
 * A PS bit in a PML4E / PML5E, reserved there (Tables 4-14, 4-15), taken as a 512 GiB / 256 TiB
 * page (Volatility's old bug, drgn): where that reads va, if the walk faults on such an entry.
 */
static void ps_page_decoy(struct kit_case *kc, const struct pt_context *ctx, uint64_t va)
{
	struct pt_result r;
	uint64_t size;

	if (pt_walk(ctx, kc->pub.mem, va, &r) != PT_FAULT || r.fault.level < 4 ||
	    !(r.fault.entry & PTE_PS) || !ctx->desc || ctx->desc->entry_size != 8)
		return;
	/* The entry's bits 51:12 (such a walker checks no MAXPHYADDR either), aligned to the size. */
	size = PT_BIT(ctx->desc->level[r.fault.level].va_shift);
	kit_pages_data(&kc->pages, (r.fault.entry & ~ctx->cbit_mask & (PT_BIT(52) - 1) & ~(size - 1)) |
					   (va & (size - 1)));
}

/**
 * Decoys where the walkers of ../shared/notes/peers.md read when they ignore what the CPU
 * checks, computed by libptwalk itself under lenient contexts: no reserved bits with frames
 * M-1:12 (libaddrxlat); no reserved bits with MAXPHYADDR taken as 52, frames 51:12 (LibVMI,
 * drgn); PAE PDPTEs read from memory, not the registers (Unicorn, libaddrxlat); and a PS bit in a
 * PML4E/PML5E taken as a page, PA 0 for a non-present PAE PDPTE (LibVMI). So a walker that
 * answers with the bytes it read finds data where the CPU faults or where the right PA is, as one
 * answering with a PA gives that PA, and is caught the same way. Cases state the other bugs'
 * decoys (kb_decoy).
 */
static void lenient_decoys(struct kit_case *kc, const struct pt_context *ctx)
{
	struct pt_cpu_state wide = kc->pub.state;
	struct pt_context narrow = *ctx, no_m, memory_pdpt;
	bool m_ok, memory_pdpt_ok = false;

	wide.maxphyaddr = 52;
	m_ok = pt_context_init(&no_m, &wide, kc->pub.mem, NULL, NULL) == PT_OK;
	if (kc->pub.state.has_pdpte_regs) {
		wide = kc->pub.state;
		wide.has_pdpte_regs = false;
		memory_pdpt_ok = pt_context_init(&memory_pdpt, &wide, kc->pub.mem, NULL, NULL) == PT_OK;
	}
	if (ctx->mode == PT_MODE_PAE)
		kit_pages_data(&kc->pages, 0);
	memset(narrow.rsvd, 0, sizeof(narrow.rsvd));
	memset(no_m.rsvd, 0, sizeof(no_m.rsvd));
	for (size_t i = 0; i < kc->nprobes; i++) {
		const struct ptk_expect *x = &kc->probes[i].expect;
		const uint64_t va = kc->probes[i].va;
		if (x->kind == PTK_EXPECT_PF && (x->pf_error & PF_ERR_RSVD)) {
			lenient_walk(kc, &narrow, ctx->addr_mask, va);
			if (m_ok)
				lenient_walk(kc, &no_m, ctx->addr_mask, va);
			ps_page_decoy(kc, ctx, va);
		}
		/* This misreading changes every walk, not only those with reserved bits. */
		if (memory_pdpt_ok)
			lenient_walk(kc, &memory_pdpt, 0, va);
	}
}

bool kit_case_finish(struct kit_case *kc, bool data_pages)
{
	struct pt_context ctx;
	struct pt_error err;
	size_t kept = 0;

	if (kc->nprobes == 0)
		return false;
	if (kit_case_cpu(kc, &ctx, &err) != PT_OK) {
		fprintf(stderr, "ptlab: %s\n", err.message);
		abort();
	}
	for (size_t i = 0; i < kc->nprobes; i++) {
		struct ptk_probe *p = &kc->probes[i];
		if (!kit_expect(&ctx, kc->pub.mem, p->va, p->access, &p->expect)) {
			if (kc->intents[i].kind != KIT_INTENT_DERIVE) {
				fprintf(stderr, "ptlab: conformance case %s: probe 0x%llx walks through "
					"memory the case does not hold\n", kc->name,
					(unsigned long long)p->va);
				abort();
			}
			kc->dropped++;
			continue;
		}
		kc->probes[kept] = *p;
		kc->intents[kept++] = kc->intents[i];
	}
	kc->nprobes = kept;
	kc->pub.nprobes = kept;
	/* A tagged page at every expected PA, so data answers can be checked, and at every decoy
	 * (where a peer bug reads). Walks already computed read only pages that exist, so adding
	 * pages (data or copied tables) changes none of them. */
	for (size_t i = 0; data_pages && i < kept; i++) {
		if (kc->probes[i].expect.kind == PTK_EXPECT_PA)
			kit_pages_data(&kc->pages, kc->probes[i].expect.pa);
	}
	for (size_t i = 0; data_pages && i < kc->ndecoys; i++)
		kit_pages_data(&kc->pages, kc->decoys[i]);
	if (data_pages)
		lenient_decoys(kc, &ctx);
	return kept > 0;
}

struct ptk_probe *kit_case_add_probe(struct kit_case *kc)
{
	if (kc->nprobes == kc->cap) {
		size_t cap = kc->cap ? 2 * kc->cap : 64;
		struct ptk_probe *probes = realloc(kc->probes, cap * sizeof(*probes));
		struct kit_intent *intents = probes ? realloc(kc->intents, cap * sizeof(*intents)) : NULL;

		if (probes)
			kc->probes = probes;
		if (!probes || !intents) {
			fputs("ptlab: out of memory building a conformance case\n", stderr);
			abort();
		}
		kc->intents = intents;
		kc->cap = cap;
	}
	memset(&kc->probes[kc->nprobes], 0, sizeof(kc->probes[0]));
	memset(&kc->intents[kc->nprobes], 0, sizeof(kc->intents[0]));
	kc->pub.probes = kc->probes;
	return &kc->probes[kc->nprobes++];
}

uint32_t kit_case_add_tag(struct kit_case *kc, const char *name, bool copy)
{
	size_t i;

	for (i = 0; i < kc->pub.ntags; i++) {
		if (strcmp(kc->tag_names[i], name) == 0)
			return (uint32_t)i;
	}
	if (i == KIT_MAX_TAGS) {
		fprintf(stderr, "ptlab: case %s has more than %d tags\n", kc->name, KIT_MAX_TAGS);
		abort();
	}
	if (copy) {
		kc->owned_tags[i] = strdup(name);
		if (!kc->owned_tags[i])
			abort();
		name = kc->owned_tags[i];
	}
	kc->tag_names[i] = name;
	kc->pub.tags = kc->tag_names;
	kc->pub.ntags = i + 1;
	return (uint32_t)i;
}

bool kit_tag_selected(const char *globs, const char *tag)
{
	const char *p = globs;

	if (!globs || !*globs)
		return true;
	while (*p) {
		char glob[128];
		size_t n = strcspn(p, ",");

		if (n > 0 && n < sizeof(glob)) {
			memcpy(glob, p, n);
			glob[n] = 0;
			if (fnmatch(glob, tag, 0) == 0)
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

const char *ptk_paging_name(uint32_t paging)
{
	switch (paging) {
	case PTLAB_PAGING_LEGACY32: return "legacy32";
	case PTLAB_PAGING_PAE: return "pae";
	case PTLAB_PAGING_IA32E_4: return "ia32e4";
	case PTLAB_PAGING_IA32E_5: return "ia32e5";
	}
	return "?";
}

enum pt_status kit_case_cpu(struct kit_case *kc, struct pt_context *ctx, struct pt_error *err)
{
	const struct pt_cpu_state *s = &kc->pub.state;
	struct ptlab_cpu *cpu = &kc->pub.cpu;
	struct pt_fault fault;
	uint64_t table_pa = 0;
	enum pt_status st = pt_context_init(ctx, s, kc->pub.mem, &fault, &table_pa);

	if (st != PT_OK)
		return pt_error_printf(err, "case %s: CR0 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx is "
				       "not a paging state a walker can be given (%s)", kc->name,
				       (unsigned long long)s->cr0, (unsigned long long)s->cr3,
				       (unsigned long long)s->cr4, (unsigned long long)s->efer,
				       st == PT_FAULT ? "#GP loading the PAE PDPTEs" : pt_status_name(st));
	memset(cpu, 0, sizeof(*cpu));
	cpu->maxphyaddr = s->maxphyaddr;
	cpu->cr0 = s->cr0;
	cpu->cr3 = s->cr3;
	cpu->cr4 = s->cr4;
	cpu->efer = s->efer;
	cpu->pkru = s->pkru;
	cpu->sme_cbit = s->cbit;
	switch (ctx->mode) {
	case PT_MODE_LEGACY:
		cpu->paging = PTLAB_PAGING_LEGACY32;
		kc->pub.needs = PTLAB_CAP_LEGACY32;
		break;
	case PT_MODE_PAE:
		cpu->paging = PTLAB_PAGING_PAE;
		kc->pub.needs = PTLAB_CAP_PAE;
		memcpy(cpu->pdpte, ctx->pdpte, sizeof(cpu->pdpte));
		break;
	case PT_MODE_IA32E:
		cpu->paging = PTLAB_PAGING_IA32E_4;
		kc->pub.needs = PTLAB_CAP_IA32E_4;
		break;
	case PT_MODE_LA57:
		cpu->paging = PTLAB_PAGING_IA32E_5;
		kc->pub.needs = PTLAB_CAP_IA32E_5;
		break;
	case PT_MODE_OFF:
		return pt_error_printf(err, "case %s: paging is off", kc->name);
	}
	if (s->cbit)
		kc->pub.needs |= PTLAB_CAP_SME_CBIT;
	return PT_OK;
}

bool kit_expect(const struct pt_context *ctx, const struct pt_mem *mem, uint64_t va,
		uint32_t access, struct ptk_expect *x)
{
	const struct pt_access a = {
		.kind = (access & PTLAB_ACCESS_FETCH) ? PT_ACCESS_FETCH
			: (access & PTLAB_ACCESS_WRITE) ? PT_ACCESS_WRITE : PT_ACCESS_READ,
		.cpl = (access & PTLAB_ACCESS_USER) ? 3 : 0,
	};
	struct pt_result r;
	enum pt_status st;

	memset(x, 0, sizeof(*x));
	/* Pure translation is pt_walk; with PTLAB_ACCESS_CHECK the rights apply (pt_translate).
	 * A walk fault's error code carries the access bits either way (SDM 4.7), which
	 * pt_translate adds to the same fault. */
	st = (access & PTLAB_ACCESS_CHECK) ? pt_translate(ctx, mem, va, &a, &r)
					   : pt_walk(ctx, mem, va, &r);
	if (st == PT_FAULT && r.fault.vector == PT_VEC_PF && !(access & PTLAB_ACCESS_CHECK))
		st = pt_translate(ctx, mem, va, &a, &r);
	switch (st) {
	case PT_OK:
		x->kind = PTK_EXPECT_PA;
		x->pa = r.pa;
		x->page_size = r.page_size;
		return true;
	case PT_FAULT:
		x->kind = r.fault.vector == PT_VEC_GP ? PTK_EXPECT_GP : PTK_EXPECT_PF;
		x->pf_error = r.fault.vector == PT_VEC_GP ? 0 : r.fault.error_code;
		return true;
	case PT_NOT_IN_DUMP:
	case PT_EINVAL:
		break;
	}
	return false;
}

int ptk_read_phys(void *ctx, uint64_t pa, void *buf, size_t len)
{
	const struct pt_mem *mem = ctx;
	uint8_t *out = buf;

	while (len > 0) {
		size_t chunk = (size_t)(PT_PAGE_4K - (pa & (PT_PAGE_4K - 1)));
		const void *p;

		if (chunk > len)
			chunk = len;
		if (pa + chunk < pa)
			return -1;
		p = mem->ptr(mem, pa, chunk);
		if (!p)
			return -1;
		memcpy(out, p, chunk);
		out += chunk;
		pa += chunk;
		len -= chunk;
	}
	return 0;
}

/* ---- Writing a built case's dump ------------------------------------------------------------ */

/** Coalesce the sorted pages into contiguous segments (each with its own copy of the bytes). */
static size_t make_segments(const struct kit_case *kc, struct pt_core_segment **segs_ret,
			    uint8_t ***bufs_ret)
{
	size_t npages, nsegs = 0;
	uint64_t *pas = kit_pages_sorted(&kc->pages, &npages);
	struct pt_core_segment *segs = calloc(npages ? npages : 1, sizeof(*segs));
	uint8_t **bufs = calloc(npages ? npages : 1, sizeof(*bufs));

	if (!segs || !bufs)
		abort();
	for (size_t i = 0; i < npages;) {
		size_t j = i + 1;
		while (j < npages && pas[j] == pas[j - 1] + PT_PAGE_4K)
			j++;
		uint8_t *buf = malloc((j - i) * PT_PAGE_4K);
		if (!buf)
			abort();
		for (size_t k = i; k < j; k++)
			memcpy(buf + (k - i) * PT_PAGE_4K, kit_pages_find(&kc->pages, pas[k]), PT_PAGE_4K);
		segs[nsegs] = (struct pt_core_segment){ .pa = pas[i], .size = (j - i) * PT_PAGE_4K,
							.data = buf };
		bufs[nsegs++] = buf;
		i = j;
	}
	free(pas);
	*segs_ret = segs;
	*bufs_ret = bufs;
	return nsegs;
}

enum pt_status ptk_case_write(const struct ptk_case *c, const char *path, struct pt_error *err)
{
	const struct kit_case *kc = (const struct kit_case *)c;
	const bool ia32e = c->cpu.paging == PTLAB_PAGING_IA32E_4 ||
			   c->cpu.paging == PTLAB_PAGING_IA32E_5;
	struct pt_core_segment *segs;
	uint8_t **bufs;
	char vmcoreinfo[1024];
	struct pt_core_desc desc = { 0 };
	enum pt_status st;

	if (kc->dump)
		return pt_error_printf(err, "case %s: its dump is %s already", c->name, c->dump);
	desc.nsegments = make_segments(kc, &segs, &bufs);
	desc.segments = segs;
	desc.machine = ia32e ? 62 : 3; /* EM_X86_64 / EM_386, as QEMU marks i386 guests */
	desc.cpu = &c->state;
	desc.ptlab_note = true;
	if (ia32e && kc->root_vaddr) {
		/* drgn reads the top table at SYMBOL(swapper_pg_dir) through a virtual segment
		 * (../shared/notes/outside-tools.md), then walks everything else itself. */
		const struct pt_vmcoreinfo_fields f = {
			.osrelease = "6.1.0-ptlab-check",
			.page_size = PT_PAGE_4K,
			.swapper_pg_dir = kc->root_vaddr,
			.x86_64 = true,
			.la57 = c->cpu.paging == PTLAB_PAGING_IA32E_5,
		};
		struct pt_context ctx;
		pt_context_init(&ctx, &c->state, c->mem, NULL, NULL);
		pt_vmcoreinfo_format(&f, vmcoreinfo, sizeof(vmcoreinfo));
		desc.vmcoreinfo = vmcoreinfo;
		desc.root_vaddr = kc->root_vaddr;
		desc.root_paddr = ctx.root;
	}
	st = pt_core_write(path, &desc, err);
	for (size_t i = 0; i < desc.nsegments; i++)
		free(bufs[i]);
	free(bufs);
	free(segs);
	return st;
}

uint16_t kit_run_msg(struct kit_run *run, const char *fmt, ...)
{
	va_list ap;
	unsigned i = run->nmsgs < KIT_MAX_MSGS ? run->nmsgs++ : KIT_MAX_MSGS - 1;

	va_start(ap, fmt);
	vsnprintf(run->msgs[i], sizeof(run->msgs[i]), fmt, ap);
	va_end(ap);
	return (uint16_t)i;
}
