/*
 * h2_freemap.c: block allocation from the freemap, as DragonFly's
 * hammer2_freemap.c lays it out and uses it.
 *
 * The freemap is a tree of its own under the volume header's
 * freemap_blockset: FREEMAP_LEAF blocks (32 KiB) each describe 1 GiB of
 * the volume in 256 entries of 4 MiB (struct hammer2_bmap_data: 2 bits per
 * 16 KiB in bitmapq, 00 free, 10 possibly free, 11 allocated; a class, the
 * bytes available and a linear offset for packing allocations under
 * 16 KiB); FREEMAP_NODE blocks (32 KiB, 256 entries) cover 256 GiB (key
 * bits 38), 64 TiB (46), 16 PiB (54) and 4 EiB (62). A missing leaf is
 * created on first use, initialised with everything below allocator_beg,
 * the first 4 MiB of the GiB (reserved) and any tail past the volume end
 * marked allocated. When a level is full a node one level up takes the
 * entries of the smallest key's range, as DragonFly's indkey_freemap does.
 *
 * Freemap blocks are not allocated from the freemap: each (key, level) has
 * eight fixed slots in the 4 MiB reserved area at the start of its range
 * (slot 1 + 5 * index + level, in 64 KiB units) and every write goes to the
 * next index in rotation, so the block the last flush left is never
 * overwritten.
 *
 * Allocation (DragonFly's hammer2_freemap_alloc and hammer2_bmap_alloc):
 * per block type a hint says where to start; the leaf of that GiB is
 * searched from the hint's 4 MiB entry outward, taking entries that are
 * free or already of the same class ((type << 8) | 16); sizes under 16 KiB
 * pack into a partly used 16 KiB through the linear offset, 16 KiB and up
 * take 1, 2 or 4 whole 16 KiB chunks (so no block straddles 64 KiB), DATA
 * first trying the position its file offset suggests. After two passes
 * over all leaves the class rule is relaxed for a third. The volume
 * header's allocator_free drops by whole 16 KiB chunks as DragonFly
 * counts. Nothing is freed here except blocks allocated and abandoned in
 * the same transaction (h2_free_new); the rest is bulkfree's job.
 *
 * Interface: h2_alloc, h2_free_new, h2_fm_* in h2_internal.h. Only on
 * H2_MNT_RDWR mounts.
 */
#include "hammer2/h2_internal.h"

#define L0SIZE	HAMMER2_FREEMAP_LEVEL0_SIZE
#define L1SIZE	HAMMER2_FREEMAP_LEVEL1_SIZE
#define L1MASK	HAMMER2_FREEMAP_LEVEL1_MASK
#define FMSIZE	HAMMER2_FREEMAP_LEVELN_PSIZE
#define FMCOUNT (FMSIZE / HAMMER2_BLOCKREF_BYTES)

int
h2_fm_init(struct h2_mount *mp)
{
	mp->m_nzones = (mp->m_limit + L1MASK) >> HAMMER2_FREEMAP_LEVEL1_RADIX;
	mp->m_fmleaf = h2p_zalloc(sizeof(*mp->m_fmleaf) * mp->m_nzones);
	return mp->m_fmleaf == NULL ? -ENOMEM : 0;
}

void
h2_fm_free(struct h2_mount *mp)
{
	struct h2_fmblk *f;

	while ((f = mp->m_fmlist) != NULL) {
		mp->m_fmlist = f->f_next;
		h2p_free(f->f_data, FMSIZE);
		h2p_free(f, sizeof(*f));
	}
	h2p_free(mp->m_fmleaf, sizeof(*mp->m_fmleaf) * mp->m_nzones);
	mp->m_fmleaf = NULL;
}

void
h2_fm_dirty(struct h2_fmblk *f)
{
	for (; f != NULL && !f->f_dirty; f = f->f_parent)
		f->f_dirty = 1;
}

static struct hammer2_blockref *
fm_base(struct h2_mount *mp, struct h2_fmblk *parent, int *countp)
{
	if (parent == NULL) {
		*countp = HAMMER2_SET_COUNT;
		return mp->m_vol->freemap_blockset.blockref;
	}
	*countp = FMCOUNT;
	return parent->f_data;
}

