/* SPDX-License-Identifier: MIT */
/*
 * dump.c: open physical-memory dumps (raw images, ELF cores, LiME) and read them through a
 * struct pt_mem. Outside readers' dumps (kdump-compressed files, read by libptkdump) are wrapped
 * in the same struct pt_dump by dump_reader.c.
 *
 * The file is mapped read-only and never copied. Opening validates every header against the
 * file size before anything is read through it, so a file whose headers lie fails with
 * PT_EINVAL and a message "PATH: offset 0xN: what is wrong" instead of a crash. All
 * multi-byte fields are assembled byte by byte (the file is little-endian and its fields
 * need not be aligned).
 *
 * The physical ranges are kept sorted and non-overlapping; the reader finds the range of an
 * address with a binary search and keeps no mutable state, so one dump may be read from any
 * number of threads.
 *
 * References: System V ABI, "ELF Header", "Program Header", "Note Section" and the
 * extended-numbering rule (PN_XNUM: the real program-header count in section header 0's
 * sh_info); QEMU's documented dump-guest-memory layout (QEMUCPUState in a "QEMU" note);
 * LiME's range header (magic, version, inclusive start and end address, 8 reserved bytes);
 * the kdump-compressed signature "KDUMP   " and makedumpfile's flattened-stream signature
 * "makedumpfile" (makedumpfile's IMPLEMENTATION notes), only recognised here.
 */
#include "dump_internal.h"
#include "ptlab/le.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Format constants ------------------------------------------------------------------ */

/** ELF identification and header values we check (gABI "ELF Identification", "ELF Header"). */
enum {
	EI_CLASS = 4,       /**< e_ident index of the file class */
	EI_DATA = 5,        /**< e_ident index of the data encoding */
	ELFCLASS32 = 1,
	ELFCLASS64 = 2,
	ELFDATA2LSB = 1,    /**< two's complement, little-endian */
	ET_CORE = 4,        /**< e_type of a core file */
	EM_386 = 3,
	EM_X86_64 = 62,
	PN_XNUM = 0xffff,   /**< e_phnum escape: the count is in section header 0's sh_info */
	PT_LOAD = 1,
	PT_NOTE = 4,
	NOTE_HDR_SIZE = 12, /**< n_namesz, n_descsz, n_type: three 32-bit words */
};

/** Offsets of the fields we read in the ELF header, program and section headers, per class. */
struct elf_layout {
	uint8_t ehdr_size;   /**< sizeof(ElfN_Ehdr) */
	uint8_t addr_size;   /**< 4 or 8: width of addresses and offsets */
	uint8_t e_phoff, e_shoff, e_phentsize, e_phnum, e_shentsize;
	uint8_t phdr_size;   /**< sizeof(ElfN_Phdr) */
	uint8_t p_offset, p_paddr, p_filesz;
	uint8_t shdr_size;   /**< sizeof(ElfN_Shdr) */
	uint8_t sh_info;
};

/** Index 0: ELFCLASS32, index 1: ELFCLASS64 (field offsets from the gABI structures). */
static const struct elf_layout elf_layouts[2] = {
	{
		.ehdr_size = 52, .addr_size = 4,
		.e_phoff = 28, .e_shoff = 32, .e_phentsize = 42, .e_phnum = 44, .e_shentsize = 46,
		.phdr_size = 32, .p_offset = 4, .p_paddr = 12, .p_filesz = 16,
		.shdr_size = 40, .sh_info = 28,
	},
	{
		.ehdr_size = 64, .addr_size = 8,
		.e_phoff = 32, .e_shoff = 40, .e_phentsize = 54, .e_phnum = 56, .e_shentsize = 58,
		.phdr_size = 56, .p_offset = 8, .p_paddr = 24, .p_filesz = 32,
		.shdr_size = 64, .sh_info = 44,
	},
};
/** Offsets of e_type and e_machine, the same in both classes. */
static const unsigned ELF_E_TYPE = 16, ELF_E_MACHINE = 18;

/**
 * QEMUCPUState as QEMU's x86 dump-guest-memory writes it into a "QEMU" note: u32 version,
 * u32 size, 18 u64 registers (rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags), 10 segment
 * descriptors of 24 bytes (cs ds es fs gs ss ldt tr gdt idt), u64 cr[5], then (version >= 1)
 * u64 kernel_gs_base.
 */
static const unsigned QEMU_RFLAGS = 8 + 17 * 8;           /* 144 */
static const unsigned QEMU_CR0 = 8 + 18 * 8 + 10 * 24;    /* 392 */
static const unsigned QEMU_MIN_SIZE = 8 + 18 * 8 + 10 * 24 + 5 * 8; /* 432: through cr[4] */

/**
 * The PTLAB note (name "PTLAB", n_type 1), written by pt_core_write; all little-endian:
 *   0 u32 version (1)        4 u32 size (of the desc, 72)
 *   8 u64 efer              16 u64 cr0          24 u64 cr3          32 u64 cr4
 *  40 u64 rflags            48 u32 pkru         52 u8 maxphyaddr    53 u8 cbit
 *  54 u16 reserved (0)      56 u32 cpuid_1_edx  60 u32 cpuid_7_ecx
 *  64 u32 cpuid_80000001_edx                    68 u32 reserved (0)
 *  (size 112 and up:)
 *  72 u32 flags: bit 0 = the PAE PDPTE registers follow (they may differ from the PDPT in memory)
 *  76 u32 reserved (0)      80 u64 pdpte[4]
 * Later versions may only append fields. A maxphyaddr of 0 means "unknown" (read as 52).
 */
