/* http1.c -- HTTP/1.x over a reassembled connection: parses both directions with llhttp and pairs requests with responses.
 *
 * Each direction has its own llhttp parser: requests flow one way and
 * responses the other (RFC 9112 section 2.1).  Requests enter a FIFO when
 * they begin; each response answers the oldest waiting request, which is
 * what pipelining requires (RFC 9112 section 9.3.2).  Lost bytes inside a
 * body whose length is known are fed to llhttp as zeros so framing stays
 * exact; any other loss resets the parser, which then waits for a syscall
 * that starts a new message.
 */
#include "proto/http1.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <llhttp.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/util.h"
#include "proto/body.h"
#include "proto/framing.h"

enum field { F_NONE, F_METHOD, F_URL, F_STATUS, F_HNAME, F_HVALUE };

struct side {
	llhttp_t parser;
	struct http1 *h;
	bool is_request;
	bool resync;	/* lost sync: skip data until a message start */
	bool in_body;	/* between headers-complete and message-complete */
	bool feeding_gap;
	bool method_ok;	/* llhttp recognised the request's method */
	bool value_ws;	/* a piece of a header's value ended in
			 * whitespace: trim the values */
	enum field field;     /* which slice the last data callback grew */
	struct txn *txn;      /* transaction being parsed, or NULL */
	struct http_msg *msg; /* message being parsed (in txn, or scratch) */
	struct http_msg *scratch; /* sink for messages nobody will report,
				   * allocated the first time one comes (most
				   * connections never have one: 224 bytes a
				   * side saved) */
	struct body body;
	struct framing fr;    /* its anomalies */
	bool stop;	      /* the message's length is unknown: look for
			       * the next one after it */
	uint64_t ts; /* timestamp of the data being fed */
};

struct http1 {
	const struct proto_env *env;
	const struct conn_info *conn;
	int req_dir; /* direction carrying requests, -1 until known */
	bool upgraded;
	struct txn *switched; /* a copy of the transaction that upgraded,
			       * made before it was emitted (and maybe
			       * redacted), for the protocol that follows */
	struct side side[2];
	struct txn *head, *tail; /* requests waiting for responses */
	size_t queued;
};

static llhttp_settings_t settings;
static bool settings_ready;

/* What llhttp_execute() runs, from p to endp: llhttp's parser, or its
 * copy built with SSE4.2 where the CPU has it (meson.build says why). */
typedef int (*parse_fn)(llhttp_t *p, const char *at, const char *endp);
#ifdef HS_LLHTTP_SSE42
int llhttp__internal_execute_sse42(llhttp_t *p, const char *at, const char *endp);
#endif
static parse_fn parse;

static const uint8_t zeros[1];

/* --- messages ------------------------------------------------------- */

/* Grows m->buf to hold need bytes.  Returns false (and flags the
 * message) past HTTP_MSG_BUF_MAX or without memory. */
static __attribute__((noinline)) bool msg_grow(struct http_msg *m, size_t need)
{
	size_t cap = m->buf_cap ? m->buf_cap : 256;
	char *nb;

	if (need > HTTP_MSG_BUF_MAX) {
		m->head_truncated = true;
		return false;
	}
	while (cap < need)
		cap *= 2;
	if (cap > HTTP_MSG_BUF_MAX)
		cap = HTTP_MSG_BUF_MAX;
	nb = realloc(m->buf, cap);
	if (!nb) {
		m->head_truncated = true;
		return false;
	}
	m->buf = nb;
	m->buf_cap = cap;
	return true;
}

/* memcpy() for a span: most are a few bytes (a method, a header name),
 * which a call into libc costs more than copying.  Copies n bytes as two
 * words that may overlap, reading nothing outside s[0..n). */
static inline void span_copy(char *d, const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n > 16) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

/* Appends to the slice being built; a new slice starts after the previous
 * one's NUL.  Returns where the slice starts when new_slice, or -1 (and
 * flags the message) when it is full.  Every span llhttp finds comes
 * here: the usual case is a capacity check and a copy. */
static inline long msg_append(struct http_msg *m, const char *p, size_t len,
			      bool new_slice)
{
	size_t off = m->buf_len, need;

	if (m->head_truncated)
		return -1;
	if (new_slice && off)
		off++; /* keep the NUL that ends the previous slice */
	need = off + len + 1;
	if (need > m->buf_cap && !msg_grow(m, need))
		return -1;
	span_copy(m->buf + off, p, len);
	m->buf_len = off + len;
	m->buf[m->buf_len] = '\0';
	return (long)off;
}

/* --- llhttp callbacks ----------------------------------------------- */

static void finish_txn(struct http1 *h, struct txn *t);

/* The side's scratch message, empty and present; NULL without the
 * memory for one. */
static struct http_msg *scratch_msg(struct side *s)
{
	if (!s->scratch)
		s->scratch = calloc(1, sizeof(*s->scratch));
	else
		http_msg_reset(s->scratch);
	if (s->scratch)
		s->scratch->present = true;
	return s->scratch;
}

