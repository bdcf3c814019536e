/*
 * virtio-blk benchmarks (kbench group "virtio"), read by bench/run's
 * virtio area and set beside fio in the Linux guest on the same kind of
 * disk. Raw block I/O on the first disk (vda), through its port, the way
 * a file system would drive it:
 *
 *   virtio.blk_seq_read_mbps    sequential reads, 1 MiB requests, 8 in
 *                               flight (MB/s, 10^6 bytes a second)
 *   virtio.blk_seq_write_mbps   sequential writes, the same
 *   virtio.blk_rand_read_iops   random 4 KiB reads, 4 KiB-aligned and
 *                               uniform over the disk, 32 in flight (IOPS)
 *
 * Each is time-based, as fio's --time_based --ramp_time: requests run for
 * kbench.blk_ramp_ms (not counted, the warm-up: under TCG the first pass
 * through a path is translated), then kbench.blk_ms more; the figure is
 * what completed without error from the end of the warm-up to the last
 * completion, over that time. Sequential offsets wrap at the end of the
 * disk. One thread (the kbench runner's) keeps the window full: it sends
 * a request for every reply it takes from its port, so exactly DEPTH are
 * in flight. Buffers are kmalloc'd (page blocks for 1 MiB, identity-
 * mapped and physically contiguous, so a 1 MiB request is one data
 * descriptor). Each figure's line also gives the bytes the driver counted
 * for the job (vblk_get_stats), at least the bytes the figure counts.
 *
 * The check pass runs first, through the same windows: CHECK_MIB MiB at
 * the start of the disk written with 1 MiB requests (8 in flight), each
 * 8-byte word stamped with its disk offset and a salt taken from the clock
 * (so nothing left by an earlier run can pass), read back the same way
 * and then by CHECK_RAND random 4 KiB reads (32 in flight), every byte
 * compared; it also samples how many requests the driver had handed to
 * the device and not yet reaped (vqs_added - vqs_completed) after each
 * send. A check that fails prints why and no figure (the bench then
 * reports them missing).
 *
 * Not a test: it asserts nothing. Without a disk it says so and returns;
 * a request that fails or is not answered within REPLY_TIMEOUT ends that
 * figure (it is not printed, so the bench reports it missing).
 *
 * QEMU flags (bench/benchlib/areas/virtio.py): microvm -drive file=IMG,
 * if=none,id=d0,format=raw,cache=writeback -device virtio-blk-device,
 * drive=d0; q35 the same with virtio-blk-pci.
 */
#include <errno.h>
#include <string.h>
#include "arch/arch.h"
#include "core/config.h"
#include "core/kbench.h"
#include "core/kmalloc.h"
#include "sched/sched.h"
#include "virtio/virtio.h"

#define KB	      1024ULL
#define MB	      (1024ULL * 1024)
#define MS	      1000000ULL
#define SEQ_BS	      MB
#define SEQ_DEPTH     8
#define RAND_BS	      (4 * KB)
#define RAND_DEPTH    32
#define MAX_DEPTH     32
#define REPLY_TIMEOUT (10000 * MS)
#define LATE_WAIT     (50000 * MS) /* after a timeout: for the diagnosis */
#define CHECK_MIB     16	   /* the check pass's region, at most */
#define CHECK_RAND    2048	   /* its random reads */

static int64_t blk_ms = 3000;
CFG_INT(kbench_blk_ms, "kbench.blk_ms", blk_ms, 1, 600000,
    "virtio-blk benchmarks: measured milliseconds per figure");
static int64_t blk_ramp_ms = 500;
CFG_INT(kbench_blk_ramp_ms, "kbench.blk_ramp_ms", blk_ramp_ms, 0, 600000,
    "virtio-blk benchmarks: warm-up milliseconds before each figure");

struct breq {
	struct vblk_msg br_msg;
	struct vblk_seg br_seg;
	void *br_buf;
};

