/* output.c -- output stream: opens the destination, dispatches each transaction to the text or JSON writer. */
#include "sink/output.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct output {
	FILE *f;
	char *buf; /* stdio buffer of f, freed after fclose */
	struct output_opts opts;
	bool flush_each; /* a terminal: show each transaction at once */
	int err;	 /* first write error (positive errno), or 0 */
};

struct output *output_open(const char *path, const struct output_opts *opts)
{
	struct output *o;
	struct stat st;
	int fd = -1, err;

	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->opts = *opts;

	if (!path || strcmp(path, "-") == 0) {
		/* A private duplicate lets us own the stream and its buffer
		 * without touching the global stdout; flushing first keeps
		 * whatever the caller already printed in order. */
		fflush(stdout);
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			goto fail;
	} else {
		/* No O_TRUNC: the file is checked before anything is lost,
		 * and O_NOFOLLOW keeps a planted symlink from redirecting a
		 * root-owned trace of secrets elsewhere. */
		fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
			  0600);
		if (fd < 0)
			goto fail;
		if (fstat(fd, &st) < 0)
			goto fail;
		if (S_ISREG(st.st_mode)) {
			/* 0600 even if it existed: it holds credentials. */
			if (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0)
				goto fail;
		} else if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
			errno = EINVAL;
			goto fail;
		}
	}
	o->flush_each = isatty(fd);

	o->buf = malloc(OUTPUT_BUF_SIZE);
	if (!o->buf)
		goto fail;
	o->f = fdopen(fd, "w");
	if (!o->f)
		goto fail;
	fd = -1; /* owned by o->f now */
	if (setvbuf(o->f, o->buf, _IOFBF, OUTPUT_BUF_SIZE) != 0) {
		errno = ENOMEM;
		goto fail;
	}
	return o;

fail:
	err = errno;
	if (o->f)
		fclose(o->f);
	if (fd >= 0)
		close(fd);
	free(o->buf);
	free(o);
	errno = err;
	return NULL;
}

static void output_note_error(struct output *o, int err)
{
	if (!o->err)
		o->err = err > 0 ? err : EIO;
}

void output_txn(struct output *o, const struct txn *t)
{
	int r;

	if (!o || !t)
		return;
	if (o->opts.format == OUTPUT_JSON)
		r = json_format_txn(o->f, t, &o->opts);
	else
		r = text_format_txn(o->f, t, &o->opts);
	if (r < 0)
		output_note_error(o, -r);
	if (o->flush_each) {
		errno = 0;
		if (fflush(o->f) == EOF)
			output_note_error(o, errno);
	}
}

int output_flush(struct output *o)
{
	if (!o)
		return -EINVAL;
	errno = 0;
	if (fflush(o->f) == EOF || ferror(o->f))
		output_note_error(o, errno);
	return o->err ? -o->err : 0;
}

void output_close(struct output *o)
{
	if (!o)
		return;
	fclose(o->f);
	free(o->buf);
	free(o);
}

/* ---- helpers shared by the writers ---- */

void output_line_drain(struct output_line *l)
{
	if (l->len)
		fwrite_unlocked(l->buf, 1, l->len, l->f);
	l->len = 0;
}

int output_line_end(struct output_line *l)
{
	output_line_drain(l);
	return ferror(l->f) ? (errno ? -errno : -EIO) : 0;
}

void output_put_slow(struct output_line *l, const void *p, size_t n)
{
	output_line_drain(l);
	if (n >= sizeof(l->buf)) {
		/* A large preview: no point in copying it twice. */
		fwrite_unlocked(p, 1, n, l->f);
		return;
	}
	memcpy(l->buf, p, n);
	l->len = n;
}

void output_put_u64(struct output_line *l, uint64_t v)
{
	char b[20];
	int i = sizeof(b);

	do
		b[--i] = (char)('0' + v % 10);
	while (v /= 10);
	output_put(l, b + i, sizeof(b) - i);
}

#define OUTPUT_PRINTABLE(c) ((c) >= 0x20 && (c) < 0x7f)
#define OUTPUT_CLASS(c)                                                        \
	((OUTPUT_PRINTABLE(c) && (c) != '"' && (c) != '\\' ? OUTPUT_C_JSON : 0) | \
	 (OUTPUT_PRINTABLE(c) || (c) == '\t' ? OUTPUT_C_TEXT : 0) |              \
	 (OUTPUT_PRINTABLE(c) || (c) == '\t' || (c) == '\n' || (c) == '\r'      \
		  ? OUTPUT_C_BODY                                               \
		  : 0))
