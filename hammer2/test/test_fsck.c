/*
 * h2_fsck: the reference images are clean (the snapshot image's destroyed
 * files leave orphan inodes: warnings, not problems); each kind of damage
 * is found and named: check failures in data and metadata, a directory
 * cycle, an entry naming a missing inode, type and link-count mismatches,
 * a wrong iparent, a name off its hash, a block the freemap calls free, a
 * damaged freemap block, a bad volume header copy, a block in a reserved
 * area. Damage is planted with reseal so only fsck's own rules catch it.
 * With freemap_tid behind mirror_tid (a DragonFly crash), blocks newer
 * than the freemap that it calls free are "to recover", not problems.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

static struct h2_dev *dev;
static struct h2t_tree tree;
static int pfs;
static uint64_t live0;

struct msgs {
	int m_count;
	char m_text[64][320];
	int m_sev[64];
};

static struct msgs msgs;

static void
collect(void *arg, int sev, const char *msg)
{
	struct msgs *m = arg;

	if (sev == H2_FSCK_INFO || m->m_count >= 64)
		return;
	m->m_sev[m->m_count] = sev;
	snprintf(m->m_text[m->m_count++], sizeof(m->m_text[0]), "%s", msg);
}

static int
said(const char *needle, int sev)
{
	int i, n = 0;

	for (i = 0; i < msgs.m_count; i++)
		if (msgs.m_sev[i] == sev && strstr(msgs.m_text[i], needle))
			n++;
	return n;
}

static struct h2_fsck_result
fsck(unsigned flags)
{
	struct h2_fsck_result res;

	memset(&msgs, 0, sizeof(msgs));
	ck_assert_int_eq(h2_fsck(dev, flags, collect, &msgs, &res), 0);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
	return res;
}

static void
setup_img(const char *img)
{
	dev = h2t_ov_open(h2t_img(img), 0);
	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(h2t_tree_build(dev, &tree), 0);
	pfs = h2t_find_pfs(&tree, "DATA");
	live0 = h2_host_alloc_live();
	h2t_log_capture();
}

static void
setup(void)
{
	setup_img(H2T_IMG_LZ4);
}

static void
teardown(void)
{
	h2t_log_stop();
	h2t_tree_free(&tree);
	h2t_ov_close(dev);
}

/* ---- clean images ---- */

static void
clean(const char *img, int npfs, int warnings)
{
	struct h2_fsck_result r;

	h2t_tree_free(&tree);
	h2t_ov_close(dev);
	setup_img(img);
	r = fsck(0);
	ck_assert_uint_eq(r.fr_problems, 0);
	ck_assert_uint_eq(r.fr_warnings, warnings);
	ck_assert_uint_eq(r.fr_orphans, warnings);
	ck_assert_int_eq(r.fr_zones_valid, 1);
	ck_assert_uint_eq(r.fr_pfs, npfs);
	/* Every inode of the manifest (2041 entries) per copy of the tree. */
	ck_assert_uint_eq(r.fr_inodes % 2041, 0);
	ck_assert_uint_gt(r.fr_blocks[HAMMER2_BREF_TYPE_DATA], 200);
	ck_assert_uint_gt(r.fr_blocks[HAMMER2_BREF_TYPE_INDIRECT], 10);
	ck_assert_uint_eq(r.fr_blocks[HAMMER2_BREF_TYPE_FREEMAP_LEAF], 1);
}

START_TEST(test_reference_images_clean)
{
	clean(H2T_IMG_LZ4, 2, 0);
	clean(H2T_IMG_ZLIB, 2, 0);
	/* DATA keeps the inodes of the two destroyed files. */
	clean(H2T_IMG_SNAP, 3, 2);
	ck_assert_int_eq(said("is in no directory", H2_FSCK_WARNING), 2);
}
END_TEST

/* ---- damage ---- */

static int
inode_of(const char *path)
{
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_pfs *p;
	uint64_t inum;

	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), 0);
	ck_assert_int_eq(h2_namei(p, path, 0, &ip), 0);
	inum = h2_idata(ip)->meta.inum;
	h2_iput(ip);
	h2_pfs_close(p);
	h2_unmount(mp);
	return h2t_find_inode(&tree, pfs, inum);
}

static int
dirent_of(const char *dir, const char *name)
{
	int owner = inode_of(dir), i;

	for (i = 0; i < tree.t_count; i++)
		if (tree.t_nodes[i].n_bref.type == HAMMER2_BREF_TYPE_DIRENT &&
		    tree.t_nodes[i].n_owner == owner &&
		    strcmp(tree.t_nodes[i].n_name, name) == 0)
			return i;
	ck_abort_msg("no entry %s in %s", name, dir);
	return -1;
}

