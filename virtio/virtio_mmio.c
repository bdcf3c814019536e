/*
 * virtio/virtio_mmio.c: the virtio-mmio transport (virtio 1.2, section
 * 4.2), as QEMU's microvm machine has it: version 2 (modern), and version
 * 1 (legacy), which is what microvm gives unless told
 * -global virtio-mmio.force-legacy=false.
 *
 * Finding the transports. QEMU lists the ones with a device plugged in
 * two places, both read here:
 *  - the device tree at fw_cfg "etc/fdt": nodes "virtio_mmio@ADDR",
 *    compatible "virtio,mmio", with reg and interrupts. "interrupts" is a
 *    pin of the IOAPIC the interrupt-parent names. With ACPI on, microvm
 *    has a second IOAPIC (0xfec10000, GSIs 24..47) and puts virtio there,
 *    from GSI 24; with acpi=off there is one and virtio uses GSIs 5..12.
 *    The device tree does not carry GSI bases, so a pin's GSI is taken as
 *    24 x (the IOAPIC's rank by address among the tree's IOAPICs) + pin,
 *    QEMU's numbering.
 *  - the kernel command line QEMU appends when ACPI is off:
 *    "virtio_mmio.device=512@0xfeb00e00:12" (size@address:GSI), Linux's
 *    syntax. Its GSI is QEMU's own word and wins over the tree's when the
 *    two disagree (a warning says so).
 * A transport is used when its magic, version (1 or 2) and device id
 * check out; an empty slot (device id 0) is skipped.
 *
 * Interrupts: one level-triggered, active-high GSI per device, routed to
 * the boot CPU. The handler reads and acknowledges InterruptStatus and
 * calls every queue's callback (the drivers only wake their threads) or
 * the config-change callback.
 *
 * Interface: virtio_mmio_scan() from virtio_init(); nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>
#include <linux/virtio_mmio.h>
#include "arch/arch.h"
#include "core/config.h"
#include "core/kmalloc.h"
#include "virtio/virtio_internal.h"

#define MMIO_MAGIC	0x74726976 /* "virt" */
#define MMIO_MAX	32
#define IOAPIC_PINS	24
#define MMIO_REGION_MIN 0x200

/* Declared so the config parser knows QEMU's key; scanned below, since
 * it may appear several times. */
static char mmio_cmdline_key[64];
CFG_STR(virtio_mmio_device, "virtio_mmio.device", mmio_cmdline_key,
    "virtio-mmio transport size@address:gsi (QEMU adds it; may repeat)");

struct vmmio {
	struct virtio_dev vm_dev;
	uintptr_t vm_base;
	unsigned vm_gsi;
	int vm_vector;
	uint64_t vm_intrs;
};

struct mmio_slot {
	uint64_t ms_addr, ms_size;
	int ms_gsi_fdt, ms_gsi_cmdline; /* -1: not said */
};

static struct mmio_slot slots[MMIO_MAX];
static int nslots;

static struct vmmio *
vmmio_of(struct virtio_dev *d)
{
	return (struct vmmio *)d->vd_tpriv;
}

static uint32_t
rd(struct virtio_dev *d, unsigned reg)
{
	return mmio_r32(vmmio_of(d)->vm_base + reg);
}

static void
wr(struct virtio_dev *d, unsigned reg, uint32_t v)
{
	mmio_w32(vmmio_of(d)->vm_base + reg, v);
}

/* ---- Ops ---- */

