/*
 * Local APIC: x2APIC mode (MSRs) where the CPU offers it, else xAPIC
 * (MMIO at the address in IA32_APIC_BASE). Its timer drives
 * arch_timer_arm(): TSC-deadline mode where offered (one MSR write per
 * arm, no calibration), else one-shot mode with a count calibrated once
 * against the TSC.
 *
 * On KVM each EOI and each timer arm is a VM exit (an MSR write); nothing
 * else here is on a hot path.
 *
 * Interface:
 *  - lapic_init() on each CPU after tsc_init(); interrupts stay disabled.
 *  - arch_timer_arm() and arch_timer_set_handler() act on the calling CPU.
 */
#include "arch/arch.h"
#include "core/kern.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/trap.h"

#define MSR_APIC_BASE	   0x1b
#define APIC_BASE_EN	   (1u << 11)
#define APIC_BASE_EXTD	   (1u << 10)
#define MSR_TSC_DEADLINE   0x6e0

#define LAPIC_ID	   0x020
#define LAPIC_TPR	   0x080
#define LAPIC_EOI	   0x0b0
#define LAPIC_SVR	   0x0f0
#define LAPIC_ESR	   0x280
#define LAPIC_ICR_LO	   0x300
#define LAPIC_ICR_HI	   0x310
#define LAPIC_LVT_TIMER	   0x320
#define LAPIC_LVT_LINT0	   0x350
#define LAPIC_LVT_LINT1	   0x360
#define LAPIC_LVT_ERROR	   0x370
#define LAPIC_TIMER_ICR	   0x380
#define LAPIC_TIMER_CCR	   0x390
#define LAPIC_TIMER_DCR	   0x3e0

#define LVT_MASKED	   (1u << 16)
#define LVT_NMI		   (4u << 8)
#define LVT_TIMER_DEADLINE (2u << 17)

static bool x2apic;
static uintptr_t xapic_base;
static bool use_deadline;
static uint64_t lapic_timer_hz; /* one-shot mode, divide by 1 */
static void (*timer_handler)(void);

static uint32_t
lapic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return mmio_read32(xapic_base + reg);
}

static void
lapic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		mmio_write32(xapic_base + reg, v);
}

void
lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint32_t
lapic_id(void)
{
	uint32_t id = lapic_read(LAPIC_ID);
	return x2apic ? id : id >> 24;
}

bool
lapic_x2apic_mode(void)
{
	return x2apic;
}

const char *
lapic_timer_mode(void)
{
	return use_deadline ? "tsc-deadline" : "one-shot";
}

/* Counts the one-shot timer against the TSC for 1 ms (a count of ~10^6
 * at QEMU's 1 GHz APIC bus: 0.1%). */
static void
calibrate_timer(void)
{
	uint64_t t0, wait = tsc_ns_to_ticks(1000000);
	uint32_t left;

	lapic_write(LAPIC_TIMER_DCR, 0xb); /* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	lapic_write(LAPIC_TIMER_ICR, 0xffffffff);
	t0 = rdtsc();
	while (rdtsc() - t0 < wait)
		cpu_pause();
	left = lapic_read(LAPIC_TIMER_CCR);
	lapic_write(LAPIC_TIMER_ICR, 0);
	lapic_timer_hz = (uint64_t)(0xffffffffu - left) * 1000;
	if (lapic_timer_hz == 0) {
		boot_warn("lapic: timer does not count; assuming 1 GHz");
		lapic_timer_hz = 1000000000;
	}
}

static void
timer_intr(void *arg)
{
	struct pcpu *pc = pcpu_self();
	uint64_t d = pc->pc_timer_deadline;

	if (d == 0)
		return;
	if (arch_nanotime() < d) {
		arch_timer_arm(d); /* a one-shot count too short to reach it */
		return;
	}
	pc->pc_timer_deadline = 0;
	if (timer_handler != NULL)
		timer_handler();
}

void (*lapic_timer_handler(void))(void)
{
	return timer_handler;
}

