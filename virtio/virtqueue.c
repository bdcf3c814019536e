/*
 * virtio/virtqueue.c: split virtqueues (virtio 1.2, section 2.7), with
 * indirect descriptors and event-index notification suppression.
 *
 * The ring is one block of pages: the descriptor table, the available
 * ring (with used_event after it) and, 4096-aligned as the legacy
 * transports want, the used ring (with avail_event). Free descriptors are
 * linked through a private array (vq_next), never through the shared
 * table, so a device that scribbles on descriptors cannot send us
 * wandering; each head remembers its cookie, the bytes the device may
 * write and the descriptors it holds.
 *
 * A request of several buffers takes one descriptor pointing at its own
 * indirect table (one per head, preallocated, VQ_INDIRECT_MAX entries),
 * so a queue of N entries holds N requests. Without the feature a request
 * takes a chain of descriptors.
 *
 * Distrust: every used entry is checked before it is believed: the used
 * index may not run ahead of the requests in flight, the id must be a
 * head we handed out, the length may not exceed the device-writable
 * bytes of that request. The first bad entry marks the queue broken: it
 * is logged, the counters say so, and vq_add and vq_get_used refuse to
 * work on it from then on. Nothing panics on what the device wrote.
 *
 * Notifications: with VIRTIO_RING_F_EVENT_IDX the driver tells the device
 * when to interrupt (used_event) and the device tells the driver when to
 * kick (avail_event); without it, the two flags fields. Every kick the
 * device did not ask for is skipped and counted (vqs_kicks_saved).
 *
 * Interface: see virtio_internal.h. The caller serializes all calls on
 * one queue.
 */
#include <errno.h>
#include <string.h>
#include "arch/arch.h"
#include "core/kmalloc.h"
#include "core/page.h"
#include "virtio/virtio_internal.h"

#define VQ_ALIGN 4096

static size_t
ring_bytes(unsigned num)
{
	size_t avail = sizeof(struct vring_desc) * num + 2 * (3 + num);
	size_t used = 2 * 3 + sizeof(struct vring_used_elem) * num;

	return ROUNDUP(avail, VQ_ALIGN) + used;
}

static void
vq_free_mem(struct virtqueue *vq)
{
	if (vq->vq_ring != NULL)
		page_free(vq->vq_ring, vq->vq_ring_order);
	if (vq->vq_indir != NULL)
		page_free(vq->vq_indir, vq->vq_indir_order);
	kfree(vq->vq_heads, sizeof(struct vq_head) * vq->vq_num);
	kfree(vq->vq_next, sizeof(uint16_t) * vq->vq_num);
	kfree(vq, sizeof(*vq));
}

static int
vq_alloc_mem(struct virtqueue *vq)
{
	unsigned num = vq->vq_num;
	size_t bytes = ring_bytes(num);
	char *p;

	vq->vq_ring_order = page_order_for(bytes);
	vq->vq_ring = page_alloc(vq->vq_ring_order);
	vq->vq_heads = kmalloc(sizeof(struct vq_head) * num, KM_ZERO);
	vq->vq_next = kmalloc(sizeof(uint16_t) * num, 0);
	if (vq->vq_ring == NULL || vq->vq_heads == NULL || vq->vq_next == NULL)
		return -ENOMEM;
	memset(vq->vq_ring, 0, PAGE_SIZE << vq->vq_ring_order);
	if (vq->vq_indirect) {
		bytes = sizeof(struct vring_desc) * VQ_INDIRECT_MAX * num;
		vq->vq_indir_order = page_order_for(bytes);
		vq->vq_indir = page_alloc(vq->vq_indir_order);
		if (vq->vq_indir == NULL)
			return -ENOMEM;
	}
	p = vq->vq_ring;
	vq->vq_desc = (struct vring_desc *)p;
	vq->vq_avail =
	    (struct vring_avail *)(p + sizeof(struct vring_desc) * num);
	vq->vq_used = (struct vring_used *)(p +
	    ROUNDUP(sizeof(struct vring_desc) * num + 2 * (3 + num), VQ_ALIGN));
	return 0;
}

