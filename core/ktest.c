/*
 * The in-guest test runner (see ktest.h). Output, one line each:
 *
 *	ktest: run NAME
 *	ktest: ok NAME (123 us)      or   ktest: FAIL NAME: why
 *	ktest: skip NAME (needs microvm)
 *	ktest: N passed, N failed, N skipped
 *
 * The boot-test harness (test/boot/harness.py) reads these lines: a run
 * line without its result is the test that hung or crashed.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include "arch/arch.h"
#include "core/config.h"
#include "core/fmt.h"
#include "core/ktest.h"

extern const struct ktest __ktest_start[], __ktest_end[];

static int64_t ktest_timeout_s = 120;
CFG_INT(ktest_timeout, "ktest.timeout", ktest_timeout_s, 1, 86400,
    "seconds before an in-guest test is reported as hung");

static jmp_buf *test_jb;
static const struct ktest *current;
static const struct ktest_timer *wd;
static void *runner_tp;		    /* the runner thread's TLS pointer */
static volatile int other_failures; /* KT_ASSERTs failed in other threads */

_Noreturn void
ktest_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kprintf("ktest: FAIL %s: %s:%d: %s\n", current ? current->kt_name : "?",
	    file, line, msg);
	if (arch_tls_current() != runner_tp && wd != NULL &&
	    wd->kt_exit_thread != NULL) {
		__atomic_add_fetch(&other_failures, 1, __ATOMIC_SEQ_CST);
		wd->kt_exit_thread();
	}
	panic_catch(NULL);
	if (test_jb == NULL)
		panic("ktest_fail outside a test");
	longjmp(*test_jb, 1);
}

static void
watchdog(void)
{
	kprintf("ktest: HANG %s: no result after %lld s\n",
	    current ? current->kt_name : "?", (long long)ktest_timeout_s);
	if (wd != NULL && wd->kt_dump != NULL)
		wd->kt_dump();
	arch_exit(ARCH_EXIT_FAIL);
}

/* Does the comma-separated spec select t? Sets used[i] for each item. */
static bool
selected(const struct ktest *t, const char *spec, bool *used)
{
	size_t nl = strlen(t->kt_name);
	const char *p = spec;
	bool hit = false;
	int i = 0;

	while (*p != 0) {
		size_t n = strcspn(p, ",");
		bool all = n == 3 && strncmp(p, "all", 3) == 0;
		bool exact = n == nl && strncmp(p, t->kt_name, n) == 0;
		bool group = n < nl && strncmp(p, t->kt_name, n) == 0 &&
		    t->kt_name[n] == '.';
		if ((all && !(t->kt_flags & KTEST_MANUAL)) || exact || group) {
			hit = true;
			if (i < 64)
				used[i] = true;
		} else if (all && i < 64) {
			used[i] = true;
		}
		p += n;
		if (*p == ',')
			p++;
		i++;
	}
	return hit;
}

static const char *
machine_mismatch(const struct ktest *t)
{
	const char *m = arch_machine_name();

	if ((t->kt_flags & KTEST_MICROVM) && strcmp(m, "microvm") != 0)
		return "microvm";
	if ((t->kt_flags & KTEST_Q35) && strcmp(m, "q35") != 0)
		return "q35";
	return NULL;
}

/* Runs one test; returns true when it passed. */
static bool
run_one(const struct ktest *t)
{
	jmp_buf jb;
	uint64_t t0;

	current = t;
	runner_tp = arch_tls_current();
	other_failures = 0;
	kprintf("ktest: run %s\n", t->kt_name);
	t0 = arch_nanotime();
	wd->kt_arm((uint64_t)ktest_timeout_s * 1000000000, watchdog);
	test_jb = &jb;
	if (setjmp(jb) != 0) {
		wd->kt_disarm();
		arch_intr_enable();
		test_jb = NULL;
		return false;
	}
	t->kt_fn();
	test_jb = NULL;
	wd->kt_disarm();
	arch_intr_enable();
	if (__atomic_exchange_n(&other_failures, 0, __ATOMIC_SEQ_CST) > 0) {
		kprintf("ktest: FAIL %s: an assertion failed in a thread it "
			"started\n",
		    t->kt_name);
		return false;
	}
	kprintf("ktest: ok %s (%llu us)\n", t->kt_name,
	    (unsigned long long)((arch_nanotime() - t0) / 1000));
	return true;
}

/* Every item of the spec must select some test: a typo is a failure. */
static int
check_unused(const char *spec, const bool *used)
{
	const char *p = spec;
	int i = 0, bad = 0;

	while (*p != 0) {
		size_t n = strcspn(p, ",");
		if (n > 0 && i < 64 && !used[i]) {
			kprintf("ktest: FAIL no test is named '%.*s'\n", (int)n,
			    p);
			bad++;
		}
		p += n;
		if (*p == ',')
			p++;
		i++;
	}
	return bad;
}

_Noreturn void
ktest_main(const char *spec, const struct ktest_timer *timer)
{
	const struct ktest *t;
	bool used[64] = { false };
	int passed = 0, failed = 0, skipped = 0;
	const char *need;

	wd = timer;
	arch_intr_enable();
	for (t = __ktest_start; t < __ktest_end; t++) {
		if (!selected(t, spec, used))
			continue;
		if ((need = machine_mismatch(t)) != NULL) {
			kprintf("ktest: skip %s (needs %s)\n", t->kt_name,
			    need);
			skipped++;
		} else if (run_one(t)) {
			passed++;
		} else {
			failed++;
		}
	}
	current = NULL;
	failed += check_unused(spec, used);
	if (cfg_boot_result.cr_unknown + cfg_boot_result.cr_bad > 0) {
		kprintf("ktest: FAIL the boot configuration had %d unknown "
			"key(s) and %d bad value(s)\n",
		    cfg_boot_result.cr_unknown, cfg_boot_result.cr_bad);
		failed++;
	}
	kprintf("ktest: %d passed, %d failed, %d skipped\n", passed, failed,
	    skipped);
	arch_exit(failed == 0 && passed > 0 ? ARCH_EXIT_PASS : ARCH_EXIT_FAIL);
}
