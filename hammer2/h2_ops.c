/*
 * h2_ops.c: changing the namespace: create, mkdir, symlink, link, unlink,
 * rmdir, rename, setattr. What each writes follows DragonFly's
 * hammer2_inode.c, hammer2_xops.c and hammer2_vnops.c:
 *
 *  - A new inode gets the next inode number of its PFS and goes into the
 *    PFS root's index keyed by that number; its filename field holds the
 *    number as "0x%016llx" and name_key the number (DragonFly names inodes
 *    that way since directory entries became separate). It inherits the
 *    directory's compression and check methods, uid and gid; nlinks is 1
 *    (directories too: HAMMER2 does not count subdirectories); iparent is
 *    the directory. Files and symlinks start with DIRECTDATA set. Its
 *    blockref's methods are the directory's comp and check methods (a
 *    metadata check of NONE becomes the default, as DragonFly forces).
 *  - A name is a DIRENT blockref in the directory's tree keyed by the
 *    name's hash; with the 15 low bits of the key the first free key from
 *    the hash up is taken (DragonFly's scanlhc), -ENOSPC when all 32768
 *    are. The DIRENT carries inode number, type and name length; names up
 *    to 64 bytes sit in the check field, longer ones in a 1 KiB block. Its
 *    methods are those of the block that holds it.
 *  - Unlink removes the DIRENT and drops nlinks; at zero the inode leaves
 *    the index (after its last handle, if open). Rename removes the old
 *    DIRENT and any DIRENT it replaces, and enters a new one at a free key
 *    found before either removal; the inode's iparent becomes the target
 *    directory (DragonFly does so for every type).
 *
 * Each operation first checks everything that can fail without changing
 * anything (names, existence, types, emptiness, space, memory for the new
 * objects); a failure after the first change fails the mount (h2_fail).
 *
 * Interface: hammer2.h, "Modifying".
 */
#include "hammer2/h2_internal.h"

static int
name_check(const char *name, size_t len)
{
	if (len >= HAMMER2_INODE_MAXNAME)
		return -ENAMETOOLONG;
	return h2_name_valid(name, len) ? -EINVAL : 0;
}

static int
dir_writable(struct h2_inode *dir)
{
	int error = h2_writable(dir->i_pfs->p_mp);

	if (error)
		return error;
	if (dir->i_pfs->p_super)
		return -EPERM; /* PFSs are made with h2_pfs_create */
	if (h2i_data(dir)->meta.type != HAMMER2_OBJTYPE_DIRECTORY)
		return -ENOTDIR;
	if (dir->i_flags & H2I_UNLINKED)
		return -ENOENT;
	return 0;
}

static void
touch(struct h2_inode *ip, int mtime)
{
	struct hammer2_inode_meta *m = &h2i_data(ip)->meta;

	m->ctime = h2_now_us();
	if (mtime)
		m->mtime = m->ctime;
	h2i_modify(ip);
}

/* ---- keys ---- */

struct lhc_scan {
	hammer2_key_t ls_lhc;
};

static int
lhc_leaf(void *arg, const struct hammer2_blockref *b, struct h2_node *kid)
{
	struct lhc_scan *ls = arg;

	if (b->key != ls->ls_lhc)
		return 1;
	ls->ls_lhc++;
	return 0;
}

/* The first free key at or above the name's hash in top's tree. */
int
h2_free_lhc(struct h2_mount *mp, struct h2_node *top, hammer2_key_t hash,
    hammer2_key_t *lhcp)
{
	struct lhc_scan ls = { hash };
	int error;

	error = h2_node_walk(mp, top, hash, hash | HAMMER2_DIRHASH_LOMASK,
	    lhc_leaf, &ls);
	if (error < 0)
		return error;
	if ((ls.ls_lhc ^ hash) & ~HAMMER2_DIRHASH_LOMASK)
		return -ENOSPC;
	*lhcp = ls.ls_lhc;
	return 0;
}

/* ---- directory entries ---- */

struct dirent_fix {
	struct h2_mount *df_mp;
	const char *df_name;
	size_t df_len;
};

