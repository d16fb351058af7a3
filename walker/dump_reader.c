/* SPDX-License-Identifier: MIT */
/*
 * walker/dump_reader.c: dumps read by an outside reader (dump.h, struct pt_dump_reader). libptwalk
 * stays free of compression libraries: libptkdump decodes kdump-compressed files through
 * libkdumpfile and hands over its memory, ranges and ELF notes; pt_dump_open_reader checks the
 * ranges, parses the notes exactly as an ELF core's (dump.c) and makes a struct pt_dump that every
 * function of dump.h, the walker and the kpgd finder read like any other.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dump_internal.h"

/** Check that the reader's ranges are sorted, not overlapping and do not wrap; copy them. */
static enum pt_status reader_ranges(struct pt_dump *d, const struct pt_dump_reader *r,
				    struct pt_error *err)
{
	size_t i;

	if (r->nranges == 0)
		return PT_OK;
	if (!r->ranges || r->nranges > SIZE_MAX / sizeof(*r->ranges))
		return pt_error_set(err, d->path, UINT64_MAX, "reader: no ranges array for %zu ranges",
				    r->nranges);
	for (i = 0; i < r->nranges; i++) {
		const struct pt_dump_range *x = &r->ranges[i];

		if (x->size == 0 || x->size - 1 > UINT64_MAX - x->pa)
			return pt_error_set(err, d->path, UINT64_MAX,
				    "reader: range %zu [0x%" PRIx64 " + 0x%" PRIx64 ") is empty or wraps",
				    i, x->pa, x->size);
		if (i > 0 && x->pa - r->ranges[i - 1].pa < r->ranges[i - 1].size)
			return pt_error_set(err, d->path, UINT64_MAX,
				    "reader: range %zu at 0x%" PRIx64 " is below the end of range %zu",
				    i, x->pa, i - 1);
		if (i > 0 && x->pa < r->ranges[i - 1].pa)
			return pt_error_set(err, d->path, UINT64_MAX,
				    "reader: range %zu at 0x%" PRIx64 " is not sorted", i, x->pa);
	}
	d->ranges = malloc(r->nranges * sizeof(*d->ranges));
	if (!d->ranges)
		return pt_error_set(err, d->path, UINT64_MAX, "out of memory for %zu ranges", r->nranges);
	memcpy(d->ranges, r->ranges, r->nranges * sizeof(*d->ranges));
	d->nranges = r->nranges;
	return PT_OK;
}

/** Copy the reader's notes and parse them as an ELF core's; then its own VMCOREINFO text. */
static enum pt_status reader_notes(struct pt_dump *d, const struct pt_dump_reader *r,
				   struct pt_error *err)
{
	struct notes notes = { 0 };
	enum pt_status st;

	if (r->notes && r->notes_size > 0) {
		st = dump_keep_notes(d, r->notes, r->notes_size, err);
		if (st != PT_OK)
			return st;
		st = dump_parse_notes(d, d->notes, r->notes_file_off, d->notes_size, &notes, err);
		if (st != PT_OK)
			return st;
		dump_notes_to_cpu(d, &notes);
	}
	if (!d->vmcoreinfo && r->vmcoreinfo && r->vmcoreinfo_len > 0) {
		size_t len = r->vmcoreinfo_len;

		while (len > 0 && r->vmcoreinfo[len - 1] == 0)
			len--;
		d->vmcoreinfo_copy = malloc(len + 1);
		if (!d->vmcoreinfo_copy)
			return pt_error_set(err, d->path, UINT64_MAX, "out of memory for VMCOREINFO");
		memcpy(d->vmcoreinfo_copy, r->vmcoreinfo, len);
		d->vmcoreinfo_copy[len] = 0;
		d->vmcoreinfo = d->vmcoreinfo_copy;
		d->vmcoreinfo_len = len;
	}
	return PT_OK;
}

enum pt_status pt_dump_open_reader(const char *path, const struct pt_dump_reader *reader,
				   struct pt_dump **dump_ret, struct pt_error *err)
{
	struct pt_dump *d = NULL;
	enum pt_status st = PT_OK;
	size_t plen;

	if (err) {
		err->offset = UINT64_MAX;
		err->message[0] = 0;
	}
	if (!reader)
		return pt_error_set(err, path ? path : "(null)", UINT64_MAX, "no reader");
	if (!path || !dump_ret || !reader->mem.ptr) {
		st = pt_error_set(err, path ? path : "(null)", UINT64_MAX,
				  "no path, no result pointer or no reader callback");
		goto fail;
	}
	*dump_ret = NULL;
	d = calloc(1, sizeof(*d));
	plen = strlen(path);
	if (d)
		d->path = malloc(plen + 1);
	if (!d || !d->path) {
		st = pt_error_set(err, path, UINT64_MAX, "out of memory");
		goto fail;
	}
	memcpy(d->path, path, plen + 1);
	d->format = reader->format;
	d->machine = reader->machine;
	d->mem = reader->mem;
	d->has_reader = true;
	d->reader = *reader;
	d->reader.ranges = NULL;
	d->reader.notes = NULL;
	d->reader.vmcoreinfo = NULL;
	st = reader_ranges(d, reader, err);
	if (st == PT_OK)
		st = reader_notes(d, reader, err);
	if (st != PT_OK) {
		pt_dump_close(d); /* closes the reader */
		return st;
	}
	*dump_ret = d;
	return PT_OK;
fail:
	if (d) {
		free(d->path);
		free(d);
	}
	if (reader->close)
		reader->close(reader->mem.opaque);
	return st;
}

size_t pt_dump_read_errors(const struct pt_dump *dump, struct pt_error *first_ret)
{
	if (!dump->has_reader || !dump->reader.read_errors)
		return 0;
	return dump->reader.read_errors(dump->reader.mem.opaque, first_ret);
}

const void *pt_dump_notes(const struct pt_dump *dump, size_t *size_ret)
{
	if (size_ret)
		*size_ret = dump->notes_size;
	return dump->notes;
}

