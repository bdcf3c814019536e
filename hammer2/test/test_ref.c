/*
 * The three reference images (written by an independent implementation,
 * makefs -t hammer2) read exactly as the MANIFEST says: every name, every
 * file's bytes by SHA-256, every directory, the symlink; snap1 against
 * DATA in the snapshot image; partial reads at random offsets; the
 * directory hash of every stored name; the errors an API user can provoke;
 * counters and leaks.
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
	h2t_manifest_free(&man);
}

struct fixture {
	struct h2_dev *f_dev;
	struct h2_mount *f_mp;
	struct h2_pfs *f_pfs;
};

static void
open_img(struct fixture *f, const char *img, const char *pfs)
{
	ck_assert_int_eq(h2_host_open(h2t_img(img), 1, &f->f_dev), 0);
	ck_assert_int_eq(h2_mount(f->f_dev, NULL, &f->f_mp), 0);
	f->f_pfs = NULL;
	if (pfs != NULL)
		ck_assert_int_eq(h2_pfs_open(f->f_mp, pfs, &f->f_pfs), 0);
}

static void
close_img(struct fixture *f)
{
	h2_pfs_close(f->f_pfs);
	h2_unmount(f->f_mp);
	h2_host_close(f->f_dev);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}

static void
verify_exact(const char *img, const char *pfs, const char *const *absent,
    int comp)
{
	struct h2t_verify v;
	struct h2_stats st;
	struct fixture f;
	int nabsent = 0;

	while (absent != NULL && absent[nabsent] != NULL)
		nabsent++;
	open_img(&f, img, pfs);
	h2t_verify_pfs(f.f_pfs, &man, absent, &v);
	ck_assert_int_eq(v.v_errors, 0);
	ck_assert_int_eq(v.v_wrong, 0);
	ck_assert_int_eq(v.v_extra, 0);
	ck_assert_int_eq(v.v_missing, 0);
	ck_assert_int_eq(v.v_files + v.v_dirs + v.v_links + nabsent,
	    man.m_count);
	ck_assert_int_eq(v.v_links, 1);
	h2_mount_stats(f.f_mp, &st);
	ck_assert_uint_eq(st.st_check_fail, 0);
	ck_assert_uint_eq(st.st_malformed, 0);
	ck_assert_uint_eq(st.st_unsorted, 0);
	ck_assert_uint_gt(st.st_check_ok, 2000);
	ck_assert_uint_gt(st.st_cache_hits, 0);
	if (comp != HAMMER2_COMP_NONE)
		ck_assert_uint_gt(st.st_decomp[comp], 10);
	else
		ck_assert_uint_eq(st.st_decomp[HAMMER2_COMP_LZ4] +
			st.st_decomp[HAMMER2_COMP_ZLIB],
		    0);
	close_img(&f);
}

START_TEST(test_lz4_xxhash64_exact)
{
	verify_exact(H2T_IMG_LZ4, "DATA", NULL, HAMMER2_COMP_LZ4);
}
END_TEST

START_TEST(test_zlib_iscsi32_exact)
{
	verify_exact(H2T_IMG_ZLIB, "DATA", NULL, HAMMER2_COMP_ZLIB);
}
END_TEST

static const char *const destroyed[] = { "tiny.txt", "big/random-1m.bin",
	NULL };

START_TEST(test_snapshot_snap1_exact)
{
	verify_exact(H2T_IMG_SNAP, "snap1", NULL, HAMMER2_COMP_NONE);
}
END_TEST

START_TEST(test_snapshot_data_lacks_destroyed)
{
	struct h2_inode *ip;
	struct fixture f;

	verify_exact(H2T_IMG_SNAP, "DATA", destroyed, HAMMER2_COMP_NONE);
	/* The symlink in DATA now dangles; in snap1 it resolves. */
	open_img(&f, H2T_IMG_SNAP, "DATA");
	ck_assert_int_eq(
	    h2_namei(f.f_pfs, "link-to-tiny", H2_NAMEI_FOLLOW, &ip), -ENOENT);
	ck_assert_int_eq(h2_namei(f.f_pfs, "link-to-tiny", 0, &ip), 0);
	h2_iput(ip);
	close_img(&f);
}
END_TEST

