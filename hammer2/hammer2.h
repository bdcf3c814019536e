/*
 * hammer2.h: the HAMMER2 library's contract (prefix h2_).
 *
 * This is the read path of DragonFly BSD's HAMMER2 as a portable library:
 * mount a volume from the best of its volume headers, list the PFSs under
 * the super-root, open a PFS, look up paths, read directories, files and
 * symlinks. Every block is verified against its check code before any byte
 * of it is used, and every field read from the media is validated; a volume
 * that fails either yields an error (-EIO), never wrong data, a crash or a
 * hang. The rules for what counts as malformed are in hammer2/DESIGN.md.
 *
 * Objects: a struct h2_mount holds one mounted volume and its chosen
 * volume header; a struct h2_pfs one open PFS (its root inode); a struct
 * h2_inode a copy of one inode (1024 bytes) read from the media. Handles
 * hold no locks and pin no buffers; they stay valid until released.
 *
 * Interface:
 *  - Functions return 0 or a negative errno; read-style functions return a
 *    byte count or a negative errno. Errors used: -EIO (a check failed or
 *    metadata is malformed), -ENOENT, -ENOTDIR, -EISDIR, -EINVAL (bad
 *    argument), -ENAMETOOLONG, -ELOOP, -ENOMEM, -EOPNOTSUPP (a valid
 *    feature this library does not implement, e.g. multiple volumes).
 *  - The device must outlive the mount; the mount must outlive its PFSs,
 *    and each PFS its inodes. h2_pfs_close and h2_unmount assert that.
 *  - A mount may be used by one thread at a time; statistics are the only
 *    state shared behind a lock.
 *  - Callbacks (h2_pfs_foreach, h2_readdir) return 0 to continue, a
 *    positive value to stop (returned to the caller), a negative errno to
 *    abort (also returned).
 */
#ifndef HAMMER2_HAMMER2_H
#define HAMMER2_HAMMER2_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hammer2/hammer2_disk.h"
#include "hammer2/hammer2_platform.h"

struct h2_mount;
struct h2_pfs;
struct h2_inode;

/* ---- Mounting ---- */

#define H2_ZONE_BEST (-1)

struct h2_mount_opts {
	int mo_zone;	   /* volume header to use: H2_ZONE_BEST or 0..3 */
	unsigned mo_flags; /* H2_MNT_* */
};

/*
 * H2_MNT_NOVERIFY skips check-code verification (structure is still
 * validated). It exists for the fuzzer and for salvage; never for normal
 * use.
 */
#define H2_MNT_NOVERIFY 0x1

int h2_mount(struct h2_dev *dev, const struct h2_mount_opts *mo,
    struct h2_mount **mpp);
void h2_unmount(struct h2_mount *mp);
const struct hammer2_volume_data *h2_mount_volhdr(const struct h2_mount *mp);
int h2_mount_zone(const struct h2_mount *mp);
struct h2_dev *h2_mount_dev(const struct h2_mount *mp);

/* Counters; each only grows. */
struct h2_stats {
	uint64_t st_blocks_read; /* blocks read from the device */
	uint64_t st_bytes_read;
	uint64_t st_check_ok;	 /* blocks whose check code matched */
	uint64_t st_check_fail;	 /* blocks whose check code did not */
	uint64_t st_malformed;	 /* metadata rejected by validation */
	uint64_t st_unsorted;	 /* blockref arrays not in key order */
	uint64_t st_io_errors;	 /* device read errors */
	uint64_t st_decomp[16];	 /* blocks decompressed, by method */
	uint64_t st_decomp_fail; /* compressed blocks that did not decode */
	uint64_t st_inodes;	 /* inodes loaded */
	uint64_t st_cache_hits;	 /* metadata block cache */
	uint64_t st_cache_misses;
};
void h2_mount_stats(struct h2_mount *mp, struct h2_stats *st);

/* ---- Volume headers (no mount needed) ---- */

/* Check magic and the three CRCs; 0, or -EINVAL with *why set. */
int h2_volhdr_verify(const struct hammer2_volume_data *vd, const char **why);
/* Read and verify header copy zone (0..3): 0, -ENOENT (beyond the
 * device), -EIO or -EINVAL. */
int h2_volhdr_read(struct h2_dev *dev, int zone,
    struct hammer2_volume_data *vd);
/* Compute the three CRCs of a header about to be written. */
void h2_volhdr_seal(struct hammer2_volume_data *vd);

