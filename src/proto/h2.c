/* h2.c -- HTTP/2 over a reassembled connection (RFC 9113): one transaction per stream, gRPC calls among them.
 *
 * Each direction has a frame parser (h2_frame) and an HPACK decoder
 * (hpack) for the header blocks it carries.  Every block is decoded, in
 * wire order, into a scratch message first -- also blocks of streams
 * that are not reported, so that the table stays in step -- and then
 * becomes what its stream and direction make it: a request (the
 * client's first block on a new stream, or a PUSH_PROMISE), a response
 * (1xx ones are interim), or trailers.  Which direction is the client's
 * is known from the connection's role, from an h2c upgrade, or, on a
 * connection joined midway, from the first block that says (:method or
 * :status).
 *
 * SETTINGS cross the directions (section 6.5.3): a table size one side
 * sets applies to the other side's blocks once the other side
 * acknowledges it, a frame size at once (only ever accepting more).
 */
#include "proto/h2.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "proto/body.h"
#include "proto/grpc.h"
#include "proto/h2_frame.h"
#include "proto/hpack.h"

#define H2_BUCKETS 64 /* stream hash buckets (a power of two) */

enum { REQ, RESP };

struct h2_stream {
	uint32_t id;
	struct txn *t;
	struct body body[2];	 /* REQ, RESP */
	bool body_on[2];	 /* body_begin() done, body_end() not */
	bool ended[2];		 /* END_STREAM seen (or implied) */
	bool final;		 /* the final response's headers came */
	bool grpc;
	bool grpc_maybe;	 /* the request's content-type could not be
				  * decoded: messages are counted in case
				  * the response says gRPC */
	enum grpc_coding coding[2];
	struct grpc_dir g[2];
	struct h2_stream *next; /* hash chain */
};

struct h2;

struct h2_side {
	struct h2 *h;
	int dir; /* enum hs_dir */
	struct h2_frame_parser *fp;
	struct hpack *hp; /* for the blocks this direction carries */
	uint64_t ts;	  /* of the bytes being parsed */
	bool fed;	  /* bytes of it were parsed */
	uint64_t blocks;  /* header blocks it carried */
};

/* What pseudo-headers the block being decoded had. */
#define P_METHOD 0x01
#define P_PATH 0x02
#define P_STATUS 0x04
#define P_REQUEST 0x08 /* :scheme, :authority or :protocol */

struct h2 {
	const struct proto_env *env;
	const struct conn_info *conn;
	struct h2_side side[2];
	int client_dir;		  /* -1 until known */
	uint32_t last_client_id;  /* highest stream a request opened */
	struct h2_stream *bucket[H2_BUCKETS];
	size_t nstreams;
	struct http_msg scratch;  /* the block being decoded */
	unsigned pseudo;	  /* P_* of it */
	bool any_block;		  /* a header block was decoded */
	bool unsure;		  /* role unknown, no byte seen yet: is it
				   * the connection's start after all? */
	struct h2_frame_stats fst, fst_seen; /* both parsers', and what
					      * env->stats has of them */
	struct hpack_stats hst, hst_seen;
};

/* --- error strings (static: a transaction's error is one) ------------ */

#define H2_ERRORS(X)                                                          \
	X(NO_ERROR) X(PROTOCOL_ERROR) X(INTERNAL_ERROR) X(FLOW_CONTROL_ERROR) \
	X(SETTINGS_TIMEOUT) X(STREAM_CLOSED) X(FRAME_SIZE_ERROR)              \
	X(REFUSED_STREAM) X(CANCEL) X(COMPRESSION_ERROR) X(CONNECT_ERROR)     \
	X(ENHANCE_YOUR_CALM) X(INADEQUATE_SECURITY) X(HTTP_1_1_REQUIRED)
#define RESET(name) "stream reset: " #name,
#define GOAWAY(name) "not processed: GOAWAY " #name,

static const char *const reset_errors[] = { H2_ERRORS(RESET) };
static const char *const goaway_errors[] = { H2_ERRORS(GOAWAY) };
#define N_ERRORS (sizeof(reset_errors) / sizeof(reset_errors[0]))

static const char *reset_error(uint32_t code)
{
	return code < N_ERRORS ? reset_errors[code] : "stream reset: unknown error code";
}

