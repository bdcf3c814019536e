/*
 * ns_hash.c: the hashes of the core.
 *  - SipHash-2-4, keyed from the platform's random source: RFC 6528
 *    initial sequence numbers, SYN cookies, timestamp offsets and the
 *    connection tables (so a peer cannot aim at one hash chain).
 *  - The Toeplitz hash NICs and virtio-net RSS compute over a received
 *    packet's addresses and ports: the kernel uses it to pick the CPU
 *    (instance) that owns a connection, the same one the device picks.
 */
#include "netstack/ns_internal.h"

/* ---------------------------------------------------------------- */
/* SipHash-2-4 (Aumasson and Bernstein)                             */
/* ---------------------------------------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t
ns_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t
ns_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = ns_le64(key), k1 = ns_le64(key + 8), m, b;
	uint64_t v0 = 0x736f6d6570736575ull ^ k0;
	uint64_t v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0;
	uint64_t v3 = 0x7465646279746573ull ^ k1;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = ns_le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	b = (uint64_t)len << 56;
	while (left > 0) {
		left--;
		b |= (uint64_t)in[i + left] << (8 * left);
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t
ns_tuple_hash(const uint8_t key[16], uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport)
{
	uint8_t t[12];

	memcpy(t, &laddr, 4);
	memcpy(t + 4, &faddr, 4);
	memcpy(t + 8, &lport, 2);
	memcpy(t + 10, &fport, 2);
	return (uint32_t)ns_siphash(key, t, sizeof(t));
}

/* ---------------------------------------------------------------- */
/* Toeplitz and steering                                            */
/* ---------------------------------------------------------------- */

/* Microsoft's RSS verification key, virtio-net's and most NICs' default. */
const uint8_t ns_rss_default_key[40] = { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b,
	0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca,
	0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa };

uint32_t
ns_toeplitz(const uint8_t *key, size_t keylen, const void *data, size_t len)
{
	const uint8_t *d = data;
	uint32_t hash = 0, win;
	size_t i, kb = 4;
	int b;

	if (keylen < 4 || len + 4 > keylen)
		return 0;
	win = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 |
	    (uint32_t)key[2] << 8 | key[3];
	for (i = 0; i < len; i++) {
		uint8_t next = kb < keylen ? key[kb++] : 0;

		for (b = 7; b >= 0; b--) {
			if (d[i] & (1u << b))
				hash ^= win;
			win = win << 1 | ((next >> b) & 1);
		}
	}
	return hash;
}

uint32_t
ns_rss_hash4(const uint8_t *key, uint32_t saddr, uint32_t daddr, uint16_t sport,
    uint16_t dport)
{
	uint8_t in[12];

	saddr = ns_hton32(saddr);
	daddr = ns_hton32(daddr);
	sport = ns_hton16(sport);
	dport = ns_hton16(dport);
	memcpy(in, &saddr, 4);
	memcpy(in + 4, &daddr, 4);
	memcpy(in + 8, &sport, 2);
	memcpy(in + 10, &dport, 2);
	return ns_toeplitz(key, 40, in, sizeof(in));
}

static uint32_t
ns_rss_hash2(const uint8_t *key, uint32_t saddr, uint32_t daddr)
{
	uint8_t in[8];

	saddr = ns_hton32(saddr);
	daddr = ns_hton32(daddr);
	memcpy(in, &saddr, 4);
	memcpy(in + 4, &daddr, 4);
	return ns_toeplitz(key, 40, in, sizeof(in));
}

/*
 * The hash of an IPv4 packet at p (len bytes): 4-tuple for TCP and UDP
 * when it is not a fragment, 2-tuple otherwise. An ICMP error is steered
 * like the packet it quotes would have come back, so it reaches the
 * connection's owner.
 */
static uint32_t
ns_steer_ip(const uint8_t *key, const uint8_t *p, size_t len, int depth)
{
	struct ip_hdr ip;
	struct icmp_hdr ic;
	uint16_t ports[2];
	size_t hl;

	if (len < sizeof(ip))
		return 0;
	memcpy(&ip, p, sizeof(ip));
	hl = (size_t)(ip.ip_vhl & 0x0f) * 4;
	if ((ip.ip_vhl >> 4) != 4 || hl < IP_HLEN_MIN || hl > len)
		return 0;
	if (ns_ntoh16(ip.ip_off) & (IP_MF | IP_OFFMASK))
		return ns_rss_hash2(key, ns_ntoh32(ip.ip_src),
		    ns_ntoh32(ip.ip_dst));
	if ((ip.ip_p == IP_PROTO_TCP || ip.ip_p == IP_PROTO_UDP) &&
	    len >= hl + 4) {
		memcpy(ports, p + hl, 4);
		if (depth > 0) /* quoted: our packet, reverse it */
			return ns_rss_hash4(key, ns_ntoh32(ip.ip_dst),
			    ns_ntoh32(ip.ip_src), ns_ntoh16(ports[1]),
			    ns_ntoh16(ports[0]));
		return ns_rss_hash4(key, ns_ntoh32(ip.ip_src),
		    ns_ntoh32(ip.ip_dst), ns_ntoh16(ports[0]),
		    ns_ntoh16(ports[1]));
	}
	if (ip.ip_p == IP_PROTO_ICMP && depth == 0 && len >= hl + 8) {
		memcpy(&ic, p + hl, sizeof(ic));
		if (ic.ic_type == ICMP_UNREACH || ic.ic_type == ICMP_TIMXCEED ||
		    ic.ic_type == ICMP_PARAMPROB)
			return ns_steer_ip(key, p + hl + 8, len - hl - 8, 1);
	}
	return ns_rss_hash2(key, ns_ntoh32(ip.ip_src), ns_ntoh32(ip.ip_dst));
}

int
ns_steer(const uint8_t *key, unsigned ncpu, const void *frame, size_t len)
{
	const uint8_t *p = frame;
	uint16_t type;

	if (key == NULL)
		key = ns_rss_default_key;
	if (ncpu <= 1 || len < ETH_HLEN)
		return 0;
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == ETH_TYPE_ARP)
		return NS_STEER_ALL;
	if (type != ETH_TYPE_IPV4)
		return 0;
	return (int)(ns_steer_ip(key, p + ETH_HLEN, len - ETH_HLEN, 0) % ncpu);
}
