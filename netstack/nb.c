/*
 * nb.c: network buffers and their pools. See nb.h for the contract.
 *
 * A cluster is a struct nb_ext followed by NB_CLUSTER_SIZE bytes; its
 * ne_free puts it back on its pool's free list. Headers and clusters are
 * obtained from the platform one at a time, up to the pool's limits, and
 * come back to the platform only in nb_pool_fini.
 */
#include <errno.h>
#include <string.h>

#include "netstack/nb.h"

struct nb_cluster {
	struct nb_ext nc_ext;
	struct nb_cluster *nc_next; /* on the free list */
	uint64_t nc_pad;
	uint8_t nc_buf[NB_CLUSTER_SIZE];
};

static void
nb_panic(const struct nb_pool *pl, const char *msg)
{
	pl->pl_plat->np_panic(pl->pl_plat->np_arg, msg);
	__builtin_trap();
}

#define NB_ASSERT(pl, c)                                                   \
	do {                                                               \
		if (!(c))                                                  \
			nb_panic((pl), "nb: assertion \"" #c "\" failed"); \
	} while (0)

/* ---------------------------------------------------------------- */
/* Pools                                                            */
/* ---------------------------------------------------------------- */

int
nb_pool_init(struct nb_pool *pl, const struct ns_platform *plat,
    uint32_t max_hdrs, uint32_t max_clusters)
{
	if (plat == NULL || max_hdrs == 0 || max_clusters == 0)
		return -EINVAL;
	memset(pl, 0, sizeof(*pl));
	pl->pl_plat = plat;
	pl->pl_hdr_max = max_hdrs;
	pl->pl_cl_max = max_clusters;
	return 0;
}

uint32_t
nb_pool_fini(struct nb_pool *pl)
{
	const struct ns_platform *p = pl->pl_plat;
	struct nb *h;
	struct nb_cluster *c;

	while ((h = pl->pl_hdr_free) != NULL) {
		pl->pl_hdr_free = h->nb_next;
		p->np_free(p->np_arg, h, sizeof(*h));
		pl->pl_stats.nps_hdr_total--;
	}
	while ((c = pl->pl_cl_free) != NULL) {
		pl->pl_cl_free = c->nc_next;
		p->np_free(p->np_arg, c, sizeof(*c));
		pl->pl_stats.nps_cl_total--;
	}
	return pl->pl_stats.nps_hdr_inuse + pl->pl_stats.nps_cl_inuse;
}

static struct nb *
nb_hdr_get(struct nb_pool *pl)
{
	struct nb_pool_stats *st = &pl->pl_stats;
	struct nb *h;

	if ((h = pl->pl_hdr_free) != NULL) {
		pl->pl_hdr_free = h->nb_next;
	} else if (st->nps_hdr_total < pl->pl_hdr_max &&
	    (h = pl->pl_plat->np_alloc(pl->pl_plat->np_arg, sizeof(*h))) !=
		NULL) {
		st->nps_hdr_total++;
	} else {
		st->nps_hdr_fails++;
		return NULL;
	}
	memset(h, 0, sizeof(*h));
	h->nb_pool = pl;
	st->nps_hdr_allocs++;
	if (++st->nps_hdr_inuse > st->nps_hdr_peak)
		st->nps_hdr_peak = st->nps_hdr_inuse;
	return h;
}

static void
nb_hdr_put(struct nb_pool *pl, struct nb *h)
{
	NB_ASSERT(pl, pl->pl_stats.nps_hdr_inuse > 0);
	h->nb_ext = NULL;
	h->nb_next = pl->pl_hdr_free;
	pl->pl_hdr_free = h;
	pl->pl_stats.nps_hdr_inuse--;
}

static void
nb_cluster_free(struct nb_ext *ext)
{
	struct nb_cluster *c = (struct nb_cluster *)ext;
	struct nb_pool *pl = ext->ne_arg;

	NB_ASSERT(pl, pl->pl_stats.nps_cl_inuse > 0);
	c->nc_next = pl->pl_cl_free;
	pl->pl_cl_free = c;
	pl->pl_stats.nps_cl_inuse--;
}

static struct nb_cluster *
nb_cluster_get(struct nb_pool *pl)
{
	struct nb_pool_stats *st = &pl->pl_stats;
	struct nb_cluster *c;

	if ((c = pl->pl_cl_free) != NULL) {
		pl->pl_cl_free = c->nc_next;
	} else if (st->nps_cl_total < pl->pl_cl_max &&
	    (c = pl->pl_plat->np_alloc(pl->pl_plat->np_arg, sizeof(*c))) !=
		NULL) {
		st->nps_cl_total++;
	} else {
		st->nps_cl_fails++;
		return NULL;
	}
	nb_ext_init(&c->nc_ext, nb_cluster_free, pl, 0);
	st->nps_cl_allocs++;
	if (++st->nps_cl_inuse > st->nps_cl_peak)
		st->nps_cl_peak = st->nps_cl_inuse;
	return c;
}

/* ---------------------------------------------------------------- */
/* Segments                                                         */
/* ---------------------------------------------------------------- */

struct nb *
nb_get(struct nb_pool *pl, uint32_t headroom)
{
	struct nb_cluster *c;
	struct nb *nb;

	if (headroom > NB_CLUSTER_SIZE)
		return NULL;
	if ((nb = nb_hdr_get(pl)) == NULL)
		return NULL;
	if ((c = nb_cluster_get(pl)) == NULL) {
		nb_hdr_put(pl, nb);
		return NULL;
	}
	nb->nb_ext = &c->nc_ext;
	nb->nb_buf = c->nc_buf;
	nb->nb_bufsize = NB_CLUSTER_SIZE;
	nb->nb_data = c->nc_buf + headroom;
	nb->nb_sflags = NB_S_OWNER;
	return nb;
}

struct nb *
nb_get_ext(struct nb_pool *pl, struct nb_ext *ext, const void *data,
    uint32_t len)
{
	struct nb *nb;

	NB_ASSERT(pl, ext->ne_refs > 0);
	if ((nb = nb_hdr_get(pl)) == NULL)
		return NULL;
	ext->ne_refs++;
	nb->nb_ext = ext;
	nb->nb_buf = (uint8_t *)(uintptr_t)data;
	nb->nb_bufsize = len;
	nb->nb_data = nb->nb_buf;
	nb->nb_len = len;
	nb->nb_pktlen = len;
	pl->pl_stats.nps_ext_refs++;
	return nb;
}

void
nb_ext_init(struct nb_ext *ext, void (*fn)(struct nb_ext *), void *arg,
    uint32_t flags)
{
	ext->ne_refs = 1;
	ext->ne_flags = flags;
	ext->ne_free = fn;
	ext->ne_arg = arg;
}

void
nb_ext_release(struct nb_ext *ext)
{
	if (--ext->ne_refs == 0 && ext->ne_free != NULL)
		ext->ne_free(ext);
}

struct nb *
nb_free(struct nb *nb)
{
	struct nb *next = nb->nb_next;

	if (nb->nb_ext != NULL)
		nb_ext_release(nb->nb_ext);
	nb_hdr_put(nb->nb_pool, nb);
	return next;
}

void
nb_freem(struct nb *chain)
{
	while (chain != NULL)
		chain = nb_free(chain);
}

void
nb_freeq(struct nb *pkts)
{
	struct nb *next;

	for (; pkts != NULL; pkts = next) {
		next = pkts->nb_nextpkt;
		nb_freem(pkts);
	}
}

int
nb_writable(const struct nb *nb)
{
	return nb->nb_ext != NULL && nb->nb_ext->ne_refs == 1 &&
	    !(nb->nb_ext->ne_flags & NB_EXT_RDONLY);
}

uint32_t
nb_headroom(const struct nb *nb)
{
	return nb_writable(nb) ? (uint32_t)(nb->nb_data - nb->nb_buf) : 0;
}

uint32_t
nb_tailroom(const struct nb *nb)
{
	if (!(nb->nb_sflags & NB_S_OWNER) || nb->nb_ext == NULL ||
	    (nb->nb_ext->ne_flags & NB_EXT_RDONLY))
		return 0;
	return (
	    uint32_t)(nb->nb_buf + nb->nb_bufsize - (nb->nb_data + nb->nb_len));
}

static void
nb_move_pkthdr(struct nb *to, struct nb *from)
{
	to->nb_pktlen = from->nb_pktlen;
	to->nb_flags = from->nb_flags;
	to->nb_csum_start = from->nb_csum_start;
	to->nb_csum_off = from->nb_csum_off;
	to->nb_tso_mss = from->nb_tso_mss;
	to->nb_hdrlen = from->nb_hdrlen;
	to->nb_hash = from->nb_hash;
	to->nb_seq = from->nb_seq;
	to->nb_aux = from->nb_aux;
	to->nb_nextpkt = from->nb_nextpkt;
	from->nb_nextpkt = NULL;
}

void *
nb_prepend(struct nb **chainp, uint32_t len)
{
	struct nb *h = *chainp, *n;

	if (nb_headroom(h) >= len) {
		h->nb_data -= len;
		h->nb_len += len;
		h->nb_pktlen += len;
		return h->nb_data;
	}
	if (len > NB_CLUSTER_SIZE || (n = nb_get(h->nb_pool, 0)) == NULL)
		return NULL;
	/* Data at the end of the new cluster: later headers fit before. */
	n->nb_data = n->nb_buf + NB_CLUSTER_SIZE - len;
	n->nb_len = len;
	n->nb_sflags = 0;
	nb_move_pkthdr(n, h);
	n->nb_pktlen += len;
	n->nb_next = h;
	*chainp = n;
	return n->nb_data;
}

static struct nb *
nb_last(struct nb *chain)
{
	while (chain->nb_next != NULL)
		chain = chain->nb_next;
	return chain;
}

int
nb_append(struct nb *chain, const void *data, uint32_t len)
{
	struct nb *last = nb_last(chain), *first = NULL, *t = NULL, *n;
	const uint8_t *p = data;
	uint32_t room = nb_tailroom(last), k, left;

	/* Take every segment first, so a failure changes nothing. */
	for (left = len > room ? len - room : 0; left > 0; left -= k) {
		if ((n = nb_get(chain->nb_pool, 0)) == NULL) {
			nb_freem(first);
			return -ENOBUFS;
		}
		k = left < NB_CLUSTER_SIZE ? left : NB_CLUSTER_SIZE;
		if (first == NULL)
			first = n;
		else
			t->nb_next = n;
		t = n;
	}
	k = len < room ? len : room;
	memcpy(last->nb_data + last->nb_len, p, k);
	last->nb_len += k;
	p += k;
	for (n = first; n != NULL; n = n->nb_next) {
		k = (uint32_t)(len - (uint32_t)(p - (const uint8_t *)data));
		k = k < NB_CLUSTER_SIZE ? k : NB_CLUSTER_SIZE;
		memcpy(n->nb_data, p, k);
		n->nb_len = k;
		p += k;
	}
	last->nb_next = first;
	chain->nb_pktlen += len;
	return 0;
}

void
nb_cat(struct nb *chain, struct nb *tail)
{
	chain->nb_pktlen += tail->nb_pktlen;
	tail->nb_nextpkt = NULL;
	nb_last(chain)->nb_next = tail;
}

/* Drops the fully consumed segments after the head. */
static void
nb_adj_front(struct nb *chain, uint32_t len)
{
	struct nb *s = chain;
	uint32_t k;

	chain->nb_pktlen -= len;
	k = len < s->nb_len ? len : s->nb_len;
	s->nb_data += k;
	s->nb_len -= k;
	len -= k;
	while (len > 0 && (s = chain->nb_next) != NULL) {
		if (s->nb_len <= len) {
			len -= s->nb_len;
			chain->nb_next = nb_free(s);
			continue;
		}
		s->nb_data += len;
		s->nb_len -= len;
		len = 0;
	}
}

static void
nb_adj_back(struct nb *chain, uint32_t len)
{
	uint32_t keep = chain->nb_pktlen - len, k;
	struct nb *s;

	chain->nb_pktlen = keep;
	for (s = chain; s != NULL; s = s->nb_next) {
		k = keep < s->nb_len ? keep : s->nb_len;
		if (k < s->nb_len && !nb_writable(s))
			s->nb_sflags &= ~NB_S_OWNER;
		s->nb_len = k;
		keep -= k;
		if (keep == 0)
			break;
	}
	if (s != NULL) {
		nb_freem(s->nb_next);
		s->nb_next = NULL;
	}
}

void
nb_adj(struct nb *chain, int32_t len)
{
	uint32_t n = len >= 0 ? (uint32_t)len : (uint32_t) - (int64_t)len;

	if (n > chain->nb_pktlen)
		n = chain->nb_pktlen;
	if (len >= 0)
		nb_adj_front(chain, n);
	else
		nb_adj_back(chain, n);
}

int
nb_copydata_at(const struct nb *s, uint32_t off, uint32_t len, void *dst)
{
	uint8_t *d = dst;
	uint32_t k;

	for (; s != NULL && len > 0; s = s->nb_next) {
		if (off >= s->nb_len) {
			off -= s->nb_len;
			continue;
		}
		k = s->nb_len - off < len ? s->nb_len - off : len;
		memcpy(d, s->nb_data + off, k);
		d += k;
		len -= k;
		off = 0;
	}
	return len == 0 ? 0 : -EINVAL;
}

int
nb_copydata(const struct nb *chain, uint32_t off, uint32_t len, void *dst)
{
	if (off > chain->nb_pktlen || chain->nb_pktlen - off < len)
		return -EINVAL;
	return nb_copydata_at(chain, off, len, dst);
}

void *
nb_pullup(struct nb **chainp, uint32_t len)
{
	struct nb *h = *chainp, *n;
	uint32_t room;

	if (h->nb_len >= len)
		return h->nb_data;
	if (len > h->nb_pktlen || len > NB_CLUSTER_SIZE)
		return NULL;
	room = nb_writable(h) ?
	    h->nb_bufsize - (uint32_t)(h->nb_data - h->nb_buf) :
	    0;
	if (room >= len && (h->nb_sflags & NB_S_OWNER)) {
		/* Pull the bytes after the head into its own storage. */
		uint32_t need = len - h->nb_len, tot = h->nb_pktlen;

		h->nb_next->nb_pktlen = tot - h->nb_len;
		nb_copydata(h->nb_next, 0, need, h->nb_data + h->nb_len);
		nb_adj_front(h->nb_next, need);
		if (h->nb_next->nb_len == 0)
			h->nb_next = nb_free(h->nb_next);
		h->nb_len = len;
		h->nb_pktlen = tot;
		h->nb_pool->pl_stats.nps_copies += need;
		return h->nb_data;
	}
	if ((n = nb_get(h->nb_pool,
		 NB_CLUSTER_SIZE - len < NB_MAXHDR ? NB_CLUSTER_SIZE - len :
						     NB_MAXHDR)) == NULL)
		return NULL;
	nb_copydata(h, 0, len, n->nb_data);
	n->nb_len = len;
	nb_move_pkthdr(n, h);
	nb_adj_front(h, len);
	n->nb_next = h;
	if (h->nb_len == 0)
		n->nb_next = nb_free(h);
	h->nb_pool->pl_stats.nps_copies += len;
	*chainp = n;
	return n->nb_data;
}

struct nb *
nb_ref_at(struct nb_pool *pl, const struct nb *s, uint32_t off, uint32_t len)
{
	struct nb *head = NULL, *t = NULL, *n;
	uint32_t k, total = len;

	if (len == 0)
		return NULL;
	for (; s != NULL && len > 0; s = s->nb_next) {
		if (off >= s->nb_len) {
			off -= s->nb_len;
			continue;
		}
		if ((n = nb_hdr_get(pl)) == NULL)
			break;
		k = s->nb_len - off < len ? s->nb_len - off : len;
		n->nb_ext = s->nb_ext;
		n->nb_ext->ne_refs++;
		n->nb_buf = s->nb_buf;
		n->nb_bufsize = s->nb_bufsize;
		n->nb_data = s->nb_data + off;
		n->nb_len = k;
		if (head == NULL)
			head = n;
		else
			t->nb_next = n;
		t = n;
		len -= k;
		off = 0;
	}
	if (len > 0) {
		nb_freem(head);
		return NULL;
	}
	head->nb_pktlen = total;
	return head;
}

struct nb *
nb_ref(struct nb_pool *pl, const struct nb *chain, uint32_t off, uint32_t len)
{
	if (off > chain->nb_pktlen || chain->nb_pktlen - off < len)
		return NULL;
	return nb_ref_at(pl, chain, off, len);
}

struct nb *
nb_copy(struct nb_pool *pl, const struct nb *chain, uint32_t off, uint32_t len,
    uint32_t headroom)
{
	struct nb *head, *t, *n;
	uint32_t k, done;

	if (off > chain->nb_pktlen || chain->nb_pktlen - off < len ||
	    headroom >= NB_CLUSTER_SIZE)
		return NULL;
	if ((head = nb_get(pl, headroom)) == NULL)
		return NULL;
	k = NB_CLUSTER_SIZE - headroom;
	k = k < len ? k : len;
	nb_copydata(chain, off, k, head->nb_data);
	head->nb_len = k;
	for (done = k, t = head; done < len; done += k, t = n) {
		if ((n = nb_get(pl, 0)) == NULL) {
			nb_freem(head);
			return NULL;
		}
		k = len - done < NB_CLUSTER_SIZE ? len - done : NB_CLUSTER_SIZE;
		nb_copydata(chain, off + done, k, n->nb_data);
		n->nb_len = k;
		t->nb_next = n;
	}
	head->nb_pktlen = len;
	pl->pl_stats.nps_copies += len;
	return head;
}

struct nb *
nb_split(struct nb *chain, uint32_t off, int *errp)
{
	struct nb *s, *n;
	uint32_t total = chain->nb_pktlen, at = off;

	*errp = 0;
	if (off >= total)
		return NULL;
	for (s = chain; s->nb_len <= at && s->nb_next != NULL; s = s->nb_next)
		at -= s->nb_len;
	if (at == 0 && s != chain) {
		/* On a boundary: find the segment before s. */
		struct nb *p = chain;

		while (p->nb_next != s)
			p = p->nb_next;
		p->nb_next = NULL;
		n = s;
	} else {
		if ((n = nb_hdr_get(chain->nb_pool)) == NULL) {
			*errp = -ENOBUFS;
			return NULL;
		}
		n->nb_ext = s->nb_ext;
		n->nb_ext->ne_refs++;
		n->nb_buf = s->nb_buf;
		n->nb_bufsize = s->nb_bufsize;
		n->nb_data = s->nb_data + at;
		n->nb_len = s->nb_len - at;
		n->nb_sflags = s->nb_sflags & NB_S_OWNER;
		s->nb_sflags &= ~NB_S_OWNER;
		s->nb_len = at;
		n->nb_next = s->nb_next;
		s->nb_next = NULL;
	}
	n->nb_pktlen = total - off;
	n->nb_flags = chain->nb_flags;
	chain->nb_pktlen = off;
	return n;
}

uint32_t
nb_truesize(const struct nb *chain)
{
	uint32_t n = 0;

	for (; chain != NULL; chain = chain->nb_next)
		n += chain->nb_bufsize + (uint32_t)sizeof(struct nb);
	return n;
}

uint32_t
nb_nsegs(const struct nb *chain)
{
	uint32_t n = 0;

	for (; chain != NULL; chain = chain->nb_next)
		n++;
	return n;
}
