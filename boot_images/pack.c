/* SPDX-License-Identifier: MIT */
/*
 * pack: a build-time host tool. Reads linked boot-image ELF files (ELF64, linked with
 * --emit-relocs) and writes one C file that embeds each as a struct emu_blob (emu/blob.h): the
 * loadable bytes from the lowest PT_LOAD physical address (bss included as size), every symbol
 * for System.map, and the relocation sites the loader patches for a virtual offset (R_X86_64_64
 * and R_X86_64_32S against symbols inside the image, as the kernel's relocs tool keeps them).
 * Next to OUT.c it also writes NAME.System.map for each image (`nm -n` format: 8 hex digits for a
 * 32-bit image, 16 for a 64-bit one), as a distribution ships it.
 *
 *   pack OUT.c NAME=FILE.elf [NAME=FILE.elf ...]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	PT_LOAD_TYPE = 1,
	SHT_SYMTAB_TYPE = 2,
	SHT_RELA_TYPE = 4,
	SHF_ALLOC_FLAG = 2,
	SHF_EXEC_FLAG = 4,
	SHF_WRITE_FLAG = 1,
	SHT_NOBITS_TYPE = 8,
	SHN_UNDEF_INDEX = 0,
	SHN_ABS_INDEX = 0xfff1,
	R_64 = 1,
	R_32 = 10,
	R_32S = 11,
	STT_SECTION_TYPE = 3,
	STT_FILE_TYPE = 4,
	STB_LOCAL_BIND = 0,
};

static const char *prog = "pack";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

struct file {
	const char *path;
	uint8_t *data;
	size_t size;
};

static uint64_t rd(const struct file *f, uint64_t off, unsigned n)
{
	if (off > f->size || n > f->size - off)
		die("%s: read of %u bytes at offset 0x%" PRIx64 " past the end", f->path, n, off);
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)f->data[off + i] << (8 * i);
	return v;
}

static void load(struct file *f, const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		die("%s: %s", path, strerror(errno));
	if (fseek(fp, 0, SEEK_END) != 0)
		die("%s: cannot seek", path);
	long n = ftell(fp);
	if (n < 64)
		die("%s: too small for an ELF file", path);
	rewind(fp);
	f->data = malloc((size_t)n);
	if (!f->data || fread(f->data, 1, (size_t)n, fp) != (size_t)n)
		die("%s: cannot read", path);
	fclose(fp);
	f->size = (size_t)n;
	f->path = path;
	if (memcmp(f->data, "\x7f" "ELF\x02\x01", 6) != 0)
		die("%s: not a little-endian ELF64 file", path);
}

struct sym {
	uint64_t value;
	char type;
	const char *name;
};

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return strcmp(x->name, y->name);
}

/** Write DIR/NAME.System.map from the sorted symbols. */
static void write_system_map(const char *dir, const char *name, const struct sym *syms, size_t n)
{
	char path[4096];
	uint64_t top = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.System.map", dir, name) >= sizeof(path))
		die("%s: path too long", name);
	for (size_t i = 0; i < n; i++)
		top = syms[i].value > top ? syms[i].value : top;
	const int width = top > UINT32_MAX ? 16 : 8;
	FILE *f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%0*" PRIx64 " %c %s\n", width, syms[i].value, syms[i].type, syms[i].name);
	if (fclose(f) != 0)
		die("%s: write failed", path);
}

