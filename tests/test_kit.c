/* SPDX-License-Identifier: MIT */
/*
 * tests/test_kit.c: the conformance kit's cases themselves.
 * - Every hand-built probe's stated answer equals libptwalk's (so a case cannot drift from what
 *   its author meant, nor the walker from the case, silently).
 * - Every case's dump, written and read back through the public dump API, gives the same CPU
 *   state and the same answer for every probe (so `ptlab translate DUMP VA` replays a failure).
 * - Data pages: the word at every expected PA is that PA's tag.
 * - Deterministic: two builds of the same case write byte-identical dumps.
 * - Decoys: where a peer bug reads instead of faulting, the case holds that PA's tag (a walker
 *   answering with bytes is caught there), and a table copy where a kept reserved bit points.
 * - At least 15 tags and 10,000 probes by default; every tag named in docs/conformance.md exists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kit_internal.h"
#include "ptlab/le.h"

#ifndef PTLAB_TEST_TMP
#define PTLAB_TEST_TMP "."
#endif

static const char *intent_kind_name(int kind)
{
	static const char *const names[] = { "derive", "PA", "#PF", "#GP" };
	return kind >= 0 && kind < 4 ? names[kind] : "?";
}

/** The stated answer of probe i equals libptwalk's; prints the first differences. */
static unsigned check_intents(const struct kit_case *kc)
{
	unsigned bad = 0;

	for (size_t i = 0; i < kc->nprobes; i++) {
		const struct kit_intent *in = &kc->intents[i];
		const struct ptk_expect *x = &kc->probes[i].expect;
		bool same;

		switch (in->kind) {
		case KIT_INTENT_DERIVE:
			continue;
		case KIT_INTENT_PA:
			same = x->kind == PTK_EXPECT_PA && x->pa == in->pa && x->page_size == in->page_size;
			break;
		case KIT_INTENT_PF:
			same = x->kind == PTK_EXPECT_PF && x->pf_error == in->pf_error;
			break;
		case KIT_INTENT_GP:
			same = x->kind == PTK_EXPECT_GP;
			break;
		default:
			same = false;
		}
		if (!same && bad++ < 5)
			fprintf(stderr, "case %s probe %zu VA 0x%llx access 0x%x: stated %s pa 0x%llx "
				"size 0x%llx err 0x%x; libptwalk kind %d pa 0x%llx size 0x%llx err 0x%x\n",
				kc->name, i, (unsigned long long)kc->probes[i].va, kc->probes[i].access,
				intent_kind_name(in->kind), (unsigned long long)in->pa,
				(unsigned long long)in->page_size, in->pf_error, x->kind,
				(unsigned long long)x->pa, (unsigned long long)x->page_size, x->pf_error);
	}
	return bad;
}

/** Write the dump, open it, and compare state and every answer. */
static void check_replay(const struct ptk_case *c, const char *path)
{
	struct pt_error err;
	struct pt_dump *d = NULL;
	struct pt_cpu_state s;
	struct pt_context ctx;

	assert_int_equal(ptk_case_write(c, path, &err), PT_OK);
	assert_int_equal(pt_dump_open(path, NULL, &d, &err), PT_OK);
	assert_int_equal(pt_dump_cpu(d, &s), PT_CPU_PTLAB);
	assert_int_equal(s.cr0, c->state.cr0);
	assert_int_equal(s.cr3, c->state.cr3);
	assert_int_equal(s.cr4, c->state.cr4);
	assert_int_equal(s.efer, c->state.efer);
	assert_int_equal(s.maxphyaddr, c->state.maxphyaddr);
	assert_int_equal(s.cbit, c->state.cbit);
	assert_int_equal(s.pkru, c->state.pkru);
	assert_int_equal(s.has_pdpte_regs, c->state.has_pdpte_regs);
	assert_int_equal(pt_context_init(&ctx, &s, pt_dump_mem(d), NULL, NULL), PT_OK);
	if (c->cpu.paging == PTLAB_PAGING_PAE)
		assert_memory_equal(ctx.pdpte, c->cpu.pdpte, sizeof(ctx.pdpte));
	for (size_t i = 0; i < c->nprobes; i++) {
		const struct ptk_probe *p = &c->probes[i];
		struct ptk_expect x;
		assert_true(kit_expect(&ctx, pt_dump_mem(d), p->va, p->access, &x));
		assert_int_equal(x.kind, p->expect.kind);
		assert_int_equal(x.pa, p->expect.pa);
		assert_int_equal(x.page_size, p->expect.page_size);
		assert_int_equal(x.pf_error, p->expect.pf_error);
		if (x.kind == PTK_EXPECT_PA) {
			uint8_t word[8];
			assert_int_equal(ptk_read_phys((void *)pt_dump_mem(d), x.pa & ~UINT64_C(7), word, 8), 0);
			/* A data page holds tags; a table page (a probe may land in one) its entries. */
			const uint8_t *page = kit_pages_find(&((const struct kit_case *)c)->pages, x.pa);
			assert_non_null(page);
			assert_memory_equal(word, page + (x.pa & 0xff8), 8);
		}
	}
	if (c->cpu.paging == PTLAB_PAGING_IA32E_4 || c->cpu.paging == PTLAB_PAGING_IA32E_5) {
		char buf[64];
		assert_true(pt_dump_vmcoreinfo_get(d, "SYMBOL(swapper_pg_dir)", buf, sizeof(buf)));
		assert_string_equal(buf, "fffffe0000000000");
	}
	pt_dump_close(d);
}

