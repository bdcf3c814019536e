/*
 * Ethernet, ARP, IPv4 (with reassembly), ICMP and UDP with crafted frames:
 * what each layer accepts, answers and counts, and every bad input of
 * issue 6 for these layers as its own test; after each, the stack must
 * still answer a ping (alive()). Allocation failures and an exhausted
 * pool are injected too.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/ns_internal.h"
#include "netstack/test/nstest.h"

static struct nt_env env;
static uint8_t fb[NT_MAXFRAME];

#define ST (ns_stats(env.e_ns))

static void
setup(void)
{
	nt_env_init(&env, NULL, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
}

static void
teardown(void)
{
	nt_env_fini(&env);
}

/* The stack answers a ping from the peer: the test's liveness check. */
static void
alive(void)
{
	static uint16_t seq;
	struct nt_frame *f;
	struct nt_parsed p;
	uint32_t n;

	nt_if_flush(&env.e_if);
	n = nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_ECHO, 0, 0x1234u << 16 | seq,
	    "alive", 5);
	nt_inject(&env, fb, n);
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert(nt_parse(f, &p));
	ck_assert(p.sums_ok);
	ck_assert_uint_eq(p.l4[0], ICMP_ECHOREPLY);
	ck_assert_uint_eq((uint32_t)(p.l4[6] << 8 | p.l4[7]), seq);
	ck_assert_mem_eq(p.l4 + 8, "alive", 5);
	free(f);
	seq++;
}

static void
inject_ip(const struct nt_ip *ip, const void *pl, uint32_t plen)
{
	nt_inject(&env, fb, nt_build_ip(fb, ip, pl, plen));
}

static uint32_t
udp_seg(uint8_t *seg, uint16_t sport, uint16_t dport, const void *d, uint32_t n)
{
	/* No checksum (0): allowed over IPv4. */
	seg[0] = (uint8_t)(sport >> 8);
	seg[1] = (uint8_t)sport;
	seg[2] = (uint8_t)(dport >> 8);
	seg[3] = (uint8_t)dport;
	seg[4] = (uint8_t)((8 + n) >> 8);
	seg[5] = (uint8_t)(8 + n);
	seg[6] = seg[7] = 0;
	memcpy(seg + 8, d, n);
	return 8 + n;
}

/* ---------------------------------------------------------------- */
/* Ethernet                                                         */
/* ---------------------------------------------------------------- */

START_TEST(test_eth_runt)
{
	uint8_t f[14] = { 0 };

	nt_inject(&env, f, 0);
	nt_inject(&env, f, 1);
	nt_inject(&env, f, 13);
	ck_assert_uint_eq(ST->eth_rx_runt, 3);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	alive();
}
END_TEST

START_TEST(test_eth_not_for_us)
{
	uint32_t n = nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_ECHO, 0, 0, "x", 1);

	fb[5] = 0x77; /* another MAC */
	nt_inject(&env, fb, n);
	fb[0] = 0x01; /* multicast */
	nt_inject(&env, fb, n);
	ck_assert_uint_eq(ST->eth_rx_notme, 2);
	memcpy(fb, nt_mac_me, 6);
	fb[12] = 0x81; /* VLAN tag */
	fb[13] = 0x00;
	nt_inject(&env, fb, n);
	fb[12] = 0x86; /* IPv6 */
	fb[13] = 0xdd;
	nt_inject(&env, fb, n);
	ck_assert_uint_eq(ST->eth_rx_badtype, 2);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	alive();
}
END_TEST

/* ---------------------------------------------------------------- */
/* ARP                                                              */
/* ---------------------------------------------------------------- */

static uint32_t
arp_frame(uint8_t *f, uint16_t op, const uint8_t *sha, uint32_t spa,
    uint32_t tpa)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, sha, 6);
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
	memcpy(f + 22, sha, 6);
	f[28] = (uint8_t)(spa >> 24);
	f[29] = (uint8_t)(spa >> 16);
	f[30] = (uint8_t)(spa >> 8);
	f[31] = (uint8_t)spa;
	memset(f + 32, 0, 6);
	f[38] = (uint8_t)(tpa >> 24);
	f[39] = (uint8_t)(tpa >> 16);
	f[40] = (uint8_t)(tpa >> 8);
	f[41] = (uint8_t)tpa;
	return 42;
}

static const uint8_t mac3[6] = { 0x02, 0, 0, 0, 0, 0x03 };

/* Sends a UDP datagram to ip:9 through the stack. */
static void
send_udp_to(uint32_t ip)
{
	struct ns_udp *u;

	ck_assert_int_eq(ns_udp_open(env.e_ns, &u), 0);
	ck_assert_int_eq(ns_udp_sendto(u, ip, 9, "hi", 2), 0);
	ns_udp_close(u);
}

START_TEST(test_arp_request_answered)
{
	struct nt_frame *f;

	nt_inject(&env, fb,
	    arp_frame(fb, ARP_OP_REQUEST, mac3, NS_IP4(10, 0, 0, 3), NT_ME));
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->f_len, 42);
	ck_assert_mem_eq(f->f_data, mac3, 6);
	ck_assert_uint_eq(f->f_data[21], ARP_OP_REPLY);
	ck_assert_mem_eq(f->f_data + 22, nt_mac_me, 6);
	ck_assert_mem_eq(f->f_data + 32, mac3, 6);
	ck_assert_uint_eq(f->f_data[41], 3);
	free(f);
	ck_assert_uint_eq(ST->arp_tx_reply, 2); /* setup's and this one */
	/* Learned: a datagram goes straight out. */
	send_udp_to(NS_IP4(10, 0, 0, 3));
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert_mem_eq(f->f_data, mac3, 6);
	ck_assert_uint_eq(f->f_data[13], 0x00);
	free(f);
}
END_TEST

