/* grpc.c -- gRPC over HTTP/2: the length-prefixed messages of a stream's direction, status names, the method from :path. */
#include "proto/grpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "proto/protobuf.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A message begins: its prefix is in. */
static void msg_begin(struct grpc_dir *d)
{
	uint32_t len = get32(d->prefix + 1);

	d->messages++;
	d->bytes += len;
	if (d->prefix[0] & 1)
		d->compressed++;
	d->left = len;
	d->have = 0;
	if (d->messages == 1) {
		d->first_size = len;
		d->first_compressed = d->prefix[0] & 1;
		d->first = malloc(len < GRPC_KEEP_MAX ? (len ? len : 1) :
							GRPC_KEEP_MAX);
	}
}

void grpc_dir_feed(struct grpc_dir *d, const uint8_t *data, size_t len)
{
	size_t k;

	while (len && !d->lost_sync) {
		if (d->left) {
			k = d->left < len ? (size_t)d->left : len;
			if (d->messages == 1) {
				size_t room = d->first_size < GRPC_KEEP_MAX ?
						      d->first_size : GRPC_KEEP_MAX;

				if (!data)
					d->first_lost = true;
				else if (d->first && !d->first_lost &&
					 d->first_len < room) {
					size_t n = room - d->first_len;

					if (n > k)
						n = k;
					memcpy(d->first + d->first_len, data, n);
					d->first_len += n;
				}
			}
			if (!data)
				d->lost_bytes += k;
			d->left -= k;
			if (data)
				data += k;
			len -= k;
			continue;
		}
		if (!data) {
			/* A loss where a prefix was: message boundaries are
			 * unknown from here. */
			d->lost_sync = true;
			return;
		}
		k = GRPC_PREFIX_LEN - d->have;
		if (k > len)
			k = len;
		memcpy(d->prefix + d->have, data, k);
		d->have += k;
		data += k;
		len -= k;
		if (d->have == GRPC_PREFIX_LEN)
			msg_begin(d);
	}
}

void grpc_dir_free(struct grpc_dir *d)
{
	free(d->first);
	memset(d, 0, sizeof(*d));
}

/* Decodes a compressed message's kept bytes into out (GRPC_DECODED_MAX
 * bytes); returns the length, or -1 if they do not decode.  *short_
 * is set when the output is not the whole message. */
static long inflate_msg(const struct grpc_dir *d, enum grpc_coding coding,
			uint8_t *out, bool *short_, bool *limited)
{
	z_stream z;
	int ret;
	long n;

	memset(&z, 0, sizeof(z));
	/* gRPC's "deflate" is the zlib format (RFC 1950), "gzip" RFC 1952. */
	if (inflateInit2(&z, coding == GRPC_GZIP ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = d->first;
	z.avail_in = (uInt)d->first_len;
	z.next_out = out;
	z.avail_out = GRPC_DECODED_MAX;
	ret = inflate(&z, Z_FINISH);
	n = (long)(GRPC_DECODED_MAX - z.avail_out);
	inflateEnd(&z);
	if (ret == Z_STREAM_END)
		return n;
	if (ret == Z_BUF_ERROR && (z.avail_out == 0 || z.avail_in == 0)) {
		/* Output full (a bomb stops here), or input kept short. */
		*short_ = true;
		if (!z.avail_out)
			*limited = true;
		return n;
	}
	return -1;
}

static size_t placeholder(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);

	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

size_t grpc_dir_preview(const struct grpc_dir *d, enum grpc_coding coding,
			char *out, size_t cap, bool *limited)
{
	bool whole = d->first_len == d->first_size && !d->first_lost;
	bool short_ = !whole;
	uint8_t *buf;
	size_t r;
	long n;

	if (!cap)
		return 0;
	out[0] = '\0';
	if (!d->messages || !d->first)
		return 0;
	if (!d->first_compressed)
		return pb_preview(d->first, d->first_len, short_, out, cap);
	if (coding != GRPC_GZIP && coding != GRPC_DEFLATE)
		return placeholder("(compressed: not decoded)", out, cap);
	buf = malloc(GRPC_DECODED_MAX);
	if (!buf)
		return 0;
	n = inflate_msg(d, coding, buf, &short_, limited);
	if (n < 0)
		r = placeholder("(compressed: invalid data)", out, cap);
	else
		r = pb_preview(buf, (size_t)n, short_, out, cap);
	free(buf);
	return r;
}

bool grpc_is_grpc(const char *ct, size_t len)
{
	static const char base[] = "application/grpc";
	size_t n = sizeof(base) - 1;

	if (len < n || strncasecmp(ct, base, n))
		return false;
	return len == n || ct[n] == '+' || ct[n] == ';';
}

static bool token_is(const char *v, size_t len, const char *tok)
{
	size_t n = strlen(tok);

	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return len == n && strncasecmp(v, tok, n) == 0;
}

enum grpc_coding grpc_coding_parse(const char *v, size_t len)
{
	if (!v || !len || token_is(v, len, "identity"))
		return GRPC_IDENTITY;
	if (token_is(v, len, "gzip"))
		return GRPC_GZIP;
	if (token_is(v, len, "deflate"))
		return GRPC_DEFLATE;
	return GRPC_OTHER;
}

int grpc_split_path(const char *path, size_t len, const char **svc,
		    size_t *svc_len, const char **method, size_t *method_len)
{
	const char *slash;

	if (len < 4 || path[0] != '/')
		return -EINVAL;
	slash = memchr(path + 1, '/', len - 1);
	if (!slash || slash == path + 1 || slash == path + len - 1 ||
	    memchr(slash + 1, '/', (size_t)(path + len - slash - 1)))
		return -EINVAL;
	*svc = path + 1;
	*svc_len = (size_t)(slash - path - 1);
	*method = slash + 1;
	*method_len = (size_t)(path + len - slash - 1);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t grpc_percent_decode(const char *in, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;
	int hi, lo;

	if (!cap)
		return 0;
	while (i < len && o + 1 < cap) {
		if (in[i] == '%' && i + 2 < len &&
		    (hi = hexval(in[i + 1])) >= 0 && (lo = hexval(in[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			out[o++] = in[i++];
		}
	}
	out[o] = '\0';
	return o;
}
