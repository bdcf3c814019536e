/*
 * ns_frag.c: IPv4 fragment reassembly with bounded memory and time.
 *
 * A datagram in reassembly is a struct ip_fragq keyed by source,
 * destination, protocol and ID (RFC 791), holding its fragments sorted by
 * offset with their IP headers trimmed (the offset-0 fragment keeps a copy
 * of its header). Fragments are joined as a chain when the last hole
 * fills: no copy.
 *
 * Bounds: at most nc_frag_dgrams datagrams and nc_frag_bytes of buffer
 * memory (true size, so a flood of tiny fragments counts for what it
 * pins) in reassembly; to make room the oldest datagram is dropped. A
 * datagram not complete after nc_frag_ttl_ms is dropped, with an ICMP
 * time-exceeded if its first fragment came (RFC 1122 3.3.2).
 *
 * Policy: an exact duplicate fragment is dropped alone; any other overlap
 * drops the whole datagram (as RFC 5722 does for IPv6: overlaps are only
 * ever made by attackers evading filters). A datagram longer than 65535
 * bytes, a non-last fragment whose length is not a multiple of 8, an empty
 * fragment, and last fragments that disagree drop the datagram too.
 */
#include "netstack/ns_internal.h"

struct nb *ns_ip_reass(struct ns *ns, struct nb *pkt, uint32_t hlen);
void ns_frag_init(struct ns *ns);
void ns_frag_fini(struct ns *ns);

/* fq_first keeps the first fragment's header here (nb_aux: its length). */

static void frag_timer(struct ns *ns, void *arg);

void
ns_frag_init(struct ns *ns)
{
	TAILQ_INIT(&ns->ns_fragqs);
	ns_timer_init(&ns->ns_frag_timer, frag_timer, NULL);
}

static void
frag_free(struct ns *ns, struct ip_fragq *fq)
{
	TAILQ_REMOVE(&ns->ns_fragqs, fq, fq_link);
	ns->ns_nfragq--;
	ns->ns_frag_bytes -= fq->fq_truesize;
	nb_freeq(fq->fq_frags);
	nb_freem(fq->fq_first);
	ns_free(ns, fq, sizeof(*fq));
}

void
ns_frag_fini(struct ns *ns)
{
	struct ip_fragq *fq;

	ns_timer_stop(ns, &ns->ns_frag_timer);
	while ((fq = TAILQ_FIRST(&ns->ns_fragqs)) != NULL)
		frag_free(ns, fq);
}

static void
frag_schedule(struct ns *ns)
{
	struct ip_fragq *fq = TAILQ_FIRST(&ns->ns_fragqs);

	if (fq == NULL)
		ns_timer_stop(ns, &ns->ns_frag_timer);
	else if (!ns_timer_armed(&ns->ns_frag_timer) ||
	    ns->ns_frag_timer.tm_when != fq->fq_expire)
		ns_timer_arm(ns, &ns->ns_frag_timer, fq->fq_expire);
}

static void
frag_timer(struct ns *ns, void *arg)
{
	struct ip_fragq *fq;
	struct ip_info ii;

	while ((fq = TAILQ_FIRST(&ns->ns_fragqs)) != NULL &&
	    fq->fq_expire <= ns->ns_now) {
		ns->ns_stats.ip_frag_timeout++;
		if (fq->fq_first != NULL) {
			memset(&ii, 0, sizeof(ii));
			ii.ii_src = fq->fq_src;
			ii.ii_dst = fq->fq_dst;
			ii.ii_proto = fq->fq_proto;
			ii.ii_hlen = (uint16_t)fq->fq_first->nb_aux;
			ii.ii_len =
			    (uint16_t)(nb_pktlen(fq->fq_first) - ii.ii_hlen);
			ns_icmp_error(ns, fq->fq_first, &ii, ICMP_TIMXCEED,
			    ICMP_TIMXCEED_REASS, 0);
		}
		frag_free(ns, fq);
	}
	frag_schedule(ns);
}

