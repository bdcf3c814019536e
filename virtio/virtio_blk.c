/*
 * virtio/virtio_blk.c: the virtio-blk driver (virtio 1.2, section 5.2).
 *
 * Each disk is a message port (vblk_port). Its mp_putport runs in the
 * sender's context: it checks the request (alignment, range, read-only),
 * picks the queue of the sender's CPU (one queue per CPU when the device
 * offers VIRTIO_BLK_F_MQ, else one), and under that queue's spinlock puts
 * the request on the ring, or on the queue's pending list when the ring
 * is full. So requests go to the device without a thread switch, many in
 * flight, up to the queue depth.
 *
 * Each queue has a service thread on its CPU (TDPRI_INT). The queue's
 * interrupt only wakes it. It takes completed requests off the used ring,
 * fills the freed room from the pending list and replies. Under load it
 * polls with interrupts off, VBLK_BUDGET completions per pass, yielding
 * between passes; when a pass finds nothing it turns interrupts back on
 * and sleeps (the NAPI scheme).
 *
 * A request is: a header (type, sector), for discard a range, the data
 * buffers, and a status byte the device writes. Header, range and status
 * live in a per-queue DMA array indexed by the request's head descriptor;
 * the data buffers are the caller's, split by page where they are not
 * physically contiguous (kernel stacks).
 *
 * Distrust: the config is checked before use (vblk_check_config); a
 * status byte that is not OK, IOERR or UNSUPP fails the request with
 * -EIO; a broken used ring (virtqueue.c) makes the driver reset the
 * device, so that it stops touching memory, and fail every request on it,
 * then and later, with -EIO. Other disks run on.
 *
 * Locks: a queue's q_lock guards its virtqueue, its pending list and its
 * counters. The disk's fields are set at probe and read-only after, but
 * for d_broken (set once).
 *
 * Interface: virtio.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include "arch/arch.h"
#include "core/kmalloc.h"
#include "core/page.h"
#include "sched/sched.h"
#include "virtio/virtio_internal.h"

#define VBLK_MAX_DISKS	16
#define VBLK_MAX_QUEUES 16
#define VBLK_QUEUE_SIZE 128
#define VBLK_BUDGET	64
#define VBLK_OP_GETID	100 /* internal: the device's id string */
#define SECTOR		512
#define MS		1000000ULL

/* Per request, in DMA memory, indexed by head descriptor. */
struct vblk_dma {
	struct virtio_blk_outhdr bd_out;
	struct virtio_blk_discard_write_zeroes bd_range;
	uint8_t bd_status;
	uint8_t bd_pad[15];
};
_Static_assert(sizeof(struct vblk_dma) == 48, "vblk_dma layout");

struct vblk_queue {
	struct vblk *q_disk;
	unsigned q_idx;
	struct virtqueue *q_vq;
	struct vblk_dma *q_dma;
	unsigned q_dma_order;
	struct thread *q_td;
	struct spinlock q_lock;
	/* Guarded by q_lock. */
	struct lwkt_msg_queue q_pending;
	struct vblk_msg *q_inflight[VBLK_QUEUE_SIZE]; /* by head */
	struct vblk_stats q_st;
};

struct vblk {
	struct virtio_dev *d_dev;
	struct lwkt_port d_port;
	char d_name[8];
	char d_serial[21];
	struct vblk_params d_p;
	unsigned d_nq;
	struct vblk_queue d_q[VBLK_MAX_QUEUES];
	volatile bool d_broken;
	uint64_t d_resets;
};

static struct vblk *disks[VBLK_MAX_DISKS];
static int ndisks;

/* ---- Config ---- */

static int
bad_config(const char *where, const char *what, unsigned long long v)
{
	log_err("virtio-blk %s: config %s = %llu is out of range", where, what,
	    v);
	return -EINVAL;
}

