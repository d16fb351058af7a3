/* SPDX-License-Identifier: MIT */
/*
 * cli/session.c: a dump opened with its paging context (session.h): the CPU state from the dump's
 * note or the default, the options over it, the folded context, and the one-line explanation of
 * a CPU state that cannot be. Every format opens here, kdump-compressed files through libptkdump.
 */
#include "session.h"

#include <string.h>

#include "message.h"
#include "ptlab/kdump.h"

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
	const struct {
		const char *name;
		uint64_t value;
	} regs[] = {
		{ "cr0", s->cpu.cr0 }, { "cr3", s->cpu.cr3 }, { "cr4", s->cpu.cr4 }, { "efer", s->cpu.efer },
	};

	ptl_json_key(json, "dump");
	ptl_json_string(json, s->path);
	ptl_json_key(json, "format");
	ptl_json_string(json, pt_dump_format_name(pt_dump_format(s->dump)));
	ptl_json_key(json, "context");
	ptl_json_object_begin(json);
	ptl_json_key(json, "mode");
	ptl_json_string(json, pt_mode_name(s->ctx.mode));
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		ptl_json_key(json, regs[i].name);
		ptl_json_hex(json, regs[i].value);
	}
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
