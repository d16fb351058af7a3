/* SPDX-License-Identifier: MIT */
/*
 * fuzz/input.h: the compact input format shared by the paging fuzz targets (house style 9).
 *
 * An input is a fixed-width header (FZ_HEADER_SIZE bytes, little-endian) followed by memory
 * records. Short inputs are zero-padded, so every byte string is a valid input:
 *
 *   off size field
 *     0    1 mode        0 off, 1 legacy, 2 PAE, 3 IA-32e, 4 LA57 (taken modulo 5)
 *     1    1 maxphyaddr  32 + (byte % 21) (walk_diff: always Unicorn's, 40)
 *     2    1 cbit        0 (byte even, or 32-bit paging) or 12 + (byte >> 1) % 51
 *     3    1 cpl         byte % 4
 *     4    1 access      bits 1:0 kind (3 -> read), bit 2 implicit supervisor read
 *     5    1 options     FZ_OPT_* bits (the kpgd target puts its symbol text after the header)
 *     6    2 reserved (adapter_diff: byte 6 bits 1:0 rotate the PAE PDPTE registers)
 *     8    8 cr0         only WP is kept (PG/PE follow the mode)
 *    16    8 cr3
 *    24    8 cr4         PSE, SMEP, SMAP, PKE, PCIDE kept (PAE/LA57 follow the mode)
 *    32    8 efer        NXE kept (LME/LMA follow the mode)
 *    40    8 rflags      AC kept
 *    48    4 pkru
 *    52    4 reserved
 *    56   32 va[4]       addresses to probe (truncated to 32 bits in 32-bit modes)
 *
 * Then records until the end of the input, each starting with a little-endian u64 `addr`:
 *   addr bit 0 = 0: a page: the next 4096 bytes (zero-padded) are the page at addr & ~0xfff;
 *   addr bit 0 = 1: an entry: the next 8 bytes are written at (addr & ~7) (its page is created).
 * Physical addresses are masked to MAXPHYADDR. Later records overwrite earlier ones. At most
 * FZ_MAX_PAGES pages exist; further records are ignored. Memory not covered by a page is "not in
 * the dump". fz_parse is the sanitiser: it keeps only architecturally possible CPU states.
 */
#ifndef PTLAB_FUZZ_INPUT_H
#define PTLAB_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptlab/walk.h"

#define FZ_HEADER_SIZE 88
#define FZ_PAGE 4096u
#define FZ_MAX_PAGES 64
#define FZ_NVA 4

/** Option bits of header byte 5. */
enum fz_option {
	FZ_OPT_CANONICAL = 1u << 0, /**< sign-extend the VAs (64-bit modes) */
	FZ_OPT_COALESCE = 1u << 1,  /**< maps: coalesce ranges */
	FZ_OPT_HOLES = 1u << 2,     /**< maps: also yield holes */
	FZ_OPT_ALL_ACCESSES = 1u << 3, /**< probe every kind at CPL 0 and 3, not just the header's */
	FZ_OPT_KPGD_CPU = 1u << 4,  /**< kpgd: pass the CPU state as the dump's */
};

/** Sparse physical memory made of 4 KiB pages (each its own allocation: ASan sees overreads). */
struct fz_mem {
	struct pt_mem mem; /**< first member: pass &m->mem to the walker */
	unsigned npages;
	uint64_t pa[FZ_MAX_PAGES];
	uint8_t *page[FZ_MAX_PAGES];
	uint64_t reads;    /**< ptr() calls */
};

/** One decoded, sanitised input. */
struct fz_input {
	enum pt_mode mode;
	struct pt_cpu_state cpu;
	struct pt_access access;
	uint8_t options;
	uint64_t va[FZ_NVA];
};

/** How fz_parse sanitises. */
struct fz_parse_opts {
	uint8_t force_maxphyaddr; /**< nonzero: use this MAXPHYADDR (walk_diff: Unicorn's) */
	bool no_cbit;             /**< the C-bit is always 0 */
};

/** Decode `data`: header into `in`, records into `m` (which must be fz_mem_init'ed). */
void fz_parse(const uint8_t *data, size_t size, const struct fz_parse_opts *opts,
	      struct fz_input *in, struct fz_mem *m);

/** Decode memory records (the part after the header) into `m`, PAs masked to `maxphyaddr`. */
void fz_parse_memory(const uint8_t *data, size_t size, unsigned maxphyaddr, struct fz_mem *m);

void fz_mem_init(struct fz_mem *m);
/** Free every page (m stays usable, empty). */
void fz_mem_reset(struct fz_mem *m);
/** The page holding `pa`, created zeroed if needed; NULL when FZ_MAX_PAGES are in use. */
uint8_t *fz_mem_page(struct fz_mem *m, uint64_t pa);

/** Encoding helpers for seed generators: the header of `in` into out[FZ_HEADER_SIZE]. */
void fz_encode_header(const struct fz_input *in, uint8_t out[FZ_HEADER_SIZE]);

/** Abort with a message on stderr (a harness invariant failed). */
_Noreturn void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
