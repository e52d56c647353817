/* harness.c -- the unit tests' harness: checks that count and report, fixtures fed to the stream tracker as probe records (whole, split at every byte, one byte at a time, reordered, with gaps), and what the protocols emit, kept for checking. */
#include "harness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

const char *harness_prog = "harness";

/* ---- checks ----------------------------------------------------------- */

struct counters *cnt;
const char *cur_fixture = "-";
char cur_mode[96] = "-";
int budget;		/* failures still printed for this family */
unsigned long suppressed; /* failures not printed for it */

/* Counts a failure; true if it should be printed (a few per fixture and
 * mode family, so that a bug seen at every split point does not flood). */
bool fail_begin(const char *file, int line)
{
	cnt->failures++;
	if (budget <= 0) {
		suppressed++;
		return false;
	}
	budget--;
	fprintf(stderr, "FAIL %s:%d [%s / %s]: ", file, line, cur_fixture,
		cur_mode);
	return true;
}

void family_begin(void)
{
	budget = getenv("TEST_HTTP_VERBOSE") ? 1000 : 4;
	suppressed = 0;
}

void family_end(const char *family)
{
	if (suppressed)
		fprintf(stderr, "  ... and %lu more failures in [%s / %s*]\n",
			suppressed, cur_fixture, family);
	suppressed = 0;
}


bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

const char *nz(const char *s)
{
	return s ? s : "(null)";
}


/* ---- helpers --------------------------------------------------------- */

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Memory the runtime-built fixtures own, freed at exit. */
static void *owned[64];
static size_t nowned;

void *own(void *p)
{
	if (nowned == sizeof(owned) / sizeof(owned[0])) {
		fprintf(stderr, "%s: too many owned buffers\n", harness_prog);
		exit(2);
	}
	owned[nowned++] = p;
	return p;
}

/* hdr followed by len bytes of body, as one owned buffer. */
uint8_t *cat(size_t *out_len, const char *hdr, const void *body,
		    size_t len)
{
	size_t hl = strlen(hdr);
	uint8_t *p = own(xmalloc(hl + len));

	memcpy(p, hdr, hl);
	memcpy(p + hl, body, len);
	*out_len = hl + len;
	return p;
}

char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0) {
		perror("vasprintf");
		exit(2);
	}
	va_end(ap);
	return own(s);
}

/* Compresses in with zlib: wbits 16+15 gzip, 15 zlib, -15 raw deflate. */
size_t zcompress(int wbits, const void *in, size_t len, uint8_t *out,
			size_t cap)
{
	z_stream z;
	size_t n;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		fprintf(stderr, "%s: deflateInit2 failed\n", harness_prog);
		exit(2);
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		fprintf(stderr, "%s: deflate did not finish\n", harness_prog);
		exit(2);
	}
	n = z.total_out;
	deflateEnd(&z);
	return n;
}

/* ---- what the emit callback keeps ----------------------------------- */


static void copy_msg(struct got_msg *g, const struct http_msg *m)
{
	g->present = m->present;
	g->complete = m->complete;
	g->head_truncated = m->head_truncated;
	g->chunked = m->chunked;
	g->method = xstrndup(http_str(m, m->method_off), m->method_len);
	g->target = xstrndup(http_str(m, m->target_off), m->target_len);
	g->reason = xstrndup(http_str(m, m->reason_off), m->reason_len);
	g->status = m->status;
	g->version = m->version_major * 10 + m->version_minor;
	g->nhdrs = m->nhdrs;
	g->hdrs = xmalloc(m->nhdrs * sizeof(*g->hdrs));
	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct http_header *h = &m->hdrs[i];

		g->hdrs[i].name = xstrndup(http_str(m, h->name_off), h->name_len);
		g->hdrs[i].value = xstrndup(http_str(m, h->value_off), h->value_len);
	}
	g->body_size = m->body_size;
	g->body_missing = m->body_missing;
	g->preview_len = m->preview_len;
	g->preview = xmalloc(m->preview_len + 1);
	if (m->preview_len)
		memcpy(g->preview, m->preview, m->preview_len);
	g->preview[m->preview_len] = '\0';
	g->preview_truncated = m->preview_truncated;
	g->preview_decoded = m->preview_decoded;
	g->decode_error = m->decode_error;
	g->anomalies = m->anomalies;
	g->first_ts = m->first_ts;
	g->last_ts = m->last_ts;
}

