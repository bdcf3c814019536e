/*
 * h2_newfs.c: writing a new, empty volume, as DragonFly's newfs_hammer2.
 *
 * Layout (a single volume of size S, rounded down to 8 MiB):
 *   0          4 MiB reserved segment (volume header copy 0, freemap slots),
 *              cleared
 *   4 MiB      boot area (64 MiB nominal, halved until <= S/20, >= 8 MiB)
 *   ...        aux area (256 MiB nominal, same rule)
 *   aux_end    one 64 KiB block: the super-root inode, then one PFS root
 *              inode per label (1 KiB each); allocator_beg points just
 *              past them
 * and the volume header written to every 2 GiB zone start that fits. The
 * freemap is left empty: DragonFly builds it on the first mount from
 * allocator_beg, and nothing below allocator_beg needs to be in it.
 *
 * The super-root holds the PFS roots directly in its four-slot blockset,
 * sorted by key (the name's hash), so at most four labels. Every tid is 16,
 * as DragonFly's newfs writes. Check codes of the inodes are XXHASH64;
 * each PFS root requests the caller's compression and check methods (a
 * label "BOOT" gets AUTOZERO and XXHASH64, as upstream).
 *
 * Interface: h2_newfs in hammer2.h.
 */
#include "hammer2/h2_internal.h"
#include "hammer2/h2_hash.h"

#define NEWFS_TID 16

/* DragonFly's default area size: nominal, halved to <= size/20, >= 8 MiB,
 * rounded up to 8 MiB. */
static uint64_t
area_size(uint64_t want, uint64_t nominal, uint64_t min, uint64_t total)
{
	uint64_t s = want;

	if (s == 0) {
		s = nominal;
		while (s > total / 20)
			s >>= 1;
	}
	if (s < min)
		s = min;
	return (s + HAMMER2_VOLUME_ALIGNMASK64) & ~HAMMER2_VOLUME_ALIGNMASK64;
}

static int
opts_valid(const struct h2_newfs_opts *no, uint64_t size)
{
	int i, j, check = HAMMER2_DEC_ALGO(no->no_check);
	int comp = HAMMER2_DEC_ALGO(no->no_comp);

	if (no->no_nlabels < 1 || no->no_nlabels > HAMMER2_SET_COUNT)
		return -EINVAL;
	for (i = 0; i < no->no_nlabels; i++) {
		if (no->no_labels[i] == NULL ||
		    h2_name_valid(no->no_labels[i], strlen(no->no_labels[i])) !=
			0)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (strcmp(no->no_labels[i], no->no_labels[j]) == 0)
				return -EINVAL;
	}
	if (check > HAMMER2_CHECK_SHA192)
		return -EINVAL;
	if (comp > HAMMER2_COMP_ZLIB && comp != HAMMER2_COMP_DF_ZSTD)
		return -EINVAL;
	if (no->no_version != 0 &&
	    (no->no_version < HAMMER2_VOL_VERSION_MIN ||
		no->no_version > HAMMER2_VOL_VERSION_DEFAULT))
		return -EINVAL;
	if (size < H2_NEWFS_MIN_SIZE)
		return -ENOSPC;
	return 0;
}

static void
inode_bref(struct hammer2_blockref *b, hammer2_off_t off,
    const struct hammer2_inode_data *ip, uint8_t comp, hammer2_key_t key)
{
	memset(b, 0, sizeof(*b));
	b->type = HAMMER2_BREF_TYPE_INODE;
	b->methods =
	    HAMMER2_ENC_CHECK(HAMMER2_CHECK_XXHASH64) | HAMMER2_ENC_COMP(comp);
	b->copyid = HAMMER2_COPYID_LOCAL;
	b->vradix = HAMMER2_INODE_RADIX;
	b->key = key;
	b->mirror_tid = NEWFS_TID;
	b->data_off = off | HAMMER2_INODE_RADIX;
	h2_bref_setcheck(b, ip, sizeof(*ip));
}

static int
uuid_zero(const struct hammer2_uuid *u)
{
	static const struct hammer2_uuid z;

	return memcmp(u, &z, sizeof(z)) == 0;
}

/* A version 4 UUID derived from a label. */
static void
label_uuid(const char *name, size_t len, int which, struct hammer2_uuid *u)
{
	uint64_t h[2];

	h[0] = h2_xxh64(name, len, (uint64_t)which);
	h[1] = h2_xxh64(name, len, h[0]);
	memcpy(u, h, sizeof(*u));
	u->time_hi_and_version =
	    (uint16_t)((u->time_hi_and_version & 0x0fff) | 0x4000);
	u->clock_seq_hi_and_reserved =
	    (uint8_t)((u->clock_seq_hi_and_reserved & 0x3f) | 0x80);
}

