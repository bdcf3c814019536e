/*
 * h2cmd.h: what the HAMMER2 host programs share: opening an image given
 * as IMAGE[@LABEL], and printing blockrefs.
 *
 * Interface:
 *  - h2cmd_open mounts IMAGE (read-only, or writable with H2CMD_RW); with
 *    H2CMD_PFS it also opens the PFS named by @LABEL, or when no label is
 *    given "DATA" if present, else the only PFS if there is exactly one.
 *    Errors are printed; it returns 0 or a negative errno. h2cmd_close
 *    undoes whatever h2cmd_open did (it does not flush).
 */
#ifndef HAMMER2_CMD_H2CMD_H
#define HAMMER2_CMD_H2CMD_H

#include "hammer2/hammer2.h"

struct h2cmd {
	struct h2_dev *c_dev;
	struct h2_mount *c_mp;
	struct h2_pfs *c_pfs;
	char c_label[HAMMER2_INODE_MAXNAME + 1];
};

#define H2CMD_PFS 0x1
#define H2CMD_RW  0x2

int h2cmd_open(const char *spec, unsigned flags, int zone, struct h2cmd *c);
void h2cmd_close(struct h2cmd *c);
/* One-line description of a blockref. */
void h2cmd_bref_str(const struct hammer2_blockref *bref, char *buf, size_t len);
const char *h2cmd_errstr(int error);

#endif /* HAMMER2_CMD_H2CMD_H */
