/*
 * h2_fsck.c: checking a whole volume offline.
 *
 * Four passes, each reporting what it finds through the caller's function
 * and counting it as a problem (the volume is not clean) or a warning:
 *
 *  1. Volume headers: every copy that fits on the device must have valid
 *     CRCs and the HAMMER2 fstype; at least one must. A bad copy in the
 *     slot after the newest valid one (where an interrupted header write
 *     lands) is only a warning.
 *  2. The freemap: a tree of 32 KiB FREEMAP_NODE and FREEMAP_LEAF blocks
 *     (level radix 62, 54, 46, 38, then leaves of 30) that must sit in the
 *     reserved freemap slots of a 1 GiB zone, carry valid checks and narrow
 *     by 8 key bits per level. Its leaves are kept for pass 3.
 *  3. The block tree from the super-root: through h2_tree_walk every
 *     indirect block and leaf is validated and verified exactly as the
 *     read path does; inodes are loaded and their own trees walked; data
 *     blocks are decoded; names are read and must sit at their hash. Every
 *     block must lie outside the reserved segments and the boot/aux areas,
 *     and, above allocator_beg (below it newfs wrote without the freemap),
 *     the freemap must not call any of its 16 KiB chunks free, unless the
 *     block is newer than the freemap (mirror_tid > freemap_tid, after a
 *     DragonFly crash): such blocks are "to recover" (counted, one
 *     warning per tree), since mounting recovers them.
 *     Each leaf is checked in its context: the super-root holds PFS roots,
 *     a PFS root holds the inode index (keys below bit 63) and the root
 *     directory's entries, a directory holds entries, a file holds data.
 *     Blockref arrays must be in key order (DragonFly's lookups rely on
 *     it; our reader does not, but counts them).
 *  4. Per PFS, the namespace: each entry must name an inode of the index
 *     with the entry's type; a breadth-first walk from the root must reach
 *     every directory exactly once (no cycles, no directory hard links),
 *     each directory's iparent must be the directory that names it, and a
 *     file's nlinks must equal the entries naming it. An inode no entry
 *     names is an orphan: a warning, since a crash with an open unlinked
 *     file leaves one legitimately.
 *
 * Memory: one 64 KiB scratch pair, the freemap leaves (32 KiB per GiB of
 * volume in use) and, per PFS, a table of inodes and a list of entries.
 *
 * Interface: h2_fsck in hammer2.h.
 */
#include <stdarg.h>
#include <stdlib.h> /* qsort */

#include "hammer2/h2_internal.h"

struct fm_leaf {
	hammer2_key_t fl_key;
	struct hammer2_bmap_data *fl_bmap; /* HAMMER2_FREEMAP_COUNT entries */
};

struct ient {
	hammer2_tid_t ie_inum;
	uint64_t ie_nlinks;
	hammer2_tid_t ie_iparent;
	uint32_t ie_refs;
	uint8_t ie_type;
	uint8_t ie_used;
	uint8_t ie_reached;
};

struct dent {
	hammer2_tid_t de_dir;
	hammer2_tid_t de_inum;
	uint8_t de_type;
};

struct fsck {
	struct h2_mount *f_mp;
	h2_fsck_fn *f_fn;
	void *f_arg;
	struct h2_fsck_result *f_res;
	int f_nomem;
	uint8_t *f_phys;  /* HAMMER2_PBUFSIZE scratch */
	uint8_t *f_logic; /* HAMMER2_PBUFSIZE scratch */
	struct fm_leaf *f_leaves;
	int f_nleaves, f_leafcap;
	uint64_t f_recover; /* this tree's blocks newer than the freemap */
	/* Per PFS. */
	const char *f_pfs;
	struct ient *f_itab;
	size_t f_icap, f_icount;
	struct dent *f_dents;
	size_t f_dcap, f_dcount;
};

enum ctx { C_SROOT, C_PFSROOT, C_DIR, C_FILE };

struct walk {
	struct fsck *w_f;
	enum ctx w_ctx;
	hammer2_tid_t w_owner; /* inode whose tree this is */
	uint64_t w_size;       /* C_FILE: the file's size */
};

static void
report(struct fsck *f, int sev, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sev == H2_FSCK_PROBLEM)
		f->f_res->fr_problems++;
	else if (sev == H2_FSCK_WARNING)
		f->f_res->fr_warnings++;
	if (f->f_fn != NULL)
		f->f_fn(f->f_arg, sev, msg);
}

