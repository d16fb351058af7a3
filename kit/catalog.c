/* SPDX-License-Identifier: MIT */
/*
 * kit/catalog.c: the cases a run goes through, in a fixed order: the built-in families (modes,
 * bits, rights, peer bugs, random tables, boot images), then the real tier's dumps when there
 * are any; or, with a vector corpus, that corpus's cases. Cases are built one at a time and freed
 * when the next is asked for, so memory stays that of one case.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_internal.h"

static const struct kit_case_def *const families[] = {
	kit_cases_modes, kit_cases_bits, kit_cases_rights, kit_cases_peers,
	kit_cases_random, kit_cases_boot,
};

struct ptk_cases {
	char *globs;
	const struct kit_case_def **defs; /**< the selected definitions */
	size_t ndefs, next_def;
	char **real_paths, **real_stems;  /**< real dumps, sorted by name */
	size_t nreal, next_real;
	struct kit_corpus *corpus;
	size_t next_corpus;
	struct kit_case *current;
};

/** Whether any tag a definition lists is selected. */
static bool def_selected(const struct kit_case_def *def, const char *globs)
{
	const char *p = def->tags;

	while (*p) {
		char tag[64];
		size_t n = strcspn(p, ",");
		if (n < sizeof(tag)) {
			memcpy(tag, p, n);
			tag[n] = 0;
			if (kit_tag_selected(globs, tag))
				return true;
		}
		p += n + (p[n] == ',');
	}
	return false;
}

/** The real tier's dump directory when none is given: ci/real-kernels' cache. */
static void default_real_dir(char *buf, size_t len)
{
	const char *cache = getenv("PTLAB_REAL_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (cache && *cache)
		snprintf(buf, len, "%s/dumps", cache);
	else if (xdg && *xdg)
		snprintf(buf, len, "%s/ptlab-real/dumps", xdg);
	else if (home && *home)
		snprintf(buf, len, "%s/.cache/ptlab-real/dumps", home);
	else
		buf[0] = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/** Collect DIR/NAME.core whose tag real.NAME is selected. A missing default directory is no
 *  error; a missing directory that was asked for is. */
static enum pt_status scan_real(struct ptk_cases *cs, const char *dir, bool asked,
				struct pt_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	if (!d) {
		if (!asked)
			return PT_OK;
		return pt_error_set(err, dir, PT_ERROR_NO_OFFSET, "cannot read the directory: %s",
				    strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		const size_t n = strlen(e->d_name);
		char tag[300];

		if (n <= 5 || strcmp(e->d_name + n - 5, ".core") != 0)
			continue;
		snprintf(tag, sizeof(tag), "real.%.*s", (int)(n - 5), e->d_name);
		if (!kit_tag_selected(cs->globs, tag))
			continue;
		if (cs->nreal == cap) {
			cap = cap ? 2 * cap : 8;
			char **paths = realloc(cs->real_paths, cap * sizeof(char *));
			if (paths)
				cs->real_paths = paths;
			char **stems = paths ? realloc(cs->real_stems, cap * sizeof(char *)) : NULL;
			if (!paths || !stems)
				abort();
			cs->real_stems = stems;
		}
		size_t plen = strlen(dir) + n + 2;
		cs->real_paths[cs->nreal] = malloc(plen);
		cs->real_stems[cs->nreal] = strndup(e->d_name, n - 5);
		if (!cs->real_paths[cs->nreal] || !cs->real_stems[cs->nreal])
			abort();
		snprintf(cs->real_paths[cs->nreal], plen, "%s/%s", dir, e->d_name);
		cs->nreal++;
	}
	closedir(d);
	qsort(cs->real_paths, cs->nreal, sizeof(char *), cmp_str);
	qsort(cs->real_stems, cs->nreal, sizeof(char *), cmp_str);
	return PT_OK;
}

enum pt_status ptk_cases_open(const struct ptk_select *sel, struct ptk_cases **cases_ret,
			      struct pt_error *err)
{
	struct ptk_cases *cs = calloc(1, sizeof(*cs));
	enum pt_status st = PT_OK;
	size_t cap = 0;

	*cases_ret = NULL;
	if (!cs || !(cs->globs = strdup(sel->tags ? sel->tags : ""))) {
		free(cs);
		return pt_error_printf(err, "out of memory");
	}
	if (sel->vectors_dir) {
		st = kit_corpus_open(sel->vectors_dir, cs->globs, &cs->corpus, err);
	} else {
		for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
			for (const struct kit_case_def *d = families[f]; d->name; d++) {
				if (!def_selected(d, cs->globs))
					continue;
				if (cs->ndefs == cap) {
					cap = cap ? 2 * cap : 64;
					const struct kit_case_def **defs =
						realloc(cs->defs, cap * sizeof(*defs));
					if (!defs)
						abort();
					cs->defs = defs;
				}
				cs->defs[cs->ndefs++] = d;
			}
		}
		if (!sel->builtin_only && !(sel->real_dir && !*sel->real_dir)) {
			char dir[PATH_MAX];
			if (sel->real_dir)
				snprintf(dir, sizeof(dir), "%s", sel->real_dir);
			else
				default_real_dir(dir, sizeof(dir));
			if (dir[0])
				st = scan_real(cs, dir, sel->real_dir != NULL, err);
		}
	}
	if (st != PT_OK) {
		ptk_cases_close(cs);
		return st;
	}
	*cases_ret = cs;
	return PT_OK;
}

size_t ptk_cases_total(const struct ptk_cases *cs)
{
	return cs->ndefs + cs->nreal + (cs->corpus ? kit_corpus_count(cs->corpus) : 0);
}

enum pt_status ptk_cases_next(struct ptk_cases *cs, const struct ptk_case **case_ret,
			      struct pt_error *err)
{
	*case_ret = NULL;
	kit_case_free(cs->current);
	cs->current = NULL;
	memset(err, 0, sizeof(*err));
	while (!cs->current) {
		struct kit_case *kc;

		if (cs->next_def < cs->ndefs) {
			const struct kit_case_def *d = cs->defs[cs->next_def++];
			kc = d->build(d, cs->globs, err);
		} else if (cs->next_real < cs->nreal) {
			kc = kit_real_case(cs->real_paths[cs->next_real],
					   cs->real_stems[cs->next_real], cs->globs, err);
			cs->next_real++;
		} else if (cs->corpus && cs->next_corpus < kit_corpus_count(cs->corpus)) {
			kc = kit_corpus_case(cs->corpus, cs->next_corpus++, err);
		} else {
			return PT_OK;
		}
		if (!kc && err->message[0])
			return PT_EINVAL;
		cs->current = kc;
	}
	*case_ret = &cs->current->pub;
	return PT_OK;
}

void ptk_cases_close(struct ptk_cases *cs)
{
	if (!cs)
		return;
	kit_case_free(cs->current);
	for (size_t i = 0; i < cs->nreal; i++) {
		free(cs->real_paths[i]);
		free(cs->real_stems[i]);
	}
	free(cs->real_paths);
	free(cs->real_stems);
	kit_corpus_close(cs->corpus);
	free(cs->defs);
	free(cs->globs);
	free(cs);
}
