/*
 * ns_dhcp.c: a DHCP client (RFC 2131, RFC 2132) for one instance's
 * interface, with RFC 5227 address probing.
 *
 * States and transitions (RFC 2131 figure 5; ns_dhcp_state names them):
 *
 *   start ─┬─ remembered address ─> REBOOTING ─ACK─> CHECKING ─> BOUND
 *          └─> SELECTING ─OFFER─> REQUESTING ─ACK─> CHECKING ─> BOUND
 *   BOUND ─T1─> RENEWING ─T2─> REBINDING ─lease end─> SELECTING
 *   RENEWING, REBINDING ─ACK─> BOUND;  any request state ─NAK─> SELECTING
 *   CHECKING ─ARP conflict─> DECLINE, INIT ─10 s─> SELECTING
 *
 * The client is a user of the core: a UDP socket bound to port 68 and
 * two wheel timers. The socket's upcall only arms the input timer at
 * "now" (upcalls must not call back into the stack), so datagrams are
 * handled at the next ns_tick; the other timer runs retransmissions,
 * probes, T1, T2 and the lease's end. ARP input calls ns_dhcp_arp_input
 * (ns_eth.c) so probing sees replies and other hosts' probes.
 *
 * Sending: every message is padded to 300 bytes (BOOTP relays want it),
 * carries the client identifier (61; default type 1 and the MAC) and,
 * in DISCOVER and REQUEST, the maximum message size (57) and the
 * parameter request list (55: mask, router, DNS, lease, T1, T2). Before
 * an address is bound messages go from 0.0.0.0 to 255.255.255.255; in
 * RENEWING the REQUEST is unicast to the server from our address,
 * in REBINDING broadcast from it (RFC 2131 4.3.2, table 5). The broadcast
 * flag is not set: the core takes unicast UDP before it has an address.
 *
 * Timing: DISCOVER and REQUEST are retransmitted after 4, 8, 16, 32, 64,
 * 64 ... s, each randomized by +-1 s from np_random (RFC 2131 4.1).
 * REQUESTING gives up after 4 transmissions and REBOOTING after 3 (back
 * to SELECTING). RENEWING and REBINDING retransmit after half the time
 * left to T2 or to the lease's end, at least 60 s (4.4.5). The lease
 * counts from the first REQUEST of the exchange (4.4.1). Departures, each
 * a choice the RFC leaves or a SHOULD: the first DISCOVER goes out at
 * start, not after 1 to 10 s (an appliance boots alone; the wait is for
 * whole networks powered up at once); the first acceptable OFFER is
 * taken; leases under 20 s are raised to 20 s (dhcpcd's rule, so a
 * broken server cannot make us renew in a loop); consecutive NAKs back
 * off 0, 4, 8 ... 64 s before the next DISCOVER.
 *
 * Probing (RFC 5227): after the ACK, 3 ARP probes (sender address 0)
 * dc_probe_ms to twice that apart, the first after 0 to dc_probe_ms,
 * then twice dc_probe_ms of silence: any ARP packet from another MAC
 * with the address as sender, or another host's probe for it, is a
 * conflict: DECLINE, then a new DISCOVER after 10 s (RFC 2131 3.1.5).
 * On binding one gratuitous ARP announces the address (RFC 5227 says
 * two; the second adds little on a virtual network).
 *
 * Input checks, in order, each dropping the datagram with its counter:
 * source port 67; length between the header with cookie and what we
 * take; op BOOTREPLY, htype 1, hlen 6; chaddr our MAC; the cookie; a
 * state that waits for a reply and its xid; options (every length inside
 * its area, END present in each area, overload only in the options field
 * and 1..3, known options with their lengths; repeated options are
 * concatenated as RFC 3396 says, so a repeated fixed-size option has a
 * bad length); an echoed client identifier must be ours (RFC 6842); the
 * message type must be one the state takes. OFFER and ACK must give a
 * unicast yiaddr that is neither the network nor the broadcast address of
 * its subnet, a contiguous non-zero mask (classful when absent), a
 * server identifier (ACKs in REQUESTING from the chosen server only);
 * an ACK must give a lease time that is not 0. Inconsistent T1/T2 are
 * replaced by 0.5 and 0.875 of the lease. The first router that is a
 * unicast address is the gateway, up to 3 DNS servers are kept.
 *
 * Interface: netstack.h, "DHCP client".
 */
#include "netstack/ns_dhcp.h"
#include "netstack/ns_internal.h"

#define DHCP_RETX_US	     4000000ull	 /* first retransmission */
#define DHCP_RETX_MAX_SHIFT  4		 /* 4 s << 4 = 64 s */
#define DHCP_JITTER_US	     1000000u	 /* +-1 s */
#define DHCP_REQ_TRIES	     4		 /* REQUESTING, then SELECTING */
#define DHCP_REBOOT_TRIES    3		 /* REBOOTING, then SELECTING */
#define DHCP_RENEW_MIN_US    60000000ull /* 4.4.5's 60 s */
#define DHCP_DECLINE_WAIT_US 10000000ull /* 3.1.5's 10 s */
#define DHCP_NAK_WAIT_MAX_US 64000000ull
#define DHCP_LEASE_MIN_S     20
#define DHCP_PROBES	     3	  /* RFC 5227 PROBE_NUM */
#define DHCP_PROBE_MS	     1000 /* PROBE_MIN; MAX, ANNOUNCE_WAIT 2x */
#define DHCP_MAX_MSG	     1500 /* the longest message we take */
#define DHCP_TX_MAX	     576