static void free_msg(struct got_msg *g)
{
	free(g->method);
	free(g->target);
	free(g->reason);
	for (size_t i = 0; i < g->nhdrs; i++) {
		free(g->hdrs[i].name);
		free(g->hdrs[i].value);
	}
	free(g->hdrs);
	free(g->preview);
}

/* v, with room for one more than n elements of size. */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 8;
	v = realloc(v, *cap * size);
	if (!v) {
		perror("realloc");
		exit(2);
	}
	return v;
}

void on_emit(void *ctx, struct txn *t)
{
	struct collector *c = ctx;
	struct got_txn *g;

	c->v = grow(c->v, &c->cap, c->n, sizeof(*c->v));
	g = &c->v[c->n++];
	memset(g, 0, sizeof(*g));
	g->conn = t->conn;
	if (t->conn.unx) {
		/* The tracker owns them, and frees them with the
		 * connection: a copy outlives it. */
		g->has_unx = true;
		g->unx = *t->conn.unx;
		g->conn.unx = NULL;
	}
	copy_msg(&g->req, &t->req);
	copy_msg(&g->resp, &t->resp);
	g->interim = t->interim_status;
	g->upgraded = t->upgraded;
	g->error = t->error;
}

void on_emit_ws(void *ctx, struct ws_msg *m)
{
	struct collector *c = ctx;
	struct got_ws *g;

	c->ws = grow(c->ws, &c->wscap, c->nws, sizeof(*c->ws));
	g = &c->ws[c->nws++];
	g->m = *m;
	g->m.preview = xmalloc(m->preview_len + 1);
	if (m->preview_len)
		memcpy(g->m.preview, m->preview, m->preview_len);
	g->m.preview[m->preview_len] = '\0';
}

void collector_free(struct collector *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free_msg(&c->v[i].req);
		free_msg(&c->v[i].resp);
	}
	for (size_t i = 0; i < c->nws; i++)
		free(c->ws[i].m.preview);
	free(c->ws);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

const char *got_hdr(const struct got_msg *g, const char *name)
{
	for (size_t i = 0; i < g->nhdrs; i++)
		if (strcasecmp(g->hdrs[i].name, name) == 0)
			return g->hdrs[i].value;
	return NULL;
}

/* ---- records --------------------------------------------------------- */


static size_t chunk_len(const struct chunk *c)
{
	return c->len || c->gap ? c->len : strlen(c->data);
}

static int dir_of(const struct fixture *f, enum side s)
{
	int req;

	if (f->role == HS_ROLE_CLIENT)
		req = HS_DIR_SEND;
	else if (f->role == HS_ROLE_SERVER)
		req = HS_DIR_RECV;
	else
		req = f->req_dir;
	return s == REQ ? req : 1 - req;
}

void fill_header(struct hs_event *ev, uint8_t type, uint8_t role)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->conn_id = CONN_ID;
	ev->tgid = TGID;
	ev->tid = TGID + 1;
	ev->fd = FD;
	ev->role = role;
	ev->cgroup_id = 77;
	memcpy(ev->comm, "fixture", 8);
	ev->local.family = AF_INET;
	ev->local.port = 8080;
	ev->local.addr[0] = 127;
	ev->local.addr[3] = 1;
	ev->remote.family = AF_INET;
	ev->remote.port = 40000;
	ev->remote.addr[0] = 127;
	ev->remote.addr[3] = 1;
}

void recs_push(struct recs *r, uint8_t *buf, size_t len, int dir)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		if (!r->v) {
			perror("realloc");
			exit(2);
		}
	}
	r->v[r->n++] = (struct rec){ buf, len, dir };
}

