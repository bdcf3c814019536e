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
 * In memory each open PFS is one object (struct h2_pfs) however often it
 * is opened, and each inode one object (struct h2_inode) however many
 * handles point at it, found through the PFS's hash by inode number. An
 * inode object pins its node; it outlives its last handle while it holds
 * dirty file data (written out by the flush or when the PFS closes). The
 * super-root has a PFS object of its own (m_spfs), never in the list.
 *
 * New inode numbers: max(pfs_inum + 1, 1024), recorded back in the PFS
 * root's pfs_inum, as DragonFly's inode_tid does.
 *
 * Interface: h2_iget, h2_iput, h2_pfs_* in hammer2.h; h2i_* and h2_pfs_find
 * in h2_internal.h.
 */
#include "hammer2/h2_internal.h"

const char *
h2_inode_problem(const struct hammer2_inode_meta *m)
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
	if ((why = h2_inode_problem(&ip->meta)) != NULL)
		return h2_malformed(mp, bref, why);
	H2_STAT_ADD(mp, st_inodes, 1);
	return 0;
}

uint64_t
h2_now_us(void)
{
	return h2p_time_ns() / 1000;
}

/* ---- inode objects ---- */

static struct h2_inode **
hash_slot(struct h2_pfs *pfs, hammer2_tid_t inum)
{
	return &pfs->p_hash[(inum * 0x9E3779B97F4A7C15ull) >> 58 &
	    (H2_IHASH - 1)];
}

static struct h2_inode *
hash_find(struct h2_pfs *pfs, hammer2_tid_t inum)
{
	struct h2_inode *ip;

	for (ip = *hash_slot(pfs, inum); ip != NULL; ip = ip->i_hnext)
		if (ip->i_inum == inum)
			return ip;
	return NULL;
}

static void
hash_remove(struct h2_inode *ip)
{
	struct h2_inode **pp = hash_slot(ip->i_pfs, ip->i_inum);

	for (; *pp != NULL; pp = &(*pp)->i_hnext) {
		if (*pp == ip) {
			*pp = ip->i_hnext;
			return;
		}
	}
}

int
h2i_get_node(struct h2_pfs *pfs, struct h2_node *node, struct h2_inode **ipp)
{
	const struct hammer2_inode_data *d = node->n_data;
	struct h2_inode *ip;

	if ((ip = hash_find(pfs, d->meta.inum)) != NULL) {
		H2_ASSERT(ip->i_node == node);
		ip->i_refs++;
		*ipp = ip;
		return 0;
	}
	if ((ip = h2p_zalloc(sizeof(*ip))) == NULL)
		return -ENOMEM;
	ip->i_pfs = pfs;
	ip->i_node = node;
	ip->i_inum = d->meta.inum;
	ip->i_refs = 1;
	node->n_refs++;
	ip->i_hnext = *hash_slot(pfs, ip->i_inum);
	*hash_slot(pfs, ip->i_inum) = ip;
	*ipp = ip;
	return 0;
}

void
h2i_release(struct h2_inode *ip)
{
	H2_ASSERT(ip->i_refs == 0 && ip->i_dbufs == NULL);
	hash_remove(ip);
	if (ip->i_node != NULL)
		ip->i_node->n_refs--;
	h2p_free(ip, sizeof(*ip));
}

void
h2i_modify(struct h2_inode *ip)
{
	h2n_dirty(ip->i_pfs->p_mp, ip->i_node);
}

void
h2i_destroy(struct h2_inode *ip)
{
	struct h2_mount *mp = ip->i_pfs->p_mp;
	struct h2_node *n = ip->i_node;

	H2_ASSERT(ip->i_refs == 0);
	h2_dbuf_drop_all(ip);
	n->n_refs--;
	ip->i_node = NULL;
	if (n->n_parent != NULL)
		h2n_delete(mp, n->n_parent, n->n_slot);
	else
		h2n_free_tree(mp, n);
	hash_remove(ip);
	h2p_free(ip, sizeof(*ip));
}

hammer2_tid_t
h2i_new_inum(struct h2_pfs *pfs)
{
	struct hammer2_inode_data *root = h2i_data(pfs->p_iroot);
	hammer2_tid_t inum = root->meta.pfs_inum + 1;

	if (inum < HAMMER2_INODE_START)
		inum = HAMMER2_INODE_START;
	root->meta.pfs_inum = inum;
	h2i_modify(pfs->p_iroot);
	return inum;
}