START_TEST(test_arp_not_for_us)
{
	struct nt_frame *f;

	nt_inject(&env, fb,
	    arp_frame(fb, ARP_OP_REQUEST, mac3, NS_IP4(10, 0, 0, 3),
		NS_IP4(10, 0, 0, 9)));
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	/* Not learned either: sending asks. */
	send_udp_to(NS_IP4(10, 0, 0, 3));
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->f_data[13], 0x06);
	ck_assert_uint_eq(f->f_data[21], ARP_OP_REQUEST);
	free(f);
}
END_TEST

START_TEST(test_arp_bad)
{
	uint32_t n;

	n = arp_frame(fb, ARP_OP_REQUEST, mac3, NS_IP4(10, 0, 0, 3), NT_ME);
	fb[18] = 8; /* hardware length */
	nt_inject(&env, fb, n);
	n = arp_frame(fb, 3, mac3, NS_IP4(10, 0, 0, 3), NT_ME);
	nt_inject(&env, fb, n);
	n = arp_frame(fb, ARP_OP_REQUEST, mac3, NS_IP4(10, 0, 0, 3), NT_ME);
	nt_inject(&env, fb, 14 + 20); /* truncated */
	fb[22] = 0xff;		      /* broadcast sender */
	nt_inject(&env, fb, n);
	n = arp_frame(fb, ARP_OP_REQUEST, nt_mac_me, NS_IP4(10, 0, 0, 3),
	    NT_ME); /* our own MAC */
	nt_inject(&env, fb, n);
	ck_assert_uint_eq(ST->arp_rx_bad, 5);
	n = arp_frame(fb, ARP_OP_REPLY, mac3, NT_ME, NT_ME); /* conflict */
	nt_inject(&env, fb, n);
	ck_assert_uint_eq(ST->arp_conflict, 1);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	alive();
}
END_TEST

START_TEST(test_arp_hold_and_resolve)
{
	struct nt_frame *f;
	int i;

	for (i = 0; i < 6; i++)
		send_udp_to(NS_IP4(10, 0, 0, 3));
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->f_data[21], ARP_OP_REQUEST);
	free(f);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	ck_assert_uint_eq(ST->arp_hold_drop, 2);
	nt_inject(&env, fb,
	    arp_frame(fb, ARP_OP_REPLY, mac3, NS_IP4(10, 0, 0, 3), NT_ME));
	for (i = 0; i < ARP_HOLD_MAX; i++) {
		f = nt_if_pop(&env.e_if);
		ck_assert_ptr_nonnull(f);
		ck_assert_mem_eq(f->f_data, mac3, 6);
		free(f);
	}
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
}
END_TEST

START_TEST(test_arp_unresolved)
{
	int i, reqs = 0;
	struct nt_frame *f;

	send_udp_to(NS_IP4(10, 0, 0, 3));
	for (i = 0; i < 5; i++)
		nt_advance(&env, 1000000);
	while ((f = nt_if_pop(&env.e_if)) != NULL) {
		reqs++;
		free(f);
	}
	ck_assert_int_eq(reqs, 4);
	ck_assert_uint_eq(ST->arp_unresolved, 1);
	ck_assert_uint_eq(ST->arp_hold_drop, 1);
	/* Only the peer's entry (setup) still has a timer. */
	ck_assert_uint_gt(ns_next_timer(env.e_ns),
	    env.e_host.nh_now_us + 200000000);
}
END_TEST

START_TEST(test_arp_cache_bounded)
{
	struct ns_config cfg = { .nc_arp_entries = 4 };
	int i;

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	for (i = 0; i < 6; i++) {
		uint8_t m[6] = { 2, 0, 0, 0, 1, (uint8_t)i };

		nt_inject(&env, fb,
		    arp_frame(fb, ARP_OP_REQUEST, m, NS_IP4(10, 0, 0, 10 + i),
			NT_ME));
		nt_advance(&env, 1000);
	}
	ck_assert_uint_eq(ST->arp_evict, 2);
	ck_assert_uint_eq(ST->arp_tx_reply, 6);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	alive();
}
END_TEST

START_TEST(test_arp_expiry_and_refresh)
{
	struct ns_config cfg = { .nc_arp_ttl_ms = 10000 };
	struct nt_frame *f;
	int i, req = 0;

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	nt_advance(&env, 11000000);
	ck_assert_uint_eq(ST->arp_expired, 1);
	/* In use when it expires: refreshed by unicast, never held. */
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	for (i = 0; i < 8; i++) {
		nt_advance(&env, 2000000);
		send_udp_to(NT_PEER);
		while ((f = nt_if_pop(&env.e_if)) != NULL) {
			if (f->f_data[13] == 0x06) {
				req++;
				ck_assert_mem_eq(f->f_data, nt_mac_peer, 6);
			}
			free(f);
		}
	}
	ck_assert_int_ge(req, 1);
	ck_assert_uint_eq(ST->arp_hold_drop, 0);
	ck_assert_uint_eq(ST->arp_expired, 1);
}
END_TEST

/* ---------------------------------------------------------------- */
/* IPv4: bad headers, each its own test                             */
/* ---------------------------------------------------------------- */

static struct nt_ip
ip_to_me(uint8_t proto)
{
	struct nt_ip ip = { .src = NT_PEER, .dst = NT_ME, .proto = proto };

	return ip;
}

START_TEST(test_ip_hlen_0)
{
	struct nt_ip ip = ip_to_me(IP_PROTO_ICMP);
	uint8_t pl[40] = { 0 };

	ip.hlen_words = 0;
	nt_build_ip(fb, &ip, pl, sizeof(pl));
	fb[14] = 0x40;
	nt_inject(&env, fb, 14 + 20 + 40);
	ck_assert_uint_eq(ST->ip_rx_badhlen, 1);
	alive();
}
END_TEST

START_TEST(test_ip_hlen_15_past_packet)
{
	struct nt_ip ip = ip_to_me(IP_PROTO_ICMP);
	uint8_t pl[10] = { 0 };

	ip.hlen_words = 15; /* 60 bytes, but 20 + 10 are there */
	nt_build_ip(fb, &ip, NULL, 0);
	memcpy(fb + 34, pl, 10);
	nt_inject(&env, fb, 14 + 30);
	ck_assert_uint_eq(ST->ip_rx_badhlen, 1);
	alive();
}
END_TEST