struct bjob {
	const char *bj_what; /* for messages */
	struct vblk *bj_disk;
	int bj_op; /* VBLK_READ, VBLK_WRITE */
	size_t bj_bs;
	int bj_depth;
	bool bj_random;
	uint64_t bj_cap;  /* bytes of the disk used: a multiple of bj_bs */
	uint64_t bj_next; /* sequential: the next offset */
	uint64_t bj_rnd;  /* random: xorshift state */
	struct breq bj_req[MAX_DEPTH];
	int bj_busy; /* requests in flight */
	/* Check pass: a count of requests instead of a time; writes are
	 * stamped, reads compared. */
	uint64_t bj_count; /* 0: time-based */
	uint64_t bj_sent;
	uint64_t bj_salt;
	uint64_t bj_bad;     /* reads that did not match */
	uint64_t bj_bad_off; /* the first one's disk offset */
	uint64_t bj_atdev;   /* most requests at the device at once */
	/* Counted from the end of the warm-up (time-based) or the start. */
	uint64_t bj_t0, bj_tlast;
	uint64_t bj_ops, bj_bytes;
};

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static uint64_t
next_offset(struct bjob *j)
{
	uint64_t off;

	if (j->bj_random)
		return xorshift(&j->bj_rnd) % (j->bj_cap / j->bj_bs) * j->bj_bs;
	off = j->bj_next;
	j->bj_next = off + j->bj_bs >= j->bj_cap ? 0 : off + j->bj_bs;
	return off;
}

/* ---- the check pass's pattern: each word names its disk offset ---- */

static uint64_t
stamp(uint64_t salt, uint64_t off)
{
	return (off * 0x9e3779b97f4a7c15ULL) ^ salt;
}

static void
fill(void *buf, size_t len, uint64_t off, uint64_t salt)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = stamp(salt, off + i * 8);
}

/* True when buf holds what fill() wrote for [off, off + len). */
static bool
matches(const void *buf, size_t len, uint64_t off, uint64_t salt)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != stamp(salt, off + i * 8))
			return false;
	return true;
}

/* Requests the driver handed to the device and has not reaped yet. */
static uint64_t
at_device(struct vblk *d)
{
	struct vblk_stats st;

	vblk_get_stats(d, &st);
	return st.vbs_vq.vqs_added - st.vbs_vq.vqs_completed;
}

static void
send_req(struct bjob *j, struct breq *r)
{
	memset(&r->br_msg, 0, sizeof(r->br_msg));
	r->br_seg.vs_base = r->br_buf;
	r->br_seg.vs_len = j->bj_bs;
	r->br_msg.bm_op = j->bj_op;
	r->br_msg.bm_offset = next_offset(j);
	r->br_msg.bm_segs = &r->br_seg;
	r->br_msg.bm_nsegs = 1;
	if (j->bj_count != 0 && j->bj_op == VBLK_WRITE)
		fill(r->br_buf, j->bj_bs, r->br_msg.bm_offset, j->bj_salt);
	lwkt_initmsg(&r->br_msg.bm_msg, lwkt_thread_port(), 0);
	lwkt_sendmsg(vblk_port(j->bj_disk), &r->br_msg.bm_msg);
	j->bj_sent++;
	j->bj_busy++;
}

/* Buffers for the window, filled with a pattern (no zero pages). */
static int
alloc_bufs(struct bjob *j)
{
	int i;

	for (i = 0; i < j->bj_depth; i++) {
		if ((j->bj_req[i].br_buf = kmalloc(j->bj_bs, 0)) == NULL)
			return -ENOMEM;
		memset(j->bj_req[i].br_buf, 0x5a + i, j->bj_bs);
	}
	return 0;
}

static void
free_bufs(struct bjob *j)
{
	int i;

	for (i = 0; i < j->bj_depth; i++)
		if (j->bj_req[i].br_buf != NULL)
			kfree(j->bj_req[i].br_buf, j->bj_bs);
}

/*
 * One successful completion of the time-based job: counts it once the
 * warm-up is over, and says whether to send another.
 */
static bool
complete_timed(struct bjob *j, uint64_t now, uint64_t ramp_end, uint64_t *end)
{
	if (j->bj_t0 == 0) {
		if (now < ramp_end)
			return true;
		j->bj_t0 = now; /* the warm-up ends with this completion */
		*end = now + (uint64_t)blk_ms * MS;
		return true;
	}
	j->bj_ops++;
	j->bj_bytes += j->bj_bs;
	j->bj_tlast = now;
	return now < *end;
}

/* One successful completion of the check pass: compares a read. */
static bool
complete_check(struct bjob *j, struct breq *r)
{
	if (j->bj_op == VBLK_READ &&
	    !matches(r->br_buf, j->bj_bs, r->br_msg.bm_offset, j->bj_salt) &&
	    j->bj_bad++ == 0)
		j->bj_bad_off = r->br_msg.bm_offset;
	j->bj_ops++;
	j->bj_bytes += j->bj_bs;
	return j->bj_sent < j->bj_count;
}

