/*
 * nb.h: network buffers. A packet is a chain of segments (struct nb,
 * linked by nb_next); packets are queued through nb_nextpkt. A segment
 * points into storage it may share with other segments: a 2 KiB cluster
 * from a bounded pool, or external memory the caller owns (a file-system
 * page sent without a copy). Storage is reference counted through its
 * struct nb_ext; when the last segment referring to it is freed, its
 * ne_free runs (a cluster goes back to its pool; an external page is
 * handed back to its owner).
 *
 * Headers are added in front (nb_prepend) into a cluster's headroom when
 * the segment has the storage to itself, else into a new segment put in
 * front. Transmitting a byte range of a send buffer is a chain of
 * references (nb_ref), not a copy.
 *
 * Pools are bounded: a pool grows by allocating from the platform up to
 * its limits and keeps what it allocated on free lists until
 * nb_pool_fini. Each pool keeps counters (in use, peak, failures) that
 * tests and the appliance read. A pool belongs to one instance and is
 * used from its thread only: no locks.
 *
 * Interface:
 *  - Functions that return a segment or a pointer return NULL when a pool
 *    is exhausted or the platform allocator fails; the chain they were
 *    given is then unchanged (nb_prepend, nb_pullup, nb_append).
 *  - Only a segment that has its storage to itself (refs 1, not
 *    NB_EXT_RDONLY) is written in front of its data. A segment extends
 *    into the room after its data only if it is the storage's owner
 *    (NB_S_OWNER, given by nb_get and moved by nb_split): the bytes a
 *    reference covers are never written again.
 *  - nb_pktlen of the first segment is the packet length; the functions
 *    here keep it; code that changes nb_len by hand must fix it.
 *  - External storage: the owner initializes it with nb_ext_init (one
 *    reference, its own), passes it to nb_get_ext as often as it likes,
 *    and drops its own reference with nb_ext_release; ne_free runs when
 *    the last reference goes, on the instance's thread.
 *  - nb_pool_fini returns how many headers and clusters are still in use
 *    (0 when nothing leaked); leaked objects are not freed.
 */
#ifndef NETSTACK_NB_H
#define NETSTACK_NB_H

#include <stddef.h>
#include <stdint.h>

#include "netstack/netstack_platform.h"

#define NB_CLUSTER_SIZE 2048
/* Room for Ethernet, a full IPv4 header and a full TCP header. */
#define NB_MAXHDR 144

struct nb_ext {
	uint32_t ne_refs;
	uint32_t ne_flags; /* NB_EXT_* */
	void (*ne_free)(struct nb_ext *ext);
	void *ne_arg; /* the owner's */
};

#define NB_EXT_RDONLY 0x1 /* never written through a segment */

struct nb_pool;

struct nb {
	struct nb *nb_next;    /* next segment of this packet */
	struct nb *nb_nextpkt; /* next packet in a queue */
	uint8_t *nb_data;      /* first byte */
	uint32_t nb_len;       /* bytes in this segment */
	uint32_t nb_sflags;    /* NB_S_*: this segment */
	uint8_t *nb_buf;       /* storage bounds */
	uint32_t nb_bufsize;
	struct nb_ext *nb_ext;
	struct nb_pool *nb_pool;
	/* Packet header: meaningful in the first segment only. */
	uint32_t nb_pktlen;	/* bytes in the whole chain */
	uint32_t nb_flags;	/* NB_RX_*, NB_TX_* */
	uint16_t nb_csum_start; /* NB_TX_CSUM: where the sum starts */
	uint16_t nb_csum_off;	/* NB_TX_CSUM: field, from csum_start */
	uint16_t nb_tso_mss;	/* NB_TX_TSO: payload bytes per segment */
	uint16_t nb_hdrlen;	/* NB_TX_TSO: Ethernet+IP+TCP header bytes */
	uint32_t nb_hash;	/* RSS hash from the device, 0 if none */
	uint32_t nb_seq;	/* scratch for the layer that queues it */
	uint32_t nb_aux;	/* scratch for the layer that queues it */
};

/* nb_sflags */
#define NB_S_OWNER 0x1 /* may extend into the storage after its data */

/* nb_flags: offloads, the virtio-net header's meanings. */
#define NB_RX_CSUM_OK 0x01 /* the device verified the L4 checksum */
#define NB_TX_CSUM    0x02 /* the device completes the L4 checksum */
#define NB_TX_TSO     0x04 /* the device cuts TCP into nb_tso_mss pieces */

