/* SPDX-License-Identifier: MIT */
/*
 * ptlab boot image, 32-bit kernel: what Linux's arch/x86/kernel/head_32.S (startup_32) and then
 * setup_arch()/paging_init() do to the page tables of an i386 kernel, as the 4.14-era boot path
 * is described: head_32 builds initial_page_table from page tables taken at __brk_base, mapping
 * low memory both at 0 (the identity map it needs to turn paging on) and at PAGE_OFFSET, plus the
 * fixmap's page table; it turns paging on and continues at PAGE_OFFSET; setup_arch copies the
 * kernel part of initial_page_table into swapper_pg_dir and loads it; when the CPU has PSE,
 * kernel_physical_mapping_init remaps lowmem with large pages. Written from that description,
 * the x86 boot protocol (Documentation/x86/boot.txt) and the Intel SDM vol. 3A ch. 4; no Linux
 * code.
 *
 * Entry (32-bit boot protocol, boot.txt "32-bit BOOT PROTOCOL"): protected mode, paging off,
 * CS = __BOOT_CS (0x10) and DS/ES/SS = __BOOT_DS (0x18) flat 4 GiB segments, ESI = the
 * boot_params ("zero page"), EBP/EDI/EBX = 0, interrupts off; at the physical address of
 * startup_32. Linked at PAGE_OFFSET + 16 MiB (LOAD_PHYSICAL_ADDR 0x1000000) and run first at
 * physical addresses, so every reference before paging is pa(x) = x - PAGE_OFFSET. Relocatable
 * as an i386 kernel is: the loader adds one offset to every absolute 32-bit field (the image's
 * relocations), which moves the virtual and the physical addresses together.
 *
 * One source, several images (CMakeLists.txt assembles it once per variant):
 *   PAGE_OFFSET  __PAGE_OFFSET: 0xC0000000 (VMSPLIT_3G), 0x80000000 (2G), 0x40000000 (1G); the
 *                linker script gets the same value with --defsym __PAGE_OFFSET=...
 *   X86_PAE      1: CONFIG_X86_PAE (a 4-entry PDPT, PMDs and PTEs of 8 bytes, CR4.PAE);
 *                0: 2-level 32-bit paging (a page directory and page tables of 4-byte entries)
 *   LARGE_PAGES  1: the "CPU has PSE" path of paging_init: swapper_pg_dir maps lowmem with
 *                4 MiB pages (2 MiB under PAE) and CR4.PSE|PGE are set; 0: swapper_pg_dir keeps
 *                head_32's 4 KiB page tables.
 */

#if !defined(PAGE_OFFSET) || !defined(X86_PAE) || !defined(LARGE_PAGES)
#error "kernel32.S needs -DPAGE_OFFSET=... -DX86_PAE=0|1 -DLARGE_PAGES=0|1"
#endif

/* Physical address of a kernel symbol as linked (the loader's relocations shift both). */
#define pa(x) ((x) - PAGE_OFFSET)

	.set	BOOT_CS, 0x10			/* __BOOT_CS: boot protocol code segment */
	.set	BOOT_DS, 0x18			/* __BOOT_DS */
	.set	KERNEL_CS, 0x60			/* __KERNEL_CS: GDT_ENTRY_KERNEL_CS = 12 */
	.set	KERNEL_DS, 0x68			/* __KERNEL_DS: GDT_ENTRY_KERNEL_DS = 13 */
	.set	GDT_ENTRIES, 32

	.set	PARAM_SIZE, 4096		/* sizeof(struct boot_params) */
	.set	BP_E820_ENTRIES, 0x1e8		/* boot_params.e820_entries (u8) */
	.set	BP_E820_TABLE, 0x2d0		/* boot_params.e820_table[]: {u64 addr, size; u32 type} */
	.set	E820_ENTRY_SIZE, 20
	.set	E820_RAM, 1

	.set	PTE_IDENT_ATTR, 0x003		/* P RW: head_32's early 4 KiB pages */
	.set	PDE_IDENT_ATTR, 0x063		/* P RW A D: a page directory / PMD entry */
	.set	PGD_IDENT_ATTR, 0x001		/* P: a PAE PDPTE (RW, US are reserved there, SDM 4.4.1) */
	.set	LARGE_PAGE_ATTR, 0x1e3		/* __PAGE_KERNEL_LARGE_EXEC: P RW A D PS G */
	.set	CR0_STATE, 0x80050033		/* PE MP ET NE WP AM PG */
	.set	CR4_PSE, 0x10
	.set	CR4_PAE, 0x20
	.set	CR4_PGE, 0x80
	.set	CPUID1_EDX_PSE, 3		/* bit numbers in CPUID.01H:EDX */
	.set	CPUID1_EDX_PAE, 6
	.set	CPUID1_EDX_PGE, 13
	.set	CPUIDX1_EDX_NX, 20		/* CPUID.80000001H:EDX */
	.set	MSR_EFER, 0xc0000080
	.set	EFER_NX, 11			/* bit number */

	/* Lowmem: the kernel's share of the 4 GiB, less the 128 MiB vmalloc reserve (the
	 * classic 896 MiB of a 3G/1G split); the direct map never goes beyond MAXMEM. */
	.set	LOWMEM_SPAN, 0x100000000 - PAGE_OFFSET
	.set	LOWMEM_PAGES, LOWMEM_SPAN >> 12
	.set	VMALLOC_RESERVE, 0x8000000
	.set	MAXMEM, LOWMEM_SPAN - VMALLOC_RESERVE