/* Names, types and subtypes of the PFSs under the super-root. */
struct pfs_seen {
	int ps_count;
	char ps_names[8][HAMMER2_INODE_MAXNAME + 1];
	uint8_t ps_sub[8];
	uint8_t ps_type[8];
};

static int
pfs_collect(void *arg, const struct h2_pfs_info *pi)
{
	struct pfs_seen *ps = arg;

	ck_assert_int_lt(ps->ps_count, 8);
	snprintf(ps->ps_names[ps->ps_count], sizeof(ps->ps_names[0]), "%s",
	    pi->pi_name);
	ps->ps_sub[ps->ps_count] = pi->pi_inode->meta.pfs_subtype;
	ps->ps_type[ps->ps_count] = pi->pi_inode->meta.pfs_type;
	ck_assert_uint_eq(pi->pi_inode->meta.inum, 1);
	ck_assert(pi->pi_bref->flags & HAMMER2_BREF_FLAG_PFSROOT);
	ps->ps_count++;
	return 0;
}

static int
pfs_index(struct pfs_seen *ps, const char *name)
{
	int i;

	for (i = 0; i < ps->ps_count; i++)
		if (strcmp(ps->ps_names[i], name) == 0)
			return i;
	return -1;
}

START_TEST(test_pfs_list)
{
	struct pfs_seen ps;
	struct fixture f;
	int i;

	memset(&ps, 0, sizeof(ps));
	open_img(&f, H2T_IMG_SNAP, NULL);
	ck_assert_int_eq(h2_pfs_foreach(f.f_mp, pfs_collect, &ps), 0);
	ck_assert_int_eq(ps.ps_count, 3);
	ck_assert_int_ge(i = pfs_index(&ps, "DATA"), 0);
	ck_assert_uint_eq(ps.ps_sub[i], HAMMER2_PFSSUBTYPE_NONE);
	ck_assert_uint_eq(ps.ps_type[i], HAMMER2_PFSTYPE_MASTER);
	ck_assert_int_ge(i = pfs_index(&ps, "snap1"), 0);
	ck_assert_uint_eq(ps.ps_sub[i], HAMMER2_PFSSUBTYPE_SNAPSHOT);
	ck_assert_int_ge(pfs_index(&ps, "LOCAL"), 0);
	ck_assert_uint_eq(h2_sroot(f.f_mp)->meta.pfs_type,
	    HAMMER2_PFSTYPE_SUPROOT);
	ck_assert_int_eq(h2_mount_zone(f.f_mp), 0);
	ck_assert_int_eq(h2_pfs_open(f.f_mp, "nope", &f.f_pfs), -ENOENT);
	ck_assert_int_eq(h2_pfs_open(f.f_mp, "", &f.f_pfs), -ENOENT);
	ck_assert_ptr_null(f.f_pfs);
	close_img(&f);
}
END_TEST

/* Partial reads at random offsets equal slices of the whole file. */
static void
random_reads(struct h2_pfs *pfs, const char *path, unsigned seed)
{
	uint8_t *all, *part;
	struct h2_inode *ip;
	size_t size, len;
	uint64_t off;
	ssize_t n;
	int i;

	ck_assert_int_eq(h2_namei(pfs, path, 0, &ip), 0);
	ck_assert_int_eq(h2t_read_all(ip, &all, &size), 0);
	part = malloc(200000);
	srandom(seed);
	for (i = 0; i < 200; i++) {
		off = (uint64_t)random() % (size + 100);
		len = (size_t)random() % (i & 1 ? 200000 : 70000);
		if (i % 7 == 0)
			off = off & ~(uint64_t)0xFFFF; /* block boundaries */
		n = h2_read(ip, off, part, len);
		if (off >= size) {
			ck_assert_int_eq(n, 0);
			continue;
		}
		ck_assert_int_eq(n, len < size - off ? len : size - off);
		ck_assert_mem_eq(part, all + off, (size_t)n);
	}
	free(part);
	free(all);
	h2_iput(ip);
}

