/* Private to sched/: what its files share. */
#ifndef SCHED_SCHED_INTERNAL_H
#define SCHED_SCHED_INTERNAL_H

#include "sched/sched.h"

static inline void
cpu_relax(void)
{
	__builtin_ia32_pause();
}

/* Blocking calls check this first, before they change any state. */
static inline void
sched_assert_can_block(const char *what)
{
	struct thread *td = curthread;

	if (td->td_hardcrit > 0)
		panic("blocking in a hard critical section: %s in thread %s",
		    what, td->td_name);
}

/* thread.c */
void sched_switch(bool release);
void sched_schedule_local(struct globaldata *gd, struct thread *td);
void sched_post_switch(struct globaldata *gd);
void sched_thread_fields_init(struct thread *td, struct globaldata *gd, int pri,
    uint32_t flags, const char *name);
void sched_thread_forget(struct thread *td);
uint64_t sched_thread_count(void);
void sched_idle_main(void *gd);
int sched_ipi_vector(void);

/* lifecycle.c */
void *sched_fpu_area_alloc(void);
struct thread *sched_idle_thread_create(struct globaldata *gd);
void sched_thread_reap(struct thread *td);
void sched_reap_zombies(struct globaldata *gd);

/* ipiq.c */
int sched_ipiq_init(unsigned ncpus);
bool sched_ipiq_waiting(struct globaldata *gd);

/* callout.c */
void sched_callout_start(void);

#endif
