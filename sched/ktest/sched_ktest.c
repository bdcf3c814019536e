/*
 * In-guest tests of LWKT. The boot harness runs them on 1, 2 and 4 CPUs
 * (test/CMakeLists.txt); tests that need two CPUs report a skip on one.
 *
 * Every test waits for its threads with lwkt_join, so a lost wakeup or a
 * deadlock shows as a hang, which the runner's watchdog reports by name.
 */
#include <errno.h>
#include <string.h>
#include "core/ktest.h"
#include "core/page.h"
#include "sched/sched.h"

#define SEC 1000000000ULL
#define MS  1000000ULL

static void
join_all(struct thread **td, int n)
{
	int i;

	for (i = 0; i < n; i++)
		lwkt_join(td[i]);
}

/* ---------------------------------------------------------------- */

static volatile int ran_on[256];

static void
record_cpu(void *arg)
{
	ran_on[(uintptr_t)arg] = mycpuid + 1;
}

/* Threads created on every CPU run there; joined threads are freed. */
KTEST(sched, create_join)
{
	struct thread *td[256];
	struct sched_stats before, after;
	int i, n = (int)lwkt_ncpus * 16;

	sched_get_stats(&before);
	memset((void *)ran_on, 0, sizeof(ran_on));
	for (i = 0; i < n; i++)
		KT_ASSERT_EQ(lwkt_create(record_cpu, (void *)(uintptr_t)i,
				 &td[i], i % (int)lwkt_ncpus, TDPRI_KERN,
				 TDF_JOINABLE, 0, "create"),
		    0);
	join_all(td, n);
	for (i = 0; i < n; i++)
		KT_ASSERT_EQ(ran_on[i], i % (int)lwkt_ncpus + 1);
	sched_get_stats(&after);
	KT_ASSERT_EQ(after.ss_threads, before.ss_threads);
	KT_ASSERT_EQ(lwkt_create(record_cpu, NULL, NULL, (int)lwkt_ncpus,
			 TDPRI_KERN, 0, 0, "bad"),
	    -EINVAL);
	KT_ASSERT_EQ(
	    lwkt_create(record_cpu, NULL, NULL, 0, TDPRI_IDLE, 0, 0, "bad"),
	    -EINVAL);
}

/* ---------------------------------------------------------------- */

static int order_log[64];
static volatile int order_n;

static void
log_pri(void *arg)
{
	order_log[order_n++] = (int)(uintptr_t)arg;
}

/*
 * Higher priorities run first: three threads made runnable while this one
 * outranks them run, once it drops below them, in priority order.
 */
KTEST(sched, priority_order)
{
	static const int pris[] = { TDPRI_KERN, TDPRI_SOFTINT, TDPRI_USER,
		TDPRI_INT };
	struct thread *td[4];
	int i;

	order_n = 0;
	lwkt_setpri_self(TDPRI_MAX);
	for (i = 0; i < 4; i++)
		KT_ASSERT_EQ(lwkt_create(log_pri, (void *)(uintptr_t)pris[i],
				 &td[i], mycpuid, pris[i], TDF_JOINABLE, 0,
				 "pri"),
		    0);
	KT_ASSERT_EQ(order_n, 0); /* none ran: we outrank them all */
	lwkt_setpri_self(TDPRI_USER_IDLE);
	KT_ASSERT_EQ(order_n, 4);
	KT_ASSERT_EQ(order_log[0], TDPRI_INT);
	KT_ASSERT_EQ(order_log[1], TDPRI_SOFTINT);
	KT_ASSERT_EQ(order_log[2], TDPRI_KERN);
	KT_ASSERT_EQ(order_log[3], TDPRI_USER);
	lwkt_setpri_self(TDPRI_USER);
	join_all(td, 4);
}

static void
yielder(void *arg)
{
	int i;

	for (i = 0; i < 4; i++) {
		order_log[order_n++] = (int)(uintptr_t)arg;
		lwkt_yield();
	}
}

