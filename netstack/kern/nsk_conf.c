/*
 * netstack/kern/nsk_conf.c: parsing and checking the static IPv4
 * configuration (net.ip, net.gw). Portable and allocation-free: the
 * kernel uses it at nsk_start, the host tests feed it bad values.
 *
 * Grammar: four decimal octets 0..255 separated by dots, no leading
 * zeros (0177 is octal to inet_aton: refused rather than guessed), no
 * spaces; net.ip adds "/LEN" with LEN 1..32.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "netstack/kern/nsk.h"

/* One decimal number of at most max; *pp moves past it. */
static int
parse_dec(const char **pp, uint32_t max, uint32_t *out)
{
	const char *p = *pp;
	uint32_t v = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9') {
		if (n > 0 && v == 0)
			return -EINVAL; /* a leading zero */
		v = v * 10 + (uint32_t)(*p - '0');
		if (v > max)
			return -EINVAL;
		p++;
		n++;
	}
	if (n == 0)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

static int
parse_quad(const char **pp, uint32_t *addr)
{
	uint32_t a = 0, o;
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0 && *(*pp)++ != '.')
			return -EINVAL;
		if (parse_dec(pp, 255, &o) != 0)
			return -EINVAL;
		a = a << 8 | o;
	}
	*addr = a;
	return 0;
}

int
nsk_parse_ip4(const char *s, uint32_t *addr, const char **why)
{
	const char *p = s;

	if (parse_quad(&p, addr) != 0 || *p != 0) {
		*why = "expected an address such as 10.0.0.1";
		return -EINVAL;
	}
	return 0;
}

int
nsk_parse_cidr(const char *s, uint32_t *addr, uint32_t *netmask,
    const char **why)
{
	const char *p = s;
	uint32_t len;

	if (parse_quad(&p, addr) != 0 || *p++ != '/' ||
	    parse_dec(&p, 32, &len) != 0 || len == 0 || *p != 0) {
		*why = "expected an address and prefix length such as "
		       "10.0.0.2/24";
		return -EINVAL;
	}
	*netmask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	return 0;
}

static bool
bad_host(uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);

	return a == 0 || top == 0 || top == 127 || top >= 224;
}

/* Checks that the address can be a host's and the gateway is reachable. */
int
nsk_check_addr(const struct nsk_addr *a, const char **why_ip,
    const char **why_gw)
{
	uint32_t m = a->na_netmask, host = a->na_addr & ~m;

	*why_ip = *why_gw = NULL;
	if (bad_host(a->na_addr))
		*why_ip = "not a host address (zero, loopback, multicast or "
			  "reserved)";
	else if (m != 0xffffffffu && m != 0xfffffffeu &&
	    (host == 0 || host == ~m))
		*why_ip = "the subnet's network or broadcast address";
	if (*why_ip != NULL)
		return -EINVAL;
	if (a->na_gateway == 0)
		return 0;
	if (bad_host(a->na_gateway))
		*why_gw = "not a host address";
	else if (a->na_gateway == a->na_addr)
		*why_gw = "the host's own address";
	else if ((a->na_gateway & m) != (a->na_addr & m))
		*why_gw = "outside the subnet of net.ip";
	else if (m != 0xffffffffu && m != 0xfffffffeu &&
	    ((a->na_gateway & ~m) == 0 || (a->na_gateway & ~m) == ~m))
		*why_gw = "the subnet's network or broadcast address";
	return *why_gw != NULL ? -EINVAL : 0;
}
