/*
 * netstack/kern/nsk_sock.c: sockets for applications (nsk_sock.h), as
 * messages to the protocol threads (DragonFly's netmsg) and a BSD-like
 * layer of descriptors on them. netstack/DESIGN.md, "Sockets", has the
 * decisions; in short:
 *
 *  - Where a socket lives. A TCP connection's core object lives on one
 *    instance (so_cpu): the one its 4-tuple hashes to. Every request on it
 *    is a message to that instance's protocol thread, which runs the core
 *    call and replies. A listener and a bound UDP socket have a part on
 *    every instance (so_part[cpu]), since connections and datagrams
 *    arrive where their 4-tuple hashes: accept and recvfrom ask the
 *    instances in turn (starting after the last that had something).
 *  - connect picks the instance round robin; the core then picks a local
 *    port whose replies hash back to that instance.
 *  - Waiting. The core's upcalls (on the protocol thread) bump the
 *    socket's event count so_gen and wakeup(&so_gen). A blocking call
 *    reads so_gen before its request; when the reply says "not yet" it
 *    joins the sleep queue (tsleep_interlock), looks at so_gen again and
 *    sleeps only if nothing happened since: no wakeup is lost. Pollers
 *    sleep on one global count, bumped by every upcall while a poll
 *    runs.
 *  - Descriptors index a table under a spinlock; each holds a reference
 *    count, so a close by another thread cannot free a socket a blocked
 *    call is using: the close takes the descriptor out, closes the core
 *    parts on their threads (later requests find no part: -EBADF) and
 *    wakes the waiters; the last reference frees it.
 *
 * Locks: tab_lock guards the table, so_refs and the bound-port check;
 * so_part[cpu] belongs to protocol thread cpu. The other fields are
 * written by the application's calls; concurrent state changes on one
 * socket (two connects at once) are the caller's business, as with BSD.
 */
#include <errno.h>
#include <string.h>
#include "arch/arch.h"
#include "core/kern.h"
#include "core/kmalloc.h"
#include "core/spinlock.h"
#include "netstack/kern/nsk.h"
#include "netstack/kern/nsk_internal.h"
#include "netstack/kern/nsk_sock.h"
#include "sched/sched.h"

#define SS_NEW	       0
#define SS_BOUND       1
#define SS_LISTEN      2
#define SS_CONNECTING  3
#define SS_CONNECTED   4

#define SEND_REF_CHUNK (64u * 1024)
#define MAX_TIMEO_MS   (1000u * 86400)
#define EPHEMERAL_LO   49152u

struct nsk_sock {
	int so_fd;
	int so_type;
	unsigned so_refs; /* tab_lock */
	volatile bool so_closed;
	uint32_t so_gen; /* events seen (atomic) */
	int so_state;	 /* SS_* */
	bool so_multi;	 /* a part on every instance */
	unsigned so_cpu; /* a connection's instance */
	unsigned so_next;
	bool so_nonblock, so_rdshut, so_linger0, so_nodelay;
	uint64_t so_rcvtimeo_ns, so_sndtimeo_ns;
	uint32_t so_laddr, so_raddr;
	uint16_t so_lport, so_rport;
	void *so_part[ARCH_MAX_CPUS]; /* ns_tcp or ns_udp; its thread's */
};

/* A send by reference: the external storage and its completion. */
struct sock_ref {
	struct nb_ext r_ext;
	void (*r_done)(void *arg);
	void *r_arg;
};

static struct spinlock tab_lock = SPINLOCK_INIT;
static struct nsk_sock *tab[NSK_MAXSOCK];
static uint32_t poll_gen, npollers; /* atomic */
static uint32_t connect_rr, udp_port_rr;
static struct nsk_sock_stats stats; /* atomics */

#define STAT_ADD(f, n) __atomic_add_fetch(&stats.f, (n), __ATOMIC_RELAXED)

/* ---- On the protocol threads ---- */

static void
so_upcall(void *arg, unsigned events)
{
	struct nsk_sock *so = arg;

	__atomic_add_fetch(&so->so_gen, 1, __ATOMIC_SEQ_CST);
	wakeup(&so->so_gen);
	if (__atomic_load_n(&npollers, __ATOMIC_SEQ_CST) != 0) {
		__atomic_add_fetch(&poll_gen, 1, __ATOMIC_SEQ_CST);
		wakeup(&poll_gen);
	}
}

static void
ref_free(struct nb_ext *ext)
{
	struct sock_ref *r = ext->ne_arg;

	STAT_ADD(ss_ref_done, 1);
	r->r_done(r->r_arg);
	kfree(r, sizeof(*r));
}

static unsigned
part_events(struct nsk_sock *so, void *part)
{
	if (so->so_type == NSK_SOCK_DGRAM)
		return ns_udp_events(part);
	return ns_tcp_events(part);
}

static void
op_poll(struct nsk_sockmsg *m, unsigned cpu)
{
	size_t i;

	for (i = 0; i < m->sm_len; i++) {
		struct nsk_sock *so = m->sm_pso[i];
		if (so != NULL && so->so_part[cpu] != NULL)
			m->sm_pfds[i].pf_revents |=
			    part_events(so, so->so_part[cpu]);
	}
}

