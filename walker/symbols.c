/* SPDX-License-Identifier: MIT */
/*
 * Symbol tables: System.map / kallsyms text and vmlinux ELF .symtab. Pure C, no dependency.
 * Text is parsed line by line from an mmap of the file (or from a buffer read from a pipe or a
 * /proc file, which mmap cannot serve); names are copied into one arena; lookups go through an
 * open-addressing hash of the names. An ELF stays mapped so its section bytes can be served.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ptlab/error.h"
#include "ptlab/symbols.h"
#include "ptlab/le.h"

/** Longest name accepted (longer lines are garbage: real kernel names stay far below). */
static const size_t MAX_NAME = 512;
/** Most symbols one table holds (indices are 32-bit). */
static const uint64_t MAX_SYMBOLS = UINT32_MAX / 4;
/** Largest input read from a non-mappable source (pipe, /proc file). */
static const size_t MAX_STREAM = (size_t)1 << 32;

/** A loaded section of an ELF source (for pt_symtab_bytes). */
struct elf_section {
	uint64_t addr, size, offset;
};

struct pt_symtab {
	char *path;
	enum pt_symtab_format format;
	struct pt_symtab_stats stats;
	struct pt_symbol *syms;
	size_t nsyms, cap;
	/* Names: a list of arena blocks (pointers into them must stay valid as the table grows). */
	char **blocks;
	size_t nblocks, block_cap, block_used, block_size;
	/* Hash of names: indices + 1 into syms (0 = empty slot); size is a power of two. */
	uint32_t *hash;
	size_t hash_size;
	/* ELF source: the mapping and its loaded sections. */
	const uint8_t *map;
	size_t map_size;
	bool map_owned;       /**< munmap at destroy (else free) */
	unsigned elf_class;
	struct elf_section *sections;
	size_t nsections;
};

const char *pt_symtab_format_name(enum pt_symtab_format format)
{
	switch (format) {
	case PT_SYMS_MAP:
		return "System.map";
	case PT_SYMS_KALLSYMS:
		return "kallsyms";
	case PT_SYMS_ELF:
		return "vmlinux ELF";
	case PT_SYMS_MEMORY:
		return "kallsyms in memory";
	case PT_SYMS_NONE:
		break;
	}
	return "built";
}

/* ---- the table ---------------------------------------------------------------------------- */

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

struct pt_symtab *pt_symtab_create(void)
{
	struct pt_symtab *tab = calloc(1, sizeof(*tab));
	if (!tab)
		return NULL;
	tab->path = calloc(1, 1);
	if (!tab->path) {
		free(tab);
		return NULL;
	}
	tab->block_size = 64 * 1024;
	return tab;
}

void pt_symtab_destroy(struct pt_symtab *tab)
{
	if (!tab)
		return;
	for (size_t i = 0; i < tab->nblocks; i++)
		free(tab->blocks[i]);
	free(tab->blocks);
	free(tab->syms);
	free(tab->hash);
	free(tab->sections);
	if (tab->map) {
		if (tab->map_owned)
			munmap((void *)(uintptr_t)tab->map, tab->map_size);
		else
			free((void *)(uintptr_t)tab->map);
	}
	free(tab->path);
	free(tab);
}

struct pt_symtab *pt_symtab_create_named(const char *name, enum pt_symtab_format format)
{
	struct pt_symtab *tab = pt_symtab_create();
	char *path = tab && name ? strdup(name) : NULL;
	if (!tab || (name && !path)) {
		pt_symtab_destroy(tab);
		return NULL;
	}
	if (path) {
		free(tab->path);
		tab->path = path;
	}
	tab->format = format;
	return tab;
}

