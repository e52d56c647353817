/* txn.c -- the transaction model's accessors (headers, content-coding, times, roles) and the pool that recycles transactions. */
#include "core/txn.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* --- accessors ------------------------------------------------------- */

/* Whether [off, off + len) lies inside m->buf. */
static bool slice_ok(const struct http_msg *m, uint32_t off, uint32_t len)
{
	return m->buf && off <= m->buf_len && len <= m->buf_len - off;
}

const char *http_msg_header_n(const struct http_msg *m, const char *name,
			      size_t n, size_t *len)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct http_header *h = &m->hdrs[i];

		if (h->name_len == n && slice_ok(m, h->name_off, h->name_len) &&
		    slice_ok(m, h->value_off, h->value_len) &&
		    strncasecmp(m->buf + h->name_off, name, n) == 0) {
			*len = h->value_len;
			return m->buf + h->value_off;
		}
	}
	return NULL;
}

enum http_coding http_msg_coding(const struct http_msg *m, const char **name,
				 size_t *len)
{
	const char *v = http_msg_header(m, "Content-Encoding", len);

	if (!v) {
		*name = "unknown";
		*len = 7;
		return HTTP_CODING_NONE;
	}
	util_trim_ows(&v, len);
	if (util_token_eq(v, *len, "gzip") || util_token_eq(v, *len, "x-gzip")) {
		*name = "gzip";
		*len = 4;
		return HTTP_CODING_GZIP;
	}
	if (util_token_eq(v, *len, "deflate")) {
		*name = "deflate";
		*len = 7;
		return HTTP_CODING_DEFLATE;
	}
	*name = v;
	return HTTP_CODING_OTHER;
}

uint64_t txn_time(const struct txn *t, int64_t clock_offset_ns)
{
	return txn_realtime(t->req.present || !t->resp.present ? t->req.first_ts
								: t->resp.first_ts,
			    clock_offset_ns);
}

uint64_t txn_realtime(uint64_t mono, int64_t clock_offset_ns)
{
	uint64_t back;

	if (clock_offset_ns >= 0) {
		uint64_t r = mono + (uint64_t)clock_offset_ns;

		return r < mono ? UINT64_MAX : r;
	}
	back = (uint64_t)(-(clock_offset_ns + 1)) + 1;
	return mono > back ? mono - back : 0;
}

bool txn_latency(const struct txn *t, uint64_t *ns)
{
	if (!t->req.present || !t->resp.present || !t->resp.complete ||
	    t->resp.last_ts < t->req.first_ts)
		return false;
	*ns = t->resp.last_ts - t->req.first_ts;
	return true;
}

bool txn_ttfb(const struct txn *t, uint64_t *ns)
{
	if (!t->req.present || !t->req.complete || !t->resp.present ||
	    t->resp.first_ts < t->req.last_ts)
		return false;
	*ns = t->resp.first_ts - t->req.last_ts;
	return true;
}

const char *ws_opcode_name(uint8_t opcode)
{
	static const char *const names[16] = {
		[WS_CONTINUATION] = "continuation", [WS_TEXT] = "text",
		[WS_BINARY] = "binary", [WS_CLOSE] = "close", [WS_PING] = "ping",
		[WS_PONG] = "pong", [3] = "opcode-3", [4] = "opcode-4",
		[5] = "opcode-5", [6] = "opcode-6", [7] = "opcode-7",
		[11] = "opcode-11", [12] = "opcode-12", [13] = "opcode-13",
		[14] = "opcode-14", [15] = "opcode-15",
	};

	return names[opcode & 15];
}

const char *txn_role_name(uint8_t role)
{
	switch (role) {
	case HS_ROLE_CLIENT:
		return "client";
	case HS_ROLE_SERVER:
		return "server";
	default:
		return "unknown";
	}
}

static const char *const anomaly_names[HTTP_ANOM_MAX][2] = {
	[HTTP_ANOM_CL_TE] = { "cl-te",
		"Content-Length and Transfer-Encoding both (RFC 9112 6.3)" },
	[HTTP_ANOM_CL_DIFFER] = { "cl-differ",
		"Content-Length values that differ (RFC 9112 6.3)" },
	[HTTP_ANOM_TE_NOT_CHUNKED] = { "te-not-chunked",
		"Transfer-Encoding not ending in chunked: length unknown (RFC 9112 6.3)" },
	[HTTP_ANOM_OBS_FOLD] = { "obs-fold",
		"a header continued on the next line (obs-fold, RFC 9112 5.2)" },
	[HTTP_ANOM_SPACE_COLON] = { "space-before-colon",
		"whitespace before a header's colon (RFC 9112 5.1)" },
	[HTTP_ANOM_BARE_LF] = { "bare-lf",
		"a line ending in LF without CR (RFC 9112 2.2)" },
	[HTTP_ANOM_AFTER_AMBIGUOUS] = { "after-ambiguous",
		"follows ambiguous framing: the server may not have read this request" },
};

const char *http_anomaly_name(enum http_anomaly a)
{
	return a < HTTP_ANOM_MAX ? anomaly_names[a][0] : "unknown";
}

const char *http_anomaly_text(enum http_anomaly a)
{
	return a < HTTP_ANOM_MAX ? anomaly_names[a][1] : "unknown";
}

