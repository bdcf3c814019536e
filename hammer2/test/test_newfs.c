/*
 * h2_newfs: a new volume mounts, lists its PFSs, has empty root
 * directories with the requested methods, carries DragonFly's layout
 * (boot and aux area sizes, allocator_beg, the volume header in every 2 GiB
 * zone that fits; the same numbers the reference image's newfs wrote),
 * and fsck finds it clean. Bad options and allocation failures are
 * refused cleanly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

#define GiB (1ull << 30)

static uint64_t live0;

static void
setup(void)
{
	live0 = h2_host_alloc_live();
	h2t_log_capture();
}

static void
teardown(void)
{
	h2t_log_stop();
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}

static void
uuid_n(struct hammer2_uuid *u, int n)
{
	memset(u, n, sizeof(*u));
}

static struct h2_newfs_opts
opts(void)
{
	struct h2_newfs_opts no;
	int i;

	memset(&no, 0, sizeof(no));
	no.no_labels[0] = "LOCAL";
	no.no_labels[1] = "DATA";
	no.no_nlabels = 2;
	no.no_comp = HAMMER2_COMP_LZ4;
	no.no_check = HAMMER2_CHECK_XXHASH64;
	no.no_time_us = 1767225600ull * 1000000;
	uuid_n(&no.no_fsid, 1);
	uuid_n(&no.no_sup_clid, 2);
	uuid_n(&no.no_sup_fsid, 3);
	for (i = 0; i < HAMMER2_SET_COUNT; i++) {
		uuid_n(&no.no_pfs_clid[i], 0x10 + i);
		uuid_n(&no.no_pfs_fsid[i], 0x20 + i);
	}
	return no;
}

/* An empty in-memory device of size bytes. */
static struct h2_dev *
memdev(uint64_t size)
{
	struct h2_dev *dev = h2t_ov_open("/dev/null", size);

	ck_assert_ptr_nonnull(dev);
	return dev;
}

static void
fsck_clean(struct h2_dev *dev, int zones, int npfs)
{
	struct h2_fsck_result r;

	ck_assert_int_eq(h2_fsck(dev, H2_FSCK_ALLZONES, NULL, NULL, &r), 0);
	ck_assert_uint_eq(r.fr_problems, 0);
	ck_assert_uint_eq(r.fr_warnings, 0);
	ck_assert_int_eq(r.fr_zones_valid, zones);
	ck_assert_uint_eq(r.fr_pfs, (uint64_t)zones * npfs);
}

static int
count_entry(void *arg, const struct h2_dirent *de)
{
	(*(int *)arg)++;
	return 0;
}

/* Each PFS has an empty root directory with the requested methods. */
static void
check_pfs(struct h2_mount *mp, const struct h2_newfs_opts *no)
{
	const struct hammer2_inode_meta *m;
	struct h2_inode *root;
	struct h2_pfs *pfs;
	int i, n;

	for (i = 0; i < no->no_nlabels; i++) {
		ck_assert_int_eq(h2_pfs_open(mp, no->no_labels[i], &pfs), 0);
		m = &h2_pfs_root(pfs)->meta;
		ck_assert_uint_eq(m->type, HAMMER2_OBJTYPE_DIRECTORY);
		ck_assert_uint_eq(m->inum, 1);
		ck_assert_uint_eq(m->mode, 0755);
		ck_assert_uint_eq(m->pfs_type, HAMMER2_PFSTYPE_MASTER);
		ck_assert(m->op_flags & HAMMER2_OPFLAG_PFSROOT);
		ck_assert_mem_eq(&m->pfs_clid, &no->no_pfs_clid[i], 16);
		ck_assert_uint_eq(m->mtime, no->no_time_us);
		ck_assert_uint_eq(m->name_key,
		    h2_dirhash(no->no_labels[i], strlen(no->no_labels[i])));
		if (strcmp(no->no_labels[i], "BOOT") == 0) {
			ck_assert_uint_eq(m->comp_algo, HAMMER2_COMP_AUTOZERO);
		} else {
			ck_assert_uint_eq(m->comp_algo, no->no_comp);
			ck_assert_uint_eq(m->check_algo, no->no_check);
		}
		ck_assert_int_eq(h2_namei(pfs, "/", 0, &root), 0);
		n = 0;
		ck_assert_int_eq(h2_readdir(root, 0, count_entry, &n), 0);
		ck_assert_int_eq(n, 0);
		h2_iput(root);
		h2_pfs_close(pfs);
	}
}

