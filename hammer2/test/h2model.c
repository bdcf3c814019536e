/*
 * h2model.c: the model behind h2_model and the write-path fuzzer.
 *
 * Random operations on a volume, each also done on an in-memory model of
 * the file system, and after every remount the whole volume (and each
 * snapshot) compared with the model.
 *
 * Operations: create, mkdir, symlink, hard link, write at random offsets
 * (sparse, across block boundaries, zeros), truncate, rename (over
 * existing names, across directories, directories included), unlink,
 * rmdir, snapshot (kept read-only in the model, the oldest deleted past
 * four), setcomp, bulkfree, flush, and remount either after a flush (the
 * model keeps everything) or without one (the model goes back to the last
 * flush, as after a crash). The model predicts every error code too.
 * Names come from a small pool (so names collide and get reused), with
 * long names and names whose hashes collide mixed in.
 *
 * Every choice goes through pick(): from a seeded RNG (h2_model), or from
 * the fuzzer's input (stream mode), where bulkfree is one more operation
 * and every remount runs fsck. The run ends with a flush, a remount, fsck
 * and a full comparison. A disagreement calls h2m_fail.
 *
 * Interface: h2model.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2model.h"

void (*h2m_fail)(const char *msg);

static void __attribute__((noreturn, format(printf, 1, 2)))
h2m_failf(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (h2m_fail != NULL)
		h2m_fail(msg);
	fprintf(stderr, "h2model: %s\n", msg);
	abort();
}

#define REQ(c)                                                          \
	do {                                                            \
		if (!(c))                                               \
			h2m_failf("%s:%d: %s", __FILE__, __LINE__, #c); \
	} while (0)
#define REQ_EQ(a, b)                                                         \
	do {                                                                 \
		long long a_ = (long long)(a), b_ = (long long)(b);          \
		if (a_ != b_)                                                \
			h2m_failf("%s:%d: %s == %lld, %s == %lld", __FILE__, \
			    __LINE__, #a, a_, #b, b_);                       \
	} while (0)

#define MAXOBJ	4096
#define MAXENT	4096
#define MAXSNAP 4
#define MAXFILE (2u << 20)

enum { T_FILE = 1, T_DIR, T_LINK };

struct mobj {
	int o_type; /* 0: free */
	int o_nlink;
	hammer2_tid_t o_inum;
	uint8_t *o_data;
	size_t o_size;
	char *o_target;
};

struct ment {
	int e_dir; /* object index, -1: free */
	int e_obj;
	char e_name[256];
};

struct model {
	struct mobj m_obj[MAXOBJ];
	struct ment m_ent[MAXENT];
	int m_nent;
};

struct snap {
	char s_name[32];
	struct model *s_model;
};

struct run {
	struct h2t_vol r_v;
	struct model *r_live;
	struct model *r_flushed;
	struct snap r_snap[MAXSNAP];
	int r_nsnap, r_snapseq;
	uint64_t r_rng;
	char r_names[48][256];
	int r_nnames;
	uint64_t r_stats[32];
	uint8_t *r_buf;
	uint8_t *r_cmp;
	const uint8_t *r_in; /* stream mode: choices come from here */
	size_t r_inlen, r_inpos;
	int r_done; /* the stream ran out */
};

static uint64_t
rnd(struct run *r)
{
	uint64_t x = r->r_rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return r->r_rng = x;
}

/*
 * A choice in [0, n). From the RNG, or in stream mode from the input: one
 * byte for n <= 256, two for n <= 65536, else four, little-endian; when
 * the input runs out the choice is 0 and the run ends after the current
 * operation.
 */
static int
pick(struct run *r, int n)
{
	uint64_t v = 0;
	int k, nb;

	if (n <= 0)
		return 0;
	if (r->r_in == NULL)
		return (int)(rnd(r) % (uint64_t)n);
	nb = n <= 256 ? 1 : n <= 65536 ? 2 : 4;
	for (k = 0; k < nb; k++) {
		if (r->r_inpos >= r->r_inlen) {
			r->r_done = 1;
			break;
		}
		v |= (uint64_t)r->r_in[r->r_inpos++] << (8 * k);
	}
	return (int)(v % (uint64_t)n);
}

