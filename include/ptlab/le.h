/* SPDX-License-Identifier: MIT */
/*
 * ptlab le.h: little-endian loads and stores. x86 page-table entries, ELF/LiME/kdump headers and
 * the fuzz input format are little-endian whatever the host is; every reader in ptlab goes
 * through these (compilers turn the fixed-width forms into one load on x86 hosts).
 */
#ifndef PTLAB_LE_H
#define PTLAB_LE_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Load 2 bytes at `p`, least significant first. */
static inline uint16_t pt_le16(const void *p)
{
	const uint8_t *b = (const uint8_t *)p;
	return (uint16_t)(b[0] | (unsigned)b[1] << 8);
}

/** Load 4 bytes at `p`, least significant first. */
static inline uint32_t pt_le32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/** Load 8 bytes at `p`, least significant first. */
static inline uint64_t pt_le64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/** Load `n` (0..8) bytes at `p`, least significant first. */
static inline uint64_t pt_le_get(const void *p, unsigned n)
{
	const uint8_t *b = (const uint8_t *)p;
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

/** Store the low `n` (0..8) bytes of `v` at `p`, least significant first. */
static inline void pt_le_put(void *p, uint64_t v, unsigned n)
{
	uint8_t *b = (uint8_t *)p;
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

#ifdef __cplusplus
}
#endif
#endif