/* Appends a DATA record: `captured` bytes of data, covering `span`. */
void add_data(struct recs *r, const struct fixture *f, int dir,
		     uint64_t *pos, const uint8_t *data, size_t captured,
		     uint64_t span)
{
	size_t len = sizeof(struct hs_event) + captured;
	uint8_t *buf = xmalloc(len);
	struct hs_event *ev = (struct hs_event *)buf;

	fill_header(ev, HS_EV_DATA, f->role);
	ev->dir = dir;
	/* a connection first seen mid-stream: the probe counted bytes
	 * before it began copying, and marks its first record */
	if (f->role == HS_ROLE_UNKNOWN && pos[dir] == 0)
		ev->flags |= HS_F_START;
	ev->pos = pos[dir] + (f->role == HS_ROLE_UNKNOWN ? MIDSTREAM_POS : 0);
	ev->span = (uint32_t)span;
	ev->captured = (uint32_t)captured;
	ev->syscall_len = (uint32_t)span;
	if (captured)
		memcpy(buf + sizeof(*ev), data, captured);
	pos[dir] += span;
	recs_push(r, buf, len, dir);
}

void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].buf);
	free(r->v);
	memset(r, 0, sizeof(*r));
}


static size_t body_start(const struct chunk *c)
{
	const char *d = c->data, *e;
	size_t len = chunk_len(c);

	e = memmem(d, len, "\r\n\r\n", 4);
	return e ? (size_t)(e - d) + 4 : 0;
}

void build(const struct fixture *f, const struct plan *pl,
		  struct recs *r)
{
	uint64_t pos[2] = { 0, 0 };

	for (int i = 0; i < MAX_CHUNKS && f->chunks[i].data; i++) {
		const struct chunk *c = &f->chunks[i];
		const uint8_t *d = c->data;
		size_t len = chunk_len(c);
		int dir = dir_of(f, c->side);

		if (len > HS_CHUNK_MAX) {
			fprintf(stderr, "%s: %s: chunk %d too long\n", harness_prog,
				f->name, i);
			exit(2);
		}
		if (pl->gap && pl->gap->chunk == i) {
			size_t off = pl->gap->off +
				     (pl->gap->from_body ? body_start(c) : 0);
			size_t end = off + pl->gap->len;

			if (end > len) {
				fprintf(stderr, "%s: %s: gap past chunk\n", harness_prog,
					f->name);
				exit(2);
			}
			/* the copy stopped `off` bytes into the syscall */
			add_data(r, f, dir, pos, d, off, end);
			if (end < len)
				add_data(r, f, dir, pos, d + end, len - end, len - end);
		} else if (c->gap) {
			add_data(r, f, dir, pos, d, len, len + c->gap);
		} else if (pl->mode == M_BYTES || pl->mode == M_REORDER_BYTES ||
			   pl->mode == M_REORDER_FIRST) {
			size_t head = !c->keep_head ? 1 : len < HEAD_KEEP ? len : HEAD_KEEP;

			if (len)
				add_data(r, f, dir, pos, d, head, head);
			for (size_t j = head; j < len; j++)
				add_data(r, f, dir, pos, d + j, 1, 1);
		} else if ((pl->mode == M_SPLIT || pl->mode == M_SPLIT_SWAP) &&
			   pl->chunk == i) {
			add_data(r, f, dir, pos, d, pl->at, pl->at);
			add_data(r, f, dir, pos, d + pl->at, len - pl->at, len - pl->at);
			if (pl->mode == M_SPLIT_SWAP) {
				struct rec t = r->v[r->n - 1];

				r->v[r->n - 1] = r->v[r->n - 2];
				r->v[r->n - 2] = t;
			}
		} else {
			add_data(r, f, dir, pos, d, len, len);
		}
	}
	if (pl->mode == M_REORDER_WHOLE || pl->mode == M_REORDER_BYTES ||
	    pl->mode == M_REORDER_FIRST) {
		bool seen[2] = { false, false };

		/* two sends (or receives) of one connection seen on two
		 * CPUs: the later one reaches user space first.  The first
		 * record of a direction is swapped only in M_REORDER_FIRST,
		 * which tests that case alone. */
		for (size_t i = 0; i + 1 < r->n; i++) {
			bool first = !seen[r->v[i].dir];

			seen[r->v[i].dir] = true;
			if (r->v[i].dir == r->v[i + 1].dir &&
			    first == (pl->mode == M_REORDER_FIRST)) {
				struct rec t = r->v[i];

				r->v[i] = r->v[i + 1];
				r->v[i + 1] = t;
				i++;
			}
		}
	}
}

/* ---- running a fixture ----------------------------------------------- */