/* ---- the model ---- */

static struct model *
model_new(void)
{
	struct model *m = calloc(1, sizeof(*m));
	int i;

	for (i = 0; i < MAXENT; i++)
		m->m_ent[i].e_dir = -1;
	m->m_obj[0].o_type = T_DIR; /* the root, inode 1 */
	m->m_obj[0].o_inum = 1;
	m->m_obj[0].o_nlink = 1;
	return m;
}

static void
model_free(struct model *m)
{
	int i;

	if (m == NULL)
		return;
	for (i = 0; i < MAXOBJ; i++) {
		free(m->m_obj[i].o_data);
		free(m->m_obj[i].o_target);
	}
	free(m);
}

static struct model *
model_copy(const struct model *src)
{
	struct model *m = malloc(sizeof(*m));
	int i;

	memcpy(m, src, sizeof(*m));
	for (i = 0; i < MAXOBJ; i++) {
		const struct mobj *o = &src->m_obj[i];

		if (o->o_data != NULL) {
			m->m_obj[i].o_data = malloc(o->o_size ? o->o_size : 1);
			memcpy(m->m_obj[i].o_data, o->o_data, o->o_size);
		}
		if (o->o_target != NULL)
			m->m_obj[i].o_target = strdup(o->o_target);
	}
	return m;
}

static int
m_lookup(struct model *m, int dir, const char *name)
{
	int i;

	for (i = 0; i < MAXENT; i++)
		if (m->m_ent[i].e_dir == dir &&
		    strcmp(m->m_ent[i].e_name, name) == 0)
			return i;
	return -1;
}

static int
m_empty(struct model *m, int dir)
{
	int i;

	for (i = 0; i < MAXENT; i++)
		if (m->m_ent[i].e_dir == dir)
			return 0;
	return 1;
}

static int
m_newobj(struct model *m, int type)
{
	int i;

	for (i = 1; i < MAXOBJ; i++) {
		if (m->m_obj[i].o_type == 0) {
			memset(&m->m_obj[i], 0, sizeof(m->m_obj[i]));
			m->m_obj[i].o_type = type;
			m->m_obj[i].o_nlink = 1;
			return i;
		}
	}
	return -1;
}

static int
m_addent(struct model *m, int dir, const char *name, int obj)
{
	int i;

	for (i = 0; i < MAXENT; i++) {
		if (m->m_ent[i].e_dir < 0) {
			m->m_ent[i].e_dir = dir;
			m->m_ent[i].e_obj = obj;
			snprintf(m->m_ent[i].e_name, sizeof(m->m_ent[i].e_name),
			    "%s", name);
			m->m_nent++;
			return i;
		}
	}
	return -1;
}

static void
m_dropobj(struct model *m, int obj)
{
	struct mobj *o = &m->m_obj[obj];

	if (--o->o_nlink > 0)
		return;
	free(o->o_data);
	free(o->o_target);
	memset(o, 0, sizeof(*o));
}

static void
m_delent(struct model *m, int e)
{
	int obj = m->m_ent[e].e_obj;

	m->m_ent[e].e_dir = -1;
	m->m_nent--;
	m_dropobj(m, obj);
}

/* Is a an ancestor of (or equal to) directory d? */
static int
m_ancestor(struct model *m, int a, int d)
{
	int i, guard = 0;

	while (guard++ < MAXOBJ) {
		if (d == a)
			return 1;
		if (d == 0)
			return 0;
		for (i = 0; i < MAXENT; i++)
			if (m->m_ent[i].e_dir >= 0 && m->m_ent[i].e_obj == d)
				break;
		if (i == MAXENT)
			return 0;
		d = m->m_ent[i].e_dir;
	}
	return 0;
}

