/*
 * dhcp_real.c: the DHCP client against a real server. The core runs on
 * the host over an AF_PACKET socket bound to one interface (a veth end in
 * a network namespace, which test/dhcp_real.sh makes with busybox udhcpd
 * on the other end), with ns_host's platform and its clock set from
 * CLOCK_MONOTONIC before every call: the same calls the kernel's protocol
 * thread makes (ns_input per frame, ns_tick at ns_next_timer()).
 *
 * Usage: net_dhcp_real IFNAME SECONDS
 * It acquires a lease (with ARP probing), answers ARP and ping while it
 * waits for one renewal at T1, stops the client 2 s later (RELEASE), then
 * starts a new one with the address remembered (INIT-REBOOT) and stops it
 * when it is bound. It prints one line per event:
 *   BOUND addr/mask gw G dns D server S lease L
 *   RENEWED addr lease L
 *   RELEASED addr
 * and exits 0 when all of that happened within SECONDS, 1 otherwise.
 * Frames the device left with a partial checksum (veth's offload,
 * TP_STATUS_CSUMNOTREADY) are marked NB_RX_CSUM_OK, as a driver maps
 * virtio-net's flags.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netstack/netstack.h"
#include "netstack/ns_host.h"

struct real {
	int r_fd;
	struct ns_host r_host;
	struct netif r_nif;
	struct ns *r_ns;
	struct ns_dhcp *r_dhcp;
	int r_bound, r_renewed, r_released;
	uint32_t r_addr;
};

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
sync_clock(struct real *r)
{
	uint64_t t = mono_us();

	if (t > r->r_host.nh_now_us)
		r->r_host.nh_now_us = t;
}

static const char *
ip_str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255);
	return buf;
}

static int
real_transmit(struct netif *nif, struct nb *frame)
{
	struct real *r = nif->nif_priv;
	uint8_t buf[2048];
	uint32_t len = nb_pktlen(frame);
	int err = 0;

	if (len > sizeof(buf) || nb_copydata(frame, 0, len, buf) != 0 ||
	    send(r->r_fd, buf, len, 0) != (ssize_t)len)
		err = -EIO;
	nb_freem(frame);
	return err;
}

static const struct netif_ops real_ops = { real_transmit };

static void
real_event(void *arg, enum ns_dhcp_event ev, const struct ns_dhcp_lease *l)
{
	static const char *names[] = { "BOUND", "RENEWED", "EXPIRED", "NAK",
		"DECLINED", "RELEASED" };
	struct real *r = arg;
	char a[16], m[16], g[16], d[16], s[16];

	if (l == NULL) {
		printf("%s\n", names[ev]);
	} else if (ev == NS_DHCP_EV_BOUND) {
		printf("BOUND %s/%s gw %s dns %s server %s lease %u\n",
		    ip_str(l->dl_addr, a), ip_str(l->dl_netmask, m),
		    ip_str(l->dl_gateway, g), ip_str(l->dl_dns[0], d),
		    ip_str(l->dl_server, s), l->dl_lease_s);
		r->r_bound++;
		r->r_addr = l->dl_addr;
	} else {
		printf("%s %s lease %u\n", names[ev], ip_str(l->dl_addr, a),
		    l->dl_lease_s);
		r->r_renewed += ev == NS_DHCP_EV_RENEWED;
		r->r_released += ev == NS_DHCP_EV_RELEASED;
	}
	fflush(stdout);
}

static int
real_open(struct real *r, const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr;
	int one = 1;

	if ((r->r_fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))) < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(r->r_fd, SIOCGIFINDEX, &ifr) != 0)
		return -1;
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(r->r_fd, SIOCGIFHWADDR, &ifr) != 0 ||
	    bind(r->r_fd, (struct sockaddr *)&sll, sizeof(sll)) != 0 ||
	    setsockopt(r->r_fd, SOL_PACKET, PACKET_AUXDATA, &one,
		sizeof(one)) != 0)
		return -1;
	r->r_nif.nif_ops = &real_ops;
	r->r_nif.nif_priv = r;
	memcpy(r->r_nif.nif_mac, ifr.ifr_hwaddr.sa_data, 6);
	r->r_nif.nif_mtu = 1500;
	return 0;
}

/* Hands every waiting frame to the stack. */
static void
real_receive(struct real *r)
{
	uint8_t buf[2048], cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	struct sockaddr_ll from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh;
	struct cmsghdr *c;
	struct nb *nb;
	ssize_t n;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		if ((n = recvmsg(r->r_fd, &mh, MSG_DONTWAIT)) <= 0)
			return;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue; /* our own frames, looped back */
		if ((nb = nb_get(ns_pool(r->r_ns), 0)) == NULL)
			continue;
		if (nb_append(nb, buf, (uint32_t)n) != 0) {
			nb_freem(nb);
			continue;
		}
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_PACKET &&
			    c->cmsg_type == PACKET_AUXDATA &&
			    (((struct tpacket_auxdata *)CMSG_DATA(c))
				    ->tp_status &
				TP_STATUS_CSUMNOTREADY))
				nb->nb_flags |= NB_RX_CSUM_OK;
		sync_clock(r);
		ns_input(r->r_ns, nb);
	}
}

