/* SPDX-License-Identifier: MIT */
/*
 * kit/cases_boot.c: boot.* and real.*: address spaces nobody drew by hand. boot.* are the tables
 * ptlab's boot images build in Unicorn (libptemu: the decompressor's identity map, head_64 with
 * relocation, KASLR, 5-level paging, SME, PTI; head_32 in PAE, 32-bit and PSE flavours); real.*
 * are the real tier's QEMU dumps of Debian kernels (ci/real-kernels). Probes are sampled from the
 * address space as libptwalk enumerates it (mapped ranges, holes, non-canonical addresses), a
 * bounded number per top-level entry so ESPFIX's 65,536 aliases stay a handful. A boot case keeps
 * only the pages its walks read (its dump is small); a real case is its own dump file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_internal.h"
#include "ptlab/emu.h"
#include "ptlab/maps.h"

/* ---- Sampling an address space --------------------------------------------------------------- */

/** Candidates: words of the address space worth asking about. */
struct sample {
	uint64_t *va;
	size_t n, cap;
	unsigned per_slot[1024];
};

static void candidate(struct sample *s, uint64_t va)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		uint64_t *v = realloc(s->va, s->cap * sizeof(*v));
		if (!v)
			abort();
		s->va = v;
	}
	s->va[s->n++] = va & ~UINT64_C(7);
}

void kit_sample_probes(struct kit_case *kc, const struct pt_context *ctx, const struct pt_mem *mem,
		       uint64_t seed, size_t max, size_t per_slot, uint64_t skip_va, uint32_t tag)
{
	const struct pt_level_desc *top = &ctx->desc->level[ctx->desc->levels];
	const struct pt_maps_opts opts = { .coalesce = true, .holes = true };
	struct pt_maps_iter *it;
	struct pt_range r;
	struct sample s = { 0 };
	uint64_t rng = seed;

	if (pt_maps_create(ctx, mem, &opts, &it) != PT_OK)
		return;
	while (pt_maps_next(it, &r)) {
		const unsigned slot = (unsigned)((r.va >> top->va_shift) & (PT_BIT(top->index_bits) - 1));
		/* Words inside: more for bigger ranges (up to 48 for a mapped one, 4 for a hole). */
		const uint64_t pages = r.size / PT_PAGE_4K;
		const unsigned inner = r.kind == PT_RANGE_MAPPED ? (pages > 48 ? 48 : (unsigned)pages)
				       : r.kind == PT_RANGE_HOLE ? 4 : 0;

		if (r.kind == PT_RANGE_UNREADABLE || r.kind == PT_RANGE_ALIAS || r.size < 8 ||
		    s.per_slot[slot] >= per_slot)
			continue;
		s.per_slot[slot]++;
		candidate(&s, r.va);
		for (unsigned i = 0; i < inner; i++)
			candidate(&s, r.va + 8 * kit_below(&rng, r.size / 8));
		if (r.kind == PT_RANGE_MAPPED)
			candidate(&s, r.va + r.size - 8);
	}
	pt_maps_destroy(it);
	if (ctx->desc->va_bits > 32) {
		/* Non-canonical neighbours of the two halves. */
		const uint64_t half = PT_BIT(ctx->desc->va_bits - 1);
		candidate(&s, half);
		candidate(&s, ~(half - 1) - PT_PAGE_4K);
		candidate(&s, half | UINT64_C(0x1000));
	}
	/* Keep at most `max`, spread evenly over the candidates (they are in VA order). */
	for (size_t i = 0; i < s.n && i < max; i++) {
		const size_t k = s.n <= max ? i : i * s.n / max;
		const uint64_t va = s.va[k];
		struct ptk_probe *p;

		if ((va & ~(PT_PAGE_4K - 1)) == skip_va)
			continue;
		p = kit_case_add_probe(kc);
		p->va = va;
		p->access = KA_R;
		p->tag = tag;
	}
	free(s.va);
}

/* ---- boot.* ----------------------------------------------------------------------------------- */

