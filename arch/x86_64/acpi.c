/*
 * ACPI tables, read once at boot: MADT (CPUs, IOAPICs, interrupt source
 * overrides), FADT (PM timer, sleep and reset registers), MCFG (PCIe ECAM)
 * and the \_S5 sleep type from the DSDT, for power-off.
 *
 * The RSDP comes from the PVH start_info (microvm with ACPI) or from a scan
 * of the BIOS area 0xe0000-0xfffff (q35 with qboot). Every table is checked
 * (signature, length bounds, checksum) before use; a bad one is skipped
 * with a warning, never trusted. Tables are mapped read-only as needed.
 *
 * Interface:
 *  - acpi_init() once, after pmap_init(); acpi_info is read-only after.
 */
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/boot.h"
#include "arch/x86_64/pmap.h"

struct acpi_info acpi_info = { .ai_s5_typ = -1 };

struct sdt_header {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct sdt_header) == 36, "ACPI SDT header");

struct rsdp {
	char sig[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length; /* revision >= 2 */
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct rsdp) == 36, "RSDP");

#define ACPI_MAX_TABLE (1u << 20)

static uint8_t
checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n-- > 0)
		s += *b++;
	return s;
}

static uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t
rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* Maps and validates a table; returns it or NULL. sig may be NULL. */
static const struct sdt_header *
table_get(uint64_t pa, const char *sig)
{
	const struct sdt_header *h;

	if (pa == 0 || pmap_map_firmware(pa, sizeof(*h)) < 0)
		return NULL;
	h = (const struct sdt_header *)(uintptr_t)pa;
	if (sig != NULL && memcmp(h->sig, sig, 4) != 0)
		return NULL;
	if (h->length < sizeof(*h) || h->length > ACPI_MAX_TABLE ||
	    pmap_map_firmware(pa, h->length) < 0) {
		boot_warn("acpi: table %.4s at %#lx has a bad length %u",
		    h->sig, (unsigned long)pa, h->length);
		return NULL;
	}
	if (checksum(h, h->length) != 0) {
		boot_warn(
		    "acpi: table %.4s at %#lx fails its checksum; ignored",
		    h->sig, (unsigned long)pa);
		return NULL;
	}
	return h;
}

static const struct rsdp *
rsdp_check(uint64_t pa)
{
	const struct rsdp *r = (const struct rsdp *)(uintptr_t)pa;

	if (pmap_map_firmware(pa, sizeof(*r)) < 0 ||
	    memcmp(r->sig, "RSD PTR ", 8) != 0 || checksum(r, 20) != 0)
		return NULL;
	if (r->revision >= 2 && checksum(r, sizeof(*r)) != 0)
		return NULL;
	return r;
}

static const struct rsdp *
rsdp_find(void)
{
	uint64_t pa;
	const struct rsdp *r;

	if (bootinfo.bi_rsdp != 0 && (r = rsdp_check(bootinfo.bi_rsdp)))
		return r;
	for (pa = 0xe0000; pa < 0x100000; pa += 16)
		if ((r = rsdp_check(pa)) != NULL)
			return r;
	return NULL;
}

/* ---------------------------------------------------------------- */
/* MADT                                                             */
/* ---------------------------------------------------------------- */

static void
madt_cpu(uint32_t apic_id, uint32_t flags)
{
	/* bit 0: enabled; bit 1: online capable (may be hot-added) */
	if (!(flags & 1))
		return;
	if (acpi_info.ai_ncpus == ACPI_MAX_CPUS) {
		boot_warn("acpi: more than %d CPUs; the rest are not used",
		    ACPI_MAX_CPUS);
		return;
	}
	acpi_info.ai_apic_id[acpi_info.ai_ncpus++] = apic_id;
}

static void
madt_entry(const uint8_t *e)
{
	int n;

	switch (e[0]) {
	case 0: /* processor local APIC */
		if (e[1] >= 8)
			madt_cpu(e[3], rd32(e + 4));
		break;
	case 1: /* IOAPIC */
		n = acpi_info.ai_nioapic;
		if (e[1] >= 12 && n < ACPI_MAX_IOAPICS) {
			acpi_info.ai_ioapic[n].id = e[2];
			acpi_info.ai_ioapic[n].addr = rd32(e + 4);
			acpi_info.ai_ioapic[n].gsi_base = rd32(e + 8);
			acpi_info.ai_nioapic++;
		}
		break;
	case 2: /* interrupt source override */
		n = acpi_info.ai_niso;
		if (e[1] >= 10 && n < ACPI_MAX_ISOS) {
			acpi_info.ai_iso[n].irq = e[3];
			acpi_info.ai_iso[n].gsi = rd32(e + 4);
			acpi_info.ai_iso[n].flags = rd16(e + 8);
			acpi_info.ai_niso++;
		}
		break;
	case 5: /* local APIC address override */
		if (e[1] >= 12)
			acpi_info.ai_lapic_addr = rd64(e + 4);
		break;
	case 9: /* processor local x2APIC */
		if (e[1] >= 16)
			madt_cpu(rd32(e + 4), rd32(e + 8));
		break;
	}
}

