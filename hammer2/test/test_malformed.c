/*
 * Malformed metadata that passes every check code. Each test rewrites part
 * of a valid image in memory and recomputes the check codes from there up
 * to the volume header (h2t_reseal), so only the library's validation stands
 * between the bad field and the caller: bad radix, keys outside their
 * parent, overlapping siblings, indirect blocks that do not narrow (loops),
 * trees too deep, impossible inode fields, bad names, unknown methods,
 * offsets outside the volume, undecodable compressed blocks. Each must end
 * in -EIO with a log line saying why, never wrong data, a crash or a hang.
 *
 * And the other way round, blocks re-encoded with every check method and
 * every compression method (including the zstd extension) read back
 * exactly, AUTOZERO blocks read as zeros, and a block with the check
 * disabled is not verified.
 */
#include <check.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "hammer2/h2_hash.h"
#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

#define FREE_AREA (3ull << 29) /* 1.5 GiB: nothing allocated there */

static struct h2t_manifest man;
static struct h2_dev *dev;
static struct h2t_tree tree;
static int pfs;
static uint64_t live0, cursor;

static void
setup_img(const char *img)
{
	ck_assert_int_eq(h2t_manifest_load(&man), 0);
	dev = h2t_ov_open(h2t_img(img), 0);
	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(h2t_tree_build(dev, &tree), 0);
	ck_assert_int_ge(pfs = h2t_find_pfs(&tree, "DATA"), 0);
	live0 = h2_host_alloc_live();
	cursor = FREE_AREA;
	h2t_log_capture();
}

static void
setup(void)
{
	setup_img(H2T_IMG_LZ4);
}

static void
setup_zlib(void)
{
	setup_img(H2T_IMG_ZLIB);
}

static void
teardown(void)
{
	h2t_log_stop();
	h2t_tree_free(&tree);
	h2t_ov_close(dev);
	h2t_manifest_free(&man);
}

/* ---- finding things ---- */

static uint64_t
path_inum(const char *path)
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
	return inum;
}

/* The INODE node of path. */
static int
inode_node(const char *path)
{
	int i = h2t_find_inode(&tree, pfs, path_inum(path));

	ck_assert_int_ge(i, 0);
	return i;
}

/* The DATA node of path at file offset key. */
static int
data_node(const char *path, uint64_t key)
{
	int owner = inode_node(path), i;

	for (i = 0; i < tree.t_count; i++)
		if (tree.t_nodes[i].n_bref.type == HAMMER2_BREF_TYPE_DATA &&
		    tree.t_nodes[i].n_owner == owner &&
		    tree.t_nodes[i].n_bref.key == key)
			return i;
	ck_abort_msg("no DATA node at %llu in %s", (unsigned long long)key,
	    path);
	return -1;
}

/* The DIRENT node of name inside directory dir. */
static int
dirent_node(const char *dir, const char *name)
{
	int owner = inode_node(dir), i;

	for (i = 0; i < tree.t_count; i++)
		if (tree.t_nodes[i].n_bref.type == HAMMER2_BREF_TYPE_DIRENT &&
		    tree.t_nodes[i].n_owner == owner &&
		    strcmp(tree.t_nodes[i].n_name, name) == 0)
			return i;
	ck_abort_msg("no dirent %s in %s", name, dir);
	return -1;
}

/* An INDIRECT node whose parent is INDIRECT too, below owner. */
static int
nested_indirect(int owner)
{
	int i, p;

	for (i = 0; i < tree.t_count; i++) {
		p = tree.t_nodes[i].n_parent;
		if (tree.t_nodes[i].n_bref.type == HAMMER2_BREF_TYPE_INDIRECT &&
		    p >= 0 &&
		    tree.t_nodes[p].n_bref.type == HAMMER2_BREF_TYPE_INDIRECT &&
		    tree.t_nodes[i].n_owner == owner)
			return i;
	}
	ck_abort_msg("no nested indirect block");
	return -1;
}

/* ---- changing things ---- */

static struct hammer2_blockref
get_bref(int idx)
{
	struct hammer2_blockref b;

	ck_assert_int_eq(h2t_bref_get(dev, &tree.t_nodes[idx], &b), 0);
	return b;
}

