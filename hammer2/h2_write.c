/*
 * h2_write.c: writing and truncating files.
 *
 * File data lives in logical blocks of 64 KiB keyed by file offset (DATA
 * blockrefs, keybits 16). A write copies into in-memory copies of the
 * blocks it touches (struct h2_dbuf, read from the tree first when the
 * write covers only part of one); the copies are written out at the next
 * flush, when the PFS closes, or oldest first once a mount holds more than
 * H2_DBUF_MAX of them. Writing a block out does what DragonFly's
 * hammer2_write_file_core does:
 *
 *  - its physical size is 64 KiB, or for the block holding EOF the
 *    smallest power of two >= 1 KiB holding the file's bytes in it;
 *  - unless the inode's check method is NONE or its compression NONE, an
 *    all-zero block becomes a hole (the blockref goes away);
 *  - with LZ4, ZLIB or zstd it is compressed when that saves space (see
 *    h2_compress: at most half the block, then rounded up to a power of
 *    two; a block the rounding would not shrink is stored as it is);
 *  - it goes to a newly allocated block with the inode's check code, and
 *    its blockref replaces the old one in the inode's tree. An old block
 *    written earlier in the same transaction is given back at once
 *    (nothing flushed can point at it); older ones wait for bulkfree.
 *
 * Files of up to 512 bytes keep their bytes in the inode (DIRECTDATA) as
 * DragonFly creates them; growing past 512 moves the bytes to block 0 for
 * good. Shrinking deletes the blocks past the new end (whole indirect
 * blocks at a time) and zeroes the tail of the block now holding EOF, so
 * extending again reads zeros there.
 *
 * Interface: h2_write, h2_truncate in hammer2.h; h2_dbuf_*, h2_inode_
 * writeout in h2_internal.h.
 */
#include "hammer2/h2_internal.h"

/* Largest file size we accept: keys of its blocks cannot wrap. */
#define H2_MAX_FILE (1ull << 62)

static size_t
psize_of(uint64_t size, hammer2_key_t lbase)
{
	uint64_t eof;
	size_t p = HAMMER2_PBUFSIZE;

	if (lbase >= size)
		return 0;
	if (size - lbase >= HAMMER2_PBUFSIZE)
		return HAMMER2_PBUFSIZE;
	eof = size - lbase;
	while (p >= eof && p >= HAMMER2_ALLOC_MIN)
		p >>= 1;
	return p << 1;
}

static int
all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* ---- dirty blocks ---- */

static struct h2_dbuf *
dbuf_find(struct h2_inode *ip, hammer2_key_t lbase)
{
	struct h2_dbuf *db;

	for (db = ip->i_dbufs; db != NULL; db = db->db_next)
		if (db->db_lbase == lbase)
			return db;
	return NULL;
}

static void
dbuf_unlink(struct h2_dbuf *db)
{
	struct h2_inode *ip = db->db_ip;
	struct h2_mount *mp = ip->i_pfs->p_mp;
	struct h2_dbuf **pp;

	for (pp = &ip->i_dbufs; *pp != NULL; pp = &(*pp)->db_next) {
		if (*pp == db) {
			*pp = db->db_next;
			break;
		}
	}
	if (db->db_mprev != NULL)
		db->db_mprev->db_mnext = db->db_mnext;
	else
		mp->m_dbhead = db->db_mnext;
	if (db->db_mnext != NULL)
		db->db_mnext->db_mprev = db->db_mprev;
	else
		mp->m_dbtail = db->db_mprev;
	mp->m_ndbufs--;
	ip->i_ndbufs--;
	h2p_free(db->db_data, HAMMER2_PBUFSIZE);
	h2p_free(db, sizeof(*db));
}

void
h2_dbuf_drop_all(struct h2_inode *ip)
{
	while (ip->i_dbufs != NULL)
		dbuf_unlink(ip->i_dbufs);
}

