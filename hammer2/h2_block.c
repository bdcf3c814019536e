/*
 * h2_block.c: reading one block through its blockref, and check codes.
 *
 * A blockref names a block by data_off: the media offset in the high bits
 * and log2 of the physical size in the low six. Before a single byte is
 * read the reference itself is validated: the size must be 1 KiB..64 KiB
 * (exactly 1 KiB for an inode, 32 KiB for a freemap block), the block must
 * not straddle a 64 KiB boundary (DragonFly's device buffers never do) and
 * must end inside the volume. After the read the bytes are verified against
 * the check code; a mismatch is logged with the block's type, offset and
 * key and becomes -EIO.
 *
 * Metadata blocks (inodes, indirect blocks) go through a small direct-mapped
 * cache keyed by offset, method and check code, so the same verified block
 * is not read and hashed again for every inode lookup. A slot is reused only
 * when all three match, so the cache can never hand out bytes that were not
 * verified against the caller's blockref. Blocks without a real check code
 * are never cached.
 *
 * Interface: see h2_bref_read, h2_bref_check, h2_bref_setcheck in hammer2.h
 * and h2_bref_read_meta, h2_malformed in h2_internal.h.
 */
#include <stdarg.h>

#include "hammer2/h2_internal.h"
#include "hammer2/h2_hash.h"

const char *
h2_last_problem(const struct h2_mount *mp)
{
	return mp->m_why;
}

void
h2_set_problem(struct h2_mount *mp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mp->m_why, sizeof(mp->m_why), fmt, ap);
	va_end(ap);
	h2p_log(H2_LOG_ERR, "hammer2: %s", mp->m_why);
}

int
h2_malformed(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const char *what)
{
	if (bref != NULL) {
		h2_set_problem(mp,
		    "malformed %s blockref (data_off 0x%016llx key "
		    "0x%016llx keybits %u): %s",
		    h2_bref_type_name(bref->type),
		    (unsigned long long)bref->data_off,
		    (unsigned long long)bref->key, bref->keybits, what);
	} else {
		h2_set_problem(mp, "malformed metadata: %s", what);
	}
	H2_STAT_ADD(mp, st_malformed, 1);
	return -EIO;
}

int
h2_bref_check(const struct hammer2_blockref *bref, const void *data, size_t len)
{
	uint8_t sha[24];
	int ok;

	switch (HAMMER2_DEC_CHECK(bref->methods)) {
	case HAMMER2_CHECK_NONE:
	case HAMMER2_CHECK_DISABLED:
		return 0;
	case HAMMER2_CHECK_ISCSI32:
		ok = bref->check.iscsi32.value == h2_crc32c(data, len);
		break;
	case HAMMER2_CHECK_XXHASH64:
		ok = bref->check.xxhash64.value ==
		    h2_xxh64(data, len, HAMMER2_XXH_SEED);
		break;
	case HAMMER2_CHECK_SHA192:
		h2_sha192(data, len, sha);
		ok = memcmp(sha, bref->check.sha192.data, 24) == 0;
		break;
	case HAMMER2_CHECK_FREEMAP:
		ok = bref->check.freemap.icrc32 == h2_crc32c(data, len);
		break;
	default:
		return -EINVAL;
	}
	return ok ? 0 : -EIO;
}

void
h2_bref_setcheck(struct hammer2_blockref *bref, const void *data, size_t len)
{
	switch (HAMMER2_DEC_CHECK(bref->methods)) {
	case HAMMER2_CHECK_ISCSI32:
		memset(&bref->check, 0, sizeof(bref->check));
		bref->check.iscsi32.value = h2_crc32c(data, len);
		break;
	case HAMMER2_CHECK_XXHASH64:
		memset(&bref->check, 0, sizeof(bref->check));
		bref->check.xxhash64.value =
		    h2_xxh64(data, len, HAMMER2_XXH_SEED);
		break;
	case HAMMER2_CHECK_SHA192:
		memset(&bref->check, 0, sizeof(bref->check));
		h2_sha192(data, len, (uint8_t *)bref->check.sha192.data);
		break;
	case HAMMER2_CHECK_FREEMAP:
		/* Keep the allocation hints beside the CRC. */
		bref->check.freemap.icrc32 = h2_crc32c(data, len);
		break;
	default:
		break;
	}
}

