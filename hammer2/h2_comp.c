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
 * Interface: h2_decompress in h2_internal.h.
 */
#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

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
