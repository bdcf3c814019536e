/*
 * In-guest tests of messages and ports, on 1, 2 and 4 CPUs (the boot
 * harness's sched runs include the msgport group). A lost or duplicated
 * message, a lost wakeup or a deadlock fails or hangs a test.
 */
#include <errno.h>
#include <string.h>
#include "core/ktest.h"
#include "msgport/msgport.h"

#define MS	 1000000ULL
#define PINGPONG 100000

static struct lwkt_port *volatile server_port;
static volatile uint64_t server_bad, server_got;

/* Answers every message with its ms_arg plus one; ms_arg == ~0 stops. */
static void
echo_server(void *arg)
{
	struct lwkt_port *port = lwkt_thread_port();
	uint64_t expect = 0;
	bool sequential = arg != NULL;

	server_got = server_bad = 0;
	__atomic_store_n(&server_port, port, __ATOMIC_RELEASE);
	for (;;) {
		struct lwkt_msg *msg = lwkt_waitport(port, 0);
		uint64_t v = msg->ms_arg;
		if (v == ~0ULL) {
			lwkt_replymsg(msg, 0);
			break;
		}
		if (sequential && v != expect)
			server_bad++;
		expect = v + 1;
		server_got++;
		msg->ms_arg = v + 1;
		lwkt_replymsg(msg, 7);
	}
}

static struct thread *
start_server(int cpu, bool sequential)
{
	struct thread *td;

	server_port = NULL;
	KT_ASSERT_EQ(lwkt_create(echo_server, sequential ? (void *)1 : NULL,
			 &td, cpu, TDPRI_KERN, TDF_JOINABLE | TDF_NOFPU, 0,
			 "echo"),
	    0);
	while (__atomic_load_n(&server_port, __ATOMIC_ACQUIRE) == NULL)
		tsleep(&server_port, "srv", MS);
	return td;
}

static void
stop_server(struct thread *td)
{
	struct lwkt_msg m;

	lwkt_initmsg(&m, lwkt_thread_port(), 0);
	m.ms_arg = ~0ULL;
	KT_ASSERT_EQ(lwkt_domsg(server_port, &m), 0);
	lwkt_join(td);
}

/*
 * 100,000 synchronous messages to a thread on another CPU (the same one on
 * a single CPU): every one answered once, in order, with its own value.
 */
KTEST(msgport, pingpong_100k)
{
	int cpu = (int)lwkt_ncpus - 1;
	struct thread *td = start_server(cpu, true);
	struct lwkt_msg m;
	uint64_t i;

	lwkt_initmsg(&m, lwkt_thread_port(), 0);
	for (i = 0; i < PINGPONG; i++) {
		m.ms_arg = i;
		KT_ASSERT_EQ(lwkt_domsg(server_port, &m), 7);
		if (m.ms_arg != i + 1)
			ktest_fail(__FILE__, __LINE__, "reply %lu carried %lu",
			    (unsigned long)i, (unsigned long)m.ms_arg);
		KT_ASSERT(m.ms_flags & MSGF_DONE);
		KT_ASSERT(m.ms_flags & MSGF_REPLY);
	}
	KT_ASSERT_EQ(server_got, PINGPONG);
	KT_ASSERT_EQ(server_bad, 0);
	stop_server(td);
	kprintf("ktest: %d round trips between CPU %d and CPU %d\n", PINGPONG,
	    mycpuid, cpu);
}

/*
 * Asynchronous sends, 32 in flight: every reply comes back to our own
 * port exactly once.
 */
KTEST(msgport, async_window)
{
	enum { N = 20000, WINDOW = 32 };
	static struct lwkt_msg msgs[WINDOW];
	static uint8_t seen[N];
	struct lwkt_port *me = lwkt_thread_port();
	struct thread *td = start_server((int)lwkt_ncpus - 1, false);
	int sent = 0, done = 0, i;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < WINDOW; i++) {
		lwkt_initmsg(&msgs[i], me, 0);
		msgs[i].ms_arg = (uint64_t)sent++;
		lwkt_sendmsg(server_port, &msgs[i]);
	}
	while (done < N) {
		struct lwkt_msg *r = lwkt_waitport(me, 0);
		uint64_t v = r->ms_arg - 1;
		KT_ASSERT(v < N);
		KT_ASSERT_EQ(seen[v], 0);
		seen[v] = 1;
		KT_ASSERT_EQ(r->ms_error, 7);
		done++;
		if (sent < N) {
			r->ms_arg = (uint64_t)sent++;
			lwkt_sendmsg(server_port, r);
		}
	}
	KT_ASSERT(lwkt_getport(me) == NULL);
	stop_server(td);
}

static void
bump_dispatch(struct lwkt_msg *msg)
{
	msg->ms_arg++;
	lwkt_replymsg(msg, -EAGAIN);
}

/* A synchronous message to one's own port runs inline (with a dispatch
 * function) or is refused as the deadlock it would be. */