static struct h2_dbuf *
dbuf_new(struct h2_inode *ip, hammer2_key_t lbase)
{
	struct h2_mount *mp = ip->i_pfs->p_mp;
	struct h2_dbuf *db, **pp;

	if ((db = h2p_zalloc(sizeof(*db))) == NULL)
		return NULL;
	if ((db->db_data = h2p_zalloc(HAMMER2_PBUFSIZE)) == NULL) {
		h2p_free(db, sizeof(*db));
		return NULL;
	}
	db->db_ip = ip;
	db->db_lbase = lbase;
	/* Kept in offset order, so blocks are written out in file order. */
	for (pp = &ip->i_dbufs; *pp != NULL && (*pp)->db_lbase < lbase;
	     pp = &(*pp)->db_next)
		;
	db->db_next = *pp;
	*pp = db;
	db->db_mprev = mp->m_dbtail;
	if (mp->m_dbtail != NULL)
		mp->m_dbtail->db_mnext = db;
	else
		mp->m_dbhead = db;
	mp->m_dbtail = db;
	mp->m_ndbufs++;
	ip->i_ndbufs++;
	return db;
}

/* Enter bref (DATA at its key) in ip's tree, replacing what is there. */
static int
tree_store(struct h2_inode *ip, const struct hammer2_blockref *bref)
{
	struct h2_mount *mp = ip->i_pfs->p_mp;
	struct hammer2_blockref *old;
	struct h2_node *n;
	int slot, error;

	error = h2n_find(mp, ip->i_node, bref->key, &n, &slot);
	if (error == -ENOENT)
		return h2n_insert(mp, ip->i_node, bref, NULL, NULL, NULL, NULL);
	if (error)
		return error;
	old = &h2n_base(n)[slot];
	if (old->type != HAMMER2_BREF_TYPE_DATA || old->key != bref->key ||
	    old->keybits != bref->keybits)
		return h2_malformed(mp, old, "file block is not DATA");
	if (old->mirror_tid == mp->m_tid)
		h2_free_new(mp, old->data_off);
	*old = *bref;
	h2n_dirty(mp, n);
	return 0;
}

/* Take the block at lbase out of ip's tree (a hole). */
static int
tree_remove(struct h2_inode *ip, hammer2_key_t lbase)
{
	struct h2_mount *mp = ip->i_pfs->p_mp;
	struct hammer2_blockref *old;
	struct h2_node *n;
	int slot, error;

	error = h2n_find(mp, ip->i_node, lbase, &n, &slot);
	if (error == -ENOENT)
		return 0;
	if (error)
		return error;
	old = &h2n_base(n)[slot];
	if (old->type != HAMMER2_BREF_TYPE_DATA || old->key != lbase)
		return h2_malformed(mp, old, "file block is not DATA");
	if (old->mirror_tid == mp->m_tid)
		h2_free_new(mp, old->data_off);
	h2n_delete(mp, n, slot);
	return 0;
}

int
h2_dbuf_writeout(struct h2_mount *mp, struct h2_dbuf *db)
{
	struct h2_inode *ip = db->db_ip;
	const struct hammer2_inode_meta *m = &h2i_data(ip)->meta;
	int check = HAMMER2_DEC_ALGO(m->check_algo);
	int comp = HAMMER2_DEC_ALGO(m->comp_algo), method, csize, error;
	size_t psize = psize_of(m->size, db->db_lbase);
	struct hammer2_blockref b;

	if (psize == 0 ||
	    (check != HAMMER2_CHECK_NONE && comp != HAMMER2_COMP_NONE &&
		all_zero(db->db_data, psize))) {
		if (psize)
			H2_STAT_ADD(mp, st_zero_blocks, 1);
		error = tree_remove(ip, db->db_lbase);
		goto out;
	}
	csize = h2_compress(mp, m->comp_algo, db->db_data, psize, &method);
	if (csize < 0) {
		error = csize;
		goto out;
	}
	if ((size_t)csize >= psize) {
		csize = 0;
		method = HAMMER2_COMP_NONE;
	}
	memset(&b, 0, sizeof(b));
	b.type = HAMMER2_BREF_TYPE_DATA;
	b.key = db->db_lbase;
	b.keybits = HAMMER2_PBUFRADIX;
	b.methods =
	    (uint8_t)(HAMMER2_ENC_CHECK(check) | HAMMER2_ENC_COMP(method));
	error = h2_write_block(mp, &b, csize ? mp->m_cbuf : db->db_data,
	    csize ? (size_t)csize : psize);
	if (error == 0)
		error = tree_store(ip, &b);
out:
	if (error == 0)
		dbuf_unlink(db);
	return error;
}

