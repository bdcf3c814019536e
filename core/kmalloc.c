/*
 * kmalloc: size classes over slabs, large objects straight from the page
 * allocator (see kmalloc.h for the rules callers follow).
 *
 * A slab is a naturally aligned page block (so kfree finds its header by
 * masking the address with the slab size of the class the caller named).
 * The header holds a magic, the class, a free list threaded through the
 * free objects, and a bitmap with one bit per object, set while the object
 * is allocated: kfree checks it, which catches double frees without the
 * debug mode. Each class keeps its partially used slabs on a list; a slab
 * that becomes empty goes back to the page allocator unless it is the
 * class's last partial slab.
 *
 * Per-CPU object caches belong with the scheduler's per-CPU data (issue 3);
 * today each class has a spinlock.
 */
#include <stdio.h>
#include <string.h>
#include "core/kern.h"
#include "core/kmalloc.h"
#include "core/page.h"
#include "core/spinlock.h"

#define SLAB_MAGIC 0x51ab51abU

static const uint32_t class_sizes[KMALLOC_NCLASSES] = { 16, 32, 48, 64, 96, 128,
	192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192 };

struct slab {
	uint32_t sl_magic;
	uint16_t sl_class;
	uint16_t sl_nobj;
	uint16_t sl_inuse;
	struct slab *sl_next, *sl_prev; /* partial list, when on it */
	void *sl_free;			/* free objects, linked by first word */
	char *sl_objs;
	uint64_t sl_bitmap[];
};

struct kmclass {
	struct spinlock kc_lock;
	/* guarded by kc_lock: */
	struct slab kc_partial; /* sentinel: slabs with free objects */
	uint64_t kc_npartial;
	struct kmalloc_class_stats kc_st;
	/* set at init: */
	uint32_t kc_size;
	unsigned kc_order;
	uint16_t kc_nobj;
	size_t kc_hdr;
};

static struct kmclass classes[KMALLOC_NCLASSES];
static uint8_t class_of_16[KMALLOC_MAX_SMALL / 16 + 1];
static bool debug_mode;
static struct spinlock large_lock = SPINLOCK_INIT;
static uint64_t large_allocs, large_frees, large_bytes, failures;
static unsigned fail_nth;

/* ---------------------------------------------------------------- */
/* Set-up                                                           */
/* ---------------------------------------------------------------- */

static size_t
header_bytes(unsigned nobj)
{
	size_t h = sizeof(struct slab) + (nobj + 63) / 64 * 8;
	return (h + 15) & ~(size_t)15;
}

/* The smallest slab order that wastes at most 1/8 and holds 4 objects. */
static void
class_layout(struct kmclass *c)
{
	unsigned k;

	for (k = 0;; k++) {
		size_t bytes = PG_PAGE_SIZE << k;
		unsigned n = (unsigned)(bytes / c->kc_size);
		while (
		    n > 0 && header_bytes(n) + (size_t)n * c->kc_size > bytes)
			n--;
		size_t waste = bytes - (size_t)n * c->kc_size;
		if ((n >= 4 && waste * 8 <= bytes) || k == 4) {
			c->kc_order = k;
			c->kc_nobj = (uint16_t)n;
			c->kc_hdr = header_bytes(n);
			return;
		}
	}
}

void
kmalloc_init(bool debug)
{
	unsigned i, j = 0;

	debug_mode = debug;
	for (i = 0; i < KMALLOC_NCLASSES; i++) {
		struct kmclass *c = &classes[i];
		c->kc_lock = (struct spinlock)SPINLOCK_INIT;
		c->kc_size = class_sizes[i];
		c->kc_partial.sl_next = c->kc_partial.sl_prev = &c->kc_partial;
		class_layout(c);
		c->kc_st.kc_size = c->kc_size;
		c->kc_st.kc_slab_bytes =
		    (uint32_t)(PG_PAGE_SIZE << c->kc_order);
	}
	for (i = 0; i <= KMALLOC_MAX_SMALL / 16; i++) {
		while (class_sizes[j] < i * 16)
			j++;
		class_of_16[i] = (uint8_t)j;
	}
}

bool
kmalloc_debug_enabled(void)
{
	return debug_mode;
}

/* ---------------------------------------------------------------- */
/* Slabs                                                            */
/* ---------------------------------------------------------------- */