/* The side drops the message it was parsing (its body and transaction
 * already let go of) and skips data until a message starts. */
static void side_resync(struct side *s)
{
	s->msg = NULL;
	framing_abandon(&s->fr);
	s->in_body = false;
	s->field = F_NONE;
	s->resync = true;
	llhttp_reset(&s->parser);
	s->parser.data = s;
}

static void drop_oldest(struct http1 *h)
{
	struct txn *old = h->head;

	/* A client that never reads: report the oldest rather than grow
	 * without bound. */
	old->error = "too many pipelined requests";
	finish_txn(h, old);
}

static int on_message_begin(llhttp_t *p)
{
	struct side *s = p->data;
	struct http1 *h = s->h;
	struct txn *t;

	s->field = F_NONE;
	s->in_body = false;
	s->method_ok = false;
	s->value_ws = false;
	if (s->is_request) {
		t = txn_get(h->env->pool);
		if (!t)
			return -1;
		if (h->queued >= HTTP1_PIPELINE_MAX)
			drop_oldest(h);
		if (h->tail)
			h->tail->next = t;
		else
			h->head = t;
		h->tail = t;
		h->queued++;
		s->txn = t;
		s->msg = &t->req;
	} else {
		/* The oldest request still waiting answers this response. */
		t = h->head;
		s->txn = t;
		if (t) {
			s->msg = &t->resp;
		} else {
			h->env->stats->unpaired_resps++;
			s->msg = scratch_msg(s);
			if (!s->msg)
				return -1;
		}
	}
	s->msg->present = true;
	s->msg->first_ts = s->ts;
	s->stop = false;
	framing_begin(&s->fr, s->msg);
	return 0;
}

/* A span of the start line (method, target or reason phrase): *off and
 * *slen, the slice in s->msg, grow by at[0..len). */
static int on_line_span(struct side *s, const char *at, size_t len,
			enum field f, uint32_t *off, uint32_t *slen)
{
	bool fresh = s->field != f;
	long start;

	s->field = f;
	start = msg_append(s->msg, at, len, fresh);
	if (start < 0)
		return 0;
	if (fresh)
		*off = (uint32_t)start;
	*slen += len;
	return 0;
}

/* Makes room for one more header; -1 without memory. */
static __attribute__((noinline)) int hdrs_grow(struct http_msg *m)
{
	size_t cap = m->hdrs_cap ? m->hdrs_cap * 2 : 16;
	struct http_header *nh = realloc(m->hdrs, cap * sizeof(*nh));

	if (!nh)
		return -1;
	m->hdrs = nh;
	m->hdrs_cap = cap;
	return 0;
}

/* A span of a header's name or value.  A new name opens a header; a
 * header whose name or value did not fit is dropped whole rather than
 * shown cut.  Most spans take field_span_fast() instead. */
static __attribute__((noinline)) int
on_field_span(struct side *s, const char *at, size_t len, enum field f)
{
	struct http_msg *m = s->msg;
	bool fresh = s->field != f;
	struct http_header *hd;
	long start;

	s->field = f;
	if (m->head_truncated)
		return 0;
	if (fresh && f == F_HNAME) {
		if (m->nhdrs == HTTP_MSG_HDRS_MAX) {
			m->head_truncated = true;
			return 0;
		}
		if (m->nhdrs == m->hdrs_cap && hdrs_grow(m))
			return -1;
		hd = &m->hdrs[m->nhdrs++];
		*hd = (struct http_header){ 0 };
	} else {
		if (!m->nhdrs)
			return 0;
		hd = &m->hdrs[m->nhdrs - 1];
	}
	start = msg_append(m, at, len, fresh);
	if (start < 0) {
		m->nhdrs--;
		return 0;
	}
	if (f == F_HNAME) {
		if (fresh)
			hd->name_off = (uint32_t)start;
		hd->name_len += len;
	} else {
		if (fresh)
			hd->value_off = (uint32_t)start;
		hd->value_len += len;
	}
	return 0;
}

/* What on_field_span() does with the usual span: a whole name, or the
 * first piece of a value, of at most 32 bytes.  It is copied as one or
 * two blocks of 16 bytes, when that many are readable at at (the buffer
 * llhttp parses goes on: the rest of the head, the body) and free in the
 * message's buf, and no call is made, as it runs for every header twice.
 * Returns false, having done nothing, when the span is not so. */