static struct h2_fmblk *
fm_new(struct h2_mount *mp, const struct hammer2_blockref *b,
    struct h2_fmblk *parent)
{
	struct h2_fmblk *f;

	if ((f = h2p_zalloc(sizeof(*f))) == NULL)
		return NULL;
	if ((f->f_data = h2p_zalloc(FMSIZE)) == NULL) {
		h2p_free(f, sizeof(*f));
		return NULL;
	}
	f->f_bref = *b;
	f->f_parent = parent;
	f->f_next = mp->m_fmlist;
	mp->m_fmlist = f;
	return f;
}

/* Is b a sound freemap entry of a level whose entries have < pbits? */
static int
fm_entry_ok(const struct hammer2_blockref *b, int pbits)
{
	if (b->type == HAMMER2_BREF_TYPE_FREEMAP_LEAF)
		return b->keybits == HAMMER2_FREEMAP_LEVEL1_RADIX &&
		    (b->key & L1MASK) == 0;
	if (b->type != HAMMER2_BREF_TYPE_FREEMAP_NODE)
		return 0;
	switch (b->keybits) {
	case HAMMER2_FREEMAP_LEVEL2_RADIX:
	case HAMMER2_FREEMAP_LEVEL3_RADIX:
	case HAMMER2_FREEMAP_LEVEL4_RADIX:
	case HAMMER2_FREEMAP_LEVEL5_RADIX:
		break;
	default:
		return 0;
	}
	return b->keybits < pbits && (b->key & ((1ull << b->keybits) - 1)) == 0;
}

/* Sanitize the hints of a leaf read from the media. */
static void
fm_sanitize(struct hammer2_bmap_data *bm)
{
	int i;

	for (i = 0; i < HAMMER2_FREEMAP_COUNT; i++) {
		if (bm[i].linear < 0 || bm[i].linear > HAMMER2_SEGSIZE ||
		    (bm[i].linear & (HAMMER2_ALLOC_MIN - 1)))
			bm[i].linear = HAMMER2_SEGSIZE;
		if (bm[i].avail > L0SIZE)
			bm[i].avail = L0SIZE;
	}
}

static int
fm_load(struct h2_mount *mp, const struct hammer2_blockref *b,
    struct h2_fmblk *parent, struct h2_fmblk **fp)
{
	struct h2_fmblk *f;
	size_t len;
	int error;

	for (f = mp->m_fmlist; f != NULL; f = f->f_next) {
		if (f->f_bref.type == b->type && f->f_bref.key == b->key &&
		    f->f_bref.keybits == b->keybits) {
			*fp = f;
			return 0;
		}
	}
	if ((f = fm_new(mp, b, parent)) == NULL)
		return -ENOMEM;
	error = h2_bref_read(mp, b, f->f_data, &len);
	if (error == 0 && len != FMSIZE)
		error = h2_malformed(mp, b, "freemap block has no data");
	if (error) {
		mp->m_fmlist = f->f_next;
		h2p_free(f->f_data, FMSIZE);
		h2p_free(f, sizeof(*f));
		return error;
	}
	if (b->type == HAMMER2_BREF_TYPE_FREEMAP_LEAF)
		fm_sanitize(f->f_data);
	*fp = f;
	return 0;
}

