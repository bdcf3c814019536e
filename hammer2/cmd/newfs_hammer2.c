/*
 * newfs_hammer2: make an empty HAMMER2 volume, after DragonFly's
 * newfs_hammer2(8).
 *
 *   newfs_hammer2 [-L label]... [-s size] [-C comp[:level]] [-K check]
 *                 [-b bootsize] [-r auxsize] [-V version] IMAGE [DIR]
 *
 * PFSs: "LOCAL" and every -L label (default "DATA"; -L none for LOCAL
 * only), at most four. -s sizes (k/m/g/t suffixes) create or resize an
 * image file; an existing file keeps its size. A regular file is emptied
 * first (so it stays sparse); any other target gets its boot and aux areas
 * zeroed. -C sets the PFSs' compression (none, autozero, lz4, zlib, zstd;
 * zstd is a Damselfly extension DragonFly cannot read), -K their check
 * method (none, disabled, crc32, xxhash64, sha192). Defaults: lz4,
 * xxhash64, volume version 2.
 *
 * With DIR the new volume is populated from that host directory, as
 * makefs does: its contents go into the first -L label's PFS (DATA by
 * default) with their modes, owners, times, symlinks, hard links and
 * special files; the result is committed as one transaction. Without -s
 * a new image file gets a size that fits the tree (about twice its data,
 * at least 64 MiB). A failure while copying names the host path and
 * leaves the volume empty.
 *
 * Exit status 0 on success, 1 on error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "hammer2/cmd/h2cmd.h"
#include "hammer2/cmd/h2populate.h"
#include "hammer2/hammer2_host.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: newfs_hammer2 [-L label] [-s size] [-C comp[:level]] "
	    "[-K check]\n"
	    "                     [-b bootsize] [-r auxsize] [-V version] "
	    "image [dir]\n");
	exit(1);
}

static uint64_t
parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 't':
	case 'T':
		v <<= 10; /* fall through */
	case 'g':
	case 'G':
		v <<= 10; /* fall through */
	case 'm':
	case 'M':
		v <<= 10; /* fall through */
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	}
	if (*end != '\0' || v == 0) {
		fprintf(stderr, "newfs_hammer2: bad size \"%s\"\n", s);
		exit(1);
	}
	return v;
}

static int
lookup(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static uint8_t
parse_comp(const char *arg)
{
	static const char *const names[16] = { "none", "autozero", "lz4",
		"zlib", [HAMMER2_COMP_DF_ZSTD] = "zstd" };
	char buf[32], *colon;
	int comp, level = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon = '\0';
		level = atoi(colon + 1);
	}
	comp = lookup(buf, names, 16);
	if (comp < 0 || level < 0 || level > 15) {
		fprintf(stderr, "newfs_hammer2: bad compression \"%s\"\n", arg);
		exit(1);
	}
	return (uint8_t)(HAMMER2_ENC_ALGO(comp) | HAMMER2_ENC_LEVEL(level));
}

static uint8_t
parse_check(const char *arg)
{
	static const char *const names[] = { "none", "disabled", "crc32",
		"xxhash64", "sha192" };
	int check = lookup(arg, names, 5);

	if (check < 0) {
		fprintf(stderr, "newfs_hammer2: bad check \"%s\"\n", arg);
		exit(1);
	}
	return (uint8_t)check;
}

/* A random (version 4) UUID. */
static void
uuid_random(int fd, struct hammer2_uuid *u)
{
	if (read(fd, u, sizeof(*u)) != (ssize_t)sizeof(*u)) {
		perror("newfs_hammer2: /dev/urandom");
		exit(1);
	}
	u->time_hi_and_version =
	    (uint16_t)((u->time_hi_and_version & 0x0fff) | 0x4000);
	u->clock_seq_hi_and_reserved =
	    (uint8_t)((u->clock_seq_hi_and_reserved & 0x3f) | 0x80);
}

/* Prepare the target; returns 1 when it is a regular file (now zero). */
static int
prepare(const char *path, uint64_t size)
{
	struct stat st;
	int fd, regular;

	if (stat(path, &st) != 0 && errno == ENOENT && size == 0) {
		fprintf(stderr, "newfs_hammer2: %s does not exist; give -s\n",
		    path);
		exit(1);
	}
	if ((fd = open(path, O_RDWR | O_CREAT, 0644)) < 0 ||
	    fstat(fd, &st) != 0) {
		perror(path);
		exit(1);
	}
	regular = S_ISREG(st.st_mode);
	if (regular) {
		if (size == 0)
			size = (uint64_t)st.st_size;
		if (ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)size) != 0) {
			perror(path);
			exit(1);
		}
	}
	close(fd);
	return regular;
}

