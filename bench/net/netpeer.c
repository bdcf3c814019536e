/*
 * bench/net/netpeer.c: the host side of bench/run's net area, the same
 * program for both guests. Run by the bench inside the network namespace
 * it makes (ip netns exec), against the guest's service (images/netbench
 * for Damselfly, bench/linux-guest/netserve.c for Linux: the same ports
 * and protocol). It measures with the host's CLOCK_MONOTONIC and prints
 * kbench lines (bench/benchlib/kbench.py) and one "netpeer:" line with
 * the raw counts:
 *
 *   netpeer h2g ADDR PORT SECONDS      host to guest (the guest's sink):
 *       sends for SECONDS, then shuts its side down and waits for the
 *       guest's FIN, which the sink sends only after it has read every
 *       byte; the figure is the bytes sent over the time from connect to
 *       that FIN, so every byte counted was received by the guest.
 *       kbench: net.h2g_gbps G Gbit/s
 *   netpeer g2h ADDR PORT SECONDS      guest to host (the guest's
 *       source, which sends from the moment it accepts): the bytes this
 *       program received over the time from connect to the end.
 *       kbench: net.g2h_gbps G Gbit/s
 *   netpeer rr ADDR PORT SECONDS CLIENTS   connections per second:
 *       CLIENTS threads, each in a loop until SECONDS have passed:
 *       connect, send a 64-byte request, read the 64-byte response
 *       (each byte the request's + 1, checked), read the guest's FIN,
 *       close. Every connection started is finished; only whole ones
 *       count. kbench: net.rr_cps N conn/s
 *   netpeer quit ADDR PORT             "quit" by UDP, five times
 *
 * Any error (refused, reset, timeout of 20 s, a wrong response) prints
 * "netpeer: error: ..." on stderr and exits 1: no figure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF	    (128 * 1024)
#define RR_LEN	    64
#define IO_TIMEOUT  20
#define MAX_CLIENTS 64

static struct sockaddr_in peer;
static double seconds;

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "netpeer: error: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A connected socket with IO_TIMEOUT on every call, or -1 (errno set). */
static int
dial(void)
{
	struct timeval tv = { IO_TIMEOUT, 0 };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&peer, sizeof(peer)) != 0) {
		int e = errno;

		close(s);
		errno = e;
		return -1;
	}
	return s;
}

static void
h2g(void)
{
	static char buf[BUF];
	unsigned long long sent = 0;
	double t0, end, t1;
	ssize_t n;
	size_t i;
	int s;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 13 + (i >> 9));
	t0 = now();
	if ((s = dial()) < 0)
		die("h2g: connect: %s", strerror(errno));
	end = t0 + seconds;
	while (now() < end) {
		n = send(s, buf, sizeof(buf), 0);
		if (n < 0)
			die("h2g: send after %llu bytes: %s", sent,
			    strerror(errno));
		sent += (unsigned long long)n;
	}
	if (shutdown(s, SHUT_WR) != 0)
		die("h2g: shutdown: %s", strerror(errno));
	for (;;) { /* the sink sends nothing: anything but its FIN is wrong */
		n = recv(s, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0)
			die("h2g: waiting for the guest's FIN after %llu bytes: "
			    "%s",
			    sent, strerror(errno));
		die("h2g: the guest's sink sent %zd bytes", n);
	}
	t1 = now();
	close(s);
	printf("netpeer: h2g bytes=%llu seconds=%.6f\n", sent, t1 - t0);
	printf("kbench: net.h2g_gbps %.3f Gbit/s\n",
	    sent * 8 / (t1 - t0) / 1e9);
}

static void
g2h(void)
{
	static char buf[BUF];
	unsigned long long got = 0;
	double t0, end, t1;
	ssize_t n;
	int s;

	t0 = now();
	if ((s = dial()) < 0)
		die("g2h: connect: %s", strerror(errno));
	end = t0 + seconds;
	while ((t1 = now()) < end) {
		n = recv(s, buf, sizeof(buf), 0);
		if (n == 0)
			die("g2h: the guest closed after %llu bytes", got);
		if (n < 0)
			die("g2h: recv after %llu bytes: %s", got,
			    strerror(errno));
		got += (unsigned long long)n;
	}
	close(s);
	printf("netpeer: g2h bytes=%llu seconds=%.6f\n", got, t1 - t0);
	printf("kbench: net.g2h_gbps %.3f Gbit/s\n", got * 8 / (t1 - t0) / 1e9);
}

