/*
 * ns_tcp_subr.c: TCP's bookkeeping: control blocks and their tables,
 * initial sequence numbers (RFC 6528), timestamps offsets, MSS, the end
 * of a connection (close, drop, TIME-WAIT and its bound), round-trip time
 * and the retransmission timeout (RFC 6298), and application events.
 *
 * Tables: connections are hashed by their 4-tuple with SipHash under a
 * per-instance random key, so a peer cannot load one chain; listeners sit
 * on a list (an appliance has a handful). Every control block is also on
 * ns_tcp_all, so teardown finds the ones no table holds (dead connections
 * the application has not closed yet).
 *
 * Lifetime: the application owns its handle until ns_tcp_close or
 * ns_tcp_abort (TF_DETACHED afterwards). A connection that ends before
 * that stays, CLOSED and out of the tables, with its error, until the
 * application closes it; one that ends after is freed at once. A
 * connection on a listener's accept queue belongs to the listener.
 */
#include "netstack/ns_tcp.h"

static void tcp_timer(struct ns *ns, void *arg);

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 64;

	while (p < n && p < (1u << 20))
		p <<= 1;
	return p;
}

int
ns_tcp_init(struct ns *ns)
{
	uint32_t i, n = pow2_at_least(ns->ns_cfg.nc_tcp_conns);

	TAILQ_INIT(&ns->ns_tcp_listen);
	TAILQ_INIT(&ns->ns_tcp_tw);
	TAILQ_INIT(&ns->ns_tcp_all);
	ns->ns_tcp_hash = ns_zalloc(ns, n * sizeof(*ns->ns_tcp_hash));
	if (ns->ns_tcp_hash == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		TAILQ_INIT(&ns->ns_tcp_hash[i]);
	ns->ns_tcp_hmask = n - 1;
	ns->ns_tcp_port = (uint16_t)ns_random32(ns);
	if (tcp_syn_init(ns) != 0) {
		ns_free(ns, ns->ns_tcp_hash, n * sizeof(*ns->ns_tcp_hash));
		ns->ns_tcp_hash = NULL;
		return -ENOMEM;
	}
	return 0;
}

void
ns_tcp_fini(struct ns *ns)
{
	struct ns_tcp *tp;

	tcp_syn_fini(ns);
	while ((tp = TAILQ_FIRST(&ns->ns_tcp_all)) != NULL)
		tcp_free(tp);
	ns_free(ns, ns->ns_tcp_hash,
	    (ns->ns_tcp_hmask + 1) * sizeof(*ns->ns_tcp_hash));
	ns->ns_tcp_hash = NULL;
}

struct ns_tcp *
tcp_new(struct ns *ns)
{
	const struct ns_config *c = &ns->ns_cfg;
	struct ns_tcp *tp;

	if (ns->ns_tcp_n >= c->nc_tcp_conns) {
		ns->ns_stats.tcp_conn_limit++;
		return NULL;
	}
	if ((tp = ns_zalloc(ns, sizeof(*tp))) == NULL) {
		ns->ns_stats.tcp_nomem++;
		return NULL;
	}
	tp->t_ns = ns;
	tp->t_state = NS_TCPS_CLOSED;
	tp->t_rto = TCP_RTO_INIT_US;
	tp->t_sb_hiwat = c->nc_tcp_sndbuf;
	tp->t_rb_hiwat = c->nc_tcp_rcvbuf;
	tp->t_cc = (c->nc_flags & NS_CF_NEWRENO) ? NS_CC_NEWRENO : NS_CC_CUBIC;
	tp->t_keepidle = TCP_KEEPIDLE_MS;
	tp->t_keepintvl = TCP_KEEPINTVL_MS;
	tp->t_keepcnt = TCP_KEEPCNT;
	tp->t_maxseg = TCP_MSS_DEFAULT;
	TAILQ_INIT(&tp->t_acceptq);
	ns_timer_init(&tp->t_timer, tcp_timer, tp);
	TAILQ_INSERT_TAIL(&ns->ns_tcp_all, tp, t_alink);
	ns->ns_tcp_n++;
	return tp;
}

/* ---------------------------------------------------------------- */
/* Tables                                                           */
/* ---------------------------------------------------------------- */

void
tcp_hash_insert(struct ns_tcp *tp)
{
	struct ns *ns = tp->t_ns;

	tp->t_bucket = ns_tuple_hash(ns->ns_hash_key, tp->t_laddr, tp->t_lport,
			   tp->t_faddr, tp->t_fport) &
	    ns->ns_tcp_hmask;
	TAILQ_INSERT_HEAD(&ns->ns_tcp_hash[tp->t_bucket], tp, t_hlink);
	tp->t_inhash = 1;
}

static void
tcp_unhash(struct ns_tcp *tp)
{
	struct ns *ns = tp->t_ns;

	if (tp->t_inhash) {
		TAILQ_REMOVE(&ns->ns_tcp_hash[tp->t_bucket], tp, t_hlink);
		tp->t_inhash = 0;
	}
	if (tp->t_state == NS_TCPS_LISTEN)
		TAILQ_REMOVE(&ns->ns_tcp_listen, tp, t_hlink);
	if (tp->t_ontw) {
		TAILQ_REMOVE(&ns->ns_tcp_tw, tp, t_qlink);
		tp->t_ontw = 0;
		ns->ns_tcp_ntw--;
	}
}

struct ns_tcp *
tcp_lookup(struct ns *ns, uint32_t laddr, uint16_t lport, uint32_t faddr,
    uint16_t fport)
{
	uint32_t b =
	    ns_tuple_hash(ns->ns_hash_key, laddr, lport, faddr, fport) &
	    ns->ns_tcp_hmask;
	struct ns_tcp *tp;

	TAILQ_FOREACH (tp, &ns->ns_tcp_hash[b], t_hlink) {
		if (tp->t_lport == lport && tp->t_fport == fport &&
		    tp->t_laddr == laddr && tp->t_faddr == faddr)
			return tp;
	}
	return NULL;
}

struct ns_tcp *
tcp_lookup_listen(struct ns *ns, uint32_t laddr, uint16_t lport)
{
	struct ns_tcp *tp, *wild = NULL;

	TAILQ_FOREACH (tp, &ns->ns_tcp_listen, t_hlink) {
		if (tp->t_lport != lport)
			continue;
		if (tp->t_laddr == laddr)
			return tp;
		if (tp->t_laddr == 0)
			wild = tp;
	}
	return wild;
}

/* ---------------------------------------------------------------- */
/* Numbers                                                          */
/* ---------------------------------------------------------------- */

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, key). */
uint32_t
tcp_iss(struct ns *ns, uint32_t laddr, uint16_t lport, uint32_t faddr,
    uint16_t fport)
{
	return (uint32_t)(ns->ns_now / 4) +
	    ns_tuple_hash(ns->ns_isn_key, laddr, lport, faddr, fport);
}

