/*
 * Damaged media and a failing platform. Bit flips in every kind of block of
 * a valid image (inodes, indirect blocks, directory-name blocks, file data,
 * the volume header): every read either fails with -EIO or returns exactly
 * the right bytes, the damage is counted and logged naming the block, and
 * nothing else is affected. Also: flips in free space change nothing; the
 * best of four volume headers is chosen by CRC and mirror_tid; a device
 * smaller than its volume is refused; an I/O error or allocation failure at
 * every step of a mount-and-read fails that step cleanly without leaks.
 * The write path on damaged images: a writable mount of an image with a
 * flipped bit in any kind of block (the freemap too) takes creates,
 * writes, truncates, renames, unlinks and a flush, each succeeding or
 * failing with an error, never crashing or leaking.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/h2_hash.h"
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
	h2t_log_stop();
	h2t_manifest_free(&man);
}

/* Mount dev and compare PFS DATA with the manifest. Returns the mount or
 * PFS error, or 0 with *v and *st filled. */
static int
walk_data(struct h2_dev *dev, struct h2t_verify *v, struct h2_stats *st)
{
	struct h2_mount *mp;
	struct h2_pfs *pfs;
	int error;

	memset(v, 0, sizeof(*v));
	memset(st, 0, sizeof(*st));
	if ((error = h2_mount(dev, NULL, &mp)) != 0)
		return error;
	if ((error = h2_pfs_open(mp, "DATA", &pfs)) == 0) {
		h2t_verify_pfs(pfs, &man, NULL, v);
		h2_pfs_close(pfs);
	}
	h2_mount_stats(mp, st);
	h2_unmount(mp);
	return error;
}

static int
block_len(const struct hammer2_blockref *b)
{
	int radix = b->data_off & HAMMER2_OFF_MASK_RADIX;

	return radix ? 1 << radix : 0;
}

/* Pick up to per_type nodes of each kind below PFS DATA. */
static int
pick_nodes(const struct h2t_tree *t, int pfs, int per_type, int *out,
    unsigned seed)
{
	int count[8] = { 0 }, n = 0, i, j, tries;

	srandom(seed);
	for (tries = 0; tries < t->t_count * 4 && n < 4 * per_type; tries++) {
		i = (int)(random() % t->t_count);
		const struct h2t_node *nd = &t->t_nodes[i];

		if (block_len(&nd->n_bref) == 0 || !h2t_below(t, i, pfs) ||
		    nd->n_bref.type >= 8 || count[nd->n_bref.type] >= per_type)
			continue;
		for (j = 0; j < n && out[j] != i; j++)
			;
		if (j < n)
			continue;
		count[nd->n_bref.type]++;
		out[n++] = i;
	}
	/* Every kind of block that carries data is represented. */
	ck_assert_int_gt(count[HAMMER2_BREF_TYPE_INODE], 0);
	ck_assert_int_gt(count[HAMMER2_BREF_TYPE_INDIRECT], 0);
	ck_assert_int_gt(count[HAMMER2_BREF_TYPE_DATA], 0);
	ck_assert_int_gt(count[HAMMER2_BREF_TYPE_DIRENT], 0);
	return n;
}

static void
bitflips(const char *img, unsigned seed)
{
	struct h2_dev *dev = h2t_ov_open(h2t_img(img), 0);
	int picks[64], n, k, pfs, len, error;
	const struct hammer2_blockref *b;
	struct h2t_verify v;
	struct h2_stats st;
	struct h2t_tree t;
	char offstr[32];
	uint64_t off;

	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(h2t_tree_build(dev, &t), 0);
	ck_assert_int_ge(pfs = h2t_find_pfs(&t, "DATA"), 0);
	n = pick_nodes(&t, pfs, 6, picks, seed);
	for (k = 0; k < n; k++) {
		b = &t.t_nodes[picks[k]].n_bref;
		len = block_len(b);
		off = (b->data_off & HAMMER2_OFF_MASK) +
		    (uint64_t)(random() % len);
		h2t_ov_flip(dev, off, (int)(random() % 8));
		h2t_log_capture();
		error = walk_data(dev, &v, &st);
		/* Never wrong data; the damage was seen and logged. */
		ck_assert_int_eq(v.v_wrong, 0);
		ck_assert_int_eq(v.v_extra, 0);
		if (error == 0) {
			ck_assert_int_gt(v.v_errors, 0);
			ck_assert_uint_ge(st.st_check_fail, 1);
		} else {
			ck_assert_int_eq(error, -EIO);
		}
		snprintf(offstr, sizeof(offstr), "0x%016llx",
		    (unsigned long long)(b->data_off & HAMMER2_OFF_MASK));
		ck_assert_int_ge(h2t_log_count(offstr), 1);
		ck_assert_int_ge(h2t_log_count("check failed"), 1);
		h2t_log_stop();
		h2t_ov_reset(dev);
		ck_assert_uint_eq(h2_host_alloc_live(), live0);
	}
	h2t_tree_free(&t);
	h2t_ov_close(dev);
}

