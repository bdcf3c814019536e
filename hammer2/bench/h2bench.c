/*
 * h2bench: HAMMER2 library figures on the host.
 *
 *   h2bench [-m MIB] [-r REPEAT] [-d WORKDIR] [-t TREE]
 *
 * 1. Throughput: a MIB (default 1024) MiB "mixed" file (per MiB: half
 *    text-like, 3/8 random, 1/8 zeros) is written through the library
 *    into a file-backed image (newfs, mount, write in 1 MiB pieces,
 *    flush), then read back after a remount; the same file is copied with
 *    plain read/write into a plain file and read back. Page-cache copies
 *    of the files are dropped (POSIX_FADV_DONTNEED) before each read, and
 *    both writes end with fsync. Printed: MB/s of each and the library's
 *    ratio to the plain copy, for LZ4 (the default), zlib, zstd and none.
 * 2. Compression on the reference tree (TREE, made by mktree.py): the tree
 *    is copied into a volume with each method; printed are the logical
 *    bytes of its files against the bytes of their data blocks (the
 *    ratio), the write speed (logical MB/s, compressing) and the read
 *    speed (logical MB/s, decompressing) of the whole tree.
 *
 * Each figure is the median of REPEAT runs (default 3): on a shared disk
 * single runs vary a lot. Everything goes to WORKDIR (default /tmp);
 * files are removed after.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hammer2/cmd/h2populate.h"
#include "hammer2/hammer2.h"
#include "hammer2/hammer2_host.h"

#define MiB (1u << 20)

static const char *workdir = "/tmp";
static int repeat = 3;
static char src_path[4096], plain_path[4096], img_path[4096];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, int error)
{
	fprintf(stderr, "h2bench: %s: %s\n", what,
	    strerror(error < 0 ? -error : error));
	exit(1);
}

static void
drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd >= 0) {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
}

/* The mixed source file, made once. */
static void
make_source(uint64_t mib)
{
	static const char *words[] = { "hammer2 ", "dragonfly ", "flush ",
		"blockref ", "inode ", "freemap ", "snapshot " };
	uint8_t *buf = malloc(MiB);
	uint64_t x = 0x9E3779B97F4A7C15ull, i, m;
	size_t k, n;
	int fd;

	if ((fd = open(src_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		die(src_path, errno);
	for (m = 0; m < mib; m++) {
		for (k = 0; k < MiB / 2;) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			n = strlen(words[x % 7]);
			if (n > MiB / 2 - k)
				n = MiB / 2 - k;
			memcpy(buf + k, words[x % 7], n);
			k += n;
		}
		for (i = MiB / 2; i < MiB / 2 + 3 * MiB / 8; i += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		memset(buf + MiB / 2 + 3 * MiB / 8, 0, MiB / 8);
		if (write(fd, buf, MiB) != MiB)
			die(src_path, errno);
	}
	fsync(fd);
	close(fd);
	free(buf);
}

struct rate {
	double r_write, r_read; /* MB/s */
};

static void
plain_copy(uint64_t mib, struct rate *r)
{
	uint8_t *buf = malloc(MiB);
	int in, out;
	double t;
	uint64_t m;

	drop_cache(src_path);
	t = now();
	in = open(src_path, O_RDONLY);
	out = open(plain_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0)
		die("plain copy", errno);
	for (m = 0; m < mib; m++)
		if (read(in, buf, MiB) != MiB || write(out, buf, MiB) != MiB)
			die("plain copy", errno);
	fsync(out);
	close(in);
	close(out);
	r->r_write = mib * 1.048576 / (now() - t);
	drop_cache(plain_path);
	t = now();
	in = open(plain_path, O_RDONLY);
	for (m = 0; m < mib; m++)
		if (read(in, buf, MiB) != MiB)
			die("plain read", errno);
	close(in);
	r->r_read = mib * 1.048576 / (now() - t);
	unlink(plain_path);
	free(buf);
}

/* A new image file of size bytes with labels LOCAL and DATA. */
static void
make_image(uint64_t size, uint8_t comp)
{
	struct h2_newfs_opts no;
	struct h2_dev *dev;
	int fd, error, i;

	if ((fd = open(img_path, O_RDWR | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    ftruncate(fd, (off_t)size) != 0)
		die(img_path, errno);
	close(fd);
	memset(&no, 0, sizeof(no));
	no.no_labels[0] = "LOCAL";
	no.no_labels[1] = "DATA";
	no.no_nlabels = 2;
	no.no_comp = comp;
	no.no_check = HAMMER2_CHECK_XXHASH64;
	for (i = 0; i < 2; i++)
		memset(&no.no_pfs_clid[i], 0x10 + i, 16);
	if ((error = h2_host_open(img_path, 0, &dev)) != 0)
		die(img_path, error);
	if ((error = h2_newfs(dev, &no)) != 0)
		die("newfs", error);
	h2_host_close(dev);
}

struct vol {
	struct h2_dev *v_dev;
	struct h2_mount *v_mp;
	struct h2_pfs *v_pfs;
	struct h2_inode *v_root;
};

static void
vol_open(struct vol *v, unsigned flags)
{
	struct h2_mount_opts mo = { H2_ZONE_BEST, flags };
	int error;

	if ((error = h2_host_open(img_path, !(flags & H2_MNT_RDWR),
		 &v->v_dev)) != 0 ||
	    (error = h2_mount(v->v_dev, &mo, &v->v_mp)) != 0 ||
	    (error = h2_pfs_open(v->v_mp, "DATA", &v->v_pfs)) != 0 ||
	    (error = h2_iget(v->v_pfs, 1, &v->v_root)) != 0)
		die("mount", error);
}

static void
vol_close(struct vol *v)
{
	h2_iput(v->v_root);
	h2_pfs_close(v->v_pfs);
	h2_unmount(v->v_mp);
	h2_host_close(v->v_dev);
}

static void
lib_copy(uint64_t mib, uint8_t comp, struct rate *r)
{
	uint8_t *buf = malloc(MiB);
	struct h2_inode *ip;
	struct vol v;
	double t;
	uint64_t m;
	int in, error;

	make_image(mib * MiB * 2 + (512ull << 20), comp);
	drop_cache(src_path);
	t = now();
	vol_open(&v, H2_MNT_RDWR);
	if ((in = open(src_path, O_RDONLY)) < 0)
		die(src_path, errno);
	if ((error = h2_create(v.v_root, "mixed", 5, HAMMER2_OBJTYPE_REGFILE,
		 0644, &ip)) != 0)
		die("create", error);
	for (m = 0; m < mib; m++) {
		if (read(in, buf, MiB) != MiB)
			die(src_path, errno);
		if (h2_write(ip, m * MiB, buf, MiB) != MiB)
			die("h2_write", EIO);
	}
	h2_iput(ip);
	if ((error = h2_flush(v.v_mp)) != 0)
		die("flush", error);
	close(in);
	vol_close(&v);
	r->r_write = mib * 1.048576 / (now() - t);
	drop_cache(img_path);
	t = now();
	vol_open(&v, 0);
	if ((error = h2_namei(v.v_pfs, "mixed", 0, &ip)) != 0)
		die("namei", error);
	for (m = 0; m < mib; m++)
		if (h2_read(ip, m * MiB, buf, MiB) != MiB)
			die("h2_read", EIO);
	h2_iput(ip);
	vol_close(&v);
	r->r_read = mib * 1.048576 / (now() - t);
	unlink(img_path);
	free(buf);
}

/* ---- the reference tree ---- */

struct tally {
	struct h2_mount *t_mp;
	struct h2_pfs *t_pfs;
	uint64_t t_logical, t_physical;
	uint8_t *t_buf;
	int t_depth;
};

static int
data_bytes(void *arg, const struct hammer2_blockref *b)
{
	struct tally *t = arg;

	if (b->type == HAMMER2_BREF_TYPE_DATA && (b->data_off & 63))
		t->t_physical += 1ull << (b->data_off & 63);
	return 0;
}

static int tally_dir(struct tally *t, struct h2_inode *dir);

static int
tally_entry(void *arg, const struct h2_dirent *de)
{
	struct tally *t = arg;
	const struct hammer2_inode_data *d;
	struct h2_inode *ip;
	uint64_t off;
	ssize_t n;

	if (h2_iget(t->t_pfs, de->d_inum, &ip) != 0)
		die("iget", EIO);
	d = h2_idata(ip);
	if (d->meta.type == HAMMER2_OBJTYPE_DIRECTORY && t->t_depth < 64) {
		t->t_depth++;
		tally_dir(t, ip);
		t->t_depth--;
	} else if (d->meta.type == HAMMER2_OBJTYPE_REGFILE) {
		t->t_logical += d->meta.size;
		if (d->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA)
			t->t_physical += d->meta.size;
		else
			h2_tree_scan(t->t_mp, d->u.blockset.blockref,
			    HAMMER2_SET_COUNT, 0, HAMMER2_KEY_MAX, data_bytes,
			    t);
		for (off = 0; off < d->meta.size; off += (uint64_t)n)
			if ((n = h2_read(ip, off, t->t_buf, MiB)) <= 0)
				die("read", EIO);
	}
	h2_iput(ip);
	return 0;
}

static int
tally_dir(struct tally *t, struct h2_inode *dir)
{
	return h2_readdir(dir, 0, tally_entry, t);
}

static void
tree_bench(const char *tree, uint8_t comp, const char *name)
{
	struct tally t;
	struct h2pop p;
	struct vol v;
	double tw, tr;
	int error;

	make_image(1ull << 30, comp);
	vol_open(&v, H2_MNT_RDWR);
	tw = now();
	if ((error = h2pop_init(&p, v.v_pfs)) != 0 ||
	    (error = h2pop_tree(&p, v.v_root, tree)) != 0 ||
	    (error = h2_flush(v.v_mp)) != 0)
		die("populate", error);
	h2pop_fini(&p);
	vol_close(&v);
	tw = now() - tw;
	drop_cache(img_path);
	memset(&t, 0, sizeof(t));
	t.t_buf = malloc(MiB);
	vol_open(&v, 0);
	t.t_mp = v.v_mp;
	t.t_pfs = v.v_pfs;
	tr = now();
	tally_dir(&t, v.v_root);
	tr = now() - tr;
	vol_close(&v);
	if (name != NULL)
		printf("%-8s %12llu %12llu %7.2f %10.1f %10.1f\n", name,
		    (unsigned long long)t.t_logical,
		    (unsigned long long)t.t_physical,
		    (double)t.t_logical / (double)t.t_physical,
		    t.t_logical / 1e6 / tw, t.t_logical / 1e6 / tr);
	free(t.t_buf);
	unlink(img_path);
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dbl_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median write and read rates of fn over the repeats. */
static void
measure(void (*fn)(uint64_t, uint8_t, struct rate *), uint64_t mib,
    uint8_t comp, struct rate *r)
{
	double w[16], rd[16];
	struct rate one;
	int i;

	for (i = 0; i < repeat; i++) {
		fn(mib, comp, &one);
		w[i] = one.r_write;
		rd[i] = one.r_read;
	}
	r->r_write = median(w, repeat);
	r->r_read = median(rd, repeat);
}

static void
plain_fn(uint64_t mib, uint8_t comp, struct rate *r)
{
	plain_copy(mib, r);
}

int
main(int argc, char **argv)
{
	static const struct {
		uint8_t comp;
		const char *name;
	} methods[] = { { HAMMER2_COMP_LZ4, "lz4" },
		{ HAMMER2_COMP_ZLIB, "zlib" }, { HAMMER2_COMP_DF_ZSTD, "zstd" },
		{ HAMMER2_COMP_NONE, "none" } };
	const char *tree = NULL;
	uint64_t mib = 1024;
	struct rate plain, lib;
	int ch, i;

	while ((ch = getopt(argc, argv, "m:r:d:t:")) != -1) {
		switch (ch) {
		case 'm':
			mib = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			repeat = atoi(optarg);
			if (repeat < 1 || repeat > 16)
				repeat = 3;
			break;
		case 'd':
			workdir = optarg;
			break;
		case 't':
			tree = optarg;
			break;
		default:
			fprintf(stderr,
			    "usage: h2bench [-m MiB] [-r repeat] [-d workdir] "
			    "[-t tree]\n");
			return 1;
		}
	}
	if (mib == 0)
		mib = 1;
	h2_host_log_level(H2_LOG_ERR);
	snprintf(src_path, sizeof(src_path), "%s/h2bench-src.%d", workdir,
	    (int)getpid());
	snprintf(plain_path, sizeof(plain_path), "%s/h2bench-plain.%d", workdir,
	    (int)getpid());
	snprintf(img_path, sizeof(img_path), "%s/h2bench-img.%d", workdir,
	    (int)getpid());
	make_source(mib);
	measure(plain_fn, mib, 0, &plain);
	printf("%llu MiB mixed file (1/2 text, 3/8 random, 1/8 zeros), MB/s, "
	       "median of %d\n",
	    (unsigned long long)mib, repeat);
	printf("%-8s %10s %10s %10s %10s\n", "method", "write", "read",
	    "w/plain", "r/plain");
	printf("%-8s %10.1f %10.1f %10s %10s\n", "plain", plain.r_write,
	    plain.r_read, "1.00", "1.00");
	for (i = 0; i < 4; i++) {
		measure(lib_copy, mib, methods[i].comp, &lib);
		printf("%-8s %10.1f %10.1f %10.2f %10.2f\n", methods[i].name,
		    lib.r_write, lib.r_read, lib.r_write / plain.r_write,
		    lib.r_read / plain.r_read);
		fflush(stdout);
	}
	unlink(src_path);
	if (tree == NULL)
		return 0;
	/* Once unmeasured: the host tree's own pages into the cache. */
	tree_bench(tree, HAMMER2_COMP_NONE, NULL);
	printf("\nreference tree %s\n", tree);
	printf("%-8s %12s %12s %7s %10s %10s\n", "method", "logical", "stored",
	    "ratio", "write MB/s", "read MB/s");
	for (i = 0; i < 4; i++)
		tree_bench(tree, methods[i].comp, methods[i].name);
	return 0;
}
