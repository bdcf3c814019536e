/*
 * The distribution's static libraries linked into the kernel work in the
 * guest: zstd, LZ4 and zlib round-trip 1 MiB of mixed data (text-like and
 * random), and libfdt parses the device tree QEMU's microvm exposes as
 * fw_cfg file etc/fdt and finds the virtio-mmio transports.
 */
#include <lz4.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include "arch/arch.h"
#include "core/ktest.h"

#define DATA_BYTES (1u << 20)

/* Half text from a small vocabulary, half pseudo-random bytes. */
static uint8_t *
make_data(void)
{
	static const char *const words[] = { "hammer2 ", "lwkt ", "token ",
		"message ", "virtio ", "snapshot\n", "freemap ", "blockref " };
	uint8_t *d = malloc(DATA_BYTES);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t n = 0;

	if (d == NULL)
		return NULL;
	while (n < DATA_BYTES / 2) {
		seed = seed * 6364136223846793005ULL + 1;
		const char *w = words[seed >> 61];
		size_t l = strlen(w);
		if (n + l > DATA_BYTES / 2)
			l = DATA_BYTES / 2 - n;
		memcpy(d + n, w, l);
		n += l;
	}
	for (; n < DATA_BYTES; n++) {
		seed = seed * 6364136223846793005ULL + 1;
		d[n] = (uint8_t)(seed >> 56);
	}
	return d;
}

KTEST(libs, zstd_roundtrip)
{
	uint8_t *src = make_data();
	size_t bound = ZSTD_compressBound(DATA_BYTES);
	uint8_t *c = malloc(bound), *out = malloc(DATA_BYTES);
	size_t cn, dn;

	KT_ASSERT(src && c && out);
	cn = ZSTD_compress(c, bound, src, DATA_BYTES, 3);
	KT_ASSERT(!ZSTD_isError(cn));
	KT_ASSERT(cn < DATA_BYTES * 3 / 4); /* the text half compresses */
	dn = ZSTD_decompress(out, DATA_BYTES, c, cn);
	KT_ASSERT(!ZSTD_isError(dn));
	KT_ASSERT_EQ(dn, DATA_BYTES);
	KT_ASSERT(memcmp(src, out, DATA_BYTES) == 0);
	c[cn / 2] ^= 0xff; /* corrupted input: an error, not a crash */
	dn = ZSTD_decompress(out, DATA_BYTES, c, cn);
	KT_ASSERT(ZSTD_isError(dn) || memcmp(src, out, DATA_BYTES) != 0);
	free(src);
	free(c);
	free(out);
}

KTEST(libs, lz4_roundtrip)
{
	uint8_t *src = make_data();
	int bound = LZ4_compressBound(DATA_BYTES);
	uint8_t *c = malloc((size_t)bound), *out = malloc(DATA_BYTES);
	int cn, dn;

	KT_ASSERT(src && c && out);
	cn = LZ4_compress_default((const char *)src, (char *)c, DATA_BYTES,
	    bound);
	KT_ASSERT(cn > 0 && cn < (int)DATA_BYTES);
	dn = LZ4_decompress_safe((const char *)c, (char *)out, cn, DATA_BYTES);
	KT_ASSERT_EQ(dn, DATA_BYTES);
	KT_ASSERT(memcmp(src, out, DATA_BYTES) == 0);
	dn = LZ4_decompress_safe((const char *)c, (char *)out, cn / 2,
	    DATA_BYTES);
	KT_ASSERT(dn < 0); /* truncated input is refused */
	free(src);
	free(c);
	free(out);
}

KTEST(libs, zlib_roundtrip)
{
	uint8_t *src = make_data();
	uLongf cn = compressBound(DATA_BYTES), dn = DATA_BYTES;
	uint8_t *c = malloc(cn), *out = malloc(DATA_BYTES);

	KT_ASSERT(src && c && out);
	KT_ASSERT_EQ(compress2(c, &cn, src, DATA_BYTES, 6), Z_OK);
	KT_ASSERT(cn < DATA_BYTES);
	KT_ASSERT_EQ(uncompress(out, &dn, c, cn), Z_OK);
	KT_ASSERT_EQ(dn, DATA_BYTES);
	KT_ASSERT(memcmp(src, out, DATA_BYTES) == 0);
	c[cn / 3] ^= 0x55;
	dn = DATA_BYTES;
	KT_ASSERT(uncompress(out, &dn, c, cn) != Z_OK);
	free(src);
	free(c);
	free(out);
}

/*
 * microvm's etc/fdt is padded to 1 MiB: the header's totalsize is the
 * truth. Every virtio,mmio node has a reg and an interrupt.
 */
KTEST_F(libs, libfdt_microvm, KTEST_MICROVM)
{
	uint16_t sel;
	int64_t size = arch_fwcfg_find("etc/fdt", &sel);
	void *fdt;
	int node, count = 0, len;

	KT_ASSERT(size > 0 && size <= (16 << 20));
	fdt = malloc((size_t)size);
	KT_ASSERT(fdt != NULL);
	KT_ASSERT_EQ(arch_fwcfg_read(sel, fdt, 0, (uint32_t)size), 0);
	KT_ASSERT_EQ(fdt_check_header(fdt), 0);
	KT_ASSERT(fdt_totalsize(fdt) <= (uint64_t)size);
	kprintf("ktest: etc/fdt is %lld bytes, the tree %u\n", (long long)size,
	    fdt_totalsize(fdt));
	for (node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio");
	     node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio")) {
		const char *name = fdt_get_name(fdt, node, NULL);
		KT_ASSERT(
		    name != NULL && strncmp(name, "virtio_mmio@", 12) == 0);
		KT_ASSERT(fdt_getprop(fdt, node, "reg", &len) != NULL);
		KT_ASSERT(len >= 8);
		KT_ASSERT(fdt_getprop(fdt, node, "interrupts", &len) != NULL);
		count++;
	}
	KT_ASSERT(count >= 1);
	kprintf("ktest: libfdt found %d virtio-mmio transports\n", count);
	/* A damaged header is refused. */
	((uint32_t *)fdt)[0] = 0;
	KT_ASSERT(fdt_check_header(fdt) != 0);
	free(fdt);
}
