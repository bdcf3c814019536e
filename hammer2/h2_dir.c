/*
 * h2_dir.c: directories and path names.
 *
 * A directory's tree holds one DIRENT blockref per name, keyed by the name's
 * directory hash (h2_dirhash); names that hash alike take successive keys in
 * the 15 low bits. The DIRENT carries the inode number and type; the name
 * itself sits in the blockref's 64-byte check field when it fits, otherwise
 * in a separate data block (checked like any other). The super-root (and
 * old volumes) hold INODE blockrefs instead, named by the inode's filename.
 *
 * A lookup scans only the keys [hash, hash + 0x7FFF]; readdir scans from
 * bit 63 up (keys below are inode numbers in a PFS root). Names from the
 * media must be 1..256 bytes, contain no '/' or NUL and not be "." or "..";
 * anything else is malformed, so no caller (say, a tool writing files out
 * to a host) is ever handed a path component that escapes.
 *
 * Interface: h2_lookup, h2_readdir, h2_namei, h2_dirhash in hammer2.h.
 */
#include "hammer2/h2_internal.h"
#include "hammer2/h2_hash.h"

hammer2_key_t (*h2_dirhash_fn)(const char *name, size_t len) = h2_dirhash;

hammer2_key_t
h2_dirhash(const char *name, size_t len)
{
	hammer2_key_t key;
	uint32_t crcx = 0;
	size_t i, j;

	/* Bits 62..32: a sum of CRCs of the parts between separators. */
	for (i = j = 0; i < len; i++) {
		if (name[i] == '.' || name[i] == '-' || name[i] == '_' ||
		    name[i] == '~') {
			if (i != j)
				crcx += h2_crc32c(name + j, i - j);
			j = i + 1;
		}
	}
	if (i != j)
		crcx += h2_crc32c(name + j, i - j);
	key = (hammer2_key_t)(crcx | 0x80000000u) << 32;

	/* Bits 31..16: from the CRC of the whole name; bit 15 set. */
	crcx = h2_crc32c(name, len);
	crcx ^= crcx << 16;
	key |= crcx & 0xFFFF0000u;
	key |= 0x8000u;
	return key;
}

int
h2_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > HAMMER2_INODE_MAXNAME)
		return -EINVAL;
	if (memchr(name, '/', len) != NULL || memchr(name, '\0', len) != NULL)
		return -EINVAL;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	return 0;
}

static int
dirent_name(struct h2_mount *mp, const struct hammer2_blockref *bref,
    struct h2_dirent *de)
{
	size_t len = bref->embed.dirent.namlen, blen;
	void *buf;
	int error;

	if (len <= sizeof(bref->check.buf)) {
		memcpy(de->d_name, bref->check.buf, len);
		goto done;
	}
	if (len > HAMMER2_INODE_MAXNAME)
		return h2_malformed(mp, bref, "name longer than 256 bytes");
	if ((buf = h2p_alloc(HAMMER2_PBUFSIZE)) == NULL)
		return -ENOMEM;
	error = h2_bref_read(mp, bref, buf, &blen);
	if (error == 0 && blen < len)
		error = h2_malformed(mp, bref, "name block too small");
	if (error == 0)
		memcpy(de->d_name, buf, len);
	h2p_free(buf, HAMMER2_PBUFSIZE);
	if (error)
		return error;
done:
	de->d_name[len] = '\0';
	de->d_namlen = (uint16_t)len;
	de->d_inum = bref->embed.dirent.inum;
	de->d_type = bref->embed.dirent.type;
	return 0;
}