/* Threads of one priority take turns when they yield. */
KTEST(sched, yield_round_robin)
{
	struct thread *td[3];
	int i;

	order_n = 0;
	lwkt_setpri_self(TDPRI_MAX);
	for (i = 0; i < 3; i++)
		KT_ASSERT_EQ(lwkt_create(yielder, (void *)(uintptr_t)i, &td[i],
				 mycpuid, TDPRI_KERN, TDF_JOINABLE, 0, "yield"),
		    0);
	lwkt_setpri_self(TDPRI_USER);
	join_all(td, 3);
	KT_ASSERT_EQ(order_n, 12);
	for (i = 0; i < 12; i++)
		KT_ASSERT_EQ(order_log[i], i % 3);
}

/* ---------------------------------------------------------------- */

static volatile bool spin_stop;
static volatile uint64_t woke_at, released_at;
static struct lwkt_token preempt_tok = LWKT_TOKEN_INITIALIZER(preempt_tok);

static void
sleeper_high(void *arg)
{
	tsleep(&woke_at, "hi", 5 * MS); /* woken by the timer interrupt */
	woke_at = arch_nanotime();
	spin_stop = true;
}

/* Spins until the high-priority thread runs, or 5 s. */
static void
spinner_low(void *arg)
{
	uint64_t end = arch_nanotime() + 5 * SEC;
	int mode = (int)(uintptr_t)arg;

	if (mode == 1)
		lwkt_gettoken(&preempt_tok);
	if (mode == 2)
		crit_enter();
	if (mode != 0) {
		/* Holding a token or in a critical section: not preempted. */
		uint64_t hold = arch_nanotime() + 50 * MS;
		while (arch_nanotime() < hold)
			;
		released_at = arch_nanotime();
		if (mode == 1)
			lwkt_reltoken(&preempt_tok);
		else
			crit_exit();
	}
	while (!spin_stop && arch_nanotime() < end)
		;
}

static void
preempt_case(int mode)
{
	struct thread *hi, *lo;

	spin_stop = false;
	woke_at = released_at = 0;
	lwkt_setpri_self(TDPRI_MAX);
	KT_ASSERT_EQ(lwkt_create(sleeper_high, NULL, &hi, mycpuid, TDPRI_INT,
			 TDF_JOINABLE, 0, "hi"),
	    0);
	KT_ASSERT_EQ(lwkt_create(spinner_low, (void *)(uintptr_t)mode, &lo,
			 mycpuid, TDPRI_KERN, TDF_JOINABLE, 0, "lo"),
	    0);
	lwkt_setpri_self(TDPRI_USER);
	lwkt_join(lo);
	lwkt_join(hi);
	KT_ASSERT(
	    spin_stop); /* the spinner was preempted, it did not time out */
	if (mode != 0)
		KT_ASSERT(woke_at >= released_at);
}

/* A thread woken by an interrupt preempts a lower-priority thread that
 * never yields; not while that thread holds a token or is in a critical
 * section, but as soon as it leaves them. */
KTEST(sched, preemption)
{
	struct sched_stats a, b;

	sched_get_stats(&a);
	preempt_case(0);
	sched_get_stats(&b);
	KT_ASSERT(b.ss_preemptions > a.ss_preemptions);
	preempt_case(1);
	preempt_case(2);
}

/* ---------------------------------------------------------------- */

static struct lwkt_token mx_tok = LWKT_TOKEN_INITIALIZER(mx_tok);
static volatile int mx_inside, mx_violations;
static volatile long mx_counter;

static void
token_worker(void *arg)
{
	int i, j;

	for (i = 0; i < 300; i++) {
		lwkt_gettoken(&mx_tok);
		if (mx_inside++ != 0)
			mx_violations++;
		long c = mx_counter;
		for (j = 0; j < 50; j++)
			__asm__ volatile("pause");
		mx_counter = c + 1;
		mx_inside--;
		lwkt_reltoken(&mx_tok);
		if (i % 16 == 0)
			lwkt_yield();
	}
}

