/* SPDX-License-Identifier: MIT */
/*
 * linux_banner found by its bytes ("Linux version "): at one address, near the kernel's physical
 * load address, and over the whole dump (for the strategies without the banner's symbol).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpgd_internal.h"

/* Printable prefix of the bytes at physical address `pa` (for banner evidence): up to `max`
 *  chars, up to a newline, and only as far as the dump holds them, read byte by byte (the text
 *  may end a dump range, or straddle two). */
void kpgd_printable(const struct kpgd_finder *f, uint64_t pa, char *buf, size_t buflen, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < max && n + 1 < buflen; i++) {
		const uint8_t *p = kpgd_bytes(f, pa + i, 1);
		if (!p || *p == 0 || *p == '\n')
			break;
		buf[n++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
	}
	buf[n] = 0;
}

bool kpgd_banner_at(const struct kpgd_finder *f, uint64_t pa)
{
	const uint8_t *p = kpgd_bytes(f, pa, BANNER_LEN);
	return p && memcmp(p, BANNER, BANNER_LEN) == 0;
}

static bool find_banner_near_uncached(const struct kpgd_finder *f, uint64_t pa, uint64_t span,
				      const char *osrelease, uint64_t *hit_ret)
{
	char needle[160];
	snprintf(needle, sizeof(needle), "%s%s", BANNER, osrelease ? osrelease : "");
	size_t nlen = strlen(needle);
	const struct pt_kpgd_inputs *in = f->in;
	for (size_t i = 0; i < in->nranges; i++) {
		const struct pt_dump_range *r = &in->ranges[i];
		uint64_t lo = pa > r->pa ? pa : r->pa;
		uint64_t hi = pa + span < r->pa + r->size ? pa + span : r->pa + r->size;
		if (lo >= hi || hi - lo < nlen)
			continue;
		const uint8_t *p = kpgd_bytes(f, lo, (size_t)(hi - lo));
		if (!p)
			continue;
		const uint8_t *h = memmem(p, (size_t)(hi - lo), needle, nlen);
		if (h) {
			*hit_ret = lo + (uint64_t)(h - p);
			return true;
		}
	}
	return false;
}

bool kpgd_find_banner_near(struct kpgd_finder *f, uint64_t pa, uint64_t span, const char *osrelease,
			   uint64_t *hit_ret)
{
	if (!f->near_valid || f->near_pa != pa) {
		f->near_valid = true;
		f->near_pa = pa;
		f->near_found = find_banner_near_uncached(f, pa, span, osrelease, &f->near_hit);
	}
	*hit_ret = f->near_hit;
	return f->near_found;
}

/** kpgd_scan_nonzero's look for banners: every "Linux version " that starts in the window (and
 *  ends in its range). */
static bool banners_window(struct kpgd_finder *f, void *arg, const uint8_t *p, uint64_t pa, uint64_t len,
			   const struct pt_dump_range *r)
{
	(void)arg;
	const uint64_t room = r->pa + r->size - pa; /* bytes from p to the range's end */
	if (room < BANNER_LEN)
		return true;
	const uint64_t last = len < room - BANNER_LEN + 1 ? len : room - BANNER_LEN + 1; /* starts tried */
	/* memchr for the first byte runs at memory speed; memmem (two-way) is several times slower */
	const uint8_t *q = p, *end = p + last;
	while (f->nbanners < MAX_BANNER_HITS && q < end && (q = memchr(q, BANNER[0], (size_t)(end - q))) != NULL) {
		if (memcmp(q, BANNER, BANNER_LEN) == 0)
			f->banners[f->nbanners++] = pa + (uint64_t)(q - p);
		q++;
	}
	return f->nbanners < MAX_BANNER_HITS;
}

void kpgd_scan_banners(struct kpgd_finder *f)
{
	if (f->banners_scanned)
		return;
	f->banners_scanned = true;
	f->banners = calloc(MAX_BANNER_HITS, sizeof(*f->banners));
	if (!f->banners) {
		f->oom = true;
		return;
	}
	/* the banner starts with a nonzero byte: only the pages with one are searched */
	kpgd_scan_nonzero(f, banners_window, NULL);
}
