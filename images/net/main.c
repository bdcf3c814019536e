/*
 * images/net: the network stack up on the static address of the
 * deployment config (net.ip, net.gw), serving
 *   - TCP echo on echo.port (7): every byte back, then the close;
 *   - UDP echo on echo.port: every datagram back to its sender;
 *   - ICMP echo (the stack answers pings itself).
 * It logs "net: echo ready" when it serves. With echo.quit_port set, a
 * UDP datagram "quit" to that port makes it print its counters ("net:
 * stats ...", which the guest tests check) and power off; it is off by
 * default (a test hook, not for a real deployment).
 *
 * Each protocol thread has its own listener and UDP socket (a connection
 * or datagram arrives at the instance its 4-tuple hashes to); the echo
 * state machines run there, driven by the sockets' upcalls through
 * nsk_defer. QEMU flags: -device virtio-net-device (microvm) or
 * virtio-net-pci (q35) on any backend, and virtio-rng for the keys.
 */
#include <errno.h>
#include <string.h>
#include "core/config.h"
#include "core/init.h"
#include "core/kern.h"
#include "core/kmalloc.h"
#include "netstack/kern/nsk.h"
#include "sched/sched.h"
#include "virtio/virtio.h"

#define ECHO_BUF  16384
#define UDP_BUF	  65536
#define ECHO_BACK 128

static int64_t echo_port = 7;
CFG_INT(echo_port, "echo.port", echo_port, 1, 65535,
    "TCP and UDP echo port of the net image");
static int64_t quit_port;
CFG_INT(echo_quit_port, "echo.quit_port", quit_port, 0, 65535,
    "UDP port where 'quit' prints counters and powers off (0: none)");

struct echo_conn {
	struct nsk_work ec_work;
	TAILQ_ENTRY(echo_conn) ec_link; /* on e_conns_live */
	struct ns_tcp *ec_c;
	struct echo_cpu *ec_ecpu;
	uint32_t ec_off, ec_len;
	bool ec_eof;
	uint8_t ec_buf[ECHO_BUF];
};

/* One instance's echo service; its thread's only. */
struct echo_cpu {
	struct nsk_work e_lwork, e_uwork, e_qwork;
	struct ns_tcp *e_l;
	struct ns_udp *e_u, *e_q;
	TAILQ_HEAD(, echo_conn) e_conns_live;
	uint8_t *e_ubuf;
	uint64_t e_conns, e_bytes, e_dgrams, e_aborts, e_live;
};

static struct echo_cpu *ecpus[ARCH_MAX_CPUS];
static volatile bool quit;

/* ---- TCP ---- */

static void
conn_upcall(void *arg, unsigned events)
{
	nsk_defer(&((struct echo_conn *)arg)->ec_work);
}

static void
conn_end(struct echo_conn *ec, bool abort)
{
	ns_tcp_set_upcall(ec->ec_c, NULL, NULL);
	nsk_cancel(&ec->ec_work);
	if (abort) {
		ns_tcp_abort(ec->ec_c);
		ec->ec_ecpu->e_aborts++;
	} else {
		ns_tcp_close(ec->ec_c);
	}
	ec->ec_ecpu->e_live--;
	TAILQ_REMOVE(&ec->ec_ecpu->e_conns_live, ec, ec_link);
	kfree(ec, sizeof(*ec));
}

/* Sends what is buffered, reads more; ends at EOF or an error. */
static void
conn_work(struct nsk_work *w)
{
	struct echo_conn *ec = container_of(w, struct echo_conn, ec_work);
	long n;

	for (;;) {
		if (ec->ec_len > 0) {
			n = ns_tcp_send(ec->ec_c, ec->ec_buf + ec->ec_off,
			    ec->ec_len);
			if (n == -EAGAIN)
				return;
			if (n < 0)
				break;
			ec->ec_off += (uint32_t)n;
			ec->ec_len -= (uint32_t)n;
			ec->ec_ecpu->e_bytes += (uint64_t)n;
			continue;
		}
		if (ec->ec_eof) {
			conn_end(ec, false);
			return;
		}
		n = ns_tcp_recv(ec->ec_c, ec->ec_buf, sizeof(ec->ec_buf));
		if (n == -EAGAIN)
			return;
		if (n < 0)
			break;
		if (n == 0)
			ec->ec_eof = true;
		ec->ec_off = 0;
		ec->ec_len = (uint32_t)n;
	}
	conn_end(ec, true);
}

static void
listen_work(struct nsk_work *w)
{
	struct echo_cpu *e = container_of(w, struct echo_cpu, e_lwork);
	struct echo_conn *ec;
	struct ns_tcp *c;

	while (ns_tcp_accept(e->e_l, &c) == 0) {
		if ((ec = kmalloc(sizeof(*ec), KM_ZERO)) == NULL) {
			ns_tcp_abort(c);
			e->e_aborts++;
			continue;
		}
		nsk_work_init(&ec->ec_work, conn_work);
		ec->ec_c = c;
		ec->ec_ecpu = e;
		e->e_conns++;
		e->e_live++;
		TAILQ_INSERT_TAIL(&e->e_conns_live, ec, ec_link);
		ns_tcp_set_upcall(c, conn_upcall, ec);
		nsk_defer(&ec->ec_work);
	}
}