START_TEST(test_newfs_2g_like_dragonfly)
{
	struct h2_dev *dev = memdev(2 * GiB), *ref;
	struct h2_newfs_opts no = opts();
	const struct hammer2_volume_data *vd;
	struct hammer2_volume_data *rv = malloc(sizeof(*rv));
	struct h2_mount *mp;

	ck_assert_int_eq(h2_newfs(dev, &no), 0);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	vd = h2_mount_volhdr(mp);
	/* The numbers makefs's newfs code wrote into the reference image. */
	ck_assert_int_eq(h2_host_open(h2t_img(H2T_IMG_LZ4), 1, &ref), 0);
	ck_assert_int_eq(h2_volhdr_read(ref, 0, rv), 0);
	ck_assert_uint_eq(vd->boot_beg, rv->boot_beg);
	ck_assert_uint_eq(vd->boot_end, rv->boot_end);
	ck_assert_uint_eq(vd->aux_beg, rv->aux_beg);
	ck_assert_uint_eq(vd->aux_end, rv->aux_end);
	ck_assert_uint_eq(vd->allocator_size, rv->allocator_size);
	ck_assert_uint_eq(vd->allocator_beg, rv->allocator_beg);
	ck_assert_uint_eq(vd->volu_size, rv->volu_size);
	ck_assert_uint_eq(vd->total_size, rv->total_size);
	ck_assert_uint_eq(vd->version, rv->version);
	ck_assert_uint_eq(vd->nvolumes, rv->nvolumes);
	ck_assert_mem_eq(vd->volu_loff, rv->volu_loff, sizeof(vd->volu_loff));
	ck_assert_mem_eq(&vd->fstype, &rv->fstype, 16);
	ck_assert_uint_eq(vd->peer_type, rv->peer_type);
	ck_assert_uint_eq(vd->mirror_tid, 16);
	ck_assert_uint_eq(vd->allocator_free, vd->allocator_size);
	h2_host_close(ref);
	free(rv);
	ck_assert_uint_eq(h2_sroot(mp)->meta.pfs_type, HAMMER2_PFSTYPE_SUPROOT);
	ck_assert_uint_eq(h2_sroot(mp)->meta.mode, 0700);
	check_pfs(mp, &no);
	h2_unmount(mp);
	fsck_clean(dev, 1, 2);
	h2t_ov_close(dev);
}
END_TEST

START_TEST(test_newfs_four_headers)
{
	struct h2_dev *dev = memdev(7 * GiB + 12345);
	struct h2_newfs_opts no = opts();
	struct hammer2_volume_data *a = malloc(sizeof(*a));
	struct hammer2_volume_data *b = malloc(sizeof(*b));
	int zone;

	no.no_labels[2] = "BOOT";
	no.no_labels[3] = "a-much-longer-label-name-that-does-not-fit-in-a"
			  "-blockref-check-field-at-all";
	no.no_nlabels = 4;
	no.no_comp =
	    HAMMER2_ENC_ALGO(HAMMER2_COMP_DF_ZSTD) | HAMMER2_ENC_LEVEL(9);
	no.no_check = HAMMER2_CHECK_SHA192;
	ck_assert_int_eq(h2_newfs(dev, &no), 0);
	ck_assert_int_eq(h2_volhdr_read(dev, 0, a), 0);
	ck_assert_uint_eq(a->volu_size, 7 * GiB); /* rounded to 8 MiB */
	/* 7 GiB / 20 < 512 MiB: boot 64 MiB, aux 256 MiB. */
	ck_assert_uint_eq(a->boot_end - a->boot_beg, 64ull << 20);
	ck_assert_uint_eq(a->aux_end - a->aux_beg, 256ull << 20);
	ck_assert_uint_eq(a->allocator_beg, a->aux_end + 5 * 1024);
	ck_assert_uint_eq(a->allocator_size,
	    7 * GiB - 7 * (4ull << 20) - (320ull << 20));
	for (zone = 1; zone < 4; zone++) {
		ck_assert_int_eq(h2_volhdr_read(dev, zone, b), 0);
		ck_assert_mem_eq(a, b, sizeof(*a));
	}
	{
		struct h2_mount *mp;

		const struct hammer2_blockref *r;
		int i;

		ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
		check_pfs(mp, &no);
		/* The PFS roots sit in key order, as DragonFly expects. */
		r = h2_sroot(mp)->u.blockset.blockref;
		for (i = 1; i < 4; i++)
			ck_assert_uint_lt(r[i - 1].key, r[i].key);
		h2_unmount(mp);
	}
	fsck_clean(dev, 4, 4);
	free(a);
	free(b);
	h2t_ov_close(dev);
}
END_TEST

