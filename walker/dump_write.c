/* SPDX-License-Identifier: MIT */
/*
 * dump_write.c: write an ELF core of physical memory in the layout of QEMU's
 * dump-guest-memory, so that ptlab and other tools read ours and QEMU's alike.
 *
 * File layout (ELF64, little-endian, ET_CORE, e_machine EM_X86_64 or EM_386):
 *   ELF header (64 bytes)
 *   [section header 0 (64 bytes), only when the program-header count needs PN_XNUM]
 *   program headers: one PT_NOTE (when there are notes), then one PT_LOAD per segment
 *     (p_paddr = physical address, p_vaddr 0, p_filesz = p_memsz = size, p_flags 0, p_align 0)
 *   note data (4-byte aligned notes)
 *   segment data, each segment starting at a 4 KiB-aligned file offset (the gaps are holes)
 *
 * Notes, in this order:
 *   "QEMU", n_type 0: QEMUCPUState version 1, 440 bytes: u32 version, u32 size, 18 u64
 *     registers (rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags), 10 segment descriptors
 *     of 24 bytes (u32 selector, u32 limit, u32 flags, u32 pad, u64 base; cs ds es fs gs ss
 *     ldt tr gdt idt), u64 cr[5], u64 kernel_gs_base. We fill rflags and cr0..cr4; the rest
 *     is 0. (No "CORE" NT_PRSTATUS note: nothing here needs one.)
 *   "PTLAB", n_type 1: what QEMUCPUState lacks. All little-endian, 72 bytes:
 *      0 u32 version (1)        4 u32 size (72, the descriptor size)
 *      8 u64 efer              16 u64 cr0          24 u64 cr3          32 u64 cr4
 *     40 u64 rflags            48 u32 pkru         52 u8 maxphyaddr    53 u8 cbit
 *     54 u16 reserved (0)      56 u32 cpuid_1_edx  60 u32 cpuid_7_ecx
 *     64 u32 cpuid_80000001_edx                    68 u32 reserved (0)
 *     The CPUID words are 0 when unknown (struct pt_cpu_state does not carry them).
 *     When cpu->has_pdpte_regs, the descriptor is 112 bytes: 72 u32 flags (bit 0: the PAE
 *     PDPTE registers follow), 76 u32 reserved (0), 80 u64 pdpte[4]; else 72 as above.
 *   "VMCOREINFO", n_type 0: the text, without a terminating NUL.
 * The QEMU and PTLAB notes are written only when desc->cpu is set (PTLAB also needs
 * desc->ptlab_note); the PT_NOTE header is left out when there is no note at all.
 */
#include "ptlab/dump.h"
#include "ptlab/error.h"
#include "ptlab/le.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/** ELF constants we write (System V gABI). */
enum {
	EHDR64_SIZE = 64,
	PHDR64_SIZE = 56,
	SHDR64_SIZE = 64,
	ET_CORE = 4,
	EM_386 = 3,
	EM_X86_64 = 62,
	PT_LOAD = 1,
	PT_NOTE = 4,
	PN_XNUM = 0xffff,
	NOTE_HDR_SIZE = 12,
};

/** QEMUCPUState sizes and offsets (version 1, with kernel_gs_base). */
enum {
	QEMU_NOTE_SIZE = 8 + 18 * 8 + 10 * 24 + 5 * 8 + 8, /* 440 */
	QEMU_RFLAGS = 8 + 17 * 8,                          /* 144 */
	QEMU_CR0 = 8 + 18 * 8 + 10 * 24,                   /* 392 */
};

/** PTLAB note layout (see the file comment). */
enum {
	PTLAB_NOTE_TYPE = 1,
	PTLAB_VERSION = 1,
	PTLAB_NOTE_SIZE = 72,
	PTLAB_EFER = 8, PTLAB_CR0 = 16, PTLAB_CR3 = 24, PTLAB_CR4 = 32, PTLAB_RFLAGS = 40,
	PTLAB_PKRU = 48, PTLAB_MAXPHYADDR = 52, PTLAB_CBIT = 53,
	PTLAB_PDPTE_NOTE_SIZE = 112, PTLAB_FLAGS = 72, PTLAB_PDPTE = 80, PTLAB_FLAG_PDPTE = 1,
};

/** Segment data starts on this file alignment (a page, as QEMU's segments do). */
static const uint64_t SEGMENT_ALIGN = 4096;

/* ---- Little helpers ------------------------------------------------------------------- */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}


