/*
 * Messages and ports (see msgport.h for the model and the rules).
 *
 * Flags are changed with atomic operations: the sender, the receiver and
 * the reply port's CPU may touch the same message. A thread port's queue
 * is touched only on its owner's CPU, in a critical section; a message
 * or a reply for it from another CPU travels there by IPI (INTRANSIT
 * meanwhile), so thread ports take no locks. Waiting on a thread port is
 * descheduling and switching; the sender wakes the owner by scheduling it
 * when the port is marked WAITING.
 *
 * Spin, serializer and reply-only ports share one implementation under a
 * lock of their kind (struct port_lockops), sleeping so that no wakeup
 * falls between a check and a sleep.
 */
#include <errno.h>
#include <string.h>
#include "msgport/msgport.h"

static void
msg_set(struct lwkt_msg *msg, uint32_t f)
{
	__atomic_or_fetch(&msg->ms_flags, f, __ATOMIC_RELEASE);
}

static void
msg_clr(struct lwkt_msg *msg, uint32_t f)
{
	__atomic_and_fetch(&msg->ms_flags, ~f, __ATOMIC_RELEASE);
}

static uint32_t
msg_flags(const struct lwkt_msg *msg)
{
	return __atomic_load_n(&msg->ms_flags, __ATOMIC_ACQUIRE);
}

static void
queue_msg(struct lwkt_port *port, struct lwkt_msg *msg)
{
	TAILQ_INSERT_TAIL(&port->mp_msgq, msg, ms_node);
	msg_set(msg, MSGF_QUEUED);
}

static void
unqueue_msg(struct lwkt_port *port, struct lwkt_msg *msg)
{
	TAILQ_REMOVE(&port->mp_msgq, msg, ms_node);
	msg_clr(msg, MSGF_QUEUED);
}

static struct lwkt_msg *
dequeue_first(struct lwkt_port *port)
{
	struct lwkt_msg *msg = TAILQ_FIRST(&port->mp_msgq);

	if (msg != NULL)
		unqueue_msg(port, msg);
	return msg;
}

/* ---------------------------------------------------------------- */
/* Panic stubs for operations a kind of port does not support       */
/* ---------------------------------------------------------------- */

static int
panic_putport(struct lwkt_port *port, struct lwkt_msg *msg)
{
	panic("msgport: message %p sent to port %s, which takes no messages",
	    msg, port->mp_name);
}

static struct lwkt_msg *
panic_getport(struct lwkt_port *port)
{
	panic("msgport: port %s cannot be received from", port->mp_name);
}

static struct lwkt_msg *
panic_waitport(struct lwkt_port *port, uint64_t timo)
{
	panic("msgport: port %s cannot be waited on", port->mp_name);
}

static int
panic_waitmsg(struct lwkt_msg *msg, uint64_t timo)
{
	panic("msgport: no waiting for message %p on port %s", msg,
	    msg->ms_reply_port->mp_name);
}

static void
panic_replyport(struct lwkt_port *port, struct lwkt_msg *msg)
{
	panic("msgport: message %p replied to port %s, which takes no "
	      "replies",
	    msg, port->mp_name);
}

static int
panic_dropmsg(struct lwkt_port *port, struct lwkt_msg *msg)
{
	panic("msgport: messages cannot be dropped from port %s",
	    port->mp_name);
}

static void
port_init(struct lwkt_port *port, const char *name)
{
	memset(port, 0, sizeof(*port));
	TAILQ_INIT(&port->mp_msgq);
	port->mp_lock = (struct spinlock)SPINLOCK_INIT;
	port->mp_name = name;
	port->mp_putport = panic_putport;
	port->mp_getport = panic_getport;
	port->mp_waitport = panic_waitport;
	port->mp_waitmsg = panic_waitmsg;
	port->mp_replyport = panic_replyport;
	port->mp_dropmsg = panic_dropmsg;
}

/* ---------------------------------------------------------------- */
/* Thread ports                                                     */
/* ---------------------------------------------------------------- */

static struct thread *
owner_of(struct lwkt_port *port)
{
	return port->mpu.td;
}

/* On the owner's CPU, in a critical section. */
static void
wake_owner(struct lwkt_port *port)
{
	if (port->mp_flags & MSGPORTF_WAITING) {
		port->mp_flags &= ~MSGPORTF_WAITING;
		lwkt_schedule(owner_of(port));
	}
}

