/*
 * h2_names.c: printable names for on-disk codes, for logs and tools.
 *
 * Interface: h2_*_name and h2_uuid_format in hammer2.h. Every function
 * returns a static string, "?" style for codes it does not know; none
 * fails.
 */
#include "hammer2/h2_internal.h"

const char *
h2_bref_type_name(uint8_t type)
{
	switch (type) {
	case HAMMER2_BREF_TYPE_EMPTY:
		return "empty";
	case HAMMER2_BREF_TYPE_INODE:
		return "inode";
	case HAMMER2_BREF_TYPE_INDIRECT:
		return "indirect";
	case HAMMER2_BREF_TYPE_DATA:
		return "data";
	case HAMMER2_BREF_TYPE_DIRENT:
		return "dirent";
	case HAMMER2_BREF_TYPE_FREEMAP_NODE:
		return "freemap_node";
	case HAMMER2_BREF_TYPE_FREEMAP_LEAF:
		return "freemap_leaf";
	case HAMMER2_BREF_TYPE_INVALID:
		return "invalid";
	case HAMMER2_BREF_TYPE_FREEMAP:
		return "freemap";
	case HAMMER2_BREF_TYPE_VOLUME:
		return "volume";
	default:
		return "unknown";
	}
}

const char *
h2_check_name(uint8_t check)
{
	static const char *const names[] = { "none", "disabled", "crc32",
		"xxhash64", "sha192", "freemap" };

	return check < sizeof(names) / sizeof(names[0]) ? names[check] : "?";
}

const char *
h2_comp_name(uint8_t comp)
{
	static const char *const names[] = { "none", "autozero", "lz4",
		"zlib" };

	if (comp == HAMMER2_COMP_DF_ZSTD)
		return "zstd";
	return comp < sizeof(names) / sizeof(names[0]) ? names[comp] : "?";
}

const char *
h2_objtype_name(uint8_t type)
{
	static const char *const names[] = { "unknown", "directory", "regfile",
		"?", "fifo", "cdev", "bdev", "softlink", "?", "socket",
		"whiteout" };

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

const char *
h2_pfstype_name(uint8_t type)
{
	static const char *const names[] = { "none", "cache", "unused02",
		"slave", "soft_slave", "soft_master", "master", "unused07",
		"suproot", "dummy" };

	type = HAMMER2_PFS_DEC(type);
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

void
h2_uuid_format(const struct hammer2_uuid *u, char out[37])
{
	snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    u->time_low, u->time_mid, u->time_hi_and_version,
	    u->clock_seq_hi_and_reserved, u->clock_seq_low, u->node[0],
	    u->node[1], u->node[2], u->node[3], u->node[4], u->node[5]);
}
