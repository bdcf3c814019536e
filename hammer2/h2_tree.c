/*
 * h2_tree.c: walking a blockref tree in key order.
 *
 * An inode's four embedded blockrefs (or the volume header's super-root
 * set) are the top level of a tree; INDIRECT blockrefs point at blocks of
 * up to 512 more. Each blockref covers keys [key, key + 2^keybits - 1].
 * HAMMER2 keeps sibling sets fully associative (any slot, holes allowed),
 * so a level is read whole, its non-empty entries validated and sorted by
 * key, and the walk descends into the entries that overlap [beg, end].
 *
 * What a level must satisfy (anything else is malformed, -EIO):
 *  - every entry is a type that belongs in a file-system tree (INODE,
 *    INDIRECT, DATA, DIRENT), with keybits <= 64 and its key aligned to
 *    its keybits;
 *  - every entry's range lies inside its parent's range;
 *  - an INDIRECT entry covers strictly fewer key bits than its parent;
 *  - sibling ranges do not overlap.
 * These make the walk terminate and stay linear: keybits shrink on every
 * descent, so there are no cycles and depth is bounded (H2_MAX_DEPTH caps
 * it further), and since siblings are disjoint a block reached through two
 * different ranges cannot have children inside both.
 *
 * The same walk runs over the tree as it is in memory (h2_node_walk):
 * where a child block is loaded as a node, its in-memory copy is walked
 * instead of the (possibly stale) media block, and an INODE leaf is
 * reported with its node.
 *
 * Interface: h2_tree_scan in hammer2.h; h2_tree_walk (the same, also
 * reporting each INDIRECT blockref), h2_node_walk and h2_level_index in
 * h2_internal.h. Stack use per level is small; the block buffer of each
 * level is allocated on the heap.
 */
#include "hammer2/h2_internal.h"

struct scan {
	struct h2_mount *s_mp;
	hammer2_key_t s_beg;
	hammer2_key_t s_end;
	h2_leaf_fn *s_fn;
	h2_leaf_fn *s_node_fn; /* INDIRECT blockrefs, before descent */
	h2_nleaf_fn *s_nfn;    /* node walks: leaves with their nodes */
	void *s_arg;
};

#define range_last h2_range_last

/* Last key of a range; keybits 64 covers everything. */
hammer2_key_t
h2_range_last(hammer2_key_t key, int keybits)
{
	if (keybits >= 64)
		return HAMMER2_KEY_MAX;
	return key + (((hammer2_key_t)1 << keybits) - 1);
}

static int
entry_valid(struct h2_mount *mp, const struct hammer2_blockref *b,
    hammer2_key_t pkey, int pbits)
{
	hammer2_key_t mask;

	switch (b->type) {
	case HAMMER2_BREF_TYPE_INODE:
	case HAMMER2_BREF_TYPE_INDIRECT:
	case HAMMER2_BREF_TYPE_DATA:
	case HAMMER2_BREF_TYPE_DIRENT:
		break;
	default:
		return h2_malformed(mp, b, "unexpected type in a tree");
	}
	if (b->keybits > 64)
		return h2_malformed(mp, b, "keybits > 64");
	mask = range_last(0, b->keybits);
	if (b->key & mask)
		return h2_malformed(mp, b, "key not aligned to keybits");
	if (b->key < pkey ||
	    range_last(b->key, b->keybits) > range_last(pkey, pbits))
		return h2_malformed(mp, b, "key range outside its parent");
	if (b->type == HAMMER2_BREF_TYPE_INDIRECT && b->keybits >= pbits)
		return h2_malformed(mp, b, "indirect block does not narrow");
	return 0;
}

/*
 * Insertion sort of idx by key. Levels are written in key order, so this
 * is nearly always a single pass; the worst case (512 entries reversed) is
 * still cheap, and it needs no global state (qsort has no context).
 */
static void
sort_idx(const struct hammer2_blockref *base, uint16_t *idx, int n)
{
	uint16_t t;
	int i, j;

	for (i = 1; i < n; i++) {
		t = idx[i];
		for (j = i; j > 0 && base[idx[j - 1]].key > base[t].key; j--)
			idx[j] = idx[j - 1];
		idx[j] = t;
	}
}

/*
 * Collect the non-empty entries of a level in key order into idx and
 * validate them. Returns the number of entries or -EIO.
 */
int
h2_level_index(struct h2_mount *mp, const struct hammer2_blockref *base,
    int count, hammer2_key_t pkey, int pbits, uint16_t *idx)
{
	int i, n = 0, sorted = 1, error;

	for (i = 0; i < count; i++) {
		if (base[i].type == HAMMER2_BREF_TYPE_EMPTY)
			continue;
		if ((error = entry_valid(mp, &base[i], pkey, pbits)) != 0)
			return error;
		if (n > 0 && base[idx[n - 1]].key >= base[i].key)
			sorted = 0;
		idx[n++] = (uint16_t)i;
	}
	if (!sorted) {
		/* Readable, but DragonFly's lookups assume order: fsck
		 * reports it. */
		H2_STAT_ADD(mp, st_unsorted, 1);
		sort_idx(base, idx, n);
	}
	for (i = 1; i < n; i++) {
		const struct hammer2_blockref *p = &base[idx[i - 1]];

		if (range_last(p->key, p->keybits) >= base[idx[i]].key)
			return h2_malformed(mp, &base[idx[i]],
			    "overlaps a sibling");
	}
	return n;
}

