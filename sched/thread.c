/*
 * LWKT threads: creation, run queues, the switch, preemption, the idle
 * threads and the start of the other CPUs (see sched.h for the model).
 *
 * Run queues. Each CPU keeps one FIFO per priority and a bitmap of the
 * non-empty ones; a running thread stays on its queue (TDF_RUNQ) until it
 * blocks. lwkt_switch() runs the highest-priority thread whose tokens it
 * can take, trying each candidate in priority then FIFO order; if none can
 * run it runs the idle thread, which polls while threads wait for tokens
 * and halts otherwise. The idle thread is on no queue.
 *
 * Interrupts. sched_gate() defers an interrupt that arrives in a critical
 * section (gd_ipending); lwkt_process_pending() runs deferred ones when the
 * section ends. After an interrupt that ran, sched_intr_return() preempts
 * the interrupted thread when a higher-priority thread became runnable,
 * unless it holds tokens or is in a critical section.
 *
 * FPU. The registers hold the state of gd_fpu_owner. Threads created with
 * TDF_NOFPU (Damselfly's own code is built without SSE) never touch it, so
 * switching to one saves nothing; switching to another thread that uses
 * the FPU saves the owner's state and restores the newcomer's.
 *
 * Post-switch. A thread cannot free its own stack or hand itself to another
 * CPU while it runs on it; it sets gd_post_switch, and the thread that runs
 * next finishes the job (post_switch()).
 */
#include <errno.h>
#include <string.h>
#include "core/config.h"
#include "core/kmalloc.h"
#include "sched/sched.h"
#include "sched/sched_internal.h"

struct globaldata *lwkt_gd[ARCH_MAX_CPUS];
unsigned lwkt_ncpus = 1;

static struct globaldata gd0;
static struct spinlock all_lock = SPINLOCK_INIT;
static TAILQ_HEAD(, thread) all_threads = TAILQ_HEAD_INITIALIZER(all_threads);
static struct thread thread0;
static int ipi_vector;
static uint64_t nthreads;

static int64_t quantum_us = 10000;
CFG_INT(sched_quantum, "sched.quantum_us", quantum_us, 100, 10000000,
    "microseconds a thread runs before others of its priority get a turn");
/*
 * An idle CPU polls a little before it halts: on KVM a HLT is a VM exit
 * and its wake-up a VM entry, both costly. Under TCG a halt costs nothing
 * and a polling vCPU only takes the host CPU from the others, so the
 * default (-1) polls 20 us on KVM and not at all under TCG.
 */
static int64_t idle_poll_us = -1;
CFG_INT(sched_idle_poll, "sched.idle_poll_us", idle_poll_us, -1, 100000,
    "microseconds an idle CPU polls for work before it halts (-1: 20 "
    "on KVM, 0 under TCG)");

/* ---------------------------------------------------------------- */
/* Run queues (the owning CPU, in a critical section)               */
/* ---------------------------------------------------------------- */

static void
runq_insert(struct globaldata *gd, struct thread *td, bool head)
{
	KKASSERT(!(td->td_flags & TDF_RUNQ));
	if (head)
		TAILQ_INSERT_HEAD(&gd->gd_runq[td->td_pri], td, td_rq);
	else
		TAILQ_INSERT_TAIL(&gd->gd_runq[td->td_pri], td, td_rq);
	gd->gd_runq_bits |= 1u << td->td_pri;
	td->td_flags |= TDF_RUNQ;
}

static void
runq_remove(struct globaldata *gd, struct thread *td)
{
	KKASSERT(td->td_flags & TDF_RUNQ);
	TAILQ_REMOVE(&gd->gd_runq[td->td_pri], td, td_rq);
	if (TAILQ_EMPTY(&gd->gd_runq[td->td_pri]))
		gd->gd_runq_bits &= ~(1u << td->td_pri);
	td->td_flags &= ~TDF_RUNQ;
}

static int
runq_top(const struct globaldata *gd)
{
	return gd->gd_runq_bits == 0 ? -1 :
				       31 - __builtin_clz(gd->gd_runq_bits);
}

/* Does another thread of td's priority wait for the CPU? */
static bool
runq_contended(const struct globaldata *gd, const struct thread *td)
{
	const struct thread *first = TAILQ_FIRST(&gd->gd_runq[td->td_pri]);

	return first != NULL &&
	    (first != td || TAILQ_NEXT(first, td_rq) != NULL);
}

static void quantum_expired(void *arg);

static void
arm_quantum(struct globaldata *gd)
{
	if (gd->gd_quantum.c_gd == NULL)
		callout_reset(&gd->gd_quantum, (uint64_t)quantum_us * 1000,
		    quantum_expired, gd);
}