enum {
	PTLAB_NOTE_TYPE = 1,
	PTLAB_V1_SIZE = 72,
	PTLAB_EFER = 8, PTLAB_CR0 = 16, PTLAB_CR3 = 24, PTLAB_CR4 = 32, PTLAB_RFLAGS = 40,
	PTLAB_PKRU = 48, PTLAB_MAXPHYADDR = 52, PTLAB_CBIT = 53,
	PTLAB_PDPTE_SIZE = 112, PTLAB_FLAGS = 72, PTLAB_PDPTE = 80,
	PTLAB_FLAG_PDPTE = 1,
};

/** LiME range header: u32 magic, u32 version, u64 s_addr, u64 e_addr (inclusive), u8 pad[8]. */
enum {
	LIME_MAGIC = 0x4C694D45, /* "EMiL" in the file */
	LIME_VERSION = 1,
	LIME_HDR_SIZE = 32, LIME_VERSION_OFF = 4, LIME_S_ADDR_OFF = 8, LIME_E_ADDR_OFF = 16,
};

/** Signatures of the formats libptwalk recognises but does not read. */
static const char KDUMP_SIGNATURE[8] = { 'K', 'D', 'U', 'M', 'P', ' ', ' ', ' ' };
static const char FLAT_SIGNATURE[12] = { 'm', 'a', 'k', 'e', 'd', 'u', 'm', 'p', 'f', 'i', 'l', 'e' };

/** MAXPHYADDR assumed when the dump does not say. */
static const uint8_t DEFAULT_MAXPHYADDR = PT_MAXPHYADDR_MAX;

/* ---- The dump (struct pt_dump: dump_internal.h) -------------------------------------- */


/** A segment as a header declares it, before the ranges are merged. */
struct seg {
	uint64_t pa, size, off;
	uint64_t hdr_off; /**< file offset of the header that declared it (for messages) */
};

/* ---- Little helpers ------------------------------------------------------------------- */

/** An address-sized field: 4 or 8 bytes. */
static uint64_t le_addr(const uint8_t *p, unsigned size)
{
	return size == 8 ? pt_le64(p) : pt_le32(p);
}

/** True when [off, off + len) lies inside a file of `size` bytes (no overflow). */
static bool in_file(uint64_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/** Round up to a multiple of 4 (note fields); `v` is at most 2^32 - 1 here. */
static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~(uint64_t)3;
}

/* ---- The reader ----------------------------------------------------------------------- */

/**
 * pt_mem callback: a pointer to [pa, pa + len) when one range holds all of it, else NULL.
 * A pure binary search over the sorted ranges (no cached state: safe from any thread).
 */
static const void *dump_ptr(const struct pt_mem *mem, uint64_t pa, size_t len)
{
	const struct pt_dump *d = mem->opaque;
	const struct pt_dump_range *r = d->ranges;
	size_t n = d->nranges;
	uint64_t off;

	if (n == 0)
		return NULL;
	/* Branch-free binary search (the compiler makes the step a cmov): r ends on the last range
	 * starting at or below pa, or on the first range. This runs for every entry the walker
	 * reads, and a mispredicted search branch cost more than the walk itself. */
	while (n > 1) {
		size_t half = n / 2;
		r = r[half].pa <= pa ? r + half : r;
		n -= half;
	}
	if (r->pa > pa)
		return NULL;
	off = pa - r->pa;
	if (off >= r->size || (uint64_t)len > r->size - off)
		return NULL;
	return d->map + r->file_off + off;
}

/* The largest chunk table dump_chunks_build makes (32 KiB of pointers, so the part the walker
 * touches stays in the first-level cache: a bigger table cost a cache miss per walk for
 * pa_in_dump alone); the chunk size grows
 * with the highest physical address to stay within it, and is at least one page. */
static const unsigned CHUNK_TABLE_BITS = 12;

void dump_chunks_build(struct pt_dump *d)
{
	const uint64_t end = pt_dump_phys_end(d);
	unsigned width = 0, shift;
	uint64_t nchunks;

	if (!d->map || d->nranges == 0)
		return;
	while (width < 64 && (end - 1) >> width)
		width++;
	shift = width > CHUNK_TABLE_BITS + PT_PAGE_SHIFT ? width - CHUNK_TABLE_BITS : PT_PAGE_SHIFT;
	nchunks = ((end - 1) >> shift) + 1;
	d->chunks = calloc((size_t)nchunks, sizeof(*d->chunks));
	if (!d->chunks)
		return;
	/* A chunk wholly inside one range is mapped contiguously (a range is contiguous in the
	 * file); one that a range boundary cuts stays NULL and is read through dump_ptr. */
	for (size_t i = 0; i < d->nranges; i++) {
		const struct pt_dump_range *r = &d->ranges[i];
		const uint64_t first = (r->pa >> shift) + ((r->pa & (PT_BIT(shift) - 1)) != 0);
		const uint64_t last = (r->pa + (r->size - 1) - (PT_BIT(shift) - 1)) >> shift;

		if (r->file_off == PT_DUMP_NO_FILE_OFF || r->pa + (r->size - 1) < PT_BIT(shift) - 1)
			continue;
		for (uint64_t c = first; c <= last && c < nchunks; c++)
			d->chunks[c] = d->map + r->file_off + ((c << shift) - r->pa);
	}
	pt_chunk_mem_init(&d->chunk_mem, d->chunks, nchunks, shift, &d->mem);
	pt_chunk_mem_set_end(&d->chunk_mem, end ? end : UINT64_MAX);
	/* the largest range is read without the table (one compare, no dependent load) */
	size_t big = 0;
	for (size_t i = 1; i < d->nranges; i++) {
		if (d->ranges[i].size > d->ranges[big].size)
			big = i;
	}
	if (d->ranges[big].file_off != PT_DUMP_NO_FILE_OFF)
		pt_chunk_mem_set_run(&d->chunk_mem, d->map + d->ranges[big].file_off, d->ranges[big].pa,
				     d->ranges[big].size);
}