/* Eight threads per CPU take one token: never two inside at once. */
KTEST(sched, token_mutual_exclusion)
{
	struct thread *td[8 * ARCH_MAX_CPUS];
	int i, n = 8 * (int)lwkt_ncpus;

	mx_counter = 0;
	mx_violations = 0;
	for (i = 0; i < n; i++)
		KT_ASSERT_EQ(lwkt_create(token_worker, NULL, &td[i],
				 i % (int)lwkt_ncpus, TDPRI_KERN, TDF_JOINABLE,
				 0, "tok"),
		    0);
	join_all(td, n);
	KT_ASSERT_EQ(mx_violations, 0);
	KT_ASSERT_EQ(mx_counter, 300L * n);
	KT_ASSERT_EQ(mx_tok.t_count, 0);
}

static struct lwkt_token sh_tok = LWKT_TOKEN_INITIALIZER(sh_tok);
static volatile int sh_readers, sh_writer, sh_bad, sh_max_readers;

static void
shared_worker(void *arg)
{
	int i, writer = (int)(uintptr_t)arg;

	for (i = 0; i < 200; i++) {
		if (writer) {
			lwkt_gettoken(&sh_tok);
			if (sh_readers != 0 || sh_writer++ != 0)
				sh_bad++;
			for (int j = 0; j < 20; j++)
				__asm__ volatile("pause");
			sh_writer--;
		} else {
			lwkt_gettoken_shared(&sh_tok);
			int r = __atomic_add_fetch(&sh_readers, 1,
			    __ATOMIC_SEQ_CST);
			if (r > sh_max_readers)
				sh_max_readers = r;
			if (sh_writer != 0)
				sh_bad++;
			for (int j = 0; j < 20; j++)
				__asm__ volatile("pause");
			__atomic_sub_fetch(&sh_readers, 1, __ATOMIC_SEQ_CST);
		}
		lwkt_reltoken(&sh_tok);
		if (i % 8 == 0)
			lwkt_yield();
	}
}

/* Shared holders exclude exclusive ones, not each other. */
KTEST(sched, token_shared)
{
	struct thread *td[6 * ARCH_MAX_CPUS];
	int i, n = 6 * (int)lwkt_ncpus;

	sh_bad = sh_max_readers = 0;
	for (i = 0; i < n; i++)
		KT_ASSERT_EQ(lwkt_create(shared_worker,
				 (void *)(uintptr_t)(i % 3 == 0), &td[i],
				 i % (int)lwkt_ncpus, TDPRI_KERN, TDF_JOINABLE,
				 0, "shared"),
		    0);
	join_all(td, n);
	KT_ASSERT_EQ(sh_bad, 0);
	KT_ASSERT_EQ(sh_tok.t_count, 0);
	/* Recursion and trying */
	lwkt_gettoken(&sh_tok);
	lwkt_gettoken(&sh_tok);
	lwkt_gettoken_shared(&sh_tok);
	KT_ASSERT(lwkt_token_held_excl(&sh_tok));
	lwkt_reltoken(&sh_tok);
	lwkt_reltoken(&sh_tok);
	KT_ASSERT(lwkt_trytoken(&sh_tok)); /* recursive try */
	lwkt_reltoken(&sh_tok);
	lwkt_reltoken(&sh_tok);
	KT_ASSERT_EQ(sh_tok.t_count, 0);
	KT_ASSERT(
	    lwkt_token_pool_lookup(&sh_tok) == lwkt_token_pool_lookup(&sh_tok));
}

static struct lwkt_token blk_a = LWKT_TOKEN_INITIALIZER(blk_a);
static struct lwkt_token blk_b = LWKT_TOKEN_INITIALIZER(blk_b);
static volatile int blk_other_got;

static void
blk_other(void *arg)
{
	lwkt_gettoken(&blk_a);
	lwkt_gettoken(&blk_b);
	blk_other_got = 1;
	lwkt_reltoken(&blk_b);
	lwkt_reltoken(&blk_a);
}

/* A thread that sleeps holding tokens lets them go while it sleeps and
 * has them all again when it runs. */
