/*
 * libFuzzer harness for the write path.
 *
 * The input drives the model engine of the h2_model test (test/h2model.c):
 * every choice (which operation, which object, which name, offsets,
 * lengths, the kind of data) is read from the input instead of an RNG, so
 * the fuzzer explores sequences of creates, writes, truncates, renames,
 * links, unlinks, rmdirs, snapshots, setcomp, flushes, bulkfree and
 * remounts (with or without a flush) on a fresh volume in memory. Each
 * operation's result must be the one the model predicts; every remount,
 * and the final flush and remount, runs fsck (no problems allowed) and
 * compares the whole volume and its snapshots with the model. Any
 * disagreement or leak aborts.
 *
 * Input: byte 0 picks the PFS's methods (compression: byte % 5 among
 * NONE, AUTOZERO, LZ4, ZLIB, zstd; check: byte / 5 % 4 among ISCSI32,
 * XXHASH64, SHA192, NONE); the rest is the stream of choices (at most
 * H2FW_MAXOPS operations). Run e.g.:
 *   h2_fuzz_write -max_len=400 -max_total_time=3600 CORPUS_DIR
 */
#include <stdio.h>
#include <stdlib.h>

#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2model.h"

#define H2FW_MAXOPS 300

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	h2_host_log_level(-1); /* recovery and bulkfree notes */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t comps[] = { HAMMER2_COMP_NONE,
		HAMMER2_COMP_AUTOZERO, HAMMER2_COMP_LZ4, HAMMER2_COMP_ZLIB,
		HAMMER2_COMP_DF_ZSTD };
	static const uint8_t checks[] = { HAMMER2_CHECK_ISCSI32,
		HAMMER2_CHECK_XXHASH64, HAMMER2_CHECK_SHA192,
		HAMMER2_CHECK_NONE };
	uint64_t live = h2_host_alloc_live();
	struct h2m_opts mo = { 0 };

	if (size < 2)
		return 0;
	mo.mo_seed = data[0];
	mo.mo_nops = H2FW_MAXOPS;
	mo.mo_comp = comps[data[0] % 5];
	mo.mo_check = checks[data[0] / 5 % 4];
	mo.mo_in = data + 1;
	mo.mo_inlen = size - 1;
	h2m_run(&mo, NULL);
	if (h2_host_alloc_live() != live) {
		fprintf(stderr, "h2_fuzz_write: leaked %llu allocations\n",
		    (unsigned long long)(h2_host_alloc_live() - live));
		abort();
	}
	return 0;
}
