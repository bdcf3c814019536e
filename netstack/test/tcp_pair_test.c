/*
 * Two instances back to back through fake netifs and a wire that loses,
 * reorders, duplicates and corrupts frames on purpose: connections open
 * (ARP included), carry data both ways intact, close in every order, and
 * the counters show what happened (retransmissions, SACK, offloads). Also:
 * zero-copy sends, a stalled reader (zero window, persist probes),
 * keepalive, Nagle, many connections, a SYN flood while serving, the
 * TIME-WAIT bound, and instance steering with several CPUs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/ns_tcp.h"
#include "netstack/test/nstest.h"

static struct nt_env A, B;
static struct nt_wire W;

#define SA (ns_stats(A.e_ns))
#define SB (ns_stats(B.e_ns))

static void
pair_init(const struct ns_config *ca, const struct ns_config *cb, uint32_t caps,
    uint64_t seed)
{
	struct ns_config a = { 0 }, b = { 0 };

	if (ca != NULL)
		a = *ca;
	if (cb != NULL)
		b = *cb;
	a.nc_addr = NT_ME;
	a.nc_netmask = NT_MASK;
	b.nc_addr = NT_PEER;
	b.nc_netmask = NT_MASK;
	nt_env_init(&A, &a, caps, nt_mac_me);
	nt_env_init(&B, &b, caps, nt_mac_peer);
	nt_wire_init(&W, &A, &B, seed);
}

static void
setup(void)
{
	pair_init(NULL, NULL, 0, 1);
}

static void
teardown(void)
{
	nt_wire_fini(&W);
	nt_env_fini(&A);
	nt_env_fini(&B);
}

/* The data: a pattern with a prime period, so zero-copy sends can
 * reference one buffer of it. */
#define PAT_PERIOD 65521u

static uint8_t
pat(uint64_t i)
{
	i %= PAT_PERIOD;
	return (uint8_t)((i * 131u) ^ (i >> 9));
}

/* ---- a one-way transfer with verification ---- */

struct xfer {
	struct ns_tcp *lis, *srv, *cli;
	uint64_t total, sent, rcvd;
	int eof, bad, shut, closed;
	int dir; /* 0: client sends, 1: server sends */
	int zerocopy;
	struct nb_ext ext;
	uint8_t *zbuf;
	uint64_t zrefs_freed;
};

static void
xfer_ext_free(struct nb_ext *e)
{
	((struct xfer *)e->ne_arg)->zrefs_freed++;
}

