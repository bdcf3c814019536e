/*
 * ns_tcp_output.c: sending TCP segments.
 *
 * tcp_output decides what a connection sends now, as BSD's does: data
 * allowed by the peer's window and the congestion window, cut to the MSS
 * (or a TSO frame of whole MSS pieces when the netif offers it), held back
 * by Nagle's algorithm unless TF_NODELAY (RFC 9293 3.7.4) and by sender
 * silly-window avoidance; the FIN after the last byte; window updates
 * worth sending (receiver SWS avoidance, RFC 9293 3.8.6.2.2); and owed
 * ACKs. In SACK recovery it first fills holes the scoreboard shows, as
 * long as the pipe (RFC 6675) leaves room in the congestion window.
 *
 * A segment is a fresh header buffer (with room for IP and Ethernet in
 * front) followed by references to the send buffer's bytes: data is not
 * copied unless small. The checksum is left to the device when it can do
 * it (the pseudo-header sum goes in the field), else computed here.
 */
#include "netstack/ns_tcp.h"

#define TCP_COPY_MAX 512 /* data up to this is copied behind the header */

static void
put_hdr(struct tcp_hdr *th, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint32_t hl, uint8_t flags, uint16_t win)
{
	th->th_sport = ns_hton16(sport);
	th->th_dport = ns_hton16(dport);
	th->th_seq = ns_hton32(seq);
	th->th_ack = ns_hton32(ack);
	th->th_off = (uint8_t)((hl / 4) << 4);
	th->th_flags = flags;
	th->th_win = ns_hton16(win);
	th->th_sum = 0;
	th->th_urp = 0;
}

/* Checksum: the device's when it can, else ours. */
static void
tcp_cksum(struct ns *ns, struct nb *h, uint32_t src, uint32_t dst, bool tso)
{
	struct tcp_hdr *th = (struct tcp_hdr *)h->nb_data;
	uint32_t len = nb_pktlen(h);

	h->nb_csum_start = 0;
	h->nb_csum_off = 16;
	if (tso) {
		th->th_sum =
		    ns_sum_fold(ns_sum_pseudo(src, dst, IP_PROTO_TCP, 0));
		h->nb_flags |= NB_TX_TSO | NB_TX_CSUM;
		return;
	}
	th->th_sum = ns_sum_fold(ns_sum_pseudo(src, dst, IP_PROTO_TCP, len));
	if (ns->ns_nif->nif_caps & NETIF_CAP_TXCSUM) {
		h->nb_flags |= NB_TX_CSUM;
		return;
	}
	th->th_sum = (uint16_t)~ns_sum_fold(ns_sum_chain(h, 0, len, 0));
}

void
tcp_respond(struct ns *ns, uint32_t laddr, uint16_t lport, uint32_t faddr,
    uint16_t fport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	struct nb *h;

	if ((h = nb_get(&ns->ns_pool, NB_MAXHDR)) == NULL) {
		ns->ns_stats.tcp_tx_nobufs++;
		return;
	}
	h->nb_len = h->nb_pktlen = TCP_HLEN_MIN;
	put_hdr((struct tcp_hdr *)h->nb_data, lport, fport, seq, ack,
	    TCP_HLEN_MIN, flags, 0);
	tcp_cksum(ns, h, laddr, faddr, false);
	ns->ns_stats.tcp_tx++;
	if (flags & TH_RST)
		ns->ns_stats.tcp_tx_rst++;
	ns_ip_output(ns, h, laddr, faddr, IP_PROTO_TCP, NS_IPO_DF);
}

void
tcp_reset_for(struct ns *ns, const struct tcp_seg *sg)
{
	uint32_t len = sg->sg_dlen;

	if (sg->sg_flags & TH_RST)
		return;
	if (sg->sg_flags & TH_ACK) {
		tcp_respond(ns, sg->sg_dst, sg->sg_dport, sg->sg_src,
		    sg->sg_sport, sg->sg_ack, 0, TH_RST);
		return;
	}
	len += (sg->sg_flags & TH_SYN) ? 1 : 0;
	len += (sg->sg_flags & TH_FIN) ? 1 : 0;
	tcp_respond(ns, sg->sg_dst, sg->sg_dport, sg->sg_src, sg->sg_sport, 0,
	    sg->sg_seq + len, TH_RST | TH_ACK);
}

