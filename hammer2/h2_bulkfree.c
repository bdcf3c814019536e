/*
 * h2_bulkfree.c: freeing blocks nothing points at any more, as DragonFly's
 * hammer2_bulkfree.c does it.
 *
 * Copy-on-write leaves the old copy of every changed block allocated; only
 * bulkfree gives space back. A pass:
 *
 *  1. flushes, so the media hold everything the mount knows;
 *  2. builds, for a range of the volume (as many GiB as H2_BF_CHUNK
 *     leaves), a freemap of its own from scratch: entries below
 *     allocator_beg, each GiB's reserved 4 MiB and the tail past the
 *     volume end allocated as a new leaf would be, then every block
 *     reachable from the super-root (all PFSs and snapshots: inodes,
 *     indirect blocks, data, long-name blocks) marked 11, with the linear
 *     offsets DragonFly keeps for blocks under 16 KiB. Inode and indirect
 *     blocks already seen (snapshots share subtrees) are skipped through a
 *     small direct-mapped table, as DragonFly's dedup heuristic does;
 *  3. merges it into the live freemap, 2 bits at a time: unreachable 11
 *     becomes 10 (possibly free), unreachable 10 becomes 00 (free, and
 *     allocator_free grows), reachable 00 or 10 becomes 11 (00 would mean
 *     the freemap lost a block: counted and logged). A 4 MiB entry left
 *     empty is reset (class 0, all available); otherwise its linear offset
 *     is moved to a 16 KiB boundary at or above the highest small block,
 *     as upstream does;
 *  4. flushes the changed freemap leaves.
 *
 * So a block becomes free on the second pass that finds it unreachable.
 * Blocks the last flushed header still points at are reachable (step 1),
 * so a crash during or after a pass never loses anything.
 *
 * The same scan does DragonFly's mount-time recovery (hammer2_recovery):
 * a volume whose freemap_tid is behind its mirror_tid (DragonFly flushes
 * the freemap on its own, and a crash can leave it behind the tree) may
 * call blocks of the tree free. Before a writable mount allocates
 * anything, h2_fm_recover marks every reachable block allocated (only
 * that: nothing is staged or freed) and commits.
 *
 * Interface: h2_bulkfree in hammer2.h; h2_fm_recover in h2_internal.h.
 */
#include "hammer2/h2_internal.h"

#define H2_BF_CHUNK 256 /* GiB of volume per scan (8 MiB of bitmaps) */
#define H2_BF_DEDUP 4096
#define L1MASK	    HAMMER2_FREEMAP_LEVEL1_MASK

struct bf {
	struct h2_mount *bf_mp;
	hammer2_off_t bf_sbase, bf_sstop;  /* range being gathered */
	struct hammer2_bmap_data *bf_bmap; /* one per 4 MiB of the range */
	hammer2_off_t *bf_seen;		   /* dedup table of data_off */
	struct hammer2_inode_data bf_ip;
	struct h2_bulkfree_result *bf_res;
	int bf_depth;
	int bf_recover; /* only mark reachable blocks allocated */
};

static void
bf_init_range(struct bf *bf)
{
	const struct hammer2_volume_data *vd = bf->bf_mp->m_vol;
	struct hammer2_bmap_data *bm = bf->bf_bmap;
	hammer2_off_t key, lokey, hikey;

	hikey = bf->bf_mp->m_limit & ~HAMMER2_SEGMASK64;
	for (key = bf->bf_sbase; key < bf->bf_sstop;
	     key += HAMMER2_FREEMAP_LEVEL0_SIZE, bm++) {
		memset(bm, 0, sizeof(*bm));
		lokey = (vd->allocator_beg + HAMMER2_SEGMASK64) &
		    ~HAMMER2_SEGMASK64;
		if (lokey < (key & ~L1MASK) + HAMMER2_ZONE_SEG64)
			lokey = (key & ~L1MASK) + HAMMER2_ZONE_SEG64;
		if (key < lokey || key >= hikey) {
			memset(bm->bitmapq, 0xff, sizeof(bm->bitmapq));
			bm->linear = HAMMER2_SEGSIZE;
		} else {
			bm->avail = HAMMER2_FREEMAP_LEVEL0_SIZE;
		}
	}
}

