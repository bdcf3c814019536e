/*
 * Page tables. Damselfly has one address space, identity-mapped:
 *
 *   page 0                  unmapped (NULL dereferences fault)
 *   4 KiB .. 2 MiB          low memory (firmware, start_info), RW, NX
 *   image                   4 KiB pages: text RX, rodata R+NX, data RW+NX;
 *                           guard pages below the boot stacks unmapped
 *   the rest of RAM         1 GiB pages where the CPU has them, else 2 MiB,
 *                           4 KiB at unaligned edges; RW, NX
 *   MMIO                    mapped on request, uncached, NX
 *   stack window            PMAP_STACK_BASE up: each kernel stack is its
 *                           own 4 KiB mapping above an unmapped guard page
 *
 * Page-table pages come from an early bump allocator above the image until
 * arch_init() hands pmap the page allocator's functions.
 *
 * Interface:
 *  - pmap_early_guard() only before pmap_init().
 *  - pmap_init() switches CR3 once; after it, pmap_early_alloc() stops
 *    (its region is reported by pmap_early_region() and kept from the
 *    page allocator).
 *  - Map changes are serialized by pmap_lock. Removing a mapping (a freed
 *    stack) is followed by a TLB shootdown on every CPU before the pages
 *    and the addresses may be used again: pmap_shootdown() must be called
 *    with no spinlock held and interrupts enabled.
 */
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pmap.h"
#include "arch/x86_64/trap.h"
#include "core/kern.h"

#define PTE_NX	      (1ULL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL
#define SIZE_2M	      (1ULL << 21)
#define SIZE_1G	      (1ULL << 30)

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];
extern char boot_stack_guard[];

static uint64_t *kernel_pml4;
static bool page_present(uint64_t va);
static uint64_t early_next, early_start, early_end;
static bool early_done;
static void *(*late_alloc)(void);
static volatile int pmap_lock;

#define MAX_EARLY_GUARDS 16
static uintptr_t early_guards[MAX_EARLY_GUARDS];
static int nearly_guards;

static void
lock(void)
{
	while (!__sync_bool_compare_and_swap(&pmap_lock, 0, 1))
		cpu_pause();
}

static void
unlock(void)
{
	__atomic_store_n(&pmap_lock, 0, __ATOMIC_RELEASE);
}

void
pmap_early_guard(uintptr_t va)
{
	if (nearly_guards == MAX_EARLY_GUARDS)
		boot_fatal("pmap: too many early guard pages");
	early_guards[nearly_guards++] = va;
}

static bool
is_early_guard(uintptr_t va)
{
	int i;

	for (i = 0; i < nearly_guards; i++)
		if (early_guards[i] == va)
			return true;
	return false;
}

/* A zeroed page for page tables, from above the image until arch_init(). */
static void *
pt_alloc(void)
{
	void *p;

	if (late_alloc != NULL) {
		p = late_alloc();
		if (p != NULL)
			memset(p, 0, PAGE_SIZE);
		return p;
	}
	if (early_done || early_next + PAGE_SIZE > early_end)
		boot_fatal("pmap: early page-table pool exhausted");
	p = (void *)(uintptr_t)early_next;
	early_next += PAGE_SIZE;
	memset(p, 0, PAGE_SIZE);
	return p;
}

/*
 * Returns the entry for va at the level that maps 'size' bytes (4K, 2M or
 * 1G), creating intermediate tables. NULL when a table cannot be allocated
 * or a larger page already covers va.
 */
