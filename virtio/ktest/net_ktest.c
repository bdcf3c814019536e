/*
 * In-guest tests of the virtio-net driver. vnet.echo answers every frame
 * at layer 2 (addresses swapped) until the host's end marker, then checks
 * that the driver's counters agree with what it echoed;
 * test/virtio/net_test.py sends the frames (netecho.py) and checks every
 * one comes back intact. Without an interface it checks nothing.
 */
#include <errno.h>
#include <string.h>
#include "core/ktest.h"
#include "core/kmalloc.h"
#include "sched/sched.h"
#include "virtio/virtio.h"

#define ETHERTYPE_ECHO 0x88b5
#define ETHERTYPE_END  0x88b6
#define SEC	       1000000000ULL

static struct {
	volatile uint64_t frames, bytes, big, errors;
	volatile uint64_t end_count; /* the host's count, from the marker */
	volatile bool done;
} es;

/* A gathered copy of a frame: three pieces of the original, which its
 * release frees (the driver's gathered-output path). */
struct gathered {
	struct netbuf *g_orig;
	struct netbuf_seg g_segs[3];
	struct netbuf g_nb;
};

static void
gathered_release(struct netbuf *nb)
{
	struct gathered *g = container_of(nb, struct gathered, g_nb);

	netbuf_free(g->g_orig);
	kfree(g, sizeof(*g));
}

static struct netbuf *
gather(struct netbuf *nb)
{
	struct gathered *g = kmalloc(sizeof(*g), KM_ZERO);
	uint32_t a = 14 + (nb->nb_len - 14) / 3, b = a + (nb->nb_len - a) / 2;

	if (g == NULL)
		return nb;
	g->g_orig = nb;
	g->g_segs[0] = (struct netbuf_seg) { nb->nb_data, a };
	g->g_segs[1] = (struct netbuf_seg) { nb->nb_data + a, b - a };
	g->g_segs[2] = (struct netbuf_seg) { nb->nb_data + b, nb->nb_len - b };
	g->g_nb.nb_segs = g->g_segs;
	g->g_nb.nb_nsegs = 3;
	g->g_nb.nb_len = nb->nb_len;
	g->g_nb.nb_release = gathered_release;
	return &g->g_nb;
}

static void
echo_input(struct vnetif *ifp, struct netbuf *nb, void *arg)
{
	uint8_t *p = nb->nb_data;
	uint16_t type = (uint16_t)(p[12] << 8 | p[13]);
	int err;

	if (type == ETHERTYPE_END && nb->nb_len >= 22) {
		uint64_t c;
		memcpy(&c, p + 14, 8);
		es.end_count = c;
		es.done = true;
	} else if (type == ETHERTYPE_ECHO) {
		es.frames++;
		es.bytes += nb->nb_len;
		if (nb->nb_len > 1514)
			es.big++;
	} else {
		es.errors++; /* not ours */
		netbuf_free(nb);
		return;
	}
	memcpy(p, p + 6, 6);
	memcpy(p + 6, ifp->if_mac, 6);
	if (es.frames % 2 == 0)
		nb = gather(nb); /* every other frame goes out in pieces */
	err = vnetif_output(ifp, nb);
	if (err != 0)
		es.errors++;
	if (es.done)
		wakeup(&es);
}