/* ---- Blocks ---- */

/*
 * Read the block bref points at into buf, verify
 * it against its check code and set *lenp to its physical size (0 when the
 * blockref has no data). buf must hold the block's physical size: never
 * more than HAMMER2_PBUFSIZE, exactly HAMMER2_INODE_BYTES for an inode and
 * HAMMER2_FREEMAP_LEVELN_PSIZE for a freemap block (others are refused
 * before reading). Fails with -EIO on an I/O error, a check mismatch
 * (logged, naming the block) or an impossible offset or size.
 */
int h2_bref_read(struct h2_mount *mp, const struct hammer2_blockref *bref,
    void *buf, size_t *lenp);
/* Verify data against bref's check code: 0, -EIO, or -EINVAL for a method
 * that cannot be checked. */
int h2_bref_check(const struct hammer2_blockref *bref, const void *data,
    size_t len);
/* Set bref's check code (method taken from bref->methods) over data. */
void h2_bref_setcheck(struct hammer2_blockref *bref, const void *data,
    size_t len);

/*
 * Visit, in key order, the leaves (blockrefs other than INDIRECT) of the
 * tree whose top level is base[0..count), restricted to keys in
 * [beg, end]. The top level covers the whole key space. Indirect blocks are
 * read, verified and validated on the way (see DESIGN.md).
 */
typedef int h2_leaf_fn(void *arg, const struct hammer2_blockref *bref);
int h2_tree_scan(struct h2_mount *mp, const struct hammer2_blockref *base,
    int count, hammer2_key_t beg, hammer2_key_t end, h2_leaf_fn *fn, void *arg);

/* Read an INODE blockref's inode into *ip and validate it. */
int h2_inode_load(struct h2_mount *mp, const struct hammer2_blockref *bref,
    struct hammer2_inode_data *ip);

/* ---- PFSs ---- */

struct h2_pfs_info {
	char pi_name[HAMMER2_INODE_MAXNAME + 1];
	const struct hammer2_blockref *pi_bref;	   /* in the super-root */
	const struct hammer2_inode_data *pi_inode; /* the PFS root inode */
};
typedef int h2_pfs_fn(void *arg, const struct h2_pfs_info *pi);
int h2_pfs_foreach(struct h2_mount *mp, h2_pfs_fn *fn, void *arg);
int h2_pfs_open(struct h2_mount *mp, const char *name, struct h2_pfs **pfsp);
void h2_pfs_close(struct h2_pfs *pfs);
const struct hammer2_inode_data *h2_pfs_root(const struct h2_pfs *pfs);
/* The super-root inode itself. */
const struct hammer2_inode_data *h2_sroot(const struct h2_mount *mp);

/* ---- Inodes and names ---- */

int h2_iget(struct h2_pfs *pfs, hammer2_tid_t inum, struct h2_inode **ipp);
void h2_iput(struct h2_inode *ip);
const struct hammer2_inode_data *h2_idata(const struct h2_inode *ip);
const struct hammer2_blockref *h2_ibref(const struct h2_inode *ip);

struct h2_dirent {
	hammer2_key_t d_key; /* directory key; resume a scan at d_key + 1 */
	hammer2_tid_t d_inum;
	uint8_t d_type; /* HAMMER2_OBJTYPE_* */
	uint16_t d_namlen;
	char d_name[HAMMER2_INODE_MAXNAME + 1]; /* NUL-terminated */
};

/* Look up one name in directory dir. */
int h2_lookup(struct h2_inode *dir, const char *name, size_t len,
    struct h2_dirent *de);

/*
 * Resolve path inside pfs (leading '/' optional; "." and ".." handled;
 * symlinks in the middle followed, at most H2_MAXSYMLINKS). The final
 * component is followed only with H2_NAMEI_FOLLOW.
 */
#define H2_NAMEI_FOLLOW 0x1
#define H2_MAXSYMLINKS	32
#define H2_PATH_MAX	4096
int h2_namei(struct h2_pfs *pfs, const char *path, unsigned flags,
    struct h2_inode **ipp);

/* Entries of dir with key >= start, in key order ("." and ".." are not
 * stored and not reported). */
typedef int h2_dirent_fn(void *arg, const struct h2_dirent *de);
int h2_readdir(struct h2_inode *dir, hammer2_key_t start, h2_dirent_fn *fn,
    void *arg);

