/*
 * ns_tcp_cc.c: congestion control: slow start and the initial window
 * (RFC 5681, RFC 6928: ten segments), NewReno (RFC 5681, RFC 6582) and
 * CUBIC (RFC 9438, which obsoletes RFC 8312), in integer arithmetic: the
 * kernel compiles this file without floating point.
 *
 * Windows are bytes. Growth only happens while the window is the limit
 * (RFC 7661's spirit: an application-limited flow does not inflate it).
 *
 * CUBIC: C = 0.4, beta = 0.7, fast convergence. After a loss at window
 * W_max, W_cubic(t) = C (t - K)^3 + W_max segments, K = cbrt((W_max -
 * cwnd_epoch) / C) seconds; each ACK moves cwnd toward W_cubic(t + RTT),
 * at most 1.5 times cwnd, and never below the Reno-friendly estimate
 * W_est, which grows by alpha = 3 (1 - beta) / (1 + beta) = 9/17 segments
 * per window (1 once W_est reaches W_max). Times in milliseconds.
 */
#include "netstack/ns_tcp.h"

uint32_t
ns_cbrt64(uint64_t v)
{
	uint64_t r = 0, b;
	int s;

	/* Digit by digit, three bits at a time. */
	for (s = 63; s >= 0; s -= 3) {
		r <<= 1;
		b = 3 * r * (r + 1) + 1;
		if ((v >> s) >= b) {
			v -= b << s;
			r++;
		}
	}
	return (uint32_t)r;
}

uint32_t
tcp_smss(const struct ns_tcp *tp)
{
	uint32_t ol = (tp->t_flags & TF_TS) ? 12 : 0;

	return tp->t_maxseg > ol + 64 ? tp->t_maxseg - ol : 64;
}

uint32_t
tcp_flight(const struct ns_tcp *tp)
{
	return tp->snd_max - tp->snd_una;
}

void
tcp_cc_init(struct ns_tcp *tp)
{
	uint32_t mss = tcp_smss(tp);

	if (tp->t_flags & TF_SYN_REXMT)
		tp->snd_cwnd = mss; /* RFC 6928 2 */
	else
		tp->snd_cwnd =
		    NS_MIN(TCP_IW_SEGS * mss, NS_MAX(2 * mss, 14600u));
	tp->snd_ssthresh = TCP_SSTHRESH_INIT;
	tp->cu_wmax = 0;
	tp->cu_epoch_ms = 0;
}

static void
cubic_epoch(struct ns_tcp *tp, uint32_t mss)
{
	uint64_t d;

	tp->cu_epoch_ms = NS_MAX((uint64_t)ns_now_ms(tp->t_ns), 1);
	tp->cu_west = tp->snd_cwnd;
	if (tp->cu_wmax > tp->snd_cwnd) {
		/* K^3 (ms^3) = (W_max - cwnd) / (C mss) * 10^9 */
		d = tp->cu_wmax - tp->snd_cwnd;
		d = NS_MIN(d, (uint64_t)1 << 31);
		tp->cu_k_ms = ns_cbrt64(d * 2500000000ull / mss);
		tp->cu_origin = tp->cu_wmax;
	} else {
		tp->cu_k_ms = 0;
		tp->cu_origin = tp->snd_cwnd;
	}
}

/* W_cubic at t ms after the epoch, bytes. */
static uint64_t
cubic_w(const struct ns_tcp *tp, uint64_t t, uint32_t mss)
{
	int64_t d = (int64_t)t - (int64_t)tp->cu_k_ms;
	uint64_t a = (uint64_t)(d < 0 ? -d : d), delta;

	a = NS_MIN(a, (uint64_t)100000);
	/* C a^3 / 10^9 segments: (a^3 / 1000) * 4 / 10^7 */
	delta = (a * a * a / 1000) * mss * 4 / 10000000;
	if (d < 0)
		return delta >= tp->cu_origin ? 0 : tp->cu_origin - delta;
	return tp->cu_origin + delta;
}

static void
cubic_ack(struct ns_tcp *tp, uint32_t acked, uint32_t mss)
{
	uint64_t t, target, cw = tp->snd_cwnd, inc;

	if (tp->cu_epoch_ms == 0)
		cubic_epoch(tp, mss);
	t = ns_now_ms(tp->t_ns) - tp->cu_epoch_ms + tp->t_srtt / 1000;
	target = cubic_w(tp, t, mss);
	target = NS_MAX(target, cw);
	target = NS_MIN(target, cw + cw / 2);
	/* Reno-friendly estimate (RFC 9438 4.3). */
	inc = (uint64_t)acked * mss / cw;
	tp->cu_west +=
	    (uint32_t)(tp->cu_west < tp->cu_wmax ? inc * 9 / 17 : inc);
	if (target > cw)
		cw += (target - cw) * acked / cw;
	cw = NS_MAX(cw, (uint64_t)tp->cu_west);
	tp->snd_cwnd = (uint32_t)NS_MIN(cw, (uint64_t)1 << 30);
}

void
tcp_cc_ack(struct ns_tcp *tp, uint32_t acked)
{
	uint32_t mss = tcp_smss(tp);

	if (tp->t_flags & TF_RECOVERY)
		return;
	/* Application limited: the window was not what held us back (the
	 * flight is still the one before this ACK). */
	if (tcp_flight(tp) < tp->snd_cwnd / 2)
		return;
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		tp->snd_cwnd += NS_MIN(acked, 2 * mss); /* RFC 3465, L=2 */
		return;
	}
	if (tp->t_cc == NS_CC_CUBIC) {
		cubic_ack(tp, acked, mss);
		return;
	}
	tp->t_bytes_acked += acked;
	if (tp->t_bytes_acked >= tp->snd_cwnd) {
		tp->t_bytes_acked -= tp->snd_cwnd;
		tp->snd_cwnd += mss;
	}
}

void
tcp_cc_loss(struct ns_tcp *tp, bool timeout)
{
	uint32_t mss = tcp_smss(tp), fl = tcp_flight(tp);

	if (tp->t_cc == NS_CC_CUBIC) {
		if (tp->snd_cwnd < tp->cu_wmax)
			tp->cu_wmax = tp->snd_cwnd / 20 * 17; /* (1+b)/2 */
		else
			tp->cu_wmax = tp->snd_cwnd;
		tp->snd_ssthresh = NS_MAX(tp->snd_cwnd / 10 * 7, 2 * mss);
		tp->cu_epoch_ms = 0;
	} else {
		tp->snd_ssthresh = NS_MAX(fl / 2, 2 * mss);
	}
	tp->t_bytes_acked = 0;
	if (timeout)
		tp->snd_cwnd = mss; /* the loss window */
	else
		tp->snd_cwnd = tp->snd_ssthresh;
}

void
tcp_cc_recovered(struct ns_tcp *tp)
{
	/* RFC 6582 3.2 step 3, option 1. */
	tp->snd_cwnd = NS_MIN(tp->snd_ssthresh,
	    NS_MAX(tcp_flight(tp), tcp_smss(tp)) + tcp_smss(tp));
	tp->cu_epoch_ms = 0;
}