static void thread_putport_here(void *arg);

/* Runs fn(msg) on the port owner's CPU: here, or there by IPI. */
static void
on_owner_cpu(struct lwkt_port *port, struct lwkt_msg *msg, ipifunc_t fn)
{
	struct thread *td = owner_of(port);

	if (td->td_gd == mycpu) {
		crit_enter();
		fn(msg);
		crit_exit();
	} else {
		msg_set(msg, MSGF_INTRANSIT);
		lwkt_send_ipiq(td->td_gd->gd_cpuid, fn, msg);
	}
}

static void
thread_putport_here(void *arg)
{
	struct lwkt_msg *msg = arg;
	struct lwkt_port *port = msg->ms_target_port;

	if (owner_of(port)->td_gd != mycpu) { /* the owner moved on */
		lwkt_send_ipiq(owner_of(port)->td_gd->gd_cpuid,
		    thread_putport_here, msg);
		return;
	}
	msg_clr(msg, MSGF_INTRANSIT);
	queue_msg(port, msg);
	port->mp_received++;
	wake_owner(port);
}

static int
thread_putport(struct lwkt_port *port, struct lwkt_msg *msg)
{
	on_owner_cpu(port, msg, thread_putport_here);
	return EASYNC;
}

static void
thread_replyport_here(void *arg)
{
	struct lwkt_msg *msg = arg;
	struct lwkt_port *port = msg->ms_reply_port;

	if (owner_of(port)->td_gd != mycpu) {
		lwkt_send_ipiq(owner_of(port)->td_gd->gd_cpuid,
		    thread_replyport_here, msg);
		return;
	}
	msg_clr(msg, MSGF_INTRANSIT);
	/* A synchronous message is not queued: its sender waits on it. */
	if (!(msg_flags(msg) & MSGF_SYNC))
		queue_msg(port, msg);
	msg_set(msg, MSGF_DONE | MSGF_REPLY);
	wake_owner(port);
}

static void
thread_replyport(struct lwkt_port *port, struct lwkt_msg *msg)
{
	on_owner_cpu(port, msg, thread_replyport_here);
}

static void
check_owner(struct lwkt_port *port, const char *what)
{
	if (owner_of(port) != curthread)
		panic("msgport: %s on thread port %s by %s, not its owner %s",
		    what, port->mp_name, curthread->td_name,
		    owner_of(port)->td_name);
}

/*
 * Deschedules the owner until a sender schedules it, or the timeout.
 * Returns false on timeout. In a critical section, WAITING set.
 */
static void
owner_wake_timer(void *arg)
{
	struct lwkt_port *port = arg;

	port->mp_flags &= ~MSGPORTF_WAITING;
	lwkt_schedule(owner_of(port));
}

static void
owner_block(struct lwkt_port *port, uint64_t deadline)
{
	struct callout c;

	callout_init(&c);
	port->mp_flags |= MSGPORTF_WAITING;
	lwkt_deschedule_self();
	if (deadline != 0)
		callout_reset(&c, deadline - arch_nanotime(), owner_wake_timer,
		    port);
	lwkt_switch();
	if (deadline != 0)
		callout_stop(&c);
}

static uint64_t
deadline_of(uint64_t timo)
{
	return timo == 0 ? 0 : arch_nanotime() + timo;
}

static bool
expired(uint64_t deadline)
{
	return deadline != 0 && arch_nanotime() >= deadline;
}

/* For sleeps: 0 (no limit) without a deadline, at least 1 ns with one. */
static uint64_t
time_left(uint64_t deadline)
{
	uint64_t now = arch_nanotime();

	if (deadline == 0)
		return 0;
	return deadline > now ? deadline - now : 1;
}

static struct lwkt_msg *
thread_getport(struct lwkt_port *port)
{
	struct lwkt_msg *msg;

	check_owner(port, "getport");
	crit_enter();
	msg = dequeue_first(port);
	crit_exit();
	return msg;
}