static void
sample_device(struct bjob *j)
{
	uint64_t n;

	if (j->bj_count != 0 && (n = at_device(j->bj_disk)) > j->bj_atdev)
		j->bj_atdev = n;
}

/*
 * Keeps bj_depth requests in flight until the time is up (or bj_count
 * are sent), then drains. 0, the first request error, or -ETIMEDOUT (the
 * buffers then stay the driver's: the caller must not free them).
 */
static int
run_window(struct bjob *j)
{
	uint64_t ramp_end = arch_nanotime() + (uint64_t)blk_ramp_ms * MS;
	uint64_t end = UINT64_MAX;
	int err = 0, i;
	bool more;

	for (i = 0; i < j->bj_depth; i++)
		if (j->bj_count == 0 || j->bj_sent < j->bj_count)
			send_req(j, &j->bj_req[i]);
	sample_device(j);
	while (j->bj_busy > 0) {
		struct lwkt_msg *m =
		    lwkt_waitport(lwkt_thread_port(), REPLY_TIMEOUT);
		struct breq *r = (struct breq *)m;

		if (m == NULL)
			return -ETIMEDOUT;
		j->bj_busy--;
		if (m->ms_error != 0) {
			if (err == 0)
				err = m->ms_error;
			continue; /* not counted; nothing more is sent */
		}
		if (j->bj_count != 0)
			more = complete_check(j, r);
		else
			more =
			    complete_timed(j, arch_nanotime(), ramp_end, &end);
		if (more && err == 0) {
			send_req(j, r);
			sample_device(j);
		}
	}
	return err;
}

static uint64_t
driver_bytes(struct vblk *d, int op)
{
	struct vblk_stats st;

	vblk_get_stats(d, &st);
	return op == VBLK_READ ? st.vbs_bytes_read : st.vbs_bytes_written;
}

/*
 * After a timeout: waits up to LATE_WAIT more for the requests still out
 * and says what came back, so that a stall (replies arrive late) can be
 * told from a lost completion (never). The figure is lost either way.
 * Returns true when every buffer is back (they may be freed).
 */
static bool
late_replies(struct bjob *j)
{
	struct vblk_stats st;
	uint64_t t0 = arch_nanotime(), first = 0;
	int out = j->bj_busy, back = 0;

	vblk_get_stats(j->bj_disk, &st);
	kprintf("kbench: virtio: %s: no reply within %llu ms, %d requests in "
		"flight, %llu counted; the driver: %llu at the device, %llu "
		"interrupts, %llu polls\n",
	    j->bj_what, (unsigned long long)(REPLY_TIMEOUT / MS), out,
	    (unsigned long long)j->bj_ops,
	    (unsigned long long)(st.vbs_vq.vqs_added - st.vbs_vq.vqs_completed),
	    (unsigned long long)st.vbs_vq.vqs_interrupts,
	    (unsigned long long)st.vbs_vq.vqs_polls);
	while (j->bj_busy > 0) {
		uint64_t left = t0 + LATE_WAIT - arch_nanotime();

		if ((int64_t)left <= 0 ||
		    lwkt_waitport(lwkt_thread_port(), left) == NULL)
			break;
		if (back++ == 0)
			first = arch_nanotime() - t0;
		j->bj_busy--;
	}
	vblk_get_stats(j->bj_disk, &st);
	kprintf("kbench: virtio: %s: in the next %llu ms, %d of the %d came "
		"back (the first after %llu ms); the driver: %llu at the "
		"device, %llu interrupts\n",
	    j->bj_what, (unsigned long long)((arch_nanotime() - t0) / MS), back,
	    out, (unsigned long long)(first / MS),
	    (unsigned long long)(st.vbs_vq.vqs_added - st.vbs_vq.vqs_completed),
	    (unsigned long long)st.vbs_vq.vqs_interrupts);
	return j->bj_busy == 0;
}

/* Runs j with its buffers: 0, or -errno (said why). */
static int
run_job_bufs(struct bjob *j)
{
	int err;

	if ((err = alloc_bufs(j)) != 0) {
		kprintf("kbench: virtio: %s: no memory for buffers\n",
		    j->bj_what);
		free_bufs(j);
		return err;
	}
	err = run_window(j);
	if (err == -ETIMEDOUT) {
		if (late_replies(j))
			free_bufs(j);
		return err; /* else the buffers are still the driver's */
	}
	free_bufs(j);
	if (err != 0)
		kprintf("kbench: virtio: %s: error %d after %llu requests\n",
		    j->bj_what, err, (unsigned long long)j->bj_ops);
	return err;
}

