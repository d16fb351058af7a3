/* SPDX-License-Identifier: MIT */
/*
 * fuzz/asan_options.c: AddressSanitizer's defaults for every fuzz build (ASAN_OPTIONS in the
 * environment still wins, key by key). The quarantine that keeps freed memory from being reused
 * is 32 MiB instead of 256: the targets allocate almost nothing per input (fuzz/input.c's arena),
 * so what cycles through it is the engine's copy of each input, and a 256 MiB quarantine only
 * made every run fault in fresh pages (a sixth of fuzz-walk's time) and hold 400 MB of RSS.
 */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
	return "quarantine_size_mb=32";
}
