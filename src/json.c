/* json.c -- JSON Lines writer: one transaction as one RFC 8259 object on one line. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>

#include "output.h"

static const char json_hex[] = "0123456789abcdef";

static inline void json_put(FILE *f, const void *p, size_t n)
{
	if (n)
		fwrite_unlocked(p, 1, n, f);
}

#define JSON_LIT(f, s) json_put((f), (s), sizeof(s) - 1)

static void json_u64(FILE *f, uint64_t v)
{
	char b[20];
	int i = sizeof(b);

	do
		b[--i] = (char)('0' + v % 10);
	while (v /= 10);
	json_put(f, b + i, sizeof(b) - i);
}

static void json_int(FILE *f, int64_t v)
{
	if (v < 0) {
		putc_unlocked('-', f);
		json_u64(f, -(uint64_t)v);
	} else {
		json_u64(f, (uint64_t)v);
	}
}

static void json_bool(FILE *f, bool v)
{
	if (v)
		JSON_LIT(f, "true");
	else
		JSON_LIT(f, "false");
}

static void json_u_escape(FILE *f, uint32_t cp)
{
	char b[6] = { '\\', 'u', json_hex[cp >> 12 & 15], json_hex[cp >> 8 & 15],
		      json_hex[cp >> 4 & 15], json_hex[cp & 15] };

	json_put(f, b, 6);
}

/* Writes p[0..n) as a JSON string.  The line must stay valid UTF-8 and
 * safe to cat to a terminal whatever the bytes are, so: RFC 8259 section
 * 7 escapes for quote, backslash and C0; \u escapes for what
 * output_cp_unsafe() names (DEL, C1, bidi controls, and U+2028/2029,
 * which also break JavaScript consumers); and U+FFFD for each byte that
 * does not start a valid UTF-8 sequence (JSON cannot carry raw bytes).
 * Runs of bytes that need nothing go out in one fwrite. */
static void json_str(FILE *f, const uint8_t *p, size_t n)
{
	size_t i = 0, run = 0;
	uint32_t cp;
	int r;

	putc_unlocked('"', f);
	while (i < n) {
		uint8_t c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			r = output_utf8_len(p + i, n - i, &cp);
			if (r > 0 && !output_cp_unsafe(cp)) {
				i += r;
				continue;
			}
		} else {
			r = 1;
			cp = c;
		}
		json_put(f, p + run, i - run);
		if (r <= 0) {
			JSON_LIT(f, "\\ufffd");
			r = 1;
		} else if (c == '"') {
			JSON_LIT(f, "\\\"");
		} else if (c == '\\') {
			JSON_LIT(f, "\\\\");
		} else if (c == '\n') {
			JSON_LIT(f, "\\n");
		} else if (c == '\r') {
			JSON_LIT(f, "\\r");
		} else if (c == '\t') {
			JSON_LIT(f, "\\t");
		} else {
			json_u_escape(f, cp);
		}
		i += r;
		run = i;
	}
	json_put(f, p + run, i - run);
	putc_unlocked('"', f);
}

static void json_cstr(FILE *f, const char *s)
{
	if (s)
		json_str(f, (const uint8_t *)s, strlen(s));
	else
		JSON_LIT(f, "null");
}

static void json_slice(FILE *f, const struct http_msg *m, uint32_t off, uint32_t len)
{
	const uint8_t *p;
	size_t n = output_slice(m, off, len, &p);

	json_str(f, p, n);
}

/* RFC 4648 section 4, padded; encoded through a stack buffer so that a
 * large preview costs a few fwrites and no allocation. */
static void json_base64(FILE *f, const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char b[4096];
	size_t o = 0;
	uint32_t v;

	putc_unlocked('"', f);
	for (; n >= 3; p += 3, n -= 3) {
		v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		b[o++] = tab[v >> 18];
		b[o++] = tab[v >> 12 & 63];
		b[o++] = tab[v >> 6 & 63];
		b[o++] = tab[v & 63];
		if (o == sizeof(b)) {
			json_put(f, b, o);
			o = 0;
		}
	}
	if (n) {
		v = (uint32_t)p[0] << 16 | (n > 1 ? (uint32_t)p[1] << 8 : 0);
		b[o++] = tab[v >> 18];
		b[o++] = tab[v >> 12 & 63];
		b[o++] = n > 1 ? tab[v >> 6 & 63] : '=';
		b[o++] = '=';
	}
	json_put(f, b, o);
	putc_unlocked('"', f);
}