#if X86_PAE
	.set	KERNEL_PGD_BOUNDARY, PAGE_OFFSET >> 30	/* first kernel PDPTE */
	.set	KPMDS, (LOWMEM_SPAN >> 30) & 3		/* kernel PMD pages: 1, 2 or 3 */
	.set	PTE_PER_PAGE, 512
	.set	ENTRY_SIZE, 8
	.set	LARGE_SHIFT, 21				/* a PMD entry maps 2 MiB */
	/* PAGE_TABLE_SIZE(pages) = pages / PTRS_PER_PMD + PTRS_PER_PGD */
	.set	PAGE_TABLE_PAGES, LOWMEM_PAGES / 512 + 4
#else
	.set	KERNEL_PGD_BOUNDARY, PAGE_OFFSET >> 22	/* first kernel PDE */
	.set	PTE_PER_PAGE, 1024
	.set	ENTRY_SIZE, 4
	.set	LARGE_SHIFT, 22				/* a PDE maps 4 MiB */
	/* PAGE_TABLE_SIZE(pages) = pages / PTRS_PER_PGD */
	.set	PAGE_TABLE_PAGES, LOWMEM_PAGES / 1024
#endif
	/* The early map goes past _end by the page tables that could map all of lowmem, which is
	 * also what RESERVE_BRK(pagetables, INIT_MAP_SIZE) sets aside for them. */
	.set	MAPPING_BEYOND_END, PAGE_TABLE_PAGES << 12
	.set	INIT_MAP_SIZE, PAGE_TABLE_PAGES << 12

	.section .head.text, "ax"
	.code32
	.globl	startup_32
startup_32:
	cld
	/* Our own boot GDT: the boot protocol promises flat segments, not that the loader's GDT
	 * stays around. Reload every data segment from it. */
	lgdt	pa(boot_gdt_descr)
	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%eax, %ss
	movl	$pa(init_stack_end), %esp	/* physical for now; moved to PAGE_OFFSET below */

	/* Clear the BSS first (nothing in it may be trusted before). The brk is not part of it:
	 * every brk page used below is written in full. */
	xorl	%eax, %eax
	movl	$pa(__bss_start), %edi
	movl	$pa(__bss_stop), %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	rep stosl

	/* Copy the boot_params out of the loader's memory into the kernel's own boot_params,
	 * as head_32 does before anything can overwrite them. */
	movl	$pa(boot_params), %edi
	movl	$(PARAM_SIZE / 4), %ecx
	rep movsl

#if X86_PAE
	/* A PAE kernel needs CPUID.01H:EDX.PAE (the setup code's verify_cpu refuses to boot
	 * without it); stop here rather than fault later. */
	movl	$1, %eax
	cpuid
	btl	$CPUID1_EDX_PAE, %edx
	jnc	no_cpu_feature

	/* ---- the early page tables, PAE ---------------------------------------------------
	 * initial_page_table is the PDPT (statically initialised below: PDPTE 0 and the kernel
	 * PDPTEs point to the KPMDS pages of initial_pg_pmd). Fill initial_pg_pmd from its
	 * first entry with page tables taken from __brk_base, each mapping 2 MiB with 4 KiB
	 * pages from physical 0 up, until pa(_end) + MAPPING_BEYOND_END is covered. Every
	 * entry's upper half (physical address bits 63:32, XD) is 0: all of this is below 4 GiB. */
	movl	$pa(__brk_base), %edi		/* next free page table */
	movl	$pa(initial_pg_pmd), %edx	/* next PMD entry */
	movl	$PTE_IDENT_ATTR, %eax		/* next PTE: physical 0, P RW */
	xorl	%ebx, %ebx			/* the upper halves */
