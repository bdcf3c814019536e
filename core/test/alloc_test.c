/*
 * The page allocator and kmalloc on the host, over an arena of their own:
 * exhaustion and full recovery (every block merges back), random
 * alloc/free sequences with contents checked for overlap, every misuse
 * caught (double free, wrong size or order, bad pointers, use after free
 * in debug mode), fault injection, overflow checks, statistics.
 *
 * Each test runs in its own process (Check's fork mode), so each starts
 * with a fresh allocator.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/kmalloc.h"
#include "core/page.h"
#include "core/test/shim.h"

/* The overflow tests pass sizes gcc knows are too large, on purpose. */
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="

#define ARENA_BYTES (64UL << 20)
static uint8_t *arena;

/* Two zones: one aligned to 32 MiB, one starting at an odd page. */
static void
setup_pages(void)
{
	struct page_range r[2];

	arena = aligned_alloc(32UL << 20, ARENA_BYTES);
	ck_assert_ptr_nonnull(arena);
	r[0].pr_base = (uintptr_t)arena;
	r[0].pr_size = 40UL << 20;
	r[1].pr_base = (uintptr_t)arena + (40UL << 20) + 3 * PG_PAGE_SIZE;
	r[1].pr_size = (20UL << 20) + 5 * PG_PAGE_SIZE;
	page_init(r, 2);
	shim_reset_log();
}

static void
setup_all(void)
{
	setup_pages();
	kmalloc_init(false);
}

static void
setup_all_debug(void)
{
	setup_pages();
	kmalloc_init(true);
}

static void
teardown(void)
{
	free(arena);
}

/* ---------------------------------------------------------------- */
/* Pages                                                            */
/* ---------------------------------------------------------------- */

START_TEST(test_page_exhaust_and_recover)
{
	struct page_stats st0, st;
	void **all;
	size_t n = 0, i, cap = ARENA_BYTES / PG_PAGE_SIZE;

	page_get_stats(&st0);
	ck_assert_uint_eq(st0.ps_free, st0.ps_total);
	ck_assert_uint_gt(st0.ps_total, (60UL << 20) / PG_PAGE_SIZE - 64);
	all = calloc(cap, sizeof(*all));
	while ((all[n] = page_alloc(0)) != NULL) {
		uintptr_t a = (uintptr_t)all[n];
		ck_assert(a >= (uintptr_t)arena &&
		    a < (uintptr_t)arena + ARENA_BYTES);
		ck_assert_uint_eq(a % PG_PAGE_SIZE, 0);
		*(uint64_t *)all[n] =
		    a; /* later checked: no page given twice */
		n++;
	}
	ck_assert_uint_eq(n, st0.ps_total);
	page_get_stats(&st);
	ck_assert_uint_eq(st.ps_free, 0);
	ck_assert_uint_eq(st.ps_failures, 1);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(*(uint64_t *)all[i], (uintptr_t)all[i]);
	/* Free in a scrambled order; every block must merge back. */
	srandom(7);
	for (i = n; i > 1; i--) {
		size_t j = (size_t)random() % i;
		void *t = all[i - 1];
		all[i - 1] = all[j];
		all[j] = t;
	}
	for (i = 0; i < n; i++)
		page_free(all[i], 0);
	page_get_stats(&st);
	ck_assert_uint_eq(st.ps_free, st0.ps_total);
	ck_assert_mem_eq(st.ps_blocks, st0.ps_blocks, sizeof(st.ps_blocks));
	free(all);
}
END_TEST

START_TEST(test_page_orders_aligned)
{
	unsigned k;

	for (k = 0; k <= 12; k++) {
		void *p = page_alloc(k);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % (PG_PAGE_SIZE << k), 0);
		memset(p, 0xab, PG_PAGE_SIZE << k);
		page_free(p, k);
	}
	ck_assert_ptr_null(page_alloc(PAGE_MAX_ORDER + 1));
	ck_assert_ptr_null(page_alloc(PAGE_MAX_ORDER)); /* 1 GiB: not here */
	ck_assert_uint_eq(page_order_for(1), 0);
	ck_assert_uint_eq(page_order_for(4096), 0);
	ck_assert_uint_eq(page_order_for(4097), 1);
	ck_assert_uint_eq(page_order_for(1UL << 20), 8);
}
END_TEST

/* Random mixed orders; each block is filled with its own tag and checked
 * before it is freed, so any overlap between live blocks shows. */
