/*
 * Time: the TSC is the clock. Its frequency comes from, in order:
 *   1. CPUID leaf 0x15 (crystal clock and ratio), or 0x16 (base MHz);
 *   2. the hypervisor's timing leaf 0x40000010 (TSC kHz), which KVM/QEMU
 *      offer with an invariant TSC;
 *   3. kvmclock's pvclock scale (KVM);
 *   4. calibration against the ACPI PM timer (q35) or the i8254 PIT
 *      (microvm), over 10 ms: 0.01% at worst, and 10 ms of boot time
 *      under TCG, which offers none of the above.
 * arch_nanotime() is then one RDTSC and a 128-bit multiply: no VM exit, no
 * lock. It never goes backwards on a CPU.
 *
 * Interface:
 *  - tsc_init() once on the BSP during arch_early_init(), after acpi_init()
 *    (for the PM timer) and before anything reads the clock.
 */
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"

static uint64_t tsc_hz;
static uint64_t tsc_mult; /* ns = (ticks * tsc_mult) >> 32 */
static const char *tsc_source = "none";

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock");

static struct pvclock_vcpu_time_info kvmclock_area __attribute__((aligned(64)));

static uint64_t
from_cpuid(void)
{
	struct cpuid_regs r;

	if (cpu_feat.max_leaf >= 0x15) {
		r = cpuid(0x15, 0);
		if (r.eax != 0 && r.ebx != 0 && r.ecx != 0) {
			tsc_source = "cpuid-15h";
			return (uint64_t)r.ecx * r.ebx / r.eax;
		}
	}
	if (cpu_feat.max_leaf >= 0x16) {
		r = cpuid(0x16, 0);
		if ((r.eax & 0xffff) != 0) {
			tsc_source = "cpuid-16h";
			return (uint64_t)(r.eax & 0xffff) * 1000000;
		}
	}
	return 0;
}

static uint64_t
from_hypervisor_leaf(void)
{
	if (!cpu_feat.hypervisor || cpuid(0x40000000, 0).eax < 0x40000010)
		return 0;
	uint32_t khz = cpuid(0x40000010, 0).eax;
	if (khz == 0)
		return 0;
	tsc_source = "cpuid-40000010h";
	return (uint64_t)khz * 1000;
}

static uint64_t
from_kvmclock(void)
{
	struct pvclock_vcpu_time_info *p = &kvmclock_area;
	uint64_t hz;

	if (!cpu_feat.kvmclock)
		return 0;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uintptr_t)p | 1);
	if (p->tsc_to_system_mul == 0)
		return 0;
	/* ns = ((ticks << shift) * mul) >> 32, or ticks >> -shift */
	hz = (uint64_t)(((unsigned __int128)1000000000 << 32) /
	    p->tsc_to_system_mul);
	if (p->tsc_shift > 0)
		hz >>= p->tsc_shift;
	else
		hz <<= -p->tsc_shift;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	tsc_source = "kvmclock";
	return hz;
}

/*
 * PIT channel 2, gated by port 0x61, counting down from 0xffff at
 * 1.193182 MHz in mode 0; we time 'ms' milliseconds of it with the TSC.
 * Returns 0 when no PIT answers (the count never moves).
 */
#define PIT_HZ 1193182
static uint64_t
calibrate_pit(unsigned ms)
{
	uint32_t ticks = PIT_HZ * ms / 1000;
	uint64_t t0, t1;
	uint16_t start, now;
	uint8_t lo, hi;
	uint32_t spins = 0;

	outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0);			/* ch2, lo/hi, mode 0, binary */
	outb(0x42, 0xff);
	outb(0x42, 0xff);
	outb(0x43, 0x80); /* latch ch2 */
	lo = inb(0x42);
	hi = inb(0x42);
	start = (uint16_t)(lo | hi << 8);
	t0 = rdtsc_ordered();
	for (;;) {
		outb(0x43, 0x80);
		lo = inb(0x42);
		hi = inb(0x42);
		now = (uint16_t)(lo | hi << 8);
		if ((uint16_t)(start - now) >= ticks)
			break;
		if (++spins > 10000000 || (spins > 100000 && now == start))
			return 0;
	}
	t1 = rdtsc_ordered();
	return (t1 - t0) * PIT_HZ / (uint16_t)(start - now);
}

/* The ACPI PM timer, 3.579545 MHz, 24 or 32 bits. */
#define PMTMR_HZ 3579545
static uint64_t
calibrate_pmtimer(unsigned ms)
{
	uint16_t port = acpi_info.ai_pm_tmr_port;
	uint32_t mask = acpi_info.ai_pm_tmr_32 ? 0xffffffff : 0xffffff;
	uint32_t want = PMTMR_HZ / 1000 * ms, start, now, spins = 0;
	uint64_t t0, t1;

	if (port == 0)
		return 0;
	start = inl(port) & mask;
	t0 = rdtsc_ordered();
	do {
		now = inl(port) & mask;
		if (++spins > 10000000)
			return 0;
	} while (((now - start) & mask) < want);
	t1 = rdtsc_ordered();
	return (t1 - t0) * PMTMR_HZ / ((now - start) & mask);
}

void
tsc_init(void)
{
	tsc_hz = from_cpuid();
	if (tsc_hz == 0)
		tsc_hz = from_hypervisor_leaf();
	if (tsc_hz == 0)
		tsc_hz = from_kvmclock();
	if (tsc_hz == 0 && (tsc_hz = calibrate_pmtimer(10)) != 0)
		tsc_source = "acpi-pm-timer calibration";
	if (tsc_hz == 0 && (tsc_hz = calibrate_pit(10)) != 0)
		tsc_source = "pit calibration";
	if (tsc_hz == 0) {
		tsc_hz = 1000000000;
		tsc_source = "assumed 1 GHz (no reference clock)";
		boot_warn("tsc: no way to measure the TSC; assuming 1 GHz");
	}
	tsc_mult = (uint64_t)(((unsigned __int128)1000000000 << 32) / tsc_hz);
}

static inline uint64_t
ticks_to_ns(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * tsc_mult) >> 32);
}

uint64_t
arch_nanotime(void)
{
	return ticks_to_ns(rdtsc() - boot_tsc_entry);
}

uint64_t
arch_tsc_hz(const char **source)
{
	if (source != NULL)
		*source = tsc_source;
	return tsc_hz;
}

uint64_t
tsc_ns_to_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * tsc_hz / 1000000000);
}
