/*
 * netstack/kern/nsk.c: the protocol threads, one per CPU, each owning one
 * struct ns, fed by messages as DragonFly's netisr threads are; the netif
 * each instance sees over the virtio-net device; the static IPv4
 * configuration. nsk.h has the interface and the outline.
 *
 * Messages a protocol thread receives on its thread port (each with a
 * dispatch function the thread calls):
 *   kick   the inbox went from empty to not empty: received frames and
 *          transmitted chains to free. One per CPU, preallocated; sent
 *          only when not in flight (pc_kicked, under pc_lock).
 *   timer  from the callout armed at ns_next_timer(). One per CPU; the
 *          callout sends it only when not in flight (pc_timer_busy).
 *   call   nsk_call: run a function on the instance (the application's
 *          way in, until the message API and sockets exist).
 * After each batch of messages the thread calls ns_tick, runs the
 * deferred work the upcalls queued, and re-arms the callout.
 *
 * Buffers are freed on their owner's CPU. A received netbuf becomes a
 * read-only external segment of the instance that got it; its ne_free
 * (netbuf_free) runs on that instance's thread when the last reference
 * goes. A transmitted chain is lent to the driver as a gathered netbuf;
 * the driver's completion (its thread, maybe another CPU) only pushes the
 * chain onto the owner's inbox, and the owner frees it with nb_freem: the
 * pools and the non-atomic reference counts in nb.c stay single-threaded.
 * Per-CPU caches with remote-free lists would do the same job inside the
 * pools; handing the chain back costs one list push under a spinlock and
 * keeps nb.c unchanged.
 *
 * Locks: pc_lock (a spinlock) guards the inbox (pc_rxq, pc_done,
 * pc_kicked); everything else of a CPU belongs to its thread, but for
 * ks_rx_arp_copies, which only the driver's thread writes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "arch/arch.h"
#include "core/config.h"
#include "core/kern.h"
#include "core/kmalloc.h"
#include "core/spinlock.h"
#include "msgport/msgport.h"
#include "netstack/kern/nsk.h"
#include "netstack/kern/nsk_internal.h"
#include "sched/sched.h"
#include "virtio/virtio.h"

#define NSK_TX_MAXSEG 48  /* pieces of a gathered frame; more: linearized */
#define NSK_TX_CACHE  256 /* idle transmit descriptors kept per CPU */
#define NSK_TSO_MAX   (65535 - 20 - 60)
/* Frames all instances may have in the driver at once: under its
 * pending limit (VNET_TX_PENDING), so it never refuses one for room. */
#define NSK_TX_INFLIGHT 1024
#define NSK_TXQ_MAX	4096 /* frames an instance queues beyond that */

static char cfg_ip[32];
CFG_STR(net_ip, "net.ip", cfg_ip,
    "this host's IPv4 address and prefix length, e.g. 10.0.0.2/24");
static char cfg_gw[20];
CFG_STR(net_gw, "net.gw", cfg_gw, "the IPv4 default gateway, e.g. 10.0.0.1");

struct nsk_cpu;

/* A chain lent to the driver: the gathered netbuf and what to free. */
struct nsk_tx {
	struct nsk_tx *t_next; /* on pc_done or the cache */
	struct nsk_cpu *t_pc;
	struct nb *t_chain;
	struct netbuf_seg t_segs[NSK_TX_MAXSEG];
	struct netbuf t_nb; /* last: it ends in a flexible array */
};

struct nsk_msg {
	struct lwkt_msg m_msg;
	struct nsk_cpu *m_pc;
	void (*m_fn)(struct ns *ns, unsigned cpu, void *arg);
	void *m_arg;
};