static inline __attribute__((always_inline)) bool
field_span_fast(struct side *s, struct http_msg *m, const char *at,
		size_t len, enum field f)
{
	size_t off = m->buf_len + (m->buf_len != 0);
	size_t blk = len <= 16 ? 16 : 32;
	struct http_header *hd;
	char *buf;

	if (s->field == f || len > 32 || m->head_truncated ||
	    (size_t)((const char *)s->fr.end - at) < blk ||
	    m->buf_cap - off <= blk)
		return false;
	if (f == F_HNAME) {
		if (m->nhdrs >= m->hdrs_cap || m->nhdrs >= HTTP_MSG_HDRS_MAX)
			return false;
		hd = &m->hdrs[m->nhdrs++];
		hd->name_off = (uint32_t)off;
		hd->name_len = (uint32_t)len;
		hd->value_off = 0;
		hd->value_len = 0;
	} else {
		if (!m->nhdrs)
			return false;
		hd = &m->hdrs[m->nhdrs - 1];
		hd->value_off = (uint32_t)off;
		hd->value_len += (uint32_t)len;
	}
	/* the bytes past the span are overwritten later, or never read;
	 * buf is read once, not again after each copy (which may alias
	 * m as far as the compiler knows) */
	buf = m->buf + off;
	memcpy(buf, at, 16);
	if (blk > 16)
		memcpy(buf + 16, at + 16, 16);
	buf[len] = '\0';
	m->buf_len = off + len;
	s->field = f;
	return true;
}

static int on_method(llhttp_t *p, const char *at, size_t len)
{
	struct side *s = p->data;

	if (!s->msg)
		return 0;
	return on_line_span(s, at, len, F_METHOD, &s->msg->method_off,
			    &s->msg->method_len);
}

/* The version is not kept (llhttp gives it as numbers), but a request
 * line ends with it. */
static int on_version(llhttp_t *p, const char *at, size_t len)
{
	struct side *s = p->data;

	s->field = F_NONE;
	if (s->is_request)
		framing_line_end(&s->fr, (const uint8_t *)at + len);
	return 0;
}

/* A second Content-Length is looked at before llhttp refuses it. */
static int on_header_field_complete(llhttp_t *p)
{
	struct side *s = p->data;
	const struct http_msg *m = s->msg;
	const struct http_header *hd;

	if (!(p->flags & F_CONTENT_LENGTH) || !m || !m->nhdrs || m->head_truncated)
		return 0;
	hd = &m->hdrs[m->nhdrs - 1];
	framing_field(&s->fr, p, m->buf + hd->name_off, hd->name_len);
	return 0;
}

static int on_method_complete(llhttp_t *p)
{
	struct side *s = p->data;

	s->method_ok = true;
	return 0;
}

/* The status is known before the headers: keep it even if they fail. */
static int on_status_complete(llhttp_t *p)
{
	struct side *s = p->data;

	if (s->msg)
		s->msg->status = p->status_code;
	return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
	struct side *s = p->data;

	if (!s->msg)
		return 0;
	return on_line_span(s, at, len, F_URL, &s->msg->target_off,
			    &s->msg->target_len);
}

/* A value or a reason is the last span of its line. */
static int on_status(llhttp_t *p, const char *at, size_t len)
{
	struct side *s = p->data;

	if (!s->msg)
		return 0;
	framing_line_end(&s->fr, (const uint8_t *)at + len);
	return on_line_span(s, at, len, F_STATUS, &s->msg->reason_off,
			    &s->msg->reason_len);
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	struct side *s = p->data;

	if (!s->msg)
		return 0;
	if (len)
		framing_name_piece(&s->fr, at[len - 1]);
	if (field_span_fast(s, s->msg, at, len, F_HNAME))
		return 0;
	return on_field_span(s, at, len, F_HNAME);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	struct side *s = p->data;

	if (!s->msg)
		return 0;
	framing_line_end(&s->fr, (const uint8_t *)at + len);
	/* most end in a letter or a digit: one comparison */
	if (len && (uint8_t)at[len - 1] <= ' ' &&
	    (at[len - 1] == ' ' || at[len - 1] == '\t'))
		s->value_ws = true;
	if (field_span_fast(s, s->msg, at, len, F_HVALUE))
		return 0;
	return on_field_span(s, at, len, F_HVALUE);
}

