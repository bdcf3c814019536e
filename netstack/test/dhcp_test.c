/*
 * dhcp_test.c: the DHCP client (ns_dhcp.c) against crafted server
 * replies, with time advanced through ns_tick: every state and
 * transition, the messages' fields, retransmission and its jitter, ARP
 * probing and DECLINE, RELEASE, and the bad inputs of the issue, each its
 * own test (a loop test over a table), each followed by a good exchange
 * so the client is shown to keep working. The server plays QEMU user
 * networking: 10.0.2.2 offers 10.0.2.15/24, router 10.0.2.2, DNS
 * 10.0.2.3.
 */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/ns_dhcp.h"
#include "netstack/test/nstest.h"

#define SRV   NS_IP4(10, 0, 2, 2)
#define SRV2  NS_IP4(10, 0, 2, 4)
#define ADDR  NS_IP4(10, 0, 2, 15)
#define DNS1  NS_IP4(10, 0, 2, 3)
#define MASK  NS_IP4(255, 255, 255, 0)
#define BCAST 0xffffffffu
#define SEC   1000000ull

static const uint8_t mac_srv[6] = { 0x52, 0x55, 0x0a, 0, 2, 2 };
static const uint8_t mac_other[6] = { 0x02, 0, 0, 0, 0, 0x99 };

/* ---------------------------------------------------------------- */
/* The client under test                                            */
/* ---------------------------------------------------------------- */

struct dt_ev {
	enum ns_dhcp_event ev;
	bool has_lease;
	struct ns_dhcp_lease lease;
};

struct dt {
	struct nt_env e;
	struct ns_dhcp *d;
	struct dt_ev evs[32];
	unsigned nev;
};

static void
dt_event(void *arg, enum ns_dhcp_event ev, const struct ns_dhcp_lease *l)
{
	struct dt *t = arg;
	struct dt_ev *e;

	ck_assert_uint_lt(t->nev, 32);
	e = &t->evs[t->nev++];
	e->ev = ev;
	e->has_lease = l != NULL;
	if (l != NULL)
		e->lease = *l;
}

static void
dt_start(struct dt *t, uint32_t flags, uint32_t remembered)
{
	struct ns_dhcp_config c = { .dc_addr = remembered,
		.dc_flags = flags,
		.dc_event = dt_event,
		.dc_event_arg = t };

	memset(t, 0, sizeof(*t));
	nt_env_init(&t->e, NULL, 0, NULL);
	ck_assert_int_eq(ns_dhcp_start(t->e.e_ns, &c, &t->d), 0);
}

static void
dt_fini(struct dt *t)
{
	if (t->d != NULL)
		ns_dhcp_stop(t->d);
	nt_env_fini(&t->e);
}

static const struct ns_dhcp_stats *
dst(const struct dt *t)
{
	return ns_dhcp_stats(t->d);
}

static uint64_t
now(const struct dt *t)
{
	return t->e.e_host.nh_now_us;
}

/* ---------------------------------------------------------------- */
/* What the client sends                                            */
/* ---------------------------------------------------------------- */

static uint16_t
g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
p32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct cmsg {
	uint16_t etype;
	uint8_t eth_dst[6];
	/* ARP */
	uint16_t arp_op;
	uint32_t arp_spa, arp_tpa;
	uint8_t arp_sha[6];
	/* DHCP */
	uint8_t type;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t xid, ciaddr;
	uint16_t secs, flags;
	uint32_t len;
	uint8_t raw[1500];
};

static void dt_arp_in(struct dt *t, const uint8_t *mac, uint16_t op,
    uint32_t spa, uint32_t tpa);

/*
 * The stack's own ARP requests for the server (resolving it for a
 * unicast REQUEST or RELEASE, refreshing the entry) are answered here and
 * do not count as frames: the tests look at what DHCP sends.
 */
static bool
dt_ready(struct dt *t)
{
	struct nt_frame *f;
	const uint8_t *d;

	while ((f = t->e.e_if.fi_out) != NULL) {
		d = f->f_data;
		if (f->f_len < 42 || g16(d + 12) != ETH_TYPE_ARP ||
		    g16(d + 20) != ARP_OP_REQUEST || g32(d + 28) == 0 ||
		    g32(d + 38) != SRV)
			break;
		f = nt_if_pop(&t->e.e_if);
		dt_arp_in(t, mac_srv, ARP_OP_REPLY, SRV, g32(f->f_data + 28));
		free(f);
	}
	return t->e.e_if.fi_nout > 0;
}

/* Pops the next frame sent; false when there is none. */
static bool
dt_pop(struct dt *t, struct cmsg *m)
{
	struct nt_frame *f;
	struct nt_parsed p;
	const uint8_t *d;

	memset(m, 0, sizeof(*m));
	if (!dt_ready(t))
		return false;
	f = nt_if_pop(&t->e.e_if);
	d = f->f_data;
	ck_assert(nt_parse(f, &p));
	m->etype = p.etype;
	memcpy(m->eth_dst, d, 6);
	if (p.etype == ETH_TYPE_ARP) {
		ck_assert_uint_ge(f->f_len, 42);
		ck_assert_uint_eq(g16(d + 14), ARP_HRD_ETHER);
		ck_assert_uint_eq(g16(d + 16), ETH_TYPE_IPV4);
		m->arp_op = g16(d + 20);
		memcpy(m->arp_sha, d + 22, 6);
		m->arp_spa = g32(d + 28);
		m->arp_tpa = g32(d + 38);
	} else if (p.etype == ETH_TYPE_IPV4 && d[23] == IP_PROTO_UDP) {
		ck_assert(p.sums_ok);
		m->src = g32(d + 26);
		m->dst = g32(d + 30);
		m->sport = g16(p.l4);
		m->dport = g16(p.l4 + 2);
		m->len = p.dlen;
		ck_assert_uint_le(p.dlen, sizeof(m->raw));
		memcpy(m->raw, p.data, p.dlen);
		if (m->dport == DHCP_SERVER_PORT && p.dlen >= DHCP_HLEN) {
			m->xid = g32(m->raw + 4);
			m->secs = g16(m->raw + 8);
			m->flags = g16(m->raw + 10);
			m->ciaddr = g32(m->raw + 12);
		}
	}
	free(f);
	return true;
}

/* An option of a message we sent (options field only), or NULL. */
static const uint8_t *
cm_opt(const struct cmsg *m, uint8_t code, uint32_t *len)
{
	uint32_t i = DHCP_HLEN;

	while (i < m->len) {
		if (m->raw[i] == DHO_PAD) {
			i++;
			continue;
		}
		if (m->raw[i] == DHO_END)
			return NULL;
		ck_assert_uint_lt(i + 1, m->len);
		ck_assert_uint_le(i + 2 + m->raw[i + 1], m->len);
		if (m->raw[i] == code) {
			*len = m->raw[i + 1];
			return m->raw + i + 2;
		}
		i += 2u + m->raw[i + 1];
	}
	ck_abort_msg("no END in a message we sent");
	return NULL;
}

static uint32_t
cm_opt32(const struct cmsg *m, uint8_t code)
{
	uint32_t len = 0;
	const uint8_t *v = cm_opt(m, code, &len);

	if (v == NULL)
		return 0;
	ck_assert_uint_eq(len, 4);
	return g32(v);
}

