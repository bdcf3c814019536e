/*
 * h2_internal.h: in-memory structures and helpers shared by the library's
 * files. Private to hammer2/ (tests may include it to inspect state).
 *
 * The in-memory picture of a mounted volume (see DESIGN.md, "The write
 * path"):
 *
 *  - Nodes (struct h2_node) are copies of metadata blocks: the volume
 *    header's super-root set (a pseudo node), inodes and indirect blocks.
 *    Each node knows its parent and the slot of its blockref there, and
 *    holds the nodes loaded below it by slot (n_kids). A node is loaded
 *    when an operation needs it (an inode handle, a modification) and
 *    dropped again by h2n_trim when it is clean and unpinned. A modified
 *    node is DIRTY; so are all its ancestors (each will need a new block).
 *    A dirty node's blockref in its parent is stale until the flush writes
 *    the node and copies its n_bref there; data_off and check of a dirty
 *    n_bref mean nothing until then.
 *  - Leaves (DATA, DIRENT) have no nodes: they are written to new blocks
 *    when created and their blockrefs are exact from the start.
 *  - Inode objects (struct h2_inode) are what h2_iget hands out: one per
 *    inode number per PFS, pinning the inode's node, holding its dirty file
 *    data (struct h2_dbuf) until written out.
 *  - The freemap is kept apart (struct h2_fmblk): leaves and nodes loaded
 *    on demand, written to their rotating reserved slots at flush.
 *
 * Lock order: none inside the library; a mount is used by one thread at a
 * time (hammer2.h). m_lock guards only the statistics.
 */
#ifndef HAMMER2_H2_INTERNAL_H
#define HAMMER2_H2_INTERNAL_H

#include <errno.h>
#include <stdio.h> /* snprintf only */
#include <string.h>

#include "hammer2/hammer2.h"

/*
 * Deepest indirect-block nesting accepted in one tree. Each level must
 * cover strictly fewer key bits than its parent, which already bounds a
 * walk at 64 levels; DragonFly never gets near this (a full 64-bit key
 * space needs about 11 levels of 32-entry blocks).
 */
#define H2_MAX_DEPTH 24

/* Largest count a read may return (ssize_t's range). */
#define H2_SSIZE_MAX ((size_t)-1 >> 1)

/* Metadata blocks kept verified in memory (direct-mapped by offset). */
#define H2_CACHE_SLOTS 64

/* Trim clean nodes when loaded node memory exceeds this. */
#define H2_NODE_BUDGET (32u << 20)
/* Dirty file blocks kept in memory per mount before writing the oldest. */
#define H2_DBUF_MAX 256

struct h2_cache_slot {
	hammer2_off_t cs_data_off; /* 0 = empty */
	uint8_t cs_methods;
	uint8_t cs_check[64]; /* the check code the bytes matched */
	uint32_t cs_len;
	void *cs_buf; /* HAMMER2_PBUFSIZE bytes */
};

/* ---- nodes ---- */

#define H2N_DIRTY  0x01 /* needs a new block at the next flush */
#define H2N_VOLUME 0x02 /* the volume header's super-root set (pseudo) */
#define H2N_SORTED 0x04 /* entries packed in slots 0..n_live-1, by key */

struct h2_node {
	struct h2_node *n_parent;	/* NULL: the volume node */
	struct h2_node **n_kids;	/* loaded children by slot, or NULL */
	struct hammer2_blockref n_bref; /* as it will be in the parent */
	void *n_data;			/* the block (VOLUME: not owned) */
	uint32_t n_bytes;		/* size of n_data */
	uint16_t n_count;		/* blockref slots in n_data */
	uint16_t n_live;		/* entries (valid with H2N_SORTED) */
	uint16_t n_slot;		/* our slot in n_parent */
	uint16_t n_flags;		/* H2N_* */
	uint32_t n_nkids;		/* loaded children */
	int n_refs;			/* pins (inode objects, the mount) */
};

/* ---- inode objects ---- */

