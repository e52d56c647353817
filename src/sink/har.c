/* har.c -- the HAR sink (--har): each transaction as a HAR 1.2 entry, appended so that the file is a complete document after every write. */
#include "sink/har.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "sink/writer.h"

/* HAR 1.2 (W3C Web Performance WG draft): log.version, log.creator and
 * log.entries are required; pages is optional and empty here. */
#define HAR_HEAD_FMT "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"httpsnoop\"," \
		     "\"version\":\"%s\"},\"pages\":[],\"entries\":["
#define HAR_TAIL "\n]}}\n"

struct har {
	int fd;
	bool seekable;	/* a regular file: the tail is written over */
	off_t tail_off; /* where the closing brackets begin */
	size_t nentries;
	int err;	/* first write error, as -errno */
	char *buf;	/* owned: entries waiting, room for the tail */
	size_t len;
};

/* Writes all of p[0..n) at off (or at the end when off < 0). */
static int har_write(int fd, const char *p, size_t n, off_t off)
{
	while (n) {
		ssize_t k = off >= 0 ? pwrite(fd, p, n, off) : write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
		if (off >= 0)
			off += k;
	}
	return 0;
}

struct har *har_open(const char *path, const char *creator_version)
{
	struct har *h = calloc(1, sizeof(*h));
	char head[256];
	struct stat st;
	int n, err;

	if (!h)
		return NULL;
	h->fd = writer_open_fd(path);
	h->buf = malloc(HAR_BUF_SIZE + sizeof(HAR_TAIL));
	if (h->fd < 0 || !h->buf)
		goto fail;
	h->seekable = fstat(h->fd, &st) == 0 && S_ISREG(st.st_mode);
	n = snprintf(head, sizeof(head), HAR_HEAD_FMT, creator_version);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		errno = EINVAL;
		goto fail;
	}
	h->tail_off = n;
	err = har_write(h->fd, head, (size_t)n, h->seekable ? 0 : -1);
	if (!err && h->seekable)
		err = har_write(h->fd, HAR_TAIL, strlen(HAR_TAIL), h->tail_off);
	if (err) {
		errno = -err;
		goto fail;
	}
	return h;
fail:
	err = errno;
	if (h->fd >= 0)
		close(h->fd);
	free(h->buf);
	free(h);
	errno = err;
	return NULL;
}

int har_flush(struct har *h)
{
	size_t tail = strlen(HAR_TAIL);
	int err;

	if (!h->len || h->err)
		return h->err;
	if (!h->seekable) {
		err = har_write(h->fd, h->buf, h->len, -1);
	} else {
		memcpy(h->buf + h->len, HAR_TAIL, tail);
		err = har_write(h->fd, h->buf, h->len + tail, h->tail_off);
		if (!err)
			h->tail_off += (off_t)h->len;
	}
	h->len = 0;
	if (err)
		h->err = err;
	return h->err;
}

/* Copies n bytes into the buffer, flushing it as it fills. */
static int har_put(struct har *h, const char *p, size_t n)
{
	while (n) {
		size_t k = HAR_BUF_SIZE - h->len < n ? HAR_BUF_SIZE - h->len : n;

		memcpy(h->buf + h->len, p, k);
		h->len += k;
		p += k;
		n -= k;
		if (h->len == HAR_BUF_SIZE && har_flush(h))
			return h->err;
	}
	return 0;
}

int har_add(struct har *h, const char *entry, size_t len)
{
	if (h->err)
		return h->err;
	/* An entry larger than the buffer is written in pieces: a document
	 * cut inside one would not parse, so flush what waits first and
	 * then write it whole, tail and all. */
	if (h->len + len + 2 > HAR_BUF_SIZE && har_flush(h))
		return h->err;
	if (h->nentries++)
		har_put(h, ",\n", 2);
	else
		har_put(h, "\n", 1);
	if (len + 2 > HAR_BUF_SIZE) {
		size_t tail = strlen(HAR_TAIL), lead = h->len;
		char *big = malloc(lead + len + tail);
		int err;

		if (!big)
			return h->err = -ENOMEM;
		memcpy(big, h->buf, lead);
		memcpy(big + lead, entry, len);
		memcpy(big + lead + len, HAR_TAIL, tail);
		h->len = 0;
		if (h->seekable) {
			err = har_write(h->fd, big, lead + len + tail, h->tail_off);
			h->tail_off += (off_t)(lead + len);
		} else {
			err = har_write(h->fd, big, lead + len, -1);
		}
		free(big);
		return h->err = err;
	}
	return har_put(h, entry, len);
}