static const char *
pfsname(const struct fsck *f)
{
	return f->f_pfs ? f->f_pfs : "super-root";
}

/* Grow an array of n elements of size sz to hold one more. */
static int
grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	if ((p = h2p_alloc(ncap * sz)) == NULL)
		return -ENOMEM;
	if (*arr != NULL)
		memcpy(p, *arr, n * sz);
	h2p_free(*arr, *cap * sz);
	*arr = p;
	*cap = ncap;
	return 0;
}

/* ---- pass 1: volume headers ---- */

static const uint8_t h2_fstype[16] = { 0xd1, 0x9a, 0xbb, 0x5c, 0x2d, 0x86, 0xdc,
	0x11, 0xa9, 0x4d, 0x01, 0x30, 0x1b, 0xb8, 0xa9, 0xf5 };

/* The slot the next flush after zone writes (DragonFly's rotation). */
static int
next_slot(int zone, uint64_t volu_size)
{
	int j = zone + 1;

	if (j >= HAMMER2_NUM_VOLHDRS ||
	    (uint64_t)j * HAMMER2_ZONE_BYTES64 + HAMMER2_SEGSIZE > volu_size)
		j = 0;
	return j;
}

static int
check_headers(struct fsck *f, struct h2_dev *dev, uint8_t *valid)
{
	struct hammer2_volume_data *vd;
	const char *why[HAMMER2_NUM_VOLHDRS] = { NULL };
	hammer2_tid_t best_tid = 0;
	uint64_t off, volu_size = 0;
	int zone, best = -1;

	if ((vd = h2p_alloc(sizeof(*vd))) == NULL)
		return -ENOMEM;
	for (zone = 0; zone < HAMMER2_NUM_VOLHDRS; zone++) {
		valid[zone] = 0;
		off = (uint64_t)zone * HAMMER2_ZONE_BYTES64;
		if (off >= dev->d_size || dev->d_size - off < sizeof(*vd))
			continue;
		if (h2_dev_read(dev, off, vd, sizeof(*vd)) != 0)
			why[zone] = "read error";
		else if (h2_volhdr_verify(vd, &why[zone]) != 0)
			;
		else if (memcmp(&vd->fstype, h2_fstype, 16) != 0)
			why[zone] = "not a HAMMER2 fstype";
		if (why[zone] != NULL)
			continue;
		valid[zone] = 1;
		f->f_res->fr_zones_valid++;
		if (best < 0 || vd->mirror_tid > best_tid) {
			best = zone;
			best_tid = vd->mirror_tid;
			volu_size = vd->volu_size;
		}
		report(f, H2_FSCK_INFO,
		    "volume header %d: mirror_tid 0x%016llx", zone,
		    (unsigned long long)vd->mirror_tid);
	}
	h2p_free(vd, sizeof(*vd));
	/*
	 * A bad copy in the slot the next flush would write after the best
	 * one is what a crash during a header write leaves (the flush before
	 * it made the best one complete); the next flush rewrites it. Any
	 * other bad copy is damage.
	 */
	for (zone = 0; zone < HAMMER2_NUM_VOLHDRS; zone++) {
		if (why[zone] == NULL)
			continue;
		if (best >= 0 && zone == next_slot(best, volu_size))
			report(f, H2_FSCK_WARNING,
			    "volume header %d: %s (an interrupted header "
			    "write; the next flush rewrites it)",
			    zone, why[zone]);
		else
			report(f, H2_FSCK_PROBLEM, "volume header %d: %s", zone,
			    why[zone]);
	}
	if (f->f_res->fr_zones_valid == 0)
		report(f, H2_FSCK_PROBLEM, "no valid volume header");
	return 0;
}

/* ---- pass 2: the freemap ---- */

static int
in_freemap_slots(hammer2_off_t off)
{
	hammer2_off_t in_zone = off & HAMMER2_FREEMAP_LEVEL1_MASK;
	hammer2_off_t slot = in_zone / HAMMER2_PBUFSIZE;

	return in_zone < HAMMER2_ZONE_SEG64 &&
	    slot >= HAMMER2_ZONE_FREEMAP_00 && slot < HAMMER2_ZONE_FREEMAP_END;
}

