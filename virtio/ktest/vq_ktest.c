/*
 * In-guest tests of the split virtqueue, with the test playing the
 * device: it reads the available ring and writes the used ring, and
 * writes bad entries on purpose (an index that runs ahead, an id never
 * handed out, a length beyond the buffer). Each must mark the queue
 * broken, never crash or hang, and later adds must fail with -EIO.
 */
#include <errno.h>
#include <string.h>
#include "core/ktest.h"
#include "virtio/virtio_internal.h"

static struct virtio_dev fake_dev = { .vd_where = "fake" };

static struct virtqueue *
make_vq(uint16_t num, bool features)
{
	struct virtqueue *vq;

	fake_dev.vd_features = features ? (1ULL << VIRTIO_RING_F_EVENT_IDX) |
		(1ULL << VIRTIO_RING_F_INDIRECT_DESC) :
					  0;
	vq = vq_create(&fake_dev, 0, num, NULL, NULL);
	KT_ASSERT(vq != NULL);
	return vq;
}

static struct vq_seg
seg(uint64_t addr, uint32_t len, bool write)
{
	struct vq_seg s = { addr, len, write };
	return s;
}

/* The device's side: completes the avail entry at index i with len. */
static void
dev_complete(struct virtqueue *vq, uint16_t i, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &vq->vq_used->ring[i & (vq->vq_num - 1)];

	e->id = id;
	e->len = len;
	__atomic_store_n(&vq->vq_used->idx, (uint16_t)(i + 1),
	    __ATOMIC_RELEASE);
}

static uint16_t
avail_head(struct virtqueue *vq, uint16_t i)
{
	return vq->vq_avail->ring[i & (vq->vq_num - 1)];
}

KTEST(vq, roundtrip)
{
	struct virtqueue *vq = make_vq(8, true);
	static char a, b, c;
	struct vq_seg s[3];
	uint32_t len;
	uint16_t i;

	s[0] = seg(0x1000, 16, false);
	KT_ASSERT_EQ(vq_add(vq, s, 1, &a), 0);
	s[1] = seg(0x2000, 4096, true);
	s[2] = seg(0x3000, 1, true);
	KT_ASSERT_EQ(vq_add(vq, s, 3, &b), 0); /* indirect */
	KT_ASSERT_EQ(vq_add(vq, s + 1, 2, &c), 0);
	KT_ASSERT_EQ(vq->vq_avail->idx, 3);
	KT_ASSERT_EQ(vq_room(vq), 5);
	KT_ASSERT_EQ(vq->vq_st.vqs_indirect, 2);
	KT_ASSERT(vq->vq_desc[avail_head(vq, 1)].flags & VRING_DESC_F_INDIRECT);
	KT_ASSERT_EQ(vq->vq_desc[avail_head(vq, 1)].len, 3 * 16);
	/* Completed out of order. */
	dev_complete(vq, 0, avail_head(vq, 2), 4097);
	dev_complete(vq, 1, avail_head(vq, 0), 0);
	KT_ASSERT(vq_get_used(vq, &len) == &c);
	KT_ASSERT_EQ(len, 4097);
	KT_ASSERT(vq_get_used(vq, &len) == &a);
	KT_ASSERT(vq_get_used(vq, &len) == NULL);
	dev_complete(vq, 2, avail_head(vq, 1), 10);
	KT_ASSERT(vq_get_used(vq, &len) == &b);
	KT_ASSERT_EQ(vq_room(vq), 8);
	KT_ASSERT(!vq->vq_broken);
	/* Many times round the ring: the free list stays whole. */
	for (i = 3; i < 1000; i++) {
		KT_ASSERT_EQ(vq_add(vq, s, 3, &a), 0);
		dev_complete(vq, i, avail_head(vq, i), 4097);
		KT_ASSERT(vq_get_used(vq, &len) == &a);
	}
	KT_ASSERT_EQ(vq_room(vq), 8);
	vq_destroy(vq);
}

