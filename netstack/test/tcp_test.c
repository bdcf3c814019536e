/*
 * TCP with crafted segments: the test plays the peer (10.0.0.2) by hand,
 * segment by segment, and checks every segment the stack sends back.
 *  - RST and SYN in every state (loop tests over the states), with RFC
 *    5961's exact / in-window / out-of-window cases and its rate limit;
 *  - the bad inputs of issue 6, each its own test: data offset 0, 15 and
 *    past the segment, option lengths 0 and past the header, MSS 0,
 *    window scale above 14, bad SACK and timestamp options, urgent
 *    pointer past the data, land packets, bad checksums, bad flags;
 *  - a SYN flood (SYN cache bound, cookies, a real client still served),
 *    the accept queue, RTO backoff, fast retransmit, persist, keepalive,
 *    delayed ACK, Nagle, TIME-WAIT, path MTU, connection limits.
 * After each misbehaviour the stack must still answer (alive()).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/ns_tcp.h"
#include "netstack/test/nstest.h"

static struct nt_env env;
static uint8_t fb[NT_MAXFRAME];

#define ST    (ns_stats(env.e_ns))
#define PPORT 40000
#define LPORT 80

/* The peer's view of the connection. */
static struct {
	uint16_t port;
	uint32_t seq;	/* next sequence number the peer sends */
	uint32_t ack;	/* next sequence number it expects from us */
	uint32_t tsval; /* the peer's clock */
	uint32_t tsecr; /* last TSval seen from us */
	int ts;		/* send timestamps */
	uint16_t win;
} P;

static struct ns_tcp *lis, *conn;
static uint32_t ISS;

/* The last segment the stack sent. */
static struct nt_frame *last;
static struct nt_parsed O;

static void
setup(void)
{
	nt_env_init(&env, NULL, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	memset(&P, 0, sizeof(P));
	P.port = PPORT;
	P.seq = 1000;
	P.tsval = 5000;
	P.ts = 1;
	P.win = 65535;
	lis = conn = NULL;
}

static void
teardown(void)
{
	free(last);
	last = NULL;
	nt_env_fini(&env);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ---- the peer's segments ---- */

static uint8_t
opts_ts(uint8_t *o)
{
	o[0] = TCPOPT_NOP;
	o[1] = TCPOPT_NOP;
	o[2] = TCPOPT_TS;
	o[3] = 10;
	o[4] = (uint8_t)(P.tsval >> 24);
	o[5] = (uint8_t)(P.tsval >> 16);
	o[6] = (uint8_t)(P.tsval >> 8);
	o[7] = (uint8_t)P.tsval;
	o[8] = (uint8_t)(P.tsecr >> 24);
	o[9] = (uint8_t)(P.tsecr >> 16);
	o[10] = (uint8_t)(P.tsecr >> 8);
	o[11] = (uint8_t)P.tsecr;
	return 12;
}

static void
raw_in(const struct nt_tcp *t)
{
	nt_inject(&env, fb, nt_build_tcp(fb, t));
}

/* A segment with the peer's timestamps (if on) and given fields. */
static void
seg(uint8_t flags, uint32_t seq, uint32_t ack, const void *d, uint32_t n)
{
	uint8_t o[12];
	struct nt_tcp t = { .src = NT_PEER,
		.dst = NT_ME,
		.sport = P.port,
		.dport = LPORT,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = P.win,
		.data = d,
		.dlen = n };

	if (P.ts && !(flags & TH_RST)) {
		P.tsval++;
		t.opts = o;
		t.optlen = opts_ts(o);
	}
	raw_in(&t);
}

/* The usual SYN options: MSS 1460, window scale 7, SACK permitted and
 * (if on) timestamps; returns their length. */
static uint8_t
syn_opts(uint8_t *o)
{
	static const uint8_t base[10] = { TCPOPT_MSS, 4, 0x05, 0xb4, TCPOPT_NOP,
		TCPOPT_WSCALE, 3, 7, TCPOPT_SACK_PERM, 2 };
	uint8_t t[12];

	memcpy(o, base, 10);
	if (!P.ts)
		return 10;
	P.tsval++;
	opts_ts(t);
	memcpy(o + 10, t + 2, 10); /* TS right after SACK-permitted */
	return 20;
}

static void
syn_in(uint32_t seq, const uint8_t *extra, uint8_t extralen)
{
	uint8_t o[40];
	struct nt_tcp t = { .src = NT_PEER,
		.dst = NT_ME,
		.sport = P.port,
		.dport = LPORT,
		.seq = seq,
		.flags = TH_SYN,
		.win = 65535,
		.opts = o };

	t.optlen = syn_opts(o);
	if (extra != NULL) {
		memcpy(o + t.optlen, extra, extralen);
		t.optlen += extralen;
	}
	raw_in(&t);
}

/* ---- what the stack sent ---- */

/* The next TCP segment out, or false; ARP frames are skipped. */
static bool
out(void)
{
	const uint8_t *ts;

	struct nt_frame *f;

	/* The previous segment stays readable when none follows. */
	for (;;) {
		if ((f = nt_if_pop(&env.e_if)) == NULL)
			return false;
		free(last);
		last = f;
		ck_assert(nt_parse(last, &O));
		if (O.tcp != NULL)
			break;
	}
	ck_assert(O.sums_ok);
	if ((ts = nt_tcp_opt(&O, TCPOPT_TS)) != NULL)
		P.tsecr = get32(ts + 2);
	return true;
}

#define OSEQ   (ns_ntoh32(O.tcp->th_seq))
#define OACK   (ns_ntoh32(O.tcp->th_ack))
#define OFLAGS (O.tcp->th_flags)
#define OWIN   (ns_ntoh16(O.tcp->th_win))

static void
expect_none(void)
{
	ck_assert_msg(!out(), "unexpected segment flags %#x seq %u",
	    (unsigned)OFLAGS, OSEQ);
}

static void
expect(uint8_t flags, uint32_t seq, uint32_t ack)
{
	ck_assert_msg(out(), "no segment, expected flags %#x", flags);
	ck_assert_uint_eq(OFLAGS, flags);
	ck_assert_uint_eq(OSEQ, seq);
	if (flags & TH_ACK)
		ck_assert_uint_eq(OACK, ack);
}

/* The stack still serves: a ping is answered. */
static void
alive(void)
{
	struct nt_frame *f;
	struct nt_parsed p;

	nt_if_flush(&env.e_if);
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_ECHO, 0, 1, "ok", 2));
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert(nt_parse(f, &p));
	ck_assert_uint_eq(p.l4[0], ICMP_ECHOREPLY);
	free(f);
}

/* ---- reaching each state ---- */

static void
do_listen(unsigned backlog)
{
	ck_assert_int_eq(ns_tcp_listen(env.e_ns, 0, LPORT, backlog, &lis), 0);
}

/* SYN in, SYN-ACK out; returns our ISS. */
static uint32_t
syn_synack(void)
{
	syn_in(P.seq, NULL, 0);
	ck_assert(out());
	ck_assert_uint_eq(OFLAGS, TH_SYN | TH_ACK);
	ck_assert_uint_eq(OACK, P.seq + 1);
	P.seq++;
	P.ack = OSEQ + 1;
	return OSEQ;
}

static void
est_passive(void)
{
	do_listen(8);
	ISS = syn_synack();
	seg(TH_ACK, P.seq, P.ack, NULL, 0);
	ck_assert_int_eq(ns_tcp_accept(lis, &conn), 0);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_ESTABLISHED);
	expect_none();
}

static void
syn_sent(void)
{
	ck_assert_int_eq(ns_tcp_connect(env.e_ns, NT_PEER, LPORT, &conn), 0);
	ck_assert(out());
	ck_assert_uint_eq(OFLAGS, TH_SYN);
	ISS = OSEQ;
	P.ack = ISS + 1;
	P.port = ns_ntoh16(O.tcp->th_sport); /* our port, their dport... */
}

/* For active opens the peer is the server: LPORT is ours, so swap. */
static uint16_t active_lport;

static void
aseg(uint8_t flags, uint32_t seq, uint32_t ack, const void *d, uint32_t n)
{
	uint8_t o[12];
	struct nt_tcp t = { .src = NT_PEER,
		.dst = NT_ME,
		.sport = LPORT,
		.dport = active_lport,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = P.win,
		.data = d,
		.dlen = n };

	if (P.ts && !(flags & TH_RST)) {
		P.tsval++;
		t.opts = o;
		t.optlen = opts_ts(o);
	}
	raw_in(&t);
}

static void
est_active(void)
{
	uint8_t o[40];
	struct nt_tcp t = { .src = NT_PEER,
		.dst = NT_ME,
		.sport = LPORT,
		.flags = TH_SYN | TH_ACK,
		.win = 65535,
		.opts = o };

	syn_sent();
	active_lport = P.port;
	t.optlen = syn_opts(o);
	t.dport = active_lport;
	t.seq = P.seq;
	t.ack = P.ack;
	raw_in(&t);
	P.seq++;
	expect(TH_ACK, ISS + 1, P.seq);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_ESTABLISHED);
}

/* The states, as loop indices. */
static const enum ns_tcp_state states[] = { NS_TCPS_LISTEN, NS_TCPS_SYN_SENT,
	NS_TCPS_SYN_RECEIVED, NS_TCPS_ESTABLISHED, NS_TCPS_CLOSE_WAIT,
	NS_TCPS_FIN_WAIT_1, NS_TCPS_CLOSING, NS_TCPS_LAST_ACK,
	NS_TCPS_FIN_WAIT_2, NS_TCPS_TIME_WAIT };
#define NSTATES ((int)(sizeof(states) / sizeof(states[0])))

/* Segments to the connection of state s (active or passive side). */
static int active;

