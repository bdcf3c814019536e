/*
 * In-guest tests of the virtio-blk driver. The boot tests in
 * test/virtio.cmake attach disks by serial (test/virtio/blk_test.py makes
 * them):
 *   dfhost    host-written pattern (BLKPAT_SEED_HOST): read and checked here
 *   dfguest   zeros: written here with BLKPAT_SEED_GUEST, checked by the
 *             host after QEMU exits
 *   dfro      readonly=on, host pattern BLKPAT_SEED_RO
 *   dfbroken  a scratch disk for the broken-ring test
 * A test whose disk is absent says so and checks nothing; the boot tests
 * look for each test's "verified" line, so a missing disk fails there.
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include "core/kmalloc.h"
#include "core/ktest.h"
#include "sched/sched.h"
#include "test/virtio/blkpat.h"
#include "virtio/virtio.h"
#include "virtio/virtio_internal.h"

#define KB	 1024ULL
#define MB	 (1024ULL * 1024)
#define WINDOW	 8
#define MAXCHUNK (128 * KB)

static uint64_t
rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static struct vblk *
disk(const char *serial)
{
	struct vblk *d = vblk_lookup(serial);

	if (d == NULL)
		kprintf("ktest: no disk with serial %s: nothing to check\n",
		    serial);
	return d;
}

static uint64_t
capacity(struct vblk *d)
{
	struct vblk_info vi;

	vblk_get_info(d, &vi);
	return vi.vi_capacity;
}

KTEST(vblk, info)
{
	struct vblk_info vi;
	int i;

	for (i = 0; i < vblk_count(); i++) {
		vblk_get_info(vblk_get(i), &vi);
		kprintf("ktest: %s serial '%s' %llu bytes, block %u, %s%s, %u "
			"queue(s) of %u, %s, %s\n",
		    vi.vi_name, vi.vi_serial,
		    (unsigned long long)vi.vi_capacity, vi.vi_block_size,
		    vi.vi_readonly ? "ro" : "rw",
		    vi.vi_discard ? " discard" : "", vi.vi_nqueues,
		    vi.vi_queue_size, vi.vi_transport, vi.vi_intr);
		KT_ASSERT(vi.vi_block_size >= 512);
		KT_ASSERT_EQ(vi.vi_capacity % vi.vi_block_size, 0);
		KT_ASSERT(vi.vi_nqueues >= 1 && vi.vi_nqueues <= lwkt_ncpus);
		KT_ASSERT(vblk_lookup(vi.vi_name) == vblk_get(i));
	}
	KT_ASSERT(vblk_get(vblk_count()) == NULL);
	KT_ASSERT(vblk_lookup("nosuchdisk") == NULL);
	kprintf("ktest: vblk: %d disk(s)\n", vblk_count());
}

/* ---- Random requests from many threads, a window in flight each ---- */

struct job {
	struct vblk *j_disk;
	uint64_t j_seed;	/* the pattern */
	bool j_write;		/* write chunks [j_first, j_last) of the plan */
	uint64_t j_rnd;		/* random reads: the generator */
	int j_count;		/* random reads: how many */
	const uint64_t *j_plan; /* chunk offsets, sorted, plus the end */
	int j_first, j_last;
	volatile int j_errors;
	volatile bool j_done;
};

struct slot {
	struct vblk_msg s_msg;
	struct vblk_seg s_seg[3];
	uint8_t *s_buf;
	uint64_t s_off;
	size_t s_len;
};

/* Splits [off, off+len) over up to three segments of odd sizes. */
static int
split(struct slot *s, uint64_t *r)
{
	size_t a = s->s_len, b = 0, c = 0;

	if (s->s_len >= 4096 && rnd(r) % 2) {
		a = 8 * (1 + rnd(r) % (s->s_len / 16));
		b = 8 * (rnd(r) % ((s->s_len - a) / 8 + 1));
		c = s->s_len - a - b;
	}
	s->s_seg[0].vs_base = s->s_buf;
	s->s_seg[0].vs_len = a;
	s->s_seg[1].vs_base = s->s_buf + a;
	s->s_seg[1].vs_len = b;
	s->s_seg[2].vs_base = s->s_buf + a + b;
	s->s_seg[2].vs_len = c;
	return b == 0 && c == 0 ? 1 : 3;
}

