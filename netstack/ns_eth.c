/*
 * ns_eth.c: Ethernet II framing and ARP (RFC 826) for IPv4.
 *
 * Ethernet: frames for our MAC or broadcast are taken; multicast, other
 * MACs, VLAN-tagged and unknown types are counted and dropped.
 *
 * ARP: a bounded cache (nc_arp_entries). An entry is INCOMPLETE while a
 * request is out (up to ARP_HOLD_MAX packets wait on it, the oldest
 * dropped first; three requests a second apart, then the packets are
 * dropped as unreachable) or REACHABLE until nc_arp_ttl_ms after the last
 * reply. An entry still in use when it expires is refreshed by unicast
 * requests rather than dropped, so a busy connection never stalls on it.
 * A full cache evicts its least recently used entry. Learning follows RFC
 * 826's merge rule: a packet updates an entry we have, and creates one
 * only when it is addressed to us. Replies and requests from broadcast or
 * multicast MACs, from our own MAC or for our own address (a conflict)
 * are counted and ignored.
 */
#include "netstack/ns_internal.h"

#define ARP_RETRY_US   1000000u
#define ARP_TRIES      3
#define ARP_REFRESH_US 3000000u

static const uint8_t eth_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff };

/* ---------------------------------------------------------------- */
/* Ethernet                                                         */
/* ---------------------------------------------------------------- */

void
ns_eth_input(struct ns *ns, struct nb *frame)
{
	struct ns_stats *st = &ns->ns_stats;
	struct eth_hdr *eh;
	uint16_t type;

	st->eth_rx++;
	if (nb_pktlen(frame) < ETH_HLEN) {
		st->eth_rx_runt++;
		goto drop;
	}
	if ((eh = nb_pullup(&frame, ETH_HLEN)) == NULL) {
		st->eth_nobufs++;
		goto drop;
	}
	if (memcmp(eh->eh_dst, ns->ns_nif->nif_mac, ETH_ALEN) != 0 &&
	    memcmp(eh->eh_dst, eth_bcast, ETH_ALEN) != 0) {
		st->eth_rx_notme++;
		goto drop;
	}
	type = ns_ntoh16(eh->eh_type);
	nb_adj(frame, ETH_HLEN);
	switch (type) {
	case ETH_TYPE_IPV4:
		ns_ip_input(ns, frame);
		return;
	case ETH_TYPE_ARP:
		ns_arp_input(ns, frame);
		return;
	default:
		st->eth_rx_badtype++;
		break;
	}
drop:
	nb_freem(frame);
}

int
ns_eth_output(struct ns *ns, struct nb *pkt, const uint8_t *dst, uint16_t type)
{
	struct netif *nif = ns->ns_nif;
	struct eth_hdr *eh;
	uint32_t len;
	int err;

	if ((eh = nb_prepend(&pkt, ETH_HLEN)) == NULL) {
		ns->ns_stats.eth_nobufs++;
		nb_freem(pkt);
		return -ENOBUFS;
	}
	memcpy(eh->eh_dst, dst, ETH_ALEN);
	memcpy(eh->eh_src, nif->nif_mac, ETH_ALEN);
	eh->eh_type = ns_hton16(type);
	if (pkt->nb_flags & NB_TX_CSUM) {
		pkt->nb_csum_start += ETH_HLEN;
		nif->nif_stats.ns_tx_csum++;
	}
	if (pkt->nb_flags & NB_TX_TSO) {
		pkt->nb_hdrlen += ETH_HLEN;
		nif->nif_stats.ns_tx_tso++;
	}
	len = nb_pktlen(pkt);
	if ((err = nif->nif_ops->nio_transmit(nif, pkt)) != 0) {
		ns->ns_stats.eth_tx_err++;
		nif->nif_stats.ns_tx_errors++;
		return err;
	}
	ns->ns_stats.eth_tx++;
	nif->nif_stats.ns_tx_frames++;
	nif->nif_stats.ns_tx_bytes += len;
	return 0;
}

int
ns_eth_output_ip(struct ns *ns, struct nb *pkt, uint32_t nexthop)
{
	if (ns_ip_is_bcast(ns, nexthop))
		return ns_eth_output(ns, pkt, eth_bcast, ETH_TYPE_IPV4);
	return ns_arp_resolve(ns, pkt, nexthop);
}

/* ---------------------------------------------------------------- */
/* ARP cache                                                        */
/* ---------------------------------------------------------------- */

static void arp_timer(struct ns *ns, void *arg);

int
ns_arp_init(struct ns *ns)
{
	ns->ns_narp = ns->ns_cfg.nc_arp_entries;
	ns->ns_arp = ns_zalloc(ns, ns->ns_narp * sizeof(*ns->ns_arp));
	if (ns->ns_arp == NULL)
		return -ENOMEM;
	ns_timer_init(&ns->ns_arp_timer, arp_timer, NULL);
	return 0;
}

static void
arp_clear(struct ns *ns, struct arp_entry *e)
{
	nb_freeq(e->ae_hold);
	memset(e, 0, sizeof(*e));
}

