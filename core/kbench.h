/*
 * core/kbench.h: in-guest benchmarks. Not tests: they assert nothing and
 * only the kbench image links them (df_kbench_objects). bench/run boots
 * that image with "kbench=GROUP,..." and reads lines of the form
 *
 *	kbench: <name> <value> <unit>
 *
 * then "kbench: done"; QEMU exits with ARCH_EXIT_PASS.
 *
 *	KBENCH(sched, switches)
 *	{
 *		...
 *		kbench_report("sched.switch_1cpu", ps_per_switch, "ns");
 *	}
 */
#ifndef CORE_KBENCH_H
#define CORE_KBENCH_H

#include <stdint.h>
#include "core/kern.h"

struct kbench {
	const char *kb_name; /* its group: what kbench= selects */
	void (*kb_fn)(void);
};

#define KBENCH(group, name)                                                    \
	static void kbench_##group##_##name(void);                             \
	static const struct kbench kbench_d_##group##_##name __used __section( \
	    ".kbench." #group "." #name)                                       \
	    __aligned(8) = { #group, kbench_##group##_##name };                \
	static void kbench_##group##_##name(void)

/* Prints one figure; value in thousandths of the unit (ps for "ns"). */
void kbench_report(const char *name, uint64_t milli, const char *unit);
/* Runs the benchmarks of the groups in spec ("all" for every one). */
_Noreturn void kbench_main(const char *spec);

#endif
