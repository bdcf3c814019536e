/*
 * h2_write: the write path on volumes in memory. Files of every size
 * (direct data, one block, indirect blocks two levels deep), writes at any
 * offset, holes and all-zero blocks, truncation both ways; every namespace
 * operation and its errors; directories big enough to split into indirect
 * blocks; directory hash collisions (real ones, and the full collision
 * space through the hash hook); every compression x check method, blocks
 * compressed only where that saves space; transactions: the header slot
 * rotation, copy on write (nothing flushed is overwritten), read-only
 * mounts; PFS create, delete, snapshot; bulkfree; indirect blocks folded
 * back after deletes; freemap recovery. After each flush the
 * volume passes fsck and reads back the same after a remount.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/h2_internal.h"
#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static uint64_t live0;

static void
setup(void)
{
	live0 = h2_host_alloc_live();
}

static void
teardown(void)
{
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Bytes that compress (text-like) or do not (random). */
static void
fill(uint8_t *buf, size_t len, int compressible, uint64_t seed)
{
	static const char *words[] = { "hammer2 ", "dragonfly ", "flush ",
		"blockref ", "inode ", "freemap " };
	size_t i = 0, n;

	rng_state = seed * 2654435761u + 1;
	while (i < len) {
		if (compressible) {
			const char *w = words[rng() % 6];

			n = strlen(w);
			if (n > len - i)
				n = len - i;
			memcpy(buf + i, w, n);
			i += n;
		} else {
			buf[i++] = (uint8_t)rng();
		}
	}
}

static struct h2_inode *
mkfile(struct h2t_vol *v, struct h2_inode *dir, const char *name,
    const void *data, size_t len)
{
	struct h2_inode *ip;

	ck_assert_int_eq(h2_create(dir, name, strlen(name),
			     HAMMER2_OBJTYPE_REGFILE, 0644, &ip),
	    0);
	if (len)
		ck_assert_int_eq(h2_write(ip, 0, data, len), (ssize_t)len);
	return ip;
}

static void
check_file(struct h2_pfs *pfs, const char *path, const void *data, size_t len)
{
	struct h2_inode *ip = h2t_path(pfs, path);
	uint8_t *buf;
	size_t got;

	ck_assert_msg(ip != NULL, "%s missing", path);
	ck_assert_uint_eq(h2_idata(ip)->meta.size, len);
	ck_assert_int_eq(h2t_read_all(ip, &buf, &got), 0);
	ck_assert_uint_eq(got, len);
	ck_assert_msg(memcmp(buf, data, len) == 0, "%s differs", path);
	free(buf);
	h2_iput(ip);
}

static void
remount(struct h2t_vol *v, unsigned flags)
{
	struct h2_dev *dev = v->v_dev;

	h2t_vol_umount(v);
	ck_assert_uint_eq(h2t_fsck_problems(dev, 1), 0);
	ck_assert_int_eq(h2t_vol_mount(v, dev, flags, "DATA"), 0);
}

static void
flush_remount(struct h2t_vol *v)
{
	ck_assert_int_eq(h2_flush(v->v_mp), 0);
	remount(v, H2_MNT_RDWR);
}

static struct h2_dev *
newvol(uint64_t size, uint8_t comp, uint8_t check, struct h2t_vol *v)
{
	struct h2_dev *dev = h2t_mem_newfs(size, comp, check);

	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(h2t_vol_mount(v, dev, H2_MNT_RDWR, "DATA"), 0);
	return dev;
}

static void
endvol(struct h2t_vol *v)
{
	struct h2_dev *dev = v->v_dev;

	h2t_vol_umount(v);
	h2t_ov_close(dev);
}

/* ---- files ---- */

START_TEST(test_small_files)
{
	struct h2t_vol v;
	struct h2_inode *ip;
	uint8_t buf[2048];
	int i;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	fill(buf, sizeof(buf), 0, 1);
	ip = mkfile(&v, v.v_root, "empty", NULL, 0);
	h2_iput(ip);
	/* 512 bytes stay in the inode, 513 move to a block for good. */
	ip = mkfile(&v, v.v_root, "direct", buf, 512);
	ck_assert(h2_idata(ip)->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA);
	h2_iput(ip);
	ip = mkfile(&v, v.v_root, "grown", buf, 100);
	ck_assert_int_eq(h2_write(ip, 100, buf + 100, 413), 413);
	ck_assert(!(h2_idata(ip)->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA));
	ck_assert_int_eq(h2_truncate(ip, 10), 0);
	ck_assert(!(h2_idata(ip)->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA));
	h2_iput(ip);
	for (i = 1; i <= 16; i++) {
		char name[32];

		snprintf(name, sizeof(name), "s%d", i * 127);
		ip = mkfile(&v, v.v_root, name, buf, (size_t)i * 127);
		h2_iput(ip);
	}
	/* Read back before and after the flush and a remount. */
	for (i = 0; i < 2; i++) {
		check_file(v.v_pfs, "empty", buf, 0);
		check_file(v.v_pfs, "direct", buf, 512);
		check_file(v.v_pfs, "grown", buf, 10);
		check_file(v.v_pfs, "s2032", buf, 2032);
		if (i == 0)
			flush_remount(&v);
	}
	endvol(&v);
}
END_TEST

