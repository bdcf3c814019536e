/*
 * ns_tcp_syn.c: passive opens: the SYN cache and SYN cookies.
 *
 * A SYN to a listener does not get a control block. It gets a small SYN
 * cache entry (struct tcp_syn: the peer's ISN and options, our ISN) and a
 * SYN-ACK, retransmitted at 1, 2 and 4 seconds; the ACK that completes the
 * handshake turns the entry into a connection on the listener's accept
 * queue. The cache is bounded per listener (its backlog, at least 16) and
 * per instance (nc_syncache).
 *
 * When either bound is reached, and unless NS_CF_NO_SYNCOOKIES, the
 * SYN-ACK carries a SYN cookie instead and nothing is kept: the ISN is
 *   bits 8-31  a 24-bit MAC: SipHash of the tuple, the peer's ISN, the
 *              64-second period and the low byte, under a random key;
 *   bit 7      the period's parity (the current or the previous period
 *              is accepted);
 *   bits 4-6   the MSS, as an index into tcp_cookie_mss (rounded down);
 *   bits 1-3   the peer's window scale as an index into tcp_cookie_ws (0:
 *              none), rounded down, so we never overestimate its window;
 *   bit 0      SACK permitted.
 * Timestamps are on when the completing ACK carries them (the peer only
 * sends them if both sides did); our offset is a hash of the tuple, so it
 * matches the SYN-ACK's. Cookie ACKs are only looked at for two periods
 * after the last cookie was sent. A bad cookie is answered as an ACK to a
 * listener is: with a RST.
 */
#include "netstack/ns_tcp.h"

static const uint16_t tcp_cookie_mss[8] = { 216, 536, 1024, 1220, 1300, 1360,
	1440, 1460 };
static const uint8_t tcp_cookie_ws[8] = { 0xff, 0, 1, 2, 4, 6, 7, 8 };

static void syn_timer(struct ns *ns, void *arg);

