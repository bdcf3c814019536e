/*
 * ns_wire.h: the on-wire formats the core speaks: Ethernet II, ARP for
 * IPv4 over Ethernet, IPv4, ICMP, UDP and TCP. Every multi-byte field is in
 * network byte order; read them with ns_ntoh16/32. The structs are packed
 * because a header sits at any alignment in a frame (IP at offset 14);
 * every size and offset that matters is asserted below (STYLE habit 8).
 */
#ifndef NETSTACK_NS_WIRE_H
#define NETSTACK_NS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define NS_PACKED __attribute__((packed))

static inline uint16_t
ns_ntoh16(uint16_t v)
{
	return __builtin_bswap16(v);
}

static inline uint32_t
ns_ntoh32(uint32_t v)
{
	return __builtin_bswap32(v);
}

#define ns_hton16 ns_ntoh16
#define ns_hton32 ns_ntoh32

/* ---- Ethernet II ---- */

#define ETH_ALEN      6
#define ETH_HLEN      14
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP  0x0806
#define ETH_TYPE_VLAN 0x8100

struct eth_hdr {
	uint8_t eh_dst[ETH_ALEN]; /* 0 */
	uint8_t eh_src[ETH_ALEN]; /* 6 */
	uint16_t eh_type;	  /* 12 */
} NS_PACKED;
_Static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "eth_hdr");
_Static_assert(offsetof(struct eth_hdr, eh_type) == 12, "eh_type");

/* ---- ARP (RFC 826), IPv4 over Ethernet only ---- */

#define ARP_HRD_ETHER  1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

struct arp_pkt {
	uint16_t ap_hrd;	  /* 0: hardware type, 1 */
	uint16_t ap_pro;	  /* 2: protocol, 0x0800 */
	uint8_t ap_hln;		  /* 4: 6 */
	uint8_t ap_pln;		  /* 5: 4 */
	uint16_t ap_op;		  /* 6 */
	uint8_t ap_sha[ETH_ALEN]; /* 8 */
	uint32_t ap_spa;	  /* 14 */
	uint8_t ap_tha[ETH_ALEN]; /* 18 */
	uint32_t ap_tpa;	  /* 24 */
} NS_PACKED;
_Static_assert(sizeof(struct arp_pkt) == 28, "arp_pkt");
_Static_assert(offsetof(struct arp_pkt, ap_spa) == 14, "ap_spa");
_Static_assert(offsetof(struct arp_pkt, ap_tpa) == 24, "ap_tpa");

/* ---- IPv4 (RFC 791) ---- */

#define IP_HLEN_MIN   20
#define IP_HLEN_MAX   60
#define IP_MAXPACKET  65535
#define IP_DF	      0x4000
#define IP_MF	      0x2000
#define IP_OFFMASK    0x1fff
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP  6
#define IP_PROTO_UDP  17
#define IP_DEFTTL     64

/* Options */
#define IPOPT_EOL  0
#define IPOPT_NOP  1
#define IPOPT_LSRR 131
#define IPOPT_SSRR 137

struct ip_hdr {
	uint8_t ip_vhl;	 /* 0: version 4, header length in words */
	uint8_t ip_tos;	 /* 1 */
	uint16_t ip_len; /* 2: total length */
	uint16_t ip_id;	 /* 4 */
	uint16_t ip_off; /* 6: flags and fragment offset in 8 bytes */
	uint8_t ip_ttl;	 /* 8 */
	uint8_t ip_p;	 /* 9 */
	uint16_t ip_sum; /* 10 */
	uint32_t ip_src; /* 12 */
	uint32_t ip_dst; /* 16 */
} NS_PACKED;
_Static_assert(sizeof(struct ip_hdr) == IP_HLEN_MIN, "ip_hdr");
_Static_assert(offsetof(struct ip_hdr, ip_off) == 6, "ip_off");
_Static_assert(offsetof(struct ip_hdr, ip_src) == 12, "ip_src");

/* ---- ICMP (RFC 792) ---- */

#define ICMP_ECHOREPLY	      0
#define ICMP_UNREACH	      3
#define ICMP_ECHO	      8
#define ICMP_TIMXCEED	      11
#define ICMP_PARAMPROB	      12
#define ICMP_UNREACH_NET      0
#define ICMP_UNREACH_HOST     1
#define ICMP_UNREACH_PROTO    2
#define ICMP_UNREACH_PORT     3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_TIMXCEED_REASS   1

struct icmp_hdr {
	uint8_t ic_type; /* 0 */
	uint8_t ic_code; /* 1 */
	uint16_t ic_sum; /* 2 */
	uint16_t ic_id;	 /* 4: echo id; unused; next-hop MTU hi */
	uint16_t ic_seq; /* 6: echo seq; next-hop MTU (RFC 1191) */
} NS_PACKED;
_Static_assert(sizeof(struct icmp_hdr) == 8, "icmp_hdr");

/* ---- UDP (RFC 768) ---- */

struct udp_hdr {
	uint16_t uh_sport; /* 0 */
	uint16_t uh_dport; /* 2 */
	uint16_t uh_ulen;  /* 4: header and data */
	uint16_t uh_sum;   /* 6: 0 = none */
} NS_PACKED;
_Static_assert(sizeof(struct udp_hdr) == 8, "udp_hdr");

/* ---- TCP (RFC 9293) ---- */

#define TH_FIN		 0x01
#define TH_SYN		 0x02
#define TH_RST		 0x04
#define TH_PSH		 0x08
#define TH_ACK		 0x10
#define TH_URG		 0x20
#define TH_ECE		 0x40
#define TH_CWR		 0x80

#define TCP_HLEN_MIN	 20
#define TCP_HLEN_MAX	 60

#define TCPOPT_EOL	 0
#define TCPOPT_NOP	 1
#define TCPOPT_MSS	 2 /* len 4 */
#define TCPOPT_WSCALE	 3 /* len 3 */
#define TCPOPT_SACK_PERM 4 /* len 2 */
#define TCPOPT_SACK	 5 /* len 2 + 8n */
#define TCPOPT_TS	 8 /* len 10 */

struct tcp_hdr {
	uint16_t th_sport; /* 0 */
	uint16_t th_dport; /* 2 */
	uint32_t th_seq;   /* 4 */
	uint32_t th_ack;   /* 8 */
	uint8_t th_off;	   /* 12: data offset in words, high nibble */
	uint8_t th_flags;  /* 13 */
	uint16_t th_win;   /* 14 */
	uint16_t th_sum;   /* 16 */
	uint16_t th_urp;   /* 18 */
} NS_PACKED;
_Static_assert(sizeof(struct tcp_hdr) == TCP_HLEN_MIN, "tcp_hdr");
_Static_assert(offsetof(struct tcp_hdr, th_off) == 12, "th_off");
_Static_assert(offsetof(struct tcp_hdr, th_sum) == 16, "th_sum");

/* The IPv4 pseudo-header the TCP and UDP checksums cover (RFC 9293). */
struct ip_pseudo {
	uint32_t ps_src;
	uint32_t ps_dst;
	uint8_t ps_zero;
	uint8_t ps_proto;
	uint16_t ps_len;
} NS_PACKED;
_Static_assert(sizeof(struct ip_pseudo) == 12, "ip_pseudo");

#endif /* NETSTACK_NS_WIRE_H */
