/*
 * Callouts: per-CPU timers on the LAPIC timer, tickless.
 *
 * Each CPU keeps its armed callouts in deadline order and programs its
 * one-shot timer for the first; with none armed the timer is off, so an
 * idle CPU takes no timer interrupts at all. Expired callouts run from the
 * timer interrupt (deferred to the end of any critical section), with
 * interrupts off, and must not block.
 *
 * A callout belongs to the CPU that armed it (c_gd); stopping it from
 * another CPU asks that CPU by IPI and waits for the answer.
 */
#include "sched/sched.h"
#include "sched/sched_internal.h"

void
callout_init(struct callout *c)
{
	c->c_gd = NULL;
	c->c_fn = NULL;
	c->c_arg = NULL;
	c->c_when = 0;
}

static void
program(struct globaldata *gd)
{
	struct callout *first = TAILQ_FIRST(&gd->gd_callouts);
	uint64_t when = first != NULL ? first->c_when : 0;

	if (when != gd->gd_timer_armed) {
		gd->gd_timer_armed = when;
		arch_timer_arm(when); /* 0 turns it off */
	}
}

/* Removes c from this CPU's list; in a critical section. */
static bool
stop_local(struct globaldata *gd, struct callout *c)
{
	if (c->c_gd != gd)
		return false;
	TAILQ_REMOVE(&gd->gd_callouts, c, c_link);
	c->c_gd = NULL;
	return true;
}

void
callout_reset(struct callout *c, uint64_t delay_ns, void (*fn)(void *),
    void *arg)
{
	struct globaldata *gd;
	struct callout *it;

	if (c->c_gd != NULL && c->c_gd != mycpu)
		callout_stop(c);
	crit_enter();
	gd = mycpu;
	stop_local(gd, c);
	c->c_when = arch_nanotime() + delay_ns;
	c->c_fn = fn;
	c->c_arg = arg;
	c->c_gd = gd;
	TAILQ_FOREACH (it, &gd->gd_callouts, c_link) {
		if (it->c_when > c->c_when)
			break;
	}
	if (it != NULL)
		TAILQ_INSERT_BEFORE(it, c, c_link);
	else
		TAILQ_INSERT_TAIL(&gd->gd_callouts, c, c_link);
	program(gd);
	crit_exit();
}

struct stop_req {
	struct callout *sr_c;
	bool sr_was;
};

static void
stop_remote(void *arg)
{
	struct stop_req *r = arg;

	r->sr_was = stop_local(mycpu, r->sr_c);
}

bool
callout_stop(struct callout *c)
{
	struct globaldata *gd = __atomic_load_n(&c->c_gd, __ATOMIC_ACQUIRE);
	struct stop_req req = { c, false };
	bool was;

	if (gd == NULL)
		return false;
	if (gd != mycpu) {
		lwkt_wait_ipiq(gd->gd_cpuid,
		    lwkt_send_ipiq(gd->gd_cpuid, stop_remote, &req));
		return req.sr_was;
	}
	crit_enter();
	was = stop_local(gd, c);
	crit_exit();
	return was;
}

/* The timer interrupt (deferred to the end of a critical section). */
static void
callout_intr(void)
{
	struct globaldata *gd = mycpu;
	struct callout *c;

	gd->gd_timer_armed = 0;
	++gd->gd_curthread->td_critcount;
	while ((c = TAILQ_FIRST(&gd->gd_callouts)) != NULL &&
	    c->c_when <= arch_nanotime()) {
		TAILQ_REMOVE(&gd->gd_callouts, c, c_link);
		c->c_gd = NULL;
		c->c_fn(c->c_arg);
	}
	--gd->gd_curthread->td_critcount;
	program(gd);
}

void
sched_callout_start(void)
{
	arch_timer_set_handler(callout_intr);
}
