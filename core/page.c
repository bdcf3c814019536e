/*
 * Physical page allocator: a binary buddy system (see page.h).
 *
 * Each RAM range becomes a zone. The zone's first pages hold its metadata:
 * one byte per page, which for the first page of a block records whether
 * the block is free or allocated and its order; every other byte is 0.
 * A block of order k starts at an address aligned to 4 KiB << k; its buddy
 * is that address XOR (4 KiB << k), merged on free when it lies in the
 * same zone and is free with the same order.
 *
 * Free blocks below LIST_ORDERS are kept on one circular list per order,
 * linked through their own first bytes. Larger free blocks are not linked:
 * they are found by scanning the metadata at their alignment, from a
 * per-zone hint. So the allocator never writes into a large free block,
 * and boot touches no free memory but the metadata: on a VMM each first
 * touch of guest RAM costs the host a page allocation (milliseconds for a
 * 2 MiB page on a nested machine), which made free-list links in every
 * large block the bulk of boot time. Large allocations are rare (slabs
 * are at most 64 KiB), so the scan is off the hot path.
 *
 * The metadata byte lets page_free() check its caller: freeing a block
 * that is not allocated, with the wrong order, or at an address inside a
 * block is caught and panics with what was wrong.
 */
#include <stdio.h>
#include <string.h>
#include "core/kern.h"
#include "core/page.h"
#include "core/spinlock.h"

#define META_FREE   0x80
#define META_ALLOC  0x40
#define META_ORDER  0x1f
#define MAX_ZONES   32
#define LIST_ORDERS 9 /* orders 0..8 (up to 1 MiB) are on lists */

struct zone {
	uintptr_t z_base; /* first managed page */
	size_t z_npages;
	uint8_t *z_meta;
	/* Unlisted orders: free blocks in this zone, and the lowest page
	 * index that may hold one. */
	size_t z_nfree[PAGE_MAX_ORDER + 1];
	size_t z_hint[PAGE_MAX_ORDER + 1];
};

struct free_block {
	struct free_block *fb_next, *fb_prev;
};

/* Everything below is guarded by page_lock. */
static struct spinlock page_lock = SPINLOCK_INIT;
static struct zone zones[MAX_ZONES];
static int nzones;
static struct free_block free_list[LIST_ORDERS];
static struct page_stats stats;
static unsigned fail_nth;

static size_t
block_bytes(unsigned order)
{
	return PG_PAGE_SIZE << order;
}

static struct zone *
zone_of(uintptr_t a)
{
	int i;

	for (i = 0; i < nzones; i++)
		if (a >= zones[i].z_base &&
		    a - zones[i].z_base < zones[i].z_npages * PG_PAGE_SIZE)
			return &zones[i];
	return NULL;
}

static uint8_t *
meta_of(struct zone *z, uintptr_t a)
{
	return &z->z_meta[(a - z->z_base) / PG_PAGE_SIZE];
}

static size_t
page_index(struct zone *z, uintptr_t a)
{
	return (a - z->z_base) / PG_PAGE_SIZE;
}

static void
list_insert(struct zone *z, uintptr_t a, unsigned order)
{
	struct free_block *b = (struct free_block *)a, *h;

	if (order < LIST_ORDERS) {
		h = &free_list[order];
		b->fb_next = h->fb_next;
		b->fb_prev = h;
		h->fb_next->fb_prev = b;
		h->fb_next = b;
	} else {
		z->z_nfree[order]++;
		if (page_index(z, a) < z->z_hint[order])
			z->z_hint[order] = page_index(z, a);
	}
	*meta_of(z, a) = META_FREE | order;
	stats.ps_free += 1UL << order;
	stats.ps_blocks[order]++;
}

static void
list_remove(struct zone *z, uintptr_t a, unsigned order)
{
	struct free_block *b = (struct free_block *)a;

	if (order < LIST_ORDERS) {
		b->fb_prev->fb_next = b->fb_next;
		b->fb_next->fb_prev = b->fb_prev;
	} else {
		z->z_nfree[order]--;
	}
	*meta_of(z, a) = 0;
	stats.ps_free -= 1UL << order;
	stats.ps_blocks[order]--;
}

/*
 * A free block of an unlisted order: the metadata is scanned at the
 * order's alignment from the zone's hint, which is then moved past it.
 */
static uintptr_t
find_unlisted(unsigned order, struct zone **zp)
{
	size_t step = 1UL << order;
	int i;

	for (i = 0; i < nzones; i++) {
		struct zone *z = &zones[i];
		uintptr_t first = ROUNDUP(z->z_base, block_bytes(order));
		size_t idx = page_index(z, first);
		if (z->z_nfree[order] == 0)
			continue;
		if (z->z_hint[order] > idx)
			idx += ROUNDUP(z->z_hint[order] - idx, step);
		for (; idx < z->z_npages; idx += step) {
			if (z->z_meta[idx] == (META_FREE | order)) {
				z->z_hint[order] = idx;
				*zp = z;
				return z->z_base + idx * PG_PAGE_SIZE;
			}
		}
		panic("page: zone %d has %zu free blocks of order %u but none "
		      "found",
		    i, z->z_nfree[order], order);
	}
	return 0;
}

/* Frees [a, a + n pages) of zone z as the largest aligned blocks. */
static void
zone_fill(struct zone *z, uintptr_t a, size_t n)
{
	while (n > 0) {
		unsigned k = PAGE_MAX_ORDER;
		while (k > 0 &&
		    ((a & (block_bytes(k) - 1)) != 0 || (1UL << k) > n))
			k--;
		list_insert(z, a, k);
		a += block_bytes(k);
		n -= 1UL << k;
	}
}

