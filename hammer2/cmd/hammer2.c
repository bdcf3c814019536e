/*
 * hammer2: inspect and change a HAMMER2 image offline, after DragonFly's
 * hammer2(8).
 *
 *   hammer2 [-z ZONE] -s IMAGE[@LABEL] COMMAND [ARGS]
 *
 * Commands that read:
 *   volhdr            every volume header copy, its fields and CRCs
 *   show              the whole blockref tree from the super-root down
 *   freemap           the freemap: per 4 MiB segment, 16 KiB chunks in use
 *   pfs-list          the PFSs under the super-root
 *   ls [PATH]         a directory's entries (or one file's)
 *   stat PATH         an inode's fields
 *   cat PATH          a file's bytes to standard output
 *   get PATH [DEST]   copy a file, symlink or directory tree out to DEST
 * Commands that write (one transaction each, flushed at the end):
 *   put HOST [PATH]   copy a host file, symlink or directory tree in as
 *                     PATH (default: its name in the root; into PATH when
 *                     PATH is a directory; a file PATH is replaced)
 *   rm [-r] PATH      remove a file, symlink or empty directory (-r: any)
 *   mkdir [-p] PATH   make a directory (-p: and missing parents)
 *   setcomp COMP[:LEVEL] PATH   compression for new data of PATH
 *                     (none, autozero, lz4, zlib, zstd; zstd is a
 *                     Damselfly extension DragonFly cannot read)
 *   setcheck CHECK PATH         check code for new data of PATH (none,
 *                     disabled, crc32, xxhash64, sha192)
 *   snapshot [NAME]   snapshot the PFS as NAME (default LABEL.YYYYMMDD.
 *                     HHMMSS, as DragonFly names them)
 *   pfs-create NAME   a new empty PFS (type master)
 *   pfs-delete NAME   remove a PFS (bulkfree gives its space back)
 *   bulkfree          one bulkfree pass (a block is freed by the second
 *                     pass that finds it unused, as in DragonFly)
 * Paths are inside the PFS named by @LABEL (default: DATA, or the only
 * PFS). -z reads one volume header copy (0..3) instead of the best.
 * Exit status: 0 on success, 1 on any error (a failed write command
 * leaves the image as it was).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hammer2/cmd/h2cmd.h"
#include "hammer2/cmd/h2populate.h"
#include "hammer2/hammer2_host.h"

#define SHOW_MAX_DEPTH 64
#define GET_MAX_DEPTH  256

static void
usage(void)
{
	fprintf(stderr,
	    "usage: hammer2 [-z zone] -s image[@label] command [args]\n"
	    "commands: volhdr show freemap pfs-list ls stat cat get put rm "
	    "mkdir\n"
	    "          setcomp setcheck snapshot pfs-create pfs-delete "
	    "bulkfree\n");
	exit(1);
}

/* ---- volhdr ---- */

static void
print_uuid(const char *what, const struct hammer2_uuid *u)
{
	char s[37];

	h2_uuid_format(u, s);
	printf("    %-14s %s\n", what, s);
}

static void
print_volhdr(int zone, const struct hammer2_volume_data *vd)
{
	char buf[256];
	int i;

	printf("volume header %d {\n", zone);
	printf("    magic          0x%016llx\n", (unsigned long long)vd->magic);
	printf("    version        %u\n", vd->version);
	printf("    volu_size      0x%016llx\n",
	    (unsigned long long)vd->volu_size);
	printf("    total_size     0x%016llx\n",
	    (unsigned long long)vd->total_size);
	printf("    boot           0x%016llx-0x%016llx\n",
	    (unsigned long long)vd->boot_beg, (unsigned long long)vd->boot_end);
	printf("    aux            0x%016llx-0x%016llx\n",
	    (unsigned long long)vd->aux_beg, (unsigned long long)vd->aux_end);
	printf("    volu_id        %u of %u\n", vd->volu_id, vd->nvolumes);
	print_uuid("fsid", &vd->fsid);
	print_uuid("fstype", &vd->fstype);
	printf("    allocator      size 0x%016llx free 0x%016llx beg "
	       "0x%016llx\n",
	    (unsigned long long)vd->allocator_size,
	    (unsigned long long)vd->allocator_free,
	    (unsigned long long)vd->allocator_beg);
	printf("    mirror_tid     0x%016llx\n",
	    (unsigned long long)vd->mirror_tid);
	printf("    freemap_tid    0x%016llx\n",
	    (unsigned long long)vd->freemap_tid);
	printf("    bulkfree_tid   0x%016llx\n",
	    (unsigned long long)vd->bulkfree_tid);
	for (i = 0; i < HAMMER2_SET_COUNT; i++) {
		if (vd->sroot_blockset.blockref[i].type == 0)
			continue;
		h2cmd_bref_str(&vd->sroot_blockset.blockref[i], buf,
		    sizeof(buf));
		printf("    sroot[%d]       %s\n", i, buf);
	}
	for (i = 0; i < HAMMER2_SET_COUNT; i++) {
		if (vd->freemap_blockset.blockref[i].type == 0)
			continue;
		h2cmd_bref_str(&vd->freemap_blockset.blockref[i], buf,
		    sizeof(buf));
		printf("    freemap[%d]     %s\n", i, buf);
	}
	printf("}\n");
}