/* The next frame must be a DHCP message of type; checks what all share. */
static void
dt_expect(struct dt *t, uint8_t type, struct cmsg *m)
{
	uint32_t len = 0;
	const uint8_t *v;

	ck_assert_msg(dt_pop(t, m), "no frame (expected DHCP type %u)", type);
	ck_assert_uint_eq(m->etype, ETH_TYPE_IPV4);
	ck_assert_uint_eq(m->sport, DHCP_CLIENT_PORT);
	ck_assert_uint_eq(m->dport, DHCP_SERVER_PORT);
	ck_assert_uint_ge(m->len, DHCP_MIN_MSG);
	ck_assert_uint_eq(m->raw[0], BOOTREQUEST);
	ck_assert_uint_eq(m->raw[1], 1);
	ck_assert_uint_eq(m->raw[2], 6);
	ck_assert_mem_eq(m->raw + 28, nt_mac_me, 6);
	ck_assert_uint_eq(g32(m->raw + 236), DHCP_MAGIC);
	ck_assert_uint_eq(m->flags, 0);
	v = cm_opt(m, DHO_MSG_TYPE, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(v[0], type);
	m->type = v[0];
	v = cm_opt(m, DHO_CLIENT_ID, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 7);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_mem_eq(v + 1, nt_mac_me, 6);
	v = cm_opt(m, DHO_MAX_MSG, &len);
	if (type == DHCPDISCOVER || type == DHCPREQUEST) {
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(len, 2);
		ck_assert_uint_ge(g16(v), DHCP_MIN_MAXMSG);
		v = cm_opt(m, DHO_PARAM_REQ, &len);
		ck_assert_ptr_nonnull(v);
		ck_assert_ptr_nonnull(memchr(v, DHO_SUBNET_MASK, len));
		ck_assert_ptr_nonnull(memchr(v, DHO_ROUTER, len));
		ck_assert_ptr_nonnull(memchr(v, DHO_DNS, len));
	} else {
		ck_assert_ptr_null(v); /* RFC 2131 table 5: MUST NOT */
		ck_assert_ptr_null(cm_opt(m, DHO_PARAM_REQ, &len));
	}
}

/* A broadcast from 0.0.0.0 (before an address is bound). */
static void
dt_expect_bcast0(const struct cmsg *m)
{
	ck_assert_mem_eq(m->eth_dst, "\xff\xff\xff\xff\xff\xff", 6);
	ck_assert_uint_eq(m->src, 0);
	ck_assert_uint_eq(m->dst, BCAST);
	ck_assert_uint_eq(m->ciaddr, 0);
}

static void
dt_expect_arp(struct dt *t, uint32_t spa, uint32_t tpa)
{
	struct cmsg m;

	ck_assert_msg(dt_pop(t, &m), "no frame (expected ARP)");
	ck_assert_uint_eq(m.etype, ETH_TYPE_ARP);
	ck_assert_uint_eq(m.arp_op, ARP_OP_REQUEST);
	ck_assert_mem_eq(m.eth_dst, "\xff\xff\xff\xff\xff\xff", 6);
	ck_assert_mem_eq(m.arp_sha, nt_mac_me, 6);
	ck_assert_uint_eq(m.arp_spa, spa);
	ck_assert_uint_eq(m.arp_tpa, tpa);
}

static void
dt_expect_none(struct dt *t)
{
	struct cmsg m;

	ck_assert_msg(!dt_pop(t, &m), "unexpected frame type %#x", m.etype);
}

/* Advances to the next timer; its distance from now. */
static uint64_t
dt_next_timer(struct dt *t)
{
	uint64_t before = now(t), next = ns_next_timer(t->e.e_ns);

	ck_assert_uint_ne(next, UINT64_MAX);
	ck_assert_uint_ge(next, before);
	nt_advance(&t->e, next - before);
	return next - before;
}

/* Advances timer by timer until a frame is sent; the time it took. */
static uint64_t
dt_wait_frame(struct dt *t)
{
	uint64_t start = now(t);
	int i;

	for (i = 0; i < 100 && !dt_ready(t); i++)
		dt_next_timer(t);
	ck_assert(dt_ready(t));
	return now(t) - start;
}

/* ---------------------------------------------------------------- */
/* What the server sends                                            */
/* ---------------------------------------------------------------- */

struct smsg {
	uint8_t b[2000];
	uint32_t n;
};

static void
sm_opt(struct smsg *s, uint8_t code, uint32_t len, const void *v)
{
	s->b[s->n++] = code;
	s->b[s->n++] = (uint8_t)len;
	memcpy(s->b + s->n, v, len);
	s->n += len;
}

static void
sm_opt32(struct smsg *s, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	p32(b, v);
	sm_opt(s, code, 4, b);
}

/* A BOOTREPLY for us with a message type (0: none). */
static void
sm_begin(struct smsg *s, uint8_t type, uint32_t xid, uint32_t yiaddr)
{
	memset(s, 0, sizeof(*s));
	s->b[0] = BOOTREPLY;
	s->b[1] = 1;
	s->b[2] = 6;
	p32(s->b + 4, xid);
	p32(s->b + 16, yiaddr);
	p32(s->b + 20, SRV);
	memcpy(s->b + 28, nt_mac_me, 6);
	p32(s->b + 236, DHCP_MAGIC);
	s->n = DHCP_HLEN;
	if (type != 0)
		sm_opt(s, DHO_MSG_TYPE, 1, &type);
}

/* Server id, mask, router, DNS and (when not 0) the lease. */
static void
sm_std(struct smsg *s, uint32_t lease)
{
	sm_opt32(s, DHO_SERVER_ID, SRV);
	sm_opt32(s, DHO_SUBNET_MASK, MASK);
	sm_opt32(s, DHO_ROUTER, SRV);
	sm_opt32(s, DHO_DNS, DNS1);
	if (lease != 0)
		sm_opt32(s, DHO_LEASE_TIME, lease);
}

static void
sm_end(struct smsg *s)
{
	s->b[s->n++] = DHO_END;
	if (s->n < DHCP_MIN_MSG)
		s->n = DHCP_MIN_MSG;
}

static void
sm_make(struct smsg *s, uint8_t type, uint32_t xid, uint32_t lease)
{
	sm_begin(s, type, xid, type == DHCPNAK ? 0 : ADDR);
	if (type == DHCPNAK)
		sm_opt32(s, DHO_SERVER_ID, SRV);
	else
		sm_std(s, lease);
	sm_end(s);
}

/* Sends a server message from sport to dst and lets the client run. */
static void
dt_send_to(struct dt *t, const struct smsg *s, uint16_t sport, uint32_t dst)
{
	static uint8_t f[NT_MAXFRAME];
	uint32_t n =
	    nt_build_udp(f, SRV, dst, sport, DHCP_CLIENT_PORT, s->b, s->n, 0);

	memcpy(f + 6, mac_srv, 6);
	nt_inject(&t->e, f, n);
	nt_advance(&t->e, 0);
}

static void
dt_send(struct dt *t, const struct smsg *s)
{
	dt_send_to(t, s, DHCP_SERVER_PORT, BCAST);
}

/* An ARP packet from mac on the wire. */
static void
dt_arp_in(struct dt *t, const uint8_t *mac, uint16_t op, uint32_t spa,
    uint32_t tpa)
{
	uint8_t f[42];

	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	f[14] = 0;
	f[15] = 1;
	f[16] = 0x08;
	f[17] = 0;
	f[18] = 6;
	f[19] = 4;
	f[20] = 0;
	f[21] = (uint8_t)op;
	memcpy(f + 22, mac, 6);
	p32(f + 28, spa);
	memset(f + 32, 0, 6);
	p32(f + 38, tpa);
	nt_inject(&t->e, f, sizeof(f));
	nt_advance(&t->e, 0);
}

/* Does the stack answer ARP for a (is it configured)? Teaches it the
 * server's MAC when it does. */
static bool
dt_has_addr(struct dt *t, uint32_t a)
{
	struct cmsg m;
	bool yes;

	dt_arp_in(t, mac_srv, ARP_OP_REQUEST, SRV, a);
	yes = dt_pop(t, &m);
	if (yes) {
		ck_assert_uint_eq(m.etype, ETH_TYPE_ARP);
		ck_assert_uint_eq(m.arp_op, ARP_OP_REPLY);
		ck_assert_uint_eq(m.arp_spa, a);
		ck_assert_mem_eq(m.eth_dst, mac_srv, 6);
	}
	dt_expect_none(t);
	return yes;
}

/* DISCOVER, OFFER, REQUEST, ACK; the client then probes or binds. */
static void
dt_exchange(struct dt *t, uint32_t lease)
{
	struct cmsg m;
	struct smsg s;

	dt_expect(t, DHCPDISCOVER, &m);
	sm_make(&s, DHCPOFFER, m.xid, lease);
	dt_send(t, &s);
	dt_expect(t, DHCPREQUEST, &m);
	sm_make(&s, DHCPACK, m.xid, lease);
	dt_send(t, &s);
}

/* A client bound to ADDR without probing, the server's MAC known. */
static void
dt_bound(struct dt *t, uint32_t lease)
{
	dt_start(t, NS_DHCPF_NO_PROBE, 0);
	dt_exchange(t, lease);
	ck_assert_int_eq(ns_dhcp_state(t->d), NS_DHCP_BOUND);
	dt_expect_arp(t, ADDR, ADDR); /* the announcement */
	ck_assert(dt_has_addr(t, ADDR));
	t->nev = 0;
}

/* ---------------------------------------------------------------- */
/* The exchange                                                     */
/* ---------------------------------------------------------------- */

START_TEST(t_discover)
{
	struct dt t;
	struct cmsg m;
	uint32_t len;

	dt_start(&t, 0, 0);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_SELECTING);
	dt_expect(&t, DHCPDISCOVER, &m);
	ck_assert(!dt_has_addr(&t, NT_ME)); /* start cleared it */
	dt_expect_bcast0(&m);
	ck_assert_uint_eq(m.secs, 0);
	ck_assert_ptr_null(cm_opt(&m, DHO_REQUESTED_IP, &len));
	ck_assert_ptr_null(cm_opt(&m, DHO_SERVER_ID, &len));
	ck_assert_uint_eq(dst(&t)->ds_tx_discover, 1);
	dt_expect_none(&t);
	dt_fini(&t);
}
END_TEST