struct nsk_cpu {
	unsigned pc_cpu;
	struct ns *pc_ns;
	struct netif pc_nif;
	struct ns_platform pc_plat;
	struct nsk_rand pc_rand;
	struct thread *pc_td;
	struct lwkt_port *volatile pc_port; /* the thread's, once it runs */
	struct lwkt_port pc_replyport;	    /* for kick and timer */
	struct nsk_msg pc_kick, pc_timer;
	struct callout pc_callout;
	uint64_t pc_armed_us; /* the callout's deadline, 0 if none */
	volatile bool pc_timer_busy;
	TAILQ_HEAD(, nsk_work) pc_work;
	struct nsk_tx *pc_txcache;
	unsigned pc_ntxcache;
	/* Transmit back-pressure: frames in the driver, and those waiting
	 * for room (linked by nb_nextpkt). */
	unsigned pc_tx_inflight, pc_tx_limit;
	struct nb *pc_txq_head, *pc_txq_tail;
	unsigned pc_txq_len;
	struct nsk_stats pc_st;
	unsigned pc_addr_gen; /* the address generation applied */
	/* The inbox, guarded by pc_lock. */
	struct spinlock pc_lock;
	TAILQ_HEAD(, netbuf) pc_rxq;
	struct nsk_tx *pc_done;
	bool pc_kicked;
};

static struct nsk_cpu *cpus[ARCH_MAX_CPUS];
static unsigned ncpu;
static struct vnetif *vif;
/* The address: set at start (static) or published by the DHCP client
 * (nsk_dhcp.c); addr_gen counts changes, each instance applies the newest
 * on its thread (addr_sync). Guarded by addr_lock. */
static struct nsk_addr addr;
static unsigned addr_gen;
static struct spinlock addr_lock = SPINLOCK_INIT;
static bool use_dhcp;

_Static_assert(sizeof(((struct netbuf *)0)->nb_holder) >= sizeof(struct nb_ext),
    "a netbuf holds the stack's nb_ext");

/* ---- The inbox ---- */

static void
kick(struct nsk_cpu *pc)
{
	lwkt_sendmsg(pc->pc_port, &pc->pc_kick.m_msg);
}

static void
inbox_rx(struct nsk_cpu *pc, struct netbuf *nb)
{
	bool k;

	spin_lock(&pc->pc_lock);
	TAILQ_INSERT_TAIL(&pc->pc_rxq, nb, nb_link);
	k = !pc->pc_kicked;
	pc->pc_kicked = true;
	spin_unlock(&pc->pc_lock);
	if (k)
		kick(pc);
}

/* The driver is done with a gathered frame (its thread, any CPU). */
static void
tx_release(struct netbuf *nb)
{
	struct nsk_tx *t = container_of(nb, struct nsk_tx, t_nb);
	struct nsk_cpu *pc = t->t_pc;
	bool k;

	spin_lock(&pc->pc_lock);
	t->t_next = pc->pc_done;
	pc->pc_done = t;
	k = !pc->pc_kicked;
	pc->pc_kicked = true;
	spin_unlock(&pc->pc_lock);
	if (k)
		kick(pc);
}

/* An unfragmented IPv4 UDP datagram to port 68 (a DHCP reply)? */
static bool
to_dhcp_client(const uint8_t *p, uint32_t len)
{
	uint32_t hl;

	if (len < 14 + 20 + 4 || p[12] != 0x08 || p[13] != 0x00)
		return false;
	p += 14;
	hl = (uint32_t)(p[0] & 0x0f) * 4;
	if ((p[0] >> 4) != 4 || p[9] != 17 || hl < 20 || len < 14 + hl + 4 ||
	    ((p[6] & 0x3f) | p[7]) != 0) /* MF or an offset: a fragment */
		return false;
	return p[hl + 2] == 0 && p[hl + 3] == 68;
}

/* The driver's input callback (its thread): steer and queue. */
static void
nsk_rx(struct vnetif *ifp, struct netbuf *nb, void *arg)
{
	int t = ns_steer(NULL, ncpu, nb->nb_data, nb->nb_len);
	unsigned i;

	if (use_dhcp && t > 0 && to_dhcp_client(nb->nb_data, nb->nb_len))
		t = 0; /* the client runs on CPU 0's instance */

	if (t != NS_STEER_ALL) {
		inbox_rx(cpus[(unsigned)t % ncpu], nb);
		return;
	}
	/* ARP, to every instance: small, so copied for all but one. */
	for (i = 1; i < ncpu; i++) {
		struct netbuf *c = netbuf_alloc(nb->nb_len);
		if (c == NULL)
			continue;
		memcpy(c->nb_data, nb->nb_data, nb->nb_len);
		cpus[i]->pc_st.ks_rx_arp_copies++;
		inbox_rx(cpus[i], c);
	}
	inbox_rx(cpus[0], nb);
}

