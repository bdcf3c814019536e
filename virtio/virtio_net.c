/*
 * virtio/virtio_net.c: the virtio-net driver (virtio 1.2, section 5.1) and
 * the vnetif interface the TCP/IP stack sits on (virtio.h).
 *
 * Queues: receive (0) and transmit (1); no control queue, one pair.
 *
 * Receive: the ring is kept full of one-page buffers the driver owns.
 * With VIRTIO_NET_F_MRG_RXBUF a frame may span several (num_buffers in
 * its header), so large receives (GUEST_TSO, or a host that sends big
 * frames) need no 64 KiB buffers. A frame in one page is handed over in
 * that page: the page starts with room for a netbuf header, the netbuf is
 * made there (nb_release frees the page) and a new page takes its place
 * on the ring. A frame of several pages (or when no page is free) is
 * copied into a netbuf of its size and the pages go straight back.
 *
 * Transmit: vnetif_output() runs in the caller's context: under the
 * transmit lock it puts the frame on the ring (header from a per-head DMA
 * array, then the frame's buffer, or a gathered frame's pieces as one
 * descriptor chain) or on a bounded pending list. Completed frames are
 * freed by the driver's thread (netbuf_free: a gathered frame goes back
 * to its sender through nb_release).
 *
 * Offloads: asked for only where used: CSUM and HOST_TSO4/6 for output
 * (VNB_NEEDS_CSUM, VNB_GSO_*), GUEST_CSUM and GUEST_TSO4/6 for input (only
 * with MRG_RXBUF, so no 64 KiB buffers are needed). A checksum the device
 * cannot do is done in software. QEMU's dgram and socket backends offer
 * none of them (no vnet header on that path); tap does.
 *
 * The thread (TDPRI_INT) is woken by the queues' interrupts and by
 * config changes (link status). Under load it polls the receive ring with
 * interrupts off, VNET_BUDGET frames per pass, yielding between passes;
 * idle, it turns interrupts on and sleeps.
 *
 * Distrust: a receive header is checked (buffer count, checksum offsets
 * inside the frame, GSO types that were negotiated) and a bad one drops
 * the frame (ns_rx_errors); a frame whose buffers are not all there, or a
 * used ring that breaks the rules (virtqueue.c), breaks the device: it is
 * reset and every later output fails with -EIO. Config values out of
 * range (MTU) are reported and ignored.
 *
 * Locks: n_txlock guards the transmit queue, the pending list and the
 * transmit counters; the receive queue and counters belong to the thread.
 *
 * Interface: virtio.h (netif_*, netbuf_*).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_net.h>
#include "arch/arch.h"
#include "core/kmalloc.h"
#include "core/page.h"
#include "sched/sched.h"
#include "virtio/virtio_internal.h"

#define VNET_MAX_IFS	8
#define VNET_RXQ	0
#define VNET_TXQ	1
#define VNET_QUEUE_SIZE 256
#define VNET_BUF	4096
#define VNET_BUDGET	64
#define VNET_TX_PENDING 1024
/* A receive page starts with room for its netbuf header: a frame that
 * fits one page is handed over in it (no copy). */
#define VNET_RXOFF     ROUNDUP(sizeof(struct netbuf), 64)
#define VNET_RXLEN     (VNET_BUF - VNET_RXOFF)
#define VNET_MAX_MERGE ((VNET_MAX_FRAME + 12) / VNET_RXLEN + 2)
#define ETH_HLEN_MIN   14

struct vnet {
	struct vnetif n_if;
	struct virtio_dev *n_dev;
	struct virtqueue *n_rxq, *n_txq;
	unsigned n_hdr_len; /* 12, or 10 for legacy without MRG_RXBUF */
	bool n_mrg;
	struct thread *n_td;
	vnetif_input_t n_input;
	void *n_input_arg;
	volatile bool n_broken;
	volatile bool n_config_pending;
	/* The thread's: the receive pages (cookies on the ring). */
	uint8_t **n_rxpages;
	/* Guarded by n_txlock. */
	struct spinlock n_txlock;
	struct virtio_net_hdr_v1 *n_txhdr; /* by head */
	unsigned n_txhdr_order;
	TAILQ_HEAD(, netbuf) n_txpend;
	unsigned n_ntxpend;
	/* Receive counters (thread), transmit counters (n_txlock). */
	struct vnetif_stats n_st;
};

