/*
 * Thread context switch. A switched-out thread's state is its stack:
 * RFLAGS (so the interrupt flag follows the thread) and the callee-saved
 * registers, pushed here; the caller-saved ones are dead across a call.
 * struct arch_ctx holds the stack pointer only. The FPU state and the
 * TLS pointer are the scheduler's to switch (arch_fpu_save/restore,
 * arch_tls_activate).
 */
	.text
	.globl	arch_switch
	.type	arch_switch, @function
arch_switch:
	pushfq
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	popfq
	ret
	.size	arch_switch, . - arch_switch

/*
 * The first switch to a new thread "returns" here (arch_ctx_init laid
 * the frame out): %rbx is the entry, %r12 its argument.
 */
	.globl	arch_thread_start
	.type	arch_thread_start, @function
arch_thread_start:
	movq	%r12, %rdi
	xorl	%ebp, %ebp		/* the frame chain ends here */
	andq	$-16, %rsp		/* the ABI's alignment at the call */
	call	*%rbx
	ud2				/* entry must not return */
	.size	arch_thread_start, . - arch_thread_start
