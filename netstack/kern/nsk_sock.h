/*
 * netstack/kern/nsk_sock.h: sockets for applications, on the protocol
 * threads (netstack/DESIGN.md, "Sockets", has the decisions).
 *
 * Two layers:
 *  - The message form: struct nsk_sockmsg carries a request (NSK_SO_*)
 *    and its arguments to the protocol thread that owns the socket's
 *    core object (DragonFly's netmsg); that thread runs the core call and
 *    replies with the result in the message. nsk_sockmsg_do sends one and
 *    waits for the reply. Readiness upcalls wake the waiters.
 *  - The BSD-like layer on it: descriptors (small ints), blocking or not,
 *    with timeouts, poll, and a zero-copy send of caller-owned memory.
 *
 * Interface:
 *  - Call from application threads (not from a protocol thread: the
 *    calls send messages to those threads and wait), after nsk_start().
 *  - Results are >= 0, or a negative errno: -EBADF (not an open
 *    descriptor), -EINVAL, -ENOTCONN, -EISCONN, -EALREADY, -EINPROGRESS,
 *    -EAGAIN (non-blocking and nothing to do, or a send/receive timeout,
 *    as BSD's EWOULDBLOCK), -ETIMEDOUT (connect timeout or the stack gave
 *    up), -ECONNREFUSED, -ECONNRESET, -EPIPE, -EADDRINUSE, -EMFILE,
 *    -ENOMEM, -EOPNOTSUPP, -ENXIO (the stack is not started), -EDEADLK
 *    (called on a protocol thread, for its own instance).
 *  - Addresses and ports in host byte order.
 *  - Blocking calls sleep on the socket's event with the socket's
 *    timeout (0: none); a close by another thread wakes them (-EBADF).
 *  - nsk_close is graceful and returns at once; the stack finishes the
 *    connection (FIN, retransmissions, TIME-WAIT) alone. Unread data, or
 *    NSK_SO_LINGER set to 0, resets it instead (RST). Lingering with a
 *    timeout (waiting for the peer's ACK) is not offered.
 *  - Descriptors are reused after close: using one after closing it is
 *    the caller's bug, as with BSD.
 */
#ifndef NETSTACK_KERN_NSK_SOCK_H
#define NETSTACK_KERN_NSK_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include "msgport/msgport.h"

#define NSK_SOCK_STREAM 1 /* TCP */
#define NSK_SOCK_DGRAM	2 /* UDP */

#define NSK_MAXSOCK	1024 /* open descriptors */

/* send/recv flags */
#define NSK_MSG_DONTWAIT 0x1
#define NSK_MSG_PEEK	 0x2 /* recv/recvfrom: leave the data queued */

/* shutdown */
#define NSK_SHUT_RD   0
#define NSK_SHUT_WR   1
#define NSK_SHUT_RDWR 2

/* poll events: the core's NS_EV_* values */
#define NSK_POLLIN   0x01
#define NSK_POLLOUT  0x02
#define NSK_POLLERR  0x04 /* always reported */
#define NSK_POLLHUP  0x08 /* always reported */
#define NSK_POLLNVAL 0x10 /* not an open descriptor */

/* options (nsk_setsockopt) */
#define NSK_SO_NONBLOCK 1 /* 0 or 1 */
#define NSK_SO_RCVTIMEO 2 /* ms; 0: none */
#define NSK_SO_SNDTIMEO 3 /* ms; 0: none (also bounds a blocking connect) */
#define NSK_SO_LINGER	4 /* -1: graceful close (default); 0: close resets */
#define NSK_SO_NODELAY	5 /* TCP: no Nagle */

struct nsk_pollfd {
	int pf_fd;
	unsigned pf_events;  /* NSK_POLLIN, NSK_POLLOUT */
	unsigned pf_revents; /* set by nsk_poll */
};

int nsk_socket(int type);
int nsk_bind(int fd, uint32_t addr, uint16_t port);
/* TCP, after bind: one listener on every protocol thread, each with
 * this backlog. */
int nsk_listen(int fd, unsigned backlog);
/* A new descriptor; addr and port (may be NULL) get the peer's. */
int nsk_accept(int fd, uint32_t *addr, uint16_t *port);
/* TCP: -EINPROGRESS when non-blocking; blocking, bounded by
 * NSK_SO_SNDTIMEO (-ETIMEDOUT: the handshake goes on; close the socket).
 * UDP: sets the default peer (receives take only its datagrams). */
int nsk_connect(int fd, uint32_t addr, uint16_t port);
/* Bytes queued; blocking: all of them unless a timeout or an error
 * comes after some were queued. */