START_TEST(test_ip_hlen_15_options)
{
	uint8_t nops[40], seg[64], buf[16];
	struct nt_ip ip = ip_to_me(IP_PROTO_UDP);
	struct ns_udp *u;
	uint32_t n;

	memset(nops, IPOPT_NOP, sizeof(nops));
	nops[39] = IPOPT_EOL;
	ip.opts = nops;
	ip.optlen = 40;
	ck_assert_int_eq(ns_udp_open(env.e_ns, &u), 0);
	ck_assert_int_eq(ns_udp_bind(u, 0, 7), 0);
	n = udp_seg(seg, 1000, 7, "options", 7);
	inject_ip(&ip, seg, n);
	ck_assert_int_eq(ns_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), 7);
	ck_assert_mem_eq(buf, "options", 7);
	ns_udp_close(u);
}
END_TEST

START_TEST(test_ip_len_past_frame)
{
	struct nt_ip ip = ip_to_me(IP_PROTO_ICMP);
	uint8_t pl[8] = { ICMP_ECHO };

	ip.len_delta = 1;
	inject_ip(&ip, pl, 8);
	ip.len_delta = 3000;
	inject_ip(&ip, pl, 8);
	ck_assert_uint_eq(ST->ip_rx_badlen, 2);
	alive();
}
END_TEST

START_TEST(test_ip_len_below_header)
{
	struct nt_ip ip = ip_to_me(IP_PROTO_ICMP);
	uint8_t pl[8] = { ICMP_ECHO };

	ip.len_delta = -9; /* total 19 */
	inject_ip(&ip, pl, 8);
	ck_assert_uint_eq(ST->ip_rx_badlen, 1);
	alive();
}
END_TEST

START_TEST(test_ip_padding_trimmed)
{
	struct nt_frame *f;
	struct nt_parsed p;
	uint32_t n =
	    nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_ECHO, 0, 7, "ab", 2);

	memset(fb + n, 0xa5, 20); /* Ethernet padding, not zero */
	nt_inject(&env, fb, n + 20);
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert(nt_parse(f, &p));
	ck_assert(p.sums_ok);
	ck_assert_uint_eq(p.l4len, 10);
	free(f);
}
END_TEST

START_TEST(test_ip_bad_checksum)
{
	struct nt_ip ip = ip_to_me(IP_PROTO_ICMP);
	uint8_t pl[8] = { ICMP_ECHO };

	ip.bad_sum = 1;
	inject_ip(&ip, pl, 8);
	ck_assert_uint_eq(ST->ip_rx_badsum, 1);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	alive();
}
END_TEST

START_TEST(test_ip_bad_version_and_short)
{
	struct nt_ip ip = ip_to_me(IP_PROTO_ICMP);
	uint8_t pl[8] = { ICMP_ECHO };
	uint32_t n = nt_build_ip(fb, &ip, pl, 8);

	fb[14] = 0x65;
	nt_inject(&env, fb, n);
	ck_assert_uint_eq(ST->ip_rx_badver, 1);
	nt_inject(&env, fb, 14 + 19);
	ck_assert_uint_eq(ST->ip_rx_short, 1);
	alive();
}
END_TEST

START_TEST(test_ip_bad_options)
{
	static const uint8_t zero_len[4] = { 7, 0, 0, 0 };
	static const uint8_t past[4] = { IPOPT_NOP, 7, 11, 0 };
	static const uint8_t lsrr[8] = { IPOPT_LSRR, 7, 4, 10, 0, 0, 9,
		IPOPT_EOL };
	static const uint8_t last_byte[4] = { IPOPT_NOP, IPOPT_NOP, IPOPT_NOP,
		68 }; /* a kind with no room for its length */
	struct nt_ip ip = ip_to_me(IP_PROTO_ICMP);
	uint8_t pl[8] = { ICMP_ECHO };

	ip.opts = zero_len;
	ip.optlen = 4;
	inject_ip(&ip, pl, 8);
	ip.opts = past;
	inject_ip(&ip, pl, 8);
	ip.opts = lsrr;
	ip.optlen = 8;
	inject_ip(&ip, pl, 8);
	ip.opts = last_byte;
	ip.optlen = 4;
	inject_ip(&ip, pl, 8);
	ck_assert_uint_eq(ST->ip_rx_badopt, 4);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	alive();
}
END_TEST

START_TEST(test_ip_land)
{
	uint32_t n;

	n = nt_build_icmp(fb, NT_ME, NT_ME, ICMP_ECHO, 0, 0, "x", 1);
	nt_inject(&env, fb, n);
	ck_assert_uint_eq(ST->ip_rx_land, 1);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	alive();
}
END_TEST

START_TEST(test_ip_martian_source)
{
	static const uint32_t bad[] = { NS_IP4(127, 0, 0, 1), 0xffffffffu,
		NS_IP4(224, 0, 0, 1), 0, NS_IP4(10, 0, 0, 255) };
	unsigned i;

	for (i = 0; i < 5; i++)
		nt_inject(&env, fb,
		    nt_build_icmp(fb, bad[i], NT_ME, ICMP_ECHO, 0, 0, "x", 1));
	ck_assert_uint_eq(ST->ip_rx_martian, 5);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	alive();
}
END_TEST

START_TEST(test_ip_not_for_us)
{
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NS_IP4(10, 0, 0, 7), ICMP_ECHO, 0, 0,
		"x", 1));
	ck_assert_uint_eq(ST->ip_rx_notme, 1);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
}
END_TEST