static int on_headers_complete(llhttp_t *p)
{
	struct side *s = p->data;
	struct http1 *h = s->h;
	struct http_msg *m = s->msg;
	int skip = 0;

	s->field = F_NONE;
	/* RFC 9110 section 5.5: whitespace around a field value is not
	 * part of it (llhttp drops only the leading part).  Values are
	 * looked at only when a piece of one ended in whitespace. */
	if (s->value_ws) {
		for (size_t i = 0; i < m->nhdrs; i++) {
			struct http_header *hd = &m->hdrs[i];

			while (hd->value_len && (m->buf[hd->value_off + hd->value_len - 1] == ' ' ||
						 m->buf[hd->value_off + hd->value_len - 1] == '\t'))
				m->buf[hd->value_off + --hd->value_len] = '\0';
		}
	}
	/* A request whose length cannot be known has none here; what
	 * follows is looked at afresh (execute()). */
	if (framing_headers(&s->fr, p) && s->is_request) {
		s->stop = true;
		skip = 1;
	}
	m->version_major = p->http_major;
	m->version_minor = p->http_minor;
	m->chunked = p->flags & F_CHUNKED;
	if (!s->is_request) {
		m->status = p->status_code;
		/* RFC 9110 sections 15.3.5 and 15.4.5: 1xx, 204 and 304
		 * have no content, whatever Content-Length says (a 304
		 * states the size of what it did not send). */
		if (m->status < 200 || m->status == 204 || m->status == 304)
			skip = 1;
		if (s->txn && !skip) {
			const struct http_msg *rq = &s->txn->req;
			const char *meth = http_str(rq, rq->method_off);

			/* RFC 9112 section 6.3: a response to HEAD has no
			 * body whatever its headers say, and a 2xx to
			 * CONNECT turns the connection into a tunnel. */
			if (rq->method_len == 4 && !memcmp(meth, "HEAD", 4))
				skip = 1;
			else if (rq->method_len == 7 &&
				 !memcmp(meth, "CONNECT", 7) &&
				 m->status >= 200 && m->status < 300)
				skip = 2;
		}
	}
	body_begin(&s->body, m, h->env->max_body);
	s->in_body = !skip;
	return skip;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
	struct side *s = p->data;

	body_feed(&s->body, s->feeding_gap ? NULL : (const uint8_t *)at, len);
	return 0;
}

/* Unlinks t, reports it and frees it. */
static void finish_txn(struct http1 *h, struct txn *t)
{
	struct txn **pp;

	for (pp = &h->head; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			h->queued--;
			break;
		}
	}
	h->tail = NULL;
	for (struct txn *i = h->head; i; i = i->next)
		h->tail = i;
	/* A message still being parsed into t -- a request body after an
	 * early answer (413, say), or a response when t is dropped -- goes
	 * on into the side's scratch message, which nobody reports. */
	for (int d = 0; d < 2; d++) {
		struct side *s = &h->side[d];
		struct http_msg *sm;

		if (s->txn != t)
			continue;
		body_end(&s->body);
		s->txn = NULL;
		sm = scratch_msg(s);
		if (!sm) {
			/* No memory to follow it: the side looks for the
			 * next message (its parser is not running here). */
			side_resync(s);
			continue;
		}
		s->msg = sm;
		s->fr.msg = sm;
		body_begin(&s->body, sm, 0);
	}
	t->next = NULL;
	t->conn = *h->conn;
	if (!t->resp.present)
		h->env->stats->unpaired_reqs++;
	h->env->stats->txns++;
	h->env->emit.txn(h->env->emit.ctx, t);
	txn_put(h->env->pool, t);
}

/* What switched() hands the next protocol is taken before t is emitted:
 * the callee may redact it, and t is reused after. */
static void keep_switched(struct http1 *h, struct txn *t)
{
	struct txn *c = calloc(1, sizeof(*c));

	if (!c)
		return;
	if (http_msg_copy(&c->req, &t->req) || http_msg_copy(&c->resp, &t->resp)) {
		txn_free(c);
		return;
	}
	c->conn = *h->conn;
	c->upgraded = true;
	txn_free(h->switched);
	h->switched = c;
}

static int on_message_complete(llhttp_t *p)
{
	struct side *s = p->data;
	struct http1 *h = s->h;
	struct http_msg *m = s->msg;
	struct txn *t = s->txn;

	body_end(&s->body);
	s->in_body = false;
	s->field = F_NONE;
	m->complete = true;
	m->last_ts = s->ts;
	s->txn = NULL;
	s->msg = NULL;
	framing_abandon(&s->fr);
	if (s->stop) {
		m->complete = false; /* its body's length was unknown */
		return HPE_PAUSED;
	}
	if (s->is_request || !t)
		return 0;
	/* RFC 9110 section 15.2: 1xx responses are interim and the final
	 * one follows; 101 is final for HTTP/1 (the protocol switches). */
	if (m->status >= 100 && m->status < 200 && m->status != 101) {
		t->interim_status = m->status;
		http_msg_reset(&t->resp);
		return 0;
	}
	if (m->status == 101 || (p->upgrade && m->status >= 200 && m->status < 300)) {
		t->upgraded = true;
		h->upgraded = true;
		h->env->stats->upgrades++;
		keep_switched(h, t);
	}
	finish_txn(h, t);
	return 0;
}

/* --- llhttp's parser, calling the callbacks above directly ---------- */

/* llhttp's generated parser (llhttp.c) calls a function llhttp__on_NAME
 * for each event, which llhttp's api.c defines as a call through the
 * parser's settings table.  Here they are defined, before llhttp.c is
 * included below, as static functions that call the callbacks above:
 * the parser's calls become direct ones, which the compiler may inline
 * into it (a span of a header's name or value is two calls, each
 * through two functions, otherwise).  They do what api.c's do with the
 * table that settings_init() fills: an event without a callback
 * returns 0, and a span callback's -1 becomes HPE_USER.  api.c's own
 * definitions stay, unused but by llhttp_finish(), which calls through
 * the table.  llhttp.c declares these after, without "static", which
 * keeps them static (C11 6.2.2p4). */
