/*
 * Exception and interrupt entry.
 *
 * Every vector arrives on an IST stack (cpu.c assigns them), so the
 * interrupted code's 128-byte red zone is never written: the kernel and the
 * distribution's libraries are compiled with the red zone in use.
 *
 * Exceptions (vectors 0-31) are handled on their IST stack by
 * trap_exception(); they do not nest (a nested fault is reported as such).
 *
 * Interrupts (32-255) stay on the IST stack only long enough to copy their
 * frame to the interrupted stack, below its red zone; the handler then runs
 * there, so a later interrupt may reuse the IST stack and the scheduler may
 * switch threads from an interrupt. The frame is struct trapframe (trap.h).
 *
 * Each stub is 16 bytes, at trap_stubs + 16 * vector. The direction flag is
 * cleared before any C code runs (the interrupted code may have set it;
 * iretq restores it).
 */
#include "arch/x86_64/asm.h"

.macro PUSH_REGS
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
.endm

.macro POP_REGS
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
.endm

	.text
	.balign	16
	.globl	trap_stubs
trap_stubs:
	.set	vec, 0
	.rept	256
	.balign	16
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$vec
	.if vec < 32
	jmp	exc_common
	.else
	jmp	intr_common
	.endif
	.set	vec, vec + 1
	.endr

exc_common:
	cld
	PUSH_REGS
	mov	%rsp, %rdi
	call	trap_exception
	POP_REGS
	add	$16, %rsp
	iretq

intr_common:
	cld
	PUSH_REGS
	/* Move the frame below the interrupted stack's red zone. */
	mov	TF_SIZE - 16(%rsp), %rdi	/* interrupted %rsp */
	sub	$128, %rdi
	and	$~15, %rdi
	sub	$TF_SIZE, %rdi
	mov	%rdi, %rax
	mov	%rsp, %rsi
	mov	$(TF_SIZE / 8), %ecx
	rep movsq
	mov	%rax, %rsp
	mov	%rsp, %rdi
	call	trap_interrupt
	POP_REGS
	add	$16, %rsp
	iretq

/*
 * void arch_call_on_stack(void *top, void (*fn)(void *), void *arg)
 * Switches to the stack whose top is top and calls fn(arg) there; fn must
 * not return. The frame chain starts afresh (rbp = 0).
 */
	.globl	arch_call_on_stack
arch_call_on_stack:
	mov	%rdi, %rsp
	mov	%rdx, %rdi
	xor	%ebp, %ebp
	pushq	$0			/* a zero return address ends backtraces */
	jmp	*%rsi