/* The options the client reads, in the order of dhcp_opt_code. */
enum {
	DO_MASK,
	DO_ROUTER,
	DO_DNS,
	DO_LEASE,
	DO_OVERLOAD,
	DO_TYPE,
	DO_SERVER,
	DO_T1,
	DO_T2,
	DO_CID,
	DO_N
};

static const uint8_t dhcp_opt_code[DO_N] = { DHO_SUBNET_MASK, DHO_ROUTER,
	DHO_DNS, DHO_LEASE_TIME, DHO_OVERLOAD, DHO_MSG_TYPE, DHO_SERVER_ID,
	DHO_T1, DHO_T2, DHO_CLIENT_ID };

/* An option's value, concatenated over its instances (RFC 3396). */
struct dhcp_opt {
	uint32_t o_len;	    /* all of it */
	uint8_t o_val[255]; /* the first 255 bytes */
};

struct ns_dhcp {
	struct ns *d_ns;
	struct ns_udp *d_udp;
	struct ns_dhcp_config d_cfg;
	uint8_t d_cid[255]; /* client identifier */
	uint32_t d_cidlen;
	struct ns_dhcp_stats d_stats;

	enum ns_dhcp_state d_state;
	uint32_t d_xid;
	uint64_t d_begin_us;	      /* the exchange began: 'secs' */
	uint64_t d_sent_us;	      /* its first REQUEST: the lease's start */
	uint16_t d_secs;	      /* 'secs' of the last DISCOVER */
	uint32_t d_tries;	      /* transmissions of the current message */
	uint32_t d_naks;	      /* in a row */
	uint32_t d_probes;	      /* ARP probes sent */
	struct ns_dhcp_lease d_cand;  /* offered, then ACKed under check */
	struct ns_dhcp_lease d_lease; /* bound */
	bool d_bound;		      /* d_lease is ours, address set */
	struct ns_timer d_timer;      /* retransmit, probe, T1, T2, end */
	struct ns_timer d_rxtimer;    /* datagrams queued */

	struct dhcp_opt d_opt[DO_N]; /* the message being parsed */
	uint8_t d_rx[DHCP_MAX_MSG + 1];
	uint8_t d_tx[DHCP_TX_MAX];
};

static void dhcp_enter(struct ns_dhcp *d, enum ns_dhcp_state st);

/* ---------------------------------------------------------------- */
/* Helpers                                                          */
/* ---------------------------------------------------------------- */

static bool
dhcp_unicast(uint32_t a)
{
	return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 28) < 14;
}

static bool
dhcp_mask_ok(uint32_t m)
{
	return m != 0 && (~m & (~m + 1)) == 0;
}