START_TEST(test_large_file_tree_shape)
{
	size_t len = 40 * MiB + 12345;
	uint8_t *data = malloc(len);
	const struct hammer2_blockref *b;
	struct h2t_vol v;
	struct h2_inode *ip;
	int i, nind = 0;

	newvol(2 * GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	fill(data, len, 1, 2);
	ip = mkfile(&v, v.v_root, "big", NULL, 0);
	/* Written in odd-sized pieces. */
	for (size_t off = 0; off < len; off += 777777)
		ck_assert_int_eq(h2_write(ip, off, data + off,
				     len - off < 777777 ? len - off : 777777),
		    (ssize_t)(len - off < 777777 ? len - off : 777777));
	h2_iput(ip);
	flush_remount(&v);
	check_file(v.v_pfs, "big", data, len);
	/* As DragonFly grows a file: past 32 MiB the inode holds one
	 * indirect block of 1 GiB (keybits 30) over 8 MiB ones (23). */
	ip = h2t_path(v.v_pfs, "big");
	for (i = 0; i < HAMMER2_SET_COUNT; i++) {
		b = &h2_idata(ip)->u.blockset.blockref[i];
		if (b->type == HAMMER2_BREF_TYPE_INDIRECT) {
			nind++;
			ck_assert_uint_eq(b->keybits, 30);
			ck_assert_uint_eq(b->key, 0);
			ck_assert_uint_eq(b->data_off & 63, 14); /* 16 KiB */
		}
	}
	ck_assert_int_eq(nind, 1);
	h2_iput(ip);
	endvol(&v);
	free(data);
}
END_TEST

START_TEST(test_offsets_and_holes)
{
	size_t len = 3 * MiB;
	uint8_t *model = calloc(1, len), *buf = malloc(len);
	struct h2t_vol v;
	struct h2_inode *ip;
	struct h2_stats st;
	int i;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_ISCSI32, &v);
	ip = mkfile(&v, v.v_root, "sparse", NULL, 0);
	rng_state = 99;
	for (i = 0; i < 300; i++) {
		uint64_t off = rng() % (len - 70000), n = rng() % 70000;

		fill(buf, n, i & 1, (uint64_t)i);
		memcpy(model + off, buf, n);
		ck_assert_int_eq(h2_write(ip, off, buf, n), (ssize_t)n);
		if (i % 50 == 0)
			ck_assert_int_eq(h2_flush(v.v_mp), 0);
	}
	/* A block of zeros written over data becomes a hole. */
	memset(model + 128 * 1024, 0, 128 * 1024);
	ck_assert_int_eq(
	    h2_write(ip, 128 * 1024, model + 128 * 1024, 128 * 1024),
	    128 * 1024);
	h2_iput(ip);
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	h2_mount_stats(v.v_mp, &st);
	ck_assert_uint_ge(st.st_zero_blocks, 2);
	flush_remount(&v);
	ip = h2t_path(v.v_pfs, "sparse");
	len = h2_idata(ip)->meta.size;
	ck_assert_int_eq(h2_read(ip, 0, buf, len), (ssize_t)len);
	ck_assert(memcmp(buf, model, len) == 0);
	/* A write far past the end leaves a hole reading zeros. */
	ck_assert_int_eq(h2_write(ip, 10 * GiB, "x", 1), 1);
	ck_assert_int_eq(h2_read(ip, 10 * GiB - 100, buf, 200), 101);
	for (i = 0; i < 100; i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_uint_eq(buf[100], 'x');
	ck_assert_int_eq(h2_write(ip, (1ull << 62) - 1, "x", 2), -EFBIG);
	h2_iput(ip);
	flush_remount(&v);
	endvol(&v);
	free(model);
	free(buf);
}
END_TEST

START_TEST(test_truncate)
{
	uint8_t buf[200000], got[200000];
	struct h2t_vol v;
	struct h2_inode *ip;

	newvol(GiB, HAMMER2_COMP_NONE, HAMMER2_CHECK_XXHASH64, &v);
	fill(buf, sizeof(buf), 0, 5);
	ip = mkfile(&v, v.v_root, "t", buf, sizeof(buf));
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	/* Shrink into the middle of a block, extend again: zeros. */
	ck_assert_int_eq(h2_truncate(ip, 70000), 0);
	ck_assert_int_eq(h2_truncate(ip, 150000), 0);
	ck_assert_int_eq(h2_read(ip, 0, got, sizeof(got)), 150000);
	ck_assert(memcmp(got, buf, 70000) == 0);
	memset(buf + 70000, 0, 80000);
	ck_assert(memcmp(got, buf, 150000) == 0);
	h2_iput(ip);
	flush_remount(&v);
	check_file(v.v_pfs, "t", buf, 150000);
	ip = h2t_path(v.v_pfs, "t");
	ck_assert_int_eq(h2_truncate(ip, 0), 0);
	ck_assert_int_eq(h2_truncate(ip, 5), 0);
	h2_iput(ip);
	flush_remount(&v);
	memset(buf, 0, 5);
	check_file(v.v_pfs, "t", buf, 5);
	/* Direct data: shrinking zeroes the tail. */
	ip = mkfile(&v, v.v_root, "d", "abcdefgh", 8);
	ck_assert_int_eq(h2_truncate(ip, 3), 0);
	ck_assert_int_eq(h2_truncate(ip, 8), 0);
	h2_iput(ip);
	flush_remount(&v);
	check_file(v.v_pfs, "d", "abc\0\0\0\0\0", 8);
	ip = h2t_path(v.v_pfs, "d");
	ck_assert_int_eq(h2_truncate(ip, 1 << 20), 0);
	h2_iput(ip);
	ck_assert_int_eq(h2_truncate(v.v_root, 0), -EISDIR);
	flush_remount(&v);
	endvol(&v);
}
END_TEST

START_TEST(test_sparse_huge_offsets)
{
	static const uint64_t offs[] = { 0, 8 * MiB, 8 * MiB + 65536, 3 * GiB,
		1ull << 40, (1ull << 40) + 12345, 1ull << 50,
		(1ull << 61) + 65536 * 7 };
	struct h2t_vol v;
	struct h2_inode *ip;
	char buf[16], want[16];
	unsigned i;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	ip = mkfile(&v, v.v_root, "huge", NULL, 0);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		snprintf(want, sizeof(want), "at%u", i);
		ck_assert_int_eq(h2_write(ip, offs[i], want, 4), 4);
	}
	h2_iput(ip);
	flush_remount(&v);
	ip = h2t_path(v.v_pfs, "huge");
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		snprintf(want, sizeof(want), "at%u", i);
		ck_assert_int_eq(h2_read(ip, offs[i], buf, 4), 4);
		ck_assert(memcmp(buf, want, 4) == 0);
		if (i + 1 == sizeof(offs) / sizeof(offs[0]))
			break; /* the last one ends the file */
		ck_assert_int_eq(h2_read(ip, offs[i] + 4, buf, 8), 8);
		ck_assert(memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0);
	}
	/* Cut back through the deep tree. */
	ck_assert_int_eq(h2_truncate(ip, 3 * GiB + 2), 0);
	h2_iput(ip);
	flush_remount(&v);
	ip = h2t_path(v.v_pfs, "huge");
	ck_assert_int_eq(h2_read(ip, 3 * GiB, buf, 8), 2);
	ck_assert(memcmp(buf, "at", 2) == 0);
	h2_iput(ip);
	endvol(&v);
}
END_TEST

START_TEST(test_freemap_nodes)
{
	struct h2t_vol v;
	struct h2_fmblk *f;
	struct h2_mount *mp;
	hammer2_off_t off;
	uint8_t buf[65536];
	int z;

	/* 12 GiB: more 1 GiB leaves than the header's four freemap slots,
	 * so a level-2 FREEMAP_NODE (256 GiB, keybits 38) takes them. */
	newvol(12 * GiB, HAMMER2_COMP_NONE, HAMMER2_CHECK_XXHASH64, &v);
	mp = v.v_mp;
	fill(buf, sizeof(buf), 0, 21);
	for (z = 0; z < 12; z++) {
		/* Allocate in zone z by pointing the DATA hint there. */
		mp->m_heur[HAMMER2_BREF_TYPE_DATA] =
		    (uint64_t)z * GiB + 5 * MiB;
		ck_assert_int_eq(
		    h2_alloc(mp, HAMMER2_BREF_TYPE_DATA, 65536, 0, &off), 0);
		ck_assert_uint_eq(off >> 30, (uint64_t)z);
	}
	h2_iput(mkfile(&v, v.v_root, "f", buf, sizeof(buf)));
	ck_assert_int_eq(h2_flush(mp), 0);
	ck_assert_uint_eq(
	    h2_mount_volhdr(mp)->freemap_blockset.blockref[0].type,
	    HAMMER2_BREF_TYPE_FREEMAP_NODE);
	ck_assert_uint_eq(
	    h2_mount_volhdr(mp)->freemap_blockset.blockref[0].keybits, 38);
	flush_remount(&v);
	/* The leaves load back through the node. */
	for (z = 0; z < 12; z++) {
		ck_assert_int_eq(h2_fm_leaf(v.v_mp, (uint64_t)z * GiB, 0, &f),
		    0);
		ck_assert_ptr_nonnull(f);
	}
	h2_iput(mkfile(&v, v.v_root, "g", buf, sizeof(buf)));
	flush_remount(&v);
	check_file(v.v_pfs, "g", buf, sizeof(buf));
	endvol(&v);
}
END_TEST

/* ---- the namespace ---- */

struct names {
	int n_count;
	hammer2_key_t n_last;
	int n_order_ok;
};

static int
count_entry(void *arg, const struct h2_dirent *de)
{
	struct names *n = arg;

	if (n->n_count && de->d_key <= n->n_last)
		n->n_order_ok = 0;
	n->n_last = de->d_key;
	n->n_count++;
	return 0;
}

static int
entries(struct h2_inode *dir)
{
	struct names n = { 0, 0, 1 };

	ck_assert_int_eq(h2_readdir(dir, 0, count_entry, &n), 0);
	ck_assert(n.n_order_ok);
	return n.n_count;
}

