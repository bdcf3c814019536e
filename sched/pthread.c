/*
 * The application-facing thread API: a pthread subset (see <pthread.h>)
 * on LWKT threads, so that many application threads map onto the per-CPU
 * schedulers. New threads go to the CPUs in turn, at TDPRI_USER.
 *
 * Mutexes are three-state words (0 free, 1 held, 2 held and maybe
 * waited for), taken with one compare-and-swap when free; waiters sleep
 * on the mutex's address. Condition variables are a sequence number that
 * signal and broadcast advance; a waiter sleeps while the number it saw
 * is current. Both sleep with tsleep_interlock, so no wakeup is lost
 * between the check and the sleep.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include "core/kmalloc.h"
#include "sched/sched.h"
#include "sched/sched_internal.h"

#define DTOR_ROUNDS 4

struct df_pthread {
	struct thread *pt_td;
	void *(*pt_fn)(void *);
	void *pt_arg;
	void *pt_ret;
	const void *pt_keys[PTHREAD_KEYS_MAX];
};

static struct spinlock keys_lock = SPINLOCK_INIT;
static bool key_used[PTHREAD_KEYS_MAX];
static void (*key_dtor[PTHREAD_KEYS_MAX])(void *);
static unsigned next_cpu;

/* ---------------------------------------------------------------- */
/* Threads                                                          */
/* ---------------------------------------------------------------- */

pthread_t
pthread_self(void)
{
	struct thread *td = curthread;

	if (td->td_uthread == NULL) {
		/* A thread not made by pthread_create (main): data on first
		 * use, kept for its life. */
		struct df_pthread *pt = kmalloc(sizeof(*pt), KM_ZERO);
		if (pt == NULL)
			panic("pthread_self: no memory");
		pt->pt_td = td;
		td->td_uthread = pt;
	}
	return td->td_uthread;
}

int
pthread_equal(pthread_t a, pthread_t b)
{
	return a == b;
}

static void
run_key_destructors(struct df_pthread *pt)
{
	int round, k;
	bool again = true;

	for (round = 0; round < DTOR_ROUNDS && again; round++) {
		again = false;
		for (k = 0; k < PTHREAD_KEYS_MAX; k++) {
			void *v = (void *)(uintptr_t)pt->pt_keys[k];
			void (*dtor)(void *) = key_dtor[k];
			if (v == NULL || dtor == NULL || !key_used[k])
				continue;
			pt->pt_keys[k] = NULL;
			dtor(v);
			again = true;
		}
	}
}

_Noreturn void
pthread_exit(void *ret)
{
	struct df_pthread *pt = pthread_self();

	if (curthread->td_flags & TDF_BOOT)
		panic("pthread_exit: the main thread ends by returning from "
		      "app_main");
	run_key_destructors(pt);
	pt->pt_ret = ret;
	lwkt_exit();
}

static void
pthread_start(void *arg)
{
	struct df_pthread *pt = arg;

	curthread->td_uthread = pt;
	pthread_exit(pt->pt_fn(pt->pt_arg));
}

int
pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
    void *arg)
{
	struct df_pthread *pt;
	unsigned cpu;
	int err;

	if (attr != NULL && attr->pa_unused != 0)
		return EINVAL;
	pt = kmalloc(sizeof(*pt), KM_ZERO);
	if (pt == NULL)
		return EAGAIN;
	pt->pt_fn = fn;
	pt->pt_arg = arg;
	cpu = __atomic_fetch_add(&next_cpu, 1, __ATOMIC_RELAXED) % lwkt_ncpus;
	err = lwkt_create(pthread_start, pt, &pt->pt_td, (int)cpu, TDPRI_USER,
	    TDF_JOINABLE, 0, "pthread");
	if (err < 0) {
		kfree(pt, sizeof(*pt));
		return EAGAIN;
	}
	*t = pt;
	return 0;
}

int
pthread_join(pthread_t t, void **ret)
{
	if (t == NULL)
		return ESRCH;
	if (t->pt_td == curthread)
		return EDEADLK;
	lwkt_join(t->pt_td);
	if (ret != NULL)
		*ret = t->pt_ret;
	kfree(t, sizeof(*t));
	return 0;
}

int
sched_yield(void)
{
	lwkt_yield();
	return 0;
}

/* ---------------------------------------------------------------- */
/* Mutexes                                                          */
/* ---------------------------------------------------------------- */

int
pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
	if (a != NULL && a->ma_unused != 0)
		return EINVAL;
	memset(m, 0, sizeof(*m));
	return 0;
}

int
pthread_mutex_destroy(pthread_mutex_t *m)
{
	return m->m_lock != 0 ? EBUSY : 0;
}

/* Sleeps while *word == val (until a wakeup on word, or the deadline). */
static int
wait_while(volatile uint32_t *word, uint32_t val, uint64_t deadline,
    const char *wmesg)
{
	uint64_t now;

	tsleep_interlock(word, wmesg);
	if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val) {
		tsleep_interlock_cancel();
		return 0;
	}
	if (deadline == 0)
		return tsleep_interlocked(word, 0);
	now = arch_nanotime();
	if (now >= deadline) {
		tsleep_interlock_cancel();
		return -EWOULDBLOCK;
	}
	return tsleep_interlocked(word, deadline - now);
}

