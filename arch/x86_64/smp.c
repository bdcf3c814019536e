/*
 * Starting the application processors.
 *
 * The CPUs come from the ACPI MADT (q35, and microvm with ACPI) or, without
 * ACPI, from fw_cfg's CPU count with APIC IDs 0..n-1 (microvm with
 * acpi=off). The boot CPU copies the 16-bit trampoline (boot.S) to
 * AP_TRAMP_PA and starts the APs one at a time with INIT-SIPI-SIPI, handing
 * each its index, stack and TLS pointer through the ap_* variables; each AP
 * reaches ap_start() in long mode on the kernel's page tables, sets up its
 * own GDT, TSS and IST stacks, features and LAPIC, and calls the entry the
 * scheduler gave.
 *
 * Interface:
 *  - arch_smp_start() once, from the boot CPU, after arch_init(); it waits
 *    for each AP to reach its C entry before starting the next.
 */
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/pmap.h"
#include "arch/x86_64/trap.h"

#define ICR_INIT 0x00004500 /* INIT, level assert */
#define ICR_SIPI 0x00004600 /* start-up */

extern char ap_tramp[], ap_tramp_end[];
extern uint64_t ap_cr3, ap_efer, ap_stack, ap_tls, ap_cpu;

static unsigned ncpus_running = 1;
static void (*ap_entry)(unsigned cpu);

unsigned
arch_ncpus(void)
{
	return ncpus_running;
}

/* APIC IDs of the CPUs to start, the boot CPU's first. */
static unsigned
cpu_apic_ids(uint32_t *ids, unsigned max)
{
	uint32_t me = lapic_id();
	unsigned n = 1, i;
	uint16_t count;

	ids[0] = me;
	if (acpi_info.ai_ncpus > 0) {
		for (i = 0; i < (unsigned)acpi_info.ai_ncpus && n < max; i++)
			if (acpi_info.ai_apic_id[i] != me)
				ids[n++] = acpi_info.ai_apic_id[i];
		return n;
	}
	/* No MADT: fw_cfg's count, with APIC IDs numbered from 0. */
	count = (uint16_t)arch_ncpus_present();
	for (i = 0; i < count && n < max; i++)
		if (i != me)
			ids[n++] = i;
	return n;
}

static void
wait_us(uint64_t us)
{
	uint64_t end = arch_nanotime() + us * 1000;

	while (arch_nanotime() < end)
		cpu_pause();
}

/* Waits up to us microseconds for AP cpu to reach ap_start(). */
static bool
wait_started(unsigned cpu, uint64_t us)
{
	uint64_t end = arch_nanotime() + us * 1000;

	while (arch_nanotime() < end) {
		if (__atomic_load_n(&pcpu_all[cpu].pc_started,
			__ATOMIC_ACQUIRE))
			return true;
		cpu_pause();
	}
	return false;
}

static bool
start_one(unsigned cpu, uint32_t apic_id, void *stack_top, void *tls)
{
	pcpu_all[cpu].pc_apicid = apic_id;
	ap_stack = (uintptr_t)stack_top;
	ap_tls = (uintptr_t)tls;
	ap_cpu = cpu;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_icr(apic_id, ICR_INIT);
	wait_us(10);
	lapic_icr(apic_id, ICR_SIPI | (AP_TRAMP_PA >> 12));
	if (wait_started(cpu, 10000))
		return true;
	lapic_icr(apic_id, ICR_SIPI | (AP_TRAMP_PA >> 12));
	return wait_started(cpu, 1000000);
}

unsigned
arch_smp_start(unsigned max, void *const *stack_top, void *const *tls,
    void (*entry)(unsigned cpu))
{
	uint32_t ids[ARCH_MAX_CPUS];
	unsigned n, i;

	if (max > ARCH_MAX_CPUS)
		max = ARCH_MAX_CPUS;
	n = cpu_apic_ids(ids, max);
	if (n <= 1)
		return ncpus_running;
	memcpy((void *)(uintptr_t)AP_TRAMP_PA, ap_tramp,
	    (size_t)(ap_tramp_end - ap_tramp));
	ap_cr3 = read_cr3();
	ap_efer = EFER_LME | (cpu_feat.nx ? EFER_NXE : 0);
	ap_entry = entry;
	for (i = 1; i < n; i++) {
		if (!start_one(i, ids[i], stack_top[i], tls[i])) {
			boot_warn("smp: CPU %u (APIC ID %u) did not start; "
				  "running on %u",
			    i, ids[i], i);
			break;
		}
		ncpus_running = i + 1;
	}
	return ncpus_running;
}

/* IST stacks for an AP, each above its own guard page. */
static bool
alloc_ist(struct pcpu *pc)
{
	int i;

	for (i = 0; i < IST_COUNT; i++) {
		char *s = arch_stack_alloc(IST_STACK_SIZE);
		if (s == NULL)
			return false;
		pc->pc_ist_top[i] = s + IST_STACK_SIZE;
	}
	return true;
}

void ap_start(unsigned cpu);

/* An AP's first C code: on its own stack, with its TLS, interrupts off. */
void
ap_start(unsigned cpu)
{
	struct pcpu *pc = &pcpu_all[cpu];

	pc->pc_self = pc;
	pc->pc_cpuid = cpu;
	wrmsr(MSR_GS_BASE, (uintptr_t)pc); /* before anything logs */
	if (!alloc_ist(pc))
		boot_fatal("smp: no memory for CPU %u's IST stacks", cpu);
	cpu_load_tables(pc);
	cpu_enable_features();
	lapic_init();
	__atomic_store_n(&pc->pc_started, 1, __ATOMIC_RELEASE);
	ap_entry(cpu);
	boot_fatal("smp: CPU %u's entry returned", cpu);
}
