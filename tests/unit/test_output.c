/* test_output.c -- unit test of the text and JSON sinks: hand-built transactions rendered as text and JSON Lines.
 *
 * Plain run: checks the text and JSON of every fixture, random hostile
 * transactions, and the output's file handling (sinks_open); exits 0
 * only if all checks pass, printing each failure to stderr.
 * "--jsonl": writes every fixture, then the random ones, as JSON Lines to
 * stdout through sinks_open() with no -o, for tests/unit/check_jsonl.py.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sink/sink.h"
#include "sink/writer.h"

#include "check.h"


/* 2026-11-24T14:02:11.123456789Z is T0 on the monotonic clock. */
#define T0 5000000000ULL
#define EPOCH_AT_T0 1795528931123456789LL
#define OFFSET (EPOCH_AT_T0 - (int64_t)T0)
#define MAX_BODY 64

/* ---- building messages by hand ---- */

static uint32_t msg_put(struct http_msg *m, const void *s, size_t n)
{
	uint32_t off;

	if (m->buf_len + n + 1 > m->buf_cap) {
		m->buf_cap = (m->buf_len + n + 1) * 2;
		m->buf = realloc(m->buf, m->buf_cap);
		if (!m->buf)
			abort();
	}
	off = (uint32_t)m->buf_len;
	memcpy(m->buf + off, s, n);
	m->buf[off + n] = '\0';
	m->buf_len += n + 1;
	return off;
}

static void msg_start(struct http_msg *m, uint64_t first, uint64_t last)
{
	m->present = true;
	m->complete = true;
	m->version_major = 1;
	m->version_minor = 1;
	m->first_ts = first;
	m->last_ts = last;
}

static void req_line(struct http_msg *m, const char *method, const char *target)
{
	m->method_len = (uint32_t)strlen(method);
	m->method_off = msg_put(m, method, m->method_len);
	m->target_len = (uint32_t)strlen(target);
	m->target_off = msg_put(m, target, m->target_len);
}

static void status_line(struct http_msg *m, int status, const char *reason)
{
	m->status = status;
	m->reason_len = (uint32_t)strlen(reason);
	m->reason_off = msg_put(m, reason, m->reason_len);
}

static void hdrn(struct http_msg *m, const char *name, size_t nlen,
		 const char *value, size_t vlen)
{
	struct http_header *h;

	if (m->nhdrs == m->hdrs_cap) {
		m->hdrs_cap = m->hdrs_cap ? m->hdrs_cap * 2 : 8;
		m->hdrs = realloc(m->hdrs, m->hdrs_cap * sizeof(*m->hdrs));
		if (!m->hdrs)
			abort();
	}
	h = &m->hdrs[m->nhdrs++];
	h->name_len = (uint32_t)nlen;
	h->name_off = msg_put(m, name, nlen);
	h->value_len = (uint32_t)vlen;
	h->value_off = msg_put(m, value, vlen);
}

static void hdr(struct http_msg *m, const char *name, const char *value)
{
	hdrn(m, name, strlen(name), value, strlen(value));
}

static void body(struct http_msg *m, const void *p, size_t n, uint64_t size)
{
	m->preview = malloc(n ? n : 1);
	if (!m->preview)
		abort();
	memcpy(m->preview, p, n);
	m->preview_len = n;
	m->body_size = size;
	m->preview_truncated = size > n;
}

/* The messages of a txn on the stack. */
static void txn_clear(struct txn *t)
{
	http_msg_reset(&t->req);
	http_msg_reset(&t->resp);
	txn_grpc_free(t->grpc);
	t->grpc = NULL;
}

static void trailer(struct http_msg *m, const char *name, const char *value)
{
	struct http_header *h;

	if (m->ntrailers == m->trailers_cap) {
		m->trailers_cap = m->trailers_cap ? m->trailers_cap * 2 : 8;
		m->trailers = realloc(m->trailers, m->trailers_cap * sizeof(*m->trailers));
		if (!m->trailers)
			abort();
	}
	h = &m->trailers[m->ntrailers++];
	h->name_len = (uint32_t)strlen(name);
	h->name_off = msg_put(m, name, h->name_len);
	h->value_len = (uint32_t)strlen(value);
	h->value_off = msg_put(m, value, h->value_len);
}

static void v4(struct hs_addr *a, uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3,
	       uint16_t port)
{
	a->family = AF_INET;
	a->port = port;
	a->addr[0] = a0;
	a->addr[1] = a1;
	a->addr[2] = a2;
	a->addr[3] = a3;
}

static void v6_loopback(struct hs_addr *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	a->port = port;
	a->addr[15] = 1;
}

static void conn(struct txn *t, uint64_t id, uint8_t role, const char *comm)
{
	t->conn.conn_id = id;
	t->conn.cgroup_id = 1234;
	t->conn.pid = 4242;
	t->conn.tid = 4243;
	t->conn.fd = 5;
	t->conn.role = role;
	snprintf(t->conn.comm, sizeof(t->conn.comm), "%s", comm);
	v4(&t->conn.local, 127, 0, 0, 1, 51234);
	v4(&t->conn.remote, 127, 0, 0, 1, 8080);
}

/* ---- the fixtures ---- */

static const char users_json[] = "[{\"id\":1,\"name\":\"Alice\"}]";

static void build_get(struct txn *t)
{
	conn(t, 1, HS_ROLE_CLIENT, "curl");
	msg_start(&t->req, T0, T0 + 10000);
	req_line(&t->req, "GET", "/users");
	hdr(&t->req, "Host", "127.0.0.1:8080");
	hdr(&t->req, "User-Agent", "curl/7.88.1");
	hdr(&t->req, "Accept", "*/*");
	msg_start(&t->resp, T0 + 10000 + 1101000, T0 + 1234000);
	status_line(&t->resp, 200, "OK");
	hdr(&t->resp, "Content-Type", "application/json");
	hdr(&t->resp, "Content-Length", "25");
	body(&t->resp, users_json, 25, 25);
}

static void build_post(struct txn *t)
{
	static const char form[] = "name=alice\r\nline2\n";

	conn(t, 2, HS_ROLE_SERVER, "python3");
	msg_start(&t->req, T0, T0 + 1000);
	req_line(&t->req, "POST", "/submit");
	hdr(&t->req, "Content-Type", "text/plain");
	body(&t->req, form, sizeof(form) - 1, sizeof(form) - 1);
	msg_start(&t->resp, T0 + 1500, T0 + 850000);
	status_line(&t->resp, 201, "Created");
	hdr(&t->resp, "Content-Length", "0");
}

/* Decoded text whose last character was cut by the preview cap. */
static void build_gzip(struct txn *t)
{
	static const char text[] = "h\xc3\xa9llo w\xc3\xb6rld \xc3";

	conn(t, 3, HS_ROLE_CLIENT, "curl");
	msg_start(&t->req, T0, T0 + 1000);
	req_line(&t->req, "GET", "/gz");
	hdr(&t->req, "Accept-Encoding", "gzip");
	msg_start(&t->resp, T0 + 2000, T0 + 2500000000ULL);
	status_line(&t->resp, 200, "OK");
	hdr(&t->resp, "content-encoding", " x-gzip ");
	body(&t->resp, text, sizeof(text) - 1, 40);
	t->resp.preview_decoded = true;
	t->resp.preview_truncated = true;
}

static uint8_t bin_byte(size_t i)
{
	static const uint8_t png[] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a };

	return i < sizeof(png) ? png[i] : (uint8_t)(i * 37 + 11);
}

static void build_binary(struct txn *t)
{
	uint8_t b[MAX_BODY];
	size_t i;

	for (i = 0; i < sizeof(b); i++)
		b[i] = bin_byte(i);
	conn(t, 4, HS_ROLE_CLIENT, "wget");
	msg_start(&t->req, T0, T0 + 1000);
	req_line(&t->req, "GET", "/bin");
	msg_start(&t->resp, T0 + 2000, T0 + 3000);
	status_line(&t->resp, 200, "OK");
	hdr(&t->resp, "Content-Type", "image/png");
	body(&t->resp, b, sizeof(b), 1000);
}