/* Physical size rules per blockref type; 0 if acceptable. */
static const char *
bref_size_problem(const struct hammer2_blockref *bref, int radix)
{
	if (radix < HAMMER2_RADIX_MIN || radix > HAMMER2_RADIX_MAX)
		return "physical size radix out of range";
	switch (bref->type) {
	case HAMMER2_BREF_TYPE_INODE:
		return radix == HAMMER2_INODE_RADIX ? NULL :
						      "inode is not 1 KiB";
	case HAMMER2_BREF_TYPE_FREEMAP_NODE:
	case HAMMER2_BREF_TYPE_FREEMAP_LEAF:
		if ((1 << radix) != HAMMER2_FREEMAP_LEVELN_PSIZE)
			return "freemap block is not 32 KiB";
		return NULL;
	case HAMMER2_BREF_TYPE_INDIRECT:
	case HAMMER2_BREF_TYPE_DATA:
	case HAMMER2_BREF_TYPE_DIRENT:
		return NULL;
	default:
		return "blockref type has no data";
	}
}

static const char *
hexcheck(const struct hammer2_blockref *bref, const void *data, size_t len,
    char *out, size_t outlen)
{
	uint8_t sha[24];
	int i;

	out[0] = '\0';
	switch (HAMMER2_DEC_CHECK(bref->methods)) {
	case HAMMER2_CHECK_ISCSI32:
	case HAMMER2_CHECK_FREEMAP:
		snprintf(out, outlen, "%08x", h2_crc32c(data, len));
		break;
	case HAMMER2_CHECK_XXHASH64:
		snprintf(out, outlen, "%016llx",
		    (unsigned long long)h2_xxh64(data, len, HAMMER2_XXH_SEED));
		break;
	case HAMMER2_CHECK_SHA192:
		h2_sha192(data, len, sha);
		for (i = 0; i < 8 && (size_t)(2 * i + 2) < outlen; i++)
			snprintf(out + 2 * i, outlen - 2 * i, "%02x", sha[i]);
		break;
	}
	return out;
}

static int
check_block(struct h2_mount *mp, const struct hammer2_blockref *bref,
    const void *buf, size_t len)
{
	char got[24];
	int error;

	if (mp->m_flags & H2_MNT_NOVERIFY)
		return 0;
	error = h2_bref_check(bref, buf, len);
	if (error == -EINVAL)
		return h2_malformed(mp, bref, "unknown check method");
	if (error) {
		h2_set_problem(mp,
		    "check failed: %s block at 0x%016llx (%zu bytes, "
		    "key 0x%016llx, method %s): computed %s",
		    h2_bref_type_name(bref->type),
		    (unsigned long long)(bref->data_off & HAMMER2_OFF_MASK),
		    len, (unsigned long long)bref->key,
		    h2_check_name(HAMMER2_DEC_CHECK(bref->methods)),
		    hexcheck(bref, buf, len, got, sizeof(got)));
		H2_STAT_ADD(mp, st_check_fail, 1);
		return -EIO;
	}
	H2_STAT_ADD(mp, st_check_ok, 1);
	return 0;
}

int
h2_bref_read(struct h2_mount *mp, const struct hammer2_blockref *bref,
    void *buf, size_t *lenp)
{
	int radix = bref->data_off & HAMMER2_OFF_MASK_RADIX;
	uint64_t off = bref->data_off & HAMMER2_OFF_MASK;
	const char *why;
	size_t len;
	int error;

	*lenp = 0;
	if (radix == 0)
		return 0;
	if ((why = bref_size_problem(bref, radix)) != NULL)
		return h2_malformed(mp, bref, why);
	len = (size_t)1 << radix;
	if ((off & HAMMER2_PBUFMASK64) + len > HAMMER2_PBUFSIZE)
		return h2_malformed(mp, bref, "block straddles 64 KiB");
	if (off < HAMMER2_PBUFSIZE64 || off > mp->m_limit ||
	    mp->m_limit - off < len)
		return h2_malformed(mp, bref, "block outside the volume");
	error = h2_dev_read(mp->m_dev, off, buf, len);
	if (error) {
		h2_set_problem(mp, "read error %d: %s block at 0x%016llx",
		    error, h2_bref_type_name(bref->type),
		    (unsigned long long)off);
		H2_STAT_ADD(mp, st_io_errors, 1);
		return -EIO;
	}
	h2p_lock(&mp->m_lock);
	mp->m_stats.st_blocks_read++;
	mp->m_stats.st_bytes_read += len;
	h2p_unlock(&mp->m_lock);
	if ((error = check_block(mp, bref, buf, len)) != 0)
		return error;
	*lenp = len;
	return 0;
}

