/*
 * netstack.h: the protocol core's public interface: Ethernet, ARP, IPv4,
 * ICMP, UDP and TCP for one instance.
 *
 * An instance (struct ns) is single-threaded and owns everything it uses:
 * its buffer pool, ARP cache, fragment queues, sockets, timers and
 * counters. Its inputs are explicit: a frame (ns_input), the passing of
 * time (ns_tick) and calls from the application (ns_udp_*, ns_tcp_*). Its
 * outputs are frames (through the netif's transmit) and readiness events
 * (through each socket's upcall). In the kernel there is one instance per
 * CPU, run by that CPU's protocol thread; a connection belongs to the
 * instance its 4-tuple hashes to (ns_rss_hash4 modulo the CPU count, the
 * Toeplitz hash NICs compute), so TCP needs no locks, as in DragonFly's
 * netisr. On the host, tests run instances side by side.
 *
 * Interface:
 *  - Every function runs on the instance's thread, never two at a time
 *    on one instance. Upcalls run inside the stack: they may record the
 *    events or wake a thread, but must not call back into the instance.
 *  - Addresses and ports are in host byte order (NS_IP4 builds one).
 *  - Functions return 0 (or a byte count) or a negative errno. A frame
 *    given to ns_input belongs to the stack; bad frames are counted in
 *    struct ns_stats and dropped, never trusted.
 *  - ns_tick runs the timers that are due; call it at ns_next_timer() at
 *    the latest (calling it more often is harmless).
 *  - A socket handle stays valid until ns_udp_close, ns_tcp_close or
 *    ns_tcp_abort, even after the connection died (its calls then return
 *    the error). After close the stack finishes the connection alone.
 *  - ns_destroy releases everything; the tests check the pool is empty.
 */
#ifndef NETSTACK_NETSTACK_H
#define NETSTACK_NETSTACK_H

#include <stddef.h>
#include <stdint.h>

#include "netstack/nb.h"
#include "netstack/netif.h"
#include "netstack/netstack_platform.h"

#define NS_IP4(a, b, c, d)                                                \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | \
	    (uint32_t)(d))

struct ns;
struct ns_udp;
struct ns_tcp;

/* ---- configuration ---- */

struct ns_config {
	uint32_t nc_addr; /* 0: unconfigured (DHCP later) */
	uint32_t nc_netmask;
	uint32_t nc_gateway;
	uint32_t nc_flags; /* NS_CF_* */
	unsigned nc_cpu;   /* this instance, of nc_ncpu */
	unsigned nc_ncpu;
	const uint8_t *nc_rss_key; /* 40 bytes; NULL: ns_rss_default_key */
	/* Gets an IP datagram that belongs to another instance (after
	 * reassembly); NULL: handle it here. Takes the chain. */
	void (*nc_foreign)(void *arg, struct nb *dgram);
	void *nc_foreign_arg;
	/* Limits; 0 means the default in brackets. */
	uint32_t nc_max_hdrs;	    /* buffer headers [8192] */
	uint32_t nc_max_clusters;   /* 2 KiB clusters [4096] */
	uint32_t nc_arp_entries;    /* ARP cache [64] */
	uint32_t nc_arp_ttl_ms;	    /* reachable entry lifetime [300000] */
	uint32_t nc_frag_bytes;	    /* reassembly memory [262144] */
	uint32_t nc_frag_dgrams;    /* datagrams in reassembly [32] */
	uint32_t nc_frag_ttl_ms;    /* reassembly time [30000] */
	uint32_t nc_icmp_rate;	    /* ICMP errors per second [100] */
	uint32_t nc_tcp_conns;	    /* TCP connections [4096] */
	uint32_t nc_tcp_timewait;   /* of which in TIME-WAIT [1024] */
	uint32_t nc_syncache;	    /* half-open connections [512] */
	uint32_t nc_tcp_sndbuf;	    /* per connection [262144] */
	uint32_t nc_tcp_rcvbuf;	    /* per connection [262144] */
	uint32_t nc_tcp_min_rto_ms; /* [200]; RFC 6298 says 1000 */
	uint32_t nc_tcp_msl_ms;	    /* TIME-WAIT is 2 MSL [30000] */
	uint32_t nc_tcp_delack_ms;  /* delayed ACK [40] */
	uint32_t nc_udp_rcvbuf;	    /* per socket [65536] */
};

