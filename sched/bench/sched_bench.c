/*
 * LWKT benchmarks (kbench group "sched"), read by bench/run's sched area
 * and set beside the Linux guest's pipe and futex ping-pongs. Each figure
 * is the mean over many iterations after a warm-up; times are from the
 * TSC. Pairs of threads run at TDPRI_KERN, one pair at a time.
 */
#include <pthread.h>
#include <string.h>
#include "core/kbench.h"
#include "msgport/msgport.h"
#include "sched/sched.h"

#define WARMUP 1000

static uint64_t
ps_per(uint64_t ns, uint64_t n)
{
	return n == 0 ? 0 : ns * 1000 / n;
}

/* ---- thread switch: two threads that wake each other on one CPU ---- */

static struct thread *volatile sw_peer[2];
static volatile int sw_ready;
static int sw_iters;
static uint64_t sw_ns;

static void
switcher(void *arg)
{
	int me = (int)(uintptr_t)arg, i;
	bool fpu = me >= 2;
	uint64_t t0 = 0;

	me &= 1;
	__atomic_add_fetch(&sw_ready, 1, __ATOMIC_SEQ_CST);
	while (sw_ready < 2)
		lwkt_yield();
	for (i = 0; i < sw_iters + WARMUP; i++) {
		if (i == WARMUP && me == 0)
			t0 = arch_nanotime();
		if (fpu) /* make the FPU state worth switching */
			__asm__ volatile("movq %0, %%xmm1"
					 :
					 : "r"((uint64_t)i));
		crit_enter();
		lwkt_schedule(sw_peer[me ^ 1]);
		lwkt_deschedule_self();
		lwkt_switch();
		crit_exit();
	}
	if (me == 0)
		sw_ns = arch_nanotime() - t0;
	lwkt_schedule(sw_peer[me ^ 1]); /* let the other finish */
}

static uint64_t
bench_switch(bool fpu, int iters)
{
	struct thread *a, *b;
	uint32_t flags = TDF_JOINABLE | (fpu ? 0 : TDF_NOFPU);
	int base = fpu ? 2 : 0;

	sw_ready = 0;
	sw_iters = iters;
	lwkt_setpri_self(TDPRI_MAX);
	lwkt_create(switcher, (void *)(uintptr_t)(base + 0), &a, 0, TDPRI_KERN,
	    flags, 0, "sw0");
	lwkt_create(switcher, (void *)(uintptr_t)(base + 1), &b, 0, TDPRI_KERN,
	    flags, 0, "sw1");
	sw_peer[0] = a;
	sw_peer[1] = b;
	lwkt_setpri_self(TDPRI_USER);
	lwkt_join(a);
	lwkt_join(b);
	/* each of a's iterations is two switches: to b and back */
	return ps_per(sw_ns, 2 * (uint64_t)iters);
}

/* ---- sleep/wakeup round trip ---- */

static volatile uint32_t sl_seq[2];
static int sl_iters;
static uint64_t sl_ns;

static void
sleeper(void *arg)
{
	int me = (int)(uintptr_t)arg, i;
	uint64_t t0 = 0;

	for (i = 0; i < sl_iters + WARMUP; i++) {
		if (i == WARMUP && me == 0)
			t0 = arch_nanotime();
		if (me == 0) {
			__atomic_add_fetch(&sl_seq[1], 1, __ATOMIC_RELEASE);
			wakeup(&sl_seq[1]);
		}
		/* wait for our sequence to reach i + 1 */
		while (__atomic_load_n(&sl_seq[me], __ATOMIC_ACQUIRE) <
		    (uint32_t)(i + 1)) {
			tsleep_interlock(&sl_seq[me], "pp");
			if (__atomic_load_n(&sl_seq[me], __ATOMIC_ACQUIRE) >=
			    (uint32_t)(i + 1))
				tsleep_interlock_cancel();
			else
				tsleep_interlocked(&sl_seq[me], 0);
		}
		if (me == 1) {
			__atomic_add_fetch(&sl_seq[0], 1, __ATOMIC_RELEASE);
			wakeup(&sl_seq[0]);
		}
	}
	if (me == 0)
		sl_ns = arch_nanotime() - t0;
}

