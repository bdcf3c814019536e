/*
 * hammer2_disk.h: the HAMMER2 on-disk format, byte for byte as DragonFly BSD
 * defines it in sys/vfs/hammer2/hammer2_disk.h.
 *
 * Every structure here is a contract with the media: a field's size and
 * offset never change, and _Static_assert checks each size and the offsets
 * that the code relies on. Names follow DragonFly's (hammer2_ structs,
 * HAMMER2_ constants, unprefixed field names) so that each line can be
 * compared with the upstream header; in-memory structures live elsewhere and
 * carry the h2_ prefix.
 *
 * The format is stored in host byte order. DragonFly runs on little-endian
 * machines only and so do we: a big-endian build fails below, and a volume
 * whose magic reads byte-swapped is refused at mount.
 *
 * Layout in one paragraph. A volume is cut into 2 GiB zones; the first 64 KiB
 * of each of the first four zones holds a copy of the volume header, and the
 * mount takes the valid copy with the highest mirror_tid. The first 4 MiB of
 * every 1 GiB is reserved (volume header slot plus eight rotating sets of
 * freemap blocks). The header points at the super-root inode through
 * sroot_blockset and at the freemap through freemap_blockset. Everything is
 * reached through 128-byte blockrefs: a type, a key range (key, keybits), a
 * media offset whose low 6 bits are the log2 of the physical size, and a check
 * code over the physical bytes. Inodes are 1024 bytes and hold either 512
 * bytes of file data or a set of four blockrefs; larger sets live in indirect
 * blocks of up to 512 blockrefs. The super-root's entries are the PFS root
 * inodes; inside a PFS all inodes hang off the PFS root inode keyed by inode
 * number, and directories hold DIRENT blockrefs keyed by the name hash.
 *
 * Interface:
 *  - Include this header wherever media bytes are interpreted; never declare
 *    an on-disk structure anywhere else.
 *  - Media structures are read into aligned buffers and accessed in place;
 *    every field from the media is untrusted until validated (see
 *    hammer2/DESIGN.md for the rules each field must meet).
 *  - Values in the "Damselfly extensions" section are not DragonFly's; a
 *    volume that never uses them stays readable by DragonFly.
 */
#ifndef HAMMER2_HAMMER2_DISK_H
#define HAMMER2_HAMMER2_DISK_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "HAMMER2 media is host-endian; only little-endian hosts are supported"
#endif

/* Scalar types: transaction ids, media offsets, keys, CRCs. */
typedef uint64_t hammer2_tid_t;
typedef uint64_t hammer2_off_t;
typedef uint64_t hammer2_key_t;
typedef uint32_t hammer2_crc32_t;
typedef uint64_t hammer2_bitmap_t;

/* A DCE UUID as stored: 16 bytes, fields in host (little-endian) order. */
struct hammer2_uuid {
	uint32_t time_low;
	uint16_t time_mid;
	uint16_t time_hi_and_version;
	uint8_t clock_seq_hi_and_reserved;
	uint8_t clock_seq_low;
	uint8_t node[6];
};

/* The fstype UUID of every HAMMER2 volume header. */
#define HAMMER2_UUID_STRING "5cbb9ad1-862d-11dc-a94d-01301bb8a9f5"

/*
 * Allocation sizes. Blocks are powers of two from 1 KiB to 64 KiB; the
 * physical size of a block is stored as its radix in the low 6 bits of
 * blockref.data_off.
 */
#define HAMMER2_ALLOC_MIN  1024
#define HAMMER2_RADIX_MIN  10
#define HAMMER2_ALLOC_MAX  65536
#define HAMMER2_RADIX_MAX  16
#define HAMMER2_RADIX_KEY  64 /* bits in a key */

#define HAMMER2_PBUFRADIX  16 /* physical buffer, and file logical block */
#define HAMMER2_PBUFSIZE   65536
#define HAMMER2_LBUFRADIX  14
#define HAMMER2_LBUFSIZE   16384
#define HAMMER2_PBUFMASK   (HAMMER2_PBUFSIZE - 1)
#define HAMMER2_LBUFMASK   (HAMMER2_LBUFSIZE - 1)

#define HAMMER2_PBUFSIZE64 ((hammer2_off_t)HAMMER2_PBUFSIZE)
#define HAMMER2_PBUFMASK64 ((hammer2_off_t)HAMMER2_PBUFMASK)
#define HAMMER2_LBUFMASK64 ((hammer2_off_t)HAMMER2_LBUFMASK)

/* Indirect blocks: 4 KiB nominal minimum, 64 KiB maximum (512 brefs). */
#define HAMMER2_IND_BYTES_MIN 4096
#define HAMMER2_IND_BYTES_NOM HAMMER2_LBUFSIZE
#define HAMMER2_IND_BYTES_MAX HAMMER2_PBUFSIZE
#define HAMMER2_IND_RADIX_MIN 12
#define HAMMER2_IND_RADIX_NOM HAMMER2_LBUFRADIX
#define HAMMER2_IND_RADIX_MAX HAMMER2_PBUFRADIX
#define HAMMER2_IND_COUNT_MIN (HAMMER2_IND_BYTES_MIN / HAMMER2_BLOCKREF_BYTES)
#define HAMMER2_IND_COUNT_NOM (HAMMER2_IND_BYTES_NOM / HAMMER2_BLOCKREF_BYTES)
#define HAMMER2_IND_COUNT_MAX (HAMMER2_IND_BYTES_MAX / HAMMER2_BLOCKREF_BYTES)

