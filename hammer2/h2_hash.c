/*
 * h2_hash.c: CRC-32C, XXH64 and SHA-256 for check codes and the directory
 * hash. See h2_hash.h for why each is here.
 *
 * CRC-32C: on x86-64 CPUs with SSE4.2 (CPUID, checked once at first use)
 * the crc32 instruction does eight bytes per instruction on general
 * registers (allowed in the kernel, see crc_hw_raw); elsewhere it is
 * computed eight bytes at a time from tables ("slicing by 8"): table k
 * maps a byte to its contribution k bytes further on. Tables and the CPU
 * check are done once, on first use, behind a three-state flag so
 * concurrent first callers wait for one builder instead of racing. Why
 * by hand at all: none of the allowed libraries (zlib, zstd, LZ4,
 * xxHash) provides CRC-32C; zlib's crc32 is the IEEE polynomial.
 */
#include <string.h>

#include "hammer2/h2_hash.h"

/*
 * XXH64 comes from libxxhash; XXH_INLINE_ALL compiles it into this file so
 * the kernel build needs only the header, not another static library.
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* ---- CRC-32C ---- */

#define CRC32C_POLY 0x82F63B78u /* reflected Castagnoli polynomial */

static uint32_t crc_tab[8][256];
static int crc_state; /* 0 unbuilt, 1 building, 2 ready */
static int crc_hw;    /* the CPU has the crc32 instruction (set with 2) */

static void
crc_build(void)
{
	uint32_t c;
	int i, j, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc_tab[0][i];
		for (k = 1; k < 8; k++) {
			c = (c >> 8) ^ crc_tab[0][c & 0xff];
			crc_tab[k][i] = c;
		}
	}
}

#if defined(__x86_64__)
/*
 * SSE4.2's crc32 instruction computes exactly CRC-32C (Castagnoli,
 * reflected) on general registers: no XMM register is touched, so it is
 * allowed in kernel code built with -mgeneral-regs-only (which never owns
 * the FPU). Written as inline assembly rather than with the intrinsics,
 * which would need the "sse4.2" target and so let the compiler use XMM
 * registers in the function. CPUID leaf 1, ECX bit 20 says whether the
 * CPU has it.
 */
static int
crc_cpu_has_hw(void)
{
	uint32_t a = 0, b, c, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	if (a < 1)
		return 0;
	a = 1;
	c = 0;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (c >> 20) & 1;
}

static uint32_t
crc_hw_raw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c64, w;

	while (len && ((uintptr_t)p & 7)) {
		__asm__("crc32b %1, %0" : "+r"(crc) : "rm"(*p));
		p++;
		len--;
	}
	c64 = crc;
	while (len >= 8) {
		memcpy(&w, p, 8);
		__asm__("crc32q %1, %0" : "+r"(c64) : "rm"(w));
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c64;
	while (len--) {
		__asm__("crc32b %1, %0" : "+r"(crc) : "rm"(*p));
		p++;
	}
	return crc;
}
#else
static int
crc_cpu_has_hw(void)
{
	return 0;
}

static uint32_t
crc_hw_raw(uint32_t crc, const uint8_t *p, size_t len)
{
	(void)p;
	(void)len;
	return crc; /* never called: crc_hw stays 0 */
}
#endif

static void
crc_once(void)
{
	int expect = 0;

	if (__atomic_load_n(&crc_state, __ATOMIC_ACQUIRE) == 2)
		return;
	if (__atomic_compare_exchange_n(&crc_state, &expect, 1, 0,
		__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
		crc_build();
		crc_hw = crc_cpu_has_hw();
		__atomic_store_n(&crc_state, 2, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&crc_state, __ATOMIC_ACQUIRE) != 2)
		;
}

/* Raw update by tables: crc is the running register (already inverted). */
static uint32_t
crc_sw_raw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t w;

	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ crc_tab[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		w ^= crc;
		crc = crc_tab[7][w & 0xff] ^ crc_tab[6][(w >> 8) & 0xff] ^
		    crc_tab[5][(w >> 16) & 0xff] ^
		    crc_tab[4][(w >> 24) & 0xff] ^
		    crc_tab[3][(w >> 32) & 0xff] ^
		    crc_tab[2][(w >> 40) & 0xff] ^
		    crc_tab[1][(w >> 48) & 0xff] ^ crc_tab[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_tab[0][(crc ^ *p++) & 0xff];
	return crc;
}

uint32_t
h2_crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	crc_once();
	if (crc_hw)
		return ~crc_hw_raw(~crc, buf, len);
	return ~crc_sw_raw(~crc, buf, len);
}

uint32_t
h2_crc32c(const void *buf, size_t len)
{
	return h2_crc32c_update(0, buf, len);
}

uint32_t
h2_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	crc_once();
	return ~crc_sw_raw(~crc, buf, len);
}

uint32_t
h2_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	crc_once();
	if (!crc_hw)
		return h2_crc32c_sw(crc, buf, len);
	return ~crc_hw_raw(~crc, buf, len);
}

int
h2_crc32c_hw_available(void)
{
	crc_once();
	return crc_hw;
}

/* ---- XXH64 ---- */

uint64_t
h2_xxh64(const void *buf, size_t len, uint64_t seed)
{
	return XXH64(buf, len, seed);
}

