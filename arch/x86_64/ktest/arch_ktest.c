/*
 * In-guest tests of arch/x86_64: page-table permissions and guard pages,
 * stacks, TLS and the canary, FPU state save/restore, the clock and the
 * timer, interrupts on IST stacks (the red zone survives), fw_cfg, ACPI,
 * PCI and the symbol table. The MANUAL tests fault on purpose; the boot
 * harness runs each alone and checks the report (test/CMakeLists.txt).
 */
#include <errno.h>
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/pmap.h"
#include "core/ktest.h"

#define PTE_NX (1ULL << 63)

extern char __image_start[], __text_end[], __rodata_end[], __bss_start[];
extern char boot_stack_guard[];

static const int rodata_probe = 42;
static int data_probe = 1;

KTEST(arch, page_permissions)
{
	uint64_t text = pmap_pte_flags((uintptr_t)arch_ksym);
	uint64_t ro = pmap_pte_flags((uintptr_t)&rodata_probe);
	uint64_t rw = pmap_pte_flags((uintptr_t)&data_probe);

	KT_ASSERT(!arch_addr_readable((void *)0, 1));
	KT_ASSERT(!arch_addr_readable((void *)0xff8, 8));
	KT_ASSERT(arch_addr_readable((void *)0x1000, 8));
	KT_ASSERT(text & PTE_P);
	KT_ASSERT(!(text & PTE_W));
	KT_ASSERT(!(text & PTE_NX));
	KT_ASSERT(ro & PTE_P);
	KT_ASSERT(!(ro & PTE_W));
	KT_ASSERT(rw & PTE_W);
	if (cpu_feat.nx) {
		KT_ASSERT(ro & PTE_NX);
		KT_ASSERT(rw & PTE_NX);
		KT_ASSERT(pmap_pte_flags((uintptr_t)__bss_start) & PTE_NX);
	}
	KT_ASSERT(!arch_addr_readable(boot_stack_guard, 1));
	KT_ASSERT(arch_addr_readable(boot_stack_guard + PAGE_SIZE, 1));
}

KTEST(arch, stack_alloc_guard)
{
	char *a = arch_stack_alloc(16384);
	char *b = arch_stack_alloc(16384);

	KT_ASSERT(a != NULL && b != NULL);
	KT_ASSERT(arch_addr_readable(a, 16384));
	KT_ASSERT(!arch_addr_readable(a - 1, 1)); /* guard below */
	KT_ASSERT(!arch_addr_readable(b - 1, 1));
	KT_ASSERT(a + 16384 <= b - PAGE_SIZE || b + 16384 <= a - PAGE_SIZE);
	memset(a, 0x11, 16384);
	memset(b, 0x22, 16384);
	KT_ASSERT_EQ(a[16383], 0x11);
	KT_ASSERT_EQ(b[0], 0x22);
	arch_stack_free(a, 16384);
	KT_ASSERT(!arch_addr_readable(a, 1));
	/* A freed window is reused whole. */
	char *c = arch_stack_alloc(16384);
	KT_ASSERT(c == a);
	arch_stack_free(b, 16384);
	arch_stack_free(c, 16384);
}

/* DMA addresses: identity for RAM, translated for the stack window. */
KTEST(arch, virt_to_phys)
{
	static uint64_t in_ram = 5;
	uint64_t *s = arch_stack_alloc(2 * PAGE_SIZE);
	uint64_t pa, addr;
	uint32_t data;

	KT_ASSERT_EQ(arch_virt_to_phys(&in_ram), (uintptr_t)&in_ram);
	KT_ASSERT_EQ(arch_virt_to_phys((void *)0x10), 0); /* unmapped */
	KT_ASSERT(s != NULL);
	s[1] = 0x5ca1ab1eULL;
	pa = arch_virt_to_phys(&s[1]);
	KT_ASSERT(pa != 0 && pa != (uintptr_t)&s[1]);
	KT_ASSERT_EQ(*(volatile uint64_t *)(uintptr_t)pa, 0x5ca1ab1eULL);
	KT_ASSERT(arch_dma_contiguous(&in_ram, 8));
	KT_ASSERT(arch_dma_contiguous(s, PAGE_SIZE));
	KT_ASSERT(!arch_dma_contiguous((char *)s + 8, PAGE_SIZE));
	KT_ASSERT(arch_virt_to_phys(s - 512) == 0); /* the guard page */
	arch_stack_free(s, 2 * PAGE_SIZE);
	arch_msi_message(0, 0x41, &addr, &data);
	KT_ASSERT_EQ(addr,
	    0xfee00000ULL | ((uint64_t)pcpu_all[0].pc_apicid << 12));
	KT_ASSERT_EQ(data, 0x41);
}