/* ---- Merging declared segments into ranges ----------------------------------------------- */

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	if (x->pa != y->pa)
		return x->pa < y->pa ? -1 : 1;
	if (x->hdr_off != y->hdr_off)
		return x->hdr_off < y->hdr_off ? -1 : 1;
	return 0;
}

size_t dump_range_find(const struct pt_dump_range *out, size_t n, uint64_t pa)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (out[mid].pa <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || pa - out[lo - 1].pa >= out[lo - 1].size)
		return n;
	return lo - 1;
}

/**
 * Check that [s->pa, ov_end), already covered by out[0..n) without holes, holds the same
 * bytes in `s` as in the ranges. On a difference return PT_EINVAL naming s's header.
 */
static enum pt_status overlap_check(const struct pt_dump *d, const struct pt_dump_range *out,
				    size_t n, const struct seg *s, uint64_t ov_end,
				    struct pt_error *err)
{
	uint64_t a = s->pa;
	size_t i = dump_range_find(out, n, a);

	while (a < ov_end) {
		const struct pt_dump_range *r = &out[i];
		const uint8_t *x, *y;
		uint64_t chunk, k;

		if (i >= n || a < r->pa || a - r->pa >= r->size)
			return pt_error_set(err, d->path, s->hdr_off,
				    "segment at PA 0x%" PRIx64 " overlaps a hole (internal error)", a);
		chunk = r->pa + r->size - a;
		if (chunk > ov_end - a)
			chunk = ov_end - a;
		x = d->map + r->file_off + (a - r->pa);
		y = d->map + s->off + (a - s->pa);
		/* QEMU paging dumps alias one file range from many PT_LOADs: nothing to compare */
		if (x != y && memcmp(x, y, chunk) != 0) {
			for (k = 0; x[k] == y[k]; k++)
				;
			return pt_error_set(err, d->path, s->hdr_off,
				    "segment [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps an earlier one "
				    "with different bytes (first at PA 0x%" PRIx64 ")",
				    s->pa, s->pa + s->size, a + k);
		}
		a += chunk;
		i++;
	}
	return PT_OK;
}

/**
 * Sort the declared segments and turn them into d->ranges: sorted, non-overlapping, with
 * file-contiguous neighbours coalesced. Overlaps are rejected unless `allow_identical` and
 * the overlapping bytes are equal (kdump's kernel-text PT_LOAD inside the RAM one); then
 * only the part past what is already covered is kept. `segs` is sorted in place.
 */
static enum pt_status build_ranges(struct pt_dump *d, struct seg *segs, size_t nsegs,
				   bool allow_identical, struct pt_error *err)
{
	struct pt_dump_range *out = NULL;
	enum pt_status st = PT_OK;
	uint64_t cur_end = 0; /* one past the highest covered address */
	size_t n = 0, i;

	if (nsegs == 0)
		goto out;
	out = calloc(nsegs, sizeof(*out));
	if (!out) {
		st = pt_error_set(err, d->path, UINT64_MAX, "out of memory for %zu ranges", nsegs);
		goto out;
	}
	qsort(segs, nsegs, sizeof(*segs), seg_cmp);
	for (i = 0; i < nsegs; i++) {
		const struct seg *s = &segs[i];
		uint64_t end = s->pa + s->size; /* callers checked: no overflow */
		struct pt_dump_range piece = { .pa = s->pa, .size = s->size, .file_off = s->off };

		/*
		 * Invariant: [previous segment's pa, cur_end) is covered without holes, and
		 * s->pa >= that pa, so an overlap is a hole-free run of existing ranges.
		 */
		if (n > 0 && s->pa < cur_end) {
			uint64_t ov_end = end < cur_end ? end : cur_end;

			if (!allow_identical) {
				st = pt_error_set(err, d->path, s->hdr_off,
					  "range [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps an earlier range",
					  s->pa, end);
				goto out;
			}
			st = overlap_check(d, out, n, s, ov_end, err);
			if (st != PT_OK)
				goto out;
			if (end <= cur_end)
				continue;
			piece.pa = cur_end;
			piece.size = end - cur_end;
			piece.file_off = s->off + (cur_end - s->pa);
		}
		if (n > 0 && out[n - 1].pa + out[n - 1].size == piece.pa &&
		    out[n - 1].file_off + out[n - 1].size == piece.file_off)
			out[n - 1].size += piece.size;
		else
			out[n++] = piece;
		cur_end = end;
	}
out:
	if (st != PT_OK) {
		free(out);
		return st;
	}
	d->ranges = out;
	d->nranges = n;
	return PT_OK;
}

