/*
 * h2model.h: random operations on a volume checked against an in-memory
 * model (see h2model.c), shared by the h2_model test and the write-path
 * fuzzer.
 *
 * Interface:
 *  - h2m_run makes a volume in memory (h2t_mem_newfs) with the given
 *    methods and size (0: 3 GiB, two header slots), runs up to mo_nops
 *    operations, then flushes, remounts, runs fsck and compares
 *    everything; it returns the number of operations run. With mo_in set
 *    every choice is read from those bytes (the run stops when they run
 *    out), else from an RNG seeded with mo_seed.
 *  - On any disagreement (an error code the model did not predict, wrong
 *    content, fsck problems) h2m_fail is called with a message; it must
 *    not return (NULL: print and abort).
 *  - stats (may be NULL) receives how often each operation class ran.
 */
#ifndef HAMMER2_TEST_H2MODEL_H
#define HAMMER2_TEST_H2MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "hammer2/test/h2test.h"

#define MAXFILE (2u << 20) /* largest file the model makes */

struct h2m_opts {
	uint64_t mo_seed;
	int mo_nops;
	uint8_t mo_comp;
	uint8_t mo_check;
	uint64_t mo_vsize;
	const uint8_t *mo_in;
	size_t mo_inlen;
};

extern void (*h2m_fail)(const char *msg);

int h2m_run(const struct h2m_opts *mo, uint64_t stats[32]);

#endif /* HAMMER2_TEST_H2MODEL_H */