static void
partial_add(struct kmclass *c, struct slab *s)
{
	s->sl_next = c->kc_partial.sl_next;
	s->sl_prev = &c->kc_partial;
	c->kc_partial.sl_next->sl_prev = s;
	c->kc_partial.sl_next = s;
	c->kc_npartial++;
}

static void
partial_remove(struct kmclass *c, struct slab *s)
{
	s->sl_prev->sl_next = s->sl_next;
	s->sl_next->sl_prev = s->sl_prev;
	s->sl_next = s->sl_prev = NULL;
	c->kc_npartial--;
}

static struct slab *
slab_new(struct kmclass *c)
{
	struct slab *s = page_alloc(c->kc_order);
	unsigned i;

	if (s == NULL)
		return NULL;
	memset(s, 0, c->kc_hdr);
	s->sl_magic = SLAB_MAGIC;
	s->sl_class = (uint16_t)(c - classes);
	s->sl_nobj = c->kc_nobj;
	s->sl_objs = (char *)s + c->kc_hdr;
	/* Thread the free list in address order. */
	for (i = c->kc_nobj; i-- > 0;) {
		char *o = s->sl_objs + (size_t)i * c->kc_size;
		if (debug_mode)
			memset(o, KMALLOC_POISON_FREE, c->kc_size);
		*(void **)o = s->sl_free;
		s->sl_free = o;
	}
	c->kc_st.kc_slabs++;
	partial_add(c, s);
	return s;
}

