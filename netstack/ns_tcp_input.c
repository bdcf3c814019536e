/*
 * ns_tcp_input.c: TCP segment arrival (RFC 9293 3.10.7), with RFC 5961's
 * defences, RFC 7323's PAWS and timestamps, SACK (RFC 2018), and loss
 * recovery (RFC 5681, RFC 6582 NewReno, RFC 6675 with SACK, RFC 3042
 * limited transmit).
 *
 * Design. The core runs one instance per CPU and a connection lives in
 * exactly one, so nothing here takes a lock. A segment is checked in
 * ns_tcp_input (lengths, data offset, checksum, flag combinations, the
 * options' structure) before any state is looked at; it then goes to its
 * connection, to a listener (ns_tcp_syn.c) or is answered with a RST.
 * Per state, in the RFC's order:
 *   SYN-SENT     the ACK must cover our SYN; a RST counts only with such
 *                an ACK; a SYN-ACK establishes, a bare SYN is a
 *                simultaneous open.
 *   synchronized PAWS; RST: exactly RCV.NXT resets, elsewhere in the
 *                window draws a challenge ACK (RFC 5961 3); the
 *                acceptability test, with ACKs allowed on a zero window;
 *                a SYN draws a challenge ACK (RFC 5961 4); the ACK must
 *                lie within [SND.UNA - MAX.SND.WND, SND.MAX] or draws a
 *                challenge ACK (RFC 5961 5); then ACK processing (RTT,
 *                congestion control, SACK, window update, the FIN's ACK),
 *                urgent data (delivered inline, RFC 6093), text and FIN.
 *   TIME-WAIT    a retransmitted FIN is ACKed again; a new SYN may reuse
 *                the tuple if it is clearly newer (RFC 6191); RST as
 *                above.
 * Challenge ACKs are limited per connection (TCP_CHALLENGE_PER_S), not
 * globally, so the limit cannot be used as a side channel
 * (CVE-2016-5696).
 *
 * Received data is queued without copying (the frame's buffer, headers
 * trimmed); small segments are copied into the tail of the previous one,
 * so a peer sending tiny segments cannot pin a cluster per byte. The
 * out-of-order queue is sorted, without overlaps, and bounded.
 */
#include "netstack/ns_tcp.h"

#define TS_24DAYS_MS (24u * 24 * 3600 * 1000)

/* ---------------------------------------------------------------- */
/* Header checks                                                    */
/* ---------------------------------------------------------------- */

static uint64_t *
tcp_check(struct ns *ns, struct nb **pktp, const struct ip_info *ii,
    struct tcp_seg *sg)
{
	struct ns_stats *st = &ns->ns_stats;
	const struct tcp_hdr *th;
	uint32_t off, len = ii->ii_len;
	uint8_t *p;

	if (ii->ii_bcast)
		return &st->tcp_rx_bcast;
	if (len < TCP_HLEN_MIN)
		return &st->tcp_rx_short;
	if ((p = nb_pullup(pktp, ii->ii_hlen + TCP_HLEN_MIN)) == NULL)
		return &st->eth_nobufs;
	th = (const struct tcp_hdr *)(p + ii->ii_hlen);
	off = (uint32_t)(th->th_off >> 4) * 4;
	if (off < TCP_HLEN_MIN || off > len)
		return &st->tcp_rx_badoff;
	if ((p = nb_pullup(pktp, ii->ii_hlen + off)) == NULL)
		return &st->eth_nobufs;
	th = (const struct tcp_hdr *)(p + ii->ii_hlen);
	if (!((*pktp)->nb_flags & NB_RX_CSUM_OK) &&
	    ns_sum_fold(ns_sum_chain(*pktp, ii->ii_hlen, len,
		ns_sum_pseudo(ii->ii_src, ii->ii_dst, IP_PROTO_TCP, len))) !=
		0xffff)
		return &st->tcp_rx_badsum;
	memset(sg, 0, sizeof(*sg));
	sg->sg_seq = ns_ntoh32(th->th_seq);
	sg->sg_ack = ns_ntoh32(th->th_ack);
	sg->sg_wnd = ns_ntoh16(th->th_win);
	sg->sg_urp = ns_ntoh16(th->th_urp);
	sg->sg_flags = th->th_flags;
	sg->sg_dlen = len - off;
	sg->sg_src = ii->ii_src;
	sg->sg_dst = ii->ii_dst;
	sg->sg_sport = ns_ntoh16(th->th_sport);
	sg->sg_dport = ns_ntoh16(th->th_dport);
	if (sg->sg_sport == 0 || sg->sg_dport == 0 ||
	    (sg->sg_flags & (TH_SYN | TH_FIN)) == (TH_SYN | TH_FIN) ||
	    (sg->sg_flags & (TH_SYN | TH_RST)) == (TH_SYN | TH_RST))
		return &st->tcp_rx_badflags;
	if (sg->sg_src == sg->sg_dst && sg->sg_sport == sg->sg_dport)
		return &st->tcp_rx_land;
	if (tcp_opts_parse((const uint8_t *)(th + 1), off - TCP_HLEN_MIN,
		(sg->sg_flags & TH_SYN) != 0, &sg->sg_opts, st) != 0)
		return &st->tcp_rx_badopt;
	nb_adj(*pktp, (int32_t)(ii->ii_hlen + off));
	return NULL;
}

