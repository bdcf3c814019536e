/* netstack/kern/nsk_internal.h: what the kernel glue's files share. */
#ifndef NETSTACK_KERN_NSK_INTERNAL_H
#define NETSTACK_KERN_NSK_INTERNAL_H

#include <stdint.h>
#include "netstack/netstack_platform.h"

/* One instance's keyed generator (nsk_platform.c). */
struct nsk_rand {
	uint8_t r_key[16];
	uint64_t r_ctr;
};

void nsk_platform_seed(void);
void nsk_platform_init(struct ns_platform *p, struct nsk_rand *r, unsigned cpu);

#endif