static void build_missing(struct txn *t)
{
	conn(t, 5, HS_ROLE_CLIENT, "curl");
	msg_start(&t->req, T0, T0 + 1000);
	t->req.complete = false;
	req_line(&t->req, "POST", "/missing");
	hdr(&t->req, "Content-Length", "12");
	body(&t->req, "hi", 2, 12);
	t->req.body_missing = 10;
	t->error = "connection closed before response";
}

/* Everything that comes from the network, and comm, made hostile. */
static const char h_comm[] = "\x1b[31mevil";
static const char h_target[] = "/h\x1b[2J?x=\xff";
static const char h_quote[] = "a\"b\\c\0d"; /* with its NUL */
static const char h_reqbody[] = "a\rb\xe2\x80\xae" "c\r\n";
static const char h_respbody[] = "\x1b[?1049h\x1b]52;c;cHduZWQ=\x07\x7f";

static void build_hostile(struct txn *t)
{
	conn(t, 6, HS_ROLE_SERVER, h_comm);
	msg_start(&t->req, T0, T0 + 1000);
	req_line(&t->req, "GET", h_target);
	hdr(&t->req, "X-Esc", "\x1b]0;pwned\x07");
	hdr(&t->req, "X-Bad", "\xff\xfe\xc0\xaf ok");
	hdrn(&t->req, "X-Quote", 7, h_quote, sizeof(h_quote) - 1);
	hdr(&t->req, "X-C1", "\xc2\x9b" "31m");
	hdr(&t->req, "X-Bidi", "abc\xe2\x80\xae" "def");
	hdr(&t->req, "X-Sep", "a\xe2\x80\xa8" "b");
	hdr(&t->req, "X\x1b[1mName", "v");
	body(&t->req, h_reqbody, sizeof(h_reqbody) - 1, sizeof(h_reqbody) - 1);
	msg_start(&t->resp, T0 + 2000, T0 + 3000);
	status_line(&t->resp, 200, "OK\x1b[0m");
	body(&t->resp, h_respbody, sizeof(h_respbody) - 1, sizeof(h_respbody) - 1);
}

static void build_ipv6(struct txn *t)
{
	conn(t, 7, HS_ROLE_UNKNOWN, "nginx");
	v6_loopback(&t->conn.local, 8080);
	v6_loopback(&t->conn.remote, 40000);
	msg_start(&t->req, T0, T0 + 1000);
	req_line(&t->req, "PUT", "/v6");
	hdr(&t->req, "Expect", "100-continue");
	body(&t->req, "{}", 2, 2);
	msg_start(&t->resp, T0 + 5000, T0 + 9000);
	status_line(&t->resp, 204, "No Content");
	t->interim_status = 100;
}

static void build_upgrade(struct txn *t)
{
	conn(t, 8, HS_ROLE_CLIENT, "node");
	msg_start(&t->req, T0, T0 + 1000);
	req_line(&t->req, "GET", "/ws");
	hdr(&t->req, "Upgrade", "websocket");
	hdr(&t->req, "Connection", "Upgrade");
	msg_start(&t->resp, T0 + 2000, T0 + 3000);
	status_line(&t->resp, 101, "Switching Protocols");
	hdr(&t->resp, "Upgrade", "websocket");
	t->upgraded = true;
}

/* Framing anomalies on both messages (RFC 9112: a request smuggling
 * attempt, and a response with bare LFs). */
static void build_anomalies(struct txn *t)
{
	conn(t, 11, HS_ROLE_SERVER, "nginx");
	msg_start(&t->req, T0, T0 + 1000);
	req_line(&t->req, "POST", "/a");
	hdr(&t->req, "Content-Length", "4");
	hdr(&t->req, "Transfer-Encoding", "chunked");
	hdr(&t->req, "X-Fold", "a  b");
	t->req.anomalies = 1u << HTTP_ANOM_CL_TE | 1u << HTTP_ANOM_OBS_FOLD;
	msg_start(&t->resp, T0 + 2000, T0 + 3000);
	status_line(&t->resp, 400, "Bad Request");
	t->resp.anomalies = 1u << HTTP_ANOM_BARE_LF;
}

/* A response whose request was never seen, on unknown endpoints. */
static void build_orphan(struct txn *t)
{
	conn(t, 9, HS_ROLE_UNKNOWN, "");
	memset(&t->conn.local, 0, sizeof(t->conn.local));
	memset(&t->conn.remote, 0, sizeof(t->conn.remote));
	msg_start(&t->resp, T0 + 7000000000ULL, T0 + 7000001000ULL);
	t->resp.version_minor = 0;
	status_line(&t->resp, 204, "No Content");
}

static void build_decode_error(struct txn *t)
{
	static const uint8_t raw[] = { 0x78, 0x9c, 0xff, 0x00, 0x13 };

	conn(t, 10, HS_ROLE_CLIENT, "curl");
	msg_start(&t->req, T0, T0 + 1000);
	req_line(&t->req, "GET", "/deflate");
	msg_start(&t->resp, T0 + 2000, T0 + 3000);
	t->resp.complete = false;
	status_line(&t->resp, 200, "OK");
	hdr(&t->resp, "Content-Encoding", "deflate");
	body(&t->resp, raw, sizeof(raw), 10);
	t->resp.body_missing = 5;
	t->resp.decode_error = "invalid deflate data";
	t->error = "response truncated by capture gap";
}

/* An HTTP/2 gRPC call that failed: pseudo-headers, trailers, the gRPC
 * block. */
static void build_h2_grpc(struct txn *t)
{
	struct txn_grpc *g = calloc(1, sizeof(*g));

	if (!g)
		abort();
	conn(t, 12, HS_ROLE_SERVER, "python3");
	t->proto = TXN_H2;
	t->stream_id = 3;
	msg_start(&t->req, T0, T0 + 2000);
	t->req.version_major = 2;
	t->req.version_minor = 0;
	hdr(&t->req, ":method", "POST");
	hdr(&t->req, ":path", "/demo.Echo/Say");
	t->req.method_off = t->req.hdrs[0].value_off;
	t->req.method_len = 4;
	t->req.target_off = t->req.hdrs[1].value_off;
	t->req.target_len = 14;
	hdr(&t->req, "content-type", "application/grpc");
	msg_start(&t->resp, T0 + 3000, T0 + 5000);
	t->resp.version_major = 2;
	t->resp.version_minor = 0;
	t->resp.status = 200;
	hdr(&t->resp, ":status", "200");
	trailer(&t->resp, "grpc-status", "5");
	trailer(&t->resp, "grpc-message", "no such user");
	g->service_off = t->req.target_off + 1;
	g->service_len = 9;
	g->method_off = t->req.target_off + 11;
	g->method_len = 3;
	g->status = 5;
	g->message = strdup("no such user");
	g->msgs[0] = 1;
	g->preview[0] = strdup("1: \"alice\"");
	t->grpc = g;
}

/* A pushed stream on a connection joined midway: :method and :path could
 * not be decoded. */
static void build_h2_unknown(struct txn *t)
{
	conn(t, 13, HS_ROLE_CLIENT, "nghttp");
	t->proto = TXN_H2;
	t->stream_id = 2;
	t->pushed = true;
	msg_start(&t->req, T0, T0);
	t->req.version_major = 2;
	t->req.version_minor = 0;
	t->req.unknown = HTTP_U_METHOD | HTTP_U_TARGET;
	t->req.hdrs_undecoded = 2;
	t->req.hdrs_incomplete = true;
	hdr(&t->req, ":scheme", "http");
	msg_start(&t->resp, T0 + 1000, T0 + 2000);
	t->resp.version_major = 2;
	t->resp.version_minor = 0;
	t->resp.unknown = HTTP_U_STATUS;
}

/* Unix sockets: a server's record names its path and the client's
 * process; a client's the path the server bound.  Names are any bytes a
 * server chose (an abstract one here, with escapes), shown escaped. */