static void
listen_upcall(void *arg, unsigned events)
{
	nsk_defer(&((struct echo_cpu *)arg)->e_lwork);
}

/* ---- UDP ---- */

static void
udp_work(struct nsk_work *w)
{
	struct echo_cpu *e = container_of(w, struct echo_cpu, e_uwork);
	uint32_t src;
	uint16_t sport;
	int n;

	while ((n = ns_udp_recvfrom(e->e_u, e->e_ubuf, UDP_BUF, &src,
		    &sport)) >= 0) {
		if (ns_udp_sendto(e->e_u, src, sport, e->e_ubuf, (size_t)n) ==
		    0)
			e->e_dgrams++;
	}
}

static void
quit_work(struct nsk_work *w)
{
	struct echo_cpu *e = container_of(w, struct echo_cpu, e_qwork);
	char buf[8];
	uint32_t src;
	uint16_t sport;
	int n;

	while ((n = ns_udp_recvfrom(e->e_q, buf, sizeof(buf), &src, &sport)) >=
	    0) {
		if (n == 4 && memcmp(buf, "quit", 4) == 0) {
			quit = true;
			wakeup(&quit);
		}
	}
}

static void
udp_upcall(void *arg, unsigned events)
{
	nsk_defer(arg);
}

static int
udp_open(struct ns *ns, uint16_t port, struct nsk_work *w, struct ns_udp **up)
{
	int err;

	if ((err = ns_udp_open(ns, up)) != 0)
		return err;
	if ((err = ns_udp_bind(*up, 0, port)) != 0)
		return err;
	ns_udp_set_upcall(*up, udp_upcall, w);
	return 0;
}

/* ---- Set-up and counters, on each protocol thread ---- */

static void
echo_setup(struct ns *ns, unsigned cpu, void *arg)
{
	struct echo_cpu *e = kmalloc(sizeof(*e), KM_ZERO);
	int *errp = arg, err;

	if (e == NULL || (e->e_ubuf = kmalloc(UDP_BUF, 0)) == NULL) {
		*errp = -ENOMEM;
		return;
	}
	ecpus[cpu] = e;
	TAILQ_INIT(&e->e_conns_live);
	nsk_work_init(&e->e_lwork, listen_work);
	nsk_work_init(&e->e_uwork, udp_work);
	nsk_work_init(&e->e_qwork, quit_work);
	err = ns_tcp_listen(ns, 0, (uint16_t)echo_port, ECHO_BACK, &e->e_l);
	if (err == 0) {
		ns_tcp_set_upcall(e->e_l, listen_upcall, e);
		err = udp_open(ns, (uint16_t)echo_port, &e->e_uwork, &e->e_u);
	}
	if (err == 0 && quit_port != 0)
		err = udp_open(ns, (uint16_t)quit_port, &e->e_qwork, &e->e_q);
	if (err != 0 && *errp == 0)
		*errp = err;
}

#define U(x) ((unsigned long long)(x))

/* Connections still open at the end: what each is waiting for. */
static void
live_dump(struct ns *ns, unsigned cpu, void *arg)
{
	const struct nb_pool_stats *ps = &ns_pool(ns)->pl_stats;
	struct echo_conn *ec;
	struct ns_tcp_info ti;

	kprintf("net: pool cpu %u headers %u in use (peak %u, %llu refused), "
		"clusters %u in use (peak %u, %llu refused)\n",
	    cpu, ps->nps_hdr_inuse, ps->nps_hdr_peak, U(ps->nps_hdr_fails),
	    ps->nps_cl_inuse, ps->nps_cl_peak, U(ps->nps_cl_fails));
	TAILQ_FOREACH (ec, &ecpus[cpu]->e_conns_live, ec_link) {
		ns_tcp_info(ec->ec_c, &ti);
		kprintf("net: live cpu %u state %d unacked %u cwnd %u ssthresh "
			"%u snd_wnd %u rcv_wnd %u srtt %u us rto %u us rexmits "
			"%llu timeouts %llu buffered %u events %#x\n",
		    cpu, ti.ti_state, ti.ti_unacked, ti.ti_cwnd, ti.ti_ssthresh,
		    ti.ti_snd_wnd, ti.ti_rcv_wnd, ti.ti_srtt_us, ti.ti_rto_us,
		    U(ti.ti_rexmits), U(ti.ti_timeouts), ec->ec_len,
		    ns_tcp_events(ec->ec_c));
	}
}