int
tcp_syn_init(struct ns *ns)
{
	uint32_t n = 64, i;

	while (n < ns->ns_cfg.nc_syncache && n < (1u << 16))
		n <<= 1;
	ns->ns_syn_hash = ns_zalloc(ns, n * sizeof(*ns->ns_syn_hash));
	if (ns->ns_syn_hash == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		TAILQ_INIT(&ns->ns_syn_hash[i]);
	ns->ns_syn_hmask = n - 1;
	return 0;
}

static void
syn_free(struct ns *ns, struct tcp_syn *sc)
{
	TAILQ_REMOVE(&ns->ns_syn_hash[sc->sc_bucket], sc, sc_link);
	ns_timer_stop(ns, &sc->sc_timer);
	sc->sc_lis->t_synlen--;
	ns->ns_nsyn--;
	ns_free(ns, sc, sizeof(*sc));
}

void
tcp_syn_drop_listener(struct ns *ns, struct ns_tcp *lis)
{
	struct tcp_syn *sc, *next;
	uint32_t i;

	for (i = 0; i <= ns->ns_syn_hmask && lis->t_synlen > 0; i++)
		TAILQ_FOREACH_SAFE (sc, &ns->ns_syn_hash[i], sc_link, next) {
			if (sc->sc_lis == lis)
				syn_free(ns, sc);
		}
}

void
tcp_syn_fini(struct ns *ns)
{
	struct tcp_syn *sc;
	uint32_t i;

	if (ns->ns_syn_hash == NULL)
		return;
	for (i = 0; i <= ns->ns_syn_hmask; i++)
		while ((sc = TAILQ_FIRST(&ns->ns_syn_hash[i])) != NULL)
			syn_free(ns, sc);
	ns_free(ns, ns->ns_syn_hash,
	    (ns->ns_syn_hmask + 1) * sizeof(*ns->ns_syn_hash));
	ns->ns_syn_hash = NULL;
}

static uint32_t
syn_bucket(struct ns *ns, const struct tcp_seg *sg)
{
	return ns_tuple_hash(ns->ns_hash_key, sg->sg_dst, sg->sg_dport,
		   sg->sg_src, sg->sg_sport) &
	    ns->ns_syn_hmask;
}

static struct tcp_syn *
syn_lookup(struct ns *ns, const struct tcp_seg *sg)
{
	struct tcp_syn *sc;

	TAILQ_FOREACH (sc, &ns->ns_syn_hash[syn_bucket(ns, sg)], sc_link) {
		if (sc->sc_fport == sg->sg_sport &&
		    sc->sc_lport == sg->sg_dport &&
		    sc->sc_faddr == sg->sg_src && sc->sc_laddr == sg->sg_dst)
			return sc;
	}
	return NULL;
}

static void
syn_timer(struct ns *ns, void *arg)
{
	struct tcp_syn *sc = arg;

	if (sc->sc_rexmits >= TCP_SYNACK_RETRIES) {
		ns->ns_stats.tcp_syncache_timeout++;
		syn_free(ns, sc);
		return;
	}
	sc->sc_rexmits++;
	ns->ns_stats.tcp_synack_rexmit++;
	tcp_send_synack(ns, sc);
	ns_timer_arm(ns, &sc->sc_timer,
	    ns->ns_now + ((uint64_t)TCP_RTO_INIT_US << sc->sc_rexmits));
}

/* The parameters of a SYN, as the cache or a cookie keep them. */
static void
syn_fill(struct ns *ns, struct ns_tcp *lis, const struct tcp_seg *sg,
    struct tcp_syn *sc)
{
	const struct tcp_opts *to = &sg->sg_opts;
	const struct ns_config *c = &ns->ns_cfg;

	sc->sc_lis = lis;
	sc->sc_laddr = sg->sg_dst;
	sc->sc_faddr = sg->sg_src;
	sc->sc_lport = sg->sg_dport;
	sc->sc_fport = sg->sg_sport;
	sc->sc_irs = sg->sg_seq;
	sc->sc_wnd = sg->sg_wnd;
	sc->sc_mss = tcp_peer_mss(ns, sg->sg_src, to);
	sc->sc_wscale = 0xff;
	if ((to->to_flags & TOF_WSCALE) && !(c->nc_flags & NS_CF_NO_WSCALE)) {
		sc->sc_wscale = to->to_wscale;
		sc->sc_rscale = tcp_rscale(lis->t_rb_hiwat);
	}
	sc->sc_sack =
	    (to->to_flags & TOF_SACK_PERM) && !(c->nc_flags & NS_CF_NO_SACK);
	sc->sc_ts = (to->to_flags & TOF_TS) && !(c->nc_flags & NS_CF_NO_TS);
	sc->sc_tsval = to->to_tsval;
}

/* ---------------------------------------------------------------- */
/* Cookies                                                          */
/* ---------------------------------------------------------------- */

static uint32_t
cookie_mac(struct ns *ns, const struct tcp_syn *sc, uint64_t period,
    uint8_t low)
{
	uint8_t in[25];

	memcpy(in, &sc->sc_laddr, 4);
	memcpy(in + 4, &sc->sc_faddr, 4);
	memcpy(in + 8, &sc->sc_lport, 2);
	memcpy(in + 10, &sc->sc_fport, 2);
	memcpy(in + 12, &sc->sc_irs, 4);
	memcpy(in + 16, &period, 8);
	in[24] = low;
	return (uint32_t)ns_siphash(ns->ns_cookie_key, in, sizeof(in)) &
	    0xffffff;
}

static uint32_t
cookie_make(struct ns *ns, const struct tcp_syn *sc)
{
	uint64_t period = ns->ns_now / TCP_COOKIE_PERIOD_US;
	uint8_t low = 0, i, m = 0, w = 0;

	for (i = 0; i < 8; i++)
		if (tcp_cookie_mss[i] <= sc->sc_mss)
			m = i;
	if (sc->sc_wscale != 0xff)
		for (i = 1; i < 8; i++)
			if (tcp_cookie_ws[i] <= sc->sc_wscale)
				w = i;
	low = (uint8_t)((period & 1) << 7 | m << 4 | w << 1 | sc->sc_sack);
	return cookie_mac(ns, sc, period, low) << 8 | low;
}

/* Rebuilds the SYN's parameters from a cookie ACK; false if forged. */
static bool
cookie_check(struct ns *ns, struct ns_tcp *lis, const struct tcp_seg *sg,
    struct tcp_syn *sc)
{
	uint32_t iss = sg->sg_ack - 1;
	uint64_t period = ns->ns_now / TCP_COOKIE_PERIOD_US;
	uint8_t low = (uint8_t)iss;

	memset(sc, 0, sizeof(*sc));
	sc->sc_lis = lis;
	sc->sc_laddr = sg->sg_dst;
	sc->sc_faddr = sg->sg_src;
	sc->sc_lport = sg->sg_dport;
	sc->sc_fport = sg->sg_sport;
	sc->sc_irs = sg->sg_seq - 1;
	if ((period & 1) != (uint64_t)(low >> 7))
		period--;
	if (cookie_mac(ns, sc, period, low) != iss >> 8)
		return false;
	sc->sc_iss = iss;
	sc->sc_mss = (uint16_t)NS_MIN(tcp_cookie_mss[(low >> 4) & 7],
	    tcp_mss_for(ns, sc->sc_faddr));
	sc->sc_wscale = tcp_cookie_ws[(low >> 1) & 7];
	sc->sc_rscale = sc->sc_wscale != 0xff ? tcp_rscale(lis->t_rb_hiwat) : 0;
	sc->sc_sack = low & 1;
	sc->sc_ts = (sg->sg_opts.to_flags & TOF_TS) != 0;
	sc->sc_tsval = sg->sg_opts.to_tsval;
	sc->sc_wnd = sg->sg_wnd;
	return true;
}

/* ---------------------------------------------------------------- */
/* Completing the handshake                                         */
/* ---------------------------------------------------------------- */

static void
syn_options(struct ns_tcp *tp, const struct tcp_syn *sc,
    const struct tcp_seg *sg)
{
	struct ns *ns = tp->t_ns;

	if (sc->sc_wscale != 0xff) {
		tp->t_flags |= TF_WSCALE;
		tp->snd_scale = sc->sc_wscale;
		tp->rcv_scale = sc->sc_rscale;
	}
	if (sc->sc_sack)
		tp->t_flags |= TF_SACK;
	if (sc->sc_ts) {
		tp->t_flags |= TF_TS;
		tp->ts_offset = tcp_ts_offset(ns, tp->t_laddr, tp->t_lport,
		    tp->t_faddr, tp->t_fport);
		tp->ts_recent = (sg->sg_opts.to_flags & TOF_TS) ?
		    sg->sg_opts.to_tsval :
		    sc->sc_tsval;
		tp->ts_recent_age = ns->ns_now;
	}
	tp->t_maxseg = sc->sc_mss;
	tp->t_our_mss = tcp_mss_for(ns, tp->t_faddr);
}

/* A connection from a completed handshake, on the accept queue. */
static struct ns_tcp *
syn_expand(struct ns *ns, struct ns_tcp *lis, const struct tcp_syn *sc,
    const struct tcp_seg *sg)
{
	struct ns_tcp *tp;

	if (lis->t_qlen >= lis->t_qlimit) {
		ns->ns_stats.tcp_listen_overflow++;
		return NULL;
	}
	if ((tp = tcp_new(ns)) == NULL)
		return NULL;
	tp->t_laddr = sc->sc_laddr;
	tp->t_faddr = sc->sc_faddr;
	tp->t_lport = sc->sc_lport;
	tp->t_fport = sc->sc_fport;
	tp->t_flags |= lis->t_flags & (TF_NODELAY | TF_KEEPALIVE);
	tp->t_rb_hiwat = lis->t_rb_hiwat;
	tp->t_sb_hiwat = lis->t_sb_hiwat;
	tp->t_cc = lis->t_cc;
	tp->t_keepidle = lis->t_keepidle;
	tp->t_keepintvl = lis->t_keepintvl;
	tp->t_keepcnt = lis->t_keepcnt;
	tp->iss = sc->sc_iss;
	tp->snd_una = tp->snd_nxt = tp->snd_max = sc->sc_iss + 1;
	tp->snd_recover = tp->snd_una;
	tp->irs = sc->sc_irs;
	tp->rcv_nxt = tp->last_ack_sent = sc->sc_irs + 1;
	tp->rcv_adv = tp->rcv_nxt + NS_MIN(lis->t_rb_hiwat, TCP_MAXWIN);
	syn_options(tp, sc, sg);
	tp->snd_wnd = sg->sg_wnd << tp->snd_scale;
	tp->max_sndwnd = tp->snd_wnd;
	tp->snd_wl1 = sg->sg_seq - 1;
	tp->snd_wl2 = sg->sg_ack;
	if (sc->sc_rexmits > 0)
		tp->t_flags |= TF_SYN_REXMT;
	tcp_cc_init(tp);
	tcp_hash_insert(tp);
	tcp_established(tp);
	tp->t_head = lis;
	TAILQ_INSERT_TAIL(&lis->t_acceptq, tp, t_qlink);
	lis->t_qlen++;
	ns->ns_stats.tcp_accepts++;
	tcp_notify(lis, NS_EV_READ);
	return tp;
}

/* An ACK to a listener: the end of a handshake, or a stray. */
static void
listen_ack(struct ns *ns, struct ns_tcp *lis, struct tcp_seg *sg)
{
	struct tcp_syn *sc = syn_lookup(ns, sg), cookie;
	struct ns_tcp *tp;

	if (sc != NULL) {
		if (sg->sg_ack != sc->sc_iss + 1 ||
		    sg->sg_seq != sc->sc_irs + 1) {
			tcp_reset_for(ns, sg);
			return;
		}
		if ((tp = syn_expand(ns, lis, sc, sg)) == NULL)
			return; /* the SYN-ACK will be sent again */
		syn_free(ns, sc);
		tcp_segment(tp, sg);
		return;
	}
	if (ns->ns_now < ns->ns_cookie_until) {
		if (cookie_check(ns, lis, sg, &cookie)) {
			if ((tp = syn_expand(ns, lis, &cookie, sg)) == NULL)
				return;
			ns->ns_stats.tcp_cookie_ok++;
			tcp_segment(tp, sg);
			return;
		}
		ns->ns_stats.tcp_cookie_bad++;
	}
	tcp_reset_for(ns, sg);
}

static void
listen_syn(struct ns *ns, struct ns_tcp *lis, struct tcp_seg *sg)
{
	const struct ns_config *c = &ns->ns_cfg;
	uint32_t lim = NS_MAX((uint32_t)lis->t_qlimit, 16u);
	struct tcp_syn *sc, tmp;

	if ((sc = syn_lookup(ns, sg)) != NULL) {
		/* The peer did not get our SYN-ACK: again. */
		ns->ns_stats.tcp_rx_dupsyn++;
		if (sg->sg_seq == sc->sc_irs)
			tcp_send_synack(ns, sc);
		return;
	}
	if ((c->nc_flags & NS_CF_SYNCOOKIES) || lis->t_synlen >= lim ||
	    ns->ns_nsyn >= c->nc_syncache ||
	    (sc = ns_zalloc(ns, sizeof(*sc))) == NULL) {
		if (!(c->nc_flags & NS_CF_SYNCOOKIES))
			ns->ns_stats.tcp_syncache_overflow++;
		if (c->nc_flags & NS_CF_NO_SYNCOOKIES)
			return;
		memset(&tmp, 0, sizeof(tmp));
		syn_fill(ns, lis, sg, &tmp);
		tmp.sc_iss = cookie_make(ns, &tmp);
		ns->ns_stats.tcp_cookie_sent++;
		ns->ns_cookie_until = ns->ns_now + 2 * TCP_COOKIE_PERIOD_US;
		tcp_send_synack(ns, &tmp);
		return;
	}
	syn_fill(ns, lis, sg, sc);
	sc->sc_iss =
	    tcp_iss(ns, sc->sc_laddr, sc->sc_lport, sc->sc_faddr, sc->sc_fport);
	sc->sc_bucket = syn_bucket(ns, sg);
	TAILQ_INSERT_TAIL(&ns->ns_syn_hash[sc->sc_bucket], sc, sc_link);
	lis->t_synlen++;
	ns->ns_nsyn++;
	ns->ns_stats.tcp_syncache_add++;
	ns_timer_init(&sc->sc_timer, syn_timer, sc);
	ns_timer_arm(ns, &sc->sc_timer, ns->ns_now + TCP_RTO_INIT_US);
	tcp_send_synack(ns, sc);
}

void
tcp_listen_input(struct ns *ns, struct ns_tcp *lis, struct tcp_seg *sg)
{
	struct tcp_syn *sc;

	if (sg->sg_flags & TH_RST) {
		/* RFC 9293: ignored in LISTEN; for a SYN-RECEIVED entry,
		 * only an exact sequence number removes it (RFC 5961). */
		sc = syn_lookup(ns, sg);
		if (sc != NULL && sg->sg_seq == sc->sc_irs + 1) {
			ns->ns_stats.tcp_rx_rst++;
			syn_free(ns, sc);
		} else {
			ns->ns_stats.tcp_rx_rst_ignored++;
		}
		return;
	}
	if (sg->sg_flags & TH_ACK) {
		listen_ack(ns, lis, sg);
		return;
	}
	if (sg->sg_flags & TH_SYN)
		listen_syn(ns, lis, sg);
}