static int scan_level(struct scan *s, const struct hammer2_blockref *base,
    int count, hammer2_key_t pkey, int pbits, int depth, struct h2_node *node);

static int
scan_indirect(struct scan *s, const struct hammer2_blockref *b, int depth)
{
	size_t len, size = h2_bref_bytes(b);
	void *buf;
	int error;

	if (depth >= H2_MAX_DEPTH)
		return h2_malformed(s->s_mp, b, "tree too deep");
	/* Exactly the block (h2_bref_read refuses sizes outside 1..64 KiB);
	 * allocating 64 KiB per level is what made walks slow. */
	if (size < HAMMER2_ALLOC_MIN || size > HAMMER2_PBUFSIZE)
		size = HAMMER2_PBUFSIZE;
	if ((buf = h2p_alloc(size)) == NULL)
		return -ENOMEM;
	error = h2_bref_read_meta(s->s_mp, b, buf, &len);
	if (error == 0 && len == 0)
		error = h2_malformed(s->s_mp, b, "indirect block has no data");
	if (error == 0)
		error = scan_level(s, buf, (int)(len / HAMMER2_BLOCKREF_BYTES),
		    b->key, b->keybits, depth + 1, NULL);
	h2p_free(buf, size);
	return error;
}

/* The loaded child at slot i of node (or NULL). */
static struct h2_node *
loaded_kid(struct h2_node *node, int i)
{
	if (node == NULL || node->n_kids == NULL)
		return NULL;
	return node->n_kids[i];
}

static int
scan_entry(struct scan *s, const struct hammer2_blockref *b,
    struct h2_node *kid, int depth)
{
	int error = 0;

	if (b->type != HAMMER2_BREF_TYPE_INDIRECT) {
		if (s->s_nfn != NULL)
			return s->s_nfn(s->s_arg, b, kid);
		return s->s_fn(s->s_arg, b);
	}
	if (s->s_node_fn != NULL)
		error = s->s_node_fn(s->s_arg, b);
	if (error)
		return error;
	if (kid == NULL)
		return scan_indirect(s, b, depth);
	if (depth >= H2_MAX_DEPTH)
		return h2_malformed(s->s_mp, b, "tree too deep");
	return scan_level(s, h2n_base(kid), kid->n_count, b->key, b->keybits,
	    depth + 1, kid);
}

static int
scan_level(struct scan *s, const struct hammer2_blockref *base, int count,
    hammer2_key_t pkey, int pbits, int depth, struct h2_node *node)
{
	const struct hammer2_blockref *b;
	uint16_t *idx;
	int i, n, error = 0;

	idx = h2p_alloc(sizeof(*idx) * (count ? count : 1));
	if (idx == NULL)
		return -ENOMEM;
	n = h2_level_index(s->s_mp, base, count, pkey, pbits, idx);
	if (n < 0)
		error = n;
	for (i = 0; error == 0 && i < n; i++) {
		b = &base[idx[i]];
		if (b->key > s->s_end)
			break;
		if (range_last(b->key, b->keybits) < s->s_beg)
			continue;
		error = scan_entry(s, b, loaded_kid(node, idx[i]), depth);
	}
	h2p_free(idx, sizeof(*idx) * (count ? count : 1));
	return error;
}

int
h2_tree_walk(struct h2_mount *mp, const struct hammer2_blockref *base,
    int count, hammer2_key_t beg, hammer2_key_t end, h2_leaf_fn *fn,
    h2_leaf_fn *node_fn, void *arg)
{
	struct scan s = { mp, beg, end, fn, node_fn, NULL, arg };

	if (beg > end || count < 0 || count > HAMMER2_IND_COUNT_MAX)
		return -EINVAL;
	return scan_level(&s, base, count, 0, 64, 0, NULL);
}

int
h2_node_walk(struct h2_mount *mp, struct h2_node *top, hammer2_key_t beg,
    hammer2_key_t end, h2_nleaf_fn *fn, void *arg)
{
	struct scan s = { mp, beg, end, NULL, NULL, fn, arg };
	struct hammer2_blockref *base = h2n_base(top);
	int error;

	if (beg > end)
		return -EINVAL;
	if (base == NULL)
		return 0;
	mp->m_walks++;
	error = scan_level(&s, base, top->n_count, 0, 64, 0, top);
	mp->m_walks--;
	return error;
}

int
h2_tree_scan(struct h2_mount *mp, const struct hammer2_blockref *base,
    int count, hammer2_key_t beg, hammer2_key_t end, h2_leaf_fn *fn, void *arg)
{
	return h2_tree_walk(mp, base, count, beg, end, fn, NULL, arg);
}
