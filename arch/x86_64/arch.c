/*
 * The x86-64 boot sequence, the memory map handed to the page allocator,
 * and early printing.
 *
 * arch_early_init() runs on the boot stack with interrupts off:
 *   serial console, CPU identification, GDT/TSS/IDT (faults are reported
 *   from here on), SSE/AVX/NX, PVH start_info, final page tables, ACPI,
 *   TSC frequency.
 * arch_init() runs once the page allocator exists:
 *   LAPIC and its timer, IOAPIC, fw_cfg, PCI.
 *
 * Early printing (boot_print and friends) formats into a static buffer and
 * writes to the serial console; it is what exception reports use, so it
 * takes no locks beyond the console's re-entrant one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/pmap.h"

extern char __image_start[], __image_end[], boot_stack_guard[];

bool pcpu_ready;
static const char *machine_name = "unknown";
static void count_cpus_fwcfg(void);

/* ---------------------------------------------------------------- */
/* Early printing                                                   */
/* ---------------------------------------------------------------- */

static void
boot_vprint(const char *prefix, const char *fmt, va_list ap)
{
	static char buf[1024];
	static volatile int busy;
	char local[160];
	char *b = buf;
	size_t len = sizeof(buf);
	int n = 0;

	/* Re-entered (a fault while printing): use a small stack buffer. */
	if (__sync_lock_test_and_set(&busy, 1)) {
		b = local;
		len = sizeof(local);
	}
	if (prefix != NULL)
		n = snprintf(b, len, "%s", prefix);
	n += vsnprintf(b + n, len - (size_t)n, fmt, ap);
	if (n >= (int)len)
		n = (int)len - 1;
	arch_console_write(b, (size_t)n);
	if (b == buf)
		__sync_lock_release(&busy);
}

void
boot_print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	boot_vprint(NULL, fmt, ap);
	va_end(ap);
}

void
boot_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	boot_vprint("warning: ", fmt, ap);
	va_end(ap);
	arch_console_write("\n", 1);
}

_Noreturn void
boot_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	boot_vprint("\nFATAL: ", fmt, ap);
	va_end(ap);
	arch_console_write("\n", 1);
	arch_backtrace(arch_frame_address(), (uintptr_t)boot_fatal);
	arch_exit(ARCH_EXIT_PANIC);
}

/* ---------------------------------------------------------------- */
/* Boot sequence                                                    */
/* ---------------------------------------------------------------- */

void
arch_early_init(void)
{
	serial_init();
	cpu_identify();
	pmap_early_guard((uintptr_t)boot_stack_guard);
	cpu_init_bsp();
	pcpu_ready = true;
	pvh_parse(boot_start_info);
	cpu_enable_features();
	tls_init_boot();
	fpu_init();
	pmap_init();
	acpi_init();
	tsc_init();
}

static void
detect_machine(void)
{
	uint32_t id = pci_host_bridge_id();

	if (id == 0x29c08086)
		machine_name = "q35";
	else if (id == 0x12378086)
		machine_name = "pc";
	else
		machine_name = "microvm";
}

void
arch_init(void)
{
	lapic_init();
	pcpu_bsp.pc_apicid = lapic_id();
	pmap_shootdown_init();
	ioapic_init();
	fwcfg_init();
	count_cpus_fwcfg();
	pci_init();
	detect_machine();
}

void
arch_set_page_allocator(void *(*alloc_page)(void), void (*free_page)(void *))
{
	pmap_set_allocator(alloc_page);
	pmap_set_free(free_page);
}

/* ---------------------------------------------------------------- */
/* Memory map for the page allocator                                */
/* ---------------------------------------------------------------- */

