/*
 * Command-line and config-file parsing (see config.h for the grammar).
 * Portable: host tests feed it every malformed input they can think of.
 * Nothing here allocates; every input is length-bounded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core/config.h"

#define CFG_MAX_LINE 1024

static bool
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	    c == '.' || c == '-';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f';
}

const struct cfgkey *
cfg_lookup(const struct cfg_table *t, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < t->ct_n; i++) {
		const char *k = t->ct_keys[i].ck_name;
		if (strncmp(k, name, len) == 0 && k[len] == 0)
			return &t->ct_keys[i];
	}
	return NULL;
}

static bool
parse_bool(const char *v, size_t n, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strlen(yes[i]) == n && strncmp(v, yes[i], n) == 0) {
			*out = true;
			return true;
		}
		if (strlen(no[i]) == n && strncmp(v, no[i], n) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Parses [+-]digits or 0x hex; *used gets the characters consumed. */
static bool
parse_int(const char *v, size_t n, int64_t *out, size_t *used)
{
	uint64_t acc = 0, limit;
	size_t i = 0;
	bool neg = false;
	unsigned base = 10;

	if (i < n && (v[i] == '-' || v[i] == '+'))
		neg = v[i++] == '-';
	if (i + 1 < n && v[i] == '0' && (v[i + 1] == 'x' || v[i + 1] == 'X')) {
		base = 16;
		i += 2;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	size_t start = i;
	for (; i < n; i++) {
		unsigned d;
		char c = v[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (acc > (limit - d) / base)
			return false; /* overflow */
		acc = acc * base + d;
	}
	if (i == start)
		return false;
	*out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	*used = i;
	return true;
}

static bool
parse_size(const char *v, size_t n, int64_t *out)
{
	static const char units[] = "kmgt";
	int64_t x;
	size_t used, rest;
	int shift = 0;

	if (!parse_int(v, n, &x, &used) || x < 0)
		return false;
	rest = n - used;
	if (rest > 0) {
		const char *u = strchr(units, v[used] | 0x20);
		if (u == NULL || v[used] == 0)
			return false;
		shift = 10 * (int)(u - units + 1);
		used++;
		rest--;
		/* optional "B" or "iB" */
		if (rest == 2 && (v[used] == 'i') &&
		    (v[used + 1] | 0x20) == 'b')
			rest = 0;
		else if (rest == 1 && (v[used] | 0x20) == 'b')
			rest = 0;
		if (rest != 0)
			return false;
		if (x > (INT64_MAX >> shift))
			return false;
		x <<= shift;
	}
	*out = x;
	return true;
}

static void
report_bad(const struct cfgkey *k, const char *val, size_t vlen,
    const char *origin, const char *why)
{
	char cur[48];

	switch (k->ck_type) {
	case CFG_TYPE_BOOL:
		strcpy(cur, *(bool *)k->ck_var ? "true" : "false");
		break;
	case CFG_TYPE_INT:
	case CFG_TYPE_SIZE:
		cur[0] = 0;
		break;
	case CFG_TYPE_STR:
		strcpy(cur, "its default");
		break;
	}
	if (k->ck_type == CFG_TYPE_INT || k->ck_type == CFG_TYPE_SIZE)
		log_err(
		    "config: bad value '%.*s' for %s (%s): %s; keeping %lld",
		    (int)MIN(vlen, 64), val, k->ck_name, origin, why,
		    (long long)*(int64_t *)k->ck_var);
	else
		log_err("config: bad value '%.*s' for %s (%s): %s; keeping %s",
		    (int)MIN(vlen, 64), val, k->ck_name, origin, why, cur);
}

static int
set_number(const struct cfgkey *k, const char *val, size_t vlen,
    const char *origin)
{
	int64_t x;
	size_t used;
	bool ok;

	if (k->ck_type == CFG_TYPE_SIZE)
		ok = parse_size(val, vlen, &x);
	else
		ok = parse_int(val, vlen, &x, &used) && used == vlen;
	if (!ok) {
		report_bad(k, val, vlen, origin,
		    k->ck_type == CFG_TYPE_SIZE ?
			"expected a size such as 64M" :
			"expected an integer");
		return -EINVAL;
	}
	if (x < k->ck_min || x > k->ck_max) {
		char why[80];
		snprintf(why, sizeof(why), "out of range %lld..%lld",
		    (long long)k->ck_min, (long long)k->ck_max);
		report_bad(k, val, vlen, origin, why);
		return -EINVAL;
	}
	*(int64_t *)k->ck_var = x;
	return 0;
}

int
cfg_set(const struct cfg_table *t, const char *key, size_t klen,
    const char *val, size_t vlen, const char *origin)
{
	const struct cfgkey *k = cfg_lookup(t, key, klen);
	bool b;

	if (k == NULL) {
		log_warn("config: unknown key '%.*s' (%s); ignored",
		    (int)MIN(klen, 64), key, origin);
		return -ENOENT;
	}
	switch (k->ck_type) {
	case CFG_TYPE_BOOL:
		if (val == NULL) {
			*(bool *)k->ck_var = true;
			return 0;
		}
		if (!parse_bool(val, vlen, &b)) {
			report_bad(k, val, vlen, origin,
			    "expected true or false");
			return -EINVAL;
		}
		*(bool *)k->ck_var = b;
		return 0;
	case CFG_TYPE_INT:
	case CFG_TYPE_SIZE:
		if (val == NULL) {
			report_bad(k, "", 0, origin, "a value is required");
			return -EINVAL;
		}
		return set_number(k, val, vlen, origin);
	case CFG_TYPE_STR:
		if (val == NULL || vlen + 1 > (size_t)k->ck_max) {
			report_bad(k, val ? val : "", val ? vlen : 0, origin,
			    val ? "too long" : "a value is required");
			return -EINVAL;
		}
		memcpy(k->ck_var, val, vlen);
		((char *)k->ck_var)[vlen] = 0;
		return 0;
	}
	return -EINVAL;
}

static void
count(struct cfg_result *r, int err)
{
	if (err == 0)
		r->cr_set++;
	else if (err == -ENOENT)
		r->cr_unknown++;
	else
		r->cr_bad++;
}

/* One "key" or "key=value" word of the command line. */
static void
cmdline_word(const struct cfg_table *t, const char *w, size_t n,
    struct cfg_result *r)
{
	size_t k = 0;

	while (k < n && w[k] != '=')
		k++;
	if (k == 0) {
		log_err("config: '%.*s' on the command line has no key",
		    (int)MIN(n, 64), w);
		r->cr_bad++;
		return;
	}
	if (k == n) {
		count(r, cfg_set(t, w, k, NULL, 0, "command line"));
		return;
	}
	const char *v = w + k + 1;
	size_t vn = n - k - 1;
	if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
		v++;
		vn -= 2;
	}
	count(r, cfg_set(t, w, k, v, vn, "command line"));
}

void
cfg_parse_cmdline(const struct cfg_table *t, const char *s,
    struct cfg_result *r)
{
	while (*s != 0) {
		const char *w;
		bool quoted = false;
		while (is_space(*s))
			s++;
		if (*s == 0)
			break;
		w = s;
		while (*s != 0 && (quoted || !is_space(*s))) {
			if (*s == '"')
				quoted = !quoted;
			s++;
		}
		if (quoted) {
			log_err("config: unterminated quote in '%.*s' on the "
				"command line",
			    (int)MIN(s - w, 64), w);
			r->cr_bad++;
			break;
		}
		cmdline_word(t, w, (size_t)(s - w), r);
	}
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

/* One line of a config file, without its newline. */
static void
file_line(const struct cfg_table *t, const char *l, size_t n, int lineno,
    const char *origin, struct cfg_result *r)
{
	char where[96];
	size_t k, i;

	snprintf(where, sizeof(where), "%s line %d", origin, lineno);
	for (i = 0; i < n; i++) {
		if (l[i] == '#' && (i == 0 || is_space(l[i - 1]))) {
			n = i; /* a comment runs to the end of the line */
			break;
		}
	}
	trim(&l, &n);
	if (n == 0)
		return;
	for (k = 0; k < n && is_key_char(l[k]); k++)
		;
	if (k == 0) {
		log_err("config: %s: expected 'key = value', got '%.*s'", where,
		    (int)MIN(n, 64), l);
		r->cr_bad++;
		return;
	}
	const char *rest = l + k;
	size_t rn = n - k;
	trim(&rest, &rn);
	if (rn == 0) {
		count(r, cfg_set(t, l, k, NULL, 0, where));
		return;
	}
	if (rest[0] != '=') {
		log_err("config: %s: expected '=' after '%.*s'", where, (int)k,
		    l);
		r->cr_bad++;
		return;
	}
	rest++;
	rn--;
	trim(&rest, &rn);
	if (rn >= 2 && rest[0] == '"' && rest[rn - 1] == '"') {
		rest++;
		rn -= 2;
	}
	count(r, cfg_set(t, l, k, rest, rn, where));
}

void
cfg_parse_file(const struct cfg_table *t, const char *buf, size_t len,
    const char *origin, struct cfg_result *r)
{
	size_t pos = 0;
	int lineno = 0;

	/* Trailing NULs (a file made from a C string) end the text. */
	while (len > 0 && buf[len - 1] == 0)
		len--;
	while (pos < len) {
		size_t end = pos;
		lineno++;
		while (end < len && buf[end] != '\n' && buf[end] != 0)
			end++;
		if (end < len && buf[end] == 0) {
			log_err("config: %s line %d: NUL byte; the rest of the "
				"file is ignored",
			    origin, lineno);
			r->cr_bad++;
			return;
		}
		if (end - pos > CFG_MAX_LINE) {
			log_err("config: %s line %d: longer than %d bytes; "
				"ignored",
			    origin, lineno, CFG_MAX_LINE);
			r->cr_bad++;
		} else {
			file_line(t, buf + pos, end - pos, lineno, origin, r);
		}
		pos = end + 1;
	}
}
