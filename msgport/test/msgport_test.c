/*
 * Host unit tests of msgport's logic (Check, ASan+UBSan), on the host
 * stand-in for the scheduler: flags at every step of a message's trip,
 * thread ports across two simulated CPUs with the IPIs delivered when the
 * test says (so "in transit" can be observed), every kind of port, every
 * misuse, and a seeded random workload checked against a model.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/test/shim.h"
#include "msgport/msgport.h"

static struct thread ta, tb; /* ta on CPU 0, tb on CPU 1 */

static void
setup(void)
{
	host_thread_init(&ta, 0, "alice");
	host_thread_init(&tb, 1, "bob");
	host_curthread = &ta;
	host_block_hook = NULL;
	shim_reset_log();
}

static void
teardown(void)
{
	struct thread *tds[] = { &ta, &tb };
	for (int i = 0; i < 2; i++)
		if (tds[i]->td_msgport_free != NULL)
			tds[i]->td_msgport_free(tds[i]);
}

static struct lwkt_port *
port_of(struct thread *td)
{
	struct thread *saved = host_curthread;
	struct lwkt_port *p;

	host_curthread = td;
	p = lwkt_thread_port();
	host_curthread = saved;
	return p;
}

START_TEST(test_flags_lifecycle)
{
	struct lwkt_port sp, rp;
	struct lwkt_msg m;

	lwkt_initport_spin(&sp, "target");
	lwkt_initport_spin(&rp, "replies");
	lwkt_initmsg(&m, &rp, MSGF_DROPABLE);
	ck_assert_uint_eq(m.ms_flags, MSGF_DONE | MSGF_DROPABLE);
	lwkt_sendmsg(&sp, &m);
	ck_assert_uint_eq(m.ms_flags, MSGF_QUEUED | MSGF_DROPABLE);
	ck_assert_ptr_eq(m.ms_target_port, &sp);
	ck_assert_ptr_eq(lwkt_getport(&sp), &m);
	ck_assert_uint_eq(m.ms_flags, MSGF_DROPABLE);
	ck_assert_ptr_null(lwkt_getport(&sp));
	lwkt_replymsg(&m, -EIO);
	ck_assert_uint_eq(m.ms_flags & ~MSGF_REPLYING,
	    MSGF_DONE | MSGF_REPLY | MSGF_QUEUED | MSGF_DROPABLE);
	ck_assert_int_eq(lwkt_waitmsg(&m, 0), -EIO);
	ck_assert(!(m.ms_flags & MSGF_QUEUED));
	ck_assert_ptr_null(lwkt_getport(&rp));
	ck_assert_uint_eq(sp.mp_received, 1);
	ck_assert_uint_eq(rp.mp_replied, 1);
	/* A message may be sent again once done. */
	lwkt_sendmsg(&sp, &m);
	ck_assert_uint_eq(m.ms_flags & (MSGF_DONE | MSGF_REPLY | MSGF_REPLYING),
	    0);
	ck_assert_ptr_eq(lwkt_getport(&sp), &m);
	lwkt_replymsg(&m, 0);
	ck_assert_ptr_eq(lwkt_getport(&rp), &m);
}
END_TEST

/* Thread ports: a message to another CPU's thread is in transit until
 * that CPU runs the IPI; the reply likewise. */
START_TEST(test_thread_ports_across_cpus)
{
	struct lwkt_port *pa = port_of(&ta), *pb = port_of(&tb);
	struct lwkt_msg m, *got;

	lwkt_initmsg(&m, pa, 0);
	host_curthread = &ta;
	lwkt_sendmsg(pb, &m);
	ck_assert(m.ms_flags & MSGF_INTRANSIT);
	ck_assert(!(m.ms_flags & MSGF_QUEUED));
	ck_assert_int_eq(host_pending(1), 1);
	host_deliver(1);
	ck_assert(!(m.ms_flags & MSGF_INTRANSIT));
	ck_assert(m.ms_flags & MSGF_QUEUED);
	host_curthread = &tb;
	got = lwkt_getport(pb);
	ck_assert_ptr_eq(got, &m);
	lwkt_replymsg(got, 3);
	ck_assert(m.ms_flags & MSGF_INTRANSIT); /* back to CPU 0 */
	ck_assert(!(m.ms_flags & MSGF_DONE));
	host_deliver(0);
	ck_assert(m.ms_flags & MSGF_DONE);
	ck_assert(m.ms_flags & MSGF_QUEUED); /* an async reply is queued */
	host_curthread = &ta;
	ck_assert_int_eq(lwkt_waitmsg(&m, 0), 3);
	ck_assert_ptr_null(lwkt_getport(pa));
	/* Only the owner may receive. */
	host_curthread = &tb;
	ck_assert(SHIM_PANICS(lwkt_getport(pa)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "not its owner alice"));
}
END_TEST

