/*
 * core/config.h: command-line and deployment-config keys.
 *
 * A key is declared beside the variable it sets, anywhere in the kernel:
 *
 *	static int64_t loglevel = 2;
 *	CFG_INT(loglevel, "loglevel", loglevel, 0, 3, "console log level");
 *
 * At boot, core/init.c applies the deployment config (fw_cfg file
 * opt/damselfly/config, "key = value" lines, # comments) and then the
 * command line ("key=value" words; a bare "key" sets a bool key; values
 * may be "double quoted"), so the command line wins. An unknown key is
 * warned about and ignored; a malformed value is reported and the
 * variable keeps its default. Both are counted: the in-guest test runner
 * fails a run that had any (a typo must not pass CI silently).
 *
 * Interface:
 *  - Declared variables are written only during boot, before any thread
 *    but the boot thread runs; read them freely afterwards.
 *  - The parser is portable and takes an explicit table (cfg_table), so the
 *    host tests drive it with their own keys.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/kern.h"

enum cfg_type {
	CFG_TYPE_BOOL, /* bool: 1 0 true false yes no on off */
	CFG_TYPE_INT,  /* int64_t, decimal or 0x hex, in [min, max] */
	CFG_TYPE_SIZE, /* uint64_t bytes, with K M G T suffixes (binary) */
	CFG_TYPE_STR,  /* char[max]: at most max-1 bytes */
};

struct cfgkey {
	const char *ck_name;
	enum cfg_type ck_type;
	void *ck_var;
	int64_t ck_min, ck_max;
	const char *ck_help;
};

struct cfg_table {
	const struct cfgkey *ct_keys;
	size_t ct_n;
};

struct cfg_result {
	int cr_set;	/* keys set */
	int cr_unknown; /* unknown keys */
	int cr_bad;	/* malformed values or lines */
};

#define CFG_DECLARE(sym, name, type, var, min, max, help)         \
	static const struct cfgkey cfgkey_##sym __used __section( \
	    ".cfgkeys." name)                                     \
	    __aligned(8) = { name, type, &(var), min, max, help }
#define CFG_BOOL(sym, name, var, help) \
	CFG_DECLARE(sym, name, CFG_TYPE_BOOL, var, 0, 1, help)
#define CFG_INT(sym, name, var, min, max, help) \
	CFG_DECLARE(sym, name, CFG_TYPE_INT, var, min, max, help)
#define CFG_SIZE(sym, name, var, min, max, help) \
	CFG_DECLARE(sym, name, CFG_TYPE_SIZE, var, min, max, help)
#define CFG_STR(sym, name, var, help) \
	CFG_DECLARE(sym, name, CFG_TYPE_STR, var, 0, sizeof(var), help)

/* Sets one key from text; 0, -ENOENT (unknown key) or -EINVAL. */
int cfg_set(const struct cfg_table *t, const char *key, size_t klen,
    const char *val, size_t vlen, const char *origin);
void cfg_parse_cmdline(const struct cfg_table *t, const char *s,
    struct cfg_result *r);
void cfg_parse_file(const struct cfg_table *t, const char *buf, size_t len,
    const char *origin, struct cfg_result *r);
const struct cfgkey *cfg_lookup(const struct cfg_table *t, const char *name,
    size_t len);

/* The kernel's own table (the .cfgkeys section) and what boot made of it. */
const struct cfg_table *cfg_kernel_table(void);
extern struct cfg_result cfg_boot_result;
extern char cfg_boot_source[64];

#endif