/*
 * RFC 7323 5.4: a per-connection offset; a keyed hash of the tuple, so a
 * SYN cookie connection finds the one its SYN-ACK used. (The cookie's own
 * MAC hashes a longer input under the same key.)
 */
uint32_t
tcp_ts_offset(struct ns *ns, uint32_t laddr, uint16_t lport, uint32_t faddr,
    uint16_t fport)
{
	return ns_tuple_hash(ns->ns_cookie_key, laddr, lport, faddr, fport);
}

uint32_t
tcp_ts_now(const struct ns_tcp *tp)
{
	return ns_now_ms(tp->t_ns) + tp->ts_offset;
}

/* The shift that lets the receive buffer be advertised. */
uint8_t
tcp_rscale(uint32_t rcvbuf)
{
	uint8_t s = 0;

	while (s < TCP_MAX_WSCALE && (rcvbuf >> s) > TCP_MAXWIN)
		s++;
	return s;
}

uint16_t
tcp_mss_for(struct ns *ns, uint32_t faddr)
{
	return (uint16_t)(ns_ip_mtu(ns, faddr) - IP_HLEN_MIN - TCP_HLEN_MIN);
}

uint16_t
tcp_peer_mss(struct ns *ns, uint32_t faddr, const struct tcp_opts *o)
{
	uint32_t mss = TCP_MSS_DEFAULT;

	if (o->to_flags & TOF_MSS) {
		mss = o->to_mss;
		if (mss < TCP_MSS_MIN) {
			ns->ns_stats.tcp_rx_badmss++;
			mss = mss == 0 ? TCP_MSS_DEFAULT : TCP_MSS_MIN;
		}
	}
	return (uint16_t)NS_MIN(mss, (uint32_t)tcp_mss_for(ns, faddr));
}

/* ---------------------------------------------------------------- */
/* Round-trip time and the retransmission timer (RFC 6298)          */
/* ---------------------------------------------------------------- */

