/*
 * ns_tcp_usr.c: the application's side of TCP (netstack.h): listen,
 * accept, connect, send (copied, or zero-copy references to the caller's
 * storage), receive, shutdown, close and abort, options, events and
 * statistics. Each call reads the clock first, like every entry point.
 *
 * Closing follows RFC 9293 3.10.4 with RFC 2525's advice: closing with
 * unread data resets the connection instead of sending a FIN, so the peer
 * learns its data was not read. After close, data arriving from the peer
 * also resets it (TF_RCV_SHUT), and FIN-WAIT-2 is bounded by a timer.
 *
 * With several instances (nc_ncpu > 1), an active open picks a local port
 * whose Toeplitz hash, as the device will compute it for the replies,
 * lands on this instance: so the replies come back to the CPU that owns
 * the connection.
 */
#include "netstack/ns_tcp.h"

#define TCP_EPHEMERAL_LO 49152u

int
ns_tcp_listen(struct ns *ns, uint32_t addr, uint16_t port, unsigned backlog,
    struct ns_tcp **lp)
{
	struct ns_tcp *tp;

	ns_enter(ns);
	*lp = NULL;
	if (port == 0)
		return -EINVAL;
	if (addr != 0 && !ns_ip_is_local(ns, addr))
		return -EADDRNOTAVAIL;
	TAILQ_FOREACH (tp, &ns->ns_tcp_listen, t_hlink) {
		if (tp->t_lport == port &&
		    (tp->t_laddr == 0 || addr == 0 || tp->t_laddr == addr))
			return -EADDRINUSE;
	}
	if ((tp = tcp_new(ns)) == NULL)
		return -ENOMEM;
	tp->t_state = NS_TCPS_LISTEN;
	tp->t_laddr = addr;
	tp->t_lport = port;
	tp->t_qlimit = (uint16_t)NS_MAX(1u, NS_MIN(backlog, 1024u));
	TAILQ_INSERT_TAIL(&ns->ns_tcp_listen, tp, t_hlink);
	*lp = tp;
	return 0;
}

int
ns_tcp_accept(struct ns_tcp *l, struct ns_tcp **cp)
{
	struct ns_tcp *c;

	ns_enter(l->t_ns);
	*cp = NULL;
	if (l->t_state != NS_TCPS_LISTEN)
		return -EINVAL;
	if ((c = TAILQ_FIRST(&l->t_acceptq)) == NULL)
		return -EAGAIN;
	TAILQ_REMOVE(&l->t_acceptq, c, t_qlink);
	l->t_qlen--;
	c->t_head = NULL;
	*cp = c;
	return 0;
}

/* A local port for (src, dst, dport) that is free and hashes to us. */
static int
tcp_ephemeral(struct ns *ns, uint32_t src, uint32_t dst, uint16_t dport,
    uint16_t *port)
{
	const struct ns_config *c = &ns->ns_cfg;
	uint32_t span = 65536u - TCP_EPHEMERAL_LO, i;
	uint16_t p;

	for (i = 0; i < span; i++) {
		p = (uint16_t)(TCP_EPHEMERAL_LO + ns->ns_tcp_port++ % span);
		if (tcp_lookup(ns, src, p, dst, dport) != NULL ||
		    tcp_lookup_listen(ns, src, p) != NULL)
			continue;
		if (c->nc_ncpu > 1 &&
		    ns_rss_hash4(ns->ns_rss_key, dst, src, dport, p) %
			    c->nc_ncpu !=
			c->nc_cpu)
			continue;
		*port = p;
		return 0;
	}
	return -EADDRNOTAVAIL;
}

static int
tcp_connect_check(struct ns *ns, uint32_t dst, uint16_t dport)
{
	const struct ns_config *c = &ns->ns_cfg;

	if (dport == 0 || dst == 0 || (dst >> 28) >= 14 ||
	    ns_ip_is_bcast(ns, dst) || ns_ip_is_local(ns, dst))
		return -EINVAL;
	if (c->nc_addr == 0)
		return -EADDRNOTAVAIL;
	if ((dst & c->nc_netmask) != (c->nc_addr & c->nc_netmask) &&
	    c->nc_gateway == 0)
		return -ENETUNREACH;
	return 0;
}

