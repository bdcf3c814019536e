/*
 * The default image until the file server exists: the kernel prints its
 * boot report, this prints one line, and the machine idles (or powers off
 * after poweroff_after_ms, as the benchmarks and boot tests ask).
 */
#include "core/init.h"
#include "core/kern.h"

int
app_main(void)
{
	kprintf("hello: Damselfly is up; idling (Ctrl-A X quits QEMU)\n");
	kern_idle();
}