static void
zone_add(uintptr_t base, size_t size)
{
	size_t npages = size / PG_PAGE_SIZE, meta_pages;
	struct zone *z = NULL;

	if (nzones == MAX_ZONES) {
		log_warn(
		    "page: more than %d RAM ranges; %zu KiB at %#lx unused",
		    MAX_ZONES, size >> 10, (unsigned long)base);
		return;
	}
	meta_pages = (npages + PG_PAGE_SIZE - 1) / PG_PAGE_SIZE;
	if (npages <= meta_pages)
		return;
	z = &zones[nzones++];
	z->z_meta = (uint8_t *)base;
	z->z_base = base + meta_pages * PG_PAGE_SIZE;
	z->z_npages = npages - meta_pages;
	memset(z->z_meta, 0, z->z_npages);
	memset(z->z_nfree, 0, sizeof(z->z_nfree));
	memset(z->z_hint, 0, sizeof(z->z_hint));
	stats.ps_meta += meta_pages;
	stats.ps_total += z->z_npages;
	zone_fill(z, z->z_base, z->z_npages);
}

void
page_init(const struct page_range *r, int n)
{
	int i;

	KKASSERT(nzones == 0);
	for (i = 0; i < LIST_ORDERS; i++)
		free_list[i].fb_next = free_list[i].fb_prev = &free_list[i];
	for (i = 0; i < n; i++) {
		KKASSERT((r[i].pr_base & (PG_PAGE_SIZE - 1)) == 0);
		zone_add(r[i].pr_base, r[i].pr_size & ~(PG_PAGE_SIZE - 1));
	}
}

static bool
injected_failure(void)
{
	if (fail_nth == 0)
		return false;
	return --fail_nth == 0;
}

void *
page_alloc(unsigned order)
{
	unsigned k;
	uintptr_t a = 0;
	struct zone *z = NULL;

	if (order > PAGE_MAX_ORDER)
		return NULL;
	spin_lock(&page_lock);
	for (k = injected_failure() ? PAGE_MAX_ORDER + 1 : order;
	     k <= PAGE_MAX_ORDER; k++) {
		if (stats.ps_blocks[k] == 0)
			continue;
		if (k < LIST_ORDERS) {
			a = (uintptr_t)free_list[k].fb_next;
			z = zone_of(a);
		} else {
			a = find_unlisted(k, &z);
		}
		list_remove(z, a, k);
		while (k > order) {
			k--;
			list_insert(z, a + block_bytes(k), k);
		}
		*meta_of(z, a) = META_ALLOC | order;
		stats.ps_allocs++;
		break;
	}
	if (a == 0)
		stats.ps_failures++;
	spin_unlock(&page_lock);
	return (void *)a;
}

/* Checks a free against the metadata; NULL when it is right, else why. */
static const char *
check_free(struct zone *z, uintptr_t a, unsigned order, char *why, size_t n)
{
	uint8_t m;

	if (z == NULL) {
		snprintf(why, n, "%#lx is not in any RAM zone",
		    (unsigned long)a);
		return why;
	}
	if ((a & (block_bytes(order) - 1)) != 0) {
		snprintf(why, n, "%#lx is not aligned for order %u",
		    (unsigned long)a, order);
		return why;
	}
	m = *meta_of(z, a);
	if (m & META_FREE)
		snprintf(why, n, "double free of %#lx (order %u)",
		    (unsigned long)a, order);
	else if (!(m & META_ALLOC))
		snprintf(why, n, "%#lx is not the start of an allocated block",
		    (unsigned long)a);
	else if ((m & META_ORDER) != order)
		snprintf(why, n,
		    "%#lx was allocated with order %u, freed with "
		    "order %u",
		    (unsigned long)a, m & META_ORDER, order);
	else
		return NULL;
	return why;
}

void
page_free(void *p, unsigned order)
{
	uintptr_t a = (uintptr_t)p;
	struct zone *z = NULL;
	char why[96];

	KKASSERT(order <= PAGE_MAX_ORDER);
	spin_lock(&page_lock);
	z = zone_of(a);
	if (check_free(z, a, order, why, sizeof(why)) != NULL) {
		spin_unlock(&page_lock); /* a test may catch the panic */
		panic("page_free: %s", why);
	}
	*meta_of(z, a) = 0;
	stats.ps_frees++;
	while (order < PAGE_MAX_ORDER) {
		uintptr_t buddy = a ^ block_bytes(order);
		if (buddy < z->z_base ||
		    buddy - z->z_base + block_bytes(order) >
			z->z_npages * PG_PAGE_SIZE ||
		    *meta_of(z, buddy) != (META_FREE | order))
			break;
		list_remove(z, buddy, order);
		a &= ~block_bytes(order);
		order++;
	}
	list_insert(z, a, order);
	spin_unlock(&page_lock);
}

void
page_get_stats(struct page_stats *st)
{
	spin_lock(&page_lock);
	*st = stats;
	spin_unlock(&page_lock);
}

void
page_fail_nth(unsigned n)
{
	spin_lock(&page_lock);
	fail_nth = n;
	spin_unlock(&page_lock);
}

unsigned
page_order_for(size_t bytes)
{
	unsigned k = 0;

	while (k < PAGE_MAX_ORDER && block_bytes(k) < bytes)
		k++;
	return k;
}
