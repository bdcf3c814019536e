/*
 * nstest.c: the netstack tests' fake netif, wire, frame builders and
 * parsers. See nstest.h.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netstack/test/nstest.h"

const uint8_t nt_mac_me[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t nt_mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static uint16_t
sum16(const void *p, size_t n, uint32_t init)
{
	const uint8_t *b = p;
	uint64_t s = init;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t
pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	    proto + len;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* ---------------------------------------------------------------- */
/* The device side: checksums and TSO as virtio-net does them       */
/* ---------------------------------------------------------------- */

static void
finish_l4(uint8_t *f, uint32_t len)
{
	uint32_t hl = (uint32_t)(f[14] & 15) * 4, at = 14 + hl, l4 = len - at;
	uint8_t proto = f[14 + 9];
	uint32_t off = proto == IP_PROTO_TCP ? 16 : 6;
	uint16_t c;

	put16(f + at + off, 0);
	c = (uint16_t)~sum16(f + at, l4,
	    pseudo(get32(f + 26), get32(f + 30), proto, l4));
	if (c == 0 && proto == IP_PROTO_UDP)
		c = 0xffff;
	put16(f + at + off, c);
}

static void nt_if_emit(struct nt_if *fi, const uint8_t *f, uint32_t len,
    uint32_t flags);

/* Cuts a TSO frame into MSS pieces, each a complete frame. */
static void
tso_cut(struct nt_if *fi, const uint8_t *f, uint32_t len, uint32_t hdrlen,
    uint32_t mss, uint32_t flags)
{
	uint32_t iphl = (uint32_t)(f[14] & 15) * 4, off, n, seq;
	uint8_t *s = malloc(hdrlen + mss), tflags = f[14 + iphl + 13];
	uint16_t id = get16(f + 18);

	ck_assert_uint_gt(mss, 0);
	seq = get32(f + 14 + iphl + 4);
	for (off = hdrlen; off < len; off += n) {
		n = len - off < mss ? len - off : mss;
		memcpy(s, f, hdrlen);
		memcpy(s + hdrlen, f + off, n);
		put16(s + 16, (uint16_t)(hdrlen - 14 + n));
		put16(s + 18, id++);
		put16(s + 24, 0);
		put16(s + 24, (uint16_t)~sum16(s + 14, iphl, 0));
		put32(s + 14 + iphl + 4, seq + (off - hdrlen));
		s[14 + iphl + 13] = off + n < len ?
		    (uint8_t)(tflags & ~(TH_FIN | TH_PSH)) :
		    tflags;
		finish_l4(s, hdrlen + n);
		nt_if_emit(fi, s, hdrlen + n, flags);
	}
	free(s);
}

static int
nt_transmit(struct netif *nif, struct nb *frame)
{
	struct nt_if *fi = nif->nif_priv;
	uint32_t len = nb_pktlen(frame), flags = frame->nb_flags;
	uint8_t *f;

	if (fi->fi_fail) {
		nb_freem(frame);
		return -ENOBUFS;
	}
	ck_assert_uint_ge(len, 14);
	f = malloc(len);
	ck_assert_int_eq(nb_copydata(frame, 0, len, f), 0);
	if (flags & NB_TX_TSO) {
		ck_assert(nif->nif_caps & NETIF_CAP_TSO4);
		ck_assert(flags & NB_TX_CSUM);
		ck_assert_uint_le(len - frame->nb_hdrlen, nif->nif_tso_max);
		fi->fi_tso_frames++;
		tso_cut(fi, f, len, frame->nb_hdrlen, frame->nb_tso_mss, flags);
	} else {
		if (flags & NB_TX_CSUM) {
			uint32_t at = frame->nb_csum_start;
			uint16_t c;

			ck_assert(nif->nif_caps & NETIF_CAP_TXCSUM);
			c = (uint16_t)~sum16(f + at, len - at, 0);
			if (c == 0 && frame->nb_csum_off == 6)
				c = 0xffff;
			put16(f + at + frame->nb_csum_off, c);
			fi->fi_csum_frames++;
		}
		ck_assert_uint_le(len, 14u + nif->nif_mtu);
		nt_if_emit(fi, f, len, flags);
	}
	free(f);
	nb_freem(frame);
	return 0;
}