/* Bytes a file of size bytes takes at most: nothing up to 512 (in the
 * inode), else its 64 KiB blocks, the last one a power of two. */
static uint64_t
file_bytes(uint64_t size)
{
	uint64_t full = size & ~65535ull, tail = size - full, p = 1024;

	if (size <= 512)
		return 0;
	while (tail && p < tail)
		p *= 2;
	return full + (tail ? p : 0);
}

/* Bytes a host tree needs, roughly: its file blocks plus 4 KiB per entry
 * (inode, entry, its share of indirect blocks). */
static int
tree_bytes(const char *path, int depth, uint64_t *bytes)
{
	struct dirent *de;
	struct stat st;
	char *sub;
	DIR *d;
	int error = 0;

	if (lstat(path, &st) != 0)
		return -errno;
	*bytes += 4096;
	if (S_ISREG(st.st_mode))
		*bytes += file_bytes((uint64_t)st.st_size);
	if (!S_ISDIR(st.st_mode) || depth > 256)
		return 0;
	if ((d = opendir(path)) == NULL)
		return -errno;
	while (error == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&sub, "%s/%s", path, de->d_name) < 0) {
			error = -ENOMEM;
			break;
		}
		error = tree_bytes(sub, depth + 1, bytes);
		free(sub);
	}
	closedir(d);
	return error;
}

/* A volume size that holds need bytes: twice them, plus the reserved
 * segments, boot and aux areas (at most a twentieth each) and the
 * allocator's 5% reserve; at least 64 MiB, a multiple of 8 MiB. */
static uint64_t
size_for(uint64_t need)
{
	uint64_t size = H2_NEWFS_MIN_SIZE, usable;

	for (;;) {
		usable = size - size / 10 - size / 20 - (32ull << 20) -
		    ((size >> 30) + 1) * (4ull << 20);
		if (size > usable && usable >= 2 * need)
			break;
		size += size / 4;
		size = (size + (8ull << 20) - 1) & ~((8ull << 20) - 1);
	}
	return size;
}

static int
populate(const char *image, const char *label, const char *dir)
{
	struct h2cmd c;
	struct h2_inode *root;
	struct h2pop p;
	char spec[4096];
	int error;

	snprintf(spec, sizeof(spec), "%s@%s", image, label);
	if (h2cmd_open(spec, H2CMD_PFS | H2CMD_RW, H2_ZONE_BEST, &c) != 0)
		return 1;
	error = h2_iget(c.c_pfs, h2_pfs_root(c.c_pfs)->meta.inum, &root);
	if (error == 0 && (error = h2pop_init(&p, c.c_pfs)) == 0) {
		error = h2pop_tree(&p, root, dir);
		if (error == 0)
			printf("populated from %s: %llu files, %llu "
			       "directories, %llu others, %llu hard links, "
			       "%llu bytes\n",
			    dir, (unsigned long long)p.p_files,
			    (unsigned long long)p.p_dirs,
			    (unsigned long long)p.p_others,
			    (unsigned long long)p.p_links_made,
			    (unsigned long long)p.p_bytes);
		h2pop_fini(&p);
	}
	h2_iput(root);
	if (error == 0 && (error = h2_flush(c.c_mp)) != 0)
		fprintf(stderr, "newfs_hammer2: %s: %s\n", image,
		    h2cmd_errstr(error));
	if (error)
		fprintf(stderr,
		    "newfs_hammer2: %s: %sthe volume is left empty\n", image,
		    error == -ENOSPC ? "volume too small for the tree; " : "");
	h2cmd_close(&c);
	return error ? 1 : 0;
}