#define HS_LL_EVENT(name, call)                                               \
	static inline int llhttp__on_##name(llhttp_t *p, const unsigned char *at, \
					    const unsigned char *endp)        \
	{                                                                     \
		(void)at;                                                     \
		(void)endp;                                                   \
		return call;                                                  \
	}
#define HS_LL_SPAN(name)                                                      \
	static inline int llhttp__on_##name(llhttp_t *p, const unsigned char *at, \
					    const unsigned char *endp)        \
	{                                                                     \
		int err = on_##name(p, (const char *)at, (size_t)(endp - at)); \
                                                                              \
		if (err == -1) {                                              \
			err = HPE_USER;                                       \
			llhttp_set_error_reason(p, "Span callback error in on_" #name); \
		}                                                             \
		return err;                                                   \
	}
HS_LL_EVENT(message_begin, on_message_begin(p))
HS_LL_SPAN(method)
HS_LL_EVENT(method_complete, on_method_complete(p))
HS_LL_SPAN(url)
HS_LL_EVENT(url_complete, 0)
HS_LL_SPAN(version)
HS_LL_EVENT(version_complete, 0)
HS_LL_SPAN(status)
HS_LL_EVENT(status_complete, on_status_complete(p))
HS_LL_SPAN(header_field)
HS_LL_EVENT(header_field_complete, on_header_field_complete(p))
HS_LL_SPAN(header_value)
HS_LL_EVENT(header_value_complete, 0)
HS_LL_EVENT(headers_complete, on_headers_complete(p))
HS_LL_SPAN(body)
HS_LL_EVENT(message_complete, on_message_complete(p))
HS_LL_EVENT(chunk_header, 0)
HS_LL_EVENT(chunk_complete, 0)
HS_LL_EVENT(chunk_extension_name_complete, 0)
HS_LL_EVENT(chunk_extension_value_complete, 0)
HS_LL_EVENT(reset, 0)
#undef HS_LL_EVENT
#undef HS_LL_SPAN

/* Chunk extensions are not kept: their spans are events without a
 * callback. */
static inline int llhttp__on_chunk_extension_name(llhttp_t *p, const unsigned char *at,
						  const unsigned char *endp)
{
	(void)p, (void)at, (void)endp;
	return 0;
}

static inline int llhttp__on_chunk_extension_value(llhttp_t *p, const unsigned char *at,
						   const unsigned char *endp)
{
	(void)p, (void)at, (void)endp;
	return 0;
}

/* llhttp's helpers (http.c), which the parser calls at the end of a head
 * and of a message, are compiled in the same way.  They take char where
 * llhttp.c declares unsigned char, so they are compiled under other
 * names, static, and called from functions of llhttp.c's names. */
static int hs_ll_before_headers_complete(llhttp_t *p, const char *at, const char *endp);
static int hs_ll_after_headers_complete(llhttp_t *p, const char *at, const char *endp);
static int hs_ll_after_message_complete(llhttp_t *p, const char *at, const char *endp);
#define llhttp__before_headers_complete hs_ll_before_headers_complete
#define llhttp__after_headers_complete hs_ll_after_headers_complete
#define llhttp__after_message_complete hs_ll_after_message_complete
#include "http.c"
#undef llhttp__before_headers_complete
#undef llhttp__after_headers_complete
#undef llhttp__after_message_complete
#define HS_LL_HELPER(name)                                                    \
	static inline int llhttp__##name(llhttp_t *p, const unsigned char *at,    \
					 const unsigned char *endp)           \
	{                                                                     \
		return hs_ll_##name(p, (const char *)at, (const char *)endp); \
	}
HS_LL_HELPER(before_headers_complete)
HS_LL_HELPER(after_headers_complete)
HS_LL_HELPER(after_message_complete)
#undef HS_LL_HELPER

#ifdef __SSE2__
/* The parser tells the header names it acts on (Connection,
 * Content-Length, Transfer-Encoding, Upgrade, Proxy-Connection), some
 * values, and "HTTP/" and the like, by comparing the bytes that follow
 * with the rest of a word one byte at a time, lowercased or not:
 * llparse__match_sequence_to_lower() and _id(state, p, endp, seq, len),
 * some 11 instructions a byte, 13 for the "ontent-length" of each
 * response.  Where a comparison starts afresh and 16 bytes may be read
 * at p, it is made here on all of them at once (SSE2), with what the
 * loop would give: complete (the word's last byte at .current) or a
 * mismatch (at the first byte that differs).  Otherwise, and across
 * buffers, llhttp's loop runs.  The calls are told from the functions'
 * definitions by their first argument (state, or its declaration), so
 * that each definition keeps its body under another name.  Returns the
 * bytes that match (len: all), or -1 where it cannot tell. */
