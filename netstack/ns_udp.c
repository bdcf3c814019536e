/*
 * ns_udp.c: UDP (RFC 768, RFC 1122 4.1).
 *
 * Input: the header must be there, its length at least 8 and at most the
 * IP payload (a shorter one trims the payload), and the checksum right
 * unless it is 0 (none, allowed over IPv4) or the device checked it. A
 * datagram for a bound port is queued on its socket, up to the socket's
 * buffer (true size); otherwise port unreachable is sent (not for
 * broadcasts). Sockets are few in a unikernel appliance: a list.
 *
 * Output: one datagram per call, fragmented by IP when bigger than the
 * MTU; the checksum is left to the device when it can and the datagram is
 * not fragmented.
 */
#include "netstack/ns_internal.h"

#define UDP_EPHEMERAL_LO 49152u
#define UDP_MAXDATA	 (IP_MAXPACKET - IP_HLEN_MIN - 8)

static struct ns_udp *
udp_lookup(struct ns *ns, uint32_t addr, uint16_t port)
{
	struct ns_udp *u;

	TAILQ_FOREACH (u, &ns->ns_udps, u_link) {
		if (u->u_lport == port &&
		    (u->u_laddr == 0 || u->u_laddr == addr))
			return u;
	}
	return NULL;
}

