/*
 * hammer2_host.h: the platform interface on a POSIX host, plus the hooks
 * tests use to watch and break it.
 *
 * A device is a file (an image) opened with h2_host_open; reads and writes
 * are pread/pwrite, flush is fsync. Memory comes from malloc with a small
 * header that records the size, so h2p_free can check the size it is given
 * and the outstanding total can be asserted to be zero after a test. Logs
 * go to stderr (level H2_LOG_WARN and more severe by default) and to an
 * optional hook.
 *
 * Interface:
 *  - h2_host_open/h2_host_close pair; the device may be given to
 *    h2_mount until it is closed.
 *  - h2_host_fail_alloc(n): the n-th allocation from now fails (1 = the
 *    next); 0 cancels. Counts are process-wide and thread-safe.
 *  - h2_host_alloc_live() is the number of allocations not yet freed.
 *  - The log hook is called with each formatted line (no newline), from
 *    the logging thread, and must not call h2p_log.
 */
#ifndef HAMMER2_HAMMER2_HOST_H
#define HAMMER2_HAMMER2_HOST_H

#include <stdint.h>

#include "hammer2/hammer2_platform.h"

int h2_host_open(const char *path, int rdonly, struct h2_dev **devp);
void h2_host_close(struct h2_dev *dev);

uint64_t h2_host_alloc_live(void);
uint64_t h2_host_alloc_calls(void);
void h2_host_fail_alloc(uint64_t n);

typedef void h2_host_log_fn(void *arg, int level, const char *line);
void h2_host_log_hook(h2_host_log_fn *fn, void *arg);
/* Lines at or below this level go to stderr; -1 silences stderr. */
void h2_host_log_level(int level);

#endif /* HAMMER2_HAMMER2_HOST_H */
