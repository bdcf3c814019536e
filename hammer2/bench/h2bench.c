/*
 * h2bench: HAMMER2 library figures on the host.
 *
 *   h2bench [-k] [-m MIB] [-r REPEAT] [-d WORKDIR] [-t TREE]
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
 *    ratio), the write speed (logical MB/s, compressing, flush included)
 *    and the read speed (logical MB/s, decompressing; after a remount,
 *    the image's cached pages dropped) of the whole tree. Beside them,
 *    "plain": the tree copied file by file with read/write into a
 *    directory of WORKDIR (then syncfs) and read back (cached pages
 *    dropped first); its stored bytes are the files' st_blocks.
 *
 * Each figure is the median of REPEAT rounds (default 3); each round runs
 * the plain copy and then every method, so that a change in the host's
 * load touches both sides of a ratio alike. Everything goes to WORKDIR
 * (default /tmp); files are removed after. -k prints the figures as
 * "kbench: <name> <value> <unit>" lines (and "kbench: done"), the form
 * bench/run reads (its hammer2 area), instead of the tables.
 *
 * Where WORKDIR is on a virtual disk, dropping the host's page cache does
 * not make reads cold: the layers below (the hypervisor's cache) keep
 * some of what was just written, and a read after POSIX_FADV_DONTNEED
 * runs anywhere from disk speed to several times it (630 MB/s to
 * 2.4 GB/s for the same file here), so the ratios measure that cache as
 * much as the library. bench/run uses a WORKDIR on tmpfs (/dev/shm):
 * every read and write is then a copy in RAM for both sides, and the
 * ratios are the library's CPU cost against plain read/write.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hammer2/cmd/h2populate.h"
#include "hammer2/hammer2.h"
#include "hammer2/hammer2_host.h"

#define MiB    (1u << 20)

#define MAXREP 16

static const char *workdir = "/tmp";
static int repeat = 3;
static bool kbench; /* -k: kbench lines instead of tables */
static char src_path[4096], plain_path[4096], img_path[4096];
static char plain_tree[4096];

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
	bool t_read; /* read the files (timed) or count their blocks */
};