/* The blocking hook plays bob: it delivers IPIs and answers. */
static void
bob_serves(void)
{
	struct thread *saved = host_curthread;
	struct lwkt_msg *m;

	host_deliver(1);
	host_curthread = &tb;
	while ((m = lwkt_getport(port_of(&tb))) != NULL) {
		m->ms_arg *= 10;
		lwkt_replymsg(m, (int)m->ms_arg);
	}
	host_curthread = saved;
	host_deliver(0);
}

START_TEST(test_domsg_waits_for_reply)
{
	struct lwkt_msg m;

	host_block_hook = bob_serves;
	lwkt_initmsg(&m, port_of(&ta), 0);
	m.ms_arg = 4;
	ck_assert_int_eq(lwkt_domsg(port_of(&tb), &m), 40);
	ck_assert(m.ms_flags & MSGF_DONE);
	ck_assert(!(m.ms_flags & MSGF_QUEUED)); /* sync: never queued */
	ck_assert_ptr_null(lwkt_getport(port_of(&ta)));
}
END_TEST

static void
plus_one(struct lwkt_msg *m)
{
	m->ms_arg++;
	lwkt_replymsg(m, 0);
}

static void
forgets_to_reply(struct lwkt_msg *m)
{
}

START_TEST(test_domsg_own_port)
{
	struct lwkt_port *pa = port_of(&ta);
	struct lwkt_msg m;

	lwkt_initmsg(&m, pa, 0);
	m.ms_dispatch = plus_one;
	ck_assert_int_eq(lwkt_domsg(pa, &m), 0);
	ck_assert_uint_eq(m.ms_arg, 1);
	m.ms_dispatch = forgets_to_reply;
	ck_assert(SHIM_PANICS(lwkt_domsg(pa, &m)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "without replying"));
	lwkt_initmsg(&m, pa, 0);
	ck_assert(SHIM_PANICS(lwkt_domsg(pa, &m)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "would wait for ever"));
}
END_TEST

START_TEST(test_misuse)
{
	struct lwkt_port sp, rp;
	struct lwkt_msg m;

	lwkt_initport_spin(&sp, "sp");
	lwkt_initport_spin(&rp, "rp");
	lwkt_initmsg(&m, &rp, 0);
	ck_assert(SHIM_PANICS(lwkt_replymsg(&m, 0)));
	ck_assert_ptr_nonnull(
	    strstr(shim_panic_msg, "replied twice (or never sent)"));
	lwkt_initmsg(&m, &rp, 0);
	lwkt_sendmsg(&sp, &m);
	ck_assert(SHIM_PANICS(lwkt_sendmsg(&sp, &m)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "still in flight"));
	ck_assert(SHIM_PANICS(lwkt_replymsg(&m, 0)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "still queued on sp"));
	ck_assert(SHIM_PANICS(lwkt_forwardmsg(&sp, &m)));
	ck_assert_ptr_nonnull(
	    strstr(shim_panic_msg, "not held by its receiver"));
	ck_assert(SHIM_PANICS(lwkt_dropmsg(&m)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "not DROPABLE"));
	lwkt_getport(&sp);
	lwkt_replymsg(&m, 0);
	ck_assert(SHIM_PANICS(lwkt_replymsg(&m, 1)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "replied twice"));
	ck_assert(SHIM_PANICS(lwkt_sendmsg(&sp, &m)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "reply is still queued"));
	/* After all that the message still works. */
	ck_assert_int_eq(lwkt_waitmsg(&m, 0), 0);
	lwkt_sendmsg(&sp, &m);
	ck_assert_ptr_eq(lwkt_getport(&sp), &m);
}
END_TEST

