/*
 * h2test.h: what the HAMMER2 tests share.
 *
 *  - An overlay device: a read-only image file seen through an in-memory
 *    copy-on-write layer of 64 KiB pages, so a test can flip bits, rewrite
 *    blocks and add volume headers without touching the image. It can also
 *    pretend to be larger than the file (reads past it return zeros) and
 *    fail the N-th read with -EIO.
 *  - A raw tree walker that records every blockref reachable from volume
 *    header 0, where each one is stored and which one holds it, without
 *    verifying anything; and h2t_reseal, which recomputes check codes from a
 *    changed block up to the volume header, so a test can plant malformed
 *    metadata that passes every check.
 *  - The reference MANIFEST and a walker that compares a PFS with it.
 *
 * Interface: every function returns 0 or a negative errno unless stated.
 * Images are found in H2_IMG_DIR, the MANIFEST in H2_REF_DIR (set by the
 * build).
 */
#ifndef HAMMER2_TEST_H2TEST_H
#define HAMMER2_TEST_H2TEST_H

#include <errno.h>
#include <stdint.h>

#include "hammer2/hammer2.h"

#define H2T_IMG_LZ4  "ref-lz4-xxhash64.img"
#define H2T_IMG_ZLIB "ref-zlib-iscsi32.img"
#define H2T_IMG_SNAP "ref-snapshot.img"

/* Full path of an image or reference file (static buffer per call site). */
const char *h2t_img(const char *name);
const char *h2t_ref(const char *name);

/* ---- overlay device ---- */

struct h2_dev *h2t_ov_open(const char *path, uint64_t vsize);
void h2t_ov_close(struct h2_dev *dev);
int h2t_ov_poke(struct h2_dev *dev, uint64_t off, const void *buf, size_t len);
int h2t_ov_peek(struct h2_dev *dev, uint64_t off, void *buf, size_t len);
void h2t_ov_flip(struct h2_dev *dev, uint64_t off, int bit);
/* An independent copy of the device as it is now (held writes aside). */
struct h2_dev *h2t_ov_clone(struct h2_dev *dev);
/* Drop every change made by poke/flip. */
void h2t_ov_reset(struct h2_dev *dev);
/* Fail the n-th read from now (1 = the next); 0 cancels. */
void h2t_ov_fail_read(struct h2_dev *dev, uint64_t n);
uint64_t h2t_ov_reads(struct h2_dev *dev);
/* Fail the n-th write from now (1 = the next) with -EIO; 0 cancels. */
void h2t_ov_fail_write(struct h2_dev *dev, uint64_t n);

/*
 * Power loss. In hold mode writes are kept back (reads see them) until a
 * flush makes them durable, as a disk's write cache does. h2t_ov_die_at(n)
 * kills the device at its n-th write or flush from now: that one and every
 * later write or flush fail. h2t_ov_cut then decides, seeded, what the
 * held writes did when the power went: each reached the media, was lost,
 * or was torn (a random subset of its 512-byte sectors landed); it
 * returns how many were torn and revives the device.
 */
void h2t_ov_hold(struct h2_dev *dev, int on);
void h2t_ov_die_at(struct h2_dev *dev, uint64_t n);
int h2t_ov_dead(struct h2_dev *dev);
uint64_t h2t_ov_cut(struct h2_dev *dev, uint64_t seed);
void h2t_ov_counts(struct h2_dev *dev, uint64_t *writes, uint64_t *flushes,
    uint64_t *held);

/* ---- raw tree ---- */

struct h2t_node {
	struct hammer2_blockref n_bref; /* as found by the walk */
	uint64_t n_loc; /* media offset where the blockref is stored */
	int n_parent;	/* node holding it, -1: the volume header */
	int n_owner;	/* nearest INODE node above, -1: none */
	int n_depth;
	uint64_t n_inum;  /* INODE nodes: the inode's number */
	uint8_t n_itype;  /* INODE nodes: the inode's type */
	uint8_t n_direct; /* INODE nodes: holds direct data */
	char
	    n_name[HAMMER2_INODE_MAXNAME + 1]; /* INODE filename, DIRENT name */
};

