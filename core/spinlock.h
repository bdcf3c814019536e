/*
 * core/spinlock.h: spinlocks for the few very short sections that need
 * them (allocator free lists, the console). Taking one disables
 * interrupts on this CPU until it is released, so an interrupt handler on
 * the same CPU cannot spin on a lock its thread holds.
 *
 * Portable: on the host (unit tests) the interrupt part is left out.
 *
 * Interface:
 *  - Never block, sleep or take a token while holding a spinlock.
 *  - Not recursive: taking a lock this CPU holds deadlocks.
 */
#ifndef CORE_SPINLOCK_H
#define CORE_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "core/kern.h"
#ifdef _DAMSELFLY_KERNEL
#include "arch/arch.h"
#endif

struct spinlock {
	volatile uint32_t sl_locked;
	bool sl_intr; /* interrupts were enabled before; guarded by sl_locked */
};

#define SPINLOCK_INIT    \
	{                \
		0, false \
	}

static inline void
spin_lock(struct spinlock *l)
{
#ifdef _DAMSELFLY_KERNEL
	bool intr = arch_intr_save();
#endif
	while (__atomic_exchange_n(&l->sl_locked, 1, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(&l->sl_locked, __ATOMIC_RELAXED) != 0)
			__builtin_ia32_pause();
	}
#ifdef _DAMSELFLY_KERNEL
	l->sl_intr = intr;
#endif
}

static inline void
spin_unlock(struct spinlock *l)
{
#ifdef _DAMSELFLY_KERNEL
	bool intr = l->sl_intr;
#endif
	KKASSERT(l->sl_locked);
	__atomic_store_n(&l->sl_locked, 0, __ATOMIC_RELEASE);
#ifdef _DAMSELFLY_KERNEL
	arch_intr_restore(intr);
#endif
}

static inline bool
spin_held(const struct spinlock *l)
{
	return l->sl_locked != 0;
}

#endif
