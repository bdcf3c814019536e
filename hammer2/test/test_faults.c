/*
 * h2_faults: allocation failures, read errors and write errors injected at
 * the N-th call of a script of operations (creates, writes, a directory
 * big enough to split, symlink, link, rename, truncate, unlink, flushes,
 * snapshot, PFS create, bulkfree) that runs on a volume with flushed
 * content. For every N tried: the failing operation returns an error
 * (never a crash, a hang, a leak or a sanitizer report), the mount either
 * goes on or refuses further changes, unmounting is clean, and after a
 * remount fsck finds the volume clean and the content flushed before the
 * script is exactly as it was. Past the last call the script succeeds.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

#define REQ(c)                                                             \
	do {                                                               \
		if (!(c))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c); \
	} while (0)

#define NBASE	   12
#define MAX_TRIALS 1000

enum { F_ALLOC, F_READ, F_WRITE };

static struct h2_dev *baseline;
static uint64_t live0;

static void
base_bytes(int i, uint8_t *buf, size_t len)
{
	size_t k;

	for (k = 0; k < len; k++)
		buf[k] = (i & 1) ? (uint8_t)("base "[k % 5] + i) :
				   (uint8_t)(k * 2654435761u >> (i % 24));
}

static size_t
base_len(int i)
{
	return (size_t)(i * i * 7919) % 300000;
}

static void
make_baseline(void)
{
	uint8_t *buf = malloc(300000);
	struct h2t_vol v;
	struct h2_inode *d, *ip;
	char name[16];
	int i;

	baseline =
	    h2t_mem_newfs(3ull << 30, HAMMER2_COMP_LZ4, HAMMER2_CHECK_XXHASH64);
	REQ(baseline != NULL);
	REQ(h2t_vol_mount(&v, baseline, H2_MNT_RDWR, "DATA") == 0);
	REQ(h2_mkdir(v.v_root, "base", 4, 0755, &d) == 0);
	for (i = 0; i < NBASE; i++) {
		snprintf(name, sizeof(name), "b%d", i);
		REQ(h2_create(d, name, strlen(name), HAMMER2_OBJTYPE_REGFILE,
			0644, &ip) == 0);
		base_bytes(i, buf, base_len(i));
		REQ(h2_write(ip, 0, buf, base_len(i)) == (ssize_t)base_len(i));
		h2_iput(ip);
	}
	h2_iput(d);
	REQ(h2_flush(v.v_mp) == 0);
	h2t_vol_umount(&v);
	free(buf);
}

static void
check_baseline(struct h2t_vol *v)
{
	uint8_t *want = malloc(300000), *got;
	struct h2_inode *ip;
	char path[32];
	size_t len;
	int i;

	for (i = 0; i < NBASE; i++) {
		snprintf(path, sizeof(path), "base/b%d", i);
		ip = h2t_path(v->v_pfs, path);
		REQ(ip != NULL);
		REQ(h2t_read_all(ip, &got, &len) == 0);
		base_bytes(i, want, base_len(i));
		REQ(len == base_len(i) && memcmp(got, want, len) == 0);
		free(got);
		h2_iput(ip);
	}
	free(want);
}

static void
setup(void)
{
	live0 = h2_host_alloc_live();
	h2t_log_capture();
	make_baseline();
}

static void
teardown(void)
{
	h2t_ov_close(baseline);
	h2t_log_stop();
	ck_assert_uint_eq(h2_host_alloc_live(), live0);
}

/* ---- the script ---- */

/* Runs every step whatever fails; returns how many failed. */
static int
script(struct h2t_vol *v)
{
	uint8_t *buf = malloc(1 << 20);
	struct h2_bulkfree_result bf;
	struct h2_inode *w = NULL, *d = NULL, *ip = NULL;
	char name[16], target[600];
	int failed = 0, i;

#define STEP(expr)                \
	do {                      \
		if ((expr) != 0)  \
			failed++; \
	} while (0)

	for (i = 0; i < (1 << 20); i++)
		buf[i] = (uint8_t)(i % 251 + (i >> 13));
	memset(target, 't', sizeof(target));
	STEP(h2_mkdir(v->v_root, "work", 4, 0755, &w));
	if (w == NULL)
		goto out;
	STEP(h2_create(w, "a", 1, HAMMER2_OBJTYPE_REGFILE, 0644, &ip));
	if (ip != NULL) {
		STEP(h2_write(ip, 0, buf, 200000) != 200000);
		h2_iput(ip);
		ip = NULL;
	}
	STEP(h2_create(w, "b", 1, HAMMER2_OBJTYPE_REGFILE, 0644, &ip));
	if (ip != NULL) {
		STEP(h2_write(ip, 0, buf + 7, 100000) != 100000);
		STEP(h2_write(ip, 1 << 20, buf, 5000) != 5000);
		h2_iput(ip);
		ip = NULL;
	}
	STEP(h2_mkdir(w, "d", 1, 0755, &d));
	for (i = 0; d != NULL && i < 40; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		STEP(h2_create(d, name, strlen(name), HAMMER2_OBJTYPE_REGFILE,
		    0644, NULL));
	}
	STEP(h2_symlink(w, "l", 1, target, sizeof(target), NULL));
	if ((ip = h2t_path(v->v_pfs, "work/a")) != NULL) {
		STEP(h2_link(w, "a2", 2, ip));
		STEP(h2_truncate(ip, 5000));
		h2_iput(ip);
		ip = NULL;
	}
	if (d != NULL) {
		STEP(h2_rename(w, "b", 1, d, "b2", 2));
		STEP(h2_unlink(d, "f03", 3));
	}
	STEP(h2_flush(v->v_mp));
	STEP(h2_snapshot(v->v_pfs, "s1"));
	STEP(h2_pfs_create(v->v_mp, "P", NULL));
	STEP(h2_unlink(w, "a2", 2));
	STEP(h2_bulkfree(v->v_mp, &bf));
	STEP(h2_create(w, "c", 1, HAMMER2_OBJTYPE_REGFILE, 0644, &ip));
	if (ip != NULL) {
		for (i = 0; i < 3; i++)
			STEP(h2_write(ip, (uint64_t)i << 20, buf, 1 << 20) !=
			    1 << 20);
		h2_iput(ip);
	}
	STEP(h2_flush(v->v_mp));
out:
	h2_iput(d);
	h2_iput(w);
	free(buf);
	return failed;
#undef STEP
}

