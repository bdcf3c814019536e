/*
 * In-guest tests of the sockets' rules that need no peer (nsk_sock.h):
 * bad descriptors and arguments, state errors, the descriptor limit,
 * non-blocking calls, timeouts, poll, a non-blocking connect to a host
 * that never answers. They start the stack, so they need a network
 * device and net.ip: KTEST_MANUAL, run by net.sock.ktest (test/net.cmake:
 * QEMU user networking, net.ip=10.0.2.15/24, where 10.0.2.99 never
 * answers). The peer-facing behaviour is tested with Linux as the peer
 * (images/sockecho, test/net/sock_test.py).
 */
#include <errno.h>
#include <string.h>
#include "arch/arch.h"
#include "core/ktest.h"
#include "netstack/kern/nsk.h"
#include "netstack/kern/nsk_sock.h"
#include "sched/sched.h"

#define NOHOST NS_IP4(10, 0, 2, 99) /* on the subnet, never answers */

static void
started(void)
{
	static bool done;

	if (!done) {
		KT_ASSERT_CMP(nsk_start(), ==, 0);
		done = true;
	}
}

static uint64_t
ms_since(uint64_t t0)
{
	return (arch_nanotime() - t0) / 1000000;
}

KTEST_F(nsk_sock, bad_descriptors, KTEST_MANUAL)
{
	char b[4];
	int fd;

	started();
	KT_ASSERT_CMP(nsk_socket(0), ==, -EPROTONOSUPPORT);
	KT_ASSERT_CMP(nsk_socket(3), ==, -EPROTONOSUPPORT);
	KT_ASSERT_CMP(nsk_close(-1), ==, -EBADF);
	KT_ASSERT_CMP(nsk_close(NSK_MAXSOCK), ==, -EBADF);
	KT_ASSERT_CMP(nsk_send(1000, b, 4, 0), ==, -EBADF);
	KT_ASSERT_CMP(nsk_recv(-5, b, 4, 0), ==, -EBADF);
	KT_ASSERT_CMP(nsk_bind(77777, 0, 80), ==, -EBADF);
	fd = nsk_socket(NSK_SOCK_STREAM);
	KT_ASSERT_CMP(fd, >=, 0);
	KT_ASSERT_CMP(nsk_close(fd), ==, 0);
	KT_ASSERT_CMP(nsk_close(fd), ==, -EBADF);
	KT_ASSERT_CMP(nsk_listen(fd, 1), ==, -EBADF);
	KT_ASSERT_CMP(nsk_accept(fd, NULL, NULL), ==, -EBADF);
	KT_ASSERT_CMP(nsk_setsockopt(fd, NSK_SO_NONBLOCK, 1), ==, -EBADF);
	KT_ASSERT_CMP(nsk_sock_error(fd), ==, -EBADF);
}

static void
count_done(void *arg)
{
	(*(int *)arg)++;
}