/* Find inode inum below the PFS root: its loaded node. */
static int
inode_node(struct h2_pfs *pfs, hammer2_tid_t inum, struct h2_node **kidp)
{
	struct h2_mount *mp = pfs->p_mp;
	const struct hammer2_inode_data *d;
	struct h2_node *n, *kid;
	int slot, error;

	if (inum & HAMMER2_DIRHASH_VISIBLE)
		return -ENOENT;
	error = h2n_find(mp, pfs->p_iroot->i_node, inum, &n, &slot);
	if (error)
		return error;
	if (h2n_base(n)[slot].key != inum)
		return -ENOENT;
	if (h2n_base(n)[slot].type != HAMMER2_BREF_TYPE_INODE)
		return h2_malformed(mp, &h2n_base(n)[slot],
		    "inode index entry is not an inode");
	if ((error = h2n_kid(mp, n, slot, &kid)) != 0)
		return error;
	d = kid->n_data;
	if (d->meta.inum != inum)
		return h2_malformed(mp, &kid->n_bref,
		    "inode number differs from key");
	*kidp = kid;
	return 0;
}

int
h2i_get(struct h2_pfs *pfs, hammer2_tid_t inum, struct h2_inode **ipp)
{
	struct h2_node *node = NULL;
	int error;

	*ipp = NULL;
	if (inum == pfs->p_iroot->i_inum)
		node = pfs->p_iroot->i_node;
	else if (hash_find(pfs, inum) != NULL)
		node = hash_find(pfs, inum)->i_node;
	else if ((error = inode_node(pfs, inum, &node)) != 0)
		return error;
	if ((error = h2i_get_node(pfs, node, ipp)) != 0)
		return error;
	pfs->p_ninodes++;
	return 0;
}

int
h2_iget(struct h2_pfs *pfs, hammer2_tid_t inum, struct h2_inode **ipp)
{
	int error = h2i_get(pfs, inum, ipp);

	if (error)
		h2n_trim(pfs->p_mp, 0);
	return error;
}

void
h2_iref(struct h2_inode *ip)
{
	ip->i_refs++;
	ip->i_pfs->p_ninodes++;
}

void
h2i_put(struct h2_inode *ip)
{
	struct h2_pfs *pfs;

	if (ip == NULL)
		return;
	pfs = ip->i_pfs;
	H2_ASSERT(ip->i_refs > 0 && pfs->p_ninodes > 0);
	pfs->p_ninodes--;
	if (--ip->i_refs > 0)
		return;
	if (ip->i_flags & H2I_UNLINKED)
		h2i_destroy(ip);
	else if (ip->i_dbufs == NULL && ip != pfs->p_iroot)
		h2i_release(ip);
}

void
h2_iput(struct h2_inode *ip)
{
	struct h2_mount *mp;

	if (ip == NULL)
		return;
	mp = ip->i_pfs->p_mp;
	h2i_put(ip);
	h2n_trim(mp, 0);
}

const struct hammer2_inode_data *
h2_idata(const struct h2_inode *ip)
{
	return h2i_data(ip);
}

const struct hammer2_blockref *
h2_ibref(const struct h2_inode *ip)
{
	return &ip->i_node->n_bref;
}

/* ---- PFSs: the entries of the super-root ---- */

struct pfs_walk {
	struct h2_mount *pw_mp;
	h2_pfs_fn *pw_fn;
	void *pw_arg;
	const char *pw_name; /* h2_pfs_find: the name wanted */
	size_t pw_len;
	hammer2_key_t pw_key; /* found */
	struct hammer2_inode_data pw_ip;
};