struct counts {
	uint64_t c_allocs, c_reads, c_writes;
};

/* The script without faults: everything works, and what it costs. */
static void
clean_run(struct counts *c)
{
	struct h2_dev *dev = h2t_ov_clone(baseline);
	uint64_t a0, r0, w0, f0, h0;
	struct h2t_vol v;

	REQ(h2t_vol_mount(&v, dev, H2_MNT_RDWR, "DATA") == 0);
	a0 = h2_host_alloc_calls();
	r0 = h2t_ov_reads(dev);
	h2t_ov_counts(dev, &w0, &f0, &h0);
	REQ(script(&v) == 0);
	c->c_allocs = h2_host_alloc_calls() - a0;
	c->c_reads = h2t_ov_reads(dev) - r0;
	h2t_ov_counts(dev, &c->c_writes, &f0, &h0);
	c->c_writes -= w0;
	if (getenv("H2T_COUNTS"))
		fprintf(stderr,
		    "script: %llu allocations, %llu reads, %llu "
		    "writes\n",
		    (unsigned long long)c->c_allocs,
		    (unsigned long long)c->c_reads,
		    (unsigned long long)c->c_writes);
	h2t_vol_umount(&v);
	REQ(h2t_fsck_problems(dev, 0) == 0);
	h2t_ov_close(dev);
}

static void
trial(int kind, uint64_t n, int must_fail)
{
	struct h2_dev *dev = h2t_ov_clone(baseline);
	struct h2t_vol v;
	uint64_t live = h2_host_alloc_live();
	int failed;

	REQ(h2t_vol_mount(&v, dev, H2_MNT_RDWR, "DATA") == 0);
	if (kind == F_ALLOC)
		h2_host_fail_alloc(n);
	else if (kind == F_READ)
		h2t_ov_fail_read(dev, n);
	else
		h2t_ov_fail_write(dev, n);
	failed = script(&v);
	h2_host_fail_alloc(0);
	h2t_ov_fail_read(dev, 0);
	h2t_ov_fail_write(dev, 0);
	/* Read and write faults hit once: something fails. Allocation
	 * failures can land in a cache, which may do without. */
	if (kind != F_ALLOC && must_fail && failed == 0)
		ck_abort_msg("kind %d call %llu: nothing failed", kind,
		    (unsigned long long)n);
	h2t_vol_umount(&v);
	REQ(h2_host_alloc_live() == live);
	if (h2t_fsck_problems(dev, 0) != 0)
		ck_abort_msg("kind %d call %llu: fsck problems", kind,
		    (unsigned long long)n);
	REQ(h2t_vol_mount(&v, dev, H2_MNT_RDWR, "DATA") == 0);
	check_baseline(&v);
	/* And the volume takes changes again. */
	REQ(h2_create(v.v_root, "after", 5, HAMMER2_OBJTYPE_REGFILE, 0644,
		NULL) == 0);
	REQ(h2_flush(v.v_mp) == 0);
	h2t_vol_umount(&v);
	REQ(h2t_fsck_problems(dev, 0) == 0);
	h2t_ov_close(dev);
}

/* Every call up to 64, then spread evenly to the end and past it. */
static void
sweep(int kind, uint64_t total)
{
	uint64_t n, stride = total / MAX_TRIALS + 1;

	for (n = 1; n <= total + 2; n += n < 64 ? 1 : stride)
		trial(kind, n, n <= total);
	trial(kind, total, 1);
}

START_TEST(test_alloc_failures)
{
	struct counts c;

	clean_run(&c);
	ck_assert_uint_gt(c.c_allocs, 100);
	sweep(F_ALLOC, c.c_allocs);
}
END_TEST

START_TEST(test_read_errors)
{
	struct counts c;

	clean_run(&c);
	ck_assert_uint_gt(c.c_reads, 0);
	sweep(F_READ, c.c_reads);
}
END_TEST

START_TEST(test_write_errors)
{
	struct counts c;

	clean_run(&c);
	ck_assert_uint_gt(c.c_writes, 10);
	sweep(F_WRITE, c.c_writes);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("h2_faults");
	TCase *tc = tcase_create("faults");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_alloc_failures);
	tcase_add_test(tc, test_read_errors);
	tcase_add_test(tc, test_write_errors);
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
