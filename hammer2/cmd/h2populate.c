/*
 * h2populate.c: copying host files into a HAMMER2 volume, as makefs does
 * (see h2populate.h).
 *
 * Each host entry is read with lstat, never followed: directories are
 * created and filled depth first (names in byte order, so a tree always
 * gives the same volume), regular files copied in 1 MiB pieces, symlinks
 * made with their target, FIFOs, sockets and device nodes created with
 * their numbers. Files with more than one link are made once and linked
 * again wherever the same (device, inode) shows up. Mode, uid, gid and
 * the times are carried over. A file that changes size while it is read
 * is stored as read. Anything that cannot be read or stored stops the
 * copy with a message naming the host path; nothing is flushed then, so
 * the volume keeps its last flushed state. Dirty data is flushed every
 * 64 MiB so memory stays bounded.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hammer2/cmd/h2populate.h"

#define CHUNK	  (1u << 20)
#define FLUSH_AT  (64ull << 20)
#define MAX_DEPTH 256

static int
fail(struct h2pop *p, const char *path, int error, const char *what)
{
	fprintf(stderr, "%s: %s%s%s\n", path, what ? what : "",
	    what ? ": " : "", strerror(error < 0 ? -error : error));
	p->p_errors++;
	return error < 0 ? error : -error;
}

int
h2pop_init(struct h2pop *p, struct h2_pfs *pfs)
{
	memset(p, 0, sizeof(*p));
	p->p_pfs = pfs;
	p->p_mp = h2_pfs_mount(pfs);
	if ((p->p_buf = malloc(CHUNK)) == NULL)
		return -ENOMEM;
	return 0;
}

void
h2pop_fini(struct h2pop *p)
{
	free(p->p_buf);
	free(p->p_links);
	memset(p, 0, sizeof(*p));
}

static uint64_t
us(const struct timespec *ts)
{
	if (ts->tv_sec < 0)
		return 0;
	return (uint64_t)ts->tv_sec * 1000000 + (uint64_t)ts->tv_nsec / 1000;
}

static int
set_attrs(struct h2_inode *ip, const struct stat *st, int symlink)
{
	struct h2_attr ia;

	memset(&ia, 0, sizeof(ia));
	ia.ia_valid = H2_ATTR_UID | H2_ATTR_GID | H2_ATTR_MTIME |
	    H2_ATTR_ATIME | H2_ATTR_CTIME;
	if (!symlink)
		ia.ia_valid |= H2_ATTR_MODE;
	ia.ia_mode = st->st_mode & 07777;
	ia.ia_uid = st->st_uid;
	ia.ia_gid = st->st_gid;
	ia.ia_mtime = us(&st->st_mtim);
	ia.ia_atime = us(&st->st_atim);
	ia.ia_ctime = us(&st->st_ctim);
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		ia.ia_valid |= H2_ATTR_RDEV;
		ia.ia_rmajor = major(st->st_rdev);
		ia.ia_rminor = minor(st->st_rdev);
	}
	return h2_setattr(ip, &ia);
}

static int
maybe_flush(struct h2pop *p)
{
	int error;

	if (h2_dirty_bytes(p->p_mp) < FLUSH_AT)
		return 0;
	if ((error = h2_flush(p->p_mp)) != 0)
		fprintf(stderr, "flush: %s\n", strerror(-error));
	return error;
}

static int
copy_data(struct h2pop *p, struct h2_inode *ip, const char *path)
{
	uint64_t off = 0;
	ssize_t n, w;
	int fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) < 0)
		return fail(p, path, errno, "open");
	for (;;) {
		n = read(fd, p->p_buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = fail(p, path, errno, "read");
			break;
		}
		if (n == 0)
			break;
		w = h2_write(ip, off, p->p_buf, (size_t)n);
		if (w != n) {
			error = fail(p, path, w < 0 ? (int)w : EIO, "store");
			break;
		}
		off += (uint64_t)n;
		p->p_bytes += (uint64_t)n;
		if ((error = maybe_flush(p)) != 0)
			break;
	}
	close(fd);
	return error;
}

static struct h2pop_link *
link_find(struct h2pop *p, const struct stat *st)
{
	size_t i;

	for (i = 0; i < p->p_nlinks; i++)
		if (p->p_links[i].l_dev == st->st_dev &&
		    p->p_links[i].l_ino == st->st_ino)
			return &p->p_links[i];
	return NULL;
}

static int
link_add(struct h2pop *p, const struct stat *st, hammer2_tid_t inum)
{
	struct h2pop_link *l;

	if (p->p_nlinks == p->p_capl) {
		size_t cap = p->p_capl ? p->p_capl * 2 : 64;

		if ((l = realloc(p->p_links, cap * sizeof(*l))) == NULL)
			return -ENOMEM;
		p->p_links = l;
		p->p_capl = cap;
	}
	l = &p->p_links[p->p_nlinks++];
	l->l_dev = st->st_dev;
	l->l_ino = st->st_ino;
	l->l_inum = inum;
	return 0;
}

static int put_dir_contents(struct h2pop *p, struct h2_inode *dir,
    const char *path, int depth);

static uint8_t
objtype(mode_t mode)
{
	if (S_ISREG(mode))
		return HAMMER2_OBJTYPE_REGFILE;
	if (S_ISDIR(mode))
		return HAMMER2_OBJTYPE_DIRECTORY;
	if (S_ISLNK(mode))
		return HAMMER2_OBJTYPE_SOFTLINK;
	if (S_ISFIFO(mode))
		return HAMMER2_OBJTYPE_FIFO;
	if (S_ISSOCK(mode))
		return HAMMER2_OBJTYPE_SOCKET;
	if (S_ISCHR(mode))
		return HAMMER2_OBJTYPE_CDEV;
	if (S_ISBLK(mode))
		return HAMMER2_OBJTYPE_BDEV;
	return HAMMER2_OBJTYPE_UNKNOWN;
}

/* A hard link to a file already copied. */
static int
put_link(struct h2pop *p, struct h2_inode *dir, const char *name,
    const char *path, const struct h2pop_link *l)
{
	struct h2_inode *ip;
	int error;

	if ((error = h2_iget(p->p_pfs, l->l_inum, &ip)) != 0)
		return fail(p, path, error, "link");
	error = h2_link(dir, name, strlen(name), ip);
	h2_iput(ip);
	if (error)
		return fail(p, path, error, "link");
	p->p_links_made++;
	return 0;
}