/* A random object of type (0: any but the root), or -1. */
static int
m_pick(struct run *r, struct model *m, int type)
{
	int tries, i, n = 0;

	if (r->r_in != NULL) { /* stream mode: the n-th candidate */
		for (i = 0; i < MAXOBJ; i++)
			n += m->m_obj[i].o_type &&
			    (!type || m->m_obj[i].o_type == type);
		if (n == 0)
			return -1;
		n = pick(r, n);
		for (i = 0; i < MAXOBJ; i++)
			if (m->m_obj[i].o_type &&
			    (!type || m->m_obj[i].o_type == type) && n-- == 0)
				return i;
	}

	for (tries = 0; tries < 64; tries++) {
		i = pick(r, MAXOBJ);
		if (m->m_obj[i].o_type == 0 ||
		    (type && m->m_obj[i].o_type != type))
			continue;
		return i;
	}
	for (i = 0; i < MAXOBJ; i++)
		if (m->m_obj[i].o_type && (!type || m->m_obj[i].o_type == type))
			return i;
	return -1;
}

static int
m_pickent(struct run *r, struct model *m)
{
	int tries, i, n;

	if (m->m_nent == 0)
		return -1;
	if (r->r_in != NULL) { /* stream mode: the n-th entry */
		n = pick(r, m->m_nent);
		for (i = 0; i < MAXENT; i++)
			if (m->m_ent[i].e_dir >= 0 && n-- == 0)
				return i;
	}
	for (tries = 0; tries < 256; tries++) {
		i = pick(r, MAXENT);
		if (m->m_ent[i].e_dir >= 0)
			return i;
	}
	for (i = 0; i < MAXENT; i++)
		if (m->m_ent[i].e_dir >= 0)
			return i;
	return -1;
}

/* ---- the library side ---- */

static struct h2_inode *
iget(struct run *r, int obj)
{
	struct h2_inode *ip;

	REQ_EQ(h2_iget(r->r_v.v_pfs, r->r_live->m_obj[obj].o_inum, &ip), 0);
	return ip;
}

static const char *
rname(struct run *r)
{
	return r->r_names[pick(r, r->r_nnames)];
}

static void
names_init(struct run *r)
{
	static const char *parts[] = { "aa", "bb", "cc", "dd", "ee", "ff",
		"gg" };
	int i;

	for (i = 0; i < 30; i++)
		snprintf(r->r_names[i], 256, "n%d", i);
	for (; i < 36; i++) {
		memset(r->r_names[i], 'a' + i - 30, 255);
		r->r_names[i][60 + (i - 30) * 39] = '\0'; /* 60..255 bytes */
	}
	/* Permuted separator parts: hashes agree in the upper 32 bits. */
	for (; i < 48; i++) {
		int k, perm[7] = { 0, 1, 2, 3, 4, 5, 6 }, t, j;

		for (k = 6; k > 0; k--) {
			j = (int)((uint64_t)(i * 7919 + k * 104729) % (k + 1));
			t = perm[k];
			perm[k] = perm[j];
			perm[j] = t;
		}
		r->r_names[i][0] = '\0';
		for (k = 0; k < 7; k++) {
			strcat(r->r_names[i], parts[perm[k]]);
			if (k < 6)
				strcat(r->r_names[i], ".");
		}
	}
	r->r_nnames = 48;
}

/* ---- operations ---- */

static void
op_create(struct run *r, int type)
{
	struct model *m = r->r_live;
	int dir = m_pick(r, m, T_DIR), o, expect;
	const char *name = rname(r);
	char target[300];
	struct h2_inode *d, *ip = NULL;
	int error;

	expect = m_lookup(m, dir, name) >= 0 ? -EEXIST : 0;
	if (expect == 0 && m->m_nent >= MAXENT - 8)
		return;
	d = iget(r, dir);
	if (type == T_DIR) {
		error = h2_mkdir(d, name, strlen(name), 0755, &ip);
	} else if (type == T_LINK) {
		snprintf(target, sizeof(target), "%s/%s", name,
		    pick(r, 2) ? "x" : r->r_names[pick(r, r->r_nnames)]);
		error = h2_symlink(d, name, strlen(name), target,
		    strlen(target), &ip);
	} else {
		error = h2_create(d, name, strlen(name),
		    HAMMER2_OBJTYPE_REGFILE, 0644, &ip);
	}
	h2_iput(d);
	REQ_EQ(error, expect);
	if (error)
		return;
	o = m_newobj(m, type);
	REQ(o >= 0);
	m->m_obj[o].o_inum = h2_idata(ip)->meta.inum;
	if (type == T_LINK) {
		m->m_obj[o].o_target = strdup(target);
		m->m_obj[o].o_size = strlen(target);
	}
	m_addent(m, dir, name, o);
	h2_iput(ip);
}

