/*
 * h2test.c: test helpers for the HAMMER2 library (see h2test.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/h2_hash.h"
#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

const char *
h2t_img(const char *name)
{
	static char buf[4][4096];
	static int next;
	char *p = buf[next++ & 3];

	snprintf(p, 4096, "%s/%s", H2_IMG_DIR, name);
	return p;
}

const char *
h2t_ref(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", H2_REF_DIR, name);
	return buf;
}

/* ---- overlay device ---- */

#define OV_PAGE	 65536u
#define OV_SLOTS 4096

struct ov_page {
	uint64_t op_index; /* offset / OV_PAGE */
	uint8_t *op_data;
	struct ov_page *op_next;
};

struct ov_rec { /* a write not yet flushed (hold mode) */
	struct ov_rec *r_next;
	uint64_t r_off;
	size_t r_len;
	uint8_t *r_data;
};

struct ov {
	struct h2_dev ov_dev;
	struct h2_dev *ov_base;
	struct ov_page *ov_hash[OV_SLOTS];  /* durable pages */
	struct ov_page *ov_vhash[OV_SLOTS]; /* pages with held writes */
	struct ov_rec *ov_recs, **ov_rtail;
	uint64_t ov_nrecs;
	int ov_hold;
	int ov_dead;
	uint64_t ov_reads;
	uint64_t ov_fail_at;
	uint64_t ov_writes, ov_wfail_at;
	uint64_t ov_ops, ov_die_at; /* writes + flushes */
	uint64_t ov_flushes;
	char ov_base_path[4096];
};

static struct ov_page *
ov_find_in(struct ov_page **hash, uint64_t index)
{
	struct ov_page *p;

	for (p = hash[index % OV_SLOTS]; p != NULL; p = p->op_next)
		if (p->op_index == index)
			return p;
	return NULL;
}

static struct ov_page *
ov_find(struct ov *ov, uint64_t index)
{
	return ov_find_in(ov->ov_hash, index);
}

/* Read page bytes as the base sees them (zeros past its end). */
static void
ov_base_read(struct ov *ov, uint64_t off, void *buf, size_t len)
{
	uint64_t bsize = ov->ov_base->d_size;
	size_t n = 0;

	if (off < bsize)
		n = bsize - off < len ? (size_t)(bsize - off) : len;
	if (n && h2_dev_read(ov->ov_base, off, buf, n) != 0)
		memset(buf, 0xA5, n);
	memset((char *)buf + n, 0, len - n);
}

static struct ov_page *
ov_get(struct ov *ov, uint64_t index)
{
	struct ov_page *p = ov_find(ov, index);

	if (p != NULL)
		return p;
	p = calloc(1, sizeof(*p));
	p->op_index = index;
	p->op_data = malloc(OV_PAGE);
	ov_base_read(ov, index * OV_PAGE, p->op_data, OV_PAGE);
	p->op_next = ov->ov_hash[index % OV_SLOTS];
	ov->ov_hash[index % OV_SLOTS] = p;
	return p;
}

