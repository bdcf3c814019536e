/*
 * h2_power: power loss. The device holds writes back until a flush (as a
 * disk's write cache does); a random workload runs (create, write,
 * truncate, rename, unlink, mkdir, rmdir, link, symlink, snapshot, flush)
 * until either a chosen point between operations or a chosen device write
 * or flush, where the power goes: each write not yet flushed then reached
 * the media, was lost, or was torn (some of its sectors landed). After a
 * remount the volume must show exactly the state of the last flush that
 * returned success, or, when the power went during a flush, possibly the
 * state that flush was committing; and fsck must find it clean. Many
 * seeds, on a volume with two header slots.
 *
 * States are compared by a fingerprint: a SHA-256 over every PFS and, in
 * each, every entry in key order with its inode number, type, size, link
 * count, mode and contents (or target). A last test cuts the power inside
 * a flush that folds indirect blocks back into their parents.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/h2_hash.h"
#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

#define SEEDS 60
#define REQ(c)                                                             \
	do {                                                               \
		if (!(c))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c); \
	} while (0)

static uint64_t live0;
static int cuts_in_flush, cuts_new_state, torn_writes;

static void
setup(void)
{
	live0 = h2_host_alloc_live();
	h2t_log_capture(); /* failing writes log; keep the output quiet */
}

static void
teardown(void)
{
	h2t_log_stop();
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}

struct fp {
	struct h2_sha256 f_sh;
	struct h2_mount *f_mp;
	struct h2_pfs *f_pfs;
	uint8_t *f_buf;
	int f_depth;
};

static int fp_dir(struct fp *f, struct h2_inode *dir);

static int
fp_entry(void *arg, const struct h2_dirent *de)
{
	struct fp *f = arg;
	const struct hammer2_inode_meta *m;
	struct h2_inode *ip;
	uint64_t v[6], off;
	ssize_t n;

	h2_sha256_update(&f->f_sh, de->d_name, de->d_namlen + 1);
	REQ(h2_iget(f->f_pfs, de->d_inum, &ip) == 0);
	m = &h2_idata(ip)->meta;
	v[0] = m->inum;
	v[1] = m->type;
	v[2] = m->size;
	v[3] = m->nlinks;
	v[4] = m->mode;
	v[5] = de->d_key;
	h2_sha256_update(&f->f_sh, v, sizeof(v));
	if (getenv("H2T_FP"))
		fprintf(stderr, "  %*s%s inum %llu type %u size %llu nl %llu\n",
		    f->f_depth * 2, "", de->d_name, (unsigned long long)v[0],
		    (unsigned)v[1], (unsigned long long)v[2],
		    (unsigned long long)v[3]);
	if (m->type == HAMMER2_OBJTYPE_DIRECTORY) {
		REQ(f->f_depth < 64);
		fp_dir(f, ip);
	} else {
		for (off = 0; off < m->size; off += (uint64_t)n) {
			n = h2_read(ip, off, f->f_buf, 1 << 20);
			REQ(n > 0);
			h2_sha256_update(&f->f_sh, f->f_buf, (size_t)n);
		}
	}
	h2_iput(ip);
	return 0;
}

static int
fp_dir(struct fp *f, struct h2_inode *dir)
{
	f->f_depth++;
	REQ(h2_readdir(dir, 0, fp_entry, f) == 0);
	f->f_depth--;
	return 0;
}

static int
fp_pfs(void *arg, const struct h2_pfs_info *pi)
{
	struct fp *f = arg;
	struct h2_inode *root;
	struct h2_pfs *pfs;

	h2_sha256_update(&f->f_sh, pi->pi_name, strlen(pi->pi_name) + 1);
	if (getenv("H2T_FP"))
		fprintf(stderr, " PFS %s\n", pi->pi_name);
	REQ(h2_pfs_open(f->f_mp, pi->pi_name, &pfs) == 0);
	REQ(h2_iget(pfs, 1, &root) == 0);
	f->f_pfs = pfs;
	fp_dir(f, root);
	h2_iput(root);
	h2_pfs_close(pfs);
	return 0;
}