static struct vnet *ifs[VNET_MAX_IFS];
static int nifs;

/* ---- Frames ---- */

struct netbuf *
netbuf_alloc(uint32_t len)
{
	struct netbuf *nb;

	if (len > VNET_MAX_FRAME)
		return NULL;
	nb = kmalloc(sizeof(*nb) + len, 0);
	if (nb == NULL)
		return NULL;
	memset(nb, 0, sizeof(*nb));
	nb->nb_data = nb->nb_buf;
	nb->nb_len = len;
	nb->nb_size = len;
	return nb;
}

void
netbuf_free(struct netbuf *nb)
{
	if (nb == NULL)
		return;
	if (nb->nb_release != NULL)
		nb->nb_release(nb);
	else
		kfree(nb, sizeof(*nb) + nb->nb_size);
}

static bool
frame_fits(const struct netbuf *nb)
{
	uint64_t sum = 0;
	unsigned i;

	if (nb->nb_segs == NULL)
		return nb->nb_data >= nb->nb_buf &&
		    nb->nb_data + nb->nb_len <= nb->nb_buf + nb->nb_size;
	if (nb->nb_nsegs == 0 || nb->nb_segs[0].ns_len < ETH_HLEN_MIN)
		return false;
	for (i = 0; i < nb->nb_nsegs; i++)
		sum += nb->nb_segs[i].ns_len;
	return sum == nb->nb_len;
}

/* The Internet checksum of [start, len), folded into start + offset. */
static void
csum_sw(struct netbuf *nb)
{
	uint8_t *p = nb->nb_data;
	uint32_t i, end = nb->nb_len,
		    at = nb->nb_csum_start + nb->nb_csum_offset;
	uint64_t sum = 0;

	p[at] = p[at + 1] = 0;
	for (i = nb->nb_csum_start; i + 1 < end; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < end)
		sum += (uint32_t)(p[i] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	p[at] = (uint8_t)(sum >> 8);
	p[at + 1] = (uint8_t)sum;
	nb->nb_flags &= ~VNB_NEEDS_CSUM;
}

/* ---- Breaking ---- */

static void
vnet_break(struct vnet *n, const char *why)
{
	struct netbuf *nb;
	TAILQ_HEAD(, netbuf) dead;

	if (__atomic_exchange_n(&n->n_broken, true, __ATOMIC_ACQ_REL))
		return;
	log_err("virtio-net %s: broken (%s): resetting the device; output "
		"fails with -EIO from now on",
	    n->n_if.if_name, why);
	virtio_reset(n->n_dev);
	n->n_st.ns_resets++;
	n->n_if.if_link_up = false;
	TAILQ_INIT(&dead);
	spin_lock(&n->n_txlock);
	vq_break(n->n_txq, "device reset");
	while ((nb = vq_detach(n->n_txq)) != NULL)
		TAILQ_INSERT_TAIL(&dead, nb, nb_link);
	while ((nb = TAILQ_FIRST(&n->n_txpend)) != NULL) {
		TAILQ_REMOVE(&n->n_txpend, nb, nb_link);
		TAILQ_INSERT_TAIL(&dead, nb, nb_link);
	}
	n->n_ntxpend = 0;
	spin_unlock(&n->n_txlock);
	vq_break(n->n_rxq, "device reset");
	while ((nb = TAILQ_FIRST(&dead)) != NULL) {
		TAILQ_REMOVE(&dead, nb, nb_link);
		netbuf_free(nb);
	}
}

/* ---- Receive ---- */

static int
rx_post(struct vnet *n, uint8_t *page)
{
	struct vq_seg s = { arch_virt_to_phys(page + VNET_RXOFF), VNET_RXLEN,
		true };

	return vq_add(n->n_rxq, &s, 1, page);
}

/* Checks the header and sets the frame's offload flags; false: drop. */
static bool
rx_header(struct vnet *n, const struct virtio_net_hdr_v1 *h, struct netbuf *nb)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (nb->nb_len < ETH_HLEN_MIN)
		return false;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t start = vq_le16(h->csum_start);
		uint32_t off = vq_le16(h->csum_offset);
		if (!virtio_has(n->n_dev, VIRTIO_NET_F_GUEST_CSUM) ||
		    start + off + 2 > nb->nb_len)
			return false;
		nb->nb_flags |= VNB_NEEDS_CSUM;
		nb->nb_csum_start = (uint16_t)start;
		nb->nb_csum_offset = (uint16_t)off;
	} else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		nb->nb_flags |= VNB_CSUM_VALID;
	}
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 &&
	    virtio_has(n->n_dev, VIRTIO_NET_F_GUEST_TSO4))
		nb->nb_flags |= VNB_GSO_TCP4;
	else if (gso == VIRTIO_NET_HDR_GSO_TCPV6 &&
	    virtio_has(n->n_dev, VIRTIO_NET_F_GUEST_TSO6))
		nb->nb_flags |= VNB_GSO_TCP6;
	else
		return false;
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		nb->nb_flags |= VNB_GSO_ECN;
	nb->nb_gso_size = vq_le16(h->gso_size);
	nb->nb_hdr_len = vq_le16(h->hdr_len);
	return nb->nb_gso_size != 0;
}