static long
op_tcp(struct nsk_sockmsg *m, struct ns *ns, unsigned cpu)
{
	struct nsk_sock *so = m->sm_so;
	struct ns_tcp *c = so->so_part[cpu];
	long r;

	switch (m->sm_op) {
	case NSK_OP_TCP_LISTEN:
		if (so->so_closed)
			return -EBADF;
		r = ns_tcp_listen(ns, m->sm_addr, m->sm_port,
		    (unsigned)m->sm_len, &c);
		if (r == 0) {
			ns_tcp_set_upcall(c, so_upcall, so);
			so->so_part[cpu] = c;
		}
		return r;
	case NSK_OP_TCP_CONNECT:
		if (so->so_closed)
			return -EBADF;
		r = ns_tcp_connect(ns, m->sm_addr, m->sm_port, &c);
		if (r == 0) {
			ns_tcp_set_upcall(c, so_upcall, so);
			if (so->so_nodelay)
				ns_tcp_setopt(c, NS_TCP_NODELAY, 1);
			so->so_part[cpu] = c;
		}
		return r;
	default:
		break;
	}
	if (c == NULL)
		return -EBADF;
	switch (m->sm_op) {
	case NSK_OP_TCP_ACCEPT: {
		struct ns_tcp *n;
		struct nsk_sock *nso = m->sm_newso;
		if ((r = ns_tcp_accept(c, &n)) != 0)
			return r;
		nso->so_part[cpu] = n;
		nso->so_cpu = cpu;
		ns_tcp_set_upcall(n, so_upcall, nso);
		if (so->so_nodelay)
			ns_tcp_setopt(n, NS_TCP_NODELAY, 1);
		ns_tcp_addrs(n, &m->sm_addr, &m->sm_port, &m->sm_addr2,
		    &m->sm_port2);
		return 0;
	}
	case NSK_OP_TCP_CONNSTATE:
		switch (ns_tcp_state(c)) {
		case NS_TCPS_SYN_SENT:
		case NS_TCPS_SYN_RECEIVED:
			return -EINPROGRESS;
		case NS_TCPS_CLOSED:
			r = ns_tcp_error(c);
			return r != 0 ? r : -ECONNABORTED;
		default:
			return 0;
		}
	case NSK_OP_TCP_SEND:
		return ns_tcp_send(c, m->sm_buf, m->sm_len);
	case NSK_OP_TCP_SEND_REF:
		return ns_tcp_send_ext(c, m->sm_ext, m->sm_buf, m->sm_len);
	case NSK_OP_TCP_RECV:
		if (m->sm_flags & NSK_MSG_PEEK)
			return ns_tcp_peek(c, m->sm_rbuf, m->sm_len);
		return ns_tcp_recv(c, m->sm_rbuf, m->sm_len);
	case NSK_OP_TCP_SHUTDOWN:
		return ns_tcp_shutdown(c, NS_SHUT_WR);
	case NSK_OP_TCP_OPT:
		return ns_tcp_setopt(c, (int)m->sm_len, m->sm_port);
	case NSK_OP_ERROR:
		return ns_tcp_error(c);
	case NSK_OP_ADDRS:
		ns_tcp_addrs(c, &m->sm_addr, &m->sm_port, &m->sm_addr2,
		    &m->sm_port2);
		return 0;
	default:
		return -EINVAL;
	}
}

static long
op_udp(struct nsk_sockmsg *m, struct ns *ns, unsigned cpu)
{
	struct nsk_sock *so = m->sm_so;
	struct ns_udp *u = so->so_part[cpu];
	uint32_t addr;
	uint16_t port;
	char dummy;
	long r;

	if (m->sm_op == NSK_OP_UDP_BIND) {
		if (so->so_closed)
			return -EBADF;
		if (u != NULL)
			return -EINVAL;
		if ((r = ns_udp_open(ns, &u)) != 0)
			return r;
		if ((r = ns_udp_bind(u, m->sm_addr, m->sm_port)) != 0) {
			ns_udp_close(u);
			return r;
		}
		ns_udp_set_upcall(u, so_upcall, so);
		so->so_part[cpu] = u;
		return 0;
	}
	if (u == NULL)
		return -EBADF;
	switch (m->sm_op) {
	case NSK_OP_UDP_SENDTO:
		return ns_udp_sendto(u, m->sm_addr, m->sm_port, m->sm_buf,
		    m->sm_len);
	case NSK_OP_UDP_RECVFROM:
		/* Connected: datagrams from others are dropped unseen. */
		while (so->so_rport != 0 &&
		    (r = ns_udp_peek(u, &dummy, 0, &addr, &port)) >= 0 &&
		    (addr != so->so_raddr || port != so->so_rport))
			ns_udp_recvfrom(u, &dummy, 0, NULL, NULL);
		if (m->sm_flags & NSK_MSG_PEEK)
			return ns_udp_peek(u, m->sm_rbuf, m->sm_len,
			    &m->sm_addr, &m->sm_port);
		return ns_udp_recvfrom(u, m->sm_rbuf, m->sm_len, &m->sm_addr,
		    &m->sm_port);
	default:
		return -EINVAL;
	}
}