/* Store node idx's blockref and reseal from its container up. */
static void
put_bref(int idx, const struct hammer2_blockref *b)
{
	ck_assert_int_eq(h2t_bref_put(dev, &tree.t_nodes[idx], b), 0);
	h2t_reseal(dev, &tree, tree.t_nodes[idx].n_parent);
}

/* Change an inode's bytes, then reseal. */
static void
patch_inode(int idx, size_t off, const void *val, size_t len)
{
	uint64_t at = tree.t_nodes[idx].n_bref.data_off & HAMMER2_OFF_MASK;

	ck_assert_int_eq(h2t_ov_poke(dev, at + off, val, len), 0);
	h2t_reseal(dev, &tree, idx);
}

/* Write len bytes to free space, padded to a power of two >= 1 KiB, and
 * point b at it. */
static void
new_block(struct hammer2_blockref *b, const void *data, size_t len)
{
	uint8_t *pad;
	int radix = 10;

	while (((size_t)1 << radix) < len)
		radix++;
	pad = calloc(1, (size_t)1 << radix);
	memcpy(pad, data, len);
	ck_assert_int_eq(h2t_ov_poke(dev, cursor, pad, (size_t)1 << radix), 0);
	b->data_off = cursor | (uint64_t)radix;
	h2_bref_setcheck(b, pad, (size_t)1 << radix);
	cursor += HAMMER2_PBUFSIZE;
	free(pad);
}

/* ---- what must happen ---- */

struct outcome {
	int o_mount; /* h2_mount / h2_pfs_open error */
	struct h2t_verify o_v;
	struct h2_stats o_st;
};

static void
walk(struct outcome *o)
{
	struct h2_mount *mp;
	struct h2_pfs *p;

	memset(o, 0, sizeof(*o));
	if ((o->o_mount = h2_mount(dev, NULL, &mp)) != 0)
		return;
	if ((o->o_mount = h2_pfs_open(mp, "DATA", &p)) == 0) {
		h2t_verify_pfs(p, &man, NULL, &o->o_v);
		h2_pfs_close(p);
	}
	h2_mount_stats(mp, &o->o_st);
	h2_unmount(mp);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}

/* The damage is refused as malformed, logged with why, and nothing wrong
 * is returned; everything not below it still reads. */
static void
expect_malformed(const char *why)
{
	struct outcome o;

	walk(&o);
	ck_assert_int_eq(o.o_v.v_wrong, 0);
	ck_assert_int_eq(o.o_v.v_extra, 0);
	if (o.o_mount == 0) {
		ck_assert_int_gt(o.o_v.v_errors, 0);
		ck_assert_int_eq(o.o_v.v_lasterr, -EIO);
		ck_assert_int_gt(o.o_v.v_files, 0);
	} else {
		ck_assert_int_eq(o.o_mount, -EIO);
	}
	ck_assert_uint_eq(o.o_st.st_check_fail, 0);
	ck_assert_msg(h2t_log_count(why) >= 1, "no log line with \"%s\"", why);
}

static void
expect_exact(void)
{
	struct outcome o;

	walk(&o);
	ck_assert_int_eq(o.o_mount, 0);
	ck_assert_int_eq(o.o_v.v_errors + o.o_v.v_wrong + o.o_v.v_missing +
		o.o_v.v_extra,
	    0);
	ck_assert_int_eq(o.o_v.v_files + o.o_v.v_dirs + o.o_v.v_links,
	    man.m_count);
	ck_assert_uint_eq(o.o_st.st_check_fail + o.o_st.st_malformed, 0);
}

/* One file reads exactly as the manifest says; the check and malformed
 * counters stay zero. */
static void
expect_file_exact(const char *path)
{
	struct h2t_mentry *e = h2t_manifest_find(&man, path);
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_stats st;
	struct h2_pfs *p;
	uint8_t *buf, sha[32];
	size_t len;

	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), 0);
	ck_assert_int_eq(h2_namei(p, path, 0, &ip), 0);
	ck_assert_int_eq(h2t_read_all(ip, &buf, &len), 0);
	h2_sha256(buf, len, sha);
	ck_assert_mem_eq(sha, e->me_sha, 32);
	free(buf);
	h2_iput(ip);
	h2_pfs_close(p);
	h2_mount_stats(mp, &st);
	ck_assert_uint_eq(st.st_check_fail + st.st_malformed, 0);
	h2_unmount(mp);
}