/* Methods from the block receiving the entry; a long name's block. */
static int
dirent_fix(void *arg, struct h2_node *parent, struct hammer2_blockref *b)
{
	struct dirent_fix *df = arg;
	uint8_t buf[HAMMER2_ALLOC_MIN];
	int check = HAMMER2_DEC_CHECK(parent->n_bref.methods);

	if (parent->n_flags & H2N_VOLUME)
		return -EINVAL;
	if (check == HAMMER2_CHECK_NONE)
		check = HAMMER2_CHECK_DEFAULT;
	b->methods = (uint8_t)(HAMMER2_ENC_CHECK(check) |
	    HAMMER2_ENC_COMP(HAMMER2_DEC_COMP(parent->n_bref.methods)));
	b->mirror_tid = b->modify_tid = df->df_mp->m_tid;
	if (df->df_len <= sizeof(b->check.buf))
		return 0;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, df->df_name, df->df_len);
	return h2_write_block(df->df_mp, b, buf, sizeof(buf));
}

static int
dirent_add(struct h2_inode *dir, const char *name, size_t len,
    hammer2_key_t lhc, hammer2_tid_t inum, uint8_t type)
{
	struct h2_mount *mp = dir->i_pfs->p_mp;
	struct dirent_fix df = { mp, name, len };
	struct hammer2_blockref b;

	memset(&b, 0, sizeof(b));
	b.type = HAMMER2_BREF_TYPE_DIRENT;
	b.key = lhc;
	b.embed.dirent.inum = inum;
	b.embed.dirent.namlen = (uint16_t)len;
	b.embed.dirent.type = type;
	if (len <= sizeof(b.check.buf))
		memcpy(b.check.buf, name, len);
	return h2n_insert(mp, dir->i_node, &b, dirent_fix, &df, NULL, NULL);
}

static int
dirent_remove(struct h2_inode *dir, hammer2_key_t key)
{
	struct h2_mount *mp = dir->i_pfs->p_mp;
	struct h2_node *n;
	int slot, error;

	if ((error = h2n_find(mp, dir->i_node, key, &n, &slot)) != 0)
		return error;
	if (h2n_base(n)[slot].key != key)
		return -ENOENT;
	h2n_delete(mp, n, slot);
	return 0;
}

struct any_scan {
	int as_found;
};

static int
any_leaf(void *arg, const struct hammer2_blockref *b, struct h2_node *kid)
{
	((struct any_scan *)arg)->as_found = 1;
	return 1;
}

/* 0 if directory ip has no entries, -ENOTEMPTY if it has. */
static int
dir_empty(struct h2_inode *ip)
{
	struct any_scan as = { 0 };
	int error;

	error = h2_node_walk(ip->i_pfs->p_mp, ip->i_node,
	    HAMMER2_DIRHASH_VISIBLE, HAMMER2_KEY_MAX, any_leaf, &as);
	if (error < 0)
		return error;
	return as.as_found ? -ENOTEMPTY : 0;
}

/* ---- inodes ---- */

static uint8_t
meta_check(uint8_t check_algo)
{
	int check = HAMMER2_DEC_ALGO(check_algo);

	return check == HAMMER2_CHECK_NONE ? HAMMER2_CHECK_DEFAULT :
					     (uint8_t)check;
}

