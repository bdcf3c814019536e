/*
 * arch/arch.h: the narrow interface between the machine and the rest of
 * Damselfly. Everything above arch/ reaches the hardware through this file
 * only; arch/x86_64/ implements it for QEMU's microvm and q35 machines.
 *
 * Interface:
 *  - Boot order (core/init.c): arch_early_init() on the boot stack with
 *    interrupts off; then the page allocator is fed arch_memmap(); then
 *    arch_init(). Nothing else here may be called before arch_early_init(),
 *    and nothing that allocates (arch_stack_alloc, arch_map_mmio of a new
 *    region) before arch_init().
 *  - Clocks: arch_nanotime() is monotonic nanoseconds since kernel entry,
 *    callable from any context, never blocks, never exits to the VMM on
 *    KVM (TSC based).
 *  - Interrupt handlers registered with arch_intr_register() run with
 *    interrupts disabled on the interrupted thread's stack (below its red
 *    zone); they must not block. They get the EOI done for them.
 *  - arch_exit() and arch_poweroff() never return, on either machine.
 *  - Physical and virtual addresses are the same for RAM (identity map);
 *    MMIO must be mapped with arch_map_mmio() before use.
 */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE  4096UL
#define PAGE_SHIFT 12
#define PAGE_MASK  (PAGE_SIZE - 1)

/* ---- Boot ---- */

void arch_early_init(void);
void arch_init(void);
/* Hands arch the page allocator, for page tables and stacks (before
 * arch_init()). alloc_page returns a page or NULL. */
void arch_set_page_allocator(void *(*alloc_page)(void),
    void (*free_page)(void *));

/* A range of usable RAM, after the image, boot data and firmware are cut. */
struct arch_memrange {
	uint64_t mr_base;
	uint64_t mr_size;
};
/* Fills up to max ranges, sorted, page-aligned; returns how many. */
int arch_memmap(struct arch_memrange *out, int max);
/* Total RAM the VMM reported, in bytes (usable or not). */
uint64_t arch_ram_total(void);

/* Boot module i (QEMU's -initrd is module 0): its physical range, kept
 * from the page allocator. Returns 0 or -ENOENT. */
int arch_boot_module(int i, uint64_t *base, uint64_t *size);

/* The kernel command line (never NULL; "" when there is none). */
const char *arch_cmdline(void);

/* The machine, as detected: "microvm" or "q35" (or "pc"). */
const char *arch_machine_name(void);
/* CPU vendor, brand and a list of the features in use, for the report. */
const char *arch_cpu_brand(void);
void arch_cpu_features_str(char *buf, size_t len);
/* Number of CPUs the firmware describes (ACPI MADT or device tree). */
int arch_ncpus_present(void);
/* "KVM", "TCG" or the hypervisor's CPUID signature, as the guest sees it. */
const char *arch_accelerator(void);
/* Bytes of the kernel image in memory, from its first byte to the end of
 * .bss. */
size_t arch_image_size(void);

/* ---- CPUs ---- */

#define ARCH_MAX_CPUS 64

/* This CPU's index, 0 (the boot CPU) .. arch_ncpus() - 1. */
static inline unsigned
arch_cpu_id(void)
{
	unsigned id;
	__asm__ volatile("movl %%gs:16, %0" : "=r"(id));
	return id;
}

/* The upper layer's per-CPU pointer (the scheduler's globaldata). */
static inline void *
arch_cpu_local(void)
{
	void *p;
	__asm__ volatile("movq %%gs:8, %0" : "=r"(p));
	return p;
}
void arch_cpu_set_local(void *p);

/* CPUs running (1 until arch_smp_start()). */
unsigned arch_ncpus(void);

/*
 * Starts every other CPU the firmware describes, up to max in all, one at
 * a time. AP number i (1..) switches to stack_top[i] with its thread
 * pointer (FS base) set to tls[i], sets itself up (GDT, TSS and IST
 * stacks, IDT, features, LAPIC) and calls entry(i) with interrupts off;
 * entry must not return. Returns the number of CPUs running.
 */