static void
op_write(struct run *r)
{
	struct model *m = r->r_live;
	int f = m_pick(r, m, T_FILE), i;
	struct mobj *o;
	struct h2_inode *ip;
	uint64_t off, len;
	ssize_t n;

	if (f < 0)
		return;
	o = &m->m_obj[f];
	switch (pick(r, 4)) {
	case 0: /* small, anywhere */
		off = (uint64_t)pick(r, (int)(o->o_size + 1000));
		len = (uint64_t)pick(r, 700);
		break;
	case 1: /* across a block boundary */
		off = (uint64_t)pick(r, 40) * 65536 + 65536 -
		    (uint64_t)pick(r, 3000);
		len = (uint64_t)pick(r, 70000);
		break;
	case 2: /* big, sequential-ish */
		off = o->o_size;
		len = (uint64_t)pick(r, 300000);
		break;
	default: /* sparse, far away */
		off = (uint64_t)pick(r, MAXFILE);
		len = (uint64_t)pick(r, 5000);
		break;
	}
	if (off + len > MAXFILE)
		return;
	switch (pick(r, 3)) {
	case 0:
		memset(r->r_buf, 0, len); /* zeros: holes */
		break;
	case 1:
		for (i = 0; i < (int)len; i++)
			r->r_buf[i] = (uint8_t)rnd(r);
		break;
	default:
		for (i = 0; i < (int)len; i++)
			r->r_buf[i] =
			    (uint8_t) "hammer2 flush "[(off + i) % 14];
		break;
	}
	ip = iget(r, f);
	n = h2_write(ip, off, r->r_buf, len);
	if (getenv("H2T_TRACE"))
		fprintf(stderr,
		    "write inum %llu off %llu len %llu size %zu -> %zd\n",
		    (unsigned long long)o->o_inum, (unsigned long long)off,
		    (unsigned long long)len, o->o_size, n);
	h2_iput(ip);
	REQ_EQ(n, (ssize_t)len);
	if (len > 0 && off + len > o->o_size) {
		o->o_data = realloc(o->o_data, off + len);
		memset(o->o_data + o->o_size, 0, off + len - o->o_size);
		o->o_size = off + len;
	}
	if (len > 0)
		memcpy(o->o_data + off, r->r_buf, len);
}

static void
op_truncate(struct run *r)
{
	struct model *m = r->r_live;
	int f = m_pick(r, m, T_FILE);
	struct mobj *o;
	struct h2_inode *ip;
	uint64_t size;

	if (f < 0)
		return;
	o = &m->m_obj[f];
	size = pick(r, 3) ? (uint64_t)pick(r, (int)o->o_size + 1) :
			    (uint64_t)pick(r, MAXFILE);
	ip = iget(r, f);
	if (getenv("H2T_TRACE"))
		fprintf(stderr, "truncate inum %llu size %zu -> %llu\n",
		    (unsigned long long)o->o_inum, o->o_size,
		    (unsigned long long)size);
	REQ_EQ(h2_truncate(ip, size), 0);
	h2_iput(ip);
	if (size > o->o_size) {
		o->o_data = realloc(o->o_data, size);
		memset(o->o_data + o->o_size, 0, size - o->o_size);
	}
	o->o_size = size;
}

static void
op_remove(struct run *r, int rmdir)
{
	struct model *m = r->r_live;
	int e = m_pickent(r, m), dir, type, expect;
	struct h2_inode *d;
	char name[256];

	if (e < 0)
		return;
	dir = m->m_ent[e].e_dir;
	snprintf(name, sizeof(name), "%s", m->m_ent[e].e_name);
	type = m->m_obj[m->m_ent[e].e_obj].o_type;
	if (rmdir)
		expect = type != T_DIR		   ? -ENOTDIR :
		    !m_empty(m, m->m_ent[e].e_obj) ? -ENOTEMPTY :
						     0;
	else
		expect = type == T_DIR ? -EISDIR : 0;
	d = iget(r, dir);
	REQ_EQ(rmdir ? h2_rmdir(d, name, strlen(name)) :
		       h2_unlink(d, name, strlen(name)),
	    expect);
	h2_iput(d);
	if (expect == 0)
		m_delent(m, e);
}