static int
ov_read(struct h2_dev *dev, uint64_t off, void *buf, size_t len)
{
	struct ov *ov = dev->d_priv;
	struct ov_page *p;
	size_t n, poff;

	if (++ov->ov_reads == ov->ov_fail_at)
		return -EIO;
	if (off > dev->d_size || dev->d_size - off < len)
		return -EIO;
	while (len > 0) {
		poff = off % OV_PAGE;
		n = OV_PAGE - poff < len ? OV_PAGE - poff : len;
		if ((p = ov_find_in(ov->ov_vhash, off / OV_PAGE)) != NULL ||
		    (p = ov_find(ov, off / OV_PAGE)) != NULL)
			memcpy(buf, p->op_data + poff, n);
		else
			ov_base_read(ov, off, buf, n);
		buf = (char *)buf + n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Copy buf into the pages of hash (made from what reads see now). */
static void
ov_store(struct ov *ov, struct ov_page **hash, uint64_t off, const void *buf,
    size_t len)
{
	struct ov_page *p;
	size_t n, poff;

	while (len > 0) {
		poff = off % OV_PAGE;
		n = OV_PAGE - poff < len ? OV_PAGE - poff : len;
		if ((p = ov_find_in(hash, off / OV_PAGE)) == NULL) {
			p = calloc(1, sizeof(*p));
			p->op_index = off / OV_PAGE;
			p->op_data = malloc(OV_PAGE);
			ov_read(&ov->ov_dev, p->op_index * OV_PAGE, p->op_data,
			    OV_PAGE);
			ov->ov_reads--;
			p->op_next = hash[p->op_index % OV_SLOTS];
			hash[p->op_index % OV_SLOTS] = p;
		}
		memcpy(p->op_data + poff, buf, n);
		buf = (const char *)buf + n;
		off += n;
		len -= n;
	}
}

static void
ov_free_hash(struct ov_page **hash)
{
	struct ov_page *p, *next;
	int i;

	for (i = 0; i < OV_SLOTS; i++) {
		for (p = hash[i]; p != NULL; p = next) {
			next = p->op_next;
			free(p->op_data);
			free(p);
		}
		hash[i] = NULL;
	}
}

/* Does this write or flush kill the device (power cut)? */
static int
ov_op_dies(struct ov *ov)
{
	if (ov->ov_dead)
		return 1;
	if (++ov->ov_ops == ov->ov_die_at)
		ov->ov_dead = 1;
	return ov->ov_dead;
}

static int
ov_write(struct h2_dev *dev, uint64_t off, const void *buf, size_t len)
{
	struct ov *ov = dev->d_priv;
	struct ov_rec *r;
	uint64_t saved;

	if (off > dev->d_size || dev->d_size - off < len)
		return -EIO;
	if (ov_op_dies(ov))
		return -EIO;
	if (++ov->ov_writes == ov->ov_wfail_at)
		return -EIO;
	if (!ov->ov_hold)
		return h2t_ov_poke(dev, off, buf, len);
	r = calloc(1, sizeof(*r));
	r->r_off = off;
	r->r_len = len;
	r->r_data = malloc(len);
	memcpy(r->r_data, buf, len);
	*ov->ov_rtail = r;
	ov->ov_rtail = &r->r_next;
	ov->ov_nrecs++;
	saved = ov->ov_fail_at;
	ov->ov_fail_at = 0;
	ov_store(ov, ov->ov_vhash, off, buf, len);
	ov->ov_fail_at = saved;
	return 0;
}

static void
ov_drop_recs(struct ov *ov)
{
	struct ov_rec *r, *next;

	for (r = ov->ov_recs; r != NULL; r = next) {
		next = r->r_next;
		free(r->r_data);
		free(r);
	}
	ov->ov_recs = NULL;
	ov->ov_rtail = &ov->ov_recs;
	ov->ov_nrecs = 0;
	ov_free_hash(ov->ov_vhash);
}

static int
ov_flush(struct h2_dev *dev)
{
	struct ov *ov = dev->d_priv;
	struct ov_rec *r;

	if (ov_op_dies(ov))
		return -EIO;
	ov->ov_flushes++;
	for (r = ov->ov_recs; r != NULL; r = r->r_next)
		h2t_ov_poke(dev, r->r_off, r->r_data, r->r_len);
	ov_drop_recs(ov);
	return 0;
}

void
h2t_ov_hold(struct h2_dev *dev, int on)
{
	struct ov *ov = dev->d_priv;

	if (!on && ov->ov_hold)
		ov_flush(dev);
	ov->ov_hold = on;
}

void
h2t_ov_die_at(struct h2_dev *dev, uint64_t n)
{
	struct ov *ov = dev->d_priv;

	ov->ov_die_at = n ? ov->ov_ops + n : 0;
}

void
h2t_ov_fail_write(struct h2_dev *dev, uint64_t n)
{
	struct ov *ov = dev->d_priv;

	ov->ov_wfail_at = n ? ov->ov_writes + n : 0;
}

void
h2t_ov_counts(struct h2_dev *dev, uint64_t *writes, uint64_t *flushes,
    uint64_t *held)
{
	struct ov *ov = dev->d_priv;

	if (writes != NULL)
		*writes = ov->ov_writes;
	if (flushes != NULL)
		*flushes = ov->ov_flushes;
	if (held != NULL)
		*held = ov->ov_nrecs;
}

int
h2t_ov_dead(struct h2_dev *dev)
{
	return ((struct ov *)dev->d_priv)->ov_dead;
}

uint64_t
h2t_ov_cut(struct h2_dev *dev, uint64_t seed)
{
	struct ov *ov = dev->d_priv;
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1, torn = 0;
	struct ov_rec *r;
	size_t s;

	for (r = ov->ov_recs; r != NULL; r = r->r_next) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		switch (x % 3) {
		case 0: /* reached the media */
			h2t_ov_poke(dev, r->r_off, r->r_data, r->r_len);
			break;
		case 1: /* lost */
			break;
		default: /* torn: some 512-byte sectors made it */
			torn++;
			for (s = 0; s < r->r_len; s += 512) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				if (x & 1)
					h2t_ov_poke(dev, r->r_off + s,
					    r->r_data + s,
					    r->r_len - s < 512 ? r->r_len - s :
								 512);
			}
			break;
		}
	}
	ov_drop_recs(ov);
	ov->ov_dead = 0;
	ov->ov_die_at = 0;
	return torn;
}