static void
sseg(uint8_t flags, uint32_t seq, uint32_t ack, const void *d, uint32_t n)
{
	if (active)
		aseg(flags, seq, ack, d, n);
	else
		seg(flags, seq, ack, d, n);
}

static void
go_state(enum ns_tcp_state s)
{
	active = 0;
	switch (s) {
	case NS_TCPS_LISTEN:
		do_listen(8);
		return;
	case NS_TCPS_SYN_SENT:
		syn_sent();
		active_lport = P.port;
		active = 1;
		return;
	case NS_TCPS_SYN_RECEIVED:
		/* Simultaneous open: our SYN meets the peer's. */
		syn_sent();
		active_lport = P.port;
		active = 1;
		aseg(TH_SYN, P.seq, 0, NULL, 0);
		P.seq++;
		expect(TH_SYN | TH_ACK, ISS, P.seq);
		break;
	default:
		est_passive();
		break;
	}
	switch (s) {
	case NS_TCPS_CLOSE_WAIT:
	case NS_TCPS_LAST_ACK:
		sseg(TH_FIN | TH_ACK, P.seq, P.ack, NULL, 0);
		P.seq++;
		ck_assert(out()); /* our ACK, now or delayed */
		if (s == NS_TCPS_LAST_ACK) {
			ck_assert_int_eq(ns_tcp_shutdown(conn, NS_SHUT_WR), 0);
			expect(TH_FIN | TH_ACK, P.ack, P.seq);
		}
		break;
	case NS_TCPS_FIN_WAIT_1:
	case NS_TCPS_CLOSING:
	case NS_TCPS_FIN_WAIT_2:
	case NS_TCPS_TIME_WAIT:
		ck_assert_int_eq(ns_tcp_shutdown(conn, NS_SHUT_WR), 0);
		expect(TH_FIN | TH_ACK, P.ack, P.seq);
		if (s == NS_TCPS_CLOSING) {
			sseg(TH_FIN | TH_ACK, P.seq, P.ack, NULL, 0);
			P.seq++;
			expect(TH_ACK, P.ack + 1, P.seq);
			break;
		}
		if (s == NS_TCPS_FIN_WAIT_1)
			break;
		P.ack++;
		sseg(TH_ACK, P.seq, P.ack, NULL, 0);
		if (s == NS_TCPS_TIME_WAIT) {
			sseg(TH_FIN | TH_ACK, P.seq, P.ack, NULL, 0);
			P.seq++;
			expect(TH_ACK, P.ack, P.seq);
		}
		break;
	default:
		break;
	}
	ck_assert_int_eq(ns_tcp_state(conn), s);
	expect_none();
}

/* Our next sequence number, as the peer expects it. */
static uint32_t
our_nxt(enum ns_tcp_state s)
{
	if (s == NS_TCPS_FIN_WAIT_1 || s == NS_TCPS_LAST_ACK ||
	    s == NS_TCPS_CLOSING)
		return P.ack + 1; /* after our FIN */
	if (s == NS_TCPS_SYN_RECEIVED)
		return ISS + 1;
	return P.ack;
}

/* ---------------------------------------------------------------- */
/* RST and SYN in every state                                       */
/* ---------------------------------------------------------------- */

START_TEST(test_rst_exact_every_state)
{
	enum ns_tcp_state s = states[_i];
	static const int want[] = { 0, -ECONNREFUSED, -ECONNREFUSED,
		-ECONNRESET, -ECONNRESET, -ECONNRESET, 0, 0, -ECONNRESET, 0 };

	go_state(s);
	if (s == NS_TCPS_LISTEN) {
		seg(TH_RST, P.seq, 0, NULL, 0);
		ck_assert_int_eq(ns_tcp_state(lis), NS_TCPS_LISTEN);
		ck_assert_uint_eq(ST->tcp_rx_rst_ignored, 1);
	} else if (s == NS_TCPS_SYN_SENT) {
		sseg(TH_RST | TH_ACK, 0, ISS + 1, NULL, 0);
	} else {
		sseg(TH_RST, P.seq, 0, NULL, 0);
	}
	expect_none();
	if (s != NS_TCPS_LISTEN) {
		ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_CLOSED);
		ck_assert_int_eq(ns_tcp_error(conn), want[_i]);
		ck_assert_uint_eq(ST->tcp_rx_rst, 1);
		ck_assert(ns_tcp_events(conn) & NS_EV_HUP);
	}
	alive();
}
END_TEST

START_TEST(test_rst_in_window_every_state)
{
	enum ns_tcp_state s = states[_i];

	go_state(s);
	if (s == NS_TCPS_SYN_SENT) {
		/* No acceptable ACK: a RST is ignored (RFC 9293 3.10.7.3). */
		sseg(TH_RST, P.seq, 0, NULL, 0);
		sseg(TH_RST | TH_ACK, 0, ISS + 7, NULL, 0);
		expect_none();
	} else if (s == NS_TCPS_LISTEN) {
		seg(TH_RST, P.seq + 100, 0, NULL, 0);
		expect_none();
	} else {
		sseg(TH_RST, P.seq + 100, 0, NULL, 0);
		/* RFC 5961 3.2: a challenge ACK, nothing else. */
		expect(TH_ACK, our_nxt(s), P.seq);
		ck_assert_uint_eq(ST->tcp_challenge_ack, 1);
		ck_assert_int_eq(ns_tcp_state(conn), s);
	}
	expect_none();
	alive();
}
END_TEST

START_TEST(test_rst_out_of_window_every_state)
{
	enum ns_tcp_state s = states[_i];

	go_state(s);
	sseg(TH_RST, P.seq + 50000000, 0, NULL, 0);
	sseg(TH_RST, P.seq - 1, 0, NULL, 0);
	expect_none();
	if (conn != NULL)
		ck_assert_int_eq(ns_tcp_state(conn), s);
	ck_assert_uint_eq(ST->tcp_rx_rst, 0);
	alive();
}
END_TEST

START_TEST(test_syn_every_state)
{
	enum ns_tcp_state s = states[_i];

	go_state(s);
	switch (s) {
	case NS_TCPS_LISTEN:
		syn_in(P.seq, NULL, 0);
		ck_assert(out());
		ck_assert_uint_eq(OFLAGS, TH_SYN | TH_ACK);
		ck_assert_uint_eq(OACK, P.seq + 1);
		break;
	case NS_TCPS_SYN_SENT:
		/* A bare SYN: simultaneous open. */
		aseg(TH_SYN, P.seq, 0, NULL, 0);
		expect(TH_SYN | TH_ACK, ISS, P.seq + 1);
		ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_SYN_RECEIVED);
		break;
	default:
		/* RFC 5961 4: a challenge ACK, whatever the sequence. (In
		 * TIME-WAIT only an old SYN: a newer one may reuse it.) */
		if (s == NS_TCPS_TIME_WAIT)
			P.tsval -= 100;
		sseg(TH_SYN, P.seq + 3, 0, NULL, 0);
		expect(TH_ACK, our_nxt(s), P.seq);
		sseg(TH_SYN, P.seq - 100000, 0, NULL, 0);
		if (s == NS_TCPS_TIME_WAIT)
			expect(TH_ACK, our_nxt(s), P.seq);
		else
			expect(TH_ACK, our_nxt(s), P.seq);
		ck_assert_int_eq(ns_tcp_state(conn), s);
		ck_assert_uint_ge(ST->tcp_challenge_ack, 1);
		break;
	}
	expect_none();
	alive();
}
END_TEST

START_TEST(test_challenge_ack_rate_limited)
{
	int i, n = 0;

	est_passive();
	for (i = 0; i < 100; i++)
		seg(TH_RST, P.seq + 10 + (uint32_t)i, 0, NULL, 0);
	while (out())
		n++;
	ck_assert_int_eq(n, 10);
	ck_assert_uint_eq(ST->tcp_challenge_limited, 90);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_ESTABLISHED);
	nt_advance(&env, 1000000);
	seg(TH_RST, P.seq + 5, 0, NULL, 0);
	expect(TH_ACK, P.ack, P.seq);
}
END_TEST

START_TEST(test_timewait_syn_reuse)
{
	go_state(NS_TCPS_TIME_WAIT);
	/* Newer timestamps: the tuple may be used again (RFC 6191). */
	P.tsval += 1000;
	syn_in(P.seq + 100000, NULL, 0);
	ck_assert(out());
	ck_assert_uint_eq(OFLAGS, TH_SYN | TH_ACK);
	ck_assert_uint_eq(ST->tcp_timewait_reused, 1);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_CLOSED);
	ns_tcp_close(conn);
	ns_tcp_close(lis);
}
END_TEST

START_TEST(test_timewait_fin_again)
{
	uint64_t t;

	go_state(NS_TCPS_TIME_WAIT);
	nt_advance(&env, 30000000);
	seg(TH_FIN | TH_ACK, P.seq - 1, P.ack, NULL, 0);
	expect(TH_ACK, P.ack, P.seq);
	t = env.e_host.nh_now_us;
	nt_advance(&env, 59000000);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_TIME_WAIT);
	nt_advance(&env, 2000000);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_CLOSED);
	ck_assert_uint_ge(env.e_host.nh_now_us - t, 60000000);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Bad headers and options, each its own test                       */
/* ---------------------------------------------------------------- */

static struct nt_tcp
syn_to_listener(void)
{
	struct nt_tcp t = { .src = NT_PEER,
		.dst = NT_ME,
		.sport = PPORT,
		.dport = LPORT,
		.seq = 1000,
		.flags = TH_SYN,
		.win = 65535 };

	return t;
}