static int
fm_keep_leaf(struct fsck *f, const struct hammer2_blockref *b)
{
	struct fm_leaf *l;
	size_t cap = (size_t)f->f_leafcap;
	int error;

	error =
	    grow((void **)&f->f_leaves, &cap, (size_t)f->f_nleaves, sizeof(*l));
	if (error)
		return error;
	f->f_leafcap = (int)cap;
	l = &f->f_leaves[f->f_nleaves];
	if ((l->fl_bmap = h2p_alloc(HAMMER2_FREEMAP_LEVELN_PSIZE)) == NULL)
		return -ENOMEM;
	memcpy(l->fl_bmap, f->f_phys, HAMMER2_FREEMAP_LEVELN_PSIZE);
	l->fl_key = b->key;
	f->f_nleaves++;
	return 0;
}

static int fm_level(struct fsck *f, const struct hammer2_blockref *base,
    int count, int bits, int depth);

static int
fm_node(struct fsck *f, const struct hammer2_blockref *b, int bits, int depth)
{
	struct hammer2_blockref *kids;
	size_t len;
	int error;

	f->f_res->fr_blocks[b->type & 7]++;
	if (!in_freemap_slots(b->data_off & HAMMER2_OFF_MASK))
		report(f, H2_FSCK_PROBLEM,
		    "freemap block at 0x%016llx outside the freemap slots",
		    (unsigned long long)(b->data_off & HAMMER2_OFF_MASK));
	if (h2_bref_read(f->f_mp, b, f->f_phys, &len) != 0 ||
	    len != HAMMER2_FREEMAP_LEVELN_PSIZE) {
		report(f, H2_FSCK_PROBLEM, "freemap: %s",
		    h2_last_problem(f->f_mp));
		return 0;
	}
	f->f_res->fr_bytes += len;
	if (b->type == HAMMER2_BREF_TYPE_FREEMAP_LEAF)
		return fm_keep_leaf(f, b);
	if ((kids = h2p_alloc(len)) == NULL)
		return -ENOMEM;
	memcpy(kids, f->f_phys, len);
	error = fm_level(f, kids, (int)(len / HAMMER2_BLOCKREF_BYTES), bits - 8,
	    depth + 1);
	h2p_free(kids, len);
	return error;
}

/* A level of the freemap whose entries must have keybits == bits. */
static int
fm_level(struct fsck *f, const struct hammer2_blockref *base, int count,
    int bits, int depth)
{
	const struct hammer2_blockref *b;
	int i, error, leaf;

	for (i = 0; i < count; i++) {
		b = &base[i];
		if (b->type == HAMMER2_BREF_TYPE_EMPTY)
			continue;
		leaf = b->type == HAMMER2_BREF_TYPE_FREEMAP_LEAF;
		if ((!leaf && b->type != HAMMER2_BREF_TYPE_FREEMAP_NODE) ||
		    depth > 5 || b->keybits < HAMMER2_FREEMAP_LEVEL1_RADIX ||
		    (leaf && b->keybits != HAMMER2_FREEMAP_LEVEL1_RADIX) ||
		    (!leaf && b->keybits > bits) ||
		    (b->key & ((1ull << b->keybits) - 1)) != 0) {
			report(f, H2_FSCK_PROBLEM,
			    "freemap: bad %s blockref (key 0x%016llx/%u)",
			    h2_bref_type_name(b->type),
			    (unsigned long long)b->key, b->keybits);
			continue;
		}
		if ((error = fm_node(f, b, b->keybits, depth)) != 0)
			return error;
	}
	return 0;
}

static int
check_freemap(struct fsck *f)
{
	const struct hammer2_volume_data *vd = h2_mount_volhdr(f->f_mp);

	return fm_level(f, vd->freemap_blockset.blockref, HAMMER2_SET_COUNT,
	    HAMMER2_FREEMAP_LEVEL5_RADIX, 0);
}

static void
fm_free_leaves(struct fsck *f)
{
	int i;

	for (i = 0; i < f->f_nleaves; i++)
		h2p_free(f->f_leaves[i].fl_bmap, HAMMER2_FREEMAP_LEVELN_PSIZE);
	h2p_free(f->f_leaves, (size_t)f->f_leafcap * sizeof(*f->f_leaves));
	f->f_leaves = NULL;
	f->f_nleaves = f->f_leafcap = 0;
}

