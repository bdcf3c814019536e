/*
 * bench/linux-guest/netserve.c: the Linux guest's side of bench/run's net
 * area, the same service as Damselfly's images/netbench (same ports,
 * same protocol; bench/net/netpeer.c on the host measures both). Run by
 * /init for bench.run=netserve. It brings eth0 up on 10.0.0.2/24 (the
 * address in images/netbench/config), then serves on TCP:
 *   5201  sink: reads and drops every byte; at the peer's FIN it closes;
 *   5202  source: sends a fixed 64 KiB pattern over and over from accept
 *         until the peer goes (the write fails);
 *   5203  request/response: reads a 64-byte request, sends a 64-byte
 *         response (each byte + 1), closes; RR_THREADS threads accept on
 *         the one listening socket.
 * A UDP datagram "quit" to port 5299 prints its counts ("netbench: stats
 * ...", checked by the bench against the host's) and "netbench: done",
 * and the program exits (/init then powers off). Blocking sockets, one
 * thread per connection being served, 64 KiB reads and writes: what a
 * plain Linux server does.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define IFNAME	    "eth0"
#define ADDR	    "10.0.0.2"
#define NETMASK	    "255.255.255.0"
#define PORT_SINK   5201
#define PORT_SOURCE 5202
#define PORT_RR	    5203
#define PORT_QUIT   5299
#define BUF	    65536
#define RR_LEN	    64
#define RR_THREADS  4

static unsigned long long sink_bytes, source_bytes, rr_conns;
static unsigned long long conns[3], aborts[3];
static char pattern[BUF];

static void
add(unsigned long long *c, unsigned long long n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static void
fail(const char *what)
{
	printf("netbench: linux: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
set_addr(int s, unsigned long req, const char *a)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, IFNAME);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, a, &sin->sin_addr);
	if (ioctl(s, req, &ifr) != 0)
		fail("configuring " IFNAME);
}

static void
net_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		fail("socket");
	set_addr(s, SIOCSIFADDR, ADDR);
	set_addr(s, SIOCSIFNETMASK, NETMASK);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, IFNAME);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		fail("SIOCGIFFLAGS " IFNAME);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		fail("bringing " IFNAME " up");
	close(s);
}

static int
listener(int port)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (s < 0)
		fail("socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 128))
		fail("bind/listen");
	return s;
}

static void *
sink_main(void *arg)
{
	static char buf[BUF];
	int l = (int)(intptr_t)arg, c;
	ssize_t n;

	for (;;) {
		if ((c = accept(l, NULL, NULL)) < 0)
			continue;
		add(&conns[0], 1);
		while ((n = read(c, buf, sizeof(buf))) > 0)
			add(&sink_bytes, (unsigned long long)n);
		if (n < 0)
			add(&aborts[0], 1);
		close(c);
	}
	return NULL;
}

static void *
source_main(void *arg)
{
	int l = (int)(intptr_t)arg, c;
	size_t off;
	ssize_t n;

	for (;;) {
		if ((c = accept(l, NULL, NULL)) < 0)
			continue;
		add(&conns[1], 1);
		off = 0;
		while ((n = write(c, pattern + off, BUF - off)) > 0) {
			add(&source_bytes, (unsigned long long)n);
			off = (off + (size_t)n) % BUF;
		}
		close(c); /* the peer's close is the normal end here */
	}
	return NULL;
}

static void *
rr_main(void *arg)
{
	unsigned char req[RR_LEN];
	int l = (int)(intptr_t)arg, c, i;
	size_t got;
	ssize_t n;

	for (;;) {
		if ((c = accept(l, NULL, NULL)) < 0)
			continue;
		add(&conns[2], 1);
		for (got = 0; got < RR_LEN; got += (size_t)n)
			if ((n = read(c, req + got, RR_LEN - got)) <= 0)
				break;
		if (got == RR_LEN) {
			for (i = 0; i < RR_LEN; i++)
				req[i]++;
			if (write(c, req, RR_LEN) == RR_LEN)
				add(&rr_conns, 1);
			else
				add(&aborts[2], 1);
		} else {
			add(&aborts[2], 1);
		}
		close(c);
	}
	return NULL;
}

static void
start(void *(*fn)(void *), int l)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, (void *)(intptr_t)l) != 0)
		fail("pthread_create");
}

int
main(void)
{
	static const char *const kinds[3] = { "sink", "source", "rr" };
	struct sockaddr_in a;
	char buf[16];
	int q, i, rr;
	ssize_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < BUF; i++)
		pattern[i] = (char)(i * 7 + (i >> 8));
	net_up();
	start(sink_main, listener(PORT_SINK));
	start(source_main, listener(PORT_SOURCE));
	rr = listener(PORT_RR);
	for (i = 0; i < RR_THREADS; i++)
		start(rr_main, rr);
	if ((q = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		fail("socket");
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(PORT_QUIT);
	if (bind(q, (struct sockaddr *)&a, sizeof(a)) != 0)
		fail("bind quit");
	printf("netbench: ready on %s: sink %d, source %d, rr %d, quit udp "
	       "%d\n",
	    ADDR, PORT_SINK, PORT_SOURCE, PORT_RR, PORT_QUIT);
	for (;;) {
		n = recv(q, buf, sizeof(buf), 0);
		if (n == 4 && memcmp(buf, "quit", 4) == 0)
			break;
	}
	for (i = 0; i < 3; i++)
		printf("netbench: %s: %llu connections, %llu aborted\n",
		    kinds[i], conns[i], aborts[i]);
	printf("netbench: stats sink_bytes=%llu source_bytes=%llu "
	       "rr_conns=%llu\n",
	    __atomic_load_n(&sink_bytes, __ATOMIC_RELAXED),
	    __atomic_load_n(&source_bytes, __ATOMIC_RELAXED),
	    __atomic_load_n(&rr_conns, __ATOMIC_RELAXED));
	printf("netbench: done\n");
	return 0;
}