START_TEST(test_page_random)
{
	struct {
		uint8_t *p;
		unsigned order;
	} live[512];
	struct page_stats st0, st;
	int nlive = 0, iter;

	page_get_stats(&st0);
	srandom(42);
	for (iter = 0; iter < 20000; iter++) {
		if (nlive < 512 && (nlive == 0 || random() % 3 != 0)) {
			unsigned k = (unsigned)(random() % 6);
			uint8_t *p = page_alloc(k);
			if (p == NULL)
				continue;
			memset(p, (uint8_t)iter, PG_PAGE_SIZE << k);
			live[nlive].p = p;
			live[nlive].order = k;
			p[0] = (uint8_t)iter;
			nlive++;
		} else {
			int i = (int)(random() % nlive);
			size_t j, len = PG_PAGE_SIZE << live[i].order;
			uint8_t tag = live[i].p[0];
			for (j = 0; j < len; j += 512)
				ck_assert_uint_eq(live[i].p[j], tag);
			page_free(live[i].p, live[i].order);
			live[i] = live[--nlive];
		}
	}
	while (nlive > 0) {
		nlive--;
		page_free(live[nlive].p, live[nlive].order);
	}
	page_get_stats(&st);
	ck_assert_uint_eq(st.ps_free, st0.ps_free);
	ck_assert_mem_eq(st.ps_blocks, st0.ps_blocks, sizeof(st.ps_blocks));
}
END_TEST

START_TEST(test_page_misuse)
{
	void *p = page_alloc(2);
	void *q;

	ck_assert(SHIM_PANICS(page_free(p, 1)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "allocated with order 2"));
	ck_assert(SHIM_PANICS(page_free((char *)p + PG_PAGE_SIZE, 0)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "not the start"));
	ck_assert(SHIM_PANICS(page_free((char *)p + 100, 0)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "not aligned"));
	ck_assert(SHIM_PANICS(page_free(&q, 0)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "not in any RAM zone"));
	page_free(p, 2);
	ck_assert(SHIM_PANICS(page_free(p, 2)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "double free"));
	/* The allocator still works after the caught panics. */
	q = page_alloc(0);
	ck_assert_ptr_nonnull(q);
	page_free(q, 0);
}
END_TEST

START_TEST(test_page_fault_injection)
{
	struct page_stats st;
	void *a, *b, *c;

	page_fail_nth(2);
	a = page_alloc(0);
	b = page_alloc(0);
	c = page_alloc(0);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(c);
	page_get_stats(&st);
	ck_assert_uint_eq(st.ps_failures, 1);
	page_free(a, 0);
	page_free(c, 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* kmalloc                                                          */
/* ---------------------------------------------------------------- */

START_TEST(test_kmalloc_sizes)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 48, 100, 255, 256,
		1000, 4096, 5000, 8192, 8193, 65536, 100000, 3 << 20 };
	struct kmalloc_stats st;
	size_t i;
	void *p[sizeof(sizes) / sizeof(sizes[0])];

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = kmalloc(sizes[i], KM_ZERO);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_eq((uintptr_t)p[i] % 16, 0);
		uint8_t any = 0;
		for (size_t j = 0; j < sizes[i]; j++)
			any |= ((uint8_t *)p[i])[j];
		ck_assert_uint_eq(any, 0);
		memset(p[i], 0x5a, sizes[i]);
	}
	kmalloc_get_stats(&st);
	ck_assert_uint_eq(st.ks_large_allocs, 4); /* 8193 and up */
	ck_assert_uint_gt(st.ks_bytes_inuse, (3 << 20) + 100000);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		kfree(p[i], sizes[i]);
	kfree(NULL, 10);
	kmalloc_get_stats(&st);
	ck_assert_uint_eq(st.ks_bytes_inuse, 0);
	ck_assert_uint_eq(st.ks_large_frees, 4);
	for (i = 0; i < KMALLOC_NCLASSES; i++)
		ck_assert_uint_eq(st.ks_class[i].kc_inuse, 0);
}
END_TEST

/* Many objects of every class, contents checked, freed in random order;
 * then every page is back with the page allocator but one slab a class. */
START_TEST(test_kmalloc_random)
{
	enum { N = 4000 };
	static struct {
		uint8_t *p;
		size_t size;
	} live[N];
	struct page_stats p0, p1;
	struct kmalloc_stats st;
	int i;

	page_get_stats(&p0);
	srandom(99);
	for (i = 0; i < N; i++) {
		size_t size = (size_t)(random() % 9000) + 1;
		live[i].p = kmalloc(size, 0);
		ck_assert_ptr_nonnull(live[i].p);
		live[i].size = size;
		memset(live[i].p, (uint8_t)i, size);
	}
	for (i = N; i > 1; i--) {
		int j = (int)(random() % i);
		typeof(live[0]) t = live[i - 1];
		live[i - 1] = live[j];
		live[j] = t;
	}
	for (i = 0; i < N; i++) {
		uint8_t tag = live[i].p[0];
		ck_assert_uint_eq(live[i].p[live[i].size - 1], tag);
		ck_assert_uint_eq(live[i].p[live[i].size / 2], tag);
		kfree(live[i].p, live[i].size);
	}
	kmalloc_get_stats(&st);
	ck_assert_uint_eq(st.ks_bytes_inuse, 0);
	page_get_stats(&p1);
	for (i = 0; i < KMALLOC_NCLASSES; i++)
		ck_assert_uint_le(st.ks_class[i].kc_slabs, 1);
	ck_assert_uint_ge(p1.ps_free + 18 * 16, p0.ps_free);
}
END_TEST