static struct ip_fragq *
frag_lookup(struct ns *ns, const struct ip_hdr *ip)
{
	struct ip_fragq *fq;
	uint32_t src = ns_ntoh32(ip->ip_src), dst = ns_ntoh32(ip->ip_dst);
	uint16_t id = ns_ntoh16(ip->ip_id);

	TAILQ_FOREACH (fq, &ns->ns_fragqs, fq_link) {
		if (fq->fq_src == src && fq->fq_dst == dst && fq->fq_id == id &&
		    fq->fq_proto == ip->ip_p)
			return fq;
	}
	return NULL;
}

static struct ip_fragq *
frag_new(struct ns *ns, const struct ip_hdr *ip)
{
	struct ip_fragq *fq;

	if (ns->ns_nfragq >= ns->ns_cfg.nc_frag_dgrams) {
		ns->ns_stats.ip_frag_evict++;
		frag_free(ns, TAILQ_FIRST(&ns->ns_fragqs));
	}
	if ((fq = ns_zalloc(ns, sizeof(*fq))) == NULL)
		return NULL;
	fq->fq_src = ns_ntoh32(ip->ip_src);
	fq->fq_dst = ns_ntoh32(ip->ip_dst);
	fq->fq_id = ns_ntoh16(ip->ip_id);
	fq->fq_proto = ip->ip_p;
	fq->fq_expire = ns->ns_now + (uint64_t)ns->ns_cfg.nc_frag_ttl_ms * 1000;
	TAILQ_INSERT_TAIL(&ns->ns_fragqs, fq, fq_link);
	ns->ns_nfragq++;
	frag_schedule(ns);
	return fq;
}

/*
 * Puts a fragment (offset nb_seq, header trimmed) in order. Returns 0,
 * 1 for an exact duplicate (dropped by the caller), -1 for an overlap.
 */
static int
frag_insert(struct ip_fragq *fq, struct nb *f)
{
	uint32_t off = f->nb_seq, end = off + nb_pktlen(f);
	struct nb **pp, *p;

	for (pp = &fq->fq_frags; (p = *pp) != NULL; pp = &p->nb_nextpkt) {
		uint32_t poff = p->nb_seq, pend = poff + nb_pktlen(p);

		if (poff == off && pend == end)
			return 1;
		if (off < pend && poff < end)
			return -1;
		if (poff > off)
			break;
	}
	f->nb_nextpkt = *pp;
	*pp = f;
	return 0;
}

/* Joins the fragments behind the first's header, fixes the header. */
static struct nb *
frag_join(struct ns *ns, struct ip_fragq *fq)
{
	struct nb *h = fq->fq_first, *f, *next;
	uint32_t hlen = h->nb_aux;
	struct ip_hdr *ip;

	nb_adj(h, -(int32_t)(nb_pktlen(h) - hlen));
	for (f = fq->fq_frags; f != NULL; f = next) {
		next = f->nb_nextpkt;
		nb_cat(h, f);
	}
	fq->fq_frags = NULL;
	fq->fq_first = NULL;
	ip = (struct ip_hdr *)h->nb_data;
	ip->ip_len = ns_hton16((uint16_t)(hlen + fq->fq_total));
	ip->ip_off = 0;
	ip->ip_sum = 0;
	ip->ip_sum = ns_cksum(ip, hlen);
	h->nb_flags &= ~NB_RX_CSUM_OK;
	frag_free(ns, fq);
	ns->ns_stats.ip_frag_ok++;
	return h;
}

/* Keeps memory under the bound by dropping the oldest others. */
static bool
frag_fits(struct ns *ns, struct ip_fragq *keep)
{
	struct ip_fragq *fq, *next;

	for (fq = TAILQ_FIRST(&ns->ns_fragqs);
	     fq != NULL && ns->ns_frag_bytes > ns->ns_cfg.nc_frag_bytes;
	     fq = next) {
		next = TAILQ_NEXT(fq, fq_link);
		if (fq == keep)
			continue;
		ns->ns_stats.ip_frag_evict++;
		frag_free(ns, fq);
	}
	return ns->ns_frag_bytes <= ns->ns_cfg.nc_frag_bytes;
}