/* ---- ELF notes ------------------------------------------------------------------------ */


/** True when the note name (namesz bytes, NUL included or not) is `want`. */
static bool note_name_is(const uint8_t *name, uint32_t namesz, const char *want)
{
	size_t len = strlen(want);

	if (namesz == len + 1)
		return name[len] == 0 && memcmp(name, want, len) == 0;
	return namesz == len && memcmp(name, want, len) == 0;
}

/**
 * Parse the notes in `base`[0, size), which the file holds at offset `off` (for messages).
 * Notes use 4-byte alignment for the name and the descriptor. An all-zero note header ends
 * the list (padding some producers leave). Unknown notes ("CORE" NT_PRSTATUS, "LINUX"...)
 * are skipped. The pointers kept in *notes and d->vmcoreinfo point into `base`.
 */
enum pt_status dump_parse_notes(struct pt_dump *d, const uint8_t *base, uint64_t off,
				  uint64_t size, struct notes *notes, struct pt_error *err)
{
	const uint64_t end = off + size;
	uint64_t pos = off;

	base -= off; /* base[pos] is the byte at file offset pos */
	while (pos < end) {
		const uint8_t *h = base + pos;
		uint32_t namesz, descsz, type;
		uint64_t name_off, desc_off;
		const uint8_t *name, *desc;

		if (end - pos < NOTE_HDR_SIZE)
			return pt_error_set(err, d->path, pos,
				    "truncated note header: %" PRIu64 " bytes left in the PT_NOTE "
				    "segment, need %d", end - pos, NOTE_HDR_SIZE);
		namesz = pt_le32(h);
		descsz = pt_le32(h + 4);
		type = pt_le32(h + 8);
		if (namesz == 0 && descsz == 0 && type == 0)
			break;
		name_off = pos + NOTE_HDR_SIZE;
		if (namesz > end - name_off)
			return pt_error_set(err, d->path, pos,
				    "note name: n_namesz %" PRIu32 " runs past the end of the "
				    "PT_NOTE segment at 0x%" PRIx64, namesz, end);
		desc_off = name_off + align4(namesz);
		if (descsz > 0 && (desc_off > end || descsz > end - desc_off))
			return pt_error_set(err, d->path, pos,
				    "note descriptor: n_descsz %" PRIu32 " runs past the end of the "
				    "PT_NOTE segment at 0x%" PRIx64, descsz, end);
		name = base + name_off;
		desc = base + desc_off;

		if (note_name_is(name, namesz, "QEMU")) {
			if (descsz < QEMU_MIN_SIZE)
				return pt_error_set(err, d->path, pos,
					    "QEMU note: descriptor of %" PRIu32 " bytes is too short "
					    "for the CPU state (need %u)", descsz, QEMU_MIN_SIZE);
			if (!notes->qemu)
				notes->qemu = desc;
		} else if (note_name_is(name, namesz, "PTLAB") && type == PTLAB_NOTE_TYPE) {
			uint32_t version, dsize;

			if (descsz < PTLAB_V1_SIZE)
				return pt_error_set(err, d->path, pos,
					    "PTLAB note: descriptor of %" PRIu32 " bytes, need %d",
					    descsz, PTLAB_V1_SIZE);
			version = pt_le32(desc);
			dsize = pt_le32(desc + 4);
			if (version < 1 || dsize < PTLAB_V1_SIZE || dsize > descsz)
				return pt_error_set(err, d->path, pos,
					    "PTLAB note: bad version %" PRIu32 " or size %" PRIu32
					    " (descriptor of %" PRIu32 " bytes)", version, dsize, descsz);
			if (!notes->ptlab)
				notes->ptlab = desc;
		} else if (note_name_is(name, namesz, "VMCOREINFO")) {
			if (!d->vmcoreinfo) {
				size_t len = descsz;

				while (len > 0 && desc[len - 1] == 0)
					len--;
				d->vmcoreinfo = (const char *)desc;
				d->vmcoreinfo_len = len;
			}
		}
		pos = desc_off + align4(descsz);
	}
	return PT_OK;
}