static struct hs_unix unix_server = {
	.resolved = 1, .type = 1, .listen_fd = 3, .peer_pid = 5151,
	.local_len = 23, .local = "/run/podman/podman.sock",
	.peer_comm = "docker",
};
static struct hs_unix unix_hostile = {
	.resolved = 1, .type = 1, .listen_fd = -1,
	.remote_len = 11, .remote = "@\x1b[31m\"x\\\x7f\n",
};

static void unix_conn(struct txn *t, uint8_t role, const struct hs_unix *u)
{
	memset(&t->conn.local, 0, sizeof(t->conn.local));
	memset(&t->conn.remote, 0, sizeof(t->conn.remote));
	t->conn.local.family = t->conn.remote.family = AF_UNIX;
	t->conn.role = role;
	t->conn.unx = u;
	t->conn.peer_pid = u->peer_pid;
	snprintf(t->conn.peer_comm, sizeof(t->conn.peer_comm), "%s", u->peer_comm);
}

static void build_unix_server(struct txn *t)
{
	build_get(t);
	t->conn.conn_id = 14;
	snprintf(t->conn.comm, sizeof(t->conn.comm), "podman");
	unix_conn(t, HS_ROLE_SERVER, &unix_server);
}

static void build_unix_hostile(struct txn *t)
{
	build_get(t);
	t->conn.conn_id = 15;
	unix_conn(t, HS_ROLE_CLIENT, &unix_hostile);
}

static void build_unix_unknown(struct txn *t)
{
	build_get(t);
	t->conn.conn_id = 16;
	memset(&t->conn.local, 0, sizeof(t->conn.local));
	memset(&t->conn.remote, 0, sizeof(t->conn.remote));
	t->conn.local.family = t->conn.remote.family = AF_UNIX;
}

struct fixture {
	const char *name;
	void (*build)(struct txn *t);
	const char *text_has[12]; /* substrings the text block must hold */
	const char *json_has[8];  /* and the JSON line */
};

static const struct fixture fixtures[] = {
	{ "get", build_get,
	  { "[14:02:11.123456] PID 4242 (curl) client "
	    "127.0.0.1:51234 -> 127.0.0.1:8080\n",
	    "  → GET /users HTTP/1.1\n     Host: 127.0.0.1:8080\n"
	    "     User-Agent: curl/7.88.1\n",
	    "  ← 200 OK (1.234 ms, ttfb 1.101 ms)\n"
	    "     Content-Type: application/json\n",
	    "     Body: [{\"id\":1,\"name\":\"Alice\"}]\n\n" },
	  { "{\"ts\":\"2026-11-24T14:02:11.123456789Z\",\"pid\":4242,",
	    "\"status\":200,\"reason\":\"OK\"",
	    "\"body\":\"[{\\\"id\\\":1,\\\"name\\\":\\\"Alice\\\"}]\"",
	    "\"container_id\":null,\"protocol\":\"http/1.1\",\"stream_id\":null,"
	    "\"pushed\":false,\"request\":",
	    "\"trailers\":[],\"headers_truncated\":false,"
	    "\"headers_incomplete\":false,\"headers_undecoded\":0,",
	    "\"latency_ns\":1234000,\"ttfb_ns\":1101000,\"grpc\":null,"
	    "\"error\":null}\n" } },
	{ "post", build_post,
	  { "python3) server",
	    "  → POST /submit HTTP/1.1\n",
	    "     Body: name=alice\n           line2\n  ← 201 Created",
	    "(850 µs, ttfb 500 ns)" },
	  { "\"body\":\"name=alice\\r\\nline2\\n\",\"body_encoding\":\"text\"" } },
	{ "gzip", build_gzip,
	  { "  ← 200 OK (2.500 s, ttfb 1 µs)\n",
	    "     content-encoding:  x-gzip \n",
	    "     Body: h\xc3\xa9llo w\xc3\xb6rld … (gzip-decoded) "
	    "(40 bytes before decoding)\n" },
	  { "\"body\":\"h\xc3\xa9llo w\xc3\xb6rld \",\"body_encoding\":\"text\","
	    "\"body_truncated\":true,\"body_missing\":0,\"body_decoded\":\"gzip\"" } },
	{ "binary", build_binary,
	  { "     Body: [binary, 1000 bytes]\n"
	    "           89 50 4e 47 0d 0a 1a 0a ",
	    " …\n\n" },
	  { "\"body_encoding\":\"base64\",\"body_truncated\":true" } },
	{ "missing", build_missing,
	  { "     Body: hi… (12 bytes total) [10 bytes not captured]\n",
	    "  ← (no response: connection closed before response)\n\n" },
	  { "\"response\":null",
	    "\"latency_ns\":null,\"ttfb_ns\":null,\"grpc\":null,"
	    "\"error\":\"connection closed before response\"}" } },
	{ "hostile", build_hostile,
	  { "(\\x1b[31mevil) server",
	    "  → GET /h\\x1b[2J?x=\\xff HTTP/1.1\n",
	    "     X-Esc: \\x1b]0;pwned\\x07\n",
	    "     X-Bad: \\xff\\xfe\\xc0\\xaf ok\n",
	    "     X-Quote: a\"b\\c\\x00d\n",
	    "     X-C1: \\xc2\\x9b31m\n",
	    "     X-Bidi: abc\\xe2\\x80\\xaedef\n",
	    "     X-Sep: a\\xe2\\x80\\xa8b\n",
	    "     X\\x1b[1mName: v\n",
	    "     Body: a\\x0db\\xe2\\x80\\xaec\n",
	    "  ← 200 OK\\x1b[0m (",
	    "     Body: [binary, 25 bytes]\n           1b 5b 3f" },
	  { "\"comm\":\"\\u001b[31mevil\"",
	    "\"target\":\"/h\\u001b[2J?x=\\ufffd\"",
	    "[\"X-Quote\",\"a\\\"b\\\\c\\u0000d\"]",
	    "[\"X-C1\",\"\\u009b31m\"]",
	    "[\"X-Bidi\",\"abc\\u202edef\"]",
	    "[\"X-Sep\",\"a\\u2028b\"]" } },
	{ "ipv6", build_ipv6,
	  { "(nginx) unknown [::1]:8080 -> [::1]:40000\n",
	    "  ← 204 No Content (9 µs, ttfb 4 µs, interim 100)\n" },
	  { "\"local\":\"[::1]:8080\",\"remote\":\"[::1]:40000\"",
	    "\"interim_status\":100," } },
	{ "upgrade", build_upgrade,
	  { "  ← 101 Switching Protocols (3 µs, ttfb 1 µs)\n"
	    "     [connection upgraded: left HTTP/1]\n"
	    "     Upgrade: websocket\n\n" },
	  { "\"upgraded\":true" } },
	{ "unix server", build_unix_server,
	  { "PID 4242 (podman) server unix:/run/podman/podman.sock -> unix: "
	    "peer PID 5151 (docker)\n" },
	  { "\"local\":\"unix:/run/podman/podman.sock\",\"remote\":\"unix:\","
	    "\"peer_pid\":5151,\"peer_comm\":\"docker\",\"conn_id\":14," } },
	{ "unix hostile name", build_unix_hostile,
	  { "(curl) client unix: -> unix:@\\x1b[31m\"x\\\\x7f\\x0a\n" },
	  { "\"local\":\"unix:\",\"remote\":\"unix:@\\u001b[31m\\\"x\\\\\\u007f\\n\","
	    "\"peer_pid\":null,\"peer_comm\":null," } },
	{ "unix names unknown", build_unix_unknown,
	  { "(curl) client unix: -> unix:\n" },
	  { "\"local\":\"unix:\",\"remote\":\"unix:\",\"peer_pid\":null" } },
	{ "orphan", build_orphan,
	  { "[14:02:18.123456] PID 4242 (?) unknown ? -> ?\n"
	    "  → (request not captured)\n"
	    "  ← 204 No Content\n\n" },
	  { "\"ts\":\"2026-11-24T14:02:18.123456789Z\"",
	    "\"local\":null,\"remote\":null",
	    "\"request\":null,\"response\":{\"version\":\"1.0\",\"status\":204" } },
	{ "decode_error", build_decode_error,
	  { "  ← 200 OK (ttfb 1 µs, incomplete)\n",
	    "     Body: [binary, 10 bytes] [5 bytes not captured] "
	    "[decode error: invalid deflate data]\n"
	    "           78 9c ff 00 13 …\n"
	    "     [error: response truncated by capture gap]\n\n" },
	  { "\"body_decoded\":null,\"decode_error\":\"invalid deflate data\"",
	    "\"latency_ns\":null,\"ttfb_ns\":1000," } },
	{ "anomalies", build_anomalies,
	  { "     X-Fold: a  b\n"
	    "     ! Content-Length and Transfer-Encoding both (RFC 9112 6.3)\n"
	    "     ! a header continued on the next line (obs-fold, RFC 9112 5.2)\n"
	    "  ← 400 Bad Request",
	    "  ← 400 Bad Request (3 µs, ttfb 1 µs)\n"
	    "     ! a line ending in LF without CR (RFC 9112 2.2)\n\n" },
	  { "\"decode_error\":null,\"anomalies\":[\"cl-te\",\"obs-fold\"]}",
	    "\"decode_error\":null,\"anomalies\":[\"bare-lf\"]}" } },
	{ "h2-grpc", build_h2_grpc,
	  { "  → POST /demo.Echo/Say HTTP/2 (stream 3)\n"
	    "     :method: POST\n     :path: /demo.Echo/Say\n",
	    "     [grpc demo.Echo/Say: 1 message: 1: \"alice\"]\n",
	    "  ← 200 (5 µs, ttfb 1 µs, grpc NOT_FOUND)\n     :status: 200\n",
	    "     [trailers]\n     grpc-status: 5\n     grpc-message: no such user\n"
	    "     [grpc NOT_FOUND (5) \"no such user\": 0 messages]\n" },
	  { "\"protocol\":\"h2\",\"stream_id\":3,\"pushed\":false,",
	    "\"method\":\"POST\",\"target\":\"/demo.Echo/Say\",\"version\":\"2.0\"",
	    "\"status\":200,\"reason\":\"\",",
	    "\"trailers\":[[\"grpc-status\",\"5\"],[\"grpc-message\",\"no such user\"]]",
	    "\"grpc\":{\"service\":\"demo.Echo\",\"method\":\"Say\",\"status\":5,"
	    "\"status_name\":\"NOT_FOUND\",\"message\":\"no such user\","
	    "\"request_messages\":1,\"response_messages\":0,"
	    "\"request_preview\":\"1: \\\"alice\\\"\",\"response_preview\":null}" } },
	{ "h2-unknown", build_h2_unknown,
	  { "  → (unknown) (unknown) HTTP/2 (stream 2, pushed)\n",
	    "     [headers incomplete: 2 could not be decoded]\n",
	    "  ← (unknown) (" },
	  { "\"stream_id\":2,\"pushed\":true,",
	    "{\"method\":null,\"target\":null,",
	    "\"headers_incomplete\":true,\"headers_undecoded\":2,",
	    "\"status\":null," } },
};