void
ns_arp_fini(struct ns *ns)
{
	uint32_t i;

	ns_timer_stop(ns, &ns->ns_arp_timer);
	for (i = 0; i < ns->ns_narp; i++)
		arp_clear(ns, &ns->ns_arp[i]);
	ns_free(ns, ns->ns_arp, ns->ns_narp * sizeof(*ns->ns_arp));
	ns->ns_arp = NULL;
}

static struct arp_entry *
arp_lookup(struct ns *ns, uint32_t ip)
{
	uint32_t i;

	for (i = 0; i < ns->ns_narp; i++)
		if (ns->ns_arp[i].ae_state != ARP_FREE &&
		    ns->ns_arp[i].ae_ip == ip)
			return &ns->ns_arp[i];
	return NULL;
}

/* A free entry, or the least recently used one emptied. */
static struct arp_entry *
arp_alloc(struct ns *ns, uint32_t ip)
{
	struct arp_entry *e, *lru = NULL;
	uint32_t i;

	for (i = 0; i < ns->ns_narp; i++) {
		e = &ns->ns_arp[i];
		if (e->ae_state == ARP_FREE)
			goto found;
		if (lru == NULL || e->ae_used < lru->ae_used)
			lru = e;
	}
	e = lru;
	ns->ns_stats.arp_evict++;
	ns->ns_stats.arp_hold_drop += e->ae_nhold;
	arp_clear(ns, e);
found:
	e->ae_ip = ip;
	e->ae_used = ns->ns_now;
	return e;
}

static void
arp_schedule(struct ns *ns)
{
	uint64_t next = UINT64_MAX;
	uint32_t i;

	for (i = 0; i < ns->ns_narp; i++)
		if (ns->ns_arp[i].ae_state != ARP_FREE &&
		    ns->ns_arp[i].ae_expire < next)
			next = ns->ns_arp[i].ae_expire;
	if (next == UINT64_MAX)
		ns_timer_stop(ns, &ns->ns_arp_timer);
	else
		ns_timer_arm(ns, &ns->ns_arp_timer, next);
}

static int
arp_send(struct ns *ns, uint16_t op, const uint8_t *tha, uint32_t tpa,
    const uint8_t *edst)
{
	struct arp_pkt *ap;
	struct nb *nb;

	if ((nb = nb_get(&ns->ns_pool, NB_MAXHDR)) == NULL) {
		ns->ns_stats.eth_nobufs++;
		return -ENOBUFS;
	}
	ap = (struct arp_pkt *)nb->nb_data;
	nb->nb_len = nb->nb_pktlen = sizeof(*ap);
	ap->ap_hrd = ns_hton16(ARP_HRD_ETHER);
	ap->ap_pro = ns_hton16(ETH_TYPE_IPV4);
	ap->ap_hln = ETH_ALEN;
	ap->ap_pln = 4;
	ap->ap_op = ns_hton16(op);
	memcpy(ap->ap_sha, ns->ns_nif->nif_mac, ETH_ALEN);
	ap->ap_spa = ns_hton32(ns->ns_cfg.nc_addr);
	if (tha != NULL)
		memcpy(ap->ap_tha, tha, ETH_ALEN);
	else
		memset(ap->ap_tha, 0, ETH_ALEN);
	ap->ap_tpa = ns_hton32(tpa);
	if (op == ARP_OP_REQUEST)
		ns->ns_stats.arp_tx_request++;
	else
		ns->ns_stats.arp_tx_reply++;
	return ns_eth_output(ns, nb, edst, ETH_TYPE_ARP);
}

static void
arp_timer(struct ns *ns, void *arg)
{
	struct arp_entry *e;
	uint32_t i;

	for (i = 0; i < ns->ns_narp; i++) {
		e = &ns->ns_arp[i];
		if (e->ae_state == ARP_FREE || e->ae_expire > ns->ns_now)
			continue;
		if (e->ae_state == ARP_INCOMPLETE && e->ae_tries < ARP_TRIES) {
			e->ae_tries++;
			e->ae_expire = ns->ns_now + ARP_RETRY_US;
			arp_send(ns, ARP_OP_REQUEST, NULL, e->ae_ip, eth_bcast);
		} else if (e->ae_state == ARP_INCOMPLETE) {
			ns->ns_stats.arp_unresolved++;
			ns->ns_stats.arp_hold_drop += e->ae_nhold;
			arp_clear(ns, e);
		} else if (e->ae_used +
			    (uint64_t)ns->ns_cfg.nc_arp_ttl_ms * 500 >
			ns->ns_now &&
		    e->ae_tries < ARP_TRIES) {
			/* In use: ask the owner directly, keep using it. */
			e->ae_tries++;
			e->ae_expire = ns->ns_now + ARP_REFRESH_US;
			arp_send(ns, ARP_OP_REQUEST, NULL, e->ae_ip, e->ae_mac);
		} else {
			ns->ns_stats.arp_expired++;
			arp_clear(ns, e);
		}
	}
	arp_schedule(ns);
}

