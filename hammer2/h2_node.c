/*
 * h2_node.c: metadata blocks in memory, and changing the blockref tree.
 *
 * A node is an in-memory copy of a metadata block: an inode (1 KiB, whose
 * last 512 bytes are a set of four blockrefs unless it holds direct data),
 * an indirect block (1..64 KiB of blockrefs) or the pseudo node standing
 * for the volume header's super-root set. Nodes hang below each other as
 * the blocks do; a node records its parent and the slot of its blockref
 * there, and keeps the children it has loaded by slot (n_kids). Loading
 * reads and verifies the block, validates it as the read path does (every
 * entry inside the parent's range, indirect blocks narrowing, no overlaps)
 * and sorts its entries by key into slots 0..n_live-1, as DragonFly keeps
 * them.
 *
 * Changing the tree (DragonFly's hammer2_chain_create/delete, our way):
 *  - Insert walks down to the deepest node whose range holds the key. If
 *    it has a free slot the entry goes in at its sorted position; if it is
 *    full, some of its entries move into a new indirect block first: the
 *    smallest aligned range holding the entries and the new key is cut in
 *    half and the half with more entries becomes the new block's range,
 *    widened (for sequential keys: file offsets, inode numbers) until it
 *    could fill the block, as long as it swallows whole entries only and
 *    stays narrower than its parent. Directory inodes get 4 KiB first-level
 *    indirect blocks, everything else 16 KiB, as DragonFly does; a file's
 *    tree thus grows exactly like DragonFly's (8 MiB per first-level block,
 *    1 GiB per second-level).
 *  - Delete takes the entry out and closes the gap; an indirect block left
 *    empty goes too (DragonFly's flusher does the same).
 *  - Folding (DragonFly's hammer2_chain_indirect_maintenance): when the
 *    flush reaches a dirty indirect block, after its children and before
 *    it gets a block of its own, h2n_fold moves its entries (and loaded
 *    children) up into its parent and drops it, if they fit there in
 *    place of its own entry and it is at most 3/4 full (DragonFly's
 *    hysteresis). The flush goes bottom-up, so a tree emptied by deletes
 *    folds level by level back towards the inode in one transaction.
 *    Splits happen at insert, folds at flush, as in DragonFly, so a level
 *    does not flap within one transaction.
 *  - Every change marks the node and its ancestors dirty; the flush gives
 *    each dirty node a new block (copy on write).
 *
 * Interface (h2_internal.h): h2n_* functions. Loaded nodes are always
 * sorted (H2N_SORTED). Nodes are freed only by h2n_delete, h2n_free_tree
 * and h2n_trim, never while pinned (n_refs) or dirty (trim).
 */
#include "hammer2/h2_internal.h"

static size_t
node_mem(const struct h2_node *n)
{
	size_t m = sizeof(*n);

	if (!(n->n_flags & H2N_VOLUME))
		m += n->n_bytes;
	if (n->n_kids != NULL)
		m += sizeof(*n->n_kids) * n->n_count;
	return m;
}

struct hammer2_blockref *
h2n_base(struct h2_node *n)
{
	struct hammer2_inode_data *ip;

	if (n->n_flags & H2N_VOLUME)
		return n->n_data;
	switch (n->n_bref.type) {
	case HAMMER2_BREF_TYPE_INODE:
		ip = n->n_data;
		if (ip->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA)
			return NULL;
		return ip->u.blockset.blockref;
	case HAMMER2_BREF_TYPE_INDIRECT:
		return n->n_data;
	default:
		return NULL;
	}
}

void
h2n_range(const struct h2_node *n, hammer2_key_t *keyp, int *bitsp)
{
	if (!(n->n_flags & H2N_VOLUME) &&
	    n->n_bref.type == HAMMER2_BREF_TYPE_INDIRECT) {
		*keyp = n->n_bref.key;
		*bitsp = n->n_bref.keybits;
	} else {
		*keyp = 0;
		*bitsp = 64;
	}
}

/* Slots of n's array as its data says (0 for a direct-data inode). */
static int
node_slots(struct h2_node *n)
{
	if (n->n_flags & H2N_VOLUME)
		return HAMMER2_SET_COUNT;
	if (n->n_bref.type == HAMMER2_BREF_TYPE_INDIRECT)
		return (int)(n->n_bytes / HAMMER2_BLOCKREF_BYTES);
	return h2n_base(n) != NULL ? HAMMER2_SET_COUNT : 0;
}