static void
change_dirent(int i, uint64_t inum, int type)
{
	struct hammer2_blockref b;

	h2t_bref_get(dev, &tree.t_nodes[i], &b);
	b.embed.dirent.inum = inum;
	b.embed.dirent.type = (uint8_t)type;
	h2t_bref_put(dev, &tree.t_nodes[i], &b);
	h2t_reseal(dev, &tree, tree.t_nodes[i].n_parent);
}

static void
patch_inode(int i, size_t off, const void *val, size_t len)
{
	uint64_t at = tree.t_nodes[i].n_bref.data_off & HAMMER2_OFF_MASK;

	h2t_ov_poke(dev, at + off, val, len);
	h2t_reseal(dev, &tree, i);
}

static void
expect_problem(const char *needle)
{
	struct h2_fsck_result r = fsck(0);
	int i;

	ck_assert_uint_ge(r.fr_problems, 1);
	for (i = 0; i < msgs.m_count; i++)
		if (strstr(msgs.m_text[i], needle))
			return;
	ck_abort_msg("no report containing \"%s\" (first: %s)", needle,
	    msgs.m_count ? msgs.m_text[0] : "none");
}

START_TEST(test_check_failures_found)
{
	int i = inode_of("big/random-1m.bin"), k, n = 0;
	char off[32];

	/* A data block of the file, and an indirect block of the index. */
	for (k = 0; k < tree.t_count && n < 1; k++) {
		if (tree.t_nodes[k].n_owner != i ||
		    tree.t_nodes[k].n_bref.type != HAMMER2_BREF_TYPE_DATA)
			continue;
		h2t_ov_flip(dev,
		    (tree.t_nodes[k].n_bref.data_off & HAMMER2_OFF_MASK) + 5,
		    1);
		snprintf(off, sizeof(off), "0x%016llx",
		    (unsigned long long)(tree.t_nodes[k].n_bref.data_off &
			HAMMER2_OFF_MASK));
		n++;
	}
	expect_problem("check failed");
	ck_assert_int_ge(said(off, H2_FSCK_PROBLEM), 1);
	h2t_ov_reset(dev);
	for (k = 0; k < tree.t_count; k++)
		if (tree.t_nodes[k].n_bref.type == HAMMER2_BREF_TYPE_INDIRECT)
			break;
	h2t_ov_flip(dev,
	    (tree.t_nodes[k].n_bref.data_off & HAMMER2_OFF_MASK) + 200, 6);
	expect_problem("check failed: indirect block");
}
END_TEST

START_TEST(test_directory_cycle)
{
	/* d9's entry "deep.txt" now names d1, as a directory. */
	change_dirent(dirent_of("d0/d1/d2/d3/d4/d5/d6/d7/d8/d9", "deep.txt"),
	    tree.t_nodes[inode_of("d0/d1")].n_inum, HAMMER2_OBJTYPE_DIRECTORY);
	expect_problem("reached twice");
}
END_TEST

START_TEST(test_dangling_entry)
{
	change_dirent(dirent_of("sizes", "rand-511"), 987654,
	    HAMMER2_OBJTYPE_REGFILE);
	expect_problem("names inode 987654, which does not exist");
}
END_TEST

START_TEST(test_type_mismatch)
{
	int i = dirent_of("sizes", "rand-512");
	uint64_t inum;

	h2t_bref_get(dev, &tree.t_nodes[i], &tree.t_nodes[i].n_bref);
	inum = tree.t_nodes[i].n_bref.embed.dirent.inum;
	change_dirent(i, inum, HAMMER2_OBJTYPE_SOFTLINK);
	expect_problem("says softlink, inode is regfile");
}
END_TEST

START_TEST(test_nlinks_mismatch)
{
	uint64_t two = 2;

	patch_inode(inode_of("tiny.txt"),
	    offsetof(struct hammer2_inode_meta, nlinks), &two, 8);
	expect_problem("has nlinks 2 but 1 entries");
}
END_TEST

START_TEST(test_iparent_wrong)
{
	uint64_t p = 1;

	patch_inode(inode_of("d0/d1/d2"),
	    offsetof(struct hammer2_inode_meta, iparent), &p, 8);
	expect_problem("has iparent 1 but");
}
END_TEST