1:	leal	PDE_IDENT_ATTR(%edi), %ecx	/* PMD entry -> this page table */
	movl	%ecx, 0(%edx)
	movl	%ebx, 4(%edx)
	addl	$8, %edx
	movl	$PTE_PER_PAGE, %ecx
2:	movl	%eax, 0(%edi)			/* PTE: the next 4 KiB of physical memory */
	movl	%ebx, 4(%edi)
	addl	$8, %edi
	addl	$0x1000, %eax
	decl	%ecx
	jnz	2b
	cmpl	$(pa(_end) + MAPPING_BEYOND_END + PTE_IDENT_ATTR), %eax
	jb	1b
	/* The fixmap: its page table in the last entry of the last kernel PMD (top 2 MiB). */
	movl	$(pa(initial_pg_fixmap) + PDE_IDENT_ATTR), %ecx
	movl	%ecx, pa(initial_pg_pmd + 0x1000 * KPMDS - 8)
#else
	/* ---- the early page tables, 2-level ---------------------------------------------
	 * initial_page_table is the page directory. Each page table taken from __brk_base maps
	 * 4 MiB with 4 KiB pages from physical 0 up; it goes into PDE i (the identity map) and
	 * into PDE KERNEL_PGD_BOUNDARY + i (the same memory at PAGE_OFFSET), until
	 * pa(_end) + MAPPING_BEYOND_END is covered. */
	movl	$pa(__brk_base), %edi		/* next free page table */
	movl	$pa(initial_page_table), %edx	/* next identity PDE */
	movl	$PTE_IDENT_ATTR, %eax		/* next PTE: physical 0, P RW */
1:	leal	PDE_IDENT_ATTR(%edi), %ecx	/* PDE -> this page table */
	movl	%ecx, 0(%edx)			/* at 0 */
	movl	%ecx, (KERNEL_PGD_BOUNDARY * 4)(%edx)	/* and at PAGE_OFFSET */
	addl	$4, %edx
	movl	$PTE_PER_PAGE, %ecx
2:	movl	%eax, 0(%edi)			/* PTE: the next 4 KiB of physical memory */
	addl	$4, %edi
	addl	$0x1000, %eax
	decl	%ecx
	jnz	2b
	cmpl	$(pa(_end) + MAPPING_BEYOND_END + PTE_IDENT_ATTR), %eax
	jb	1b
	/* The fixmap: its page table in the last PDE (top 4 MiB). */
	movl	$(pa(initial_pg_fixmap) + PDE_IDENT_ATTR), %ecx
	movl	%ecx, pa(initial_page_table + 4 * 1023)
#endif
	/* What was used: _brk_end (a virtual address, as the kernel keeps it) and
	 * max_pfn_mapped (the first frame the early map does not reach). */
	addl	$PAGE_OFFSET, %edi
	movl	%edi, pa(_brk_end)
	shrl	$12, %eax
	movl	%eax, pa(max_pfn_mapped)

#if X86_PAE
	/* CR4.PAE before CR0.PG: with PG set and PAE clear the PDPT would be read as a page
	 * directory (SDM 4.1.1). */
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	/* NX: when CPUID.80000001H:EDX.NX is there, turn on EFER.NX. ptlab's 32-bit CPU reports
	 * no NX (and Unicorn 2.0.1 could not set EFER.NXE anyway), so this is not taken. */
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	3f
	movl	$0x80000001, %eax
	cpuid
	btl	$CPUIDX1_EDX_NX, %edx
	jnc	3f
	movl	$MSR_EFER, %ecx
	rdmsr
	btsl	$EFER_NX, %eax
	wrmsr
3:
#endif
	/* Paging on: CR3 = the early table (for PAE the PDPT, 32-byte aligned as SDM 4.4.1
	 * wants; the PDPTEs are loaded now), then CR0.PG with WP (and PE, NE, ... kept). The
	 * identity map covers the instructions that follow; the far jump then continues at
	 * PAGE_OFFSET (and serialises). */
	movl	$pa(initial_page_table), %eax
	movl	%eax, %cr3
	movl	$CR0_STATE, %eax
	movl	%eax, %cr0
	ljmp	$BOOT_CS, $startup_32_high

no_cpu_feature:
	/* A feature this kernel needs is missing: the kernel would stop with a message. */
	hlt
	jmp	no_cpu_feature

	.text