int
h2_leaf_name(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const struct h2_node *kid, struct h2_dirent *de)
{
	struct hammer2_inode_data *ip;
	int error;

	de->d_key = bref->key;
	if (bref->type == HAMMER2_BREF_TYPE_DIRENT) {
		error = dirent_name(mp, bref, de);
	} else if (bref->type == HAMMER2_BREF_TYPE_INODE) {
		if ((ip = h2p_alloc(sizeof(*ip))) == NULL)
			return -ENOMEM;
		error = 0;
		if (kid != NULL)
			memcpy(ip, kid->n_data, sizeof(*ip));
		else
			error = h2_inode_load(mp, bref, ip);
		if (error == 0) {
			memcpy(de->d_name, ip->filename, ip->meta.name_len);
			de->d_name[ip->meta.name_len] = '\0';
			de->d_namlen = ip->meta.name_len;
			de->d_inum = ip->meta.inum;
			de->d_type = ip->meta.type;
		}
		h2p_free(ip, sizeof(*ip));
	} else {
		return h2_malformed(mp, bref, "directory entry of wrong type");
	}
	if (error)
		return error;
	if (h2_name_valid(de->d_name, de->d_namlen) != 0)
		return h2_malformed(mp, bref, "invalid name");
	if (!(bref->key & HAMMER2_DIRHASH_VISIBLE))
		return h2_malformed(mp, bref, "name key below bit 63");
	return 0;
}

/* ---- lookup and readdir ---- */

struct dir_walk {
	struct h2_mount *dw_mp;
	const char *dw_name; /* lookup: the name wanted */
	size_t dw_len;
	struct h2_dirent *dw_de;
	h2_dirent_fn *dw_fn; /* readdir */
	void *dw_arg;
};

static int
dir_leaf(void *arg, const struct hammer2_blockref *bref, struct h2_node *kid)
{
	struct dir_walk *dw = arg;
	int error;

	if ((error = h2_leaf_name(dw->dw_mp, bref, kid, dw->dw_de)) != 0)
		return error;
	if (dw->dw_name == NULL)
		return dw->dw_fn(dw->dw_arg, dw->dw_de);
	if (dw->dw_de->d_namlen == dw->dw_len &&
	    memcmp(dw->dw_de->d_name, dw->dw_name, dw->dw_len) == 0)
		return 1;
	return 0;
}

static int
dir_check(struct h2_inode *dir)
{
	if (h2i_data(dir)->meta.type != HAMMER2_OBJTYPE_DIRECTORY)
		return -ENOTDIR;
	return 0;
}

int
h2_dir_lookup(struct h2_inode *dir, const char *name, size_t len,
    struct h2_dirent *de)
{
	struct dir_walk dw = { dir->i_pfs->p_mp, name, len, de, NULL, NULL };
	hammer2_key_t hash;
	int error;

	if ((error = dir_check(dir)) != 0)
		return error;
	if (len > HAMMER2_INODE_MAXNAME)
		return -ENAMETOOLONG;
	if (h2_name_valid(name, len) != 0)
		return -ENOENT;
	hash = h2_dirhash_fn(name, len);
	error = h2_node_walk(dw.dw_mp, dir->i_node, hash,
	    hash | HAMMER2_DIRHASH_LOMASK, dir_leaf, &dw);
	if (error == 0)
		return -ENOENT;
	return error < 0 ? error : 0;
}

int
h2_lookup(struct h2_inode *dir, const char *name, size_t len,
    struct h2_dirent *de)
{
	int error = h2_dir_lookup(dir, name, len, de);

	h2n_trim(dir->i_pfs->p_mp, 0);
	return error;
}

int
h2_readdir(struct h2_inode *dir, hammer2_key_t start, h2_dirent_fn *fn,
    void *arg)
{
	struct dir_walk dw = { dir->i_pfs->p_mp, NULL, 0, NULL, fn, arg };
	int error;

	if ((error = dir_check(dir)) != 0)
		return error;
	if ((dw.dw_de = h2p_alloc(sizeof(*dw.dw_de))) == NULL)
		return -ENOMEM;
	if (start < HAMMER2_DIRHASH_VISIBLE)
		start = HAMMER2_DIRHASH_VISIBLE;
	error = h2_node_walk(dw.dw_mp, dir->i_node, start, HAMMER2_KEY_MAX,
	    dir_leaf, &dw);
	h2p_free(dw.dw_de, sizeof(*dw.dw_de));
	h2n_trim(dw.dw_mp, 0);
	return error;
}

/* ---- path resolution ---- */

struct namei {
	struct h2_pfs *n_pfs;
	struct h2_inode *n_cur; /* directory being searched */
	char *n_path;		/* H2_PATH_MAX bytes: what is left */
	int n_links;		/* symlinks followed */
	struct h2_dirent n_de;
};

