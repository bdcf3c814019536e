/*
 * core/ktest.h: the in-guest test runner.
 *
 * A test is a function registered into the .ktests linker section:
 *
 *	KTEST(kmalloc, double_free_caught)
 *	{
 *		void *p = kmalloc(32, 0);
 *		kfree(p, 32);
 *		KT_EXPECT_PANIC("double free", kfree(p, 32));
 *	}
 *
 * "ktest=all" on the command line runs every test but the MANUAL ones
 * (faults and hangs on purpose, which end the run); "ktest=a.b,c" runs the
 * named tests and every test of group c. The runner prints one line per
 * test and then "ktest: N passed, N failed, N skipped", and ends QEMU with
 * ARCH_EXIT_PASS or ARCH_EXIT_FAIL. A test that runs longer than
 * ktest.timeout seconds is reported as hung by name and fails the run.
 *
 * Interface:
 *  - Tests run on the boot thread with interrupts enabled; a failed
 *    KT_ASSERT ends the test at once (longjmp), so a test must not hold a
 *    spinlock across one. In another thread a failed KT_ASSERT ends that
 *    thread, and the test fails when it returns.
 *  - Tests sit beside the code they test, in files built with
 *    df_ktest_objects(), which only the ktest image links.
 */
#ifndef CORE_KTEST_H
#define CORE_KTEST_H

#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include "core/kern.h"
#include "core/log.h"

#define KTEST_MANUAL  0x1 /* only when named: ends the run on purpose */
#define KTEST_MICROVM 0x2 /* needs QEMU's microvm machine */
#define KTEST_Q35     0x4 /* needs QEMU's q35 machine */

struct ktest {
	const char *kt_name;
	void (*kt_fn)(void);
	uint32_t kt_flags;
	uint32_t kt_pad;
};

#define KTEST_F(group, name, flags)                                          \
	static void ktest_##group##_##name(void);                            \
	static const struct ktest ktest_d_##group##_##name __used __section( \
	    ".ktests." #group "." #name) __aligned(8) = { #group "." #name,  \
		ktest_##group##_##name, flags, 0 };                          \
	static void ktest_##group##_##name(void)
#define KTEST(group, name) KTEST_F(group, name, 0)

_Noreturn void ktest_fail(const char *file, int line, const char *fmt, ...)
    __printflike(3, 4);

#define KT_ASSERT(e)                                              \
	do {                                                      \
		if (!(e))                                         \
			ktest_fail(__FILE__, __LINE__, "%s", #e); \
	} while (0)

#define KT_ASSERT_CMP(a, op, b)                                              \
	do {                                                                 \
		long long a_ = (long long)(a), b_ = (long long)(b);          \
		if (!(a_ op b_))                                             \
			ktest_fail(__FILE__, __LINE__,                       \
			    "%s %s %s (%lld vs %lld)", #a, #op, #b, a_, b_); \
	} while (0)
#define KT_ASSERT_EQ(a, b) KT_ASSERT_CMP(a, ==, b)

#define KT_ASSERT_STR_CONTAINS(s, sub)                               \
	do {                                                         \
		const char *s_ = (s), *sub_ = (sub);                 \
		if (strstr(s_, sub_) == NULL)                        \
			ktest_fail(__FILE__, __LINE__,               \
			    "'%s' does not contain '%s'", s_, sub_); \
	} while (0)

/* Runs stmt, which must panic with a message containing sub. */
#define KT_EXPECT_PANIC(sub, stmt)                                    \
	do {                                                          \
		jmp_buf jb_;                                          \
		if (setjmp(jb_) == 0) {                               \
			panic_catch(&jb_);                            \
			stmt;                                         \
			panic_catch(NULL);                            \
			ktest_fail(__FILE__, __LINE__,                \
			    "expected a panic containing '%s'", sub); \
		}                                                     \
		KT_ASSERT_STR_CONTAINS(panic_last_message(), sub);    \
	} while (0)

/*
 * How the runner arms its per-test watchdog: fn runs (in interrupt
 * context) if the test is still running after ns nanoseconds. The init
 * sequence passes the scheduler's callouts.
 */
struct ktest_timer {
	void (*kt_arm)(uint64_t ns, void (*fn)(void));
	void (*kt_disarm)(void);
	/* Ends the calling thread: a KT_ASSERT that fails in a thread the
	 * test started fails the test and ends that thread. */
	void (*kt_exit_thread)(void) __attribute__((noreturn));
	/* Prints what every thread is doing, when a test hangs. */
	void (*kt_dump)(void);
};

/* Runs the tests the ktest key names; does not return. */
_Noreturn void ktest_main(const char *spec, const struct ktest_timer *timer);

#endif