static void
pfs_root(struct hammer2_inode_data *ip, const struct h2_newfs_opts *no, int i)
{
	const char *name = no->no_labels[i];
	size_t len = strlen(name);
	struct hammer2_inode_meta *m = &ip->meta;

	memset(ip, 0, sizeof(*ip));
	m->version = HAMMER2_INODE_VERSION_ONE;
	m->ctime = m->mtime = m->btime = no->no_time_us;
	m->type = HAMMER2_OBJTYPE_DIRECTORY;
	m->mode = 0755;
	m->inum = 1;
	m->nlinks = 1;
	m->name_len = (uint16_t)len;
	memcpy(ip->filename, name, len);
	m->name_key = h2_dirhash(name, len);
	if (strcmp(name, "BOOT") == 0) {
		m->comp_algo = HAMMER2_ENC_ALGO(HAMMER2_COMP_AUTOZERO);
		m->check_algo = HAMMER2_ENC_ALGO(HAMMER2_CHECK_XXHASH64);
	} else {
		m->comp_algo = no->no_comp;
		m->check_algo = no->no_check;
	}
	m->pfs_clid = no->no_pfs_clid[i];
	m->pfs_fsid = no->no_pfs_fsid[i];
	/* DragonFly takes PFSs with one cluster id for copies of one PFS:
	 * ids left zero are made distinct. */
	if (uuid_zero(&m->pfs_clid))
		label_uuid(name, len, 1, &m->pfs_clid);
	if (uuid_zero(&m->pfs_fsid))
		label_uuid(name, len, 2, &m->pfs_fsid);
	m->pfs_type = HAMMER2_PFSTYPE_MASTER;
	m->op_flags = HAMMER2_OPFLAG_PFSROOT;
	m->pfs_inum = 16; /* first inode number to hand out, as upstream */
}

static void
super_root(struct hammer2_inode_data *ip, const struct h2_newfs_opts *no)
{
	struct hammer2_inode_meta *m = &ip->meta;

	memset(ip, 0, sizeof(*ip));
	m->version = HAMMER2_INODE_VERSION_ONE;
	m->ctime = m->mtime = m->btime = no->no_time_us;
	m->type = HAMMER2_OBJTYPE_DIRECTORY;
	m->mode = 0700;
	m->inum = 0;
	m->nlinks = 2;
	m->comp_algo = HAMMER2_ENC_ALGO(HAMMER2_COMP_AUTOZERO);
	m->check_algo = HAMMER2_ENC_ALGO(HAMMER2_CHECK_XXHASH64);
	m->pfs_clid = no->no_sup_clid;
	m->pfs_fsid = no->no_sup_fsid;
	m->pfs_type = HAMMER2_PFSTYPE_SUPROOT;
	memcpy(ip->filename, "SUPROOT", 7);
	m->name_len = 7;
}

/* Build the 64 KiB inode block at base; fill the super-root blockref. */
static void
build_inodes(uint8_t *blk, hammer2_off_t base, const struct h2_newfs_opts *no,
    struct hammer2_blockref *sroot)
{
	struct hammer2_inode_data *sr = (void *)blk, *ip;
	struct hammer2_blockref refs[HAMMER2_SET_COUNT], t;
	int i, j, n = no->no_nlabels;

	for (i = 0; i < n; i++) {
		ip = (void *)(blk + HAMMER2_INODE_BYTES * (i + 1));
		pfs_root(ip, no, i);
		inode_bref(&refs[i], base + HAMMER2_INODE_BYTES * (i + 1), ip,
		    HAMMER2_COMP_NONE, ip->meta.name_key);
		refs[i].flags = HAMMER2_BREF_FLAG_PFSROOT;
	}
	for (i = 1; i < n; i++) /* sorted by key */
		for (j = i; j > 0 && refs[j - 1].key > refs[j].key; j--) {
			t = refs[j];
			refs[j] = refs[j - 1];
			refs[j - 1] = t;
		}
	super_root(sr, no);
	memcpy(sr->u.blockset.blockref, refs, sizeof(refs[0]) * n);
	inode_bref(sroot, base, sr, HAMMER2_COMP_AUTOZERO, HAMMER2_SROOT_KEY);
}

