/*
 * Sleep and wakeup. Sleeping threads wait on a hash of sleep queues, each
 * bucket under its own spinlock; a wakeup takes the sleepers it wakes off
 * their bucket and then schedules them on their own CPUs (by IPI when they
 * are elsewhere), outside the spinlock.
 *
 * No wakeup is lost: a sleeper goes on its bucket and off its run queue
 * inside one critical section, before it releases its tokens (at the
 * switch) or its spinlock (ssleep); a waker that changed the condition
 * under the same token or spinlock therefore finds it on the bucket. An
 * IPI that schedules it arrives after it left the run queue, because IPIs
 * wait for the end of the critical section.
 *
 * A timeout is a callout on the sleeper's CPU that takes the sleeper off
 * its bucket, if it is still there, and schedules it.
 *
 * Being scheduled is not being woken: the IPI of a wakeup can arrive
 * after its thread already went back to sleep on something else, so a
 * sleeper that finds itself still queued sleeps again (sleep_wait).
 */
#include <errno.h>
#include "sched/sched.h"
#include "sched/sched_internal.h"

#define SLEEPQ_BUCKETS 256

struct sleepq_bucket {
	struct spinlock sb_lock;
	TAILQ_HEAD(, thread) sb_q;
} __aligned(64);

static struct sleepq_bucket buckets[SLEEPQ_BUCKETS];
static bool buckets_ready;

static struct sleepq_bucket *
bucket_of(const volatile void *ident)
{
	uintptr_t h = (uintptr_t)ident;

	if (!buckets_ready) {
		int i;
		for (i = 0; i < SLEEPQ_BUCKETS; i++)
			TAILQ_INIT(&buckets[i].sb_q);
		buckets_ready = true; /* first use is on the boot CPU, alone */
	}
	h ^= h >> 7;
	h ^= h >> 15;
	return &buckets[h % SLEEPQ_BUCKETS];
}

/*
 * Switches away until a wakeup or the timeout took the thread off its
 * sleep queue. A schedule that is not such a wakeup (a late IPI from an
 * earlier one, after which the thread slept again) sends it back to
 * sleep. In a critical section, off the run queue.
 */
static void
sleep_wait(struct thread *td, struct sleepq_bucket *b,
    const volatile void *ident)
{
	bool queued;

	for (;;) {
		lwkt_switch();
		spin_lock(&b->sb_lock);
		queued = td->td_wchan == ident;
		spin_unlock(&b->sb_lock);
		if (!queued)
			return;
		lwkt_deschedule_self();
	}
}

static void sleep_timeout(void *arg);

/* Puts td on ident's bucket b (a wakeup from now on takes it off). */
static void
sleepq_enter(struct thread *td, struct sleepq_bucket *b,
    const volatile void *ident, const char *wmesg)
{
	spin_lock(&b->sb_lock);
	td->td_wchan = ident;
	td->td_wmesg = wmesg;
	td->td_timedout = false;
	TAILQ_INSERT_TAIL(&b->sb_q, td, td_sleepq);
	spin_unlock(&b->sb_lock);
}

/*
 * The thread is on ident's bucket, in a critical section: off the run
 * queue, a timeout armed, switch until woken. 0, or -EWOULDBLOCK.
 */
static int
sleep_block(struct thread *td, struct sleepq_bucket *b,
    const volatile void *ident, uint64_t timo_ns)
{
	lwkt_deschedule_self();
	if (timo_ns > 0)
		callout_reset(&td->td_sleep_timer, timo_ns, sleep_timeout, td);
	sleep_wait(td, b, ident);
	if (timo_ns > 0)
		callout_stop(&td->td_sleep_timer);
	return td->td_timedout ? -EWOULDBLOCK : 0;
}

static void
sleep_timeout(void *arg)
{
	struct thread *td = arg;
	struct sleepq_bucket *b;
	bool woke = false;

	b = bucket_of(td->td_wchan ? td->td_wchan : (const void *)td);
	spin_lock(&b->sb_lock);
	if (td->td_wchan != NULL) {
		TAILQ_REMOVE(&b->sb_q, td, td_sleepq);
		td->td_wchan = NULL;
		td->td_timedout = true;
		woke = true;
	}
	spin_unlock(&b->sb_lock);
	if (woke)
		lwkt_schedule(td);
}

