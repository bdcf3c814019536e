/*
 * netstack/kern/nsk_platform.c: the core's platform table in the kernel
 * (netstack_platform.h): the clock, kmalloc, a keyed random generator,
 * the log and panic.
 *
 * Randomness: ISNs, SYN-cookie and hash keys and timestamp offsets come
 * from np_random. It is SipHash-2-4 in counter mode (a PRF: each output
 * block is the hash of a counter under a secret 128-bit key), one
 * generator per instance so no lock is needed; each instance's key is
 * derived from one master key by SipHash of its CPU number. The master
 * key is 32 bytes from virtio-rng mixed with RDRAND (arch_random_u64,
 * which falls back to the TSC when the CPU has no RDRAND). RDSEED is not
 * used: arch/ does not expose it, and RDRAND is reseeded from the same
 * conditioner. Without virtio-rng the keys are only as good as RDRAND:
 * nsk_platform_seed says so in the log.
 *
 * Interface: nsk_platform_seed() once, in thread context (vrng_read
 * blocks), before nsk_platform_init for any CPU.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include "arch/arch.h"
#include "core/kern.h"
#include "core/kmalloc.h"
#include "netstack/kern/nsk_internal.h"
#include "netstack/ns_internal.h"
#include "virtio/virtio.h"

static uint8_t master_key[16];
static bool seeded;

void
nsk_platform_seed(void)
{
	uint64_t buf[4] = { 0 };
	uint8_t mix[48];
	int err = -ENODEV, i;

	if (vrng_present())
		err = vrng_read(buf, sizeof(buf));
	if (err != 0)
		log_warn("net: no entropy from virtio-rng (%d); keys come from "
			 "RDRAND or the TSC only",
		    err);
	memcpy(mix, buf, 32);
	for (i = 0; i < 2; i++) {
		uint64_t r = arch_random_u64();
		memcpy(mix + 32 + 8 * i, &r, 8);
	}
	/* Two SipHashes under two halves of the input give the key. */
	buf[0] = ns_siphash(mix, mix + 16, 32);
	buf[1] = ns_siphash(mix + 16, mix, 48);
	memcpy(master_key, buf, 16);
	memset(mix, 0, sizeof(mix));
	memset(buf, 0, sizeof(buf));
	seeded = true;
}

static uint64_t
k_now_us(void *arg)
{
	return arch_nanotime() / 1000;
}

static void *
k_alloc(void *arg, size_t size)
{
	return kmalloc(size, 0);
}

static void
k_free(void *arg, void *p, size_t size)
{
	kfree(p, size);
}

static void
k_random(void *arg, void *buf, size_t len)
{
	struct nsk_rand *r = arg;
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t v = ns_siphash(r->r_key, &r->r_ctr, sizeof(r->r_ctr));
		size_t n = len < 8 ? len : 8;
		r->r_ctr++;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}

static void
k_log(void *arg, int level, const char *line)
{
	klog(level, "net: %s", line);
}

static void
k_panic(void *arg, const char *msg)
{
	panic("net: %s", msg);
}

void
nsk_platform_init(struct ns_platform *p, struct nsk_rand *r, unsigned cpu)
{
	uint64_t k[2];
	uint32_t c[2] = { cpu, 0x6e736b72 };

	KKASSERT(seeded);
	k[0] = ns_siphash(master_key, c, sizeof(c));
	c[1]++;
	k[1] = ns_siphash(master_key, c, sizeof(c));
	memcpy(r->r_key, k, 16);
	r->r_ctr = 0;
	memset(p, 0, sizeof(*p));
	p->np_arg = r;
	p->np_now_us = k_now_us;
	p->np_alloc = k_alloc;
	p->np_free = k_free;
	p->np_random = k_random;
	p->np_log = k_log;
	p->np_panic = k_panic;
}