/* A new inode node for dir (not yet in the index). */
static int
inode_alloc(struct h2_inode *dir, hammer2_tid_t inum, uint8_t type,
    uint32_t mode, struct h2_node **np)
{
	struct h2_mount *mp = dir->i_pfs->p_mp;
	const struct hammer2_inode_meta *dm = &h2i_data(dir)->meta;
	struct hammer2_inode_data *d;
	struct hammer2_blockref b;
	struct h2_node *n;
	char name[24];

	memset(&b, 0, sizeof(b));
	b.type = HAMMER2_BREF_TYPE_INODE;
	b.key = inum;
	b.methods = (uint8_t)(HAMMER2_ENC_COMP(dm->comp_algo) |
	    HAMMER2_ENC_CHECK(meta_check(dm->check_algo)));
	b.data_off = HAMMER2_INODE_RADIX;
	if ((n = h2n_alloc(mp, &b, HAMMER2_INODE_BYTES)) == NULL)
		return -ENOMEM;
	d = n->n_data;
	d->meta.version = HAMMER2_INODE_VERSION_ONE;
	d->meta.type = type;
	d->meta.mode = mode & 07777;
	d->meta.inum = inum;
	d->meta.nlinks = 1;
	d->meta.iparent = dm->inum;
	d->meta.comp_algo = dm->comp_algo;
	d->meta.check_algo = dm->check_algo;
	d->meta.uid = dm->uid;
	d->meta.gid = dm->gid;
	d->meta.ctime = d->meta.mtime = h2_now_us();
	snprintf(name, sizeof(name), "0x%016llx", (unsigned long long)inum);
	d->meta.name_len = (uint16_t)strlen(name);
	memcpy(d->filename, name, d->meta.name_len);
	d->meta.name_key = inum;
	if (type == HAMMER2_OBJTYPE_REGFILE || type == HAMMER2_OBJTYPE_SOFTLINK)
		d->meta.op_flags |= HAMMER2_OPFLAG_DIRECTDATA;
	h2n_sort(n);
	*np = n;
	return 0;
}

static int
type_ok(uint8_t type)
{
	switch (type) {
	case HAMMER2_OBJTYPE_REGFILE:
	case HAMMER2_OBJTYPE_DIRECTORY:
	case HAMMER2_OBJTYPE_SOFTLINK:
	case HAMMER2_OBJTYPE_FIFO:
	case HAMMER2_OBJTYPE_CDEV:
	case HAMMER2_OBJTYPE_BDEV:
	case HAMMER2_OBJTYPE_SOCKET:
		return 1;
	default:
		return 0;
	}
}

/* Remove a new inode again (its handle already dropped). */
static void
inode_undo(struct h2_mount *mp, struct h2_node *n)
{
	if (n->n_parent != NULL)
		h2n_delete(mp, n->n_parent, n->n_slot);
	else
		h2n_free_tree(mp, n);
}

static int
create(struct h2_inode *dir, const char *name, size_t len, uint8_t type,
    uint32_t mode, struct h2_inode **ipp)
{
	struct h2_pfs *pfs = dir->i_pfs;
	struct h2_mount *mp = pfs->p_mp;
	struct h2_dirent de;
	struct h2_inode *ip;
	struct h2_node *n;
	hammer2_key_t lhc;
	int error;

	if ((error = dir_writable(dir)) != 0 ||
	    (error = name_check(name, len)) != 0)
		return error;
	if (!type_ok(type))
		return -EINVAL;
	error = h2_dir_lookup(dir, name, len, &de);
	if (error != -ENOENT)
		return error ? error : -EEXIST;
	if ((error = h2_space(mp, 2 * HAMMER2_INODE_BYTES)) != 0)
		return error;
	if ((error = h2_free_lhc(mp, dir->i_node, h2_dirhash_fn(name, len),
		 &lhc)) != 0)
		return error;
	error = inode_alloc(dir, h2i_new_inum(pfs), type, mode, &n);
	if (error)
		return error;
	if ((error = h2n_insert_node(mp, pfs->p_iroot->i_node, n)) != 0) {
		h2n_free_tree(mp, n);
		return error == -EEXIST ? h2_fail(mp, -EIO) : error;
	}
	if ((error = h2i_get_node(pfs, n, &ip)) != 0) {
		inode_undo(mp, n);
		return error;
	}
	pfs->p_ninodes++;
	error = dirent_add(dir, name, len, lhc, h2i_data(ip)->meta.inum, type);
	if (error) {
		h2i_put(ip);
		inode_undo(mp, n);
		return error == -EEXIST ? h2_fail(mp, -EIO) : error;
	}
	touch(dir, 1);
	if (ipp != NULL)
		*ipp = ip;
	else
		h2i_put(ip);
	return 0;
}

int
h2_create(struct h2_inode *dir, const char *name, size_t len, uint8_t type,
    uint32_t mode, struct h2_inode **ipp)
{
	int error = create(dir, name, len, type, mode, ipp);

	h2n_trim(dir->i_pfs->p_mp, 0);
	return error;
}

