/* What acpi.c reads from the firmware's ACPI tables. Private to arch. */
#ifndef ARCH_X86_64_ACPI_H
#define ARCH_X86_64_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_CPUS	 64
#define ACPI_MAX_IOAPICS 4
#define ACPI_MAX_ISOS	 16

/* A Generic Address Structure, reduced to what we use. */
struct acpi_gas {
	uint8_t ag_space; /* 0 memory, 1 I/O port */
	uint8_t ag_width; /* register bit width */
	uint64_t ag_addr;
};

struct acpi_info {
	bool ai_present;
	uint64_t ai_rsdp;
	int ai_ncpus;
	uint32_t ai_apic_id[ACPI_MAX_CPUS];
	uint64_t ai_lapic_addr;
	int ai_nioapic;
	struct {
		uint8_t id;
		uint64_t addr;
		uint32_t gsi_base;
	} ai_ioapic[ACPI_MAX_IOAPICS];
	int ai_niso;
	struct {
		uint8_t irq;
		uint32_t gsi;
		uint16_t flags; /* MPS INTI flags: polarity, trigger */
	} ai_iso[ACPI_MAX_ISOS];
	bool ai_hw_reduced;
	uint16_t ai_pm1a_cnt_port;
	uint16_t ai_pm_tmr_port;
	bool ai_pm_tmr_32;
	struct acpi_gas ai_sleep_ctl; /* hardware-reduced ACPI (microvm) */
	struct acpi_gas ai_reset_reg;
	uint8_t ai_reset_value;
	int ai_s5_typ; /* SLP_TYP for S5 from the DSDT, -1 if not found */
	uint64_t ai_mcfg_base;
	uint8_t ai_mcfg_bus_start, ai_mcfg_bus_end;
};
extern struct acpi_info acpi_info;

/* Maps an ISA IRQ to its GSI and flags (interrupt source overrides). */
uint32_t acpi_isa_irq_to_gsi(uint8_t irq, bool *level, bool *active_low);

#endif
