/* SPDX-License-Identifier: MIT */
/* `ptlab images` and `ptlab boot`: the boot images built into ptlab, and running one in Unicorn. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptlab/emu.h"
#include "ptlab/symbols.h"
#include "util.h"

/* ---- ptlab images ------------------------------------------------------------------------ */

static const struct {
	uint32_t bit;
	const char *name;
} option_names[] = {
	{ PT_EMU_OPT_PHYS_LOAD, "phys-load" },
	{ PT_EMU_OPT_VIRT_OFFSET, "virt-offset" },
	{ PT_EMU_OPT_VIRT_OFFSET, "kaslr" },
	{ PT_EMU_OPT_LA57, "la57" },
	{ PT_EMU_OPT_SME, "sme" },
	{ PT_EMU_OPT_PTI, "pti" },
};

void ptl_usage_images(FILE *out)
{
	fputs("Usage: ptlab images [--json]\n"
	      "List the boot images built into ptlab, the default first, with the paging mode\n"
	      "each leaves at its stop point and the `ptlab boot` options (variants) it takes.\n"
	      "\n"
	      "Examples:\n"
	      "  ptlab images\n"
	      "  ptlab images --json\n",
	      out);
}

int ptl_cmd_images(int argc, char *argv[])
{
	static const struct option long_options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			ptl_usage_images(stdout);
			return PTL_EXIT_OK;
		default:
			return ptl_getopt_error("images", opt, argv);
		}
	}
	if (optind != argc)
		return ptl_usage_error("images", "unexpected argument '%s'", argv[optind]);

	struct ptl_json j;
	if (json) {
		ptl_json_init(&j, stdout);
		ptl_json_object_begin(&j);
		ptl_json_key(&j, "images");
		ptl_json_array_begin(&j);
	}
	for (size_t i = 0; i < pt_emu_image_count(); i++) {
		const struct pt_emu_image *img = pt_emu_image_at(i);
		if (json) {
			ptl_json_object_begin(&j);
			ptl_json_key(&j, "name");
			ptl_json_string(&j, img->name);
			ptl_json_key(&j, "paging");
			ptl_json_string(&j, pt_mode_name(img->paging));
			ptl_json_key(&j, "description");
			ptl_json_string(&j, img->description);
			ptl_json_key(&j, "default");
			ptl_json_bool(&j, i == 0);
			ptl_json_key(&j, "options");
			ptl_json_array_begin(&j);
			for (size_t k = 0; k < sizeof(option_names) / sizeof(option_names[0]); k++) {
				if (img->options & option_names[k].bit)
					ptl_json_string(&j, option_names[k].name);
			}
			ptl_json_array_end(&j);
			ptl_json_object_end(&j);
			continue;
		}
		printf("%-22s %-6s %s%s\n", img->name, pt_mode_name(img->paging), img->description,
		       i == 0 ? " (default)" : "");
		printf("%-29s options:", "");
		bool any = false;
		for (size_t k = 0; k < sizeof(option_names) / sizeof(option_names[0]); k++) {
			if (img->options & option_names[k].bit) {
				printf(" --%s", option_names[k].name);
				any = true;
			}
		}
		printf("%s\n", any ? "" : " none");
	}
	if (json) {
		ptl_json_array_end(&j);
		ptl_json_object_end(&j);
		ptl_json_finish(&j);
	}
	return PTL_EXIT_OK;
}

/* ---- ptlab boot ---------------------------------------------------------------------------- */

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
	      "  --out DUMP           write the ELF core here, with the VMCOREINFO note the kernel\n"
	      "                       would export (drgn, crash and find-kpgd read it)\n"
	      "  --no-vmcoreinfo      leave that note out, as QEMU does without -device vmcoreinfo\n"
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