#define NS_CF_NO_SYNCOOKIES 0x01 /* drop SYNs when the backlog is full */
#define NS_CF_NO_SACK	    0x02
#define NS_CF_NO_TS	    0x04
#define NS_CF_NO_WSCALE	    0x08
#define NS_CF_NEWRENO	    0x10 /* default congestion control NewReno */
#define NS_CF_SYNCOOKIES    0x20 /* always answer SYNs with cookies */

int ns_create(const struct ns_platform *plat, struct netif *nif,
    const struct ns_config *cfg, struct ns **nsp);
/* Returns buffers still in use after everything is released (0). */
uint32_t ns_destroy(struct ns *ns);
int ns_set_addr(struct ns *ns, uint32_t addr, uint32_t netmask,
    uint32_t gateway);

/* ---- input, time, output ---- */

void ns_input(struct ns *ns, struct nb *frame);
/* Copies a frame into a buffer first; -ENOBUFS when out. */
int ns_input_copy(struct ns *ns, const void *frame, size_t len);
void ns_tick(struct ns *ns);
/* Microseconds (platform clock) of the next timer, UINT64_MAX if none. */
uint64_t ns_next_timer(const struct ns *ns);
struct nb_pool *ns_pool(struct ns *ns);

/* ---- steering: which instance owns a frame ---- */

extern const uint8_t ns_rss_default_key[40];
uint32_t ns_toeplitz(const uint8_t *key, size_t keylen, const void *data,
    size_t len);
/* The Toeplitz hash of a received IPv4 TCP/UDP packet's 4-tuple. */
uint32_t ns_rss_hash4(const uint8_t *key, uint32_t saddr, uint32_t daddr,
    uint16_t sport, uint16_t dport);
#define NS_STEER_ALL (-1) /* every instance (ARP) */
/* The instance for a received frame: 0..ncpu-1 or NS_STEER_ALL. */
int ns_steer(const uint8_t *key, unsigned ncpu, const void *frame, size_t len);

/* ---- readiness events ---- */

#define NS_EV_READ  0x01 /* data, EOF or a connection to accept */
#define NS_EV_WRITE 0x02 /* room to send; a connect finished */
#define NS_EV_ERR   0x04 /* an error is pending */
#define NS_EV_HUP   0x08 /* the connection is closed both ways */

typedef void (*ns_upcall_t)(void *arg, unsigned events);

/* ---- UDP ---- */

int ns_udp_open(struct ns *ns, struct ns_udp **up);
/* Port 0 picks an ephemeral port. */
int ns_udp_bind(struct ns_udp *u, uint32_t addr, uint16_t port);
int ns_udp_sendto(struct ns_udp *u, uint32_t dst, uint16_t dport,
    const void *buf, size_t len);
/* One datagram: its length (truncated to len), or -EAGAIN. */
int ns_udp_recvfrom(struct ns_udp *u, void *buf, size_t len, uint32_t *src,
    uint16_t *sport);
/* The same, leaving the datagram queued (MSG_PEEK). */
int ns_udp_peek(struct ns_udp *u, void *buf, size_t len, uint32_t *src,
    uint16_t *sport);
void ns_udp_set_upcall(struct ns_udp *u, ns_upcall_t fn, void *arg);
unsigned ns_udp_events(const struct ns_udp *u);
void ns_udp_close(struct ns_udp *u);

/* ---- TCP ---- */

enum ns_tcp_state {
	NS_TCPS_CLOSED,
	NS_TCPS_LISTEN,
	NS_TCPS_SYN_SENT,
	NS_TCPS_SYN_RECEIVED,
	NS_TCPS_ESTABLISHED,
	NS_TCPS_CLOSE_WAIT,
	NS_TCPS_FIN_WAIT_1,
	NS_TCPS_CLOSING,
	NS_TCPS_LAST_ACK,
	NS_TCPS_FIN_WAIT_2,
	NS_TCPS_TIME_WAIT,
};

int ns_tcp_listen(struct ns *ns, uint32_t addr, uint16_t port, unsigned backlog,
    struct ns_tcp **lp);
/* -EAGAIN when no connection is ready. */
int ns_tcp_accept(struct ns_tcp *l, struct ns_tcp **cp);
/* Starts an active open; NS_EV_WRITE (or NS_EV_ERR) when it is done. */
int ns_tcp_connect(struct ns *ns, uint32_t dst, uint16_t dport,
    struct ns_tcp **cp);
