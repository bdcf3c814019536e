/*
 * sched/sched.h: LWKT, Damselfly's threads, after DragonFly BSD's light
 * weight kernel threads.
 *
 * Each CPU schedules its own threads: a thread belongs to one CPU (td_gd)
 * and only that CPU touches its run queue. Another CPU acts on it by
 * sending an IPI message (lwkt_send_ipiq) to the owner. Threads run by
 * fixed priority, round-robin within a priority (a thread that runs a
 * whole quantum while another of its priority waits goes to the back).
 *
 * Critical sections (crit_enter/crit_exit) are a per-thread counter, not
 * an interrupt mask: an interrupt or IPI that arrives inside one is marked
 * pending and runs at the crit_exit that ends it. The scheduler's own
 * state is guarded this way.
 *
 * Tokens serialize threads only while the holder runs: a thread's tokens
 * are released whenever it switches out and all reacquired, atomically,
 * before it runs again. A thread may hold many (LWKT_MAXTOKENS) and block
 * while holding them; tokens cannot deadlock. Contended tokens are retried
 * by the scheduler.
 *
 * Interface:
 *  - Blocking (tsleep, lwkt_gettoken on a held token, lwkt_yield,
 *    lwkt_join, ...) is allowed in thread context only, never in an
 *    interrupt handler, an IPI function, a callout, or a hard critical
 *    section (asserted: "blocking in a hard critical section").
 *  - IPI functions and callouts run in a critical section on their CPU,
 *    with interrupts disabled, and must not block.
 *  - A thread struct stays valid until lwkt_join() returns (joinable
 *    threads) or until it exits (others).
 *  - Times are nanoseconds on the arch_nanotime() clock.
 */
#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arch/arch.h"
#include "core/kern.h"
#include "core/queue.h"
#include "core/spinlock.h"

/* ---- Priorities (higher runs first) ---- */
#define TDPRI_IDLE	0 /* the idle thread only */
#define TDPRI_USER_IDLE 4
#define TDPRI_USER	8  /* application threads */
#define TDPRI_KERN	12 /* kernel daemons */
#define TDPRI_SOFTINT	16 /* protocol and driver threads */
#define TDPRI_INT	20 /* threads woken by device interrupts */
#define TDPRI_MAX	31
#define LWKT_NPRI	32

#define LWKT_MAXTOKENS	32
#define LWKT_STACK_SIZE (64 * 1024)

/* ---- Tokens ---- */
struct thread;

struct lwkt_token {
	volatile long t_count;		    /* see token.c */
	struct lwkt_tokref *volatile t_ref; /* the exclusive holder's ref */
	const char *t_desc;
	uint64_t t_collisions; /* acquisitions that had to wait */
};
#define LWKT_TOKEN_INITIALIZER(name) \
	{                            \
		0, NULL, #name, 0    \
	}

struct lwkt_tokref {
	struct lwkt_token *tr_tok;
	long tr_mode; /* TOK_EXCLUSIVE or 0 (shared) */
	struct thread *tr_owner;
};

void lwkt_token_init(struct lwkt_token *tok, const char *desc);
void lwkt_gettoken(struct lwkt_token *tok);
void lwkt_gettoken_shared(struct lwkt_token *tok);
bool lwkt_trytoken(struct lwkt_token *tok);
/* Releases the most recently acquired token, which must be tok. */
void lwkt_reltoken(struct lwkt_token *tok);
/* A token from a pool, hashed by address: for objects without their own. */
struct lwkt_token *lwkt_token_pool_lookup(const void *ptr);
bool lwkt_token_held_excl(const struct lwkt_token *tok);

/* ---- Threads ---- */

struct callout {
	TAILQ_ENTRY(callout) c_link;
	uint64_t c_when;
	void (*c_fn)(void *);
	void *c_arg;
	struct globaldata *c_gd; /* the CPU it is armed on, or NULL */
};

#define TDF_RUNQ     0x0001 /* on its CPU's run queue */
#define TDF_IDLE     0x0002 /* a CPU's idle thread */
#define TDF_EXITING  0x0004
#define TDF_JOINABLE 0x0008
#define TDF_NOFPU    0x0010 /* never touches FPU/SSE: no state saved */
#define TDF_MIGRATE  0x0020 /* moving to td_migrate_to at its switch-out */
#define TDF_BOOT     0x0040 /* the boot thread (static stack and TLS) */

#define TD_MAGIC     0x7468726561640a00ULL /* "thread" */

