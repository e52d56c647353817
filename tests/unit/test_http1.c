/* test_http1.c -- unit test of the HTTP/1 protocol: table-driven connections fed through the stream tracker as probe records.
 *
 * Each fixture (fixtures.h), in the manner of http-parser's `struct
 * message` table, is one connection: its role, its chunks in time order
 * (one chunk is one syscall's bytes, request or response side) and the
 * transactions HTTP/1 must report.  Every fixture is fed as the probe
 * would send it (harness.c): whole, split in two at every byte, one byte
 * per record, with adjacent records of a direction swapped, and, where
 * the fixture says how, with a capture gap in a body or in a request's
 * headers.  Each fixture runs in a child process, so that a crash in src/
 * is reported as that fixture's failure and the others still run.
 *
 * Exits 0 only if every check passed; prints each failure (a few per
 * fixture and mode, or all with TEST_HTTP_VERBOSE set) with the fixture
 * and the mode, then a summary line.  An argument runs only the parts
 * whose name contains it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fixtures.h"
#include "harness.h"
#include "proto/http1.h"

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
			fprintf(stderr, "test_http1: 10 MB fixture: raise MAX_CHUNKS\n");
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

static const struct harness_test tests[] = {
	{ "HTTP1_PIPELINE_MAX", test_pipeline_max },
	{ "http1_looks_like_start", test_looks_like_start },
};

/* Usage: test_http1 [SUBSTRING] -- runs only the parts whose name holds it. */
int main(int argc, char **argv)
{
	const struct fixture *all[NFIXTURES + sizeof(rt) / sizeof(rt[0])];
	size_t n = 0;

	build_runtime_fixtures();
	for (size_t i = 0; i < NFIXTURES; i++)
		all[n++] = &fixtures[i];
	for (size_t i = 0; i < nrt; i++)
		all[n++] = &rt[i];
	return harness_main("test_http1", argc, argv, all, n, tests,
			    sizeof(tests) / sizeof(tests[0]));
}