START_TEST(t_exchange_probe_bind)
{
	struct dt t;
	struct cmsg m, d;
	struct smsg s;
	struct ns_dhcp_lease l;
	static uint8_t out[8];
	struct ns_udp *u;
	uint64_t gap;
	int i;

	dt_start(&t, 0, 0);
	dt_expect(&t, DHCPDISCOVER, &d);
	nt_advance(&t.e, 2 * SEC);
	sm_make(&s, DHCPOFFER, d.xid, 3600);
	dt_send(&t, &s);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_REQUESTING);
	dt_expect(&t, DHCPREQUEST, &m);
	dt_expect_bcast0(&m);
	ck_assert_uint_eq(m.xid, d.xid);
	ck_assert_uint_eq(m.secs, d.secs); /* RFC 2131 4.4.1 */
	ck_assert_uint_eq(cm_opt32(&m, DHO_REQUESTED_IP), ADDR);
	ck_assert_uint_eq(cm_opt32(&m, DHO_SERVER_ID), SRV);
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), -ENOENT);
	sm_make(&s, DHCPACK, m.xid, 3600);
	dt_send(&t, &s);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_CHECKING);
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), -ENOENT);
	/* Three probes, 1 to 2 s apart, then 2 s of silence. */
	gap = dt_wait_frame(&t);
	ck_assert_uint_le(gap, SEC);
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			gap = dt_wait_frame(&t);
			ck_assert_uint_ge(gap, SEC);
			ck_assert_uint_le(gap, 2 * SEC);
		}
		dt_expect_arp(&t, 0, ADDR);
		ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_CHECKING);
	}
	ck_assert_uint_eq(t.nev, 0);
	gap = dt_wait_frame(&t);
	ck_assert_uint_eq(gap, 2 * SEC);
	dt_expect_arp(&t, ADDR, ADDR); /* the announcement */
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	ck_assert_uint_eq(t.nev, 1);
	ck_assert_int_eq(t.evs[0].ev, NS_DHCP_EV_BOUND);
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), 0);
	ck_assert_mem_eq(&l, &t.evs[0].lease, sizeof(l));
	ck_assert_uint_eq(l.dl_addr, ADDR);
	ck_assert_uint_eq(l.dl_netmask, MASK);
	ck_assert_uint_eq(l.dl_gateway, SRV);
	ck_assert_uint_eq(l.dl_dns[0], DNS1);
	ck_assert_uint_eq(l.dl_dns[1], 0);
	ck_assert_uint_eq(l.dl_server, SRV);
	ck_assert_uint_eq(l.dl_lease_s, 3600);
	ck_assert_uint_eq(l.dl_t1_s, 1800);
	ck_assert_uint_eq(l.dl_t2_s, 3150);
	ck_assert_uint_eq(dst(&t)->ds_arp_probes, 3);
	ck_assert_uint_eq(dst(&t)->ds_bound, 1);
	/* The address, mask and gateway are the stack's now. */
	ck_assert(dt_has_addr(&t, ADDR));
	ck_assert_int_eq(ns_udp_open(t.e.e_ns, &u), 0);
	ck_assert_int_eq(ns_udp_sendto(u, NS_IP4(8, 8, 8, 8), 53, out, 8), 0);
	ck_assert(dt_pop(&t, &m));
	ck_assert_uint_eq(m.etype, ETH_TYPE_IPV4);
	ck_assert_mem_eq(m.eth_dst, mac_srv, 6); /* via the gateway */
	ck_assert_uint_eq(m.src, ADDR);
	ns_udp_close(u);
	dt_fini(&t);
}
END_TEST

START_TEST(t_discover_backoff)
{
	static const uint64_t base[] = { 4, 8, 16, 32, 64, 64, 64 };
	struct dt t;
	struct cmsg m;
	uint64_t gap;
	uint32_t xid;
	bool exact = true;
	unsigned i;

	dt_start(&t, 0, 0);
	dt_expect(&t, DHCPDISCOVER, &m);
	xid = m.xid;
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		gap = dt_wait_frame(&t);
		ck_assert_uint_ge(gap, (base[i] - 1) * SEC);
		ck_assert_uint_le(gap, (base[i] + 1) * SEC);
		exact = exact && gap == base[i] * SEC;
		dt_expect(&t, DHCPDISCOVER, &m);
		ck_assert_uint_eq(m.xid, xid);
		ck_assert_uint_eq(m.secs, (now(&t) - 1 * SEC) / SEC);
	}
	ck_assert(!exact); /* jittered */
	ck_assert_uint_eq(dst(&t)->ds_retransmits, 7);
	dt_fini(&t);
}
END_TEST

START_TEST(t_request_gives_up)
{
	struct dt t;
	struct cmsg m;
	struct smsg s;
	uint32_t xid;
	int i;

	dt_start(&t, 0, 0);
	dt_expect(&t, DHCPDISCOVER, &m);
	xid = m.xid;
	sm_make(&s, DHCPOFFER, xid, 600);
	dt_send(&t, &s);
	dt_expect(&t, DHCPREQUEST, &m);
	for (i = 0; i < 3; i++) {
		dt_wait_frame(&t);
		dt_expect(&t, DHCPREQUEST, &m);
		ck_assert_uint_eq(m.xid, xid);
	}
	dt_wait_frame(&t);
	dt_expect(&t, DHCPDISCOVER, &m);
	ck_assert_uint_ne(m.xid, xid);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_SELECTING);
	/* And it still binds. */
	sm_make(&s, DHCPOFFER, m.xid, 600);
	dt_send(&t, &s);
	dt_expect(&t, DHCPREQUEST, &m);
	sm_make(&s, DHCPACK, m.xid, 600);
	dt_send(&t, &s);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_CHECKING);
	dt_fini(&t);
}
END_TEST

START_TEST(t_renew)
{
	struct dt t;
	struct cmsg m;
	struct smsg s;
	struct ns_dhcp_lease l;
	uint64_t bound = 0;
	uint32_t len;

	dt_bound(&t, 1000);
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), 0);
	bound = l.dl_start_us;
	nt_advance(&t.e, bound + 500 * SEC - 1 - now(&t));
	dt_expect_none(&t);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	nt_advance(&t.e, 1);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_RENEWING);
	dt_expect(&t, DHCPREQUEST, &m);
	ck_assert_mem_eq(m.eth_dst, mac_srv, 6); /* unicast */
	ck_assert_uint_eq(m.src, ADDR);
	ck_assert_uint_eq(m.dst, SRV);
	ck_assert_uint_eq(m.ciaddr, ADDR);
	ck_assert_ptr_null(cm_opt(&m, DHO_REQUESTED_IP, &len));
	ck_assert_ptr_null(cm_opt(&m, DHO_SERVER_ID, &len));
	/* A reply to another exchange is not taken. */
	sm_make(&s, DHCPACK, m.xid + 1, 1000);
	dt_send_to(&t, &s, DHCP_SERVER_PORT, ADDR);
	ck_assert_uint_eq(dst(&t)->ds_rx_badxid, 1);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_RENEWING);
	nt_advance(&t.e, 3 * SEC);
	sm_make(&s, DHCPACK, m.xid, 2000);
	dt_send_to(&t, &s, DHCP_SERVER_PORT, ADDR);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	ck_assert_uint_eq(t.nev, 1);
	ck_assert_int_eq(t.evs[0].ev, NS_DHCP_EV_RENEWED);
	ck_assert_uint_eq(t.evs[0].lease.dl_lease_s, 2000);
	/* Counted from the REQUEST, not the ACK. */
	ck_assert_uint_eq(t.evs[0].lease.dl_start_us, bound + 500 * SEC);
	ck_assert_uint_eq(dst(&t)->ds_renewed, 1);
	ck_assert(dt_has_addr(&t, ADDR));
	/* The next T1 is 1000 s after that REQUEST. */
	nt_advance(&t.e, bound + 1500 * SEC - 1 - now(&t));
	dt_expect_none(&t);
	nt_advance(&t.e, 1);
	dt_expect(&t, DHCPREQUEST, &m);
	ck_assert_uint_eq(m.dst, SRV);
	dt_fini(&t);
}
END_TEST

START_TEST(t_renew_retransmit_rebind)
{
	/* T1 500 s, T2 875 s: renewing retransmits at half the time to T2,
	 * at least 60 s, then rebinds at T2. */
	static const uint64_t at_ms[] = { 500000, 687500, 781250, 841250,
		875000 };
	struct dt t;
	struct cmsg m;
	struct smsg s;
	struct ns_dhcp_lease l;
	uint64_t start;
	unsigned i;
	uint32_t len;

	dt_bound(&t, 1000);
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), 0);
	start = l.dl_start_us;
	for (i = 0; i < 5; i++) {
		dt_wait_frame(&t);
		ck_assert_uint_eq(now(&t) - start, at_ms[i] * 1000);
		dt_expect(&t, DHCPREQUEST, &m);
		ck_assert_uint_eq(m.ciaddr, ADDR);
		ck_assert_uint_eq(m.src, ADDR);
		ck_assert_uint_eq(m.dst, i < 4 ? SRV : BCAST);
	}
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_REBINDING);
	ck_assert_uint_eq(dst(&t)->ds_rebinding, 1);
	ck_assert_mem_eq(m.eth_dst, "\xff\xff\xff\xff\xff\xff", 6);
	ck_assert_ptr_null(cm_opt(&m, DHO_SERVER_ID, &len));
	ck_assert_ptr_null(cm_opt(&m, DHO_REQUESTED_IP, &len));
	/* Another server may answer a rebinding client. */
	sm_begin(&s, DHCPACK, m.xid, ADDR);
	sm_opt32(&s, DHO_SERVER_ID, SRV2);
	sm_opt32(&s, DHO_SUBNET_MASK, MASK);
	sm_opt32(&s, DHO_LEASE_TIME, 1000);
	sm_end(&s);
	dt_send(&t, &s);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), 0);
	ck_assert_uint_eq(l.dl_server, SRV2);
	ck_assert_uint_eq(l.dl_gateway, 0); /* no router this time */
	ck_assert_uint_eq(l.dl_start_us, start + 875 * SEC);
	ck_assert_uint_eq(t.evs[t.nev - 1].ev, NS_DHCP_EV_RENEWED);
	dt_fini(&t);
}
END_TEST