/* ---- SHA-256 (FIPS 180-4) ---- */

static const uint32_t sha_k[64] = {
	0x428a2f98,
	0x71374491,
	0xb5c0fbcf,
	0xe9b5dba5,
	0x3956c25b,
	0x59f111f1,
	0x923f82a4,
	0xab1c5ed5,
	0xd807aa98,
	0x12835b01,
	0x243185be,
	0x550c7dc3,
	0x72be5d74,
	0x80deb1fe,
	0x9bdc06a7,
	0xc19bf174,
	0xe49b69c1,
	0xefbe4786,
	0x0fc19dc6,
	0x240ca1cc,
	0x2de92c6f,
	0x4a7484aa,
	0x5cb0a9dc,
	0x76f988da,
	0x983e5152,
	0xa831c66d,
	0xb00327c8,
	0xbf597fc7,
	0xc6e00bf3,
	0xd5a79147,
	0x06ca6351,
	0x14292967,
	0x27b70a85,
	0x2e1b2138,
	0x4d2c6dfc,
	0x53380d13,
	0x650a7354,
	0x766a0abb,
	0x81c2c92e,
	0x92722c85,
	0xa2bfe8a1,
	0xa81a664b,
	0xc24b8b70,
	0xc76c51a3,
	0xd192e819,
	0xd6990624,
	0xf40e3585,
	0x106aa070,
	0x19a4c116,
	0x1e376c08,
	0x2748774c,
	0x34b0bcb5,
	0x391c0cb3,
	0x4ed8aa4a,
	0x5b9cca4f,
	0x682e6ff3,
	0x748f82ee,
	0x78a5636f,
	0x84c87814,
	0x8cc70208,
	0x90befffa,
	0xa4506ceb,
	0xbef9a3f7,
	0xc67178f2,
};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static uint32_t
be32_load(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
be32_store(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void
sha_block(uint32_t st[8], const uint8_t *blk)
{
	uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = be32_load(blk + 4 * i);
	for (i = 16; i < 64; i++) {
		t1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^
		    (w[i - 2] >> 10);
		t2 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^
		    (w[i - 15] >> 3);
		w[i] = t1 + w[i - 7] + t2 + w[i - 16];
	}
	a = st[0], b = st[1], c = st[2], d = st[3];
	e = st[4], f = st[5], g = st[6], h = st[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) +
		    ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
		t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) +
		    ((a & b) ^ (a & c) ^ (b & c));
		h = g, g = f, f = e, e = d + t1;
		d = c, c = b, b = a, a = t1 + t2;
	}
	st[0] += a, st[1] += b, st[2] += c, st[3] += d;
	st[4] += e, st[5] += f, st[6] += g, st[7] += h;
}

void
h2_sha256_init(struct h2_sha256 *sh)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
		0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(sh->sh_state, iv, sizeof(iv));
	sh->sh_bytes = 0;
	sh->sh_fill = 0;
}

void
h2_sha256_update(struct h2_sha256 *sh, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t n;

	sh->sh_bytes += len;
	if (sh->sh_fill) {
		n = 64 - sh->sh_fill;
		if (n > len)
			n = len;
		memcpy(sh->sh_buf + sh->sh_fill, p, n);
		sh->sh_fill += n;
		p += n;
		len -= n;
		if (sh->sh_fill < 64)
			return;
		sha_block(sh->sh_state, sh->sh_buf);
		sh->sh_fill = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha_block(sh->sh_state, p);
	memcpy(sh->sh_buf, p, len);
	sh->sh_fill = len;
}

void
h2_sha256_final(struct h2_sha256 *sh, uint8_t out[H2_SHA256_BYTES])
{
	uint64_t bits = sh->sh_bytes * 8;
	int i;

	sh->sh_buf[sh->sh_fill++] = 0x80;
	if (sh->sh_fill > 56) {
		memset(sh->sh_buf + sh->sh_fill, 0, 64 - sh->sh_fill);
		sha_block(sh->sh_state, sh->sh_buf);
		sh->sh_fill = 0;
	}
	memset(sh->sh_buf + sh->sh_fill, 0, 56 - sh->sh_fill);
	be32_store(sh->sh_buf + 56, (uint32_t)(bits >> 32));
	be32_store(sh->sh_buf + 60, (uint32_t)bits);
	sha_block(sh->sh_state, sh->sh_buf);
	for (i = 0; i < 8; i++)
		be32_store(out + 4 * i, sh->sh_state[i]);
	memset(sh, 0, sizeof(*sh));
}

void
h2_sha256(const void *buf, size_t len, uint8_t out[H2_SHA256_BYTES])
{
	struct h2_sha256 sh;

	h2_sha256_init(&sh);
	h2_sha256_update(&sh, buf, len);
	h2_sha256_final(&sh, out);
}

void
h2_sha192(const void *buf, size_t len, uint8_t out[24])
{
	uint8_t d[H2_SHA256_BYTES];
	int i;

	/* DragonFly folds the digest as 64-bit words: word 2 ^= word 3. */
	h2_sha256(buf, len, d);
	for (i = 0; i < 8; i++)
		d[16 + i] ^= d[24 + i];
	memcpy(out, d, 24);
}