/** Turn the notes found into d->cpu / d->cpu_source (PTLAB wins over QEMU). */
void dump_notes_to_cpu(struct pt_dump *d, const struct notes *notes)
{
	struct pt_cpu_state *c = &d->cpu;

	if (notes->ptlab) {
		const uint8_t *p = notes->ptlab;

		c->efer = pt_le64(p + PTLAB_EFER);
		c->cr0 = pt_le64(p + PTLAB_CR0);
		c->cr3 = pt_le64(p + PTLAB_CR3);
		c->cr4 = pt_le64(p + PTLAB_CR4);
		c->rflags = pt_le64(p + PTLAB_RFLAGS);
		c->pkru = pt_le32(p + PTLAB_PKRU);
		c->maxphyaddr = p[PTLAB_MAXPHYADDR] ? p[PTLAB_MAXPHYADDR] : DEFAULT_MAXPHYADDR;
		c->cbit = p[PTLAB_CBIT];
		if (pt_le32(p + 4) >= PTLAB_PDPTE_SIZE && (pt_le32(p + PTLAB_FLAGS) & PTLAB_FLAG_PDPTE)) {
			c->has_pdpte_regs = true;
			for (unsigned i = 0; i < 4; i++)
				c->pdpte_regs[i] = pt_le64(p + PTLAB_PDPTE + 8 * i);
		}
		d->cpu_source = PT_CPU_PTLAB;
	} else if (notes->qemu) {
		const uint8_t *p = notes->qemu;

		c->rflags = pt_le64(p + QEMU_RFLAGS);
		c->cr0 = pt_le64(p + QEMU_CR0);
		c->cr3 = pt_le64(p + QEMU_CR0 + 3 * 8);
		c->cr4 = pt_le64(p + QEMU_CR0 + 4 * 8);
		/* EFER is not in QEMUCPUState: a 64-bit guest with paging on is in long mode; NXE is
		 * taken as set (the default of the design), also for a 32-bit PAE guest, whose kernel
		 * writes XD only when the CPU has NX and it enabled EFER.NXE (QEMU's i386 `info
		 * registers` showed EFER=0x800 for Debian's 686-pae). */
		c->efer = 0;
		if ((c->cr0 & CR0_PG) && (c->cr4 & CR4_PAE)) {
			c->efer = EFER_NXE;
			if (d->machine == EM_X86_64)
				c->efer |= EFER_LMA | EFER_LME;
		}
		/* QEMU's PAE walker sets the Accessed bit in the PDPTE it uses (hardware never
		 * writes PDPTEs); the PDPTE the CPU loaded had it clear. */
		c->pdpte_written_by_dumper = PT_QEMU_PDPTE_A;
		c->pkru = 0;
		c->maxphyaddr = DEFAULT_MAXPHYADDR;
		c->cbit = 0;
		d->cpu_source = PT_CPU_QEMU;
	}
}

/** Append `size` bytes of notes to d->notes (what pt_dump_notes returns). */
enum pt_status dump_keep_notes(struct pt_dump *d, const uint8_t *p, uint64_t size,
				 struct pt_error *err)
{
	uint8_t *grown;

	if (size > SIZE_MAX - d->notes_size)
		return pt_error_set(err, d->path, UINT64_MAX, "notes too large");
	grown = realloc(d->notes, d->notes_size + (size_t)size);
	if (!grown)
		return pt_error_set(err, d->path, UINT64_MAX, "out of memory for %" PRIu64
				    " bytes of notes", size);
	memcpy(grown + d->notes_size, p, (size_t)size);
	d->notes = grown;
	d->notes_size += (size_t)size;
	return PT_OK;
}

/* ---- ELF cores ------------------------------------------------------------------------ */

/** Name of a few e_machine values people may feed us by mistake. */
static const char *machine_name(unsigned machine)
{
	static const struct {
		unsigned id;
		const char *name;
	} names[] = {
		{ 2, "EM_SPARC" }, { 8, "EM_MIPS" }, { 20, "EM_PPC" }, { 21, "EM_PPC64" },
		{ 22, "EM_S390" }, { 40, "EM_ARM" }, { 43, "EM_SPARCV9" }, { 50, "EM_IA_64" },
		{ 183, "EM_AARCH64" }, { 243, "EM_RISCV" }, { 258, "EM_LOONGARCH" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].id == machine)
			return names[i].name;
	return "unknown machine";
}

/** Open an ELF core: header, program headers, PT_LOAD ranges and PT_NOTE notes. */
static enum pt_status open_elf(struct pt_dump *d, struct pt_error *err)
{
	const uint8_t *m = d->map;
	const uint64_t size = d->map_size;
	const struct elf_layout *L;
	struct notes notes = { 0 };
	struct seg *segs = NULL;
	enum pt_status st = PT_OK;
	uint64_t phoff, phnum, phnum_field, i;
	unsigned phentsize, type;
	size_t nsegs = 0;

	if (size < EI_DATA + 1) {
		st = pt_error_set(err, d->path, 0, "truncated ELF header: %" PRIu64 " bytes", size);
		goto out;
	}
	if (m[EI_CLASS] != ELFCLASS32 && m[EI_CLASS] != ELFCLASS64) {
		st = pt_error_set(err, d->path, EI_CLASS, "EI_CLASS %u is neither ELFCLASS32 nor ELFCLASS64",
			  m[EI_CLASS]);
		goto out;
	}
	if (m[EI_DATA] != ELFDATA2LSB) {
		st = pt_error_set(err, d->path, EI_DATA,
			  "EI_DATA %u: only little-endian (ELFDATA2LSB) cores are supported", m[EI_DATA]);
		goto out;
	}
	L = &elf_layouts[m[EI_CLASS] == ELFCLASS64];
	if (size < L->ehdr_size) {
		st = pt_error_set(err, d->path, 0, "truncated ELF header: %" PRIu64 " bytes, need %u",
			  size, L->ehdr_size);
		goto out;
	}
	type = pt_le16(m + ELF_E_TYPE);
	if (type != ET_CORE) {
		st = pt_error_set(err, d->path, ELF_E_TYPE, "e_type %u is not ET_CORE (4): not a core file",
			  type);
		goto out;
	}
	d->machine = pt_le16(m + ELF_E_MACHINE);
	if (d->machine != EM_X86_64 && d->machine != EM_386) {
		st = pt_error_set(err, d->path, ELF_E_MACHINE,
			  "e_machine %u (%s) is not EM_X86_64 (62) or EM_386 (3)", d->machine,
			  machine_name(d->machine));
		goto out;
	}