START_TEST(test_namespace)
{
	struct h2t_vol v;
	struct h2_inode *d, *e, *f, *ip;
	struct h2_dirent de;
	char target[300], buf[300];
	char longname[256];

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	ck_assert_int_eq(h2_mkdir(v.v_root, "d", 1, 0755, &d), 0);
	ck_assert_int_eq(h2_mkdir(d, "e", 1, 0700, &e), 0);
	f = mkfile(&v, e, "f", "data", 4);
	/* Errors that change nothing. */
	ck_assert_int_eq(h2_mkdir(v.v_root, "d", 1, 0755, NULL), -EEXIST);
	ck_assert_int_eq(h2_create(v.v_root, "a/b", 3, 2, 0644, NULL), -EINVAL);
	ck_assert_int_eq(h2_create(v.v_root, "..", 2, 2, 0644, NULL), -EINVAL);
	ck_assert_int_eq(h2_create(v.v_root, "", 0, 2, 0644, NULL), -EINVAL);
	memset(longname, 'n', sizeof(longname));
	ck_assert_int_eq(h2_create(v.v_root, longname, 256, 2, 0644, NULL),
	    -ENAMETOOLONG);
	ck_assert_int_eq(h2_create(v.v_root, "x", 1, 99, 0644, NULL), -EINVAL);
	ck_assert_int_eq(h2_create(f, "x", 1, 2, 0644, NULL), -ENOTDIR);
	ck_assert_int_eq(h2_rmdir(v.v_root, "d", 1), -ENOTEMPTY);
	ck_assert_int_eq(h2_unlink(v.v_root, "d", 1), -EISDIR);
	ck_assert_int_eq(h2_rmdir(e, "f", 1), -ENOTDIR);
	ck_assert_int_eq(h2_unlink(e, "nope", 4), -ENOENT);
	ck_assert_int_eq(h2_link(v.v_root, "dl", 2, d), -EPERM);
	ck_assert_int_eq(h2_rename(v.v_root, "d", 1, e, "d", 1), -EINVAL);
	ck_assert_int_eq(h2_rename(v.v_root, "d", 1, d, "x", 1), -EINVAL);
	/* Long names (out-of-line DIRENT block) and a 255-byte one. */
	ck_assert_int_eq(h2_create(e, longname, 255, 2, 0644, NULL), 0);
	ck_assert_int_eq(h2_create(e, longname, 65, 2, 0644, NULL), 0);
	ck_assert_int_eq(h2_create(e, longname, 64, 2, 0644, NULL), 0);
	/* Hard links. */
	ck_assert_int_eq(h2_link(v.v_root, "f2", 2, f), 0);
	ck_assert_int_eq(h2_link(d, "f3", 2, f), 0);
	ck_assert_uint_eq(h2_idata(f)->meta.nlinks, 3);
	ck_assert_int_eq(h2_unlink(d, "f3", 2), 0);
	ck_assert_uint_eq(h2_idata(f)->meta.nlinks, 2);
	/* Symlinks: direct and in blocks. */
	ck_assert_int_eq(h2_symlink(v.v_root, "ls", 2, "d/e/f", 5, NULL), 0);
	memset(target, 'a', sizeof(target));
	memcpy(target + 296, "/f", 2);
	ck_assert_int_eq(h2_symlink(v.v_root, "ll", 2, target, 298, NULL), 0);
	ck_assert_int_eq(h2_symlink(v.v_root, "l0", 2, target, 0, NULL),
	    -EINVAL);
	h2_iput(f);
	h2_iput(e);
	h2_iput(d);
	flush_remount(&v);
	check_file(v.v_pfs, "f2", "data", 4);
	check_file(v.v_pfs, "d/e/f", "data", 4);
	ip = h2t_path(v.v_pfs, "ll");
	ck_assert_int_eq(h2_readlink(ip, buf, sizeof(buf)), 298);
	ck_assert(memcmp(buf, target, 298) == 0);
	h2_iput(ip);
	ck_assert_int_eq(h2_namei(v.v_pfs, "ls", H2_NAMEI_FOLLOW, &ip), 0);
	ck_assert_uint_eq(h2_idata(ip)->meta.size, 4);
	h2_iput(ip);
	e = h2t_path(v.v_pfs, "d/e");
	ck_assert_int_eq(entries(e), 4);
	ck_assert_int_eq(h2_lookup(e, longname, 255, &de), 0);
	/* Renames: file over file, dir over empty dir, across dirs. */
	f = mkfile(&v, v.v_root, "g", "other", 5);
	h2_iput(f);
	ck_assert_int_eq(h2_rename(v.v_root, "g", 1, v.v_root, "f2", 2), 0);
	ck_assert_int_eq(h2_lookup(v.v_root, "g", 1, &de), -ENOENT);
	ck_assert_int_eq(h2_mkdir(v.v_root, "empty", 5, 0755, NULL), 0);
	ck_assert_int_eq(h2_rename(v.v_root, "d", 1, v.v_root, "f2", 2),
	    -ENOTDIR);
	ck_assert_int_eq(h2_rename(v.v_root, "f2", 2, v.v_root, "d", 1),
	    -EISDIR);
	ck_assert_int_eq(h2_mkdir(v.v_root, "full", 4, 0755, &d), 0);
	ck_assert_int_eq(h2_mkdir(d, "x", 1, 0755, NULL), 0);
	h2_iput(d);
	ck_assert_int_eq(h2_rename(v.v_root, "empty", 5, v.v_root, "full", 4),
	    -ENOTEMPTY);
	ck_assert_int_eq(h2_rename(e, "f", 1, v.v_root, "moved", 5), 0);
	/* A full directory may replace an empty one. */
	ck_assert_int_eq(h2_rename(v.v_root, "full", 4, v.v_root, "empty", 5),
	    0);
	ck_assert_int_eq(h2_rename(v.v_root, "empty", 5, e, "sub", 3), 0);
	h2_iput(e);
	flush_remount(&v);
	check_file(v.v_pfs, "f2", "other", 5);
	check_file(v.v_pfs, "moved", "data", 4);
	ip = h2t_path(v.v_pfs, "d/e/sub");
	e = h2t_path(v.v_pfs, "d/e");
	ck_assert_ptr_nonnull(ip);
	ck_assert_uint_eq(h2_idata(ip)->meta.iparent, h2_idata(e)->meta.inum);
	h2_iput(ip);
	h2_iput(e);
	/* Removing everything leaves an empty root that fsck likes. */
	e = h2t_path(v.v_pfs, "d/e");
	ck_assert_int_eq(h2_unlink(e, longname, 255), 0);
	ck_assert_int_eq(h2_unlink(e, longname, 65), 0);
	ck_assert_int_eq(h2_unlink(e, longname, 64), 0);
	d = h2t_path(v.v_pfs, "d/e/sub");
	ck_assert_int_eq(h2_rmdir(d, "x", 1), 0);
	h2_iput(d);
	ck_assert_int_eq(h2_rmdir(e, "sub", 3), 0);
	h2_iput(e);
	d = h2t_path(v.v_pfs, "d");
	ck_assert_int_eq(h2_rmdir(d, "e", 1), 0);
	h2_iput(d);
	ck_assert_int_eq(h2_rmdir(v.v_root, "d", 1), 0);
	ck_assert_int_eq(h2_unlink(v.v_root, "f2", 2), 0);
	ck_assert_int_eq(h2_unlink(v.v_root, "moved", 5), 0);
	ck_assert_int_eq(h2_unlink(v.v_root, "ls", 2), 0);
	ck_assert_int_eq(h2_unlink(v.v_root, "ll", 2), 0);
	flush_remount(&v);
	ck_assert_int_eq(entries(v.v_root), 0);
	ck_assert_uint_eq(h2_ibref(v.v_root)->embed.stats.inode_count, 0);
	endvol(&v);
}
END_TEST

START_TEST(test_unlink_open_file)
{
	struct h2t_vol v;
	struct h2_inode *ip;
	char buf[8];

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	ip = mkfile(&v, v.v_root, "open", "keep", 4);
	ck_assert_int_eq(h2_unlink(v.v_root, "open", 4), 0);
	ck_assert_uint_eq(h2_idata(ip)->meta.nlinks, 0);
	/* Still readable and writable through the handle. */
	ck_assert_int_eq(h2_write(ip, 4, "!", 1), 1);
	ck_assert_int_eq(h2_read(ip, 0, buf, 8), 5);
	ck_assert(memcmp(buf, "keep!", 5) == 0);
	/* Flushed while open: an orphan (a warning, as after a crash). */
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	h2_iput(ip);
	flush_remount(&v);
	endvol(&v);
}
END_TEST