START_TEST(test_panic_port)
{
	struct lwkt_port pp;
	struct lwkt_msg m;

	lwkt_initport_panic(&pp, "never");
	lwkt_initmsg(&m, &pp, 0);
	ck_assert(SHIM_PANICS(lwkt_sendmsg(&pp, &m)));
	ck_assert_ptr_nonnull(
	    strstr(shim_panic_msg, "port never, which takes no messages"));
	ck_assert(SHIM_PANICS(lwkt_getport(&pp)));
	ck_assert(SHIM_PANICS(lwkt_waitport(&pp, 0)));
	ck_assert(SHIM_PANICS(lwkt_waitmsg(&m, 0)));
	ck_assert(SHIM_PANICS(pp.mp_replyport(&pp, &m)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "takes no replies"));
	ck_assert(SHIM_PANICS(pp.mp_dropmsg(&pp, &m)));
}
END_TEST

static int reply_calls;
static void
on_reply(struct lwkt_msg *m)
{
	reply_calls++;
	ck_assert(m->ms_flags & MSGF_DONE);
}

START_TEST(test_replyonly)
{
	struct lwkt_port cb, done, sp;
	struct lwkt_msg m;

	lwkt_initport_replyonly(&cb, on_reply, "cb");
	lwkt_initport_replyonly(&done, NULL, "done");
	lwkt_initport_spin(&sp, "sp");
	lwkt_initmsg(&m, &cb, 0);
	lwkt_sendmsg(&sp, &m);
	lwkt_replymsg(lwkt_getport(&sp), 0);
	ck_assert_int_eq(reply_calls, 1);
	lwkt_initmsg(&m, &done, 0);
	lwkt_sendmsg(&sp, &m);
	lwkt_replymsg(lwkt_getport(&sp), -ENOSPC);
	ck_assert(lwkt_checkmsg(&m));
	ck_assert_int_eq(lwkt_waitmsg(&m, 0), -ENOSPC);
	ck_assert(SHIM_PANICS(lwkt_sendmsg(&cb, &m)));
	ck_assert(SHIM_PANICS(
	    lwkt_waitmsg(&(struct lwkt_msg) { .ms_reply_port = &cb }, 0)));
}
END_TEST

START_TEST(test_drop_and_abort_across_cpus)
{
	struct lwkt_port *pa = port_of(&ta), *pb = port_of(&tb);
	struct lwkt_msg d, a, r;

	lwkt_initmsg(&d, pa, MSGF_DROPABLE);
	lwkt_initmsg(&a, pa, MSGF_ABORTABLE);
	lwkt_initmsg(&r, pa, MSGF_ABORTABLE | MSGF_DROPABLE);
	lwkt_sendmsg(pb, &d);
	lwkt_sendmsg(pb, &a);
	lwkt_sendmsg(pb, &r);
	/* Dropping waits for CPU 1, which first queues all three. */
	ck_assert_int_eq(lwkt_dropmsg(&d), 0);
	ck_assert(d.ms_flags & MSGF_DONE);
	ck_assert(!(d.ms_flags & MSGF_REPLY));
	lwkt_abortmsg(&a);
	host_deliver(0);
	ck_assert_int_eq(lwkt_waitmsg(&a, 0), -ECANCELED);
	host_curthread = &tb;
	ck_assert_ptr_eq(lwkt_getport(pb), &r);
	host_curthread = &ta;
	ck_assert_int_eq(lwkt_dropmsg(&r), -ENOENT); /* already received */
	lwkt_abortmsg(&r);
	ck_assert(lwkt_msg_aborted(&r));
	host_curthread = &tb;
	lwkt_replymsg(&r, -EINTR);
	host_deliver(0);
	host_curthread = &ta;
	ck_assert_int_eq(lwkt_waitmsg(&r, 0), -EINTR);
	/* Aborting a done or non-abortable message does nothing. */
	lwkt_abortmsg(&r);
	ck_assert(!(r.ms_flags & MSGF_QUEUED));
}
END_TEST