static void
summary(const char *path, struct h2_newfs_opts *no)
{
	struct h2cmd c;
	const struct hammer2_volume_data *vd;
	char s[37];
	int i;

	if (h2cmd_open(path, 0, H2_ZONE_BEST, &c) != 0)
		exit(1);
	vd = h2_mount_volhdr(c.c_mp);
	printf("version:          %u\n", vd->version);
	printf("total-size:       %llu\n", (unsigned long long)vd->volu_size);
	printf("boot-area-size:   %llu\n",
	    (unsigned long long)(vd->boot_end - vd->boot_beg));
	printf("aux-area-size:    %llu\n",
	    (unsigned long long)(vd->aux_end - vd->aux_beg));
	printf("free-size:        %llu\n",
	    (unsigned long long)vd->allocator_free);
	h2_uuid_format(&vd->fsid, s);
	printf("vol-fsid:         %s\n", s);
	for (i = 0; i < no->no_nlabels; i++) {
		h2_uuid_format(&no->no_pfs_clid[i], s);
		printf("PFS \"%s\"\n    clid %s\n", no->no_labels[i], s);
	}
	h2cmd_close(&c);
}

int
main(int argc, char **argv)
{
	struct h2_newfs_opts no;
	struct h2_dev *dev;
	struct timeval tv;
	const char *tree = NULL;
	int ch, rnd, i, error, nolabel = 0;

	memset(&no, 0, sizeof(no));
	no.no_labels[no.no_nlabels++] = "LOCAL";
	no.no_comp = HAMMER2_COMP_LZ4;
	no.no_check = HAMMER2_CHECK_XXHASH64;
	while ((ch = getopt(argc, argv, "L:s:C:K:b:r:V:")) != -1) {
		switch (ch) {
		case 'L':
			if (strcmp(optarg, "none") == 0) {
				nolabel = 1;
				break;
			}
			if (no.no_nlabels == HAMMER2_SET_COUNT) {
				fprintf(stderr,
				    "newfs_hammer2: at most %d "
				    "PFSs (LOCAL included)\n",
				    HAMMER2_SET_COUNT);
				return 1;
			}
			no.no_labels[no.no_nlabels++] = optarg;
			break;
		case 's':
			no.no_size = parse_size(optarg);
			break;
		case 'C':
			no.no_comp = parse_comp(optarg);
			break;
		case 'K':
			no.no_check = parse_check(optarg);
			break;
		case 'b':
			no.no_boot_size = parse_size(optarg);
			break;
		case 'r':
			no.no_aux_size = parse_size(optarg);
			break;
		case 'V':
			no.no_version = (uint32_t)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc && optind + 2 != argc)
		usage();
	if (no.no_nlabels == 1 && !nolabel)
		no.no_labels[no.no_nlabels++] = "DATA";
	if (optind + 2 == argc) {
		struct stat st;

		tree = argv[optind + 1];
		if (stat(tree, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "newfs_hammer2: %s: %s\n", tree,
			    errno && !S_ISDIR(st.st_mode) ? strerror(errno) :
							    "not a directory");
			return 1;
		}
		if (no.no_size == 0 && stat(argv[optind], &st) != 0) {
			uint64_t need = 0;

			if ((error = tree_bytes(tree, 0, &need)) != 0) {
				fprintf(stderr, "newfs_hammer2: %s: %s\n", tree,
				    strerror(-error));
				return 1;
			}
			no.no_size = size_for(need);
		}
	}
	if (!prepare(argv[optind], no.no_size))
		no.no_flags |= H2_NEWFS_ZERO;
	if ((rnd = open("/dev/urandom", O_RDONLY)) < 0) {
		perror("/dev/urandom");
		return 1;
	}
	uuid_random(rnd, &no.no_fsid);
	uuid_random(rnd, &no.no_sup_clid);
	uuid_random(rnd, &no.no_sup_fsid);
	for (i = 0; i < no.no_nlabels; i++) {
		uuid_random(rnd, &no.no_pfs_clid[i]);
		uuid_random(rnd, &no.no_pfs_fsid[i]);
	}
	close(rnd);
	gettimeofday(&tv, NULL);
	no.no_time_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	if ((error = h2_host_open(argv[optind], 0, &dev)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[optind], h2cmd_errstr(error));
		return 1;
	}
	error = h2_newfs(dev, &no);
	h2_host_close(dev);
	if (error) {
		fprintf(stderr, "newfs_hammer2: %s: %s\n", argv[optind],
		    error == -ENOSPC ? "volume too small" :
				       h2cmd_errstr(error));
		return 1;
	}
	summary(argv[optind], &no);
	if (tree != NULL)
		return populate(argv[optind],
		    no.no_labels[no.no_nlabels > 1 ? 1 : 0], tree);
	return 0;
}
