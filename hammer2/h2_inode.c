/*
 * h2_inode.c: inodes and PFSs.
 *
 * The super-root inode's tree holds one INODE blockref per PFS, keyed by
 * the directory hash of the PFS name (snapshots are PFSs too). Each PFS
 * root inode (inode number 1) is the root directory of that PFS and also
 * the index of every inode in it: its tree holds INODE blockrefs keyed by
 * inode number (keys below bit 63) beside the root directory's DIRENTs
 * (keys with bit 63 set). Finding inode N is one key lookup in that tree.
 *
 * An inode read from the media is validated before use: version 1, a known
 * type, a name length within 256, direct data only for files and symlinks
 * and only up to 512 bytes, and the number the index promised.
 *
 * Interface: h2_iget, h2_iput, h2_pfs_* in hammer2.h; h2_inode_find in
 * h2_internal.h.
 */
#include "hammer2/h2_internal.h"

static const char *
meta_problem(const struct hammer2_inode_meta *m)
{
	if (m->version != HAMMER2_INODE_VERSION_ONE)
		return "unsupported inode version";
	switch (m->type) {
	case HAMMER2_OBJTYPE_DIRECTORY:
	case HAMMER2_OBJTYPE_REGFILE:
	case HAMMER2_OBJTYPE_FIFO:
	case HAMMER2_OBJTYPE_CDEV:
	case HAMMER2_OBJTYPE_BDEV:
	case HAMMER2_OBJTYPE_SOFTLINK:
	case HAMMER2_OBJTYPE_SOCKET:
	case HAMMER2_OBJTYPE_WHITEOUT:
		break;
	default:
		return "unknown inode type";
	}
	if (m->name_len > HAMMER2_INODE_MAXNAME)
		return "name longer than 256 bytes";
	if (m->op_flags & HAMMER2_OPFLAG_DIRECTDATA) {
		if (m->type != HAMMER2_OBJTYPE_REGFILE &&
		    m->type != HAMMER2_OBJTYPE_SOFTLINK)
			return "direct data in a non-file inode";
		if (m->size > HAMMER2_EMBEDDED_BYTES)
			return "direct data larger than 512 bytes";
	}
	return NULL;
}

int
h2_inode_load(struct h2_mount *mp, const struct hammer2_blockref *bref,
    struct hammer2_inode_data *ip)
{
	const char *why;
	size_t len;
	int error;

	if (bref->type != HAMMER2_BREF_TYPE_INODE)
		return h2_malformed(mp, bref, "not an inode");
	if ((error = h2_bref_read_meta(mp, bref, ip, &len)) != 0)
		return error;
	if (len != HAMMER2_INODE_BYTES)
		return h2_malformed(mp, bref, "inode has no data");
	if ((why = meta_problem(&ip->meta)) != NULL)
		return h2_malformed(mp, bref, why);
	H2_STAT_ADD(mp, st_inodes, 1);
	return 0;
}

struct inum_find {
	struct h2_mount *if_mp;
	hammer2_tid_t if_inum;
	struct hammer2_blockref *if_bref;
	int if_found;
};

static int
inum_leaf(void *arg, const struct hammer2_blockref *bref)
{
	struct inum_find *f = arg;

	if (bref->type != HAMMER2_BREF_TYPE_INODE)
		return h2_malformed(f->if_mp, bref,
		    "inode index entry is not an inode");
	*f->if_bref = *bref;
	f->if_found = 1;
	return 1;
}

int
h2_inode_find(struct h2_pfs *pfs, hammer2_tid_t inum,
    struct hammer2_blockref *bref, struct hammer2_inode_data *ip)
{
	struct h2_mount *mp = pfs->p_mp;
	struct inum_find f = { mp, inum, bref, 0 };
	int error;

	if (inum == pfs->p_root.meta.inum) {
		*bref = pfs->p_bref;
		memcpy(ip, &pfs->p_root, sizeof(*ip));
		return 0;
	}
	if (inum & HAMMER2_DIRHASH_VISIBLE)
		return -ENOENT;
	error = h2_tree_scan(mp, pfs->p_root.u.blockset.blockref,
	    HAMMER2_SET_COUNT, inum, inum, inum_leaf, &f);
	if (error < 0)
		return error;
	if (!f.if_found)
		return -ENOENT;
	if ((error = h2_inode_load(mp, bref, ip)) != 0)
		return error;
	if (ip->meta.inum != inum)
		return h2_malformed(mp, bref, "inode number differs from key");
	return 0;
}

int
h2_iget(struct h2_pfs *pfs, hammer2_tid_t inum, struct h2_inode **ipp)
{
	struct h2_inode *ip;
	int error;

	*ipp = NULL;
	if ((ip = h2p_alloc(sizeof(*ip))) == NULL)
		return -ENOMEM;
	if ((error = h2_inode_find(pfs, inum, &ip->i_bref, &ip->i_data)) != 0) {
		h2p_free(ip, sizeof(*ip));
		return error;
	}
	ip->i_pfs = pfs;
	pfs->p_ninodes++;
	*ipp = ip;
	return 0;
}