static void check_hdrs(const char *what, size_t k, const struct got_msg *g,
		       const struct hdr *h)
{
	char name[64];

	for (int i = 0; i < MAX_HDRS && h[i].name; i++) {
		const char *v = got_hdr(g, h[i].name);

		snprintf(name, sizeof(name), "txn %zu: %s header %s", k, what,
			 h[i].name);
		CHECK_STR(name, v, h[i].value);
	}
}

/* C-escapes up to cap / 4 bytes of p into out. */
static const char *esc(char *out, size_t cap, const void *p, size_t n)
{
	const uint8_t *d = p;
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < cap; i++) {
		if (d[i] == '\r')
			o += snprintf(out + o, cap - o, "\\r");
		else if (d[i] == '\n')
			o += snprintf(out + o, cap - o, "\\n");
		else if (d[i] < 0x20 || d[i] >= 0x7f || d[i] == '"' || d[i] == '\\')
			o += snprintf(out + o, cap - o, "\\x%02x", d[i]);
		else
			out[o++] = d[i];
	}
	if (o + 8 >= cap)
		o += snprintf(out + o, cap - o, "...");
	out[o] = '\0';
	return out;
}

static void check_preview(const char *what, size_t k, const struct got_msg *g,
			  const char *exp, size_t exp_len)
{
	if (!exp_len)
		exp_len = exp ? strlen(exp) : 0;
	char a[128], b[128];

	CHECK(g->preview_len == exp_len &&
		      (!exp_len || memcmp(g->preview, exp, exp_len) == 0),
	      "txn %zu: %s preview: got %zu bytes \"%s\", expected %zu bytes \"%s\"",
	      k, what, g->preview_len, esc(a, sizeof(a), g->preview, g->preview_len),
	      exp_len, esc(b, sizeof(b), exp, exp_len));
}

static void check_version(const char *what, size_t k, int got, int exp)
{
	if (exp < 0)
		return;
	CHECK(got == (exp ? exp : 11), "txn %zu: %s version: got %d.%d, expected %d.%d",
	      k, what, got / 10, got % 10, (exp ? exp : 11) / 10, (exp ? exp : 11) % 10);
}

void dump(const struct collector *col)
{
	for (size_t i = 0; i < col->n; i++) {
		const struct got_txn *g = &col->v[i];

		fprintf(stderr, "    got txn %zu: %s %s -> %d (%s)\n", i,
			g->req.method, g->req.target,
			g->resp.present ? g->resp.status : 0,
			g->error ? g->error : "no error");
	}
}