static const char *goaway_error(uint32_t code)
{
	return code < N_ERRORS ? goaway_errors[code] :
				 "not processed: GOAWAY with an unknown error code";
}

/* --- messages --------------------------------------------------------- */

/* Appends a name and a value, each a NUL-terminated slice of m->buf, as
 * a header of *arr; false when past HTTP_MSG_BUF_MAX or
 * HTTP_MSG_HDRS_MAX (or out of memory). */
static bool field_add(struct http_msg *m, struct http_header **arr, size_t *n,
		      size_t *cap, const uint8_t *name, size_t nlen,
		      const uint8_t *value, size_t vlen)
{
	size_t off = m->buf_len ? m->buf_len + 1 : 0;
	size_t need = off + nlen + 1 + vlen + 1;
	struct http_header *hd;

	if (*n == HTTP_MSG_HDRS_MAX || need > HTTP_MSG_BUF_MAX)
		return false;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;

		hd = realloc(*arr, c * sizeof(*hd));
		if (!hd)
			return false;
		*arr = hd;
		*cap = c;
	}
	if (need > m->buf_cap) {
		size_t c = m->buf_cap ? m->buf_cap : 256;
		char *nb;

		while (c < need)
			c *= 2;
		if (c > HTTP_MSG_BUF_MAX)
			c = HTTP_MSG_BUF_MAX;
		nb = realloc(m->buf, c);
		if (!nb)
			return false;
		m->buf = nb;
		m->buf_cap = c;
	}
	hd = &(*arr)[(*n)++];
	hd->name_off = (uint32_t)off;
	hd->name_len = (uint32_t)nlen;
	memcpy(m->buf + off, name, nlen);
	m->buf[off + nlen] = '\0';
	hd->value_off = (uint32_t)(off + nlen + 1);
	hd->value_len = (uint32_t)vlen;
	memcpy(m->buf + hd->value_off, value, vlen);
	m->buf[hd->value_off + vlen] = '\0';
	m->buf_len = hd->value_off + vlen;
	return true;
}

static bool name_is(const uint8_t *name, size_t nlen, const char *s)
{
	return nlen == strlen(s) && !memcmp(name, s, nlen);
}

/* Section 8.3: the pseudo-headers.  A request's :method and :path are the
 * method and target slices; a response's :status its status. */
static void pseudo(struct h2 *h, const struct http_header *hd,
		   const uint8_t *name, size_t nlen, const uint8_t *v, size_t vlen)
{
	struct http_msg *m = &h->scratch;

	if (name_is(name, nlen, ":method")) {
		m->method_off = hd->value_off;
		m->method_len = hd->value_len;
		h->pseudo |= P_METHOD;
	} else if (name_is(name, nlen, ":path")) {
		m->target_off = hd->value_off;
		m->target_len = hd->value_len;
		h->pseudo |= P_PATH;
	} else if (name_is(name, nlen, ":status")) {
		if (vlen == 3 && v[0] >= '1' && v[0] <= '9' && v[1] >= '0' &&
		    v[1] <= '9' && v[2] >= '0' && v[2] <= '9') {
			m->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + v[2] - '0';
			h->pseudo |= P_STATUS;
		}
	} else if (name_is(name, nlen, ":scheme") ||
		   name_is(name, nlen, ":authority") ||
		   name_is(name, nlen, ":protocol")) {
		h->pseudo |= P_REQUEST;
	}
}

static void on_field(void *ctx, const uint8_t *name, size_t nlen,
		     const uint8_t *value, size_t vlen, bool sensitive)
{
	struct h2 *h = ctx;
	struct http_msg *m = &h->scratch;

	if (!field_add(m, &m->hdrs, &m->nhdrs, &m->hdrs_cap, name, nlen, value,
		       vlen)) {
		m->head_truncated = true;
		return;
	}
	if (nlen > 1 && name[0] == ':')
		pseudo(h, &m->hdrs[m->nhdrs - 1], name, nlen, value, vlen);
}

static void scratch_reset(struct h2 *h)
{
	struct http_msg *m = &h->scratch;

	*m = (struct http_msg){ .buf = m->buf, .buf_cap = m->buf_cap,
				.hdrs = m->hdrs, .hdrs_cap = m->hdrs_cap };
	h->pseudo = 0;
}

