/*
 * IOAPICs: every device interrupt (GSI) goes through one. Their addresses
 * and GSI bases come from the ACPI MADT; without ACPI (microvm with
 * acpi=off) the standard one at 0xfec00000 with GSI base 0 is assumed.
 * Every pin starts masked.
 *
 * Interface:
 *  - ioapic_init() on the BSP after lapic_init().
 *  - arch_intr_route_gsi() sends a GSI to the boot CPU; issue 3 (SMP)
 *    may spread them.
 */
#include <errno.h>
#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10
#define IOAPIC_VER    0x01
#define IOREDTBL(n)   (0x10 + 2 * (n))

#define RTE_LEVEL     (1u << 15)
#define RTE_ACTIVELOW (1u << 13)
#define RTE_MASKED    (1u << 16)

struct ioapic {
	uintptr_t io_base;
	uint32_t io_gsi_base;
	uint32_t io_npins;
};
static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static int nioapic;
static volatile int ioapic_lock;
/* Vector -> GSI + 1 for level-triggered routes (0: none). */
static uint16_t level_gsi[256];

static uint32_t
ioapic_read(struct ioapic *io, uint32_t reg)
{
	mmio_write32(io->io_base + IOAPIC_REGSEL, reg);
	return mmio_read32(io->io_base + IOAPIC_WIN);
}

static void
ioapic_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
	mmio_write32(io->io_base + IOAPIC_REGSEL, reg);
	mmio_write32(io->io_base + IOAPIC_WIN, v);
}

static void
ioapic_add(uint64_t pa, uint32_t gsi_base)
{
	struct ioapic *io = &ioapics[nioapic];
	uint32_t pin;

	io->io_base = (uintptr_t)arch_map_mmio(pa, 4096);
	if (io->io_base == 0) {
		boot_warn("ioapic: cannot map %#lx", (unsigned long)pa);
		return;
	}
	io->io_gsi_base = gsi_base;
	io->io_npins = ((ioapic_read(io, IOAPIC_VER) >> 16) & 0xff) + 1;
	for (pin = 0; pin < io->io_npins; pin++) {
		ioapic_write(io, IOREDTBL(pin) + 1, 0);
		ioapic_write(io, IOREDTBL(pin), RTE_MASKED);
	}
	nioapic++;
}

void
ioapic_init(void)
{
	int i;

	for (i = 0; i < acpi_info.ai_nioapic; i++)
		ioapic_add(acpi_info.ai_ioapic[i].addr,
		    acpi_info.ai_ioapic[i].gsi_base);
	if (acpi_info.ai_nioapic == 0)
		ioapic_add(0xfec00000, 0);
}

static struct ioapic *
ioapic_for(unsigned gsi, unsigned *pin)
{
	int i;

	for (i = 0; i < nioapic; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi >= io->io_gsi_base &&
		    gsi < io->io_gsi_base + io->io_npins) {
			*pin = gsi - io->io_gsi_base;
			return io;
		}
	}
	return NULL;
}

int
arch_intr_route_gsi(unsigned gsi, int vector, bool level, bool active_low)
{
	unsigned pin;
	struct ioapic *io = ioapic_for(gsi, &pin);
	uint32_t lo = (uint32_t)vector | RTE_MASKED;

	if (io == NULL)
		return -ENOENT;
	if (vector < 0x20 || vector > 0xff)
		return -EINVAL;
	if (level)
		lo |= RTE_LEVEL;
	if (active_low)
		lo |= RTE_ACTIVELOW;
	while (!__sync_bool_compare_and_swap(&ioapic_lock, 0, 1))
		cpu_pause();
	ioapic_write(io, IOREDTBL(pin) + 1, lapic_id() << 24);
	ioapic_write(io, IOREDTBL(pin), lo & ~RTE_MASKED);
	level_gsi[vector] = level ? (uint16_t)(gsi + 1) : 0;
	__atomic_store_n(&ioapic_lock, 0, __ATOMIC_RELEASE);
	return 0;
}

void
arch_intr_mask_gsi(unsigned gsi, bool masked)
{
	unsigned pin;
	struct ioapic *io = ioapic_for(gsi, &pin);
	uint32_t lo;

	if (io == NULL)
		return;
	while (!__sync_bool_compare_and_swap(&ioapic_lock, 0, 1))
		cpu_pause();
	lo = ioapic_read(io, IOREDTBL(pin));
	lo = masked ? lo | RTE_MASKED : lo & ~RTE_MASKED;
	ioapic_write(io, IOREDTBL(pin), lo);
	__atomic_store_n(&ioapic_lock, 0, __ATOMIC_RELEASE);
}

void
ioapic_mask_vector(int vec, bool masked)
{
	uint16_t g = level_gsi[vec & 0xff];

	if (g != 0)
		arch_intr_mask_gsi(g - 1u, masked);
}