static void
send_slot(struct job *j, struct slot *s, uint64_t off, size_t len, uint64_t *r)
{
	s->s_off = off;
	s->s_len = len;
	memset(&s->s_msg, 0, sizeof(s->s_msg));
	s->s_msg.bm_op = j->j_write ? VBLK_WRITE : VBLK_READ;
	s->s_msg.bm_offset = off;
	s->s_msg.bm_segs = s->s_seg;
	s->s_msg.bm_nsegs = split(s, r);
	if (j->j_write)
		blkpat_fill(j->j_seed, off, s->s_buf, len);
	lwkt_initmsg(&s->s_msg.bm_msg, lwkt_thread_port(), 0);
	lwkt_sendmsg(vblk_port(j->j_disk), &s->s_msg.bm_msg);
}

static void
finish_slot(struct job *j, struct slot *s)
{
	size_t bad;

	if (s->s_msg.bm_msg.ms_error != 0) {
		kprintf("ktest: %s at %llu+%zu: error %d\n",
		    j->j_write ? "write" : "read", (unsigned long long)s->s_off,
		    s->s_len, s->s_msg.bm_msg.ms_error);
		j->j_errors++;
	} else if (!j->j_write &&
	    (bad = blkpat_check(j->j_seed, s->s_off, s->s_buf, s->s_len)) !=
		s->s_len) {
		kprintf("ktest: read at %llu+%zu: wrong data at +%zu\n",
		    (unsigned long long)s->s_off, s->s_len, bad);
		j->j_errors++;
	}
}

/* The next request of the job: offset and length, false when done. */
static bool
next_req(struct job *j, int *i, uint64_t cap, uint64_t *r, uint64_t *off,
    size_t *len)
{
	if (j->j_write) {
		if (*i >= j->j_last)
			return false;
		*off = j->j_plan[*i];
		*len = (size_t)(j->j_plan[*i + 1] - *off);
		(*i)++;
		return true;
	}
	if (*i >= j->j_count)
		return false;
	*len = (size_t)(512 * (1 + rnd(r) % (MAXCHUNK / 512)));
	*off = 512 * (rnd(r) % ((cap - *len) / 512 + 1));
	(*i)++;
	return true;
}

static void
job_thread(void *arg)
{
	struct job *j = arg;
	struct slot *slots = kmalloc(sizeof(struct slot) * WINDOW, KM_ZERO);
	uint64_t cap = capacity(j->j_disk), r = j->j_rnd | 1, off;
	int i = j->j_first, busy = 0, k;
	size_t len;

	for (k = 0; k < WINDOW && slots != NULL; k++)
		if ((slots[k].s_buf = kmalloc(MAXCHUNK, 0)) == NULL)
			j->j_errors++;
	for (k = 0; k < WINDOW && j->j_errors == 0; k++) {
		if (!next_req(j, &i, cap, &r, &off, &len))
			break;
		send_slot(j, &slots[k], off, len, &r);
		busy++;
	}
	while (busy > 0) {
		struct slot *s =
		    (struct slot *)lwkt_waitport(lwkt_thread_port(), 0);
		busy--;
		finish_slot(j, s);
		if (next_req(j, &i, cap, &r, &off, &len)) {
			send_slot(j, s, off, len, &r);
			busy++;
		}
	}
	for (k = 0; k < WINDOW && slots != NULL; k++)
		kfree(slots[k].s_buf, MAXCHUNK);
	kfree(slots, sizeof(struct slot) * WINDOW);
	j->j_done = true;
}