#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

/* ---- random hostile transactions (check.h's rng: the same on every run) ---- */

/* Bytes biased towards what breaks escapers. */
static size_t rand_bytes(uint8_t *b, size_t max)
{
	static const uint8_t nasty[] = { 0x00, 0x1b, 0x07, '"', '\\', '\n', '\r',
					 '\t', 0x7f, 0x80, 0x9b, 0xc2, 0xe2, 0x80,
					 0xae, 0xed, 0xa0, 0xf4, 0x90, 0xff, 0xc0 };
	size_t n = rng() % (max + 1), i;

	for (i = 0; i < n; i++) {
		uint64_t r = rng();

		if (r % 3 == 0)
			b[i] = nasty[(r >> 8) % sizeof(nasty)];
		else if (r % 3 == 1)
			b[i] = (uint8_t)(r >> 16);
		else
			b[i] = (uint8_t)(' ' + (r >> 16) % 95);
	}
	return n;
}

static void build_random(struct txn *t, uint64_t id)
{
	uint8_t a[48], b[48];
	size_t na, nb, i, nh;

	static struct hs_unix u; /* each transaction is written before the next */

	conn(t, id, (uint8_t)(rng() % 4), "");
	t->conn.comm[rand_bytes((uint8_t *)t->conn.comm, HS_COMM_LEN)] = '\0';
	if (rng() % 4 == 0) {
		/* a Unix socket, its names any bytes (a recording is input) */
		memset(&u, 0, sizeof(u));
		u.resolved = rng() % 4 != 0;
		u.local_len = (uint8_t)rand_bytes((uint8_t *)u.local, HS_UNIX_PATH_MAX);
		u.remote_len = (uint8_t)rand_bytes((uint8_t *)u.remote, HS_UNIX_PATH_MAX);
		u.peer_pid = rng() % 2 ? (uint32_t)rng() : 0;
		rand_bytes((uint8_t *)u.peer_comm, HS_COMM_LEN - 1);
		unix_conn(t, t->conn.role, &u);
	}
	msg_start(&t->req, T0 + rng() % 1000000, T0 + 2000000);
	t->req.complete = rng() % 2;
	na = rand_bytes(a, 10);
	nb = rand_bytes(b, 40);
	t->req.method_len = (uint32_t)na;
	t->req.method_off = msg_put(&t->req, a, na);
	t->req.target_len = (uint32_t)nb;
	t->req.target_off = msg_put(&t->req, b, nb);
	nh = rng() % 5;
	for (i = 0; i < nh; i++) {
		na = rand_bytes(a, 16);
		nb = rand_bytes(b, 48);
		hdrn(&t->req, (char *)a, na, (char *)b, nb);
	}
	nb = rand_bytes(b, 48);
	body(&t->req, b, nb, nb + rng() % 3);
	if (rng() % 4 == 0) {
		t->error = "no response";
		return;
	}
	msg_start(&t->resp, T0 + 3000000, T0 + 2000000 + rng() % 3000000);
	t->resp.complete = rng() % 2;
	na = rand_bytes(a, 20);
	t->resp.status = (int)(rng() % 1000);
	t->resp.reason_len = (uint32_t)na;
	t->resp.reason_off = msg_put(&t->resp, a, na);
	na = rand_bytes(a, 16);
	nb = rand_bytes(b, 48);
	hdrn(&t->resp, (char *)a, na, (char *)b, nb);
	nb = rand_bytes(b, 48);
	body(&t->resp, b, nb, nb);
	t->resp.preview_decoded = rng() % 2;
	t->interim_status = rng() % 2 ? 100 : 0;
	t->upgraded = rng() % 8 == 0;
	t->req.anomalies = rng() % 4 ? 0 : (uint16_t)(rng() % (1u << HTTP_ANOM_MAX));
	t->resp.anomalies = rng() % 4 ? 0 : (uint16_t)(rng() % (1u << HTTP_ANOM_MAX));
}

#define NRANDOM 300
#define WS_ID0 2000 /* conn_id of the first WebSocket message */
#define RANDOM_ID0 1000 /* conn_id of the first random transaction */

/* ---- independent checks of what a terminal or a JSON parser gets ---- */

/* Decodes one UTF-8 character without sharing code with the writers.
 * Returns its length, or 0 if ill-formed. */