/* Runs the stack until done() or the deadline; 0 when done. */
static int
real_run(struct real *r, uint64_t deadline, int (*done)(struct real *r))
{
	struct pollfd pfd = { .fd = r->r_fd, .events = POLLIN };
	uint64_t next, now;
	int ms;

	while (!done(r)) {
		sync_clock(r);
		now = r->r_host.nh_now_us;
		if (now >= deadline)
			return -1;
		next = ns_next_timer(r->r_ns);
		if (next > deadline)
			next = deadline;
		ms = next > now ? (int)((next - now + 999) / 1000) : 0;
		poll(&pfd, 1, ms);
		real_receive(r);
		sync_clock(r);
		ns_tick(r->r_ns);
	}
	return 0;
}

static int
got_bound(struct real *r)
{
	return r->r_bound > 0;
}

static int
got_renewed(struct real *r)
{
	return r->r_renewed > 0;
}

static int
never(struct real *r)
{
	return 0;
}

static int
real_start(struct real *r, uint32_t remembered)
{
	struct ns_dhcp_config dc = { .dc_addr = remembered,
		.dc_probe_ms = 100,
		.dc_event = real_event,
		.dc_event_arg = r };

	sync_clock(r);
	r->r_bound = 0;
	return ns_dhcp_start(r->r_ns, &dc, &r->r_dhcp);
}

static void
real_stop(struct real *r)
{
	sync_clock(r);
	ns_dhcp_stop(r->r_dhcp);
	r->r_dhcp = NULL;
}

int
main(int argc, char **argv)
{
	static struct real r;
	uint64_t deadline;
	uint32_t addr;

	if (argc != 3) {
		fprintf(stderr, "usage: net_dhcp_real IFNAME SECONDS\n");
		return 2;
	}
	ns_host_init(&r.r_host, (uint64_t)getpid());
	r.r_host.nh_now_us = mono_us();
	deadline = r.r_host.nh_now_us + (uint64_t)atoi(argv[2]) * 1000000;
	if (real_open(&r, argv[1]) != 0) {
		perror("net_dhcp_real: AF_PACKET socket");
		return 1;
	}
	if (ns_create(&r.r_host.nh_plat, &r.r_nif, NULL, &r.r_ns) != 0 ||
	    real_start(&r, 0) != 0)
		return 1;
	/* A lease, then its renewal at T1, answering ping meanwhile. */
	if (real_run(&r, deadline, got_bound) != 0 ||
	    real_run(&r, deadline, got_renewed) != 0)
		goto fail;
	real_run(&r, r.r_host.nh_now_us + 2000000, never);
	addr = r.r_addr;
	real_stop(&r);
	/* The remembered address again, through INIT-REBOOT. */
	if (real_start(&r, addr) != 0 ||
	    real_run(&r, deadline, got_bound) != 0 || r.r_addr != addr)
		goto fail;
	printf("REBOOTED %u\n", (unsigned)(r.r_addr == addr));
	real_stop(&r);
	if (ns_destroy(r.r_ns) != 0)
		return 1;
	return r.r_released == 2 ? 0 : 1;
fail:
	printf("FAIL: state %d\n", ns_dhcp_state(r.r_dhcp));
	return 1;
}
