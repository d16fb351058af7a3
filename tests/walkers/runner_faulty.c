/* SPDX-License-Identifier: MIT */
/*
 * tests/walkers/runner_faulty.c: walkers that misbehave, for the runner tests of `ptlab check`
 * (tests/test_check.sh). Each build defines one RUNNER_* and forwards everything else to
 * ptwalk_adapter.so (libptwalk as an adapter), so only the planted misbehaviour can fail:
 *   RUNNER_SEGV   a write to page 0 translating any VA whose low 12 bits are 0xff8
 *   RUNNER_HANG   an endless loop on those VAs
 *   RUNNER_PA0    PA 0 for every address (4-level only)
 *   RUNNER_EXIT   _exit(0) in open(): a walker that dies at once
 *   RUNNER_NOISY  prints to stdout in every translate() (ptlab's --json must stay clean)
 *   RUNNER_ABI    declares ABI 2
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ptlab/adapter.h"

/** ptwalk_adapter.so's descriptor (loaded once). */
static const struct ptlab_adapter *inner(void)
{
	static const struct ptlab_adapter *a;
	if (!a) {
		void *h = dlopen(PTWALK_ADAPTER_PATH, RTLD_NOW | RTLD_LOCAL);
		const struct ptlab_adapter *(*entry)(void);
		if (!h) {
			fprintf(stderr, "runner: %s\n", dlerror());
			abort();
		}
		*(void **)&entry = dlsym(h, "ptlab_adapter_v1");
		a = entry();
	}
	return a;
}

#if defined(RUNNER_SEGV)
/** An address in page 0, not NULL: a real SIGSEGV, not a sanitizer's null-pointer report. */
static volatile int *volatile page_zero = (volatile int *)16;
#endif

static void *faulty_open(const struct ptlab_cpu *cpu, ptlab_read_phys_fn read, void *ctx)
{
#if defined(RUNNER_EXIT)
	_exit(0);
#endif
	return inner()->open(cpu, read, ctx);
}

static int faulty_translate(void *w, uint64_t va, uint32_t access, struct ptlab_result *out)
{
	const int trigger = (va & 0xfff) == 0xff8;

#if defined(RUNNER_SEGV)
	if (trigger)
		*page_zero = 1;
#elif defined(RUNNER_HANG)
	while (trigger)
		usleep(1000);
#elif defined(RUNNER_PA0)
	memset(out, 0, sizeof(*out));
	out->mapped = 1;
	return 0;
#elif defined(RUNNER_NOISY)
	printf("runner_noisy: translating 0x%llx\n", (unsigned long long)va);
	fflush(stdout);
#endif
	(void)trigger;
	return inner()->translate(w, va, access, out);
}

static void faulty_close(void *w)
{
	inner()->close(w);
}

static struct ptlab_adapter adapter = {
	.abi = PTLAB_ADAPTER_ABI,
	.open = faulty_open,
	.translate = faulty_translate,
	.close = faulty_close,
};

const struct ptlab_adapter *ptlab_adapter_v1(void)
{
	adapter.caps = inner()->caps;
#if defined(RUNNER_SEGV)
	adapter.name = "runner-segv";
#elif defined(RUNNER_HANG)
	adapter.name = "runner-hang";
#elif defined(RUNNER_PA0)
	adapter.name = "runner-pa0";
	adapter.caps = PTLAB_CAP_IA32E_4;
#elif defined(RUNNER_EXIT)
	adapter.name = "runner-exit";
#elif defined(RUNNER_NOISY)
	adapter.name = "runner-noisy";
#elif defined(RUNNER_ABI)
	adapter.name = "runner-abi";
	adapter.abi = 2;
#else
#error "define one RUNNER_* (see the head of this file)"
#endif
	return &adapter;
}
