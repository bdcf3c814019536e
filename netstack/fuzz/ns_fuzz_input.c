/*
 * libFuzzer harness for the frame input path: Ethernet, ARP, IPv4 with
 * reassembly, ICMP, UDP and TCP, with timers and application calls
 * interleaved.
 *
 * Random bytes make poor frames: checksums stop almost all of them at IP.
 * So the input is a list of records, and most records are built into
 * valid frames with the fuzzer choosing the fields; checksums are fixed
 * unless the record asks otherwise. Each run starts a fresh instance
 * (10.0.0.1) with a listener on port 80, a UDP socket on 7, and one
 * connection from the peer 10.0.0.2:40000 established by a real handshake
 * with 3000 bytes of ours in flight, so TCP records aimed at it reach the
 * synchronized states. A run aborts on any buffer or memory leak.
 *
 * Records (first byte: kind in the low 3 bits, flags above):
 *   0 raw frame: u16 length, bytes; flag 8: fix the IP header sum,
 *     16: fix the TCP/UDP/ICMP sum, 32: our MAC as destination
 *   1 TCP segment to the connection (flag 8: to a new port of the
 *     listener instead): flags, s16 seq and ack offsets, u16 window,
 *     option length and bytes, u16 data length (data is zeros); the
 *     offsets are from the handshake's numbers, or (flag 16) from the
 *     last segment the stack sent, as a well-behaved peer would use
 *   2 time passes: u8 times 10 ms (flag 8: times 1 s), the timers
 *     running at each deadline on the way
 *   3 the application: u8 action (send, receive, shutdown, close, abort,
 *     connect, keepalive on, nodelay)
 *   4 IPv4 fragment of a UDP datagram: u16 id, u16 offset field with MF,
 *     u16 length
 *   5 ICMP error quoting the connection: type, code, u16 MTU, s16 seq
 *   6 UDP datagram: u16 port, u16 length; with flag 1, a DHCP reply
 *     instead (rec_dhcp: the first one starts the client, INIT or
 *     INIT-REBOOT, probing or not; the reply answers the client's last
 *     xid unless told otherwise, with fuzzer-chosen type, yiaddr, lease,
 *     options and overloaded 'file' bytes; ARP records then hit the
 *     address probe and time records its timers)
 *   7 ARP: op, u8 sender host, u8 target host
 * Run e.g.:  net_fuzz_input -max_total_time=600 -max_len=4096
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/ns_dhcp.h"
#include "netstack/ns_host.h"
#include "netstack/ns_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ME	 NS_IP4(10, 0, 0, 1)
#define PEER	 NS_IP4(10, 0, 0, 2)
#define PPORT	 40000
#define FRAMEMAX 9000

static const uint8_t mac_me[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t mac_peer[6] = { 2, 0, 0, 0, 0, 2 };

struct fz {
	struct ns_host host;
	struct netif nif;
	struct ns *ns;
	struct ns_tcp *lis, *conn;
	struct ns_udp *udp;
	uint32_t peer_seq, our_seq; /* next expected each way */
	uint8_t last[128];	    /* start of the last frame sent */
	uint32_t lastlen;
	uint32_t last_end, last_ack; /* of the last TCP segment sent */
	uint16_t port;
	struct ns_dhcp *dhcp;
	uint32_t dhcp_xid; /* of the client's last message */
};

static struct fz F;

/* ---- input cursor ---- */

struct cur {
	const uint8_t *p;
	size_t n;
};

static uint8_t
u8(struct cur *c)
{
	uint8_t v = 0;

	if (c->n > 0) {
		v = *c->p++;
		c->n--;
	}
	return v;
}

static uint16_t
u16(struct cur *c)
{
	return (uint16_t)(u8(c) | u8(c) << 8);
}

/* ---- the fake device ---- */

