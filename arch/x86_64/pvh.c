/*
 * The PVH start_info handed over by the VMM in %ebx (saved by boot.S):
 * memory map, command line, modules, RSDP. Everything in it comes from
 * outside and is checked: the magic, the version, counts, and that each
 * pointer lies in memory the boot page tables map. It is copied into the
 * kernel's own storage before the page allocator may reuse low memory.
 *
 * Facts about QEMU's loaders (qboot on microvm and q35): the memory map is
 * not sorted and may end with a zero-size entry; version 1 carries the map;
 * on microvm with ACPI the RSDP is given.
 *
 * Interface:
 *  - pvh_parse() once, early, before pmap_init().
 *  - pvh_usable_ram() gives RAM ranges (type 1) sorted and merged.
 */
#include <errno.h>
#include <string.h>
#include "arch/arch.h"
#include "arch/x86_64/boot.h"

#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_entry) == 24, "hvm memmap entry");

struct boot_info bootinfo;

/* Readable through the boot page tables (the first GiB, past page 0)? */
static bool
boot_mapped(uint64_t pa, uint64_t len)
{
	return pa >= 4096 && len <= BOOT_MAPPED && pa <= BOOT_MAPPED - len;
}

static void
copy_cmdline(uint64_t pa)
{
	const char *s = (const char *)(uintptr_t)pa;
	size_t n;

	if (pa == 0)
		return;
	if (!boot_mapped(pa, 1)) {
		boot_warn("pvh: command line at %#lx is not mapped; ignored",
		    (unsigned long)pa);
		return;
	}
	for (n = 0; n < sizeof(bootinfo.bi_cmdline) - 1 &&
	     boot_mapped(pa, n + 1) && s[n] != 0;
	     n++)
		bootinfo.bi_cmdline[n] = s[n];
	bootinfo.bi_cmdline[n] = 0;
	if (s[n] != 0)
		boot_warn("pvh: command line longer than %zu bytes; cut",
		    sizeof(bootinfo.bi_cmdline) - 1);
}

static void
add_range(uint64_t base, uint64_t size, uint32_t type)
{
	struct boot_memrange *r;

	if (size == 0)
		return;
	if (bootinfo.bi_nmem == BOOT_MAX_MEM) {
		boot_warn("pvh: more than %d memory ranges; rest ignored",
		    BOOT_MAX_MEM);
		return;
	}
	if (base + size < base)
		size = UINT64_MAX - base;
	r = &bootinfo.bi_mem[bootinfo.bi_nmem++];
	r->br_base = base;
	r->br_size = size;
	r->br_type = type;
}

/* Insertion sort: the map has a few dozen entries at most. */
static void
sort_ranges(void)
{
	int i, j;

	for (i = 1; i < bootinfo.bi_nmem; i++) {
		struct boot_memrange t = bootinfo.bi_mem[i];
		for (j = i; j > 0 && bootinfo.bi_mem[j - 1].br_base > t.br_base;
		     j--)
			bootinfo.bi_mem[j] = bootinfo.bi_mem[j - 1];
		bootinfo.bi_mem[j] = t;
	}
}

static void
copy_memmap(const struct hvm_start_info *si)
{
	const struct hvm_memmap_entry *e;
	uint32_t i, n = si->memmap_entries;

	if (si->version < 1 || si->memmap_paddr == 0 || n == 0)
		return;
	if (n > 4 * BOOT_MAX_MEM ||
	    !boot_mapped(si->memmap_paddr, (uint64_t)n * sizeof(*e))) {
		boot_warn("pvh: memory map (%u entries at %#lx) is not "
			  "plausible; ignored",
		    n, (unsigned long)si->memmap_paddr);
		return;
	}
	e = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
	for (i = 0; i < n; i++)
		add_range(e[i].addr, e[i].size, e[i].type);
	sort_ranges();
}

static void
copy_modules(const struct hvm_start_info *si)
{
	const struct hvm_modlist_entry *m;
	uint32_t i;

	if (si->nr_modules == 0)
		return;
	if (si->nr_modules > BOOT_MAX_MODULES ||
	    !boot_mapped(si->modlist_paddr, si->nr_modules * sizeof(*m))) {
		boot_warn("pvh: module list (%u at %#lx) ignored",
		    si->nr_modules, (unsigned long)si->modlist_paddr);
		return;
	}
	m = (const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
	for (i = 0; i < si->nr_modules; i++) {
		bootinfo.bi_mod[i].bm_base = m[i].paddr;
		bootinfo.bi_mod[i].bm_size = m[i].size;
	}
	bootinfo.bi_nmod = (int)si->nr_modules;
}

void
pvh_parse(uint64_t pa)
{
	const struct hvm_start_info *si;

	if (!boot_mapped(pa, sizeof(*si)))
		boot_fatal("pvh: start_info at %#lx is not mapped",
		    (unsigned long)pa);
	si = (const struct hvm_start_info *)(uintptr_t)pa;
	if (si->magic != HVM_START_MAGIC)
		boot_fatal("pvh: bad start_info magic %#x (not started by a "
			   "PVH loader?)",
		    si->magic);
	bootinfo.bi_pvh_version = si->version;
	bootinfo.bi_rsdp = si->rsdp_paddr;
	copy_cmdline(si->cmdline_paddr);
	copy_memmap(si);
	copy_modules(si);
}

/* Usable RAM (type 1), sorted, with overlaps merged, before any cuts. */
int
pvh_usable_ram(struct boot_memrange *out, int max)
{
	int i, n = 0;

	for (i = 0; i < bootinfo.bi_nmem; i++) {
		const struct boot_memrange *r = &bootinfo.bi_mem[i];
		if (r->br_type != BOOT_MEM_RAM)
			continue;
		if (n > 0 &&
		    r->br_base <= out[n - 1].br_base + out[n - 1].br_size) {
			uint64_t end = r->br_base + r->br_size;
			uint64_t oend = out[n - 1].br_base + out[n - 1].br_size;
			if (end > oend)
				out[n - 1].br_size = end - out[n - 1].br_base;
			continue;
		}
		if (n == max)
			break;
		out[n++] = *r;
	}
	return n;
}

int
arch_boot_module(int i, uint64_t *base, uint64_t *size)
{
	if (i < 0 || i >= bootinfo.bi_nmod)
		return -ENOENT;
	*base = bootinfo.bi_mod[i].bm_base;
	*size = bootinfo.bi_mod[i].bm_size;
	return 0;
}

bool
pvh_early_param(const char *word)
{
	const char *p = bootinfo.bi_cmdline;
	size_t n = strlen(word);

	while ((p = strstr(p, word)) != NULL) {
		bool start = p == bootinfo.bi_cmdline || p[-1] == ' ';
		bool end = p[n] == 0 || p[n] == ' ' || p[n] == '=';
		if (start && end)
			return true;
		p += n;
	}
	return false;
}

const char *
arch_cmdline(void)
{
	return bootinfo.bi_cmdline;
}

uint64_t
arch_ram_total(void)
{
	struct boot_memrange r[BOOT_MAX_MEM];
	int i, n = pvh_usable_ram(r, BOOT_MAX_MEM);
	uint64_t t = 0;

	for (i = 0; i < n; i++)
		t += r[i].br_size;
	return t;
}