/** A size: a number with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *text, uint64_t *value_ret)
{
	char buf[64];
	size_t n = strlen(text);
	uint64_t mult = 1;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, text, n + 1);
	switch (buf[n - 1]) {
	case 'K': case 'k': mult = UINT64_C(1) << 10; break;
	case 'M': case 'm': mult = UINT64_C(1) << 20; break;
	case 'G': case 'g': mult = UINT64_C(1) << 30; break;
	default: break;
	}
	if (mult != 1)
		buf[n - 1] = '\0';
	uint64_t v;
	if (!ptl_parse_u64(buf, &v) || v > UINT64_MAX / mult)
		return false;
	*value_ret = v * mult;
	return true;
}

enum boot_opt {
	OPT_OUT = 256,
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
	OPT_JSON,
	OPT_NO_VMCOREINFO,
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

int ptl_cmd_boot(int argc, char *argv[])
{
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
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-vmcoreinfo", no_argument, NULL, OPT_NO_VMCOREINFO },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pt_emu_boot_opts o;
	const char *out = NULL, *symbols_out = NULL, *symbols_in = NULL;
	struct pt_emu_core_opts core_opts = { 0 };
	bool json = false;
	int opt;

	memset(&o, 0, sizeof(o));
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		uint64_t *num = NULL;
		const char *what = NULL;
		switch (opt) {
		case 'h':
			ptl_usage_boot(stdout);
			return PTL_EXIT_OK;
		case OPT_OUT: out = optarg; break;
		case OPT_SYMBOLS_OUT: symbols_out = optarg; break;
		case OPT_SYMBOLS: symbols_in = optarg; break;
		case OPT_CMDLINE: o.cmdline = optarg; break;
		case OPT_PHYS_LOAD: num = &o.phys_load; what = "phys-load"; break;
		case OPT_VIRT_OFFSET: num = &o.virt_offset; what = "virt-offset"; o.has_virt_offset = true; break;
		case OPT_KASLR: num = &o.kaslr_seed; what = "kaslr"; o.has_kaslr_seed = true; break;
		case OPT_BUDGET: num = &o.insn_budget; what = "budget"; break;
		case OPT_LA57: o.la57 = true; break;
		case OPT_SME: o.sme = true; break;
		case OPT_PTI: o.pti = true; break;
		case OPT_JSON: json = true; break;
		case OPT_NO_VMCOREINFO: core_opts.no_vmcoreinfo = true; break;
		case OPT_MEM:
			if (!parse_size(optarg, &o.mem_size))
				return ptl_usage_error("boot", "--mem '%s' is not a size (e.g. 256M, 1G, 0x10000000)", optarg);
			break;
		default:
			return ptl_getopt_error("boot", opt, argv);
		}
		if (num && !ptl_parse_u64(optarg, num))
			return ptl_usage_error("boot", "--%s '%s' is not a number", what, optarg);
	}
	if (optind >= argc)
		return ptl_usage_error("boot", "missing IMAGE (see 'ptlab images')");
	if (optind + 1 < argc)
		return ptl_usage_error("boot", "unexpected argument '%s'", argv[optind + 1]);
	o.image = argv[optind];
	const bool bzimage = strncmp(o.image, PT_EMU_BZIMAGE_PREFIX, strlen(PT_EMU_BZIMAGE_PREFIX)) == 0;
	const bool vmlinux = bzimage || strncmp(o.image, PT_EMU_VMLINUX_PREFIX, strlen(PT_EMU_VMLINUX_PREFIX)) == 0;
	if (!vmlinux && !pt_emu_image_find(o.image))
		return ptl_usage_error("boot", "no image '%s' (see 'ptlab images')", o.image);
	if (vmlinux && !symbols_in)
		return ptl_usage_error("boot", "%s needs --symbols MAP (a kallsyms map is enough)", o.image);
	if (!vmlinux && symbols_in)
		return ptl_usage_error("boot", "--symbols is for vmlinux:PATH (built-in images carry theirs)");
	if (!bzimage && o.cmdline)
		return ptl_usage_error("boot", "--cmdline is for bzimage:PATH");
	if (o.cmdline && strlen(o.cmdline) > 255)
		return ptl_usage_error("boot", "--cmdline: at most 255 characters");
	if (o.has_kaslr_seed && (o.phys_load || o.has_virt_offset))
		return ptl_usage_error("boot", "--kaslr picks both offsets: drop --phys-load and --virt-offset");

	struct pt_emu_machine *m = NULL;
	struct pt_emu_boot_result r;
	struct pt_error err;
	struct pt_symtab *symtab = NULL;
	if (symbols_in) {
		if (pt_symtab_load(symbols_in, &symtab, &err) != PT_OK) {
			ptl_error("%s", err.message);
			return PTL_EXIT_USAGE;
		}
		o.symbols = symtab;
	}
	int ret = PTL_EXIT_OK;
	enum pt_status st = pt_emu_boot(&o, &m, &r, &err);
	if (st != PT_OK) {
		ptl_error("%s", err.message);
		/* Option values the image cannot take, and unreadable inputs, are usage errors; a
		 * failed boot is a failed check. */
		ret = st == PT_FAULT ? PTL_EXIT_FAILED : PTL_EXIT_USAGE;
		goto done;
	}
	if (out && pt_emu_write_core_opts(m, out, &core_opts, &err) != PT_OK) {
		ptl_error("%s", err.message);
		ret = PTL_EXIT_USAGE;
		goto done;
	}
	if (symbols_out && pt_emu_write_symbols(m, symbols_out, &err) != PT_OK) {
		ptl_error("%s", err.message);
		ret = PTL_EXIT_USAGE;
		goto done;
	}
	char variant[160];
	variant_name(&o, &r, variant, sizeof(variant));
	if (json) {
		struct ptl_json j;
		ptl_json_init(&j, stdout);
		ptl_json_object_begin(&j);
		ptl_json_key(&j, "image");
		ptl_json_string(&j, r.image->name);
		ptl_json_key(&j, "variant");
		ptl_json_string(&j, variant);
		ptl_json_key(&j, "cr3");
		ptl_json_hex(&j, r.cpu.cr3);
		ptl_json_key(&j, "paging");
		ptl_json_string(&j, pt_mode_name(r.paging));
		ptl_json_key(&j, "phys_load");
		ptl_json_hex(&j, r.phys_load);
		ptl_json_key(&j, "phys_offset");
		ptl_json_hex(&j, r.phys_offset);
		ptl_json_key(&j, "virt_offset");
		ptl_json_hex(&j, r.virt_offset);
		ptl_json_key(&j, "dump");
		out ? ptl_json_string(&j, out) : ptl_json_null(&j);
		ptl_json_key(&j, "symbols");
		symbols_out ? ptl_json_string(&j, symbols_out) : ptl_json_null(&j);
		ptl_json_key(&j, "cr0");
		ptl_json_hex(&j, r.cpu.cr0);
		ptl_json_key(&j, "cr4");
		ptl_json_hex(&j, r.cpu.cr4);
		ptl_json_key(&j, "efer");
		ptl_json_hex(&j, r.cpu.efer);
		ptl_json_key(&j, "maxphyaddr");
		ptl_json_u64(&j, r.cpu.maxphyaddr);
		ptl_json_key(&j, "instructions");
		ptl_json_u64(&j, r.insns);
		if (vmlinux) {
			ptl_json_key(&j, "page_faults");
			ptl_json_u64(&j, r.page_faults);
			ptl_json_key(&j, "verify_cpu_passed");
			r.verify_cpu_checked ? ptl_json_bool(&j, true) : ptl_json_null(&j);
		}
		ptl_json_key(&j, "microseconds");
		ptl_json_u64(&j, (uint64_t)(r.seconds * 1e6));
		ptl_json_object_end(&j);
		ptl_json_finish(&j);
	} else {
		printf("image      %s (%s)\n", r.image->name, variant);
		printf("paging     %s  CR0 0x%llx  CR3 0x%llx  CR4 0x%llx  EFER 0x%llx\n", pt_mode_name(r.paging),
		       (unsigned long long)r.cpu.cr0, (unsigned long long)r.cpu.cr3,
		       (unsigned long long)r.cpu.cr4, (unsigned long long)r.cpu.efer);
		printf("offsets    phys_load 0x%llx  phys_offset 0x%llx  virt_offset 0x%llx\n",
		       (unsigned long long)r.phys_load, (unsigned long long)r.phys_offset,
		       (unsigned long long)r.virt_offset);
		printf("run        %llu instructions in %.2f ms, stopped at 0x%llx\n",
		       (unsigned long long)r.insns, r.seconds * 1e3, (unsigned long long)r.stop_rip);
		if (vmlinux)
			printf("kernel     %u page fault(s) delivered through its IDT; verify_cpu %s\n",
			       r.page_faults, r.verify_cpu_checked ? "passed" : "not observed");
		if (out)
			printf("dump       %s\n", out);
		if (symbols_out)
			printf("symbols    %s\n", symbols_out);
	}
done:
	pt_emu_destroy(m);
	pt_symtab_destroy(symtab);
	return ret;
}
