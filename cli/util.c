/* SPDX-License-Identifier: MIT */
/*
 * cli/util.c: numbers, JSON, messages and context loading shared by the ptlab commands.
 */
#include "util.h"

#include "ptlab/kdump.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- Messages ------------------------------------------------------------------------- */

static void vmessage(const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout); /* keep the order of stdout and stderr lines on a terminal */
	fputs("ptlab: ", stderr);
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ptl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

void ptl_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

int ptl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "ptlab: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'ptlab %s --help')\n", cmd);
	return PTL_EXIT_USAGE;
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

const char *ptl_page_size_name(uint64_t page_size, char *buf, size_t buflen)
{
	static const struct {
		uint64_t size;
		const char *name;
	} names[] = {
		{ UINT64_C(1) << 12, "4K" },
		{ UINT64_C(1) << 21, "2M" },
		{ UINT64_C(1) << 22, "4M" },
		{ UINT64_C(1) << 30, "1G" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].size == page_size)
			return names[i].name;
	}
	snprintf(buf, buflen, "0x%llx", (unsigned long long)page_size);
	return buf;
}

const char *ptl_pf_error_names(uint32_t error_code, char *buf, size_t buflen)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ PF_ERR_P, "P" },   { PF_ERR_W, "W" },   { PF_ERR_U, "U" },
		{ PF_ERR_RSVD, "RSVD" }, { PF_ERR_ID, "ID" }, { PF_ERR_PK, "PK" },
	};
	size_t used = 0;

	if (buflen == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(error_code & names[i].bit))
			continue;
		n = snprintf(buf + used, buflen - used, "%s%s", used ? " " : "", names[i].name);
		if (n < 0 || (size_t)n >= buflen - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, buflen, "none");
	return buf;
}

/* ---- JSON writer --------------------------------------------------------------------- */

void ptl_json_init(struct ptl_json *json, FILE *out)
{
	memset(json, 0, sizeof(*json));
	json->out = out;
}

/* Separator before a value or key: a comma unless first in its container or after a key. */
static void json_separate(struct ptl_json *json)
{
	if (json->after_key) {
		json->after_key = false;
		return;
	}
	if (json->depth == 0)
		return;
	if (json->has_items[json->depth - 1])
		fputc(',', json->out);
	json->has_items[json->depth - 1] = true;
}

static void json_open(struct ptl_json *json, char c)
{
	json_separate(json);
	if (json->depth >= PTL_JSON_MAX_DEPTH)
		abort(); /* a bug in the caller, not an input error */
	fputc(c, json->out);
	json->has_items[json->depth++] = false;
}

static void json_close(struct ptl_json *json, char c)
{
	if (json->depth == 0)
		abort();
	json->depth--;
	fputc(c, json->out);
}

void ptl_json_object_begin(struct ptl_json *json)
{
	json_open(json, '{');
}

void ptl_json_object_end(struct ptl_json *json)
{
	json_close(json, '}');
}

void ptl_json_array_begin(struct ptl_json *json)
{
	json_open(json, '[');
}