void
ns_tcp_input(struct ns *ns, struct nb *pkt, const struct ip_info *ii)
{
	struct tcp_seg sg;
	struct ns_tcp *tp;
	uint64_t *bad;

	ns->ns_stats.tcp_rx++;
	if ((bad = tcp_check(ns, &pkt, ii, &sg)) != NULL) {
		(*bad)++;
		nb_freem(pkt);
		return;
	}
	sg.sg_pkt = pkt;
	tp = tcp_lookup(ns, sg.sg_dst, sg.sg_dport, sg.sg_src, sg.sg_sport);
	if (tp != NULL) {
		tcp_segment(tp, &sg);
	} else if ((tp = tcp_lookup_listen(ns, sg.sg_dst, sg.sg_dport)) !=
	    NULL) {
		tcp_listen_input(ns, tp, &sg);
	} else {
		ns->ns_stats.tcp_rx_noport++;
		tcp_reset_for(ns, &sg);
	}
	nb_freem(sg.sg_pkt);
}

/* ---------------------------------------------------------------- */
/* Receiving data                                                   */
/* ---------------------------------------------------------------- */

/* Appends in-order data to the receive queue; small pieces are copied. */
static void
tcp_rq_append(struct ns_tcp *tp, struct nb *d, uint32_t len)
{
	struct nb *s;
	int err = 0;

	if (tp->t_rq_tail != NULL && len <= 1024) {
		/* All in one segment: nb_append is then all or nothing. */
		for (s = d; s != NULL && s->nb_len < len; s = s->nb_next)
			;
		if (s != NULL &&
		    (err = nb_append(tp->t_rq_tail, s->nb_data, len)) == 0) {
			nb_freem(d);
			goto done;
		}
	}
	d->nb_nextpkt = NULL;
	if (tp->t_rq_tail == NULL)
		tp->t_rq = d;
	else
		tp->t_rq_tail->nb_nextpkt = d;
	tp->t_rq_tail = d;
done:
	tp->t_rq_cc += len;
	tp->rcv_nxt += len;
	tp->t_bytes_rcvd += len;
}

/* Moves out-of-order segments that now fit to the receive queue. */
static bool
tcp_oq_drain(struct ns_tcp *tp)
{
	struct nb *q;
	uint32_t len, skip;
	bool fin = false;

	while ((q = tp->t_oq) != NULL && SEQ_LEQ(q->nb_seq, tp->rcv_nxt)) {
		tp->t_oq = q->nb_nextpkt;
		q->nb_nextpkt = NULL;
		len = nb_pktlen(q);
		tp->t_oq_cc -= len;
		tp->t_oq_n--;
		skip = tp->rcv_nxt - q->nb_seq;
		if (q->nb_aux && skip <= len)
			fin = true;
		if (skip >= len) {
			nb_freem(q);
			continue;
		}
		nb_adj(q, (int32_t)skip);
		tcp_rq_append(tp, q, len - skip);
	}
	tcp_rsack_trim(tp);
	return fin;
}