START_TEST(test_partial_reads)
{
	static const char *const files[] = { "big/text-12m.txt",
		"big/random-1m.bin", "big/zeros-mid.bin", "sizes/text-65537",
		"sizes/rand-16385", "sizes/rand-511" };
	const char *imgs[] = { H2T_IMG_LZ4, H2T_IMG_ZLIB };
	struct fixture f;
	size_t i, j;

	for (j = 0; j < 2; j++) {
		open_img(&f, imgs[j], "DATA");
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			random_reads(f.f_pfs, files[i], (unsigned)(i * 7 + j));
		close_img(&f);
	}
}
END_TEST

/* zeros-mid.bin: the 192 KiB of zeros are holes, and read as zeros. */
START_TEST(test_holes_read_zero)
{
	static uint8_t zero[3 * 65536];
	uint8_t *buf = malloc(sizeof(zero));
	struct h2_inode *ip;
	struct fixture f;

	open_img(&f, H2T_IMG_LZ4, "DATA");
	ck_assert_int_eq(h2_namei(f.f_pfs, "/big/zeros-mid.bin", 0, &ip), 0);
	memset(buf, 0xff, sizeof(zero));
	ck_assert_int_eq(h2_read(ip, 70000, buf, sizeof(zero)), sizeof(zero));
	ck_assert_mem_eq(buf, zero, sizeof(zero));
	free(buf);
	h2_iput(ip);
	close_img(&f);
}
END_TEST

/* Every stored name sits at its directory hash. */
struct hash_walk {
	struct h2_pfs *hw_pfs;
	int hw_names;
	int hw_depth;
};

static int
hash_entry(void *arg, const struct h2_dirent *de)
{
	struct hash_walk *hw = arg;
	hammer2_key_t h = h2_dirhash(de->d_name, de->d_namlen);
	struct h2_inode *ip;

	ck_assert_uint_eq(de->d_key & ~HAMMER2_DIRHASH_LOMASK,
	    h & ~HAMMER2_DIRHASH_LOMASK);
	hw->hw_names++;
	if (de->d_type == HAMMER2_OBJTYPE_DIRECTORY && hw->hw_depth < 16) {
		ck_assert_int_eq(h2_iget(hw->hw_pfs, de->d_inum, &ip), 0);
		hw->hw_depth++;
		ck_assert_int_eq(h2_readdir(ip, 0, hash_entry, hw), 0);
		hw->hw_depth--;
		h2_iput(ip);
	}
	return 0;
}

START_TEST(test_dirhash_matches_media)
{
	struct hash_walk hw = { NULL, 0, 0 };
	struct h2_inode *root;
	struct fixture f;

	open_img(&f, H2T_IMG_LZ4, "DATA");
	hw.hw_pfs = f.f_pfs;
	ck_assert_int_eq(h2_iget(f.f_pfs, 1, &root), 0);
	ck_assert_int_eq(h2_readdir(root, 0, hash_entry, &hw), 0);
	ck_assert_int_eq(hw.hw_names, man.m_count);
	h2_iput(root);
	/* PFS names are keyed by the same hash in the super-root. */
	ck_assert_uint_eq(h2_dirhash("DATA", 4), 0xc78fff92381d8000ull);
	close_img(&f);
}
END_TEST

/* readdir resumes at a key, and stops when the callback says so. */
struct resume {
	int r_count;
	hammer2_key_t r_last;
	int r_stop_at;
};

static int
resume_entry(void *arg, const struct h2_dirent *de)
{
	struct resume *r = arg;

	ck_assert_uint_gt(de->d_key, r->r_last);
	r->r_last = de->d_key;
	return ++r->r_count == r->r_stop_at ? 42 : 0;
}

