/*
 * h2_mount.c: volume headers and mounting.
 *
 * A volume carries up to four copies of its 64 KiB header, at the start of
 * each of the first four 2 GiB zones that fit on the device. Writers rotate
 * through them, so after a crash the copies differ; the mount reads every
 * copy, discards those with a bad magic or any of the three CRCs wrong, and
 * takes the one with the highest mirror_tid (the newest committed flush).
 * A caller may instead name one zone (tools do, to inspect old copies).
 *
 * The chosen header must then describe something we can read: a known
 * version, a single volume (multi-volume sets are a valid HAMMER2 feature we
 * do not implement yet, -EOPNOTSUPP), a size that fits the device. Its
 * super-root blockset must lead to the super-root inode (key 0).
 *
 * In memory the volume header's super-root set is a pseudo node (the root
 * of the node tree, see h2_node.c) and the super-root inode its first
 * child, pinned for the life of the mount. A writable mount (H2_MNT_RDWR)
 * also prepares the freemap and opens transaction mirror_tid + 1.
 *
 * Interface: h2_mount, h2_unmount, h2_volhdr_* in hammer2.h.
 */
#include "hammer2/h2_internal.h"
#include "hammer2/h2_hash.h"

int
h2_volhdr_verify(const struct hammer2_volume_data *vd, const char **why)
{
	const char *p = (const char *)vd;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (vd->magic == HAMMER2_VOLUME_ID_ABO)
		*why = "byte-swapped volume (other endianness)";
	else if (vd->magic != HAMMER2_VOLUME_ID_HBO)
		*why = "bad magic";
	else if (vd->icrc_sects[HAMMER2_VOL_ICRC_SECT0] !=
	    h2_crc32c(p + HAMMER2_VOLUME_ICRC0_OFF, HAMMER2_VOLUME_ICRC0_SIZE))
		*why = "sector 0 CRC mismatch";
	else if (vd->icrc_sects[HAMMER2_VOL_ICRC_SECT1] !=
	    h2_crc32c(p + HAMMER2_VOLUME_ICRC1_OFF, HAMMER2_VOLUME_ICRC1_SIZE))
		*why = "sector 1 CRC mismatch";
	else if (vd->icrc_volheader !=
	    h2_crc32c(p + HAMMER2_VOLUME_ICRCVH_OFF,
		HAMMER2_VOLUME_ICRCVH_SIZE))
		*why = "volume header CRC mismatch";
	return *why ? -EINVAL : 0;
}

void
h2_volhdr_seal(struct hammer2_volume_data *vd)
{
	const char *p = (const char *)vd;

	vd->icrc_sects[HAMMER2_VOL_ICRC_SECT1] =
	    h2_crc32c(p + HAMMER2_VOLUME_ICRC1_OFF, HAMMER2_VOLUME_ICRC1_SIZE);
	vd->icrc_sects[HAMMER2_VOL_ICRC_SECT0] =
	    h2_crc32c(p + HAMMER2_VOLUME_ICRC0_OFF, HAMMER2_VOLUME_ICRC0_SIZE);
	vd->icrc_volheader = h2_crc32c(p + HAMMER2_VOLUME_ICRCVH_OFF,
	    HAMMER2_VOLUME_ICRCVH_SIZE);
}

int
h2_volhdr_read(struct h2_dev *dev, int zone, struct hammer2_volume_data *vd)
{
	uint64_t off = (uint64_t)zone * HAMMER2_ZONE_BYTES64;
	const char *why;
	int error;

	if (zone < 0 || zone >= HAMMER2_NUM_VOLHDRS)
		return -EINVAL;
	if (off >= dev->d_size || dev->d_size - off < HAMMER2_VOLUME_BYTES)
		return -ENOENT;
	if ((error = h2_dev_read(dev, off, vd, sizeof(*vd))) != 0) {
		h2p_log(H2_LOG_ERR, "hammer2: volume header %d: read error %d",
		    zone, error);
		return -EIO;
	}
	if ((error = h2_volhdr_verify(vd, &why)) != 0)
		h2p_log(H2_LOG_WARN, "hammer2: volume header %d: %s", zone,
		    why);
	return error;
}

