/*
 * h2_internal.h: in-memory structures and helpers shared by the library's
 * files. Private to hammer2/ (tests may include it to inspect state).
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

struct h2_cache_slot {
	hammer2_off_t cs_data_off; /* 0 = empty */
	uint8_t cs_methods;
	uint8_t cs_check[64]; /* the check code the bytes matched */
	uint32_t cs_len;
	void *cs_buf; /* HAMMER2_PBUFSIZE bytes */
};

struct h2_mount {
	struct h2_dev *m_dev;
	unsigned m_flags; /* H2_MNT_* */
	int m_zone;	  /* volume header in use */
	uint64_t m_limit; /* no block may extend past this offset */
	struct hammer2_volume_data *m_vol;
	struct hammer2_blockref m_sroot_bref;
	struct hammer2_inode_data m_sroot; /* super-root inode */
	int m_npfs;			   /* open PFSs */

	/* Guarded by m_lock. */
	struct h2p_lock m_lock;
	struct h2_stats m_stats;

	/* Used by one thread at a time, like the mount itself. */
	struct h2_cache_slot m_cache[H2_CACHE_SLOTS];
	char m_why[160]; /* the last problem found, for fsck reports */
};

struct h2_pfs {
	struct h2_mount *p_mp;
	struct hammer2_blockref p_bref;	  /* in the super-root */
	struct hammer2_inode_data p_root; /* PFS root inode */
	int p_ninodes;			  /* inode handles open */
};

struct h2_inode {
	struct h2_pfs *i_pfs;
	struct hammer2_blockref i_bref;
	struct hammer2_inode_data i_data;
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

/* Decode a DATA block's physical bytes into a logical buffer of cap bytes. */
int h2_decompress(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const void *src, size_t srclen, void *dst, size_t cap, size_t *outlen);

/* Name of a DIRENT or INODE leaf (for directories and the super-root). */
int h2_leaf_name(struct h2_mount *mp, const struct hammer2_blockref *bref,
    struct h2_dirent *de);
int h2_name_valid(const char *name, size_t len);

/* h2_tree_scan that also calls node_fn for each INDIRECT blockref before
 * descending into it (a non-zero return stops the walk). */
int h2_tree_walk(struct h2_mount *mp, const struct hammer2_blockref *base,
    int count, hammer2_key_t beg, hammer2_key_t end, h2_leaf_fn *fn,
    h2_leaf_fn *node_fn, void *arg);

/* Inode lookup by number inside a PFS. */
int h2_inode_find(struct h2_pfs *pfs, hammer2_tid_t inum,
    struct hammer2_blockref *bref, struct hammer2_inode_data *ip);

static inline size_t
h2_bref_bytes(const struct hammer2_blockref *bref)
{
	int radix = bref->data_off & HAMMER2_OFF_MASK_RADIX;

	return radix ? (size_t)1 << radix : 0;
}

#endif /* HAMMER2_H2_INTERNAL_H */