/* The figures in thousandths, MB/s and IOPS: 0, or -errno (said why). */
static int
measure(struct bjob *j, uint64_t *mbps_milli, uint64_t *iops_milli)
{
	uint64_t ns, drv = driver_bytes(j->bj_disk, j->bj_op);
	int err;

	if ((err = run_job_bufs(j)) != 0)
		return err;
	drv = driver_bytes(j->bj_disk, j->bj_op) - drv;
	ns = j->bj_tlast - j->bj_t0;
	if (j->bj_ops == 0 || ns == 0) {
		kprintf("kbench: virtio: %s: nothing completed after the "
			"warm-up\n",
		    j->bj_what);
		return -EIO;
	}
	/* bytes/ns * 10^9 / 10^6 MB/s, in thousandths: bytes * 10^6 / ns */
	*mbps_milli = (uint64_t)((__uint128_t)j->bj_bytes * 1000000 / ns);
	*iops_milli = (uint64_t)((__uint128_t)j->bj_ops * 1000000000000 / ns);
	kprintf("kbench: virtio: %s: %llu requests of %zu bytes in %llu ms "
		"(%d in flight); the driver moved %llu bytes in the job, "
		"warm-up included\n",
	    j->bj_what, (unsigned long long)j->bj_ops, j->bj_bs,
	    (unsigned long long)(ns / MS), j->bj_depth,
	    (unsigned long long)drv);
	return 0;
}

static void
job_init(struct bjob *j, struct vblk *d, uint64_t cap, const char *what, int op,
    size_t bs, int depth, bool random)
{
	memset(j, 0, sizeof(*j));
	j->bj_what = what;
	j->bj_disk = d;
	j->bj_op = op;
	j->bj_bs = bs;
	j->bj_depth = depth;
	j->bj_random = random;
	j->bj_cap = cap / bs * bs;
	j->bj_rnd = 0x9e3779b97f4a7c15ULL;
}

static struct bjob job; /* 32 requests: too big for a kernel stack */

static int
run_job(struct vblk *d, uint64_t cap, const char *what, int op, size_t bs,
    int depth, bool random, uint64_t *mbps, uint64_t *iops)
{
	job_init(&job, d, cap, what, op, bs, depth, random);
	return measure(&job, mbps, iops);
}

/* One step of the check pass: count requests over [0, region). */
static int
check_step(struct vblk *d, uint64_t region, uint64_t salt, const char *what,
    int op, size_t bs, int depth, bool random, uint64_t count, uint64_t *atdev)
{
	int err;

	job_init(&job, d, region, what, op, bs, depth, random);
	job.bj_count = count;
	job.bj_salt = salt;
	job.bj_rnd ^= salt;
	if ((err = run_job_bufs(&job)) != 0)
		return err;
	*atdev = job.bj_atdev;
	if (job.bj_ops != count) {
		kprintf("kbench: virtio: check failed: %s: %llu of %llu "
			"requests completed\n",
		    what, (unsigned long long)job.bj_ops,
		    (unsigned long long)count);
		return -EIO;
	}
	if (job.bj_bad != 0) {
		kprintf("kbench: virtio: check failed: %s: %llu of %llu "
			"requests read other bytes than were written, the "
			"first at offset %llu\n",
		    what, (unsigned long long)job.bj_bad,
		    (unsigned long long)count,
		    (unsigned long long)job.bj_bad_off);
		return -EIO;
	}
	return 0;
}

/*
 * The check pass (see the top): 0 when every byte read back was the one
 * written, else -errno (said why).
 */