void check_txn(const struct fixture *f, size_t k,
		      const struct got_txn *g, const struct expect *e,
		      bool check_ts)
{
	char what[64];

#define FIELD(s) (snprintf(what, sizeof(what), "txn %zu: %s", k, (s)), what)
	CHECK_U64(FIELD("conn_id"), g->conn.conn_id, CONN_ID);
	CHECK_U64(FIELD("pid"), g->conn.pid, TGID);
	CHECK_INT(FIELD("fd"), g->conn.fd, FD);
	CHECK_INT(FIELD("role"), g->conn.role, f->role);
	CHECK(strcmp(g->conn.comm, "fixture") == 0, "txn %zu: comm \"%s\"", k, g->conn.comm);
	CHECK(g->req.present, "txn %zu: request not present", k);
	if (e->method)
		CHECK_STR(FIELD("method"), g->req.method, e->method);
	if (e->target)
		CHECK_STR(FIELD("target"), g->req.target, e->target);
	check_version("request", k, g->req.version, e->req_ver);
	check_hdrs("request", k, &g->req, e->req_hdrs);
	if (e->req_nhdrs)
		CHECK_U64(FIELD("request nhdrs"), g->req.nhdrs, e->req_nhdrs);
	CHECK_INT(FIELD("request head_truncated"), g->req.head_truncated,
		  e->req_head_trunc);
	CHECK_U64(FIELD("request body_size"), g->req.body_size, e->req_body);
	CHECK_U64(FIELD("request body_missing"), g->req.body_missing, e->req_missing);
	check_preview("request", k, &g->req, e->req_preview, e->req_preview_len);
	CHECK_INT(FIELD("request preview_truncated"), g->req.preview_truncated,
		  e->req_trunc);
	CHECK_INT(FIELD("request preview_decoded"), g->req.preview_decoded,
		  e->req_decoded);
	CHECK_INT(FIELD("request chunked"), g->req.chunked, e->req_chunked);
	CHECK_INT(FIELD("request complete"), g->req.complete, !e->req_incomplete);
	CHECK(g->req.anomalies == e->req_anom, "txn %zu: request anomalies %#x, expected %#x",
	      k, g->req.anomalies, e->req_anom);
	CHECK_STR(FIELD("error"), g->error, e->error);
	CHECK_INT(FIELD("upgraded"), g->upgraded, e->upgraded);
	if (check_ts && g->req.complete)
		CHECK(g->req.first_ts && g->req.first_ts <= g->req.last_ts,
		      "txn %zu: request ts %llu..%llu", k,
		      (unsigned long long)g->req.first_ts,
		      (unsigned long long)g->req.last_ts);
	if (e->skip_resp)
		return;
	CHECK_INT(FIELD("interim_status"), g->interim, e->interim);
	if (!e->status) {
		CHECK(!g->resp.present, "txn %zu: response present (status %d), expected none",
		      k, g->resp.status);
		return;
	}
	CHECK(g->resp.present, "txn %zu: response not present", k);
	CHECK_INT(FIELD("status"), g->resp.status, e->status);
	if (e->reason)
		CHECK_STR(FIELD("reason"), g->resp.reason, e->reason);
	check_version("response", k, g->resp.version, e->resp_ver);
	check_hdrs("response", k, &g->resp, e->resp_hdrs);
	CHECK_U64(FIELD("response body_size"), g->resp.body_size, e->resp_body);
	CHECK_U64(FIELD("response body_missing"), g->resp.body_missing, e->resp_missing);
	if (!e->resp_preview_skip) {
		check_preview("response", k, &g->resp, e->resp_preview,
			      e->resp_preview_len);
		CHECK_INT(FIELD("response preview_truncated"),
			  g->resp.preview_truncated, e->resp_trunc);
	}
	CHECK_INT(FIELD("response preview_decoded"), g->resp.preview_decoded,
		  e->resp_decoded);
	CHECK_STR(FIELD("response decode_error"), g->resp.decode_error,
		  e->resp_decode_error);
	CHECK_INT(FIELD("response chunked"), g->resp.chunked, e->resp_chunked);
	CHECK_INT(FIELD("response complete"), g->resp.complete, !e->resp_incomplete);
	CHECK(g->resp.anomalies == e->resp_anom, "txn %zu: response anomalies %#x, expected %#x",
	      k, g->resp.anomalies, e->resp_anom);
	if (check_ts && g->resp.complete)
		CHECK(g->resp.first_ts <= g->resp.last_ts &&
			      g->req.first_ts <= g->resp.first_ts,
		      "txn %zu: response ts %llu..%llu, request at %llu", k,
		      (unsigned long long)g->resp.first_ts,
		      (unsigned long long)g->resp.last_ts,
		      (unsigned long long)g->req.first_ts);
#undef FIELD
}

void check_ws(const struct fixture *f, const struct collector *col, bool check_ts)
{
	char what[64];

	CHECK_U64("WebSocket messages", col->nws, f->nws);
	for (size_t k = 0; k < col->nws && k < f->nws; k++) {
		const struct ws_msg *g = &col->ws[k].m;
		const struct ws_expect *e = &f->ws[k];
		size_t plen = e->preview_len ? e->preview_len : e->preview ? strlen(e->preview) : 0;

#define FIELD(s) (snprintf(what, sizeof(what), "ws %zu: %s", k, (s)), what)
		CHECK_INT(FIELD("from client"), g->from_client, e->side == REQ);
		CHECK_INT(FIELD("dir"), g->dir, dir_of(f, e->side));
		CHECK_INT(FIELD("opcode"), g->opcode, e->opcode);
		CHECK_U64(FIELD("frames"), g->frames, e->frames ? e->frames : 1);
		CHECK_U64(FIELD("size"), g->size, e->size);
		CHECK_U64(FIELD("missing"), g->missing, e->missing);
		CHECK(g->preview_len == plen && (!plen || !memcmp(g->preview, e->preview, plen)),
		      "ws %zu: preview of %zu bytes \"%.40s\", expected %zu \"%.40s\"", k,
		      g->preview_len, (const char *)g->preview, plen, nz(e->preview));
		CHECK_INT(FIELD("truncated"), g->preview_truncated, e->truncated);
		CHECK_INT(FIELD("close code"), g->close_code, e->close_code ? e->close_code : -1);
		CHECK_INT(FIELD("compressed"), g->compressed, e->compressed);
		CHECK_INT(FIELD("masked"), g->masked, e->side == REQ);
		CHECK_STR(FIELD("error"), g->error, e->error);
		CHECK_U64(FIELD("conn_id"), g->conn.conn_id, CONN_ID);
		CHECK(!check_ts || (g->first_ts && g->first_ts <= g->last_ts), "ws %zu: ts %llu..%llu", k,
		      (unsigned long long)g->first_ts, (unsigned long long)g->last_ts);
#undef FIELD
	}
}