KTEST(msgport, domsg_own_port)
{
	struct lwkt_port *me = lwkt_thread_port();
	struct lwkt_msg m;

	lwkt_initmsg(&m, me, 0);
	m.ms_dispatch = bump_dispatch;
	m.ms_arg = 41;
	KT_ASSERT_EQ(lwkt_domsg(me, &m), -EAGAIN);
	KT_ASSERT_EQ(m.ms_arg, 42);
	m.ms_dispatch = NULL;
	KT_EXPECT_PANIC("would wait for ever", lwkt_domsg(me, &m));
}

/* Misuse: replying twice, sending a message in flight, the wrong owner. */
KTEST(msgport, misuse_caught)
{
	struct lwkt_port sp, *me = lwkt_thread_port();
	struct lwkt_msg m, *got;

	lwkt_initport_spin(&sp, "misuse");
	lwkt_initmsg(&m, me, 0);
	KT_EXPECT_PANIC("replied twice (or never sent)", lwkt_replymsg(&m, 0));
	lwkt_initmsg(&m, me, 0);
	lwkt_sendmsg(&sp, &m);
	KT_EXPECT_PANIC("while still in flight", lwkt_sendmsg(&sp, &m));
	KT_EXPECT_PANIC("replied while still queued", lwkt_replymsg(&m, 0));
	got = lwkt_getport(&sp);
	KT_ASSERT(got == &m);
	lwkt_replymsg(&m, 0);
	KT_EXPECT_PANIC("replied twice", lwkt_replymsg(&m, 0));
	KT_ASSERT_EQ(lwkt_waitmsg(&m, 0), 0);
	KT_ASSERT(lwkt_getport(me) == NULL); /* the wait took it off */
}

static volatile int spin_handled[4];
static struct lwkt_port shared_port;
static volatile bool shared_stop;

static void
spin_receiver(void *arg)
{
	int id = (int)(uintptr_t)arg;

	for (;;) {
		struct lwkt_msg *msg = lwkt_waitport(&shared_port, 0);
		if (msg->ms_arg == ~0ULL) {
			lwkt_replymsg(msg, 0);
			return;
		}
		spin_handled[id]++;
		lwkt_replymsg(msg, (int)msg->ms_arg);
	}
}

static void
many_receivers(struct lwkt_port *port, int n)
{
	struct thread *td[4];
	static struct lwkt_msg msgs[64];
	struct lwkt_port rp;
	int i, total = 0;

	lwkt_initport_spin(&rp, "replies");
	memset((void *)spin_handled, 0, sizeof(spin_handled));
	for (i = 0; i < 4; i++)
		KT_ASSERT_EQ(lwkt_create(spin_receiver, (void *)(uintptr_t)i,
				 &td[i], i % (int)lwkt_ncpus, TDPRI_KERN,
				 TDF_JOINABLE, 0, "recv"),
		    0);
	for (i = 0; i < 64; i++) {
		lwkt_initmsg(&msgs[i], &rp, 0);
		msgs[i].ms_arg = (uint64_t)i;
		lwkt_sendmsg(port, &msgs[i]);
	}
	for (i = 0; i < n; i++) {
		struct lwkt_msg *r = lwkt_waitport(&rp, 0);
		KT_ASSERT_EQ(r->ms_error, (int)r->ms_arg);
		if (i + 64 < n) {
			r->ms_arg = (uint64_t)(i + 64);
			lwkt_sendmsg(port, r);
		}
	}
	for (i = 0; i < 4; i++) {
		struct lwkt_msg stop;
		lwkt_initmsg(&stop, &rp, 0);
		stop.ms_arg = ~0ULL;
		KT_ASSERT_EQ(lwkt_domsg(port, &stop), 0);
	}
	for (i = 0; i < 4; i++) {
		lwkt_join(td[i]);
		total += spin_handled[i];
	}
	KT_ASSERT_EQ(total, n);
	KT_ASSERT(lwkt_getport(&rp) == NULL);
}

/* A spin port with four receivers on different CPUs. */
KTEST(msgport, spin_port_receivers)
{
	lwkt_initport_spin(&shared_port, "shared");
	many_receivers(&shared_port, 5000);
	KT_ASSERT_EQ(shared_port.mp_received, 5000 + 4);
}

/* The same through a serializer port. */
KTEST(msgport, serializer_port_receivers)
{
	static struct lwkt_serialize slz;

	lwkt_serialize_init(&slz);
	lwkt_initport_serialize(&shared_port, &slz, "slzport");
	many_receivers(&shared_port, 3000);
}

static volatile int freed;
static void
free_on_reply(struct lwkt_msg *msg)
{
	freed++;
	memset(msg, 0, sizeof(*msg)); /* as a free would */
}

/* Reply-only ports: a callback (here: a stand-in for free), or mark-done
 * with a waiter. */
