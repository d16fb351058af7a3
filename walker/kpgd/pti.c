/* SPDX-License-Identifier: MIT */
/*
 * Page-table isolation (PTI, Linux's KAISER): the kernel's table is 8 KiB aligned and its user
 * copy, which the kernel loads into CR3 on the way to user mode, sits 4 KiB above it. The copy
 * shares the user half and maps only the entry text (pti_clone_*) of the kernel half.
 */
#include <inttypes.h>

#include "kpgd_internal.h"
#include "ptlab/le.h"

/**
 * Linux's PTI user copy at `user` next to the kernel table `c->kpgd`: the same user half,
 * kernel-half entries only where the kernel table has them, at least one of its own (the
 * entry-text tables pti_clone_* allocated), and not a table the kernel table points to (a PML4
 * under a PML5). *kern_ret and *own_ret count the kernel-half entries and its own.
 */
static bool user_copy_shape(const struct kpgd_finder *f, const struct pt_kpgd_candidate *c, uint64_t user,
			    unsigned *kern_ret, unsigned *own_ret)
{
	struct pt_context dc; /* decodes the kernel table's entries as the candidate's mode does */
	const uint8_t *u = kpgd_bytes(f, user, PT_PAGE_4K);
	const uint8_t *k = kpgd_bytes(f, c->kpgd, PT_PAGE_4K);
	if (!u || !k || !kpgd_plausible_top64(&f->screen.ia32e, u, f->phys_end) ||
	    pt_context_init_mode(&dc, c->mode, PT_MAXPHYADDR_MAX, c->cbit) != PT_OK)
		return false;
	const unsigned top = dc.desc->levels, n = pt_level_entries(dc.desc, top);
	unsigned kern = 0, own = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t eu = pt_le64(u + 8 * i), ek = pt_le64(k + 8 * i);
		struct pt_entry_info dk;
		pt_entry_decode(&dc, top, ek, &dk);
		if (dk.present && dk.frame == user)
			return false;
		if (i < n / 2) {
			if (eu != ek)
				return false;
			continue;
		}
		if (!(eu & PTE_P))
			continue;
		if (!dk.present)
			return false;
		kern++;
		own += eu != ek;
	}
	*kern_ret = kern;
	*own_ret = own;
	return kern > 0 && own > 0;
}

void kpgd_describe_pti(struct kpgd_finder *f, struct pt_kpgd_candidate *c, const struct kpgd_layout *L)
{
	if (c->mode != PT_MODE_IA32E && c->mode != PT_MODE_LA57)
		return;
	if (c->kpgd % (2 * PT_PAGE_4K) != 0)
		return;
	const uint64_t user = c->kpgd + PT_PAGE_4K;
	unsigned kern, own;
	if (!user_copy_shape(f, c, user, &kern, &own))
		return;
	/* The entry text must map to the same frame through both tables. */
	static const char *const entry_syms[] = { "entry_SYSCALL_64", "__entry_text_start" };
	uint64_t sym = 0;
	const char *name = NULL;
	for (size_t i = 0; L && c->offsets_known && i < 2 && !name; i++)
		if (pt_symtab_value(L->syms, entry_syms[i], &sym))
			name = entry_syms[i];
	if (!name)
		return;
	const uint64_t va = sym + (L->text_link + c->virt_offset - L->file_text);
	struct pt_context kc, uc;
	uint64_t kpa, upa;
	if (!kpgd_make_ctx(f, c->mode, c->kpgd, &kc) || !kpgd_make_ctx(f, c->mode, user, &uc) ||
	    !kpgd_walk_pa(f, &kc, va, &kpa, NULL, 0) || !kpgd_walk_pa(f, &uc, va, &upa, NULL, 0) || kpa != upa)
		return;
	c->has_user_pgd = true;
	c->user_pgd = user;
	kpgd_candidate_fact(f, c, "PTI: the user copy at 0x%" PRIx64 " (kpgd + 4 KiB) has %u kernel-half entries, "
			    "%u of its own, and maps %s 0x%" PRIx64 " -> 0x%" PRIx64 " as the kernel table does",
			    user, kern, own, name, va, kpa);
}