/* Sanity of one fragment against what the datagram already has. */
static uint64_t *
frag_check(struct ns *ns, struct ip_fragq *fq, uint32_t off, uint32_t len,
    bool mf)
{
	struct nb *p;

	if (!mf && fq->fq_have_last && fq->fq_total != off + len)
		return &ns->ns_stats.ip_frag_bad;
	if (mf && fq->fq_have_last && off + len > fq->fq_total)
		return &ns->ns_stats.ip_frag_bad;
	if (!mf)
		for (p = fq->fq_frags; p != NULL; p = p->nb_nextpkt)
			if (p->nb_seq + nb_pktlen(p) > off + len)
				return &ns->ns_stats.ip_frag_bad;
	return NULL;
}

struct nb *
ns_ip_reass(struct ns *ns, struct nb *pkt, uint32_t hlen)
{
	struct ns_stats *st = &ns->ns_stats;
	struct ip_hdr ip;
	struct ip_fragq *fq;
	uint32_t off, len, ts;
	uint64_t *bad;
	bool mf;
	int r;

	st->ip_frag_rx++;
	memcpy(&ip, pkt->nb_data, sizeof(ip));
	off = (uint32_t)(ns_ntoh16(ip.ip_off) & IP_OFFMASK) * 8;
	mf = (ns_ntoh16(ip.ip_off) & IP_MF) != 0;
	len = ns_ntoh16(ip.ip_len) - hlen;
	if (len == 0 || (mf && (len & 7) != 0)) {
		st->ip_frag_bad++;
		goto drop;
	}
	if (off + len + hlen > IP_MAXPACKET) {
		st->ip_frag_toobig++;
		if ((fq = frag_lookup(ns, &ip)) != NULL)
			frag_free(ns, fq);
		goto drop;
	}
	if ((fq = frag_lookup(ns, &ip)) == NULL &&
	    (fq = frag_new(ns, &ip)) == NULL) {
		st->ip_frag_nomem++;
		goto drop;
	}
	if ((bad = frag_check(ns, fq, off, len, mf)) != NULL) {
		(*bad)++;
		goto dropq;
	}
	if (off == 0 && fq->fq_first == NULL) {
		/* Keep the header and 8 bytes for ICMP and the join. */
		fq->fq_first = nb_copy(&ns->ns_pool, pkt, 0,
		    NS_MIN(nb_pktlen(pkt), hlen + 8), NB_MAXHDR);
		if (fq->fq_first == NULL) {
			st->ip_frag_nomem++;
			goto dropq;
		}
		fq->fq_first->nb_aux = hlen;
		ts = nb_truesize(fq->fq_first);
		fq->fq_truesize += ts;
		ns->ns_frag_bytes += ts;
	}
	nb_adj(pkt, (int32_t)hlen);
	pkt->nb_seq = off;
	if ((r = frag_insert(fq, pkt)) != 0) {
		if (r > 0) {
			st->ip_frag_dup++;
			goto drop;
		}
		st->ip_frag_overlap++;
		goto dropq;
	}
	ts = nb_truesize(pkt);
	fq->fq_truesize += ts;
	ns->ns_frag_bytes += ts;
	fq->fq_got += len;
	if (!mf) {
		fq->fq_have_last = 1;
		fq->fq_total = off + len;
	}
	if (!frag_fits(ns, fq)) {
		st->ip_frag_nomem++;
		frag_free(ns, fq);
		frag_schedule(ns);
		return NULL;
	}
	if (fq->fq_have_last && fq->fq_got == fq->fq_total &&
	    fq->fq_first != NULL) {
		pkt = frag_join(ns, fq);
		frag_schedule(ns);
		return pkt;
	}
	return NULL;

dropq:
	frag_free(ns, fq);
	frag_schedule(ns);
drop:
	nb_freem(pkt);
	return NULL;
}