START_TEST(test_ip_unknown_protocol)
{
	struct nt_ip ip = ip_to_me(99);
	struct nt_frame *f;
	struct nt_parsed p;
	uint8_t pl[12] = "abcdefghijk";

	inject_ip(&ip, pl, 12);
	ck_assert_uint_eq(ST->ip_rx_noproto, 1);
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert(nt_parse(f, &p));
	ck_assert(p.sums_ok);
	ck_assert_uint_eq(p.l4[0], ICMP_UNREACH);
	ck_assert_uint_eq(p.l4[1], ICMP_UNREACH_PROTO);
	ck_assert_uint_eq(p.l4len, 8 + 20 + 8); /* header and 8 bytes */
	ck_assert_uint_eq(p.l4[8 + 9], 99);
	ck_assert_mem_eq(p.l4 + 28, "abcdefgh", 8);
	free(f);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Fragments                                                        */
/* ---------------------------------------------------------------- */

static uint8_t dgram[8000];

/* Injects bytes [off, off+len) of a UDP datagram as a fragment. */
static void
frag(uint16_t id, uint32_t off, uint32_t len, bool more)
{
	struct nt_ip ip = ip_to_me(IP_PROTO_UDP);

	ip.id = id;
	ip.off = (uint16_t)(off / 8 | (more ? IP_MF : 0));
	inject_ip(&ip, dgram + off, len);
}

static struct ns_udp *
udp_bound(uint16_t port)
{
	struct ns_udp *u;

	ck_assert_int_eq(ns_udp_open(env.e_ns, &u), 0);
	ck_assert_int_eq(ns_udp_bind(u, 0, port), 0);
	return u;
}

static void
make_dgram(uint32_t n)
{
	uint32_t i;
	uint8_t d[4000];

	for (i = 0; i < n; i++)
		d[i] = (uint8_t)(i * 13 + 1);
	udp_seg(dgram, 1000, 7, d, n);
}

static void
expect_dgram(struct ns_udp *u, uint32_t n)
{
	static uint8_t got[4000];
	uint32_t i;

	ck_assert_int_eq(ns_udp_recvfrom(u, got, sizeof(got), NULL, NULL),
	    (int)n);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(got[i], (uint8_t)(i * 13 + 1));
}

START_TEST(test_frag_orders)
{
	struct ns_udp *u = udp_bound(7);

	make_dgram(2992); /* 3000 with the UDP header */
	frag(1, 0, 1480, true);
	frag(1, 1480, 1480, true);
	frag(1, 2960, 40, false);
	expect_dgram(u, 2992);
	frag(2, 2960, 40, false);
	frag(2, 1480, 1480, true);
	frag(2, 0, 1480, true);
	expect_dgram(u, 2992);
	frag(3, 1480, 1480, true);
	frag(3, 0, 1480, true);
	frag(3, 2960, 40, false);
	expect_dgram(u, 2992);
	ck_assert_uint_eq(ST->ip_frag_ok, 3);
	ck_assert_uint_eq(env.e_ns->ns_nfragq, 0);
	ck_assert_uint_eq(env.e_ns->ns_frag_bytes, 0);
	ns_udp_close(u);
}
END_TEST

START_TEST(test_frag_duplicate)
{
	struct ns_udp *u = udp_bound(7);

	make_dgram(2992);
	frag(1, 0, 1480, true);
	frag(1, 0, 1480, true);
	frag(1, 1480, 1480, true);
	frag(1, 2960, 40, false);
	ck_assert_uint_eq(ST->ip_frag_dup, 1);
	expect_dgram(u, 2992);
	ns_udp_close(u);
}
END_TEST

START_TEST(test_frag_overlap)
{
	struct ns_udp *u = udp_bound(7);
	uint8_t b[8];

	make_dgram(2992);
	frag(1, 0, 1480, true);
	frag(1, 1472, 1488, true); /* overlaps the first by 8 */
	ck_assert_uint_eq(ST->ip_frag_overlap, 1);
	ck_assert_uint_eq(env.e_ns->ns_nfragq, 0);
	frag(1, 2960, 40, false);
	ck_assert_int_eq(ns_udp_recvfrom(u, b, 8, NULL, NULL), -EAGAIN);
	/* Different last fragments: the datagram goes. */
	frag(2, 0, 1480, true);
	frag(2, 2960, 40, false);
	frag(2, 1480, 1488, false);
	ck_assert_uint_ge(ST->ip_frag_bad, 1);
	ck_assert_int_eq(ns_udp_recvfrom(u, b, 8, NULL, NULL), -EAGAIN);
	alive();
	ns_udp_close(u);
}
END_TEST

START_TEST(test_frag_oversized)
{
	struct nt_ip ip = ip_to_me(IP_PROTO_UDP);
	uint8_t pl[1000] = { 0 };

	ip.id = 9;
	ip.off = 8100; /* 64800 + 1000 > 65535 */
	inject_ip(&ip, pl, 1000);
	ck_assert_uint_eq(ST->ip_frag_toobig, 1);
	ck_assert_uint_eq(env.e_ns->ns_nfragq, 0);
	alive();
}
END_TEST

START_TEST(test_frag_bad_length)
{
	make_dgram(100);
	frag(5, 0, 13, true); /* not a multiple of 8 */
	ck_assert_uint_eq(ST->ip_frag_bad, 1);
	frag(5, 16, 0, true); /* empty */
	ck_assert_uint_eq(ST->ip_frag_bad, 2);
	alive();
}
END_TEST

START_TEST(test_frag_flood)
{
	struct ns_config cfg = { .nc_frag_dgrams = 16,
		.nc_frag_bytes = 64 * 1024 };
	const struct ns_config *c;
	struct ns_udp *u;
	uint32_t i;

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	c = &env.e_ns->ns_cfg;
	make_dgram(2992);
	for (i = 0; i < 2000; i++) {
		frag((uint16_t)(100 + i), (i % 3) * 1480, 1480, true);
		ck_assert_uint_le(env.e_ns->ns_nfragq, c->nc_frag_dgrams);
		ck_assert_uint_le(env.e_ns->ns_frag_bytes, c->nc_frag_bytes);
	}
	ck_assert_uint_gt(ST->ip_frag_evict, 1900);
	/* Still serving: pings and a whole fragmented datagram. */
	alive();
	u = udp_bound(7);
	frag(1, 0, 1480, true);
	frag(1, 1480, 1480, true);
	frag(1, 2960, 40, false);
	expect_dgram(u, 2992);
	ns_udp_close(u);
	/* The rest times out, and only some ICMP errors go (rate). */
	nt_advance(&env, 31000000);
	ck_assert_uint_eq(env.e_ns->ns_nfragq, 0);
	ck_assert_uint_eq(env.e_ns->ns_frag_bytes, 0);
	ck_assert_uint_gt(ST->ip_frag_timeout, 0);
}
END_TEST

START_TEST(test_frag_timeout_icmp)
{
	struct nt_frame *f;
	struct nt_parsed p;

	make_dgram(2992);
	frag(1, 0, 1480, true);
	frag(2, 1480, 1480, true); /* no first fragment: no ICMP */
	nt_advance(&env, 29000000);
	ck_assert_uint_eq(ST->ip_frag_timeout, 0);
	nt_advance(&env, 2000000);
	ck_assert_uint_eq(ST->ip_frag_timeout, 2);
	ck_assert_uint_eq(ST->icmp_tx_timex, 1);
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert(nt_parse(f, &p));
	ck_assert(p.sums_ok);
	ck_assert_uint_eq(p.l4[0], ICMP_TIMXCEED);
	ck_assert_uint_eq(p.l4[1], ICMP_TIMXCEED_REASS);
	ck_assert_mem_eq(p.l4 + 28, dgram, 8); /* the UDP header */
	free(f);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
}
END_TEST

/* ---------------------------------------------------------------- */
/* ICMP                                                             */
/* ---------------------------------------------------------------- */

START_TEST(test_icmp_echo)
{
	uint8_t payload[1000];
	struct nt_frame *f;
	struct nt_parsed p;
	unsigned i;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_ECHO, 0, 0xabcd0001, payload,
		sizeof(payload)));
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert(nt_parse(f, &p));
	ck_assert(p.sums_ok);
	ck_assert_mem_eq(f->f_data, nt_mac_peer, 6);
	ck_assert_uint_eq(ns_ntoh32(p.ip->ip_dst), NT_PEER);
	ck_assert_uint_eq(p.l4[0], ICMP_ECHOREPLY);
	ck_assert_uint_eq(p.l4[4], 0xab);
	ck_assert_uint_eq(p.l4[7], 0x01);
	ck_assert_mem_eq(p.l4 + 8, payload, sizeof(payload));
	free(f);
	ck_assert_uint_eq(ST->icmp_tx_echoreply, 1);
}
END_TEST