/* An inode embeds 512 bytes: direct data or a set of 4 blockrefs. */
#define HAMMER2_SET_RADIX      2
#define HAMMER2_SET_COUNT      (1 << HAMMER2_SET_RADIX)
#define HAMMER2_EMBEDDED_BYTES 512
#define HAMMER2_EMBEDDED_RADIX 9

/*
 * Zones and the reserved segment. Each 2 GiB zone may start with a volume
 * header (only the first four do); each 1 GiB starts with a 4 MiB reserved
 * segment of 64 x 64 KiB slots: slot 0 is the volume header (or unused),
 * slots 1..40 are eight sets of five freemap levels, the rest unused.
 */
#define HAMMER2_VOLUME_ALIGN	   (8 * 1024 * 1024)
#define HAMMER2_VOLUME_ALIGN64	   ((hammer2_off_t)HAMMER2_VOLUME_ALIGN)
#define HAMMER2_VOLUME_ALIGNMASK   (HAMMER2_VOLUME_ALIGN - 1)
#define HAMMER2_VOLUME_ALIGNMASK64 ((hammer2_off_t)HAMMER2_VOLUME_ALIGNMASK)
#define HAMMER2_NEWFS_ALIGN	   HAMMER2_VOLUME_ALIGN
#define HAMMER2_NEWFS_ALIGN64	   HAMMER2_VOLUME_ALIGN64
#define HAMMER2_NEWFS_ALIGNMASK64  HAMMER2_VOLUME_ALIGNMASK64

#define HAMMER2_ZONE_BYTES64	   (2ULL * 1024 * 1024 * 1024)
#define HAMMER2_ZONE_MASK64	   (HAMMER2_ZONE_BYTES64 - 1)
#define HAMMER2_ZONE_SEG	   (4 * 1024 * 1024)
#define HAMMER2_ZONE_SEG64	   ((hammer2_off_t)HAMMER2_ZONE_SEG)
#define HAMMER2_ZONE_BLOCKS_SEG	   (HAMMER2_ZONE_SEG / HAMMER2_PBUFSIZE)

#define HAMMER2_ZONE_FREEMAP_INC   5 /* levels per freemap set */
#define HAMMER2_ZONE_VOLHDR	   0
#define HAMMER2_ZONE_FREEMAP_00	   1
#define HAMMER2_ZONE_FREEMAP_01	   6
#define HAMMER2_ZONE_FREEMAP_02	   11
#define HAMMER2_ZONE_FREEMAP_03	   16
#define HAMMER2_ZONE_FREEMAP_04	   21
#define HAMMER2_ZONE_FREEMAP_05	   26
#define HAMMER2_ZONE_FREEMAP_06	   31
#define HAMMER2_ZONE_FREEMAP_07	   36
#define HAMMER2_ZONE_FREEMAP_END   41 /* exclusive */
#define HAMMER2_ZONE_END	   64 /* exclusive */
#define HAMMER2_NFREEMAPS	   8

/* Freemap level within a set (added to HAMMER2_ZONE_FREEMAP_0n). */
#define HAMMER2_ZONEFM_LEVEL1 0 /* 1 GiB leaf */
#define HAMMER2_ZONEFM_LEVEL2 1 /* 256 GiB node */
#define HAMMER2_ZONEFM_LEVEL3 2 /* 64 TiB node */
#define HAMMER2_ZONEFM_LEVEL4 3 /* 16 PiB node */
#define HAMMER2_ZONEFM_LEVEL5 4 /* 4 EiB node */

/*
 * Freemap radix per level: a leaf entry covers 4 MiB (level 0), a leaf
 * block 1 GiB, each node level 256 times more; the volume header's four
 * freemap blockrefs cover the rest of the 64-bit space. Freemap nodes and
 * leaves are 32 KiB each.
 */
#define HAMMER2_FREEMAP_LEVEL6_RADIX 64
#define HAMMER2_FREEMAP_LEVEL5_RADIX 62
#define HAMMER2_FREEMAP_LEVEL4_RADIX 54
#define HAMMER2_FREEMAP_LEVEL3_RADIX 46
#define HAMMER2_FREEMAP_LEVEL2_RADIX 38
#define HAMMER2_FREEMAP_LEVEL1_RADIX 30
#define HAMMER2_FREEMAP_LEVEL0_RADIX 22

#define HAMMER2_FREEMAP_LEVELN_PSIZE 32768

#define HAMMER2_FREEMAP_LEVEL5_SIZE \
	((hammer2_off_t)1 << HAMMER2_FREEMAP_LEVEL5_RADIX)
#define HAMMER2_FREEMAP_LEVEL4_SIZE \
	((hammer2_off_t)1 << HAMMER2_FREEMAP_LEVEL4_RADIX)
#define HAMMER2_FREEMAP_LEVEL3_SIZE \
	((hammer2_off_t)1 << HAMMER2_FREEMAP_LEVEL3_RADIX)
#define HAMMER2_FREEMAP_LEVEL2_SIZE \
	((hammer2_off_t)1 << HAMMER2_FREEMAP_LEVEL2_RADIX)
#define HAMMER2_FREEMAP_LEVEL1_SIZE \
	((hammer2_off_t)1 << HAMMER2_FREEMAP_LEVEL1_RADIX)