static void
op_close(struct nsk_sock *so, unsigned cpu)
{
	void *p = so->so_part[cpu];

	if (p == NULL)
		return;
	so->so_part[cpu] = NULL;
	if (so->so_type == NSK_SOCK_DGRAM) {
		ns_udp_set_upcall(p, NULL, NULL);
		ns_udp_close(p);
	} else {
		ns_tcp_set_upcall(p, NULL, NULL);
		if (so->so_linger0)
			ns_tcp_abort(p);
		else
			ns_tcp_close(p);
	}
}

static void
sock_dispatch(struct lwkt_msg *msg)
{
	struct nsk_sockmsg *m = (struct nsk_sockmsg *)msg;
	unsigned cpu;
	struct ns *ns = nsk_self(&cpu);

	switch (m->sm_op) {
	case NSK_OP_CLOSE:
		op_close(m->sm_so, cpu);
		m->sm_result = 0;
		break;
	case NSK_OP_POLL:
		op_poll(m, cpu);
		m->sm_result = 0;
		break;
	case NSK_OP_EXT_RELEASE:
		nb_ext_release(m->sm_ext);
		m->sm_result = 0;
		break;
	default:
		if (m->sm_so->so_type == NSK_SOCK_DGRAM)
			m->sm_result = op_udp(m, ns, cpu);
		else
			m->sm_result = op_tcp(m, ns, cpu);
		break;
	}
	lwkt_replymsg(msg, 0);
}

long
nsk_sockmsg_do(struct nsk_sockmsg *m)
{
	struct lwkt_port *reply = lwkt_thread_port(), *to;

	if (reply == NULL)
		return -ENOMEM;
	if ((to = nsk_port(m->sm_cpu)) == NULL)
		return -ENXIO; /* no such instance, or not started */
	if (to->mpu.td == curthread)
		return -EDEADLK; /* a protocol thread waiting for itself */
	lwkt_initmsg(&m->sm_msg, reply, 0);
	m->sm_msg.ms_dispatch = sock_dispatch;
	m->sm_result = -EINVAL;
	STAT_ADD(ss_msgs, 1);
	lwkt_domsg(to, &m->sm_msg);
	return m->sm_result;
}

/* ---- Descriptors ---- */

static struct nsk_sock *
so_get(int fd)
{
	struct nsk_sock *so = NULL;

	if (fd < 0 || fd >= NSK_MAXSOCK)
		return NULL;
	spin_lock(&tab_lock);
	if ((so = tab[fd]) != NULL && !so->so_closed)
		so->so_refs++;
	else
		so = NULL;
	spin_unlock(&tab_lock);
	return so;
}

static void
so_put(struct nsk_sock *so)
{
	bool last;

	spin_lock(&tab_lock);
	last = --so->so_refs == 0;
	spin_unlock(&tab_lock);
	if (last)
		kfree(so, sizeof(*so));
}

/* A new socket in the table, with the table's reference and the
 * caller's. */
static struct nsk_sock *
so_new(int type, int *errp)
{
	struct nsk_sock *so = kmalloc(sizeof(*so), KM_ZERO);
	int i;

	if (so == NULL) {
		*errp = -ENOMEM;
		return NULL;
	}
	so->so_type = type;
	so->so_refs = 2;
	spin_lock(&tab_lock);
	for (i = 0; i < NSK_MAXSOCK && tab[i] != NULL; i++)
		;
	if (i < NSK_MAXSOCK) {
		tab[i] = so;
		so->so_fd = i;
	}
	spin_unlock(&tab_lock);
	if (i == NSK_MAXSOCK) {
		kfree(so, sizeof(*so));
		*errp = -EMFILE;
		return NULL;
	}
	return so;
}

/* Takes a socket the stack never saw out of the table and frees it
 * (the caller's reference and the table's). */
static void
so_discard(struct nsk_sock *so)
{
	spin_lock(&tab_lock);
	so->so_closed = true;
	tab[so->so_fd] = NULL;
	spin_unlock(&tab_lock);
	so_put(so);
	so_put(so);
}

static long
do_op(struct nsk_sock *so, unsigned cpu, struct nsk_sockmsg *m,
    enum nsk_sockop op)
{
	m->sm_op = op;
	m->sm_so = so;
	m->sm_cpu = cpu;
	return nsk_sockmsg_do(m);
}

static uint32_t
gen_of(struct nsk_sock *so)
{
	return __atomic_load_n(&so->so_gen, __ATOMIC_SEQ_CST);
}

static uint64_t
deadline_of(uint64_t timeo_ns)
{
	return timeo_ns == 0 ? 0 : arch_nanotime() + timeo_ns;
}

/*
 * Sleeps until the socket's event count moves from gen, the deadline
 * (0: none) passes (-ETIMEDOUT) or the socket is closed (-EBADF).
 */