static uint64_t
mmio_get_features(struct virtio_dev *d)
{
	uint64_t f;

	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	if (d->vd_legacy)
		return f;
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void
mmio_set_features(struct virtio_dev *d, uint64_t f)
{
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	if (d->vd_legacy)
		return;
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static uint8_t
mmio_get_status(struct virtio_dev *d)
{
	return (uint8_t)rd(d, VIRTIO_MMIO_STATUS);
}

static void
mmio_set_status(struct virtio_dev *d, uint8_t s)
{
	wr(d, VIRTIO_MMIO_STATUS, s);
}

static uint32_t
mmio_config_generation(struct virtio_dev *d)
{
	return d->vd_legacy ? 0 : rd(d, VIRTIO_MMIO_CONFIG_GENERATION);
}

static void
mmio_fence(struct virtio_dev *d)
{
	(void)rd(d, VIRTIO_MMIO_MAGIC_VALUE);
}

static void
mmio_read_config(struct virtio_dev *d, unsigned off, void *buf, unsigned len)
{
	uintptr_t a = vmmio_of(d)->vm_base + VIRTIO_MMIO_CONFIG + off;
	uint8_t *p = buf;
	unsigned i;

	for (i = 0; i < len; i++)
		p[i] = mmio_r8(a + i);
}

static unsigned
mmio_queue_max(struct virtio_dev *d, unsigned idx)
{
	wr(d, VIRTIO_MMIO_QUEUE_SEL, idx);
	if (d->vd_legacy ? rd(d, VIRTIO_MMIO_QUEUE_PFN) != 0 :
			   rd(d, VIRTIO_MMIO_QUEUE_READY) != 0)
		return 0; /* in use already: the device is confused */
	return rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

static int
mmio_queue_setup(struct virtio_dev *d, struct virtqueue *vq)
{
	uint64_t desc = arch_virt_to_phys(vq->vq_desc);
	uint64_t avail = arch_virt_to_phys(vq->vq_avail);
	uint64_t used = arch_virt_to_phys(vq->vq_used);

	wr(d, VIRTIO_MMIO_QUEUE_SEL, vq->vq_index);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, vq->vq_num);
	if (d->vd_legacy) {
		if ((desc >> PAGE_SHIFT) > UINT32_MAX)
			return -ENOMEM;
		wr(d, VIRTIO_MMIO_QUEUE_ALIGN, PAGE_SIZE);
		wr(d, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(desc >> PAGE_SHIFT));
		return 0;
	}
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

static void
mmio_notify(struct virtqueue *vq)
{
	wr(vq->vq_dev, VIRTIO_MMIO_QUEUE_NOTIFY, vq->vq_index);
}

static void
mmio_intr(void *arg)
{
	struct vmmio *m = arg;
	struct virtio_dev *d = &m->vm_dev;
	uint32_t st = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);
	unsigned i;

	m->vm_intrs++;
	if (st == 0)
		return;
	wr(d, VIRTIO_MMIO_INTERRUPT_ACK, st);
	if (st & VIRTIO_MMIO_INT_VRING)
		for (i = 0; i < d->vd_nvqs; i++)
			if (d->vd_vqs[i] != NULL)
				vq_intr_dispatch(d->vd_vqs[i]);
	if ((st & VIRTIO_MMIO_INT_CONFIG) && d->vd_config_changed != NULL) {
		d->vd_config_intrs++;
		d->vd_config_changed(d);
	}
}

static int
mmio_setup_intr(struct virtio_dev *d)
{
	struct vmmio *m = vmmio_of(d);
	int err;

	if (m->vm_vector == 0) {
		m->vm_vector = arch_intr_alloc(mmio_intr, m);
		if (m->vm_vector < 0)
			return m->vm_vector;
	}
	err = arch_intr_route_gsi(m->vm_gsi, m->vm_vector, true, false);
	if (err != 0)
		log_err("virtio %s: cannot route GSI %u (error %d)",
		    d->vd_where, m->vm_gsi, err);
	return err;
}

static unsigned
mmio_max_queues(struct virtio_dev *d)
{
	return VIRTIO_MAX_VQS;
}

static const struct virtio_ops mmio_ops = {
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.fence = mmio_fence,
	.config_generation = mmio_config_generation,
	.read_config = mmio_read_config,
	.queue_max = mmio_queue_max,
	.queue_setup = mmio_queue_setup,
	.notify = mmio_notify,
	.setup_intr = mmio_setup_intr,
	.max_queues = mmio_max_queues,
};

/* ---- Discovery ---- */

static struct mmio_slot *
slot_for(uint64_t addr, uint64_t size)
{
	int i;

	for (i = 0; i < nslots; i++)
		if (slots[i].ms_addr == addr)
			return &slots[i];
	if (nslots == MMIO_MAX)
		return NULL;
	slots[nslots].ms_addr = addr;
	slots[nslots].ms_size = size;
	slots[nslots].ms_gsi_fdt = slots[nslots].ms_gsi_cmdline = -1;
	return &slots[nslots++];
}

static uint64_t
fdt_cells(const fdt32_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = (v << 32) | fdt32_to_cpu(*p++);
	return v;
}

/* The first reg address of node (the root's cell sizes). */
static int
node_reg(const void *fdt, int node, uint64_t *addr, uint64_t *size)
{
	int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0), len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (reg == NULL || ac < 1 || ac > 2 || sc < 0 || sc > 2 ||
	    len < (ac + sc) * 4)
		return -EINVAL;
	*addr = fdt_cells(reg, ac);
	*size = fdt_cells(reg + ac, sc);
	return 0;
}

/* GSI base of the IOAPIC at node: 24 x its rank by address. */
static int
ioapic_gsi_base(const void *fdt, int ioapic)
{
	uint64_t mine, a, s;
	int node, rank = 0;

	if (node_reg(fdt, ioapic, &mine, &s) != 0)
		return -1;
	for (node = fdt_next_node(fdt, -1, NULL); node >= 0;
	     node = fdt_next_node(fdt, node, NULL)) {
		if (fdt_getprop(fdt, node, "interrupt-controller", NULL) ==
			NULL ||
		    node_reg(fdt, node, &a, &s) != 0)
			continue;
		if (a < mine)
			rank++;
	}
	return rank * IOAPIC_PINS;
}

static int
node_gsi(const void *fdt, int node)
{
	const fdt32_t *irq, *par;
	int len, base = 0, ioapic;

	irq = fdt_getprop(fdt, node, "interrupts", &len);
	if (irq == NULL || len < 4)
		return -1;
	par = fdt_getprop(fdt, node, "interrupt-parent", &len);
	if (par != NULL && len == 4) {
		ioapic = fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(*par));
		if (ioapic < 0 || (base = ioapic_gsi_base(fdt, ioapic)) < 0)
			return -1;
	}
	if (fdt32_to_cpu(*irq) >= IOAPIC_PINS)
		return -1;
	return base + (int)fdt32_to_cpu(*irq);
}