struct h2t_tree {
	struct h2t_node *t_nodes;
	int t_count;
	int t_cap;
};

int h2t_tree_build(struct h2_dev *dev, struct h2t_tree *t);
void h2t_tree_free(struct h2t_tree *t);
int h2t_bref_get(struct h2_dev *dev, const struct h2t_node *n,
    struct hammer2_blockref *bref);
int h2t_bref_put(struct h2_dev *dev, const struct h2t_node *n,
    const struct hammer2_blockref *bref);
/* Recompute the check of node idx's block, then of each block above it,
 * then the volume header CRCs. */
int h2t_reseal(struct h2_dev *dev, const struct h2t_tree *t, int idx);
/* Index of the INODE node with this number under PFS root node pfs
 * (pfs = -1: anywhere), or -1. */
int h2t_find_inode(const struct h2t_tree *t, int pfs, uint64_t inum);
/* Index of the PFS root INODE node with this name, or -1. */
int h2t_find_pfs(const struct h2t_tree *t, const char *name);
/* Is node idx below node anc? */
int h2t_below(const struct h2t_tree *t, int idx, int anc);

/* ---- MANIFEST ---- */

struct h2t_mentry {
	char me_type; /* 'f', 'd', 'l' */
	uint64_t me_size;
	uint8_t me_sha[32];
	char *me_path;
	char *me_target; /* symlinks */
	int me_seen;
};

struct h2t_manifest {
	struct h2t_mentry *m_ent;
	int m_count;
};

int h2t_manifest_load(struct h2t_manifest *m);
void h2t_manifest_free(struct h2t_manifest *m);
struct h2t_mentry *h2t_manifest_find(struct h2t_manifest *m, const char *path);

struct h2t_verify {
	int v_files; /* files whose bytes matched */
	int v_dirs;
	int v_links;
	int v_errors;  /* operations that failed with an error */
	int v_wrong;   /* wrong data or metadata returned: never allowed */
	int v_extra;   /* names not in the manifest */
	int v_missing; /* manifest entries not found (absent list excluded) */
	int v_lasterr;
};

/*
 * Walk pfs and compare with the manifest; absent is a NULL-terminated
 * list of manifest paths the PFS must not have (may be NULL).
 */
int h2t_verify_pfs(struct h2_pfs *pfs, struct h2t_manifest *m,
    const char *const *absent, struct h2t_verify *v);

/* ---- log capture ---- */

/* Start capturing log lines (stderr output is silenced meanwhile). */
void h2t_log_capture(void);
/* How many lines captured so far contain needle (NULL: all). */
int h2t_log_count(const char *needle);
/* Stop capturing and forget the lines. */
void h2t_log_stop(void);

/* ---- volumes in memory ---- */

/* A new volume (labels LOCAL and DATA, fixed ids) on an overlay of size
 * bytes over nothing; NULL on failure. */
struct h2_dev *h2t_mem_newfs(uint64_t size, uint8_t comp, uint8_t check);

struct h2t_vol {
	struct h2_dev *v_dev;
	struct h2_mount *v_mp;
	struct h2_pfs *v_pfs;
	struct h2_inode *v_root;
};

/* Mount dev (H2_MNT_* flags), open PFS pfs and its root directory. */
int h2t_vol_mount(struct h2t_vol *v, struct h2_dev *dev, unsigned flags,
    const char *pfs);
/* Drop the root, close the PFS, unmount (no flush). */
void h2t_vol_umount(struct h2t_vol *v);
/* fsck every header's tree: problems (and warnings if asked), printed;
 * (uint64_t)-1 if fsck could not run. */
uint64_t h2t_fsck_problems(struct h2_dev *dev, int warnings_too);
/* The inode at path (not following a final symlink), or NULL. */
struct h2_inode *h2t_path(struct h2_pfs *pfs, const char *path);

/* Read a whole file through the library (malloc'd, *lenp bytes). */
int h2t_read_all(struct h2_inode *ip, uint8_t **bufp, size_t *lenp);

#endif /* HAMMER2_TEST_H2TEST_H */