/* ---- malformed trees ---- */

START_TEST(test_reseal_alone_changes_nothing)
{
	int i = data_node("big/random-1m.bin", 3 * 65536);
	struct hammer2_blockref b = get_bref(i);

	put_bref(i, &b);
	expect_exact();
}
END_TEST

START_TEST(test_bad_radix)
{
	int i = data_node("big/random-1m.bin", 3 * 65536);
	struct hammer2_blockref b = get_bref(i);

	b.data_off = (b.data_off & HAMMER2_OFF_MASK) | 17;
	put_bref(i, &b);
	expect_malformed("radix out of range");
	b.data_off = (b.data_off & HAMMER2_OFF_MASK) | 9;
	put_bref(i, &b);
	expect_malformed("radix out of range");
}
END_TEST

START_TEST(test_block_outside_volume)
{
	int i = data_node("big/random-1m.bin", 65536);
	struct hammer2_blockref b = get_bref(i);

	b.data_off = (3ull << 30) | 16; /* past the 2 GiB volume */
	put_bref(i, &b);
	expect_malformed("outside the volume");
	b.data_off = 1024 | 10; /* inside the volume header */
	put_bref(i, &b);
	expect_malformed("outside the volume");
	b.data_off = (FREE_AREA + 1024) | 16;
	put_bref(i, &b);
	expect_malformed("straddles 64 KiB");
}
END_TEST

START_TEST(test_key_outside_parent)
{
	int i = dirent_node("many", "f01234");
	struct hammer2_blockref b = get_bref(i);

	ck_assert_uint_eq(tree.t_nodes[tree.t_nodes[i].n_parent].n_bref.type,
	    HAMMER2_BREF_TYPE_INDIRECT);
	b.key ^= 1ull << 61;
	put_bref(i, &b);
	expect_malformed("outside its parent");
}
END_TEST

START_TEST(test_key_misaligned)
{
	int i = data_node("big/random-1m.bin", 2 * 65536);
	struct hammer2_blockref b = get_bref(i);

	b.key += 4096;
	put_bref(i, &b);
	expect_malformed("not aligned");
}
END_TEST

START_TEST(test_siblings_overlap)
{
	int a = data_node("big/random-1m.bin", 4 * 65536);
	int c = data_node("big/random-1m.bin", 5 * 65536);
	struct hammer2_blockref b = get_bref(c);

	ck_assert_int_eq(tree.t_nodes[a].n_parent, tree.t_nodes[c].n_parent);
	b.key = 4 * 65536;
	put_bref(c, &b);
	expect_malformed("overlaps a sibling");
}
END_TEST

START_TEST(test_indirect_loop)
{
	int x = nested_indirect(inode_node("many")), c, i;
	struct hammer2_blockref xb = tree.t_nodes[x].n_bref, b;

	/* A child of X that points back at X's own block, without a check
	 * code so only structure can catch it. */
	for (c = -1, i = 0; i < tree.t_count && c < 0; i++)
		if (tree.t_nodes[i].n_parent == x)
			c = i;
	ck_assert_int_ge(c, 0);
	b = get_bref(c);
	b.type = HAMMER2_BREF_TYPE_INDIRECT;
	b.data_off = xb.data_off;
	b.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_NONE);
	b.keybits = (uint8_t)(xb.keybits - 1);
	b.key &= ~((1ull << b.keybits) - 1);
	put_bref(c, &b);
	expect_malformed("hammer2: malformed");
}
END_TEST

START_TEST(test_indirect_does_not_narrow)
{
	int x = nested_indirect(inode_node("many"));
	int p = tree.t_nodes[x].n_parent;
	struct hammer2_blockref b = get_bref(x);

	b.keybits = tree.t_nodes[p].n_bref.keybits;
	b.key = tree.t_nodes[p].n_bref.key;
	put_bref(x, &b);
	expect_malformed("does not narrow");
}
END_TEST

