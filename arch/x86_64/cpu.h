/*
 * x86-64 instructions wrapped for C, and the per-CPU structure reached
 * through the GS base. Private to arch/x86_64; the rest of the kernel sees
 * arch/arch.h only.
 */
#ifndef ARCH_X86_64_CPU_H
#define ARCH_X86_64_CPU_H

#include <stdint.h>
#include <stddef.h>
#include "arch/x86_64/asm.h"

static inline void
outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void
outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void
outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t
inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t
inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t
rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void
wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs
cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* RDTSC ordered after earlier loads and stores (LFENCE before it). */
static inline uint64_t
rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

#define DEFINE_CR(n)                                                       \
	static inline uint64_t read_cr##n(void)                            \
	{                                                                  \
		uint64_t v;                                                \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));          \
		return v;                                                  \
	}                                                                  \
	static inline void write_cr##n(uint64_t v)                         \
	{                                                                  \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t
xgetbv(uint32_t idx)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((uint64_t)hi << 32) | lo;
}

static inline void
xsetbv(uint32_t idx, uint64_t v)
{
	__asm__ volatile("xsetbv"
			 :
			 : "c"(idx), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

static inline void
invlpg(uintptr_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void
cpu_pause(void)
{
	__asm__ volatile("pause");
}

static inline void
cpu_hlt(void)
{
	__asm__ volatile("hlt");
}

/* Atomically enable interrupts and halt: no wake-up is lost in between. */
static inline void
cpu_sti_hlt(void)
{
	__asm__ volatile("sti; hlt" : : : "memory");
}

static inline uint64_t
read_rflags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline uint32_t
mmio_read32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}

static inline void
mmio_write32(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

/* CPU features Damselfly looks at, read once by cpu_identify(). */
struct cpu_features {
	char vendor[13];
	char brand[49];
	uint32_t max_leaf, max_ext_leaf;
	uint32_t family, model, stepping;
	uint8_t sse3, ssse3, sse41, sse42, avx, avx2, avx512f;
	uint8_t xsave, xsaveopt, osxsave_ok;
	uint8_t x2apic, tsc_deadline, invariant_tsc, rdrand, rdseed;
	uint8_t nx, pdpe1gb, fsgsbase, hypervisor, kvmclock;
	uint8_t pcid, erms;
	char hv_vendor[13];
	uint32_t kvm_features;
	uint64_t xcr0;	     /* enabled XSAVE components */
	uint32_t xsave_size; /* bytes of XSAVE area for xcr0 */
};
extern struct cpu_features cpu_feat;

void cpu_identify(void);
void cpu_enable_features(void);

#endif