struct virtqueue *
vq_create(struct virtio_dev *dev, unsigned index, uint16_t num,
    vq_callback_t cb, void *priv)
{
	struct virtqueue *vq;
	unsigned i;

	KKASSERT(num > 0 && (num & (num - 1)) == 0 && num <= 32768);
	vq = kmalloc(sizeof(*vq), KM_ZERO);
	if (vq == NULL)
		return NULL;
	vq->vq_dev = dev;
	vq->vq_index = index;
	vq->vq_num = num;
	vq->vq_callback = cb;
	vq->vq_priv = priv;
	if (dev != NULL) {
		vq->vq_event_idx = virtio_has(dev, VIRTIO_RING_F_EVENT_IDX);
		vq->vq_indirect = virtio_has(dev, VIRTIO_RING_F_INDIRECT_DESC);
	}
	if (vq_alloc_mem(vq) != 0) {
		vq_free_mem(vq);
		return NULL;
	}
	for (i = 0; i < num; i++)
		vq->vq_next[i] = (uint16_t)(i + 1);
	vq->vq_free_head = 0;
	vq->vq_nfree = num;
	vq->vq_intr_on = true;
	return vq;
}

void
vq_destroy(struct virtqueue *vq)
{
	if (vq != NULL)
		vq_free_mem(vq);
}

static void
set_desc(struct vring_desc *d, const struct vq_seg *s, uint16_t flags,
    uint16_t next)
{
	d->addr = vq_le64(s->vs_addr);
	d->len = vq_le32(s->vs_len);
	d->flags = vq_le16(flags | (s->vs_write ? VRING_DESC_F_WRITE : 0));
	d->next = vq_le16(next);
}

/* One ring descriptor pointing at the head's own indirect table. */
static void
add_indirect(struct virtqueue *vq, uint16_t head, const struct vq_seg *segs,
    int nseg)
{
	struct vring_desc *t = vq->vq_indir + (size_t)head * VQ_INDIRECT_MAX;
	struct vq_seg ind;
	int i;

	for (i = 0; i < nseg; i++)
		set_desc(&t[i], &segs[i], i + 1 < nseg ? VRING_DESC_F_NEXT : 0,
		    (uint16_t)(i + 1));
	ind.vs_addr = arch_virt_to_phys(t);
	ind.vs_len = (uint32_t)(sizeof(*t) * (size_t)nseg);
	ind.vs_write = false;
	set_desc(&vq->vq_desc[head], &ind, VRING_DESC_F_INDIRECT, 0);
	vq->vq_free_head = vq->vq_next[head];
	vq->vq_nfree--;
	vq->vq_heads[head].vh_ndesc = 1;
	vq->vq_heads[head].vh_last = head;
	vq->vq_st.vqs_indirect++;
}

/* A chain of ring descriptors taken in order off the free list. */
static void
add_direct(struct virtqueue *vq, uint16_t head, const struct vq_seg *segs,
    int nseg)
{
	uint16_t idx = head, last = head;
	int i;

	for (i = 0; i < nseg; i++) {
		last = idx;
		set_desc(&vq->vq_desc[idx], &segs[i],
		    i + 1 < nseg ? VRING_DESC_F_NEXT : 0, vq->vq_next[idx]);
		idx = vq->vq_next[idx];
	}
	vq->vq_free_head = idx;
	vq->vq_nfree = (uint16_t)(vq->vq_nfree - nseg);
	vq->vq_heads[head].vh_ndesc = (uint16_t)nseg;
	vq->vq_heads[head].vh_last = last;
}

static int
check_segs(const struct vq_seg *segs, int nseg, uint32_t *inlen)
{
	bool seen_in = false;
	uint64_t in = 0;
	int i;

	for (i = 0; i < nseg; i++) {
		if (segs[i].vs_write) {
			seen_in = true;
			in += segs[i].vs_len;
		} else if (seen_in) {
			return -EINVAL; /* readable after writable */
		}
	}
	if (in > UINT32_MAX)
		return -EINVAL;
	*inlen = (uint32_t)in;
	return 0;
}