/* Bytes queued (maybe fewer than len), -EAGAIN when the buffer is full. */
long ns_tcp_send(struct ns_tcp *c, const void *buf, size_t len);
/* Queues a reference to len bytes of ext's storage, all or -EAGAIN. */
long ns_tcp_send_ext(struct ns_tcp *c, struct nb_ext *ext, const void *data,
    size_t len);
/* Bytes read, 0 at end of stream, -EAGAIN when none yet. */
long ns_tcp_recv(struct ns_tcp *c, void *buf, size_t len);
/* The same, leaving the data queued (MSG_PEEK). */
long ns_tcp_peek(struct ns_tcp *c, void *buf, size_t len);
#define NS_SHUT_WR 1
int ns_tcp_shutdown(struct ns_tcp *c, int how);
int ns_tcp_close(struct ns_tcp *c);
void ns_tcp_abort(struct ns_tcp *c);
void ns_tcp_set_upcall(struct ns_tcp *c, ns_upcall_t fn, void *arg);
unsigned ns_tcp_events(const struct ns_tcp *c);
enum ns_tcp_state ns_tcp_state(const struct ns_tcp *c);
/* The pending error (negative errno) or 0; reading clears it. */
int ns_tcp_error(struct ns_tcp *c);

#define NS_TCP_NODELAY	 1 /* no Nagle */
#define NS_TCP_KEEPALIVE 2 /* on/off */
#define NS_TCP_KEEPIDLE	 3 /* ms idle before the first probe */
#define NS_TCP_KEEPINTVL 4 /* ms between probes */
#define NS_TCP_KEEPCNT	 5 /* unanswered probes before giving up */
#define NS_TCP_SNDBUF	 6
#define NS_TCP_RCVBUF	 7 /* before connect/listen only */
#define NS_TCP_CC	 8 /* NS_CC_* */
int ns_tcp_setopt(struct ns_tcp *c, int opt, uint32_t val);

#define NS_CC_NEWRENO 0
#define NS_CC_CUBIC   1

struct ns_tcp_info {
	enum ns_tcp_state ti_state;
	uint32_t ti_snd_mss; /* payload per segment we send */
	uint32_t ti_rcv_mss;
	uint32_t ti_cwnd;     /* bytes */
	uint32_t ti_ssthresh; /* bytes */
	uint32_t ti_snd_wnd;  /* peer's window, bytes */
	uint32_t ti_rcv_wnd;  /* ours */
	uint32_t ti_srtt_us;
	uint32_t ti_rttvar_us;
	uint32_t ti_rto_us;
	uint8_t ti_snd_wscale;
	uint8_t ti_rcv_wscale;
	uint8_t ti_ts;	 /* timestamps in use */
	uint8_t ti_sack; /* SACK in use */
	uint8_t ti_cc;	 /* NS_CC_* */
	uint32_t ti_unacked;
	uint64_t ti_rexmits; /* segments retransmitted */
	uint64_t ti_timeouts;
	uint64_t ti_fast_rexmits;
	uint64_t ti_sack_rexmits;
	uint64_t ti_bytes_sent; /* first transmissions */
	uint64_t ti_bytes_rcvd; /* in order, to the application */
	uint64_t ti_ooo_segs;	/* out-of-order segments queued */
	uint64_t ti_dup_bytes;	/* duplicate data received */
	uint64_t ti_challenge_acks;
};
void ns_tcp_info(const struct ns_tcp *c, struct ns_tcp_info *ti);
/* Addresses and ports of a connection. */
void ns_tcp_addrs(const struct ns_tcp *c, uint32_t *laddr, uint16_t *lport,
    uint32_t *faddr, uint16_t *fport);

/* ---- counters ---- */