START_TEST(test_icmp_echo_broadcast_ignored)
{
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NS_IP4(10, 0, 0, 255), ICMP_ECHO, 0, 0,
		"x", 1));
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, 0xffffffffu, ICMP_ECHO, 0, 0, "x", 1));
	ck_assert_uint_eq(ST->icmp_rx_echo, 2);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
}
END_TEST

START_TEST(test_icmp_bad_checksum_and_short)
{
	uint32_t n = nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_ECHO, 0, 0, "x", 1);
	struct nt_ip ip = ip_to_me(IP_PROTO_ICMP);

	fb[14 + 20 + 2] ^= 1;
	nt_inject(&env, fb, n);
	ck_assert_uint_eq(ST->icmp_rx_badsum, 1);
	inject_ip(&ip, "\x08\x00\xf7", 3);
	ck_assert_uint_eq(ST->icmp_rx_short, 1);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	alive();
}
END_TEST

START_TEST(test_icmp_error_quotes)
{
	uint8_t q[28];
	struct nt_ip in = { .src = NT_ME,
		.dst = NT_PEER,
		.proto = IP_PROTO_UDP };

	/* Quoting a packet of ours: accepted. */
	nt_build_ip(fb, &in, "\x04\x00\x00\x07\x00\x10\x00\x00", 8);
	memcpy(q, fb + 14, 28);
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_UNREACH, ICMP_UNREACH_PORT,
		0, q, 28));
	ck_assert_uint_eq(ST->icmp_rx_unreach, 1);
	ck_assert_uint_eq(ST->icmp_rx_bad, 0);
	/* Not from us, too short, a bad inner header: rejected. */
	q[12] = 99;
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_UNREACH, ICMP_UNREACH_PORT,
		0, q, 28));
	q[12] = 10;
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_UNREACH, ICMP_UNREACH_PORT,
		0, q, 20));
	q[0] = 0x4f; /* inner IHL 60 with 28 bytes */
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_UNREACH, ICMP_UNREACH_PORT,
		0, q, 28));
	ck_assert_uint_eq(ST->icmp_rx_bad, 3);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	alive();
}
END_TEST

START_TEST(test_icmp_rate_limit)
{
	struct ns_config cfg = { .nc_icmp_rate = 10 };
	uint8_t seg[16];
	struct nt_ip ip = ip_to_me(IP_PROTO_UDP);
	uint32_t n = udp_seg(seg, 1000, 9999, "xx", 2);
	int i;

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	for (i = 0; i < 50; i++)
		inject_ip(&ip, seg, n);
	ck_assert_uint_eq(ST->udp_rx_noport, 50);
	ck_assert_uint_eq(ST->icmp_tx_unreach, 10);
	ck_assert_uint_eq(ST->icmp_ratelimited, 40);
	nt_advance(&env, 500000);
	for (i = 0; i < 50; i++)
		inject_ip(&ip, seg, n);
	ck_assert_uint_eq(ST->icmp_tx_unreach, 15);
	/* Never about a broadcast. */
	nt_advance(&env, 2000000);
	ip.dst = NS_IP4(10, 0, 0, 255);
	inject_ip(&ip, seg, n);
	ck_assert_uint_eq(ST->icmp_tx_unreach, 15);
	alive();
}
END_TEST