/* DragonFly's hammer2_freemap_init for a new leaf at key. */
static void
fm_leaf_init(struct h2_mount *mp, struct h2_fmblk *f, hammer2_key_t key)
{
	struct hammer2_bmap_data *bm = f->f_data;
	hammer2_off_t lokey, hikey;
	int i;

	lokey =
	    (mp->m_vol->allocator_beg + HAMMER2_SEGMASK64) & ~HAMMER2_SEGMASK64;
	if (lokey < key)
		lokey = key;
	if (lokey < key + HAMMER2_ZONE_SEG64)
		lokey = key + HAMMER2_ZONE_SEG64;
	hikey = key + L1SIZE;
	if (hikey > mp->m_limit)
		hikey = mp->m_limit & ~HAMMER2_SEGMASK64;
	f->f_bref.check.freemap.bigmask = (uint32_t)-1;
	f->f_bref.check.freemap.avail = L1SIZE;
	for (i = 0; i < HAMMER2_FREEMAP_COUNT; i++, key += L0SIZE) {
		if (key < lokey || key >= hikey) {
			memset(bm[i].bitmapq, 0xff, sizeof(bm[i].bitmapq));
			bm[i].avail = 0;
			bm[i].linear = HAMMER2_SEGSIZE;
			f->f_bref.check.freemap.avail -= L0SIZE;
		} else {
			bm[i].avail = L0SIZE;
		}
	}
}

/* Move the loaded children of from inside [key, bits) below to. */
static void
fm_reparent(struct h2_mount *mp, struct h2_fmblk *from, struct h2_fmblk *to)
{
	struct h2_fmblk *f;
	hammer2_key_t last = h2_range_last(to->f_bref.key, to->f_bref.keybits);

	for (f = mp->m_fmlist; f != NULL; f = f->f_next)
		if (f != to && f->f_parent == from &&
		    f->f_bref.key >= to->f_bref.key && f->f_bref.key <= last)
			f->f_parent = to;
}

/* Put entry b at its sorted place in base (which has a free slot). */
static void
fm_put(struct hammer2_blockref *base, int count,
    const struct hammer2_blockref *b)
{
	int i, j;

	for (i = 0; i < count && base[i].type != HAMMER2_BREF_TYPE_EMPTY &&
	     base[i].key < b->key;
	     i++)
		;
	for (j = count - 1; j > i; j--)
		base[j] = base[j - 1];
	base[i] = *b;
}

/* Pack base's entries to the front, in key order. */
static void
fm_pack(struct hammer2_blockref *base, int count)
{
	struct hammer2_blockref t;
	int i, j, n = 0;

	for (i = 0; i < count; i++)
		if (base[i].type != HAMMER2_BREF_TYPE_EMPTY)
			base[n++] = base[i];
	for (i = n; i < count; i++)
		memset(&base[i], 0, sizeof(base[i]));
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && base[j - 1].key > base[j].key; j--) {
			t = base[j];
			base[j] = base[j - 1];
			base[j - 1] = t;
		}
}

/* The level below parent is full: a node one level up takes the entries
 * of the smallest key's range (DragonFly's indkey_freemap). */
static int
fm_split(struct h2_mount *mp, struct h2_fmblk *parent)
{
	struct hammer2_blockref *base, nb;
	struct h2_fmblk *node;
	int i, j, count, minbits = 64;
	hammer2_key_t key = 0;

	base = fm_base(mp, parent, &count);
	for (i = 0; i < count; i++) {
		if (base[i].type == HAMMER2_BREF_TYPE_EMPTY)
			continue;
		if (base[i].keybits < minbits ||
		    (base[i].keybits == minbits && base[i].key < key)) {
			minbits = base[i].keybits;
			key = base[i].key;
		}
	}
	memset(&nb, 0, sizeof(nb));
	nb.type = HAMMER2_BREF_TYPE_FREEMAP_NODE;
	nb.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_FREEMAP);
	nb.keybits = (uint8_t)(minbits + 8);
	if (minbits + 8 > HAMMER2_FREEMAP_LEVEL5_RADIX)
		return h2_malformed(mp, NULL, "freemap level too high");
	nb.key = key & ~((1ull << nb.keybits) - 1);
	if ((node = fm_new(mp, &nb, parent)) == NULL)
		return -ENOMEM;
	for (i = j = 0; i < count; i++) {
		if (base[i].type == HAMMER2_BREF_TYPE_EMPTY ||
		    base[i].keybits >= nb.keybits ||
		    (base[i].key & ~((1ull << nb.keybits) - 1)) != nb.key)
			continue;
		((struct hammer2_blockref *)node->f_data)[j++] = base[i];
		memset(&base[i], 0, sizeof(base[i]));
	}
	fm_pack(base, count);
	fm_put(base, count, &nb);
	fm_reparent(mp, parent, node);
	node->f_dirty = 0;
	h2_fm_dirty(node);
	return 0;
}