/* Gathers the buffers of one frame (the first is given). Returns their
 * count, 0 for a frame to drop, -1 when the device broke the rules. */
static int
rx_gather(struct vnet *n, uint8_t *first, uint32_t len, uint8_t **pages,
    uint32_t *lens, struct virtio_net_hdr_v1 *h)
{
	unsigned want = 1, i;

	if (len < n->n_hdr_len)
		return 0;
	memcpy(h, first + VNET_RXOFF, n->n_hdr_len);
	if (n->n_hdr_len < sizeof(*h))
		h->num_buffers = 1;
	if (n->n_mrg)
		want = vq_le16(h->num_buffers);
	if (want == 0 || want > VNET_MAX_MERGE) {
		log_err("virtio-net %s: frame of %u buffers", n->n_if.if_name,
		    want);
		return -1;
	}
	pages[0] = first;
	lens[0] = len;
	for (i = 1; i < want; i++) {
		pages[i] = vq_get_used(n->n_rxq, &lens[i]);
		if (pages[i] == NULL) {
			log_err("virtio-net %s: frame of %u buffers, %u "
				"arrived",
			    n->n_if.if_name, want, i);
			return -(int)i - 1;
		}
	}
	return (int)want;
}

static struct netbuf *
rx_copy(struct vnet *n, uint8_t **pages, uint32_t *lens, int cnt)
{
	uint64_t total = lens[0] - n->n_hdr_len;
	struct netbuf *nb;
	uint8_t *p;
	int i;

	for (i = 1; i < cnt; i++)
		total += lens[i];
	if (total > VNET_MAX_FRAME ||
	    (nb = netbuf_alloc((uint32_t)total)) == NULL)
		return NULL;
	p = nb->nb_data;
	memcpy(p, pages[0] + VNET_RXOFF + n->n_hdr_len, lens[0] - n->n_hdr_len);
	p += lens[0] - n->n_hdr_len;
	for (i = 1; i < cnt; i++) {
		memcpy(p, pages[i] + VNET_RXOFF, lens[i]);
		p += lens[i];
	}
	return nb;
}

static void
rx_page_release(struct netbuf *nb)
{
	page_free(nb, 0);
}

