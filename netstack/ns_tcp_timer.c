/*
 * ns_tcp_timer.c: what each TCP deadline does when it passes.
 *
 *  - Retransmission (RFC 6298): back off, give up after TCP_SYN_RETRIES
 *    for an opening connection or TCP_MAXRXTSHIFT otherwise, collapse the
 *    congestion window to one segment, forget the SACK scoreboard (the
 *    receiver may have reneged, RFC 2018 8), and go back to snd_una.
 *  - Persist: the peer's window is zero and data waits: send one byte
 *    past it (a window probe), backing off up to a minute; never give up
 *    while the peer answers (RFC 9293 3.8.6.1).
 *  - Keepalive (RFC 9293 3.8.4, off unless asked for): after the idle
 *    time, probe with SND.UNA-1 every interval; give up after the count.
 *  - Delayed ACK: send the ACK owed.
 *  - 2MSL: TIME-WAIT is over; the same deadline bounds FIN-WAIT-2 after
 *    the application closed (the peer may never send its FIN).
 * Each returns the control block, or NULL when it was freed.
 */
#include "netstack/ns_tcp.h"

struct ns_tcp *tcp_timer_2msl(struct ns_tcp *tp);
struct ns_tcp *tcp_timer_rexmt(struct ns_tcp *tp);
struct ns_tcp *tcp_timer_persist(struct ns_tcp *tp);
struct ns_tcp *tcp_timer_keep(struct ns_tcp *tp);
struct ns_tcp *tcp_timer_delack(struct ns_tcp *tp);

struct ns_tcp *
tcp_timer_2msl(struct ns_tcp *tp)
{
	tp->t_2msl_at = 0;
	if (tp->t_state == NS_TCPS_TIME_WAIT)
		return tcp_close(tp, 0);
	if (tp->t_state == NS_TCPS_FIN_WAIT_2)
		return tcp_close(tp, -ETIMEDOUT);
	return tp;
}

struct ns_tcp *
tcp_timer_rexmt(struct ns_tcp *tp)
{
	struct ns *ns = tp->t_ns;
	bool opening = tp->t_state == NS_TCPS_SYN_SENT ||
	    tp->t_state == NS_TCPS_SYN_RECEIVED;

	tp->t_rexmt_at = 0;
	if (++tp->t_rxtshift > (opening ? TCP_SYN_RETRIES : TCP_MAXRXTSHIFT))
		return tcp_drop(tp,
		    tp->t_softerr != 0 ? tp->t_softerr : -ETIMEDOUT);
	ns->ns_stats.tcp_timeout++;
	tp->t_timeouts++;
	if (opening) {
		tp->t_flags |= TF_SYN_REXMT;
		tp->snd_nxt = tp->iss;
	} else {
		if (tp->snd_una != tp->snd_max)
			tcp_cc_loss(tp, true);
		tp->snd_nxt = tp->snd_una;
	}
	tp->t_flags &= ~TF_RECOVERY;
	tp->t_dupacks = 0;
	tcp_sack_clear(tp);
	tp->t_rtstart = 0;
	tcp_rexmt_arm(tp);
	tcp_output(tp);
	return tp;
}

struct ns_tcp *
tcp_timer_persist(struct ns_tcp *tp)
{
	uint64_t next;

	tp->t_persist_at = 0;
	if (tp->snd_wnd != 0 || tp->t_sb_cc == 0 ||
	    !TCPS_HAVE_ESTABLISHED(tp->t_state)) {
		tp->t_persist_shift = 0;
		return tp;
	}
	tp->t_ns->ns_stats.tcp_persist++;
	tp->t_flags |= TF_FORCE;
	tp->snd_nxt = tp->snd_una;
	tcp_output(tp);
	tp->t_flags &= ~TF_FORCE;
	if (tp->t_persist_shift < 16)
		tp->t_persist_shift++;
	next = (uint64_t)tp->t_rto << tp->t_persist_shift;
	next = NS_MAX(next, (uint64_t)TCP_PERSIST_MIN_US);
	next = NS_MIN(next, (uint64_t)TCP_PERSIST_MAX_US);
	tp->t_rexmt_at = 0;
	tp->t_persist_at = tp->t_ns->ns_now + next;
	return tp;
}

struct ns_tcp *
tcp_timer_keep(struct ns_tcp *tp)
{
	struct ns *ns = tp->t_ns;
	uint64_t idle = tp->t_keepidle * 1000ull;

	tp->t_keep_at = 0;
	if (!(tp->t_flags & TF_KEEPALIVE) ||
	    !TCPS_HAVE_ESTABLISHED(tp->t_state) ||
	    tp->t_state == NS_TCPS_TIME_WAIT)
		return tp;
	if (tp->t_keep_sent == 0 && ns->ns_now - tp->t_rcvtime < idle) {
		tp->t_keep_at = tp->t_rcvtime + idle;
		return tp;
	}
	if (tp->t_keep_sent >= tp->t_keepcnt)
		return tcp_drop(tp, -ETIMEDOUT);
	tcp_send_keepalive(tp);
	tp->t_keep_sent++;
	ns->ns_stats.tcp_keepalive++;
	tp->t_keep_at = ns->ns_now + tp->t_keepintvl * 1000ull;
	return tp;
}

struct ns_tcp *
tcp_timer_delack(struct ns_tcp *tp)
{
	tp->t_delack_at = 0;
	if (tp->t_flags & TF_DELACK) {
		tp->t_ns->ns_stats.tcp_delack++;
		tp->t_flags |= TF_ACKNOW;
		tcp_output(tp);
	}
	return tp;
}