static int
fz_transmit(struct netif *nif, struct nb *frame)
{
	const uint8_t *f = F.last;
	uint32_t ihl, thl, tot;

	F.lastlen = NS_MIN(nb_pktlen(frame), (uint32_t)sizeof(F.last));
	nb_copydata(frame, 0, F.lastlen, F.last);
	nb_freem(frame);
	if (F.lastlen >= 14 + 20 + 8 + 8 && f[23] == IP_PROTO_UDP &&
	    f[14] == 0x45 && f[36] == 0 && f[37] == DHCP_SERVER_PORT)
		F.dhcp_xid = (uint32_t)f[46] << 24 | (uint32_t)f[47] << 16 |
		    (uint32_t)f[48] << 8 | f[49];
	if (F.lastlen < 54 || f[12] != 0x08 || f[13] != 0 || f[23] != 6)
		return 0;
	ihl = (uint32_t)(f[14] & 15) * 4;
	if (F.lastlen < 14 + ihl + 20)
		return 0;
	thl = (uint32_t)(f[14 + ihl + 12] >> 4) * 4;
	tot = (uint32_t)(f[16] << 8 | f[17]);
	F.last_ack = (uint32_t)f[14 + ihl + 8] << 24 |
	    (uint32_t)f[14 + ihl + 9] << 16 | (uint32_t)f[14 + ihl + 10] << 8 |
	    f[14 + ihl + 11];
	F.last_end = (uint32_t)f[14 + ihl + 4] << 24 |
	    (uint32_t)f[14 + ihl + 5] << 16 | (uint32_t)f[14 + ihl + 6] << 8 |
	    f[14 + ihl + 7];
	F.last_end += tot > ihl + thl ? tot - ihl - thl : 0;
	F.last_end += (f[14 + ihl + 13] & (TH_SYN | TH_FIN)) ? 1 : 0;
	return 0;
}

static const struct netif_ops fz_ops = { fz_transmit };

/* ---- building frames ---- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Ethernet and a 20-byte IP header around len bytes at f + 34. */
static uint32_t
wrap_ip(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, uint32_t len,
    uint16_t id, uint16_t off)
{
	uint16_t c;

	memcpy(f, mac_me, 6);
	memcpy(f + 6, mac_peer, 6);
	put16(f + 12, ETH_TYPE_IPV4);
	f[14] = 0x45;
	f[15] = 0;
	put16(f + 16, (uint16_t)(20 + len));
	put16(f + 18, id);
	put16(f + 20, off);
	f[22] = 64;
	f[23] = proto;
	put16(f + 24, 0);
	put32(f + 26, src);
	put32(f + 30, dst);
	c = ns_cksum(f + 14, 20);
	memcpy(f + 24, &c, 2);
	return 34 + len;
}

/* The transport checksum of a frame built by wrap_ip. */
static void
fix_l4(uint8_t *f, uint32_t flen)
{
	uint32_t hl = (uint32_t)(f[14] & 15) * 4, l4 = 14 + hl, len, at;
	uint8_t proto = f[23];
	uint16_t c;

	if (hl < 20 || l4 > flen)
		return;
	len = flen - l4;
	at = proto == IP_PROTO_TCP ? 16 : proto == IP_PROTO_UDP ? 6 : 2;
	if (len < at + 2)
		return;
	memset(f + l4 + at, 0, 2);
	c = ns_sum_fold(ns_sum_add(proto == IP_PROTO_ICMP ?
		0 :
		ns_sum_pseudo(get32(f + 26), get32(f + 30), proto, len),
	    f + l4, len, false));
	c = (uint16_t)~c;
	memcpy(f + l4 + at, &c, 2);
}

static void
inject(uint8_t *f, uint32_t len)
{
	(void)ns_input_copy(F.ns, f, len);
}

static void
tcp_frame(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *opt, uint32_t ol,
    uint32_t dlen)
{
	uint8_t *t = f + 34;
	uint32_t hl = 20 + ((ol + 3) & ~3u), len;

	memset(t, 0, hl + dlen);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	put16(t + 14, win);
	memcpy(t + 20, opt, ol);
	len = wrap_ip(f, IP_PROTO_TCP, PEER, ME, hl + dlen, 1, IP_DF);
	fix_l4(f, len);
	inject(f, len);
}

/* ---- setup: a listener, a socket, an established connection ---- */

