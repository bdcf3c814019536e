/*
 * hammer2: inspect a HAMMER2 image offline, after DragonFly's hammer2(8).
 *
 *   hammer2 [-z ZONE] -s IMAGE[@LABEL] COMMAND [ARGS]
 *
 * Commands:
 *   volhdr            every volume header copy, its fields and CRCs
 *   show              the whole blockref tree from the super-root down
 *   freemap           the freemap: per 4 MiB segment, 16 KiB chunks in use
 *   pfs-list          the PFSs under the super-root
 *   ls [PATH]         a directory's entries (or one file's)
 *   stat PATH         an inode's fields
 *   cat PATH          a file's bytes to standard output
 *   get PATH [DEST]   copy a file, symlink or directory tree out to DEST
 * Paths are inside the PFS named by @LABEL (default: DATA, or the only
 * PFS). -z reads one volume header copy (0..3) instead of the best.
 * Exit status: 0 on success, 1 on any error.
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
#include "hammer2/hammer2_host.h"

#define SHOW_MAX_DEPTH 64
#define GET_MAX_DEPTH  256

static void
usage(void)
{
	fprintf(stderr,
	    "usage: hammer2 [-z zone] -s image[@label] command [args]\n"
	    "commands: volhdr show freemap pfs-list ls stat cat get\n");
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

/* ---- main ---- */

int
main(int argc, char **argv)
{
	const char *spec = NULL, *cmd;
	struct h2cmd c;
	int ch, zone = H2_ZONE_BEST, rc, want_pfs;

	while ((ch = getopt(argc, argv, "s:z:")) != -1) {
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
	want_pfs = strcmp(cmd, "show") != 0 && strcmp(cmd, "pfs-list") != 0 &&
	    strcmp(cmd, "freemap") != 0;
	if (h2cmd_open(spec, want_pfs, zone, &c) != 0)
		return 1;
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
