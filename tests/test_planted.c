/* SPDX-License-Identifier: MIT */
/*
 * The differential test must catch a real walker bug. This program is linked with a walker built
 * with PTLAB_PLANTED_BUG (walker/walk.c): 1 = U/S ignored for user-mode accesses, 2 = XD ignored.
 * It boots images in Unicorn and runs the same pt_diff_run as `ptlab diff`: the run must report
 * mismatches, and the first one must be exactly the planted bug (the walker translates where
 * Unicorn's MMU raises #PF with the U/S or I/D error bits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ptlab/emu.h"

#ifndef PTLAB_PLANTED_BUG
#error "test_planted is built with a planted walker bug"
#endif

#if PTLAB_PLANTED_BUG == 1
static void diff_once(const struct pt_emu_boot_opts *bo, struct pt_diff_stats *st)
{
	struct pt_emu_machine *m;
	struct pt_emu_boot_result r;
	struct pt_oracle *o;
	struct pt_error err;
	if (pt_emu_boot(bo, &m, &r, &err) != PT_OK)
		fail_msg("boot: %s", err.message);
	if (pt_oracle_create(pt_emu_mem(m), pt_emu_mem_size(m), &o, &err) != PT_OK)
		fail_msg("oracle: %s", err.message);
	struct pt_cpu_state cpu = r.cpu;
	cpu.maxphyaddr = (uint8_t)pt_oracle_maxphyaddr(o);
	const struct pt_diff_run_opts ro = { .probes = 20000, .seed = 1, .cpl = -1 };
	assert_int_equal(pt_diff_run(&cpu, pt_emu_mem(m), o, &ro, st, &err), PT_OK);
	pt_oracle_destroy(o);
	pt_emu_destroy(m);
}
#endif

static void test_planted_bug_is_caught(void **state)
{
	(void)state;
	struct pt_diff_stats *st = calloc(1, sizeof(*st));
	assert_non_null(st);
#if PTLAB_PLANTED_BUG == 1
	/* The kernel's pages are supervisor-only: user-mode probes of them must fault (P|U), and
	 * the planted walker lets them through. */
	diff_once(&(struct pt_emu_boot_opts){ 0 }, st);
	assert_true(st->mismatches > 0);
	const struct pt_diff_probe *p = &st->first_mismatch;
	assert_int_equal(p->access.cpl, 3);
	assert_false(p->access.implicit);
	assert_int_equal(p->walker_status, PT_OK);
	assert_int_equal(p->oracle.status, PT_FAULT);
	assert_int_equal(p->oracle.vector, 14);
	assert_true(p->oracle.error_code & 4);  /* U/S: a user-mode access */
	assert_true(p->oracle.error_code & 1);  /* P: protection, not absence */
#else
	/* The boot images map the kernel executable and run without EFER.NXE, so there is no XD to
	 * ignore. Set XD on every level2_kernel_pgt entry of a booted machine and turn NXE on: now
	 * fetches from the kernel window must fault (P|I/D), and the planted walker allows them. */
	struct pt_emu_machine *m;
	struct pt_emu_boot_result r;
	struct pt_oracle *o;
	struct pt_error err;
	if (pt_emu_boot(&(struct pt_emu_boot_opts){ 0 }, &m, &r, &err) != PT_OK)
		fail_msg("boot: %s", err.message);
	uint64_t l2 = 0;
	assert_true(pt_emu_symbol(m, "level2_kernel_pgt", &l2));
	const struct pt_mem *mem = pt_emu_mem(m);
	uint8_t *table = (uint8_t *)mem->ptr(mem, r.phys_load + (l2 - UINT64_C(0xffffffff81000000)), 4096);
	assert_non_null(table);
	for (unsigned i = 0; i < 512; i++)
		table[8 * i + 7] |= 0x80; /* XD */
	if (pt_oracle_create(mem, pt_emu_mem_size(m), &o, &err) != PT_OK)
		fail_msg("oracle: %s", err.message);
	struct pt_cpu_state cpu = r.cpu;
	cpu.maxphyaddr = (uint8_t)pt_oracle_maxphyaddr(o);
	cpu.efer |= UINT64_C(1) << 11; /* NXE: XD is honoured, not reserved */
	const struct pt_diff_run_opts ro = { .probes = 20000, .seed = 1, .cpl = -1 };
	assert_int_equal(pt_diff_run(&cpu, mem, o, &ro, st, &err), PT_OK);
	assert_true(st->mismatches > 0);
	const struct pt_diff_probe *p = &st->first_mismatch;
	assert_int_equal(p->access.kind, PT_ACCESS_FETCH);
	assert_int_equal(p->walker_status, PT_OK);
	assert_int_equal(p->oracle.status, PT_FAULT);
	assert_int_equal(p->oracle.error_code & 0x11, 0x11); /* P and I/D */
	pt_oracle_destroy(o);
	pt_emu_destroy(m);
#endif
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_planted_bug_is_caught),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
