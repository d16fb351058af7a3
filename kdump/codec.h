/* SPDX-License-Identifier: MIT */
/*
 * kdump/codec.h: compress one page for the kdump-compressed writer, with the libraries the
 * format's readers decode it with (zlib, liblzo2, libsnappy, libzstd). Internal to libptkdump.
 */
#ifndef PTLAB_KDUMP_CODEC_H
#define PTLAB_KDUMP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "ptlab/kdump.h"

/** Room for any codec's output for one page (their worst case is a little over a page). */
enum { KD_CODEC_OUT_MAX = 8192 };

/** One codec's state (LZO's work memory, zstd's context). */
struct kd_codec {
	enum pt_kdump_compression compression;
	void *state;
};

/** Set up `codec` for `compression`. Returns 0, or -1 (out of memory, library failed to start). */
int kd_codec_init(struct kd_codec *codec, enum pt_kdump_compression compression);
/** Free its state. */
void kd_codec_deinit(struct kd_codec *codec);
/**
 * Compress `len` bytes (at most a page) into out[0..KD_CODEC_OUT_MAX). Returns the compressed
 * size, or 0 when the library failed.
 */
size_t kd_codec_compress(struct kd_codec *codec, const uint8_t *in, size_t len, uint8_t *out);

#endif
