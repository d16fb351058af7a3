/* SPDX-License-Identifier: MIT */
/*
 * ptlab boot image, decompressor stage: what Linux's arch/x86/boot/compressed/head_64.S startup_32
 * does before it decompresses, as the 4.14-era boot path is described: entered in 32-bit protected
 * mode per the 32-bit boot protocol (flat 4 GiB segments, paging off, interrupts off,
 * ESI = boot_params), it finds its own load address, checks for long mode, builds an identity map
 * of the first 4 GiB with 2 MiB pages (one PML4, one PDPT with 4 entries, 4 page directories;
 * a PML5 above them when CPUID reports LA57), sets CR4.PAE, loads CR3, sets EFER.LME and CR0.PG,
 * and far-returns into 64-bit code. That code "extracts" the kernel: the loader has already
 * placed it, and boot_params.hdr.pref_address (offset 0x258) holds where, standing in for
 * extract_kernel()'s return value; it jumps there with RSI = boot_params.
 * Written from the boot protocol (Documentation/x86/boot.txt) and the SDM; no Linux code.
 * Linked at 0: every address is taken relative to the load address found at run time.
 */

	.set	BP_SCRATCH, 0x1e4		/* boot_params.scratch: a 4-byte stack for the call */
	.set	BP_PREF_ADDRESS, 0x258		/* boot_params.hdr.pref_address */
	.set	KERNEL_CS, 0x10
	.set	KERNEL_DS, 0x18
	.set	MSR_EFER, 0xc0000080
	.set	EFER_LME, 8			/* bit number */
	.set	CR4_PAE, 0x20
	.set	CR4_LA57, 0x1000
	.set	IDENT_PMD, 0x183		/* P RW PS G: Linux's compressed head_64 identity flags */
	.set	IDENT_TABLE, 0x7		/* P RW US */
	.set	PGTABLE_PAGES, 7		/* PML4, PDPT, 4 PDs, PML5 */

	.text
	.code32
	.globl	startup_32
startup_32:
	cld
	cli
	/* Find where we run: call/pop through the 4-byte scratch stack in boot_params. */
	leal	(BP_SCRATCH + 4)(%esi), %esp
	call	1f
1:	popl	%ebp
	subl	$1b, %ebp			/* ebp = load address */

	leal	boot_stack_end(%ebp), %esp

	/* verify_cpu: long mode must be there (CPUID 0x80000001 EDX bit 29). */
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	no_longmode
	movl	$0x80000001, %eax
	cpuid
	btl	$29, %edx
	jnc	no_longmode

	/* Clear the page-table area. */
	leal	pgtable(%ebp), %edi
	xorl	%eax, %eax
	movl	$(PGTABLE_PAGES * 4096 / 4), %ecx
	rep stosl

	/* PML4[0] -> PDPT */
	leal	pgtable(%ebp), %edi
	leal	(pgtable + 0x1000 + IDENT_TABLE)(%ebp), %eax
	movl	%eax, 0(%edi)

	/* PDPT[0..3] -> the four page directories */
	leal	(pgtable + 0x1000)(%ebp), %edi
	leal	(pgtable + 0x2000 + IDENT_TABLE)(%ebp), %eax
	movl	$4, %ecx
2:	movl	%eax, 0(%edi)
	addl	$0x1000, %eax
	addl	$8, %edi
	decl	%ecx
	jnz	2b

	/* 2048 PDEs: 2 MiB pages over 0..4 GiB */
	leal	(pgtable + 0x2000)(%ebp), %edi
	movl	$IDENT_PMD, %eax
	movl	$2048, %ecx
3:	movl	%eax, 0(%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	decl	%ecx
	jnz	3b

	/* Top table: the PML4, or a PML5 whose entry 0 is the PML4 when CPUID.7.0:ECX.LA57[16].
	 * CPUID clobbers EAX..EDX: the choice is kept in EDI (0 or 1) until it is used. */
	xorl	%edi, %edi
	xorl	%eax, %eax
	cpuid
	cmpl	$7, %eax
	jb	4f
	movl	$7, %eax
	xorl	%ecx, %ecx
	cpuid
	btl	$16, %ecx
	jnc	4f
	movl	$1, %edi
4:	leal	pgtable(%ebp), %ebx
	movl	$CR4_PAE, %edx
	testl	%edi, %edi
	jz	5f
	leal	(pgtable + 0x6000)(%ebp), %ebx
	leal	(pgtable + IDENT_TABLE)(%ebp), %eax
	movl	%eax, 0(%ebx)
	movl	$(CR4_PAE | CR4_LA57), %edx
5:
	/* Enable PAE (and LA57) */
	movl	%cr4, %eax
	orl	%edx, %eax
	movl	%eax, %cr4

	/* Load the top table */
	movl	%ebx, %cr3

	/* Long mode on */
	movl	$MSR_EFER, %ecx
	rdmsr
	btsl	$EFER_LME, %eax
	wrmsr

	/* Our GDT, with a 64-bit code segment: patch its base to the run-time address. */
	leal	gdt(%ebp), %eax
	movl	%eax, (gdt_desc + 2)(%ebp)
	lgdt	gdt_desc(%ebp)

	/* Far return into 64-bit code once paging is on. */
	pushl	$KERNEL_CS
	leal	startup_64(%ebp), %eax
	pushl	%eax

	movl	$0x80000001, %eax		/* PG | PE */
	movl	%eax, %cr0
	lret

no_longmode:
	hlt
	jmp	no_longmode

	.code64
	.globl	startup_64
startup_64:
	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	/* "extract_kernel": the kernel is already in place; its entry is in boot_params. */
	movl	%esi, %esi
	movq	BP_PREF_ADDRESS(%rsi), %rax
	.globl	decompressor_stop
decompressor_stop:
	jmp	*%rax

	.data
	.balign	8
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	0				/* base: patched at run time */
	.word	0
	.balign	8
gdt:
	.quad	0				/* null */
	.quad	0				/* unused */
	.quad	0x00af9a000000ffff		/* 0x10: 64-bit code, DPL 0 */
	.quad	0x00cf92000000ffff		/* 0x18: data, 4 GiB flat */
gdt_end:

	.bss
	.balign	4096
pgtable:
	.skip	PGTABLE_PAGES * 4096
boot_stack:
	.skip	4096
boot_stack_end:

	.section .note.GNU-stack, "", @progbits