struct ns_stats {
	/* Ethernet */
	uint64_t eth_rx;
	uint64_t eth_rx_runt;	 /* shorter than a header */
	uint64_t eth_rx_notme;	 /* another MAC, or multicast */
	uint64_t eth_rx_badtype; /* not IPv4 or ARP (VLAN tags too) */
	uint64_t eth_tx;
	uint64_t eth_tx_err; /* the netif refused */
	uint64_t eth_nobufs; /* no buffer for a frame */
	/* ARP */
	uint64_t arp_rx;
	uint64_t arp_rx_bad; /* malformed or from a bad address */
	uint64_t arp_rx_request;
	uint64_t arp_rx_reply;
	uint64_t arp_tx_request;
	uint64_t arp_tx_reply;
	uint64_t arp_evict;	 /* an entry pushed out by a new one */
	uint64_t arp_expired;	 /* entries timed out */
	uint64_t arp_unresolved; /* gave up: host unreachable */
	uint64_t arp_hold_drop;	 /* packet dropped waiting for a reply */
	uint64_t arp_conflict;	 /* someone else claims our address */
	/* IPv4 */
	uint64_t ip_rx;
	uint64_t ip_rx_short;	/* shorter than a header */
	uint64_t ip_rx_badver;	/* not version 4 */
	uint64_t ip_rx_badhlen; /* IHL < 5 or past the packet */
	uint64_t ip_rx_badlen;	/* total length disagrees with frame */
	uint64_t ip_rx_badsum;	/* header checksum */
	uint64_t ip_rx_badopt;	/* malformed or source-route options */
	uint64_t ip_rx_martian; /* impossible source address */
	uint64_t ip_rx_land;	/* source is our own address */
	uint64_t ip_rx_notme;	/* not for us */
	uint64_t ip_rx_noproto; /* protocol we do not speak */
	uint64_t ip_rx_foreign; /* handed to another instance */
	uint64_t ip_rx_delivered;
	uint64_t ip_tx;
	uint64_t ip_tx_noroute;
	uint64_t ip_tx_frags;	  /* fragments made */
	uint64_t ip_tx_toobig;	  /* DF and bigger than the MTU */
	uint64_t ip_frag_rx;	  /* fragments received */
	uint64_t ip_frag_ok;	  /* datagrams reassembled */
	uint64_t ip_frag_dup;	  /* exact duplicates dropped */
	uint64_t ip_frag_overlap; /* overlaps: the datagram is dropped */
	uint64_t ip_frag_toobig;  /* past 65535 bytes */
	uint64_t ip_frag_bad;	  /* length not a multiple of 8, ... */
	uint64_t ip_frag_timeout; /* datagrams given up on time */
	uint64_t ip_frag_evict;	  /* dropped to make room */
	uint64_t ip_frag_nomem;	  /* dropped: too much memory queued */
	/* ICMP */
	uint64_t icmp_rx;
	uint64_t icmp_rx_short;
	uint64_t icmp_rx_badsum;
	uint64_t icmp_rx_echo;
	uint64_t icmp_rx_unreach;
	uint64_t icmp_rx_needfrag;
	uint64_t icmp_rx_bad; /* error message about nothing of ours */
	uint64_t icmp_tx_echoreply;
	uint64_t icmp_tx_unreach;
	uint64_t icmp_tx_timex;
	uint64_t icmp_ratelimited; /* errors not sent */
	uint64_t icmp_pmtu_update; /* a connection's MSS lowered */
	/* UDP */
	uint64_t udp_rx;
	uint64_t udp_rx_short;
	uint64_t udp_rx_badlen;
	uint64_t udp_rx_badsum;
	uint64_t udp_rx_noport;
	uint64_t udp_rx_full; /* socket buffer full */
	uint64_t udp_tx;
	/* TCP */
	uint64_t tcp_rx;
	uint64_t tcp_rx_short;	/* shorter than a header */
	uint64_t tcp_rx_badoff; /* data offset < 5 or past the segment */
	uint64_t tcp_rx_badsum;
	uint64_t tcp_rx_badopt;	    /* malformed options: dropped */
	uint64_t tcp_rx_optignored; /* a bad option ignored */
	uint64_t tcp_rx_badmss;	    /* MSS 0 or tiny: clamped */
	uint64_t tcp_rx_badwscale;  /* shift > 14: used 14 */
	uint64_t tcp_rx_badsack;    /* SACK blocks out of range: ignored */
	uint64_t tcp_rx_badflags;   /* SYN+FIN, SYN+RST, no ACK ... */
	uint64_t tcp_rx_land;
	uint64_t tcp_rx_bcast;	/* to a broadcast address */
	uint64_t tcp_rx_noport; /* answered with RST */
	uint64_t tcp_rx_urg;	/* urgent data seen (delivered inline) */
	uint64_t tcp_rx_paws;	/* old timestamp: dropped */
	uint64_t tcp_rx_outwin; /* not acceptable: ACKed and dropped */
	uint64_t tcp_rx_badack; /* ACK for data never sent */
	uint64_t tcp_rx_rst;	/* RSTs that reset a connection */
	uint64_t tcp_rx_rst_ignored;
	uint64_t tcp_rx_dupsyn;
	uint64_t tcp_rx_ooo;	    /* out-of-order segments queued */
	uint64_t tcp_rx_ooo_drop;   /* no room to queue them */
	uint64_t tcp_rx_afterclose; /* data after the app closed: RST */
	uint64_t tcp_challenge_ack;
	uint64_t tcp_challenge_limited;
	uint64_t tcp_tx;
	uint64_t tcp_tx_rst;
	uint64_t tcp_tx_nobufs;
	uint64_t tcp_rexmit;	  /* segments sent again */
	uint64_t tcp_timeout;	  /* retransmission timer fired */
	uint64_t tcp_fast_rexmit; /* entered fast recovery */
	uint64_t tcp_sack_rexmit;
	uint64_t tcp_persist;	      /* window probes */
	uint64_t tcp_keepalive;	      /* keepalive probes */
	uint64_t tcp_delack;	      /* delayed ACKs sent by the timer */
	uint64_t tcp_conn_attempt;    /* active opens */
	uint64_t tcp_accepts;	      /* passive opens completed */
	uint64_t tcp_connects;	      /* active opens completed */
	uint64_t tcp_drops;	      /* connections dropped: timeout, reset */
	uint64_t tcp_conn_limit;      /* refused: nc_tcp_conns reached */
	uint64_t tcp_nomem;	      /* refused: allocation failed */
	uint64_t tcp_listen_overflow; /* accept queue full: dropped */
	uint64_t tcp_syncache_add;
	uint64_t tcp_syncache_overflow;
	uint64_t tcp_syncache_timeout;
	uint64_t tcp_synack_rexmit;
	uint64_t tcp_cookie_sent;
	uint64_t tcp_cookie_ok;
	uint64_t tcp_cookie_bad;
	uint64_t tcp_timewait;		/* entered */
	uint64_t tcp_timewait_recycled; /* oldest dropped for a new one */
	uint64_t tcp_timewait_reused;	/* a new SYN took it over */
};