START_TEST(t_expire)
{
	/* Unanswered: renewing as above, then rebinding retransmits at half
	 * the time left, at least 60 s, and the lease ends at 1000 s. */
	static const uint64_t at_ms[] = { 500000, 687500, 781250, 841250,
		875000, 937500, 997500 };
	struct dt t;
	struct cmsg m;
	struct ns_dhcp_lease l;
	unsigned i;

	dt_bound(&t, 1000);
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), 0);
	for (i = 0; i < sizeof(at_ms) / sizeof(at_ms[0]); i++) {
		dt_wait_frame(&t);
		ck_assert_uint_eq(now(&t) - l.dl_start_us, at_ms[i] * 1000);
		dt_expect(&t, DHCPREQUEST, &m);
		ck_assert_uint_eq(m.src, ADDR);
		ck_assert_uint_eq(m.dst, i < 4 ? SRV : BCAST);
	}
	ck_assert_uint_eq(t.nev, 0);
	dt_wait_frame(&t);
	ck_assert_uint_eq(now(&t), l.dl_start_us + 1000 * SEC);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_SELECTING);
	ck_assert_uint_eq(dst(&t)->ds_expired, 1);
	ck_assert_uint_eq(t.nev, 1);
	ck_assert_int_eq(t.evs[0].ev, NS_DHCP_EV_EXPIRED);
	ck_assert_uint_eq(t.evs[0].lease.dl_addr, ADDR);
	dt_expect(&t, DHCPDISCOVER, &m);
	dt_expect_bcast0(&m);
	ck_assert(!dt_has_addr(&t, ADDR));
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), -ENOENT);
	dt_fini(&t);
}
END_TEST

START_TEST(t_nak_requesting)
{
	struct dt t;
	struct cmsg m;
	struct smsg s;
	uint32_t xid;
	uint64_t gap;

	dt_start(&t, 0, 0);
	dt_expect(&t, DHCPDISCOVER, &m);
	xid = m.xid;
	sm_make(&s, DHCPOFFER, xid, 600);
	dt_send(&t, &s);
	dt_expect(&t, DHCPREQUEST, &m);
	sm_make(&s, DHCPNAK, xid, 0);
	dt_send(&t, &s);
	ck_assert_uint_eq(dst(&t)->ds_rx_nak, 1);
	ck_assert_uint_eq(t.nev, 1);
	ck_assert_int_eq(t.evs[0].ev, NS_DHCP_EV_NAK);
	ck_assert(!t.evs[0].has_lease);
	/* The first NAK restarts at once, with a new xid. */
	dt_expect(&t, DHCPDISCOVER, &m);
	ck_assert_uint_ne(m.xid, xid);
	/* The second in a row waits 4 s (+-1). */
	sm_make(&s, DHCPOFFER, m.xid, 600);
	dt_send(&t, &s);
	dt_expect(&t, DHCPREQUEST, &m);
	sm_make(&s, DHCPNAK, m.xid, 0);
	dt_send(&t, &s);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_INIT);
	dt_expect_none(&t);
	gap = dt_wait_frame(&t);
	ck_assert_uint_eq(gap, 4 * SEC);
	dt_expect(&t, DHCPDISCOVER, &m);
	dt_fini(&t);
}
END_TEST

START_TEST(t_nak_renewing)
{
	struct dt t;
	struct cmsg m;
	struct smsg s;

	dt_bound(&t, 1000);
	dt_wait_frame(&t);
	dt_expect(&t, DHCPREQUEST, &m);
	sm_make(&s, DHCPNAK, m.xid, 0);
	dt_send_to(&t, &s, DHCP_SERVER_PORT, ADDR);
	ck_assert_uint_eq(t.nev, 1);
	ck_assert_int_eq(t.evs[0].ev, NS_DHCP_EV_NAK);
	ck_assert(t.evs[0].has_lease);
	ck_assert_uint_eq(t.evs[0].lease.dl_addr, ADDR);
	dt_expect(&t, DHCPDISCOVER, &m);
	dt_expect_bcast0(&m);
	ck_assert(!dt_has_addr(&t, ADDR));
	dt_fini(&t);
}
END_TEST

START_TEST(t_init_reboot)
{
	struct dt t;
	struct cmsg m;
	struct smsg s;
	uint32_t len;

	dt_start(&t, NS_DHCPF_NO_PROBE, ADDR);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_REBOOTING);
	dt_expect(&t, DHCPREQUEST, &m);
	dt_expect_bcast0(&m);
	ck_assert_uint_eq(cm_opt32(&m, DHO_REQUESTED_IP), ADDR);
	ck_assert_ptr_null(cm_opt(&m, DHO_SERVER_ID, &len));
	/* An ACK without a server id is not enough here. */
	sm_begin(&s, DHCPACK, m.xid, ADDR);
	sm_opt32(&s, DHO_LEASE_TIME, 600);
	sm_end(&s);
	dt_send(&t, &s);
	ck_assert_uint_eq(dst(&t)->ds_rx_badserver, 1);
	sm_make(&s, DHCPACK, m.xid, 600);
	dt_send(&t, &s);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	ck_assert_int_eq(t.evs[0].ev, NS_DHCP_EV_BOUND);
	ck_assert_uint_eq(t.evs[0].lease.dl_server, SRV);
	dt_expect_arp(&t, ADDR, ADDR);
	ck_assert(dt_has_addr(&t, ADDR));
	dt_fini(&t);
}
END_TEST

START_TEST(t_init_reboot_nak)
{
	struct dt t;
	struct cmsg m;
	struct smsg s;

	dt_start(&t, 0, NS_IP4(192, 168, 1, 20));
	dt_expect(&t, DHCPREQUEST, &m);
	ck_assert_uint_eq(cm_opt32(&m, DHO_REQUESTED_IP),
	    NS_IP4(192, 168, 1, 20));
	sm_make(&s, DHCPNAK, m.xid, 0);
	dt_send(&t, &s);
	ck_assert_int_eq(t.evs[0].ev, NS_DHCP_EV_NAK);
	dt_expect(&t, DHCPDISCOVER, &m);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_SELECTING);
	dt_fini(&t);
}
END_TEST

START_TEST(t_init_reboot_silent)
{
	struct dt t;
	struct cmsg m;
	int i;

	dt_start(&t, 0, ADDR);
	dt_expect(&t, DHCPREQUEST, &m);
	for (i = 0; i < 2; i++) {
		dt_wait_frame(&t);
		dt_expect(&t, DHCPREQUEST, &m);
	}
	dt_wait_frame(&t);
	dt_expect(&t, DHCPDISCOVER, &m);
	ck_assert_uint_eq(dst(&t)->ds_tx_request, 3);
	dt_fini(&t);
}
END_TEST

/* In CHECKING, each of these ARP packets is a conflict. */
static const struct {
	uint16_t op;
	uint32_t spa, tpa;
} conflicts[] = {
	{ ARP_OP_REPLY, ADDR, 0 },	/* the owner answers a probe */
	{ ARP_OP_REQUEST, ADDR, SRV },	/* the owner uses it */
	{ ARP_OP_REQUEST, 0, ADDR },	/* another host probes it */
	{ ARP_OP_REPLY, ADDR, NT_ME },	/* a reply to anyone */
	{ ARP_OP_REQUEST, ADDR, ADDR }, /* an announcement */
};

START_TEST(t_probe_conflict)
{
	struct dt t;
	struct cmsg m;
	uint32_t len;
	uint64_t gap;

	dt_start(&t, 0, 0);
	dt_exchange(&t, 600);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_CHECKING);
	dt_wait_frame(&t);
	dt_expect_arp(&t, 0, ADDR);
	dt_arp_in(&t, mac_other, conflicts[_i].op, conflicts[_i].spa,
	    conflicts[_i].tpa);
	dt_expect(&t, DHCPDECLINE, &m);
	dt_expect_bcast0(&m);
	ck_assert_uint_eq(cm_opt32(&m, DHO_REQUESTED_IP), ADDR);
	ck_assert_uint_eq(cm_opt32(&m, DHO_SERVER_ID), SRV);
	ck_assert_ptr_null(cm_opt(&m, DHO_PARAM_REQ, &len));
	ck_assert_uint_eq(dst(&t)->ds_arp_conflicts, 1);
	ck_assert_uint_eq(dst(&t)->ds_tx_decline, 1);
	ck_assert_uint_eq(t.nev, 1);
	ck_assert_int_eq(t.evs[0].ev, NS_DHCP_EV_DECLINED);
	ck_assert_uint_eq(t.evs[0].lease.dl_addr, ADDR);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_INIT);
	ck_assert(!dt_has_addr(&t, ADDR));
	/* 10 s later, a new DISCOVER; then a clean exchange binds. */
	gap = dt_wait_frame(&t);
	ck_assert_uint_eq(gap, 10 * SEC);
	dt_expect(&t, DHCPDISCOVER, &m);
	dt_expect_bcast0(&m);
	dt_fini(&t);
}
END_TEST