static const struct h2_dev_ops ov_ops = { ov_read, ov_write, ov_flush };

struct h2_dev *
h2t_ov_open(const char *path, uint64_t vsize)
{
	struct ov *ov = calloc(1, sizeof(*ov));

	if (h2_host_open(path, 1, &ov->ov_base) != 0) {
		free(ov);
		return NULL;
	}
	snprintf(ov->ov_base_path, sizeof(ov->ov_base_path), "%s", path);
	ov->ov_dev.d_ops = &ov_ops;
	ov->ov_dev.d_priv = ov;
	ov->ov_rtail = &ov->ov_recs;
	ov->ov_dev.d_size = vsize ? vsize : ov->ov_base->d_size;
	return &ov->ov_dev;
}

struct h2_dev *
h2t_ov_clone(struct h2_dev *dev)
{
	struct ov *ov = dev->d_priv, *c = calloc(1, sizeof(*c));
	struct ov_page *p, *q;
	int i;

	memcpy(c, ov, sizeof(*c));
	c->ov_dev.d_priv = c;
	c->ov_rtail = &c->ov_recs;
	c->ov_recs = NULL;
	c->ov_nrecs = 0;
	c->ov_hold = c->ov_dead = 0;
	c->ov_die_at = c->ov_wfail_at = c->ov_fail_at = 0;
	memset(c->ov_hash, 0, sizeof(c->ov_hash));
	memset(c->ov_vhash, 0, sizeof(c->ov_vhash));
	if (h2_host_open(ov->ov_base_path, 1, &c->ov_base) != 0) {
		free(c);
		return NULL;
	}
	for (i = 0; i < OV_SLOTS; i++) {
		for (p = ov->ov_hash[i]; p != NULL; p = p->op_next) {
			q = calloc(1, sizeof(*q));
			q->op_index = p->op_index;
			q->op_data = malloc(OV_PAGE);
			memcpy(q->op_data, p->op_data, OV_PAGE);
			q->op_next = c->ov_hash[i];
			c->ov_hash[i] = q;
		}
	}
	return &c->ov_dev;
}

void
h2t_ov_reset(struct h2_dev *dev)
{
	struct ov *ov = dev->d_priv;
	struct ov_page *p, *next;
	int i;

	for (i = 0; i < OV_SLOTS; i++) {
		for (p = ov->ov_hash[i]; p != NULL; p = next) {
			next = p->op_next;
			free(p->op_data);
			free(p);
		}
		ov->ov_hash[i] = NULL;
	}
}

void
h2t_ov_close(struct h2_dev *dev)
{
	struct ov *ov;

	if (dev == NULL)
		return;
	ov = dev->d_priv;
	ov_drop_recs(ov);
	h2t_ov_reset(dev);
	h2_host_close(ov->ov_base);
	free(ov);
}

