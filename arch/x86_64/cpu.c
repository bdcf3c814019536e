/*
 * CPU set-up: feature identification, SSE/AVX/XSAVE and NX enabling, the
 * per-CPU GDT and TSS (with its IST stacks), the shared IDT, the GS base.
 *
 * Every IDT gate names an IST slot, so every exception and interrupt
 * switches stacks (see trap.S for why). The slots are per CPU, in the TSS:
 *   IST_DF   double fault          IST_NMI  NMI
 *   IST_MC   machine check         IST_DB   debug and breakpoint
 *   IST_EXC  every other exception IST_INTR every interrupt
 * Each IST stack has an unmapped guard page below it.
 *
 * Interface:
 *  - cpu_identify() before anything reads cpu_feat; cpu_enable_features()
 *    once per CPU, before any code that uses SSE (the linked libraries).
 *  - cpu_init_bsp() on the boot CPU before paging is switched; the BSP's
 *    IST stacks are static (their guard pages are cut by pmap.c).
 */
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/pmap.h"
#include "arch/x86_64/trap.h"

struct cpu_features cpu_feat;

/* ---------------------------------------------------------------- */
/* Identification                                                   */
/* ---------------------------------------------------------------- */

static void
copy_regs_str(char *dst, const uint32_t *regs, int n)
{
	memcpy(dst, regs, (size_t)n * 4);
	dst[n * 4] = 0;
}

static void
identify_brand(void)
{
	uint32_t b[12];
	int i;

	if (cpu_feat.max_ext_leaf < 0x80000004) {
		strcpy(cpu_feat.brand, "unknown");
		return;
	}
	for (i = 0; i < 3; i++) {
		struct cpuid_regs r = cpuid(0x80000002 + i, 0);
		b[i * 4] = r.eax;
		b[i * 4 + 1] = r.ebx;
		b[i * 4 + 2] = r.ecx;
		b[i * 4 + 3] = r.edx;
	}
	copy_regs_str(cpu_feat.brand, b, 12);
	/* Trim leading blanks, as some models pad the brand string. */
	for (i = 0; cpu_feat.brand[i] == ' '; i++)
		;
	memmove(cpu_feat.brand, cpu_feat.brand + i,
	    strlen(cpu_feat.brand + i) + 1);
}

static void
identify_hypervisor(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);
	uint32_t v[3] = { r.ebx, r.ecx, r.edx };

	copy_regs_str(cpu_feat.hv_vendor, v, 3);
	/* KVM's signature; its feature leaf says whether kvmclock is there. */
	if (memcmp(cpu_feat.hv_vendor, "KVMKVMKVM", 9) == 0 &&
	    r.eax >= 0x40000001) {
		cpu_feat.kvm_features = cpuid(0x40000001, 0).eax;
		/* KVM_FEATURE_CLOCKSOURCE2 (bit 3) */
		cpu_feat.kvmclock = (cpu_feat.kvm_features >> 3) & 1;
	}
}