static __thread int tls_probe = 7;

KTEST(arch, tls_and_canary)
{
	uint64_t canary, self;
	void *old = arch_tls_current();
	char block[512] __attribute__((aligned(64)));
	void *tp;

	__asm__ volatile("movq %%fs:0x28, %0" : "=r"(canary));
	__asm__ volatile("movq %%fs:0, %0" : "=r"(self));
	KT_ASSERT(canary != 0);
	KT_ASSERT_EQ(canary & 0xff, 0); /* a NUL byte stops string overreads */
	KT_ASSERT_EQ(self, (uintptr_t)old);
	KT_ASSERT_EQ(tls_probe, 7);
	tls_probe = 99;
	KT_ASSERT(arch_tls_size() <= sizeof(block));
	/* A second TLS block sees a fresh copy of the TLS image. */
	tp = arch_tls_init(block, 0x1234567890abcd00ULL);
	arch_intr_disable();
	arch_tls_activate(tp);
	int seen = tls_probe;
	__asm__ volatile("movq %%fs:0x28, %0" : "=r"(canary));
	arch_tls_activate(old);
	arch_intr_enable();
	KT_ASSERT_EQ(seen, 7);
	KT_ASSERT_EQ(canary, 0x1234567890abcd00ULL);
	KT_ASSERT_EQ(tls_probe, 99);
	tls_probe = 7;
}

/* XMM0 and XMM15 (and YMM upper halves where AVX is on) survive a
 * save, a clobber and a restore. */
KTEST(arch, fpu_save_restore)
{
	static uint8_t area[4096] __attribute__((aligned(64)));
	static uint8_t fresh[4096] __attribute__((aligned(64)));
	uint64_t lo = 0, hi = 0;

	KT_ASSERT(arch_fpu_state_size() >= 512);
	KT_ASSERT(arch_fpu_state_size() <= sizeof(area));
	__asm__ volatile("movq %0, %%xmm0; movq %0, %%xmm15"
			 :
			 : "r"(0x1122334455667788ULL));
	arch_fpu_save(area);
	__asm__ volatile("pxor %%xmm0, %%xmm0; pxor %%xmm15, %%xmm15" : :);
	arch_fpu_restore(area);
	__asm__ volatile("movq %%xmm0, %0; movq %%xmm15, %1"
			 : "=r"(lo), "=r"(hi));
	KT_ASSERT_EQ(lo, 0x1122334455667788ULL);
	KT_ASSERT_EQ(hi, 0x1122334455667788ULL);
	/* The initial state clears the registers. */
	arch_fpu_init_state(fresh);
	arch_fpu_restore(fresh);
	__asm__ volatile("movq %%xmm0, %0" : "=r"(lo));
	KT_ASSERT_EQ(lo, 0);
	arch_fpu_restore(area);
}

KTEST(arch, clock_monotonic)
{
	uint64_t prev = arch_nanotime(), now, t0 = prev;
	const char *src;
	int i;

	KT_ASSERT(arch_tsc_hz(&src) > 100000000ULL);
	KT_ASSERT(src != NULL && src[0] != 0);
	for (i = 0; i < 100000; i++) {
		now = arch_nanotime();
		KT_ASSERT(now >= prev);
		prev = now;
	}
	KT_ASSERT(prev > t0);
}

static volatile int timer_fired;
static volatile uint64_t timer_when;

static void
timer_probe(void)
{
	timer_when = arch_nanotime();
	timer_fired++;
}

/* The timer fires once, not before its deadline, also when re-armed; a
 * cancelled timer does not fire. */
KTEST(arch, timer_oneshot)
{
	void (*saved_fn)(void) = lapic_timer_handler();
	uint64_t saved_deadline, deadline;
	int round;

	/* Borrow the timer from the scheduler's callouts, on this CPU. */
	arch_intr_disable();
	saved_deadline = pcpu_self()->pc_timer_deadline;
	arch_timer_set_handler(timer_probe);
	arch_intr_enable();
	for (round = 0; round < 3; round++) {
		timer_fired = 0;
		deadline = arch_nanotime() + 2000000; /* 2 ms */
		arch_timer_arm(deadline);
		while (!timer_fired)
			arch_idle_wait();
		KT_ASSERT_EQ(timer_fired, 1);
		KT_ASSERT(timer_when >= deadline);
	}
	timer_fired = 0;
	arch_timer_arm(arch_nanotime() + 1000000);
	arch_timer_arm(0);
	deadline = arch_nanotime() + 5000000;
	while (arch_nanotime() < deadline)
		;
	KT_ASSERT_EQ(timer_fired, 0);
	/* A deadline in the past fires at once. */
	arch_timer_arm(1);
	while (!timer_fired)
		arch_idle_wait();
	KT_ASSERT_EQ(timer_fired, 1);
	arch_intr_disable();
	arch_timer_set_handler(saved_fn);
	arch_timer_arm(saved_deadline);
	arch_intr_enable();
}