/** One boot: image, variant options. */
static const struct boot_variant {
	const char *image;
	bool la57, sme, pti;
	uint64_t kaslr_seed;         /**< 0: none */
	uint64_t phys_load, virt_offset;
} variants[] = {
	{ "linux64", false, false, false, 0, 0, 0 },
	{ "linux64", true, false, false, 0, 0, 0 },
	{ "linux64", false, false, false, 7, 0, 0 },
	{ "linux64", true, false, false, 11, 0, 0 },
	{ "linux64", false, false, false, 0, 0x2000000, 0x6000000 },
	{ "linux64", false, true, false, 0, 0, 0 },
	{ "linux64", false, false, true, 0, 0, 0 },
	{ "linux64-decompressor", false, false, false, 0, 0, 0 },
	{ "linux64-decompressor", true, false, false, 0, 0, 0 },
	{ "linux32-pae", false, false, false, 0, 0, 0 },
	{ "linux32-pae", false, false, false, 5, 0, 0 },
	{ "linux32-pae-pse", false, false, false, 0, 0, 0 },
	{ "linux32", false, false, false, 0, 0, 0 },
	{ "linux32-pse", false, false, false, 0, 0, 0 },
	{ "linux32-pae-vmsplit2g", false, false, false, 0, 0, 0 },
	{ "linux32-vmsplit1g", false, false, false, 0, 0, 0 },
	{ "linux32-pae-vmsplit1g", false, false, false, 0, 0, 0 },
};

/** Copy the 4 KiB page holding pa from the machine into the case, as a table page. */
static void copy_page(struct kit_case *kc, const struct pt_mem *mem, uint64_t pa)
{
	const uint64_t page = pa & ~(PT_PAGE_4K - 1);
	const void *src = mem->ptr(mem, page, PT_PAGE_4K);

	if (src && !kit_pages_find(&kc->pages, page))
		memcpy(kit_pages_table(&kc->pages, page), src, PT_PAGE_4K);
}

static struct kit_case *build_boot(const struct kit_case_def *def, const char *globs,
				   struct pt_error *err)
{
	const struct boot_variant *v = &variants[def->arg];
	struct pt_emu_boot_opts o = { .image = v->image, .mem_size = UINT64_C(64) << 20,
				      .la57 = v->la57, .sme = v->sme, .pti = v->pti };
	struct pt_emu_machine *m = NULL;
	struct pt_emu_boot_result res;
	struct pt_context ctx;
	struct kit_case *kc;
	const struct pt_mem *mem;

	if (!kit_tag_selected(globs, def->tags))
		return NULL;
	o.has_kaslr_seed = v->kaslr_seed != 0;
	o.kaslr_seed = v->kaslr_seed;
	o.phys_load = v->phys_load;
	o.has_virt_offset = v->virt_offset != 0;
	o.virt_offset = v->virt_offset;
	if (pt_emu_boot(&o, &m, &res, err) != PT_OK) {
		struct pt_error inner = *err;
		pt_emu_destroy(m);
		pt_error_printf(err, "case %s: booting %s failed: %s", def->name, v->image, inner.message);
		return NULL;
	}
	mem = pt_emu_mem(m);
	if (pt_context_init(&ctx, &res.cpu, mem, NULL, NULL) != PT_OK) {
		pt_emu_destroy(m);
		pt_error_printf(err, "case %s: the boot's CPU state is not a paging state", def->name);
		return NULL;
	}
	kc = kit_case_new(def->name);
	kc->pub.state = res.cpu;
	if (ctx.mode == PT_MODE_IA32E || ctx.mode == PT_MODE_LA57)
		kc->root_vaddr = KIT_ROOT_VA;
	kit_sample_probes(kc, &ctx, mem, def->arg + 1, 320, 48, kc->root_vaddr,
			  kit_case_add_tag(kc, def->tags, false));
	/* The dump holds the root (the PDPT's page in PAE) and every table a probe's walk reads. */
	copy_page(kc, mem, ctx.root);
	for (size_t i = 0; i < kc->nprobes; i++) {
		struct pt_result r;
		pt_walk(&ctx, mem, kc->probes[i].va, &r);
		for (unsigned e = 0; e < r.nentries; e++)
			copy_page(kc, mem, r.entry[e].pa);
	}
	pt_emu_destroy(m);
	if (!kit_case_finish(kc, true)) {
		kit_case_free(kc);
		return NULL;
	}
	return kc;
}

