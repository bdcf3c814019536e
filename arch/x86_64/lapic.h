/* Local APIC (lapic.c) and IOAPIC (ioapic.c). Private to arch. */
#ifndef ARCH_X86_64_LAPIC_H
#define ARCH_X86_64_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

void lapic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
bool lapic_x2apic_mode(void);
const char *lapic_timer_mode(void);

void ioapic_init(void);

#endif