static struct lwkt_msg *
thread_waitport(struct lwkt_port *port, uint64_t timo)
{
	uint64_t deadline = deadline_of(timo);
	struct lwkt_msg *msg;

	check_owner(port, "waitport");
	crit_enter();
	while ((msg = dequeue_first(port)) == NULL && !expired(deadline))
		owner_block(port, deadline);
	port->mp_flags &= ~MSGPORTF_WAITING;
	crit_exit();
	return msg;
}

static int
thread_waitmsg(struct lwkt_msg *msg, uint64_t timo)
{
	struct lwkt_port *port = msg->ms_reply_port;
	uint64_t deadline = deadline_of(timo);

	check_owner(port, "waitmsg");
	crit_enter();
	while (!(msg_flags(msg) & MSGF_DONE) && !expired(deadline))
		owner_block(port, deadline);
	port->mp_flags &= ~MSGPORTF_WAITING;
	if (!(msg_flags(msg) & MSGF_DONE)) {
		crit_exit();
		return -ETIMEDOUT;
	}
	if (msg_flags(msg) & MSGF_QUEUED)
		unqueue_msg(port, msg); /* an asynchronous reply */
	crit_exit();
	return msg->ms_error;
}

struct drop_req {
	struct lwkt_msg *dr_msg;
	bool dr_done;
};

static void
thread_drop_here(void *arg)
{
	struct drop_req *r = arg;
	struct lwkt_msg *msg = r->dr_msg;
	struct lwkt_port *port = msg->ms_target_port;

	r->dr_done = false;
	if ((msg_flags(msg) & MSGF_QUEUED) && !(msg_flags(msg) & MSGF_DONE)) {
		unqueue_msg(port, msg);
		r->dr_done = true;
	}
}

static int
thread_unqueue(struct lwkt_port *port, struct lwkt_msg *msg)
{
	struct drop_req r = { msg, false };
	struct thread *td = owner_of(port);
	unsigned cpu = td->td_gd->gd_cpuid;

	if (td->td_gd == mycpu) {
		crit_enter();
		thread_drop_here(&r);
		crit_exit();
	} else {
		lwkt_wait_ipiq(cpu, lwkt_send_ipiq(cpu, thread_drop_here, &r));
	}
	return r.dr_done ? 0 : -ENOENT;
}

void
lwkt_initport_thread(struct lwkt_port *port, struct thread *td)
{
	port_init(port, td->td_name);
	port->mpu.td = td;
	port->mp_putport = thread_putport;
	port->mp_getport = thread_getport;
	port->mp_waitport = thread_waitport;
	port->mp_waitmsg = thread_waitmsg;
	port->mp_replyport = thread_replyport;
	port->mp_dropmsg = thread_unqueue;
}

static void
thread_port_free(struct thread *td)
{
	kfree(td->td_msgport, sizeof(struct lwkt_port));
	td->td_msgport = NULL;
}

struct lwkt_port *
lwkt_thread_port(void)
{
	struct thread *td = curthread;
	struct lwkt_port *port = td->td_msgport;

	if (port == NULL) {
		port = kmalloc(sizeof(*port), KM_ZERO);
		if (port == NULL)
			return NULL;
		lwkt_initport_thread(port, td);
		td->td_msgport = port;
		td->td_msgport_free = thread_port_free;
	}
	return port;
}

/* ---------------------------------------------------------------- */
/* Locked ports: spin, serializer and reply-only                    */
/* ---------------------------------------------------------------- */

/*
 * Spin and serializer ports work alike and differ only in their lock: a
 * spinlock (mp_lock), or a serializer that may be held across blocking.
 * lk_sleep releases the lock and sleeps on ident as one step (the thread
 * is on ident's sleep queue before the lock is released, so a wakeup
 * under the lock is not lost), then takes the lock again.
 */
struct port_lockops {
	void (*lk_lock)(struct lwkt_port *);
	void (*lk_unlock)(struct lwkt_port *);
	void (*lk_sleep)(struct lwkt_port *, const volatile void *ident,
	    uint64_t deadline);
};

static void
spin_port_lock(struct lwkt_port *port)
{
	spin_lock(&port->mp_lock);
}

static void
spin_port_unlock(struct lwkt_port *port)
{
	spin_unlock(&port->mp_lock);
}

static void
spin_port_sleep(struct lwkt_port *port, const volatile void *ident,
    uint64_t deadline)
{
	ssleep(ident, &port->mp_lock, "waitport", time_left(deadline));
	spin_lock(&port->mp_lock);
}

