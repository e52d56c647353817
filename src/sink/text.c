/* text.c -- the text sink: one transaction as an indented block readable at 80 columns. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "sink/writer.h"

#define TEXT_INDENT "     "	      /* headers and Body: under a message */
#define TEXT_BODY_INDENT "           " /* continuation lines of a body */
#define TEXT_HEX_MAX 32		      /* bytes of a binary body shown */

/* Three digits after the point, e.g. 1.234: durations need no floats.
 * At d, with room for 24 bytes; returns the end. */
static char *text_fmt_milli(char *d, uint64_t whole, unsigned frac)
{
	d = writer_fmt_u64(d, whole);
	*d++ = '.';
	*d++ = (char)('0' + frac / 100);
	memcpy(d, writer_pairs + frac % 100 * 2, 2);
	return d + 2;
}

/* In one run: room for the number and its unit at once. */
static void text_put_duration(struct writer_line *out, uint64_t ns)
{
	char *d = writer_reserve(out, 32);

	if (ns < 1000) {
		d = writer_fmt_u64(d, ns);
		d = WRITER_LIT_AT(d, " ns");
	} else if (ns < 1000000) {
		d = writer_fmt_u64(d, ns / 1000);
		d = WRITER_LIT_AT(d, " µs");
	} else if (ns < 1000000000) {
		d = text_fmt_milli(d, ns / 1000000, ns / 1000 % 1000);
		d = WRITER_LIT_AT(d, " ms");
	} else {
		d = text_fmt_milli(d, ns / 1000000000, ns / 1000000 % 1000);
		d = WRITER_LIT_AT(d, " s");
	}
	writer_commit(out, d);
}

static uint8_t *text_esc(uint8_t *d, uint8_t c)
{
	d[0] = '\\';
	d[1] = 'x';
	d[2] = writer_hex[c >> 4];
	d[3] = writer_hex[c & 15];
	return d + 4;
}

/* Escapes p[0..stop) to d, and a little past stop to end a UTF-8
 * sequence (end is where the bytes end; they may be read up to lim);
 * returns the next byte. */
static inline __attribute__((always_inline)) const uint8_t *
text_escape(uint8_t **dp, const uint8_t *p,
				  const uint8_t *stop, const uint8_t *end,
				  const uint8_t *lim)
{
	const uint8_t *begin = p;
	uint8_t *d = *dp;
	uint32_t cp;
	size_t k;
	int r;

	while (p < stop) {
		k = writer_copy_span(d, p, stop, begin, lim, WRITER_C_TEXT);
		p += k;
		d += k;
		if (p == stop)
			break;
		if (writer_byte_class[*p] & WRITER_C_TEXT) {
			*d++ = *p++; /* a tab, or flagged in excess */
			continue;
		}
		r = 1;
		if (*p >= 0x80) {
			r = writer_utf8_len(p, end - p, &cp);
			if (r > 0 && !writer_cp_unsafe(cp)) {
				while (r--)
					*d++ = *p++;
				continue;
			}
			if (r <= 0)
				r = 1;
		}
		while (r--)
			d = text_esc(d, *p++);
	}
	*dp = d;
	return p;
}

/* Writes bytes from the network so that they cannot drive the terminal:
 * C0 controls (ESC above all), invalid UTF-8 and what writer_cp_unsafe()
 * names become \xNN per byte (all bytes of a character, so that the
 * escape shows what was sent).  Tab is kept, it moves nothing but the
 * cursor.  A byte becomes four at most, and a character begun in a step
 * may add three bytes to it.  Not inlined, so that text_escape() is, once:
 * every header and body goes through here. */
static __attribute__((noinline)) void
text_put_safe_lim(struct writer_line *out, const uint8_t *p, size_t n,
		  const uint8_t *lim)
{
	uint8_t *d;

	if (n < 16) {
		d = (uint8_t *)writer_reserve(out, 16);
		if (writer_copy_short(&d, p, n, lim, false)) {
			out->len = (char *)d - out->buf;
			return;
		}
	}
	writer_put_escaped(out, p, n, lim, text_escape, 4, 16);
}

