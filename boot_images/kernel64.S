/* SPDX-License-Identifier: MIT */
/*
 * ptlab boot image, kernel stage: what Linux's arch/x86/kernel/head_64.S (startup_64),
 * __startup_64 and x86_64_start_kernel do to the page tables, as the 4.14-era boot path is
 * described: statically initialised early_top_pgt / level3_kernel_pgt / level2_kernel_pgt /
 * level2_fixmap_pgt, the load_delta fix-up for a relocated (or KASLR) kernel, the identity map of
 * the load area in early_dynamic_pgts, the switch to the high virtual address, then init_top_pgt.
 * Written from that description and the x86 64-bit boot protocol; no Linux code.
 *
 * Entry (64-bit boot protocol): long mode, paging on with an identity map covering this image,
 * RSI = boot_params, interrupts off. Linked at 0xffffffff81000000, loadable at any 2 MiB-aligned
 * physical address; the loader applies the image's R_X86_64_64 relocations for a virtual offset
 * (as the decompressor applies vmlinux.relocs).
 *
 * Paging mode follows CR4: with CR4.LA57 (set by the decompressor when CPUID reports LA57) the top
 * table is a PML5 whose entry 511 points to level4_kernel_pgt, whose entry 511 is the usual
 * level3_kernel_pgt. With SME (CPUID 0x8000001F EAX[0] and SYSCFG MemEncryptionModeEn) every entry
 * written here and CR3 carry the C-bit (CPUID 0x8000001F EBX[5:0]).
 */

	.set	START_KERNEL_MAP, 0xffffffff80000000	/* __START_KERNEL_map */
	.set	PMD_SIZE, 0x200000
	.set	PTE_P, 0x1
	.set	PTE_PS, 0x80
	.set	PTE_G, 0x100
	.set	PAGE_TABLE, 0x67		/* _PAGE_TABLE_NOENC: P RW US A D */
	.set	KERNPG_TABLE, 0x63		/* _KERNPG_TABLE_NOENC: P RW A D */
	.set	LARGE_EXEC, 0x1e3		/* __PAGE_KERNEL_LARGE_EXEC: P RW A D PS G */
	.set	CR4_LA57, 0x1000
	.set	MSR_SYSCFG, 0xc0010010
	.set	SYSCFG_MEM_ENCRYPT, 0x800000	/* bit 23: MemEncryptionModeEn */
	.set	KERNEL_PMDS, 256		/* level2_kernel_pgt maps 512 MiB (KERNEL_IMAGE_SIZE) */
	.set	FIXMAP_PMD, 506			/* level2_fixmap_pgt slot of level1_fixmap_pgt */

	.section .head.text, "ax"
	.code64
	.globl	startup_64
startup_64:
	cld
	movq	%rsi, %r15			/* boot_params, kept for the record */
	leaq	boot_stack_end(%rip), %rsp	/* physical (identity-mapped) for now */

	/* ---- __startup_64(physaddr) ------------------------------------------------------ */
	leaq	_text(%rip), %rbp		/* physaddr: where _text really is */
	movabs	$_text, %rax			/* _text's (relocated) virtual address */
	movabs	$START_KERNEL_MAP, %rcx
	subq	%rcx, %rax			/* _text - __START_KERNEL_map */
	movq	%rbp, %r12
	subq	%rax, %r12			/* load_delta */
	testl	$(PMD_SIZE - 1), %r12d		/* must be 2 MiB aligned, else stop here */
	jnz	bad_load_address

	/* sme_enable: the C-bit mask, or 0 (r14). */
	xorl	%r14d, %r14d
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x8000001f, %eax
	jb	1f
	movl	$0x8000001f, %eax
	cpuid
	testl	$1, %eax			/* SME supported */
	jz	1f
	movl	%ebx, %esi			/* C-bit position, EBX[5:0] */
	movl	$MSR_SYSCFG, %ecx
	rdmsr
	testl	$SYSCFG_MEM_ENCRYPT, %eax
	jz	1f
	movl	%esi, %ecx
	andl	$0x3f, %ecx
	movl	$1, %r14d
	shlq	%cl, %r14			/* sme_me_mask */