int
h2_mkdir(struct h2_inode *dir, const char *name, size_t len, uint32_t mode,
    struct h2_inode **ipp)
{
	return h2_create(dir, name, len, HAMMER2_OBJTYPE_DIRECTORY, mode, ipp);
}

int
h2_symlink(struct h2_inode *dir, const char *name, size_t len,
    const char *target, size_t tlen, struct h2_inode **ipp)
{
	struct h2_mount *mp = dir->i_pfs->p_mp;
	struct h2_inode *ip;
	ssize_t n;
	int error;

	if (tlen == 0 || tlen >= H2_PATH_MAX)
		return tlen ? -ENAMETOOLONG : -EINVAL;
	if (memchr(target, '\0', tlen) != NULL)
		return -EINVAL;
	error = create(dir, name, len, HAMMER2_OBJTYPE_SOFTLINK, 0777, &ip);
	if (error)
		goto out;
	n = h2_file_write(ip, 0, target, tlen);
	if (n != (ssize_t)tlen)
		error = h2_fail(mp, n < 0 ? (int)n : -EIO);
	if (error == 0 && ipp != NULL)
		*ipp = ip;
	else
		h2i_put(ip);
out:
	h2n_trim(mp, 0);
	return error;
}

int
h2_link(struct h2_inode *dir, const char *name, size_t len, struct h2_inode *ip)
{
	struct h2_mount *mp = dir->i_pfs->p_mp;
	struct hammer2_inode_meta *m;
	struct h2_dirent de;
	hammer2_key_t lhc;
	int error;

	if ((error = dir_writable(dir)) != 0 ||
	    (error = name_check(name, len)) != 0)
		goto out;
	m = &h2i_data(ip)->meta;
	if (ip->i_pfs != dir->i_pfs) {
		error = -EXDEV;
		goto out;
	}
	if (m->type == HAMMER2_OBJTYPE_DIRECTORY || ip == ip->i_pfs->p_iroot) {
		error = -EPERM;
		goto out;
	}
	if ((ip->i_flags & H2I_UNLINKED) || m->nlinks == 0) {
		error = -ENOENT;
		goto out;
	}
	error = h2_dir_lookup(dir, name, len, &de);
	if (error != -ENOENT) {
		error = error ? error : -EEXIST;
		goto out;
	}
	if ((error = h2_space(mp, HAMMER2_INODE_BYTES)) != 0 ||
	    (error = h2_free_lhc(mp, dir->i_node, h2_dirhash_fn(name, len),
		 &lhc)) != 0)
		goto out;
	error = dirent_add(dir, name, len, lhc, m->inum, m->type);
	if (error) {
		if (error == -EEXIST)
			error = h2_fail(mp, -EIO);
		goto out;
	}
	m->nlinks++;
	touch(ip, 0);
	touch(dir, 1);
out:
	h2n_trim(mp, 0);
	return error;
}

/*
 * The inode an entry names, before the entry is removed (so running out
 * of memory here changes nothing). *ipp is NULL for an entry naming no
 * inode, which removing repairs.
 */
static int
entry_inode(struct h2_pfs *pfs, hammer2_tid_t inum, struct h2_inode **ipp)
{
	int error = h2i_get(pfs, inum, ipp);

	if (error == -ENOENT) {
		*ipp = NULL;
		return 0;
	}
	return error;
}

/* One link of ip is gone (ip may be NULL); drops the reference. */
static void
drop_link(struct h2_inode *ip)
{
	struct hammer2_inode_meta *m;

	if (ip == NULL)
		return;
	m = &h2i_data(ip)->meta;
	if (m->nlinks > 0)
		m->nlinks--;
	touch(ip, 0);
	if (m->nlinks == 0)
		ip->i_flags |= H2I_UNLINKED;
	h2i_put(ip);
}

