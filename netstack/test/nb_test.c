/*
 * Buffers, checksums and hashes: chains with headroom, references to
 * external storage and their release, copy-free ranges, splits, pullups,
 * bounded pools and their counters, allocation failures injected through
 * the host platform; the Internet checksum against RFC 1071 and RFC 1624
 * and against itself over odd chains; SipHash and Toeplitz against their
 * published vectors; frame steering.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/nb.h"
#include "netstack/ns_host.h"
#include "netstack/ns_internal.h"

static struct ns_host host;
static struct nb_pool pool;

static void
setup(void)
{
	ns_host_init(&host, 1);
	ck_assert_int_eq(nb_pool_init(&pool, &host.nh_plat, 64, 32), 0);
}

static void
teardown(void)
{
	ck_assert_uint_eq(nb_pool_fini(&pool), 0);
	ck_assert_uint_eq(ns_host_outstanding(&host), 0);
}

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/* A chain whose bytes are fill(.., seed), cut into the given pieces. */
static struct nb *
chain_of(const uint32_t *cuts, int ncuts, unsigned seed, uint8_t *flat)
{
	struct nb *h = NULL, *n;
	uint32_t off = 0;
	int i;

	for (i = 0; i < ncuts; i++) {
		n = nb_get(&pool, 16);
		ck_assert_ptr_nonnull(n);
		fill(flat + off, cuts[i], seed + off * 7);
		memcpy(n->nb_data, flat + off, cuts[i]);
		n->nb_len = cuts[i];
		n->nb_pktlen = cuts[i];
		off += cuts[i];
		if (h == NULL)
			h = n;
		else
			nb_cat(h, n);
	}
	return h;
}

START_TEST(test_get_append_copy)
{
	uint8_t in[5000], out[5000];
	struct nb *nb;

	fill(in, sizeof(in), 3);
	nb = nb_get(&pool, NB_MAXHDR);
	ck_assert_ptr_nonnull(nb);
	ck_assert_uint_eq(nb_headroom(nb), NB_MAXHDR);
	ck_assert_uint_eq(nb_tailroom(nb), NB_CLUSTER_SIZE - NB_MAXHDR);
	ck_assert_int_eq(nb_append(nb, in, sizeof(in)), 0);
	ck_assert_uint_eq(nb_pktlen(nb), sizeof(in));
	ck_assert_uint_eq(nb_nsegs(nb), 3);
	ck_assert_int_eq(nb_copydata(nb, 0, sizeof(in), out), 0);
	ck_assert_mem_eq(in, out, sizeof(in));
	ck_assert_int_eq(nb_copydata(nb, 1000, 3000, out), 0);
	ck_assert_mem_eq(in + 1000, out, 3000);
	ck_assert_int_eq(nb_copydata(nb, 4000, 1001, out), -EINVAL);
	ck_assert_uint_eq(pool.pl_stats.nps_cl_inuse, 3);
	nb_freem(nb);
	ck_assert_uint_eq(pool.pl_stats.nps_cl_inuse, 0);
	ck_assert_uint_eq(pool.pl_stats.nps_hdr_inuse, 0);
	ck_assert_uint_eq(pool.pl_stats.nps_cl_peak, 3);
}
END_TEST

START_TEST(test_prepend)
{
	struct nb *nb, *r;
	uint8_t *p;

	nb = nb_get(&pool, 20);
	ck_assert_int_eq(nb_append(nb, "payload", 7), 0);
	p = nb_prepend(&nb, 20);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(nb_nsegs(nb), 1);
	memset(p, 'h', 20);
	ck_assert_uint_eq(nb_pktlen(nb), 27);
	/* No room left: a new segment goes in front. */
	p = nb_prepend(&nb, 14);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(nb_nsegs(nb), 2);
	ck_assert_uint_eq(nb_pktlen(nb), 41);
	/* Shared storage is never written in front. */
	r = nb_ref(&pool, nb, 14, 27);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(nb_headroom(r), 0);
	ck_assert(!nb_writable(r));
	p = nb_prepend(&r, 8);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(nb_nsegs(r), 2);
	ck_assert_uint_eq(nb_pktlen(r), 35);
	nb_freem(r);
	nb_freem(nb);
}
END_TEST