static void emit_blob(FILE *out, const char *dir, const char *name, struct file *f)
{
	const uint64_t phoff = rd(f, 32, 8), shoff = rd(f, 40, 8), entry = rd(f, 24, 8);
	const unsigned phentsize = (unsigned)rd(f, 54, 2), phnum = (unsigned)rd(f, 56, 2);
	const unsigned shentsize = (unsigned)rd(f, 58, 2), shnum = (unsigned)rd(f, 60, 2);
	if (phentsize != 56 || shentsize != 64)
		die("%s: unexpected header sizes", f->path);

	/* The image spans the PT_LOAD segments by physical address. */
	uint64_t base_pa = UINT64_MAX, base_va = 0, end_pa = 0;
	for (unsigned i = 0; i < phnum; i++) {
		uint64_t ph = phoff + (uint64_t)i * phentsize;
		if (rd(f, ph, 4) != PT_LOAD_TYPE)
			continue;
		uint64_t paddr = rd(f, ph + 24, 8), memsz = rd(f, ph + 40, 8);
		if (paddr < base_pa) {
			base_pa = paddr;
			base_va = rd(f, ph + 16, 8);
		}
		if (paddr + memsz > end_pa)
			end_pa = paddr + memsz;
	}
	if (base_pa == UINT64_MAX)
		die("%s: no PT_LOAD segment", f->path);
	const uint64_t memsz = end_pa - base_pa;
	if (memsz > (64u << 20))
		die("%s: image of 0x%" PRIx64 " bytes is too large", f->path, memsz);
	uint8_t *image = calloc(1, (size_t)memsz);
	uint64_t filesz = 0;
	for (unsigned i = 0; i < phnum; i++) {
		uint64_t ph = phoff + (uint64_t)i * phentsize;
		if (rd(f, ph, 4) != PT_LOAD_TYPE)
			continue;
		uint64_t off = rd(f, ph + 8, 8), paddr = rd(f, ph + 24, 8), fsz = rd(f, ph + 32, 8);
		if (off > f->size || fsz > f->size - off)
			die("%s: segment past the end of the file", f->path);
		memcpy(image + (paddr - base_pa), f->data + off, (size_t)fsz);
		if (paddr - base_pa + fsz > filesz)
			filesz = paddr - base_pa + fsz;
	}

	/* Sections: names, symbol table, relocation sections. */
	uint64_t symtab_off = 0, symtab_size = 0, strtab_off = 0;
	for (unsigned i = 0; i < shnum; i++) {
		uint64_t sh = shoff + (uint64_t)i * shentsize;
		if (rd(f, sh + 4, 4) == SHT_SYMTAB_TYPE) {
			symtab_off = rd(f, sh + 24, 8);
			symtab_size = rd(f, sh + 32, 8);
			unsigned link = (unsigned)rd(f, sh + 40, 4);
			strtab_off = rd(f, shoff + (uint64_t)link * shentsize + 24, 8);
		}
	}
	if (!symtab_off)
		die("%s: no symbol table", f->path);

	/* Symbols for System.map: in-image and global absolute ones; no section/file symbols and no
	 * local assembler constants. */
	size_t nsyms = 0;
	struct sym *syms = calloc(symtab_size / 24 + 1, sizeof(*syms));
	for (uint64_t s = symtab_off; s + 24 <= symtab_off + symtab_size; s += 24) {
		unsigned name_off = (unsigned)rd(f, s, 4), info = (unsigned)rd(f, s + 4, 1);
		unsigned shndx = (unsigned)rd(f, s + 6, 2);
		uint64_t value = rd(f, s + 8, 8);
		unsigned type = info & 0xf, bind = info >> 4;
		const char *nm = (const char *)f->data + strtab_off + name_off;
		if (!name_off || type == STT_SECTION_TYPE || type == STT_FILE_TYPE || shndx == SHN_UNDEF_INDEX)
			continue;
		char t;
		if (shndx == SHN_ABS_INDEX) {
			if (bind == STB_LOCAL_BIND)
				continue;
			t = 'A';
		} else {
			uint64_t sh = shoff + (uint64_t)shndx * shentsize;
			uint64_t flags = rd(f, sh + 8, 8);
			unsigned sht = (unsigned)rd(f, sh + 4, 4);
			if (!(flags & SHF_ALLOC_FLAG))
				continue;
			t = sht == SHT_NOBITS_TYPE ? 'B' : (flags & SHF_EXEC_FLAG) ? 'T' :
			    (flags & SHF_WRITE_FLAG) ? 'D' : 'R';
			if (bind == STB_LOCAL_BIND)
				t = (char)(t - 'A' + 'a');
		}
		syms[nsyms++] = (struct sym){ value, t, nm };
	}
	qsort(syms, nsyms, sizeof(*syms), sym_cmp);
	write_system_map(dir, name, syms, nsyms);

	fprintf(out, "\n/* %s: %s */\nstatic const uint8_t %s_bytes[] = {", name, f->path, name);
	for (uint64_t i = 0; i < filesz; i++)
		fprintf(out, "%s0x%02x,", i % 16 ? "" : "\n\t", image[i]);
	fprintf(out, "\n};\nstatic const struct emu_blob_sym %s_syms[] = {\n", name);
	for (size_t i = 0; i < nsyms; i++)
		fprintf(out, "\t{ UINT64_C(0x%016" PRIx64 "), '%c', \"%s\" },\n", syms[i].value,
			syms[i].type, syms[i].name);
	fprintf(out, "};\nstatic const struct emu_blob_reloc %s_relocs[] = {\n", name);

	size_t nrelocs = 0;
	for (unsigned i = 0; i < shnum; i++) {
		uint64_t sh = shoff + (uint64_t)i * shentsize;
		if (rd(f, sh + 4, 4) != SHT_RELA_TYPE)
			continue;
		unsigned target = (unsigned)rd(f, sh + 44, 4);
		uint64_t tflags = rd(f, shoff + (uint64_t)target * shentsize + 8, 8);
		if (!(tflags & SHF_ALLOC_FLAG))
			continue;
		uint64_t off = rd(f, sh + 24, 8), size = rd(f, sh + 32, 8);
		for (uint64_t r = off; r + 24 <= off + size; r += 24) {
			uint64_t where = rd(f, r, 8), info = rd(f, r + 8, 8);
			unsigned type = (unsigned)(info & 0xffffffff), symi = (unsigned)(info >> 32);
			if (type != R_64 && type != R_32S && type != R_32)
				continue;
			unsigned shndx = (unsigned)rd(f, symtab_off + (uint64_t)symi * 24 + 6, 2);
			if (shndx == SHN_ABS_INDEX || shndx == SHN_UNDEF_INDEX)
				continue; /* absolute: not moved by a virtual offset */
			if (where < base_va || where - base_va + (type == R_64 ? 8 : 4) > filesz)
				die("%s: relocation at 0x%" PRIx64 " outside the image", f->path, where);
			fprintf(out, "\t{ 0x%" PRIx64 ", %u },\n", where - base_va, type == R_64 ? 8u : 4u);
			nrelocs++;
		}
	}
	fprintf(out, "\t{ 0, 0 }\n};\n");
	fprintf(out,
		"const struct emu_blob emu_blob_%s = {\n\t.name = \"%s\",\n\t.bytes = %s_bytes,\n"
		"\t.filesz = 0x%" PRIx64 ",\n\t.memsz = 0x%" PRIx64 ",\n\t.base_pa = UINT64_C(0x%" PRIx64
		"),\n\t.base_va = UINT64_C(0x%" PRIx64 "),\n\t.entry = UINT64_C(0x%" PRIx64 "),\n"
		"\t.syms = %s_syms,\n\t.nsyms = %zu,\n\t.relocs = %s_relocs,\n\t.nrelocs = %zu,\n};\n",
		name, name, name, filesz, memsz, base_pa, base_va, entry, name, nsyms, name, nrelocs);
	free(image);
	free(syms);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: pack OUT.c NAME=FILE.elf [NAME=FILE.elf ...]");
	FILE *out = fopen(argv[1], "w");
	if (!out)
		die("%s: %s", argv[1], strerror(errno));
	char dir[4096];
	const char *slash = strrchr(argv[1], '/');
	if ((size_t)snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - argv[1]) : 1,
			     slash ? argv[1] : ".") >= sizeof(dir))
		die("%s: path too long", argv[1]);
	fprintf(out, "/* Generated by boot_images/pack.c: do not edit. */\n#include \"blob.h\"\n");
	for (int i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i])
			die("'%s' is not NAME=FILE", argv[i]);
		*eq = '\0';
		struct file f;
		load(&f, eq + 1);
		emit_blob(out, dir, argv[i], &f);
		free(f.data);
	}
	if (fclose(out) != 0)
		die("%s: write failed", argv[1]);
	return 0;
}