long nsk_send(int fd, const void *buf, size_t len, int flags);
/* Bytes read, 0 at end of stream. */
long nsk_recv(int fd, void *buf, size_t len, int flags);
long nsk_sendto(int fd, const void *buf, size_t len, int flags, uint32_t addr,
    uint16_t port);
/* One datagram, truncated to len. */
long nsk_recvfrom(int fd, void *buf, size_t len, int flags, uint32_t *addr,
    uint16_t *port);
int nsk_shutdown(int fd, int how);
int nsk_close(int fd);
/* Ready descriptors (their pf_revents set), 0 on timeout; timeout_ms
 * < 0: no limit, 0: look only. */
int nsk_poll(struct nsk_pollfd *fds, unsigned n, int64_t timeout_ms);
int nsk_setsockopt(int fd, int opt, int64_t val);
/* The pending error of the connection (reading clears it), or 0. */
int nsk_sock_error(int fd);
/* Local and remote address and port of a connection (pointers may be
 * NULL); a listener or bound UDP socket has only the local ones. */
int nsk_sockname(int fd, uint32_t *laddr, uint16_t *lport, uint32_t *raddr,
    uint16_t *rport);

/*
 * Zero-copy send: queues len bytes at data by reference (no copy; the
 * frames on the wire point into it). The memory must stay unchanged
 * until done(arg) runs, when the stack no longer refers to any of it
 * (acknowledged by the peer, or the connection is gone). done runs once
 * per call whatever the result (done NULL: -EINVAL and nothing runs):
 * on a protocol thread, where it may set a flag and wakeup(), not block
 * or call the sockets; or, when the call is refused before anything is
 * queued, in the caller's thread before the return. Returns the bytes
 * queued (all, unless a timeout or an error comes after some), or the
 * error.
 */
long nsk_send_ref(int fd, const void *data, size_t len, int flags,
    void (*done)(void *arg), void *arg);

/* Counters of the layer (all sockets, since boot). */
struct nsk_sock_stats {
	uint64_t ss_msgs;      /* requests sent to the protocol threads */
	uint64_t ss_ref_bytes; /* bytes queued by reference (nsk_send_ref) */
	uint64_t ss_ref_done;  /* nsk_send_ref completions run */
};
void nsk_sock_get_stats(struct nsk_sock_stats *st);

/* ---- The message form ---- */

enum nsk_sockop {
	NSK_OP_TCP_LISTEN,  /* sm_addr, sm_port, sm_len (backlog) */
	NSK_OP_TCP_ACCEPT,  /* -> sm_newso's connection */
	NSK_OP_TCP_CONNECT, /* sm_addr, sm_port */
	NSK_OP_TCP_CONNSTATE,
	NSK_OP_TCP_SEND, /* sm_buf, sm_len -> bytes */
	NSK_OP_TCP_SEND_REF,
	NSK_OP_TCP_RECV, /* sm_rbuf, sm_len -> bytes */
	NSK_OP_TCP_SHUTDOWN,
	NSK_OP_TCP_OPT,	 /* sm_len: the ns_tcp option, sm_port value */
	NSK_OP_UDP_BIND, /* sm_addr, sm_port */
	NSK_OP_UDP_SENDTO,
	NSK_OP_UDP_RECVFROM, /* -> sm_addr, sm_port */
	NSK_OP_CLOSE,	     /* this instance's part */
	NSK_OP_POLL,	     /* sm_pfds, sm_len */
	NSK_OP_ERROR,
	NSK_OP_ADDRS,
	NSK_OP_EXT_RELEASE,
};

struct nsk_sock;
struct nb_ext;

struct nsk_sockmsg {
	struct lwkt_msg sm_msg;
	enum nsk_sockop sm_op;
	struct nsk_sock *sm_so;
	unsigned sm_cpu; /* the instance the message goes to */
	const void *sm_buf;
	void *sm_rbuf;
	size_t sm_len;
	uint32_t sm_addr, sm_addr2;
	uint16_t sm_port, sm_port2;
	int sm_flags;		   /* NSK_MSG_PEEK for the receives */
	struct nsk_sock *sm_newso; /* accept */
	struct nb_ext *sm_ext;	   /* send by reference */
	struct nsk_pollfd *sm_pfds;
	struct nsk_sock **sm_pso; /* poll: the sockets of sm_pfds */
	long sm_result;		  /* the reply */
};

/* Sends m to instance m->sm_cpu's protocol thread, waits for the reply;
 * returns m->sm_result. */
long nsk_sockmsg_do(struct nsk_sockmsg *m);

#endif /* NETSTACK_KERN_NSK_SOCK_H */
