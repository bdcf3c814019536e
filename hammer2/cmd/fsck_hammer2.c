/*
 * fsck_hammer2: verify a HAMMER2 image offline, after DragonFly's
 * fsck_hammer2(8).
 *
 *   fsck_hammer2 [-a] [-v] [-q] IMAGE
 *
 * Checks every volume header, the freemap, every block's check code and
 * place, the tree structure, and that directories and inodes agree (see
 * h2_fsck in hammer2/hammer2.h). -a checks the tree of every valid volume
 * header copy, not only the best; -v prints progress, -q only the summary
 * line on problems. Problems and warnings go to standard output.
 *
 * Exit status: 0 when the volume is clean (warnings allowed), 1 when a
 * problem was found, 2 when the check could not run. Blocks "to recover"
 * (freemap_tid behind mirror_tid after a DragonFly crash: the mount
 * recovers them) are not problems: exit 0, as DragonFly's fsck_hammer2,
 * which exits non-zero only on failures, would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hammer2/cmd/h2cmd.h"
#include "hammer2/hammer2_host.h"

static int verbose = 1;

static void
print_msg(void *arg, int sev, const char *msg)
{
	static const char *const tag[] = { "PROBLEM", "warning", "info" };

	if (sev > verbose)
		return;
	printf("%s: %s\n", tag[sev], msg);
}

int
main(int argc, char **argv)
{
	static const char *const tname[] = { "empty", "inode", "indirect",
		"data", "dirent", "freemap_node", "freemap_leaf", "invalid" };
	struct h2_fsck_result res;
	unsigned flags = 0;
	struct h2_dev *dev;
	int ch, error, i;

	while ((ch = getopt(argc, argv, "avq")) != -1) {
		switch (ch) {
		case 'a':
			flags |= H2_FSCK_ALLZONES;
			break;
		case 'v':
			verbose = H2_FSCK_INFO;
			break;
		case 'q':
			verbose = -1;
			break;
		default:
			fprintf(stderr,
			    "usage: fsck_hammer2 [-a] [-v] [-q] "
			    "image\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: fsck_hammer2 [-a] [-v] [-q] image\n");
		return 2;
	}
	if ((error = h2_host_open(argv[optind], 1, &dev)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[optind], h2cmd_errstr(error));
		return 2;
	}
	/* The library's own log lines would repeat the report. */
	h2_host_log_level(verbose >= H2_FSCK_INFO ? H2_LOG_WARN : -1);
	error = h2_fsck(dev, flags, print_msg, NULL, &res);
	h2_host_close(dev);
	if (error) {
		fprintf(stderr, "fsck_hammer2: %s\n", h2cmd_errstr(error));
		return 2;
	}
	if (verbose >= 0 || res.fr_problems) {
		printf("%s: %llu problems, %llu warnings; %d volume headers, "
		       "%llu PFSs, %llu inodes, %llu entries, %llu bytes in",
		    argv[optind], (unsigned long long)res.fr_problems,
		    (unsigned long long)res.fr_warnings, res.fr_zones_valid,
		    (unsigned long long)res.fr_pfs,
		    (unsigned long long)res.fr_inodes,
		    (unsigned long long)res.fr_dirents,
		    (unsigned long long)res.fr_bytes);
		for (i = 1; i < 7; i++)
			printf(" %llu %s%s",
			    (unsigned long long)res.fr_blocks[i], tname[i],
			    i < 6 ? "," : "");
		printf(" blocks");
		if (res.fr_recover)
			printf("; %llu blocks to recover (newer than the "
			       "freemap; mounting recovers them)",
			    (unsigned long long)res.fr_recover);
		printf("\n");
	}
	return res.fr_problems ? 1 : 0;
}