static void
fingerprint(struct h2t_vol *v, uint8_t out[32])
{
	struct fp f;

	memset(&f, 0, sizeof(f));
	f.f_buf = malloc(1 << 20);
	h2_sha256_init(&f.f_sh);
	f.f_mp = v->v_mp;
	REQ(h2_pfs_foreach(v->v_mp, fp_pfs, &f) == 0);
	h2_sha256_final(&f.f_sh, out);
	if (getenv("H2T_FP"))
		fprintf(stderr, "fp %02x%02x%02x%02x\n", out[0], out[1], out[2],
		    out[3]);
	free(f.f_buf);
}

/* ---- the workload ---- */

struct work {
	struct h2t_vol *w_v;
	uint64_t w_rng;
	uint8_t *w_buf;
	int w_snaps;
};

static uint64_t
rnd(struct work *w)
{
	uint64_t x = w->w_rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return w->w_rng = x;
}

static int
pick(struct work *w, int n)
{
	return (int)(rnd(w) % (uint64_t)n);
}

/* A random directory: the root or one of d0..d3 (if there). */
static struct h2_inode *
some_dir(struct work *w)
{
	char name[8];
	struct h2_inode *ip;

	snprintf(name, sizeof(name), "d%d", pick(w, 5));
	if (name[1] == '4' || (ip = h2t_path(w->w_v->v_pfs, name)) == NULL ||
	    h2_idata(ip)->meta.type != HAMMER2_OBJTYPE_DIRECTORY) {
		if (name[1] != '4' && ip != NULL)
			h2_iput(ip);
		h2_iref(w->w_v->v_root);
		return w->w_v->v_root;
	}
	return ip;
}

/*
 * One random operation; errors are fine (the device may be dead). Only
 * the history before the power phase takes snapshots: a snapshot flushes
 * (twice) by itself, and the test tracks flushes it makes.
 */
static void
step(struct work *w, int snaps)
{
	struct h2_inode *d = some_dir(w), *d2, *ip;
	char name[16], name2[16];
	uint64_t off;
	size_t len;
	int k = pick(w, 100), i;

	snprintf(name, sizeof(name), "f%d", pick(w, 12));
	snprintf(name2, sizeof(name2), "f%d", pick(w, 12));
	if (k < 15) {
		h2_create(d, name, strlen(name), HAMMER2_OBJTYPE_REGFILE, 0644,
		    NULL);
	} else if (k < 45) {
		if (h2_namei(w->w_v->v_pfs, name, 0, &ip) == 0) {
			off = (uint64_t)pick(w, 200000);
			len = (size_t)pick(w, 70000);
			for (i = 0; i < (int)len; i++)
				w->w_buf[i] = pick(w, 3) ?
				    (uint8_t)('a' + i % 26) :
				    (uint8_t)rnd(w);
			if (h2_idata(ip)->meta.type == HAMMER2_OBJTYPE_REGFILE)
				h2_write(ip, off, w->w_buf, len);
			h2_iput(ip);
		}
	} else if (k < 52) {
		if (h2_namei(w->w_v->v_pfs, name, 0, &ip) == 0) {
			if (h2_idata(ip)->meta.type == HAMMER2_OBJTYPE_REGFILE)
				h2_truncate(ip, (uint64_t)pick(w, 200000));
			h2_iput(ip);
		}
	} else if (k < 62) {
		d2 = some_dir(w);
		h2_rename(d, name, strlen(name), d2, name2, strlen(name2));
		h2_iput(d2);
	} else if (k < 70) {
		h2_unlink(d, name, strlen(name));
	} else if (k < 75) {
		snprintf(name, sizeof(name), "d%d", pick(w, 4));
		h2_mkdir(w->w_v->v_root, name, strlen(name), 0755, NULL);
	} else if (k < 78) {
		snprintf(name, sizeof(name), "d%d", pick(w, 4));
		h2_rmdir(w->w_v->v_root, name, strlen(name));
	} else if (k < 83) {
		if (h2_namei(w->w_v->v_pfs, name, 0, &ip) == 0) {
			h2_link(d, name2, strlen(name2), ip);
			h2_iput(ip);
		}
	} else if (k < 86) {
		h2_symlink(d, name, strlen(name), "f1/../f2", 8, NULL);
	} else if (k < 87 && snaps && w->w_snaps < 3) {
		snprintf(name, sizeof(name), "snap%d", w->w_snaps);
		if (h2_snapshot(w->w_v->v_pfs, name) == 0)
			w->w_snaps++;
	}
	h2_iput(d);
}