START_TEST(test_adj)
{
	static const uint32_t cuts[] = { 10, 1, 30, 5 };
	uint8_t flat[46], out[46];
	struct nb *h = chain_of(cuts, 4, 1, flat);

	nb_adj(h, 12);
	ck_assert_uint_eq(nb_pktlen(h), 34);
	ck_assert_int_eq(nb_copydata(h, 0, 34, out), 0);
	ck_assert_mem_eq(out, flat + 12, 34);
	nb_adj(h, -7);
	ck_assert_uint_eq(nb_pktlen(h), 27);
	ck_assert_int_eq(nb_copydata(h, 0, 27, out), 0);
	ck_assert_mem_eq(out, flat + 12, 27);
	ck_assert_uint_eq(nb_nsegs(h), 2); /* empty head, part of the 30 */
	nb_adj(h, 1000);
	ck_assert_uint_eq(nb_pktlen(h), 0);
	nb_freem(h);
}
END_TEST

START_TEST(test_pullup)
{
	static const uint32_t cuts[] = { 3, 4, 50, 9 };
	uint8_t flat[66], *p;
	struct nb *h = chain_of(cuts, 4, 9, flat);

	p = nb_pullup(&h, 40);
	ck_assert_ptr_nonnull(p);
	ck_assert_mem_eq(p, flat, 40);
	ck_assert_uint_eq(nb_pktlen(h), 66);
	ck_assert_uint_ge(h->nb_len, 40);
	ck_assert_ptr_null(nb_pullup(&h, 67));
	p = nb_pullup(&h, 66);
	ck_assert_mem_eq(p, flat, 66);
	nb_freem(h);

	/* A read-only head: the bytes go to a new cluster. */
	h = chain_of(cuts, 4, 9, flat);
	{
		struct nb *r = nb_ref(&pool, h, 0, 66);

		p = nb_pullup(&r, 20);
		ck_assert_ptr_nonnull(p);
		ck_assert_mem_eq(p, flat, 20);
		ck_assert_uint_eq(nb_pktlen(r), 66);
		ck_assert_uint_ge(nb_headroom(r), 1);
		nb_freem(r);
	}
	nb_freem(h);
}
END_TEST

static int ext_freed;

static void
ext_free(struct nb_ext *e)
{
	ext_freed++;
	ck_assert_ptr_eq(e->ne_arg, &ext_freed);
}

START_TEST(test_external_refs)
{
	static uint8_t page[4096];
	struct nb_ext ext;
	struct nb *a, *b, *r;
	uint8_t out[100];

	fill(page, sizeof(page), 5);
	ext_freed = 0;
	nb_ext_init(&ext, ext_free, &ext_freed, NB_EXT_RDONLY);
	a = nb_get_ext(&pool, &ext, page, 4096);
	b = nb_get_ext(&pool, &ext, page + 100, 100);
	ck_assert_uint_eq(ext.ne_refs, 3);
	ck_assert_uint_eq(nb_tailroom(a), 0);
	ck_assert_uint_eq(nb_headroom(a), 0);
	r = nb_ref(&pool, a, 4000, 96);
	ck_assert_uint_eq(ext.ne_refs, 4);
	nb_ext_release(&ext); /* the owner's own reference */
	nb_freem(a);
	nb_freem(b);
	ck_assert_int_eq(ext_freed, 0);
	ck_assert_int_eq(nb_copydata(r, 0, 96, out), 0);
	ck_assert_mem_eq(out, page + 4000, 96);
	nb_freem(r);
	ck_assert_int_eq(ext_freed, 1);
	ck_assert_uint_eq(pool.pl_stats.nps_ext_refs, 2);
}
END_TEST

