/*
 * Unit tests that need no image: the hash functions against published
 * vectors (and against a bit-at-a-time CRC for every length and alignment;
 * both CRC-32C paths, SSE4.2 and tables, against each other),
 * the check codes of every method (set, verify, detect a flip), the
 * directory hash against keys found on reference media, volume header
 * sealing, printable names, and the host platform's allocator hooks.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2/h2_hash.h"
#include "hammer2/hammer2_host.h"
#include "hammer2/test/h2test.h"

static uint32_t
crc_bitwise(const uint8_t *p, size_t len)
{
	uint32_t c = ~0u;
	int k;

	while (len--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
	}
	return ~c;
}

START_TEST(test_crc32c_vectors)
{
	uint8_t buf[300], zeros[32] = { 0 }, ones[32];
	size_t len, off;
	int i;

	/* RFC 3720 B.4 and the usual check value. */
	ck_assert_uint_eq(h2_crc32c("123456789", 9), 0xE3069283u);
	ck_assert_uint_eq(h2_crc32c(zeros, 32), 0x8A9136AAu);
	memset(ones, 0xff, sizeof(ones));
	ck_assert_uint_eq(h2_crc32c(ones, 32), 0x62A8AB43u);
	ck_assert_uint_eq(h2_crc32c("", 0), 0);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	/* Every length at every alignment agrees with the slow reference. */
	for (off = 0; off < 8; off++)
		for (len = 0; len + off <= sizeof(buf); len += 13)
			ck_assert_uint_eq(h2_crc32c(buf + off, len),
			    crc_bitwise(buf + off, len));
	ck_assert_uint_eq(h2_crc32c_update(h2_crc32c(buf, 100), buf + 100, 77),
	    h2_crc32c(buf, 177));
}
END_TEST

/*
 * Both CRC-32C implementations (SSE4.2 crc32 when the CPU has it, and the
 * slicing-by-8 tables) against RFC 3720 B.4, then against each other and
 * the bitwise reference over random buffers, lengths, alignments and
 * running CRCs. On a CPU without SSE4.2 both calls take the tables.
 */
START_TEST(test_crc32c_paths)
{
	static const uint8_t pdu[48] = { 0x01, 0xc0, [16] = 0x14, [22] = 0x04,
		[27] = 0x14, [31] = 0x18, [32] = 0x28, [40] = 0x02 };
	static const struct {
		int v_kind; /* 0 zeros, 1 ones, 2 up, 3 down, 4 pdu */
		uint32_t v_crc;
	} vec[] = { { 0, 0x8A9136AAu }, { 1, 0x62A8AB43u }, { 2, 0x46DD794Eu },
		{ 3, 0x113FDB5Cu }, { 4, 0xD9963A56u } };
	uint8_t v[48], *buf = malloc(8192);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t crc, a, b;
	size_t len, off, cut;
	int i, k;

#if defined(__x86_64__)
	__builtin_cpu_init();
	ck_assert_int_eq(h2_crc32c_hw_available(),
	    !!__builtin_cpu_supports("sse4.2"));
#else
	ck_assert_int_eq(h2_crc32c_hw_available(), 0);
#endif
	for (i = 0; i < 5; i++) {
		for (k = 0; k < 32; k++)
			v[k] = vec[i].v_kind == 0 ? 0 :
			    vec[i].v_kind == 1	  ? 0xff :
			    vec[i].v_kind == 2	  ? (uint8_t)k :
						    (uint8_t)(31 - k);
		len = 32;
		if (vec[i].v_kind == 4) {
			memcpy(v, pdu, sizeof(pdu));
			len = sizeof(pdu);
		}
		ck_assert_uint_eq(h2_crc32c(v, len), vec[i].v_crc);
		ck_assert_uint_eq(h2_crc32c_sw(0, v, len), vec[i].v_crc);
		ck_assert_uint_eq(h2_crc32c_hw(0, v, len), vec[i].v_crc);
		ck_assert_uint_eq(crc_bitwise(v, len), vec[i].v_crc);
	}
	for (k = 0; k < 8192; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[k] = (uint8_t)(x >> 24);
	}
	for (i = 0; i < 3000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		off = x % 16;
		len = (i < 600) ? (size_t)i % 70 : (x >> 8) % (8192 - 16);
		crc = (uint32_t)(x >> 32);
		a = h2_crc32c_sw(crc, buf + off, len);
		b = h2_crc32c_hw(crc, buf + off, len);
		ck_assert_msg(a == b, "len %zu off %zu: %08x != %08x", len, off,
		    a, b);
		ck_assert_uint_eq(h2_crc32c_update(crc, buf + off, len), a);
		if (crc == 0 && len < 2000)
			ck_assert_uint_eq(a, crc_bitwise(buf + off, len));
		/* Continuing across any split, mixing the two paths. */
		cut = len ? (x >> 40) % len : 0;
		ck_assert_uint_eq(
		    h2_crc32c_hw(h2_crc32c_sw(crc, buf + off, cut),
			buf + off + cut, len - cut),
		    a);
	}
	for (len = 0; len < 300; len++)
		ck_assert_uint_eq(h2_crc32c_hw(0, buf + 3, len),
		    crc_bitwise(buf + 3, len));
	free(buf);
}
END_TEST

