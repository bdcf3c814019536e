/*
 * ns_tcp_sack.c: selective acknowledgments (RFC 2018) both ways.
 *
 * Sender: the scoreboard is a sorted array of disjoint ranges the peer
 * SACKed above snd_una (at most TCP_SACK_MAX; information past that is
 * dropped, which is safe: it only makes us retransmit more). A block is
 * used only if it is well formed and inside (snd_una, snd_max]; anything
 * else is counted in tcp_rx_badsack and ignored (RFC 2018 and the lessons
 * of CVE-2019-11477: never trust a block's size). In recovery every hole
 * below the highest SACKed byte is taken as lost (a forward-ACK rule,
 * simpler than RFC 6675's DupThresh test), retransmitted in order from
 * t_rxt_next, and the pipe (RFC 6675) counts what is still in flight:
 * unSACKed data not known lost, plus retransmissions.
 *
 * Receiver: up to four blocks describing the out-of-order queue, the one
 * holding the latest segment first (RFC 2018 4).
 */
#include "netstack/ns_tcp.h"

void
tcp_sack_clear(struct ns_tcp *tp)
{
	tp->t_nsack = 0;
	tp->t_sacked = 0;
	tp->t_rxt_next = tp->snd_una;
}

static void
sack_recount(struct ns_tcp *tp)
{
	uint32_t i, n = 0;

	for (i = 0; i < tp->t_nsack; i++)
		n += tp->t_sack[i].sb_end - tp->t_sack[i].sb_start;
	tp->t_sacked = n;
}

/* Adds [s, e) and merges; the array stays sorted and disjoint. */
static void
sack_add(struct ns_tcp *tp, uint32_t s, uint32_t e)
{
	struct tcp_sackblk *b = tp->t_sack;
	uint32_t i, j, n = tp->t_nsack;

	for (i = 0; i < n && SEQ_LT(b[i].sb_end, s); i++)
		;
	/* b[i] is the first block that may touch [s, e). */
	for (j = i; j < n && SEQ_LEQ(b[j].sb_start, e); j++) {
		s = SEQ_MIN(s, b[j].sb_start);
		e = SEQ_MAX(e, b[j].sb_end);
	}
	if (j == i && n == TCP_SACK_MAX)
		return; /* full: forget it */
	memmove(&b[i + 1], &b[j], (n - j) * sizeof(*b));
	b[i].sb_start = s;
	b[i].sb_end = e;
	tp->t_nsack = (uint8_t)(n - (j - i) + 1);
}

void
tcp_sack_update(struct ns_tcp *tp, const struct tcp_opts *to)
{
	uint32_t i, s, e;

	for (i = 0; i < to->to_nsack; i++) {
		s = to->to_sack[i].sb_start;
		e = to->to_sack[i].sb_end;
		if (SEQ_LEQ(e, tp->snd_una))
			continue; /* old, or a D-SACK (RFC 2883) */
		if (SEQ_GEQ(s, e) || SEQ_GT(e, tp->snd_max) ||
		    SEQ_LT(s, tp->snd_una - (1u << 30))) {
			tp->t_ns->ns_stats.tcp_rx_badsack++;
			continue;
		}
		sack_add(tp, SEQ_MAX(s, tp->snd_una), e);
	}
	sack_recount(tp);
}

void
tcp_sack_trim(struct ns_tcp *tp)
{
	struct tcp_sackblk *b = tp->t_sack;
	uint32_t i = 0, n = tp->t_nsack;

	while (i < n && SEQ_LEQ(b[i].sb_end, tp->snd_una))
		i++;
	memmove(b, b + i, (n - i) * sizeof(*b));
	tp->t_nsack = (uint8_t)(n - i);
	if (tp->t_nsack > 0 && SEQ_LT(b[0].sb_start, tp->snd_una))
		b[0].sb_start = tp->snd_una;
	if (SEQ_LT(tp->t_rxt_next, tp->snd_una))
		tp->t_rxt_next = tp->snd_una;
	sack_recount(tp);
}

int
tcp_sack_hole(struct ns_tcp *tp, uint32_t *start, uint32_t *len)
{
	uint32_t p = SEQ_MAX(tp->snd_una, tp->t_rxt_next), i;

	for (i = 0; i < tp->t_nsack; i++) {
		if (SEQ_LT(p, tp->t_sack[i].sb_start)) {
			*start = p;
			*len = tp->t_sack[i].sb_start - p;
			return 0;
		}
		p = SEQ_MAX(p, tp->t_sack[i].sb_end);
	}
	return -1;
}

uint32_t
tcp_sack_pipe(const struct ns_tcp *tp)
{
	uint32_t out = tp->snd_max - tp->snd_una - tp->t_sacked, lost = 0;
	uint32_t p = SEQ_MAX(tp->snd_una, tp->t_rxt_next), i;

	for (i = 0; i < tp->t_nsack; i++) {
		if (SEQ_LT(p, tp->t_sack[i].sb_start))
			lost += tp->t_sack[i].sb_start - p;
		p = SEQ_MAX(p, tp->t_sack[i].sb_end);
	}
	return out > lost ? out - lost : 0;
}

/* ---------------------------------------------------------------- */
/* Receiver                                                         */
/* ---------------------------------------------------------------- */

void
tcp_rsack_update(struct ns_tcp *tp, uint32_t start, uint32_t end)
{
	struct tcp_sackblk nb[4], blk = { start, end };
	const struct nb *q;
	uint32_t i, n = 0, qs, qe;

	/* The run of contiguous queued segments holding [start, end). */
	for (q = tp->t_oq; q != NULL; q = q->nb_nextpkt) {
		qs = q->nb_seq;
		qe = q->nb_seq + nb_pktlen(q) + (q->nb_aux ? 1 : 0);
		if (SEQ_LEQ(qs, blk.sb_end) && SEQ_GEQ(qe, blk.sb_start)) {
			blk.sb_start = SEQ_MIN(blk.sb_start, qs);
			blk.sb_end = SEQ_MAX(blk.sb_end, qe);
		}
	}
	nb[n++] = blk;
	for (i = 0; i < tp->t_nrsack && n < 4; i++) {
		const struct tcp_sackblk *o = &tp->t_rsack[i];

		if (SEQ_LEQ(o->sb_end, tp->rcv_nxt) ||
		    (SEQ_LEQ(blk.sb_start, o->sb_end) &&
			SEQ_GEQ(blk.sb_end, o->sb_start)))
			continue;
		nb[n++] = *o;
	}
	memcpy(tp->t_rsack, nb, n * sizeof(nb[0]));
	tp->t_nrsack = (uint8_t)n;
}

void
tcp_rsack_trim(struct ns_tcp *tp)
{
	uint32_t i, n = 0;

	if (tp->t_oq == NULL) {
		tp->t_nrsack = 0;
		return;
	}
	for (i = 0; i < tp->t_nrsack; i++) {
		if (SEQ_LEQ(tp->t_rsack[i].sb_end, tp->rcv_nxt))
			continue;
		tp->t_rsack[n] = tp->t_rsack[i];
		if (SEQ_LT(tp->t_rsack[n].sb_start, tp->rcv_nxt))
			tp->t_rsack[n].sb_start = tp->rcv_nxt;
		n++;
	}
	tp->t_nrsack = (uint8_t)n;
}