START_TEST(test_ref_and_owner)
{
	struct nb *nb, *r;
	uint8_t out[16];

	nb = nb_get(&pool, 0);
	ck_assert_int_eq(nb_append(nb, "abcdefgh", 8), 0);
	r = nb_ref(&pool, nb, 2, 4);
	ck_assert_uint_eq(nb_pktlen(r), 4);
	/* The owner may still grow after the referenced bytes. */
	ck_assert_uint_gt(nb_tailroom(nb), 0);
	ck_assert_int_eq(nb_append(nb, "ij", 2), 0);
	ck_assert_uint_eq(nb_nsegs(nb), 1);
	ck_assert_int_eq(nb_copydata(r, 0, 4, out), 0);
	ck_assert_mem_eq(out, "cdef", 4);
	/* Trimmed back while shared: it may not grow over them again. */
	nb_adj(nb, -6);
	ck_assert_uint_eq(nb_tailroom(nb), 0);
	ck_assert_int_eq(nb_append(nb, "XY", 2), 0);
	ck_assert_uint_eq(nb_nsegs(nb), 2);
	ck_assert_int_eq(nb_copydata(r, 0, 4, out), 0);
	ck_assert_mem_eq(out, "cdef", 4);
	nb_freem(r);
	nb_freem(nb);
}
END_TEST

START_TEST(test_split)
{
	static const uint32_t cuts[] = { 10, 20, 30 };
	uint8_t flat[60], out[60];
	struct nb *h, *t;
	int err;

	h = chain_of(cuts, 3, 2, flat);
	t = nb_split(h, 30, &err); /* on a boundary */
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(nb_pktlen(h), 30);
	ck_assert_uint_eq(nb_pktlen(t), 30);
	nb_copydata(t, 0, 30, out);
	ck_assert_mem_eq(out, flat + 30, 30);
	nb_cat(h, t);
	t = nb_split(h, 15, &err); /* inside a segment */
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(nb_pktlen(h), 15);
	ck_assert_uint_eq(nb_pktlen(t), 45);
	nb_copydata(h, 0, 15, out);
	ck_assert_mem_eq(out, flat, 15);
	nb_copydata(t, 0, 45, out);
	ck_assert_mem_eq(out, flat + 15, 45);
	/* The owner flag moved with the end of the storage. */
	ck_assert_uint_eq(nb_tailroom(h->nb_next), 0);
	ck_assert_uint_gt(nb_tailroom(t), 0);
	ck_assert_ptr_null(nb_split(t, 45, &err));
	nb_freem(h);
	nb_freem(t);
}
END_TEST

START_TEST(test_pool_bounds)
{
	struct nb *all[40];
	int i, n = 0;

	/* 32 clusters: the 33rd is refused and counted. */
	for (i = 0; i < 40; i++) {
		all[i] = nb_get(&pool, 0);
		if (all[i] != NULL)
			n++;
	}
	ck_assert_int_eq(n, 32);
	ck_assert_uint_eq(pool.pl_stats.nps_cl_fails, 8);
	ck_assert_uint_eq(pool.pl_stats.nps_cl_inuse, 32);
	ck_assert_uint_eq(pool.pl_stats.nps_hdr_inuse, 32);
	/* A failed append leaves the chain as it was. */
	{
		uint8_t big[3000] = { 0 };

		for (i = 0; i < 40; i++)
			if (all[i] != NULL)
				break;
		ck_assert_int_eq(nb_append(all[i], big, sizeof(big)), -ENOBUFS);
		ck_assert_uint_eq(nb_pktlen(all[i]), 0);
		ck_assert_uint_eq(nb_nsegs(all[i]), 1);
	}
	for (i = 0; i < 40; i++)
		if (all[i] != NULL)
			nb_freem(all[i]);
	ck_assert_uint_eq(pool.pl_stats.nps_cl_inuse, 0);
	/* Freed objects are reused, not allocated again. */
	ck_assert_uint_eq(pool.pl_stats.nps_cl_total, 32);
	all[0] = nb_get(&pool, 0);
	ck_assert_uint_eq(pool.pl_stats.nps_cl_total, 32);
	nb_freem(all[0]);
}
END_TEST