1:	leaq	sme_me_mask(%rip), %rax
	movq	%r14, (%rax)

	/* Is CR4.LA57 on? (r13 = 1 for 5-level tables) */
	movq	%cr4, %rax
	xorl	%r13d, %r13d
	testl	$CR4_LA57, %eax
	setnz	%r13b

	/* Fix up the statically initialised entries by load_delta (and the C-bit). */
	leaq	early_top_pgt(%rip), %rdi
	testl	%r13d, %r13d
	jz	2f
	leaq	level4_kernel_pgt(%rip), %rsi
	addq	%r12, 511*8(%rsi)
	orq	%r14, 511*8(%rsi)
	leaq	PAGE_TABLE(%rsi), %rax		/* pgd[511] = __pa(level4_kernel_pgt) + _PAGE_TABLE */
	orq	%r14, %rax
	movq	%rax, 511*8(%rdi)
	jmp	3f
2:	addq	%r12, 511*8(%rdi)		/* pgd[511] += load_delta */
	orq	%r14, 511*8(%rdi)
3:	leaq	level3_kernel_pgt(%rip), %rsi
	addq	%r12, 510*8(%rsi)
	orq	%r14, 510*8(%rsi)
	addq	%r12, 511*8(%rsi)
	orq	%r14, 511*8(%rsi)
	leaq	level2_fixmap_pgt(%rip), %rsi
	addq	%r12, FIXMAP_PMD*8(%rsi)
	orq	%r14, FIXMAP_PMD*8(%rsi)

	/* The identity mapping of the load area for the switch-over, in early_dynamic_pgts:
	 * pgd[i], pgd[i+1] -> (p4d ->) pud; pud[j], pud[j+1] -> pmd; 2 MiB pages over the image,
	 * without the global bit. */
	leaq	early_dynamic_pgts(%rip), %r8	/* next free dynamic table */
	movq	%r8, %r9			/* pud (or p4d with LA57) */
	addq	$4096, %r8
	movq	$KERNPG_TABLE, %r10
	orq	%r14, %r10			/* pgtable_flags */
	testl	%r13d, %r13d
	jz	4f
	/* 5-level: pgd index = physaddr bits 56:48, p4d index = bits 47:39 */
	movq	%rbp, %rax
	shrq	$48, %rax
	andl	$511, %eax
	leaq	(%r9, %r10), %rdx
	movq	%rdx, (%rdi, %rax, 8)
	movq	%rdx, 8(%rdi, %rax, 8)
	movq	%r9, %rdi			/* from here the p4d plays the pgd's part */
	movq	%r8, %r9			/* the pud */
	addq	$4096, %r8
4:	movq	%rbp, %rax
	shrq	$39, %rax
	andl	$511, %eax
	leaq	(%r9, %r10), %rdx
	movq	%rdx, (%rdi, %rax, 8)
	movq	%rdx, 8(%rdi, %rax, 8)
	movq	%r8, %r11			/* the pmd */
	addq	$4096, %r8
	movq	%rbp, %rax
	shrq	$30, %rax
	andl	$511, %eax
	leaq	(%r11, %r10), %rdx
	movq	%rdx, (%r9, %rax, 8)
	movq	%rdx, 8(%r9, %rax, 8)
	/* pmd[physaddr/2M % 512 + k] = physaddr + k*2M | (LARGE_EXEC & ~G) | C, k over the image */
	leaq	_end(%rip), %rcx
	subq	%rbp, %rcx
	addq	$(PMD_SIZE - 1), %rcx
	shrq	$21, %rcx			/* DIV_ROUND_UP(_end - _text, PMD_SIZE) */
	movq	%rbp, %rax
	shrq	$21, %rax
	andl	$511, %eax
	leaq	(%r11, %rax, 8), %rdi
	movq	$(LARGE_EXEC & ~PTE_G), %rdx
	orq	%r14, %rdx
	addq	%rbp, %rdx
5:	movq	%rdx, (%rdi)
	addq	$8, %rdi
	addq	$PMD_SIZE, %rdx
	decq	%rcx
	jnz	5b
	leaq	next_early_pgt(%rip), %rax
	movq	%r8, (%rax)

	/* level2_kernel_pgt: every present entry += load_delta (and the C-bit). */
	leaq	level2_kernel_pgt(%rip), %rdi
	movl	$512, %ecx
6:	testb	$PTE_P, (%rdi)
	jz	7f
	addq	%r12, (%rdi)
	orq	%r14, (%rdi)
