/* SPDX-License-Identifier: MIT */
/*
 * kit/corpus.c: an exported vector corpus read back as cases (`ptlab check --vectors DIR`). The
 * whole manifest is checked when it is opened, field by field, so a corrupt one fails before any
 * walker runs, with one line naming the file and the field ("DIR/manifest.json:
 * cases[3].probes[17].va: not a 0x... hex string"). The expected answers are the manifest's.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kit_internal.h"

struct kit_corpus {
	char dir[PATH_MAX - 256];
	char file[PATH_MAX];
	char *globs;
	json_t *root;
	json_t *cases;
};

/** Where a field is, for messages. */
struct where {
	const struct kit_corpus *corpus;
	char path[96];
	struct pt_error *err;
};

static bool bad(const struct where *w, const char *key, const char *what)
{
	if (!w->path[0] && !key)
		pt_error_set(w->err, w->corpus->file, PT_ERROR_NO_OFFSET, "the top level: %s", what);
	else
		pt_error_set(w->err, w->corpus->file, PT_ERROR_NO_OFFSET, "%s%s%s: %s", w->path,
			     key && w->path[0] ? "." : "", key ? key : "", what);
	return false;
}

static bool get_hex(const struct where *w, const json_t *obj, const char *key, uint64_t *ret)
{
	const json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);
	char *end;

	if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2] || s[2] == '-' || s[2] == '+')
		return bad(w, key, v ? "not a 0x... hex string" : "missing");
	errno = 0;
	*ret = strtoull(s + 2, &end, 16);
	if (errno || *end)
		return bad(w, key, "not a 64-bit 0x... hex string");
	return true;
}

static bool get_int(const struct where *w, const json_t *obj, const char *key, long min, long max,
		    long *ret)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return bad(w, key, v ? "not an integer" : "missing");
	*ret = (long)json_integer_value(v);
	if (*ret < min || *ret > max) {
		char m[64];
		snprintf(m, sizeof(m), "%ld is outside %ld..%ld", *ret, min, max);
		return bad(w, key, m);
	}
	return true;
}

static bool get_str(const struct where *w, const json_t *obj, const char *key, const char **ret)
{
	const json_t *v = json_object_get(obj, key);

	*ret = json_string_value(v);
	return *ret ? true : bad(w, key, v ? "not a string" : "missing");
}

static bool get_bool(const struct where *w, const json_t *obj, const char *key, bool *ret)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_boolean(v))
		return bad(w, key, v ? "not true or false" : "missing");
	*ret = json_is_true(v);
	return true;
}

/** The CPU state of a case. */
static bool parse_cpu(struct where *w, const json_t *cpu, struct pt_cpu_state *s, uint32_t *paging)
{
	static const char *const pagings[] = { "legacy32", "pae", "ia32e4", "ia32e5" };
	const json_t *pdpte = json_object_get(cpu, "pdpte");
	const char *name;
	long m, cbit;
	uint64_t pkru;

	memset(s, 0, sizeof(*s));
	if (!json_is_object(cpu))
		return bad(w, NULL, "no \"cpu\" object");
	strncat(w->path, ".cpu", sizeof(w->path) - strlen(w->path) - 1);
	if (!get_str(w, cpu, "paging", &name))
		return false;
	for (*paging = 0; *paging < 4 && strcmp(name, pagings[*paging]) != 0; (*paging)++)
		;
	if (*paging == 4)
		return bad(w, "paging", "not legacy32, pae, ia32e4 or ia32e5");
	(*paging)++; /* enum ptlab_paging */
	if (!get_int(w, cpu, "maxphyaddr", 32, 52, &m) || !get_hex(w, cpu, "cr0", &s->cr0) ||
	    !get_hex(w, cpu, "cr3", &s->cr3) || !get_hex(w, cpu, "cr4", &s->cr4) ||
	    !get_hex(w, cpu, "efer", &s->efer) || !get_hex(w, cpu, "pkru", &pkru) ||
	    !get_int(w, cpu, "cbit", 0, 62, &cbit))
		return false;
	if (pkru > UINT32_MAX)
		return bad(w, "pkru", "wider than 32 bits");
	s->maxphyaddr = (uint8_t)m;
	s->cbit = (uint8_t)cbit;
	s->pkru = (uint32_t)pkru;
	if (!json_is_array(pdpte) || json_array_size(pdpte) != 4)
		return bad(w, "pdpte", "not an array of 4 hex strings");
	if (*paging == PTLAB_PAGING_PAE) {
		s->has_pdpte_regs = true; /* the registers, whatever memory holds now */
		for (unsigned i = 0; i < 4; i++) {
			const char *h = json_string_value(json_array_get(pdpte, i));
			char *end;
			if (!h || strncmp(h, "0x", 2) != 0)
				return bad(w, "pdpte", "not an array of 4 hex strings");
			s->pdpte_regs[i] = strtoull(h + 2, &end, 16);
			if (*end)
				return bad(w, "pdpte", "not an array of 4 hex strings");
		}
	}
	return true;
}

