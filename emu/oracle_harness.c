/* SPDX-License-Identifier: MIT */
/*
 * emu/oracle_harness.c: the harness a probe runs in, written once per engine into its buffer
 * (oracle.h): the code stubs (set-up, a configuration, the MAXPHYADDR test, and per CPL and
 * access kind a prologue and the probe instruction), a GDT with flat segments for rings 0-3 and
 * an LDT descriptor, and page tables mapping the buffer at both windows, plugged into the probed
 * address space through one top-level entry.
 */
#include <string.h>

#include "oracle.h"
#include "ptlab/le.h"

/** A tiny code emitter. */
struct emit {
	uint8_t *page;
	unsigned off;
};

static void emit_bytes(struct emit *em, const uint8_t *bytes, unsigned n)
{
	memcpy(em->page + em->off, bytes, n);
	em->off += n;
}
#define EMIT(em, ...)                                                  \
	do {                                                           \
		static const uint8_t b_[] = { __VA_ARGS__ };           \
		emit_bytes((em), b_, (unsigned)sizeof(b_));            \
	} while (0)

static void align_emit(struct emit *em)
{
	em->off = (em->off + 15u) & ~15u;
}

/** The probe instruction of `kind`, then a nop. */
static void emit_probe(struct emit *em, enum oracle_probe_kind kind, uint64_t *insn, uint64_t *next)
{
	*insn = em->off;
	switch (kind) {
	case PK_READ:
		EMIT(em, 0x8a, 0x07); /* mov al, [rdi] / [edi] */
		break;
	case PK_WRITE:
		EMIT(em, 0x88, 0x07); /* mov [rdi], al */
		break;
	case PK_FETCH:
		EMIT(em, 0xff, 0xe7); /* jmp rdi / edi */
		break;
	case PK_IMPLICIT:
		EMIT(em, 0x0f, 0x02, 0xc1); /* lar eax, ecx: reads the LDT descriptor at VA */
		break;
	case PK_COUNT:
		break;
	}
	*next = em->off;
	EMIT(em, 0x90); /* nop */
}

/** What every probe does first, at CPL 0: CR3 (flushing the TLB), and LLDT for LAR probes. */
static void emit_prologue(struct emit *em, bool x64, bool lldt)
{
	EMIT(em, 0x0f, 0x22, 0xde); /* mov cr3, rsi */
	if (!lldt)
		return;
	if (x64)
		EMIT(em, 0x41, 0x0f, 0x00, 0xd0); /* lldt r8w */
	else
		EMIT(em, 0x0f, 0x00, 0xd3); /* lldt bx */
}