static void
hex(const uint8_t *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

START_TEST(test_sha256_vectors)
{
	struct h2_sha256 sh;
	uint8_t d[32], d2[32], *big;
	char s[65];
	int i;

	h2_sha256("abc", 3, d);
	hex(d, 32, s);
	ck_assert_str_eq(s,
	    "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	h2_sha256("", 0, d);
	hex(d, 32, s);
	ck_assert_str_eq(s,
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	h2_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, d);
	hex(d, 32, s);
	ck_assert_str_eq(s,
	    "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	big = malloc(1000000);
	memset(big, 'a', 1000000);
	h2_sha256(big, 1000000, d);
	hex(d, 32, s);
	ck_assert_str_eq(s,
	    "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	/* Incremental updates in odd pieces give the same digest. */
	h2_sha256_init(&sh);
	for (i = 0; i < 1000000; i += 999)
		h2_sha256_update(&sh, big + i,
		    i + 999 <= 1000000 ? 999 : 1000000 - i);
	h2_sha256_final(&sh, d2);
	ck_assert_mem_eq(d, d2, 32);
	free(big);
}
END_TEST

START_TEST(test_sha192_fold)
{
	uint8_t d[32], s192[24];
	int i;

	h2_sha256("abc", 3, d);
	h2_sha192("abc", 3, s192);
	ck_assert_mem_eq(s192, d, 16);
	for (i = 0; i < 8; i++)
		ck_assert_uint_eq(s192[16 + i], d[16 + i] ^ d[24 + i]);
}
END_TEST

START_TEST(test_xxh64_vectors)
{
	/* XXH64 of the empty input with seed 0 (the library's own vector). */
	ck_assert_uint_eq(h2_xxh64("", 0, 0), 0xEF46DB3751D8E999ull);
	ck_assert_uint_ne(h2_xxh64("", 0, HAMMER2_XXH_SEED),
	    0xEF46DB3751D8E999ull);
}
END_TEST

START_TEST(test_check_methods)
{
	static const int methods[] = { HAMMER2_CHECK_ISCSI32,
		HAMMER2_CHECK_XXHASH64, HAMMER2_CHECK_SHA192,
		HAMMER2_CHECK_FREEMAP };
	struct hammer2_blockref b;
	uint8_t data[4096];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		memset(&b, 0, sizeof(b));
		b.methods = HAMMER2_ENC_CHECK(methods[i]);
		h2_bref_setcheck(&b, data, sizeof(data));
		ck_assert_int_eq(h2_bref_check(&b, data, sizeof(data)), 0);
		data[1234] ^= 0x10;
		ck_assert_int_eq(h2_bref_check(&b, data, sizeof(data)), -EIO);
		data[1234] ^= 0x10;
		ck_assert_int_eq(h2_bref_check(&b, data, sizeof(data) - 1),
		    -EIO);
	}
	memset(&b, 0, sizeof(b));
	b.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_XXHASH64);
	h2_bref_setcheck(&b, data, sizeof(data));
	ck_assert_uint_eq(b.check.xxhash64.value,
	    h2_xxh64(data, sizeof(data), 0x4d617474446c6c6eull));
	b.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_NONE);
	ck_assert_int_eq(h2_bref_check(&b, data, 1), 0);
	b.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_DISABLED);
	ck_assert_int_eq(h2_bref_check(&b, data, 1), 0);
	b.methods = HAMMER2_ENC_CHECK(9);
	ck_assert_int_eq(h2_bref_check(&b, data, 1), -EINVAL);
}
END_TEST

