/*
 * Exceptions and interrupt dispatch.
 *
 * An exception in Damselfly is a bug: there is no user mode and no demand
 * paging. trap_exception() prints the vector, error code, every register,
 * the control registers and a symbolized backtrace, then ends QEMU with
 * ARCH_EXIT_PANIC. It never returns and never waits, so a fault ends the
 * run at once. A fault while reporting one is reported in one line.
 *
 * Interrupts are dispatched by vector to the handler registered with
 * arch_intr_alloc(); the LAPIC EOI follows the handler.
 *
 * Interface:
 *  - arch_intr_alloc() may be called from thread context at any time; the
 *    table entry is published before the vector is returned.
 *  - trap_set_return_hook() lets the scheduler run after every interrupt,
 *    still with interrupts disabled, on the interrupted thread's stack.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/pmap.h"
#include "arch/x86_64/trap.h"

static const char *const exc_names[32] = {
	"divide error",
	"debug",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range exceeded",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor segment overrun",
	"invalid TSS",
	"segment not present",
	"stack-segment fault",
	"general protection",
	"page fault",
	"reserved 15",
	"x87 floating point",
	"alignment check",
	"machine check",
	"SIMD floating point",
	"virtualization exception",
	"control protection",
	"reserved 22",
	"reserved 23",
	"reserved 24",
	"reserved 25",
	"reserved 26",
	"reserved 27",
	"hypervisor injection",
	"VMM communication",
	"security exception",
	"reserved 31",
};

struct intr_handler {
	arch_intr_fn ih_fn;
	void *ih_arg;
};
static struct intr_handler intr_table[256];
static volatile int intr_alloc_lock;
static uint64_t intr_stray;
static bool (*intr_gate)(int vec);
static void (*intr_return_hook)(void);

extern char boot_stack_guard[];

/* ---------------------------------------------------------------- */
/* Fatal exceptions                                                 */
/* ---------------------------------------------------------------- */

static void
describe_pf(const struct trapframe *tf, uint64_t cr2)
{
	uint64_t e = tf->tf_err;

	boot_print("  page fault: %s of %#lx, %s%s%s\n",
	    (e & 16)	? "instruction fetch" :
		(e & 2) ? "write" :
			  "read",
	    (unsigned long)cr2,
	    (e & 1) ? "protection violation" : "page not present",
	    (e & 8) ? ", reserved bit set" : "",
	    cr2 < PAGE_SIZE ? " (NULL pointer dereference)" : "");
	if (cr2 >= (uintptr_t)boot_stack_guard &&
	    cr2 < (uintptr_t)boot_stack_guard + PAGE_SIZE)
		boot_print("  the address is the boot stack's guard page: "
			   "stack overflow\n");
	else if (cr2 >= PMAP_STACK_BASE && cr2 < PMAP_STACK_END && !(e & 1) &&
	    cr2 + PAGE_SIZE > tf->tf_rsp - 256 && cr2 <= tf->tf_rsp + 64)
		boot_print("  the address is a stack guard page: "
			   "stack overflow\n");
}

/*
 * A jump to a bad address (a NULL or corrupted function pointer, a data
 * page) faults before the callee pushes a frame: its caller is then the
 * return address at the top of the stack, which the frame-pointer walk
 * would skip.
 */
static void
report_caller(const struct trapframe *tf, const char *fn)
{
	const uint64_t *sp = (const uint64_t *)tf->tf_rsp;
	const char *caller;
	uintptr_t off;

	if (fn != NULL && !(tf->tf_vector == T_PF && (tf->tf_err & 16)))
		return;
	if (!arch_addr_readable(sp, 8) ||
	    (caller = arch_ksym(*sp - 1, &off)) == NULL)
		return;
	boot_print("  called from %s+%#lx (return address at the stack top)\n",
	    caller, (unsigned long)off + 1);
}

static void
dump_regs(const struct trapframe *tf)
{
	boot_print("  rax %016lx rbx %016lx rcx %016lx\n"
		   "  rdx %016lx rsi %016lx rdi %016lx\n"
		   "  rbp %016lx rsp %016lx r8  %016lx\n"
		   "  r9  %016lx r10 %016lx r11 %016lx\n"
		   "  r12 %016lx r13 %016lx r14 %016lx\n"
		   "  r15 %016lx rip %016lx rfl %016lx\n"
		   "  cs %04lx ss %04lx\n",
	    tf->tf_rax, tf->tf_rbx, tf->tf_rcx, tf->tf_rdx, tf->tf_rsi,
	    tf->tf_rdi, tf->tf_rbp, tf->tf_rsp, tf->tf_r8, tf->tf_r9,
	    tf->tf_r10, tf->tf_r11, tf->tf_r12, tf->tf_r13, tf->tf_r14,
	    tf->tf_r15, tf->tf_rip, tf->tf_rflags, tf->tf_cs, tf->tf_ss);
	boot_print("  cr0 %016lx cr2 %016lx cr3 %016lx cr4 %016lx\n",
	    read_cr0(), read_cr2(), read_cr3(), read_cr4());
}