int
vblk_check_config(const char *where, const struct virtio_blk_config *c,
    uint64_t f, unsigned ncpus, struct vblk_params *p)
{
	uint64_t cap = vq_le64(c->capacity);

	memset(p, 0, sizeof(*p));
	p->bp_bsize = SECTOR;
	if (f & (1ULL << VIRTIO_BLK_F_BLK_SIZE)) {
		uint32_t b = vq_le32(c->blk_size);
		if (b < SECTOR || b > 65536 || (b & (b - 1)) != 0)
			return bad_config(where, "blk_size", b);
		p->bp_bsize = b;
	}
	if (cap > (UINT64_MAX >> 9) / 2)
		return bad_config(where, "capacity", cap);
	p->bp_capacity = cap * SECTOR / p->bp_bsize * p->bp_bsize;
	p->bp_seg_max = VBLK_MAX_SEGS;
	if (f & (1ULL << VIRTIO_BLK_F_SEG_MAX)) {
		uint32_t s = vq_le32(c->seg_max);
		if (s == 0)
			return bad_config(where, "seg_max", s);
		p->bp_seg_max = MIN(s, VBLK_MAX_SEGS);
	}
	p->bp_size_max = 1u << 22;
	if (f & (1ULL << VIRTIO_BLK_F_SIZE_MAX)) {
		uint32_t s = vq_le32(c->size_max);
		if (s < PAGE_SIZE)
			return bad_config(where, "size_max", s);
		p->bp_size_max = MIN(s, 1u << 22);
	}
	p->bp_nqueues = 1;
	if (f & (1ULL << VIRTIO_BLK_F_MQ)) {
		uint16_t n = vq_le16(c->num_queues);
		if (n == 0)
			return bad_config(where, "num_queues", n);
		p->bp_nqueues = MIN(MIN((unsigned)n, ncpus), VBLK_MAX_QUEUES);
	}
	p->bp_ro = (f >> VIRTIO_BLK_F_RO) & 1;
	p->bp_flush = (f >> VIRTIO_BLK_F_FLUSH) & 1;
	if (f & (1ULL << VIRTIO_BLK_F_DISCARD)) {
		uint32_t m = vq_le32(c->max_discard_sectors);
		uint32_t a = vq_le32(c->discard_sector_alignment);
		if (m == 0 || vq_le32(c->max_discard_seg) == 0)
			return bad_config(where, "max_discard_sectors", m);
		if (a != 0 && (a & (a - 1)) != 0)
			return bad_config(where, "discard_sector_alignment", a);
		p->bp_discard = true;
		p->bp_max_discard = m;
		p->bp_discard_align = MAX(a, p->bp_bsize / SECTOR);
	}
	return 0;
}

/* ---- Requests ---- */

static bool
range_ok(struct vblk *d, uint64_t off, uint64_t len)
{
	return off <= d->d_p.bp_capacity && len <= d->d_p.bp_capacity - off;
}

static int
check_rw(struct vblk *d, struct vblk_msg *bm)
{
	uint64_t total = 0;
	int i;

	if (bm->bm_nsegs < 1 || bm->bm_nsegs > VBLK_MAX_SEGS ||
	    bm->bm_segs == NULL)
		return -EINVAL;
	for (i = 0; i < bm->bm_nsegs; i++)
		total += bm->bm_segs[i].vs_len;
	if (total == 0 || total > UINT32_MAX || total % d->d_p.bp_bsize != 0 ||
	    bm->bm_offset % d->d_p.bp_bsize != 0)
		return -EINVAL;
	if (!range_ok(d, bm->bm_offset, total))
		return -ENXIO;
	if (bm->bm_op == VBLK_WRITE && d->d_p.bp_ro)
		return -EROFS;
	bm->bm_bytes = (uint32_t)total;
	return 0;
}

static int
check_discard(struct vblk *d, struct vblk_msg *bm)
{
	uint64_t align = (uint64_t)d->d_p.bp_discard_align * SECTOR;

	if (d->d_p.bp_ro)
		return -EROFS;
	if (!d->d_p.bp_discard)
		return -EOPNOTSUPP;
	if (bm->bm_length == 0 || bm->bm_offset % align != 0 ||
	    bm->bm_length % d->d_p.bp_bsize != 0 ||
	    bm->bm_length / SECTOR > d->d_p.bp_max_discard)
		return -EINVAL;
	if (!range_ok(d, bm->bm_offset, bm->bm_length))
		return -ENXIO;
	return 0;
}

static int
check_request(struct vblk *d, struct vblk_msg *bm)
{
	bm->bm_bytes = 0;
	switch (bm->bm_op) {
	case VBLK_READ:
	case VBLK_WRITE:
		return check_rw(d, bm);
	case VBLK_DISCARD:
		return check_discard(d, bm);
	case VBLK_FLUSH:
	case VBLK_OP_GETID:
		return 0;
	default:
		return -EINVAL;
	}
}