KTEST_F(nsk_sock, tcp_state_errors, KTEST_MANUAL)
{
	int a = nsk_socket(NSK_SOCK_STREAM), b, c, ndone = 0;
	char buf[8] = "x";

	started();
	KT_ASSERT_CMP(a, >=, 0);
	/* Not connected. */
	KT_ASSERT_CMP(nsk_send(a, buf, 1, 0), ==, -ENOTCONN);
	KT_ASSERT_CMP(nsk_recv(a, buf, 1, 0), ==, -ENOTCONN);
	KT_ASSERT_CMP(nsk_shutdown(a, NSK_SHUT_WR), ==, -ENOTCONN);
	KT_ASSERT_CMP(nsk_shutdown(a, 7), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_accept(a, NULL, NULL), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_listen(a, 4), ==, -EINVAL); /* not bound */
	KT_ASSERT_CMP(nsk_sendto(a, buf, 1, 0, NOHOST, 9), ==, -EOPNOTSUPP);
	KT_ASSERT_CMP(nsk_send_ref(a, buf, 1, 0, NULL, NULL), ==, -EINVAL);
	/* Refused at once: the completion has run by the return. */
	KT_ASSERT_CMP(nsk_send_ref(a, buf, 1, 0, count_done, &ndone), ==,
	    -ENOTCONN);
	KT_ASSERT_CMP(ndone, ==, 1);
	KT_ASSERT_CMP(nsk_send_ref(a, buf, 0, 0, count_done, &ndone), ==,
	    -EINVAL);
	KT_ASSERT_CMP(nsk_send_ref(-1, buf, 1, 0, count_done, &ndone), ==,
	    -EBADF);
	KT_ASSERT_CMP(ndone, ==, 3);
	/* Binding. */
	KT_ASSERT_CMP(nsk_bind(a, 0, 0), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_bind(a, NS_IP4(10, 9, 9, 9), 5000), ==,
	    -EADDRNOTAVAIL);
	KT_ASSERT_CMP(nsk_bind(a, 0, 5000), ==, 0);
	KT_ASSERT_CMP(nsk_bind(a, 0, 5001), ==, -EINVAL);
	b = nsk_socket(NSK_SOCK_STREAM);
	KT_ASSERT_CMP(nsk_bind(b, 0, 5000), ==, -EADDRINUSE);
	KT_ASSERT_CMP(nsk_listen(a, 4), ==, 0);
	KT_ASSERT_CMP(nsk_listen(a, 4), ==, 0); /* again: harmless */
	KT_ASSERT_CMP(nsk_connect(a, NOHOST, 80), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_send(a, buf, 1, 0), ==, -ENOTCONN);
	KT_ASSERT_CMP(nsk_recv(a, buf, 1, 0), ==, -ENOTCONN);
	/* Impossible destinations. */
	KT_ASSERT_CMP(nsk_connect(b, 0, 80), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_connect(b, NOHOST, 0), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_connect(b, NS_IP4(255, 255, 255, 255), 80), ==,
	    -EINVAL);
	KT_ASSERT_CMP(nsk_connect(b, NS_IP4(224, 0, 0, 1), 80), ==, -EINVAL);
	/* Options. */
	KT_ASSERT_CMP(nsk_setsockopt(b, NSK_SO_NONBLOCK, 2), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_setsockopt(b, NSK_SO_RCVTIMEO, -1), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_setsockopt(b, NSK_SO_LINGER, 5), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_setsockopt(b, 99, 0), ==, -ENOPROTOOPT);
	KT_ASSERT_CMP(nsk_setsockopt(b, NSK_SO_NODELAY, 1), ==, 0);
	/* After the listener closes, the port is free again. */
	KT_ASSERT_CMP(nsk_close(a), ==, 0);
	c = nsk_socket(NSK_SOCK_STREAM);
	KT_ASSERT_CMP(nsk_bind(c, 0, 5000), ==, 0);
	KT_ASSERT_CMP(nsk_listen(c, 1), ==, 0);
	KT_ASSERT_CMP(nsk_close(c), ==, 0);
	KT_ASSERT_CMP(nsk_close(b), ==, 0);
}

KTEST_F(nsk_sock, accept_nonblock_and_timeout, KTEST_MANUAL)
{
	int l, fd;
	uint64_t t0;

	started();
	l = nsk_socket(NSK_SOCK_STREAM);
	KT_ASSERT_CMP(nsk_bind(l, 0, 5100), ==, 0);
	KT_ASSERT_CMP(nsk_listen(l, 8), ==, 0);
	KT_ASSERT_CMP(nsk_setsockopt(l, NSK_SO_NONBLOCK, 1), ==, 0);
	KT_ASSERT_CMP(nsk_accept(l, NULL, NULL), ==, -EAGAIN);
	KT_ASSERT_CMP(nsk_setsockopt(l, NSK_SO_NONBLOCK, 0), ==, 0);
	KT_ASSERT_CMP(nsk_setsockopt(l, NSK_SO_RCVTIMEO, 150), ==, 0);
	t0 = arch_nanotime();
	KT_ASSERT_CMP(nsk_accept(l, NULL, NULL), ==, -EAGAIN);
	KT_ASSERT_CMP(ms_since(t0), >=, 150);
	/* The failed accepts left no descriptor behind: the next one is
	 * the lowest free. */
	fd = nsk_socket(NSK_SOCK_STREAM);
	KT_ASSERT_CMP(fd, ==, l + 1);
	KT_ASSERT_CMP(nsk_close(fd), ==, 0);
	KT_ASSERT_CMP(nsk_close(l), ==, 0);
}