static int
so_wait(struct nsk_sock *so, uint32_t gen, uint64_t deadline)
{
	uint64_t now, timo = 0;
	int r;

	tsleep_interlock(&so->so_gen, "sockwait");
	if (gen_of(so) != gen || so->so_closed) {
		tsleep_interlock_cancel();
		return so->so_closed ? -EBADF : 0;
	}
	if (deadline != 0) {
		now = arch_nanotime();
		if (now >= deadline) {
			tsleep_interlock_cancel();
			return -ETIMEDOUT;
		}
		timo = deadline - now;
	}
	r = tsleep_interlocked(&so->so_gen, timo);
	if (so->so_closed)
		return -EBADF;
	return r == -EWOULDBLOCK ? -ETIMEDOUT : 0;
}

static void
so_wake(struct nsk_sock *so)
{
	__atomic_add_fetch(&so->so_gen, 1, __ATOMIC_SEQ_CST);
	wakeup(&so->so_gen);
	__atomic_add_fetch(&poll_gen, 1, __ATOMIC_SEQ_CST);
	wakeup(&poll_gen);
}

static bool
so_dontwait(const struct nsk_sock *so, int flags)
{
	return so->so_nonblock || (flags & NSK_MSG_DONTWAIT);
}

/* ---- The BSD-like calls ---- */

int
nsk_socket(int type)
{
	struct nsk_sock *so;
	int err, fd;

	if (type != NSK_SOCK_STREAM && type != NSK_SOCK_DGRAM)
		return -EPROTONOSUPPORT;
	if (nsk_ncpu() == 0)
		return -ENXIO;
	if ((so = so_new(type, &err)) == NULL)
		return err;
	fd = so->so_fd;
	so_put(so);
	return fd;
}

static bool
tcp_port_taken(const struct nsk_sock *me, uint32_t addr, uint16_t port)
{
	int i;

	for (i = 0; i < NSK_MAXSOCK; i++) {
		const struct nsk_sock *s = tab[i];
		if (s != NULL && s != me && !s->so_closed &&
		    s->so_type == NSK_SOCK_STREAM &&
		    (s->so_state == SS_BOUND || s->so_state == SS_LISTEN) &&
		    s->so_lport == port &&
		    (s->so_laddr == 0 || addr == 0 || s->so_laddr == addr))
			return true;
	}
	return false;
}

static int
udp_bind_all(struct nsk_sock *so, uint32_t addr, uint16_t port)
{
	struct nsk_sockmsg m;
	unsigned i, n = nsk_ncpu();
	long r = 0;

	for (i = 0; i < n && r == 0; i++) {
		m.sm_addr = addr;
		m.sm_port = port;
		r = do_op(so, i, &m, NSK_OP_UDP_BIND);
	}
	if (r != 0) {
		while (i-- > 0)
			do_op(so, i, &m, NSK_OP_CLOSE);
		return (int)r;
	}
	so->so_multi = true;
	so->so_laddr = addr;
	so->so_lport = port;
	so->so_state = SS_BOUND;
	return 0;
}

static int
udp_bind_any(struct nsk_sock *so, uint32_t addr)
{
	unsigned k, span = 65536u - EPHEMERAL_LO;
	int r = -EADDRINUSE;

	for (k = 0; k < span && r == -EADDRINUSE; k++) {
		uint32_t p =
		    __atomic_fetch_add(&udp_port_rr, 1, __ATOMIC_RELAXED);
		r = udp_bind_all(so, addr, (uint16_t)(EPHEMERAL_LO + p % span));
	}
	return r;
}

static int
check_local(uint32_t addr)
{
	struct nsk_addr a;

	nsk_get_addr(&a);
	return addr == 0 || addr == a.na_addr ? 0 : -EADDRNOTAVAIL;
}

int
nsk_bind(int fd, uint32_t addr, uint16_t port)
{
	struct nsk_sock *so = so_get(fd);
	int r;

	if (so == NULL)
		return -EBADF;
	if (so->so_state != SS_NEW)
		r = -EINVAL;
	else if ((r = check_local(addr)) != 0)
		;
	else if (so->so_type == NSK_SOCK_DGRAM)
		r = port == 0 ? udp_bind_any(so, addr) :
				udp_bind_all(so, addr, port);
	else if (port == 0)
		r = -EINVAL; /* a listener needs its port */
	else {
		spin_lock(&tab_lock);
		if (tcp_port_taken(so, addr, port)) {
			r = -EADDRINUSE;
		} else {
			so->so_laddr = addr;
			so->so_lport = port;
			so->so_state = SS_BOUND;
		}
		spin_unlock(&tab_lock);
	}
	so_put(so);
	return r;
}

int
nsk_listen(int fd, unsigned backlog)
{
	struct nsk_sock *so = so_get(fd);
	struct nsk_sockmsg m;
	unsigned i, n = nsk_ncpu();
	long r = 0;

	if (so == NULL)
		return -EBADF;
	if (so->so_type != NSK_SOCK_STREAM)
		r = -EOPNOTSUPP;
	else if (so->so_state == SS_LISTEN)
		r = 0;
	else if (so->so_state != SS_BOUND)
		r = -EINVAL;
	for (i = 0; i < n && r == 0 && so->so_state == SS_BOUND; i++) {
		m.sm_addr = so->so_laddr;
		m.sm_port = so->so_lport;
		m.sm_len = backlog;
		r = do_op(so, i, &m, NSK_OP_TCP_LISTEN);
	}
	if (r != 0 && so->so_state == SS_BOUND) {
		while (i-- > 0)
			do_op(so, i, &m, NSK_OP_CLOSE);
	} else if (r == 0) {
		so->so_multi = true;
		so->so_state = SS_LISTEN;
	}
	so_put(so);
	return (int)r;
}

