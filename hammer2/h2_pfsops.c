/*
 * h2_pfsops.c: creating, deleting and snapshotting PFSs, as DragonFly's
 * hammer2_ioctl.c does.
 *
 * A PFS is a root inode (inode number 1, a directory, OPFLAG_PFSROOT,
 * blockref flag PFSROOT) in the super-root's tree, keyed by the hash of
 * its name (first free key from the hash up, like a directory entry) and
 * named in its filename field. Its blockref takes the super-root's
 * methods, as DragonFly's hammer2_chain_create inherits them.
 *
 *  - pfs-create: an empty root; compression LZ4 and check XXHASH64 unless
 *    asked otherwise ("boot" gets AUTOZERO, as upstream); type MASTER.
 *  - pfs-delete: the root's blockref leaves the super-root; the blocks of
 *    the PFS are freed by later bulkfree passes.
 *  - snapshot: the source PFS is flushed, then a new root is made whose
 *    block table is a copy of the source root's, so the two share every
 *    block; as DragonFly, the new root inherits the super-root's methods,
 *    is subtype SNAPSHOT with fresh ids, starts its inode numbers past the
 *    source's, and both record the transaction id in pfs_lsnap_tid. From
 *    then on either side changes by copy on write only, so neither sees
 *    the other's changes. The snapshot is committed by a second flush.
 *
 * The library has no random source; ids not given are derived from the
 * volume's fsid, the name and the time (the host tools pass random ones).
 *
 * Interface: h2_pfs_create, h2_pfs_delete, h2_snapshot in hammer2.h.
 */
#include "hammer2/h2_internal.h"
#include "hammer2/h2_hash.h"

static void
made_up_uuid(struct h2_mount *mp, const char *name, size_t len, int which,
    struct hammer2_uuid *u)
{
	uint64_t h[2];

	h[0] = h2_xxh64(name, len, h2p_time_ns() ^ (uint64_t)which);
	h[1] = h2_xxh64(&mp->m_vol->fsid, sizeof(mp->m_vol->fsid), h[0]);
	memcpy(u, h, sizeof(*u));
	u->time_hi_and_version =
	    (uint16_t)((u->time_hi_and_version & 0x0fff) | 0x4000);
	u->clock_seq_hi_and_reserved =
	    (uint8_t)((u->clock_seq_hi_and_reserved & 0x3f) | 0x80);
}

static int
uuid_zero(const struct hammer2_uuid *u)
{
	static const struct hammer2_uuid z;

	return memcmp(u, &z, sizeof(z)) == 0;
}

/* A new PFS root node (not yet in the super-root) named name at lhc. */
static int
pfs_root_new(struct h2_mount *mp, const char *name, size_t len,
    hammer2_key_t lhc, struct h2_node **np)
{
	const struct hammer2_inode_meta *sm = &h2i_data(mp->m_sroot)->meta;
	struct hammer2_inode_data *d;
	struct hammer2_blockref b;
	struct h2_node *n;
	int check = HAMMER2_DEC_CHECK(mp->m_sroot->i_node->n_bref.methods);

	memset(&b, 0, sizeof(b));
	b.type = HAMMER2_BREF_TYPE_INODE;
	b.key = lhc;
	b.flags = HAMMER2_BREF_FLAG_PFSROOT;
	if (check == HAMMER2_CHECK_NONE)
		check = HAMMER2_CHECK_DEFAULT;
	b.methods = (uint8_t)(HAMMER2_ENC_CHECK(check) |
	    HAMMER2_ENC_COMP(
		HAMMER2_DEC_COMP(mp->m_sroot->i_node->n_bref.methods)));
	b.data_off = HAMMER2_INODE_RADIX;
	if ((n = h2n_alloc(mp, &b, HAMMER2_INODE_BYTES)) == NULL)
		return -ENOMEM;
	d = n->n_data;
	d->meta.version = HAMMER2_INODE_VERSION_ONE;
	d->meta.type = HAMMER2_OBJTYPE_DIRECTORY;
	d->meta.inum = 1;
	d->meta.iparent = 1;
	d->meta.comp_algo = sm->comp_algo;
	d->meta.check_algo = sm->check_algo;
	d->meta.ctime = d->meta.mtime = h2_now_us();
	d->meta.mode = 0755;
	d->meta.nlinks = 1;
	d->meta.name_len = (uint16_t)len;
	d->meta.name_key = lhc;
	memcpy(d->filename, name, len);
	d->meta.op_flags = HAMMER2_OPFLAG_PFSROOT;
	d->meta.pfs_type = HAMMER2_PFSTYPE_MASTER;
	h2n_sort(n);
	*np = n;
	return 0;
}

/* Checks shared by create and snapshot; *lhcp gets the key. */
static int
pfs_name_free(struct h2_mount *mp, const char *name, hammer2_key_t *lhcp)
{
	size_t len = strlen(name);
	struct h2_node *n;
	int slot, error;

	if ((error = h2_writable(mp)) != 0)
		return error;
	if (len >= HAMMER2_INODE_MAXNAME)
		return -ENAMETOOLONG;
	if (h2_name_valid(name, len) != 0)
		return -EINVAL;
	error = h2_pfs_find(mp, name, len, &n, &slot);
	if (error != -ENOENT)
		return error ? error : -EEXIST;
	if ((error = h2_space(mp, 4 * HAMMER2_INODE_BYTES)) != 0)
		return error;
	return h2_free_lhc(mp, mp->m_sroot->i_node, h2_dirhash(name, len),
	    lhcp);
}