START_TEST(t_probe_no_conflict)
{
	struct dt t;
	int n = 0;

	dt_start(&t, 0, 0);
	dt_exchange(&t, 600);
	/* ARP about other addresses, and a probe answered by nobody. */
	dt_arp_in(&t, mac_other, ARP_OP_REQUEST, NS_IP4(10, 0, 2, 77), SRV);
	dt_arp_in(&t, mac_other, ARP_OP_REQUEST, 0, NS_IP4(10, 0, 2, 78));
	dt_arp_in(&t, mac_other, ARP_OP_REPLY, NS_IP4(10, 0, 2, 79), 0);
	while (ns_dhcp_state(t.d) == NS_DHCP_CHECKING && n++ < 10)
		dt_next_timer(&t);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	ck_assert_uint_eq(dst(&t)->ds_arp_conflicts, 0);
	dt_fini(&t);
}
END_TEST

START_TEST(t_release_on_stop)
{
	struct dt t;
	struct cmsg m;

	dt_bound(&t, 600);
	ns_dhcp_stop(t.d);
	t.d = NULL;
	dt_expect(&t, DHCPRELEASE, &m);
	ck_assert_mem_eq(m.eth_dst, mac_srv, 6);
	ck_assert_uint_eq(m.src, ADDR);
	ck_assert_uint_eq(m.dst, SRV);
	ck_assert_uint_eq(m.ciaddr, ADDR);
	ck_assert_uint_eq(cm_opt32(&m, DHO_SERVER_ID), SRV);
	ck_assert_uint_eq(cm_opt32(&m, DHO_REQUESTED_IP), 0);
	ck_assert_uint_eq(t.nev, 1);
	ck_assert_int_eq(t.evs[0].ev, NS_DHCP_EV_RELEASED);
	ck_assert(!dt_has_addr(&t, ADDR));
	dt_fini(&t);
}
END_TEST

START_TEST(t_stop_unbound)
{
	struct dt t;
	struct cmsg m;
	struct ns_dhcp *d2;

	dt_start(&t, 0, 0);
	dt_expect(&t, DHCPDISCOVER, &m);
	ck_assert_int_eq(ns_dhcp_start(t.e.e_ns, NULL, &d2), -EBUSY);
	ns_dhcp_stop(t.d);
	t.d = NULL;
	dt_expect_none(&t);
	ck_assert_uint_eq(t.nev, 0);
	/* Nothing left running: no timer, and port 68 is free again. */
	ck_assert_uint_eq(ns_next_timer(t.e.e_ns), UINT64_MAX);
	ck_assert_int_eq(ns_dhcp_start(t.e.e_ns, NULL, &t.d), 0);
	dt_expect(&t, DHCPDISCOVER, &m);
	dt_fini(&t);
}
END_TEST

START_TEST(t_start_errors)
{
	static const uint8_t cid1[1] = { 9 };
	struct ns_dhcp_config c = { 0 };
	struct ns_dhcp *d;
	struct ns_udp *u;
	struct nt_env e;

	nt_env_init(&e, NULL, 0, NULL);
	c.dc_addr = NS_IP4(224, 0, 0, 1);
	ck_assert_int_eq(ns_dhcp_start(e.e_ns, &c, &d), -EINVAL);
	c.dc_addr = 0;
	c.dc_client_id = cid1;
	c.dc_client_id_len = 1;
	ck_assert_int_eq(ns_dhcp_start(e.e_ns, &c, &d), -EINVAL);
	e.e_host.nh_fail_after = 1;
	ck_assert_int_eq(ns_dhcp_start(e.e_ns, NULL, &d), -ENOMEM);
	e.e_host.nh_fail_after = 2; /* the socket */
	ck_assert_int_eq(ns_dhcp_start(e.e_ns, NULL, &d), -ENOMEM);
	e.e_host.nh_fail_after = 0;
	ck_assert_int_eq(ns_udp_open(e.e_ns, &u), 0);
	ck_assert_int_eq(ns_udp_bind(u, 0, DHCP_CLIENT_PORT), 0);
	ck_assert_int_eq(ns_dhcp_start(e.e_ns, NULL, &d), -EADDRINUSE);
	ns_udp_close(u);
	ck_assert(e.e_if.fi_nout == 0);
	ck_assert_int_eq(ns_dhcp_start(e.e_ns, NULL, &d), 0);
	ns_dhcp_stop(d);
	nt_env_fini(&e);
}
END_TEST

START_TEST(t_client_id)
{
	static const uint8_t cid[] = { 0, 'd', 'f', '-', '1' };
	struct ns_dhcp_config c = { .dc_client_id = cid,
		.dc_client_id_len = sizeof(cid),
		.dc_flags = NS_DHCPF_NO_PROBE };
	struct nt_env e;
	struct ns_dhcp *d;
	struct nt_frame *f;
	struct nt_parsed p;
	const uint8_t *o;

	nt_env_init(&e, NULL, 0, NULL);
	ck_assert_int_eq(ns_dhcp_start(e.e_ns, &c, &d), 0);
	f = nt_if_pop(&e.e_if);
	ck_assert(nt_parse(f, &p));
	o = p.data + DHCP_HLEN;
	while (*o != DHO_CLIENT_ID)
		o += *o == 0 ? 1 : 2u + o[1];
	ck_assert_uint_eq(o[1], sizeof(cid));
	ck_assert_mem_eq(o + 2, cid, sizeof(cid));
	free(f);
	ns_dhcp_stop(d);
	nt_env_fini(&e);
}
END_TEST

START_TEST(t_infinite_lease)
{
	struct dt t;
	struct ns_dhcp_lease l;

	dt_bound(&t, NS_DHCP_INFINITE);
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), 0);
	ck_assert_uint_eq(l.dl_lease_s, NS_DHCP_INFINITE);
	nt_advance(&t.e, 400 * 86400 * SEC);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	nt_if_flush(&t.e.e_if); /* ARP refreshes, if any */
	ck_assert_uint_eq(dst(&t)->ds_tx_request, 1);
	ck_assert(dt_has_addr(&t, ADDR));
	dt_fini(&t);
}
END_TEST

/* T1/T2 from the server, bad ones replaced, short leases raised. */
static const struct {
	uint32_t lease, t1, t2; /* t1, t2: 0 = absent */
	uint32_t want_lease, want_t1, want_t2;
	int bad_times, clamped;
} times[] = {
	{ 1000, 100, 200, 1000, 100, 200, 0, 0 },
	{ 1000, 0, 0, 1000, 500, 875, 0, 0 },
	{ 1000, 300, 0, 1000, 300, 875, 0, 0 },
	{ 1000, 900, 800, 1000, 500, 875, 1, 0 },  /* T1 > T2 */
	{ 1000, 100, 5000, 1000, 500, 875, 1, 0 }, /* T2 > lease */
	{ 1000, 950, 0, 1000, 500, 875, 1, 0 },	   /* T1 > default T2 */
	{ 5, 0, 0, 20, 10, 17, 0, 1 },		   /* absurdly short */
	{ 1, 1, 1, 20, 1, 1, 0, 1 },		   /* T1 = T2 = 1 s */
	{ 0xfffffffe, 0, 0, 0xfffffffe, 0x7fffffff, 0xdffffffe, 0, 0 },
};

