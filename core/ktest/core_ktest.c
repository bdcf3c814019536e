/*
 * In-guest tests of core: the page allocator and kmalloc on real RAM
 * (misuse caught, statistics right), malloc and friends, the C runtime,
 * the boot configuration, the log. The selftest.* tests exercise the
 * runner itself: the MANUAL ones fail, hang or smash a canary on purpose
 * and are run alone by the boot harness, which checks the report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/arch.h"
#include "core/config.h"
#include "core/kmalloc.h"
#include "core/ktest.h"
#include "core/log.h"
#include "core/page.h"

/* Oversized allocations and a bad free are what some tests are about. */
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"

KTEST(page, alloc_free_stats)
{
	struct page_stats a, b;
	void *p[32];
	int i;

	page_get_stats(&a);
	KT_ASSERT(a.ps_total > 1000);
	for (i = 0; i < 32; i++) {
		p[i] = page_alloc((unsigned)(i % 5));
		KT_ASSERT(p[i] != NULL);
		KT_ASSERT_EQ((uintptr_t)p[i] % (PG_PAGE_SIZE << (i % 5)), 0);
		memset(p[i], i, PG_PAGE_SIZE << (i % 5));
	}
	for (i = 0; i < 32; i++) {
		KT_ASSERT_EQ(((uint8_t *)p[i])[PG_PAGE_SIZE - 1], i);
		page_free(p[i], (unsigned)(i % 5));
	}
	page_get_stats(&b);
	KT_ASSERT_EQ(b.ps_free, a.ps_free);
	KT_ASSERT_EQ(b.ps_allocs - a.ps_allocs, 32);
	KT_ASSERT_EQ(b.ps_frees - a.ps_frees, 32);
}

KTEST(page, misuse_caught)
{
	void *p = page_alloc(1);

	KT_EXPECT_PANIC("allocated with order 1", page_free(p, 0));
	page_free(p, 1);
	KT_EXPECT_PANIC("double free", page_free(p, 1));
}

KTEST(kmalloc, classes_and_stats)
{
	struct kmalloc_stats a, b;
	void *p[100];
	size_t i;

	kmalloc_get_stats(&a);
	for (i = 0; i < 100; i++) {
		p[i] = kmalloc(i * 97 + 1, KM_ZERO);
		KT_ASSERT(p[i] != NULL);
		KT_ASSERT_EQ((uintptr_t)p[i] % 16, 0);
		KT_ASSERT_EQ(((uint8_t *)p[i])[i * 97], 0);
	}
	kmalloc_get_stats(&b);
	KT_ASSERT(b.ks_bytes_inuse > a.ks_bytes_inuse + 100 * 4800);
	for (i = 0; i < 100; i++)
		kfree(p[i], i * 97 + 1);
	kmalloc_get_stats(&b);
	KT_ASSERT_EQ(b.ks_bytes_inuse, a.ks_bytes_inuse);
	KT_ASSERT(kmallocarray(SIZE_MAX / 8, 16, 0) == NULL);
}

KTEST(kmalloc, misuse_caught)
{
	char *p = kmalloc(200, 0);

	KT_EXPECT_PANIC("wrong size", kfree(p, 20));
	KT_EXPECT_PANIC("not the start", kfree(p + 8, 200));
	kfree(p, 200);
	KT_EXPECT_PANIC("double free", kfree(p, 200));
}

KTEST(kmalloc, use_after_free_caught)
{
	uint8_t *p;

	if (!kmalloc_debug_enabled())
		ktest_fail(__FILE__, __LINE__,
		    "needs kmalloc.debug=1 on the command line");
	p = kmalloc(96, 0);
	KT_ASSERT_EQ(p[50], KMALLOC_POISON_ALLOC);
	kfree(p, 96);
	KT_ASSERT_EQ(p[50], KMALLOC_POISON_FREE);
	p[60] = 0;
	KT_EXPECT_PANIC("use after free", (void)kmalloc(96, 0));
}

KTEST(kmalloc, fault_injection)
{
	void *p;

	kmalloc_fail_nth(1);
	KT_ASSERT(kmalloc(10, 0) == NULL);
	p = kmalloc(10, 0);
	KT_ASSERT(p != NULL);
	kfree(p, 10);
}

