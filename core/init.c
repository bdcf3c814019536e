/*
 * The kernel's start: kmain() is called by arch/x86_64/boot.S on the boot
 * stack, interrupts off, and never returns.
 *
 *   arch_early_init()   console, traps, CPU features, page tables, clock
 *   memory_init()       the page allocator over arch_memmap()
 *   arch_init()         LAPIC, IOAPIC, fw_cfg, PCI
 *   config_init()       deployment config (fw_cfg) then the command line
 *   kmalloc_init()      size classes (debug mode from the config)
 *   sched_init()        the boot thread becomes LWKT thread 0 of CPU 0
 *   sched_smp_start()   every other CPU, each in its idle thread
 *   virtio_init()       virtio devices and their drivers
 *   constructors        .init_array of the linked libraries
 *   boot report         then "damselfly: ready"
 *   ktest_main()        when the ktest key is set
 *   app_main()          the image's application; its return powers off
 *
 * This sequence is the one place core calls the layers above it.
 */
#include <stdio.h>
#include <string.h>
#include "arch/arch.h"
#include "core/config.h"
#include "core/init.h"
#include "core/kern.h"
#include "core/kbench.h"
#include "core/kmalloc.h"
#include "core/ktest.h"
#include "core/page.h"
#include "sched/sched.h"
#include "virtio/virtio.h"

#define MAX_RANGES   64
#define CONFIG_FWCFG "opt/damselfly/config"
#define CONFIG_MAX   (64 * 1024)

extern const struct cfgkey __cfgkey_start[], __cfgkey_end[];
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);

struct cfg_result cfg_boot_result;
char cfg_boot_source[64] = "none";

static bool kmalloc_debug;
CFG_BOOL(kmalloc_debug, "kmalloc.debug", kmalloc_debug,
    "poison freed memory and check it on reuse");
static char kbench_spec[256];
CFG_STR(kbench, "kbench", kbench_spec,
    "run in-guest benchmarks (kbench image): all, or groups");
static char ktest_spec[1024];
CFG_STR(ktest, "ktest", ktest_spec,
    "run in-guest tests: all, or names and groups separated by commas");
static int64_t poweroff_after_ms;
CFG_INT(poweroff_after_ms, "poweroff_after_ms", poweroff_after_ms, 0,
    INT64_MAX / 1000000, "power off this many ms after ready (0: never)");

/* Read by arch before the config is parsed; declared so it is known. */
static bool noxsave;
CFG_BOOL(noxsave, "noxsave", noxsave,
    "do not use XSAVE or AVX (FXSAVE and SSE only), as Linux's noxsave");

static int64_t smp_max_cpus = ARCH_MAX_CPUS;
CFG_INT(smp_max_cpus, "smp.max_cpus", smp_max_cpus, 1, ARCH_MAX_CPUS,
    "start at most this many CPUs (the boot CPU included)");

static uint64_t ready_ns;
static struct arch_memrange ranges[MAX_RANGES];
static int nranges;

const struct cfg_table *
cfg_kernel_table(void)
{
	static struct cfg_table t;

	t.ct_keys = __cfgkey_start;
	t.ct_n = (size_t)(__cfgkey_end - __cfgkey_start);
	return &t;
}

static void *
page_alloc_one(void)
{
	return page_alloc(0);
}

static void
page_free_one(void *p)
{
	page_free(p, 0);
}

static void
memory_init(void)
{
	struct page_range pr[MAX_RANGES];
	int i;

	nranges = arch_memmap(ranges, MAX_RANGES);
	for (i = 0; i < nranges; i++) {
		pr[i].pr_base = ranges[i].mr_base;
		pr[i].pr_size = ranges[i].mr_size;
	}
	page_init(pr, nranges);
	arch_set_page_allocator(page_alloc_one, page_free_one);
}

/* The deployment config: fw_cfg file opt/damselfly/config, if present. */
static void
config_from_fwcfg(void)
{
	uint16_t sel;
	int64_t size = arch_fwcfg_find(CONFIG_FWCFG, &sel);
	unsigned order;
	char *buf;

	if (size < 0)
		return;
	snprintf(cfg_boot_source, sizeof(cfg_boot_source),
	    "fw_cfg " CONFIG_FWCFG " (%lld bytes)", (long long)size);
	if (size > CONFIG_MAX) {
		log_err("config: %s is %lld bytes, more than %d; ignored",
		    CONFIG_FWCFG, (long long)size, CONFIG_MAX);
		cfg_boot_result.cr_bad++;
		return;
	}
	order = page_order_for((size_t)size + 1);
	buf = page_alloc(order);
	if (buf == NULL || arch_fwcfg_read(sel, buf, 0, (uint32_t)size) < 0) {
		log_err("config: cannot read %s", CONFIG_FWCFG);
		cfg_boot_result.cr_bad++;
	} else {
		cfg_parse_file(cfg_kernel_table(), buf, (size_t)size,
		    CONFIG_FWCFG, &cfg_boot_result);
	}
	if (buf != NULL)
		page_free(buf, order);
}

