/*
 * PCI configuration space: through PCIe ECAM (memory-mapped, from the ACPI
 * MCFG table) where there is one, one MMIO access per register; else
 * through the legacy ports 0xcf8/0xcfc (two port accesses, two VM exits on
 * KVM). q35 has both; microvm has PCI only with pcie=on.
 *
 * ECAM is mapped a bus (1 MiB) at a time, on first use.
 *
 * Interface:
 *  - pci_init() once during arch_init().
 *  - Register offsets must be 4-byte aligned and below 256 (legacy) or
 *    4096 (ECAM); others read as all-ones and writes are dropped.
 */
#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"

static uintptr_t ecam_base;
static uint8_t ecam_bus_lo, ecam_bus_hi;
static uint8_t ecam_mapped[256 / 8];
static bool legacy_ok;
static volatile int pci_lock;

static uintptr_t
ecam_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	uintptr_t a;

	if (ecam_base == 0 || bus < ecam_bus_lo || bus > ecam_bus_hi)
		return 0;
	a = ecam_base + ((uintptr_t)(bus - ecam_bus_lo) << 20);
	if (!(ecam_mapped[bus / 8] & (1u << (bus % 8)))) {
		if (arch_map_mmio(a, 1u << 20) == NULL)
			return 0;
		__atomic_or_fetch(&ecam_mapped[bus / 8], 1u << (bus % 8),
		    __ATOMIC_RELEASE);
	}
	return a + ((uintptr_t)dev << 15) + ((uintptr_t)fn << 12) + reg;
}

static bool
valid(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return bus < 256 && dev < 32 && fn < 8 && reg < 4096 && (reg & 3) == 0;
}

static uint32_t
legacy_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | reg;
}

uint32_t
arch_pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	uintptr_t a;
	uint32_t v = 0xffffffff;

	if (!valid(bus, dev, fn, reg))
		return v;
	if ((a = ecam_addr(bus, dev, fn, reg)) != 0)
		return mmio_read32(a);
	if (!legacy_ok || reg >= 256)
		return v;
	while (!__sync_bool_compare_and_swap(&pci_lock, 0, 1))
		cpu_pause();
	outl(0xcf8, legacy_addr(bus, dev, fn, reg));
	v = inl(0xcfc);
	__atomic_store_n(&pci_lock, 0, __ATOMIC_RELEASE);
	return v;
}

void
arch_pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned reg,
    uint32_t val)
{
	uintptr_t a;

	if (!valid(bus, dev, fn, reg))
		return;
	if ((a = ecam_addr(bus, dev, fn, reg)) != 0) {
		mmio_write32(a, val);
		return;
	}
	if (!legacy_ok || reg >= 256)
		return;
	while (!__sync_bool_compare_and_swap(&pci_lock, 0, 1))
		cpu_pause();
	outl(0xcf8, legacy_addr(bus, dev, fn, reg));
	outl(0xcfc, val);
	__atomic_store_n(&pci_lock, 0, __ATOMIC_RELEASE);
}

bool
arch_pci_present(void)
{
	return ecam_base != 0 || legacy_ok;
}

/* Vendor and device of 00:00.0, the host bridge; all-ones if none. */
uint32_t
pci_host_bridge_id(void)
{
	return arch_pci_read32(0, 0, 0, 0);
}

void
pci_init(void)
{
	if (acpi_info.ai_mcfg_base != 0) {
		ecam_base = (uintptr_t)acpi_info.ai_mcfg_base;
		ecam_bus_lo = acpi_info.ai_mcfg_bus_start;
		ecam_bus_hi = acpi_info.ai_mcfg_bus_end;
	}
	/* The legacy mechanism answers with its enable bit at 0xcf8. */
	outl(0xcf8, 0x80000000u);
	legacy_ok = inl(0xcf8) == 0x80000000u;
	outl(0xcf8, 0);
}