void
tcp_rtt_sample(struct ns_tcp *tp, uint32_t r)
{
	uint32_t min = tp->t_ns->ns_cfg.nc_tcp_min_rto_ms * 1000, d, rto;

	if (r == 0)
		r = 1;
	if (tp->t_srtt == 0) {
		tp->t_srtt = r;
		tp->t_rttvar = r / 2;
	} else {
		d = tp->t_srtt > r ? tp->t_srtt - r : r - tp->t_srtt;
		tp->t_rttvar = tp->t_rttvar - tp->t_rttvar / 4 + d / 4;
		tp->t_srtt = tp->t_srtt - tp->t_srtt / 8 + r / 8;
	}
	rto = tp->t_srtt + NS_MAX(1000u, 4 * tp->t_rttvar);
	tp->t_rto = NS_MIN(NS_MAX(rto, min), TCP_RTO_MAX_US);
	tp->t_rxtshift = 0;
}

uint32_t
tcp_rto_cur(const struct ns_tcp *tp)
{
	uint64_t r = (uint64_t)tp->t_rto << tp->t_rxtshift;

	return (uint32_t)NS_MIN(r, (uint64_t)TCP_RTO_MAX_US);
}

void
tcp_rexmt_arm(struct ns_tcp *tp)
{
	tp->t_rexmt_at = tp->t_ns->ns_now + tcp_rto_cur(tp);
	tp->t_persist_at = 0;
}

/* ---------------------------------------------------------------- */
/* Buffers                                                          */
/* ---------------------------------------------------------------- */

void
tcp_sb_drop(struct ns_tcp *tp, uint32_t bytes)
{
	struct nb *s;

	bytes = NS_MIN(bytes, tp->t_sb_cc);
	tp->t_sb_cc -= bytes;
	/* The hint survives if its segment starts at or after the cut. */
	if (tp->t_sb_hint != NULL && tp->t_sb_hint_off >= bytes &&
	    tp->t_sb_cc > 0)
		tp->t_sb_hint_off -= bytes;
	else
		tp->t_sb_hint = NULL;
	while (bytes > 0 && (s = tp->t_sb) != NULL) {
		if (s->nb_len <= bytes) {
			bytes -= s->nb_len;
			tp->t_sb = nb_free(s);
			continue;
		}
		s->nb_data += bytes;
		s->nb_len -= bytes;
		bytes = 0;
	}
	while ((s = tp->t_sb) != NULL && s->nb_len == 0 && tp->t_sb_cc == 0)
		tp->t_sb = nb_free(s);
	if (tp->t_sb != NULL)
		tp->t_sb->nb_pktlen = tp->t_sb_cc;
}

uint32_t
tcp_rcv_space(const struct ns_tcp *tp)
{
	uint32_t used = tp->t_rq_cc + tp->t_oq_cc;

	return used >= tp->t_rb_hiwat ? 0 : tp->t_rb_hiwat - used;
}

/* ---------------------------------------------------------------- */
/* Events and endings                                               */
/* ---------------------------------------------------------------- */

void
tcp_notify(struct ns_tcp *tp, unsigned ev)
{
	if (!(tp->t_flags & TF_DETACHED) && tp->t_head == NULL)
		ns_upcall(tp->t_upcall, tp->t_upcall_arg, ev);
}

bool
tcp_challenge_ok(struct ns_tcp *tp)
{
	struct ns *ns = tp->t_ns;

	if (ns->ns_now - tp->t_chal_epoch >= 1000000) {
		tp->t_chal_epoch = ns->ns_now;
		tp->t_chal_n = 0;
	}
	if (tp->t_chal_n >= TCP_CHALLENGE_PER_S) {
		ns->ns_stats.tcp_challenge_limited++;
		return false;
	}
	tp->t_chal_n++;
	return true;
}

void
tcp_established(struct ns_tcp *tp)
{
	/* Shut down while opening: the FIN goes right after. */
	tp->t_state = (tp->t_flags & TF_SHUTWR) ? NS_TCPS_FIN_WAIT_1 :
						  NS_TCPS_ESTABLISHED;
	if (tp->t_flags & TF_KEEPALIVE)
		tp->t_keep_at = tp->t_ns->ns_now + tp->t_keepidle * 1000ull;
}

