/*
 * hammer2_platform.h: everything the HAMMER2 library needs from the system
 * it runs on, and nothing more.
 *
 * The library is portable C: it builds into host programs and tests, and
 * the kernel links the same sources. It reaches the world only through
 *  - a block device (struct h2_dev): read, write and flush at byte offsets,
 *    through an ops table, so a test can wrap a device to inject I/O errors
 *    or corruption;
 *  - memory: h2p_alloc/h2p_free (free takes the size, as OpenBSD's does),
 *    which may fail;
 *  - a lock (struct h2p_lock), a clock and a log.
 * The host implementation (hammer2_host.c) backs a device with a file; the
 * kernel's will back it with a virtio block port.
 *
 * The library proper uses from libc only what a kernel C runtime provides:
 * mem*, str*, snprintf and qsort. No stdio, no threads.
 *
 * Interface:
 *  - A device's read/write take any byte offset and length; they return 0
 *    when every byte moved, a negative errno otherwise (never a short count).
 *    Offsets at or past d_size are an error for the device to report.
 *  - The library never frees or closes a device it was given.
 *  - h2p_alloc may return NULL; callers turn that into -ENOMEM.
 *  - h2p_free(NULL, n) is a no-op; otherwise n must be the allocated size.
 *  - h2p_lock is not recursive; h2p_lock_init may fail with -ENOMEM.
 *  - h2p_log takes printf formats; a line carries no trailing newline.
 *  - h2p_panic does not return; H2_ASSERT uses it for broken invariants.
 */
#ifndef HAMMER2_HAMMER2_PLATFORM_H
#define HAMMER2_HAMMER2_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

struct h2_dev;

struct h2_dev_ops {
	int (*read)(struct h2_dev *dev, uint64_t off, void *buf, size_t len);
	int (*write)(struct h2_dev *dev, uint64_t off, const void *buf,
	    size_t len);
	int (*flush)(struct h2_dev *dev);
};

struct h2_dev {
	const struct h2_dev_ops *d_ops;
	void *d_priv;	  /* the implementation's state */
	uint64_t d_size;  /* bytes addressable */
	unsigned d_flags; /* H2_DEV_* */
};

#define H2_DEV_RDONLY 0x1 /* writes fail with -EROFS */

static inline int
h2_dev_read(struct h2_dev *dev, uint64_t off, void *buf, size_t len)
{
	return dev->d_ops->read(dev, off, buf, len);
}

static inline int
h2_dev_write(struct h2_dev *dev, uint64_t off, const void *buf, size_t len)
{
	return dev->d_ops->write(dev, off, buf, len);
}

static inline int
h2_dev_flush(struct h2_dev *dev)
{
	return dev->d_ops->flush(dev);
}

/* Memory. */
void *h2p_alloc(size_t size);
void *h2p_zalloc(size_t size);
void h2p_free(void *p, size_t size);

/* A mutual-exclusion lock; the body is the platform's. */
struct h2p_lock {
	void *l_impl;
};
int h2p_lock_init(struct h2p_lock *lk);
void h2p_lock_destroy(struct h2p_lock *lk);
void h2p_lock(struct h2p_lock *lk);
void h2p_unlock(struct h2p_lock *lk);

/* Wall-clock time in nanoseconds since the Unix epoch. */
uint64_t h2p_time_ns(void);

/* Log levels. */
#define H2_LOG_ERR   0
#define H2_LOG_WARN  1
#define H2_LOG_INFO  2
#define H2_LOG_DEBUG 3

void h2p_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stop: a broken internal invariant (never bad input). */
void h2p_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#define H2_ASSERT(cond)                                                        \
	do {                                                                   \
		if (!(cond))                                                   \
			h2p_panic("hammer2: assertion \"%s\" failed at %s:%d", \
			    #cond, __FILE__, __LINE__);                        \
	} while (0)

#endif /* HAMMER2_HAMMER2_PLATFORM_H */