/* ---------------------------------------------------------------- */
/* UDP                                                              */
/* ---------------------------------------------------------------- */

/* Peeking leaves the datagram queued, whole, with its source. */
START_TEST(test_udp_peek)
{
	struct ns_udp *u = udp_bound(7);
	uint8_t buf[64];
	uint32_t src = 0;
	uint16_t sport = 0;

	ck_assert_int_eq(ns_udp_peek(u, buf, sizeof(buf), &src, &sport),
	    -EAGAIN);
	nt_inject(&env, fb,
	    nt_build_udp(fb, NT_PEER, NT_ME, 5555, 7, "hello", 5, 0));
	nt_inject(&env, fb,
	    nt_build_udp(fb, NT_PEER, NT_ME, 5556, 7, "second", 6, 0));
	ck_assert_int_eq(ns_udp_peek(u, buf, 3, NULL, NULL), 3);
	ck_assert_mem_eq(buf, "hel", 3);
	ck_assert_int_eq(ns_udp_peek(u, buf, sizeof(buf), &src, &sport), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_uint_eq(src, NT_PEER);
	ck_assert_uint_eq(sport, 5555);
	ck_assert(ns_udp_events(u) & NS_EV_READ);
	ck_assert_int_eq(ns_udp_recvfrom(u, buf, sizeof(buf), NULL, &sport), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_int_eq(ns_udp_peek(u, buf, sizeof(buf), NULL, &sport), 6);
	ck_assert_mem_eq(buf, "second", 6);
	ck_assert_uint_eq(sport, 5556);
	ck_assert_int_eq(ns_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), 6);
	ck_assert_int_eq(ns_udp_peek(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	ns_udp_close(u);
}
END_TEST

START_TEST(test_udp_echo_both_checksums)
{
	struct ns_udp *u = udp_bound(7);
	struct nt_frame *f;
	struct nt_parsed p;
	uint8_t buf[64];
	uint32_t src;
	uint16_t sport;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		env.e_if.fi_nif.nif_caps = pass ? NETIF_CAP_TXCSUM : 0;
		nt_inject(&env, fb,
		    nt_build_udp(fb, NT_PEER, NT_ME, 5555, 7, "hello", 5, 0));
		ck_assert_int_eq(
		    ns_udp_recvfrom(u, buf, sizeof(buf), &src, &sport), 5);
		ck_assert_mem_eq(buf, "hello", 5);
		ck_assert_uint_eq(src, NT_PEER);
		ck_assert_uint_eq(sport, 5555);
		ck_assert_int_eq(ns_udp_sendto(u, src, sport, "world!", 6), 0);
		f = nt_if_pop(&env.e_if);
		ck_assert_ptr_nonnull(f);
		ck_assert(nt_parse(f, &p));
		ck_assert(p.sums_ok);
		ck_assert_uint_eq(p.dlen, 6);
		ck_assert_mem_eq(p.data, "world!", 6);
		ck_assert_uint_eq(p.l4[1], 7);
		ck_assert_uint_eq(f->f_flags & NB_TX_CSUM,
		    pass ? NB_TX_CSUM : 0);
		free(f);
	}
	ck_assert_uint_eq(env.e_if.fi_csum_frames, 1);
	ns_udp_close(u);
}
END_TEST

START_TEST(test_udp_no_port)
{
	struct nt_frame *f;
	struct nt_parsed p;

	nt_inject(&env, fb,
	    nt_build_udp(fb, NT_PEER, NT_ME, 5555, 9, "x", 1, 0));
	ck_assert_uint_eq(ST->udp_rx_noport, 1);
	f = nt_if_pop(&env.e_if);
	ck_assert_ptr_nonnull(f);
	ck_assert(nt_parse(f, &p));
	ck_assert(p.sums_ok);
	ck_assert_uint_eq(p.l4[0], ICMP_UNREACH);
	ck_assert_uint_eq(p.l4[1], ICMP_UNREACH_PORT);
	ck_assert_uint_eq(p.l4len, 8 + 20 + 8);
	free(f);
}
END_TEST

START_TEST(test_udp_bad_checksum_and_none)
{
	struct ns_udp *u = udp_bound(7);
	struct nt_ip ip = ip_to_me(IP_PROTO_UDP);
	uint8_t seg[16], b[8];

	nt_inject(&env, fb,
	    nt_build_udp(fb, NT_PEER, NT_ME, 5555, 7, "x", 1, 1));
	ck_assert_uint_eq(ST->udp_rx_badsum, 1);
	ck_assert_int_eq(ns_udp_recvfrom(u, b, 8, NULL, NULL), -EAGAIN);
	inject_ip(&ip, seg, udp_seg(seg, 5555, 7, "y", 1)); /* sum 0 */
	ck_assert_int_eq(ns_udp_recvfrom(u, b, 8, NULL, NULL), 1);
	ck_assert_ptr_null(nt_if_pop(&env.e_if));
	ns_udp_close(u);
}
END_TEST

START_TEST(test_udp_bad_length)
{
	struct ns_udp *u = udp_bound(7);
	struct nt_ip ip = ip_to_me(IP_PROTO_UDP);
	uint8_t seg[32], b[32];

	udp_seg(seg, 5555, 7, "abcd", 4);
	seg[5] = 13; /* past the payload */
	inject_ip(&ip, seg, 12);
	seg[5] = 7; /* below the header */
	inject_ip(&ip, seg, 12);
	inject_ip(&ip, seg, 5); /* no header */
	ck_assert_uint_eq(ST->udp_rx_badlen, 2);
	ck_assert_uint_eq(ST->udp_rx_short, 1);
	seg[5] = 10; /* shorter than the IP payload: trimmed */
	inject_ip(&ip, seg, 12);
	ck_assert_int_eq(ns_udp_recvfrom(u, b, 32, NULL, NULL), 2);
	ns_udp_close(u);
	alive();
}
END_TEST

START_TEST(test_udp_receive_buffer_full)
{
	struct ns_udp *u = udp_bound(7);
	uint8_t b[8];
	int i, got = 0;

	for (i = 0; i < 100; i++)
		nt_inject(&env, fb,
		    nt_build_udp(fb, NT_PEER, NT_ME, 5555, 7, "z", 1, 0));
	ck_assert_uint_gt(ST->udp_rx_full, 0);
	while (ns_udp_recvfrom(u, b, 8, NULL, NULL) == 1)
		got++;
	ck_assert_uint_eq((uint64_t)got + ST->udp_rx_full, 100);
	ns_udp_close(u);
	alive();
}
END_TEST

START_TEST(test_udp_fragmented_send)
{
	struct nt_env peer;
	struct ns_config pc = { .nc_addr = NT_PEER, .nc_netmask = NT_MASK };
	struct ns_udp *u, *pu;
	struct nt_frame *f;
	static uint8_t big[4000], got[4000];
	unsigned i, nfr = 0;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	nt_env_init(&peer, &pc, 0, nt_mac_peer);
	nt_learn_peer(&peer, NT_ME, nt_mac_me);
	ck_assert_int_eq(ns_udp_open(peer.e_ns, &pu), 0);
	ck_assert_int_eq(ns_udp_bind(pu, 0, 7), 0);
	ck_assert_int_eq(ns_udp_open(env.e_ns, &u), 0);
	env.e_if.fi_nif.nif_caps = NETIF_CAP_TXCSUM; /* not for fragments */
	ck_assert_int_eq(ns_udp_sendto(u, NT_PEER, 7, big, sizeof(big)), 0);
	while ((f = nt_if_pop(&env.e_if)) != NULL) {
		ck_assert_uint_le(f->f_len, 1514);
		ck_assert_uint_eq(f->f_flags & NB_TX_CSUM, 0);
		nt_inject(&peer, f->f_data, f->f_len);
		free(f);
		nfr++;
	}
	ck_assert_uint_eq(nfr, 3);
	ck_assert_uint_eq(ST->ip_tx_frags, 3);
	ck_assert_int_eq(ns_udp_recvfrom(pu, got, sizeof(got), NULL, NULL),
	    4000);
	ck_assert_mem_eq(got, big, 4000);
	/* DF-free UDP can still not exceed 65507 bytes. */
	ck_assert_int_eq(ns_udp_sendto(u, NT_PEER, 7, big, 70000), -EMSGSIZE);
	ns_udp_close(u);
	ns_udp_close(pu);
	nt_env_fini(&peer);
}
END_TEST

START_TEST(test_udp_bind_rules)
{
	struct ns_udp *a, *b;

	ck_assert_int_eq(ns_udp_open(env.e_ns, &a), 0);
	ck_assert_int_eq(ns_udp_open(env.e_ns, &b), 0);
	ck_assert_int_eq(ns_udp_bind(a, 0, 53), 0);
	ck_assert_int_eq(ns_udp_bind(b, NT_ME, 53), -EADDRINUSE);
	ck_assert_int_eq(ns_udp_bind(b, NS_IP4(10, 0, 0, 9), 54),
	    -EADDRNOTAVAIL);
	ck_assert_int_eq(ns_udp_bind(b, 0, 0), 0);
	ck_assert_uint_ge(b->u_lport, 49152);
	ck_assert_int_eq(ns_udp_bind(b, 0, 0), -EINVAL);
	ns_udp_close(a);
	ns_udp_close(b);
}
END_TEST

START_TEST(test_rx_checksum_offload)
{
	struct ns_udp *u = udp_bound(7);
	uint32_t n = nt_build_udp(fb, NT_PEER, NT_ME, 5555, 7, "dev", 3, 1);
	struct nb *nb;
	uint8_t b[8];

	/* The device says it checked the sum: a bad one goes through. */
	nb = nb_get(ns_pool(env.e_ns), 0);
	ck_assert_int_eq(nb_append(nb, fb, n), 0);
	nb->nb_flags |= NB_RX_CSUM_OK;
	ns_input(env.e_ns, nb);
	ck_assert_int_eq(ns_udp_recvfrom(u, b, sizeof(b), NULL, NULL), 3);
	/* Without the flag it is checked and dropped. */
	nt_inject(&env, fb, n);
	ck_assert_uint_eq(ST->udp_rx_badsum, 1);
	ns_udp_close(u);
}
END_TEST

static struct nb *foreign_got;

static void
foreign(void *arg, struct nb *d)
{
	ck_assert_ptr_eq(arg, &foreign_got);
	ck_assert_ptr_null(foreign_got);
	foreign_got = d;
}

START_TEST(test_reassembled_foreign_datagram)
{
	struct ns_config cfg = { .nc_ncpu = 2,
		.nc_foreign = foreign,
		.nc_foreign_arg = &foreign_got };
	struct ns_udp *u;
	uint8_t b[8];
	int cpu, i;

	nt_env_fini(&env);
	for (i = 0; i < 2; i++) {
		/* The 4-tuple (10.0.0.2:1000 -> 10.0.0.1:7) hashes to one
		 * of the two; the other instance hands it over. */
		cpu = (int)(ns_rss_hash4(ns_rss_default_key, NT_PEER, NT_ME,
				1000, 7) %
		    2);
		cfg.nc_cpu = (unsigned)(i == 0 ? cpu : 1 - cpu);
		nt_env_init(&env, &cfg, 0, NULL);
		nt_learn_peer(&env, NT_PEER, nt_mac_peer);
		u = udp_bound(7);
		make_dgram(2992);
		frag(1, 0, 1480, true);
		frag(1, 1480, 1480, true);
		frag(1, 2960, 40, false);
		if (i == 0) {
			expect_dgram(u, 2992);
			ck_assert_ptr_null(foreign_got);
		} else {
			ck_assert_int_eq(ns_udp_recvfrom(u, b, 8, NULL, NULL),
			    -EAGAIN);
			ck_assert_ptr_nonnull(foreign_got);
			ck_assert_uint_eq(nb_pktlen(foreign_got), 20 + 3000);
			ck_assert_uint_eq(ST->ip_rx_foreign, 1);
			nb_freem(foreign_got);
			foreign_got = NULL;
		}
		ns_udp_close(u);
		if (i == 0)
			nt_env_fini(&env);
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* Faults                                                           */
/* ---------------------------------------------------------------- */

START_TEST(test_pool_exhausted)
{
	struct ns_config cfg = { .nc_max_clusters = 8,
		.nc_udp_rcvbuf = 1 << 20 };
	struct ns_udp *u;
	uint8_t b[8];
	int i;

	nt_env_fini(&env);
	nt_env_init(&env, &cfg, 0, NULL);
	nt_learn_peer(&env, NT_PEER, nt_mac_peer);
	u = udp_bound(7);
	for (i = 0; i < 20; i++)
		nt_inject(&env, fb,
		    nt_build_udp(fb, NT_PEER, NT_ME, 5555, 7, "q", 1, 0));
	ck_assert_uint_gt(ST->eth_nobufs, 0);
	ck_assert_uint_gt(ns_pool(env.e_ns)->pl_stats.nps_cl_fails, 0);
	while (ns_udp_recvfrom(u, b, 8, NULL, NULL) > 0)
		;
	alive();
	ns_udp_close(u);
}
END_TEST

START_TEST(test_create_allocation_failures)
{
	struct ns_host h;
	struct nt_if fi;
	struct ns *ns;
	uint64_t n;
	int err;

	nt_if_init(&fi, nt_mac_me, 1500, 0);
	for (n = 1;; n++) {
		ns_host_init(&h, 1);
		h.nh_fail_after = n;
		err = ns_create(&h.nh_plat, &fi.fi_nif, NULL, &ns);
		if (err == 0)
			break;
		ck_assert_int_eq(err, -ENOMEM);
		ck_assert_uint_eq(ns_host_outstanding(&h), 0);
	}
	ck_assert_uint_gt(n, 2);
	ck_assert_uint_eq(ns_destroy(ns), 0);
	ck_assert_uint_eq(ns_host_outstanding(&h), 0);
	/* Bad arguments. */
	fi.fi_nif.nif_mtu = 40;
	ck_assert_int_eq(ns_create(&h.nh_plat, &fi.fi_nif, NULL, &ns), -EINVAL);
}
END_TEST

START_TEST(test_transmit_failure_counted)
{
	env.e_if.fi_fail = 1;
	nt_inject(&env, fb,
	    nt_build_icmp(fb, NT_PEER, NT_ME, ICMP_ECHO, 0, 0, "x", 1));
	ck_assert_uint_eq(ST->eth_tx_err, 1);
	ck_assert_uint_eq(env.e_if.fi_nif.nif_stats.ns_tx_errors, 1);
	env.e_if.fi_fail = 0;
	alive();
}
END_TEST

static Suite *
ip_suite(void)
{
	Suite *s = suite_create("net_ip");
	TCase *tc = tcase_create("ip");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_eth_runt);
	tcase_add_test(tc, test_eth_not_for_us);
	tcase_add_test(tc, test_arp_request_answered);
	tcase_add_test(tc, test_arp_not_for_us);
	tcase_add_test(tc, test_arp_bad);
	tcase_add_test(tc, test_arp_hold_and_resolve);
	tcase_add_test(tc, test_arp_unresolved);
	tcase_add_test(tc, test_arp_cache_bounded);
	tcase_add_test(tc, test_arp_expiry_and_refresh);
	tcase_add_test(tc, test_ip_hlen_0);
	tcase_add_test(tc, test_ip_hlen_15_past_packet);
	tcase_add_test(tc, test_ip_hlen_15_options);
	tcase_add_test(tc, test_ip_len_past_frame);
	tcase_add_test(tc, test_ip_len_below_header);
	tcase_add_test(tc, test_ip_padding_trimmed);
	tcase_add_test(tc, test_ip_bad_checksum);
	tcase_add_test(tc, test_ip_bad_version_and_short);
	tcase_add_test(tc, test_ip_bad_options);
	tcase_add_test(tc, test_ip_land);
	tcase_add_test(tc, test_ip_martian_source);
	tcase_add_test(tc, test_ip_not_for_us);
	tcase_add_test(tc, test_ip_unknown_protocol);
	tcase_add_test(tc, test_frag_orders);
	tcase_add_test(tc, test_frag_duplicate);
	tcase_add_test(tc, test_frag_overlap);
	tcase_add_test(tc, test_frag_oversized);
	tcase_add_test(tc, test_frag_bad_length);
	tcase_add_test(tc, test_frag_flood);
	tcase_add_test(tc, test_frag_timeout_icmp);
	tcase_add_test(tc, test_icmp_echo);
	tcase_add_test(tc, test_icmp_echo_broadcast_ignored);
	tcase_add_test(tc, test_icmp_bad_checksum_and_short);
	tcase_add_test(tc, test_icmp_error_quotes);
	tcase_add_test(tc, test_icmp_rate_limit);
	tcase_add_test(tc, test_udp_echo_both_checksums);
	tcase_add_test(tc, test_udp_peek);
	tcase_add_test(tc, test_udp_no_port);
	tcase_add_test(tc, test_udp_bad_checksum_and_none);
	tcase_add_test(tc, test_udp_bad_length);
	tcase_add_test(tc, test_udp_receive_buffer_full);
	tcase_add_test(tc, test_udp_fragmented_send);
	tcase_add_test(tc, test_udp_bind_rules);
	tcase_add_test(tc, test_rx_checksum_offload);
	tcase_add_test(tc, test_reassembled_foreign_datagram);
	tcase_add_test(tc, test_pool_exhausted);
	tcase_add_test(tc, test_create_allocation_failures);
	tcase_add_test(tc, test_transmit_failure_counted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ip_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
