/* SPDX-License-Identifier: MIT */
/*
 * kdump/codec.c: one page compressed as the kdump-compressed format stores it: a zlib stream
 * (one deflate stream, reset per page: compress2 would set up and free 256 KiB per page), LZO1X-1 (lzo1x_1_compress), snappy's raw format (snappy_compress) or one zstd
 * frame (ZSTD_compressCCtx). Each at its fast level, as makedumpfile does: a dump is written
 * once, at a crash, and read rarely.
 */
#include "codec.h"

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

/** zstd level 1: its fastest standard level. */
static const int ZSTD_LEVEL = 1;

int kd_codec_init(struct kd_codec *codec, enum pt_kdump_compression compression)
{
	codec->compression = compression;
	codec->state = NULL;
	switch (compression) {
	case PT_KDUMP_LZO:
		if (lzo_init() != LZO_E_OK)
			return -1;
		codec->state = malloc(LZO1X_1_MEM_COMPRESS);
		return codec->state ? 0 : -1;
	case PT_KDUMP_ZSTD:
		codec->state = ZSTD_createCCtx();
		return codec->state ? 0 : -1;
	case PT_KDUMP_ZLIB: {
		z_stream *z = calloc(1, sizeof(*z));

		if (!z || deflateInit(z, Z_BEST_SPEED) != Z_OK) {
			free(z);
			return -1;
		}
		codec->state = z;
		return 0;
	}
	case PT_KDUMP_SNAPPY:
		return 0;
	}
	return -1;
}

void kd_codec_deinit(struct kd_codec *codec)
{
	if (codec->compression == PT_KDUMP_ZSTD)
		ZSTD_freeCCtx(codec->state);
	else if (codec->compression == PT_KDUMP_ZLIB && codec->state)
		deflateEnd(codec->state);
	free(codec->compression == PT_KDUMP_ZSTD ? NULL : codec->state);
	codec->state = NULL;
}

size_t kd_codec_compress(struct kd_codec *codec, const uint8_t *in, size_t len, uint8_t *out)
{
	switch (codec->compression) {
	case PT_KDUMP_ZLIB: {
		z_stream *z = codec->state;

		/* one complete zlib stream (header, deflate data, Adler-32) per page */
		if (compressBound((uLong)len) > KD_CODEC_OUT_MAX || deflateReset(z) != Z_OK)
			return 0;
		z->next_in = (Bytef *)(uintptr_t)in;
		z->avail_in = (uInt)len;
		z->next_out = out;
		z->avail_out = KD_CODEC_OUT_MAX;
		if (deflate(z, Z_FINISH) != Z_STREAM_END)
			return 0;
		return (size_t)z->total_out;
	}
	case PT_KDUMP_LZO: {
		lzo_uint n = KD_CODEC_OUT_MAX;

		/* LZO1X's worst case: len + len / 16 + 64 + 3 */
		if (len + len / 16 + 67 > KD_CODEC_OUT_MAX ||
		    lzo1x_1_compress(in, (lzo_uint)len, out, &n, codec->state) != LZO_E_OK)
			return 0;
		return (size_t)n;
	}
	case PT_KDUMP_SNAPPY: {
		size_t n = snappy_max_compressed_length(len);

		if (n > KD_CODEC_OUT_MAX ||
		    snappy_compress((const char *)in, len, (char *)out, &n) != SNAPPY_OK)
			return 0;
		return n;
	}
	case PT_KDUMP_ZSTD: {
		size_t n = ZSTD_compressCCtx(codec->state, out, KD_CODEC_OUT_MAX, in, len, ZSTD_LEVEL);

		return ZSTD_isError(n) ? 0 : n;
	}
	}
	return 0;
}