void
ns_udp_input(struct ns *ns, struct nb *pkt, const struct ip_info *ii)
{
	struct ns_stats *st = &ns->ns_stats;
	struct udp_hdr uh;
	struct ns_udp *u;
	uint32_t ulen, ts;

	st->udp_rx++;
	if (ii->ii_len < sizeof(uh) ||
	    nb_copydata(pkt, ii->ii_hlen, sizeof(uh), &uh) != 0) {
		st->udp_rx_short++;
		goto drop;
	}
	ulen = ns_ntoh16(uh.uh_ulen);
	if (ulen < sizeof(uh) || ulen > ii->ii_len) {
		st->udp_rx_badlen++;
		goto drop;
	}
	if (ulen < ii->ii_len)
		nb_adj(pkt, -(int32_t)(ii->ii_len - ulen));
	if (uh.uh_sum != 0 && !(pkt->nb_flags & NB_RX_CSUM_OK) &&
	    ns_sum_fold(ns_sum_chain(pkt, ii->ii_hlen, ulen,
		ns_sum_pseudo(ii->ii_src, ii->ii_dst, IP_PROTO_UDP, ulen))) !=
		0xffff) {
		st->udp_rx_badsum++;
		goto drop;
	}
	if ((u = udp_lookup(ns, ii->ii_dst, ns_ntoh16(uh.uh_dport))) == NULL) {
		st->udp_rx_noport++;
		ns_icmp_error(ns, pkt, ii, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
		goto drop;
	}
	ts = nb_truesize(pkt);
	if (u->u_rcvq_bytes + ts > ns->ns_cfg.nc_udp_rcvbuf) {
		st->udp_rx_full++;
		goto drop;
	}
	nb_adj(pkt, (int32_t)(ii->ii_hlen + sizeof(uh)));
	pkt->nb_seq = ii->ii_src;
	pkt->nb_aux = ns_ntoh16(uh.uh_sport);
	pkt->nb_nextpkt = NULL;
	if (u->u_rcvq == NULL)
		u->u_rcvq = pkt;
	else
		u->u_rcvq_tail->nb_nextpkt = pkt;
	u->u_rcvq_tail = pkt;
	u->u_rcvq_bytes += ts;
	ns_upcall(u->u_upcall, u->u_upcall_arg, NS_EV_READ);
	return;
drop:
	nb_freem(pkt);
}

void
ns_udp_ctlinput(struct ns *ns, uint8_t type, uint8_t code,
    const struct ip_hdr *ip, const uint8_t *l4, uint32_t l4len)
{
	/* Unconnected sockets have nobody to tell. */
}

int
ns_udp_open(struct ns *ns, struct ns_udp **up)
{
	struct ns_udp *u;

	ns_enter(ns);
	if ((u = ns_zalloc(ns, sizeof(*u))) == NULL)
		return -ENOMEM;
	u->u_ns = ns;
	TAILQ_INSERT_TAIL(&ns->ns_udps, u, u_link);
	*up = u;
	return 0;
}

static int
udp_ephemeral(struct ns *ns, uint32_t addr, uint16_t *port)
{
	uint32_t i, span = 65536u - UDP_EPHEMERAL_LO;
	uint16_t p;

	for (i = 0; i < span; i++) {
		p = (uint16_t)(UDP_EPHEMERAL_LO +
		    (ns->ns_udp_port++ + ns_random32(ns) % 8) % span);
		if (udp_lookup(ns, addr, p) == NULL) {
			*port = p;
			return 0;
		}
	}
	return -EADDRINUSE;
}

int
ns_udp_bind(struct ns_udp *u, uint32_t addr, uint16_t port)
{
	struct ns *ns = u->u_ns;
	struct ns_udp *o;
	int err;

	ns_enter(ns);
	if (u->u_lport != 0)
		return -EINVAL;
	if (addr != 0 && !ns_ip_is_local(ns, addr))
		return -EADDRNOTAVAIL;
	if (port == 0 && (err = udp_ephemeral(ns, addr, &port)) != 0)
		return err;
	TAILQ_FOREACH (o, &ns->ns_udps, u_link) {
		if (o != u && o->u_lport == port &&
		    (o->u_laddr == 0 || addr == 0 || o->u_laddr == addr))
			return -EADDRINUSE;
	}
	u->u_laddr = addr;
	u->u_lport = port;
	return 0;
}

static int
udp_build(struct ns *ns, struct ns_udp *u, uint32_t src, uint32_t dst,
    uint16_t dport, const void *buf, size_t len, struct nb **out)
{
	uint32_t ulen = (uint32_t)len + 8;
	struct udp_hdr *uh;
	struct nb *nb;

	if ((nb = nb_get(&ns->ns_pool, NB_MAXHDR)) == NULL)
		return -ENOBUFS;
	uh = (struct udp_hdr *)nb->nb_data;
	nb->nb_len = nb->nb_pktlen = sizeof(*uh);
	if (len > 0 && nb_append(nb, buf, (uint32_t)len) != 0) {
		nb_freem(nb);
		return -ENOBUFS;
	}
	uh->uh_sport = ns_hton16(u->u_lport);
	uh->uh_dport = ns_hton16(dport);
	uh->uh_ulen = ns_hton16((uint16_t)ulen);
	uh->uh_sum = ns_sum_fold(ns_sum_pseudo(src, dst, IP_PROTO_UDP, ulen));
	if ((ns->ns_nif->nif_caps & NETIF_CAP_TXCSUM) &&
	    ulen + IP_HLEN_MIN <= ns_ip_mtu(ns, dst)) {
		nb->nb_flags |= NB_TX_CSUM;
		nb->nb_csum_start = 0;
		nb->nb_csum_off = 6;
	} else {
		uh->uh_sum =
		    (uint16_t)~ns_sum_fold(ns_sum_chain(nb, 0, ulen, 0));
		if (uh->uh_sum == 0)
			uh->uh_sum = 0xffff;
	}
	*out = nb;
	return 0;
}

int
ns_udp_sendto(struct ns_udp *u, uint32_t dst, uint16_t dport, const void *buf,
    size_t len)
{
	struct ns *ns = u->u_ns;
	uint32_t src;
	struct nb *nb;
	int err;

	ns_enter(ns);
	if (len > UDP_MAXDATA)
		return -EMSGSIZE;
	if (dport == 0 || dst == 0)
		return -EINVAL;
	if (u->u_lport == 0 && (err = ns_udp_bind(u, 0, 0)) != 0)
		return err;
	src = u->u_laddr != 0 ? u->u_laddr : ns_ip_source(ns, dst);
	if (src == 0 && !ns_ip_is_bcast(ns, dst))
		return -EADDRNOTAVAIL;
	if ((err = udp_build(ns, u, src, dst, dport, buf, len, &nb)) != 0) {
		ns->ns_stats.eth_nobufs++;
		return err;
	}
	ns->ns_stats.udp_tx++;
	return ns_ip_output(ns, nb, src, dst, IP_PROTO_UDP, 0);
}

int
ns_udp_peek(struct ns_udp *u, void *buf, size_t len, uint32_t *src,
    uint16_t *sport)
{
	struct nb *d = u->u_rcvq;
	uint32_t n;

	ns_enter(u->u_ns);
	if (d == NULL)
		return -EAGAIN;
	n = (uint32_t)NS_MIN((size_t)nb_pktlen(d), len);
	nb_copydata(d, 0, n, buf);
	if (src != NULL)
		*src = d->nb_seq;
	if (sport != NULL)
		*sport = (uint16_t)d->nb_aux;
	return (int)n;
}

int
ns_udp_recvfrom(struct ns_udp *u, void *buf, size_t len, uint32_t *src,
    uint16_t *sport)
{
	int n = ns_udp_peek(u, buf, len, src, sport);
	struct nb *d = u->u_rcvq;

	if (n < 0)
		return n;
	u->u_rcvq = d->nb_nextpkt;
	d->nb_nextpkt = NULL;
	u->u_rcvq_bytes -= nb_truesize(d);
	nb_freem(d);
	return n;
}

void
ns_udp_set_upcall(struct ns_udp *u, ns_upcall_t fn, void *arg)
{
	u->u_upcall = fn;
	u->u_upcall_arg = arg;
}

unsigned
ns_udp_events(const struct ns_udp *u)
{
	return NS_EV_WRITE | (u->u_rcvq != NULL ? NS_EV_READ : 0);
}

void
ns_udp_close(struct ns_udp *u)
{
	struct ns *ns = u->u_ns;

	TAILQ_REMOVE(&ns->ns_udps, u, u_link);
	nb_freeq(u->u_rcvq);
	ns_free(ns, u, sizeof(*u));
}

void
ns_udp_fini(struct ns *ns)
{
	struct ns_udp *u;

	while ((u = TAILQ_FIRST(&ns->ns_udps)) != NULL)
		ns_udp_close(u);
}