static const struct netif_ops nt_ops = { nt_transmit };

void
nt_if_init(struct nt_if *fi, const uint8_t *mac, uint16_t mtu, uint32_t caps)
{
	memset(fi, 0, sizeof(*fi));
	fi->fi_nif.nif_ops = &nt_ops;
	fi->fi_nif.nif_priv = fi;
	memcpy(fi->fi_nif.nif_mac, mac, 6);
	fi->fi_nif.nif_mtu = mtu;
	fi->fi_nif.nif_caps = caps;
	fi->fi_nif.nif_tso_max = 65000;
	fi->fi_out_tail = &fi->fi_out;
}

static void wire_send(struct nt_wire *w, int side, const uint8_t *f,
    uint32_t len);

static void
nt_if_emit(struct nt_if *fi, const uint8_t *f, uint32_t len, uint32_t flags)
{
	struct nt_frame *fr;

	if (fi->fi_wire != NULL) {
		wire_send(fi->fi_wire, fi->fi_side, f, len);
		return;
	}
	fr = malloc(sizeof(*fr) + len);
	fr->f_next = NULL;
	fr->f_len = len;
	fr->f_flags = flags;
	memcpy(fr->f_data, f, len);
	*fi->fi_out_tail = fr;
	fi->fi_out_tail = &fr->f_next;
	fi->fi_nout++;
}

struct nt_frame *
nt_if_pop(struct nt_if *fi)
{
	struct nt_frame *f = fi->fi_out;

	if (f == NULL)
		return NULL;
	fi->fi_out = f->f_next;
	if (fi->fi_out == NULL)
		fi->fi_out_tail = &fi->fi_out;
	fi->fi_nout--;
	return f;
}

void
nt_if_flush(struct nt_if *fi)
{
	struct nt_frame *f;

	while ((f = nt_if_pop(fi)) != NULL)
		free(f);
}

/* ---------------------------------------------------------------- */
/* One instance                                                     */
/* ---------------------------------------------------------------- */

void
nt_env_init(struct nt_env *e, const struct ns_config *cfg, uint32_t caps,
    const uint8_t *mac)
{
	memset(e, 0, sizeof(*e));
	ns_host_init(&e->e_host, mac != NULL ? mac[5] : 42);
	nt_if_init(&e->e_if, mac != NULL ? mac : nt_mac_me, 1500, caps);
	if (cfg != NULL)
		e->e_cfg = *cfg;
	if (e->e_cfg.nc_addr == 0) {
		e->e_cfg.nc_addr = NT_ME;
		e->e_cfg.nc_netmask = NT_MASK;
		e->e_cfg.nc_gateway = NT_GW;
	}
	ck_assert_int_eq(
	    ns_create(&e->e_host.nh_plat, &e->e_if.fi_nif, &e->e_cfg, &e->e_ns),
	    0);
}

void
nt_env_fini(struct nt_env *e)
{
	ck_assert_uint_eq(ns_destroy(e->e_ns), 0);
	nt_if_flush(&e->e_if);
	ck_assert_uint_eq(ns_host_outstanding(&e->e_host), 0);
}

void
nt_advance(struct nt_env *e, uint64_t us)
{
	uint64_t end = e->e_host.nh_now_us + us, next;

	/* Stop at every timer on the way, as the kernel's thread would. */
	while ((next = ns_next_timer(e->e_ns)) < end) {
		if (next > e->e_host.nh_now_us)
			e->e_host.nh_now_us = next;
		ns_tick(e->e_ns);
	}
	e->e_host.nh_now_us = end;
	ns_tick(e->e_ns);
}

void
nt_inject(struct nt_env *e, const void *frame, uint32_t len)
{
	/* A refusal (pool empty) is counted by the stack in eth_nobufs. */
	(void)ns_input_copy(e->e_ns, frame, len);
}

