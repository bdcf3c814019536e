/*
 * Ending the run.
 *
 * arch_exit(code): QEMU's isa-debug-exit device (the runner adds
 * "-device isa-debug-exit,iobase=0xf4,iosize=4" on both machines) ends QEMU
 * with status (code << 1) | 1. Without the device the write is ignored and
 * we power off instead.
 *
 * arch_poweroff(): ACPI S5. On microvm (hardware-reduced ACPI) through the
 * FADT's sleep control register; on q35 through PM1a_CNT. The sleep type
 * comes from the DSDT's \_S5 package (0 on QEMU's q35, 5 on microvm's
 * generic event device). If neither works, a triple fault resets the
 * machine, which the runner's -no-reboot turns into an exit.
 */
#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"

#define DEBUG_EXIT_PORT 0xf4
#define SLP_EN_PM1	(1u << 13)
#define SLP_EN_HWR	(1u << 5)

static void
gas_write8(const struct acpi_gas *g, uint8_t v)
{
	if (g->ag_addr == 0)
		return;
	if (g->ag_space == 1)
		outb((uint16_t)g->ag_addr, v);
	else if (g->ag_space == 0 && arch_map_mmio(g->ag_addr, 1) != NULL)
		*(volatile uint8_t *)(uintptr_t)g->ag_addr = v;
}

static void
wait_ms(unsigned ms)
{
	uint64_t end = arch_nanotime() + (uint64_t)ms * 1000000;

	while (arch_nanotime() < end)
		cpu_pause();
}

static _Noreturn void
triple_fault(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) null_idt = { 0, 0 };

	__asm__ volatile("cli; lidt %0; int3" : : "m"(null_idt));
	for (;;)
		cpu_hlt();
}

_Noreturn void
arch_poweroff(void)
{
	int typ = acpi_info.ai_s5_typ;

	arch_intr_disable();
	if (acpi_info.ai_hw_reduced && acpi_info.ai_sleep_ctl.ag_addr != 0) {
		gas_write8(&acpi_info.ai_sleep_ctl,
		    (uint8_t)(((typ < 0 ? 5 : typ) & 7) << 2) | SLP_EN_HWR);
	} else if (acpi_info.ai_pm1a_cnt_port != 0) {
		uint16_t port = acpi_info.ai_pm1a_cnt_port;
		uint16_t v = inw(port) & ~(7u << 10);
		outw(port,
		    v | (uint16_t)(((typ < 0 ? 0 : typ) & 7) << 10) |
			SLP_EN_PM1);
	}
	/*
	 * QEMU acts on the request from its main loop; under KVM the vCPU
	 * runs on until then. Wait up to half a second before resetting.
	 */
	wait_ms(500);
	triple_fault();
}

_Noreturn void
arch_exit(int code)
{
	arch_intr_disable();
	outl(DEBUG_EXIT_PORT, (uint32_t)code);
	wait_ms(100); /* as for the ACPI request below */
	arch_poweroff();
}
