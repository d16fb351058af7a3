/* SPDX-License-Identifier: MIT */
/*
 * fuzz target `symbols`. Invariant: pt_symtab_load_buffer never crashes or reads outside the
 * buffer on any System.map / kallsyms text or vmlinux ELF; a loaded table is self-consistent:
 * pt_symtab_at(i) exists for every i < count, and looking each name up finds a symbol of that
 * name (the first definition) whose value pt_symtab_value returns.
 */
#include <string.h>

#include "input.h"
#include "ptlab/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_symtab *tab = NULL;
	struct pt_error err;

	if (pt_symtab_load_buffer(data, size, "fuzz", &tab, &err) != PT_OK)
		return 0;
	const size_t n = pt_symtab_count(tab);
	for (size_t i = 0; i < n && i < 4096; i++) {
		const struct pt_symbol *s = pt_symtab_at(tab, i);
		if (s == NULL)
			fz_fail("pt_symtab_at(%zu) of %zu is NULL", i, n);
		const struct pt_symbol *f = pt_symtab_lookup(tab, s->name);
		uint64_t v;
		if (f == NULL || strcmp(f->name, s->name) != 0)
			fz_fail("symbol %zu '%s' not found by name", i, s->name);
		if (!pt_symtab_value(tab, s->name, &v) || v != f->value)
			fz_fail("pt_symtab_value('%s') disagrees with lookup", s->name);
	}
	if (pt_symtab_at(tab, n) != NULL)
		fz_fail("pt_symtab_at(count) is not NULL");
	(void)pt_symtab_stats(tab);
	pt_symtab_destroy(tab);
	return 0;
}
