/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd_boot.c: `ptlab boot IMAGE`: run a boot image (built in, or a real kernel's vmlinux or
 * bzImage) in Unicorn to its stop point (emu/machine.c); print CR3, the mode and the offsets;
 * write the dump and the System.map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab/emu.h"
#include "ptlab/symbols.h"
#include "util.h"

static const char cmd_name[] = "boot";

void ptl_usage_boot(FILE *out)
{
	fputs("Usage: ptlab boot IMAGE [options]\n"
	      "       ptlab boot vmlinux:PATH --symbols MAP [options]\n"
	      "       ptlab boot bzimage:PATH --symbols MAP [--cmdline TEXT] [options]\n"
	      "Run a boot image's own code in Unicorn over synthetic physical memory to its stop\n"
	      "point; print CR3, the paging mode and the offsets; optionally write an ELF core of\n"
	      "physical memory + CPU state (QEMU's layout plus a PTLAB note) and the System.map.\n"
	      "vmlinux:PATH runs a real x86-64 kernel's own startup_64, __startup_64 and\n"
	      "x86_64_start_kernel (entered through the built-in decompressor stage, early page\n"
	      "faults delivered through the kernel's IDT) and stops at start_kernel; it takes\n"
	      "--phys-load, --la57, --mem and --budget. bzimage:PATH starts earlier: a bzImage's own\n"
	      "decompressor runs (its KASLR unless --cmdline has nokaslr, extraction, relocation)\n"
	      "and hands over to the kernel, which runs as for vmlinux:PATH.\n"
	      "\n"
	      "  --symbols MAP        vmlinux: the kernel's symbols (kallsyms map, System.map or a\n"
	      "                       vmlinux with .symtab; link-time addresses)\n"
	      "  --cmdline TEXT       bzimage: the kernel command line (e.g. nokaslr)\n"
	      "  --out DUMP           write the ELF core here\n"
	      "  --symbols-out MAP    write the image's System.map (link-time addresses) here\n"
	      "  --phys-load PA       load the kernel at this physical address: 2 MiB-aligned for\n"
	      "                       the 64-bit images, 16 MiB-aligned from 16 MiB for i386\n"
	      "  --virt-offset OFF    slide the kernel's virtual addresses (KASLR); on i386 the\n"
	      "                       physical and virtual addresses move together\n"
	      "  --kaslr SEED         pick both offsets from SEED, as the kernel's KASLR would\n"
	      "  --la57               report LA57 in CPUID: the image builds 5-level tables\n"
	      "  --sme                report SME in CPUID 0x8000001F (C-bit 39) with SYSCFG's\n"
	      "                       MemEncryptionModeEn set: CR3 and the kernel's entries carry\n"
	      "                       the C-bit (the dump's note records it)\n"
	      "  --pti                pass pti=on on the kernel command line: init_top_pgt gets\n"
	      "                       its PTI user copy at +4 KiB mapping the entry text\n"
	      "  --mem SIZE           physical memory, e.g. 256M, 1G or 0x10000000 (default 256M)\n"
	      "  --budget N           instruction budget (default 10000000; vmlinux 200000000)\n"
	      "  --json               print one JSON object on stdout\n"
	      "  -h, --help           print this help\n"
	      "\n"
	      "Images: see 'ptlab images'. Exit: 0 booted, 1 the boot code faulted or did not\n"
	      "reach its stop point, 2 bad usage.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab boot linux64 --out linux64.core --symbols-out linux64.map\n"
	      "  ptlab boot linux64 --kaslr 7 --la57 --json\n"
	      "  ptlab boot linux64 --sme --pti --out smepti.core --symbols-out smepti.map\n"
	      "  ptlab boot linux64 --phys-load 0x4000000 --virt-offset 0x2000000 --out reloc.core\n"
	      "  ptlab boot vmlinux:vmlinux-6.1.0-56-amd64 --symbols kallsyms --la57 --out real.core\n"
	      "  ptlab boot bzimage:vmlinuz-6.1.0-56-amd64 --symbols kallsyms --mem 512M --out kaslr.core\n",
	      out);
}