int
h2t_ov_poke(struct h2_dev *dev, uint64_t off, const void *buf, size_t len)
{
	struct ov *ov = dev->d_priv;
	struct ov_page *p;
	size_t n, poff;

	if (off > dev->d_size || dev->d_size - off < len)
		return -EIO;
	while (len > 0) {
		poff = off % OV_PAGE;
		n = OV_PAGE - poff < len ? OV_PAGE - poff : len;
		p = ov_get(ov, off / OV_PAGE);
		memcpy(p->op_data + poff, buf, n);
		buf = (const char *)buf + n;
		off += n;
		len -= n;
	}
	return 0;
}

int
h2t_ov_peek(struct h2_dev *dev, uint64_t off, void *buf, size_t len)
{
	struct ov *ov = dev->d_priv;
	uint64_t saved = ov->ov_fail_at;
	int error;

	ov->ov_fail_at = 0;
	error = ov_read(dev, off, buf, len);
	ov->ov_reads--;
	ov->ov_fail_at = saved;
	return error;
}

void
h2t_ov_flip(struct h2_dev *dev, uint64_t off, int bit)
{
	uint8_t b;

	h2t_ov_peek(dev, off, &b, 1);
	b ^= (uint8_t)(1u << bit);
	h2t_ov_poke(dev, off, &b, 1);
}

void
h2t_ov_fail_read(struct h2_dev *dev, uint64_t n)
{
	struct ov *ov = dev->d_priv;

	ov->ov_fail_at = n ? ov->ov_reads + n : 0;
}

uint64_t
h2t_ov_reads(struct h2_dev *dev)
{
	return ((struct ov *)dev->d_priv)->ov_reads;
}

/* ---- raw tree ---- */

#define RAW_MAX_DEPTH 40

static int
tree_add(struct h2t_tree *t, const struct hammer2_blockref *b, uint64_t loc,
    int parent, int owner, int depth)
{
	struct h2t_node *n;

	if (t->t_count == t->t_cap) {
		t->t_cap = t->t_cap ? t->t_cap * 2 : 1024;
		t->t_nodes = realloc(t->t_nodes, t->t_cap * sizeof(*n));
	}
	n = &t->t_nodes[t->t_count];
	memset(n, 0, sizeof(*n));
	n->n_bref = *b;
	n->n_loc = loc;
	n->n_parent = parent;
	n->n_owner = owner;
	n->n_depth = depth;
	return t->t_count++;
}

static int raw_walk(struct h2_dev *dev, struct h2t_tree *t, uint64_t base,
    int count, int parent, int owner, int depth);

static int
raw_node(struct h2_dev *dev, struct h2t_tree *t, int idx, int owner, int depth)
{
	struct hammer2_blockref b = t->t_nodes[idx].n_bref;
	uint64_t off = b.data_off & HAMMER2_OFF_MASK;
	size_t len = (b.data_off & 63) ? (size_t)1 << (b.data_off & 63) : 0;
	struct hammer2_inode_data ip;
	struct h2t_node *n;

	if (len == 0 || depth >= RAW_MAX_DEPTH)
		return 0;
	switch (b.type) {
	case HAMMER2_BREF_TYPE_INODE:
		if (h2t_ov_peek(dev, off, &ip, sizeof(ip)) != 0)
			return -EIO;
		n = &t->t_nodes[idx];
		n->n_inum = ip.meta.inum;
		n->n_itype = ip.meta.type;
		n->n_direct = !!(ip.meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA);
		memcpy(n->n_name, ip.filename,
		    ip.meta.name_len > 256 ? 256 : ip.meta.name_len);
		if (n->n_direct)
			return 0;
		return raw_walk(dev, t,
		    off + offsetof(struct hammer2_inode_data, u),
		    HAMMER2_SET_COUNT, idx, idx, depth + 1);
	case HAMMER2_BREF_TYPE_INDIRECT:
		return raw_walk(dev, t, off, (int)(len / 128), idx, owner,
		    depth + 1);
	case HAMMER2_BREF_TYPE_DIRENT:
		n = &t->t_nodes[idx];
		if (b.embed.dirent.namlen > 64 && b.embed.dirent.namlen <= 256)
			h2t_ov_peek(dev, off, n->n_name, b.embed.dirent.namlen);
		return 0;
	default:
		return 0;
	}
}

