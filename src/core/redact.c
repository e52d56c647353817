/* redact.c -- hides credentials in headers and query parameters before a transaction is written.
 *
 * It works on the parsed transaction, so the text and JSON writers show
 * the same redacted values; a --record file keeps the raw bytes.
 */
#include "core/redact.h"

#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const default_headers[] = {
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Api-Key",
};

void redact_init(struct redact *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < sizeof(default_headers) / sizeof(default_headers[0]); i++)
		redact_add_header(r, default_headers[i]);
}

/* A name's bit in header_keys, from its length and its first letter in
 * either case: a header whose bit no listed name has is not listed.
 * The mix (5 times the length) keeps the usual headers (Host,
 * Content-Type, User-Agent, Server, Date...) off the default names'
 * bits, so that they cost no comparison. */
static uint64_t key_bit(const char *name, size_t len)
{
	unsigned c = len ? (unsigned char)name[0] | 0x20 : 0;

	return 1ULL << ((len * 5 + c) & 63);
}

/* The same from the length and the last letter, for the names that
 * share a bit above: Accept-Ranges, on most static files, has
 * Authorization's length and first letter, not its last. */
static uint64_t end_bit(const char *name, size_t len)
{
	unsigned c = len ? (unsigned char)name[len - 1] | 0x20 : 0;

	return 1ULL << ((len + c) & 63);
}

int redact_add_header(struct redact *r, const char *name)
{
	if (r->nheaders == REDACT_MAX_NAMES)
		return -E2BIG;
	r->header_len[r->nheaders] = strlen(name);
	r->header_keys |= key_bit(name, r->header_len[r->nheaders]);
	r->header_ends |= end_bit(name, r->header_len[r->nheaders]);
	r->headers[r->nheaders++] = name;
	return 0;
}

int redact_add_query(struct redact *r, const char *name)
{
	if (r->nquery == REDACT_MAX_NAMES)
		return -E2BIG;
	r->query_len[r->nquery] = strlen(name);
	r->query[r->nquery++] = name;
	return 0;
}

static bool listed(const char *const *names, const size_t *lens, size_t n,
		   const char *s, size_t len)
{
	/* Bytes whose bits differ beyond 0x20 differ whatever the case:
	 * the first one rules most names out before strncasecmp(). */
	for (size_t i = 0; i < n; i++)
		if (lens[i] == len && (!len || ((names[i][0] ^ s[0]) & ~0x20) == 0) &&
		    !strncasecmp(names[i], s, len))
			return true;
	return false;
}

/* Appends a new slice to m->buf and returns its offset, or -1.  This may
 * grow buf past HTTP_MSG_BUF_MAX: that limit is for network bytes. */
static long append(struct http_msg *m, const char *s, size_t len)
{
	size_t off = m->buf_len ? m->buf_len + 1 : 0;
	size_t need = off + len + 1;

	if (need > m->buf_cap) {
		char *nb = realloc(m->buf, need);

		if (!nb)
			return -1;
		m->buf = nb;
		m->buf_cap = need;
	}
	memcpy(m->buf + off, s, len);
	m->buf[off + len] = '\0';
	m->buf_len = off + len;
	return off;
}

/* Replaces the value of h, a listed header of m; returns 1, or 0
 * without memory (then the value is shown empty). */
static __attribute__((noinline)) size_t redact_field(struct http_msg *m,
						     struct http_header *h)
{
	const char *v = m->buf + h->value_off;
	size_t vlen = h->value_len, keep = 0;
	char repl[96];
	int len;
	long off;