/** Copy a name into the arena; NULL on out of memory. */
static char *arena_copy(struct pt_symtab *tab, const char *s, size_t len)
{
	if (tab->nblocks == 0 || tab->block_size - tab->block_used < len + 1) {
		if (tab->nblocks == tab->block_cap) {
			size_t cap = tab->block_cap ? tab->block_cap * 2 : 16;
			char **blocks = realloc(tab->blocks, cap * sizeof(*blocks));
			if (!blocks)
				return NULL;
			tab->blocks = blocks;
			tab->block_cap = cap;
		}
		if (tab->block_size < 1024 * 1024 && tab->nblocks >= 8)
			tab->block_size *= 2;
		char *block = malloc(tab->block_size);
		if (!block)
			return NULL;
		tab->blocks[tab->nblocks++] = block;
		tab->block_used = 0;
	}
	char *p = tab->blocks[tab->nblocks - 1] + tab->block_used;
	memcpy(p, s, len);
	p[len] = 0;
	tab->block_used += len + 1;
	return p;
}

/** Slot of `name` in the hash: its index + 1, or 0 when absent (*slot_ret = where it would go). */
static uint32_t hash_find(const struct pt_symtab *tab, const char *name, size_t len, size_t *slot_ret)
{
	if (tab->hash_size == 0)
		return 0;
	size_t mask = tab->hash_size - 1;
	size_t slot = (size_t)name_hash(name, len) & mask;
	for (;;) {
		uint32_t idx = tab->hash[slot];
		if (idx == 0)
			break;
		const char *n = tab->syms[idx - 1].name;
		if (strncmp(n, name, len) == 0 && n[len] == 0) {
			if (slot_ret)
				*slot_ret = slot;
			return idx;
		}
		slot = (slot + 1) & mask;
	}
	if (slot_ret)
		*slot_ret = slot;
	return 0;
}

static bool hash_grow(struct pt_symtab *tab)
{
	size_t size = tab->hash_size ? tab->hash_size * 2 : 1024;
	uint32_t *hash = calloc(size, sizeof(*hash));
	if (!hash)
		return false;
	for (size_t i = 0; i < tab->nsyms; i++) {
		const char *n = tab->syms[i].name;
		size_t slot = (size_t)name_hash(n, strlen(n)) & (size - 1);
		while (hash[slot])
			slot = (slot + 1) & (size - 1);
		hash[slot] = (uint32_t)(i + 1);
	}
	free(tab->hash);
	tab->hash = hash;
	tab->hash_size = size;
	return true;
}

/** Add (name, len); returns false only on out of memory or too many symbols. */
static bool add_symbol(struct pt_symtab *tab, const char *name, size_t len, uint64_t value, char type,
		       uint64_t line)
{
	size_t slot;
	uint32_t idx = hash_find(tab, name, len, &slot);
	if (idx) {
		tab->stats.duplicates++;
		if (tab->syms[idx - 1].value != value)
			tab->syms[idx - 1].conflicts++;
		return true;
	}
	if (tab->nsyms >= MAX_SYMBOLS)
		return false;
	if ((tab->nsyms + 1) * 2 > tab->hash_size) {
		if (!hash_grow(tab))
			return false;
		hash_find(tab, name, len, &slot);
	}
	if (tab->nsyms == tab->cap) {
		size_t cap = tab->cap ? tab->cap * 2 : 256;
		struct pt_symbol *syms = realloc(tab->syms, cap * sizeof(*syms));
		if (!syms)
			return false;
		tab->syms = syms;
		tab->cap = cap;
	}
	char *copy = arena_copy(tab, name, len);
	if (!copy)
		return false;
	tab->syms[tab->nsyms] = (struct pt_symbol){
		.name = copy, .value = value, .type = type, .conflicts = 0, .line = line,
	};
	tab->hash[slot] = (uint32_t)(tab->nsyms + 1);
	tab->nsyms++;
	tab->stats.symbols = tab->nsyms;
	if (type == 'A' || type == 'a')
		tab->stats.absolutes++;
	return true;
}