static void
scan_fdt(void)
{
	uint16_t sel;
	int64_t size = arch_fwcfg_find("etc/fdt", &sel);
	struct fdt_header hdr;
	void *fdt;
	int node;

	/* QEMU pads the file to 1 MiB: read only the tree the header says. */
	if (size < (int64_t)sizeof(hdr) ||
	    arch_fwcfg_read(sel, &hdr, 0, sizeof(hdr)) != 0)
		return;
	if (fdt_check_header(&hdr) != 0 || fdt_totalsize(&hdr) > size ||
	    fdt_totalsize(&hdr) > 4 * 1024 * 1024) {
		log_err("virtio-mmio: etc/fdt is not a valid device tree");
		return;
	}
	size = fdt_totalsize(&hdr);
	if ((fdt = kmalloc((size_t)size, 0)) == NULL)
		return;
	if (arch_fwcfg_read(sel, fdt, 0, (uint32_t)size) != 0 ||
	    fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) != size) {
		log_err("virtio-mmio: etc/fdt is not a valid device tree");
		goto out;
	}
	for (node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio");
	     node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio")) {
		uint64_t addr, len;
		struct mmio_slot *s;

		if (node_reg(fdt, node, &addr, &len) != 0) {
			log_err("virtio-mmio: node %s has no usable reg",
			    fdt_get_name(fdt, node, NULL));
			continue;
		}
		if ((s = slot_for(addr, len)) != NULL)
			s->ms_gsi_fdt = node_gsi(fdt, node);
	}
out:
	kfree(fdt, (size_t)size);
}