static void test_cases(void **state)
{
	struct ptk_select sel = { .builtin_only = true };
	struct ptk_cases *cs;
	const struct ptk_case *c;
	struct pt_error err;
	char path[PATH_MAX];
	size_t ncases = 0, nprobes = 0, stated = 0;
	unsigned bad = 0;
	const char *tags[256];
	size_t ntags = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/test_kit_case.core", PTLAB_TEST_TMP);
	assert_int_equal(ptk_cases_open(&sel, &cs, &err), PT_OK);
	for (;;) {
		enum pt_status st = ptk_cases_next(cs, &c, &err);
		if (st != PT_OK)
			fprintf(stderr, "%s\n", err.message);
		assert_int_equal(st, PT_OK);
		if (!c)
			break;
		const struct kit_case *kc = (const struct kit_case *)c;
		ncases++;
		nprobes += c->nprobes;
		for (size_t i = 0; i < kc->nprobes; i++)
			stated += kc->intents[i].kind != KIT_INTENT_DERIVE;
		bad += check_intents(kc);
		check_replay(c, path);
		for (size_t t = 0; t < c->ntags; t++) {
			size_t k;
			for (k = 0; k < ntags && strcmp(tags[k], c->tags[t]) != 0; k++)
				;
			if (k == ntags && ntags < 256)
				tags[ntags++] = c->tags[t];
		}
	}
	ptk_cases_close(cs);
	unlink(path);
	printf("%zu cases, %zu probes (%zu with a stated answer), %zu tags\n", ncases, nprobes,
	       stated, ntags);
	assert_int_equal(bad, 0);
	assert_true(ntags >= 15);
	assert_true(nprobes >= 10000);
}

/** Two builds of a case write the same bytes. */
static void test_deterministic(void **state)
{
	struct ptk_select sel = { .builtin_only = true, .tags = "random.*,ia32e5,pae.*" };
	char a[PATH_MAX], b[PATH_MAX];
	struct pt_error err;

	(void)state;
	for (int round = 0; round < 2; round++) {
		struct ptk_cases *cs;
		const struct ptk_case *c;
		snprintf(round ? b : a, PATH_MAX, "%s/test_kit_det%d.core", PTLAB_TEST_TMP, round);
		assert_int_equal(ptk_cases_open(&sel, &cs, &err), PT_OK);
		assert_int_equal(ptk_cases_next(cs, &c, &err), PT_OK);
		assert_non_null(c);
		assert_int_equal(ptk_case_write(c, round ? b : a, &err), PT_OK);
		ptk_cases_close(cs);
	}
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	assert_non_null(fa);
	assert_non_null(fb);
	for (;;) {
		int x = fgetc(fa), y = fgetc(fb);
		assert_int_equal(x, y);
		if (x == EOF)
			break;
	}
	fclose(fa);
	fclose(fb);
	unlink(a);
	unlink(b);
}

