/* SPDX-License-Identifier: MIT */
/*
 * emucheck: a program from outside the ptlab tree, built against an INSTALLED libptemu (through
 * pkg-config or find_package(ptlab), shared or static; tests/consumer/check-install.sh). It boots
 * the default image in Unicorn, translates linux_banner (its link-time address plus the boot's
 * KASLR slide) with the walker and reads "Linux version" there, then compares the walker with
 * Unicorn's MMU on PROBES random probes (default 2000).
 *
 *   emucheck [PROBES]
 *   exit 0: every check holds; 1: a check failed (printed); 2: bad usage, or the boot failed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ptlab/emu.h>
#include <ptlab/version.h>
#include <ptlab/walk.h>

static const char banner_text[] = "Linux version";

/* linux_banner, translated by the walker, must hold the banner text. */
static int check_banner(const struct pt_emu_machine *m, const struct pt_emu_boot_result *boot)
{
	const struct pt_mem *mem = pt_emu_mem(m);
	const struct pt_access read = { .kind = PT_ACCESS_READ, .cpl = 0, .implicit = false };
	struct pt_context ctx;
	struct pt_result r;
	uint64_t link_va;

	if (!pt_emu_symbol(m, "linux_banner", &link_va)) {
		fprintf(stderr, "emucheck: %s has no linux_banner symbol\n", boot->image->name);
		return 1;
	}
	const uint64_t va = link_va + boot->virt_offset;
	if (pt_context_init(&ctx, &boot->cpu, mem, NULL, NULL) != PT_OK) {
		fprintf(stderr, "emucheck: the boot's CPU state is not a paging context\n");
		return 1;
	}
	const enum pt_status st = pt_translate(&ctx, mem, va, &read, &r);
	if (st != PT_OK) {
		fprintf(stderr, "emucheck: linux_banner 0x%" PRIx64 ": %s\n", va, pt_status_name(st));
		return 1;
	}
	const char *text = mem->ptr(mem, r.pa, sizeof(banner_text) - 1);
	if (text == NULL || memcmp(text, banner_text, sizeof(banner_text) - 1) != 0) {
		fprintf(stderr, "emucheck: linux_banner 0x%" PRIx64 " -> 0x%" PRIx64
			" does not hold \"%s\"\n", va, r.pa, banner_text);
		return 1;
	}
	printf("emucheck: %s booted in Unicorn (%" PRIu64 " instructions), CR3 0x%" PRIx64
	       ", %s paging\n", boot->image->name, boot->insns, boot->cpu.cr3,
	       pt_mode_name(ctx.mode));
	printf("  linux_banner  0x%" PRIx64 " -> 0x%" PRIx64 ": \"%s...\"\n", va, r.pa, banner_text);
	return 0;
}

/* The walker against Unicorn's MMU on `probes` probes: no mismatch. */
static int check_oracle(const struct pt_emu_machine *m, const struct pt_emu_boot_result *boot,
			uint64_t probes)
{
	const struct pt_mem *mem = pt_emu_mem(m);
	struct pt_oracle *oracle = NULL;
	struct pt_diff_stats stats;
	struct pt_error err;
	struct pt_cpu_state cpu = boot->cpu;
	const struct pt_diff_run_opts opts = { .probes = probes, .seed = 1, .cpl = -1 };
	int ret = 1;

	if (pt_oracle_create(mem, pt_emu_mem_size(m), &oracle, &err) != PT_OK) {
		fprintf(stderr, "emucheck: %s\n", err.message);
		goto out;
	}
	cpu.maxphyaddr = (uint8_t)pt_oracle_maxphyaddr(oracle);
	if (pt_diff_run(&cpu, mem, oracle, &opts, &stats, &err) != PT_OK) {
		fprintf(stderr, "emucheck: %s\n", err.message);
		goto out;
	}
	printf("  oracle        %" PRIu64 " probes: %" PRIu64 " match, %" PRIu64 " skipped, %" PRIu64
	       " mismatches\n", stats.probes, stats.matches, stats.skipped, stats.mismatches);
	if (stats.probes != probes || stats.mismatches != 0 || stats.matches == 0) {
		fprintf(stderr, "emucheck: the walker and Unicorn's MMU disagree\n");
		goto out;
	}
	ret = 0;
out:
	pt_oracle_destroy(oracle);
	return ret;
}

int main(int argc, char *argv[])
{
	const struct pt_emu_boot_opts opts = { .image = NULL };
	struct pt_emu_machine *m = NULL;
	struct pt_emu_boot_result boot;
	struct pt_error err;
	uint64_t probes = 2000;
	char *end;
	int ret;

	if (argc > 2) {
		fprintf(stderr, "usage: emucheck [PROBES]\n");
		return 2;
	}
	if (argc == 2) {
		probes = strtoull(argv[1], &end, 0);
		if (*argv[1] == '\0' || *end != '\0' || probes == 0 || probes > 10000000) {
			fprintf(stderr, "emucheck: PROBES '%s': a number from 1 to 10000000\n", argv[1]);
			return 2;
		}
	}
	if (strcmp(pt_version(), PTLAB_VERSION_STRING) != 0) {
		fprintf(stderr, "emucheck: libptwalk is %s, its headers %s\n", pt_version(),
			PTLAB_VERSION_STRING);
		return 1;
	}
	if (pt_emu_boot(&opts, &m, &boot, &err) != PT_OK) {
		fprintf(stderr, "emucheck: %s\n", err.message);
		return 2;
	}
	ret = check_banner(m, &boot);
	if (ret == 0)
		ret = check_oracle(m, &boot, probes);
	pt_emu_destroy(m);
	return ret;
}