	/* RFC 9110 section 11.4: credentials = auth-scheme [ 1*SP
	 * token68 / params ]; the scheme is not secret. */
	if (util_token_eq(m->buf + h->name_off, h->name_len, "Authorization") ||
	    util_token_eq(m->buf + h->name_off, h->name_len, "Proxy-Authorization")) {
		while (keep < vlen && keep < 32 && v[keep] != ' ')
			keep++;
		if (keep == vlen || keep == 32)
			keep = 0;
	}
	len = snprintf(repl, sizeof(repl), "%.*s%s[redacted %zu bytes]",
		       (int)keep, v, keep ? " " : "",
		       vlen - keep - (keep ? 1 : 0));
	off = append(m, repl, len);
	if (off < 0) {
		h->value_len = 0; /* no memory: show nothing */
		return 0;
	}
	h->value_off = off;
	h->value_len = len;
	return 1;
}

/* The fields of arr (m's headers, or its HTTP/2 trailers: gRPC
 * metadata is both).  Most are ruled out by their name's length. */
static inline size_t redact_fields(const struct redact *r, struct http_msg *m,
				   struct http_header *arr, size_t count)
{
	/* Kept here: redact_field() may move m->buf, and the compiler
	 * would read both again for each field. */
	uint64_t keys = r->header_keys, ends = r->header_ends;
	const char *buf = m->buf;
	size_t n = 0;

	for (size_t i = 0; i < count; i++) {
		struct http_header *h = &arr[i];
		const char *name = buf + h->name_off;

		if ((keys & key_bit(name, h->name_len)) &&
		    (ends & end_bit(name, h->name_len)) &&
		    listed(r->headers, r->header_len, r->nheaders, name, h->name_len)) {
			n += redact_field(m, h);
			buf = m->buf;
		}
	}
	return n;
}

/* Rewrites name=value pairs of the target's query whose name is listed. */
static size_t redact_query(const struct redact *r, struct http_msg *m)
{
	const char *t = m->buf + m->target_off, *q, *end;
	char *out;
	size_t n = 0, cap, olen;
	long off;

	if (!r->nquery || !m->target_len)
		return 0;
	end = t + m->target_len;
	q = memchr(t, '?', m->target_len);
	if (!q)
		return 0;
	cap = m->target_len + 64 * (m->target_len / 2 + 1);
	out = malloc(cap);
	if (!out)
		return 0;
	olen = q + 1 - t;
	memcpy(out, t, olen);
	for (const char *p = q + 1; p < end;) {
		const char *amp = memchr(p, '&', end - p), *eq;
		const char *pe = amp ? amp : end;

		eq = memchr(p, '=', pe - p);
		if (eq && listed(r->query, r->query_len, r->nquery, p, eq - p)) {
			memcpy(out + olen, p, eq + 1 - p);
			olen += eq + 1 - p;
			olen += snprintf(out + olen, cap - olen, "[redacted %zu bytes]",
					 (size_t)(pe - eq - 1));
			n++;
		} else {
			memcpy(out + olen, p, pe - p);
			olen += pe - p;
		}
		if (amp)
			out[olen++] = '&';
		p = amp ? amp + 1 : end;
	}
	if (n && (off = append(m, out, olen)) >= 0) {
		/* HTTP/2's :path header is the target's slice: it goes
		 * too. */
		for (size_t i = 0; i < m->nhdrs; i++)
			if (m->hdrs[i].value_off == m->target_off &&
			    m->hdrs[i].value_len == m->target_len) {
				m->hdrs[i].value_off = off;
				m->hdrs[i].value_len = olen;
			}
		m->target_off = off;
		m->target_len = olen;
	}
	free(out);
	return n;
}

size_t redact_txn(const struct redact *r, struct txn *t)
{
	size_t n = 0;

	if (r->off)
		return 0;
	if (t->req.present && t->req.buf) {
		n += redact_fields(r, &t->req, t->req.hdrs, t->req.nhdrs);
		n += redact_fields(r, &t->req, t->req.trailers, t->req.ntrailers);
		n += redact_query(r, &t->req);
	}
	if (t->resp.present && t->resp.buf) {
		n += redact_fields(r, &t->resp, t->resp.hdrs, t->resp.nhdrs);
		n += redact_fields(r, &t->resp, t->resp.trailers, t->resp.ntrailers);
	}
	return n;
}