/* What one method (or the plain copy) did with the tree in one round. */
struct tree_rate {
	uint64_t tr_logical, tr_stored;
	double tr_write, tr_read; /* logical MB/s */
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

static void
tally_file(struct tally *t, struct h2_inode *ip,
    const struct hammer2_inode_data *d)
{
	uint64_t off;
	ssize_t n;

	t->t_logical += d->meta.size;
	if (t->t_read) {
		for (off = 0; off < d->meta.size; off += (uint64_t)n)
			if ((n = h2_read(ip, off, t->t_buf, MiB)) <= 0)
				die("read", EIO);
	} else if (d->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) {
		t->t_physical += d->meta.size;
	} else {
		h2_tree_scan(t->t_mp, d->u.blockset.blockref, HAMMER2_SET_COUNT,
		    0, HAMMER2_KEY_MAX, data_bytes, t);
	}
}

static int
tally_entry(void *arg, const struct h2_dirent *de)
{
	struct tally *t = arg;
	const struct hammer2_inode_data *d;
	struct h2_inode *ip;

	if (h2_iget(t->t_pfs, de->d_inum, &ip) != 0)
		die("iget", EIO);
	d = h2_idata(ip);
	if (d->meta.type == HAMMER2_OBJTYPE_DIRECTORY && t->t_depth < 64) {
		t->t_depth++;
		tally_dir(t, ip);
		t->t_depth--;
	} else if (d->meta.type == HAMMER2_OBJTYPE_REGFILE) {
		tally_file(t, ip, d);
	}
	h2_iput(ip);
	return 0;
}

static int
tally_dir(struct tally *t, struct h2_inode *dir)
{
	return h2_readdir(dir, 0, tally_entry, t);
}

/* Walks the volume's tree: reads every file, or counts its blocks. */
static void
walk_volume(struct tally *t, bool read)
{
	struct vol v;

	memset(t, 0, sizeof(*t));
	t->t_buf = malloc(MiB);
	t->t_read = read;
	vol_open(&v, 0);
	t->t_mp = v.v_mp;
	t->t_pfs = v.v_pfs;
	tally_dir(t, v.v_root);
	vol_close(&v);
	free(t->t_buf);
}

static void
tree_bench(const char *tree, uint8_t comp, struct tree_rate *r)
{
	struct tally t;
	struct h2pop p;
	struct vol v;
	double tw, tr;
	int error;

	make_image(1ull << 30, comp);
	tw = now();
	vol_open(&v, H2_MNT_RDWR);
	if ((error = h2pop_init(&p, v.v_pfs)) != 0 ||
	    (error = h2pop_tree(&p, v.v_root, tree)) != 0 ||
	    (error = h2_flush(v.v_mp)) != 0)
		die("populate", error);
	h2pop_fini(&p);
	vol_close(&v);
	tw = now() - tw;
	drop_cache(img_path);
	/* Timed: mount and read every file; the block count is apart. */
	tr = now();
	walk_volume(&t, true);
	tr = now() - tr;
	r->tr_logical = t.t_logical;
	walk_volume(&t, false);
	r->tr_stored = t.t_physical;
	r->tr_write = r->tr_logical / 1e6 / tw;
	r->tr_read = r->tr_logical / 1e6 / tr;
	unlink(img_path);
}

/* ---- the reference tree with plain read/write ---- */

enum plain_op { P_COPY, P_DROP, P_READ, P_STAT, P_REMOVE };

struct plain_walk {
	uint8_t *pw_buf;
	uint64_t pw_logical, pw_stored;
};

static void
plain_file(struct plain_walk *w, enum plain_op op, const char *from,
    const char *to)
{
	struct stat st;
	ssize_t n;
	int in, out;

	if (op == P_DROP) {
		drop_cache(from);
		return;
	}
	if (op == P_STAT) {
		if (lstat(from, &st) != 0)
			die(from, errno);
		w->pw_logical += (uint64_t)st.st_size;
		w->pw_stored += (uint64_t)st.st_blocks * 512;
		return;
	}
	if ((in = open(from, O_RDONLY)) < 0)
		die(from, errno);
	out = -1;
	if (op == P_COPY &&
	    (out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		die(to, errno);
	while ((n = read(in, w->pw_buf, MiB)) > 0) {
		w->pw_logical += (uint64_t)n;
		if (out >= 0 && write(out, w->pw_buf, (size_t)n) != n)
			die(to, errno);
	}
	if (n < 0)
		die(from, errno);
	close(in);
	if (out >= 0)
		close(out);
}

/*
 * Applies op to the tree at from (P_COPY: into to, made here), entries
 * in readdir order; symlinks are copied as symlinks, other types left
 * out. P_REMOVE removes the tree, from included.
 */
static void
plain_walk(struct plain_walk *w, enum plain_op op, const char *from,
    const char *to)
{
	char f[PATH_MAX], t[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *dir;

	if (op == P_COPY && mkdir(to, 0755) != 0)
		die(to, errno);
	if ((dir = opendir(from)) == NULL)
		die(from, errno);
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(f, sizeof(f), "%s/%s", from, de->d_name);
		snprintf(t, sizeof(t), "%s/%s", to ? to : "", de->d_name);
		if (lstat(f, &st) != 0)
			die(f, errno);
		if (S_ISDIR(st.st_mode)) {
			plain_walk(w, op, f, t);
		} else if (op == P_REMOVE) {
			if (unlink(f) != 0)
				die(f, errno);
		} else if (S_ISREG(st.st_mode)) {
			plain_file(w, op, f, t);
		} else if (S_ISLNK(st.st_mode) && op == P_COPY) {
			if ((n = readlink(f, link, sizeof(link) - 1)) < 0)
				die(f, errno);
			link[n] = '\0';
			if (symlink(link, t) != 0)
				die(t, errno);
		}
	}
	closedir(dir);
	if (op == P_REMOVE && rmdir(from) != 0)
		die(from, errno);
}

static void
plain_tree_copy(const char *tree, struct tree_rate *r)
{
	struct plain_walk w;
	double tw, tr;
	int fd;

	memset(&w, 0, sizeof(w));
	w.pw_buf = malloc(MiB);
	tw = now();
	plain_walk(&w, P_COPY, tree, plain_tree);
	if ((fd = open(plain_tree, O_RDONLY | O_DIRECTORY)) < 0 ||
	    syncfs(fd) != 0)
		die(plain_tree, errno);
	close(fd);
	tw = now() - tw;
	plain_walk(&w, P_DROP, plain_tree, NULL);
	w.pw_logical = 0;
	tr = now();
	plain_walk(&w, P_READ, plain_tree, NULL);
	tr = now() - tr;
	w.pw_logical = 0;
	plain_walk(&w, P_STAT, plain_tree, NULL);
	r->tr_logical = w.pw_logical;
	r->tr_stored = w.pw_stored;
	r->tr_write = r->tr_logical / 1e6 / tw;
	r->tr_read = r->tr_logical / 1e6 / tr;
	plain_walk(&w, P_REMOVE, plain_tree, NULL);
	free(w.pw_buf);
}

/* ---- medians and output ---- */

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

static const struct {
	uint8_t comp;
	const char *name;
} methods[] = { { HAMMER2_COMP_LZ4, "lz4" }, { HAMMER2_COMP_ZLIB, "zlib" },
	{ HAMMER2_COMP_DF_ZSTD, "zstd" }, { HAMMER2_COMP_NONE, "none" } };
#define NMETHODS 4
#define NSIDES	 (NMETHODS + 1) /* [0] plain, [1 + i] methods[i] */
#define SIDE(s)	 ((s) == 0 ? "plain" : methods[(s)-1].name)

/* Samples of each side over the rounds. */
struct samples {
	double sa_write[NSIDES][MAXREP], sa_read[NSIDES][MAXREP];
	uint64_t sa_logical[NSIDES], sa_stored[NSIDES];
};

static void
figure(const char *name, double v, const char *unit)
{
	printf("kbench: h2bench.%s %.1f %s\n", name, v, unit);
}

static void
mixed_bench(uint64_t mib)
{
	static struct samples sa;
	struct rate one;
	char name[64];
	double w, r, pw = 0, pr = 0;
	int k, s;

	make_source(mib);
	for (k = 0; k < repeat; k++) {
		for (s = 0; s < NSIDES; s++) {
			if (s == 0)
				plain_copy(mib, &one);
			else
				lib_copy(mib, methods[s - 1].comp, &one);
			sa.sa_write[s][k] = one.r_write;
			sa.sa_read[s][k] = one.r_read;
		}
	}
	unlink(src_path);
	if (kbench)
		printf("kbench: h2bench.mixed_mib %llu MiB\n",
		    (unsigned long long)mib);
	else
		printf("%llu MiB mixed file (1/2 text, 3/8 random, 1/8 zeros), "
		       "MB/s, median of %d\n%-8s %10s %10s %10s %10s\n",
		    (unsigned long long)mib, repeat, "method", "write", "read",
		    "w/plain", "r/plain");
	for (s = 0; s < NSIDES; s++) {
		w = median(sa.sa_write[s], repeat);
		r = median(sa.sa_read[s], repeat);
		if (s == 0)
			pw = w, pr = r;
		if (kbench) {
			snprintf(name, sizeof(name), "mixed.%s.write", SIDE(s));
			figure(name, w, "MB/s");
			snprintf(name, sizeof(name), "mixed.%s.read", SIDE(s));
			figure(name, r, "MB/s");
		} else {
			printf("%-8s %10.1f %10.1f %10.2f %10.2f\n", SIDE(s), w,
			    r, w / pw, r / pr);
		}
	}
	fflush(stdout);
}

static void
tree_figures(const char *tree)
{
	static struct samples sa;
	struct tree_rate one;
	char name[64];
	double w, r;
	int k, s;

	/* Once unmeasured: the host tree's own pages into the cache. */
	tree_bench(tree, HAMMER2_COMP_NONE, &one);
	for (k = 0; k < repeat; k++) {
		for (s = 0; s < NSIDES; s++) {
			if (s == 0)
				plain_tree_copy(tree, &one);
			else
				tree_bench(tree, methods[s - 1].comp, &one);
			sa.sa_write[s][k] = one.tr_write;
			sa.sa_read[s][k] = one.tr_read;
			sa.sa_logical[s] = one.tr_logical;
			sa.sa_stored[s] = one.tr_stored;
		}
	}
	if (!kbench)
		printf("\nreference tree %s, median of %d\n%-8s %12s %12s %7s "
		       "%10s %10s\n",
		    tree, repeat, "method", "logical", "stored", "ratio",
		    "write MB/s", "read MB/s");
	for (s = 0; s < NSIDES; s++) {
		w = median(sa.sa_write[s], repeat);
		r = median(sa.sa_read[s], repeat);
		if (!kbench) {
			printf("%-8s %12llu %12llu %7.2f %10.1f %10.1f\n",
			    SIDE(s), (unsigned long long)sa.sa_logical[s],
			    (unsigned long long)sa.sa_stored[s],
			    (double)sa.sa_logical[s] / (double)sa.sa_stored[s],
			    w, r);
			continue;
		}
		snprintf(name, sizeof(name), "tree.%s.logical", SIDE(s));
		printf("kbench: h2bench.%s %llu bytes\n", name,
		    (unsigned long long)sa.sa_logical[s]);
		snprintf(name, sizeof(name), "tree.%s.stored", SIDE(s));
		printf("kbench: h2bench.%s %llu bytes\n", name,
		    (unsigned long long)sa.sa_stored[s]);
		snprintf(name, sizeof(name), "tree.%s.write", SIDE(s));
		figure(name, w, "MB/s");
		snprintf(name, sizeof(name), "tree.%s.read", SIDE(s));
		figure(name, r, "MB/s");
	}
}

int
main(int argc, char **argv)
{
	const char *tree = NULL;
	uint64_t mib = 1024;
	int ch;

	while ((ch = getopt(argc, argv, "km:r:d:t:")) != -1) {
		switch (ch) {
		case 'k':
			kbench = true;
			break;
		case 'm':
			mib = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			repeat = atoi(optarg);
			if (repeat < 1 || repeat > MAXREP)
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
			    "usage: h2bench [-k] [-m MiB] [-r repeat] "
			    "[-d workdir] [-t tree]\n");
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
	snprintf(plain_tree, sizeof(plain_tree), "%s/h2bench-tree.%d", workdir,
	    (int)getpid());
	mixed_bench(mib);
	if (tree != NULL)
		tree_figures(tree);
	if (kbench)
		printf("kbench: done\n");
	return 0;
}