static uint32_t
dhcp_classful(uint32_t a)
{
	if ((a >> 31) == 0)
		return 0xff000000u;
	return (a >> 30) == 2 ? 0xffff0000u : 0xffffff00u;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
opt32(const struct dhcp_opt *o)
{
	return get32(o->o_val);
}

/* The platform time secs after the lease's start; UINT64_MAX: never. */
static uint64_t
dhcp_at(const struct ns_dhcp_lease *l, uint32_t secs)
{
	if (l->dl_lease_s == NS_DHCP_INFINITE)
		return UINT64_MAX;
	return l->dl_start_us + (uint64_t)secs * 1000000;
}

/* A random time in [base - j, base + j]. */
static uint64_t
dhcp_jitter(struct ns_dhcp *d, uint64_t base, uint32_t j)
{
	return base - j + ns_random32(d->d_ns) % (2 * (uint64_t)j + 1);
}

static void
dhcp_arm_in(struct ns_dhcp *d, uint64_t us)
{
	ns_timer_arm(d->d_ns, &d->d_timer, d->d_ns->ns_now + us);
}

static void
dhcp_event(struct ns_dhcp *d, enum ns_dhcp_event ev,
    const struct ns_dhcp_lease *l)
{
	if (d->d_cfg.dc_event != NULL)
		d->d_cfg.dc_event(d->d_cfg.dc_event_arg, ev, l);
}

/* Removes the bound address. */
static void
dhcp_unbind(struct ns_dhcp *d)
{
	if (!d->d_bound)
		return;
	d->d_bound = false;
	ns_set_addr(d->d_ns, 0, 0, 0);
}

/* ---------------------------------------------------------------- */
/* Output                                                           */
/* ---------------------------------------------------------------- */

static uint32_t
dhcp_put(uint8_t *m, uint32_t n, uint8_t code, uint32_t len, const void *v)
{
	m[n] = code;
	m[n + 1] = (uint8_t)len;
	memcpy(m + n + 2, v, len);
	return n + 2 + len;
}

static uint32_t
dhcp_put32(uint8_t *m, uint32_t n, uint8_t code, uint32_t v)
{
	uint32_t be = ns_hton32(v);

	return dhcp_put(m, n, code, 4, &be);
}

/* The header of a BOOTREQUEST in d_tx; returns its length. */
static uint32_t
dhcp_header(struct ns_dhcp *d, uint8_t type, uint32_t ciaddr)
{
	struct dhcp_hdr *h = (struct dhcp_hdr *)d->d_tx;
	uint64_t secs = (d->d_ns->ns_now - d->d_begin_us) / 1000000;

	memset(d->d_tx, 0, sizeof(d->d_tx));
	h->dh_op = BOOTREQUEST;
	h->dh_htype = DHCP_HTYPE_ETHER;
	h->dh_hlen = ETH_ALEN;
	h->dh_xid = ns_hton32(d->d_xid);
	/* A REQUEST for an offer repeats the DISCOVER's (RFC 2131 4.4.1). */
	if (type == DHCPDISCOVER)
		d->d_secs = (uint16_t)NS_MIN(secs, 0xffffu);
	if (type == DHCPDISCOVER || d->d_state == NS_DHCP_REQUESTING)
		h->dh_secs = ns_hton16(d->d_secs);
	else if (type == DHCPREQUEST)
		h->dh_secs = ns_hton16((uint16_t)NS_MIN(secs, 0xffffu));
	h->dh_ciaddr = ns_hton32(ciaddr);
	memcpy(h->dh_chaddr, d->d_ns->ns_nif->nif_mac, ETH_ALEN);
	h->dh_magic = ns_hton32(DHCP_MAGIC);
	return dhcp_put(d->d_tx, DHCP_HLEN, DHO_MSG_TYPE, 1, &type);
}

/*
 * Sends a message of type: ciaddr in the header, reqip and server as
 * options 50 and 54 when not 0, to dst.
 */
static void
dhcp_send(struct ns_dhcp *d, uint8_t type, uint32_t ciaddr, uint32_t reqip,
    uint32_t server, uint32_t dst)
{
	static const uint8_t prl[] = { DHO_SUBNET_MASK, DHO_ROUTER, DHO_DNS,
		DHO_LEASE_TIME, DHO_T1, DHO_T2 };
	uint8_t *m = d->d_tx;
	uint32_t n = dhcp_header(d, type, ciaddr);
	uint16_t maxmsg;

	if (reqip != 0)
		n = dhcp_put32(m, n, DHO_REQUESTED_IP, reqip);
	if (server != 0)
		n = dhcp_put32(m, n, DHO_SERVER_ID, server);
	n = dhcp_put(m, n, DHO_CLIENT_ID, d->d_cidlen, d->d_cid);
	if (type == DHCPDISCOVER || type == DHCPREQUEST) {
		maxmsg = ns_hton16((uint16_t)NS_MAX(DHCP_MIN_MAXMSG,
		    NS_MIN(d->d_ns->ns_nif->nif_mtu, DHCP_MAX_MSG)));
		n = dhcp_put(m, n, DHO_MAX_MSG, 2, &maxmsg);
		n = dhcp_put(m, n, DHO_PARAM_REQ, sizeof(prl), prl);
	}
	m[n++] = DHO_END;
	n = NS_MAX(n, DHCP_MIN_MSG); /* the rest is PAD */
	if (ns_udp_sendto(d->d_udp, dst, DHCP_SERVER_PORT, m, n) != 0) {
		d->d_stats.ds_tx_err++;
		return;
	}
	switch (type) {
	case DHCPDISCOVER:
		d->d_stats.ds_tx_discover++;
		break;
	case DHCPREQUEST:
		d->d_stats.ds_tx_request++;
		break;
	case DHCPDECLINE:
		d->d_stats.ds_tx_decline++;
		break;
	default:
		d->d_stats.ds_tx_release++;
		break;
	}
}

/* An ARP request from us: a probe (spa 0) or an announcement. */
static void
dhcp_arp(struct ns_dhcp *d, uint32_t spa, uint32_t tpa)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff };
	struct ns *ns = d->d_ns;
	struct arp_pkt *ap;
	struct nb *nb;

	if ((nb = nb_get(&ns->ns_pool, NB_MAXHDR)) == NULL) {
		ns->ns_stats.eth_nobufs++;
		d->d_stats.ds_tx_err++;
		return;
	}
	ap = (struct arp_pkt *)nb->nb_data;
	nb->nb_len = nb->nb_pktlen = sizeof(*ap);
	memset(ap, 0, sizeof(*ap));
	ap->ap_hrd = ns_hton16(ARP_HRD_ETHER);
	ap->ap_pro = ns_hton16(ETH_TYPE_IPV4);
	ap->ap_hln = ETH_ALEN;
	ap->ap_pln = 4;
	ap->ap_op = ns_hton16(ARP_OP_REQUEST);
	memcpy(ap->ap_sha, ns->ns_nif->nif_mac, ETH_ALEN);
	ap->ap_spa = ns_hton32(spa);
	ap->ap_tpa = ns_hton32(tpa);
	ns->ns_stats.arp_tx_request++;
	if (spa == 0)
		d->d_stats.ds_arp_probes++;
	else
		d->d_stats.ds_arp_announces++;
	if (ns_eth_output(ns, nb, bcast, ETH_TYPE_ARP) != 0)
		d->d_stats.ds_tx_err++;
}