/* ---- Receive, on the owner's thread ---- */

static void
rx_ext_free(struct nb_ext *ext)
{
	netbuf_free(ext->ne_arg);
}

static void
rx_one(struct nsk_cpu *pc, struct netbuf *nb)
{
	struct nb_ext *ext = (struct nb_ext *)nb->nb_holder;
	struct nb *seg;

	nb_ext_init(ext, rx_ext_free, nb, NB_EXT_RDONLY);
	seg = nb_get_ext(ns_pool(pc->pc_ns), ext, nb->nb_data, nb->nb_len);
	if (seg == NULL) {
		pc->pc_st.ks_rx_nobufs++;
		nb_ext_release(ext); /* frees nb */
		return;
	}
	/*
	 * DATA_VALID: the device checked the sum. NEEDS_CSUM on input (a
	 * partial checksum, as tap hands over the host's own segments and
	 * every coalesced frame) means the host vouches for the data and
	 * left the sum unfinished: Linux's virtio_net takes both as valid
	 * (CHECKSUM_UNNECESSARY, CHECKSUM_PARTIAL), and so do we.
	 */
	if (nb->nb_flags & (VNB_CSUM_VALID | VNB_NEEDS_CSUM)) {
		seg->nb_flags |= NB_RX_CSUM_OK;
		pc->pc_st.ks_rx_csum_ok++;
	}
	if (nb->nb_flags & VNB_GSO_TCP4)
		pc->pc_st.ks_rx_gso++;
	nb_ext_release(ext); /* the segment holds the only reference */
	pc->pc_st.ks_rx_frames++;
	ns_input(pc->pc_ns, seg);
}

static void tx_flush(struct nsk_cpu *pc);

static void
drain_inbox(struct nsk_cpu *pc)
{
	TAILQ_HEAD(, netbuf) rx;
	struct nsk_tx *done, *t;
	struct netbuf *nb;

	TAILQ_INIT(&rx);
	spin_lock(&pc->pc_lock);
	while ((nb = TAILQ_FIRST(&pc->pc_rxq)) != NULL) {
		TAILQ_REMOVE(&pc->pc_rxq, nb, nb_link);
		TAILQ_INSERT_TAIL(&rx, nb, nb_link);
	}
	done = pc->pc_done;
	pc->pc_done = NULL;
	pc->pc_kicked = false;
	spin_unlock(&pc->pc_lock);
	while ((t = done) != NULL) {
		done = t->t_next;
		nb_freem(t->t_chain);
		pc->pc_st.ks_tx_done++;
		pc->pc_tx_inflight--;
		if (pc->pc_ntxcache < NSK_TX_CACHE) {
			t->t_next = pc->pc_txcache;
			pc->pc_txcache = t;
			pc->pc_ntxcache++;
		} else {
			kfree(t, sizeof(*t));
		}
	}
	tx_flush(pc);
	while ((nb = TAILQ_FIRST(&rx)) != NULL) {
		TAILQ_REMOVE(&rx, nb, nb_link);
		rx_one(pc, nb);
	}
}

/* ---- Transmit, on the owner's thread ---- */

static struct nsk_tx *
tx_get(struct nsk_cpu *pc)
{
	struct nsk_tx *t = pc->pc_txcache;

	if (t != NULL) {
		pc->pc_txcache = t->t_next;
		pc->pc_ntxcache--;
	} else if ((t = kmalloc(sizeof(*t), 0)) == NULL) {
		return NULL;
	}
	memset(&t->t_nb, 0, sizeof(t->t_nb));
	t->t_pc = pc;
	t->t_next = NULL;
	return t;
}