/* A chain of single-entry indirect blocks under a file's inode. */
static void
deep_chain(int levels)
{
	int ino = inode_node("big/random-1m.bin"), l;
	struct hammer2_blockref b, child;
	uint8_t blk[1024];

	memset(&child, 0, sizeof(child));
	for (l = 0; l < levels; l++) {
		memset(blk, 0, sizeof(blk));
		if (l > 0)
			memcpy(blk, &child, sizeof(child));
		memset(&b, 0, sizeof(b));
		b.type = HAMMER2_BREF_TYPE_INDIRECT;
		b.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_XXHASH64);
		b.keybits = (uint8_t)(20 + l);
		new_block(&b, blk, sizeof(blk));
		child = b;
	}
	patch_inode(ino, offsetof(struct hammer2_inode_data, u), &child,
	    sizeof(child));
	for (l = 1; l < 4; l++) { /* the other three slots empty */
		memset(&b, 0, sizeof(b));
		patch_inode(ino,
		    offsetof(struct hammer2_inode_data, u) + 128 * l, &b,
		    sizeof(b));
	}
}

START_TEST(test_tree_too_deep)
{
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_pfs *p;
	uint8_t buf[4096];

	deep_chain(30);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), 0);
	ck_assert_int_eq(h2_namei(p, "big/random-1m.bin", 0, &ip), 0);
	ck_assert_int_eq(h2_read(ip, 0, buf, sizeof(buf)), -EIO);
	ck_assert_int_ge(h2t_log_count("tree too deep"), 1);
	h2_iput(ip);
	h2_pfs_close(p);
	h2_unmount(mp);
}
END_TEST

START_TEST(test_deep_but_allowed_tree_reads_holes)
{
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_pfs *p;
	uint8_t buf[4096], zero[4096] = { 0 };

	deep_chain(20);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), 0);
	ck_assert_int_eq(h2_namei(p, "big/random-1m.bin", 0, &ip), 0);
	memset(buf, 1, sizeof(buf));
	ck_assert_int_eq(h2_read(ip, 500000, buf, sizeof(buf)), sizeof(buf));
	ck_assert_mem_eq(buf, zero, sizeof(buf));
	h2_iput(ip);
	h2_pfs_close(p);
	h2_unmount(mp);
}
END_TEST

START_TEST(test_wrong_type_in_tree)
{
	int i = data_node("big/random-1m.bin", 7 * 65536);
	struct hammer2_blockref b = get_bref(i);

	b.type = HAMMER2_BREF_TYPE_FREEMAP_LEAF;
	put_bref(i, &b);
	expect_malformed("unexpected type");
	b.type = HAMMER2_BREF_TYPE_DIRENT;
	b.keybits = 0;
	put_bref(i, &b);
	expect_malformed("file block is not DATA");
}
END_TEST

START_TEST(test_bad_logical_sizes)
{
	int i = data_node("big/random-1m.bin", 8 * 65536);
	struct hammer2_blockref b = get_bref(i);

	b.keybits = 15; /* 64 KiB stored, 32 KiB logical */
	put_bref(i, &b);
	expect_malformed("physical block larger than logical");
	b.keybits = 9;
	put_bref(i, &b);
	expect_malformed("bad logical block size");
}
END_TEST

START_TEST(test_unknown_methods)
{
	int i = data_node("big/random-1m.bin", 9 * 65536);
	struct hammer2_blockref b = get_bref(i);
	uint8_t m = b.methods;

	b.methods = HAMMER2_ENC_CHECK(9) | HAMMER2_DEC_COMP(m);
	put_bref(i, &b);
	expect_malformed("unknown check method");
	b.methods = HAMMER2_ENC_CHECK(HAMMER2_DEC_CHECK(m)) | 7;
	put_bref(i, &b);
	expect_malformed("unknown compression method");
}
END_TEST

/* ---- inodes ---- */

static void
inode_field(const char *path, size_t off, const void *val, size_t len,
    const char *why)
{
	int i = inode_node(path);

	patch_inode(i, off, val, len);
	expect_malformed(why);
	h2t_ov_reset(dev);
}