void
cpu_identify(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	uint32_t v[3] = { r.ebx, r.edx, r.ecx };

	cpu_feat.max_leaf = r.eax;
	copy_regs_str(cpu_feat.vendor, v, 3);
	cpu_feat.max_ext_leaf = cpuid(0x80000000, 0).eax;

	r = cpuid(1, 0);
	cpu_feat.stepping = r.eax & 0xf;
	cpu_feat.model = ((r.eax >> 4) & 0xf) | (((r.eax >> 16) & 0xf) << 4);
	cpu_feat.family = ((r.eax >> 8) & 0xf) + ((r.eax >> 20) & 0xff);
	cpu_feat.sse3 = r.ecx & 1;
	cpu_feat.ssse3 = (r.ecx >> 9) & 1;
	cpu_feat.sse41 = (r.ecx >> 19) & 1;
	cpu_feat.sse42 = (r.ecx >> 20) & 1;
	cpu_feat.x2apic = (r.ecx >> 21) & 1;
	cpu_feat.tsc_deadline = (r.ecx >> 24) & 1;
	cpu_feat.xsave = (r.ecx >> 26) & 1;
	cpu_feat.avx = (r.ecx >> 28) & 1;
	cpu_feat.rdrand = (r.ecx >> 30) & 1;
	cpu_feat.hypervisor = (r.ecx >> 31) & 1;
	cpu_feat.pcid = (r.ecx >> 17) & 1;

	if (cpu_feat.max_leaf >= 7) {
		r = cpuid(7, 0);
		cpu_feat.fsgsbase = r.ebx & 1;
		cpu_feat.avx2 = (r.ebx >> 5) & 1;
		cpu_feat.erms = (r.ebx >> 9) & 1;
		cpu_feat.avx512f = (r.ebx >> 16) & 1;
		cpu_feat.rdseed = (r.ebx >> 18) & 1;
	}
	if (cpu_feat.xsave && cpu_feat.max_leaf >= 0xd)
		cpu_feat.xsaveopt = cpuid(0xd, 1).eax & 1;
	if (cpu_feat.max_ext_leaf >= 0x80000001) {
		r = cpuid(0x80000001, 0);
		cpu_feat.nx = (r.edx >> 20) & 1;
		cpu_feat.pdpe1gb = (r.edx >> 26) & 1;
	}
	if (cpu_feat.max_ext_leaf >= 0x80000007)
		cpu_feat.invariant_tsc = (cpuid(0x80000007, 0).edx >> 8) & 1;
	identify_brand();
	if (cpu_feat.hypervisor)
		identify_hypervisor();
}

/* ---------------------------------------------------------------- */
/* FPU, SSE, AVX, NX                                                */
/* ---------------------------------------------------------------- */

#define XCR0_X87    0x01
#define XCR0_SSE    0x02
#define XCR0_AVX    0x04
#define XCR0_AVX512 0xe0 /* opmask, ZMM_Hi256, Hi16_ZMM */

static uint64_t
xcr0_wanted(void)
{
	uint64_t supported =
	    cpuid(0xd, 0).eax | ((uint64_t)cpuid(0xd, 0).edx << 32);
	uint64_t want = XCR0_X87 | XCR0_SSE;

	if (cpu_feat.avx)
		want |= XCR0_AVX;
	if (cpu_feat.avx512f && (supported & XCR0_AVX512) == XCR0_AVX512)
		want |= XCR0_AVX512;
	return want & supported;
}