START_TEST(test_newfs_small_and_version1)
{
	struct h2_dev *dev = memdev(100ull << 20);
	struct h2_newfs_opts no = opts();
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));
	struct h2_mount *mp;

	no.no_version = 1;
	no.no_nlabels = 1;
	ck_assert_int_eq(h2_newfs(dev, &no), 0);
	ck_assert_int_eq(h2_volhdr_read(dev, 0, vd), 0);
	ck_assert_uint_eq(vd->version, 1);
	ck_assert_uint_eq(vd->nvolumes, 0);
	ck_assert_uint_eq(vd->volu_size, 96ull << 20);
	ck_assert_uint_eq(vd->boot_end - vd->boot_beg, 8ull << 20);
	ck_assert_uint_eq(vd->aux_end - vd->aux_beg, 8ull << 20);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	check_pfs(mp, &no);
	h2_unmount(mp);
	fsck_clean(dev, 1, 1);
	free(vd);
	h2t_ov_close(dev);
}
END_TEST

START_TEST(test_newfs_clears_reserve_and_optionally_areas)
{
	struct h2_dev *dev = memdev(2 * GiB);
	struct h2_newfs_opts no = opts();
	uint8_t junk[16], z[16] = { 0 }, got[16];

	memset(junk, 0xAB, sizeof(junk));
	h2t_ov_poke(dev, 1 << 20, junk, 16);	  /* reserved segment */
	h2t_ov_poke(dev, 5ull << 20, junk, 16);	  /* boot area */
	h2t_ov_poke(dev, 100ull << 20, junk, 16); /* aux area */
	ck_assert_int_eq(h2_newfs(dev, &no), 0);
	h2t_ov_peek(dev, 1 << 20, got, 16);
	ck_assert_mem_eq(got, z, 16);
	h2t_ov_peek(dev, 5ull << 20, got, 16);
	ck_assert_mem_eq(got, junk, 16);
	no.no_flags = H2_NEWFS_ZERO;
	ck_assert_int_eq(h2_newfs(dev, &no), 0);
	h2t_ov_peek(dev, 5ull << 20, got, 16);
	ck_assert_mem_eq(got, z, 16);
	h2t_ov_peek(dev, 100ull << 20, got, 16);
	ck_assert_mem_eq(got, z, 16);
	fsck_clean(dev, 1, 2);
	h2t_ov_close(dev);
}
END_TEST

START_TEST(test_newfs_bad_options)
{
	struct h2_dev *dev = memdev(2 * GiB);
	struct h2_newfs_opts no;
	struct h2_mount *mp;

	no = opts();
	no.no_nlabels = 0;
	ck_assert_int_eq(h2_newfs(dev, &no), -EINVAL);
	no = opts();
	no.no_nlabels = 5;
	ck_assert_int_eq(h2_newfs(dev, &no), -EINVAL);
	no = opts();
	no.no_labels[1] = "LOCAL";
	ck_assert_int_eq(h2_newfs(dev, &no), -EINVAL);
	no.no_labels[1] = "a/b";
	ck_assert_int_eq(h2_newfs(dev, &no), -EINVAL);
	no.no_labels[1] = "";
	ck_assert_int_eq(h2_newfs(dev, &no), -EINVAL);
	no = opts();
	no.no_check = 7;
	ck_assert_int_eq(h2_newfs(dev, &no), -EINVAL);
	no = opts();
	no.no_comp = 9;
	ck_assert_int_eq(h2_newfs(dev, &no), -EINVAL);
	no = opts();
	no.no_version = 3;
	ck_assert_int_eq(h2_newfs(dev, &no), -EINVAL);
	no = opts();
	no.no_size = 32ull << 20;
	ck_assert_int_eq(h2_newfs(dev, &no), -ENOSPC);
	no.no_size = 3 * GiB;
	ck_assert_int_eq(h2_newfs(dev, &no), -ENOSPC);
	no = opts();
	no.no_boot_size = 2 * GiB;
	ck_assert_int_eq(h2_newfs(dev, &no), -ENOSPC);
	/* Nothing was written by any of these. */
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), -EINVAL);
	h2t_ov_close(dev);
}
END_TEST

START_TEST(test_newfs_alloc_failures)
{
	struct h2_dev *dev = memdev(2 * GiB);
	struct h2_newfs_opts no = opts();

	h2_host_fail_alloc(1);
	ck_assert_int_eq(h2_newfs(dev, &no), -ENOMEM);
	h2_host_fail_alloc(2);
	ck_assert_int_eq(h2_newfs(dev, &no), -ENOMEM);
	h2_host_fail_alloc(0);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
	ck_assert_int_eq(h2_newfs(dev, &no), 0);
	fsck_clean(dev, 1, 2);
	h2t_ov_close(dev);
}
END_TEST

static Suite *
newfs_suite(void)
{
	Suite *s = suite_create("h2_newfs");
	TCase *tc = tcase_create("newfs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_newfs_2g_like_dragonfly);
	tcase_add_test(tc, test_newfs_four_headers);
	tcase_add_test(tc, test_newfs_small_and_version1);
	tcase_add_test(tc, test_newfs_clears_reserve_and_optionally_areas);
	tcase_add_test(tc, test_newfs_bad_options);
	tcase_add_test(tc, test_newfs_alloc_failures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(newfs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
