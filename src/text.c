/* text.c -- text writer: one transaction as an indented block readable at 80 columns. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>
#include <time.h>

#include "output.h"

#define TEXT_INDENT "     "	      /* headers and Body: under a message */
#define TEXT_BODY_INDENT "           " /* continuation lines of a body */
#define TEXT_HEX_MAX 32		      /* bytes of a binary body shown */

static const char text_hex[] = "0123456789abcdef";

static inline void text_put(FILE *f, const void *p, size_t n)
{
	if (n)
		fwrite_unlocked(p, 1, n, f);
}

#define TEXT_LIT(f, s) text_put((f), (s), sizeof(s) - 1)

static inline void text_puts(FILE *f, const char *s)
{
	text_put(f, s, strlen(s));
}

static void text_put_u64(FILE *f, uint64_t v)
{
	char b[20];
	int i = sizeof(b);

	do
		b[--i] = (char)('0' + v % 10);
	while (v /= 10);
	text_put(f, b + i, sizeof(b) - i);
}

static void text_put_int(FILE *f, int v)
{
	if (v < 0) {
		putc_unlocked('-', f);
		text_put_u64(f, -(uint64_t)v);
	} else {
		text_put_u64(f, (uint64_t)v);
	}
}

/* Three digits after the point, e.g. 1.234: durations need no floats. */
static void text_put_milli(FILE *f, uint64_t whole, unsigned frac)
{
	text_put_u64(f, whole);
	putc_unlocked('.', f);
	putc_unlocked('0' + frac / 100, f);
	putc_unlocked('0' + frac / 10 % 10, f);
	putc_unlocked('0' + frac % 10, f);
}

static void text_put_duration(FILE *f, uint64_t ns)
{
	if (ns < 1000) {
		text_put_u64(f, ns);
		TEXT_LIT(f, " ns");
	} else if (ns < 1000000) {
		text_put_u64(f, ns / 1000);
		TEXT_LIT(f, " µs");
	} else if (ns < 1000000000) {
		text_put_milli(f, ns / 1000000, ns / 1000 % 1000);
		TEXT_LIT(f, " ms");
	} else {
		text_put_milli(f, ns / 1000000000, ns / 1000000 % 1000);
		TEXT_LIT(f, " s");
	}
}

static inline void text_put_esc(FILE *f, uint8_t c)
{
	char b[4] = { '\\', 'x', text_hex[c >> 4], text_hex[c & 15] };

	text_put(f, b, 4);
}

/* Writes bytes from the network so that they cannot drive the terminal:
 * C0 controls (ESC above all), invalid UTF-8 and what output_cp_unsafe()
 * names become \xNN per byte (all bytes of a character, so that the
 * escape shows what was sent).  Tab is kept, it moves nothing but the
 * cursor.  Runs of safe bytes go out in one fwrite. */
static void text_put_safe(FILE *f, const uint8_t *p, size_t n)
{
	size_t i = 0, run = 0, k, l;
	uint32_t cp;
	int r;

	while (i < n) {
		uint8_t c = p[i];

		if ((c >= 0x20 && c < 0x7f) || c == '\t') {
			i++;
			continue;
		}
		l = 1;
		if (c >= 0x80) {
			r = output_utf8_len(p + i, n - i, &cp);
			if (r > 0 && !output_cp_unsafe(cp)) {
				i += r;
				continue;
			}
			if (r > 0)
				l = r;
		}
		text_put(f, p + run, i - run);
		for (k = 0; k < l; k++)
			text_put_esc(f, p[i + k]);
		i += l;
		run = i;
	}
	text_put(f, p + run, i - run);
}

static void text_put_slice(FILE *f, const struct http_msg *m, uint32_t off, uint32_t len)
{
	const uint8_t *p;
	size_t n = output_slice(m, off, len, &p);

	text_put_safe(f, p, n);
}

/* Local time of day, to the microsecond, as tcpdump prints it (the date
 * is in the JSON output; leaving it out keeps the line within 80
 * columns).  localtime_r() is kept to once per
 * second: a busy trace prints many lines within one. */