static void
tx_flags(struct nsk_cpu *pc, const struct nb *chain, struct netbuf *nb)
{
	if (chain->nb_flags & NB_TX_CSUM) {
		nb->nb_flags |= VNB_NEEDS_CSUM;
		nb->nb_csum_start = chain->nb_csum_start;
		nb->nb_csum_offset = chain->nb_csum_off;
		pc->pc_st.ks_tx_csum++;
	}
	if (chain->nb_flags & NB_TX_TSO) {
		nb->nb_flags |= VNB_GSO_TCP4;
		nb->nb_gso_size = chain->nb_tso_mss;
		nb->nb_hdr_len = chain->nb_hdrlen;
		pc->pc_st.ks_tx_tso++;
	}
}

/* A chain of too many pieces: one copy into a flat netbuf. */
static struct netbuf *
tx_linear(struct nsk_cpu *pc, struct nb *chain)
{
	struct netbuf *nb = netbuf_alloc(nb_pktlen(chain));

	if (nb != NULL) {
		nb_copydata(chain, 0, nb_pktlen(chain), nb->nb_data);
		tx_flags(pc, chain, nb);
		pc->pc_st.ks_tx_linear++;
	}
	nb_freem(chain);
	return nb;
}

static struct netbuf *
tx_gather(struct nsk_cpu *pc, struct nb *chain)
{
	struct nsk_tx *t;
	struct nb *s;
	unsigned n = 0;

	if (nb_nsegs(chain) > NSK_TX_MAXSEG || (t = tx_get(pc)) == NULL)
		return tx_linear(pc, chain);
	for (s = chain; s != NULL; s = s->nb_next)
		if (s->nb_len > 0)
			t->t_segs[n++] =
			    (struct netbuf_seg) { s->nb_data, s->nb_len };
	t->t_chain = chain;
	t->t_nb.nb_segs = t->t_segs;
	t->t_nb.nb_nsegs = (uint16_t)n;
	t->t_nb.nb_len = nb_pktlen(chain);
	t->t_nb.nb_release = tx_release;
	tx_flags(pc, chain, &t->t_nb);
	pc->pc_st.ks_tx_gathered++;
	return &t->t_nb;
}

/* Hands one chain to the driver. */
static int
tx_send(struct nsk_cpu *pc, struct nb *chain)
{
	struct netbuf *nb = tx_gather(pc, chain);
	int err;

	if (nb == NULL) {
		pc->pc_st.ks_tx_errors++;
		return -ENOBUFS;
	}
	if (nb->nb_release != NULL)
		pc->pc_tx_inflight++; /* until tx_release hands it back */
	err = vnetif_output(vif, nb);
	if (err != 0)
		pc->pc_st.ks_tx_errors++;
	return err;
}

/* Sends what waited for room, while there is room. */
static void
tx_flush(struct nsk_cpu *pc)
{
	struct nb *chain;

	while ((chain = pc->pc_txq_head) != NULL &&
	    pc->pc_tx_inflight < pc->pc_tx_limit) {
		pc->pc_txq_head = chain->nb_nextpkt;
		chain->nb_nextpkt = NULL;
		pc->pc_txq_len--;
		tx_send(pc, chain);
	}
	if (pc->pc_txq_head == NULL)
		pc->pc_txq_tail = NULL;
}

/*
 * The netif's transmit. A burst (a thousand connections each sending
 * its initial window) would overrun the driver's pending list, which
 * then drops frames and TCP waits for a timeout: so each instance keeps
 * at most pc_tx_limit frames in the driver and queues the rest here, in
 * order, sending them as the driver hands frames back (tx_flush from
 * drain_inbox). Only past NSK_TXQ_MAX is a frame dropped.
 */
static int
nsk_transmit(struct netif *nif, struct nb *chain)
{
	struct nsk_cpu *pc = nif->nif_priv;

	if (pc->pc_txq_head == NULL && pc->pc_tx_inflight < pc->pc_tx_limit)
		return tx_send(pc, chain);
	if (pc->pc_txq_len >= NSK_TXQ_MAX) {
		pc->pc_st.ks_tx_qdrops++;
		nb_freem(chain);
		return -ENOBUFS;
	}
	chain->nb_nextpkt = NULL;
	if (pc->pc_txq_tail != NULL)
		pc->pc_txq_tail->nb_nextpkt = chain;
	else
		pc->pc_txq_head = chain;
	pc->pc_txq_tail = chain;
	pc->pc_txq_len++;
	pc->pc_st.ks_tx_queued++;
	return 0;
}

