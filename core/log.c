/*
 * The console, the log and panic.
 *
 * kprintf() writes as is; klog() prefixes the time since boot and drops
 * lines above the loglevel key (0 errors .. 3 debug, default 2). Lines are
 * formatted into a buffer on the caller's stack and written to the console
 * in one call, so lines from different CPUs do not interleave. A line
 * longer than LOG_LINE_MAX is cut and marked with "...".
 *
 * panic() prints its message and a backtrace and ends the run with
 * ARCH_EXIT_PANIC. An in-guest test may catch a panic it provokes on
 * purpose (panic_catch(), see core/ktest.h); the panic then returns to the
 * test by longjmp instead.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include "arch/arch.h"
#include "core/config.h"
#include "core/fmt.h"
#include "core/kern.h"
#include "core/log.h"

#define LOG_LINE_MAX 1024

static int64_t loglevel = LOG_INFO;
CFG_INT(loglevel, "loglevel", loglevel, 0, 3,
    "console log level: 0 errors, 1 warnings, 2 info, 3 debug");

static uint64_t log_lines[4];
static jmp_buf *panic_catcher;
static char panic_message[256];
static volatile int panicking;

static void
write_line(char *buf, int n)
{
	if (n >= LOG_LINE_MAX) {
		memcpy(buf + LOG_LINE_MAX - 5, "...\n", 5);
		n = LOG_LINE_MAX - 1;
	}
	arch_console_write(buf, (size_t)n);
}

int
kvprintf(const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);

	write_line(buf, n);
	return n;
}

int
kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

static const char *const level_tag[4] = { "error: ", "warning: ", "", "" };

void
kvlog(int level, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	uint64_t ns = arch_nanotime();
	int n;

	if (level < 0)
		level = 0;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	__atomic_add_fetch(&log_lines[level], 1, __ATOMIC_RELAXED);
	if (level > loglevel)
		return;
	n = fmt_snprintf(buf, sizeof(buf), "[%5lu.%06lu] %s",
	    (unsigned long)(ns / 1000000000),
	    (unsigned long)(ns / 1000 % 1000000), level_tag[level]);
	n += fmt_vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	if (n > LOG_LINE_MAX - 2)
		n = LOG_LINE_MAX - 2;
	buf[n++] = '\n';
	buf[n] = 0;
	write_line(buf, n);
}

void
klog(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvlog(level, fmt, ap);
	va_end(ap);
}

uint64_t
log_count(int level)
{
	return level >= 0 && level <= LOG_DEBUG ? log_lines[level] : 0;
}

/* ---------------------------------------------------------------- */
/* panic                                                            */
/* ---------------------------------------------------------------- */

void
panic_catch(jmp_buf *jb)
{
	panic_catcher = jb;
}

const char *
panic_last_message(void)
{
	return panic_message;
}

_Noreturn void
panic(const char *fmt, ...)
{
	va_list ap;
	jmp_buf *jb = panic_catcher;

	va_start(ap, fmt);
	fmt_vsnprintf(panic_message, sizeof(panic_message), fmt, ap);
	va_end(ap);
	if (jb != NULL) {
		panic_catcher = NULL;
		kprintf("ktest: caught the expected panic: %s\n",
		    panic_message);
		longjmp(*jb, 1);
	}
	arch_intr_disable();
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL)) {
		kprintf("\npanic while panicking: %s\n", panic_message);
		arch_exit(ARCH_EXIT_PANIC);
	}
	kprintf("\npanic: %s\n", panic_message);
	arch_backtrace(arch_frame_address(), (uintptr_t)panic);
	arch_exit(ARCH_EXIT_PANIC);
}