static void
run_jobs(struct job *jobs, int n)
{
	struct thread *td[32];
	int i;

	KT_ASSERT(n <= 32);
	for (i = 0; i < n; i++)
		KT_ASSERT_EQ(lwkt_create(job_thread, &jobs[i], &td[i],
				 (int)(i % lwkt_ncpus), TDPRI_KERN,
				 TDF_JOINABLE | TDF_NOFPU, 0, "vblkjob"),
		    0);
	for (i = 0; i < n; i++)
		lwkt_join(td[i]);
	for (i = 0; i < n; i++) {
		KT_ASSERT(jobs[i].j_done);
		KT_ASSERT_EQ(jobs[i].j_errors, 0);
	}
}

/* Reads all of d in 1 MiB requests and checks the pattern. */
static void
check_whole(struct vblk *d, uint64_t seed)
{
	uint64_t cap = capacity(d), off;
	uint8_t *buf = kmalloc(MB, 0);
	size_t len, bad;

	KT_ASSERT(buf != NULL);
	for (off = 0; off < cap; off += len) {
		len = (size_t)MIN(MB, cap - off);
		KT_ASSERT_EQ(vblk_read(d, off, buf, len), 0);
		bad = blkpat_check(seed, off, buf, len);
		if (bad != len)
			ktest_fail(__FILE__, __LINE__, "wrong data at %llu",
			    (unsigned long long)(off + bad));
	}
	kfree(buf, MB);
}

/*
 * The host's pattern, read back: whole, then at random sizes and offsets
 * from two threads per CPU, WINDOW requests in flight each.
 */
KTEST(vblk, host_pattern)
{
	struct vblk *d = disk("dfhost");
	struct job jobs[8];
	int i, n = (int)MIN(2 * lwkt_ncpus, 8);
	struct vblk_stats st0, st1;

	if (d == NULL)
		return;
	vblk_get_stats(d, &st0);
	check_whole(d, BLKPAT_SEED_HOST);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < n; i++) {
		jobs[i].j_disk = d;
		jobs[i].j_seed = BLKPAT_SEED_HOST;
		jobs[i].j_rnd = 0x1234567 + (uint64_t)i * 7919;
		jobs[i].j_count = 300;
	}
	run_jobs(jobs, n);
	vblk_get_stats(d, &st1);
	KT_ASSERT(st1.vbs_reads - st0.vbs_reads >= (uint64_t)n * 300);
	KT_ASSERT_EQ(st1.vbs_errors, st0.vbs_errors);
	KT_ASSERT_EQ(st1.vbs_vq.vqs_bad, 0);
	kprintf("ktest: vblk: host pattern verified: %d threads, %llu reads, "
		"%llu kicks, %llu saved, %llu interrupts, %llu polled\n",
	    n, (unsigned long long)(st1.vbs_reads - st0.vbs_reads),
	    (unsigned long long)st1.vbs_vq.vqs_kicks,
	    (unsigned long long)st1.vbs_vq.vqs_kicks_saved,
	    (unsigned long long)st1.vbs_vq.vqs_interrupts,
	    (unsigned long long)st1.vbs_vq.vqs_polls);
}

/* Cuts [0, cap) into chunks of random sizes (multiples of 512). */
static int
make_plan(uint64_t *plan, int max, uint64_t cap, uint64_t r)
{
	uint64_t off = 0;
	int n = 0;

	while (off < cap && n < max - 1) {
		uint64_t len = 512 * (1 + rnd(&r) % (MAXCHUNK / 512));
		plan[n++] = off;
		off += MIN(len, cap - off);
	}
	plan[n] = cap;
	return off == cap ? n : -1;
}

/*
 * The guest's pattern over all of dfguest, in random-sized chunks from
 * two threads per CPU while as many threads read dfhost (two disks at
 * once); then a flush, and everything read back. The host checks the
 * image after QEMU exits. A discard goes first, where offered.
 */