/** The PTLAB note carries the PAE PDPTE registers (112-byte descriptor) and gives them back. */
static void test_pdpte_registers_note(void **state)
{
	struct ptk_select sel = { .builtin_only = true, .tags = "pae.pdpte-from-register" };
	struct ptk_cases *cs;
	const struct ptk_case *c;
	struct pt_error err;
	struct pt_dump *d;
	struct pt_cpu_state s;
	char path[PATH_MAX];

	(void)state;
	snprintf(path, sizeof(path), "%s/test_kit_pdpte.core", PTLAB_TEST_TMP);
	assert_int_equal(ptk_cases_open(&sel, &cs, &err), PT_OK);
	assert_int_equal(ptk_cases_next(cs, &c, &err), PT_OK);
	assert_non_null(c);
	assert_true(c->state.has_pdpte_regs);
	assert_int_equal(ptk_case_write(c, path, &err), PT_OK);
	assert_int_equal(pt_dump_open(path, NULL, &d, &err), PT_OK);
	assert_int_equal(pt_dump_cpu(d, &s), PT_CPU_PTLAB);
	assert_true(s.has_pdpte_regs);
	assert_memory_equal(s.pdpte_regs, c->state.pdpte_regs, sizeof(s.pdpte_regs));
	/* Memory's PDPTE 1 is not present, the register's is. */
	uint8_t e[8];
	assert_int_equal(ptk_read_phys((void *)pt_dump_mem(d), (c->state.cr3 & ~UINT64_C(31)) + 8, e, 8), 0);
	assert_int_equal(pt_le64(e), 0);
	assert_int_not_equal(s.pdpte_regs[1], 0);
	pt_dump_close(d);
	ptk_cases_close(cs);
	unlink(path);
}

/** The first case of the tags `globs`. */
static const struct ptk_case *first_case(const char *globs, struct ptk_cases **cs)
{
	struct ptk_select sel = { .builtin_only = true, .tags = globs };
	const struct ptk_case *c;
	struct pt_error err;

	assert_int_equal(ptk_cases_open(&sel, cs, &err), PT_OK);
	assert_int_equal(ptk_cases_next(*cs, &c, &err), PT_OK);
	assert_non_null(c);
	return c;
}

/** The word at pa is pa's tag: 0 when it is, 1 when not, -1 when pa is not in the dump. */
static int holds_tag(const struct ptk_case *c, uint64_t pa)
{
	uint8_t w[8];

	if (ptk_read_phys((void *)c->mem, pa, w, 8) != 0)
		return -1;
	return pt_le64(w) == ptk_data_tag(pa) ? 0 : 1;
}

/** Where the bugs read, the dumps hold data; the CPU's own answers are unchanged (test_cases). */
static void test_decoys(void **state)
{
	struct ptk_cases *cs;
	const struct ptk_case *c;
	uint8_t pt[8], copy[8];

	(void)state;
	/* PS in a PML4E taken as a 512 GiB page: VA 0x100000000100 reads PA 0x100 (stated). */
	c = first_case("peer-bugs.pml4e-ps-as-large", &cs);
	assert_int_equal(holds_tag(c, 0x100), 0);
	ptk_cases_close(cs);
	/* Bits 51:40 kept in a PTE's frame with MAXPHYADDR 40 (worked out by the lenient walks):
	 * VA 0x200000000088 reads PA 0x1feffffd088; the page table behind a PDE with bit 44 set
	 * is copied at its PA | 2^44, leading to the page it maps (PA 0x1000000). */
	c = first_case("peer-bugs.frame-bits-above-maxphyaddr", &cs);
	assert_int_equal(holds_tag(c, 0x1feffffd088), 0);
	assert_int_equal(holds_tag(c, 0x1000000), 0);
	struct pt_result r;
	struct pt_context ctx;
	assert_int_equal(pt_context_init(&ctx, &c->state, c->mem, NULL, NULL), PT_OK);
	assert_int_equal(pt_walk(&ctx, c->mem, 0x0000300000000000, &r), PT_FAULT);
	assert_int_equal(r.fault.level, 2);
	const uint64_t table = r.fault.entry & ~PT_BIT(44) & ~UINT64_C(0xfff);
	assert_int_equal(ptk_read_phys((void *)c->mem, table, pt, 8), 0);
	assert_int_equal(ptk_read_phys((void *)c->mem, table | PT_BIT(44), copy, 8), 0);
	assert_memory_equal(pt, copy, 8);
	ptk_cases_close(cs);
	/* A non-present PAE PDPTE "translating" to PA 0. */
	c = first_case("peer-bugs.pae-nonpresent-pdpte", &cs);
	assert_int_equal(holds_tag(c, 0), 0);
	ptk_cases_close(cs);
	/* The PDPT in memory, not the registers: its mappings' pages (0x9000000 + ...). */
	c = first_case("peer-bugs.pae-pdpte-reread", &cs);
	assert_int_equal(holds_tag(c, 0x9000000), 0);
	ptk_cases_close(cs);
	/* Direct-map arithmetic over a hole of the direct map. */
	c = first_case("peer-bugs.direct-map-arithmetic", &cs);
	assert_int_equal(holds_tag(c, 0x10000000), 0);
	ptk_cases_close(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_decoys),
		cmocka_unit_test(test_pdpte_registers_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