/* ---- Notes ---------------------------------------------------------------------------- */

/**
 * Append one note (header, name with its NUL padded to 4, descriptor padded to 4) at
 * buf + pos when buf is not NULL; return the position after it either way.
 */
static size_t note_put(uint8_t *buf, size_t pos, const char *name, uint32_t type,
		       const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t name_pad = (namesz + 3u) & ~(size_t)3;
	size_t desc_pad = ((size_t)descsz + 3u) & ~(size_t)3;

	if (buf) {
		uint8_t *p = buf + pos;

		memset(p, 0, NOTE_HDR_SIZE + name_pad + desc_pad);
		pt_le_put(p, namesz, 4);
		pt_le_put(p + 4, descsz, 4);
		pt_le_put(p + 8, type, 4);
		memcpy(p + NOTE_HDR_SIZE, name, namesz);
		if (descsz)
			memcpy(p + NOTE_HDR_SIZE + name_pad, desc, descsz);
	}
	return pos + NOTE_HDR_SIZE + name_pad + desc_pad;
}

/** Lay out all the notes of `desc` into buf (NULL: only measure); return their size. */
static size_t notes_put(uint8_t *buf, const struct pt_core_desc *desc)
{
	uint8_t qemu[QEMU_NOTE_SIZE], ptlab[PTLAB_PDPTE_NOTE_SIZE];
	const struct pt_cpu_state *c = desc->cpu;
	size_t pos = 0;

	if (c) {
		memset(qemu, 0, sizeof(qemu));
		pt_le_put(qemu, 1, 4);
		pt_le_put(qemu + 4, QEMU_NOTE_SIZE, 4);
		pt_le_put(qemu + QEMU_RFLAGS, c->rflags, 8);
		pt_le_put(qemu + QEMU_CR0, c->cr0, 8);
		/* cr[1] and cr[2] stay 0 */
		pt_le_put(qemu + QEMU_CR0 + 3 * 8, c->cr3, 8);
		pt_le_put(qemu + QEMU_CR0 + 4 * 8, c->cr4, 8);
		pos = note_put(buf, pos, "QEMU", 0, qemu, QEMU_NOTE_SIZE);
	}
	if (c && desc->ptlab_note) {
		const uint32_t size = c->has_pdpte_regs ? PTLAB_PDPTE_NOTE_SIZE : PTLAB_NOTE_SIZE;

		memset(ptlab, 0, sizeof(ptlab));
		pt_le_put(ptlab, PTLAB_VERSION, 4);
		pt_le_put(ptlab + 4, size, 4);
		pt_le_put(ptlab + PTLAB_EFER, c->efer, 8);
		pt_le_put(ptlab + PTLAB_CR0, c->cr0, 8);
		pt_le_put(ptlab + PTLAB_CR3, c->cr3, 8);
		pt_le_put(ptlab + PTLAB_CR4, c->cr4, 8);
		pt_le_put(ptlab + PTLAB_RFLAGS, c->rflags, 8);
		pt_le_put(ptlab + PTLAB_PKRU, c->pkru, 4);
		ptlab[PTLAB_MAXPHYADDR] = c->maxphyaddr;
		ptlab[PTLAB_CBIT] = c->cbit;
		if (c->has_pdpte_regs) {
			pt_le_put(ptlab + PTLAB_FLAGS, PTLAB_FLAG_PDPTE, 4);
			for (unsigned i = 0; i < 4; i++)
				pt_le_put(ptlab + PTLAB_PDPTE + 8 * i, c->pdpte_regs[i], 8);
		}
		pos = note_put(buf, pos, "PTLAB", PTLAB_NOTE_TYPE, ptlab, size);
	}
	if (desc->vmcoreinfo)
		pos = note_put(buf, pos, "VMCOREINFO", 0, desc->vmcoreinfo,
			       (uint32_t)strlen(desc->vmcoreinfo));
	return pos;
}

/* ---- Writing -------------------------------------------------------------------------- */

/** Write `len` bytes; on failure fill err naming the path. */
static enum pt_status put(FILE *f, const void *p, size_t len, const char *path,
			  struct pt_error *err)
{
	if (len && fwrite(p, 1, len, f) != len)
		return pt_error_set(err, path, UINT64_MAX, "write failed: %s", strerror(errno));
	return PT_OK;
}

/** A page of zeros to compare with. */
static const uint8_t ZERO_PAGE[4096];