const struct kit_case_def kit_cases_boot[] = {
	{ "boot-linux64", "boot.linux64", build_boot, 0 },
	{ "boot-linux64-la57", "boot.linux64-la57", build_boot, 1 },
	{ "boot-linux64-kaslr", "boot.linux64-kaslr", build_boot, 2 },
	{ "boot-linux64-la57-kaslr", "boot.linux64-la57-kaslr", build_boot, 3 },
	{ "boot-linux64-relocated", "boot.linux64-relocated", build_boot, 4 },
	{ "boot-linux64-sme", "boot.linux64-sme", build_boot, 5 },
	{ "boot-linux64-pti", "boot.linux64-pti", build_boot, 6 },
	{ "boot-decompressor", "boot.decompressor", build_boot, 7 },
	{ "boot-decompressor-la57", "boot.decompressor-la57", build_boot, 8 },
	{ "boot-linux32-pae", "boot.linux32-pae", build_boot, 9 },
	{ "boot-linux32-pae-kaslr", "boot.linux32-pae-kaslr", build_boot, 10 },
	{ "boot-linux32-pae-pse", "boot.linux32-pae-pse", build_boot, 11 },
	{ "boot-linux32", "boot.linux32", build_boot, 12 },
	{ "boot-linux32-pse", "boot.linux32-pse", build_boot, 13 },
	{ "boot-linux32-pae-vmsplit2g", "boot.linux32-pae-vmsplit2g", build_boot, 14 },
	{ "boot-linux32-vmsplit1g", "boot.linux32-vmsplit1g", build_boot, 15 },
	{ "boot-linux32-pae-vmsplit1g", "boot.linux32-pae-vmsplit1g", build_boot, 16 },
	{ 0 },
};

/* ---- real.* ------------------------------------------------------------------------------------ */

struct kit_case *kit_real_case(const char *path, const char *stem, const char *globs,
			       struct pt_error *err)
{
	struct kit_case *kc;
	struct pt_context ctx;
	char name[96], tag[96];
	enum pt_status st;

	snprintf(tag, sizeof(tag), "real.%s", stem);
	if (!kit_tag_selected(globs, tag))
		return NULL;
	snprintf(name, sizeof(name), "real-%s", stem);
	kc = kit_case_new(name);
	if (pt_dump_open(path, NULL, &kc->dump, err) != PT_OK)
		goto fail;
	if (pt_dump_cpu(kc->dump, &kc->pub.state) == PT_CPU_NONE) {
		pt_error_set(err, path, PT_ERROR_NO_OFFSET, "no CPU state note: not a real-tier dump");
		goto fail;
	}
	kc->pub.mem = pt_dump_mem(kc->dump);
	kc->pub.format = pt_dump_format(kc->dump);
	snprintf(kc->dump_path, sizeof(kc->dump_path), "%s", path);
	kc->pub.dump = kc->dump_path;
	st = pt_context_init(&ctx, &kc->pub.state, kc->pub.mem, NULL, NULL);
	if (st != PT_OK || ctx.mode == PT_MODE_OFF) {
		pt_error_set(err, path, PT_ERROR_NO_OFFSET, "its CPU state is not a paging state (%s)",
			     pt_status_name(st));
		goto fail;
	}
	kit_sample_probes(kc, &ctx, kc->pub.mem, 0x5eed, 600, 48, UINT64_MAX,
			  kit_case_add_tag(kc, tag, true));
	if (!kit_case_finish(kc, false)) {
		kit_case_free(kc);
		return NULL;
	}
	return kc;
fail:
	kit_case_free(kc);
	return NULL;
}