static int
fm_find(struct hammer2_blockref *base, int count, hammer2_key_t key)
{
	int i;

	for (i = 0; i < count; i++)
		if (base[i].type != HAMMER2_BREF_TYPE_EMPTY &&
		    base[i].key <= key &&
		    h2_range_last(base[i].key, base[i].keybits) >= key)
			return i;
	return -1;
}

static int
fm_free_slot(struct hammer2_blockref *base, int count)
{
	int i;

	for (i = 0; i < count; i++)
		if (base[i].type == HAMMER2_BREF_TYPE_EMPTY)
			return i;
	return -1;
}

static int
fm_create_leaf(struct h2_mount *mp, struct h2_fmblk *parent, hammer2_key_t key,
    struct h2_fmblk **lp)
{
	struct hammer2_blockref *base, lb;
	struct h2_fmblk *f;
	int count;

	memset(&lb, 0, sizeof(lb));
	lb.type = HAMMER2_BREF_TYPE_FREEMAP_LEAF;
	lb.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_FREEMAP);
	lb.key = key;
	lb.keybits = HAMMER2_FREEMAP_LEVEL1_RADIX;
	if ((f = fm_new(mp, &lb, parent)) == NULL)
		return -ENOMEM;
	fm_leaf_init(mp, f, key);
	base = fm_base(mp, parent, &count);
	fm_pack(base, count);
	fm_put(base, count, &f->f_bref);
	h2_fm_dirty(f);
	*lp = f;
	return 0;
}

int
h2_fm_leaf(struct h2_mount *mp, hammer2_off_t off, int create,
    struct h2_fmblk **lp)
{
	hammer2_key_t key = off & ~L1MASK;
	uint64_t zone = off >> HAMMER2_FREEMAP_LEVEL1_RADIX;
	struct hammer2_blockref *base;
	struct h2_fmblk *parent = NULL, *f;
	int i, count, pbits = 64, iter, error;

	*lp = NULL;
	if (zone >= mp->m_nzones)
		return -EINVAL;
	if ((*lp = mp->m_fmleaf[zone]) != NULL)
		return 0;
	/* Each pass descends a level or splits one (at most 5 + 5). */
	for (iter = 0; iter < 16; iter++) {
		base = fm_base(mp, parent, &count);
		if ((i = fm_find(base, count, key)) >= 0) {
			if (!fm_entry_ok(&base[i], pbits))
				return h2_malformed(mp, &base[i],
				    "bad freemap entry");
			if ((error = fm_load(mp, &base[i], parent, &f)) != 0)
				return error;
			if (f->f_bref.type == HAMMER2_BREF_TYPE_FREEMAP_LEAF) {
				mp->m_fmleaf[zone] = *lp = f;
				return 0;
			}
			parent = f;
			pbits = f->f_bref.keybits;
			continue;
		}
		if (!create)
			return 0;
		if (fm_free_slot(base, count) >= 0) {
			if ((error = fm_create_leaf(mp, parent, key, &f)) != 0)
				return error;
			mp->m_fmleaf[zone] = *lp = f;
			return 0;
		}
		if ((error = fm_split(mp, parent)) != 0)
			return error;
	}
	return h2_malformed(mp, NULL, "freemap too deep");
}

/* ---- allocating ---- */

static hammer2_bitmap_t
bits_mask(int bmradix)
{
	return bmradix >= HAMMER2_BMAP_BITS_PER_ELEMENT ?
	    HAMMER2_BMAP_ALLONES :
	    ((hammer2_bitmap_t)1 << bmradix) - 1;
}

/*
 * DragonFly's hammer2_bmap_alloc: bytes (1 << radix) from one 4 MiB entry;
 * *offp gets the offset inside the entry and *bgp what allocator_free
 * loses. -ENOSPC when the entry has no room.
 */