static uint32_t
virtio_type(int op)
{
	switch (op) {
	case VBLK_READ:
		return VIRTIO_BLK_T_IN;
	case VBLK_WRITE:
		return VIRTIO_BLK_T_OUT;
	case VBLK_FLUSH:
		return VIRTIO_BLK_T_FLUSH;
	case VBLK_DISCARD:
		return VIRTIO_BLK_T_DISCARD;
	default:
		return VIRTIO_BLK_T_GET_ID;
	}
}

/* Header, range, data and status of bm as segments; count or -errno. */
static int
build_segs(struct vblk_queue *q, struct vblk_msg *bm, struct vblk_dma *dma,
    struct vq_seg *segs)
{
	struct vblk_params *p = &q->q_disk->d_p;
	bool in = bm->bm_op == VBLK_READ || bm->bm_op == VBLK_OP_GETID;
	int n = 0, i, max = (int)p->bp_seg_max + 2;

	dma->bd_out.type = vq_le32(virtio_type(bm->bm_op));
	dma->bd_out.ioprio = 0;
	dma->bd_out.sector = vq_le64(bm->bm_offset / SECTOR);
	dma->bd_status = 0xff; /* a device that does not write it fails */
	n = vq_sg_add(segs, n, max, &dma->bd_out, sizeof(dma->bd_out), false,
	    UINT32_MAX);
	if (bm->bm_op == VBLK_DISCARD) {
		dma->bd_range.sector = vq_le64(bm->bm_offset / SECTOR);
		dma->bd_range.num_sectors =
		    vq_le32((uint32_t)(bm->bm_length / SECTOR));
		dma->bd_range.flags = 0;
		n = vq_sg_add(segs, n, max, &dma->bd_range,
		    sizeof(dma->bd_range), false, UINT32_MAX);
	}
	for (i = 0; i < bm->bm_nsegs && n >= 0 &&
	     (bm->bm_op != VBLK_FLUSH && bm->bm_op != VBLK_DISCARD);
	     i++)
		n = vq_sg_add(segs, n, max, bm->bm_segs[i].vs_base,
		    bm->bm_segs[i].vs_len, in, p->bp_size_max);
	if (n < 0)
		return n == -E2BIG ? -EINVAL : n;
	segs[n].vs_addr = arch_virt_to_phys(&dma->bd_status);
	segs[n].vs_len = 1;
	segs[n].vs_write = true;
	/* A neighbour's status byte must not merge into our buffers. */
	return n + 1;
}

/* Puts bm on q's ring. Caller holds q_lock. 0, -ENOSPC or -errno. */
static int
submit(struct vblk_queue *q, struct vblk_msg *bm)
{
	struct vq_seg segs[VBLK_MAX_SEGS + 3];
	uint16_t head = vq_next_head(q->q_vq);
	int n, err;

	if (vq_room(q->q_vq) == 0) {
		q->q_st.vbs_vq.vqs_full++;
		return -ENOSPC;
	}
	n = build_segs(q, bm, &q->q_dma[head], segs);
	if (n < 0)
		return n;
	err = vq_add(q->q_vq, segs, n, bm);
	if (err != 0)
		return err;
	bm->bm_head = head;
	bm->bm_queue = (int16_t)q->q_idx;
	q->q_inflight[head] = bm;
	return 0;
}

static int
vblk_putport(struct lwkt_port *port, struct lwkt_msg *msg)
{
	struct vblk *d = container_of(port, struct vblk, d_port);
	struct vblk_msg *bm = (struct vblk_msg *)msg;
	struct vblk_queue *q = &d->d_q[arch_cpu_id() % d->d_nq];
	bool kick = false;
	int err = check_request(d, bm);

	if (err == 0 && bm->bm_op == VBLK_FLUSH && !d->d_p.bp_flush &&
	    !d->d_broken)
		err = 1; /* no volatile cache: nothing to do */
	if (err != 0) {
		if (err < 0)
			__atomic_add_fetch(&q->q_st.vbs_rejected, 1,
			    __ATOMIC_RELAXED);
		lwkt_replymsg(msg, err < 0 ? err : 0);
		return EASYNC;
	}
	spin_lock(&q->q_lock);
	if (d->d_broken)
		err = -EIO;
	else if (!TAILQ_EMPTY(&q->q_pending) ||
	    (err = submit(q, bm)) == -ENOSPC)
		err = -ENOSPC;
	if (err == -ENOSPC) {
		TAILQ_INSERT_TAIL(&q->q_pending, msg, ms_node);
		q->q_st.vbs_queued++;
		err = 0;
	} else if (err == 0) {
		kick = vq_kick_prepare(q->q_vq);
	} else {
		q->q_st.vbs_errors++;
	}
	spin_unlock(&q->q_lock);
	if (err != 0)
		lwkt_replymsg(msg, err);
	if (kick)
		vq_notify(q->q_vq);
	return EASYNC;
}

