/*
 * ns_tcp.h: TCP's private structures: the control block, the SYN cache
 * entry, parsed options, and what the TCP files share. See ns_tcp_input.c
 * for the design.
 *
 * Sequence space: snd_una <= snd_nxt <= snd_max. The send buffer (t_sb,
 * t_sb_cc bytes) holds the data from snd_una on once the SYN is acked;
 * the FIN, when sent, is the sequence number after the last data byte.
 * The receive side has the in-order queue (t_rq) the application reads
 * and the out-of-order queue (t_oq, sorted, no overlaps), both bounded by
 * t_rb_hiwat. Times are microseconds of the platform clock; a deadline of
 * 0 is "not set". Every control block has one wheel timer armed at the
 * earliest of its deadlines.
 */
#ifndef NETSTACK_NS_TCP_H
#define NETSTACK_NS_TCP_H

#include "netstack/ns_internal.h"

#define TCP_MSS_DEFAULT	     536 /* RFC 9293: without an MSS option */
#define TCP_MSS_MIN	     216 /* smaller MSS options are raised to this */
#define TCP_IW_SEGS	     10	 /* RFC 6928 */
#define TCP_MAXRXTSHIFT	     12	 /* retransmissions before giving up */
#define TCP_SYN_RETRIES	     6
#define TCP_SYNACK_RETRIES   3
#define TCP_RTO_INIT_US	     1000000u /* RFC 6298 2.1 */
#define TCP_RTO_MAX_US	     60000000u
#define TCP_PERSIST_MIN_US   1000000u
#define TCP_PERSIST_MAX_US   60000000u
#define TCP_KEEPIDLE_MS	     7200000u /* RFC 9293: two hours at least */
#define TCP_KEEPINTVL_MS     75000u
#define TCP_KEEPCNT	     9
#define TCP_FIN2_US	     60000000u /* FIN-WAIT-2 after close */
#define TCP_SACK_MAX	     16	       /* scoreboard blocks kept */
#define TCP_OOQ_MAX	     256       /* out-of-order segments queued */
#define TCP_CHALLENGE_PER_S  10	       /* per connection (RFC 5961 7) */
#define TCP_COOKIE_PERIOD_US (64ull * 1000000)
#define TCP_MAXWIN	     65535u
#define TCP_MAX_WSCALE	     14
#define TCP_SSTHRESH_INIT    (1u << 30)

/* t_flags */
#define TF_ACKNOW     0x00000001 /* send an ACK now */
#define TF_DELACK     0x00000002 /* an ACK is owed (timer running) */
#define TF_NODELAY    0x00000004 /* no Nagle */
#define TF_SHUTWR     0x00000008 /* the application will send no more */
#define TF_SENTFIN    0x00000010
#define TF_RCVD_FIN   0x00000020 /* the peer's FIN is in sequence */
#define TF_TS	      0x00000040 /* timestamps in use */
#define TF_WSCALE     0x00000080 /* window scaling in use */
#define TF_SACK	      0x00000100 /* SACK in use */
#define TF_REQ_TS     0x00000200 /* we offer them (active open) */
#define TF_REQ_WSCALE 0x00000400
#define TF_REQ_SACK   0x00000800
#define TF_RECOVERY   0x00001000 /* in fast recovery */
#define TF_DETACHED   0x00002000 /* the application closed its handle */
#define TF_KEEPALIVE  0x00004000
#define TF_SYN_REXMT  0x00008000 /* the SYN was sent again: IW 1 */
#define TF_FORCE      0x00010000 /* a window probe: send one byte */
#define TF_RCV_SHUT   0x00020000 /* data after close is an error */

struct tcp_sackblk {
	uint32_t sb_start;
	uint32_t sb_end;
};

/* Options of a received segment. */
struct tcp_opts {
	uint32_t to_flags; /* TOF_* */
	uint16_t to_mss;
	uint8_t to_wscale;
	uint8_t to_nsack;
	uint32_t to_tsval;
	uint32_t to_tsecr;
	struct tcp_sackblk to_sack[4];
};