/* Makes td runnable on this CPU, its owner. */
void
sched_schedule_local(struct globaldata *gd, struct thread *td)
{
	struct thread *cur = gd->gd_curthread;

	if (td->td_magic != TD_MAGIC)
		panic("lwkt_schedule: %p is not a live thread", td);
	/* Running, leaving, or moving: a late schedule means nothing now. */
	if (td->td_flags & (TDF_RUNQ | TDF_EXITING | TDF_MIGRATE))
		return;
	runq_insert(gd, td, false);
	if (td->td_pri > cur->td_pri || (cur->td_flags & TDF_IDLE))
		gd->gd_reqflags |= RQF_RESCHED;
	else if (td->td_pri == cur->td_pri)
		arm_quantum(gd);
}

void
lwkt_hold(struct thread *td)
{
	__atomic_add_fetch(&td->td_refs, 1, __ATOMIC_ACQ_REL);
}

void
lwkt_rele(struct thread *td)
{
	int r = __atomic_sub_fetch(&td->td_refs, 1, __ATOMIC_ACQ_REL);

	KKASSERT(r >= 0);
}

/* An IPI that schedules a thread carries a hold on it (lwkt_schedule). */
static void
schedule_remote(void *arg)
{
	struct thread *td = arg;

	if (td->td_gd != mycpu)
		lwkt_schedule(td); /* it moved on: forward */
	else
		sched_schedule_local(mycpu, td);
	lwkt_rele(td);
}

static void
schedule_on(unsigned cpu, struct thread *td)
{
	lwkt_hold(td); /* released by schedule_remote, on cpu */
	lwkt_send_ipiq(cpu, schedule_remote, td);
}

void
lwkt_schedule(struct thread *td)
{
	struct globaldata *gd = td->td_gd;

	if (gd != mycpu) {
		schedule_on(gd->gd_cpuid, td);
		return;
	}
	crit_enter();
	sched_schedule_local(gd, td);
	crit_exit();
}

void
lwkt_deschedule_self(void)
{
	struct thread *td = curthread;

	crit_enter();
	if (td->td_flags & TDF_RUNQ)
		runq_remove(td->td_gd, td);
	crit_exit();
}

/* ---------------------------------------------------------------- */
/* The switch                                                       */
/* ---------------------------------------------------------------- */

/* The highest-priority runnable thread that can take its tokens. */
static struct thread *
choose_next(struct globaldata *gd)
{
	uint32_t bits = gd->gd_runq_bits;
	struct thread *ntd;

	gd->gd_token_wait = false;
	while (bits != 0) {
		int pri = 31 - __builtin_clz(bits);
		bits &= ~(1u << pri);
		TAILQ_FOREACH (ntd, &gd->gd_runq[pri], td_rq) {
			if (ntd->td_ntoks == 0 || lwkt_token_acquire_all(ntd))
				return ntd;
			gd->gd_token_wait = true;
		}
	}
	return gd->gd_idlethread;
}

static void
switch_fpu(struct globaldata *gd, struct thread *td, struct thread *ntd)
{
	struct thread *owner = gd->gd_fpu_owner;

	/* A thread leaving this CPU takes its registers' state with it. */
	if (owner == td && (td->td_flags & (TDF_MIGRATE | TDF_EXITING))) {
		if (!(td->td_flags & TDF_EXITING))
			arch_fpu_save(td->td_fpu);
		gd->gd_fpu_owner = owner = NULL;
	}
	if (ntd->td_fpu == NULL || owner == ntd)
		return;
	if (owner != NULL)
		arch_fpu_save(owner->td_fpu);
	arch_fpu_restore(ntd->td_fpu);
	gd->gd_fpu_owner = ntd;
}

static void
post_switch(struct globaldata *gd)
{
	struct thread *prev = gd->gd_post_switch;
	unsigned cpu;

	if (gd->gd_zombies != NULL)
		sched_reap_zombies(gd);
	if (prev == NULL)
		return;
	gd->gd_post_switch = NULL;
	if (prev->td_flags & TDF_EXITING) {
		sched_thread_reap(prev);
	} else if (prev->td_flags & TDF_MIGRATE) {
		cpu = prev->td_migrate_to;
		prev->td_flags &= ~TDF_MIGRATE;
		prev->td_gd = lwkt_gd[cpu];
		schedule_on(cpu, prev);
	}
}

/*
 * Switches to the best runnable thread (perhaps this one again). With
 * release false the caller has released its tokens itself (a failed
 * lwkt_gettoken, whose last tokref is not held yet).
 */