/*
 * A frame in one page becomes a netbuf in that page (its header in the
 * room before the buffer), and a new page takes its place on the ring;
 * NULL when there is no page to spare (the frame is copied then).
 */
static struct netbuf *
rx_take(struct vnet *n, uint8_t *page, uint32_t len, uint8_t **repl)
{
	struct netbuf *nb = (struct netbuf *)page;

	if ((*repl = page_alloc(0)) == NULL)
		return NULL;
	memset(nb, 0, sizeof(*nb));
	nb->nb_size = VNET_BUF - offsetof(struct netbuf, nb_buf);
	nb->nb_data = page + VNET_RXOFF + n->n_hdr_len;
	nb->nb_len = len - n->n_hdr_len;
	nb->nb_release = rx_page_release;
	n->n_st.ns_rx_zerocopy++;
	return nb;
}

static void
rx_deliver(struct vnet *n, struct netbuf *nb)
{
	n->n_st.ns_rx_packets++;
	n->n_st.ns_rx_bytes += nb->nb_len;
	if (n->n_input == NULL) {
		n->n_st.ns_rx_dropped++;
		netbuf_free(nb);
		return;
	}
	n->n_input(&n->n_if, nb, n->n_input_arg);
}

/* One frame off the ring, if there is one: 1, 0 (none), -1 (broken). */
static int
rx_one(struct vnet *n)
{
	uint8_t *pages[VNET_MAX_MERGE];
	uint32_t lens[VNET_MAX_MERGE];
	struct virtio_net_hdr_v1 h;
	struct netbuf *nb = NULL;
	uint8_t *first, *repost;
	uint32_t len;
	int cnt, i;

	if ((first = vq_get_used(n->n_rxq, &len)) == NULL)
		return n->n_rxq->vq_broken ? -1 : 0;
	cnt = rx_gather(n, first, len, pages, lens, &h);
	if (cnt < 0)
		return -1; /* the pages stay the device's until the reset */
	repost = first;
	if (cnt == 1)
		nb = rx_take(n, first, len, &repost);
	if (nb == NULL) {
		repost = first;
		if (cnt > 0)
			nb = rx_copy(n, pages, lens, cnt);
	}
	if (nb != NULL && !rx_header(n, &h, nb)) {
		netbuf_free(nb);
		nb = NULL;
	}
	for (i = 0; i < MAX(cnt, 1); i++)
		rx_post(n, i == 0 ? repost : pages[i]);
	if (cnt > 1)
		n->n_st.ns_rx_merged++;
	if (nb == NULL) {
		n->n_st.ns_rx_errors++;
		return 1;
	}
	rx_deliver(n, nb);
	return 1;
}

static int
rx_harvest(struct vnet *n, bool *broken)
{
	int got = 0, r = 0;

	while (got < VNET_BUDGET && (r = rx_one(n)) > 0)
		got++;
	if (r < 0)
		*broken = true;
	if (got > 0 && vq_kick_prepare(n->n_rxq))
		vq_notify(n->n_rxq);
	return got;
}

/* ---- Transmit ---- */

static void
tx_header(struct vnet *n, const struct netbuf *nb, struct virtio_net_hdr_v1 *h)
{
	memset(h, 0, sizeof(*h));
	if (nb->nb_flags & VNB_NEEDS_CSUM) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = vq_le16(nb->nb_csum_start);
		h->csum_offset = vq_le16(nb->nb_csum_offset);
	}
	if (nb->nb_flags & (VNB_GSO_TCP4 | VNB_GSO_TCP6)) {
		h->gso_type = (nb->nb_flags & VNB_GSO_TCP4) ?
		    VIRTIO_NET_HDR_GSO_TCPV4 :
		    VIRTIO_NET_HDR_GSO_TCPV6;
		if (nb->nb_flags & VNB_GSO_ECN)
			h->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
		h->gso_size = vq_le16(nb->nb_gso_size);
		h->hdr_len = vq_le16(nb->nb_hdr_len);
	}
}