struct h2_dbuf {
	struct h2_dbuf *db_next;	     /* the inode's list */
	struct h2_dbuf *db_mnext, *db_mprev; /* the mount's FIFO */
	struct h2_inode *db_ip;
	hammer2_key_t db_lbase;
	uint8_t *db_data; /* HAMMER2_PBUFSIZE bytes, the logical block */
};

#define H2I_UNLINKED 0x01 /* nlinks reached 0 while open: destroy at put */
#define H2I_DEAD     0x02 /* destroyed: no node, operations fail */

#define H2_IHASH     64

struct h2_inode {
	struct h2_pfs *i_pfs;
	struct h2_node *i_node; /* the inode's node (pinned), NULL if dead */
	struct h2_inode *i_hnext;
	hammer2_tid_t i_inum;
	int i_refs;
	unsigned i_flags;	 /* H2I_* */
	struct h2_dbuf *i_dbufs; /* dirty file blocks */
	int i_ndbufs;
};

struct h2_pfs {
	struct h2_mount *p_mp;
	struct h2_pfs *p_next;	  /* the mount's list */
	struct h2_inode *p_iroot; /* the PFS root inode (inum 1) */
	struct h2_inode *p_hash[H2_IHASH];
	int p_refs;    /* h2_pfs_open minus h2_pfs_close */
	int p_ninodes; /* inode handles out (h2_iget minus h2_iput) */
	int p_super;   /* the super-root's own object */
	char p_name[HAMMER2_INODE_MAXNAME + 1];
};

/* ---- the freemap ---- */

struct h2_fmblk {
	struct hammer2_blockref f_bref;
	struct h2_fmblk *f_parent; /* NULL: the volume's freemap_blockset */
	struct h2_fmblk *f_next;   /* all loaded blocks */
	void *f_data;		   /* HAMMER2_FREEMAP_LEVELN_PSIZE bytes */
	int f_dirty;
};

#define H2_HEUR_TYPES 8

struct h2_mount {
	struct h2_dev *m_dev;
	unsigned m_flags; /* H2_MNT_* */
	int m_zone;	  /* volume header in use (the last one written) */
	uint64_t m_limit; /* no block may extend past this offset */
	struct hammer2_volume_data *m_vol;
	int m_npfs; /* h2_pfs_open handles out */

	/* Guarded by m_lock. */
	struct h2p_lock m_lock;
	struct h2_stats m_stats;

	/* Used by one thread at a time, like the mount itself. */
	struct h2_cache_slot m_cache[H2_CACHE_SLOTS];
	char m_why[160]; /* the last problem found, for fsck reports */

	/* The tree in memory. */
	struct h2_node *m_vnode;  /* the volume (super-root set) */
	struct h2_inode *m_sroot; /* the super-root inode object */
	struct h2_pfs *m_spfs;	  /* the super-root's PFS object */
	struct h2_pfs *m_pfslist; /* open PFS objects */
	size_t m_node_bytes;	  /* memory held by loaded nodes */
	size_t m_node_budget;	  /* trim above this (H2_NODE_BUDGET) */
	uint64_t m_nnodes;
	int m_walks; /* h2_node_walk calls in progress: no trimming */

	/* Writing (H2_MNT_RDWR). */
	int m_error;	     /* the mount failed: modifications refused */
	hammer2_tid_t m_tid; /* the open transaction's id */
	int m_dirty;	     /* something changed since the last flush */
	struct h2_dbuf *m_dbhead, *m_dbtail; /* dirty file blocks, oldest 1st */
	int m_ndbufs;
	size_t m_dirty_bytes; /* bytes the next flush must allocate */
	struct h2_fmblk *m_fmlist;
	struct h2_fmblk **m_fmleaf; /* by 1 GiB zone, loaded leaves */
	uint64_t m_nzones;
	hammer2_off_t m_heur[H2_HEUR_TYPES]; /* allocation hints by type */
	int m_relaxed;
	uint8_t *m_cbuf;  /* HAMMER2_PBUFSIZE: compression output */
	uint8_t *m_zbuf;  /* HAMMER2_PBUFSIZE: scratch */
	void *m_lz4state; /* LZ4 compression state */
	void *m_zstd;	  /* ZSTD_CCtx */
	void *m_zlib;	  /* z_stream for deflate */
	int m_zlib_level;
	uint64_t m_flushes; /* transactions committed by this mount */
};

