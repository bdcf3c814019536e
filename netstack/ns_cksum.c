/*
 * ns_cksum.c: the Internet checksum (RFC 1071) and its incremental update
 * (RFC 1624).
 *
 * Sums are kept in memory order: the 16-bit words are loaded as the host
 * stores them, so a sum (and a checksum made from it) goes into a header
 * with a plain store, no byte swap. The one's complement sum does not
 * depend on byte order as long as every word is treated alike; a run of
 * bytes that starts at an odd offset of the sum is byte-swapped.
 */
#include "netstack/ns_internal.h"

static uint32_t
ns_fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static uint64_t
ns_sum_raw(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	uint32_t w;
	uint16_t h;
	uint8_t last[2];

	for (; len >= 4; len -= 4, p += 4) {
		memcpy(&w, p, 4);
		s += w;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		s += h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		last[0] = p[0];
		last[1] = 0;
		memcpy(&h, last, 2);
		s += h;
	}
	return s;
}

uint32_t
ns_sum_add(uint32_t sum, const void *p, size_t len, bool odd)
{
	uint32_t s = ns_fold64(ns_sum_raw(p, len));

	if (odd)
		s = __builtin_bswap16((uint16_t)s);
	return ns_fold64((uint64_t)sum + s);
}

uint16_t
ns_sum_fold(uint32_t sum)
{
	return (uint16_t)ns_fold64(sum);
}

uint16_t
ns_cksum(const void *p, size_t len)
{
	return (uint16_t)~ns_sum_add(0, p, len, false);
}

uint32_t
ns_sum_chain(const struct nb *chain, uint32_t off, uint32_t len, uint32_t sum)
{
	const struct nb *s;
	uint32_t k, done = 0;

	for (s = chain; s != NULL && len > 0; s = s->nb_next) {
		if (off >= s->nb_len) {
			off -= s->nb_len;
			continue;
		}
		k = NS_MIN(s->nb_len - off, len);
		sum = ns_sum_add(sum, s->nb_data + off, k, (done & 1) != 0);
		done += k;
		len -= k;
		off = 0;
	}
	return sum;
}

uint32_t
ns_sum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	struct ip_pseudo ps;

	ps.ps_src = ns_hton32(src);
	ps.ps_dst = ns_hton32(dst);
	ps.ps_zero = 0;
	ps.ps_proto = proto;
	ps.ps_len = ns_hton16((uint16_t)len);
	return ns_sum_add(0, &ps, sizeof(ps), false);
}

uint16_t
ns_cksum_adjust(uint16_t cksum, uint16_t old, uint16_t new)
{
	uint64_t s = (uint16_t)~cksum;

	s += (uint16_t)~old;
	s += new;
	return (uint16_t)~ns_fold64(s);
}
