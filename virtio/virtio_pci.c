/*
 * virtio/virtio_pci.c: the modern virtio-pci transport (virtio 1.2,
 * section 4.1), as QEMU's q35 machine has it.
 *
 * Finding devices: every function on bus 0 and on the buses behind
 * bridges, vendor 0x1af4, device 0x1040 + type (modern) or 0x1000..0x103f
 * (transitional: the type is the subsystem id). Only the modern interface
 * is used: the vendor capabilities name the common, notify, ISR and
 * device-config structures inside the memory BARs the firmware assigned;
 * each is mapped and checked for size before use. A device without them
 * (legacy-only) is left out with a message.
 *
 * Interrupts: MSI-X when the device has a table large enough for one
 * vector per queue plus one for config changes; queue i's vector goes to
 * the CPU its driver asked for (vq_cpu), so a per-CPU queue completes on
 * its own CPU. Otherwise (vectors=0, or too few) INTx: the pin's GSI
 * through the IOAPIC, level-triggered; the handler reads the ISR
 * (reading clears it) and calls every queue's callback.
 *
 * INTx lines are shared: one handler per GSI asks each device on it.
 * INTx GSI: the firmware's interrupt-line register when it set one
 * (16..23), else QEMU q35's fixed wiring for bus 0: slot s, pin p (1..4)
 * -> PIRQ E..H (GSI 20..23) as (s + p - 1) mod 4, which is what QEMU's
 * ACPI _PRT says.
 *
 * Interface: virtio_pci_scan() from virtio_init(); nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_pci.h>
#include "arch/arch.h"
#include "core/kmalloc.h"
#include "virtio/virtio_internal.h"

#define PCI_VENDOR_VIRTIO 0x1af4
#define PCI_CAP_VNDR	  0x09
#define PCI_CAP_MSIX	  0x11
#define PCI_CMD_MEM	  0x0002
#define PCI_CMD_MASTER	  0x0004
#define PCI_CMD_INTX_OFF  0x0400
#define MSIX_ENABLE	  0x8000
#define MSIX_MASKALL	  0x4000
#define BAR_WINDOW_LO	  0xc0000000ULL /* above q35's ECAM (0xb0000000) */
#define BAR_WINDOW_HI	  0xfec00000ULL /* the IOAPIC */

struct vpci_region {
	uintptr_t vr_base;
	uint32_t vr_len;
};

struct vpci {
	struct virtio_dev vp_dev;
	unsigned vp_bus, vp_slot, vp_fn;
	struct vpci_region vp_common, vp_notify, vp_isr, vp_devcfg;
	uint32_t vp_notify_mult;
	unsigned vp_msix_cap; /* 0: none */
	unsigned vp_msix_size;
	uintptr_t vp_msix_table;
	uint16_t vp_nqueues;
	bool vp_msix;
	int vp_vectors[VIRTIO_MAX_VQS + 1];
	uint64_t vp_intrs;
};

static struct vpci *
vpci_of(struct virtio_dev *d)
{
	return (struct vpci *)d->vd_tpriv;
}

static uint32_t
cfg_rd(struct vpci *p, unsigned reg)
{
	return arch_pci_read32(p->vp_bus, p->vp_slot, p->vp_fn, reg);
}

static void
cfg_wr(struct vpci *p, unsigned reg, uint32_t v)
{
	arch_pci_write32(p->vp_bus, p->vp_slot, p->vp_fn, reg, v);
}

static uintptr_t
common(struct virtio_dev *d, unsigned off)
{
	return vpci_of(d)->vp_common.vr_base + off;
}

/* ---- Ops ---- */

static uint64_t
pci_get_features(struct virtio_dev *d)
{
	uint64_t f;

	mmio_w32(common(d, VIRTIO_PCI_COMMON_DFSELECT), 0);
	f = mmio_r32(common(d, VIRTIO_PCI_COMMON_DF));
	mmio_w32(common(d, VIRTIO_PCI_COMMON_DFSELECT), 1);
	return f | (uint64_t)mmio_r32(common(d, VIRTIO_PCI_COMMON_DF)) << 32;
}

static void
pci_set_features(struct virtio_dev *d, uint64_t f)
{
	mmio_w32(common(d, VIRTIO_PCI_COMMON_GFSELECT), 0);
	mmio_w32(common(d, VIRTIO_PCI_COMMON_GF), (uint32_t)f);
	mmio_w32(common(d, VIRTIO_PCI_COMMON_GFSELECT), 1);
	mmio_w32(common(d, VIRTIO_PCI_COMMON_GF), (uint32_t)(f >> 32));
}