START_TEST(test_big_directory)
{
	struct h2t_vol v;
	struct h2_dirent de;
	struct h2_inode *d;
	char name[32];
	int i, n = 3000;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	ck_assert_int_eq(h2_mkdir(v.v_root, "many", 4, 0755, &d), 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "file-%05d.txt", i);
		ck_assert_int_eq(
		    h2_create(d, name, strlen(name), 2, 0644, NULL), 0);
		if (i == n / 2)
			ck_assert_int_eq(h2_flush(v.v_mp), 0);
	}
	ck_assert_int_eq(entries(d), n);
	h2_iput(d);
	flush_remount(&v);
	d = h2t_path(v.v_pfs, "many");
	ck_assert_int_eq(entries(d), n);
	for (i = 0; i < n; i += 2) {
		snprintf(name, sizeof(name), "file-%05d.txt", i);
		ck_assert_int_eq(h2_unlink(d, name, strlen(name)), 0);
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "file-%05d.txt", i);
		ck_assert_int_eq(h2_lookup(d, name, strlen(name), &de),
		    (i & 1) ? 0 : -ENOENT);
	}
	h2_iput(d);
	flush_remount(&v);
	d = h2t_path(v.v_pfs, "many");
	ck_assert_int_eq(entries(d), n / 2);
	h2_iput(d);
	endvol(&v);
}
END_TEST

/* ---- folding indirect blocks back ---- */

struct shape {
	int sh_ind;   /* INDIRECT blocks below the inode */
	int sh_depth; /* levels of blockrefs below it (1: all in the inode) */
	int sh_leaves;
};

/* The tree below inode inum of the committed volume, read raw. */
static struct shape
shape_of(struct h2_dev *dev, uint64_t inum)
{
	struct h2t_tree t;
	struct shape sh = { 0, 0, 0 };
	int i, ino, d;

	ck_assert_int_eq(h2t_tree_build(dev, &t), 0);
	ino = h2t_find_inode(&t, -1, inum);
	ck_assert_int_ge(ino, 0);
	for (i = 0; i < t.t_count; i++) {
		if (t.t_nodes[i].n_owner != ino)
			continue;
		d = t.t_nodes[i].n_depth - t.t_nodes[ino].n_depth;
		if (d > sh.sh_depth)
			sh.sh_depth = d;
		if (t.t_nodes[i].n_bref.type == HAMMER2_BREF_TYPE_INDIRECT)
			sh.sh_ind++;
		else
			sh.sh_leaves++;
	}
	h2t_tree_free(&t);
	return sh;
}

static uint64_t
folded(struct h2_mount *mp)
{
	struct h2_stats st;

	h2_mount_stats(mp, &st);
	return st.st_ind_folded;
}

/*
 * A directory grown by thousands of creates and emptied again by unlinks
 * shrinks back to its inode (DragonFly's indirect maintenance), and so
 * does the PFS root's inode index; then it grows and empties again.
 */
START_TEST(test_fold_directory)
{
	static const int keep[] = { 0, 1500, 2999 };
	struct h2t_vol v;
	struct h2_dirent de;
	struct h2_inode *d;
	struct shape dir0, idx0, sh;
	uint64_t dinum, f0;
	char name[32];
	int i, k, n = 3000;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	ck_assert_int_eq(h2_mkdir(v.v_root, "many", 4, 0755, &d), 0);
	dinum = h2_idata(d)->meta.inum;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "file-%05d.txt", i);
		ck_assert_int_eq(
		    h2_create(d, name, strlen(name), 2, 0644, NULL), 0);
	}
	h2_iput(d);
	flush_remount(&v);
	dir0 = shape_of(v.v_dev, dinum);
	idx0 = shape_of(v.v_dev, 1);
	ck_assert_int_eq(dir0.sh_leaves, n);
	ck_assert_int_ge(dir0.sh_ind, 20);
	ck_assert_int_ge(dir0.sh_depth, 3);
	ck_assert_int_ge(idx0.sh_ind, 20);
	ck_assert_int_ge(idx0.sh_depth, 3);
	/* Unlink all but three, over two transactions. */
	d = h2t_path(v.v_pfs, "many");
	f0 = folded(v.v_mp);
	for (i = 0; i < n; i++) {
		for (k = 0; k < 3 && keep[k] != i; k++)
			;
		if (k < 3)
			continue;
		snprintf(name, sizeof(name), "file-%05d.txt", i);
		ck_assert_int_eq(h2_unlink(d, name, strlen(name)), 0);
		if (i == n / 2)
			ck_assert_int_eq(h2_flush(v.v_mp), 0);
	}
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	ck_assert_uint_gt(folded(v.v_mp), f0);
	h2_iput(d);
	remount(&v, H2_MNT_RDWR); /* fsck clean */
	/* Three entries fit the inode's own four blockrefs. */
	sh = shape_of(v.v_dev, dinum);
	ck_assert_int_eq(sh.sh_leaves, 3);
	ck_assert_int_eq(sh.sh_ind, 0);
	ck_assert_int_eq(sh.sh_depth, 1);
	/* The root: 1 + 3 inodes and the DIRENT "many", over 4 slots. */
	sh = shape_of(v.v_dev, 1);
	ck_assert_int_eq(sh.sh_leaves, 5);
	ck_assert_int_le(sh.sh_ind, 2);
	ck_assert_int_le(sh.sh_depth, 2);
	d = h2t_path(v.v_pfs, "many");
	ck_assert_int_eq(entries(d), 3);
	for (k = 0; k < 3; k++) {
		snprintf(name, sizeof(name), "file-%05d.txt", keep[k]);
		ck_assert_int_eq(h2_lookup(d, name, strlen(name), &de), 0);
	}
	/* It splits again as it grows, and empties to nothing. */
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "again-%05d", i);
		ck_assert_int_eq(
		    h2_create(d, name, strlen(name), 2, 0644, NULL), 0);
	}
	h2_iput(d);
	flush_remount(&v);
	sh = shape_of(v.v_dev, dinum);
	ck_assert_int_eq(sh.sh_leaves, n + 3);
	ck_assert_int_ge(sh.sh_ind, 20);
	d = h2t_path(v.v_pfs, "many");
	ck_assert_int_eq(entries(d), n + 3);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "again-%05d", i);
		ck_assert_int_eq(h2_unlink(d, name, strlen(name)), 0);
	}
	for (k = 0; k < 3; k++) {
		snprintf(name, sizeof(name), "file-%05d.txt", keep[k]);
		ck_assert_int_eq(h2_unlink(d, name, strlen(name)), 0);
	}
	h2_iput(d);
	flush_remount(&v);
	sh = shape_of(v.v_dev, dinum);
	ck_assert_int_eq(sh.sh_leaves + sh.sh_ind, 0);
	sh = shape_of(v.v_dev, 1);
	ck_assert_int_eq(sh.sh_leaves, 2); /* "many": inode and DIRENT */
	ck_assert_int_eq(sh.sh_ind, 0);
	d = h2t_path(v.v_pfs, "many");
	ck_assert_int_eq(entries(d), 0);
	h2_iput(d);
	endvol(&v);
}
END_TEST

/* A 40 MiB file truncated: 5 blocks under one indirect, then 3 in the
 * inode; a level folds only where its entries fit the parent. */
START_TEST(test_fold_file)
{
	size_t len = 40 * MiB;
	uint8_t *data = malloc(len);
	struct h2t_vol v;
	struct h2_inode *ip;
	struct shape sh;
	uint64_t inum;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_ISCSI32, &v);
	fill(data, len, 1, 7);
	ip = mkfile(&v, v.v_root, "big", data, len);
	inum = h2_idata(ip)->meta.inum;
	h2_iput(ip);
	flush_remount(&v);
	sh = shape_of(v.v_dev, inum);
	ck_assert_int_eq(sh.sh_leaves, 640);
	ck_assert_int_eq(sh.sh_ind, 6); /* 1 GiB over five 8 MiB */
	ck_assert_int_eq(sh.sh_depth, 3);
	ip = h2t_path(v.v_pfs, "big");
	ck_assert_int_eq(h2_truncate(ip, 5 * 65536), 0);
	h2_iput(ip);
	flush_remount(&v);
	/* The 8 MiB level folded into the 1 GiB one, which cannot fold
	 * further: five entries do not fit the inode's four. */
	sh = shape_of(v.v_dev, inum);
	ck_assert_int_eq(sh.sh_leaves, 5);
	ck_assert_int_eq(sh.sh_ind, 1);
	ck_assert_int_eq(sh.sh_depth, 2);
	check_file(v.v_pfs, "big", data, 5 * 65536);
	ip = h2t_path(v.v_pfs, "big");
	ck_assert_int_eq(h2_truncate(ip, 3 * 65536 - 100), 0);
	h2_iput(ip);
	flush_remount(&v);
	sh = shape_of(v.v_dev, inum);
	ck_assert_int_eq(sh.sh_leaves, 3);
	ck_assert_int_eq(sh.sh_ind, 0);
	ck_assert_int_eq(sh.sh_depth, 1);
	check_file(v.v_pfs, "big", data, 3 * 65536 - 100);
	/* And it grows again the way it grew the first time. */
	ip = h2t_path(v.v_pfs, "big");
	ck_assert_int_eq(h2_write(ip, 0, data, len), (ssize_t)len);
	h2_iput(ip);
	flush_remount(&v);
	sh = shape_of(v.v_dev, inum);
	ck_assert_int_eq(sh.sh_leaves, 640);
	ck_assert_int_eq(sh.sh_ind, 6);
	check_file(v.v_pfs, "big", data, len);
	endvol(&v);
	free(data);
}
END_TEST

