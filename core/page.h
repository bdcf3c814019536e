/*
 * core/page.h: the physical page allocator, a binary buddy system over
 * the RAM ranges arch_memmap() reports. Blocks are 2^order pages
 * (order 0 = 4 KiB .. PAGE_MAX_ORDER = 1 GiB), naturally aligned.
 *
 * Portable: the host tests run it over an arena of their own.
 *
 * Interface:
 *  - page_init() once, from one thread, before any other call; ranges
 *    must be page-aligned and must not overlap.
 *  - page_free() takes the order the block was allocated with. A free of
 *    a block that is not allocated (double free), with another order
 *    (wrong size) or at an address that is no block start panics: those
 *    are bugs in the caller.
 *  - Safe from any context, interrupts included (a spinlock).
 *  - Fault injection: page_fail_nth(n) makes the n-th allocation from now
 *    fail (n = 1: the next one); 0 turns it off.
 */
#ifndef CORE_PAGE_H
#define CORE_PAGE_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_MAX_ORDER 18
#define PG_PAGE_SIZE   4096UL

struct page_range {
	uintptr_t pr_base;
	size_t pr_size;
};

struct page_stats {
	uint64_t ps_total;  /* pages managed (after the allocator's own) */
	uint64_t ps_free;   /* pages free now */
	uint64_t ps_meta;   /* pages the allocator keeps for its bookkeeping */
	uint64_t ps_allocs; /* successful page_alloc() calls */
	uint64_t ps_frees;  /* page_free() calls */
	uint64_t ps_failures; /* page_alloc() calls that found nothing */
	uint64_t ps_blocks[PAGE_MAX_ORDER + 1]; /* free blocks per order */
};

void page_init(const struct page_range *r, int n);
void *page_alloc(unsigned order);
void page_free(void *p, unsigned order);
void page_get_stats(struct page_stats *st);
void page_fail_nth(unsigned n);
/* The order of the smallest block holding bytes (bytes > 0). */
unsigned page_order_for(size_t bytes);

#endif