static void
xfer_app(struct nt_wire *w, void *arg)
{
	struct xfer *x = arg;
	struct ns_tcp *snd, *rcv;
	uint8_t buf[16384];
	long n;
	uint32_t i, k;

	if (x->srv == NULL && ns_tcp_accept(x->lis, &x->srv) != 0)
		return;
	snd = x->dir ? x->srv : x->cli;
	rcv = x->dir ? x->cli : x->srv;
	while (x->sent < x->total) {
		k = (uint32_t)NS_MIN(sizeof(buf), x->total - x->sent);
		if (x->zerocopy) {
			k = (uint32_t)NS_MIN((uint64_t)4096,
			    x->total - x->sent);
			k = NS_MIN(k,
			    PAT_PERIOD - (uint32_t)(x->sent % PAT_PERIOD));
			n = ns_tcp_send_ext(snd, &x->ext,
			    x->zbuf + x->sent % PAT_PERIOD, k);
		} else {
			for (i = 0; i < k; i++)
				buf[i] = pat(x->sent + i);
			n = ns_tcp_send(snd, buf, k);
		}
		if (n <= 0)
			break;
		x->sent += (uint64_t)n;
	}
	if (x->sent == x->total && !x->shut) {
		ck_assert_int_eq(ns_tcp_shutdown(snd, NS_SHUT_WR), 0);
		x->shut = 1;
	}
	while ((n = ns_tcp_recv(rcv, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (uint32_t)n; i++)
			if (buf[i] != pat(x->rcvd + i))
				x->bad++;
		x->rcvd += (uint64_t)n;
	}
	if (n == 0)
		x->eof = 1;
}

static bool
xfer_done(struct nt_wire *w, void *arg)
{
	return ((struct xfer *)arg)->eof;
}

static void
xfer_start(struct xfer *x, uint64_t total, int dir)
{
	memset(x, 0, sizeof(*x));
	x->total = total;
	x->dir = dir;
	ck_assert_int_eq(ns_tcp_listen(B.e_ns, 0, 80, 16, &x->lis), 0);
	ck_assert_int_eq(ns_tcp_connect(A.e_ns, NT_PEER, 80, &x->cli), 0);
	W.w_app = xfer_app;
	W.w_app_arg = x;
	W.w_done = xfer_done;
}

static void
xfer_finish(struct xfer *x)
{
	W.w_app = NULL;
	W.w_done = NULL;
	if (x->cli != NULL)
		ns_tcp_close(x->cli);
	if (x->srv != NULL)
		ns_tcp_close(x->srv);
	ns_tcp_close(x->lis);
	/* Let FINs and TIME-WAIT finish. */
	nt_wire_run(&W, 200000000, 10000);
}

static void
report(const char *what, uint64_t t0, const struct xfer *x)
{
	struct ns_tcp_info ti;

	if (getenv("NS_VERBOSE") == NULL)
		return;
	ns_tcp_info(x->dir ? x->srv : x->cli, &ti);
	fprintf(stderr,
	    "%s: %llu bytes in %.3f s simulated; frames %llu lost %llu "
	    "reordered %llu duped %llu corrupted %llu; rexmits %llu "
	    "timeouts %llu fast %llu sack %llu cwnd %u srtt %u rto %u\n",
	    what, (unsigned long long)x->rcvd,
	    (double)(A.e_host.nh_now_us - t0) / 1e6,
	    (unsigned long long)W.w_sent, (unsigned long long)W.w_lost,
	    (unsigned long long)W.w_reordered, (unsigned long long)W.w_duped,
	    (unsigned long long)W.w_corrupted,
	    (unsigned long long)ti.ti_rexmits,
	    (unsigned long long)ti.ti_timeouts,
	    (unsigned long long)ti.ti_fast_rexmits,
	    (unsigned long long)ti.ti_sack_rexmits, ti.ti_cwnd, ti.ti_srtt_us,
	    ti.ti_rto_us);
}

static void
run_xfer(uint64_t total, int dir, uint64_t limit_us)
{
	uint64_t t0 = A.e_host.nh_now_us;
	struct xfer x;

	xfer_start(&x, total, dir);
	nt_wire_run(&W, limit_us, 1000);
	report("xfer", t0, &x);
	ck_assert_msg(x.eof, "transfer stalled: sent %llu rcvd %llu",
	    (unsigned long long)x.sent, (unsigned long long)x.rcvd);
	ck_assert_uint_eq(x.rcvd, total);
	ck_assert_int_eq(x.bad, 0);
	xfer_finish(&x);
}

START_TEST(test_handshake_and_close)
{
	struct ns_tcp *lis, *cli, *srv;
	struct ns_tcp_info ti;
	uint8_t buf[8];

	ck_assert_int_eq(ns_tcp_listen(B.e_ns, 0, 80, 4, &lis), 0);
	ck_assert_int_eq(ns_tcp_connect(A.e_ns, NT_PEER, 80, &cli), 0);
	ck_assert_int_eq(ns_tcp_state(cli), NS_TCPS_SYN_SENT);
	nt_wire_run(&W, 10000, 1000);
	ck_assert_int_eq(ns_tcp_state(cli), NS_TCPS_ESTABLISHED);
	ck_assert_int_eq(ns_tcp_accept(lis, &srv), 0);
	ck_assert_int_eq(ns_tcp_state(srv), NS_TCPS_ESTABLISHED);
	ns_tcp_info(cli, &ti);
	ck_assert(ti.ti_ts);
	ck_assert(ti.ti_sack);
	ck_assert_uint_eq(ti.ti_snd_mss, 1460);
	ck_assert_uint_eq(ti.ti_cwnd, 14480); /* 10 x 1448 */
	ck_assert_uint_eq(ti.ti_rcv_wscale, 3);
	ck_assert_uint_eq(ti.ti_snd_wscale, 3);
	ck_assert_int_eq(ns_tcp_send(cli, "hello", 5), 5);
	nt_wire_run(&W, 10000, 1000);
	ck_assert_int_eq(ns_tcp_recv(srv, buf, sizeof(buf)), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	/* Active close from the client. */
	ck_assert_int_eq(ns_tcp_shutdown(cli, NS_SHUT_WR), 0);
	nt_wire_run(&W, 10000, 1000);
	ck_assert_int_eq(ns_tcp_state(cli), NS_TCPS_FIN_WAIT_2);
	ck_assert_int_eq(ns_tcp_state(srv), NS_TCPS_CLOSE_WAIT);
	ck_assert_int_eq(ns_tcp_recv(srv, buf, sizeof(buf)), 0);
	ck_assert_int_eq(ns_tcp_close(srv), 0);
	nt_wire_run(&W, 10000, 1000);
	ck_assert_int_eq(ns_tcp_state(cli), NS_TCPS_TIME_WAIT);
	ck_assert_uint_eq(SA->tcp_timewait, 1);
	nt_wire_run(&W, 61000000, 100000);
	ck_assert_int_eq(ns_tcp_state(cli), NS_TCPS_CLOSED);
	ck_assert_int_eq(ns_tcp_recv(cli, buf, sizeof(buf)), 0);
	ns_tcp_close(cli);
	ns_tcp_close(lis);
	ck_assert_uint_eq(A.e_ns->ns_tcp_n, 0);
	ck_assert_uint_eq(B.e_ns->ns_tcp_n, 0);
	ck_assert_uint_eq(SA->arp_tx_request, 1); /* resolved on the wire */
}
END_TEST

/* Loss, reordering, duplication and corruption: data arrives intact. */
static void
lossy(uint32_t loss, uint32_t reorder, uint32_t dup, uint32_t corrupt)
{
	W.w_loss_ppm = loss;
	W.w_reorder_ppm = reorder;
	W.w_dup_ppm = dup;
	W.w_corrupt_ppm = corrupt;
}

START_TEST(test_bulk_lossy_sack)
{
	lossy(20000, 10000, 5000, 5000);
	run_xfer(2u << 20, 0, 600000000);
	ck_assert_uint_gt(SA->tcp_rexmit, 0);
	ck_assert_uint_gt(SA->tcp_sack_rexmit, 0);
	ck_assert_uint_gt(SB->tcp_rx_ooo, 0);
	ck_assert_uint_gt(SA->tcp_rx_badsum + SB->tcp_rx_badsum +
		SA->ip_rx_badsum + SB->ip_rx_badsum + SA->eth_rx_notme +
		SB->eth_rx_notme + SA->eth_rx_badtype + SB->eth_rx_badtype +
		SA->ip_rx_badver + SB->ip_rx_badver + SA->ip_rx_badlen +
		SB->ip_rx_badlen + SA->ip_rx_badhlen + SB->ip_rx_badhlen,
	    0);
}
END_TEST

START_TEST(test_bulk_lossy_newreno_nosack)
{
	struct ns_config c = { .nc_flags = NS_CF_NO_SACK | NS_CF_NEWRENO };

	teardown();
	pair_init(&c, &c, 0, 7);
	lossy(20000, 10000, 5000, 5000);
	run_xfer(1u << 20, 0, 600000000);
	ck_assert_uint_gt(SA->tcp_rexmit, 0);
	ck_assert_uint_eq(SA->tcp_sack_rexmit, 0);
}
END_TEST

START_TEST(test_bulk_lossy_plain)
{
	/* No options at all: no SACK, timestamps or window scaling. */
	struct ns_config c = { .nc_flags = NS_CF_NO_SACK | NS_CF_NO_TS |
		    NS_CF_NO_WSCALE };

	teardown();
	pair_init(&c, &c, 0, 9);
	lossy(30000, 20000, 0, 10000);
	run_xfer(1u << 20, 1, 600000000);
	ck_assert_uint_gt(SB->tcp_rexmit, 0);
}
END_TEST

START_TEST(test_zero_copy)
{
	struct xfer x;
	uint32_t i;

	xfer_start(&x, 3u << 20, 0);
	x.zerocopy = 1;
	x.zbuf = malloc(PAT_PERIOD);
	for (i = 0; i < PAT_PERIOD; i++)
		x.zbuf[i] = pat(i);
	nb_ext_init(&x.ext, xfer_ext_free, &x, NB_EXT_RDONLY);
	nt_wire_run(&W, 60000000, 1000);
	ck_assert(x.eof);
	ck_assert_uint_eq(x.rcvd, 3u << 20);
	ck_assert_int_eq(x.bad, 0);
	W.w_done = NULL;
	nt_wire_run(&W, 100000, 1000); /* the last ACKs */
	/* Every reference is dropped once the data is acknowledged. */
	ck_assert_uint_eq(x.ext.ne_refs, 1);
	ck_assert_uint_gt(ns_pool(A.e_ns)->pl_stats.nps_ext_refs, 700);
	nb_ext_release(&x.ext);
	ck_assert_uint_eq(x.zrefs_freed, 1);
	xfer_finish(&x);
	free(x.zbuf);
}
END_TEST

START_TEST(test_bulk_clean)
{
	run_xfer(4u << 20, 0, 60000000);
	ck_assert_uint_eq(SA->tcp_rexmit, 0);
	ck_assert_uint_eq(SB->tcp_rexmit, 0);
	run_xfer(1u << 20, 1, 60000000);
}
END_TEST

START_TEST(test_bulk_5pct_loss_reorder)
{
	/* The netem case, scaled down: 5% loss and reordering. */
	lossy(50000, 50000, 0, 0);
	run_xfer(4u << 20, 0, 1800000000);
	ck_assert_uint_gt(W.w_lost, 100);
}
END_TEST

START_TEST(test_offloads_tso_csum)
{
	teardown();
	pair_init(NULL, NULL, NETIF_CAP_TXCSUM | NETIF_CAP_TSO4, 3);
	run_xfer(4u << 20, 0, 60000000);
	ck_assert_uint_gt(A.e_if.fi_tso_frames, 10);
	ck_assert_uint_gt(A.e_if.fi_csum_frames, 10);
	ck_assert_uint_gt(A.e_if.fi_nif.nif_stats.ns_tx_tso, 10);
	/* And with loss: TSO is off while retransmitting. */
	lossy(10000, 5000, 0, 0);
	run_xfer(2u << 20, 1, 600000000);
	ck_assert_uint_gt(B.e_if.fi_tso_frames, 10);
}
END_TEST

/* Both sides send at once, then close at once. */
struct bidi {
	struct ns_tcp *c[2];
	uint64_t sent[2], rcvd[2];
	int bad, eof[2], shut[2];
	uint64_t total;
};

static void
bidi_app(struct nt_wire *w, void *arg)
{
	struct bidi *b = arg;
	uint8_t buf[8192];
	long n;
	int i;
	uint32_t k, j;

	for (i = 0; i < 2; i++) {
		if (b->c[i] == NULL)
			continue;
		while (b->sent[i] < b->total) {
			k = (uint32_t)NS_MIN(sizeof(buf),
			    b->total - b->sent[i]);
			for (j = 0; j < k; j++)
				buf[j] = pat(b->sent[i] + j + (uint64_t)i * 7);
			if ((n = ns_tcp_send(b->c[i], buf, k)) <= 0)
				break;
			b->sent[i] += (uint64_t)n;
		}
		while ((n = ns_tcp_recv(b->c[i], buf, sizeof(buf))) > 0) {
			for (j = 0; j < (uint32_t)n; j++)
				if (buf[j] !=
				    pat(b->rcvd[i] + j + (uint64_t)(1 - i) * 7))
					b->bad++;
			b->rcvd[i] += (uint64_t)n;
		}
		if (n == 0)
			b->eof[i] = 1;
	}
	if (b->sent[0] == b->total && b->sent[1] == b->total && !b->shut[0]) {
		ns_tcp_shutdown(b->c[0], NS_SHUT_WR);
		ns_tcp_shutdown(b->c[1], NS_SHUT_WR);
		b->shut[0] = b->shut[1] = 1;
	}
}

START_TEST(test_bidirectional_simultaneous_close)
{
	struct ns_tcp *lis;
	struct bidi b;

	memset(&b, 0, sizeof(b));
	b.total = 1u << 20;
	ck_assert_int_eq(ns_tcp_listen(B.e_ns, 0, 80, 4, &lis), 0);
	ck_assert_int_eq(ns_tcp_connect(A.e_ns, NT_PEER, 80, &b.c[0]), 0);
	nt_wire_run(&W, 10000, 1000);
	ck_assert_int_eq(ns_tcp_accept(lis, &b.c[1]), 0);
	lossy(5000, 5000, 1000, 1000);
	W.w_app = bidi_app;
	W.w_app_arg = &b;
	nt_wire_run(&W, 60000000, 1000);
	W.w_app = NULL;
	ck_assert_uint_eq(b.rcvd[0], b.total);
	ck_assert_uint_eq(b.rcvd[1], b.total);
	ck_assert_int_eq(b.bad, 0);
	ck_assert(b.eof[0] && b.eof[1]);
	nt_wire_run(&W, 61000000, 100000);
	/* Both closed first: both went through TIME-WAIT or CLOSING. */
	ck_assert_int_eq(ns_tcp_state(b.c[0]), NS_TCPS_CLOSED);
	ck_assert_int_eq(ns_tcp_state(b.c[1]), NS_TCPS_CLOSED);
	ck_assert_uint_ge(SA->tcp_timewait + SB->tcp_timewait, 1);
	ns_tcp_close(b.c[0]);
	ns_tcp_close(b.c[1]);
	ns_tcp_close(lis);
}
END_TEST

/* Many connections at once, each a small request and reply. */
#define NCONN 200

struct many {
	struct ns_tcp *lis, *cli[NCONN], *srv[NCONN];
	int nsrv, done, bad;
	uint32_t got[NCONN], srvgot[NCONN];
};

static void
many_app(struct nt_wire *w, void *arg)
{
	struct many *m = arg;
	struct ns_tcp *c;
	uint8_t buf[4096];
	long n;
	int i;

	while (ns_tcp_accept(m->lis, &c) == 0)
		m->srv[m->nsrv++] = c;
	for (i = 0; i < m->nsrv; i++) {
		/* The server echoes what it gets, then closes on EOF. */
		if (m->srv[i] == NULL)
			continue;
		while ((n = ns_tcp_recv(m->srv[i], buf, sizeof(buf))) > 0) {
			ck_assert_int_eq(ns_tcp_send(m->srv[i], buf, (size_t)n),
			    n);
			m->srvgot[i] += (uint32_t)n;
		}
		if (n == 0) {
			ns_tcp_close(m->srv[i]);
			m->srv[i] = NULL;
		}
	}
	for (i = 0; i < NCONN; i++) {
		if (m->cli[i] == NULL)
			continue;
		while ((n = ns_tcp_recv(m->cli[i], buf, sizeof(buf))) > 0) {
			uint32_t j;

			for (j = 0; j < (uint32_t)n; j++)
				if (buf[j] != (uint8_t)(i + m->got[i] + j))
					m->bad++;
			m->got[i] += (uint32_t)n;
		}
		if (n == 0) {
			ns_tcp_close(m->cli[i]);
			m->cli[i] = NULL;
			m->done++;
		}
	}
}

START_TEST(test_many_connections)
{
	struct ns_config c = { .nc_tcp_rcvbuf = 32768, .nc_tcp_sndbuf = 32768 };
	static struct many m;
	uint8_t req[3000];
	int i, j;

	teardown();
	pair_init(&c, &c, 0, 11);
	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(ns_tcp_listen(B.e_ns, 0, 80, 256, &m.lis), 0);
	for (i = 0; i < NCONN; i++) {
		ck_assert_int_eq(ns_tcp_connect(A.e_ns, NT_PEER, 80, &m.cli[i]),
		    0);
		for (j = 0; j < (int)sizeof(req); j++)
			req[j] = (uint8_t)(i + j);
		ck_assert_int_eq(ns_tcp_send(m.cli[i], req, sizeof(req)),
		    (long)sizeof(req));
		ck_assert_int_eq(ns_tcp_shutdown(m.cli[i], NS_SHUT_WR), 0);
	}
	lossy(10000, 10000, 0, 0);
	W.w_app = many_app;
	W.w_app_arg = &m;
	nt_wire_run(&W, 120000000, 1000);
	W.w_app = NULL;
	ck_assert_int_eq(m.done, NCONN);
	ck_assert_int_eq(m.bad, 0);
	for (i = 0; i < NCONN; i++)
		ck_assert_uint_eq(m.got[i], sizeof(req));
	ck_assert_uint_eq(SB->tcp_accepts, NCONN);
	ns_tcp_close(m.lis);
	nt_wire_run(&W, 200000000, 100000);
	if (A.e_ns->ns_tcp_n != 0) {
		struct ns_tcp *tp;
		int hist[16] = { 0 };

		TAILQ_FOREACH (tp, &A.e_ns->ns_tcp_all, t_alink)
			hist[ns_tcp_state(tp)]++;
		for (i = 0; i < 11; i++)
			fprintf(stderr, "state %d: %d\n", i, hist[i]);
	}
	ck_assert_uint_eq(A.e_ns->ns_tcp_n, 0);
	ck_assert_uint_eq(B.e_ns->ns_tcp_n, 0);
}
END_TEST

/* A SYN flood against the server while a transfer runs. */
static void
flood_app(struct nt_wire *w, void *arg)
{
	static uint32_t n;
	uint8_t f[128];
	int i;

	if (arg != NULL)
		xfer_app(w, arg);
	for (i = 0; i < (arg != NULL ? 2 : 3000); i++, n++) {
		struct nt_tcp t = { .src = NS_IP4(10, 0, 0, 3 + n % 200),
			.dst = NT_PEER,
			.sport = (uint16_t)(1024 + n),
			.dport = 80,
			.seq = n * 2654435761u,
			.flags = TH_SYN,
			.win = 1024 };
		uint32_t len = nt_build_tcp(f, &t);

		memcpy(f, nt_mac_peer, 6); /* to B */
		nt_inject(&B, f, len);
	}
}

START_TEST(test_syn_flood_while_serving)
{
	struct ns_config cb = { .nc_syncache = 128, .nc_arp_entries = 16 };
	struct xfer x;

	teardown();
	pair_init(NULL, &cb, 0, 5);
	xfer_start(&x, 2u << 20, 0);
	flood_app(&W, NULL); /* 3000 SYNs first, then more as it runs */
	W.w_app = flood_app;
	nt_wire_run(&W, 60000000, 1000);
	ck_assert(x.eof);
	ck_assert_uint_eq(x.rcvd, 2u << 20);
	ck_assert_int_eq(x.bad, 0);
	ck_assert_uint_gt(SB->tcp_cookie_sent, 2500);
	ck_assert_uint_le(B.e_ns->ns_nsyn, 128);
	xfer_finish(&x);
}
END_TEST

/* Several instances: an active open picks a port whose replies the
 * device will steer back to this instance. */
START_TEST(test_steering_ports)
{
	struct ns_config ca = { .nc_ncpu = 4, .nc_cpu = 3 };
	struct ns_tcp *c[20];
	uint32_t la, fa;
	uint16_t lp, fp;
	int i;

	teardown();
	pair_init(&ca, NULL, 0, 13);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(ns_tcp_connect(A.e_ns, NT_PEER, 80, &c[i]), 0);
		ns_tcp_addrs(c[i], &la, &lp, &fa, &fp);
		ck_assert_uint_eq(
		    ns_rss_hash4(ns_rss_default_key, fa, la, fp, lp) % 4, 3);
	}
	for (i = 0; i < 20; i++)
		ns_tcp_abort(c[i]);
}
END_TEST

static Suite *
pair_suite(void)
{
	Suite *s = suite_create("net_tcp_pair");
	TCase *tc = tcase_create("pair");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_handshake_and_close);
	tcase_add_test(tc, test_bulk_clean);
	tcase_add_test(tc, test_zero_copy);
	tcase_add_test(tc, test_bulk_lossy_sack);
	tcase_add_test(tc, test_bulk_lossy_newreno_nosack);
	tcase_add_test(tc, test_bulk_lossy_plain);
	tcase_add_test(tc, test_bulk_5pct_loss_reorder);
	tcase_add_test(tc, test_offloads_tso_csum);
	tcase_add_test(tc, test_bidirectional_simultaneous_close);
	tcase_add_test(tc, test_many_connections);
	tcase_add_test(tc, test_syn_flood_while_serving);
	tcase_add_test(tc, test_steering_ports);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pair_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
