/*
 * ns_tcp_opts.c: TCP options in and out: MSS (RFC 9293), window scale
 * and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018).
 *
 * Parsing distrusts every byte. A structural error (a length byte past
 * the header, a length below 2 or running past the header) makes the
 * whole segment invalid: RFC 9293 3.1 requires handling an illegal option
 * length; we drop the segment and count it rather than reset the
 * connection, so an off-path forger gains nothing. A known option with
 * the wrong length is ignored and counted; options only meaningful on a
 * SYN are ignored elsewhere. A window shift above 14 is used as 14 (RFC
 * 7323 2.3); MSS values are checked by tcp_peer_mss.
 */
#include "netstack/ns_tcp.h"

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
opt_sack(const uint8_t *p, uint32_t olen, struct tcp_opts *to,
    struct ns_stats *st)
{
	uint32_t i, n;

	if (olen < 10 || (olen - 2) % 8 != 0 || olen > 34) {
		st->tcp_rx_badsack++;
		return;
	}
	n = (olen - 2) / 8;
	for (i = 0; i < n; i++) {
		to->to_sack[i].sb_start = get32(p + 2 + 8 * i);
		to->to_sack[i].sb_end = get32(p + 6 + 8 * i);
	}
	to->to_nsack = (uint8_t)n;
	to->to_flags |= TOF_SACK;
}

static void
opt_one(const uint8_t *p, uint32_t olen, bool syn, struct tcp_opts *to,
    struct ns_stats *st)
{
	switch (p[0]) {
	case TCPOPT_MSS:
		if (olen != 4)
			goto bad;
		if (syn) {
			to->to_flags |= TOF_MSS;
			to->to_mss = (uint16_t)(p[2] << 8 | p[3]);
		}
		return;
	case TCPOPT_WSCALE:
		if (olen != 3)
			goto bad;
		if (syn) {
			to->to_flags |= TOF_WSCALE;
			to->to_wscale = p[2];
			if (p[2] > TCP_MAX_WSCALE) {
				st->tcp_rx_badwscale++;
				to->to_wscale = TCP_MAX_WSCALE;
			}
		}
		return;
	case TCPOPT_SACK_PERM:
		if (olen != 2)
			goto bad;
		if (syn)
			to->to_flags |= TOF_SACK_PERM;
		return;
	case TCPOPT_SACK:
		if (!syn)
			opt_sack(p, olen, to, st);
		return;
	case TCPOPT_TS:
		if (olen != 10)
			goto bad;
		to->to_flags |= TOF_TS;
		to->to_tsval = get32(p + 2);
		to->to_tsecr = get32(p + 6);
		return;
	default:
		return;
	}
bad:
	st->tcp_rx_optignored++;
}

int
tcp_opts_parse(const uint8_t *p, uint32_t len, bool syn, struct tcp_opts *to,
    struct ns_stats *st)
{
	uint32_t i = 0, olen;

	memset(to, 0, sizeof(*to));
	while (i < len) {
		if (p[i] == TCPOPT_EOL)
			break;
		if (p[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -EINVAL;
		olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;
		opt_one(p + i, olen, syn, to, st);
		i += olen;
	}
	return 0;
}

static uint32_t
opt_ts(struct ns_tcp *tp, uint8_t *o)
{
	o[0] = TCPOPT_NOP;
	o[1] = TCPOPT_NOP;
	o[2] = TCPOPT_TS;
	o[3] = 10;
	put32(o + 4, tcp_ts_now(tp));
	put32(o + 8, tp->ts_recent);
	return 12;
}

/* SYN and SYN-ACK: MSS, window scale, SACK-permitted, timestamps. */
static uint32_t
opts_syn(struct ns_tcp *tp, uint8_t *o)
{
	bool offer = tp->t_state == NS_TCPS_SYN_SENT;
	uint32_t n = 0;
	bool ws = (tp->t_flags & (offer ? TF_REQ_WSCALE : TF_WSCALE)) != 0;
	bool sack = (tp->t_flags & (offer ? TF_REQ_SACK : TF_SACK)) != 0;
	bool ts = (tp->t_flags & (offer ? TF_REQ_TS : TF_TS)) != 0;

	o[n++] = TCPOPT_MSS;
	o[n++] = 4;
	o[n++] = (uint8_t)(tp->t_our_mss >> 8);
	o[n++] = (uint8_t)tp->t_our_mss;
	if (ws) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_WSCALE;
		o[n++] = 3;
		o[n++] = tp->rcv_scale;
	}
	if (sack && ts) {
		o[n++] = TCPOPT_SACK_PERM;
		o[n++] = 2;
		o[n++] = TCPOPT_TS;
		o[n++] = 10;
		put32(o + n, tcp_ts_now(tp));
		put32(o + n + 4, tp->ts_recent);
		n += 8;
	} else if (sack) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK_PERM;
		o[n++] = 2;
	} else if (ts) {
		n += opt_ts(tp, o + n);
	}
	return n;
}

uint32_t
tcp_opts_build(struct ns_tcp *tp, uint8_t flags, uint8_t *o)
{
	uint32_t n = 0, i, nb;

	if (flags & TH_SYN)
		return opts_syn(tp, o);
	if (tp->t_flags & TF_TS)
		n += opt_ts(tp, o);
	if ((tp->t_flags & TF_SACK) && tp->t_nrsack > 0 && !(flags & TH_RST)) {
		nb = NS_MIN((uint32_t)tp->t_nrsack,
		    (tp->t_flags & TF_TS) ? 3u : 4u);
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK;
		o[n++] = (uint8_t)(2 + 8 * nb);
		for (i = 0; i < nb; i++) {
			put32(o + n, tp->t_rsack[i].sb_start);
			put32(o + n + 4, tp->t_rsack[i].sb_end);
			n += 8;
		}
	}
	return n;
}