/* Sends what the state sends and arms the retransmission. */
static void
dhcp_xmit(struct ns_dhcp *d)
{
	const struct ns_dhcp_lease *l = &d->d_lease;
	uint32_t shift = NS_MIN(d->d_tries, (uint32_t)DHCP_RETX_MAX_SHIFT);
	uint64_t now = d->d_ns->ns_now, end, wait;

	d->d_tries++;
	switch (d->d_state) {
	case NS_DHCP_SELECTING:
		dhcp_send(d, DHCPDISCOVER, 0, 0, 0, 0xffffffffu);
		break;
	case NS_DHCP_REQUESTING:
		dhcp_send(d, DHCPREQUEST, 0, d->d_cand.dl_addr,
		    d->d_cand.dl_server, 0xffffffffu);
		break;
	case NS_DHCP_REBOOTING:
		dhcp_send(d, DHCPREQUEST, 0, d->d_cfg.dc_addr, 0, 0xffffffffu);
		break;
	case NS_DHCP_RENEWING:
	case NS_DHCP_REBINDING:
		dhcp_send(d, DHCPREQUEST, l->dl_addr, 0, 0,
		    d->d_state == NS_DHCP_RENEWING ? l->dl_server :
						     0xffffffffu);
		end = d->d_state == NS_DHCP_RENEWING ?
		    dhcp_at(l, l->dl_t2_s) :
		    dhcp_at(l, l->dl_lease_s);
		wait =
		    end > now ? NS_MAX((end - now) / 2, DHCP_RENEW_MIN_US) : 0;
		ns_timer_arm(d->d_ns, &d->d_timer, NS_MIN(now + wait, end));
		return;
	default:
		NS_ASSERT(d->d_ns, 0);
	}
	dhcp_arm_in(d, dhcp_jitter(d, DHCP_RETX_US << shift, DHCP_JITTER_US));
}

/* ---------------------------------------------------------------- */
/* Transitions                                                      */
/* ---------------------------------------------------------------- */

/* Starts the exchange of a state that sends (a new xid but REQUESTING). */
static void
dhcp_enter(struct ns_dhcp *d, enum ns_dhcp_state st)
{
	struct ns *ns = d->d_ns;

	if (st != NS_DHCP_REQUESTING) {
		d->d_xid = ns_random32(ns);
		d->d_begin_us = ns->ns_now;
	}
	d->d_state = st;
	d->d_tries = 0;
	d->d_sent_us = ns->ns_now;
	if (st == NS_DHCP_REBINDING)
		d->d_stats.ds_rebinding++;
	dhcp_xmit(d);
}

/* To INIT, and SELECTING after delay_us (at once when 0). */
static void
dhcp_restart(struct ns_dhcp *d, uint64_t delay_us)
{
	d->d_state = NS_DHCP_INIT;
	ns_timer_stop(d->d_ns, &d->d_timer);
	if (delay_us == 0)
		dhcp_enter(d, NS_DHCP_SELECTING);
	else
		dhcp_arm_in(d, delay_us);
}

/*
 * Gives the lease's settings to the instance. The checks here are
 * ns_set_addr's, so it takes them; should it refuse the gateway one day
 * (a router outside the subnet), the lease is used without one.
 */
static int
dhcp_apply(struct ns_dhcp *d, struct ns_dhcp_lease *l)
{
	int err;

	err = ns_set_addr(d->d_ns, l->dl_addr, l->dl_netmask, l->dl_gateway);
	if (err != 0 && l->dl_gateway != 0) {
		l->dl_gateway = 0;
		err = ns_set_addr(d->d_ns, l->dl_addr, l->dl_netmask, 0);
	}
	return err;
}

/* BOUND: wake at T1, or never for an infinite lease. */
static void
dhcp_arm_t1(struct ns_dhcp *d)
{
	const struct ns_dhcp_lease *l = &d->d_lease;

	if (l->dl_lease_s == NS_DHCP_INFINITE)
		ns_timer_stop(d->d_ns, &d->d_timer);
	else
		ns_timer_arm(d->d_ns, &d->d_timer, dhcp_at(l, l->dl_t1_s));
}

static void
dhcp_bind(struct ns_dhcp *d)
{
	struct ns_dhcp_lease *l = &d->d_lease;

	*l = d->d_cand;
	if (dhcp_apply(d, l) != 0) {
		d->d_stats.ds_rx_badaddr++;
		dhcp_restart(d, DHCP_DECLINE_WAIT_US);
		return;
	}
	d->d_bound = true;
	d->d_state = NS_DHCP_BOUND;
	d->d_naks = 0;
	d->d_stats.ds_bound++;
	dhcp_arp(d, l->dl_addr, l->dl_addr);
	dhcp_arm_t1(d);
	/* Debug only: the event's receiver reports the lease as it likes. */
	ns_log(d->d_ns, NS_LOG_DEBUG,
	    "dhcp: bound %u.%u.%u.%u/%u.%u.%u.%u lease %us", l->dl_addr >> 24,
	    (l->dl_addr >> 16) & 255, (l->dl_addr >> 8) & 255, l->dl_addr & 255,
	    l->dl_netmask >> 24, (l->dl_netmask >> 16) & 255,
	    (l->dl_netmask >> 8) & 255, l->dl_netmask & 255, l->dl_lease_s);
	dhcp_event(d, NS_DHCP_EV_BOUND, l);
}

/* ACKed address d_cand: probe it, or bind at once. */
static void
dhcp_check(struct ns_dhcp *d)
{
	uint32_t p = d->d_cfg.dc_probe_ms;

	if (d->d_cfg.dc_flags & NS_DHCPF_NO_PROBE) {
		dhcp_bind(d);
		return;
	}
	d->d_state = NS_DHCP_CHECKING;
	d->d_probes = 0;
	dhcp_arm_in(d, (uint64_t)(ns_random32(d->d_ns) % p) * 1000);
}