/**
 * Write a segment's `size` bytes at file offset `off` (where the file position is). To a regular
 * file the whole zero pages are not written but seeked over, left as holes: the core of a mostly
 * empty guest is written (and read back, SEEK_DATA) in a fraction of the time; the file position
 * is left at the segment's end.
 */
static enum pt_status put_segment(FILE *f, bool regular, const uint8_t *p, uint64_t size, uint64_t off,
				  const char *path, struct pt_error *err)
{
	if (!regular)
		return put(f, p, (size_t)size, path, err);
	uint64_t done = 0, pos = off; /* pos: where the file position is */
	while (done < size) {
		uint64_t n = size - done < sizeof(ZERO_PAGE) ? size - done : sizeof(ZERO_PAGE);
		if (memcmp(p + done, ZERO_PAGE, (size_t)n) == 0) {
			done += n;
			continue;
		}
		uint64_t run = n; /* the nonzero pages from here, written at once */
		while (done + run < size) {
			const uint64_t m = size - done - run < sizeof(ZERO_PAGE) ? size - done - run : sizeof(ZERO_PAGE);
			if (memcmp(p + done + run, ZERO_PAGE, (size_t)m) == 0)
				break;
			run += m;
		}
		if (pos != off + done && fseeko(f, (off_t)(off + done), SEEK_SET) != 0)
			return pt_error_set(err, path, UINT64_MAX, "seek failed: %s", strerror(errno));
		enum pt_status st = put(f, p + done, (size_t)run, path, err);
		if (st != PT_OK)
			return st;
		done += run;
		pos = off + done;
	}
	if (pos != off + size && fseeko(f, (off_t)(off + size), SEEK_SET) != 0)
		return pt_error_set(err, path, UINT64_MAX, "seek failed: %s", strerror(errno));
	return PT_OK;
}

/** The segment holding the whole 4 KiB root page of desc->root_paddr, or NULL. */
static const struct pt_core_segment *root_segment(const struct pt_core_desc *desc)
{
	const uint64_t pa = desc->root_paddr;

	if (pa % PT_PAGE_4K)
		return NULL;
	for (size_t i = 0; i < desc->nsegments; i++) {
		const struct pt_core_segment *s = &desc->segments[i];
		if (pa >= s->pa && pa - s->pa < s->size && s->size - (pa - s->pa) >= PT_PAGE_4K)
			return s;
	}
	return NULL;
}

/** Check the description before anything is written. */
static enum pt_status check_desc(const char *path, const struct pt_core_desc *desc,
				 struct pt_error *err)
{
	size_t i;

	if (desc->machine != EM_X86_64 && desc->machine != EM_386)
		return pt_error_set(err, path, UINT64_MAX, "machine %u is not EM_X86_64 (62) or EM_386 (3)",
			    desc->machine);
	if (desc->nsegments && !desc->segments)
		return pt_error_set(err, path, UINT64_MAX, "%zu segments but no segment array", desc->nsegments);
	if (desc->nsegments >= UINT32_MAX - 1)
		return pt_error_set(err, path, UINT64_MAX, "too many segments (%zu)", desc->nsegments);
	if (desc->vmcoreinfo && strlen(desc->vmcoreinfo) > UINT32_MAX - 4)
		return pt_error_set(err, path, UINT64_MAX, "VMCOREINFO text too long");
	if (desc->root_vaddr && root_segment(desc) == NULL)
		return pt_error_set(err, path, UINT64_MAX, "root table page 0x%" PRIx64 " (virtual 0x%" PRIx64
				    ") is not 4 KiB aligned or not inside one segment", desc->root_paddr,
				    desc->root_vaddr);
	for (i = 0; i < desc->nsegments; i++) {
		const struct pt_core_segment *s = &desc->segments[i];

		if (s->size && !s->data)
			return pt_error_set(err, path, UINT64_MAX, "segment %zu has no data", i);
		if (s->size > UINT64_MAX - s->pa)
			return pt_error_set(err, path, UINT64_MAX,
				    "segment %zu [0x%" PRIx64 " + 0x%" PRIx64 ") overflows the "
				    "physical address space", i, s->pa, s->size);
		if (s->size > (uint64_t)INT64_MAX / 2)
			return pt_error_set(err, path, UINT64_MAX, "segment %zu is too large (0x%" PRIx64 " bytes)",
				    i, s->size);
	}
	return PT_OK;
}