static void
fz_setup(void)
{
	static const uint8_t synopt[20] = { 2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8,
		10, 0, 0, 0, 1, 0, 0, 0, 0 };
	static uint8_t f[FRAMEMAX], d[3000];
	uint8_t ackopt[12] = { 1, 1, 8, 10, 0, 0, 0, 2 };
	struct ns_config cfg = { .nc_addr = ME,
		.nc_netmask = 0xffffff00,
		.nc_gateway = NS_IP4(10, 0, 0, 254),
		.nc_max_clusters = 512,
		.nc_syncache = 16,
		.nc_tcp_conns = 16,
		.nc_frag_dgrams = 4,
		.nc_frag_bytes = 32768 };
	uint32_t iss;

	ns_host_init(&F.host, 1);
	memset(&F.nif, 0, sizeof(F.nif));
	F.nif.nif_ops = &fz_ops;
	memcpy(F.nif.nif_mac, mac_me, 6);
	F.nif.nif_mtu = 1500;
	F.nif.nif_tso_max = 65000;
	if (ns_create(&F.host.nh_plat, &F.nif, &cfg, &F.ns) != 0)
		abort();
	/* The peer's ARP request teaches its MAC. */
	memset(f, 0xff, 6);
	memcpy(f + 6, mac_peer, 6);
	put16(f + 12, ETH_TYPE_ARP);
	put16(f + 14, 1);
	put16(f + 16, ETH_TYPE_IPV4);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);
	memcpy(f + 22, mac_peer, 6);
	put32(f + 28, PEER);
	memset(f + 32, 0, 6);
	put32(f + 38, ME);
	inject(f, 42);
	if (ns_tcp_listen(F.ns, 0, 80, 8, &F.lis) != 0 ||
	    ns_udp_open(F.ns, &F.udp) != 0 || ns_udp_bind(F.udp, 0, 7) != 0)
		abort();
	tcp_frame(f, PPORT, 80, 1000, 0, TH_SYN, 65535, synopt, 20, 0);
	iss = get32(F.last + 34 + 4);
	memcpy(ackopt + 8, F.last + 34 + 20 + 4 + 4, 4); /* echo TSval */
	tcp_frame(f, PPORT, 80, 1001, iss + 1, TH_ACK, 512, ackopt, 12, 0);
	if (ns_tcp_accept(F.lis, &F.conn) != 0)
		abort();
	ns_tcp_send(F.conn, d, sizeof(d));
	F.peer_seq = 1001;
	F.our_seq = iss + 1;
	F.port = 41000;
	F.dhcp_xid = 0;
}

static void
fz_teardown(void)
{
	if (F.dhcp != NULL)
		ns_dhcp_stop(F.dhcp);
	if (ns_destroy(F.ns) != 0 || ns_host_outstanding(&F.host) != 0) {
		fprintf(stderr, "net_fuzz_input: leak\n");
		abort();
	}
	F.ns = NULL;
	F.dhcp = NULL;
	F.lis = F.conn = NULL;
	F.udp = NULL;
}

/* ---- records ---- */

static void
rec_raw(struct cur *c, uint8_t fl, uint8_t *f)
{
	uint32_t len = u16(c) % FRAMEMAX, i;

	for (i = 0; i < len; i++)
		f[i] = u8(c);
	if ((fl & 4) && len >= 14)
		memcpy(f, mac_me, 6);
	if ((fl & 1) && len >= 34 && (f[14] & 15) >= 5 &&
	    14u + (uint32_t)(f[14] & 15) * 4 <= len) {
		uint16_t s;

		memset(f + 24, 0, 2);
		s = ns_cksum(f + 14, (size_t)(f[14] & 15) * 4);
		memcpy(f + 24, &s, 2);
	}
	if (fl & 2)
		fix_l4(f, len);
	inject(f, len);
}

static void
rec_tcp(struct cur *c, uint8_t fl, uint8_t *f)
{
	uint8_t flags = u8(c), opt[40];
	int16_t ds = (int16_t)u16(c), da = (int16_t)u16(c);
	uint16_t win = u16(c);
	uint32_t ol = u8(c) % 41, dlen, i;

	for (i = 0; i < ol; i++)
		opt[i] = u8(c);
	dlen = u16(c) % 4000;
	if (fl & 1)
		tcp_frame(f, F.port++, 80, 5000 + (uint32_t)ds,
		    F.our_seq + (uint32_t)da, flags, win, opt, ol, dlen);
	else if (fl & 2)
		tcp_frame(f, PPORT, 80, F.last_ack + (uint32_t)(int32_t)ds,
		    F.last_end + (uint32_t)(int32_t)da, flags, win, opt, ol,
		    dlen);
	else
		tcp_frame(f, PPORT, 80, F.peer_seq + (uint32_t)ds,
		    F.our_seq + (uint32_t)(int32_t)da, flags, win, opt, ol,
		    dlen);
}

static void
rec_app(struct cur *c)
{
	static uint8_t buf[5000];
	uint8_t a = u8(c);
	struct ns_tcp *n;

	if (F.conn == NULL && (a & 7) != 5)
		return;
	switch (a & 7) {
	case 0:
		ns_tcp_send(F.conn, buf, (size_t)(a >> 3) * 150);
		break;
	case 1:
		ns_tcp_recv(F.conn, buf, sizeof(buf));
		break;
	case 2:
		ns_tcp_shutdown(F.conn, NS_SHUT_WR);
		break;
	case 3:
		ns_tcp_close(F.conn);
		F.conn = NULL;
		break;
	case 4:
		ns_tcp_abort(F.conn);
		F.conn = NULL;
		break;
	case 5:
		if (F.conn == NULL && ns_tcp_accept(F.lis, &n) == 0)
			F.conn = n;
		else if (F.conn == NULL &&
		    ns_tcp_connect(F.ns, PEER, 80, &n) == 0)
			F.conn = n;
		break;
	case 6:
		ns_tcp_setopt(F.conn, NS_TCP_KEEPALIVE, 1);
		break;
	default:
		ns_tcp_setopt(F.conn, NS_TCP_NODELAY, a >> 7);
		break;
	}
}

