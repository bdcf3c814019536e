/*
 * msgport/msgport.h: messages and ports, after DragonFly BSD's
 * lwkt_msgport. Subsystems talk by sending messages to ports: a disk
 * request, a packet handed up the stack and a file-system operation are
 * all messages.
 *
 * A message is sent to a target port and answered (replied) to its reply
 * port. The kind of port decides how messages are queued and who waits:
 *
 *   thread port      owned by one thread; only the owner receives from it
 *                    and waits on it. No locks: a message from another CPU
 *                    travels to the owner's CPU by IPI. Every thread has
 *                    one (lwkt_thread_port()).
 *   spin port        guarded by a spinlock; any thread may receive, and
 *                    several may wait at once.
 *   serializer port  guarded by a serializer (a sleeping lock), for ports
 *                    whose users may block while they hold it.
 *   reply-only port  only takes replies: marks the message done and wakes
 *                    its waiter, or calls a function (e.g. to free it).
 *   panic port       for ports that must never be used: every operation
 *                    panics and names the port.
 * An operation a kind of port does not support points at a named panic
 * stub, never at NULL.
 *
 * Flags (ms_flags): DONE (replied, or never sent), REPLY (the reply has
 * arrived), QUEUED (on a port's queue), SYNC (sent by lwkt_domsg),
 * INTRANSIT (on its way to another CPU), ABORTABLE and ABORTED, DROPABLE.
 *
 * Interface:
 *  - A message is initialized once (lwkt_initmsg) and may then be sent,
 *    waited for and sent again; it must not be sent while in flight.
 *  - lwkt_domsg() sends and waits (the reply does not go through the reply
 *    port's queue). lwkt_sendmsg() sends and returns; the reply arrives on
 *    the reply port (lwkt_waitport/lwkt_getport, or lwkt_waitmsg).
 *  - A synchronous message to a port its own caller receives from would
 *    wait for ever: when the message has a dispatch function it runs
 *    inline instead, else it is a panic.
 *  - Replying twice, or replying to a message that was not sent, panics.
 *  - Errors are 0 or negative errnos (ms_error).
 *  - Blocking calls (lwkt_domsg, lwkt_waitmsg, lwkt_waitport) follow the
 *    scheduler's rules (sched/sched.h); the others never block and may be
 *    used from IPI functions, except for serializer ports.
 */
#ifndef MSGPORT_MSGPORT_H
#define MSGPORT_MSGPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "msgport/msgport_platform.h"

#define MSGF_DONE      0x0001
#define MSGF_REPLY     0x0002
#define MSGF_QUEUED    0x0004
#define MSGF_SYNC      0x0008
#define MSGF_INTRANSIT 0x0010
#define MSGF_ABORTABLE 0x0020
#define MSGF_ABORTED   0x0040
#define MSGF_DROPABLE  0x0080
#define MSGF_REPLYING  0x0100 /* lwkt_replymsg has begun (internal) */

/* What a port's mp_putport returns when the reply comes later (a port
 * that answers at once returns the error itself). */
#define EASYNC 1

struct lwkt_msg;
struct lwkt_port;
struct port_lockops;
typedef void (*lwkt_dispatch_t)(struct lwkt_msg *msg);

struct lwkt_msg {
	TAILQ_ENTRY(lwkt_msg) ms_node;	  /* on a port's queue */
	struct lwkt_port *ms_target_port; /* where it was sent */
	struct lwkt_port *ms_reply_port;  /* where its reply goes */
	lwkt_dispatch_t ms_dispatch;	  /* the receiver's handler, or NULL */
	volatile uint32_t ms_flags;
	int ms_error;
	uint64_t ms_arg; /* free for the sender */
};

TAILQ_HEAD(lwkt_msg_queue, lwkt_msg);

struct lwkt_serialize {
	struct spinlock sz_spin;
	/* guarded by sz_spin: */
	struct thread *sz_owner;
	int sz_waiters;
};