START_TEST(test_doff_0)
{
	struct nt_tcp t = syn_to_listener();
	uint8_t *th = fb + 14 + 20;
	uint16_t old, new, c;

	do_listen(8);
	nt_build_tcp(fb, &t);
	/* Offset 0, with the checksum adjusted to match (RFC 1624). */
	memcpy(&old, th + 12, 2);
	th[12] = 0x00;
	memcpy(&new, th + 12, 2);
	memcpy(&c, th + 16, 2);
	c = ns_cksum_adjust(c, old, new);
	memcpy(th + 16, &c, 2);
	nt_inject(&env, fb, 14 + 20 + 20);
	ck_assert_uint_eq(ST->tcp_rx_badoff, 1);
	ck_assert_uint_eq(ST->tcp_rx_badsum, 0);
	expect_none();
	alive();
}
END_TEST

START_TEST(test_doff_15_past_segment)
{
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	t.doff = 15; /* 60 bytes of header in a 20-byte segment */
	raw_in(&t);
	ck_assert_uint_eq(ST->tcp_rx_badoff, 1);
	t.doff = 8; /* 32 bytes in 24 */
	t.data = "abcd";
	t.dlen = 4;
	raw_in(&t);
	ck_assert_uint_eq(ST->tcp_rx_badoff, 2);
	expect_none();
	alive();
}
END_TEST

START_TEST(test_doff_15_full_options)
{
	uint8_t o[40];
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	memset(o, TCPOPT_NOP, sizeof(o));
	o[0] = TCPOPT_MSS;
	o[1] = 4;
	o[2] = 0x05;
	o[3] = 0xb4;
	t.opts = o;
	t.optlen = 40;
	raw_in(&t);
	ck_assert(out());
	ck_assert_uint_eq(OFLAGS, TH_SYN | TH_ACK);
	ck_assert_uint_eq(OACK, 1001);
	alive();
}
END_TEST

START_TEST(test_short_segment)
{
	struct nt_ip ip = { .src = NT_PEER,
		.dst = NT_ME,
		.proto = IP_PROTO_TCP };

	do_listen(8);
	nt_inject(&env, fb, nt_build_ip(fb, &ip, "\x9c\x40\x00\x50", 4));
	ck_assert_uint_eq(ST->tcp_rx_short, 1);
	expect_none();
	alive();
}
END_TEST

START_TEST(test_option_length_zero)
{
	static const uint8_t o[4] = { TCPOPT_MSS, 0, 0, 0 };
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	t.opts = o;
	t.optlen = 4;
	raw_in(&t);
	ck_assert_uint_eq(ST->tcp_rx_badopt, 1);
	expect_none();
	alive();
}
END_TEST

START_TEST(test_option_past_header)
{
	static const uint8_t a[4] = { TCPOPT_NOP, TCPOPT_TS, 10, 0 };
	static const uint8_t b[4] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_NOP,
		TCPOPT_MSS }; /* no room for its length byte */
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	t.opts = a;
	t.optlen = 4;
	raw_in(&t);
	t.opts = b;
	raw_in(&t);
	ck_assert_uint_eq(ST->tcp_rx_badopt, 2);
	expect_none();
	alive();
}
END_TEST

START_TEST(test_mss_zero)
{
	static const uint8_t o[4] = { TCPOPT_MSS, 4, 0, 0 };
	struct ns_tcp_info ti;

	P.ts = 0;
	do_listen(8);
	syn_in(P.seq, NULL, 0);
	/* syn_in's MSS is 1460: send one with MSS 0 alone instead. */
	nt_if_flush(&env.e_if);
	ns_tcp_close(lis);
	do_listen(8);
	{
		struct nt_tcp t = syn_to_listener();

		t.opts = o;
		t.optlen = 4;
		t.sport = 40001;
		raw_in(&t);
		ck_assert(out());
		ck_assert_uint_eq(OFLAGS, TH_SYN | TH_ACK);
		t.flags = TH_ACK;
		t.seq = 1001;
		t.ack = OSEQ + 1;
		t.opts = NULL;
		t.optlen = 0;
		raw_in(&t);
	}
	ck_assert_uint_eq(ST->tcp_rx_badmss, 1);
	ck_assert_int_eq(ns_tcp_accept(lis, &conn), 0);
	ns_tcp_info(conn, &ti);
	ck_assert_uint_eq(ti.ti_snd_mss, 536);
}
END_TEST

START_TEST(test_mss_tiny)
{
	static const uint8_t o[4] = { TCPOPT_MSS, 4, 0, 1 };
	struct ns_tcp_info ti;
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	t.opts = o;
	t.optlen = 4;
	raw_in(&t);
	ck_assert(out());
	t.flags = TH_ACK;
	t.seq = 1001;
	t.ack = OSEQ + 1;
	t.opts = NULL;
	t.optlen = 0;
	raw_in(&t);
	ck_assert_int_eq(ns_tcp_accept(lis, &conn), 0);
	ns_tcp_info(conn, &ti);
	ck_assert_uint_eq(ti.ti_snd_mss, 216);
	ck_assert_uint_eq(ST->tcp_rx_badmss, 1);
}
END_TEST

START_TEST(test_wscale_above_14)
{
	static const uint8_t o[8] = { TCPOPT_NOP, TCPOPT_WSCALE, 3, 15,
		TCPOPT_NOP, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_NOP };
	struct ns_tcp_info ti;
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	t.opts = o;
	t.optlen = 8;
	raw_in(&t);
	ck_assert(out());
	ck_assert_ptr_nonnull(nt_tcp_opt(&O, TCPOPT_WSCALE));
	t.flags = TH_ACK;
	t.seq = 1001;
	t.ack = OSEQ + 1;
	t.opts = NULL;
	t.optlen = 0;
	t.win = 2;
	raw_in(&t);
	ck_assert_int_eq(ns_tcp_accept(lis, &conn), 0);
	ns_tcp_info(conn, &ti);
	ck_assert_uint_eq(ti.ti_snd_wscale, 14);
	ck_assert_uint_eq(ti.ti_snd_wnd, 2u << 14);
	ck_assert_uint_eq(ST->tcp_rx_badwscale, 1);
}
END_TEST

/* Established, with 4 segments of ours in flight; the first one's IP
 * header and 8 bytes are kept in first_quote. */
static uint8_t first_quote[28];

static void
est_with_data(void)
{
	static uint8_t d[4 * 1448];
	int i;

	est_passive();
	memset(d, 'd', sizeof(d));
	ck_assert_int_eq(ns_tcp_send(conn, d, sizeof(d)), (long)sizeof(d));
	for (i = 0; i < 4; i++) {
		ck_assert(out());
		ck_assert_uint_eq(O.dlen, 1448);
		if (i == 0)
			memcpy(first_quote, last->f_data + 14, 28);
	}
	expect_none();
}

static void
sack_in(uint32_t ack, const uint32_t *blk, int nblk, uint8_t len_override)
{
	uint8_t o[40];
	uint8_t n = opts_ts(o);
	struct nt_tcp t = { .src = NT_PEER,
		.dst = NT_ME,
		.sport = P.port,
		.dport = LPORT,
		.seq = P.seq,
		.ack = ack,
		.flags = TH_ACK,
		.win = P.win,
		.opts = o };
	int i;

	P.tsval++;
	opts_ts(o);
	o[n++] = TCPOPT_NOP;
	o[n++] = TCPOPT_NOP;
	o[n++] = TCPOPT_SACK;
	o[n++] = len_override ? len_override : (uint8_t)(2 + 8 * nblk);
	for (i = 0; i < 2 * nblk; i++) {
		o[n++] = (uint8_t)(blk[i] >> 24);
		o[n++] = (uint8_t)(blk[i] >> 16);
		o[n++] = (uint8_t)(blk[i] >> 8);
		o[n++] = (uint8_t)blk[i];
	}
	while (len_override && n < 14 + len_override)
		o[n++] = 0; /* the option's stated length is all there */
	t.optlen = n;
	raw_in(&t);
}

START_TEST(test_bad_sack_blocks)
{
	uint32_t b[6];
	struct ns_tcp_info ti;

	est_with_data();
	/* Past what we sent, reversed, far below: all ignored. */
	b[0] = P.ack + 1448;
	b[1] = P.ack + 100000;
	b[2] = P.ack + 2896;
	b[3] = P.ack + 1448;
	b[4] = P.ack - 2000000000u;
	b[5] = P.ack + 1448;
	sack_in(P.ack, b, 3, 0);
	ck_assert_uint_eq(ST->tcp_rx_badsack, 3);
	ck_assert_uint_eq(conn->t_nsack, 0);
	/* A length that is not 2 + 8n: the option is ignored. */
	sack_in(P.ack, b, 1, 14);
	ck_assert_uint_eq(ST->tcp_rx_badsack, 4);
	/* Everything acknowledged normally afterwards. */
	seg(TH_ACK, P.seq, P.ack + 4 * 1448, NULL, 0);
	ns_tcp_info(conn, &ti);
	ck_assert_uint_eq(ti.ti_unacked, 0);
	alive();
}
END_TEST

START_TEST(test_bad_timestamp_options)
{
	static const uint8_t o[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_NOP,
		TCPOPT_TS, 9, 0, 0, 0, 1, 0, 0, 0 };
	struct nt_tcp t = { .src = NT_PEER,
		.dst = NT_ME,
		.sport = PPORT,
		.dport = LPORT,
		.flags = TH_ACK,
		.win = 65535,
		.opts = o,
		.optlen = 12 };
	struct ns_tcp_info ti;

	est_passive();
	/* Wrong length: ignored; then the segment lacks timestamps and is
	 * dropped (RFC 7323 3.2). */
	t.seq = P.seq;
	t.ack = P.ack;
	t.data = "xx";
	t.dlen = 2;
	raw_in(&t);
	ck_assert_uint_eq(ST->tcp_rx_optignored, 1);
	ck_assert_uint_eq(ST->tcp_rx_paws, 1);
	/* An echo from the future: no RTT sample from it. */
	P.tsecr += 1000000;
	seg(TH_ACK | TH_PSH, P.seq, P.ack, "yy", 2);
	ns_tcp_info(conn, &ti);
	ck_assert_uint_lt(ti.ti_srtt_us, 1000000);
	ck_assert_uint_eq(ti.ti_bytes_rcvd, 2);
	/* An old TSval: PAWS drops it and ACKs. */
	nt_if_flush(&env.e_if);
	P.tsval -= 100;
	seg(TH_ACK | TH_PSH, P.seq + 2, P.ack, "zz", 2);
	ck_assert_uint_eq(ST->tcp_rx_paws, 2);
	expect(TH_ACK, P.ack, P.seq + 2);
	alive();
}
END_TEST