/* Moves the decoded block into dst (an empty message), swapping buffers
 * so that nothing is copied. */
static void take_scratch(struct h2 *h, struct http_msg *dst,
			 const struct hpack_result *res, uint64_t ts)
{
	struct http_msg *s = &h->scratch;
	char *buf = dst->buf;
	size_t buf_cap = dst->buf_cap, hdrs_cap = dst->hdrs_cap;
	struct http_header *hdrs = dst->hdrs;

	dst->buf = s->buf;
	dst->buf_len = s->buf_len;
	dst->buf_cap = s->buf_cap;
	dst->hdrs = s->hdrs;
	dst->nhdrs = s->nhdrs;
	dst->hdrs_cap = s->hdrs_cap;
	dst->method_off = s->method_off;
	dst->method_len = s->method_len;
	dst->target_off = s->target_off;
	dst->target_len = s->target_len;
	dst->status = s->status;
	dst->head_truncated = s->head_truncated;
	dst->present = true;
	dst->version_major = 2;
	dst->version_minor = 0;
	dst->first_ts = dst->last_ts = ts;
	dst->hdrs_undecoded = res->unknown;
	dst->hdrs_incomplete = res->incomplete || s->head_truncated;
	s->buf = buf;
	s->buf_cap = buf_cap;
	s->hdrs = hdrs;
	s->hdrs_cap = hdrs_cap;
	if (s->buf)
		s->buf[0] = '\0';
}

/* Appends the decoded block to dst as trailers. */
static void add_trailers(struct h2 *h, struct http_msg *dst,
			 const struct hpack_result *res)
{
	const struct http_msg *s = &h->scratch;
	size_t i;

	for (i = 0; i < s->nhdrs; i++) {
		const struct http_header *f = &s->hdrs[i];

		if (!field_add(dst, &dst->trailers, &dst->ntrailers,
			       &dst->trailers_cap,
			       (const uint8_t *)s->buf + f->name_off, f->name_len,
			       (const uint8_t *)s->buf + f->value_off, f->value_len)) {
			dst->head_truncated = true;
			break;
		}
	}
	dst->hdrs_undecoded += res->unknown;
	if (res->incomplete || s->head_truncated)
		dst->hdrs_incomplete = true;
}

/* --- streams ------------------------------------------------------------ */

static struct h2_stream **slot_of(struct h2 *h, uint32_t id)
{
	struct h2_stream **pp = &h->bucket[util_hash64(id) & (H2_BUCKETS - 1)];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static struct h2_stream *stream_find(struct h2 *h, uint32_t id)
{
	return *slot_of(h, id);
}

/* A new stream with an empty transaction, or NULL (counted when past
 * H2_STREAMS_MAX). */
static struct h2_stream *stream_add(struct h2 *h, uint32_t id)
{
	struct h2_stream *st, **pp = slot_of(h, id);