/*
 * One seed: run until the chosen cut; returns after checking the volume.
 * die_at 0: the power goes between operations after nsteps; else at the
 * die_at-th device write or flush.
 */
static void
run_seed(uint64_t seed, int nsteps, uint64_t die_at)
{
	uint8_t committed[32], pending[32], now[32];
	struct h2t_vol v;
	struct work w;
	struct h2_dev *dev;
	int i, in_flush = 0, error;

	memset(&w, 0, sizeof(w));
	w.w_v = &v;
	w.w_rng = seed * 0x9E3779B97F4A7C15ull + 7;
	w.w_buf = malloc(200000);
	dev = h2t_mem_newfs(3ull << 30, HAMMER2_COMP_LZ4,
	    (seed & 1) ? HAMMER2_CHECK_XXHASH64 : HAMMER2_CHECK_ISCSI32);
	REQ(dev != NULL);
	REQ(h2t_vol_mount(&v, dev, H2_MNT_RDWR, "DATA") == 0);
	/* Some flushed history first, so headers rotate. */
	for (i = 0; i < 40; i++)
		step(&w, 1);
	REQ(h2_flush(v.v_mp) == 0);
	fingerprint(&v, committed);
	h2t_ov_hold(dev, 1);
	if (die_at)
		h2t_ov_die_at(dev, die_at);
	for (i = 0; i < nsteps && !h2t_ov_dead(dev); i++) {
		if (pick(&w, 8) == 0) {
			if (getenv("H2T_FP"))
				fprintf(stderr, "flush at step %d\n", i);
			fingerprint(&v, pending);
			error = h2_flush(v.v_mp);
			if (error == 0) {
				memcpy(committed, pending, 32);
			} else {
				in_flush = 1;
				break;
			}
		} else {
			step(&w, 0);
		}
	}
	if (getenv("H2T_FP"))
		fprintf(stderr, "power cut: in_flush %d dead %d\n", in_flush,
		    h2t_ov_dead(dev));
	/* The power goes. */
	torn_writes += (int)h2t_ov_cut(dev, seed);
	cuts_in_flush += in_flush;
	h2t_vol_umount(&v);
	h2t_ov_hold(dev, 0);
	REQ(h2t_fsck_problems(dev, 0) == 0);
	REQ(h2t_vol_mount(&v, dev, H2_MNT_RDWR, "DATA") == 0);
	fingerprint(&v, now);
	if (getenv("H2T_FP"))
		fprintf(stderr,
		    "committed %02x%02x%02x%02x pending %02x%02x%02x%02x\n",
		    committed[0], committed[1], committed[2], committed[3],
		    pending[0], pending[1], pending[2], pending[3]);
	if (memcmp(now, committed, 32) != 0) {
		cuts_new_state++;
		if (!in_flush || memcmp(now, pending, 32) != 0)
			ck_abort_msg(
			    "seed %llu: the volume is neither the last "
			    "flushed state nor the one being flushed",
			    (unsigned long long)seed);
	}
	/* And it goes on from there. */
	for (i = 0; i < 10; i++)
		step(&w, 1);
	REQ(h2_flush(v.v_mp) == 0);
	h2t_vol_umount(&v);
	REQ(h2t_fsck_problems(dev, 0) == 0);
	h2t_ov_close(dev);
	free(w.w_buf);
}

