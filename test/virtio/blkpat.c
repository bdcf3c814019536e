/*
 * test/virtio/blkpat.c: makes and checks the disk images of the
 * virtio-blk boot tests (patterns in blkpat.h, shared with the guest).
 *
 *   blkpat make FILE BYTES host|guest|ro|zero   write an image
 *   blkpat check FILE host|guest|ro             exit 0 when every byte of
 *                                               FILE is the pattern
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test/virtio/blkpat.h"

#define CHUNK (1 << 20)

static int
seed_of(const char *name, uint64_t *seed)
{
	if (strcmp(name, "host") == 0)
		*seed = BLKPAT_SEED_HOST;
	else if (strcmp(name, "guest") == 0)
		*seed = BLKPAT_SEED_GUEST;
	else if (strcmp(name, "ro") == 0)
		*seed = BLKPAT_SEED_RO;
	else if (strcmp(name, "zero") == 0)
		*seed = 0;
	else
		return -1;
	return 0;
}

static int
make(const char *path, unsigned long long size, const char *name)
{
	static uint64_t buf[CHUNK / 8];
	unsigned long long off;
	uint64_t seed;
	FILE *f;

	if (seed_of(name, &seed) != 0 || size % 512 != 0)
		return 2;
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		return 1;
	}
	for (off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		if (strcmp(name, "zero") == 0)
			memset(buf, 0, n);
		else
			blkpat_fill(seed, off, buf, n);
		if (fwrite(buf, 1, n, f) != n) {
			perror(path);
			return 1;
		}
	}
	return fclose(f) == 0 ? 0 : 1;
}

static int
check(const char *path, const char *name)
{
	static uint64_t buf[CHUNK / 8];
	unsigned long long off = 0;
	uint64_t seed;
	size_t n, bad;
	FILE *f;

	if (seed_of(name, &seed) != 0)
		return 2;
	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return 1;
	}
	while ((n = fread(buf, 1, CHUNK, f)) > 0) {
		bad = blkpat_check(seed, off, buf, n);
		if (bad != n || n % 8 != 0) {
			fprintf(stderr, "blkpat: %s: wrong data at byte %llu\n",
			    path, off + bad);
			return 1;
		}
		off += n;
	}
	fclose(f);
	printf("blkpat: %s: all %llu bytes are the %s pattern\n", path, off,
	    name);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "make") == 0)
		return make(argv[2], strtoull(argv[3], NULL, 0), argv[4]);
	if (argc == 4 && strcmp(argv[1], "check") == 0)
		return check(argv[2], argv[3]);
	fprintf(stderr,
	    "usage: blkpat make FILE BYTES host|guest|ro|zero\n"
	    "       blkpat check FILE host|guest|ro\n");
	return 2;
}