void ptl_json_array_end(struct ptl_json *json)
{
	json_close(json, ']');
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one. */
static size_t utf8_sequence_length(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	/* Overlong forms, surrogates and code points above U+10FFFF (RFC 3629, section 4). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

static void json_write_escaped(FILE *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	fputc('"', out);
	while (*s != '\0') {
		size_t len;

		switch (*s) {
		case '"': fputs("\\\"", out); s++; continue;
		case '\\': fputs("\\\\", out); s++; continue;
		case '\b': fputs("\\b", out); s++; continue;
		case '\f': fputs("\\f", out); s++; continue;
		case '\n': fputs("\\n", out); s++; continue;
		case '\r': fputs("\\r", out); s++; continue;
		case '\t': fputs("\\t", out); s++; continue;
		default: break;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\u%04x", *s);
			s++;
			continue;
		}
		len = utf8_sequence_length(s);
		if (len == 0) {
			fputs("\\ufffd", out);
			s++;
			continue;
		}
		fwrite(s, 1, len, out);
		s += len;
	}
	fputc('"', out);
}

void ptl_json_key(struct ptl_json *json, const char *key)
{
	json_separate(json);
	json_write_escaped(json->out, key);
	fputc(':', json->out);
	json->after_key = true;
}

void ptl_json_string(struct ptl_json *json, const char *text)
{
	json_separate(json);
	json_write_escaped(json->out, text);
}

void ptl_json_hex(struct ptl_json *json, uint64_t value)
{
	json_separate(json);
	fprintf(json->out, "\"0x%llx\"", (unsigned long long)value);
}

void ptl_json_u64(struct ptl_json *json, uint64_t value)
{
	json_separate(json);
	fprintf(json->out, "%llu", (unsigned long long)value);
}

void ptl_json_bool(struct ptl_json *json, bool value)
{
	json_separate(json);
	fputs(value ? "true" : "false", json->out);
}

void ptl_json_null(struct ptl_json *json)
{
	json_separate(json);
	fputs("null", json->out);
}

void ptl_json_fault(struct ptl_json *j, enum pt_status status, const struct pt_fault *f,
		    bool at_cr3_load)
{
	ptl_json_key(j, "fault");
	if (status != PT_FAULT) {
		ptl_json_null(j);
		return;
	}
	ptl_json_object_begin(j);
	ptl_json_key(j, "vector");
	ptl_json_u64(j, f->vector);
	ptl_json_key(j, "error_code");
	ptl_json_u64(j, f->error_code);
	ptl_json_key(j, "level");
	ptl_json_u64(j, f->level);
	ptl_json_key(j, "entry_pa");
	if (f->level != 0)
		ptl_json_hex(j, f->entry_pa);
	else
		ptl_json_null(j); /* #GP before the walk: no entry */
	ptl_json_key(j, "entry");
	if (f->level != 0)
		ptl_json_hex(j, f->entry);
	else
		ptl_json_null(j);
	if (f->vector == PT_VEC_GP) {
		ptl_json_key(j, "reason");
		ptl_json_string(j, at_cr3_load ? "PDPTE reserved bits at CR3 load" : "non-canonical");
	}
	ptl_json_key(j, "at_cr3_load");
	ptl_json_bool(j, at_cr3_load);
	ptl_json_object_end(j);
}

void ptl_json_finish(struct ptl_json *json)
{
	if (json->depth != 0)
		abort();
	fputc('\n', json->out);
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

int ptl_one_dump_args(const char *cmd, const struct ptl_ctx_opts *opts, void (*usage)(FILE *out),
		      int argc, char *argv[])
{
	if (opts->help) {
		usage(stdout);
		return PTL_EXIT_OK;
	}
	if (argc - optind < 1)
		return ptl_usage_error(cmd, "missing DUMP");
	if (argc - optind > 1)
		return ptl_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	return -1;
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

/* ---- Sessions ------------------------------------------------------------------------ */

const char *ptl_cpu_source_name(enum pt_cpu_source source)
{
	switch (source) {
	case PT_CPU_PTLAB:
		return "ptlab";
	case PT_CPU_QEMU:
		return "qemu";
	case PT_CPU_NONE:
		break;
	}
	return "none";
}

/* The CPU state before --cr3: note or default, then --mode, then the exact registers. */
static int session_cpu_state(struct ptl_session *s, const struct ptl_ctx_opts *opts)
{
	s->source = pt_dump_cpu(s->dump, &s->cpu);
	if (s->source == PT_CPU_NONE) {
		if (!opts->has_cr3) {
			if (pt_dump_format(s->dump) == PT_DUMP_ELF)
				ptl_error("%s: ELF core has no CPU state note: give --cr3", s->path);
			else if (pt_dump_format(s->dump) == PT_DUMP_KDUMP)
				ptl_error("%s: kdump file has no CPU state note: give --cr3", s->path);
			else
				ptl_error("%s: %s image has no CPU state: give --cr3", s->path,
					  pt_dump_format(s->dump) == PT_DUMP_LIME ? "LiME" : "raw");
			return PTL_EXIT_USAGE;
		}
		pt_cpu_state_default(&s->cpu, opts->cr3);
	}
	if (opts->has_mode)
		pt_cpu_state_set_mode(&s->cpu, opts->mode);
	if (opts->has_cr0)
		s->cpu.cr0 = opts->cr0;
	if (opts->has_cr4)
		s->cpu.cr4 = opts->cr4;
	if (opts->has_efer)
		s->cpu.efer = opts->efer;
	if (opts->has_maxphyaddr)
		s->cpu.maxphyaddr = opts->maxphyaddr;
	if (opts->has_cbit)
		s->cpu.cbit = opts->cbit;
	if (opts->has_pkru)
		s->cpu.pkru = (uint32_t)opts->pkru;
	if (opts->has_rflags)
		s->cpu.rflags = opts->rflags;
	if (opts->has_cr3)
		s->cpu.cr3 = opts->cr3;
	if (opts->has_cr3 || opts->has_mode)
		s->cpu.has_pdpte_regs = false; /* the note's PDPTE registers belong to its CR3 */
	s->cpl = opts->has_cpl ? opts->cpl : 0;
	return PTL_EXIT_OK;
}

/* Where a register value came from, for an error message: "--efer 0x500" or "FILE: EFER 0x500". */
static void origin(char *buf, size_t buflen, const struct ptl_session *s, bool given,
		   const char *opt, const char *reg, uint64_t value)
{
	if (given)
		snprintf(buf, buflen, "--%s 0x%llx", opt, (unsigned long long)value);
	else if (s->source != PT_CPU_NONE)
		snprintf(buf, buflen, "%s: %s 0x%llx (from the %s note)", s->path, reg,
			 (unsigned long long)value, ptl_cpu_source_name(s->source));
	else
		snprintf(buf, buflen, "%s: %s 0x%llx", s->path, reg, (unsigned long long)value);
}

/* pt_context_init said PT_EINVAL: name the register that makes the state impossible. */
static void explain_bad_state(const struct ptl_session *s, const struct ptl_ctx_opts *o)
{
	const struct pt_cpu_state *c = &s->cpu;
	bool pg = c->cr0 & PT_BIT(CR0_BIT_PG), pae = c->cr4 & PT_BIT(CR4_BIT_PAE);
	bool lma = c->efer & PT_BIT(EFER_BIT_LMA);
	/* CR3 bits that are neither flags/PCID (11:0), LAM/no-flush (63:61) nor below MAXPHYADDR */
	uint64_t cr3_high = c->maxphyaddr >= 32 && c->maxphyaddr <= 52 ?
				    c->cr3 & ~(UINT64_C(0xfff) | (UINT64_C(7) << 61)) &
					    ~((UINT64_C(1) << c->maxphyaddr) - 1) : 0;
	char where[160];

	if (c->maxphyaddr < 32 || c->maxphyaddr > 52) {
		origin(where, sizeof(where), s, o->has_maxphyaddr, "maxphyaddr", "MAXPHYADDR",
		       c->maxphyaddr);
		ptl_error("%s: MAXPHYADDR %u is not in 32..52", where, c->maxphyaddr);
	} else if (c->cbit != 0 && (c->cbit < 32 || c->cbit > 62)) {
		ptl_error("%s: SME C-bit position %u is not in 32..62", s->path, c->cbit);
	} else if (pg && lma && !pae) {
		origin(where, sizeof(where), s, o->has_efer, "efer", "EFER", c->efer);
		ptl_error("%s: EFER.LMA is set but CR4.PAE is clear (CR4 0x%llx)", where,
			  (unsigned long long)c->cr4);
	} else if (pg && lma && cr3_high != 0) {
		origin(where, sizeof(where), s, o->has_cr3, "cr3", "CR3", c->cr3);
		ptl_error("%s: address bits 0x%llx are above MAXPHYADDR %u", where,
			  (unsigned long long)cr3_high, c->maxphyaddr);
	} else {
		ptl_error("%s: impossible CPU state: CR0 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx "
			  "MAXPHYADDR %u", s->path, (unsigned long long)c->cr0,
			  (unsigned long long)c->cr3, (unsigned long long)c->cr4,
			  (unsigned long long)c->efer, c->maxphyaddr);
	}
}

int ptl_session_open(struct ptl_session *s, const char *path, const struct ptl_ctx_opts *opts)
{
	struct pt_dump_open_opts open_opts = { .force_raw = opts->raw_dump };
	struct pt_error err;
	int ret;

	memset(s, 0, sizeof(*s));
	s->path = path;
	memset(&err, 0, sizeof(err));
	if (pt_kdump_open_dump(path, &open_opts, &s->dump, &err) != PT_OK) {
		s->dump = NULL;
		if (err.message[0] != '\0')
			ptl_error("%s", err.message);
		else
			ptl_error("%s: cannot open the dump", path);
		return PTL_EXIT_USAGE;
	}
	s->mem = pt_dump_mem(s->dump);
	ret = session_cpu_state(s, opts);
	if (ret != PTL_EXIT_OK)
		goto out;
	s->init_status = pt_context_init(&s->ctx, &s->cpu, s->mem, &s->init_fault,
					 &s->init_table_pa);
	if (s->init_status == PT_EINVAL) {
		explain_bad_state(s, opts);
		ret = PTL_EXIT_USAGE;
	}
out:
	if (ret != PTL_EXIT_OK)
		ptl_session_close(s);
	return ret;
}

void ptl_warn_read_errors(const struct pt_dump *dump)
{
	struct pt_error first;
	size_t nbad = dump ? pt_dump_read_errors(dump, &first) : 0;

	if (nbad > 0)
		ptl_warn("%s (%zu unreadable page%s read as not in dump)", first.message, nbad,
			 nbad == 1 ? "" : "s");
}

void ptl_session_close(struct ptl_session *s)
{
	ptl_warn_read_errors(s->dump);
	pt_dump_close(s->dump);
	s->dump = NULL;
	s->mem = NULL;
}

void ptl_json_context(struct ptl_json *json, const struct ptl_session *s)
{
	ptl_json_key(json, "dump");
	ptl_json_string(json, s->path);
	ptl_json_key(json, "format");
	ptl_json_string(json, pt_dump_format_name(pt_dump_format(s->dump)));
	ptl_json_key(json, "context");
	ptl_json_object_begin(json);
	ptl_json_key(json, "mode");
	ptl_json_string(json, pt_mode_name(s->ctx.mode));
	ptl_json_key(json, "cr0");
	ptl_json_hex(json, s->cpu.cr0);
	ptl_json_key(json, "cr3");
	ptl_json_hex(json, s->cpu.cr3);
	ptl_json_key(json, "cr4");
	ptl_json_hex(json, s->cpu.cr4);
	ptl_json_key(json, "efer");
	ptl_json_hex(json, s->cpu.efer);
	ptl_json_key(json, "maxphyaddr");
	ptl_json_u64(json, s->cpu.maxphyaddr);
	ptl_json_key(json, "cpl");
	ptl_json_u64(json, s->cpl);
	ptl_json_key(json, "cpu_source");
	ptl_json_string(json, ptl_cpu_source_name(s->source));
	if (s->ctx.mode == PT_MODE_PAE && s->cpu.pdpte_written_by_dumper) {
		ptl_json_key(json, "pdpte_bits_ignored");
		ptl_json_hex(json, s->cpu.pdpte_written_by_dumper);
	}
	ptl_json_object_end(json);
}