/* Queues an out-of-order segment: trimmed against its neighbours. */
static void
tcp_oq_insert(struct ns_tcp *tp, struct tcp_seg *sg, bool fin)
{
	struct ns *ns = tp->t_ns;
	uint32_t seq = sg->sg_seq, end = seq + sg->sg_dlen, pend;
	struct nb **pp, *q, *d = sg->sg_pkt;

	for (pp = &tp->t_oq; (q = *pp) != NULL; pp = &q->nb_nextpkt) {
		pend = q->nb_seq + nb_pktlen(q);
		if (SEQ_GT(q->nb_seq, seq))
			break;
		if (SEQ_GEQ(pend, end) && !(fin && !q->nb_aux)) {
			tp->t_dupbytes += sg->sg_dlen;
			return; /* all of it is queued already */
		}
		if (SEQ_GT(pend, seq)) {
			nb_adj(d, (int32_t)(pend - seq));
			seq = pend;
		}
	}
	/* q and the ones after start at or after seq. */
	while (q != NULL && SEQ_LT(q->nb_seq, end)) {
		pend = q->nb_seq + nb_pktlen(q);
		if (SEQ_GT(pend, end)) {
			nb_adj(d, -(int32_t)(end - q->nb_seq));
			end = q->nb_seq;
			fin = false;
			break;
		}
		*pp = q->nb_nextpkt;
		tp->t_oq_cc -= nb_pktlen(q);
		tp->t_oq_n--;
		fin = fin || q->nb_aux;
		nb_freem(q);
		q = *pp;
	}
	if (tp->t_oq_n >= TCP_OOQ_MAX || end - seq > tcp_rcv_space(tp)) {
		ns->ns_stats.tcp_rx_ooo_drop++;
		return;
	}
	d->nb_seq = seq;
	d->nb_aux = fin;
	d->nb_nextpkt = q;
	*pp = d;
	sg->sg_pkt = NULL;
	tp->t_oq_cc += end - seq;
	tp->t_oq_n++;
	tp->t_ooo++;
	ns->ns_stats.tcp_rx_ooo++;
	tcp_rsack_update(tp, seq, end + (fin ? 1 : 0));
}

static void
tcp_fin_in_order(struct ns_tcp *tp)
{
	tp->rcv_nxt++;
	tp->t_flags |= TF_RCVD_FIN | TF_ACKNOW;
	switch (tp->t_state) {
	case NS_TCPS_SYN_RECEIVED:
	case NS_TCPS_ESTABLISHED:
		tp->t_state = NS_TCPS_CLOSE_WAIT;
		break;
	case NS_TCPS_FIN_WAIT_1:
		tp->t_state = NS_TCPS_CLOSING;
		break;
	case NS_TCPS_FIN_WAIT_2:
		tcp_send_ack(tp);
		tcp_timewait(tp);
		break;
	default:
		break;
	}
}

/* Data and FIN of an acceptable, trimmed segment. */
static void
tcp_text(struct ns_tcp *tp, struct tcp_seg *sg)
{
	struct ns *ns = tp->t_ns;
	bool fin = (sg->sg_flags & TH_FIN) != 0, hole = tp->t_oq != NULL;

	if (sg->sg_seq != tp->rcv_nxt) {
		tcp_oq_insert(tp, sg, fin);
		tp->t_flags |= TF_ACKNOW; /* RFC 5681 4.2 */
		return;
	}
	if (sg->sg_dlen > 0) {
		tcp_rq_append(tp, sg->sg_pkt, sg->sg_dlen);
		sg->sg_pkt = NULL;
		if (hole && tcp_oq_drain(tp))
			fin = true;
		if (hole || ++tp->t_delack_segs >= 2)
			tp->t_flags |= TF_ACKNOW;
		else if (!(tp->t_flags & TF_DELACK)) {
			tp->t_flags |= TF_DELACK;
			tp->t_delack_at =
			    ns->ns_now + ns->ns_cfg.nc_tcp_delack_ms * 1000ull;
		}
	}
	if (fin)
		tcp_fin_in_order(tp);
	tcp_notify(tp, NS_EV_READ);
}

/* ---------------------------------------------------------------- */
/* ACK processing                                                   */
/* ---------------------------------------------------------------- */

/* Retransmits the segment at snd_una, whatever the windows say. */
static void
tcp_rexmit_una(struct ns_tcp *tp)
{
	uint32_t nxt = tp->snd_nxt, max = tp->snd_max;
	uint32_t cwnd = tp->snd_cwnd, wnd = tp->snd_wnd;

	tp->snd_nxt = tp->snd_una;
	tp->snd_cwnd = tcp_smss(tp);
	tp->snd_wnd = NS_MAX(tp->snd_wnd, tcp_smss(tp));
	tp->t_flags &= ~TF_RECOVERY; /* plain send path */
	tcp_output(tp);
	tp->t_flags |= TF_RECOVERY;
	tp->t_rxt_next = SEQ_MAX(tp->t_rxt_next, tp->snd_nxt);
	tp->snd_nxt = SEQ_MAX(nxt, tp->snd_nxt);
	tp->snd_max = SEQ_MAX(max, tp->snd_max);
	tp->snd_cwnd = cwnd;
	tp->snd_wnd = wnd;
}

