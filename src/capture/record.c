/* record.c -- --record/--replay files: the probe's raw records, so the user-space pipeline can run again without root or eBPF. */
#include "capture/record.h"

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

int replay_file(const char *path, replay_fn fn, void *ctx,
		int64_t *clock_offset, long *bad_at)
{
	struct file_header h;
	uint8_t *buf;
	uint32_t n;
	FILE *f;
	int err = 0;

	*bad_at = 0;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	buf = malloc(RECORD_MAX);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, magic, sizeof(magic)) ||
	    h.abi != HS_ABI_VERSION || h.event_size != sizeof(struct hs_event)) {
		err = -EBADMSG;
		goto out;
	}
	*clock_offset = h.clock_offset;
	/* The offset is counted, not asked for: ftell() is a syscall. */
	for (long at = sizeof(h);; at += sizeof(n) + n) {
		size_t got = fread(&n, 1, sizeof(n), f);

		if (got != sizeof(n)) {
			if (ferror(f)) {
				err = -EIO;
			} else if (got) {
				*bad_at = at;
				err = -EBADMSG;
			}
			break;
		}
		if (n > RECORD_MAX || fread(buf, 1, n, f) != n) {
			*bad_at = at;
			err = -EBADMSG;
			break;
		}
		if (fn(ctx, buf, n))
			break;
	}
out:
	free(buf);
	fclose(f);
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
