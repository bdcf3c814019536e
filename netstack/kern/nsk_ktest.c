/*
 * In-guest tests of the kernel glue's platform table (nsk_platform.c):
 * the keyed generator differs per CPU, per draw and per seed and is not
 * constant; the clock follows the kernel's; memory comes from kmalloc.
 * The protocol threads and the netif are tested with Linux as the peer
 * (test/net.cmake).
 */
#include <string.h>
#include "arch/arch.h"
#include "core/kmalloc.h"
#include "core/ktest.h"
#include "netstack/kern/nsk_internal.h"

static void
draw(const struct ns_platform *p, uint8_t *buf, size_t len)
{
	p->np_random(p->np_arg, buf, len);
}

KTEST(nsk, random_keyed)
{
	struct ns_platform p0, p1;
	struct nsk_rand r0, r1;
	uint8_t a[61], b[61], c[61], zero[61];
	size_t i;
	int same = 0;

	memset(zero, 0, sizeof(zero));
	nsk_platform_seed();
	nsk_platform_init(&p0, &r0, 0);
	nsk_platform_init(&p1, &r1, 1);
	KT_ASSERT(memcmp(r0.r_key, r1.r_key, 16) != 0);
	draw(&p0, a, sizeof(a)); /* not a multiple of 8: the tail too */
	draw(&p0, b, sizeof(b));
	draw(&p1, c, sizeof(c));
	KT_ASSERT(memcmp(a, zero, sizeof(a)) != 0);
	KT_ASSERT(memcmp(a + 56, zero, 5) != 0 || memcmp(b + 56, zero, 5) != 0);
	KT_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	KT_ASSERT(memcmp(a, c, sizeof(a)) != 0);
	for (i = 0; i < sizeof(a); i++)
		same += a[i] == b[i];
	KT_ASSERT_CMP(same, <, 10); /* about 61/256 expected */
	/* A new seed gives CPU 0 another key and other bytes. */
	nsk_platform_seed();
	nsk_platform_init(&p1, &r1, 0);
	KT_ASSERT(memcmp(r0.r_key, r1.r_key, 16) != 0);
	draw(&p1, c, sizeof(c));
	KT_ASSERT(memcmp(a, c, sizeof(a)) != 0);
}

KTEST(nsk, clock_and_memory)
{
	struct ns_platform p;
	struct nsk_rand r;
	uint64_t t0, t1, k;
	void *m;

	nsk_platform_seed();
	nsk_platform_init(&p, &r, 0);
	t0 = p.np_now_us(p.np_arg);
	k = arch_nanotime() / 1000;
	t1 = p.np_now_us(p.np_arg);
	KT_ASSERT(t0 <= k && k <= t1);
	m = p.np_alloc(p.np_arg, 2048 + 32);
	KT_ASSERT(m != NULL);
	memset(m, 0x5a, 2048 + 32);
	p.np_free(p.np_arg, m, 2048 + 32); /* kmalloc checks the size */
}