/* The same, the bytes read no further than they go. */
static void text_put_safe(struct writer_line *out, const uint8_t *p, size_t n)
{
	text_put_safe_lim(out, p, n, p + n);
}

/* A slice of m->buf; a short one (a method, a target, a reason) in one
 * step, as a header's name is. */
static inline void text_put_slice(struct writer_line *out, const struct http_msg *m,
				  uint32_t off, uint32_t len)
{
	struct writer_msgbuf b;
	const uint8_t *p, *lim;
	size_t n;
	uint8_t *d;

	writer_msgbuf_get(m, &b);
	n = writer_slice(&b, off, len, &p, &lim);
	if (n <= WRITER_STEP) {
		d = (uint8_t *)writer_reserve(out, 4 * n + 16);
		writer_put_slice(&d, p, n, lim, text_escape, false);
		out->len = (char *)d - out->buf;
		return;
	}
	text_put_safe_lim(out, p, n, lim);
}

/* Local time of day, to the microsecond, as tcpdump prints it (the date
 * is in the JSON output; leaving it out keeps the line within 80
 * columns).  localtime_r() is kept to once per
 * second: a busy trace prints many lines within one. */
static void text_put_time(struct writer_line *out, uint64_t ns)
{
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[32];
	static _Thread_local size_t cached_len;
	time_t sec = (time_t)(ns / 1000000000);
	unsigned us = (unsigned)(ns % 1000000000 / 1000);
	char b[7];
	struct tm tm;
	int i;

	if (sec != cached_sec) {
		if (localtime_r(&sec, &tm))
			cached_len = strftime(cached, sizeof(cached), "%H:%M:%S", &tm);
		else
			cached_len = 0;
		cached_sec = sec;
	}
	writer_put(out, cached, cached_len);
	b[0] = '.';
	for (i = 5; i > 0; i -= 2, us /= 100)
		memcpy(b + i, writer_pairs + us % 100 * 2, 2);
	writer_put(out, b, 7);
}

/* One field's line.  A field of usual size goes in one step: room for
 * the line is made at once. */
static inline __attribute__((always_inline)) void
text_field(struct writer_line *out, const struct writer_msgbuf *b,
	   const struct http_header *h)
{
	const uint8_t *np, *vp, *nlim, *vlim;
	size_t nn = writer_slice(b, h->name_off, h->name_len, &np, &nlim);
	size_t vn = writer_slice(b, h->value_off, h->value_len, &vp, &vlim);
	uint8_t *d;

	if (nn + vn > WRITER_STEP) {
		WRITER_LIT(out, TEXT_INDENT);
		text_put_safe_lim(out, np, nn, nlim);
		WRITER_LIT(out, ": ");
		text_put_safe_lim(out, vp, vn, vlim);
		writer_putc(out, '\n');
		return;
	}
	d = (uint8_t *)writer_reserve(out, 4 * (nn + vn) + 2 * 16 +
					      sizeof(TEXT_INDENT ": \n"));
	memcpy(d, TEXT_INDENT, sizeof(TEXT_INDENT) - 1);
	d += sizeof(TEXT_INDENT) - 1;
	writer_put_slice(&d, np, nn, nlim, text_escape, false);
	*d++ = ':';
	*d++ = ' ';
	writer_put_slice(&d, vp, vn, vlim, text_escape, false);
	*d++ = '\n';
	out->len = (char *)d - out->buf;
}

static void text_fields(struct writer_line *out, const struct http_msg *m,
			const struct http_header *f, size_t n)
{
	struct writer_msgbuf b;

	writer_msgbuf_get(m, &b);
	for (size_t i = 0; i < n; i++)
		text_field(out, &b, &f[i]);
}

static void text_headers(struct writer_line *out, const struct http_msg *m)
{
	text_fields(out, m, m->hdrs, m->nhdrs);
	if (m->head_truncated)
		WRITER_LIT(out, TEXT_INDENT "[headers truncated]\n");
	if (m->hdrs_undecoded) {
		WRITER_LIT(out, TEXT_INDENT "[headers incomplete: ");
		writer_put_u64(out, m->hdrs_undecoded);
		WRITER_LIT(out, " could not be decoded]\n");
	} else if (m->hdrs_incomplete && !m->head_truncated) {
		WRITER_LIT(out, TEXT_INDENT "[headers incomplete]\n");
	}
}