const struct ns_stats *ns_stats(const struct ns *ns);

/* ---- DHCP client (RFC 2131, RFC 2132; ns_dhcp.c) ---- */

/*
 * One client per instance, for its interface. It owns the instance's
 * address from ns_dhcp_start to ns_dhcp_stop: it clears it at start,
 * sets it with ns_set_addr when a lease is bound and clears it when the
 * lease ends. It is driven like the rest of the core: datagrams to port
 * 68 and ARP frames through ns_input, time through ns_tick (received
 * datagrams are handled at the next ns_tick, which ns_next_timer asks for
 * at once). The event function runs inside the stack, like an upcall:
 * it may log or forward the lease to other instances, but must not call
 * into this instance. Stop the client before ns_destroy.
 */
struct ns_dhcp;

enum ns_dhcp_state {
	NS_DHCP_INIT,	    /* waiting before a DISCOVER */
	NS_DHCP_SELECTING,  /* DISCOVER sent, waiting for an offer */
	NS_DHCP_REQUESTING, /* REQUEST for an offer sent */
	NS_DHCP_REBOOTING,  /* REQUEST for the remembered address sent */
	NS_DHCP_CHECKING,   /* ACKed; ARP-probing the address (RFC 5227) */
	NS_DHCP_BOUND,
	NS_DHCP_RENEWING,  /* past T1: REQUEST unicast to the server */
	NS_DHCP_REBINDING, /* past T2: REQUEST broadcast */
};

#define NS_DHCP_INFINITE 0xffffffffu /* a lease that never ends */

struct ns_dhcp_lease {
	uint32_t dl_addr;
	uint32_t dl_netmask;
	uint32_t dl_gateway;  /* 0: none */
	uint32_t dl_dns[3];   /* 0: none */
	uint32_t dl_server;   /* the server identifier */
	uint32_t dl_lease_s;  /* seconds, or NS_DHCP_INFINITE */
	uint32_t dl_t1_s;     /* renew after (from dl_start_us) */
	uint32_t dl_t2_s;     /* rebind after */
	uint64_t dl_start_us; /* platform time the lease counts from */
};