static int
cmd_volhdr(const char *spec)
{
	struct hammer2_volume_data *vd;
	struct h2_dev *dev;
	char image[4096], *at;
	int zone, error, nvalid = 0;

	snprintf(image, sizeof(image), "%s", spec);
	if ((at = strrchr(image, '@')) != NULL && access(image, F_OK) != 0)
		*at = '\0';
	if ((error = h2_host_open(image, 1, &dev)) != 0) {
		fprintf(stderr, "%s: %s\n", image, h2cmd_errstr(error));
		return 1;
	}
	if ((vd = malloc(sizeof(*vd))) == NULL) {
		h2_host_close(dev);
		return 1;
	}
	for (zone = 0; zone < HAMMER2_NUM_VOLHDRS; zone++) {
		error = h2_volhdr_read(dev, zone, vd);
		if (error == -ENOENT)
			continue;
		if (error == -EINVAL) {
			printf("volume header %d: invalid\n", zone);
			continue;
		}
		if (error != 0) {
			printf("volume header %d: %s\n", zone,
			    h2cmd_errstr(error));
			continue;
		}
		nvalid++;
		print_volhdr(zone, vd);
	}
	free(vd);
	h2_host_close(dev);
	return nvalid > 0 ? 0 : 1;
}

/* ---- show ---- */

static int show_bref(struct h2_mount *mp, const struct hammer2_blockref *b,
    int depth);

static int
show_set(struct h2_mount *mp, const struct hammer2_blockref *base, int n,
    int depth)
{
	int i, errors = 0;

	for (i = 0; i < n; i++)
		if (base[i].type != HAMMER2_BREF_TYPE_EMPTY)
			errors += show_bref(mp, &base[i], depth);
	return errors;
}

static int
show_bref(struct h2_mount *mp, const struct hammer2_blockref *b, int depth)
{
	struct hammer2_inode_data *ip;
	char line[256], *name;
	void *buf;
	size_t len;
	int error, errors = 0;

	h2cmd_bref_str(b, line, sizeof(line));
	printf("%*s%s", depth * 2, "", line);
	if (b->type == HAMMER2_BREF_TYPE_DIRENT) {
		printf(" inum=%llu type=%s",
		    (unsigned long long)b->embed.dirent.inum,
		    h2_objtype_name(b->embed.dirent.type));
		if (b->embed.dirent.namlen <= sizeof(b->check.buf))
			printf(" \"%.*s\"", (int)b->embed.dirent.namlen,
			    b->check.buf);
	}
	if (depth >= SHOW_MAX_DEPTH) {
		printf(" (too deep)\n");
		return 1;
	}
	if ((buf = malloc(HAMMER2_PBUFSIZE)) == NULL)
		return 1;
	error = h2_bref_read(mp, b, buf, &len);
	if (error) {
		printf(" (error: %s)\n", h2cmd_errstr(error));
		free(buf);
		return 1;
	}
	switch (b->type) {
	case HAMMER2_BREF_TYPE_INODE:
		ip = buf;
		name = strndup((const char *)ip->filename,
		    ip->meta.name_len > 256 ? 256 : ip->meta.name_len);
		printf(" inum=%llu type=%s size=%llu \"%s\"",
		    (unsigned long long)ip->meta.inum,
		    h2_objtype_name(ip->meta.type),
		    (unsigned long long)ip->meta.size, name ? name : "");
		free(name);
		if (ip->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) {
			printf(" (direct data)\n");
			break;
		}
		printf(" {\n");
		errors += show_set(mp, ip->u.blockset.blockref,
		    HAMMER2_SET_COUNT, depth + 1);
		printf("%*s}\n", depth * 2, "");
		break;
	case HAMMER2_BREF_TYPE_INDIRECT:
		printf(" {\n");
		errors += show_set(mp, buf, (int)(len / HAMMER2_BLOCKREF_BYTES),
		    depth + 1);
		printf("%*s}\n", depth * 2, "");
		break;
	case HAMMER2_BREF_TYPE_DIRENT:
		if (len > 0)
			printf(" \"%.*s\"", (int)b->embed.dirent.namlen,
			    (char *)buf);
		printf("\n");
		break;
	default:
		printf("\n");
		break;
	}
	free(buf);
	return errors;
}

static int
cmd_show(struct h2cmd *c)
{
	const struct hammer2_volume_data *vd = h2_mount_volhdr(c->c_mp);
	int errors;

	printf("volume header %d mirror_tid 0x%016llx\n",
	    h2_mount_zone(c->c_mp), (unsigned long long)vd->mirror_tid);
	errors = show_set(c->c_mp, vd->sroot_blockset.blockref,
	    HAMMER2_SET_COUNT, 1);
	if (errors)
		fprintf(stderr, "hammer2 show: %d errors\n", errors);
	return errors ? 1 : 0;
}

