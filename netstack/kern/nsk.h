/*
 * netstack/kern/nsk.h: the protocol core in the kernel: one protocol
 * thread per CPU, each running one struct ns over the virtio-net device
 * (DragonFly's netisr threads), the platform table the core needs, and
 * the static IPv4 configuration from the deployment config.
 *
 * How it works (netstack/DESIGN.md, "In the kernel", has the decisions):
 *  - The driver's input callback (its thread) steers each frame with
 *    ns_steer to the instance that owns it (ARP is copied to every
 *    instance) and queues it on that CPU's inbox; the first frame into an
 *    empty inbox sends the protocol thread a message. The thread wraps the
 *    netbuf in a segment without copying (nb_get_ext) and calls ns_input.
 *  - Output gathers the chain's segments into a netbuf the driver puts on
 *    the ring as a descriptor chain (no copy); the driver's completion
 *    hands the chain back to its instance's inbox, and the owner frees it.
 *  - Timers: the thread arms a callout at ns_next_timer(); the callout
 *    sends the thread a message, the thread calls ns_tick.
 *  - Readiness upcalls run inside the stack and may not call back into
 *    it: they queue a struct nsk_work (nsk_defer), which the thread runs
 *    once the stack has returned.
 *
 * Configuration keys (deployment config or command line):
 *   net.ip = A.B.C.D/LEN   this host's address and prefix length
 *   net.gw = A.B.C.D       the default gateway (optional; inside the
 *                          subnet, not the address itself)
 * A malformed or impossible value is reported at nsk_start and the stack
 * is not started (-EINVAL). With net.ip unset or "dhcp" the address comes
 * from DHCP (nsk_dhcp.c; net.dhcp_probe_ms): wait for it with
 * nsk_wait_addr.
 *
 * Interface:
 *  - nsk_start() once, from the application's thread after boot; 0,
 *    -ENODEV (no network interface), -EINVAL (bad configuration) or
 *    -ENOMEM.
 *  - Functions of the core (netstack.h) run only on their instance's
 *    thread: reach it with nsk_call (one instance) or nsk_call_all.
 *  - nsk_defer and nsk_self are for code on a protocol thread only.
 */
#ifndef NETSTACK_KERN_NSK_H
#define NETSTACK_KERN_NSK_H

#include <stdbool.h>
#include <stdint.h>
#include "core/queue.h"
#include "netstack/netstack.h"

/* Work a protocol thread runs after the stack returns (from upcalls). */
struct nsk_work {
	TAILQ_ENTRY(nsk_work) w_link;
	void (*w_fn)(struct nsk_work *w);
	bool w_queued;
};

/* Counters of the glue, per instance (nsk_get_stats sums them). */
struct nsk_stats {
	uint64_t ks_rx_frames;	   /* frames handed to ns_input */
	uint64_t ks_rx_gso;	   /* of which coalesced (VNB_GSO_TCP4) */
	uint64_t ks_rx_csum_ok;	   /* checksum vouched for by the device */
	uint64_t ks_rx_nobufs;	   /* dropped: no segment header */
	uint64_t ks_rx_arp_copies; /* ARP frames copied to other CPUs */
	uint64_t ks_tx_gathered;   /* frames sent as descriptor chains */
	uint64_t ks_tx_linear;	   /* frames copied into one buffer */
	uint64_t ks_tx_tso;	   /* frames with VNB_GSO_TCP4 */
	uint64_t ks_tx_csum;	   /* frames with VNB_NEEDS_CSUM */
	uint64_t ks_tx_errors;	   /* refused by the driver */
	uint64_t ks_tx_done;	   /* chains handed back and freed */
	uint64_t ks_tx_queued;	   /* held back while the driver was full */
	uint64_t ks_tx_qdrops;	   /* dropped: that queue was full too */
	uint64_t ks_msgs;	   /* messages the thread received */
	uint64_t ks_ticks;	   /* timer messages */
	uint64_t ks_callouts;	   /* callouts that fired */
	uint64_t ks_callouts_busy; /* ... with the timer message in flight */
};

struct nsk_addr {
	uint32_t na_addr; /* host byte order */
	uint32_t na_netmask;
	uint32_t na_gateway; /* 0: none */
};

int nsk_start(void);
unsigned nsk_ncpu(void);
/* Runs fn(ns, cpu, arg) on instance cpu's thread and waits for it. */
int nsk_call(unsigned cpu, void (*fn)(struct ns *ns, unsigned cpu, void *arg),
    void *arg);
/* The same on every instance in turn; the first error, or 0. */
int nsk_call_all(void (*fn)(struct ns *ns, unsigned cpu, void *arg), void *arg);
/* On a protocol thread: its instance and CPU. */
struct ns *nsk_self(unsigned *cpu);
void nsk_work_init(struct nsk_work *w, void (*fn)(struct nsk_work *w));
/* On a protocol thread: runs w once the current input is processed. */
void nsk_defer(struct nsk_work *w);
/* On a protocol thread: takes w off the queue if it is on it. */
void nsk_cancel(struct nsk_work *w);
/* Sums over the instances (call from any thread; approximate). */
void nsk_get_stats(struct nsk_stats *st);
/* The core's counters (struct ns_stats) summed over the instances, each
 * read on its own thread (an application thread's call). */
void nsk_get_ns_stats(struct ns_stats *st);
/* Logs each instance's timer and inbox state (for hang reports). */
void nsk_dump(void);
/* The address in use (0 while DHCP has none). */
void nsk_get_addr(struct nsk_addr *a);
/* Waits until the stack has an address (at once with a static one):
 * 0, or -ETIMEDOUT. */
int nsk_wait_addr(uint64_t timeout_ns);

/*
 * The configuration parsers (portable, tested on the host too): 0, or
 * -EINVAL with *why saying what is wrong.
 */
int nsk_parse_ip4(const char *s, uint32_t *addr, const char **why);
int nsk_parse_cidr(const char *s, uint32_t *addr, uint32_t *netmask,
    const char **why);
int nsk_check_addr(const struct nsk_addr *a, const char **why_ip,
    const char **why_gw);

#endif /* NETSTACK_KERN_NSK_H */