static const struct netif_ops nsk_netif_ops = { .nio_transmit = nsk_transmit };

/* ---- The thread ---- */

static void
run_work(struct nsk_cpu *pc)
{
	struct nsk_work *w;
	int budget = 100000;

	while ((w = TAILQ_FIRST(&pc->pc_work)) != NULL && budget-- > 0) {
		TAILQ_REMOVE(&pc->pc_work, w, w_link);
		w->w_queued = false;
		w->w_fn(w);
	}
}

static void
timer_fire(void *arg)
{
	struct nsk_cpu *pc = arg;

	pc->pc_st.ks_callouts++;
	if (pc->pc_timer_busy) {
		pc->pc_st.ks_callouts_busy++;
		return;
	}
	pc->pc_timer_busy = true;
	lwkt_sendmsg(pc->pc_port, &pc->pc_timer.m_msg);
}

static void
rearm(struct nsk_cpu *pc)
{
	uint64_t next = ns_next_timer(pc->pc_ns), now;

	if (next == UINT64_MAX) {
		if (pc->pc_armed_us != 0)
			callout_stop(&pc->pc_callout);
		pc->pc_armed_us = 0;
		return;
	}
	if (next == pc->pc_armed_us)
		return;
	now = arch_nanotime() / 1000;
	pc->pc_armed_us = next;
	callout_reset(&pc->pc_callout, next > now ? (next - now) * 1000 : 0,
	    timer_fire, pc);
}

static void
kick_dispatch(struct lwkt_msg *msg)
{
	struct nsk_cpu *pc = ((struct nsk_msg *)msg)->m_pc;

	lwkt_replymsg(msg, 0); /* before pc_kicked goes false */
	drain_inbox(pc);
}

static void
timer_dispatch(struct lwkt_msg *msg)
{
	struct nsk_cpu *pc = ((struct nsk_msg *)msg)->m_pc;

	lwkt_replymsg(msg, 0);
	pc->pc_timer_busy = false;
	pc->pc_armed_us = 0; /* it fired */
	pc->pc_st.ks_ticks++;
}

static void
call_dispatch(struct lwkt_msg *msg)
{
	struct nsk_msg *m = (struct nsk_msg *)msg;

	m->m_fn(m->m_pc->pc_ns, m->m_pc->pc_cpu, m->m_arg);
	run_work(m->m_pc);
	lwkt_replymsg(msg, 0);
}

/* Applies a newer published address to this instance. CPU 0's belongs to
 * the DHCP client there, which set it itself. */
static void
addr_sync(struct nsk_cpu *pc)
{
	struct nsk_addr a;
	unsigned gen;
	int err;

	if (__atomic_load_n(&addr_gen, __ATOMIC_ACQUIRE) == pc->pc_addr_gen)
		return;
	spin_lock(&addr_lock);
	a = addr;
	gen = addr_gen;
	spin_unlock(&addr_lock);
	pc->pc_addr_gen = gen;
	if (use_dhcp && pc->pc_cpu == 0)
		return;
	err = ns_set_addr(pc->pc_ns, a.na_addr, a.na_netmask, a.na_gateway);
	if (err != 0)
		log_err("net: cpu %u refused address %u.%u.%u.%u: %d",
		    pc->pc_cpu, a.na_addr >> 24, (a.na_addr >> 16) & 255,
		    (a.na_addr >> 8) & 255, a.na_addr & 255, err);
}