/* The freemap's 2-bit state of the 16 KiB chunk holding off, or -1. */
static int
fm_state(const struct fsck *f, hammer2_off_t off)
{
	const struct hammer2_bmap_data *bm;
	hammer2_key_t key = off & ~HAMMER2_FREEMAP_LEVEL1_MASK;
	unsigned chunk;
	int i;

	for (i = 0; i < f->f_nleaves; i++) {
		if (f->f_leaves[i].fl_key != key)
			continue;
		bm = &f->f_leaves[i].fl_bmap[(off >> HAMMER2_SEGRADIX) &
		    (HAMMER2_FREEMAP_COUNT - 1)];
		chunk = (unsigned)(off >> HAMMER2_FREEMAP_BLOCK_RADIX) & 255;
		return (int)(bm->bitmapq[chunk >> 5] >> ((chunk & 31) * 2)) & 3;
	}
	return -1;
}

/* ---- pass 3: every block of the tree ---- */

static void
block_seen(struct fsck *f, const struct hammer2_blockref *b, size_t len)
{
	const struct hammer2_volume_data *vd = h2_mount_volhdr(f->f_mp);
	hammer2_off_t off = b->data_off & HAMMER2_OFF_MASK, o;
	int state;

	f->f_res->fr_blocks[b->type & 7]++;
	f->f_res->fr_bytes += len;
	if (len == 0)
		return;
	if ((off & HAMMER2_FREEMAP_LEVEL1_MASK) < HAMMER2_ZONE_SEG64 ||
	    (off < vd->aux_end && off + len > vd->boot_beg)) {
		report(f, H2_FSCK_PROBLEM,
		    "%s block at 0x%016llx lies in a reserved area",
		    h2_bref_type_name(b->type), (unsigned long long)off);
		return;
	}
	/* What newfs wrote below allocator_beg is not in the freemap yet. */
	if (off + len <= vd->allocator_beg)
		return;
	for (o = off & ~(hammer2_off_t)HAMMER2_FREEMAP_BLOCK_MASK;
	     o < off + len; o += HAMMER2_FREEMAP_BLOCK_SIZE) {
		state = fm_state(f, o);
		if (state == HAMMER2_BMAP_ALLOCATED ||
		    state == HAMMER2_BMAP_MAYBEFREE)
			continue;
		if (b->mirror_tid > vd->freemap_tid) {
			/* Written after the freemap's last flush: mount
			 * recovers it (DragonFly's hammer2_recovery). */
			f->f_recover++;
			report(f, H2_FSCK_INFO,
			    "%s block at 0x%016llx (mirror_tid 0x%llx) is "
			    "%s in the freemap: to recover",
			    h2_bref_type_name(b->type), (unsigned long long)off,
			    (unsigned long long)b->mirror_tid,
			    state < 0 ? "not covered" : "marked free");
			return;
		}
		report(f, H2_FSCK_PROBLEM,
		    "%s block at 0x%016llx is %s in the freemap",
		    h2_bref_type_name(b->type), (unsigned long long)off,
		    state < 0 ? "not covered" : "marked free");
		return;
	}
}

static int walk_tree(struct fsck *f, const struct hammer2_inode_data *ip,
    enum ctx ctx);

static int
leaf_problem(struct walk *w, const struct hammer2_blockref *b, const char *what)
{
	report(w->w_f, H2_FSCK_PROBLEM,
	    "%s: inode %llu: %s blockref at key 0x%016llx: %s", pfsname(w->w_f),
	    (unsigned long long)w->w_owner, h2_bref_type_name(b->type),
	    (unsigned long long)b->key, what);
	return 0;
}

static int
data_leaf(struct walk *w, const struct hammer2_blockref *b)
{
	struct fsck *f = w->w_f;
	int comp = HAMMER2_DEC_COMP(b->methods);
	size_t len, out;

	if (b->keybits < HAMMER2_RADIX_MIN || b->keybits > HAMMER2_PBUFRADIX)
		return leaf_problem(w, b, "bad logical block size");
	if (h2_bref_read(f->f_mp, b, f->f_phys, &len) != 0)
		return leaf_problem(w, b, h2_last_problem(f->f_mp));
	block_seen(f, b, len);
	if (b->key >= w->w_size)
		leaf_problem(w, b, "data beyond the end of the file");
	if (comp == HAMMER2_COMP_AUTOZERO)
		return 0;
	if (comp == HAMMER2_COMP_NONE) {
		if (len > (size_t)1 << b->keybits)
			leaf_problem(w, b,
			    "physical block larger than logical");
		return 0;
	}
	if (len == 0)
		return leaf_problem(w, b, "compressed block has no data");
	if (h2_decompress(f->f_mp, b, f->f_phys, len, f->f_logic,
		(size_t)1 << b->keybits, &out) != 0)
		return leaf_problem(w, b, h2_last_problem(f->f_mp));
	return 0;
}