START_TEST(test_urgent_past_data)
{
	struct nt_tcp t = { .src = NT_PEER,
		.dst = NT_ME,
		.sport = PPORT,
		.dport = LPORT,
		.flags = TH_ACK | TH_URG,
		.win = 65535,
		.urp = 60000,
		.data = "0123456789",
		.dlen = 10 };
	uint8_t buf[16];

	P.ts = 0;
	est_passive();
	t.seq = P.seq;
	t.ack = P.ack;
	raw_in(&t);
	ck_assert_uint_eq(ST->tcp_rx_urg, 1);
	ck_assert_int_eq(ns_tcp_recv(conn, buf, sizeof(buf)), 10);
	ck_assert_mem_eq(buf, "0123456789", 10);
	alive();
}
END_TEST

/* Peeking copies what is queued, across segments, and takes nothing;
 * at the end of the stream it returns 0, as a read does. */
START_TEST(test_peek)
{
	uint8_t buf[16];

	est_passive();
	ck_assert_int_eq(ns_tcp_peek(conn, buf, sizeof(buf)), -EAGAIN);
	seg(TH_ACK | TH_PSH, P.seq, P.ack, "01234", 5);
	seg(TH_ACK | TH_PSH, P.seq + 5, P.ack, "56789", 5);
	ck_assert_int_eq(ns_tcp_peek(conn, buf, 3), 3);
	ck_assert_mem_eq(buf, "012", 3);
	ck_assert_int_eq(ns_tcp_peek(conn, buf, sizeof(buf)), 10);
	ck_assert_mem_eq(buf, "0123456789", 10);
	ck_assert_int_eq(ns_tcp_recv(conn, buf, 4), 4);
	ck_assert_mem_eq(buf, "0123", 4);
	ck_assert_int_eq(ns_tcp_peek(conn, buf, sizeof(buf)), 6);
	ck_assert_mem_eq(buf, "456789", 6);
	ck_assert_int_eq(ns_tcp_recv(conn, buf, sizeof(buf)), 6);
	ck_assert_mem_eq(buf, "456789", 6);
	ck_assert_int_eq(ns_tcp_peek(conn, buf, sizeof(buf)), -EAGAIN);
	seg(TH_FIN | TH_ACK, P.seq + 10, P.ack, NULL, 0);
	ck_assert_int_eq(ns_tcp_peek(conn, buf, sizeof(buf)), 0);
	ck_assert_int_eq(ns_tcp_peek(lis, buf, sizeof(buf)), -ENOTCONN);
	alive();
}
END_TEST

START_TEST(test_land)
{
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	t.src = NT_ME;
	t.sport = LPORT;
	raw_in(&t);
	ck_assert_uint_eq(ST->ip_rx_land, 1);
	expect_none();
	alive();
}
END_TEST

START_TEST(test_bad_checksum)
{
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	t.bad_sum = 1;
	raw_in(&t);
	ck_assert_uint_eq(ST->tcp_rx_badsum, 1);
	expect_none();
	alive();
}
END_TEST

START_TEST(test_bad_flags)
{
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	t.flags = TH_SYN | TH_FIN;
	raw_in(&t);
	t.flags = TH_SYN | TH_RST;
	raw_in(&t);
	t.flags = TH_SYN;
	t.sport = 0;
	raw_in(&t);
	ck_assert_uint_eq(ST->tcp_rx_badflags, 3);
	expect_none();
	alive();
}
END_TEST

START_TEST(test_broadcast_no_reset)
{
	struct nt_tcp t = syn_to_listener();

	t.dst = NS_IP4(10, 0, 0, 255);
	raw_in(&t);
	ck_assert_uint_eq(ST->tcp_rx_bcast, 1);
	expect_none();
}
END_TEST

START_TEST(test_closed_port_resets)
{
	struct nt_tcp t = syn_to_listener();

	raw_in(&t); /* SYN: RST|ACK, ack = seq + 1 */
	expect(TH_RST | TH_ACK, 0, 1001);
	t.flags = TH_ACK;
	t.ack = 777;
	raw_in(&t); /* ACK: RST with seq = its ack */
	expect(TH_RST, 777, 0);
	t.flags = TH_RST;
	raw_in(&t); /* never a RST for a RST */
	expect_none();
	ck_assert_uint_eq(ST->tcp_rx_noport, 3);
}
END_TEST

START_TEST(test_ack_to_listener_resets)
{
	struct nt_tcp t = syn_to_listener();

	do_listen(8);
	t.flags = TH_ACK;
	t.ack = 4242;
	raw_in(&t);
	expect(TH_RST, 4242, 0);
}
END_TEST

START_TEST(test_ack_too_new_and_too_old)
{
	est_passive();
	seg(TH_ACK, P.seq, P.ack + 5000, NULL, 0);
	expect(TH_ACK, P.ack, P.seq);
	/* Older than the largest window the peer offered (8 MB). */
	seg(TH_ACK, P.seq, P.ack - 100000000, NULL, 0);
	expect(TH_ACK, P.ack, P.seq);
	ck_assert_uint_eq(ST->tcp_rx_badack, 2);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_ESTABLISHED);
}
END_TEST