static bool
poison_intact(const char *o, size_t size, size_t *bad)
{
	size_t i;

	for (i = sizeof(void *); i < size; i++) {
		if ((uint8_t)o[i] != KMALLOC_POISON_FREE) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/* ---------------------------------------------------------------- */
/* Allocation                                                       */
/* ---------------------------------------------------------------- */

static bool
injected_failure(void)
{
	unsigned n = __atomic_load_n(&fail_nth, __ATOMIC_RELAXED);

	while (n != 0) {
		if (__atomic_compare_exchange_n(&fail_nth, &n, n - 1, false,
			__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return n == 1;
	}
	return false;
}

static void
count_failure(void)
{
	spin_lock(&large_lock);
	failures++;
	spin_unlock(&large_lock);
}

static void *
alloc_large(size_t size)
{
	unsigned order = page_order_for(size);
	void *p = page_alloc(order);

	if (p == NULL) {
		count_failure();
		return NULL;
	}
	spin_lock(&large_lock);
	large_allocs++;
	large_bytes += PG_PAGE_SIZE << order;
	spin_unlock(&large_lock);
	return p;
}

static void *
alloc_small(struct kmclass *c)
{
	struct slab *s;
	char *o;
	size_t bad;
	unsigned idx;

	spin_lock(&c->kc_lock);
	s = c->kc_partial.sl_next;
	if (s == &c->kc_partial && (s = slab_new(c)) == NULL) {
		spin_unlock(&c->kc_lock);
		count_failure();
		return NULL;
	}
	o = s->sl_free;
	s->sl_free = *(void **)o;
	idx = (unsigned)((size_t)(o - s->sl_objs) / c->kc_size);
	s->sl_bitmap[idx / 64] |= 1ULL << (idx % 64);
	if (++s->sl_inuse == s->sl_nobj)
		partial_remove(c, s);
	c->kc_st.kc_allocs++;
	c->kc_st.kc_inuse++;
	if (debug_mode && !poison_intact(o, c->kc_size, &bad)) {
		spin_unlock(&c->kc_lock);
		panic("kmalloc: use after free: %u-byte object %p was written "
		      "at offset %zu after it was freed",
		    c->kc_size, (void *)o, bad);
	}
	spin_unlock(&c->kc_lock);
	if (debug_mode)
		memset(o, KMALLOC_POISON_ALLOC, c->kc_size);
	return o;
}

static struct kmclass *
class_for(size_t size)
{
	return &classes[class_of_16[(size + 15) / 16]];
}

void *
kmalloc(size_t size, int flags)
{
	void *p;

	if (injected_failure()) {
		count_failure();
		return NULL;
	}
	if (size == 0)
		size = 1;
	p = size > KMALLOC_MAX_SMALL ? alloc_large(size) :
				       alloc_small(class_for(size));
	if (p != NULL && (flags & KM_ZERO))
		memset(p, 0, size);
	return p;
}

void *
kmallocarray(size_t n, size_t size, int flags)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		count_failure();
		return NULL;
	}
	return kmalloc(total, flags);
}

/* ---------------------------------------------------------------- */
/* Free                                                             */
/* ---------------------------------------------------------------- */

static void
free_large(void *p, size_t size)
{
	unsigned order = page_order_for(size);

	page_free(p, order); /* checks the order: a wrong size panics there */
	spin_lock(&large_lock);
	large_frees++;
	large_bytes -= PG_PAGE_SIZE << order;
	spin_unlock(&large_lock);
}

/* Checks p against its slab; NULL when it is a live object, else why. */
static const char *
check_free(struct kmclass *c, const struct slab *s, const char *p, size_t size,
    char *why, size_t n)
{
	size_t off;
	unsigned idx;

	if (s->sl_magic != SLAB_MAGIC) {
		snprintf(why, n,
		    "kfree(%p, %zu): not a kmalloc object of that "
		    "size (wrong size or bad pointer)",
		    (const void *)p, size);
		return why;
	}
	if (s->sl_class != (uint16_t)(c - classes)) {
		snprintf(why, n,
		    "kfree(%p, %zu): wrong size: the object is in "
		    "the %u-byte class",
		    (const void *)p, size, class_sizes[s->sl_class]);
		return why;
	}
	off = (size_t)(p - s->sl_objs);
	if (p < s->sl_objs || off % c->kc_size != 0 ||
	    off / c->kc_size >= s->sl_nobj) {
		snprintf(why, n, "kfree(%p, %zu): not the start of an object",
		    (const void *)p, size);
		return why;
	}
	idx = (unsigned)(off / c->kc_size);
	if (!(s->sl_bitmap[idx / 64] & (1ULL << (idx % 64)))) {
		snprintf(why, n, "kfree(%p, %zu): double free", (const void *)p,
		    size);
		return why;
	}
	return NULL;
}

static void
free_small(struct kmclass *c, char *p, size_t size)
{
	size_t slab_bytes = PG_PAGE_SIZE << c->kc_order;
	struct slab *s = (struct slab *)((uintptr_t)p & ~(slab_bytes - 1));
	char why[128];
	unsigned idx;

	spin_lock(&c->kc_lock);
	if (check_free(c, s, p, size, why, sizeof(why)) != NULL) {
		spin_unlock(&c->kc_lock); /* a test may catch the panic */
		panic("%s", why);
	}
	idx = (unsigned)((size_t)(p - s->sl_objs) / c->kc_size);
	s->sl_bitmap[idx / 64] &= ~(1ULL << (idx % 64));
	if (debug_mode)
		memset(p, KMALLOC_POISON_FREE, c->kc_size);
	*(void **)p = s->sl_free;
	s->sl_free = p;
	c->kc_st.kc_frees++;
	c->kc_st.kc_inuse--;
	if (s->sl_inuse-- == s->sl_nobj)
		partial_add(c, s);
	if (s->sl_inuse == 0 && c->kc_npartial > 1) {
		partial_remove(c, s);
		s->sl_magic = 0;
		c->kc_st.kc_slabs--;
		page_free(s, c->kc_order);
	}
	spin_unlock(&c->kc_lock);
}

void
kfree(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (size == 0)
		size = 1;
	if (size > KMALLOC_MAX_SMALL)
		free_large(p, size);
	else
		free_small(class_for(size), p, size);
}

/* ---------------------------------------------------------------- */
/* Statistics and fault injection                                   */
/* ---------------------------------------------------------------- */

void
kmalloc_get_stats(struct kmalloc_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < KMALLOC_NCLASSES; i++) {
		spin_lock(&classes[i].kc_lock);
		st->ks_class[i] = classes[i].kc_st;
		spin_unlock(&classes[i].kc_lock);
		st->ks_bytes_inuse += st->ks_class[i].kc_inuse * class_sizes[i];
	}
	spin_lock(&large_lock);
	st->ks_large_allocs = large_allocs;
	st->ks_large_frees = large_frees;
	st->ks_large_bytes = large_bytes;
	st->ks_failures = failures;
	spin_unlock(&large_lock);
	st->ks_bytes_inuse += st->ks_large_bytes;
}

void
kmalloc_fail_nth(unsigned n)
{
	__atomic_store_n(&fail_nth, n, __ATOMIC_RELAXED);
}