static int
remove_name(struct h2_inode *dir, const char *name, size_t len, int isdir)
{
	struct h2_pfs *pfs = dir->i_pfs;
	struct h2_dirent de;
	struct h2_inode *ip;
	int error;

	if ((error = dir_writable(dir)) != 0)
		return error;
	if (len >= HAMMER2_INODE_MAXNAME)
		return -ENAMETOOLONG;
	if ((error = h2_dir_lookup(dir, name, len, &de)) != 0)
		return error;
	if (!isdir && de.d_type == HAMMER2_OBJTYPE_DIRECTORY)
		return -EISDIR;
	if (isdir && de.d_type != HAMMER2_OBJTYPE_DIRECTORY)
		return -ENOTDIR;
	if ((error = entry_inode(pfs, de.d_inum, &ip)) != 0)
		return error;
	if (isdir && ip != NULL && (error = dir_empty(ip)) != 0) {
		h2i_put(ip);
		return error;
	}
	if ((error = dirent_remove(dir, de.d_key)) != 0) {
		h2i_put(ip);
		return h2_fail(pfs->p_mp, error);
	}
	drop_link(ip);
	touch(dir, 1);
	return 0;
}

int
h2_unlink(struct h2_inode *dir, const char *name, size_t len)
{
	int error = remove_name(dir, name, len, 0);

	h2n_trim(dir->i_pfs->p_mp, 0);
	return error;
}

int
h2_rmdir(struct h2_inode *dir, const char *name, size_t len)
{
	int error = remove_name(dir, name, len, 1);

	h2n_trim(dir->i_pfs->p_mp, 0);
	return error;
}

/* Is directory inum tdir or one of its ancestors? */
static int
is_ancestor(struct h2_pfs *pfs, hammer2_tid_t inum, struct h2_inode *tdir)
{
	hammer2_tid_t cur = tdir->i_inum, next;
	struct h2_inode *ip;
	int i, error;

	for (i = 0; i < 65536; i++) {
		if (cur == inum)
			return 1;
		if (cur == pfs->p_iroot->i_inum)
			return 0;
		if ((error = h2i_get(pfs, cur, &ip)) != 0)
			return error;
		next = h2i_data(ip)->meta.iparent;
		h2i_put(ip);
		if (next == cur)
			return 0;
		cur = next;
	}
	return -ELOOP;
}

static int
rename_check(struct h2_inode *fdir, const struct h2_dirent *sde,
    struct h2_inode *tdir, const struct h2_dirent *tde)
{
	struct h2_inode *ip;
	int error, sdir = sde->d_type == HAMMER2_OBJTYPE_DIRECTORY;

	if (tde != NULL) {
		if (sdir && tde->d_type != HAMMER2_OBJTYPE_DIRECTORY)
			return -ENOTDIR;
		if (!sdir && tde->d_type == HAMMER2_OBJTYPE_DIRECTORY)
			return -EISDIR;
		if (tde->d_type == HAMMER2_OBJTYPE_DIRECTORY) {
			if ((error = h2i_get(tdir->i_pfs, tde->d_inum, &ip)))
				return error;
			error = dir_empty(ip);
			h2i_put(ip);
			if (error)
				return error;
		}
	}
	if (sdir) {
		error = is_ancestor(fdir->i_pfs, sde->d_inum, tdir);
		if (error)
			return error < 0 ? error : -EINVAL;
	}
	return 0;
}

static int
do_rename(struct h2_inode *fdir, const char *fname, size_t flen,
    struct h2_inode *tdir, const char *tname, size_t tlen)
{
	struct h2_pfs *pfs = fdir->i_pfs;
	struct h2_mount *mp = pfs->p_mp;
	struct h2_dirent sde, tde;
	struct h2_inode *ip, *tip = NULL;
	hammer2_key_t lhc;
	int error, have_t;

