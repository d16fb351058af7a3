/* SPDX-License-Identifier: MIT */
/*
 * ptlab boot image, kernel stage: what Linux's arch/x86/kernel/head_64.S (startup_64),
 * __startup_64 and x86_64_start_kernel do to the page tables, as the 4.14-era boot path is
 * described: early_top_pgt's kernel entry, statically initialised level3_kernel_pgt /
 * level2_kernel_pgt / level2_fixmap_pgt, the load_delta fix-up for a relocated (or KASLR) kernel,
 * the identity map of the load area in early_dynamic_pgts, the switch to the high virtual address,
 * then init_top_pgt. Written from that description and the x86 64-bit boot protocol; no Linux
 * code. (early_top_pgt and level4_kernel_pgt hold one static entry each in Linux; here they are
 * in .bss and that entry is written at run time with the value the fix-up gives, see .data.)
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
 *
 * Page-table isolation is decided at run time from the kernel command line, as Linux's
 * pti_check_boottime_disable does: "pti=on" turns it on, "pti=off" or "nopti" off, and anything
 * else ("auto") leaves it off here (this image makes no Meltdown check of the CPU). The command
 * line (boot_params.hdr.cmd_line_ptr, a physical pointer) is copied into boot_command_line while
 * the loader's identity map still covers it. init_top_pgt is 8 KiB aligned with its user copy
 * in the second 4 KiB (Linux's PTI-aligned PGD, kernel_to_user_pgdp = pgd + 4 KiB); with PTI on,
 * x86_64_start_kernel clones into that copy what user mode must reach in the kernel half: the
 * entry text (__entry_text_start..__entry_text_end, entry_SYSCALL_64), in 4 KiB pages taken from
 * the kernel table's mapping of the same frames, through tables of its own (pti_user_pgts), as
 * pti_clone_entry_text/pti_clone_pgtable do (Linux clones at PMD level when the kernel maps the
 * entry text with 2 MiB pages; 4 KiB pages keep the copy to the entry text alone here, the
 * rest of the image sharing its 2 MiB page). CR3 stays the kernel table (kernel mode).
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
	.set	BP_CMD_LINE_PTR, 0x228		/* boot_params.hdr.cmd_line_ptr (32-bit physical) */
	.set	COMMAND_LINE_SIZE, 2048
	.set	PTE_PFN_MASK, 0x000ffffffffff000	/* bits 51:12 */
	.set	PTI_USER_PGTABLE_MASK, 0x1000	/* the user copy is the kpgd's second 4 KiB */
	.set	PTI_USER_PGTS, 4		/* p4d (LA57), pud, pmd, pte of the user copy's chain */
	.set	KERNEL_PMDS, 256		/* level2_kernel_pgt maps 512 MiB (KERNEL_IMAGE_SIZE) */
	.set	FIXMAP_PMD, 506			/* level2_fixmap_pgt slot of level1_fixmap_pgt */

	.section .head.text, "ax"
	.code64
	.globl	startup_64
startup_64:
	cld
	movq	%rsi, %r15			/* boot_params, kept for the record */
	leaq	boot_stack_end(%rip), %rsp	/* physical (identity-mapped) for now */

	/* copy_bootdata, the command-line half: Linux copies it in x86_64_start_kernel, mapping
	 * boot_params on demand from its early #PF handler; this image has no such handler, so it
	 * copies now, while the loader's identity map covers the (below 4 GiB) command line.
	 * At most COMMAND_LINE_SIZE - 1 bytes; boot_command_line (bss) stays NUL-terminated. */
	movl	BP_CMD_LINE_PTR(%r15), %esi
	testl	%esi, %esi
	jz	1f
	leaq	boot_command_line(%rip), %rdi
	movl	$(COMMAND_LINE_SIZE - 1), %ecx
0:	lodsb
	testb	%al, %al
	jz	1f
	stosb
	decl	%ecx
	jnz	0b