static struct stream *tracker(struct stats *stats, struct collector *col,
			      const struct stream_opts *limits, size_t max_body)
{
	struct stream_opts o = *limits;
	struct stream *st;

	o.max_body = max_body;
	o.emit = (struct proto_emit){ .txn = on_emit, .ws = on_emit_ws, .ctx = col };
	o.stats = stats;
	st = stream_new(&o);
	if (!st) {
		fprintf(stderr, "%s: stream_new failed\n", harness_prog);
		exit(2);
	}
	return st;
}

struct stream *new_stream_limits(struct stats *stats, struct collector *col,
				 size_t max_conns, uint64_t idle_ns,
				 uint64_t reorder_ns, size_t reorder_max)
{
	struct stream_opts o = { .max_conns = max_conns, .idle_ns = idle_ns,
				 .reorder_ns = reorder_ns, .reorder_max = reorder_max };

	return tracker(stats, col, &o, MAX_BODY);
}

struct stream *new_stream(struct stats *stats, struct collector *col,
			  size_t max_body)
{
	struct stream_opts o = { .max_conns = 64, .idle_ns = UINT64_MAX / 4,
				 .reorder_ns = UINT64_MAX / 4, .reorder_max = 1 << 20 };

	return tracker(stats, col, &o, max_body);
}

void feed_end(struct stream *st, const struct fixture *f, uint64_t ts)
{
	struct hs_event ev;

	switch (f->end) {
	case END_CLOSE:
		fill_header(&ev, HS_EV_CLOSE, f->role);
		ev.ts_ns = ts;
		CHECK(stream_feed(st, &ev, sizeof(ev)) == 0, "CLOSE record refused");
		break;
	case END_EXIT:
		memset(&ev, 0, sizeof(ev));
		ev.type = HS_EV_EXIT;
		ev.tgid = TGID;
		ev.ts_ns = ts;
		CHECK(stream_feed(st, &ev, sizeof(ev)) == 0, "EXIT record refused");
		break;
	case END_CLOSE_ALL:
		stream_close_all(st, ts, "tracing stopped");
		break;
	}
	CHECK_U64("connections left", stream_count(st), 0);
}

/* What f's transactions must be when fed as pl says (a gap put in
 * changes some); returns the gap bytes the tracker must count. */
static uint64_t expect_for(const struct fixture *f, const struct plan *pl,
			   struct expect exp[MAX_TXNS])
{
	uint64_t gap_bytes = 0;
	struct expect *e;

	memcpy(exp, f->txns, MAX_TXNS * sizeof(*exp));
	for (int i = 0; i < MAX_CHUNKS && f->chunks[i].data; i++)
		gap_bytes += f->chunks[i].gap;
	if (!pl->gap)
		return gap_bytes;
	e = &exp[pl->gap->txn];

	gap_bytes += pl->gap->len;
	if (pl->mode == M_BODY_GAP && pl->gap->coded) {
		/* what inflated before the gap is not checked */
		e->resp_missing = pl->gap->len;
		e->resp_decode_error = "compressed body has a capture gap";
		e->resp_preview_skip = true;
	} else if (pl->mode == M_BODY_GAP && pl->gap->resp) {
		e->resp_missing = pl->gap->len;
		e->resp_preview = pl->gap->preview;
		e->resp_preview_len = 0;
		e->resp_trunc = true;
	} else if (pl->mode == M_BODY_GAP) {
		e->req_missing = pl->gap->len;
		e->req_preview = pl->gap->preview;
		e->req_preview_len = 0;
		e->req_trunc = true;
	} else {
		/* the request is reported as far as it was seen, with the
		 * response that answered it */
		e->error = "request lost to a capture gap";
		e->req_hdrs[0].name = NULL;
		e->req_nhdrs = 0;
		e->req_ver = -1;
		e->req_body = 0;
		e->req_preview = NULL;
		e->req_trunc = false;
		e->req_chunked = false;
		e->req_incomplete = true;
	}
	return gap_bytes;
}