/* ---- freemap ---- */

struct fm_count {
	uint64_t fc_chunks[4]; /* 16 KiB chunks by 2-bit state */
	int fc_errors;
};

static void
fm_leaf(const struct hammer2_blockref *b, const struct hammer2_bmap_data *bm,
    struct fm_count *fc)
{
	uint64_t n[4];
	int i, j, k;

	for (i = 0; i < HAMMER2_FREEMAP_COUNT; i++) {
		memset(n, 0, sizeof(n));
		for (j = 0; j < HAMMER2_BMAP_ELEMENTS; j++)
			for (k = 0; k < 32; k++)
				n[(bm[i].bitmapq[j] >> (2 * k)) & 3]++;
		for (k = 0; k < 4; k++)
			fc->fc_chunks[k] += n[k];
		if (n[0] == 256)
			continue;
		printf("    segment 0x%016llx class %04x avail %8u linear "
		       "%7d: %3llu allocated, %3llu possibly free\n",
		    (unsigned long long)(b->key +
			((uint64_t)i << HAMMER2_FREEMAP_LEVEL0_RADIX)),
		    bm[i].class, bm[i].avail, bm[i].linear,
		    (unsigned long long)n[3], (unsigned long long)n[2]);
	}
}

static void
fm_walk(struct h2_mount *mp, const struct hammer2_blockref *base, int n,
    int depth, struct fm_count *fc)
{
	char line[256];
	void *buf;
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		if (base[i].type == HAMMER2_BREF_TYPE_EMPTY)
			continue;
		h2cmd_bref_str(&base[i], line, sizeof(line));
		printf("%*s%s\n", depth * 2, "", line);
		if ((buf = malloc(HAMMER2_PBUFSIZE)) == NULL)
			return;
		if (depth > 6 || h2_bref_read(mp, &base[i], buf, &len) != 0 ||
		    len != HAMMER2_FREEMAP_LEVELN_PSIZE) {
			printf("%*s(unreadable)\n", depth * 2 + 2, "");
			fc->fc_errors++;
		} else if (base[i].type == HAMMER2_BREF_TYPE_FREEMAP_LEAF) {
			fm_leaf(&base[i], buf, fc);
		} else if (base[i].type == HAMMER2_BREF_TYPE_FREEMAP_NODE) {
			fm_walk(mp, buf, (int)(len / HAMMER2_BLOCKREF_BYTES),
			    depth + 1, fc);
		}
		free(buf);
	}
}

static int
cmd_freemap(struct h2cmd *c)
{
	const struct hammer2_volume_data *vd = h2_mount_volhdr(c->c_mp);
	struct fm_count fc;

	memset(&fc, 0, sizeof(fc));
	printf("freemap (volume header %d, freemap_tid 0x%016llx, "
	       "allocator_beg 0x%016llx)\n",
	    h2_mount_zone(c->c_mp), (unsigned long long)vd->freemap_tid,
	    (unsigned long long)vd->allocator_beg);
	fm_walk(c->c_mp, vd->freemap_blockset.blockref, HAMMER2_SET_COUNT, 1,
	    &fc);
	printf("16 KiB chunks: %llu allocated, %llu possibly free, %llu free "
	       "(in the leaves present)\n",
	    (unsigned long long)fc.fc_chunks[3],
	    (unsigned long long)fc.fc_chunks[2],
	    (unsigned long long)fc.fc_chunks[0]);
	return fc.fc_errors ? 1 : 0;
}

/* ---- pfs-list ---- */

static int
pfs_line(void *arg, const struct h2_pfs_info *pi)
{
	const struct hammer2_inode_meta *m = &pi->pi_inode->meta;
	char clid[37];

	h2_uuid_format(&m->pfs_clid, clid);
	printf("%-11s %-8s %s %s\n", h2_pfstype_name(m->pfs_type),
	    m->pfs_subtype == HAMMER2_PFSSUBTYPE_SNAPSHOT     ? "snapshot" :
		m->pfs_subtype == HAMMER2_PFSSUBTYPE_AUTOSNAP ? "autosnap" :
								"-",
	    clid, pi->pi_name);
	return 0;
}

static int
cmd_pfs_list(struct h2cmd *c)
{
	int error;

	printf("%-11s %-8s %-36s %s\n", "Type", "Subtype", "ClusterId",
	    "Label");
	if ((error = h2_pfs_foreach(c->c_mp, pfs_line, NULL)) < 0) {
		fprintf(stderr, "pfs-list: %s\n", h2cmd_errstr(error));
		return 1;
	}
	return 0;
}

/* ---- ls, stat ---- */