static void
print_stats(void)
{
	struct ns_stats sum;
	struct nsk_stats ks;
	struct vnetif_stats vs;
	uint64_t conns = 0, bytes = 0, dgrams = 0, aborts = 0, live = 0;
	unsigned i;

	nsk_get_ns_stats(&sum);
	nsk_call_all(live_dump, NULL);
	nsk_dump();
	nsk_get_stats(&ks);
	vnetif_get_stats(vnetif_get(0), &vs);
	for (i = 0; i < nsk_ncpu(); i++) {
		conns += ecpus[i]->e_conns;
		bytes += ecpus[i]->e_bytes;
		dgrams += ecpus[i]->e_dgrams;
		aborts += ecpus[i]->e_aborts;
		live += ecpus[i]->e_live;
		kprintf("net: cpu %u: %llu connections, %llu bytes, %llu "
			"datagrams\n",
		    i, U(ecpus[i]->e_conns), U(ecpus[i]->e_bytes),
		    U(ecpus[i]->e_dgrams));
	}
	kprintf("net: stats echo conns=%llu bytes=%llu dgrams=%llu "
		"aborts=%llu live=%llu\n",
	    U(conns), U(bytes), U(dgrams), U(aborts), U(live));
	kprintf("net: stats glue rx=%llu rx_gso=%llu rx_csum_ok=%llu "
		"rx_nobufs=%llu arp_copies=%llu tx_gathered=%llu "
		"tx_linear=%llu tx_tso=%llu tx_csum=%llu tx_errors=%llu "
		"tx_done=%llu tx_queued=%llu tx_qdrops=%llu msgs=%llu "
		"ticks=%llu callouts=%llu/%llu\n",
	    U(ks.ks_rx_frames), U(ks.ks_rx_gso), U(ks.ks_rx_csum_ok),
	    U(ks.ks_rx_nobufs), U(ks.ks_rx_arp_copies), U(ks.ks_tx_gathered),
	    U(ks.ks_tx_linear), U(ks.ks_tx_tso), U(ks.ks_tx_csum),
	    U(ks.ks_tx_errors), U(ks.ks_tx_done), U(ks.ks_tx_queued),
	    U(ks.ks_tx_qdrops), U(ks.ks_msgs), U(ks.ks_ticks),
	    U(ks.ks_callouts), U(ks.ks_callouts_busy));
	kprintf("net: stats tcp accepts=%llu rexmit=%llu timeout=%llu "
		"fast_rexmit=%llu sack_rexmit=%llu badsum=%llu ooo=%llu "
		"drops=%llu icmp_echo=%llu udp_rx=%llu ip_badsum=%llu "
		"frag_ok=%llu tx_nobufs=%llu eth_nobufs=%llu eth_tx_err=%llu "
		"ooo_drop=%llu outwin=%llu persist=%llu\n",
	    U(sum.tcp_accepts), U(sum.tcp_rexmit), U(sum.tcp_timeout),
	    U(sum.tcp_fast_rexmit), U(sum.tcp_sack_rexmit),
	    U(sum.tcp_rx_badsum), U(sum.tcp_rx_ooo), U(sum.tcp_drops),
	    U(sum.icmp_rx_echo), U(sum.udp_rx), U(sum.ip_rx_badsum),
	    U(sum.ip_frag_ok), U(sum.tcp_tx_nobufs), U(sum.eth_nobufs),
	    U(sum.eth_tx_err), U(sum.tcp_rx_ooo_drop), U(sum.tcp_rx_outwin),
	    U(sum.tcp_persist));
	kprintf("net: stats device rx=%llu tx=%llu rx_merged=%llu "
		"rx_zerocopy=%llu "
		"rx_dropped=%llu rx_errors=%llu tx_dropped=%llu "
		"tx_errors=%llu tx_csum_sw=%llu\n",
	    U(vs.ns_rx_packets), U(vs.ns_tx_packets), U(vs.ns_rx_merged),
	    U(vs.ns_rx_zerocopy), U(vs.ns_rx_dropped), U(vs.ns_rx_errors),
	    U(vs.ns_tx_dropped), U(vs.ns_tx_errors), U(vs.ns_tx_csum_sw));
}

int
app_main(void)
{
	struct nsk_addr a;
	int err = 0;

	if ((err = nsk_start()) != 0) {
		kprintf("net: the stack did not start (%d)\n", err);
		return 1;
	}
	if ((err = nsk_wait_addr(60ULL * 1000000000)) != 0) {
		kprintf("net: no address after 60 s (%d)\n", err);
		return 1;
	}
	nsk_call_all(echo_setup, &err);
	if (err != 0) {
		kprintf("net: the echo service did not start (%d)\n", err);
		return 1;
	}
	nsk_get_addr(&a);
	kprintf("net: echo ready on %u.%u.%u.%u: tcp %d, udp %d%s\n",
	    a.na_addr >> 24, (a.na_addr >> 16) & 255, (a.na_addr >> 8) & 255,
	    a.na_addr & 255, (int)echo_port, (int)echo_port,
	    quit_port != 0 ? ", quit on udp" : "");
	while (!quit)
		tsleep(&quit, "quit", 1000000000ULL);
	print_stats();
	return 0;
}
