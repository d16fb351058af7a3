/* SPDX-License-Identifier: MIT */
/*
 * ptlab adapter.h: the C ABI through which `ptlab check --adapter WALKER.so` drives a page-table
 * walker that is not ptlab's (docs/conformance.md; the contract is fixed: names, types and values
 * only ever grow, with a new ABI number for a change).
 *
 * A walker shared object exports one function, ptlab_adapter_v1(), returning a static descriptor.
 * For each case ptlab calls open() with the CPU state and a physical-memory reader over the case's
 * dump, translate() for every probe, and close(). The walker runs in a child process: a crash
 * fails the case, it does not stop the run.
 *
 * Build a walker:  cc -shared -fPIC -o mywalker.so mywalker.c $(pkg-config --cflags ptwalk)
 */
#ifndef PTLAB_ADAPTER_H
#define PTLAB_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI this header describes; ptlab refuses a descriptor whose `abi` differs. */
#define PTLAB_ADAPTER_ABI 1

/* ptlab supplies this: read guest-physical memory. 0: all of [pa, pa+len) read;
   -1: some of it is not in the dump (a hole). */
typedef int (*ptlab_read_phys_fn)(void *ctx, uint64_t pa, void *buf, size_t len);

/** The paging mode of a case (SDM Vol. 3A 4.1.1, Table 4-1). */
enum ptlab_paging { PTLAB_PAGING_LEGACY32 = 1, PTLAB_PAGING_PAE = 2,
                    PTLAB_PAGING_IA32E_4 = 3, PTLAB_PAGING_IA32E_5 = 4 };

/** The CPU state a walker translates under. */
struct ptlab_cpu {
    uint32_t paging;         /* enum ptlab_paging */
    uint32_t maxphyaddr;     /* CPUID.80000008H:EAX[7:0] */
    uint64_t cr0, cr3, cr4, efer;
    uint64_t pdpte[4];       /* PAE only: the PDPTE registers as loaded at the last CR3 write */
    uint32_t pkru;
    uint32_t sme_cbit;       /* C-bit position, 0 = none; read it only if you declare PTLAB_CAP_SME_CBIT */
};

/* Access flags of translate(). */
#define PTLAB_ACCESS_WRITE 1u   /* else a read */
#define PTLAB_ACCESS_USER  2u   /* else a supervisor access */
#define PTLAB_ACCESS_FETCH 4u   /* an instruction fetch */
#define PTLAB_ACCESS_CHECK 8u   /* apply the access-rights checks; without it: pure translation */

/** One answer of translate(). */
struct ptlab_result {
    uint32_t mapped;         /* 1: translates, pa valid; 0: does not */
    uint32_t pf_error;       /* when !mapped and the walker models faults: the #PF error code */
    uint64_t pa;
    uint64_t page_size;      /* 4 KiB, 2 MiB, 4 MiB or 1 GiB; 0 when the walker does not say */
};

/* What a walker can do; ptlab runs only the cases it declares. */
#define PTLAB_CAP_LEGACY32 (1u << 0)
#define PTLAB_CAP_PAE      (1u << 1)
#define PTLAB_CAP_IA32E_4  (1u << 2)
#define PTLAB_CAP_IA32E_5  (1u << 3)
#define PTLAB_CAP_RIGHTS   (1u << 4)   /* honours PTLAB_ACCESS_CHECK */
#define PTLAB_CAP_PF_ERROR (1u << 5)   /* fills pf_error */
#define PTLAB_CAP_PAGE_SIZE (1u << 6)  /* fills page_size */
/* An extension of ABI 1 (fields and bits only ever added at the end): the walker strips the AMD
   SME C-bit (struct ptlab_cpu.sme_cbit) from CR3 and every entry. Without it, cases whose tables
   carry a C-bit are "unsupported". */
#define PTLAB_CAP_SME_CBIT (1u << 7)

/**
 * A walker. open() returns NULL when the walker cannot handle that CPU state (the case is then
 * "unsupported", not failed). translate() returns 0 when it answered, -1 when it could not (an
 * error of the walker: a failure). Pure translation (no PTLAB_ACCESS_CHECK): present bits, page
 * sizes, reserved bits, canonical form and the frame arithmetic decide; the rights do not.
 */
struct ptlab_adapter {
    uint32_t abi;            /* PTLAB_ADAPTER_ABI */
    uint32_t caps;           /* PTLAB_CAP_* */
    const char *name;
    void *(*open)(const struct ptlab_cpu *cpu, ptlab_read_phys_fn read, void *read_ctx);
    int (*translate)(void *walker, uint64_t va, uint32_t access, struct ptlab_result *out);
    void (*close)(void *walker);
};

/* The one symbol ptlab looks up: */
const struct ptlab_adapter *ptlab_adapter_v1(void);

#ifdef __cplusplus
}
#endif
#endif
