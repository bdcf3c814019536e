/*
 * test/virtio/blkpat.h: the disk patterns of the virtio-blk boot tests,
 * shared by the in-guest tests (virtio/ktest/blk_ktest.c) and the host
 * tool that makes and checks the images (test/virtio/blkpat.c), so both
 * sides compute the same bytes.
 *
 * Every 8-byte word of a disk is a function of the seed and the word's
 * byte offset (splitmix64): a block written at the wrong place, a torn
 * or stale block, or a corrupted byte all show.
 *
 * Interface: offsets and lengths are multiples of 8.
 */
#ifndef TEST_VIRTIO_BLKPAT_H
#define TEST_VIRTIO_BLKPAT_H

#include <stddef.h>
#include <stdint.h>

/* Seeds of the test disks (by serial). */
#define BLKPAT_SEED_HOST  0x486f737450617400ULL /* dfhost: host writes */
#define BLKPAT_SEED_GUEST 0x4775657374506100ULL /* dfguest: guest writes */
#define BLKPAT_SEED_RO	  0x526561644f6e6c00ULL /* dfro: host writes */

static inline uint64_t
blkpat_word(uint64_t seed, uint64_t off)
{
	uint64_t z = seed + (off / 8) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void
blkpat_fill(uint64_t seed, uint64_t off, void *buf, size_t len)
{
	uint64_t *w = (uint64_t *)buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = blkpat_word(seed, off + 8 * i);
}

/* The byte index of the first word that differs, or len. */
static inline size_t
blkpat_check(uint64_t seed, uint64_t off, const void *buf, size_t len)
{
	const uint64_t *w = (const uint64_t *)buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != blkpat_word(seed, off + 8 * i))
			return 8 * i;
	return len;
}

#endif