bool pt_symtab_add(struct pt_symtab *tab, const char *name, uint64_t value, char type)
{
	size_t len = strlen(name);
	if (len == 0 || len > MAX_NAME)
		return false;
	return add_symbol(tab, name, len, value, type, 0);
}

const struct pt_symbol *pt_symtab_lookup(const struct pt_symtab *tab, const char *name)
{
	if (!tab || !name)
		return NULL;
	uint32_t idx = hash_find(tab, name, strlen(name), NULL);
	return idx ? &tab->syms[idx - 1] : NULL;
}

bool pt_symtab_value(const struct pt_symtab *tab, const char *name, uint64_t *value_ret)
{
	const struct pt_symbol *s = pt_symtab_lookup(tab, name);
	if (!s)
		return false;
	*value_ret = s->value;
	return true;
}

size_t pt_symtab_count(const struct pt_symtab *tab)
{
	return tab->nsyms;
}

const struct pt_symbol *pt_symtab_at(const struct pt_symtab *tab, size_t index)
{
	return index < tab->nsyms ? &tab->syms[index] : NULL;
}

enum pt_symtab_format pt_symtab_format(const struct pt_symtab *tab)
{
	return tab->format;
}

const struct pt_symtab_stats *pt_symtab_stats(const struct pt_symtab *tab)
{
	return &tab->stats;
}

const char *pt_symtab_path(const struct pt_symtab *tab)
{
	return tab->path;
}

unsigned pt_symtab_elf_class(const struct pt_symtab *tab)
{
	return tab->elf_class;
}

const void *pt_symtab_bytes(const struct pt_symtab *tab, uint64_t va, size_t len)
{
	if (!tab || !tab->map)
		return NULL;
	for (size_t i = 0; i < tab->nsections; i++) {
		const struct elf_section *s = &tab->sections[i];
		if (va >= s->addr && va - s->addr < s->size && len <= s->size - (va - s->addr))
			return tab->map + s->offset + (va - s->addr);
	}
	return NULL;
}

/* ---- text: System.map and kallsyms -------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void note_bad(struct pt_symtab *tab, uint64_t line, const char *why)
{
	tab->stats.skipped++;
	if (tab->stats.first_bad_line == 0) {
		tab->stats.first_bad_line = line;
		snprintf(tab->stats.first_bad, sizeof(tab->stats.first_bad), "line %" PRIu64 ": %s",
			 line, why);
	}
}

/** Parse one line [p, end) (without its newline). Returns false only on out of memory. */
static bool parse_line(struct pt_symtab *tab, const char *p, const char *end, uint64_t line)
{
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p == end)
		return true; /* blank */
	if (memchr(p, 0, (size_t)(end - p))) {
		note_bad(tab, line, "NUL byte in a text line");
		return true;
	}
	/* address */
	uint64_t value = 0;
	unsigned digits = 0;
	while (p < end && hex_digit(*p) >= 0) {
		if (digits == 16) {
			note_bad(tab, line, "address wider than 64 bits");
			return true;
		}
		value = value << 4 | (uint64_t)hex_digit(*p);
		digits++;
		p++;
	}
	if (digits == 0) {
		note_bad(tab, line, "does not start with a hex address");
		return true;
	}
	if (p == end || !is_space(*p)) {
		note_bad(tab, line, "no space after the address");
		return true;
	}
	while (p < end && is_space(*p))
		p++;
	/* type letter */
	if (p == end || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '?' || *p == '-') ||
	    (p + 1 < end && !is_space(p[1])) || p + 1 == end) {
		note_bad(tab, line, "no type letter after the address");
		return true;
	}
	char type = *p++;
	while (p < end && is_space(*p))
		p++;
	/* name: up to the next blank */
	const char *name = p;
	while (p < end && !is_space(*p))
		p++;
	size_t len = (size_t)(p - name);
	if (len == 0) {
		note_bad(tab, line, "no name");
		return true;
	}
	if (len > MAX_NAME) {
		note_bad(tab, line, "name longer than 512 bytes");
		return true;
	}
	while (p < end && is_space(*p))
		p++;
	if (p < end) {
		if (*p == '[' && end[-1] == ']') {
			tab->stats.modules++; /* kallsyms: "\t[module]", not the kernel image */
			return true;
		}
		note_bad(tab, line, "text after the name");
		return true;
	}
	if (tab->nsyms >= MAX_SYMBOLS) {
		note_bad(tab, line, "too many symbols");
		return true;
	}
	return add_symbol(tab, name, len, value, type, line);
}