struct thread {
	struct arch_ctx td_ctx;
	uint64_t td_magic; /* TD_MAGIC while the thread exists */
	struct globaldata *td_gd;
	TAILQ_ENTRY(thread) td_rq; /* run queue, guarded by td_gd */
	int td_pri;
	uint32_t td_flags; /* TDF_*, changed by td_gd only */
	int td_critcount;
	int td_hardcrit;
	int td_ntoks;
	struct lwkt_tokref td_toks[LWKT_MAXTOKENS];
	void *td_tls;	  /* thread pointer (FS base) */
	void *td_tls_mem; /* the TLS block it points into */
	void *td_fpu;	  /* XSAVE area, ARCH_FPU_ALIGN-aligned, or NULL */
	char *td_stack;	  /* lowest usable byte */
	size_t td_stacksize;
	void (*td_func)(void *);
	void *td_arg;
	unsigned td_migrate_to;
	uint64_t td_quantum_start; /* when it last got the CPU */
	/* Sleep state, guarded by the sleep queue bucket's spinlock. */
	const volatile void *td_wchan;
	const char *td_wmesg;
	TAILQ_ENTRY(thread) td_sleepq;
	bool td_timedout;
	struct callout td_sleep_timer;
	/* Holds (lwkt_hold): the thread is not freed while any remain. */
	volatile int td_refs;
	/* Exit and join, guarded by td_join_lock. */
	struct spinlock td_join_lock;
	bool td_exited;
	/* The application thread API's per-thread data (sched/pthread.c). */
	struct df_pthread *td_uthread;
	/* For the message ports (msgport/): the thread's own port, and how
	 * to free it when the thread goes. */
	struct lwkt_port *td_msgport;
	void (*td_msgport_free)(struct thread *td);
	/* On the list of every thread (sched_dump), under its spinlock. */
	TAILQ_ENTRY(thread) td_all;
	/* Statistics, written by td_gd. */
	uint64_t td_switches;
	char td_name[24];
};

void lwkt_token_release_all(struct thread *td);
bool lwkt_token_acquire_all(struct thread *td);

/*
 * Creates a thread on CPU cpu (-1: this one) at priority pri, runnable.
 * flags: TDF_JOINABLE, TDF_NOFPU. stacksize 0 means LWKT_STACK_SIZE.
 * Returns 0 and the thread in *tdp (may be NULL), or -ENOMEM / -EINVAL.
 */
int lwkt_create(void (*func)(void *), void *arg, struct thread **tdp, int cpu,
    int pri, uint32_t flags, size_t stacksize, const char *name);
_Noreturn void lwkt_exit(void);
/* Waits for a joinable thread to exit and frees it. */
void lwkt_join(struct thread *td);
/* Lets other threads of the same priority run first. */
void lwkt_yield(void);
void lwkt_setpri_self(int pri);
/* Moves the calling thread to CPU cpu; returns when it runs there. */
void lwkt_migrate(unsigned cpu);
/* Makes td runnable (from any CPU, any context). */
void lwkt_schedule(struct thread *td);
/*
 * Keeps td's struct from being freed (it may still exit) until the
 * matching lwkt_rele: for code that passes a thread to another CPU or
 * keeps it past the lock that made it safe to name. Any context.
 */
void lwkt_hold(struct thread *td);
void lwkt_rele(struct thread *td);
/* Takes the calling thread off the run queue; the next lwkt_switch()
 * then does not come back to it until something schedules it. */
void lwkt_deschedule_self(void);
void lwkt_switch(void);

/* ---- Critical sections ---- */

struct globaldata;
static inline struct globaldata *
mycpu_gd(void)
{
	return (struct globaldata *)arch_cpu_local();
}
#define mycpu	  mycpu_gd()
#define curthread (mycpu_gd()->gd_curthread)
#define mycpuid	  ((int)arch_cpu_id())

/* ---- Per-CPU data ---- */

#define RQF_INTPEND 0x01 /* deferred interrupts in gd_ipending */
#define RQF_IPIQ    0x02 /* IPI messages to process */
#define RQF_RESCHED 0x04 /* a higher-priority thread became runnable */

struct lwkt_ipiq;

struct globaldata {
	struct globaldata *gd_self;
	unsigned gd_cpuid;
	struct thread *gd_curthread;
	struct thread *gd_idlethread;
	volatile uint32_t gd_reqflags;
	uint64_t gd_ipending[4];
	uint32_t gd_runq_bits;
	TAILQ_HEAD(, thread) gd_runq[LWKT_NPRI];
	struct thread *gd_fpu_owner;   /* whose FPU state the registers hold */
	struct thread *gd_post_switch; /* exiting or migrating, switched out */
	struct thread *gd_zombies;     /* exited, free once unheld (td_arg) */
	bool gd_token_wait;	       /* runnable threads wait for tokens */
	/* IPI queues: gd_ipiq[target] carries this CPU's messages to target. */
	struct lwkt_ipiq *gd_ipiq;
	volatile int gd_npoll; /* an IPI is on its way or being processed */
	/* Callouts armed on this CPU, by deadline. */
	TAILQ_HEAD(, callout) gd_callouts;
	uint64_t gd_timer_armed; /* deadline the LAPIC timer is set for */
	struct callout gd_quantum;
	/* Statistics. */
	uint64_t gd_switches, gd_preemptions, gd_ipis_sent, gd_ipis_recv;
	uint64_t gd_ipiq_full, gd_idle_halts;
};