/* Puts nb on the ring. Caller holds n_txlock. 0, -ENOSPC or -errno. */
static int
tx_submit(struct vnet *n, struct netbuf *nb)
{
	struct vq_seg segs[VQ_INDIRECT_MAX];
	uint16_t head = vq_next_head(n->n_txq);
	struct virtio_net_hdr_v1 *h = &n->n_txhdr[head];
	int cnt,
	    max = n->n_txq->vq_indirect ? VQ_INDIRECT_MAX : n->n_txq->vq_num;

	if (vq_room(n->n_txq) == 0)
		return -ENOSPC;
	tx_header(n, nb, h);
	segs[0].vs_addr = arch_virt_to_phys(h);
	segs[0].vs_len = n->n_hdr_len;
	segs[0].vs_write = false;
	max = MIN(max, VQ_INDIRECT_MAX);
	if (nb->nb_segs == NULL) {
		cnt = vq_sg_add(segs, 1, max, nb->nb_data, nb->nb_len, false,
		    UINT32_MAX);
	} else {
		unsigned i;
		for (i = 0, cnt = 1; i < nb->nb_nsegs && cnt >= 0; i++)
			cnt = vq_sg_add(segs, cnt, max, nb->nb_segs[i].ns_base,
			    nb->nb_segs[i].ns_len, false, UINT32_MAX);
	}
	if (cnt < 0)
		return cnt;
	return vq_add(n->n_txq, segs, cnt, nb);
}

static int
tx_check(struct vnet *n, struct netbuf *nb)
{
	uint32_t off = n->n_if.if_offloads;

	if (nb->nb_len < ETH_HLEN_MIN || nb->nb_len > VNET_MAX_FRAME ||
	    !frame_fits(nb))
		return -EMSGSIZE;
	if (((nb->nb_flags & VNB_GSO_TCP4) && !(off & VNET_OFF_TSO4)) ||
	    ((nb->nb_flags & VNB_GSO_TCP6) && !(off & VNET_OFF_TSO6)))
		return -EOPNOTSUPP;
	if (nb->nb_flags & VNB_NEEDS_CSUM) {
		if ((uint32_t)nb->nb_csum_start + nb->nb_csum_offset + 2 >
		    nb->nb_len)
			return -EINVAL;
		if (!(off & VNET_OFF_TX_CSUM)) {
			if (nb->nb_segs != NULL)
				return -EINVAL;
			csum_sw(nb);
			__atomic_add_fetch(&n->n_st.ns_tx_csum_sw, 1,
			    __ATOMIC_RELAXED);
		}
	}
	return 0;
}

int
vnetif_output(struct vnetif *ifp, struct netbuf *nb)
{
	struct vnet *n = ifp->if_softc;
	bool kick = false;
	int err = tx_check(n, nb);

	spin_lock(&n->n_txlock);
	if (err == 0 && n->n_broken)
		err = -EIO;
	if (err == 0 &&
	    (!TAILQ_EMPTY(&n->n_txpend) ||
		(err = tx_submit(n, nb)) == -ENOSPC)) {
		err = 0;
		if (n->n_ntxpend >= VNET_TX_PENDING) {
			err = -ENOBUFS;
		} else {
			TAILQ_INSERT_TAIL(&n->n_txpend, nb, nb_link);
			n->n_ntxpend++;
		}
	}
	if (err == 0)
		kick = vq_kick_prepare(n->n_txq);
	else if (err == -ENOBUFS)
		n->n_st.ns_tx_dropped++;
	else
		n->n_st.ns_tx_errors++;
	spin_unlock(&n->n_txlock);
	if (kick)
		vq_notify(n->n_txq);
	if (err != 0)
		netbuf_free(nb);
	return err;
}