static void
rec_frag(struct cur *c, uint8_t *f)
{
	uint16_t id = u16(c), off = u16(c);
	uint32_t len = u16(c) % 1480, i, n;

	for (i = 0; i < len; i++)
		f[34 + i] = (uint8_t)(i + id);
	if (len >= 8 && (off & IP_OFFMASK) == 0) {
		put16(f + 34, 1234);
		put16(f + 36, 7);
		put16(f + 38, (uint16_t)(len + 1000));
		put16(f + 40, 0);
	}
	n = wrap_ip(f, IP_PROTO_UDP, PEER, ME, len, id, off & ~IP_DF);
	inject(f, n);
}

static void
rec_icmp(struct cur *c, uint8_t *f)
{
	uint8_t type = u8(c), code = u8(c), *m = f + 34;
	uint16_t mtu = u16(c);
	int16_t ds = (int16_t)u16(c);
	uint32_t n;

	memset(m, 0, 8 + 28);
	m[0] = type % 13;
	m[1] = code % 6;
	put16(m + 6, mtu);
	/* The quote: our segment to the peer. */
	m[8] = 0x45;
	put16(m + 10, 1500);
	m[17] = IP_PROTO_TCP;
	put32(m + 20, ME);
	put32(m + 24, PEER);
	put16(m + 28, 80);
	put16(m + 30, PPORT);
	put32(m + 32, F.our_seq + (uint32_t)(int32_t)ds);
	n = wrap_ip(f, IP_PROTO_ICMP, PEER, ME, 36, 9, 0);
	fix_l4(f, n);
	inject(f, n);
}

static void
rec_udp(struct cur *c, uint8_t *f)
{
	uint16_t port = u16(c);
	uint32_t len = u16(c) % 2000, n;

	memset(f + 34, 0x55, 8 + len);
	put16(f + 34, 5353);
	put16(f + 36, port & 1 ? 7 : port);
	put16(f + 38, (uint16_t)(8 + len));
	n = wrap_ip(f, IP_PROTO_UDP, PEER, ME, 8 + len, 3, 0);
	fix_l4(f, n);
	inject(f, n);
}

static void
rec_arp(struct cur *c, uint8_t *f)
{
	uint8_t op = u8(c), s = u8(c), t = u8(c);

	memset(f, 0xff, 6);
	memcpy(f + 6, mac_peer, 6);
	put16(f + 12, ETH_TYPE_ARP);
	put16(f + 14, 1);
	put16(f + 16, ETH_TYPE_IPV4);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op % 4);
	memcpy(f + 22, mac_peer, 6);
	f[27] = s;
	put32(f + 28, NS_IP4(10, 0, 0, s));
	memset(f + 32, 0, 6);
	put32(f + 38, NS_IP4(10, 0, 0, t));
	inject(f, 42);
}

/* What the client reports must be usable: abort otherwise. */
static void
fz_dhcp_event(void *arg, enum ns_dhcp_event ev, const struct ns_dhcp_lease *l)
{
	uint32_t m;

	if (l == NULL)
		return;
	m = l->dl_netmask;
	if ((l->dl_addr >> 24) == 0 || (l->dl_addr >> 24) == 127 ||
	    (l->dl_addr >> 28) >= 14 || m == 0 || (~m & (~m + 1)) != 0 ||
	    l->dl_server == 0 || l->dl_lease_s == 0 ||
	    l->dl_t1_s > l->dl_t2_s || l->dl_t2_s > l->dl_lease_s)
		abort();
}

static void
dhcp_start(uint8_t how)
{
	struct ns_dhcp_config dc = { .dc_probe_ms = 10,
		.dc_event = fz_dhcp_event };

	if (how & 1)
		dc.dc_addr = NS_IP4(10, 0, 0, how | 1);
	if (how & 2)
		dc.dc_flags = NS_DHCPF_NO_PROBE;
	if (ns_dhcp_start(F.ns, &dc, &F.dhcp) != 0)
		F.dhcp = NULL;
}