KTEST(msgport, replyonly_ports)
{
	struct lwkt_port cb, done, sp;
	struct lwkt_msg m, *got;

	lwkt_initport_replyonly(&cb, free_on_reply, "freeing");
	lwkt_initport_replyonly(&done, NULL, "done");
	lwkt_initport_spin(&sp, "target");
	freed = 0;
	lwkt_initmsg(&m, &cb, 0);
	lwkt_sendmsg(&sp, &m);
	got = lwkt_getport(&sp);
	lwkt_replymsg(got, 0);
	KT_ASSERT_EQ(freed, 1);
	lwkt_initmsg(&m, &done, 0);
	lwkt_sendmsg(&sp, &m);
	KT_ASSERT(!lwkt_checkmsg(&m));
	lwkt_replymsg(lwkt_getport(&sp), 5);
	KT_ASSERT(lwkt_checkmsg(&m));
	KT_ASSERT_EQ(lwkt_waitmsg(&m, 0), 5);
	KT_EXPECT_PANIC("port done, which takes no messages",
	    lwkt_sendmsg(&done, &m));
}

KTEST(msgport, panic_port)
{
	struct lwkt_port p;
	struct lwkt_msg m;

	lwkt_initport_panic(&p, "never");
	lwkt_initmsg(&m, &p, 0);
	KT_EXPECT_PANIC("port never, which takes no messages",
	    lwkt_sendmsg(&p, &m));
	KT_EXPECT_PANIC("port never cannot be received from", lwkt_getport(&p));
	KT_EXPECT_PANIC("port never cannot be waited on", lwkt_waitport(&p, 0));
}

/* Dropping and aborting queued messages; aborting a received one. */
KTEST(msgport, drop_and_abort)
{
	struct lwkt_port sp, *me = lwkt_thread_port();
	struct lwkt_msg a, b, c, *got;

	lwkt_initport_spin(&sp, "nobody");
	lwkt_initmsg(&a, me, MSGF_DROPABLE);
	lwkt_initmsg(&b, me, MSGF_ABORTABLE);
	lwkt_initmsg(&c, me, MSGF_ABORTABLE);
	lwkt_sendmsg(&sp, &a);
	lwkt_sendmsg(&sp, &b);
	lwkt_sendmsg(&sp, &c);
	KT_ASSERT_EQ(lwkt_dropmsg(&a), 0);
	KT_ASSERT(lwkt_checkmsg(&a)); /* back with us, unreplied */
	KT_ASSERT(!(a.ms_flags & MSGF_REPLY));
	KT_ASSERT_EQ(lwkt_dropmsg(&a), -ENOENT);
	lwkt_abortmsg(&b); /* still queued: replied -ECANCELED */
	KT_ASSERT_EQ(lwkt_waitmsg(&b, 0), -ECANCELED);
	got = lwkt_getport(&sp);
	KT_ASSERT(got == &c);
	lwkt_abortmsg(&c); /* received: only marked */
	KT_ASSERT(lwkt_msg_aborted(&c));
	KT_ASSERT(!lwkt_checkmsg(&c));
	lwkt_replymsg(&c, -EINTR);
	KT_ASSERT_EQ(lwkt_waitmsg(&c, 0), -EINTR);
	KT_ASSERT(lwkt_getport(&sp) == NULL);
}

static struct lwkt_port fwd_port, final_port;

static void
forwarder(void *arg)
{
	struct lwkt_msg *m = lwkt_waitport(&fwd_port, 0);
	lwkt_forwardmsg(&final_port, m);
}

static void
finisher(void *arg)
{
	struct lwkt_msg *m = lwkt_waitport(&final_port, 0);
	m->ms_arg *= 2;
	lwkt_replymsg(m, 0);
}

/* A message forwarded by its receiver is answered by the last one, to the
 * original sender. */
KTEST(msgport, forward)
{
	struct thread *t1, *t2;
	struct lwkt_msg m;

	lwkt_initport_spin(&fwd_port, "fwd");
	lwkt_initport_spin(&final_port, "final");
	KT_ASSERT_EQ(lwkt_create(forwarder, NULL, &t1, 0, TDPRI_KERN,
			 TDF_JOINABLE, 0, "fwd"),
	    0);
	KT_ASSERT_EQ(lwkt_create(finisher, NULL, &t2, (int)lwkt_ncpus - 1,
			 TDPRI_KERN, TDF_JOINABLE, 0, "fin"),
	    0);
	lwkt_initmsg(&m, lwkt_thread_port(), 0);
	m.ms_arg = 21;
	KT_ASSERT_EQ(lwkt_domsg(&fwd_port, &m), 0);
	KT_ASSERT_EQ(m.ms_arg, 42);
	lwkt_join(t1);
	lwkt_join(t2);
}

/* Waits that time out. */
KTEST(msgport, timeouts)
{
	struct lwkt_port sp, *me = lwkt_thread_port();
	struct lwkt_msg m;
	uint64_t t0 = arch_nanotime();

	lwkt_initport_spin(&sp, "silent");
	KT_ASSERT(lwkt_waitport(me, 5 * MS) == NULL);
	KT_ASSERT(arch_nanotime() - t0 >= 5 * MS);
	KT_ASSERT(lwkt_waitport(&sp, 5 * MS) == NULL);
	lwkt_initmsg(&m, me, MSGF_DROPABLE);
	lwkt_sendmsg(&sp, &m);
	KT_ASSERT_EQ(lwkt_waitmsg(&m, 5 * MS), -ETIMEDOUT);
	KT_ASSERT_EQ(lwkt_dropmsg(&m), 0);
}