static void
tcp_fast_retransmit(struct ns_tcp *tp)
{
	struct ns *ns = tp->t_ns;

	ns->ns_stats.tcp_fast_rexmit++;
	tp->t_fastrx++;
	tcp_cc_loss(tp, false);
	tp->snd_recover = tp->snd_max;
	tp->t_rxt_next = tp->snd_una;
	tp->t_flags |= TF_RECOVERY;
	tp->t_rtstart = 0;
	tcp_rexmit_una(tp);
	if (!(tp->t_flags & TF_SACK))
		tp->snd_cwnd = tp->snd_ssthresh + 3 * tcp_smss(tp);
	tcp_rexmt_arm(tp);
}

static void
tcp_dupack(struct ns_tcp *tp, struct tcp_seg *sg)
{
	tp->t_dupacks++;
	if (tp->t_flags & TF_RECOVERY) {
		if (!(tp->t_flags & TF_SACK))
			tp->snd_cwnd += tcp_smss(tp); /* inflate */
		tcp_output(tp);
		return;
	}
	if (!SEQ_GEQ(tp->snd_una, tp->snd_recover))
		return; /* losses of a window already recovered (RFC 6582) */
	/* Three duplicates, or (RFC 6675) three segments SACKed above. */
	if (tp->t_dupacks >= 3 ||
	    ((tp->t_flags & TF_SACK) && tp->t_sacked >= 3 * tcp_smss(tp))) {
		tcp_fast_retransmit(tp);
		return;
	}
	/* Limited transmit (RFC 3042): a new segment for each of the first
	 * two duplicates, past cwnd, if the peer's window allows. */
	tp->snd_cwnd += tp->t_dupacks * tcp_smss(tp);
	tcp_output(tp);
	tp->snd_cwnd -= tp->t_dupacks * tcp_smss(tp);
}

/* RTT from the echoed timestamp, else from the timed segment. */
static void
tcp_ack_rtt(struct ns_tcp *tp, const struct tcp_seg *sg)
{
	const struct tcp_opts *to = &sg->sg_opts;
	uint32_t ms;

	if ((tp->t_flags & TF_TS) && (to->to_flags & TOF_TS) &&
	    to->to_tsecr != 0) {
		ms = tcp_ts_now(tp) - to->to_tsecr;
		if (ms < 60000)
			tcp_rtt_sample(tp, ms * 1000);
		return;
	}
	if (tp->t_rtstart != 0 && SEQ_GT(sg->sg_ack, tp->t_rtseq)) {
		tcp_rtt_sample(tp,
		    (uint32_t)(tp->t_ns->ns_now - tp->t_rtstart));
		tp->t_rtstart = 0;
	}
}

/* New data is acknowledged. NULL when the connection is over. */
static struct ns_tcp *
tcp_ack_new(struct ns_tcp *tp, struct tcp_seg *sg)
{
	uint32_t ack = sg->sg_ack, acked = ack - tp->snd_una;
	bool finacked = (tp->t_flags & TF_SENTFIN) && ack == tp->snd_max;

	if (tp->t_flags & TF_RECOVERY) {
		if (SEQ_GEQ(ack, tp->snd_recover)) {
			tp->t_flags &= ~TF_RECOVERY;
			tcp_cc_recovered(tp);
		} else if (!(tp->t_flags & TF_SACK)) {
			/* RFC 6582 partial ACK: next hole, deflate. */
			tp->snd_cwnd -= NS_MIN(acked, tp->snd_cwnd - 1);
			if (acked >= tcp_smss(tp))
				tp->snd_cwnd += tcp_smss(tp);
		}
	} else {
		tcp_cc_ack(tp, acked);
	}
	tp->t_dupacks = 0;
	tcp_ack_rtt(tp, sg);
	tcp_sb_drop(tp, acked - (finacked ? 1 : 0));
	tp->snd_una = ack;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	tcp_sack_trim(tp);
	if ((tp->t_flags & TF_RECOVERY) && !(tp->t_flags & TF_SACK))
		tcp_rexmit_una(tp);
	if (tp->snd_una == tp->snd_max)
		tp->t_rexmt_at = 0;
	else if (tp->t_persist_at == 0)
		tcp_rexmt_arm(tp);
	if (tp->t_sb_cc < tp->t_sb_hiwat && !(tp->t_flags & TF_SHUTWR))
		tcp_notify(tp, NS_EV_WRITE);
	if (!finacked)
		return tp;
	switch (tp->t_state) {
	case NS_TCPS_FIN_WAIT_1:
		tp->t_state = NS_TCPS_FIN_WAIT_2;
		if (tp->t_flags & TF_DETACHED)
			tp->t_2msl_at = tp->t_ns->ns_now + TCP_FIN2_US;
		break;
	case NS_TCPS_CLOSING:
		tcp_timewait(tp);
		return NULL;
	case NS_TCPS_LAST_ACK:
		tcp_close(tp, 0);
		return NULL;
	default:
		break;
	}
	return tp;
}