void
sched_switch(bool release)
{
	struct globaldata *gd = mycpu;
	struct thread *td = gd->gd_curthread, *ntd;

	if (td->td_hardcrit > 0)
		panic("blocking in a hard critical section (thread %s)",
		    td->td_name);
	++td->td_critcount;
	if (release && td->td_ntoks > 0)
		lwkt_token_release_all(td);
	ntd = choose_next(gd);
	KKASSERT(ntd->td_magic == TD_MAGIC);
	if (ntd != td) {
		gd->gd_switches++;
		ntd->td_switches++;
		switch_fpu(gd, td, ntd);
		if (ntd->td_tls != td->td_tls)
			arch_tls_activate(ntd->td_tls);
		gd->gd_curthread = ntd;
		ntd->td_quantum_start = arch_nanotime();
		if (runq_contended(gd, ntd))
			arm_quantum(gd); /* others of its priority wait */
		arch_switch(&td->td_ctx, &ntd->td_ctx);
		gd = mycpu; /* td may have moved to another CPU */
		post_switch(gd);
	}
	crit_exit();
}

void
lwkt_switch(void)
{
	sched_switch(true);
}

void
lwkt_yield(void)
{
	struct thread *td = curthread;
	struct globaldata *gd = td->td_gd;

	sched_assert_can_block("lwkt_yield");
	crit_enter();
	if ((td->td_flags & TDF_RUNQ) && runq_contended(gd, td)) {
		runq_remove(gd, td);
		runq_insert(gd, td, false);
	}
	lwkt_switch();
	crit_exit();
}

void
lwkt_setpri_self(int pri)
{
	struct thread *td = curthread;
	struct globaldata *gd = td->td_gd;

	KKASSERT(pri > TDPRI_IDLE && pri <= TDPRI_MAX);
	crit_enter();
	if (td->td_flags & TDF_RUNQ) {
		runq_remove(gd, td);
		td->td_pri = pri;
		runq_insert(gd, td, true);
	} else {
		td->td_pri = pri;
	}
	if (runq_top(gd) > pri)
		lwkt_switch();
	crit_exit();
}

void
lwkt_migrate(unsigned cpu)
{
	struct thread *td = curthread;

	KKASSERT(cpu < lwkt_ncpus);
	sched_assert_can_block("lwkt_migrate");
	if (td->td_gd == lwkt_gd[cpu])
		return;
	crit_enter();
	td->td_migrate_to = cpu;
	td->td_flags |= TDF_MIGRATE;
	runq_remove(td->td_gd, td);
	td->td_gd->gd_post_switch = td;
	lwkt_switch();
	KKASSERT(mycpu == lwkt_gd[cpu]);
	crit_exit();
}

/* ---------------------------------------------------------------- */
/* Interrupts: deferral, pending work, preemption                   */
/* ---------------------------------------------------------------- */

static bool
sched_gate(int vec)
{
	struct globaldata *gd = mycpu;

	if (gd == NULL || gd->gd_curthread->td_critcount == 0)
		return true;
	gd->gd_ipending[vec / 64] |= 1ULL << (vec % 64);
	gd->gd_reqflags |= RQF_INTPEND;
	return false;
}

static void
quantum_expired(void *arg)
{
	struct globaldata *gd = arg;
	struct thread *td = gd->gd_curthread;

	if (!(td->td_flags & TDF_RUNQ) || !runq_contended(gd, td))
		return;
	if (arch_nanotime() - td->td_quantum_start >=
	    (uint64_t)quantum_us * 1000) {
		/* A full quantum: to the back of its queue. */
		runq_remove(gd, td);
		runq_insert(gd, td, false);
		gd->gd_reqflags |= RQF_RESCHED;
	}
	arm_quantum(gd);
}

/* Switches away from td if a thread it must yield to is runnable. */
static void
maybe_preempt(struct globaldata *gd, struct thread *td)
{
	int top;

	if (!(gd->gd_reqflags & RQF_RESCHED) || td->td_critcount > 0 ||
	    td->td_ntoks > 0)
		return;
	gd->gd_reqflags &= ~RQF_RESCHED;
	top = runq_top(gd);
	if (top < 0)
		return;
	if ((td->td_flags & TDF_IDLE) || !(td->td_flags & TDF_RUNQ) ||
	    top > td->td_pri || TAILQ_FIRST(&gd->gd_runq[top]) != td) {
		if (!(td->td_flags & TDF_IDLE))
			gd->gd_preemptions++;
		lwkt_switch();
	}
}

