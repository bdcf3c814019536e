/* Host implementations of panic, klog and kprintf for unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/test/shim.h"

jmp_buf *shim_catch;
char shim_panic_msg[512];
char shim_last_log[4][512];
int shim_log_count[4];

void
shim_reset_log(void)
{
	memset(shim_last_log, 0, sizeof(shim_last_log));
	memset(shim_log_count, 0, sizeof(shim_log_count));
}

_Noreturn void
panic(const char *fmt, ...)
{
	va_list ap;
	jmp_buf *jb = shim_catch;

	va_start(ap, fmt);
	vsnprintf(shim_panic_msg, sizeof(shim_panic_msg), fmt, ap);
	va_end(ap);
	if (jb != NULL) {
		shim_catch = NULL;
		longjmp(*jb, 1);
	}
	fprintf(stderr, "panic: %s\n", shim_panic_msg);
	abort();
}

void
kvlog(int level, const char *fmt, va_list ap)
{
	if (level < 0 || level > 3)
		level = 3;
	vsnprintf(shim_last_log[level], sizeof(shim_last_log[level]), fmt, ap);
	shim_log_count[level]++;
	if (getenv("SHIM_VERBOSE") != NULL)
		fprintf(stderr, "log%d: %s\n", level, shim_last_log[level]);
}

void
klog(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvlog(level, fmt, ap);
	va_end(ap);
}

int
kvprintf(const char *fmt, va_list ap)
{
	return vprintf(fmt, ap);
}

int
kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