static uint64_t
bench_sleep(int cpu_b, int iters)
{
	struct thread *a, *b;

	sl_seq[0] = sl_seq[1] = 0;
	sl_iters = iters;
	lwkt_create(sleeper, (void *)1, &b, cpu_b, TDPRI_KERN,
	    TDF_JOINABLE | TDF_NOFPU, 0, "sl1");
	lwkt_create(sleeper, (void *)0, &a, 0, TDPRI_KERN,
	    TDF_JOINABLE | TDF_NOFPU, 0, "sl0");
	lwkt_join(a);
	lwkt_join(b);
	return ps_per(sl_ns, (uint64_t)iters);
}

/* ---- synchronous message round trip ---- */

static struct lwkt_port *volatile srv_port;

static void
msg_server(void *arg)
{
	srv_port = lwkt_thread_port();
	for (;;) {
		struct lwkt_msg *m = lwkt_waitport(srv_port, 0);
		bool stop = m->ms_arg == ~0ULL;
		lwkt_replymsg(m, 0);
		if (stop)
			return;
	}
}

static uint64_t
bench_msg(int cpu, int iters)
{
	struct thread *srv;
	struct lwkt_msg m;
	uint64_t t0 = 0;
	int i;

	srv_port = NULL;
	lwkt_create(msg_server, NULL, &srv, cpu, TDPRI_KERN,
	    TDF_JOINABLE | TDF_NOFPU, 0, "msgsrv");
	while (srv_port == NULL)
		lwkt_yield();
	lwkt_initmsg(&m, lwkt_thread_port(), 0);
	for (i = 0; i < iters + WARMUP; i++) {
		if (i == WARMUP)
			t0 = arch_nanotime();
		m.ms_arg = (uint64_t)i;
		lwkt_domsg(srv_port, &m);
	}
	t0 = arch_nanotime() - t0;
	m.ms_arg = ~0ULL;
	lwkt_domsg(srv_port, &m);
	lwkt_join(srv);
	return ps_per(t0, (uint64_t)iters);
}

/* ---- IPI round trip ---- */

static void
ipi_nop(void *arg)
{
}

static uint64_t
bench_ipi(int iters)
{
	uint64_t t0 = 0;
	int i;

	for (i = 0; i < iters + WARMUP; i++) {
		if (i == WARMUP)
			t0 = arch_nanotime();
		lwkt_wait_ipiq(1, lwkt_send_ipiq(1, ipi_nop, NULL));
	}
	return ps_per(arch_nanotime() - t0, (uint64_t)iters);
}

/* ---- uncontended locks ---- */

static struct lwkt_token bench_tok = LWKT_TOKEN_INITIALIZER(bench_tok);

static uint64_t
bench_token(int iters)
{
	uint64_t t0 = arch_nanotime();
	int i;

	for (i = 0; i < iters; i++) {
		lwkt_gettoken(&bench_tok);
		lwkt_reltoken(&bench_tok);
	}
	return ps_per(arch_nanotime() - t0, (uint64_t)iters);
}

static uint64_t
bench_mutex(int iters)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	uint64_t t0 = arch_nanotime();
	int i;

	for (i = 0; i < iters; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	return ps_per(arch_nanotime() - t0, (uint64_t)iters);
}

KBENCH(sched, lwkt)
{
	kbench_report("sched.switch_1cpu", bench_switch(false, 100000), "ns");
	kbench_report("sched.switch_1cpu_fpu", bench_switch(true, 100000),
	    "ns");
	kbench_report("sched.sleep_rtt_1cpu", bench_sleep(0, 50000), "ns");
	kbench_report("sched.msg_rtt_1cpu", bench_msg(0, 50000), "ns");
	kbench_report("sched.token_uncontended", bench_token(1000000), "ns");
	kbench_report("sched.mutex_uncontended", bench_mutex(1000000), "ns");
	if (lwkt_ncpus < 2) {
		kprintf("kbench: sched: the cross-CPU figures need 2 CPUs\n");
		return;
	}
	kbench_report("sched.sleep_rtt_2cpu", bench_sleep(1, 10000), "ns");
	kbench_report("sched.msg_rtt_2cpu", bench_msg(1, 10000), "ns");
	kbench_report("sched.ipi_rtt_2cpu", bench_ipi(10000), "ns");
}
