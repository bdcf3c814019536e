/*
 * virtio/virtio_rng.c: the virtio entropy device (virtio 1.2, section
 * 5.4): one queue of device-writable buffers the device fills with random
 * bytes. QEMU: -device virtio-rng-device (microvm) or virtio-rng-pci.
 *
 * vrng_read() takes the device (a serializer: one request at a time, the
 * caller may block), hands it a driver-owned DMA page, and sleeps until
 * the interrupt wakes it, then copies what the device wrote (it may write
 * less than asked) and goes on until the caller's buffer is full.
 *
 * Distrust: the used length is checked by the virtqueue (never more than
 * the buffer); a used ring that breaks the rules, or a device that does
 * not answer within VRNG_WAIT_NS, marks the device broken: it is reset
 * and every later call fails with -EIO. Only the first device is used.
 *
 * Interface: vrng_read(), vrng_present(), vrng_get_stats() (virtio.h).
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_rng.h>
#include "arch/arch.h"
#include "core/page.h"
#include "sched/sched.h"
#include "virtio/virtio_internal.h"

#define VRNG_WAIT_NS (2000ULL * 1000 * 1000)

static struct vrng {
	struct virtio_dev *r_dev;
	struct virtqueue *r_vq;
	uint8_t *r_page;	     /* DMA buffer, one page */
	struct lwkt_serialize r_slz; /* one caller at a time */
	struct spinlock r_lock;	     /* the virtqueue */
	volatile bool r_broken;
	uint64_t r_requests, r_bytes;
} rng = { .r_lock = SPINLOCK_INIT };

static void
vrng_intr(struct virtqueue *vq)
{
	wakeup(&rng);
}

static void
vrng_break(const char *why)
{
	if (rng.r_broken)
		return;
	rng.r_broken = true;
	log_err("virtio-rng %s: broken (%s): resetting the device",
	    rng.r_dev->vd_where, why);
	virtio_reset(rng.r_dev);
	spin_lock(&rng.r_lock);
	vq_break(rng.r_vq, why);
	spin_unlock(&rng.r_lock);
}

/* One request of up to a page; returns the bytes or -errno. */
static int
vrng_once(size_t want)
{
	struct vq_seg seg = { arch_virt_to_phys(rng.r_page), (uint32_t)want,
		true };
	uint64_t deadline = arch_nanotime() + VRNG_WAIT_NS;
	uint32_t len = 0;
	void *done = NULL;
	bool kick, quiet;
	int err;

	spin_lock(&rng.r_lock);
	err = vq_add(rng.r_vq, &seg, 1, &rng);
	kick = err == 0 && vq_kick_prepare(rng.r_vq);
	spin_unlock(&rng.r_lock);
	if (err != 0)
		return -EIO;
	if (kick)
		vq_notify(rng.r_vq);
	while (done == NULL) {
		tsleep_interlock(&rng, "vrng");
		spin_lock(&rng.r_lock);
		done = vq_get_used(rng.r_vq, &len);
		quiet = done == NULL && vq_enable_intr(rng.r_vq);
		spin_unlock(&rng.r_lock);
		if (done != NULL || rng.r_vq->vq_broken) {
			tsleep_interlock_cancel();
			break;
		}
		if (!quiet) { /* it came meanwhile: look again */
			tsleep_interlock_cancel();
			continue;
		}
		if (arch_nanotime() > deadline) {
			tsleep_interlock_cancel();
			vrng_break("no answer in time");
			return -EIO;
		}
		tsleep_interlocked(&rng, VRNG_WAIT_NS / 4);
	}
	if (done == NULL) {
		vrng_break(rng.r_vq->vq_broken_why);
		return -EIO;
	}
	return (int)len;
}

int
vrng_read(void *buf, size_t len)
{
	uint8_t *p = buf;
	int n = 0;

	if (rng.r_dev == NULL)
		return -ENODEV;
	lwkt_serialize_enter(&rng.r_slz);
	while (len > 0) {
		if (rng.r_broken) {
			n = -EIO;
			break;
		}
		n = vrng_once(MIN(len, PAGE_SIZE));
		if (n < 0)
			break;
		memcpy(p, rng.r_page, (size_t)n);
		p += n;
		len -= (size_t)n;
		rng.r_requests++;
		rng.r_bytes += (uint64_t)n;
	}
	lwkt_serialize_exit(&rng.r_slz);
	return n < 0 ? n : 0;
}

bool
vrng_present(void)
{
	return rng.r_dev != NULL && !rng.r_broken;
}

void
vrng_get_stats(struct vrng_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->vrs_requests = rng.r_requests;
	st->vrs_bytes = rng.r_bytes;
	if (rng.r_vq != NULL)
		st->vrs_vq = rng.r_vq->vq_st;
}

int
vrng_probe(struct virtio_dev *d)
{
	uint64_t want = (1ULL << VIRTIO_RING_F_EVENT_IDX);
	int err;

	if (rng.r_dev != NULL) {
		log_info("virtio-rng %s: a second device, not used",
		    d->vd_where);
		return 0;
	}
	if ((err = virtio_negotiate(d, want)) != 0)
		return err;
	if ((rng.r_page = page_alloc(0)) == NULL)
		return -ENOMEM;
	err = virtio_add_vq(d, 0, 8, 0, vrng_intr, &rng, &rng.r_vq);
	if (err == 0)
		err = d->vd_ops->setup_intr(d);
	if (err != 0) {
		virtio_reset(d);
		virtio_free_vqs(d);
		page_free(rng.r_page, 0);
		rng.r_page = NULL;
		return err;
	}
	lwkt_serialize_init(&rng.r_slz);
	virtio_driver_ok(d);
	rng.r_dev = d;
	log_info("virtio-rng %s: entropy source, %s interrupts", d->vd_where,
	    d->vd_intr_mode);
	return 0;
}