int
pthread_mutex_lock(pthread_mutex_t *m)
{
	uint32_t c = 0;

	if (m->m_owner == curthread && m->m_lock != 0)
		return EDEADLK;
	if (__atomic_compare_exchange_n(&m->m_lock, &c, 1, false,
		__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		m->m_owner = curthread;
		return 0;
	}
	/* Contended: mark it so (2) and sleep until we take it free. */
	while ((c = __atomic_exchange_n(&m->m_lock, 2, __ATOMIC_ACQUIRE)) != 0)
		wait_while(&m->m_lock, 2, 0, "mutex");
	m->m_owner = curthread;
	return 0;
}

int
pthread_mutex_trylock(pthread_mutex_t *m)
{
	uint32_t c = 0;

	if (!__atomic_compare_exchange_n(&m->m_lock, &c, 1, false,
		__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return EBUSY;
	m->m_owner = curthread;
	return 0;
}

int
pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (m->m_lock == 0 || m->m_owner != curthread)
		return EPERM;
	m->m_owner = NULL;
	if (__atomic_exchange_n(&m->m_lock, 0, __ATOMIC_RELEASE) == 2)
		wakeup_one(&m->m_lock);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Condition variables                                              */
/* ---------------------------------------------------------------- */

int
pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
	if (a != NULL && a->ca_unused != 0)
		return EINVAL;
	memset(c, 0, sizeof(*c));
	return 0;
}

int
pthread_cond_destroy(pthread_cond_t *c)
{
	return 0;
}

static int
cond_wait(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline)
{
	uint32_t seq = __atomic_load_n(&c->c_seq, __ATOMIC_ACQUIRE);
	int r, err;

	if ((err = pthread_mutex_unlock(m)) != 0)
		return err;
	r = wait_while(&c->c_seq, seq, deadline, "cond");
	/* Retake it as contended: other waiters may have been woken. */
	while (__atomic_exchange_n(&m->m_lock, 2, __ATOMIC_ACQUIRE) != 0)
		wait_while(&m->m_lock, 2, 0, "mutex");
	m->m_owner = curthread;
	return r == -EWOULDBLOCK ? ETIMEDOUT : 0;
}

int
pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	return cond_wait(c, m, 0);
}

int
pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
    const struct timespec *abstime)
{
	uint64_t deadline;

	if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000 ||
	    abstime->tv_sec < 0)
		return EINVAL;
	deadline =
	    (uint64_t)abstime->tv_sec * 1000000000 + (uint64_t)abstime->tv_nsec;
	return cond_wait(c, m, deadline == 0 ? 1 : deadline);
}

int
pthread_cond_signal(pthread_cond_t *c)
{
	__atomic_add_fetch(&c->c_seq, 1, __ATOMIC_RELEASE);
	wakeup_one(&c->c_seq);
	return 0;
}

int
pthread_cond_broadcast(pthread_cond_t *c)
{
	__atomic_add_fetch(&c->c_seq, 1, __ATOMIC_RELEASE);
	wakeup(&c->c_seq);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Thread-specific data and once                                    */
/* ---------------------------------------------------------------- */

int
pthread_key_create(pthread_key_t *k, void (*dtor)(void *))
{
	unsigned i;

	spin_lock(&keys_lock);
	for (i = 0; i < PTHREAD_KEYS_MAX; i++) {
		if (!key_used[i]) {
			key_used[i] = true;
			key_dtor[i] = dtor;
			spin_unlock(&keys_lock);
			*k = i;
			return 0;
		}
	}
	spin_unlock(&keys_lock);
	return EAGAIN;
}

int
pthread_key_delete(pthread_key_t k)
{
	if (k >= PTHREAD_KEYS_MAX || !key_used[k])
		return EINVAL;
	spin_lock(&keys_lock);
	key_used[k] = false;
	key_dtor[k] = NULL;
	spin_unlock(&keys_lock);
	return 0;
}

void *
pthread_getspecific(pthread_key_t k)
{
	if (k >= PTHREAD_KEYS_MAX)
		return NULL;
	return (void *)(uintptr_t)pthread_self()->pt_keys[k];
}

int
pthread_setspecific(pthread_key_t k, const void *v)
{
	if (k >= PTHREAD_KEYS_MAX || !key_used[k])
		return EINVAL;
	pthread_self()->pt_keys[k] = v;
	return 0;
}

int
pthread_once(pthread_once_t *once, void (*fn)(void))
{
	int c = 0;

	if (__atomic_load_n(once, __ATOMIC_ACQUIRE) == 2)
		return 0;
	if (__atomic_compare_exchange_n(once, &c, 1, false, __ATOMIC_ACQ_REL,
		__ATOMIC_ACQUIRE)) {
		fn();
		__atomic_store_n(once, 2, __ATOMIC_RELEASE);
		wakeup((void *)(uintptr_t)once);
		return 0;
	}
	while (__atomic_load_n(once, __ATOMIC_ACQUIRE) != 2) {
		tsleep_interlock((void *)(uintptr_t)once, "once");
		if (__atomic_load_n(once, __ATOMIC_ACQUIRE) == 2)
			tsleep_interlock_cancel();
		else
			tsleep_interlocked((void *)(uintptr_t)once, 0);
	}
	return 0;
}