static void
config_init(void)
{
	config_from_fwcfg();
	cfg_parse_cmdline(cfg_kernel_table(), arch_cmdline(), &cfg_boot_result);
}

static void
run_constructors(void)
{
	void (**f)(void);

	for (f = __init_array_start; f < __init_array_end; f++)
		(*f)();
}

static void
boot_report(void)
{
	struct page_stats ps;
	const char *tsc_src;
	char feat[256];
	uint64_t hz = arch_tsc_hz(&tsc_src);
	uint64_t entry_us;

	page_get_stats(&ps);
	arch_cpu_features_str(feat, sizeof(feat));
	kprintf("Damselfly %s on QEMU %s (%s)\n", DAMSELFLY_VERSION,
	    arch_machine_name(), arch_accelerator());
	kprintf("  cpu      %s; %d present, %u running\n", arch_cpu_brand(),
	    arch_ncpus_present(), lwkt_ncpus);
	kprintf("  features %s\n", feat);
	kprintf("  memory   %llu MiB RAM, %llu MiB free in %d ranges, image "
		"%llu KiB\n",
	    (unsigned long long)(arch_ram_total() >> 20),
	    (unsigned long long)(ps.ps_free * PG_PAGE_SIZE >> 20), nranges,
	    (unsigned long long)(arch_image_size() >> 10));
	kprintf("  clock    TSC %llu.%03llu MHz (%s); timer %s\n",
	    (unsigned long long)(hz / 1000000),
	    (unsigned long long)(hz / 1000 % 1000), tsc_src, arch_timer_mode());
	kprintf("  cmdline  \"%s\"\n", arch_cmdline());
	kprintf("  config   %s: %d set, %d unknown, %d bad\n", cfg_boot_source,
	    cfg_boot_result.cr_set, cfg_boot_result.cr_unknown,
	    cfg_boot_result.cr_bad);
	if (kmalloc_debug)
		kprintf("  kmalloc  debug mode (poisoning)\n");
	entry_us = ready_ns / 1000;
	kprintf("  boot     entry to ready in %llu us\n",
	    (unsigned long long)entry_us);
}

/* Sleeps until poweroff_after_ms (if set) has passed, then powers off. */
_Noreturn void
kern_idle(void)
{
	static int never;

	if (poweroff_after_ms > 0) {
		uint64_t now = arch_nanotime();
		uint64_t at = ready_ns + (uint64_t)poweroff_after_ms * 1000000;
		if (at > now)
			tsleep(&never, "idle", at - now);
		kprintf("damselfly: power off\n");
		arch_poweroff();
	}
	for (;;)
		tsleep(&never, "idle", 0);
}

/* The test runner's watchdog, on a callout. */
static struct callout ktest_callout;
static void (*ktest_watchdog_fn)(void);

static void
ktest_watchdog_fire(void *arg)
{
	ktest_watchdog_fn();
}

static void
ktest_wd_arm(uint64_t ns, void (*fn)(void))
{
	ktest_watchdog_fn = fn;
	callout_reset(&ktest_callout, ns, ktest_watchdog_fire, NULL);
}

static void
ktest_wd_disarm(void)
{
	callout_stop(&ktest_callout);
}

static _Noreturn void
ktest_exit_thread(void)
{
	lwkt_exit();
}

static const struct ktest_timer ktest_timer = { ktest_wd_arm, ktest_wd_disarm,
	ktest_exit_thread, sched_dump };

_Noreturn void kmain(void);

_Noreturn void
kmain(void)
{
	int rc;

	arch_early_init();
	memory_init();
	arch_init();
	config_init();
	kmalloc_init(kmalloc_debug);
	sched_init();
	sched_smp_start((unsigned)smp_max_cpus);
	virtio_init();
	run_constructors();
	ready_ns = arch_nanotime();
	boot_report();
	kprintf("damselfly: ready\n");
	if (ktest_spec[0] != 0)
		ktest_main(ktest_spec, &ktest_timer);
	if (kbench_spec[0] != 0)
		kbench_main(kbench_spec);
	rc = app_main();
	if (rc != 0) {
		kprintf("damselfly: the application returned %d\n", rc);
		arch_exit(ARCH_EXIT_FAIL);
	}
	kprintf("damselfly: power off\n");
	arch_poweroff();
}