/* Record the block b points at (DragonFly's h2_bulkfree_callback). */
static void
bf_mark(struct bf *bf, const struct hammer2_blockref *b)
{
	hammer2_off_t off = b->data_off & HAMMER2_OFF_MASK, rel;
	size_t bytes = h2_bref_bytes(b);
	struct hammer2_bmap_data *bm;
	hammer2_bitmap_t m;
	int bindex;

	if (bytes == 0 || off < bf->bf_sbase || off >= bf->bf_sstop ||
	    off < bf->bf_mp->m_vol->allocator_beg || off >= bf->bf_mp->m_limit)
		return;
	bf->bf_res->bf_blocks++;
	rel = off - bf->bf_sbase;
	bm = &bf->bf_bmap[rel >> HAMMER2_FREEMAP_LEVEL0_RADIX];
	rel &= HAMMER2_FREEMAP_LEVEL0_MASK;
	if (rel + bytes > HAMMER2_FREEMAP_LEVEL0_SIZE)
		bytes = HAMMER2_FREEMAP_LEVEL0_SIZE - rel;
	if (bm->class == 0) {
		bm->class = (uint16_t)(b->type << 8 | HAMMER2_PBUFRADIX);
		bm->avail = HAMMER2_FREEMAP_LEVEL0_SIZE;
	}
	if (bytes & HAMMER2_FREEMAP_BLOCK_MASK) {
		if (bm->linear < (int32_t)(rel + bytes))
			bm->linear = (int32_t)(rel + bytes);
	} else if (bm->linear >= (int32_t)rel &&
	    bm->linear < (int32_t)(rel + bytes)) {
		bm->linear = (int32_t)(rel + bytes);
	}
	while (bytes > 0) {
		bindex = (int)(rel >>
		    (HAMMER2_FREEMAP_BLOCK_RADIX + HAMMER2_BMAP_INDEX_RADIX));
		m = (hammer2_bitmap_t)3 << (((rel & HAMMER2_BMAP_INDEX_MASK) >>
						HAMMER2_FREEMAP_BLOCK_RADIX)
			<< 1);
		if ((bm->bitmapq[bindex] & m) == 0) {
			bm->avail -= bytes < HAMMER2_FREEMAP_BLOCK_SIZE ?
			    HAMMER2_FREEMAP_BLOCK_SIZE :
			    (uint32_t)bytes;
			bm->bitmapq[bindex] |= m;
		}
		rel += HAMMER2_FREEMAP_BLOCK_SIZE;
		bytes = bytes < HAMMER2_FREEMAP_BLOCK_SIZE ?
		    0 :
		    bytes - HAMMER2_FREEMAP_BLOCK_SIZE;
	}
}

/* Seen this metadata block already in this scan? */
static int
bf_seen(struct bf *bf, const struct hammer2_blockref *b)
{
	uint64_t h = (b->data_off >> 10) * 0x9E3779B97F4A7C15ull;
	hammer2_off_t *slot = &bf->bf_seen[h >> 52 & (H2_BF_DEDUP - 1)];

	if (*slot == b->data_off)
		return 1;
	*slot = b->data_off;
	return 0;
}

static int bf_inode(struct bf *bf, const struct hammer2_blockref *b);

static int
bf_leaf(void *arg, const struct hammer2_blockref *b)
{
	struct bf *bf = arg;

	bf_mark(bf, b);
	if (b->type == HAMMER2_BREF_TYPE_INODE)
		return bf_inode(bf, b);
	return 0;
}

static int
bf_node(void *arg, const struct hammer2_blockref *b)
{
	bf_mark(arg, b);
	return 0;
}

static int
bf_inode(struct bf *bf, const struct hammer2_blockref *b)
{
	struct hammer2_blockref set[HAMMER2_SET_COUNT];
	int error;

	if (bf_seen(bf, b))
		return 0;
	if (++bf->bf_depth > 4 * H2_MAX_DEPTH)
		return h2_malformed(bf->bf_mp, b, "inodes nested too deep");
	error = h2_inode_load(bf->bf_mp, b, &bf->bf_ip);
	if (error == 0 &&
	    !(bf->bf_ip.meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA)) {
		memcpy(set, bf->bf_ip.u.blockset.blockref, sizeof(set));
		error = h2_tree_walk(bf->bf_mp, set, HAMMER2_SET_COUNT, 0,
		    HAMMER2_KEY_MAX, bf_leaf, bf_node, bf);
	}
	bf->bf_depth--;
	return error;
}