struct h2_node *
h2n_alloc(struct h2_mount *mp, const struct hammer2_blockref *bref,
    size_t bytes)
{
	struct h2_node *n;

	if ((n = h2p_zalloc(sizeof(*n))) == NULL)
		return NULL;
	if (bytes && (n->n_data = h2p_zalloc(bytes)) == NULL) {
		h2p_free(n, sizeof(*n));
		return NULL;
	}
	n->n_bref = *bref;
	n->n_bytes = (uint32_t)bytes;
	n->n_flags = H2N_SORTED;
	n->n_count = (uint16_t)node_slots(n);
	mp->m_node_bytes += node_mem(n);
	mp->m_nnodes++;
	return n;
}

static void
node_free(struct h2_mount *mp, struct h2_node *n)
{
	H2_ASSERT(n->n_refs == 0 && n->n_nkids == 0);
	if (n->n_flags & H2N_DIRTY)
		mp->m_dirty_bytes -= n->n_bytes;
	mp->m_node_bytes -= node_mem(n);
	mp->m_nnodes--;
	if (n->n_kids != NULL)
		h2p_free(n->n_kids, sizeof(*n->n_kids) * n->n_count);
	if (!(n->n_flags & H2N_VOLUME))
		h2p_free(n->n_data, n->n_bytes);
	h2p_free(n, sizeof(*n));
}

/* Unlink kid from its parent's children (the entry stays). */
static void
unlink_kid(struct h2_node *kid)
{
	struct h2_node *p = kid->n_parent;

	if (p == NULL)
		return;
	H2_ASSERT(p->n_kids != NULL && p->n_kids[kid->n_slot] == kid);
	p->n_kids[kid->n_slot] = NULL;
	p->n_nkids--;
	kid->n_parent = NULL;
}

void
h2n_free_tree(struct h2_mount *mp, struct h2_node *n)
{
	int i;

	for (i = 0; n->n_kids != NULL && i < n->n_count; i++)
		if (n->n_kids[i] != NULL)
			h2n_free_tree(mp, n->n_kids[i]);
	unlink_kid(n);
	node_free(mp, n);
}

/* Make sure n can record loaded children. */
static int
kids_alloc(struct h2_mount *mp, struct h2_node *n)
{
	if (n->n_kids != NULL || n->n_count == 0)
		return 0;
	n->n_kids = h2p_zalloc(sizeof(*n->n_kids) * n->n_count);
	if (n->n_kids == NULL)
		return -ENOMEM;
	mp->m_node_bytes += sizeof(*n->n_kids) * n->n_count;
	return 0;
}

static void
kid_attach(struct h2_node *n, int slot, struct h2_node *kid)
{
	H2_ASSERT(n->n_kids != NULL && n->n_kids[slot] == NULL);
	n->n_kids[slot] = kid;
	n->n_nkids++;
	kid->n_parent = n;
	kid->n_slot = (uint16_t)slot;
}

/* Move entry (and child) from slot src of n to slot dst of m. */
static void
entry_move(struct h2_node *n, int src, struct h2_node *m, int dst)
{
	struct hammer2_blockref *nb = h2n_base(n), *mb = h2n_base(m);
	struct h2_node *kid = n->n_kids ? n->n_kids[src] : NULL;

	mb[dst] = nb[src];
	memset(&nb[src], 0, sizeof(nb[src]));
	if (kid != NULL) {
		n->n_kids[src] = NULL;
		n->n_nkids--;
		kid_attach(m, dst, kid);
	}
}

/*
 * Sort n's entries by key into slots 0..n_live-1, moving the loaded
 * children along. In place: blocks are almost always sorted already (with
 * at most some holes), so this is one pass in practice.
 */
void
h2n_sort(struct h2_node *n)
{
	struct hammer2_blockref *base = h2n_base(n), t;
	struct h2_node *tk;
	int i, j, live = 0;

	n->n_count = (uint16_t)node_slots(n);
	for (i = 0; base != NULL && i < n->n_count; i++) {
		if (base[i].type == HAMMER2_BREF_TYPE_EMPTY)
			continue;
		if (i != live)
			entry_move(n, i, n, live);
		live++;
	}
	for (i = 1; i < live; i++) {
		for (j = i; j > 0 && base[j - 1].key > base[j].key; j--) {
			t = base[j];
			base[j] = base[j - 1];
			base[j - 1] = t;
			if (n->n_kids == NULL)
				continue;
			tk = n->n_kids[j];
			n->n_kids[j] = n->n_kids[j - 1];
			n->n_kids[j - 1] = tk;
			if (n->n_kids[j] != NULL)
				n->n_kids[j]->n_slot = (uint16_t)j;
			if (n->n_kids[j - 1] != NULL)
				n->n_kids[j - 1]->n_slot = (uint16_t)(j - 1);
		}
	}
	n->n_live = (uint16_t)live;
	n->n_flags |= H2N_SORTED;
}