START_TEST(test_name_off_its_hash)
{
	int i = dirent_of("names", "a.b-c_d~e");
	struct hammer2_blockref b;

	/* Same key, different name: readable by readdir, never by lookup. */
	h2t_bref_get(dev, &tree.t_nodes[i], &b);
	b.check.buf[0] = 'z';
	h2t_bref_put(dev, &tree.t_nodes[i], &b);
	h2t_reseal(dev, &tree, tree.t_nodes[i].n_parent);
	expect_problem("not sit at its hash");
}
END_TEST

START_TEST(test_orphan_is_a_warning)
{
	int i = dirent_of("sizes", "rand-1024");
	struct hammer2_blockref b;
	struct h2_fsck_result r;

	h2t_bref_get(dev, &tree.t_nodes[i], &b);
	memset(&b, 0, sizeof(b));
	h2t_bref_put(dev, &tree.t_nodes[i], &b);
	h2t_reseal(dev, &tree, tree.t_nodes[i].n_parent);
	r = fsck(0);
	ck_assert_uint_eq(r.fr_problems, 0);
	ck_assert_uint_eq(r.fr_orphans, 1);
	ck_assert_int_eq(said("is in no directory", H2_FSCK_WARNING), 1);
}
END_TEST

/* Rewrite the freemap leaf and reseal its check in the volume header. */
static void
freemap_clear(uint64_t off)
{
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));
	struct hammer2_bmap_data *bm = malloc(HAMMER2_FREEMAP_LEVELN_PSIZE);
	struct hammer2_blockref *fb;
	unsigned chunk = (unsigned)(off >> 14) & 255;
	uint64_t at;

	h2t_ov_peek(dev, 0, vd, sizeof(*vd));
	fb = &vd->freemap_blockset.blockref[0];
	ck_assert_uint_eq(fb->type, HAMMER2_BREF_TYPE_FREEMAP_LEAF);
	at = fb->data_off & HAMMER2_OFF_MASK;
	h2t_ov_peek(dev, at, bm, HAMMER2_FREEMAP_LEVELN_PSIZE);
	bm[(off >> 22) & 255].bitmapq[chunk >> 5] &=
	    ~(3ull << ((chunk & 31) * 2));
	h2t_ov_poke(dev, at, bm, HAMMER2_FREEMAP_LEVELN_PSIZE);
	h2_bref_setcheck(fb, bm, HAMMER2_FREEMAP_LEVELN_PSIZE);
	h2_volhdr_seal(vd);
	h2t_ov_poke(dev, 0, vd, sizeof(*vd));
	free(bm);
	free(vd);
}

START_TEST(test_block_marked_free)
{
	int i = inode_of("big/text-12m.txt");

	freemap_clear(tree.t_nodes[i].n_bref.data_off & HAMMER2_OFF_MASK);
	expect_problem("marked free in the freemap");
	h2t_ov_reset(dev);
	/* The freemap leaf itself damaged: its check fails. */
	h2t_ov_flip(dev, 0x10000 + 300, 0);
	expect_problem("freemap: check failed");
}
END_TEST

/* Set freemap_tid in the (only) header and reseal it. */
static void
set_freemap_tid(uint64_t tid)
{
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));

	h2t_ov_peek(dev, 0, vd, sizeof(*vd));
	vd->freemap_tid = tid;
	h2_volhdr_seal(vd);
	h2t_ov_poke(dev, 0, vd, sizeof(*vd));
	free(vd);
}

/*
 * After a DragonFly crash between its tree and freemap flushes,
 * freemap_tid is behind mirror_tid and blocks newer than it may be free
 * in the freemap: "to recover" (the mount recovers them), not problems.
 * Blocks as old as the freemap marked free stay problems.
 */
