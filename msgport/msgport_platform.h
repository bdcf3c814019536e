/*
 * What msgport/ needs from the layers below: threads, critical sections,
 * IPIs, sleep and wakeup, spinlocks, callouts, memory. In the kernel that
 * is sched/; on the host (unit tests) a single-CPU stand-in,
 * msgport/test/host_sched.h, so that the message logic runs under Check
 * with the sanitizers.
 */
#ifndef MSGPORT_MSGPORT_PLATFORM_H
#define MSGPORT_MSGPORT_PLATFORM_H

#ifdef _DAMSELFLY_KERNEL
#include "core/kmalloc.h"
#include "sched/sched.h"
#else
#include "msgport/test/host_sched.h"
#endif

#endif
