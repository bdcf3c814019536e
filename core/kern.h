/*
 * core/kern.h: what every kernel file may use: assertions, panic, the
 * console and log, and small helpers. Portable: the host unit tests build
 * against it with a shim (core/test/shim.c) providing panic and the log
 * sink.
 *
 * Interface:
 *  - panic() is for broken internal invariants only, never for bad input
 *    from a disk, a packet, a device or a client (STYLE.md, habit 6).
 *  - KKASSERT(e) is always compiled in; it names the expression, the
 *    function and the line.
 *  - Errors are 0 or a negative errno.
 */
#ifndef CORE_KERN_H
#define CORE_KERN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define __printflike(f, a) __attribute__((format(printf, f, a)))
#define __unused	   __attribute__((unused))
#define __aligned(n)	   __attribute__((aligned(n)))
#define __packed	   __attribute__((packed))
#define __section(s)	   __attribute__((section(s)))
#define __used		   __attribute__((used))
#define __noinline	   __attribute__((noinline))
#define likely(x)	   __builtin_expect(!!(x), 1)
#define unlikely(x)	   __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a)	   (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	   ((a) < (b) ? (a) : (b))
#define MAX(a, b)	   ((a) > (b) ? (a) : (b))
#define ROUNDUP(x, a)	   (((x) + (a)-1) / (a) * (a))
#define container_of(p, type, member) \
	((type *)((char *)(p)-offsetof(type, member)))

_Noreturn void panic(const char *fmt, ...) __printflike(1, 2);

#define KKASSERT(exp)                                                         \
	do {                                                                  \
		if (unlikely(!(exp)))                                         \
			panic("assertion \"%s\" failed in %s at %s:%d", #exp, \
			    __func__, __FILE__, __LINE__);                    \
	} while (0)

/* Log levels; the console shows levels <= the loglevel key (default 2). */
#define LOG_ERR	  0
#define LOG_WARN  1
#define LOG_INFO  2
#define LOG_DEBUG 3

/* Prints to the console as is (no level, no timestamp). */
int kprintf(const char *fmt, ...) __printflike(1, 2);
int kvprintf(const char *fmt, va_list ap) __printflike(1, 0);
/* A log line: "[    1.234567] sub: text", with a newline added. */
void klog(int level, const char *fmt, ...) __printflike(2, 3);
void kvlog(int level, const char *fmt, va_list ap) __printflike(2, 0);

#define log_err(...)   klog(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  klog(LOG_WARN, __VA_ARGS__)
#define log_info(...)  klog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

#endif
