/*
 * h2_flush.c: transactions.
 *
 * Everything a writable mount changes stays in memory (dirty nodes, dirty
 * file blocks, freemap leaves) until h2_flush commits it, which goes as
 * DragonFly's hammer2_flush and hammer2_vfs_sync go:
 *
 *  1. Dirty file blocks are written out (compressed, checked, each to a
 *     newly allocated block) and their blockrefs entered in the tree.
 *  2. Dirty nodes are written bottom-up: each gets a new block (copy on
 *     write), mirror_tid and modify_tid of this transaction, statistics
 *     recomputed from its block table (embed.stats, leaf_count), its check
 *     code, and its blockref copied into its parent, up to the super-root
 *     set of the volume header. A dirty indirect block whose entries fit
 *     in its parent is folded into it instead (h2n_fold, DragonFly's
 *     hammer2_chain_indirect_maintenance), so trees shrink after deletes.
 *  3. The freemap blocks changed by these allocations go to their next
 *     rotating reserved slots (h2_freemap.c).
 *  4. The device is flushed: everything the new header will point to is
 *     now on the media.
 *  5. The volume header (mirror_tid and freemap_tid = this transaction,
 *     allocator_free, the two blocksets, three CRCs) is written to the
 *     next header slot in rotation, and the device flushed again.
 *
 * No block the previous transaction left reachable is written before step
 * 5: new blocks come only from space the freemap calls free (blocks freed
 * by bulkfree are no longer reachable from the last header), freemap
 * blocks from the next rotating slot, and the header goes to the slot
 * after the current one. So a crash anywhere leaves the previous header
 * the newest valid one, with its whole tree intact, or the new one fully
 * written. The freemap is flushed with the tree, so freemap_tid equals
 * mirror_tid and no mount-time recovery scan is needed.
 *
 * A failure half-way (an I/O error, no memory, no space) fails the mount
 * (h2_fail): the in-memory state is no longer what any header says, so
 * further modifications and flushes are refused until a remount reads the
 * last committed transaction back.
 *
 * Interface: h2_flush, h2_fsync, h2_mount_error, h2_dirty_bytes in
 * hammer2.h; h2_writable, h2_fail, h2_space, h2_write_block in
 * h2_internal.h.
 */
#include "hammer2/h2_internal.h"

int
h2_writable(struct h2_mount *mp)
{
	if (!(mp->m_flags & H2_MNT_RDWR))
		return -EROFS;
	if (mp->m_error)
		return -EIO;
	return 0;
}

int
h2_fail(struct h2_mount *mp, int error)
{
	if (mp->m_error == 0) {
		mp->m_error = error < 0 ? error : -EIO;
		h2p_log(H2_LOG_ERR,
		    "hammer2: mount failed (error %d); changes since the last "
		    "flush are lost, the media hold the last flushed state",
		    error);
	}
	return error;
}

int
h2_mount_error(const struct h2_mount *mp)
{
	return mp->m_error;
}

uint64_t
h2_dirty_bytes(const struct h2_mount *mp)
{
	return mp->m_dirty_bytes + (uint64_t)mp->m_ndbufs * HAMMER2_PBUFSIZE;
}

int
h2_space(struct h2_mount *mp, uint64_t bytes)
{
	const struct hammer2_volume_data *vd = mp->m_vol;
	uint64_t reserve = vd->allocator_size / 20;

	if (reserve > (64u << 20))
		reserve = 64u << 20;
	bytes += reserve + 2 * (uint64_t)h2_dirty_bytes(mp);
	return vd->allocator_free < bytes ? -ENOSPC : 0;
}

static int
write_at(struct h2_mount *mp, hammer2_off_t data_off, const void *data,
    size_t bytes)
{
	hammer2_off_t off = data_off & HAMMER2_OFF_MASK;
	int error;

	h2_cache_forget(mp, off);
	if ((error = h2_dev_write(mp->m_dev, off, data, bytes)) != 0) {
		h2_set_problem(mp, "write error %d at 0x%016llx", error,
		    (unsigned long long)off);
		return -EIO;
	}
	h2p_lock(&mp->m_lock);
	mp->m_stats.st_blocks_written++;
	mp->m_stats.st_bytes_written += bytes;
	h2p_unlock(&mp->m_lock);
	return 0;
}

int
h2_write_block(struct h2_mount *mp, struct hammer2_blockref *bref,
    const void *data, size_t bytes)
{
	hammer2_off_t doff;
	int error;

	error = h2_alloc(mp, bref->type, bytes, bref->key, &doff);
	if (error)
		return error;
	bref->data_off = doff;
	bref->mirror_tid = mp->m_tid;
	bref->modify_tid = mp->m_tid;
	h2_bref_setcheck(bref, data, bytes);
	return write_at(mp, doff, data, bytes);
}

