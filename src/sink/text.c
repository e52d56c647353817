/* text.c -- text writer: one transaction as an indented block readable at 80 columns. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "sink/output.h"

#define TEXT_INDENT "     "	      /* headers and Body: under a message */
#define TEXT_BODY_INDENT "           " /* continuation lines of a body */
#define TEXT_HEX_MAX 32		      /* bytes of a binary body shown */

static const char text_hex[] = "0123456789abcdef";

static void text_put_int(struct output_line *out, int v)
{
	if (v < 0) {
		output_putc(out, '-');
		output_put_u64(out, -(uint64_t)v);
	} else {
		output_put_u64(out, (uint64_t)v);
	}
}

/* Three digits after the point, e.g. 1.234: durations need no floats. */
static void text_put_milli(struct output_line *out, uint64_t whole, unsigned frac)
{
	output_put_u64(out, whole);
	output_putc(out, '.');
	output_putc(out, '0' + frac / 100);
	output_putc(out, '0' + frac / 10 % 10);
	output_putc(out, '0' + frac % 10);
}

static void text_put_duration(struct output_line *out, uint64_t ns)
{
	if (ns < 1000) {
		output_put_u64(out, ns);
		OUTPUT_LIT(out, " ns");
	} else if (ns < 1000000) {
		output_put_u64(out, ns / 1000);
		OUTPUT_LIT(out, " µs");
	} else if (ns < 1000000000) {
		text_put_milli(out, ns / 1000000, ns / 1000 % 1000);
		OUTPUT_LIT(out, " ms");
	} else {
		text_put_milli(out, ns / 1000000000, ns / 1000000 % 1000);
		OUTPUT_LIT(out, " s");
	}
}

static uint8_t *text_esc(uint8_t *d, uint8_t c)
{
	d[0] = '\\';
	d[1] = 'x';
	d[2] = text_hex[c >> 4];
	d[3] = text_hex[c & 15];
	return d + 4;
}

/* A byte becomes four at most ("\xNN"): text_put_safe() makes room for
 * a step of this many bytes at a time. */
#define TEXT_STEP 1024

/* Escapes p[0..stop) to d, and a little past stop to end a UTF-8
 * sequence (end is where the bytes end); returns the next byte. */