/* HTTP/2 trailers, after the body. */
static void text_trailers(struct writer_line *out, const struct http_msg *m)
{
	if (!m->ntrailers)
		return;
	WRITER_LIT(out, TEXT_INDENT "[trailers]\n");
	text_fields(out, m, m->trailers, m->ntrailers);
}

/* A gRPC call's side: "[grpc demo.Echo/Say: 1 message: 1: "alice"]" for
 * the request, "[grpc NOT_FOUND (5) "why": 0 messages]" for the
 * response. */
static void text_grpc(struct writer_line *out, const struct txn *t, int k)
{
	const struct txn_grpc *g = t->grpc;
	const char *name;

	if (!g)
		return;
	WRITER_LIT(out, TEXT_INDENT "[grpc ");
	if (k == 0) {
		text_put_slice(out, &t->req, g->service_off, g->service_len);
		writer_putc(out, '/');
		text_put_slice(out, &t->req, g->method_off, g->method_len);
	} else if (g->status >= 0) {
		name = txn_grpc_status_name(g->status);
		writer_puts(out, name ? name : "status");
		WRITER_LIT(out, " (");
		writer_put_int(out, g->status);
		writer_putc(out, ')');
		if (g->message) {
			WRITER_LIT(out, " \"");
			text_put_safe(out, (const uint8_t *)g->message,
				      strlen(g->message));
			writer_putc(out, '"');
		}
	} else {
		WRITER_LIT(out, "no status");
	}
	WRITER_LIT(out, ": ");
	writer_put_u64(out, g->msgs[k]);
	writer_puts(out, g->msgs[k] == 1 ? " message" : " messages");
	if (g->preview[k]) {
		WRITER_LIT(out, ": ");
		text_put_safe(out, (const uint8_t *)g->preview[k],
			      strlen(g->preview[k]));
	}
	WRITER_LIT(out, "]\n");
}

/* Framing anomalies, one line each, marked so that they stand out. */
static void text_anomalies(struct writer_line *out, const struct http_msg *m)
{
	for (int a = 0; m->anomalies && a < HTTP_ANOM_MAX; a++) {
		if (!(m->anomalies & (1u << a)))
			continue;
		WRITER_LIT(out, TEXT_INDENT "! ");
		writer_puts(out, http_anomaly_text(a));
		writer_putc(out, '\n');
	}
}

/* Lines in p[0..n): its LFs, and a last line without one. */
static size_t text_count_lines(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *nl;
	size_t lines = 0;

	for (; p < end; p = nl + 1, lines++)
		if (!(nl = memchr(p, '\n', end - p)))
			return lines + 1;
	return lines;
}

/* Text bodies keep their line breaks, each further line indented under
 * the first; a CR before LF is dropped, a lone CR is escaped (it would
 * let the body overwrite its own line).  At most max_lines are shown
 * (0: all). */
static void text_body_lines(struct writer_line *out, const uint8_t *p, size_t n,
			    size_t max_lines)
{
	const uint8_t *nl;
	size_t len, lines = 0;

	while (n) {
		nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl - p) : n;
		if (lines)
			WRITER_LIT(out, TEXT_BODY_INDENT);
		text_put_safe(out, p, len && p[len - 1] == '\r' ? len - 1 : len);
		lines++;
		if (!nl)
			break;
		len++;
		p += len;
		n -= len;
		if (n)
			writer_putc(out, '\n');
		if (n && max_lines && lines == max_lines) {
			/* --body-lines: say how much of the preview is not
			 * shown, rather than fill the screen */
			lines = text_count_lines(p, n);
			WRITER_LIT(out, TEXT_BODY_INDENT "[");
			writer_put_u64(out, lines);
			writer_puts(out, lines == 1 ? " more line, " : " more lines, ");
			writer_put_u64(out, n);
			WRITER_LIT(out, " bytes]");
			break;
		}
	}
}