static int
raw_walk(struct h2_dev *dev, struct h2t_tree *t, uint64_t base, int count,
    int parent, int owner, int depth)
{
	struct hammer2_blockref b;
	int i, idx, error;

	for (i = 0; i < count; i++) {
		if (h2t_ov_peek(dev, base + 128 * (uint64_t)i, &b, sizeof(b)))
			return -EIO;
		if (b.type == HAMMER2_BREF_TYPE_EMPTY)
			continue;
		idx = tree_add(t, &b, base + 128 * (uint64_t)i, parent, owner,
		    depth);
		if (b.type == HAMMER2_BREF_TYPE_DIRENT &&
		    b.embed.dirent.namlen <= 64)
			memcpy(t->t_nodes[idx].n_name, b.check.buf,
			    b.embed.dirent.namlen);
		if ((error = raw_node(dev, t, idx, owner, depth)) != 0)
			return error;
	}
	return 0;
}

int
h2t_tree_build(struct h2_dev *dev, struct h2t_tree *t)
{
	memset(t, 0, sizeof(*t));
	return raw_walk(dev, t,
	    offsetof(struct hammer2_volume_data, sroot_blockset),
	    HAMMER2_SET_COUNT, -1, -1, 0);
}

void
h2t_tree_free(struct h2t_tree *t)
{
	free(t->t_nodes);
	memset(t, 0, sizeof(*t));
}

int
h2t_bref_get(struct h2_dev *dev, const struct h2t_node *n,
    struct hammer2_blockref *bref)
{
	return h2t_ov_peek(dev, n->n_loc, bref, sizeof(*bref));
}

int
h2t_bref_put(struct h2_dev *dev, const struct h2t_node *n,
    const struct hammer2_blockref *bref)
{
	return h2t_ov_poke(dev, n->n_loc, bref, sizeof(*bref));
}

int
h2t_reseal(struct h2_dev *dev, const struct h2t_tree *t, int idx)
{
	struct hammer2_volume_data *vd;
	struct hammer2_blockref b;
	uint8_t *buf = malloc(HAMMER2_PBUFSIZE);
	size_t len;

	for (; idx >= 0; idx = t->t_nodes[idx].n_parent) {
		h2t_bref_get(dev, &t->t_nodes[idx], &b);
		len = (b.data_off & 63) ? (size_t)1 << (b.data_off & 63) : 0;
		if (len > HAMMER2_PBUFSIZE)
			len = 0;
		if (len) {
			h2t_ov_peek(dev, b.data_off & HAMMER2_OFF_MASK, buf,
			    len);
			h2_bref_setcheck(&b, buf, len);
			h2t_bref_put(dev, &t->t_nodes[idx], &b);
		}
	}
	free(buf);
	vd = malloc(sizeof(*vd));
	h2t_ov_peek(dev, 0, vd, sizeof(*vd));
	h2_volhdr_seal(vd);
	h2t_ov_poke(dev, 0, vd, sizeof(*vd));
	free(vd);
	return 0;
}

int
h2t_below(const struct h2t_tree *t, int idx, int anc)
{
	for (; idx >= 0; idx = t->t_nodes[idx].n_parent)
		if (idx == anc)
			return 1;
	return 0;
}

int
h2t_find_inode(const struct h2t_tree *t, int pfs, uint64_t inum)
{
	int i;

	for (i = 0; i < t->t_count; i++) {
		if (t->t_nodes[i].n_bref.type != HAMMER2_BREF_TYPE_INODE ||
		    t->t_nodes[i].n_inum != inum)
			continue;
		if (pfs < 0 || h2t_below(t, i, pfs))
			return i;
	}
	return -1;
}