START_TEST(test_out_of_window_data)
{
	est_passive();
	seg(TH_ACK, P.seq + 1000000, P.ack, "far", 3);
	expect(TH_ACK, P.ack, P.seq);
	seg(TH_ACK, P.seq - 10, P.ack, "old", 3); /* all duplicate */
	expect(TH_ACK, P.ack, P.seq);
	ck_assert_uint_eq(ST->tcp_rx_outwin, 2);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Passive opens: SYN cache, cookies, floods                        */
/* ---------------------------------------------------------------- */

START_TEST(test_syn_flood)
{
	struct ns_config cfg = { .nc_syncache = 64 };
	uint32_t i, cookie_iss = 0;
	uint8_t buf[8];

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	do_listen(8);
	for (i = 0; i < 5000; i++) {
		struct nt_tcp t = syn_to_listener();

		t.src = NS_IP4(10, 0, 0, 2);
		t.sport = (uint16_t)(1024 + i);
		t.seq = i * 7919;
		raw_in(&t);
		ck_assert_uint_le(env.e_ns->ns_nsyn, 64);
	}
	nt_if_flush(&env.e_if);
	ck_assert_uint_eq(ST->tcp_syncache_add, 16); /* the listener's */
	ck_assert_uint_eq(ST->tcp_cookie_sent, 5000 - 16);
	/* A real client meanwhile: its handshake completes by cookie. */
	syn_in(P.seq, NULL, 0);
	ck_assert(out());
	ck_assert_uint_eq(OFLAGS, TH_SYN | TH_ACK);
	cookie_iss = OSEQ;
	P.seq++;
	P.ack = cookie_iss + 1;
	/* A forged cookie first. */
	seg(TH_ACK, P.seq, P.ack + 1, NULL, 0);
	expect(TH_RST, P.ack + 1, 0);
	ck_assert_uint_eq(ST->tcp_cookie_bad, 1);
	seg(TH_ACK | TH_PSH, P.seq, P.ack, "GET", 3);
	ck_assert_uint_eq(ST->tcp_cookie_ok, 1);
	ck_assert_int_eq(ns_tcp_accept(lis, &conn), 0);
	ck_assert_int_eq(ns_tcp_recv(conn, buf, sizeof(buf)), 3);
	nt_if_flush(&env.e_if); /* a window update: the buffer is 256K */
	ck_assert_int_eq(ns_tcp_send(conn, "OK", 2), 2);
	ck_assert(out());
	ck_assert_uint_eq(O.dlen, 2);
	/* Options survive the cookie: SACK, timestamps, window scale. */
	ck_assert(conn->t_flags & TF_SACK);
	ck_assert(conn->t_flags & TF_TS);
	ck_assert_uint_eq(conn->snd_scale, 7);
	/* The cache drains on its own. */
	nt_advance(&env, 8000000);
	nt_advance(&env, 8000000);
	ck_assert_uint_eq(env.e_ns->ns_nsyn, 0);
	ck_assert_uint_eq(ST->tcp_syncache_timeout, 16);
	alive();
}
END_TEST

START_TEST(test_syn_flood_no_cookies)
{
	struct ns_config cfg = { .nc_syncache = 32,
		.nc_flags = NS_CF_NO_SYNCOOKIES };
	uint32_t i;

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	do_listen(64);
	for (i = 0; i < 1000; i++) {
		struct nt_tcp t = syn_to_listener();

		t.sport = (uint16_t)(2000 + i);
		raw_in(&t);
	}
	ck_assert_uint_eq(env.e_ns->ns_nsyn, 32);
	ck_assert_uint_eq(ST->tcp_syncache_overflow, 1000 - 32);
	ck_assert_uint_eq(ST->tcp_cookie_sent, 0);
	alive();
}
END_TEST

START_TEST(test_cookies_always)
{
	struct ns_config cfg = { .nc_flags = NS_CF_SYNCOOKIES };

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	est_passive();
	ck_assert_uint_eq(ST->tcp_cookie_ok, 1);
	ck_assert_uint_eq(env.e_ns->ns_nsyn, 0);
	ck_assert_uint_eq(conn->t_maxseg, 1460);
	/* An old cookie (two periods later) is refused. */
	ns_tcp_abort(conn);
	ns_tcp_close(lis);
	nt_if_flush(&env.e_if);
	do_listen(8);
	P.port++;
	syn_in(P.seq, NULL, 0);
	ck_assert(out());
	P.ack = OSEQ + 1;
	P.seq++;
	nt_advance(&env, 129000000);
	seg(TH_ACK, P.seq, P.ack, NULL, 0);
	expect(TH_RST, P.ack, 0);
}
END_TEST

START_TEST(test_synack_retransmit_then_drop)
{
	int n = 0, i;

	do_listen(8);
	syn_in(P.seq, NULL, 0);
	ck_assert(out());
	for (i = 0; i < 20; i++) {
		nt_advance(&env, 1000000);
		while (out()) {
			ck_assert_uint_eq(OFLAGS, TH_SYN | TH_ACK);
			n++;
		}
	}
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(ST->tcp_syncache_timeout, 1);
	ck_assert_uint_eq(env.e_ns->ns_nsyn, 0);
	/* A duplicate SYN before that would have been answered again. */
	syn_in(P.seq, NULL, 0);
	ck_assert(out());
	syn_in(P.seq, NULL, 0);
	ck_assert(out());
	ck_assert_uint_eq(ST->tcp_rx_dupsyn, 1);
}
END_TEST

START_TEST(test_accept_queue_overflow)
{
	struct ns_tcp *c2;
	uint32_t iss2;

	do_listen(1);
	ISS = syn_synack();
	seg(TH_ACK, P.seq, P.ack, NULL, 0);
	P.port++;
	P.seq = 9000;
	iss2 = syn_synack();
	seg(TH_ACK, P.seq, iss2 + 1, NULL, 0);
	ck_assert_uint_eq(ST->tcp_listen_overflow, 1);
	ck_assert_int_eq(ns_tcp_accept(lis, &conn), 0);
	ck_assert_int_eq(ns_tcp_accept(lis, &c2), -EAGAIN);
	/* The peer retransmits: now it fits. */
	seg(TH_ACK, P.seq, iss2 + 1, NULL, 0);
	ck_assert_int_eq(ns_tcp_accept(lis, &c2), 0);
	ck_assert_int_eq(ns_tcp_state(c2), NS_TCPS_ESTABLISHED);
}
END_TEST

START_TEST(test_isn_unpredictable)
{
	uint32_t a, b, c;

	do_listen(8);
	a = syn_synack();
	P.port++;
	b = syn_synack();
	P.port++;
	c = syn_synack();
	/* Keyed by the tuple: far apart, no step to guess. */
	ck_assert((uint32_t)(b - a) > 100000 || (uint32_t)(a - b) > 100000);
	ck_assert((uint32_t)(c - b) != (uint32_t)(b - a));
	/* RFC 6528: the same tuple later gets a larger one (4 us ticks). */
	nt_if_flush(&env.e_if);
	ck_assert_uint_eq(tcp_iss(env.e_ns, NT_ME, 80, NT_PEER, 1) + 250000,
	    (nt_advance(&env, 1000000),
		tcp_iss(env.e_ns, NT_ME, 80, NT_PEER, 1)));
}
END_TEST

START_TEST(test_connection_limit)
{
	struct ns_config cfg = { .nc_tcp_conns = 3 };
	struct ns_tcp *c;
	int i;

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	do_listen(8); /* the listener counts too */
	for (i = 0; i < 4; i++) {
		P.port = (uint16_t)(40000 + i);
		P.seq = 1000;
		ISS = syn_synack();
		seg(TH_ACK, P.seq, P.ack, NULL, 0);
	}
	ck_assert_uint_eq(ST->tcp_conn_limit, 2);
	ck_assert_int_eq(ns_tcp_accept(lis, &c), 0);
	ck_assert_int_eq(ns_tcp_accept(lis, &c), 0);
	ck_assert_int_eq(ns_tcp_accept(lis, &c), -EAGAIN);
	ck_assert_int_eq(ns_tcp_connect(env.e_ns, NT_PEER, 22, &c), -ENOMEM);
	alive();
}
END_TEST

START_TEST(test_allocation_failures)
{
	uint64_t n;

	do_listen(8);
	/* The SYN cache entry cannot be had: a cookie instead. */
	env.e_host.nh_fail_all = 1;
	syn_in(P.seq, NULL, 0);
	env.e_host.nh_fail_all = 0;
	ck_assert(out()); /* the SYN-ACK's buffer was there already */
	ck_assert_uint_eq(ST->tcp_cookie_sent, 1);
	/* The control block fails at the ACK: dropped, then retried. */
	P.seq++;
	P.ack = OSEQ + 1;
	env.e_host.nh_fail_after = 1;
	seg(TH_ACK, P.seq, P.ack, NULL, 0);
	ck_assert_uint_eq(ST->tcp_nomem, 1);
	seg(TH_ACK, P.seq, P.ack, NULL, 0);
	ck_assert_int_eq(ns_tcp_accept(lis, &conn), 0);
	/* Connect under failures: every step fails cleanly. */
	for (n = 1; n < 6; n++) {
		struct ns_tcp *c;
		int err;

		env.e_host.nh_fail_after = n;
		err = ns_tcp_connect(env.e_ns, NT_PEER, 22, &c);
		env.e_host.nh_fail_after = 0;
		if (err == 0)
			ns_tcp_abort(c);
		else
			ck_assert_int_eq(err, -ENOMEM);
	}
	alive();
}
END_TEST

/* ---------------------------------------------------------------- */
/* Timers and flow control                                          */
/* ---------------------------------------------------------------- */

START_TEST(test_syn_backoff_and_timeout)
{
	uint64_t t0, t;
	int n = 0;

	syn_sent();
	t0 = env.e_host.nh_now_us;
	for (t = 0; t < 200; t++) {
		nt_advance(&env, 1000000);
		while (out()) {
			ck_assert_uint_eq(OFLAGS, TH_SYN);
			ck_assert_uint_eq(OSEQ, ISS);
			n++;
			/* 1, 3, 7, 15, 31, 63 s after the first */
			ck_assert_uint_eq(env.e_host.nh_now_us - t0,
			    ((1ull << n) - 1) * 1000000);
		}
	}
	ck_assert_int_eq(n, 6);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_CLOSED);
	ck_assert_int_eq(ns_tcp_error(conn), -ETIMEDOUT);
}
END_TEST

START_TEST(test_data_rto_backoff_and_drop)
{
	struct ns_config cfg = { .nc_arp_ttl_ms = 3600000 };
	uint64_t last_t = 0, gap = 0, t;
	int n = 0;

	/* The peer answers no ARP: keep its entry for the whole test. */
	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	est_with_data();
	for (t = 0; t < 20000; t++) {
		nt_advance(&env, 100000);
		while (out()) {
			if (OFLAGS & TH_RST)
				goto done;
			ck_assert_msg(OSEQ == P.ack,
			    "seq %u (+%u) flags %#x len %u at %llu", OSEQ,
			    OSEQ - P.ack, OFLAGS, O.dlen,
			    (unsigned long long)env.e_host.nh_now_us);
			if (getenv("NS_VERBOSE"))
				fprintf(stderr, "rexmit %d at %llu\n", n,
				    (unsigned long long)env.e_host.nh_now_us);
			if (last_t != 0) {
				uint64_t g = env.e_host.nh_now_us - last_t;

				ck_assert_uint_ge(g, gap);
				gap = g;
			}
			last_t = env.e_host.nh_now_us;
			n++;
		}
	}
done:
	if (getenv("NS_VERBOSE"))
		fprintf(stderr,
		    "done t=%llu n=%d state %d rexmt_at %llu "
		    "shift %u next %llu\n",
		    (unsigned long long)env.e_host.nh_now_us, n,
		    ns_tcp_state(conn), (unsigned long long)conn->t_rexmt_at,
		    conn->t_rxtshift,
		    (unsigned long long)ns_next_timer(env.e_ns));
	ck_assert_int_eq(n, TCP_MAXRXTSHIFT);
	ck_assert_uint_eq(OFLAGS, TH_RST);
	ck_assert_int_eq(ns_tcp_error(conn), -ETIMEDOUT);
	ck_assert_uint_eq(gap, 60000000); /* backed off to the maximum */
}
END_TEST

START_TEST(test_fast_retransmit_with_sack)
{
	uint32_t b[2];
	struct ns_tcp_info ti;

	est_with_data();
	b[0] = P.ack + 1448;
	b[1] = P.ack + 2896;
	sack_in(P.ack, b, 1, 0);
	b[1] = P.ack + 4344;
	sack_in(P.ack, b, 1, 0);
	expect_none();
	b[1] = P.ack + 5792;
	sack_in(P.ack, b, 1, 0);
	/* Third duplicate: the first segment again, at once. */
	ck_assert(out());
	ck_assert_uint_eq(OSEQ, P.ack);
	ck_assert_uint_eq(O.dlen, 1448);
	ck_assert_uint_eq(ST->tcp_fast_rexmit, 1);
	seg(TH_ACK, P.seq, P.ack + 5792, NULL, 0);
	ns_tcp_info(conn, &ti);
	ck_assert_uint_eq(ti.ti_unacked, 0);
	ck_assert_uint_eq(ti.ti_timeouts, 0);
	ck_assert(!(conn->t_flags & TF_RECOVERY));
}
END_TEST