START_TEST(t_lease_times)
{
	struct dt t;
	struct cmsg m;
	struct smsg s;
	struct ns_dhcp_lease l;

	dt_start(&t, NS_DHCPF_NO_PROBE, 0);
	dt_expect(&t, DHCPDISCOVER, &m);
	sm_make(&s, DHCPOFFER, m.xid, times[_i].lease);
	dt_send(&t, &s);
	dt_expect(&t, DHCPREQUEST, &m);
	sm_begin(&s, DHCPACK, m.xid, ADDR);
	sm_std(&s, times[_i].lease);
	if (times[_i].t1 != 0)
		sm_opt32(&s, DHO_T1, times[_i].t1);
	if (times[_i].t2 != 0)
		sm_opt32(&s, DHO_T2, times[_i].t2);
	sm_end(&s);
	dt_send(&t, &s);
	ck_assert_int_eq(ns_dhcp_lease(t.d, &l), 0);
	ck_assert_uint_eq(l.dl_lease_s, times[_i].want_lease);
	ck_assert_uint_eq(l.dl_t1_s, times[_i].want_t1);
	ck_assert_uint_eq(l.dl_t2_s, times[_i].want_t2);
	ck_assert_uint_eq(dst(&t)->ds_bad_times, times[_i].bad_times);
	ck_assert_uint_eq(dst(&t)->ds_lease_clamped, times[_i].clamped);
	/* The client renews at T1. */
	nt_if_flush(&t.e.e_if);
	ck_assert_uint_eq(ns_next_timer(t.e.e_ns),
	    l.dl_start_us + (uint64_t)l.dl_t1_s * SEC);
	dt_fini(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Bad input: each dropped with its counter; then a clean exchange  */
/* ---------------------------------------------------------------- */

/* The phase the bad message is sent in. */
enum { IN_SELECTING, IN_REQUESTING, IN_BOUND };

struct bad {
	const char *name;
	int phase;
	void (*make)(struct smsg *s, uint32_t xid);
	size_t counter; /* offsetof(struct ns_dhcp_stats, ...) */
	uint16_t sport; /* 0: 67 */
};

#define CNT(f) offsetof(struct ns_dhcp_stats, f)

static void
mk_offer(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPOFFER, xid, ADDR);
	sm_std(s, 600);
}

static void
b_short100(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	s->n = 100;
}

static void
b_short239(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	s->n = 239;
}

static void
b_op(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	sm_end(s);
	s->b[0] = BOOTREQUEST;
}

static void
b_htype(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	sm_end(s);
	s->b[1] = 6;
}

static void
b_hlen(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	sm_end(s);
	s->b[2] = 16;
}

static void
b_xid(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid + 1);
	sm_end(s);
}

static void
b_chaddr(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	sm_end(s);
	memcpy(s->b + 28, mac_other, 6);
}

static void
b_cookie(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	sm_end(s);
	p32(s->b + 236, 0x63825364);
}

static void
b_bootp(struct smsg *s, uint32_t xid)
{
	sm_begin(s, 0, xid, ADDR);
	p32(s->b + 236, 0);
	s->n = DHCP_MIN_MSG;
}

static void
b_optpast(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	s->b[s->n++] = DHO_DNS;
	s->b[s->n++] = 40;
	p32(s->b + s->n, DNS1);
	s->n += 4;
}

static void
b_codeatend(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	s->b[s->n++] = DHO_ROUTER;
}

static void
b_noend(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
}

static void
b_noend_pads(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	s->n = DHCP_MIN_MSG; /* PADs to the end, no END */
}

static void
b_overload_val(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	s->b[s->n++] = DHO_OVERLOAD;
	s->b[s->n++] = 1;
	s->b[s->n++] = 4;
	sm_end(s);
}

static void
b_overload_len(struct smsg *s, uint32_t xid)
{
	static const uint8_t v[2] = { 1, 1 };

	mk_offer(s, xid);
	sm_opt(s, DHO_OVERLOAD, 2, v);
	sm_end(s);
}

static void
b_overload_noend(struct smsg *s, uint32_t xid)
{
	static const uint8_t v = 1;

	mk_offer(s, xid);
	sm_opt(s, DHO_OVERLOAD, 1, &v);
	sm_end(s);
	memset(s->b + 108, DHO_PAD, 128); /* 'file': no END */
}

static void
b_overload_past(struct smsg *s, uint32_t xid)
{
	static const uint8_t v = 2;

	mk_offer(s, xid);
	sm_opt(s, DHO_OVERLOAD, 1, &v);
	sm_end(s);
	s->b[44 + 60] = DHO_DNS; /* 'sname': runs past its 64 bytes */
	s->b[44 + 61] = 8;
}

static void
b_notype(struct smsg *s, uint32_t xid)
{
	sm_begin(s, 0, xid, ADDR);
	sm_std(s, 600);
	sm_end(s);
}

static void
b_type99(struct smsg *s, uint32_t xid)
{
	sm_begin(s, 99, xid, ADDR);
	sm_std(s, 600);
	sm_end(s);
}

static void
b_type_dup(struct smsg *s, uint32_t xid)
{
	static const uint8_t t = DHCPOFFER;

	mk_offer(s, xid);
	sm_opt(s, DHO_MSG_TYPE, 1, &t);
	sm_end(s);
}

static void
b_type_ack(struct smsg *s, uint32_t xid)
{
	sm_make(s, DHCPACK, xid, 600);
}

static void
b_masklen(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPOFFER, xid, ADDR);
	sm_opt32(s, DHO_SERVER_ID, SRV);
	sm_opt(s, DHO_SUBNET_MASK, 3, "\xff\xff\xff");
	sm_end(s);
}

static void
b_routerlen(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	sm_opt(s, DHO_ROUTER, 5, "\x0a\x00\x02\x02\x00");
	sm_end(s);
}

static void
offer_at(struct smsg *s, uint32_t xid, uint32_t a)
{
	sm_begin(s, DHCPOFFER, xid, a);
	sm_std(s, 600);
	sm_end(s);
}

static void
b_yi_zero(struct smsg *s, uint32_t xid)
{
	offer_at(s, xid, 0);
}

static void
b_yi_bcast(struct smsg *s, uint32_t xid)
{
	offer_at(s, xid, BCAST);
}

static void
b_yi_classd(struct smsg *s, uint32_t xid)
{
	offer_at(s, xid, NS_IP4(224, 0, 0, 5));
}

static void
b_yi_classe(struct smsg *s, uint32_t xid)
{
	offer_at(s, xid, NS_IP4(240, 0, 0, 1));
}

static void
b_yi_loop(struct smsg *s, uint32_t xid)
{
	offer_at(s, xid, NS_IP4(127, 0, 0, 1));
}

static void
b_yi_net0(struct smsg *s, uint32_t xid)
{
	offer_at(s, xid, NS_IP4(0, 1, 2, 3));
}

static void
b_yi_subnet_bcast(struct smsg *s, uint32_t xid)
{
	offer_at(s, xid, NS_IP4(10, 0, 2, 255));
}

static void
b_yi_subnet_net(struct smsg *s, uint32_t xid)
{
	offer_at(s, xid, NS_IP4(10, 0, 2, 0));
}

static void
b_mask_noncontig(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPOFFER, xid, ADDR);
	sm_opt32(s, DHO_SERVER_ID, SRV);
	sm_opt32(s, DHO_SUBNET_MASK, NS_IP4(255, 0, 255, 0));
	sm_end(s);
}

static void
b_mask_zero(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPOFFER, xid, ADDR);
	sm_opt32(s, DHO_SERVER_ID, SRV);
	sm_opt32(s, DHO_SUBNET_MASK, 0);
	sm_end(s);
}

static void
b_noserver(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPOFFER, xid, ADDR);
	sm_opt32(s, DHO_SUBNET_MASK, MASK);
	sm_opt32(s, DHO_LEASE_TIME, 600);
	sm_end(s);
}

static void
b_server0(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPOFFER, xid, ADDR);
	sm_opt32(s, DHO_SERVER_ID, 0);
	sm_end(s);
}

static void
b_other_cid(struct smsg *s, uint32_t xid)
{
	static const uint8_t cid[7] = { 1, 2, 0, 0, 0, 0, 0x99 };

	mk_offer(s, xid);
	sm_opt(s, DHO_CLIENT_ID, sizeof(cid), cid);
	sm_end(s);
}

static void
b_port(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	sm_end(s);
}

static void
b_toobig(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	memset(s->b + s->n, DHO_PAD, 1400);
	s->n += 1400;
	sm_end(s);
}

/* In REQUESTING. */
static void
b_ack_noleaase(struct smsg *s, uint32_t xid)
{
	sm_make(s, DHCPACK, xid, 0);
}

static void
b_ack_lease0(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPACK, xid, ADDR);
	sm_std(s, 0);
	sm_opt32(s, DHO_LEASE_TIME, 0);
	sm_end(s);
}

static void
b_ack_leasedup(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPACK, xid, ADDR);
	sm_std(s, 600);
	sm_opt32(s, DHO_LEASE_TIME, 600);
	sm_end(s);
}

static void
b_ack_other_server(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPACK, xid, ADDR);
	sm_opt32(s, DHO_SERVER_ID, SRV2);
	sm_opt32(s, DHO_LEASE_TIME, 600);
	sm_end(s);
}

static void
b_nak_other_server(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPNAK, xid, 0);
	sm_opt32(s, DHO_SERVER_ID, SRV2);
	sm_end(s);
}

static void
b_ack_yi_bcast(struct smsg *s, uint32_t xid)
{
	sm_begin(s, DHCPACK, xid, BCAST);
	sm_std(s, 600);
	sm_end(s);
}

static void
b_offer_in_req(struct smsg *s, uint32_t xid)
{
	mk_offer(s, xid);
	sm_end(s);
}

/* In BOUND: a stray reply (no exchange is waiting). */
static void
b_stray_ack(struct smsg *s, uint32_t xid)
{
	sm_make(s, DHCPACK, xid, 600);
}