static uint8_t
pci_get_status(struct virtio_dev *d)
{
	return mmio_r8(common(d, VIRTIO_PCI_COMMON_STATUS));
}

static void
pci_set_status(struct virtio_dev *d, uint8_t s)
{
	mmio_w8(common(d, VIRTIO_PCI_COMMON_STATUS), s);
}

static uint32_t
pci_config_generation(struct virtio_dev *d)
{
	return mmio_r8(common(d, VIRTIO_PCI_COMMON_CFGGENERATION));
}

static void
pci_fence(struct virtio_dev *d)
{
	(void)pci_config_generation(d);
}

static void
pci_read_config(struct virtio_dev *d, unsigned off, void *buf, unsigned len)
{
	struct vpci_region *r = &vpci_of(d)->vp_devcfg;
	uint8_t *p = buf;
	unsigned i;

	for (i = 0; i < len; i++)
		p[i] = off + i < r->vr_len ? mmio_r8(r->vr_base + off + i) : 0;
}

static unsigned
pci_queue_max(struct virtio_dev *d, unsigned idx)
{
	if (idx >= vpci_of(d)->vp_nqueues)
		return 0;
	mmio_w16(common(d, VIRTIO_PCI_COMMON_Q_SELECT), (uint16_t)idx);
	if (mmio_r16(common(d, VIRTIO_PCI_COMMON_Q_ENABLE)) != 0)
		return 0;
	return mmio_r16(common(d, VIRTIO_PCI_COMMON_Q_SIZE));
}

static void
wr64(struct virtio_dev *d, unsigned lo, uint64_t v)
{
	mmio_w32(common(d, lo), (uint32_t)v);
	mmio_w32(common(d, lo + 4), (uint32_t)(v >> 32));
}

static int
pci_queue_setup(struct virtio_dev *d, struct virtqueue *vq)
{
	struct vpci *p = vpci_of(d);
	uint64_t off;

	mmio_w16(common(d, VIRTIO_PCI_COMMON_Q_SELECT), (uint16_t)vq->vq_index);
	mmio_w16(common(d, VIRTIO_PCI_COMMON_Q_SIZE), vq->vq_num);
	wr64(d, VIRTIO_PCI_COMMON_Q_DESCLO, arch_virt_to_phys(vq->vq_desc));
	wr64(d, VIRTIO_PCI_COMMON_Q_AVAILLO, arch_virt_to_phys(vq->vq_avail));
	wr64(d, VIRTIO_PCI_COMMON_Q_USEDLO, arch_virt_to_phys(vq->vq_used));
	off = (uint64_t)mmio_r16(common(d, VIRTIO_PCI_COMMON_Q_NOFF)) *
	    p->vp_notify_mult;
	if (off + 2 > p->vp_notify.vr_len) {
		log_err("virtio %s: queue %u notify offset %#llx is outside "
			"the %u-byte notify region",
		    d->vd_where, vq->vq_index, (unsigned long long)off,
		    p->vp_notify.vr_len);
		return -EINVAL;
	}
	vq->vq_notify_addr = p->vp_notify.vr_base + (uintptr_t)off;
	return 0;
}

static void
pci_notify(struct virtqueue *vq)
{
	mmio_w16(vq->vq_notify_addr, (uint16_t)vq->vq_index);
}

static unsigned
pci_max_queues(struct virtio_dev *d)
{
	return vpci_of(d)->vp_nqueues;
}

/* ---- Interrupts ---- */

/*
 * INTx lines are shared (q35 has four for bus 0): one vector per GSI,
 * whose handler asks every device on the line (reading a device's ISR
 * also lowers its line).
 */
#define INTX_LINES   24
#define INTX_PER_GSI 16

static struct intx_line {
	unsigned il_gsi;
	int il_vector;
	int il_ndevs;
	struct vpci *il_devs[INTX_PER_GSI];
} intx_lines[INTX_LINES];
static int nintx_lines;

static void intx_dev(struct vpci *p);

static void
intx_intr(void *arg)
{
	struct intx_line *l = arg;
	int i, n = __atomic_load_n(&l->il_ndevs, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++)
		intx_dev(l->il_devs[i]);
}

