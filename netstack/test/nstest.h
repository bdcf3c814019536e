/*
 * nstest.h: what the netstack tests share.
 *
 *  - A fake netif (struct nt_if): it linearizes each frame the stack
 *    sends, completes offloaded checksums and cuts TSO frames as a device
 *    would (so the offload contract is tested too), then keeps the frames
 *    in an outbox the test reads, or hands them to a wire.
 *  - A wire (struct nt_wire) joins two instances back to back: frames
 *    travel with a delay and may be lost, reordered, duplicated or
 *    corrupted on purpose (a seeded generator, so runs repeat);
 *    nt_wire_run advances the clock, delivers and ticks both stacks.
 *  - Frame builders for crafted input, and parsers for what came out.
 *  - struct nt_env: one instance at 10.0.0.1/24 with its fake netif and
 *    host platform; the peer it talks to is 10.0.0.2.
 */
#ifndef NETSTACK_TEST_NSTEST_H
#define NETSTACK_TEST_NSTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "netstack/netstack.h"
#include "netstack/ns_host.h"
#include "netstack/ns_wire.h"

#define NT_ME	    NS_IP4(10, 0, 0, 1)
#define NT_PEER	    NS_IP4(10, 0, 0, 2)
#define NT_MASK	    NS_IP4(255, 255, 255, 0)
#define NT_GW	    NS_IP4(10, 0, 0, 254)
#define NT_MAXFRAME 70000

extern const uint8_t nt_mac_me[6], nt_mac_peer[6];

struct nt_frame {
	struct nt_frame *f_next;
	uint64_t f_when; /* wire: delivery time */
	uint32_t f_len;
	uint32_t f_flags; /* nb_flags it was sent with */
	uint8_t f_data[];
};

struct nt_wire;

struct nt_if {
	struct netif fi_nif;
	struct nt_frame *fi_out, **fi_out_tail; /* outbox */
	uint32_t fi_nout;
	struct nt_wire *fi_wire; /* or NULL: outbox */
	int fi_side;
	int fi_fail; /* transmit returns -ENOBUFS */
	uint64_t fi_tso_frames, fi_csum_frames;
};

void nt_if_init(struct nt_if *fi, const uint8_t *mac, uint16_t mtu,
    uint32_t caps);
/* The next frame sent, or NULL; free it with free(). */
struct nt_frame *nt_if_pop(struct nt_if *fi);
void nt_if_flush(struct nt_if *fi);

struct nt_env {
	struct ns_host e_host;
	struct nt_if e_if;
	struct ns *e_ns;
	struct ns_config e_cfg;
};

/*
 * cfg may be NULL; addresses default to NT_ME, NT_MASK, NT_GW; mac NULL
 * is nt_mac_me.
 */
void nt_env_init(struct nt_env *e, const struct ns_config *cfg, uint32_t caps,
    const uint8_t *mac);
/* Destroys; fails the test on leaked buffers or memory. */
void nt_env_fini(struct nt_env *e);
/* Teaches the stack the peer's MAC (an ARP request from the peer). */
void nt_learn_peer(struct nt_env *e, uint32_t ip, const uint8_t *mac);
void nt_advance(struct nt_env *e, uint64_t us);

/* ---- crafting frames ---- */

struct nt_ip {
	uint32_t src, dst;
	uint8_t proto;
	uint8_t ttl;
	uint16_t id;
	uint16_t off; /* flags and offset, host order */
	const uint8_t *opts;
	uint8_t optlen;
	int bad_sum;
	int hlen_words; /* 0: from optlen */
	int len_delta;	/* added to the total length field */
};

/* Ethernet + IP + payload into buf; returns the frame length. */
uint32_t nt_build_ip(uint8_t *buf, const struct nt_ip *ip, const void *pl,
    uint32_t plen);

struct nt_tcp {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t urp;
	const uint8_t *opts;
	uint8_t optlen;
	const void *data;
	uint32_t dlen;
	int bad_sum;
	int doff; /* 0: from optlen */
};

/* A TCP segment in a frame; returns the frame length. */
uint32_t nt_build_tcp(uint8_t *buf, const struct nt_tcp *t);
uint32_t nt_build_udp(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, const void *data, uint32_t dlen, int bad_sum);
uint32_t nt_build_icmp(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type,
    uint8_t code, uint32_t rest, const void *data, uint32_t dlen);

/* Feeds a frame to the instance. */
void nt_inject(struct nt_env *e, const void *frame, uint32_t len);

/* ---- reading frames ---- */

struct nt_parsed {
	uint16_t etype;
	const struct ip_hdr *ip;
	uint32_t ip_hlen;
	const uint8_t *l4;
	uint32_t l4len;
	const struct tcp_hdr *tcp;
	const uint8_t *tcp_opts;
	uint32_t tcp_optlen;
	const uint8_t *data;
	uint32_t dlen;
	bool sums_ok; /* IP and L4 checksums verify */
};

bool nt_parse(const struct nt_frame *f, struct nt_parsed *p);
/* The TCP option of a kind in a parsed segment, or NULL. */
const uint8_t *nt_tcp_opt(const struct nt_parsed *p, uint8_t kind);

/* ---- two instances back to back ---- */

struct nt_wire {
	struct nt_env *w_env[2];
	struct nt_frame *w_q, **w_q_tail; /* in flight, by send order */
	uint64_t w_delay_us;
	uint32_t w_loss_ppm, w_reorder_ppm, w_dup_ppm, w_corrupt_ppm;
	uint64_t w_rng;
	uint64_t w_sent, w_lost, w_reordered, w_duped, w_corrupted;
	uint64_t w_bytes;
	/* Called at every step: the tests' applications push and pull. */
	void (*w_app)(struct nt_wire *w, void *arg);
	void *w_app_arg;
	/* Stop nt_wire_run early when it returns true. */
	bool (*w_done)(struct nt_wire *w, void *arg);
};

void nt_wire_init(struct nt_wire *w, struct nt_env *a, struct nt_env *b,
    uint64_t seed);
/* Runs for us microseconds of simulated time in steps of step_us. */
void nt_wire_run(struct nt_wire *w, uint64_t us, uint64_t step_us);
void nt_wire_fini(struct nt_wire *w);

#endif /* NETSTACK_TEST_NSTEST_H */
