/* SPDX-License-Identifier: MIT */
/* cli/options.c: numbers, the option loop and the shared paging-context options (options.h). */
#include "options.h"

#include <string.h>

/* ---- Numbers ------------------------------------------------------------------------- */

static int digit_value(char c, unsigned base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return (unsigned)d < base ? d : -1;
}

bool ptl_parse_u64(const char *text, uint64_t *value_ret)
{
	const char *p = text;
	unsigned base = 10;
	uint64_t value = 0;

	if (p == NULL || *p == '\0')
		return false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (*p == '\0')
			return false;
	}
	for (; *p != '\0'; p++) {
		int d = digit_value(*p, base);

		if (d < 0)
			return false;
		if (value > (UINT64_MAX - (uint64_t)d) / base)
			return false; /* overflow */
		value = value * base + (uint64_t)d;
	}
	*value_ret = value;
	return true;
}

bool ptl_parse_size(const char *text, uint64_t *value_ret)
{
	char buf[64];
	size_t n = strlen(text);
	uint64_t mult = 1, v;

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
	if (!ptl_parse_u64(buf, &v) || v > UINT64_MAX / mult)
		return false;
	*value_ret = v * mult;
	return true;
}

/* ---- The option loop ------------------------------------------------------------------ */

int ptl_parse_options(const struct ptl_option_spec *spec, int argc, char *argv[])
{
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, spec->short_options, spec->long_options, NULL)) != -1) {
		int ret;

		if (opt == '?' || opt == ':')
			return ptl_getopt_error(spec->cmd, opt, argv);
		if (spec->ctx != NULL) {
			ret = ptl_ctx_option(spec->cmd, spec->ctx, opt, optarg);
			if (ret < 0)
				return PTL_EXIT_USAGE;
			if (ret > 0)
				continue;
		}
		/* An option in the table that nobody handles is the command's bug: say it is
		 * unknown rather than ignore it. */
		ret = spec->own != NULL ? spec->own(spec->state, opt, optarg)
					: ptl_getopt_error(spec->cmd, '?', argv);
		if (ret != PTL_CONTINUE)
			return ret;
	}
	return PTL_CONTINUE;
}

int ptl_getopt_error(const char *cmd, int opt, char *const argv[])
{
	/* getopt_long leaves optind past the offending element. */
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (opt == ':')
		return ptl_usage_error(cmd, "option '%s' needs a value", arg);
	if (optopt != 0 && strncmp(arg, "--", 2) != 0)
		return ptl_usage_error(cmd, "unknown option '-%c'", optopt);
	return ptl_usage_error(cmd, "unknown option '%s'", arg);
}

int ptl_print_usage(void (*usage)(FILE *out))
{
	usage(stdout);
	return PTL_EXIT_OK;
}

int ptl_no_operands(const char *cmd, int argc, char *argv[])
{
	if (optind < argc)
		return ptl_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return PTL_CONTINUE;
}

/* ---- Context options ------------------------------------------------------------------ */

const char ptl_context_usage[] =
	"Paging context (default: the dump's CPU note; without one IA-32e 4-level,\n"
	"CR0.WP=1, EFER.NXE=1, MAXPHYADDR 52):\n"
	"  --cr3 PA             physical address of the top table (required for a raw image)\n"
	"  --mode MODE          legacy, pae, ia32e or la57: sets CR0/CR4/EFER for that mode\n"
	"  --cr0 V, --cr4 V, --efer V\n"
	"                       exact register values (win over the note and --mode)\n"
	"  --maxphyaddr BITS    physical-address width, 32..52\n"
	"  --cpl N              privilege level of the accesses, 0..3\n"
	"  --cbit N             SME C-bit position (stripped from every entry), 0 = none\n"
	"  --pkru V             protection-key rights (with CR4.PKE in IA-32e modes)\n"
	"  --rflags V           RFLAGS (AC lets explicit supervisor accesses pass SMAP)\n"
	"  --raw-dump           read DUMP as a flat physical image whatever its magic\n"
	"  --json               print one JSON object on stdout\n"
	"  --progress           a progress line on stderr past 2 s even when it is not a terminal\n"
	"  --no-progress        no progress line (default: only on a terminal)\n"
	"  -h, --help           print this help\n"
	"Numbers are hex (0x...) or decimal.\n";