KTEST(sched, token_held_across_sleep)
{
	struct thread *td;
	static int chan;

	blk_other_got = 0;
	lwkt_gettoken(&blk_a);
	lwkt_gettoken(&blk_b);
	KT_ASSERT_EQ(lwkt_create(blk_other, NULL, &td, (int)lwkt_ncpus - 1,
			 TDPRI_KERN, TDF_JOINABLE, 0, "blk"),
	    0);
	KT_ASSERT_EQ(tsleep(&chan, "blk", 20 * MS), -EWOULDBLOCK);
	KT_ASSERT_EQ(blk_other_got, 1); /* it got both while we slept */
	KT_ASSERT(lwkt_token_held_excl(&blk_a));
	KT_ASSERT(lwkt_token_held_excl(&blk_b));
	lwkt_reltoken(&blk_b);
	lwkt_reltoken(&blk_a);
	lwkt_join(td);
	KT_EXPECT_PANIC("last token taken is blk_b", ({
		lwkt_gettoken(&blk_a);
		lwkt_gettoken(&blk_b);
		lwkt_reltoken(&blk_a);
	}));
	lwkt_reltoken(&blk_b);
	lwkt_reltoken(&blk_a);
}

/* ---------------------------------------------------------------- */

static int wake_chan;

static void
waker(void *arg)
{
	tsleep(&waker, "pause", 2 * MS);
	wakeup(&wake_chan);
}

/* A timeout returns -EWOULDBLOCK no sooner than asked (and not hours
 * later); a wakeup from another CPU ends the sleep first. */
KTEST(sched, sleep_timeout)
{
	struct thread *td;
	uint64_t t0;
	int r;

	t0 = arch_nanotime();
	r = tsleep(&wake_chan, "timo", 10 * MS);
	KT_ASSERT_EQ(r, -EWOULDBLOCK);
	KT_ASSERT(arch_nanotime() - t0 >= 10 * MS);
	KT_ASSERT(arch_nanotime() - t0 < 10 * SEC);

	KT_ASSERT_EQ(lwkt_create(waker, NULL, &td, (int)lwkt_ncpus - 1,
			 TDPRI_KERN, TDF_JOINABLE, 0, "waker"),
	    0);
	t0 = arch_nanotime();
	r = tsleep(&wake_chan, "wake", 60 * SEC);
	KT_ASSERT_EQ(r, 0);
	KT_ASSERT(arch_nanotime() - t0 < 30 * SEC);
	lwkt_join(td);
}

static volatile int ws_woken;
static void
waiter(void *arg)
{
	tsleep(&ws_woken, "ws", 0);
	__atomic_add_fetch(&ws_woken, 1, __ATOMIC_SEQ_CST);
}

/* wakeup_one wakes one sleeper, wakeup the rest. */
KTEST(sched, wakeup_one_and_all)
{
	struct thread *td[6];
	int i;

	ws_woken = 0;
	for (i = 0; i < 6; i++)
		KT_ASSERT_EQ(lwkt_create(waiter, NULL, &td[i],
				 i % (int)lwkt_ncpus, TDPRI_KERN, TDF_JOINABLE,
				 0, "waiter"),
		    0);
	tsleep(&td, "settle", 20 * MS); /* let them all go to sleep */
	wakeup_one(&ws_woken);
	tsleep(&td, "settle", 20 * MS);
	KT_ASSERT_EQ(ws_woken, 1);
	wakeup(&ws_woken);
	join_all(td, 6);
	KT_ASSERT_EQ(ws_woken, 6);
}

/* ---------------------------------------------------------------- */

static volatile int mig_bad;

static void
migrator(void *arg)
{
	unsigned i, round;
	uint64_t x;

	/* An FPU register value must travel with the thread. */
	__asm__ volatile("movq %0, %%xmm3" : : "r"(0xabcdef0123456789ULL));
	for (round = 0; round < 3; round++) {
		for (i = 0; i < lwkt_ncpus; i++) {
			lwkt_migrate(i);
			if ((unsigned)mycpuid != i)
				mig_bad++;
			__asm__ volatile("movq %%xmm3, %0" : "=r"(x));
			if (x != 0xabcdef0123456789ULL)
				mig_bad++;
		}
	}
}

