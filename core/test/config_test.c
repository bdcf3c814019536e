/*
 * Command-line and config-file parsing: every key type, every way a value
 * or a line can be wrong (each reported, counted, the default kept), and
 * random garbage (no crash, no hang, nothing set that should not be).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/test/shim.h"

static bool b_on;
static int64_t i_level, i_neg;
static int64_t s_mem;
static char str_name[16];

static const struct cfgkey keys[] = {
	{ "debug", CFG_TYPE_BOOL, &b_on, 0, 1, "" },
	{ "loglevel", CFG_TYPE_INT, &i_level, 0, 3, "" },
	{ "offset", CFG_TYPE_INT, &i_neg, -1000, 1000, "" },
	{ "mem.size", CFG_TYPE_SIZE, &s_mem, 4096, INT64_MAX, "" },
	{ "name", CFG_TYPE_STR, str_name, 0, sizeof(str_name), "" },
};
static const struct cfg_table table = { keys, sizeof(keys) / sizeof(keys[0]) };

static void
reset(void)
{
	b_on = false;
	i_level = 2;
	i_neg = 0;
	s_mem = 65536;
	strcpy(str_name, "default");
	shim_reset_log();
}

static struct cfg_result
cmdline(const char *s)
{
	struct cfg_result r = { 0 };

	cfg_parse_cmdline(&table, s, &r);
	return r;
}

static struct cfg_result
file(const char *buf, size_t len)
{
	struct cfg_result r = { 0 };

	cfg_parse_file(&table, buf, len, "test.conf", &r);
	return r;
}

START_TEST(test_cmdline_good)
{
	struct cfg_result r;

	reset();
	r = cmdline(
	    "  debug loglevel=3\toffset=-17 mem.size=64M name=\"a b\" ");
	ck_assert_int_eq(r.cr_set, 5);
	ck_assert_int_eq(r.cr_unknown + r.cr_bad, 0);
	ck_assert(b_on);
	ck_assert_int_eq(i_level, 3);
	ck_assert_int_eq(i_neg, -17);
	ck_assert_int_eq(s_mem, 64 << 20);
	ck_assert_str_eq(str_name, "a b");

	r = cmdline("debug=off loglevel=0x1 mem.size=2GiB name=x");
	ck_assert_int_eq(r.cr_set, 4);
	ck_assert(!b_on);
	ck_assert_int_eq(i_level, 1);
	ck_assert_int_eq(s_mem, 2LL << 30);
	r = cmdline("mem.size=8k mem.size=3T");
	ck_assert_int_eq(r.cr_set, 2);
	ck_assert_int_eq(s_mem, 3LL << 40);
	r = cmdline("");
	ck_assert_int_eq(r.cr_set + r.cr_bad + r.cr_unknown, 0);
}
END_TEST

START_TEST(test_cmdline_unknown_key)
{
	struct cfg_result r;

	reset();
	r = cmdline("nosuchkey=1 debug bogus");
	ck_assert_int_eq(r.cr_unknown, 2);
	ck_assert_int_eq(r.cr_set, 1);
	ck_assert(b_on);
	ck_assert_ptr_nonnull(
	    strstr(shim_last_log[LOG_WARN], "unknown key 'bogus'"));
	ck_assert_int_eq(shim_log_count[LOG_WARN], 2);
}
END_TEST

/* Each bad value is reported, counted, and leaves the default. */
START_TEST(test_cmdline_bad_values)
{
	static const char *const bad[] = {
		"loglevel=",
		"loglevel=abc",
		"loglevel=4",
		"loglevel=-1",
		"loglevel=1x",
		"loglevel=0x",
		"loglevel",
		"loglevel=99999999999999999999",
		"offset=--5",
		"offset=1001",
		"offset=+",
		"mem.size=12Q",
		"mem.size=-4k",
		"mem.size=1kB2",
		"mem.size=100",
		"mem.size=k",
		"mem.size=9999999999999999T",
		"debug=maybe",
		"debug=",
		"name",
		"name=0123456789abcdef",
		"=5",
		"=",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cfg_result r;
		reset();
		r = cmdline(bad[i]);
		ck_assert_msg(r.cr_bad == 1 && r.cr_set == 0,
		    "'%s': bad %d set %d", bad[i], r.cr_bad, r.cr_set);
		ck_assert_msg(shim_log_count[LOG_ERR] == 1, "'%s' not reported",
		    bad[i]);
		ck_assert(!b_on);
		ck_assert_int_eq(i_level, 2);
		ck_assert_int_eq(i_neg, 0);
		ck_assert_int_eq(s_mem, 65536);
		ck_assert_str_eq(str_name, "default");
	}
	reset();
	cmdline("loglevel=9");
	ck_assert_ptr_nonnull(strstr(shim_last_log[LOG_ERR], "keeping 2"));
	ck_assert_ptr_nonnull(
	    strstr(shim_last_log[LOG_ERR], "out of range 0..3"));
}
END_TEST