static int decode_utf8(const unsigned char *p, size_t n, unsigned long *cp)
{
	int len, i;
	unsigned long v;

	if (p[0] < 0x80)
		len = 1, v = p[0];
	else if ((p[0] & 0xe0) == 0xc0)
		len = 2, v = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, v = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, v = p[0] & 0x07;
	else
		return 0;
	if ((size_t)len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) ||
	    (len == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Text must be valid UTF-8 with no control a terminal acts on: only
 * LF and tab among C0, no DEL, no C1, no bidi control. */
static void check_text_safe(const char *name, const char *s, size_t n, bool block)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0;
	int l;

	while (i < n) {
		l = decode_utf8(p + i, n - i, &cp);
		if (!l) {
			CHECK(0, "%s: text has invalid UTF-8 at byte %zu", name, i);
			return;
		}
		if ((cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp < 0xa0) ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
			CHECK(0, "%s: text has raw U+%04lX at byte %zu", name, cp, i);
			return;
		}
		i += l;
	}
	CHECK(!block || (n >= 2 && s[n - 1] == '\n' && s[n - 2] == '\n'),
	      "%s: text block does not end in a blank line", name);
}

/* A JSON line must be valid UTF-8, hold no raw control at all (so that
 * it is as safe in a terminal as the text), and end in its only LF. */
static void check_json_line(const char *name, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0;
	int l;

	CHECK(n >= 3 && s[0] == '{' && s[n - 2] == '}' && s[n - 1] == '\n',
	      "%s: not one object ending in LF", name);
	while (i + 1 < n) {
		l = decode_utf8(p + i, n - 1 - i, &cp);
		if (!l) {
			CHECK(0, "%s: JSON has invalid UTF-8 at byte %zu", name, i);
			return;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
			CHECK(0, "%s: JSON has raw U+%04lX at byte %zu", name, cp, i);
			return;
		}
		i += l;
	}
}

static char *render(const struct txn *t, const struct sink_config *o, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int r;

	if (!f)
		abort();
	if (o->format == SINK_JSON)
		r = json_format_txn(f, t, o);
	else
		r = text_format_txn(f, t, o);
	CHECK(r == 0, "formatter returned %d", r);
	fclose(f);
	return buf;
}

static void check_has(const char *what, const char *name, const char *s,
		      const char *sub)
{
	CHECK(strstr(s, sub) != NULL, "%s %s: missing \"%s\" in:\n%s", name, what,
	      sub, s);
}

static void test_fixtures(void)
{
	struct sink_config text = { .format = SINK_TEXT, .max_body = MAX_BODY, .clock_offset_ns = OFFSET };
	struct sink_config json = { .format = SINK_JSON, .max_body = MAX_BODY, .clock_offset_ns = OFFSET };
	size_t i, k, n;
	char *s;

	for (i = 0; i < NFIXTURES; i++) {
		const struct fixture *fx = &fixtures[i];
		struct txn t = { 0 };

		fx->build(&t);
		s = render(&t, &text, &n);
		CHECK(strlen(s) == n, "%s: text holds a NUL", fx->name);
		check_text_safe(fx->name, s, n, true);
		for (k = 0; k < 12 && fx->text_has[k]; k++)
			check_has("text", fx->name, s, fx->text_has[k]);
		free(s);

		s = render(&t, &json, &n);
		CHECK(strlen(s) == n, "%s: JSON holds a NUL", fx->name);
		check_json_line(fx->name, s, n);
		for (k = 0; k < 8 && fx->json_has[k]; k++)
			check_has("json", fx->name, s, fx->json_has[k]);
		free(s);
		txn_clear(&t);
	}
}

/* ---- WebSocket messages ---- */

/* One line of text, one of JSON, whatever the payload holds. */
struct ws_fixture {
	const char *name;
	uint8_t opcode, dir;
	bool from_client, compressed;
	uint32_t frames;
	const char *payload;
	size_t len;	     /* 0: strlen */
	uint64_t size, missing;
	int close_code;
	const char *error;
	const char *text, *json; /* substrings the lines must hold */
};

static const struct ws_fixture ws_fixtures[] = {
	{ "ws text", WS_TEXT, HS_DIR_RECV, true, false, 1, "hi there", 0, 8, 0, -1, NULL,
	  "[14:02:11.123456] PID 4242 (node) server 127.0.0.1:8080 -> "
	  "127.0.0.1:40000 ws ← text 8 B: hi there\n",
	  "\"protocol\":\"websocket\",\"direction\":\"recv\",\"from\":\"client\","
	  "\"opcode\":\"text\",\"frames\":1,\"masked\":true,\"compressed\":false,"
	  "\"size\":8,\"missing\":0,\"payload\":\"hi there\",\"payload_encoding\":\"text\","
	  "\"payload_truncated\":false,\"close_code\":null,\"error\":null}\n" },
	{ "ws hostile text", WS_TEXT, HS_DIR_SEND, false, true, 3,
	  "line1\nline2\x1b[2J\xe2\x80\xae", 0, 300, 0, -1, NULL,
	  "ws → text 300 B (3 frames, deflated): line1\\x0aline2\\x1b[2J\\xe2\\x80\\xae\n",
	  "\"payload\":\"bGluZTEKbGluZTIbWzJK4oCu\",\"payload_encoding\":\"base64\"" },
	{ "ws binary", WS_BINARY, HS_DIR_SEND, false, false, 1, "\x00\x01\xff", 3, 3, 0, -1, NULL,
	  "ws → binary 3 B\n", "\"payload\":\"AAH/\",\"payload_encoding\":\"base64\"" },
	{ "ws close", WS_CLOSE, HS_DIR_RECV, false, false, 1, "bye", 0, 5, 0, 1001, NULL,
	  "ws ← close 1001: bye\n", "\"close_code\":1001" },
	{ "ws cut", WS_TEXT, HS_DIR_RECV, true, false, 2, "part", 0, 100, 60, -1,
	  "message cut by a capture gap",
	  "ws ← text 100 B (2 frames): part… [60 bytes not captured] "
	  "[error: message cut by a capture gap]\n",
	  "\"missing\":60,\"payload\":\"part\",\"payload_encoding\":\"text\","
	  "\"payload_truncated\":true" },
};
#define NWS (sizeof(ws_fixtures) / sizeof(ws_fixtures[0]))

static void build_ws(struct ws_msg *m, const struct ws_fixture *x, uint64_t id)
{
	memset(m, 0, sizeof(*m));
	m->conn.conn_id = id;
	m->conn.pid = 4242;
	m->conn.tid = 4243;
	m->conn.fd = 6;
	m->conn.role = HS_ROLE_SERVER;
	snprintf(m->conn.comm, sizeof(m->conn.comm), "node");
	v4(&m->conn.local, 127, 0, 0, 1, 8080);
	v4(&m->conn.remote, 127, 0, 0, 1, 40000);
	m->dir = x->dir;
	m->from_client = x->from_client;
	m->masked = x->from_client;
	m->opcode = x->opcode;
	m->compressed = x->compressed;
	m->frames = x->frames;
	m->preview = (uint8_t *)x->payload;
	m->preview_len = x->len ? x->len : strlen(x->payload);
	m->preview_truncated = x->missing > 0;
	m->size = x->size;
	m->missing = x->missing;
	m->close_code = x->close_code;
	m->error = x->error;
	m->first_ts = T0;
	m->last_ts = T0 + 1000;
}

static char *render_ws(const struct ws_msg *m, const struct sink_config *o, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int r;

	if (!f)
		abort();
	r = o->format == SINK_JSON ? json_format_ws(f, m, o) : text_format_ws(f, m, o);
	CHECK(r == 0, "formatter returned %d", r);
	fclose(f);
	return buf;
}

static void test_ws(void)
{
	struct sink_config text = { .format = SINK_TEXT, .max_body = MAX_BODY, .clock_offset_ns = OFFSET };
	struct sink_config json = { .format = SINK_JSON, .max_body = MAX_BODY, .clock_offset_ns = OFFSET };
	struct ws_msg m;
	size_t n;
	char *s;

	for (size_t i = 0; i < NWS; i++) {
		const struct ws_fixture *x = &ws_fixtures[i];

		build_ws(&m, x, 100 + i);
		s = render_ws(&m, &text, &n);
		CHECK(n && s[n - 1] == '\n' && memchr(s, '\n', n) == s + n - 1,
		      "%s: text is not one line: %s", x->name, s);
		check_text_safe(x->name, s, n, false);
		check_has("text", x->name, s, x->text);
		free(s);
		s = render_ws(&m, &json, &n);
		check_json_line(x->name, s, n);
		check_has("json", x->name, s, x->json);
		free(s);
	}
}

/* opts.max_body below the preview: shown bytes stop there and count as
 * truncated; 0 shows sizes only. */
static void test_max_body(void)
{
	struct sink_config o = { .format = SINK_TEXT, .max_body = 5, .clock_offset_ns = OFFSET };
	struct txn t = { 0 };
	size_t n;
	char *s;

	build_get(&t);
	s = render(&t, &o, &n);
	check_has("text", "max_body 5", s, "     Body: [{\"id… (25 bytes total)\n");
	free(s);
	o.max_body = 0;
	s = render(&t, &o, &n);
	check_has("text", "max_body 0", s, "     Body: … (25 bytes total)\n");
	free(s);
	o.format = SINK_JSON;
	o.max_body = 5;
	s = render(&t, &o, &n);
	check_has("json", "max_body 5", s,
		  "\"body_size\":25,\"body\":\"[{\\\"id\",\"body_encoding\":\"text\","
		  "\"body_truncated\":true");
	free(s);
	txn_clear(&t);
}

/* --body-lines: text shows the first lines and says how many more there
 * are, and how many bytes; 0 shows all; JSON keeps the whole preview. */
static void test_body_lines(void)
{
	static const char ten[] = "l1\nl2\r\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nlast";
	struct sink_config o = { .format = SINK_TEXT, .max_body = MAX_BODY,
				 .clock_offset_ns = OFFSET, .body_lines = 3 };
	struct txn t = { 0 };
	size_t n;
	char *s;

	build_get(&t);
	http_msg_reset(&t.resp);
	msg_start(&t.resp, T0 + 2000, T0 + 3000);
	status_line(&t.resp, 200, "OK");
	body(&t.resp, ten, strlen(ten), strlen(ten) + 100);
	s = render(&t, &o, &n);
	check_has("text", "body_lines 3", s,
		  "     Body: l1\n           l2\n           l3\n"
		  "           [7 more lines, 22 bytes]… (132 bytes total)\n\n");
	check_text_safe("body_lines 3", s, n, true);
	free(s);
	o.body_lines = 9;
	s = render(&t, &o, &n);
	check_has("text", "body_lines 9", s, "           l9\n           [1 more line, 4 bytes]…");
	free(s);
	o.body_lines = 10;
	s = render(&t, &o, &n);
	check_has("text", "body_lines 10", s, "           l9\n           last… (132 bytes total)\n");
	CHECK(!strstr(s, "more lines"), "body_lines 10: a note of lines left out");
	free(s);
	o.body_lines = 0;
	s = render(&t, &o, &n);
	check_has("text", "body_lines 0", s, "           last… (132 bytes total)\n");
	free(s);
	o.body_lines = 1;
	o.format = SINK_JSON;
	s = render(&t, &o, &n);
	check_has("json", "body_lines 1", s, "\"body\":\"l1\\nl2\\r\\nl3\\nl4\\nl5\\nl6\\nl7\\nl8\\nl9\\nlast\"");
	free(s);
	txn_clear(&t);
}

static void test_random(void)
{
	struct sink_config text = { .format = SINK_TEXT, .max_body = 32, .clock_offset_ns = OFFSET };
	struct sink_config json = { .format = SINK_JSON, .max_body = 32, .clock_offset_ns = OFFSET };
	char name[32];
	size_t i, n;
	char *s;

	for (i = 0; i < NRANDOM; i++) {
		struct txn t = { 0 };

		build_random(&t, RANDOM_ID0 + i);
		snprintf(name, sizeof(name), "random %zu", i);
		s = render(&t, &text, &n);
		check_text_safe(name, s, n, true);
		free(s);
		s = render(&t, &json, &n);
		check_json_line(name, s, n);
		free(s);
		txn_clear(&t);
	}
}

static char *slurp(const char *path, size_t *n)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t r;

	*n = 0;
	if (fd < 0)
		return NULL;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r < 0)
		return NULL;
	buf[r] = '\0';
	*n = (size_t)r;
	return buf;
}