static int
dirent_leaf(struct walk *w, const struct hammer2_blockref *b)
{
	struct fsck *f = w->w_f;
	struct h2_dirent *de;
	struct dent *d;
	hammer2_key_t h;
	int error = 0;

	if ((de = h2p_alloc(sizeof(*de))) == NULL)
		return -ENOMEM;
	if (h2_leaf_name(f->f_mp, b, NULL, de) != 0) {
		leaf_problem(w, b, h2_last_problem(f->f_mp));
		goto out;
	}
	block_seen(f, b, h2_bref_bytes(b));
	f->f_res->fr_dirents++;
	h = h2_dirhash(de->d_name, de->d_namlen);
	if ((b->key ^ h) & ~HAMMER2_DIRHASH_LOMASK)
		leaf_problem(w, b, "name does not sit at its hash");
	error = grow((void **)&f->f_dents, &f->f_dcap, f->f_dcount, sizeof(*d));
	if (error)
		goto out;
	d = &f->f_dents[f->f_dcount++];
	d->de_dir = w->w_owner;
	d->de_inum = de->d_inum;
	d->de_type = de->d_type;
out:
	h2p_free(de, sizeof(*de));
	return error;
}

/* The inode table: open addressing on inode numbers. */
static struct ient *
itab_get(struct fsck *f, hammer2_tid_t inum, int create)
{
	size_t mask = f->f_icap - 1, i;

	if (f->f_icap == 0)
		return NULL;
	for (i = (inum * 0x9E3779B97F4A7C15ull) & mask;; i = (i + 1) & mask) {
		if (!f->f_itab[i].ie_used) {
			if (!create)
				return NULL;
			f->f_itab[i].ie_used = 1;
			f->f_itab[i].ie_inum = inum;
			f->f_icount++;
			return &f->f_itab[i];
		}
		if (f->f_itab[i].ie_inum == inum)
			return &f->f_itab[i];
	}
}

static int
itab_grow(struct fsck *f)
{
	struct ient *old = f->f_itab, *e;
	size_t ocap = f->f_icap, i;

	if (f->f_icount * 2 < f->f_icap)
		return 0;
	f->f_icap = ocap ? ocap * 2 : 1024;
	if ((f->f_itab = h2p_zalloc(f->f_icap * sizeof(*e))) == NULL) {
		f->f_itab = old;
		f->f_icap = ocap;
		return -ENOMEM;
	}
	f->f_icount = 0;
	for (i = 0; i < ocap; i++) {
		if (!old[i].ie_used)
			continue;
		e = itab_get(f, old[i].ie_inum, 1);
		*e = old[i];
	}
	h2p_free(old, ocap * sizeof(*e));
	return 0;
}

static int
inode_add(struct fsck *f, const struct hammer2_inode_data *ip, int *dup)
{
	struct ient *e;
	int error;

	if ((error = itab_grow(f)) != 0)
		return error;
	*dup = itab_get(f, ip->meta.inum, 0) != NULL;
	e = itab_get(f, ip->meta.inum, 1);
	e->ie_type = ip->meta.type;
	e->ie_nlinks = ip->meta.nlinks;
	e->ie_iparent = ip->meta.iparent;
	return 0;
}