#define TOF_MSS	      0x01
#define TOF_WSCALE    0x02
#define TOF_SACK_PERM 0x04
#define TOF_TS	      0x08
#define TOF_SACK      0x10

/* A received segment, headers parsed, pkt holding only its data. */
struct tcp_seg {
	uint32_t sg_seq;
	uint32_t sg_ack;
	uint32_t sg_wnd; /* as on the wire, not scaled */
	uint16_t sg_urp;
	uint8_t sg_flags;
	uint32_t sg_dlen; /* data bytes */
	struct tcp_opts sg_opts;
	uint32_t sg_src, sg_dst;
	uint16_t sg_sport, sg_dport;
	struct nb *sg_pkt; /* data; may be NULL after it was queued */
};

struct ns_tcp {
	struct ns *t_ns;
	TAILQ_ENTRY(ns_tcp) t_hlink; /* hash chain, or the listen list */
	TAILQ_ENTRY(ns_tcp) t_qlink; /* a listener's accept queue, or TW */
	TAILQ_ENTRY(ns_tcp) t_alink; /* ns_tcp_all */
	struct ns_timer t_timer;
	uint8_t t_state; /* enum ns_tcp_state */
	uint8_t t_inhash;
	uint8_t t_ontw;
	uint8_t t_cc; /* NS_CC_* */
	uint32_t t_flags;
	uint32_t t_laddr, t_faddr;
	uint16_t t_lport, t_fport;
	uint32_t t_bucket;

	/* The application. */
	ns_upcall_t t_upcall;
	void *t_upcall_arg;
	int t_error;
	int t_softerr; /* from ICMP: reported if the connection times out */

	/* A listener: its accept queue and SYN cache use. */
	struct ns_tcp *t_head; /* our listener while on its accept queue */
	struct ns_tcpq t_acceptq;
	uint16_t t_qlen, t_qlimit;
	uint16_t t_synlen;

	/* Send side. */
	uint32_t snd_una, snd_nxt, snd_max;
	uint32_t snd_wl1, snd_wl2, iss, snd_up;
	uint32_t snd_wnd; /* bytes, scaled */
	uint32_t max_sndwnd;
	uint32_t snd_recover; /* snd_max when recovery began */
	uint32_t snd_cwnd, snd_ssthresh;
	struct nb *t_sb; /* data from snd_una */
	uint32_t t_sb_cc, t_sb_hiwat;
	struct nb *t_sb_hint;	/* a segment of t_sb, to start from */
	uint32_t t_sb_hint_off; /* its first byte, from snd_una */

	/* Receive side. */
	uint32_t rcv_nxt, rcv_adv, irs, rcv_up;
	struct nb *t_rq, *t_rq_tail; /* in order: packets by nb_nextpkt */
	uint32_t t_rq_cc, t_rb_hiwat;
	struct nb *t_oq; /* out of order: nb_seq, by nb_nextpkt */
	uint32_t t_oq_cc;
	uint16_t t_oq_n;

	/* Options. */
	uint16_t t_maxseg;  /* peer's MSS within our MTU */
	uint16_t t_our_mss; /* what we advertised */
	uint8_t snd_scale, rcv_scale;
	uint32_t ts_recent;
	uint64_t ts_recent_age;
	uint32_t ts_offset;
	uint32_t last_ack_sent;

	/* SACK blocks we report (receiver), most recent first. */
	struct tcp_sackblk t_rsack[4];
	uint8_t t_nrsack;
	/* The scoreboard (sender): SACKed ranges above snd_una, sorted. */
	uint8_t t_nsack;
	struct tcp_sackblk t_sack[TCP_SACK_MAX];
	uint32_t t_sacked;   /* bytes in the scoreboard */
	uint32_t t_rxt_next; /* in recovery: retransmitted up to here */