static int
pfs_insert(struct h2_mount *mp, struct h2_node *n)
{
	int error = h2n_insert_node(mp, mp->m_sroot->i_node, n);

	if (error) {
		h2n_free_tree(mp, n);
		return error == -EEXIST ? h2_fail(mp, -EIO) : error;
	}
	h2i_modify(mp->m_sroot);
	return 0;
}

int
h2_pfs_create(struct h2_mount *mp, const char *name,
    const struct h2_pfs_opts *po)
{
	static const struct h2_pfs_opts none;
	struct hammer2_inode_meta *m;
	size_t len = strlen(name);
	hammer2_key_t lhc;
	struct h2_node *n;
	int error;

	if (po == NULL)
		po = &none;
	if (HAMMER2_DEC_ALGO(po->po_check) > HAMMER2_CHECK_SHA192 ||
	    (HAMMER2_DEC_ALGO(po->po_comp) > HAMMER2_COMP_ZLIB &&
		HAMMER2_DEC_ALGO(po->po_comp) != HAMMER2_COMP_DF_ZSTD) ||
	    po->po_type >= HAMMER2_PFSTYPE_MAX ||
	    po->po_type == HAMMER2_PFSTYPE_SUPROOT)
		return -EINVAL;
	if ((error = pfs_name_free(mp, name, &lhc)) != 0 ||
	    (error = pfs_root_new(mp, name, len, lhc, &n)) != 0)
		goto out;
	m = &((struct hammer2_inode_data *)n->n_data)->meta;
	m->pfs_type = po->po_type ? po->po_type : HAMMER2_PFSTYPE_MASTER;
	m->comp_algo = po->po_comp ? po->po_comp : HAMMER2_COMP_LZ4;
	m->check_algo = po->po_check ? po->po_check : HAMMER2_CHECK_XXHASH64;
	if (po->po_comp == 0 &&
	    (len == 4 && (name[0] | 0x20) == 'b' && (name[1] | 0x20) == 'o' &&
		(name[2] | 0x20) == 'o' && (name[3] | 0x20) == 't'))
		m->comp_algo = HAMMER2_COMP_AUTOZERO;
	m->pfs_clid = po->po_clid;
	m->pfs_fsid = po->po_fsid;
	if (uuid_zero(&m->pfs_clid))
		made_up_uuid(mp, name, len, 1, &m->pfs_clid);
	if (uuid_zero(&m->pfs_fsid))
		made_up_uuid(mp, name, len, 2, &m->pfs_fsid);
	error = pfs_insert(mp, n);
out:
	h2n_trim(mp, 0);
	return error;
}

int
h2_pfs_delete(struct h2_mount *mp, const char *name)
{
	struct h2_node *n;
	int slot, error;

	if ((error = h2_writable(mp)) != 0)
		return error;
	error = h2_pfs_find(mp, name, strlen(name), &n, &slot);
	if (error)
		goto out;
	if (n->n_kids != NULL && n->n_kids[slot] != NULL &&
	    n->n_kids[slot]->n_refs > 0) {
		error = -EBUSY;
		goto out;
	}
	h2n_delete(mp, n, slot);
	h2i_modify(mp->m_sroot);
out:
	h2n_trim(mp, 0);
	return error;
}

int
h2_snapshot(struct h2_pfs *pfs, const char *name)
{
	struct h2_mount *mp = pfs->p_mp;
	struct hammer2_inode_data *src, *d;
	size_t len = strlen(name);
	hammer2_key_t lhc;
	struct h2_node *n;
	int error;

	if ((error = pfs_name_free(mp, name, &lhc)) != 0)
		goto out;
	if ((error = h2_flush(mp)) != 0)
		goto out;
	if ((error = pfs_root_new(mp, name, len, lhc, &n)) != 0)
		goto out;
	src = h2i_data(pfs->p_iroot);
	d = n->n_data;
	H2_ASSERT(!(pfs->p_iroot->i_node->n_flags & H2N_DIRTY));
	d->u.blockset = src->u.blockset;
	d->meta.pfs_inum = src->meta.pfs_inum + 1;
	d->meta.pfs_subtype = HAMMER2_PFSSUBTYPE_SNAPSHOT;
	d->meta.pfs_lsnap_tid = mp->m_tid;
	made_up_uuid(mp, name, len, 3, &d->meta.pfs_clid);
	made_up_uuid(mp, name, len, 4, &d->meta.pfs_fsid);
	n->n_bref.embed.stats = pfs->p_iroot->i_node->n_bref.embed.stats;
	h2n_sort(n);
	src->meta.pfs_lsnap_tid = mp->m_tid;
	h2i_modify(pfs->p_iroot);
	if ((error = pfs_insert(mp, n)) != 0)
		goto out;
	error = h2_flush(mp);
out:
	h2n_trim(mp, 0);
	return error;
}