/* Read the wanted header (or the best) into mp->m_vol. */
static int
pick_header(struct h2_mount *mp, int want)
{
	struct hammer2_volume_data *vd;
	int zone, error, best = -1;

	if (want != H2_ZONE_BEST) {
		error = h2_volhdr_read(mp->m_dev, want, mp->m_vol);
		mp->m_zone = want;
		return error;
	}
	if ((vd = h2p_alloc(sizeof(*vd))) == NULL)
		return -ENOMEM;
	for (zone = 0; zone < HAMMER2_NUM_VOLHDRS; zone++) {
		if (h2_volhdr_read(mp->m_dev, zone, vd) != 0)
			continue;
		if (best < 0 || vd->mirror_tid > mp->m_vol->mirror_tid) {
			memcpy(mp->m_vol, vd, sizeof(*vd));
			best = zone;
		}
	}
	h2p_free(vd, sizeof(*vd));
	if (best < 0) {
		h2p_log(H2_LOG_ERR, "hammer2: no valid volume header");
		return -EINVAL;
	}
	mp->m_zone = best;
	return 0;
}

static int
header_usable(struct h2_mount *mp)
{
	const struct hammer2_volume_data *vd = mp->m_vol;
	uint64_t size = vd->volu_size;

	if (vd->version < HAMMER2_VOL_VERSION_MIN ||
	    vd->version > HAMMER2_VOL_VERSION_WIP) {
		h2p_log(H2_LOG_ERR, "hammer2: unsupported volume version %u",
		    vd->version);
		return -EINVAL;
	}
	if (vd->version >= HAMMER2_VOL_VERSION_MULTI_VOLUMES &&
	    (vd->nvolumes != 1 || vd->volu_id != HAMMER2_ROOT_VOLUME ||
		vd->volu_loff[0] != 0)) {
		h2p_log(H2_LOG_ERR,
		    "hammer2: multi-volume sets are not supported (%u volumes)",
		    vd->nvolumes);
		return -EOPNOTSUPP;
	}
	if (size < HAMMER2_ZONE_SEG64 || size > mp->m_dev->d_size) {
		h2p_log(H2_LOG_ERR,
		    "hammer2: volume size %llu does not fit the device (%llu)",
		    (unsigned long long)size,
		    (unsigned long long)mp->m_dev->d_size);
		return -EINVAL;
	}
	mp->m_limit = size;
	return 0;
}

int h2_sroot_init(struct h2_mount *mp, struct h2_node *sroot);
void h2_sroot_fini(struct h2_mount *mp);

/* The volume node over the super-root set, and the super-root below it. */
static int
load_sroot(struct h2_mount *mp)
{
	struct hammer2_blockref vb;
	struct h2_node *n, *sroot;
	const struct hammer2_inode_meta *m;
	int slot, error;

	memset(&vb, 0, sizeof(vb));
	vb.type = HAMMER2_BREF_TYPE_VOLUME;
	vb.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_XXHASH64);
	if ((n = h2n_alloc(mp, &vb, 0)) == NULL)
		return -ENOMEM;
	n->n_flags |= H2N_VOLUME;
	n->n_data = mp->m_vol->sroot_blockset.blockref;
	n->n_bytes = sizeof(mp->m_vol->sroot_blockset);
	n->n_count = HAMMER2_SET_COUNT;
	mp->m_vnode = n;
	error = h2_level_index(mp, n->n_data, HAMMER2_SET_COUNT, 0, 64,
	    (uint16_t[HAMMER2_SET_COUNT]) { 0 });
	if (error < 0)
		return error;
	h2n_sort(n);
	error = h2n_find(mp, n, HAMMER2_SROOT_KEY, &n, &slot);
	if (error == -ENOENT ||
	    (error == 0 &&
		(h2n_base(n)[slot].key != HAMMER2_SROOT_KEY ||
		    h2n_base(n)[slot].type != HAMMER2_BREF_TYPE_INODE)))
		return h2_malformed(mp, NULL, "no super-root inode");
	if (error)
		return error;
	if ((error = h2n_load_inode(mp, n, slot, &sroot)) != 0)
		return error;
	m = &((const struct hammer2_inode_data *)sroot->n_data)->meta;
	if (m->type != HAMMER2_OBJTYPE_DIRECTORY ||
	    (m->op_flags & HAMMER2_OPFLAG_DIRECTDATA))
		return h2_malformed(mp, &sroot->n_bref,
		    "super-root is not a directory");
	return h2_sroot_init(mp, sroot);
}