/* ---- Completions ---- */

static int
status_error(struct vblk_queue *q, struct vblk_msg *bm)
{
	uint8_t st = q->q_dma[bm->bm_head].bd_status;

	switch (st) {
	case VIRTIO_BLK_S_OK:
		return 0;
	case VIRTIO_BLK_S_UNSUPP:
		return -EOPNOTSUPP;
	case VIRTIO_BLK_S_IOERR:
		return -EIO;
	default:
		log_err("virtio-blk %s: status %u for a request",
		    q->q_disk->d_name, st);
		return -EIO;
	}
}

static void
count_done(struct vblk_queue *q, struct vblk_msg *bm, int err)
{
	struct vblk_stats *st = &q->q_st;

	if (err != 0) {
		st->vbs_errors++;
		return;
	}
	switch (bm->bm_op) {
	case VBLK_READ:
		st->vbs_reads++;
		st->vbs_bytes_read += bm->bm_bytes;
		break;
	case VBLK_WRITE:
		st->vbs_writes++;
		st->vbs_bytes_written += bm->bm_bytes;
		break;
	case VBLK_FLUSH:
		st->vbs_flushes++;
		break;
	case VBLK_DISCARD:
		st->vbs_discards++;
		break;
	}
}

/* Refills the ring from the pending list. Caller holds q_lock. */
static void
submit_pending(struct vblk_queue *q, struct lwkt_msg_queue *failed)
{
	struct lwkt_msg *msg;
	int err;

	while ((msg = TAILQ_FIRST(&q->q_pending)) != NULL) {
		err = submit(q, (struct vblk_msg *)msg);
		if (err == -ENOSPC)
			break;
		TAILQ_REMOVE(&q->q_pending, msg, ms_node);
		if (err != 0) {
			msg->ms_error = err;
			TAILQ_INSERT_TAIL(failed, msg, ms_node);
		}
	}
}

/*
 * One pass: up to VBLK_BUDGET completions, then the pending requests
 * that now fit. Replies outside the lock. Returns the completions.
 */
static int
harvest(struct vblk_queue *q)
{
	struct lwkt_msg_queue done;
	struct lwkt_msg *msg;
	struct vblk_msg *bm;
	uint32_t len;
	bool kick;
	int n = 0;

	TAILQ_INIT(&done);
	spin_lock(&q->q_lock);
	while (n < VBLK_BUDGET && (bm = vq_get_used(q->q_vq, &len)) != NULL) {
		q->q_inflight[bm->bm_head] = NULL;
		bm->bm_msg.ms_error = status_error(q, bm);
		count_done(q, bm, bm->bm_msg.ms_error);
		TAILQ_INSERT_TAIL(&done, &bm->bm_msg, ms_node);
		n++;
	}
	submit_pending(q, &done);
	kick = vq_kick_prepare(q->q_vq);
	spin_unlock(&q->q_lock);
	if (kick)
		vq_notify(q->q_vq);
	while ((msg = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, msg, ms_node);
		lwkt_replymsg(msg, msg->ms_error);
	}
	return n;
}

/*
 * The device broke its ring: reset it so it stops touching our memory,
 * then fail everything in flight or waiting, on every queue.
 */