/* Counters. */
#define H2_STAT_ADD(mp, field, n)           \
	do {                                \
		h2p_lock(&(mp)->m_lock);    \
		(mp)->m_stats.field += (n); \
		h2p_unlock(&(mp)->m_lock);  \
	} while (0)

/* The last problem found on this mount (never NULL). */
const char *h2_last_problem(const struct h2_mount *mp);
void h2_set_problem(struct h2_mount *mp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report malformed metadata: log it, count it, return -EIO. */
int h2_malformed(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const char *what);

/* Read a block through the metadata cache (INODE, INDIRECT only). */
int h2_bref_read_meta(struct h2_mount *mp, const struct hammer2_blockref *bref,
    void *buf, size_t *lenp);
void h2_cache_free(struct h2_mount *mp);
/* Forget any cached copy of the block at off (it is being rewritten). */
void h2_cache_forget(struct h2_mount *mp, hammer2_off_t off);

/* Decode a DATA block's physical bytes into a logical buffer of cap bytes. */
int h2_decompress(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const void *src, size_t srclen, void *dst, size_t cap, size_t *outlen);
/*
 * Compress len bytes of src (a block of physical size len) with comp_algo
 * (method | level << 4) into mp->m_cbuf as DragonFly does: only when the
 * result fits in half the block. Returns the compressed block size (a
 * power of two >= 1 KiB, zero padded) or 0 to store the block as it is;
 * *methodp gets the method used. Negative errno on allocation failure.
 */
int h2_compress(struct h2_mount *mp, uint8_t comp_algo, const void *src,
    size_t len, int *methodp);
void h2_comp_free(struct h2_mount *mp);

/* Name of a DIRENT or INODE leaf (for directories and the super-root). */
int h2_leaf_name(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const struct h2_node *kid, struct h2_dirent *de);
int h2_name_valid(const char *name, size_t len);
/* h2_lookup without trimming. */
int h2_dir_lookup(struct h2_inode *dir, const char *name, size_t len,
    struct h2_dirent *de);

/* h2_tree_scan that also calls node_fn for each INDIRECT blockref before
 * descending into it (a non-zero return stops the walk). */
int h2_tree_walk(struct h2_mount *mp, const struct hammer2_blockref *base,
    int count, hammer2_key_t beg, hammer2_key_t end, h2_leaf_fn *fn,
    h2_leaf_fn *node_fn, void *arg);

/*
 * Walk the tree below node top (an inode or the volume node) as it is in
 * memory: loaded children are used in place of their (stale) media
 * blocks, the rest is read from the media. fn gets each leaf and, for an
 * INODE leaf, its loaded node (or NULL).
 */
typedef int h2_nleaf_fn(void *arg, const struct hammer2_blockref *bref,
    struct h2_node *kid);
int h2_node_walk(struct h2_mount *mp, struct h2_node *top, hammer2_key_t beg,
    hammer2_key_t end, h2_nleaf_fn *fn, void *arg);

/* Validate one level of blockrefs against its parent's range; fills idx
 * with the slots of the entries in key order and returns their number, or
 * -EIO (malformed) / -ENOMEM. */
int h2_level_index(struct h2_mount *mp, const struct hammer2_blockref *base,
    int count, hammer2_key_t pkey, int pbits, uint16_t *idx);
hammer2_key_t h2_range_last(hammer2_key_t key, int keybits);

/* Validate an inode's fields (NULL when acceptable). */
const char *h2_inode_problem(const struct hammer2_inode_meta *m);

/* ---- nodes (h2_node.c) ---- */

/* The node's blockref array (NULL and 0 for a direct-data inode). */
struct hammer2_blockref *h2n_base(struct h2_node *n);
/* Key range of the node's array. */
void h2n_range(const struct h2_node *n, hammer2_key_t *keyp, int *bitsp);
/* The loaded child at slot, loading it from the media if needed. */
int h2n_kid(struct h2_mount *mp, struct h2_node *n, int slot,
    struct h2_node **kidp);
/* Load the inode node below the volume node at slot (mount time). */
int h2n_load_inode(struct h2_mount *mp, struct h2_node *parent, int slot,
    struct h2_node **kidp);
struct h2_node *h2n_alloc(struct h2_mount *mp,
    const struct hammer2_blockref *bref, size_t bytes);
/* Free n and every loaded node below it (none may be pinned). */
void h2n_free_tree(struct h2_mount *mp, struct h2_node *n);
/* Mark n and its ancestors dirty (n's content or blockref changed). */
void h2n_dirty(struct h2_mount *mp, struct h2_node *n);
/* Sort and pack n's entries (and children) so they can be modified. */
void h2n_sort(struct h2_node *n);
/*
 * Find the leaf entry covering key below top: *np and *slotp name it (the
 * nodes on the way are loaded). -ENOENT when no leaf covers key.
 */
int h2n_find(struct h2_mount *mp, struct h2_node *top, hammer2_key_t key,
    struct h2_node **np, int *slotp);
/*
 * Insert a leaf blockref below top, splitting full levels into new
 * indirect blocks as DragonFly does. fix (may be NULL) is called with the
 * node that receives the entry before it is stored, to set methods and
 * check codes that depend on it. *np and *slotp name the new entry.
 * -EEXIST if an entry with that key exists.
 */
typedef int h2n_fix_fn(void *arg, struct h2_node *parent,
    struct hammer2_blockref *bref);
int h2n_insert(struct h2_mount *mp, struct h2_node *top,
    const struct hammer2_blockref *bref, h2n_fix_fn *fix, void *arg,
    struct h2_node **np, int *slotp);
/* Insert a loaded node (a new inode) as a leaf below top. */
int h2n_insert_node(struct h2_mount *mp, struct h2_node *top,
    struct h2_node *kid);
/* Remove the entry at slot of n (freeing any loaded subtree of it); an
 * indirect block left empty is removed from its parent too. */
void h2n_delete(struct h2_mount *mp, struct h2_node *n, int slot);
/*
 * Flush time, n dirty with its children already written: fold indirect
 * block n into its parent (entries and loaded children move up, n is
 * freed) when they fit, or drop it when empty. 1 if n is gone, else 0.
 * The parent's slots change. Never during a walk.
 */
int h2n_fold(struct h2_mount *mp, struct h2_node *n);
/* Detach a loaded node from its parent's array without freeing it. */
void h2n_detach(struct h2_mount *mp, struct h2_node *kid);
/* Drop clean, unpinned nodes while over budget (never while a walk is in
 * progress: its callbacks may call h2_iput, and the walk holds nodes). */
void h2n_trim(struct h2_mount *mp, int all);

/* ---- inodes (h2_inode.c) ---- */

static inline struct hammer2_inode_data *
h2i_data(const struct h2_inode *ip)
{
	return ip->i_node->n_data;
}

/* h2_iget and h2_iput without trimming nodes (for use inside operations
 * that hold node pointers). */
int h2i_get(struct h2_pfs *pfs, hammer2_tid_t inum, struct h2_inode **ipp);
void h2i_put(struct h2_inode *ip);
/* The inode object for node (creating it), with a reference. */
int h2i_get_node(struct h2_pfs *pfs, struct h2_node *node,
    struct h2_inode **ipp);
/* Drop the memory of an unreferenced inode object with no dirty data. */
void h2i_release(struct h2_inode *ip);
/* Destroy an inode: take it out of the index and forget its data. */
void h2i_destroy(struct h2_inode *ip);
/* Mark the inode's node modified. */
void h2i_modify(struct h2_inode *ip);
/* The mount-level time stamp for new metadata (microseconds). */
uint64_t h2_now_us(void);
/* Next inode number of a PFS (recorded in its root's pfs_inum). */
hammer2_tid_t h2i_new_inum(struct h2_pfs *pfs);
/* The first free directory key at or above hash in top's tree (DragonFly's
 * collision scan): -ENOSPC when all 32768 are taken. */
int h2_free_lhc(struct h2_mount *mp, struct h2_node *top, hammer2_key_t hash,
    hammer2_key_t *lhcp);
/* Find a PFS root by name in the super-root (the node, loaded). */
int h2_pfs_find(struct h2_mount *mp, const char *name, size_t len,
    struct h2_node **np, int *slotp);
/* Write out every dirty file block of every open PFS. */
int h2_pfs_writeout(struct h2_mount *mp);
/* Release unreferenced clean inode objects and PFS objects. */
void h2_pfs_gc(struct h2_mount *mp);

/* ---- file data (h2_file.c, h2_write.c) ---- */

/* File bytes [off, off + len) as the tree holds them (zeros in holes),
 * without the dirty blocks. */
int h2_read_tree(struct h2_inode *ip, uint64_t off, uint8_t *buf, size_t len);

/* h2_write for any file-like inode (symlink targets too). */
ssize_t h2_file_write(struct h2_inode *ip, uint64_t off, const void *buf,
    size_t len);
int h2_dbuf_writeout(struct h2_mount *mp, struct h2_dbuf *db);
void h2_dbuf_drop_all(struct h2_inode *ip);
int h2_inode_writeout(struct h2_inode *ip);
/* Overlay dirty blocks of ip on buf (file bytes [off, off+len)). */
void h2_dbuf_overlay(struct h2_inode *ip, uint64_t off, uint8_t *buf,
    size_t len);

/* ---- allocation and the freemap (h2_freemap.c) ---- */

int h2_fm_init(struct h2_mount *mp);
void h2_fm_free(struct h2_mount *mp);
/* Allocate bytes (1 KiB..64 KiB, a power of two) for a block of type
 * (key: its key, a placement hint); *offp gets the data_off (offset and
 * size radix). */
int h2_alloc(struct h2_mount *mp, int type, size_t bytes, hammer2_key_t key,
    hammer2_off_t *offp);
/* Return a block allocated in the open transaction (never flushed). */
void h2_free_new(struct h2_mount *mp, hammer2_off_t data_off);
/* Write the dirty freemap blocks to their next rotating slots. */
int h2_fm_flush(struct h2_mount *mp);
/* Freemap leaf of the 1 GiB zone holding off (loaded, or NULL if none
 * exists); create = 1 creates a missing one. */
int h2_fm_leaf(struct h2_mount *mp, hammer2_off_t off, int create,
    struct h2_fmblk **lp);
void h2_fm_dirty(struct h2_fmblk *f);
/* Mount-time recovery when freemap_tid is behind mirror_tid: mark every
 * reachable block allocated, then commit (h2_bulkfree.c). */
int h2_fm_recover(struct h2_mount *mp);

/* ---- transactions (h2_flush.c) ---- */

/* Check that the mount may be modified: 0, -EROFS or the failure. */
int h2_writable(struct h2_mount *mp);
/* An operation failed half-way: refuse further modifications. */
int h2_fail(struct h2_mount *mp, int error);
/* Enough free space for an operation needing about bytes more? */
int h2_space(struct h2_mount *mp, uint64_t bytes);
/* Write a new block of a leaf (DATA, DIRENT name) and fill bref. */
int h2_write_block(struct h2_mount *mp, struct hammer2_blockref *bref,
    const void *data, size_t bytes);

/* ---- small helpers ---- */

static inline size_t
h2_bref_bytes(const struct hammer2_blockref *bref)
{
	int radix = bref->data_off & HAMMER2_OFF_MASK_RADIX;

	return radix ? (size_t)1 << radix : 0;
}

/* log2 of the smallest power of two >= bytes, at least 10 (1 KiB). */
static inline int
h2_radix(size_t bytes)
{
	int r = HAMMER2_RADIX_MIN;

	while (((size_t)1 << r) < bytes)
		r++;
	return r;
}

/* The directory hash used by the write path (tests may replace it). */
extern hammer2_key_t (*h2_dirhash_fn)(const char *name, size_t len);

#endif /* HAMMER2_H2_INTERNAL_H */
