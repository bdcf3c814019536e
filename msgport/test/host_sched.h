/*
 * A stand-in for sched/ on the host, for msgport's unit tests. There are
 * no real threads: "threads" are structs the test makes current in turn
 * (host_curthread), and there are two simulated CPUs. An IPI is queued
 * until the test delivers it (host_deliver), which runs it as on its
 * target CPU. A call that would block runs the test's hook
 * (host_block_hook) instead; if the hook cannot make progress after many
 * tries, the test fails: it would have blocked for ever.
 */
#ifndef MSGPORT_TEST_HOST_SCHED_H
#define MSGPORT_TEST_HOST_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/kern.h"
#include "core/queue.h"
#include "core/spinlock.h"

#define HOST_NCPUS 2

struct globaldata {
	unsigned gd_cpuid;
};

struct lwkt_port;
struct thread {
	struct globaldata *td_gd;
	struct lwkt_port *td_msgport;
	void (*td_msgport_free)(struct thread *td);
	char td_name[24];
	int td_scheduled; /* times lwkt_schedule() was called on it */
};

struct callout {
	void (*c_fn)(void *);
	void *c_arg;
	bool c_armed;
};

typedef void (*ipifunc_t)(void *arg);

extern struct thread *host_curthread;
extern struct globaldata host_gd[HOST_NCPUS];
extern void (*host_block_hook)(void);

#define curthread host_curthread
#define mycpu	  (host_curthread->td_gd)

static inline void
crit_enter(void)
{
}

static inline void
crit_exit(void)
{
}

void host_thread_init(struct thread *td, unsigned cpu, const char *name);
/* Runs the IPIs queued for cpu, in order; returns how many. */
int host_deliver(unsigned cpu);
int host_pending(unsigned cpu);

uint64_t lwkt_send_ipiq(unsigned cpu, ipifunc_t func, void *arg);
void lwkt_wait_ipiq(unsigned cpu, uint64_t seq);
void lwkt_schedule(struct thread *td);
void lwkt_deschedule_self(void);
void lwkt_switch(void);
int ssleep(const volatile void *ident, struct spinlock *spin, const char *wmesg,
    uint64_t timo_ns);
void tsleep_interlock(const volatile void *ident, const char *wmesg);
int tsleep_interlocked(const volatile void *ident, uint64_t timo_ns);
void wakeup(const volatile void *ident);
void wakeup_one(const volatile void *ident);
void callout_init(struct callout *c);
void callout_reset(struct callout *c, uint64_t ns, void (*fn)(void *),
    void *arg);
bool callout_stop(struct callout *c);
uint64_t arch_nanotime(void);

#define KM_ZERO 0x1
void *kmalloc(size_t size, int flags);
void kfree(void *p, size_t size);

#endif