/* Merge the gathered map into the live leaves (h2_bulkfree_sync). */
static void
bf_adjust(struct bf *bf, struct hammer2_bmap_data *live,
    const struct hammer2_bmap_data *bm)
{
	struct hammer2_volume_data *vd = bf->bf_mp->m_vol;
	hammer2_bitmap_t lm, mm, two;
	int i, s;

	for (i = 0; i < HAMMER2_BMAP_ELEMENTS; i++) {
		lm = live->bitmapq[i];
		mm = bm->bitmapq[i];
		for (s = 0; s < HAMMER2_BMAP_BITS_PER_ELEMENT && lm != mm;
		     s += 2) {
			two = (hammer2_bitmap_t)3 << s;
			if ((mm & two) == 0 && bf->bf_recover) {
				continue;
			} else if ((mm & two) == 0) {
				if ((lm & two) == two) { /* 11 -> 10 */
					live->bitmapq[i] &=
					    ~((hammer2_bitmap_t)1 << s);
					bf->bf_res->bf_staged++;
				} else if ((lm & two) >> s == 2) {
					live->bitmapq[i] &= ~two; /* 10 -> 00 */
					live->avail +=
					    HAMMER2_FREEMAP_BLOCK_SIZE;
					vd->allocator_free +=
					    HAMMER2_FREEMAP_BLOCK_SIZE;
					bf->bf_res->bf_freed++;
				}
			} else if ((mm & two) == two && (lm & two) != two) {
				if ((lm & two) == 0) {
					if (!bf->bf_recover)
						h2p_log(H2_LOG_WARN,
						    "hammer2: bulkfree: block in "
						    "use was marked free");
					live->avail = live->avail >
						HAMMER2_FREEMAP_BLOCK_SIZE ?
					    live->avail -
						HAMMER2_FREEMAP_BLOCK_SIZE :
					    0;
					vd->allocator_free -=
					    HAMMER2_FREEMAP_BLOCK_SIZE;
				}
				live->bitmapq[i] |= two;
				bf->bf_res->bf_fixed++;
			}
		}
	}
	if (live->avail > HAMMER2_FREEMAP_LEVEL0_SIZE)
		live->avail = HAMMER2_FREEMAP_LEVEL0_SIZE;
	if (bf->bf_recover) {
		if (live->class == 0)
			live->class = bm->class;
		if (live->linear < bm->linear)
			live->linear =
			    (bm->linear + HAMMER2_FREEMAP_BLOCK_MASK) &
			    ~HAMMER2_FREEMAP_BLOCK_MASK;
		return;
	}
	for (i = HAMMER2_BMAP_ELEMENTS - 1; i >= 0; i--)
		if (live->bitmapq[i] != 0)
			break;
	if (i < 0) {
		live->avail = HAMMER2_FREEMAP_LEVEL0_SIZE;
		live->class = 0;
		live->linear = 0;
	} else if (i < HAMMER2_BMAP_ELEMENTS - 1) {
		if (live->linear < bm->linear &&
		    ((live->linear ^ bm->linear) &
			~HAMMER2_FREEMAP_BLOCK_MASK) == 0)
			live->linear = bm->linear;
		else
			live->linear =
			    (bm->linear + HAMMER2_FREEMAP_BLOCK_MASK) &
			    ~HAMMER2_FREEMAP_BLOCK_MASK;
	} else {
		live->linear = HAMMER2_SEGSIZE;
	}
}

static int
bf_sync(struct bf *bf)
{
	struct h2_mount *mp = bf->bf_mp;
	struct hammer2_bmap_data *live, *bm = bf->bf_bmap;
	hammer2_off_t off;
	struct h2_fmblk *f;
	int error;

	for (off = bf->bf_sbase; off < bf->bf_sstop;
	     off += HAMMER2_FREEMAP_LEVEL0_SIZE, bm++) {
		if (off < mp->m_vol->allocator_beg || off >= mp->m_limit)
			continue;
		if ((error = h2_fm_leaf(mp, off,
			 bf->bf_recover && bm->class != 0, &f)) != 0)
			return error;
		if (f == NULL) {
			if (bm->class != 0 &&
			    bm->avail != HAMMER2_FREEMAP_LEVEL0_SIZE)
				h2p_log(H2_LOG_WARN,
				    "hammer2: bulkfree: no freemap leaf for "
				    "blocks in use near 0x%016llx",
				    (unsigned long long)off);
			continue;
		}
		live = &((struct hammer2_bmap_data *)
			     f->f_data)[(off & L1MASK) >> HAMMER2_SEGRADIX];
		if (memcmp(live->bitmapq, bm->bitmapq, sizeof(bm->bitmapq)) ==
			0 &&
		    live->linear >= bm->linear)
			continue;
		bf_adjust(bf, live, bm);
		f->f_bref.check.freemap.bigmask = (uint32_t)-1;
		h2_fm_dirty(f);
	}
	mp->m_relaxed = 0;
	return 0;
}