static void
vblk_break(struct vblk *d, const char *why)
{
	struct lwkt_msg_queue fail;
	struct lwkt_msg *msg;
	struct vblk_msg *bm;
	unsigned i;

	if (__atomic_exchange_n(&d->d_broken, true, __ATOMIC_ACQ_REL))
		return;
	log_err("virtio-blk %s: broken (%s): resetting the device; its "
		"requests fail with -EIO from now on",
	    d->d_name, why);
	virtio_reset(d->d_dev);
	d->d_resets++;
	TAILQ_INIT(&fail);
	for (i = 0; i < d->d_nq; i++) {
		struct vblk_queue *q = &d->d_q[i];
		spin_lock(&q->q_lock);
		vq_break(q->q_vq, "device reset");
		while ((bm = vq_detach(q->q_vq)) != NULL) {
			q->q_inflight[bm->bm_head] = NULL;
			TAILQ_INSERT_TAIL(&fail, &bm->bm_msg, ms_node);
		}
		while ((msg = TAILQ_FIRST(&q->q_pending)) != NULL) {
			TAILQ_REMOVE(&q->q_pending, msg, ms_node);
			TAILQ_INSERT_TAIL(&fail, msg, ms_node);
		}
		spin_unlock(&q->q_lock);
	}
	while ((msg = TAILQ_FIRST(&fail)) != NULL) {
		TAILQ_REMOVE(&fail, msg, ms_node);
		lwkt_replymsg(msg, -EIO);
	}
}

/* Interrupt context: only wakes the queue's thread. */
static void
vblk_intr(struct virtqueue *vq)
{
	wakeup(vq->vq_priv);
}

/* Interrupts on and sleep, unless work arrived meanwhile. */
static void
idle_wait(struct vblk_queue *q)
{
	bool quiet;

	tsleep_interlock(q, "vblkq");
	spin_lock(&q->q_lock);
	quiet = vq_enable_intr(q->q_vq);
	spin_unlock(&q->q_lock);
	if (!quiet || (q->q_vq->vq_broken && !q->q_disk->d_broken)) {
		tsleep_interlock_cancel();
		return;
	}
	tsleep_interlocked(q, 0);
	spin_lock(&q->q_lock);
	vq_disable_intr(q->q_vq);
	spin_unlock(&q->q_lock);
}

static void
vblk_thread(void *arg)
{
	struct vblk_queue *q = arg;
	struct vblk *d = q->q_disk;
	int n;

	for (;;) {
		n = harvest(q);
		if (q->q_vq->vq_broken && !d->d_broken)
			vblk_break(d, q->q_vq->vq_broken_why);
		if (n == VBLK_BUDGET)
			lwkt_yield(); /* polling under load */
		else if (n == 0)
			idle_wait(q);
	}
}

/* ---- Probe ---- */