int
vq_add(struct virtqueue *vq, const struct vq_seg *segs, int nseg, void *cookie)
{
	bool indirect;
	uint32_t inlen;
	uint16_t head;
	int need;

	KKASSERT(cookie != NULL);
	if (vq->vq_broken)
		return -EIO;
	if (nseg < 1 || check_segs(segs, nseg, &inlen) != 0)
		return -EINVAL;
	indirect = vq->vq_indirect && nseg > 1 && nseg <= VQ_INDIRECT_MAX;
	need = indirect ? 1 : nseg;
	if (need > vq->vq_num)
		return -EINVAL;
	if (need > vq->vq_nfree) {
		vq->vq_st.vqs_full++;
		return -ENOSPC;
	}
	head = vq->vq_free_head;
	if (indirect)
		add_indirect(vq, head, segs, nseg);
	else
		add_direct(vq, head, segs, nseg);
	vq->vq_heads[head].vh_cookie = cookie;
	vq->vq_heads[head].vh_inlen = inlen;
	vq->vq_avail->ring[vq->vq_avail_idx & (vq->vq_num - 1)] = vq_le16(head);
	vq->vq_avail_idx++;
	vio_wmb(); /* the entry before the index */
	__atomic_store_n(&vq->vq_avail->idx, vq_le16(vq->vq_avail_idx),
	    __ATOMIC_RELEASE);
	vq->vq_inflight++;
	vq->vq_st.vqs_added++;
	return 0;
}

/* The host-side half of a store-then-load barrier (virtio_internal.h). */
static void
host_fence(struct virtqueue *vq)
{
	if (__builtin_expect(vio_host_fence, 0) && vq->vq_dev != NULL)
		vq->vq_dev->vd_ops->fence(vq->vq_dev);
}

bool
vq_kick_prepare(struct virtqueue *vq)
{
	uint16_t old = vq->vq_kick_idx, now = vq->vq_avail_idx;
	bool need;

	if (old == now || vq->vq_broken)
		return false;
	vio_mb(); /* the new index is visible before we read the event */
	host_fence(vq);
	vq->vq_kick_idx = now;
	if (vq->vq_event_idx) {
		uint16_t ev = vq_le16(
		    *(volatile uint16_t *)&vq->vq_used->ring[vq->vq_num]);
		need = vring_need_event(ev, now, old);
	} else {
		need = !(vq_le16(*(volatile uint16_t *)&vq->vq_used->flags) &
		    VRING_USED_F_NO_NOTIFY);
	}
	if (need)
		vq->vq_st.vqs_kicks++;
	else
		vq->vq_st.vqs_kicks_saved++;
	return need;
}

void
vq_notify(struct virtqueue *vq)
{
	vq->vq_dev->vd_ops->notify(vq);
}

void
vq_break(struct virtqueue *vq, const char *why)
{
	if (vq->vq_broken)
		return;
	vq->vq_broken_why = why;
	vq->vq_st.vqs_bad++;
	__atomic_store_n(&vq->vq_broken, true, __ATOMIC_RELEASE);
}

static const char *
vq_where(struct virtqueue *vq)
{
	return vq->vq_dev != NULL ? vq->vq_dev->vd_where : "test";
}

/* The used index the device published, checked against what is in
 * flight. Returns false (queue broken) when it ran ahead. */
static bool
read_used_idx(struct virtqueue *vq, uint16_t *out)
{
	uint16_t idx =
	    vq_le16(__atomic_load_n(&vq->vq_used->idx, __ATOMIC_ACQUIRE));
	uint16_t ahead;

	if (vq->vq_fault == VQ_FAULT_USED_IDX) {
		idx = (uint16_t)(vq->vq_last_used + vq->vq_inflight + 1);
		vq->vq_fault = VQ_FAULT_NONE;
	}
	ahead = (uint16_t)(idx - vq->vq_last_used);
	if (ahead > vq->vq_inflight) {
		log_err("virtio %s: queue %u broken: used index %u is %u "
			"ahead with %u in flight",
		    vq_where(vq), vq->vq_index, idx, ahead, vq->vq_inflight);
		vq_break(vq, "bad used index");
		return false;
	}
	*out = idx;
	return true;
}

static bool
check_used(struct virtqueue *vq, uint32_t id, uint32_t len)
{
	if (id >= vq->vq_num || vq->vq_heads[id].vh_cookie == NULL) {
		log_err("virtio %s: queue %u broken: used id %u was never "
			"handed out",
		    vq_where(vq), vq->vq_index, id);
		vq_break(vq, "unknown descriptor id");
		return false;
	}
	if (len > vq->vq_heads[id].vh_inlen) {
		log_err("virtio %s: queue %u broken: used length %u is "
			"beyond the %u-byte buffer",
		    vq_where(vq), vq->vq_index, len, vq->vq_heads[id].vh_inlen);
		vq_break(vq, "length beyond the buffer");
		return false;
	}
	return true;
}