/** Write the ELF header (and section header 0 when `xnum`) for `phnum` program headers. */
static enum pt_status write_headers(FILE *f, const struct pt_core_desc *desc, uint64_t phnum,
				    bool xnum, const char *path, struct pt_error *err)
{
	uint8_t eh[EHDR64_SIZE] = { 0x7f, 'E', 'L', 'F', 2 /* ELFCLASS64 */,
				    1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */, 0 /* ELFOSABI_NONE */ };
	uint8_t sh[SHDR64_SIZE] = { 0 };
	enum pt_status st;

	pt_le_put(eh + 16, ET_CORE, 2);
	pt_le_put(eh + 18, (uint16_t)desc->machine, 2);
	pt_le_put(eh + 20, 1, 4);                                      /* e_version */
	pt_le_put(eh + 32, EHDR64_SIZE + (xnum ? SHDR64_SIZE : 0), 8); /* e_phoff */
	pt_le_put(eh + 40, xnum ? EHDR64_SIZE : 0, 8);                 /* e_shoff */
	pt_le_put(eh + 52, EHDR64_SIZE, 2);                            /* e_ehsize */
	pt_le_put(eh + 54, PHDR64_SIZE, 2);                            /* e_phentsize */
	pt_le_put(eh + 56, xnum ? PN_XNUM : (uint16_t)phnum, 2);       /* e_phnum */
	pt_le_put(eh + 58, xnum ? SHDR64_SIZE : 0, 2);                 /* e_shentsize */
	pt_le_put(eh + 60, xnum ? 1 : 0, 2);                           /* e_shnum */
	st = put(f, eh, sizeof(eh), path, err);
	if (st != PT_OK || !xnum)
		return st;
	/* section header 0: SHT_NULL, sh_info = the real program-header count */
	pt_le_put(sh + 44, (uint32_t)phnum, 4);
	return put(f, sh, sizeof(sh), path, err);
}

/** Write one program header. */
static enum pt_status write_phdr(FILE *f, uint32_t type, uint64_t off, uint64_t va, uint64_t pa,
				 uint64_t size, uint64_t align, const char *path,
				 struct pt_error *err)
{
	uint8_t ph[PHDR64_SIZE] = { 0 };

	pt_le_put(ph, type, 4);
	pt_le_put(ph + 4, 0, 4);     /* p_flags */
	pt_le_put(ph + 8, off, 8);   /* p_offset */
	pt_le_put(ph + 16, va, 8);   /* p_vaddr */
	pt_le_put(ph + 24, pa, 8);   /* p_paddr */
	pt_le_put(ph + 32, size, 8); /* p_filesz */
	pt_le_put(ph + 40, size, 8); /* p_memsz */
	pt_le_put(ph + 48, align, 8);
	return put(f, ph, sizeof(ph), path, err);
}

enum pt_status pt_core_write(const char *path, const struct pt_core_desc *desc,
			     struct pt_error *err)
{
	enum pt_status st = PT_OK;
	uint8_t *notes = NULL;
	size_t notes_size, i;
	uint64_t phnum, notes_off, off, root_off = 0;
	bool xnum, regular = false;
	struct stat sb;
	FILE *f = NULL;

	if (!path || !desc)
		return pt_error_set(err, path ? path : "(null)", UINT64_MAX, "no path or no core description");
	st = check_desc(path, desc, err);
	if (st != PT_OK)
		return st;

	notes_size = notes_put(NULL, desc);
	if (notes_size) {
		notes = malloc(notes_size);
		if (!notes)
			return pt_error_set(err, path, UINT64_MAX, "out of memory for %zu bytes of notes", notes_size);
		notes_put(notes, desc);
	}
	phnum = (uint64_t)desc->nsegments + (notes_size ? 1 : 0) + (desc->root_vaddr ? 1 : 0);
	xnum = phnum >= PN_XNUM;
	notes_off = EHDR64_SIZE + (xnum ? SHDR64_SIZE : 0) + phnum * PHDR64_SIZE;