static enum pt_status parse_text(struct pt_symtab *tab, const char *data, size_t len, struct pt_error *err)
{
	const char *p = data, *end = data + len;
	uint64_t line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		line++;
		if ((size_t)(line_end - p) > MAX_NAME + 64) {
			note_bad(tab, line, "line longer than 576 bytes");
		} else if (!parse_line(tab, p, line_end, line)) {
			return pt_error_set(err, tab->path, UINT64_MAX, "line %" PRIu64 ": out of memory", line);
		}
		p = nl ? nl + 1 : end;
	}
	tab->stats.lines = line;
	const struct pt_symtab_stats *st = &tab->stats;
	if (tab->nsyms == 0) {
		if (st->first_bad_line)
			return pt_error_set(err, tab->path, UINT64_MAX,
					    "%s (no symbol line in %" PRIu64 " lines: not a System.map, "
					    "kallsyms or vmlinux ELF)", st->first_bad, line);
		if (st->modules)
			return pt_error_set(err, tab->path, UINT64_MAX,
					    "only module symbols (%" PRIu64 "): no kernel image symbol", st->modules);
		return pt_error_set(err, tab->path, UINT64_MAX, "empty: no symbols");
	}
	/* Mostly garbage: not a symbol file that happens to contain a few symbol-like lines. */
	if (st->skipped > 16 && st->skipped > tab->nsyms)
		return pt_error_set(err, tab->path, UINT64_MAX,
				    "%s (%" PRIu64 " of %" PRIu64 " lines are not symbol lines)",
				    st->first_bad, st->skipped, line);
	bool nonzero = false;
	for (size_t i = 0; i < tab->nsyms && !nonzero; i++)
		nonzero = tab->syms[i].value != 0;
	if (!nonzero)
		return pt_error_set(err, tab->path, UINT64_MAX,
				    "line %" PRIu64 ": every address is 0 (kallsyms read without "
				    "privileges? read /proc/kallsyms as root)", tab->syms[0].line);
	tab->format = st->absolutes ? PT_SYMS_MAP : PT_SYMS_KALLSYMS;
	return PT_OK;
}

/* ---- ELF ------------------------------------------------------------------------------------ */