/* ---- metadata cache ---- */

static int
cacheable(const struct h2_mount *mp, const struct hammer2_blockref *bref)
{
	int check = HAMMER2_DEC_CHECK(bref->methods);

	if (mp->m_flags & H2_MNT_NOVERIFY)
		return 0;
	if (bref->type != HAMMER2_BREF_TYPE_INODE &&
	    bref->type != HAMMER2_BREF_TYPE_INDIRECT)
		return 0;
	return check == HAMMER2_CHECK_ISCSI32 ||
	    check == HAMMER2_CHECK_XXHASH64 || check == HAMMER2_CHECK_SHA192;
}

static struct h2_cache_slot *
cache_slot(struct h2_mount *mp, const struct hammer2_blockref *bref)
{
	uint64_t h = (bref->data_off >> 10) * 0x9E3779B97F4A7C15ull;

	return &mp->m_cache[h >> 58 & (H2_CACHE_SLOTS - 1)];
}

static int
cache_match(const struct h2_cache_slot *cs, const struct hammer2_blockref *bref)
{
	return cs->cs_data_off == bref->data_off &&
	    cs->cs_methods == bref->methods &&
	    memcmp(cs->cs_check, &bref->check, sizeof(cs->cs_check)) == 0;
}

int
h2_bref_read_meta(struct h2_mount *mp, const struct hammer2_blockref *bref,
    void *buf, size_t *lenp)
{
	struct h2_cache_slot *cs;
	int error;

	if (!cacheable(mp, bref))
		return h2_bref_read(mp, bref, buf, lenp);
	cs = cache_slot(mp, bref);
	if (cs->cs_buf != NULL && cache_match(cs, bref)) {
		memcpy(buf, cs->cs_buf, cs->cs_len);
		*lenp = cs->cs_len;
		H2_STAT_ADD(mp, st_cache_hits, 1);
		return 0;
	}
	H2_STAT_ADD(mp, st_cache_misses, 1);
	if ((error = h2_bref_read(mp, bref, buf, lenp)) != 0)
		return error;
	if (cs->cs_buf == NULL)
		cs->cs_buf = h2p_alloc(HAMMER2_PBUFSIZE);
	if (cs->cs_buf == NULL) /* a cache is optional */
		return 0;
	memcpy(cs->cs_buf, buf, *lenp);
	cs->cs_len = (uint32_t)*lenp;
	cs->cs_data_off = bref->data_off;
	cs->cs_methods = bref->methods;
	memcpy(cs->cs_check, &bref->check, sizeof(cs->cs_check));
	return 0;
}

void
h2_cache_forget(struct h2_mount *mp, hammer2_off_t off)
{
	struct hammer2_blockref b;
	struct h2_cache_slot *cs;
	int radix;

	/* A block cached under any size radix at off. */
	for (radix = HAMMER2_RADIX_MIN; radix <= HAMMER2_RADIX_MAX; radix++) {
		b.data_off = off | (hammer2_off_t)radix;
		cs = cache_slot(mp, &b);
		if ((cs->cs_data_off & HAMMER2_OFF_MASK) == off)
			cs->cs_data_off = 0;
	}
}

void
h2_cache_free(struct h2_mount *mp)
{
	int i;

	for (i = 0; i < H2_CACHE_SLOTS; i++) {
		h2p_free(mp->m_cache[i].cs_buf, HAMMER2_PBUFSIZE);
		mp->m_cache[i].cs_buf = NULL;
		mp->m_cache[i].cs_data_off = 0;
	}
}