/* Frees sent frames and moves pending ones to the ring. */
static int
tx_harvest(struct vnet *n, bool *broken)
{
	TAILQ_HEAD(, netbuf) done;
	struct netbuf *nb;
	uint32_t len;
	bool kick;
	int got = 0;

	TAILQ_INIT(&done);
	spin_lock(&n->n_txlock);
	while ((nb = vq_get_used(n->n_txq, &len)) != NULL) {
		n->n_st.ns_tx_packets++;
		n->n_st.ns_tx_bytes += nb->nb_len;
		TAILQ_INSERT_TAIL(&done, nb, nb_link);
		got++;
	}
	while ((nb = TAILQ_FIRST(&n->n_txpend)) != NULL) {
		int err = tx_submit(n, nb);
		if (err == -ENOSPC)
			break;
		TAILQ_REMOVE(&n->n_txpend, nb, nb_link);
		n->n_ntxpend--;
		if (err != 0) {
			n->n_st.ns_tx_errors++;
			TAILQ_INSERT_TAIL(&done, nb, nb_link);
		}
	}
	kick = vq_kick_prepare(n->n_txq);
	*broken |= n->n_txq->vq_broken;
	spin_unlock(&n->n_txlock);
	if (kick)
		vq_notify(n->n_txq);
	while ((nb = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, nb, nb_link);
		netbuf_free(nb);
	}
	return got;
}

/* ---- The thread ---- */

static void
link_check(struct vnet *n)
{
	uint16_t st = VIRTIO_NET_S_LINK_UP;
	bool up;

	n->n_config_pending = false;
	if (virtio_has(n->n_dev, VIRTIO_NET_F_STATUS))
		virtio_read_config(n->n_dev,
		    offsetof(struct virtio_net_config, status), &st,
		    sizeof(st));
	up = (vq_le16(st) & VIRTIO_NET_S_LINK_UP) != 0;
	if (up != n->n_if.if_link_up) {
		n->n_if.if_link_up = up;
		n->n_st.ns_link_changes++;
		log_info("virtio-net %s: link %s", n->n_if.if_name,
		    up ? "up" : "down");
	}
}

static void
vnet_wake(struct virtqueue *vq)
{
	wakeup(vq->vq_priv);
}

static void
vnet_config_changed(struct virtio_dev *d)
{
	struct vnet *n = d->vd_priv;

	n->n_config_pending = true;
	wakeup(n);
}

static void
idle_wait(struct vnet *n)
{
	bool quiet;

	tsleep_interlock(n, "vnet");
	quiet = vq_enable_intr(n->n_rxq);
	spin_lock(&n->n_txlock);
	quiet &= vq_enable_intr(n->n_txq);
	spin_unlock(&n->n_txlock);
	if (!quiet || n->n_config_pending) {
		tsleep_interlock_cancel();
		return;
	}
	tsleep_interlocked(n, 0);
	vq_disable_intr(n->n_rxq);
}

static void
vnet_thread(void *arg)
{
	struct vnet *n = arg;
	bool broken;
	int r, t;

	for (;;) {
		if (n->n_broken) {
			tsleep(n, "vnetdead", 0);
			continue;
		}
		if (n->n_config_pending)
			link_check(n);
		broken = false;
		r = rx_harvest(n, &broken);
		t = tx_harvest(n, &broken);
		if (broken) {
			vnet_break(n,
			    n->n_rxq->vq_broken_why ?
				n->n_rxq->vq_broken_why :
				n->n_txq->vq_broken_why ?
				n->n_txq->vq_broken_why :
				"a frame's buffers did not all arrive");
			continue;
		}
		if (r == VNET_BUDGET)
			lwkt_yield(); /* polling under load */
		else if (r == 0 && t == 0)
			idle_wait(n);
	}
}

/* ---- Probe ---- */