START_TEST(test_bitflips_lz4_xxhash64)
{
	bitflips(H2T_IMG_LZ4, 1);
}
END_TEST

START_TEST(test_bitflips_zlib_iscsi32)
{
	bitflips(H2T_IMG_ZLIB, 2);
}
END_TEST

/* Modifications all over a (damaged) volume; errors are fine. */
static void
modify_everywhere(struct h2_dev *dev)
{
	static const char *files[] = { "tiny.txt", "big/text-12m.txt",
		"big/random-1m.bin", "sizes/rand-65537", "names/a.b-c_d~e",
		"d0/d1/d2/d3/d4/d5/d6/d7/d8/d9/deep.txt" };
	struct h2_mount_opts mo = { H2_ZONE_BEST, H2_MNT_RDWR };
	struct h2_inode *root, *ip, *dir;
	struct h2_mount *mp;
	struct h2_pfs *pfs;
	char name[16];
	unsigned i;

	if (h2_mount(dev, &mo, &mp) != 0)
		return;
	if (h2_pfs_open(mp, "DATA", &pfs) != 0)
		goto out;
	if (h2_iget(pfs, 1, &root) != 0)
		goto out_pfs;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (h2_namei(pfs, files[i], 0, &ip) != 0)
			continue;
		h2_write(ip, 70000, "overwritten", 11);
		h2_truncate(ip, 100000);
		h2_iput(ip);
	}
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "new%u", i);
		h2_create(root, name, strlen(name), HAMMER2_OBJTYPE_REGFILE,
		    0644, NULL);
	}
	if (h2_namei(pfs, "many", 0, &dir) == 0) {
		for (i = 0; i < 2000; i += 37) {
			snprintf(name, sizeof(name), "f%05u", i);
			h2_unlink(dir, name, strlen(name));
			h2_rename(dir, name, strlen(name), root, name,
			    strlen(name));
		}
		h2_iput(dir);
	}
	h2_rename(root, "names", 5, root, "renamed", 7);
	h2_mkdir(root, "newdir", 6, 0755, NULL);
	h2_flush(mp);
	h2_iput(root);
out_pfs:
	h2_pfs_close(pfs);
out:
	h2_unmount(mp);
}

START_TEST(test_writes_on_damaged_images)
{
	struct h2_dev *dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4), 0);
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));
	const struct hammer2_blockref *b;
	struct h2t_tree t;
	int picks[64], n, k, pfs;
	uint64_t off;

	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(h2t_tree_build(dev, &t), 0);
	ck_assert_int_ge(pfs = h2t_find_pfs(&t, "DATA"), 0);
	n = pick_nodes(&t, pfs, 4, picks, 7);
	h2t_log_capture();
	for (k = 0; k < n; k++) {
		b = &t.t_nodes[picks[k]].n_bref;
		off = (b->data_off & HAMMER2_OFF_MASK) +
		    (uint64_t)(random() % block_len(b));
		h2t_ov_flip(dev, off, (int)(random() % 8));
		modify_everywhere(dev);
		h2t_ov_reset(dev);
		ck_assert_uint_eq(h2_host_alloc_live(), live0);
	}
	/* The freemap leaf: allocation fails, the mount fails cleanly. */
	h2t_ov_peek(dev, 0, vd, sizeof(*vd));
	for (k = 0; k < 4; k++) {
		off = (vd->freemap_blockset.blockref[0].data_off &
			  HAMMER2_OFF_MASK) +
		    (uint64_t)(random() % 32768);
		h2t_ov_flip(dev, off, k);
		modify_everywhere(dev);
		h2t_ov_reset(dev);
		ck_assert_uint_eq(h2_host_alloc_live(), live0);
	}
	h2t_log_stop();
	h2t_tree_free(&t);
	h2t_ov_close(dev);
	free(vd);
}
END_TEST