static char
type_char(uint8_t type)
{
	switch (type) {
	case HAMMER2_OBJTYPE_DIRECTORY:
		return 'd';
	case HAMMER2_OBJTYPE_SOFTLINK:
		return 'l';
	case HAMMER2_OBJTYPE_FIFO:
		return 'p';
	case HAMMER2_OBJTYPE_CDEV:
		return 'c';
	case HAMMER2_OBJTYPE_BDEV:
		return 'b';
	case HAMMER2_OBJTYPE_SOCKET:
		return 's';
	default:
		return '-';
	}
}

static void
ls_line(struct h2_inode *ip, const char *name)
{
	const struct hammer2_inode_meta *m = &h2_idata(ip)->meta;
	char target[HAMMER2_INODE_MAXNAME * 4 + 1];
	ssize_t n;

	printf("%c%04o %8llu %12llu %s", type_char(m->type), m->mode & 07777,
	    (unsigned long long)m->inum, (unsigned long long)m->size, name);
	if (m->type == HAMMER2_OBJTYPE_SOFTLINK) {
		n = h2_readlink(ip, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			printf(" -> %s", target);
		}
	}
	printf("\n");
}

struct ls_walk {
	struct h2cmd *lw_c;
	int lw_errors;
};

static int
ls_entry(void *arg, const struct h2_dirent *de)
{
	struct ls_walk *lw = arg;
	struct h2_inode *ip;
	int error;

	if ((error = h2_iget(lw->lw_c->c_pfs, de->d_inum, &ip)) != 0) {
		fprintf(stderr, "%s: %s\n", de->d_name, h2cmd_errstr(error));
		lw->lw_errors++;
		return 0;
	}
	ls_line(ip, de->d_name);
	h2_iput(ip);
	return 0;
}

static int
cmd_ls(struct h2cmd *c, const char *path)
{
	struct ls_walk lw = { c, 0 };
	struct h2_inode *ip;
	int error;

	if ((error = h2_namei(c->c_pfs, path, H2_NAMEI_FOLLOW, &ip)) != 0) {
		fprintf(stderr, "%s: %s\n", path, h2cmd_errstr(error));
		return 1;
	}
	if (h2_idata(ip)->meta.type != HAMMER2_OBJTYPE_DIRECTORY) {
		ls_line(ip, path);
		h2_iput(ip);
		return 0;
	}
	error = h2_readdir(ip, 0, ls_entry, &lw);
	h2_iput(ip);
	if (error < 0) {
		fprintf(stderr, "%s: %s\n", path, h2cmd_errstr(error));
		return 1;
	}
	return lw.lw_errors ? 1 : 0;
}

static void
print_time(const char *what, uint64_t usec)
{
	time_t t = (time_t)(usec / 1000000);
	char buf[64];
	struct tm tm;

	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
	printf("    %-10s %s.%06llu UTC\n", what, buf,
	    (unsigned long long)(usec % 1000000));
}

static int
cmd_stat(struct h2cmd *c, const char *path)
{
	const struct hammer2_inode_meta *m;
	struct h2_inode *ip;
	int error;

	if ((error = h2_namei(c->c_pfs, path, 0, &ip)) != 0) {
		fprintf(stderr, "%s: %s\n", path, h2cmd_errstr(error));
		return 1;
	}
	m = &h2_idata(ip)->meta;
	printf("%s {\n", path);
	printf("    inum       %llu\n", (unsigned long long)m->inum);
	printf("    type       %s\n", h2_objtype_name(m->type));
	printf("    mode       %04o\n", m->mode & 07777);
	printf("    size       %llu\n", (unsigned long long)m->size);
	printf("    nlinks     %llu\n", (unsigned long long)m->nlinks);
	printf("    iparent    %llu\n", (unsigned long long)m->iparent);
	printf("    name_key   0x%016llx\n", (unsigned long long)m->name_key);
	printf("    comp_algo  %s:%d\n",
	    h2_comp_name(HAMMER2_DEC_ALGO(m->comp_algo)),
	    HAMMER2_DEC_LEVEL(m->comp_algo));
	printf("    check_algo %s\n",
	    h2_check_name(HAMMER2_DEC_ALGO(m->check_algo)));
	printf("    op_flags   0x%02x%s\n", m->op_flags,
	    (m->op_flags & HAMMER2_OPFLAG_DIRECTDATA) ? " (direct data)" : "");
	print_time("ctime", m->ctime);
	print_time("mtime", m->mtime);
	print_time("btime", m->btime);
	printf("}\n");
	h2_iput(ip);
	return 0;
}

/* ---- cat, get ---- */

static int
copy_out(struct h2_inode *ip, int fd, const char *name)
{
	uint64_t size = h2_idata(ip)->meta.size, off = 0;
	size_t chunk = 1 << 20;
	char *buf;
	ssize_t n;

	if ((buf = malloc(chunk)) == NULL)
		return -ENOMEM;
	while (off < size) {
		n = h2_read(ip, off, buf, chunk);
		if (n <= 0) {
			fprintf(stderr, "%s: read at %llu: %s\n", name,
			    (unsigned long long)off,
			    n < 0 ? h2cmd_errstr((int)n) : "short file");
			free(buf);
			return n < 0 ? (int)n : -EIO;
		}
		if (write(fd, buf, (size_t)n) != n) {
			fprintf(stderr, "%s: write: %s\n", name,
			    strerror(errno));
			free(buf);
			return -EIO;
		}
		off += (uint64_t)n;
	}
	free(buf);
	return 0;
}

