/*
 * Thread creation, exit and join, and the memory a thread owns: its
 * guarded stack (arch_stack_alloc), its TLS block (with its own canary)
 * and its FPU save area (none for TDF_NOFPU threads).
 *
 * A thread that exits is freed by the thread that runs after it on its
 * CPU (post_switch in thread.c): at once when it is not joinable, else
 * when lwkt_join() has seen td_exited.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core/kmalloc.h"
#include "sched/sched.h"
#include "sched/sched_internal.h"

/* Memory aligned beyond kmalloc's 16 bytes: the real block sits in the
 * word before the aligned address. */
static void *
alloc_aligned(size_t size, size_t align)
{
	size_t total = size + align + sizeof(void *);
	char *raw = kmalloc(total, KM_ZERO), *p;

	if (raw == NULL)
		return NULL;
	p = (char *)(((uintptr_t)raw + sizeof(void *) + align - 1) &
	    ~(uintptr_t)(align - 1));
	((void **)p)[-1] = raw;
	return p;
}

static void
free_aligned(void *p, size_t size, size_t align)
{
	if (p != NULL)
		kfree(((void **)p)[-1], size + align + sizeof(void *));
}

void *
sched_fpu_area_alloc(void)
{
	void *a = alloc_aligned(arch_fpu_state_size(), ARCH_FPU_ALIGN);

	if (a != NULL)
		arch_fpu_init_state(a);
	return a;
}

static uint64_t
canary(void)
{
	return arch_random_u64() & ~0xffULL;
}

static void
thread_free(struct thread *td)
{
	KKASSERT(td->td_magic == TD_MAGIC);
	KKASSERT(td->td_refs == 0);
	td->td_magic = 0;
	if (td->td_msgport_free != NULL)
		td->td_msgport_free(td);
	if (td->td_stack != NULL)
		arch_stack_free(td->td_stack, td->td_stacksize);
	free_aligned(td->td_tls_mem, arch_tls_size(), arch_tls_align());
	free_aligned(td->td_fpu, arch_fpu_state_size(), ARCH_FPU_ALIGN);
	sched_thread_forget(td);
	kfree(td, sizeof(*td));
}

/* The first code a new thread runs (arch_ctx_init's entry). */
static void
thread_start(void *arg)
{
	struct thread *td = arg;

	sched_post_switch(mycpu);
	crit_exit(); /* created with a count of 1, as if in lwkt_switch */
	arch_intr_enable();
	td->td_func(td->td_arg);
	lwkt_exit();
}

static struct thread *
thread_alloc(struct globaldata *gd, int pri, uint32_t flags, size_t stacksize,
    const char *name)
{
	struct thread *td = kmalloc(sizeof(*td), KM_ZERO);
	void *tls;

	if (td == NULL)
		return NULL;
	td->td_stacksize = ROUNDUP(stacksize, PAGE_SIZE);
	td->td_stack = arch_stack_alloc(td->td_stacksize);
	tls = alloc_aligned(arch_tls_size(), arch_tls_align());
	if (td->td_stack == NULL || tls == NULL)
		goto fail;
	td->td_tls_mem = tls;
	td->td_tls = arch_tls_init(tls, canary());
	if (!(flags & TDF_NOFPU) &&
	    (td->td_fpu = sched_fpu_area_alloc()) == NULL)
		goto fail;
	sched_thread_fields_init(td, gd, pri, flags, name);
	td->td_critcount = 1;
	return td;
fail:
	if (td->td_stack != NULL)
		arch_stack_free(td->td_stack, td->td_stacksize);
	free_aligned(tls, arch_tls_size(), arch_tls_align());
	kfree(td, sizeof(*td));
	return NULL;
}

int
lwkt_create(void (*func)(void *), void *arg, struct thread **tdp, int cpu,
    int pri, uint32_t flags, size_t stacksize, const char *name)
{
	struct thread *td;

	if (cpu < 0)
		cpu = mycpuid;
	if ((unsigned)cpu >= lwkt_ncpus || pri <= TDPRI_IDLE ||
	    pri > TDPRI_MAX || (flags & ~(TDF_JOINABLE | TDF_NOFPU)) != 0)
		return -EINVAL;
	td = thread_alloc(lwkt_gd[cpu], pri, flags,
	    stacksize ? stacksize : LWKT_STACK_SIZE, name);
	if (td == NULL)
		return -ENOMEM;
	td->td_func = func;
	td->td_arg = arg;
	arch_ctx_init(&td->td_ctx, td->td_stack + td->td_stacksize,
	    thread_start, td);
	if (tdp != NULL)
		*tdp = td;
	lwkt_schedule(td);
	return 0;
}

struct thread *
sched_idle_thread_create(struct globaldata *gd)
{
	struct thread *td =
	    thread_alloc(gd, TDPRI_IDLE, TDF_IDLE | TDF_NOFPU, 16384, "idle");

	if (td == NULL)
		return NULL;
	snprintf(td->td_name, sizeof(td->td_name), "idle/%u", gd->gd_cpuid);
	td->td_func = sched_idle_main;
	td->td_arg = gd;
	arch_ctx_init(&td->td_ctx, td->td_stack + td->td_stacksize,
	    thread_start, td);
	return td;
}

_Noreturn void
lwkt_exit(void)
{
	struct thread *td = curthread;

	KKASSERT(!(td->td_flags & (TDF_BOOT | TDF_IDLE)));
	crit_enter();
	while (td->td_ntoks > 0)
		lwkt_reltoken(td->td_toks[td->td_ntoks - 1].tr_tok);
	lwkt_deschedule_self();
	td->td_flags |= TDF_EXITING;
	td->td_gd->gd_post_switch = td;
	lwkt_switch();
	panic("lwkt_exit: thread %s came back", td->td_name);
}

static bool
held(struct thread *td)
{
	return __atomic_load_n(&td->td_refs, __ATOMIC_ACQUIRE) != 0;
}

/*
 * Exited threads that were still held when they would have been freed
 * wait on their CPU's zombie list (linked through td_arg); post_switch and
 * the idle loop free them once unheld. In a critical section.
 */
void
sched_reap_zombies(struct globaldata *gd)
{
	struct thread **pp = &gd->gd_zombies, *td;

	while ((td = *pp) != NULL) {
		if (held(td)) {
			pp = (struct thread **)&td->td_arg;
			continue;
		}
		*pp = td->td_arg;
		thread_free(td);
	}
}

/* After the switch away from an exiting thread (post_switch). */
void
sched_thread_reap(struct thread *td)
{
	if (!(td->td_flags & TDF_JOINABLE)) {
		if (held(td)) {
			td->td_arg = td->td_gd->gd_zombies;
			td->td_gd->gd_zombies = td;
		} else {
			thread_free(td);
		}
		return;
	}
	spin_lock(&td->td_join_lock);
	td->td_exited = true;
	spin_unlock(&td->td_join_lock);
	wakeup(td);
}

void
lwkt_join(struct thread *td)
{
	KKASSERT(td->td_flags & TDF_JOINABLE);
	sched_assert_can_block("lwkt_join");
	KKASSERT(td != curthread);
	spin_lock(&td->td_join_lock);
	while (!td->td_exited) {
		ssleep(td, &td->td_join_lock, "join", 0);
		spin_lock(&td->td_join_lock);
	}
	spin_unlock(&td->td_join_lock);
	/* A late wakeup or schedule may still name it: wait (briefly). */
	while (held(td))
		tsleep(&td->td_refs, "joinref", 100000);
	thread_free(td);
}
