/*
 * images/sockecho: services written only with the socket layer
 * (netstack/kern/nsk_sock.h), for the guest tests with Linux as the
 * peer (test/net/sock_test.py):
 *
 *  - echo on sockecho.port (7), TCP and UDP, in one poll loop: every
 *    socket non-blocking, one thread for all connections;
 *  - a request/response service on sockecho.rr_port (8), one LWKT thread
 *    per connection with blocking calls. One command a line, one answer
 *    a line (bad lines get "ERR ..." and the service goes on):
 *      PING                       -> PONG
 *      GET <n> <seed>             -> OK <n>, then n bytes of pattern(seed)
 *      ZGET <n> <seed>            -> the same, sent by reference
 *                                    (nsk_send_ref), then, once the
 *                                    stack's completion has run,
 *                                    ZDONE <n>
 *      CONNECT <a.b.c.d> <port> <n>
 *                                 -> connects out, sends n bytes of
 *                                    pattern(port), shuts down, reads the
 *                                    peer's answer until its close:
 *                                    CONNECT <0 or -errno> <answer>
 *      NCONNECT <a.b.c.d> <port> <n>
 *                                 -> the same with a non-blocking
 *                                    connect and poll
 *      BYE, ABORT                 -> closes: gracefully, or with a reset
 *                                    (NSK_SO_LINGER 0)
 *      TIMEOUT <ms>               -> receives with that timeout, nothing
 *                                    coming: TIMEOUT <result> <ms taken>
 *      UCONN <a.b.c.d> <port>     -> a UDP socket connected there sends
 *                                    "hello", receives (only from that
 *                                    peer): UCONN <n> <datagram>
 *      PEEK                       -> READY; peeks at 3 bytes, reads 6:
 *                                    PEEK <n> <peeked> <n> <read>
 *      UPEEK <port>               -> the same on a UDP socket bound to
 *                                    port: UPEEK ... <source ports>
 *      EPIPE                      -> shuts down its sending side, then
 *                                    sends: -EPIPE is counted
 *      SHUTRD                     -> shuts down its receiving side,
 *                                    receives: SHUTRD <0>, closes
 *      RESET                      -> READY, then waits for data: the
 *                                    peer resets, the recv's error is
 *                                    counted (resets_seen)
 *      QUIT                       -> the counters, power off
 *  - a UDP "quit" on sockecho.quit_port (0: none) does the same.
 *
 * pattern(seed): xorshift32 words, little endian, from seed * 2654435761
 * + 1; the test computes the same.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/arch.h"
#include "core/config.h"
#include "core/init.h"
#include "core/kern.h"
#include "core/kmalloc.h"
#include "netstack/kern/nsk.h"
#include "netstack/kern/nsk_sock.h"
#include "sched/sched.h"

#define MAXCONN	 600
#define ECHO_BUF 65536
#define RR_LINE	 256
#define GET_MAX	 (16u << 20)

static int64_t echo_port = 7;
CFG_INT(sockecho_port, "sockecho.port", echo_port, 1, 65535,
    "TCP and UDP echo port of the sockecho image");
static int64_t rr_port = 8;
CFG_INT(sockecho_rr_port, "sockecho.rr_port", rr_port, 1, 65535,
    "request/response port of the sockecho image");
static int64_t quit_port;
CFG_INT(sockecho_quit_port, "sockecho.quit_port", quit_port, 0, 65535,
    "UDP port where 'quit' prints counters and powers off (0: none)");

static struct {
	uint64_t echo_conns, echo_bytes, echo_errors, echo_live, udp_dgrams;
	uint64_t rr_conns, rr_live, rr_bad, gets, zc_sent, zc_done;
	uint64_t connects_ok, connects_failed, timeouts, resets_seen;
	uint64_t epipe_seen;
	uint64_t accept_errors;
} st; /* updated with atomics */

#define INC(f, n) __atomic_add_fetch(&st.f, (n), __ATOMIC_RELAXED)
#define DEC(f)	  __atomic_sub_fetch(&st.f, 1, __ATOMIC_RELAXED)

static volatile bool quit;

static void
pattern(uint32_t seed, uint64_t off, uint8_t *p, size_t n)
{
	/* Words from the start: off must be a multiple of 4. */
	uint32_t x = seed * 2654435761u + 1, w;
	uint64_t i;
	size_t k;

	for (i = 0; i < off / 4; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
	}
	for (k = 0; k < n; k += 4) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		w = x;
		memcpy(p + k, &w, MIN((size_t)4, n - k));
	}
}

