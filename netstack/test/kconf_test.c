/*
 * Tests of the kernel glue's configuration parsers (kern/nsk_conf.c):
 * net.ip and net.gw, good values and every kind of bad one.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/kern/nsk.h"

START_TEST(test_ip4_good)
{
	static const struct {
		const char *s;
		uint32_t a;
	} ok[] = {
		{ "10.0.0.1", NS_IP4(10, 0, 0, 1) },
		{ "0.0.0.0", 0 },
		{ "255.255.255.255", 0xffffffffu },
		{ "192.168.100.7", NS_IP4(192, 168, 100, 7) },
	};
	const char *why;
	uint32_t a;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(nsk_parse_ip4(ok[i].s, &a, &why), 0);
		ck_assert_uint_eq(a, ok[i].a);
	}
}
END_TEST

START_TEST(test_ip4_bad)
{
	static const char *const bad[] = { "", "10", "10.0.0", "10.0.0.1.",
		"10.0.0.1.2", "256.0.0.1", "10.0.0.256", "010.0.0.1",
		"10.0.0.01", "10.0.0.-1", " 10.0.0.1", "10.0.0.1 ", "10..0.1",
		"a.b.c.d", "10.0.0.1/24", "99999999999.0.0.1", "0x0a.0.0.1" };
	const char *why;
	uint32_t a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(nsk_parse_ip4(bad[i], &a, &why) == -EINVAL,
		    "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(test_cidr)
{
	static const char *const bad[] = { "10.0.0.2", "10.0.0.2/",
		"10.0.0.2/0", "10.0.0.2/33", "10.0.0.2/024", "10.0.0.2/24x",
		"10.0.0.2//24", "/24", "10.0.0.2/-1", "10.0.0.300/24" };
	const char *why;
	uint32_t a, m;
	size_t i;

	ck_assert_int_eq(nsk_parse_cidr("10.0.0.2/24", &a, &m, &why), 0);
	ck_assert_uint_eq(a, NS_IP4(10, 0, 0, 2));
	ck_assert_uint_eq(m, 0xffffff00u);
	ck_assert_int_eq(nsk_parse_cidr("10.1.2.3/32", &a, &m, &why), 0);
	ck_assert_uint_eq(m, 0xffffffffu);
	ck_assert_int_eq(nsk_parse_cidr("10.1.2.3/1", &a, &m, &why), 0);
	ck_assert_uint_eq(m, 0x80000000u);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(nsk_parse_cidr(bad[i], &a, &m, &why) == -EINVAL,
		    "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

static int
check(uint32_t a, uint32_t m, uint32_t gw, const char **wi, const char **wg)
{
	struct nsk_addr na = { a, m, gw };

	return nsk_check_addr(&na, wi, wg);
}

START_TEST(test_check)
{
	const uint32_t m24 = 0xffffff00u;
	const char *wi, *wg;

	ck_assert_int_eq(
	    check(NS_IP4(10, 0, 0, 2), m24, NS_IP4(10, 0, 0, 1), &wi, &wg), 0);
	ck_assert_int_eq(check(NS_IP4(10, 0, 0, 2), m24, 0, &wi, &wg), 0);
	/* /31 and /32 have no network or broadcast address. */
	ck_assert_int_eq(check(NS_IP4(10, 0, 0, 0), 0xfffffffeu,
			     NS_IP4(10, 0, 0, 1), &wi, &wg),
	    0);
	ck_assert_int_eq(check(NS_IP4(10, 0, 0, 255), 0xffffffffu, 0, &wi, &wg),
	    0);
	/* The address itself. */
	ck_assert_int_eq(check(0, m24, 0, &wi, &wg), -EINVAL);
	ck_assert_ptr_nonnull(wi);
	ck_assert_int_eq(check(NS_IP4(127, 0, 0, 1), m24, 0, &wi, &wg),
	    -EINVAL);
	ck_assert_int_eq(check(NS_IP4(224, 0, 0, 1), m24, 0, &wi, &wg),
	    -EINVAL);
	ck_assert_int_eq(check(NS_IP4(255, 255, 255, 255), m24, 0, &wi, &wg),
	    -EINVAL);
	ck_assert_int_eq(check(NS_IP4(0, 1, 2, 3), m24, 0, &wi, &wg), -EINVAL);
	ck_assert_int_eq(check(NS_IP4(10, 0, 0, 0), m24, 0, &wi, &wg), -EINVAL);
	ck_assert_int_eq(check(NS_IP4(10, 0, 0, 255), m24, 0, &wi, &wg),
	    -EINVAL);
	ck_assert_ptr_null(wg);
	/* The gateway. */
	ck_assert_int_eq(
	    check(NS_IP4(10, 0, 0, 2), m24, NS_IP4(10, 0, 1, 1), &wi, &wg),
	    -EINVAL);
	ck_assert_ptr_null(wi);
	ck_assert_str_eq(wg, "outside the subnet of net.ip");
	ck_assert_int_eq(
	    check(NS_IP4(10, 0, 0, 2), m24, NS_IP4(10, 0, 0, 2), &wi, &wg),
	    -EINVAL);
	ck_assert_int_eq(
	    check(NS_IP4(10, 0, 0, 2), m24, NS_IP4(10, 0, 0, 255), &wi, &wg),
	    -EINVAL);
	ck_assert_int_eq(
	    check(NS_IP4(10, 0, 0, 2), m24, NS_IP4(10, 0, 0, 0), &wi, &wg),
	    -EINVAL);
	ck_assert_int_eq(check(NS_IP4(10, 0, 0, 2), 0xffffffffu,
			     NS_IP4(10, 0, 0, 1), &wi, &wg),
	    -EINVAL);
}
END_TEST

static Suite *
kconf_suite(void)
{
	Suite *s = suite_create("net_kconf");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_ip4_good);
	tcase_add_test(tc, test_ip4_bad);
	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_check);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(kconf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