START_TEST(test_cmdline_quotes)
{
	struct cfg_result r;

	reset();
	r = cmdline("name=\"unterminated debug");
	ck_assert_int_eq(r.cr_bad, 1);
	ck_assert(!b_on); /* the rest of the line is not taken as keys */
	ck_assert_str_eq(str_name, "default");
	r = cmdline("name=\"\"");
	ck_assert_int_eq(r.cr_set, 1);
	ck_assert_str_eq(str_name, "");
}
END_TEST

START_TEST(test_file_good)
{
	static const char text[] = "# a comment\n"
				   "\n"
				   "debug = yes\r\n"
				   "  loglevel=1   # trailing comment\n"
				   "name = \"q#r\"\n"
				   "mem.size = 1M\n"
				   "offset=-3";
	struct cfg_result r;

	reset();
	r = file(text, sizeof(text) - 1);
	ck_assert_int_eq(r.cr_set, 5);
	ck_assert_int_eq(r.cr_bad + r.cr_unknown, 0);
	ck_assert(b_on);
	ck_assert_int_eq(i_level, 1);
	ck_assert_str_eq(str_name, "q#r"); /* a quoted value keeps its # */
	ck_assert_int_eq(s_mem, 1 << 20);
	ck_assert_int_eq(i_neg, -3);
	/* a file made from a C string ends at its NULs */
	reset();
	r = file("debug\n\0\0", 8);
	ck_assert_int_eq(r.cr_set, 1);
	ck_assert_int_eq(r.cr_bad, 0);
}
END_TEST

START_TEST(test_file_bad_lines)
{
	char big[3000];
	struct cfg_result r;

	reset();
	r = file("loglevel 3\n", 11);
	ck_assert_int_eq(r.cr_bad, 1);
	ck_assert_ptr_nonnull(strstr(shim_last_log[LOG_ERR], "line 1"));
	ck_assert_int_eq(i_level, 2);

	reset();
	r = file("debug\n= 4\nloglevel=3\n", 21);
	ck_assert_int_eq(r.cr_bad, 1);
	ck_assert_int_eq(r.cr_set, 2);
	ck_assert_ptr_nonnull(strstr(shim_last_log[LOG_ERR], "line 2"));

	reset();
	r = file("debug\nlog\0level=3\nname=x\n", 24);
	ck_assert_int_eq(r.cr_bad, 1);
	ck_assert_ptr_nonnull(strstr(shim_last_log[LOG_ERR], "NUL"));
	ck_assert(b_on);
	ck_assert_str_eq(str_name, "default"); /* after the NUL: ignored */

	reset();
	memset(big, 'a', sizeof(big));
	memcpy(big + sizeof(big) - 12, "\nloglevel=0\n", 12);
	r = file(big, sizeof(big));
	ck_assert_int_eq(r.cr_bad, 1);
	ck_assert_int_eq(r.cr_set, 1);
	ck_assert_int_eq(i_level, 0);
	ck_assert_ptr_nonnull(strstr(shim_last_log[LOG_ERR], "longer than"));

	reset();
	r = file("nosuch = 1\n", 11);
	ck_assert_int_eq(r.cr_unknown, 1);
	ck_assert_ptr_nonnull(
	    strstr(shim_last_log[LOG_WARN], "test.conf line 1"));
}
END_TEST

/* Random bytes and random mutations of good text: no crash, no hang, and
 * every line accounted for as set, unknown or bad. */
START_TEST(test_garbage)
{
	static const char good[] =
	    "debug=1 loglevel=2 name=\"x y\" mem.size=4k";
	char buf[256];
	int iter;

	srandom(12345);
	for (iter = 0; iter < 20000; iter++) {
		struct cfg_result r = { 0 };
		size_t n = (size_t)(random() % (sizeof(buf) - 1));
		size_t i;
		if (iter % 2 == 0) {
			for (i = 0; i < n; i++)
				buf[i] = (char)(random() % 256);
		} else {
			n = sizeof(good) - 1;
			memcpy(buf, good, n);
			for (i = 0; i < 3; i++)
				buf[random() % n] = (char)(random() % 256);
		}
		buf[n] = 0;
		reset();
		cfg_parse_file(&table, buf, n, "fuzz", &r);
		cfg_parse_cmdline(&table, buf, &r);
		ck_assert(i_level >= 0 && i_level <= 3);
		ck_assert(strlen(str_name) < sizeof(str_name));
		ck_assert(s_mem >= 4096);
	}
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_cmdline_good);
	tcase_add_test(tc, test_cmdline_unknown_key);
	tcase_add_test(tc, test_cmdline_bad_values);
	tcase_add_test(tc, test_cmdline_quotes);
	tcase_add_test(tc, test_file_good);
	tcase_add_test(tc, test_file_bad_lines);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
