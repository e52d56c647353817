/* demo.c -- the bundled demo: a small poll()-based HTTP/1.1 server that scripts/demo, the image and the integration tests trace. */

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/*
 * Most client connections served at once; further clients wait in the listen
 * backlog until a slot frees.  The integration tests need at least 1,000.  Each
 * connection costs one struct conn, its input buffer (4 KiB to 64 KiB, more only
 * while a large request body arrives) and one descriptor: RLIMIT_NOFILE is
 * raised at start to fit.
 */
#define MAX_CONNS 4096

#define DEFAULT_ADDR "127.0.0.1"
#define DEFAULT_PORT 8080
#define MAX_HEADER_BYTES (64 * 1024)      /* request line + headers; more -> 431 */
#define MAX_BODY_BYTES (64 * 1024 * 1024) /* request body; more -> 413 */
#define IN_BUF_INITIAL 4096
#define OUT_HIGH_WATER (256 * 1024) /* queued output above which pipelined requests wait */
#define STREAM_CHUNK (64 * 1024)    /* largest write() of a /big body */
#define BIG_DEFAULT 1048576ULL
#define BIG_MAX (200ULL * 1024 * 1024)
#define SLOW_DEFAULT_MS 1000
#define SLOW_MAX_MS 10000
#define IDLE_TIMEOUT_MS 60000 /* close a connection with no I/O for this long */
#define LINGER_MS 2000        /* drain input this long after a closing response */
#define ACCEPT_PAUSE_MS 100   /* stop accepting this long when out of descriptors */

#define GZIP_TEXT "This body was gzip-compressed by the httpsnoop demo.\n"
#define GZIP_REPEAT 20

struct seg {
	struct seg *next;
	size_t len;
	size_t off;
	char data[];
};

struct reply {
	bool head;   /* HEAD request: headers only */
	bool keep;   /* keep the connection open after this response */
	bool http10; /* client spoke HTTP/1.0 */
};

struct conn {
	int fd;
	char *in;
	size_t in_off, in_len, in_cap;
	size_t in_need; /* bytes the current request needs buffered, 0 if unknown */
	struct seg *out_head, *out_tail;
	size_t out_bytes;
	uint64_t big_left, big_pos; /* /big body still to stream */
	int64_t slow_until;         /* /slow deadline, 0 if none */
	struct reply slow_rp;
	bool sent_continue;
	bool peer_eof;
	bool close_after; /* close once all output is written */
	bool lingering;   /* write side shut, draining input */
	int64_t linger_until;
	int64_t last_active;
};

struct req {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	bool http10;
	const char *ctype;
	size_t ctype_len;
	bool has_clen;
	uint64_t clen;
	bool has_te;
	bool conn_close;
	bool conn_keepalive;
	bool expect_continue;
	size_t hdr_len;
};

enum parse_result { PARSE_MORE, PARSE_BODY_WAIT, PARSE_OK, PARSE_ERR };
enum framing { FR_LENGTH, FR_CHUNKED, FR_NONE };

struct ctx {
	struct conn *c;
	const struct req *rq;
	struct reply rp;
	const char *arg; /* path after a route prefix */
	size_t arg_len;
	const char *query;
	size_t query_len;
	const char *body;
};

struct route {
	const char *path;
	bool prefix;
	bool post; /* POST/PUT route; otherwise GET/HEAD */
	int (*fn)(struct ctx *x);
};

struct user {
	int id;
	const char *name;
	const char *email;
};

static const struct user users[] = {
	{ 1, "Alice", "alice@example.com" },
	{ 2, "Bob", "bob@example.com" },
	{ 3, "Charlie", "charlie@example.com" },
};

static volatile sig_atomic_t g_stop;
static int64_t g_now;
static char g_pattern[STREAM_CHUNK + 26];
static unsigned char *g_gzip;
static size_t g_gzip_len;
static struct conn *g_conns[MAX_CONNS];
static size_t g_nconns;
static struct pollfd g_pfds[MAX_CONNS + 1];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 418: return "I'm a teapot";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* ---- output queue: each segment goes out with its own write() call(s) ---- */

static struct seg *seg_alloc(size_t len)
{
	struct seg *s = malloc(sizeof(*s) + len + 1);

	if (!s)
		return NULL;
	s->next = NULL;
	s->len = len;
	s->off = 0;
	return s;
}

static void conn_push(struct conn *c, struct seg *s)
{
	if (c->out_tail)
		c->out_tail->next = s;
	else
		c->out_head = s;
	c->out_tail = s;
	c->out_bytes += s->len;
}