struct lwkt_port {
	/*
	 * The queue and mp_flags are guarded by: the owner's CPU (thread
	 * port, in a critical section), mp_lock (spin and reply-only ports)
	 * or the serializer (serializer port).
	 */
	struct lwkt_msg_queue mp_msgq;
	uint32_t mp_flags;
	int mp_waiters; /* threads in waitport (spin, serializer ports) */
	struct spinlock mp_lock;
	const struct port_lockops *mp_lockops; /* spin, serializer ports */
	const char *mp_name;
	union {
		struct thread *td;		    /* thread port */
		struct lwkt_serialize *slz;	    /* serializer port */
		void (*replyfn)(struct lwkt_msg *); /* reply-only port */
	} mpu;
	int (*mp_putport)(struct lwkt_port *, struct lwkt_msg *);
	struct lwkt_msg *(*mp_getport)(struct lwkt_port *);
	struct lwkt_msg *(*mp_waitport)(struct lwkt_port *, uint64_t timo_ns);
	int (*mp_waitmsg)(struct lwkt_msg *, uint64_t timo_ns);
	void (*mp_replyport)(struct lwkt_port *, struct lwkt_msg *);
	int (*mp_dropmsg)(struct lwkt_port *, struct lwkt_msg *);
	/* statistics */
	uint64_t mp_received, mp_replied;
};

#define MSGPORTF_WAITING 0x1 /* the owner sleeps on it */

/* Ports. */
void lwkt_initport_thread(struct lwkt_port *port, struct thread *td);
void lwkt_initport_spin(struct lwkt_port *port, const char *name);
void lwkt_initport_serialize(struct lwkt_port *port, struct lwkt_serialize *slz,
    const char *name);
/* replyfn NULL: a reply marks the message done and wakes its waiter. */
void lwkt_initport_replyonly(struct lwkt_port *port,
    void (*replyfn)(struct lwkt_msg *), const char *name);
void lwkt_initport_panic(struct lwkt_port *port, const char *name);
/* The calling thread's own port (made on first use; NULL: no memory). */
struct lwkt_port *lwkt_thread_port(void);

/* Messages. */
void lwkt_initmsg(struct lwkt_msg *msg, struct lwkt_port *reply_port,
    uint32_t flags);
int lwkt_domsg(struct lwkt_port *port, struct lwkt_msg *msg);
void lwkt_sendmsg(struct lwkt_port *port, struct lwkt_msg *msg);
void lwkt_forwardmsg(struct lwkt_port *port, struct lwkt_msg *msg);
void lwkt_replymsg(struct lwkt_msg *msg, int error);
/* Waits for the reply (timo_ns 0: no limit); -ETIMEDOUT on timeout. */
int lwkt_waitmsg(struct lwkt_msg *msg, uint64_t timo_ns);
bool lwkt_checkmsg(const struct lwkt_msg *msg);
struct lwkt_msg *lwkt_getport(struct lwkt_port *port);
/* Waits for a message (timo_ns 0: no limit); NULL on timeout. */
struct lwkt_msg *lwkt_waitport(struct lwkt_port *port, uint64_t timo_ns);
/* Takes a DROPABLE message off its target's queue: 0, or -ENOENT when it
 * is not queued there any more (received, or still in transit). */
int lwkt_dropmsg(struct lwkt_msg *msg);
/*
 * Asks for an ABORTABLE message to be given up: still queued, it is taken
 * off and replied with -ECANCELED; already received, it is marked
 * ABORTED for the receiver to notice (lwkt_msg_aborted). Advisory.
 */
void lwkt_abortmsg(struct lwkt_msg *msg);
static inline bool
lwkt_msg_aborted(const struct lwkt_msg *msg)
{
	return (msg->ms_flags & MSGF_ABORTED) != 0;
}

/* Serializers: a lock its holder may block under. */
void lwkt_serialize_init(struct lwkt_serialize *s);
void lwkt_serialize_enter(struct lwkt_serialize *s);
void lwkt_serialize_exit(struct lwkt_serialize *s);

#endif