START_TEST(test_cut_between_operations)
{
	uint64_t seed;

	for (seed = 1; seed <= SEEDS / 2; seed++)
		run_seed(seed, 5 + (int)(seed * 7 % 40), 0);
}
END_TEST

START_TEST(test_cut_at_device_operation)
{
	uint64_t seed;

	/* Points spread over data writes, metadata writes, the flushes and
	 * the header write of one transaction or more. */
	cuts_in_flush = cuts_new_state = torn_writes = 0;
	for (seed = 100; seed < 100 + SEEDS; seed++)
		if (!getenv("H2T_SEED") ||
		    strtoull(getenv("H2T_SEED"), NULL, 0) == seed)
			run_seed(seed, 200, 1 + (seed * 37) % 400);
	if (getenv("H2T_FP"))
		fprintf(stderr,
		    "cuts in a flush %d, new state kept %d, torn "
		    "writes %d\n",
		    cuts_in_flush, cuts_new_state, torn_writes);
	/* The points hit flushes (whether one still made it is up to the
	 * cut: test_cut_during_header_write makes sure both happen). */
	if (getenv("H2T_SEED") == NULL) {
		ck_assert_int_ge(cuts_in_flush, SEEDS / 3);
		ck_assert_int_gt(torn_writes, SEEDS / 2);
	}
}
END_TEST

START_TEST(test_cut_during_header_write)
{
	uint64_t seed, writes, flushes, held;
	struct h2t_vol v;
	struct h2_dev *dev;
	uint8_t before[32], after[32], now[32];
	int saw_old = 0, saw_new = 0;

	/* Find how many device operations a flush takes, then cut at each
	 * of its last few: the final device flush leaves the header write
	 * held, which the cut keeps, loses or tears. */
	for (seed = 1; seed <= 24; seed++) {
		dev = h2t_mem_newfs(3ull << 30, HAMMER2_COMP_LZ4,
		    HAMMER2_CHECK_XXHASH64);
		REQ(dev != NULL);
		REQ(h2t_vol_mount(&v, dev, H2_MNT_RDWR, "DATA") == 0);
		REQ(h2_create(v.v_root, "a", 1, 2, 0644, NULL) == 0);
		REQ(h2_flush(v.v_mp) == 0);
		fingerprint(&v, before);
		REQ(h2_create(v.v_root, "b", 1, 2, 0644, NULL) == 0);
		fingerprint(&v, after);
		h2t_ov_hold(dev, 1);
		h2t_ov_counts(dev, &writes, &flushes, &held);
		/* The last device op of a flush is its second flush. */
		h2t_ov_die_at(dev, 0);
		{
			uint64_t w0 = writes, f0 = flushes;

			REQ(h2_flush(v.v_mp) == 0);
			h2t_ov_counts(dev, &writes, &flushes, &held);
			writes -= w0;
			flushes -= f0;
		}
		h2t_vol_umount(&v);
		h2t_ov_hold(dev, 0);
		h2t_ov_close(dev);
		/* Replay the same transaction, dying at its last operation. */
		dev = h2t_mem_newfs(3ull << 30, HAMMER2_COMP_LZ4,
		    HAMMER2_CHECK_XXHASH64);
		REQ(h2t_vol_mount(&v, dev, H2_MNT_RDWR, "DATA") == 0);
		REQ(h2_create(v.v_root, "a", 1, 2, 0644, NULL) == 0);
		REQ(h2_flush(v.v_mp) == 0);
		REQ(h2_create(v.v_root, "b", 1, 2, 0644, NULL) == 0);
		h2t_ov_hold(dev, 1);
		h2t_ov_die_at(dev, writes + flushes);
		REQ(h2_flush(v.v_mp) != 0);
		h2t_ov_cut(dev, seed);
		h2t_vol_umount(&v);
		h2t_ov_hold(dev, 0);
		REQ(h2t_fsck_problems(dev, 0) == 0);
		REQ(h2t_vol_mount(&v, dev, 0, "DATA") == 0);
		fingerprint(&v, now);
		if (memcmp(now, before, 32) == 0)
			saw_old++;
		else if (memcmp(now, after, 32) == 0)
			saw_new++;
		else
			ck_abort_msg("seed %llu: neither state",
			    (unsigned long long)seed);
		h2t_vol_umount(&v);
		h2t_ov_close(dev);
	}
	/* Both outcomes happen: the header landed whole, or not at all or
	 * torn (then the older header is the valid one). */
	ck_assert_int_gt(saw_old, 0);
	ck_assert_int_gt(saw_new, 0);
}
END_TEST