/* Validate the array of a freshly read node against its range. */
static int
node_validate(struct h2_mount *mp, struct h2_node *n)
{
	struct hammer2_blockref *base = h2n_base(n);
	hammer2_key_t key;
	uint16_t *idx;
	int bits, error;

	if (base == NULL)
		return 0;
	if ((idx = h2p_alloc(sizeof(*idx) * n->n_count)) == NULL)
		return -ENOMEM;
	h2n_range(n, &key, &bits);
	error = h2_level_index(mp, base, n->n_count, key, bits, idx);
	h2p_free(idx, sizeof(*idx) * n->n_count);
	return error < 0 ? error : 0;
}

/* Read the block of entry b into a new node and validate it. */
static int
node_read(struct h2_mount *mp, const struct hammer2_blockref *b,
    struct h2_node **kidp)
{
	struct hammer2_inode_data *ip;
	struct h2_node *kid;
	const char *why;
	size_t bytes, len;
	int error;

	if (b->type == HAMMER2_BREF_TYPE_INODE)
		bytes = HAMMER2_INODE_BYTES;
	else if (b->type == HAMMER2_BREF_TYPE_INDIRECT)
		bytes = h2_bref_bytes(b);
	else
		return h2_malformed(mp, b, "not a metadata block");
	if (bytes < HAMMER2_ALLOC_MIN || bytes > HAMMER2_PBUFSIZE)
		return h2_malformed(mp, b, "physical size radix out of range");
	if ((kid = h2n_alloc(mp, b, bytes)) == NULL)
		return -ENOMEM;
	error = h2_bref_read_meta(mp, b, kid->n_data, &len);
	if (error == 0 && len != bytes)
		error = h2_malformed(mp, b, "block has no data");
	if (error == 0 && b->type == HAMMER2_BREF_TYPE_INODE) {
		ip = kid->n_data;
		if ((why = h2_inode_problem(&ip->meta)) != NULL)
			error = h2_malformed(mp, b, why);
		else
			H2_STAT_ADD(mp, st_inodes, 1);
	}
	kid->n_count = (uint16_t)node_slots(kid);
	if (error == 0)
		error = node_validate(mp, kid);
	if (error) {
		node_free(mp, kid);
		return error;
	}
	h2n_sort(kid);
	H2_STAT_ADD(mp, st_nodes_loaded, 1);
	*kidp = kid;
	return 0;
}

int
h2n_kid(struct h2_mount *mp, struct h2_node *n, int slot, struct h2_node **kidp)
{
	struct hammer2_blockref *base = h2n_base(n);
	struct h2_node *kid = NULL;
	int error;

	H2_ASSERT(base != NULL && slot >= 0 && slot < n->n_count);
	if (n->n_kids != NULL && n->n_kids[slot] != NULL) {
		*kidp = n->n_kids[slot];
		return 0;
	}
	if ((error = kids_alloc(mp, n)) != 0)
		return error;
	if ((error = node_read(mp, &base[slot], &kid)) != 0)
		return error;
	kid_attach(n, slot, kid);
	*kidp = kid;
	return 0;
}

int
h2n_load_inode(struct h2_mount *mp, struct h2_node *parent, int slot,
    struct h2_node **kidp)
{
	if (h2n_base(parent)[slot].type != HAMMER2_BREF_TYPE_INODE)
		return h2_malformed(mp, &h2n_base(parent)[slot],
		    "not an inode");
	return h2n_kid(mp, parent, slot, kidp);
}

void
h2n_dirty(struct h2_mount *mp, struct h2_node *n)
{
	mp->m_dirty = 1;
	for (; n != NULL && !(n->n_flags & H2N_DIRTY); n = n->n_parent) {
		n->n_flags |= H2N_DIRTY;
		mp->m_dirty_bytes += n->n_bytes;
	}
}