int
nsk_accept(int fd, uint32_t *addr, uint16_t *port)
{
	struct nsk_sock *so = so_get(fd), *nso = NULL;
	uint64_t deadline;
	struct nsk_sockmsg m;
	unsigned k, n = nsk_ncpu(), cpu;
	uint32_t gen;
	long r = -EAGAIN;
	int err;

	if (so == NULL)
		return -EBADF;
	if (so->so_state != SS_LISTEN) {
		so_put(so);
		return -EINVAL;
	}
	if ((nso = so_new(NSK_SOCK_STREAM, &err)) == NULL) {
		so_put(so);
		return err;
	}
	nso->so_nodelay = so->so_nodelay;
	deadline = deadline_of(so->so_rcvtimeo_ns);
	for (;;) {
		gen = gen_of(so);
		for (k = 0; k < n; k++) {
			cpu = (so->so_next + k) % n;
			m.sm_newso = nso;
			if ((r = do_op(so, cpu, &m, NSK_OP_TCP_ACCEPT)) !=
			    -EAGAIN)
				break;
		}
		if (r != -EAGAIN)
			break;
		if (so->so_nonblock)
			break;
		if ((r = so_wait(so, gen, deadline)) != 0) {
			r = r == -ETIMEDOUT ? -EAGAIN : r;
			break;
		}
	}
	if (r == 0) {
		so->so_next = cpu + 1;
		nso->so_state = SS_CONNECTED;
		nso->so_laddr = m.sm_addr;
		nso->so_lport = m.sm_port;
		nso->so_raddr = m.sm_addr2;
		nso->so_rport = m.sm_port2;
		if (addr != NULL)
			*addr = m.sm_addr2;
		if (port != NULL)
			*port = m.sm_port2;
		r = nso->so_fd;
		so_put(nso);
	} else {
		so_discard(nso); /* no part was made for it */
	}
	so_put(so);
	return (int)r;
}

/* A connecting socket: 0 once connected, -EINPROGRESS, or the error. */
static long
connect_state(struct nsk_sock *so)
{
	struct nsk_sockmsg m;
	long r = do_op(so, so->so_cpu, &m, NSK_OP_TCP_CONNSTATE);

	if (r == 0)
		so->so_state = SS_CONNECTED;
	return r;
}

static long
connect_wait(struct nsk_sock *so)
{
	uint64_t deadline = deadline_of(so->so_sndtimeo_ns);
	uint32_t gen;
	long r;

	for (;;) {
		gen = gen_of(so);
		if ((r = connect_state(so)) != -EINPROGRESS)
			return r;
		if ((r = so_wait(so, gen, deadline)) != 0)
			return r;
	}
}

static int
tcp_connect(struct nsk_sock *so, uint32_t addr, uint16_t port)
{
	struct nsk_sockmsg m;
	unsigned cpu;
	long r;

	switch (so->so_state) {
	case SS_LISTEN:
		return -EINVAL;
	case SS_CONNECTED:
		return -EISCONN;
	case SS_CONNECTING:
		if (so->so_nonblock) {
			r = connect_state(so);
			return r == -EINPROGRESS ? -EALREADY : (int)r;
		}
		return (int)connect_wait(so);
	case SS_BOUND:
		return -EOPNOTSUPP; /* the stack picks the local port */
	default:
		break;
	}
	cpu = __atomic_fetch_add(&connect_rr, 1, __ATOMIC_RELAXED) % nsk_ncpu();
	m.sm_addr = addr;
	m.sm_port = port;
	if ((r = do_op(so, cpu, &m, NSK_OP_TCP_CONNECT)) != 0)
		return (int)r;
	so->so_cpu = cpu;
	so->so_raddr = addr;
	so->so_rport = port;
	so->so_state = SS_CONNECTING;
	if (so->so_nonblock)
		return -EINPROGRESS;
	return (int)connect_wait(so);
}

int
nsk_connect(int fd, uint32_t addr, uint16_t port)
{
	struct nsk_sock *so = so_get(fd);
	int r;

	if (so == NULL)
		return -EBADF;
	if (so->so_type == NSK_SOCK_STREAM) {
		r = tcp_connect(so, addr, port);
	} else if (addr == 0 || port == 0) {
		r = -EINVAL;
	} else {
		r = so->so_state == SS_NEW ? udp_bind_any(so, 0) : 0;
		if (r == 0) {
			so->so_raddr = addr;
			so->so_rport = port;
		}
	}
	so_put(so);
	return r;
}

static long
tcp_send(struct nsk_sock *so, const void *buf, size_t len, int flags,
    struct sock_ref *ref)
{
	uint64_t deadline = deadline_of(so->so_sndtimeo_ns);
	const uint8_t *p = buf;
	struct nsk_sockmsg m;
	size_t sent = 0;
	uint32_t gen;
	long r;