/* The inode number of path in PFS DATA of the lz4 image. */
static uint64_t
path_inum(const char *path)
{
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_dev *dev;
	struct h2_pfs *pfs;
	uint64_t inum;

	ck_assert_int_eq(h2_host_open(h2t_img(H2T_IMG_LZ4), 1, &dev), 0);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &pfs), 0);
	ck_assert_int_eq(h2_namei(pfs, path, 0, &ip), 0);
	inum = h2_idata(ip)->meta.inum;
	h2_iput(ip);
	h2_pfs_close(pfs);
	h2_unmount(mp);
	h2_host_close(dev);
	return inum;
}

/* A damaged file fails alone: the rest of the tree still reads exactly. */
START_TEST(test_damage_is_contained)
{
	struct h2_dev *dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4), 0);
	const struct hammer2_blockref *b;
	struct h2t_verify v;
	struct h2_stats st;
	struct h2t_tree t;
	int i, pfs, owner, hit = -1;

	ck_assert_int_eq(h2t_tree_build(dev, &t), 0);
	pfs = h2t_find_pfs(&t, "DATA");
	/* The last DATA block of the 1 MiB random file. */
	owner = h2t_find_inode(&t, pfs, path_inum("big/random-1m.bin"));
	for (i = 0; i < t.t_count; i++) {
		b = &t.t_nodes[i].n_bref;
		if (b->type == HAMMER2_BREF_TYPE_DATA &&
		    t.t_nodes[i].n_owner == owner && b->key == 15 * 65536)
			hit = i;
	}
	ck_assert_int_ge(hit, 0);
	b = &t.t_nodes[hit].n_bref;
	h2t_ov_flip(dev, (b->data_off & HAMMER2_OFF_MASK) + 100, 3);
	h2t_log_capture();
	ck_assert_int_eq(walk_data(dev, &v, &st), 0);
	ck_assert_int_eq(v.v_errors, 1);
	ck_assert_int_eq(v.v_lasterr, -EIO);
	ck_assert_int_eq(v.v_wrong, 0);
	ck_assert_int_eq(v.v_files + v.v_dirs + v.v_links, man.m_count - 1);
	ck_assert_uint_eq(st.st_check_fail, 1);
	h2t_tree_free(&t);
	h2t_ov_close(dev);
}
END_TEST

/* Flips in space no blockref points at change nothing. */
START_TEST(test_flips_in_free_space)
{
	struct h2_dev *dev = h2t_ov_open(h2t_img(H2T_IMG_ZLIB), 0);
	struct h2t_verify v;
	struct h2_stats st;
	int i;

	srandom(7);
	for (i = 0; i < 64; i++)
		h2t_ov_flip(dev,
		    (3ull << 29) + (uint64_t)random() % (1ull << 29),
		    (int)(random() % 8));
	ck_assert_int_eq(walk_data(dev, &v, &st), 0);
	ck_assert_int_eq(v.v_errors + v.v_wrong + v.v_missing + v.v_extra, 0);
	ck_assert_uint_eq(st.st_check_fail, 0);
	h2t_ov_close(dev);
}
END_TEST

/* Any flip in the only volume header makes the volume unmountable. */
START_TEST(test_volhdr_flips)
{
	struct h2_dev *dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4), 0);
	struct h2_mount *mp;
	int i;

	srandom(11);
	h2t_log_capture();
	for (i = 0; i < 40; i++) {
		h2t_ov_flip(dev, (uint64_t)(i < 8 ? i * 64 : random() % 65536),
		    (int)(random() % 8));
		ck_assert_int_eq(h2_mount(dev, NULL, &mp), -EINVAL);
		ck_assert_ptr_null(mp);
		h2t_ov_reset(dev);
	}
	ck_assert_int_ge(h2t_log_count("no valid volume header"), 40);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
	h2t_ov_close(dev);
}
END_TEST