/* Everything the tree and the writer hold in memory. */
static void
free_tree(struct h2_mount *mp)
{
	H2_ASSERT(mp->m_pfslist == NULL);
	h2_sroot_fini(mp);
	if (mp->m_vnode != NULL) {
		mp->m_vnode->n_flags &= ~H2N_DIRTY;
		h2n_free_tree(mp, mp->m_vnode);
		mp->m_vnode = NULL;
	}
	h2_fm_free(mp);
	h2_comp_free(mp);
}

static int
mount_rdwr(struct h2_mount *mp)
{
	if (mp->m_dev->d_flags & H2_DEV_RDONLY)
		return -EROFS;
	if (mp->m_flags & H2_MNT_NOVERIFY)
		return -EINVAL;
	mp->m_tid = mp->m_vol->mirror_tid + 1;
	if (mp->m_vol->freemap_tid > mp->m_vol->mirror_tid)
		mp->m_tid = mp->m_vol->freemap_tid + 1;
	return h2_fm_init(mp);
}

/* A freemap behind the tree (a DragonFly crash): recover before use. */
static int
recover_freemap(struct h2_mount *mp)
{
	int error;

	if (mp->m_vol->freemap_tid >= mp->m_vol->mirror_tid)
		return 0;
	if ((error = h2_fm_recover(mp)) != 0)
		return error;
	return h2_flush(mp);
}

int
h2_mount(struct h2_dev *dev, const struct h2_mount_opts *mo,
    struct h2_mount **mpp)
{
	struct h2_mount *mp;
	int error;

	*mpp = NULL;
	if (mo != NULL && mo->mo_zone != H2_ZONE_BEST &&
	    (mo->mo_zone < 0 || mo->mo_zone >= HAMMER2_NUM_VOLHDRS))
		return -EINVAL;
	if ((mp = h2p_zalloc(sizeof(*mp))) == NULL)
		return -ENOMEM;
	if ((error = h2p_lock_init(&mp->m_lock)) != 0)
		goto fail_mp;
	if ((mp->m_vol = h2p_alloc(sizeof(*mp->m_vol))) == NULL) {
		error = -ENOMEM;
		goto fail_lock;
	}
	mp->m_dev = dev;
	mp->m_flags = mo != NULL ? mo->mo_flags : 0;
	if ((error = pick_header(mp, mo ? mo->mo_zone : H2_ZONE_BEST)) != 0)
		goto fail_vol;
	if ((error = header_usable(mp)) != 0)
		goto fail_vol;
	if ((error = load_sroot(mp)) != 0)
		goto fail_tree;
	if ((mp->m_flags & H2_MNT_RDWR) &&
	    ((error = mount_rdwr(mp)) != 0 ||
		(error = recover_freemap(mp)) != 0))
		goto fail_tree;
	*mpp = mp;
	return 0;

fail_tree:
	free_tree(mp);
	h2_cache_free(mp);
fail_vol:
	h2p_free(mp->m_vol, sizeof(*mp->m_vol));
fail_lock:
	h2p_lock_destroy(&mp->m_lock);
fail_mp:
	h2p_free(mp, sizeof(*mp));
	return error;
}

void
h2_unmount(struct h2_mount *mp)
{
	if (mp == NULL)
		return;
	H2_ASSERT(mp->m_npfs == 0);
	free_tree(mp);
	H2_ASSERT(mp->m_nnodes == 0 && mp->m_node_bytes == 0);
	h2_cache_free(mp);
	h2p_free(mp->m_vol, sizeof(*mp->m_vol));
	h2p_lock_destroy(&mp->m_lock);
	h2p_free(mp, sizeof(*mp));
}

const struct hammer2_volume_data *
h2_mount_volhdr(const struct h2_mount *mp)
{
	return mp->m_vol;
}

int
h2_mount_zone(const struct h2_mount *mp)
{
	return mp->m_zone;
}

struct h2_dev *
h2_mount_dev(const struct h2_mount *mp)
{
	return mp->m_dev;
}

const struct hammer2_inode_data *
h2_sroot(const struct h2_mount *mp)
{
	return h2i_data(mp->m_sroot);
}

void
h2_mount_stats(struct h2_mount *mp, struct h2_stats *st)
{
	h2p_lock(&mp->m_lock);
	*st = mp->m_stats;
	h2p_unlock(&mp->m_lock);
}
