/* json.c -- JSON Lines writer: one transaction as one RFC 8259 object on one line. */
#include <errno.h>
#include <string.h>

#include "sink/output.h"

static const char json_hex[] = "0123456789abcdef";

static void json_int(struct output_line *out, int64_t v)
{
	if (v < 0) {
		output_putc(out, '-');
		output_put_u64(out, -(uint64_t)v);
	} else {
		output_put_u64(out, (uint64_t)v);
	}
}

static void json_bool(struct output_line *out, bool v)
{
	if (v)
		OUTPUT_LIT(out, "true");
	else
		OUTPUT_LIT(out, "false");
}

static uint8_t *json_u_escape(uint8_t *d, uint32_t cp)
{
	d[0] = '\\';
	d[1] = 'u';
	d[2] = json_hex[cp >> 12 & 15];
	d[3] = json_hex[cp >> 8 & 15];
	d[4] = json_hex[cp >> 4 & 15];
	d[5] = json_hex[cp & 15];
	return d + 6;
}

/* A byte becomes six at most ("\u00XX"): json_str() makes room for a
 * step of this many bytes at a time. */
#define JSON_STEP 1024

/* Escapes p[0..stop) to d, and a little past stop to end a UTF-8
 * sequence (end is where the string ends); returns the next byte. */
static const uint8_t *json_escape(uint8_t **dp, const uint8_t *p,
				  const uint8_t *stop, const uint8_t *end)
{
	const uint8_t *begin = p;
	uint8_t *d = *dp, c;
	uint32_t cp;
	size_t k;
	int r;

	while (p < stop) {
		k = output_copy_span(d, p, stop, begin, OUTPUT_C_JSON);
		p += k;
		d += k;
		if (p == stop)
			break;
		c = *p;
		if (output_byte_class[c] & OUTPUT_C_JSON) {
			*d++ = *p++; /* flagged in excess (big-endian) */
			continue;
		}
		if (c >= 0x80) {
			r = output_utf8_len(p, end - p, &cp);
			if (r > 0 && !output_cp_unsafe(cp)) {
				while (r--)
					*d++ = *p++;
			} else if (r > 0) {
				d = json_u_escape(d, cp);
				p += r;
			} else {
				d = json_u_escape(d, 0xfffd);
				p++;
			}
			continue;
		}
		*d++ = '\\';
		if (c == '"' || c == '\\')
			*d++ = c;
		else if (c == '\n')
			*d++ = 'n';
		else if (c == '\r')
			*d++ = 'r';
		else if (c == '\t')
			*d++ = 't';
		else
			d = json_u_escape(d - 1, c);
		p++;
	}
	*dp = d;
	return p;
}

/* Writes p[0..n) as a JSON string.  The line must stay valid UTF-8 and
 * safe to cat to a terminal whatever the bytes are, so: RFC 8259 section
 * 7 escapes for quote, backslash and C0; \u escapes for what
 * output_cp_unsafe() names (DEL, C1, bidi controls, and U+2028/2029,
 * which also break JavaScript consumers); and U+FFFD for each byte that
 * does not start a valid UTF-8 sequence (JSON cannot carry raw bytes).
 * It is written in steps of JSON_STEP bytes, straight into the line. */
static void json_str(struct output_line *out, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *stop;
	uint8_t *d;

	output_putc(out, '"');
	while (p < end) {
		stop = end - p > JSON_STEP ? p + JSON_STEP : end;
		d = (uint8_t *)output_reserve(out, 6 * (stop - p) + 8);
		p = json_escape(&d, p, stop, end);
		out->len = (char *)d - out->buf;
	}
	output_putc(out, '"');
}

static void json_cstr(struct output_line *out, const char *s)
{
	if (s)
		json_str(out, (const uint8_t *)s, strlen(s));
	else
		OUTPUT_LIT(out, "null");
}

static void json_slice(struct output_line *out, const struct http_msg *m,
		       uint32_t off, uint32_t len)
{
	const uint8_t *p;
	size_t n = output_slice(m, off, len, &p);

	json_str(out, p, n);
}

/* RFC 4648 section 4, padded; encoded through a stack buffer so that a
 * large preview costs a few copies and no allocation. */
