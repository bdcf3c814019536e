/*
 * hammer2.h: the HAMMER2 library's contract (prefix h2_).
 *
 * DragonFly BSD's HAMMER2 as a portable library: mount a volume from the
 * best of its volume headers, list the PFSs under the super-root, open a
 * PFS, look up paths, read directories, files and symlinks; on a writable
 * mount also create, write, truncate, link, unlink, rename, make
 * directories and symlinks, create, delete and snapshot PFSs, and commit
 * everything with h2_flush as one copy-on-write transaction under the next
 * volume header. Every block is verified against its check code before any
 * byte of it is used, and every field read from the media is validated; a
 * volume that fails either yields an error (-EIO), never wrong data, a
 * crash or a hang. The rules are in hammer2/DESIGN.md.
 *
 * Objects: a struct h2_mount holds one mounted volume; a struct h2_pfs one
 * open PFS; a struct h2_inode one inode, shared by every handle to it (a
 * write through one handle is seen through the others).
 *
 * Interface:
 *  - Functions return 0 or a negative errno; read-style functions return a
 *    byte count or a negative errno. Errors used: -EIO (a check failed or
 *    metadata is malformed, or the mount failed), -ENOENT, -ENOTDIR,
 *    -EISDIR, -EINVAL (bad argument), -ENAMETOOLONG, -ELOOP, -ENOMEM,
 *    -EEXIST, -ENOTEMPTY, -ENOSPC, -EROFS (read-only mount), -EPERM,
 *    -EBUSY, -EOPNOTSUPP (a valid feature this library does not implement,
 *    e.g. multiple volumes).
 *  - The device must outlive the mount; the mount must outlive its PFSs,
 *    and each PFS its inodes. h2_pfs_close and h2_unmount assert that.
 *  - A mount may be used by one thread at a time; statistics are the only
 *    state shared behind a lock.
 *  - Callbacks (h2_pfs_foreach, h2_readdir) return 0 to continue, a
 *    positive value to stop (returned to the caller), a negative errno to
 *    abort (also returned). They must not modify the volume.
 *  - Modifications live in memory until h2_flush writes them as one
 *    transaction; h2_unmount without h2_flush forgets them (as a crash
 *    would). An operation that fails before changing anything leaves the
 *    mount as it was; one that fails half-way (out of memory, an I/O
 *    error) fails the mount: further modifications and flushes return
 *    -EIO, reads go on, and what was flushed before is untouched on the
 *    media (remount to continue from it).
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
/* A writable mount (the device must accept writes). */
#define H2_MNT_RDWR 0x2

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
	uint64_t st_blocks_written; /* blocks written (data and metadata) */
	uint64_t st_bytes_written;
	uint64_t st_comp[16];	  /* blocks stored compressed, by method */
	uint64_t st_comp_skipped; /* tried but stored as they were */
	uint64_t st_zero_blocks;  /* all-zero blocks made holes */
	uint64_t st_flushes;	  /* transactions committed */
	uint64_t st_nodes_loaded; /* metadata blocks loaded into memory */
	uint64_t st_ind_folded;	  /* indirect blocks folded into parents */
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
struct h2_mount *h2_pfs_mount(const struct h2_pfs *pfs);
/* The super-root inode itself. */
const struct hammer2_inode_data *h2_sroot(const struct h2_mount *mp);

/* ---- Inodes and names ---- */

/* A reference to inode inum of pfs; h2_iput drops it. Handles to the
 * same inode share one object. */
int h2_iget(struct h2_pfs *pfs, hammer2_tid_t inum, struct h2_inode **ipp);
void h2_iput(struct h2_inode *ip);
/* A second reference to the same inode. */
void h2_iref(struct h2_inode *ip);
/* The inode as it is now in memory (flushed or not). */
const struct hammer2_inode_data *h2_idata(const struct h2_inode *ip);
/* Its blockref; data_off and check are stale until the next flush when
 * the inode was modified. */
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

/* ---- Modifying (H2_MNT_RDWR mounts) ---- */

/*
 * Commit every change made since the last flush as one transaction:
 * dirty file data and every modified block up to the super-root are
 * written to newly allocated blocks (copy on write: nothing the last
 * flush left on the media is overwritten), then the freemap blocks to
 * their next rotating slots, the device is flushed, and only then the
 * volume header goes to the next header slot in rotation, followed by
 * another device flush. A crash at any point leaves either the previous
 * or the new transaction. On volumes under 2 GiB there is one header
 * slot, so a torn header write there is not survivable (as in DragonFly).
 */
int h2_flush(struct h2_mount *mp);
/* Make ip's data and metadata durable: commits the whole transaction. */
int h2_fsync(struct h2_inode *ip);
/* 0, or the error that failed the mount (see the Interface above). */
int h2_mount_error(const struct h2_mount *mp);
/* Bytes of dirty metadata and file data held in memory (callers that
 * write much between flushes may flush when it grows). */
uint64_t h2_dirty_bytes(const struct h2_mount *mp);

/*
 * Create name in directory dir: a new inode of type (HAMMER2_OBJTYPE_
 * REGFILE, DIRECTORY, SOFTLINK, FIFO, CDEV, BDEV, SOCKET) with mode's
 * permission bits, inheriting dir's compression, check methods, uid and
 * gid as DragonFly does. Names are 1..255 bytes, without '/' or NUL, not
 * "." or "..". Names hashing alike take the next free key of the 32768
 * their hash allows (-ENOSPC when all are taken). A new reference to the
 * inode is returned in *ipp when ipp is not NULL.
 */
int h2_create(struct h2_inode *dir, const char *name, size_t len, uint8_t type,
    uint32_t mode, struct h2_inode **ipp);
int h2_mkdir(struct h2_inode *dir, const char *name, size_t len, uint32_t mode,
    struct h2_inode **ipp);