static void
op_link(struct run *r)
{
	struct model *m = r->r_live;
	int f = m_pick(r, m, pick(r, 4) ? T_FILE : 0),
	    dir = m_pick(r, m, T_DIR);
	const char *name = rname(r);
	struct h2_inode *d, *ip;
	int expect;

	if (f < 0 || m->m_nent >= MAXENT - 8)
		return;
	expect = m->m_obj[f].o_type == T_DIR ? -EPERM :
	    m_lookup(m, dir, name) >= 0	     ? -EEXIST :
					       0;
	d = iget(r, dir);
	ip = iget(r, f);
	REQ_EQ(h2_link(d, name, strlen(name), ip), expect);
	h2_iput(ip);
	h2_iput(d);
	if (expect == 0) {
		m->m_obj[f].o_nlink++;
		m_addent(m, dir, name, f);
	}
}

static void
op_rename(struct run *r)
{
	struct model *m = r->r_live;
	int e = m_pickent(r, m), tdir = m_pick(r, m, T_DIR), t, so, expect = 0;
	const char *tname = rname(r);
	struct h2_inode *fd, *td;
	char fname[256];
	int fdir;

	if (e < 0)
		return;
	fdir = m->m_ent[e].e_dir;
	so = m->m_ent[e].e_obj;
	snprintf(fname, sizeof(fname), "%s", m->m_ent[e].e_name);
	t = m_lookup(m, tdir, tname);
	if (fdir == tdir && strcmp(fname, tname) == 0)
		expect = 1; /* nothing happens */
	else if (t >= 0 && m->m_ent[t].e_obj == so)
		expect = 1;
	else if (t >= 0 && m->m_obj[so].o_type == T_DIR &&
	    m->m_obj[m->m_ent[t].e_obj].o_type != T_DIR)
		expect = -ENOTDIR;
	else if (t >= 0 && m->m_obj[so].o_type != T_DIR &&
	    m->m_obj[m->m_ent[t].e_obj].o_type == T_DIR)
		expect = -EISDIR;
	else if (t >= 0 && m->m_obj[m->m_ent[t].e_obj].o_type == T_DIR &&
	    !m_empty(m, m->m_ent[t].e_obj))
		expect = -ENOTEMPTY;
	else if (m->m_obj[so].o_type == T_DIR && m_ancestor(m, so, tdir))
		expect = -EINVAL;
	fd = iget(r, fdir);
	td = iget(r, tdir);
	REQ_EQ(h2_rename(fd, fname, strlen(fname), td, tname, strlen(tname)),
	    expect > 0 ? 0 : expect);
	h2_iput(fd);
	h2_iput(td);
	if (expect != 0)
		return;
	if (t >= 0)
		m_delent(m, t);
	m->m_ent[e].e_dir = tdir;
	snprintf(m->m_ent[e].e_name, sizeof(m->m_ent[e].e_name), "%s", tname);
}

static void
op_setcomp(struct run *r)
{
	static const uint8_t comps[] = { HAMMER2_COMP_NONE,
		HAMMER2_COMP_AUTOZERO, HAMMER2_COMP_LZ4, HAMMER2_COMP_ZLIB,
		HAMMER2_COMP_DF_ZSTD };
	int o = m_pick(r, r->r_live, pick(r, 2) ? T_FILE : T_DIR);
	struct h2_inode *ip;
	struct h2_attr ia;

	if (o < 0)
		return;
	memset(&ia, 0, sizeof(ia));
	ia.ia_valid = H2_ATTR_COMP | H2_ATTR_CHECK;
	ia.ia_comp = comps[pick(r, 5)];
	ia.ia_check = (uint8_t)(HAMMER2_CHECK_ISCSI32 + pick(r, 2));
	ip = iget(r, o);
	REQ_EQ(h2_setattr(ip, &ia), 0);
	h2_iput(ip);
}