KTEST(vblk, guest_pattern)
{
	struct vblk *d = disk("dfguest"), *h = vblk_lookup("dfhost");
	enum { MAXPLAN = 4096 };
	uint64_t *plan = kmalloc(sizeof(uint64_t) * MAXPLAN, 0);
	uint64_t cap;
	struct job jobs[16];
	int nw = (int)MIN(2 * lwkt_ncpus, 8), nr = h != NULL ? nw : 0;
	int nchunks, i;
	struct vblk_info vi;
	struct vblk_stats st;

	if (d == NULL)
		return;
	KT_ASSERT(plan != NULL);
	cap = capacity(d);
	vblk_get_info(d, &vi);
	if (vi.vi_discard)
		KT_ASSERT_EQ(vblk_discard(d, 0, MIN(cap, MB)), 0);
	nchunks = make_plan(plan, MAXPLAN, cap, 0xfeedULL);
	KT_ASSERT(nchunks > 0);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < nw; i++) {
		jobs[i].j_disk = d;
		jobs[i].j_seed = BLKPAT_SEED_GUEST;
		jobs[i].j_write = true;
		jobs[i].j_plan = plan;
		jobs[i].j_rnd = 99 + (uint64_t)i;
		jobs[i].j_first = nchunks * i / nw;
		jobs[i].j_last = nchunks * (i + 1) / nw;
	}
	for (i = nw; i < nw + nr; i++) {
		jobs[i].j_disk = h;
		jobs[i].j_seed = BLKPAT_SEED_HOST;
		jobs[i].j_rnd = 0xabcdef + (uint64_t)i;
		jobs[i].j_count = 100;
	}
	run_jobs(jobs, nw + nr);
	KT_ASSERT_EQ(vblk_flush(d), 0);
	check_whole(d, BLKPAT_SEED_GUEST);
	vblk_get_stats(d, &st);
	KT_ASSERT(st.vbs_writes >= (uint64_t)nchunks);
	KT_ASSERT(st.vbs_bytes_written >= cap);
	KT_ASSERT(!vi.vi_flush || st.vbs_flushes >= 1);
	KT_ASSERT_EQ(st.vbs_errors, 0);
	kfree(plan, sizeof(uint64_t) * MAXPLAN);
	kprintf("ktest: vblk: guest pattern written and verified: %d chunks "
		"from %d threads, %d readers on dfhost, %llu flushes, %llu "
		"discards\n",
	    nchunks, nw, nr, (unsigned long long)st.vbs_flushes,
	    (unsigned long long)st.vbs_discards);
}

/* Buffers on the kernel stack cross pages that are not contiguous. */
KTEST(vblk, stack_buffer)
{
	struct vblk *d = disk("dfhost");
	uint8_t buf[3 * 4096 + 1024] __aligned(8);
	uint8_t *p = buf + 1024; /* starts mid-page, spans four pages */

	if (d == NULL)
		return;
	memset(buf, 0, sizeof(buf));
	KT_ASSERT_EQ(vblk_read(d, 8192, p, 3 * 4096), 0);
	KT_ASSERT_EQ(blkpat_check(BLKPAT_SEED_HOST, 8192, p, 3 * 4096),
	    3 * 4096);
	kprintf("ktest: vblk: stack buffer verified\n");
}

static int
send_raw(struct vblk *d, int op, uint64_t off, uint64_t dlen,
    const struct vblk_seg *segs, int nsegs)
{
	struct vblk_msg m;

	memset(&m, 0, sizeof(m));
	m.bm_op = op;
	m.bm_offset = off;
	m.bm_length = dlen;
	m.bm_segs = segs;
	m.bm_nsegs = nsegs;
	lwkt_initmsg(&m.bm_msg, lwkt_thread_port(), 0);
	return lwkt_domsg(vblk_port(d), &m.bm_msg);
}