void
cpu_enable_features(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();

	/*
	 * "noxsave" (as Linux's) keeps to FXSAVE and SSE: the kvm_pvm
	 * backend of these machines emulates guest kernel instructions and
	 * its emulator has no XSAVE.
	 */
	if (pvh_early_param("noxsave"))
		cpu_feat.xsave = cpu_feat.xsaveopt = 0;

	cr0 &= ~(uint64_t)(CR0_EM | CR0_TS);
	cr0 |= CR0_MP | CR0_NE | CR0_WP;
	write_cr0(cr0);
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_PGE;
	if (cpu_feat.xsave)
		cr4 |= CR4_OSXSAVE;
	if (cpu_feat.fsgsbase)
		cr4 |= CR4_FSGSBASE;
	write_cr4(cr4);
	if (cpu_feat.xsave) {
		cpu_feat.xcr0 = xcr0_wanted();
		xsetbv(0, cpu_feat.xcr0);
		cpu_feat.xsave_size = cpuid(0xd, 0).ebx;
		cpu_feat.osxsave_ok = 1;
	} else {
		cpu_feat.xcr0 = XCR0_X87 | XCR0_SSE;
		cpu_feat.xsave_size = 512;
	}
	/* AVX is usable only when the OS enabled its state in XCR0. */
	if (!(cpu_feat.xcr0 & XCR0_AVX))
		cpu_feat.avx = cpu_feat.avx2 = 0;
	if ((cpu_feat.xcr0 & XCR0_AVX512) != XCR0_AVX512)
		cpu_feat.avx512f = 0;
	/*
	 * MXCSR is 0x1f80 after reset and INIT, so only the x87 state needs
	 * initializing. (An LDMXCSR here also trips the emulator of the
	 * kvm_pvm backend on these machines: "KVM internal error".)
	 */
	__asm__ volatile("fninit");
	if (cpu_feat.nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
}

void
arch_cpu_features_str(char *buf, size_t len)
{
	static const struct {
		const char *name;
		const uint8_t *on;
	} f[] = {
		{ "sse4.2", &cpu_feat.sse42 },
		{ "avx", &cpu_feat.avx },
		{ "avx2", &cpu_feat.avx2 },
		{ "avx512f", &cpu_feat.avx512f },
		{ "xsave", &cpu_feat.xsave },
		{ "xsaveopt", &cpu_feat.xsaveopt },
		{ "x2apic", &cpu_feat.x2apic },
		{ "tsc-deadline", &cpu_feat.tsc_deadline },
		{ "invtsc", &cpu_feat.invariant_tsc },
		{ "rdrand", &cpu_feat.rdrand },
		{ "nx", &cpu_feat.nx },
		{ "1g-pages", &cpu_feat.pdpe1gb },
		{ "fsgsbase", &cpu_feat.fsgsbase },
		{ "kvmclock", &cpu_feat.kvmclock },
	};
	size_t i, n = 0;

	if (len == 0)
		return;
	buf[0] = 0;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		size_t l = strlen(f[i].name);
		if (!*f[i].on || n + l + 2 > len)
			continue;
		if (n > 0)
			buf[n++] = ' ';
		memcpy(buf + n, f[i].name, l + 1);
		n += l;
	}
}

const char *
arch_cpu_brand(void)
{
	return cpu_feat.brand;
}

/* ---------------------------------------------------------------- */
/* GDT, TSS, IDT                                                    */
/* ---------------------------------------------------------------- */

struct idt_gate {
	uint16_t ig_off0;
	uint16_t ig_sel;
	uint8_t ig_ist;
	uint8_t ig_type;
	uint16_t ig_off1;
	uint32_t ig_off2;
	uint32_t ig_zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate");

static struct idt_gate idt[256] __attribute__((aligned(16)));

struct desc_ptr {
	uint16_t dp_limit;
	uint64_t dp_base;
} __attribute__((packed));

static void
idt_set(int vec, int ist)
{
	uint64_t a = (uint64_t)(uintptr_t)(trap_stubs + 16 * vec);

	idt[vec].ig_off0 = a & 0xffff;
	idt[vec].ig_sel = GDT_KCODE;
	idt[vec].ig_ist = ist;
	idt[vec].ig_type = 0x8e; /* present, DPL 0, interrupt gate */
	idt[vec].ig_off1 = (a >> 16) & 0xffff;
	idt[vec].ig_off2 = a >> 32;
	idt[vec].ig_zero = 0;
}

static int
ist_for_vector(int vec)
{
	switch (vec) {
	case T_DF:
		return IST_DF;
	case T_NMI:
		return IST_NMI;
	case T_MC:
		return IST_MC;
	case T_DB:
	case T_BP:
		return IST_DB;
	default:
		return vec < 32 ? IST_EXC : IST_INTR;
	}
}

void
trap_init_idt(void)
{
	int v;

	for (v = 0; v < 256; v++)
		idt_set(v, ist_for_vector(v));
}

void
trap_load_idt(void)
{
	struct desc_ptr dp = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(dp));
}

static void
gdt_set_tss(struct pcpu *pc)
{
	uint64_t base = (uint64_t)(uintptr_t)&pc->pc_tss;
	uint64_t limit = sizeof(pc->pc_tss) - 1;

	pc->pc_gdt[0] = 0;
	pc->pc_gdt[1] = 0x00af9a000000ffffULL; /* GDT_KCODE */
	pc->pc_gdt[2] = 0x00cf92000000ffffULL; /* GDT_KDATA */
	pc->pc_gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
	    (0x89ULL << 40) | (((limit >> 16) & 0xf) << 48) |
	    (((base >> 24) & 0xff) << 56);
	pc->pc_gdt[4] = base >> 32;
}