/* The JSON escaping rules, one byte at a time, as the reference that
 * the writers (word steps, steps of 1 KiB, a line buffer that fills)
 * must match. */
static size_t ref_json_escape(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0, i = 0;
	uint32_t cp;
	int r;

	while (i < n) {
		uint8_t c = p[i];

		if (c >= 0x80) {
			r = writer_utf8_len(p + i, n - i, &cp);
			if (r > 0 && !writer_cp_unsafe(cp)) {
				memcpy(out + o, p + i, r);
				o += r;
			} else {
				o += sprintf(out + o, "\\u%04x", r > 0 ? cp : 0xfffd);
			}
			i += r > 0 ? r : 1;
			continue;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = c;
		} else if (c == '\n') {
			o += sprintf(out + o, "\\n");
		} else if (c == '\r') {
			o += sprintf(out + o, "\\r");
		} else if (c == '\t') {
			o += sprintf(out + o, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(out + o, "\\u%04x", c);
		} else {
			out[o++] = c;
		}
		i++;
	}
	return o;
}

/* The text writer's rules, one byte at a time. */
static size_t ref_text_escape(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0, i = 0;
	uint32_t cp;
	int r;

	while (i < n) {
		uint8_t c = p[i];

		r = 1;
		if (c >= 0x80) {
			r = writer_utf8_len(p + i, n - i, &cp);
			if (r > 0 && !writer_cp_unsafe(cp)) {
				memcpy(out + o, p + i, r);
				o += r;
				i += r;
				continue;
			}
			if (r <= 0)
				r = 1;
		} else if ((c >= 0x20 && c < 0x7f) || c == '\t') {
			out[o++] = c;
			i++;
			continue;
		}
		while (r--)
			o += sprintf(out + o, "\\x%02x", p[i++]);
	}
	return o;
}

static void test_escape(void)
{
	static const size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 40, 1023,
				       1024, 1025, 1030, 2049, 6000 };
	static const char *const pieces[] = {
		"\"", "\\", "\n", "\r", "\t", "\x01", "\x7f", "\xc3\xa9",
		"\xe2\x82\xac", "\xe2\x80\xa8", "\xf0\x9f\x98\x80", "\xc3",
		"\xe2\x82", "\xff", "\xc2\x9b", "abcdefghijklmnopq",
	};
	struct sink_config json = { .format = SINK_JSON, .max_body = 0, .clock_offset_ns = OFFSET };
	struct sink_config text = { .format = SINK_TEXT, .max_body = 0, .clock_offset_ns = OFFSET };
	static uint8_t str[6100];
	static char want[6 * 6100 + 8], method[7000];
	const char *at;
	char *s;
	size_t n, len, k, w;

	memset(method, 'M', sizeof(method));
	for (size_t i = 0; i < 400; i++) {
		struct txn t = { 0 };
		uint64_t r = rng();
		/* Dense escapes, sparse ones, none, or quotes and
		 * backslashes alone (a JSON body's), dense. */
		unsigned density = r % 4 == 0 ? 2 : r % 4 == 1 ? 16 : 0;
		bool quotes = r % 4 == 3;

		len = lens[i % (sizeof(lens) / sizeof(lens[0]))];
		for (n = 0; n < len;) {
			const char *piece = "x";

			r = rng();
			if (density && r % density == 0)
				piece = pieces[(r >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
			else if (quotes && r % 3 == 0)
				piece = pieces[(r >> 8) % 2];
			for (k = 0; piece[k] && n < len; k++)
				str[n++] = (uint8_t)piece[k];
		}
		t.conn.role = HS_ROLE_SERVER;
		msg_start(&t.req, T0, T0);
		/* A method of varied length, so that the target meets the
		 * line buffer at every fill level. */
		t.req.method_len = (uint32_t)(rng() % sizeof(method));
		t.req.method_off = msg_put(&t.req, method, t.req.method_len);
		t.req.target_len = (uint32_t)len;
		t.req.target_off = msg_put(&t.req, str, len);
		s = render(&t, &json, &n);
		w = ref_json_escape(str, len, want);
		want[w++] = '"';
		at = strstr(s, "\"target\":\"");
		CHECK(at && (size_t)(s + n - at) > 10 + w && !memcmp(at + 10, want, w),
		      "json escape: string %zu (%zu bytes, density %u) differs", i, len,
		      density);
		free(s);
		s = render(&t, &text, &n);
		w = ref_text_escape(str, len, want);
		memcpy(want + w, " HTTP/1.1\n", 10);
		w += 10;
		at = strstr(s, "  \xe2\x86\x92 ");
		k = 6 + t.req.method_len + 1;
		CHECK(at && (size_t)(s + n - at) > k + w && !memcmp(at + k, want, w),
		      "text escape: string %zu (%zu bytes, density %u) differs", i, len,
		      density);
		free(s);
		txn_clear(&t);
	}
}

/* writer_span() steps sixteen or eight bytes at a time: it must agree
 * with the byte class table, wherever the stopping byte falls in a step,
 * and whether or not it may read past the bytes (lim), which are then
 * all odd bytes that it must not count. */
static void test_span(void)
{
	static const uint8_t odd[] = { 0x00, 0x09, 0x0a, 0x0d, 0x1f, '"', '\\',
				       0x7e, 0x7f, 0x80, 0xc3, 0xff, 0x20 };
	static const uint8_t cls[] = { WRITER_C_JSON, WRITER_C_TEXT, WRITER_C_BODY };
	uint8_t buf[40 + 16];
	size_t want;

	for (size_t len = 0; len <= 40; len++) {
		for (size_t at = 0; at <= len; at++) {
			for (size_t k = 0; k < sizeof(odd); k++) {
				memset(buf, 'a', len);
				memset(buf + len, 0x01, sizeof(buf) - len);
				if (at < len)
					buf[at] = odd[k];
				for (size_t c = 0; c < sizeof(cls); c++) {
					for (want = 0; want < len &&
						       (writer_byte_class[buf[want]] & cls[c]);
					     want++)
						;
					CHECK(writer_span(buf, len, buf + len, cls[c]) == want,
					      "span: byte 0x%02x at %zu of %zu, class %u",
					      odd[k], at, len, cls[c]);
					CHECK(writer_span(buf, len, buf + sizeof(buf), cls[c]) == want,
					      "span, read past: byte 0x%02x at %zu of %zu, class %u",
					      odd[k], at, len, cls[c]);
				}
			}
		}
	}
	for (unsigned b = 0; b < 256; b++) {
		bool print = b >= 0x20 && b < 0x7f;

		CHECK(!!(writer_byte_class[b] & WRITER_C_JSON) ==
			      (print && b != '"' && b != '\\'),
		      "class: 0x%02x json", b);
		CHECK(!!(writer_byte_class[b] & WRITER_C_TEXT) == (print || b == '\t'),
		      "class: 0x%02x text", b);
		CHECK(!!(writer_byte_class[b] & WRITER_C_BODY) ==
			      (print || b == '\t' || b == '\n' || b == '\r'),
		      "class: 0x%02x body", b);
	}
}

/* writer_addr_str() formats IPv4 by hand: it must read as inet_ntop()
 * and "%u" would, for every octet value and the port's extremes. */
static void test_addr(void)
{
	static const uint16_t ports[] = { 0, 1, 9, 10, 80, 443, 8080, 65535 };
	char got[WRITER_ADDR_LEN], ip[INET6_ADDRSTRLEN], want[WRITER_ADDR_LEN];
	struct hs_addr a;

	for (unsigned v = 0; v < 256; v++) {
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
			memset(&a, 0, sizeof(a));
			v4(&a, v, 255 - v, v / 10, v % 7 * 30, ports[i]);
			inet_ntop(AF_INET, a.addr, ip, sizeof(ip));
			snprintf(want, sizeof(want), "%s:%u", ip, ports[i]);
			CHECK(writer_addr_str(&a, got) && !strcmp(got, want),
			      "address: got %s, want %s", got, want);
		}
	}
	v6_loopback(&a, 65535);
	CHECK(writer_addr_str(&a, got) && !strcmp(got, "[::1]:65535"),
	      "address: got %s, want [::1]:65535", got);
	memset(&a, 0, sizeof(a));
	CHECK(!writer_addr_str(&a, got) && !strcmp(got, "?"),
	      "address: got %s for an unknown family, want ?", got);
}

/* Whether a preview reads as text, one byte at a time: printable
 * ASCII, tab, CR and LF, and UTF-8 from U+00A0 up; a cut preview may end
 * in an incomplete sequence, then left out (*text_len). */
static bool ref_is_text(const uint8_t *p, size_t n, bool cut, size_t *text_len)
{
	size_t i = 0;
	uint32_t cp;
	int r;

	while (i < n) {
		uint8_t c = p[i];

		if ((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c < 0x80)
			return false;
		r = writer_utf8_len(p + i, n - i, &cp);
		if (r < 0 && cut)
			break;
		if (r <= 0 || cp < 0xa0)
			return false;
		i += r;
	}
	*text_len = i;
	return true;
}

static size_t ref_base64(const uint8_t *p, size_t n, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		out[o++] = tab[v >> 18];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	return o;
}

/* The JSON writer tells text from binary while it escapes a short
 * preview: it must show what it would after writer_is_text(), for
 * previews of every kind of byte, whole or cut (mid-character too),
 * shown whole or cut by max_body, with slack after them or none. */
static void test_body_text(void)
{
	static const char *const pieces[] = {
		"a", "hello ", " ", "\n", "\r", "\t", "\"", "\\", "\x01", "\x7f",
		"\xc2\x85", "\xc2\xa0", "\xc3\xa9", "\xe2\x80\xae", "\xe2\x82",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf0\x9f", "\xff", "\xc0\xaf",
		"0123456789abcdef",
	};
	static char want[16384], line_body[16384];
	struct sink_config json = { .format = SINK_JSON, .clock_offset_ns = OFFSET };
	uint8_t raw[2048];

	for (int i = 0; i < 3000; i++) {
		struct txn t = { 0 };
		size_t n = 0, len, text_len = 0, w = 0, shown;
		bool cut, text;
		const char *at, *end;
		char *s;

		len = rng() % 3 == 0 ? rng() % 1300 : rng() % 80;
		while (n < len) {
			const char *pc = pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t k = strlen(pc);

			memcpy(raw + n, pc, k);
			n += k;
		}
		n = len; /* may cut a character */
		t.req.present = t.resp.present = true;
		t.req.complete = t.resp.complete = true;
		t.resp.status = 200;
		t.resp.version_major = t.resp.version_minor = 1;
		body(&t.resp, raw, n, n + (rng() % 4 == 0 ? 5 : 0));
		if (rng() % 2) {
			/* slack after the preview, as the body decoder leaves */
			t.resp.preview = realloc(t.resp.preview, n + 64);
			t.resp.preview_cap = n + 64;
		}
		json.max_body = rng() % 4 == 0 ? rng() % (n + 1) : 4096;
		shown = n < json.max_body ? n : json.max_body;
		cut = t.resp.preview_truncated || shown < n;
		text = ref_is_text(raw, shown, cut, &text_len);
		w = 0;
		want[w++] = '"';
		if (text) {
			w += ref_json_escape(raw, text_len, want + w);
			w += sprintf(want + w, "\",\"body_encoding\":\"text\",");
		} else {
			w += ref_base64(raw, shown, want + w);
			w += sprintf(want + w, "\",\"body_encoding\":\"base64\",");
		}
		want[w] = '\0';
		s = render(&t, &json, &n);
		at = strstr(s, "\"response\":");
		at = at ? strstr(at, ",\"body\":") : NULL;
		end = at ? strstr(at, "\"body_truncated\":") : NULL;
		if (at && end && (size_t)(end - at) < sizeof(line_body)) {
			at += strlen(",\"body\":");
			memcpy(line_body, at, end - at);
			line_body[end - at] = '\0';
		} else {
			strcpy(line_body, "(no body)");
		}
		CHECK(!strcmp(line_body, want), "body text %d: got %s, want %s", i,
		      line_body, want);
		free(s);
		txn_clear(&t);
	}
}

/* writer_fmt_u64() counts the digits before writing them: it must read
 * as "%llu" would on each side of every power of ten, and at the ends. */
static void test_u64(void)
{
	char got[24], want[24];
	uint64_t p = 1;

	for (int k = 0; k < 20; k++, p *= 10) {
		uint64_t vs[] = { p - 1, p, p + 1, p * 2 - 1, UINT64_MAX - k };

		for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
			*writer_fmt_u64(got, vs[i]) = '\0';
			snprintf(want, sizeof(want), "%llu", (unsigned long long)vs[i]);
			CHECK(!strcmp(got, want), "u64: got %s, want %s", got, want);
		}
	}
}

/* The writing sink that cfg's format names, on path. */
static struct sinks *open_sinks(struct sink_config *cfg, const char *path)
{
	cfg->output = path;
	return sinks_open(cfg);
}

/* The scratch files test_open() makes, and what it writes. */
struct open_test {
	char dir[32], path[64], link[64], fifo[64], sock[64];
	struct txn t;
};

/* A new file is created 0600 and holds exactly what was written; an
 * existing, longer one is truncated, not appended to. */
static void test_open_file(struct open_test *x)
{
	struct sink_config o = { .format = SINK_TEXT, .max_body = MAX_BODY, .clock_offset_ns = OFFSET };
	struct sinks *out;
	struct stat st;
	size_t n;
	char *s;
	int fd;

	out = open_sinks(&o, x->path);
	CHECK(out != NULL, "open new file: %s", strerror(errno));
	if (out) {
		sinks_txn(out, &x->t);
		CHECK(sinks_flush(out) == 0, "flush new file");
		sinks_close(out);
	}
	CHECK(stat(x->path, &st) == 0 && (st.st_mode & 07777) == 0600,
	      "new file mode is %o, not 600", st.st_mode & 07777);
	s = slurp(x->path, &n);
	CHECK(s && strncmp(s, "[14:02:11.123456] PID 4242", 26) == 0 &&
		      s[n - 1] == '\n' && s[n - 2] == '\n',
	      "new file content: %s", s ? s : "(unreadable)");

	fd = open(x->path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "GARBAGE\n", 8) == 8, "append garbage");
	if (fd >= 0)
		close(fd);
	o.format = SINK_JSON;
	out = open_sinks(&o, x->path);
	CHECK(out != NULL, "reopen file: %s", strerror(errno));
	if (out) {
		sinks_txn(out, &x->t);
		sinks_close(out);
	}
	s = slurp(x->path, &n);
	CHECK(s && s[0] == '{' && !strstr(s, "GARBAGE") && !strstr(s, "PID 4242") &&
		      memchr(s, '\n', n) == s + n - 1,
	      "file not truncated: %s", s ? s : "(unreadable)");
}

