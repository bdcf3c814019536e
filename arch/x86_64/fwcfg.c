/*
 * QEMU's firmware configuration device (fw_cfg), through its DMA interface
 * only: a read of any size is one 32-bit port write (plus one for the high
 * address half when it is not zero), never a port access per byte, which
 * on KVM would be a VM exit per byte. Found at I/O port 0x510 on both
 * microvm and q35; the DMA register at 0x514 reads back "QEMU CFG".
 *
 * Interface:
 *  - fwcfg_init() once during arch_init(); without the DMA interface every
 *    call returns -ENODEV.
 *  - Callers may pass any buffer: one outside the identity map (a kernel
 *    stack) is read through a bounce page.
 *  - Calls are serialized by a lock (the device has one selector).
 */
#include <errno.h>
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pmap.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DMA 0x514
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_DMA_SIG	0x51454d5520434647ULL /* "QEMU CFG" */

#define DMA_CTL_ERROR	0x01
#define DMA_CTL_READ	0x02
#define DMA_CTL_SKIP	0x04
#define DMA_CTL_SELECT	0x08

struct fw_cfg_dma {
	uint32_t control; /* big-endian, as every field */
	uint32_t length;
	uint64_t address;
} __attribute__((packed, aligned(16)));

struct fw_cfg_file {
	uint32_t size;
	uint16_t select;
	uint16_t reserved;
	char name[56];
} __attribute__((packed));
_Static_assert(sizeof(struct fw_cfg_file) == 64, "fw_cfg file entry");

static bool fwcfg_dma;
static volatile int fwcfg_lock;
static struct fw_cfg_dma dma_desc;
static char bounce[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void
lock(void)
{
	while (!__sync_bool_compare_and_swap(&fwcfg_lock, 0, 1))
		cpu_pause();
}

static void
unlock(void)
{
	__atomic_store_n(&fwcfg_lock, 0, __ATOMIC_RELEASE);
}

/* One DMA transfer; the device completes it before the port write ends. */
static int
dma_xfer(uint32_t control, void *buf, uint32_t len)
{
	uint64_t pa = (uintptr_t)&dma_desc;

	dma_desc.control = __builtin_bswap32(control);
	dma_desc.length = __builtin_bswap32(len);
	dma_desc.address = __builtin_bswap64((uintptr_t)buf);
	__asm__ volatile("" : : : "memory");
	if (pa >> 32)
		outl(FW_CFG_PORT_DMA, __builtin_bswap32((uint32_t)(pa >> 32)));
	outl(FW_CFG_PORT_DMA + 4, __builtin_bswap32((uint32_t)pa));
	__asm__ volatile("" : : : "memory");
	control = __builtin_bswap32(dma_desc.control);
	while (control & ~DMA_CTL_ERROR) {
		cpu_pause();
		control = __builtin_bswap32(
		    __atomic_load_n(&dma_desc.control, __ATOMIC_ACQUIRE));
	}
	return (control & DMA_CTL_ERROR) ? -EIO : 0;
}

static bool
identity_mapped(const void *p, size_t len)
{
	return (uintptr_t)p + len < PMAP_STACK_BASE;
}

static int
read_locked(uint16_t sel, void *buf, uint32_t off, uint32_t len)
{
	int err;

	err = dma_xfer(((uint32_t)sel << 16) | DMA_CTL_SELECT | DMA_CTL_SKIP,
	    NULL, off);
	if (err < 0 || len == 0)
		return err;
	if (identity_mapped(buf, len))
		return dma_xfer(DMA_CTL_READ, buf, len);
	while (len > 0 && err == 0) {
		uint32_t n = len < sizeof(bounce) ? len : sizeof(bounce);
		err = dma_xfer(DMA_CTL_READ, bounce, n);
		memcpy(buf, bounce, n);
		buf = (char *)buf + n;
		len -= n;
	}
	return err;
}

int
arch_fwcfg_read(uint16_t selector, void *buf, uint32_t off, uint32_t len)
{
	int err;

	if (!fwcfg_dma)
		return -ENODEV;
	lock();
	err = read_locked(selector, buf, off, len);
	unlock();
	return err;
}

/*
 * The file directory is a big-endian count and then 64-byte entries; the
 * device's read offset advances with each transfer, so after the count the
 * entries are read a bounce page (64 entries) per DMA.
 */
static int64_t
find_locked(const char *name, uint16_t *selector)
{
	const struct fw_cfg_file *f = (const struct fw_cfg_file *)bounce;
	const uint32_t per = sizeof(bounce) / sizeof(*f);
	uint32_t count, i, j, n;

	if (dma_xfer(((uint32_t)FW_CFG_FILE_DIR << 16) | DMA_CTL_SELECT |
		    DMA_CTL_READ,
		bounce, 4) < 0)
		return -EIO;
	memcpy(&count, bounce, 4);
	count = __builtin_bswap32(count);
	if (count > 65536)
		return -EIO;
	for (i = 0; i < count; i += n) {
		n = count - i < per ? count - i : per;
		if (dma_xfer(DMA_CTL_READ, bounce, n * sizeof(*f)) < 0)
			return -EIO;
		for (j = 0; j < n; j++) {
			if (strncmp(f[j].name, name, sizeof(f[j].name)) == 0 &&
			    memchr(f[j].name, 0, sizeof(f[j].name)) != NULL) {
				*selector = __builtin_bswap16(f[j].select);
				return __builtin_bswap32(f[j].size);
			}
		}
	}
	return -ENOENT;
}

int64_t
arch_fwcfg_find(const char *name, uint16_t *selector)
{
	int64_t r;

	if (!fwcfg_dma)
		return -ENODEV;
	lock();
	r = find_locked(name, selector);
	unlock();
	return r;
}

void
fwcfg_init(void)
{
	uint64_t sig =
	    ((uint64_t)__builtin_bswap32(inl(FW_CFG_PORT_DMA)) << 32) |
	    __builtin_bswap32(inl(FW_CFG_PORT_DMA + 4));

	fwcfg_dma = sig == FW_CFG_DMA_SIG;
	if (!fwcfg_dma)
		boot_warn("fw_cfg: no DMA interface (signature %#lx); "
			  "fw_cfg files are not read",
		    (unsigned long)sig);
}