static inline __attribute__((always_inline)) int
hs_seq_match(uint32_t index, const unsigned char *p, const unsigned char *endp,
	     const unsigned char *seq, uint32_t len, bool lower)
{
	unsigned char want[16] = { 0 };
	__m128i v, up;
	unsigned diff;

	if (index || len > 16 || endp - p < 16)
		return -1;
	memcpy(want, seq, len);
	v = _mm_loadu_si128((const __m128i *)p);
	if (lower) {
		/* as llhttp: 'A' to 'Z' only (a byte >= 0x80 is negative) */
		up = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
				   _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
		v = _mm_or_si128(v, _mm_and_si128(up, _mm_set1_epi8(0x20)));
	}
	diff = ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		       v, _mm_loadu_si128((const __m128i *)want))) &
	       ((1u << len) - 1);
	return diff ? __builtin_ctz(diff) : (int)len;
}
#define HS_SEQ_MATCH(s, p, endp, seq, len, lower, slow)                       \
	({                                                                    \
		int hs_k_ = hs_seq_match((s)->_index, (p), (endp), (seq), (len), lower); \
		hs_k_ < 0 ? slow((s), (p), (endp), (seq), (len))              \
			  : (llparse_match_t){                                \
				    hs_k_ == (int)(len) ? kMatchComplete      \
							: kMatchMismatch,     \
				    (p) + hs_k_ - (hs_k_ == (int)(len)) };    \
	})
#define llparse__match_sequence_to_lower(a, ...) HS_SEQ_LOWER_##a, __VA_ARGS__)
#define HS_SEQ_LOWER_llhttp__internal_t hs_ll_match_sequence_to_lower(llhttp__internal_t
#define HS_SEQ_LOWER_state hs_match_sequence_to_lower(state
#define hs_match_sequence_to_lower(s, p, endp, seq, len) \
	HS_SEQ_MATCH(s, p, endp, seq, len, true, hs_ll_match_sequence_to_lower)
#define llparse__match_sequence_id(a, ...) HS_SEQ_ID_##a, __VA_ARGS__)
#define HS_SEQ_ID_llhttp__internal_t hs_ll_match_sequence_id(llhttp__internal_t
#define HS_SEQ_ID_state hs_match_sequence_id(state
#define hs_match_sequence_id(s, p, endp, seq, len) \
	HS_SEQ_MATCH(s, p, endp, seq, len, false, hs_ll_match_sequence_id)
#endif

/* Generated code: not held to this project's warnings. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wincompatible-pointer-types"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-label"
#pragma GCC diagnostic ignored "-Wunused-function"
#include "llhttp.c"
#pragma GCC diagnostic pop

static void settings_init(void)
{
	if (settings_ready)
		return;
	llhttp_settings_init(&settings);
	settings.on_message_begin = on_message_begin;
	settings.on_method = on_method;
	settings.on_method_complete = on_method_complete;
	settings.on_version = on_version;
	settings.on_header_field_complete = on_header_field_complete;
	settings.on_url = on_url;
	settings.on_status = on_status;
	settings.on_status_complete = on_status_complete;
	settings.on_header_field = on_header_field;
	settings.on_header_value = on_header_value;
	settings.on_headers_complete = on_headers_complete;
	settings.on_body = on_body;
	settings.on_message_complete = on_message_complete;
	parse = llhttp__internal_execute;
#ifdef HS_LLHTTP_SSE42
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		parse = llhttp__internal_execute_sse42;
#endif
	settings_ready = true;
}

/* --- the connection ------------------------------------------------- */

static void side_init(struct http1 *h, int dir, bool is_request)
{
	struct side *s = &h->side[dir];

	s->h = h;
	s->is_request = is_request;
	llhttp_init(&s->parser, is_request ? HTTP_REQUEST : HTTP_RESPONSE,
		    &settings);
	s->parser.data = s;
	/* A tracer sees what the peers accepted: it must not stop at a
	 * "Connection: close" that they chose to ignore. */
	llhttp_set_lenient_keep_alive(&s->parser, 1);
	/* RFC 9112 section 6.3 item 3: with both, Transfer-Encoding wins;
	 * peers accepted the message, so must we. */
	llhttp_set_lenient_chunked_length(&s->parser, 1);
	/* Section 6.3 item 4: a response whose Transfer-Encoding does not
	 * end in chunked is read until the close; a request's is flagged
	 * (framing.c). */
	llhttp_set_lenient_transfer_encoding(&s->parser, 1);
	/* Section 2.2: many peers take a bare LF for a line's end, and
	 * bytes that are not field-vchar in a value (which the writers
	 * escape); such a message is reported, flagged. */
	llhttp_set_lenient_headers(&s->parser, 1);
	framing_init(&s->fr, h->env->stats, is_request);
}