/* A symlink is refused (O_NOFOLLOW), a directory too, and a socket,
 * which is neither regular, FIFO nor device. */
static void test_open_refused(struct open_test *x)
{
	struct sink_config o = { .format = SINK_JSON, .max_body = MAX_BODY, .clock_offset_ns = OFFSET };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sinks *out;
	int rd;

	CHECK(symlink(x->path, x->link) == 0, "symlink: %s", strerror(errno));
	errno = 0;
	out = open_sinks(&o, x->link);
	CHECK(!out && errno == ELOOP, "symlink accepted or errno %d", errno);
	sinks_close(out);
	errno = 0;
	out = open_sinks(&o, x->dir);
	CHECK(!out && errno != 0, "directory accepted");
	sinks_close(out);

	rd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", x->sock);
	if (rd >= 0 && bind(rd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		errno = 0;
		out = open_sinks(&o, x->sock);
		CHECK(!out && errno != 0, "socket accepted");
		sinks_close(out);
	}
	if (rd >= 0)
		close(rd);
}

/* A FIFO and a character device are written as they are; a full device
 * reports ENOSPC, and keeps reporting it. */
static void test_open_special(struct open_test *x)
{
	struct sink_config o = { .format = SINK_JSON, .max_body = MAX_BODY, .clock_offset_ns = OFFSET };
	struct sinks *out;
	char got[256];
	ssize_t r;
	int rd;

	CHECK(mkfifo(x->fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
	rd = open(x->fifo, O_RDONLY | O_NONBLOCK);
	CHECK(rd >= 0, "open fifo reader: %s", strerror(errno));
	out = rd >= 0 ? open_sinks(&o, x->fifo) : NULL;
	CHECK(out != NULL, "open fifo: %s", strerror(errno));
	if (out) {
		sinks_txn(out, &x->t);
		CHECK(sinks_flush(out) == 0, "flush fifo");
		r = read(rd, got, sizeof(got) - 1);
		CHECK(r > 20 && strncmp(got, "{\"ts\":\"2026-11-24T14:02:11", 26) == 0,
		      "fifo content");
		sinks_close(out);
	}
	if (rd >= 0)
		close(rd);

	out = open_sinks(&o, "/dev/null");
	CHECK(out != NULL, "open /dev/null: %s", strerror(errno));
	if (out) {
		sinks_txn(out, &x->t);
		CHECK(sinks_flush(out) == 0, "flush /dev/null");
		sinks_close(out);
	}
	out = open_sinks(&o, "/dev/full");
	if (out) {
		sinks_txn(out, &x->t);
		CHECK(sinks_flush(out) == -ENOSPC, "/dev/full flush did not fail");
		CHECK(sinks_flush(out) == -ENOSPC, "/dev/full error not sticky");
		sinks_close(out);
	}
	sinks_close(NULL);
}

static void test_open(void)
{
	struct open_test x = { .dir = "/tmp/test_output.XXXXXX" };

	build_get(&x.t);
	umask(022);
	if (!mkdtemp(x.dir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(x.path, sizeof(x.path), "%s/out", x.dir);
	snprintf(x.link, sizeof(x.link), "%s/link", x.dir);
	snprintf(x.fifo, sizeof(x.fifo), "%s/fifo", x.dir);
	snprintf(x.sock, sizeof(x.sock), "%s/sock", x.dir);
	test_open_file(&x);
	test_open_refused(&x);
	test_open_special(&x);
	unlink(x.link);
	unlink(x.fifo);
	unlink(x.sock);
	unlink(x.path);
	rmdir(x.dir);
	txn_clear(&x.t);
}

/* Writes the fixtures and the random transactions through the real
 * stream on stdout. */
static int write_jsonl(void)
{
	struct sink_config o = { .format = SINK_JSON, .max_body = MAX_BODY, .clock_offset_ns = OFFSET };
	struct sinks *out = open_sinks(&o, NULL);
	size_t i;
	int r;

	if (!out) {
		fprintf(stderr, "test_output: failed to open stdout: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < NFIXTURES; i++) {
		struct txn t = { 0 };

		fixtures[i].build(&t);
		sinks_txn(out, &t);
		txn_clear(&t);
	}
	for (i = 0; i < NRANDOM; i++) {
		struct txn t = { 0 };

		build_random(&t, RANDOM_ID0 + i);
		sinks_txn(out, &t);
		txn_clear(&t);
	}
	for (i = 0; i < NWS; i++) {
		struct ws_msg m;

		build_ws(&m, &ws_fixtures[i], WS_ID0 + i);
		sinks_ws(out, &m);
	}
	r = sinks_flush(out);
	sinks_close(out);
	if (r < 0) {
		fprintf(stderr, "test_output: failed to write stdout: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* The text writer prints local time; pin it. */
	setenv("TZ", "UTC", 1);
	tzset();

	if (argc > 1 && strcmp(argv[1], "--jsonl") == 0)
		return write_jsonl();
	if (argc > 1) {
		fprintf(stderr, "usage: test_output [--jsonl]\n");
		return 2;
	}
	test_fixtures();
	test_ws();
	test_max_body();
	test_body_lines();
	test_random();
	test_span();
	test_escape();
	test_addr();
	test_u64();
	test_body_text();
#ifdef __SSE2__
	/* Again the SSE2 way, where quotes are spread by SSSE3 above. */
	if (writer_ssse3) {
		writer_ssse3 = false;
		test_escape();
		test_body_text();
		writer_ssse3 = true;
	}
#endif
	test_open();
	if (failures) {
		fprintf(stderr, "test_output: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_output: all checks passed (%zu fixtures, %d random)\n",
	       NFIXTURES, NRANDOM);
	return 0;
}
