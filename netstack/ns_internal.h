/*
 * ns_internal.h: what the core's files share and nothing outside sees:
 * the instance, timers, checksums, hashes and each layer's entry points.
 */
#ifndef NETSTACK_NS_INTERNAL_H
#define NETSTACK_NS_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/queue.h"
#include "netstack/netstack.h"
#include "netstack/ns_wire.h"

/* ---- timers: one wheel of 1 ms slots per instance ---- */

struct ns;

struct ns_timer {
	TAILQ_ENTRY(ns_timer) tm_link;
	uint64_t tm_when; /* microseconds */
	void (*tm_fn)(struct ns *ns, void *arg);
	void *tm_arg;
	int tm_slot; /* -1: not armed; NS_WHEEL_SLOTS: on the expired list */
};
TAILQ_HEAD(ns_timerq, ns_timer);

#define NS_WHEEL_SLOTS 256

void ns_timer_init(struct ns_timer *tm, void (*fn)(struct ns *, void *),
    void *arg);
void ns_timer_arm(struct ns *ns, struct ns_timer *tm, uint64_t when);
void ns_timer_stop(struct ns *ns, struct ns_timer *tm);

static inline bool
ns_timer_armed(const struct ns_timer *tm)
{
	return tm->tm_slot >= 0;
}

/* ---- ARP cache ---- */

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_REACHABLE };

#define ARP_HOLD_MAX 4 /* packets queued while resolving */

struct arp_entry {
	uint32_t ae_ip;
	uint8_t ae_mac[ETH_ALEN];
	uint8_t ae_state;
	uint8_t ae_tries;
	uint64_t ae_expire; /* REACHABLE: until; INCOMPLETE: next try */
	uint64_t ae_used;   /* for eviction */
	struct nb *ae_hold; /* IP packets waiting, by nb_nextpkt */
	uint32_t ae_nhold;
};

/* ---- IPv4 reassembly ---- */

struct ip_fragq {
	TAILQ_ENTRY(ip_fragq) fq_link; /* oldest first */
	uint32_t fq_src, fq_dst;
	uint16_t fq_id;
	uint8_t fq_proto;
	uint8_t fq_have_last;
	uint32_t fq_total;    /* payload length, known with the last */
	uint32_t fq_got;      /* payload bytes held */
	uint32_t fq_truesize; /* memory held */
	uint64_t fq_expire;
	struct nb *fq_frags; /* sorted by offset (nb_seq), by nb_nextpkt */
	struct nb *fq_first; /* offset 0 fragment's header, for ICMP */
};
TAILQ_HEAD(ip_fragqs, ip_fragq);

/* ---- UDP ---- */

struct ns_udp {
	TAILQ_ENTRY(ns_udp) u_link;
	struct ns *u_ns;
	uint32_t u_laddr;
	uint16_t u_lport;
	uint32_t u_rcvq_bytes;		 /* truesize queued */
	struct nb *u_rcvq, *u_rcvq_tail; /* IP datagrams, by nb_nextpkt */
	ns_upcall_t u_upcall;
	void *u_upcall_arg;
};
TAILQ_HEAD(ns_udpq, ns_udp);

/* ---- TCP (see ns_tcp.h for the control block) ---- */

struct ns_tcp;
struct tcp_syn;
TAILQ_HEAD(ns_tcpq, ns_tcp);
TAILQ_HEAD(tcp_synq, tcp_syn);

/* ---- the instance ---- */

struct ns {
	const struct ns_platform *ns_plat;
	struct netif *ns_nif;
	struct ns_config ns_cfg; /* with the defaults filled in */
	uint64_t ns_now;	 /* us, read at each entry point */
	struct nb_pool ns_pool;
	struct ns_stats ns_stats;
	uint8_t ns_rss_key[40];
	uint8_t ns_isn_key[16];	   /* RFC 6528 F() */
	uint8_t ns_hash_key[16];   /* table hashes, TS offsets */
	uint8_t ns_cookie_key[16]; /* SYN cookies */