/* What a preview lacks: " [N bytes not captured]", " [LABEL: ERROR]". */
static void text_lost(struct writer_line *out, uint64_t missing,
		      const char *label, const char *error)
{
	if (missing) {
		WRITER_LIT(out, " [");
		writer_put_u64(out, missing);
		WRITER_LIT(out, " bytes not captured]");
	}
	if (error) {
		WRITER_LIT(out, " [");
		writer_puts(out, label);
		WRITER_LIT(out, ": ");
		text_put_safe(out, (const uint8_t *)error, strlen(error));
		writer_putc(out, ']');
	}
}

static void text_body(struct writer_line *out, const struct http_msg *m,
		      const struct sink_config *o)
{
	struct writer_body b;
	size_t i, n;

	if (!m->body_size && !m->preview_len && !m->body_missing && !m->decode_error)
		return;
	writer_body_get(m, o->max_body, &b);

	WRITER_LIT(out, TEXT_INDENT "Body: ");
	if (b.text) {
		text_body_lines(out, b.data, b.text_len, o->body_lines);
		if (b.truncated)
			WRITER_LIT(out, "…");
	} else {
		WRITER_LIT(out, "[binary, ");
		writer_put_u64(out, m->body_size);
		WRITER_LIT(out, " bytes]");
	}
	if (b.coding) {
		WRITER_LIT(out, " (");
		text_put_safe(out, (const uint8_t *)b.coding, b.coding_len);
		WRITER_LIT(out, "-decoded)");
	}
	if (b.text && b.truncated) {
		WRITER_LIT(out, " (");
		writer_put_u64(out, m->body_size);
		if (b.coding)
			WRITER_LIT(out, " bytes before decoding)");
		else
			WRITER_LIT(out, " bytes total)");
	}
	text_lost(out, m->body_missing, "decode error", m->decode_error);
	writer_putc(out, '\n');

	/* Hex goes on its own lines, 16 bytes each, to stay in 80 columns. */
	if (b.text || !b.len)
		return;
	n = b.len < TEXT_HEX_MAX ? b.len : TEXT_HEX_MAX;
	for (i = 0; i < n; i++) {
		if (i % 16 == 0)
			WRITER_LIT(out, TEXT_BODY_INDENT);
		writer_putc(out, writer_hex[b.data[i] >> 4]);
		writer_putc(out, writer_hex[b.data[i] & 15]);
		if (i % 16 == 15 || i + 1 == n) {
			if (i + 1 == n && (b.len > n || b.truncated))
				WRITER_LIT(out, " …");
			writer_putc(out, '\n');
		} else {
			writer_putc(out, ' ');
		}
	}
}

static void text_version(struct writer_line *out, const struct http_msg *m)
{
	if (m->version_major == 1 && m->version_minor == 1) {
		WRITER_LIT(out, "HTTP/1.1");
		return;
	}
	WRITER_LIT(out, "HTTP/");
	writer_put_int(out, m->version_major);
	writer_putc(out, '.');
	writer_put_int(out, m->version_minor);
}

static void text_request(struct writer_line *out, const struct txn *t,
			 const struct sink_config *o)
{
	const struct http_msg *m = &t->req;

	if (!m->present) {
		WRITER_LIT(out, "  → (request not captured)\n");
		return;
	}
	WRITER_LIT(out, "  → ");
	if (m->unknown & HTTP_U_METHOD)
		WRITER_LIT(out, "(unknown)");
	else
		text_put_slice(out, m, m->method_off, m->method_len);
	writer_putc(out, ' ');
	if (m->unknown & HTTP_U_TARGET)
		WRITER_LIT(out, "(unknown)");
	else
		text_put_slice(out, m, m->target_off, m->target_len);
	writer_putc(out, ' ');
	if (t->proto == TXN_H2) {
		WRITER_LIT(out, "HTTP/2 (stream ");
		writer_put_u64(out, t->stream_id);
		if (t->pushed)
			WRITER_LIT(out, ", pushed");
		writer_putc(out, ')');
	} else {
		text_version(out, m);
	}
	writer_putc(out, '\n');
	text_headers(out, m);
	text_anomalies(out, m);
	text_body(out, m, o);
	text_trailers(out, m);
	text_grpc(out, t, 0);
}