static int
bf_scan(struct bf *bf)
{
	struct h2_mount *mp = bf->bf_mp;
	struct hammer2_blockref set[HAMMER2_SET_COUNT];
	int error;

	bf_init_range(bf);
	memset(bf->bf_seen, 0, sizeof(*bf->bf_seen) * H2_BF_DEDUP);
	memcpy(set, mp->m_vol->sroot_blockset.blockref, sizeof(set));
	error = h2_tree_walk(mp, set, HAMMER2_SET_COUNT, 0, HAMMER2_KEY_MAX,
	    bf_leaf, bf_node, bf);
	if (error)
		return error;
	return bf_sync(bf);
}

static int
bf_pass(struct h2_mount *mp, struct h2_bulkfree_result *res, int recover)
{
	size_t entries = (size_t)H2_BF_CHUNK * HAMMER2_FREEMAP_COUNT;
	struct bf bf;
	int error, e;

	res->bf_free_before = mp->m_vol->allocator_free;
	memset(&bf, 0, sizeof(bf));
	bf.bf_mp = mp;
	bf.bf_res = res;
	bf.bf_recover = recover;
	bf.bf_bmap = h2p_alloc(entries * sizeof(*bf.bf_bmap));
	bf.bf_seen = h2p_alloc(H2_BF_DEDUP * sizeof(*bf.bf_seen));
	error = -ENOMEM;
	if (bf.bf_bmap == NULL || bf.bf_seen == NULL)
		goto out;
	error = 0;
	for (bf.bf_sbase = 0; error == 0 && bf.bf_sbase < mp->m_limit;
	     bf.bf_sbase = bf.bf_sstop) {
		bf.bf_sstop = bf.bf_sbase +
		    (hammer2_off_t)H2_BF_CHUNK * HAMMER2_FREEMAP_LEVEL1_SIZE;
		if (bf.bf_sstop > mp->m_limit)
			bf.bf_sstop = (mp->m_limit + L1MASK) & ~L1MASK;
		error = bf_scan(&bf);
	}
	/*
	 * Each 4 MiB entry is merged whole and a chunk only after its scan
	 * completed, so what was merged before an error is sound: commit it.
	 * (A block that cannot be read stops the pass before its chunk is
	 * merged: its subtree would look unreachable.)
	 */
	mp->m_dirty = 1;
	if ((e = h2_flush(mp)) != 0 && error == 0)
		error = e;
	res->bf_free_after = mp->m_vol->allocator_free;
out:
	h2p_free(bf.bf_bmap, entries * sizeof(*bf.bf_bmap));
	h2p_free(bf.bf_seen, H2_BF_DEDUP * sizeof(*bf.bf_seen));
	h2n_trim(mp, 0);
	return error;
}

int
h2_bulkfree(struct h2_mount *mp, struct h2_bulkfree_result *res)
{
	int error;

	memset(res, 0, sizeof(*res));
	if ((error = h2_writable(mp)) != 0)
		return error;
	if ((error = h2_flush(mp)) != 0)
		return error;
	return bf_pass(mp, res, 0);
}

int
h2_fm_recover(struct h2_mount *mp)
{
	struct h2_bulkfree_result res;
	int error;

	memset(&res, 0, sizeof(res));
	h2p_log(H2_LOG_INFO,
	    "hammer2: freemap_tid 0x%llx is behind mirror_tid 0x%llx: "
	    "marking every block in use allocated",
	    (unsigned long long)mp->m_vol->freemap_tid,
	    (unsigned long long)mp->m_vol->mirror_tid);
	error = bf_pass(mp, &res, 1);
	if (error == 0 && res.bf_fixed)
		h2p_log(H2_LOG_WARN,
		    "hammer2: recovery: %llu 16 KiB chunks in use were marked "
		    "free in the freemap",
		    (unsigned long long)res.bf_fixed);
	return error;
}