static const struct port_lockops spin_lockops = { spin_port_lock,
	spin_port_unlock, spin_port_sleep };

static void
slz_port_lock(struct lwkt_port *port)
{
	lwkt_serialize_enter(port->mpu.slz);
}

static void
slz_port_unlock(struct lwkt_port *port)
{
	lwkt_serialize_exit(port->mpu.slz);
}

static void
slz_port_sleep(struct lwkt_port *port, const volatile void *ident,
    uint64_t deadline)
{
	tsleep_interlock(ident, "slzwait");
	lwkt_serialize_exit(port->mpu.slz);
	tsleep_interlocked(ident, time_left(deadline));
	lwkt_serialize_enter(port->mpu.slz);
}

static const struct port_lockops slz_lockops = { slz_port_lock, slz_port_unlock,
	slz_port_sleep };

static int
locked_putport(struct lwkt_port *port, struct lwkt_msg *msg)
{
	bool wake;

	port->mp_lockops->lk_lock(port);
	queue_msg(port, msg);
	port->mp_received++;
	wake = port->mp_waiters > 0;
	port->mp_lockops->lk_unlock(port);
	if (wake)
		wakeup_one(port);
	return EASYNC;
}

static struct lwkt_msg *
locked_getport(struct lwkt_port *port)
{
	struct lwkt_msg *msg;

	port->mp_lockops->lk_lock(port);
	msg = dequeue_first(port);
	port->mp_lockops->lk_unlock(port);
	return msg;
}

static struct lwkt_msg *
locked_waitport(struct lwkt_port *port, uint64_t timo)
{
	uint64_t deadline = deadline_of(timo);
	struct lwkt_msg *msg;

	port->mp_lockops->lk_lock(port);
	while ((msg = dequeue_first(port)) == NULL && !expired(deadline)) {
		port->mp_waiters++;
		port->mp_lockops->lk_sleep(port, port, deadline);
		port->mp_waiters--;
	}
	port->mp_lockops->lk_unlock(port);
	return msg;
}

static void
locked_replyport(struct lwkt_port *port, struct lwkt_msg *msg)
{
	bool wake_port = false;

	port->mp_lockops->lk_lock(port);
	if (!(msg_flags(msg) & MSGF_SYNC)) {
		queue_msg(port, msg);
		wake_port = port->mp_waiters > 0;
	}
	msg_set(msg, MSGF_DONE | MSGF_REPLY);
	port->mp_lockops->lk_unlock(port);
	wakeup(msg);
	if (wake_port)
		wakeup_one(port);
}

static int
locked_waitmsg(struct lwkt_msg *msg, uint64_t timo)
{
	struct lwkt_port *port = msg->ms_reply_port;
	uint64_t deadline = deadline_of(timo);
	int r;

	port->mp_lockops->lk_lock(port);
	while (!(msg_flags(msg) & MSGF_DONE) && !expired(deadline))
		port->mp_lockops->lk_sleep(port, msg, deadline);
	r = (msg_flags(msg) & MSGF_DONE) ? msg->ms_error : -ETIMEDOUT;
	if ((msg_flags(msg) & (MSGF_DONE | MSGF_QUEUED)) ==
	    (MSGF_DONE | MSGF_QUEUED))
		unqueue_msg(port, msg);
	port->mp_lockops->lk_unlock(port);
	return r;
}

static int
locked_unqueue(struct lwkt_port *port, struct lwkt_msg *msg)
{
	int r = -ENOENT;

	port->mp_lockops->lk_lock(port);
	if ((msg_flags(msg) & MSGF_QUEUED) && !(msg_flags(msg) & MSGF_DONE)) {
		unqueue_msg(port, msg);
		r = 0;
	}
	port->mp_lockops->lk_unlock(port);
	return r;
}

static void
locked_port_init(struct lwkt_port *port, const struct port_lockops *ops,
    const char *name)
{
	port_init(port, name);
	port->mp_lockops = ops;
	port->mp_putport = locked_putport;
	port->mp_getport = locked_getport;
	port->mp_waitport = locked_waitport;
	port->mp_waitmsg = locked_waitmsg;
	port->mp_replyport = locked_replyport;
	port->mp_dropmsg = locked_unqueue;
}