	if (so->so_state != SS_CONNECTED && so->so_state != SS_CONNECTING)
		return -ENOTCONN;
	while (sent < len || len == 0) {
		gen = gen_of(so);
		m.sm_buf = p + sent;
		m.sm_len = len - sent;
		if (ref != NULL) {
			m.sm_len = MIN(m.sm_len, (size_t)SEND_REF_CHUNK);
			m.sm_ext = &ref->r_ext;
			r = do_op(so, so->so_cpu, &m, NSK_OP_TCP_SEND_REF);
			if (r > 0)
				STAT_ADD(ss_ref_bytes, (uint64_t)r);
		} else {
			r = do_op(so, so->so_cpu, &m, NSK_OP_TCP_SEND);
		}
		if (r >= 0) {
			sent += (size_t)r;
			if (len == 0)
				break;
			continue;
		}
		if (r != -EAGAIN)
			return sent > 0 ? (long)sent : r;
		if (so_dontwait(so, flags))
			break;
		if ((r = so_wait(so, gen, deadline)) != 0)
			return sent > 0	    ? (long)sent :
			    r == -ETIMEDOUT ? -EAGAIN :
					      r;
	}
	return sent > 0 || len == 0 ? (long)sent : -EAGAIN;
}

long
nsk_send(int fd, const void *buf, size_t len, int flags)
{
	struct nsk_sock *so = so_get(fd);
	long r;

	if (so == NULL)
		return -EBADF;
	if (so->so_type == NSK_SOCK_DGRAM) {
		uint32_t raddr = so->so_raddr;
		uint16_t rport = so->so_rport;
		so_put(so);
		if (rport == 0)
			return -ENOTCONN;
		return nsk_sendto(fd, buf, len, flags, raddr, rport);
	}
	r = tcp_send(so, buf, len, flags, NULL);
	so_put(so);
	return r;
}

long
nsk_send_ref(int fd, const void *data, size_t len, int flags,
    void (*done)(void *arg), void *arg)
{
	struct nsk_sock *so;
	struct nsk_sockmsg m;
	struct sock_ref *ref;
	long r;

	if (done == NULL)
		return -EINVAL;
	/* Refused at once: the completion runs here, before the return. */
	if ((so = so_get(fd)) == NULL) {
		r = -EBADF;
	} else if (so->so_type != NSK_SOCK_STREAM || data == NULL || len == 0) {
		r = -EINVAL;
	} else if (so->so_state != SS_CONNECTED &&
	    so->so_state != SS_CONNECTING) {
		r = -ENOTCONN;
	} else if ((ref = kmalloc(sizeof(*ref), 0)) == NULL) {
		r = -ENOMEM;
	} else {
		nb_ext_init(&ref->r_ext, ref_free, ref, NB_EXT_RDONLY);
		ref->r_done = done;
		ref->r_arg = arg;
		r = tcp_send(so, data, len, flags, ref);
		/* Our own reference, dropped on the thread that counts
		 * them: the completion runs there once the stack's
		 * references are gone too. */
		m.sm_ext = &ref->r_ext;
		do_op(so, so->so_cpu, &m, NSK_OP_EXT_RELEASE);
		so_put(so);
		return r;
	}
	if (so != NULL)
		so_put(so);
	done(arg);
	return r;
}

static long
tcp_recv(struct nsk_sock *so, void *buf, size_t len, int flags)
{
	uint64_t deadline = deadline_of(so->so_rcvtimeo_ns);
	struct nsk_sockmsg m;
	uint32_t gen;
	long r;

	if (so->so_state != SS_CONNECTED && so->so_state != SS_CONNECTING)
		return -ENOTCONN;
	for (;;) {
		if (so->so_rdshut)
			return 0;
		gen = gen_of(so);
		m.sm_rbuf = buf;
		m.sm_len = len;
		m.sm_flags = flags;
		r = do_op(so, so->so_cpu, &m, NSK_OP_TCP_RECV);
		if (r != -EAGAIN || so_dontwait(so, flags))
			return r;
		if ((r = so_wait(so, gen, deadline)) != 0)
			return r == -ETIMEDOUT ? -EAGAIN : r;
	}
}

long
nsk_recv(int fd, void *buf, size_t len, int flags)
{
	struct nsk_sock *so = so_get(fd);
	long r;

	if (so == NULL)
		return -EBADF;
	if (so->so_type == NSK_SOCK_DGRAM) {
		so_put(so);
		return nsk_recvfrom(fd, buf, len, flags, NULL, NULL);
	}
	r = tcp_recv(so, buf, len, flags);
	so_put(so);
	return r;
}

