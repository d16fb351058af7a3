/* SPDX-License-Identifier: MIT */
/*
 * tests/mksample.c: `ptlab-mksample OUT.core [--raw OUT.raw] [--no-notes | --qemu-note-only]`
 *
 * Builds a small kernel-like IA-32e 4-level address space in 64 MiB of physical memory and
 * writes it as an ELF core in QEMU's layout (QEMU + PTLAB notes), optionally also as a flat raw
 * image. The content exercises what `ptlab translate` and `ptlab maps` must get right:
 *
 *   kernel text   0xffffffff81000000 -> 0x1000000, 2 MiB pages: 4 MiB r-x, then 4 MiB rw- NX
 *   direct map    0xffff888000000000 -> 0, the 64 MiB of RAM with 2 MiB pages
 *   a 1 GiB page  0xffff888100000000 -> 0 (a second view of low memory)
 *   ioremap page  0xffffc90000000000 -> 0xfee00000 (local APIC): a frame beyond the dump
 *   user text     0x400000 -> 0x3000000, two 4 KiB pages r-x
 *   user data     0x402000 -> 0x3002000, two 4 KiB pages rw- NX
 *   reserved PDE  0x600000: a 2 MiB page entry with bit 13 set (reserved: misaligned frame)
 *   user stack    0x7ffffffff000 -> 0x3020000, rw- NX
 *   unreadable    0x7fffffc00000: a PDE whose page table 0x5000000 is beyond the dump
 *   ESPFIX-like   0xffffff0000000000: all 512 PDEs of one PD point to the same page table,
 *                 whose one entry maps the read-only stack page 0x3010000
 *
 * tests/test_cli.sh checks the ptlab output on these dumps against exact values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ptbuild.h"
#include "ptlab/dump.h"

#define KIB(n) ((uint64_t)(n) << 10)
#define MIB(n) ((uint64_t)(n) << 20)
#define GIB(n) ((uint64_t)(n) << 30)

static const uint64_t MEM_SIZE = MIB(64);
static const uint64_t FIRST_TABLE_PA = 0x2a10000;
static const uint8_t SAMPLE_MAXPHYADDR = 46;

/* Entry bits as constant expressions (walk.h's PTE_* masks are objects, not constants). */
#define F_P PT_BIT(PTE_BIT_P)
#define F_RW PT_BIT(PTE_BIT_RW)
#define F_US PT_BIT(PTE_BIT_US)
#define F_PWT PT_BIT(PTE_BIT_PWT)
#define F_PCD PT_BIT(PTE_BIT_PCD)
#define F_A PT_BIT(PTE_BIT_A)
#define F_D PT_BIT(PTE_BIT_D)
#define F_G PT_BIT(PTE_BIT_G)
#define F_XD PT_BIT(PTE_BIT_XD)

/* Intermediate entries: Linux's _KERNPG_TABLE and _PAGE_TABLE. */
#define KERNEL_TABLE (F_P | F_RW | F_A | F_D)
#define USER_TABLE (F_P | F_RW | F_US | F_A | F_D)

/* Leaves, after Linux's __PAGE_KERNEL_RX, __PAGE_KERNEL, __PAGE_KERNEL_RO, PAGE_*. */
#define KERNEL_RX (F_P | F_A | F_G)
#define KERNEL_RW (F_P | F_RW | F_A | F_D | F_G | F_XD)
#define KERNEL_RO (F_P | F_A | F_G | F_XD)
#define KERNEL_IO (KERNEL_RW | F_PCD | F_PWT)
#define USER_RX (F_P | F_US | F_A)
#define USER_RW (F_P | F_RW | F_US | F_A | F_D | F_XD)

/** A run of equal pages mapped at contiguous VAs and PAs. */
struct region {
	uint64_t va, pa, size;
	unsigned level;     /**< leaf level: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB */
	uint64_t flags;
	bool user;          /**< created tables get USER_TABLE, else KERNEL_TABLE */
	const char *what;
	const char *marker; /**< text written at the first page's frame, or NULL */
};