static int
bmap_alloc(struct hammer2_bmap_data *bm, uint16_t class, hammer2_key_t key,
    int radix, uint32_t *offp, uint32_t *bgp)
{
	uint32_t size = 1u << radix, offset;
	int bmradix, i, j;
	hammer2_bitmap_t m;

	bmradix = radix <= HAMMER2_FREEMAP_BLOCK_RADIX ?
	    2 :
	    2 << (radix - HAMMER2_FREEMAP_BLOCK_RADIX);
	if ((bm->linear & HAMMER2_FREEMAP_BLOCK_MASK) + size <=
		HAMMER2_FREEMAP_BLOCK_SIZE &&
	    (bm->linear & HAMMER2_FREEMAP_BLOCK_MASK) &&
	    bm->linear < HAMMER2_SEGSIZE) {
		offset = (uint32_t)bm->linear;
		i = (int)(offset / (HAMMER2_SEGSIZE / HAMMER2_BMAP_ELEMENTS));
		j = (int)(offset / (HAMMER2_FREEMAP_BLOCK_SIZE / 2)) & 62;
		m = bits_mask(bmradix) << j;
		bm->linear = (int32_t)(offset + size);
		goto found;
	}
	if ((class >> 8) == HAMMER2_BREF_TYPE_DATA &&
	    radix >= HAMMER2_FREEMAP_BLOCK_RADIX) {
		i = (int)((key & HAMMER2_BMAP_MASK) /
		    (HAMMER2_BMAP_SIZE / HAMMER2_BMAP_ELEMENTS));
		j = (int)((key & HAMMER2_BMAP_INDEX_MASK) /
			HAMMER2_FREEMAP_BLOCK_SIZE) *
		    2;
		m = bits_mask(bmradix) << j;
		if (j + bmradix <= HAMMER2_BMAP_BITS_PER_ELEMENT &&
		    (bm->bitmapq[i] & m) == 0)
			goto fresh;
	}
	for (i = 0; i < HAMMER2_BMAP_ELEMENTS; i++) {
		m = bits_mask(bmradix);
		for (j = 0; j < HAMMER2_BMAP_BITS_PER_ELEMENT; j += bmradix) {
			if ((bm->bitmapq[i] & m) == 0)
				goto fresh;
			m <<= bmradix;
		}
	}
	return -ENOSPC;
fresh:
	offset = (uint32_t)(i * (HAMMER2_SEGSIZE / HAMMER2_BMAP_ELEMENTS) +
	    j * (HAMMER2_FREEMAP_BLOCK_SIZE / 2));
	if (size & HAMMER2_FREEMAP_BLOCK_MASK)
		bm->linear = (int32_t)(offset + size);
found:
	if (radix < HAMMER2_FREEMAP_BLOCK_RADIX)
		*bgp = (bm->bitmapq[i] & m) ? 0 : HAMMER2_FREEMAP_BLOCK_SIZE;
	else
		*bgp = size;
	bm->bitmapq[i] |= m;
	if (bm->class == 0)
		bm->class = class;
	bm->avail = bm->avail > *bgp ? bm->avail - *bgp : 0;
	*offp = offset;
	return 0;
}

static int
avail_ok(const struct hammer2_bmap_data *bm, int radix)
{
	if (bm->avail)
		return 1;
	return radix < HAMMER2_FREEMAP_BLOCK_RADIX &&
	    (bm->linear & HAMMER2_FREEMAP_BLOCK_MASK);
}

/* Is [off, off + bytes) a place the allocator may ever hand out? */
static int
alloc_sane(struct h2_mount *mp, hammer2_off_t off, size_t bytes)
{
	const struct hammer2_volume_data *vd = mp->m_vol;

	return off >= vd->allocator_beg && off + bytes <= mp->m_limit &&
	    (off & L1MASK) >= HAMMER2_ZONE_SEG64 &&
	    (off & HAMMER2_PBUFMASK64) + bytes <= HAMMER2_PBUFSIZE &&
	    !(off < vd->aux_end && off + bytes > vd->boot_beg);
}