/* embed.stats and leaf_count of a node from its block table. */
static void
node_stats(struct h2_node *n)
{
	struct hammer2_blockref *base = h2n_base(n), *e;
	uint64_t data = 0, inodes = 0, leaves = 0;
	int i;

	for (i = 0; base != NULL && i < n->n_live; i++) {
		e = &base[i];
		data += h2_bref_bytes(e);
		switch (e->type) {
		case HAMMER2_BREF_TYPE_INODE:
			inodes += 1 + e->embed.stats.inode_count;
			data += e->embed.stats.data_count;
			leaves++;
			break;
		case HAMMER2_BREF_TYPE_INDIRECT:
			inodes += e->embed.stats.inode_count;
			data += e->embed.stats.data_count;
			leaves += e->leaf_count;
			break;
		default:
			leaves++;
			break;
		}
	}
	n->n_bref.embed.stats.data_count = data;
	n->n_bref.embed.stats.inode_count = inodes;
	n->n_bref.leaf_count = leaves > HAMMER2_BLOCKREF_LEAF_MAX ?
	    HAMMER2_BLOCKREF_LEAF_MAX :
	    (uint16_t)leaves;
}

/*
 * Write n's dirty children, then n. 1 when n was folded into its parent
 * instead (h2n_fold: the parent's slots changed), 0 when written.
 */
static int
flush_node(struct h2_mount *mp, struct h2_node *n, int depth)
{
	struct hammer2_blockref *b = &n->n_bref;
	hammer2_off_t doff;
	int i, error;

	if (depth > 4 * H2_MAX_DEPTH)
		return h2_malformed(mp, b, "tree too deep to flush");
	for (i = 0; n->n_kids != NULL && i < n->n_count; i++) {
		if (n->n_kids[i] == NULL ||
		    !(n->n_kids[i]->n_flags & H2N_DIRTY))
			continue;
		if ((error = flush_node(mp, n->n_kids[i], depth + 1)) < 0)
			return error;
		/* Folded: n's entries moved, rescan (written are clean). */
		if (error > 0)
			i = -1;
	}
	if (n->n_flags & H2N_VOLUME) {
		n->n_flags &= ~H2N_DIRTY;
		return 0;
	}
	if (h2n_fold(mp, n))
		return 1;
	node_stats(n);
	if ((error = h2_alloc(mp, b->type, n->n_bytes, b->key, &doff)) != 0)
		return error;
	b->data_off = doff;
	b->mirror_tid = mp->m_tid;
	b->modify_tid = mp->m_tid;
	h2_bref_setcheck(b, n->n_data, n->n_bytes);
	if ((error = write_at(mp, doff, n->n_data, n->n_bytes)) != 0)
		return error;
	h2n_base(n->n_parent)[n->n_slot] = *b;
	n->n_flags &= ~H2N_DIRTY;
	mp->m_dirty_bytes -= n->n_bytes;
	return 0;
}

/* The header slot after the current one that exists on this volume. */
static int
next_zone(const struct h2_mount *mp)
{
	int j = mp->m_zone + 1;

	if (j < 0 || j >= HAMMER2_NUM_VOLHDRS)
		j = 0;
	if ((uint64_t)j * HAMMER2_ZONE_BYTES64 + HAMMER2_SEGSIZE >
	    mp->m_vol->volu_size)
		j = 0;
	return j;
}

static int
commit(struct h2_mount *mp)
{
	struct hammer2_volume_data *vd = mp->m_vol;
	int zone, error;

	if ((error = flush_node(mp, mp->m_vnode, 0)) < 0)
		return error;
	if ((error = h2_fm_flush(mp)) != 0)
		return error;
	if ((error = h2_dev_flush(mp->m_dev)) != 0)
		return error;
	vd->mirror_tid = mp->m_tid;
	vd->freemap_tid = mp->m_tid;
	h2_volhdr_seal(vd);
	zone = next_zone(mp);
	error = h2_dev_write(mp->m_dev, (uint64_t)zone * HAMMER2_ZONE_BYTES64,
	    vd, sizeof(*vd));
	if (error == 0)
		error = h2_dev_flush(mp->m_dev);
	if (error)
		return error;
	mp->m_zone = zone;
	return 0;
}

int
h2_flush(struct h2_mount *mp)
{
	int error;

	if (!(mp->m_flags & H2_MNT_RDWR))
		return 0;
	if (mp->m_error)
		return -EIO;
	if ((error = h2_pfs_writeout(mp)) != 0)
		return h2_fail(mp, error);
	if (mp->m_dirty) {
		if ((error = commit(mp)) != 0)
			return h2_fail(mp, error);
		mp->m_tid++;
		mp->m_dirty = 0;
		mp->m_flushes++;
		H2_STAT_ADD(mp, st_flushes, 1);
	}
	h2_pfs_gc(mp);
	h2n_trim(mp, 0);
	return 0;
}

int
h2_fsync(struct h2_inode *ip)
{
	return h2_flush(ip->i_pfs->p_mp);
}
