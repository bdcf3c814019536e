/*
 * virtio/virtio_internal.h: what the transports, the virtqueues and the
 * drivers share inside virtio/. Not part of the contract (virtio.h is).
 *
 * A device (struct virtio_dev) is found by a transport (virtio_mmio.c,
 * virtio_pci.c), which fills in its ops and calls virtio_dev_found(); the
 * core (virtio.c) hands it to the driver for its device type. The driver
 * negotiates features, reads its config, sets up its queues and
 * interrupts through the helpers below and sets DRIVER_OK.
 *
 * Interface:
 *  - Transport ops are called from thread context during probe, and
 *    vd_ops->notify() from any context (it is one MMIO write).
 *  - A virtqueue is not locked by this layer: its driver serializes every
 *    vq_ call on it (a spinlock in the drivers here), except
 *    vq_intr_dispatch(), which only calls the driver's callback.
 *  - Every value read from the device (ring entries, config) is checked
 *    before use; a queue that sees a bad one is marked broken (vq_broken)
 *    and the driver fails its requests with -EIO.
 */
#ifndef VIRTIO_VIRTIO_INTERNAL_H
#define VIRTIO_VIRTIO_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "core/kern.h"
#include "core/spinlock.h"
#include "virtio/virtio.h"

/* Byte order at the ring and in config: virtio 1.x is little-endian, as
 * is x86 (and legacy devices use the guest's order), so these only mark
 * where the conversion belongs. */
#define vq_le16(x) ((uint16_t)(x))
#define vq_le32(x) ((uint32_t)(x))
#define vq_le64(x) ((uint64_t)(x))

static inline void
vio_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * QEMU before 8.1 drops a TCG guest's memory barriers when the machine can
 * have only one vCPU (its translation blocks are not "parallel"; fixed by
 * QEMU commit c914d46d0a64). The device model runs in another host thread
 * all the same, so the driver's store of an event index and its load of
 * the device's index can pass each other in the host's store buffer: the
 * device misses used_event and never interrupts (seen as 32 requests
 * completed by QEMU but never signalled). Where that can happen (TCG, one
 * CPU; set by virtio_init) vio_host_mb also reads a device register
 * without side effects: QEMU takes its global lock for the access, which
 * is a full barrier on the host. Never under KVM, where it would be an
 * exit. TCG with several vCPUs and thread=single stays exposed.
 */
extern bool vio_host_fence;

/* x86 keeps loads and stores in order (TSO): a compiler barrier is enough
 * for the read and write barriers; a store followed by a load needs mb. */
static inline void
vio_rmb(void)
{
	__asm__ volatile("" : : : "memory");
}

static inline void
vio_wmb(void)
{
	__asm__ volatile("" : : : "memory");
}