/* The window to advertise now; moves rcv_adv, never backwards. */
static uint16_t
tcp_rcv_window(struct ns_tcp *tp, bool syn)
{
	uint32_t space = tcp_rcv_space(tp), field, edge;

	if (space < tp->t_rb_hiwat / 4 && space < tp->t_maxseg)
		space = 0;
	if (SEQ_GT(tp->rcv_adv, tp->rcv_nxt) &&
	    space < tp->rcv_adv - tp->rcv_nxt)
		space = tp->rcv_adv - tp->rcv_nxt;
	if (syn) {
		field = NS_MIN(space, TCP_MAXWIN);
		edge = tp->rcv_nxt + field;
	} else {
		field = NS_MIN(space >> tp->rcv_scale, TCP_MAXWIN);
		edge = tp->rcv_nxt + (field << tp->rcv_scale);
		/* Rounding down to the scale must not pull the edge back
		 * from what we offered (RFC 9293 3.8.6: no shrinking): the
		 * peer may have sent up to it. Round up then, as Linux does
		 * (tcp_select_window). */
		if (SEQ_LT(edge, tp->rcv_adv) && field < TCP_MAXWIN) {
			field++;
			edge = tp->rcv_nxt + (field << tp->rcv_scale);
		}
	}
	if (SEQ_GT(edge, tp->rcv_adv))
		tp->rcv_adv = edge;
	return (uint16_t)field;
}

/*
 * The segment of the send buffer holding byte off, and off within it:
 * from the hint when it is not past off, so sending a window does not
 * walk the buffer from its start for every segment.
 */
static struct nb *
tcp_sb_seek(struct ns_tcp *tp, uint32_t off, uint32_t *segoff)
{
	struct nb *s = tp->t_sb_hint;
	uint32_t base = tp->t_sb_hint_off;

	if (s == NULL || off < base) {
		s = tp->t_sb;
		base = 0;
	}
	while (s != NULL && base + s->nb_len <= off && s->nb_next != NULL) {
		base += s->nb_len;
		s = s->nb_next;
	}
	tp->t_sb_hint = s;
	tp->t_sb_hint_off = base;
	*segoff = off - base;
	return s;
}

/* Builds and sends one segment of tp: data [off, off+len) of t_sb. */
static int
tcp_xmit(struct ns_tcp *tp, uint32_t seq, uint8_t flags, uint32_t off,
    uint32_t len, uint32_t tso_mss)
{
	struct ns *ns = tp->t_ns;
	uint8_t opt[40];
	uint32_t ol = tcp_opts_build(tp, flags, opt), hl = TCP_HLEN_MIN + ol;
	uint32_t ack = (flags & TH_ACK) ? tp->rcv_nxt : 0;
	struct nb *h, *d, *s = NULL;
	uint32_t so = 0;

	if (len > 0)
		s = tcp_sb_seek(tp, off, &so);
	if ((h = nb_get(&ns->ns_pool, NB_MAXHDR)) == NULL)
		goto nobufs;
	put_hdr((struct tcp_hdr *)h->nb_data, tp->t_lport, tp->t_fport, seq,
	    ack, hl, flags, tcp_rcv_window(tp, (flags & TH_SYN) != 0));
	memcpy(h->nb_data + TCP_HLEN_MIN, opt, ol);
	h->nb_len = h->nb_pktlen = hl;
	if (len > 0 && len <= TCP_COPY_MAX && tso_mss == 0) {
		nb_copydata_at(s, so, len, h->nb_data + hl);
		h->nb_len += len;
		h->nb_pktlen += len;
	} else if (len > 0) {
		if ((d = nb_ref_at(&ns->ns_pool, s, so, len)) == NULL) {
			nb_freem(h);
			goto nobufs;
		}
		nb_cat(h, d);
	}
	if (tso_mss != 0) {
		h->nb_tso_mss = (uint16_t)tso_mss;
		h->nb_hdrlen = (uint16_t)hl;
	}
	tcp_cksum(ns, h, tp->t_laddr, tp->t_faddr, tso_mss != 0);
	if (flags & TH_ACK) {
		tp->last_ack_sent = tp->rcv_nxt;
		tp->t_flags &= ~(TF_ACKNOW | TF_DELACK);
		tp->t_delack_at = 0;
		tp->t_delack_segs = 0;
	}
	ns->ns_stats.tcp_tx++;
	if (flags & TH_RST)
		ns->ns_stats.tcp_tx_rst++;
	ns_ip_output(ns, h, tp->t_laddr, tp->t_faddr, IP_PROTO_TCP, NS_IPO_DF);
	return 0;
nobufs:
	ns->ns_stats.tcp_tx_nobufs++;
	return -ENOBUFS;
}