/*
 * Runs what arrived while the current thread was in a critical section:
 * deferred interrupts (the IPI vector among them), then a preemption.
 * Called with the critical count at 0.
 */
void
lwkt_process_pending(void)
{
	struct globaldata *gd = mycpu;
	struct thread *td = gd->gd_curthread;
	int w, b;

	++td->td_critcount;
	while (gd->gd_reqflags & RQF_INTPEND) {
		gd->gd_reqflags &= ~RQF_INTPEND;
		for (w = 0; w < 4; w++) {
			while (gd->gd_ipending[w] != 0) {
				b = __builtin_ctzll(gd->gd_ipending[w]);
				gd->gd_ipending[w] &= ~(1ULL << b);
				arch_intr_run(w * 64 + b);
			}
		}
	}
	--td->td_critcount;
	maybe_preempt(gd, td);
}

static void
sched_intr_return(void)
{
	struct globaldata *gd = mycpu;
	struct thread *td;

	if (gd == NULL)
		return;
	td = gd->gd_curthread;
	if (td->td_critcount > 0)
		return;
	if (gd->gd_reqflags & RQF_INTPEND)
		lwkt_process_pending();
	else
		maybe_preempt(gd, td);
}

static void
ipi_intr(void *arg)
{
	mycpu->gd_ipis_recv++;
	lwkt_process_ipiq();
}

/* ---------------------------------------------------------------- */
/* Idle                                                             */
/* ---------------------------------------------------------------- */

static bool
work_waiting(struct globaldata *gd)
{
	return gd->gd_runq_bits != 0 ||
	    (gd->gd_reqflags & (RQF_INTPEND | RQF_RESCHED)) != 0 ||
	    sched_ipiq_waiting(gd);
}

static _Noreturn void
idle_loop(struct globaldata *gd)
{
	int64_t poll_us = idle_poll_us;
	uint64_t until;

	if (poll_us < 0)
		poll_us = strcmp(arch_accelerator(), "TCG") == 0 ? 0 : 20;
	for (;;) {
		crit_enter();
		lwkt_process_ipiq();
		if (gd->gd_zombies != NULL)
			sched_reap_zombies(gd);
		if (gd->gd_runq_bits != 0)
			lwkt_switch();
		crit_exit();
		if (gd->gd_token_wait) {
			cpu_relax();
			continue;
		}
		until = arch_nanotime() + (uint64_t)poll_us * 1000;
		while (!work_waiting(gd) && arch_nanotime() < until)
			cpu_relax();
		arch_intr_disable();
		if (!work_waiting(gd)) {
			gd->gd_idle_halts++;
			arch_idle_wait(); /* sti; hlt: no wake-up lost */
		} else {
			arch_intr_enable();
		}
	}
}

/* ---------------------------------------------------------------- */
/* Set-up                                                           */
/* ---------------------------------------------------------------- */

static void
gd_init(struct globaldata *gd, unsigned cpu)
{
	int i;

	gd->gd_self = gd;
	gd->gd_cpuid = cpu;
	for (i = 0; i < LWKT_NPRI; i++)
		TAILQ_INIT(&gd->gd_runq[i]);
	TAILQ_INIT(&gd->gd_callouts);
	callout_init(&gd->gd_quantum);
	lwkt_gd[cpu] = gd;
}

static void
thread_fields_init(struct thread *td, struct globaldata *gd, int pri,
    uint32_t flags, const char *name)
{
	td->td_magic = TD_MAGIC;
	td->td_gd = gd;
	td->td_pri = pri;
	td->td_flags = flags;
	td->td_join_lock = (struct spinlock)SPINLOCK_INIT;
	callout_init(&td->td_sleep_timer);
	strlcpy(td->td_name, name, sizeof(td->td_name));
	__atomic_add_fetch(&nthreads, 1, __ATOMIC_RELAXED);
	spin_lock(&all_lock);
	TAILQ_INSERT_TAIL(&all_threads, td, td_all);
	spin_unlock(&all_lock);
}

void
sched_init(void)
{
	struct globaldata *gd = &gd0;
	struct thread *td = &thread0;

	gd_init(gd, 0);
	thread_fields_init(td, gd, TDPRI_USER, TDF_BOOT, "main");
	td->td_tls = arch_tls_current();
	td->td_fpu = sched_fpu_area_alloc();
	if (td->td_fpu == NULL)
		panic("sched: no memory for the boot thread's FPU area");
	gd->gd_curthread = td;
	gd->gd_fpu_owner = td; /* its registers are live */
	runq_insert(gd, td, false);
	gd->gd_idlethread = sched_idle_thread_create(gd);
	if (gd->gd_idlethread == NULL)
		panic("sched: no memory for the idle thread");
	arch_cpu_set_local(gd);
	if (sched_ipiq_init(arch_ncpus_present()) < 0)
		panic("sched: no memory for the IPI queues");
	ipi_vector = arch_intr_alloc(ipi_intr, NULL);
	KKASSERT(ipi_vector > 0);
	sched_callout_start();
	arch_intr_set_hooks(sched_gate, sched_intr_return);
}

