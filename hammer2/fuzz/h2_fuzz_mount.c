/*
 * libFuzzer harness for the mount-and-walk path (and fsck).
 *
 * Random bytes make poor HAMMER2 volumes: every block is guarded by a check
 * code, so almost every input would stop at the first CRC. Instead the
 * input is a list of edits to a valid reference image, applied through the
 * test overlay device, and (unless the input says otherwise) the check
 * codes are recomputed from each edited block up to the volume header. The
 * fuzzer so reaches the structural validation behind the checks: radix,
 * keys, ranges, loops, inode fields, names, compressed payloads.
 *
 * Input: byte 0 holds flags (bit 0: do not reseal, bit 1: mount with
 * H2_MNT_NOVERIFY, bit 2: also run h2_fsck); then 8-byte records
 *   u32 selector  which blockref (index into the raw tree, modulo)
 *   u16 offset    where
 *   u8  value
 *   u8  kind      0: set a byte of the block, 1: of the blockref,
 *                 2: xor a byte of the block, 3: of the blockref
 * The walk reads every PFS: every directory, inode, file
 * and symlink (files up to 128 KiB, plus 64 KiB from a third of the way),
 * with a depth bound. It aborts on a leak.
 *
 * The image comes from $H2_FUZZ_IMAGE, else the build tree's copy of
 * ref-lz4-xxhash64.img. Run e.g.:  h2_fuzz_mount -max_total_time=60
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

#define MAX_FILE  (128u << 10)
#define MAX_DEPTH 40

static struct h2_dev *dev;
static struct h2t_tree tree;
static uint8_t *filebuf;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *img = getenv("H2_FUZZ_IMAGE");

	if (img == NULL)
		img = h2t_img(H2T_IMG_LZ4);
	if ((dev = h2t_ov_open(img, 0)) == NULL ||
	    h2t_tree_build(dev, &tree) != 0 || tree.t_count == 0) {
		fprintf(stderr, "h2_fuzz_mount: cannot load %s\n", img);
		exit(1);
	}
	filebuf = malloc(MAX_FILE);
	h2_host_log_level(-1);
	return 0;
}

static void
edit(const uint8_t *r, int reseal)
{
	uint32_t sel;
	uint16_t off;
	struct h2t_node *n;
	uint64_t at, len;
	uint8_t v;

	memcpy(&sel, r, 4);
	memcpy(&off, r + 4, 2);
	n = &tree.t_nodes[sel % (uint32_t)tree.t_count];
	if (r[7] & 1) {
		at = n->n_loc + off % HAMMER2_BLOCKREF_BYTES;
	} else {
		len = 0;
		if (n->n_bref.data_off & 63)
			len = 1ull << (n->n_bref.data_off & 63);
		if (len == 0 || len > HAMMER2_PBUFSIZE)
			return;
		at = (n->n_bref.data_off & HAMMER2_OFF_MASK) + off % len;
	}
	v = r[6];
	if (r[7] & 2) {
		uint8_t old;

		h2t_ov_peek(dev, at, &old, 1);
		v ^= old;
	}
	h2t_ov_poke(dev, at, &v, 1);
	if (reseal)
		h2t_reseal(dev, &tree,
		    (r[7] & 1) ? n->n_parent : (int)(n - tree.t_nodes));
}

struct fw {
	struct h2_pfs *fw_pfs;
	int fw_depth;
};

static int walk_dir(struct fw *w, struct h2_inode *dir);

static int
walk_entry(void *arg, const struct h2_dirent *de)
{
	struct fw *w = arg;
	struct h2_inode *ip;
	uint64_t size;

	if (h2_iget(w->fw_pfs, de->d_inum, &ip) != 0)
		return 0;
	switch (h2_idata(ip)->meta.type) {
	case HAMMER2_OBJTYPE_DIRECTORY:
		if (w->fw_depth < MAX_DEPTH)
			walk_dir(w, ip);
		break;
	case HAMMER2_OBJTYPE_SOFTLINK:
		h2_readlink(ip, (char *)filebuf, 4096);
		break;
	default:
		size = h2_idata(ip)->meta.size;
		h2_read(ip, 0, filebuf, size < MAX_FILE ? size : MAX_FILE);
		h2_read(ip, size / 3, filebuf, 70000);
		break;
	}
	h2_iput(ip);
	return 0;
}

static int
walk_dir(struct fw *w, struct h2_inode *dir)
{
	w->fw_depth++;
	h2_readdir(dir, 0, walk_entry, w);
	w->fw_depth--;
	return 0;
}

static int
walk_pfs(void *arg, const struct h2_pfs_info *pi)
{
	struct h2_mount *mp = arg;
	struct fw w = { NULL, 0 };
	struct h2_inode *root, *ip;

	if (h2_pfs_open(mp, pi->pi_name, &w.fw_pfs) != 0)
		return 0;
	if (h2_iget(w.fw_pfs, h2_pfs_root(w.fw_pfs)->meta.inum, &root) == 0) {
		walk_dir(&w, root);
		h2_iput(root);
	}
	if (h2_namei(w.fw_pfs, "d0/d1/../d1/d2/x", H2_NAMEI_FOLLOW, &ip) == 0)
		h2_iput(ip);
	h2_pfs_close(w.fw_pfs);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h2_mount_opts mo = { H2_ZONE_BEST, 0 };
	uint64_t live = h2_host_alloc_live();
	struct h2_fsck_result res;
	struct h2_mount *mp;
	size_t i;

	if (size < 1)
		return 0;
	h2t_ov_reset(dev);
	for (i = 1; i + 8 <= size && i < 1 + 8 * 64; i += 8)
		edit(data + i, !(data[0] & 1));
	if (data[0] & 2)
		mo.mo_flags = H2_MNT_NOVERIFY;
	if (h2_mount(dev, &mo, &mp) == 0) {
		h2_pfs_foreach(mp, walk_pfs, mp);
		h2_unmount(mp);
	}
	if (data[0] & 4)
		h2_fsck(dev, 0, NULL, NULL, &res);
	if (h2_host_alloc_live() != live) {
		fprintf(stderr, "h2_fuzz_mount: leaked %llu allocations\n",
		    (unsigned long long)(h2_host_alloc_live() - live));
		abort();
	}
	return 0;
}
