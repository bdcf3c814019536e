/*
 * netif.h: what the protocol core needs from a network interface.
 *
 * A netif is a device (virtio-net in the kernel, a fake one in tests) seen
 * from one instance: its MAC address, its MTU, the offloads it does, a
 * transmit function and counters. In the kernel each protocol thread gets
 * its own struct netif over the shared device (one transmit queue each
 * with multiqueue virtio-net), so no counter here is shared between
 * threads.
 *
 * Receive is the other direction: the driver hands each frame to the
 * owning instance with ns_input() (netstack.h), choosing the instance with
 * ns_steer() or the device's RSS hash.
 *
 * Offloads use the virtio-net header's meanings, so a driver maps them
 * one to one:
 *  - NETIF_CAP_TXCSUM: the stack may leave a TCP or UDP checksum to the
 *    device. It sets NB_TX_CSUM on the frame, nb_csum_start (offset of the
 *    L4 header from the start of the frame), nb_csum_off (offset of the
 *    checksum field from csum_start), and puts the pseudo-header sum in
 *    the field. The device sums from csum_start to the end and stores the
 *    complement there (VIRTIO_NET_HDR_F_NEEDS_CSUM).
 *  - NETIF_CAP_TSO4: the stack may hand a TCP frame of up to nif_tso_max
 *    payload bytes with NB_TX_TSO, nb_tso_mss and nb_hdrlen set (and
 *    NB_TX_CSUM); the device cuts it into nb_tso_mss pieces, each with the
 *    headers copied, sequence numbers, IP lengths, IDs and checksums
 *    fixed, FIN and PSH only on the last (VIRTIO_NET_HDR_GSO_TCPV4).
 *  - NETIF_CAP_RXCSUM: the device may set NB_RX_CSUM_OK on a received
 *    frame when it checked the TCP or UDP checksum
 *    (VIRTIO_NET_HDR_F_DATA_VALID); the stack then skips its own check.
 *
 * Interface:
 *  - nio_transmit takes the frame (a chain whose first byte is the
 *    Ethernet header) in every case, sent or not. It returns 0 or a
 *    negative errno (-ENOBUFS when the ring is full); the stack counts a
 *    failure as a drop and lets the protocol recover (TCP retransmits).
 *  - The frame's segments may reference storage the stack still holds
 *    (retransmission queue); the driver must not write into it and must
 *    free the chain (nb_freem) on the instance's thread when done.
 *  - nif_mtu is the largest IP packet (1500 on Ethernet); 68 at least.
 *  - The stack updates nif_stats' tx_* and rx_* counters; the driver adds
 *    its own errors there.
 */
#ifndef NETSTACK_NETIF_H
#define NETSTACK_NETIF_H

#include <stdint.h>

#include "netstack/nb.h"

struct netif;

struct netif_ops {
	int (*nio_transmit)(struct netif *nif, struct nb *frame);
};

struct netif_stats {
	uint64_t ns_rx_frames;
	uint64_t ns_rx_bytes;
	uint64_t ns_tx_frames;
	uint64_t ns_tx_bytes;
	uint64_t ns_tx_errors; /* nio_transmit failed */
	uint64_t ns_tx_tso;    /* frames handed with NB_TX_TSO */
	uint64_t ns_tx_csum;   /* frames handed with NB_TX_CSUM */
};

struct netif {
	const struct netif_ops *nif_ops;
	void *nif_priv; /* the driver's */
	uint8_t nif_mac[6];
	uint16_t nif_mtu;
	uint32_t nif_caps;    /* NETIF_CAP_* */
	uint32_t nif_tso_max; /* NETIF_CAP_TSO4: payload bytes at most */
	struct netif_stats nif_stats;
};

#define NETIF_CAP_TXCSUM 0x1
#define NETIF_CAP_TSO4	 0x2
#define NETIF_CAP_RXCSUM 0x4

#endif /* NETSTACK_NETIF_H */
