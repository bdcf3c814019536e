/*
 * pingpong: the Linux guest's side of bench/run's "sched" area, the
 * equivalents of Damselfly's LWKT figures (sched/bench/sched_bench.c).
 *
 * Built by bench/benchlib/linuxguest.py with the host's gcc as a static
 * binary (gcc -O2 -static -pthread) and put into initramfs-progs.cpio as
 * /bench/pingpong; the guest's /init runs it when the kernel command line
 * has bench.run=pingpong, then powers off. It prints, on stdout (the
 * serial console), the lines Damselfly's kbench image prints:
 *
 *	kbench: <name> <value> ns
 *	kbench: done
 *
 * Figures (ns per operation):
 *	linux.pipe_rtt_1cpu     two threads, one byte each way over a pair of
 *	linux.pipe_rtt_2cpu     pipes; both on CPU 0 / on CPUs 0 and 1
 *	linux.futex_rtt_1cpu    two threads handing a turn back and forth with
 *	linux.futex_rtt_2cpu    FUTEX_WAIT/FUTEX_WAKE (FUTEX_PRIVATE_FLAG)
 *	linux.mutex_uncontended pthread_mutex_lock + unlock, one thread, after
 *	                        the process has had other threads (so glibc
 *	                        takes its multi-threaded paths)
 *	linux.sched_yield_1cpu  two threads on CPU 0 calling sched_yield: with
 *	                        both runnable each yield is one switch
 *
 * How: threads are pinned with sched_setaffinity before they meet at a
 * barrier; times are CLOCK_MONOTONIC. Each figure starts with a batch of
 * 100 iterations and grows the batch until one takes at least TARGET_NS;
 * that batch's mean is the figure (the smaller batches are the warm-up).
 * A figure that cannot be measured (a second CPU missing, a failed system
 * call) is left out, with a "pingpong:" line on stderr saying why, so the
 * bench reports that cell as failed. No figure is checked against a time.
 *
 * Usage: pingpong [target-ms]   (default 200)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FIRST_BATCH 100

static int64_t target_ns = 200 * 1000 * 1000;

/* One two-thread benchmark: side a and side b, each run for n rounds. */
struct pair {
	const char *p_name;
	int p_cpu[2]; /* CPU of side a and side b */
	void (*p_setup)(struct pair *);
	void (*p_side[2])(struct pair *, long n);
	void (*p_teardown)(struct pair *);
	/* per batch */
	long p_n;
	pthread_barrier_t p_start;
	int64_t p_t0[2], p_t1[2]; /* each side's start and end */
	_Atomic int p_err;	  /* the first errno any side met, or 0 */
	const char *p_what;	  /* what failed with it */
	/* state the sides share */
	int p_fd[2][2];	    /* pipes: a -> b, b -> a */
	_Atomic int p_turn; /* futex word: 0 a's turn, 1 b's turn */
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Records the first failure of a batch; the figure is then left out. */
static void
fail(struct pair *p, int err, const char *what)
{
	int none = 0;

	if (atomic_compare_exchange_strong(&p->p_err, &none, err))
		p->p_what = what;
}

static int
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
}

/* ---- pipes: one byte each way ---- */

static void
pipe_setup(struct pair *p)
{
	if (pipe(p->p_fd[0]) != 0 || pipe(p->p_fd[1]) != 0)
		fail(p, errno, "pipe");
}

static void
pipe_teardown(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		close(p->p_fd[i][0]);
		close(p->p_fd[i][1]);
	}
}

static void
pipe_a(struct pair *p, long n)
{
	char c = 'a';

	for (long i = 0; i < n; i++) {
		if (write(p->p_fd[0][1], &c, 1) != 1 ||
		    read(p->p_fd[1][0], &c, 1) != 1) {
			fail(p, errno ? errno : EIO, "pipe write or read");
			return;
		}
	}
}

static void
pipe_b(struct pair *p, long n)
{
	char c;

	for (long i = 0; i < n; i++) {
		if (read(p->p_fd[0][0], &c, 1) != 1 ||
		    write(p->p_fd[1][1], &c, 1) != 1) {
			fail(p, errno ? errno : EIO, "pipe read or write");
			return;
		}
	}
}

/* ---- futexes: a turn handed back and forth ---- */

static void
futex_wait(_Atomic int *word, int val)
{
	syscall(SYS_futex, word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, val, NULL,
	    NULL, 0);
}

static void
futex_wake(_Atomic int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL,
	    0);
}

static void
futex_setup(struct pair *p)
{
	atomic_store(&p->p_turn, 0);
}

/* Gives the turn to the other side, then waits for it to come back. */
static void
futex_side(struct pair *p, long n, int me)
{
	for (long i = 0; i < n; i++) {
		while (atomic_load(&p->p_turn) != me)
			futex_wait(&p->p_turn, !me);
		atomic_store(&p->p_turn, !me);
		futex_wake(&p->p_turn);
	}
}

static void
futex_a(struct pair *p, long n)
{
	futex_side(p, n, 0);
}

static void
futex_b(struct pair *p, long n)
{
	futex_side(p, n, 1);
}

