/* body.c -- body preview: keeps the first bytes of a message body, decoding gzip/deflate. */
#include "proto/body.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int preview_alloc(struct body *b)
{
	/* BODY_PREVIEW_SLACK more, which the writers may read. */
	if (!b->msg->preview && b->max) {
		b->msg->preview = malloc(b->max + BODY_PREVIEW_SLACK);
		if (!b->msg->preview)
			return -1;
		b->msg->preview_cap = b->max + BODY_PREVIEW_SLACK;
	}
	return 0;
}

/* Whether msg has a header whose name is as long as Content-Encoding:
 * most have none, which this rules out without the lookup's calls. */
static inline bool maybe_coded(const struct http_msg *msg)
{
	for (size_t i = 0; i < msg->nhdrs; i++)
		if (msg->hdrs[i].name_len == sizeof("Content-Encoding") - 1)
			return true;
	return false;
}

void body_begin(struct body *b, struct http_msg *msg, size_t max)
{
	const char *name;
	size_t len;

	memset(b, 0, sizeof(*b));
	b->msg = msg;
	b->max = max;
	/* "deflate" is the zlib format -- raw deflate is also seen in the
	 * wild, so a failed zlib header falls back to raw below. */
	b->coding = maybe_coded(msg) ? http_msg_coding(msg, &name, &len)
				     : HTTP_CODING_NONE;
	if ((b->coding != HTTP_CODING_GZIP && b->coding != HTTP_CODING_DEFLATE) || !max)
		return;
	b->z = calloc(1, sizeof(z_stream));
	b->wbits = b->coding == HTTP_CODING_GZIP ? 16 + MAX_WBITS : MAX_WBITS;
	b->nhead = b->coding == HTTP_CODING_GZIP ? -1 : 0;
	if (!b->z || inflateInit2(b->z, b->wbits) != Z_OK) {
		free(b->z);
		b->z = NULL;
		msg->decode_error = "out of memory";
		b->done = 1;
		return;
	}
	msg->preview_decoded = true;
}

static void feed_identity(struct body *b, const uint8_t *data, size_t len)
{
	struct http_msg *m = b->msg;
	size_t room = b->max - m->preview_len;

	if (len > room) {
		m->preview_truncated = true;
		len = room;
	}
	if (!len || preview_alloc(b))
		return;
	memcpy(m->preview + m->preview_len, data, len);
	m->preview_len += len;
}

static void inflate_some(struct body *b, const uint8_t *data, size_t len)
{
	struct http_msg *m = b->msg;
	z_stream *z = b->z;
	int ret;

	z->next_in = (Bytef *)data;
	z->avail_in = len;
	while (z->avail_in && !b->done) {
		z->next_out = m->preview + m->preview_len;
		z->avail_out = b->max - m->preview_len;
		ret = inflate(z, Z_NO_FLUSH);
		m->preview_len = b->max - z->avail_out;
		if (ret == Z_STREAM_END) {
			b->done = 1;
		} else if (ret != Z_OK && ret != Z_BUF_ERROR) {
			m->decode_error = "invalid compressed data";
			b->done = 1;
		} else if (m->preview_len == b->max) {
			/* Full: the rest would not be shown anyway. */
			m->preview_truncated = true;
			b->done = 1;
		} else if (ret == Z_BUF_ERROR) {
			break;
		}
	}
}

static void feed_zlib(struct body *b, const uint8_t *data, size_t len)
{
	if (preview_alloc(b))
		return;
	if (b->nhead >= 0 && b->nhead < 2) {
		/* RFC 1950 section 2.2: a zlib stream opens with CMF FLG,
		 * CM = 8 and CMF*256 + FLG a multiple of 31.  Anything else
		 * is taken for the raw deflate some servers send. */
		while (len && b->nhead < 2) {
			b->head[b->nhead++] = *data++;
			len--;
		}
		if (b->nhead < 2)
			return;
		if ((b->head[0] & 0x0f) != 8 || (b->head[0] * 256 + b->head[1]) % 31) {
			b->wbits = -MAX_WBITS;
			if (inflateReset2(b->z, b->wbits) != Z_OK) {
				b->done = 1;
				return;
			}
		}
		inflate_some(b, b->head, 2);
	}
	if (len)
		inflate_some(b, data, len);
}

void body_feed(struct body *b, const uint8_t *data, size_t len)
{
	struct http_msg *m = b->msg;

	m->body_size += len;
	if (!data) {
		m->body_missing += len;
		if (b->z && !b->done) {
			/* A compressed stream cannot continue past lost
			 * bytes. */
			m->decode_error = "compressed body has a capture gap";
			b->done = 1;
		} else if (!b->z) {
			m->preview_truncated = true;
			b->done = 1;
		}
		return;
	}
	if (b->done) {
		if (!b->z)
			m->preview_truncated = true;
		return;
	}
	if (b->z)
		feed_zlib(b, data, len);
	else
		feed_identity(b, data, len);
}

void body_end(struct body *b)
{
	if (b->z) {
		inflateEnd(b->z);
		free(b->z);
		b->z = NULL;
	}
}