static int parse_register(const char *cmd, const char *name, const char *arg, bool *has_ret,
			  uint64_t *value_ret)
{
	if (!ptl_parse_u64(arg, value_ret)) {
		ptl_usage_error(cmd, "--%s '%s' is not a number", name, arg);
		return -1;
	}
	*has_ret = true;
	return 1;
}

static int parse_small(const char *cmd, const char *name, const char *arg, uint64_t min,
		       uint64_t max, bool *has_ret, uint8_t *value_ret)
{
	uint64_t v;

	if (!ptl_parse_u64(arg, &v)) {
		ptl_usage_error(cmd, "--%s '%s' is not a number", name, arg);
		return -1;
	}
	if (v < min || v > max) {
		ptl_usage_error(cmd, "--%s %s is out of range %llu..%llu", name, arg,
				(unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*value_ret = (uint8_t)v;
	*has_ret = true;
	return 1;
}

int ptl_ctx_option(const char *cmd, struct ptl_ctx_opts *opts, int opt, const char *arg)
{
	switch (opt) {
	case PTL_OPT_HELP:
		opts->help = true;
		return 1;
	case PTL_OPT_JSON:
		opts->json = true;
		return 1;
	case PTL_OPT_PROGRESS:
		opts->progress = PTL_PROGRESS_ON;
		return 1;
	case PTL_OPT_NO_PROGRESS:
		opts->progress = PTL_PROGRESS_OFF;
		return 1;
	case PTL_OPT_RAW_DUMP:
		opts->raw_dump = true;
		return 1;
	case PTL_OPT_CR3:
		return parse_register(cmd, "cr3", arg, &opts->has_cr3, &opts->cr3);
	case PTL_OPT_CR0:
		return parse_register(cmd, "cr0", arg, &opts->has_cr0, &opts->cr0);
	case PTL_OPT_CR4:
		return parse_register(cmd, "cr4", arg, &opts->has_cr4, &opts->cr4);
	case PTL_OPT_EFER:
		return parse_register(cmd, "efer", arg, &opts->has_efer, &opts->efer);
	case PTL_OPT_MAXPHYADDR:
		return parse_small(cmd, "maxphyaddr", arg, 32, 52, &opts->has_maxphyaddr,
				   &opts->maxphyaddr);
	case PTL_OPT_CPL:
		return parse_small(cmd, "cpl", arg, 0, 3, &opts->has_cpl, &opts->cpl);
	case PTL_OPT_CBIT:
		return parse_small(cmd, "cbit", arg, 0, 62, &opts->has_cbit, &opts->cbit);
	case PTL_OPT_PKRU: {
		int r = parse_register(cmd, "pkru", arg, &opts->has_pkru, &opts->pkru);
		if (r == 1 && opts->pkru > UINT32_MAX) {
			ptl_usage_error(cmd, "--pkru %s is wider than 32 bits", arg);
			return -1;
		}
		return r;
	}
	case PTL_OPT_RFLAGS:
		return parse_register(cmd, "rflags", arg, &opts->has_rflags, &opts->rflags);
	case PTL_OPT_MODE:
		if (!pt_mode_parse(arg, &opts->mode) || opts->mode == PT_MODE_OFF) {
			ptl_usage_error(cmd, "unknown mode '%s' (legacy, pae, ia32e or la57)", arg);
			return -1;
		}
		opts->has_mode = true;
		return 1;
	default:
		return 0;
	}
}

int ptl_one_dump_args(const char *cmd, const struct ptl_ctx_opts *opts, void (*usage)(FILE *out),
		      int argc, char *argv[])
{
	if (opts->help)
		return ptl_print_usage(usage);
	if (argc - optind < 1)
		return ptl_usage_error(cmd, "missing DUMP");
	if (argc - optind > 1)
		return ptl_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	return PTL_CONTINUE;
}