/* ---- sched_yield: two runnable threads on one CPU ---- */

static void
yield_side(struct pair *p, long n)
{
	(void)p;
	for (long i = 0; i < n; i++)
		sched_yield();
}

/* ---- running a pair ---- */

struct side {
	struct pair *s_pair;
	int s_me;
};

static void *
side_main(void *arg)
{
	struct side *s = arg;
	struct pair *p = s->s_pair;
	int err = pin(p->p_cpu[s->s_me]);

	if (err != 0)
		fail(p, err,
		    s->s_me == 0 ? "sched_setaffinity, side a" :
				   "sched_setaffinity, side b");
	pthread_barrier_wait(&p->p_start);
	if (p->p_err == 0) {
		p->p_t0[s->s_me] = now_ns();
		p->p_side[s->s_me](p, p->p_n);
		p->p_t1[s->s_me] = now_ns();
	}
	return NULL;
}

/* Runs one batch of n rounds; returns its time in ns, or -1 (p_err). */
static int64_t
pair_batch(struct pair *p, long n)
{
	pthread_t td[2];
	struct side s[2] = { { p, 0 }, { p, 1 } };
	int64_t t0, t1;

	p->p_n = n;
	if (p->p_setup != NULL)
		p->p_setup(p);
	pthread_barrier_init(&p->p_start, NULL, 2);
	for (int i = 0; i < 2; i++)
		if (pthread_create(&td[i], NULL, side_main, &s[i]) != 0)
			abort(); /* cannot happen with two threads */
	for (int i = 0; i < 2; i++)
		pthread_join(td[i], NULL);
	pthread_barrier_destroy(&p->p_start);
	if (p->p_teardown != NULL)
		p->p_teardown(p);
	if (p->p_err != 0)
		return -1;
	t0 = p->p_t0[0] < p->p_t0[1] ? p->p_t0[0] : p->p_t0[1];
	t1 = p->p_t1[0] > p->p_t1[1] ? p->p_t1[0] : p->p_t1[1];
	return t1 - t0;
}

/* The next batch: aim at 1.2 targets from what the last one took. */
static long
next_batch(long n, int64_t ns)
{
	if (ns < target_ns / 100)
		return n * 10;
	return (long)((double)n * 1.2 * (double)target_ns / (double)ns) + 1;
}

static void
report(const char *name, double ns)
{
	printf("kbench: %s %.1f ns\n", name, ns);
	fflush(stdout);
}

/* Measures a pair; per_round: operations in one round (2: sched_yield). */
static void
run_pair(struct pair *p, int per_round)
{
	long n = FIRST_BATCH;
	int64_t ns;

	atomic_store(&p->p_err, 0);
	for (;;) {
		ns = pair_batch(p, n);
		if (ns < 0) {
			fprintf(stderr,
			    "pingpong: %s: %s (CPUs %d and %d): %s\n",
			    p->p_name, p->p_what, p->p_cpu[0], p->p_cpu[1],
			    strerror(p->p_err));
			return;
		}
		if (ns >= target_ns)
			break;
		n = next_batch(n, ns);
	}
	report(p->p_name, (double)ns / ((double)n * per_round));
}

/* ---- uncontended mutex, one thread ---- */

static void
run_mutex(void)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	long n = FIRST_BATCH;
	int64_t t0, ns;

	for (;;) {
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			pthread_mutex_lock(&m);
			pthread_mutex_unlock(&m);
		}
		ns = now_ns() - t0;
		if (ns >= target_ns)
			break;
		n = next_batch(n, ns);
	}
	report("linux.mutex_uncontended", (double)ns / (double)n);
}

#define PAIR(name, cpu_a, cpu_b, setup, side_a, side_b, teardown)     \
	{                                                             \
		.p_name = (name), .p_cpu = { (cpu_a), (cpu_b) },      \
		.p_setup = (setup), .p_side = { (side_a), (side_b) }, \
		.p_teardown = (teardown)                              \
	}

int
main(int argc, char **argv)
{
	struct pair pairs[] = {
		PAIR("linux.pipe_rtt_1cpu", 0, 0, pipe_setup, pipe_a, pipe_b,
		    pipe_teardown),
		PAIR("linux.pipe_rtt_2cpu", 0, 1, pipe_setup, pipe_a, pipe_b,
		    pipe_teardown),
		PAIR("linux.futex_rtt_1cpu", 0, 0, futex_setup, futex_a,
		    futex_b, NULL),
		PAIR("linux.futex_rtt_2cpu", 0, 1, futex_setup, futex_a,
		    futex_b, NULL),
	};
	struct pair yields = PAIR("linux.sched_yield_1cpu", 0, 0, NULL,
	    yield_side, yield_side, NULL);

	if (argc > 1)
		target_ns = atol(argv[1]) * 1000000L;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		run_pair(&pairs[i], 1);
	run_pair(&yields, 2);
	/* after the pairs: glibc now takes its multi-threaded paths */
	run_mutex();
	printf("kbench: done\n");
	fflush(stdout);
	return 0;
}