int
h2_inode_writeout(struct h2_inode *ip)
{
	struct h2_mount *mp = ip->i_pfs->p_mp;
	int error;

	while (ip->i_dbufs != NULL)
		if ((error = h2_dbuf_writeout(mp, ip->i_dbufs)) != 0)
			return error;
	return 0;
}

void
h2_dbuf_overlay(struct h2_inode *ip, uint64_t off, uint8_t *buf, size_t len)
{
	struct h2_dbuf *db;
	uint64_t beg, end;

	for (db = ip->i_dbufs; db != NULL; db = db->db_next) {
		beg = db->db_lbase > off ? db->db_lbase : off;
		end = db->db_lbase + HAMMER2_PBUFSIZE;
		if (end > off + len)
			end = off + len;
		if (beg < end)
			memcpy(buf + (beg - off),
			    db->db_data + (beg - db->db_lbase), end - beg);
	}
}

/*
 * The dirty copy of block lbase, made (from the tree) if needed. Writes
 * the oldest dirty block of the mount out first when there are too many.
 */
static int
dbuf_get(struct h2_inode *ip, hammer2_key_t lbase, struct h2_dbuf **dbp)
{
	struct h2_mount *mp = ip->i_pfs->p_mp;
	const struct hammer2_inode_meta *m = &h2i_data(ip)->meta;
	struct h2_dbuf *db;
	int error;

	if ((*dbp = dbuf_find(ip, lbase)) != NULL)
		return 0;
	if (mp->m_ndbufs >= H2_DBUF_MAX &&
	    (error = h2_dbuf_writeout(mp, mp->m_dbhead)) != 0)
		return h2_fail(mp, error);
	if ((db = dbuf_new(ip, lbase)) == NULL)
		return -ENOMEM;
	if (lbase < m->size) {
		error = h2_read_tree(ip, lbase, db->db_data, HAMMER2_PBUFSIZE);
		if (error) {
			dbuf_unlink(db);
			return error;
		}
	}
	*dbp = db;
	return 0;
}

/* Move a direct-data file's bytes into block 0 (for good). */
static int
undirect(struct h2_inode *ip)
{
	struct hammer2_inode_data *d = h2i_data(ip);
	struct h2_dbuf *db;

	if (!(d->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA))
		return 0;
	if (d->meta.size > 0) {
		if ((db = dbuf_new(ip, 0)) == NULL)
			return -ENOMEM;
		memcpy(db->db_data, d->u.data, d->meta.size);
	}
	memset(&d->u, 0, sizeof(d->u));
	d->meta.op_flags &= ~HAMMER2_OPFLAG_DIRECTDATA;
	h2n_sort(ip->i_node);
	h2i_modify(ip);
	return 0;
}

static int
file_check(struct h2_inode *ip)
{
	int error = h2_writable(ip->i_pfs->p_mp);

	if (error)
		return error;
	switch (h2i_data(ip)->meta.type) {
	case HAMMER2_OBJTYPE_REGFILE:
		return 0;
	case HAMMER2_OBJTYPE_DIRECTORY:
		return -EISDIR;
	default:
		return -EINVAL;
	}
}

static void
touch(struct h2_inode *ip)
{
	struct hammer2_inode_meta *m = &h2i_data(ip)->meta;

	m->mtime = m->ctime = h2_now_us();
	h2i_modify(ip);
}

/* Copy into the blocks; returns bytes copied (short on error) or error. */
static ssize_t
write_blocks(struct h2_inode *ip, uint64_t off, const uint8_t *buf, size_t len)
{
	struct hammer2_inode_meta *m = &h2i_data(ip)->meta;
	struct h2_dbuf *db;
	size_t done = 0, n, boff;
	int error;

	while (done < len) {
		boff = (size_t)((off + done) & HAMMER2_PBUFMASK64);
		n = HAMMER2_PBUFSIZE - boff;
		if (n > len - done)
			n = len - done;
		error = dbuf_get(ip, (off + done) - boff, &db);
		if (error)
			return done ? (ssize_t)done : error;
		memcpy(db->db_data + boff, buf + done, n);
		done += n;
		if (off + done > m->size)
			m->size = off + done;
	}
	return (ssize_t)done;
}

ssize_t
h2_write(struct h2_inode *ip, uint64_t off, const void *buf, size_t len)
{
	int error;

	if ((error = file_check(ip)) != 0)
		return error;
	return h2_file_write(ip, off, buf, len);
}