void
trap_exception(struct trapframe *tf)
{
	struct pcpu *pc = pcpu_ready ? pcpu_self() : &pcpu_bsp;
	unsigned vec = tf->tf_vector & 31;
	uint64_t cr2 = read_cr2();
	uintptr_t off;
	const char *fn;

	if (pc->pc_trap_depth++ > 0) {
		boot_print(
		    "\nFATAL: %s (vector %u) at rip %#lx while reporting "
		    "an earlier fault\n",
		    exc_names[vec], vec, (unsigned long)tf->tf_rip);
		arch_exit(ARCH_EXIT_PANIC);
	}
	fn = arch_ksym(tf->tf_rip, &off);
	boot_print("\nFATAL: %s (vector %u, error code %#lx) on cpu %u at "
		   "%s+%#lx (rip %#lx)\n",
	    exc_names[vec], vec, (unsigned long)tf->tf_err, pc->pc_cpuid,
	    fn ? fn : "?", (unsigned long)off, (unsigned long)tf->tf_rip);
	if (vec == T_PF)
		describe_pf(tf, cr2);
	report_caller(tf, fn);
	dump_regs(tf);
	arch_backtrace(tf->tf_rbp, tf->tf_rip);
	arch_exit(ARCH_EXIT_PANIC);
}

/* ---------------------------------------------------------------- */
/* Interrupts                                                       */
/* ---------------------------------------------------------------- */

static void
run_handler(unsigned vec)
{
	struct intr_handler *h = &intr_table[vec];

	if (h->ih_fn != NULL)
		h->ih_fn(h->ih_arg);
	else
		__atomic_add_fetch(&intr_stray, 1, __ATOMIC_RELAXED);
}

void
trap_interrupt(struct trapframe *tf)
{
	unsigned vec = (unsigned)tf->tf_vector & 0xff;

	if (vec == VEC_SPURIOUS)
		return; /* no EOI for the spurious vector */
	if (vec == VEC_TLB) {
		/* Answered at once, critical section or not: another CPU is
		 * waiting for it (pmap_shootdown). */
		run_handler(vec);
		lapic_eoi();
		return;
	}
	if (intr_gate != NULL && !intr_gate((int)vec)) {
		/* Deferred: a level-triggered source would fire again at
		 * once after the EOI, so its pin is masked until it runs. */
		ioapic_mask_vector((int)vec, true);
		lapic_eoi();
		return;
	}
	run_handler(vec);
	lapic_eoi();
	if (intr_return_hook != NULL)
		intr_return_hook();
}

void
arch_intr_set_hooks(bool (*gate)(int vec), void (*on_return)(void))
{
	intr_return_hook = on_return;
	intr_gate = gate;
}

void
arch_intr_run(int vec)
{
	bool en = arch_intr_save();

	run_handler((unsigned)vec & 0xff);
	ioapic_mask_vector(vec, false);
	arch_intr_restore(en);
}

void
trap_set_vector(int vec, arch_intr_fn fn, void *arg)
{
	intr_table[vec].ih_arg = arg;
	__atomic_store_n(&intr_table[vec].ih_fn, fn, __ATOMIC_RELEASE);
}

int
arch_intr_alloc(arch_intr_fn fn, void *arg)
{
	int v, found = -ENOSPC;

	while (!__sync_bool_compare_and_swap(&intr_alloc_lock, 0, 1))
		cpu_pause();
	for (v = VEC_FIRST_DEVICE; v <= VEC_LAST_DEVICE; v++) {
		if (intr_table[v].ih_fn == NULL) {
			trap_set_vector(v, fn, arg);
			found = v;
			break;
		}
	}
	__atomic_store_n(&intr_alloc_lock, 0, __ATOMIC_RELEASE);
	return found;
}

uint64_t
trap_stray_count(void)
{
	return intr_stray;
}

/* ---------------------------------------------------------------- */
/* Faults on purpose, for the fault tests                           */
/* ---------------------------------------------------------------- */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
#pragma GCC diagnostic ignored "-Warray-bounds"
static int __attribute__((noinline)) recurse_forever(volatile int *depth)
{
	volatile char pad[512];

	pad[0] = (char)*depth;
	(*depth)++;
	return recurse_forever(depth) + pad[0];
}

static const uint8_t data_page_code[16] __attribute__((aligned(16))) = {
	0xc3, /* ret: never runs, the fetch faults on NX */
};

void
arch_test_fault(int kind)
{
	volatile int depth = 0;
	int zero = 0;

	switch (kind) {
	case ARCH_FAULT_PAGE:
		(void)*(volatile uint64_t *)(uintptr_t)0x10;
		break;
	case ARCH_FAULT_UD:
		__asm__ volatile("ud2");
		break;
	case ARCH_FAULT_STACK:
		recurse_forever(&depth);
		break;
	case ARCH_FAULT_NX:
		((void (*)(void))(uintptr_t)data_page_code)();
		break;
	case ARCH_FAULT_DIV:
		/* In assembly: the compiler turns 1 / x into compares. */
		__asm__ volatile("xor %%edx, %%edx; divl %1"
				 : "+a"(depth)
				 : "r"((unsigned)zero)
				 : "rdx");
		break;
	}
	/* No tail calls: the report's backtrace should show this frame. */
	__asm__ volatile("" : : : "memory");
}
#pragma GCC diagnostic pop
