/*
 * h2_model: 10,000 seeded random operations on a volume, each also done
 * on an in-memory model of the file system, and after every remount the
 * whole volume (and each snapshot) compared with the model. The engine
 * (operations, model, comparison) is h2model.c, shared with the
 * write-path fuzzer; see there for what it does.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2model.h"

#define NOPS 10000

static uint64_t live0;

static void model_fail(const char *msg) __attribute__((noreturn));

static void
model_fail(const char *msg)
{
	ck_abort_msg("%s", msg);
	abort(); /* not reached */
}

static void
setup(void)
{
	h2m_fail = model_fail;
	live0 = h2_host_alloc_live();
}

static void
teardown(void)
{
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}

static void
run_model(uint64_t seed, int nops, uint8_t comp, uint8_t check)
{
	struct h2m_opts mo = { seed, nops, comp, check, 0, NULL, 0 };
	uint64_t stats[32];
	int i, kinds = 0;

	ck_assert_int_eq(h2m_run(&mo, stats), nops);
	/* Every class of operation ran (25 classes of 4 percent). */
	for (i = 0; i < 25; i++)
		kinds += stats[i] > 0;
	ck_assert_int_eq(kinds, 25);
}

START_TEST(test_model_lz4)
{
	run_model(1, NOPS / 2, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64);
}
END_TEST

START_TEST(test_model_zlib)
{
	run_model(2, NOPS / 4, HAMMER2_COMP_ZLIB, HAMMER2_CHECK_ISCSI32);
}
END_TEST

START_TEST(test_model_zstd)
{
	run_model(3, NOPS / 4, HAMMER2_COMP_DF_ZSTD, HAMMER2_CHECK_XXHASH64);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("h2_model");
	TCase *tc = tcase_create("model");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_model_lz4);
	tcase_add_test(tc, test_model_zlib);
	tcase_add_test(tc, test_model_zstd);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
