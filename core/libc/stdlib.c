/*
 * <stdlib.h> for the kernel: malloc on kmalloc, qsort, number parsing.
 *
 * malloc keeps the size kfree needs in a 16-byte header before the block
 * (so blocks stay 16-byte aligned). aligned_alloc over-allocates and keeps
 * the original block's address and size in the header below the aligned
 * pointer. The header's second word is a magic, checked by free: a free of
 * a pointer malloc did not return panics instead of corrupting memory.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/kern.h"
#include "core/kmalloc.h"

#define MALLOC_MAGIC 0x6d616c6c6f632121ULL

struct mhdr {
	void *mh_block;	  /* what kmalloc returned */
	uint32_t mh_size; /* bytes passed to kmalloc (<= 4 GiB) */
	uint32_t mh_magic;
};
_Static_assert(sizeof(struct mhdr) == 16, "malloc header");

static void *
alloc_aligned(size_t align, size_t n)
{
	size_t total;
	char *block, *p;
	struct mhdr *h;

	if (align < 16)
		align = 16;
	if ((align & (align - 1)) != 0 ||
	    __builtin_add_overflow(n, align + sizeof(*h), &total) ||
	    total > UINT32_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	block = kmalloc(total, 0);
	if (block == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p = (char *)(((uintptr_t)block + sizeof(*h) + align - 1) &
	    ~(align - 1));
	h = (struct mhdr *)p - 1;
	h->mh_block = block;
	h->mh_size = (uint32_t)total;
	h->mh_magic = (uint32_t)MALLOC_MAGIC;
	return p;
}

void *
malloc(size_t n)
{
	return alloc_aligned(16, n);
}

static struct mhdr *
header_of(void *p)
{
	struct mhdr *h = (struct mhdr *)p - 1;

	if (h->mh_magic != (uint32_t)MALLOC_MAGIC)
		panic("free(%p): not a pointer malloc returned", p);
	return h;
}

void
free(void *p)
{
	struct mhdr *h;
	void *block;
	size_t size;

	if (p == NULL)
		return;
	h = header_of(p);
	block = h->mh_block;
	size = h->mh_size;
	h->mh_magic = 0;
	kfree(block, size);
}

void *
calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	p = malloc(total);
	if (p != NULL)
		memset(p, 0, total);
	return p;
}

void *
realloc(void *p, size_t n)
{
	struct mhdr *h;
	size_t have;
	void *q;

	if (p == NULL)
		return malloc(n);
	h = header_of(p);
	have = h->mh_size - (size_t)((char *)p - (char *)h->mh_block);
	if (n <= have && n >= have / 2)
		return p;
	q = malloc(n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, n < have ? n : have);
	free(p);
	return q;
}

void *
reallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

void *
aligned_alloc(size_t align, size_t n)
{
	return alloc_aligned(align, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	p = alloc_aligned(align, n);
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

/* ---------------------------------------------------------------- */
/* qsort: introsort-free quicksort, median of three, insertion sort   */
/* below 12 elements, recursion on the smaller side (O(log n) stack). */
/* ---------------------------------------------------------------- */

static void
swap_bytes(char *a, char *b, size_t n)
{
	while (n-- > 0) {
		char t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

static void
insertion_sort(char *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = i;
		     j > 0 && cmp(base + (j - 1) * size, base + j * size) > 0;
		     j--)
			swap_bytes(base + (j - 1) * size, base + j * size,
			    size);
}

void
qsort(void *vbase, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	char *base = vbase;

	while (n > 12) {
		char *lo = base, *mid = base + (n / 2) * size;
		char *hi = base + (n - 1) * size;
		size_t i, store;
		if (cmp(mid, lo) < 0)
			swap_bytes(mid, lo, size);
		if (cmp(hi, lo) < 0)
			swap_bytes(hi, lo, size);
		if (cmp(hi, mid) < 0)
			swap_bytes(hi, mid, size);
		swap_bytes(mid, hi, size); /* pivot at the end */
		store = 0;
		for (i = 0; i < n - 1; i++) {
			if (cmp(base + i * size, hi) < 0) {
				swap_bytes(base + i * size, base + store * size,
				    size);
				store++;
			}
		}
		swap_bytes(base + store * size, hi, size);
		if (store < n - store - 1) {
			qsort(base, store, size, cmp);
			base += (store + 1) * size;
			n -= store + 1;
		} else {
			qsort(base + (store + 1) * size, n - store - 1, size,
			    cmp);
			n = store;
		}
	}
	insertion_sort(base, n, size, cmp);
}

void *
bsearch(const void *key, const void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	const char *b = base;

	while (n > 0) {
		const char *mid = b + (n / 2) * size;
		int c = cmp(key, mid);
		if (c == 0)
			return (void *)(uintptr_t)mid;
		if (c > 0) {
			b = mid + size;
			n -= n / 2 + 1;
		} else {
			n /= 2;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Numbers                                                          */
/* ---------------------------------------------------------------- */

static int
digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* Parses an unsigned magnitude; sets *neg and *ovf. As strtoull(3). */
static unsigned long long
parse_ull(const char *s, char **end, int base, bool *neg, bool *ovf)
{
	const char *p = s, *start;
	unsigned long long v = 0;

	*neg = false;
	*ovf = false;
	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '-' || *p == '+')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 0x20) == 'x' &&
	    digit(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	start = p;
	for (; digit(*p) < base; p++) {
		unsigned d = (unsigned)digit(*p);
		if (v > (ULLONG_MAX - d) / (unsigned)base)
			*ovf = true;
		else
			v = v * (unsigned)base + d;
	}
	if (end != NULL)
		*end = (char *)(uintptr_t)(p == start ? s : p);
	return v;
}

unsigned long long
strtoull(const char *s, char **end, int base)
{
	bool neg, ovf;
	unsigned long long v = parse_ull(s, end, base, &neg, &ovf);

	if (ovf) {
		errno = ERANGE;
		return ULLONG_MAX;
	}
	return neg ? 0 - v : v;
}

unsigned long
strtoul(const char *s, char **end, int base)
{
	return (unsigned long)strtoull(s, end, base);
}

long long
strtoll(const char *s, char **end, int base)
{
	bool neg, ovf;
	unsigned long long v = parse_ull(s, end, base, &neg, &ovf);

	if (ovf || v > (neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX)) {
		errno = ERANGE;
		return neg ? LLONG_MIN : LLONG_MAX;
	}
	return neg ? (long long)(0 - v) : (long long)v;
}

long
strtol(const char *s, char **end, int base)
{
	return (long)strtoll(s, end, base);
}

int
atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

long
atol(const char *s)
{
	return strtol(s, NULL, 10);
}

int
abs(int x)
{
	return x < 0 ? -x : x;
}

long
labs(long x)
{
	return x < 0 ? -x : x;
}

char *
getenv(const char *name)
{
	(void)name;
	return NULL; /* a unikernel has no environment */
}

_Noreturn void
abort(void)
{
	panic("abort() called");
}

_Noreturn void
exit(int status)
{
	panic("exit(%d) called: a unikernel application returns from "
	      "app_main instead",
	    status);
}