7:	addq	$8, %rdi
	decl	%ecx
	jnz	6b

	/* phys_base += load_delta (phys_base is what __pa() of a kernel-image address adds). */
	leaq	phys_base(%rip), %rax
	addq	%r12, (%rax)

	/* ---- back in head_64: CR3 = early_top_pgt, then go to the virtual address ---------- */
	movabs	$early_top_pgt, %rax
	movabs	$START_KERNEL_MAP, %rcx
	subq	%rcx, %rax			/* early_top_pgt - __START_KERNEL_map */
	addq	phys_base(%rip), %rax
	orq	%r14, %rax
	movq	%rax, %cr3
	movabs	$high, %rax
	jmp	*%rax

	.text
high:
	/* Running at the kernel's virtual address now. */
	movabs	$boot_stack_end, %rsp
	/* x86_64_start_kernel: the kernel half of init_top_pgt is early_top_pgt's, then load it. */
	leaq	init_top_pgt(%rip), %rdi
	xorl	%eax, %eax
	movl	$512, %ecx
	rep stosq				/* clear_page(init_top_pgt) */
	movq	early_top_pgt+511*8(%rip), %rax
	movq	%rax, init_top_pgt+511*8(%rip)
	movabs	$init_top_pgt, %rax
	movabs	$START_KERNEL_MAP, %rcx
	subq	%rcx, %rax
	addq	phys_base(%rip), %rax
	orq	sme_me_mask(%rip), %rax
	movq	%rax, %cr3
	.globl	ptlab_stop
ptlab_stop:
	hlt
	jmp	ptlab_stop

bad_load_address:
	hlt
	jmp	bad_load_address

	.section .rodata
	.globl	linux_banner
linux_banner:
	.asciz	"Linux version 4.14.0-ptlab (ptlab@build) (synthetic head_64 boot image) #1 SMP\n"

	.data
	.balign	8
	.globl	phys_base, sme_me_mask, next_early_pgt
phys_base:
	.quad	0
sme_me_mask:
	.quad	0
next_early_pgt:
	.quad	0

	/* ---- the page tables (head_64.S's NEXT_PAGE tables) ------------------------------ */
	.balign	4096
	.globl	early_top_pgt
early_top_pgt:
	.fill	511, 8, 0
	.quad	level3_kernel_pgt - START_KERNEL_MAP + PAGE_TABLE

	.balign	4096
	.globl	init_top_pgt
init_top_pgt:
	.fill	512, 8, 0

	.balign	4096
	.globl	level4_kernel_pgt
level4_kernel_pgt:
	.fill	511, 8, 0
	.quad	level3_kernel_pgt - START_KERNEL_MAP + PAGE_TABLE

	.balign	4096
	.globl	level3_kernel_pgt
level3_kernel_pgt:
	.fill	510, 8, 0
	.quad	level2_kernel_pgt - START_KERNEL_MAP + KERNPG_TABLE
	.quad	level2_fixmap_pgt - START_KERNEL_MAP + PAGE_TABLE

	.balign	4096
	.globl	level2_kernel_pgt
level2_kernel_pgt:
	/* 512 MiB of 2 MiB pages: VA __START_KERNEL_map + i*2M -> PA i*2M (before the fix-up) */
	.set	i, 0
	.rept	KERNEL_PMDS
	.quad	i * PMD_SIZE + LARGE_EXEC
	.set	i, i + 1
	.endr
	.fill	512 - KERNEL_PMDS, 8, 0

	.balign	4096
	.globl	level2_fixmap_pgt
level2_fixmap_pgt:
	.fill	FIXMAP_PMD, 8, 0
	.quad	level1_fixmap_pgt - START_KERNEL_MAP + PAGE_TABLE
	.fill	512 - FIXMAP_PMD - 1, 8, 0

	.balign	4096
	.globl	level1_fixmap_pgt
level1_fixmap_pgt:
	.fill	512, 8, 0

	.bss
	.balign	4096
	.globl	early_dynamic_pgts
early_dynamic_pgts:
	.skip	64 * 4096			/* EARLY_DYNAMIC_PAGE_TABLES */
boot_stack:
	.skip	16384
boot_stack_end:

	.section .note.GNU-stack, "", @progbits