int har_close(struct har *h)
{
	int err;

	if (!h)
		return 0;
	err = har_flush(h);
	if (!err && !h->seekable)
		err = har_write(h->fd, HAR_TAIL, strlen(HAR_TAIL), -1);
	if (close(h->fd) < 0 && !err)
		err = -errno;
	free(h->buf);
	free(h);
	return err;
}

/* --- the sink: one entry per transaction ----------------------------- */

struct har_sink {
	struct har *h;
	const char *path;
	size_t max_body;
	int64_t clock_offset_ns;
};

/* HAR times are milliseconds: from ns, to the microsecond. */
static void har_ms(struct writer_line *l, uint64_t us)
{
	char b[32];

	writer_put(l, b, (size_t)snprintf(b, sizeof(b), "%llu.%03llu",
					  (unsigned long long)(us / 1000),
					  (unsigned long long)(us % 1000)));
}

static void har_cstr(struct writer_line *l, const char *s, size_t n)
{
	json_put_str(l, (const uint8_t *)s, n);
}

static void har_slice(struct writer_line *l, const struct http_msg *m, uint32_t off,
		      uint32_t len)
{
	struct writer_msgbuf b;
	const uint8_t *p, *lim;
	size_t n;

	writer_msgbuf_get(m, &b);
	n = writer_slice(&b, off, len, &p, &lim);
	json_put_str(l, p, n);
}

/* ISO 8601 in UTC with milliseconds, which every HAR reader parses. */
static void har_date(struct writer_line *l, uint64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;
	char b[40];
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(b, sizeof(b), "\"%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(b + n, sizeof(b) - n, ".%03uZ\"",
			      (unsigned)(ns / 1000000 % 1000));
	writer_put(l, b, n);
}

static void har_headers(struct writer_line *l, const struct http_msg *m)
{
	WRITER_LIT(l, "[");
	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct http_header *h = &m->hdrs[i];

		writer_puts(l, i ? ",{\"name\":" : "{\"name\":");
		har_slice(l, m, h->name_off, h->name_len);
		WRITER_LIT(l, ",\"value\":");
		har_slice(l, m, h->value_off, h->value_len);
		writer_putc(l, '}');
	}
	writer_putc(l, ']');
}

/* A header's value as a JSON string, or dflt. */
static void har_header_value(struct writer_line *l, const struct http_msg *m,
			     const char *name, const char *dflt)
{
	size_t n;
	const char *v = http_msg_header(m, name, &n);

	if (v)
		har_cstr(l, v, n);
	else
		har_cstr(l, dflt, strlen(dflt));
}

static int har_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A query component decoded as URLSearchParams does ('+' is a space,
 * %XX a byte), as a JSON string. */
