/*
 * h2_comp.c: decoding compressed DATA blocks.
 *
 * Methods as DragonFly writes them:
 *  - LZ4: a 32-bit little-endian length n, then n bytes of one LZ4 block;
 *    the rest of the physical block is padding.
 *  - ZLIB: one zlib stream (with its header and Adler-32), then padding.
 *  - zstd (Damselfly extension, HAMMER2_COMP_DF_ZSTD): one zstd frame, then
 *    zero padding.
 * A block decodes to at most its logical size (cap); whatever it decodes to
 * is followed by zeros up to that size. Any decoder error, a length prefix
 * that overruns the block, or output that would exceed cap is -EIO and is
 * logged with the block: never partial or garbage data.
 *
 * zlib allocates through h2p_alloc (size-prefixed, since zfree gets no
 * size), so allocation-failure injection reaches it too.
 *
 * Encoding (the write path) follows DragonFly's hammer2_compress_and_write:
 * a block of physical size n is compressed into at most n / 2 bytes (LZ4:
 * the 4-byte length, then the LZ4 block, limited to n / 2 - 8; zlib at
 * level 6..9, 0 meaning 6; zstd at the inode's level, 0 meaning 3); if
 * that fails the block is stored as it is. A compressed block is stored in
 * the smallest power of two >= 1 KiB that holds it, zero padded. The
 * encoder states (LZ4 state, deflate stream, zstd context) are kept per
 * mount and allocated on first use.
 *
 * Interface: h2_decompress, h2_compress, h2_comp_free in h2_internal.h.
 */
#include <lz4.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem: our allocator */
#include <zstd.h>
#include <zstd_errors.h>

#include "hammer2/h2_internal.h"

static int
comp_fail(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const char *what)
{
	h2_set_problem(mp,
	    "%s block at 0x%016llx (key 0x%016llx) does not decode: %s",
	    h2_comp_name(HAMMER2_DEC_COMP(bref->methods)),
	    (unsigned long long)(bref->data_off & HAMMER2_OFF_MASK),
	    (unsigned long long)bref->key, what);
	H2_STAT_ADD(mp, st_decomp_fail, 1);
	return -EIO;
}

static int
dec_lz4(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const uint8_t *src, size_t srclen, void *dst, size_t cap, size_t *outlen)
{
	int32_t n;
	int got;

	if (srclen < sizeof(n))
		return comp_fail(mp, bref, "block shorter than its header");
	memcpy(&n, src, sizeof(n));
	if (n <= 0 || (size_t)n > srclen - sizeof(n))
		return comp_fail(mp, bref, "length prefix out of range");
	got = LZ4_decompress_safe((const char *)src + sizeof(n), dst, n,
	    (int)cap);
	if (got < 0)
		return comp_fail(mp, bref, "corrupt LZ4 data");
	*outlen = (size_t)got;
	return 0;
}

static voidpf
z_alloc(voidpf opaque, uInt items, uInt size)
{
	size_t n = (size_t)items * size;
	size_t *p;

	if (size != 0 && n / size != items)
		return Z_NULL;
	if ((p = h2p_alloc(n + sizeof(size_t) * 2)) == NULL)
		return Z_NULL;
	p[0] = n + sizeof(size_t) * 2;
	return p + 2; /* keep 16-byte alignment */
}

static void
z_free(voidpf opaque, voidpf ptr)
{
	size_t *p = (size_t *)ptr - 2;

	h2p_free(p, p[0]);
}

static int
dec_zlib(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const uint8_t *src, size_t srclen, void *dst, size_t cap, size_t *outlen)
{
	z_stream zs;
	int ret;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = z_alloc;
	zs.zfree = z_free;
	if ((ret = inflateInit(&zs)) == Z_MEM_ERROR)
		return -ENOMEM;
	if (ret != Z_OK)
		return comp_fail(mp, bref, "inflateInit failed");
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)srclen;
	zs.next_out = dst;
	zs.avail_out = (uInt)cap;
	ret = inflate(&zs, Z_FINISH);
	*outlen = cap - zs.avail_out;
	inflateEnd(&zs);
	if (ret == Z_MEM_ERROR)
		return -ENOMEM;
	if (ret != Z_STREAM_END)
		return comp_fail(mp, bref,
		    zs.msg ? zs.msg : "truncated stream");
	return 0;
}

static int
dec_zstd(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const uint8_t *src, size_t srclen, void *dst, size_t cap, size_t *outlen)
{
	size_t flen, got;

	flen = ZSTD_findFrameCompressedSize(src, srclen);
	if (ZSTD_isError(flen))
		return comp_fail(mp, bref, ZSTD_getErrorName(flen));
	got = ZSTD_decompress(dst, cap, src, flen);
	if (ZSTD_isError(got))
		return comp_fail(mp, bref, ZSTD_getErrorName(got));
	*outlen = got;
	return 0;
}

int
h2_decompress(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const void *src, size_t srclen, void *dst, size_t cap, size_t *outlen)
{
	int comp = HAMMER2_DEC_COMP(bref->methods), error;

	*outlen = 0;
	switch (comp) {
	case HAMMER2_COMP_LZ4:
		error = dec_lz4(mp, bref, src, srclen, dst, cap, outlen);
		break;
	case HAMMER2_COMP_ZLIB:
		error = dec_zlib(mp, bref, src, srclen, dst, cap, outlen);
		break;
	case HAMMER2_COMP_DF_ZSTD:
		error = dec_zstd(mp, bref, src, srclen, dst, cap, outlen);
		break;
	default:
		return h2_malformed(mp, bref, "unknown compression method");
	}
	if (error == 0)
		H2_STAT_ADD(mp, st_decomp[comp], 1);
	return error;
}

