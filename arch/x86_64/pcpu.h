/*
 * Per-CPU data, reached through the GS base (%gs:0 holds its own address).
 * Private to arch/x86_64; upper layers keep their own per-CPU data and
 * reach it through pc_upper (arch_cpu_local(), which reads %gs:8, and
 * arch_cpu_id(), which reads %gs:16: the offsets are asserted below).
 */
#ifndef ARCH_X86_64_PCPU_H
#define ARCH_X86_64_PCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86_64/trap.h"

struct tss {
	uint32_t ts_rsvd0;
	uint64_t ts_rsp[3];
	uint64_t ts_rsvd1;
	uint64_t ts_ist[7];
	uint64_t ts_rsvd2;
	uint16_t ts_rsvd3;
	uint16_t ts_iomap;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS size");

struct pcpu {
	struct pcpu *pc_self; /* %gs:0 */
	void *pc_upper;	      /* the scheduler's per-CPU data */
	uint32_t pc_cpuid;    /* 0 .. ncpus-1 */
	uint32_t pc_apicid;
	int pc_trap_depth;	    /* exceptions being reported on this CPU */
	uint64_t pc_timer_deadline; /* arch_timer_arm(), ns; 0 when off */
	volatile int pc_started;    /* the AP got to its C entry */
	void *pc_ist_top[IST_COUNT];
	uint64_t pc_gdt[5] __attribute__((aligned(16)));
	struct tss pc_tss __attribute__((aligned(16)));
};

_Static_assert(__builtin_offsetof(struct pcpu, pc_upper) == 8, "gs:8");
_Static_assert(__builtin_offsetof(struct pcpu, pc_cpuid) == 16, "gs:16");

extern struct pcpu pcpu_all[];
#define pcpu_bsp pcpu_all[0]
extern bool pcpu_ready; /* the GS base is set on this CPU */

static inline struct pcpu *
pcpu_self(void)
{
	struct pcpu *pc;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(pc));
	return pc;
}

void cpu_init_bsp(void);
void cpu_load_tables(struct pcpu *pc);

#endif