void
tcp_send_ack(struct ns_tcp *tp)
{
	tcp_xmit(tp, tp->snd_nxt, TH_ACK, 0, 0, 0);
}

void
tcp_send_challenge(struct ns_tcp *tp)
{
	if (!tcp_challenge_ok(tp))
		return;
	tp->t_ns->ns_stats.tcp_challenge_ack++;
	tp->t_chal++;
	tcp_send_ack(tp);
}

void
tcp_send_keepalive(struct ns_tcp *tp)
{
	tcp_xmit(tp, tp->snd_una - 1, TH_ACK, 0, 0, 0);
}

/* SYN or SYN-ACK (simultaneous open) from a control block. */
static int
tcp_output_syn(struct ns_tcp *tp)
{
	uint8_t flags = TH_SYN;

	if (tp->snd_nxt != tp->iss)
		return 0;
	if (tp->t_state == NS_TCPS_SYN_RECEIVED)
		flags |= TH_ACK;
	tcp_xmit(tp, tp->iss, flags, 0, 0, 0);
	tp->snd_nxt = tp->iss + 1;
	if (SEQ_GT(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	if (tp->t_rexmt_at == 0)
		tcp_rexmt_arm(tp);
	return 0;
}

/* Payload bytes in a full segment, after our usual options. */
static uint32_t
tcp_segsz(const struct ns_tcp *tp)
{
	uint32_t ol = (tp->t_flags & TF_TS) ? 12 : 0;

	if ((tp->t_flags & TF_SACK) && tp->t_nrsack > 0)
		ol += 4 +
		    8 *
			NS_MIN((uint32_t)tp->t_nrsack,
			    (tp->t_flags & TF_TS) ? 3u : 4u);
	return tp->t_maxseg > ol + 8 ? tp->t_maxseg - ol : 8;
}

/* SACK recovery: retransmit the next hole if the pipe allows. */
static int
tcp_output_hole(struct ns_tcp *tp, uint32_t segsz)
{
	uint32_t start, len;

	if (tcp_sack_pipe(tp) + segsz > tp->snd_cwnd ||
	    tcp_sack_hole(tp, &start, &len) != 0)
		return 0;
	len = NS_MIN(len, segsz);
	if (tcp_xmit(tp, start, TH_ACK, start - tp->snd_una, len, 0) != 0)
		return 0;
	tp->t_rxt_next = start + len;
	tp->t_rexmits++;
	tp->t_sackrx++;
	tp->t_ns->ns_stats.tcp_rexmit++;
	tp->t_ns->ns_stats.tcp_sack_rexmit++;
	tp->t_rtstart = 0;
	if (tp->t_rexmt_at == 0)
		tcp_rexmt_arm(tp);
	return 1;
}

/* How much the window lets us send past snd_nxt. */
static uint32_t
tcp_usable(const struct ns_tcp *tp, uint32_t off)
{
	uint32_t win = NS_MIN(tp->snd_wnd, tp->snd_cwnd), pipe;

	if ((tp->t_flags & TF_FORCE) && win == 0)
		win = 1;
	if ((tp->t_flags & (TF_RECOVERY | TF_SACK)) ==
	    (TF_RECOVERY | TF_SACK)) {
		pipe = tcp_sack_pipe(tp);
		win = tp->snd_wnd > off ? tp->snd_wnd - off : 0;
		return NS_MIN(win,
		    tp->snd_cwnd > pipe ? tp->snd_cwnd - pipe : 0);
	}
	return win > off ? win - off : 0;
}

/*
 * Would a window update be worth a segment? Asked after the application
 * read (the only thing that opens the window); not on every output, so
 * the larger scaled window after a handshake goes out with the next
 * segment rather than in one of its own.
 */
bool
tcp_wupdate_due(struct ns_tcp *tp)
{
	uint32_t space = tcp_rcv_space(tp), adv;

	space = NS_MIN(space, TCP_MAXWIN << tp->rcv_scale);
	adv = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
	if (space <= adv)
		return false;
	space -= adv;
	return space >= 2u * tp->t_maxseg || 2 * space >= tp->t_rb_hiwat;
}

/* Nagle and sender silly-window avoidance: send len bytes now? */
static bool
tcp_send_now(struct ns_tcp *tp, uint32_t off, uint32_t len, uint32_t segsz)
{
	if (len >= segsz || (tp->t_flags & TF_FORCE))
		return true;
	if (SEQ_LT(tp->snd_nxt, tp->snd_max))
		return true;
	if (off + len >= tp->t_sb_cc &&
	    (tp->snd_max == tp->snd_una || (tp->t_flags & TF_NODELAY)))
		return true;
	return tp->max_sndwnd > 0 && len >= tp->max_sndwnd / 2;
}

/* One segment of a synchronized connection; 1 if more may follow. */
static int
tcp_output_one(struct ns_tcp *tp)
{
	struct netif *nif = tp->t_ns->ns_nif;
	uint32_t segsz = tcp_segsz(tp), off, avail, len, tso = 0;
	uint8_t flags = TH_ACK;
	bool send = false;

	if ((tp->t_flags & TF_RECOVERY) && (tp->t_flags & TF_SACK) &&
	    tcp_output_hole(tp, segsz))
		return 1;
	off = NS_MIN(tp->snd_nxt - tp->snd_una, tp->t_sb_cc);
	avail = tp->t_sb_cc - off;
	len = NS_MIN(avail, tcp_usable(tp, off));
	if (len > segsz) {
		if ((nif->nif_caps & NETIF_CAP_TSO4) &&
		    tp->snd_nxt == tp->snd_max &&
		    !(tp->t_flags & TF_RECOVERY) && len >= 2 * segsz) {
			len = NS_MIN(len, nif->nif_tso_max);
			len -= len % segsz;
			tso = segsz;
		} else {
			len = segsz;
		}
	}
	/* The FIN after the last byte: first time, or again after a
	 * rollback, never once it is acknowledged. */
	if ((tp->t_flags & TF_SHUTWR) && off + len == tp->t_sb_cc &&
	    (!(tp->t_flags & TF_SENTFIN) ||
		(tp->snd_una != tp->snd_max &&
		    SEQ_LEQ(tp->snd_nxt, tp->snd_una + tp->t_sb_cc))))
		flags |= TH_FIN;
	if (len > 0)
		send = tcp_send_now(tp, off, len, segsz);
	if ((flags & TH_FIN) || (tp->t_flags & TF_ACKNOW))
		send = true;
	if (!send) {
		if (avail > 0 && tp->snd_wnd == 0 && tp->t_rexmt_at == 0 &&
		    tp->t_persist_at == 0)
			tp->t_persist_at =
			    tp->t_ns->ns_now + TCP_PERSIST_MIN_US;
		return 0;
	}
	if (len > 0 && len == avail)
		flags |= TH_PSH; /* the buffer is empty after this */
	if (tcp_xmit(tp, tp->snd_nxt, flags, off, len,
		tso > 0 && len > tso ? tso : 0) != 0)
		return 0;
	if (len == 0 && !(flags & TH_FIN))
		return 0;
	if (tp->snd_nxt == tp->snd_max) {
		tp->t_bytes_sent += len;
		if (!(tp->t_flags & TF_TS) && tp->t_rtstart == 0) {
			tp->t_rtseq = tp->snd_nxt;
			tp->t_rtstart = tp->t_ns->ns_now;
		}
	} else {
		tp->t_rexmits++;
		tp->t_ns->ns_stats.tcp_rexmit++;
		tp->t_rtstart = 0; /* Karn */
	}
	tp->snd_nxt += len + ((flags & TH_FIN) ? 1 : 0);
	if (flags & TH_FIN)
		tp->t_flags |= TF_SENTFIN;
	if (SEQ_GT(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	if (tp->t_flags & TF_FORCE) {
		tp->t_flags &= ~TF_FORCE;
		return 0;
	}
	if (tp->t_rexmt_at == 0 && tp->snd_nxt != tp->snd_una &&
	    tp->t_persist_at == 0)
		tcp_rexmt_arm(tp);
	return len > 0 && avail > len ? 1 : 0;
}

int
tcp_output(struct ns_tcp *tp)
{
	int i;

	switch (tp->t_state) {
	case NS_TCPS_CLOSED:
	case NS_TCPS_LISTEN:
	case NS_TCPS_TIME_WAIT:
		return 0;
	case NS_TCPS_SYN_SENT:
	case NS_TCPS_SYN_RECEIVED:
		tcp_output_syn(tp);
		break;
	default:
		for (i = 0; i < 256 && tcp_output_one(tp) > 0; i++)
			;
		break;
	}
	tcp_timers_update(tp);
	return 0;
}

/* A SYN-ACK from a SYN cache entry or a cookie: no control block. */
int
tcp_send_synack(struct ns *ns, const struct tcp_syn *sc)
{
	uint8_t *o;
	uint32_t n = 0, tsval;
	struct nb *h;

	if ((h = nb_get(&ns->ns_pool, NB_MAXHDR)) == NULL) {
		ns->ns_stats.tcp_tx_nobufs++;
		return -ENOBUFS;
	}
	o = h->nb_data + TCP_HLEN_MIN;
	o[n++] = TCPOPT_MSS;
	o[n++] = 4;
	o[n++] = (uint8_t)(tcp_mss_for(ns, sc->sc_faddr) >> 8);
	o[n++] = (uint8_t)tcp_mss_for(ns, sc->sc_faddr);
	if (sc->sc_wscale != 0xff) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_WSCALE;
		o[n++] = 3;
		o[n++] = sc->sc_rscale;
	}
	o[n++] = sc->sc_sack ? TCPOPT_SACK_PERM : TCPOPT_NOP;
	o[n++] = sc->sc_sack ? 2 : TCPOPT_NOP;
	if (sc->sc_ts) {
		tsval = ns_now_ms(ns) +
		    tcp_ts_offset(ns, sc->sc_laddr, sc->sc_lport, sc->sc_faddr,
			sc->sc_fport);
		o[n++] = TCPOPT_TS;
		o[n++] = 10;
		o[n++] = (uint8_t)(tsval >> 24);
		o[n++] = (uint8_t)(tsval >> 16);
		o[n++] = (uint8_t)(tsval >> 8);
		o[n++] = (uint8_t)tsval;
		o[n++] = (uint8_t)(sc->sc_tsval >> 24);
		o[n++] = (uint8_t)(sc->sc_tsval >> 16);
		o[n++] = (uint8_t)(sc->sc_tsval >> 8);
		o[n++] = (uint8_t)sc->sc_tsval;
	} else {
		n -= 2; /* no SACK-permitted padding needed alone */
		if (sc->sc_sack) {
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_SACK_PERM;
			o[n++] = 2;
		}
	}
	h->nb_len = h->nb_pktlen = TCP_HLEN_MIN + n;
	put_hdr((struct tcp_hdr *)h->nb_data, sc->sc_lport, sc->sc_fport,
	    sc->sc_iss, sc->sc_irs + 1, TCP_HLEN_MIN + n, TH_SYN | TH_ACK,
	    (uint16_t)NS_MIN(ns->ns_cfg.nc_tcp_rcvbuf, TCP_MAXWIN));
	tcp_cksum(ns, h, sc->sc_laddr, sc->sc_faddr, false);
	ns->ns_stats.tcp_tx++;
	return ns_ip_output(ns, h, sc->sc_laddr, sc->sc_faddr, IP_PROTO_TCP,
	    NS_IPO_DF);
}