static void
put_header(struct h2_dev *dev, int zone, uint64_t mirror_tid, int damage)
{
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));

	ck_assert_int_eq(h2t_ov_peek(dev, 0, vd, sizeof(*vd)), 0);
	vd->mirror_tid = mirror_tid;
	h2_volhdr_seal(vd);
	if (damage == 1)
		vd->reserved9000[100] ^= 1; /* whole-header CRC now wrong */
	if (damage == 2)
		vd->magic = HAMMER2_VOLUME_ID_ABO;
	ck_assert_int_eq(
	    h2t_ov_poke(dev, zone * HAMMER2_ZONE_BYTES64, vd, sizeof(*vd)), 0);
	free(vd);
}

START_TEST(test_best_of_four_headers)
{
	uint64_t vsize = 3 * HAMMER2_ZONE_BYTES64 + HAMMER2_VOLUME_BYTES;
	struct h2_dev *dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4), vsize);
	struct h2_mount_opts mo = { 0, 0 };
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));
	struct h2t_verify v;
	struct h2_stats st;
	struct h2_mount *mp;

	h2t_log_capture();
	put_header(dev, 1, 0x20, 0);
	put_header(dev, 2, 0x30, 1);
	put_header(dev, 3, 0x40, 2);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_mount_zone(mp), 1);
	ck_assert_uint_eq(h2_mount_volhdr(mp)->mirror_tid, 0x20);
	h2_unmount(mp);
	ck_assert_int_ge(h2t_log_count("volume header 2: volume header CRC"),
	    1);
	ck_assert_int_ge(h2t_log_count("volume header 3: byte-swapped"), 1);
	ck_assert_int_eq(h2_volhdr_read(dev, 1, vd), 0);
	ck_assert_int_eq(h2_volhdr_read(dev, 2, vd), -EINVAL);
	/* Explicit choices. */
	mo.mo_zone = 0;
	ck_assert_int_eq(h2_mount(dev, &mo, &mp), 0);
	ck_assert_uint_eq(h2_mount_volhdr(mp)->mirror_tid, 0x11);
	h2_unmount(mp);
	mo.mo_zone = 2;
	ck_assert_int_eq(h2_mount(dev, &mo, &mp), -EINVAL);
	/* A newer copy wins; the tree it points at still reads exactly. */
	put_header(dev, 2, 0x50, 0);
	ck_assert_int_eq(walk_data(dev, &v, &st), 0);
	ck_assert_int_eq(v.v_files + v.v_dirs + v.v_links, man.m_count);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_mount_zone(mp), 2);
	h2_unmount(mp);
	/* A valid header whose super-root is garbage: no silent fallback. */
	h2t_ov_peek(dev, 2 * HAMMER2_ZONE_BYTES64, vd, sizeof(*vd));
	vd->sroot_blockset.blockref[0].check.xxhash64.value ^= 1;
	h2_volhdr_seal(vd);
	h2t_ov_poke(dev, 2 * HAMMER2_ZONE_BYTES64, vd, sizeof(*vd));
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), -EIO);
	ck_assert_int_ge(h2t_log_count("check failed: inode block"), 1);
	free(vd);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
	h2t_ov_close(dev);
}
END_TEST

START_TEST(test_device_too_small)
{
	struct h2_dev *dev;
	struct h2_mount *mp;

	h2t_log_capture();
	dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4), 1ull << 30);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), -EINVAL);
	ck_assert_int_ge(h2t_log_count("does not fit the device"), 1);
	h2t_ov_close(dev);
	dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4), 1000);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), -EINVAL);
	h2t_ov_close(dev);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}
END_TEST

START_TEST(test_multi_volume_refused)
{
	struct h2_dev *dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4), 0);
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));
	struct h2_mount *mp;

	h2t_log_capture();
	h2t_ov_peek(dev, 0, vd, sizeof(*vd));
	vd->nvolumes = 2;
	h2_volhdr_seal(vd);
	h2t_ov_poke(dev, 0, vd, sizeof(*vd));
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), -EOPNOTSUPP);
	vd->nvolumes = 1;
	vd->version = 9;
	h2_volhdr_seal(vd);
	h2t_ov_poke(dev, 0, vd, sizeof(*vd));
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), -EINVAL);
	free(vd);
	h2t_ov_close(dev);
}
END_TEST