/* Try one 1 GiB leaf; 0 with *offp, or -ENOSPC. */
static int
try_leaf(struct h2_mount *mp, struct h2_fmblk *f, hammer2_off_t bnext, int type,
    int radix, hammer2_key_t key, int relaxed, hammer2_off_t *offp)
{
	struct hammer2_bmap_data *bm = f->f_data;
	uint16_t class = (uint16_t)(type << 8 | HAMMER2_PBUFRADIX);
	int start = (int)((bnext - f->f_bref.key) >> HAMMER2_SEGRADIX);
	int count, k, n;
	uint32_t off, bg;

	if (!(f->f_bref.check.freemap.bigmask & (1u << radix)))
		return -ENOSPC;
	for (count = 0; count < HAMMER2_FREEMAP_COUNT; count++) {
		if (start + count >= HAMMER2_FREEMAP_COUNT && start - count < 0)
			break;
		for (k = 0; k < 2; k++) {
			n = k == 0 ? start + count : start - count;
			if (n < 0 || n >= HAMMER2_FREEMAP_COUNT ||
			    (k == 1 && count == 0) || !avail_ok(&bm[n], radix))
				continue;
			if (bm[n].class != 0 && bm[n].class != class &&
			    !relaxed)
				continue;
			if (bmap_alloc(&bm[n], class, key, radix, &off, &bg))
				continue;
			*offp = f->f_bref.key + (hammer2_off_t)n * L0SIZE + off;
			h2_fm_dirty(f);
			mp->m_vol->allocator_free -=
			    bg < mp->m_vol->allocator_free ?
			    bg :
			    mp->m_vol->allocator_free;
			return 0;
		}
	}
	if (start == 0 && relaxed) {
		f->f_bref.check.freemap.bigmask &= ~(1u << radix);
		h2_fm_dirty(f);
	}
	return -ENOSPC;
}

int
h2_alloc(struct h2_mount *mp, int type, size_t bytes, hammer2_key_t key,
    hammer2_off_t *offp)
{
	int radix = h2_radix(bytes), loops = 0, error;
	hammer2_off_t bnext = mp->m_heur[type & (H2_HEUR_TYPES - 1)];
	struct h2_fmblk *f;

	H2_ASSERT(((size_t)1 << radix) == bytes && radix <= HAMMER2_RADIX_MAX);
	if (bnext >= mp->m_limit)
		bnext = mp->m_limit - 1;
	for (;;) {
		error = h2_fm_leaf(mp, bnext, 1, &f);
		if (error)
			return error;
		error = try_leaf(mp, f, bnext, type, radix, key, mp->m_relaxed,
		    offp);
		if (error == 0) {
			if (!alloc_sane(mp, *offp, bytes))
				return h2_malformed(mp, &f->f_bref,
				    "freemap hands out a reserved block");
			mp->m_heur[type & (H2_HEUR_TYPES - 1)] = *offp;
			*offp |= (hammer2_off_t)radix;
			return 0;
		}
		bnext = (bnext & ~L1MASK) + L1SIZE;
		if (bnext >= mp->m_limit) {
			bnext = 0;
			if (++loops >= 2) {
				if (mp->m_relaxed)
					return -ENOSPC;
				mp->m_relaxed = 1;
			}
		}
	}
}

void
h2_free_new(struct h2_mount *mp, hammer2_off_t data_off)
{
	int radix = (int)(data_off & HAMMER2_OFF_MASK_RADIX);
	hammer2_off_t off = data_off & HAMMER2_OFF_MASK;
	struct hammer2_bmap_data *bm;
	struct h2_fmblk *f;
	uint64_t chunk;
	int n;

	if (radix < HAMMER2_FREEMAP_BLOCK_RADIX)
		return; /* shares its 16 KiB: left to bulkfree */
	if (h2_fm_leaf(mp, off, 0, &f) != 0 || f == NULL)
		return;
	bm = &((struct hammer2_bmap_data *)
		   f->f_data)[(off & L1MASK) >> HAMMER2_SEGRADIX];
	for (n = 0; n < (1 << (radix - HAMMER2_FREEMAP_BLOCK_RADIX)); n++) {
		chunk =
		    ((off & HAMMER2_SEGMASK64) >> HAMMER2_FREEMAP_BLOCK_RADIX) +
		    (uint64_t)n;
		bm->bitmapq[chunk >> 5] &=
		    ~((hammer2_bitmap_t)3 << ((chunk & 31) * 2));
		bm->avail += HAMMER2_FREEMAP_BLOCK_SIZE;
		mp->m_vol->allocator_free += HAMMER2_FREEMAP_BLOCK_SIZE;
	}
	if (bm->avail > L0SIZE)
		bm->avail = L0SIZE;
	h2_fm_dirty(f);
}