startup_32_high:
	/* Running at PAGE_OFFSET + physical now. */
	addl	$PAGE_OFFSET, %esp		/* the stack at its virtual address */
	/* The kernel's GDT (gdt_page through early_gdt_descr, a virtual address), and the
	 * kernel segments from it. */
	lgdt	early_gdt_descr
	ljmp	$KERNEL_CS, $1f
1:	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs

	/* ---- setup_arch: swapper_pg_dir -------------------------------------------------- */
#if X86_PAE
	/* Copy the PDPTEs into swapper_pg_dir: the kernel ones (clone_pgd_range from
	 * KERNEL_PGD_BOUNDARY) and, as this image keeps it, PDPTE 0 with the identity map of
	 * low memory. They point to the same PMDs as initial_page_table's. */
	movl	$initial_page_table, %esi
	movl	$swapper_pg_dir, %edi
	movl	$(4 * 8 / 4), %ecx
	rep movsl
#else
	/* clone_pgd_range(swapper_pg_dir + KERNEL_PGD_BOUNDARY, initial_page_table +
	 * KERNEL_PGD_BOUNDARY, KERNEL_PGD_PTRS): the kernel half only; swapper_pg_dir's user
	 * half (and so the identity map) stays empty. */
	movl	$(initial_page_table + 4 * KERNEL_PGD_BOUNDARY), %esi
	movl	$(swapper_pg_dir + 4 * KERNEL_PGD_BOUNDARY), %edi
	movl	$(1024 - KERNEL_PGD_BOUNDARY), %ecx
	rep movsl
#endif
	/* load_cr3(swapper_pg_dir) */
	movl	$pa(swapper_pg_dir), %eax
	movl	%eax, %cr3

#if LARGE_PAGES
	/* ---- paging_init / kernel_physical_mapping_init with PSE --------------------------
	 * boot_cpu_has(X86_FEATURE_PSE) and (PGE): set CR4.PSE (large PDEs honoured in 2-level
	 * paging, SDM 4.3; PAE honours PS in a PDE regardless) and CR4.PGE (the G bit of the
	 * kernel mappings), before any PS entry exists. */
	movl	$1, %eax
	cpuid
	btl	$CPUID1_EDX_PSE, %edx
	jnc	no_cpu_feature
	btl	$CPUID1_EDX_PGE, %edx
	jnc	no_cpu_feature
	movl	%cr4, %eax
	orl	$(CR4_PSE | CR4_PGE), %eax
	movl	%eax, %cr4

	/* max_low_pfn: the end of RAM in the e820 map of boot_params (the highest end of a
	 * usable entry), capped at MAXMEM, in whole large pages. An entry ending at or above
	 * 4 GiB counts as reaching MAXMEM. */
	xorl	%ebx, %ebx			/* highest end so far */
	movzbl	boot_params + BP_E820_ENTRIES, %ecx
	movl	$(boot_params + BP_E820_TABLE), %esi
	testl	%ecx, %ecx
	jz	4f
2:	cmpl	$E820_RAM, 16(%esi)
	jne	3f
	movl	0(%esi), %eax			/* end = addr + size, 64 bits */
	movl	4(%esi), %edx
	addl	8(%esi), %eax
	adcl	12(%esi), %edx
	jz	5f
	movl	$MAXMEM, %eax			/* at or above 4 GiB */
5:	cmpl	%ebx, %eax
	jbe	3f
	movl	%eax, %ebx
3:	addl	$E820_ENTRY_SIZE, %esi
	decl	%ecx
	jnz	2b
4:	cmpl	$MAXMEM, %ebx
	jbe	6f
	movl	$MAXMEM, %ebx
6:	andl	$~((1 << LARGE_SHIFT) - 1), %ebx
	movl	%ebx, %eax
	shrl	$12, %eax
	movl	%eax, max_low_pfn

	/* PAGE_OFFSET + x -> x for x below the lowmem end, one large page per entry, in the
	 * kernel part of swapper_pg_dir: its PDEs from KERNEL_PGD_BOUNDARY (2-level), or the
	 * kernel PMDs its kernel PDPTEs point to (PAE: initial_pg_pmd, KPMDS pages in a row,
	 * shared with initial_page_table and with PDPTE 0's identity map). */
#if X86_PAE
	movl	$initial_pg_pmd, %edi
#else
	movl	$(swapper_pg_dir + 4 * KERNEL_PGD_BOUNDARY), %edi
#endif
	movl	$LARGE_PAGE_ATTR, %eax		/* entry for physical 0 */
	xorl	%edx, %edx
	testl	%ebx, %ebx
	jz	8f
