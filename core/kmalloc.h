/*
 * core/kmalloc.h: kernel memory allocation with size classes.
 *
 * Objects up to KMALLOC_MAX_SMALL bytes come from slabs of one size class
 * each; larger ones are page blocks. The caller passes the size to
 * kfree(), as OpenBSD's free(9) does, and the allocator checks it.
 *
 * Interface:
 *  - kmalloc() returns 16-byte aligned memory or NULL (never blocks);
 *    with KM_ZERO it is zeroed. kmalloc(0) returns a valid 16-byte object.
 *  - kmallocarray(n, size) returns NULL when n * size overflows.
 *  - kfree(p, size) takes the size given to kmalloc (for arrays, n * size).
 *    kfree(NULL, ...) does nothing. A double free, a free with a size of
 *    another class, or of a pointer that is not an object start panics.
 *  - Debug mode (kmalloc.debug=1, read at boot before the first
 *    allocation) fills freed objects with 0x6b and checks on allocation
 *    that they were not written since (use after free), and fills new
 *    objects with 0xa5 (use before initialization).
 *  - Lock order: a size class's spinlock, then the page allocator's.
 *  - Fault injection: kmalloc_fail_nth(n), as page_fail_nth().
 */
#ifndef CORE_KMALLOC_H
#define CORE_KMALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KM_ZERO		     0x1

#define KMALLOC_NCLASSES     18
#define KMALLOC_MAX_SMALL    8192
#define KMALLOC_POISON_FREE  0x6b
#define KMALLOC_POISON_ALLOC 0xa5

struct kmalloc_class_stats {
	uint32_t kc_size;
	uint32_t kc_slab_bytes;
	uint64_t kc_allocs, kc_frees, kc_inuse, kc_slabs;
};

struct kmalloc_stats {
	struct kmalloc_class_stats ks_class[KMALLOC_NCLASSES];
	uint64_t ks_large_allocs, ks_large_frees, ks_large_bytes;
	uint64_t ks_failures;
	uint64_t ks_bytes_inuse; /* by class size, plus large blocks */
};

void kmalloc_init(bool debug);
void *kmalloc(size_t size, int flags) __attribute__((malloc, alloc_size(1)));
void *kmallocarray(size_t n, size_t size, int flags)
    __attribute__((malloc, alloc_size(1, 2)));
void kfree(void *p, size_t size);
void kmalloc_get_stats(struct kmalloc_stats *st);
void kmalloc_fail_nth(unsigned n);
bool kmalloc_debug_enabled(void);

#endif
