/*
 * ns_core.c: an instance: creation and teardown, the entry points (frame
 * in, tick), the timer wheel, and the helpers every layer uses.
 *
 * Timers: a wheel of NS_WHEEL_SLOTS one-millisecond slots; a timer sits in
 * the slot of its due millisecond modulo the wheel, so arming and stopping
 * are O(1). ns_tick walks the slots from the last millisecond it processed
 * to now (all of them at most once) and fires what is due. Due timers are
 * first moved to an expired list, so a firing timer may arm or stop any
 * other. Timer functions run with ns_now set.
 */
#include <stdarg.h>
#include <stdio.h>

#include "netstack/ns_internal.h"

/* ---------------------------------------------------------------- */
/* Helpers                                                          */
/* ---------------------------------------------------------------- */

void
ns_log(struct ns *ns, int level, const char *fmt, ...)
{
	char line[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ns->ns_plat->np_log(ns->ns_plat->np_arg, level, line);
}

void
ns_panic(struct ns *ns, const char *msg)
{
	ns->ns_plat->np_panic(ns->ns_plat->np_arg, msg);
	__builtin_trap();
}

void *
ns_zalloc(struct ns *ns, size_t size)
{
	void *p = ns->ns_plat->np_alloc(ns->ns_plat->np_arg, size);

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

void
ns_free(struct ns *ns, void *p, size_t size)
{
	if (p != NULL)
		ns->ns_plat->np_free(ns->ns_plat->np_arg, p, size);
}

void
ns_random(struct ns *ns, void *buf, size_t len)
{
	ns->ns_plat->np_random(ns->ns_plat->np_arg, buf, len);
}

uint32_t
ns_random32(struct ns *ns)
{
	uint32_t v;

	ns_random(ns, &v, sizeof(v));
	return v;
}

bool
ns_ip_is_bcast(const struct ns *ns, uint32_t a)
{
	const struct ns_config *c = &ns->ns_cfg;

	if (a == 0xffffffffu)
		return true;
	return c->nc_addr != 0 && c->nc_netmask != 0 &&
	    c->nc_netmask != 0xffffffffu &&
	    (a & c->nc_netmask) == (c->nc_addr & c->nc_netmask) &&
	    (a | c->nc_netmask) == 0xffffffffu;
}

bool
ns_ip_is_local(const struct ns *ns, uint32_t a)
{
	return a != 0 && a == ns->ns_cfg.nc_addr;
}

struct nb_pool *
ns_pool(struct ns *ns)
{
	return &ns->ns_pool;
}

const struct ns_stats *
ns_stats(const struct ns *ns)
{
	return &ns->ns_stats;
}

/* ---------------------------------------------------------------- */
/* Timers                                                           */
/* ---------------------------------------------------------------- */

void
ns_timer_init(struct ns_timer *tm, void (*fn)(struct ns *, void *), void *arg)
{
	tm->tm_fn = fn;
	tm->tm_arg = arg;
	tm->tm_slot = -1;
	tm->tm_when = 0;
}

static struct ns_timerq *
ns_timer_list(struct ns *ns, int slot)
{
	return slot == NS_WHEEL_SLOTS ? &ns->ns_expired : &ns->ns_wheel[slot];
}

void
ns_timer_stop(struct ns *ns, struct ns_timer *tm)
{
	if (tm->tm_slot < 0)
		return;
	TAILQ_REMOVE(ns_timer_list(ns, tm->tm_slot), tm, tm_link);
	tm->tm_slot = -1;
	ns->ns_ntimers--;
}

void
ns_timer_arm(struct ns *ns, struct ns_timer *tm, uint64_t when)
{
	uint64_t ms = when / 1000;

	ns_timer_stop(ns, tm);
	if (ns->ns_ntimers == 0)
		ns->ns_wheel_ms = ns->ns_now / 1000;
	if (ms < ns->ns_wheel_ms)
		ms = ns->ns_wheel_ms;
	tm->tm_when = when;
	tm->tm_slot = (int)(ms % NS_WHEEL_SLOTS);
	TAILQ_INSERT_TAIL(&ns->ns_wheel[tm->tm_slot], tm, tm_link);
	ns->ns_ntimers++;
}

static void
ns_timer_collect(struct ns *ns, int slot)
{
	struct ns_timer *tm, *next;

	TAILQ_FOREACH_SAFE (tm, &ns->ns_wheel[slot], tm_link, next) {
		if (tm->tm_when > ns->ns_now)
			continue;
		TAILQ_REMOVE(&ns->ns_wheel[slot], tm, tm_link);
		TAILQ_INSERT_TAIL(&ns->ns_expired, tm, tm_link);
		tm->tm_slot = NS_WHEEL_SLOTS;
	}
}

static void
ns_timers_run(struct ns *ns)
{
	uint64_t now_ms = ns->ns_now / 1000, ms;
	struct ns_timer *tm;

	if (ns->ns_ntimers == 0) {
		ns->ns_wheel_ms = now_ms;
		return;
	}
	if (now_ms - ns->ns_wheel_ms >= NS_WHEEL_SLOTS) {
		for (ms = 0; ms < NS_WHEEL_SLOTS; ms++)
			ns_timer_collect(ns, (int)ms);
	} else {
		for (ms = ns->ns_wheel_ms; ms <= now_ms; ms++)
			ns_timer_collect(ns, (int)(ms % NS_WHEEL_SLOTS));
	}
	ns->ns_wheel_ms = now_ms;
	while ((tm = TAILQ_FIRST(&ns->ns_expired)) != NULL) {
		ns_timer_stop(ns, tm);
		tm->tm_fn(ns, tm->tm_arg);
	}
}

uint64_t
ns_next_timer(const struct ns *ns)
{
	const struct ns_timer *tm;
	uint64_t best = UINT64_MAX, ms, end;
	int i;

	if (ns->ns_ntimers == 0)
		return UINT64_MAX;
	/* Slots in time order: the first timer due within a turn wins. */
	for (ms = ns->ns_wheel_ms; ms < ns->ns_wheel_ms + NS_WHEEL_SLOTS;
	     ms++) {
		end = (ms + 1) * 1000;
		TAILQ_FOREACH (tm, &ns->ns_wheel[ms % NS_WHEEL_SLOTS],
		    tm_link) {
			if (tm->tm_when < end && tm->tm_when < best)
				best = tm->tm_when;
		}
		if (best != UINT64_MAX)
			return best;
	}
	for (i = 0; i < NS_WHEEL_SLOTS; i++) {
		TAILQ_FOREACH (tm, &ns->ns_wheel[i], tm_link) {
			if (tm->tm_when < best)
				best = tm->tm_when;
		}
	}
	return best;
}

/* ---------------------------------------------------------------- */
/* Instances                                                        */
/* ---------------------------------------------------------------- */

#define DEF(field, v)                   \
	do {                            \
		if (c->field == 0)      \
			c->field = (v); \
	} while (0)

static void
ns_config_defaults(struct ns_config *c)
{
	DEF(nc_ncpu, 1);
	DEF(nc_max_hdrs, 8192);
	DEF(nc_max_clusters, 4096);
	DEF(nc_arp_entries, 64);
	DEF(nc_arp_ttl_ms, 300000);
	DEF(nc_frag_bytes, 262144);
	DEF(nc_frag_dgrams, 32);
	DEF(nc_frag_ttl_ms, 30000);
	DEF(nc_icmp_rate, 100);
	DEF(nc_tcp_conns, 4096);
	DEF(nc_tcp_timewait, 1024);
	DEF(nc_syncache, 512);
	DEF(nc_tcp_sndbuf, 262144);
	DEF(nc_tcp_rcvbuf, 262144);
	DEF(nc_tcp_min_rto_ms, 200);
	DEF(nc_tcp_msl_ms, 30000);
	DEF(nc_tcp_delack_ms, 40);
	DEF(nc_udp_rcvbuf, 65536);
}

#undef DEF

static int
ns_check_args(const struct ns_platform *p, const struct netif *nif,
    const struct ns_config *cfg)
{
	if (p == NULL || p->np_now_us == NULL || p->np_alloc == NULL ||
	    p->np_free == NULL || p->np_random == NULL || p->np_log == NULL ||
	    p->np_panic == NULL)
		return -EINVAL;
	if (nif == NULL || nif->nif_ops == NULL ||
	    nif->nif_ops->nio_transmit == NULL || nif->nif_mtu < 68 ||
	    (nif->nif_mac[0] & 1))
		return -EINVAL;
	if (cfg != NULL && cfg->nc_ncpu != 0 && cfg->nc_cpu >= cfg->nc_ncpu)
		return -EINVAL;
	return 0;
}

int
ns_create(const struct ns_platform *plat, struct netif *nif,
    const struct ns_config *cfg, struct ns **nsp)
{
	struct ns *ns;
	int err, i;

	*nsp = NULL;
	if ((err = ns_check_args(plat, nif, cfg)) != 0)
		return err;
	if ((ns = plat->np_alloc(plat->np_arg, sizeof(*ns))) == NULL)
		return -ENOMEM;
	memset(ns, 0, sizeof(*ns));
	ns->ns_plat = plat;
	ns->ns_nif = nif;
	if (cfg != NULL)
		ns->ns_cfg = *cfg;
	ns_config_defaults(&ns->ns_cfg);
	ns->ns_now = plat->np_now_us(plat->np_arg);
	ns->ns_wheel_ms = ns->ns_now / 1000;
	for (i = 0; i < NS_WHEEL_SLOTS; i++)
		TAILQ_INIT(&ns->ns_wheel[i]);
	TAILQ_INIT(&ns->ns_expired);
	memcpy(ns->ns_rss_key,
	    cfg != NULL && cfg->nc_rss_key != NULL ? cfg->nc_rss_key :
						     ns_rss_default_key,
	    sizeof(ns->ns_rss_key));
	ns->ns_cfg.nc_rss_key = ns->ns_rss_key;
	ns_random(ns, ns->ns_isn_key, sizeof(ns->ns_isn_key));
	ns_random(ns, ns->ns_hash_key, sizeof(ns->ns_hash_key));
	ns_random(ns, ns->ns_cookie_key, sizeof(ns->ns_cookie_key));
	if ((err = nb_pool_init(&ns->ns_pool, plat, ns->ns_cfg.nc_max_hdrs,
		 ns->ns_cfg.nc_max_clusters)) != 0)
		goto fail_pool;
	if ((err = ns_arp_init(ns)) != 0)
		goto fail_arp;
	ns_ip_init(ns);
	TAILQ_INIT(&ns->ns_udps);
	if ((err = ns_tcp_init(ns)) != 0)
		goto fail_tcp;
	*nsp = ns;
	return 0;

fail_tcp:
	ns_ip_fini(ns);
	ns_arp_fini(ns);
fail_arp:
	nb_pool_fini(&ns->ns_pool);
fail_pool:
	plat->np_free(plat->np_arg, ns, sizeof(*ns));
	return err;
}

uint32_t
ns_destroy(struct ns *ns)
{
	const struct ns_platform *plat = ns->ns_plat;
	uint32_t leaked;

	ns->ns_now = plat->np_now_us(plat->np_arg);
	ns_tcp_fini(ns);
	ns_udp_fini(ns);
	ns_ip_fini(ns);
	ns_arp_fini(ns);
	leaked = nb_pool_fini(&ns->ns_pool);
	if (leaked != 0)
		ns_log(ns, NS_LOG_ERR, "netstack: %u buffers leaked", leaked);
	plat->np_free(plat->np_arg, ns, sizeof(*ns));
	return leaked;
}

int
ns_set_addr(struct ns *ns, uint32_t addr, uint32_t netmask, uint32_t gateway)
{
	if (addr != 0 &&
	    ((addr >> 24) == 0 || (addr >> 24) == 127 || (addr >> 28) >= 14))
		return -EINVAL;
	if (netmask != 0 && (~netmask & (~netmask + 1)) != 0)
		return -EINVAL; /* not contiguous */
	ns->ns_cfg.nc_addr = addr;
	ns->ns_cfg.nc_netmask = netmask;
	ns->ns_cfg.nc_gateway = gateway;
	return 0;
}

void
ns_enter(struct ns *ns)
{
	uint64_t now = ns->ns_plat->np_now_us(ns->ns_plat->np_arg);

	if (now > ns->ns_now)
		ns->ns_now = now;
}

void
ns_input(struct ns *ns, struct nb *frame)
{
	ns_enter(ns);
	ns->ns_nif->nif_stats.ns_rx_frames++;
	ns->ns_nif->nif_stats.ns_rx_bytes += frame->nb_pktlen;
	ns_eth_input(ns, frame);
}

int
ns_input_copy(struct ns *ns, const void *frame, size_t len)
{
	struct nb *nb;

	if (len > 0xffff)
		return -EMSGSIZE;
	if ((nb = nb_get(&ns->ns_pool, 0)) == NULL) {
		ns->ns_stats.eth_nobufs++;
		return -ENOBUFS;
	}
	if (len > 0 && nb_append(nb, frame, (uint32_t)len) != 0) {
		nb_freem(nb);
		ns->ns_stats.eth_nobufs++;
		return -ENOBUFS;
	}
	ns_input(ns, nb);
	return 0;
}

void
ns_tick(struct ns *ns)
{
	ns_enter(ns);
	ns_timers_run(ns);
}