static void
fpu_user(void *arg)
{
	int i;

	for (i = 0; i < 200; i++) {
		__asm__ volatile("movq %0, %%xmm3" : : "r"((uint64_t)i));
		lwkt_yield();
	}
}

/* A thread moves to every CPU in turn, with its FPU state, while other
 * threads there use the same register. */
KTEST(sched, migration)
{
	struct thread *td[1 + ARCH_MAX_CPUS];
	unsigned i;

	mig_bad = 0;
	for (i = 0; i < lwkt_ncpus; i++)
		KT_ASSERT_EQ(lwkt_create(fpu_user, NULL, &td[1 + i], (int)i,
				 TDPRI_KERN, TDF_JOINABLE, 0, "fpu"),
		    0);
	KT_ASSERT_EQ(lwkt_create(migrator, NULL, &td[0], 0, TDPRI_KERN,
			 TDF_JOINABLE, 0, "migrator"),
	    0);
	join_all(td, 1 + (int)lwkt_ncpus);
	KT_ASSERT_EQ(mig_bad, 0);
}

/* ---------------------------------------------------------------- */

static volatile uint64_t ipi_hits[ARCH_MAX_CPUS];

static void
ipi_count(void *arg)
{
	__atomic_add_fetch(&ipi_hits[mycpuid], 1, __ATOMIC_RELAXED);
}

static volatile int hog_go;

/* Keeps its CPU in a critical section, so IPIs to it pile up. It runs at
 * the test thread's priority, so that its yields let the test go on. */
static void
ipi_hog(void *arg)
{
	uint64_t until = arch_nanotime() + 30 * MS;
	unsigned other = (mycpuid + 1) % lwkt_ncpus;
	int i;

	while (!hog_go)
		lwkt_yield();
	crit_enter();
	/* Both CPUs fill each other's queues from inside critical sections:
	 * each must drain its own to make progress. */
	for (i = 0; i < 500; i++)
		lwkt_send_ipiq(other, ipi_count, NULL);
	while (arch_nanotime() < until)
		;
	crit_exit();
}

/* IPI FIFOs that fill up (64 entries) do not deadlock or lose messages,
 * even when two CPUs fill each other's from critical sections. */
KTEST(sched, ipiq_overflow)
{
	struct thread *td[ARCH_MAX_CPUS];
	struct sched_stats a, b;
	uint64_t before = 0, after = 0, seq;
	unsigned i;

	if (lwkt_ncpus < 2) {
		kprintf(
		    "ktest: sched.ipiq_overflow needs 2 CPUs; on 1 it checks "
		    "that a local IPI runs at once\n");
		ipi_hits[0] = 0;
		KT_ASSERT_EQ(lwkt_send_ipiq(0, ipi_count, NULL), 0);
		KT_ASSERT_EQ(ipi_hits[0], 1);
		return;
	}
	sched_get_stats(&a);
	for (i = 0; i < lwkt_ncpus; i++)
		before += ipi_hits[i];
	hog_go = 0;
	for (i = 0; i < lwkt_ncpus; i++)
		KT_ASSERT_EQ(lwkt_create(ipi_hog, NULL, &td[i], (int)i,
				 TDPRI_USER, TDF_JOINABLE, 0, "hog"),
		    0);
	hog_go = 1;
	join_all(td, (int)lwkt_ncpus);
	/* The last messages run when their targets next look: wait (5 s at
	 * most) for all of them. */
	for (int tries = 0; tries < 500; tries++) {
		after = 0;
		for (i = 0; i < lwkt_ncpus; i++)
			after += ipi_hits[i];
		if (after - before >= 500ULL * lwkt_ncpus)
			break;
		tsleep(&hog_go, "drain", 10 * MS);
	}
	sched_get_stats(&b);
	KT_ASSERT(after - before >= 500ULL * lwkt_ncpus);
	KT_ASSERT(b.ss_ipiq_full > a.ss_ipiq_full); /* it did fill up */
	/* lwkt_wait_ipiq returns after the function ran. */
	before = ipi_hits[1];
	seq = lwkt_send_ipiq(1, ipi_count, NULL);
	lwkt_wait_ipiq(1, seq);
	KT_ASSERT_EQ(ipi_hits[1], before + 1);
	/* Passive messages run when the target looks. */
	seq = lwkt_send_ipiq_passive(1, ipi_count, NULL);
	lwkt_send_ipiq(1, ipi_count, NULL); /* this one kicks it */
	lwkt_wait_ipiq(1, seq);
	KT_ASSERT(ipi_hits[1] >= before + 2);
}