static void *
release_head(struct virtqueue *vq, uint16_t id)
{
	struct vq_head *h = &vq->vq_heads[id];
	void *cookie = h->vh_cookie;

	vq->vq_next[h->vh_last] = vq->vq_free_head;
	vq->vq_free_head = id;
	vq->vq_nfree = (uint16_t)(vq->vq_nfree + h->vh_ndesc);
	h->vh_cookie = NULL;
	vq->vq_inflight--;
	return cookie;
}

void *
vq_get_used(struct virtqueue *vq, uint32_t *len)
{
	struct vring_used_elem *e;
	uint32_t id, n;
	uint16_t idx;

	if (vq->vq_broken || !read_used_idx(vq, &idx))
		return NULL;
	if (idx == vq->vq_last_used)
		return NULL;
	vio_rmb(); /* the entry after the index */
	e = &vq->vq_used->ring[vq->vq_last_used & (vq->vq_num - 1)];
	id = vq_le32(*(volatile uint32_t *)&e->id);
	n = vq_le32(*(volatile uint32_t *)&e->len);
	if (vq->vq_fault == VQ_FAULT_ID)
		id = vq->vq_num + 7;
	else if (vq->vq_fault == VQ_FAULT_LEN && id < vq->vq_num)
		n = vq->vq_heads[id].vh_inlen + 1;
	vq->vq_fault = VQ_FAULT_NONE;
	if (!check_used(vq, id, n))
		return NULL;
	vq->vq_last_used++;
	vq->vq_st.vqs_completed++;
	if (!vq->vq_intr_on)
		vq->vq_st.vqs_polls++;
	*len = n;
	return release_head(vq, (uint16_t)id);
}

void
vq_disable_intr(struct virtqueue *vq)
{
	if (!vq->vq_intr_on)
		return;
	vq->vq_intr_on = false;
	if (vq->vq_event_idx)
		vq->vq_avail->ring[vq->vq_num] =
		    vq_le16((uint16_t)(vq->vq_last_used + 0x8000));
	else
		vq->vq_avail->flags = vq_le16(VRING_AVAIL_F_NO_INTERRUPT);
}

bool
vq_enable_intr(struct virtqueue *vq)
{
	vq->vq_intr_on = true;
	if (vq->vq_event_idx)
		*(volatile uint16_t *)&vq->vq_avail->ring[vq->vq_num] =
		    vq_le16(vq->vq_last_used);
	else
		*(volatile uint16_t *)&vq->vq_avail->flags = 0;
	vio_mb(); /* the event is visible before we look again */
	host_fence(vq);
	if (vq->vq_broken)
		return true;
	return vq_le16(__atomic_load_n(&vq->vq_used->idx, __ATOMIC_ACQUIRE)) ==
	    vq->vq_last_used;
}

void *
vq_detach(struct virtqueue *vq)
{
	unsigned i;

	for (i = 0; i < vq->vq_num; i++)
		if (vq->vq_heads[i].vh_cookie != NULL)
			return release_head(vq, (uint16_t)i);
	return NULL;
}

void
vq_inject_fault(struct virtqueue *vq, int fault)
{
	vq->vq_fault = fault;
}

int
vq_sg_add(struct vq_seg *segs, int n, int max, const void *va, size_t len,
    bool write, uint32_t maxseg)
{
	const char *p = va;

	while (len > 0) {
		size_t chunk = MIN(len, (size_t)maxseg);
		uint64_t pa;
		struct vq_seg *prev = n > 0 ? &segs[n - 1] : NULL;

		if (!arch_dma_contiguous(p, chunk))
			chunk =
			    MIN(chunk, PAGE_SIZE - ((uintptr_t)p & PAGE_MASK));
		pa = arch_virt_to_phys(p);
		if (pa == 0 || arch_virt_to_phys(p + chunk - 1) == 0)
			return -EFAULT;
		if (prev != NULL && prev->vs_write == write &&
		    prev->vs_addr + prev->vs_len == pa &&
		    (uint64_t)prev->vs_len + chunk <= maxseg) {
			prev->vs_len += (uint32_t)chunk;
		} else {
			if (n >= max)
				return -E2BIG;
			segs[n].vs_addr = pa;
			segs[n].vs_len = (uint32_t)chunk;
			segs[n].vs_write = write;
			n++;
		}
		p += chunk;
		len -= chunk;
	}
	return n;
}