START_TEST(test_platform_failure)
{
	struct nb *nb;
	uint8_t buf[100] = { 0 };

	host.nh_fail_after = 1; /* the header */
	ck_assert_ptr_null(nb_get(&pool, 0));
	host.nh_fail_after = 2; /* the cluster */
	ck_assert_ptr_null(nb_get(&pool, 0));
	ck_assert_uint_eq(pool.pl_stats.nps_hdr_inuse, 0);
	ck_assert_uint_eq(host.nh_alloc_fails, 2);
	nb = nb_get(&pool, 0);
	ck_assert_ptr_nonnull(nb);
	host.nh_fail_all = 1;
	ck_assert_int_eq(nb_append(nb, buf, sizeof(buf)), 0); /* fits */
	ck_assert_ptr_null(nb_ref(&pool, nb, 0, 50)); /* free list empty */
	host.nh_fail_all = 0;
	nb_freem(nb);
}
END_TEST

START_TEST(test_leak_reported)
{
	struct nb *nb = nb_get(&pool, 0);

	ck_assert_uint_eq(nb_pool_fini(&pool), 2);
	/* Give it back and finish properly for teardown. */
	nb_freem(nb);
	ck_assert_uint_eq(nb_pool_fini(&pool), 0);
}
END_TEST

/* ---- checksums ---- */

START_TEST(test_cksum_rfc1071)
{
	/* An IPv4 header whose checksum is b861 (network order). */
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40,
		0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00,
		0xc7 };
	uint16_t c = ns_cksum(h, 20);

	memcpy(h + 10, &c, 2);
	ck_assert_uint_eq(h[10], 0xb8);
	ck_assert_uint_eq(h[11], 0x61);
	ck_assert_uint_eq(ns_cksum(h, 20), 0);
	/* RFC 1624: change the TTL, adjust, compare with a full sum. */
	{
		uint16_t old, new, adj;

		memcpy(&old, h + 8, 2);
		h[8] = 0x3f;
		memcpy(&new, h + 8, 2);
		memcpy(&c, h + 10, 2);
		adj = ns_cksum_adjust(c, old, new);
		h[10] = h[11] = 0;
		ck_assert_uint_eq(adj, ns_cksum(h, 20));
	}
}
END_TEST

START_TEST(test_cksum_chain_random)
{
	uint8_t flat[3000];
	uint32_t cuts[8];
	struct nb *h;
	int iter, i, n;
	uint32_t tot;

	for (iter = 0; iter < 200; iter++) {
		n = 1 + (int)(ns_host_rand(&host) % 8);
		for (tot = 0, i = 0; i < n; i++) {
			cuts[i] = 1 + (uint32_t)(ns_host_rand(&host) % 300);
			tot += cuts[i];
		}
		h = chain_of(cuts, n, (unsigned)iter, flat);
		for (i = 0; i < 5; i++) {
			uint32_t off = (uint32_t)(ns_host_rand(&host) % tot);
			uint32_t len =
			    (uint32_t)(ns_host_rand(&host) % (tot - off + 1));

			ck_assert_uint_eq(
			    ns_sum_fold(ns_sum_chain(h, off, len, 0)),
			    ns_sum_fold(ns_sum_add(0, flat + off, len, false)));
		}
		nb_freem(h);
	}
}
END_TEST

/* ---- hashes ---- */

START_TEST(test_siphash_vectors)
{
	uint8_t key[16], in[64];
	int i;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		in[i] = (uint8_t)i;
	ck_assert_uint_eq(ns_siphash(key, in, 0), 0x726fdb47dd0e0e31ull);
	ck_assert_uint_eq(ns_siphash(key, in, 15), 0xa129ca6149be45e5ull);
}
END_TEST

