/*
 * PVH entry: QEMU (or any VMM that boots a PVH kernel) finds the
 * XEN_ELFNOTE_PHYS32_ENTRY note below and starts pvh_start32 in 32-bit
 * protected mode, paging off, interrupts off, with %ebx holding the
 * physical address of struct hvm_start_info. There is no multiboot header.
 *
 * This file takes the CPU to long mode on boot page tables that identity-map
 * the first GiB with 2 MiB pages, sets up the boot thread's TLS block (the
 * stack-protector canary at %fs:0x28) and calls kmain() on the boot stack.
 * pmap.c replaces the page tables soon after.
 */
#include "arch/x86_64/asm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.pushsection .note.Xen, "a", @note
	.balign 4
	.long	2f - 1f			/* namesz */
	.long	4f - 3f			/* descsz: 8 for ELF64, as QEMU reads */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz	"Xen"
2:	.balign	4
3:	.quad	pvh_start32
4:	.balign	4
	.popsection

	.section .boot.text, "ax"
	.code32
	.globl	pvh_start32
pvh_start32:
	cli
	cld
	mov	%ebx, %esi
	rdtsc
	mov	%eax, boot_tsc_entry
	mov	%edx, boot_tsc_entry + 4
	mov	%esi, boot_start_info

	/* The loader may or may not clear .bss; clear it. */
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb

	mov	$boot_stack_top, %esp
	lgdt	boot_gdt_desc

	/*
	 * Boot page tables: PML4[0] -> PDPT[0] -> PD of 512 2 MiB pages,
	 * except the 2 MiB that hold the image (and these tables), mapped
	 * with 4 KiB pages so that a shadow-paging VMM can write-protect the
	 * page-table pages alone: kvm_pvm otherwise emulates every access to
	 * the whole large page, and fails on SSE and XSAVE instructions.
	 */
	mov	$boot_pd, %edi
	mov	$(PTE_P | PTE_W | PTE_PS), %eax
	mov	$512, %ecx
1:	mov	%eax, (%edi)
	movl	$0, 4(%edi)
	add	$0x200000, %eax
	add	$8, %edi
	loop	1b
	mov	$boot_pt, %edi
	mov	$(0x200000 | PTE_P | PTE_W), %eax
	mov	$512, %ecx
2:	mov	%eax, (%edi)
	movl	$0, 4(%edi)
	add	$0x1000, %eax
	add	$8, %edi
	loop	2b
	movl	$(boot_pt + PTE_P + PTE_W), boot_pd + 8
	movl	$(boot_pd + PTE_P + PTE_W), boot_pdpt
	movl	$(boot_pdpt + PTE_P + PTE_W), boot_pml4

	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$boot_pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PG | CR0_PE), %eax
	mov	%eax, %cr0
	ljmp	$GDT_KCODE, $long_mode

	.code64
long_mode:
	mov	$GDT_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$boot_stack_top, %rsp

	/* Boot TLS: %fs:0 points to itself, %fs:0x28 holds the canary. */
	call	boot_random64
	xor	%al, %al		/* a NUL byte stops string overreads */
	mov	%rax, boot_tcb + TCB_CANARY
	mov	$boot_tcb, %rax
	mov	%rax, boot_tcb + TCB_SELF
	mov	%rax, %rdx
	shr	$32, %rdx
	mov	$MSR_FS_BASE, %ecx
	wrmsr

	xor	%ebp, %ebp		/* ends the frame chain for backtraces */
	call	kmain
3:	cli
	hlt
	jmp	3b

/*
 * 64 random-ish bits for the canary, before anything else runs: RDRAND where
 * CPUID offers it (retried, as Intel advises), else the TSC mixed by a
 * multiply. Clobbers rax, rbx, rcx, rdx.
 */
boot_random64:
	mov	$1, %eax
	cpuid
	bt	$30, %ecx
	jnc	2f
	mov	$10, %ecx
1:	rdrand	%rax
	jc	3f
	loop	1b
2:	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	mov	$0x9e3779b97f4a7c15, %rdx
	imul	%rdx, %rax
	rol	$29, %rax
	imul	%rdx, %rax
3:	ret

/*
 * Application processors. smp.c copies ap_tramp (16-bit code) to
 * AP_TRAMP_PA and starts each AP there with INIT-SIPI-SIPI, one at a time,
 * after filling in the ap_* variables. The trampoline only reaches
 * protected mode; the rest runs in the kernel image, which is executable.
 */
	.code16
	.globl	ap_tramp, ap_tramp_end
ap_tramp:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	lgdtl	(ap_tramp_gdt_desc - ap_tramp)
	mov	%cr0, %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	$GDT_KCODE32, $ap_pm32
	.balign	8
ap_tramp_gdt_desc:
	.word	boot_gdt_end - boot_gdt - 1
	.long	boot_gdt
ap_tramp_end:

	.section .boot.text, "ax"
	.code32
ap_pm32:
	mov	$GDT_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	ap_cr3, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	ap_efer, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PG | CR0_PE), %eax
	mov	%eax, %cr0
	ljmp	$GDT_KCODE, $ap_lm64

	.code64
ap_lm64:
	mov	$GDT_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	mov	ap_stack, %rsp
	mov	ap_tls, %rax		/* the canary lives at %fs:0x28 */
	mov	%rax, %rdx
	shr	$32, %rdx
	mov	$MSR_FS_BASE, %ecx
	wrmsr
	xor	%ebp, %ebp
	mov	ap_cpu, %edi
	call	ap_start
4:	cli
	hlt
	jmp	4b

	.data
	.balign	8
	.globl	ap_cr3, ap_efer, ap_stack, ap_tls, ap_cpu
ap_cr3:
	.quad	0
ap_efer:
	.quad	0
ap_stack:
	.quad	0
ap_tls:
	.quad	0
ap_cpu:
	.quad	0

	.balign	16
boot_gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* GDT_KCODE: 64-bit code, DPL 0 */
	.quad	0x00cf92000000ffff	/* GDT_KDATA: flat data */
	.quad	0x00cf9a000000ffff	/* GDT_KCODE32: the APs' way in */
boot_gdt_end:
	.balign	8
boot_gdt_desc:
	.word	boot_gdt_end - boot_gdt - 1
	.quad	boot_gdt

	.globl	boot_tsc_entry, boot_start_info
	.balign	8
boot_tsc_entry:
	.quad	0
boot_start_info:
	.quad	0

	.section .bss.page_aligned, "aw", @nobits
	.balign	4096
	.globl	boot_pml4, boot_stack_guard, boot_stack, boot_stack_top
boot_pml4:
	.skip	4096
boot_pdpt:
	.skip	4096
boot_pd:
	.skip	4096
boot_pt:
	.skip	4096
/* The page below the boot stack is left unmapped by pmap.c. */
boot_stack_guard:
	.skip	4096
boot_stack:
	.skip	BOOT_STACK_SIZE
boot_stack_top:
	.globl	boot_tls_area, boot_tcb
boot_tls_area:
	.skip	BOOT_TLS_SIZE
boot_tcb:
	.skip	TCB_SIZE
