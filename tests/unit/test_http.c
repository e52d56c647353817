/* test_http.c -- unit test of the stream tracker and the HTTP/1 layer: table-driven connections fed as probe records.
 *
 * Each fixture (fixtures.h), in the manner of http-parser's `struct
 * message` table, is one connection: its role, its chunks in time order
 * (one chunk is one syscall's bytes, request or response side) and the
 * transactions the HTTP layer must report.  Every fixture is fed as the
 * probe would send it: whole, split in two at every byte, one byte per
 * record, with adjacent records of a direction swapped, and, where the
 * fixture says how, with a capture gap in a body or in a request's
 * headers.  Each fixture runs in a child process, so that a crash in
 * src/ is reported as that fixture's failure and the others still run.
 *
 * Then come the record checks, --record/--replay, process exit,
 * eviction, idleness, reorder timeouts and limits.  Exits 0 only if every
 * check passed; prints each failure (a few per fixture and mode, or all
 * with TEST_HTTP_VERBOSE set) with the fixture and the mode, then a
 * summary line.  An argument runs only the parts whose name contains it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "event.h"
#include "fixtures.h"
#include "proto/http1.h"
#include "capture/record.h"
#include "core/stats.h"
#include "stream/stream.h"
#include "core/txn.h"

/* ---- assertions ------------------------------------------------------ */

/* Counters shared with the child each fixture runs in, so that a crash
 * in one (a src/ bug) is reported and the others still run. */
struct counters {
	unsigned long checks, failures, runs;
};
static struct counters *cnt;
static const char *cur_fixture = "-";
static char cur_mode[96] = "-";
static int budget;		/* failures still printed for this family */
static unsigned long suppressed; /* failures not printed for it */

/* Counts a failure; true if it should be printed (a few per fixture and
 * mode family, so that a bug seen at every split point does not flood). */
static bool fail_begin(const char *file, int line)
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

static void family_begin(void)
{
	budget = getenv("TEST_HTTP_VERBOSE") ? 1000 : 4;
	suppressed = 0;
}

static void family_end(const char *family)
{
	if (suppressed)
		fprintf(stderr, "  ... and %lu more failures in [%s / %s*]\n",
			suppressed, cur_fixture, family);
	suppressed = 0;
}

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		cnt->checks++;                                                \
		if (!(cond) && fail_begin(__FILE__, __LINE__)) {              \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
		}                                                             \
	} while (0)

#define CHECK_U64(what, got, exp)                                             \
	CHECK((uint64_t)(got) == (uint64_t)(exp),                             \
	      "%s: got %llu, expected %llu", (what),                          \
	      (unsigned long long)(got), (unsigned long long)(exp))

#define CHECK_INT(what, got, exp)                                             \
	CHECK((long long)(got) == (long long)(exp),                           \
	      "%s: got %lld, expected %lld", (what), (long long)(got),        \
	      (long long)(exp))

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static const char *nz(const char *s)
{
	return s ? s : "(null)";
}

#define CHECK_STR(what, got, exp)                                             \
	CHECK(str_eq((got), (exp)), "%s: got \"%s\", expected \"%s\"",        \
	      (what), nz(got), nz(exp))

/* ---- helpers --------------------------------------------------------- */

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Memory the runtime-built fixtures own, freed at exit. */
static void *owned[64];
static size_t nowned;

static void *own(void *p)
{
	if (nowned == sizeof(owned) / sizeof(owned[0])) {
		fprintf(stderr, "test_http: too many owned buffers\n");
		exit(2);
	}
	owned[nowned++] = p;
	return p;
}

/* hdr followed by len bytes of body, as one owned buffer. */
static uint8_t *cat(size_t *out_len, const char *hdr, const void *body,
		    size_t len)
{
	size_t hl = strlen(hdr);
	uint8_t *p = own(xmalloc(hl + len));

	memcpy(p, hdr, hl);
	memcpy(p + hl, body, len);
	*out_len = hl + len;
	return p;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
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
static size_t zcompress(int wbits, const void *in, size_t len, uint8_t *out,
			size_t cap)
{
	z_stream z;
	size_t n;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		fprintf(stderr, "test_http: deflateInit2 failed\n");
		exit(2);
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		fprintf(stderr, "test_http: deflate did not finish\n");
		exit(2);
	}
	n = z.total_out;
	deflateEnd(&z);
	return n;
}

/* ---- what the emit callback keeps ----------------------------------- */

struct got_hdr {
	char *name, *value;
};

struct got_msg {
	bool present, complete, head_truncated, chunked;
	char *method, *target, *reason;
	int status, version;	/* version as major * 10 + minor */
	struct got_hdr *hdrs;
	size_t nhdrs;
	uint64_t body_size, body_missing;
	uint8_t *preview;
	size_t preview_len;
	bool preview_truncated, preview_decoded;
	const char *decode_error;
	uint64_t first_ts, last_ts;
};

struct got_txn {
	struct conn_info conn;
	struct got_msg req, resp;
	int interim;
	bool upgraded;
	const char *error; /* static in the HTTP layer */
};

struct collector {
	struct got_txn *v;
	size_t n, cap;
};

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

static void on_emit(void *ctx, struct txn *t)
{
	struct collector *c = ctx;
	struct got_txn *g;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (!c->v) {
			perror("realloc");
			exit(2);
		}
	}
	g = &c->v[c->n++];
	memset(g, 0, sizeof(*g));
	g->conn = t->conn;
	copy_msg(&g->req, &t->req);
	copy_msg(&g->resp, &t->resp);
	g->interim = t->interim_status;
	g->upgraded = t->upgraded;
	g->error = t->error;
}