/* Opens or separates the parenthesised notes of a status line. */
static void text_note(struct writer_line *out, bool *open)
{
	if (*open)
		WRITER_LIT(out, ", ");
	else
		WRITER_LIT(out, " (");
	*open = true;
}

static void text_response(struct writer_line *out, const struct txn *t,
			  const struct sink_config *o)
{
	const struct http_msg *m = &t->resp;
	bool open = false;
	uint64_t ns;

	if (!m->present) {
		WRITER_LIT(out, "  ← (no response");
		if (t->error) {
			WRITER_LIT(out, ": ");
			text_put_safe(out, (const uint8_t *)t->error, strlen(t->error));
		}
		WRITER_LIT(out, ")\n");
		return;
	}
	WRITER_LIT(out, "  ← ");
	if (m->unknown & HTTP_U_STATUS)
		WRITER_LIT(out, "(unknown)");
	else
		writer_put_int(out, m->status);
	if (t->proto != TXN_H2) { /* HTTP/2 has no reason phrase */
		writer_putc(out, ' ');
		text_put_slice(out, m, m->reason_off, m->reason_len);
	}
	if (txn_latency(t, &ns)) {
		text_note(out, &open);
		text_put_duration(out, ns);
	}
	if (txn_ttfb(t, &ns)) {
		text_note(out, &open);
		WRITER_LIT(out, "ttfb ");
		text_put_duration(out, ns);
	}
	if (t->interim_status) {
		text_note(out, &open);
		WRITER_LIT(out, "interim ");
		writer_put_int(out, t->interim_status);
	}
	if (!m->complete) {
		text_note(out, &open);
		WRITER_LIT(out, "incomplete");
	}
	if (t->grpc && t->grpc->status >= 0) {
		const char *name = txn_grpc_status_name(t->grpc->status);

		text_note(out, &open);
		WRITER_LIT(out, "grpc ");
		if (name)
			writer_puts(out, name);
		else
			writer_put_int(out, t->grpc->status);
	}
	if (open)
		writer_putc(out, ')');
	writer_putc(out, '\n');
	if (t->upgraded)
		WRITER_LIT(out, TEXT_INDENT "[connection upgraded: left HTTP/1]\n");
	text_headers(out, m);
	text_anomalies(out, m);
	text_body(out, m, o);
	text_trailers(out, m);
	text_grpc(out, t, 1);
	if (t->error) {
		WRITER_LIT(out, TEXT_INDENT "[error: ");
		text_put_safe(out, (const uint8_t *)t->error, strlen(t->error));
		WRITER_LIT(out, "]\n");
	}
}

/* What every record's line begins with: when, who (the process, its
 * container) and the connection, without a newline. */
static _Thread_local struct writer_memo text_memo; /* as json.c's */