START_TEST(test_blocks_to_recover)
{
	struct h2_fsck_result r;
	int i = inode_of("big/text-12m.txt"), j, old = -1, young = -1;
	uint64_t tid, beg, warn0;

	/* The image's blocks all carry mirror_tid 0x11 (makefs). */
	tid = tree.t_nodes[i].n_bref.mirror_tid;
	ck_assert_uint_eq(tid, 0x11);
	freemap_clear(tree.t_nodes[i].n_bref.data_off & HAMMER2_OFF_MASK);
	expect_problem("marked free in the freemap");
	set_freemap_tid(tid - 1);
	r = fsck(0);
	ck_assert_uint_eq(r.fr_problems, 0);
	/* The cleared 16 KiB chunk holds 16 inodes. */
	ck_assert_uint_eq(r.fr_recover, 16);
	ck_assert_uint_eq(r.fr_warnings, 1);
	ck_assert_int_eq(said("0x10 is behind mirror_tid 0x11: 16 blocks newer "
			      "than the freemap are to recover",
			     H2_FSCK_WARNING),
	    1);
	/* Behind, with nothing to recover: clean, no warning. */
	h2t_ov_reset(dev);
	set_freemap_tid(tid - 1);
	r = fsck(0);
	ck_assert_uint_eq(r.fr_problems + r.fr_warnings + r.fr_recover, 0);

	/* The snapshot image has blocks of tids 0x11 to 0x14. */
	h2t_tree_free(&tree);
	h2t_ov_close(dev);
	setup_img(H2T_IMG_SNAP);
	h2t_ov_peek(dev, offsetof(struct hammer2_volume_data, allocator_beg),
	    &beg, sizeof(beg));
	for (j = 0; j < tree.t_count; j++) {
		const struct hammer2_blockref *b = &tree.t_nodes[j].n_bref;

		if ((b->data_off & 63) == 0 ||
		    (b->data_off & HAMMER2_OFF_MASK) < beg)
			continue;
		if (b->mirror_tid == 0x14 && young < 0)
			young = j;
		if (b->mirror_tid == 0x11 && b->type == HAMMER2_BREF_TYPE_DATA)
			old = j;
	}
	ck_assert_int_ge(young, 0);
	ck_assert_int_ge(old, 0);
	r = fsck(0); /* it has orphan warnings of its own */
	ck_assert_uint_eq(r.fr_problems + r.fr_recover, 0);
	warn0 = r.fr_warnings;
	set_freemap_tid(0x13);
	freemap_clear(tree.t_nodes[young].n_bref.data_off & HAMMER2_OFF_MASK);
	r = fsck(0);
	ck_assert_uint_eq(r.fr_problems, 0);
	ck_assert_uint_ge(r.fr_recover, 1);
	ck_assert_uint_eq(r.fr_warnings, warn0 + 1);
	/* An older block marked free is still damage. */
	freemap_clear(tree.t_nodes[old].n_bref.data_off & HAMMER2_OFF_MASK);
	r = fsck(0);
	ck_assert_uint_ge(r.fr_problems, 1);
	ck_assert_int_eq(said("marked free in the freemap", H2_FSCK_PROBLEM),
	    (int)r.fr_problems);
	ck_assert_uint_ge(r.fr_recover, 1);
}
END_TEST

START_TEST(test_block_in_reserved_area)
{
	int i = inode_of("sizes/rand-1024");
	struct hammer2_blockref b;
	uint8_t blk[1024];
	int k;

	/* Move one data block into the boot area (still checked, still
	 * readable, but not where blocks may live). */
	for (k = 0; k < tree.t_count; k++)
		if (tree.t_nodes[k].n_owner == i &&
		    tree.t_nodes[k].n_bref.type == HAMMER2_BREF_TYPE_DATA)
			break;
	h2t_bref_get(dev, &tree.t_nodes[k], &b);
	h2t_ov_peek(dev, b.data_off & HAMMER2_OFF_MASK, blk, sizeof(blk));
	h2t_ov_poke(dev, 0x500000, blk, sizeof(blk));
	b.data_off = 0x500000 | 10;
	h2t_bref_put(dev, &tree.t_nodes[k], &b);
	h2t_reseal(dev, &tree, tree.t_nodes[k].n_parent);
	expect_problem("lies in a reserved area");
}
END_TEST

START_TEST(test_unsorted_blockrefs)
{
	struct hammer2_blockref a, b;
	int i, j = -1;

	/* Swap the two PFS roots in the super-root's blockset. */
	for (i = 0; i < tree.t_count; i++)
		if (tree.t_nodes[i].n_parent >= 0 &&
		    tree.t_nodes[tree.t_nodes[i].n_parent].n_parent == -1) {
			if (j < 0) {
				j = i;
				continue;
			}
			break;
		}
	h2t_bref_get(dev, &tree.t_nodes[i], &a);
	h2t_bref_get(dev, &tree.t_nodes[j], &b);
	ck_assert_uint_lt(b.key, a.key);
	h2t_bref_put(dev, &tree.t_nodes[i], &b);
	h2t_bref_put(dev, &tree.t_nodes[j], &a);
	h2t_reseal(dev, &tree, tree.t_nodes[i].n_parent);
	expect_problem("not in key order");
}
END_TEST

