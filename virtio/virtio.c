/*
 * virtio/virtio.c: the device core: the transports report devices here,
 * and each is handed to the driver for its type (block, network,
 * entropy). Also the steps every driver takes the same way: reset,
 * feature negotiation, consistent config reads, queue set-up, DRIVER_OK.
 *
 * Feature negotiation asks only for what the driver names, and for
 * VIRTIO_F_VERSION_1 on modern transports (a modern device that does not
 * offer it is refused). A device that fails any step is marked FAILED,
 * logged with its transport and address, and left out; the rest of the
 * system runs on.
 *
 * Interface: virtio_init() (virtio.h); the rest in virtio_internal.h.
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_ids.h>
#include "arch/arch.h"
#include "core/kmalloc.h"
#include "sched/sched.h"
#include "virtio/virtio_internal.h"

#define RESET_WAIT_NS (1000ULL * 1000 * 1000)

static struct virtio_dev *devices;
static unsigned ndevices, nfailed;

static const char *
type_name(uint32_t type)
{
	switch (type) {
	case VIRTIO_ID_BLOCK:
		return "block";
	case VIRTIO_ID_NET:
		return "net";
	case VIRTIO_ID_RNG:
		return "rng";
	default:
		return "unsupported";
	}
}

int
virtio_reset(struct virtio_dev *d)
{
	uint64_t until = arch_nanotime() + RESET_WAIT_NS;

	d->vd_ops->set_status(d, 0);
	while (d->vd_ops->get_status(d) != 0) {
		if (arch_nanotime() > until) {
			log_err("virtio %s: the device did not reset",
			    d->vd_where);
			return -ETIMEDOUT;
		}
		__builtin_ia32_pause();
	}
	return 0;
}

static void
add_status(struct virtio_dev *d, uint8_t s)
{
	d->vd_ops->set_status(d, (uint8_t)(d->vd_ops->get_status(d) | s));
}

void
virtio_fail(struct virtio_dev *d)
{
	add_status(d, VIRTIO_CONFIG_S_FAILED);
}

void
virtio_driver_ok(struct virtio_dev *d)
{
	add_status(d, VIRTIO_CONFIG_S_DRIVER_OK);
}

int
virtio_negotiate(struct virtio_dev *d, uint64_t want)
{
	uint64_t offered;

	if (virtio_reset(d) != 0)
		return -EIO;
	add_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	add_status(d, VIRTIO_CONFIG_S_DRIVER);
	offered = d->vd_ops->get_features(d);
	if (d->vd_legacy) {
		want &= 0xffffffffULL;
	} else {
		if (!(offered & (1ULL << VIRTIO_F_VERSION_1))) {
			log_err("virtio %s: modern transport without "
				"VIRTIO_F_VERSION_1",
			    d->vd_where);
			return -ENODEV;
		}
		want |= 1ULL << VIRTIO_F_VERSION_1;
	}
	d->vd_features = offered & want;
	d->vd_ops->set_features(d, d->vd_features);
	if (d->vd_legacy)
		return 0;
	add_status(d, VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(d->vd_ops->get_status(d) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		log_err("virtio %s: the device refused features %#llx",
		    d->vd_where, (unsigned long long)d->vd_features);
		return -ENODEV;
	}
	return 0;
}

void
virtio_read_config(struct virtio_dev *d, unsigned off, void *buf, unsigned len)
{
	uint32_t gen;
	int tries = 0;

	do {
		gen = d->vd_ops->config_generation(d);
		d->vd_ops->read_config(d, off, buf, len);
	} while (gen != d->vd_ops->config_generation(d) && ++tries < 100);
}

int
virtio_add_vq(struct virtio_dev *d, unsigned idx, unsigned maxnum, unsigned cpu,
    vq_callback_t cb, void *priv, struct virtqueue **out)
{
	unsigned num = d->vd_ops->queue_max(d, idx);
	struct virtqueue *vq;
	int err;

	if (num == 0 || idx >= VIRTIO_MAX_VQS) {
		log_err("virtio %s: no queue %u", d->vd_where, idx);
		return -ENODEV;
	}
	if (num > 32768)
		num = 32768;
	while (num & (num - 1)) /* split rings: a power of two */
		num &= num - 1;
	if (num > maxnum)
		num = maxnum;
	vq = vq_create(d, idx, (uint16_t)num, cb, priv);
	if (vq == NULL)
		return -ENOMEM;
	vq->vq_cpu = cpu;
	err = d->vd_ops->queue_setup(d, vq);
	if (err != 0) {
		vq_destroy(vq);
		return err;
	}
	d->vd_vqs[idx] = vq;
	if (idx >= d->vd_nvqs)
		d->vd_nvqs = idx + 1;
	*out = vq;
	return 0;
}

void
virtio_free_vqs(struct virtio_dev *d)
{
	unsigned i;

	for (i = 0; i < d->vd_nvqs; i++) {
		vq_destroy(d->vd_vqs[i]);
		d->vd_vqs[i] = NULL;
	}
	d->vd_nvqs = 0;
}

void
virtio_dev_found(struct virtio_dev *d)
{
	int err;

	d->vd_next = devices;
	devices = d;
	ndevices++;
	switch (d->vd_type) {
	case VIRTIO_ID_BLOCK:
		err = vblk_probe(d);
		break;
	case VIRTIO_ID_NET:
		err = vnet_probe(d);
		break;
	case VIRTIO_ID_RNG:
		err = vrng_probe(d);
		break;
	default:
		log_info("virtio %s: device type %u (%s) left alone",
		    d->vd_where, d->vd_type, type_name(d->vd_type));
		return;
	}
	if (err != 0) {
		nfailed++;
		log_err("virtio %s: %s device not used (error %d)", d->vd_where,
		    type_name(d->vd_type), err);
		virtio_fail(d);
	}
}

bool vio_host_fence;

void
virtio_init(void)
{
	vio_host_fence =
	    strcmp(arch_accelerator(), "TCG") == 0 && lwkt_ncpus == 1;
	if (vio_host_fence)
		log_info("virtio: TCG on one CPU: ring barriers also read a "
			 "device register (QEMU before 8.1 drops them there)");
	if (arch_pci_present())
		virtio_pci_scan();
	else
		virtio_mmio_scan();
}