START_TEST(test_bad_inode_fields)
{
	uint64_t size = 600, inum;
	uint16_t w;
	uint8_t b;

	inode_field("tiny.txt", offsetof(struct hammer2_inode_meta, size),
	    &size, 8, "direct data larger than 512");
	w = 300;
	inode_field("tiny.txt", offsetof(struct hammer2_inode_meta, name_len),
	    &w, 2, "name longer than 256");
	b = 3;
	inode_field("sizes", offsetof(struct hammer2_inode_meta, type), &b, 1,
	    "unknown inode type");
	w = 2;
	inode_field("tiny.txt", offsetof(struct hammer2_inode_meta, version),
	    &w, 2, "unsupported inode version");
	b = HAMMER2_OPFLAG_DIRECTDATA;
	inode_field("sizes", offsetof(struct hammer2_inode_meta, op_flags), &b,
	    1, "direct data in a non-file inode");
	inum = path_inum("tiny.txt") + 100000;
	inode_field("tiny.txt", offsetof(struct hammer2_inode_meta, inum),
	    &inum, 8, "inode number differs from key");
}
END_TEST

START_TEST(test_pfs_root_damage)
{
	int i = h2t_find_pfs(&tree, "DATA");
	struct h2_mount *mp;
	struct h2_pfs *p;
	uint8_t b = HAMMER2_OBJTYPE_REGFILE;

	patch_inode(i, offsetof(struct hammer2_inode_meta, type), &b, 1);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), -EIO);
	ck_assert_int_ge(h2t_log_count("bad PFS root inode"), 1);
	h2_unmount(mp);
}
END_TEST

START_TEST(test_super_root_damage)
{
	struct h2_mount *mp;
	uint8_t b = HAMMER2_OBJTYPE_REGFILE;
	int i;

	for (i = 0; tree.t_nodes[i].n_parent != -1; i++)
		;
	patch_inode(i, offsetof(struct hammer2_inode_meta, type), &b, 1);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), -EIO);
	ck_assert_int_ge(h2t_log_count("super-root is not a directory"), 1);
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}
END_TEST

/* ---- names ---- */

static void
dirent_change(const char *dir, const char *name, const char *newname,
    int namlen, const char *why)
{
	int i = dirent_node(dir, name);
	struct hammer2_blockref b = get_bref(i);

	if (newname != NULL) {
		memset(b.check.buf, 0, sizeof(b.check.buf));
		memcpy(b.check.buf, newname, strlen(newname));
	}
	b.embed.dirent.namlen = (uint16_t)namlen;
	put_bref(i, &b);
	expect_malformed(why);
	h2t_ov_reset(dev);
}

START_TEST(test_bad_names)
{
	char l80[81];

	memset(l80, 'l', 80);
	l80[80] = '\0';
	dirent_change("sizes", "rand-511", "../etc", 6, "invalid name");
	dirent_change("sizes", "rand-511", "..", 2, "invalid name");
	dirent_change("sizes", "rand-511", "a\0b", 3, "invalid name");
	dirent_change("sizes", "rand-511", NULL, 0, "invalid name");
	dirent_change("names", l80, NULL, 300, "name longer than 256");
	/* An inline name claiming to be long has no name block. */
	dirent_change("names", "a.b-c_d~e", NULL, 100, "name block too small");
}
END_TEST

static int
count_entry(void *arg, const struct h2_dirent *de)
{
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_name_key_below_bit63)
{
	int i = dirent_node("d0", "d1"), n = 0;
	struct hammer2_blockref b = get_bref(i);
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_pfs *p;

	/* d0's only entry sits in the inode's own blockset. Moved below
	 * bit 63 it is no name at all: readdir and lookup do not see it. */
	ck_assert_uint_eq(tree.t_nodes[tree.t_nodes[i].n_parent].n_bref.type,
	    HAMMER2_BREF_TYPE_INODE);
	b.key &= ~HAMMER2_DIRHASH_VISIBLE;
	put_bref(i, &b);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), 0);
	ck_assert_int_eq(h2_namei(p, "d0/d1", 0, &ip), -ENOENT);
	ck_assert_int_eq(h2_namei(p, "d0", 0, &ip), 0);
	ck_assert_int_eq(h2_readdir(ip, 0, count_entry, &n), 0);
	ck_assert_int_eq(n, 0);
	h2_iput(ip);
	h2_pfs_close(p);
	h2_unmount(mp);
}
END_TEST

