/*
 * ns_ip.c: IPv4 input and output (RFC 791, RFC 1122).
 *
 * Input checks, in order, before anything reads past them: the header is
 * there (20 bytes), version 4, IHL at least 5 and inside the packet, the
 * total length at least the header and at most the frame (a longer frame
 * is Ethernet padding and is trimmed), the header checksum, the source
 * (not multicast, broadcast, loopback, zero, or our own address: a land
 * packet), the destination (ours or a broadcast; anything while we have
 * no address, for DHCP), and options: each must have a length of at least
 * 2 that stays inside the header; source-route options are refused (we
 * are not a router and honouring them would bypass filtering). Fragments
 * go to reassembly (ns_frag.c). The transport gets the packet with the IP
 * header still in front and a struct ip_info describing it.
 *
 * Output prepends a 20-byte header (no options), routes to the subnet or
 * the gateway, and fragments datagrams bigger than the MTU unless DF is
 * set (then -EMSGSIZE: TCP uses DF and path MTU discovery).
 */
#include "netstack/ns_internal.h"

struct nb *ns_ip_reass(struct ns *ns, struct nb *pkt, uint32_t hlen);
void ns_frag_init(struct ns *ns);
void ns_frag_fini(struct ns *ns);

void
ns_ip_init(struct ns *ns)
{
	ns->ns_ip_id = (uint16_t)ns_random32(ns);
	ns_frag_init(ns);
}

void
ns_ip_fini(struct ns *ns)
{
	ns_frag_fini(ns);
}

static bool
ip_martian_src(const struct ns *ns, uint32_t src)
{
	return src == 0 || (src >> 24) == 127 || (src >> 28) >= 14 ||
	    ns_ip_is_bcast(ns, src);
}

