/* SPDX-License-Identifier: MIT */
/*
 * emu/machine.c: pt_emu_boot, the machine's steps in order (machine.h names the file of each):
 * the image (built in, or a real kernel made into one), its load addresses, physical memory with
 * the stages placed, the run in Unicorn to the stop point, and the paging mode checked there; then
 * what a booted machine gives: its memory, an ELF core of it, its System.map and symbols.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "ptlab/le.h"

static const uint64_t DEFAULT_MEM = UINT64_C(256) << 20;

static bool has_prefix(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The machine for opts->image, with its manifest entry (a real kernel's made and checked here)
 * and its memory size; no memory yet. */
static enum pt_status make_machine(const struct pt_emu_boot_opts *opts, struct pt_emu_machine **m_ret,
				   struct pt_error *err)
{
	const bool bzimage = has_prefix(opts->image, PT_EMU_BZIMAGE_PREFIX);
	const bool vmlinux = bzimage || has_prefix(opts->image, PT_EMU_VMLINUX_PREFIX);
	const struct emu_image_def *def = vmlinux ? NULL
				      : opts->image ? emu_images_find(opts->image) : emu_images_manifest(&(size_t){ 0 });
	enum pt_status st;

	*m_ret = NULL;
	if (!def && !vmlinux)
		return pt_error_set(err, opts->image, UINT64_MAX, "no such image (see 'ptlab images')");
	const char *img = vmlinux ? opts->image : def->pub.name;
	const uint64_t mem_size = opts->mem_size ? opts->mem_size : DEFAULT_MEM;
	if (mem_size < (UINT64_C(32) << 20) || mem_size > (UINT64_C(4) << 30) || mem_size % 4096)
		return pt_error_set(err, img, UINT64_MAX,
				    "--mem 0x%llx: must be a multiple of 4 KiB from 32 MiB to 4 GiB",
				    (unsigned long long)mem_size);
	struct pt_emu_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return pt_error_set(err, img, UINT64_MAX, "out of memory");
	*m_ret = m;
	if (vmlinux) {
		st = bzimage ? emu_bzimage_prepare(m, opts, err) : emu_vmlinux_prepare(m, opts, err);
		if (st != PT_OK)
			return st;
		def = m->def;
	}
	m->def = def;
	m->mem_size = mem_size;
	m->result.image = &def->pub;
	return PT_OK;
}

/* Physical memory with the image placed at the resolved load addresses and the test's patches
 * applied; *start_ret = where the run starts. */
static enum pt_status fill_memory(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
				  uint64_t *start_ret, struct pt_error *err)
{
	const char *img = m->def->pub.name;
	enum pt_status st = emu_resolve_layout(m->def, opts, m->mem_size, &m->result.phys_load,
					       &m->result.virt_offset, err);
	if (st != PT_OK)
		return st;
	m->mem = calloc(1, m->mem_size);
	if (!m->mem)
		return pt_error_set(err, img, UINT64_MAX, "cannot allocate 0x%llx bytes of memory",
				    (unsigned long long)m->mem_size);
	pt_flat_mem_init(&m->flat, m->mem, m->mem_size);
	*start_ret = emu_place_images(m, opts);
	for (size_t i = 0; i < opts->npatches; i++) {
		const struct pt_emu_patch *p = &opts->patches[i];
		if (p->size < 1 || p->size > 8 || p->pa > m->mem_size || p->size > m->mem_size - p->pa)
			return pt_error_set(err, img, UINT64_MAX, "patch %zu: %u bytes at 0x%llx are not in "
					    "memory", i, p->size, (unsigned long long)p->pa);
		pt_le_put(m->mem + p->pa, p->value, p->size);
	}
	return PT_OK;
}

/* The stop point, at its run-time address. */
static enum pt_status stop_address(const struct pt_emu_machine *m, uint64_t *stop_ret, struct pt_error *err)
{
	const struct emu_image_def *def = m->def;
	uint64_t sym;

	if (m->is_vmlinux || m->is_bzimage) {
		/* checked by emu_vmlinux_prepare / emu_bzimage_prepare; a bzImage's slide is known later */
		pt_symtab_value(m->symbols, def->stop_symbol, &sym);
		*stop_ret = sym + m->result.virt_offset;
		return PT_OK;
	}
	if (!emu_blob_symbol(def->stop_blob, def->stop_symbol, &sym))
		return pt_error_set(err, def->pub.name, UINT64_MAX, "stop symbol %s missing", def->stop_symbol);
	*stop_ret = def->stop_blob == def->kernel ? sym + m->result.virt_offset
						   : def->first_pa + (sym - def->first->base_va);
	return PT_OK;
}

/* The stop point must be in the paging mode the image promises: an image that never turned
 * paging on still "runs" here, because the kernel is aliased at its VA. */
static enum pt_status check_paging(struct pt_emu_machine *m, const struct pt_emu_boot_opts *opts,
				   struct pt_error *err)
{
	const struct emu_image_def *def = m->def;
	const struct pt_cpu_state *cpu = &m->result.cpu;
	const enum pt_mode want = def->pub.paging == PT_MODE_IA32E && opts->la57 ? PT_MODE_LA57
										: def->pub.paging;
	struct pt_context ctx;

