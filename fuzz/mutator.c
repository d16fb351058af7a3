/* SPDX-License-Identifier: MIT */
/*
 * fuzz/mutator.c: a structure-aware mutator for the paging input format (input.h), linked into the
 * walk, walk_diff and maps targets as LLVMFuzzerCustomMutator (libFuzzer) and, through
 * fuzz/afl_mutator.c, as an AFL++ custom mutator. Half of the time it defers to libFuzzer's own
 * byte mutations; otherwise it makes one change a page-table author would make:
 *   - flip one architecturally meaningful bit (P, R/W, U/S, PS, A/D, G, XD, PKEY, a reserved bit
 *     M..51, the C-bit) of one 8-byte entry in a page or entry record;
 *   - point an entry at another page of the input (present, table-like flags), making chains;
 *   - add an entry record in the table an existing entry points to, at the index of a header VA;
 *   - change the header: mode, CR0.WP, CR4 SMEP/SMAP/PKE/PSE, EFER.NXE, RFLAGS.AC, CPL, access
 *     kind, options, MAXPHYADDR, or aim a VA at an existing page's range (each of these also
 *     re-rolls byte 7, the probe a target checks most: input.h).
 * Not instrumented for coverage (FZ_NO_COVERAGE): it runs between inputs, and its comparisons
 * would only feed noise into libFuzzer's comparison tables.
 */
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "mutator.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

FZ_NO_COVERAGE static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

FZ_NO_COVERAGE static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

FZ_NO_COVERAGE static void set64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/** Where the 8-byte entries of the input are: offsets of entry values, and page bases. */
struct layout {
	size_t entry_off[512];
	unsigned nentries;
	size_t page_off[FZ_MAX_PAGES];
	uint64_t page_pa[FZ_MAX_PAGES];
	unsigned npages;
};

FZ_NO_COVERAGE static void scan(const uint8_t *data, size_t size, struct layout *l, uint64_t *rng)
{
	size_t off = FZ_HEADER_SIZE;

	memset(l, 0, sizeof(*l));
	while (off + 8 <= size) {
		const uint64_t addr = get64(data + off);
		off += 8;
		if (addr & 1) {
			if (off + 8 <= size && l->nentries < 512)
				l->entry_off[l->nentries++] = off;
			off += 8;
		} else {
			if (l->npages < FZ_MAX_PAGES) {
				l->page_off[l->npages] = off;
				l->page_pa[l->npages++] = addr & ~(uint64_t)(FZ_PAGE - 1);
			}
			/* a few random entries of the page (prefer non-zero ones) */
			const size_t n = size - off < FZ_PAGE ? size - off : FZ_PAGE;
			for (unsigned k = 0; k < 8 && n >= 8 && l->nentries < 512; k++) {
				size_t e = off + (rng_next(rng) % (n / 8)) * 8;
				if (get64(data + e) == 0 && k < 6)
					continue;
				l->entry_off[l->nentries++] = e;
			}
			off += n;
		}
	}
}

static const unsigned flag_bits[] = { 0, 0, 0, 1, 1, 2, 2, 5, 6, 7, 7, 8, 63, 63, 59, 60 };

FZ_NO_COVERAGE size_t fz_mutate(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	uint64_t rng = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
	struct layout l;

	if (size < FZ_HEADER_SIZE) {
		if (max_size < FZ_HEADER_SIZE)
			return size;
		memset(data + size, 0, FZ_HEADER_SIZE - size);
		size = FZ_HEADER_SIZE;
	}
	scan(data, size, &l, &rng);
	switch (rng_next(&rng) % 5) {
	case 0: /* flip a meaningful bit of an entry */
	case 1:
		if (l.nentries) {
			uint8_t *e = data + l.entry_off[rng_next(&rng) % l.nentries];
			unsigned bit = flag_bits[rng_next(&rng) % 16];
			if (rng_next(&rng) % 4 == 0)
				bit = 32 + (unsigned)(rng_next(&rng) % 20); /* M..51: maybe reserved */
			set64(e, get64(e) ^ (UINT64_C(1) << bit));
			return size;
		}
		break;
	case 2: /* point an entry at a page of the input */
		if (l.nentries && l.npages) {
			uint8_t *e = data + l.entry_off[rng_next(&rng) % l.nentries];
			const uint64_t pa = l.page_pa[rng_next(&rng) % l.npages];
			set64(e, pa | (get64(e) & UINT64_C(0xfff)) | PTE_P | PTE_RW | PTE_US);
			return size;
		}
		break;
	case 3: /* an entry record in a page, at a header VA's index for some level */
		if (l.npages && size + 16 <= max_size) {
			const uint64_t pa = l.page_pa[rng_next(&rng) % l.npages];
			const uint64_t va = get64(data + 56 + 8 * (rng_next(&rng) % FZ_NVA));
			const unsigned shift = 12 + 9 * (unsigned)(rng_next(&rng) % 5);
			const uint64_t idx = (va >> shift) & 511;
			uint64_t val = l.npages ? l.page_pa[rng_next(&rng) % l.npages] : 0;
			val |= PTE_P | PTE_RW | PTE_US | (rng_next(&rng) % 3 == 0 ? PTE_PS : 0);
			set64(data + size, (pa + idx * 8) | 1);
			set64(data + size + 8, val);
			return size + 16;
		}
		break;
	default: { /* the header; byte 7 (which probe gets the costlier checks) re-rolled too */
		const unsigned what = (unsigned)(rng_next(&rng) % 8);
		data[7] = (uint8_t)rng_next(&rng);
		switch (what) {
		case 0: data[0] = (uint8_t)(1 + rng_next(&rng) % 4); break;       /* mode */
		case 1: data[8 + 2] ^= 1; break;                                /* CR0.WP (bit 16) */
		case 2: data[24 + 2] ^= (uint8_t)(1u << (rng_next(&rng) % 7)); break; /* CR4 20..22 */
		case 3: data[32 + 1] ^= 8; break;                               /* EFER.NXE (bit 11) */
		case 4: data[40 + 2] ^= 4; break;                               /* RFLAGS.AC (bit 18) */
		case 5: data[3] = (uint8_t)(rng_next(&rng) % 4); data[4] = (uint8_t)rng_next(&rng); break;
		case 6: data[5] ^= (uint8_t)(1u << (rng_next(&rng) % 5)); break; /* options */
		default:
			if (l.npages) { /* aim a VA somewhere (its index bits taken from a page PA) */
				uint8_t *v = data + 56 + 8 * (rng_next(&rng) % FZ_NVA);
				set64(v, get64(v) ^ (l.page_pa[rng_next(&rng) % l.npages] << (rng_next(&rng) % 9)));
			}
			break;
		}
		return size;
	}
	}
	return size;
}

#ifndef PTLAB_NO_LIBFUZZER_MUTATOR
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	static int off = -1;
	if (off < 0)
		off = getenv("PTLAB_FUZZ_NO_MUTATOR") != NULL; /* A/B runs: libFuzzer's alone */
	if (off || seed % 2 == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	return fz_mutate(data, size, max_size, seed);
}
#endif