	/* Timers. */
	struct ns_timerq ns_wheel[NS_WHEEL_SLOTS];
	struct ns_timerq ns_expired;
	uint64_t ns_wheel_ms; /* last ms processed */
	uint32_t ns_ntimers;

	/* ARP. */
	struct arp_entry *ns_arp;
	uint32_t ns_narp;
	struct ns_timer ns_arp_timer;

	/* IPv4. */
	uint16_t ns_ip_id;
	struct ip_fragqs ns_fragqs;
	uint32_t ns_nfragq;
	uint32_t ns_frag_bytes;
	struct ns_timer ns_frag_timer;

	/* ICMP error rate limit: a token bucket. */
	uint32_t ns_icmp_tokens;
	uint64_t ns_icmp_refill;

	/* UDP. */
	struct ns_udpq ns_udps;
	uint16_t ns_udp_port; /* next ephemeral */

	/* DHCP: the client, when one runs (ns_dhcp.c). */
	struct ns_dhcp *ns_dhcp;

	/* TCP. */
	struct ns_tcpq *ns_tcp_hash; /* established and others, by tuple */
	uint32_t ns_tcp_hmask;
	struct ns_tcpq ns_tcp_listen;
	struct ns_tcpq ns_tcp_tw;  /* TIME-WAIT, oldest first */
	struct ns_tcpq ns_tcp_all; /* every control block */
	uint32_t ns_tcp_n;	   /* control blocks, all states */
	uint32_t ns_tcp_ntw;
	struct tcp_synq *ns_syn_hash;
	uint32_t ns_syn_hmask;
	uint32_t ns_nsyn;
	uint64_t ns_cookie_until; /* cookies were sent; accept them till */
	uint16_t ns_tcp_port;	  /* next ephemeral */
};

/* ---- helpers ---- */

/* Each entry point reads the clock first. */
void ns_enter(struct ns *ns);
void ns_log(struct ns *ns, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ns_panic(struct ns *ns, const char *msg) __attribute__((noreturn));

#define NS_ASSERT(ns, c)                                \
	do {                                            \
		if (!(c))                               \
			ns_panic((ns),                  \
			    "netstack: assertion \"" #c \
			    "\" failed at " __FILE__);  \
	} while (0)

void *ns_zalloc(struct ns *ns, size_t size);
void ns_free(struct ns *ns, void *p, size_t size);
void ns_random(struct ns *ns, void *buf, size_t len);
uint32_t ns_random32(struct ns *ns);

static inline uint32_t
ns_now_ms(const struct ns *ns)
{
	return (uint32_t)(ns->ns_now / 1000);
}

static inline void
ns_upcall(ns_upcall_t fn, void *arg, unsigned ev)
{
	if (fn != NULL && ev != 0)
		fn(arg, ev);
}

/* Our address, or a broadcast we accept. */
bool ns_ip_is_local(const struct ns *ns, uint32_t a);
bool ns_ip_is_bcast(const struct ns *ns, uint32_t a);

/* ---- checksums (ns_cksum.c) ---- */

/* Adds len bytes at p to a running 32-bit sum (odd: byte offset parity). */
uint32_t ns_sum_add(uint32_t sum, const void *p, size_t len, bool odd);
uint16_t ns_sum_fold(uint32_t sum);
/* The complemented checksum of a buffer. */
uint16_t ns_cksum(const void *p, size_t len);
/* Sum of [off, off+len) of a chain (not complemented, not folded). */
uint32_t ns_sum_chain(const struct nb *chain, uint32_t off, uint32_t len,
    uint32_t sum);
/* Pseudo-header sum, not folded (addresses in host order). */
uint32_t ns_sum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len);
/* RFC 1624: the new checksum when a 16-bit word changes from old to new. */
uint16_t ns_cksum_adjust(uint16_t cksum, uint16_t old, uint16_t new);