/* Removes [lo, hi) from the ranges in r[0..n); returns the new count. */
static int
cut(struct arch_memrange *r, int n, int max, uint64_t lo, uint64_t hi)
{
	int i;

	for (i = 0; i < n; i++) {
		uint64_t a = r[i].mr_base, b = a + r[i].mr_size;
		if (hi <= a || lo >= b)
			continue;
		if (lo <= a && hi >= b) {
			memmove(&r[i], &r[i + 1],
			    (size_t)(n - i - 1) * sizeof(*r));
			n--;
			i--;
		} else if (lo <= a) {
			r[i].mr_base = hi;
			r[i].mr_size = b - hi;
		} else if (hi >= b) {
			r[i].mr_size = lo - a;
		} else if (n < max) {
			memmove(&r[i + 2], &r[i + 1],
			    (size_t)(n - i - 1) * sizeof(*r));
			r[i].mr_size = lo - a;
			r[i + 1].mr_base = hi;
			r[i + 1].mr_size = b - hi;
			n++;
			i++;
		} else {
			r[i].mr_size = lo - a; /* no room: lose the top part */
		}
	}
	return n;
}

int
arch_memmap(struct arch_memrange *out, int max)
{
	struct boot_memrange ram[BOOT_MAX_MEM];
	uint64_t es, ee;
	int i, n = 0, nram = pvh_usable_ram(ram, BOOT_MAX_MEM);

	for (i = 0; i < nram && n < max; i++) {
		uint64_t lo = (ram[i].br_base + PAGE_MASK) & ~PAGE_MASK;
		uint64_t hi = (ram[i].br_base + ram[i].br_size) & ~PAGE_MASK;
		if (hi > lo) {
			out[n].mr_base = lo;
			out[n].mr_size = hi - lo;
			n++;
		}
	}
	/* Low memory holds the firmware's data and, later, the AP trampoline.
	 */
	n = cut(out, n, max, 0, 1ULL << 20);
	n = cut(out, n, max, (uintptr_t)__image_start, (uintptr_t)__image_end);
	pmap_early_region(&es, &ee);
	n = cut(out, n, max, es, ee);
	for (i = 0; i < bootinfo.bi_nmod; i++) {
		uint64_t b = bootinfo.bi_mod[i].bm_base;
		uint64_t e = b + bootinfo.bi_mod[i].bm_size;
		if (e < b)
			e = UINT64_MAX; /* a bogus size: keep everything above
					 */
		n = cut(out, n, max, b & ~PAGE_MASK,
		    e > UINT64_MAX - PAGE_MASK ? UINT64_MAX :
						 (e + PAGE_MASK) & ~PAGE_MASK);
	}
	return n;
}

/* ---------------------------------------------------------------- */
/* Small queries                                                    */
/* ---------------------------------------------------------------- */

const char *
arch_machine_name(void)
{
	return machine_name;
}

/* From the MADT; without ACPI, fw_cfg's count (read once, at arch_init). */
static int fwcfg_ncpus;

int
arch_ncpus_present(void)
{
	if (acpi_info.ai_ncpus > 0)
		return acpi_info.ai_ncpus;
	return fwcfg_ncpus > 0 ? fwcfg_ncpus : 1;
}

static void
count_cpus_fwcfg(void)
{
	uint16_t n = 0;

	if (acpi_info.ai_ncpus == 0 && arch_fwcfg_read(0x05, &n, 0, 2) == 0)
		fwcfg_ncpus = n > ARCH_MAX_CPUS ? ARCH_MAX_CPUS : n;
}

const char *
arch_accelerator(void)
{
	if (strcmp(cpu_feat.hv_vendor, "KVMKVMKVM") == 0)
		return "KVM";
	if (strcmp(cpu_feat.hv_vendor, "TCGTCGTCGTCG") == 0 ||
	    !cpu_feat.hypervisor)
		return "TCG";
	return cpu_feat.hv_vendor;
}

size_t
arch_image_size(void)
{
	return (size_t)(__image_end - __image_start);
}

const char *
arch_timer_mode(void)
{
	return lapic_x2apic_mode() ?
	    (strcmp(lapic_timer_mode(), "tsc-deadline") == 0 ?
		    "tsc-deadline, x2apic" :
		    "one-shot, x2apic") :
	    (strcmp(lapic_timer_mode(), "tsc-deadline") == 0 ?
		    "tsc-deadline, xapic" :
		    "one-shot, xapic");
}

void
arch_idle_wait(void)
{
	cpu_sti_hlt();
}