int
h2t_find_pfs(const struct h2t_tree *t, const char *name)
{
	int i;

	for (i = 0; i < t->t_count; i++) {
		const struct h2t_node *n = &t->t_nodes[i];

		if (n->n_bref.type == HAMMER2_BREF_TYPE_INODE &&
		    n->n_parent >= 0 && t->t_nodes[n->n_parent].n_parent < 0 &&
		    strcmp(n->n_name, name) == 0)
			return i;
	}
	return -1;
}

/* ---- MANIFEST ---- */

static int
hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static int
ment_cmp(const void *a, const void *b)
{
	return strcmp(((const struct h2t_mentry *)a)->me_path,
	    ((const struct h2t_mentry *)b)->me_path);
}

int
h2t_manifest_load(struct h2t_manifest *m)
{
	FILE *f = fopen(h2t_ref("MANIFEST"), "r");
	char line[4096], type, hash[80], *rest, *arrow;
	unsigned long long size;
	struct h2t_mentry *e;
	int cap = 0, i;

	memset(m, 0, sizeof(*m));
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%c %llu %79s", &type, &size, hash) != 3)
			continue;
		rest = strchr(strchr(strchr(line, ' ') + 1, ' ') + 1, ' ') + 1;
		if (m->m_count == cap) {
			cap = cap ? cap * 2 : 4096;
			m->m_ent = realloc(m->m_ent, cap * sizeof(*e));
		}
		e = &m->m_ent[m->m_count++];
		memset(e, 0, sizeof(*e));
		e->me_type = type;
		e->me_size = size;
		if (type == 'f')
			for (i = 0; i < 32; i++)
				e->me_sha[i] =
				    (uint8_t)(hexval(hash[2 * i]) << 4 |
					hexval(hash[2 * i + 1]));
		if (type == 'l' && (arrow = strstr(rest, " -> ")) != NULL) {
			e->me_target = strdup(arrow + 4);
			*arrow = '\0';
		}
		e->me_path = strdup(rest);
	}
	fclose(f);
	qsort(m->m_ent, m->m_count, sizeof(*m->m_ent), ment_cmp);
	return m->m_count > 0 ? 0 : -ENOENT;
}

void
h2t_manifest_free(struct h2t_manifest *m)
{
	int i;

	for (i = 0; i < m->m_count; i++) {
		free(m->m_ent[i].me_path);
		free(m->m_ent[i].me_target);
	}
	free(m->m_ent);
	memset(m, 0, sizeof(*m));
}

struct h2t_mentry *
h2t_manifest_find(struct h2t_manifest *m, const char *path)
{
	struct h2t_mentry key;

	key.me_path = (char *)path;
	return bsearch(&key, m->m_ent, m->m_count, sizeof(key), ment_cmp);
}

int
h2t_read_all(struct h2_inode *ip, uint8_t **bufp, size_t *lenp)
{
	size_t size = h2_idata(ip)->meta.size;
	uint8_t *buf = malloc(size ? size : 1);
	ssize_t n;

	*bufp = NULL;
	*lenp = 0;
	n = h2_read(ip, 0, buf, size);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	*bufp = buf;
	*lenp = (size_t)n;
	return 0;
}

/* ---- comparing a PFS with the manifest ---- */

struct vwalk {
	struct h2_pfs *vw_pfs;
	struct h2t_manifest *vw_m;
	struct h2t_verify *vw_v;
	char vw_path[4096];
	int vw_depth;
};

static void
v_error(struct h2t_verify *v, int error)
{
	v->v_errors++;
	v->v_lasterr = error;
}

static void
verify_file(struct vwalk *vw, struct h2_inode *ip, struct h2t_mentry *e)
{
	uint8_t sha[32], *buf;
	size_t len;
	int error;

	if (h2_idata(ip)->meta.size != e->me_size) {
		vw->vw_v->v_wrong++;
		return;
	}
	if ((error = h2t_read_all(ip, &buf, &len)) != 0) {
		v_error(vw->vw_v, error);
		return;
	}
	h2_sha256(buf, len, sha);
	if (len != e->me_size || memcmp(sha, e->me_sha, 32) != 0)
		vw->vw_v->v_wrong++;
	else
		vw->vw_v->v_files++;
	free(buf);
}