struct client {
	pthread_t th;
	unsigned id;
	double end;
	unsigned long long conns;
};

/* One request/response connection; 0 or dies. */
static void
exchange(struct client *c)
{
	unsigned char req[RR_LEN], resp[RR_LEN + 1];
	size_t got = 0;
	ssize_t n;
	int s, i;

	for (i = 0; i < RR_LEN; i++)
		req[i] = (unsigned char)(c->id * 31 + c->conns + (unsigned)i);
	if ((s = dial()) < 0)
		die("rr: connect (client %u, after %llu): %s", c->id, c->conns,
		    strerror(errno));
	if (send(s, req, sizeof(req), 0) != (ssize_t)sizeof(req))
		die("rr: send: %s", strerror(errno));
	while (got < sizeof(resp)) {
		n = recv(s, resp + got, sizeof(resp) - got, 0);
		if (n < 0)
			die("rr: recv (client %u, after %llu, %zu bytes in): "
			    "%s",
			    c->id, c->conns, got, strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != RR_LEN)
		die("rr: a response of %zu bytes, not %d, before the FIN", got,
		    RR_LEN);
	for (i = 0; i < RR_LEN; i++)
		if (resp[i] != (unsigned char)(req[i] + 1))
			die("rr: response byte %d is %u, not %u", i, resp[i],
			    (unsigned char)(req[i] + 1));
	close(s);
}

static void *
client_main(void *arg)
{
	struct client *c = arg;

	while (now() < c->end) {
		exchange(c);
		c->conns++;
	}
	return NULL;
}

static void
rr(unsigned nclients)
{
	static struct client cl[MAX_CLIENTS];
	unsigned long long total = 0;
	double t0, t1;
	unsigned i;

	t0 = now();
	for (i = 0; i < nclients; i++) {
		cl[i].id = i;
		cl[i].end = t0 + seconds;
		if (pthread_create(&cl[i].th, NULL, client_main, &cl[i]) != 0)
			die("rr: pthread_create");
	}
	for (i = 0; i < nclients; i++) {
		pthread_join(cl[i].th, NULL);
		total += cl[i].conns;
	}
	t1 = now();
	printf("netpeer: rr conns=%llu seconds=%.6f clients=%u\n", total,
	    t1 - t0, nclients);
	printf("kbench: net.rr_cps %.1f conn/s\n", total / (t1 - t0));
}

static void
quit(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), i;

	if (s < 0)
		die("quit: socket: %s", strerror(errno));
	for (i = 0; i < 5; i++) {
		sendto(s, "quit", 4, 0, (struct sockaddr *)&peer, sizeof(peer));
		usleep(200000);
	}
	close(s);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int want = 0; /* argc for the mode */
	long port;
	char *end;

	if (strcmp(mode, "h2g") == 0 || strcmp(mode, "g2h") == 0)
		want = 5;
	else if (strcmp(mode, "rr") == 0)
		want = 6;
	else if (strcmp(mode, "quit") == 0)
		want = 4;
	if (want == 0 || argc != want)
		die("usage: netpeer h2g|g2h ADDR PORT SECONDS | rr ADDR PORT "
		    "SECONDS CLIENTS | quit ADDR PORT");
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[2], &peer.sin_addr) != 1)
		die("bad address %s", argv[2]);
	port = strtol(argv[3], &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		die("bad port %s", argv[3]);
	peer.sin_port = htons((uint16_t)port);
	if (want == 4) {
		quit();
		return 0;
	}
	seconds = strtod(argv[4], &end);
	if (*end != '\0' || !(seconds > 0 && seconds < 3600))
		die("bad seconds %s", argv[4]);
	if (want == 6) {
		long n = strtol(argv[5], &end, 10);

		if (*end != '\0' || n < 1 || n > MAX_CLIENTS)
			die("bad clients %s (1..%d)", argv[5], MAX_CLIENTS);
		rr((unsigned)n);
	} else if (strcmp(mode, "h2g") == 0) {
		h2g();
	} else {
		g2h();
	}
	return 0;
}