	phoff = le_addr(m + L->e_phoff, L->addr_size);
	phnum = pt_le16(m + L->e_phnum);
	phnum_field = L->e_phnum;
	if (phnum == PN_XNUM) {
		uint64_t shoff = le_addr(m + L->e_shoff, L->addr_size);
		unsigned shentsize = pt_le16(m + L->e_shentsize);

		if (shoff == 0) {
			st = pt_error_set(err, d->path, L->e_shoff,
				  "e_phnum is PN_XNUM but there is no section header 0 (e_shoff 0)");
			goto out;
		}
		if (shentsize != L->shdr_size) {
			st = pt_error_set(err, d->path, L->e_shentsize, "e_shentsize %u, expected %u",
				  shentsize, L->shdr_size);
			goto out;
		}
		if (!in_file(size, shoff, L->shdr_size)) {
			st = pt_error_set(err, d->path, shoff,
				  "section header 0 runs past end of file (size 0x%" PRIx64 ")", size);
			goto out;
		}
		phnum_field = shoff + L->sh_info;
		phnum = pt_le32(m + phnum_field);
	}
	if (phnum > 0) {
		phentsize = pt_le16(m + L->e_phentsize);
		if (phentsize != L->phdr_size) {
			st = pt_error_set(err, d->path, L->e_phentsize, "e_phentsize %u, expected %u",
				  phentsize, L->phdr_size);
			goto out;
		}
		/* phnum < 2^32 and phentsize <= 56: the product cannot overflow */
		if (phnum * phentsize > size) {
			st = pt_error_set(err, d->path, phnum_field,
				  "absurd program header count %" PRIu64 ": more than fit in the file "
				  "(size 0x%" PRIx64 ")", phnum, size);
			goto out;
		}
		if (!in_file(size, phoff, phnum * phentsize)) {
			st = pt_error_set(err, d->path, phoff,
				  "%" PRIu64 " program headers run past end of file (size 0x%" PRIx64 ")",
				  phnum, size);
			goto out;
		}
		segs = calloc((size_t)phnum, sizeof(*segs));
		if (!segs) {
			st = pt_error_set(err, d->path, UINT64_MAX, "out of memory for %" PRIu64
				  " program headers", phnum);
			goto out;
		}
	}

	for (i = 0; i < phnum; i++) {
		const uint64_t ho = phoff + i * L->phdr_size;
		const uint8_t *ph = m + ho;
		uint32_t ptype = pt_le32(ph);
		uint64_t off, pa, filesz;

		if (ptype != PT_LOAD && ptype != PT_NOTE)
			continue;
		off = le_addr(ph + L->p_offset, L->addr_size);
		pa = le_addr(ph + L->p_paddr, L->addr_size);
		filesz = le_addr(ph + L->p_filesz, L->addr_size);
		/* bytes in [p_filesz, p_memsz) are not in the dump: only p_filesz counts */
		if (filesz == 0)
			continue;
		if (!in_file(size, off, filesz)) {
			st = pt_error_set(err, d->path, ho,
				  "%s p_offset 0x%" PRIx64 " + p_filesz 0x%" PRIx64 " runs past end of "
				  "file (size 0x%" PRIx64 ")", ptype == PT_LOAD ? "PT_LOAD" : "PT_NOTE",
				  off, filesz, size);
			goto out;
		}
		if (ptype == PT_NOTE) {
			st = dump_parse_notes(d, m + off, off, filesz, &notes, err);
			if (st != PT_OK)
				goto out;
			st = dump_keep_notes(d, m + off, filesz, err);
			if (st != PT_OK)
				goto out;
			continue;
		}
		if (filesz > UINT64_MAX - pa) {
			st = pt_error_set(err, d->path, ho,
				  "PT_LOAD p_paddr 0x%" PRIx64 " + p_filesz 0x%" PRIx64
				  " overflows the physical address space", pa, filesz);
			goto out;
		}
		segs[nsegs].pa = pa;
		segs[nsegs].size = filesz;
		segs[nsegs].off = off;
		segs[nsegs].hdr_off = ho;
		nsegs++;
	}
	st = build_ranges(d, segs, nsegs, true, err);
	if (st != PT_OK)
		goto out;
	dump_notes_to_cpu(d, &notes);
out:
	free(segs);
	return st;
}

/* ---- LiME ----------------------------------------------------------------------------- */

/** Open a LiME dump: a sequence of 32-byte range headers, each followed by its bytes. */
static enum pt_status open_lime(struct pt_dump *d, struct pt_error *err)
{
	const uint64_t size = d->map_size;
	struct seg *segs = NULL;
	enum pt_status st = PT_OK;
	size_t nsegs = 0, cap;
	uint64_t pos;