/* ---------------------------------------------------------------- */

static volatile int co_fired[3];
static volatile int co_order[3], co_n;
static struct callout co[3];

static void
co_fire(void *arg)
{
	int i = (int)(uintptr_t)arg;
	co_fired[i]++;
	co_order[co_n++] = i;
}

/* Callouts fire once, in deadline order; a stopped one does not. */
KTEST(sched, callouts)
{
	int i;

	co_n = 0;
	for (i = 0; i < 3; i++) {
		callout_init(&co[i]);
		co_fired[i] = 0;
	}
	callout_reset(&co[0], 30 * MS, co_fire, (void *)0);
	callout_reset(&co[1], 10 * MS, co_fire, (void *)1);
	callout_reset(&co[2], 20 * MS, co_fire, (void *)2);
	KT_ASSERT(callout_stop(&co[2]));
	KT_ASSERT(!callout_stop(&co[2]));
	tsleep(&co, "co", 60 * MS);
	KT_ASSERT_EQ(co_fired[0], 1);
	KT_ASSERT_EQ(co_fired[1], 1);
	KT_ASSERT_EQ(co_fired[2], 0);
	KT_ASSERT_EQ(co_n, 2);
	KT_ASSERT_EQ(co_order[0], 1);
	KT_ASSERT_EQ(co_order[1], 0);
}

/* ---------------------------------------------------------------- */

/* Blocking in a hard critical section is caught before anything moves. */
KTEST(sched, hard_crit_blocking_caught)
{
	static int chan;

	crit_enter_hard();
	KT_EXPECT_PANIC("blocking in a hard critical section",
	    tsleep(&chan, "bad", MS));
	KT_EXPECT_PANIC("blocking in a hard critical section", lwkt_yield());
	crit_exit_hard();
	/* Still schedulable afterwards. */
	KT_ASSERT_EQ(tsleep(&chan, "ok", MS), -EWOULDBLOCK);
}

/* A token held shared cannot be taken exclusively by the same thread. */
KTEST(sched, token_upgrade_caught)
{
	static struct lwkt_token t = LWKT_TOKEN_INITIALIZER(upgrade);

	lwkt_gettoken_shared(&t);
	KT_EXPECT_PANIC("cannot be upgraded", lwkt_gettoken(&t));
	lwkt_reltoken(&t);
	KT_ASSERT_EQ(t.t_count, 0);
}

/* ---------------------------------------------------------------- */

static volatile uint64_t *volatile tlb_addr;
static volatile int tlb_step;
static volatile uint64_t tlb_seen;
static volatile int tlb_reader_cpu;

/* Reads the address once (its translation is now in this CPU's TLB),
 * spins touching nothing else until the page was replaced, reads again. */
static void
tlb_reader(void *arg)
{
	uint64_t end = arch_nanotime() + 5 * SEC;

	while (tlb_step != 1)
		lwkt_yield();
	tlb_seen = *tlb_addr;
	tlb_step = 2;
	while (tlb_step != 3 && arch_nanotime() < end)
		;
	tlb_seen = *tlb_addr;
	tlb_reader_cpu = mycpuid;
	tlb_step = 4;
}

/*
 * A stack freed on one CPU and its addresses reused for a new stack: a CPU
 * that read the old one must see the new one, not the freed page (the
 * TLB shootdown in arch_stack_free).
 */