void
h2_iput(struct h2_inode *ip)
{
	if (ip == NULL)
		return;
	H2_ASSERT(ip->i_pfs->p_ninodes > 0);
	ip->i_pfs->p_ninodes--;
	h2p_free(ip, sizeof(*ip));
}

const struct hammer2_inode_data *
h2_idata(const struct h2_inode *ip)
{
	return &ip->i_data;
}

const struct hammer2_blockref *
h2_ibref(const struct h2_inode *ip)
{
	return &ip->i_bref;
}

/* ---- PFSs: the entries of the super-root ---- */

struct pfs_walk {
	struct h2_mount *pw_mp;
	h2_pfs_fn *pw_fn;
	void *pw_arg;
	const char *pw_name; /* h2_pfs_open: the name wanted */
	size_t pw_len;
	struct hammer2_inode_data pw_ip;
	struct hammer2_blockref pw_bref;
};

static int
pfs_leaf(void *arg, const struct hammer2_blockref *bref)
{
	struct pfs_walk *pw = arg;
	const struct hammer2_inode_meta *m = &pw->pw_ip.meta;
	struct h2_pfs_info pi;
	int error;

	if (bref->type != HAMMER2_BREF_TYPE_INODE)
		return h2_malformed(pw->pw_mp, bref,
		    "super-root entry is not an inode");
	if ((error = h2_inode_load(pw->pw_mp, bref, &pw->pw_ip)) != 0)
		return error;
	if (m->type != HAMMER2_OBJTYPE_DIRECTORY || m->name_len == 0 ||
	    h2_name_valid((const char *)pw->pw_ip.filename, m->name_len) != 0)
		return h2_malformed(pw->pw_mp, bref, "bad PFS root inode");
	if (pw->pw_name != NULL) {
		if (m->name_len != pw->pw_len ||
		    memcmp(pw->pw_ip.filename, pw->pw_name, pw->pw_len) != 0)
			return 0;
		pw->pw_bref = *bref;
		return 1;
	}
	memcpy(pi.pi_name, pw->pw_ip.filename, m->name_len);
	pi.pi_name[m->name_len] = '\0';
	pi.pi_bref = bref;
	pi.pi_inode = &pw->pw_ip;
	return pw->pw_fn(pw->pw_arg, &pi);
}

int
h2_pfs_foreach(struct h2_mount *mp, h2_pfs_fn *fn, void *arg)
{
	struct pfs_walk *pw;
	int error;

	if ((pw = h2p_zalloc(sizeof(*pw))) == NULL)
		return -ENOMEM;
	pw->pw_mp = mp;
	pw->pw_fn = fn;
	pw->pw_arg = arg;
	error = h2_tree_scan(mp, mp->m_sroot.u.blockset.blockref,
	    HAMMER2_SET_COUNT, 0, HAMMER2_KEY_MAX, pfs_leaf, pw);
	h2p_free(pw, sizeof(*pw));
	return error;
}

int
h2_pfs_open(struct h2_mount *mp, const char *name, struct h2_pfs **pfsp)
{
	struct pfs_walk *pw;
	struct h2_pfs *pfs;
	hammer2_key_t hash;
	size_t len = strlen(name);
	int error;

	*pfsp = NULL;
	if (len == 0 || len > HAMMER2_INODE_MAXNAME)
		return -ENOENT;
	if ((pw = h2p_zalloc(sizeof(*pw))) == NULL)
		return -ENOMEM;
	pw->pw_mp = mp;
	pw->pw_name = name;
	pw->pw_len = len;
	hash = h2_dirhash(name, len);
	error =
	    h2_tree_scan(mp, mp->m_sroot.u.blockset.blockref, HAMMER2_SET_COUNT,
		hash, hash | HAMMER2_DIRHASH_LOMASK, pfs_leaf, pw);
	if (error == 0)
		error = -ENOENT;
	if (error < 0)
		goto out;
	if ((pfs = h2p_zalloc(sizeof(*pfs))) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	pfs->p_mp = mp;
	pfs->p_bref = pw->pw_bref;
	memcpy(&pfs->p_root, &pw->pw_ip, sizeof(pfs->p_root));
	mp->m_npfs++;
	*pfsp = pfs;
	error = 0;
out:
	h2p_free(pw, sizeof(*pw));
	return error;
}

void
h2_pfs_close(struct h2_pfs *pfs)
{
	if (pfs == NULL)
		return;
	H2_ASSERT(pfs->p_ninodes == 0);
	H2_ASSERT(pfs->p_mp->m_npfs > 0);
	pfs->p_mp->m_npfs--;
	h2p_free(pfs, sizeof(*pfs));
}

const struct hammer2_inode_data *
h2_pfs_root(const struct h2_pfs *pfs)
{
	return &pfs->p_root;
}