ssize_t
h2_file_write(struct h2_inode *ip, uint64_t off, const void *buf, size_t len)
{
	struct h2_mount *mp = ip->i_pfs->p_mp;
	struct hammer2_inode_data *d;
	ssize_t done;
	int error;

	if (len == 0)
		return 0;
	if (off >= H2_MAX_FILE || len > H2_MAX_FILE - off)
		return -EFBIG;
	if (len > H2_SSIZE_MAX)
		len = H2_SSIZE_MAX;
	if ((error = h2_space(mp, len + HAMMER2_PBUFSIZE)) != 0)
		return error;
	d = h2i_data(ip);
	if ((d->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) &&
	    off + len <= HAMMER2_EMBEDDED_BYTES) {
		memcpy(d->u.data + off, buf, len);
		if (off + len > d->meta.size)
			d->meta.size = off + len;
		touch(ip);
		return (ssize_t)len;
	}
	if ((error = undirect(ip)) != 0)
		return error;
	done = write_blocks(ip, off, buf, len);
	if (done > 0)
		touch(ip);
	return done;
}

/* Delete the entries of n (and below) with keys at or past cut. */
static int
cut_tree(struct h2_mount *mp, struct h2_node *n, hammer2_key_t cut, int depth)
{
	struct hammer2_blockref *base;
	struct h2_node *kid;
	int i, error;

	if (depth > H2_MAX_DEPTH)
		return h2_malformed(mp, &n->n_bref, "tree too deep");
	for (i = n->n_live - 1; i >= 0; i--) {
		base = h2n_base(n);
		if (base[i].key >= cut) {
			if (base[i].type == HAMMER2_BREF_TYPE_DATA &&
			    base[i].mirror_tid == mp->m_tid)
				h2_free_new(mp, base[i].data_off);
			if (n->n_live == 1 &&
			    n->n_bref.type == HAMMER2_BREF_TYPE_INDIRECT) {
				h2n_delete(mp, n, i); /* n goes too */
				return 1;
			}
			h2n_delete(mp, n, i);
			continue;
		}
		if (base[i].type != HAMMER2_BREF_TYPE_INDIRECT ||
		    h2_range_last(base[i].key, base[i].keybits) < cut)
			break;
		if ((error = h2n_kid(mp, n, i, &kid)) != 0)
			return error;
		if ((error = cut_tree(mp, kid, cut, depth + 1)) < 0)
			return error;
		break;
	}
	return 0;
}

static int
shrink(struct h2_inode *ip, uint64_t nsize)
{
	struct h2_mount *mp = ip->i_pfs->p_mp;
	struct hammer2_inode_meta *m = &h2i_data(ip)->meta;
	hammer2_key_t cut = (nsize + HAMMER2_PBUFMASK64) & ~HAMMER2_PBUFMASK64;
	size_t boff = (size_t)(nsize & HAMMER2_PBUFMASK64);
	struct h2_dbuf *db, *next;
	int error;

	if (boff != 0) {
		if ((error = dbuf_get(ip, nsize - boff, &db)) != 0)
			return error;
		memset(db->db_data + boff, 0, HAMMER2_PBUFSIZE - boff);
	}
	for (db = ip->i_dbufs; db != NULL; db = next) {
		next = db->db_next;
		if (db->db_lbase >= cut)
			dbuf_unlink(db);
	}
	m->size = nsize;
	error = cut_tree(mp, ip->i_node, cut, 0);
	if (error < 0)
		return h2_fail(mp, error);
	return 0;
}

int
h2_truncate(struct h2_inode *ip, uint64_t nsize)
{
	struct hammer2_inode_data *d;
	int error;

	if ((error = file_check(ip)) != 0)
		return error;
	if (nsize >= H2_MAX_FILE)
		return -EFBIG;
	d = h2i_data(ip);
	if (d->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) {
		if (nsize <= HAMMER2_EMBEDDED_BYTES) {
			if (nsize < d->meta.size)
				memset(d->u.data + nsize, 0,
				    HAMMER2_EMBEDDED_BYTES - nsize);
			d->meta.size = nsize;
			touch(ip);
			return 0;
		}
		if ((error = undirect(ip)) != 0)
			return error;
	}
	if (nsize < d->meta.size && (error = shrink(ip, nsize)) != 0)
		return error;
	d->meta.size = nsize;
	touch(ip);
	return 0;
}