START_TEST(test_zero_window_persist)
{
	uint64_t t;
	int probes = 0;
	uint8_t d[3000];

	est_passive();
	P.win = 0;
	seg(TH_ACK, P.seq, P.ack, NULL, 0);
	memset(d, 'p', sizeof(d));
	ck_assert_int_eq(ns_tcp_send(conn, d, sizeof(d)), 3000);
	expect_none();
	for (t = 0; t < 30; t++) {
		nt_advance(&env, 1000000);
		while (out()) {
			if (getenv("NS_VERBOSE"))
				fprintf(stderr,
				    "probe seq +%u len %u at %llu\n",
				    OSEQ - P.ack, O.dlen,
				    (unsigned long long)env.e_host.nh_now_us);
			ck_assert_msg(O.dlen == 1 && OSEQ == P.ack,
			    "seq +%u flags %#x len %u at %llu", OSEQ - P.ack,
			    OFLAGS, O.dlen,
			    (unsigned long long)env.e_host.nh_now_us);
			probes++;
			seg(TH_ACK, P.seq, P.ack, NULL, 0); /* still shut */
		}
	}
	ck_assert_int_ge(probes, 3);
	ck_assert_int_le(probes, 10); /* backed off */
	ck_assert_uint_eq(ST->tcp_persist, (uint64_t)probes);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_ESTABLISHED);
	/* The window opens: the data flows. */
	P.win = 65535;
	seg(TH_ACK, P.seq, P.ack, NULL, 0);
	ck_assert(out());
	ck_assert_uint_eq(OSEQ, P.ack);
	ck_assert_uint_eq(O.dlen, 1448);
}
END_TEST

START_TEST(test_keepalive)
{
	int probes = 0, i;

	est_passive();
	ck_assert_int_eq(ns_tcp_setopt(conn, NS_TCP_KEEPIDLE, 10000), 0);
	ck_assert_int_eq(ns_tcp_setopt(conn, NS_TCP_KEEPINTVL, 1000), 0);
	ck_assert_int_eq(ns_tcp_setopt(conn, NS_TCP_KEEPCNT, 3), 0);
	ck_assert_int_eq(ns_tcp_setopt(conn, NS_TCP_KEEPALIVE, 1), 0);
	/* Answered probes keep it up. */
	nt_advance(&env, 10000000);
	expect(TH_ACK, P.ack - 1, P.seq);
	seg(TH_ACK, P.seq, P.ack, NULL, 0);
	nt_advance(&env, 5000000);
	expect_none();
	/* Unanswered: three probes, then the connection goes. */
	for (i = 0; i < 20; i++) {
		nt_advance(&env, 1000000);
		while (out()) {
			if (OFLAGS & TH_RST)
				break;
			ck_assert_uint_eq(OSEQ, P.ack - 1);
			probes++;
		}
	}
	ck_assert_int_eq(probes, 3);
	ck_assert_int_eq(ns_tcp_error(conn), -ETIMEDOUT);
	ck_assert_uint_eq(ST->tcp_keepalive, 4);
}
END_TEST

START_TEST(test_delayed_ack)
{
	static uint8_t d[2 * 1448];

	est_passive();
	seg(TH_ACK, P.seq, P.ack, d, 100);
	expect_none();
	nt_advance(&env, 39000);
	expect_none();
	nt_advance(&env, 2000);
	expect(TH_ACK, P.ack, P.seq + 100);
	ck_assert_uint_eq(ST->tcp_delack, 1);
	P.seq += 100;
	/* Two full segments: ACKed at once. */
	seg(TH_ACK, P.seq, P.ack, d, 1448);
	expect_none();
	seg(TH_ACK, P.seq + 1448, P.ack, d, 1448);
	expect(TH_ACK, P.ack, P.seq + 2896);
	/* Out of order: ACKed at once, with a SACK block. */
	P.seq += 2896;
	seg(TH_ACK, P.seq + 1000, P.ack, d, 10);
	expect(TH_ACK, P.ack, P.seq);
	ck_assert_ptr_nonnull(nt_tcp_opt(&O, TCPOPT_SACK));
	/* The hole fills: ACKed at once, past both. */
	seg(TH_ACK, P.seq, P.ack, d, 1000);
	expect(TH_ACK, P.ack, P.seq + 1010);
	ck_assert_ptr_null(nt_tcp_opt(&O, TCPOPT_SACK));
}
END_TEST

START_TEST(test_nagle)
{
	est_passive();
	ck_assert_int_eq(ns_tcp_send(conn, "a", 1), 1);
	ck_assert(out());
	ck_assert_uint_eq(O.dlen, 1);
	ck_assert_int_eq(ns_tcp_send(conn, "b", 1), 1);
	ck_assert_int_eq(ns_tcp_send(conn, "c", 1), 1);
	expect_none(); /* held while "a" is unacknowledged */
	seg(TH_ACK, P.seq, P.ack + 1, NULL, 0);
	ck_assert(out());
	ck_assert_uint_eq(O.dlen, 2);
	ck_assert_mem_eq(O.data, "bc", 2);
	/* TCP_NODELAY: each goes at once. */
	ck_assert_int_eq(ns_tcp_setopt(conn, NS_TCP_NODELAY, 1), 0);
	ck_assert_int_eq(ns_tcp_send(conn, "d", 1), 1);
	ck_assert(out());
	ck_assert_int_eq(ns_tcp_send(conn, "e", 1), 1);
	ck_assert(out());
	ck_assert_mem_eq(O.data, "e", 1);
}
END_TEST

START_TEST(test_receive_window)
{
	static uint8_t d[1448];
	struct ns_tcp_info ti;
	uint32_t i, w0, w, room = 1, edge = 0, e;
	uint8_t buf[4096];

	est_passive();
	ns_tcp_info(conn, &ti);
	w0 = ti.ti_rcv_wnd;
	/* Fill the buffer without reading: the window closes, its right
	 * edge never moving back (RFC 9293 3.8.6.2.2). */
	for (i = 0; i < 400; i++) {
		room = conn->rcv_adv - conn->rcv_nxt;
		if (room == 0)
			break;
		seg(TH_ACK, conn->rcv_nxt, P.ack, d, NS_MIN(room, 1448u));
		while (out()) {
			e = OACK + ((uint32_t)OWIN << conn->rcv_scale);
			ck_assert(edge == 0 || SEQ_GEQ(e, edge));
			edge = e;
		}
	}
	ck_assert_uint_eq(room, 0);
	ck_assert_uint_ge((uint64_t)i * 1448, w0 - 2 * 1448);
	/* A zero-window probe is not taken but is ACKed. */
	P.seq = conn->rcv_nxt;
	seg(TH_ACK, P.seq, P.ack, d, 1);
	expect(TH_ACK, P.ack, P.seq);
	ck_assert_uint_eq(OWIN, 0);
	/* Reading opens it again with an update. */
	while (ns_tcp_recv(conn, buf, sizeof(buf)) > 0)
		;
	ck_assert(out());
	while (out()) /* updates as the reads went; the last one counts */
		;
	w = (uint32_t)OWIN << conn->rcv_scale;
	ck_assert_uint_gt(w, w0 / 2);
}
END_TEST

/*
 * Segments whose sizes (one or two, as delayed ACKs go) are not
 * multiples of the window scale's unit: rounding the scaled window down
 * must not pull the right edge back from what was offered (it did, with
 * Linux's 1436-byte segments: Linux had sent up to the old edge, and the
 * connection stalled).
 */
START_TEST(test_receive_window_odd_segments)
{
	static uint8_t d[1433];
	uint32_t i, room, edge = 0, e;

	est_passive();
	for (i = 0; i < 400; i++) {
		room = conn->rcv_adv - conn->rcv_nxt;
		if (room == 0)
			break;
		seg(TH_ACK, conn->rcv_nxt, P.ack, d, NS_MIN(room, 1433u));
		while (out()) {
			e = OACK + ((uint32_t)OWIN << conn->rcv_scale);
			ck_assert_msg(edge == 0 || SEQ_GEQ(e, edge),
			    "the right edge moved back from %u to %u", edge, e);
			ck_assert(SEQ_GEQ(e, conn->rcv_adv));
			edge = e;
		}
	}
	ck_assert_uint_eq(conn->rcv_adv - conn->rcv_nxt, 0);
}
END_TEST

/*
 * A peer that filled our window sends its ACKs with SEG.SEQ at the
 * window's right edge: they are taken (their ACK field counts), one byte
 * past the edge is not.
 */
START_TEST(test_ack_at_window_edge)
{
	static uint8_t d[1000];
	struct ns_tcp_info ti;
	uint32_t edge;

	est_passive();
	ck_assert_int_eq(ns_tcp_send(conn, d, sizeof(d)), sizeof(d));
	ck_assert(out());
	ck_assert_uint_eq(OSEQ, ISS + 1);
	edge = conn->rcv_adv;
	seg(TH_ACK, edge + 1, ISS + 1 + sizeof(d), NULL, 0);
	ns_tcp_info(conn, &ti);
	ck_assert_uint_eq(ti.ti_unacked, sizeof(d)); /* refused, ACKed */
	ck_assert(out());
	seg(TH_ACK, edge, ISS + 1 + sizeof(d), NULL, 0);
	ns_tcp_info(conn, &ti);
	ck_assert_uint_eq(ti.ti_unacked, 0);
}
END_TEST

START_TEST(test_close_with_unread_data_resets)
{
	est_passive();
	seg(TH_ACK | TH_PSH, P.seq, P.ack, "unread", 6);
	ck_assert_int_eq(ns_tcp_close(conn), 0);
	while (out() && !(OFLAGS & TH_RST))
		;
	ck_assert_uint_eq(OFLAGS & TH_RST, TH_RST);
	ck_assert_uint_eq(ST->tcp_tx_rst, 1);
	ck_assert_uint_eq(env.e_ns->ns_tcp_n, 1); /* the listener */
}
END_TEST