KTEST_F(nsk_sock, udp_rules, KTEST_MANUAL)
{
	int u = nsk_socket(NSK_SOCK_DGRAM), v, w;
	uint16_t port;
	char buf[16];
	uint64_t t0;

	started();
	KT_ASSERT_CMP(u, >=, 0);
	KT_ASSERT_CMP(nsk_recvfrom(u, buf, sizeof(buf), 0, NULL, NULL), ==,
	    -EINVAL); /* not bound */
	KT_ASSERT_CMP(nsk_send(u, buf, 1, 0), ==, -ENOTCONN);
	KT_ASSERT_CMP(nsk_listen(u, 1), ==, -EOPNOTSUPP);
	KT_ASSERT_CMP(nsk_shutdown(u, NSK_SHUT_WR), ==, -EOPNOTSUPP);
	KT_ASSERT_CMP(nsk_bind(u, 0, 5200), ==, 0);
	v = nsk_socket(NSK_SOCK_DGRAM);
	KT_ASSERT_CMP(nsk_bind(v, 0, 5200), ==, -EADDRINUSE);
	KT_ASSERT_CMP(
	    nsk_recvfrom(u, buf, sizeof(buf), NSK_MSG_DONTWAIT, NULL, NULL), ==,
	    -EAGAIN);
	KT_ASSERT_CMP(nsk_setsockopt(u, NSK_SO_RCVTIMEO, 120), ==, 0);
	t0 = arch_nanotime();
	KT_ASSERT_CMP(nsk_recvfrom(u, buf, sizeof(buf), 0, NULL, NULL), ==,
	    -EAGAIN);
	KT_ASSERT_CMP(ms_since(t0), >=, 120);
	/* An unbound socket gets an ephemeral port at its first send. */
	KT_ASSERT_CMP(nsk_sendto(v, "hello", 5, 0, NOHOST, 9), ==, 5);
	KT_ASSERT_CMP(nsk_sockname(v, NULL, &port, NULL, NULL), ==, 0);
	KT_ASSERT_CMP(port, >=, 49152);
	KT_ASSERT_CMP(nsk_sendto(v, "x", 1, 0, 0, 9), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_sendto(v, "x", 1, 0, NOHOST, 0), ==, -EINVAL);
	w = nsk_socket(NSK_SOCK_DGRAM);
	KT_ASSERT_CMP(nsk_bind(w, 0, port), ==, -EADDRINUSE);
	KT_ASSERT_CMP(nsk_close(w), ==, 0);
	KT_ASSERT_CMP(nsk_close(v), ==, 0);
	KT_ASSERT_CMP(nsk_close(u), ==, 0);
	/* Closed: the port is free. */
	u = nsk_socket(NSK_SOCK_DGRAM);
	KT_ASSERT_CMP(nsk_bind(u, 0, 5200), ==, 0);
	KT_ASSERT_CMP(nsk_close(u), ==, 0);
}

KTEST_F(nsk_sock, connect_nonblock_and_timeout, KTEST_MANUAL)
{
	struct nsk_pollfd pf;
	int s, t;
	uint64_t t0;
	char b = 0;

	started();
	s = nsk_socket(NSK_SOCK_STREAM);
	KT_ASSERT_CMP(nsk_setsockopt(s, NSK_SO_NONBLOCK, 1), ==, 0);
	KT_ASSERT_CMP(nsk_connect(s, NOHOST, 80), ==, -EINPROGRESS);
	KT_ASSERT_CMP(nsk_connect(s, NOHOST, 80), ==, -EALREADY);
	KT_ASSERT_CMP(nsk_recv(s, &b, 1, 0), ==, -EAGAIN);
	pf.pf_fd = s;
	pf.pf_events = NSK_POLLOUT | NSK_POLLIN;
	t0 = arch_nanotime();
	KT_ASSERT_CMP(nsk_poll(&pf, 1, 100), ==, 0);
	KT_ASSERT_CMP(ms_since(t0), >=, 100);
	KT_ASSERT_CMP(pf.pf_revents, ==, 0);
	KT_ASSERT_CMP(nsk_close(s), ==, 0);
	/* Blocking, with a send timeout: -ETIMEDOUT. */
	t = nsk_socket(NSK_SOCK_STREAM);
	KT_ASSERT_CMP(nsk_setsockopt(t, NSK_SO_SNDTIMEO, 200), ==, 0);
	t0 = arch_nanotime();
	KT_ASSERT_CMP(nsk_connect(t, NOHOST, 80), ==, -ETIMEDOUT);
	KT_ASSERT_CMP(ms_since(t0), >=, 200);
	KT_ASSERT_CMP(nsk_close(t), ==, 0);
}

KTEST_F(nsk_sock, poll_rules, KTEST_MANUAL)
{
	struct nsk_pollfd pf[3];
	int u, l;

	started();
	u = nsk_socket(NSK_SOCK_DGRAM);
	l = nsk_socket(NSK_SOCK_STREAM);
	KT_ASSERT_CMP(nsk_bind(u, 0, 5300), ==, 0);
	KT_ASSERT_CMP(nsk_poll(NULL, 1, 0), ==, -EINVAL);
	KT_ASSERT_CMP(nsk_poll(pf, NSK_MAXSOCK + 1, 0), ==, -EINVAL);
	pf[0] = (struct nsk_pollfd) { u, NSK_POLLIN | NSK_POLLOUT, 0 };
	pf[1] = (struct nsk_pollfd) { l, NSK_POLLIN, 0 };
	pf[2] = (struct nsk_pollfd) { 999, NSK_POLLIN, 0 };
	/* UDP can always send; an unconnected TCP socket hangs up (as
	 * Linux); a bad descriptor is NVAL. */
	KT_ASSERT_CMP(nsk_poll(pf, 3, 0), ==, 3);
	KT_ASSERT_CMP(pf[0].pf_revents, ==, NSK_POLLOUT);
	KT_ASSERT_CMP(pf[1].pf_revents, ==, NSK_POLLHUP);
	KT_ASSERT_CMP(pf[2].pf_revents, ==, NSK_POLLNVAL);
	/* Nothing to read on a bound UDP socket and a listener: times out. */
	KT_ASSERT_CMP(nsk_bind(l, 0, 5300), ==, 0);
	KT_ASSERT_CMP(nsk_listen(l, 4), ==, 0);
	pf[0].pf_events = NSK_POLLIN;
	KT_ASSERT_CMP(nsk_poll(pf, 2, 50), ==, 0);
	KT_ASSERT_CMP(nsk_close(u), ==, 0);
	KT_ASSERT_CMP(nsk_close(l), ==, 0);
	KT_ASSERT_CMP(nsk_poll(pf, 2, -1), ==, 2); /* both NVAL now */
	KT_ASSERT_CMP(pf[0].pf_revents, ==, NSK_POLLNVAL);
}