KTEST(libc, malloc_family)
{
	char *p = malloc(100), *q;
	int *z = calloc(1000, sizeof(int));
	void *a = aligned_alloc(4096, 5000);
	void *m = NULL;
	int i;

	KT_ASSERT(p != NULL && z != NULL && a != NULL);
	KT_ASSERT_EQ((uintptr_t)a % 4096, 0);
	for (i = 0; i < 1000; i++)
		KT_ASSERT_EQ(z[i], 0);
	strcpy(p, "realloc keeps the bytes");
	q = realloc(p, 10000);
	KT_ASSERT(q != NULL);
	KT_ASSERT(strcmp(q, "realloc keeps the bytes") == 0);
	KT_ASSERT(calloc(SIZE_MAX / 2, 4) == NULL);
	KT_ASSERT_EQ(posix_memalign(&m, 3, 10), EINVAL);
	KT_ASSERT_EQ(posix_memalign(&m, 64, 10), 0);
	KT_ASSERT_EQ((uintptr_t)m % 64, 0);
	free(m);
	free(q);
	free(z);
	free(a);
	free(NULL);
	KT_EXPECT_PANIC("not a pointer malloc returned", free(z + 10));
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

KTEST(libc, qsort_strings_numbers)
{
	static int v[10000];
	uint64_t seed = 1;
	char buf[32];
	char *end;
	int i;

	for (i = 0; i < 10000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		v[i] = (int)(seed >> 33) % 1000;
	}
	qsort(v, 10000, sizeof(int), cmp_int);
	for (i = 1; i < 10000; i++)
		KT_ASSERT(v[i - 1] <= v[i]);
	KT_ASSERT_EQ(strtoul("0x1fZ", &end, 0), 31);
	KT_ASSERT(*end == 'Z');
	KT_ASSERT_EQ(strtol("-077", NULL, 0), -63);
	errno = 0;
	KT_ASSERT_EQ(strtoull("99999999999999999999", NULL, 10), UINT64_MAX);
	KT_ASSERT_EQ(errno, ERANGE);
	KT_ASSERT_EQ(snprintf(buf, sizeof(buf), "%05d|%-3s|%#x", 42, "a", 255),
	    14);
	KT_ASSERT(strcmp(buf, "00042|a  |0xff") == 0);
	memmove(buf + 1, buf, 5); /* overlapping, backwards */
	KT_ASSERT(memcmp(buf, "000042", 6) == 0);
	memmove(buf, buf + 1, 5); /* overlapping, forwards */
	KT_ASSERT(memcmp(buf, "00042", 5) == 0);
	KT_ASSERT(strstr("find the needle", "needle") != NULL);
	KT_ASSERT(strstr("find the needle", "pin") == NULL);
}

KTEST(config, boot_keys)
{
	const struct cfg_table *t = cfg_kernel_table();

	KT_ASSERT(t->ct_n >= 5);
	KT_ASSERT(cfg_lookup(t, "ktest", 5) != NULL);
	KT_ASSERT(cfg_lookup(t, "loglevel", 8) != NULL);
	KT_ASSERT(cfg_lookup(t, "nosuchkey", 9) == NULL);
	KT_ASSERT(cfg_boot_result.cr_set >= 1); /* ktest= itself */
	KT_ASSERT(strstr(arch_cmdline(), "ktest=") != NULL);
}

KTEST(log, counts_lines)
{
	uint64_t before = log_count(LOG_DEBUG);

	log_debug("a debug line (not shown at the default level)");
	KT_ASSERT_EQ(log_count(LOG_DEBUG), before + 1);
}

/* ---- The runner itself ---- */

KTEST(selftest, pass)
{
	KT_ASSERT(1 + 1 == 2);
}

KTEST_F(selftest, fail, KTEST_MANUAL)
{
	KT_ASSERT_EQ(1 + 1, 3);
}

KTEST_F(selftest, hang, KTEST_MANUAL)
{
	for (;;)
		arch_idle_wait();
}

KTEST_F(selftest, hang_interrupts_off, KTEST_MANUAL)
{
	arch_intr_disable();
	for (;;)
		;
}

KTEST_F(selftest, panic, KTEST_MANUAL)
{
	panic("a panic on purpose");
}

/* Writes n bytes into a 16-byte array; n is hidden from the compiler, so
 * the overflow happens at run time and the canary check catches it. */
static __noinline void
smash(size_t n)
{
	char buf[16];

	__asm__ volatile("" : "+r"(n));
	memset(buf, 'A', n);
	__asm__ volatile("" : : "r"(buf) : "memory");
}

KTEST_F(selftest, stack_smash, KTEST_MANUAL)
{
	smash(64);
}