static const struct region regions[] = {
	{ 0xffffffff81000000, 0x1000000, MIB(4), 2, KERNEL_RX, false,
	  "kernel text, 2M pages, global, r-x", "ptlab sample: kernel text" },
	{ 0xffffffff81400000, 0x1400000, MIB(4), 2, KERNEL_RW, false,
	  "kernel data, 2M pages, global, rw- NX", "ptlab sample: kernel data" },
	{ 0xffff888000000000, 0, MIB(64), 2, KERNEL_RW, false,
	  "direct map of all RAM, 2M pages, rw- NX", NULL },
	{ 0xffff888100000000, 0, GIB(1), 3, KERNEL_RW, false,
	  "a 1G page over low memory, rw- NX (frames past 64M not in dump)", NULL },
	{ 0xffffc90000000000, 0xfee00000, KIB(4), 1, KERNEL_IO, false,
	  "ioremap of the local APIC, PCD PWT (frame not in dump)", NULL },
	{ 0x400000, 0x3000000, KIB(8), 1, USER_RX, true,
	  "user text, 4K pages, r-x", "ptlab sample: user text" },
	{ 0x402000, 0x3002000, KIB(8), 1, USER_RW, true,
	  "user data, 4K pages, rw- NX", "ptlab sample: user data" },
	{ 0x600000, 0x3200000, MIB(2), 2, USER_RW, true,
	  "user 2M page, then made reserved (bit 13 set)", NULL },
	{ 0x7ffffffff000, 0x3020000, KIB(4), 1, USER_RW, true,
	  "user stack, rw- NX", "ptlab sample: user stack" },
	{ 0xffffff0000000000, 0x3010000, KIB(4), 1, KERNEL_RO, false,
	  "ESPFIX-like stack page, r-- NX (aliased 512 times)", "ptlab sample: espfix" },
};

static const uint64_t RESERVED_VA = 0x600000;
static const uint64_t RESERVED_BIT = PT_BIT(13);
static const uint64_t UNREADABLE_VA = 0x7fffffc00000;
static const uint64_t UNREADABLE_TABLE = 0x5000000;
static const uint64_t ESPFIX_VA = 0xffffff0000000000;

static uint64_t page_size_of(unsigned level)
{
	return UINT64_C(1) << (12 + 9 * (level - 1));
}

static void map_region(struct ptb *b, const struct region *r)
{
	uint64_t step = page_size_of(r->level);

	for (uint64_t off = 0; off < r->size; off += step)
		ptb_map(b, r->va + off, r->pa + off, r->level, r->flags,
			r->user ? USER_TABLE : KERNEL_TABLE);
	if (r->marker != NULL && r->pa + strlen(r->marker) < b->size)
		memcpy(b->mem + r->pa, r->marker, strlen(r->marker));
}

/* The special cases: a reserved bit, a missing table, one PD aliasing one PT 512 times. */
static void damage(struct ptb *b)
{
	uint64_t pde, pd_entry;

	ptb_set_bits(b, RESERVED_VA, 2, RESERVED_BIT);

	/* The stack's PD exists; point its neighbouring PDE at a table past the end of RAM. */
	ptb_set(b, ptb_entry_pa(b, UNREADABLE_VA, 2), UNREADABLE_TABLE | USER_TABLE);

	pd_entry = ptb_entry_pa(b, ESPFIX_VA, 2);
	pde = ptb_get(b, pd_entry);
	for (unsigned i = 1; i < 512; i++)
		ptb_set(b, pd_entry + 8 * i, pde);
}

static int write_raw(const char *path, const struct ptb *b)
{
	static const uint8_t zero[4096];
	FILE *f = fopen(path, "wb");
	int ret = -1;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	/* Sparse: skip the zero pages, then set the length. */
	for (uint64_t pa = 0; pa < b->size; pa += sizeof(zero)) {
		if (memcmp(b->mem + pa, zero, sizeof(zero)) == 0)
			continue;
		if (fseeko(f, (off_t)pa, SEEK_SET) != 0 || fwrite(b->mem + pa, sizeof(zero), 1, f) != 1)
			goto out;
	}
	if (fflush(f) != 0 || ftruncate(fileno(f), (off_t)b->size) != 0)
		goto out;
	ret = 0;
out:
	if (fclose(f) != 0)
		ret = -1;
	if (ret != 0)
		perror(path);
	return ret;
}

/** Options of the program. */
struct options {
	const char *core, *raw;
	bool no_notes, qemu_only, la57;
};

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "ptlab-mksample: %s%s%s\n"
			"usage: ptlab-mksample OUT.core [--raw OUT.raw] [--no-notes | --qemu-note-only] "
			"[--la57]\n",
		msg, arg ? ": " : "", arg ? arg : "");
	return 2;
}

