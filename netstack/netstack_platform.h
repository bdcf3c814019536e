/*
 * netstack_platform.h: everything the protocol core needs from the system
 * it runs on, and nothing more.
 *
 * The core is portable C. It builds into host unit tests, sanitizer runs
 * and a libFuzzer harness, and the kernel links the same sources. It
 * reaches the world only through
 *  - this table of platform functions (time, memory, randomness, log,
 *    panic), given to each instance when it is created, and
 *  - a network interface (netif.h) that sends frames.
 * There is no global mutable state in the core: two instances share
 * nothing but their platform table and netif, so a test can run two
 * stacks side by side in one process, and the kernel runs one instance per
 * CPU. The host implementation is ns_host.c (a clock the test sets,
 * allocation with fault injection, a seeded random source, a log that can
 * be captured); the kernel's will use the TSC, kmalloc and virtio-rng.
 *
 * The core uses from libc only what a kernel C runtime provides: mem*,
 * str* and vsnprintf. No stdio, no threads, no floating point (the kernel
 * compiles it with -mgeneral-regs-only).
 *
 * Interface:
 *  - np_now_us returns monotonic time in microseconds; it never goes
 *    backwards. The core reads it once at the start of each entry point.
 *  - np_alloc may return NULL; the core turns that into -ENOMEM or a
 *    counted drop, never a crash. np_free(NULL, n) is never called;
 *    otherwise n is the size that was allocated (OpenBSD's free(9)).
 *  - np_random fills len bytes; in the kernel it must be unpredictable
 *    (seeded from virtio-rng): ISNs, SYN cookies and hash keys come from it.
 *  - np_log gets one line without a trailing newline.
 *  - np_panic does not return; NS_ASSERT uses it for broken internal
 *    invariants only, never for bad input.
 *  - Every function is called on the instance's own thread, one call at a
 *    time; a table shared by several instances must be safe for that.
 */
#ifndef NETSTACK_NETSTACK_PLATFORM_H
#define NETSTACK_NETSTACK_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

struct ns_platform {
	void *np_arg; /* passed to every function below */
	uint64_t (*np_now_us)(void *arg);
	void *(*np_alloc)(void *arg, size_t size);
	void (*np_free)(void *arg, void *p, size_t size);
	void (*np_random)(void *arg, void *buf, size_t len);
	void (*np_log)(void *arg, int level, const char *line);
	void (*np_panic)(void *arg, const char *msg);
};

/* Log levels. */
#define NS_LOG_ERR   0
#define NS_LOG_WARN  1
#define NS_LOG_INFO  2
#define NS_LOG_DEBUG 3

#endif /* NETSTACK_NETSTACK_PLATFORM_H */
