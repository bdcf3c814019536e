/*
 * ns_host.h: the netstack platform on a POSIX host, for unit tests, the
 * fuzzer and host tools.
 *
 *  - Time is a number the test sets (nh_now_us); nothing moves it alone.
 *  - Memory is malloc with a header that checks the size given to free,
 *    counts bytes and calls, and fails on purpose: the next
 *    nh_fail_after-th allocation (1 = the next one), or every allocation
 *    while nh_fail_all is set.
 *  - Randomness is a seeded xorshift generator: runs repeat exactly.
 *  - The log keeps the last line and a count per level, and prints lines
 *    at or below nh_print_level (-1: none) to stderr.
 *  - A panic prints and aborts.
 *
 * Interface:
 *  - ns_host_init before use; the struct must outlive every instance made
 *    with &h->nh_plat. ns_host_outstanding() is 0 when every allocation
 *    was freed.
 */
#ifndef NETSTACK_NS_HOST_H
#define NETSTACK_NS_HOST_H

#include <stdint.h>

#include "netstack/netstack_platform.h"

struct ns_host {
	struct ns_platform nh_plat;
	uint64_t nh_now_us;
	uint64_t nh_rng;
	uint64_t nh_allocs;
	uint64_t nh_frees;
	uint64_t nh_bytes; /* outstanding */
	uint64_t nh_peak_bytes;
	uint64_t nh_fail_after; /* 0: never */
	int nh_fail_all;
	uint64_t nh_alloc_fails;
	int nh_print_level;
	char nh_last_log[256];
	uint64_t nh_log_count[4];
};

void ns_host_init(struct ns_host *h, uint64_t seed);
uint64_t ns_host_outstanding(const struct ns_host *h);
uint64_t ns_host_rand(struct ns_host *h);

#endif /* NETSTACK_NS_HOST_H */
