/*
 * virtio/virtio.h: virtio devices: the virtio-mmio (microvm) and
 * virtio-pci (q35) transports, split virtqueues, and the block, network
 * and entropy drivers. Each block device is served through a message
 * port; see virtio/DESIGN.md for how the pieces fit.
 *
 * QEMU flags the drivers expect:
 *   microvm: -device virtio-blk-device,drive=D  -device virtio-net-device,
 *            netdev=N  -device virtio-rng-device  (legacy virtio-mmio by
 *            default; -global virtio-mmio.force-legacy=false for version 2)
 *   q35:     the -pci variants (modern; disable-legacy=on is fine), MSI-X
 *            with a vector per queue, INTx when vectors=0.
 *
 * Interface:
 *  - virtio_init() once, from core/init.c after the other CPUs run; it
 *    finds every device and starts its driver. Devices that fail their
 *    checks are logged and left out.
 *  - Block devices: send a struct vblk_msg to vblk_port(d) (lwkt_domsg or
 *    lwkt_sendmsg); any thread, any CPU, many in flight. ms_error is 0 or:
 *      -EINVAL  malformed: offset or length not a multiple of the block
 *               size, no data, too many segments, an unknown operation
 *      -ENXIO   the range runs past the end of the disk
 *      -EROFS   write or discard on a read-only disk
 *      -EOPNOTSUPP discard on a disk that does not offer it
 *      -EFAULT  a buffer that is not mapped
 *      -EIO     the device failed the request, or its queue is broken
 *    Buffers may be anywhere in RAM or on a kernel stack; they belong to
 *    the driver until the reply.
 *  - A broken device (it broke the ring protocol) is reset and every
 *    request on it, then and later, fails with -EIO; other devices run on.
 *  - Network interfaces (netif_*): frames in through a callback in the
 *    driver's thread, out through vnetif_output() from any thread.
 *  - Random bytes: vrng_read() blocks until it has them (or -ENODEV).
 *  - Statistics are counters only the driver writes; read them any time.
 */
#ifndef VIRTIO_VIRTIO_H
#define VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/queue.h"
#include "msgport/msgport.h"

void virtio_init(void);

/* ---- Per-queue statistics ---- */
struct vq_stats {
	uint64_t vqs_added;	  /* requests handed to the device */
	uint64_t vqs_completed;	  /* requests it gave back */
	uint64_t vqs_indirect;	  /* requests that used an indirect table */
	uint64_t vqs_kicks;	  /* notifications sent */
	uint64_t vqs_kicks_saved; /* notifications the device did not need */
	uint64_t vqs_interrupts;  /* interrupts for this queue */
	uint64_t vqs_polls;	  /* completions found by polling */
	uint64_t vqs_full;	  /* adds refused for lack of room */
	uint64_t vqs_bad;	  /* bad entries from the device */
};

/* ---- Block devices ---- */

struct vblk;

#define VBLK_READ    1
#define VBLK_WRITE   2
#define VBLK_FLUSH   3
#define VBLK_DISCARD 4

struct vblk_seg {
	void *vs_base;
	size_t vs_len;
};

struct vblk_msg {
	struct lwkt_msg bm_msg;
	int bm_op;			/* VBLK_* */
	uint64_t bm_offset;		/* bytes from the disk's start */
	uint64_t bm_length;		/* discard only: bytes */
	const struct vblk_seg *bm_segs; /* read, write: the buffers */
	int bm_nsegs;
	/* The driver's, while the message is in flight. */
	uint32_t bm_bytes;
	uint16_t bm_head;
	int16_t bm_queue;
};

#define VBLK_MAX_SEGS 60 /* buffers per request, after page splits */

struct vblk_info {
	char vi_name[8];	/* "vda", "vdb", ... in discovery order */
	char vi_serial[21];	/* the device's id string (QEMU serial=) */
	uint64_t vi_capacity;	/* bytes */
	uint32_t vi_block_size; /* logical block, bytes */
	bool vi_readonly;
	bool vi_flush; /* a volatile write cache that flush empties */
	bool vi_discard;
	unsigned vi_nqueues;
	unsigned vi_queue_size;
	const char *vi_transport; /* "mmio", "mmio-legacy", "pci" */
	const char *vi_intr;	  /* "msix", "intx", "gsi" */
};

struct vblk_stats {
	uint64_t vbs_reads, vbs_writes, vbs_flushes, vbs_discards;
	uint64_t vbs_bytes_read, vbs_bytes_written;
	uint64_t vbs_errors;	/* requests answered with an error */
	uint64_t vbs_rejected;	/* refused before reaching the device */
	uint64_t vbs_queued;	/* waited for room in the ring */
	uint64_t vbs_resets;	/* device resets after a broken ring */
	struct vq_stats vbs_vq; /* summed over the queues */
};

int vblk_count(void);
struct vblk *vblk_get(int i);		    /* NULL past the end */
struct vblk *vblk_lookup(const char *name); /* by name or serial */
struct lwkt_port *vblk_port(struct vblk *d);
void vblk_get_info(struct vblk *d, struct vblk_info *vi);
void vblk_get_stats(struct vblk *d, struct vblk_stats *st);
bool vblk_broken(struct vblk *d);

/* Synchronous helpers over the port (thread context). */
int vblk_read(struct vblk *d, uint64_t off, void *buf, size_t len);
int vblk_write(struct vblk *d, uint64_t off, const void *buf, size_t len);
int vblk_flush(struct vblk *d);
int vblk_discard(struct vblk *d, uint64_t off, uint64_t len);

/* Test hook: the next completion on queue q reads as a bad used entry
 * (VQ_FAULT_* in virtio_internal.h). */
int vblk_inject_fault(struct vblk *d, unsigned q, int fault);