static int
intx_attach(struct vpci *p, unsigned gsi)
{
	struct intx_line *l = NULL;
	int i, v, err;

	for (i = 0; i < nintx_lines; i++)
		if (intx_lines[i].il_gsi == gsi)
			l = &intx_lines[i];
	if (l == NULL) {
		if (nintx_lines == INTX_LINES)
			return -ENOSPC;
		l = &intx_lines[nintx_lines];
		if ((v = arch_intr_alloc(intx_intr, l)) < 0)
			return v;
		l->il_gsi = gsi;
		l->il_vector = v;
		if ((err = arch_intr_route_gsi(gsi, v, true, false)) != 0)
			return err;
		nintx_lines++;
	}
	if (l->il_ndevs == INTX_PER_GSI)
		return -ENOSPC;
	l->il_devs[l->il_ndevs] = p;
	__atomic_store_n(&l->il_ndevs, l->il_ndevs + 1, __ATOMIC_RELEASE);
	return 0;
}

static void
intx_dev(struct vpci *p)
{
	struct virtio_dev *d = &p->vp_dev;
	uint8_t isr = mmio_r8(p->vp_isr.vr_base); /* reading clears it */
	unsigned i;

	p->vp_intrs++;
	if (isr & 1)
		for (i = 0; i < d->vd_nvqs; i++)
			if (d->vd_vqs[i] != NULL)
				vq_intr_dispatch(d->vd_vqs[i]);
	if ((isr & VIRTIO_PCI_ISR_CONFIG) && d->vd_config_changed != NULL) {
		d->vd_config_intrs++;
		d->vd_config_changed(d);
	}
}

static void
msix_queue_intr(void *arg)
{
	vq_intr_dispatch(arg);
}

static void
msix_config_intr(void *arg)
{
	struct virtio_dev *d = arg;

	d->vd_config_intrs++;
	if (d->vd_config_changed != NULL)
		d->vd_config_changed(d);
}

static void
msix_entry(struct vpci *p, unsigned i, unsigned cpu, int vec)
{
	uintptr_t e = p->vp_msix_table + 16 * i;
	uint64_t addr;
	uint32_t data;

	arch_msi_message(cpu, vec, &addr, &data);
	mmio_w32(e + 0, (uint32_t)addr);
	mmio_w32(e + 4, (uint32_t)(addr >> 32));
	mmio_w32(e + 8, data);
	mmio_w32(e + 12, 0); /* unmasked */
}

static void
msix_control(struct vpci *p, uint16_t set, uint16_t clear)
{
	uint32_t v = cfg_rd(p, p->vp_msix_cap);
	uint16_t ctl = (uint16_t)(v >> 16);

	ctl = (uint16_t)((ctl | set) & ~clear);
	cfg_wr(p, p->vp_msix_cap, (v & 0xffff) | ((uint32_t)ctl << 16));
}

/* Vector 0: config changes; vector 1 + i: queue i. */
static int
setup_msix(struct vpci *p)
{
	struct virtio_dev *d = &p->vp_dev;
	unsigned i;
	int v;

	if (p->vp_msix_cap == 0 || p->vp_msix_size < d->vd_nvqs + 1)
		return -ENOSPC;
	msix_control(p, MSIX_ENABLE | MSIX_MASKALL, 0);
	if ((v = arch_intr_alloc(msix_config_intr, d)) < 0)
		return v;
	msix_entry(p, 0, 0, v);
	mmio_w16(common(d, VIRTIO_PCI_COMMON_MSIX), 0);
	if (mmio_r16(common(d, VIRTIO_PCI_COMMON_MSIX)) != 0)
		return -EIO;
	for (i = 0; i < d->vd_nvqs; i++) {
		struct virtqueue *vq = d->vd_vqs[i];
		if (vq == NULL)
			continue;
		if ((v = arch_intr_alloc(msix_queue_intr, vq)) < 0)
			return v;
		msix_entry(p, i + 1, vq->vq_cpu < arch_ncpus() ? vq->vq_cpu : 0,
		    v);
		mmio_w16(common(d, VIRTIO_PCI_COMMON_Q_SELECT), (uint16_t)i);
		mmio_w16(common(d, VIRTIO_PCI_COMMON_Q_MSIX),
		    (uint16_t)(i + 1));
		if (mmio_r16(common(d, VIRTIO_PCI_COMMON_Q_MSIX)) != i + 1)
			return -EIO;
	}
	msix_control(p, 0, MSIX_MASKALL);
	return 0;
}

