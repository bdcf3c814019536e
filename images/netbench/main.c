/*
 * images/netbench: the Damselfly side of bench/run's net area. On the
 * static address of the deployment config it serves, on TCP:
 *   5201  sink: reads and drops every byte; at the peer's FIN it closes
 *         (so the peer's EOF says every byte it sent was read here);
 *   5202  source: sends a fixed 64 KiB pattern, over and over, from the
 *         moment the connection is accepted until the peer closes;
 *   5203  request/response: reads a 64-byte request, sends a 64-byte
 *         response, closes (one connection per exchange).
 * The host side (bench/net/netpeer.c) measures; this image only counts,
 * and a UDP datagram "quit" to port 5299 makes it print its counts
 * ("netbench: stats ...", which the bench checks against the host's)
 * and power off. It logs "netbench: ready" when it serves. The Linux
 * guest runs the same service (bench/linux-guest/netserve.c).
 *
 * Written against the core's upcall API and nsk_call, as images/net:
 * each protocol thread has its own listeners; the connection state
 * machines run there, driven by upcalls through nsk_defer.
 */
#include <errno.h>
#include <string.h>
#include "core/init.h"
#include "core/kern.h"
#include "core/kmalloc.h"
#include "netstack/kern/nsk.h"
#include "sched/sched.h"

#define PORT_SINK   5201
#define PORT_SOURCE 5202
#define PORT_RR	    5203
#define PORT_QUIT   5299
#define SINK_BUF    65536
#define SOURCE_BUF  65536
#define RR_LEN	    64
#define BACKLOG	    128

enum nb_kind { NB_SINK, NB_SOURCE, NB_RR, NB_KINDS };

struct nb_cpu;

struct nb_conn {
	struct nsk_work nc_work;
	struct ns_tcp *nc_c;
	struct nb_cpu *nc_cpu;
	enum nb_kind nc_kind;
	uint32_t nc_off; /* source: offset in the pattern; rr: bytes in/out */
	bool nc_replying;
	uint8_t nc_req[RR_LEN];
};

struct nb_listener {
	struct nsk_work nl_work;
	struct ns_tcp *nl_l;
	struct nb_cpu *nl_cpu;
	enum nb_kind nl_kind;
};

/* One instance's service; its thread's only. */
struct nb_cpu {
	struct nb_listener n_l[NB_KINDS];
	struct nsk_work n_qwork;
	struct ns_udp *n_q;
	uint8_t *n_buf; /* sink's scratch */
	uint64_t n_sink_bytes, n_source_bytes, n_rr_conns, n_conns[NB_KINDS];
	uint64_t n_aborts[NB_KINDS], n_live;
};

static const uint16_t ports[NB_KINDS] = { PORT_SINK, PORT_SOURCE, PORT_RR };
static const char *const kinds[NB_KINDS] = { "sink", "source", "rr" };
static struct nb_cpu *cpus[ARCH_MAX_CPUS];
static uint8_t pattern[SOURCE_BUF];
static volatile bool quit;

static void
conn_upcall(void *arg, unsigned events)
{
	nsk_defer(&((struct nb_conn *)arg)->nc_work);
}

static void
conn_end(struct nb_conn *nc, bool abort)
{
	ns_tcp_set_upcall(nc->nc_c, NULL, NULL);
	nsk_cancel(&nc->nc_work);
	if (abort) {
		ns_tcp_abort(nc->nc_c);
		nc->nc_cpu->n_aborts[nc->nc_kind]++;
	} else {
		ns_tcp_close(nc->nc_c);
	}
	nc->nc_cpu->n_live--;
	kfree(nc, sizeof(*nc));
}

/* Reads and drops; at EOF closes. Returns when the stack has no more. */
static void
sink_work(struct nb_conn *nc)
{
	long n;

	for (;;) {
		n = ns_tcp_recv(nc->nc_c, nc->nc_cpu->n_buf, SINK_BUF);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			conn_end(nc, n < 0);
			return;
		}
		nc->nc_cpu->n_sink_bytes += (uint64_t)n;
	}
}