static void
op_snapshot(struct run *r)
{
	struct snap *s;

	if (r->r_nsnap == MAXSNAP) {
		REQ_EQ(h2_pfs_delete(r->r_v.v_mp, r->r_snap[0].s_name), 0);
		model_free(r->r_snap[0].s_model);
		memmove(&r->r_snap[0], &r->r_snap[1],
		    sizeof(r->r_snap[0]) * (MAXSNAP - 1));
		r->r_nsnap--;
	}
	s = &r->r_snap[r->r_nsnap++];
	snprintf(s->s_name, sizeof(s->s_name), "snap%d", r->r_snapseq++);
	REQ_EQ(h2_snapshot(r->r_v.v_pfs, s->s_name), 0);
	s->s_model = model_copy(r->r_live);
	/* A snapshot flushes. */
	model_free(r->r_flushed);
	r->r_flushed = model_copy(r->r_live);
}

/* ---- comparing ---- */

struct cmp {
	struct run *c_run;
	struct model *c_m;
	struct h2_pfs *c_pfs;
	int c_dir;
	int c_seen;
};

static int compare_dir(struct run *r, struct model *m, struct h2_pfs *pfs,
    int dir);

static int
cmp_entry(void *arg, const struct h2_dirent *de)
{
	struct cmp *c = arg;
	struct model *m = c->c_m;
	int e = m_lookup(m, c->c_dir, de->d_name), obj;
	struct mobj *o;
	struct h2_inode *ip;
	char buf[4200];
	size_t len;

	if (e < 0)
		h2m_failf("extra entry %s", de->d_name);
	c->c_seen++;
	obj = m->m_ent[e].e_obj;
	o = &m->m_obj[obj];
	REQ_EQ(de->d_inum, o->o_inum);
	REQ_EQ(h2_iget(c->c_pfs, de->d_inum, &ip), 0);
	switch (o->o_type) {
	case T_DIR:
		REQ_EQ(de->d_type, HAMMER2_OBJTYPE_DIRECTORY);
		compare_dir(c->c_run, m, c->c_pfs, obj);
		break;
	case T_LINK:
		REQ_EQ(de->d_type, HAMMER2_OBJTYPE_SOFTLINK);
		REQ_EQ(h2_readlink(ip, buf, sizeof(buf)), (ssize_t)o->o_size);
		REQ(memcmp(buf, o->o_target, o->o_size) == 0);
		break;
	default:
		REQ_EQ(de->d_type, HAMMER2_OBJTYPE_REGFILE);
		REQ_EQ(h2_idata(ip)->meta.nlinks, o->o_nlink);
		if (h2_idata(ip)->meta.size != o->o_size)
			h2m_failf("inum %llu size %llu, model %zu",
			    (unsigned long long)o->o_inum,
			    (unsigned long long)h2_idata(ip)->meta.size,
			    o->o_size);
		len = o->o_size;
		REQ_EQ(h2_read(ip, 0, c->c_run->r_cmp, len), (ssize_t)len);
		if (len != 0 && memcmp(c->c_run->r_cmp, o->o_data, len) != 0)
			h2m_failf("file %s differs", de->d_name);
		break;
	}
	h2_iput(ip);
	return 0;
}

static int
compare_dir(struct run *r, struct model *m, struct h2_pfs *pfs, int dir)
{
	struct cmp c = { r, m, pfs, dir, 0 };
	struct h2_inode *ip;
	int i, n = 0;

	REQ_EQ(h2_iget(pfs, m->m_obj[dir].o_inum, &ip), 0);
	REQ_EQ(h2_readdir(ip, 0, cmp_entry, &c), 0);
	h2_iput(ip);
	for (i = 0; i < MAXENT; i++)
		if (m->m_ent[i].e_dir == dir)
			n++;
	REQ_EQ(c.c_seen, n);
	return 0;
}

