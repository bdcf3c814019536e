/*
 * The trap frame built by trap.S, and the trap entry points. Private to
 * arch/x86_64.
 */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H

#include <stdint.h>
#include "arch/x86_64/asm.h"

struct trapframe {
	uint64_t tf_r15, tf_r14, tf_r13, tf_r12, tf_r11, tf_r10, tf_r9, tf_r8;
	uint64_t tf_rbp, tf_rdi, tf_rsi, tf_rdx, tf_rcx, tf_rbx, tf_rax;
	uint64_t tf_vector;
	uint64_t tf_err;
	/* pushed by the CPU */
	uint64_t tf_rip, tf_cs, tf_rflags, tf_rsp, tf_ss;
};
_Static_assert(sizeof(struct trapframe) == TF_SIZE, "trapframe size");
_Static_assert(__builtin_offsetof(struct trapframe, tf_rsp) == TF_SIZE - 16,
    "trap.S reads the interrupted rsp at TF_SIZE - 16");

/* Exception vectors. */
#define T_DE  0
#define T_DB  1
#define T_NMI 2
#define T_BP  3
#define T_UD  6
#define T_NM  7
#define T_DF  8
#define T_GP  13
#define T_PF  14
#define T_MC  18

/* Interrupt vectors owned by arch. */
#define VEC_FIRST_DEVICE 0x30
#define VEC_LAST_DEVICE	 0xdf
#define VEC_TIMER	 0xf0
#define VEC_TLB		 0xf2 /* TLB shootdown: never deferred */
#define VEC_SPURIOUS	 0xff

/* IST slots (1-based, as in the IDT gate). */
#define IST_DF	       1
#define IST_NMI	       2
#define IST_MC	       3
#define IST_DB	       4
#define IST_EXC	       5
#define IST_INTR       6
#define IST_COUNT      6
#define IST_STACK_SIZE 16384

extern char trap_stubs[];

void trap_exception(struct trapframe *tf);
void trap_interrupt(struct trapframe *tf);
void trap_init_idt(void);
void trap_load_idt(void);
void trap_set_vector(int vec, void (*fn)(void *), void *arg);
uint64_t trap_stray_count(void);

void arch_call_on_stack(void *top, void (*fn)(void *), void *arg)
    __attribute__((noreturn));

#endif