/* A reply for e arrived: it is reachable; send what waited. */
static void
arp_resolved(struct ns *ns, struct arp_entry *e, const uint8_t *mac)
{
	struct nb *q = e->ae_hold, *next;

	memcpy(e->ae_mac, mac, ETH_ALEN);
	e->ae_state = ARP_REACHABLE;
	e->ae_tries = 0;
	e->ae_expire = ns->ns_now + (uint64_t)ns->ns_cfg.nc_arp_ttl_ms * 1000;
	e->ae_hold = NULL;
	e->ae_nhold = 0;
	for (; q != NULL; q = next) {
		next = q->nb_nextpkt;
		q->nb_nextpkt = NULL;
		ns_eth_output(ns, q, mac, ETH_TYPE_IPV4);
	}
	arp_schedule(ns);
}

int
ns_arp_resolve(struct ns *ns, struct nb *pkt, uint32_t ip)
{
	struct arp_entry *e = arp_lookup(ns, ip);
	struct nb **pp;

	if (e != NULL && e->ae_state == ARP_REACHABLE) {
		e->ae_used = ns->ns_now;
		return ns_eth_output(ns, pkt, e->ae_mac, ETH_TYPE_IPV4);
	}
	if (e == NULL) {
		e = arp_alloc(ns, ip);
		e->ae_state = ARP_INCOMPLETE;
		e->ae_expire = ns->ns_now + ARP_RETRY_US;
		arp_send(ns, ARP_OP_REQUEST, NULL, ip, eth_bcast);
		arp_schedule(ns);
	}
	e->ae_used = ns->ns_now;
	if (e->ae_nhold == ARP_HOLD_MAX) {
		struct nb *old = e->ae_hold;

		e->ae_hold = old->nb_nextpkt;
		old->nb_nextpkt = NULL;
		nb_freem(old);
		e->ae_nhold--;
		ns->ns_stats.arp_hold_drop++;
	}
	for (pp = &e->ae_hold; *pp != NULL; pp = &(*pp)->nb_nextpkt)
		;
	pkt->nb_nextpkt = NULL;
	*pp = pkt;
	e->ae_nhold++;
	return 0;
}

/* ---------------------------------------------------------------- */
/* ARP input                                                        */
/* ---------------------------------------------------------------- */

static bool
arp_valid(struct ns *ns, const struct arp_pkt *ap)
{
	if (ns_ntoh16(ap->ap_hrd) != ARP_HRD_ETHER ||
	    ns_ntoh16(ap->ap_pro) != ETH_TYPE_IPV4 || ap->ap_hln != ETH_ALEN ||
	    ap->ap_pln != 4)
		return false;
	if (ns_ntoh16(ap->ap_op) != ARP_OP_REQUEST &&
	    ns_ntoh16(ap->ap_op) != ARP_OP_REPLY)
		return false;
	/* A sender MAC that is multicast, broadcast, zero or ours. */
	if ((ap->ap_sha[0] & 1) ||
	    memcmp(ap->ap_sha, "\0\0\0\0\0\0", ETH_ALEN) == 0 ||
	    memcmp(ap->ap_sha, ns->ns_nif->nif_mac, ETH_ALEN) == 0)
		return false;
	return true;
}

/* May we learn spa at all: a unicast address, not ours. */
static bool
arp_learnable(struct ns *ns, uint32_t spa)
{
	return spa != 0 && (spa >> 24) != 127 && (spa >> 28) < 14 &&
	    !ns_ip_is_bcast(ns, spa);
}

void
ns_arp_input(struct ns *ns, struct nb *pkt)
{
	struct ns_stats *st = &ns->ns_stats;
	struct arp_pkt ap;
	struct arp_entry *e;
	uint32_t spa, tpa, me = ns->ns_cfg.nc_addr;
	uint8_t op;

	st->arp_rx++;
	if (nb_copydata(pkt, 0, sizeof(ap), &ap) != 0 || !arp_valid(ns, &ap)) {
		st->arp_rx_bad++;
		goto out;
	}
	spa = ns_ntoh32(ap.ap_spa);
	tpa = ns_ntoh32(ap.ap_tpa);
	op = (uint8_t)ns_ntoh16(ap.ap_op);
	if (op == ARP_OP_REQUEST)
		st->arp_rx_request++;
	else
		st->arp_rx_reply++;
	if (ns->ns_dhcp != NULL)
		ns_dhcp_arp_input(ns, op, spa, tpa);
	if (me != 0 && spa == me) {
		st->arp_conflict++;
		goto out;
	}
	if (arp_learnable(ns, spa)) {
		e = arp_lookup(ns, spa);
		if (e == NULL && me != 0 && tpa == me)
			e = arp_alloc(ns, spa);
		if (e != NULL)
			arp_resolved(ns, e, ap.ap_sha);
	}
	if (op == ARP_OP_REQUEST && me != 0 && tpa == me)
		arp_send(ns, ARP_OP_REPLY, ap.ap_sha, spa, ap.ap_sha);
out:
	nb_freem(pkt);
}