/* The window update rule (RFC 9293 3.10.7.4, SND.WL1 and SND.WL2). */
static void
tcp_ack_window(struct ns_tcp *tp, const struct tcp_seg *sg)
{
	uint32_t wnd = sg->sg_wnd << tp->snd_scale;

	if (!(SEQ_LT(tp->snd_wl1, sg->sg_seq) ||
		(tp->snd_wl1 == sg->sg_seq &&
		    SEQ_LEQ(tp->snd_wl2, sg->sg_ack))))
		return;
	if (tp->snd_wnd == 0 && wnd > 0) {
		/* Open again: send from snd_una; a probe byte the peer did
		 * not take goes again in order. */
		if (tp->t_persist_shift > 0 || tp->t_persist_at != 0)
			tp->snd_nxt = tp->snd_una;
		tp->t_persist_at = 0;
		tp->t_persist_shift = 0;
	}
	tp->snd_wnd = wnd;
	tp->snd_wl1 = sg->sg_seq;
	tp->snd_wl2 = sg->sg_ack;
	tp->max_sndwnd = NS_MAX(tp->max_sndwnd, wnd);
}

static struct ns_tcp *
tcp_ack(struct ns_tcp *tp, struct tcp_seg *sg)
{
	uint32_t oldwnd = tp->snd_wnd;
	bool dup;

	if ((tp->t_flags & TF_SACK) && (sg->sg_opts.to_flags & TOF_SACK))
		tcp_sack_update(tp, &sg->sg_opts);
	tcp_ack_window(tp, sg);
	if (SEQ_GT(sg->sg_ack, tp->snd_una))
		return tcp_ack_new(tp, sg);
	/* RFC 5681 2's duplicate ACK; not the answers to window probes. */
	dup = sg->sg_ack == tp->snd_una && tp->snd_max != tp->snd_una &&
	    sg->sg_dlen == 0 && !(sg->sg_flags & TH_FIN) &&
	    tp->snd_wnd == oldwnd && tp->snd_wnd != 0;
	if (dup)
		tcp_dupack(tp, sg);
	else if (sg->sg_ack == tp->snd_una && sg->sg_dlen > 0)
		; /* data carrying the same ACK: not a duplicate, no reset */
	else
		tp->t_dupacks = 0;
	return tp;
}

/* ---------------------------------------------------------------- */
/* Synchronized states                                              */
/* ---------------------------------------------------------------- */

static uint32_t
tcp_rwnd(const struct ns_tcp *tp)
{
	return SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
}

static bool
tcp_in_window(const struct ns_tcp *tp, uint32_t seq, uint32_t wnd)
{
	return SEQ_GEQ(seq, tp->rcv_nxt) && SEQ_LT(seq, tp->rcv_nxt + wnd);
}

/*
 * RFC 9293's acceptability test; a zero window still takes ACKs. A
 * segment without data may also sit at the window's right edge: a peer
 * that filled the window sends its ACKs with SEG.SEQ = RCV.NXT + RCV.WND,
 * and refusing them ignores their ACK field (RFC 9293 3.10.7.4: "special
 * allowance should be made to accept valid ACKs"); Linux's tcp_sequence
 * accepts the edge too. Found with Linux as the peer under loss: refused,
 * both ends waited on each other's ACKs for ever.
 */
static bool
tcp_acceptable(const struct ns_tcp *tp, const struct tcp_seg *sg)
{
	uint32_t len = sg->sg_dlen + ((sg->sg_flags & TH_FIN) ? 1 : 0);
	uint32_t wnd = tcp_rwnd(tp);

	if (len == 0)
		return tcp_in_window(tp, sg->sg_seq, wnd + 1);
	if (wnd == 0)
		return sg->sg_seq == tp->rcv_nxt;
	return tcp_in_window(tp, sg->sg_seq, wnd) ||
	    tcp_in_window(tp, sg->sg_seq + len - 1, wnd);
}