/* ---- Echo: one poll loop ---- */

struct econn {
	int fd;
	uint32_t off, len;
	uint8_t *buf;
};

static void
econn_end(struct econn *c, bool err)
{
	nsk_close(c->fd);
	kfree(c->buf, ECHO_BUF);
	c->buf = NULL;
	c->fd = -1;
	DEC(echo_live);
	if (err)
		INC(echo_errors, 1);
}

/* Moves data while it can; false when the connection ended. */
static bool
econn_run(struct econn *c)
{
	long n;

	for (;;) {
		if (c->len > 0) {
			n = nsk_send(c->fd, c->buf + c->off, c->len, 0);
			if (n == -EAGAIN)
				return true;
			if (n < 0) {
				econn_end(c, true);
				return false;
			}
			c->off += (uint32_t)n;
			c->len -= (uint32_t)n;
			INC(echo_bytes, (uint64_t)n);
			continue;
		}
		n = nsk_recv(c->fd, c->buf, ECHO_BUF, 0);
		if (n == -EAGAIN)
			return true;
		if (n <= 0) { /* end of stream: all was sent back */
			econn_end(c, n < 0);
			return false;
		}
		c->off = 0;
		c->len = (uint32_t)n;
	}
}

static void
udp_echo(int u)
{
	static uint8_t buf[65536];
	uint32_t a;
	uint16_t p;
	long n;

	while ((n = nsk_recvfrom(u, buf, sizeof(buf), NSK_MSG_DONTWAIT, &a,
		    &p)) >= 0)
		if (nsk_sendto(u, buf, (size_t)n, 0, a, p) == n)
			INC(udp_dgrams, 1);
}

static void
echo_loop(void *arg)
{
	static struct econn conns[MAXCONN];
	static struct nsk_pollfd pf[MAXCONN + 2];
	static int map[MAXCONN + 2];
	int l = ((int *)arg)[0], u = ((int *)arg)[1], fd;
	unsigned i, n;

	for (i = 0; i < MAXCONN; i++)
		conns[i].fd = -1;
	while (!quit) {
		n = 0;
		pf[n++] = (struct nsk_pollfd) { l, NSK_POLLIN, 0 };
		pf[n++] = (struct nsk_pollfd) { u, NSK_POLLIN, 0 };
		for (i = 0; i < MAXCONN; i++) {
			if (conns[i].fd < 0)
				continue;
			map[n] = (int)i;
			pf[n++] = (struct nsk_pollfd) { conns[i].fd,
				conns[i].len > 0 ? NSK_POLLOUT : NSK_POLLIN,
				0 };
		}
		if (nsk_poll(pf, n, 500) <= 0)
			continue;
		for (i = 2; i < n; i++)
			if (pf[i].pf_revents != 0)
				econn_run(&conns[map[i]]);
		if (pf[1].pf_revents & NSK_POLLIN)
			udp_echo(u);
		while ((pf[0].pf_revents & NSK_POLLIN) &&
		    (fd = nsk_accept(l, NULL, NULL)) != -EAGAIN) {
			if (fd < 0) {
				INC(accept_errors, 1);
				break;
			}
			for (i = 0; i < MAXCONN && conns[i].fd >= 0; i++)
				;
			if (i == MAXCONN ||
			    (conns[i].buf = kmalloc(ECHO_BUF, 0)) == NULL) {
				nsk_setsockopt(fd, NSK_SO_LINGER, 0);
				nsk_close(fd);
				INC(accept_errors, 1);
				continue;
			}
			nsk_setsockopt(fd, NSK_SO_NONBLOCK, 1);
			conns[i].fd = fd;
			conns[i].off = conns[i].len = 0;
			INC(echo_conns, 1);
			INC(echo_live, 1);
			econn_run(&conns[i]);
		}
	}
}

/* ---- Request/response: a thread per connection ---- */

struct rr {
	int fd;
	char line[RR_LINE + 1];
	unsigned have;
	volatile bool zc_done;
};

static long say(struct rr *r, const char *fmt, ...) __printflike(2, 3);