/* First slot of n whose key is greater than key (n sorted). */
static int
after(struct h2_node *n, hammer2_key_t key)
{
	struct hammer2_blockref *base = h2n_base(n);
	int lo = 0, hi = n->n_live, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (base[mid].key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the entry of n covering key, or -1 (n sorted). */
static int
cover(struct h2_node *n, hammer2_key_t key)
{
	struct hammer2_blockref *base = h2n_base(n);
	int i = after(n, key) - 1; /* the last entry with base.key <= key */

	if (i < 0 || h2_range_last(base[i].key, base[i].keybits) < key)
		return -1;
	return i;
}

int
h2n_find(struct h2_mount *mp, struct h2_node *top, hammer2_key_t key,
    struct h2_node **np, int *slotp)
{
	struct h2_node *n = top;
	int i, error, depth = 0;

	for (;;) {
		if (h2n_base(n) == NULL)
			return -ENOENT;
		if ((i = cover(n, key)) < 0)
			return -ENOENT;
		if (h2n_base(n)[i].type != HAMMER2_BREF_TYPE_INDIRECT)
			break;
		if (++depth > H2_MAX_DEPTH)
			return h2_malformed(mp, &h2n_base(n)[i],
			    "tree too deep");
		if ((error = h2n_kid(mp, n, i, &n)) != 0)
			return error;
	}
	*np = n;
	*slotp = i;
	return 0;
}

/* ---- splitting a full level ---- */

static uint64_t
mask_of(int bits)
{
	return bits >= 64 ? ~0ull : ((uint64_t)1 << bits) - 1;
}

/* Does [key, last(key, bits)] hold entry e whole, partly, or not at all? */
static int
holds(hammer2_key_t key, int bits, const struct hammer2_blockref *e)
{
	hammer2_key_t last = h2_range_last(key, bits);
	hammer2_key_t elast = h2_range_last(e->key, e->keybits);

	if (elast < key || e->key > last)
		return 0; /* disjoint */
	if (e->key >= key && elast <= last)
		return 1; /* inside */
	return -1;	  /* partial */
}

struct split {
	hammer2_key_t sp_key;
	int sp_bits;
	int sp_moved;
};

/* Choose the range of the new indirect block (see the file comment). */
static int
split_range(struct h2_node *n, hammer2_key_t newkey, int ncount,
    struct split *sp)
{
	struct hammer2_blockref *base = h2n_base(n);
	hammer2_key_t lo, hi, pkey;
	int i, rbits, hbits, nlo = 0, nhi = 0, minbits = 64, pbits, target;

	lo = base[0].key < newkey ? base[0].key : newkey;
	hi =
	    h2_range_last(base[n->n_live - 1].key, base[n->n_live - 1].keybits);
	if (newkey > hi)
		hi = newkey;
	for (rbits = 0; rbits < 64 && (lo >> rbits) != (hi >> rbits); rbits++)
		;
	if (rbits == 0)
		return -EIO;
	hbits = rbits - 1;
	for (i = 0; i < n->n_live; i++) {
		if ((base[i].key >> hbits) & 1)
			nhi++;
		else
			nlo++;
	}
	sp->sp_key = lo & ~mask_of(rbits);
	if (nhi > nlo)
		sp->sp_key |= (hammer2_key_t)1 << hbits;
	sp->sp_bits = hbits;
	/* Widen for sequential keys, never past a partly held entry. */
	h2n_range(n, &pkey, &pbits);
	for (i = 0; i < n->n_live; i++)
		if (holds(sp->sp_key, sp->sp_bits, &base[i]) == 1 &&
		    base[i].keybits < minbits)
			minbits = base[i].keybits;
	for (target = minbits; (1 << (target - minbits)) < ncount; target++)
		;
	while (sp->sp_bits < target && sp->sp_bits + 1 < pbits) {
		hammer2_key_t nk = sp->sp_key & ~mask_of(sp->sp_bits + 1);

		for (i = 0; i < n->n_live; i++)
			if (holds(nk, sp->sp_bits + 1, &base[i]) < 0)
				break;
		if (i < n->n_live)
			break;
		sp->sp_key = nk;
		sp->sp_bits++;
	}
	sp->sp_moved = 0;
	for (i = 0; i < n->n_live; i++) {
		int h = holds(sp->sp_key, sp->sp_bits, &base[i]);

		if (h < 0)
			return -EIO;
		sp->sp_moved += h;
	}
	return sp->sp_moved >= 2 ? 0 : -EIO;
}

static int
indirect_bytes(struct h2_node *n, int moved)
{
	const struct hammer2_inode_data *ip = n->n_data;
	int bytes = HAMMER2_IND_BYTES_NOM;

	if (!(n->n_flags & H2N_VOLUME) &&
	    n->n_bref.type == HAMMER2_BREF_TYPE_INODE &&
	    ip->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
		bytes = HAMMER2_IND_BYTES_MIN;
	while (bytes < moved * HAMMER2_BLOCKREF_BYTES)
		bytes *= 2;
	return bytes;
}

/* Check method of metadata created below n: never NONE (DragonFly). */
static uint8_t
meta_methods(const struct h2_node *n)
{
	int check = HAMMER2_DEC_CHECK(n->n_bref.methods);

	if (check == HAMMER2_CHECK_NONE)
		check = HAMMER2_CHECK_DEFAULT;
	return HAMMER2_ENC_CHECK(check) | HAMMER2_ENC_COMP(HAMMER2_COMP_NONE);
}

/* Insert entry b (with optional loaded kid) at its sorted slot of n. */
static int
put_entry(struct h2_node *n, const struct hammer2_blockref *b,
    struct h2_node *kid)
{
	struct hammer2_blockref *base = h2n_base(n);
	int pos = after(n, b->key), i;

	H2_ASSERT(n->n_live < n->n_count);
	for (i = n->n_live; i > pos; i--)
		entry_move(n, i - 1, n, i);
	base[pos] = *b;
	if (kid != NULL)
		kid_attach(n, pos, kid);
	n->n_live++;
	return pos;
}

static int
split(struct h2_mount *mp, struct h2_node *n, hammer2_key_t newkey)
{
	struct hammer2_blockref *base = h2n_base(n), ib;
	struct h2_node *in;
	struct split sp;
	int i, j, bytes, error;

	if (n->n_flags & H2N_VOLUME)
		return -ENOSPC; /* the volume header holds the super-root */
	bytes = indirect_bytes(n, 0);
	error = split_range(n, newkey, bytes / HAMMER2_BLOCKREF_BYTES, &sp);
	if (error)
		return h2_malformed(mp, &n->n_bref, "cannot split block");
	bytes = indirect_bytes(n, sp.sp_moved);
	memset(&ib, 0, sizeof(ib));
	ib.type = HAMMER2_BREF_TYPE_INDIRECT;
	ib.key = sp.sp_key;
	ib.keybits = (uint8_t)sp.sp_bits;
	ib.methods = meta_methods(n);
	ib.data_off = (hammer2_off_t)h2_radix((size_t)bytes);
	if ((in = h2n_alloc(mp, &ib, (size_t)bytes)) == NULL)
		return -ENOMEM;
	if ((error = kids_alloc(mp, in)) != 0 ||
	    (error = kids_alloc(mp, n)) != 0) {
		node_free(mp, in);
		return error;
	}
	for (i = j = 0; i < n->n_live; i++)
		if (holds(sp.sp_key, sp.sp_bits, &base[i]) == 1)
			entry_move(n, i, in, j++);
	in->n_live = (uint16_t)j;
	h2n_sort(n);
	put_entry(n, &ib, in);
	in->n_flags |= H2N_DIRTY;
	mp->m_dirty_bytes += in->n_bytes;
	h2n_dirty(mp, n);
	return 0;
}

int
h2n_insert(struct h2_mount *mp, struct h2_node *top,
    const struct hammer2_blockref *bref, h2n_fix_fn *fix, void *arg,
    struct h2_node **np, int *slotp)
{
	struct hammer2_blockref b = *bref, *base;
	struct h2_node *n = top;
	int i, error, depth = 0;

	for (;;) {
		if ((base = h2n_base(n)) == NULL)
			return -EINVAL;
		if ((i = cover(n, b.key)) >= 0) {
			if (base[i].type != HAMMER2_BREF_TYPE_INDIRECT)
				return -EEXIST;
			if (base[i].keybits <= b.keybits)
				return h2_malformed(mp, &base[i],
				    "indirect block inside a leaf");
			if (++depth > H2_MAX_DEPTH)
				return h2_malformed(mp, &base[i],
				    "tree too deep");
			if ((error = h2n_kid(mp, n, i, &n)) != 0)
				return error;
			continue;
		}
		i = after(n, b.key);
		if (i < n->n_live &&
		    base[i].key <= h2_range_last(b.key, b.keybits))
			return -EEXIST;
		if (n->n_live < n->n_count)
			break;
		if ((error = split(mp, n, b.key)) != 0)
			return error;
	}
	if (fix != NULL && (error = fix(arg, n, &b)) != 0)
		return error;
	i = put_entry(n, &b, NULL);
	h2n_dirty(mp, n);
	if (np != NULL)
		*np = n;
	if (slotp != NULL)
		*slotp = i;
	return 0;
}

static int
fix_kids(void *arg, struct h2_node *parent, struct hammer2_blockref *b)
{
	return kids_alloc(arg, parent);
}

int
h2n_insert_node(struct h2_mount *mp, struct h2_node *top, struct h2_node *kid)
{
	struct h2_node *n;
	int slot, error;

	error = h2n_insert(mp, top, &kid->n_bref, fix_kids, mp, &n, &slot);
	if (error)
		return error;
	kid_attach(n, slot, kid);
	h2n_dirty(mp, kid);
	return 0;
}

/* Take the entry at slot out of n, closing the gap. */
static void
entry_remove(struct h2_node *n, int slot)
{
	int i;

	for (i = slot + 1; i < n->n_live; i++)
		entry_move(n, i, n, i - 1);
	memset(&h2n_base(n)[n->n_live - 1], 0, sizeof(struct hammer2_blockref));
	n->n_live--;
}

void
h2n_delete(struct h2_mount *mp, struct h2_node *n, int slot)
{
	struct h2_node *kid, *parent;

	for (;;) {
		kid = n->n_kids != NULL ? n->n_kids[slot] : NULL;
		if (kid != NULL)
			h2n_free_tree(mp, kid);
		entry_remove(n, slot);
		h2n_dirty(mp, n);
		if ((n->n_flags & H2N_VOLUME) || n->n_live > 0 ||
		    n->n_bref.type != HAMMER2_BREF_TYPE_INDIRECT)
			return;
		/* An empty indirect block goes as well. */
		parent = n->n_parent;
		slot = n->n_slot;
		n = parent;
	}
}

int
h2n_fold(struct h2_mount *mp, struct h2_node *n)
{
	struct h2_node *p = n->n_parent, *kid;
	struct hammer2_blockref *base = h2n_base(n);
	int i, slot = n->n_slot;

	if ((n->n_flags & H2N_VOLUME) ||
	    n->n_bref.type != HAMMER2_BREF_TYPE_INDIRECT || p == NULL ||
	    mp->m_walks > 0 || n->n_refs > 0)
		return 0;
	H2_ASSERT(h2n_base(p) != NULL && p->n_kids[slot] == n);
	/* DragonFly: parent's entries - 1 + ours must fit; at most 3/4 full. */
	if (p->n_live - 1 + n->n_live > p->n_count ||
	    n->n_live > n->n_count * 3 / 4)
		return 0;
	unlink_kid(n);
	entry_remove(p, slot);
	for (i = 0; i < n->n_live; i++) {
		kid = n->n_kids != NULL ? n->n_kids[i] : NULL;
		if (kid != NULL) {
			n->n_kids[i] = NULL;
			n->n_nkids--;
		}
		put_entry(p, &base[i], kid);
	}
	n->n_live = 0;
	node_free(mp, n);
	h2n_dirty(mp, p);
	H2_STAT_ADD(mp, st_ind_folded, 1);
	return 1;
}

void
h2n_detach(struct h2_mount *mp, struct h2_node *kid)
{
	struct h2_node *n = kid->n_parent;
	int slot = kid->n_slot;

	unlink_kid(kid);
	h2n_delete(mp, n, slot);
}

/* ---- trimming ---- */

static int
trimmable(const struct h2_node *n)
{
	return !(n->n_flags & (H2N_DIRTY | H2N_VOLUME)) && n->n_refs == 0 &&
	    n->n_nkids == 0;
}

static void
trim_below(struct h2_mount *mp, struct h2_node *n, size_t goal)
{
	struct h2_node *kid;
	int i;

	for (i = 0; n->n_kids != NULL && i < n->n_count; i++) {
		if (mp->m_node_bytes <= goal)
			return;
		if ((kid = n->n_kids[i]) == NULL)
			continue;
		trim_below(mp, kid, goal);
		if (trimmable(kid)) {
			unlink_kid(kid);
			node_free(mp, kid);
		}
	}
}

void
h2n_trim(struct h2_mount *mp, int all)
{
	size_t budget = mp->m_node_budget ? mp->m_node_budget : H2_NODE_BUDGET;

	if (mp->m_vnode == NULL || mp->m_walks > 0)
		return;
	if (all)
		trim_below(mp, mp->m_vnode, 0);
	else if (mp->m_node_bytes > budget)
		trim_below(mp, mp->m_vnode, budget / 2);
}
