/* record.c -- --record/--replay files: the probe's raw records, so the user-space pipeline can run again without root or eBPF. */
#include "capture/record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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

/* One write(2) per this many bytes (glibc's setvbuf() with no buffer of
 * our own would keep its default of 4 KiB, whatever the size asked). */
#define RECORDER_BUF (1 << 20)

struct recorder {
	FILE *f;
	int err;
	char buf[]; /* RECORDER_BUF bytes, the stream's buffer */
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
	r = malloc(sizeof(*r) + RECORDER_BUF);
	if (!r || !(r->f = fdopen(fd, "w"))) {
		free(r);
		close(fd);
		return NULL;
	}
	r->err = 0;
	setvbuf(r->f, r->buf, _IOFBF, RECORDER_BUF);
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

/* Replay reads the file in blocks of REPLAY_BUF through a buffer of its
 * own: two fread() calls per record cost more than the record's trip
 * through the stream tracker.  A record is copied out of the block, so
 * that it is aligned for struct hs_event whatever its offset. */
#define REPLAY_BUF (1 << 20)
_Static_assert(REPLAY_BUF >= sizeof(uint32_t) + RECORD_MAX, "a record fits in a block");

struct replay_in {
	int fd;
	uint8_t *buf; /* REPLAY_BUF bytes */
	size_t pos, len; /* unread: buf[pos..len) */
	bool eof;
	int err; /* -EIO after a failed read */
};

/* Makes want bytes (<= REPLAY_BUF) readable at buf + pos unless the file
 * ends or fails first; returns how many are. */
static size_t replay_fill(struct replay_in *in, size_t want)
{
	ssize_t r;

	while (in->len - in->pos < want && !in->eof && !in->err) {
		if (in->pos) {
			memmove(in->buf, in->buf + in->pos, in->len - in->pos);
			in->len -= in->pos;
			in->pos = 0;
		}
		r = read(in->fd, in->buf + in->len, REPLAY_BUF - in->len);
		if (r > 0)
			in->len += r;
		else if (r == 0)
			in->eof = true;
		else if (errno != EINTR)
			in->err = -EIO;
	}
	return in->len - in->pos;
}

int replay_file(const char *path, replay_fn fn, void *ctx,
		int64_t *clock_offset, long *bad_at)
{
	struct replay_in in = { .fd = -1 };
	struct file_header h;
	uint8_t *rec = NULL;
	uint32_t n;
	size_t got;
	int err = 0;

	*bad_at = 0;
	in.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in.fd < 0)
		return -errno;
	in.buf = malloc(REPLAY_BUF);
	rec = malloc(RECORD_MAX);
	if (!in.buf || !rec) {
		err = -ENOMEM;
		goto out;
	}
	if (replay_fill(&in, sizeof(h)) < sizeof(h)) {
		err = -EBADMSG;
		goto out;
	}
	memcpy(&h, in.buf, sizeof(h));
	in.pos = sizeof(h);
	if (memcmp(h.magic, magic, sizeof(magic)) || h.abi != HS_ABI_VERSION ||
	    h.event_size != sizeof(struct hs_event)) {
		err = -EBADMSG;
		goto out;
	}
	*clock_offset = h.clock_offset;
	for (long at = sizeof(h);; at += sizeof(n) + n) {
		got = replay_fill(&in, sizeof(n));
		if (got < sizeof(n)) {
			if (in.err) {
				err = in.err;
			} else if (got) {
				*bad_at = at;
				err = -EBADMSG;
			}
			break;
		}
		memcpy(&n, in.buf + in.pos, sizeof(n));
		if (n > RECORD_MAX || replay_fill(&in, sizeof(n) + n) < sizeof(n) + n) {
			*bad_at = at;
			err = -EBADMSG;
			break;
		}
		memcpy(rec, in.buf + in.pos + sizeof(n), n);
		in.pos += sizeof(n) + n;
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
