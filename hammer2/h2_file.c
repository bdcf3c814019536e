/*
 * h2_file.c: reading file data.
 *
 * A file of up to 512 bytes may keep its bytes in the inode (DIRECTDATA).
 * Otherwise the inode's blockset is the top of a tree of DATA blockrefs
 * keyed by file offset; each covers a logical block of 2^keybits bytes
 * (DragonFly always writes 64 KiB) whose physical block may be smaller:
 * the block holding EOF is cut to a power of two, and a compressed block
 * holds only its compressed bytes. Missing keys are holes and read as
 * zeros, as do the bytes past the end of a short or decompressed block.
 *
 * A read walks the tree once over the requested range: the caller's buffer
 * is zeroed, then each DATA leaf is read, verified, decoded and its overlap
 * copied in; last, file blocks written but not yet stored (h2_write.c's
 * dirty blocks) are laid over it. A leaf that is not DATA, a logical size
 * outside 1..64 KiB, or a physical block larger than its logical block is
 * malformed.
 *
 * Interface: h2_read, h2_readlink in hammer2.h; h2_read_block in
 * h2_internal.h.
 */
#include "hammer2/h2_internal.h"

struct read_walk {
	struct h2_mount *rw_mp;
	uint64_t rw_off; /* file offset of rw_buf[0] */
	size_t rw_len;
	uint8_t *rw_buf;
	uint8_t *rw_phys;  /* HAMMER2_PBUFSIZE: the block as stored */
	uint8_t *rw_logic; /* HAMMER2_PBUFSIZE: the block decoded */
};

/* Decode leaf b into rw_logic (or point at rw_phys); *lenp valid bytes. */
static int
leaf_bytes(struct read_walk *rw, const struct hammer2_blockref *b,
    const uint8_t **datap, size_t *lenp)
{
	size_t lsize = (size_t)1 << b->keybits, plen;
	int comp = HAMMER2_DEC_COMP(b->methods), error;

	*datap = rw->rw_phys;
	*lenp = 0;
	if (comp == HAMMER2_COMP_AUTOZERO)
		return 0;
	if ((error = h2_bref_read(rw->rw_mp, b, rw->rw_phys, &plen)) != 0)
		return error;
	if (comp == HAMMER2_COMP_NONE) {
		if (plen > lsize)
			return h2_malformed(rw->rw_mp, b,
			    "physical block larger than logical");
		*lenp = plen;
		return 0;
	}
	if (plen == 0)
		return h2_malformed(rw->rw_mp, b,
		    "compressed block has no data");
	*datap = rw->rw_logic;
	return h2_decompress(rw->rw_mp, b, rw->rw_phys, plen, rw->rw_logic,
	    lsize, lenp);
}

static int
read_leaf(void *arg, const struct hammer2_blockref *b, struct h2_node *kid)
{
	struct read_walk *rw = arg;
	uint64_t lbeg, last, beg;
	const uint8_t *data;
	size_t dlen;
	int error;

	if (b->type != HAMMER2_BREF_TYPE_DATA)
		return h2_malformed(rw->rw_mp, b, "file block is not DATA");
	if (b->keybits < HAMMER2_RADIX_MIN || b->keybits > HAMMER2_PBUFRADIX)
		return h2_malformed(rw->rw_mp, b, "bad logical block size");
	if ((error = leaf_bytes(rw, b, &data, &dlen)) != 0)
		return error;
	/*
	 * Copy file bytes [beg, last]: the overlap of the stored bytes with
	 * the request. Inclusive ends, so a block at the very top of the key
	 * space cannot wrap.
	 */
	if (dlen == 0)
		return 0;
	lbeg = b->key;
	last = lbeg + (dlen - 1);
	if (last > rw->rw_off + (rw->rw_len - 1))
		last = rw->rw_off + (rw->rw_len - 1);
	beg = lbeg > rw->rw_off ? lbeg : rw->rw_off;
	if (beg <= last)
		memcpy(rw->rw_buf + (beg - rw->rw_off), data + (beg - lbeg),
		    last - beg + 1);
	return 0;
}

/* File bytes [off, off + len) as stored in the tree (no dirty blocks). */
int
h2_read_tree(struct h2_inode *ip, uint64_t off, uint8_t *buf, size_t len)
{
	struct read_walk rw = { ip->i_pfs->p_mp, off, len, buf, NULL, NULL };
	int error = -ENOMEM;

	memset(buf, 0, len);
	if ((rw.rw_phys = h2p_alloc(HAMMER2_PBUFSIZE)) == NULL)
		goto out;
	if ((rw.rw_logic = h2p_alloc(HAMMER2_PBUFSIZE)) == NULL)
		goto out_phys;
	error = h2_node_walk(rw.rw_mp, ip->i_node, off, off + len - 1,
	    read_leaf, &rw);
	h2p_free(rw.rw_logic, HAMMER2_PBUFSIZE);
out_phys:
	h2p_free(rw.rw_phys, HAMMER2_PBUFSIZE);
out:
	return error;
}

static ssize_t
read_tree(struct h2_inode *ip, uint64_t off, uint8_t *buf, size_t len)
{
	int error = h2_read_tree(ip, off, buf, len);

	if (error < 0)
		return error;
	h2_dbuf_overlay(ip, off, buf, len);
	return (ssize_t)len;
}

ssize_t
h2_read(struct h2_inode *ip, uint64_t off, void *buf, size_t len)
{
	const struct hammer2_inode_meta *m = &h2i_data(ip)->meta;

	if (m->type == HAMMER2_OBJTYPE_DIRECTORY)
		return -EISDIR;
	if (m->type != HAMMER2_OBJTYPE_REGFILE &&
	    m->type != HAMMER2_OBJTYPE_SOFTLINK)
		return -EINVAL;
	if (off >= m->size || len == 0)
		return 0;
	if (len > m->size - off)
		len = m->size - off;
	if (len > H2_SSIZE_MAX)
		len = H2_SSIZE_MAX;
	if (m->op_flags & HAMMER2_OPFLAG_DIRECTDATA) {
		memcpy(buf, h2i_data(ip)->u.data + off, len);
		return (ssize_t)len;
	}
	return read_tree(ip, off, buf, len);
}

ssize_t
h2_readlink(struct h2_inode *ip, char *buf, size_t len)
{
	if (h2i_data(ip)->meta.type != HAMMER2_OBJTYPE_SOFTLINK)
		return -EINVAL;
	return h2_read(ip, 0, buf, len);
}