static void
tcp_free_bufs(struct ns_tcp *tp, bool rq)
{
	nb_freem(tp->t_sb);
	tp->t_sb = NULL;
	tp->t_sb_hint = NULL;
	tp->t_sb_cc = 0;
	nb_freeq(tp->t_oq);
	tp->t_oq = NULL;
	tp->t_oq_cc = 0;
	tp->t_oq_n = 0;
	if (rq) {
		nb_freeq(tp->t_rq);
		tp->t_rq = tp->t_rq_tail = NULL;
		tp->t_rq_cc = 0;
	}
}

void
tcp_free(struct ns_tcp *tp)
{
	struct ns *ns = tp->t_ns;
	struct ns_tcp *c;

	if (tp->t_state == NS_TCPS_LISTEN) {
		tcp_syn_drop_listener(ns, tp);
		while ((c = TAILQ_FIRST(&tp->t_acceptq)) != NULL) {
			TAILQ_REMOVE(&tp->t_acceptq, c, t_qlink);
			c->t_head = NULL;
			c->t_flags |= TF_DETACHED;
			tcp_drop(c, -ECONNABORTED);
		}
	}
	if (tp->t_head != NULL) {
		TAILQ_REMOVE(&tp->t_head->t_acceptq, tp, t_qlink);
		tp->t_head->t_qlen--;
		tp->t_head = NULL;
	}
	tcp_unhash(tp);
	ns_timer_stop(ns, &tp->t_timer);
	tcp_free_bufs(tp, true);
	TAILQ_REMOVE(&ns->ns_tcp_all, tp, t_alink);
	ns->ns_tcp_n--;
	ns_free(ns, tp, sizeof(*tp));
}

struct ns_tcp *
tcp_close(struct ns_tcp *tp, int err)
{
	tcp_unhash(tp);
	tp->t_state = NS_TCPS_CLOSED;
	tp->t_rexmt_at = tp->t_persist_at = tp->t_keep_at = 0;
	tp->t_delack_at = tp->t_2msl_at = 0;
	ns_timer_stop(tp->t_ns, &tp->t_timer);
	tcp_free_bufs(tp, err != 0);
	if ((tp->t_flags & TF_DETACHED) || tp->t_head != NULL) {
		tcp_free(tp);
		return NULL;
	}
	if (err != 0 && tp->t_error == 0)
		tp->t_error = err;
	tcp_notify(tp,
	    NS_EV_READ | NS_EV_WRITE | NS_EV_HUP | (err != 0 ? NS_EV_ERR : 0));
	return tp;
}

struct ns_tcp *
tcp_drop(struct ns_tcp *tp, int err)
{
	if (TCPS_HAVE_ESTABLISHED(tp->t_state) ||
	    tp->t_state == NS_TCPS_SYN_RECEIVED) {
		tcp_respond(tp->t_ns, tp->t_laddr, tp->t_lport, tp->t_faddr,
		    tp->t_fport, tp->snd_nxt, 0, TH_RST);
	}
	tp->t_ns->ns_stats.tcp_drops++;
	return tcp_close(tp, err);
}

void
tcp_timewait(struct ns_tcp *tp)
{
	struct ns *ns = tp->t_ns;
	struct ns_tcp *old;

	tp->t_state = NS_TCPS_TIME_WAIT;
	tp->t_rexmt_at = tp->t_persist_at = tp->t_keep_at = 0;
	tcp_free_bufs(tp, false);
	tp->t_2msl_at = ns->ns_now + 2000ull * ns->ns_cfg.nc_tcp_msl_ms;
	TAILQ_INSERT_TAIL(&ns->ns_tcp_tw, tp, t_qlink);
	tp->t_ontw = 1;
	ns->ns_tcp_ntw++;
	ns->ns_stats.tcp_timewait++;
	while (ns->ns_tcp_ntw > ns->ns_cfg.nc_tcp_timewait &&
	    (old = TAILQ_FIRST(&ns->ns_tcp_tw)) != tp) {
		ns->ns_stats.tcp_timewait_recycled++;
		tcp_close(old, 0);
	}
	tcp_timers_update(tp);
	tcp_notify(tp, NS_EV_READ | NS_EV_HUP);
}

/* ---------------------------------------------------------------- */
/* The control block's timer                                        */
/* ---------------------------------------------------------------- */