/* Replace the path left with the symlink's target followed by rest. */
static int
namei_splice(struct namei *n, struct h2_inode *link, const char *rest)
{
	size_t rlen = strlen(rest), tlen = h2i_data(link)->meta.size;
	ssize_t got;

	if (++n->n_links > H2_MAXSYMLINKS)
		return -ELOOP;
	if (tlen == 0)
		return -ENOENT;
	if (tlen + 1 + rlen + 1 > H2_PATH_MAX)
		return -ENAMETOOLONG;
	memmove(n->n_path + tlen + 1, rest, rlen + 1);
	got = h2_read(link, 0, n->n_path, tlen);
	if (got < 0)
		return (int)got;
	if ((size_t)got != tlen || memchr(n->n_path, '\0', tlen) != NULL)
		return -EIO;
	n->n_path[tlen] = '/';
	if (n->n_path[0] == '/') { /* absolute: restart at the PFS root */
		h2i_put(n->n_cur);
		return h2i_get(n->n_pfs, n->n_pfs->p_iroot->i_inum, &n->n_cur);
	}
	return 0;
}

/* Step into one component; *nextp is the inode it names. */
static int
namei_step(struct namei *n, const char *comp, size_t len,
    struct h2_inode **nextp)
{
	hammer2_tid_t inum;
	int error;

	if (len == 1 && comp[0] == '.')
		return h2i_get(n->n_pfs, n->n_cur->i_inum, nextp);
	if (len == 2 && comp[0] == '.' && comp[1] == '.') {
		if ((error = dir_check(n->n_cur)) != 0)
			return error;
		inum = h2i_data(n->n_cur)->meta.iparent;
		if (n->n_cur == n->n_pfs->p_iroot)
			inum = n->n_cur->i_inum; /* root's ".." */
		return h2i_get(n->n_pfs, inum, nextp);
	}
	if ((error = h2_dir_lookup(n->n_cur, comp, len, &n->n_de)) != 0)
		return error;
	return h2i_get(n->n_pfs, n->n_de.d_inum, nextp);
}

static int
namei_walk(struct namei *n, unsigned flags, struct h2_inode **ipp)
{
	struct h2_inode *next;
	char *p, *comp;
	size_t len;
	int error;

	for (;;) {
		for (p = n->n_path; *p == '/'; p++)
			;
		if (*p == '\0') {
			*ipp = n->n_cur;
			n->n_cur = NULL;
			return 0;
		}
		for (comp = p, len = 0; p[len] != '\0' && p[len] != '/'; len++)
			;
		p += len;
		if ((error = dir_check(n->n_cur)) != 0)
			return error;
		if ((error = namei_step(n, comp, len, &next)) != 0)
			return error;
		while (*p == '/')
			p++;
		if (h2i_data(next)->meta.type == HAMMER2_OBJTYPE_SOFTLINK &&
		    (*p != '\0' || (flags & H2_NAMEI_FOLLOW))) {
			error = namei_splice(n, next, p);
			h2i_put(next);
			if (error)
				return error;
			continue;
		}
		h2i_put(n->n_cur);
		n->n_cur = next;
		memmove(n->n_path, p, strlen(p) + 1);
	}
}

int
h2_namei(struct h2_pfs *pfs, const char *path, unsigned flags,
    struct h2_inode **ipp)
{
	struct namei *n;
	size_t len = strlen(path);
	int error;

	*ipp = NULL;
	if (len >= H2_PATH_MAX)
		return -ENAMETOOLONG;
	if ((n = h2p_zalloc(sizeof(*n))) == NULL)
		return -ENOMEM;
	n->n_pfs = pfs;
	if ((n->n_path = h2p_alloc(H2_PATH_MAX)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	memcpy(n->n_path, path, len + 1);
	if ((error = h2i_get(pfs, pfs->p_iroot->i_inum, &n->n_cur)) != 0)
		goto out_path;
	error = namei_walk(n, flags, ipp);
	h2i_put(n->n_cur);
out_path:
	h2p_free(n->n_path, H2_PATH_MAX);
out:
	h2p_free(n, sizeof(*n));
	h2n_trim(pfs->p_mp, 0);
	return error;
}