START_TEST(test_data_after_close_resets)
{
	est_passive();
	ck_assert_int_eq(ns_tcp_close(conn), 0);
	expect(TH_FIN | TH_ACK, P.ack, P.seq);
	seg(TH_ACK | TH_PSH, P.seq, P.ack + 1, "late", 4);
	ck_assert(out());
	ck_assert_uint_eq(OFLAGS & TH_RST, TH_RST);
	ck_assert_uint_eq(ST->tcp_rx_afterclose, 1);
	ck_assert_uint_eq(env.e_ns->ns_tcp_n, 1);
}
END_TEST

START_TEST(test_fin_wait_2_bounded_after_close)
{
	est_passive();
	ck_assert_int_eq(ns_tcp_close(conn), 0);
	expect(TH_FIN | TH_ACK, P.ack, P.seq);
	seg(TH_ACK, P.seq, P.ack + 1, NULL, 0);
	ck_assert_uint_eq(env.e_ns->ns_tcp_n, 2);
	nt_advance(&env, 61000000);
	ck_assert_uint_eq(env.e_ns->ns_tcp_n, 1);
}
END_TEST

START_TEST(test_timewait_bounded)
{
	struct ns_config cfg = { .nc_tcp_timewait = 4 };
	int i;

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	do_listen(16);
	for (i = 0; i < 6; i++) {
		P.port = (uint16_t)(41000 + i);
		P.seq = 1000;
		ISS = syn_synack();
		seg(TH_ACK, P.seq, P.ack, NULL, 0);
		ck_assert_int_eq(ns_tcp_accept(lis, &conn), 0);
		ck_assert_int_eq(ns_tcp_close(conn), 0);
		expect(TH_FIN | TH_ACK, P.ack, P.seq);
		seg(TH_FIN | TH_ACK, P.seq, P.ack + 1, NULL, 0);
		ck_assert(out());
	}
	ck_assert_uint_eq(ST->tcp_timewait, 6);
	ck_assert_uint_eq(ST->tcp_timewait_recycled, 2);
	ck_assert_uint_eq(env.e_ns->ns_tcp_ntw, 4);
	ck_assert_uint_eq(env.e_ns->ns_tcp_n, 5);
}
END_TEST

START_TEST(test_path_mtu)
{
	uint8_t q[28];
	struct ns_tcp_info ti;

	est_with_data();
	memcpy(q, first_quote, 28); /* the IP header and 8 bytes */
	/* A quote with a sequence number not in flight: ignored. */
	q[24] ^= 0x40;
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NS_IP4(10, 0, 0, 254), NT_ME, ICMP_UNREACH,
		ICMP_UNREACH_NEEDFRAG, 1000, q, 28));
	ck_assert_uint_eq(ST->icmp_pmtu_update, 0);
	q[24] ^= 0x40;
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NS_IP4(10, 0, 0, 254), NT_ME, ICMP_UNREACH,
		ICMP_UNREACH_NEEDFRAG, 1000, q, 28));
	ck_assert_uint_eq(ST->icmp_pmtu_update, 1);
	ns_tcp_info(conn, &ti);
	ck_assert_uint_eq(ti.ti_snd_mss, 960);
	/* Resent at once in smaller pieces. */
	ck_assert(out());
	ck_assert_uint_eq(OSEQ, P.ack);
	ck_assert_uint_le(O.l4len + 20, 1000);
}
END_TEST

START_TEST(test_port_unreachable_aborts_connect)
{
	uint8_t q[28];

	syn_sent();
	memcpy(q, last->f_data + 14, 28);
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_UNREACH, ICMP_UNREACH_PORT,
		0, q, 28));
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_CLOSED);
	ck_assert_int_eq(ns_tcp_error(conn), -ECONNREFUSED);
}
END_TEST

START_TEST(test_simultaneous_open_completes)
{
	go_state(NS_TCPS_SYN_RECEIVED);
	aseg(TH_ACK, P.seq, ISS + 1, NULL, 0);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_ESTABLISHED);
	ck_assert(ns_tcp_events(conn) & NS_EV_WRITE);
}
END_TEST

START_TEST(test_active_open)
{
	struct ns_tcp_info ti;
	uint8_t buf[8];

	est_active();
	ns_tcp_info(conn, &ti);
	ck_assert(ti.ti_ts && ti.ti_sack);
	ck_assert_uint_eq(ti.ti_snd_wscale, 7);
	ck_assert_uint_eq(ti.ti_snd_mss, 1460);
	aseg(TH_ACK | TH_PSH, P.seq, P.ack, "srv", 3);
	ck_assert_int_eq(ns_tcp_recv(conn, buf, sizeof(buf)), 3);
	ck_assert_int_eq(ns_tcp_send(conn, "cli", 3), 3);
	ck_assert(out());
	ck_assert_uint_eq(OSEQ, P.ack);
	ck_assert_uint_eq(OACK, P.seq + 3);
	ck_assert_mem_eq(O.data, "cli", 3);
	ck_assert_uint_eq(ST->tcp_connects, 1);
}
END_TEST

/* Bytes that tell their own sequence number. */
static uint8_t stream[4096];

static void
seg_range(uint32_t from, uint32_t to)
{
	seg(TH_ACK, P.seq + from, P.ack, stream + from, to - from);
}

START_TEST(test_overlapping_segments)
{
	uint8_t buf[4096];
	uint32_t i;
	long n;

	for (i = 0; i < sizeof(stream); i++)
		stream[i] = (uint8_t)(i * 7 + i / 256);
	est_passive();
	/* Out of order and overlapping in every way the queue can see. */
	seg_range(100, 300);
	seg_range(200, 400); /* overlaps the tail */
	seg_range(50, 150);  /* overlaps the head */
	seg_range(120, 180); /* inside: a duplicate */
	seg_range(90, 700);  /* covers them all */
	seg_range(650, 800);
	seg_range(1000, 1100);			     /* another hole */
	ck_assert_uint_eq(conn->t_oq_cc, 750 + 100); /* no byte twice */
	{
		const struct nb *q;
		uint32_t end = 0;

		for (q = conn->t_oq; q != NULL; q = q->nb_nextpkt) {
			ck_assert(end == 0 || SEQ_GEQ(q->nb_seq, end));
			end = q->nb_seq + nb_pktlen(q);
		}
	}
	seg_range(0, 60); /* fills the front */
	seg_range(800, 1000);
	/* A partial duplicate of what is in order: only the new part. */
	seg_range(1050, 1200);
	n = ns_tcp_recv(conn, buf, sizeof(buf));
	ck_assert_int_eq(n, 1200);
	ck_assert_mem_eq(buf, stream, 1200);
	ck_assert_uint_eq(conn->t_oq_n, 0);
	ck_assert_uint_eq(conn->t_oq_cc, 0);
	ck_assert_uint_gt(conn->t_dupbytes, 0);
	/* The last ACK covers it all, with no SACK block left. */
	while (out())
		;
	ck_assert_uint_eq(OACK, P.seq + 1200);
	ck_assert_ptr_null(nt_tcp_opt(&O, TCPOPT_SACK));
}
END_TEST

START_TEST(test_sack_blocks_reported)
{
	const uint8_t *o;

	for (uint32_t i = 0; i < sizeof(stream); i++)
		stream[i] = (uint8_t)i;
	est_passive();
	seg_range(1000, 1100);
	seg_range(2000, 2100);
	seg_range(3000, 3100);
	seg_range(2100, 2200); /* extends the second: it comes first */
	ck_assert(out());
	while (out())
		;
	o = nt_tcp_opt(&O, TCPOPT_SACK);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o[1], 2 + 3 * 8); /* three: timestamps are on */
	ck_assert_uint_eq(get32(o + 2), P.seq + 2000);
	ck_assert_uint_eq(get32(o + 6), P.seq + 2200);
	ck_assert_uint_eq(get32(o + 10), P.seq + 3000);
	ck_assert_uint_eq(get32(o + 18), P.seq + 1000);
}
END_TEST

START_TEST(test_synack_with_data)
{
	uint8_t o[40], buf[8];
	struct nt_tcp t = { .src = NT_PEER,
		.dst = NT_ME,
		.sport = LPORT,
		.flags = TH_SYN | TH_ACK,
		.win = 65535,
		.opts = o,
		.data = "hi",
		.dlen = 2 };

	syn_sent();
	t.optlen = syn_opts(o);
	t.dport = P.port;
	t.seq = P.seq;
	t.ack = P.ack;
	raw_in(&t);
	expect(TH_ACK, ISS + 1, P.seq + 3);
	ck_assert_int_eq(ns_tcp_recv(conn, buf, sizeof(buf)), 2);
	ck_assert_mem_eq(buf, "hi", 2);
}
END_TEST

START_TEST(test_synrcvd_bad_ack_resets)
{
	go_state(NS_TCPS_SYN_RECEIVED);
	aseg(TH_ACK, P.seq, ISS, NULL, 0); /* does not cover our SYN */
	expect(TH_RST, ISS, 0);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_SYN_RECEIVED);
}
END_TEST

START_TEST(test_fin_again_in_close_wait)
{
	go_state(NS_TCPS_CLOSE_WAIT);
	seg(TH_FIN | TH_ACK, P.seq - 1, P.ack, NULL, 0);
	expect(TH_ACK, P.ack, P.seq);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_CLOSE_WAIT);
}
END_TEST

