/*
 * h2populate.h: copying a host directory tree into a HAMMER2 PFS, as
 * makefs does (shared by newfs_hammer2 and "hammer2 put"; host code).
 *
 * Interface:
 *  - h2pop_init/h2pop_fini pair around a PFS opened on a writable mount.
 *  - h2pop_tree copies the contents of host directory path into dir;
 *    h2pop_put copies one host entry (recursively for a directory) as
 *    name in dir. Both return 0 or a negative errno after printing what
 *    failed with its host path; they do not flush at the end (the caller
 *    does, when everything went well).
 *  - Counters say what was copied.
 */
#ifndef HAMMER2_CMD_H2POPULATE_H
#define HAMMER2_CMD_H2POPULATE_H

#include <sys/types.h>

#include "hammer2/hammer2.h"

struct h2pop_link {
	dev_t l_dev;
	ino_t l_ino;
	hammer2_tid_t l_inum;
};

struct h2pop {
	struct h2_pfs *p_pfs;
	struct h2_mount *p_mp;
	char *p_buf;		    /* copy buffer */
	struct h2pop_link *p_links; /* files with several links */
	size_t p_nlinks, p_capl;
	uint64_t p_files, p_dirs, p_others, p_links_made, p_bytes;
	uint64_t p_errors;
};

int h2pop_init(struct h2pop *p, struct h2_pfs *pfs);
void h2pop_fini(struct h2pop *p);
int h2pop_tree(struct h2pop *p, struct h2_inode *dir, const char *path);
int h2pop_put(struct h2pop *p, struct h2_inode *dir, const char *name,
    const char *path, int depth);

#endif /* HAMMER2_CMD_H2POPULATE_H */