static int
check_disk(struct vblk *d, uint64_t cap)
{
	uint64_t region = cap < CHECK_MIB * MB ? cap / MB * MB : CHECK_MIB * MB;
	uint64_t salt = arch_nanotime() * 0xff51afd7ed558ccdULL | 1;
	uint64_t w, r, rr;
	int err;

	if ((err = check_step(d, region, salt, "check write", VBLK_WRITE,
		 SEQ_BS, SEQ_DEPTH, false, region / SEQ_BS, &w)) != 0 ||
	    (err = check_step(d, region, salt, "check read", VBLK_READ, SEQ_BS,
		 SEQ_DEPTH, false, region / SEQ_BS, &r)) != 0 ||
	    (err = check_step(d, region, salt, "check random read", VBLK_READ,
		 RAND_BS, RAND_DEPTH, true, CHECK_RAND, &rr)) != 0)
		return err;
	kprintf("kbench: virtio: check: %llu MiB written (1 MiB requests, %d "
		"in flight) and read back (%d in flight), then %d random 4 KiB "
		"reads (%d in flight): every byte as written; at most %llu, "
		"%llu and %llu requests at the device at once\n",
	    (unsigned long long)(region / MB), SEQ_DEPTH, SEQ_DEPTH, CHECK_RAND,
	    RAND_DEPTH, (unsigned long long)w, (unsigned long long)r,
	    (unsigned long long)rr);
	return 0;
}

static void
print_stats(struct vblk *d, const char *name)
{
	struct vblk_stats st;

	vblk_get_stats(d, &st);
	kprintf("kbench: virtio: %s: %llu reads, %llu writes, %llu errors, "
		"%llu waited for ring room; ring: %llu added, %llu completed, "
		"%llu kicks, %llu saved; %llu interrupts, %llu polls\n",
	    name, (unsigned long long)st.vbs_reads,
	    (unsigned long long)st.vbs_writes,
	    (unsigned long long)st.vbs_errors,
	    (unsigned long long)st.vbs_queued,
	    (unsigned long long)st.vbs_vq.vqs_added,
	    (unsigned long long)st.vbs_vq.vqs_completed,
	    (unsigned long long)st.vbs_vq.vqs_kicks,
	    (unsigned long long)st.vbs_vq.vqs_kicks_saved,
	    (unsigned long long)st.vbs_vq.vqs_interrupts,
	    (unsigned long long)st.vbs_vq.vqs_polls);
}

/* The three figures, in order; a disk that stops answering ends them. */
static void
run_all(struct vblk *d, const struct vblk_info *vi)
{
	uint64_t mbps, iops;
	int err;

	err = run_job(d, vi->vi_capacity, "sequential read", VBLK_READ, SEQ_BS,
	    SEQ_DEPTH, false, &mbps, &iops);
	if (err == 0)
		kbench_report("virtio.blk_seq_read_mbps", mbps, "MB/s");
	if (err == -ETIMEDOUT)
		return;
	err = run_job(d, vi->vi_capacity, "sequential write", VBLK_WRITE,
	    SEQ_BS, SEQ_DEPTH, false, &mbps, &iops);
	if (err == 0)
		kbench_report("virtio.blk_seq_write_mbps", mbps, "MB/s");
	if (err == -ETIMEDOUT)
		return;
	err = run_job(d, vi->vi_capacity, "random read", VBLK_READ, RAND_BS,
	    RAND_DEPTH, true, &mbps, &iops);
	if (err == 0)
		kbench_report("virtio.blk_rand_read_iops", iops, "IOPS");
}

KBENCH(virtio, blk)
{
	struct vblk *d = vblk_get(0);
	struct vblk_info vi;

	if (d == NULL) {
		kprintf("kbench: virtio: no block device\n");
		return;
	}
	vblk_get_info(d, &vi);
	kprintf("kbench: virtio: %s, %llu MiB, %u-byte blocks, %u queue(s) "
		"of %u, %s, %s interrupts; %lld ms per figure after %lld ms\n",
	    vi.vi_name, (unsigned long long)(vi.vi_capacity / MB),
	    vi.vi_block_size, vi.vi_nqueues, vi.vi_queue_size, vi.vi_transport,
	    vi.vi_intr, (long long)blk_ms, (long long)blk_ramp_ms);
	if (vi.vi_capacity < SEQ_BS * SEQ_DEPTH || vi.vi_block_size > RAND_BS) {
		kprintf("kbench: virtio: %s is too small or its blocks too "
			"large for the benchmarks\n",
		    vi.vi_name);
		return;
	}
	if (vi.vi_readonly) {
		/* The check pass and the write figure need a writable disk. */
		kprintf("kbench: virtio: %s is read-only: no figures\n",
		    vi.vi_name);
		return;
	}
	if (check_disk(d, vi.vi_capacity) == 0)
		run_all(d, &vi);
	print_stats(d, vi.vi_name);
}
