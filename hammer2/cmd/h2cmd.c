/*
 * h2cmd.c: shared helpers of the HAMMER2 host programs (see h2cmd.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hammer2/cmd/h2cmd.h"
#include "hammer2/hammer2_host.h"

const char *
h2cmd_errstr(int error)
{
	return strerror(error < 0 ? -error : error);
}

/* Split "IMAGE@LABEL" when the part before the last '@' is a file. */
static void
split_spec(const char *spec, char *image, size_t ilen, char *label, size_t llen)
{
	const char *at = strrchr(spec, '@');
	struct stat st;

	snprintf(image, ilen, "%s", spec);
	label[0] = '\0';
	if (at == NULL || strchr(at, '/') != NULL)
		return;
	snprintf(image, ilen, "%.*s", (int)(at - spec), spec);
	if (stat(image, &st) != 0) {
		snprintf(image, ilen, "%s", spec);
		return;
	}
	snprintf(label, llen, "%s", at + 1);
}

struct pick {
	int p_count;
	int p_has_data;
	char p_name[HAMMER2_INODE_MAXNAME + 1];
};

static int
pick_pfs(void *arg, const struct h2_pfs_info *pi)
{
	struct pick *p = arg;

	if (strcmp(pi->pi_name, "DATA") == 0)
		p->p_has_data = 1;
	if (p->p_count++ == 0)
		snprintf(p->p_name, sizeof(p->p_name), "%s", pi->pi_name);
	return 0;
}

static int
default_label(struct h2cmd *c)
{
	struct pick p = { 0, 0, "" };
	int error;

	if ((error = h2_pfs_foreach(c->c_mp, pick_pfs, &p)) < 0)
		return error;
	if (p.p_has_data)
		snprintf(c->c_label, sizeof(c->c_label), "DATA");
	else if (p.p_count == 1)
		snprintf(c->c_label, sizeof(c->c_label), "%s", p.p_name);
	else
		return -ENOENT;
	return 0;
}

int
h2cmd_open(const char *spec, unsigned flags, int zone, struct h2cmd *c)
{
	struct h2_mount_opts mo = { zone, 0 };
	int want_pfs = (flags & H2CMD_PFS) != 0;
	char image[4096];
	int error;

	memset(c, 0, sizeof(*c));
	if (flags & H2CMD_RW)
		mo.mo_flags |= H2_MNT_RDWR;
	split_spec(spec, image, sizeof(image), c->c_label, sizeof(c->c_label));
	if ((error = h2_host_open(image, !(flags & H2CMD_RW), &c->c_dev)) !=
	    0) {
		fprintf(stderr, "%s: %s\n", image, h2cmd_errstr(error));
		return error;
	}
	if ((error = h2_mount(c->c_dev, &mo, &c->c_mp)) != 0) {
		fprintf(stderr, "%s: cannot mount: %s\n", image,
		    h2cmd_errstr(error));
		goto fail;
	}
	if (!want_pfs)
		return 0;
	if (c->c_label[0] == '\0' && (error = default_label(c)) != 0) {
		fprintf(stderr, "%s: no default PFS; name one as IMAGE@LABEL\n",
		    image);
		goto fail;
	}
	if ((error = h2_pfs_open(c->c_mp, c->c_label, &c->c_pfs)) != 0) {
		fprintf(stderr, "%s: PFS %s: %s\n", image, c->c_label,
		    h2cmd_errstr(error));
		goto fail;
	}
	return 0;
fail:
	h2cmd_close(c);
	return error;
}

void
h2cmd_close(struct h2cmd *c)
{
	h2_pfs_close(c->c_pfs);
	h2_unmount(c->c_mp);
	h2_host_close(c->c_dev);
	memset(c, 0, sizeof(*c));
}

void
h2cmd_bref_str(const struct hammer2_blockref *b, char *buf, size_t len)
{
	int radix = b->data_off & HAMMER2_OFF_MASK_RADIX;
	size_t bytes = radix ? (size_t)1 << radix : 0;

	snprintf(buf, len,
	    "%s key=%016llx/%u off=%016llx/%zu mir=%016llx mod=%016llx "
	    "check=%s comp=%s",
	    h2_bref_type_name(b->type), (unsigned long long)b->key, b->keybits,
	    (unsigned long long)(b->data_off & HAMMER2_OFF_MASK), bytes,
	    (unsigned long long)b->mirror_tid,
	    (unsigned long long)b->modify_tid,
	    h2_check_name(HAMMER2_DEC_CHECK(b->methods)),
	    h2_comp_name(HAMMER2_DEC_COMP(b->methods)));
}