/* ---- flushing ---- */

static int
level_of(int keybits)
{
	return (keybits - HAMMER2_FREEMAP_LEVEL1_RADIX) / 8;
}

/* The next rotating reserved slot of freemap block b. */
static int
fm_location(struct h2_mount *mp, const struct hammer2_blockref *b,
    hammer2_off_t *offp)
{
	hammer2_off_t cur = b->data_off & HAMMER2_OFF_MASK, base, slot;
	int index = 0;

	if (cur != 0) {
		slot = (cur & HAMMER2_SEGMASK64) / HAMMER2_PBUFSIZE;
		if (slot < HAMMER2_ZONE_FREEMAP_00 ||
		    slot >= HAMMER2_ZONE_FREEMAP_END)
			return h2_malformed(mp, b,
			    "freemap block outside its slots");
		index = (int)(slot - HAMMER2_ZONE_FREEMAP_00) /
		    HAMMER2_ZONE_FREEMAP_INC;
		if (++index == HAMMER2_NFREEMAPS)
			index = 0;
	}
	base = b->key & ~((1ull << b->keybits) - 1);
	*offp = base +
	    (hammer2_off_t)(index * HAMMER2_ZONE_FREEMAP_INC +
		HAMMER2_ZONE_FREEMAP_00 + level_of(b->keybits)) *
		HAMMER2_PBUFSIZE;
	if (*offp + FMSIZE > mp->m_limit)
		return h2_malformed(mp, b, "freemap block past the volume");
	return 0;
}

static int
fm_write(struct h2_mount *mp, struct h2_fmblk *f)
{
	struct hammer2_blockref *base;
	hammer2_off_t off = 0;
	int i, count, error;

	if ((error = fm_location(mp, &f->f_bref, &off)) != 0)
		return error;
	f->f_bref.data_off = off | 15; /* 32 KiB */
	f->f_bref.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_FREEMAP) |
	    HAMMER2_ENC_COMP(HAMMER2_COMP_NONE);
	f->f_bref.mirror_tid = mp->m_tid;
	f->f_bref.modify_tid = mp->m_tid;
	h2_bref_setcheck(&f->f_bref, f->f_data, FMSIZE);
	h2_cache_forget(mp, off);
	if ((error = h2_dev_write(mp->m_dev, off, f->f_data, FMSIZE)) != 0)
		return error;
	H2_STAT_ADD(mp, st_blocks_written, 1);
	H2_STAT_ADD(mp, st_bytes_written, FMSIZE);
	base = fm_base(mp, f->f_parent, &count);
	for (i = 0; i < count; i++) {
		if (base[i].type == f->f_bref.type &&
		    base[i].key == f->f_bref.key &&
		    base[i].keybits == f->f_bref.keybits) {
			base[i] = f->f_bref;
			f->f_dirty = 0;
			return 0;
		}
	}
	return h2_malformed(mp, &f->f_bref, "freemap entry lost");
}

int
h2_fm_flush(struct h2_mount *mp)
{
	struct h2_fmblk *f;
	int bits, error;

	for (bits = HAMMER2_FREEMAP_LEVEL1_RADIX;
	     bits <= HAMMER2_FREEMAP_LEVEL5_RADIX; bits += 8) {
		for (f = mp->m_fmlist; f != NULL; f = f->f_next) {
			if (!f->f_dirty || f->f_bref.keybits != bits)
				continue;
			if ((error = fm_write(mp, f)) != 0)
				return error;
		}
	}
	return 0;
}