/* A symlink whose target is tlen bytes (1..H2_PATH_MAX - 1). */
int h2_symlink(struct h2_inode *dir, const char *name, size_t len,
    const char *target, size_t tlen, struct h2_inode **ipp);
/* A hard link to ip (not a directory: -EPERM) as name in dir. */
int h2_link(struct h2_inode *dir, const char *name, size_t len,
    struct h2_inode *ip);
/* Remove a non-directory entry; the inode goes when its last link does
 * (and its last handle, if open). */
int h2_unlink(struct h2_inode *dir, const char *name, size_t len);
/* Remove an empty directory. */
int h2_rmdir(struct h2_inode *dir, const char *name, size_t len);
/*
 * Rename fname in fdir to tname in tdir (same PFS), replacing an existing
 * tname as POSIX rename does: a file may replace a file, a directory an
 * empty directory.
 */
int h2_rename(struct h2_inode *fdir, const char *fname, size_t flen,
    struct h2_inode *tdir, const char *tname, size_t tlen);
/* Write len bytes at off (any offset: holes read as zeros); returns len. */
ssize_t h2_write(struct h2_inode *ip, uint64_t off, const void *buf,
    size_t len);
/* Set a file's size (shrinking or extending with a hole). */
int h2_truncate(struct h2_inode *ip, uint64_t size);

#define H2_ATTR_MODE  0x01
#define H2_ATTR_UID   0x02
#define H2_ATTR_GID   0x04
#define H2_ATTR_MTIME 0x08
#define H2_ATTR_CTIME 0x10
#define H2_ATTR_ATIME 0x20
#define H2_ATTR_RDEV  0x40
#define H2_ATTR_COMP  0x80  /* comp_algo: method | level << 4 */
#define H2_ATTR_CHECK 0x100 /* check_algo */

struct h2_attr {
	unsigned ia_valid; /* H2_ATTR_* */
	uint32_t ia_mode;  /* permission bits (07777) */
	uint32_t ia_uid;
	uint32_t ia_gid;
	uint64_t ia_mtime; /* microseconds since 1970 */
	uint64_t ia_ctime;
	uint64_t ia_atime;
	uint32_t ia_rmajor, ia_rminor;
	uint8_t ia_comp;  /* new data of this inode (and new inodes in it) */
	uint8_t ia_check; /* NONE, DISABLED, ISCSI32, XXHASH64, SHA192 */
};
int h2_setattr(struct h2_inode *ip, const struct h2_attr *ia);
/* The uid or gid stored in an inode's uid/gid UUID (DragonFly's way). */
uint32_t h2_uuid_to_id(const struct hammer2_uuid *u);

/* ---- PFSs and snapshots (H2_MNT_RDWR mounts) ---- */

struct h2_pfs_opts {
	uint8_t po_type;  /* HAMMER2_PFSTYPE_*; 0 = MASTER */
	uint8_t po_comp;  /* root comp_algo; 0 = LZ4 (DragonFly's default) */
	uint8_t po_check; /* root check_algo; 0 = XXHASH64 */
	struct hammer2_uuid po_clid, po_fsid; /* all zero: made up */
};
/* A new, empty PFS under the super-root. -EEXIST if name exists. */
int h2_pfs_create(struct h2_mount *mp, const char *name,
    const struct h2_pfs_opts *po);
/* Remove a PFS (its blocks are freed by bulkfree). -EBUSY if open. */
int h2_pfs_delete(struct h2_mount *mp, const char *name);
/*
 * Snapshot pfs as a new PFS name, as DragonFly does: the PFS is flushed,
 * then a new PFS root (subtype SNAPSHOT) shares its whole tree; both go on
 * copy-on-write from there. Flushes again to commit the snapshot.
 */
int h2_snapshot(struct h2_pfs *pfs, const char *name);

/*
 * One bulkfree pass, as DragonFly's: flush, then scan every PFS for the
 * blocks in use and move the freemap's 2-bit states: allocated blocks no
 * longer reachable to "possibly free" (11 -> 10), blocks already possibly
 * free and still unreachable to free (10 -> 00), reachable ones to
 * allocated; then flush. A block is freed by the second pass that finds
 * it unreachable.
 */
struct h2_bulkfree_result {
	uint64_t bf_staged;	 /* 16 KiB chunks 11 -> 10 */
	uint64_t bf_freed;	 /* 10 -> 00 */
	uint64_t bf_fixed;	 /* 00 or 10 -> 11: in use, marked free */
	uint64_t bf_blocks;	 /* blocks found in use */
	uint64_t bf_free_before; /* allocator_free */
	uint64_t bf_free_after;
};
int h2_bulkfree(struct h2_mount *mp, struct h2_bulkfree_result *res);

/* ---- Checking a volume (fsck) ---- */

/*
 * h2_fsck verifies a volume offline: every volume header copy; the freemap
 * tree; every block reachable from the super-root (check code, size,
 * position, that it decodes, that the freemap marks it allocated); the tree
 * structure; every inode and directory entry (names, hashes, types); and
 * per PFS that directories and inodes agree (no dangling entries, no
 * directory reached twice or in a cycle, link counts, parent numbers).
 * Problems make a volume unclean; warnings (e.g. an inode no directory
 * names, which a crash with an open unlinked file leaves) do not. With
 * freemap_tid behind mirror_tid (a DragonFly crash between its tree and
 * freemap flushes), blocks newer than freemap_tid that the freemap calls
 * free are counted in fr_recover with one warning: mounting writable
 * recovers them (h2_mount), as DragonFly's mount does.
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
	uint64_t fr_recover; /* blocks newer than the freemap, marked free */
	int fr_zones_valid;  /* volume header copies with valid CRCs */
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