static long
say(struct rr *r, const char *fmt, ...)
{
	char out[RR_LINE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	return nsk_send(r->fd, out, (size_t)MIN(n, (int)sizeof(out) - 1), 0);
}

/* The next line, without its newline: its length, 0 at EOF, < 0 on an
 * error, -EMSGSIZE when longer than RR_LINE. */
static long
read_line(struct rr *r, char **linep)
{
	char *nl;
	long n;

	for (;;) {
		nl = memchr(r->line, '\n', r->have);
		if (nl != NULL) {
			*nl = 0;
			*linep = r->line;
			return nl - r->line + 1;
		}
		if (r->have >= RR_LINE)
			return -EMSGSIZE;
		n = nsk_recv(r->fd, r->line + r->have, RR_LINE - r->have, 0);
		if (n <= 0)
			return n;
		r->have += (unsigned)n;
	}
}

static void
consume(struct rr *r, long used)
{
	memmove(r->line, r->line + used, r->have - (unsigned)used);
	r->have -= (unsigned)used;
}

static bool
parse_u32(char **s, uint32_t *v)
{
	char *end;
	unsigned long x;

	while (**s == ' ')
		(*s)++;
	if (**s < '0' || **s > '9')
		return false;
	x = strtoul(*s, &end, 10);
	if (x > 0xffffffffu || (*end != ' ' && *end != 0 && *end != '.'))
		return false;
	*v = (uint32_t)x;
	*s = end;
	return true;
}

static bool
parse_ip(char **s, uint32_t *a)
{
	uint32_t o[4];
	int i;

	for (i = 0; i < 4; i++) {
		if (!parse_u32(s, &o[i]) || o[i] > 255)
			return false;
		if (i < 3 && *(*s)++ != '.')
			return false;
	}
	*a = NS_IP4(o[0], o[1], o[2], o[3]);
	return true;
}

static void
zc_complete(void *arg)
{
	struct rr *r = arg;

	r->zc_done = true;
	wakeup(&r->zc_done);
	INC(zc_done, 1);
}

static void
cmd_get(struct rr *r, uint32_t n, uint32_t seed, bool zc)
{
	size_t sz = (n + 4095) & ~4095u;
	uint8_t *p = kmalloc(sz == 0 ? 4096 : sz, 0);
	long k;

	if (p == NULL) {
		say(r, "ERR no memory\n");
		return;
	}
	pattern(seed, 0, p, n);
	if (say(r, "OK %u\n", n) < 0)
		goto out;
	INC(gets, 1);
	if (!zc) {
		k = nsk_send(r->fd, p, n, 0);
		goto out;
	}
	r->zc_done = false;
	k = nsk_send_ref(r->fd, p, n, 0, zc_complete, r);
	INC(zc_sent, 1);
	/* The pages stay ours to keep unchanged until the completion. */
	while (!r->zc_done)
		tsleep(&r->zc_done, "zcdone", 100000000ULL);
	if (k == (long)n)
		say(r, "ZDONE %u\n", n);
out:
	kfree(p, sz == 0 ? 4096 : sz);
}

static void
cmd_connect(struct rr *r, uint32_t a, uint32_t port, uint32_t n, bool nonblock)
{
	char ans[64];
	uint8_t *p = kmalloc(n == 0 ? 4 : (n + 3) & ~3u, 0);
	long got = 0, k = 0;
	int fd, err;

	if (p == NULL || port == 0 || port > 65535) {
		say(r, "ERR connect arguments\n");
		goto out;
	}
	if ((fd = nsk_socket(NSK_SOCK_STREAM)) < 0) {
		say(r, "CONNECT %d -\n", fd);
		goto out;
	}
	nsk_setsockopt(fd, NSK_SO_SNDTIMEO, 20000);
	nsk_setsockopt(fd, NSK_SO_RCVTIMEO, 20000);
	if (nonblock) {
		/* -EINPROGRESS, poll for writability, then connect again
		 * for the outcome (0 or the error), as with BSD. */
		struct nsk_pollfd pf = { fd, NSK_POLLOUT, 0 };
		nsk_setsockopt(fd, NSK_SO_NONBLOCK, 1);
		err = nsk_connect(fd, a, (uint16_t)port);
		if (err == -EINPROGRESS) {
			if (nsk_poll(&pf, 1, 20000) != 1)
				err = -ETIMEDOUT;
			else
				err = nsk_connect(fd, a, (uint16_t)port);
		} else if (err == 0) {
			err = -EIO; /* a TCP handshake cannot finish at once */
		}
		nsk_setsockopt(fd, NSK_SO_NONBLOCK, 0);
	} else {
		err = nsk_connect(fd, a, (uint16_t)port);
	}
	if (err == 0) {
		pattern(port, 0, p, n);
		if (n > 0 && (k = nsk_send(fd, p, n, 0)) != (long)n)
			err = k < 0 ? (int)k : -EIO;
	}
	if (err == 0 && (err = nsk_shutdown(fd, NSK_SHUT_WR)) == 0) {
		while (got < (long)sizeof(ans) - 1 &&
		    (k = nsk_recv(fd, ans + got, sizeof(ans) - 1 - (size_t)got,
			 0)) > 0)
			got += k;
		if (k < 0)
			err = (int)k;
	}
	ans[got] = 0;
	nsk_close(fd);
	INC(connects_ok, err == 0);
	INC(connects_failed, err != 0);
	say(r, "CONNECT %d %s\n", err, got > 0 ? ans : "-");
out:
	if (p != NULL)
		kfree(p, n == 0 ? 4 : (n + 3) & ~3u);
}

static void
cmd_timeout(struct rr *r, uint32_t ms)
{
	uint64_t t0 = arch_nanotime();
	char b;
	long k;

	nsk_setsockopt(r->fd, NSK_SO_RCVTIMEO, ms);
	k = nsk_recv(r->fd, &b, 1, 0);
	nsk_setsockopt(r->fd, NSK_SO_RCVTIMEO, 0);
	if (k == -EAGAIN)
		INC(timeouts, 1);
	say(r, "TIMEOUT %ld %llu\n", k,
	    (unsigned long long)((arch_nanotime() - t0) / 1000000));
}

static void
cmd_reset(struct rr *r)
{
	char b[64];
	long k;

	if (say(r, "READY\n") < 0)
		return;
	while ((k = nsk_recv(r->fd, b, sizeof(b), 0)) > 0)
		;
	kprintf("sock: after RESET, recv gave %ld\n", k);
	if (k == -ECONNRESET)
		INC(resets_seen, 1);
}

/* A connected UDP socket: sends to the peer, takes only its answer. */
static void
cmd_uconn(struct rr *r, uint32_t a, uint32_t port)
{
	char b[16] = { 0 };
	long k = -EINVAL;
	int u = nsk_socket(NSK_SOCK_DGRAM);

	if (port == 0 || port > 65535 ||
	    (k = nsk_connect(u, a, (uint16_t)port)) != 0 ||
	    (k = nsk_send(u, "hello", 5, 0)) != 5) {
		say(r, "UCONN %ld -\n", k);
		nsk_close(u);
		return;
	}
	nsk_setsockopt(u, NSK_SO_RCVTIMEO, 10000);
	k = nsk_recv(u, b, sizeof(b) - 1, 0);
	if (k >= 0)
		b[k] = 0;
	nsk_close(u);
	say(r, "UCONN %ld %s\n", k, k > 0 ? b : "-");
}

/* Peeks at 3 bytes, then reads 6: both must show the same start. */
static void
cmd_peek(struct rr *r)
{
	char a[4] = { 0 }, b[7] = { 0 };
	long k1, k2;

	if (say(r, "READY\n") < 0)
		return;
	k1 = nsk_recv(r->fd, a, 3, NSK_MSG_PEEK);
	k2 = nsk_recv(r->fd, b, 6, 0);
	say(r, "PEEK %ld %s %ld %s\n", k1, k1 > 0 ? a : "-", k2,
	    k2 > 0 ? b : "-");
}

/* The same with a datagram to a UDP socket bound to port. */
static void
cmd_upeek(struct rr *r, uint32_t port)
{
	char a[4] = { 0 }, b[7] = { 0 };
	uint16_t p1 = 0, p2 = 0;
	long k1 = -EINVAL, k2 = -EINVAL;
	int u = nsk_socket(NSK_SOCK_DGRAM);

	if (port == 0 || port > 65535 || nsk_bind(u, 0, (uint16_t)port) != 0) {
		say(r, "ERR bind\n");
		nsk_close(u);
		return;
	}
	nsk_setsockopt(u, NSK_SO_RCVTIMEO, 10000);
	if (say(r, "READY\n") > 0) {
		k1 = nsk_recvfrom(u, a, 3, NSK_MSG_PEEK, NULL, &p1);
		k2 = nsk_recvfrom(u, b, 6, 0, NULL, &p2);
	}
	nsk_close(u);
	say(r, "UPEEK %ld %s %ld %s %u %u\n", k1, k1 > 0 ? a : "-", k2,
	    k2 > 0 ? b : "-", p1, p2);
}

/* One command; false to end the connection. */
static bool
rr_command(struct rr *r, char *s)
{
	uint32_t a, b, c;

	if (strcmp(s, "PING") == 0)
		return say(r, "PONG\n") > 0;
	if (strncmp(s, "GET ", 4) == 0 || strncmp(s, "ZGET ", 5) == 0) {
		bool zc = s[0] == 'Z';
		s += zc ? 5 : 4;
		if (!parse_u32(&s, &a) || !parse_u32(&s, &b) || *s != 0 ||
		    a == 0 || a > GET_MAX)
			goto bad;
		cmd_get(r, a, b, zc);
		return true;
	}
	if (strncmp(s, "CONNECT ", 8) == 0 || strncmp(s, "NCONNECT ", 9) == 0) {
		bool nb = s[0] == 'N';
		s += nb ? 9 : 8;
		if (!parse_ip(&s, &a) || !parse_u32(&s, &b) ||
		    !parse_u32(&s, &c) || *s != 0 || c > GET_MAX)
			goto bad;
		cmd_connect(r, a, b, c, nb);
		return true;
	}
	if (strcmp(s, "BYE") == 0 || strcmp(s, "ABORT") == 0) {
		/* A graceful close, or one that resets (linger 0). */
		if (s[0] == 'A')
			nsk_setsockopt(r->fd, NSK_SO_LINGER, 0);
		return false;
	}
	if (strncmp(s, "TIMEOUT ", 8) == 0) {
		s += 8;
		if (!parse_u32(&s, &a) || *s != 0 || a == 0 || a > 60000)
			goto bad;
		cmd_timeout(r, a);
		return true;
	}
	if (strncmp(s, "UCONN ", 6) == 0) {
		s += 6;
		if (!parse_ip(&s, &a) || !parse_u32(&s, &b) || *s != 0)
			goto bad;
		cmd_uconn(r, a, b);
		return true;
	}
	if (strcmp(s, "PEEK") == 0) {
		cmd_peek(r);
		return true;
	}
	if (strncmp(s, "UPEEK ", 6) == 0) {
		s += 6;
		if (!parse_u32(&s, &a) || *s != 0)
			goto bad;
		cmd_upeek(r, a);
		return true;
	}
	if (strcmp(s, "EPIPE") == 0) {
		/* Our side shut: a send must fail with -EPIPE. */
		nsk_shutdown(r->fd, NSK_SHUT_WR);
		if (nsk_send(r->fd, "x", 1, 0) == -EPIPE)
			INC(epipe_seen, 1);
		return true;
	}
	if (strcmp(s, "SHUTRD") == 0) {
		char b;
		long k;
		nsk_shutdown(r->fd, NSK_SHUT_RD);
		k = nsk_recv(r->fd, &b, 1, 0);
		say(r, "SHUTRD %ld\n", k);
		return false;
	}
	if (strcmp(s, "RESET") == 0) {
		cmd_reset(r);
		return false;
	}
	if (strcmp(s, "QUIT") == 0) {
		quit = true;
		wakeup(&quit);
		return false;
	}
bad:
	INC(rr_bad, 1);
	return say(r, "ERR bad command\n") > 0;
}

static void
rr_thread(void *arg)
{
	struct rr *r = arg;
	char *line;
	long n;

	while ((n = read_line(r, &line)) > 0) {
		if (!rr_command(r, line))
			break;
		consume(r, n);
	}
	if (n == -EMSGSIZE) {
		/* Answer, then read what is left until the peer's close, so
		 * that closing with unread data does not reset the answer. */
		INC(rr_bad, 1);
		say(r, "ERR line too long\n");
		nsk_shutdown(r->fd, NSK_SHUT_WR);
		nsk_setsockopt(r->fd, NSK_SO_RCVTIMEO, 5000);
		while (nsk_recv(r->fd, r->line, RR_LINE, 0) > 0)
			;
	}
	nsk_close(r->fd);
	kfree(r, sizeof(*r));
	DEC(rr_live);
	lwkt_exit();
}

static void
rr_accept(void *arg)
{
	int l = *(int *)arg, fd;
	unsigned cpu = 0;
	struct rr *r;

	for (;;) {
		if ((fd = nsk_accept(l, NULL, NULL)) < 0) {
			INC(accept_errors, 1);
			tsleep(&fd, "rrerr", 10000000);
			continue;
		}
		if ((r = kmalloc(sizeof(*r), KM_ZERO)) == NULL) {
			nsk_close(fd);
			INC(accept_errors, 1);
			continue;
		}
		r->fd = fd;
		INC(rr_conns, 1);
		INC(rr_live, 1);
		if (lwkt_create(rr_thread, r, NULL, (int)(cpu++ % lwkt_ncpus),
			TDPRI_USER, TDF_NOFPU, 0, "rr") != 0) {
			nsk_close(fd);
			kfree(r, sizeof(*r));
			DEC(rr_live);
			INC(accept_errors, 1);
		}
	}
}

static void
quit_thread(void *arg)
{
	int u = *(int *)arg;
	char b[8];
	long n;

	for (;;) {
		n = nsk_recvfrom(u, b, sizeof(b), 0, NULL, NULL);
		if (n == 4 && memcmp(b, "quit", 4) == 0) {
			quit = true;
			wakeup(&quit);
		}
	}
}

#define U(x) ((unsigned long long)(x))

static void
print_stats(void)
{
	struct nsk_sock_stats ss;

	nsk_sock_get_stats(&ss);
	kprintf("sock: stats layer msgs=%llu ref_bytes=%llu ref_done=%llu\n",
	    U(ss.ss_msgs), U(ss.ss_ref_bytes), U(ss.ss_ref_done));
	kprintf("sock: stats echo_conns=%llu echo_bytes=%llu echo_errors=%llu "
		"echo_live=%llu udp_dgrams=%llu rr_conns=%llu rr_live=%llu "
		"rr_bad=%llu gets=%llu zc_sent=%llu zc_done=%llu "
		"connects_ok=%llu connects_failed=%llu timeouts=%llu "
		"resets_seen=%llu epipe_seen=%llu accept_errors=%llu\n",
	    U(st.echo_conns), U(st.echo_bytes), U(st.echo_errors),
	    U(st.echo_live), U(st.udp_dgrams), U(st.rr_conns), U(st.rr_live),
	    U(st.rr_bad), U(st.gets), U(st.zc_sent), U(st.zc_done),
	    U(st.connects_ok), U(st.connects_failed), U(st.timeouts),
	    U(st.resets_seen), U(st.epipe_seen), U(st.accept_errors));
}

static int
listen_on(int type, uint16_t port, int *fdp)
{
	int fd = nsk_socket(type), err;

	if (fd < 0)
		return fd;
	if ((err = nsk_bind(fd, 0, port)) != 0)
		return err;
	if (type == NSK_SOCK_STREAM && (err = nsk_listen(fd, 256)) != 0)
		return err;
	*fdp = fd;
	return 0;
}

int
app_main(void)
{
	static int echo_fds[2], rr_fd, quit_fd;
	struct nsk_addr a;
	int err;

	if ((err = nsk_start()) != 0) {
		kprintf("sock: the stack did not start (%d)\n", err);
		return 1;
	}
	if ((err = listen_on(NSK_SOCK_STREAM, (uint16_t)echo_port,
		 &echo_fds[0])) != 0 ||
	    (err = listen_on(NSK_SOCK_DGRAM, (uint16_t)echo_port,
		 &echo_fds[1])) != 0 ||
	    (err = nsk_setsockopt(echo_fds[0], NSK_SO_NONBLOCK, 1)) != 0 ||
	    (err = listen_on(NSK_SOCK_STREAM, (uint16_t)rr_port, &rr_fd)) !=
		0 ||
	    (quit_port != 0 &&
		(err = listen_on(NSK_SOCK_DGRAM, (uint16_t)quit_port,
		     &quit_fd)) != 0)) {
		kprintf("sock: the services did not start (%d)\n", err);
		return 1;
	}
	if (lwkt_create(echo_loop, echo_fds, NULL, 0, TDPRI_USER, TDF_NOFPU, 0,
		"echo") != 0 ||
	    lwkt_create(rr_accept, &rr_fd, NULL, 1 % (int)lwkt_ncpus,
		TDPRI_USER, TDF_NOFPU, 0, "rraccept") != 0 ||
	    (quit_port != 0 &&
		lwkt_create(quit_thread, &quit_fd, NULL, 0, TDPRI_USER,
		    TDF_NOFPU, 0, "quit") != 0)) {
		kprintf("sock: no threads\n");
		return 1;
	}
	nsk_get_addr(&a);
	kprintf("sock: ready on %u.%u.%u.%u: echo %d, rr %d\n", a.na_addr >> 24,
	    (a.na_addr >> 16) & 255, (a.na_addr >> 8) & 255, a.na_addr & 255,
	    (int)echo_port, (int)rr_port);
	while (!quit)
		tsleep(&quit, "quit", 1000000000ULL);
	print_stats();
	return 0;
}