/* QEMU q35: PIRQ E..H (GSI 20..23) for bus 0 slots, rotated by slot. */
static unsigned
intx_gsi(struct vpci *p)
{
	uint32_t r = cfg_rd(p, 0x3c);
	unsigned line = r & 0xff, pin = (r >> 8) & 0xff;

	if (line >= 16 && line < 24)
		return line;
	if (pin < 1 || pin > 4)
		pin = 1;
	return 20 + ((p->vp_slot + pin - 1) & 3);
}

static int
setup_intx(struct vpci *p)
{
	struct virtio_dev *d = &p->vp_dev;
	unsigned gsi = intx_gsi(p);
	int err;

	if (p->vp_msix_cap != 0)
		msix_control(p, 0, MSIX_ENABLE);
	mmio_w16(common(d, VIRTIO_PCI_COMMON_MSIX), VIRTIO_MSI_NO_VECTOR);
	if ((err = intx_attach(p, gsi)) != 0)
		return err;
	cfg_wr(p, 0x04, cfg_rd(p, 0x04) & 0xffff & ~PCI_CMD_INTX_OFF);
	snprintf(d->vd_where + strlen(d->vd_where),
	    sizeof(d->vd_where) - strlen(d->vd_where), " gsi %u", gsi);
	return 0;
}

static void
enable_queues(struct virtio_dev *d)
{
	unsigned i;

	for (i = 0; i < d->vd_nvqs; i++) {
		if (d->vd_vqs[i] == NULL)
			continue;
		mmio_w16(common(d, VIRTIO_PCI_COMMON_Q_SELECT), (uint16_t)i);
		mmio_w16(common(d, VIRTIO_PCI_COMMON_Q_ENABLE), 1);
	}
}

static int
pci_setup_intr(struct virtio_dev *d)
{
	struct vpci *p = vpci_of(d);
	int err;

	if (setup_msix(p) == 0) {
		p->vp_msix = true;
		d->vd_intr_mode = "msix";
		cfg_wr(p, 0x04, (cfg_rd(p, 0x04) & 0xffff) | PCI_CMD_INTX_OFF);
	} else {
		d->vd_intr_mode = "intx";
		if ((err = setup_intx(p)) != 0)
			return err;
	}
	enable_queues(d);
	return 0;
}

static const struct virtio_ops pci_ops = {
	.get_features = pci_get_features,
	.set_features = pci_set_features,
	.get_status = pci_get_status,
	.set_status = pci_set_status,
	.fence = pci_fence,
	.config_generation = pci_config_generation,
	.read_config = pci_read_config,
	.queue_max = pci_queue_max,
	.queue_setup = pci_queue_setup,
	.notify = pci_notify,
	.setup_intr = pci_setup_intr,
	.max_queues = pci_max_queues,
};

/* ---- Capabilities and BARs ---- */

static uint64_t
bar_addr(struct vpci *p, unsigned bar)
{
	uint32_t lo;
	uint64_t a;

	if (bar > 5)
		return 0;
	lo = cfg_rd(p, 0x10 + 4 * bar);
	if (lo & 1)
		return 0; /* I/O space: not for the modern interface */
	a = lo & ~0xfULL;
	if (((lo >> 1) & 3) == 2 && bar < 5)
		a |= (uint64_t)cfg_rd(p, 0x14 + 4 * bar) << 32;
	return a;
}

static int
map_region(struct vpci *p, unsigned bar, uint32_t off, uint32_t len,
    struct vpci_region *r)
{
	uint64_t a = bar_addr(p, bar);

	if (a == 0 || len == 0)
		return -ENXIO;
	r->vr_base = (uintptr_t)arch_map_mmio(a + off, len);
	r->vr_len = len;
	return r->vr_base != 0 ? 0 : -ENOMEM;
}

static struct vpci_region *
region_for(struct vpci *p, unsigned type)
{
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
		return &p->vp_common;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		return &p->vp_notify;
	case VIRTIO_PCI_CAP_ISR_CFG:
		return &p->vp_isr;
	case VIRTIO_PCI_CAP_DEVICE_CFG:
		return &p->vp_devcfg;
	default:
		return NULL;
	}
}