	/* Round-trip time (RFC 6298), microseconds. */
	uint32_t t_srtt; /* 0: no sample yet */
	uint32_t t_rttvar;
	uint32_t t_rto;
	uint32_t t_rtseq;   /* timed sequence without timestamps */
	uint64_t t_rtstart; /* 0: nothing timed */
	uint8_t t_rxtshift;
	uint8_t t_dupacks;
	uint8_t t_persist_shift;
	uint8_t t_keep_sent;
	uint32_t t_delack_segs; /* full segments not yet ACKed */

	/* Deadlines, microseconds, 0: off. */
	uint64_t t_rexmt_at, t_persist_at, t_keep_at, t_delack_at, t_2msl_at;
	uint64_t t_rcvtime;
	uint32_t t_keepidle, t_keepintvl; /* ms */
	uint8_t t_keepcnt;

	/* Congestion control state. */
	uint32_t t_bytes_acked; /* NewReno avoidance: byte counting */
	uint32_t cu_wmax;	/* CUBIC (RFC 9438), bytes */
	uint32_t cu_origin;
	uint32_t cu_k_ms;
	uint32_t cu_west;
	uint64_t cu_epoch_ms; /* 0: no epoch */

	/* Challenge ACKs sent this second (RFC 5961 7). */
	uint64_t t_chal_epoch;
	uint32_t t_chal_n;

	/* Counters for ns_tcp_info. */
	uint64_t t_rexmits, t_timeouts, t_fastrx, t_sackrx;
	uint64_t t_bytes_sent, t_bytes_rcvd, t_ooo, t_dupbytes, t_chal;
};

/* A half-open passive connection (SYN-RECEIVED) in the SYN cache. */
struct tcp_syn {
	TAILQ_ENTRY(tcp_syn) sc_link;
	struct ns_timer sc_timer;
	struct ns_tcp *sc_lis;
	uint32_t sc_laddr, sc_faddr;
	uint16_t sc_lport, sc_fport;
	uint32_t sc_bucket;
	uint32_t sc_irs, sc_iss;
	uint32_t sc_wnd; /* the peer's, from the SYN */
	uint16_t sc_mss;
	uint8_t sc_wscale; /* the peer's; 0xff: none */
	uint8_t sc_rscale; /* ours */
	uint8_t sc_sack;
	uint8_t sc_ts;
	uint8_t sc_rexmits;
	uint32_t sc_tsval; /* the peer's, to echo */
};

#define TCPS_HAVE_ESTABLISHED(s) ((s) >= NS_TCPS_ESTABLISHED)
#define TCPS_HAVE_RCVD_FIN(s)                                   \
	((s) == NS_TCPS_CLOSE_WAIT || (s) == NS_TCPS_CLOSING || \
	    (s) == NS_TCPS_LAST_ACK || (s) == NS_TCPS_TIME_WAIT)

/* ---- ns_tcp_subr.c ---- */
struct ns_tcp *tcp_new(struct ns *ns);
void tcp_hash_insert(struct ns_tcp *tp);
struct ns_tcp *tcp_lookup(struct ns *ns, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport);
struct ns_tcp *tcp_lookup_listen(struct ns *ns, uint32_t laddr, uint16_t lport);
uint32_t tcp_iss(struct ns *ns, uint32_t laddr, uint16_t lport, uint32_t faddr,
    uint16_t fport);
uint32_t tcp_ts_offset(struct ns *ns, uint32_t laddr, uint16_t lport,
    uint32_t faddr, uint16_t fport);