static void *http1_new(const struct proto_env *env, const struct conn_info *conn,
		       const struct proto_switch *from)
{
	struct http1 *h = calloc(1, sizeof(*h));

	(void)from;
	if (!h)
		return NULL;
	settings_init();
	h->env = env;
	h->conn = conn;
	h->req_dir = -1;
	if (conn->role == HS_ROLE_CLIENT)
		h->req_dir = HS_DIR_SEND;
	else if (conn->role == HS_ROLE_SERVER)
		h->req_dir = HS_DIR_RECV;
	if (h->req_dir >= 0) {
		side_init(h, h->req_dir, true);
		side_init(h, 1 - h->req_dir, false);
	}
	return h;
}

static void http1_free(void *p)
{
	struct http1 *h = p;
	struct txn *t, *next;

	if (!h)
		return;
	txn_free(h->switched);
	for (t = h->head; t; t = next) {
		next = t->next;
		txn_free(t);
	}
	for (int d = 0; d < 2; d++) {
		body_end(&h->side[d].body);
		if (h->side[d].scratch) {
			http_msg_reset(h->side[d].scratch);
			free(h->side[d].scratch);
		}
	}
	free(h);
}

bool http1_looks_like_start(const uint8_t *d, size_t len, bool is_request)
{
	static const char *const methods[] = {
		"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "PATCH ",
		"OPTIONS ", "CONNECT ", "TRACE ",
	};

	if (!is_request)
		return len >= 7 && !memcmp(d, "HTTP/1.", 7);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t n = strlen(methods[i]);

		if (len >= n && !memcmp(d, methods[i], n))
			return true;
	}
	return false;
}

/* The message in progress on a side cannot be finished: report what
 * there is, and start over at the next message boundary. */
static void lose_sync(struct http1 *h, struct side *s, const char *why,
		      bool garbage)
{
	struct txn *t = s->txn;

	body_end(&s->body);
	s->txn = NULL;
	side_resync(s);
	if (!t)
		return;
	if (s->is_request && garbage && !s->method_ok) {
		/* Not even a method parsed: these bytes were never a
		 * request, and reporting one would be making it up. */
		struct txn **pp;

		for (pp = &h->head; *pp && *pp != t; pp = &(*pp)->next)
			;
		if (*pp) {
			*pp = t->next;
			h->queued--;
		}
		h->tail = NULL;
		for (struct txn *i = h->head; i; i = i->next)
			h->tail = i;
		txn_put(h->env->pool, t);
		return;
	}
	if (!t->error)
		t->error = why;
	if (!s->is_request)
		finish_txn(h, t);
}

/* Parses data; returns PROTO_SWITCH, with *used the bytes that were
 * HTTP, once a 101 (or a CONNECT 2xx) ended HTTP/1 on the connection. */
static int execute(struct http1 *h, struct side *s, const uint8_t *data,
		   size_t len, size_t *used)
{
	const uint8_t *p = data, *end = data + len;
	llhttp_errno_t err;

	for (;;) {
		err = (llhttp_errno_t)parse(&s->parser, (const char *)p,
					    (const char *)end);
		if (err == HPE_OK)
			return 0;
		if (err == HPE_PAUSED) {
			/* A request of unknown length (framing.c): the
			 * next message is looked for where a syscall starts
			 * one. */
			p = (const uint8_t *)llhttp_get_error_pos(&s->parser);
			h->env->stats->resync_bytes += end - p;
			llhttp_reset(&s->parser);
			s->parser.data = s;
			s->resync = true;
			return 0;
		}
		if (err != HPE_PAUSED_UPGRADE)
			break;
		p = (const uint8_t *)llhttp_get_error_pos(&s->parser);
		if (h->upgraded) {
			*used = p - data;
			return PROTO_SWITCH;
		}
		/* A request asked to upgrade: go on parsing HTTP until a
		 * 101 (or a CONNECT 2xx) says the protocol changed. */
		llhttp_resume_after_upgrade(&s->parser);
		if (p >= end)
			return 0;
	}
	h->env->stats->parse_errors++;
	framing_error(&s->fr, &s->parser, err, data,
		      (const uint8_t *)llhttp_get_error_pos(&s->parser), s->field == F_HNAME);
	lose_sync(h, s, s->is_request ? "unparsable request" : "unparsable response",
		  true);
	return 0;
}

static int http1_data(void *p, int dir, const uint8_t *data, size_t len,
		      uint64_t ts, size_t *used)
{
	struct http1 *h = p;
	struct side *s;

	if (h->upgraded) {
		*used = 0;
		return PROTO_SWITCH;
	}
	if (!len)
		return 0;
	if (h->req_dir < 0) {
		/* Role unknown: the first bytes tell which way requests
		 * flow. */
		bool resp = http1_looks_like_start(data, len, false);

		h->req_dir = resp ? 1 - dir : dir;
		side_init(h, h->req_dir, true);
		side_init(h, 1 - h->req_dir, false);
	}
	s = &h->side[dir];
	if (s->resync) {
		if (!http1_looks_like_start(data, len, s->is_request)) {
			h->env->stats->resync_bytes += len;
			return 0;
		}
		s->resync = false;
	}
	s->ts = ts;
	framing_buffer(&s->fr, data, len);
	return execute(h, s, data, len, used);
}