static const struct bad bads[] = {
	{ "truncated 100", IN_SELECTING, b_short100, CNT(ds_rx_short), 0 },
	{ "truncated 239", IN_SELECTING, b_short239, CNT(ds_rx_short), 0 },
	{ "op request", IN_SELECTING, b_op, CNT(ds_rx_badhdr), 0 },
	{ "htype", IN_SELECTING, b_htype, CNT(ds_rx_badhdr), 0 },
	{ "hlen", IN_SELECTING, b_hlen, CNT(ds_rx_badhdr), 0 },
	{ "xid", IN_SELECTING, b_xid, CNT(ds_rx_badxid), 0 },
	{ "chaddr", IN_SELECTING, b_chaddr, CNT(ds_rx_notme), 0 },
	{ "cookie", IN_SELECTING, b_cookie, CNT(ds_rx_badcookie), 0 },
	{ "bootp", IN_SELECTING, b_bootp, CNT(ds_rx_badcookie), 0 },
	{ "option past end", IN_SELECTING, b_optpast, CNT(ds_rx_badopt), 0 },
	{ "code at end", IN_SELECTING, b_codeatend, CNT(ds_rx_badopt), 0 },
	{ "no END", IN_SELECTING, b_noend, CNT(ds_rx_badopt), 0 },
	{ "no END, pads", IN_SELECTING, b_noend_pads, CNT(ds_rx_badopt), 0 },
	{ "overload 4", IN_SELECTING, b_overload_val, CNT(ds_rx_badopt), 0 },
	{ "overload len", IN_SELECTING, b_overload_len, CNT(ds_rx_badopt), 0 },
	{ "overload no END", IN_SELECTING, b_overload_noend, CNT(ds_rx_badopt),
	    0 },
	{ "overload past", IN_SELECTING, b_overload_past, CNT(ds_rx_badopt),
	    0 },
	{ "no type", IN_SELECTING, b_notype, CNT(ds_rx_notype), 0 },
	{ "type 99", IN_SELECTING, b_type99, CNT(ds_rx_notype), 0 },
	{ "type twice", IN_SELECTING, b_type_dup, CNT(ds_rx_badopt), 0 },
	{ "ACK selecting", IN_SELECTING, b_type_ack, CNT(ds_rx_unexpected), 0 },
	{ "mask len 3", IN_SELECTING, b_masklen, CNT(ds_rx_badopt), 0 },
	{ "router len 5", IN_SELECTING, b_routerlen, CNT(ds_rx_badopt), 0 },
	{ "yiaddr 0", IN_SELECTING, b_yi_zero, CNT(ds_rx_badaddr), 0 },
	{ "yiaddr bcast", IN_SELECTING, b_yi_bcast, CNT(ds_rx_badaddr), 0 },
	{ "yiaddr class D", IN_SELECTING, b_yi_classd, CNT(ds_rx_badaddr), 0 },
	{ "yiaddr class E", IN_SELECTING, b_yi_classe, CNT(ds_rx_badaddr), 0 },
	{ "yiaddr loopback", IN_SELECTING, b_yi_loop, CNT(ds_rx_badaddr), 0 },
	{ "yiaddr 0/8", IN_SELECTING, b_yi_net0, CNT(ds_rx_badaddr), 0 },
	{ "yiaddr subnet bcast", IN_SELECTING, b_yi_subnet_bcast,
	    CNT(ds_rx_badaddr), 0 },
	{ "yiaddr subnet", IN_SELECTING, b_yi_subnet_net, CNT(ds_rx_badaddr),
	    0 },
	{ "mask not contiguous", IN_SELECTING, b_mask_noncontig,
	    CNT(ds_rx_badmask), 0 },
	{ "mask 0", IN_SELECTING, b_mask_zero, CNT(ds_rx_badmask), 0 },
	{ "no server id", IN_SELECTING, b_noserver, CNT(ds_rx_badserver), 0 },
	{ "server id 0", IN_SELECTING, b_server0, CNT(ds_rx_badserver), 0 },
	{ "other client id", IN_SELECTING, b_other_cid, CNT(ds_rx_notme), 0 },
	{ "source port", IN_SELECTING, b_port, CNT(ds_rx_badport), 1067 },
	{ "too big", IN_SELECTING, b_toobig, CNT(ds_rx_toobig), 0 },
	{ "ACK no lease", IN_REQUESTING, b_ack_noleaase, CNT(ds_rx_badlease),
	    0 },
	{ "ACK lease 0", IN_REQUESTING, b_ack_lease0, CNT(ds_rx_badlease), 0 },
	{ "ACK lease twice", IN_REQUESTING, b_ack_leasedup, CNT(ds_rx_badopt),
	    0 },
	{ "ACK other server", IN_REQUESTING, b_ack_other_server,
	    CNT(ds_rx_badserver), 0 },
	{ "NAK other server", IN_REQUESTING, b_nak_other_server,
	    CNT(ds_rx_badserver), 0 },
	{ "ACK yiaddr bcast", IN_REQUESTING, b_ack_yi_bcast, CNT(ds_rx_badaddr),
	    0 },
	{ "OFFER requesting", IN_REQUESTING, b_offer_in_req,
	    CNT(ds_rx_unexpected), 0 },
	{ "ACK bound", IN_BOUND, b_stray_ack, CNT(ds_rx_badxid), 0 },
};

static uint64_t
stat_at(const struct dt *t, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)ns_dhcp_stats(t->d) + off, sizeof(v));
	return v;
}