/* Cuts what lies before RCV.NXT or past the window. */
static void
tcp_trim(struct ns_tcp *tp, struct tcp_seg *sg)
{
	int32_t front = (int32_t)(tp->rcv_nxt - sg->sg_seq), back;

	if (front > 0) {
		front = (int32_t)NS_MIN((uint32_t)front, sg->sg_dlen);
		nb_adj(sg->sg_pkt, front);
		sg->sg_seq += (uint32_t)front;
		sg->sg_dlen -= (uint32_t)front;
		tp->t_dupbytes += (uint32_t)front;
		tp->t_flags |= TF_ACKNOW;
	}
	back =
	    (int32_t)(sg->sg_seq + sg->sg_dlen - (tp->rcv_nxt + tcp_rwnd(tp)));
	if (back > 0) {
		back = (int32_t)NS_MIN((uint32_t)back, sg->sg_dlen);
		nb_adj(sg->sg_pkt, -back);
		sg->sg_dlen -= (uint32_t)back;
		sg->sg_flags &= (uint8_t) ~(TH_FIN | TH_PSH);
		tp->t_flags |= TF_ACKNOW;
	}
}

/* A RST in a synchronized state (RFC 5961 3.2). */
static void
tcp_rst(struct ns_tcp *tp, const struct tcp_seg *sg)
{
	struct ns *ns = tp->t_ns;
	int err = -ECONNRESET;

	if (sg->sg_seq != tp->rcv_nxt) {
		if (tcp_in_window(tp, sg->sg_seq, NS_MAX(tcp_rwnd(tp), 1u)))
			tcp_send_challenge(tp);
		else
			ns->ns_stats.tcp_rx_rst_ignored++;
		return;
	}
	ns->ns_stats.tcp_rx_rst++;
	if (tp->t_state == NS_TCPS_SYN_RECEIVED)
		err = -ECONNREFUSED;
	else if (tp->t_state == NS_TCPS_CLOSING ||
	    tp->t_state == NS_TCPS_LAST_ACK || tp->t_state == NS_TCPS_TIME_WAIT)
		err = 0;
	ns->ns_stats.tcp_drops++;
	tcp_close(tp, err);
}

/* PAWS (RFC 7323 5): true when the segment is to be dropped. */
static bool
tcp_paws(struct ns_tcp *tp, const struct tcp_seg *sg)
{
	const struct tcp_opts *to = &sg->sg_opts;

	if (!(tp->t_flags & TF_TS) || (sg->sg_flags & TH_RST))
		return false;
	if (!(to->to_flags & TOF_TS))
		return true; /* RFC 7323 3.2: SHOULD drop */
	if ((int32_t)(to->to_tsval - tp->ts_recent) < 0 &&
	    ns_now_ms(tp->t_ns) - (uint32_t)(tp->ts_recent_age / 1000) <
		TS_24DAYS_MS) {
		if (tcp_challenge_ok(tp))
			tcp_send_ack(tp);
		return true;
	}
	return false;
}

static void
tcp_ts_update(struct ns_tcp *tp, const struct tcp_seg *sg)
{
	const struct tcp_opts *to = &sg->sg_opts;

	if ((tp->t_flags & TF_TS) && (to->to_flags & TOF_TS) &&
	    (int32_t)(to->to_tsval - tp->ts_recent) >= 0 &&
	    SEQ_LEQ(sg->sg_seq, tp->last_ack_sent)) {
		tp->ts_recent = to->to_tsval;
		tp->ts_recent_age = tp->t_ns->ns_now;
	}
}

/* SYN-RECEIVED of an active open that met a SYN: our SYN's ACK. */
static bool
tcp_synrcvd_ack(struct ns_tcp *tp, const struct tcp_seg *sg)
{
	if (!SEQ_GT(sg->sg_ack, tp->snd_una)) {
		tcp_respond(tp->t_ns, tp->t_laddr, tp->t_lport, tp->t_faddr,
		    tp->t_fport, sg->sg_ack, 0, TH_RST);
		return false;
	}
	tp->snd_una++; /* our SYN */
	tp->snd_wl1 = sg->sg_seq - 1;
	tcp_cc_init(tp);
	tcp_established(tp);
	tp->t_ns->ns_stats.tcp_connects++;
	tcp_notify(tp, NS_EV_WRITE);
	return true;
}

