/*
 * Damselfly C runtime: <pthread.h>, the subset applications use, on LWKT
 * threads (sched/pthread.c). Threads are spread over the CPUs in turn and
 * run at TDPRI_USER; mutexes and condition variables sleep, they do not
 * spin; keys give thread-specific data (and __thread works as well).
 * Attributes other than the defaults are refused with EINVAL; functions
 * return 0 or a positive errno, as POSIX says.
 */
#ifndef _DF_PTHREAD_H
#define _DF_PTHREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct thread;
typedef struct df_pthread *pthread_t;
typedef struct {
	int pa_unused;
} pthread_attr_t;

typedef struct {
	volatile uint32_t m_lock; /* 0 free, 1 held, 2 held and waited for */
	struct thread *m_owner;
} pthread_mutex_t;
typedef struct {
	int ma_unused;
} pthread_mutexattr_t;
#define PTHREAD_MUTEX_INITIALIZER \
	{                         \
		0, NULL           \
	}

typedef struct {
	volatile uint32_t c_seq;
	uint32_t c_pad;
} pthread_cond_t;
typedef struct {
	int ca_unused;
} pthread_condattr_t;
#define PTHREAD_COND_INITIALIZER \
	{                        \
		0, 0             \
	}

typedef unsigned pthread_key_t;
#define PTHREAD_KEYS_MAX 64
typedef volatile int pthread_once_t;
#define PTHREAD_ONCE_INIT 0

int pthread_create(pthread_t *t, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg);
int pthread_join(pthread_t t, void **ret);
_Noreturn void pthread_exit(void *ret);
pthread_t pthread_self(void);
int pthread_equal(pthread_t a, pthread_t b);

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);
int pthread_mutex_destroy(pthread_mutex_t *m);
int pthread_mutex_lock(pthread_mutex_t *m);
int pthread_mutex_trylock(pthread_mutex_t *m);
int pthread_mutex_unlock(pthread_mutex_t *m);

int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a);
int pthread_cond_destroy(pthread_cond_t *c);
int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
/* abstime is on the monotonic clock (clock_gettime(CLOCK_MONOTONIC)). */
int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
    const struct timespec *abstime);
int pthread_cond_signal(pthread_cond_t *c);
int pthread_cond_broadcast(pthread_cond_t *c);

int pthread_key_create(pthread_key_t *k, void (*dtor)(void *));
int pthread_key_delete(pthread_key_t k);
void *pthread_getspecific(pthread_key_t k);
int pthread_setspecific(pthread_key_t k, const void *v);
int pthread_once(pthread_once_t *once, void (*fn)(void));

int sched_yield(void);

#endif