uint8_t tcp_rscale(uint32_t rcvbuf);
uint16_t tcp_mss_for(struct ns *ns, uint32_t faddr);
uint16_t tcp_peer_mss(struct ns *ns, uint32_t faddr, const struct tcp_opts *o);
uint32_t tcp_ts_now(const struct ns_tcp *tp);
/* Finishes a connection: to CLOSED with err, buffers freed; NULL if freed. */
struct ns_tcp *tcp_close(struct ns_tcp *tp, int err);
struct ns_tcp *tcp_drop(struct ns_tcp *tp, int err);
void tcp_free(struct ns_tcp *tp);
void tcp_timewait(struct ns_tcp *tp);
void tcp_timers_update(struct ns_tcp *tp);
void tcp_rexmt_arm(struct ns_tcp *tp);
void tcp_rtt_sample(struct ns_tcp *tp, uint32_t rtt_us);
uint32_t tcp_rto_cur(const struct ns_tcp *tp);
void tcp_notify(struct ns_tcp *tp, unsigned ev);
void tcp_sb_drop(struct ns_tcp *tp, uint32_t bytes);
uint32_t tcp_rcv_space(const struct ns_tcp *tp);
bool tcp_challenge_ok(struct ns_tcp *tp);
void tcp_established(struct ns_tcp *tp);

/* ---- ns_tcp_opts.c ---- */
int tcp_opts_parse(const uint8_t *p, uint32_t len, bool syn,
    struct tcp_opts *to, struct ns_stats *st);
/* Our options for a segment; returns their length (a multiple of 4). */
uint32_t tcp_opts_build(struct ns_tcp *tp, uint8_t flags, uint8_t *out);

/* ---- ns_tcp_output.c ---- */
int tcp_output(struct ns_tcp *tp);
/* A segment without a control block (RST, or an ACK). */
void tcp_respond(struct ns *ns, uint32_t laddr, uint16_t lport, uint32_t faddr,
    uint16_t fport, uint32_t seq, uint32_t ack, uint8_t flags);
/* RST in answer to a segment we have no connection for (RFC 9293). */
void tcp_reset_for(struct ns *ns, const struct tcp_seg *sg);
void tcp_send_ack(struct ns_tcp *tp);
bool tcp_wupdate_due(struct ns_tcp *tp);
void tcp_send_challenge(struct ns_tcp *tp);
int tcp_send_synack(struct ns *ns, const struct tcp_syn *sc);
void tcp_send_keepalive(struct ns_tcp *tp);

/* ---- ns_tcp_input.c ---- */
void tcp_segment(struct ns_tcp *tp, struct tcp_seg *sg);

/* ---- ns_tcp_syn.c ---- */
int tcp_syn_init(struct ns *ns);
void tcp_syn_fini(struct ns *ns);
void tcp_listen_input(struct ns *ns, struct ns_tcp *lis, struct tcp_seg *sg);
void tcp_syn_drop_listener(struct ns *ns, struct ns_tcp *lis);

/* ---- ns_tcp_sack.c ---- */
void tcp_sack_update(struct ns_tcp *tp, const struct tcp_opts *to);
void tcp_sack_clear(struct ns_tcp *tp);
void tcp_sack_trim(struct ns_tcp *tp);
/* The next hole to retransmit in recovery: 0 and its range, or -1. */
int tcp_sack_hole(struct ns_tcp *tp, uint32_t *start, uint32_t *len);
uint32_t tcp_sack_pipe(const struct ns_tcp *tp);
void tcp_rsack_update(struct ns_tcp *tp, uint32_t start, uint32_t end);
void tcp_rsack_trim(struct ns_tcp *tp);

/* ---- ns_tcp_cc.c ---- */
void tcp_cc_init(struct ns_tcp *tp);
void tcp_cc_ack(struct ns_tcp *tp, uint32_t acked);
/* A loss: by duplicate ACKs (fast) or by the timer. */
void tcp_cc_loss(struct ns_tcp *tp, bool timeout);
void tcp_cc_recovered(struct ns_tcp *tp);
uint32_t tcp_flight(const struct ns_tcp *tp);
/* SMSS (RFC 5681): payload of a full segment, after usual options. */
uint32_t tcp_smss(const struct ns_tcp *tp);
uint32_t ns_cbrt64(uint64_t v);

#endif /* NETSTACK_NS_TCP_H */