static void
vendor_cap(struct vpci *p, unsigned cap, uint32_t hdr)
{
	unsigned type = hdr >> 24;
	unsigned bar = cfg_rd(p, cap + 4) & 0xff;
	uint32_t off = cfg_rd(p, cap + 8), len = cfg_rd(p, cap + 12);
	struct vpci_region *r = region_for(p, type);

	if (r == NULL || r->vr_base != 0)
		return; /* unknown, or not the first of its type */
	if (map_region(p, bar, off, len, r) != 0) {
		log_warn("virtio %s: capability %u in BAR %u is not usable",
		    p->vp_dev.vd_where, type, bar);
		return;
	}
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		p->vp_notify_mult = cfg_rd(p, cap + 16);
}

static void
msix_cap(struct vpci *p, unsigned cap, uint32_t hdr)
{
	uint32_t t = cfg_rd(p, cap + 4);
	unsigned size = ((hdr >> 16) & 0x7ff) + 1;
	uint64_t a = bar_addr(p, t & 7);

	if (a == 0)
		return;
	p->vp_msix_table = (uintptr_t)arch_map_mmio(a + (t & ~7u), 16 * size);
	if (p->vp_msix_table != 0) {
		p->vp_msix_cap = cap;
		p->vp_msix_size = size;
	}
}

static void
parse_caps(struct vpci *p)
{
	unsigned cap, n = 0;

	if (!((cfg_rd(p, 0x04) >> 16) & 0x10))
		return;
	for (cap = cfg_rd(p, 0x34) & 0xfc; cap >= 0x40 && n < 48;
	     cap = (cfg_rd(p, cap) >> 8) & 0xfc, n++) {
		uint32_t hdr = cfg_rd(p, cap);
		if ((hdr & 0xff) == PCI_CAP_VNDR)
			vendor_cap(p, cap, hdr);
		else if ((hdr & 0xff) == PCI_CAP_MSIX)
			msix_cap(p, cap, hdr);
	}
}

static bool
regions_ok(struct vpci *p)
{
	return p->vp_common.vr_len >= sizeof(struct virtio_pci_common_cfg) &&
	    p->vp_notify.vr_base != 0 && p->vp_isr.vr_len >= 1;
}

/* ---- BAR assignment ---- */

/*
 * qboot (q35's fast firmware) assigns no BARs. Memory BARs still zero are
 * given addresses here, naturally aligned, from a window above q35's ECAM
 * and below the IOAPIC, above every BAR the firmware did assign. Devices
 * behind bridges would need the bridge windows too: not done (QEMU puts
 * -device on bus 0 unless told otherwise).
 */
static uint64_t bar_next = BAR_WINDOW_LO;

static uint64_t
bar_size(unsigned bus, unsigned slot, unsigned fn, unsigned reg, bool is64)
{
	uint32_t lo = arch_pci_read32(bus, slot, fn, reg), hi = 0, slo, shi = 0;
	uint64_t mask;

	arch_pci_write32(bus, slot, fn, reg, 0xffffffff);
	slo = arch_pci_read32(bus, slot, fn, reg);
	arch_pci_write32(bus, slot, fn, reg, lo);
	if (is64) {
		hi = arch_pci_read32(bus, slot, fn, reg + 4);
		arch_pci_write32(bus, slot, fn, reg + 4, 0xffffffff);
		shi = arch_pci_read32(bus, slot, fn, reg + 4);
		arch_pci_write32(bus, slot, fn, reg + 4, hi);
	} else {
		shi = 0xffffffff;
	}
	mask = ((uint64_t)shi << 32) | (slo & ~0xfu);
	return mask == 0 || mask == ~0xfULL ? 0 : ~mask + 1;
}

/* Notes the end of every memory BAR the firmware assigned on bus 0. */
static void
bar_note_assigned(void)
{
	unsigned slot, reg;

	for (slot = 0; slot < 32; slot++) {
		if ((arch_pci_read32(0, slot, 0, 0) & 0xffff) == 0xffff ||
		    ((arch_pci_read32(0, slot, 0, 0x0c) >> 16) & 0x7f) != 0)
			continue;
		for (reg = 0x10; reg < 0x28; reg += 4) {
			uint32_t v = arch_pci_read32(0, slot, 0, reg);
			bool is64 = (v & 7) == 4;
			uint64_t a = v & ~0xfULL, sz;
			if ((v & 1) == 0 && a >= BAR_WINDOW_LO &&
			    a < BAR_WINDOW_HI &&
			    (sz = bar_size(0, slot, 0, reg, is64)) != 0 &&
			    a + sz > bar_next)
				bar_next = a + sz;
			if (is64)
				reg += 4;
		}
	}
}

