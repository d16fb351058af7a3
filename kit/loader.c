/* SPDX-License-Identifier: MIT */
/*
 * kit/loader.c: loading a walker's shared object (include/ptlab/adapter.h) and checking what it
 * declares, with one clear line for every way that can fail; capability names.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kit_internal.h"

/** The symbol every adapter exports (adapter.h). */
static const char ADAPTER_SYMBOL[] = "ptlab_adapter_v1";

/** Whether the file starts with the ELF magic. */
static bool has_elf_magic(const char *path)
{
	unsigned char magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	bool elf;

	if (!f)
		return false;
	elf = fread(magic, 1, 4, f) == 4 && memcmp(magic, "\177ELF", 4) == 0;
	fclose(f);
	return elf;
}

/** dlerror's text without the path it repeats at its start. */
static const char *dl_reason(const char *path, const char *msg)
{
	const size_t n = strlen(path);

	if (!msg)
		return "unknown error";
	if (strncmp(msg, path, n) == 0 && msg[n] == ':')
		msg += n + 1;
	while (*msg == ' ')
		msg++;
	return msg;
}

/** The descriptor's fields, checked one by one. */
static enum pt_status check_desc(const char *path, const struct ptlab_adapter *d,
				 struct pt_error *err)
{
	const uint32_t modes = PTLAB_CAP_LEGACY32 | PTLAB_CAP_PAE | PTLAB_CAP_IA32E_4 |
			       PTLAB_CAP_IA32E_5;

	if (!d)
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET, "%s() returned NULL",
				    ADAPTER_SYMBOL);
	if (d->abi != PTLAB_ADAPTER_ABI)
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET,
				    "adapter ABI %u, this ptlab speaks ABI %d (rebuild the walker "
				    "against this ptlab's include/ptlab/adapter.h)",
				    (unsigned)d->abi, PTLAB_ADAPTER_ABI);
	if (!d->name || !d->name[0])
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET, "the adapter has no name");
	if (!d->open || !d->translate || !d->close)
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET,
				    "adapter '%s' lacks a function: open %s, translate %s, close %s",
				    d->name, d->open ? "set" : "NULL", d->translate ? "set" : "NULL",
				    d->close ? "set" : "NULL");
	if (!(d->caps & modes))
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET,
				    "adapter '%s' declares no paging mode (caps 0x%x: set at least one "
				    "of PTLAB_CAP_LEGACY32, _PAE, _IA32E_4, _IA32E_5)",
				    d->name, (unsigned)d->caps);
	return PT_OK;
}

enum pt_status ptk_adapter_load(const char *path, struct ptk_adapter *a, struct pt_error *err)
{
	char local[PATH_MAX];
	const char *open_path = path;
	const struct ptlab_adapter *(*entry)(void);
	struct stat st;
	void *h;

	memset(a, 0, sizeof(*a));
	if (stat(path, &st) != 0)
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET, "not a regular file");
	if (!has_elf_magic(path))
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET,
				    "not a shared object (no ELF header)");
	/* dlopen searches the library path for a name without a slash; this is a file. */
	if (!strchr(path, '/')) {
		snprintf(local, sizeof(local), "./%s", path);
		open_path = local;
	}
	dlerror();
	h = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET, "cannot be loaded: %s",
				    dl_reason(open_path, dlerror()));
	dlerror();
	*(void **)&entry = dlsym(h, ADAPTER_SYMBOL);
	if (!entry) {
		dlclose(h);
		return pt_error_set(err, path, PT_ERROR_NO_OFFSET,
				    "no symbol %s (a walker exports it: see include/ptlab/adapter.h)",
				    ADAPTER_SYMBOL);
	}
	a->desc = entry();
	if (check_desc(path, a->desc, err) != PT_OK) {
		dlclose(h);
		a->desc = NULL;
		return PT_EINVAL;
	}
	a->handle = h;
	return PT_OK;
}

void ptk_adapter_unload(struct ptk_adapter *a)
{
	if (a->handle)
		dlclose(a->handle);
	memset(a, 0, sizeof(*a));
}

/* ---- Capability names -------------------------------------------------------------------- */

static const struct {
	const char *name;
	uint32_t cap;
} cap_names[] = {
	{ "legacy32", PTLAB_CAP_LEGACY32 }, { "pae", PTLAB_CAP_PAE },
	{ "ia32e4", PTLAB_CAP_IA32E_4 },    { "ia32e5", PTLAB_CAP_IA32E_5 },
	{ "rights", PTLAB_CAP_RIGHTS },     { "pf-error", PTLAB_CAP_PF_ERROR },
	{ "page-size", PTLAB_CAP_PAGE_SIZE }, { "sme-cbit", PTLAB_CAP_SME_CBIT },
};

bool ptk_caps_parse(const char *list, uint32_t *caps_ret, const char **bad_ret)
{
	uint32_t caps = 0;
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
			if (strlen(cap_names[i].name) == n && strncmp(cap_names[i].name, p, n) == 0)
				break;
		}
		if (n > 0 && i == sizeof(cap_names) / sizeof(cap_names[0])) {
			if (bad_ret)
				*bad_ret = p;
			return false;
		}
		if (n > 0)
			caps |= cap_names[i].cap;
		p += n;
		if (*p == ',')
			p++;
	}
	*caps_ret = caps;
	return true;
}

const char *ptk_cap_name(uint32_t cap)
{
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
		if (cap_names[i].cap == cap)
			return cap_names[i].name;
	}
	return "?";
}

const char *ptk_caps_format(uint32_t caps, char *buf, size_t len)
{
	size_t pos = 0;

	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
		if (!(caps & cap_names[i].cap) || pos >= len)
			continue;
		int n = snprintf(buf + pos, len - pos, "%s%s", pos ? "," : "", cap_names[i].name);
		if (n < 0)
			break;
		pos += (size_t)n;
	}
	return buf;
}

const char *kit_signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}