static int
cmd_cat(struct h2cmd *c, const char *path)
{
	struct h2_inode *ip;
	int error;

	if ((error = h2_namei(c->c_pfs, path, H2_NAMEI_FOLLOW, &ip)) != 0) {
		fprintf(stderr, "%s: %s\n", path, h2cmd_errstr(error));
		return 1;
	}
	if (h2_idata(ip)->meta.type != HAMMER2_OBJTYPE_REGFILE) {
		error = -EINVAL;
		if (h2_idata(ip)->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
			error = -EISDIR;
		fprintf(stderr, "%s: %s\n", path, h2cmd_errstr(error));
		h2_iput(ip);
		return 1;
	}
	error = copy_out(ip, STDOUT_FILENO, path);
	h2_iput(ip);
	return error ? 1 : 0;
}

struct get_walk {
	struct h2cmd *gw_c;
	const char *gw_dir; /* host directory being filled */
	int gw_depth;
	int gw_errors;
};

static int get_one(struct get_walk *gw, struct h2_inode *ip, const char *dest);

static void
set_times(const char *dest, const struct hammer2_inode_meta *m)
{
	struct timespec ts[2];

	ts[0].tv_sec = (time_t)(m->mtime / 1000000);
	ts[0].tv_nsec = (long)(m->mtime % 1000000) * 1000;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, dest, ts, AT_SYMLINK_NOFOLLOW);
}

static int
get_entry(void *arg, const struct h2_dirent *de)
{
	struct get_walk *gw = arg, sub = *gw;
	struct h2_inode *ip;
	char *dest;
	int error;

	if (asprintf(&dest, "%s/%s", gw->gw_dir, de->d_name) < 0)
		return -ENOMEM;
	if ((error = h2_iget(gw->gw_c->c_pfs, de->d_inum, &ip)) != 0) {
		fprintf(stderr, "%s: %s\n", dest, h2cmd_errstr(error));
		gw->gw_errors++;
		free(dest);
		return 0;
	}
	sub.gw_depth = gw->gw_depth + 1;
	sub.gw_errors = 0;
	get_one(&sub, ip, dest);
	gw->gw_errors += sub.gw_errors;
	h2_iput(ip);
	free(dest);
	return 0;
}

static int
get_dir(struct get_walk *gw, struct h2_inode *ip, const char *dest)
{
	struct get_walk sub = *gw;
	int error;

	if (gw->gw_depth >= GET_MAX_DEPTH) {
		fprintf(stderr, "%s: directories nested too deep\n", dest);
		return -ELOOP;
	}
	if (mkdir(dest, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s\n", dest, strerror(errno));
		return -errno;
	}
	sub.gw_dir = dest;
	error = h2_readdir(ip, 0, get_entry, &sub);
	gw->gw_errors += sub.gw_errors;
	if (error < 0)
		fprintf(stderr, "%s: %s\n", dest, h2cmd_errstr(error));
	chmod(dest, h2_idata(ip)->meta.mode & 07777);
	return error < 0 ? error : 0;
}

static int
get_one(struct get_walk *gw, struct h2_inode *ip, const char *dest)
{
	const struct hammer2_inode_meta *m = &h2_idata(ip)->meta;
	char target[H2_PATH_MAX];
	ssize_t n;
	int fd, error = 0;

	switch (m->type) {
	case HAMMER2_OBJTYPE_DIRECTORY:
		error = get_dir(gw, ip, dest);
		break;
	case HAMMER2_OBJTYPE_REGFILE:
		fd =
		    open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			fprintf(stderr, "%s: %s\n", dest, strerror(errno));
			error = -errno;
			break;
		}
		error = copy_out(ip, fd, dest);
		fchmod(fd, m->mode & 07777);
		close(fd);
		break;
	case HAMMER2_OBJTYPE_SOFTLINK:
		n = h2_readlink(ip, target, sizeof(target) - 1);
		if (n < 0) {
			error = (int)n;
			fprintf(stderr, "%s: %s\n", dest, h2cmd_errstr(error));
			break;
		}
		target[n] = '\0';
		if (symlink(target, dest) != 0) {
			fprintf(stderr, "%s: %s\n", dest, strerror(errno));
			error = -errno;
		}
		break;
	default:
		fprintf(stderr, "%s: skipped (%s)\n", dest,
		    h2_objtype_name(m->type));
		return 0;
	}
	if (error)
		gw->gw_errors++;
	else
		set_times(dest, m);
	return error;
}