static uint64_t *
pte_slot(uint64_t va, uint64_t size, bool create)
{
	uint64_t *t = kernel_pml4;
	int shift;

	for (shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = &t[(va >> shift) & 511];
		if ((1ULL << shift) == size)
			return e;
		if (!(*e & PTE_P)) {
			uint64_t *n;
			if (!create || (n = pt_alloc()) == NULL)
				return NULL;
			*e = (uint64_t)(uintptr_t)n | PTE_P | PTE_W;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		t = (uint64_t *)(uintptr_t)(*e & PTE_ADDR_MASK);
	}
	return &t[(va >> 12) & 511];
}

static int
map_one(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags)
{
	uint64_t *e = pte_slot(va, size, true);

	if (e == NULL)
		return -1;
	*e = pa | flags | PTE_P | (size > PAGE_SIZE ? PTE_PS : 0);
	return 0;
}

/* Maps [va, va+len) to pa with the largest pages alignment allows. */
static int
map_range(uint64_t va, uint64_t pa, uint64_t len, uint64_t flags, bool large)
{
	while (len > 0) {
		uint64_t sz = PAGE_SIZE;
		if (large && cpu_feat.pdpe1gb &&
		    ((va | pa) & (SIZE_1G - 1)) == 0 && len >= SIZE_1G)
			sz = SIZE_1G;
		else if (large && ((va | pa) & (SIZE_2M - 1)) == 0 &&
		    len >= SIZE_2M)
			sz = SIZE_2M;
		if (map_one(va, pa, sz, flags) < 0)
			return -1;
		va += sz;
		pa += sz;
		len -= sz;
	}
	return 0;
}

static uint64_t
nx(void)
{
	return cpu_feat.nx ? PTE_NX : 0;
}

static void
map_image(void)
{
	uintptr_t va;

	for (va = (uintptr_t)__image_start; va < (uintptr_t)__image_end;
	     va += PAGE_SIZE) {
		uint64_t flags;
		if (is_early_guard(va))
			continue;
		if (va < (uintptr_t)__text_end)
			flags = PTE_G;
		else if (va < (uintptr_t)__rodata_end)
			flags = PTE_G | nx();
		else
			flags = PTE_G | PTE_W | nx();
		if (map_one(va, va, PAGE_SIZE, flags) < 0)
			boot_fatal("pmap: cannot map the image");
	}
}

/* Maps RAM outside the image, RW and NX, with large pages. */
static void
map_ram(void)
{
	struct boot_memrange r[BOOT_MAX_MEM];
	uint64_t img_lo = (uintptr_t)__image_start;
	uint64_t img_hi = (uintptr_t)__image_end;
	int i, n = pvh_usable_ram(r, BOOT_MAX_MEM);

	/* Low memory, minus page 0: 4 KiB pages up to the image. */
	if (map_range(PAGE_SIZE, PAGE_SIZE, img_lo - PAGE_SIZE, PTE_W | nx(),
		false) < 0)
		boot_fatal("pmap: cannot map low memory");
	for (i = 0; i < n; i++) {
		uint64_t lo = r[i].br_base, hi = lo + r[i].br_size;
		lo = (lo + PAGE_MASK) & ~PAGE_MASK;
		hi &= ~PAGE_MASK;
		if (lo < img_hi)
			lo = img_hi;
		if (lo >= hi)
			continue;
		/* The early page-table pool: 4 KiB pages (see boot.S). */
		if (lo < early_end) {
			uint64_t e = MIN(hi, early_end);
			if (map_range(lo, lo, e - lo, PTE_W | PTE_G | nx(),
				false) < 0)
				boot_fatal("pmap: cannot map the early pool");
			lo = e;
		}
		if (lo < hi &&
		    map_range(lo, lo, hi - lo, PTE_W | PTE_G | nx(), true) < 0)
			boot_fatal("pmap: cannot map RAM at %#lx",
			    (unsigned long)lo);
	}
}

void
pmap_init(void)
{
	/* The early pool: 1 MiB above the image, inside the boot mapping. */
	early_start = early_next =
	    ((uintptr_t)__image_end + PAGE_MASK) & ~PAGE_MASK;
	early_end = early_start + PMAP_EARLY_POOL;
	if (early_end > BOOT_MAPPED)
		boot_fatal("pmap: image too large");
	kernel_pml4 = pt_alloc();
	map_image();
	map_ram();
	write_cr3((uintptr_t)kernel_pml4);
	early_done = true;
}

void
pmap_early_region(uint64_t *start, uint64_t *end)
{
	*start = early_start;
	*end = early_end;
}

void
pmap_set_allocator(void *(*alloc_page)(void))
{
	late_alloc = alloc_page;
}

/* ---------------------------------------------------------------- */
/* MMIO                                                             */
/* ---------------------------------------------------------------- */

void *
arch_map_mmio(uint64_t pa, size_t len)
{
	uint64_t lo = pa & ~PAGE_MASK;
	uint64_t hi = (pa + len + PAGE_MASK) & ~PAGE_MASK;
	uint64_t va;
	int err = 0;

	lock();
	for (va = lo; va < hi && err == 0; va += PAGE_SIZE) {
		uint64_t *e = pte_slot(va, PAGE_SIZE, true);
		if (e == NULL) {
			err = -1;
			break;
		}
		if (*e & PTE_P)
			continue; /* already mapped by an earlier request */
		*e = va | PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx();
		invlpg(va);
	}
	unlock();
	return err == 0 ? (void *)(uintptr_t)pa : NULL;
}

/*
 * Firmware tables (ACPI) that lie outside mapped RAM: mapped read-only,
 * cached, NX. Pages already mapped are left as they are.
 */
int
pmap_map_firmware(uint64_t pa, size_t len)
{
	uint64_t va, hi = (pa + len + PAGE_MASK) & ~PAGE_MASK;
	int err = 0;

	if (pa + len < pa || hi > (1ULL << 46))
		return -1;
	lock();
	for (va = pa & ~PAGE_MASK; va < hi; va += PAGE_SIZE) {
		uint64_t *e;
		if (page_present(va))
			continue;
		e = pte_slot(va, PAGE_SIZE, true);
		if (e == NULL) {
			err = -1;
			break;
		}
		*e = va | PTE_P | nx();
		invlpg(va);
	}
	unlock();
	return err;
}

/* ---------------------------------------------------------------- */
/* Kernel stacks with guard pages                                   */
/* ---------------------------------------------------------------- */

/*
 * The window is handed out by a bump pointer; freed stacks go on a short
 * list by size and are reused whole (stacks come in a few sizes only).
 */
#define STACK_FREE_MAX 64
static uint64_t stack_next = PMAP_STACK_BASE;
static struct {
	uint64_t sf_va;
	size_t sf_size;
} stack_free_list[STACK_FREE_MAX];
static int nstack_free;
static void (*late_free)(void *);

void
pmap_set_free(void (*free_page)(void *))
{
	late_free = free_page;
}

static uint64_t
stack_va_get(size_t size)
{
	int i;
	uint64_t va;

	for (i = 0; i < nstack_free; i++) {
		if (stack_free_list[i].sf_size == size) {
			va = stack_free_list[i].sf_va;
			stack_free_list[i] = stack_free_list[--nstack_free];
			return va;
		}
	}
	if (stack_next + PAGE_SIZE + size > PMAP_STACK_END)
		return 0;
	va = stack_next + PAGE_SIZE; /* leave the guard page unmapped */
	stack_next = va + size;
	return va;
}

/*
 * Unmaps [va, va + mapped) and frees its pages. Pages are freed only
 * after every other CPU dropped its TLB entries for the range, or they
 * could still write to them; so the caller must not hold pmap_lock.
 */
static void
stack_unmap(uint64_t va, size_t mapped)
{
	size_t off;

	lock();
	for (off = 0; off < mapped; off += PAGE_SIZE) {
		uint64_t *e = pte_slot(va + off, PAGE_SIZE, false);
		if (e != NULL && (*e & PTE_P)) {
			/* Keep the frame in the PTE's place until freed. */
			*e &= ~(uint64_t)PTE_P;
			invlpg(va + off);
		}
	}
	unlock();
	pmap_shootdown(va, mapped);
	lock();
	for (off = 0; off < mapped; off += PAGE_SIZE) {
		uint64_t *e = pte_slot(va + off, PAGE_SIZE, false);
		if (e != NULL && (*e & PTE_ADDR_MASK) != 0) {
			void *pg = (void *)(uintptr_t)(*e & PTE_ADDR_MASK);
			*e = 0;
			if (late_free != NULL)
				late_free(pg);
		}
	}
	unlock();
}

void *
arch_stack_alloc(size_t size)
{
	uint64_t va;
	size_t off;

	size = (size + PAGE_MASK) & ~PAGE_MASK;
	if (size == 0 || late_alloc == NULL)
		return NULL;
	lock();
	va = stack_va_get(size);
	for (off = 0; va != 0 && off < size; off += PAGE_SIZE) {
		void *pg = late_alloc();
		if (pg == NULL ||
		    map_one(va + off, (uintptr_t)pg, PAGE_SIZE, PTE_W | nx()) <
			0) {
			if (pg != NULL && late_free != NULL)
				late_free(pg);
			stack_unmap(va, off);
			if (nstack_free < STACK_FREE_MAX)
				stack_free_list[nstack_free++] =
				    (typeof(stack_free_list[0])) { va, size };
			va = 0;
		}
	}
	unlock();
	return (void *)(uintptr_t)va;
}

void
arch_stack_free(void *base, size_t size)
{
	uint64_t va = (uintptr_t)base;

	size = (size + PAGE_MASK) & ~PAGE_MASK;
	stack_unmap(va, size);
	lock();
	if (nstack_free < STACK_FREE_MAX)
		stack_free_list[nstack_free++] =
		    (typeof(stack_free_list[0])) { va, size };
	unlock();
}

/* ---------------------------------------------------------------- */
/* TLB shootdown                                                    */
/* ---------------------------------------------------------------- */

/*
 * One request at a time (shoot_lock): the initiator publishes the range
 * and a new generation, interrupts every other CPU on VEC_TLB (which no
 * critical section defers) and waits until each has acknowledged the
 * generation. While it waits for shoot_lock it answers requests itself,
 * so two initiators cannot wait for each other.
 */
static volatile int shoot_lock;
static volatile uint64_t shoot_va, shoot_len, shoot_gen;
static volatile uint64_t shoot_acked[ARCH_MAX_CPUS];

static void
shoot_local(void)
{
	uint64_t gen = __atomic_load_n(&shoot_gen, __ATOMIC_ACQUIRE);
	unsigned me = arch_cpu_id();
	uint64_t off;

	if (shoot_acked[me] == gen)
		return;
	for (off = 0; off < shoot_len; off += PAGE_SIZE)
		invlpg(shoot_va + off);
	__atomic_store_n(&shoot_acked[me], gen, __ATOMIC_RELEASE);
}

static void
shoot_intr(void *arg)
{
	shoot_local();
}

void
pmap_shootdown(uint64_t va, uint64_t len)
{
	unsigned n = arch_ncpus(), me, i;
	uint64_t gen;

	bool intr;

	if (n <= 1)
		return;
	/* Interrupts off: a thread preempted while it holds shoot_lock
	 * would leave another thread of its CPU spinning on it for ever.
	 * The spin answers other CPUs' requests itself. */
	intr = arch_intr_save();
	while (!__sync_bool_compare_and_swap(&shoot_lock, 0, 1)) {
		shoot_local(); /* someone else's request, for us too */
		cpu_pause();
	}
	me = arch_cpu_id();
	shoot_va = va;
	shoot_len = len;
	gen = __atomic_add_fetch(&shoot_gen, 1, __ATOMIC_RELEASE);
	shoot_acked[me] = gen;
	for (i = 0; i < n; i++)
		if (i != me)
			arch_ipi_send(i, VEC_TLB);
	for (i = 0; i < n; i++)
		while (__atomic_load_n(&shoot_acked[i], __ATOMIC_ACQUIRE) < gen)
			cpu_pause();
	__atomic_store_n(&shoot_lock, 0, __ATOMIC_RELEASE);
	arch_intr_restore(intr);
}

void
pmap_shootdown_init(void)
{
	trap_set_vector(VEC_TLB, shoot_intr, NULL);
}

/* ---------------------------------------------------------------- */
/* Queries                                                          */
/* ---------------------------------------------------------------- */

static bool
page_present(uint64_t va)
{
	uint64_t *t = kernel_pml4;
	int shift;

	if (va >= (1ULL << 47))
		return false;
	for (shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];
		if (!(e & PTE_P))
			return false;
		if (shift == 12 || (e & PTE_PS))
			return true;
		t = (uint64_t *)(uintptr_t)(e & PTE_ADDR_MASK);
	}
	return false;
}

