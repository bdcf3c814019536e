/*
 * The rest of the C runtime the linked libraries need: errno (per thread,
 * in TLS), the stack protector's failure path, assert, clock.
 */
#include <assert.h>
#include <errno.h>
#include <time.h>
#include "arch/arch.h"
#include "core/kern.h"

static __thread int errno_value;

int *
__errno_location(void)
{
	return &errno_value;
}

_Noreturn void __stack_chk_fail(void);

_Noreturn void
__stack_chk_fail(void)
{
	panic("stack smashing detected: a function's canary was overwritten "
	      "(called from %p)",
	    __builtin_return_address(0));
}

_Noreturn void
__assert_fail(const char *expr, const char *file, unsigned line,
    const char *func)
{
	panic("assertion \"%s\" failed in %s at %s:%u", expr, func, file, line);
}

clock_t
clock(void)
{
	return (clock_t)(arch_nanotime() / 1000);
}

int
clock_gettime(int clk, struct timespec *ts)
{
	uint64_t ns;

	if (clk != CLOCK_MONOTONIC) {
		errno = EINVAL;
		return -1;
	}
	ns = arch_nanotime();
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
	return 0;
}