static void
dhcp_probe_step(struct ns_dhcp *d)
{
	uint64_t p = (uint64_t)d->d_cfg.dc_probe_ms * 1000;

	if (d->d_probes == DHCP_PROBES) {
		dhcp_bind(d);
		return;
	}
	dhcp_arp(d, 0, d->d_cand.dl_addr);
	d->d_probes++;
	if (d->d_probes < DHCP_PROBES)
		dhcp_arm_in(d, p + ns_random32(d->d_ns) % (p + 1));
	else
		dhcp_arm_in(d, 2 * p);
}

static void
dhcp_decline(struct ns_dhcp *d)
{
	d->d_stats.ds_arp_conflicts++;
	dhcp_send(d, DHCPDECLINE, 0, d->d_cand.dl_addr, d->d_cand.dl_server,
	    0xffffffffu);
	dhcp_event(d, NS_DHCP_EV_DECLINED, &d->d_cand);
	dhcp_restart(d, DHCP_DECLINE_WAIT_US);
}

static void
dhcp_expire(struct ns_dhcp *d)
{
	d->d_stats.ds_expired++;
	dhcp_unbind(d);
	dhcp_event(d, NS_DHCP_EV_EXPIRED, &d->d_lease);
	dhcp_restart(d, 0);
}

static void
dhcp_timeout(struct ns *ns, void *arg)
{
	struct ns_dhcp *d = arg;
	const struct ns_dhcp_lease *l = &d->d_lease;

	switch (d->d_state) {
	case NS_DHCP_INIT:
		dhcp_enter(d, NS_DHCP_SELECTING);
		break;
	case NS_DHCP_REQUESTING:
	case NS_DHCP_REBOOTING:
		if (d->d_tries >= (d->d_state == NS_DHCP_REQUESTING ?
					  DHCP_REQ_TRIES :
					  DHCP_REBOOT_TRIES)) {
			dhcp_enter(d, NS_DHCP_SELECTING);
			break;
		}
		/* FALLTHROUGH */
	case NS_DHCP_SELECTING:
		d->d_stats.ds_retransmits++;
		dhcp_xmit(d);
		break;
	case NS_DHCP_CHECKING:
		dhcp_probe_step(d);
		break;
	case NS_DHCP_BOUND:
		dhcp_enter(d, NS_DHCP_RENEWING);
		break;
	case NS_DHCP_RENEWING:
		if (ns->ns_now >= dhcp_at(l, l->dl_t2_s)) {
			dhcp_enter(d, NS_DHCP_REBINDING);
			break;
		}
		d->d_stats.ds_retransmits++;
		dhcp_xmit(d);
		break;
	case NS_DHCP_REBINDING:
		if (ns->ns_now >= dhcp_at(l, l->dl_lease_s)) {
			dhcp_expire(d);
			break;
		}
		d->d_stats.ds_retransmits++;
		dhcp_xmit(d);
		break;
	}
}

void
ns_dhcp_arp_input(struct ns *ns, uint8_t op, uint32_t spa, uint32_t tpa)
{
	struct ns_dhcp *d = ns->ns_dhcp;
	uint32_t a = d->d_cand.dl_addr;

	/* The sender MAC is valid and not ours (ns_arp_input checked). */
	if (d->d_state != NS_DHCP_CHECKING)
		return;
	if (spa == a || (spa == 0 && op == ARP_OP_REQUEST && tpa == a))
		dhcp_decline(d);
}

/* ---------------------------------------------------------------- */
/* Input: parsing                                                   */
/* ---------------------------------------------------------------- */

static void
dhcp_opt_add(struct ns_dhcp *d, uint8_t code, const uint8_t *v, uint32_t len,
    bool main)
{
	struct dhcp_opt *o;
	uint32_t i, n;

	for (i = 0; i < DO_N && dhcp_opt_code[i] != code; i++)
		;
	if (i == DO_N || (i == DO_OVERLOAD && !main))
		return;
	o = &d->d_opt[i];
	n = o->o_len < sizeof(o->o_val) ? sizeof(o->o_val) - o->o_len : 0;
	if (n > 0)
		memcpy(o->o_val + o->o_len, v, NS_MIN(n, len));
	o->o_len += len;
}

/* One options area: false when an option runs past it or END is missing. */
static bool
dhcp_walk(struct ns_dhcp *d, const uint8_t *o, uint32_t len, bool main)
{
	uint32_t i = 0, n;

	while (i < len) {
		if (o[i] == DHO_PAD) {
			i++;
			continue;
		}
		if (o[i] == DHO_END)
			return true;
		if (len - i < 2 || (n = o[i + 1]) > len - i - 2)
			return false;
		dhcp_opt_add(d, o[i], o + i + 2, n, main);
		i += 2 + n;
	}
	return false;
}

/* The lengths of the options we read. */
static bool
dhcp_opts_ok(const struct ns_dhcp *d)
{
	static const uint8_t four[] = { DO_MASK, DO_LEASE, DO_SERVER, DO_T1,
		DO_T2 };
	const struct dhcp_opt *o = d->d_opt;
	uint32_t i;

	for (i = 0; i < sizeof(four); i++)
		if (o[four[i]].o_len != 0 && o[four[i]].o_len != 4)
			return false;
	return o[DO_TYPE].o_len == 1 && o[DO_ROUTER].o_len % 4 == 0 &&
	    o[DO_DNS].o_len % 4 == 0 && o[DO_CID].o_len != 1;
}