static int queue_bytes(struct conn *c, const void *data, size_t len)
{
	struct seg *s = seg_alloc(len);

	if (!s)
		return -ENOMEM;
	memcpy(s->data, data, len);
	conn_push(c, s);
	return 0;
}

#define HEAD_FMT "HTTP/1.1 %d %s\r\nServer: httpsnoop-demo\r\nContent-Type: %.*s\r\n%s%s%s\r\n"

/* Queue a status line and headers, plus body unless the request was HEAD. */
static int queue_response(struct conn *c, const struct reply *rp, int status,
			  const char *ctype, size_t ctype_len, const char *extra,
			  enum framing fr, uint64_t clen, const char *body, size_t body_len)
{
	char framing[64] = "";
	const char *conn_hdr = "";
	size_t blen = (body && !rp->head) ? body_len : 0;
	struct seg *s;
	int hlen;

	if (fr == FR_LENGTH)
		snprintf(framing, sizeof(framing), "Content-Length: %" PRIu64 "\r\n", clen);
	else if (fr == FR_CHUNKED)
		snprintf(framing, sizeof(framing), "Transfer-Encoding: chunked\r\n");
	if (!rp->keep)
		conn_hdr = "Connection: close\r\n";
	else if (rp->http10)
		conn_hdr = "Connection: keep-alive\r\n";
	if (!extra)
		extra = "";

	hlen = snprintf(NULL, 0, HEAD_FMT, status, reason_phrase(status), (int)ctype_len,
			ctype, framing, conn_hdr, extra);
	if (hlen < 0)
		return -EINVAL;
	s = seg_alloc((size_t)hlen + blen);
	if (!s)
		return -ENOMEM;
	snprintf(s->data, (size_t)hlen + 1, HEAD_FMT, status, reason_phrase(status),
		 (int)ctype_len, ctype, framing, conn_hdr, extra);
	if (blen)
		memcpy(s->data + hlen, body, blen);
	conn_push(c, s);
	if (!rp->keep)
		c->close_after = true;
	return 0;
}

static int send_body(struct ctx *x, int status, const char *ctype, const char *body, size_t len)
{
	return queue_response(x->c, &x->rp, status, ctype, strlen(ctype), NULL, FR_LENGTH,
			      len, body, len);
}

static int send_text(struct ctx *x, int status, const char *text)
{
	return send_body(x, status, "text/plain", text, strlen(text));
}

static int send_json(struct ctx *x, int status, const char *json)
{
	return send_body(x, status, "application/json", json, strlen(json));
}

/* Error before or instead of handling a request: plain text, then close. */
static int send_error(struct conn *c, int status, const char *text)
{
	struct reply rp = { .head = false, .keep = false, .http10 = false };

	return queue_response(c, &rp, status, "text/plain", strlen("text/plain"), NULL,
			      FR_LENGTH, strlen(text), text, strlen(text));
}

/* Write queued segments, then any /big stream.  0 when all is out, -EAGAIN
 * when the socket is full, else a negative errno. */
static int conn_flush(struct conn *c)
{
	while (c->out_head) {
		struct seg *s = c->out_head;
		ssize_t n = write(c->fd, s->data + s->off, s->len - s->off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return -errno;
		}
		c->last_active = g_now;
		s->off += (size_t)n;
		if (s->off == s->len) {
			c->out_head = s->next;
			if (!c->out_head)
				c->out_tail = NULL;
			c->out_bytes -= s->len;
			free(s);
		}
	}
	while (c->big_left) {
		size_t len = c->big_left < STREAM_CHUNK ? (size_t)c->big_left : STREAM_CHUNK;
		ssize_t n = write(c->fd, g_pattern + c->big_pos % 26, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return -errno;
		}
		c->last_active = g_now;
		c->big_left -= (uint64_t)n;
		c->big_pos += (uint64_t)n;
	}
	return 0;
}

/* ---- small parsing helpers ---- */