static int
inode_leaf(struct walk *w, const struct hammer2_blockref *b)
{
	struct fsck *f = w->w_f;
	struct hammer2_inode_data *ip;
	int error = 0, dup;

	if ((ip = h2p_alloc(sizeof(*ip))) == NULL)
		return -ENOMEM;
	if (h2_inode_load(f->f_mp, b, ip) != 0) {
		leaf_problem(w, b, h2_last_problem(f->f_mp));
		goto out;
	}
	block_seen(f, b, HAMMER2_INODE_BYTES);
	f->f_res->fr_inodes++;
	if (b->key != ip->meta.inum)
		leaf_problem(w, b, "inode number differs from its key");
	if ((error = inode_add(f, ip, &dup)) != 0)
		goto out;
	if (dup)
		leaf_problem(w, b, "inode number indexed twice");
	if (ip->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
		error = walk_tree(f, ip, C_DIR);
	else
		error = walk_tree(f, ip, C_FILE);
out:
	h2p_free(ip, sizeof(*ip));
	return error;
}

static int check_pfs(struct fsck *f, const struct hammer2_blockref *b);

static int
walk_leaf(void *arg, const struct hammer2_blockref *b)
{
	struct walk *w = arg;
	int visible = (b->key & HAMMER2_DIRHASH_VISIBLE) != 0;

	switch (w->w_ctx) {
	case C_SROOT:
		if (b->type == HAMMER2_BREF_TYPE_INODE)
			return check_pfs(w->w_f, b);
		break;
	case C_PFSROOT:
		if (b->type == HAMMER2_BREF_TYPE_INODE && !visible)
			return inode_leaf(w, b);
		if (b->type == HAMMER2_BREF_TYPE_DIRENT && visible)
			return dirent_leaf(w, b);
		break;
	case C_DIR:
		if (b->type == HAMMER2_BREF_TYPE_DIRENT)
			return dirent_leaf(w, b);
		break;
	case C_FILE:
		if (b->type == HAMMER2_BREF_TYPE_DATA)
			return data_leaf(w, b);
		break;
	}
	return leaf_problem(w, b, "does not belong here");
}

static int
walk_node(void *arg, const struct hammer2_blockref *b)
{
	struct walk *w = arg;

	block_seen(w->w_f, b, h2_bref_bytes(b));
	return 0;
}

static int
walk_tree(struct fsck *f, const struct hammer2_inode_data *ip, enum ctx ctx)
{
	struct walk w = { f, ctx, ip->meta.inum, ip->meta.size };
	int error;

	if (ip->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA)
		return 0;
	error = h2_tree_walk(f->f_mp, ip->u.blockset.blockref,
	    HAMMER2_SET_COUNT, 0, HAMMER2_KEY_MAX, walk_leaf, walk_node, &w);
	if (error == -ENOMEM)
		return error;
	if (error < 0)
		report(f, H2_FSCK_PROBLEM, "%s: inode %llu: tree: %s",
		    pfsname(f), (unsigned long long)ip->meta.inum,
		    h2_last_problem(f->f_mp));
	return 0;
}

/* ---- pass 4: the namespace of one PFS ---- */

static int
dent_cmp(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	return x->de_dir < y->de_dir ? -1 : x->de_dir > y->de_dir;
}

/* Entries of each dir must name indexed inodes of the same type. */
static void
ns_entries(struct fsck *f)
{
	struct ient *e;
	size_t i;

	for (i = 0; i < f->f_dcount; i++) {
		struct dent *d = &f->f_dents[i];

		e = itab_get(f, d->de_inum, 0);
		if (e == NULL) {
			report(f, H2_FSCK_PROBLEM,
			    "%s: directory %llu names inode %llu, which does "
			    "not exist",
			    pfsname(f), (unsigned long long)d->de_dir,
			    (unsigned long long)d->de_inum);
			d->de_type = 0xff; /* do not follow */
			continue;
		}
		e->ie_refs++;
		if (e->ie_type != d->de_type)
			report(f, H2_FSCK_PROBLEM,
			    "%s: entry for inode %llu says %s, inode is %s",
			    pfsname(f), (unsigned long long)d->de_inum,
			    h2_objtype_name(d->de_type),
			    h2_objtype_name(e->ie_type));
	}
}

static void
ns_reach(struct fsck *f, hammer2_tid_t root)
{
	hammer2_tid_t *queue;
	size_t head = 0, tail = 0, i, lo, qcap = f->f_icount + 1;
	struct ient *e;

	if ((queue = h2p_alloc(qcap * sizeof(*queue))) == NULL) {
		f->f_nomem = 1;
		return;
	}
	if (f->f_dcount > 1)
		qsort(f->f_dents, f->f_dcount, sizeof(*f->f_dents), dent_cmp);
	if ((e = itab_get(f, root, 0)) != NULL)
		e->ie_reached = 1;
	queue[tail++] = root;
	while (head < tail) {
		hammer2_tid_t dir = queue[head++];

		for (lo = 0; lo < f->f_dcount && f->f_dents[lo].de_dir < dir;
		     lo++)
			;
		for (i = lo; i < f->f_dcount && f->f_dents[i].de_dir == dir;
		     i++) {
			struct dent *d = &f->f_dents[i];

			if (d->de_type == 0xff ||
			    (e = itab_get(f, d->de_inum, 0)) == NULL)
				continue;
			if (e->ie_type != HAMMER2_OBJTYPE_DIRECTORY) {
				e->ie_reached = 1;
				continue;
			}
			if (e->ie_reached) {
				report(f, H2_FSCK_PROBLEM,
				    "%s: directory %llu is reached twice "
				    "(a cycle or a directory hard link)",
				    pfsname(f), (unsigned long long)e->ie_inum);
				continue;
			}
			e->ie_reached = 1;
			if (e->ie_iparent != dir)
				report(f, H2_FSCK_PROBLEM,
				    "%s: directory %llu has iparent %llu but "
				    "is in directory %llu",
				    pfsname(f), (unsigned long long)e->ie_inum,
				    (unsigned long long)e->ie_iparent,
				    (unsigned long long)dir);
			if (tail < qcap)
				queue[tail++] = e->ie_inum;
		}
	}
	h2p_free(queue, qcap * sizeof(*queue));
}

static void
ns_links(struct fsck *f, hammer2_tid_t root)
{
	struct ient *e;
	size_t i;

	for (i = 0; i < f->f_icap; i++) {
		e = &f->f_itab[i];
		if (!e->ie_used || e->ie_inum == root)
			continue;
		if (!e->ie_reached) {
			f->f_res->fr_orphans++;
			report(f, H2_FSCK_WARNING,
			    "%s: inode %llu (%s) is in no directory",
			    pfsname(f), (unsigned long long)e->ie_inum,
			    h2_objtype_name(e->ie_type));
			continue;
		}
		if (e->ie_type != HAMMER2_OBJTYPE_DIRECTORY &&
		    e->ie_nlinks != e->ie_refs)
			report(f, H2_FSCK_PROBLEM,
			    "%s: inode %llu has nlinks %llu but %u entries",
			    pfsname(f), (unsigned long long)e->ie_inum,
			    (unsigned long long)e->ie_nlinks, e->ie_refs);
	}
}

static void
pfs_reset(struct fsck *f)
{
	h2p_free(f->f_itab, f->f_icap * sizeof(*f->f_itab));
	h2p_free(f->f_dents, f->f_dcap * sizeof(*f->f_dents));
	f->f_itab = NULL;
	f->f_dents = NULL;
	f->f_icap = f->f_icount = f->f_dcap = f->f_dcount = 0;
	f->f_pfs = NULL;
}

static int
pfs_root_ok(struct fsck *f, const struct hammer2_blockref *b,
    const struct hammer2_inode_data *ip, const char *name)
{
	hammer2_key_t h = h2_dirhash(name, ip->meta.name_len);

	if (ip->meta.type != HAMMER2_OBJTYPE_DIRECTORY ||
	    (ip->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) ||
	    h2_name_valid(name, ip->meta.name_len) != 0) {
		report(f, H2_FSCK_PROBLEM,
		    "PFS at key 0x%016llx: bad root inode",
		    (unsigned long long)b->key);
		return 0;
	}
	if ((b->key ^ h) & ~HAMMER2_DIRHASH_LOMASK)
		report(f, H2_FSCK_PROBLEM, "PFS %s: not at its name's hash",
		    name);
	return 1;
}

static int
check_pfs(struct fsck *f, const struct hammer2_blockref *b)
{
	struct hammer2_inode_data *ip;
	char name[HAMMER2_INODE_MAXNAME + 1];
	int error = 0, dup;

	if ((ip = h2p_alloc(sizeof(*ip))) == NULL)
		return -ENOMEM;
	pfs_reset(f);
	if (h2_inode_load(f->f_mp, b, ip) != 0) {
		report(f, H2_FSCK_PROBLEM, "PFS at key 0x%016llx: %s",
		    (unsigned long long)b->key, h2_last_problem(f->f_mp));
		goto out;
	}
	block_seen(f, b, HAMMER2_INODE_BYTES);
	memcpy(name, ip->filename, ip->meta.name_len);
	name[ip->meta.name_len] = '\0';
	if (!pfs_root_ok(f, b, ip, name))
		goto out;
	f->f_pfs = name;
	f->f_res->fr_pfs++;
	report(f, H2_FSCK_INFO, "PFS %s", name);
	if ((error = inode_add(f, ip, &dup)) != 0)
		goto out;
	if ((error = walk_tree(f, ip, C_PFSROOT)) != 0)
		goto out;
	ns_entries(f);
	ns_reach(f, ip->meta.inum);
	ns_links(f, ip->meta.inum);
out:
	pfs_reset(f);
	h2p_free(ip, sizeof(*ip));
	return error;
}

/* ---- putting it together ---- */

/*
 * A header whose freemap_tid is behind its mirror_tid is what DragonFly
 * leaves when it crashes between flushing the tree and the freemap; its
 * mount (and ours) marks every block newer than freemap_tid allocated.
 * Such blocks found free are therefore "to recover", not problems.
 */
static void
recover_summary(struct fsck *f, const struct hammer2_volume_data *vd)
{
	if (vd->freemap_tid >= vd->mirror_tid)
		return;
	f->f_res->fr_recover += f->f_recover;
	report(f, f->f_recover ? H2_FSCK_WARNING : H2_FSCK_INFO,
	    "freemap_tid 0x%llx is behind mirror_tid 0x%llx: %llu blocks "
	    "newer than the freemap are to recover (a writable mount does it)",
	    (unsigned long long)vd->freemap_tid,
	    (unsigned long long)vd->mirror_tid,
	    (unsigned long long)f->f_recover);
}

static int
check_zone(struct fsck *f, struct h2_dev *dev, int zone)
{
	struct h2_mount_opts mo = { zone, 0 };
	struct h2_stats st;
	int error;

	report(f, H2_FSCK_INFO, "checking the tree of volume header %d", zone);
	error = h2_mount(dev, &mo, &f->f_mp);
	if (error == -ENOMEM)
		return error;
	if (error) {
		report(f, H2_FSCK_PROBLEM, "volume header %d: cannot mount: %d",
		    zone, error);
		return 0;
	}
	f->f_recover = 0;
	if ((error = check_freemap(f)) == 0)
		error = walk_tree(f, h2_sroot(f->f_mp), C_SROOT);
	recover_summary(f, h2_mount_volhdr(f->f_mp));
	h2_mount_stats(f->f_mp, &st);
	if (st.st_unsorted)
		report(f, H2_FSCK_PROBLEM,
		    "%llu blockref arrays are not in key order (DragonFly "
		    "would miss entries)",
		    (unsigned long long)st.st_unsorted);
	/* The super-root inode itself. */
	f->f_res->fr_blocks[HAMMER2_BREF_TYPE_INODE]++;
	fm_free_leaves(f);
	h2_unmount(f->f_mp);
	f->f_mp = NULL;
	return error;
}

int
h2_fsck(struct h2_dev *dev, unsigned flags, h2_fsck_fn *fn, void *arg,
    struct h2_fsck_result *res)
{
	struct fsck f;
	uint8_t valid[HAMMER2_NUM_VOLHDRS];
	struct h2_mount *mp;
	int zone, error;

	memset(res, 0, sizeof(*res));
	memset(&f, 0, sizeof(f));
	f.f_fn = fn;
	f.f_arg = arg;
	f.f_res = res;
	f.f_phys = h2p_alloc(HAMMER2_PBUFSIZE);
	f.f_logic = h2p_alloc(HAMMER2_PBUFSIZE);
	error = -ENOMEM;
	if (f.f_phys == NULL || f.f_logic == NULL)
		goto out;
	if ((error = check_headers(&f, dev, valid)) != 0 ||
	    res->fr_zones_valid == 0)
		goto out;
	/* Which copy is best: let the mount decide. */
	if ((error = h2_mount(dev, NULL, &mp)) == 0) {
		zone = h2_mount_zone(mp);
		h2_unmount(mp);
	} else if (error == -ENOMEM) {
		goto out;
	} else {
		zone = -1;
		report(&f, H2_FSCK_PROBLEM, "cannot mount: %d", error);
	}
	error = 0;
	for (int z = 0; z < HAMMER2_NUM_VOLHDRS && error == 0; z++)
		if (z == zone || ((flags & H2_FSCK_ALLZONES) && valid[z]))
			error = check_zone(&f, dev, z);
	if (error == 0 && f.f_nomem)
		error = -ENOMEM;
out:
	h2p_free(f.f_phys, HAMMER2_PBUFSIZE);
	h2p_free(f.f_logic, HAMMER2_PBUFSIZE);
	return error;
}
