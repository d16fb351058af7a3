/* SPDX-License-Identifier: MIT */
/*
 * fuzz/asan_options.c: AddressSanitizer's defaults for every fuzz build (ASAN_OPTIONS in the
 * environment still wins, key by key).
 *  - quarantine_size_mb=4 instead of 256: the quarantine keeps freed memory from being reused,
 *    but the targets allocate almost nothing per input (fuzz/input.c's arena), so what cycles
 *    through it is the engine's copy of each input; a large quarantine only made every run touch
 *    cold or fresh pages (256 MiB: a sixth of fuzz-walk's time and 400 MB of RSS; 32 MiB: cache
 *    misses on every copy). 4 MiB still holds the last few hundred inputs' buffers.
 *  - max_malloc_fill_size=0: no 0xbe fill of the first 4 KiB of every allocation (the engine's
 *    copy of the input is written over at once; a fresh page of it cost a page fault per run).
 *    Reads of uninitialised heap memory are MSan's to find, not ASan's.
 */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
	return "quarantine_size_mb=4:max_malloc_fill_size=0";
}