static void build_stubs(struct oracle_engine *e)
{
	struct emit s = { e->buf + HP_SCODE * PAGE, 0 };
	struct emit u = { e->buf + HP_UCODE * PAGE, 0 };
	const bool x64 = e->x64;
	struct oracle_stub target_s[PK_COUNT], target_u[PK_COUNT];

	memset(s.page, 0xf4, PAGE); /* hlt everywhere else */
	memset(u.page, 0xf4, PAGE);

	/* Set-up: paging on (CR4 was written before the run). */
	e->setup_entry = s.off;
	EMIT(&s, 0x0f, 0x22, 0xde); /* mov cr3, rsi */
	EMIT(&s, 0x0f, 0x22, 0xc0); /* mov cr0, rax */
	EMIT(&s, 0x90);
	e->setup_end = s.off;
	align_emit(&s);

	/* A configuration: CR0, CR4 (guest writes: hflags follow), PKRU. */
	for (unsigned pke = 0; pke < 2; pke++) {
		e->config_entry[pke] = s.off;
		EMIT(&s, 0x0f, 0x22, 0xc0); /* mov cr0, rax */
		EMIT(&s, 0x0f, 0x22, 0xe2); /* mov cr4, rdx */
		if (pke) {
			EMIT(&s, 0x44, 0x89, 0xc8); /* mov eax, r9d */
			EMIT(&s, 0x31, 0xc9);       /* xor ecx, ecx */
			EMIT(&s, 0x31, 0xd2);       /* xor edx, edx */
			EMIT(&s, 0x0f, 0x01, 0xef); /* wrpkru (eax) */
		}
		EMIT(&s, 0x90);
		e->config_end[pke] = s.off;
		align_emit(&s);
	}

	/* MAXPHYADDR measurement: a read through the harness's own tables. */
	e->test_entry = s.off;
	EMIT(&s, 0x0f, 0x22, 0xde); /* mov cr3, rsi */
	EMIT(&s, 0x8a, 0x07);       /* mov al, [rdi] */
	EMIT(&s, 0x90);
	e->test_end = s.off;
	align_emit(&s);

	/* Targets of the IRET for CPL 1, 2 (supervisor page) and 3 (user page). */
	for (unsigned k = 0; k < PK_COUNT; k++) {
		emit_probe(&s, (enum oracle_probe_kind)k, &target_s[k].insn, &target_s[k].next);
		align_emit(&s);
		emit_probe(&u, (enum oracle_probe_kind)k, &target_u[k].insn, &target_u[k].next);
		align_emit(&u);
	}

	for (unsigned k = 0; k < PK_COUNT; k++) {
		const bool lldt = k == PK_IMPLICIT;
		/* CPL 0: prologue then the probe. */
		struct oracle_stub *st = &e->stubs[0][k];
		st->entry = s.off;
		emit_prologue(&s, x64, lldt);
		emit_probe(&s, (enum oracle_probe_kind)k, &st->insn, &st->next);
		st->user_page = false;
		align_emit(&s);
		/* CPL 1..3: prologue then IRET to the target. */
		uint64_t iret_entry = s.off;
		emit_prologue(&s, x64, lldt);
		if (x64)
			EMIT(&s, 0x48, 0xcf); /* iretq */
		else
			EMIT(&s, 0xcf); /* iretd */
		align_emit(&s);
		for (unsigned cpl = 1; cpl < 4; cpl++) {
			const struct oracle_stub *t = cpl == 3 ? &target_u[k] : &target_s[k];
			st = &e->stubs[cpl][k];
			st->entry = iret_entry;
			st->insn = t->insn;
			st->next = t->next;
			st->user_page = cpl == 3;
		}
	}
}

static uint64_t seg_desc(unsigned dpl, bool code, bool x64)
{
	/* Flat 4 GiB, present, S = 1; code: execute/read (L = 1 in 64-bit, D = 1 in 32-bit),
	 * data: read/write. */
	uint64_t access = 0x80u | (dpl << 5) | 0x10u | (code ? 0x0au : 0x02u);
	uint64_t flags = code && x64 ? 0xau : 0xcu; /* G, and L or D/B */
	return 0xffffu | (access << 40) | (UINT64_C(0xf) << 48) | (flags << 52);
}

static void build_gdt(struct oracle_engine *e)
{
	uint8_t *gdt = e->buf + HP_GDT * PAGE;

	memset(gdt, 0, PAGE);
	for (unsigned ring = 0; ring < 4; ring++) {
		pt_le_put(gdt + 0x08 + 0x10 * ring, seg_desc(ring, true, e->x64), 8);
		pt_le_put(gdt + 0x10 + 0x10 * ring, seg_desc(ring, false, e->x64), 8);
	}
}

/** Point the LDT descriptor at `base` (limit 7: one descriptor). */
void emu_oracle_set_ldt_base(struct oracle_engine *e, uint64_t base)
{
	uint8_t *d = e->buf + HP_GDT * PAGE + SEL_LDT;
	uint64_t lo = 0x7u | ((base & 0xffffffu) << 16) | (UINT64_C(0x82) << 40) |
		      (((base >> 24) & 0xffu) << 56);
	pt_le_put(d, lo, 8);
	if (e->x64)
		pt_le_put(d + 8, base >> 32, 8);
}

/** The top-level slot of `va` in this engine's mode. */
unsigned emu_oracle_top_slot(const struct oracle_engine *e, uint64_t va)
{
	switch (e->mode) {
	case PT_MODE_LEGACY:
		return (unsigned)((va >> 22) & 0x3ff);
	case PT_MODE_PAE:
		return (unsigned)((va >> 30) & 0x3);
	case PT_MODE_IA32E:
		return (unsigned)((va >> 39) & 0x1ff);
	default:
		return (unsigned)((va >> 48) & 0x1ff);
	}
}