static uint64_t
wanted_features(uint64_t offered)
{
	uint64_t w = (1ULL << VIRTIO_NET_F_MAC) |
	    (1ULL << VIRTIO_NET_F_STATUS) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
	    (1ULL << VIRTIO_NET_F_MTU) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
	    (1ULL << VIRTIO_RING_F_INDIRECT_DESC);

	if (offered & (1ULL << VIRTIO_NET_F_CSUM))
		w |= (1ULL << VIRTIO_NET_F_CSUM) |
		    (1ULL << VIRTIO_NET_F_HOST_TSO4) |
		    (1ULL << VIRTIO_NET_F_HOST_TSO6);
	/* Large receives only into merged buffers, never 64 KiB ones. */
	if ((offered & (1ULL << VIRTIO_NET_F_MRG_RXBUF)) &&
	    (offered & (1ULL << VIRTIO_NET_F_GUEST_CSUM)))
		w |= (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
		    (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
		    (1ULL << VIRTIO_NET_F_GUEST_TSO6);
	return w;
}

static void
read_config(struct vnet *n)
{
	struct virtio_dev *d = n->n_dev;
	struct virtio_net_config c;

	memset(&c, 0, sizeof(c));
	virtio_read_config(d, 0, &c, offsetof(struct virtio_net_config, speed));
	if (virtio_has(d, VIRTIO_NET_F_MAC)) {
		memcpy(n->n_if.if_mac, c.mac, 6);
	} else {
		uint64_t r = arch_random_u64();
		memcpy(n->n_if.if_mac, &r, 6);
		n->n_if.if_mac[0] = (uint8_t)((n->n_if.if_mac[0] & ~1) | 2);
	}
	n->n_if.if_mtu = 1500;
	if (virtio_has(d, VIRTIO_NET_F_MTU)) {
		uint16_t mtu = vq_le16(c.mtu);
		if (mtu < 68)
			log_err("virtio-net %s: config mtu = %u is out of "
				"range; using 1500",
			    n->n_if.if_name, mtu);
		else
			n->n_if.if_mtu = mtu;
	}
	n->n_if.if_offloads =
	    (virtio_has(d, VIRTIO_NET_F_CSUM) ? VNET_OFF_TX_CSUM : 0) |
	    (virtio_has(d, VIRTIO_NET_F_GUEST_CSUM) ? VNET_OFF_RX_CSUM : 0) |
	    (virtio_has(d, VIRTIO_NET_F_HOST_TSO4) ? VNET_OFF_TSO4 : 0) |
	    (virtio_has(d, VIRTIO_NET_F_HOST_TSO6) ? VNET_OFF_TSO6 : 0) |
	    (virtio_has(d, VIRTIO_NET_F_GUEST_TSO4) ||
			virtio_has(d, VIRTIO_NET_F_GUEST_TSO6) ?
		    VNET_OFF_LRO :
		    0);
}

static int
setup_rx(struct vnet *n)
{
	unsigned i, num = n->n_rxq->vq_num;

	n->n_rxpages = kmalloc(sizeof(uint8_t *) * num, KM_ZERO);
	if (n->n_rxpages == NULL)
		return -ENOMEM;
	for (i = 0; i < num; i++) {
		if ((n->n_rxpages[i] = page_alloc(0)) == NULL)
			return -ENOMEM;
		if (rx_post(n, n->n_rxpages[i]) != 0)
			return -EIO;
	}
	return 0;
}

static int
vnet_setup(struct vnet *n)
{
	struct virtio_dev *d = n->n_dev;
	int err;

	err = virtio_negotiate(d, wanted_features(d->vd_ops->get_features(d)));
	if (err != 0)
		return err;
	n->n_mrg = virtio_has(d, VIRTIO_NET_F_MRG_RXBUF);
	n->n_hdr_len = n->n_mrg || !d->vd_legacy ?
	    sizeof(struct virtio_net_hdr_v1) :
	    sizeof(struct virtio_net_hdr);
	read_config(n);
	if ((err = virtio_add_vq(d, VNET_RXQ, VNET_QUEUE_SIZE, 0, vnet_wake, n,
		 &n->n_rxq)) != 0 ||
	    (err = virtio_add_vq(d, VNET_TXQ, VNET_QUEUE_SIZE, 0, vnet_wake, n,
		 &n->n_txq)) != 0)
		return err;
	n->n_txhdr_order =
	    page_order_for(sizeof(struct virtio_net_hdr_v1) * n->n_txq->vq_num);
	if ((n->n_txhdr = page_alloc(n->n_txhdr_order)) == NULL)
		return -ENOMEM;
	if ((err = setup_rx(n)) != 0)
		return err;
	d->vd_config_changed = vnet_config_changed;
	if ((err = d->vd_ops->setup_intr(d)) != 0)
		return err;
	virtio_driver_ok(d);
	link_check(n);
	if (vq_kick_prepare(n->n_rxq))
		vq_notify(n->n_rxq);
	return lwkt_create(vnet_thread, n, &n->n_td, nifs % (int)lwkt_ncpus,
	    TDPRI_INT, TDF_NOFPU, 0, n->n_if.if_name);
}

static void
vnet_free(struct vnet *n)
{
	unsigned i;

	virtio_reset(n->n_dev);
	if (n->n_rxpages != NULL) {
		for (i = 0; i < n->n_rxq->vq_num; i++)
			if (n->n_rxpages[i] != NULL)
				page_free(n->n_rxpages[i], 0);
		kfree(n->n_rxpages, sizeof(uint8_t *) * n->n_rxq->vq_num);
	}
	if (n->n_txhdr != NULL)
		page_free(n->n_txhdr, n->n_txhdr_order);
	virtio_free_vqs(n->n_dev);
	kfree(n, sizeof(*n));
}

int
vnet_probe(struct virtio_dev *d)
{
	struct vnet *n;
	int err;

	if (nifs == VNET_MAX_IFS)
		return -ENOSPC;
	if ((n = kmalloc(sizeof(*n), KM_ZERO)) == NULL)
		return -ENOMEM;
	n->n_dev = d;
	d->vd_priv = n;
	n->n_if.if_softc = n;
	n->n_txlock = (struct spinlock)SPINLOCK_INIT;
	TAILQ_INIT(&n->n_txpend);
	snprintf(n->n_if.if_name, sizeof(n->n_if.if_name), "vn%d", nifs);
	if ((err = vnet_setup(n)) != 0) {
		d->vd_config_changed = NULL;
		vnet_free(n);
		return err;
	}
	ifs[nifs++] = n;
	log_info("virtio-net %s: %s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu "
		 "%u, link %s, offloads %#x, %s, %s interrupts",
	    n->n_if.if_name, d->vd_where, n->n_if.if_mac[0], n->n_if.if_mac[1],
	    n->n_if.if_mac[2], n->n_if.if_mac[3], n->n_if.if_mac[4],
	    n->n_if.if_mac[5], n->n_if.if_mtu,
	    n->n_if.if_link_up ? "up" : "down", n->n_if.if_offloads,
	    n->n_mrg ? "merged rx buffers" : "single rx buffers",
	    d->vd_intr_mode);
	return 0;
}

/* ---- The API ---- */

int
vnetif_count(void)
{
	return nifs;
}

struct vnetif *
vnetif_get(int i)
{
	return i >= 0 && i < nifs ? &ifs[i]->n_if : NULL;
}

void
vnetif_set_input(struct vnetif *ifp, vnetif_input_t fn, void *arg)
{
	struct vnet *n = ifp->if_softc;

	n->n_input_arg = arg;
	__atomic_store_n(&n->n_input, fn, __ATOMIC_RELEASE);
}

void
vnetif_get_stats(struct vnetif *ifp, struct vnetif_stats *st)
{
	struct vnet *n = ifp->if_softc;

	*st = n->n_st;
	st->ns_rxq = n->n_rxq->vq_st;
	st->ns_txq = n->n_txq->vq_st;
}