	/* every range takes at least one header and one byte */
	cap = (size_t)(size / (LIME_HDR_SIZE + 1)) + 1;
	segs = calloc(cap, sizeof(*segs));
	if (!segs) {
		st = pt_error_set(err, d->path, UINT64_MAX, "out of memory");
		goto out;
	}
	for (pos = 0; pos < size;) {
		const uint8_t *h = d->map + pos;
		uint64_t s_addr, e_addr, len;
		uint32_t version;

		if (size - pos < LIME_HDR_SIZE) {
			st = pt_error_set(err, d->path, pos, "truncated LiME header: %" PRIu64
				  " bytes left, need %d", size - pos, LIME_HDR_SIZE);
			goto out;
		}
		if (pt_le32(h) != LIME_MAGIC) {
			st = pt_error_set(err, d->path, pos, "bad LiME magic 0x%08" PRIx32 " (expected 0x%08x)",
				  pt_le32(h), (unsigned)LIME_MAGIC);
			goto out;
		}
		version = pt_le32(h + LIME_VERSION_OFF);
		if (version != LIME_VERSION) {
			st = pt_error_set(err, d->path, pos + LIME_VERSION_OFF,
				  "LiME version %" PRIu32 " (expected %d)", version, LIME_VERSION);
			goto out;
		}
		s_addr = pt_le64(h + LIME_S_ADDR_OFF);
		e_addr = pt_le64(h + LIME_E_ADDR_OFF);
		if (e_addr < s_addr) {
			st = pt_error_set(err, d->path, pos + LIME_E_ADDR_OFF,
				  "LiME e_addr 0x%" PRIx64 " is below s_addr 0x%" PRIx64, e_addr, s_addr);
			goto out;
		}
		if (e_addr == UINT64_MAX) {
			st = pt_error_set(err, d->path, pos + LIME_E_ADDR_OFF,
				  "LiME e_addr 0x%" PRIx64 " ends at the top of the physical address space",
				  e_addr);
			goto out;
		}
		len = e_addr - s_addr; /* e_addr is inclusive: the range has len + 1 bytes */
		if (len >= size - pos - LIME_HDR_SIZE) {
			st = pt_error_set(err, d->path, pos,
				  "LiME range [0x%" PRIx64 ", 0x%" PRIx64 "] runs past end of file "
				  "(size 0x%" PRIx64 ")", s_addr, e_addr, size);
			goto out;
		}
		len++;
		segs[nsegs].pa = s_addr;
		segs[nsegs].size = len;
		segs[nsegs].off = pos + LIME_HDR_SIZE;
		segs[nsegs].hdr_off = pos;
		nsegs++;
		pos += LIME_HDR_SIZE + len;
	}
	st = build_ranges(d, segs, nsegs, false, err);
out:
	free(segs);
	return st;
}

/* ---- Public API ----------------------------------------------------------------------- */

const char *pt_dump_format_name(enum pt_dump_format format)
{
	switch (format) {
	case PT_DUMP_RAW:
		return "raw";
	case PT_DUMP_ELF:
		return "elf";
	case PT_DUMP_LIME:
		return "lime";
	case PT_DUMP_KDUMP:
		return "kdump";
	case PT_DUMP_FLATTENED:
		return "flattened";
	}
	return "unknown";
}

enum pt_dump_format pt_dump_detect(const void *head, size_t size)
{
	static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
	const uint8_t *m = head;

	if (size >= 4 && memcmp(m, elf_magic, 4) == 0)
		return PT_DUMP_ELF;
	if (size >= 4 && pt_le32(m) == LIME_MAGIC)
		return PT_DUMP_LIME;
	if (size >= sizeof(KDUMP_SIGNATURE) && memcmp(m, KDUMP_SIGNATURE, sizeof(KDUMP_SIGNATURE)) == 0)
		return PT_DUMP_KDUMP;
	if (size >= sizeof(FLAT_SIGNATURE) && memcmp(m, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE)) == 0)
		return PT_DUMP_FLATTENED;
	return PT_DUMP_RAW;
}

/**
 * The formats only an outside reader opens: say which, and for makedumpfile's flattened stream
 * the command that rebuilds the standard file (shell-quoted paths).
 */
static enum pt_status refuse_format(const struct pt_dump *d, struct pt_error *err)
{
	if (d->format == PT_DUMP_KDUMP)
		return pt_error_set(err, d->path, 0,
				    "a kdump-compressed dump (\"KDUMP   \"): libptwalk does not decompress "
				    "its pages; open it with pt_kdump_open_dump (libptkdump), as the ptlab "
				    "command does");
	return pt_error_set(err, d->path, 0,
			    "makedumpfile's flattened format (what QEMU's dump-guest-memory -z/-l/-s "
			    "writes) is not read directly; rebuild the standard kdump file with: "
			    "makedumpfile -R '%s.kdump' < '%s'", d->path, d->path);
}

enum pt_status pt_dump_open(const char *path, const struct pt_dump_open_opts *opts,
			    struct pt_dump **dump_ret, struct pt_error *err)
{
	struct pt_dump *d = NULL;
	enum pt_status st = PT_OK;
	struct stat sb;
	size_t plen;
	void *map;
	int fd = -1;

	if (err) {
		err->offset = UINT64_MAX;
		err->message[0] = 0;
	}
	if (!path || !dump_ret)
		return pt_error_set(err, path ? path : "(null)", UINT64_MAX, "no path or no result pointer");
	*dump_ret = NULL;

