/*
 * In-guest tests of the virtio-rng driver: bytes arrive, in the amounts
 * asked for, and are not constant.
 */
#include <errno.h>
#include <string.h>
#include "core/kmalloc.h"
#include "core/ktest.h"
#include "virtio/virtio.h"

static bool
constant(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

KTEST(vrng, bytes_arrive)
{
	uint8_t a[64], b[64];
	size_t big = 10000;
	uint8_t *p;
	struct vrng_stats st0, st1;
	unsigned ones = 0;
	size_t i;

	if (!vrng_present()) {
		KT_ASSERT_EQ(vrng_read(a, sizeof(a)), -ENODEV);
		kprintf("ktest: no virtio-rng device: nothing to check\n");
		return;
	}
	vrng_get_stats(&st0);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	KT_ASSERT_EQ(vrng_read(a, sizeof(a)), 0); /* a stack buffer */
	KT_ASSERT_EQ(vrng_read(b, sizeof(b)), 0);
	KT_ASSERT(!constant(a, sizeof(a)));
	KT_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	p = kmalloc(big, KM_ZERO);
	KT_ASSERT(p != NULL);
	KT_ASSERT_EQ(vrng_read(p, big), 0);
	for (i = 0; i < big; i++)
		ones += (unsigned)__builtin_popcount(p[i]);
	/* About half the bits set: 40000 +- a few hundred. */
	KT_ASSERT(ones > big * 8 * 45 / 100 && ones < big * 8 * 55 / 100);
	kfree(p, big);
	vrng_get_stats(&st1);
	KT_ASSERT(st1.vrs_bytes - st0.vrs_bytes >= 2 * 64 + big);
	KT_ASSERT_EQ(st1.vrs_vq.vqs_bad, 0);
	kprintf("ktest: vrng: %zu random bytes verified (%u of %zu bits "
		"set), %llu requests, %llu interrupts\n",
	    2 * 64 + big, ones, big * 8,
	    (unsigned long long)(st1.vrs_requests - st0.vrs_requests),
	    (unsigned long long)st1.vrs_vq.vqs_interrupts);
}