void
nt_learn_peer(struct nt_env *e, uint32_t ip, const uint8_t *mac)
{
	uint8_t f[42];

	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, ETH_TYPE_ARP);
	put16(f + 14, 1);
	put16(f + 16, ETH_TYPE_IPV4);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, ARP_OP_REQUEST);
	memcpy(f + 22, mac, 6);
	put32(f + 28, ip);
	memset(f + 32, 0, 6);
	put32(f + 38, e->e_cfg.nc_addr);
	nt_inject(e, f, sizeof(f));
	nt_if_flush(&e->e_if); /* the ARP reply */
}

/* ---------------------------------------------------------------- */
/* Building frames                                                  */
/* ---------------------------------------------------------------- */

uint32_t
nt_build_ip(uint8_t *buf, const struct nt_ip *ip, const void *pl, uint32_t plen)
{
	uint32_t hl = ip->hlen_words ? (uint32_t)ip->hlen_words * 4 :
				       20u + ((ip->optlen + 3u) & ~3u);
	uint8_t *h = buf + 14;

	memcpy(buf, nt_mac_me, 6);
	memcpy(buf + 6, nt_mac_peer, 6);
	put16(buf + 12, ETH_TYPE_IPV4);
	memset(h, 0, hl > 20 ? hl : 20);
	h[0] = (uint8_t)(0x40 | ((hl / 4) & 15));
	put16(h + 2, (uint16_t)(hl + plen + (uint32_t)ip->len_delta));
	put16(h + 4, ip->id);
	put16(h + 6, ip->off);
	h[8] = ip->ttl ? ip->ttl : 64;
	h[9] = ip->proto;
	put32(h + 12, ip->src);
	put32(h + 16, ip->dst);
	if (ip->optlen)
		memcpy(h + 20, ip->opts, ip->optlen);
	put16(h + 10, (uint16_t)~sum16(h, hl, 0));
	if (ip->bad_sum)
		h[10] ^= 0x55;
	if (plen)
		memcpy(h + hl, pl, plen);
	return 14 + hl + plen;
}

uint32_t
nt_build_tcp(uint8_t *buf, const struct nt_tcp *t)
{
	uint8_t seg[NT_MAXFRAME];
	uint32_t ol = ((uint32_t)t->optlen + 3u) & ~3u, hl = 20 + ol;
	uint32_t len = hl + t->dlen;
	struct nt_ip ip = { .src = t->src,
		.dst = t->dst,
		.proto = IP_PROTO_TCP };

	memset(seg, 0, hl);
	put16(seg, t->sport);
	put16(seg + 2, t->dport);
	put32(seg + 4, t->seq);
	put32(seg + 8, t->ack);
	seg[12] = (uint8_t)((t->doff ? t->doff : (int)(hl / 4)) << 4);
	seg[13] = t->flags;
	put16(seg + 14, t->win);
	put16(seg + 18, t->urp);
	if (t->optlen)
		memcpy(seg + 20, t->opts, t->optlen);
	if (t->dlen)
		memcpy(seg + hl, t->data, t->dlen);
	put16(seg + 16,
	    (uint16_t)~sum16(seg, len,
		pseudo(t->src, t->dst, IP_PROTO_TCP, len)));
	if (t->bad_sum)
		seg[16] ^= 0x11;
	return nt_build_ip(buf, &ip, seg, len);
}

uint32_t
nt_build_udp(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, const void *data, uint32_t dlen, int bad_sum)
{
	uint8_t seg[NT_MAXFRAME];
	uint32_t len = 8 + dlen;
	struct nt_ip ip = { .src = src, .dst = dst, .proto = IP_PROTO_UDP };
	uint16_t c;

	put16(seg, sport);
	put16(seg + 2, dport);
	put16(seg + 4, (uint16_t)len);
	put16(seg + 6, 0);
	memcpy(seg + 8, data, dlen);
	c = (uint16_t)~sum16(seg, len, pseudo(src, dst, IP_PROTO_UDP, len));
	put16(seg + 6, c == 0 ? 0xffff : c);
	if (bad_sum)
		seg[6] ^= 0x22;
	return nt_build_ip(buf, &ip, seg, len);
}