START_TEST(test_readdir_resume)
{
	struct resume r = { 0, 0, 700 };
	struct h2_inode *dir;
	struct fixture f;

	open_img(&f, H2T_IMG_ZLIB, "DATA");
	ck_assert_int_eq(h2_namei(f.f_pfs, "many", 0, &dir), 0);
	ck_assert_int_eq(h2_readdir(dir, 0, resume_entry, &r), 42);
	ck_assert_int_eq(r.r_count, 700);
	r.r_stop_at = -1;
	ck_assert_int_eq(h2_readdir(dir, r.r_last + 1, resume_entry, &r), 0);
	ck_assert_int_eq(r.r_count, 2000);
	h2_iput(dir);
	close_img(&f);
}
END_TEST

START_TEST(test_namei_paths)
{
	static char big[300];
	struct h2_inode *ip, *dir;
	struct h2_dirent de;
	struct fixture f;
	char buf[16];

	open_img(&f, H2T_IMG_LZ4, "DATA");
	ck_assert_int_eq(h2_namei(f.f_pfs,
			     "/d0/d1/../d1/./d2//d3/d4/d5/d6/d7/d8/d9/deep.txt",
			     0, &ip),
	    0);
	ck_assert_int_eq(h2_read(ip, 0, buf, sizeof(buf)), 16);
	ck_assert_mem_eq(buf, "ten levels down\n", 16);
	h2_iput(ip);
	/* ".." at the root stays at the root. */
	ck_assert_int_eq(h2_namei(f.f_pfs, "../../tiny.txt", 0, &ip), 0);
	h2_iput(ip);
	/* A symlink in the middle of a path is followed; at the end only
	 * with H2_NAMEI_FOLLOW. */
	ck_assert_int_eq(h2_namei(f.f_pfs, "link-to-tiny", 0, &ip), 0);
	ck_assert_uint_eq(h2_idata(ip)->meta.type, HAMMER2_OBJTYPE_SOFTLINK);
	ck_assert_int_eq(h2_readlink(ip, buf, sizeof(buf)), 8);
	ck_assert_mem_eq(buf, "tiny.txt", 8);
	ck_assert_int_eq(h2_read(ip, 0, buf, sizeof(buf)), 8);
	h2_iput(ip);
	ck_assert_int_eq(
	    h2_namei(f.f_pfs, "link-to-tiny", H2_NAMEI_FOLLOW, &ip), 0);
	ck_assert_uint_eq(h2_idata(ip)->meta.type, HAMMER2_OBJTYPE_REGFILE);
	ck_assert_uint_eq(h2_idata(ip)->meta.size, 6);
	h2_iput(ip);
	ck_assert_int_eq(h2_namei(f.f_pfs, "link-to-tiny/x", 0, &ip), -ENOTDIR);
	/* Errors a caller can provoke. */
	ck_assert_int_eq(h2_namei(f.f_pfs, "nope", 0, &ip), -ENOENT);
	ck_assert_int_eq(h2_namei(f.f_pfs, "tiny.txt/x", 0, &ip), -ENOTDIR);
	ck_assert_ptr_null(ip);
	ck_assert_int_eq(h2_namei(f.f_pfs, "big", 0, &dir), 0);
	ck_assert_int_eq(h2_read(dir, 0, buf, 1), -EISDIR);
	ck_assert_int_eq(h2_readlink(dir, buf, 1), -EINVAL);
	ck_assert_int_eq(h2_lookup(dir, "random-1m.bin", 13, &de), 0);
	ck_assert_uint_eq(de.d_type, HAMMER2_OBJTYPE_REGFILE);
	ck_assert_str_eq(de.d_name, "random-1m.bin");
	ck_assert_int_eq(h2_lookup(dir, "random-1m.bi", 12, &de), -ENOENT);
	ck_assert_int_eq(h2_lookup(dir, "a/b", 3, &de), -ENOENT);
	ck_assert_int_eq(h2_lookup(dir, "..", 2, &de), -ENOENT);
	ck_assert_int_eq(h2_lookup(dir, big, sizeof(big), &de), -ENAMETOOLONG);
	ck_assert_int_eq(h2_iget(f.f_pfs, 999999, &ip), -ENOENT);
	ck_assert_int_eq(h2_iget(f.f_pfs, HAMMER2_DIRHASH_VISIBLE | 5, &ip),
	    -ENOENT);
	h2_iput(dir);
	ck_assert_int_eq(h2_namei(f.f_pfs, "tiny.txt", 0, &ip), 0);
	ck_assert_int_eq(h2_readdir(ip, 0, NULL, NULL), -ENOTDIR);
	ck_assert_int_eq(h2_lookup(ip, "x", 1, &de), -ENOTDIR);
	ck_assert_int_eq(h2_read(ip, 6, buf, 1), 0);
	ck_assert_int_eq(h2_read(ip, 3, buf, 100), 3);
	ck_assert_int_eq(h2_read(ip, 0, buf, 0), 0);
	h2_iput(ip);
	close_img(&f);
}
END_TEST