static void json_base64(struct output_line *out, const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char b[4096];
	size_t o = 0;
	uint32_t v;

	output_putc(out, '"');
	for (; n >= 3; p += 3, n -= 3) {
		v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		b[o++] = tab[v >> 18];
		b[o++] = tab[v >> 12 & 63];
		b[o++] = tab[v >> 6 & 63];
		b[o++] = tab[v & 63];
		if (o == sizeof(b)) {
			output_put(out, b, o);
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
	output_put(out, b, o);
	output_putc(out, '"');
}

/* RFC 3339 UTC with nanoseconds.  The civil date comes from Howard
 * Hinnant's days_from_civil inverse: no gmtime_r, no locale, no lock. */
static void json_time(struct output_line *out, uint64_t ns)
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
	output_put(out, b, 32);
}

static void json_addr(struct output_line *out, const struct hs_addr *a)
{
	char buf[OUTPUT_ADDR_LEN];

	if (output_addr_str(a, buf))
		json_str(out, (const uint8_t *)buf, strlen(buf));
	else
		OUTPUT_LIT(out, "null");
}

static void json_headers(struct output_line *out, const struct http_msg *m)
{
	size_t i;

	OUTPUT_LIT(out, "\"headers\":[");
	for (i = 0; i < m->nhdrs; i++) {
		if (i)
			output_putc(out, ',');
		output_putc(out, '[');
		json_slice(out, m, m->hdrs[i].name_off, m->hdrs[i].name_len);
		output_putc(out, ',');
		json_slice(out, m, m->hdrs[i].value_off, m->hdrs[i].value_len);
		output_putc(out, ']');
	}
	OUTPUT_LIT(out, "],\"headers_truncated\":");
	json_bool(out, m->head_truncated);
	OUTPUT_LIT(out, ",\"complete\":");
	json_bool(out, m->complete);
}

static void json_body(struct output_line *out, const struct http_msg *m,
		      const struct output_opts *o)
{
	struct output_body b;

	output_body_get(m, o, &b);
	OUTPUT_LIT(out, ",\"body_size\":");
	output_put_u64(out, m->body_size);
	OUTPUT_LIT(out, ",\"body\":");
	if (b.text) {
		json_str(out, b.data, b.text_len);
		OUTPUT_LIT(out, ",\"body_encoding\":\"text\"");
	} else {
		json_base64(out, b.data, b.len);
		OUTPUT_LIT(out, ",\"body_encoding\":\"base64\"");
	}
	OUTPUT_LIT(out, ",\"body_truncated\":");
	json_bool(out, b.truncated);
	OUTPUT_LIT(out, ",\"body_missing\":");
	output_put_u64(out, m->body_missing);
	OUTPUT_LIT(out, ",\"body_decoded\":");
	if (b.coding)
		json_str(out, (const uint8_t *)b.coding, b.coding_len);
	else
		OUTPUT_LIT(out, "null");
	OUTPUT_LIT(out, ",\"decode_error\":");
	json_cstr(out, m->decode_error);
}

static void json_version(struct output_line *out, const struct http_msg *m)
{
	OUTPUT_LIT(out, "\"version\":\"");
	json_int(out, m->version_major);
	output_putc(out, '.');
	json_int(out, m->version_minor);
	OUTPUT_LIT(out, "\",");
}

static void json_request(struct output_line *out, const struct http_msg *m,
			 const struct output_opts *o)
{
	if (!m->present) {
		OUTPUT_LIT(out, "null");
		return;
	}
	OUTPUT_LIT(out, "{\"method\":");
	json_slice(out, m, m->method_off, m->method_len);
	OUTPUT_LIT(out, ",\"target\":");
	json_slice(out, m, m->target_off, m->target_len);
	output_putc(out, ',');
	json_version(out, m);
	json_headers(out, m);
	json_body(out, m, o);
	output_putc(out, '}');
}

static void json_response(struct output_line *out, const struct http_msg *m,
			  const struct output_opts *o)
{
	if (!m->present) {
		OUTPUT_LIT(out, "null");
		return;
	}
	output_putc(out, '{');
	json_version(out, m);
	OUTPUT_LIT(out, "\"status\":");
	json_int(out, m->status);
	OUTPUT_LIT(out, ",\"reason\":");
	json_slice(out, m, m->reason_off, m->reason_len);
	output_putc(out, ',');
	json_headers(out, m);
	json_body(out, m, o);
	output_putc(out, '}');
}

int json_format_txn(FILE *f, const struct txn *t, const struct output_opts *o)
{
	const struct conn_info *c = &t->conn;
	struct output_line line, *out = &line;
	uint64_t ns;
	int err;

	errno = 0;
	flockfile(f);
	output_line_begin(out, f);
	OUTPUT_LIT(out, "{\"ts\":");
	json_time(out, txn_time(t, o->clock_offset_ns));
	OUTPUT_LIT(out, ",\"pid\":");
	output_put_u64(out, c->pid);
	OUTPUT_LIT(out, ",\"tid\":");
	output_put_u64(out, c->tid);
	OUTPUT_LIT(out, ",\"comm\":");
	json_str(out, (const uint8_t *)c->comm, strnlen(c->comm, sizeof(c->comm)));
	OUTPUT_LIT(out, ",\"fd\":");
	json_int(out, c->fd);
	OUTPUT_LIT(out, ",\"role\":\"");
	output_puts(out, txn_role_name(c->role));
	OUTPUT_LIT(out, "\",\"local\":");
	json_addr(out, &c->local);
	OUTPUT_LIT(out, ",\"remote\":");
	json_addr(out, &c->remote);
	OUTPUT_LIT(out, ",\"conn_id\":");
	output_put_u64(out, c->conn_id);
	OUTPUT_LIT(out, ",\"cgroup_id\":");
	output_put_u64(out, c->cgroup_id);
	OUTPUT_LIT(out, ",\"tls\":");
	json_bool(out, c->tls);
	OUTPUT_LIT(out, ",\"container_id\":");
	if (c->container_id[0])
		json_str(out, (const uint8_t *)c->container_id,
			 strnlen(c->container_id, sizeof(c->container_id)));
	else
		OUTPUT_LIT(out, "null");
	OUTPUT_LIT(out, ",\"request\":");
	json_request(out, &t->req, o);
	OUTPUT_LIT(out, ",\"response\":");
	json_response(out, &t->resp, o);
	OUTPUT_LIT(out, ",\"interim_status\":");
	if (t->interim_status)
		json_int(out, t->interim_status);
	else
		OUTPUT_LIT(out, "null");
	OUTPUT_LIT(out, ",\"upgraded\":");
	json_bool(out, t->upgraded);
	OUTPUT_LIT(out, ",\"latency_ns\":");
	if (txn_latency(t, &ns))
		output_put_u64(out, ns);
	else
		OUTPUT_LIT(out, "null");
	OUTPUT_LIT(out, ",\"ttfb_ns\":");
	if (txn_ttfb(t, &ns))
		output_put_u64(out, ns);
	else
		OUTPUT_LIT(out, "null");
	OUTPUT_LIT(out, ",\"error\":");
	json_cstr(out, t->error);
	OUTPUT_LIT(out, "}\n");

	err = output_line_end(out);
	funlockfile(f);
	return err;
}