struct nb_pool_stats {
	uint64_t nps_hdr_allocs; /* headers handed out */
	uint64_t nps_hdr_fails;	 /* refused: limit or platform */
	uint64_t nps_cl_allocs;	 /* clusters handed out */
	uint64_t nps_cl_fails;
	uint64_t nps_ext_refs;	/* references to external storage made */
	uint64_t nps_copies;	/* bytes copied by pullup/copy */
	uint32_t nps_hdr_inuse; /* now */
	uint32_t nps_hdr_peak;
	uint32_t nps_hdr_total; /* obtained from the platform */
	uint32_t nps_cl_inuse;
	uint32_t nps_cl_peak;
	uint32_t nps_cl_total;
};

struct nb_cluster;

struct nb_pool {
	const struct ns_platform *pl_plat;
	struct nb *pl_hdr_free;	       /* linked by nb_next */
	struct nb_cluster *pl_cl_free; /* linked by nc_next */
	uint32_t pl_hdr_max;
	uint32_t pl_cl_max;
	struct nb_pool_stats pl_stats;
};

int nb_pool_init(struct nb_pool *pl, const struct ns_platform *plat,
    uint32_t max_hdrs, uint32_t max_clusters);
uint32_t nb_pool_fini(struct nb_pool *pl);

/* A segment with a cluster, headroom bytes free in front; length 0. */
struct nb *nb_get(struct nb_pool *pl, uint32_t headroom);
/* A read-only reference to len bytes at data inside ext's storage. */
struct nb *nb_get_ext(struct nb_pool *pl, struct nb_ext *ext, const void *data,
    uint32_t len);
/* Frees one segment; returns the next. */
struct nb *nb_free(struct nb *nb);
/* Frees a chain; NULL is allowed. */
void nb_freem(struct nb *chain);
/* Frees a queue of packets linked by nb_nextpkt. */
void nb_freeq(struct nb *pkts);

void nb_ext_init(struct nb_ext *ext, void (*fn)(struct nb_ext *), void *arg,
    uint32_t flags);
void nb_ext_release(struct nb_ext *ext);

int nb_writable(const struct nb *nb);
uint32_t nb_headroom(const struct nb *nb);
uint32_t nb_tailroom(const struct nb *nb);

/* Room for len bytes in front of the packet; NULL when out of buffers. */
void *nb_prepend(struct nb **chainp, uint32_t len);
/* Copies len bytes to the end; 0 or -ENOBUFS (chain unchanged). */
int nb_append(struct nb *chain, const void *data, uint32_t len);
/* Puts tail's segments after chain's; tail's packet header is dropped. */
void nb_cat(struct nb *chain, struct nb *tail);
/* Trims len bytes from the front (len >= 0) or -len from the back. */
void nb_adj(struct nb *chain, int32_t len);
/* Makes the first len bytes contiguous; NULL if it cannot. */
void *nb_pullup(struct nb **chainp, uint32_t len);
/* Copies [off, off+len) out; -EINVAL if the packet is shorter. */
int nb_copydata(const struct nb *chain, uint32_t off, uint32_t len, void *dst);
/* References to [off, off+len) as a new packet; NULL when out. */
struct nb *nb_ref(struct nb_pool *pl, const struct nb *chain, uint32_t off,
    uint32_t len);
/*
 * The same two from any segment of a chain (its nb_pktlen is not used):
 * off counts from that segment's first byte. -EINVAL or NULL when the
 * chain ends first.
 */
int nb_copydata_at(const struct nb *seg, uint32_t off, uint32_t len, void *dst);
struct nb *nb_ref_at(struct nb_pool *pl, const struct nb *seg, uint32_t off,
    uint32_t len);
/* A private copy of [off, off+len) with headroom in front; NULL when out. */
struct nb *nb_copy(struct nb_pool *pl, const struct nb *chain, uint32_t off,
    uint32_t len, uint32_t headroom);
/*
 * Splits a chain: the first off bytes stay, the rest is returned as a new
 * packet (NULL when off is the length, or when out of headers: then
 * *errp is -ENOBUFS and the chain is unchanged).
 */
struct nb *nb_split(struct nb *chain, uint32_t off, int *errp);
/* Storage the chain pins, for socket-buffer accounting. */
uint32_t nb_truesize(const struct nb *chain);
/* Segments in the chain. */
uint32_t nb_nsegs(const struct nb *chain);

static inline uint32_t
nb_pktlen(const struct nb *chain)
{
	return chain->nb_pktlen;
}

#endif /* NETSTACK_NB_H */
