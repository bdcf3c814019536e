/* core/log.h: log counters and panic catching, beyond core/kern.h. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <setjmp.h>
#include <stdint.h>

/* Lines logged at a level since boot (printed or filtered out). */
uint64_t log_count(int level);

/*
 * The next panic() on this CPU longjmps to jb instead of ending the run
 * (once; NULL cancels). For tests that provoke a panic on purpose.
 */
void panic_catch(jmp_buf *jb);
const char *panic_last_message(void);

#endif