	if (pt_context_init(&ctx, cpu, &m->flat.mem, NULL, NULL) != PT_OK || ctx.mode != want)
		return pt_error_set(err, def->pub.name, UINT64_MAX,
				    "stopped at %s in paging mode %s (CR0 0x%llx CR4 0x%llx EFER 0x%llx), "
				    "expected %s", def->stop_symbol, pt_mode_name(ctx.mode),
				    (unsigned long long)cpu->cr0, (unsigned long long)cpu->cr4,
				    (unsigned long long)cpu->efer, pt_mode_name(want));
	m->result.paging = ctx.mode;
	return PT_OK;
}

enum pt_status pt_emu_boot(const struct pt_emu_boot_opts *opts, struct pt_emu_machine **machine_ret,
			   struct pt_emu_boot_result *result_ret, struct pt_error *err)
{
	struct pt_emu_machine *m = NULL;
	uint64_t start = 0, stop = 0;
	enum pt_status st;

	*machine_ret = NULL;
	st = make_machine(opts, &m, err);
	if (st == PT_OK)
		st = fill_memory(m, opts, &start, err);
	if (st == PT_OK)
		st = stop_address(m, &stop, err);
	if (st != PT_OK)
		goto fail;
	/* From here on a failure is the boot's, not the inputs' (pt_emu_boot's contract). */
	if (emu_machine_run(m, opts, start, stop, err) != PT_OK ||
	    check_paging(m, opts, err) != PT_OK) {
		st = PT_FAULT;
		goto fail;
	}
	*result_ret = m->result;
	*machine_ret = m;
	return PT_OK;
fail:
	pt_emu_destroy(m);
	return st;
}

void pt_emu_destroy(struct pt_emu_machine *m)
{
	if (!m)
		return;
	emu_vmlinux_unload(&m->vmlinux);
	emu_bzimage_unload(&m->bz);
	free(m->mem);
	free(m);
}

const struct pt_mem *pt_emu_mem(const struct pt_emu_machine *m)
{
	return &m->flat.mem;
}

uint64_t pt_emu_mem_size(const struct pt_emu_machine *m)
{
	return m->mem_size;
}

enum pt_status pt_emu_write_core(const struct pt_emu_machine *m, const char *path,
				 struct pt_error *err)
{
	/* All of RAM in one PT_LOAD, as QEMU's dump-guest-memory writes it, so that "not in dump"
	 * keeps meaning "outside RAM". The PTLAB note adds EFER, MAXPHYADDR and the SME C-bit
	 * (result.cpu.cbit), so that translate/maps strip it. */
	const struct pt_core_segment seg = { 0, m->mem_size, m->mem };
	const struct pt_core_desc desc = {
		.machine = m->result.paging == PT_MODE_LEGACY || m->result.paging == PT_MODE_PAE ? 3 : 62,
		.segments = &seg,
		.nsegments = 1,
		.cpu = &m->result.cpu,
		.ptlab_note = true,
	};
	return pt_core_write(path, &desc, err);
}

enum pt_status pt_emu_print_symbols(const struct pt_emu_machine *m, FILE *out)
{
	if (m->symbols) {
		/* A real kernel: the table it was booted with, as a System.map. */
		for (size_t i = 0; i < pt_symtab_count(m->symbols); i++) {
			const struct pt_symbol *s = pt_symtab_at(m->symbols, i);
			if (fprintf(out, "%016llx %c %s\n", (unsigned long long)s->value, s->type, s->name) < 0)
				return PT_EINVAL;
		}
		return PT_OK;
	}
	const struct emu_blob *blob = m->def->kernel ? m->def->kernel : m->def->first;
	/* An i386 System.map prints 8 hex digits, an x86-64 one 16. */
	const int width = m->def->entry == EMU_ENTRY_NATIVE_32 ? 8 : 16;
	for (size_t i = 0; i < blob->nsyms; i++) {
		if (fprintf(out, "%0*llx %c %s\n", width, (unsigned long long)blob->syms[i].value,
			    blob->syms[i].type, blob->syms[i].name) < 0)
			return PT_EINVAL;
	}
	return PT_OK;
}

enum pt_status pt_emu_write_symbols(const struct pt_emu_machine *m, const char *path,
				    struct pt_error *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return pt_error_set(err, path, UINT64_MAX, "cannot create: %s", strerror(errno));
	const enum pt_status st = pt_emu_print_symbols(m, f);
	if (fclose(f) != 0 || st != PT_OK)
		return pt_error_set(err, path, UINT64_MAX, "write failed");
	return PT_OK;
}

bool pt_emu_symbol(const struct pt_emu_machine *m, const char *name, uint64_t *value_ret)
{
	if (m->symbols)
		return pt_symtab_value(m->symbols, name, value_ret);
	const struct emu_blob *blob = m->def->kernel ? m->def->kernel : m->def->first;
	return emu_blob_symbol(blob, name, value_ret);
}
