/*
 * h2_roundtrip: the tree mktree.py makes (the one in the reference
 * images) populated into new volumes as newfs_hammer2 does, with each
 * compression method (none, autozero, LZ4, zlib, zstd) and each check
 * method (crc32, xxhash64, sha192, none); every volume passes fsck and
 * reads back exactly as the MANIFEST says, after a remount. The blocks
 * carry the methods asked for (compressed only where that saves space).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/cmd/h2populate.h"
#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

static struct h2t_manifest man;
static uint64_t live0;

static void
setup(void)
{
	ck_assert_int_eq(h2t_manifest_load(&man), 0);
	live0 = h2_host_alloc_live();
}

static void
teardown(void)
{
	h2t_manifest_free(&man);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}

struct mcount {
	uint64_t mc_comp[16];
	uint64_t mc_check[16];
};

static int
count_data(void *arg, const struct hammer2_blockref *b)
{
	struct mcount *mc = arg;

	if (b->type == HAMMER2_BREF_TYPE_DATA) {
		mc->mc_comp[HAMMER2_DEC_COMP(b->methods)]++;
		mc->mc_check[HAMMER2_DEC_CHECK(b->methods)]++;
	}
	return 0;
}

static void
roundtrip(uint8_t comp, uint8_t check)
{
	struct h2_dev *dev = h2t_mem_newfs(1ull << 30, comp, check);
	struct h2t_verify v;
	struct h2t_vol vol;
	struct h2pop p;
	struct mcount mc;
	struct h2_inode *ip;
	int method = HAMMER2_DEC_ALGO(comp);

	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(h2t_vol_mount(&vol, dev, H2_MNT_RDWR, "DATA"), 0);
	ck_assert_int_eq(h2pop_init(&p, vol.v_pfs), 0);
	ck_assert_int_eq(h2pop_tree(&p, vol.v_root, H2_TREE_DIR), 0);
	ck_assert_uint_eq(p.p_files, 2026);
	ck_assert_uint_eq(p.p_errors, 0);
	h2pop_fini(&p);
	ck_assert_int_eq(h2_flush(vol.v_mp), 0);
	h2t_vol_umount(&vol);
	ck_assert_uint_eq(h2t_fsck_problems(dev, 1), 0);
	ck_assert_int_eq(h2t_vol_mount(&vol, dev, 0, "DATA"), 0);
	ck_assert_int_eq(h2t_verify_pfs(vol.v_pfs, &man, NULL, &v), 0);
	ck_assert_int_eq(v.v_wrong, 0);
	ck_assert_int_eq(v.v_errors, 0);
	ck_assert_int_eq(v.v_extra, 0);
	ck_assert_int_eq(v.v_missing, 0);
	ck_assert_int_eq(v.v_files, 2026);
	ck_assert_int_eq(v.v_links, 1);
	/* The 12 MiB text file: compressed with the method asked for
	 * (where a method compresses), the check asked for everywhere. */
	ip = h2t_path(vol.v_pfs, "big/text-12m.txt");
	ck_assert_ptr_nonnull(ip);
	memset(&mc, 0, sizeof(mc));
	ck_assert_int_eq(
	    h2_tree_scan(vol.v_mp, h2_idata(ip)->u.blockset.blockref,
		HAMMER2_SET_COUNT, 0, HAMMER2_KEY_MAX, count_data, &mc),
	    0);
	h2_iput(ip);
	ck_assert_uint_eq(mc.mc_check[check], 192);
	if (method == HAMMER2_COMP_LZ4 || method == HAMMER2_COMP_ZLIB ||
	    method == HAMMER2_COMP_DF_ZSTD)
		ck_assert_uint_eq(mc.mc_comp[method], 192);
	else
		ck_assert_uint_eq(mc.mc_comp[HAMMER2_COMP_NONE], 192);
	h2t_vol_umount(&vol);
	h2t_ov_close(dev);
}

START_TEST(test_roundtrip_comp)
{
	static const uint8_t comps[] = { HAMMER2_COMP_NONE,
		HAMMER2_COMP_AUTOZERO, HAMMER2_COMP_LZ4, HAMMER2_COMP_ZLIB,
		HAMMER2_COMP_DF_ZSTD };

	roundtrip(comps[_i], HAMMER2_CHECK_XXHASH64);
}
END_TEST

START_TEST(test_roundtrip_check)
{
	static const uint8_t checks[] = { HAMMER2_CHECK_ISCSI32,
		HAMMER2_CHECK_SHA192, HAMMER2_CHECK_NONE };

	roundtrip(HAMMER2_COMP_LZ4, checks[_i]);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("h2_roundtrip");
	TCase *tc = tcase_create("roundtrip");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_roundtrip_comp, 0, 5);
	tcase_add_loop_test(tc, test_roundtrip_check, 0, 3);
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