/* Read file (or symlink) bytes; returns bytes read (0 at EOF). */
ssize_t h2_read(struct h2_inode *ip, uint64_t off, void *buf, size_t len);
/* Symlink target, not terminated; returns its length. */
ssize_t h2_readlink(struct h2_inode *ip, char *buf, size_t len);

/* ---- Checking a volume (fsck) ---- */

/*
 * h2_fsck verifies a volume offline: every volume header copy; the freemap
 * tree; every block reachable from the super-root (check code, size,
 * position, that it decodes, that the freemap marks it allocated); the tree
 * structure; every inode and directory entry (names, hashes, types); and
 * per PFS that directories and inodes agree (no dangling entries, no
 * directory reached twice or in a cycle, link counts, parent numbers).
 * Problems make a volume unclean; warnings (e.g. an inode no directory
 * names, which a crash with an open unlinked file leaves) do not.
 */
#define H2_FSCK_PROBLEM	 0
#define H2_FSCK_WARNING	 1
#define H2_FSCK_INFO	 2

#define H2_FSCK_ALLZONES 0x1 /* check every valid header's tree */

struct h2_fsck_result {
	uint64_t fr_problems;
	uint64_t fr_warnings;
	uint64_t fr_blocks[8]; /* blocks verified, by blockref type */
	uint64_t fr_bytes;     /* physical bytes verified */
	uint64_t fr_pfs;
	uint64_t fr_inodes;
	uint64_t fr_dirents;
	uint64_t fr_orphans;
	int fr_zones_valid; /* volume header copies with valid CRCs */
};

typedef void h2_fsck_fn(void *arg, int severity, const char *msg);
/* Returns 0 when the check ran (see res->fr_problems), or a negative
 * errno (-ENOMEM) when it could not. */
int h2_fsck(struct h2_dev *dev, unsigned flags, h2_fsck_fn *fn, void *arg,
    struct h2_fsck_result *res);

/* ---- Making a new volume (newfs) ---- */

/*
 * h2_newfs writes an empty volume as DragonFly's newfs_hammer2 does: the
 * volume header in every 2 GiB zone that fits, a super-root and one empty
 * PFS root directory per label (at most four, "LOCAL" among them by
 * convention), boot and aux areas of DragonFly's default sizes unless given,
 * the freemap left for the first mount. Sizes are rounded down to 8 MiB.
 * Returns 0, -EINVAL for bad options, -ENOSPC for a volume too small, or
 * the device's write error.
 */
#define H2_NEWFS_MIN_SIZE (64ull << 20)
#define H2_NEWFS_ZERO	  0x1 /* also zero the boot and aux areas */

struct h2_newfs_opts {
	uint64_t no_size; /* bytes; 0 = the whole device */
	const char *no_labels[HAMMER2_SET_COUNT];
	int no_nlabels;
	uint8_t no_comp;       /* PFS roots' comp_algo: method | level << 4 */
	uint8_t no_check;      /* PFS roots' check_algo */
	uint32_t no_version;   /* 0 = HAMMER2_VOL_VERSION_DEFAULT */
	uint64_t no_boot_size; /* 0 = DragonFly's default */
	uint64_t no_aux_size;
	uint64_t no_time_us; /* inode times, microseconds since 1970 */
	unsigned no_flags;   /* H2_NEWFS_* */
	struct hammer2_uuid no_fsid;
	struct hammer2_uuid no_sup_clid;
	struct hammer2_uuid no_sup_fsid;
	struct hammer2_uuid no_pfs_clid[HAMMER2_SET_COUNT];
	struct hammer2_uuid no_pfs_fsid[HAMMER2_SET_COUNT];
};

int h2_newfs(struct h2_dev *dev, const struct h2_newfs_opts *no);

/* ---- Helpers ---- */

/* The directory hash of a name (DragonFly's hammer2_dirhash). */
hammer2_key_t h2_dirhash(const char *name, size_t len);
const char *h2_bref_type_name(uint8_t type);
const char *h2_check_name(uint8_t check);
const char *h2_comp_name(uint8_t comp);
const char *h2_objtype_name(uint8_t type);
const char *h2_pfstype_name(uint8_t type);
/* Format a media UUID as DragonFly prints it (36 chars + NUL). */
void h2_uuid_format(const struct hammer2_uuid *u, char out[37]);

#endif /* HAMMER2_HAMMER2_H */