/*
 * Sends the pattern until the peer goes: its FIN (recv 0) or its reset
 * (an error) ends the connection. The peer closing while data is in
 * flight is the normal end here, not an abort worth counting.
 */
static void
source_work(struct nb_conn *nc)
{
	uint8_t drop[256];
	long n;

	for (;;) {
		n = ns_tcp_recv(nc->nc_c, drop, sizeof(drop));
		if (n != -EAGAIN) {
			conn_end(nc, n < 0);
			return;
		}
		n = ns_tcp_send(nc->nc_c, pattern + nc->nc_off,
		    SOURCE_BUF - nc->nc_off);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			conn_end(nc, true);
			return;
		}
		nc->nc_cpu->n_source_bytes += (uint64_t)n;
		nc->nc_off = (nc->nc_off + (uint32_t)n) % SOURCE_BUF;
	}
}

/* RR_LEN bytes in, RR_LEN bytes out (the request, each byte + 1), close. */
static void
rr_work(struct nb_conn *nc)
{
	long n;
	unsigned i;

	while (!nc->nc_replying) {
		n = ns_tcp_recv(nc->nc_c, nc->nc_req + nc->nc_off,
		    RR_LEN - nc->nc_off);
		if (n == -EAGAIN)
			return;
		if (n <= 0) { /* the peer went before its request was in */
			conn_end(nc, true);
			return;
		}
		nc->nc_off += (uint32_t)n;
		if (nc->nc_off == RR_LEN) {
			for (i = 0; i < RR_LEN; i++)
				nc->nc_req[i]++;
			nc->nc_replying = true;
			nc->nc_off = 0;
		}
	}
	while (nc->nc_off < RR_LEN) {
		n = ns_tcp_send(nc->nc_c, nc->nc_req + nc->nc_off,
		    RR_LEN - nc->nc_off);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			conn_end(nc, true);
			return;
		}
		nc->nc_off += (uint32_t)n;
	}
	nc->nc_cpu->n_rr_conns++;
	conn_end(nc, false);
}

static void
conn_work(struct nsk_work *w)
{
	struct nb_conn *nc = container_of(w, struct nb_conn, nc_work);

	switch (nc->nc_kind) {
	case NB_SINK:
		sink_work(nc);
		break;
	case NB_SOURCE:
		source_work(nc);
		break;
	default:
		rr_work(nc);
		break;
	}
}

static void
listen_work(struct nsk_work *w)
{
	struct nb_listener *nl = container_of(w, struct nb_listener, nl_work);
	struct nb_cpu *n = nl->nl_cpu;
	struct nb_conn *nc;
	struct ns_tcp *c;

	while (ns_tcp_accept(nl->nl_l, &c) == 0) {
		if ((nc = kmalloc(sizeof(*nc), KM_ZERO)) == NULL) {
			ns_tcp_abort(c);
			n->n_aborts[nl->nl_kind]++;
			continue;
		}
		nsk_work_init(&nc->nc_work, conn_work);
		nc->nc_c = c;
		nc->nc_cpu = n;
		nc->nc_kind = nl->nl_kind;
		n->n_conns[nl->nl_kind]++;
		n->n_live++;
		ns_tcp_set_upcall(c, conn_upcall, nc);
		nsk_defer(&nc->nc_work);
	}
}

static void
listen_upcall(void *arg, unsigned events)
{
	nsk_defer(&((struct nb_listener *)arg)->nl_work);
}

static void
quit_work(struct nsk_work *w)
{
	struct nb_cpu *n = container_of(w, struct nb_cpu, n_qwork);
	char buf[8];
	uint32_t src;
	uint16_t sport;
	int len;

	while ((len = ns_udp_recvfrom(n->n_q, buf, sizeof(buf), &src,
		    &sport)) >= 0) {
		if (len == 4 && memcmp(buf, "quit", 4) == 0) {
			quit = true;
			wakeup(&quit);
		}
	}
}

static void
quit_upcall(void *arg, unsigned events)
{
	nsk_defer(arg);
}

