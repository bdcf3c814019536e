/* The in-guest benchmark runner (see kbench.h). */
#include <string.h>
#include "arch/arch.h"
#include "core/kbench.h"

extern const struct kbench __kbench_start[], __kbench_end[];

void
kbench_report(const char *name, uint64_t milli, const char *unit)
{
	kprintf("kbench: %s %llu.%01llu %s\n", name,
	    (unsigned long long)(milli / 1000),
	    (unsigned long long)(milli % 1000 / 100), unit);
}

static bool
wanted(const struct kbench *b, const char *spec)
{
	size_t n = strlen(b->kb_name);
	const char *p = spec;

	while (*p != 0) {
		size_t l = strcspn(p, ",");
		if ((l == 3 && strncmp(p, "all", 3) == 0) ||
		    (l == n && strncmp(p, b->kb_name, n) == 0))
			return true;
		p += l + (p[l] == ',');
	}
	return false;
}

_Noreturn void
kbench_main(const char *spec)
{
	const struct kbench *b;
	int ran = 0;

	arch_intr_enable();
	for (b = __kbench_start; b < __kbench_end; b++) {
		if (!wanted(b, spec))
			continue;
		b->kb_fn();
		ran++;
	}
	kprintf("kbench: done\n");
	arch_exit(ran > 0 ? ARCH_EXIT_PASS : ARCH_EXIT_FAIL);
}