static void
madt_parse(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h + sizeof(*h);
	const uint8_t *end = (const uint8_t *)h + h->length;

	if (h->length < sizeof(*h) + 8)
		return;
	acpi_info.ai_lapic_addr = rd32(p);
	for (p += 8; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1])
		madt_entry(p);
}

uint32_t
acpi_isa_irq_to_gsi(uint8_t irq, bool *level, bool *active_low)
{
	int i;

	*level = false;
	*active_low = false;
	for (i = 0; i < acpi_info.ai_niso; i++) {
		if (acpi_info.ai_iso[i].irq != irq)
			continue;
		/* MPS INTI: polarity bits 0-1 (3 = low), trigger 2-3 (3 =
		 * level) */
		*active_low = (acpi_info.ai_iso[i].flags & 3) == 3;
		*level = ((acpi_info.ai_iso[i].flags >> 2) & 3) == 3;
		return acpi_info.ai_iso[i].gsi;
	}
	return irq;
}

/* ---------------------------------------------------------------- */
/* FADT, DSDT, MCFG                                                 */
/* ---------------------------------------------------------------- */

static void
gas_read(const uint8_t *p, struct acpi_gas *g)
{
	g->ag_space = p[0];
	g->ag_width = p[1];
	g->ag_addr = rd64(p + 4);
}

/*
 * Finds the first element of the \_S5 package in AML: NameOp '_S5_'
 * PackageOp PkgLength NumElements, then BytePrefix n, Zero, One or Ones.
 */
static void
dsdt_find_s5(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h + sizeof(*h);
	const uint8_t *end = (const uint8_t *)h + h->length;
	const uint8_t *q;

	for (; p + 4 <= end; p++) {
		if (memcmp(p, "_S5_", 4) != 0)
			continue;
		q = p + 4;
		if (q >= end || *q != 0x12) /* PackageOp */
			continue;
		q++;
		if (q >= end)
			return;
		q += 1 + (*q >> 6); /* PkgLength */
		q++;		    /* NumElements */
		if (q >= end)
			return;
		if (*q == 0x0a && q + 1 < end)
			acpi_info.ai_s5_typ = q[1];
		else if (*q == 0x00 || *q == 0x01)
			acpi_info.ai_s5_typ = *q;
		return;
	}
}

static void
fadt_parse(const struct sdt_header *h)
{
	const uint8_t *f = (const uint8_t *)h;
	uint32_t len = h->length, flags;
	uint64_t dsdt = 0;
	const struct sdt_header *d;

	if (len < 116)
		return;
	dsdt = rd32(f + 40);
	acpi_info.ai_pm1a_cnt_port = (uint16_t)rd32(f + 64);
	acpi_info.ai_pm_tmr_port = (uint16_t)rd32(f + 76);
	flags = rd32(f + 112);
	acpi_info.ai_pm_tmr_32 = (flags >> 8) & 1;
	acpi_info.ai_hw_reduced = (flags >> 20) & 1;
	if (len >= 129 && ((flags >> 10) & 1)) {
		gas_read(f + 116, &acpi_info.ai_reset_reg);
		acpi_info.ai_reset_value = f[128];
	}
	if (len >= 148 && rd64(f + 140) != 0)
		dsdt = rd64(f + 140);
	if (len >= 256)
		gas_read(f + 244, &acpi_info.ai_sleep_ctl);
	if ((d = table_get(dsdt, "DSDT")) != NULL)
		dsdt_find_s5(d);
}

static void
mcfg_parse(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h + sizeof(*h) + 8;
	const uint8_t *end = (const uint8_t *)h + h->length;

	for (; p + 16 <= end; p += 16) {
		if (rd16(p + 8) != 0)
			continue; /* only PCI segment 0 */
		acpi_info.ai_mcfg_base = rd64(p);
		acpi_info.ai_mcfg_bus_start = p[10];
		acpi_info.ai_mcfg_bus_end = p[11];
		return;
	}
}

static void
table_dispatch(uint64_t pa)
{
	const struct sdt_header *h = table_get(pa, NULL);

	if (h == NULL)
		return;
	if (memcmp(h->sig, "APIC", 4) == 0)
		madt_parse(h);
	else if (memcmp(h->sig, "FACP", 4) == 0)
		fadt_parse(h);
	else if (memcmp(h->sig, "MCFG", 4) == 0)
		mcfg_parse(h);
}

void
acpi_init(void)
{
	const struct rsdp *r = rsdp_find();
	const struct sdt_header *root;
	const uint8_t *p;
	size_t esz;
	uint32_t i, n;

	if (r == NULL)
		return;
	acpi_info.ai_rsdp = (uintptr_t)r;
	if (r->revision >= 2 && r->xsdt != 0) {
		root = table_get(r->xsdt, "XSDT");
		esz = 8;
	} else {
		root = table_get(r->rsdt, "RSDT");
		esz = 4;
	}
	if (root == NULL) {
		boot_warn("acpi: RSDP found but no valid root table");
		return;
	}
	acpi_info.ai_present = true;
	p = (const uint8_t *)root + sizeof(*root);
	n = (uint32_t)((root->length - sizeof(*root)) / esz);
	for (i = 0; i < n; i++)
		table_dispatch(esz == 8 ? rd64(p + i * 8) : rd32(p + i * 4));
}