static int
cmd_get(struct h2cmd *c, const char *path, const char *dest)
{
	struct get_walk gw = { c, NULL, 0, 0 };
	struct h2_inode *ip;
	const char *base;
	int error;

	if ((error = h2_namei(c->c_pfs, path, 0, &ip)) != 0) {
		fprintf(stderr, "%s: %s\n", path, h2cmd_errstr(error));
		return 1;
	}
	if (dest == NULL) {
		base = strrchr(path, '/');
		base = base ? base + 1 : path;
		dest = *base ? base : ".";
	}
	get_one(&gw, ip, dest);
	h2_iput(ip);
	return gw.gw_errors ? 1 : 0;
}

/* ---- writing ---- */

/* Split path into its parent directory (an inode) and last name. */
static int
parent_of(struct h2cmd *c, const char *path, struct h2_inode **dirp, char *name,
    size_t nlen)
{
	char buf[H2_PATH_MAX], *slash;
	size_t len;
	int error;

	snprintf(buf, sizeof(buf), "%s", path);
	len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	slash = strrchr(buf, '/');
	snprintf(name, nlen, "%s", slash ? slash + 1 : buf);
	if (slash == buf)
		buf[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(buf, sizeof(buf), "/");
	if (name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		fprintf(stderr, "%s: not a name\n", path);
		return -EINVAL;
	}
	error = h2_namei(c->c_pfs, buf, H2_NAMEI_FOLLOW, dirp);
	if (error)
		fprintf(stderr, "%s: %s\n", buf, h2cmd_errstr(error));
	return error;
}

static int
commit(struct h2cmd *c, int error)
{
	if (error == 0 && (error = h2_flush(c->c_mp)) != 0)
		fprintf(stderr, "flush: %s\n", h2cmd_errstr(error));
	return error ? 1 : 0;
}

static int
cmd_put(struct h2cmd *c, const char *host, const char *path)
{
	char name[HAMMER2_INODE_MAXNAME + 1], dest[H2_PATH_MAX];
	const char *base = strrchr(host, '/');
	struct h2_inode *dir, *ip;
	struct h2_dirent de;
	struct h2pop p;
	int error;

	base = base && base[1] ? base + 1 : host;
	if (path == NULL)
		path = "/";
	/* Into an existing directory, as cp does. */
	if (h2_namei(c->c_pfs, path, H2_NAMEI_FOLLOW, &ip) == 0) {
		if (h2_idata(ip)->meta.type == HAMMER2_OBJTYPE_DIRECTORY) {
			snprintf(dest, sizeof(dest), "%s/%s", path, base);
			path = dest;
		}
		h2_iput(ip);
	}
	if ((error = parent_of(c, path, &dir, name, sizeof(name))) != 0)
		return 1;
	error = h2_lookup(dir, name, strlen(name), &de);
	if (error == 0 && de.d_type != HAMMER2_OBJTYPE_DIRECTORY)
		error = h2_unlink(dir, name, strlen(name));
	else if (error == 0)
		error = -EEXIST;
	else if (error == -ENOENT)
		error = 0;
	if (error) {
		fprintf(stderr, "%s: %s\n", path, h2cmd_errstr(error));
		h2_iput(dir);
		return 1;
	}
	if ((error = h2pop_init(&p, c->c_pfs)) == 0) {
		error = h2pop_put(&p, dir, name, host, 0);
		h2pop_fini(&p);
	}
	h2_iput(dir);
	return commit(c, error);
}

struct first_name {
	char fn_name[HAMMER2_INODE_MAXNAME + 1];
	int fn_found;
};

static int
first_entry(void *arg, const struct h2_dirent *de)
{
	struct first_name *fn = arg;

	snprintf(fn->fn_name, sizeof(fn->fn_name), "%s", de->d_name);
	fn->fn_found = 1;
	return 1;
}

/* Remove name in dir, and everything below it; one name at a time, since
 * removing while scanning a directory is not safe. */
static int
rm_tree(struct h2cmd *c, struct h2_inode *dir, const char *name, int depth)
{
	struct first_name fn;
	struct h2_dirent de;
	struct h2_inode *sub;
	int error;

	if ((error = h2_lookup(dir, name, strlen(name), &de)) != 0)
		return error;
	if (de.d_type != HAMMER2_OBJTYPE_DIRECTORY)
		return h2_unlink(dir, name, strlen(name));
	if (depth > GET_MAX_DEPTH)
		return -ELOOP;
	if ((error = h2_iget(c->c_pfs, de.d_inum, &sub)) != 0)
		return error;
	for (;;) {
		fn.fn_found = 0;
		error = h2_readdir(sub, 0, first_entry, &fn);
		if (error < 0 || !fn.fn_found)
			break;
		if ((error = rm_tree(c, sub, fn.fn_name, depth + 1)) != 0)
			break;
	}
	h2_iput(sub);
	if (error < 0)
		return error;
	return h2_rmdir(dir, name, strlen(name));
}

static int
cmd_rm(struct h2cmd *c, int argc, char **argv)
{
	char name[HAMMER2_INODE_MAXNAME + 1];
	struct h2_inode *dir;
	struct h2_dirent de;
	int recursive = 0, error;

	if (argc > 1 && strcmp(argv[0], "-r") == 0) {
		recursive = 1;
		argc--;
		argv++;
	}
	if (argc != 1)
		usage();
	if (parent_of(c, argv[0], &dir, name, sizeof(name)) != 0)
		return 1;
	if (recursive) {
		error = rm_tree(c, dir, name, 0);
	} else {
		error = h2_lookup(dir, name, strlen(name), &de);
		if (error == 0 && de.d_type == HAMMER2_OBJTYPE_DIRECTORY)
			error = h2_rmdir(dir, name, strlen(name));
		else if (error == 0)
			error = h2_unlink(dir, name, strlen(name));
	}
	h2_iput(dir);
	if (error)
		fprintf(stderr, "%s: %s\n", argv[0], h2cmd_errstr(error));
	return commit(c, error);
}

static int
mkdir_one(struct h2cmd *c, const char *path, int parents)
{
	char name[HAMMER2_INODE_MAXNAME + 1], parent[H2_PATH_MAX], *slash;
	struct h2_inode *dir, *ip;
	int error;

	if (parents && h2_namei(c->c_pfs, path, H2_NAMEI_FOLLOW, &ip) == 0) {
		error = h2_idata(ip)->meta.type == HAMMER2_OBJTYPE_DIRECTORY ?
		    0 :
		    -ENOTDIR;
		h2_iput(ip);
		return error;
	}
	if (parents) {
		snprintf(parent, sizeof(parent), "%s", path);
		if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
			*slash = '\0';
			if ((error = mkdir_one(c, parent, 1)) != 0)
				return error;
		}
	}
	if (parent_of(c, path, &dir, name, sizeof(name)) != 0)
		return -ENOENT;
	error = h2_mkdir(dir, name, strlen(name), 0755, NULL);
	h2_iput(dir);
	return error;
}

