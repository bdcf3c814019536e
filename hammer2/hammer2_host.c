/*
 * hammer2_host.c: the HAMMER2 platform interface on a POSIX host.
 * See hammer2_host.h. This file is the only one in the library that may
 * use stdio and POSIX; the kernel supplies its own instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hammer2/hammer2_host.h"

/* ---- file-backed device ---- */

struct host_dev {
	struct h2_dev hd_dev;
	int hd_fd;
};

static int
host_read(struct h2_dev *dev, uint64_t off, void *buf, size_t len)
{
	struct host_dev *hd = dev->d_priv;
	ssize_t n;

	if (off > dev->d_size || dev->d_size - off < len)
		return -EIO;
	while (len > 0) {
		n = pread(hd->hd_fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (char *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int
host_write(struct h2_dev *dev, uint64_t off, const void *buf, size_t len)
{
	struct host_dev *hd = dev->d_priv;
	ssize_t n;

	if (dev->d_flags & H2_DEV_RDONLY)
		return -EROFS;
	if (off > dev->d_size || dev->d_size - off < len)
		return -EIO;
	while (len > 0) {
		n = pwrite(hd->hd_fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (const char *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int
host_flush(struct h2_dev *dev)
{
	struct host_dev *hd = dev->d_priv;

	if (dev->d_flags & H2_DEV_RDONLY)
		return 0;
	return fsync(hd->hd_fd) == 0 ? 0 : -errno;
}

static const struct h2_dev_ops host_ops = { host_read, host_write, host_flush };

int
h2_host_open(const char *path, int rdonly, struct h2_dev **devp)
{
	struct host_dev *hd;
	struct stat st;
	int fd;

	*devp = NULL;
	if ((fd = open(path, rdonly ? O_RDONLY : O_RDWR)) < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -errno;
	}
	if ((hd = calloc(1, sizeof(*hd))) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	hd->hd_fd = fd;
	hd->hd_dev.d_ops = &host_ops;
	hd->hd_dev.d_priv = hd;
	hd->hd_dev.d_flags = rdonly ? H2_DEV_RDONLY : 0;
	if (S_ISREG(st.st_mode)) {
		hd->hd_dev.d_size = (uint64_t)st.st_size;
	} else {
		off_t end = lseek(fd, 0, SEEK_END);

		hd->hd_dev.d_size = end < 0 ? 0 : (uint64_t)end;
	}
	*devp = &hd->hd_dev;
	return 0;
}

void
h2_host_close(struct h2_dev *dev)
{
	struct host_dev *hd;

	if (dev == NULL)
		return;
	hd = dev->d_priv;
	close(hd->hd_fd);
	free(hd);
}

/* ---- memory ---- */

#define ALLOC_MAGIC 0x48324d454d4f5259ull /* "H2MEMORY" */

struct alloc_hdr {
	uint64_t ah_magic;
	uint64_t ah_size;
};

static uint64_t alloc_live, alloc_calls, alloc_fail_at;

void
h2_host_fail_alloc(uint64_t n)
{
	__atomic_store_n(&alloc_fail_at,
	    n ? __atomic_load_n(&alloc_calls, __ATOMIC_SEQ_CST) + n : 0,
	    __ATOMIC_SEQ_CST);
}

uint64_t
h2_host_alloc_live(void)
{
	return __atomic_load_n(&alloc_live, __ATOMIC_SEQ_CST);
}

uint64_t
h2_host_alloc_calls(void)
{
	return __atomic_load_n(&alloc_calls, __ATOMIC_SEQ_CST);
}

void *
h2p_alloc(size_t size)
{
	struct alloc_hdr *h;
	uint64_t call;

	call = __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_SEQ_CST);
	if (call == __atomic_load_n(&alloc_fail_at, __ATOMIC_SEQ_CST))
		return NULL;
	if (size > SIZE_MAX - sizeof(*h))
		return NULL;
	if ((h = malloc(sizeof(*h) + size)) == NULL)
		return NULL;
	h->ah_magic = ALLOC_MAGIC;
	h->ah_size = size;
	__atomic_add_fetch(&alloc_live, 1, __ATOMIC_SEQ_CST);
	return h + 1;
}

void *
h2p_zalloc(size_t size)
{
	void *p = h2p_alloc(size);

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

void
h2p_free(void *p, size_t size)
{
	struct alloc_hdr *h;

	if (p == NULL)
		return;
	h = (struct alloc_hdr *)p - 1;
	if (h->ah_magic != ALLOC_MAGIC || h->ah_size != size)
		h2p_panic("h2p_free(%p, %zu): bad pointer or size (%llu)", p,
		    size, (unsigned long long)h->ah_size);
	h->ah_magic = 0;
	__atomic_sub_fetch(&alloc_live, 1, __ATOMIC_SEQ_CST);
	free(h);
}

/* ---- locks, time ---- */

int
h2p_lock_init(struct h2p_lock *lk)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	pthread_mutex_init(m, NULL);
	lk->l_impl = m;
	return 0;
}

void
h2p_lock_destroy(struct h2p_lock *lk)
{
	pthread_mutex_destroy(lk->l_impl);
	free(lk->l_impl);
	lk->l_impl = NULL;
}

void
h2p_lock(struct h2p_lock *lk)
{
	pthread_mutex_lock(lk->l_impl);
}

void
h2p_unlock(struct h2p_lock *lk)
{
	pthread_mutex_unlock(lk->l_impl);
}

uint64_t
h2p_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- log ---- */

static h2_host_log_fn *log_fn;
static void *log_arg;
static int log_level = H2_LOG_WARN;

void
h2_host_log_hook(h2_host_log_fn *fn, void *arg)
{
	log_fn = fn;
	log_arg = arg;
}

void
h2_host_log_level(int level)
{
	log_level = level;
}

void
h2p_log(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_fn != NULL)
		log_fn(log_arg, level, line);
	if (level <= log_level)
		fprintf(stderr, "%s\n", line);
}

void
h2p_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