int
ns_tcp_connect(struct ns *ns, uint32_t dst, uint16_t dport, struct ns_tcp **cp)
{
	const struct ns_config *c = &ns->ns_cfg;
	uint32_t src = ns_ip_source(ns, dst);
	struct ns_tcp *tp;
	uint16_t port;
	int err;

	ns_enter(ns);
	*cp = NULL;
	if ((err = tcp_connect_check(ns, dst, dport)) != 0 ||
	    (err = tcp_ephemeral(ns, src, dst, dport, &port)) != 0)
		return err;
	if ((tp = tcp_new(ns)) == NULL)
		return -ENOMEM;
	tp->t_laddr = src;
	tp->t_lport = port;
	tp->t_faddr = dst;
	tp->t_fport = dport;
	tp->iss = tcp_iss(ns, src, port, dst, dport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_recover = tp->iss;
	tp->ts_offset = tcp_ts_offset(ns, src, port, dst, dport);
	tp->t_our_mss = tcp_mss_for(ns, dst);
	tp->t_maxseg = TCP_MSS_DEFAULT;
	if (!(c->nc_flags & NS_CF_NO_WSCALE)) {
		tp->t_flags |= TF_REQ_WSCALE;
		tp->rcv_scale = tcp_rscale(tp->t_rb_hiwat);
	}
	if (!(c->nc_flags & NS_CF_NO_TS))
		tp->t_flags |= TF_REQ_TS;
	if (!(c->nc_flags & NS_CF_NO_SACK))
		tp->t_flags |= TF_REQ_SACK;
	tp->t_state = NS_TCPS_SYN_SENT;
	tcp_hash_insert(tp);
	ns->ns_stats.tcp_conn_attempt++;
	tcp_output(tp);
	*cp = tp;
	return 0;
}

/* Can the application still send? 0 or the error to return. */
static int
tcp_can_send(struct ns_tcp *tp)
{
	if (tp->t_error != 0)
		return tp->t_error;
	if (tp->t_flags & TF_SHUTWR)
		return -EPIPE;
	switch (tp->t_state) {
	case NS_TCPS_SYN_SENT:
	case NS_TCPS_SYN_RECEIVED:
	case NS_TCPS_ESTABLISHED:
	case NS_TCPS_CLOSE_WAIT:
		return 0;
	case NS_TCPS_LISTEN:
		return -ENOTCONN;
	default:
		return -EPIPE;
	}
}

long
ns_tcp_send(struct ns_tcp *c, const void *buf, size_t len)
{
	struct ns *ns = c->t_ns;
	uint32_t n;
	int err;

	ns_enter(ns);
	if ((err = tcp_can_send(c)) != 0)
		return err;
	if (c->t_sb_cc >= c->t_sb_hiwat)
		return -EAGAIN;
	n = (uint32_t)NS_MIN(len, (size_t)(c->t_sb_hiwat - c->t_sb_cc));
	if (n == 0)
		return 0;
	if (c->t_sb == NULL && (c->t_sb = nb_get(&ns->ns_pool, 0)) == NULL)
		return -ENOBUFS;
	if (nb_append(c->t_sb, buf, n) != 0) {
		/* Short of buffers: queue one cluster's worth if it fits. */
		n = NS_MIN(n, (uint32_t)NB_CLUSTER_SIZE);
		if (nb_append(c->t_sb, buf, n) != 0)
			return -ENOBUFS;
	}
	c->t_sb_cc += n;
	tcp_output(c);
	return (long)n;
}

long
ns_tcp_send_ext(struct ns_tcp *c, struct nb_ext *ext, const void *data,
    size_t len)
{
	struct ns *ns = c->t_ns;
	struct nb *r;
	int err;

	ns_enter(ns);
	if ((err = tcp_can_send(c)) != 0)
		return err;
	if (len == 0 || len > NB_CLUSTER_SIZE * 1024u)
		return -EINVAL;
	if (c->t_sb_cc + len > c->t_sb_hiwat && c->t_sb_cc > 0)
		return -EAGAIN;
	if ((r = nb_get_ext(&ns->ns_pool, ext, data, (uint32_t)len)) == NULL)
		return -ENOBUFS;
	if (c->t_sb == NULL)
		c->t_sb = r;
	else
		nb_cat(c->t_sb, r);
	c->t_sb_cc += (uint32_t)len;
	c->t_sb->nb_pktlen = c->t_sb_cc;
	tcp_output(c);
	return (long)len;
}

/* After reading: tell the peer about the room made. */
static void
tcp_read_done(struct ns_tcp *tp)
{
	if (TCPS_HAVE_ESTABLISHED(tp->t_state) &&
	    tp->t_state != NS_TCPS_TIME_WAIT && tcp_wupdate_due(tp)) {
		tp->t_flags |= TF_ACKNOW;
		tcp_output(tp);
	}
}

/* What a read that found no data returns. */
static long
tcp_recv_nodata(struct ns_tcp *c)
{
	if (c->t_error != 0)
		return c->t_error;
	if ((c->t_flags & TF_RCVD_FIN) || c->t_state == NS_TCPS_CLOSED)
		return 0;
	if (c->t_state == NS_TCPS_LISTEN)
		return -ENOTCONN;
	return -EAGAIN;
}

long
ns_tcp_peek(struct ns_tcp *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint32_t k, got = 0;
	struct nb *d;

	ns_enter(c->t_ns);
	for (d = c->t_rq; d != NULL && got < len; d = d->nb_nextpkt) {
		k = (uint32_t)NS_MIN((size_t)nb_pktlen(d), len - got);
		nb_copydata(d, 0, k, p + got);
		got += k;
	}
	return got > 0 ? (long)got : tcp_recv_nodata(c);
}

long
ns_tcp_recv(struct ns_tcp *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint32_t k, got = 0;
	struct nb *d;

	ns_enter(c->t_ns);
	while (got < len && (d = c->t_rq) != NULL) {
		k = (uint32_t)NS_MIN((size_t)nb_pktlen(d), len - got);
		nb_copydata(d, 0, k, p + got);
		got += k;
		if (k == nb_pktlen(d)) {
			c->t_rq = d->nb_nextpkt;
			if (c->t_rq == NULL)
				c->t_rq_tail = NULL;
			nb_freem(d);
		} else {
			nb_adj(d, (int32_t)k);
		}
	}
	c->t_rq_cc -= got;
	if (got > 0) {
		tcp_read_done(c);
		return (long)got;
	}
	return tcp_recv_nodata(c);
}

int
ns_tcp_shutdown(struct ns_tcp *c, int how)
{
	ns_enter(c->t_ns);
	if (how != NS_SHUT_WR)
		return -EINVAL;
	if (c->t_state == NS_TCPS_LISTEN || c->t_state == NS_TCPS_CLOSED)
		return -ENOTCONN;
	if (c->t_flags & TF_SHUTWR)
		return 0;
	c->t_flags |= TF_SHUTWR;
	if (c->t_state == NS_TCPS_ESTABLISHED)
		c->t_state = NS_TCPS_FIN_WAIT_1;
	else if (c->t_state == NS_TCPS_CLOSE_WAIT)
		c->t_state = NS_TCPS_LAST_ACK;
	tcp_output(c);
	return 0;
}

int
ns_tcp_close(struct ns_tcp *c)
{
	ns_enter(c->t_ns);
	switch (c->t_state) {
	case NS_TCPS_LISTEN:
	case NS_TCPS_CLOSED:
		tcp_free(c);
		return 0;
	case NS_TCPS_SYN_SENT:
		c->t_flags |= TF_DETACHED;
		tcp_close(c, 0);
		return 0;
	default:
		break;
	}
	c->t_flags |= TF_DETACHED | TF_RCV_SHUT;
	if (c->t_rq_cc > 0) {
		tcp_drop(c, -ECONNABORTED); /* RFC 2525 2.17 */
		return 0;
	}
	if (c->t_state == NS_TCPS_FIN_WAIT_2) {
		c->t_2msl_at = c->t_ns->ns_now + TCP_FIN2_US;
		tcp_timers_update(c);
	}
	if (c->t_state != NS_TCPS_TIME_WAIT)
		ns_tcp_shutdown(c, NS_SHUT_WR);
	return 0;
}

void
ns_tcp_abort(struct ns_tcp *c)
{
	ns_enter(c->t_ns);
	c->t_flags |= TF_DETACHED;
	if (c->t_state == NS_TCPS_LISTEN || c->t_state == NS_TCPS_CLOSED)
		tcp_free(c);
	else
		tcp_drop(c, -ECONNABORTED);
}

void
ns_tcp_set_upcall(struct ns_tcp *c, ns_upcall_t fn, void *arg)
{
	c->t_upcall = fn;
	c->t_upcall_arg = arg;
}

unsigned
ns_tcp_events(const struct ns_tcp *c)
{
	unsigned ev = 0;

	if (c->t_state == NS_TCPS_LISTEN)
		return TAILQ_EMPTY(&c->t_acceptq) ? 0 : NS_EV_READ;
	if (c->t_rq_cc > 0 || (c->t_flags & TF_RCVD_FIN) || c->t_error != 0 ||
	    c->t_state == NS_TCPS_CLOSED)
		ev |= NS_EV_READ;
	if (c->t_error != 0 ||
	    ((c->t_state == NS_TCPS_ESTABLISHED ||
		 c->t_state == NS_TCPS_CLOSE_WAIT) &&
		c->t_sb_cc < c->t_sb_hiwat && !(c->t_flags & TF_SHUTWR)))
		ev |= NS_EV_WRITE;
	if (c->t_error != 0)
		ev |= NS_EV_ERR;
	if (c->t_state == NS_TCPS_CLOSED || c->t_state == NS_TCPS_TIME_WAIT)
		ev |= NS_EV_HUP;
	return ev;
}

enum ns_tcp_state
ns_tcp_state(const struct ns_tcp *c)
{
	return (enum ns_tcp_state)c->t_state;
}

int
ns_tcp_error(struct ns_tcp *c)
{
	int e = c->t_error;

	c->t_error = 0;
	return e;
}

int
ns_tcp_setopt(struct ns_tcp *c, int opt, uint32_t val)
{
	switch (opt) {
	case NS_TCP_NODELAY:
		c->t_flags =
		    val ? c->t_flags | TF_NODELAY : c->t_flags & ~TF_NODELAY;
		break;
	case NS_TCP_KEEPALIVE:
		c->t_flags = val ? c->t_flags | TF_KEEPALIVE :
				   c->t_flags & ~TF_KEEPALIVE;
		c->t_keep_at = val && TCPS_HAVE_ESTABLISHED(c->t_state) ?
		    c->t_ns->ns_now + c->t_keepidle * 1000ull :
		    0;
		tcp_timers_update(c);
		break;
	case NS_TCP_KEEPIDLE:
	case NS_TCP_KEEPINTVL:
		if (val == 0 || val > 86400000u)
			return -EINVAL;
		if (opt == NS_TCP_KEEPIDLE)
			c->t_keepidle = val;
		else
			c->t_keepintvl = val;
		break;
	case NS_TCP_KEEPCNT:
		if (val == 0 || val > 255)
			return -EINVAL;
		c->t_keepcnt = (uint8_t)val;
		break;
	case NS_TCP_SNDBUF:
	case NS_TCP_RCVBUF:
		if (val < 4096 || val > (64u << 20))
			return -EINVAL;
		if (opt == NS_TCP_SNDBUF)
			c->t_sb_hiwat = val;
		else if (c->t_state != NS_TCPS_CLOSED &&
		    c->t_state != NS_TCPS_LISTEN)
			return -EISCONN;
		else
			c->t_rb_hiwat = val;
		break;
	case NS_TCP_CC:
		if (val != NS_CC_NEWRENO && val != NS_CC_CUBIC)
			return -EINVAL;
		c->t_cc = (uint8_t)val;
		c->cu_epoch_ms = 0;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return 0;
}

void
ns_tcp_info(const struct ns_tcp *c, struct ns_tcp_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	ti->ti_state = (enum ns_tcp_state)c->t_state;
	ti->ti_snd_mss = c->t_maxseg;
	ti->ti_rcv_mss = c->t_our_mss;
	ti->ti_cwnd = c->snd_cwnd;
	ti->ti_ssthresh = c->snd_ssthresh;
	ti->ti_snd_wnd = c->snd_wnd;
	ti->ti_rcv_wnd = tcp_rcv_space(c);
	ti->ti_srtt_us = c->t_srtt;
	ti->ti_rttvar_us = c->t_rttvar;
	ti->ti_rto_us = c->t_rto;
	ti->ti_snd_wscale = c->snd_scale;
	ti->ti_rcv_wscale = c->rcv_scale;
	ti->ti_ts = (c->t_flags & TF_TS) != 0;
	ti->ti_sack = (c->t_flags & TF_SACK) != 0;
	ti->ti_cc = c->t_cc;
	ti->ti_unacked = c->snd_max - c->snd_una;
	ti->ti_rexmits = c->t_rexmits;
	ti->ti_timeouts = c->t_timeouts;
	ti->ti_fast_rexmits = c->t_fastrx;
	ti->ti_sack_rexmits = c->t_sackrx;
	ti->ti_bytes_sent = c->t_bytes_sent;
	ti->ti_bytes_rcvd = c->t_bytes_rcvd;
	ti->ti_ooo_segs = c->t_ooo;
	ti->ti_dup_bytes = c->t_dupbytes;
	ti->ti_challenge_acks = c->t_chal;
}

void
ns_tcp_addrs(const struct ns_tcp *c, uint32_t *laddr, uint16_t *lport,
    uint32_t *faddr, uint16_t *fport)
{
	*laddr = c->t_laddr;
	*lport = c->t_lport;
	*faddr = c->t_faddr;
	*fport = c->t_fport;
}