long
nsk_sendto(int fd, const void *buf, size_t len, int flags, uint32_t addr,
    uint16_t port)
{
	struct nsk_sock *so = so_get(fd);
	struct nsk_sockmsg m;
	long r = 0;

	if (so == NULL)
		return -EBADF;
	if (so->so_type != NSK_SOCK_DGRAM) {
		r = so->so_state == SS_CONNECTED ? -EISCONN : -EOPNOTSUPP;
		so_put(so);
		return r;
	}
	if (so->so_state == SS_NEW)
		r = udp_bind_any(so, 0);
	if (r == 0) {
		m.sm_buf = buf;
		m.sm_len = len;
		m.sm_addr = addr;
		m.sm_port = port;
		r = do_op(so, (unsigned)mycpuid % nsk_ncpu(), &m,
		    NSK_OP_UDP_SENDTO);
		if (r == 0)
			r = (long)len;
	}
	so_put(so);
	return r;
}

long
nsk_recvfrom(int fd, void *buf, size_t len, int flags, uint32_t *addr,
    uint16_t *port)
{
	struct nsk_sock *so = so_get(fd);
	uint64_t deadline;
	struct nsk_sockmsg m;
	unsigned k, n = nsk_ncpu(), cpu = 0;
	uint32_t gen;
	long r = -EAGAIN;

	if (so == NULL)
		return -EBADF;
	if (so->so_type != NSK_SOCK_DGRAM) {
		r = tcp_recv(so, buf, len, flags);
		so_put(so);
		return r;
	}
	if (so->so_state != SS_BOUND) {
		so_put(so);
		return -EINVAL; /* not bound: nothing can arrive */
	}
	deadline = deadline_of(so->so_rcvtimeo_ns);
	for (;;) {
		gen = gen_of(so);
		for (k = 0; k < n; k++) {
			cpu = (so->so_next + k) % n;
			m.sm_rbuf = buf;
			m.sm_len = len;
			m.sm_flags = flags;
			r = do_op(so, cpu, &m, NSK_OP_UDP_RECVFROM);
			if (r != -EAGAIN)
				break;
		}
		if (r != -EAGAIN || so_dontwait(so, flags))
			break;
		if ((r = so_wait(so, gen, deadline)) != 0) {
			r = r == -ETIMEDOUT ? -EAGAIN : r;
			break;
		}
	}
	if (r >= 0) {
		so->so_next = cpu + 1;
		if (addr != NULL)
			*addr = m.sm_addr;
		if (port != NULL)
			*port = m.sm_port;
	}
	so_put(so);
	return r;
}

int
nsk_shutdown(int fd, int how)
{
	struct nsk_sock *so = so_get(fd);
	struct nsk_sockmsg m;
	long r = 0;

	if (so == NULL)
		return -EBADF;
	if (how != NSK_SHUT_RD && how != NSK_SHUT_WR && how != NSK_SHUT_RDWR)
		r = -EINVAL;
	else if (so->so_type != NSK_SOCK_STREAM)
		r = -EOPNOTSUPP;
	else if (so->so_state != SS_CONNECTED && so->so_state != SS_CONNECTING)
		r = -ENOTCONN;
	if (r == 0 && how != NSK_SHUT_WR) {
		so->so_rdshut = true;
		so_wake(so);
	}
	if (r == 0 && how != NSK_SHUT_RD)
		r = do_op(so, so->so_cpu, &m, NSK_OP_TCP_SHUTDOWN);
	so_put(so);
	return (int)r;
}

int
nsk_close(int fd)
{
	struct nsk_sock *so = so_get(fd);
	struct nsk_sockmsg m;
	unsigned i, n = nsk_ncpu();

	if (so == NULL)
		return -EBADF;
	spin_lock(&tab_lock);
	if (so->so_closed) { /* another thread closed it first */
		spin_unlock(&tab_lock);
		so_put(so);
		return -EBADF;
	}
	so->so_closed = true;
	tab[fd] = NULL;
	spin_unlock(&tab_lock);
	/* Every instance: a connect or bind racing with this close may
	 * have made a part anywhere; one dispatched after it sees
	 * so_closed and makes none. */
	for (i = 0; i < n; i++)
		do_op(so, i, &m, NSK_OP_CLOSE);
	so_wake(so);
	so_put(so); /* the table's */
	so_put(so);
	return 0;
}