KTEST_F(nsk_sock, descriptor_limit, KTEST_MANUAL)
{
	static int fds[NSK_MAXSOCK];
	int i, n = 0, fd;

	started();
	while ((fd = nsk_socket(NSK_SOCK_STREAM)) >= 0)
		fds[n++] = fd;
	KT_ASSERT_CMP(fd, ==, -EMFILE);
	KT_ASSERT_CMP(n, >, NSK_MAXSOCK - 8);
	KT_ASSERT_CMP(nsk_close(fds[n / 2]), ==, 0);
	KT_ASSERT_CMP(nsk_socket(NSK_SOCK_DGRAM), ==, fds[n / 2]);
	for (i = 0; i < n; i++)
		KT_ASSERT_CMP(nsk_close(fds[i]), ==, 0);
}

struct blocked {
	int fd;
	long r;
};

static void
accept_blocked(void *arg)
{
	struct blocked *b = arg;

	b->r = nsk_accept(b->fd, NULL, NULL);
}

static void
recv_blocked(void *arg)
{
	struct blocked *b = arg;
	char buf[8];

	b->r = nsk_recvfrom(b->fd, buf, sizeof(buf), 0, NULL, NULL);
}

static void
poll_blocked(void *arg)
{
	struct blocked *b = arg;
	struct nsk_pollfd pf = { b->fd, NSK_POLLIN, 0 };

	b->r = nsk_poll(&pf, 1, -1);
	if (b->r == 1)
		b->r = pf.pf_revents;
}

/* A close from another thread wakes what waits on the socket. */
KTEST_F(nsk_sock, close_wakes_waiters, KTEST_MANUAL)
{
	struct blocked a = { -1, 1 }, u = { -1, 1 }, p = { -1, 1 };
	struct thread *ta, *tu, *tp;

	started();
	a.fd = nsk_socket(NSK_SOCK_STREAM);
	KT_ASSERT_CMP(nsk_bind(a.fd, 0, 5400), ==, 0);
	KT_ASSERT_CMP(nsk_listen(a.fd, 4), ==, 0);
	u.fd = p.fd = nsk_socket(NSK_SOCK_DGRAM);
	KT_ASSERT_CMP(nsk_bind(u.fd, 0, 5400), ==, 0);
	KT_ASSERT_CMP(lwkt_create(accept_blocked, &a, &ta, 1 % (int)lwkt_ncpus,
			  TDPRI_USER, TDF_JOINABLE | TDF_NOFPU, 0, "kt-acc"),
	    ==, 0);
	KT_ASSERT_CMP(lwkt_create(recv_blocked, &u, &tu, 0, TDPRI_USER,
			  TDF_JOINABLE | TDF_NOFPU, 0, "kt-recv"),
	    ==, 0);
	KT_ASSERT_CMP(lwkt_create(poll_blocked, &p, &tp, 1 % (int)lwkt_ncpus,
			  TDPRI_USER, TDF_JOINABLE | TDF_NOFPU, 0, "kt-poll"),
	    ==, 0);
	tsleep(&a, "kt", 100000000ULL); /* 100 ms: they block */
	KT_ASSERT_CMP(a.r, ==, 1);
	KT_ASSERT_CMP(u.r, ==, 1);
	KT_ASSERT_CMP(p.r, ==, 1);
	KT_ASSERT_CMP(nsk_close(a.fd), ==, 0);
	KT_ASSERT_CMP(nsk_close(u.fd), ==, 0);
	lwkt_join(ta);
	lwkt_join(tu);
	lwkt_join(tp);
	KT_ASSERT_CMP(a.r, ==, -EBADF);
	KT_ASSERT_CMP(u.r, ==, -EBADF);
	KT_ASSERT_CMP(p.r, ==, NSK_POLLNVAL);
}
