/*
 * The kernel's printf formatter against glibc's, over every combination of
 * flags, width, precision, length modifier and conversion we support, with
 * values at the edges; plus truncation, the return value, and what we
 * refuse (%n, floating point).
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "core/fmt.h"

static const char *const flag_sets[] = { "", "-", "+", " ", "#", "0", "-0",
	"+0", "#0", "-#", "+ ", "-+ #0" };
static const char *const widths[] = { "", "1", "5", "12", "25" };
static const char *const precs[] = { "", ".", ".0", ".1", ".3", ".10", ".22" };

static int compared;

static void
check_same(const char *fmt, const char *got, int gotn, const char *want,
    int wantn)
{
	compared++;
	ck_assert_msg(gotn == wantn, "format \"%s\": returned %d, glibc %d",
	    fmt, gotn, wantn);
	ck_assert_msg(strcmp(got, want) == 0,
	    "format \"%s\": got \"%s\", glibc \"%s\"", fmt, got, want);
}

#define COMPARE(fmt, ...)                                                 \
	do {                                                              \
		char g_[256], w_[256];                                    \
		int gn_ = fmt_snprintf(g_, sizeof(g_), fmt, __VA_ARGS__); \
		int wn_ = snprintf(w_, sizeof(w_), fmt, __VA_ARGS__);     \
		check_same(fmt, g_, gn_, w_, wn_);                        \
	} while (0)

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-truncation"

static void
build(char *out, size_t n, const char *flags, const char *w, const char *p,
    const char *len, char conv)
{
	snprintf(out, n, "[%%%s%s%s%s%c]", flags, w, p, len, conv);
}

START_TEST(test_integers)
{
	static const long long vals[] = { 0, 1, -1, 7, 42, -42, 255, 256, 32767,
		-32768, 65535, INT_MAX, INT_MIN, 4294967295LL, LLONG_MAX,
		LLONG_MIN, 0x123456789abcLL };
	static const char convs[] = "diuoxX";
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "j", "z",
		"t" };
	char fmt[64];
	size_t f, w, p, l, c, v;

	for (f = 0; f < sizeof(flag_sets) / sizeof(*flag_sets); f++)
		for (w = 0; w < sizeof(widths) / sizeof(*widths); w++)
			for (p = 0; p < sizeof(precs) / sizeof(*precs); p++)
				for (l = 0; l < sizeof(lens) / sizeof(*lens);
				     l++)
					for (c = 0; convs[c]; c++)
						for (v = 0; v < sizeof(vals) /
							 sizeof(*vals);
						     v++) {
							build(fmt, sizeof(fmt),
							    flag_sets[f],
							    widths[w], precs[p],
							    lens[l], convs[c]);
							if (l == 0 || l == 1 ||
							    l == 2)
								COMPARE(fmt,
								    (int)vals
									[v]);
							else
								COMPARE(fmt,
								    (long long)
									vals[v]);
						}
	ck_assert_int_gt(compared, 100000);
}
END_TEST

START_TEST(test_strings_chars_pointers)
{
	static const char *const strs[] = { "", "a", "hello",
		"a longer string, with spaces" };
	char fmt[64];
	size_t f, w, p, s;

	for (f = 0; f < sizeof(flag_sets) / sizeof(*flag_sets); f++) {
		if (strchr(flag_sets[f], '0') != NULL)
			continue; /* '0' with %s and %c is undefined in C */
		for (w = 0; w < sizeof(widths) / sizeof(*widths); w++) {
			for (p = 0; p < sizeof(precs) / sizeof(*precs); p++)
				for (s = 0; s < sizeof(strs) / sizeof(*strs);
				     s++) {
					build(fmt, sizeof(fmt), flag_sets[f],
					    widths[w], precs[p], "", 's');
					COMPARE(fmt, strs[s]);
				}
			build(fmt, sizeof(fmt), flag_sets[f], widths[w], "", "",
			    'c');
			COMPARE(fmt, 'x');
			build(fmt, sizeof(fmt), "-", widths[w], "", "", 'p');
			COMPARE(fmt, (void *)0x1234abcdUL);
			COMPARE(fmt, (void *)NULL);
			build(fmt, sizeof(fmt), "", widths[w], "", "", 'p');
			COMPARE(fmt, (void *)0xffffffffffffUL);
		}
	}
	COMPARE("%s|%.3s|%10s|%-10s|", (char *)NULL, (char *)NULL, (char *)NULL,
	    (char *)NULL);
	COMPARE("%%|%5%|%c%c%c", 'a', 'b', 'c');
	COMPARE("%*d|%-*d|%.*d|%*.*s|", 6, 42, 6, 42, 4, 7, 8, 2, "abcdef");
	COMPARE("%*d|%.*d|", -6, 42, -4, 7); /* negative width, precision */
}
END_TEST

START_TEST(test_truncation_and_return)
{
	char buf[8];
	int n;

	memset(buf, 'Z', sizeof(buf));
	n = fmt_snprintf(buf, 4, "%s", "abcdef");
	ck_assert_int_eq(n, 6);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(buf[4], 'Z'); /* nothing past the limit */

	memset(buf, 'Z', sizeof(buf));
	n = fmt_snprintf(buf, 0, "%d", 12345);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(buf[0], 'Z'); /* size 0 writes nothing */

	n = fmt_snprintf(NULL, 0, "%s%d", "x", 100);
	ck_assert_int_eq(n, 4);

	n = fmt_snprintf(buf, 1, "hello");
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(buf, "");

	n = fmt_snprintf(buf, sizeof(buf), "1234567");
	ck_assert_int_eq(n, 7);
	ck_assert_str_eq(buf, "1234567");
}
END_TEST

START_TEST(test_refused_conversions)
{
	char buf[64];
	int before = 5;

	/* %n writes nothing through the pointer and is copied as written. */
	fmt_snprintf(buf, sizeof(buf), "ab%ncd", &before);
	ck_assert_int_eq(before, 5);
	ck_assert_str_eq(buf, "ab%ncd");
	/* Floating point is not formatted; later integer arguments stay in
	 * place (doubles travel in the vector area of the va_list). */
	fmt_snprintf(buf, sizeof(buf), "%f %d %.2e %s", 1.5, 7, 2.5, "x");
	ck_assert_str_eq(buf, "%f 7 %.2e x");
	/* A format cut short after % */
	fmt_snprintf(buf, sizeof(buf), "abc%");
	ck_assert_str_eq(buf, "abc%");
	fmt_snprintf(buf, sizeof(buf), "abc%-5");
	ck_assert_str_eq(buf, "abc%-5");
	/* An unknown conversion is copied */
	fmt_snprintf(buf, sizeof(buf), "%y%d", 3);
	ck_assert_str_eq(buf, "%y3");
}
END_TEST

START_TEST(test_huge_width_is_bounded)
{
	char buf[16];
	int n = fmt_snprintf(buf, sizeof(buf), "%99999999999d", 1);

	/* The width saturates at INT_MAX; the return value is clamped too
	 * and the buffer holds what fits. */
	ck_assert_int_gt(n, 1000000);
	ck_assert_int_eq((int)strlen(buf), 15);
}
END_TEST

static Suite *
fmt_suite(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_strings_chars_pointers);
	tcase_add_test(tc, test_truncation_and_return);
	tcase_add_test(tc, test_refused_conversions);
	tcase_add_test(tc, test_huge_width_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fmt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