bool
arch_addr_readable(const void *p, size_t len)
{
	uint64_t va = (uintptr_t)p & ~PAGE_MASK;
	uint64_t end = (uintptr_t)p + len;

	if (kernel_pml4 == NULL)
		return (uintptr_t)p >= PAGE_SIZE && end <= BOOT_MAPPED;
	if (end < (uintptr_t)p)
		return false;
	for (; va < end; va += PAGE_SIZE)
		if (!page_present(va))
			return false;
	return true;
}

uint64_t
arch_virt_to_phys(const void *p)
{
	uint64_t va = (uintptr_t)p;
	uint64_t *t = kernel_pml4;
	int shift;

	if (va < PMAP_STACK_BASE || va >= PMAP_STACK_END)
		return page_present(va) ? va : 0; /* the identity map */
	for (shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];
		if (!(e & PTE_P))
			return 0;
		if (shift == 12 || (e & PTE_PS))
			return (e & PTE_ADDR_MASK & ~((1ULL << shift) - 1)) |
			    (va & ((1ULL << shift) - 1));
		t = (uint64_t *)(uintptr_t)(e & PTE_ADDR_MASK);
	}
	return 0;
}

bool
arch_dma_contiguous(const void *p, size_t len)
{
	uint64_t va = (uintptr_t)p;

	if (len == 0)
		return true;
	if (va + len < va)
		return false;
	if (va + len <= PMAP_STACK_BASE)
		return true;
	return (va & ~PAGE_MASK) == ((va + len - 1) & ~PAGE_MASK);
}

uint64_t
pmap_pte_flags(uint64_t va)
{
	uint64_t *t = kernel_pml4;
	int shift;

	for (shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];
		if (!(e & PTE_P))
			return 0;
		if (shift == 12 || (e & PTE_PS))
			return e & ~PTE_ADDR_MASK;
		t = (uint64_t *)(uintptr_t)(e & PTE_ADDR_MASK);
	}
	return 0;
}