/* MMIO accessors (the region must be mapped with arch_map_mmio). */
static inline uint8_t
mmio_r8(uintptr_t a)
{
	return *(volatile uint8_t *)a;
}
static inline uint16_t
mmio_r16(uintptr_t a)
{
	return *(volatile uint16_t *)a;
}
static inline uint32_t
mmio_r32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}
static inline void
mmio_w8(uintptr_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}
static inline void
mmio_w16(uintptr_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}
static inline void
mmio_w32(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

/* ---- Virtqueues (virtqueue.c) ---- */

struct virtqueue;
typedef void (*vq_callback_t)(struct virtqueue *vq);

/* One buffer of a request, by physical address. */
struct vq_seg {
	uint64_t vs_addr;
	uint32_t vs_len;
	bool vs_write; /* device-writable (an "in" buffer) */
};

/* Per descriptor head: what the driver gave, to check what comes back. */
struct vq_head {
	void *vh_cookie;   /* NULL: not in flight */
	uint32_t vh_inlen; /* device-writable bytes in the chain */
	uint16_t vh_ndesc; /* ring descriptors the chain holds */
	uint16_t vh_last;  /* last descriptor of a direct chain */
};

/* Test hook: the next used entry is read as if the device had written
 * this (set with vq_inject_fault). */
#define VQ_FAULT_NONE	  0
#define VQ_FAULT_USED_IDX 1 /* the used index jumps ahead */
#define VQ_FAULT_ID	  2 /* an id never handed out */
#define VQ_FAULT_LEN	  3 /* a length beyond the buffer */

#define VQ_INDIRECT_MAX	  64 /* descriptors in one indirect table */

struct virtqueue {
	/* Set up once (vq_create), read-only afterwards. */
	struct virtio_dev *vq_dev;
	unsigned vq_index;
	uint16_t vq_num; /* a power of two */
	bool vq_event_idx;
	bool vq_indirect;
	struct vring_desc *vq_desc;
	struct vring_avail *vq_avail;
	struct vring_used *vq_used;
	void *vq_ring; /* desc + avail + used, page blocks */
	unsigned vq_ring_order;
	struct vring_desc *vq_indir; /* vq_num tables of VQ_INDIRECT_MAX */
	unsigned vq_indir_order;
	struct vq_head *vq_heads;
	uint16_t *vq_next; /* private copy of the free and chain links */
	vq_callback_t vq_callback; /* interrupt context */
	void *vq_priv;		   /* the driver's */
	unsigned vq_cpu;	   /* where its interrupt should go */
	uintptr_t vq_notify_addr;  /* for the transport */
	uint32_t vq_notify_data;

	/* Guarded by the driver's lock. */
	uint16_t vq_free_head;
	uint16_t vq_nfree;
	uint16_t vq_avail_idx; /* our copy of avail->idx */
	uint16_t vq_kick_idx;  /* avail->idx at the last kick decision */
	uint16_t vq_last_used;
	uint16_t vq_inflight; /* chains the device holds */
	bool vq_intr_on;
	volatile bool vq_broken;
	const char *vq_broken_why;
	int vq_fault; /* VQ_FAULT_* test hook */

	/* Statistics, guarded by the driver's lock. */
	struct vq_stats vq_st;
};

/* Creates a queue of num entries (a power of two) for dev. Returns NULL
 * when memory runs out. */
struct virtqueue *vq_create(struct virtio_dev *dev, unsigned index,
    uint16_t num, vq_callback_t cb, void *priv);
void vq_destroy(struct virtqueue *vq);
/*
 * Adds a request: nseg buffers, the device-readable ones first. cookie
 * (not NULL) comes back from vq_get_used(). Returns 0, -ENOSPC when
 * there is no room now, -EINVAL for a request that can never fit, -EIO
 * on a broken queue.
 */
int vq_add(struct virtqueue *vq, const struct vq_seg *segs, int nseg,
    void *cookie);
/* Whether the device wants to be told of the requests added since the
 * last call (event index or flags); the caller then calls vq_notify()
 * (outside its lock if it likes). */
bool vq_kick_prepare(struct virtqueue *vq);
void vq_notify(struct virtqueue *vq);
/*
 * The next completed request: its cookie and the bytes the device wrote
 * in *len; NULL when there is none. A bad entry marks the queue broken
 * and returns NULL (check vq_broken).
 */
void *vq_get_used(struct virtqueue *vq, uint32_t *len);
/* Interrupts from the queue: off (polling), or on; vq_enable_intr
 * returns false when completions arrived meanwhile (poll again). */
void vq_disable_intr(struct virtqueue *vq);
bool vq_enable_intr(struct virtqueue *vq);
/* Marks the queue broken (the reason is logged once). */
void vq_break(struct virtqueue *vq, const char *why);
/* After the device is reset: hands back every request in flight, one
 * per call (NULL when none is left). */
void *vq_detach(struct virtqueue *vq);
/* The head descriptor the next vq_add() will use: drivers index their
 * per-request DMA headers by it. */
static inline uint16_t
vq_next_head(const struct virtqueue *vq)
{
	return vq->vq_free_head;
}
/* The free descriptor count, for drivers that size requests. */
static inline unsigned
vq_room(const struct virtqueue *vq)
{
	return vq->vq_nfree;
}
/* Called by the transport from interrupt context. */
static inline void
vq_intr_dispatch(struct virtqueue *vq)
{
	vq->vq_st.vqs_interrupts++;
	if (vq->vq_callback != NULL)
		vq->vq_callback(vq);
}
void vq_inject_fault(struct virtqueue *vq, int fault);

/* Appends buffer [va, va+len) to segs as physical segments: split at page
 * boundaries where it is not contiguous (kernel stacks) and at maxseg
 * bytes. Returns the new count, or -E2BIG past max, -EFAULT for an
 * unmapped address. */
int vq_sg_add(struct vq_seg *segs, int n, int max, const void *va, size_t len,
    bool write, uint32_t maxseg);

/* ---- Devices and transports ---- */

struct virtio_dev;

struct virtio_ops {
	/* Reads a register that has no side effects (see vio_host_fence). */
	void (*fence)(struct virtio_dev *d);
	uint64_t (*get_features)(struct virtio_dev *d);
	void (*set_features)(struct virtio_dev *d, uint64_t f);
	uint8_t (*get_status)(struct virtio_dev *d);
	void (*set_status)(struct virtio_dev *d, uint8_t s);
	uint32_t (*config_generation)(struct virtio_dev *d);
	void (*read_config)(struct virtio_dev *d, unsigned off, void *buf,
	    unsigned len);
	/* Largest queue size the device offers for queue idx (0: none). */
	unsigned (*queue_max)(struct virtio_dev *d, unsigned idx);
	int (*queue_setup)(struct virtio_dev *d, struct virtqueue *vq);
	void (*notify)(struct virtqueue *vq);
	/* Routes the device's interrupts to its queues' callbacks (after
	 * every queue is set up). */
	int (*setup_intr)(struct virtio_dev *d);
	unsigned (*max_queues)(struct virtio_dev *d);
};

#define VIRTIO_MAX_VQS 17

struct virtio_dev {
	const struct virtio_ops *vd_ops;
	uint32_t vd_type;     /* VIRTIO_ID_* */
	bool vd_legacy;	      /* virtio-mmio version 1 */
	char vd_where[32];    /* "mmio@0xfeb00000 gsi 12", "pci 00:03.0" */
	uint64_t vd_features; /* negotiated */
	struct virtqueue *vd_vqs[VIRTIO_MAX_VQS];
	unsigned vd_nvqs;
	void (*vd_config_changed)(struct virtio_dev *d); /* interrupt ctx */
	void *vd_priv;					 /* the driver's */
	void *vd_tpriv;					 /* the transport's */
	const char *vd_intr_mode; /* "msix", "intx", "gsi" */
	uint64_t vd_config_intrs;
	struct virtio_dev *vd_next;
};

static inline bool
virtio_has(const struct virtio_dev *d, unsigned bit)
{
	return (d->vd_features >> bit) & 1;
}

/* Core (virtio.c). */
void virtio_dev_found(struct virtio_dev *d);
/* Reset, ACKNOWLEDGE, DRIVER; then the features: asks for want & offered
 * (VERSION_1 required unless legacy) and checks FEATURES_OK. 0 or -errno;
 * the negotiated set is in vd_features. */
int virtio_negotiate(struct virtio_dev *d, uint64_t want);
/* Resets the device and waits (bounded) for it: 0 or -ETIMEDOUT. */
int virtio_reset(struct virtio_dev *d);
void virtio_driver_ok(struct virtio_dev *d);
void virtio_fail(struct virtio_dev *d);
/* Reads config consistently (the generation counter). */
void virtio_read_config(struct virtio_dev *d, unsigned off, void *buf,
    unsigned len);
/* Creates queue idx with at most maxnum entries and sets it up. */
int virtio_add_vq(struct virtio_dev *d, unsigned idx, unsigned maxnum,
    unsigned cpu, vq_callback_t cb, void *priv, struct virtqueue **out);
void virtio_free_vqs(struct virtio_dev *d);

/* Drivers. */
struct virtio_blk_config;
/* What virtio-blk's config and features say, after checking. */
struct vblk_params {
	uint64_t bp_capacity; /* bytes, a multiple of bp_bsize */
	uint32_t bp_bsize;
	uint32_t bp_seg_max;  /* data buffers per request */
	uint32_t bp_size_max; /* bytes per buffer */
	uint32_t bp_nqueues;
	uint32_t bp_max_discard;   /* sectors per discard */
	uint32_t bp_discard_align; /* sectors */
	bool bp_ro, bp_flush, bp_discard;
};
/* Checks a virtio-blk config: 0, or -EINVAL with the reason logged. */
int vblk_check_config(const char *where, const struct virtio_blk_config *c,
    uint64_t features, unsigned ncpus, struct vblk_params *p);

int vblk_probe(struct virtio_dev *d);
int vnet_probe(struct virtio_dev *d);
int vrng_probe(struct virtio_dev *d);

/* Transports. */
void virtio_mmio_scan(void);
void virtio_pci_scan(void);

#endif