/*
 * Real collisions: the upper 32 bits of a key are a sum of CRCs of the
 * parts between separators, so permuted parts agree there; among enough
 * permutations the 16 bits from the whole name's CRC agree too.
 */
static int
find_collisions(char names[][40], int want)
{
	static const char *parts[] = { "aa", "bb", "cc", "dd", "ee", "ff",
		"gg" };
	int perm[7], i, j, n = 0, count = 0;
	char(*all)[40] = malloc(5040 * 40);
	hammer2_key_t *keys = malloc(5040 * sizeof(*keys));

	for (i = 0; i < 7; i++)
		perm[i] = i;
	/* Heap's algorithm over the 5040 orders. */
	int c[7] = { 0 };
	for (;;) {
		all[n][0] = '\0';
		for (j = 0; j < 7; j++) {
			strcat(all[n], parts[perm[j]]);
			if (j < 6)
				strcat(all[n], ".");
		}
		keys[n] = h2_dirhash(all[n], strlen(all[n]));
		n++;
		for (i = 1; i < 7 && c[i] >= i; i++)
			c[i] = 0;
		if (i == 7)
			break;
		j = (i & 1) ? c[i] : 0;
		int t = perm[j];
		perm[j] = perm[i];
		perm[i] = t;
		c[i]++;
	}
	for (i = 0; i < n && count < want; i++) {
		for (j = i + 1; j < n && count < want; j++) {
			if (keys[i] != keys[j])
				continue;
			if (count == 0)
				strcpy(names[count++], all[i]);
			if (keys[j] == h2_dirhash(names[0], strlen(names[0])))
				strcpy(names[count++], all[j]);
		}
		if (count > 0)
			break;
	}
	free(all);
	free(keys);
	return count;
}

/* Trimming while readdir callbacks take and drop inodes (as "hammer2
 * get" does): with a tiny node budget every h2_iput wants to trim. */
static int
touch_entry(void *arg, const struct h2_dirent *de)
{
	struct h2_inode *dir = arg, *ip;

	ck_assert_int_eq(h2_iget(dir->i_pfs, de->d_inum, &ip), 0);
	h2_iput(ip);
	return 0;
}

START_TEST(test_trim_during_readdir)
{
	struct h2t_vol v;
	struct h2_inode *d;
	char name[32];
	int i;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	ck_assert_int_eq(h2_mkdir(v.v_root, "d", 1, 0755, &d), 0);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "entry-%d", i);
		ck_assert_int_eq(
		    h2_create(d, name, strlen(name), 2, 0644, NULL), 0);
	}
	h2_iput(d);
	/* Flushed but still loaded: clean nodes that trimming may drop. */
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	d = h2t_path(v.v_pfs, "d");
	v.v_mp->m_node_budget = 4096;
	ck_assert_int_eq(h2_readdir(d, 0, touch_entry, d), 0);
	ck_assert_int_eq(h2_readdir(v.v_root, 0, touch_entry, v.v_root), 0);
	h2_iput(d);
	/* Outside walks the budget holds again. */
	ck_assert_uint_lt(v.v_mp->m_node_bytes, 64 * 1024);
	endvol(&v);
}
END_TEST

START_TEST(test_hash_collisions)
{
	char names[4][40];
	struct h2t_vol v;
	struct h2_dirent de;
	struct h2_inode *ip;
	hammer2_key_t h;
	int n, i;

	n = find_collisions(names, 3);
	ck_assert_int_ge(n, 2);
	h = h2_dirhash(names[0], strlen(names[0]));
	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	for (i = 0; i < n; i++) {
		ip = mkfile(&v, v.v_root, names[i], names[i], 20);
		h2_iput(ip);
	}
	/* Each got the next free key after the hash. */
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(
		    h2_lookup(v.v_root, names[i], strlen(names[i]), &de), 0);
		ck_assert_uint_eq(de.d_key, h + (hammer2_key_t)i);
	}
	/* A freed key is reused by the next name that hashes there. */
	ck_assert_int_eq(h2_unlink(v.v_root, names[0], strlen(names[0])), 0);
	ck_assert_int_eq(h2_rename(v.v_root, names[1], strlen(names[1]),
			     v.v_root, names[0], strlen(names[0])),
	    0);
	ck_assert_int_eq(h2_lookup(v.v_root, names[0], strlen(names[0]), &de),
	    0);
	ck_assert_uint_eq(de.d_key, h);
	flush_remount(&v);
	check_file(v.v_pfs, names[0], names[1], 20);
	endvol(&v);
}
END_TEST

static hammer2_key_t
one_hash(const char *name, size_t len)
{
	return 0xc000000000008000ull + (len > 1 && name[0] == 'b') * 0x10000;
}

START_TEST(test_collision_space_full)
{
	struct h2t_vol v;
	struct h2_dirent de;
	struct hammer2_blockref b;
	struct h2_inode *ip;
	char name[32];
	int i;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	h2_dirhash_fn = one_hash;
	ip = mkfile(&v, v.v_root, "a0", NULL, 0);
	/*
	 * Fill the rest of the 32768 keys of one hash directly (creating
	 * them one by one scans the whole collision range each time).
	 */
	for (i = 1; i < 32768; i++) {
		memset(&b, 0, sizeof(b));
		snprintf(name, sizeof(name), "a%d", i);
		b.type = HAMMER2_BREF_TYPE_DIRENT;
		b.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_XXHASH64);
		b.key = one_hash(name, strlen(name)) + (hammer2_key_t)i;
		b.embed.dirent.inum = h2_idata(ip)->meta.inum;
		b.embed.dirent.type = HAMMER2_OBJTYPE_REGFILE;
		b.embed.dirent.namlen = (uint16_t)strlen(name);
		memcpy(b.check.buf, name, strlen(name));
		ck_assert_int_eq(h2n_insert(h2_pfs_mount(v.v_pfs),
				     v.v_root->i_node, &b, NULL, NULL, NULL,
				     NULL),
		    0);
	}
	h2_iput(ip);
	ck_assert_int_eq(
	    h2_create(v.v_root, "a-one-too-many", 14, 2, 0644, NULL), -ENOSPC);
	ck_assert_int_eq(h2_create(v.v_root, "b-elsewhere", 11, 2, 0644, NULL),
	    0);
	ck_assert_int_eq(h2_lookup(v.v_root, "a32767", 6, &de), 0);
	ck_assert_int_eq(h2_unlink(v.v_root, "a100", 4), 0);
	ck_assert_int_eq(h2_create(v.v_root, "a-now-fits", 10, 2, 0644, NULL),
	    0);
	ck_assert_int_eq(h2_lookup(v.v_root, "a-now-fits", 10, &de), 0);
	ck_assert_uint_eq(de.d_key, 0xc000000000008000ull + 100);
	ck_assert_int_eq(entries(v.v_root), 32769);
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	h2t_vol_umount(&v);
	ck_assert_int_eq(h2t_vol_mount(&v, v.v_dev, 0, "DATA"), 0);
	ck_assert_int_eq(h2_lookup(v.v_root, "a32767", 6, &de), 0);
	ck_assert_int_eq(entries(v.v_root), 32769);
	h2_dirhash_fn = h2_dirhash;
	endvol(&v);
}
END_TEST

/* ---- methods ---- */

struct method_walk {
	int mw_comp[16];
	int mw_check[16];
	int mw_data;
};