#define HAMMER2_FREEMAP_LEVEL0_SIZE \
	((hammer2_off_t)1 << HAMMER2_FREEMAP_LEVEL0_RADIX)
#define HAMMER2_FREEMAP_LEVEL1_MASK (HAMMER2_FREEMAP_LEVEL1_SIZE - 1)
#define HAMMER2_FREEMAP_LEVEL0_MASK (HAMMER2_FREEMAP_LEVEL0_SIZE - 1)

#define HAMMER2_SEGRADIX	    HAMMER2_FREEMAP_LEVEL0_RADIX
#define HAMMER2_SEGSIZE		    (1 << HAMMER2_SEGRADIX)
#define HAMMER2_SEGMASK		    (HAMMER2_SEGSIZE - 1)
#define HAMMER2_SEGSIZE64	    ((hammer2_off_t)HAMMER2_SEGSIZE)
#define HAMMER2_SEGMASK64	    ((hammer2_off_t)HAMMER2_SEGMASK)

#define HAMMER2_FREEMAP_COUNT \
	(HAMMER2_FREEMAP_LEVELN_PSIZE / HAMMER2_BMAP_BYTES)

/* Base of the reserved segment that holds the freemap for key. */
#define H2FMZONEBASE(key) ((key) & ~HAMMER2_FREEMAP_LEVEL1_MASK)

/* Bitmap granularity: 2 bits per 16 KiB block, 8 x 64-bit words per 4 MiB. */
#define HAMMER2_FREEMAP_BLOCK_RADIX	14
#define HAMMER2_FREEMAP_BLOCK_SIZE	(1 << HAMMER2_FREEMAP_BLOCK_RADIX)
#define HAMMER2_FREEMAP_BLOCK_MASK	(HAMMER2_FREEMAP_BLOCK_SIZE - 1)

#define HAMMER2_BMAP_ALLONES		((hammer2_bitmap_t)-1)
#define HAMMER2_BMAP_ELEMENTS		8
#define HAMMER2_BMAP_BITS_PER_ELEMENT	64
#define HAMMER2_BMAP_INDEX_RADIX	5
#define HAMMER2_BMAP_BLOCKS_PER_ELEMENT (1 << HAMMER2_BMAP_INDEX_RADIX)
#define HAMMER2_BMAP_INDEX_SIZE \
	(HAMMER2_FREEMAP_BLOCK_SIZE * HAMMER2_BMAP_BLOCKS_PER_ELEMENT)
#define HAMMER2_BMAP_INDEX_MASK (HAMMER2_BMAP_INDEX_SIZE - 1)
#define HAMMER2_BMAP_SIZE	(HAMMER2_BMAP_INDEX_SIZE * HAMMER2_BMAP_ELEMENTS)
#define HAMMER2_BMAP_MASK	(HAMMER2_BMAP_SIZE - 1)

/* Bitmap states, 2 bits per 16 KiB block. */
#define HAMMER2_BMAP_FREE      0x0
#define HAMMER2_BMAP_RESERVED  0x1
#define HAMMER2_BMAP_MAYBEFREE 0x2
#define HAMMER2_BMAP_ALLOCATED 0x3

/* Optional boot and aux areas after the first reserved segment. */
#define HAMMER2_BOOT_MIN_BYTES HAMMER2_VOLUME_ALIGN
#define HAMMER2_BOOT_NOM_BYTES (64 * 1024 * 1024)
#define HAMMER2_BOOT_MAX_BYTES (256 * 1024 * 1024)
#define HAMMER2_AUX_MIN_BYTES  HAMMER2_VOLUME_ALIGN
#define HAMMER2_AUX_NOM_BYTES  (256 * 1024 * 1024)
#define HAMMER2_AUX_MAX_BYTES  (1024 * 1024 * 1024)

/* Ranges. */
#define HAMMER2_TID_MIN 1ULL
#define HAMMER2_TID_MAX 0xFFFFFFFFFFFFFFFFULL
#define HAMMER2_KEY_MIN 0ULL
#define HAMMER2_KEY_MAX 0xFFFFFFFFFFFFFFFFULL

/*
 * blockref.data_off: bits 63..6 are the media offset (64-byte aligned),
 * bits 5..0 the radix of the physical size. Radix 0 means "no data", not
 * one byte.
 */
#define HAMMER2_OFF_MASK       0xFFFFFFFFFFFFFFC0ULL
#define HAMMER2_OFF_MASK_LO    (HAMMER2_OFF_MASK & HAMMER2_PBUFMASK64)
#define HAMMER2_OFF_MASK_HI    (~HAMMER2_PBUFMASK64)
#define HAMMER2_OFF_MASK_RADIX 0x000000000000003FULL

/*
 * Directory keys. A name's key has bit 63 set, a 32-bit sum of CRCs of its
 * '.', '-', '_', '~' separated parts in bits 62..32, 16 bits of the whole
 * name's CRC in bits 31..16, bit 15 set, and bits 14..0 free to resolve
 * collisions. Keys below bit 63 (inode numbers) are never names.
 */
#define HAMMER2_DIRHASH_VISIBLE 0x8000000000000000ULL
#define HAMMER2_DIRHASH_USERMSK 0x7FFFFFFFFFFFFFFFULL
#define HAMMER2_DIRHASH_LOMASK	0x0000000000007FFFULL

