/* record.c -- --record/--replay files: the probe's raw records, so the user-space pipeline can run again without root or eBPF. */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/types.h>

#include "event.h"

static const char magic[8] = { 'H', 'S', 'N', 'O', 'O', 'P', 'R', 'C' };

struct file_header {
	char magic[8];
	uint32_t abi;
	uint32_t event_size;
	int64_t clock_offset;
};

struct recorder {
	FILE *f;
	int err;
};

struct recorder *recorder_open(const char *path, int64_t clock_offset)
{
	struct file_header h = { .abi = HS_ABI_VERSION,
				 .event_size = sizeof(struct hs_event),
				 .clock_offset = clock_offset };
	struct recorder *r;
	struct stat sb;
	int fd;

	memcpy(h.magic, magic, sizeof(magic));
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode))
		errno = EINVAL;
	else if (fstat(fd, &sb) == 0 && ftruncate(fd, 0) == 0 && fchmod(fd, 0600) == 0)
		goto opened; /* 0600 even if it existed: it holds raw traffic */
	close(fd);
	return NULL;
opened:
	r = calloc(1, sizeof(*r));
	if (!r || !(r->f = fdopen(fd, "w"))) {
		free(r);
		close(fd);
		return NULL;
	}
	setvbuf(r->f, NULL, _IOFBF, 1 << 20);
	if (fwrite(&h, sizeof(h), 1, r->f) != 1)
		r->err = -errno;
	return r;
}

int recorder_write(struct recorder *r, const void *rec, size_t len)
{
	uint32_t n = len;

	if (r->err)
		return r->err;
	if (fwrite(&n, sizeof(n), 1, r->f) != 1 || fwrite(rec, 1, len, r->f) != len)
		r->err = errno ? -errno : -EIO;
	return r->err;
}

int recorder_close(struct recorder *r)
{
	int err;

	if (!r)
		return 0;
	err = r->err;
	if (fclose(r->f) && !err)
		err = -errno;
	free(r);
	return err;
}

/* The file is read in large blocks and records are taken from them; two
 * fread() calls per record were 3% of a replay's instructions. */
#define REPLAY_BLOCK (1 << 20)

struct replay_in {
	int fd;
	uint8_t *buf; /* REPLAY_BLOCK bytes */
	size_t pos, len; /* unread bytes are buf[pos, len) */
	long at;	 /* file offset of buf[pos] */
};

/* Makes `need` (<= REPLAY_BLOCK) bytes readable at buf + pos.  Returns 1,
 * 0 when the file ends first, or -errno. */
static int replay_need(struct replay_in *in, size_t need)
{
	ssize_t got;

	if (in->len - in->pos >= need)
		return 1;
	memmove(in->buf, in->buf + in->pos, in->len - in->pos);
	in->len -= in->pos;
	in->pos = 0;
	while (in->len < need) {
		got = read(in->fd, in->buf + in->len, REPLAY_BLOCK - in->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return 0;
		in->len += got;
	}
	return 1;
}

int replay_file(const char *path, replay_fn fn, void *ctx,
		int64_t *clock_offset, long *bad_at)
{
	struct replay_in in = { .fd = -1 };
	struct file_header h;
	uint8_t *rec = NULL;
	uint32_t n;
	int err = 0, r;

	*bad_at = 0;
	in.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in.fd < 0)
		return -errno;
	/* Records are copied out of the block into rec: a record's place
	 * in the file has no alignment, and its header has 64-bit
	 * fields. */
	in.buf = malloc(REPLAY_BLOCK);
	rec = malloc(RECORD_MAX);
	if (!in.buf || !rec) {
		err = -ENOMEM;
		goto out;
	}
	r = replay_need(&in, sizeof(h));
	if (r > 0)
		memcpy(&h, in.buf, sizeof(h));
	if (r <= 0 || memcmp(h.magic, magic, sizeof(magic)) || h.abi != HS_ABI_VERSION ||
	    h.event_size != sizeof(struct hs_event)) {
		err = -EBADMSG;
		goto out;
	}
	*clock_offset = h.clock_offset;
	in.pos = sizeof(h);
	in.at = sizeof(h);
	for (;;) {
		r = replay_need(&in, sizeof(n));
		if (r <= 0) {
			if (r < 0) {
				err = -EIO;
			} else if (in.len > in.pos) {
				*bad_at = in.at;
				err = -EBADMSG;
			}
			break;
		}
		memcpy(&n, in.buf + in.pos, sizeof(n));
		if (n > RECORD_MAX) {
			*bad_at = in.at;
			err = -EBADMSG;
			break;
		}
		if (replay_need(&in, sizeof(n) + n) <= 0) {
			*bad_at = in.at;
			err = -EBADMSG;
			break;
		}
		memcpy(rec, in.buf + in.pos + sizeof(n), n);
		in.pos += sizeof(n) + n;
		in.at += sizeof(n) + n;
		if (fn(ctx, rec, n))
			break;
	}
out:
	free(rec);
	free(in.buf);
	close(in.fd);
	return err;
}

int replay_header(const char *path, int64_t *clock_offset)
{
	struct file_header h;
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, magic, sizeof(magic)) ||
	    h.abi != HS_ABI_VERSION || h.event_size != sizeof(struct hs_event))
		err = -EBADMSG;
	else
		*clock_offset = h.clock_offset;
	fclose(f);
	return err;
}