START_TEST(test_long_paths)
{
	char *path = malloc(H2_PATH_MAX + 10);
	struct h2_inode *ip;
	struct fixture f;
	char name[300];

	open_img(&f, H2T_IMG_LZ4, "DATA");
	memset(path, '/', H2_PATH_MAX + 5);
	path[H2_PATH_MAX + 5] = '\0';
	ck_assert_int_eq(h2_namei(f.f_pfs, path, 0, &ip), -ENAMETOOLONG);
	memset(name, 'm', 255);
	snprintf(path, H2_PATH_MAX, "names/%.255s", name);
	ck_assert_int_eq(h2_namei(f.f_pfs, path, 0, &ip), 0);
	ck_assert_uint_eq(h2_idata(ip)->meta.size, 18);
	h2_iput(ip);
	memset(name, 'm', 257);
	snprintf(path, H2_PATH_MAX, "names/%.257s", name);
	ck_assert_int_eq(h2_namei(f.f_pfs, path, 0, &ip), -ENAMETOOLONG);
	free(path);
	close_img(&f);
}
END_TEST

START_TEST(test_mount_zone_choice)
{
	struct h2_mount_opts mo = { 0, 0 };
	struct h2_mount *mp;
	struct h2_dev *dev;

	ck_assert_int_eq(h2_host_open(h2t_img(H2T_IMG_LZ4), 1, &dev), 0);
	ck_assert_int_eq(h2_mount(dev, &mo, &mp), 0);
	ck_assert_int_eq(h2_mount_zone(mp), 0);
	ck_assert_uint_eq(h2_mount_volhdr(mp)->mirror_tid, 0x11);
	h2_unmount(mp);
	mo.mo_zone = 1; /* a 2 GiB image has only the first copy */
	ck_assert_int_eq(h2_mount(dev, &mo, &mp), -ENOENT);
	mo.mo_zone = 4;
	ck_assert_int_eq(h2_mount(dev, &mo, &mp), -EINVAL);
	ck_assert_ptr_null(mp);
	h2_host_close(dev);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}
END_TEST

static Suite *
ref_suite(void)
{
	Suite *s = suite_create("h2_ref");
	TCase *tc = tcase_create("ref");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lz4_xxhash64_exact);
	tcase_add_test(tc, test_zlib_iscsi32_exact);
	tcase_add_test(tc, test_snapshot_snap1_exact);
	tcase_add_test(tc, test_snapshot_data_lacks_destroyed);
	tcase_add_test(tc, test_pfs_list);
	tcase_add_test(tc, test_partial_reads);
	tcase_add_test(tc, test_holes_read_zero);
	tcase_add_test(tc, test_dirhash_matches_media);
	tcase_add_test(tc, test_readdir_resume);
	tcase_add_test(tc, test_namei_paths);
	tcase_add_test(tc, test_long_paths);
	tcase_add_test(tc, test_mount_zone_choice);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ref_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
