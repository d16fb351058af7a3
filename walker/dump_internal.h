/* SPDX-License-Identifier: MIT */
/*
 * walker/dump_internal.h: struct pt_dump and the note parsing that dump.c (the formats libptwalk
 * reads) and dump_reader.c (outside readers' dumps, pt_dump_open_reader) share. Internal to
 * libptwalk: not installed, not included outside walker/.
 */
#ifndef PTLAB_WALKER_DUMP_INTERNAL_H
#define PTLAB_WALKER_DUMP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptlab/dump.h"

struct pt_dump {
	struct pt_mem mem;            /**< the reader; mem.opaque points back here */
	char *path;
	enum pt_dump_format format;
	const uint8_t *map;           /**< the whole file, read-only */
	size_t map_size;
	bool has_fd;                  /**< fd: the mapped file, kept open (pt_dump_data_extent) */
	int fd;
	unsigned machine;             /**< ELF e_machine, 0 for other formats */
	struct pt_dump_range *ranges; /**< sorted by pa, not overlapping */
	size_t nranges;
	enum pt_cpu_source cpu_source;
	struct pt_cpu_state cpu;
	const char *vmcoreinfo;       /**< inside the mapping or `notes`; not NUL-terminated */
	size_t vmcoreinfo_len;
	uint8_t *notes;               /**< every PT_NOTE segment (or the reader's notes), copied */
	size_t notes_size;
	char *vmcoreinfo_copy;        /**< an outside reader's VMCOREINFO text, copied */
	bool has_reader;              /**< the memory is an outside reader's (`reader`) */
	struct pt_dump_reader reader; /**< its callbacks (pointers into it are not kept) */
	struct pt_chunk_mem chunk_mem; /**< `mem` with a table of mapped chunks (dump_chunks_build);
					    what pt_dump_mem returns when `chunks` is set */
	const uint8_t **chunks;
};

/** Index of the range in ranges[0..n) (sorted) that holds `pa`, or n when none does. */
size_t dump_range_find(const struct pt_dump_range *ranges, size_t n, uint64_t pa);

/** Index the mapped ranges by chunk for the walker's inline reads (d->chunk_mem). Without memory
 *  for the table the dump is read through d->mem alone, as before. */
void dump_chunks_build(struct pt_dump *d);

/** What the notes of an ELF core hold (first of each kind). */
struct notes {
	const uint8_t *qemu;   /**< QEMUCPUState, at least QEMU_MIN_SIZE bytes */
	const uint8_t *ptlab;  /**< PTLAB desc, at least PTLAB_V1_SIZE bytes */
};

/**
 * Parse the ELF notes in `base`[0, size), which the file holds at offset `off` (for messages):
 * the first QEMU and PTLAB notes into *notes, the first VMCOREINFO into d->vmcoreinfo (pointers
 * into `base`). Returns PT_OK or PT_EINVAL naming d->path and the offset.
 */
enum pt_status dump_parse_notes(struct pt_dump *d, const uint8_t *base, uint64_t off,
				uint64_t size, struct notes *notes, struct pt_error *err);
/** Turn the notes found into d->cpu / d->cpu_source (PTLAB wins over QEMU). */
void dump_notes_to_cpu(struct pt_dump *d, const struct notes *notes);
/** Append `size` bytes of notes to d->notes (what pt_dump_notes returns). */
enum pt_status dump_keep_notes(struct pt_dump *d, const uint8_t *p, uint64_t size,
			       struct pt_error *err);

#endif