void
nsk_addr_publish(const struct nsk_addr *a)
{
	unsigned i;

	spin_lock(&addr_lock);
	addr = *a;
	__atomic_store_n(&addr_gen, addr_gen + 1, __ATOMIC_RELEASE);
	spin_unlock(&addr_lock);
	for (i = 0; i < ncpu; i++) {
		struct nsk_cpu *pc = cpus[i];
		bool k;

		spin_lock(&pc->pc_lock);
		k = !pc->pc_kicked;
		pc->pc_kicked = true;
		spin_unlock(&pc->pc_lock);
		if (k)
			kick(pc);
	}
	wakeup(&addr);
}

int
nsk_wait_addr(uint64_t timeout_ns)
{
	uint64_t end = arch_nanotime() + timeout_ns;

	spin_lock(&addr_lock);
	while (addr.na_addr == 0) {
		uint64_t now = arch_nanotime();
		if (now >= end) {
			spin_unlock(&addr_lock);
			return -ETIMEDOUT;
		}
		ssleep(&addr, &addr_lock, "nskaddr", end - now);
		spin_lock(&addr_lock);
	}
	spin_unlock(&addr_lock);
	return 0;
}

static void
nsk_thread(void *arg)
{
	struct nsk_cpu *pc = arg;
	struct lwkt_msg *msg;

	pc->pc_port = lwkt_thread_port();
	KKASSERT(pc->pc_port != NULL);
	wakeup(pc);
	for (;;) {
		msg = lwkt_waitport(pc->pc_port, 0);
		do {
			pc->pc_st.ks_msgs++;
			msg->ms_dispatch(msg);
		} while ((msg = lwkt_getport(pc->pc_port)) != NULL);
		addr_sync(pc);
		ns_tick(pc->pc_ns);
		run_work(pc);
		rearm(pc);
	}
}

/* ---- Set-up ---- */

static void
msg_init(struct nsk_msg *m, struct nsk_cpu *pc, struct lwkt_port *reply,
    lwkt_dispatch_t fn)
{
	lwkt_initmsg(&m->m_msg, reply, 0);
	m->m_msg.ms_dispatch = fn;
	m->m_pc = pc;
}

static void
netif_init(struct nsk_cpu *pc)
{
	struct netif *nif = &pc->pc_nif;

	nif->nif_ops = &nsk_netif_ops;
	nif->nif_priv = pc;
	memcpy(nif->nif_mac, vif->if_mac, 6);
	nif->nif_mtu = vif->if_mtu;
	/* TSO needs the device to finish the checksums too. */
	if (vif->if_offloads & VNET_OFF_TX_CSUM)
		nif->nif_caps |= NETIF_CAP_TXCSUM;
	if ((vif->if_offloads & (VNET_OFF_TX_CSUM | VNET_OFF_TSO4)) ==
	    (VNET_OFF_TX_CSUM | VNET_OFF_TSO4)) {
		nif->nif_caps |= NETIF_CAP_TSO4;
		nif->nif_tso_max = NSK_TSO_MAX;
	}
	if (vif->if_offloads & VNET_OFF_RX_CSUM)
		nif->nif_caps |= NETIF_CAP_RXCSUM;
}

static int
cpu_start(unsigned i)
{
	struct nsk_cpu *pc = kmalloc(sizeof(*pc), KM_ZERO);
	struct ns_config cfg;
	int err;

	if (pc == NULL)
		return -ENOMEM;
	cpus[i] = pc;
	pc->pc_cpu = i;
	pc->pc_lock = (struct spinlock)SPINLOCK_INIT;
	TAILQ_INIT(&pc->pc_rxq);
	TAILQ_INIT(&pc->pc_work);
	callout_init(&pc->pc_callout);
	pc->pc_tx_limit = MAX(NSK_TX_INFLIGHT / ncpu, 64u);
	lwkt_initport_replyonly(&pc->pc_replyport, NULL, "nsk-reply");
	msg_init(&pc->pc_kick, pc, &pc->pc_replyport, kick_dispatch);
	msg_init(&pc->pc_timer, pc, &pc->pc_replyport, timer_dispatch);
	nsk_platform_init(&pc->pc_plat, &pc->pc_rand, i);
	netif_init(pc);
	memset(&cfg, 0, sizeof(cfg));
	cfg.nc_addr = addr.na_addr;
	cfg.nc_netmask = addr.na_netmask;
	cfg.nc_gateway = addr.na_gateway;
	cfg.nc_cpu = i;
	cfg.nc_ncpu = ncpu;
	if ((err = ns_create(&pc->pc_plat, &pc->pc_nif, &cfg, &pc->pc_ns)) != 0)
		return err;
	err = lwkt_create(nsk_thread, pc, &pc->pc_td, (int)i, TDPRI_SOFTINT,
	    TDF_NOFPU, 0, "netisr");
	if (err != 0)
		return err;
	while (pc->pc_port == NULL)
		tsleep(pc, "nskstart", 1000000);
	return 0;
}