static void
setup(struct ns *ns, unsigned cpu, void *arg)
{
	struct nb_cpu *n = kmalloc(sizeof(*n), KM_ZERO);
	int *errp = arg, err = 0;
	unsigned k;

	if (n == NULL || (n->n_buf = kmalloc(SINK_BUF, 0)) == NULL) {
		*errp = -ENOMEM;
		return;
	}
	cpus[cpu] = n;
	for (k = 0; k < NB_KINDS && err == 0; k++) {
		struct nb_listener *nl = &n->n_l[k];

		nsk_work_init(&nl->nl_work, listen_work);
		nl->nl_cpu = n;
		nl->nl_kind = (enum nb_kind)k;
		err = ns_tcp_listen(ns, 0, ports[k], BACKLOG, &nl->nl_l);
		if (err == 0)
			ns_tcp_set_upcall(nl->nl_l, listen_upcall, nl);
	}
	nsk_work_init(&n->n_qwork, quit_work);
	if (err == 0)
		err = ns_udp_open(ns, &n->n_q);
	if (err == 0)
		err = ns_udp_bind(n->n_q, 0, PORT_QUIT);
	if (err == 0)
		ns_udp_set_upcall(n->n_q, quit_upcall, &n->n_qwork);
	if (err != 0 && *errp == 0)
		*errp = err;
}

#define U(x) ((unsigned long long)(x))

static void
print_stats(void)
{
	struct ns_stats sum;
	uint64_t sink = 0, source = 0, rr = 0, live = 0;
	uint64_t conns[NB_KINDS] = { 0 }, aborts[NB_KINDS] = { 0 };
	struct nsk_stats ks;
	unsigned i, k;

	nsk_get_ns_stats(&sum);
	nsk_get_stats(&ks);
	for (i = 0; i < nsk_ncpu(); i++) {
		sink += cpus[i]->n_sink_bytes;
		source += cpus[i]->n_source_bytes;
		rr += cpus[i]->n_rr_conns;
		live += cpus[i]->n_live;
		for (k = 0; k < NB_KINDS; k++) {
			conns[k] += cpus[i]->n_conns[k];
			aborts[k] += cpus[i]->n_aborts[k];
		}
	}
	for (k = 0; k < NB_KINDS; k++)
		kprintf("netbench: %s: %llu connections, %llu aborted\n",
		    kinds[k], U(conns[k]), U(aborts[k]));
	kprintf("netbench: stats sink_bytes=%llu source_bytes=%llu "
		"rr_conns=%llu live=%llu\n",
	    U(sink), U(source), U(rr), U(live));
	kprintf("netbench: glue rx=%llu rx_gso=%llu tx_tso=%llu tx_csum=%llu "
		"tx_queued=%llu tx_qdrops=%llu; tcp rexmit=%llu timeout=%llu "
		"drops=%llu\n",
	    U(ks.ks_rx_frames), U(ks.ks_rx_gso), U(ks.ks_tx_tso),
	    U(ks.ks_tx_csum), U(ks.ks_tx_queued), U(ks.ks_tx_qdrops),
	    U(sum.tcp_rexmit), U(sum.tcp_timeout), U(sum.tcp_drops));
}

int
app_main(void)
{
	struct nsk_addr a;
	int err = 0;
	unsigned i;

	for (i = 0; i < SOURCE_BUF; i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 8));
	if ((err = nsk_start()) != 0) {
		kprintf("netbench: the stack did not start (%d)\n", err);
		return 1;
	}
	nsk_call_all(setup, &err);
	if (err != 0) {
		kprintf("netbench: the service did not start (%d)\n", err);
		return 1;
	}
	nsk_get_addr(&a);
	kprintf("netbench: ready on %u.%u.%u.%u: sink %d, source %d, rr %d, "
		"quit udp %d\n",
	    a.na_addr >> 24, (a.na_addr >> 16) & 255, (a.na_addr >> 8) & 255,
	    a.na_addr & 255, PORT_SINK, PORT_SOURCE, PORT_RR, PORT_QUIT);
	while (!quit)
		tsleep(&quit, "quit", 1000000000ULL);
	print_stats();
	kprintf("netbench: done\n");
	return 0;
}