START_TEST(t_bad_input)
{
	const struct bad *b = &bads[_i];
	struct ns_dhcp_stats before;
	enum ns_dhcp_state st;
	struct dt t;
	struct cmsg m;
	struct smsg s;
	uint32_t xid;

	dt_start(&t, NS_DHCPF_NO_PROBE, 0);
	dt_expect(&t, DHCPDISCOVER, &m);
	xid = m.xid;
	if (b->phase != IN_SELECTING) {
		sm_make(&s, DHCPOFFER, xid, 600);
		dt_send(&t, &s);
		dt_expect(&t, DHCPREQUEST, &m);
	}
	if (b->phase == IN_BOUND) {
		sm_make(&s, DHCPACK, xid, 600);
		dt_send(&t, &s);
		dt_expect_arp(&t, ADDR, ADDR);
	}
	st = ns_dhcp_state(t.d);
	before = *dst(&t);
	b->make(&s, xid);
	dt_send_to(&t, &s, b->sport != 0 ? b->sport : DHCP_SERVER_PORT, BCAST);
	ck_assert_msg(stat_at(&t, b->counter) ==
		1 + *(const uint64_t *)((const uint8_t *)&before + b->counter),
	    "%s: not counted", b->name);
	ck_assert_uint_eq(dst(&t)->ds_rx, before.ds_rx + 1);
	ck_assert_int_eq(ns_dhcp_state(t.d), st);
	dt_expect_none(&t);
	ck_assert_uint_eq(t.nev, b->phase == IN_BOUND ? 1 : 0);
	/* The client goes on: the right reply is still taken. */
	if (b->phase == IN_SELECTING) {
		sm_make(&s, DHCPOFFER, xid, 600);
		dt_send(&t, &s);
		dt_expect(&t, DHCPREQUEST, &m);
	}
	if (b->phase != IN_BOUND) {
		sm_make(&s, DHCPACK, xid, 600);
		dt_send(&t, &s);
		dt_expect_arp(&t, ADDR, ADDR);
	}
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	ck_assert(dt_has_addr(&t, ADDR));
	dt_fini(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Unusual but valid replies                                        */
/* ---------------------------------------------------------------- */

/* Runs an OFFER made by make and the ACK (the same options); the lease. */
static void
dt_valid(struct dt *t, void (*make)(struct smsg *s, uint8_t type, uint32_t xid),
    struct ns_dhcp_lease *l)
{
	struct cmsg m;
	struct smsg s;

	dt_start(t, NS_DHCPF_NO_PROBE, 0);
	dt_expect(t, DHCPDISCOVER, &m);
	make(&s, DHCPOFFER, m.xid);
	dt_send(t, &s);
	dt_expect(t, DHCPREQUEST, &m);
	make(&s, DHCPACK, m.xid);
	dt_send(t, &s);
	ck_assert_int_eq(ns_dhcp_state(t->d), NS_DHCP_BOUND);
	ck_assert_int_eq(ns_dhcp_lease(t->d, l), 0);
	ck_assert_uint_eq(l->dl_addr, ADDR);
}

static void
v_pads(struct smsg *s, uint8_t type, uint32_t xid)
{
	sm_begin(s, type, xid, ADDR);
	memset(s->b + s->n, DHO_PAD, 200);
	s->n += 200;
	sm_opt32(s, DHO_SERVER_ID, SRV);
	memset(s->b + s->n, DHO_PAD, 3);
	s->n += 3;
	sm_opt32(s, DHO_LEASE_TIME, 777);
	sm_end(s);
	memset(s->b + s->n, DHO_PAD, 100); /* after END: ignored */
	s->n += 100;
}

START_TEST(t_pad_runs)
{
	struct dt t;
	struct ns_dhcp_lease l;

	dt_valid(&t, v_pads, &l);
	ck_assert_uint_eq(l.dl_lease_s, 777);
	ck_assert_uint_eq(l.dl_netmask, NS_IP4(255, 0, 0, 0)); /* classful */
	ck_assert_uint_eq(l.dl_gateway, 0);
	dt_fini(&t);
}
END_TEST

static void
v_overload(struct smsg *s, uint8_t type, uint32_t xid)
{
	static const uint8_t both = 3;
	uint8_t *f, *n;

	sm_begin(s, type, xid, ADDR);
	sm_opt(s, DHO_OVERLOAD, 1, &both);
	sm_opt32(s, DHO_DNS, DNS1);
	sm_end(s);
	/* 'file': server id, lease, mask and a second DNS server. */
	f = s->b + 108;
	f[0] = DHO_SERVER_ID, f[1] = 4, p32(f + 2, SRV);
	f[6] = DHO_LEASE_TIME, f[7] = 4, p32(f + 8, 1234);
	f[12] = DHO_SUBNET_MASK, f[13] = 4, p32(f + 14, MASK);
	f[18] = DHO_DNS, f[19] = 4, p32(f + 20, NS_IP4(9, 9, 9, 9));
	f[24] = DHO_OVERLOAD, f[25] = 1, f[26] = 0; /* ignored here */
	f[27] = DHO_END;
	/* 'sname': the router and a third DNS server. */
	n = s->b + 44;
	n[0] = DHO_ROUTER, n[1] = 4, p32(n + 2, SRV);
	n[6] = DHO_DNS, n[7] = 4, p32(n + 8, NS_IP4(1, 1, 1, 1));
	n[12] = DHO_END;
}

START_TEST(t_overload)
{
	struct dt t;
	struct ns_dhcp_lease l;

	dt_valid(&t, v_overload, &l);
	ck_assert_uint_eq(l.dl_server, SRV);
	ck_assert_uint_eq(l.dl_lease_s, 1234);
	ck_assert_uint_eq(l.dl_netmask, MASK);
	ck_assert_uint_eq(l.dl_gateway, SRV);
	/* Options field, then 'file', then 'sname' (RFC 2131 4.1). */
	ck_assert_uint_eq(l.dl_dns[0], DNS1);
	ck_assert_uint_eq(l.dl_dns[1], NS_IP4(9, 9, 9, 9));
	ck_assert_uint_eq(l.dl_dns[2], NS_IP4(1, 1, 1, 1));
	dt_fini(&t);
}
END_TEST

static void
v_dup(struct smsg *s, uint8_t type, uint32_t xid)
{
	static const uint8_t routers[12] = { 0, 0, 0, 0, 224, 0, 0, 1, 10, 0, 2,
		1 };
	static const uint8_t cid[7] = { 1, 2, 0, 0, 0, 0, 1 };

	sm_begin(s, type, xid, ADDR);
	sm_opt32(s, DHO_SERVER_ID, SRV);
	sm_opt32(s, DHO_LEASE_TIME, 600);
	sm_opt32(s, DHO_DNS, DNS1);
	sm_opt32(s, DHO_SUBNET_MASK, NS_IP4(255, 255, 0, 0));
	sm_opt(s, DHO_ROUTER, sizeof(routers), routers);
	sm_opt32(s, DHO_DNS, NS_IP4(8, 8, 8, 8)); /* RFC 3396: appended */
	sm_opt32(s, DHO_DNS, 0);		  /* skipped */
	sm_opt32(s, DHO_DNS, NS_IP4(8, 8, 4, 4));
	sm_opt32(s, DHO_DNS, NS_IP4(4, 4, 4, 4));   /* a fourth: not kept */
	sm_opt(s, DHO_CLIENT_ID, sizeof(cid), cid); /* ours, echoed */
	sm_end(s);
}

START_TEST(t_duplicates)
{
	struct dt t;
	struct ns_dhcp_lease l;

	dt_valid(&t, v_dup, &l);
	ck_assert_uint_eq(l.dl_netmask, NS_IP4(255, 255, 0, 0));
	ck_assert_uint_eq(l.dl_gateway, NS_IP4(10, 0, 2, 1));
	ck_assert_uint_eq(l.dl_dns[0], DNS1);
	ck_assert_uint_eq(l.dl_dns[1], NS_IP4(8, 8, 8, 8));
	ck_assert_uint_eq(l.dl_dns[2], NS_IP4(8, 8, 4, 4));
	dt_fini(&t);
}
END_TEST

START_TEST(t_unicast_reply)
{
	struct dt t;
	struct cmsg m;
	struct smsg s;

	/* Before an address is set, a reply unicast to yiaddr is taken. */
	dt_start(&t, NS_DHCPF_NO_PROBE, 0);
	dt_expect(&t, DHCPDISCOVER, &m);
	sm_make(&s, DHCPOFFER, m.xid, 600);
	dt_send_to(&t, &s, DHCP_SERVER_PORT, ADDR);
	dt_expect(&t, DHCPREQUEST, &m);
	sm_make(&s, DHCPACK, m.xid, 600);
	dt_send_to(&t, &s, DHCP_SERVER_PORT, ADDR);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	dt_fini(&t);
}
END_TEST

/* A flood of junk to port 68 while selecting: all dropped, then bound. */
START_TEST(t_flood)
{
	struct dt t;
	struct cmsg m;
	struct smsg s;
	uint32_t i, seed = 7;

	dt_start(&t, NS_DHCPF_NO_PROBE, 0);
	dt_expect(&t, DHCPDISCOVER, &m);
	for (i = 0; i < 2000; i++) {
		uint32_t j;

		mk_offer(&s, m.xid);
		sm_end(&s);
		for (j = 0; j < 4; j++) {
			seed = seed * 1103515245 + 12345;
			s.b[(seed >> 8) % s.n] ^= (uint8_t)(1u << (seed % 8));
		}
		p32(s.b + 4, m.xid ^ 0x80000000u); /* never the right xid */
		dt_send(&t, &s);
	}
	ck_assert_uint_eq(dst(&t)->ds_rx, 2000);
	ck_assert_uint_eq(dst(&t)->ds_rx_offer, 0);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_SELECTING);
	nt_if_flush(&t.e.e_if);
	sm_make(&s, DHCPOFFER, m.xid, 600);
	dt_send(&t, &s);
	dt_expect(&t, DHCPREQUEST, &m);
	sm_make(&s, DHCPACK, m.xid, 600);
	dt_send(&t, &s);
	ck_assert_int_eq(ns_dhcp_state(t.d), NS_DHCP_BOUND);
	dt_fini(&t);
}
END_TEST

START_TEST(t_nobufs)
{
	struct dt t;
	struct cmsg m;
	uint64_t gap;

	/* A failing device: the DISCOVER is lost, the retransmission goes. */
	memset(&t, 0, sizeof(t));
	nt_env_init(&t.e, NULL, 0, NULL);
	t.e.e_if.fi_fail = 1;
	ck_assert_int_eq(ns_dhcp_start(t.e.e_ns, NULL, &t.d), 0);
	ck_assert_uint_eq(dst(&t)->ds_tx_err, 1);
	t.e.e_if.fi_fail = 0;
	gap = dt_wait_frame(&t);
	ck_assert_uint_ge(gap, 3 * SEC);
	dt_expect(&t, DHCPDISCOVER, &m);
	dt_fini(&t);
}
END_TEST

static Suite *
dhcp_suite(void)
{
	Suite *s = suite_create("net_dhcp");
	TCase *tc = tcase_create("dhcp");

	tcase_add_test(tc, t_discover);
	tcase_add_test(tc, t_exchange_probe_bind);
	tcase_add_test(tc, t_discover_backoff);
	tcase_add_test(tc, t_request_gives_up);
	tcase_add_test(tc, t_renew);
	tcase_add_test(tc, t_renew_retransmit_rebind);
	tcase_add_test(tc, t_expire);
	tcase_add_test(tc, t_nak_requesting);
	tcase_add_test(tc, t_nak_renewing);
	tcase_add_test(tc, t_init_reboot);
	tcase_add_test(tc, t_init_reboot_nak);
	tcase_add_test(tc, t_init_reboot_silent);
	tcase_add_loop_test(tc, t_probe_conflict, 0,
	    sizeof(conflicts) / sizeof(conflicts[0]));
	tcase_add_test(tc, t_probe_no_conflict);
	tcase_add_test(tc, t_release_on_stop);
	tcase_add_test(tc, t_stop_unbound);
	tcase_add_test(tc, t_start_errors);
	tcase_add_test(tc, t_client_id);
	tcase_add_test(tc, t_infinite_lease);
	tcase_add_loop_test(tc, t_lease_times, 0,
	    sizeof(times) / sizeof(times[0]));
	tcase_add_loop_test(tc, t_bad_input, 0, sizeof(bads) / sizeof(bads[0]));
	tcase_add_test(tc, t_pad_runs);
	tcase_add_test(tc, t_overload);
	tcase_add_test(tc, t_duplicates);
	tcase_add_test(tc, t_unicast_reply);
	tcase_add_test(tc, t_flood);
	tcase_add_test(tc, t_nobufs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dhcp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