void
arch_timer_set_handler(void (*fn)(void))
{
	timer_handler = fn;
}

void
arch_timer_arm(uint64_t deadline_ns)
{
	uint64_t now, delta;

	pcpu_self()->pc_timer_deadline = deadline_ns;
	if (use_deadline) {
		if (deadline_ns == 0) {
			wrmsr(MSR_TSC_DEADLINE, 0);
			return;
		}
		now = arch_nanotime();
		delta = deadline_ns > now ? deadline_ns - now : 0;
		wrmsr(MSR_TSC_DEADLINE, rdtsc() + tsc_ns_to_ticks(delta) + 1);
		return;
	}
	if (deadline_ns == 0) {
		lapic_write(LAPIC_TIMER_ICR, 0);
		return;
	}
	now = arch_nanotime();
	delta = deadline_ns > now ? deadline_ns - now : 0;
	delta =
	    (uint64_t)((unsigned __int128)delta * lapic_timer_hz / 1000000000);
	if (delta == 0)
		delta = 1;
	if (delta > 0xffffffffu)
		delta = 0xffffffffu;
	lapic_write(LAPIC_TIMER_ICR, (uint32_t)delta);
}

/*
 * Writes the interrupt command register: in x2APIC mode one MSR write; in
 * xAPIC mode the destination, then the command, then a wait for the
 * delivery-status bit (the LAPIC accepts at once under QEMU and KVM),
 * with interrupts off throughout.
 */
void
lapic_icr(uint32_t apic_id, uint32_t cmd)
{
	if (x2apic) {
		wrmsr(0x800 + (LAPIC_ICR_LO >> 4),
		    ((uint64_t)apic_id << 32) | cmd);
		return;
	}
	/* Two writes: an interrupt in between whose handler sends an IPI
	 * would change the destination under us. */
	bool intr = arch_intr_save();

	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, cmd);
	while (lapic_read(LAPIC_ICR_LO) & (1u << 12))
		cpu_pause();
	arch_intr_restore(intr);
}

/*
 * MSI: address 0xfee00000 with the destination APIC ID in bits 12-19
 * (physical destination mode); data is the vector, fixed delivery, edge.
 * APIC IDs above 255 would need the interrupt remapping we do not have.
 */
void
arch_msi_message(unsigned cpu, int vector, uint64_t *addr, uint32_t *data)
{
	uint32_t apic = pcpu_all[cpu].pc_apicid;

	KKASSERT(apic < 256);
	*addr = 0xfee00000ULL | ((uint64_t)apic << 12);
	*data = (uint32_t)vector & 0xff;
}

void
arch_ipi_send(unsigned cpu, int vector)
{
	lapic_icr(pcpu_all[cpu].pc_apicid, (uint32_t)vector);
}

void
lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	bool bsp = !pcpu_ready || pcpu_self()->pc_cpuid == 0;

	if (cpu_feat.x2apic) {
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
		x2apic = true;
	} else {
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
		if (bsp)
			xapic_base =
			    (uintptr_t)arch_map_mmio(base & ~0xfffULL, 4096);
		if (xapic_base == 0)
			boot_fatal("lapic: cannot map the xAPIC");
	}
	if (bsp) {
		/* Mask the legacy PICs: every interrupt goes by the IOAPIC. */
		outb(0x21, 0xff);
		outb(0xa1, 0xff);
	}
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_NMI);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_write(LAPIC_ESR, 0);
	if (bsp) {
		trap_set_vector(VEC_TIMER, timer_intr, NULL);
		use_deadline = cpu_feat.tsc_deadline;
		if (!use_deadline)
			calibrate_timer(); /* once: every CPU's runs alike */
	}
	lapic_write(LAPIC_LVT_TIMER,
	    VEC_TIMER | (use_deadline ? LVT_TIMER_DEADLINE : 0));
	if (!use_deadline)
		lapic_write(LAPIC_TIMER_DCR, 0xb); /* divide by 1 */
}