static int
count_methods(void *arg, const struct hammer2_blockref *b)
{
	struct method_walk *mw = arg;

	if (b->type != HAMMER2_BREF_TYPE_DATA)
		return 0;
	mw->mw_data++;
	mw->mw_comp[HAMMER2_DEC_COMP(b->methods)]++;
	mw->mw_check[HAMMER2_DEC_CHECK(b->methods)]++;
	return 0;
}

static void
file_methods(struct h2_pfs *pfs, const char *path, struct method_walk *mw)
{
	struct h2_inode *ip = h2t_path(pfs, path);

	memset(mw, 0, sizeof(*mw));
	ck_assert_ptr_nonnull(ip);
	ck_assert_int_eq(
	    h2_tree_scan(h2_pfs_mount(pfs), h2_idata(ip)->u.blockset.blockref,
		HAMMER2_SET_COUNT, 0, HAMMER2_KEY_MAX, count_methods, mw),
	    0);
	h2_iput(ip);
}

START_TEST(test_every_method)
{
	static const uint8_t comps[] = { HAMMER2_COMP_NONE,
		HAMMER2_COMP_AUTOZERO, HAMMER2_COMP_LZ4, HAMMER2_COMP_ZLIB,
		HAMMER2_COMP_ZLIB | (9 << 4), HAMMER2_COMP_DF_ZSTD,
		HAMMER2_COMP_DF_ZSTD | (9 << 4) };
	static const uint8_t checks[] = { HAMMER2_CHECK_NONE,
		HAMMER2_CHECK_ISCSI32, HAMMER2_CHECK_XXHASH64,
		HAMMER2_CHECK_SHA192 };
	size_t len = 300000;
	uint8_t *text = malloc(len), *rnd = malloc(len), *zero = calloc(1, len);
	struct method_walk mw;
	struct h2t_vol v;
	unsigned c, k;

	fill(text, len, 1, 7);
	fill(rnd, len, 0, 8);
	for (c = 0; c < sizeof(comps); c++) {
		for (k = 0; k < sizeof(checks); k++) {
			int method = HAMMER2_DEC_ALGO(comps[c]);
			int packs = method == HAMMER2_COMP_LZ4 ||
			    method == HAMMER2_COMP_ZLIB ||
			    method == HAMMER2_COMP_DF_ZSTD;

			newvol(GiB, comps[c], checks[k], &v);
			h2_iput(mkfile(&v, v.v_root, "text", text, len));
			h2_iput(mkfile(&v, v.v_root, "rnd", rnd, len));
			h2_iput(mkfile(&v, v.v_root, "zero", zero, len));
			flush_remount(&v);
			check_file(v.v_pfs, "text", text, len);
			check_file(v.v_pfs, "rnd", rnd, len);
			check_file(v.v_pfs, "zero", zero, len);
			file_methods(v.v_pfs, "text", &mw);
			ck_assert_int_eq(mw.mw_check[checks[k]], mw.mw_data);
			ck_assert_int_eq(mw.mw_comp[packs ? method : 0],
			    mw.mw_data);
			/* Random bytes never shrink: stored as they are. */
			file_methods(v.v_pfs, "rnd", &mw);
			ck_assert_int_eq(mw.mw_comp[0], mw.mw_data);
			ck_assert_int_eq(mw.mw_data, 5);
			/* Zeros are holes unless comp or check is NONE. */
			file_methods(v.v_pfs, "zero", &mw);
			ck_assert_int_eq(mw.mw_data,
			    (comps[c] == HAMMER2_COMP_NONE ||
				checks[k] == HAMMER2_CHECK_NONE) ?
				5 :
				0);
			endvol(&v);
		}
	}
	free(text);
	free(rnd);
	free(zero);
}
END_TEST

START_TEST(test_per_inode_methods)
{
	struct method_walk mw;
	struct h2t_vol v;
	struct h2_inode *d, *ip;
	struct h2_attr ia;
	uint8_t buf[100000];

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	fill(buf, sizeof(buf), 1, 3);
	ck_assert_int_eq(h2_mkdir(v.v_root, "z", 1, 0755, &d), 0);
	memset(&ia, 0, sizeof(ia));
	ia.ia_valid = H2_ATTR_COMP | H2_ATTR_CHECK;
	ia.ia_comp = HAMMER2_COMP_ZLIB;
	ia.ia_check = HAMMER2_CHECK_ISCSI32;
	ck_assert_int_eq(h2_setattr(d, &ia), 0);
	/* New inodes inherit their directory's methods. */
	ip = mkfile(&v, d, "f", buf, sizeof(buf));
	ck_assert_uint_eq(h2_idata(ip)->meta.comp_algo, HAMMER2_COMP_ZLIB);
	ck_assert_uint_eq(HAMMER2_DEC_CHECK(h2_ibref(ip)->methods),
	    HAMMER2_CHECK_ISCSI32);
	h2_iput(ip);
	h2_iput(d);
	ia.ia_comp = 14;
	ck_assert_int_eq(h2_setattr(v.v_root, &ia), -EINVAL);
	flush_remount(&v);
	file_methods(v.v_pfs, "z/f", &mw);
	ck_assert_int_eq(mw.mw_comp[HAMMER2_COMP_ZLIB], mw.mw_data);
	ck_assert_int_eq(mw.mw_check[HAMMER2_CHECK_ISCSI32], mw.mw_data);
	check_file(v.v_pfs, "z/f", buf, sizeof(buf));
	endvol(&v);
}
END_TEST

/* ---- transactions ---- */

START_TEST(test_header_rotation_and_cow)
{
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));
	struct h2t_vol v;
	struct h2_inode *ip;
	hammer2_tid_t tid;
	int i, zone;

	/* 8 GiB: four header slots. */
	newvol(8 * GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	zone = h2_mount_zone(v.v_mp);
	tid = h2_mount_volhdr(v.v_mp)->mirror_tid;
	for (i = 1; i <= 9; i++) {
		char name[16];
		struct h2t_tree before, after;

		ck_assert_int_eq(h2t_tree_build(v.v_dev, &before), 0);
		snprintf(name, sizeof(name), "f%d", i);
		ip = mkfile(&v, v.v_root, name, name, strlen(name));
		h2_iput(ip);
		ck_assert_int_eq(h2_flush(v.v_mp), 0);
		ck_assert_int_eq(h2_mount_zone(v.v_mp), (zone + i) % 4);
		ck_assert_uint_eq(h2_mount_volhdr(v.v_mp)->mirror_tid,
		    tid + (hammer2_tid_t)i);
		ck_assert_uint_eq(h2_mount_volhdr(v.v_mp)->freemap_tid,
		    tid + (hammer2_tid_t)i);
		/* Copy on write: every block the old tree used is intact. */
		ck_assert_int_eq(h2t_tree_build(v.v_dev, &after), 0);
		for (int k = 0; k < before.t_count; k++) {
			struct hammer2_blockref *b = &before.t_nodes[k].n_bref;
			uint8_t *blk = malloc(HAMMER2_PBUFSIZE);
			size_t bl = h2_bref_bytes(b);

			if (bl) {
				ck_assert_int_eq(
				    h2t_ov_peek(v.v_dev,
					b->data_off & HAMMER2_OFF_MASK, blk,
					bl),
				    0);
				ck_assert_int_eq(h2_bref_check(b, blk, bl), 0);
			}
			free(blk);
		}
		h2t_tree_free(&before);
		h2t_tree_free(&after);
	}
	/* Every header slot holds a valid, older-or-equal transaction. */
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(h2_volhdr_read(v.v_dev, i, vd), 0);
		ck_assert_uint_ge(vd->mirror_tid, tid + 9 - 3);
	}
	/* A flush with nothing to do writes nothing. */
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	ck_assert_uint_eq(h2_mount_volhdr(v.v_mp)->mirror_tid, tid + 9);
	remount(&v, H2_MNT_RDWR);
	for (i = 1; i <= 9; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		check_file(v.v_pfs, name, name, strlen(name));
	}
	endvol(&v);
	free(vd);
}
END_TEST