enum ns_dhcp_event {
	NS_DHCP_EV_BOUND,    /* a new address is configured */
	NS_DHCP_EV_RENEWED,  /* the lease was extended (settings may change) */
	NS_DHCP_EV_EXPIRED,  /* the lease ran out: address removed */
	NS_DHCP_EV_NAK,	     /* the server refused: address removed */
	NS_DHCP_EV_DECLINED, /* the offered address is in use (ARP) */
	NS_DHCP_EV_RELEASED, /* ns_dhcp_stop gave the address back */
};

/* lease: the lease concerned (after EXPIRED, NAK: the one lost; NULL
 * after a NAK when none was held). Valid during the call only. */
typedef void (*ns_dhcp_event_t)(void *arg, enum ns_dhcp_event ev,
    const struct ns_dhcp_lease *lease);

struct ns_dhcp_config {
	uint32_t dc_addr; /* remembered address: INIT-REBOOT; 0: none */
	const uint8_t *dc_client_id; /* option 61; NULL: type 1 and MAC */
	uint32_t dc_client_id_len;   /* 2..255 */
	uint32_t dc_flags;	     /* NS_DHCPF_* */
	uint32_t dc_probe_ms;	     /* ARP probe spacing [1000] (RFC 5227) */
	ns_dhcp_event_t dc_event;
	void *dc_event_arg;
};

#define NS_DHCPF_NO_PROBE 0x1 /* bind without probing the address */

struct ns_dhcp_stats {
	uint64_t ds_tx_discover;
	uint64_t ds_tx_request;
	uint64_t ds_tx_decline;
	uint64_t ds_tx_release;
	uint64_t ds_tx_err; /* a message could not be sent */
	uint64_t ds_retransmits;
	uint64_t ds_arp_probes;
	uint64_t ds_arp_announces;
	uint64_t ds_arp_conflicts; /* the address was in use: declined */
	uint64_t ds_rx;		   /* datagrams to port 68 */
	uint64_t ds_rx_offer;	   /* accepted */
	uint64_t ds_rx_ack;
	uint64_t ds_rx_nak;
	uint64_t ds_rx_short;	   /* shorter than header and cookie */
	uint64_t ds_rx_toobig;	   /* longer than we take */
	uint64_t ds_rx_badport;	   /* not from port 67 */
	uint64_t ds_rx_badhdr;	   /* op, htype or hlen wrong */
	uint64_t ds_rx_badcookie;  /* no DHCP magic cookie */
	uint64_t ds_rx_notme;	   /* chaddr or client id of another */
	uint64_t ds_rx_badxid;	   /* not the exchange in progress */
	uint64_t ds_rx_badopt;	   /* past the end, no END, bad length */
	uint64_t ds_rx_notype;	   /* no or unknown message type */
	uint64_t ds_rx_unexpected; /* a type this state does not take */
	uint64_t ds_rx_badaddr;	   /* yiaddr unusable */
	uint64_t ds_rx_badmask;	   /* not contiguous, or 0 */
	uint64_t ds_rx_badserver;  /* no server id, or not ours */
	uint64_t ds_rx_badlease;   /* ACK without a lease time, or 0 */
	uint64_t ds_lease_clamped; /* lease below 20 s: raised */
	uint64_t ds_bad_times;	   /* T1/T2 inconsistent: defaults used */
	uint64_t ds_bound;	   /* leases bound */
	uint64_t ds_renewed;
	uint64_t ds_rebinding; /* entered REBINDING */
	uint64_t ds_expired;
};

/* -EBUSY (a client runs), -EINVAL, -EADDRINUSE (port 68), -ENOMEM. */
int ns_dhcp_start(struct ns *ns, const struct ns_dhcp_config *cfg,
    struct ns_dhcp **dp);
/* Sends RELEASE when bound, removes the address, frees the client. */
void ns_dhcp_stop(struct ns_dhcp *d);
enum ns_dhcp_state ns_dhcp_state(const struct ns_dhcp *d);
/* The bound lease, or -ENOENT. */
int ns_dhcp_lease(const struct ns_dhcp *d, struct ns_dhcp_lease *l);
const struct ns_dhcp_stats *ns_dhcp_stats(const struct ns_dhcp *d);

#endif /* NETSTACK_NETSTACK_H */