	f = fopen(path, "wb");
	if (!f) {
		st = pt_error_set(err, path, UINT64_MAX, "cannot create: %s", strerror(errno));
		goto out;
	}
	/* a partial core is removed on failure, but never a device or a pipe */
	regular = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode);
	st = write_headers(f, desc, phnum, xnum, path, err);
	if (st != PT_OK)
		goto out;
	if (notes_size) {
		st = write_phdr(f, PT_NOTE, notes_off, 0, 0, notes_size, 4, path, err);
		if (st != PT_OK)
			goto out;
	}
	off = notes_off + notes_size;
	for (i = 0; i < desc->nsegments; i++) {
		const struct pt_core_segment *s = &desc->segments[i];
		uint64_t seg_off = s->size ? align_up(off, SEGMENT_ALIGN) : off;

		if (seg_off > (uint64_t)INT64_MAX / 2) {
			st = pt_error_set(err, path, UINT64_MAX, "core would exceed the largest file offset");
			goto out;
		}
		st = write_phdr(f, PT_LOAD, seg_off, 0, s->pa, s->size, 0, path, err);
		if (st != PT_OK)
			goto out;
		if (desc->root_vaddr && s == root_segment(desc))
			root_off = seg_off + (desc->root_paddr - s->pa);
		off = seg_off + s->size;
	}
	if (desc->root_vaddr) {
		/* the virtual view of the root table: the same bytes as its physical segment */
		st = write_phdr(f, PT_LOAD, root_off, desc->root_vaddr, desc->root_paddr, PT_PAGE_4K, 0,
				path, err);
		if (st != PT_OK)
			goto out;
	}
	st = put(f, notes, notes_size, path, err);
	if (st != PT_OK)
		goto out;

	/* segment data: the same offsets again; alignment gaps are skipped (holes) */
	off = notes_off + notes_size;
	for (i = 0; i < desc->nsegments; i++) {
		const struct pt_core_segment *s = &desc->segments[i];
		uint64_t seg_off;

		if (!s->size)
			continue;
		seg_off = align_up(off, SEGMENT_ALIGN);
		if (seg_off != off && fseeko(f, (off_t)seg_off, SEEK_SET) != 0) {
			st = pt_error_set(err, path, UINT64_MAX, "seek to 0x%" PRIx64 " failed: %s", seg_off,
				  strerror(errno));
			goto out;
		}
		if (s->size > SIZE_MAX) {
			st = pt_error_set(err, path, UINT64_MAX, "segment %zu is too large for this host", i);
			goto out;
		}
		st = put_segment(f, regular, s->data, s->size, seg_off, path, err);
		if (st != PT_OK)
			goto out;
		off = seg_off + s->size;
	}
	/* a core that ends in a hole: the file is as long as its last segment says */
	if (regular && (fflush(f) != 0 || ftruncate(fileno(f), (off_t)off) != 0))
		st = pt_error_set(err, path, UINT64_MAX, "write failed: %s", strerror(errno));
out:
	if (f && fclose(f) != 0 && st == PT_OK)
		st = pt_error_set(err, path, UINT64_MAX, "write failed: %s", strerror(errno));
	if (st != PT_OK && regular)
		remove(path);
	free(notes);
	return st;
}

/* ---- VMCOREINFO ----------------------------------------------------------------------- */

/** Append printf output at *pos, counting what would be written beyond `len`. */
PT_PRINTF(4, 5)
static void text_add(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*pos < len ? buf + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

size_t pt_vmcoreinfo_format(const struct pt_vmcoreinfo_fields *f, char *buf, size_t len)
{
	size_t pos = 0;

	if (len)
		buf[0] = '\0';
	/* the order and spelling of Linux's kernel/crash_core.c and arch/x86/kernel/crash_dump */
	text_add(buf, len, &pos, "OSRELEASE=%s\n", f->osrelease ? f->osrelease : "");
	text_add(buf, len, &pos, "PAGESIZE=%" PRIu64 "\n", f->page_size ? f->page_size : PT_PAGE_4K);
	if (f->swapper_pg_dir)
		text_add(buf, len, &pos, "SYMBOL(swapper_pg_dir)=%" PRIx64 "\n", f->swapper_pg_dir);
	if (f->stext)
		text_add(buf, len, &pos, "SYMBOL(_stext)=%" PRIx64 "\n", f->stext);
	if (f->x86_64) {
		text_add(buf, len, &pos, "NUMBER(phys_base)=%" PRId64 "\n", f->phys_base);
		if (f->init_top_pgt)
			text_add(buf, len, &pos, "SYMBOL(init_top_pgt)=%" PRIx64 "\n", f->init_top_pgt);
		text_add(buf, len, &pos, "NUMBER(pgtable_l5_enabled)=%d\n", f->la57 ? 1 : 0);
		text_add(buf, len, &pos, "KERNELOFFSET=%" PRIx64 "\n", f->kernel_offset);
	} else if (f->x86_pae) {
		text_add(buf, len, &pos, "CONFIG_X86_PAE=y\n");
	}
	return pos;
}