KTEST(sched, tlb_shootdown)
{
	struct thread *td;
	uint64_t *a, *b;
	void *held;
	int i;

	if (lwkt_ncpus < 2) {
		kprintf("ktest: sched.tlb_shootdown needs 2 CPUs\n");
		return;
	}
	tlb_step = 0;
	KT_ASSERT_EQ(lwkt_create(tlb_reader, NULL, &td, 1, TDPRI_USER,
			 TDF_JOINABLE | TDF_NOFPU, 0, "tlb"),
	    0);
	a = arch_stack_alloc(PAGE_SIZE);
	KT_ASSERT(a != NULL);
	a[0] = 0x01d01d01d01dULL;
	tlb_addr = a;
	tlb_step = 1;
	for (i = 0; tlb_step != 2 && i < 100000; i++)
		lwkt_yield();
	KT_ASSERT_EQ(tlb_seen, 0x01d01d01d01dULL);
	arch_stack_free(a, PAGE_SIZE);
	/* Hold the freed frame (the allocator hands it out first), so that
	 * the new stack gets another: a stale translation would show. */
	held = page_alloc(0);
	KT_ASSERT(held != NULL);
	b = arch_stack_alloc(PAGE_SIZE);
	KT_ASSERT(b == a); /* the same addresses, a new page */
	b[0] = 0x0e0e0e0e0e0eULL;
	tlb_step = 3;
	lwkt_join(td);
	page_free(held, 0);
	if (tlb_seen != 0x0e0e0e0e0e0eULL)
		kprintf("ktest: tlb_shootdown: reader on cpu %d saw %#lx; b %p "
			"pa %#lx\n",
		    tlb_reader_cpu, (unsigned long)tlb_seen, (void *)b,
		    (unsigned long)arch_virt_to_phys(b));
	KT_ASSERT_EQ(tlb_step, 4);
	KT_ASSERT_EQ(tlb_seen, 0x0e0e0e0e0e0eULL);
	arch_stack_free(b, PAGE_SIZE);
}

static void
fails_in_thread(void *arg)
{
	KT_ASSERT_EQ(1, 2);
}

/* A KT_ASSERT that fails in a helper thread fails the test (on purpose
 * here: the boot harness expects this one to fail). */
KTEST_F(selftest, fail_in_thread, KTEST_MANUAL)
{
	struct thread *td;

	KT_ASSERT_EQ(lwkt_create(fails_in_thread, NULL, &td, -1, TDPRI_KERN,
			 TDF_JOINABLE, 0, "failer"),
	    0);
	lwkt_join(td);
}

/* ---------------------------------------------------------------- */

static volatile uint64_t rr_count[2];
static volatile bool rr_stop;

static void
rr_spinner(void *arg)
{
	int me = (int)(uintptr_t)arg;

	while (!rr_stop)
		rr_count[me]++;
}

/*
 * Two threads of one priority that never yield share their CPU: each
 * quantum (sched.quantum_us) the running one goes to the back. Without
 * time slicing the second would not run at all in the 200 ms.
 */
KTEST(sched, quantum_round_robin)
{
	struct thread *td[2];
	int i;

	rr_stop = false;
	rr_count[0] = rr_count[1] = 0;
	lwkt_setpri_self(TDPRI_MAX);
	for (i = 0; i < 2; i++)
		KT_ASSERT_EQ(lwkt_create(rr_spinner, (void *)(uintptr_t)i,
				 &td[i], mycpuid, TDPRI_KERN,
				 TDF_JOINABLE | TDF_NOFPU, 0, "rr"),
		    0);
	/* Sleep at the top priority; the spinners share the CPU meanwhile. */
	tsleep(&rr_stop, "rr", 200 * MS);
	rr_stop = true;
	lwkt_setpri_self(TDPRI_USER);
	join_all(td, 2);
	KT_ASSERT(rr_count[0] > 0);
	KT_ASSERT(rr_count[1] > 0);
}