static volatile int intr_count;
static void *volatile intr_arg;

static void
intr_probe(void *arg)
{
	intr_arg = arg;
	intr_count++;
}

/*
 * A software interrupt goes through the IDT, the IST stack and the frame
 * copy below the red zone: the handler gets its argument and the 128
 * bytes below the interrupted rsp are intact afterwards.
 */
KTEST(arch, interrupt_red_zone)
{
	int vec = arch_intr_alloc(intr_probe, (void *)0xfeed);
	uint64_t bad = 0;

	KT_ASSERT(vec >= 0x30);
	switch (vec) { /* int takes an immediate */
#define TRY(v)                                                        \
	case v:                                                       \
		__asm__ volatile("mov $0x5a5a5a5a5a5a5a5a, %%rax\n\t" \
				 "mov $16, %%ecx\n\t"                 \
				 "1: mov %%rcx, %%rdx\n\t"            \
				 "neg %%rdx\n\t"                      \
				 "mov %%rax, (%%rsp,%%rdx,8)\n\t"     \
				 "loop 1b\n\t"                        \
				 "int $" #v "\n\t"                    \
				 "xor %0, %0\n\t"                     \
				 "mov $16, %%ecx\n\t"                 \
				 "2: mov %%rcx, %%rdx\n\t"            \
				 "neg %%rdx\n\t"                      \
				 "cmp %%rax, (%%rsp,%%rdx,8)\n\t"     \
				 "setne %%dl\n\t"                     \
				 "movzbq %%dl, %%rdx\n\t"             \
				 "add %%rdx, %0\n\t"                  \
				 "loop 2b"                            \
				 : "=&r"(bad)                         \
				 :                                    \
				 : "rax", "rcx", "rdx", "memory");    \
		break;
		TRY(0x30)
		TRY(0x31)
		TRY(0x32)
		TRY(0x33)
#undef TRY
	default:
		ktest_fail(__FILE__, __LINE__, "vector %#x not covered", vec);
	}
	KT_ASSERT_EQ(intr_count, 1);
	KT_ASSERT(intr_arg == (void *)0xfeed);
	KT_ASSERT_EQ(bad, 0);
}

KTEST(arch, fwcfg)
{
	uint16_t sel;
	int64_t size = arch_fwcfg_find("opt/damselfly/test", &sel);
	char buf[64];
	char *stack;

	KT_ASSERT_EQ(arch_fwcfg_find("no/such/file", &sel), -ENOENT);
	KT_ASSERT_EQ(size, 16);
	memset(buf, 0, sizeof(buf));
	KT_ASSERT_EQ(arch_fwcfg_read(sel, buf, 0, 16), 0);
	KT_ASSERT(memcmp(buf, "fw_cfg-test-data", 16) == 0);
	KT_ASSERT_EQ(arch_fwcfg_read(sel, buf, 7, 4), 0);
	KT_ASSERT(memcmp(buf, "test", 4) == 0);
	/* A buffer outside the identity map goes through the bounce page. */
	stack = arch_stack_alloc(8192);
	KT_ASSERT(stack != NULL);
	KT_ASSERT_EQ(arch_fwcfg_read(sel, stack + 4090, 0, 16), 0);
	KT_ASSERT(memcmp(stack + 4090, "fw_cfg-test-data", 16) == 0);
	arch_stack_free(stack, 8192);
}

/* test/CMakeLists.txt passes test/boot/module.txt with -initrd. */
KTEST(arch, pvh_module)
{
	static const char want[] = "damselfly boot module test\n";
	uint64_t base, size;

	KT_ASSERT_EQ(arch_boot_module(0, &base, &size), 0);
	KT_ASSERT_EQ(size, sizeof(want) - 1);
	KT_ASSERT(arch_addr_readable((void *)(uintptr_t)base, size));
	KT_ASSERT(memcmp((void *)(uintptr_t)base, want, size) == 0);
	KT_ASSERT_EQ(arch_boot_module(1, &base, &size), -ENOENT);
	KT_ASSERT_EQ(arch_boot_module(-1, &base, &size), -ENOENT);
}