/* Microsoft's RSS verification suite (IPv4 and IPv4 with TCP). */
START_TEST(test_toeplitz_vectors)
{
	static const struct {
		uint8_t d[4], s[4];
		uint16_t dport, sport;
		uint32_t h2, h4;
	} v[] = {
		{ { 161, 142, 100, 80 }, { 66, 9, 149, 187 }, 1766, 2794,
		    0x323e8fc2, 0x51ccc178 },
		{ { 65, 69, 140, 83 }, { 199, 92, 111, 2 }, 4739, 14230,
		    0xd718262a, 0xc626b0ea },
		{ { 12, 22, 207, 184 }, { 24, 19, 198, 95 }, 38024, 12898,
		    0xd2d0a5de, 0x5c2b394a },
		{ { 209, 142, 163, 6 }, { 38, 27, 205, 30 }, 2217, 48228,
		    0x82989176, 0xafc7327f },
		{ { 202, 188, 127, 2 }, { 153, 39, 163, 191 }, 1303, 44251,
		    0x5d1809c5, 0x10e828a2 },
	};
	uint8_t in[8];
	unsigned i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t s = NS_IP4(v[i].s[0], v[i].s[1], v[i].s[2], v[i].s[3]);
		uint32_t d = NS_IP4(v[i].d[0], v[i].d[1], v[i].d[2], v[i].d[3]);

		memcpy(in, v[i].s, 4);
		memcpy(in + 4, v[i].d, 4);
		ck_assert_uint_eq(ns_toeplitz(ns_rss_default_key, 40, in, 8),
		    v[i].h2);
		ck_assert_uint_eq(ns_rss_hash4(ns_rss_default_key, s, d,
				      v[i].sport, v[i].dport),
		    v[i].h4);
	}
}
END_TEST

START_TEST(test_steer)
{
	uint8_t f[14 + 20 + 8 + 20 + 8];
	struct ip_hdr *ip = (struct ip_hdr *)(f + 14);
	uint16_t ports[2];
	uint32_t h;

	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	f[13] = 0x06;
	ck_assert_int_eq(ns_steer(NULL, 4, f, sizeof(f)), NS_STEER_ALL);
	ck_assert_int_eq(ns_steer(NULL, 1, f, sizeof(f)), 0);
	f[13] = 0x00;
	ip->ip_vhl = 0x45;
	ip->ip_p = IP_PROTO_TCP;
	ip->ip_src = ns_hton32(NS_IP4(66, 9, 149, 187));
	ip->ip_dst = ns_hton32(NS_IP4(161, 142, 100, 80));
	ports[0] = ns_hton16(2794);
	ports[1] = ns_hton16(1766);
	memcpy(f + 34, ports, 4);
	ck_assert_int_eq(ns_steer(NULL, 7, f, 14 + 20 + 20), 0x51ccc178 % 7);
	/* A fragment goes by its addresses only. */
	ip->ip_off = ns_hton16(IP_MF);
	ck_assert_int_eq(ns_steer(NULL, 7, f, 14 + 20 + 20), 0x323e8fc2 % 7);
	/* An ICMP error quoting our packet goes where its replies go. */
	ip->ip_off = 0;
	ip->ip_p = IP_PROTO_ICMP;
	f[34] = ICMP_UNREACH;
	{
		struct ip_hdr *in = (struct ip_hdr *)(f + 42);

		in->ip_vhl = 0x45;
		in->ip_p = IP_PROTO_TCP;
		in->ip_src = ns_hton32(NS_IP4(161, 142, 100, 80));
		in->ip_dst = ns_hton32(NS_IP4(66, 9, 149, 187));
		ports[0] = ns_hton16(1766);
		ports[1] = ns_hton16(2794);
		memcpy(f + 62, ports, 4);
	}
	h = 0x51ccc178;
	ck_assert_int_eq(ns_steer(NULL, 7, f, sizeof(f)), (int)(h % 7));
	ck_assert_int_eq(ns_steer(NULL, 7, f, 10), 0); /* runt */
}
END_TEST

static Suite *
nb_suite(void)
{
	Suite *s = suite_create("net_buf");
	TCase *tc = tcase_create("buf");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_get_append_copy);
	tcase_add_test(tc, test_prepend);
	tcase_add_test(tc, test_adj);
	tcase_add_test(tc, test_pullup);
	tcase_add_test(tc, test_external_refs);
	tcase_add_test(tc, test_ref_and_owner);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_pool_bounds);
	tcase_add_test(tc, test_platform_failure);
	tcase_add_test(tc, test_leak_reported);
	tcase_add_test(tc, test_cksum_rfc1071);
	tcase_add_test(tc, test_cksum_chain_random);
	tcase_add_test(tc, test_siphash_vectors);
	tcase_add_test(tc, test_toeplitz_vectors);
	tcase_add_test(tc, test_steer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(nb_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