	if (*pp)
		return NULL;
	if (h->nstreams == H2_STREAMS_MAX) {
		h->env->stats->h2_streams_over++;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->t = txn_get(h->env->pool);
	if (!st->t) {
		free(st);
		return NULL;
	}
	st->id = id;
	*pp = st;
	h->nstreams++;
	return st;
}

/* Unlinks and frees st (its transaction is gone already). */
static void stream_del(struct h2 *h, struct h2_stream *st)
{
	struct h2_stream **pp = slot_of(h, st->id);

	*pp = st->next;
	h->nstreams--;
	grpc_dir_free(&st->g[REQ]);
	grpc_dir_free(&st->g[RESP]);
	free(st);
}

static struct http_msg *msg_of(struct h2_stream *st, int k)
{
	return k == REQ ? &st->t->req : &st->t->resp;
}

/* Where a field is: the first of name in arr (names are lowercase in
 * HTTP/2). */
static const char *field_find(const struct http_msg *m,
			      const struct http_header *arr, size_t n,
			      const char *name, size_t *len)
{
	size_t nl = strlen(name), i;

	for (i = 0; i < n; i++)
		if (arr[i].name_len == nl && !memcmp(m->buf + arr[i].name_off, name, nl)) {
			*len = arr[i].value_len;
			return m->buf + arr[i].value_off;
		}
	return NULL;
}

/* The gRPC block of a finished call: what :path, the trailers (or a
 * Trailers-Only response's headers) and the messages said. */
static void grpc_finish(struct h2 *h, struct h2_stream *st)
{
	struct txn *t = st->t;
	struct txn_grpc *g = calloc(1, sizeof(*g));
	const char *v, *svc, *meth;
	size_t len, svc_len, meth_len, cap = h->env->max_body + 1;
	bool limited = false;
	long code;
	char num[16];

	if (!g)
		return;
	g->status = -1;
	if (t->req.present && t->req.buf &&
	    !grpc_split_path(t->req.buf + t->req.target_off, t->req.target_len,
			     &svc, &svc_len, &meth, &meth_len)) {
		g->service_off = (uint32_t)(svc - t->req.buf);
		g->service_len = (uint32_t)svc_len;
		g->method_off = (uint32_t)(meth - t->req.buf);
		g->method_len = (uint32_t)meth_len;
	}
	v = field_find(&t->resp, t->resp.trailers, t->resp.ntrailers, "grpc-status", &len);
	if (!v)
		v = field_find(&t->resp, t->resp.hdrs, t->resp.nhdrs, "grpc-status", &len);
	if (v && len < sizeof(num)) {
		memcpy(num, v, len);
		num[len] = '\0';
		if (!util_parse_long(num, 0, 0x7fffffff, &code))
			g->status = (int)code;
	}
	v = field_find(&t->resp, t->resp.trailers, t->resp.ntrailers, "grpc-message", &len);
	if (!v)
		v = field_find(&t->resp, t->resp.hdrs, t->resp.nhdrs, "grpc-message", &len);
	if (v && (g->message = malloc(len + 1)))
		grpc_percent_decode(v, len, g->message, len + 1);
	for (int k = REQ; k <= RESP; k++) {
		g->msgs[k] = st->g[k].messages;
		g->bytes[k] = st->g[k].bytes;
		g->msgs_lost[k] = st->g[k].lost_sync;
		if (st->g[k].messages && (g->preview[k] = malloc(cap)))
			grpc_dir_preview(&st->g[k], st->coding[k], g->preview[k], cap,
					 &limited);
	}
	if (limited)
		h->env->stats->grpc_decode_cut++;
	t->grpc = g;
}

/* Reports st and forgets it.  error explains a response that did not
 * come whole (a complete one needs no excuse). */
static void stream_finish(struct h2 *h, struct h2_stream *st, const char *error)
{
	struct txn *t = st->t;
	size_t len;

	for (int k = REQ; k <= RESP; k++)
		if (st->body_on[k])
			body_end(&st->body[k]);
	if (error && !(t->resp.present && t->resp.complete))
		t->error = error;
	/* A request whose content-type was not decoded is a gRPC call if
	 * its response has gRPC's status. */
	if (st->grpc_maybe && !st->grpc &&
	    (field_find(&t->resp, t->resp.trailers, t->resp.ntrailers, "grpc-status", &len) ||
	     field_find(&t->resp, t->resp.hdrs, t->resp.nhdrs, "grpc-status", &len)))
		st->grpc = true;
	if (st->grpc)
		grpc_finish(h, st);
	t->conn = *h->conn;
	t->proto = TXN_H2;
	t->stream_id = st->id;
	if (!t->resp.present)
		h->env->stats->unpaired_reqs++;
	h->env->stats->txns++;
	h->env->emit.txn(h->env->emit.ctx, t);
	txn_put(h->env->pool, t);
	stream_del(h, st);
}

/* Side k of st ended (END_STREAM). */
static void stream_end(struct h2 *h, struct h2_stream *st, int k, uint64_t ts)
{
	struct http_msg *m = msg_of(st, k);

	st->ended[k] = true;
	m->complete = true;
	m->last_ts = ts;
	if (st->body_on[k]) {
		body_end(&st->body[k]);
		st->body_on[k] = false;
	}
	if (st->ended[REQ] && st->ended[RESP])
		stream_finish(h, st, NULL);
}

/* Headers of side k are in: its body (and gRPC messages) may come. */
static void body_start(struct h2 *h, struct h2_stream *st, int k)
{
	struct http_msg *m = msg_of(st, k);
	const char *v;
	size_t len;

	body_begin(&st->body[k], m, h->env->max_body);
	st->body_on[k] = true;
	v = http_msg_header(m, "content-type", &len);
	if (k == REQ) {
		st->grpc = v && grpc_is_grpc(v, len);
		st->grpc_maybe = !v && m->hdrs_incomplete;
	} else if (st->grpc_maybe && v && grpc_is_grpc(v, len)) {
		st->grpc = true;
	}
	if (st->grpc || st->grpc_maybe) {
		v = http_msg_header(m, "grpc-encoding", &len);
		st->coding[k] = grpc_coding_parse(v, v ? len : 0);
	}
}

/* Every stream one side opened above last (section 6.8): not processed. */
static void goaway(struct h2 *h, int dir, uint32_t last, uint32_t code)
{
	/* A server's GOAWAY refuses the client's (odd) streams, a client's
	 * the pushed (even) ones; a direction not yet known is taken for
	 * the server's, which sends nearly all of them. */
	uint32_t parity = (h->client_dir < 0 || dir != h->client_dir) ? 1 : 0;
	struct h2_stream *st, *next;

	for (size_t b = 0; b < H2_BUCKETS; b++)
		for (st = h->bucket[b]; st; st = next) {
			next = st->next;
			if (st->id > last && (st->id & 1) == parity)
				stream_finish(h, st, goaway_error(code));
		}
}

/* --- header blocks -------------------------------------------------- */

/* Marks what the block could not tell: null in the output, never a
 * guess. */
static void mark_unknown(struct http_msg *m, unsigned pseudo, int k)
{
	if (k == REQ) {
		if (!(pseudo & P_METHOD))
			m->unknown |= HTTP_U_METHOD;
		if (!(pseudo & P_PATH))
			m->unknown |= HTTP_U_TARGET;
	} else if (!(pseudo & P_STATUS)) {
		m->unknown |= HTTP_U_STATUS;
	}
}

/* A block from the client: a new request, or trailers. */
static void client_block(struct h2 *h, const struct h2_block *b,
			 const struct hpack_result *res, uint64_t ts)
{
	struct h2_stream *st = stream_find(h, b->stream_id);

	if (!st) {
		/* Section 5.1.1: a new stream's id is above every earlier
		 * one; a block for a lower one belongs to a stream that is
		 * gone (or never tracked). */
		if ((h->pseudo & P_STATUS) || b->stream_id <= h->last_client_id)
			return;
		h->last_client_id = b->stream_id;
		st = stream_add(h, b->stream_id);
		if (!st)
			return;
		take_scratch(h, &st->t->req, res, ts);
		mark_unknown(&st->t->req, h->pseudo, REQ);
		body_start(h, st, REQ);
	} else if (st->t->req.present && !st->ended[REQ]) {
		add_trailers(h, &st->t->req, res);
	} else {
		return;
	}
	if (b->end_stream)
		stream_end(h, st, REQ, ts);
}

/* A PUSH_PROMISE: a stream the server opens, with the request it
 * answers (section 8.4), which has no body. */
static void push_block(struct h2 *h, const struct h2_block *b,
		       const struct hpack_result *res, uint64_t ts)
{
	struct h2_stream *st;

	if (!b->promised_id || (h->pseudo & P_STATUS))
		return;
	st = stream_add(h, b->promised_id);
	if (!st)
		return;
	st->t->pushed = true;
	take_scratch(h, &st->t->req, res, ts);
	mark_unknown(&st->t->req, h->pseudo, REQ);
	body_start(h, st, REQ);
	stream_end(h, st, REQ, ts);
}

/* A block from the server: an interim or final response, or trailers. */
static void server_block(struct h2 *h, const struct h2_block *b,
			 const struct hpack_result *res, uint64_t ts)
{
	struct h2_stream *st = stream_find(h, b->stream_id);
	struct txn *t;

	if (!st) {
		/* A stream opened before tracing began, or not tracked. */
		if (h->pseudo & P_STATUS)
			h->env->stats->unpaired_resps++;
		return;
	}
	t = st->t;
	if (!st->final) {
		if ((h->pseudo & P_REQUEST) || (h->pseudo & P_METHOD))
			return; /* not a response */
		/* Section 8.1: 1xx responses are interim. */
		if ((h->pseudo & P_STATUS) && h->scratch.status < 200) {
			t->interim_status = h->scratch.status;
			return;
		}
		st->final = true;
		take_scratch(h, &t->resp, res, ts);
		mark_unknown(&t->resp, h->pseudo, RESP);
		body_start(h, st, RESP);
	} else if (!st->ended[RESP]) {
		add_trailers(h, &t->resp, res);
	} else {
		return;
	}
	if (b->end_stream)
		stream_end(h, st, RESP, ts);
}

static void on_block(void *ctx, const struct h2_block *b)
{
	struct h2_side *s = ctx;
	struct h2 *h = s->h;
	struct hpack_result res;
	bool from_client;

	scratch_reset(h);
	s->blocks++;
	hpack_decode(s->hp, b->data, b->len, !b->truncated && !b->broken,
		     on_field, h, &res);
	if (res.unknown || res.error || res.invalid || !res.fields)
		h->env->stats->h2_undecoded++;
	/* Nothing decoded: bytes taken for a block by mistake, or a block
	 * nothing can be said of. */
	if (!res.fields)
		return;
	h->any_block = true;
	if (h->client_dir < 0) {
		if (b->type == H2_PUSH_PROMISE || (h->pseudo & P_STATUS))
			h->client_dir = !s->dir;
		else if (h->pseudo & (P_METHOD | P_PATH | P_REQUEST))
			h->client_dir = s->dir;
		else
			return; /* trailers of a stream never seen */
	}
	from_client = s->dir == h->client_dir;
	if (b->type == H2_PUSH_PROMISE) {
		if (!from_client)
			push_block(h, b, &res, s->ts);
	} else if (from_client) {
		client_block(h, b, &res, s->ts);
	} else {
		server_block(h, b, &res, s->ts);
	}
}

/* --- frames ----------------------------------------------------------- */

static int kind_of(const struct h2 *h, int dir)
{
	return h->client_dir < 0 ? -1 : dir == h->client_dir ? REQ : RESP;
}

static void on_data(void *ctx, uint32_t id, const uint8_t *data, size_t len)
{
	struct h2_side *s = ctx;
	struct h2_stream *st = stream_find(s->h, id);
	int k = kind_of(s->h, s->dir);

	if (!st || k < 0 || !st->body_on[k])
		return;
	body_feed(&st->body[k], data, len);
	if (st->grpc || st->grpc_maybe)
		grpc_dir_feed(&st->g[k], data, len);
	msg_of(st, k)->last_ts = s->ts;
}

static void on_data_end(void *ctx, const struct h2_frame_hdr *hdr)
{
	struct h2_side *s = ctx;
	struct h2_stream *st = stream_find(s->h, hdr->stream_id);
	int k = kind_of(s->h, s->dir);

	if (!st || k < 0 || !(hdr->flags & H2_FLAG_END_STREAM) || st->ended[k] ||
	    !msg_of(st, k)->present)
		return;
	stream_end(s->h, st, k, s->ts);
}

static void settings(struct h2 *h, struct h2_side *s, const struct h2_control *c)
{
	struct h2_side *other = &h->side[!s->dir];
	const struct h2_settings *v = &c->u.settings;

	if (c->hdr.flags & H2_FLAG_ACK) {
		if (c->lost)
			hpack_settings_lost(s->hp);
		else
			hpack_settings_acked(s->hp);
		return;
	}
	if (c->lost) {
		hpack_settings_lost(other->hp);
		return;
	}
	hpack_settings_sent(other->hp, (v->has & (1u << H2_SET_HEADER_TABLE_SIZE)) ?
				       (int64_t)v->value[H2_SET_HEADER_TABLE_SIZE] : -1);
	if (v->has & (1u << H2_SET_MAX_FRAME_SIZE))
		h2_frame_set_max_size(other->fp, v->value[H2_SET_MAX_FRAME_SIZE]);
}

static void on_control(void *ctx, const struct h2_control *c)
{
	struct h2_side *s = ctx;
	struct h2 *h = s->h;
	struct h2_stream *st;

	switch (c->hdr.type) {
	case H2_SETTINGS:
		settings(h, s, c);
		break;
	case H2_RST_STREAM:
		st = stream_find(h, c->hdr.stream_id);
		if (!st || c->lost)
			break;
		h->env->stats->h2_resets++;
		stream_finish(h, st, reset_error(c->u.error_code));
		break;
	case H2_GOAWAY:
		if (!c->lost)
			goaway(h, s->dir, c->u.goaway.last_stream_id,
			       c->u.goaway.error_code);
		break;
	default:
		break;
	}
}

static void on_lost(void *ctx, uint64_t len)
{
	struct h2_side *s = ctx;

	/* Header blocks may have been lost: the table state is unknown. */
	hpack_lost(s->hp);
}

static const struct h2_frame_cb frame_cb = {
	.data = on_data,
	.data_end = on_data_end,
	.block = on_block,
	.control = on_control,
	.lost = on_lost,
};

/* --- the protocol ----------------------------------------------------- */

/* Who sends direction dir's bytes, by the connection's role. */
static enum h2_sender sender_of(const struct conn_info *conn, int dir)
{
	if (conn->role == HS_ROLE_CLIENT)
		return dir == HS_DIR_SEND ? H2_SENDER_CLIENT : H2_SENDER_SERVER;
	if (conn->role == HS_ROLE_SERVER)
		return dir == HS_DIR_SEND ? H2_SENDER_SERVER : H2_SENDER_CLIENT;
	return H2_SENDER_UNKNOWN;
}

static enum proto_guess h2_detect(const uint8_t *data, size_t len, int dir,
				  const struct conn_info *conn)
{
	switch (h2_frame_detect(data, len, sender_of(conn, dir))) {
	case H2_DETECT_PREFACE:
	case H2_DETECT_FRAMES:
		return PROTO_YES;
	case H2_DETECT_MORE:
		return PROTO_MAYBE;
	default:
		return PROTO_NO;
	}
}

/* Adds what the parsers and decoders counted since last time to the
 * statistics. */
static void stats_fold(struct h2 *h)
{
	struct stats *s = h->env->stats;

	s->resync_bytes += h->fst.resync_bytes - h->fst_seen.resync_bytes;
	s->h2_bad_frames += h->fst.bad_frames - h->fst_seen.bad_frames;
	s->h2_fields_over += h->hst.fields_dropped - h->hst_seen.fields_dropped;
	h->fst_seen = h->fst;
	h->hst_seen = h->hst;
}

static void h2_free(void *p);

/* h2c (RFC 7540 section 3.2): the upgraded request is stream 1, whose
 * response comes in HTTP/2. */
static void upgraded_request(struct h2 *h, const struct proto_switch *from)
{
	struct h2_stream *st;
	struct http_msg *m;

	if (!from->txn || !from->txn->req.present || !(st = stream_add(h, 1)))
		return;
	m = &st->t->req;
	http_msg_reset(m);
	if (http_msg_copy(m, &from->txn->req)) {
		stream_del(h, st);
		return;
	}
	/* The copy's preview is not of max_body bytes: it must not go to
	 * the pool. */
	free(m->preview);
	m->preview = NULL;
	m->preview_len = 0;
	h->last_client_id = 1;
	st->ended[REQ] = true;
	m->complete = true;
}

/* (Re)makes side d's parser and decoder: from the preface (the client's
 * side) or a frame boundary (the server's) when the connection is seen
 * from its start, else looking for frames with the table state
 * unknown. */
static int side_init(struct h2 *h, int d, bool midway)
{
	struct h2_side *s = &h->side[d];
	struct h2_frame_opts o = { .cb = &frame_cb, .ctx = s, .stats = &h->fst };

	h2_frame_free(s->fp);
	hpack_free(s->hp);
	s->h = h;
	s->dir = d;
	o.start = midway ? H2_START_RESYNC :
		  d == h->client_dir ? H2_START_PREFACE : H2_START_FRAME;
	o.sender = h->client_dir < 0 ? H2_SENDER_UNKNOWN :
		   d == h->client_dir ? H2_SENDER_CLIENT : H2_SENDER_SERVER;
	s->fp = h2_frame_new(&o);
	s->hp = hpack_new(!midway, &h->hst);
	return s->fp && s->hp ? 0 : -1;
}

static void *h2_new(const struct proto_env *env, const struct conn_info *conn,
		    const struct proto_switch *from)
{
	struct h2 *h = calloc(1, sizeof(*h));
	bool midway;

	if (!h)
		return NULL;
	h->env = env;
	h->conn = conn;
	h->client_dir = -1;
	if (from && from->req_dir >= 0)
		h->client_dir = from->req_dir;
	else if (conn->role == HS_ROLE_CLIENT)
		h->client_dir = HS_DIR_SEND;
	else if (conn->role == HS_ROLE_SERVER)
		h->client_dir = HS_DIR_RECV;
	midway = h->client_dir < 0;
	h->unsure = midway;
	for (int d = 0; d < 2; d++)
		if (side_init(h, d, midway)) {
			h2_free(h);
			return NULL;
		}
	env->stats->h2_conns++;
	if (from)
		upgraded_request(h, from);
	return h;
}

/* The first bytes of a direction of a connection whose role is unknown
 * (a process that inherited the socket, say): the client's preface means
 * the connection is seen from its start after all, with the table state
 * known -- the server's side too, unless it already carried a header
 * block or lost sync (its first frame is SETTINGS, section 3.4). */
static void first_bytes(struct h2 *h, int dir, const uint8_t *data, size_t len)
{
	struct h2_side *other = &h->side[!dir];
	struct hpack *hp;

	if (len < H2_PREFACE_LEN || memcmp(data, H2_PREFACE, H2_PREFACE_LEN)) {
		if (other->fed) {
			h->unsure = false;
			h->env->stats->h2_midway++;
		}
		return;
	}
	h->unsure = false;
	h->client_dir = dir;
	if (side_init(h, dir, false))
		side_init(h, dir, true); /* out of memory: as before */
	if (!other->fed) {
		if (side_init(h, !dir, false))
			side_init(h, !dir, true);
	} else if (!other->blocks && h2_frame_synced(other->fp) &&
		   (hp = hpack_new(true, &h->hst))) {
		hpack_free(other->hp);
		other->hp = hp;
	}
}

static int h2_data(void *p, int dir, const uint8_t *data, size_t len,
		   uint64_t ts, size_t *used)
{
	struct h2 *h = p;

	if (h->unsure && !h->side[dir].fed)
		first_bytes(h, dir, data, len);
	h->side[dir].ts = ts;
	h->side[dir].fed = true;
	h2_frame_feed(h->side[dir].fp, data, len);
	stats_fold(h);
	if (!h->any_block && h->fst.resync_bytes >= H2_GIVE_UP_BYTES) {
		h->env->stats->h2_not_h2++;
		return PROTO_NOT_MINE;
	}
	return 0;
}

static void h2_gap(void *p, int dir, uint64_t len, uint64_t ts)
{
	struct h2 *h = p;

	h->side[dir].ts = ts;
	h2_frame_gap(h->side[dir].fp, len);
	stats_fold(h);
}

static void h2_switched(void *p, struct proto_switch *sw)
{
	/* HTTP/2 never hands a connection on. */
}

static void h2_close(void *p, uint64_t ts, const char *why)
{
	struct h2 *h = p;
	struct h2_stream *st, *next;

	for (int d = 0; d < 2; d++) {
		h->side[d].ts = ts;
		h2_frame_finish(h->side[d].fp);
	}
	for (size_t b = 0; b < H2_BUCKETS; b++)
		for (st = h->bucket[b]; st; st = next) {
			next = st->next;
			stream_finish(h, st, why);
		}
	stats_fold(h);
}

static void h2_free(void *p)
{
	struct h2 *h = p;
	struct h2_stream *st, *next;

	if (!h)
		return;
	for (size_t b = 0; b < H2_BUCKETS; b++)
		for (st = h->bucket[b]; st; st = next) {
			next = st->next;
			for (int k = REQ; k <= RESP; k++)
				if (st->body_on[k])
					body_end(&st->body[k]);
			txn_free(st->t);
			grpc_dir_free(&st->g[REQ]);
			grpc_dir_free(&st->g[RESP]);
			free(st);
		}
	for (int d = 0; d < 2; d++) {
		h2_frame_free(h->side[d].fp);
		hpack_free(h->side[d].hp);
	}
	http_msg_reset(&h->scratch);
	free(h);
}

const struct proto_ops h2_proto = {
	.name = "h2",
	.upgrade = "h2c",
	.detect = h2_detect,
	.new = h2_new,
	.data = h2_data,
	.gap = h2_gap,
	.switched = h2_switched,
	.close = h2_close,
	.free = h2_free,
};
