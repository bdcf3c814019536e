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
void lapic_icr(uint32_t apic_id, uint32_t cmd);
/* The timer client, for tests that borrow the timer and give it back. */
void (*lapic_timer_handler(void))(void);
/* Masks or unmasks the IOAPIC pin routed to vec, if it is level-triggered
 * (edge-triggered sources need no masking while deferred). */
void ioapic_mask_vector(int vec, bool masked);

#endif