uint32_t
nt_build_icmp(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type,
    uint8_t code, uint32_t rest, const void *data, uint32_t dlen)
{
	uint8_t m[NT_MAXFRAME];
	struct nt_ip ip = { .src = src, .dst = dst, .proto = IP_PROTO_ICMP };

	m[0] = type;
	m[1] = code;
	put16(m + 2, 0);
	put32(m + 4, rest);
	memcpy(m + 8, data, dlen);
	put16(m + 2, (uint16_t)~sum16(m, 8 + dlen, 0));
	return nt_build_ip(buf, &ip, m, 8 + dlen);
}

/* ---------------------------------------------------------------- */
/* Reading frames                                                   */
/* ---------------------------------------------------------------- */

bool
nt_parse(const struct nt_frame *f, struct nt_parsed *p)
{
	const uint8_t *d = f->f_data;
	uint32_t tot, thl;

	memset(p, 0, sizeof(*p));
	if (f->f_len < 14)
		return false;
	p->etype = get16(d + 12);
	if (p->etype != ETH_TYPE_IPV4)
		return true;
	if (f->f_len < 34)
		return false;
	p->ip = (const struct ip_hdr *)(d + 14);
	p->ip_hlen = (uint32_t)(d[14] & 15) * 4;
	tot = get16(d + 16);
	if (tot + 14 > f->f_len || tot < p->ip_hlen)
		return false;
	p->l4 = d + 14 + p->ip_hlen;
	p->l4len = tot - p->ip_hlen;
	p->sums_ok = sum16(d + 14, p->ip_hlen, 0) == 0xffff;
	if (d[23] == IP_PROTO_TCP || d[23] == IP_PROTO_UDP)
		p->sums_ok = p->sums_ok &&
		    sum16(p->l4, p->l4len,
			pseudo(get32(d + 26), get32(d + 30), d[23],
			    p->l4len)) == 0xffff;
	else
		p->sums_ok = p->sums_ok && sum16(p->l4, p->l4len, 0) == 0xffff;
	if (d[23] == IP_PROTO_TCP && p->l4len >= 20) {
		p->tcp = (const struct tcp_hdr *)p->l4;
		thl = (uint32_t)(p->l4[12] >> 4) * 4;
		p->tcp_opts = p->l4 + 20;
		p->tcp_optlen = thl - 20;
		p->data = p->l4 + thl;
		p->dlen = p->l4len - thl;
	} else if (d[23] == IP_PROTO_UDP && p->l4len >= 8) {
		p->data = p->l4 + 8;
		p->dlen = p->l4len - 8;
	}
	return true;
}

const uint8_t *
nt_tcp_opt(const struct nt_parsed *p, uint8_t kind)
{
	uint32_t i = 0;

	while (i < p->tcp_optlen) {
		uint8_t k = p->tcp_opts[i];

		if (k == TCPOPT_EOL)
			break;
		if (k == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= p->tcp_optlen || p->tcp_opts[i + 1] < 2)
			break;
		if (k == kind)
			return p->tcp_opts + i;
		i += p->tcp_opts[i + 1];
	}
	return NULL;
}

/* ---------------------------------------------------------------- */
/* The wire                                                         */
/* ---------------------------------------------------------------- */

static uint64_t
wire_rand(struct nt_wire *w)
{
	w->w_rng ^= w->w_rng << 13;
	w->w_rng ^= w->w_rng >> 7;
	w->w_rng ^= w->w_rng << 17;
	return w->w_rng;
}

static bool
wire_chance(struct nt_wire *w, uint32_t ppm)
{
	return ppm != 0 && wire_rand(w) % 1000000 < ppm;
}

