/*
 * Tokens (see sched.h). t_count holds TOK_EXCLUSIVE, and TOK_INCR for
 * each shared holder; t_ref names the exclusive holder's tokref. A thread
 * keeps its tokrefs in td_toks[], in acquisition order.
 *
 * lwkt_gettoken() tries once; on failure the thread switches out (which
 * releases every token it holds) and the scheduler takes them all again,
 * all or none, before it runs it: no thread ever waits for a token while
 * holding another, so tokens cannot deadlock. A thread may take a token it
 * already holds (exclusively or shared) again; releases go in reverse.
 *
 * A token held exclusively by this thread may also be taken shared by it.
 *
 * Only compare-and-swap takes a token, and only its holders' releases
 * decrement it: a thread that finds a token held exclusively by another
 * leaves t_count alone, so the exclusive holder releases with a plain
 * store (one locked instruction per uncontended get/release pair).
 */
#include "sched/sched.h"
#include "sched/sched_internal.h"

#define TOK_EXCLUSIVE 1L
#define TOK_INCR      2L

#define POOL_TOKENS   1024 /* a power of 2 */
static struct lwkt_token pool[POOL_TOKENS];

void
lwkt_token_init(struct lwkt_token *tok, const char *desc)
{
	tok->t_count = 0;
	tok->t_ref = NULL;
	tok->t_desc = desc;
	tok->t_collisions = 0;
}

struct lwkt_token *
lwkt_token_pool_lookup(const void *ptr)
{
	uintptr_t h = (uintptr_t)ptr;

	h ^= h >> 17;
	h *= 0xed5ad4bbU;
	h ^= h >> 11;
	return &pool[h & (POOL_TOKENS - 1)];
}

/* Is tok held exclusively by one of td's refs? */
static bool
owned_by(const struct lwkt_token *tok, const struct thread *td)
{
	const struct lwkt_tokref *r = tok->t_ref;

	return r != NULL && r >= &td->td_toks[0] &&
	    r < &td->td_toks[td->td_ntoks];
}

