/*
 * What the boot code learned from the VMM, kept for the rest of arch, and
 * the early printing helpers used before core's log exists.
 */
#ifndef ARCH_X86_64_BOOT_H
#define ARCH_X86_64_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#define BOOT_MAX_MEM	 64
#define BOOT_MAX_MODULES 8
#define BOOT_MAPPED	 (1ULL << 30) /* boot.S maps the first GiB */

#define BOOT_MEM_RAM	 1

struct boot_memrange {
	uint64_t br_base;
	uint64_t br_size;
	uint32_t br_type;
};

struct boot_module {
	uint64_t bm_base;
	uint64_t bm_size;
};

struct boot_info {
	uint32_t bi_pvh_version;
	uint64_t bi_rsdp;
	int bi_nmem;
	struct boot_memrange bi_mem[BOOT_MAX_MEM];
	int bi_nmod;
	struct boot_module bi_mod[BOOT_MAX_MODULES];
	char bi_cmdline[4096];
};
extern struct boot_info bootinfo;

extern uint64_t boot_tsc_entry;
extern uint64_t boot_start_info;

void pvh_parse(uint64_t pa);
int pvh_usable_ram(struct boot_memrange *out, int max);
/* Is the bare word present on the command line? (before config parsing) */
bool pvh_early_param(const char *word);

void boot_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void boot_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void boot_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Subsystem entry points called from arch_early_init()/arch_init(). */
void serial_init(void);
void tsc_init(void);
void acpi_init(void);
void fwcfg_init(void);
void lapic_init(void);
void ioapic_init(void);
void pci_init(void);
void fpu_init(void);
void tls_init_boot(void);
uint32_t pci_host_bridge_id(void);
uint64_t tsc_ns_to_ticks(uint64_t ns);

#endif