extern struct globaldata *lwkt_gd[ARCH_MAX_CPUS];
extern unsigned lwkt_ncpus;

void lwkt_process_pending(void);

static inline void
crit_enter(void)
{
	curthread->td_critcount++;
	__asm__ volatile("" : : : "memory");
}

static inline void
crit_exit(void)
{
	struct thread *td = curthread;

	__asm__ volatile("" : : : "memory");
	KKASSERT(td->td_critcount > 0);
	if (--td->td_critcount == 0 && td->td_gd->gd_reqflags != 0)
		lwkt_process_pending();
}

/* A hard critical section also forbids blocking (asserted). */
static inline void
crit_enter_hard(void)
{
	crit_enter();
	curthread->td_hardcrit++;
}

static inline void
crit_exit_hard(void)
{
	KKASSERT(curthread->td_hardcrit > 0);
	curthread->td_hardcrit--;
	crit_exit();
}

/* ---- IPI messages ---- */

typedef void (*ipifunc_t)(void *arg);
/*
 * Queues func(arg) to run on CPU cpu and returns a sequence number for
 * lwkt_wait_ipiq(). On this CPU it runs at once (in a critical section).
 * The passive form raises no interrupt: the target runs it the next time
 * it looks (its idle loop, a timer, another IPI).
 */
uint64_t lwkt_send_ipiq(unsigned cpu, ipifunc_t func, void *arg);
uint64_t lwkt_send_ipiq_passive(unsigned cpu, ipifunc_t func, void *arg);
/* Waits until CPU cpu has run our message numbered seq. */
void lwkt_wait_ipiq(unsigned cpu, uint64_t seq);
void lwkt_process_ipiq(void);

/* ---- Sleep and wakeup ---- */

/*
 * Sleeps on ident until wakeup(ident) or, when timo_ns > 0, the timeout.
 * Returns 0, or -EWOULDBLOCK on timeout. A caller that checked its
 * condition under a token cannot miss the wakeup: the token is released
 * only once the thread is on the sleep queue.
 */
int tsleep(const volatile void *ident, const char *wmesg, uint64_t timo_ns);
/* As tsleep, releasing spin (held by the caller) once queued; the spinlock
 * is not held on return. */
int ssleep(const volatile void *ident, struct spinlock *spin, const char *wmesg,
    uint64_t timo_ns);
void wakeup(const volatile void *ident);
void wakeup_one(const volatile void *ident);
/*
 * Two-step sleep, for callers that must release something (and perhaps
 * wake others) between deciding to sleep and sleeping: tsleep_interlock()
 * puts the thread on ident's sleep queue without sleeping; a wakeup from
 * then on is not lost. tsleep_interlocked() then sleeps, or returns 0 at
 * once if the wakeup already came. Nothing may block in between.
 */
void tsleep_interlock(const volatile void *ident, const char *wmesg);
int tsleep_interlocked(const volatile void *ident, uint64_t timo_ns);
/* Leaves the sleep queue tsleep_interlock() joined, not sleeping after
 * all (a no-op if a wakeup already took the thread off it). */
void tsleep_interlock_cancel(void);

/* ---- Callouts: per-CPU timers, tickless when idle ---- */

void callout_init(struct callout *c);
/* Arms c on this CPU to call fn(arg) delay_ns from now (re-arms). */
void callout_reset(struct callout *c, uint64_t delay_ns, void (*fn)(void *),
    void *arg);
/* Disarms c (on whichever CPU it is armed); true if it was pending. */
bool callout_stop(struct callout *c);

/* ---- Set-up (core/init.c) ---- */

/* Makes the boot thread thread 0 of CPU 0 and hooks interrupts. */
void sched_init(void);
/* Starts every other CPU, each in its idle thread. Returns the count. */
unsigned sched_smp_start(unsigned max);

/* ---- Statistics ---- */
struct sched_stats {
	uint64_t ss_switches, ss_preemptions, ss_ipis_sent, ss_ipis_recv;
	uint64_t ss_ipiq_full, ss_idle_halts, ss_threads;
};
void sched_get_stats(struct sched_stats *st);
/* Prints every CPU's current thread and every thread's state: for hang
 * reports. Any context; takes no lock it could wait on for long. */
void sched_dump(void);

#endif