void
nt_wire_init(struct nt_wire *w, struct nt_env *a, struct nt_env *b,
    uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->w_env[0] = a;
	w->w_env[1] = b;
	w->w_q_tail = &w->w_q;
	w->w_rng = seed * 0x9e3779b97f4a7c15ull | 1;
	w->w_delay_us = 100;
	a->e_if.fi_wire = w;
	a->e_if.fi_side = 0;
	b->e_if.fi_wire = w;
	b->e_if.fi_side = 1;
	b->e_host.nh_now_us = a->e_host.nh_now_us;
}

static void
wire_enqueue(struct nt_wire *w, int side, const uint8_t *f, uint32_t len,
    uint64_t when)
{
	struct nt_frame *fr = malloc(sizeof(*fr) + len), **pp;

	fr->f_len = len;
	fr->f_flags = (uint32_t)side; /* the sender */
	fr->f_when = when;
	memcpy(fr->f_data, f, len);
	for (pp = &w->w_q; *pp != NULL && (*pp)->f_when <= when;
	     pp = &(*pp)->f_next)
		;
	fr->f_next = *pp;
	*pp = fr;
}

static void
wire_send(struct nt_wire *w, int side, const uint8_t *f, uint32_t len)
{
	uint64_t now = w->w_env[side]->e_host.nh_now_us;
	uint64_t when = now + w->w_delay_us;
	uint8_t *c;

	w->w_sent++;
	w->w_bytes += len;
	if (wire_chance(w, w->w_loss_ppm)) {
		w->w_lost++;
		return;
	}
	if (wire_chance(w, w->w_reorder_ppm)) {
		w->w_reordered++;
		when += w->w_delay_us * (1 + wire_rand(w) % 4);
	}
	if (wire_chance(w, w->w_corrupt_ppm) && len > 14) {
		w->w_corrupted++;
		c = malloc(len);
		memcpy(c, f, len);
		c[14 + wire_rand(w) % (len - 14)] ^=
		    (uint8_t)(1u << (wire_rand(w) % 8));
		wire_enqueue(w, side, c, len, when);
		free(c);
		return;
	}
	if (wire_chance(w, w->w_dup_ppm)) {
		w->w_duped++;
		wire_enqueue(w, side, f, len, when + 1);
	}
	wire_enqueue(w, side, f, len, when);
}

static void
wire_set_time(struct nt_wire *w, uint64_t t)
{
	w->w_env[0]->e_host.nh_now_us = t;
	w->w_env[1]->e_host.nh_now_us = t;
}

void
nt_wire_run(struct nt_wire *w, uint64_t us, uint64_t step_us)
{
	uint64_t now = w->w_env[0]->e_host.nh_now_us, end = now + us, next;
	struct nt_frame *fr;
	int i;

	while (now < end) {
		if (w->w_app != NULL)
			w->w_app(w, w->w_app_arg);
		if (w->w_done != NULL && w->w_done(w, w->w_app_arg))
			return;
		next = now + step_us;
		if (w->w_q != NULL && w->w_q->f_when < next)
			next = w->w_q->f_when;
		for (i = 0; i < 2; i++) {
			uint64_t t = ns_next_timer(w->w_env[i]->e_ns);

			if (t < next)
				next = t;
		}
		now = next > now ? next : now + 1;
		if (now > end)
			now = end;
		wire_set_time(w, now);
		while ((fr = w->w_q) != NULL && fr->f_when <= now) {
			w->w_q = fr->f_next;
			nt_inject(w->w_env[1 - (int)fr->f_flags], fr->f_data,
			    fr->f_len);
			free(fr);
		}
		ns_tick(w->w_env[0]->e_ns);
		ns_tick(w->w_env[1]->e_ns);
	}
}

void
nt_wire_fini(struct nt_wire *w)
{
	struct nt_frame *fr;

	while ((fr = w->w_q) != NULL) {
		w->w_q = fr->f_next;
		free(fr);
	}
	w->w_env[0]->e_if.fi_wire = NULL;
	w->w_env[1]->e_if.fi_wire = NULL;
}