int
ssleep(const volatile void *ident, struct spinlock *spin, const char *wmesg,
    uint64_t timo_ns)
{
	struct thread *td = curthread;
	struct sleepq_bucket *b = bucket_of(ident);
	int r;

	KKASSERT(ident != NULL);
	sched_assert_can_block("ssleep");
	crit_enter();
	sleepq_enter(td, b, ident, wmesg);
	if (spin != NULL)
		spin_unlock(spin);
	r = sleep_block(td, b, ident, timo_ns);
	crit_exit();
	return r;
}

int
tsleep(const volatile void *ident, const char *wmesg, uint64_t timo_ns)
{
	return ssleep(ident, NULL, wmesg, timo_ns);
}

void
tsleep_interlock(const volatile void *ident, const char *wmesg)
{
	struct thread *td = curthread;
	struct sleepq_bucket *b = bucket_of(ident);

	KKASSERT(ident != NULL);
	if (td->td_wchan != NULL)
		panic("tsleep_interlock(%p, %s): thread %s is still asleep on "
		      "%p (%s)",
		    ident, wmesg, td->td_name, td->td_wchan, td->td_wmesg);
	sleepq_enter(td, b, ident, wmesg);
}

int
tsleep_interlocked(const volatile void *ident, uint64_t timo_ns)
{
	struct thread *td = curthread;
	struct sleepq_bucket *b = bucket_of(ident);
	bool queued;
	int r;

	sched_assert_can_block("tsleep_interlocked");
	crit_enter();
	spin_lock(&b->sb_lock);
	queued = td->td_wchan == ident;
	spin_unlock(&b->sb_lock);
	if (!queued) { /* the wakeup came first */
		crit_exit();
		return 0;
	}
	/* A wakeup from here on schedules us after the deschedule below:
	 * from this CPU it waits for the critical section, from another it
	 * comes by IPI, which waits too. */
	r = sleep_block(td, b, ident, timo_ns);
	crit_exit();
	return r;
}

void
tsleep_interlock_cancel(void)
{
	struct thread *td = curthread;
	const volatile void *ident = td->td_wchan;
	struct sleepq_bucket *b;

	if (ident == NULL)
		return;
	b = bucket_of(ident);
	spin_lock(&b->sb_lock);
	if (td->td_wchan == ident) {
		TAILQ_REMOVE(&b->sb_q, td, td_sleepq);
		td->td_wchan = NULL;
	}
	spin_unlock(&b->sb_lock);
}

/*
 * Takes the sleepers off their bucket under its lock, holding each (once
 * unlocked, one that had only interlocked may run, exit and be freed),
 * then schedules them outside it, where scheduling may send IPIs and
 * wait. They are gathered in a local batch, not through their td_sleepq
 * links, which a thread that runs may reuse at once.
 */
#define WAKE_BATCH 32

static void
wake(const volatile void *ident, bool one)
{
	struct sleepq_bucket *b = bucket_of(ident);
	struct thread *batch[WAKE_BATCH], *td, *next;
	int n, i;
	bool more;

	do {
		n = 0;
		spin_lock(&b->sb_lock);
		TAILQ_FOREACH_SAFE (td, &b->sb_q, td_sleepq, next) {
			if (td->td_wchan != ident)
				continue;
			TAILQ_REMOVE(&b->sb_q, td, td_sleepq);
			td->td_wchan = NULL;
			lwkt_hold(td);
			batch[n++] = td;
			if (one || n == WAKE_BATCH)
				break;
		}
		spin_unlock(&b->sb_lock);
		more = !one && n == WAKE_BATCH;
		for (i = 0; i < n; i++) {
			lwkt_schedule(batch[i]);
			lwkt_rele(batch[i]);
		}
	} while (more);
}

void
wakeup(const volatile void *ident)
{
	wake(ident, false);
}

void
wakeup_one(const volatile void *ident)
{
	wake(ident, true);
}