1:

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

	/* The top entries. early_top_pgt and level4_kernel_pgt are in .bss here (see there), so
	 * their entry 511 is written outright with the value Linux's static entry + load_delta
	 * gives: pgd[511] = __pa(level3_kernel_pgt) + _PAGE_TABLE, or with 5 levels
	 * pgd[511] = __pa(level4_kernel_pgt) + _PAGE_TABLE and p4d[511] = __pa(level3_kernel_pgt)
	 * + _PAGE_TABLE; the C-bit on each. */
	leaq	early_top_pgt(%rip), %rdi
	leaq	(level3_kernel_pgt + PAGE_TABLE)(%rip), %rax
	orq	%r14, %rax
	testl	%r13d, %r13d
	jz	2f
	leaq	level4_kernel_pgt(%rip), %rsi
	movq	%rax, 511*8(%rsi)
	leaq	PAGE_TABLE(%rsi), %rax
	orq	%r14, %rax
2:	movq	%rax, 511*8(%rdi)

	/* Fix up the statically initialised entries by load_delta (and the C-bit). */
	leaq	level3_kernel_pgt(%rip), %rsi
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

	/* pti_check_boottime_disable, then pti_init's entry-text clone into the user copy. */
	call	pti_check_boottime
	testl	%eax, %eax
	jz	1f
	call	pti_clone_entry_text
1:
	.globl	ptlab_stop
ptlab_stop:
	hlt
	jmp	ptlab_stop

bad_load_address:
	hlt
	jmp	bad_load_address

/* pti_check_boottime: %eax = 1 when the command line asks for PTI ("pti=on" and neither
 * "pti=off" nor "nopti"), else 0. */
pti_check_boottime:
	pushq	%rbx
	leaq	pti_on_word(%rip), %rsi
	call	cmdline_has_word
	movl	%eax, %ebx
	leaq	pti_off_word(%rip), %rsi
	call	cmdline_has_word
	testl	%eax, %eax
	jnz	1f
	leaq	nopti_word(%rip), %rsi
	call	cmdline_has_word
	testl	%eax, %eax
	jz	2f
1:	xorl	%ebx, %ebx
2:	movl	%ebx, %eax
	popq	%rbx
	ret

/* cmdline_has_word: is the NUL-terminated word at %rsi one of boot_command_line's words
 * (separated by any byte <= ' ')? %eax = 1 or 0. Clobbers %rcx, %rdx, %rdi, %r8. */
cmdline_has_word:
	leaq	boot_command_line(%rip), %rdi
	xorl	%eax, %eax
1:	movzbl	(%rdi), %ecx			/* between words */
	testl	%ecx, %ecx
	jz	6f
	cmpl	$0x20, %ecx
	ja	2f
	incq	%rdi
	jmp	1b
2:	movq	%rsi, %r8			/* at a word: compare */
3:	movzbl	(%r8), %edx
	testl	%edx, %edx
	jz	4f
	movzbl	(%rdi), %ecx
	cmpl	%ecx, %edx
	jne	5f
	incq	%rdi
	incq	%r8
	jmp	3b
4:	movzbl	(%rdi), %ecx			/* the word matched: it must end here too */
	cmpl	$0x20, %ecx
	jbe	7f
5:	movzbl	(%rdi), %ecx			/* skip the rest of this word */
	cmpl	$0x20, %ecx
	jbe	1b
	incq	%rdi
	jmp	5b
7:	movl	$1, %eax
6:	ret

/* __va of a physical address inside the kernel image (the only memory mapped here):
 * %rax = %rax - phys_base + __START_KERNEL_map. */
image_va:
	subq	phys_base(%rip), %rax
	movabs	$START_KERNEL_MAP, %rdx
	addq	%rdx, %rax
	ret

/* The walk's first shift: 48 with CR4.LA57 (PML5), else 39. In %ecx. */
top_shift:
	movq	%cr4, %rcx
	testl	$CR4_LA57, %ecx
	movl	$39, %ecx
	jz	1f
	movl	$48, %ecx
1:	ret

/* pti_kernel_pte: the kernel table's mapping of the 4 KiB page at %rdi, as a 4 KiB PTE:
 * a 4 KiB leaf as it is, a large leaf narrowed to that page (frame + offset, PS dropped);
 * the global bit dropped (a user-copy clone must not stay global in the TLB across the CR3
 * switch). %rax = the PTE, 0 when the kernel table does not map the page. Clobbers %rcx,
 * %rdx, %rsi, %r8. */