static uint64_t
wanted_features(void)
{
	return (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
	    (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_RO) |
	    (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) |
	    (1ULL << VIRTIO_BLK_F_MQ) | (1ULL << VIRTIO_BLK_F_DISCARD) |
	    (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
	    (1ULL << VIRTIO_RING_F_EVENT_IDX);
}

static int
setup_queue(struct vblk *d, unsigned i)
{
	struct vblk_queue *q = &d->d_q[i];
	unsigned cpu = i % lwkt_ncpus;
	int err;

	q->q_disk = d;
	q->q_idx = i;
	TAILQ_INIT(&q->q_pending);
	err = virtio_add_vq(d->d_dev, i, VBLK_QUEUE_SIZE, cpu, vblk_intr, q,
	    &q->q_vq);
	if (err != 0)
		return err;
	vq_disable_intr(q->q_vq); /* the thread turns them on when idle */
	q->q_dma_order =
	    page_order_for(sizeof(struct vblk_dma) * q->q_vq->vq_num);
	q->q_dma = page_alloc(q->q_dma_order);
	if (q->q_dma == NULL)
		return -ENOMEM;
	memset(q->q_dma, 0, PAGE_SIZE << q->q_dma_order);
	return 0;
}

static int
start_threads(struct vblk *d)
{
	char name[24];
	unsigned i;
	int err;

	for (i = 0; i < d->d_nq; i++) {
		snprintf(name, sizeof(name), "%sq%u", d->d_name, i);
		err = lwkt_create(vblk_thread, &d->d_q[i], &d->d_q[i].q_td,
		    (int)(i % lwkt_ncpus), TDPRI_INT, TDF_NOFPU, 0, name);
		if (err != 0)
			return err;
	}
	return 0;
}

/* The id string (QEMU's serial=), by a request; bounded wait. */
static void
read_serial(struct vblk *d)
{
	struct {
		struct vblk_msg m;
		struct vblk_seg s;
		char id[VIRTIO_BLK_ID_BYTES];
	} *r = kmalloc(sizeof(*r), KM_ZERO);
	int err;

	if (r == NULL)
		return;
	r->s.vs_base = r->id;
	r->s.vs_len = sizeof(r->id);
	r->m.bm_op = VBLK_OP_GETID;
	r->m.bm_segs = &r->s;
	r->m.bm_nsegs = 1;
	lwkt_initmsg(&r->m.bm_msg, lwkt_thread_port(), 0);
	lwkt_sendmsg(&d->d_port, &r->m.bm_msg);
	err = lwkt_waitmsg(&r->m.bm_msg, 1000 * MS);
	if (err == -ETIMEDOUT) {
		log_err("virtio-blk %s: no answer to GET_ID", d->d_name);
		return; /* still the device's: leaked on purpose */
	}
	if (err == 0) {
		memcpy(d->d_serial, r->id, sizeof(r->id));
		d->d_serial[sizeof(d->d_serial) - 1] = 0;
	}
	kfree(r, sizeof(*r));
}

static int
vblk_setup(struct vblk *d)
{
	struct virtio_dev *vd = d->d_dev;
	struct virtio_blk_config cfg;
	unsigned i;
	int err;

	if ((err = virtio_negotiate(vd, wanted_features())) != 0)
		return err;
	memset(&cfg, 0, sizeof(cfg));
	virtio_read_config(vd, 0, &cfg, sizeof(cfg));
	err = vblk_check_config(d->d_name, &cfg, vd->vd_features, lwkt_ncpus,
	    &d->d_p);
	if (err != 0)
		return err;
	d->d_nq = d->d_p.bp_nqueues;
	for (i = 0; i < d->d_nq; i++)
		if ((err = setup_queue(d, i)) != 0)
			return err;
	if ((err = vd->vd_ops->setup_intr(vd)) != 0)
		return err;
	virtio_driver_ok(vd);
	return start_threads(d);
}

static void
vblk_free(struct vblk *d)
{
	unsigned i;

	for (i = 0; i < VBLK_MAX_QUEUES; i++)
		if (d->d_q[i].q_dma != NULL)
			page_free(d->d_q[i].q_dma, d->d_q[i].q_dma_order);
	virtio_free_vqs(d->d_dev);
	kfree(d, sizeof(*d));
}

int
vblk_probe(struct virtio_dev *vd)
{
	struct vblk *d;
	int err;

	if (ndisks == VBLK_MAX_DISKS)
		return -ENOSPC;
	if ((d = kmalloc(sizeof(*d), KM_ZERO)) == NULL)
		return -ENOMEM;
	d->d_dev = vd;
	vd->vd_priv = d;
	snprintf(d->d_name, sizeof(d->d_name), "vd%c", 'a' + ndisks);
	lwkt_initport_panic(&d->d_port, d->d_name);
	d->d_port.mp_putport = vblk_putport;
	for (unsigned i = 0; i < VBLK_MAX_QUEUES; i++)
		d->d_q[i].q_lock = (struct spinlock)SPINLOCK_INIT;
	if ((err = vblk_setup(d)) != 0) {
		if (d->d_q[0].q_td == NULL) {
			virtio_reset(vd);
			vblk_free(d);
		}
		return err;
	}
	disks[ndisks++] = d;
	read_serial(d);
	log_info("virtio-blk %s: %s, %llu MiB, %u-byte blocks%s%s%s, %u "
		 "queue(s) of %u, %s interrupts, serial '%s'",
	    d->d_name, vd->vd_where,
	    (unsigned long long)(d->d_p.bp_capacity >> 20), d->d_p.bp_bsize,
	    d->d_p.bp_ro ? ", read-only" : "", d->d_p.bp_flush ? ", flush" : "",
	    d->d_p.bp_discard ? ", discard" : "", d->d_nq,
	    d->d_q[0].q_vq->vq_num, vd->vd_intr_mode, d->d_serial);
	return 0;
}

/* ---- The API ---- */

int
vblk_count(void)
{
	return ndisks;
}

struct vblk *
vblk_get(int i)
{
	return i >= 0 && i < ndisks ? disks[i] : NULL;
}

struct vblk *
vblk_lookup(const char *name)
{
	int i;

	for (i = 0; i < ndisks; i++)
		if (strcmp(disks[i]->d_name, name) == 0 ||
		    (disks[i]->d_serial[0] != 0 &&
			strcmp(disks[i]->d_serial, name) == 0))
			return disks[i];
	return NULL;
}

struct lwkt_port *
vblk_port(struct vblk *d)
{
	return &d->d_port;
}

bool
vblk_broken(struct vblk *d)
{
	return d->d_broken;
}

void
vblk_get_info(struct vblk *d, struct vblk_info *vi)
{
	memset(vi, 0, sizeof(*vi));
	strlcpy(vi->vi_name, d->d_name, sizeof(vi->vi_name));
	strlcpy(vi->vi_serial, d->d_serial, sizeof(vi->vi_serial));
	vi->vi_capacity = d->d_p.bp_capacity;
	vi->vi_block_size = d->d_p.bp_bsize;
	vi->vi_readonly = d->d_p.bp_ro;
	vi->vi_flush = d->d_p.bp_flush;
	vi->vi_discard = d->d_p.bp_discard;
	vi->vi_nqueues = d->d_nq;
	vi->vi_queue_size = d->d_q[0].q_vq->vq_num;
	vi->vi_transport = d->d_dev->vd_legacy	       ? "mmio-legacy" :
	    strncmp(d->d_dev->vd_where, "pci", 3) == 0 ? "pci" :
							 "mmio";
	vi->vi_intr = d->d_dev->vd_intr_mode;
}

static void
add_vq_stats(struct vq_stats *a, const struct vq_stats *b)
{
	a->vqs_added += b->vqs_added;
	a->vqs_completed += b->vqs_completed;
	a->vqs_indirect += b->vqs_indirect;
	a->vqs_kicks += b->vqs_kicks;
	a->vqs_kicks_saved += b->vqs_kicks_saved;
	a->vqs_interrupts += b->vqs_interrupts;
	a->vqs_polls += b->vqs_polls;
	a->vqs_full += b->vqs_full;
	a->vqs_bad += b->vqs_bad;
}

void
vblk_get_stats(struct vblk *d, struct vblk_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < d->d_nq; i++) {
		const struct vblk_stats *q = &d->d_q[i].q_st;
		st->vbs_reads += q->vbs_reads;
		st->vbs_writes += q->vbs_writes;
		st->vbs_flushes += q->vbs_flushes;
		st->vbs_discards += q->vbs_discards;
		st->vbs_bytes_read += q->vbs_bytes_read;
		st->vbs_bytes_written += q->vbs_bytes_written;
		st->vbs_errors += q->vbs_errors;
		st->vbs_rejected += q->vbs_rejected;
		st->vbs_queued += q->vbs_queued;
		add_vq_stats(&st->vbs_vq, &d->d_q[i].q_vq->vq_st);
	}
	st->vbs_resets = d->d_resets;
}

int
vblk_inject_fault(struct vblk *d, unsigned q, int fault)
{
	if (q >= d->d_nq)
		return -EINVAL;
	spin_lock(&d->d_q[q].q_lock);
	vq_inject_fault(d->d_q[q].q_vq, fault);
	spin_unlock(&d->d_q[q].q_lock);
	return 0;
}

static int
do_sync(struct vblk *d, int op, uint64_t off, void *buf, size_t len)
{
	struct vblk_msg m;
	struct vblk_seg s;
	struct lwkt_port *reply = lwkt_thread_port();

	if (reply == NULL)
		return -ENOMEM;
	memset(&m, 0, sizeof(m));
	s.vs_base = buf;
	s.vs_len = len;
	m.bm_op = op;
	m.bm_offset = off;
	m.bm_length = len;
	m.bm_segs = &s;
	m.bm_nsegs = 1;
	lwkt_initmsg(&m.bm_msg, reply, 0);
	return lwkt_domsg(&d->d_port, &m.bm_msg);
}

int
vblk_read(struct vblk *d, uint64_t off, void *buf, size_t len)
{
	return do_sync(d, VBLK_READ, off, buf, len);
}

int
vblk_write(struct vblk *d, uint64_t off, const void *buf, size_t len)
{
	return do_sync(d, VBLK_WRITE, off, (void *)(uintptr_t)buf, len);
}

int
vblk_flush(struct vblk *d)
{
	return do_sync(d, VBLK_FLUSH, 0, NULL, 0);
}

int
vblk_discard(struct vblk *d, uint64_t off, uint64_t len)
{
	return do_sync(d, VBLK_DISCARD, off, NULL, (size_t)len);
}