/* "virtio_mmio.device=<size>[KMG]@<addr>:<gsi>[:<id>]", Linux's form. */
static int
parse_cmdline_dev(const char *p, uint64_t *size, uint64_t *addr, int *gsi)
{
	char *end;

	*size = strtoull(p, &end, 0);
	if (*end == 'K' || *end == 'k')
		*size <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		*size <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		*size <<= 30, end++;
	if (*end != '@')
		return -EINVAL;
	*addr = strtoull(end + 1, &end, 0);
	if (*end != ':')
		return -EINVAL;
	*gsi = (int)strtol(end + 1, &end, 0);
	if (*gsi < 0 || *gsi > 255)
		return -EINVAL;
	return 0;
}

static void
scan_cmdline(void)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = arch_cmdline();

	while ((p = strstr(p, key)) != NULL) {
		uint64_t size, addr;
		struct mmio_slot *s;
		int gsi;

		p += sizeof(key) - 1;
		if (parse_cmdline_dev(p, &size, &addr, &gsi) != 0) {
			log_err("virtio-mmio: cannot parse '%.40s' on the "
				"command line",
			    p);
			continue;
		}
		if ((s = slot_for(addr, size)) != NULL)
			s->ms_gsi_cmdline = gsi;
	}
}

static int
slot_gsi(const struct mmio_slot *s)
{
	if (s->ms_gsi_cmdline >= 0 && s->ms_gsi_fdt >= 0 &&
	    s->ms_gsi_cmdline != s->ms_gsi_fdt)
		log_warn("virtio-mmio: %#llx: the command line says GSI %d, "
			 "the device tree %d; using %d",
		    (unsigned long long)s->ms_addr, s->ms_gsi_cmdline,
		    s->ms_gsi_fdt, s->ms_gsi_cmdline);
	return s->ms_gsi_cmdline >= 0 ? s->ms_gsi_cmdline : s->ms_gsi_fdt;
}

static void
probe_slot(const struct mmio_slot *s)
{
	int gsi = slot_gsi(s);
	uintptr_t base;
	struct vmmio *m;
	uint32_t ver, id;

	if (s->ms_size < MMIO_REGION_MIN || gsi < 0 ||
	    (base = (uintptr_t)arch_map_mmio(s->ms_addr, s->ms_size)) == 0) {
		log_err("virtio-mmio: %#llx: bad region or interrupt",
		    (unsigned long long)s->ms_addr);
		return;
	}
	ver = mmio_r32(base + VIRTIO_MMIO_VERSION);
	id = mmio_r32(base + VIRTIO_MMIO_DEVICE_ID);
	if (mmio_r32(base + VIRTIO_MMIO_MAGIC_VALUE) != MMIO_MAGIC ||
	    (ver != 1 && ver != 2)) {
		log_err("virtio-mmio: %#llx: not a virtio-mmio transport "
			"(version %u)",
		    (unsigned long long)s->ms_addr, ver);
		return;
	}
	if (id == 0)
		return; /* an empty slot */
	if ((m = kmalloc(sizeof(*m), KM_ZERO)) == NULL)
		return;
	m->vm_base = base;
	m->vm_gsi = (unsigned)gsi;
	m->vm_dev.vd_ops = &mmio_ops;
	m->vm_dev.vd_tpriv = m;
	m->vm_dev.vd_type = id;
	m->vm_dev.vd_legacy = ver == 1;
	m->vm_dev.vd_intr_mode = "gsi";
	snprintf(m->vm_dev.vd_where, sizeof(m->vm_dev.vd_where),
	    "mmio%s@%#llx gsi %d", ver == 1 ? "-legacy" : "",
	    (unsigned long long)s->ms_addr, gsi);
	if (ver == 1)
		wr(&m->vm_dev, VIRTIO_MMIO_GUEST_PAGE_SIZE, PAGE_SIZE);
	virtio_dev_found(&m->vm_dev);
}

static int
slot_cmp(const void *a, const void *b)
{
	const struct mmio_slot *x = a, *y = b;

	return x->ms_addr < y->ms_addr ? -1 : x->ms_addr > y->ms_addr;
}

void
virtio_mmio_scan(void)
{
	int i;

	scan_fdt();
	scan_cmdline();
	qsort(slots, (size_t)nslots, sizeof(slots[0]), slot_cmp);
	for (i = 0; i < nslots; i++)
		probe_slot(&slots[i]);
}
