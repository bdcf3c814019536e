/* Page tables (pmap.c). Private to arch/x86_64. */
#ifndef ARCH_X86_64_PMAP_H
#define ARCH_X86_64_PMAP_H

#include <stddef.h>
#include <stdint.h>

/* Early page-table pool above the image: enough to map 512 GiB of RAM with
 * 2 MiB pages, or any size with 1 GiB pages. */
#define PMAP_EARLY_POOL (2UL << 20)

/* The kernel stack window: canonical, far above any identity-mapped RAM. */
#define PMAP_STACK_BASE 0x0000700000000000ULL
#define PMAP_STACK_END	0x0000710000000000ULL

void pmap_early_guard(uintptr_t va);
void pmap_init(void);
void pmap_early_region(uint64_t *start, uint64_t *end);
void pmap_set_allocator(void *(*alloc_page)(void));
void pmap_set_free(void (*free_page)(void *));
uint64_t pmap_pte_flags(uint64_t va);
int pmap_map_firmware(uint64_t pa, size_t len);
void pmap_shootdown(uint64_t va, uint64_t len);
void pmap_shootdown_init(void);

#endif