START_TEST(test_bad_header_copies)
{
	uint64_t vsize = HAMMER2_ZONE_BYTES64 + HAMMER2_VOLUME_BYTES;
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));
	struct h2_fsck_result r;
	int z;

	/* Four slots (the image's header in each): damage to slot 2 is a
	 * problem; damage to slot 1, the one the next flush after slot 0
	 * writes, is what an interrupted header write leaves: a warning. */
	h2t_tree_free(&tree);
	h2t_ov_close(dev);
	dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4),
	    3 * HAMMER2_ZONE_BYTES64 + HAMMER2_VOLUME_BYTES);
	ck_assert_int_eq(h2t_tree_build(dev, &tree), 0);
	h2t_ov_peek(dev, 0, vd, sizeof(*vd));
	vd->volu_size = 3 * HAMMER2_ZONE_BYTES64 + HAMMER2_VOLUME_BYTES;
	h2_volhdr_seal(vd);
	for (z = 0; z < 4; z++)
		h2t_ov_poke(dev, z * HAMMER2_ZONE_BYTES64, vd, sizeof(*vd));
	vd->reserved9000[5] ^= 1;
	h2t_ov_poke(dev, 2 * HAMMER2_ZONE_BYTES64, vd, sizeof(*vd));
	expect_problem("volume header 2: volume header CRC mismatch");
	vd->reserved9000[5] ^= 1;
	h2t_ov_poke(dev, 2 * HAMMER2_ZONE_BYTES64, vd, sizeof(*vd));
	vd->reserved9000[5] ^= 1;
	h2t_ov_poke(dev, HAMMER2_ZONE_BYTES64, vd, sizeof(*vd));
	r = fsck(0);
	ck_assert_uint_eq(r.fr_problems, 0);
	ck_assert_uint_eq(r.fr_warnings, 1);
	h2t_tree_free(&tree);
	h2t_ov_close(dev);

	/* A bad copy past the volume's own size (no flush writes there). */
	dev = h2t_ov_open(h2t_img(H2T_IMG_LZ4), vsize);
	ck_assert_int_eq(h2t_tree_build(dev, &tree), 0);
	h2t_ov_peek(dev, 0, vd, sizeof(*vd));
	vd->reserved9000[5] ^= 1;
	h2t_ov_poke(dev, HAMMER2_ZONE_BYTES64, vd, sizeof(*vd));
	expect_problem("volume header 1: volume header CRC mismatch");
	/* A valid second copy: clean, and -a checks both trees. */
	vd->reserved9000[5] ^= 1;
	h2t_ov_poke(dev, HAMMER2_ZONE_BYTES64, vd, sizeof(*vd));
	r = fsck(H2_FSCK_ALLZONES);
	ck_assert_uint_eq(r.fr_problems, 0);
	ck_assert_int_eq(r.fr_zones_valid, 2);
	ck_assert_uint_eq(r.fr_pfs, 4);
	/* No valid copy at all. */
	h2t_ov_flip(dev, 3, 0);
	h2t_ov_flip(dev, HAMMER2_ZONE_BYTES64 + 3, 0);
	expect_problem("no valid volume header");
	free(vd);
}
END_TEST

START_TEST(test_fsck_alloc_failures)
{
	struct h2_fsck_result res;
	uint64_t calls, n;
	int error, nomem = 0;

	calls = h2_host_alloc_calls();
	fsck(0);
	calls = h2_host_alloc_calls() - calls;
	for (n = 1; n < calls; n += 1 + calls / 40) {
		h2_host_fail_alloc(n);
		error = h2_fsck(dev, 0, NULL, NULL, &res);
		h2_host_fail_alloc(0);
		ck_assert(error == 0 || error == -ENOMEM);
		nomem += error == -ENOMEM;
		ck_assert_uint_eq(h2_host_alloc_live(), live0);
	}
	ck_assert_int_gt(nomem, 0);
}
END_TEST

static Suite *
fsck_suite(void)
{
	Suite *s = suite_create("h2_fsck");
	TCase *tc = tcase_create("fsck");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reference_images_clean);
	tcase_add_test(tc, test_check_failures_found);
	tcase_add_test(tc, test_directory_cycle);
	tcase_add_test(tc, test_dangling_entry);
	tcase_add_test(tc, test_type_mismatch);
	tcase_add_test(tc, test_nlinks_mismatch);
	tcase_add_test(tc, test_iparent_wrong);
	tcase_add_test(tc, test_name_off_its_hash);
	tcase_add_test(tc, test_orphan_is_a_warning);
	tcase_add_test(tc, test_block_marked_free);
	tcase_add_test(tc, test_blocks_to_recover);
	tcase_add_test(tc, test_block_in_reserved_area);
	tcase_add_test(tc, test_unsorted_blockrefs);
	tcase_add_test(tc, test_bad_header_copies);
	tcase_add_test(tc, test_fsck_alloc_failures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fsck_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
