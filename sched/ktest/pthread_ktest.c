/*
 * In-guest tests of the pthread subset: threads spread over the CPUs,
 * join with exit values, mutual exclusion under a mutex, a bounded buffer
 * on condition variables with every item delivered once, timed waits,
 * thread-specific data with destructors, pthread_once, and __thread.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include "core/ktest.h"
#include "sched/sched.h"

static pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;
static volatile int cpu_seen[ARCH_MAX_CPUS];
static __thread long tls_value;

static void *
adder(void *arg)
{
	long id = (long)(uintptr_t)arg;
	int i;

	cpu_seen[mycpuid] = 1;
	tls_value = id; /* each thread its own */
	for (i = 0; i < 2000; i++) {
		pthread_mutex_lock(&mx);
		long c = counter;
		if ((i & 63) == 0)
			sched_yield(); /* let others contend while we hold it */
		counter = c + 1;
		pthread_mutex_unlock(&mx);
	}
	return (void *)(uintptr_t)(tls_value * 3);
}

KTEST(pthread, create_join_mutex)
{
	pthread_t t[16];
	int i, n = 4 * (int)lwkt_ncpus, cpus = 0;
	void *ret;

	if (n > 16)
		n = 16;
	counter = 0;
	memset((void *)cpu_seen, 0, sizeof(cpu_seen));
	for (i = 0; i < n; i++)
		KT_ASSERT_EQ(pthread_create(&t[i], NULL, adder,
				 (void *)(uintptr_t)(i + 1)),
		    0);
	for (i = 0; i < n; i++) {
		KT_ASSERT_EQ(pthread_join(t[i], &ret), 0);
		KT_ASSERT_EQ((long)(uintptr_t)ret, (i + 1) * 3);
	}
	KT_ASSERT_EQ(counter, 2000L * n);
	for (i = 0; i < (int)lwkt_ncpus; i++)
		cpus += cpu_seen[i];
	KT_ASSERT_EQ(cpus, (int)lwkt_ncpus); /* spread over every CPU */
	KT_ASSERT_EQ(pthread_mutex_destroy(&mx), 0);
	KT_ASSERT_EQ(pthread_mutex_trylock(&mx), 0);
	KT_ASSERT_EQ(pthread_mutex_trylock(&mx), EBUSY);
	KT_ASSERT_EQ(pthread_mutex_destroy(&mx), EBUSY);
	KT_ASSERT_EQ(pthread_mutex_lock(&mx), EDEADLK);
	KT_ASSERT_EQ(pthread_mutex_unlock(&mx), 0);
	KT_ASSERT_EQ(pthread_mutex_unlock(&mx), EPERM);
	KT_ASSERT_EQ(pthread_join(pthread_self(), NULL), EDEADLK);
}

/* ---- a bounded buffer ---- */

#define ITEMS 10000
#define SLOTS 8
static pthread_mutex_t bb_mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bb_notfull = PTHREAD_COND_INITIALIZER;
static pthread_cond_t bb_notempty = PTHREAD_COND_INITIALIZER;
static int bb_buf[SLOTS], bb_head, bb_count, bb_next;
static uint8_t bb_got[ITEMS];

static void *
producer(void *arg)
{
	for (;;) {
		pthread_mutex_lock(&bb_mx);
		while (bb_count == SLOTS)
			pthread_cond_wait(&bb_notfull, &bb_mx);
		if (bb_next == ITEMS) {
			pthread_mutex_unlock(&bb_mx);
			return NULL;
		}
		bb_buf[(bb_head + bb_count++) % SLOTS] = bb_next++;
		pthread_cond_signal(&bb_notempty);
		pthread_mutex_unlock(&bb_mx);
	}
}

static void *
consumer(void *arg)
{
	long n = 0;

	for (;;) {
		pthread_mutex_lock(&bb_mx);
		while (bb_count == 0 && bb_next < ITEMS)
			pthread_cond_wait(&bb_notempty, &bb_mx);
		if (bb_count == 0) {
			pthread_cond_broadcast(&bb_notempty);
			pthread_mutex_unlock(&bb_mx);
			return (void *)n;
		}
		int v = bb_buf[bb_head];
		bb_head = (bb_head + 1) % SLOTS;
		bb_count--;
		bb_got[v]++;
		n++;
		pthread_cond_signal(&bb_notfull);
		pthread_mutex_unlock(&bb_mx);
	}
}