KTEST(vnet, echo)
{
	struct vnetif *ifp = vnetif_get(0);
	struct vnetif_stats st;
	uint64_t start, waited = 0;
	const uint8_t *m;

	if (ifp == NULL) {
		kprintf("ktest: no network interface: nothing to check\n");
		return;
	}
	memset((void *)&es, 0, sizeof(es));
	m = ifp->if_mac;
	vnetif_set_input(ifp, echo_input, NULL);
	kprintf("ktest: vnet: echo ready on %s, mac "
		"%02x:%02x:%02x:%02x:%02x:%02x, link %s\n",
	    ifp->if_name, m[0], m[1], m[2], m[3], m[4], m[5],
	    ifp->if_link_up ? "up" : "down");
	start = arch_nanotime();
	while (!es.done && waited < 600) {
		tsleep(&es, "echo", SEC);
		waited++;
	}
	KT_ASSERT(es.done);
	/* The last echoes leave the ring. */
	do {
		vnetif_get_stats(ifp, &st);
		if (st.ns_tx_packets == st.ns_rx_packets)
			break;
		tsleep(&es, "drain", SEC / 100);
	} while (arch_nanotime() - start < 700 * SEC);
	vnetif_set_input(ifp, NULL, NULL);
	KT_ASSERT_EQ(es.errors, 0);
	KT_ASSERT_EQ(es.frames, es.end_count);
	KT_ASSERT_EQ(st.ns_rx_packets, es.frames + 1);
	KT_ASSERT_EQ(st.ns_tx_packets, st.ns_rx_packets);
	KT_ASSERT_EQ(st.ns_rx_bytes, st.ns_tx_bytes);
	KT_ASSERT_EQ(st.ns_rx_dropped + st.ns_rx_errors, 0);
	KT_ASSERT_EQ(st.ns_tx_dropped + st.ns_tx_errors, 0);
	KT_ASSERT_EQ(st.ns_rxq.vqs_bad + st.ns_txq.vqs_bad, 0);
	/* Frames that fit a ring page came in it, without a copy. */
	KT_ASSERT(st.ns_rx_zerocopy > 0);
	KT_ASSERT(st.ns_rx_zerocopy + st.ns_rx_merged >= st.ns_rx_packets);
	kprintf("ktest: vnet: echoed %llu frames (%llu bytes, %llu over 1514) "
		"in %llu ms; counters agree: rx %llu tx %llu, %llu merged; rx "
		"%llu interrupts %llu polled; tx %llu kicks %llu saved\n",
	    (unsigned long long)es.frames, (unsigned long long)es.bytes,
	    (unsigned long long)es.big,
	    (unsigned long long)((arch_nanotime() - start) / 1000000),
	    (unsigned long long)st.ns_rx_packets,
	    (unsigned long long)st.ns_tx_packets,
	    (unsigned long long)st.ns_rx_merged,
	    (unsigned long long)st.ns_rxq.vqs_interrupts,
	    (unsigned long long)st.ns_rxq.vqs_polls,
	    (unsigned long long)st.ns_txq.vqs_kicks,
	    (unsigned long long)st.ns_txq.vqs_kicks_saved);
}

static int released;

static void
counted_release(struct netbuf *nb)
{
	released++;
	gathered_release(nb);
}

static struct netbuf *
counted(struct netbuf *nb)
{
	nb->nb_release = counted_release;
	return nb;
}

/* Frames the driver must refuse, and the software checksum. */
KTEST(vnet, output_checks)
{
	struct vnetif *ifp = vnetif_get(0);
	struct vnetif_stats st0, st1;
	struct netbuf *nb;

	if (ifp == NULL) {
		kprintf("ktest: no network interface: nothing to check\n");
		return;
	}
	KT_ASSERT(netbuf_alloc(VNET_MAX_FRAME + 1) == NULL);
	vnetif_get_stats(ifp, &st0);
	nb = netbuf_alloc(10);
	KT_ASSERT_EQ(vnetif_output(ifp, nb), -EMSGSIZE);
	nb = netbuf_alloc(100);
	memset(nb->nb_data, 0, 100);
	nb->nb_flags = VNB_NEEDS_CSUM;
	nb->nb_csum_start = 90;
	nb->nb_csum_offset = 9;
	KT_ASSERT_EQ(vnetif_output(ifp, nb), -EINVAL);
	if (!(ifp->if_offloads & VNET_OFF_TSO4)) {
		nb = netbuf_alloc(100);
		memset(nb->nb_data, 0, 100);
		nb->nb_flags = VNB_GSO_TCP4;
		KT_ASSERT_EQ(vnetif_output(ifp, nb), -EOPNOTSUPP);
	}
	/* A gathered frame whose pieces do not add up, and one with a
	 * piece shorter than the Ethernet header: refused, and released. */
	nb = gather(netbuf_alloc(100));
	nb->nb_len = 99;
	released = 0;
	KT_ASSERT_EQ(vnetif_output(ifp, counted(nb)), -EMSGSIZE);
	KT_ASSERT_EQ(released, 1);
	nb = gather(netbuf_alloc(100));
	((struct netbuf_seg *)nb->nb_segs)[0].ns_len = 10;
	((struct netbuf_seg *)nb->nb_segs)[1].ns_len += 32;
	KT_ASSERT_EQ(vnetif_output(ifp, counted(nb)), -EMSGSIZE);
	KT_ASSERT_EQ(released, 2);
	if (!(ifp->if_offloads & VNET_OFF_TX_CSUM)) {
		nb = gather(netbuf_alloc(100));
		nb->nb_flags = VNB_NEEDS_CSUM;
		nb->nb_csum_start = 34;
		nb->nb_csum_offset = 6;
		KT_ASSERT_EQ(vnetif_output(ifp, counted(nb)), -EINVAL);
		KT_ASSERT_EQ(released, 3);
	}
	vnetif_get_stats(ifp, &st1);
	KT_ASSERT(st1.ns_tx_errors - st0.ns_tx_errors >= 4);
	kprintf("ktest: vnet: bad output refused\n");
}