void run(const struct fixture *f, const struct plan *pl)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct recs r = { 0 };
	struct expect exp[MAX_TXNS];
	struct stream *st;
	uint64_t ts = 1000000, gap_bytes;
	bool reordered = pl->mode == M_REORDER_WHOLE || pl->mode == M_REORDER_BYTES ||
			 pl->mode == M_REORDER_FIRST || pl->mode == M_SPLIT_SWAP;

	cnt->runs++;
	build(f, pl, &r);
	st = new_stream(&stats, &col, f->max_body ? f->max_body : MAX_BODY);
	for (size_t i = 0; i < r.n; i++) {
		struct hs_event *ev = (struct hs_event *)r.v[i].buf;

		ev->ts_ns = ts += 1000;
		CHECK(stream_feed(st, r.v[i].buf, r.v[i].len) == 0,
		      "record %zu refused", i);
	}
	feed_end(st, f, ts + 1000);
	stream_free(st);

	gap_bytes = expect_for(f, pl, exp);
	CHECK_U64("transactions", col.n, f->ntxns);
	if (col.n != f->ntxns && budget > 0)
		dump(&col);
	for (size_t k = 0; k < col.n && k < f->ntxns; k++)
		check_txn(f, k, &col.v[k], &exp[k], !reordered);
	check_ws(f, &col, !reordered);
	CHECK_U64("stats.ws_messages", stats.ws_messages, col.nws);
	CHECK_U64("stats.txns", stats.txns, col.n);
	CHECK_U64("stats.parse_errors", stats.parse_errors, f->parse_errors);
	if (f->unpaired_reqs >= 0)
		CHECK_U64("stats.unpaired_reqs", stats.unpaired_reqs, f->unpaired_reqs);
	CHECK_U64("stats.unpaired_resps", stats.unpaired_resps, f->unpaired_resps);
	CHECK_U64("stats.upgrades", stats.upgrades, f->upgrades);
	CHECK_U64("stats.gap_bytes", stats.gap_bytes, gap_bytes);
	CHECK_U64("stats.bad_records", stats.bad_records, 0);
	CHECK_U64("stats.conns", stats.conns, 1);
	CHECK_U64("stats.events", stats.events, r.n + (f->end != END_CLOSE_ALL));
	if (pl->mode == M_HDR_GAP)
		CHECK(stats.resync_bytes > 0, "stats.resync_bytes is 0 after a header gap");
	collector_free(&col);
	recs_free(&r);
}

/* One feeding of f as a family of its own (its failures counted and
 * capped together). */
static void run_family(const struct fixture *f, const char *family,
		       enum mode mode, const struct gapspec *gap)
{
	struct plan pl = { .mode = mode, .gap = gap };

	family_begin();
	snprintf(cur_mode, sizeof(cur_mode), "%s", family);
	run(f, &pl);
	family_end(family);
}

/* f with each chunk split in two at every byte (swap: the second half
 * delivered first). */
static void run_splits(const struct fixture *f, bool swap)
{
	const char *family = swap ? "split-swap" : "split";
	struct plan pl = { .mode = swap ? M_SPLIT_SWAP : M_SPLIT };

	family_begin();
	for (int i = 0; i < MAX_CHUNKS && f->chunks[i].data; i++) {
		size_t len = chunk_len(&f->chunks[i]);
		size_t first = f->chunks[i].keep_head ? HEAD_KEEP : 1;

		for (size_t at = first; at < len; at++) {
			snprintf(cur_mode, sizeof(cur_mode), "%s chunk %d at %zu",
				 family, i, at);
			pl.chunk = i;
			pl.at = at;
			run(f, &pl);
		}
	}
	snprintf(cur_mode, sizeof(cur_mode), "%s", family);
	family_end(family);
}