7:	movl	%eax, 0(%edi)
#if X86_PAE
	movl	%edx, 4(%edi)			/* upper half 0 */
#endif
	addl	$ENTRY_SIZE, %edi
	addl	$(1 << LARGE_SHIFT), %eax
	movl	%eax, %ecx
	andl	$~0xfff, %ecx
	cmpl	%ebx, %ecx
	jb	7b
8:
	/* __flush_tlb_all: entries under the running code changed (to the same translation);
	 * reloading CR3 drops the old 4 KiB ones (none had G). */
	movl	$pa(swapper_pg_dir), %eax
	movl	%eax, %cr3
#endif

	/* The state ptlab dumps: swapper_pg_dir loaded. */
	.globl	ptlab_stop
ptlab_stop:
	hlt
	jmp	ptlab_stop

	.section .rodata
	.globl	linux_banner
linux_banner:
#if X86_PAE
	.asciz	"Linux version 4.14.0-ptlab-686-pae (ptlab@build) (synthetic head_32 boot image) #1 SMP\n"
#else
	.asciz	"Linux version 4.14.0-ptlab-686 (ptlab@build) (synthetic head_32 boot image) #1 SMP\n"
#endif

	.data
#if X86_PAE
	/* The PAE initial_page_table is a PDPT, statically initialised: PDPTE 0 maps low memory
	 * at 0 through the first kernel PMD; PDPTE j >= KERNEL_PGD_BOUNDARY -> kernel PMD
	 * j - KERNEL_PGD_BOUNDARY. (With PAGE_OFFSET 0x40000000, PDPTEs 0 and 1 share a PMD.) */
	.balign	4096
	.globl	initial_page_table
initial_page_table:
	.long	pa(initial_pg_pmd) + PGD_IDENT_ATTR, 0
	.set	j, 1
	.rept	3
	.if	j >= KERNEL_PGD_BOUNDARY
	.long	pa(initial_pg_pmd) + (j - KERNEL_PGD_BOUNDARY) * 0x1000 + PGD_IDENT_ATTR, 0
	.else
	.long	0, 0
	.endif
	.set	j, j + 1
	.endr
#endif

	/* The boot GDT, used at physical addresses: __BOOT_CS and __BOOT_DS, flat 4 GiB. */
	.balign	8
	.globl	boot_gdt
boot_gdt:
	.quad	0
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x10: code, base 0, limit 4 GiB, 32-bit, readable */
	.quad	0x00cf92000000ffff		/* 0x18: data, base 0, limit 4 GiB, writable */
boot_gdt_end:
	.balign	4
	.word	0
	.globl	boot_gdt_descr
boot_gdt_descr:
	.word	boot_gdt_end - boot_gdt - 1
	.long	pa(boot_gdt)

	/* The kernel's GDT (gdt_page) with __KERNEL_CS and __KERNEL_DS. */
	.balign	8
	.globl	gdt_page
gdt_page:
	.fill	12, 8, 0
	.quad	0x00cf9a000000ffff		/* 0x60: __KERNEL_CS */
	.quad	0x00cf92000000ffff		/* 0x68: __KERNEL_DS */
	.fill	GDT_ENTRIES - 14, 8, 0
	.balign	4
	.word	0
	.globl	early_gdt_descr
early_gdt_descr:
	.word	GDT_ENTRIES * 8 - 1
	.long	gdt_page			/* a virtual address: loaded with paging on */

	.bss
	.balign	4096
#if X86_PAE
	.globl	initial_pg_pmd
initial_pg_pmd:
	.skip	4096 * KPMDS
#else
	.globl	initial_page_table
initial_page_table:
	.skip	4096
#endif
	.globl	initial_pg_fixmap
initial_pg_fixmap:
	.skip	4096
	.globl	swapper_pg_dir
swapper_pg_dir:
	.skip	4096				/* PAE: the 4 PDPTEs, page aligned */
	.globl	boot_params
boot_params:
	.skip	PARAM_SIZE
init_stack:
	.skip	8192
init_stack_end:
	.globl	max_pfn_mapped, _brk_end, max_low_pfn
max_pfn_mapped:
	.skip	4
_brk_end:
	.skip	4
max_low_pfn:
	.skip	4

	/* RESERVE_BRK(pagetables, INIT_MAP_SIZE): room for page tables mapping all of lowmem. */
	.section .brk, "aw", @nobits
	.balign	4096
	.skip	INIT_MAP_SIZE

	.section .note.GNU-stack, "", @progbits
