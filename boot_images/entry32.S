/* SPDX-License-Identifier: MIT */
/*
 * emu's entry shim (not boot code): Unicorn 2.0.1's 64-bit engine starts in long mode with paging
 * off (../shared/notes/unicorn-2.0.1.md). To enter an image per the 32-bit boot protocol this shim,
 * placed at physical 0x1000, far-returns into a 32-bit code segment, loads flat data segments,
 * clears EFER.LME, CR4 and CR3, sets ESI = boot_params and jumps to the image's 32-bit entry.
 * The loader fills the two slots at the end: the boot_params address and the entry address.
 * Linked at 0x1000.
 */
	.set	CODE32, 0x10
	.set	DATA32, 0x18
	.set	MSR_EFER, 0xc0000080

	.text
	.code64
	.globl	entry64
entry64:
	lgdt	gdt_desc(%rip)
	pushq	$CODE32
	leaq	entry32(%rip), %rax
	pushq	%rax
	lretq

	.code32
entry32:
	movl	$DATA32, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%eax, %ss
	movl	%cr0, %eax
	andl	$0x7fffffff, %eax		/* paging off (it is, but say so) */
	movl	%eax, %cr0
	movl	$MSR_EFER, %ecx
	rdmsr
	andl	$~0x100, %eax			/* EFER.LME off: plain protected mode */
	wrmsr
	xorl	%eax, %eax
	movl	%eax, %cr4
	movl	%eax, %cr3
	movl	boot_params_slot, %esi
	movl	entry_slot, %eax
	jmp	*%eax

	.balign	8
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt
	.balign	8
gdt:
	.quad	0
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x10: 32-bit code, flat */
	.quad	0x00cf92000000ffff		/* 0x18: data, flat */
gdt_end:
	.globl	boot_params_slot, entry_slot
boot_params_slot:
	.long	0
entry_slot:
	.long	0

	.section .note.GNU-stack, "", @progbits