static void text_conn(struct writer_line *out, const struct conn_info *c,
		      uint64_t ns)
{
	char addr[WRITER_END_LEN];
	struct writer_memo_slot *slot;
	size_t n, start;
	unsigned drains;
	bool hit;

	writer_putc(out, '[');
	text_put_time(out, ns);
	slot = writer_memo_find(&text_memo, c, &hit);
	if (hit) {
		writer_put(out, slot->buf, slot->len);
		return;
	}
	start = out->len;
	drains = out->drains;
	WRITER_LIT(out, "] PID ");
	writer_put_u64(out, c->pid);
	WRITER_LIT(out, " (");
	/* A process names itself (prctl PR_SET_NAME): comm is as hostile
	 * as the traffic. */
	n = strnlen(c->comm, sizeof(c->comm));
	if (n)
		text_put_safe(out, (const uint8_t *)c->comm, n);
	else
		writer_putc(out, '?');
	WRITER_LIT(out, ") ");
	if (c->container_id[0]) {
		/* The short id, as docker ps shows it. */
		WRITER_LIT(out, "[");
		text_put_safe(out, (const uint8_t *)c->container_id,
			      strnlen(c->container_id, 12));
		WRITER_LIT(out, "] ");
	}
	writer_puts(out, txn_role_name(c->role));
	if (c->tls)
		WRITER_LIT(out, " TLS");
	writer_putc(out, ' ');
	/* A Unix socket's name is any bytes its server chose. */
	n = writer_end_str(c, true, addr);
	text_put_safe(out, (const uint8_t *)addr, n ? n : 1);
	WRITER_LIT(out, " -> ");
	n = writer_end_str(c, false, addr);
	text_put_safe(out, (const uint8_t *)addr, n ? n : 1);
	if (c->peer_pid) {
		WRITER_LIT(out, " peer PID ");
		writer_put_u64(out, c->peer_pid);
		WRITER_LIT(out, " (");
		n = strnlen(c->peer_comm, sizeof(c->peer_comm));
		if (n)
			text_put_safe(out, (const uint8_t *)c->peer_comm, n);
		else
			writer_putc(out, '?');
		writer_putc(out, ')');
	}
	writer_memo_keep(slot, c, out, start, drains);
}

static void text_txn(struct writer_line *out, const struct txn *t,
		     const struct sink_config *o)
{
	text_conn(out, &t->conn, txn_time(t, o->clock_offset_ns));
	writer_putc(out, '\n');
	text_request(out, t, o);
	text_response(out, t, o);
	writer_putc(out, '\n');
}

int text_format_txn(FILE *f, const struct txn *t, const struct sink_config *o)
{
	struct writer_line line;

	writer_begin(&line, f);
	text_txn(&line, t, o);
	return writer_end(&line);
}

/* Of a WebSocket message's payload, the text line shows this much. */
#define TEXT_WS_PREVIEW 64

/* One line: the connection, the direction (sent by the traced process:
 * →), the kind, the size, and but for a binary message the start of the
 * payload, escaped (a newline in it shows as \x0a). */
static void text_ws(struct writer_line *out, const struct ws_msg *m,
		    const struct sink_config *o)
{
	struct writer_body b;
	size_t n;

	text_conn(out, &m->conn, txn_realtime(m->first_ts, o->clock_offset_ns));
	if (m->dir == HS_DIR_SEND)
		WRITER_LIT(out, " ws → ");
	else
		WRITER_LIT(out, " ws ← ");
	writer_puts(out, ws_opcode_name(m->opcode));
	writer_putc(out, ' ');
	if (m->opcode == WS_CLOSE && m->close_code >= 0)
		writer_put_int(out, m->close_code);
	else if (m->opcode != WS_CLOSE) {
		writer_put_u64(out, m->size);
		WRITER_LIT(out, " B");
	}
	if (m->frames > 1 || m->compressed) {
		WRITER_LIT(out, " (");
		if (m->frames > 1) {
			writer_put_u64(out, m->frames);
			WRITER_LIT(out, " frames");
		}
		if (m->compressed)
			writer_puts(out, m->frames > 1 ? ", deflated" : "deflated");
		writer_putc(out, ')');
	}
	writer_ws_payload(m, o->max_body, &b);
	if (b.len && m->opcode != WS_BINARY) {
		n = b.len < TEXT_WS_PREVIEW ? b.len : TEXT_WS_PREVIEW;
		WRITER_LIT(out, ": ");
		text_put_safe(out, b.data, n);
		if (b.truncated || n < b.len)
			WRITER_LIT(out, "…");
	}
	text_lost(out, m->missing, "error", m->error);
	writer_putc(out, '\n');
}

int text_format_ws(FILE *f, const struct ws_msg *m, const struct sink_config *o)
{
	struct writer_line line;

	writer_begin(&line, f);
	text_ws(&line, m, o);
	return writer_end(&line);
}

static const struct writer_fmt text_fmt = { SINK_TEXT, text_txn, text_ws };

const struct sink_ops text_sink = WRITER_SINK("text", &text_fmt);
