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
 *     6    1 reserved (adapter_diff: bits 1:0 rotate the PAE PDPTE registers)
 *     7    1 check       which probe gets a target's costlier checks (FZ_CHECK_*)
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

/** Fields of header byte 7 (fz_input.check): a target checks less per input than it could, and
 *  these bytes, set by the fuzzer, say which part (every part is reached over a campaign). */
enum fz_check_bits {
	FZ_CHECK_SLOT = 3u << 0, /**< the VA slot: walk: va[check & 3] gets the cross-checks; maps:
				      the window starts at va[check & 3] */
	FZ_CHECK_TLB = 1u << 2,  /**< walk: the TLB (miss, hit) against pt_translate, not the lean path */
	FZ_CHECK_WINDOW = 1u << 3, /**< maps: enumerate a window, not the whole space */
};

/**
 * Harness plumbing the fuzzer should not steer by: no coverage instrumentation (libFuzzer's
 * trace-cmp hooks on every page lookup cost more than the walk they serve, and their features
 * say nothing about the code under test). ASan and UBSan still check it.
 */
#if defined(__clang__)
#define FZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define FZ_NO_COVERAGE
#endif

/** Slots of the page-lookup hash (a power of two, at least twice FZ_MAX_PAGES). */
#define FZ_HASH_SLOTS 256

/**
 * Sparse physical memory made of 4 KiB pages, in one arena allocated once and reused by every
 * input: each page slot sits between two guard pages that ASan keeps poisoned, and a slot not in
 * use is poisoned too, so an overread past a page (or a stale pointer) is still caught. Only what
 * an input wrote is cleared for the next one (the span of each page it dirtied), so a short input
 * costs a few cache lines, not a fresh zeroed image.
 */
struct fz_mem {
	struct pt_mem mem; /**< first member: pass &m->mem to the walker */
	unsigned npages;
	uint64_t pa[FZ_MAX_PAGES];
	uint8_t *page[FZ_MAX_PAGES];
	uint16_t dirty_lo[FZ_MAX_PAGES]; /**< bytes [dirty_lo, dirty_hi) of a page may be nonzero */
	uint16_t dirty_hi[FZ_MAX_PAGES];
	uint8_t hash[FZ_HASH_SLOTS];     /**< page index + 1 by hashed page number (0: empty) */
	uint8_t *arena;                  /**< guard, page 0, guard, page 1, ... guard */
	uint64_t reads;    /**< ptr() calls */
};

/** One decoded, sanitised input. */
struct fz_input {
	enum pt_mode mode;
	struct pt_cpu_state cpu;
	struct pt_access access;
	uint8_t options;
	uint8_t check; /**< header byte 7: which probe gets the costlier checks (per target) */
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

/** Make `m` usable and empty: the arena is allocated on the first call (m zero-initialised, e.g.
 *  static), later calls empty it as fz_mem_reset does. */
void fz_mem_init(struct fz_mem *m);
/** Drop every page, clearing only what was written (m stays usable, empty). */
void fz_mem_reset(struct fz_mem *m);
/** The page holding `pa`, created zeroed if needed; NULL when FZ_MAX_PAGES are in use. */
uint8_t *fz_mem_page(struct fz_mem *m, uint64_t pa);

/** Is in->va[i] one of the VAs before it? (A repeated VA gives the same answers: probed once.) */
bool fz_va_repeated(const struct fz_input *in, unsigned i);

/** Encoding helpers for seed generators: the header of `in` into out[FZ_HEADER_SIZE]. */
void fz_encode_header(const struct fz_input *in, uint8_t out[FZ_HEADER_SIZE]);

/** Abort with a message on stderr (a harness invariant failed). */
_Noreturn void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