/** One probe into p (its tag index resolved in kc). */
static bool parse_probe(struct where *w, const json_t *j, struct kit_case *kc, struct ptk_probe *p,
			const char *globs, bool *selected)
{
	const json_t *x = json_object_get(j, "expect"), *needs = json_object_get(j, "needs");
	const char *access, *tag, *fault;
	bool user, check;
	size_t i;
	json_t *v;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(j))
		return bad(w, NULL, "not an object");
	if (!get_hex(w, j, "va", &p->va) || !get_str(w, j, "access", &access) ||
	    !get_bool(w, j, "user", &user) || !get_bool(w, j, "check", &check) ||
	    !get_str(w, j, "tag", &tag))
		return false;
	if (p->va % 8 || (p->va & 0xfff) > 0xff8)
		return bad(w, "va", "not 8-byte aligned");
	if (strcmp(access, "r") && strcmp(access, "w") && strcmp(access, "x"))
		return bad(w, "access", "not \"r\", \"w\" or \"x\"");
	p->access = (access[0] == 'w' ? PTLAB_ACCESS_WRITE : access[0] == 'x' ? PTLAB_ACCESS_FETCH : 0) |
		    (user ? PTLAB_ACCESS_USER : 0) | (check ? PTLAB_ACCESS_CHECK : 0);
	p->needs = check ? PTLAB_CAP_RIGHTS : 0;
	if (needs && !json_is_array(needs))
		return bad(w, "needs", "not an array of capability names");
	json_array_foreach(needs, i, v) {
		uint32_t bits;
		if (!json_is_string(v) || !ptk_caps_parse(json_string_value(v), &bits, NULL))
			return bad(w, "needs", "not an array of capability names");
		p->needs |= bits;
	}
	if (!json_is_object(x))
		return bad(w, "expect", x ? "not an object" : "missing");
	strncat(w->path, ".expect", sizeof(w->path) - strlen(w->path) - 1);
	fault = json_string_value(json_object_get(x, "fault"));
	if (!fault) {
		p->expect.kind = PTK_EXPECT_PA;
		if (!get_hex(w, x, "pa", &p->expect.pa) || !get_hex(w, x, "page_size", &p->expect.page_size))
			return false;
	} else if (strcmp(fault, "pf") == 0) {
		uint64_t code;
		p->expect.kind = PTK_EXPECT_PF;
		if (!get_hex(w, x, "error_code", &code))
			return false;
		p->expect.pf_error = (uint32_t)code;
	} else if (strcmp(fault, "gp") == 0) {
		p->expect.kind = PTK_EXPECT_GP;
	} else {
		return bad(w, "fault", "not \"pf\" or \"gp\"");
	}
	*selected = kit_tag_selected(globs, tag);
	if (*selected && kc)
		p->tag = kit_case_add_tag(kc, tag, true);
	return true;
}

/** Check case i, and build it when kc is given (the dump is opened by the caller). */
static bool parse_case(const struct kit_corpus *corpus, size_t i, struct kit_case *kc,
		       struct pt_error *err, uint32_t *paging)
{
	const json_t *j = json_array_get(corpus->cases, i), *probes;
	struct where w = { .corpus = corpus, .err = err };
	struct pt_cpu_state s;
	const char *name, *dump, *format;
	size_t k;
	json_t *pj;

	snprintf(w.path, sizeof(w.path), "cases[%zu]", i);
	if (!json_is_object(j))
		return bad(&w, NULL, "not an object");
	if (!get_str(&w, j, "name", &name) || !get_str(&w, j, "dump", &dump))
		return false;
	if (!*dump || dump[0] == '/' || strstr(dump, ".."))
		return bad(&w, "dump", "not a file name inside the corpus directory");
	if (!get_str(&w, j, "format", &format))
		return false;
	if (strcmp(format, "elf") != 0)
		return bad(&w, "format", "not \"elf\" (the dumps of ptlab-vectors/1 are ELF cores)");
	probes = json_object_get(j, "probes");
	if (!json_is_array(probes))
		return bad(&w, "probes", "not an array");
	struct where cw = w;
	if (!parse_cpu(&cw, json_object_get(j, "cpu"), &s, paging))
		return false;
	json_array_foreach(probes, k, pj) {
		struct where pw = w;
		struct ptk_probe p;
		bool selected = false;
		snprintf(pw.path, sizeof(pw.path), "cases[%zu].probes[%zu]", i, k);
		if (!parse_probe(&pw, pj, kc, &p, corpus->globs, &selected))
			return false;
		if (kc && selected) {
			struct ptk_probe *q = kit_case_add_probe(kc);
			*q = p;
		}
	}
	if (kc) {
		snprintf(kc->name, sizeof(kc->name), "%s", name);
		snprintf(kc->dump_path, sizeof(kc->dump_path), "%s/%.200s", corpus->dir, dump);
		kc->pub.state = s;
	}
	return true;
}