/* One full mount, lookup and read; returns the first error. */
static int
read_sequence(struct h2_dev *dev)
{
	static const char *const paths[] = { "big/random-1m.bin",
		"sizes/text-65537", "big/zeros-mid.bin",
		"names/caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt",
		"many/f01999" };
	struct h2t_mentry *e;
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_pfs *pfs;
	uint8_t *buf, sha[32];
	size_t i, len;
	int error;

	if ((error = h2_mount(dev, NULL, &mp)) != 0)
		return error;
	if ((error = h2_pfs_open(mp, "DATA", &pfs)) != 0)
		goto out_mp;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if ((error = h2_namei(pfs, paths[i], 0, &ip)) != 0)
			break;
		error = h2t_read_all(ip, &buf, &len);
		h2_iput(ip);
		if (error)
			break;
		e = h2t_manifest_find(&man, paths[i]);
		h2_sha256(buf, len, sha);
		ck_assert_mem_eq(sha, e->me_sha, 32); /* never wrong data */
		free(buf);
	}
	h2_pfs_close(pfs);
out_mp:
	h2_unmount(mp);
	return error;
}

START_TEST(test_io_error_every_read)
{
	struct h2_dev *dev = h2t_ov_open(h2t_img(H2T_IMG_ZLIB), 0);
	uint64_t n, reads;
	int error, failed = 0;

	h2t_log_capture();
	reads = h2t_ov_reads(dev);
	ck_assert_int_eq(read_sequence(dev), 0);
	reads = h2t_ov_reads(dev) - reads;
	ck_assert_uint_gt(reads, 20);
	for (n = 1; n <= reads; n++) {
		h2t_ov_fail_read(dev, n);
		error = read_sequence(dev);
		ck_assert(error == 0 || error == -EIO || error == -EINVAL);
		failed += error != 0;
		ck_assert_uint_eq(h2_host_alloc_live(), live0);
	}
	h2t_ov_fail_read(dev, 0);
	ck_assert_int_eq(failed, reads);
	ck_assert_int_ge(h2t_log_count("read error"), 1);
	h2t_ov_close(dev);
}
END_TEST

START_TEST(test_alloc_failure_every_call)
{
	struct h2_dev *dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4), 0);
	uint64_t n, calls;
	int error, failed = 0;

	calls = h2_host_alloc_calls();
	ck_assert_int_eq(read_sequence(dev), 0);
	calls = h2_host_alloc_calls() - calls;
	ck_assert_uint_gt(calls, 20);
	for (n = 1; n <= calls + 5; n++) {
		h2_host_fail_alloc(n);
		error = read_sequence(dev);
		h2_host_fail_alloc(0);
		ck_assert(error == 0 || error == -ENOMEM);
		failed += error != 0;
		ck_assert_uint_eq(h2_host_alloc_live(), live0);
	}
	/* Cache allocations may fail silently; everything else reports. */
	ck_assert_int_gt(failed, (int)calls / 2);
	h2t_ov_close(dev);
}
END_TEST

static Suite *
corrupt_suite(void)
{
	Suite *s = suite_create("h2_corrupt");
	TCase *tc = tcase_create("corrupt");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_bitflips_lz4_xxhash64);
	tcase_add_test(tc, test_bitflips_zlib_iscsi32);
	tcase_add_test(tc, test_damage_is_contained);
	tcase_add_test(tc, test_writes_on_damaged_images);
	tcase_add_test(tc, test_flips_in_free_space);
	tcase_add_test(tc, test_volhdr_flips);
	tcase_add_test(tc, test_best_of_four_headers);
	tcase_add_test(tc, test_device_too_small);
	tcase_add_test(tc, test_multi_volume_refused);
	tcase_add_test(tc, test_io_error_every_read);
	tcase_add_test(tc, test_alloc_failure_every_call);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(corrupt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