/* ---- compressed blocks ---- */

START_TEST(test_lz4_bad_length)
{
	int i = data_node("sizes/text-65537", 0);
	uint64_t at = tree.t_nodes[i].n_bref.data_off & HAMMER2_OFF_MASK;
	int32_t n = 0x7fffffff;

	ck_assert_uint_eq(HAMMER2_DEC_COMP(tree.t_nodes[i].n_bref.methods),
	    HAMMER2_COMP_LZ4);
	h2t_ov_poke(dev, at, &n, 4);
	h2t_reseal(dev, &tree, i);
	expect_malformed("length prefix out of range");
}
END_TEST

START_TEST(test_lz4_garbage)
{
	int i = data_node("sizes/text-65537", 0);
	uint64_t at = tree.t_nodes[i].n_bref.data_off & HAMMER2_OFF_MASK;
	uint8_t junk[512];
	struct outcome o;

	memset(junk, 0xEE, sizeof(junk));
	h2t_ov_poke(dev, at + 4, junk, sizeof(junk));
	h2t_reseal(dev, &tree, i);
	expect_malformed("corrupt LZ4 data");
	walk(&o);
	ck_assert_uint_ge(o.o_st.st_decomp_fail, 1);
}
END_TEST

START_TEST(test_lz4_output_larger_than_logical)
{
	int i = data_node("sizes/text-65537", 0);
	struct hammer2_blockref b = get_bref(i);

	b.keybits = 12; /* 64 KiB of text cannot decode into 4 KiB */
	put_bref(i, &b);
	expect_malformed("corrupt LZ4 data");
}
END_TEST

START_TEST(test_zlib_garbage)
{
	int i = data_node("sizes/text-65537", 0);
	uint64_t at = tree.t_nodes[i].n_bref.data_off & HAMMER2_OFF_MASK;
	uint8_t junk[64];

	ck_assert_uint_eq(HAMMER2_DEC_COMP(tree.t_nodes[i].n_bref.methods),
	    HAMMER2_COMP_ZLIB);
	memset(junk, 0x5A, sizeof(junk));
	h2t_ov_poke(dev, at + 10, junk, sizeof(junk));
	h2t_reseal(dev, &tree, i);
	expect_malformed("does not decode");
}
END_TEST

START_TEST(test_zlib_truncated)
{
	int i = data_node("sizes/text-65537", 0);
	struct hammer2_blockref b = get_bref(i);

	/* Only the first 1 KiB of the stream. */
	b.data_off = (b.data_off & HAMMER2_OFF_MASK) | 10;
	put_bref(i, &b);
	h2t_reseal(dev, &tree, i);
	expect_malformed("does not decode");
}
END_TEST

/* ---- every method reads back ---- */

/* The 64 KiB logical block of a file at key, through the library. */
static void
logical_block(const char *path, uint64_t key, uint8_t *out)
{
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_pfs *p;

	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), 0);
	ck_assert_int_eq(h2_namei(p, path, 0, &ip), 0);
	ck_assert_int_eq(h2_read(ip, key, out, 65536), 65536);
	h2_iput(ip);
	h2_pfs_close(p);
	h2_unmount(mp);
}

static size_t
encode(int comp, const uint8_t *in, uint8_t *out, size_t cap)
{
	uLongf zlen = cap;
	int32_t n;
	size_t r;

	switch (comp) {
	case HAMMER2_COMP_LZ4:
		n = LZ4_compress_default((const char *)in, (char *)out + 4,
		    65536, (int)cap - 4);
		memcpy(out, &n, 4);
		return (size_t)n + 4;
	case HAMMER2_COMP_ZLIB:
		ck_assert_int_eq(compress2(out, &zlen, in, 65536, 6), Z_OK);
		return zlen;
	case HAMMER2_COMP_DF_ZSTD:
		r = ZSTD_compress(out, cap, in, 65536, 3);
		ck_assert(!ZSTD_isError(r));
		return r;
	default:
		memcpy(out, in, 65536);
		return 65536;
	}
}