static int
put_symlink(struct h2pop *p, struct h2_inode *dir, const char *name,
    const char *path, struct h2_inode **ipp)
{
	char target[H2_PATH_MAX];
	ssize_t n;
	int error;

	n = readlink(path, target, sizeof(target));
	if (n < 0)
		return fail(p, path, errno, "readlink");
	if (n == 0 || n >= (ssize_t)sizeof(target))
		return fail(p, path, ENAMETOOLONG, "symlink target");
	error = h2_symlink(dir, name, strlen(name), target, (size_t)n, ipp);
	return error ? fail(p, path, error, "symlink") : 0;
}

int
h2pop_put(struct h2pop *p, struct h2_inode *dir, const char *name,
    const char *path, int depth)
{
	struct h2pop_link *l;
	struct h2_inode *ip = NULL;
	uint8_t type;
	struct stat st;
	int error;

	if (lstat(path, &st) != 0)
		return fail(p, path, errno, "stat");
	type = objtype(st.st_mode);
	if (type == HAMMER2_OBJTYPE_UNKNOWN)
		return fail(p, path, EINVAL, "unsupported file type");
	if (type == HAMMER2_OBJTYPE_REGFILE && st.st_nlink > 1 &&
	    (l = link_find(p, &st)) != NULL)
		return put_link(p, dir, name, path, l);
	if (type == HAMMER2_OBJTYPE_SOFTLINK)
		error = put_symlink(p, dir, name, path, &ip);
	else if ((error = h2_create(dir, name, strlen(name), type,
		      st.st_mode & 07777, &ip)) != 0)
		error = fail(p, path, error, "create");
	if (error)
		return error;
	if (type == HAMMER2_OBJTYPE_REGFILE) {
		p->p_files++;
		error = copy_data(p, ip, path);
		if (error == 0 && st.st_nlink > 1)
			error = link_add(p, &st, h2_idata(ip)->meta.inum);
	} else if (type == HAMMER2_OBJTYPE_DIRECTORY) {
		p->p_dirs++;
		error = put_dir_contents(p, ip, path, depth + 1);
	} else {
		p->p_others++;
	}
	if (error == 0 &&
	    (error = set_attrs(ip, &st, type == HAMMER2_OBJTYPE_SOFTLINK)) != 0)
		error = fail(p, path, error, "attributes");
	h2_iput(ip);
	return error;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a host directory, sorted (malloc'd array). */
static int
read_names(struct h2pop *p, const char *path, char ***namesp, size_t *np)
{
	struct dirent *de;
	char **names = NULL, **t;
	size_t n = 0, cap = 0;
	int error = 0;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return fail(p, path, errno, "opendir");
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno)
				error = fail(p, path, errno, "readdir");
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((t = realloc(names, cap * sizeof(*t))) == NULL) {
				error = fail(p, path, ENOMEM, NULL);
				break;
			}
			names = t;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			error = fail(p, path, ENOMEM, NULL);
			break;
		}
		n++;
	}
	closedir(d);
	if (error) {
		while (n > 0)
			free(names[--n]);
		free(names);
		return error;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	*namesp = names;
	*np = n;
	return 0;
}

static int
put_dir_contents(struct h2pop *p, struct h2_inode *dir, const char *path,
    int depth)
{
	char **names = NULL, *sub;
	size_t n = 0, i;
	int error = 0;

	if (depth > MAX_DEPTH)
		return fail(p, path, ELOOP, "directories nested too deep");
	if ((error = read_names(p, path, &names, &n)) != 0)
		return error;
	for (i = 0; i < n && error == 0; i++) {
		if (asprintf(&sub, "%s/%s", path, names[i]) < 0) {
			error = -ENOMEM;
			break;
		}
		error = h2pop_put(p, dir, names[i], sub, depth);
		free(sub);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

int
h2pop_tree(struct h2pop *p, struct h2_inode *dir, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return fail(p, path, errno, NULL);
	if (!S_ISDIR(st.st_mode))
		return fail(p, path, ENOTDIR, NULL);
	return put_dir_contents(p, dir, path, 0);
}