static void http1_gap(void *ph, int dir, uint64_t len, uint64_t ts)
{
	struct http1 *h = ph;
	struct side *s;
	size_t used;
	llhttp_t *p;
	bool bridgeable;

	if (h->upgraded || h->req_dir < 0 || !len)
		return;
	s = &h->side[dir];
	p = &s->parser;
	if (s->resync)
		return;
	if (!s->msg) {
		/* Between messages: the lost bytes began a message.  On the
		 * response side that was the oldest waiting request's
		 * answer, which must not go to the next one. */
		if (!s->is_request && h->head) {
			struct txn *t = h->head;

			t->error = "response lost to a capture gap";
			finish_txn(h, t);
		}
		s->resync = true;
		llhttp_reset(&s->parser);
		s->parser.data = s;
		return;
	}
	/* Inside a body whose extent llhttp knows -- the rest of a
	 * Content-Length body or of a chunk, or a close-delimited response
	 * body -- zeros keep the framing exact (RFC 9112 section 6.3). */
	bridgeable = s->in_body &&
		     (p->content_length >= len ||
		      (!(p->flags & (F_CHUNKED | F_CONTENT_LENGTH)) &&
		       !s->is_request));
	if (!bridgeable) {
		lose_sync(h, s, s->is_request ? "request lost to a capture gap"
					      : "response lost to a capture gap", false);
		return;
	}
	s->ts = ts;
	if (!(p->flags & (F_CHUNKED | F_CONTENT_LENGTH))) {
		/* Close-delimited: the body just grows; llhttp need not
		 * see bytes it would only count. */
		body_feed(&s->body, NULL, len);
		return;
	}
	/* Skip all but the last lost byte by moving llhttp's count of what
	 * the body (or chunk) still holds -- it is a public field of
	 * llhttp_t -- so a 10 GB gap costs what a 1-byte one does; the
	 * last byte goes through llhttp as a zero, so that it ends the body
	 * or chunk with its own callbacks. */
	if (len > 1) {
		p->content_length -= len - 1;
		body_feed(&s->body, NULL, len - 1);
	}
	/* The last byte of a body cannot end HTTP/1 (a 101 has none): a
	 * switch is told by the next http1_data(). */
	s->feeding_gap = true;
	framing_buffer(&s->fr, zeros, 1);
	execute(h, s, zeros, 1, &used);
	s->feeding_gap = false;
}

static void http1_close(void *p, uint64_t ts, const char *why)
{
	struct http1 *h = p;
	struct txn *t;

	if (h->req_dir < 0)
		return;
	if (!h->upgraded) {
		struct side *rs = &h->side[1 - h->req_dir];

		/* RFC 9112 section 6.3 item 8: a body without a length ends
		 * with the connection. */
		if (!rs->resync && rs->msg && llhttp_message_needs_eof(&rs->parser)) {
			rs->ts = ts;
			llhttp_finish(&rs->parser);
		}
	}
	while ((t = h->head)) {
		struct side *rs = &h->side[1 - h->req_dir];

		if (!t->error)
			t->error = t->resp.present ? "connection ended mid-response" : why;
		if (rs->txn == t) {
			body_end(&rs->body);
			rs->txn = NULL;
			rs->msg = NULL;
		}
		finish_txn(h, t);
	}
}

/* RFC 9110 section 7.8: the 101's Upgrade names the protocol switched
 * to (the lowest layer first); a CONNECT tunnel names none. */
static void http1_switched(void *p, struct proto_switch *sw)
{
	struct http1 *h = p;
	const struct txn *t = h->switched;
	const char *v;
	size_t len = 0;

	sw->req_dir = h->req_dir;
	sw->txn = t;
	sw->to = NULL;
	sw->to_len = 0;
	if (!t || t->resp.status != 101)
		return;
	v = http_msg_header(&t->resp, "Upgrade", &len);
	if (!v)
		return;
	util_trim_ows(&v, &len);
	sw->to = v;
	for (sw->to_len = 0; sw->to_len < len && v[sw->to_len] != ',' &&
			     v[sw->to_len] != ' ' && v[sw->to_len] != '\t'; sw->to_len++)
		;
}

static enum proto_guess http1_detect(const uint8_t *data, size_t len, int dir,
				     const struct conn_info *conn)
{
	(void)dir;
	(void)conn;
	return http1_looks_like_start(data, len, true) ||
	       http1_looks_like_start(data, len, false) ? PROTO_YES : PROTO_NO;
}

const struct proto_ops http1_proto = {
	.name = "http/1",
	.detect = http1_detect,
	.new = http1_new,
	.data = http1_data,
	.gap = http1_gap,
	.switched = http1_switched,
	.close = http1_close,
	.free = http1_free,
};