static const uint8_t *text_escape(uint8_t **dp, const uint8_t *p,
				  const uint8_t *stop, const uint8_t *end)
{
	const uint8_t *begin = p;
	uint8_t *d = *dp;
	uint32_t cp;
	size_t k;
	int r;

	while (p < stop) {
		k = output_copy_span(d, p, stop, begin, OUTPUT_C_TEXT);
		p += k;
		d += k;
		if (p == stop)
			break;
		if (output_byte_class[*p] & OUTPUT_C_TEXT) {
			*d++ = *p++; /* a tab, or flagged in excess */
			continue;
		}
		r = 1;
		if (*p >= 0x80) {
			r = output_utf8_len(p, end - p, &cp);
			if (r > 0 && !output_cp_unsafe(cp)) {
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
 * C0 controls (ESC above all), invalid UTF-8 and what output_cp_unsafe()
 * names become \xNN per byte (all bytes of a character, so that the
 * escape shows what was sent).  Tab is kept, it moves nothing but the
 * cursor.  It is written in steps of TEXT_STEP bytes, straight into the
 * line (a character begun in a step may add three bytes to it). */
static void text_put_safe(struct output_line *out, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *stop;
	uint8_t *d;

	while (p < end) {
		stop = end - p > TEXT_STEP ? p + TEXT_STEP : end;
		d = (uint8_t *)output_reserve(out, 4 * (stop - p + 3));
		p = text_escape(&d, p, stop, end);
		out->len = (char *)d - out->buf;
	}
}

static void text_put_slice(struct output_line *out, const struct http_msg *m,
			   uint32_t off, uint32_t len)
{
	const uint8_t *p;
	size_t n = output_slice(m, off, len, &p);

	text_put_safe(out, p, n);
}

/* Local time of day, to the microsecond, as tcpdump prints it (the date
 * is in the JSON output; leaving it out keeps the line within 80
 * columns).  localtime_r() is kept to once per
 * second: a busy trace prints many lines within one. */
static void text_put_time(struct output_line *out, uint64_t ns)
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
	output_put(out, cached, cached_len);
	b[0] = '.';
	for (i = 6; i > 0; i--, us /= 10)
		b[i] = (char)('0' + us % 10);
	output_put(out, b, 7);
}

static void text_headers(struct output_line *out, const struct http_msg *m)
{
	size_t i;

	for (i = 0; i < m->nhdrs; i++) {
		OUTPUT_LIT(out, TEXT_INDENT);
		text_put_slice(out, m, m->hdrs[i].name_off, m->hdrs[i].name_len);
		OUTPUT_LIT(out, ": ");
		text_put_slice(out, m, m->hdrs[i].value_off, m->hdrs[i].value_len);
		output_putc(out, '\n');
	}
	if (m->head_truncated)
		OUTPUT_LIT(out, TEXT_INDENT "[headers truncated]\n");
}

/* Text bodies keep their line breaks, each further line indented under
 * the first; a CR before LF is dropped, a lone CR is escaped (it would
 * let the body overwrite its own line). */
static void text_body_lines(struct output_line *out, const uint8_t *p, size_t n)
{
	const uint8_t *nl;
	size_t len;
	bool first = true;

	while (n) {
		nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl - p) : n;
		if (!first)
			OUTPUT_LIT(out, TEXT_BODY_INDENT);
		first = false;
		text_put_safe(out, p, len && p[len - 1] == '\r' ? len - 1 : len);
		if (!nl)
			break;
		len++;
		p += len;
		n -= len;
		if (n)
			output_putc(out, '\n');
	}
}

static void text_body(struct output_line *out, const struct http_msg *m,
		      const struct output_opts *o)
{
	struct output_body b;
	size_t i, n;

	if (!m->body_size && !m->preview_len && !m->body_missing && !m->decode_error)
		return;
	output_body_get(m, o, &b);

	OUTPUT_LIT(out, TEXT_INDENT "Body: ");
	if (b.text) {
		text_body_lines(out, b.data, b.text_len);
		if (b.truncated)
			OUTPUT_LIT(out, "…");
	} else {
		OUTPUT_LIT(out, "[binary, ");
		output_put_u64(out, m->body_size);
		OUTPUT_LIT(out, " bytes]");
	}
	if (b.coding) {
		OUTPUT_LIT(out, " (");
		text_put_safe(out, (const uint8_t *)b.coding, b.coding_len);
		OUTPUT_LIT(out, "-decoded)");
	}
	if (b.text && b.truncated) {
		OUTPUT_LIT(out, " (");
		output_put_u64(out, m->body_size);
		if (b.coding)
			OUTPUT_LIT(out, " bytes before decoding)");
		else
			OUTPUT_LIT(out, " bytes total)");
	}
	if (m->body_missing) {
		OUTPUT_LIT(out, " [");
		output_put_u64(out, m->body_missing);
		OUTPUT_LIT(out, " bytes not captured]");
	}
	if (m->decode_error) {
		OUTPUT_LIT(out, " [decode error: ");
		text_put_safe(out, (const uint8_t *)m->decode_error, strlen(m->decode_error));
		output_putc(out, ']');
	}
	output_putc(out, '\n');

	/* Hex goes on its own lines, 16 bytes each, to stay in 80 columns. */
	if (b.text || !b.len)
		return;
	n = b.len < TEXT_HEX_MAX ? b.len : TEXT_HEX_MAX;
	for (i = 0; i < n; i++) {
		if (i % 16 == 0)
			OUTPUT_LIT(out, TEXT_BODY_INDENT);
		output_putc(out, text_hex[b.data[i] >> 4]);
		output_putc(out, text_hex[b.data[i] & 15]);
		if (i % 16 == 15 || i + 1 == n) {
			if (i + 1 == n && (b.len > n || b.truncated))
				OUTPUT_LIT(out, " …");
			output_putc(out, '\n');
		} else {
			output_putc(out, ' ');
		}
	}
}

static void text_version(struct output_line *out, const struct http_msg *m)
{
	OUTPUT_LIT(out, "HTTP/");
	text_put_int(out, m->version_major);
	output_putc(out, '.');
	text_put_int(out, m->version_minor);
}

static void text_request(struct output_line *out, const struct txn *t,
			 const struct output_opts *o)
{
	const struct http_msg *m = &t->req;

	if (!m->present) {
		OUTPUT_LIT(out, "  → (request not captured)\n");
		return;
	}
	OUTPUT_LIT(out, "  → ");
	text_put_slice(out, m, m->method_off, m->method_len);
	output_putc(out, ' ');
	text_put_slice(out, m, m->target_off, m->target_len);
	output_putc(out, ' ');
	text_version(out, m);
	output_putc(out, '\n');
	text_headers(out, m);
	text_body(out, m, o);
}

/* Opens or separates the parenthesised notes of a status line. */
static void text_note(struct output_line *out, bool *open)
{
	if (*open)
		OUTPUT_LIT(out, ", ");
	else
		OUTPUT_LIT(out, " (");
	*open = true;
}

static void text_response(struct output_line *out, const struct txn *t,
			  const struct output_opts *o)
{
	const struct http_msg *m = &t->resp;
	bool open = false;
	uint64_t ns;

	if (!m->present) {
		OUTPUT_LIT(out, "  ← (no response");
		if (t->error) {
			OUTPUT_LIT(out, ": ");
			text_put_safe(out, (const uint8_t *)t->error, strlen(t->error));
		}
		OUTPUT_LIT(out, ")\n");
		return;
	}
	OUTPUT_LIT(out, "  ← ");
	text_put_int(out, m->status);
	output_putc(out, ' ');
	text_put_slice(out, m, m->reason_off, m->reason_len);
	if (txn_latency(t, &ns)) {
		text_note(out, &open);
		text_put_duration(out, ns);
	}
	if (txn_ttfb(t, &ns)) {
		text_note(out, &open);
		OUTPUT_LIT(out, "ttfb ");
		text_put_duration(out, ns);
	}
	if (t->interim_status) {
		text_note(out, &open);
		OUTPUT_LIT(out, "interim ");
		text_put_int(out, t->interim_status);
	}
	if (!m->complete) {
		text_note(out, &open);
		OUTPUT_LIT(out, "incomplete");
	}
	if (open)
		output_putc(out, ')');
	output_putc(out, '\n');
	if (t->upgraded)
		OUTPUT_LIT(out, TEXT_INDENT "[connection upgraded: left HTTP/1]\n");
	text_headers(out, m);
	text_body(out, m, o);
	if (t->error) {
		OUTPUT_LIT(out, TEXT_INDENT "[error: ");
		text_put_safe(out, (const uint8_t *)t->error, strlen(t->error));
		OUTPUT_LIT(out, "]\n");
	}
}

int text_format_txn(FILE *f, const struct txn *t, const struct output_opts *o)
{
	const struct conn_info *c = &t->conn;
	struct output_line line, *out = &line;
	char addr[OUTPUT_ADDR_LEN];
	size_t n;
	int err;

	errno = 0;
	flockfile(f);
	output_line_begin(out, f);
	output_putc(out, '[');
	text_put_time(out, txn_time(t, o->clock_offset_ns));
	OUTPUT_LIT(out, "] PID ");
	output_put_u64(out, c->pid);
	OUTPUT_LIT(out, " (");
	/* A process names itself (prctl PR_SET_NAME): comm is as hostile
	 * as the traffic. */
	n = strnlen(c->comm, sizeof(c->comm));
	if (n)
		text_put_safe(out, (const uint8_t *)c->comm, n);
	else
		output_putc(out, '?');
	OUTPUT_LIT(out, ") ");
	if (c->container_id[0]) {
		/* The short id, as docker ps shows it. */
		OUTPUT_LIT(out, "[");
		text_put_safe(out, (const uint8_t *)c->container_id,
			      strnlen(c->container_id, 12));
		OUTPUT_LIT(out, "] ");
	}
	output_puts(out, txn_role_name(c->role));
	if (c->tls)
		OUTPUT_LIT(out, " TLS");
	output_putc(out, ' ');
	output_addr_str(&c->local, addr);
	output_puts(out, addr);
	OUTPUT_LIT(out, " -> ");
	output_addr_str(&c->remote, addr);
	output_puts(out, addr);
	output_putc(out, '\n');

	text_request(out, t, o);
	text_response(out, t, o);
	output_putc(out, '\n');

	err = output_line_end(out);
	funlockfile(f);
	return err;
}