#define OUTPUT_CLASS4(c) OUTPUT_CLASS(c), OUTPUT_CLASS((c) + 1), \
			 OUTPUT_CLASS((c) + 2), OUTPUT_CLASS((c) + 3)
#define OUTPUT_CLASS16(c) OUTPUT_CLASS4(c), OUTPUT_CLASS4((c) + 4), \
			  OUTPUT_CLASS4((c) + 8), OUTPUT_CLASS4((c) + 12)
#define OUTPUT_CLASS64(c) OUTPUT_CLASS16(c), OUTPUT_CLASS16((c) + 16), \
			  OUTPUT_CLASS16((c) + 32), OUTPUT_CLASS16((c) + 48)

const uint8_t output_byte_class[256] = {
	OUTPUT_CLASS64(0x00), OUTPUT_CLASS64(0x40),
	OUTPUT_CLASS64(0x80), OUTPUT_CLASS64(0xc0),
};

int output_utf8_len(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	uint32_t v;
	int len, i;

	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	}
	/* Unicode 15, table 3-7: the second byte's range is what rules out
	 * overlong forms (E0, F0), surrogates (ED) and > U+10FFFF (F4). */
	if (c < 0xc2) {
		return 0;
	} else if (c < 0xe0) {
		len = 2;
		v = c & 0x1f;
	} else if (c < 0xf0) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (cp)
		*cp = v;
	return len;
}

/* Text means printable: valid UTF-8 with no C0/C1 control other than
 * tab, CR and LF.  When the preview was cut, its last character may be
 * cut too; that tail is dropped rather than calling the body binary. */
static bool output_is_text(const uint8_t *p, size_t n, bool cut, size_t *text_len)
{
	size_t i = 0;
	uint32_t cp;
	int l;

	while (i < n) {
		uint8_t c;

		i += output_span(p + i, n - i, OUTPUT_C_BODY);
		if (i == n)
			break;
		c = p[i];
		if (c < 0x80)
			return false;
		l = output_utf8_len(p + i, n - i, &cp);
		if (l < 0 && cut)
			break;
		if (l <= 0 || cp < 0xa0)
			return false;
		i += l;
	}
	*text_len = i;
	return true;
}

void output_body_get(const struct http_msg *m, const struct output_opts *o,
		     struct output_body *b)
{
	memset(b, 0, sizeof(*b));
	/* Never NULL, so that writers need no special case. */
	b->data = m->preview ? m->preview : (const uint8_t *)"";
	b->len = m->preview ? m->preview_len : 0;
	if (b->len > o->max_body)
		b->len = o->max_body;
	/* body_size counts encoded bytes, so it only says "more" when the
	 * preview was not decoded. */
	b->truncated = m->preview_truncated || b->len < m->preview_len ||
		       (!m->preview_decoded && m->body_size > b->len);
	b->text = output_is_text(b->data, b->len, b->truncated, &b->text_len);
	if (m->preview_decoded)
		http_msg_coding(m, &b->coding, &b->coding_len);
}

/* Decimal digits of v (< 100000: an octet or a port) at b; returns the
 * end.  Digits are written in place, largest first: no loop, no copy. */
static char *output_fmt_short(char *b, unsigned v)
{
	if (v >= 10000)
		*b++ = (char)('0' + v / 10000);
	if (v >= 1000)
		*b++ = (char)('0' + v / 1000 % 10);
	if (v >= 100)
		*b++ = (char)('0' + v / 100 % 10);
	if (v >= 10)
		*b++ = (char)('0' + v / 10 % 10);
	*b++ = (char)('0' + v % 10);
	return b;
}

/* Every transaction shows two addresses: IPv4 is written here directly,
 * which costs a tenth of inet_ntop() and snprintf(); IPv6, with its
 * RFC 5952 zero compression, is left to inet_ntop(). */
bool output_addr_str(const struct hs_addr *a, char *buf)
{
	char *p = buf;

	if (a->family == AF_INET) {
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = output_fmt_short(p, a->addr[i]);
		}
	} else if (a->family == AF_INET6 &&
		   inet_ntop(AF_INET6, a->addr, buf + 1, INET6_ADDRSTRLEN)) {
		buf[0] = '[';
		p = buf + 1 + strlen(buf + 1);
		*p++ = ']';
	} else {
		strcpy(buf, "?");
		return false;
	}
	*p++ = ':';
	p = output_fmt_short(p, a->port);
	*p = '\0';
	return true;
}