static void
assign_bars(struct vpci *p)
{
	uint32_t cmd = cfg_rd(p, 0x04) & 0xffff;
	unsigned reg;

	cfg_wr(p, 0x04, cmd & ~(uint32_t)PCI_CMD_MEM);
	for (reg = 0x10; reg < 0x28; reg += 4) {
		uint32_t v = cfg_rd(p, reg);
		bool is64 = (v & 7) == 4;
		uint64_t sz, a;
		if ((v & 1) == 0 && (v & ~0xfu) == 0 &&
		    (!is64 || cfg_rd(p, reg + 4) == 0) &&
		    (sz = bar_size(p->vp_bus, p->vp_slot, p->vp_fn, reg,
			 is64)) != 0) {
			a = ROUNDUP(bar_next, sz);
			if (a + sz <= BAR_WINDOW_HI) {
				cfg_wr(p, reg, (uint32_t)a | (v & 0xf));
				if (is64)
					cfg_wr(p, reg + 4, 0);
				bar_next = a + sz;
			}
		}
		if (is64)
			reg += 4;
	}
	cfg_wr(p, 0x04, cmd);
}

/* ---- Discovery ---- */

static void
probe_fn(unsigned bus, unsigned slot, unsigned fn, uint32_t id)
{
	unsigned devid = id >> 16;
	struct vpci *p = kmalloc(sizeof(*p), KM_ZERO);

	if (p == NULL)
		return;
	p->vp_bus = bus;
	p->vp_slot = slot;
	p->vp_fn = fn;
	p->vp_dev.vd_ops = &pci_ops;
	p->vp_dev.vd_tpriv = p;
	p->vp_dev.vd_type =
	    devid >= 0x1040 ? devid - 0x1040 : cfg_rd(p, 0x2c) >> 16;
	snprintf(p->vp_dev.vd_where, sizeof(p->vp_dev.vd_where),
	    "pci %02x:%02x.%x", bus, slot, fn);
	assign_bars(p);
	cfg_wr(p, 0x04,
	    (cfg_rd(p, 0x04) & 0xffff) | PCI_CMD_MEM | PCI_CMD_MASTER);
	parse_caps(p);
	if (!regions_ok(p)) {
		log_err("virtio %s: no usable modern virtio-pci interface "
			"(legacy-only device, or BARs not assigned)",
		    p->vp_dev.vd_where);
		kfree(p, sizeof(*p));
		return;
	}
	p->vp_nqueues = mmio_r16(common(&p->vp_dev, VIRTIO_PCI_COMMON_NUMQ));
	virtio_dev_found(&p->vp_dev);
}

static void scan_bus(unsigned bus, uint8_t *seen);

static void
scan_fn(unsigned bus, unsigned slot, unsigned fn, uint8_t *seen)
{
	uint32_t id = arch_pci_read32(bus, slot, fn, 0);
	unsigned hdr = (arch_pci_read32(bus, slot, fn, 0x0c) >> 16) & 0x7f;

	if (hdr == 1) { /* a bridge: scan what is behind it */
		unsigned sec =
		    (arch_pci_read32(bus, slot, fn, 0x18) >> 8) & 0xff;
		if (sec != 0 && sec < 256 && !(seen[sec / 8] & (1u << sec % 8)))
			scan_bus(sec, seen);
		return;
	}
	if ((id & 0xffff) == PCI_VENDOR_VIRTIO && (id >> 16) >= 0x1000 &&
	    (id >> 16) <= 0x107f)
		probe_fn(bus, slot, fn, id);
}

static void
scan_bus(unsigned bus, uint8_t *seen)
{
	unsigned slot, fn, nfn;

	seen[bus / 8] |= (uint8_t)(1u << bus % 8);
	for (slot = 0; slot < 32; slot++) {
		uint32_t id = arch_pci_read32(bus, slot, 0, 0);
		if ((id & 0xffff) == 0xffff)
			continue;
		nfn =
		    (arch_pci_read32(bus, slot, 0, 0x0c) >> 16) & 0x80 ? 8 : 1;
		for (fn = 0; fn < nfn; fn++)
			if ((arch_pci_read32(bus, slot, fn, 0) & 0xffff) !=
			    0xffff)
				scan_fn(bus, slot, fn, seen);
	}
}

void
virtio_pci_scan(void)
{
	uint8_t seen[256 / 8];

	memset(seen, 0, sizeof(seen));
	bar_note_assigned();
	scan_bus(0, seen);
}