static void text_put_time(FILE *f, uint64_t ns)
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
	text_put(f, cached, cached_len);
	b[0] = '.';
	for (i = 6; i > 0; i--, us /= 10)
		b[i] = (char)('0' + us % 10);
	text_put(f, b, 7);
}

static void text_headers(FILE *f, const struct http_msg *m)
{
	size_t i;

	for (i = 0; i < m->nhdrs; i++) {
		TEXT_LIT(f, TEXT_INDENT);
		text_put_slice(f, m, m->hdrs[i].name_off, m->hdrs[i].name_len);
		TEXT_LIT(f, ": ");
		text_put_slice(f, m, m->hdrs[i].value_off, m->hdrs[i].value_len);
		putc_unlocked('\n', f);
	}
	if (m->head_truncated)
		TEXT_LIT(f, TEXT_INDENT "[headers truncated]\n");
}

/* Text bodies keep their line breaks, each further line indented under
 * the first; a CR before LF is dropped, a lone CR is escaped (it would
 * let the body overwrite its own line). */
static void text_body_lines(FILE *f, const uint8_t *p, size_t n)
{
	const uint8_t *nl;
	size_t len;
	bool first = true;

	while (n) {
		nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl - p) : n;
		if (!first)
			TEXT_LIT(f, TEXT_BODY_INDENT);
		first = false;
		text_put_safe(f, p, len && p[len - 1] == '\r' ? len - 1 : len);
		if (!nl)
			break;
		len++;
		p += len;
		n -= len;
		if (n)
			putc_unlocked('\n', f);
	}
}

static void text_body(FILE *f, const struct http_msg *m, const struct output_opts *o)
{
	struct output_body b;
	size_t i, n;

	if (!m->body_size && !m->preview_len && !m->body_missing && !m->decode_error)
		return;
	output_body_get(m, o, &b);

	TEXT_LIT(f, TEXT_INDENT "Body: ");
	if (b.text) {
		text_body_lines(f, b.data, b.text_len);
		if (b.truncated)
			TEXT_LIT(f, "…");
	} else {
		TEXT_LIT(f, "[binary, ");
		text_put_u64(f, m->body_size);
		TEXT_LIT(f, " bytes]");
	}
	if (b.coding) {
		TEXT_LIT(f, " (");
		text_put_safe(f, (const uint8_t *)b.coding, b.coding_len);
		TEXT_LIT(f, "-decoded)");
	}
	if (b.text && b.truncated) {
		TEXT_LIT(f, " (");
		text_put_u64(f, m->body_size);
		if (b.coding)
			TEXT_LIT(f, " bytes before decoding)");
		else
			TEXT_LIT(f, " bytes total)");
	}
	if (m->body_missing) {
		TEXT_LIT(f, " [");
		text_put_u64(f, m->body_missing);
		TEXT_LIT(f, " bytes not captured]");
	}
	if (m->decode_error) {
		TEXT_LIT(f, " [decode error: ");
		text_put_safe(f, (const uint8_t *)m->decode_error, strlen(m->decode_error));
		putc_unlocked(']', f);
	}
	putc_unlocked('\n', f);

	/* Hex goes on its own lines, 16 bytes each, to stay in 80 columns. */
	if (b.text || !b.len)
		return;
	n = b.len < TEXT_HEX_MAX ? b.len : TEXT_HEX_MAX;
	for (i = 0; i < n; i++) {
		if (i % 16 == 0)
			TEXT_LIT(f, TEXT_BODY_INDENT);
		putc_unlocked(text_hex[b.data[i] >> 4], f);
		putc_unlocked(text_hex[b.data[i] & 15], f);
		if (i % 16 == 15 || i + 1 == n) {
			if (i + 1 == n && (b.len > n || b.truncated))
				TEXT_LIT(f, " …");
			putc_unlocked('\n', f);
		} else {
			putc_unlocked(' ', f);
		}
	}
}

static void text_version(FILE *f, const struct http_msg *m)
{
	TEXT_LIT(f, "HTTP/");
	text_put_int(f, m->version_major);
	putc_unlocked('.', f);
	text_put_int(f, m->version_minor);
}

