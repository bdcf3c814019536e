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

struct nsk_addr;

/* The DHCP client (nsk_dhcp.c): started on CPU 0's instance by
 * nsk_start when no static address is configured. */
int nsk_dhcp_start(void);
/* A new address (0: none) for every instance, and for nsk_wait_addr's
 * waiters (nsk.c). Any thread; the instances apply it on their own. */
void nsk_addr_publish(const struct nsk_addr *a);

void nsk_platform_seed(void);
void nsk_platform_init(struct ns_platform *p, struct nsk_rand *r, unsigned cpu);

/* Instance cpu's protocol-thread port, NULL before nsk_start (nsk.c). */
struct lwkt_port;
struct lwkt_port *nsk_port(unsigned cpu);

#endif