static void
build_header(struct hammer2_volume_data *vd, const struct h2_newfs_opts *no,
    uint64_t size, uint64_t boot, uint64_t aux, hammer2_off_t alloc_beg,
    const struct hammer2_blockref *sroot)
{
	uint64_t reserved;
	int i;

	memset(vd, 0, sizeof(*vd));
	vd->magic = HAMMER2_VOLUME_ID_HBO;
	vd->boot_beg = HAMMER2_ZONE_SEG64;
	vd->boot_end = vd->boot_beg + boot;
	vd->aux_beg = vd->boot_end;
	vd->aux_end = vd->aux_beg + aux;
	vd->volu_size = size;
	vd->version =
	    no->no_version ? no->no_version : HAMMER2_VOL_VERSION_DEFAULT;
	if (vd->version >= HAMMER2_VOL_VERSION_MULTI_VOLUMES) {
		vd->volu_id = HAMMER2_ROOT_VOLUME;
		vd->nvolumes = 1;
		vd->total_size = size;
		for (i = 0; i < HAMMER2_MAX_VOLUMES; i++)
			vd->volu_loff[i] = i == 0 ? 0 : (hammer2_off_t)-1;
	}
	vd->fsid = no->no_fsid;
	memcpy(&vd->fstype,
	    "\xd1\x9a\xbb\x5c\x2d\x86\xdc\x11\xa9\x4d\x01\x30\x1b\xb8\xa9\xf5",
	    16);	   /* HAMMER2_UUID_STRING as stored */
	vd->peer_type = 3; /* DMSG_PEER_HAMMER2 */
	reserved = ((size + HAMMER2_FREEMAP_LEVEL1_MASK) >>
		       HAMMER2_FREEMAP_LEVEL1_RADIX) *
	    HAMMER2_ZONE_SEG64;
	vd->allocator_size = size - reserved - boot - aux;
	vd->allocator_free = vd->allocator_size;
	vd->allocator_beg = alloc_beg;
	vd->sroot_blockset.blockref[0] = *sroot;
	vd->mirror_tid = NEWFS_TID;
	vd->freemap_tid = NEWFS_TID;
	h2_volhdr_seal(vd);
}

/* Zero [off, off + len) in 64 KiB writes from a zeroed buffer. */
static int
zero_range(struct h2_dev *dev, const uint8_t *zero, uint64_t off, uint64_t len)
{
	int error;

	for (; len > 0; off += HAMMER2_PBUFSIZE, len -= HAMMER2_PBUFSIZE)
		if ((error = h2_dev_write(dev, off, zero, HAMMER2_PBUFSIZE)))
			return error;
	return 0;
}

static int
write_volume(struct h2_dev *dev, const struct h2_newfs_opts *no, uint64_t size,
    uint8_t *blk, struct hammer2_volume_data *vd)
{
	uint64_t boot, aux, base;
	struct hammer2_blockref sroot;
	int zone, error;

	boot = area_size(no->no_boot_size, HAMMER2_BOOT_NOM_BYTES,
	    HAMMER2_BOOT_MIN_BYTES, size);
	aux = area_size(no->no_aux_size, HAMMER2_AUX_NOM_BYTES,
	    HAMMER2_AUX_MIN_BYTES, size);
	base = HAMMER2_ZONE_SEG64 + boot + aux;
	if (base + HAMMER2_PBUFSIZE > size ||
	    base + HAMMER2_PBUFSIZE > HAMMER2_FREEMAP_LEVEL1_SIZE)
		return -ENOSPC;
	memset(blk, 0, HAMMER2_PBUFSIZE);
	/* The last block must be writable; the reserve is cleared. */
	if ((error = h2_dev_write(dev, size - HAMMER2_PBUFSIZE, blk,
		 HAMMER2_PBUFSIZE)) != 0 ||
	    (error = zero_range(dev, blk, 0, HAMMER2_ZONE_SEG64)) != 0)
		return error;
	if ((no->no_flags & H2_NEWFS_ZERO) &&
	    (error = zero_range(dev, blk, HAMMER2_ZONE_SEG64, boot + aux)))
		return error;
	build_inodes(blk, base, no, &sroot);
	if ((error = h2_dev_write(dev, base, blk, HAMMER2_PBUFSIZE)) != 0)
		return error;
	build_header(vd, no, size, boot, aux,
	    base + HAMMER2_INODE_BYTES * (no->no_nlabels + 1), &sroot);
	for (zone = 0; zone < HAMMER2_NUM_VOLHDRS; zone++) {
		if ((uint64_t)zone * HAMMER2_ZONE_BYTES64 >= size)
			break;
		error = h2_dev_write(dev, zone * HAMMER2_ZONE_BYTES64, vd,
		    sizeof(*vd));
		if (error)
			return error;
	}
	return h2_dev_flush(dev);
}

int
h2_newfs(struct h2_dev *dev, const struct h2_newfs_opts *no)
{
	uint64_t size = no->no_size ? no->no_size : dev->d_size;
	struct hammer2_volume_data *vd;
	uint8_t *blk;
	int error;

	if (size > dev->d_size)
		return -ENOSPC;
	size &= ~HAMMER2_VOLUME_ALIGNMASK64;
	if ((error = opts_valid(no, size)) != 0)
		return error;
	blk = h2p_alloc(HAMMER2_PBUFSIZE);
	vd = h2p_alloc(sizeof(*vd));
	if (blk == NULL || vd == NULL)
		error = -ENOMEM;
	else
		error = write_volume(dev, no, size, blk, vd);
	h2p_free(vd, sizeof(*vd));
	h2p_free(blk, HAMMER2_PBUFSIZE);
	return error;
}