static void
verify_link(struct vwalk *vw, struct h2_inode *ip, struct h2t_mentry *e)
{
	char buf[4096];
	ssize_t n = h2_readlink(ip, buf, sizeof(buf) - 1);

	if (n < 0) {
		v_error(vw->vw_v, (int)n);
		return;
	}
	buf[n] = '\0';
	if (e->me_target == NULL || strcmp(buf, e->me_target) != 0)
		vw->vw_v->v_wrong++;
	else
		vw->vw_v->v_links++;
}

static int verify_dir(struct vwalk *vw, struct h2_inode *dir);

static char
mtype(uint8_t objtype)
{
	switch (objtype) {
	case HAMMER2_OBJTYPE_REGFILE:
		return 'f';
	case HAMMER2_OBJTYPE_DIRECTORY:
		return 'd';
	case HAMMER2_OBJTYPE_SOFTLINK:
		return 'l';
	default:
		return '?';
	}
}

static int
verify_entry(void *arg, const struct h2_dirent *de)
{
	struct vwalk *vw = arg;
	size_t plen = strlen(vw->vw_path);
	struct h2t_mentry *e;
	struct h2_inode *ip;
	int error;

	snprintf(vw->vw_path + plen, sizeof(vw->vw_path) - plen, "%s%s",
	    plen ? "/" : "", de->d_name);
	e = h2t_manifest_find(vw->vw_m, vw->vw_path);
	if (e == NULL || e->me_seen) {
		vw->vw_v->v_extra++;
		goto out;
	}
	e->me_seen = 1;
	if (mtype(de->d_type) != e->me_type) {
		vw->vw_v->v_wrong++;
		goto out;
	}
	if ((error = h2_iget(vw->vw_pfs, de->d_inum, &ip)) != 0) {
		v_error(vw->vw_v, error);
		goto out;
	}
	if (h2_idata(ip)->meta.type != de->d_type)
		vw->vw_v->v_wrong++;
	else if (e->me_type == 'f')
		verify_file(vw, ip, e);
	else if (e->me_type == 'l')
		verify_link(vw, ip, e);
	else if (vw->vw_depth < 32 && verify_dir(vw, ip) == 0)
		vw->vw_v->v_dirs++;
	h2_iput(ip);
out:
	vw->vw_path[plen] = '\0';
	return 0;
}

static int
verify_dir(struct vwalk *vw, struct h2_inode *dir)
{
	int error;

	vw->vw_depth++;
	error = h2_readdir(dir, 0, verify_entry, vw);
	vw->vw_depth--;
	if (error < 0)
		v_error(vw->vw_v, error);
	return error;
}

int
h2t_verify_pfs(struct h2_pfs *pfs, struct h2t_manifest *m,
    const char *const *absent, struct h2t_verify *v)
{
	struct vwalk *vw = calloc(1, sizeof(*vw));
	struct h2t_mentry *e;
	struct h2_inode *root;
	int i, error;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < m->m_count; i++)
		m->m_ent[i].me_seen = 0;
	for (i = 0; absent != NULL && absent[i] != NULL; i++)
		if ((e = h2t_manifest_find(m, absent[i])) != NULL)
			e->me_seen = 1;
	vw->vw_pfs = pfs;
	vw->vw_m = m;
	vw->vw_v = v;
	error = h2_iget(pfs, h2_pfs_root(pfs)->meta.inum, &root);
	if (error == 0) {
		verify_dir(vw, root);
		h2_iput(root);
	} else {
		v_error(v, error);
	}
	for (i = 0; i < m->m_count; i++)
		if (!m->m_ent[i].me_seen)
			v->v_missing++;
	free(vw);
	return 0;
}

/* ---- log capture ---- */

struct capture {
	char **c_lines;
	int c_count;
};

static struct capture cap;

static void
capture_line(void *arg, int level, const char *line)
{
	cap.c_lines = realloc(cap.c_lines, (cap.c_count + 1) * sizeof(char *));
	cap.c_lines[cap.c_count++] = strdup(line);
}