static int
cmd_mkdir(struct h2cmd *c, int argc, char **argv)
{
	int parents = 0, error;

	if (argc > 1 && strcmp(argv[0], "-p") == 0) {
		parents = 1;
		argc--;
		argv++;
	}
	if (argc != 1)
		usage();
	if ((error = mkdir_one(c, argv[0], parents)) != 0)
		fprintf(stderr, "%s: %s\n", argv[0], h2cmd_errstr(error));
	return commit(c, error);
}

static int
lookup_name(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int
cmd_setmethod(struct h2cmd *c, int comp, const char *arg, const char *path)
{
	static const char *const comps[16] = { "none", "autozero", "lz4",
		"zlib", [HAMMER2_COMP_DF_ZSTD] = "zstd" };
	static const char *const checks[] = { "none", "disabled", "crc32",
		"xxhash64", "sha192" };
	char buf[32], *colon;
	struct h2_inode *ip;
	struct h2_attr ia;
	int m, level = 0, error;

	snprintf(buf, sizeof(buf), "%s", arg);
	if (comp && (colon = strchr(buf, ':')) != NULL) {
		*colon = '\0';
		level = atoi(colon + 1);
	}
	m = comp ? lookup_name(buf, comps, 16) : lookup_name(buf, checks, 5);
	if (m < 0 || level < 0 || level > 15) {
		fprintf(stderr, "%s: unknown method\n", arg);
		return 1;
	}
	memset(&ia, 0, sizeof(ia));
	ia.ia_valid = comp ? H2_ATTR_COMP : H2_ATTR_CHECK;
	ia.ia_comp = (uint8_t)(HAMMER2_ENC_ALGO(m) | HAMMER2_ENC_LEVEL(level));
	ia.ia_check = (uint8_t)m;
	if ((error = h2_namei(c->c_pfs, path, 0, &ip)) == 0) {
		error = h2_setattr(ip, &ia);
		h2_iput(ip);
	}
	if (error)
		fprintf(stderr, "%s: %s\n", path, h2cmd_errstr(error));
	return commit(c, error);
}

static int
cmd_snapshot(struct h2cmd *c, const char *name)
{
	char def[HAMMER2_INODE_MAXNAME + 1];
	struct tm tm;
	time_t t;
	int error;

	if (name == NULL) {
		t = time(NULL);
		gmtime_r(&t, &tm);
		snprintf(def, sizeof(def), "%.200s.%04d%02d%02d.%02d%02d%02d",
		    c->c_label, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_sec);
		name = def;
	}
	if ((error = h2_snapshot(c->c_pfs, name)) != 0)
		fprintf(stderr, "snapshot %s: %s\n", name, h2cmd_errstr(error));
	else
		printf("%s\n", name);
	return commit(c, error);
}

static int
cmd_pfs(struct h2cmd *c, int create, const char *name)
{
	int error = create ? h2_pfs_create(c->c_mp, name, NULL) :
			     h2_pfs_delete(c->c_mp, name);

	if (error)
		fprintf(stderr, "%s: %s\n", name, h2cmd_errstr(error));
	return commit(c, error);
}

static int
cmd_bulkfree(struct h2cmd *c)
{
	struct h2_bulkfree_result r;
	int error = h2_bulkfree(c->c_mp, &r);

	if (error) {
		fprintf(stderr, "bulkfree: %s\n", h2cmd_errstr(error));
		return 1;
	}
	printf("bulkfree: %llu blocks in use; 16 KiB chunks: %llu staged "
	       "(11->10), %llu freed (10->00), %llu fixed\n",
	    (unsigned long long)r.bf_blocks, (unsigned long long)r.bf_staged,
	    (unsigned long long)r.bf_freed, (unsigned long long)r.bf_fixed);
	printf("bulkfree: free %llu -> %llu bytes\n",
	    (unsigned long long)r.bf_free_before,
	    (unsigned long long)r.bf_free_after);
	return 0;
}

/* ---- main ---- */

static const char *const write_cmds[] = { "put", "rm", "mkdir", "setcomp",
	"setcheck", "snapshot", "pfs-create", "pfs-delete", "bulkfree", NULL };

static int
is_write(const char *cmd)
{
	int i;

	for (i = 0; write_cmds[i] != NULL; i++)
		if (strcmp(cmd, write_cmds[i]) == 0)
			return 1;
	return 0;
}

static int
run_write(struct h2cmd *c, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "put") == 0 && (argc == 2 || argc == 3))
		return cmd_put(c, argv[1], argc == 3 ? argv[2] : NULL);
	if (strcmp(cmd, "rm") == 0 && argc >= 2)
		return cmd_rm(c, argc - 1, argv + 1);
	if (strcmp(cmd, "mkdir") == 0 && argc >= 2)
		return cmd_mkdir(c, argc - 1, argv + 1);
	if (strcmp(cmd, "setcomp") == 0 && argc == 3)
		return cmd_setmethod(c, 1, argv[1], argv[2]);
	if (strcmp(cmd, "setcheck") == 0 && argc == 3)
		return cmd_setmethod(c, 0, argv[1], argv[2]);
	if (strcmp(cmd, "snapshot") == 0 && argc <= 2)
		return cmd_snapshot(c, argc == 2 ? argv[1] : NULL);
	if (strcmp(cmd, "pfs-create") == 0 && argc == 2)
		return cmd_pfs(c, 1, argv[1]);
	if (strcmp(cmd, "pfs-delete") == 0 && argc == 2)
		return cmd_pfs(c, 0, argv[1]);
	if (strcmp(cmd, "bulkfree") == 0 && argc == 1)
		return cmd_bulkfree(c);
	h2cmd_close(c);
	usage();
	return 1;
}

