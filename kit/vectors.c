/* SPDX-License-Identifier: MIT */
/*
 * kit/vectors.c: the vector corpus (docs/conformance.md, "The vector corpus"): the built-in cases
 * exported as files another project's tests read without ptlab (one ELF core per case and
 * manifest.json, format ptlab-vectors/1), and the same corpus read back as cases for `ptlab check
 * --vectors DIR`, every field checked first so a corrupt manifest is one clear error naming the
 * file and the field. The expected answers of a corpus are the manifest's, not recomputed.
 *
 * Determinism: cases in the catalogue's order, keys in a fixed order, no time, no absolute path:
 * two exports are byte-identical.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kit_internal.h"

static const char FORMAT[] = "ptlab-vectors/1";
static const char MANIFEST[] = "manifest.json";

static json_t *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

/** The names of the caps set in `caps`, as a JSON array. */
static json_t *caps_array(uint32_t caps)
{
	json_t *a = json_array();
	for (uint32_t bit = 1; bit; bit <<= 1) {
		if (caps & bit)
			json_array_append_new(a, json_string(ptk_cap_name(bit)));
	}
	return a;
}

static const char *access_name(uint32_t access)
{
	return (access & PTLAB_ACCESS_FETCH) ? "x" : (access & PTLAB_ACCESS_WRITE) ? "w" : "r";
}

static json_t *expect_json(const struct ptk_expect *x)
{
	switch (x->kind) {
	case PTK_EXPECT_PA:
		return json_pack("{s:o,s:o}", "pa", hex(x->pa), "page_size", hex(x->page_size));
	case PTK_EXPECT_PF:
		return json_pack("{s:s,s:o}", "fault", "pf", "error_code", hex(x->pf_error));
	case PTK_EXPECT_GP:
		break;
	}
	return json_pack("{s:s}", "fault", "gp");
}

/** One case's manifest entry; its dump must be written already (ranges are read from it). */
static json_t *case_json(const struct ptk_case *c, const char *file, const struct pt_dump *d)
{
	size_t nranges;
	const struct pt_dump_range *r = pt_dump_ranges(d, &nranges);
	json_t *ranges = json_array(), *pdpte = json_array(), *tags = json_array(), *probes = json_array();

	for (size_t i = 0; i < nranges; i++)
		json_array_append_new(ranges, json_pack("{s:o,s:o,s:o}", "pa", hex(r[i].pa), "size",
							 hex(r[i].size), "offset", hex(r[i].file_off)));
	for (unsigned i = 0; i < 4; i++)
		json_array_append_new(pdpte, hex(c->cpu.pdpte[i]));
	for (size_t i = 0; i < c->ntags; i++)
		json_array_append_new(tags, json_string(c->tags[i]));
	for (size_t i = 0; i < c->nprobes; i++) {
		const struct ptk_probe *p = &c->probes[i];
		json_array_append_new(probes, json_pack(
			"{s:o,s:s,s:b,s:b,s:s,s:o,s:o}", "va", hex(p->va), "access", access_name(p->access),
			"user", (p->access & PTLAB_ACCESS_USER) != 0, "check",
			(p->access & PTLAB_ACCESS_CHECK) != 0, "tag", c->tags[p->tag], "needs",
			caps_array(p->needs), "expect", expect_json(&p->expect)));
	}
	json_t *cpu = json_pack("{s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:I}", "paging",
				ptk_paging_name(c->cpu.paging), "maxphyaddr",
				(json_int_t)c->cpu.maxphyaddr, "cr0", hex(c->cpu.cr0), "cr3",
				hex(c->cpu.cr3), "cr4", hex(c->cpu.cr4), "efer", hex(c->cpu.efer),
				"pdpte", pdpte, "pkru", hex(c->cpu.pkru), "cbit",
				(json_int_t)c->cpu.sme_cbit);
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "name", c->name, "dump", file,
			 "format", pt_dump_format_name(c->format), "ranges", ranges, "cpu", cpu,
			 "needs", caps_array(c->needs), "tags", tags, "probes", probes);
}

/** Write one case's dump into dir and its manifest line to f. */
static enum pt_status export_case(const struct ptk_case *c, const char *dir, FILE *f, bool first,
				  struct ptk_export_stats *st, struct pt_error *err)
{
	char file[160], path[PATH_MAX + 160];
	struct pt_dump *d = NULL;
	struct stat sb;
	json_t *j;
	char *text;

	snprintf(file, sizeof(file), "%s.core", c->name);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (ptk_case_write(c, path, err) != PT_OK || pt_dump_open(path, NULL, &d, err) != PT_OK)
		return PT_EINVAL;
	j = case_json(c, file, d);
	pt_dump_close(d);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text || fprintf(f, "%s\n%s", first ? "" : ",", text) < 0) {
		free(text);
		return pt_error_set(err, dir, PT_ERROR_NO_OFFSET, "writing %s: %s", MANIFEST,
				    strerror(errno));
	}
	free(text);
	if (stat(path, &sb) == 0)
		st->bytes += (uint64_t)sb.st_size;
	st->cases++;
	st->probes += c->nprobes;
	return PT_OK;
}

enum pt_status ptk_vectors_export(const char *dir, const struct ptk_select *select,
				  struct ptk_export_stats *st, struct pt_error *err)
{
	struct ptk_select sel = *select;
	char tmp[PATH_MAX + 32], final[PATH_MAX + 32];
	const char *tags[512];
	struct ptk_cases *cs = NULL;
	const struct ptk_case *c;
	enum pt_status s = PT_OK;
	FILE *f;

	memset(st, 0, sizeof(*st));
	sel.builtin_only = true;
	sel.vectors_dir = NULL;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return pt_error_set(err, dir, PT_ERROR_NO_OFFSET, "cannot create: %s", strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, MANIFEST);
	snprintf(final, sizeof(final), "%s/%s", dir, MANIFEST);
	f = fopen(tmp, "w");
	if (!f)
		return pt_error_set(err, tmp, PT_ERROR_NO_OFFSET, "cannot write: %s", strerror(errno));
	fprintf(f, "{\"format\":\"%s\",\"data_tag_xor\":\"0x%" PRIx64 "\",\"cases\":[", FORMAT,
		PTK_DATA_TAG_XOR);
	s = ptk_cases_open(&sel, &cs, err);
	while (s == PT_OK && (s = ptk_cases_next(cs, &c, err)) == PT_OK && c) {
		s = export_case(c, dir, f, st->cases == 0, st, err);
		for (size_t i = 0; i < c->ntags; i++) {
			size_t k;
			for (k = 0; k < st->ntags && strcmp(tags[k], c->tags[i]) != 0; k++)
				;
			if (k == st->ntags && k < sizeof(tags) / sizeof(tags[0]))
				tags[st->ntags++] = c->tags[i]; /* static strings: built-in cases */
		}
	}
	ptk_cases_close(cs);
	fprintf(f, "\n]}\n");
	if (fclose(f) != 0 && s == PT_OK)
		s = pt_error_set(err, tmp, PT_ERROR_NO_OFFSET, "write failed: %s", strerror(errno));
	if (s == PT_OK && rename(tmp, final) != 0)
		s = pt_error_set(err, final, PT_ERROR_NO_OFFSET, "cannot rename: %s", strerror(errno));
	if (s != PT_OK) {
		remove(tmp);
		return s;
	}
	struct stat sb;
	if (stat(final, &sb) == 0)
		st->bytes += (uint64_t)sb.st_size;
	return PT_OK;
}