enum pt_status kit_corpus_open(const char *dir, const char *globs, struct kit_corpus **corpus_ret,
			       struct pt_error *err)
{
	struct kit_corpus *c = calloc(1, sizeof(*c));
	json_error_t jerr;
	struct stat st;
	const char *format;
	uint32_t paging;

	*corpus_ret = NULL;
	if (!c || !(c->globs = strdup(globs ? globs : ""))) {
		free(c);
		return pt_error_printf(err, "out of memory");
	}
	if (strlen(dir) >= sizeof(c->dir)) {
		pt_error_set(err, dir, PT_ERROR_NO_OFFSET, "path too long");
		goto fail;
	}
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	snprintf(c->file, sizeof(c->file), "%s/manifest.json", dir);
	if (stat(c->file, &st) == 0 && S_ISDIR(st.st_mode)) {
		pt_error_set(err, c->file, PT_ERROR_NO_OFFSET, "a directory, not the manifest file");
		goto fail;
	}
	c->root = json_load_file(c->file, JSON_REJECT_DUPLICATES, &jerr);
	if (!c->root) {
		FILE *f = fopen(c->file, "r");
		if (!f)
			pt_error_set(err, c->file, PT_ERROR_NO_OFFSET, "%s", strerror(errno));
		else if (fclose(f), jerr.line < 0)
			pt_error_set(err, c->file, PT_ERROR_NO_OFFSET, "%s", jerr.text);
		else
			pt_error_set(err, c->file, PT_ERROR_NO_OFFSET, "line %d column %d: %s",
				     jerr.line, jerr.column, jerr.text);
		goto fail;
	}
	struct where w = { .corpus = c, .err = err };
	if (!json_is_object(c->root)) {
		bad(&w, NULL, "not a JSON object");
		goto fail;
	}
	if (!get_str(&w, c->root, "format", &format))
		goto fail;
	if (strcmp(format, "ptlab-vectors/1") != 0) {
		pt_error_set(err, c->file, PT_ERROR_NO_OFFSET,
			     "format \"%.40s\": this ptlab reads \"ptlab-vectors/1\"", format);
		goto fail;
	}
	c->cases = json_object_get(c->root, "cases");
	if (!json_is_array(c->cases)) {
		bad(&w, "cases", "not an array");
		goto fail;
	}
	for (size_t i = 0; i < json_array_size(c->cases); i++) {
		if (!parse_case(c, i, NULL, err, &paging))
			goto fail;
	}
	*corpus_ret = c;
	return PT_OK;
fail:
	kit_corpus_close(c);
	return PT_EINVAL;
}

size_t kit_corpus_count(const struct kit_corpus *c)
{
	return json_array_size(c->cases);
}

struct kit_case *kit_corpus_case(struct kit_corpus *c, size_t index, struct pt_error *err)
{
	struct kit_case *kc = kit_case_new("corpus");
	struct pt_context ctx;
	uint32_t paging;

	if (!parse_case(c, index, kc, err, &paging))
		goto fail;
	if (kc->nprobes == 0) {
		kit_case_free(kc);
		return NULL; /* none of its tags selected */
	}
	if (pt_dump_open(kc->dump_path, NULL, &kc->dump, err) != PT_OK)
		goto fail;
	if (pt_dump_format(kc->dump) != PT_DUMP_ELF) {
		pt_error_set(err, kc->dump_path, 0, "not an ELF core (no ELF header), as %s says it is",
			     c->file);
		goto fail;
	}
	kc->pub.mem = pt_dump_mem(kc->dump);
	kc->pub.format = pt_dump_format(kc->dump);
	kc->pub.dump = kc->dump_path;
	kc->pub.nprobes = kc->nprobes;
	if (kit_case_cpu(kc, &ctx, err) != PT_OK)
		goto fail;
	if (kc->pub.cpu.paging != paging) {
		pt_error_set(err, c->file, PT_ERROR_NO_OFFSET, "cases[%zu].cpu: paging \"%s\" but its "
			     "registers select %s", index, ptk_paging_name(paging),
			     ptk_paging_name(kc->pub.cpu.paging));
		goto fail;
	}
	return kc;
fail:
	kit_case_free(kc);
	return NULL;
}

void kit_corpus_close(struct kit_corpus *c)
{
	if (!c)
		return;
	json_decref(c->root);
	free(c->globs);
	free(c);
}