static void har_query_part(struct writer_line *l, const char *s, size_t n)
{
	char buf[1024];
	size_t o = 0;

	if (n > sizeof(buf)) { /* too long to bother: as it is */
		har_cstr(l, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			buf[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && har_hexval(s[i + 1]) >= 0 &&
			   har_hexval(s[i + 2]) >= 0) {
			buf[o++] = (char)(har_hexval(s[i + 1]) << 4 | har_hexval(s[i + 2]));
			i += 2;
		} else {
			buf[o++] = s[i];
		}
	}
	har_cstr(l, buf, o);
}

static void har_query(struct writer_line *l, const char *target, size_t len)
{
	const char *q = memchr(target, '?', len), *end = target + len, *hash;
	bool first = true;

	writer_putc(l, '[');
	if (q) {
		hash = memchr(q, '#', (size_t)(end - q));
		end = hash ? hash : end;
		for (const char *p = q + 1; p < end;) {
			const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
			const char *eq = memchr(p, '=', (size_t)(stop - p));

			if (stop > p) {
				writer_puts(l, first ? "{\"name\":" : ",{\"name\":");
				har_query_part(l, p, (size_t)((eq ? eq : stop) - p));
				WRITER_LIT(l, ",\"value\":");
				if (eq)
					har_query_part(l, eq + 1, (size_t)(stop - eq - 1));
				else
					WRITER_LIT(l, "\"\"");
				writer_putc(l, '}');
				first = false;
			}
			p = stop + 1;
		}
	}
	writer_putc(l, ']');
}

/* The request's URL: its scheme, the Host header (or the server's
 * address) and the target, or an absolute-form target as it is. */
static void har_url(struct writer_line *l, const struct txn *t)
{
	const struct http_msg *m = &t->req;
	const char *target = http_str(m, m->target_off), *host;
	size_t n = m->target_len, hn;
	char addr[WRITER_ADDR_LEN], url[HTTP_MSG_BUF_MAX + 512];
	int k;

	/* absolute-form (RFC 9112 section 3.2.2), to a proxy */
	if (n && target[0] != '/' && memmem(target, n, "://", 3)) {
		har_cstr(l, target, n);
		return;
	}
	host = http_msg_header(m, "Host", &hn);
	if (!host && t->proto == TXN_H2) /* RFC 9113 section 8.3.1 */
		host = http_msg_header(m, ":authority", &hn);
	if (!host) {
		writer_addr_str(t->conn.role == HS_ROLE_CLIENT ? &t->conn.remote : &t->conn.local,
				addr);
		host = addr;
		hn = strlen(addr);
	}
	if (n && target[0] != '/')
		target = "/", n = 1; /* "*" and CONNECT's authority */
	k = snprintf(url, sizeof(url), "%s://%.*s%.*s", t->conn.tls ? "https" : "http",
		     (int)hn, host, (int)n, target);
	har_cstr(l, url, k < 0 ? 0 : (size_t)k < sizeof(url) ? (size_t)k : sizeof(url) - 1);
}

/* The body preview: "text" as it is when it is text, else base64 with
 * "encoding"; a comment when it was cut. */
static void har_body(struct writer_line *l, const struct http_msg *m, size_t max_body)
{
	struct writer_body b;
	char c[96];

	writer_body_get(m, max_body, &b);
	WRITER_LIT(l, ",\"text\":");
	if (b.text) {
		json_put_str(l, b.data, b.text_len);
	} else {
		json_put_base64(l, b.data, b.len);
		WRITER_LIT(l, ",\"encoding\":\"base64\"");
	}
	if (b.truncated || m->body_missing) {
		WRITER_LIT(l, ",\"comment\":");
		har_cstr(l, c, (size_t)snprintf(c, sizeof(c), "httpsnoop: the first %zu bytes%s",
						 b.len, m->body_missing ? ", with bytes not captured" : ""));
	}
}

static void har_version(struct writer_line *l, const struct http_msg *m)
{
	char b[24];

	har_cstr(l, b, (size_t)snprintf(b, sizeof(b), "HTTP/%d.%d", m->version_major,
					 m->version_minor));
}

static void har_request(struct writer_line *l, const struct txn *t, size_t max_body)
{
	const struct http_msg *m = &t->req;

	WRITER_LIT(l, "\"request\":{\"method\":");
	har_slice(l, m, m->method_off, m->method_len);
	WRITER_LIT(l, ",\"url\":");
	har_url(l, t);
	WRITER_LIT(l, ",\"httpVersion\":");
	har_version(l, m);
	WRITER_LIT(l, ",\"cookies\":[],\"headers\":");
	har_headers(l, m);
	WRITER_LIT(l, ",\"queryString\":");
	har_query(l, http_str(m, m->target_off), m->target_len);
	if (m->body_size) {
		WRITER_LIT(l, ",\"postData\":{\"mimeType\":");
		har_header_value(l, m, "Content-Type", "");
		har_body(l, m, max_body);
		writer_putc(l, '}');
	}
	WRITER_LIT(l, ",\"headersSize\":-1,\"bodySize\":");
	writer_put_u64(l, m->body_size);
	writer_putc(l, '}');
}

static void har_response(struct writer_line *l, const struct txn *t, size_t max_body)
{
	const struct http_msg *m = &t->resp;
	uint64_t size = m->body_size;

	if (!m->present) {
		WRITER_LIT(l, "\"response\":{\"status\":0,\"statusText\":\"\",\"httpVersion\":\"\","
			      "\"cookies\":[],\"headers\":[],\"content\":{\"size\":0,"
			      "\"mimeType\":\"x-unknown\"},\"redirectURL\":\"\",\"headersSize\":-1,"
			      "\"bodySize\":-1}");
		return;
	}
	WRITER_LIT(l, "\"response\":{\"status\":");
	writer_put_int(l, m->status);
	WRITER_LIT(l, ",\"statusText\":");
	har_slice(l, m, m->reason_off, m->reason_len);
	WRITER_LIT(l, ",\"httpVersion\":");
	har_version(l, m);
	WRITER_LIT(l, ",\"cookies\":[],\"headers\":");
	har_headers(l, m);
	/* content.size is the decoded length, known when the whole body was
	 * decoded into the preview; else the bytes on the wire. */
	if (m->preview_decoded && !m->preview_truncated)
		size = m->preview_len;
	WRITER_LIT(l, ",\"content\":{\"size\":");
	writer_put_u64(l, size);
	if (size > m->body_size) {
		WRITER_LIT(l, ",\"compression\":");
		writer_put_u64(l, size - m->body_size);
	}
	WRITER_LIT(l, ",\"mimeType\":");
	har_header_value(l, m, "Content-Type", "x-unknown");
	har_body(l, m, max_body);
	WRITER_LIT(l, "},\"redirectURL\":");
	har_header_value(l, m, "Location", "");
	WRITER_LIT(l, ",\"headersSize\":-1,\"bodySize\":");
	writer_put_u64(l, m->body_size);
	writer_putc(l, '}');
}

/* send, wait and receive from the messages' first and last bytes (in
 * µs, so that time is exactly their sum); the others are not seen. */
static void har_timings(struct writer_line *l, const struct txn *t)
{
	const struct http_msg *rq = &t->req, *rs = &t->resp;
	uint64_t send = 0, wait = 0, receive = 0;

	if (rq->last_ts >= rq->first_ts)
		send = (rq->last_ts - rq->first_ts) / 1000;
	if (rs->present && rs->first_ts >= rq->last_ts && rs->last_ts >= rs->first_ts) {
		wait = (rs->first_ts - rq->last_ts) / 1000;
		receive = (rs->last_ts - rs->first_ts) / 1000;
	}
	WRITER_LIT(l, ",\"time\":");
	har_ms(l, send + wait + receive);
	WRITER_LIT(l, ",\"cache\":{},\"timings\":{\"blocked\":-1,\"dns\":-1,\"connect\":-1,"
		      "\"ssl\":-1,\"send\":");
	har_ms(l, send);
	WRITER_LIT(l, ",\"wait\":");
	har_ms(l, wait);
	WRITER_LIT(l, ",\"receive\":");
	har_ms(l, receive);
	writer_putc(l, '}');
}

/* A gRPC call's own field, named as the JSON output's "grpc" fields
 * are: its status sits in trailers, which HAR has no place for. */
static void har_grpc(struct writer_line *l, const struct txn *t)
{
	const struct txn_grpc *g = t->grpc;
	const char *name = txn_grpc_status_name(g->status);

	WRITER_LIT(l, ",\"_grpc\":{\"service\":");
	if (g->service_len)
		har_slice(l, &t->req, g->service_off, g->service_len);
	else
		WRITER_LIT(l, "null");
	WRITER_LIT(l, ",\"method\":");
	if (g->method_len)
		har_slice(l, &t->req, g->method_off, g->method_len);
	else
		WRITER_LIT(l, "null");
	WRITER_LIT(l, ",\"status\":");
	if (g->status >= 0)
		writer_put_int(l, g->status);
	else
		WRITER_LIT(l, "null");
	WRITER_LIT(l, ",\"status_name\":");
	if (name)
		har_cstr(l, name, strlen(name));
	else
		WRITER_LIT(l, "null");
	WRITER_LIT(l, ",\"message\":");
	if (g->message)
		har_cstr(l, g->message, strlen(g->message));
	else
		WRITER_LIT(l, "null");
	writer_putc(l, '}');
}

static void har_entry(struct writer_line *l, const struct txn *t, const struct har_sink *s)
{
	const struct hs_addr *server = t->conn.role == HS_ROLE_SERVER ? &t->conn.local :
				       t->conn.role == HS_ROLE_CLIENT ? &t->conn.remote : NULL;
	char addr[WRITER_ADDR_LEN], *ip = addr;

	WRITER_LIT(l, "{\"startedDateTime\":");
	har_date(l, txn_time(t, s->clock_offset_ns));
	har_timings(l, t);
	writer_putc(l, ',');
	har_request(l, t, s->max_body);
	writer_putc(l, ',');
	har_response(l, t, s->max_body);
	/* the address without its port, an IPv6 one without brackets */
	if (server && writer_addr_str(server, addr)) {
		*strrchr(addr, ':') = '\0';
		if (addr[0] == '[') {
			ip++;
			addr[strlen(addr) - 1] = '\0';
		}
		WRITER_LIT(l, ",\"serverIPAddress\":");
		har_cstr(l, ip, strlen(ip));
	}
	WRITER_LIT(l, ",\"connection\":\"");
	writer_put_u64(l, t->conn.conn_id);
	WRITER_LIT(l, "\",\"_side\":");
	har_cstr(l, txn_role_name(t->conn.role), strlen(txn_role_name(t->conn.role)));
	WRITER_LIT(l, ",\"_process\":");
	har_cstr(l, t->conn.comm, strlen(t->conn.comm));
	WRITER_LIT(l, ",\"_pid\":");
	writer_put_u64(l, t->conn.pid);
	if (t->conn.container_id[0]) {
		WRITER_LIT(l, ",\"_container\":");
		har_cstr(l, t->conn.container_id, strlen(t->conn.container_id));
	}
	if (t->error) {
		WRITER_LIT(l, ",\"_error\":");
		har_cstr(l, t->error, strlen(t->error));
	}
	if (t->grpc)
		har_grpc(l, t);
	writer_putc(l, '}');
}

static bool har_wanted(const struct sink_config *cfg, const void *arg)
{
	return cfg->har != NULL;
}

static void *har_sink_open(const struct sink_config *cfg, const void *arg)
{
	struct har_sink *s = calloc(1, sizeof(*s));

	if (!s) {
		warn("failed to allocate --har: %s", strerror(ENOMEM));
		return NULL;
	}
	s->path = cfg->har;
	s->max_body = cfg->max_body;
	s->clock_offset_ns = cfg->clock_offset_ns;
	s->h = har_open(cfg->har, HTTPSNOOP_VERSION);
	if (!s->h) {
		int err = errno;

		warn("failed to create %s: %s", cfg->har, strerror(err));
		free(s);
		errno = err;
		return NULL;
	}
	return s;
}

/* Only transactions with a request: a HAR entry is a request first. */
static void har_sink_txn(void *p, const struct txn *t)
{
	struct har_sink *s = p;
	struct writer_line *l;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!t->req.present)
		return;
	l = malloc(sizeof(*l));
	f = l ? open_memstream(&buf, &len) : NULL;
	if (!f) {
		free(l);
		return;
	}
	writer_begin(l, f);
	har_entry(l, t, s);
	writer_end(l);
	if (!fclose(f))
		har_add(s->h, buf, len);
	free(buf);
	free(l);
}

static int har_sink_flush(void *p)
{
	struct har_sink *s = p;

	return har_flush(s->h);
}

static void har_sink_close(void *p)
{
	struct har_sink *s = p;
	int err;

	if (!s)
		return;
	err = har_close(s->h);
	if (err)
		warn("failed to write %s: %s", s->path, strerror(-err));
	free(s);
}

const struct sink_ops har_sink = {
	.name = "har",
	.wanted = har_wanted,
	.open = har_sink_open,
	.txn = har_sink_txn,
	.flush = har_sink_flush,
	.close = har_sink_close,
};