void
lwkt_initport_spin(struct lwkt_port *port, const char *name)
{
	locked_port_init(port, &spin_lockops, name);
}

void
lwkt_initport_serialize(struct lwkt_port *port, struct lwkt_serialize *slz,
    const char *name)
{
	locked_port_init(port, &slz_lockops, name);
	port->mpu.slz = slz;
}

static void
replyonly_replyport(struct lwkt_port *port, struct lwkt_msg *msg)
{
	if (port->mpu.replyfn != NULL) {
		msg_set(msg, MSGF_DONE | MSGF_REPLY);
		port->mpu.replyfn(msg); /* may free msg */
		return;
	}
	spin_lock(&port->mp_lock);
	msg_set(msg, MSGF_DONE | MSGF_REPLY);
	spin_unlock(&port->mp_lock);
	wakeup(msg);
}

void
lwkt_initport_replyonly(struct lwkt_port *port,
    void (*replyfn)(struct lwkt_msg *), const char *name)
{
	port_init(port, name);
	port->mpu.replyfn = replyfn;
	port->mp_replyport = replyonly_replyport;
	if (replyfn == NULL) {
		/* mark-done: a sender may wait, under mp_lock */
		port->mp_lockops = &spin_lockops;
		port->mp_waitmsg = locked_waitmsg;
	}
}

void
lwkt_initport_panic(struct lwkt_port *port, const char *name)
{
	port_init(port, name);
}

/* ---------------------------------------------------------------- */
/* Serializers                                                      */
/* ---------------------------------------------------------------- */

void
lwkt_serialize_init(struct lwkt_serialize *s)
{
	s->sz_spin = (struct spinlock)SPINLOCK_INIT;
	s->sz_owner = NULL;
	s->sz_waiters = 0;
}

void
lwkt_serialize_enter(struct lwkt_serialize *s)
{
	spin_lock(&s->sz_spin);
	if (s->sz_owner == curthread) {
		spin_unlock(&s->sz_spin); /* a test may catch the panic */
		panic("lwkt_serialize_enter: already held by %s",
		    curthread->td_name);
	}
	while (s->sz_owner != NULL) {
		s->sz_waiters++;
		ssleep(s, &s->sz_spin, "slz", 0);
		spin_lock(&s->sz_spin);
		s->sz_waiters--;
	}
	s->sz_owner = curthread;
	spin_unlock(&s->sz_spin);
}

void
lwkt_serialize_exit(struct lwkt_serialize *s)
{
	bool wake;

	spin_lock(&s->sz_spin);
	if (s->sz_owner != curthread) {
		spin_unlock(&s->sz_spin); /* a test may catch the panic */
		panic("lwkt_serialize_exit: not held by %s",
		    curthread->td_name);
	}
	s->sz_owner = NULL;
	wake = s->sz_waiters > 0;
	spin_unlock(&s->sz_spin);
	if (wake)
		wakeup_one(s);
}

/* ---------------------------------------------------------------- */
/* Messages                                                         */
/* ---------------------------------------------------------------- */

void
lwkt_initmsg(struct lwkt_msg *msg, struct lwkt_port *reply_port, uint32_t flags)
{
	memset(msg, 0, sizeof(*msg));
	msg->ms_reply_port = reply_port;
	msg->ms_flags = MSGF_DONE | (flags & (MSGF_ABORTABLE | MSGF_DROPABLE));
}

/* Takes a message from its sender for a new trip to port. */
static void
begin(struct lwkt_msg *msg, struct lwkt_port *port, uint32_t sync)
{
	uint32_t f = msg_flags(msg);

	if (!(f & MSGF_DONE))
		panic("msgport: message %p sent to %s while still in flight",
		    msg, port->mp_name);
	if (f & MSGF_QUEUED)
		panic("msgport: message %p sent to %s while its reply is still "
		      "queued on %s",
		    msg, port->mp_name, msg->ms_reply_port->mp_name);
	__atomic_store_n(&msg->ms_flags,
	    (f & (MSGF_ABORTABLE | MSGF_DROPABLE)) | sync, __ATOMIC_RELEASE);
	msg->ms_target_port = port;
	msg->ms_error = 0;
}