START_TEST(test_every_method_reads_back)
{
	static const int comps[] = { HAMMER2_COMP_NONE, HAMMER2_COMP_LZ4,
		HAMMER2_COMP_ZLIB, HAMMER2_COMP_DF_ZSTD };
	static const int checks[] = { HAMMER2_CHECK_ISCSI32,
		HAMMER2_CHECK_XXHASH64, HAMMER2_CHECK_SHA192,
		HAMMER2_CHECK_NONE, HAMMER2_CHECK_DISABLED };
	uint8_t *logical = malloc(65536), *enc = malloc(2 * 65536);
	int i = data_node("sizes/text-65537", 0);
	struct hammer2_blockref b;
	struct outcome o;
	size_t c, k, len;

	logical_block("sizes/text-65537", 0, logical);
	for (c = 0; c < 4; c++) {
		for (k = 0; k < 5; k++) {
			b = get_bref(i);
			len = encode(comps[c], logical, enc, 2 * 65536);
			b.methods = (uint8_t)(HAMMER2_ENC_CHECK(checks[k]) |
			    HAMMER2_ENC_COMP(comps[c]));
			new_block(&b, enc, len);
			put_bref(i, &b);
			expect_file_exact("sizes/text-65537");
		}
		walk(&o);
		if (comps[c] != HAMMER2_COMP_NONE)
			ck_assert_uint_ge(o.o_st.st_decomp[comps[c]], 1);
	}
	expect_exact();
	free(logical);
	free(enc);
}
END_TEST

/* A flipped data bit is caught by every real check; with the check off
 * the bytes are returned unverified, by design. */
START_TEST(test_check_methods_catch_flips)
{
	static const int checks[] = { HAMMER2_CHECK_ISCSI32,
		HAMMER2_CHECK_SHA192, HAMMER2_CHECK_DISABLED };
	int i = data_node("big/random-1m.bin", 6 * 65536);
	struct hammer2_blockref b;
	struct outcome o;
	uint64_t at;
	size_t k;

	for (k = 0; k < 3; k++) {
		b = get_bref(i);
		b.methods = HAMMER2_ENC_CHECK(checks[k]);
		at = b.data_off & HAMMER2_OFF_MASK;
		{
			uint8_t *blk = malloc(65536);

			h2t_ov_peek(dev, at, blk, 65536);
			h2_bref_setcheck(&b, blk, 65536);
			free(blk);
		}
		put_bref(i, &b);
		expect_exact();
		h2t_ov_flip(dev, at + 777, 2);
		walk(&o);
		ck_assert_int_eq(o.o_v.v_missing, 0);
		if (checks[k] == HAMMER2_CHECK_DISABLED) {
			ck_assert_int_eq(o.o_v.v_errors, 0);
			ck_assert_int_eq(o.o_v.v_wrong, 1);
		} else {
			ck_assert_int_eq(o.o_v.v_errors, 1);
			ck_assert_int_eq(o.o_v.v_wrong, 0);
			ck_assert_uint_eq(o.o_st.st_check_fail, 1);
		}
		h2t_ov_reset(dev);
	}
}
END_TEST

START_TEST(test_autozero_block_reads_zero)
{
	int i = data_node("big/random-1m.bin", 2 * 65536);
	struct hammer2_blockref b = get_bref(i);
	uint8_t *blk = malloc(65536), *zero = calloc(1, 65536);
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_pfs *p;
	uint8_t edge[2];

	b.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_XXHASH64) |
	    HAMMER2_ENC_COMP(HAMMER2_COMP_AUTOZERO);
	b.data_off = 0;
	put_bref(i, &b);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), 0);
	ck_assert_int_eq(h2_namei(p, "big/random-1m.bin", 0, &ip), 0);
	memset(blk, 0xff, 65536);
	ck_assert_int_eq(h2_read(ip, 2 * 65536, blk, 65536), 65536);
	ck_assert_mem_eq(blk, zero, 65536);
	/* The neighbours are untouched random bytes. */
	ck_assert_int_eq(h2_read(ip, 2 * 65536 - 1, edge, 2), 2);
	ck_assert_uint_eq(edge[1], 0);
	h2_iput(ip);
	h2_pfs_close(p);
	h2_unmount(mp);
	free(blk);
	free(zero);
}
END_TEST