START_TEST(test_kmalloc_misuse)
{
	char *p = kmalloc(100, 0);
	char *big = kmalloc(20000, 0);

	ck_assert(SHIM_PANICS(kfree(p, 50)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "wrong size"));
	ck_assert(SHIM_PANICS(kfree(p + 16, 100)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "not the start"));
	ck_assert(SHIM_PANICS(kfree(big, 100)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "not a kmalloc object"));
	ck_assert(SHIM_PANICS(kfree(big, 9000)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg,
	    "allocated with order 3, freed with order 2"));
	kfree(p, 100);
	ck_assert(SHIM_PANICS(kfree(p, 100)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "double free"));
	kfree(big, 20000);
	ck_assert(SHIM_PANICS(kfree(big, 20000)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "double free"));
	/* Still usable afterwards (locks were released before the panics). */
	p = kmalloc(100, 0);
	ck_assert_ptr_nonnull(p);
	kfree(p, 100);
}
END_TEST

START_TEST(test_kmalloc_debug_use_after_free)
{
	uint8_t *p = kmalloc(64, 0);
	size_t i;

	ck_assert(kmalloc_debug_enabled());
	for (i = 0; i < 64; i++)
		ck_assert_uint_eq(p[i], KMALLOC_POISON_ALLOC);
	kfree(p, 64);
	for (i = 8; i < 64; i++)
		ck_assert_uint_eq(p[i], KMALLOC_POISON_FREE);
	p[40] = 1; /* a write after free ... */
	/* ... is found when the object is handed out again (LIFO). */
	ck_assert(SHIM_PANICS(kmalloc(64, 0)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "use after free"));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "offset 40"));
}
END_TEST

START_TEST(test_kmalloc_no_false_alarm_in_debug)
{
	void *p[300];
	int round, i;

	for (round = 0; round < 5; round++) {
		for (i = 0; i < 300; i++)
			p[i] = kmalloc((size_t)(i * 13 % 500) + 1, 0);
		for (i = 0; i < 300; i++)
			kfree(p[i], (size_t)(i * 13 % 500) + 1);
	}
}
END_TEST

START_TEST(test_kmalloc_overflow_and_injection)
{
	struct kmalloc_stats st;
	void *a, *b;

	ck_assert_ptr_null(kmallocarray(SIZE_MAX / 2, 3, 0));
	ck_assert_ptr_null(kmallocarray((size_t)1 << 40, (size_t)1 << 30, 0));
	a = kmallocarray(10, 10, KM_ZERO);
	ck_assert_ptr_nonnull(a);
	kfree(a, 100);
	ck_assert_ptr_null(kmalloc(1UL << 40, 0)); /* more than the arena */
	kmalloc_fail_nth(1);
	ck_assert_ptr_null(kmalloc(10, 0));
	b = kmalloc(10, 0);
	ck_assert_ptr_nonnull(b);
	kfree(b, 10);
	kmalloc_get_stats(&st);
	ck_assert_uint_eq(st.ks_failures, 4);
	/* A page-level failure surfaces as a kmalloc failure too. */
	page_fail_nth(1);
	ck_assert_ptr_null(kmalloc(200000, 0));
}
END_TEST

static Suite *
alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tp = tcase_create("page");
	TCase *tk = tcase_create("kmalloc");
	TCase *td = tcase_create("kmalloc-debug");

	tcase_add_checked_fixture(tp, setup_pages, teardown);
	tcase_add_test(tp, test_page_exhaust_and_recover);
	tcase_add_test(tp, test_page_orders_aligned);
	tcase_add_test(tp, test_page_random);
	tcase_add_test(tp, test_page_misuse);
	tcase_add_test(tp, test_page_fault_injection);
	tcase_add_checked_fixture(tk, setup_all, teardown);
	tcase_add_test(tk, test_kmalloc_sizes);
	tcase_add_test(tk, test_kmalloc_random);
	tcase_add_test(tk, test_kmalloc_misuse);
	tcase_add_test(tk, test_kmalloc_overflow_and_injection);
	tcase_add_checked_fixture(td, setup_all_debug, teardown);
	tcase_add_test(td, test_kmalloc_debug_use_after_free);
	tcase_add_test(td, test_kmalloc_no_false_alarm_in_debug);
	suite_add_tcase(s, tp);
	suite_add_tcase(s, tk);
	suite_add_tcase(s, td);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(alloc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