/* ---- encoding ---- */

static int
enc_lz4(struct h2_mount *mp, const void *src, size_t len, size_t *outlen)
{
	int n;

	if (mp->m_lz4state == NULL &&
	    (mp->m_lz4state = h2p_alloc((size_t)LZ4_sizeofState())) == NULL)
		return -ENOMEM;
	n = LZ4_compress_fast_extState(mp->m_lz4state, src,
	    (char *)mp->m_cbuf + sizeof(int32_t), (int)len,
	    (int)(len / 2 - sizeof(int64_t)), 1);
	if (n <= 0)
		return 0;
	memcpy(mp->m_cbuf, &n, sizeof(int32_t));
	*outlen = (size_t)n + sizeof(int32_t);
	return 0;
}

static int
enc_zlib(struct h2_mount *mp, int level, const void *src, size_t len,
    size_t *outlen)
{
	z_stream *zs = mp->m_zlib;
	int ret;

	if (level == 0 || level < 6)
		level = 6;
	if (level > 9)
		level = 9;
	if (zs != NULL && mp->m_zlib_level != level) {
		deflateEnd(zs);
		h2p_free(zs, sizeof(*zs));
		mp->m_zlib = zs = NULL;
	}
	if (zs == NULL) {
		if ((zs = h2p_zalloc(sizeof(*zs))) == NULL)
			return -ENOMEM;
		zs->zalloc = z_alloc;
		zs->zfree = z_free;
		if (deflateInit(zs, level) != Z_OK) {
			h2p_free(zs, sizeof(*zs));
			return -ENOMEM;
		}
		mp->m_zlib = zs;
		mp->m_zlib_level = level;
	} else if (deflateReset(zs) != Z_OK) {
		return -EIO;
	}
	zs->next_in = (Bytef *)(uintptr_t)src;
	zs->avail_in = (uInt)len;
	zs->next_out = mp->m_cbuf;
	zs->avail_out = (uInt)(len / 2);
	ret = deflate(zs, Z_FINISH);
	if (ret == Z_STREAM_END)
		*outlen = len / 2 - zs->avail_out;
	return 0;
}

static void *
zstd_alloc(void *opaque, size_t size)
{
	size_t *p = h2p_alloc(size + sizeof(size_t) * 2);

	if (p == NULL)
		return NULL;
	p[0] = size + sizeof(size_t) * 2;
	return p + 2;
}

static void
zstd_free(void *opaque, void *ptr)
{
	size_t *p;

	if (ptr == NULL)
		return;
	p = (size_t *)ptr - 2;
	h2p_free(p, p[0]);
}

static int
enc_zstd(struct h2_mount *mp, int level, const void *src, size_t len,
    size_t *outlen)
{
	ZSTD_customMem cm = { zstd_alloc, zstd_free, NULL };
	size_t n;

	if (mp->m_zstd == NULL &&
	    (mp->m_zstd = ZSTD_createCCtx_advanced(cm)) == NULL)
		return -ENOMEM;
	n = ZSTD_compressCCtx(mp->m_zstd, mp->m_cbuf, len / 2, src, len,
	    level ? level : 3);
	if (ZSTD_isError(n)) {
		if (ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation)
			return -ENOMEM;
		return 0;
	}
	*outlen = n;
	return 0;
}

int
h2_compress(struct h2_mount *mp, uint8_t comp_algo, const void *src, size_t len,
    int *methodp)
{
	int method = HAMMER2_DEC_ALGO(comp_algo), error;
	int level = HAMMER2_DEC_LEVEL(comp_algo);
	size_t out = 0, block;

	*methodp = HAMMER2_COMP_NONE;
	if (mp->m_cbuf == NULL &&
	    (mp->m_cbuf = h2p_alloc(HAMMER2_PBUFSIZE)) == NULL)
		return -ENOMEM;
	switch (method) {
	case HAMMER2_COMP_LZ4:
		error = enc_lz4(mp, src, len, &out);
		break;
	case HAMMER2_COMP_ZLIB:
		error = enc_zlib(mp, level, src, len, &out);
		break;
	case HAMMER2_COMP_DF_ZSTD:
		error = enc_zstd(mp, level, src, len, &out);
		break;
	default:
		return 0;
	}
	if (error)
		return error;
	if (out == 0 || out > len / 2) {
		H2_STAT_ADD(mp, st_comp_skipped, 1);
		return 0;
	}
	block = (size_t)1 << h2_radix(out);
	memset(mp->m_cbuf + out, 0, block - out);
	*methodp = method;
	H2_STAT_ADD(mp, st_comp[method], 1);
	return (int)block;
}

void
h2_comp_free(struct h2_mount *mp)
{
	if (mp->m_zlib != NULL) {
		deflateEnd(mp->m_zlib);
		h2p_free(mp->m_zlib, sizeof(z_stream));
		mp->m_zlib = NULL;
	}
	if (mp->m_zstd != NULL) {
		ZSTD_freeCCtx(mp->m_zstd);
		mp->m_zstd = NULL;
	}
	if (mp->m_lz4state != NULL) {
		h2p_free(mp->m_lz4state, (size_t)LZ4_sizeofState());
		mp->m_lz4state = NULL;
	}
	h2p_free(mp->m_cbuf, HAMMER2_PBUFSIZE);
	mp->m_cbuf = NULL;
	h2p_free(mp->m_zbuf, HAMMER2_PBUFSIZE);
	mp->m_zbuf = NULL;
}