unsigned arch_smp_start(unsigned max, void *const *stack_top, void *const *tls,
    void (*entry)(unsigned cpu));

/* Sends interrupt vector to CPU cpu (an IPI); vector from
 * arch_intr_alloc(). Never blocks for long (the ICR accepts at once). */
void arch_ipi_send(unsigned cpu, int vector);

/* ---- Context switch ---- */

/* A thread's saved machine context: everything else is on its stack. */
struct arch_ctx {
	uint64_t ac_rsp;
};

/*
 * Prepares ctx so that the first arch_switch() to it runs
 * entry(arg) on the stack below stack_top, with interrupts disabled;
 * entry must not return.
 */
void arch_ctx_init(struct arch_ctx *ctx, void *stack_top, void (*entry)(void *),
    void *arg);
/*
 * Saves the callee-saved registers and RFLAGS (the interrupt flag
 * included) in from and resumes to. Returns when something switches
 * back to from.
 */
void arch_switch(struct arch_ctx *from, struct arch_ctx *to);

/* ---- Console ---- */

/* Writes to the serial console. Safe from any context; never blocks. */
void arch_console_write(const char *s, size_t n);

/* ---- Time ---- */

uint64_t arch_nanotime(void);
/* TSC frequency in Hz and how it was found ("cpuid-15h", "kvmclock", ...). */
uint64_t arch_tsc_hz(const char **source);

/*
 * One-shot timer on this CPU: calls the registered handler (interrupt
 * context) at or after deadline (arch_nanotime() scale). A deadline in the
 * past fires at once. arch_timer_arm(0) cancels.
 */
void arch_timer_set_handler(void (*fn)(void));
/* The timer's mode and the APIC's, for the boot report. */
const char *arch_timer_mode(void);
void arch_timer_arm(uint64_t deadline_ns);

/* ---- Interrupts ---- */

static inline void
arch_intr_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline void
arch_intr_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

/* Disables interrupts; returns whether they were enabled. */
static inline bool
arch_intr_save(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
	return (f & 0x200) != 0;
}

static inline void
arch_intr_restore(bool enabled)
{
	if (enabled)
		arch_intr_enable();
}

static inline bool
arch_intr_enabled(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return (f & 0x200) != 0;
}

/* Waits for an interrupt with interrupts enabled (sti; hlt). */
void arch_idle_wait(void);

/*
 * The scheduler's hooks into interrupt delivery. gate(vec) runs first,
 * interrupts off: false defers the interrupt (arch masks its IOAPIC pin
 * when it is level-triggered, sends the EOI and returns); the scheduler
 * later runs it with arch_intr_run(), which also unmasks the pin.
 * on_return() runs after every interrupt that was not deferred, still
 * with interrupts off, on the interrupted thread's stack: it may switch
 * threads (preemption).
 */
void arch_intr_set_hooks(bool (*gate)(int vec), void (*on_return)(void));
void arch_intr_run(int vec);

/*
 * Allocates an interrupt vector and routes a device interrupt to it.
 * arch_intr_route_gsi() programs the IOAPIC pin for a GSI (edge or level,
 * active high or low) to this CPU. Returns the vector or a negative errno.
 */
typedef void (*arch_intr_fn)(void *arg);
int arch_intr_alloc(arch_intr_fn fn, void *arg);
int arch_intr_route_gsi(unsigned gsi, int vector, bool level, bool active_low);
void arch_intr_mask_gsi(unsigned gsi, bool masked);

/* ---- Memory ---- */

/* Maps [pa, pa+len) uncached (identity); returns the virtual address. */
void *arch_map_mmio(uint64_t pa, size_t len);

/*
 * Kernel stacks in their own window, each with an unmapped guard page
 * below it. size is rounded up to pages. Returns the lowest usable address
 * (the top is base + size) or NULL.
 */
void *arch_stack_alloc(size_t size);
void arch_stack_free(void *base, size_t size);

