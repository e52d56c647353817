/* har.c -- HAR 1.2 file: entries appended one at a time, the file a complete document after every write. */
#include "sink/har.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* HAR 1.2 (W3C Web Performance WG draft): log.version, log.creator and
 * log.entries are required; pages is optional and empty here. */
#define HAR_HEAD_FMT "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"httpsnoop\"," \
		     "\"version\":\"%s\"},\"pages\":[],\"entries\":["
#define HAR_TAIL "\n]}}\n"

struct har {
	int fd;
	bool seekable;	/* a regular file: the tail is written over */
	off_t tail_off; /* where the closing brackets begin */
	size_t nentries;
	int err;	/* first write error, as -errno */
	char *buf;	/* owned: entries waiting, room for the tail */
	size_t len;
};

/* Writes all of p[0..n) at off (or at the end when off < 0). */
static int har_write(int fd, const char *p, size_t n, off_t off)
{
	while (n) {
		ssize_t k = off >= 0 ? pwrite(fd, p, n, off) : write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
		if (off >= 0)
			off += k;
	}
	return 0;
}

static int har_openfd(const char *path)
{
	struct stat st;
	int fd;

	if (!path || !strcmp(path, "-"))
		return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	/* As output_open(): no O_TRUNC until the file is known to be a
	 * regular one, and no following a planted symlink. */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISREG(st.st_mode)) {
		if (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0)
			goto fail;
	} else if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	return fd;
fail:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
	return -1;
}

struct har *har_open(const char *path, const char *creator_version)
{
	struct har *h = calloc(1, sizeof(*h));
	char head[256];
	struct stat st;
	int n, err;

	if (!h)
		return NULL;
	h->fd = har_openfd(path);
	h->buf = malloc(HAR_BUF_SIZE + sizeof(HAR_TAIL));
	if (h->fd < 0 || !h->buf)
		goto fail;
	h->seekable = fstat(h->fd, &st) == 0 && S_ISREG(st.st_mode);
	n = snprintf(head, sizeof(head), HAR_HEAD_FMT, creator_version);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		errno = EINVAL;
		goto fail;
	}
	h->tail_off = n;
	err = har_write(h->fd, head, (size_t)n, h->seekable ? 0 : -1);
	if (!err && h->seekable)
		err = har_write(h->fd, HAR_TAIL, strlen(HAR_TAIL), h->tail_off);
	if (err) {
		errno = -err;
		goto fail;
	}
	return h;
fail:
	err = errno;
	if (h->fd >= 0)
		close(h->fd);
	free(h->buf);
	free(h);
	errno = err;
	return NULL;
}

int har_flush(struct har *h)
{
	size_t tail = strlen(HAR_TAIL);
	int err;

	if (!h->len || h->err)
		return h->err;
	if (!h->seekable) {
		err = har_write(h->fd, h->buf, h->len, -1);
	} else {
		memcpy(h->buf + h->len, HAR_TAIL, tail);
		err = har_write(h->fd, h->buf, h->len + tail, h->tail_off);
		if (!err)
			h->tail_off += (off_t)h->len;
	}
	h->len = 0;
	if (err)
		h->err = err;
	return h->err;
}

/* Copies n bytes into the buffer, flushing it as it fills. */
static int har_put(struct har *h, const char *p, size_t n)
{
	while (n) {
		size_t k = HAR_BUF_SIZE - h->len < n ? HAR_BUF_SIZE - h->len : n;

		memcpy(h->buf + h->len, p, k);
		h->len += k;
		p += k;
		n -= k;
		if (h->len == HAR_BUF_SIZE && har_flush(h))
			return h->err;
	}
	return 0;
}

int har_add(struct har *h, const char *entry, size_t len)
{
	if (h->err)
		return h->err;
	/* An entry larger than the buffer is written in pieces: a document
	 * cut inside one would not parse, so flush what waits first and
	 * then write it whole, tail and all. */
	if (h->len + len + 2 > HAR_BUF_SIZE && har_flush(h))
		return h->err;
	if (h->nentries++)
		har_put(h, ",\n", 2);
	else
		har_put(h, "\n", 1);
	if (len + 2 > HAR_BUF_SIZE) {
		size_t tail = strlen(HAR_TAIL), lead = h->len;
		char *big = malloc(lead + len + tail);
		int err;

		if (!big)
			return h->err = -ENOMEM;
		memcpy(big, h->buf, lead);
		memcpy(big + lead, entry, len);
		memcpy(big + lead + len, HAR_TAIL, tail);
		h->len = 0;
		if (h->seekable) {
			err = har_write(h->fd, big, lead + len + tail, h->tail_off);
			h->tail_off += (off_t)(lead + len);
		} else {
			err = har_write(h->fd, big, lead + len, -1);
		}
		free(big);
		return h->err = err;
	}
	return har_put(h, entry, len);
}

int har_close(struct har *h)
{
	int err;

	if (!h)
		return 0;
	err = har_flush(h);
	if (!err && !h->seekable)
		err = har_write(h->fd, HAR_TAIL, strlen(HAR_TAIL), -1);
	if (close(h->fd) < 0 && !err)
		err = -errno;
	free(h->buf);
	free(h);
	return err;
}