void
tcp_timers_update(struct ns_tcp *tp)
{
	uint64_t d[5] = { tp->t_rexmt_at, tp->t_persist_at, tp->t_keep_at,
		tp->t_delack_at, tp->t_2msl_at };
	uint64_t next = UINT64_MAX;
	int i;

	for (i = 0; i < 5; i++)
		if (d[i] != 0 && d[i] < next)
			next = d[i];
	if (next == UINT64_MAX)
		ns_timer_stop(tp->t_ns, &tp->t_timer);
	else if (!ns_timer_armed(&tp->t_timer) || tp->t_timer.tm_when != next)
		ns_timer_arm(tp->t_ns, &tp->t_timer, next);
}

struct ns_tcp *tcp_timer_2msl(struct ns_tcp *tp);
struct ns_tcp *tcp_timer_rexmt(struct ns_tcp *tp);
struct ns_tcp *tcp_timer_persist(struct ns_tcp *tp);
struct ns_tcp *tcp_timer_keep(struct ns_tcp *tp);
struct ns_tcp *tcp_timer_delack(struct ns_tcp *tp);

static void
tcp_timer(struct ns *ns, void *arg)
{
	struct ns_tcp *tp = arg;
	uint64_t now = ns->ns_now;

	if (tp->t_2msl_at != 0 && tp->t_2msl_at <= now &&
	    (tp = tcp_timer_2msl(tp)) == NULL)
		return;
	if (tp->t_rexmt_at != 0 && tp->t_rexmt_at <= now &&
	    (tp = tcp_timer_rexmt(tp)) == NULL)
		return;
	if (tp->t_persist_at != 0 && tp->t_persist_at <= now &&
	    (tp = tcp_timer_persist(tp)) == NULL)
		return;
	if (tp->t_keep_at != 0 && tp->t_keep_at <= now &&
	    (tp = tcp_timer_keep(tp)) == NULL)
		return;
	if (tp->t_delack_at != 0 && tp->t_delack_at <= now &&
	    (tp = tcp_timer_delack(tp)) == NULL)
		return;
	tcp_timers_update(tp);
}

/* ---------------------------------------------------------------- */
/* ICMP errors about our segments                                   */
/* ---------------------------------------------------------------- */

/*
 * The quoted segment must belong to a connection and carry a sequence
 * number in flight (RFC 5927 4.1): a forger must know the connection's
 * window. Fragmentation needed lowers the MSS (RFC 1191) and resends at
 * once; it is not congestion. Port or protocol unreachable abort an
 * opening connection (RFC 1122 4.2.3.9); other unreachables are soft
 * errors, reported only if the connection later times out.
 */
void
ns_tcp_ctlinput(struct ns *ns, uint8_t type, uint8_t code, uint16_t mtu,
    const struct ip_hdr *ip, const uint8_t *l4, uint32_t l4len)
{
	uint16_t lport = (uint16_t)(l4[0] << 8 | l4[1]);
	uint16_t fport = (uint16_t)(l4[2] << 8 | l4[3]);
	uint32_t seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 |
	    (uint32_t)l4[6] << 8 | l4[7];
	struct ns_tcp *tp;
	uint32_t mss;

	tp = tcp_lookup(ns, ns_ntoh32(ip->ip_src), lport, ns_ntoh32(ip->ip_dst),
	    fport);
	if (tp == NULL || SEQ_LT(seq, tp->snd_una) ||
	    SEQ_GEQ(seq, tp->snd_max)) {
		ns->ns_stats.icmp_rx_bad++;
		return;
	}
	if (type != ICMP_UNREACH)
		return;
	if (code == ICMP_UNREACH_NEEDFRAG) {
		if (mtu < 68)
			mtu = 576; /* an old router: a safe guess */
		mss = NS_MAX((uint32_t)mtu - IP_HLEN_MIN - TCP_HLEN_MIN,
		    (uint32_t)TCP_MSS_MIN);
		if (mss >= tp->t_maxseg)
			return;
		tp->t_maxseg = (uint16_t)mss;
		ns->ns_stats.icmp_pmtu_update++;
		tp->snd_nxt = tp->snd_una;
		tcp_output(tp);
		return;
	}
	if ((code == ICMP_UNREACH_PORT || code == ICMP_UNREACH_PROTO) &&
	    tp->t_state == NS_TCPS_SYN_SENT) {
		ns->ns_stats.tcp_drops++;
		tcp_close(tp, -ECONNREFUSED);
		return;
	}
	tp->t_softerr = code == ICMP_UNREACH_NET ? -ENETUNREACH : -EHOSTUNREACH;
}