START_TEST(test_dirhash_vectors)
{
	/* Keys as stored by an independent implementation (makefs) in the
	 * reference images; the low 15 bits there resolve collisions. */
	static const struct {
		const char *name;
		uint64_t key;
	} v[] = {
		{ "DATA", 0xc78fff92381d8000ull },
		{ "d1", 0xfdfff9ba04458000ull },
		{ "deep.txt", 0xbacbc95bb33d8000ull },
		{ "a.b-c_d~e", 0xafa85316bbc78000ull },
		{ "caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.txt",
		    0xa134288bcf958000ull },
		{ "f00708", 0x800a3660366a8000ull },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_uint_eq(h2_dirhash(v[i].name, strlen(v[i].name)),
		    v[i].key);
	/* Separators only split: empty parts add nothing. */
	ck_assert_uint_eq(h2_dirhash("a..b", 4) >> 32,
	    h2_dirhash("a.b", 3) >> 32);
	ck_assert(h2_dirhash("", 0) & HAMMER2_DIRHASH_VISIBLE);
	ck_assert_uint_eq(h2_dirhash("x", 1) & HAMMER2_DIRHASH_LOMASK, 0);
	ck_assert_uint_eq(h2_dirhash("x", 1) & 0x8000, 0x8000);
}
END_TEST

START_TEST(test_volhdr_seal)
{
	struct hammer2_volume_data *vd = calloc(1, sizeof(*vd));
	const char *why;

	ck_assert_int_eq(h2_volhdr_verify(vd, &why), -EINVAL);
	ck_assert_str_eq(why, "bad magic");
	vd->magic = HAMMER2_VOLUME_ID_HBO;
	vd->mirror_tid = 77;
	h2_volhdr_seal(vd);
	ck_assert_int_eq(h2_volhdr_verify(vd, &why), 0);
	ck_assert_ptr_null(why);
	/* Each CRC guards its own range. */
	vd->sroot_blockset.blockref[0].key ^= 1;
	ck_assert_int_eq(h2_volhdr_verify(vd, &why), -EINVAL);
	ck_assert_str_eq(why, "sector 1 CRC mismatch");
	vd->sroot_blockset.blockref[0].key ^= 1;
	vd->mirror_tid ^= 1;
	ck_assert_int_eq(h2_volhdr_verify(vd, &why), -EINVAL);
	ck_assert_str_eq(why, "sector 0 CRC mismatch");
	vd->mirror_tid ^= 1;
	vd->copyinfo[3].label[0] ^= 1;
	ck_assert_int_eq(h2_volhdr_verify(vd, &why), -EINVAL);
	ck_assert_str_eq(why, "volume header CRC mismatch");
	vd->copyinfo[3].label[0] ^= 1;
	ck_assert_int_eq(h2_volhdr_verify(vd, NULL), 0);
	vd->magic = HAMMER2_VOLUME_ID_ABO;
	ck_assert_int_eq(h2_volhdr_verify(vd, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "byte-swapped"));
	free(vd);
}
END_TEST

START_TEST(test_names)
{
	struct hammer2_uuid u;
	char s[37];

	ck_assert_str_eq(h2_bref_type_name(HAMMER2_BREF_TYPE_INDIRECT),
	    "indirect");
	ck_assert_str_eq(h2_bref_type_name(99), "unknown");
	ck_assert_str_eq(h2_check_name(HAMMER2_CHECK_XXHASH64), "xxhash64");
	ck_assert_str_eq(h2_check_name(15), "?");
	ck_assert_str_eq(h2_comp_name(HAMMER2_COMP_DF_ZSTD), "zstd");
	ck_assert_str_eq(h2_comp_name(HAMMER2_COMP_ZLIB), "zlib");
	ck_assert_str_eq(h2_objtype_name(HAMMER2_OBJTYPE_SOFTLINK), "softlink");
	ck_assert_str_eq(h2_pfstype_name(HAMMER2_PFSTYPE_SUPROOT), "suproot");
	/* The fstype UUID's bytes as stored on media. */
	memcpy(&u,
	    "\xd1\x9a\xbb\x5c\x2d\x86\xdc\x11\xa9\x4d\x01\x30\x1b\xb8\xa9\xf5",
	    16);
	h2_uuid_format(&u, s);
	ck_assert_str_eq(s, HAMMER2_UUID_STRING);
}
END_TEST

START_TEST(test_host_alloc_hooks)
{
	uint64_t live = h2_host_alloc_live();
	void *a, *b;

	a = h2p_alloc(10);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(h2_host_alloc_live(), live + 1);
	h2_host_fail_alloc(2);
	b = h2p_alloc(10);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(h2p_alloc(10));
	h2p_free(b, 10);
	b = h2p_zalloc(10);
	ck_assert_ptr_nonnull(b);
	ck_assert_mem_eq(b, "\0\0\0\0\0\0\0\0\0\0", 10);
	h2p_free(b, 10);
	h2p_free(a, 10);
	h2p_free(NULL, 5);
	ck_assert_uint_eq(h2_host_alloc_live(), live);
}
END_TEST

START_TEST(test_host_free_wrong_size_panics)
{
	void *a = h2p_alloc(10);

	h2p_free(a, 11); /* aborts: Check expects the signal */
}
END_TEST

START_TEST(test_host_log_capture)
{
	h2t_log_capture();
	h2p_log(H2_LOG_ERR, "hammer2: test line %d", 42);
	h2p_log(H2_LOG_DEBUG, "other");
	ck_assert_int_eq(h2t_log_count("line 42"), 1);
	ck_assert_int_eq(h2t_log_count(NULL), 2);
	h2t_log_stop();
	ck_assert_int_eq(h2t_log_count(NULL), 0);
}
END_TEST

static Suite *
unit_suite(void)
{
	Suite *s = suite_create("h2_unit");
	TCase *tc = tcase_create("unit");

	tcase_add_test(tc, test_crc32c_vectors);
	tcase_add_test(tc, test_crc32c_paths);
	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_sha192_fold);
	tcase_add_test(tc, test_xxh64_vectors);
	tcase_add_test(tc, test_check_methods);
	tcase_add_test(tc, test_dirhash_vectors);
	tcase_add_test(tc, test_volhdr_seal);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_host_alloc_hooks);
	tcase_add_test_raise_signal(tc, test_host_free_wrong_size_panics,
	    SIGABRT);
	tcase_add_test(tc, test_host_log_capture);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(unit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
