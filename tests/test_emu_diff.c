/* SPDX-License-Identifier: MIT */
/*
 * Every boot image and variant, diffed: boot it, then compare the walker with Unicorn's MMU on
 * 20,000 probes (pt_diff_run, as `ptlab diff` does): 0 mismatches, 0 unanswered probes, and the
 * probes really exercised the space (matches). Variants: default, --la57 and --kaslr where the
 * image takes them, a relocated load, and --sme / --pti where offered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ptlab/emu.h"

static const uint64_t PROBES = 20000;

static void diff_variant(const char *label, const struct pt_emu_boot_opts *bo)
{
	struct pt_emu_machine *m;
	struct pt_emu_boot_result r;
	struct pt_oracle *o;
	struct pt_error err;
	struct pt_diff_stats *st = calloc(1, sizeof(*st));
	assert_non_null(st);
	if (pt_emu_boot(bo, &m, &r, &err) != PT_OK)
		fail_msg("%s: boot: %s", label, err.message);
	if (pt_oracle_create(pt_emu_mem(m), pt_emu_mem_size(m), &o, &err) != PT_OK)
		fail_msg("%s: oracle: %s", label, err.message);
	struct pt_cpu_state cpu = r.cpu;
	cpu.maxphyaddr = (uint8_t)pt_oracle_maxphyaddr(o);
	const struct pt_diff_run_opts ro = { .probes = PROBES, .seed = 7, .cpl = -1 };
	assert_int_equal(pt_diff_run(&cpu, pt_emu_mem(m), o, &ro, st, &err), PT_OK);
	uint64_t dev = 0;
	for (unsigned i = 0; i < PT_DEV_COUNT; i++)
		dev += st->deviations[i];
	printf("    %-44s %llu probes: %llu match, %llu deviations, %llu skipped, %llu mismatches\n",
	       label, (unsigned long long)st->probes, (unsigned long long)st->matches,
	       (unsigned long long)dev, (unsigned long long)st->skipped,
	       (unsigned long long)st->mismatches);
	if (st->mismatches)
		fail_msg("%s: first mismatch at VA 0x%llx (cpl %u kind %d): walker %s, oracle %s",
			 label, (unsigned long long)st->first_mismatch.va, st->first_mismatch.access.cpl,
			 (int)st->first_mismatch.access.kind,
			 pt_status_name(st->first_mismatch.walker_status),
			 pt_status_name(st->first_mismatch.oracle.status));
	assert_int_equal(st->probes, PROBES);
	assert_int_equal(st->unanswered, 0);
	assert_true(st->matches > PROBES / 2);
	pt_oracle_destroy(o);
	pt_emu_destroy(m);
	free(st);
}

static void test_every_image_and_variant(void **state)
{
	(void)state;
	unsigned variants = 0;
	for (size_t i = 0; i < pt_emu_image_count(); i++) {
		const struct pt_emu_image *img = pt_emu_image_at(i);
		char label[96];
		const bool is64 = img->paging == PT_MODE_IA32E;
		struct pt_emu_boot_opts o = { .image = img->name };
		diff_variant(img->name, &o);
		variants++;
		if (img->options & PT_EMU_OPT_LA57) {
			snprintf(label, sizeof(label), "%s --la57", img->name);
			diff_variant(label, &(struct pt_emu_boot_opts){ .image = img->name, .la57 = true });
			variants++;
		}
		if (img->options & PT_EMU_OPT_VIRT_OFFSET) {
			snprintf(label, sizeof(label), "%s --kaslr 5", img->name);
			diff_variant(label, &(struct pt_emu_boot_opts){ .image = img->name,
					    .has_kaslr_seed = true, .kaslr_seed = 5 });
			variants++;
		}
		if (img->options & PT_EMU_OPT_PHYS_LOAD) {
			snprintf(label, sizeof(label), "%s --phys-load 0x%x", img->name, is64 ? 0x4000000 : 0x3000000);
			diff_variant(label, &(struct pt_emu_boot_opts){ .image = img->name,
					    .phys_load = is64 ? 0x4000000 : 0x3000000 });
			variants++;
		}
		if (img->options & PT_EMU_OPT_SME) {
			snprintf(label, sizeof(label), "%s --sme", img->name);
			diff_variant(label, &(struct pt_emu_boot_opts){ .image = img->name, .sme = true });
			variants++;
		}
		if (img->options & PT_EMU_OPT_PTI) {
			snprintf(label, sizeof(label), "%s --pti", img->name);
			diff_variant(label, &(struct pt_emu_boot_opts){ .image = img->name, .pti = true });
			variants++;
		}
	}
	assert_true(variants >= 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_image_and_variant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