/* Requests past the end or malformed: refused before the device. */
KTEST(vblk, bad_requests)
{
	struct vblk *d = disk("dfhost");
	uint8_t *buf = kmalloc(8192, 0);
	struct vblk_seg segs[VBLK_MAX_SEGS + 1];
	struct vblk_stats st0, st1;
	uint64_t cap;
	int i;

	if (d == NULL)
		return;
	cap = capacity(d);
	vblk_get_stats(d, &st0);
	KT_ASSERT_EQ(vblk_read(d, cap, buf, 512), -ENXIO);
	KT_ASSERT_EQ(vblk_read(d, cap - 512, buf, 1024), -ENXIO);
	KT_ASSERT_EQ(vblk_read(d, UINT64_MAX - 511, buf, 1024), -ENXIO);
	KT_ASSERT_EQ(vblk_write(d, cap, buf, 512), -ENXIO);
	KT_ASSERT_EQ(vblk_read(d, 100, buf, 512), -EINVAL);
	KT_ASSERT_EQ(vblk_read(d, 0, buf, 100), -EINVAL);
	KT_ASSERT_EQ(vblk_read(d, 0, buf, 0), -EINVAL);
	KT_ASSERT_EQ(send_raw(d, VBLK_READ, 0, 0, segs, 0), -EINVAL);
	KT_ASSERT_EQ(send_raw(d, 77, 0, 0, NULL, 0), -EINVAL);
	for (i = 0; i <= VBLK_MAX_SEGS; i++) {
		segs[i].vs_base = buf;
		segs[i].vs_len = 512;
	}
	KT_ASSERT_EQ(send_raw(d, VBLK_READ, 0, 0, segs, VBLK_MAX_SEGS + 1),
	    -EINVAL);
	/* Unmapped memory is refused, not handed to the device. */
	segs[0].vs_base = (void *)(uintptr_t)0x10;
	KT_ASSERT_EQ(send_raw(d, VBLK_READ, 0, 0, segs, 1), -EFAULT);
	KT_ASSERT_EQ(vblk_discard(d, cap - 512, 4096), -ENXIO);
	KT_ASSERT_EQ(vblk_read(d, cap - 512, buf, 512), 0);
	KT_ASSERT_EQ(blkpat_check(BLKPAT_SEED_HOST, cap - 512, buf, 512), 512);
	vblk_get_stats(d, &st1);
	KT_ASSERT(st1.vbs_rejected - st0.vbs_rejected >= 10);
	KT_ASSERT_EQ(st1.vbs_vq.vqs_bad, 0);
	kfree(buf, 8192);
	kprintf("ktest: vblk: bad requests refused\n");
}

KTEST(vblk, readonly)
{
	struct vblk *d = disk("dfro");
	uint8_t *buf = kmalloc(65536, 0);
	struct vblk_stats st;
	struct vblk_info vi;

	if (d == NULL)
		return;
	vblk_get_info(d, &vi);
	KT_ASSERT(vi.vi_readonly);
	KT_ASSERT_EQ(vblk_write(d, 0, buf, 4096), -EROFS);
	KT_ASSERT_EQ(vblk_discard(d, 0, 4096), -EROFS);
	KT_ASSERT_EQ(vblk_read(d, 65536, buf, 65536), 0);
	KT_ASSERT_EQ(blkpat_check(BLKPAT_SEED_RO, 65536, buf, 65536), 65536);
	KT_ASSERT_EQ(vblk_flush(d), 0);
	check_whole(d, BLKPAT_SEED_RO);
	vblk_get_stats(d, &st);
	KT_ASSERT_EQ(st.vbs_writes, 0);
	KT_ASSERT_EQ(st.vbs_bytes_written, 0);
	kfree(buf, 65536);
	kprintf("ktest: vblk: read-only disk verified\n");
}

/*
 * The driver's test hook feeds a corrupted used entry: the disk is reset
 * and marked broken, every request then fails with -EIO, and the other
 * disks run on.
 */
