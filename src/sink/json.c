/* json.c -- the JSON sink: one transaction as one RFC 8259 object on one line (JSON Lines). */
#include <errno.h>
#include <string.h>

#include "sink/writer.h"

static void json_bool(struct writer_line *out, bool v)
{
	if (v)
		WRITER_LIT(out, "true");
	else
		WRITER_LIT(out, "false");
}

static uint8_t *json_u_escape(uint8_t *d, uint32_t cp)
{
	d[0] = '\\';
	d[1] = 'u';
	d[2] = writer_hex[cp >> 12 & 15];
	d[3] = writer_hex[cp >> 8 & 15];
	d[4] = writer_hex[cp >> 4 & 15];
	d[5] = writer_hex[cp & 15];
	return d + 6;
}

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
		k = writer_copy_span(d, p, stop, begin, WRITER_C_JSON);
		p += k;
		d += k;
		if (p == stop)
			break;
		c = *p;
		if (writer_byte_class[c] & WRITER_C_JSON) {
			*d++ = *p++; /* flagged in excess (big-endian) */
			continue;
		}
		if (c >= 0x80) {
			r = writer_utf8_len(p, end - p, &cp);
			if (r > 0 && !writer_cp_unsafe(cp)) {
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
 * writer_cp_unsafe() names (DEL, C1, bidi controls, and U+2028/2029,
 * which also break JavaScript consumers); and U+FFFD for each byte that
 * does not start a valid UTF-8 sequence (JSON cannot carry raw bytes).
 * A byte becomes six at most ("\u00XX").  Not inlined, so that
 * json_escape() is, once: every string goes through here. */
static __attribute__((noinline)) void
json_str(struct writer_line *out, const uint8_t *p, size_t n)
{
	writer_putc(out, '"');
	writer_put_escaped(out, p, n, json_escape, 6, 8);
	writer_putc(out, '"');
}

static void json_cstr(struct writer_line *out, const char *s)
{
	if (s)
		json_str(out, (const uint8_t *)s, strlen(s));
	else
		WRITER_LIT(out, "null");
}

static void json_slice(struct writer_line *out, const struct http_msg *m,
		       uint32_t off, uint32_t len)
{
	const uint8_t *p;
	size_t n = writer_slice(m, off, len, &p);

	json_str(out, p, n);
}

/* RFC 4648 section 4, padded; encoded through a stack buffer so that a
 * large preview costs a few copies and no allocation. */
static void json_base64(struct writer_line *out, const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char b[4096];
	size_t o = 0;
	uint32_t v;

	writer_putc(out, '"');
	for (; n >= 3; p += 3, n -= 3) {
		v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		b[o++] = tab[v >> 18];
		b[o++] = tab[v >> 12 & 63];
		b[o++] = tab[v >> 6 & 63];
		b[o++] = tab[v & 63];
		if (o == sizeof(b)) {
			writer_put(out, b, o);
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
	writer_put(out, b, o);
	writer_putc(out, '"');
}

/* RFC 3339 UTC with nanoseconds.  The civil date comes from Howard
 * Hinnant's days_from_civil inverse: no gmtime_r, no locale, no lock. */
static void json_time(struct writer_line *out, uint64_t ns)
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
	writer_put(out, b, 32);
}

static void json_end(struct writer_line *out, const struct conn_info *c,
		     bool local)
{
	char buf[WRITER_END_LEN];
	size_t n = writer_end_str(c, local, buf);

	if (n)
		json_str(out, (const uint8_t *)buf, n);
	else
		WRITER_LIT(out, "null");
}

static void json_headers(struct writer_line *out, const struct http_msg *m)
{
	size_t i;

	WRITER_LIT(out, "\"headers\":[");
	for (i = 0; i < m->nhdrs; i++) {
		if (i)
			writer_putc(out, ',');
		writer_putc(out, '[');
		json_slice(out, m, m->hdrs[i].name_off, m->hdrs[i].name_len);
		writer_putc(out, ',');
		json_slice(out, m, m->hdrs[i].value_off, m->hdrs[i].value_len);
		writer_putc(out, ']');
	}
	WRITER_LIT(out, "],\"headers_truncated\":");
	json_bool(out, m->head_truncated);
	WRITER_LIT(out, ",\"complete\":");
	json_bool(out, m->complete);
}

static void json_body(struct writer_line *out, const struct http_msg *m,
		      const struct sink_config *o)
{
	struct writer_body b;

	writer_body_get(m, o->max_body, &b);
	WRITER_LIT(out, ",\"body_size\":");
	writer_put_u64(out, m->body_size);
	WRITER_LIT(out, ",\"body\":");
	if (b.text) {
		json_str(out, b.data, b.text_len);
		WRITER_LIT(out, ",\"body_encoding\":\"text\"");
	} else {
		json_base64(out, b.data, b.len);
		WRITER_LIT(out, ",\"body_encoding\":\"base64\"");
	}
	WRITER_LIT(out, ",\"body_truncated\":");
	json_bool(out, b.truncated);
	WRITER_LIT(out, ",\"body_missing\":");
	writer_put_u64(out, m->body_missing);
	WRITER_LIT(out, ",\"body_decoded\":");
	if (b.coding)
		json_str(out, (const uint8_t *)b.coding, b.coding_len);
	else
		WRITER_LIT(out, "null");
	WRITER_LIT(out, ",\"decode_error\":");
	json_cstr(out, m->decode_error);
}

static void json_version(struct writer_line *out, const struct http_msg *m)
{
	WRITER_LIT(out, "\"version\":\"");
	writer_put_int(out, m->version_major);
	writer_putc(out, '.');
	writer_put_int(out, m->version_minor);
	WRITER_LIT(out, "\",");
}

static void json_request(struct writer_line *out, const struct http_msg *m,
			 const struct sink_config *o)
{
	if (!m->present) {
		WRITER_LIT(out, "null");
		return;
	}
	WRITER_LIT(out, "{\"method\":");
	json_slice(out, m, m->method_off, m->method_len);
	WRITER_LIT(out, ",\"target\":");
	json_slice(out, m, m->target_off, m->target_len);
	writer_putc(out, ',');
	json_version(out, m);
	json_headers(out, m);
	json_body(out, m, o);
	writer_putc(out, '}');
}

static void json_response(struct writer_line *out, const struct http_msg *m,
			  const struct sink_config *o)
{
	if (!m->present) {
		WRITER_LIT(out, "null");
		return;
	}
	writer_putc(out, '{');
	json_version(out, m);
	WRITER_LIT(out, "\"status\":");
	writer_put_int(out, m->status);
	WRITER_LIT(out, ",\"reason\":");
	json_slice(out, m, m->reason_off, m->reason_len);
	writer_putc(out, ',');
	json_headers(out, m);
	json_body(out, m, o);
	writer_putc(out, '}');
}

int json_format_txn(FILE *f, const struct txn *t, const struct sink_config *o)
{
	const struct conn_info *c = &t->conn;
	struct writer_line line, *out = &line;
	uint64_t ns;

	writer_begin(out, f);
	WRITER_LIT(out, "{\"ts\":");
	json_time(out, txn_time(t, o->clock_offset_ns));
	WRITER_LIT(out, ",\"pid\":");
	writer_put_u64(out, c->pid);
	WRITER_LIT(out, ",\"tid\":");
	writer_put_u64(out, c->tid);
	WRITER_LIT(out, ",\"comm\":");
	json_str(out, (const uint8_t *)c->comm, strnlen(c->comm, sizeof(c->comm)));
	WRITER_LIT(out, ",\"fd\":");
	writer_put_int(out, c->fd);
	WRITER_LIT(out, ",\"role\":\"");
	writer_puts(out, txn_role_name(c->role));
	WRITER_LIT(out, "\",\"local\":");
	json_end(out, c, true);
	WRITER_LIT(out, ",\"remote\":");
	json_end(out, c, false);
	WRITER_LIT(out, ",\"peer_pid\":");
	if (c->peer_pid) {
		writer_put_u64(out, c->peer_pid);
		WRITER_LIT(out, ",\"peer_comm\":");
		json_str(out, (const uint8_t *)c->peer_comm,
			 strnlen(c->peer_comm, sizeof(c->peer_comm)));
	} else {
		WRITER_LIT(out, "null,\"peer_comm\":null");
	}
	WRITER_LIT(out, ",\"conn_id\":");
	writer_put_u64(out, c->conn_id);
	WRITER_LIT(out, ",\"cgroup_id\":");
	writer_put_u64(out, c->cgroup_id);
	WRITER_LIT(out, ",\"tls\":");
	json_bool(out, c->tls);
	WRITER_LIT(out, ",\"container_id\":");
	if (c->container_id[0])
		json_str(out, (const uint8_t *)c->container_id,
			 strnlen(c->container_id, sizeof(c->container_id)));
	else
		WRITER_LIT(out, "null");
	WRITER_LIT(out, ",\"request\":");
	json_request(out, &t->req, o);
	WRITER_LIT(out, ",\"response\":");
	json_response(out, &t->resp, o);
	WRITER_LIT(out, ",\"interim_status\":");
	if (t->interim_status)
		writer_put_int(out, t->interim_status);
	else
		WRITER_LIT(out, "null");
	WRITER_LIT(out, ",\"upgraded\":");
	json_bool(out, t->upgraded);
	WRITER_LIT(out, ",\"latency_ns\":");
	if (txn_latency(t, &ns))
		writer_put_u64(out, ns);
	else
		WRITER_LIT(out, "null");
	WRITER_LIT(out, ",\"ttfb_ns\":");
	if (txn_ttfb(t, &ns))
		writer_put_u64(out, ns);
	else
		WRITER_LIT(out, "null");
	WRITER_LIT(out, ",\"error\":");
	json_cstr(out, t->error);
	WRITER_LIT(out, "}\n");

	return writer_end(out);
}

static const struct writer_fmt json_fmt = { SINK_JSON, json_format_txn };

const struct sink_ops json_sink = WRITER_SINK("json", &json_fmt);