int
main(int argc, char **argv)
{
	const char *spec = NULL, *cmd;
	struct h2cmd c;
	int ch, zone = H2_ZONE_BEST, rc;
	unsigned flags;

	while ((ch = getopt(argc, argv, "+s:z:")) != -1) {
		switch (ch) {
		case 's':
			spec = optarg;
			break;
		case 'z':
			zone = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (spec == NULL || argc < 1)
		usage();
	cmd = argv[0];
	if (strcmp(cmd, "volhdr") == 0)
		return cmd_volhdr(spec);
	flags = H2CMD_PFS;
	if (strcmp(cmd, "show") == 0 || strcmp(cmd, "pfs-list") == 0 ||
	    strcmp(cmd, "freemap") == 0 || strcmp(cmd, "pfs-create") == 0 ||
	    strcmp(cmd, "pfs-delete") == 0 || strcmp(cmd, "bulkfree") == 0)
		flags = 0;
	if (is_write(cmd)) {
		if (zone != H2_ZONE_BEST) {
			fprintf(stderr, "hammer2: -z is for reading only\n");
			return 1;
		}
		flags |= H2CMD_RW;
	}
	if (h2cmd_open(spec, flags, zone, &c) != 0)
		return 1;
	if (is_write(cmd)) {
		rc = run_write(&c, argc, argv);
		h2cmd_close(&c);
		return rc;
	}
	if (strcmp(cmd, "show") == 0)
		rc = cmd_show(&c);
	else if (strcmp(cmd, "freemap") == 0)
		rc = cmd_freemap(&c);
	else if (strcmp(cmd, "pfs-list") == 0)
		rc = cmd_pfs_list(&c);
	else if (strcmp(cmd, "ls") == 0)
		rc = cmd_ls(&c, argc > 1 ? argv[1] : "/");
	else if (strcmp(cmd, "stat") == 0 && argc == 2)
		rc = cmd_stat(&c, argv[1]);
	else if (strcmp(cmd, "cat") == 0 && argc == 2)
		rc = cmd_cat(&c, argv[1]);
	else if (strcmp(cmd, "get") == 0 && (argc == 2 || argc == 3))
		rc = cmd_get(&c, argv[1], argc == 3 ? argv[2] : NULL);
	else {
		h2cmd_close(&c);
		usage();
	}
	h2cmd_close(&c);
	return rc;
}
