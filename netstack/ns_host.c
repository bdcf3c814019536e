/*
 * ns_host.c: the netstack platform on a POSIX host. See ns_host.h. The
 * only file of the netstack library that uses stdio and malloc; the kernel
 * supplies its own platform instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/ns_host.h"

#define NH_MAGIC 0x6e65746d656d3031ull /* "netmem01" */

struct nh_hdr {
	uint64_t h_magic;
	uint64_t h_size;
};

static uint64_t
nh_now(void *arg)
{
	return ((struct ns_host *)arg)->nh_now_us;
}

static void *
nh_alloc(void *arg, size_t size)
{
	struct ns_host *h = arg;
	struct nh_hdr *p;

	if (h->nh_fail_all ||
	    (h->nh_fail_after != 0 && --h->nh_fail_after == 0)) {
		h->nh_alloc_fails++;
		return NULL;
	}
	if ((p = malloc(sizeof(*p) + size)) == NULL)
		return NULL;
	p->h_magic = NH_MAGIC;
	p->h_size = size;
	h->nh_allocs++;
	h->nh_bytes += size;
	if (h->nh_bytes > h->nh_peak_bytes)
		h->nh_peak_bytes = h->nh_bytes;
	return p + 1;
}

static void
nh_panic(void *arg, const char *msg)
{
	fprintf(stderr, "netstack panic: %s\n", msg);
	abort();
}

static void
nh_free(void *arg, void *ptr, size_t size)
{
	struct ns_host *h = arg;
	struct nh_hdr *p = (struct nh_hdr *)ptr - 1;

	if (p->h_magic != NH_MAGIC || p->h_size != size)
		nh_panic(arg, "ns_host: free of a bad pointer or wrong size");
	p->h_magic = 0;
	h->nh_frees++;
	h->nh_bytes -= size;
	free(p);
}

uint64_t
ns_host_rand(struct ns_host *h)
{
	/* xorshift64* */
	h->nh_rng ^= h->nh_rng >> 12;
	h->nh_rng ^= h->nh_rng << 25;
	h->nh_rng ^= h->nh_rng >> 27;
	return h->nh_rng * 0x2545f4914f6cdd1dull;
}

static void
nh_random(void *arg, void *buf, size_t len)
{
	struct ns_host *h = arg;
	uint8_t *b = buf;
	uint64_t v;
	size_t k;

	while (len > 0) {
		v = ns_host_rand(h);
		k = len < 8 ? len : 8;
		memcpy(b, &v, k);
		b += k;
		len -= k;
	}
}

static void
nh_log(void *arg, int level, const char *line)
{
	struct ns_host *h = arg;

	if (level < 0 || level > 3)
		level = 3;
	h->nh_log_count[level]++;
	snprintf(h->nh_last_log, sizeof(h->nh_last_log), "%s", line);
	if (level <= h->nh_print_level)
		fprintf(stderr, "netstack: %s\n", line);
}

void
ns_host_init(struct ns_host *h, uint64_t seed)
{
	memset(h, 0, sizeof(*h));
	h->nh_plat.np_arg = h;
	h->nh_plat.np_now_us = nh_now;
	h->nh_plat.np_alloc = nh_alloc;
	h->nh_plat.np_free = nh_free;
	h->nh_plat.np_random = nh_random;
	h->nh_plat.np_log = nh_log;
	h->nh_plat.np_panic = nh_panic;
	h->nh_rng = seed * 0x9e3779b97f4a7c15ull + 0x1234567;
	if (h->nh_rng == 0)
		h->nh_rng = 1;
	h->nh_now_us = 1000000; /* not zero: 0 means "off" in places */
	h->nh_print_level = -1;
	if (getenv("NS_LOG") != NULL)
		h->nh_print_level = atoi(getenv("NS_LOG"));
}

uint64_t
ns_host_outstanding(const struct ns_host *h)
{
	return h->nh_allocs - h->nh_frees;
}