/* ---- hashes (ns_hash.c) ---- */

uint64_t ns_siphash(const uint8_t key[16], const void *data, size_t len);
uint32_t ns_tuple_hash(const uint8_t key[16], uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport);

/* ---- layers ---- */

void ns_eth_input(struct ns *ns, struct nb *frame);
/* Sends an IP packet to the next hop; takes the chain. */
int ns_eth_output_ip(struct ns *ns, struct nb *pkt, uint32_t nexthop);
int ns_eth_output(struct ns *ns, struct nb *pkt, const uint8_t *dst,
    uint16_t type);

int ns_arp_init(struct ns *ns);
void ns_arp_fini(struct ns *ns);
void ns_arp_input(struct ns *ns, struct nb *pkt);
/* Takes the packet: sent now, queued while resolving, or dropped. */
int ns_arp_resolve(struct ns *ns, struct nb *pkt, uint32_t nexthop);
/* ARP input tells the DHCP client what it saw (RFC 5227 probing). */
void ns_dhcp_arp_input(struct ns *ns, uint8_t op, uint32_t spa, uint32_t tpa);

struct ip_info {
	uint32_t ii_src, ii_dst;
	uint8_t ii_proto;
	uint8_t ii_ttl;
	uint8_t ii_tos;
	uint16_t ii_hlen; /* header bytes (still in front of the payload) */
	uint16_t ii_len;  /* payload bytes after the header */
	bool ii_bcast;	  /* to a broadcast address */
};

void ns_ip_init(struct ns *ns);
void ns_ip_fini(struct ns *ns);
void ns_ip_input(struct ns *ns, struct nb *pkt);
#define NS_IPO_DF 0x1
/* Prepends the IP header to an L4 packet and sends it; takes the chain. */
int ns_ip_output(struct ns *ns, struct nb *pkt, uint32_t src, uint32_t dst,
    uint8_t proto, unsigned flags);
/* The source address for a destination (our address); 0 if none. */
uint32_t ns_ip_source(const struct ns *ns, uint32_t dst);
/* The MTU towards dst. */
uint32_t ns_ip_mtu(const struct ns *ns, uint32_t dst);

void ns_icmp_input(struct ns *ns, struct nb *pkt, const struct ip_info *ii);
/* Bytes of an offending packet an ICMP error quotes: header and 8. */
#define ICMP_QUOTE_MAX (IP_HLEN_MAX + 8)
/*
 * Sends an ICMP error about a packet that came in; pkt starts with its
 * IP header (ii describes it). Applies RFC 1122's rules (never about an
 * error, a broadcast, a fragment past the first) and the rate limit.
 */
void ns_icmp_error(struct ns *ns, const struct nb *pkt,
    const struct ip_info *ii, uint8_t type, uint8_t code, uint16_t mtu);

void ns_udp_input(struct ns *ns, struct nb *pkt, const struct ip_info *ii);
void ns_udp_fini(struct ns *ns);
void ns_udp_ctlinput(struct ns *ns, uint8_t type, uint8_t code,
    const struct ip_hdr *ip, const uint8_t *l4, uint32_t l4len);

int ns_tcp_init(struct ns *ns);
void ns_tcp_fini(struct ns *ns);
void ns_tcp_input(struct ns *ns, struct nb *pkt, const struct ip_info *ii);
void ns_tcp_ctlinput(struct ns *ns, uint8_t type, uint8_t code, uint16_t mtu,
    const struct ip_hdr *ip, const uint8_t *l4, uint32_t l4len);

/* Sequence-space comparisons (RFC 9293 3.4). */
#define SEQ_LT(a, b)  ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)  ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))

#define NS_MIN(a, b)  ((a) < (b) ? (a) : (b))
#define NS_MAX(a, b)  ((a) > (b) ? (a) : (b))

#endif /* NETSTACK_NS_INTERNAL_H */