static uint32_t
dhcp_opt32(uint8_t *o, uint32_t n, uint8_t code, uint32_t v)
{
	o[n] = code;
	o[n + 1] = 4;
	put32(o + n + 2, v);
	return n + 6;
}

/*
 * A DHCP reply: u8 start/stop, u8 type, u8 flags (1 wrong xid, 2 wrong
 * chaddr, 4 standard options, 8 no END, 16 unicast to yiaddr, 32
 * overload 'file', 64 from port 1067), u8 yiaddr host, u16 lease, u8
 * length and that many option bytes, and with flag 32 u8 length and
 * 'file' bytes.
 */
static void
rec_dhcp(struct cur *c, uint8_t *f)
{
	uint8_t how = u8(c), type = u8(c), fl = u8(c), host = u8(c);
	uint32_t lease = u16(c), n, i, len, yi = NS_IP4(10, 0, 0, host);
	uint8_t *m = f + 42;

	if (how == 0xff && F.dhcp != NULL) {
		ns_dhcp_stop(F.dhcp);
		F.dhcp = NULL;
	}
	if (F.dhcp == NULL)
		dhcp_start(how);
	memset(m, 0, DHCP_MIN_MSG);
	m[0] = BOOTREPLY;
	m[1] = DHCP_HTYPE_ETHER;
	m[2] = ETH_ALEN;
	put32(m + 4, F.dhcp_xid ^ (fl & 1));
	put32(m + 16, yi);
	memcpy(m + 28, mac_me, 6);
	m[28] ^= fl & 2;
	put32(m + 236, DHCP_MAGIC);
	n = DHCP_HLEN;
	m[n++] = DHO_MSG_TYPE;
	m[n++] = 1;
	m[n++] = type % 9;
	if (fl & 4) {
		n = dhcp_opt32(m, n, DHO_SERVER_ID, PEER);
		n = dhcp_opt32(m, n, DHO_SUBNET_MASK, 0xffffff00u);
		n = dhcp_opt32(m, n, DHO_ROUTER, NS_IP4(10, 0, 0, 254));
		if (lease != 0)
			n = dhcp_opt32(m, n, DHO_LEASE_TIME,
			    lease == 0xffff ? 0xffffffffu : lease);
	}
	if (fl & 32) {
		m[n++] = DHO_OVERLOAD;
		m[n++] = 1;
		m[n++] = 1 + (fl >> 7);
		len = u8(c) % 129;
		for (i = 0; i < len; i++)
			m[108 + i] = u8(c);
	}
	len = u8(c);
	for (i = 0; i < len; i++)
		m[n++] = u8(c);
	if (!(fl & 8))
		m[n++] = DHO_END;
	n = NS_MAX(n, (uint32_t)DHCP_MIN_MSG);
	put16(f + 34, (fl & 64) ? 1067 : DHCP_SERVER_PORT);
	put16(f + 36, DHCP_CLIENT_PORT);
	put16(f + 38, (uint16_t)(8 + n));
	n = wrap_ip(f, IP_PROTO_UDP, PEER, (fl & 16) ? yi : 0xffffffffu, 8 + n,
	    4, 0);
	fix_l4(f, n);
	inject(f, n);
	ns_tick(F.ns); /* the client reads what came */
}

/* Moves the clock, stopping at every timer as the kernel thread would. */
static void
fz_advance(uint64_t us)
{
	uint64_t end = F.host.nh_now_us + us, next;
	int n = 0;

	while ((next = ns_next_timer(F.ns)) < end && n++ < 20000) {
		if (next > F.host.nh_now_us)
			F.host.nh_now_us = next;
		ns_tick(F.ns);
	}
	F.host.nh_now_us = end;
	ns_tick(F.ns);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t f[FRAMEMAX];
	struct cur c = { data, size };
	uint8_t k;

	fz_setup();
	while (c.n > 0) {
		k = u8(&c);
		switch (k & 7) {
		case 0:
			rec_raw(&c, k >> 3, f);
			break;
		case 1:
			rec_tcp(&c, k >> 3, f);
			break;
		case 2:
			fz_advance(
			    (uint64_t)u8(&c) * ((k & 8) ? 1000000 : 10000));
			break;
		case 3:
			rec_app(&c);
			break;
		case 4:
			rec_frag(&c, f);
			break;
		case 5:
			rec_icmp(&c, f);
			break;
		case 6:
			if (k & 8)
				rec_dhcp(&c, f);
			else
				rec_udp(&c, f);
			break;
		default:
			rec_arp(&c, f);
			break;
		}
	}
	/* Let every timer run out: TIME-WAIT, reassembly, ARP. */
	fz_advance(600000000);
	fz_teardown();
	return 0;
}