static void
expect_broken(struct virtqueue *vq, const char *why)
{
	static char x;
	struct vq_seg s = seg(0x1000, 512, true);
	uint32_t len;

	KT_ASSERT(vq_get_used(vq, &len) == NULL);
	KT_ASSERT(vq->vq_broken);
	KT_ASSERT_STR_CONTAINS(vq->vq_broken_why, why);
	KT_ASSERT_EQ(vq->vq_st.vqs_bad, 1);
	KT_ASSERT_EQ(vq_add(vq, &s, 1, &x), -EIO);
	KT_ASSERT(vq_get_used(vq, &len) == NULL);
	KT_ASSERT(vq_detach(vq) == &x || vq_detach(vq) == NULL);
}

KTEST(vq, bad_used_index)
{
	struct virtqueue *vq = make_vq(8, false);
	static char x;
	struct vq_seg s = seg(0x1000, 512, true);

	KT_ASSERT_EQ(vq_add(vq, &s, 1, &x), 0);
	vq->vq_used->ring[0].id = 0;
	vq->vq_used->ring[0].len = 512;
	vq->vq_used->idx = 5; /* five done, one in flight */
	expect_broken(vq, "used index");
	vq_destroy(vq);
}

KTEST(vq, unknown_id)
{
	uint32_t ids[] = { 6, 100, 0xffffffff };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		struct virtqueue *vq = make_vq(8, false);
		static char x;
		struct vq_seg s = seg(0x1000, 512, true);
		KT_ASSERT_EQ(vq_add(vq, &s, 1, &x), 0);
		dev_complete(vq, 0, ids[i], 0);
		expect_broken(vq, "descriptor id");
		vq_destroy(vq);
	}
}

KTEST(vq, length_beyond_buffer)
{
	struct virtqueue *vq = make_vq(8, true);
	static char x;
	struct vq_seg s[2] = { seg(0x1000, 16, false), seg(0x2000, 512, true) };

	KT_ASSERT_EQ(vq_add(vq, s, 2, &x), 0);
	dev_complete(vq, 0, avail_head(vq, 0), 513);
	expect_broken(vq, "length");
	vq_destroy(vq);
}

KTEST(vq, fault_hook)
{
	static const int faults[] = { VQ_FAULT_USED_IDX, VQ_FAULT_ID,
		VQ_FAULT_LEN };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(faults); i++) {
		struct virtqueue *vq = make_vq(8, false);
		static char x;
		struct vq_seg s = seg(0x1000, 512, true);
		KT_ASSERT_EQ(vq_add(vq, &s, 1, &x), 0);
		dev_complete(vq, 0, avail_head(vq, 0), 512);
		vq_inject_fault(vq, faults[i]);
		expect_broken(vq, "");
		vq_destroy(vq);
	}
}

KTEST(vq, full_and_oversized)
{
	struct virtqueue *vq = make_vq(4, false);
	static char x, y;
	struct vq_seg s[5];
	int i;

	for (i = 0; i < 5; i++)
		s[i] = seg(0x1000 * (uint64_t)(i + 1), 512, i > 0);
	KT_ASSERT_EQ(vq_add(vq, s, 3, &x), 0);
	KT_ASSERT_EQ(vq_add(vq, s, 2, &y), -ENOSPC);
	KT_ASSERT_EQ(vq->vq_st.vqs_full, 1);
	KT_ASSERT_EQ(vq_add(vq, s, 5, &y), -EINVAL);
	KT_ASSERT_EQ(vq_add(vq, s, 0, &y), -EINVAL);
	s[0].vs_write = true;
	s[1].vs_write = false; /* readable after writable */
	KT_ASSERT_EQ(vq_add(vq, s, 2, &y), -EINVAL);
	KT_ASSERT(!vq->vq_broken);
	vq_destroy(vq);
}