/* One attempt to take ref's token in ref's mode for td. */
static bool
try_ref(struct lwkt_tokref *ref, struct thread *td)
{
	struct lwkt_token *tok = ref->tr_tok;
	long c = __atomic_load_n(&tok->t_count, __ATOMIC_RELAXED);

	if (ref->tr_mode & TOK_EXCLUSIVE) {
		if (c == 0 &&
		    __atomic_compare_exchange_n(&tok->t_count, &c,
			TOK_EXCLUSIVE, false, __ATOMIC_ACQUIRE,
			__ATOMIC_RELAXED)) {
			tok->t_ref = ref;
			return true;
		}
		if ((c & TOK_EXCLUSIVE) && owned_by(tok, td)) {
			/* recursive: counts as a shared hold by its owner */
			__atomic_add_fetch(&tok->t_count, TOK_INCR,
			    __ATOMIC_RELAXED);
			ref->tr_mode = 0;
			return true;
		}
		return false;
	}
	/* Never written while another thread holds it exclusively, so that
	 * holder can release with a plain store. */
	do {
		if ((c & TOK_EXCLUSIVE) && !owned_by(tok, td))
			return false;
	} while (!__atomic_compare_exchange_n(&tok->t_count, &c, c + TOK_INCR,
	    false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return true;
}

static void
release_ref(struct lwkt_tokref *ref)
{
	struct lwkt_token *tok = ref->tr_tok;

	if (tok->t_ref == ref) {
		/* The holder's own shared holds went first (reverse order),
		 * and nobody else writes t_count meanwhile: a store is enough,
		 * no locked instruction. */
		KKASSERT(tok->t_count == TOK_EXCLUSIVE);
		tok->t_ref = NULL;
		__atomic_store_n(&tok->t_count, 0, __ATOMIC_RELEASE);
	} else {
		long c = __atomic_fetch_sub(&tok->t_count, TOK_INCR,
		    __ATOMIC_RELEASE);
		KKASSERT(c >= TOK_INCR);
	}
}

/* At switch-out, in a critical section. */
void
lwkt_token_release_all(struct thread *td)
{
	int i;

	for (i = td->td_ntoks - 1; i >= 0; i--)
		release_ref(&td->td_toks[i]);
}

/* At switch-in: all of td's tokens, or none. */
bool
lwkt_token_acquire_all(struct thread *td)
{
	int i, j;

	for (i = 0; i < td->td_ntoks; i++) {
		struct lwkt_tokref *ref = &td->td_toks[i];
		/* A recursive hold was shared against its owner's ref:
		 * retake it as the mode it was asked in. */
		if (!try_ref(ref, td)) {
			ref->tr_tok->t_collisions++;
			for (j = i - 1; j >= 0; j--)
				release_ref(&td->td_toks[j]);
			return false;
		}
	}
	return true;
}

/* A thread holding tok shared only would wait for itself for ever. */
static void
check_upgrade(const struct thread *td, const struct lwkt_token *tok)
{
	int i;

	if (owned_by(tok, td))
		return;
	for (i = 0; i < td->td_ntoks; i++)
		if (td->td_toks[i].tr_tok == tok)
			panic(
			    "lwkt_gettoken: %s is held shared by this thread; "
			    "it cannot be upgraded to exclusive",
			    tok->t_desc);
}

static void
get(struct lwkt_token *tok, long mode)
{
	struct thread *td = curthread;
	struct lwkt_tokref *ref;

	KKASSERT(td->td_ntoks < LWKT_MAXTOKENS);
	ref = &td->td_toks[td->td_ntoks];
	ref->tr_tok = tok;
	ref->tr_mode = mode;
	ref->tr_owner = td;
	td->td_ntoks++;
	if (try_ref(ref, td))
		return;
	/* An upgrade fails here (the thread's own shared hold is in the
	 * way), so it is caught on this slow path only. */
	if (mode & TOK_EXCLUSIVE) {
		td->td_ntoks--;
		check_upgrade(td, tok);
		td->td_ntoks++;
	}
	if (td->td_hardcrit > 0) {
		td->td_ntoks--;
		sched_assert_can_block("lwkt_gettoken");
	}
	tok->t_collisions++;
	/* Release what is held, and let the scheduler come back with it all
	 * (the new one included) when it can. */
	td->td_ntoks--;
	lwkt_token_release_all(td);
	td->td_ntoks++;
	sched_switch(false);
}

void
lwkt_gettoken(struct lwkt_token *tok)
{
	get(tok, TOK_EXCLUSIVE);
}

void
lwkt_gettoken_shared(struct lwkt_token *tok)
{
	get(tok, 0);
}

bool
lwkt_trytoken(struct lwkt_token *tok)
{
	struct thread *td = curthread;
	struct lwkt_tokref *ref;

	KKASSERT(td->td_ntoks < LWKT_MAXTOKENS);
	ref = &td->td_toks[td->td_ntoks];
	ref->tr_tok = tok;
	ref->tr_mode = TOK_EXCLUSIVE;
	ref->tr_owner = td;
	if (!try_ref(ref, td))
		return false;
	td->td_ntoks++;
	return true;
}

void
lwkt_reltoken(struct lwkt_token *tok)
{
	struct thread *td = curthread;
	struct lwkt_tokref *ref;

	KKASSERT(td->td_ntoks > 0);
	ref = &td->td_toks[td->td_ntoks - 1];
	if (ref->tr_tok != tok)
		panic("lwkt_reltoken: releasing %s, but the last token taken "
		      "is %s",
		    tok->t_desc, ref->tr_tok->t_desc);
	release_ref(ref);
	td->td_ntoks--;
	if (td->td_ntoks == 0 && (td->td_gd->gd_reqflags & RQF_RESCHED) &&
	    td->td_critcount == 0)
		lwkt_process_pending(); /* a preemption waited for this */
}

bool
lwkt_token_held_excl(const struct lwkt_token *tok)
{
	return owned_by(tok, curthread);
}