START_TEST(test_api_misuse)
{
	struct ns_tcp *l2, *c;
	uint8_t b[4];

	do_listen(8);
	ck_assert_int_eq(ns_tcp_listen(env.e_ns, 0, LPORT, 8, &l2),
	    -EADDRINUSE);
	ck_assert_int_eq(ns_tcp_listen(env.e_ns, 0, 0, 8, &l2), -EINVAL);
	ck_assert_int_eq(
	    ns_tcp_listen(env.e_ns, NS_IP4(10, 0, 0, 9), 81, 8, &l2),
	    -EADDRNOTAVAIL);
	ck_assert_int_eq(ns_tcp_send(lis, "x", 1), -ENOTCONN);
	ck_assert_int_eq(ns_tcp_recv(lis, b, 4), -ENOTCONN);
	ck_assert_int_eq(ns_tcp_shutdown(lis, NS_SHUT_WR), -ENOTCONN);
	ck_assert_int_eq(ns_tcp_accept(lis, &c), -EAGAIN);
	ck_assert_uint_eq(ns_tcp_events(lis), 0);
	ck_assert_int_eq(ns_tcp_connect(env.e_ns, NT_ME, 80, &c), -EINVAL);
	ck_assert_int_eq(ns_tcp_connect(env.e_ns, 0xffffffffu, 80, &c),
	    -EINVAL);
	ck_assert_int_eq(ns_tcp_connect(env.e_ns, NT_PEER, 0, &c), -EINVAL);
	ck_assert_int_eq(ns_tcp_connect(env.e_ns, NS_IP4(8, 8, 8, 8), 80, &c),
	    0); /* through the gateway */
	ck_assert_int_eq(ns_tcp_setopt(c, NS_TCP_CC, 7), -EINVAL);
	ck_assert_int_eq(ns_tcp_setopt(c, NS_TCP_CC, NS_CC_NEWRENO), 0);
	ck_assert_int_eq(ns_tcp_setopt(c, NS_TCP_RCVBUF, 1 << 20), -EISCONN);
	ck_assert_int_eq(ns_tcp_setopt(c, NS_TCP_SNDBUF, 1 << 20), 0);
	ck_assert_int_eq(ns_tcp_setopt(c, NS_TCP_SNDBUF, 1), -EINVAL);
	ck_assert_int_eq(ns_tcp_setopt(c, 99, 1), -ENOPROTOOPT);
	ck_assert_int_eq(ns_tcp_send(c, "early", 5), 5); /* queued */
	ck_assert_int_eq(ns_tcp_close(c), 0); /* SYN-SENT: just gone */
	ck_assert_uint_eq(env.e_ns->ns_tcp_n, 1);
	/* After a reset: the error, then end of stream and EPIPE. */
	ns_tcp_close(lis);
	est_passive();
	seg(TH_RST, P.seq, 0, NULL, 0);
	ck_assert(ns_tcp_events(conn) & NS_EV_ERR);
	ck_assert_int_eq(ns_tcp_send(conn, "x", 1), -ECONNRESET);
	ck_assert_int_eq(ns_tcp_recv(conn, b, 4), -ECONNRESET);
	ck_assert_int_eq(ns_tcp_error(conn), -ECONNRESET);
	ck_assert_int_eq(ns_tcp_recv(conn, b, 4), 0);
	ck_assert_int_eq(ns_tcp_send(conn, "x", 1), -EPIPE);
}
END_TEST

static unsigned upcall_ev;

static void
upcall(void *arg, unsigned ev)
{
	ck_assert_ptr_eq(arg, &upcall_ev);
	upcall_ev |= ev;
}

START_TEST(test_upcalls)
{
	do_listen(8);
	ns_tcp_set_upcall(lis, upcall, &upcall_ev);
	ISS = syn_synack();
	seg(TH_ACK, P.seq, P.ack, NULL, 0);
	ck_assert_uint_eq(upcall_ev, NS_EV_READ); /* to accept */
	ck_assert_int_eq(ns_tcp_accept(lis, &conn), 0);
	ns_tcp_set_upcall(conn, upcall, &upcall_ev);
	upcall_ev = 0;
	seg(TH_ACK | TH_PSH, P.seq, P.ack, "data", 4);
	ck_assert(upcall_ev & NS_EV_READ);
	ck_assert(ns_tcp_events(conn) & NS_EV_READ);
	ck_assert(ns_tcp_events(conn) & NS_EV_WRITE);
	upcall_ev = 0;
	seg(TH_RST, P.seq + 4, 0, NULL, 0);
	ck_assert(upcall_ev & NS_EV_ERR);
	ck_assert(upcall_ev & NS_EV_HUP);
}
END_TEST

START_TEST(test_closing_to_timewait)
{
	go_state(NS_TCPS_CLOSING);
	seg(TH_ACK, P.seq, P.ack + 1, NULL, 0);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_TIME_WAIT);
}
END_TEST

START_TEST(test_last_ack_to_closed)
{
	go_state(NS_TCPS_LAST_ACK);
	seg(TH_ACK, P.seq, P.ack + 1, NULL, 0);
	ck_assert_int_eq(ns_tcp_state(conn), NS_TCPS_CLOSED);
	ck_assert_int_eq(ns_tcp_error(conn), 0);
}
END_TEST

START_TEST(test_cbrt)
{
	uint64_t v;

	ck_assert_uint_eq(ns_cbrt64(0), 0);
	ck_assert_uint_eq(ns_cbrt64(7), 1);
	ck_assert_uint_eq(ns_cbrt64(8), 2);
	ck_assert_uint_eq(ns_cbrt64(26), 2);
	ck_assert_uint_eq(ns_cbrt64(27), 3);
	ck_assert_uint_eq(ns_cbrt64(1000000000000ull), 10000);
	ck_assert_uint_eq(ns_cbrt64(UINT64_MAX), 2642245);
	for (v = 1; v < 3000000; v = v * 3 + 1) {
		uint64_t r = ns_cbrt64(v);

		ck_assert(r * r * r <= v && (r + 1) * (r + 1) * (r + 1) > v);
	}
}
END_TEST

static Suite *
tcp_suite(void)
{
	Suite *s = suite_create("net_tcp");
	TCase *st = tcase_create("states");
	TCase *bad = tcase_create("bad_input");
	TCase *pas = tcase_create("passive");
	TCase *tim = tcase_create("timers");

	tcase_add_checked_fixture(st, setup, teardown);
	tcase_add_loop_test(st, test_rst_exact_every_state, 0, NSTATES);
	tcase_add_loop_test(st, test_rst_in_window_every_state, 0, NSTATES);
	tcase_add_loop_test(st, test_rst_out_of_window_every_state, 0, NSTATES);
	tcase_add_loop_test(st, test_syn_every_state, 0, NSTATES);
	tcase_add_test(st, test_challenge_ack_rate_limited);
	tcase_add_test(st, test_timewait_syn_reuse);
	tcase_add_test(st, test_timewait_fin_again);
	tcase_add_test(st, test_simultaneous_open_completes);
	tcase_add_test(st, test_active_open);
	tcase_add_test(st, test_overlapping_segments);
	tcase_add_test(st, test_sack_blocks_reported);
	tcase_add_test(st, test_synack_with_data);
	tcase_add_test(st, test_synrcvd_bad_ack_resets);
	tcase_add_test(st, test_fin_again_in_close_wait);
	tcase_add_test(st, test_api_misuse);
	tcase_add_test(st, test_peek);
	tcase_add_test(st, test_upcalls);
	tcase_add_test(st, test_closing_to_timewait);
	tcase_add_test(st, test_last_ack_to_closed);
	suite_add_tcase(s, st);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, test_doff_0);
	tcase_add_test(bad, test_doff_15_past_segment);
	tcase_add_test(bad, test_doff_15_full_options);
	tcase_add_test(bad, test_short_segment);
	tcase_add_test(bad, test_option_length_zero);
	tcase_add_test(bad, test_option_past_header);
	tcase_add_test(bad, test_mss_zero);
	tcase_add_test(bad, test_mss_tiny);
	tcase_add_test(bad, test_wscale_above_14);
	tcase_add_test(bad, test_bad_sack_blocks);
	tcase_add_test(bad, test_bad_timestamp_options);
	tcase_add_test(bad, test_urgent_past_data);
	tcase_add_test(bad, test_land);
	tcase_add_test(bad, test_bad_checksum);
	tcase_add_test(bad, test_bad_flags);
	tcase_add_test(bad, test_broadcast_no_reset);
	tcase_add_test(bad, test_closed_port_resets);
	tcase_add_test(bad, test_ack_to_listener_resets);
	tcase_add_test(bad, test_ack_too_new_and_too_old);
	tcase_add_test(bad, test_out_of_window_data);
	suite_add_tcase(s, bad);

	tcase_add_checked_fixture(pas, setup, teardown);
	tcase_add_test(pas, test_syn_flood);
	tcase_add_test(pas, test_syn_flood_no_cookies);
	tcase_add_test(pas, test_cookies_always);
	tcase_add_test(pas, test_synack_retransmit_then_drop);
	tcase_add_test(pas, test_accept_queue_overflow);
	tcase_add_test(pas, test_isn_unpredictable);
	tcase_add_test(pas, test_connection_limit);
	tcase_add_test(pas, test_allocation_failures);
	suite_add_tcase(s, pas);

	tcase_add_checked_fixture(tim, setup, teardown);
	tcase_add_test(tim, test_syn_backoff_and_timeout);
	tcase_add_test(tim, test_data_rto_backoff_and_drop);
	tcase_add_test(tim, test_fast_retransmit_with_sack);
	tcase_add_test(tim, test_zero_window_persist);
	tcase_add_test(tim, test_keepalive);
	tcase_add_test(tim, test_delayed_ack);
	tcase_add_test(tim, test_nagle);
	tcase_add_test(tim, test_receive_window);
	tcase_add_test(tim, test_receive_window_odd_segments);
	tcase_add_test(tim, test_ack_at_window_edge);
	tcase_add_test(tim, test_close_with_unread_data_resets);
	tcase_add_test(tim, test_data_after_close_resets);
	tcase_add_test(tim, test_fin_wait_2_bounded_after_close);
	tcase_add_test(tim, test_timewait_bounded);
	tcase_add_test(tim, test_path_mtu);
	tcase_add_test(tim, test_port_unreachable_aborts_connect);
	tcase_add_test(tim, test_cbrt);
	suite_add_tcase(s, tim);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(tcp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
