/*
 * Per-thread FPU/SSE/AVX state and thread-local storage, ready for the
 * scheduler (sched/, issue 3).
 *
 * FPU: XSAVE (XSAVEOPT where offered) with every component enabled in
 * XCR0, else FXSAVE. Damselfly's own code is compiled with
 * -mgeneral-regs-only, so interrupt entry saves nothing; a thread switch
 * saves the outgoing thread's state and restores the incoming one's. The
 * initial state (FNINIT, MXCSR 0x1f80) is captured once at boot.
 *
 * TLS: variant II, as the x86-64 psABI says. The thread pointer (FS base)
 * points at a TCB whose first word points to itself and whose word at
 * 0x28 is the stack-protector canary; the static TLS image (.tdata, then
 * zeroed .tbss) sits just below the TCB.
 */
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"

static uint8_t fpu_init_area[4096] __attribute__((aligned(ARCH_FPU_ALIGN)));

size_t
arch_fpu_state_size(void)
{
	return cpu_feat.xsave_size;
}

/*
 * Stores to each page of the area with an ordinary instruction first: on
 * a shadow-paging VMM (the kvm_pvm backend) the first write to a page may
 * be emulated, and KVM's emulator cannot emulate XSAVE. Elsewhere this
 * costs two stores to lines XSAVE is about to write anyway.
 */
static void
touch_area(void *area)
{
	volatile char *p = area;

	p[0] = p[0];
	p[cpu_feat.xsave_size - 1] = p[cpu_feat.xsave_size - 1];
}

void
arch_fpu_save(void *area)
{
	touch_area(area);
	if (cpu_feat.osxsave_ok && cpu_feat.xsaveopt)
		__asm__ volatile("xsaveopt64 (%0)"
				 :
				 : "r"(area), "a"((uint32_t)cpu_feat.xcr0),
				 "d"((uint32_t)(cpu_feat.xcr0 >> 32))
				 : "memory");
	else if (cpu_feat.osxsave_ok)
		__asm__ volatile("xsave64 (%0)"
				 :
				 : "r"(area), "a"((uint32_t)cpu_feat.xcr0),
				 "d"((uint32_t)(cpu_feat.xcr0 >> 32))
				 : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void
arch_fpu_restore(const void *area)
{
	if (cpu_feat.osxsave_ok)
		__asm__ volatile("xrstor64 (%0)"
				 :
				 : "r"(area), "a"((uint32_t)cpu_feat.xcr0),
				 "d"((uint32_t)(cpu_feat.xcr0 >> 32))
				 : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

void
arch_fpu_init_state(void *area)
{
	memcpy(area, fpu_init_area, cpu_feat.xsave_size);
}

void
fpu_init(void)
{
	if (cpu_feat.xsave_size > sizeof(fpu_init_area))
		boot_fatal("fpu: XSAVE area of %u bytes is larger than %zu",
		    cpu_feat.xsave_size, sizeof(fpu_init_area));
	memset(fpu_init_area, 0, sizeof(fpu_init_area));
	touch_area(fpu_init_area);
	/* Plain XSAVE (not XSAVEOPT) so that every component is written. */
	if (cpu_feat.osxsave_ok)
		__asm__ volatile("xsave64 (%0)"
				 :
				 : "r"(fpu_init_area),
				 "a"((uint32_t)cpu_feat.xcr0),
				 "d"((uint32_t)(cpu_feat.xcr0 >> 32))
				 : "memory");
	else
		__asm__ volatile("fxsave64 (%0)"
				 :
				 : "r"(fpu_init_area)
				 : "memory");
}

/* ---------------------------------------------------------------- */
/* TLS                                                              */
/* ---------------------------------------------------------------- */

extern char __tdata_start[];
extern char __tdata_size[], __tbss_size[], __tls_align[];
extern char boot_tls_area[], boot_tcb[];

#define TCB_BYTES 0x100

static size_t
tls_image_size(void)
{
	size_t a = arch_tls_align();
	size_t n =
	    (size_t)(uintptr_t)__tdata_size + (size_t)(uintptr_t)__tbss_size;
	return (n + a - 1) & ~(a - 1);
}

size_t
arch_tls_align(void)
{
	size_t a = (size_t)(uintptr_t)__tls_align;
	return a < 64 ? 64 : a;
}

size_t
arch_tls_size(void)
{
	return tls_image_size() + TCB_BYTES;
}

void *
arch_tls_init(void *mem, uint64_t canary)
{
	size_t img = tls_image_size();
	char *tp = (char *)mem + img;
	size_t tdata = (size_t)(uintptr_t)__tdata_size;

	memcpy(tp - img, __tdata_start, tdata);
	memset(tp - img + tdata, 0, img - tdata);
	memset(tp, 0, TCB_BYTES);
	*(void **)tp = tp;
	*(uint64_t *)(tp + 0x28) = canary & ~0xffULL;
	return tp;
}

void
arch_tls_activate(void *tp)
{
	wrmsr(MSR_FS_BASE, (uintptr_t)tp);
}

void *
arch_tls_current(void)
{
	void *tp;
	__asm__ volatile("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

/*
 * The boot thread's TCB was set up by boot.S (self pointer and canary);
 * here its static TLS image is filled in below it.
 */
void
tls_init_boot(void)
{
	size_t img = tls_image_size();
	size_t tdata = (size_t)(uintptr_t)__tdata_size;

	if (img > (size_t)(boot_tcb - boot_tls_area) ||
	    ((uintptr_t)boot_tcb & (arch_tls_align() - 1)) != 0)
		boot_fatal("tls: static TLS of %zu bytes (align %zu) does not "
			   "fit the boot TLS area",
		    img, arch_tls_align());
	memcpy(boot_tcb - img, __tdata_start, tdata);
	memset(boot_tcb - img + tdata, 0, img - tdata);
}