	d = calloc(1, sizeof(*d));
	if (!d)
		return pt_error_set(err, path, UINT64_MAX, "out of memory");
	plen = strlen(path);
	d->path = malloc(plen + 1);
	if (!d->path) {
		st = pt_error_set(err, path, UINT64_MAX, "out of memory");
		goto out;
	}
	memcpy(d->path, path, plen + 1);
	d->mem.ptr = dump_ptr;
	d->mem.opaque = d;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st = pt_error_set(err, path, UINT64_MAX, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		st = pt_error_set(err, path, UINT64_MAX, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = pt_error_set(err, path, UINT64_MAX, "not a regular file");
		goto out;
	}
	if (sb.st_size == 0) {
		st = pt_error_set(err, path, UINT64_MAX, "empty file (0 bytes): not a dump");
		goto out;
	}
	if ((uintmax_t)sb.st_size > SIZE_MAX) {
		st = pt_error_set(err, path, UINT64_MAX, "file too large to map");
		goto out;
	}
	d->map_size = (size_t)sb.st_size;
	map = mmap(NULL, d->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		st = pt_error_set(err, path, UINT64_MAX, "cannot map: %s", strerror(errno));
		goto out;
	}
	d->map = map;
	d->fd = fd; /* kept for pt_dump_data_extent (SEEK_DATA); pt_dump_close closes it */
	d->has_fd = true;
	fd = -1;

	d->format = (opts && opts->force_raw) ? PT_DUMP_RAW : pt_dump_detect(d->map, d->map_size);
	switch (d->format) {
	case PT_DUMP_KDUMP:
	case PT_DUMP_FLATTENED:
		st = refuse_format(d, err);
		break;
	case PT_DUMP_ELF:
		st = open_elf(d, err);
		break;
	case PT_DUMP_LIME:
		st = open_lime(d, err);
		break;
	case PT_DUMP_RAW: {
		struct seg whole = { .pa = 0, .size = d->map_size, .off = 0, .hdr_off = 0 };

		st = build_ranges(d, &whole, 1, false, err);
		break;
	}
	}
out:
	if (fd >= 0)
		close(fd);
	if (st != PT_OK) {
		pt_dump_close(d);
		return st;
	}
	dump_chunks_build(d);
	*dump_ret = d;
	return PT_OK;
}

void pt_dump_close(struct pt_dump *dump)
{
	if (!dump)
		return;
	if (dump->map)
		munmap((void *)(uintptr_t)dump->map, dump->map_size);
	if (dump->has_fd)
		close(dump->fd);
	if (dump->has_reader && dump->reader.close)
		dump->reader.close(dump->reader.mem.opaque);
	free(dump->ranges);
	free(dump->chunks);
	free(dump->notes);
	free(dump->vmcoreinfo_copy);
	free(dump->path);
	free(dump);
}

const struct pt_mem *pt_dump_mem(const struct pt_dump *dump)
{
	return dump->chunks ? &dump->chunk_mem.mem : &dump->mem;
}

enum pt_dump_format pt_dump_format(const struct pt_dump *dump)
{
	return dump->format;
}

const char *pt_dump_path(const struct pt_dump *dump)
{
	return dump->path;
}

unsigned pt_dump_elf_machine(const struct pt_dump *dump)
{
	return dump->format == PT_DUMP_ELF || dump->has_reader ? dump->machine : 0;
}

const struct pt_dump_range *pt_dump_ranges(const struct pt_dump *dump, size_t *count_ret)
{
	if (count_ret)
		*count_ret = dump->nranges;
	return dump->ranges;
}

uint64_t pt_dump_phys_end(const struct pt_dump *dump)
{
	const struct pt_dump_range *last;

	if (dump->nranges == 0)
		return 0;
	last = &dump->ranges[dump->nranges - 1];
	return last->pa + last->size;
}

enum pt_cpu_source pt_dump_cpu(const struct pt_dump *dump, struct pt_cpu_state *cpu_ret)
{
	if (dump->cpu_source != PT_CPU_NONE && cpu_ret)
		*cpu_ret = dump->cpu;
	return dump->cpu_source;
}

const char *pt_dump_vmcoreinfo(const struct pt_dump *dump, size_t *len_ret)
{
	if (len_ret)
		*len_ret = dump->vmcoreinfo ? dump->vmcoreinfo_len : 0;
	return dump->vmcoreinfo;
}

/*
 * Lines are "KEY=VALUE" separated by '\n' (a final newline and trailing NULs are optional;
 * a '\r' before the newline is dropped). KEY must match the whole text before the first '='.
 * When the value does not fit in buf (with its NUL), buf gets "" and the result is false:
 * a cut-off address would be worse than none. buf NULL with buflen 0 only tests presence.
 */
bool pt_dump_vmcoreinfo_get(const struct pt_dump *dump, const char *key, char *buf, size_t buflen)
{
	const char *p = dump->vmcoreinfo, *end;
	size_t klen;

	if (buf && buflen > 0)
		buf[0] = 0;
	if (!p || !key)
		return false;
	klen = strlen(key);
	if (klen == 0 || memchr(key, '=', klen))
		return false;
	end = p + dump->vmcoreinfo_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		size_t line_len = (size_t)(line_end - p);

		if (line_len > klen && p[klen] == '=' && memcmp(p, key, klen) == 0) {
			const char *v = p + klen + 1;
			size_t vlen = (size_t)(line_end - v);

			if (vlen > 0 && v[vlen - 1] == '\r')
				vlen--;
			if (!buf && buflen == 0)
				return true;
			if (!buf || vlen >= buflen)
				return false;
			memcpy(buf, v, vlen);
			buf[vlen] = 0;
			return true;
		}
		p = nl ? nl + 1 : end;
	}
	return false;
}