static int
read_config(void)
{
	const char *why = NULL, *why_gw = NULL;

	memset(&addr, 0, sizeof(addr));
	use_dhcp = cfg_ip[0] == 0 || strcmp(cfg_ip, "dhcp") == 0;
	if (use_dhcp) {
		if (cfg_gw[0] != 0) {
			log_err(
			    "net: net.gw is set but net.ip is not: with DHCP "
			    "the gateway is the server's; set both or "
			    "neither");
			return -EINVAL;
		}
		return 0;
	}
	if (nsk_parse_cidr(cfg_ip, &addr.na_addr, &addr.na_netmask, &why) !=
	    0) {
		log_err("net: bad value '%s' for net.ip: %s", cfg_ip, why);
		return -EINVAL;
	}
	if (cfg_gw[0] != 0 &&
	    nsk_parse_ip4(cfg_gw, &addr.na_gateway, &why_gw) != 0) {
		log_err("net: bad value '%s' for net.gw: %s", cfg_gw, why_gw);
		return -EINVAL;
	}
	if (nsk_check_addr(&addr, &why, &why_gw) != 0) {
		if (why != NULL)
			log_err("net: bad value '%s' for net.ip: %s", cfg_ip,
			    why);
		else
			log_err("net: bad value '%s' for net.gw: %s", cfg_gw,
			    why_gw);
		return -EINVAL;
	}
	return 0;
}

int
nsk_start(void)
{
	unsigned i;
	int err;

	KKASSERT(ncpu == 0);
	if ((err = read_config()) != 0)
		return err;
	if ((vif = vnetif_get(0)) == NULL) {
		log_err("net: no network interface");
		return -ENODEV;
	}
	nsk_platform_seed();
	ncpu = lwkt_ncpus;
	for (i = 0; i < ncpu; i++)
		if ((err = cpu_start(i)) != 0) {
			log_err("net: cannot start cpu %u's instance: %d", i,
			    err);
			return err;
		}
	vnetif_set_input(vif, nsk_rx, NULL);
	if (use_dhcp) {
		log_info("net: %s: %u protocol thread(s), address by DHCP",
		    vif->if_name, ncpu);
		return nsk_dhcp_start();
	}
	log_info("net: %s %u.%u.%u.%u/%u gateway %u.%u.%u.%u, %u protocol "
		 "thread(s), offloads%s%s%s",
	    vif->if_name, addr.na_addr >> 24, (addr.na_addr >> 16) & 255,
	    (addr.na_addr >> 8) & 255, addr.na_addr & 255,
	    (unsigned)__builtin_popcount(addr.na_netmask),
	    addr.na_gateway >> 24, (addr.na_gateway >> 16) & 255,
	    (addr.na_gateway >> 8) & 255, addr.na_gateway & 255, ncpu,
	    cpus[0]->pc_nif.nif_caps & NETIF_CAP_TXCSUM ? " txcsum" : "",
	    cpus[0]->pc_nif.nif_caps & NETIF_CAP_TSO4 ? " tso4" : "",
	    cpus[0]->pc_nif.nif_caps & NETIF_CAP_RXCSUM ? " rxcsum" : "");
	return 0;
}

/* ---- The API ---- */

unsigned
nsk_ncpu(void)
{
	return ncpu;
}