#define HAMMER2_SROOT_KEY	0x0000000000000000ULL
#define HAMMER2_BOOT_KEY	0xd9b36ce135528000ULL

/* Seed of the XXHASH64 check. */
#define HAMMER2_XXH_SEED 0x4d617474446c6c6eULL

/* --- Directory entry head, embedded in a DIRENT blockref (16 bytes) --- */
struct hammer2_dirent_head {
	hammer2_tid_t inum;  /* 00 inode number */
	uint16_t namlen;     /* 08 name length */
	uint8_t type;	     /* 0A HAMMER2_OBJTYPE_* */
	uint8_t unused0B;    /* 0B */
	uint8_t unused0C[4]; /* 0C */
};

/* --- The blockref (128 bytes) --- */
struct hammer2_blockref {
	uint8_t type;		  /* 00 HAMMER2_BREF_TYPE_* */
	uint8_t methods;	  /* 01 check (high nibble), comp (low) */
	uint8_t copyid;		  /* 02 which copy */
	uint8_t keybits;	  /* 03 key range is key .. key+2^keybits-1 */
	uint8_t vradix;		  /* 04 virtual size (unused) */
	uint8_t flags;		  /* 05 HAMMER2_BREF_FLAG_* */
	uint16_t leaf_count;	  /* 06 leaves below (capped) */
	hammer2_key_t key;	  /* 08 */
	hammer2_tid_t mirror_tid; /* 10 flush topology */
	hammer2_tid_t modify_tid; /* 18 */
	hammer2_off_t data_off;	  /* 20 media offset | radix */
	hammer2_tid_t update_tid; /* 28 */
	union {			  /* 30 */
		char buf[16];
		struct hammer2_dirent_head dirent;
		struct {
			hammer2_key_t data_count;
			hammer2_key_t inode_count;
		} stats;
	} embed;
	union { /* 40 check code, or a DIRENT's name of up to 64 bytes */
		char buf[64];
		struct {
			uint32_t value;
			uint32_t reserved[15];
		} iscsi32;
		struct {
			uint64_t value;
			uint64_t reserved[7];
		} xxhash64;
		struct {
			char data[24];
			char reserved[40];
		} sha192;
		struct {
			char data[32];
			char reserved[32];
		} sha256;
		struct {
			char data[64];
		} sha512;
		struct {
			uint32_t icrc32;
			uint32_t bigmask; /* radixes possibly available */
			uint64_t avail;	  /* bytes available */
			char reserved[48];
		} freemap;
	} check;
};

#define HAMMER2_BLOCKREF_BYTES	  128
#define HAMMER2_BLOCKREF_RADIX	  7
#define HAMMER2_BLOCKREF_LEAF_MAX 65535

/* Blockref types; 254 and 255 are in-memory pseudo types, never on media. */
#define HAMMER2_BREF_TYPE_EMPTY	       0
#define HAMMER2_BREF_TYPE_INODE	       1
#define HAMMER2_BREF_TYPE_INDIRECT     2
#define HAMMER2_BREF_TYPE_DATA	       3
#define HAMMER2_BREF_TYPE_DIRENT       4
#define HAMMER2_BREF_TYPE_FREEMAP_NODE 5
#define HAMMER2_BREF_TYPE_FREEMAP_LEAF 6
#define HAMMER2_BREF_TYPE_INVALID      7
#define HAMMER2_BREF_TYPE_FREEMAP      254
#define HAMMER2_BREF_TYPE_VOLUME       255

#define HAMMER2_BREF_FLAG_PFSROOT      0x01
#define HAMMER2_BREF_FLAG_UNUSED       0x02
#define HAMMER2_BREF_FLAG_EMERG_MIP    0x04

/* Check methods (high nibble of methods). */
#define HAMMER2_CHECK_NONE     0
#define HAMMER2_CHECK_DISABLED 1
#define HAMMER2_CHECK_ISCSI32  2 /* CRC-32C */
#define HAMMER2_CHECK_XXHASH64 3
#define HAMMER2_CHECK_SHA192   4 /* SHA-256, word 2 ^= word 3, 24 bytes */
#define HAMMER2_CHECK_FREEMAP  5 /* CRC-32C in check.freemap.icrc32 */
#define HAMMER2_CHECK_DEFAULT  HAMMER2_CHECK_XXHASH64

/* Compression methods (low nibble of methods). */
#define HAMMER2_COMP_NONE     0
#define HAMMER2_COMP_AUTOZERO 1
#define HAMMER2_COMP_LZ4      2 /* int32 length, then an LZ4 block */
#define HAMMER2_COMP_ZLIB     3 /* a zlib stream */
#define HAMMER2_COMP_DEFAULT  HAMMER2_COMP_LZ4

#define HAMMER2_ENC_CHECK(n)  (((n)&15) << 4)
#define HAMMER2_DEC_CHECK(n)  (((n) >> 4) & 15)
#define HAMMER2_ENC_COMP(n)   ((n)&15)
#define HAMMER2_DEC_COMP(n)   ((n)&15)

/* inode comp_algo / check_algo: algorithm low nibble, level high nibble. */
#define HAMMER2_ENC_ALGO(n)  (n)
#define HAMMER2_DEC_ALGO(n)  ((n)&15)
#define HAMMER2_ENC_LEVEL(n) ((n) << 4)
#define HAMMER2_DEC_LEVEL(n) (((n) >> 4) & 15)