/* ---- Network interfaces ----
 *
 * The driver's own frame and interface types (vnetif_, netbuf, VNB_*),
 * named apart from netstack/'s struct netif and struct nb: the glue that
 * maps one onto the other (flags map one to one, both follow the virtio
 * header) belongs with the stack.
 */

/*
 * A frame: nb_len bytes at nb_data (Ethernet header first), with offload
 * flags. netbuf_alloc() returns one of len bytes, or NULL.
 *
 * A received frame may live in the driver's ring page (nb_release, set
 * by the driver, gives the page back): like any netbuf it is freed with
 * netbuf_free, and nb_release is not the holder's to change.
 *
 * A gathered frame (output only) is described by nb_segs instead: nb_nsegs
 * pieces of memory the sender owns, nb_len their total, no storage of its
 * own (nb_size 0). Its sender sets nb_release, which netbuf_free() calls
 * instead of freeing (in the driver's thread, or in vnetif_output on an
 * error): the pieces are the sender's again from then on. A gathered frame
 * may not ask for a software checksum (VNB_NEEDS_CSUM without
 * VNET_OFF_TX_CSUM): -EINVAL.
 */
struct netbuf_seg {
	const void *ns_base;
	uint32_t ns_len;
};

struct netbuf {
	TAILQ_ENTRY(netbuf) nb_link; /* free for the holder */
	uint8_t *nb_data;
	uint32_t nb_len;
	uint32_t nb_size;	 /* bytes allocated at nb_buf */
	uint32_t nb_flags;	 /* VNB_* */
	uint16_t nb_csum_start;	 /* VNB_NEEDS_CSUM: where to sum from */
	uint16_t nb_csum_offset; /* and where the sum goes, after start */
	uint16_t nb_gso_size;	 /* VNB_GSO_*: payload bytes per segment */
	uint16_t nb_hdr_len;	 /* VNB_GSO_*: Ethernet + IP + TCP headers */
	uint16_t nb_nsegs;	 /* gathered frame: pieces at nb_segs */
	const struct netbuf_seg *nb_segs;
	void (*nb_release)(struct netbuf *nb); /* gathered frame: see above */
	uint64_t nb_holder[4]; /* free for the holder (the stack's nb_ext) */
	uint8_t nb_buf[];
};
#define VNB_NEEDS_CSUM 0x01 /* the L4 checksum is to be filled in */
#define VNB_CSUM_VALID 0x02 /* rx: the device checked the checksum */
#define VNB_GSO_TCP4   0x04 /* a TSO send, or a coalesced receive */
#define VNB_GSO_TCP6   0x08
#define VNB_GSO_ECN    0x10

#define VNET_MAX_FRAME (65535 + 14 + 4) /* the largest frame, any offload */

struct netbuf *netbuf_alloc(uint32_t len);
void netbuf_free(struct netbuf *nb);

/* What the device does for the stack (if_offloads). */
#define VNET_OFF_TX_CSUM 0x01 /* VNB_NEEDS_CSUM on output */
#define VNET_OFF_RX_CSUM 0x02 /* VNB_CSUM_VALID / VNB_NEEDS_CSUM on input */
#define VNET_OFF_TSO4	 0x04 /* VNB_GSO_TCP4 on output */
#define VNET_OFF_TSO6	 0x08
#define VNET_OFF_LRO	 0x10 /* VNB_GSO_* on input */

struct vnetif_stats {
	uint64_t ns_rx_packets, ns_rx_bytes, ns_rx_dropped, ns_rx_errors;
	uint64_t ns_tx_packets, ns_tx_bytes, ns_tx_dropped, ns_tx_errors;
	uint64_t ns_rx_merged;	 /* frames that took several buffers */
	uint64_t ns_rx_zerocopy; /* frames handed over in their ring page */
	uint64_t ns_tx_csum_sw;	 /* checksums done in software */
	uint64_t ns_link_changes, ns_resets;
	struct vq_stats ns_rxq, ns_txq;
};

struct vnetif {
	char if_name[8]; /* "vn0", ... */
	uint8_t if_mac[6];
	uint16_t if_mtu;
	uint32_t if_offloads; /* VNET_OFF_* */
	volatile bool if_link_up;
	void *if_softc; /* the driver's */
};

/*
 * Interface rules:
 *  - vnetif_set_input(): fn(ifp, nb, arg) is called in the driver's thread
 *    for each frame, and owns nb from then on; until it is set, frames
 *    are dropped (ns_rx_dropped).
 *  - vnetif_output() takes nb in every case: it is sent and freed by the
 *    driver, or freed at once with an error: -ENOBUFS (the send queue is
 *    full), -EMSGSIZE (over VNET_MAX_FRAME or under 14 bytes),
 *    -EOPNOTSUPP (a TSO frame the device cannot take), -EIO (broken).
 *    VNB_NEEDS_CSUM without the offload is done in software. Any thread.
 */
typedef void (
    *vnetif_input_t)(struct vnetif *ifp, struct netbuf *nb, void *arg);
int vnetif_count(void);
struct vnetif *vnetif_get(int i);
void vnetif_set_input(struct vnetif *ifp, vnetif_input_t fn, void *arg);
int vnetif_output(struct vnetif *ifp, struct netbuf *nb);
void vnetif_get_stats(struct vnetif *ifp, struct vnetif_stats *st);

/* ---- Entropy ---- */

/* Fills buf from the first virtio-rng device: 0, -ENODEV without one,
 * -EIO when it is broken. Thread context; blocks until done. */
int vrng_read(void *buf, size_t len);
bool vrng_present(void);
struct vrng_stats {
	uint64_t vrs_requests, vrs_bytes;
	struct vq_stats vrs_vq;
};
void vrng_get_stats(struct vrng_stats *st);

#endif