/* Options: each well formed, none a source route. */
static bool
ip_options_ok(const uint8_t *o, uint32_t len)
{
	uint32_t i = 0, olen;

	while (i < len) {
		if (o[i] == IPOPT_EOL)
			break;
		if (o[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return false;
		olen = o[i + 1];
		if (olen < 2 || olen > len - i)
			return false;
		if (o[i] == IPOPT_LSRR || o[i] == IPOPT_SSRR)
			return false;
		i += olen;
	}
	return true;
}

/* Validates the header; fills ii; 0 or a counter to bump. */
static uint64_t *
ip_check(struct ns *ns, struct nb **pktp, struct ip_info *ii)
{
	struct ns_stats *st = &ns->ns_stats;
	struct ip_hdr *ip;
	uint32_t hlen, tot, len = nb_pktlen(*pktp);

	if (len < IP_HLEN_MIN)
		return &st->ip_rx_short;
	if ((ip = nb_pullup(pktp, IP_HLEN_MIN)) == NULL)
		return &st->eth_nobufs;
	if ((ip->ip_vhl >> 4) != 4)
		return &st->ip_rx_badver;
	hlen = (uint32_t)(ip->ip_vhl & 0x0f) * 4;
	if (hlen < IP_HLEN_MIN || hlen > len)
		return &st->ip_rx_badhlen;
	if ((ip = nb_pullup(pktp, hlen)) == NULL)
		return &st->eth_nobufs;
	tot = ns_ntoh16(ip->ip_len);
	if (tot < hlen || tot > len)
		return &st->ip_rx_badlen;
	if (ns_cksum(ip, hlen) != 0)
		return &st->ip_rx_badsum;
	ii->ii_src = ns_ntoh32(ip->ip_src);
	ii->ii_dst = ns_ntoh32(ip->ip_dst);
	ii->ii_proto = ip->ip_p;
	ii->ii_ttl = ip->ip_ttl;
	ii->ii_tos = ip->ip_tos;
	ii->ii_hlen = (uint16_t)hlen;
	ii->ii_len = (uint16_t)(tot - hlen);
	ii->ii_bcast = ns_ip_is_bcast(ns, ii->ii_dst);
	if (ii->ii_src == ii->ii_dst || ns_ip_is_local(ns, ii->ii_src))
		return &st->ip_rx_land;
	if (ip_martian_src(ns, ii->ii_src))
		return &st->ip_rx_martian;
	if (!ns_ip_is_local(ns, ii->ii_dst) && !ii->ii_bcast &&
	    !(ns->ns_cfg.nc_addr == 0 && ii->ii_proto == IP_PROTO_UDP))
		return &st->ip_rx_notme;
	if (hlen > IP_HLEN_MIN &&
	    !ip_options_ok((const uint8_t *)(ip + 1), hlen - IP_HLEN_MIN))
		return &st->ip_rx_badopt;
	if (len > tot)
		nb_adj(*pktp, -(int32_t)(len - tot));
	return NULL;
}

/* With several instances: does a reassembled datagram belong here? */
static bool
ip_foreign(struct ns *ns, struct nb *pkt, const struct ip_info *ii)
{
	const struct ns_config *c = &ns->ns_cfg;
	uint16_t ports[2];

	if (c->nc_ncpu <= 1 || c->nc_foreign == NULL ||
	    (ii->ii_proto != IP_PROTO_TCP && ii->ii_proto != IP_PROTO_UDP) ||
	    nb_copydata(pkt, ii->ii_hlen, 4, ports) != 0)
		return false;
	return ns_rss_hash4(ns->ns_rss_key, ii->ii_src, ii->ii_dst,
		   ns_ntoh16(ports[0]), ns_ntoh16(ports[1])) %
	    c->nc_ncpu !=
	    c->nc_cpu;
}

void
ns_ip_input(struct ns *ns, struct nb *pkt)
{
	struct ns_stats *st = &ns->ns_stats;
	struct ip_info ii;
	struct ip_hdr *ip;
	uint64_t *bad;

	st->ip_rx++;
	if ((bad = ip_check(ns, &pkt, &ii)) != NULL) {
		(*bad)++;
		nb_freem(pkt);
		return;
	}
	ip = (struct ip_hdr *)pkt->nb_data;
	if (ns_ntoh16(ip->ip_off) & (IP_MF | IP_OFFMASK)) {
		if ((pkt = ns_ip_reass(ns, pkt, ii.ii_hlen)) == NULL)
			return;
		ii.ii_len = (uint16_t)(nb_pktlen(pkt) - ii.ii_hlen);
		if (ip_foreign(ns, pkt, &ii)) {
			st->ip_rx_foreign++;
			ns->ns_cfg.nc_foreign(ns->ns_cfg.nc_foreign_arg, pkt);
			return;
		}
	}
	st->ip_rx_delivered++;
	switch (ii.ii_proto) {
	case IP_PROTO_ICMP:
		ns_icmp_input(ns, pkt, &ii);
		break;
	case IP_PROTO_UDP:
		ns_udp_input(ns, pkt, &ii);
		break;
	case IP_PROTO_TCP:
		ns_tcp_input(ns, pkt, &ii);
		break;
	default:
		st->ip_rx_delivered--;
		st->ip_rx_noproto++;
		ns_icmp_error(ns, pkt, &ii, ICMP_UNREACH, ICMP_UNREACH_PROTO,
		    0);
		nb_freem(pkt);
		break;
	}
}

/* ---------------------------------------------------------------- */
/* Output                                                           */
/* ---------------------------------------------------------------- */

uint32_t
ns_ip_source(const struct ns *ns, uint32_t dst)
{
	return ns->ns_cfg.nc_addr;
}

uint32_t
ns_ip_mtu(const struct ns *ns, uint32_t dst)
{
	return ns->ns_nif->nif_mtu;
}

static int
ip_nexthop(struct ns *ns, uint32_t dst, uint32_t *hop)
{
	const struct ns_config *c = &ns->ns_cfg;

	if (ns_ip_is_bcast(ns, dst) ||
	    (c->nc_addr != 0 &&
		(dst & c->nc_netmask) == (c->nc_addr & c->nc_netmask))) {
		*hop = dst;
		return 0;
	}
	if (c->nc_gateway == 0)
		return -ENETUNREACH;
	*hop = c->nc_gateway;
	return 0;
}

static void
ip_fill(struct ns *ns, struct ip_hdr *ip, uint32_t len, uint16_t id,
    uint16_t off, uint8_t proto, uint32_t src, uint32_t dst)
{
	ip->ip_vhl = 0x45;
	ip->ip_tos = 0;
	ip->ip_len = ns_hton16((uint16_t)len);
	ip->ip_id = ns_hton16(id);
	ip->ip_off = ns_hton16(off);
	ip->ip_ttl = IP_DEFTTL;
	ip->ip_p = proto;
	ip->ip_sum = 0;
	ip->ip_src = ns_hton32(src);
	ip->ip_dst = ns_hton32(dst);
	ip->ip_sum = ns_cksum(ip, sizeof(*ip));
}

/* Completes an offloaded L4 checksum in software (before fragmenting). */
static void
ip_csum_finish(struct nb *pkt)
{
	uint32_t start = pkt->nb_csum_start, at = start + pkt->nb_csum_off;
	uint16_t c;

	if (pkt->nb_len < at + 2)
		return; /* the L4 header is always in the first segment */
	c = (uint16_t)~ns_sum_fold(
	    ns_sum_chain(pkt, start, nb_pktlen(pkt) - start, 0));
	if (c == 0 && pkt->nb_csum_off == 6) /* UDP: 0 means none */
		c = 0xffff;
	memcpy(pkt->nb_data + at, &c, 2);
	pkt->nb_flags &= ~NB_TX_CSUM;
}

static int
ip_fragment(struct ns *ns, struct nb *pkt, uint32_t src, uint32_t dst,
    uint8_t proto, uint32_t hop, uint32_t mtu)
{
	uint32_t len = nb_pktlen(pkt), per = (mtu - IP_HLEN_MIN) & ~7u, off;
	uint16_t id = ns->ns_ip_id++;
	struct ip_hdr *ip;
	struct nb *f;
	int err = 0;

	if (pkt->nb_flags & NB_TX_CSUM)
		ip_csum_finish(pkt);
	for (off = 0; off < len && err == 0; off += per) {
		uint32_t n = NS_MIN(per, len - off);

		if ((f = nb_ref(&ns->ns_pool, pkt, off, n)) == NULL ||
		    (ip = nb_prepend(&f, IP_HLEN_MIN)) == NULL) {
			nb_freem(f);
			ns->ns_stats.eth_nobufs++;
			err = -ENOBUFS;
			break;
		}
		ip_fill(ns, ip, n + IP_HLEN_MIN, id,
		    (uint16_t)((off / 8) | (off + n < len ? IP_MF : 0)), proto,
		    src, dst);
		ns->ns_stats.ip_tx_frags++;
		err = ns_eth_output_ip(ns, f, hop);
	}
	nb_freem(pkt);
	return err;
}

int
ns_ip_output(struct ns *ns, struct nb *pkt, uint32_t src, uint32_t dst,
    uint8_t proto, unsigned flags)
{
	uint32_t hop, mtu = ns_ip_mtu(ns, dst), len = nb_pktlen(pkt);
	struct ip_hdr *ip;
	int err;

	if ((err = ip_nexthop(ns, dst, &hop)) != 0) {
		ns->ns_stats.ip_tx_noroute++;
		nb_freem(pkt);
		return err;
	}
	ns->ns_stats.ip_tx++;
	if (len + IP_HLEN_MIN > mtu && !(pkt->nb_flags & NB_TX_TSO)) {
		if ((flags & NS_IPO_DF) || len + IP_HLEN_MIN > IP_MAXPACKET) {
			ns->ns_stats.ip_tx_toobig++;
			nb_freem(pkt);
			return -EMSGSIZE;
		}
		return ip_fragment(ns, pkt, src, dst, proto, hop, mtu);
	}
	if ((ip = nb_prepend(&pkt, IP_HLEN_MIN)) == NULL) {
		ns->ns_stats.eth_nobufs++;
		nb_freem(pkt);
		return -ENOBUFS;
	}
	ip_fill(ns, ip, NS_MIN(len + IP_HLEN_MIN, IP_MAXPACKET), ns->ns_ip_id++,
	    (flags & NS_IPO_DF) ? IP_DF : 0, proto, src, dst);
	if (pkt->nb_flags & NB_TX_CSUM)
		pkt->nb_csum_start += IP_HLEN_MIN;
	if (pkt->nb_flags & NB_TX_TSO)
		pkt->nb_hdrlen += IP_HLEN_MIN;
	return ns_eth_output_ip(ns, pkt, hop);
}