static bool is_tchar(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return true;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool mem_eq(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static bool mem_caseeq(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && strncasecmp(s, lit, len) == 0;
}

static void trim_ows(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* Decimal digits only, no sign, at most max.  0 or -EINVAL/-ERANGE. */
static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int hex_val(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decode (and '+' -> space) into out, which holds len bytes. */
static int url_decode(const char *s, size_t len, char *out, size_t *out_len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (len - i < 3)
				return -EINVAL;
			hi = hex_val(s[i + 1]);
			lo = hex_val(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+') {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	*out_len = o;
	return 0;
}

/* Find the first name=value pair in a query string; raw (undecoded) value. */
static bool query_param(const char *q, size_t qlen, const char *name, const char **val,
			size_t *vlen)
{
	size_t pos = 0;

	while (pos < qlen) {
		const char *amp = memchr(q + pos, '&', qlen - pos);
		size_t end = amp ? (size_t)(amp - q) : qlen;
		const char *pair = q + pos;
		size_t plen = end - pos;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;

		if (mem_eq(pair, klen, name)) {
			*val = eq ? eq + 1 : pair + plen;
			*vlen = eq ? plen - klen - 1 : 0;
			return true;
		}
		pos = end + 1;
	}
	return false;
}

/* ---- request parsing ---- */

static int parse_request_line(const char *line, size_t len, struct req *rq, int *status)
{
	const char *sp1 = memchr(line, ' ', len);
	const char *sp2, *ver;
	size_t i, vlen;

	*status = 400;
	if (!sp1 || sp1 == line)
		return -EINVAL;
	rq->method = line;
	rq->method_len = (size_t)(sp1 - line);
	for (i = 0; i < rq->method_len; i++)
		if (!is_tchar((unsigned char)line[i]))
			return -EINVAL;
	rq->target = sp1 + 1;
	sp2 = memchr(rq->target, ' ', len - rq->method_len - 1);
	if (!sp2 || sp2 == rq->target)
		return -EINVAL;
	rq->target_len = (size_t)(sp2 - rq->target);
	for (i = 0; i < rq->target_len; i++) {
		unsigned char ch = (unsigned char)rq->target[i];

		if (ch <= 0x20 || ch == 0x7f)
			return -EINVAL;
	}
	ver = sp2 + 1;
	vlen = len - (size_t)(ver - line);
	if (vlen != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[5] < '0' || ver[5] > '9' ||
	    ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
		return -EINVAL;
	if (ver[5] != '1') {
		*status = 505;
		return -EPROTONOSUPPORT;
	}
	rq->http10 = ver[7] == '0';
	return 0;
}

static void parse_connection(const char *v, size_t len, struct req *rq)
{
	size_t pos = 0;

	while (pos <= len) {
		const char *comma = memchr(v + pos, ',', len - pos);
		size_t end = comma ? (size_t)(comma - v) : len;
		const char *tok = v + pos;
		size_t tlen = end - pos;

		trim_ows(&tok, &tlen);
		if (mem_caseeq(tok, tlen, "close"))
			rq->conn_close = true;
		else if (mem_caseeq(tok, tlen, "keep-alive"))
			rq->conn_keepalive = true;
		pos = end + 1;
	}
}

static int parse_header_line(const char *line, size_t len, struct req *rq, int *status)
{
	const char *colon = memchr(line, ':', len);
	const char *val;
	size_t nlen, vlen, i;

	*status = 400;
	if (!colon || colon == line)
		return -EINVAL;
	nlen = (size_t)(colon - line);
	for (i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return -EINVAL;
	val = colon + 1;
	vlen = len - nlen - 1;
	trim_ows(&val, &vlen);
	for (i = 0; i < vlen; i++) {
		unsigned char ch = (unsigned char)val[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return -EINVAL;
	}

	if (mem_caseeq(line, nlen, "content-length")) {
		uint64_t v;
		int r = parse_u64(val, vlen, UINT64_MAX, &v);

		if (r < 0 || (rq->has_clen && rq->clen != v))
			return -EINVAL;
		if (v > MAX_BODY_BYTES) {
			*status = 413;
			return -EFBIG;
		}
		rq->has_clen = true;
		rq->clen = v;
	} else if (mem_caseeq(line, nlen, "transfer-encoding")) {
		rq->has_te = true;
	} else if (mem_caseeq(line, nlen, "connection")) {
		parse_connection(val, vlen, rq);
	} else if (mem_caseeq(line, nlen, "expect")) {
		if (mem_caseeq(val, vlen, "100-continue"))
			rq->expect_continue = true;
	} else if (mem_caseeq(line, nlen, "content-type")) {
		rq->ctype = val;
		rq->ctype_len = vlen;
	}
	return 0;
}

/* Parse the next request at the front of the input buffer.  On PARSE_ERR,
 * *status holds the HTTP status to answer with. */
static enum parse_result parse_request(struct conn *c, struct req *rq, int *status)
{
	const char *p;
	size_t avail, pos = 0;
	bool first = true;

	/* Tolerate stray CRLFs between requests (RFC 9112 section 2.2). */
	while (c->in_off < c->in_len && (c->in[c->in_off] == '\r' || c->in[c->in_off] == '\n'))
		c->in_off++;
	p = c->in + c->in_off;
	avail = c->in_len - c->in_off;
	memset(rq, 0, sizeof(*rq));

	for (;;) {
		const char *nl = avail > pos ? memchr(p + pos, '\n', avail - pos) : NULL;
		const char *line = p + pos;
		size_t end, llen;

		if (!nl) {
			if (avail >= MAX_HEADER_BYTES) {
				*status = 431;
				return PARSE_ERR;
			}
			return PARSE_MORE;
		}
		end = (size_t)(nl - p);
		if (end + 1 > MAX_HEADER_BYTES) {
			*status = 431;
			return PARSE_ERR;
		}
		llen = end - pos;
		if (llen && line[llen - 1] == '\r')
			llen--;
		if (memchr(line, '\r', llen) || memchr(line, '\0', llen)) {
			*status = 400;
			return PARSE_ERR;
		}
		pos = end + 1;
		if (first) {
			if (parse_request_line(line, llen, rq, status) < 0)
				return PARSE_ERR;
			first = false;
		} else if (llen == 0) {
			break;
		} else if (parse_header_line(line, llen, rq, status) < 0) {
			return PARSE_ERR;
		}
	}
	rq->hdr_len = pos;
	if (rq->has_te) {
		*status = 411; /* chunked request bodies are not supported */
		return PARSE_ERR;
	}
	if (avail - pos < rq->clen) {
		c->in_need = pos + (size_t)rq->clen;
		return PARSE_BODY_WAIT;
	}
	return PARSE_OK;
}

/* Drop a handled request from the input buffer; shrink it after a big body. */
static void consume_request(struct conn *c, size_t len)
{
	size_t rest;

	c->in_off += len;
	c->in_need = 0;
	c->sent_continue = false;
	rest = c->in_len - c->in_off;
	if (rest == 0) {
		c->in_off = 0;
		c->in_len = 0;
	}
	if (c->in_cap > 2 * MAX_HEADER_BYTES && rest <= MAX_HEADER_BYTES) {
		char *n;

		memmove(c->in, c->in + c->in_off, rest);
		c->in_off = 0;
		c->in_len = rest;
		n = realloc(c->in, MAX_HEADER_BYTES);
		if (n) {
			c->in = n;
			c->in_cap = MAX_HEADER_BYTES;
		}
	}
}

/* ---- endpoints ---- */

static int h_root(struct ctx *x)
{
	return send_text(x, 200, "Hello from httpsnoop demo!\n");
}

static int user_json(const struct user *u, char *buf, size_t cap)
{
	return snprintf(buf, cap, "{\"id\":%d,\"name\":\"%s\",\"email\":\"%s\"}", u->id, u->name,
			u->email);
}

static int h_users(struct ctx *x)
{
	char buf[512];
	size_t len = 0, i;

	buf[len++] = '[';
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		if (i)
			buf[len++] = ',';
		len += (size_t)user_json(&users[i], buf + len, sizeof(buf) - len);
	}
	buf[len++] = ']';
	return send_body(x, 200, "application/json", buf, len);
}

static int h_user(struct ctx *x)
{
	char buf[256];
	uint64_t id;

	if (parse_u64(x->arg, x->arg_len, sizeof(users) / sizeof(users[0]), &id) < 0 || id == 0)
		return send_json(x, 404, "{\"error\":\"user not found\"}");
	user_json(&users[id - 1], buf, sizeof(buf));
	return send_json(x, 200, buf);
}

static int h_message(struct ctx *x)
{
	static const char prefix[] = "Message: ";
	const char *val;
	size_t vlen, dlen;
	char *buf;
	int r;

	if (!query_param(x->query, x->query_len, "text", &val, &vlen))
		return send_text(x, 400, "missing text parameter\n");
	buf = malloc(sizeof(prefix) + vlen + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	if (url_decode(val, vlen, buf + sizeof(prefix) - 1, &dlen) < 0) {
		free(buf);
		return send_text(x, 400, "bad percent-encoding in text\n");
	}
	dlen += sizeof(prefix) - 1;
	buf[dlen++] = '\n';
	r = send_body(x, 200, "text/plain", buf, dlen);
	free(buf);
	return r;
}

static int h_health(struct ctx *x)
{
	return send_json(x, 200, "{\"status\":\"ok\"}");
}

static int h_chunked(struct ctx *x)
{
	static const char *const chunks[] = { "chunk one\n", "chunk two\n", "chunk three\n" };
	const size_t n = sizeof(chunks) / sizeof(chunks[0]);
	size_t i, total = 0;
	int r;

	if (x->rp.http10) {
		/* HTTP/1.0 has no chunked coding: same pieces, framed by length. */
		for (i = 0; i < n; i++)
			total += strlen(chunks[i]);
		r = queue_response(x->c, &x->rp, 200, "text/plain", strlen("text/plain"), NULL,
				   FR_LENGTH, total, NULL, 0);
		for (i = 0; r == 0 && !x->rp.head && i < n; i++)
			r = queue_bytes(x->c, chunks[i], strlen(chunks[i]));
		return r;
	}
	r = queue_response(x->c, &x->rp, 200, "text/plain", strlen("text/plain"), NULL,
			   FR_CHUNKED, 0, NULL, 0);
	for (i = 0; r == 0 && !x->rp.head && i < n; i++) {
		char buf[64];
		int len = snprintf(buf, sizeof(buf), "%zx\r\n%s\r\n", strlen(chunks[i]), chunks[i]);

		r = queue_bytes(x->c, buf, (size_t)len);
	}
	if (r == 0 && !x->rp.head)
		r = queue_bytes(x->c, "0\r\n\r\n", 5);
	return r;
}

static int h_gzip(struct ctx *x)
{
	return queue_response(x->c, &x->rp, 200, "text/plain", strlen("text/plain"),
			      "Content-Encoding: gzip\r\n", FR_LENGTH, g_gzip_len,
			      (const char *)g_gzip, g_gzip_len);
}

static int h_big(struct ctx *x)
{
	uint64_t size = BIG_DEFAULT;
	const char *val;
	size_t vlen;
	int r;

	if (query_param(x->query, x->query_len, "size", &val, &vlen) &&
	    parse_u64(val, vlen, BIG_MAX, &size) < 0)
		return send_text(x, 400, "size must be 0..209715200\n");
	r = queue_response(x->c, &x->rp, 200, "application/octet-stream",
			   strlen("application/octet-stream"), NULL, FR_LENGTH, size, NULL, 0);
	if (r == 0 && !x->rp.head) {
		x->c->big_left = size;
		x->c->big_pos = 0;
	}
	return r;
}

static int h_status(struct ctx *x)
{
	char buf[96];
	uint64_t code;

	if (x->arg_len != 3 || parse_u64(x->arg, x->arg_len, 599, &code) < 0 || code < 200)
		return send_text(x, 400, "status must be 200..599\n");
	if (code == 204 || code == 304)
		return queue_response(x->c, &x->rp, (int)code, "text/plain", strlen("text/plain"),
				      NULL, FR_NONE, 0, NULL, 0);
	snprintf(buf, sizeof(buf), "%d %s\n", (int)code, reason_phrase((int)code));
	return send_text(x, (int)code, buf);
}

static int h_slow(struct ctx *x)
{
	uint64_t ms = SLOW_DEFAULT_MS;
	const char *val;
	size_t vlen;

	if (query_param(x->query, x->query_len, "ms", &val, &vlen)) {
		int r = parse_u64(val, vlen, UINT64_MAX, &ms);

		if (r == -ERANGE)
			ms = SLOW_MAX_MS;
		else if (r < 0)
			return send_text(x, 400, "ms must be a number\n");
	}
	if (ms > SLOW_MAX_MS)
		ms = SLOW_MAX_MS;
	if (ms == 0)
		return send_text(x, 200, "slow\n");
	/* The main loop answers when the deadline passes; until then this
	 * connection parses no further requests, so responses stay in order. */
	x->c->slow_until = g_now + (int64_t)ms;
	x->c->slow_rp = x->rp;
	return 0;
}

static int h_echo(struct ctx *x)
{
	const char *ctype = "application/octet-stream";
	size_t ctype_len = strlen(ctype);

	if (x->rq->ctype_len) {
		ctype = x->rq->ctype;
		ctype_len = x->rq->ctype_len;
	}
	return queue_response(x->c, &x->rp, 200, ctype, ctype_len, NULL, FR_LENGTH,
			      x->rq->clen, x->body, (size_t)x->rq->clen);
}

static const struct route routes[] = {
	{ "/", false, false, h_root },
	{ "/users", false, false, h_users },
	{ "/user/", true, false, h_user },
	{ "/message", false, false, h_message },
	{ "/health", false, false, h_health },
	{ "/chunked", false, false, h_chunked },
	{ "/gzip", false, false, h_gzip },
	{ "/big", false, false, h_big },
	{ "/status/", true, false, h_status },
	{ "/slow", false, false, h_slow },
	{ "/echo", false, true, h_echo },
};

static int handle_request(struct conn *c, const struct req *rq)
{
	struct ctx x = { .c = c, .rq = rq };
	const char *path = rq->target, *q;
	size_t plen = rq->target_len, i;
	bool is_get = mem_eq(rq->method, rq->method_len, "GET");
	bool is_head = mem_eq(rq->method, rq->method_len, "HEAD");
	bool is_post = mem_eq(rq->method, rq->method_len, "POST") ||
		       mem_eq(rq->method, rq->method_len, "PUT");

	x.rp.head = is_head;
	x.rp.http10 = rq->http10;
	x.rp.keep = rq->http10 ? (rq->conn_keepalive && !rq->conn_close) : !rq->conn_close;
	x.body = c->in + c->in_off + rq->hdr_len;

	/* absolute-form target: drop scheme and authority */
	if (plen > 7 && (strncasecmp(path, "http://", 7) == 0 ||
			 (plen > 8 && strncasecmp(path, "https://", 8) == 0))) {
		const char *auth = (const char *)memchr(path, ':', plen) + 3;
		const char *slash = memchr(auth, '/', plen - (size_t)(auth - path));

		if (slash) {
			plen -= (size_t)(slash - path);
			path = slash;
		} else {
			path = "/";
			plen = 1;
		}
	}
	q = memchr(path, '?', plen);
	if (q) {
		x.query = q + 1;
		x.query_len = plen - (size_t)(q - path) - 1;
		plen = (size_t)(q - path);
	} else {
		x.query = "";
	}

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		size_t rlen = strlen(rt->path);

		if (rt->prefix ? (plen < rlen || memcmp(path, rt->path, rlen) != 0)
			       : !mem_eq(path, plen, rt->path))
			continue;
		x.arg = path + rlen;
		x.arg_len = plen - rlen;
		if (rt->post ? is_post : (is_get || is_head))
			return rt->fn(&x);
		return queue_response(c, &x.rp, 405, "text/plain", strlen("text/plain"),
				      rt->post ? "Allow: POST, PUT\r\n" : "Allow: GET, HEAD\r\n",
				      FR_LENGTH, 19, "method not allowed\n", 19);
	}
	return send_text(&x, 404, "not found\n");
}

/* ---- connections ---- */

static size_t read_limit(const struct conn *c)
{
	return c->in_need > MAX_HEADER_BYTES ? c->in_need : MAX_HEADER_BYTES;
}

static int conn_read(struct conn *c)
{
	size_t limit = read_limit(c);

	if (c->in_off) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	while (c->in_len < limit) {
		ssize_t n;

		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap * 2 : IN_BUF_INITIAL;
			char *p;

			if (cap > limit)
				cap = limit;
			p = realloc(c->in, cap);
			if (!p)
				return -ENOMEM;
			c->in = p;
			c->in_cap = cap;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			c->last_active = g_now;
		} else if (n == 0) {
			c->peer_eof = true;
			break;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else {
			return -errno;
		}
	}
	return 0;
}

/* Stop writing, keep reading a little so a pending request does not turn our
 * close into a reset that destroys the response in flight.  -ESHUTDOWN if the
 * connection can be closed right away. */
static int conn_start_linger(struct conn *c)
{
	if (c->peer_eof || shutdown(c->fd, SHUT_WR) < 0)
		return -ESHUTDOWN;
	c->lingering = true;
	c->linger_until = g_now + LINGER_MS;
	return 0;
}

static int conn_linger_read(struct conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -ESHUTDOWN;
	}
}

/* Write what is queued and serve buffered requests in order.  0 to keep the
 * connection, negative to close it. */
static int conn_progress(struct conn *c)
{
	for (;;) {
		struct req rq;
		enum parse_result pr;
		int r, status;

		r = conn_flush(c);
		if (r < 0 && r != -EAGAIN)
			return r;
		if (c->close_after)
			return r == 0 ? conn_start_linger(c) : 0;
		if (c->slow_until || c->big_left || c->out_bytes > OUT_HIGH_WATER)
			return 0;

		pr = parse_request(c, &rq, &status);
		if (pr == PARSE_MORE)
			break;
		if (pr == PARSE_ERR) {
			static const struct { int status; const char *text; } errs[] = {
				{ 400, "bad request\n" },
				{ 411, "chunked request bodies are not supported\n" },
				{ 413, "request body too large\n" },
				{ 431, "request header fields too large\n" },
				{ 505, "HTTP version not supported\n" },
			};
			const char *text = "bad request\n";
			size_t i;

			for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
				if (errs[i].status == status)
					text = errs[i].text;
			r = send_error(c, status, text);
			if (r < 0)
				return r;
			continue;
		}
		if (rq.expect_continue && !rq.http10 && !c->sent_continue) {
			c->sent_continue = true;
			r = queue_bytes(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
			if (r < 0)
				return r;
		}
		if (pr == PARSE_BODY_WAIT) {
			r = conn_flush(c);
			if (r < 0 && r != -EAGAIN)
				return r;
			break;
		}
		r = handle_request(c, &rq);
		if (r < 0)
			return r;
		consume_request(c, rq.hdr_len + (size_t)rq.clen);
	}
	if (c->peer_eof && !c->out_head && !c->big_left && !c->slow_until)
		return -ESHUTDOWN;
	return 0;
}

static short conn_events(const struct conn *c)
{
	short ev = 0;

	if (c->lingering)
		return POLLIN;
	if (c->out_head || c->big_left)
		ev |= POLLOUT;
	if (!c->peer_eof && !c->close_after && c->in_len - c->in_off < read_limit(c))
		ev |= POLLIN;
	return ev;
}

static int64_t conn_deadline(const struct conn *c)
{
	if (c->lingering)
		return c->linger_until;
	if (c->slow_until)
		return c->slow_until;
	return c->last_active + IDLE_TIMEOUT_MS;
}

static void conn_free(struct conn *c)
{
	while (c->out_head) {
		struct seg *s = c->out_head;

		c->out_head = s->next;
		free(s);
	}
	close(c->fd);
	free(c->in);
	free(c);
}

/* Handle poll results or a passed deadline; 0 to keep, negative to close. */
static int conn_service(struct conn *c, short revents)
{
	int r;

	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		return -ECONNRESET;
	if (c->lingering) {
		if (g_now >= c->linger_until)
			return -ETIMEDOUT;
		return (revents & POLLIN) ? conn_linger_read(c) : 0;
	}
	if (c->slow_until && g_now >= c->slow_until) {
		c->slow_until = 0;
		r = queue_response(c, &c->slow_rp, 200, "text/plain", strlen("text/plain"), NULL,
				   FR_LENGTH, 5, "slow\n", 5);
		if (r < 0)
			return r;
		c->last_active = g_now;
		revents |= POLLOUT;
	}
	if (!c->slow_until && g_now - c->last_active >= IDLE_TIMEOUT_MS)
		return -ETIMEDOUT;
	if (revents & POLLIN) {
		r = conn_read(c);
		if (r < 0)
			return r;
	}
	if (revents & (POLLIN | POLLOUT))
		return conn_progress(c);
	return 0;
}

/* ---- listener and main loop ---- */

static void accept_clients(int lfd, int64_t *pause_until)
{
	while (g_nconns < MAX_CONNS) {
		struct conn *c;
		int one = 1;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			fprintf(stderr, "demo: failed to accept connection: %s\n", strerror(errno));
			*pause_until = g_now + ACCEPT_PAUSE_MS;
			return;
		}
		/* Small separate writes (chunks) must not wait on Nagle. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			fprintf(stderr, "demo: failed to allocate connection: %s\n", strerror(ENOMEM));
			close(fd);
			return;
		}
		c->fd = fd;
		c->last_active = g_now;
		g_conns[g_nconns++] = c;
	}
}

static int open_listener(const char *addr, unsigned port, int *out_fd)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	char portstr[16], host[NI_MAXHOST], serv[NI_MAXSERV];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int fd = -1, err = 0, r;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	r = getaddrinfo(addr, portstr, &hints, &res);
	if (r != 0) {
		fprintf(stderr, "demo: failed to resolve address %s: %s\n", addr, gai_strerror(r));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "demo: failed to listen on %s port %u: %s\n", addr, port,
			strerror(err ? err : EADDRNOTAVAIL));
		return -(err ? err : EADDRNOTAVAIL);
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		err = errno;
		fprintf(stderr, "demo: failed to read listening address: %s\n", strerror(err));
		close(fd);
		return -err;
	}
	if (ss.ss_family == AF_INET6)
		printf("listening on [%s]:%s\n", host, serv);
	else
		printf("listening on %s:%s\n", host, serv);
	fflush(stdout);
	*out_fd = fd;
	return 0;
}

static int make_gzip_body(void)
{
	size_t tlen = strlen(GZIP_TEXT), plain_len = tlen * GZIP_REPEAT, i;
	char *plain = malloc(plain_len);
	z_stream zs = { 0 };
	int r;

	if (!plain)
		return -ENOMEM;
	for (i = 0; i < GZIP_REPEAT; i++)
		memcpy(plain + i * tlen, GZIP_TEXT, tlen);
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(plain);
		return -EINVAL;
	}
	g_gzip_len = deflateBound(&zs, plain_len);
	g_gzip = malloc(g_gzip_len);
	if (!g_gzip) {
		deflateEnd(&zs);
		free(plain);
		return -ENOMEM;
	}
	zs.next_in = (unsigned char *)plain;
	zs.avail_in = (uInt)plain_len;
	zs.next_out = g_gzip;
	zs.avail_out = (uInt)g_gzip_len;
	r = deflate(&zs, Z_FINISH);
	g_gzip_len = zs.total_out;
	deflateEnd(&zs);
	free(plain);
	return r == Z_STREAM_END ? 0 : -EIO;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = MAX_CONNS + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want) ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static int setup_signals(sigset_t *wait_mask)
{
	struct sigaction sa = { 0 };
	sigset_t block;

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	/* Deliver SIGINT/SIGTERM only inside ppoll(), so none slips in between
	 * checking g_stop and going to sleep. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, wait_mask) < 0)
		return -errno;
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGTERM);
	return 0;
}

static int serve(int lfd, const sigset_t *wait_mask)
{
	int64_t accept_pause_until = 0;
	size_t i, n;

	while (!g_stop) {
		int64_t deadline = INT64_MAX;
		struct timespec ts;
		bool can_accept;
		int r;

		g_now = now_ms();
		can_accept = g_nconns < MAX_CONNS && g_now >= accept_pause_until;
		if (!can_accept && g_now < accept_pause_until)
			deadline = accept_pause_until;
		g_pfds[0].fd = can_accept ? lfd : -1;
		g_pfds[0].events = POLLIN;
		g_pfds[0].revents = 0;
		n = g_nconns;
		for (i = 0; i < n; i++) {
			int64_t d = conn_deadline(g_conns[i]);

			g_pfds[i + 1].fd = g_conns[i]->fd;
			g_pfds[i + 1].events = conn_events(g_conns[i]);
			g_pfds[i + 1].revents = 0;
			if (d < deadline)
				deadline = d;
		}
		if (deadline != INT64_MAX) {
			int64_t wait = deadline > g_now ? deadline - g_now : 0;

			ts.tv_sec = wait / 1000;
			ts.tv_nsec = (long)(wait % 1000) * 1000000;
		}
		r = ppoll(g_pfds, n + 1, deadline != INT64_MAX ? &ts : NULL, wait_mask);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "demo: failed to poll sockets: %s\n", strerror(errno));
			return -errno;
		}
		g_now = now_ms();

		for (i = 0; i < n; i++) {
			struct conn *c = g_conns[i];

			if (!g_pfds[i + 1].revents && g_now < conn_deadline(c))
				continue;
			if (conn_service(c, g_pfds[i + 1].revents) < 0) {
				conn_free(c);
				g_conns[i] = NULL;
			}
		}
		if (g_pfds[0].revents & POLLIN)
			accept_clients(lfd, &accept_pause_until);

		/* compact, keeping order; accepted connections sit after index n */
		{
			size_t w = 0;

			for (i = 0; i < g_nconns; i++)
				if (g_conns[i])
					g_conns[w++] = g_conns[i];
			g_nconns = w;
		}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: httpsnoop-demo [-a ADDR] [-p PORT]\n"
		   "  -a ADDR  address to listen on (default " DEFAULT_ADDR "; IPv6 works too)\n"
		   "  -p PORT  TCP port, 0 for any free one (default %d)\n",
		DEFAULT_PORT);
}

int main(int argc, char **argv)
{
	const char *addr = DEFAULT_ADDR;
	unsigned port = DEFAULT_PORT;
	sigset_t wait_mask;
	int opt, lfd = -1, r;
	size_t i;

	while ((opt = getopt(argc, argv, "a:p:h")) != -1) {
		uint64_t v;

		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, strlen(optarg), 65535, &v) < 0) {
				fprintf(stderr, "demo: bad port '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			port = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	for (i = 0; i < sizeof(g_pattern); i++)
		g_pattern[i] = (char)('a' + i % 26);
	r = make_gzip_body();
	if (r < 0) {
		fprintf(stderr, "demo: failed to compress gzip body: %s\n", strerror(-r));
		return 1;
	}
	r = setup_signals(&wait_mask);
	if (r < 0) {
		fprintf(stderr, "demo: failed to set up signals: %s\n", strerror(-r));
		return 1;
	}
	raise_fd_limit();
	if (open_listener(addr, port, &lfd) < 0)
		return 1;

	r = serve(lfd, &wait_mask);

	for (i = 0; i < g_nconns; i++)
		conn_free(g_conns[i]);
	g_nconns = 0;
	close(lfd);
	free(g_gzip);
	return r < 0 ? 1 : 0;
}