/* --- messages -------------------------------------------------------- */

const char *txn_proto_name(const struct txn *t)
{
	const struct http_msg *m = t->req.present ? &t->req : &t->resp;

	if (t->proto == TXN_H2)
		return "h2";
	return m->version_major == 1 && m->version_minor == 0 ? "http/1.0" :
								"http/1.1";
}

const char *txn_grpc_status_name(int status)
{
	/* grpc/doc/statuscodes.md */
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
		"PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
		"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	};

	if (status < 0 || status >= (int)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[status];
}

void txn_grpc_free(struct txn_grpc *g)
{
	if (!g)
		return;
	free(g->message);
	free(g->preview[0]);
	free(g->preview[1]);
	free(g);
}

void http_msg_reset(struct http_msg *m)
{
	free(m->buf);
	free(m->hdrs);
	free(m->trailers);
	free(m->preview);
	memset(m, 0, sizeof(*m));
}

static void *dup_mem(const void *p, size_t n)
{
	void *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

int http_msg_copy(struct http_msg *dst, const struct http_msg *src)
{
	*dst = *src;
	dst->buf = NULL;
	dst->hdrs = NULL;
	dst->trailers = NULL;
	dst->preview = NULL;
	dst->preview_cap = 0;
	dst->buf_cap = src->buf ? src->buf_len + 1 : 0;
	dst->hdrs_cap = src->nhdrs;
	dst->trailers_cap = src->ntrailers;
	if ((src->buf && !(dst->buf = dup_mem(src->buf, src->buf_len + 1))) ||
	    (src->nhdrs && !(dst->hdrs = dup_mem(src->hdrs, src->nhdrs * sizeof(*src->hdrs)))) ||
	    (src->ntrailers && !(dst->trailers = dup_mem(src->trailers,
							src->ntrailers * sizeof(*src->trailers)))) ||
	    (src->preview && !(dst->preview = dup_mem(src->preview, src->preview_len)))) {
		http_msg_reset(dst);
		return -ENOMEM;
	}
	return 0;
}

/* --- the pool -------------------------------------------------------- */

struct txn_pool {
	struct txn *free; /* linked by next */
	size_t n;
	size_t max_body; /* the size of the previews they hold */
};

struct txn_pool *txn_pool_new(size_t max_body)
{
	struct txn_pool *pool = calloc(1, sizeof(*pool));

	if (pool)
		pool->max_body = max_body;
	return pool;
}

void txn_free(struct txn *t)
{
	if (!t)
		return;
	http_msg_reset(&t->req);
	http_msg_reset(&t->resp);
	txn_grpc_free(t->grpc);
	free(t);
}

void txn_pool_free(struct txn_pool *pool)
{
	struct txn *t, *next;

	if (!pool)
		return;
	for (t = pool->free; t; t = next) {
		next = t->next;
		txn_free(t);
	}
	free(pool);
}

/* Empties a message for the pool.  Its buffers are kept unless they are
 * larger than TXN_POOL_KEEP (a large -b, headers of 64 KB), so that the
 * pool stays small.  buf starts with a NUL, so that every slice of the
 * empty message reads "" as with no buf. */
static void msg_clear(struct http_msg *m, size_t preview_size)
{
	if (m->buf_cap > TXN_POOL_KEEP) {
		free(m->buf);
		m->buf = NULL;
		m->buf_cap = 0;
	}
	if (m->hdrs_cap * sizeof(*m->hdrs) > TXN_POOL_KEEP) {
		free(m->hdrs);
		m->hdrs = NULL;
		m->hdrs_cap = 0;
	}
	if (m->trailers_cap * sizeof(*m->trailers) > TXN_POOL_KEEP) {
		free(m->trailers);
		m->trailers = NULL;
		m->trailers_cap = 0;
	}
	if (preview_size > TXN_POOL_KEEP) {
		free(m->preview);
		m->preview = NULL;
		m->preview_cap = 0;
	}
	/* What the message said goes; its allocations, first in it,
	 * stay. */
	memset(&m->present, 0, sizeof(*m) - offsetof(struct http_msg, present));
	if (m->buf)
		m->buf[0] = '\0';
}

struct txn *txn_get(struct txn_pool *pool)
{
	struct txn *t;

	if (!pool || !pool->free)
		return calloc(1, sizeof(*t));
	t = pool->free;
	pool->free = t->next;
	pool->n--;
	t->next = NULL;
	return t;
}

/* txn_put() empties the messages in place and zeroes what lies around
 * them, rather than copying them out and back into a zeroed txn. */
_Static_assert(offsetof(struct txn, resp) ==
		       offsetof(struct txn, req) + sizeof(struct http_msg),
	       "req and resp are next to each other");

void txn_put(struct txn_pool *pool, struct txn *t)
{
	size_t tail = offsetof(struct txn, resp) + sizeof(t->resp);

	if (!pool || pool->n >= TXN_POOL_MAX) {
		txn_free(t);
		return;
	}
	txn_grpc_free(t->grpc);
	msg_clear(&t->req, pool->max_body);
	msg_clear(&t->resp, pool->max_body);
	memset(t, 0, offsetof(struct txn, req));
	memset((char *)t + tail, 0, sizeof(*t) - tail);
	t->next = pool->free;
	pool->free = t;
	pool->n++;
}
