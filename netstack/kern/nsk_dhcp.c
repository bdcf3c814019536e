/*
 * netstack/kern/nsk_dhcp.c: the DHCP client in the kernel. When the
 * deployment gives no static address (net.ip unset or "dhcp"), the core's
 * client (ns_dhcp.c) runs on CPU 0's instance; replies to port 68 are
 * steered there (nsk.c). Its events run inside the stack on CPU 0's
 * thread: they log the lease and publish the address with
 * nsk_addr_publish, which hands it to the other instances (each applies it
 * on its own thread) and wakes the threads waiting in nsk_wait_addr.
 *
 * Keys:
 *   net.dhcp_probe_ms  spacing of the ARP probes for the offered address
 *                      (RFC 5227; 0: bind without probing) [200]
 *
 * The default spaces the three probes 200 ms apart, not RFC 5227's 1-2 s:
 * with those a guest that boots in 0.1 s waits 4-5 s for its address
 * (measured under QEMU's user networking). A conflict on a virtual
 * network is rare and still caught at 200 ms on any LAN; deployments on
 * shared segments can ask for 1000.
 */
#include <errno.h>
#include "core/config.h"
#include "core/kern.h"
#include "netstack/kern/nsk.h"
#include "netstack/kern/nsk_internal.h"

static int probe_ms = 200;
CFG_INT(net_dhcp_probe_ms, "net.dhcp_probe_ms", probe_ms, 0, 10000,
    "ARP probe spacing before a DHCP lease is used (0: no probe)");

static struct ns_dhcp *client;

#define IP4(a) (a) >> 24, ((a) >> 16) & 255, ((a) >> 8) & 255, (a)&255

static void
log_lease(const char *what, const struct ns_dhcp_lease *l)
{
	log_info("net: dhcp: %s %u.%u.%u.%u/%u gateway %u.%u.%u.%u dns "
		 "%u.%u.%u.%u server %u.%u.%u.%u lease %u s",
	    what, IP4(l->dl_addr), (unsigned)__builtin_popcount(l->dl_netmask),
	    IP4(l->dl_gateway), IP4(l->dl_dns[0]), IP4(l->dl_server),
	    l->dl_lease_s);
}

/* Inside the stack, on CPU 0's thread: log and publish, nothing else. */
static void
dhcp_event(void *arg, enum ns_dhcp_event ev, const struct ns_dhcp_lease *l)
{
	struct nsk_addr a = { 0, 0, 0 };

	(void)arg;
	switch (ev) {
	case NS_DHCP_EV_BOUND:
	case NS_DHCP_EV_RENEWED:
		log_lease(ev == NS_DHCP_EV_BOUND ? "bound" : "renewed", l);
		a.na_addr = l->dl_addr;
		a.na_netmask = l->dl_netmask;
		a.na_gateway = l->dl_gateway;
		break;
	case NS_DHCP_EV_EXPIRED:
		log_warn("net: dhcp: the lease of %u.%u.%u.%u expired; "
			 "address removed",
		    IP4(l->dl_addr));
		break;
	case NS_DHCP_EV_NAK:
		log_warn("net: dhcp: the server refused the address; "
			 "starting over");
		break;
	case NS_DHCP_EV_DECLINED:
		log_warn("net: dhcp: the offered address is in use (ARP); "
			 "declined");
		return; /* no address was held */
	case NS_DHCP_EV_RELEASED:
		log_info("net: dhcp: address released");
		break;
	}
	nsk_addr_publish(&a);
}

static void
start_on(struct ns *ns, unsigned cpu, void *arg)
{
	struct ns_dhcp_config cfg = { 0 };
	int *err = arg;

	(void)cpu;
	cfg.dc_event = dhcp_event;
	if (probe_ms == 0)
		cfg.dc_flags |= NS_DHCPF_NO_PROBE;
	else
		cfg.dc_probe_ms = (uint32_t)probe_ms;
	*err = ns_dhcp_start(ns, &cfg, &client);
}

int
nsk_dhcp_start(void)
{
	int err = 0, rc;

	/* Logged first: the lease may be bound before nsk_call returns. */
	log_info("net: dhcp: asking for an address");
	if ((rc = nsk_call(0, start_on, &err)) != 0)
		return rc;
	if (err != 0)
		log_err("net: dhcp: the client did not start (%d)", err);
	return err;
}