static bool
dhcp_parse(struct ns_dhcp *d, uint32_t len)
{
	const struct dhcp_hdr *h = (const struct dhcp_hdr *)d->d_rx;
	const struct dhcp_opt *ov = &d->d_opt[DO_OVERLOAD];
	uint32_t i;

	for (i = 0; i < DO_N; i++)
		d->d_opt[i].o_len = 0;
	if (!dhcp_walk(d, d->d_rx + DHCP_HLEN, len - DHCP_HLEN, true))
		return false;
	if (ov->o_len != 0) {
		if (ov->o_len != 1 || ov->o_val[0] < 1 || ov->o_val[0] > 3)
			return false;
		/* RFC 2131 4.1: 'file' first, then 'sname'. */
		if ((ov->o_val[0] & 1) &&
		    !dhcp_walk(d, h->dh_file, sizeof(h->dh_file), false))
			return false;
		if ((ov->o_val[0] & 2) &&
		    !dhcp_walk(d, h->dh_sname, sizeof(h->dh_sname), false))
			return false;
	}
	if (d->d_opt[DO_TYPE].o_len == 0)
		return true; /* counted as no type by the caller */
	return dhcp_opts_ok(d);
}

/* ---------------------------------------------------------------- */
/* Input: what a reply offers                                       */
/* ---------------------------------------------------------------- */

/*
 * Address, mask and server of a reply into l (server: the one we know,
 * for a reply without a server id; 0: none); a counter to bump, or NULL.
 */
static uint64_t *
dhcp_take_addr(struct ns_dhcp *d, struct ns_dhcp_lease *l, uint32_t server)
{
	const struct dhcp_hdr *h = (const struct dhcp_hdr *)d->d_rx;
	const struct dhcp_opt *o = d->d_opt;
	uint32_t a = ns_ntoh32(h->dh_yiaddr), m, host;

	if (!dhcp_unicast(a))
		return &d->d_stats.ds_rx_badaddr;
	m = o[DO_MASK].o_len != 0 ? opt32(&o[DO_MASK]) : dhcp_classful(a);
	if (!dhcp_mask_ok(m))
		return &d->d_stats.ds_rx_badmask;
	host = a & ~m;
	if (~m >= 3 && (host == 0 || host == ~m))
		return &d->d_stats.ds_rx_badaddr; /* network or broadcast */
	if (o[DO_SERVER].o_len != 0)
		server = opt32(&o[DO_SERVER]);
	if (!dhcp_unicast(server))
		return &d->d_stats.ds_rx_badserver;
	l->dl_addr = a;
	l->dl_netmask = m;
	l->dl_server = server;
	return NULL;
}

/* Routers and DNS servers: the unicast ones, in order. */
static void
dhcp_take_routes(struct ns_dhcp *d, struct ns_dhcp_lease *l)
{
	const struct dhcp_opt *r = &d->d_opt[DO_ROUTER], *s = &d->d_opt[DO_DNS];
	uint32_t i, n = 0, a;

	l->dl_gateway = 0;
	for (i = 0; i + 4 <= NS_MIN(r->o_len, sizeof(r->o_val)); i += 4) {
		a = get32(r->o_val + i);
		if (dhcp_unicast(a) && a != l->dl_addr) {
			l->dl_gateway = a;
			break;
		}
	}
	memset(l->dl_dns, 0, sizeof(l->dl_dns));
	for (i = 0; i + 4 <= NS_MIN(s->o_len, sizeof(s->o_val)) && n < 3;
	     i += 4) {
		a = get32(s->o_val + i);
		if (dhcp_unicast(a))
			l->dl_dns[n++] = a;
	}
}