static void
gdt_load(struct pcpu *pc)
{
	struct desc_ptr dp = { sizeof(pc->pc_gdt) - 1,
		(uint64_t)(uintptr_t)pc->pc_gdt };

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(dp), "i"(GDT_KCODE), "i"(GDT_KDATA), "r"(GDT_TSS)
			 : "rax", "memory");
}

/* Installs pc's GDT, TSS, the IDT and the GS base on the calling CPU. */
void
cpu_load_tables(struct pcpu *pc)
{
	int i;

	for (i = 0; i < IST_COUNT; i++)
		pc->pc_tss.ts_ist[i] = (uint64_t)(uintptr_t)pc->pc_ist_top[i];
	pc->pc_tss.ts_iomap = sizeof(pc->pc_tss);
	gdt_set_tss(pc);
	gdt_load(pc);
	trap_load_idt();
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)pc);
}

/* The boot CPU's IST stacks, each above a guard page (pmap.c cuts it). */
struct ist_stack {
	char is_guard[PAGE_SIZE];
	char is_stack[IST_STACK_SIZE];
};
static struct ist_stack bsp_ist[IST_COUNT]
    __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

struct pcpu pcpu_all[ARCH_MAX_CPUS];

void
cpu_init_bsp(void)
{
	struct pcpu *pc = &pcpu_bsp;
	int i;

	pc->pc_self = pc;
	pc->pc_cpuid = 0;
	for (i = 0; i < IST_COUNT; i++) {
		pc->pc_ist_top[i] = bsp_ist[i].is_stack + IST_STACK_SIZE;
		pmap_early_guard((uintptr_t)bsp_ist[i].is_guard);
	}
	trap_init_idt();
	cpu_load_tables(pc);
}

/* ---------------------------------------------------------------- */
/* Thread contexts (switch.S)                                       */
/* ---------------------------------------------------------------- */

extern char arch_thread_start[];

/*
 * The frame arch_switch pops: r15 r14 r13 r12 rbx rbp rflags, then the
 * return address (arch_thread_start) and a zero that ends backtraces.
 * The new thread starts with interrupts disabled (RFLAGS 0x2).
 */
void
arch_ctx_init(struct arch_ctx *ctx, void *stack_top, void (*entry)(void *),
    void *arg)
{
	uint64_t *sp = (uint64_t *)((uintptr_t)stack_top & ~(uintptr_t)15);

	*--sp = 0;
	*--sp = (uint64_t)(uintptr_t)arch_thread_start;
	*--sp = 0x2;			    /* rflags */
	*--sp = 0;			    /* rbp */
	*--sp = (uint64_t)(uintptr_t)entry; /* rbx */
	*--sp = (uint64_t)(uintptr_t)arg;   /* r12 */
	*--sp = 0;			    /* r13 */
	*--sp = 0;			    /* r14 */
	*--sp = 0;			    /* r15 */
	ctx->ac_rsp = (uint64_t)(uintptr_t)sp;
}

void
arch_cpu_set_local(void *p)
{
	pcpu_self()->pc_upper = p;
}

uint64_t
arch_random_u64(void)
{
	uint64_t v;
	int i;

	if (cpu_feat.rdrand) {
		for (i = 0; i < 10; i++) {
			unsigned char ok;
			__asm__ volatile("rdrand %0; setc %1"
					 : "=r"(v), "=qm"(ok));
			if (ok)
				return v;
		}
	}
	v = rdtsc() * 0x9e3779b97f4a7c15ULL;
	v ^= v >> 29;
	return v * 0xbf58476d1ce4e5b9ULL;
}