START_TEST(test_readonly_and_discard)
{
	struct h2t_vol v;
	struct h2_inode *ip;
	struct h2_attr ia;
	struct h2_dirent de;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	h2_iput(mkfile(&v, v.v_root, "kept", "1", 1));
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	h2_iput(mkfile(&v, v.v_root, "lost", "2", 1));
	/* Unmount without a flush: as a crash, the change is gone. */
	remount(&v, 0);
	ck_assert_int_eq(h2_lookup(v.v_root, "lost", 4, &de), -ENOENT);
	ip = h2t_path(v.v_pfs, "kept");
	memset(&ia, 0, sizeof(ia));
	ia.ia_valid = H2_ATTR_MODE;
	ck_assert_int_eq(h2_setattr(ip, &ia), -EROFS);
	ck_assert_int_eq(h2_write(ip, 0, "x", 1), -EROFS);
	ck_assert_int_eq(h2_truncate(ip, 0), -EROFS);
	ck_assert_int_eq(h2_create(v.v_root, "n", 1, 2, 0644, NULL), -EROFS);
	ck_assert_int_eq(h2_unlink(v.v_root, "kept", 4), -EROFS);
	ck_assert_int_eq(h2_pfs_create(v.v_mp, "X", NULL), -EROFS);
	ck_assert_int_eq(h2_snapshot(v.v_pfs, "X"), -EROFS);
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	h2_iput(ip);
	endvol(&v);
}
END_TEST

START_TEST(test_setattr)
{
	struct h2t_vol v;
	struct h2_inode *ip;
	struct h2_attr ia;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	ip = mkfile(&v, v.v_root, "a", "1", 1);
	memset(&ia, 0, sizeof(ia));
	ia.ia_valid = H2_ATTR_MODE | H2_ATTR_UID | H2_ATTR_GID | H2_ATTR_MTIME;
	ia.ia_mode = 0100640;
	ia.ia_uid = 1000;
	ia.ia_gid = 50;
	ia.ia_mtime = 1234567890123456ull;
	ck_assert_int_eq(h2_setattr(ip, &ia), 0);
	ia.ia_valid = 0x8000;
	ck_assert_int_eq(h2_setattr(ip, &ia), -EINVAL);
	h2_iput(ip);
	flush_remount(&v);
	ip = h2t_path(v.v_pfs, "a");
	ck_assert_uint_eq(h2_idata(ip)->meta.mode, 0640);
	ck_assert_uint_eq(h2_uuid_to_id(&h2_idata(ip)->meta.uid), 1000);
	ck_assert_uint_eq(h2_uuid_to_id(&h2_idata(ip)->meta.gid), 50);
	ck_assert_uint_eq(h2_idata(ip)->meta.mtime, 1234567890123456ull);
	h2_iput(ip);
	endvol(&v);
}
END_TEST

static int
clear_data_bits(void *arg, const struct hammer2_blockref *b)
{
	struct h2_mount *mp = arg;
	hammer2_off_t off = b->data_off & HAMMER2_OFF_MASK;
	struct hammer2_bmap_data *bm;
	struct h2_fmblk *f;
	uint64_t chunk;

	if (b->type != HAMMER2_BREF_TYPE_DATA)
		return 0;
	ck_assert_int_eq(h2_fm_leaf(mp, off, 0, &f), 0);
	bm = &((struct hammer2_bmap_data *)
		   f->f_data)[(off & HAMMER2_FREEMAP_LEVEL1_MASK) >> 22];
	chunk = (off & HAMMER2_SEGMASK64) >> 14;
	bm->bitmapq[chunk >> 5] &= ~((hammer2_bitmap_t)3 << (chunk & 31) * 2);
	bm->linear = 0;
	bm->avail = HAMMER2_FREEMAP_LEVEL0_SIZE;
	h2_fm_dirty(f);
	return 0;
}

START_TEST(test_freemap_recovery)
{
	struct hammer2_volume_data *vd = malloc(sizeof(*vd));
	size_t len = 2 * MiB;
	uint8_t *old = malloc(len), *young = malloc(len), *buf = malloc(len);
	struct h2_fsck_result r;
	struct h2t_vol v;
	struct h2_inode *ip;
	hammer2_tid_t t1;
	int zone, i;

	newvol(GiB, HAMMER2_COMP_NONE, HAMMER2_CHECK_XXHASH64, &v);
	fill(old, len, 0, 31);
	fill(young, len, 0, 32);
	h2_iput(mkfile(&v, v.v_root, "old", old, len));
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	t1 = h2_mount_volhdr(v.v_mp)->mirror_tid;
	h2_iput(mkfile(&v, v.v_root, "young", young, len));
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	/* Make it look like DragonFly crashed after flushing the tree of
	 * transaction t1 + 1 but not its freemap: young's blocks free in
	 * the freemap, freemap_tid t1. */
	ip = h2t_path(v.v_pfs, "young");
	ck_assert_int_eq(h2_tree_scan(v.v_mp, h2_idata(ip)->u.blockset.blockref,
			     HAMMER2_SET_COUNT, 0, HAMMER2_KEY_MAX,
			     clear_data_bits, v.v_mp),
	    0);
	h2_iput(ip);
	v.v_mp->m_dirty = 1;
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	zone = h2_mount_zone(v.v_mp);
	h2t_vol_umount(&v);
	ck_assert_int_eq(h2_volhdr_read(v.v_dev, zone, vd), 0);
	vd->freemap_tid = t1;
	h2_volhdr_seal(vd);
	h2t_ov_poke(v.v_dev, (uint64_t)zone * HAMMER2_ZONE_BYTES64, vd,
	    sizeof(*vd));
	/* fsck: to recover (young's 32 blocks), not problems. */
	ck_assert_int_eq(h2_fsck(v.v_dev, 0, NULL, NULL, &r), 0);
	ck_assert_uint_eq(r.fr_problems, 0);
	ck_assert_uint_eq(r.fr_recover, 32);
	ck_assert_uint_eq(r.fr_warnings, 1);
	/* The writable mount recovers before it allocates anything. */
	ck_assert_int_eq(h2t_vol_mount(&v, v.v_dev, H2_MNT_RDWR, "DATA"), 0);
	ck_assert_uint_eq(h2_mount_volhdr(v.v_mp)->freemap_tid,
	    h2_mount_volhdr(v.v_mp)->mirror_tid);
	for (i = 0; i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "new%d", i);
		fill(buf, len, 0, (uint64_t)i + 40);
		h2_iput(mkfile(&v, v.v_root, name, buf, len));
	}
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	h2t_vol_umount(&v);
	ck_assert_int_eq(h2_fsck(v.v_dev, 0, NULL, NULL, &r), 0);
	ck_assert_uint_eq(r.fr_problems + r.fr_warnings + r.fr_recover, 0);
	ck_assert_int_eq(h2t_vol_mount(&v, v.v_dev, H2_MNT_RDWR, "DATA"), 0);
	check_file(v.v_pfs, "old", old, len);
	check_file(v.v_pfs, "young", young, len);
	endvol(&v);
	free(vd);
	free(old);
	free(young);
	free(buf);
}
END_TEST

/* ---- PFSs, snapshots, bulkfree ---- */

static int
count_pfs(void *arg, const struct h2_pfs_info *pi)
{
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_pfs_create_delete)
{
	struct h2t_vol v;
	struct h2_pfs *p;
	struct h2_inode *root;
	int n = 0, i;
	char name[16];

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	/* Past four: the super-root splits into an indirect block. */
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "pfs%d", i);
		ck_assert_int_eq(h2_pfs_create(v.v_mp, name, NULL), 0);
	}
	ck_assert_int_eq(h2_pfs_create(v.v_mp, "pfs3", NULL), -EEXIST);
	ck_assert_int_eq(h2_pfs_create(v.v_mp, "a/b", NULL), -EINVAL);
	ck_assert_int_eq(h2_pfs_open(v.v_mp, "pfs7", &p), 0);
	ck_assert_uint_eq(h2_pfs_root(p)->meta.comp_algo, HAMMER2_COMP_LZ4);
	ck_assert_int_eq(h2_iget(p, 1, &root), 0);
	h2_iput(mkfile(&v, root, "in7", "seven", 5));
	h2_iput(root);
	ck_assert_int_eq(h2_pfs_delete(v.v_mp, "pfs7"), -EBUSY);
	h2_pfs_close(p);
	ck_assert_int_eq(h2_pfs_delete(v.v_mp, "pfs8"), 0);
	ck_assert_int_eq(h2_pfs_delete(v.v_mp, "nope"), -ENOENT);
	ck_assert_int_eq(h2_pfs_foreach(v.v_mp, count_pfs, &n), 0);
	ck_assert_int_eq(n, 11);
	flush_remount(&v);
	n = 0;
	ck_assert_int_eq(h2_pfs_foreach(v.v_mp, count_pfs, &n), 0);
	ck_assert_int_eq(n, 11);
	ck_assert_int_eq(h2_pfs_open(v.v_mp, "pfs7", &p), 0);
	check_file(p, "in7", "seven", 5);
	h2_pfs_close(p);
	ck_assert_int_eq(h2_pfs_open(v.v_mp, "pfs8", &p), -ENOENT);
	endvol(&v);
}
END_TEST