/*
 * The physical address of va, for DMA: RAM is identity-mapped, so for it
 * the two are equal; a kernel stack (the stack window) is not, and is
 * translated page by page. Returns 0 for an unmapped address. A buffer
 * given to a device must not cross a page boundary unless it is in the
 * identity map (arch_dma_contiguous() tells).
 */
uint64_t arch_virt_to_phys(const void *va);
bool arch_dma_contiguous(const void *va, size_t len);

/*
 * The MSI address and data that deliver vector to CPU cpu (edge, fixed
 * delivery), for a device's MSI or MSI-X table entry.
 */
void arch_msi_message(unsigned cpu, int vector, uint64_t *addr, uint32_t *data);

/* Is [p, p+len) mapped readable? For the backtracer and debug checks. */
bool arch_addr_readable(const void *p, size_t len);

/* ---- FPU state, per thread ---- */

/* Bytes and alignment of a saved FPU/SSE/AVX area (XSAVE or FXSAVE). */
size_t arch_fpu_state_size(void);
#define ARCH_FPU_ALIGN 64
void arch_fpu_init_state(void *area);
void arch_fpu_save(void *area);
void arch_fpu_restore(const void *area);

/* ---- Thread-local storage ---- */

/* Bytes and alignment needed for a TLS block (static TLS + TCB). */
size_t arch_tls_size(void);
size_t arch_tls_align(void);
/* Lays out a TLS block in mem; returns the thread pointer (FS base). */
void *arch_tls_init(void *mem, uint64_t canary);
void arch_tls_activate(void *tp);
void *arch_tls_current(void);

/* 64 bits from RDRAND where the CPU has it, else the TSC mixed: for
 * canaries and hashing seeds, not for keys (those wait for virtio-rng). */
uint64_t arch_random_u64(void);

/* ---- Firmware configuration (QEMU fw_cfg) ---- */

/* Finds a fw_cfg file; returns its size or -ENOENT. */
int64_t arch_fwcfg_find(const char *name, uint16_t *selector);
/* Reads len bytes at offset off of a fw_cfg item, by DMA. */
int arch_fwcfg_read(uint16_t selector, void *buf, uint32_t off, uint32_t len);

/* ---- PCI configuration space (q35) ---- */

bool arch_pci_present(void);
uint32_t arch_pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned reg);
void arch_pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned reg,
    uint32_t val);

/* ---- Ending the run ---- */

/*
 * Exit status for tests, through QEMU's isa-debug-exit device (present on
 * both machines when the runner adds it). QEMU exits with (code << 1) | 1.
 */
#define ARCH_EXIT_PASS	0x10 /* QEMU status 33 */
#define ARCH_EXIT_FAIL	0x11 /* QEMU status 35 */
#define ARCH_EXIT_PANIC 0x12 /* QEMU status 37 */
_Noreturn void arch_exit(int code);
/* Clean power-off (ACPI on both machines; QEMU exits with status 0). */
_Noreturn void arch_poweroff(void);

/* ---- Debugging ---- */

/* Prints a symbolized backtrace starting at frame pointer fp. */
void arch_backtrace(uintptr_t fp, uintptr_t pc);
/* Looks up the function containing pc; returns its name or NULL. */
const char *arch_ksym(uintptr_t pc, uintptr_t *offset);
static inline uintptr_t
arch_frame_address(void)
{
	return (uintptr_t)__builtin_frame_address(0);
}

/* ---- Test hooks ---- */

/* Raises the given exception vector on purpose (for the fault tests). */
void arch_test_fault(int kind);
#define ARCH_FAULT_PAGE	 1 /* read through an unmapped address */
#define ARCH_FAULT_UD	 2 /* undefined instruction */
#define ARCH_FAULT_STACK 3 /* overflow the stack into its guard page */
#define ARCH_FAULT_NX	 4 /* jump into a data page */
#define ARCH_FAULT_DIV	 5 /* divide by zero */

#endif
