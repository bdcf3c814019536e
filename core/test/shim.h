/*
 * The host side of core/kern.h for unit tests: panic() records its message
 * and returns to the test through shim_catch (or aborts), klog() records
 * the last line per level.
 */
#ifndef CORE_TEST_SHIM_H
#define CORE_TEST_SHIM_H

#include <setjmp.h>
#include "core/kern.h"

extern jmp_buf *shim_catch;
extern char shim_panic_msg[512];
extern char shim_last_log[4][512];
extern int shim_log_count[4];

void shim_reset_log(void);

/* Runs stmt, which must panic; evaluates to 1 when it did. */
#define SHIM_PANICS(stmt)                  \
	({                                 \
		jmp_buf jb_;               \
		int r_ = 0;                \
		if (setjmp(jb_) == 0) {    \
			shim_catch = &jb_; \
			stmt;              \
		} else {                   \
			r_ = 1;            \
		}                          \
		shim_catch = NULL;         \
		r_;                        \
	})

#endif