/* --- A set of four blockrefs (512 bytes) --- */
struct hammer2_blockset {
	struct hammer2_blockref blockref[HAMMER2_SET_COUNT];
};

/* --- Freemap leaf entry: one 4 MiB segment (128 bytes) --- */
struct hammer2_bmap_data {
	int32_t linear;		/* 00 sub-16KiB linear allocation offset */
	uint16_t class;		/* 04 (type << 8) | radix */
	uint8_t reserved06;	/* 06 */
	uint8_t reserved07;	/* 07 */
	uint32_t reserved08;	/* 08 */
	uint32_t reserved0C;	/* 0C */
	uint32_t reserved10;	/* 10 */
	uint32_t reserved14;	/* 14 */
	uint32_t reserved18;	/* 18 */
	uint32_t avail;		/* 1C bytes available */
	uint32_t reserved20[8]; /* 20 */
	hammer2_bitmap_t bitmapq[HAMMER2_BMAP_ELEMENTS]; /* 40 2 bits/16KiB */
};

#define HAMMER2_BMAP_BYTES 128

/* --- Inode (1024 bytes): 256 bytes of meta, 256 of name, 512 embedded --- */
#define HAMMER2_INODE_BYTES	  1024
#define HAMMER2_INODE_RADIX	  10
#define HAMMER2_INODE_MAXNAME	  256
#define HAMMER2_INODE_VERSION_ONE 1
#define HAMMER2_INODE_START	  1024 /* first dynamically allocated inum */

struct hammer2_inode_meta {
	uint16_t version;	      /* 00 HAMMER2_INODE_VERSION_ONE */
	uint8_t reserved02;	      /* 02 */
	uint8_t pfs_subtype;	      /* 03 HAMMER2_PFSSUBTYPE_* */
	uint32_t uflags;	      /* 04 chflags */
	uint32_t rmajor;	      /* 08 device nodes */
	uint32_t rminor;	      /* 0C */
	uint64_t ctime;		      /* 10 microseconds since the epoch */
	uint64_t mtime;		      /* 18 */
	uint64_t atime;		      /* 20 (not maintained) */
	uint64_t btime;		      /* 28 birth */
	struct hammer2_uuid uid;      /* 30 */
	struct hammer2_uuid gid;      /* 40 */
	uint8_t type;		      /* 50 HAMMER2_OBJTYPE_* */
	uint8_t op_flags;	      /* 51 HAMMER2_OPFLAG_* */
	uint16_t cap_flags;	      /* 52 */
	uint32_t mode;		      /* 54 unix mode bits */
	hammer2_tid_t inum;	      /* 58 */
	hammer2_off_t size;	      /* 60 file size in bytes */
	uint64_t nlinks;	      /* 68 */
	hammer2_tid_t iparent;	      /* 70 parent directory's inum */
	hammer2_key_t name_key;	      /* 78 dirhash of filename */
	uint16_t name_len;	      /* 80 */
	uint8_t ncopies;	      /* 82 */
	uint8_t comp_algo;	      /* 83 requested compression and level */
	uint8_t unused84;	      /* 84 */
	uint8_t check_algo;	      /* 85 requested check method */
	uint8_t pfs_nmasters;	      /* 86 PFS root only */
	uint8_t pfs_type;	      /* 87 PFS root only: HAMMER2_PFSTYPE_* */
	hammer2_tid_t pfs_inum;	      /* 88 PFS root only: inum allocator */
	struct hammer2_uuid pfs_clid; /* 90 PFS root only: cluster id */
	struct hammer2_uuid pfs_fsid; /* A0 PFS root only: this PFS's id */
	hammer2_key_t data_quota;     /* B0 */
	hammer2_key_t unusedB8;	      /* B8 */
	hammer2_key_t inode_quota;    /* C0 */
	hammer2_key_t unusedC8;	      /* C8 */
	hammer2_tid_t pfs_lsnap_tid;  /* D0 last snapshot tid */
	hammer2_tid_t reservedD8;     /* D8 */
	uint64_t decrypt_check;	      /* E0 */
	hammer2_off_t reservedE8[3];  /* E8 */
};

struct hammer2_inode_data {
	struct hammer2_inode_meta meta;		       /* 000 */
	unsigned char filename[HAMMER2_INODE_MAXNAME]; /* 100 not terminated */
	union {					       /* 200 */
		struct hammer2_blockset blockset;
		char data[HAMMER2_EMBEDDED_BYTES];
	} u;
};

#define HAMMER2_OPFLAG_DIRECTDATA 0x01
#define HAMMER2_OPFLAG_PFSROOT	  0x02
#define HAMMER2_OPFLAG_COPYIDS	  0x04

#define HAMMER2_OBJTYPE_UNKNOWN	  0
#define HAMMER2_OBJTYPE_DIRECTORY 1
#define HAMMER2_OBJTYPE_REGFILE	  2
#define HAMMER2_OBJTYPE_FIFO	  4
#define HAMMER2_OBJTYPE_CDEV	  5
#define HAMMER2_OBJTYPE_BDEV	  6
#define HAMMER2_OBJTYPE_SOFTLINK  7
#define HAMMER2_OBJTYPE_UNUSED08  8
#define HAMMER2_OBJTYPE_SOCKET	  9
#define HAMMER2_OBJTYPE_WHITEOUT  10

