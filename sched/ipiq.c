/*
 * IPI message queues: a FIFO of (function, argument) for every ordered
 * pair of CPUs. Only the source CPU writes a queue's windex, only the
 * target its rindex (taken) and xindex (done), so no locks.
 *
 * Sending. The source fills a slot, publishes windex, and raises an
 * interrupt only when the target has none on its way (gd_npoll, which
 * the target clears before it drains). A queue with a single free slot
 * left counts as full: the sender then drains its own incoming queues
 * while it waits, so two CPUs filling each other's queues cannot
 * deadlock.
 *
 * Receiving. The target takes a message (rindex++) before running it and
 * marks it done (xindex++) after; lwkt_wait_ipiq() waits on xindex. A
 * nested drain (from a message that sends to a full queue) skips the
 * queue an outer drain is working on, so messages of one queue finish in
 * order.
 */
#include <errno.h>
#include <string.h>
#include "core/kmalloc.h"
#include "sched/sched.h"
#include "sched/sched_internal.h"

#define IPIQ_SIZE 64 /* a power of 2 */
#define IPIQ_MASK (IPIQ_SIZE - 1)

struct lwkt_ipiq {
	volatile uint64_t ip_windex __aligned(64); /* the source writes */
	volatile uint64_t ip_rindex __aligned(64); /* the target writes */
	volatile uint64_t ip_xindex;
	bool ip_draining; /* the target is inside this queue */
	struct {
		ipifunc_t func;
		void *arg;
	} ip_info[IPIQ_SIZE];
};

static unsigned nqueues; /* queues per CPU */

int
sched_ipiq_init(unsigned ncpus)
{
	nqueues = ncpus > ARCH_MAX_CPUS ? ARCH_MAX_CPUS : ncpus;
	return 0;
}

/* A CPU's queues, made when it is first used (its gd exists by then). */
static struct lwkt_ipiq *
queues_of(struct globaldata *gd)
{
	struct lwkt_ipiq *q = __atomic_load_n(&gd->gd_ipiq, __ATOMIC_ACQUIRE);

	if (q == NULL) {
		q = kmallocarray(nqueues, sizeof(*q), KM_ZERO);
		if (q == NULL)
			panic("ipiq: no memory for CPU %u's queues",
			    gd->gd_cpuid);
		__atomic_store_n(&gd->gd_ipiq, q, __ATOMIC_RELEASE);
	}
	return q;
}

static void
kick(struct globaldata *gd, struct globaldata *tgd)
{
	if (__atomic_exchange_n(&tgd->gd_npoll, 1, __ATOMIC_ACQ_REL) == 0) {
		gd->gd_ipis_sent++;
		arch_ipi_send(tgd->gd_cpuid, sched_ipi_vector());
	}
}

static uint64_t
send(unsigned cpu, ipifunc_t func, void *arg, bool passive)
{
	struct globaldata *gd = mycpu, *tgd = lwkt_gd[cpu];
	struct lwkt_ipiq *q;
	uint64_t w;

	KKASSERT(cpu < lwkt_ncpus && tgd != NULL);
	if (tgd == gd) {
		crit_enter();
		func(arg);
		crit_exit();
		return 0;
	}
	crit_enter();
	q = &queues_of(gd)[cpu];
	w = q->ip_windex;
	while (w - __atomic_load_n(&q->ip_rindex, __ATOMIC_ACQUIRE) >=
	    IPIQ_SIZE - 1) {
		gd->gd_ipiq_full++;
		kick(gd, tgd);
		lwkt_process_ipiq(); /* ours, while we wait */
		cpu_relax();
	}
	q->ip_info[w & IPIQ_MASK].func = func;
	q->ip_info[w & IPIQ_MASK].arg = arg;
	__atomic_store_n(&q->ip_windex, w + 1, __ATOMIC_RELEASE);
	if (!passive)
		kick(gd, tgd);
	crit_exit();
	return w + 1;
}

uint64_t
lwkt_send_ipiq(unsigned cpu, ipifunc_t func, void *arg)
{
	return send(cpu, func, arg, false);
}

uint64_t
lwkt_send_ipiq_passive(unsigned cpu, ipifunc_t func, void *arg)
{
	return send(cpu, func, arg, true);
}

static void
drain(struct lwkt_ipiq *q)
{
	uint64_t r;

	q->ip_draining = true;
	while ((r = q->ip_rindex) !=
	    __atomic_load_n(&q->ip_windex, __ATOMIC_ACQUIRE)) {
		ipifunc_t func = q->ip_info[r & IPIQ_MASK].func;
		void *arg = q->ip_info[r & IPIQ_MASK].arg;
		__atomic_store_n(&q->ip_rindex, r + 1, __ATOMIC_RELEASE);
		func(arg);
		__atomic_store_n(&q->ip_xindex, r + 1, __ATOMIC_RELEASE);
	}
	q->ip_draining = false;
}

/* CPU src's queue to gd, or NULL when src has sent nothing yet. */
static struct lwkt_ipiq *
incoming(struct globaldata *gd, unsigned src)
{
	struct lwkt_ipiq *qs;

	if (src == gd->gd_cpuid)
		return NULL;
	qs = __atomic_load_n(&lwkt_gd[src]->gd_ipiq, __ATOMIC_ACQUIRE);
	return qs == NULL ? NULL : &qs[gd->gd_cpuid];
}

void
lwkt_process_ipiq(void)
{
	struct globaldata *gd = mycpu;
	struct lwkt_ipiq *q;
	unsigned src;

	crit_enter();
	__atomic_store_n(&gd->gd_npoll, 0, __ATOMIC_SEQ_CST);
	for (src = 0; src < lwkt_ncpus; src++)
		if ((q = incoming(gd, src)) != NULL && !q->ip_draining)
			drain(q);
	crit_exit();
}

bool
sched_ipiq_waiting(struct globaldata *gd)
{
	struct lwkt_ipiq *q;
	unsigned src;

	for (src = 0; src < lwkt_ncpus; src++)
		if ((q = incoming(gd, src)) != NULL &&
		    q->ip_rindex !=
			__atomic_load_n(&q->ip_windex, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

void
lwkt_wait_ipiq(unsigned cpu, uint64_t seq)
{
	struct globaldata *gd = mycpu;
	struct lwkt_ipiq *q;

	if (seq == 0 || lwkt_gd[cpu] == gd)
		return;
	q = &queues_of(gd)[cpu];
	while (__atomic_load_n(&q->ip_xindex, __ATOMIC_ACQUIRE) < seq) {
		lwkt_process_ipiq();
		cpu_relax();
	}
}
