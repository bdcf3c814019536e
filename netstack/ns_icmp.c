/*
 * ns_icmp.c: ICMP for IPv4 (RFC 792, RFC 1122 3.2.2, RFC 1191).
 *
 * Input: the whole message must be there and its checksum right. Echo
 * requests to us are answered (not those to a broadcast address: no smurf
 * amplifier). Destination unreachable, time exceeded and parameter
 * problem quote a packet of ours: the quote must hold an IPv4 header we
 * could have sent (our source address) and 8 bytes of transport header;
 * it then goes to TCP or UDP, which check it against a connection (RFC
 * 5927). Fragmentation needed carries the next-hop MTU (RFC 1191).
 * Everything else (redirects, timestamps, router adverts) is ignored.
 *
 * Errors we send (port and protocol unreachable, reassembly time
 * exceeded) follow RFC 1122: never about an ICMP error, a broadcast or
 * multicast, a fragment other than the first, or a source that is not a
 * unicast host; and at most nc_icmp_rate a second (a token bucket).
 */
#include "netstack/ns_internal.h"

static void
icmp_echo(struct ns *ns, struct nb *pkt, const struct ip_info *ii)
{
	struct icmp_hdr *ic;
	struct nb *r;
	uint16_t old, new;

	if (ii->ii_bcast)
		return;
	r = nb_copy(&ns->ns_pool, pkt, ii->ii_hlen, ii->ii_len, NB_MAXHDR);
	if (r == NULL) {
		ns->ns_stats.eth_nobufs++;
		return;
	}
	/* Only the type changes: adjust the sum (RFC 1624). */
	ic = (struct icmp_hdr *)r->nb_data;
	memcpy(&old, ic, 2);
	ic->ic_type = ICMP_ECHOREPLY;
	memcpy(&new, ic, 2);
	ic->ic_sum = ns_cksum_adjust(ic->ic_sum, old, new);
	ns->ns_stats.icmp_tx_echoreply++;
	ns_ip_output(ns, r, ii->ii_dst, ii->ii_src, IP_PROTO_ICMP, 0);
}

/* An error quoting one of our packets: hand it to its transport. */
static void
icmp_error_input(struct ns *ns, struct nb **pktp, const struct ip_info *ii,
    const struct icmp_hdr *ic0)
{
	struct icmp_hdr ic = *ic0;
	const struct ip_hdr *in;
	const uint8_t *p;
	uint32_t at = ii->ii_hlen + sizeof(ic), ihl;

	if (ii->ii_len < sizeof(ic) + IP_HLEN_MIN + 8 ||
	    (p = nb_pullup(pktp, at + IP_HLEN_MIN)) == NULL)
		goto bad;
	in = (const struct ip_hdr *)(p + at);
	ihl = (uint32_t)(in->ip_vhl & 0x0f) * 4;
	if ((in->ip_vhl >> 4) != 4 || ihl < IP_HLEN_MIN ||
	    ii->ii_len < sizeof(ic) + ihl + 8 ||
	    (p = nb_pullup(pktp, at + ihl + 8)) == NULL)
		goto bad;
	in = (const struct ip_hdr *)(p + at);
	if (!ns_ip_is_local(ns, ns_ntoh32(in->ip_src)))
		goto bad;
	if (ic.ic_type == ICMP_UNREACH)
		ns->ns_stats.icmp_rx_unreach++;
	if (ic.ic_type == ICMP_UNREACH && ic.ic_code == ICMP_UNREACH_NEEDFRAG)
		ns->ns_stats.icmp_rx_needfrag++;
	if (in->ip_p == IP_PROTO_TCP)
		ns_tcp_ctlinput(ns, ic.ic_type, ic.ic_code,
		    ns_ntoh16(ic.ic_seq), in, p + at + ihl, 8);
	else if (in->ip_p == IP_PROTO_UDP)
		ns_udp_ctlinput(ns, ic.ic_type, ic.ic_code, in, p + at + ihl,
		    8);
	return;
bad:
	ns->ns_stats.icmp_rx_bad++;
}

