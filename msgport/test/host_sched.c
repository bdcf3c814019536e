/* The host stand-in for sched/ (see host_sched.h). */
#include <string.h>
#include <time.h>
#include "msgport/test/host_sched.h"

struct thread *host_curthread;
struct globaldata host_gd[HOST_NCPUS] = { { 0 }, { 1 } };
void (*host_block_hook)(void);

#define MAX_IPIS 4096
static struct {
	ipifunc_t func;
	void *arg;
} ipiq[HOST_NCPUS][MAX_IPIS];
static int ipi_head[HOST_NCPUS], ipi_tail[HOST_NCPUS];
static struct thread cpu_thread[HOST_NCPUS];

void
host_thread_init(struct thread *td, unsigned cpu, const char *name)
{
	memset(td, 0, sizeof(*td));
	td->td_gd = &host_gd[cpu];
	strncpy(td->td_name, name, sizeof(td->td_name) - 1);
}

uint64_t
lwkt_send_ipiq(unsigned cpu, ipifunc_t func, void *arg)
{
	KKASSERT(cpu < HOST_NCPUS);
	if (&host_gd[cpu] == mycpu) {
		func(arg);
		return 0;
	}
	if (ipi_tail[cpu] == MAX_IPIS)
		panic("host_sched: IPI queue overflow");
	ipiq[cpu][ipi_tail[cpu]].func = func;
	ipiq[cpu][ipi_tail[cpu]].arg = arg;
	return (uint64_t)++ipi_tail[cpu];
}

int
host_pending(unsigned cpu)
{
	return ipi_tail[cpu] - ipi_head[cpu];
}

int
host_deliver(unsigned cpu)
{
	struct thread *saved = host_curthread;
	int n = 0;

	if (cpu_thread[cpu].td_gd == NULL)
		host_thread_init(&cpu_thread[cpu], cpu, "ipi");
	host_curthread = &cpu_thread[cpu];
	while (ipi_head[cpu] < ipi_tail[cpu]) {
		int i = ipi_head[cpu]++;
		ipiq[cpu][i].func(ipiq[cpu][i].arg);
		n++;
	}
	ipi_head[cpu] = ipi_tail[cpu] = 0;
	host_curthread = saved;
	return n;
}

void
lwkt_wait_ipiq(unsigned cpu, uint64_t seq)
{
	if (seq != 0)
		host_deliver(cpu);
}

void
lwkt_schedule(struct thread *td)
{
	td->td_scheduled++;
}

void
lwkt_deschedule_self(void)
{
}

/* Blocking: the test's hook must make progress. */
static int blocked;

void
lwkt_switch(void)
{
	if (host_block_hook == NULL || ++blocked > 1000)
		panic("host_sched: %s would block for ever",
		    curthread->td_name);
	host_block_hook();
}

int
ssleep(const volatile void *ident, struct spinlock *spin, const char *wmesg,
    uint64_t timo_ns)
{
	if (spin != NULL)
		spin_unlock(spin);
	lwkt_switch();
	return 0;
}

void
tsleep_interlock(const volatile void *ident, const char *wmesg)
{
}

int
tsleep_interlocked(const volatile void *ident, uint64_t timo_ns)
{
	lwkt_switch();
	return 0;
}

void
wakeup(const volatile void *ident)
{
}

void
wakeup_one(const volatile void *ident)
{
}

void
callout_init(struct callout *c)
{
	memset(c, 0, sizeof(*c));
}

void
callout_reset(struct callout *c, uint64_t ns, void (*fn)(void *), void *arg)
{
	c->c_fn = fn;
	c->c_arg = arg;
	c->c_armed = true;
}

bool
callout_stop(struct callout *c)
{
	bool was = c->c_armed;

	c->c_armed = false;
	return was;
}

uint64_t
arch_nanotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

void *
kmalloc(size_t size, int flags)
{
	return (flags & KM_ZERO) ? calloc(1, size) : malloc(size);
}

void
kfree(void *p, size_t size)
{
	(void)size;
	free(p);
}