/* Event index: kicks only when the device asked; interrupts likewise. */
KTEST(vq, event_idx)
{
	struct virtqueue *vq = make_vq(8, true);
	volatile uint16_t *avail_event =
	    (volatile uint16_t *)&vq->vq_used->ring[8];
	volatile uint16_t *used_event = &vq->vq_avail->ring[8];
	static char x;
	struct vq_seg s = seg(0x1000, 512, true);
	uint32_t len;

	KT_ASSERT(!vq_kick_prepare(vq)); /* nothing added */
	KT_ASSERT_EQ(vq_add(vq, &s, 1, &x), 0);
	KT_ASSERT(vq_kick_prepare(vq)); /* event 0: the first one */
	KT_ASSERT_EQ(vq_add(vq, &s, 1, &x), 0);
	KT_ASSERT(!vq_kick_prepare(vq)); /* the device did not ask */
	*avail_event = 2;		 /* it wants to hear of entry 2 */
	KT_ASSERT_EQ(vq_add(vq, &s, 1, &x), 0);
	KT_ASSERT(vq_kick_prepare(vq));
	KT_ASSERT_EQ(vq->vq_st.vqs_kicks, 2);
	KT_ASSERT_EQ(vq->vq_st.vqs_kicks_saved, 1);
	/* Interrupts: the used event follows what we consumed. */
	KT_ASSERT(vq_enable_intr(vq));
	KT_ASSERT_EQ(*used_event, 0);
	dev_complete(vq, 0, avail_head(vq, 0), 0);
	KT_ASSERT(!vq_enable_intr(vq)); /* one arrived: poll again */
	vq_disable_intr(vq);
	KT_ASSERT(vq_get_used(vq, &len) == &x);
	KT_ASSERT_EQ(vq->vq_st.vqs_polls, 1);
	KT_ASSERT(vq_enable_intr(vq));
	KT_ASSERT_EQ(*used_event, 1);
	vq_destroy(vq);
}

KTEST(vq, flags_without_event_idx)
{
	struct virtqueue *vq = make_vq(8, false);
	static char x;
	struct vq_seg s = seg(0x1000, 512, true);

	KT_ASSERT_EQ(vq_add(vq, &s, 1, &x), 0);
	vq->vq_used->flags = VRING_USED_F_NO_NOTIFY;
	KT_ASSERT(!vq_kick_prepare(vq));
	vq->vq_used->flags = 0;
	KT_ASSERT_EQ(vq_add(vq, &s, 1, &x), 0);
	KT_ASSERT(vq_kick_prepare(vq));
	vq_disable_intr(vq);
	KT_ASSERT_EQ(vq->vq_avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	KT_ASSERT(vq_enable_intr(vq));
	KT_ASSERT_EQ(vq->vq_avail->flags, 0);
	vq_destroy(vq);
}

/* Buffers become physical segments: split where the stack's pages are
 * not contiguous, merged where RAM is. */
KTEST(vq, sg_split)
{
	static uint8_t ram[3 * 4096] __aligned(4096);
	uint8_t stackbuf[2 * 4096 + 512];
	struct vq_seg s[8];
	int n;

	n = vq_sg_add(s, 0, 8, ram, sizeof(ram), false, UINT32_MAX);
	KT_ASSERT_EQ(n, 1);
	KT_ASSERT_EQ(s[0].vs_len, sizeof(ram));
	n = vq_sg_add(s, 0, 8, ram, sizeof(ram), false, 4096);
	KT_ASSERT_EQ(n, 3);
	n = vq_sg_add(s, 0, 8, stackbuf, sizeof(stackbuf), true, UINT32_MAX);
	KT_ASSERT(n >= 1 && n <= 4);
	KT_ASSERT_EQ(s[0].vs_len + (n > 1 ? s[1].vs_len : 0) +
		(n > 2 ? s[2].vs_len : 0) + (n > 3 ? s[3].vs_len : 0),
	    sizeof(stackbuf));
	KT_ASSERT(s[0].vs_addr == arch_virt_to_phys(stackbuf));
	KT_ASSERT_EQ(
	    vq_sg_add(s, 0, 0, stackbuf, sizeof(stackbuf), true, UINT32_MAX),
	    -E2BIG);
	KT_ASSERT_EQ(
	    vq_sg_add(s, 0, 8, (void *)(uintptr_t)0x10, 512, true, UINT32_MAX),
	    -EFAULT);
}