static void collector_free(struct collector *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free_msg(&c->v[i].req);
		free_msg(&c->v[i].resp);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static const char *got_hdr(const struct got_msg *g, const char *name)
{
	for (size_t i = 0; i < g->nhdrs; i++)
		if (strcasecmp(g->hdrs[i].name, name) == 0)
			return g->hdrs[i].value;
	return NULL;
}

/* ---- fixtures made at run time (the table is in fixtures.h) ---------- */

/* Fixtures whose bytes are made at run time: compressed bodies, a 10 MB
 * body, oversized headers. */
static struct fixture rt[12];
static size_t nrt;

static const char quick[] = "The quick brown fox jumps over the lazy dog. ";

static char plain[20 * sizeof(quick)]; /* quick, 20 times */
static size_t plain_len;

static void add_coded(const char *name, const char *coding, int wbits,
		      bool chunked, size_t max_body)
{
	struct fixture *f = &rt[nrt++];
	uint8_t *z = own(xmalloc(4096));
	size_t zlen = zcompress(wbits, plain, plain_len, z, 4096);
	struct expect *e = &f->txns[0];
	size_t half = zlen / 2;

	f->name = name;
	f->role = HS_ROLE_CLIENT;
	f->max_body = max_body;
	f->chunks[0] = (struct chunk){ .side = REQ, .data =
		"GET /z HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, deflate\r\n\r\n" };
	if (chunked) {
		/* the coded bytes in two HTTP chunks, the second in its
		 * own syscall */
		const char *h1 = fmt("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
				     "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
				     coding, half);
		const char *h2 = fmt("\r\n%zx\r\n", zlen - half);
		uint8_t *p2 = cat(&f->chunks[2].len, h2, z + half, zlen - half);
		uint8_t *p3 = cat(&f->chunks[3].len, "", "\r\n0\r\n\r\n", 7);

		f->chunks[1].data = cat(&f->chunks[1].len, h1, z, half);
		f->chunks[1].side = RESP;
		f->chunks[2].data = p2;
		f->chunks[2].side = RESP;
		f->chunks[3].data = p3;
		f->chunks[3].side = RESP;
	} else {
		const char *h = fmt("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
				    "Content-Length: %zu\r\n\r\n", coding, zlen);

		f->chunks[1].data = cat(&f->chunks[1].len, h, z, zlen);
		f->chunks[1].side = RESP;
	}
	for (int i = 0; i < MAX_CHUNKS; i++) {
		if (!f->chunks[i].data) {
			f->chunks[i] = (struct chunk){ .side = REQ, .data =
				"GET /after HTTP/1.1\r\nHost: h\r\n\r\n" };
			f->chunks[i + 1] = (struct chunk){ .side = RESP, .data =
				"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" };
			break;
		}
	}
	f->ntxns = 2;
	*e = (struct expect){ .method = "GET", .target = "/z", .status = 200,
			      .reason = "OK", .resp_body = zlen,
			      .resp_preview = plain, .resp_decoded = true,
			      .resp_chunked = chunked };
	e->resp_hdrs[0] = (struct hdr){ "Content-Encoding", coding };
	if (!chunked)
		f->body_gap = (struct gapspec){ .on = true, .chunk = 1, .off = 10,
						.from_body = true, .len = 5,
						.resp = true, .coded = true };
	if (max_body && max_body < plain_len) {
		e->resp_preview_len = max_body;
		e->resp_trunc = true;
	}
	f->txns[1] = (struct expect){ .method = "GET", .target = "/after",
				      .status = 200, .reason = "OK",
				      .resp_body = 2, .resp_preview = "ok" };
}

#define BIG_BODY (10u << 20)
static uint8_t pattern[HS_CHUNK_MAX + 26];

/* A 10 MB body of which the probe copied only a few records. */
static void add_big(void)
{
	struct fixture *f = &rt[nrt++];
	const char *h = fmt("HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n", BIG_BODY);
	uint64_t at = 1000, missing = 0;
	int i = 2, k = 0;

	for (size_t j = 0; j < sizeof(pattern); j++)
		pattern[j] = 'a' + j % 26;
	f->name = "10 MB body, mostly uncaptured, then GET";
	f->role = HS_ROLE_CLIENT;
	f->big = true;
	f->chunks[0] = (struct chunk){ .side = REQ, .data = "GET /big HTTP/1.1\r\nHost: h\r\n\r\n" };
	f->chunks[1].side = RESP;
	f->chunks[1].data = cat(&f->chunks[1].len, h, pattern, 1000);
	while (at < BIG_BODY) {
		uint64_t left = BIG_BODY - at;
		/* in turn: a full record, a record copied in part, a record
		 * with nothing copied */
		uint64_t span = k % 3 == 0 ? HS_CHUNK_MAX : k % 3 == 1 ? 1 << 20 : 2 << 20;
		size_t cap = k % 3 == 0 ? HS_CHUNK_MAX : k % 3 == 1 ? 10 : 0;
		struct chunk *c = &f->chunks[i++];

		if (i > MAX_CHUNKS - 2) {
			fprintf(stderr, "test_http: 10 MB fixture: raise MAX_CHUNKS\n");
			exit(2);
		}
		if (span >= left) { /* the last record is copied whole */
			span = left;
			cap = left < HS_CHUNK_MAX ? left : HS_CHUNK_MAX;
		}
		c->side = RESP;
		c->data = pattern + at % 26;
		c->len = cap;
		c->gap = span - cap;
		missing += c->gap;
		at += span;
		k++;
	}
	f->chunks[i++] = (struct chunk){ .side = REQ, .data = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n" };
	f->chunks[i++] = (struct chunk){ .side = RESP, .data = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" };
	f->ntxns = 2;
	f->txns[0] = (struct expect){ .method = "GET", .target = "/big", .status = 200,
				      .reason = "OK", .resp_body = BIG_BODY,
				      .resp_missing = missing, .resp_preview = (char *)pattern,
				      .resp_preview_len = MAX_BODY, .resp_trunc = true };
	f->txns[1] = (struct expect){ .method = "GET", .target = "/next", .status = 200,
				      .reason = "OK", .resp_body = 2, .resp_preview = "ok" };
}

static void add_many_headers(void)
{
	struct fixture *f = &rt[nrt++];
	size_t cap = 8192, n = 0;
	char *p = own(xmalloc(cap));

	n += snprintf(p + n, cap - n, "GET /h HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 300; i++)
		n += snprintf(p + n, cap - n, "X-H%03d: v\r\n", i);
	n += snprintf(p + n, cap - n, "\r\n");
	f->name = "300 headers (more than HTTP_MSG_HDRS_MAX)";
	f->role = HS_ROLE_SERVER;
	f->chunks[0] = (struct chunk){ .side = REQ, .data = p, .len = n };
	f->chunks[1] = (struct chunk){ .side = RESP, .data = OK200_0 };
	f->chunks[2] = (struct chunk){ .side = REQ, .data = "GET /after HTTP/1.1\r\nHost: h\r\n\r\n" };
	f->chunks[3] = (struct chunk){ .side = RESP, .data = OK200_0 };
	f->ntxns = 2;
	f->txns[0] = (struct expect){ .method = "GET", .target = "/h", .status = 200,
				      .reason = "OK", .req_nhdrs = HTTP_MSG_HDRS_MAX,
				      .req_head_trunc = true,
				      .req_hdrs = { { "Host", "h" }, { "X-H000", "v" },
						    { "X-H299", NULL } } };
	f->txns[1] = (struct expect){ .method = "GET", .target = "/after",
				      .status = 200, .reason = "OK",
				      .req_nhdrs = 1 };
}

static void add_huge_header(void)
{
	struct fixture *f = &rt[nrt++];
	size_t vlen = 70000, n;
	const char *head = "GET /huge HTTP/1.1\r\nHost: h\r\nX-Big: ";
	const char *tail = "\r\nX-After: 1\r\n\r\n";
	char *p = own(xmalloc(strlen(head) + vlen + strlen(tail)));
	int c = 0;

	n = strlen(head);
	memcpy(p, head, n);
	memset(p + n, 'a', vlen);
	n += vlen;
	memcpy(p + n, tail, strlen(tail));
	n += strlen(tail);
	f->name = "70 KB header (more than HTTP_MSG_BUF_MAX)";
	f->role = HS_ROLE_SERVER;
	f->big = true;
	for (size_t off = 0; off < n; off += HS_CHUNK_MAX) {
		size_t len = n - off < HS_CHUNK_MAX ? n - off : HS_CHUNK_MAX;

		f->chunks[c++] = (struct chunk){ .side = REQ, .data = p + off, .len = len };
	}
	f->chunks[c++] = (struct chunk){ .side = RESP, .data = OK200_0 };
	f->chunks[c++] = (struct chunk){ .side = REQ, .data = "GET /after HTTP/1.1\r\nHost: h\r\n\r\n" };
	f->chunks[c++] = (struct chunk){ .side = RESP, .data = OK200_0 };
	f->ntxns = 2;
	f->txns[0] = (struct expect){ .method = "GET", .target = "/huge", .status = 200,
				      .reason = "OK", .req_head_trunc = true,
				      .req_hdrs = { { "Host", "h" }, { "X-Big", NULL },
						    { "X-After", NULL } } };
	f->txns[1] = (struct expect){ .method = "GET", .target = "/after",
				      .status = 200, .reason = "OK" };
}

static void build_runtime_fixtures(void)
{
	for (size_t i = 0; i < 20; i++)
		memcpy(plain + i * (sizeof(quick) - 1), quick, sizeof(quick) - 1);
	plain_len = 20 * (sizeof(quick) - 1);
	plain[plain_len] = '\0';
	add_coded("gzip response", "gzip", 16 + MAX_WBITS, false, 0);
	add_coded("gzip response, chunked", "gzip", 16 + MAX_WBITS, true, 0);
	add_coded("x-gzip response, --max-body 100", "x-gzip", 16 + MAX_WBITS, false, 100);
	add_coded("deflate (zlib) response", "deflate", MAX_WBITS, false, 0);
	add_coded("deflate (raw) response", "deflate", -MAX_WBITS, false, 0);
	add_coded("deflate (raw) response, chunked", "deflate", -MAX_WBITS, true, 0);
	add_big();
	add_many_headers();
	add_huge_header();
}

/* ---- records --------------------------------------------------------- */

struct rec {
	uint8_t *buf;
	size_t len;
	int dir;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

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

static void fill_header(struct hs_event *ev, uint8_t type, uint8_t role)
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

static void recs_push(struct recs *r, uint8_t *buf, size_t len, int dir)
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
static void add_data(struct recs *r, const struct fixture *f, int dir,
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

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].buf);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

enum mode {
	M_WHOLE,	 /* one record per chunk */
	M_SPLIT,	 /* one chunk in two records */
	M_BYTES,	 /* one byte per record */
	M_REORDER_WHOLE, /* whole, adjacent same-direction records swapped */
	M_REORDER_BYTES, /* bytes, adjacent same-direction records swapped */
	M_REORDER_FIRST, /* bytes, the first two records of each direction
			  * swapped */
	M_SPLIT_SWAP,	 /* one chunk in two records, delivered last first */
	M_BODY_GAP,	 /* whole, with fixture->body_gap */
	M_HDR_GAP,	 /* whole, with fixture->hdr_gap */
};

struct plan {
	enum mode mode;
	int chunk;		/* M_SPLIT, M_SPLIT_SWAP */
	size_t at;
	const struct gapspec *gap; /* M_BODY_GAP, M_HDR_GAP */
};

static size_t body_start(const struct chunk *c)
{
	const char *d = c->data, *e;
	size_t len = chunk_len(c);

	e = memmem(d, len, "\r\n\r\n", 4);
	return e ? (size_t)(e - d) + 4 : 0;
}

static void build(const struct fixture *f, const struct plan *pl,
		  struct recs *r)
{
	uint64_t pos[2] = { 0, 0 };

	for (int i = 0; i < MAX_CHUNKS && f->chunks[i].data; i++) {
		const struct chunk *c = &f->chunks[i];
		const uint8_t *d = c->data;
		size_t len = chunk_len(c);
		int dir = dir_of(f, c->side);

		if (len > HS_CHUNK_MAX) {
			fprintf(stderr, "test_http: %s: chunk %d too long\n",
				f->name, i);
			exit(2);
		}
		if (pl->gap && pl->gap->chunk == i) {
			size_t off = pl->gap->off +
				     (pl->gap->from_body ? body_start(c) : 0);
			size_t end = off + pl->gap->len;

			if (end > len) {
				fprintf(stderr, "test_http: %s: gap past chunk\n",
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

static void dump(const struct collector *col)
{
	for (size_t i = 0; i < col->n; i++) {
		const struct got_txn *g = &col->v[i];

		fprintf(stderr, "    got txn %zu: %s %s -> %d (%s)\n", i,
			g->req.method, g->req.target,
			g->resp.present ? g->resp.status : 0,
			g->error ? g->error : "no error");
	}
}

static void check_txn(const struct fixture *f, size_t k,
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
	if (check_ts && g->resp.complete)
		CHECK(g->resp.first_ts <= g->resp.last_ts &&
			      g->req.first_ts <= g->resp.first_ts,
		      "txn %zu: response ts %llu..%llu, request at %llu", k,
		      (unsigned long long)g->resp.first_ts,
		      (unsigned long long)g->resp.last_ts,
		      (unsigned long long)g->req.first_ts);
#undef FIELD
}

static struct stream *new_stream(struct stats *stats, struct collector *col,
				 size_t max_body)
{
	struct stream_opts o = {
		.max_conns = 64,
		.idle_ns = UINT64_MAX / 4,
		.reorder_ns = UINT64_MAX / 4,
		.reorder_max = 1 << 20,
		.max_body = max_body,
		.emit = { .txn = on_emit, .ctx = col },
		
		.stats = stats,
	};
	struct stream *st = stream_new(&o);

	if (!st) {
		fprintf(stderr, "test_http: stream_new failed\n");
		exit(2);
	}
	return st;
}

static void feed_end(struct stream *st, const struct fixture *f, uint64_t ts)
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

static void run(const struct fixture *f, const struct plan *pl)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct recs r = { 0 };
	struct expect exp[MAX_TXNS];
	struct stream *st;
	uint64_t ts = 1000000, gap_bytes = 0;
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

	/* what the fixture expects, adjusted for the gap put in */
	memcpy(exp, f->txns, sizeof(exp));
	for (int i = 0; i < MAX_CHUNKS && f->chunks[i].data; i++)
		gap_bytes += f->chunks[i].gap;
	if (pl->gap) {
		struct expect *e = &exp[pl->gap->txn];

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
			/* the request is reported as far as it was seen,
			 * with the response that answered it */
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
	}

	CHECK_U64("transactions", col.n, f->ntxns);
	if (col.n != f->ntxns && budget > 0)
		dump(&col);
	for (size_t k = 0; k < col.n && k < f->ntxns; k++)
		check_txn(f, k, &col.v[k], &exp[k], !reordered);
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

static void run_fixture(const struct fixture *f)
{
	struct plan pl = { 0 };

	cur_fixture = f->name;

	family_begin();
	snprintf(cur_mode, sizeof(cur_mode), "whole");
	pl.mode = M_WHOLE;
	run(f, &pl);
	family_end("whole");

	family_begin();
	snprintf(cur_mode, sizeof(cur_mode), "reorder-whole");
	pl.mode = M_REORDER_WHOLE;
	run(f, &pl);
	family_end("reorder-whole");

	if (!f->big) {
		family_begin();
		snprintf(cur_mode, sizeof(cur_mode), "bytes");
		pl.mode = M_BYTES;
		run(f, &pl);
		family_end("bytes");

		family_begin();
		snprintf(cur_mode, sizeof(cur_mode), "reorder-bytes");
		pl.mode = M_REORDER_BYTES;
		run(f, &pl);
		family_end("reorder-bytes");

		family_begin();
		snprintf(cur_mode, sizeof(cur_mode), "reorder-first");
		pl.mode = M_REORDER_FIRST;
		run(f, &pl);
		family_end("reorder-first");

		for (int swap = 0; swap < 2; swap++) {
			const char *family = swap ? "split-swap" : "split";

			family_begin();
			pl.mode = swap ? M_SPLIT_SWAP : M_SPLIT;
			for (int i = 0; i < MAX_CHUNKS && f->chunks[i].data; i++) {
				size_t len = chunk_len(&f->chunks[i]);
				size_t first = f->chunks[i].keep_head ? HEAD_KEEP : 1;

				for (size_t at = first; at < len; at++) {
					snprintf(cur_mode, sizeof(cur_mode),
						 "%s chunk %d at %zu", family, i, at);
					pl.chunk = i;
					pl.at = at;
					run(f, &pl);
				}
			}
			snprintf(cur_mode, sizeof(cur_mode), "%s", family);
			family_end(family);
		}
	}

	pl = (struct plan){ 0 };
	if (f->body_gap.on) {
		family_begin();
		snprintf(cur_mode, sizeof(cur_mode), "body-gap");
		pl.mode = M_BODY_GAP;
		pl.gap = &f->body_gap;
		run(f, &pl);
		family_end("body-gap");
	}
	if (f->hdr_gap.on) {
		family_begin();
		snprintf(cur_mode, sizeof(cur_mode), "hdr-gap");
		pl.mode = M_HDR_GAP;
		pl.gap = &f->hdr_gap;
		run(f, &pl);
		family_end("hdr-gap");
	}
}

/* ---- records, files, connection lifetimes ---------------------------- */

/* A DATA record in buf (at least sizeof(hs_event) + len bytes). */
static size_t mkdata(uint8_t *buf, uint64_t conn, uint32_t tgid, uint8_t role,
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


static struct hs_event *mkctl(uint8_t *buf, uint8_t type, uint64_t conn,
			      uint32_t tgid, uint64_t ts)
{
	struct hs_event *ev = (struct hs_event *)buf;

	fill_header(ev, type, HS_ROLE_CLIENT);
	ev->conn_id = conn;
	ev->tgid = tgid;
	ev->ts_ns = ts;
	return ev;
}

static void section(const char *name)
{
	cur_fixture = name;
	snprintf(cur_mode, sizeof(cur_mode), "-");
	family_begin();
}

static void test_check(void)
{
	size_t n = sizeof(struct hs_event);
	uint8_t *buf = calloc(1, n + HS_CHUNK_MAX + 2);
	struct hs_event *ev = (struct hs_event *)buf;
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st;

	section("stream_check");
	if (!buf)
		exit(2);
	fill_header(ev, HS_EV_DATA, HS_ROLE_CLIENT);
	ev->span = ev->captured = 10;
	CHECK(stream_check(buf, n + 10) == 0, "valid DATA record refused");
	ev->span = 100000;
	CHECK(stream_check(buf, n + 10) == 0, "DATA record with a gap refused");
	ev->span = ev->captured = 0;
	CHECK(stream_check(buf, n) == 0, "empty DATA record refused");
	ev->span = ev->captured = HS_CHUNK_MAX;
	CHECK(stream_check(buf, n + HS_CHUNK_MAX) == 0, "HS_CHUNK_MAX record refused");

	ev->span = ev->captured = 10;
	CHECK(stream_check(buf, n - 1) == -EINVAL, "short record accepted");
	CHECK(stream_check(buf, 0) == -EINVAL, "empty record accepted");
	CHECK(stream_check(buf, n + 9) == -EINVAL, "record shorter than captured accepted");
	CHECK(stream_check(buf, n + 11) == -EINVAL, "record longer than captured accepted");
	ev->span = 9;
	CHECK(stream_check(buf, n + 10) == -EINVAL, "captured > span accepted");
	ev->span = ev->captured = HS_CHUNK_MAX + 1;
	CHECK(stream_check(buf, n + HS_CHUNK_MAX + 1) == -EINVAL,
	      "captured > HS_CHUNK_MAX accepted");
	ev->span = ev->captured = 10;
	for (int t = 0; t < 256; t++) {
		ev->type = (uint8_t)t;
		if (t < HS_EV_DATA || t > HS_EV_EXEC)
			CHECK(stream_check(buf, n + 10) == -EINVAL && stream_check(buf, n) == -EINVAL,
			      "record of type %d accepted", t);
	}
	ev->type = HS_EV_DATA;
	ev->dir = 2;
	CHECK(stream_check(buf, n + 10) == -EINVAL, "dir 2 accepted");
	ev->dir = 255;
	CHECK(stream_check(buf, n + 10) == -EINVAL, "dir 255 accepted");
	ev->dir = HS_DIR_RECV;
	ev->role = 3;
	CHECK(stream_check(buf, n + 10) == -EINVAL, "role 3 accepted");
	ev->role = HS_ROLE_SERVER;
	CHECK(stream_check(buf, n + 10) == 0, "valid RECV record refused");

	ev->type = HS_EV_CLOSE;
	CHECK(stream_check(buf, n) == 0, "CLOSE record refused");
	CHECK(stream_check(buf, n + 1) == -EINVAL, "CLOSE record with payload accepted");
	CHECK(stream_check(buf, n - 1) == -EINVAL, "short CLOSE record accepted");
	ev->type = HS_EV_EXIT;
	CHECK(stream_check(buf, n) == 0, "EXIT record refused");
	CHECK(stream_check(buf, n + 4) == -EINVAL, "EXIT record with payload accepted");

	/* stream_feed counts a malformed record and drops it */
	st = new_stream(&stats, &col, MAX_BODY);
	fill_header(ev, HS_EV_DATA, HS_ROLE_CLIENT);
	ev->span = ev->captured = 4;
	memcpy(buf + n, "GET ", 4);
	CHECK(stream_feed(st, buf, n + 3) == -EINVAL, "stream_feed took a bad record");
	ev->captured = 5;
	CHECK(stream_feed(st, buf, n + 5) == -EINVAL, "stream_feed took captured > span");
	CHECK_U64("stats.bad_records", stats.bad_records, 2);
	CHECK_U64("stats.events", stats.events, 0);
	CHECK_U64("stats.conns", stats.conns, 0);
	CHECK_U64("stream_count", stream_count(st), 0);
	/* a CLOSE for a connection never seen is harmless */
	mkctl(buf, HS_EV_CLOSE, 99, TGID, 1);
	CHECK(stream_feed(st, buf, n) == 0, "CLOSE of an unknown connection refused");
	CHECK_U64("transactions", col.n, 0);
	stream_free(st);
	collector_free(&col);
	free(buf);
	family_end("-");
}

/* ---- --record / --replay ---- */

struct replay_ctx {
	const struct recs *want; /* records the file must hold, or NULL */
	struct stream *st;	 /* fed each record, or NULL */
	size_t n, stop_after;
	bool mismatch;
};

static int replay_cb(void *ctx, const void *rec, size_t len)
{
	struct replay_ctx *c = ctx;

	if (c->want && (c->n >= c->want->n || c->want->v[c->n].len != len ||
			memcmp(c->want->v[c->n].buf, rec, len)))
		c->mismatch = true;
	if (c->st)
		stream_feed(c->st, rec, len);
	c->n++;
	return c->stop_after && c->n == c->stop_after;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(2);
	}
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	uint8_t *p = xmalloc(1 << 20);

	if (!f) {
		perror(path);
		exit(2);
	}
	*len = fread(p, 1, 1 << 20, f);
	fclose(f);
	return p;
}

#define FILE_HEADER 24 /* magic, abi, event size, clock offset */

static void test_record(void)
{
	const struct fixture *f = &fixtures[0];
	struct plan pl = { .mode = M_WHOLE };
	struct recs r = { 0 };
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct replay_ctx rc;
	struct recorder *rec;
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300], cut[300], link[300];
	uint8_t closebuf[sizeof(struct hs_event)];
	uint8_t *file;
	size_t flen, last_at = FILE_HEADER;
	int64_t off = 0;
	long bad_at = 0;
	int err;

	section("record/replay");
	snprintf(dir, sizeof(dir), "%s/test_http.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/rec", dir);
	snprintf(cut, sizeof(cut), "%s/cut", dir);
	snprintf(link, sizeof(link), "%s/link", dir);

	build(f, &pl, &r);
	for (size_t i = 0; i < r.n; i++)
		((struct hs_event *)r.v[i].buf)->ts_ns = 1000 * (i + 1);
	mkctl(closebuf, HS_EV_CLOSE, CONN_ID, TGID, 1000 * (r.n + 1));
	{
		uint8_t *c = xmalloc(sizeof(closebuf));

		memcpy(c, closebuf, sizeof(closebuf));
		recs_push(&r, c, sizeof(closebuf), 0);
	}

	rec = recorder_open(path, -123456789012345LL);
	CHECK(rec != NULL, "recorder_open: %s", strerror(errno));
	if (!rec)
		goto out;
	for (size_t i = 0; i < r.n; i++) {
		if (i + 1 == r.n)
			last_at = FILE_HEADER;
		CHECK(recorder_write(rec, r.v[i].buf, r.v[i].len) == 0, "recorder_write %zu", i);
	}
	CHECK(recorder_close(rec) == 0, "recorder_close");
	CHECK(recorder_close(NULL) == 0, "recorder_close(NULL)");
	for (size_t i = 0; i + 1 < r.n; i++)
		last_at += 4 + r.v[i].len;

	err = replay_header(path, &off);
	CHECK(err == 0 && off == -123456789012345LL, "replay_header: %d, offset %lld",
	      err, (long long)off);

	/* the round trip gives back the records, and the transactions */
	memset(&rc, 0, sizeof(rc));
	rc.want = &r;
	rc.st = new_stream(&stats, &col, MAX_BODY);
	off = 0;
	err = replay_file(path, replay_cb, &rc, &off, &bad_at);
	CHECK(err == 0, "replay_file: %d", err);
	CHECK(off == -123456789012345LL, "clock offset %lld", (long long)off);
	CHECK(!rc.mismatch && rc.n == r.n, "replayed %zu records (%s), expected %zu",
	      rc.n, rc.mismatch ? "some differ" : "identical", r.n);
	CHECK_U64("stream_count after replay", stream_count(rc.st), 0);
	stream_free(rc.st);
	CHECK_U64("replayed transactions", col.n, f->ntxns);
	for (size_t k = 0; k < col.n && k < f->ntxns; k++)
		check_txn(f, k, &col.v[k], &f->txns[k], true);
	collector_free(&col);

	/* fn stops the replay early */
	memset(&rc, 0, sizeof(rc));
	rc.stop_after = 2;
	err = replay_file(path, replay_cb, &rc, &off, &bad_at);
	CHECK(err == 0 && rc.n == 2, "early stop: %d after %zu records", err, rc.n);

	file = read_file(path, &flen);
	{
		size_t want = FILE_HEADER;

		for (size_t i = 0; i < r.n; i++)
			want += 4 + r.v[i].len;
		CHECK_U64("file size", flen, want);
	}

	/* cut inside the last record's payload */
	write_file(cut, file, flen - 3);
	memset(&rc, 0, sizeof(rc));
	err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
	CHECK(err == -EBADMSG, "payload cut short: got %d, expected -EBADMSG", err);
	CHECK(bad_at == (long)last_at, "payload cut short: bad_at %ld, expected %zu",
	      bad_at, last_at);
	CHECK(rc.n == r.n - 1, "payload cut short: %zu records before it, expected %zu",
	      rc.n, r.n - 1);

	/* cut inside the last record's length word */
	write_file(cut, file, last_at + 2);
	memset(&rc, 0, sizeof(rc));
	err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
	CHECK(err == -EBADMSG, "length word cut short: got %d, expected -EBADMSG", err);
	CHECK(bad_at == (long)last_at, "length word cut short: bad_at %ld, expected %zu",
	      bad_at, last_at);

	/* cut inside the file header */
	write_file(cut, file, 10);
	err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
	CHECK(err == -EBADMSG, "header cut short: got %d", err);
	CHECK(replay_header(cut, &off) == -EBADMSG, "replay_header of a cut header");

	/* a header and no records is an empty recording */
	write_file(cut, file, FILE_HEADER);
	memset(&rc, 0, sizeof(rc));
	err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
	CHECK(err == 0 && rc.n == 0, "empty recording: %d, %zu records", err, rc.n);

	/* not a recording; another ABI version */
	write_file(cut, "hello, this is not a recording at all", 37);
	CHECK(replay_file(cut, replay_cb, &rc, &off, &bad_at) == -EBADMSG,
	      "a text file replayed");
	file[8]++;
	write_file(cut, file, flen);
	CHECK(replay_file(cut, replay_cb, &rc, &off, &bad_at) == -EBADMSG,
	      "a recording of another ABI version replayed");
	CHECK(replay_header(cut, &off) == -EBADMSG, "replay_header of another ABI version");
	file[8]--;
	/* a record longer than RECORD_MAX */
	{
		uint32_t big = RECORD_MAX + 1;

		memcpy(file + FILE_HEADER, &big, 4);
		write_file(cut, file, flen);
		memset(&rc, 0, sizeof(rc));
		err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
		CHECK(err == -EBADMSG && bad_at == FILE_HEADER && rc.n == 0,
		      "oversized record: %d at %ld after %zu", err, bad_at, rc.n);
	}
	free(file);

	snprintf(path, sizeof(path), "%s/absent", dir);
	CHECK(replay_file(path, replay_cb, &rc, &off, &bad_at) == -ENOENT,
	      "a missing file replayed");
	CHECK(replay_header(path, &off) == -ENOENT, "replay_header of a missing file");

	/* recorder_open refuses a symlink, and truncates a regular file */
	CHECK(symlink(cut, link) == 0, "symlink: %s", strerror(errno));
	rec = recorder_open(link, 0);
	CHECK(rec == NULL, "recorder_open followed a symlink");
	recorder_close(rec);
	rec = recorder_open(cut, 7);
	CHECK(rec != NULL, "recorder_open over a file: %s", strerror(errno));
	if (rec) {
		CHECK(recorder_write(rec, closebuf, sizeof(closebuf)) == 0, "recorder_write");
		CHECK(recorder_close(rec) == 0, "recorder_close");
		file = read_file(cut, &flen);
		CHECK_U64("rewritten file size", flen, FILE_HEADER + 4 + sizeof(closebuf));
		free(file);
	}
	{
		struct stat sb;

		CHECK(stat(cut, &sb) == 0 && (sb.st_mode & 0777) == 0600 ,
		      "recording mode %o", (unsigned)(sb.st_mode & 0777));
	}
	unlink(link);
	unlink(cut);
	snprintf(path, sizeof(path), "%s/rec", dir);
	unlink(path);
out:
	rmdir(dir);
	recs_free(&r);
	family_end("-");
}

/* ---- connection lifetimes ---- */

static uint8_t scratch[sizeof(struct hs_event) + HS_CHUNK_MAX];

/* pos: the next offset of each direction, updated. */
static void feed_str(struct stream *st, uint64_t conn, uint32_t tgid, int dir,
		     uint64_t pos[2], const char *s, uint64_t ts)
{
	size_t n = mkdata(scratch, conn, tgid, HS_ROLE_CLIENT, dir, pos[dir], s, ts);

	pos[dir] += strlen(s);
	CHECK(stream_feed(st, scratch, n) == 0, "record refused");
}

static void feed_ctl(struct stream *st, uint8_t type, uint64_t conn,
		     uint32_t tgid, uint64_t ts)
{
	mkctl(scratch, type, conn, tgid, ts);
	CHECK(stream_feed(st, scratch, sizeof(struct hs_event)) == 0,
	      "control record refused");
}

static void test_exit(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream(&stats, &col, MAX_BODY);
	uint64_t pos[5][2] = { { 0 } };

	section("HS_EV_EXIT");
	feed_str(st, 1, 100, HS_DIR_SEND, pos[1], "GET /a HTTP/1.1\r\n\r\n", 10);
	feed_str(st, 2, 100, HS_DIR_SEND, pos[2], "GET /b HTTP/1.1\r\n\r\n", 20);
	feed_str(st, 3, 200, HS_DIR_SEND, pos[3], "GET /c HTTP/1.1\r\n\r\n", 30);
	CHECK_U64("stream_count", stream_count(st), 3);
	feed_ctl(st, HS_EV_EXIT, 0, 100, 40);
	CHECK_U64("transactions after exit of 100", col.n, 2);
	for (size_t i = 0; i < col.n; i++) {
		CHECK_STR("error", col.v[i].error, "process exited");
		CHECK_U64("pid", col.v[i].conn.pid, 100);
		CHECK(!col.v[i].resp.present, "response present");
	}
	CHECK_U64("stream_count", stream_count(st), 1);
	/* the other process goes on */
	feed_str(st, 3, 200, HS_DIR_RECV, pos[3], OK200_0, 50);
	CHECK_U64("transactions", col.n, 3);
	if (col.n == 3) {
		CHECK_STR("target", col.v[2].req.target, "/c");
		CHECK_INT("status", col.v[2].resp.status, 200);
		CHECK_STR("error", col.v[2].error, NULL);
	}
	/* an exit of a process with nothing tracked */
	feed_ctl(st, HS_EV_EXIT, 0, 300, 60);
	CHECK_U64("stream_count", stream_count(st), 1);
	feed_ctl(st, HS_EV_EXIT, 0, 200, 70);
	CHECK_U64("stream_count", stream_count(st), 0);
	CHECK_U64("transactions", col.n, 3);
	CHECK_U64("stats.unpaired_reqs", stats.unpaired_reqs, 2);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

static void test_evict(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream_opts o = {
		.max_conns = 2, .idle_ns = 1000000, .reorder_ns = 1000000,
		.reorder_max = 16, .max_body = MAX_BODY, .emit = { .txn = on_emit, .ctx = &col },
		 .stats = &stats,
	};
	struct stream *st = stream_new(&o);
	uint64_t pos[5][2] = { { 0 } };

	section("eviction and idleness");
	feed_str(st, 1, TGID, HS_DIR_SEND, pos[1], "GET /a HTTP/1.1\r\n\r\n", 10);
	feed_str(st, 2, TGID, HS_DIR_SEND, pos[2], "GET /b HTTP/1.1\r\n\r\n", 20);
	CHECK_U64("transactions", col.n, 0);
	feed_str(st, 3, TGID, HS_DIR_SEND, pos[3], "GET /c HTTP/1.1\r\n\r\n", 30);
	CHECK_U64("stats.conns_evicted", stats.conns_evicted, 1);
	CHECK_U64("stream_count", stream_count(st), 2);
	CHECK_U64("transactions", col.n, 1);
	if (col.n >= 1) {
		CHECK_U64("evicted conn_id", col.v[0].conn.conn_id, 1);
		CHECK_STR("evicted target", col.v[0].req.target, "/a");
		CHECK_STR("error", col.v[0].error, "evicted: too many connections");
		CHECK(!col.v[0].resp.present, "response present");
	}
	/* activity on 2 makes 3 the least recently active */
	feed_str(st, 2, TGID, HS_DIR_RECV, pos[2], OK200_0, 40);
	CHECK_U64("transactions", col.n, 2);
	feed_str(st, 4, TGID, HS_DIR_SEND, pos[4], "GET /d HTTP/1.1\r\n\r\n", 50);
	CHECK_U64("stats.conns_evicted", stats.conns_evicted, 2);
	CHECK_U64("transactions", col.n, 3);
	if (col.n >= 3) {
		CHECK_U64("evicted conn_id", col.v[2].conn.conn_id, 3);
		CHECK_STR("evicted target", col.v[2].req.target, "/c");
	}
	CHECK_U64("stats.unpaired_reqs", stats.unpaired_reqs, 2);

	/* idleness: 4 waits since 50, 2 since 40 */
	stream_tick(st, 1000040);
	CHECK_U64("stream_count before idle_ns", stream_count(st), 2);
	stream_tick(st, 1000041);
	CHECK_U64("stream_count", stream_count(st), 1);
	stream_tick(st, 1000051);
	CHECK_U64("stream_count", stream_count(st), 0);
	CHECK_U64("stats.conns_evicted", stats.conns_evicted, 4);
	CHECK_U64("transactions", col.n, 4);
	if (col.n >= 4) {
		CHECK_STR("idle target", col.v[3].req.target, "/d");
		CHECK_STR("error", col.v[3].error, "connection idle");
	}
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

/* A hole that never fills becomes a gap after reorder_ns, or when too
 * many records wait behind it. */
static void test_reorder_limits(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream_opts o = {
		.max_conns = 16, .idle_ns = UINT64_MAX / 4, .reorder_ns = 5000,
		.reorder_max = 2, .max_body = MAX_BODY, .emit = { .txn = on_emit, .ctx = &col },
		 .stats = &stats,
	};
	struct stream *st = stream_new(&o);
	const char *r0 = "GET /0 HTTP/1.1\r\n\r\n", *lost = "GET /lost HTTP/1.1\r\n\r\n";
	uint64_t p[2] = { 0, 0 }, lost_at;
	size_t n;

	section("reorder timeout and overflow");
	feed_str(st, 1, TGID, HS_DIR_SEND, p, r0, 1000);
	feed_str(st, 1, TGID, HS_DIR_RECV, p, OK200_0, 1500);
	CHECK_U64("transactions", col.n, 1);
	lost_at = p[HS_DIR_SEND];
	p[HS_DIR_SEND] += strlen(lost); /* never delivered */
	feed_str(st, 1, TGID, HS_DIR_SEND, p, "GET /2 HTTP/1.1\r\n\r\n", 3000);
	stream_tick(st, 7999);
	CHECK_U64("stats.gap_bytes before reorder_ns", stats.gap_bytes, 0);
	stream_tick(st, 8001);
	CHECK_U64("stats.gap_bytes", stats.gap_bytes, strlen(lost));
	feed_str(st, 1, TGID, HS_DIR_RECV, p,
		 "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 9000);
	CHECK_U64("transactions", col.n, 2);
	if (col.n >= 2) {
		CHECK_STR("target after the hole", col.v[1].req.target, "/2");
		CHECK_INT("status", col.v[1].resp.status, 201);
		CHECK_STR("error", col.v[1].error, NULL);
	}
	/* the lost record turning up late is ignored */
	n = mkdata(scratch, 1, TGID, HS_ROLE_CLIENT, HS_DIR_SEND, lost_at, lost, 9500);
	CHECK(stream_feed(st, scratch, n) == 0, "late record refused");

	/* overflow: with reorder_max 2, the third record waiting behind a
	 * hole declares it a gap */
	p[HS_DIR_SEND] += strlen(lost); /* another hole */
	feed_str(st, 1, TGID, HS_DIR_SEND, p, "GET /3 HTTP/1.1\r\n\r\n", 10000);
	feed_str(st, 1, TGID, HS_DIR_SEND, p, "GET /4 HTTP/1.1\r\n\r\n", 10001);
	CHECK_U64("stats.reorder_overflow", stats.reorder_overflow, 0);
	feed_str(st, 1, TGID, HS_DIR_SEND, p, "GET /5 HTTP/1.1\r\n\r\n", 10002);
	CHECK_U64("stats.reorder_overflow", stats.reorder_overflow, 1);
	CHECK_U64("stats.gap_bytes", stats.gap_bytes, 2 * strlen(lost));
	feed_str(st, 1, TGID, HS_DIR_RECV, p, OK200_0 OK200_0 OK200_0, 11000);
	CHECK_U64("transactions", col.n, 5);
	for (size_t i = 2; i < col.n && i < 5; i++) {
		char t[8];

		snprintf(t, sizeof(t), "/%zu", i + 1);
		CHECK_STR("target", col.v[i].req.target, t);
		CHECK_INT("status", col.v[i].resp.status, 200);
	}
	feed_ctl(st, HS_EV_CLOSE, 1, TGID, 12000);
	CHECK_U64("transactions", col.n, 5);
	CHECK_U64("stats.parse_errors", stats.parse_errors, 0);
	CHECK_U64("stats.unpaired_reqs", stats.unpaired_reqs, 0);
	CHECK_U64("stats.unpaired_resps", stats.unpaired_resps, 0);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

/* A connection first seen mid-stream whose first record (HS_F_START)
 * was lost: what came after it waits, then is taken as the start. */
static void test_midstream_start_lost(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream_opts o = {
		.max_conns = 16, .idle_ns = UINT64_MAX / 4, .reorder_ns = 5000,
		.reorder_max = 64, .max_body = MAX_BODY, .emit = { .txn = on_emit, .ctx = &col },
		 .stats = &stats,
	};
	struct stream *st = stream_new(&o);
	struct hs_event *ev = (struct hs_event *)scratch;
	size_t n;

	section("mid-stream start lost");
	n = mkdata(scratch, 1, TGID, HS_ROLE_UNKNOWN, HS_DIR_RECV, 9000,
		   "GET /m HTTP/1.1\r\nHost: h\r\n\r\n", 1000);
	CHECK(stream_feed(st, scratch, n) == 0, "record refused");
	stream_tick(st, 2000);
	CHECK_U64("transactions", col.n, 0);
	stream_tick(st, 7000);
	n = mkdata(scratch, 1, TGID, HS_ROLE_UNKNOWN, HS_DIR_SEND, 300,
		   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 8000);
	ev->flags = HS_F_START;
	CHECK(stream_feed(st, scratch, n) == 0, "record refused");
	CHECK_U64("transactions", col.n, 1);
	if (col.n == 1) {
		CHECK_STR("target", col.v[0].req.target, "/m");
		CHECK_INT("status", col.v[0].resp.status, 200);
		CHECK_STR("preview", (const char *)col.v[0].resp.preview, "ok");
		CHECK_INT("role", col.v[0].conn.role, HS_ROLE_UNKNOWN);
	}
	CHECK_U64("stats.parse_errors", stats.parse_errors, 0);
	feed_ctl(st, HS_EV_CLOSE, 1, TGID, 9000);
	CHECK_U64("transactions", col.n, 1);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

struct admit_ctx {
	unsigned calls, flags;
};

static bool admit(void *ctx, struct conn_info *conn, unsigned ev_flags)
{
	struct admit_ctx *a = ctx;

	a->calls++;
	a->flags = ev_flags;
	conn->remote.port = 9999; /* an address learned here shows */
	return conn->conn_id != 66;
}

static void test_admit(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct admit_ctx a = { 0 };
	struct stream_opts o = {
		.max_conns = 16, .idle_ns = UINT64_MAX / 4,
		.reorder_ns = UINT64_MAX / 4, .reorder_max = 16,
		.max_body = MAX_BODY, .emit = { .txn = on_emit, .ctx = &col }, 
		.stats = &stats, .admit = admit, .admit_ctx = &a,
	};
	struct stream *st = stream_new(&o);
	uint64_t pos[2][2] = { { 0 } };
	size_t n;

	section("admit callback");
	n = mkdata(scratch, 66, TGID, HS_ROLE_CLIENT, HS_DIR_SEND, 0,
		   "GET /no HTTP/1.1\r\n\r\n", 10);
	((struct hs_event *)scratch)->flags = HS_F_UNVERIFIED;
	CHECK(stream_feed(st, scratch, n) == 0, "record refused");
	CHECK(a.calls == 1 && a.flags == HS_F_UNVERIFIED, "admit: %u calls, flags %u",
	      a.calls, a.flags);
	pos[0][0] = n - sizeof(struct hs_event);
	feed_str(st, 66, TGID, HS_DIR_RECV, pos[0], OK200_0, 20);
	feed_str(st, 77, TGID, HS_DIR_SEND, pos[1], "GET /yes HTTP/1.1\r\n\r\n", 30);
	feed_str(st, 77, TGID, HS_DIR_RECV, pos[1], OK200_0, 40);
	CHECK(a.calls == 2, "admit called %u times, expected 2", a.calls);
	CHECK_U64("transactions", col.n, 1);
	if (col.n >= 1) {
		CHECK_STR("target", col.v[0].req.target, "/yes");
		CHECK_INT("remote port set by admit", col.v[0].conn.remote.port, 9999);
	}
	CHECK_U64("stats.unpaired_resps", stats.unpaired_resps, 0);
	stream_close_all(st, 50, "tracing stopped");
	CHECK_U64("transactions", col.n, 1);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

static void test_pipeline_max(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream(&stats, &col, MAX_BODY);
	char *reqs = xmalloc(HS_CHUNK_MAX);
	size_t len = 0;
	uint64_t p[2] = { 0, 0 };

	section("HTTP1_PIPELINE_MAX");
	for (int i = 0; i < 300; i++)
		len += snprintf(reqs + len, HS_CHUNK_MAX - len, "GET /%d HTTP/1.1\r\n\r\n", i);
	feed_str(st, 1, TGID, HS_DIR_SEND, p, reqs, 10);
	CHECK_U64("transactions dropped", col.n, 300 - HTTP1_PIPELINE_MAX);
	for (size_t i = 0; i < col.n; i++) {
		char t[24];

		snprintf(t, sizeof(t), "/%zu", i);
		CHECK_STR("target", col.v[i].req.target, t);
		CHECK_STR("error", col.v[i].error, "too many pipelined requests");
	}
	feed_str(st, 1, TGID, HS_DIR_RECV, p, OK200_0, 20);
	CHECK_U64("transactions", col.n, 300 - HTTP1_PIPELINE_MAX + 1);
	if (col.n == 300 - HTTP1_PIPELINE_MAX + 1) {
		CHECK_STR("target", col.v[col.n - 1].req.target, "/44");
		CHECK_INT("status", col.v[col.n - 1].resp.status, 200);
	}
	feed_ctl(st, HS_EV_CLOSE, 1, TGID, 30);
	CHECK_U64("transactions", col.n, 300);
	CHECK_U64("stats.unpaired_reqs", stats.unpaired_reqs, 299);
	stream_free(st);
	collector_free(&col);
	free(reqs);
	family_end("-");
}

static void test_looks_like_start(void)
{
	static const struct {
		const char *s;
		bool req, want;
	} t[] = {
		{ "GET / HTTP/1.1", true, true },
		{ "OPTIONS * HTTP/1.1", true, true },
		{ "PATCH /x", true, true },
		{ "GET", true, false },
		{ "get / HTTP/1.1", true, false },
		{ "HTTP/1.1 200 OK", true, false },
		{ "HTTP/1.1 200 OK", false, true },
		{ "HTTP/1.0 200 OK", false, true },
		{ "HTTP/1.", false, true },
		{ "HTTP/2 200", false, false },
		{ "HTTP/1", false, false },
		{ "GET / HTTP/1.1", false, false },
		{ "", true, false },
	};

	section("http1_looks_like_start");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(http1_looks_like_start((const uint8_t *)t[i].s, strlen(t[i].s),
					     t[i].req) == t[i].want,
		      "\"%s\" as %s: expected %d", t[i].s,
		      t[i].req ? "request" : "response", t[i].want);
	family_end("-");
}

/* Freeing a stream with requests waiting reports nothing and leaks
 * nothing (ASan checks the second half). */
static void test_free_pending(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream(&stats, &col, MAX_BODY);
	uint64_t pos[2] = { 0, 0 };
	uint8_t z[64];
	size_t zl = zcompress(16 + MAX_WBITS, "abcabcabc", 9, z, sizeof(z));
	char hdr[128];
	size_t n;

	section("stream_free with work pending");
	feed_str(st, 1, TGID, HS_DIR_SEND, pos, "GET /a HTTP/1.1\r\n\r\n", 10);
	/* a gzip body cut short keeps an inflate state alive */
	snprintf(hdr, sizeof(hdr),
		 "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zl);
	n = strlen(hdr);
	memcpy(hdr + n, z, 4);
	{
		struct hs_event *ev = (struct hs_event *)scratch;

		fill_header(ev, HS_EV_DATA, HS_ROLE_CLIENT);
		ev->conn_id = 1;
		ev->dir = HS_DIR_RECV;
		ev->span = ev->captured = (uint32_t)(n + 4);
		memcpy(scratch + sizeof(*ev), hdr, n + 4);
		CHECK(stream_feed(st, scratch, sizeof(*ev) + n + 4) == 0, "record refused");
	}
	/* and a record waiting behind a hole */
	pos[0] += 100;
	feed_str(st, 1, TGID, HS_DIR_SEND, pos, "GET /b HTTP/1.1\r\n\r\n", 20);
	stream_free(st);
	stream_free(NULL);
	CHECK_U64("transactions", col.n, 0);
	collector_free(&col);
	family_end("-");
}

/* Two connections' records interleaved one byte at a time: each keeps
 * its own order and its own transactions. */
static void test_interleaved(void)
{
	const struct fixture *f = &fixtures[0];
	struct plan pl = { .mode = M_BYTES };
	struct recs r[2] = { { 0 }, { 0 } };
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream(&stats, &col, MAX_BODY);
	uint64_t ts = 0;
	size_t seen[2] = { 0, 0 };

	section("interleaved connections");
	build(f, &pl, &r[0]);
	build(f, &pl, &r[1]);
	for (size_t i = 0; i < r[1].n; i++) {
		struct hs_event *ev = (struct hs_event *)r[1].v[i].buf;

		ev->conn_id = CONN_ID + 1;
		ev->fd = FD + 1;
	}
	for (size_t i = 0; i < r[0].n; i++) {
		for (int c = 0; c < 2; c++) {
			((struct hs_event *)r[c].v[i].buf)->ts_ns = ts += 10;
			CHECK(stream_feed(st, r[c].v[i].buf, r[c].v[i].len) == 0,
			      "record refused");
		}
	}
	CHECK_U64("stream_count", stream_count(st), 2);
	feed_ctl(st, HS_EV_CLOSE, CONN_ID, TGID, ts + 10);
	feed_ctl(st, HS_EV_CLOSE, CONN_ID + 1, TGID, ts + 20);
	CHECK_U64("transactions", col.n, 2 * f->ntxns);
	for (size_t i = 0; i < col.n; i++) {
		const struct got_txn *g = &col.v[i];
		int c = g->conn.conn_id == CONN_ID + 1;
		size_t k = seen[c]++;

		CHECK_INT("fd", g->conn.fd, FD + c);
		if (k >= f->ntxns)
			continue;
		CHECK_STR("target", g->req.target, f->txns[k].target);
		CHECK_INT("status", g->resp.status, f->txns[k].status);
		CHECK_U64("response body_size", g->resp.body_size, f->txns[k].resp_body);
		CHECK_STR("error", g->error, NULL);
	}
	CHECK_U64("stats.conns", stats.conns, 2);
	stream_free(st);
	collector_free(&col);
	recs_free(&r[0]);
	recs_free(&r[1]);
	family_end("-");
}

/* Runs fn in a child so that a crash (or a sanitizer report) in src/ is
 * counted as a failure of that part and the rest still runs. */
static void isolate(const char *name, void (*fn)(const void *), const void *arg)
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
	void (*const *fn)(void) = arg;

	(*fn)();
}

static void (*const tests[])(void) = {
	test_check, test_record, test_exit, test_evict, test_reorder_limits,
	test_admit, test_pipeline_max, test_looks_like_start, test_free_pending,
	test_interleaved, test_midstream_start_lost,
};
static const char *const test_names[] = {
	"stream_check", "record/replay", "HS_EV_EXIT", "eviction and idleness",
	"reorder timeout and overflow", "admit callback", "HTTP1_PIPELINE_MAX",
	"http1_looks_like_start", "stream_free with work pending",
	"interleaved connections", "mid-stream start lost",
};

/* Usage: test_http [SUBSTRING] -- runs only the parts whose name holds it. */
int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t nfix = 0;

	cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	build_runtime_fixtures();
	for (size_t i = 0; i < NFIXTURES + nrt; i++) {
		const struct fixture *f = i < NFIXTURES ? &fixtures[i] : &rt[i - NFIXTURES];

		if (only && !strstr(f->name, only))
			continue;
		nfix++;
		isolate(f->name, fixture_fn, f);
	}
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!only || strstr(test_names[i], only))
			isolate(test_names[i], call_fn, &tests[i]);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	printf("test_http: %zu fixtures in %lu runs, %lu checks, %lu failed\n",
	       nfix, cnt->runs, cnt->checks, cnt->failures);
	return cnt->failures ? 1 : 0;
}