/* A directory of 300 entries flushed, then unlinked down to 3 (the next
 * flush folds its indirect blocks back into the inode). */
static struct h2_dev *
fold_setup(struct h2t_vol *v, uint8_t before[32], uint8_t after[32])
{
	struct h2_dev *dev =
	    h2t_mem_newfs(3ull << 30, HAMMER2_COMP_LZ4, HAMMER2_CHECK_ISCSI32);
	struct h2_inode *d;
	char name[16];
	int i;

	REQ(dev != NULL);
	REQ(h2t_vol_mount(v, dev, H2_MNT_RDWR, "DATA") == 0);
	REQ(h2_mkdir(v->v_root, "d", 1, 0755, &d) == 0);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		REQ(h2_create(d, name, strlen(name), 2, 0644, NULL) == 0);
	}
	REQ(h2_flush(v->v_mp) == 0);
	fingerprint(v, before);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		if (i % 100 != 7)
			REQ(h2_unlink(d, name, strlen(name)) == 0);
	}
	h2_iput(d);
	fingerprint(v, after);
	return dev;
}

/* Power cuts at points spread over a flush that folds indirect blocks:
 * the old tree or the folded one, fsck clean either way. */
START_TEST(test_cut_during_fold)
{
	uint64_t writes, flushes, held, w0, f0, ops, k;
	uint8_t before[32], after[32], now[32];
	struct h2_stats st;
	struct h2t_vol v;
	struct h2_dev *dev;
	int saw_old = 0, saw_new = 0;

	dev = fold_setup(&v, before, after);
	h2t_ov_counts(dev, &w0, &f0, &held);
	REQ(h2_flush(v.v_mp) == 0);
	h2_mount_stats(v.v_mp, &st);
	REQ(st.st_ind_folded > 0);
	h2t_ov_counts(dev, &writes, &flushes, &held);
	ops = writes - w0 + flushes - f0;
	h2t_vol_umount(&v);
	h2t_ov_close(dev);
	for (k = 1; k <= ops; k += (ops + 11) / 12) {
		dev = fold_setup(&v, before, after);
		h2t_ov_hold(dev, 1);
		h2t_ov_die_at(dev, k);
		REQ(h2_flush(v.v_mp) != 0);
		h2t_ov_cut(dev, k);
		h2t_vol_umount(&v);
		h2t_ov_hold(dev, 0);
		REQ(h2t_fsck_problems(dev, 0) == 0);
		REQ(h2t_vol_mount(&v, dev, H2_MNT_RDWR, "DATA") == 0);
		fingerprint(&v, now);
		if (memcmp(now, before, 32) == 0)
			saw_old++;
		else if (memcmp(now, after, 32) == 0)
			saw_new++;
		else
			ck_abort_msg("cut at %llu: neither state",
			    (unsigned long long)k);
		/* It goes on: the fold happens at the next flush. */
		REQ(h2_flush(v.v_mp) == 0);
		h2t_vol_umount(&v);
		REQ(h2t_fsck_problems(dev, 0) == 0);
		h2t_ov_close(dev);
	}
	ck_assert_int_gt(saw_old, 0);
	(void)saw_new; /* the last point may or may not keep the header */
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("h2_power");
	TCase *tc = tcase_create("power");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_cut_between_operations);
	tcase_add_test(tc, test_cut_at_device_operation);
	tcase_add_test(tc, test_cut_during_header_write);
	tcase_add_test(tc, test_cut_during_fold);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