void
h2t_log_capture(void)
{
	h2t_log_stop();
	h2_host_log_hook(capture_line, NULL);
	h2_host_log_level(-1);
}

int
h2t_log_count(const char *needle)
{
	int i, n = 0;

	for (i = 0; i < cap.c_count; i++)
		if (needle == NULL || strstr(cap.c_lines[i], needle) != NULL)
			n++;
	return n;
}

void
h2t_log_stop(void)
{
	int i;

	h2_host_log_hook(NULL, NULL);
	h2_host_log_level(H2_LOG_WARN);
	for (i = 0; i < cap.c_count; i++)
		free(cap.c_lines[i]);
	free(cap.c_lines);
	cap.c_lines = NULL;
	cap.c_count = 0;
}

/* ---- volumes in memory ---- */

struct h2_dev *
h2t_mem_newfs(uint64_t size, uint8_t comp, uint8_t check)
{
	struct h2_newfs_opts no;
	struct h2_dev *dev = h2t_ov_open("/dev/null", size);
	int i;

	if (dev == NULL)
		return NULL;
	memset(&no, 0, sizeof(no));
	no.no_labels[0] = "LOCAL";
	no.no_labels[1] = "DATA";
	no.no_nlabels = 2;
	no.no_comp = comp;
	no.no_check = check;
	no.no_time_us = 1767225600ull * 1000000;
	memset(&no.no_fsid, 1, sizeof(no.no_fsid));
	memset(&no.no_sup_clid, 2, sizeof(no.no_sup_clid));
	memset(&no.no_sup_fsid, 3, sizeof(no.no_sup_fsid));
	for (i = 0; i < HAMMER2_SET_COUNT; i++) {
		memset(&no.no_pfs_clid[i], 0x10 + i, sizeof(no.no_pfs_clid[i]));
		memset(&no.no_pfs_fsid[i], 0x20 + i, sizeof(no.no_pfs_fsid[i]));
	}
	if (h2_newfs(dev, &no) != 0) {
		h2t_ov_close(dev);
		return NULL;
	}
	return dev;
}

int
h2t_vol_mount(struct h2t_vol *v, struct h2_dev *dev, unsigned flags,
    const char *pfs)
{
	struct h2_mount_opts mo = { H2_ZONE_BEST, flags };
	int error;

	memset(v, 0, sizeof(*v));
	v->v_dev = dev;
	if ((error = h2_mount(dev, &mo, &v->v_mp)) != 0)
		return error;
	if ((error = h2_pfs_open(v->v_mp, pfs, &v->v_pfs)) != 0)
		goto fail;
	error = h2_iget(v->v_pfs, h2_pfs_root(v->v_pfs)->meta.inum, &v->v_root);
	if (error == 0)
		return 0;
	h2_pfs_close(v->v_pfs);
fail:
	h2_unmount(v->v_mp);
	memset(v, 0, sizeof(*v));
	return error;
}

void
h2t_vol_umount(struct h2t_vol *v)
{
	h2_iput(v->v_root);
	h2_pfs_close(v->v_pfs);
	h2_unmount(v->v_mp);
	v->v_root = NULL;
	v->v_pfs = NULL;
	v->v_mp = NULL;
}

static void
fsck_print(void *arg, int sev, const char *msg)
{
	if (sev == H2_FSCK_PROBLEM || (arg != NULL && sev == H2_FSCK_WARNING))
		fprintf(stderr, "fsck: %s\n", msg);
}

uint64_t
h2t_fsck_problems(struct h2_dev *dev, int warnings_too)
{
	struct h2_fsck_result r;

	if (h2_fsck(dev, H2_FSCK_ALLZONES, fsck_print,
		warnings_too ? (void *)1 : NULL, &r) != 0)
		return (uint64_t)-1;
	return r.fr_problems + (warnings_too ? r.fr_warnings : 0);
}

struct h2_inode *
h2t_path(struct h2_pfs *pfs, const char *path)
{
	struct h2_inode *ip;

	return h2_namei(pfs, path, 0, &ip) == 0 ? ip : NULL;
}