/* RFC 3339 UTC with nanoseconds.  The civil date comes from Howard
 * Hinnant's days_from_civil inverse: no gmtime_r, no locale, no lock. */
static void json_time(FILE *f, uint64_t ns)
{
	uint64_t secs = ns / 1000000000, days = secs / 86400;
	unsigned sod = (unsigned)(secs % 86400), frac = (unsigned)(ns % 1000000000);
	uint64_t z = days + 719468, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	uint64_t y = yoe + era * 400 + (m <= 2);
	char b[32];
	int i;

	b[0] = '"';
	b[1] = (char)('0' + y / 1000 % 10);
	b[2] = (char)('0' + y / 100 % 10);
	b[3] = (char)('0' + y / 10 % 10);
	b[4] = (char)('0' + y % 10);
	b[5] = '-';
	b[6] = (char)('0' + m / 10);
	b[7] = (char)('0' + m % 10);
	b[8] = '-';
	b[9] = (char)('0' + d / 10);
	b[10] = (char)('0' + d % 10);
	b[11] = 'T';
	b[12] = (char)('0' + sod / 36000);
	b[13] = (char)('0' + sod / 3600 % 10);
	b[14] = ':';
	b[15] = (char)('0' + sod % 3600 / 600);
	b[16] = (char)('0' + sod % 3600 / 60 % 10);
	b[17] = ':';
	b[18] = (char)('0' + sod % 60 / 10);
	b[19] = (char)('0' + sod % 10);
	b[20] = '.';
	for (i = 29; i > 20; i--, frac /= 10)
		b[i] = (char)('0' + frac % 10);
	b[30] = 'Z';
	b[31] = '"';
	json_put(f, b, 32);
}

static void json_addr(FILE *f, const struct hs_addr *a)
{
	char buf[OUTPUT_ADDR_LEN];

	if (output_addr_str(a, buf))
		json_str(f, (const uint8_t *)buf, strlen(buf));
	else
		JSON_LIT(f, "null");
}

static void json_headers(FILE *f, const struct http_msg *m)
{
	size_t i;

	JSON_LIT(f, "\"headers\":[");
	for (i = 0; i < m->nhdrs; i++) {
		if (i)
			putc_unlocked(',', f);
		putc_unlocked('[', f);
		json_slice(f, m, m->hdrs[i].name_off, m->hdrs[i].name_len);
		putc_unlocked(',', f);
		json_slice(f, m, m->hdrs[i].value_off, m->hdrs[i].value_len);
		putc_unlocked(']', f);
	}
	JSON_LIT(f, "],\"headers_truncated\":");
	json_bool(f, m->head_truncated);
	JSON_LIT(f, ",\"complete\":");
	json_bool(f, m->complete);
}

static void json_body(FILE *f, const struct http_msg *m, const struct output_opts *o)
{
	struct output_body b;

	output_body_get(m, o, &b);
	JSON_LIT(f, ",\"body_size\":");
	json_u64(f, m->body_size);
	JSON_LIT(f, ",\"body\":");
	if (b.text) {
		json_str(f, b.data, b.text_len);
		JSON_LIT(f, ",\"body_encoding\":\"text\"");
	} else {
		json_base64(f, b.data, b.len);
		JSON_LIT(f, ",\"body_encoding\":\"base64\"");
	}
	JSON_LIT(f, ",\"body_truncated\":");
	json_bool(f, b.truncated);
	JSON_LIT(f, ",\"body_missing\":");
	json_u64(f, m->body_missing);
	JSON_LIT(f, ",\"body_decoded\":");
	if (b.coding)
		json_str(f, (const uint8_t *)b.coding, b.coding_len);
	else
		JSON_LIT(f, "null");
	JSON_LIT(f, ",\"decode_error\":");
	json_cstr(f, m->decode_error);
}