int
nsk_poll(struct nsk_pollfd *fds, unsigned n, int64_t timeout_ms)
{
	uint64_t deadline = 0, now;
	struct nsk_sock **pso;
	struct nsk_sockmsg m;
	unsigned i, ncpu = nsk_ncpu(), ready = 0;
	uint32_t gen;

	if (n > NSK_MAXSOCK || (n > 0 && fds == NULL))
		return -EINVAL;
	if ((pso = kmalloc(sizeof(*pso) * (n + 1), KM_ZERO)) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pso[i] = so_get(fds[i].pf_fd);
	if (timeout_ms > 0)
		deadline = arch_nanotime() + (uint64_t)timeout_ms * 1000000;
	__atomic_add_fetch(&npollers, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		gen = __atomic_load_n(&poll_gen, __ATOMIC_SEQ_CST);
		for (i = 0; i < n; i++)
			fds[i].pf_revents = 0;
		m.sm_pfds = fds;
		m.sm_pso = pso;
		m.sm_len = n;
		for (i = 0; i < ncpu && n > 0; i++) {
			m.sm_op = NSK_OP_POLL;
			m.sm_so = NULL;
			m.sm_cpu = i;
			nsk_sockmsg_do(&m);
		}
		ready = 0;
		for (i = 0; i < n; i++) {
			struct nsk_sock *so = pso[i];
			unsigned ev = fds[i].pf_revents;
			if (so == NULL || so->so_closed)
				ev = NSK_POLLNVAL;
			else if (so->so_type == NSK_SOCK_STREAM &&
			    (so->so_state == SS_NEW ||
				so->so_state == SS_BOUND))
				ev = NSK_POLLHUP; /* as Linux */
			else if (so->so_rdshut)
				ev |= NSK_POLLIN;
			ev &= fds[i].pf_events | NSK_POLLERR | NSK_POLLHUP |
			    NSK_POLLNVAL;
			fds[i].pf_revents = ev;
			ready += ev != 0;
		}
		if (ready > 0 || timeout_ms == 0)
			break;
		tsleep_interlock(&poll_gen, "poll");
		if (__atomic_load_n(&poll_gen, __ATOMIC_SEQ_CST) != gen) {
			tsleep_interlock_cancel();
			continue;
		}
		now = arch_nanotime();
		if (deadline != 0 && now >= deadline) {
			tsleep_interlock_cancel();
			break;
		}
		tsleep_interlocked(&poll_gen,
		    deadline != 0 ? deadline - now : 0);
	}
	__atomic_sub_fetch(&npollers, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < n; i++)
		if (pso[i] != NULL)
			so_put(pso[i]);
	kfree(pso, sizeof(*pso) * (n + 1));
	return (int)ready;
}

int
nsk_setsockopt(int fd, int opt, int64_t val)
{
	struct nsk_sock *so = so_get(fd);
	struct nsk_sockmsg m;
	long r = 0;

	if (so == NULL)
		return -EBADF;
	switch (opt) {
	case NSK_SO_NONBLOCK:
		if (val != 0 && val != 1)
			r = -EINVAL;
		else
			so->so_nonblock = val != 0;
		break;
	case NSK_SO_RCVTIMEO:
	case NSK_SO_SNDTIMEO:
		if (val < 0 || val > MAX_TIMEO_MS)
			r = -EINVAL;
		else if (opt == NSK_SO_RCVTIMEO)
			so->so_rcvtimeo_ns = (uint64_t)val * 1000000;
		else
			so->so_sndtimeo_ns = (uint64_t)val * 1000000;
		break;
	case NSK_SO_LINGER:
		if (val != -1 && val != 0)
			r = -EINVAL;
		else
			so->so_linger0 = val == 0;
		break;
	case NSK_SO_NODELAY:
		if (so->so_type != NSK_SOCK_STREAM) {
			r = -ENOPROTOOPT;
		} else if (val != 0 && val != 1) {
			r = -EINVAL;
		} else {
			so->so_nodelay = val != 0;
			if (so->so_state == SS_CONNECTED ||
			    so->so_state == SS_CONNECTING) {
				m.sm_len = NS_TCP_NODELAY;
				m.sm_port = (uint16_t)val;
				r = do_op(so, so->so_cpu, &m, NSK_OP_TCP_OPT);
			}
		}
		break;
	default:
		r = -ENOPROTOOPT;
	}
	so_put(so);
	return (int)r;
}

int
nsk_sock_error(int fd)
{
	struct nsk_sock *so = so_get(fd);
	struct nsk_sockmsg m;
	long r = 0;

	if (so == NULL)
		return -EBADF;
	if (so->so_type == NSK_SOCK_STREAM &&
	    (so->so_state == SS_CONNECTED || so->so_state == SS_CONNECTING))
		r = do_op(so, so->so_cpu, &m, NSK_OP_ERROR);
	so_put(so);
	return (int)r;
}

int
nsk_sockname(int fd, uint32_t *laddr, uint16_t *lport, uint32_t *raddr,
    uint16_t *rport)
{
	struct nsk_sock *so = so_get(fd);
	struct nsk_sockmsg m;
	long r = 0;

	if (so == NULL)
		return -EBADF;
	m.sm_addr = so->so_laddr;
	m.sm_port = so->so_lport;
	m.sm_addr2 = so->so_raddr;
	m.sm_port2 = so->so_rport;
	if (so->so_type == NSK_SOCK_STREAM &&
	    (so->so_state == SS_CONNECTED || so->so_state == SS_CONNECTING))
		r = do_op(so, so->so_cpu, &m, NSK_OP_ADDRS);
	if (r == 0) {
		if (laddr != NULL)
			*laddr = m.sm_addr;
		if (lport != NULL)
			*lport = m.sm_port;
		if (raddr != NULL)
			*raddr = m.sm_addr2;
		if (rport != NULL)
			*rport = m.sm_port2;
	}
	so_put(so);
	return (int)r;
}

void
nsk_sock_get_stats(struct nsk_sock_stats *st)
{
	st->ss_msgs = __atomic_load_n(&stats.ss_msgs, __ATOMIC_RELAXED);
	st->ss_ref_bytes =
	    __atomic_load_n(&stats.ss_ref_bytes, __ATOMIC_RELAXED);
	st->ss_ref_done = __atomic_load_n(&stats.ss_ref_done, __ATOMIC_RELAXED);
}