/* Checks before the ACK field is used; false: the segment is done. */
static bool
tcp_synced_checks(struct ns_tcp *tp, struct tcp_seg *sg)
{
	struct ns *ns = tp->t_ns;

	if (tcp_paws(tp, sg)) {
		ns->ns_stats.tcp_rx_paws++;
		return false;
	}
	if (sg->sg_flags & TH_RST) {
		tcp_rst(tp, sg);
		return false;
	}
	if (!tcp_acceptable(tp, sg)) {
		/* RFC 9293 says ACK it; limited like challenge ACKs, so
		 * forged segments cannot make us flood (Linux does too). */
		ns->ns_stats.tcp_rx_outwin++;
		if (tcp_challenge_ok(tp))
			tcp_send_ack(tp);
		return false;
	}
	if (sg->sg_flags & TH_SYN) {
		ns->ns_stats.tcp_rx_dupsyn++;
		tcp_send_challenge(tp);
		return false;
	}
	if (!(sg->sg_flags & TH_ACK))
		return false;
	if (SEQ_GT(sg->sg_ack, tp->snd_max) ||
	    SEQ_LT(sg->sg_ack, tp->snd_una - tp->max_sndwnd)) {
		ns->ns_stats.tcp_rx_badack++;
		tcp_send_challenge(tp);
		return false;
	}
	return true;
}

static void
tcp_synced(struct ns_tcp *tp, struct tcp_seg *sg)
{
	struct ns *ns = tp->t_ns;

	if (!tcp_synced_checks(tp, sg))
		return;
	if (tp->t_state == NS_TCPS_SYN_RECEIVED && !tcp_synrcvd_ack(tp, sg))
		return;
	tcp_ts_update(tp, sg);
	tcp_trim(tp, sg);
	if ((tp = tcp_ack(tp, sg)) == NULL)
		return;
	if (sg->sg_flags & TH_URG) {
		ns->ns_stats.tcp_rx_urg++;
		if (SEQ_GT(sg->sg_seq + sg->sg_urp, tp->rcv_up))
			tp->rcv_up = sg->sg_seq + sg->sg_urp;
	}
	if (sg->sg_dlen > 0 || (sg->sg_flags & TH_FIN)) {
		if (TCPS_HAVE_RCVD_FIN(tp->t_state)) {
			tp->t_flags |= TF_ACKNOW; /* a retransmitted FIN */
		} else if (sg->sg_dlen > 0 && (tp->t_flags & TF_RCV_SHUT)) {
			ns->ns_stats.tcp_rx_afterclose++;
			tcp_drop(tp, -ECONNRESET);
			return;
		} else {
			tcp_text(tp, sg);
			if (tp->t_state == NS_TCPS_TIME_WAIT)
				return;
		}
	}
	tcp_output(tp);
}

/* ---------------------------------------------------------------- */
/* SYN-SENT                                                         */
/* ---------------------------------------------------------------- */

static void
tcp_syn_options(struct ns_tcp *tp, const struct tcp_seg *sg)
{
	const struct tcp_opts *to = &sg->sg_opts;

	if ((to->to_flags & TOF_WSCALE) && (tp->t_flags & TF_REQ_WSCALE)) {
		tp->t_flags |= TF_WSCALE;
		tp->snd_scale = to->to_wscale;
	} else {
		tp->rcv_scale = 0;
		tp->snd_scale = 0;
	}
	if ((to->to_flags & TOF_TS) && (tp->t_flags & TF_REQ_TS)) {
		tp->t_flags |= TF_TS;
		tp->ts_recent = to->to_tsval;
		tp->ts_recent_age = tp->t_ns->ns_now;
	}
	if ((to->to_flags & TOF_SACK_PERM) && (tp->t_flags & TF_REQ_SACK))
		tp->t_flags |= TF_SACK;
	tp->t_maxseg = tcp_peer_mss(tp->t_ns, tp->t_faddr, to);
}