int
nsk_call(unsigned cpu, void (*fn)(struct ns *ns, unsigned cpu, void *arg),
    void *arg)
{
	struct nsk_msg m;

	if (cpu >= ncpu)
		return -EINVAL;
	msg_init(&m, cpus[cpu], lwkt_thread_port(), call_dispatch);
	m.m_fn = fn;
	m.m_arg = arg;
	return lwkt_domsg(cpus[cpu]->pc_port, &m.m_msg);
}

int
nsk_call_all(void (*fn)(struct ns *ns, unsigned cpu, void *arg), void *arg)
{
	unsigned i;
	int err, first = 0;

	for (i = 0; i < ncpu; i++)
		if ((err = nsk_call(i, fn, arg)) != 0 && first == 0)
			first = err;
	return first;
}

struct ns *
nsk_self(unsigned *cpu)
{
	unsigned c = (unsigned)mycpuid;

	KKASSERT(c < ncpu && curthread == cpus[c]->pc_td);
	if (cpu != NULL)
		*cpu = c;
	return cpus[c]->pc_ns;
}

void
nsk_work_init(struct nsk_work *w, void (*fn)(struct nsk_work *w))
{
	memset(w, 0, sizeof(*w));
	w->w_fn = fn;
}

void
nsk_defer(struct nsk_work *w)
{
	unsigned c = (unsigned)mycpuid;

	KKASSERT(c < ncpu && curthread == cpus[c]->pc_td);
	if (w->w_queued)
		return;
	w->w_queued = true;
	TAILQ_INSERT_TAIL(&cpus[c]->pc_work, w, w_link);
}

void
nsk_cancel(struct nsk_work *w)
{
	unsigned c = (unsigned)mycpuid;

	KKASSERT(c < ncpu && curthread == cpus[c]->pc_td);
	if (!w->w_queued)
		return;
	w->w_queued = false;
	TAILQ_REMOVE(&cpus[c]->pc_work, w, w_link);
}

void
nsk_get_stats(struct nsk_stats *st)
{
	unsigned i, j;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < ncpu; i++) {
		const uint64_t *s = (const uint64_t *)&cpus[i]->pc_st;
		uint64_t *d = (uint64_t *)st;
		for (j = 0; j < sizeof(*st) / sizeof(uint64_t); j++)
			d[j] += s[j];
	}
}

static void
ns_stats_add(struct ns *ns, unsigned cpu, void *arg)
{
	const uint64_t *s = (const uint64_t *)ns_stats(ns);
	uint64_t *d = arg;
	size_t i;

	_Static_assert(sizeof(struct ns_stats) % sizeof(uint64_t) == 0,
	    "struct ns_stats is counters only");
	for (i = 0; i < sizeof(struct ns_stats) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

void
nsk_get_ns_stats(struct ns_stats *st)
{
	memset(st, 0, sizeof(*st));
	nsk_call_all(ns_stats_add, st);
}

void
nsk_dump(void)
{
	uint64_t now = arch_nanotime() / 1000;
	unsigned i;

	for (i = 0; i < ncpu; i++) {
		struct nsk_cpu *pc = cpus[i];
		uint64_t next = ns_next_timer(pc->pc_ns);
		log_info("net: cpu %u: now %llu us, next timer %lld us from "
			 "now, callout for %lld us from now (%s), timer "
			 "message %s, inbox %s",
		    i, (unsigned long long)now,
		    next == UINT64_MAX ? -1LL : (long long)(next - now),
		    pc->pc_armed_us ? (long long)(pc->pc_armed_us - now) : -1LL,
		    pc->pc_callout.c_gd != NULL ? "armed" : "not armed",
		    pc->pc_timer_busy ? "in flight" : "idle",
		    pc->pc_kicked ? "kicked" : "idle");
	}
}

void
nsk_get_addr(struct nsk_addr *a)
{
	spin_lock(&addr_lock);
	*a = addr;
	spin_unlock(&addr_lock);
}

/* For the sockets (nsk_sock.c): where their messages go. */
struct lwkt_port *
nsk_port(unsigned cpu)
{
	return cpu < ncpu ? cpus[cpu]->pc_port : NULL;
}