/* A block at the very top of the 64-bit key space reads back (no offset
 * arithmetic wraps). */
START_TEST(test_block_at_top_of_key_space)
{
	int i = data_node("sizes/text-65537", 0); /* a full 64 KiB block */
	int ino = inode_node("sizes/text-65537");
	struct hammer2_blockref b = get_bref(i);
	uint64_t size = HAMMER2_KEY_MAX, top = 0xFFFFFFFFFFFF0000ull;
	struct h2_mount *mp;
	struct h2_inode *ip;
	struct h2_pfs *p;
	uint8_t want[2], got[2];

	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), 0);
	ck_assert_int_eq(h2_namei(p, "sizes/text-65537", 0, &ip), 0);
	ck_assert_int_eq(h2_read(ip, 65534, want, 2), 2);
	h2_iput(ip);
	h2_pfs_close(p);
	h2_unmount(mp);
	b.key = top;
	put_bref(i, &b);
	patch_inode(ino, offsetof(struct hammer2_inode_meta, size), &size, 8);
	ck_assert_int_eq(h2_mount(dev, NULL, &mp), 0);
	ck_assert_int_eq(h2_pfs_open(mp, "DATA", &p), 0);
	ck_assert_int_eq(h2_namei(p, "sizes/text-65537", 0, &ip), 0);
	/* The last two bytes of the space (the file ends one short). */
	ck_assert_int_eq(h2_read(ip, HAMMER2_KEY_MAX - 1, got, 5), 1);
	ck_assert_uint_eq(got[0], want[0]);
	ck_assert_int_eq(h2_read(ip, top + 65534, got, 1), 1);
	ck_assert_uint_eq(got[0], want[0]);
	ck_assert_int_eq(h2_read(ip, 0, got, 1), 1);
	ck_assert_uint_eq(got[0], 0); /* the old place is a hole now */
	h2_iput(ip);
	h2_pfs_close(p);
	h2_unmount(mp);
}
END_TEST

static Suite *
malformed_suite(void)
{
	Suite *s = suite_create("h2_malformed");
	TCase *tc = tcase_create("lz4");
	TCase *tz = tcase_create("zlib");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reseal_alone_changes_nothing);
	tcase_add_test(tc, test_bad_radix);
	tcase_add_test(tc, test_block_outside_volume);
	tcase_add_test(tc, test_key_outside_parent);
	tcase_add_test(tc, test_key_misaligned);
	tcase_add_test(tc, test_siblings_overlap);
	tcase_add_test(tc, test_indirect_loop);
	tcase_add_test(tc, test_indirect_does_not_narrow);
	tcase_add_test(tc, test_tree_too_deep);
	tcase_add_test(tc, test_deep_but_allowed_tree_reads_holes);
	tcase_add_test(tc, test_wrong_type_in_tree);
	tcase_add_test(tc, test_bad_logical_sizes);
	tcase_add_test(tc, test_unknown_methods);
	tcase_add_test(tc, test_bad_inode_fields);
	tcase_add_test(tc, test_pfs_root_damage);
	tcase_add_test(tc, test_super_root_damage);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_name_key_below_bit63);
	tcase_add_test(tc, test_lz4_bad_length);
	tcase_add_test(tc, test_lz4_garbage);
	tcase_add_test(tc, test_lz4_output_larger_than_logical);
	tcase_add_test(tc, test_every_method_reads_back);
	tcase_add_test(tc, test_check_methods_catch_flips);
	tcase_add_test(tc, test_autozero_block_reads_zero);
	tcase_add_test(tc, test_block_at_top_of_key_space);
	tcase_add_checked_fixture(tz, setup_zlib, teardown);
	tcase_add_test(tz, test_zlib_garbage);
	tcase_add_test(tz, test_zlib_truncated);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tz);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(malformed_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