KTEST(vblk, broken_ring)
{
	static const int faults[] = { VQ_FAULT_ID, VQ_FAULT_LEN,
		VQ_FAULT_USED_IDX };
	struct vblk *d = disk("dfbroken"), *h = vblk_lookup("dfhost");
	uint8_t *buf = kmalloc(4096, KM_ZERO);
	struct vblk_stats st;
	struct vblk_info vi;
	unsigned q;

	if (d == NULL)
		return;
	vblk_get_info(d, &vi);
	KT_ASSERT_EQ(vblk_write(d, 0, buf, 4096), 0);
	for (q = 0; q < vi.vi_nqueues; q++)
		KT_ASSERT_EQ(
		    vblk_inject_fault(d, q, faults[(arch_cpu_id() + q) % 3]),
		    0);
	KT_ASSERT_EQ(vblk_read(d, 0, buf, 4096), -EIO);
	KT_ASSERT(vblk_broken(d));
	KT_ASSERT_EQ(vblk_read(d, 0, buf, 4096), -EIO);
	KT_ASSERT_EQ(vblk_write(d, 4096, buf, 4096), -EIO);
	KT_ASSERT_EQ(vblk_flush(d), -EIO);
	vblk_get_stats(d, &st);
	KT_ASSERT_EQ(st.vbs_resets, 1);
	KT_ASSERT(st.vbs_vq.vqs_bad >= 1);
	if (h != NULL) {
		KT_ASSERT_EQ(vblk_read(h, 0, buf, 4096), 0);
		KT_ASSERT_EQ(blkpat_check(BLKPAT_SEED_HOST, 0, buf, 4096),
		    4096);
	}
	kfree(buf, 4096);
	kprintf("ktest: vblk: broken ring verified: %s reset, requests fail "
		"with -EIO, other disks run on\n",
	    vi.vi_name);
}

/* Config values out of range are refused with a reason. */
KTEST(vblk, config_checks)
{
	struct virtio_blk_config c;
	struct vblk_params p;
	uint64_t f = (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
	    (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
	    (1ULL << VIRTIO_BLK_F_MQ) | (1ULL << VIRTIO_BLK_F_DISCARD);

	memset(&c, 0, sizeof(c));
	c.capacity = 1000;
	c.blk_size = 4096;
	c.seg_max = 126;
	c.size_max = 65536;
	c.num_queues = 64;
	c.max_discard_sectors = 1 << 20;
	c.max_discard_seg = 1;
	KT_ASSERT_EQ(vblk_check_config("test", &c, f, 2, &p), 0);
	KT_ASSERT_EQ(p.bp_capacity, 1000 * 512 / 4096 * 4096);
	KT_ASSERT_EQ(p.bp_nqueues, 2);
	KT_ASSERT_EQ(p.bp_seg_max, VBLK_MAX_SEGS);
	KT_ASSERT_EQ(p.bp_discard_align, 8);
	c.blk_size = 3;
	KT_ASSERT_EQ(vblk_check_config("test", &c, f, 2, &p), -EINVAL);
	c.blk_size = 1 << 20;
	KT_ASSERT_EQ(vblk_check_config("test", &c, f, 2, &p), -EINVAL);
	c.blk_size = 512;
	c.seg_max = 0;
	KT_ASSERT_EQ(vblk_check_config("test", &c, f, 2, &p), -EINVAL);
	c.seg_max = 1;
	c.size_max = 100;
	KT_ASSERT_EQ(vblk_check_config("test", &c, f, 2, &p), -EINVAL);
	c.size_max = 4096;
	c.num_queues = 0;
	KT_ASSERT_EQ(vblk_check_config("test", &c, f, 2, &p), -EINVAL);
	c.num_queues = 1;
	c.capacity = UINT64_MAX;
	KT_ASSERT_EQ(vblk_check_config("test", &c, f, 2, &p), -EINVAL);
	c.capacity = 8;
	c.max_discard_sectors = 0;
	KT_ASSERT_EQ(vblk_check_config("test", &c, f, 2, &p), -EINVAL);
	c.max_discard_sectors = 8;
	c.discard_sector_alignment = 3;
	KT_ASSERT_EQ(vblk_check_config("test", &c, f, 2, &p), -EINVAL);
	/* Without the features, the fields are not looked at. */
	KT_ASSERT_EQ(vblk_check_config("test", &c, 0, 2, &p), 0);
	KT_ASSERT_EQ(p.bp_bsize, 512);
	KT_ASSERT(!p.bp_discard);
}