START_TEST(test_serializer)
{
	struct lwkt_serialize s;
	struct lwkt_port p;
	struct lwkt_msg m;

	lwkt_serialize_init(&s);
	lwkt_serialize_enter(&s);
	ck_assert(SHIM_PANICS(lwkt_serialize_enter(&s)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "already held by alice"));
	host_curthread = &tb;
	ck_assert(SHIM_PANICS(lwkt_serialize_exit(&s)));
	ck_assert_ptr_nonnull(strstr(shim_panic_msg, "not held by bob"));
	host_curthread = &ta;
	lwkt_serialize_exit(&s);
	lwkt_initport_serialize(&p, &s, "slz");
	lwkt_initmsg(&m, &p, 0);
	lwkt_sendmsg(&p, &m);
	ck_assert_ptr_eq(lwkt_waitport(&p, 0), &m);
	lwkt_replymsg(&m, 9);
	ck_assert_int_eq(lwkt_waitmsg(&m, 0), 9);
	ck_assert_ptr_null(s.sz_owner);
}
END_TEST

/*
 * A seeded random workload over three spin ports and 32 messages, checked
 * after every step against a model of where each message is.
 */
enum where { W_SENDER, W_QUEUED, W_RECEIVED, W_REPLIED };

START_TEST(test_random_model)
{
	enum { NMSG = 32, STEPS = 20000 };
	struct lwkt_port ports[3], rp;
	struct lwkt_msg m[NMSG];
	enum where w[NMSG];
	int at[NMSG], i, step;

	srandom(2026);
	for (i = 0; i < 3; i++)
		lwkt_initport_spin(&ports[i], "p");
	lwkt_initport_spin(&rp, "rp");
	for (i = 0; i < NMSG; i++) {
		lwkt_initmsg(&m[i], &rp, MSGF_DROPABLE);
		w[i] = W_SENDER;
	}
	for (step = 0; step < STEPS; step++) {
		i = (int)(random() % NMSG);
		int p = (int)(random() % 3);
		switch (w[i]) {
		case W_SENDER:
			m[i].ms_arg = (uint64_t)i;
			lwkt_sendmsg(&ports[p], &m[i]);
			w[i] = W_QUEUED;
			at[i] = p;
			break;
		case W_QUEUED:
			if (random() % 4 == 0) {
				ck_assert_int_eq(lwkt_dropmsg(&m[i]), 0);
				w[i] = W_SENDER;
			} else {
				struct lwkt_msg *g =
				    lwkt_getport(&ports[at[i]]);
				ck_assert_ptr_nonnull(g);
				int j = (int)g->ms_arg;
				ck_assert_int_eq(w[j], W_QUEUED);
				ck_assert_int_eq(at[j], at[i]);
				w[j] = W_RECEIVED;
			}
			break;
		case W_RECEIVED:
			if (random() % 3 == 0) {
				lwkt_forwardmsg(&ports[p], &m[i]);
				w[i] = W_QUEUED;
				at[i] = p;
			} else {
				lwkt_replymsg(&m[i], i);
				w[i] = W_REPLIED;
			}
			break;
		case W_REPLIED:
			ck_assert_int_eq(lwkt_waitmsg(&m[i], 0), i);
			w[i] = W_SENDER;
			break;
		}
		ck_assert_int_eq(!!(m[i].ms_flags & MSGF_DONE),
		    w[i] == W_SENDER || w[i] == W_REPLIED);
	}
	/* Everything queued on the reply port was replied, and only that. */
	for (i = 0; i < NMSG; i++)
		ck_assert_int_eq(!!(m[i].ms_flags & MSGF_QUEUED),
		    w[i] == W_QUEUED || w[i] == W_REPLIED);
}
END_TEST

static Suite *
msgport_suite(void)
{
	Suite *s = suite_create("msgport");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_flags_lifecycle);
	tcase_add_test(tc, test_thread_ports_across_cpus);
	tcase_add_test(tc, test_domsg_waits_for_reply);
	tcase_add_test(tc, test_domsg_own_port);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_panic_port);
	tcase_add_test(tc, test_replyonly);
	tcase_add_test(tc, test_drop_and_abort_across_cpus);
	tcase_add_test(tc, test_serializer);
	tcase_add_test(tc, test_random_model);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(msgport_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