static int parse_options(int argc, char *argv[], struct options *o)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--raw") == 0) {
			if (++i >= argc)
				return usage_error("--raw needs a file name", NULL);
			o->raw = argv[i];
		} else if (strcmp(argv[i], "--no-notes") == 0) {
			o->no_notes = true;
		} else if (strcmp(argv[i], "--qemu-note-only") == 0) {
			o->qemu_only = true;
		} else if (strcmp(argv[i], "--la57") == 0) {
			o->la57 = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: ptlab-mksample OUT.core [--raw OUT.raw] [--no-notes | --qemu-note-only] "
			       "[--la57]\n"
			       "Writes a small kernel-like 4-level (or 5-level) address space (64 MiB)\n"
			       "as an ELF core.\n"
			       "Example: ptlab-mksample sample.core --raw sample.raw\n");
			exit(0);
		} else if (argv[i][0] == '-') {
			return usage_error("unknown option", argv[i]);
		} else if (o->core == NULL) {
			o->core = argv[i];
		} else {
			return usage_error("unexpected argument", argv[i]);
		}
	}
	if (o->core == NULL)
		return usage_error("missing OUT.core", NULL);
	return 0;
}

static void print_summary(const struct options *o, const struct ptb *b,
			  const struct pt_cpu_state *cpu)
{
	printf("wrote %s: ELF core, %llu MiB of physical memory in 2 segments, %s\n", o->core,
	       (unsigned long long)(b->size >> 20),
	       o->no_notes ? "no notes" : o->qemu_only ? "QEMU note" : "QEMU + PTLAB notes");
	printf("CR3 0x%llx  mode %s  MAXPHYADDR %u  page tables 0x%llx-0x%llx\n",
	       (unsigned long long)cpu->cr3, pt_mode_name(b->mode), cpu->maxphyaddr,
	       (unsigned long long)FIRST_TABLE_PA, (unsigned long long)b->next_free);
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		const struct region *r = &regions[i];

		printf("  0x%016llx-0x%016llx -> 0x%llx  %s\n", (unsigned long long)r->va,
		       (unsigned long long)(r->va + r->size), (unsigned long long)r->pa, r->what);
	}
	printf("  0x%016llx-0x%016llx    unreadable: PDE -> table 0x%llx (not in dump)\n",
	       (unsigned long long)UNREADABLE_VA, (unsigned long long)(UNREADABLE_VA + MIB(2)),
	       (unsigned long long)UNREADABLE_TABLE);
	printf("  0x%016llx-0x%016llx    ESPFIX-like: 512 PDEs -> one page table\n",
	       (unsigned long long)ESPFIX_VA, (unsigned long long)(ESPFIX_VA + GIB(1)));
	if (o->raw != NULL)
		printf("wrote %s: raw image, %llu MiB, CR3 0x%llx\n", o->raw,
		       (unsigned long long)(b->size >> 20), (unsigned long long)cpu->cr3);
}

int main(int argc, char *argv[])
{
	struct options o;
	struct ptb b;
	struct pt_cpu_state cpu;
	struct pt_core_segment segs[2];
	struct pt_core_desc desc;
	struct pt_error err;
	int ret;

	memset(&o, 0, sizeof(o));
	ret = parse_options(argc, argv, &o);
	if (ret != 0)
		return ret;
	ptb_init(&b, o.la57 ? PT_MODE_LA57 : PT_MODE_IA32E, MEM_SIZE, FIRST_TABLE_PA);
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++)
		map_region(&b, &regions[i]);
	damage(&b);
	ptb_cpu(&b, &cpu);
	cpu.maxphyaddr = SAMPLE_MAXPHYADDR;

	/* Two PT_LOAD segments, so readers meet more than one. */
	segs[0] = (struct pt_core_segment){ .pa = 0, .size = MEM_SIZE / 2, .data = b.mem };
	segs[1] = (struct pt_core_segment){ .pa = MEM_SIZE / 2, .size = MEM_SIZE / 2,
					    .data = b.mem + MEM_SIZE / 2 };
	memset(&desc, 0, sizeof(desc));
	desc.machine = 62;
	desc.segments = segs;
	desc.nsegments = 2;
	desc.cpu = o.no_notes ? NULL : &cpu;
	desc.ptlab_note = !o.qemu_only;
	memset(&err, 0, sizeof(err));
	ret = 1;
	if (pt_core_write(o.core, &desc, &err) != PT_OK) {
		fprintf(stderr, "ptlab-mksample: %s\n", err.message);
		goto out;
	}
	if (o.raw != NULL && write_raw(o.raw, &b) != 0)
		goto out;
	print_summary(&o, &b, &cpu);
	ret = 0;
out:
	ptb_deinit(&b);
	return ret;
}