static void
tcp_syn_sent(struct ns_tcp *tp, struct tcp_seg *sg)
{
	struct ns *ns = tp->t_ns;
	bool ack = (sg->sg_flags & TH_ACK) != 0;

	if (ack &&
	    (SEQ_LEQ(sg->sg_ack, tp->iss) || SEQ_GT(sg->sg_ack, tp->snd_max))) {
		ns->ns_stats.tcp_rx_badack++;
		if (!(sg->sg_flags & TH_RST))
			tcp_reset_for(ns, sg);
		return;
	}
	if (sg->sg_flags & TH_RST) {
		if (!ack) {
			ns->ns_stats.tcp_rx_rst_ignored++;
			return;
		}
		ns->ns_stats.tcp_rx_rst++;
		tcp_close(tp, -ECONNREFUSED);
		return;
	}
	if (!(sg->sg_flags & TH_SYN))
		return;
	tp->irs = sg->sg_seq;
	tp->rcv_nxt = tp->irs + 1;
	/* The window our SYN offered (never scaled) is open already. */
	tp->rcv_adv = tp->rcv_nxt + NS_MIN(tcp_rcv_space(tp), TCP_MAXWIN);
	tp->last_ack_sent = tp->rcv_nxt;
	tcp_syn_options(tp, sg);
	tp->snd_wnd = sg->sg_wnd; /* never scaled in a SYN */
	tp->max_sndwnd = tp->snd_wnd;
	tp->snd_wl1 = sg->sg_seq;
	tp->snd_wl2 = sg->sg_ack;
	if (!ack) {
		/* Simultaneous open: SYN-ACK from SYN-RECEIVED. */
		tp->t_state = NS_TCPS_SYN_RECEIVED;
		tp->snd_nxt = tp->iss;
		tp->t_rexmt_at = 0;
		tp->t_rxtshift = 0;
		tcp_output(tp);
		return;
	}
	tcp_ack_rtt(tp, sg);
	tp->snd_una = sg->sg_ack;
	tp->snd_recover = tp->snd_una;
	tp->t_rexmt_at = 0;
	tcp_cc_init(tp);
	tcp_established(tp);
	ns->ns_stats.tcp_connects++;
	tcp_notify(tp, NS_EV_WRITE);
	tp->t_flags |= TF_ACKNOW;
	sg->sg_seq++;
	sg->sg_flags &= (uint8_t)~TH_SYN;
	if (sg->sg_dlen > 0 || (sg->sg_flags & TH_FIN))
		tcp_synced(tp, sg);
	else
		tcp_output(tp);
}

/* ---------------------------------------------------------------- */
/* TIME-WAIT                                                        */
/* ---------------------------------------------------------------- */

/* Is this SYN clearly from a new incarnation (RFC 6191)? */
static bool
tcp_tw_reusable(const struct ns_tcp *tp, const struct tcp_seg *sg)
{
	const struct tcp_opts *to = &sg->sg_opts;

	if ((tp->t_flags & TF_TS) && (to->to_flags & TOF_TS))
		return (int32_t)(to->to_tsval - tp->ts_recent) > 0;
	return SEQ_GT(sg->sg_seq, tp->rcv_nxt);
}

static void
tcp_timewait_input(struct ns_tcp *tp, struct tcp_seg *sg)
{
	struct ns *ns = tp->t_ns;
	struct ns_tcp *lis;

	if (sg->sg_flags & TH_RST) {
		tcp_rst(tp, sg);
		return;
	}
	if ((sg->sg_flags & (TH_SYN | TH_ACK)) == TH_SYN &&
	    tcp_tw_reusable(tp, sg)) {
		ns->ns_stats.tcp_timewait_reused++;
		tcp_close(tp, 0);
		lis = tcp_lookup_listen(ns, sg->sg_dst, sg->sg_dport);
		if (lis != NULL)
			tcp_listen_input(ns, lis, sg);
		else
			tcp_reset_for(ns, sg);
		return;
	}
	if (sg->sg_flags & TH_SYN) {
		ns->ns_stats.tcp_rx_dupsyn++;
		tcp_send_challenge(tp);
		return;
	}
	if (sg->sg_flags & TH_FIN) {
		tcp_send_ack(tp);
		tp->t_2msl_at = ns->ns_now + 2000ull * ns->ns_cfg.nc_tcp_msl_ms;
		tcp_timers_update(tp);
	} else if (sg->sg_dlen > 0) {
		tcp_send_ack(tp);
	}
}

void
tcp_segment(struct ns_tcp *tp, struct tcp_seg *sg)
{
	struct ns *ns = tp->t_ns;

	tp->t_rcvtime = ns->ns_now;
	tp->t_keep_sent = 0;
	if ((tp->t_flags & TF_KEEPALIVE) && TCPS_HAVE_ESTABLISHED(tp->t_state))
		tp->t_keep_at = ns->ns_now + tp->t_keepidle * 1000ull;
	switch (tp->t_state) {
	case NS_TCPS_SYN_SENT:
		tcp_syn_sent(tp, sg);
		break;
	case NS_TCPS_TIME_WAIT:
		tcp_timewait_input(tp, sg);
		break;
	default:
		tcp_synced(tp, sg);
		break;
	}
}
