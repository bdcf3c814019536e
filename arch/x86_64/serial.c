/*
 * 16550 UART console on COM1 (I/O port 0x3f8), output only, polled.
 *
 * QEMU: microvm has it with isa-serial=on (the default); q35 with -serial.
 * On KVM every port access is a VM exit, so the transmitter is fed a whole
 * FIFO (16 bytes) for each status read rather than polled per byte.
 *
 * Interface:
 *  - serial_init() once, before the first write.
 *  - arch_console_write() is safe from any context, including exception
 *    handlers that interrupt a write on the same CPU (the lock is skipped
 *    on re-entry rather than deadlocked on).
 */
#include "arch/arch.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pcpu.h"

#define COM1	 0x3f8
#define UART_THR 0 /* transmit holding */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0
#define UART_DLM 1

#define LSR_THRE 0x20 /* transmit FIFO empty */
#define FIFO_LEN 16

static volatile int console_owner = -1;

void
serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x80); /* DLAB: set the divisor */
	outb(COM1 + UART_DLL, 1);    /* 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0xc7); /* FIFO on, cleared, 14-byte trigger */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

/* Writes c, first waiting for an empty FIFO when the last one is used up. */
static void
serial_putc(uint8_t c, int *room)
{
	if (*room == 0) {
		while (!(inb(COM1 + UART_LSR) & LSR_THRE))
			cpu_pause();
		*room = FIFO_LEN;
	}
	outb(COM1 + UART_THR, c);
	(*room)--;
}

static void
serial_write(const char *s, size_t n)
{
	int room = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r', &room);
		serial_putc((uint8_t)s[i], &room);
	}
}

void
arch_console_write(const char *s, size_t n)
{
	bool intr = arch_intr_save();
	int me = pcpu_ready ? (int)pcpu_self()->pc_cpuid : 0;
	bool reentered = console_owner == me;

	if (!reentered) {
		while (!__sync_bool_compare_and_swap(&console_owner, -1, me))
			cpu_pause();
	}
	serial_write(s, n);
	if (!reentered)
		__atomic_store_n(&console_owner, -1, __ATOMIC_RELEASE);
	arch_intr_restore(intr);
}