static int
pfs_leaf(void *arg, const struct hammer2_blockref *bref, struct h2_node *kid)
{
	struct pfs_walk *pw = arg;
	const struct hammer2_inode_meta *m = &pw->pw_ip.meta;
	struct h2_pfs_info pi;
	int error;

	if (bref->type != HAMMER2_BREF_TYPE_INODE)
		return h2_malformed(pw->pw_mp, bref,
		    "super-root entry is not an inode");
	if (kid != NULL)
		memcpy(&pw->pw_ip, kid->n_data, sizeof(pw->pw_ip));
	else if ((error = h2_inode_load(pw->pw_mp, bref, &pw->pw_ip)) != 0)
		return error;
	if (m->type != HAMMER2_OBJTYPE_DIRECTORY || m->name_len == 0 ||
	    h2_name_valid((const char *)pw->pw_ip.filename, m->name_len) != 0)
		return h2_malformed(pw->pw_mp, bref, "bad PFS root inode");
	if (pw->pw_name != NULL) {
		if (m->name_len != pw->pw_len ||
		    memcmp(pw->pw_ip.filename, pw->pw_name, pw->pw_len) != 0)
			return 0;
		pw->pw_key = bref->key;
		return 1;
	}
	memcpy(pi.pi_name, pw->pw_ip.filename, m->name_len);
	pi.pi_name[m->name_len] = '\0';
	pi.pi_bref = kid != NULL ? &kid->n_bref : bref;
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
	error = h2_node_walk(mp, mp->m_sroot->i_node, 0, HAMMER2_KEY_MAX,
	    pfs_leaf, pw);
	h2p_free(pw, sizeof(*pw));
	return error;
}

int
h2_pfs_find(struct h2_mount *mp, const char *name, size_t len,
    struct h2_node **np, int *slotp)
{
	struct pfs_walk *pw;
	hammer2_key_t hash;
	int error;

	if (len == 0 || len > HAMMER2_INODE_MAXNAME)
		return -ENOENT;
	if ((pw = h2p_zalloc(sizeof(*pw))) == NULL)
		return -ENOMEM;
	pw->pw_mp = mp;
	pw->pw_name = name;
	pw->pw_len = len;
	hash = h2_dirhash(name, len);
	error = h2_node_walk(mp, mp->m_sroot->i_node, hash,
	    hash | HAMMER2_DIRHASH_LOMASK, pfs_leaf, pw);
	if (error == 0)
		error = -ENOENT;
	if (error > 0)
		error =
		    h2n_find(mp, mp->m_sroot->i_node, pw->pw_key, np, slotp);
	h2p_free(pw, sizeof(*pw));
	return error;
}

static struct h2_pfs *
pfs_lookup(struct h2_mount *mp, struct h2_node *root)
{
	struct h2_pfs *pfs;

	for (pfs = mp->m_pfslist; pfs != NULL; pfs = pfs->p_next)
		if (pfs->p_iroot->i_node == root)
			return pfs;
	return NULL;
}

int
h2_pfs_open(struct h2_mount *mp, const char *name, struct h2_pfs **pfsp)
{
	struct h2_node *n, *root;
	struct h2_pfs *pfs;
	size_t len = strlen(name);
	int slot, error;

	*pfsp = NULL;
	if ((error = h2_pfs_find(mp, name, len, &n, &slot)) != 0)
		goto out;
	if ((error = h2n_load_inode(mp, n, slot, &root)) != 0)
		goto out;
	if ((pfs = pfs_lookup(mp, root)) == NULL) {
		if ((pfs = h2p_zalloc(sizeof(*pfs))) == NULL) {
			error = -ENOMEM;
			goto out;
		}
		pfs->p_mp = mp;
		memcpy(pfs->p_name, name, len);
		if ((error = h2i_get_node(pfs, root, &pfs->p_iroot)) != 0) {
			h2p_free(pfs, sizeof(*pfs));
			goto out;
		}
		pfs->p_next = mp->m_pfslist;
		mp->m_pfslist = pfs;
	}
	pfs->p_refs++;
	mp->m_npfs++;
	*pfsp = pfs;
	return 0;
out:
	h2n_trim(mp, 0);
	return error;
}

/* Free every inode object of pfs; write out dirty data first. */
static int
pfs_drop_inodes(struct h2_pfs *pfs)
{
	struct h2_inode *ip, *next;
	int i, error = 0, e, writable = h2_writable(pfs->p_mp) == 0;

	for (i = 0; i < H2_IHASH; i++) {
		for (ip = pfs->p_hash[i]; ip != NULL; ip = next) {
			next = ip->i_hnext;
			if (ip == pfs->p_iroot)
				continue;
			H2_ASSERT(ip->i_refs == 0);
			if (writable && (e = h2_inode_writeout(ip)) != 0 &&
			    error == 0)
				error = e;
			h2_dbuf_drop_all(ip);
			h2i_release(ip);
		}
	}
	if (writable && (e = h2_inode_writeout(pfs->p_iroot)) != 0 &&
	    error == 0)
		error = e;
	h2_dbuf_drop_all(pfs->p_iroot);
	return error;
}