void run_fixture(const struct fixture *f)
{
	cur_fixture = f->name;
	run_family(f, "whole", M_WHOLE, NULL);
	run_family(f, "reorder-whole", M_REORDER_WHOLE, NULL);
	if (!f->big) {
		run_family(f, "bytes", M_BYTES, NULL);
		run_family(f, "reorder-bytes", M_REORDER_BYTES, NULL);
		run_family(f, "reorder-first", M_REORDER_FIRST, NULL);
		run_splits(f, false);
		run_splits(f, true);
	}
	if (f->body_gap.on)
		run_family(f, "body-gap", M_BODY_GAP, &f->body_gap);
	if (f->hdr_gap.on)
		run_family(f, "hdr-gap", M_HDR_GAP, &f->hdr_gap);
}

/* A DATA record in buf (at least sizeof(hs_event) + len bytes). */
size_t mkdata(uint8_t *buf, uint64_t conn, uint32_t tgid, uint8_t role,
		     int dir, uint64_t pos, const char *s, uint64_t ts)
{
	struct hs_event *ev = (struct hs_event *)buf;
	size_t len = strlen(s);

	fill_header(ev, HS_EV_DATA, role);
	ev->conn_id = conn;
	ev->tgid = tgid;
	ev->dir = dir;
	ev->pos = pos;
	ev->span = ev->captured = ev->syscall_len = (uint32_t)len;
	ev->ts_ns = ts;
	memcpy(buf + sizeof(*ev), s, len);
	return sizeof(*ev) + len;
}

struct hs_event *mkctl(uint8_t *buf, uint8_t type, uint64_t conn,
			      uint32_t tgid, uint64_t ts)
{
	struct hs_event *ev = (struct hs_event *)buf;

	fill_header(ev, type, HS_ROLE_CLIENT);
	ev->conn_id = conn;
	ev->tgid = tgid;
	ev->ts_ns = ts;
	return ev;
}

void section(const char *name)
{
	cur_fixture = name;
	snprintf(cur_mode, sizeof(cur_mode), "-");
	family_begin();
}

uint8_t scratch[sizeof(struct hs_event) + HS_CHUNK_MAX];

/* pos: the next offset of each direction, updated. */
void feed_str(struct stream *st, uint64_t conn, uint32_t tgid, int dir,
		     uint64_t pos[2], const char *s, uint64_t ts)
{
	size_t n = mkdata(scratch, conn, tgid, HS_ROLE_CLIENT, dir, pos[dir], s, ts);

	pos[dir] += strlen(s);
	CHECK(stream_feed(st, scratch, n) == 0, "record refused");
}

void feed_ctl(struct stream *st, uint8_t type, uint64_t conn,
		     uint32_t tgid, uint64_t ts)
{
	mkctl(scratch, type, conn, tgid, ts);
	CHECK(stream_feed(st, scratch, sizeof(struct hs_event)) == 0,
	      "control record refused");
}

/* Runs fn in a child so that a crash (or a sanitizer report) in src/ is
 * counted as a failure of that part and the rest still runs. */
void isolate(const char *name, void (*fn)(const void *), const void *arg)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		fn(arg);
		fflush(NULL);
		exit(0); /* exit, not _exit: LeakSanitizer looks at each child */
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		exit(2);
	}
	if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0) {
		cnt->failures++;
		fprintf(stderr, "FAIL [%s]: crashed (%s %d); see the report above\n",
			name, WIFSIGNALED(status) ? "signal" : "exit status",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
}

static void fixture_fn(const void *arg)
{
	run_fixture(arg);
}

static void call_fn(const void *arg)
{
	const struct harness_test *t = arg;

	t->fn();
}

int harness_main(const char *prog, int argc, char **argv,
		 const struct fixture *const *fix, size_t nfix,
		 const struct harness_test *tests, size_t ntests)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t nrun = 0;

	harness_prog = prog;
	cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (size_t i = 0; i < nfix; i++) {
		if (only && !strstr(fix[i]->name, only))
			continue;
		nrun++;
		isolate(fix[i]->name, fixture_fn, fix[i]);
	}
	for (size_t i = 0; i < ntests; i++)
		if (!only || strstr(tests[i].name, only))
			isolate(tests[i].name, call_fn, &tests[i]);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	printf("%s: %zu fixtures in %lu runs, %lu checks, %lu failed\n", prog,
	       nrun, cnt->runs, cnt->checks, cnt->failures);
	return cnt->failures ? 1 : 0;
}