START_TEST(test_snapshot)
{
	uint8_t buf[200000];
	struct h2t_vol v;
	struct h2_pfs *s;
	struct h2_inode *ip;
	struct h2_dirent de;

	newvol(GiB, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64, &v);
	fill(buf, sizeof(buf), 1, 11);
	h2_iput(mkfile(&v, v.v_root, "a", buf, sizeof(buf)));
	h2_iput(mkfile(&v, v.v_root, "b", "bee", 3));
	ck_assert_int_eq(h2_snapshot(v.v_pfs, "snap1"), 0);
	ck_assert_int_eq(h2_snapshot(v.v_pfs, "snap1"), -EEXIST);
	/* Change the original after the snapshot. */
	ip = h2t_path(v.v_pfs, "a");
	ck_assert_int_eq(h2_write(ip, 1000, "CHANGED", 7), 7);
	h2_iput(ip);
	ck_assert_int_eq(h2_unlink(v.v_root, "b", 1), 0);
	h2_iput(mkfile(&v, v.v_root, "c", "sea", 3));
	flush_remount(&v);
	ck_assert_int_eq(h2_pfs_open(v.v_mp, "snap1", &s), 0);
	ck_assert_uint_eq(h2_pfs_root(s)->meta.pfs_subtype,
	    HAMMER2_PFSSUBTYPE_SNAPSHOT);
	check_file(s, "a", buf, sizeof(buf));
	check_file(s, "b", "bee", 3);
	ip = h2t_path(s, ".");
	ck_assert_int_eq(h2_lookup(ip, "c", 1, &de), -ENOENT);
	/* The snapshot is writable too, without touching the original. */
	ck_assert_int_eq(h2_create(ip, "only-in-snap", 12, 2, 0644, NULL), 0);
	h2_iput(ip);
	h2_pfs_close(s);
	memcpy(buf + 1000, "CHANGED", 7);
	check_file(v.v_pfs, "a", buf, sizeof(buf));
	ck_assert_int_eq(h2_lookup(v.v_root, "b", 1, &de), -ENOENT);
	ck_assert_int_eq(h2_lookup(v.v_root, "only-in-snap", 12, &de), -ENOENT);
	flush_remount(&v);
	endvol(&v);
}
END_TEST

START_TEST(test_bulkfree)
{
	size_t len = 8 * MiB;
	uint8_t *buf = malloc(len);
	struct h2_bulkfree_result r;
	struct h2t_vol v;
	struct h2_inode *ip;
	uint64_t free0, used;
	int i;

	newvol(GiB, HAMMER2_COMP_NONE, HAMMER2_CHECK_XXHASH64, &v);
	ck_assert_int_eq(h2_flush(v.v_mp), 0);
	free0 = h2_mount_volhdr(v.v_mp)->allocator_free;
	fill(buf, len, 0, 13);
	h2_iput(mkfile(&v, v.v_root, "keep", buf, 100000));
	for (i = 0; i < 4; i++) {
		ip = mkfile(&v, v.v_root, "churn", buf, len);
		h2_iput(ip);
		ck_assert_int_eq(h2_flush(v.v_mp), 0);
		ck_assert_int_eq(h2_unlink(v.v_root, "churn", 5), 0);
		ck_assert_int_eq(h2_flush(v.v_mp), 0);
	}
	used = free0 - h2_mount_volhdr(v.v_mp)->allocator_free;
	ck_assert_uint_ge(used, 4 * len);
	/* First pass stages (11 -> 10), second frees (10 -> 00). */
	ck_assert_int_eq(h2_bulkfree(v.v_mp, &r), 0);
	ck_assert_uint_ge(r.bf_staged, 4 * len / 16384);
	ck_assert_uint_eq(r.bf_freed, 0);
	ck_assert_int_eq(h2_bulkfree(v.v_mp, &r), 0);
	ck_assert_uint_ge(r.bf_freed, 4 * len / 16384);
	ck_assert_uint_eq(r.bf_fixed, 0);
	used = free0 - h2_mount_volhdr(v.v_mp)->allocator_free;
	ck_assert_uint_lt(used, 2 * MiB);
	remount(&v, H2_MNT_RDWR);
	check_file(v.v_pfs, "keep", buf, 100000);
	/* Freed space is used again, and the result is still sound. */
	ip = mkfile(&v, v.v_root, "again", buf, len);
	h2_iput(ip);
	flush_remount(&v);
	check_file(v.v_pfs, "again", buf, len);
	endvol(&v);
	free(buf);
}
END_TEST

START_TEST(test_enospc)
{
	uint8_t *buf = malloc(MiB);
	struct h2_bulkfree_result r;
	struct h2t_vol v;
	struct h2_inode *ip;
	ssize_t n = 0;
	int i, full = 0;

	/* 64 MiB: about 40 MiB to allocate after the boot and aux areas. */
	newvol(64 * MiB, HAMMER2_COMP_NONE, HAMMER2_CHECK_XXHASH64, &v);
	fill(buf, MiB, 0, 17);
	ip = mkfile(&v, v.v_root, "fill", NULL, 0);
	for (i = 0; i < 100 && !full; i++) {
		n = h2_write(ip, (uint64_t)i * MiB, buf, MiB);
		if (n != (ssize_t)MiB)
			full = 1;
		else if (i % 8 == 7)
			ck_assert_int_eq(h2_flush(v.v_mp), 0);
	}
	ck_assert(full);
	ck_assert_int_eq(n, -ENOSPC);
	/* A clean failure: the mount goes on and can flush what it has. */
	ck_assert_int_eq(h2_mount_error(v.v_mp), 0);
	h2_iput(ip);
	flush_remount(&v);
	ck_assert_int_eq(h2_unlink(v.v_root, "fill", 4), 0);
	ck_assert_int_eq(h2_bulkfree(v.v_mp, &r), 0);
	ck_assert_int_eq(h2_bulkfree(v.v_mp, &r), 0);
	ip = mkfile(&v, v.v_root, "again", buf, MiB);
	h2_iput(ip);
	flush_remount(&v);
	check_file(v.v_pfs, "again", buf, MiB);
	endvol(&v);
	free(buf);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("h2_write");
	TCase *tc = tcase_create("write");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_small_files);
	tcase_add_test(tc, test_large_file_tree_shape);
	tcase_add_test(tc, test_offsets_and_holes);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_sparse_huge_offsets);
	tcase_add_test(tc, test_freemap_nodes);
	tcase_add_test(tc, test_namespace);
	tcase_add_test(tc, test_unlink_open_file);
	tcase_add_test(tc, test_big_directory);
	tcase_add_test(tc, test_fold_directory);
	tcase_add_test(tc, test_fold_file);
	tcase_add_test(tc, test_trim_during_readdir);
	tcase_add_test(tc, test_hash_collisions);
	tcase_add_test(tc, test_collision_space_full);
	tcase_add_test(tc, test_every_method);
	tcase_add_test(tc, test_per_inode_methods);
	tcase_add_test(tc, test_header_rotation_and_cow);
	tcase_add_test(tc, test_readonly_and_discard);
	tcase_add_test(tc, test_setattr);
	tcase_add_test(tc, test_pfs_create_delete);
	tcase_add_test(tc, test_snapshot);
	tcase_add_test(tc, test_bulkfree);
	tcase_add_test(tc, test_freemap_recovery);
	tcase_add_test(tc, test_enospc);
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