enum boot_opt {
	OPT_OUT = PTL_OPT_COMMAND,
	OPT_SYMBOLS_OUT,
	OPT_SYMBOLS,
	OPT_CMDLINE,
	OPT_PHYS_LOAD,
	OPT_VIRT_OFFSET,
	OPT_KASLR,
	OPT_LA57,
	OPT_SME,
	OPT_PTI,
	OPT_MEM,
	OPT_BUDGET,
};

static const struct option long_options[] = {
	{ "out", required_argument, NULL, OPT_OUT },
	{ "symbols-out", required_argument, NULL, OPT_SYMBOLS_OUT },
	{ "symbols", required_argument, NULL, OPT_SYMBOLS },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "phys-load", required_argument, NULL, OPT_PHYS_LOAD },
	{ "virt-offset", required_argument, NULL, OPT_VIRT_OFFSET },
	{ "kaslr", required_argument, NULL, OPT_KASLR },
	{ "la57", no_argument, NULL, OPT_LA57 },
	{ "sme", no_argument, NULL, OPT_SME },
	{ "pti", no_argument, NULL, OPT_PTI },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "json", no_argument, NULL, PTL_OPT_JSON },
	{ "help", no_argument, NULL, PTL_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/** Describe the variant in a few words: "default", "phys-load=0x4000000 la57", ... */
static void variant_name(const struct pt_emu_boot_opts *o, const struct pt_emu_boot_result *r,
			 char *buf, size_t buflen)
{
	size_t used = 0;
	buf[0] = '\0';
#define ADD(...) used += (size_t)snprintf(buf + used, used < buflen ? buflen - used : 0, __VA_ARGS__)
	if (o->has_kaslr_seed)
		ADD("%skaslr=%llu", used ? " " : "", (unsigned long long)o->kaslr_seed);
	if (o->phys_load)
		ADD("%sphys-load=0x%llx", used ? " " : "", (unsigned long long)r->phys_load);
	if (o->has_virt_offset)
		ADD("%svirt-offset=0x%llx", used ? " " : "", (unsigned long long)r->virt_offset);
	if (o->la57)
		ADD("%sla57", used ? " " : "");
	if (o->sme)
		ADD("%ssme", used ? " " : "");
	if (o->pti)
		ADD("%spti", used ? " " : "");
	if (used == 0)
		ADD("default");
#undef ADD
}

/** What boot's options set. */
struct boot_args {
	struct pt_emu_boot_opts o;
	const char *out, *symbols_out, *symbols_in;
	bool json;
	bool vmlinux;  /**< vmlinux:PATH or bzimage:PATH, a real kernel */
	bool bzimage;  /**< bzimage:PATH */
};

/* The option's number field and name, for the options whose value is a number. */
static uint64_t *number_option(struct boot_args *a, int opt, const char **name_ret)
{
	switch (opt) {
	case OPT_PHYS_LOAD:
		*name_ret = "phys-load";
		return &a->o.phys_load;
	case OPT_VIRT_OFFSET:
		*name_ret = "virt-offset";
		a->o.has_virt_offset = true;
		return &a->o.virt_offset;
	case OPT_KASLR:
		*name_ret = "kaslr";
		a->o.has_kaslr_seed = true;
		return &a->o.kaslr_seed;
	case OPT_BUDGET:
		*name_ret = "budget";
		return &a->o.insn_budget;
	default:
		return NULL;
	}
}

static int own_option(void *state, int opt, const char *arg)
{
	struct boot_args *a = state;
	const char *name = NULL;
	uint64_t *num = number_option(a, opt, &name);

	if (num) {
		if (!ptl_parse_u64(arg, num))
			return ptl_usage_error(cmd_name, "--%s '%s' is not a number", name, arg);
		return PTL_CONTINUE;
	}
	switch (opt) {
	case PTL_OPT_HELP: return ptl_print_usage(ptl_usage_boot);
	case PTL_OPT_JSON: a->json = true; break;
	case OPT_OUT: a->out = arg; break;
	case OPT_SYMBOLS_OUT: a->symbols_out = arg; break;
	case OPT_SYMBOLS: a->symbols_in = arg; break;
	case OPT_CMDLINE: a->o.cmdline = arg; break;
	case OPT_LA57: a->o.la57 = true; break;
	case OPT_SME: a->o.sme = true; break;
	case OPT_PTI: a->o.pti = true; break;
	case OPT_MEM:
		if (!ptl_parse_size(arg, &a->o.mem_size))
			return ptl_usage_error(cmd_name, "--mem '%s' is not a size (e.g. 256M, 1G, 0x10000000)", arg);
		break;
	}
	return PTL_CONTINUE;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* IMAGE and the options that go with it; returns PTL_CONTINUE or a usage error. */
static int check_image(int argc, char *argv[], struct boot_args *a)
{
	if (optind >= argc)
		return ptl_usage_error(cmd_name, "missing IMAGE (see 'ptlab images')");
	if (optind + 1 < argc)
		return ptl_usage_error(cmd_name, "unexpected argument '%s'", argv[optind + 1]);
	a->o.image = argv[optind];
	a->bzimage = has_prefix(a->o.image, PT_EMU_BZIMAGE_PREFIX);
	a->vmlinux = a->bzimage || has_prefix(a->o.image, PT_EMU_VMLINUX_PREFIX);
	if (!a->vmlinux && !pt_emu_image_find(a->o.image))
		return ptl_usage_error(cmd_name, "no image '%s' (see 'ptlab images')", a->o.image);
	if (a->vmlinux && !a->symbols_in)
		return ptl_usage_error(cmd_name, "%s needs --symbols MAP (a kallsyms map is enough)", a->o.image);
	if (!a->vmlinux && a->symbols_in)
		return ptl_usage_error(cmd_name, "--symbols is for vmlinux:PATH (built-in images carry theirs)");
	if (!a->bzimage && a->o.cmdline)
		return ptl_usage_error(cmd_name, "--cmdline is for bzimage:PATH");
	if (a->o.cmdline && strlen(a->o.cmdline) > 255)
		return ptl_usage_error(cmd_name, "--cmdline: at most 255 characters");
	if (a->o.has_kaslr_seed && (a->o.phys_load || a->o.has_virt_offset))
		return ptl_usage_error(cmd_name, "--kaslr picks both offsets: drop --phys-load and --virt-offset");
	return PTL_CONTINUE;
}

static void print_json(const struct boot_args *a, const struct pt_emu_boot_result *r,
		       const char *variant)
{
	struct ptl_json j;

	ptl_json_init(&j, stdout);
	ptl_json_object_begin(&j);
	ptl_json_key(&j, "image");
	ptl_json_string(&j, r->image->name);
	ptl_json_key(&j, "variant");
	ptl_json_string(&j, variant);
	ptl_json_key(&j, "cr3");
	ptl_json_hex(&j, r->cpu.cr3);
	ptl_json_key(&j, "paging");
	ptl_json_string(&j, pt_mode_name(r->paging));
	ptl_json_key(&j, "phys_load");
	ptl_json_hex(&j, r->phys_load);
	ptl_json_key(&j, "phys_offset");
	ptl_json_hex(&j, r->phys_offset);
	ptl_json_key(&j, "virt_offset");
	ptl_json_hex(&j, r->virt_offset);
	ptl_json_key(&j, "dump");
	a->out ? ptl_json_string(&j, a->out) : ptl_json_null(&j);
	ptl_json_key(&j, "symbols");
	a->symbols_out ? ptl_json_string(&j, a->symbols_out) : ptl_json_null(&j);
	ptl_json_key(&j, "cr0");
	ptl_json_hex(&j, r->cpu.cr0);
	ptl_json_key(&j, "cr4");
	ptl_json_hex(&j, r->cpu.cr4);
	ptl_json_key(&j, "efer");
	ptl_json_hex(&j, r->cpu.efer);
	ptl_json_key(&j, "maxphyaddr");
	ptl_json_u64(&j, r->cpu.maxphyaddr);
	ptl_json_key(&j, "instructions");
	ptl_json_u64(&j, r->insns);
	if (a->vmlinux) {
		ptl_json_key(&j, "page_faults");
		ptl_json_u64(&j, r->page_faults);
		ptl_json_key(&j, "verify_cpu_passed");
		r->verify_cpu_checked ? ptl_json_bool(&j, true) : ptl_json_null(&j);
	}
	ptl_json_key(&j, "microseconds");
	ptl_json_u64(&j, (uint64_t)(r->seconds * 1e6));
	ptl_json_object_end(&j);
	ptl_json_finish(&j);
}

static void print_text(const struct boot_args *a, const struct pt_emu_boot_result *r,
		       const char *variant)
{
	printf("image      %s (%s)\n", r->image->name, variant);
	printf("paging     %s  CR0 0x%llx  CR3 0x%llx  CR4 0x%llx  EFER 0x%llx\n", pt_mode_name(r->paging),
	       (unsigned long long)r->cpu.cr0, (unsigned long long)r->cpu.cr3,
	       (unsigned long long)r->cpu.cr4, (unsigned long long)r->cpu.efer);
	printf("offsets    phys_load 0x%llx  phys_offset 0x%llx  virt_offset 0x%llx\n",
	       (unsigned long long)r->phys_load, (unsigned long long)r->phys_offset,
	       (unsigned long long)r->virt_offset);
	printf("run        %llu instructions in %.2f ms, stopped at 0x%llx\n",
	       (unsigned long long)r->insns, r->seconds * 1e3, (unsigned long long)r->stop_rip);
	if (a->vmlinux)
		printf("kernel     %u page fault(s) delivered through its IDT; verify_cpu %s\n",
		       r->page_faults, r->verify_cpu_checked ? "passed" : "not observed");
	if (a->out)
		printf("dump       %s\n", a->out);
	if (a->symbols_out)
		printf("symbols    %s\n", a->symbols_out);
}

/* Boot, write the dump and the System.map, print; returns an exit status. */
static int boot(struct boot_args *a)
{
	struct pt_emu_machine *m = NULL;
	struct pt_emu_boot_result r;
	struct pt_error err;
	struct pt_symtab *symtab = NULL;
	char variant[160];
	int ret = PTL_EXIT_USAGE;

	if (a->symbols_in) {
		if (pt_symtab_load(a->symbols_in, &symtab, &err) != PT_OK) {
			ptl_error("%s", err.message);
			return PTL_EXIT_USAGE;
		}
		a->o.symbols = symtab;
	}
	enum pt_status st = pt_emu_boot(&a->o, &m, &r, &err);
	if (st != PT_OK) {
		ptl_error("%s", err.message);
		/* Option values the image cannot take, and unreadable inputs, are usage errors; a
		 * failed boot is a failed check. */
		ret = st == PT_FAULT ? PTL_EXIT_FAILED : PTL_EXIT_USAGE;
		goto out;
	}
	if ((a->out && pt_emu_write_core(m, a->out, &err) != PT_OK) ||
	    (a->symbols_out && pt_emu_write_symbols(m, a->symbols_out, &err) != PT_OK)) {
		ptl_error("%s", err.message);
		goto out;
	}
	variant_name(&a->o, &r, variant, sizeof(variant));
	if (a->json)
		print_json(a, &r, variant);
	else
		print_text(a, &r, variant);
	ret = PTL_EXIT_OK;
out:
	pt_emu_destroy(m);
	pt_symtab_destroy(symtab);
	return ret;
}

int ptl_cmd_boot(int argc, char *argv[])
{
	struct boot_args args;
	const struct ptl_option_spec spec = { cmd_name, long_options, ":h", NULL, own_option, &args };
	int ret;

	memset(&args, 0, sizeof(args));
	ret = ptl_parse_options(&spec, argc, argv);
	if (ret == PTL_CONTINUE)
		ret = check_image(argc, argv, &args);
	if (ret != PTL_CONTINUE)
		return ret;
	return boot(&args);
}