static void
compare_all(struct run *r)
{
	struct h2_pfs *pfs;
	int i;

	compare_dir(r, r->r_live, r->r_v.v_pfs, 0);
	for (i = 0; i < r->r_nsnap; i++) {
		REQ_EQ(h2_pfs_open(r->r_v.v_mp, r->r_snap[i].s_name, &pfs), 0);
		compare_dir(r, r->r_snap[i].s_model, pfs, 0);
		h2_pfs_close(pfs);
	}
}

static void
op_remount(struct run *r, int flush, int fsck)
{
	struct h2_dev *dev = r->r_v.v_dev;

	if (getenv("H2T_TRACE"))
		fprintf(stderr, "remount flush %d\n", flush);
	if (flush) {
		REQ_EQ(h2_flush(r->r_v.v_mp), 0);
		model_free(r->r_flushed);
		r->r_flushed = model_copy(r->r_live);
	} else {
		model_free(r->r_live);
		r->r_live = model_copy(r->r_flushed);
	}
	h2t_vol_umount(&r->r_v);
	if (fsck)
		REQ_EQ(h2t_fsck_problems(dev, 0), 0);
	REQ_EQ(h2t_vol_mount(&r->r_v, dev, H2_MNT_RDWR, "DATA"), 0);
	compare_all(r);
}

/* Bulkfree (DragonFly's two passes over two calls; it flushes first). */
static void
op_bulkfree(struct run *r)
{
	struct h2_bulkfree_result bf;

	REQ_EQ(h2_bulkfree(r->r_v.v_mp, &bf), 0);
	model_free(r->r_flushed);
	r->r_flushed = model_copy(r->r_live);
}

int
h2m_run(const struct h2m_opts *mo, uint64_t stats[32])
{
	struct run *r = calloc(1, sizeof(*r));
	struct h2_dev *dev;
	int i, k;

	r->r_rng = mo->mo_seed * 0x9E3779B97F4A7C15ull + 1;
	r->r_in = mo->mo_in;
	r->r_inlen = mo->mo_inlen;
	r->r_buf = malloc(MAXFILE);
	r->r_cmp = malloc(MAXFILE);
	names_init(r);
	dev = h2t_mem_newfs(mo->mo_vsize ? mo->mo_vsize : 3ull << 30,
	    mo->mo_comp, mo->mo_check);
	REQ(dev != NULL);
	REQ_EQ(h2t_vol_mount(&r->r_v, dev, H2_MNT_RDWR, "DATA"), 0);
	r->r_live = model_new();
	r->r_flushed = model_new();
	for (i = 0; i < mo->mo_nops && !r->r_done; i++) {
		k = pick(r, 100);
		r->r_stats[k / 4]++;
		if (k < 14)
			op_create(r, T_FILE);
		else if (k < 20)
			op_create(r, T_DIR);
		else if (k < 23)
			op_create(r, T_LINK);
		else if (k < 48)
			op_write(r);
		else if (k < 54)
			op_truncate(r);
		else if (k < 66)
			op_rename(r);
		else if (k < 76)
			op_remove(r, 0);
		else if (k < 80)
			op_remove(r, 1);
		else if (k < 85)
			op_link(r);
		else if (k < 87)
			op_setcomp(r);
		else if (k < 88)
			op_snapshot(r);
		else if (k < 94) {
			REQ_EQ(h2_flush(r->r_v.v_mp), 0);
			model_free(r->r_flushed);
			r->r_flushed = model_copy(r->r_live);
		} else if (k < 96) {
			op_remount(r, pick(r, 3) != 0,
			    r->r_in != NULL || i % 1000 < 20);
		} else if (k < 98 && r->r_in != NULL) {
			op_bulkfree(r);
		}
		if (r->r_in == NULL && i % 2500 == 2499)
			op_bulkfree(r);
	}
	op_remount(r, 1, 1);
	h2t_vol_umount(&r->r_v);
	h2t_ov_close(dev);
	model_free(r->r_live);
	model_free(r->r_flushed);
	for (k = 0; k < r->r_nsnap; k++)
		model_free(r->r_snap[k].s_model);
	if (stats != NULL)
		memcpy(stats, r->r_stats, sizeof(r->r_stats));
	free(r->r_buf);
	free(r->r_cmp);
	free(r);
	return i;
}