/*
 * A device interrupt end to end: the UART raises "transmitter empty" on
 * IRQ 4, which the IOAPIC routes to a vector of ours.
 */
#define COM1 0x3f8
static volatile int uart_irqs;

static void
uart_intr(void *arg)
{
	(void)inb(COM1 + 2); /* IIR: reading it acknowledges THRE */
	outb(COM1 + 1, 0);   /* IER: no more interrupts */
	uart_irqs++;
}

KTEST(arch, ioapic_uart_irq)
{
	bool level, low;
	uint32_t gsi = acpi_isa_irq_to_gsi(4, &level, &low);
	int vec = arch_intr_alloc(uart_intr, NULL);
	uint64_t until;

	KT_ASSERT(vec >= 0);
	KT_ASSERT_EQ(arch_intr_route_gsi(gsi, vec, level, low), 0);
	KT_ASSERT_EQ(arch_intr_route_gsi(999, vec, false, false), -ENOENT);
	KT_ASSERT_EQ(arch_intr_route_gsi(gsi, 5, false, false), -EINVAL);
	outb(COM1 + 4, inb(COM1 + 4) | 0x08); /* MCR OUT2 gates the IRQ */
	outb(COM1 + 1, 0x02);		      /* IER: THR empty */
	until = arch_nanotime() + 1000000000;
	while (uart_irqs == 0 && arch_nanotime() < until)
		arch_idle_wait();
	arch_intr_mask_gsi(gsi, true);
	outb(COM1 + 1, 0);
	KT_ASSERT_EQ(uart_irqs, 1);
}

KTEST(arch, acpi_tables)
{
	KT_ASSERT(acpi_info.ai_present);
	KT_ASSERT(acpi_info.ai_ncpus >= 1);
	KT_ASSERT(acpi_info.ai_nioapic >= 1);
	KT_ASSERT(acpi_info.ai_hw_reduced ?
		acpi_info.ai_sleep_ctl.ag_addr != 0 :
		acpi_info.ai_pm1a_cnt_port != 0);
	KT_ASSERT(arch_ncpus_present() == acpi_info.ai_ncpus);
}

KTEST_F(arch, pci_q35, KTEST_Q35)
{
	KT_ASSERT(arch_pci_present());
	KT_ASSERT_EQ(arch_pci_read32(0, 0, 0, 0), 0x29c08086);
	KT_ASSERT_EQ(arch_pci_read32(0, 31, 7, 0), 0xffffffff);
	KT_ASSERT_EQ(arch_pci_read32(0, 0, 0, 2), 0xffffffff); /* unaligned */
	KT_ASSERT_EQ(arch_pci_read32(0, 32, 0, 0),
	    0xffffffff); /* no device 32 */
	KT_ASSERT_EQ(arch_pci_read32(0, 0, 0, 4096), 0xffffffff); /* beyond */
	KT_ASSERT(acpi_info.ai_mcfg_base != 0);
}

KTEST_F(arch, no_pci_microvm, KTEST_MICROVM)
{
	KT_ASSERT(
	    !arch_pci_present() || arch_pci_read32(0, 0, 0, 0) != 0x29c08086);
	KT_ASSERT(acpi_info.ai_hw_reduced);
}

KTEST(arch, ksyms)
{
	uintptr_t off;
	const char *name = arch_ksym((uintptr_t)arch_ksym, &off);

	KT_ASSERT(name != NULL);
	KT_ASSERT(strcmp(name, "arch_ksym") == 0);
	KT_ASSERT_EQ(off, 0);
	name = arch_ksym((uintptr_t)arch_ksym + 5, &off);
	KT_ASSERT(name != NULL && strcmp(name, "arch_ksym") == 0);
	KT_ASSERT_EQ(off, 5);
	KT_ASSERT(arch_ksym(0x1000, &off) == NULL);
}

/* ---- Faults on purpose: each ends the run with ARCH_EXIT_PANIC ---- */

KTEST_F(fault, page, KTEST_MANUAL)
{
	arch_test_fault(ARCH_FAULT_PAGE);
}

KTEST_F(fault, invalid_opcode, KTEST_MANUAL)
{
	arch_test_fault(ARCH_FAULT_UD);
}

KTEST_F(fault, stack_overflow, KTEST_MANUAL)
{
	arch_test_fault(ARCH_FAULT_STACK);
}

KTEST_F(fault, nx, KTEST_MANUAL)
{
	arch_test_fault(ARCH_FAULT_NX);
}

KTEST_F(fault, divide, KTEST_MANUAL)
{
	arch_test_fault(ARCH_FAULT_DIV);
}