/* Lease, T1 and T2; a counter to bump, or NULL. */
static uint64_t *
dhcp_take_times(struct ns_dhcp *d, struct ns_dhcp_lease *l)
{
	const struct dhcp_opt *o = d->d_opt;
	uint32_t lease, t1, t2;

	if (o[DO_LEASE].o_len == 0 || (lease = opt32(&o[DO_LEASE])) == 0)
		return &d->d_stats.ds_rx_badlease;
	l->dl_start_us = d->d_sent_us;
	l->dl_lease_s = lease;
	if (lease == NS_DHCP_INFINITE) {
		l->dl_t1_s = l->dl_t2_s = NS_DHCP_INFINITE;
		return NULL;
	}
	if (lease < DHCP_LEASE_MIN_S) {
		d->d_stats.ds_lease_clamped++;
		l->dl_lease_s = lease = DHCP_LEASE_MIN_S;
	}
	t1 = o[DO_T1].o_len != 0 ? opt32(&o[DO_T1]) : lease / 2;
	t2 = o[DO_T2].o_len != 0 ? opt32(&o[DO_T2]) :
				   (uint32_t)((uint64_t)lease * 7 / 8);
	if (t1 == 0 || t1 > t2 || t2 > lease) {
		d->d_stats.ds_bad_times++;
		t1 = lease / 2;
		t2 = (uint32_t)((uint64_t)lease * 7 / 8);
	}
	l->dl_t1_s = t1;
	l->dl_t2_s = t2;
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Input: per message type                                          */
/* ---------------------------------------------------------------- */

static void
dhcp_offer(struct ns_dhcp *d)
{
	struct ns_dhcp_lease l;
	uint64_t *bad;

	memset(&l, 0, sizeof(l));
	if ((bad = dhcp_take_addr(d, &l, 0)) != NULL) {
		(*bad)++;
		return;
	}
	d->d_stats.ds_rx_offer++;
	d->d_cand = l;
	dhcp_enter(d, NS_DHCP_REQUESTING);
}

static void
dhcp_ack(struct ns_dhcp *d)
{
	struct ns_dhcp_lease l;
	uint32_t known = 0;
	uint64_t *bad;

	/* An ACK without a server id keeps the server we know. */
	if (d->d_state == NS_DHCP_REQUESTING)
		known = d->d_cand.dl_server;
	else if (d->d_state != NS_DHCP_REBOOTING)
		known = d->d_lease.dl_server;
	memset(&l, 0, sizeof(l));
	if ((bad = dhcp_take_addr(d, &l, known)) == NULL &&
	    d->d_state == NS_DHCP_REQUESTING && l.dl_server != known)
		bad = &d->d_stats.ds_rx_badserver;
	if (bad == NULL)
		bad = dhcp_take_times(d, &l);
	if (bad != NULL) {
		(*bad)++;
		return;
	}
	dhcp_take_routes(d, &l);
	d->d_stats.ds_rx_ack++;
	d->d_cand = l;
	if (d->d_bound && l.dl_addr == d->d_lease.dl_addr) {
		/* RENEWING or REBINDING: the lease goes on. */
		if (dhcp_apply(d, &l) != 0) {
			d->d_stats.ds_rx_badaddr++;
			return;
		}
		d->d_lease = l;
		d->d_state = NS_DHCP_BOUND;
		d->d_stats.ds_renewed++;
		dhcp_arm_t1(d);
		dhcp_event(d, NS_DHCP_EV_RENEWED, &l);
		return;
	}
	dhcp_unbind(d); /* another address: the old one is gone */
	dhcp_check(d);
}

static void
dhcp_nak(struct ns_dhcp *d)
{
	const struct dhcp_opt *sv = &d->d_opt[DO_SERVER];
	uint64_t wait = 0;
	bool had = d->d_bound;

	if (d->d_state == NS_DHCP_REQUESTING && sv->o_len != 0 &&
	    opt32(sv) != d->d_cand.dl_server) {
		d->d_stats.ds_rx_badserver++;
		return;
	}
	d->d_stats.ds_rx_nak++;
	dhcp_unbind(d);
	d->d_naks++;
	if (d->d_naks > 1)
		wait = NS_MIN(DHCP_RETX_US << NS_MIN(d->d_naks - 2, 8u),
		    DHCP_NAK_WAIT_MAX_US);
	dhcp_event(d, NS_DHCP_EV_NAK, had ? &d->d_lease : NULL);
	dhcp_restart(d, wait);
}

/* A state waiting for a reply to xid, taking the message's type? */
static bool
dhcp_wants(const struct ns_dhcp *d, uint8_t type)
{
	switch (d->d_state) {
	case NS_DHCP_SELECTING:
		return type == DHCPOFFER;
	case NS_DHCP_REQUESTING:
	case NS_DHCP_REBOOTING:
	case NS_DHCP_RENEWING:
	case NS_DHCP_REBINDING:
		return type == DHCPACK || type == DHCPNAK;
	default:
		return false;
	}
}

static bool
dhcp_waiting(const struct ns_dhcp *d)
{
	return d->d_state == NS_DHCP_SELECTING ||
	    d->d_state == NS_DHCP_REQUESTING ||
	    d->d_state == NS_DHCP_REBOOTING || d->d_state == NS_DHCP_RENEWING ||
	    d->d_state == NS_DHCP_REBINDING;
}

/* The checks before options; a counter to bump, or NULL. */
static uint64_t *
dhcp_check_hdr(struct ns_dhcp *d, uint32_t len, uint16_t sport)
{
	const struct dhcp_hdr *h = (const struct dhcp_hdr *)d->d_rx;
	struct ns_dhcp_stats *st = &d->d_stats;

	if (sport != DHCP_SERVER_PORT)
		return &st->ds_rx_badport;
	if (len > DHCP_MAX_MSG)
		return &st->ds_rx_toobig;
	if (len < DHCP_HLEN)
		return &st->ds_rx_short;
	if (h->dh_op != BOOTREPLY || h->dh_htype != DHCP_HTYPE_ETHER ||
	    h->dh_hlen != ETH_ALEN)
		return &st->ds_rx_badhdr;
	if (memcmp(h->dh_chaddr, d->d_ns->ns_nif->nif_mac, ETH_ALEN) != 0)
		return &st->ds_rx_notme;
	if (ns_ntoh32(h->dh_magic) != DHCP_MAGIC)
		return &st->ds_rx_badcookie;
	if (!dhcp_waiting(d) || ns_ntoh32(h->dh_xid) != d->d_xid)
		return &st->ds_rx_badxid;
	return NULL;
}

static void
dhcp_input(struct ns_dhcp *d, uint32_t len, uint16_t sport)
{
	const struct dhcp_opt *o = d->d_opt;
	struct ns_dhcp_stats *st = &d->d_stats;
	uint64_t *bad;
	uint8_t type;

	st->ds_rx++;
	if ((bad = dhcp_check_hdr(d, len, sport)) != NULL) {
		(*bad)++;
		return;
	}
	if (!dhcp_parse(d, len)) {
		st->ds_rx_badopt++;
		return;
	}
	if (o[DO_CID].o_len != 0 &&
	    (o[DO_CID].o_len != d->d_cidlen ||
		memcmp(o[DO_CID].o_val, d->d_cid, d->d_cidlen) != 0)) {
		st->ds_rx_notme++;
		return;
	}
	type = o[DO_TYPE].o_len != 0 ? o[DO_TYPE].o_val[0] : 0;
	if (type < DHCPDISCOVER || type > DHCPINFORM) {
		st->ds_rx_notype++;
		return;
	}
	if (!dhcp_wants(d, type)) {
		st->ds_rx_unexpected++;
		return;
	}
	if (type == DHCPOFFER)
		dhcp_offer(d);
	else if (type == DHCPACK)
		dhcp_ack(d);
	else
		dhcp_nak(d);
}

static void
dhcp_rx_timer(struct ns *ns, void *arg)
{
	struct ns_dhcp *d = arg;
	uint16_t sport;
	int n;

	while ((n = ns_udp_recvfrom(d->d_udp, d->d_rx, sizeof(d->d_rx), NULL,
		    &sport)) >= 0)
		dhcp_input(d, (uint32_t)n, sport);
}

static void
dhcp_upcall(void *arg, unsigned events)
{
	struct ns_dhcp *d = arg;

	if ((events & NS_EV_READ) && !ns_timer_armed(&d->d_rxtimer))
		ns_timer_arm(d->d_ns, &d->d_rxtimer, d->d_ns->ns_now);
}

/* ---------------------------------------------------------------- */
/* The application's calls                                          */
/* ---------------------------------------------------------------- */

static int
dhcp_config(struct ns_dhcp *d, const struct ns_dhcp_config *cfg)
{
	const uint8_t *mac = d->d_ns->ns_nif->nif_mac;

	if (cfg != NULL)
		d->d_cfg = *cfg;
	if (d->d_cfg.dc_addr != 0 && !dhcp_unicast(d->d_cfg.dc_addr))
		return -EINVAL;
	if (d->d_cfg.dc_client_id != NULL) {
		if (d->d_cfg.dc_client_id_len < 2 ||
		    d->d_cfg.dc_client_id_len > sizeof(d->d_cid))
			return -EINVAL;
		d->d_cidlen = d->d_cfg.dc_client_id_len;
		memcpy(d->d_cid, d->d_cfg.dc_client_id, d->d_cidlen);
	} else {
		d->d_cid[0] = DHCP_HTYPE_ETHER; /* RFC 2132 9.14 */
		memcpy(d->d_cid + 1, mac, ETH_ALEN);
		d->d_cidlen = 1 + ETH_ALEN;
	}
	d->d_cfg.dc_client_id = NULL; /* the caller's memory: copied */
	if (d->d_cfg.dc_probe_ms == 0)
		d->d_cfg.dc_probe_ms = DHCP_PROBE_MS;
	return 0;
}

int
ns_dhcp_start(struct ns *ns, const struct ns_dhcp_config *cfg,
    struct ns_dhcp **dp)
{
	struct ns_dhcp *d;
	int err;

	ns_enter(ns);
	*dp = NULL;
	if (ns->ns_dhcp != NULL)
		return -EBUSY;
	if ((d = ns_zalloc(ns, sizeof(*d))) == NULL)
		return -ENOMEM;
	d->d_ns = ns;
	if ((err = dhcp_config(d, cfg)) != 0)
		goto fail;
	if ((err = ns_udp_open(ns, &d->d_udp)) != 0)
		goto fail;
	if ((err = ns_udp_bind(d->d_udp, 0, DHCP_CLIENT_PORT)) != 0)
		goto fail_udp;
	ns_udp_set_upcall(d->d_udp, dhcp_upcall, d);
	ns_timer_init(&d->d_timer, dhcp_timeout, d);
	ns_timer_init(&d->d_rxtimer, dhcp_rx_timer, d);
	ns_set_addr(ns, 0, 0, 0);
	ns->ns_dhcp = d;
	dhcp_enter(d,
	    d->d_cfg.dc_addr != 0 ? NS_DHCP_REBOOTING : NS_DHCP_SELECTING);
	*dp = d;
	return 0;

fail_udp:
	ns_udp_close(d->d_udp);
fail:
	ns_free(ns, d, sizeof(*d));
	return err;
}

void
ns_dhcp_stop(struct ns_dhcp *d)
{
	struct ns *ns = d->d_ns;
	const struct ns_dhcp_lease *l = &d->d_lease;

	ns_enter(ns);
	if (d->d_bound) {
		d->d_xid = ns_random32(ns);
		dhcp_send(d, DHCPRELEASE, l->dl_addr, 0, l->dl_server,
		    l->dl_server);
		dhcp_unbind(d);
		dhcp_event(d, NS_DHCP_EV_RELEASED, l);
	}
	ns_timer_stop(ns, &d->d_timer);
	ns_timer_stop(ns, &d->d_rxtimer);
	ns_udp_close(d->d_udp);
	ns->ns_dhcp = NULL;
	ns_free(ns, d, sizeof(*d));
}

enum ns_dhcp_state
ns_dhcp_state(const struct ns_dhcp *d)
{
	return d->d_state;
}

int
ns_dhcp_lease(const struct ns_dhcp *d, struct ns_dhcp_lease *l)
{
	if (!d->d_bound)
		return -ENOENT;
	*l = d->d_lease;
	return 0;
}

const struct ns_dhcp_stats *
ns_dhcp_stats(const struct ns_dhcp *d)
{
	return &d->d_stats;
}