#define HAMMER2_COPYID_NONE	  0
#define HAMMER2_COPYID_LOCAL	  ((uint8_t)-1)
#define HAMMER2_COPYID_COUNT	  256

/* PFS types: current type in the low nibble, transition in the high. */
#define HAMMER2_PFSTYPE_NONE	      0x00
#define HAMMER2_PFSTYPE_CACHE	      0x01
#define HAMMER2_PFSTYPE_UNUSED02      0x02
#define HAMMER2_PFSTYPE_SLAVE	      0x03
#define HAMMER2_PFSTYPE_SOFT_SLAVE    0x04
#define HAMMER2_PFSTYPE_SOFT_MASTER   0x05
#define HAMMER2_PFSTYPE_MASTER	      0x06
#define HAMMER2_PFSTYPE_UNUSED07      0x07
#define HAMMER2_PFSTYPE_SUPROOT	      0x08
#define HAMMER2_PFSTYPE_DUMMY	      0x09
#define HAMMER2_PFSTYPE_MAX	      16

#define HAMMER2_PFS_DEC(n)	      ((n)&0x0F)
#define HAMMER2_PFS_DEC_TRANSITION(n) (((n) >> 4) & 0x0F)
#define HAMMER2_PFS_ENC_TRANSITION(n) (((n)&0x0F) << 4)

#define HAMMER2_PFSSUBTYPE_NONE	      0
#define HAMMER2_PFSSUBTYPE_SNAPSHOT   1
#define HAMMER2_PFSSUBTYPE_AUTOSNAP   2

/* --- Cluster copy configuration slot in the volume header (128 bytes) --- */
struct hammer2_volconf {
	uint8_t copyid;		      /* 00 */
	uint8_t inprog;		      /* 01 */
	uint8_t chain_to;	      /* 02 */
	uint8_t chain_from;	      /* 03 */
	uint16_t flags;		      /* 04 */
	uint8_t error;		      /* 06 */
	uint8_t priority;	      /* 07 */
	uint8_t remote_pfs_type;      /* 08 */
	uint8_t reserved08[23];	      /* 09 */
	struct hammer2_uuid pfs_clid; /* 20 */
	uint8_t label[16];	      /* 30 */
	uint8_t path[64];	      /* 40 */
};

/* --- The volume header (64 KiB) --- */
#define HAMMER2_VOLUME_ID_HBO 0x48414d3205172011ULL
#define HAMMER2_VOLUME_ID_ABO 0x11201705324d4148ULL

#define HAMMER2_MAX_VOLUMES   64
#define HAMMER2_ROOT_VOLUME   0

struct hammer2_volume_data {
	/* sector 0 */
	uint64_t magic;		       /* 0000 HAMMER2_VOLUME_ID_HBO */
	hammer2_off_t boot_beg;	       /* 0008 */
	hammer2_off_t boot_end;	       /* 0010 */
	hammer2_off_t aux_beg;	       /* 0018 */
	hammer2_off_t aux_end;	       /* 0020 */
	hammer2_off_t volu_size;       /* 0028 this volume, bytes */
	uint32_t version;	       /* 0030 */
	uint32_t flags;		       /* 0034 */
	uint8_t copyid;		       /* 0038 */
	uint8_t freemap_version;       /* 0039 */
	uint8_t peer_type;	       /* 003A */
	uint8_t volu_id;	       /* 003B */
	uint8_t nvolumes;	       /* 003C */
	uint8_t reserved003D;	       /* 003D */
	uint16_t reserved003E;	       /* 003E */
	struct hammer2_uuid fsid;      /* 0040 */
	struct hammer2_uuid fstype;    /* 0050 HAMMER2_UUID_STRING */
	hammer2_off_t allocator_size;  /* 0060 */
	hammer2_off_t allocator_free;  /* 0068 */
	hammer2_off_t allocator_beg;   /* 0070 */
	hammer2_tid_t mirror_tid;      /* 0078 highest committed tid */
	hammer2_tid_t reserved0080;    /* 0080 */
	hammer2_tid_t reserved0088;    /* 0088 */
	hammer2_tid_t freemap_tid;     /* 0090 */
	hammer2_tid_t bulkfree_tid;    /* 0098 */
	hammer2_tid_t reserved00A0[4]; /* 00A0 */
	hammer2_off_t total_size;      /* 00C0 all volumes, bytes */
	uint32_t copyexists[8];	       /* 00C8 */
	char reserved00E8[248];	       /* 00E8 */
	hammer2_crc32_t icrc_sects[8]; /* 01E0 see HAMMER2_VOL_ICRC_* */
	/* sector 1 */
	struct hammer2_blockset sroot_blockset; /* 0200 super-root */
	/* sectors 2..6 */
	char sector2[512];			  /* 0400 */
	char sector3[512];			  /* 0600 */
	struct hammer2_blockset freemap_blockset; /* 0800 */
	char sector5[512];			  /* 0A00 */
	char sector6[512];			  /* 0C00 */
	/* sector 7 */
	hammer2_off_t volu_loff[HAMMER2_MAX_VOLUMES]; /* 0E00 */
	/* sectors 8..71 */
	struct hammer2_volconf copyinfo[HAMMER2_COPYID_COUNT]; /* 1000 */
	char reserved9000[0x6FFC];			       /* 9000 */
	hammer2_crc32_t icrc_volheader;			       /* FFFC */
};