pti_kernel_pte:
	leaq	init_top_pgt(%rip), %rsi	/* the table being walked (kernel VA) */
	call	top_shift
1:	movq	%rdi, %rax
	shrq	%cl, %rax
	andl	$511, %eax
	movq	(%rsi, %rax, 8), %r8		/* the entry */
	testb	$PTE_P, %r8b
	jz	4f
	cmpl	$12, %ecx
	je	3f				/* a PTE: the leaf */
	testb	$PTE_PS, %r8b
	jnz	2f
	movq	%r8, %rax			/* the next table: __va(entry's frame, C-bit off) */
	movq	sme_me_mask(%rip), %rdx
	notq	%rdx
	andq	%rdx, %rax
	movabs	$PTE_PFN_MASK, %rdx
	andq	%rdx, %rax
	call	image_va
	movq	%rax, %rsi
	subl	$9, %ecx
	jmp	1b
2:	/* a large leaf mapping 1 << %cl bytes: keep its high bits (NX, C-bit, frame above the
	 * page size) and flags, add the page's offset inside it */
	movl	$1, %eax
	shlq	%cl, %rax
	decq	%rax				/* the large page's offset mask */
	movq	%rdi, %rdx
	andq	%rax, %rdx
	andq	$~0xfff, %rdx			/* the 4 KiB page's offset in it */
	movq	%r8, %rsi
	andq	$(0xfff & ~PTE_PS), %rsi	/* flags, without PS (and the PAT bit 12 with it) */
	notq	%rax
	andq	%rax, %r8			/* high bits, frame */
	orq	%rdx, %r8
	orq	%rsi, %r8
3:	movq	%r8, %rax
	andq	$~PTE_G, %rax
	ret
4:	xorl	%eax, %eax
	ret

/* pti_user_pte_slot: the PTE slot for the kernel VA %rdi in the user copy (init_top_pgt +
 * 4 KiB), its missing tables taken zeroed from pti_user_pgts and linked with _KERNPG_TABLE and
 * the C-bit, as pti_user_pagetable_walk_* do. %rax = the slot (kernel VA). Clobbers %rcx,
 * %rdx, %rsi, %r8, %r9. Stops at bad_load_address if the pool is used up. */
pti_user_pte_slot:
	leaq	(init_top_pgt + PTI_USER_PGTABLE_MASK)(%rip), %rsi
	call	top_shift
1:	movq	%rdi, %rax
	shrq	%cl, %rax
	andl	$511, %eax
	leaq	(%rsi, %rax, 8), %r9		/* the entry's slot */
	cmpl	$12, %ecx
	je	4f
	movq	(%r9), %rax
	testb	$PTE_P, %al
	jz	2f
	movq	sme_me_mask(%rip), %rdx		/* present: follow it */
	notq	%rdx
	andq	%rdx, %rax
	movabs	$PTE_PFN_MASK, %rdx
	andq	%rdx, %rax
	call	image_va
	movq	%rax, %rsi
	jmp	3f
2:	movq	pti_next_pgt(%rip), %rax	/* absent: a new zeroed table from the pool */
	cmpq	$PTI_USER_PGTS, %rax
	jae	bad_load_address
	incq	pti_next_pgt(%rip)
	shlq	$12, %rax
	leaq	pti_user_pgts(%rip), %rsi
	addq	%rax, %rsi
	pushq	%rdi
	pushq	%rcx
	movq	%rsi, %rdi
	xorl	%eax, %eax
	movl	$512, %ecx
	rep stosq
	popq	%rcx
	popq	%rdi
	movq	%rsi, %rax			/* __pa(table) | _KERNPG_TABLE (C-bit included) */
	movabs	$START_KERNEL_MAP, %rdx
	subq	%rdx, %rax
	addq	phys_base(%rip), %rax
	orq	$KERNPG_TABLE, %rax
	orq	sme_me_mask(%rip), %rax
	movq	%rax, (%r9)