static void text_request(FILE *f, const struct txn *t, const struct output_opts *o)
{
	const struct http_msg *m = &t->req;

	if (!m->present) {
		TEXT_LIT(f, "  → (request not captured)\n");
		return;
	}
	TEXT_LIT(f, "  → ");
	text_put_slice(f, m, m->method_off, m->method_len);
	putc_unlocked(' ', f);
	text_put_slice(f, m, m->target_off, m->target_len);
	putc_unlocked(' ', f);
	text_version(f, m);
	putc_unlocked('\n', f);
	text_headers(f, m);
	text_body(f, m, o);
}

/* Opens or separates the parenthesised notes of a status line. */
static void text_note(FILE *f, bool *open)
{
	if (*open)
		TEXT_LIT(f, ", ");
	else
		TEXT_LIT(f, " (");
	*open = true;
}

static void text_response(FILE *f, const struct txn *t, const struct output_opts *o)
{
	const struct http_msg *m = &t->resp;
	bool open = false;
	uint64_t ns;

	if (!m->present) {
		TEXT_LIT(f, "  ← (no response");
		if (t->error) {
			TEXT_LIT(f, ": ");
			text_put_safe(f, (const uint8_t *)t->error, strlen(t->error));
		}
		TEXT_LIT(f, ")\n");
		return;
	}
	TEXT_LIT(f, "  ← ");
	text_put_int(f, m->status);
	putc_unlocked(' ', f);
	text_put_slice(f, m, m->reason_off, m->reason_len);
	if (output_latency(t, &ns)) {
		text_note(f, &open);
		text_put_duration(f, ns);
	}
	if (output_ttfb(t, &ns)) {
		text_note(f, &open);
		TEXT_LIT(f, "ttfb ");
		text_put_duration(f, ns);
	}
	if (t->interim_status) {
		text_note(f, &open);
		TEXT_LIT(f, "interim ");
		text_put_int(f, t->interim_status);
	}
	if (!m->complete) {
		text_note(f, &open);
		TEXT_LIT(f, "incomplete");
	}
	if (open)
		putc_unlocked(')', f);
	putc_unlocked('\n', f);
	if (t->upgraded)
		TEXT_LIT(f, TEXT_INDENT "[connection upgraded: left HTTP/1]\n");
	text_headers(f, m);
	text_body(f, m, o);
	if (t->error) {
		TEXT_LIT(f, TEXT_INDENT "[error: ");
		text_put_safe(f, (const uint8_t *)t->error, strlen(t->error));
		TEXT_LIT(f, "]\n");
	}
}

int text_format_txn(FILE *f, const struct txn *t, const struct output_opts *o)
{
	const struct conn_info *c = &t->conn;
	char addr[OUTPUT_ADDR_LEN];
	size_t n;
	int err;

	errno = 0;
	flockfile(f);
	putc_unlocked('[', f);
	text_put_time(f, output_txn_time(t, o));
	TEXT_LIT(f, "] PID ");
	text_put_u64(f, c->pid);
	TEXT_LIT(f, " (");
	/* A process names itself (prctl PR_SET_NAME): comm is as hostile
	 * as the traffic. */
	n = strnlen(c->comm, sizeof(c->comm));
	if (n)
		text_put_safe(f, (const uint8_t *)c->comm, n);
	else
		putc_unlocked('?', f);
	TEXT_LIT(f, ") ");
	if (c->container_id[0]) {
		/* The short id, as docker ps shows it. */
		TEXT_LIT(f, "[");
		text_put_safe(f, (const uint8_t *)c->container_id,
			      strnlen(c->container_id, 12));
		TEXT_LIT(f, "] ");
	}
	text_puts(f, output_role_str(c->role));
	if (c->tls)
		TEXT_LIT(f, " TLS");
	putc_unlocked(' ', f);
	output_addr_str(&c->local, addr);
	text_puts(f, addr);
	TEXT_LIT(f, " -> ");
	output_addr_str(&c->remote, addr);
	text_puts(f, addr);
	putc_unlocked('\n', f);

	text_request(f, t, o);
	text_response(f, t, o);
	putc_unlocked('\n', f);

	err = ferror(f) ? (errno ? -errno : -EIO) : 0;
	funlockfile(f);
	return err;
}