/*
 * Volume header CRCs (CRC-32C): icrc_sects[7] covers bytes 0..507 of
 * sector 0 (which includes icrc_sects[0..6]); icrc_sects[6] covers sector 1
 * (the super-root blockset); icrc_volheader covers bytes 0..65531. A writer
 * computes sect1 first, then sect0, then the whole header.
 */
#define HAMMER2_VOL_ICRC_SECT0		  7
#define HAMMER2_VOL_ICRC_SECT1		  6
#define HAMMER2_VOLUME_BYTES		  65536
#define HAMMER2_VOLUME_ICRC0_OFF	  0
#define HAMMER2_VOLUME_ICRC1_OFF	  512
#define HAMMER2_VOLUME_ICRCVH_OFF	  0
#define HAMMER2_VOLUME_ICRC0_SIZE	  (512 - 4)
#define HAMMER2_VOLUME_ICRC1_SIZE	  512
#define HAMMER2_VOLUME_ICRCVH_SIZE	  (65536 - 4)

#define HAMMER2_VOL_VERSION_MULTI_VOLUMES 2
#define HAMMER2_VOL_VERSION_MIN		  1
#define HAMMER2_VOL_VERSION_DEFAULT	  HAMMER2_VOL_VERSION_MULTI_VOLUMES
#define HAMMER2_VOL_VERSION_WIP		  (HAMMER2_VOL_VERSION_MULTI_VOLUMES + 1)

#define HAMMER2_NUM_VOLHDRS		  4

/*
 * Damselfly extensions. Not DragonFly's: a volume that uses one of these is
 * readable only by Damselfly. They take values DragonFly leaves unused, at
 * the top of each range, away from where upstream would grow.
 *
 *  HAMMER2_COMP_DF_ZSTD: a block holding one zstd frame (with its content
 *  size), zero-padded to the physical size; chosen per PFS or per inode
 *  through comp_algo (level in the high nibble, 0 meaning the default).
 */
#define HAMMER2_COMP_DF_ZSTD 15

/* ------------------------------------------------------------------------
 * The contract, checked at compile time.
 */