int
sched_ipi_vector(void)
{
	return ipi_vector;
}

/* The body of the boot CPU's idle thread (APs enter idle_loop directly). */
void
sched_idle_main(void *arg)
{
	idle_loop(arg);
}

/* Each AP arrives here on its idle thread's stack, interrupts off. */
static void
ap_main(unsigned cpu)
{
	struct globaldata *gd = lwkt_gd[cpu];

	arch_cpu_set_local(gd);
	gd->gd_curthread = gd->gd_idlethread;
	gd->gd_idlethread->td_critcount = 0;
	arch_intr_enable();
	idle_loop(gd);
}

unsigned
sched_smp_start(unsigned max)
{
	void *stacks[ARCH_MAX_CPUS], *tls[ARCH_MAX_CPUS];
	unsigned n = (unsigned)arch_ncpus_present(), i;

	if (n > max)
		n = max;
	if (n > ARCH_MAX_CPUS)
		n = ARCH_MAX_CPUS;
	for (i = 1; i < n; i++) {
		struct globaldata *gd = kmalloc(sizeof(*gd), KM_ZERO);
		if (gd == NULL)
			break;
		gd_init(gd, i);
		gd->gd_idlethread = sched_idle_thread_create(gd);
		if (gd->gd_idlethread == NULL)
			break;
		stacks[i] = gd->gd_idlethread->td_stack +
		    gd->gd_idlethread->td_stacksize;
		tls[i] = gd->gd_idlethread->td_tls;
	}
	lwkt_ncpus = arch_smp_start(i, stacks, tls, ap_main);
	return lwkt_ncpus;
}

uint64_t
sched_thread_count(void)
{
	return __atomic_load_n(&nthreads, __ATOMIC_RELAXED);
}

void
sched_thread_forget(struct thread *td)
{
	spin_lock(&all_lock);
	TAILQ_REMOVE(&all_threads, td, td_all);
	spin_unlock(&all_lock);
	__atomic_sub_fetch(&nthreads, 1, __ATOMIC_RELAXED);
}

void
sched_dump(void)
{
	struct thread *td;
	unsigned i;
	int tries;

	for (i = 0; i < lwkt_ncpus; i++) {
		struct globaldata *gd = lwkt_gd[i];
		kprintf("sched: cpu %u runs %s; runq %#x reqflags %#x\n", i,
		    gd->gd_curthread->td_name, gd->gd_runq_bits,
		    gd->gd_reqflags);
	}
	/* Called from a watchdog that may have interrupted a holder. */
	for (tries = 0; tries < 1000000 && all_lock.sl_locked; tries++)
		cpu_relax();
	TAILQ_FOREACH (td, &all_threads, td_all) {
		kprintf("sched:   %-16s cpu %u pri %2d flags %#06x crit %d "
			"toks %d %s%s%s\n",
		    td->td_name, td->td_gd->gd_cpuid, td->td_pri, td->td_flags,
		    td->td_critcount, td->td_ntoks,
		    td->td_wchan != NULL ? "sleeping on " : "",
		    td->td_wchan != NULL ? td->td_wmesg : "",
		    td == td->td_gd->gd_curthread ? " (running)" : "");
	}
}

void
sched_thread_fields_init(struct thread *td, struct globaldata *gd, int pri,
    uint32_t flags, const char *name)
{
	thread_fields_init(td, gd, pri, flags, name);
}

void
sched_post_switch(struct globaldata *gd)
{
	post_switch(gd);
}

void
sched_get_stats(struct sched_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < lwkt_ncpus; i++) {
		struct globaldata *gd = lwkt_gd[i];
		st->ss_switches += gd->gd_switches;
		st->ss_preemptions += gd->gd_preemptions;
		st->ss_ipis_sent += gd->gd_ipis_sent;
		st->ss_ipis_recv += gd->gd_ipis_recv;
		st->ss_ipiq_full += gd->gd_ipiq_full;
		st->ss_idle_halts += gd->gd_idle_halts;
	}
	st->ss_threads = sched_thread_count();
}