	if ((error = dir_writable(fdir)) != 0 ||
	    (error = dir_writable(tdir)) != 0)
		return error;
	if (fdir->i_pfs != tdir->i_pfs)
		return -EXDEV;
	if ((error = name_check(tname, tlen)) != 0)
		return error;
	if (flen >= HAMMER2_INODE_MAXNAME)
		return -ENAMETOOLONG;
	if ((error = h2_dir_lookup(fdir, fname, flen, &sde)) != 0)
		return error;
	if (fdir == tdir && flen == tlen && memcmp(fname, tname, flen) == 0)
		return 0;
	error = h2_dir_lookup(tdir, tname, tlen, &tde);
	if (error && error != -ENOENT)
		return error;
	have_t = error == 0;
	if (have_t && tde.d_inum == sde.d_inum)
		return 0; /* two links to one inode: POSIX does nothing */
	if ((error = rename_check(fdir, &sde, tdir, have_t ? &tde : NULL)))
		return error;
	if ((error = h2_space(mp, 2 * HAMMER2_INODE_BYTES)) != 0 ||
	    (error = h2_free_lhc(mp, tdir->i_node, h2_dirhash_fn(tname, tlen),
		 &lhc)) != 0)
		return error;
	if ((error = h2i_get(pfs, sde.d_inum, &ip)) != 0)
		return error;
	if (have_t && (error = entry_inode(pfs, tde.d_inum, &tip)) != 0) {
		h2i_put(ip);
		return error;
	}
	/* From here on a failure leaves a half-done rename. */
	if ((error = dirent_remove(fdir, sde.d_key)) == 0 && have_t)
		error = dirent_remove(tdir, tde.d_key);
	if (error == 0)
		error =
		    dirent_add(tdir, tname, tlen, lhc, sde.d_inum, sde.d_type);
	if (error) {
		h2i_put(ip);
		h2i_put(tip);
		return h2_fail(mp, error);
	}
	h2i_data(ip)->meta.iparent = tdir->i_inum;
	touch(ip, 0);
	h2i_put(ip);
	drop_link(tip);
	touch(fdir, 1);
	touch(tdir, 1);
	return 0;
}

int
h2_rename(struct h2_inode *fdir, const char *fname, size_t flen,
    struct h2_inode *tdir, const char *tname, size_t tlen)
{
	int error = do_rename(fdir, fname, flen, tdir, tname, tlen);

	h2n_trim(fdir->i_pfs->p_mp, 0);
	return error;
}

/* ---- attributes ---- */

uint32_t
h2_uuid_to_id(const struct hammer2_uuid *u)
{
	uint32_t id;

	memcpy(&id, &u->node[2], sizeof(id));
	return id;
}

static void
id_to_uuid(struct hammer2_uuid *u, uint32_t id)
{
	memset(u, 0, sizeof(*u));
	memcpy(&u->node[2], &id, sizeof(id));
}

static int
methods_ok(const struct h2_attr *ia)
{
	int comp = HAMMER2_DEC_ALGO(ia->ia_comp);

	if ((ia->ia_valid & H2_ATTR_COMP) && comp > HAMMER2_COMP_ZLIB &&
	    comp != HAMMER2_COMP_DF_ZSTD)
		return 0;
	if ((ia->ia_valid & H2_ATTR_CHECK) &&
	    (ia->ia_check & 0xf0 || ia->ia_check > HAMMER2_CHECK_SHA192))
		return 0;
	return 1;
}

int
h2_setattr(struct h2_inode *ip, const struct h2_attr *ia)
{
	struct hammer2_inode_meta *m;
	int error;

	if ((error = h2_writable(ip->i_pfs->p_mp)) != 0)
		return error;
	if (ia->ia_valid & ~0x1ffu || !methods_ok(ia))
		return -EINVAL;
	m = &h2i_data(ip)->meta;
	if (ia->ia_valid & H2_ATTR_MODE)
		m->mode = ia->ia_mode & 07777;
	if (ia->ia_valid & H2_ATTR_UID)
		id_to_uuid(&m->uid, ia->ia_uid);
	if (ia->ia_valid & H2_ATTR_GID)
		id_to_uuid(&m->gid, ia->ia_gid);
	if (ia->ia_valid & H2_ATTR_RDEV) {
		m->rmajor = ia->ia_rmajor;
		m->rminor = ia->ia_rminor;
	}
	if (ia->ia_valid & H2_ATTR_COMP)
		m->comp_algo = ia->ia_comp;
	if (ia->ia_valid & H2_ATTR_CHECK)
		m->check_algo = ia->ia_check;
	m->ctime = h2_now_us();
	if (ia->ia_valid & H2_ATTR_MTIME)
		m->mtime = ia->ia_mtime;
	if (ia->ia_valid & H2_ATTR_ATIME)
		m->atime = ia->ia_atime;
	if (ia->ia_valid & H2_ATTR_CTIME)
		m->ctime = ia->ia_ctime;
	h2i_modify(ip);
	return 0;
}