/** Index of `va` in a table of `level` (1 = PT) for this engine's mode. */
unsigned emu_oracle_index_at(const struct oracle_engine *e, uint64_t va, unsigned level)
{
	if (e->mode == PT_MODE_LEGACY)
		return (unsigned)((va >> (12 + 10 * (level - 1))) & 0x3ff);
	if (e->mode == PT_MODE_PAE && level == 3)
		return (unsigned)((va >> 30) & 0x3);
	return (unsigned)((va >> (12 + 9 * (level - 1))) & 0x1ff);
}

void emu_oracle_put_entry(struct oracle_engine *e, unsigned page, unsigned index, uint64_t value)
{
	pt_le_put(e->buf + page * PAGE + index * e->esize, value, e->esize);
}

/**
 * The harness's page tables: the 16 buffer pages at both windows, supervisor except the user
 * code page; a setup root that maps the windows; the plug target.
 */
static void build_tables(struct oracle_engine *e)
{
	const uint64_t pa = e->pa_base;
	const uint64_t tbl = PTE_P | PTE_RW | PTE_US | PTE_A;
	const uint64_t w0 = e->window[0];

	for (unsigned i = 0; i < HARNESS_PAGES; i++) {
		uint64_t leaf = (pa + i * PAGE) | PTE_P | PTE_RW | PTE_A | PTE_D;
		if (i == HP_UCODE)
			leaf |= PTE_US;
		/* Both windows have the same index at every level below the top. */
		emu_oracle_put_entry(e, HP_PT, emu_oracle_index_at(e, w0 + i * PAGE, 1), leaf);
	}
	switch (e->mode) {
	case PT_MODE_LEGACY:
		for (unsigned w = 0; w < 2; w++)
			emu_oracle_put_entry(e, HP_PD, e->slot[w], (pa + HP_PT * PAGE) | tbl);
		e->setup_root = pa + HP_PD * PAGE;
		break;
	case PT_MODE_PAE:
		emu_oracle_put_entry(e, HP_PD, emu_oracle_index_at(e, w0, 2), (pa + HP_PT * PAGE) | tbl);
		for (unsigned w = 0; w < 2; w++)
			emu_oracle_put_entry(e, HP_PDPT, e->slot[w], (pa + HP_PD * PAGE) | PTE_P);
		e->setup_root = pa + HP_PDPT * PAGE;
		break;
	case PT_MODE_IA32E:
	case PT_MODE_LA57:
		emu_oracle_put_entry(e, HP_PD, emu_oracle_index_at(e, w0, 2), (pa + HP_PT * PAGE) | tbl);
		emu_oracle_put_entry(e, HP_PDPT, emu_oracle_index_at(e, w0, 3), (pa + HP_PD * PAGE) | tbl);
		for (unsigned w = 0; w < 2; w++)
			emu_oracle_put_entry(e, HP_ROOT4, emu_oracle_index_at(e, e->window[w], 4), (pa + HP_PDPT * PAGE) | tbl);
		if (e->mode == PT_MODE_LA57) {
			for (unsigned w = 0; w < 2; w++)
				emu_oracle_put_entry(e, HP_ROOT5, e->slot[w], (pa + HP_ROOT4 * PAGE) | tbl);
			e->setup_root = pa + HP_ROOT5 * PAGE;
		} else {
			e->setup_root = pa + HP_ROOT4 * PAGE;
		}
		break;
	case PT_MODE_OFF:
		break;
	}
}

/** The plug: the entry the harness needs in the dump's top-level table. */
uint64_t emu_oracle_plug_value(const struct oracle_engine *e)
{
	const uint64_t pa = e->pa_base;
	switch (e->mode) {
	case PT_MODE_LEGACY:
		return (pa + HP_PT * PAGE) | PTE_P | PTE_RW | PTE_US | PTE_A;
	case PT_MODE_PAE:
		return (pa + HP_PD * PAGE) | PTE_P;
	case PT_MODE_IA32E:
		return (pa + HP_PDPT * PAGE) | PTE_P | PTE_RW | PTE_US | PTE_A;
	default:
		return (pa + HP_ROOT4 * PAGE) | PTE_P | PTE_RW | PTE_US | PTE_A;
	}
}

void emu_oracle_build_harness(struct oracle_engine *e)
{
	build_tables(e);
	build_gdt(e);
	build_stubs(e);
}