static bool in_file(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

enum {
	ELF_SHT_PROGBITS = 1,
	ELF_SHT_SYMTAB = 2,
	ELF_SHT_NOBITS = 8,
	ELF_SHF_WRITE = 1,
	ELF_SHF_ALLOC = 2,
	ELF_SHF_EXEC = 4,
	ELF_SHN_UNDEF = 0,
	ELF_SHN_LORESERVE = 0xff00,
	ELF_SHN_ABS = 0xfff1,
	ELF_SHN_COMMON = 0xfff2,
	ELF_STT_SECTION = 3,
	ELF_STT_FILE = 4,
	ELF_STB_LOCAL = 0,
	ELF_STB_WEAK = 2,
};

static enum pt_status parse_elf(struct pt_symtab *tab, const uint8_t *m, size_t size, struct pt_error *err)
{
	const char *path = tab->path;
	if (size < 52)
		return pt_error_set(err, path, 0, "truncated ELF header");
	unsigned cls = m[4] == 2 ? 64 : m[4] == 1 ? 32 : 0;
	if (!cls)
		return pt_error_set(err, path, 4, "unknown ELF class %u", m[4]);
	if (m[5] != 1)
		return pt_error_set(err, path, 5, "big-endian ELF: not an x86 vmlinux");
	if (cls == 64 && size < 64)
		return pt_error_set(err, path, 0, "truncated ELF64 header");
	const bool e64 = cls == 64;
	const unsigned w = e64 ? 8 : 4;
	uint64_t shoff = e64 ? pt_le_get(m + 0x28, 8) : pt_le_get(m + 0x20, 4);
	unsigned shentsize = (unsigned)pt_le_get(m + (e64 ? 0x3a : 0x2e), 2);
	uint64_t shnum = pt_le_get(m + (e64 ? 0x3c : 0x30), 2);
	const unsigned want_shent = e64 ? 64 : 40;
	if (shoff == 0 || shnum == 0)
		return pt_error_set(err, path, e64 ? 0x28 : 0x20, "ELF has no section headers (no .symtab)");
	if (shentsize != want_shent)
		return pt_error_set(err, path, e64 ? 0x3a : 0x2e, "section header size %u, expected %u",
				    shentsize, want_shent);
	if (shnum > 65536 * 4 || !in_file(size, shoff, shnum * want_shent))
		return pt_error_set(err, path, e64 ? 0x28 : 0x20,
				    "%" PRIu64 " section headers at 0x%" PRIx64 " run past the end of the file",
				    shnum, shoff);
	tab->elf_class = cls;

	struct shdr {
		uint64_t type, flags, addr, offset, size, link, entsize;
	};
	struct shdr *sh = calloc((size_t)shnum, sizeof(*sh));
	if (!sh)
		return pt_error_set(err, path, UINT64_MAX, "out of memory");
	enum pt_status st = PT_EINVAL;
	for (uint64_t i = 0; i < shnum; i++) {
		const uint8_t *h = m + shoff + i * want_shent;
		sh[i].type = pt_le_get(h + 4, 4);
		sh[i].flags = pt_le_get(h + 8, w);
		sh[i].addr = pt_le_get(h + 8 + w, w);
		sh[i].offset = pt_le_get(h + 8 + 2 * w, w);
		sh[i].size = pt_le_get(h + 8 + 3 * w, w);
		sh[i].link = pt_le_get(h + 8 + 4 * w, 4);
		sh[i].entsize = pt_le_get(h + (e64 ? 0x38 : 0x24), w);
	}
	/* Loaded sections with contents, for pt_symtab_bytes. */
	tab->sections = calloc((size_t)shnum, sizeof(*tab->sections));
	if (!tab->sections) {
		st = pt_error_set(err, path, UINT64_MAX, "out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < shnum; i++) {
		if (sh[i].type == ELF_SHT_PROGBITS && (sh[i].flags & ELF_SHF_ALLOC) && sh[i].size &&
		    in_file(size, sh[i].offset, sh[i].size))
			tab->sections[tab->nsections++] =
				(struct elf_section){ sh[i].addr, sh[i].size, sh[i].offset };
	}
	uint64_t symidx = shnum;
	for (uint64_t i = 0; i < shnum; i++) {
		if (sh[i].type == ELF_SHT_SYMTAB) {
			symidx = i;
			break;
		}
	}
	if (symidx == shnum) {
		st = pt_error_set(err, path, UINT64_MAX,
				  "ELF has no .symtab (a stripped vmlinux?): give its System.map instead");
		goto out;
	}
	const struct shdr *s = &sh[symidx];
	const uint64_t symoff_hdr = shoff + symidx * want_shent;
	const unsigned symsize = e64 ? 24 : 16;
	if (s->entsize != symsize || !in_file(size, s->offset, s->size) || s->size % symsize) {
		st = pt_error_set(err, path, symoff_hdr, ".symtab at 0x%" PRIx64 " size 0x%" PRIx64
				  " entsize %" PRIu64 " does not fit the file", s->offset, s->size, s->entsize);
		goto out;
	}
	if (s->link >= shnum || !in_file(size, sh[s->link].offset, sh[s->link].size)) {
		st = pt_error_set(err, path, symoff_hdr, ".symtab's string table (section %" PRIu64
				  ") is not in the file", s->link);
		goto out;
	}
	const char *strtab = (const char *)m + sh[s->link].offset;
	const uint64_t strsize = sh[s->link].size;
	const uint64_t nent = s->size / symsize;
	for (uint64_t i = 1; i < nent; i++) {
		const uint8_t *e = m + s->offset + i * symsize;
		uint64_t name_off = pt_le_get(e, 4);
		uint64_t value = e64 ? pt_le_get(e + 8, 8) : pt_le_get(e + 4, 4);
		unsigned info = e64 ? e[4] : e[12];
		unsigned shndx = (unsigned)pt_le_get(e + (e64 ? 6 : 14), 2);
		unsigned stt = info & 0xf, bind = info >> 4;
		tab->stats.lines++;
		if (stt == ELF_STT_SECTION || stt == ELF_STT_FILE || shndx == ELF_SHN_UNDEF || name_off == 0)
			continue;
		if (name_off >= strsize) {
			note_bad(tab, i, "name offset past the string table");
			continue;
		}
		const char *name = strtab + name_off;
		const char *nul = memchr(name, 0, (size_t)(strsize - name_off));
		size_t len = nul ? (size_t)(nul - name) : 0;
		if (!nul || len == 0 || len > MAX_NAME) {
			note_bad(tab, i, "unterminated or over-long name");
			continue;
		}
		char type;
		if (shndx == ELF_SHN_ABS) {
			type = 'A';
		} else if (shndx == ELF_SHN_COMMON) {
			type = 'C';
		} else if (shndx >= shnum || shndx >= ELF_SHN_LORESERVE) {
			note_bad(tab, i, "section index out of range");
			continue;
		} else if (sh[shndx].flags & ELF_SHF_EXEC) {
			type = 'T';
		} else if (sh[shndx].type == ELF_SHT_NOBITS) {
			type = 'B';
		} else if (sh[shndx].flags & ELF_SHF_WRITE) {
			type = 'D';
		} else {
			type = 'R';
		}
		if (bind == ELF_STB_LOCAL)
			type = (char)(type - 'A' + 'a');
		else if (bind == ELF_STB_WEAK && type != 'A')
			type = 'W';
		if (!add_symbol(tab, name, len, value, type, i)) {
			st = pt_error_set(err, path, UINT64_MAX, "out of memory");
			goto out;
		}
	}
	if (tab->nsyms == 0) {
		st = pt_error_set(err, path, symoff_hdr, ".symtab holds no usable symbol");
		goto out;
	}
	tab->format = PT_SYMS_ELF;
	st = PT_OK;
out:
	free(sh);
	return st;
}

/* ---- loading ---------------------------------------------------------------------------------- */

static enum pt_status load_data(struct pt_symtab *tab, const uint8_t *data, size_t len, bool owned_map,
				bool heap, struct pt_error *err)
{
	enum pt_status st;
	if (len >= 4 && memcmp(data, "\177ELF", 4) == 0) {
		st = parse_elf(tab, data, len, err);
		if (st == PT_OK) {
			/* keep the image for pt_symtab_bytes */
			tab->map = data;
			tab->map_size = len;
			tab->map_owned = owned_map;
			return PT_OK;
		}
	} else {
		st = parse_text(tab, (const char *)data, len, err);
	}
	if (owned_map)
		munmap((void *)(uintptr_t)data, len);
	else if (heap)
		free((void *)(uintptr_t)data);
	return st;
}

static struct pt_symtab *new_table(const char *name)
{
	struct pt_symtab *tab = pt_symtab_create();
	if (!tab)
		return NULL;
	free(tab->path);
	tab->path = strdup(name);
	if (!tab->path) {
		tab->path = NULL;
		pt_symtab_destroy(tab);
		return NULL;
	}
	return tab;
}

enum pt_status pt_symtab_load_buffer(const void *data, size_t len, const char *name,
				     struct pt_symtab **tab_ret, struct pt_error *err)
{
	*tab_ret = NULL;
	if (!name)
		name = "(buffer)";
	struct pt_symtab *tab = new_table(name);
	if (!tab)
		return pt_error_set(err, name, UINT64_MAX, "out of memory");
	if (len == 0) {
		pt_symtab_destroy(tab);
		return pt_error_set(err, name, UINT64_MAX, "empty: no symbols");
	}
	/* The table keeps an ELF image: copy so the caller's buffer need not live on. */
	uint8_t *copy = malloc(len);
	if (!copy) {
		pt_symtab_destroy(tab);
		return pt_error_set(err, name, UINT64_MAX, "out of memory");
	}
	memcpy(copy, data, len);
	enum pt_status st = load_data(tab, copy, len, false, true, err);
	if (st != PT_OK) {
		pt_symtab_destroy(tab);
		return st;
	}
	*tab_ret = tab;
	return PT_OK;
}

enum pt_status pt_symtab_load(const char *path, struct pt_symtab **tab_ret, struct pt_error *err)
{
	*tab_ret = NULL;
	if (!path)
		return pt_error_set(err, "(null)", UINT64_MAX, "no path");
	struct pt_symtab *tab = new_table(path);
	if (!tab)
		return pt_error_set(err, path, UINT64_MAX, "out of memory");
	enum pt_status st = PT_EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0) {
		st = pt_error_set(err, path, UINT64_MAX, "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (fstat(fd, &sb) != 0) {
		st = pt_error_set(err, path, UINT64_MAX, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(sb.st_mode)) {
		st = pt_error_set(err, path, UINT64_MAX, "is a directory");
		goto fail;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
		if ((uintmax_t)sb.st_size > SIZE_MAX) {
			st = pt_error_set(err, path, UINT64_MAX, "file too large to map");
			goto fail;
		}
		size_t len = (size_t)sb.st_size;
		void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			st = pt_error_set(err, path, UINT64_MAX, "cannot map: %s", strerror(errno));
			goto fail;
		}
		close(fd);
		fd = -1;
		st = load_data(tab, map, len, true, false, err);
	} else {
		/* A pipe or a /proc file (st_size 0): read it whole, up to MAX_STREAM. */
		size_t cap = 1 << 20, len = 0;
		uint8_t *buf = malloc(cap);
		if (!buf) {
			st = pt_error_set(err, path, UINT64_MAX, "out of memory");
			goto fail;
		}
		for (;;) {
			if (len == cap) {
				if (cap >= MAX_STREAM) {
					free(buf);
					st = pt_error_set(err, path, UINT64_MAX, "more than 4 GiB of input");
					goto fail;
				}
				uint8_t *nb = realloc(buf, cap * 2);
				if (!nb) {
					free(buf);
					st = pt_error_set(err, path, UINT64_MAX, "out of memory");
					goto fail;
				}
				buf = nb;
				cap *= 2;
			}
			ssize_t n = read(fd, buf + len, cap - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				free(buf);
				st = pt_error_set(err, path, len, "read error: %s", strerror(errno));
				goto fail;
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
		if (len == 0) {
			free(buf);
			st = pt_error_set(err, path, UINT64_MAX, "empty: no symbols");
			goto fail;
		}
		st = load_data(tab, buf, len, false, true, err);
	}
	if (st != PT_OK)
		goto fail;
	if (fd >= 0)
		close(fd);
	*tab_ret = tab;
	return PT_OK;
fail:
	if (fd >= 0)
		close(fd);
	pt_symtab_destroy(tab);
	return st;
}