#define H2_ASSERT_SIZE(t, n) _Static_assert(sizeof(t) == (n), #t " size")
#define H2_ASSERT_OFF(t, f, n) \
	_Static_assert(offsetof(t, f) == (n), #t "." #f " offset")

H2_ASSERT_SIZE(struct hammer2_uuid, 16);
H2_ASSERT_SIZE(struct hammer2_dirent_head, 16);
H2_ASSERT_OFF(struct hammer2_dirent_head, namlen, 0x08);
H2_ASSERT_OFF(struct hammer2_dirent_head, type, 0x0A);

H2_ASSERT_SIZE(struct hammer2_blockref, HAMMER2_BLOCKREF_BYTES);
H2_ASSERT_OFF(struct hammer2_blockref, methods, 0x01);
H2_ASSERT_OFF(struct hammer2_blockref, keybits, 0x03);
H2_ASSERT_OFF(struct hammer2_blockref, flags, 0x05);
H2_ASSERT_OFF(struct hammer2_blockref, leaf_count, 0x06);
H2_ASSERT_OFF(struct hammer2_blockref, key, 0x08);
H2_ASSERT_OFF(struct hammer2_blockref, mirror_tid, 0x10);
H2_ASSERT_OFF(struct hammer2_blockref, modify_tid, 0x18);
H2_ASSERT_OFF(struct hammer2_blockref, data_off, 0x20);
H2_ASSERT_OFF(struct hammer2_blockref, update_tid, 0x28);
H2_ASSERT_OFF(struct hammer2_blockref, embed, 0x30);
H2_ASSERT_OFF(struct hammer2_blockref, embed.dirent.inum, 0x30);
H2_ASSERT_OFF(struct hammer2_blockref, embed.stats.inode_count, 0x38);
H2_ASSERT_OFF(struct hammer2_blockref, check, 0x40);
H2_ASSERT_OFF(struct hammer2_blockref, check.freemap.bigmask, 0x44);
H2_ASSERT_OFF(struct hammer2_blockref, check.freemap.avail, 0x48);
_Static_assert(sizeof(((struct hammer2_blockref *)0)->check) == 64,
    "check union is 64 bytes");
_Static_assert(1 << HAMMER2_BLOCKREF_RADIX == HAMMER2_BLOCKREF_BYTES,
    "blockref radix");

H2_ASSERT_SIZE(struct hammer2_blockset, 512);
H2_ASSERT_SIZE(struct hammer2_bmap_data, HAMMER2_BMAP_BYTES);
H2_ASSERT_OFF(struct hammer2_bmap_data, class, 0x04);
H2_ASSERT_OFF(struct hammer2_bmap_data, avail, 0x1C);
H2_ASSERT_OFF(struct hammer2_bmap_data, bitmapq, 0x40);
_Static_assert(HAMMER2_FREEMAP_COUNT == 256, "256 bmap entries per leaf");
_Static_assert(HAMMER2_BMAP_SIZE == HAMMER2_FREEMAP_LEVEL0_SIZE,
    "a bmap entry covers one level-0 segment");

H2_ASSERT_SIZE(struct hammer2_inode_meta, 256);
H2_ASSERT_OFF(struct hammer2_inode_meta, uid, 0x30);
H2_ASSERT_OFF(struct hammer2_inode_meta, type, 0x50);
H2_ASSERT_OFF(struct hammer2_inode_meta, mode, 0x54);
H2_ASSERT_OFF(struct hammer2_inode_meta, inum, 0x58);
H2_ASSERT_OFF(struct hammer2_inode_meta, size, 0x60);
H2_ASSERT_OFF(struct hammer2_inode_meta, iparent, 0x70);
H2_ASSERT_OFF(struct hammer2_inode_meta, name_key, 0x78);
H2_ASSERT_OFF(struct hammer2_inode_meta, name_len, 0x80);
H2_ASSERT_OFF(struct hammer2_inode_meta, comp_algo, 0x83);
H2_ASSERT_OFF(struct hammer2_inode_meta, check_algo, 0x85);
H2_ASSERT_OFF(struct hammer2_inode_meta, pfs_type, 0x87);
H2_ASSERT_OFF(struct hammer2_inode_meta, pfs_inum, 0x88);
H2_ASSERT_OFF(struct hammer2_inode_meta, pfs_clid, 0x90);
H2_ASSERT_OFF(struct hammer2_inode_meta, pfs_fsid, 0xA0);
H2_ASSERT_OFF(struct hammer2_inode_meta, data_quota, 0xB0);
H2_ASSERT_OFF(struct hammer2_inode_meta, pfs_lsnap_tid, 0xD0);
H2_ASSERT_OFF(struct hammer2_inode_meta, decrypt_check, 0xE0);
H2_ASSERT_OFF(struct hammer2_inode_meta, reservedE8, 0xE8);

H2_ASSERT_SIZE(struct hammer2_inode_data, HAMMER2_INODE_BYTES);
H2_ASSERT_OFF(struct hammer2_inode_data, filename, 0x100);
H2_ASSERT_OFF(struct hammer2_inode_data, u, 0x200);
_Static_assert(1 << HAMMER2_INODE_RADIX == HAMMER2_INODE_BYTES, "inode radix");

H2_ASSERT_SIZE(struct hammer2_volconf, 128);
H2_ASSERT_OFF(struct hammer2_volconf, pfs_clid, 0x20);
H2_ASSERT_OFF(struct hammer2_volconf, label, 0x30);
H2_ASSERT_OFF(struct hammer2_volconf, path, 0x40);

H2_ASSERT_SIZE(struct hammer2_volume_data, HAMMER2_VOLUME_BYTES);
H2_ASSERT_OFF(struct hammer2_volume_data, volu_size, 0x0028);
H2_ASSERT_OFF(struct hammer2_volume_data, version, 0x0030);
H2_ASSERT_OFF(struct hammer2_volume_data, volu_id, 0x003B);
H2_ASSERT_OFF(struct hammer2_volume_data, nvolumes, 0x003C);
H2_ASSERT_OFF(struct hammer2_volume_data, fsid, 0x0040);
H2_ASSERT_OFF(struct hammer2_volume_data, fstype, 0x0050);
H2_ASSERT_OFF(struct hammer2_volume_data, allocator_size, 0x0060);
H2_ASSERT_OFF(struct hammer2_volume_data, mirror_tid, 0x0078);
H2_ASSERT_OFF(struct hammer2_volume_data, freemap_tid, 0x0090);
H2_ASSERT_OFF(struct hammer2_volume_data, bulkfree_tid, 0x0098);
H2_ASSERT_OFF(struct hammer2_volume_data, total_size, 0x00C0);
H2_ASSERT_OFF(struct hammer2_volume_data, copyexists, 0x00C8);
H2_ASSERT_OFF(struct hammer2_volume_data, icrc_sects, 0x01E0);
H2_ASSERT_OFF(struct hammer2_volume_data, sroot_blockset, 0x0200);
H2_ASSERT_OFF(struct hammer2_volume_data, freemap_blockset, 0x0800);
H2_ASSERT_OFF(struct hammer2_volume_data, volu_loff, 0x0E00);
H2_ASSERT_OFF(struct hammer2_volume_data, copyinfo, 0x1000);
H2_ASSERT_OFF(struct hammer2_volume_data, reserved9000, 0x9000);
H2_ASSERT_OFF(struct hammer2_volume_data, icrc_volheader, 0xFFFC);
_Static_assert(offsetof(struct hammer2_volume_data, icrc_sects) +
	    4 * HAMMER2_VOL_ICRC_SECT0 ==
	HAMMER2_VOLUME_ICRC0_SIZE,
    "sector 0 CRC is the last word of sector 0");

_Static_assert(HAMMER2_IND_COUNT_MAX == 512, "512 brefs per 64 KiB");
_Static_assert((1 << HAMMER2_PBUFRADIX) == HAMMER2_PBUFSIZE, "pbuf radix");
_Static_assert((1 << HAMMER2_RADIX_MIN) == HAMMER2_ALLOC_MIN, "min radix");
_Static_assert(HAMMER2_ZONE_BLOCKS_SEG == HAMMER2_ZONE_END, "64 seg slots");
_Static_assert(HAMMER2_ZONE_FREEMAP_00 +
	    HAMMER2_NFREEMAPS * HAMMER2_ZONE_FREEMAP_INC ==
	HAMMER2_ZONE_FREEMAP_END,
    "freemap sets fill slots 1..40");

#endif /* HAMMER2_HAMMER2_DISK_H */