/* Is port one that the calling thread itself receives from? */
static bool
own_port(struct lwkt_port *port)
{
	return port->mp_putport == thread_putport &&
	    owner_of(port) == curthread;
}

int
lwkt_domsg(struct lwkt_port *port, struct lwkt_msg *msg)
{
	int r;

	begin(msg, port, MSGF_SYNC);
	if (own_port(port)) {
		if (msg->ms_dispatch == NULL)
			panic("msgport: synchronous message %p to its sender's "
			      "own port %s would wait for ever",
			    msg, port->mp_name);
		port->mp_received++;
		msg->ms_dispatch(msg); /* runs inline and replies */
		if (!(msg_flags(msg) & MSGF_DONE))
			panic("msgport: dispatch of %p on %s returned without "
			      "replying",
			    msg, port->mp_name);
		return msg->ms_error;
	}
	r = port->mp_putport(port, msg);
	if (r != EASYNC)
		return r;
	return lwkt_waitmsg(msg, 0);
}

void
lwkt_sendmsg(struct lwkt_port *port, struct lwkt_msg *msg)
{
	begin(msg, port, 0);
	port->mp_putport(port, msg);
}

void
lwkt_forwardmsg(struct lwkt_port *port, struct lwkt_msg *msg)
{
	if (msg_flags(msg) & (MSGF_DONE | MSGF_QUEUED | MSGF_REPLYING))
		panic("msgport: forwarding message %p, which is not held by "
		      "its receiver",
		    msg);
	msg->ms_target_port = port;
	port->mp_putport(port, msg);
}

void
lwkt_replymsg(struct lwkt_msg *msg, int error)
{
	struct lwkt_port *port = msg->ms_reply_port;
	uint32_t old;

	uint32_t f = msg_flags(msg);

	if (f & (MSGF_DONE | MSGF_REPLYING))
		panic("msgport: message %p replied twice (or never sent)", msg);
	if (f & MSGF_QUEUED)
		panic("msgport: message %p replied while still queued on %s",
		    msg, msg->ms_target_port->mp_name);
	/* Claims the reply: of two racing replies, one sees the other. */
	old =
	    __atomic_fetch_or(&msg->ms_flags, MSGF_REPLYING, __ATOMIC_ACQ_REL);
	if (old & (MSGF_DONE | MSGF_REPLYING))
		panic("msgport: message %p replied twice (or never sent)", msg);
	if (port == NULL)
		panic("msgport: message %p has no reply port", msg);
	msg->ms_error = error;
	port->mp_replied++;
	port->mp_replyport(port, msg);
}

int
lwkt_waitmsg(struct lwkt_msg *msg, uint64_t timo_ns)
{
	return msg->ms_reply_port->mp_waitmsg(msg, timo_ns);
}

bool
lwkt_checkmsg(const struct lwkt_msg *msg)
{
	return (msg_flags(msg) & MSGF_DONE) != 0;
}

struct lwkt_msg *
lwkt_getport(struct lwkt_port *port)
{
	return port->mp_getport(port);
}

struct lwkt_msg *
lwkt_waitport(struct lwkt_port *port, uint64_t timo_ns)
{
	return port->mp_waitport(port, timo_ns);
}

int
lwkt_dropmsg(struct lwkt_msg *msg)
{
	struct lwkt_port *port = msg->ms_target_port;

	if (!(msg_flags(msg) & MSGF_DROPABLE))
		panic("msgport: message %p is not DROPABLE", msg);
	if (port == NULL || port->mp_dropmsg(port, msg) < 0)
		return -ENOENT;
	msg_set(msg, MSGF_DONE); /* back with its sender, unreplied */
	return 0;
}

void
lwkt_abortmsg(struct lwkt_msg *msg)
{
	struct lwkt_port *port = msg->ms_target_port;

	if (!(msg_flags(msg) & MSGF_ABORTABLE) ||
	    (msg_flags(msg) & (MSGF_DONE | MSGF_REPLYING)))
		return;
	msg_set(msg, MSGF_ABORTED);
	if (port != NULL && port->mp_dropmsg != panic_dropmsg &&
	    port->mp_dropmsg(port, msg) == 0)
		lwkt_replymsg(msg, -ECANCELED);
}
