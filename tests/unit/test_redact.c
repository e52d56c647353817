/* test_redact.c -- redact_txn(): which header values it hides, and what the others still read. */
#include <stdlib.h>
#include <string.h>

#include "core/redact.h"

#include "check.h"

/* A header of a table: its name, its value, and the value it should
 * read as after redaction. */
struct field {
	const char *name, *value, *want;
};

/* Builds m from fields, with a buf exactly as large as they are, so
 * that each value redact_txn() rewrites grows it (and may move it). */
static void msg_build(struct http_msg *m, const struct field *f, size_t n)
{
	size_t len = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++)
		len += strlen(f[i].name) + strlen(f[i].value) + 2;
	m->buf = malloc(len);
	m->buf_cap = len;
	m->hdrs = calloc(n, sizeof(*m->hdrs));
	m->hdrs_cap = n;
	m->present = true;
	for (size_t i = 0; i < n; i++) {
		struct http_header *h = &m->hdrs[m->nhdrs++];
		size_t off = m->buf_len ? m->buf_len + 1 : 0;

		h->name_off = off;
		h->name_len = strlen(f[i].name);
		memcpy(m->buf + off, f[i].name, h->name_len + 1);
		off += h->name_len + 1;
		h->value_off = off;
		h->value_len = strlen(f[i].value);
		memcpy(m->buf + off, f[i].value, h->value_len + 1);
		m->buf_len = off + h->value_len;
	}
}

static void msg_check(const struct http_msg *m, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct http_header *h = &m->hdrs[i];

		CHECK(h->name_len == strlen(f[i].name) &&
			      !memcmp(m->buf + h->name_off, f[i].name, h->name_len),
		      "header %zu: name %.*s, want %s", i, (int)h->name_len,
		      m->buf + h->name_off, f[i].name);
		CHECK(h->value_len == strlen(f[i].want) &&
			      !memcmp(m->buf + h->value_off, f[i].want, h->value_len),
		      "%s: got %.*s, want %s", f[i].name, (int)h->value_len,
		      m->buf + h->value_off, f[i].want);
	}
}

int main(void)
{
	static const struct field req[] = {
		{ "Host", "example.com", "example.com" },
		{ "Authorization", "Bearer abcdef", "Bearer [redacted 6 bytes]" },
		{ "Accept", "*/*", "*/*" },
		{ "cookie", "a=1; b=2", "[redacted 8 bytes]" },
		{ "X-Api-Key", "k", "[redacted 1 bytes]" },
		{ "Proxy-Authorization", "Basic Zm9vOmJhcg==",
		  "Basic [redacted 12 bytes]" },
		{ "X-Token", "t0k", "[redacted 3 bytes]" },
		{ "Content-Length", "0", "0" },
	};
	static const struct field resp[] = {
		{ "Accept-Ranges", "bytes", "bytes" },
		{ "Set-Cookie", "id=42; HttpOnly", "[redacted 15 bytes]" },
		{ "Date", "Sun, 06 Dec 2026 14:54:43 GMT", "Sun, 06 Dec 2026 14:54:43 GMT" },
		{ "SET-COOKIE", "x=y", "[redacted 3 bytes]" },
	};
	size_t nreq = sizeof(req) / sizeof(req[0]), nresp = sizeof(resp) / sizeof(resp[0]);
	struct redact r;
	struct txn t;

	redact_init(&r);
	CHECK(redact_add_header(&r, "X-Token") == 0, "X-Token not added");
	memset(&t, 0, sizeof(t));
	msg_build(&t.req, req, nreq);
	msg_build(&t.resp, resp, nresp);
	CHECK(redact_txn(&r, &t) == 7, "values hidden: want 7");
	msg_check(&t.req, req, nreq);
	msg_check(&t.resp, resp, nresp);
	http_msg_reset(&t.req);
	http_msg_reset(&t.resp);
	return check_result("test_redact");
}