3:	subl	$9, %ecx
	jmp	1b
4:	movq	%r9, %rax
	ret

/* pti_clone_entry_text: every 4 KiB page of [__entry_text_start, __entry_text_end) mapped in
 * the user copy to the frame the kernel table maps it to. */
pti_clone_entry_text:
	pushq	%rbx
	leaq	__entry_text_start(%rip), %rbx
1:	leaq	__entry_text_end(%rip), %rax
	cmpq	%rax, %rbx
	jae	2f
	movq	%rbx, %rdi
	call	pti_kernel_pte
	testq	%rax, %rax
	jz	bad_load_address		/* the kernel does not map its own entry text */
	pushq	%rax
	movq	%rbx, %rdi
	call	pti_user_pte_slot
	popq	(%rax)
	addq	$4096, %rbx
	jmp	1b
2:	popq	%rbx
	ret

	/* The entry text, alone in its 4 KiB page(s): what the user copy maps. All other code is
	 * in .head.text above (the first page of the image), so .text holds only the entry text
	 * (Linux's .entry.text) and .rodata starts on the next page. entry_SYSCALL_64 is never
	 * run by this image; it shows why the page must be there: SYSCALL arrives on the user
	 * copy, and the first thing the trampoline does is SWITCH_TO_KERNEL_CR3 (clear the
	 * user-copy bit of CR3). */
	.text
	.balign	4096
	.globl	__entry_text_start, entry_SYSCALL_64, __entry_text_end
__entry_text_start:
entry_SYSCALL_64:
	swapgs
	movq	%rsp, %gs:0			/* the user stack pointer, to a per-CPU scratch slot */
	movq	%cr3, %rsp
	andq	$~PTI_USER_PGTABLE_MASK, %rsp
	movq	%rsp, %cr3
	hlt					/* the rest of the syscall path is not in this image */
__entry_text_end:

	.section .rodata
	.globl	linux_banner
linux_banner:
	.asciz	"Linux version 4.14.0-ptlab (ptlab@build) (synthetic head_64 boot image) #1 SMP\n"
pti_on_word:
	.asciz	"pti=on"
pti_off_word:
	.asciz	"pti=off"
nopti_word:
	.asciz	"nopti"

	.data
	/* ---- the page tables (head_64.S's NEXT_PAGE tables) ------------------------------
	 * init_top_pgt first: 8 KiB aligned, the kernel half of an order-1 PGD with its PTI user
	 * copy in the second page (left empty without PTI). With .head.text, the entry text and
	 * .rodata one page each (and the page of alignment after them), this keeps the tables
	 * and .bss where they were before the user copy and the entry-text page existed
	 * (init_top_pgt, level3_kernel_pgt, level2_kernel_pgt and .bss at image offsets 0x4000,
	 * 0x6000, 0x7000 and 0xa000): early_top_pgt, level4_kernel_pgt and the variables, which
	 * were in .data before, are in .bss now. */
	.balign	8192
	.globl	init_top_pgt
init_top_pgt:
	.fill	512, 8, 0
	.fill	512, 8, 0			/* the user copy (init_top_pgt + 4 KiB) */

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
	.balign	4096
	.globl	pti_user_pgts
pti_user_pgts:
	.skip	PTI_USER_PGTS * 4096		/* the user copy's own kernel-half tables */
	.globl	boot_command_line
boot_command_line:
	.skip	COMMAND_LINE_SIZE
	/* early_top_pgt and level4_kernel_pgt (5-level only) get their one static entry at run
	 * time (__startup_64 above), and the variables below start as zero: kept out of .data so
	 * that the layout stays as it was (see .data). */
	.balign	4096
	.globl	early_top_pgt
early_top_pgt:
	.skip	4096
	.globl	level4_kernel_pgt
level4_kernel_pgt:
	.skip	4096
	.globl	phys_base, sme_me_mask, next_early_pgt
phys_base:
	.skip	8
sme_me_mask:
	.skip	8
next_early_pgt:
	.skip	8
pti_next_pgt:
	.skip	8				/* pti_user_pgts handed out */

	.section .note.GNU-stack, "", @progbits