KTEST(pthread, condvar_bounded_buffer)
{
	pthread_t p[2], c[3];
	long total = 0;
	void *r;
	int i;

	memset(bb_got, 0, sizeof(bb_got));
	bb_head = bb_count = bb_next = 0;
	for (i = 0; i < 3; i++)
		KT_ASSERT_EQ(pthread_create(&c[i], NULL, consumer, NULL), 0);
	for (i = 0; i < 2; i++)
		KT_ASSERT_EQ(pthread_create(&p[i], NULL, producer, NULL), 0);
	for (i = 0; i < 2; i++)
		KT_ASSERT_EQ(pthread_join(p[i], NULL), 0);
	pthread_mutex_lock(&bb_mx);
	pthread_cond_broadcast(&bb_notempty); /* wake consumers to finish */
	pthread_mutex_unlock(&bb_mx);
	for (i = 0; i < 3; i++) {
		KT_ASSERT_EQ(pthread_join(c[i], &r), 0);
		total += (long)r;
	}
	KT_ASSERT_EQ(total, ITEMS);
	for (i = 0; i < ITEMS; i++)
		if (bb_got[i] != 1)
			ktest_fail(__FILE__, __LINE__,
			    "item %d delivered %d times", i, bb_got[i]);
}

KTEST(pthread, cond_timedwait)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec now, at;

	clock_gettime(CLOCK_MONOTONIC, &now);
	at = now;
	at.tv_nsec += 5000000;
	if (at.tv_nsec >= 1000000000) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&m);
	KT_ASSERT_EQ(pthread_cond_timedwait(&c, &m, &at), ETIMEDOUT);
	KT_ASSERT_EQ(pthread_mutex_unlock(&m), 0); /* held again on return */
	at.tv_nsec = 2000000000;
	KT_ASSERT_EQ(pthread_cond_timedwait(&c, &m, &at), EINVAL);
}

static pthread_key_t key;
static volatile int dtor_calls;
static void
dtor(void *v)
{
	__atomic_add_fetch(&dtor_calls, (int)(uintptr_t)v, __ATOMIC_SEQ_CST);
}

static void *
key_user(void *arg)
{
	KT_ASSERT(pthread_getspecific(key) == NULL);
	pthread_setspecific(key, arg);
	KT_ASSERT(pthread_getspecific(key) == arg);
	if ((uintptr_t)arg == 5)
		pthread_exit((void *)7); /* destructors run on exit too */
	return NULL;
}

KTEST(pthread, keys_and_exit)
{
	pthread_t t[3];
	void *r;
	int i;

	dtor_calls = 0;
	KT_ASSERT_EQ(pthread_key_create(&key, dtor), 0);
	for (i = 0; i < 3; i++)
		KT_ASSERT_EQ(pthread_create(&t[i], NULL, key_user,
				 (void *)(uintptr_t)(i + 4)),
		    0);
	for (i = 0; i < 3; i++) {
		KT_ASSERT_EQ(pthread_join(t[i], &r), 0);
		KT_ASSERT_EQ((uintptr_t)r, i == 1 ? 7 : 0);
	}
	KT_ASSERT_EQ(dtor_calls, 4 + 5 + 6);
	KT_ASSERT_EQ(pthread_setspecific(key, &key), 0);
	KT_ASSERT(pthread_getspecific(key) == &key); /* main has keys too */
	KT_ASSERT_EQ(pthread_key_delete(key), 0);
	KT_ASSERT_EQ(pthread_key_delete(key), EINVAL);
	KT_ASSERT_EQ(pthread_setspecific(key, NULL), EINVAL);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile int once_runs;
static void
once_fn(void)
{
	once_runs++;
	tsleep(&once_runs, "once", 2000000); /* others must wait for it */
}

static void *
once_user(void *arg)
{
	pthread_once(&once, once_fn);
	KT_ASSERT_EQ(once_runs, 1);
	return NULL;
}

KTEST(pthread, once)
{
	pthread_t t[6];
	int i;

	for (i = 0; i < 6; i++)
		KT_ASSERT_EQ(pthread_create(&t[i], NULL, once_user, NULL), 0);
	for (i = 0; i < 6; i++)
		KT_ASSERT_EQ(pthread_join(t[i], NULL), 0);
	KT_ASSERT_EQ(once_runs, 1);
}