static void json_version(FILE *f, const struct http_msg *m)
{
	JSON_LIT(f, "\"version\":\"");
	json_int(f, m->version_major);
	putc_unlocked('.', f);
	json_int(f, m->version_minor);
	JSON_LIT(f, "\",");
}

static void json_request(FILE *f, const struct http_msg *m, const struct output_opts *o)
{
	if (!m->present) {
		JSON_LIT(f, "null");
		return;
	}
	JSON_LIT(f, "{\"method\":");
	json_slice(f, m, m->method_off, m->method_len);
	JSON_LIT(f, ",\"target\":");
	json_slice(f, m, m->target_off, m->target_len);
	putc_unlocked(',', f);
	json_version(f, m);
	json_headers(f, m);
	json_body(f, m, o);
	putc_unlocked('}', f);
}

static void json_response(FILE *f, const struct http_msg *m, const struct output_opts *o)
{
	if (!m->present) {
		JSON_LIT(f, "null");
		return;
	}
	putc_unlocked('{', f);
	json_version(f, m);
	JSON_LIT(f, "\"status\":");
	json_int(f, m->status);
	JSON_LIT(f, ",\"reason\":");
	json_slice(f, m, m->reason_off, m->reason_len);
	putc_unlocked(',', f);
	json_headers(f, m);
	json_body(f, m, o);
	putc_unlocked('}', f);
}

int json_format_txn(FILE *f, const struct txn *t, const struct output_opts *o)
{
	const struct conn_info *c = &t->conn;
	uint64_t ns;
	int err;

	errno = 0;
	flockfile(f);
	JSON_LIT(f, "{\"ts\":");
	json_time(f, output_txn_time(t, o));
	JSON_LIT(f, ",\"pid\":");
	json_u64(f, c->pid);
	JSON_LIT(f, ",\"tid\":");
	json_u64(f, c->tid);
	JSON_LIT(f, ",\"comm\":");
	json_str(f, (const uint8_t *)c->comm, strnlen(c->comm, sizeof(c->comm)));
	JSON_LIT(f, ",\"fd\":");
	json_int(f, c->fd);
	JSON_LIT(f, ",\"role\":\"");
	fputs_unlocked(output_role_str(c->role), f);
	JSON_LIT(f, "\",\"local\":");
	json_addr(f, &c->local);
	JSON_LIT(f, ",\"remote\":");
	json_addr(f, &c->remote);
	JSON_LIT(f, ",\"conn_id\":");
	json_u64(f, c->conn_id);
	JSON_LIT(f, ",\"cgroup_id\":");
	json_u64(f, c->cgroup_id);
	JSON_LIT(f, ",\"tls\":");
	json_bool(f, c->tls);
	JSON_LIT(f, ",\"container_id\":");
	if (c->container_id[0])
		json_str(f, (const uint8_t *)c->container_id,
			 strnlen(c->container_id, sizeof(c->container_id)));
	else
		JSON_LIT(f, "null");
	JSON_LIT(f, ",\"request\":");
	json_request(f, &t->req, o);
	JSON_LIT(f, ",\"response\":");
	json_response(f, &t->resp, o);
	JSON_LIT(f, ",\"interim_status\":");
	if (t->interim_status)
		json_int(f, t->interim_status);
	else
		JSON_LIT(f, "null");
	JSON_LIT(f, ",\"upgraded\":");
	json_bool(f, t->upgraded);
	JSON_LIT(f, ",\"latency_ns\":");
	if (output_latency(t, &ns))
		json_u64(f, ns);
	else
		JSON_LIT(f, "null");
	JSON_LIT(f, ",\"ttfb_ns\":");
	if (output_ttfb(t, &ns))
		json_u64(f, ns);
	else
		JSON_LIT(f, "null");
	JSON_LIT(f, ",\"error\":");
	json_cstr(f, t->error);
	JSON_LIT(f, "}\n");

	err = ferror(f) ? (errno ? -errno : -EIO) : 0;
	funlockfile(f);
	return err;
}