void
ns_icmp_input(struct ns *ns, struct nb *pkt, const struct ip_info *ii)
{
	struct ns_stats *st = &ns->ns_stats;
	struct icmp_hdr ic;

	st->icmp_rx++;
	if (ii->ii_len < sizeof(ic)) {
		st->icmp_rx_short++;
		goto out;
	}
	if (ns_sum_fold(ns_sum_chain(pkt, ii->ii_hlen, ii->ii_len, 0)) !=
	    0xffff) {
		st->icmp_rx_badsum++;
		goto out;
	}
	nb_copydata(pkt, ii->ii_hlen, sizeof(ic), &ic);
	switch (ic.ic_type) {
	case ICMP_ECHO:
		st->icmp_rx_echo++;
		icmp_echo(ns, pkt, ii);
		break;
	case ICMP_UNREACH:
	case ICMP_TIMXCEED:
	case ICMP_PARAMPROB:
		icmp_error_input(ns, &pkt, ii, &ic);
		break;
	default:
		break;
	}
out:
	nb_freem(pkt);
}

/* ---------------------------------------------------------------- */
/* Errors we send                                                   */
/* ---------------------------------------------------------------- */

static bool
icmp_may_send(struct ns *ns, const struct nb *pkt, const struct ip_info *ii)
{
	struct ip_hdr ip;
	uint8_t type;

	if (ii->ii_bcast || (ii->ii_dst >> 28) == 14 || ii->ii_src == 0 ||
	    (ii->ii_src >> 28) >= 14 || ns_ip_is_bcast(ns, ii->ii_src) ||
	    ns->ns_cfg.nc_addr == 0)
		return false;
	if (nb_copydata(pkt, 0, sizeof(ip), &ip) != 0 ||
	    (ns_ntoh16(ip.ip_off) & IP_OFFMASK) != 0)
		return false;
	if (ii->ii_proto == IP_PROTO_ICMP) {
		if (nb_copydata(pkt, ii->ii_hlen, 1, &type) != 0)
			return false;
		if (type != ICMP_ECHO && type != ICMP_ECHOREPLY)
			return false;
	}
	return true;
}

static bool
icmp_ratelimit(struct ns *ns)
{
	uint32_t rate = ns->ns_cfg.nc_icmp_rate;
	uint64_t dt = ns->ns_now - ns->ns_icmp_refill, add;

	if (dt >= 1000000 / rate) {
		add = dt * rate / 1000000;
		ns->ns_icmp_tokens = (uint32_t)NS_MIN(
		    (uint64_t)ns->ns_icmp_tokens + add, (uint64_t)rate);
		ns->ns_icmp_refill = ns->ns_now;
	}
	if (ns->ns_icmp_tokens == 0) {
		ns->ns_stats.icmp_ratelimited++;
		return true;
	}
	ns->ns_icmp_tokens--;
	return false;
}

void
ns_icmp_error(struct ns *ns, const struct nb *pkt, const struct ip_info *ii,
    uint8_t type, uint8_t code, uint16_t mtu)
{
	uint8_t quote[ICMP_QUOTE_MAX];
	struct icmp_hdr *ic;
	uint32_t qlen;
	struct nb *r;

	if (!icmp_may_send(ns, pkt, ii) || icmp_ratelimit(ns))
		return;
	qlen = NS_MIN((uint32_t)ii->ii_hlen + 8, nb_pktlen(pkt));
	qlen = NS_MIN(qlen, (uint32_t)ii->ii_hlen + ii->ii_len);
	if (nb_copydata(pkt, 0, qlen, quote) != 0)
		return;
	if ((r = nb_get(&ns->ns_pool, NB_MAXHDR)) == NULL) {
		ns->ns_stats.eth_nobufs++;
		return;
	}
	ic = (struct icmp_hdr *)r->nb_data;
	memset(ic, 0, sizeof(*ic));
	ic->ic_type = type;
	ic->ic_code = code;
	ic->ic_seq = ns_hton16(mtu);
	memcpy(ic + 1, quote, qlen);
	r->nb_len = r->nb_pktlen = (uint32_t)sizeof(*ic) + qlen;
	ic->ic_sum = ns_cksum(ic, r->nb_len);
	if (type == ICMP_UNREACH)
		ns->ns_stats.icmp_tx_unreach++;
	else if (type == ICMP_TIMXCEED)
		ns->ns_stats.icmp_tx_timex++;
	ns_ip_output(ns, r, ns->ns_cfg.nc_addr, ii->ii_src, IP_PROTO_ICMP, 0);
}