static void
pfs_free(struct h2_mount *mp, struct h2_pfs *pfs)
{
	struct h2_pfs **pp;
	int error;

	if ((error = pfs_drop_inodes(pfs)) != 0)
		h2_fail(mp, error);
	pfs->p_iroot->i_refs--;
	h2i_release(pfs->p_iroot);
	for (pp = &mp->m_pfslist; *pp != NULL; pp = &(*pp)->p_next) {
		if (*pp == pfs) {
			*pp = pfs->p_next;
			break;
		}
	}
	h2p_free(pfs, sizeof(*pfs));
}

void
h2_pfs_close(struct h2_pfs *pfs)
{
	struct h2_mount *mp;

	if (pfs == NULL)
		return;
	mp = pfs->p_mp;
	H2_ASSERT(pfs->p_refs > 0 && mp->m_npfs > 0);
	mp->m_npfs--;
	if (--pfs->p_refs > 0)
		return;
	H2_ASSERT(pfs->p_ninodes == 0);
	pfs_free(mp, pfs);
	h2n_trim(mp, 0);
}

int
h2_pfs_writeout(struct h2_mount *mp)
{
	struct h2_inode *ip, *next;
	struct h2_pfs *pfs;
	int i, error;

	for (pfs = mp->m_pfslist; pfs != NULL; pfs = pfs->p_next) {
		for (i = 0; i < H2_IHASH; i++) {
			for (ip = pfs->p_hash[i]; ip != NULL; ip = next) {
				next = ip->i_hnext;
				if ((error = h2_inode_writeout(ip)) != 0)
					return error;
			}
		}
	}
	return 0;
}

void
h2_pfs_gc(struct h2_mount *mp)
{
	struct h2_inode *ip, *next;
	struct h2_pfs *pfs;
	int i;

	for (pfs = mp->m_pfslist; pfs != NULL; pfs = pfs->p_next) {
		for (i = 0; i < H2_IHASH; i++) {
			for (ip = pfs->p_hash[i]; ip != NULL; ip = next) {
				next = ip->i_hnext;
				if (ip->i_refs == 0 && ip->i_dbufs == NULL)
					h2i_release(ip);
			}
		}
	}
}

const struct hammer2_inode_data *
h2_pfs_root(const struct h2_pfs *pfs)
{
	return h2i_data(pfs->p_iroot);
}

struct h2_mount *
h2_pfs_mount(const struct h2_pfs *pfs)
{
	return pfs->p_mp;
}

/* Create the super-root's objects at mount time. */
int h2_sroot_init(struct h2_mount *mp, struct h2_node *sroot);
void h2_sroot_fini(struct h2_mount *mp);

int
h2_sroot_init(struct h2_mount *mp, struct h2_node *sroot)
{
	struct h2_pfs *spfs;
	int error;

	if ((spfs = h2p_zalloc(sizeof(*spfs))) == NULL)
		return -ENOMEM;
	spfs->p_mp = mp;
	spfs->p_super = 1;
	memcpy(spfs->p_name, "SUPROOT", 7);
	if ((error = h2i_get_node(spfs, sroot, &spfs->p_iroot)) != 0) {
		h2p_free(spfs, sizeof(*spfs));
		return error;
	}
	mp->m_spfs = spfs;
	mp->m_sroot = spfs->p_iroot;
	return 0;
}

void
h2_sroot_fini(struct h2_mount *mp)
{
	struct h2_pfs *spfs = mp->m_spfs;

	if (spfs == NULL)
		return;
	h2_dbuf_drop_all(spfs->p_iroot);
	spfs->p_iroot->i_refs--;
	h2i_release(spfs->p_iroot);
	h2p_free(spfs, sizeof(*spfs));
	mp->m_spfs = NULL;
	mp->m_sroot = NULL;
}
