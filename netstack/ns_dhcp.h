/*
 * ns_dhcp.h: DHCP's on-wire format (RFC 2131, RFC 2132, RFC 3396), private
 * to the core, its tests and its fuzzer. A message is the fixed BOOTP
 * header (236 bytes), the magic cookie, then options: a code byte and,
 * except for PAD (0) and END (255), a length byte and that many bytes.
 * With the overload option (52) the 'file' and then the 'sname' fields
 * hold more options. Every multi-byte field is in network byte order.
 */
#ifndef NETSTACK_NS_DHCP_H
#define NETSTACK_NS_DHCP_H

#include <stddef.h>
#include <stdint.h>

#include "netstack/ns_wire.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

#define BOOTREQUEST	 1
#define BOOTREPLY	 2
#define DHCP_HTYPE_ETHER 1
#define DHCP_MAGIC	 0x63825363u /* 99.130.83.99 */
#define DHCP_HLEN	 240	     /* header and cookie */
#define DHCP_MIN_MSG	 300	     /* BOOTP's minimum message (RFC 1542) */
#define DHCP_MIN_MAXMSG	 576	     /* least option 57 may say */

struct dhcp_hdr {
	uint8_t dh_op;	       /* 0: BOOTREQUEST or BOOTREPLY */
	uint8_t dh_htype;      /* 1: 1, Ethernet */
	uint8_t dh_hlen;       /* 2: 6 */
	uint8_t dh_hops;       /* 3 */
	uint32_t dh_xid;       /* 4: transaction id, the client's */
	uint16_t dh_secs;      /* 8: since the client began */
	uint16_t dh_flags;     /* 10: 0x8000 broadcast */
	uint32_t dh_ciaddr;    /* 12: client's address when it has one */
	uint32_t dh_yiaddr;    /* 16: 'your' address, from the server */
	uint32_t dh_siaddr;    /* 20: next server (boot) */
	uint32_t dh_giaddr;    /* 24: relay agent */
	uint8_t dh_chaddr[16]; /* 28: client hardware address */
	uint8_t dh_sname[64];  /* 44: server name, or options */
	uint8_t dh_file[128];  /* 108: boot file, or options */
	uint32_t dh_magic;     /* 236: DHCP_MAGIC */
} NS_PACKED;
_Static_assert(sizeof(struct dhcp_hdr) == DHCP_HLEN, "dhcp_hdr");
_Static_assert(offsetof(struct dhcp_hdr, dh_xid) == 4, "dh_xid");
_Static_assert(offsetof(struct dhcp_hdr, dh_ciaddr) == 12, "dh_ciaddr");
_Static_assert(offsetof(struct dhcp_hdr, dh_chaddr) == 28, "dh_chaddr");
_Static_assert(offsetof(struct dhcp_hdr, dh_sname) == 44, "dh_sname");
_Static_assert(offsetof(struct dhcp_hdr, dh_file) == 108, "dh_file");
_Static_assert(offsetof(struct dhcp_hdr, dh_magic) == 236, "dh_magic");

/* Options (RFC 2132) the client sends or reads. */
#define DHO_PAD		 0
#define DHO_SUBNET_MASK	 1
#define DHO_ROUTER	 3
#define DHO_DNS		 6
#define DHO_REQUESTED_IP 50
#define DHO_LEASE_TIME	 51
#define DHO_OVERLOAD	 52 /* 1: file, 2: sname, 3: both */
#define DHO_MSG_TYPE	 53
#define DHO_SERVER_ID	 54
#define DHO_PARAM_REQ	 55
#define DHO_MAX_MSG	 57
#define DHO_T1		 58
#define DHO_T2		 59
#define DHO_CLIENT_ID	 61
#define DHO_END		 255

/* Message types (option 53). */
#define DHCPDISCOVER 1
#define DHCPOFFER    2
#define DHCPREQUEST  3
#define DHCPDECLINE  4
#define DHCPACK	     5
#define DHCPNAK	     6
#define DHCPRELEASE  7
#define DHCPINFORM   8

#endif /* NETSTACK_NS_DHCP_H */
