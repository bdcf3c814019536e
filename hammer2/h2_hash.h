/*
 * h2_hash.h: the hash functions behind HAMMER2's check codes and directory
 * keys (private to hammer2/, also used by its tests and tools).
 *
 *  - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial and final
 *    value all ones): the ISCSI32 and FREEMAP check methods, the volume
 *    header CRCs and the directory hash. We carry our own because none of
 *    the allowed dependencies provides it (zlib's crc32 is the IEEE
 *    polynomial). The SSE4.2 crc32 instruction is used when CPUID says
 *    the CPU has it (general registers only: kernel-safe), tables
 *    otherwise.
 *  - XXH64 with HAMMER2's seed: the XXHASH64 check method, from libxxhash.
 *  - SHA-256: the SHA192 check method is SHA-256 with the third 64-bit word
 *    XORed with the fourth, truncated to 24 bytes. No SHA-256 is among the
 *    dependencies (no OpenSSL), so we carry FIPS 180-4's.
 *
 * Interface:
 *  - All functions are pure and thread-safe; h2_crc32c builds its tables on
 *    first use, safely from any thread.
 *  - h2_crc32c_update(crc, ...) continues a CRC: h2_crc32c(a+b) ==
 *    h2_crc32c_update(h2_crc32c(a), b).
 */
#ifndef HAMMER2_H2_HASH_H
#define HAMMER2_H2_HASH_H

#include <stddef.h>
#include <stdint.h>

uint32_t h2_crc32c(const void *buf, size_t len);
uint32_t h2_crc32c_update(uint32_t crc, const void *buf, size_t len);
/*
 * The two implementations h2_crc32c chooses between (for tests and
 * benchmarks): tables (slicing by 8), and the SSE4.2 crc32 instruction
 * on x86-64 when the CPU has it (h2_crc32c_hw_available; without it
 * h2_crc32c_hw falls back to the tables). Same arguments as
 * h2_crc32c_update.
 */
uint32_t h2_crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t h2_crc32c_hw(uint32_t crc, const void *buf, size_t len);
int h2_crc32c_hw_available(void);

uint64_t h2_xxh64(const void *buf, size_t len, uint64_t seed);

#define H2_SHA256_BYTES 32

struct h2_sha256 {
	uint32_t sh_state[8];
	uint64_t sh_bytes; /* total length so far */
	uint8_t sh_buf[64];
	size_t sh_fill; /* bytes in sh_buf */
};

void h2_sha256_init(struct h2_sha256 *sh);
void h2_sha256_update(struct h2_sha256 *sh, const void *buf, size_t len);
void h2_sha256_final(struct h2_sha256 *sh, uint8_t out[H2_SHA256_BYTES]);
void h2_sha256(const void *buf, size_t len, uint8_t out[H2_SHA256_BYTES]);

/* The SHA192 check value of buf: 24 bytes. */
void h2_sha192(const void *buf, size_t len, uint8_t out[24]);

#endif /* HAMMER2_H2_HASH_H */
