/* json.c -- the JSON sink: one transaction as one RFC 8259 object on one line (JSON Lines). */
#include <errno.h>
#include <stdint.h>
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
 * sequence (end is where the string ends; the bytes may be read up to
 * lim); returns the next byte.  With text (a body's preview), it also
 * tells whether the bytes read as text, as writer_body_text() would:
 * at the first that does not (or an incomplete UTF-8 sequence, which
 * a cut preview may end with), *text is set false and it stops, what it
 * wrote then of no use.  Inlined in its two callers, below: text is
 * NULL in one. */
static inline __attribute__((always_inline)) const uint8_t *
json_escape_as(uint8_t **dp, const uint8_t *p, const uint8_t *stop,
	       const uint8_t *end, const uint8_t *lim, bool *text)
{
	const uint8_t *begin = p;
	uint8_t *d = *dp, c;
	uint32_t cp;
	size_t k;
	int r;

	while (p < stop) {
#ifdef __SSE2__
		/* Whole blocks that may be read 32 bytes on (what
		 * writer_block_backslash() reads), plain or with quotes
		 * and backslashes only: the loop a long string spends its
		 * time in, with its constants held in registers.  A block
		 * with another odd byte is left to what follows. */
		{
			const __m128i quote = _mm_set1_epi8('"');
			const __m128i bslash = _mm_set1_epi8('\\');
			const __m128i one = _mm_set1_epi8(1);
			const __m128i low = _mm_set1_epi8(0x21);
			unsigned q;

			while (stop - p >= 16 && lim - p >= 32) {
				__m128i v = _mm_loadu_si128((const __m128i *)p);

				/* controls, DEL and bytes past 0x7f */
				if (_mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(v, one), low)))
					break;
				q = (unsigned)_mm_movemask_epi8(
					_mm_or_si128(_mm_cmpeq_epi8(v, quote),
						     _mm_cmpeq_epi8(v, bslash)));
				if (q && writer_ssse3) {
					struct writer_cursor at =
						writer_quote_run(d, p, stop, lim);

					p = at.p;
					d = at.d;
					break;
				}
				if (q)
					d += writer_block_backslash(d, p, v, q);
				else
					_mm_storeu_si128((__m128i *)d, v);
				p += 16;
				d += 16;
			}
			if (p >= stop)
				break;
		}
		/* A block that may be read whole (lim): sixteen bytes, or
		 * the last few.  When it has only quotes and backslashes
		 * (a JSON body is full of them), each gets its backslash,
		 * then the rest of the block goes one byte further on, as
		 * one copy. */
		if (lim - p >= 32) {
			size_t n = 16;
			__m128i v = _mm_loadu_si128((const __m128i *)p);
			unsigned m, keep = 0xffff;

			if (stop - p < 16) {
				n = (size_t)(stop - p);
				keep = (1u << n) - 1;
			}
			_mm_storeu_si128((__m128i *)d, v);
			m = writer_block_odd(v, true) & keep;
			if (!m) {
				p += n;
				d += n;
				continue;
			}
			if (m == (writer_block_quotes(v) & keep)) {
				d += n + writer_block_backslash(d, p, v, m);
				p += n;
				continue;
			}
			/* Another byte in the last block (a text body's
			 * last line break, say): what comes before it went
			 * with the block, and it is looked at below.  Inside
			 * the string, the loop that follows does better with
			 * blocks of quotes and line breaks. */
			if (stop - p <= 16) {
				k = __builtin_ctz(m);
				goto one;
			}
		}
		/* Else sixteen bytes at a time: the quotes of a block (and
		 * backslashes) are escaped one after another, each followed
		 * by a copy of the next sixteen bytes, without looking at
		 * the block again. */
		if (stop - p >= 16) {
			const uint8_t *blk = p;
			__m128i v = _mm_loadu_si128((const __m128i *)p);
			bool other = false;
			unsigned m;

			_mm_storeu_si128((__m128i *)d, v);
			m = writer_block_odd(v, true);
			if (!m) {
				p += 16;
				d += 16;
				continue;
			}
			for (;;) {
				k = blk + __builtin_ctz(m) - p;
				p += k;
				d += k;
				c = *p;
				if (c != '"' && c != '\\') {
					other = true; /* see below */
					break;
				}
				d[0] = '\\';
				d[1] = c;
				d += 2;
				p++;
				m &= m - 1;
				if (stop - p < 16)
					break;
				_mm_storeu_si128((__m128i *)d,
						 _mm_loadu_si128((const __m128i *)p));
				if (!m) {
					/* the rest of the block went with
					 * that copy */
					d += blk + 16 - p;
					p = blk + 16;
					break;
				}
			}
			if (!other)
				continue;
			k = 0;
		} else
#endif
		{
			k = writer_copy_span(d, p, stop, begin, lim, WRITER_C_JSON);
		}
#ifdef __SSE2__
one:
#endif
		p += k;
		d += k;
		if (p == stop)
			break;
		c = *p;
		if (c == '"' || c == '\\') {
			d[0] = '\\';
			d[1] = c;
			d += 2;
			p++;
			continue;
		}
		if (writer_byte_class[c] & WRITER_C_JSON) {
			*d++ = *p++; /* flagged in excess (big-endian) */
			continue;
		}
		if (c >= 0x80) {
			r = writer_utf8_len(p, end - p, &cp);
			if (text && (r <= 0 || cp < 0xa0)) {
				*text = false;
				break;
			}
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
		if (text && c != '\n' && c != '\r' && c != '\t') {
			*text = false;
			break;
		}
		*d++ = '\\';
		if (c == '\n')
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

static const uint8_t *json_escape(uint8_t **dp, const uint8_t *p,
				  const uint8_t *stop, const uint8_t *end,
				  const uint8_t *lim)
{
	return json_escape_as(dp, p, stop, end, lim, NULL);
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
json_str_lim(struct writer_line *out, const uint8_t *p, size_t n,
	     const uint8_t *lim)
{
	uint8_t *d;

	if (n > WRITER_STEP) {
		writer_putc(out, '"');
		writer_put_escaped(out, p, n, lim, json_escape, 6, 16);
		writer_putc(out, '"');
		return;
	}
	/* Most strings are short: one step, the quotes in its room. */
	d = (uint8_t *)writer_reserve(out, 6 * n + 16 + 2);
	*d++ = '"';
	writer_put_slice(&d, p, n, lim, json_escape, true);
	*d++ = '"';
	out->len = (char *)d - out->buf;
}

/* p[0..n) as a JSON string, the bytes read no further than they go. */
static void json_str(struct writer_line *out, const uint8_t *p, size_t n)
{
	json_str_lim(out, p, n, p + n);
}

static void json_cstr(struct writer_line *out, const char *s)
{
	if (s)
		json_str(out, (const uint8_t *)s, strlen(s));
	else
		WRITER_LIT(out, "null");
}

/* A slice of m->buf as a JSON string; a short one (a method, a target,
 * a reason) in one step, as a header's name is, after key[0..klen) (at
 * most 32 bytes: a literal's ",\"KEY\":"), which goes in the same room. */
#define JSON_SLICE(out, key, m, off, len) \
	json_slice((out), (key), sizeof(key) - 1, (m), (off), (len))
static inline __attribute__((always_inline)) void
json_slice(struct writer_line *out, const char *key, size_t klen,
	   const struct http_msg *m, uint32_t off, uint32_t len)
{
	struct writer_msgbuf b;
	const uint8_t *p, *lim;
	size_t n;
	uint8_t *d;

	writer_msgbuf_get(m, &b);
	n = writer_slice(&b, off, len, &p, &lim);
	if (n > WRITER_STEP) {
		writer_put(out, key, klen);
		json_str_lim(out, p, n, lim);
		return;
	}
	d = (uint8_t *)writer_reserve(out, 32 + 6 * n + 16 + 2);
	memcpy(d, key, klen);
	d += klen;
	*d++ = '"';
	writer_put_slice(&d, p, n, lim, json_escape, true);
	*d++ = '"';
	out->len = (char *)d - out->buf;
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

void json_put_str(struct writer_line *out, const uint8_t *p, size_t n)
{
	json_str(out, p, n);
}

void json_put_base64(struct writer_line *out, const uint8_t *p, size_t n)
{
	json_base64(out, p, n);
}

/* RFC 3339 UTC with nanoseconds.  The civil date comes from Howard
 * Hinnant's days_from_civil inverse: no gmtime_r, no locale, no lock.
 * A busy trace writes many records within one second: the date and
 * time of day are kept for the last second seen (per thread, as a sink
 * formats on its caller's), and only the nanoseconds are new. */
#define JSON_TIME_LEN 32 /* "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ", quoted */
static char *json_time(char *b, uint64_t ns)
{
	static _Thread_local uint64_t cached_secs = UINT64_MAX;
	static _Thread_local char cached[20]; /* "YYYY-MM-DDTHH:MM:SS */
	uint64_t secs = ns / 1000000000;
	unsigned frac = (unsigned)(ns % 1000000000);
	int i;

	if (secs != cached_secs) {
		uint64_t days = secs / 86400;
		unsigned sod = (unsigned)(secs % 86400);
		uint64_t z = days + 719468, era = z / 146097;
		unsigned doe = (unsigned)(z - era * 146097);
		unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		unsigned mp = (5 * doy + 2) / 153;
		unsigned d = doy - (153 * mp + 2) / 5 + 1;
		unsigned m = mp < 10 ? mp + 3 : mp - 9;
		uint64_t y = yoe + era * 400 + (m <= 2);
		char *c = cached;

		c[0] = '"';
		c[1] = (char)('0' + y / 1000 % 10);
		c[2] = (char)('0' + y / 100 % 10);
		c[3] = (char)('0' + y / 10 % 10);
		c[4] = (char)('0' + y % 10);
		c[5] = '-';
		c[6] = (char)('0' + m / 10);
		c[7] = (char)('0' + m % 10);
		c[8] = '-';
		c[9] = (char)('0' + d / 10);
		c[10] = (char)('0' + d % 10);
		c[11] = 'T';
		c[12] = (char)('0' + sod / 36000);
		c[13] = (char)('0' + sod / 3600 % 10);
		c[14] = ':';
		c[15] = (char)('0' + sod % 3600 / 600);
		c[16] = (char)('0' + sod % 3600 / 60 % 10);
		c[17] = ':';
		c[18] = (char)('0' + sod % 60 / 10);
		c[19] = (char)('0' + sod % 10);
		cached_secs = secs;
	}
	memcpy(b, cached, 20);
	b[20] = '.';
	for (i = 28; i > 21; i -= 2, frac /= 100)
		memcpy(b + i, writer_pairs + frac % 100 * 2, 2);
	b[21] = (char)('0' + frac);
	b[30] = 'Z';
	b[31] = '"';
	return b + JSON_TIME_LEN;
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

/* One field, ["name","value"], after a comma unless first, at *dp,
 * which the caller's run of fields has room for up to *room.  A field
 * of usual size goes in one step: room for both strings is made at
 * once. */
static inline __attribute__((always_inline)) void
json_field(struct writer_line *out, uint8_t **dp, uint8_t **room,
	   const struct writer_msgbuf *b, const struct http_header *h, bool first)
{
	const uint8_t *np, *vp, *nlim, *vlim;
	size_t nn = writer_slice(b, h->name_off, h->name_len, &np, &nlim);
	size_t vn = writer_slice(b, h->value_off, h->value_len, &vp, &vlim);
	size_t need = 6 * (nn + vn) + 2 * 16 + 7;
	uint8_t *d = *dp;

	if (nn + vn > WRITER_STEP || (size_t)(*room - d) < need) {
		writer_commit(out, (char *)d);
		if (nn + vn > WRITER_STEP) {
			if (!first)
				writer_putc(out, ',');
			writer_putc(out, '[');
			json_str_lim(out, np, nn, nlim);
			writer_putc(out, ',');
			json_str_lim(out, vp, vn, vlim);
			writer_putc(out, ']');
			*dp = (uint8_t *)out->buf + out->len;
			*room = (uint8_t *)out->buf + out->cap;
			return;
		}
		d = (uint8_t *)writer_reserve(out, need);
		*room = (uint8_t *)out->buf + out->cap;
	}
	if (!first)
		*d++ = ',';
	*d++ = '[';
	*d++ = '"';
	writer_put_slice(&d, np, nn, nlim, json_escape, true);
	*d++ = '"';
	*d++ = ',';
	*d++ = '"';
	writer_put_slice(&d, vp, vn, vlim, json_escape, true);
	*d++ = '"';
	*d++ = ']';
	*dp = d;
}

/* The fields, without the brackets: the caller writes those with what
 * goes around them.  The line's end and room are kept here, in
 * registers, from one field to the next. */
static void json_fields(struct writer_line *out, const struct http_msg *m,
			const struct http_header *f, size_t n)
{
	uint8_t *d = (uint8_t *)out->buf + out->len;
	uint8_t *room = (uint8_t *)out->buf + out->cap;
	struct writer_msgbuf b;
	size_t i;

	writer_msgbuf_get(m, &b);
	for (i = 0; i < n; i++)
		json_field(out, &d, &room, &b, &f[i], i == 0);
	writer_commit(out, (char *)d);
}

static void json_headers(struct writer_line *out, const struct http_msg *m)
{
	WRITER_LIT(out, "\"headers\":[");
	json_fields(out, m, m->hdrs, m->nhdrs);
	if (!m->ntrailers && !m->head_truncated && !m->hdrs_incomplete &&
	    !m->hdrs_undecoded && m->complete) {
		/* The usual case, in one copy. */
		WRITER_LIT(out, "],\"trailers\":[],\"headers_truncated\":false,"
				"\"headers_incomplete\":false,\"headers_undecoded\":0,"
				"\"complete\":true");
		return;
	}
	WRITER_LIT(out, "],\"trailers\":[");
	json_fields(out, m, m->trailers, m->ntrailers);
	WRITER_LIT(out, "],\"headers_truncated\":");
	json_bool(out, m->head_truncated);
	/* HTTP/2 with the HPACK table state unknown (issue 11). */
	WRITER_LIT(out, ",\"headers_incomplete\":");
	json_bool(out, m->hdrs_incomplete);
	WRITER_LIT(out, ",\"headers_undecoded\":");
	writer_put_u64(out, m->hdrs_undecoded);
	WRITER_LIT(out, ",\"complete\":");
	json_bool(out, m->complete);
}

/* The keys of a preview: ,"KEY":..,"KEY_encoding":..,"KEY_truncated":..
 * (literals, so that each is one copy). */
struct json_keys {
	const char *open, *text, *base64;
	size_t open_len, text_len, base64_len;
};
#define JSON_KEYS(k)                                                          \
	{ .open = ",\"" k "\":", .open_len = sizeof(",\"" k "\":") - 1,          \
	  .text = ",\"" k "_encoding\":\"text\",\"" k "_truncated\":",            \
	  .text_len = sizeof(",\"" k "_encoding\":\"text\",\"" k "_truncated\":") - 1, \
	  .base64 = ",\"" k "_encoding\":\"base64\",\"" k "_truncated\":",        \
	  .base64_len = sizeof(",\"" k "_encoding\":\"base64\",\"" k "_truncated\":") - 1 }
static const struct json_keys body_keys = JSON_KEYS("body");
static const struct json_keys payload_keys = JSON_KEYS("payload");

/* A preview: text when it reads as text, else base64.  Inlined, so
 * that the keys' lengths are known and each is copied inline. */
static inline __attribute__((always_inline)) void
json_preview(struct writer_line *out, const struct writer_body *b,
	     const struct json_keys *k)
{
	char *d;

	writer_put(out, k->open, k->open_len);
	if (b->text) {
		json_str_lim(out, b->data, b->text_len, b->lim);
		d = writer_reserve(out, k->text_len + 8);
		memcpy(d, k->text, k->text_len);
		d += k->text_len;
	} else {
		json_base64(out, b->data, b->len);
		d = writer_reserve(out, k->base64_len + 8);
		memcpy(d, k->base64, k->base64_len);
		d += k->base64_len;
	}
	d = b->truncated ? WRITER_LIT_AT(d, "true") : WRITER_LIT_AT(d, "false");
	writer_commit(out, d);
}

/* A body's preview as json_preview() shows one that reads as text, in
 * one pass that escapes it and tells whether it is text: false, with
 * nothing written, when it is not (then b->text is to be found first),
 * or too long to be written in one step. */
static bool json_text_preview(struct writer_line *out, const struct writer_body *b,
			      const struct json_keys *k)
{
	bool text = true;
	uint8_t *d;

	if (b->len > WRITER_STEP)
		return false;
	d = (uint8_t *)writer_reserve(out, k->open_len + 6 * b->len + 16 + 2 +
					       k->text_len + 5);
	memcpy(d, k->open, k->open_len);
	d += k->open_len;
	*d++ = '"';
	json_escape_as(&d, b->data, b->data + b->len, b->data + b->len, b->lim, &text);
	if (!text)
		return false;
	*d++ = '"';
	memcpy(d, k->text, k->text_len);
	d += k->text_len;
	d = (uint8_t *)(b->truncated ? WRITER_LIT_AT((char *)d, "true")
				     : WRITER_LIT_AT((char *)d, "false"));
	writer_commit(out, (char *)d);
	return true;
}

static void json_body(struct writer_line *out, const struct http_msg *m,
		      const struct sink_config *o)
{
	struct writer_body b;
	char *d;

	if (!m->body_size && !m->preview_len && !m->preview_truncated &&
	    !m->preview_decoded && !m->body_missing && !m->decode_error &&
	    !m->anomalies) {
		/* No body (a GET): what writer_body_get() would say of it,
		 * in one copy. */
		WRITER_LIT(out, ",\"body_size\":0,\"body\":\"\",\"body_encoding\":\"text\","
				"\"body_truncated\":false,\"body_missing\":0,"
				"\"body_decoded\":null,\"decode_error\":null,"
				"\"anomalies\":[]");
		return;
	}
	writer_body_view(m, o->max_body, &b);
	d = writer_reserve(out, 64);
	d = WRITER_LIT_AT(d, ",\"body_size\":");
	writer_commit(out, writer_fmt_u64(d, m->body_size));
	if (!json_text_preview(out, &b, &body_keys)) {
		writer_body_text(&b);
		json_preview(out, &b, &body_keys);
	}
	if (!m->body_missing && !b.coding && !m->decode_error && !m->anomalies) {
		WRITER_LIT(out, ",\"body_missing\":0,\"body_decoded\":null,"
				"\"decode_error\":null,\"anomalies\":[]");
		return;
	}
	WRITER_LIT(out, ",\"body_missing\":");
	writer_put_u64(out, m->body_missing);
	WRITER_LIT(out, ",\"body_decoded\":");
	if (b.coding)
		json_str(out, (const uint8_t *)b.coding, b.coding_len);
	else
		WRITER_LIT(out, "null");
	WRITER_LIT(out, ",\"decode_error\":");
	json_cstr(out, m->decode_error);
	if (!m->anomalies) {
		WRITER_LIT(out, ",\"anomalies\":[]");
		return;
	}
	WRITER_LIT(out, ",\"anomalies\":[");
	for (int a = 0, n = 0; a < HTTP_ANOM_MAX; a++) {
		if (!(m->anomalies & (1u << a)))
			continue;
		if (n++)
			writer_putc(out, ',');
		writer_putc(out, '"');
		writer_puts(out, http_anomaly_name(a));
		writer_putc(out, '"');
	}
	writer_putc(out, ']');
}

/* pre (one byte: what goes before), then "version":"X.Y", in one room. */
static void json_version(struct writer_line *out, const struct http_msg *m,
			 const char *pre)
{
	char *d = writer_reserve(out, 64);

	*d++ = *pre;
	if (m->version_major == 1 && m->version_minor == 1) {
		writer_commit(out, WRITER_LIT_AT(d, "\"version\":\"1.1\","));
		return;
	}
	d = WRITER_LIT_AT(d, "\"version\":\"");
	d = writer_fmt_int(d, m->version_major);
	*d++ = '.';
	d = writer_fmt_int(d, m->version_minor);
	writer_commit(out, WRITER_LIT_AT(d, "\","));
}

static void json_request(struct writer_line *out, const struct http_msg *m,
			 const struct sink_config *o)
{
	if (!m->present) {
		WRITER_LIT(out, "null");
		return;
	}
	if (m->unknown & HTTP_U_METHOD)
		WRITER_LIT(out, "{\"method\":null");
	else
		JSON_SLICE(out, "{\"method\":", m, m->method_off, m->method_len);
	if (m->unknown & HTTP_U_TARGET)
		WRITER_LIT(out, ",\"target\":null");
	else
		JSON_SLICE(out, ",\"target\":", m, m->target_off, m->target_len);
	json_version(out, m, ",");
	json_headers(out, m);
	json_body(out, m, o);
	writer_putc(out, '}');
}

static void json_response(struct writer_line *out, const struct http_msg *m,
			  const struct sink_config *o)
{
	char *d;

	if (!m->present) {
		WRITER_LIT(out, "null");
		return;
	}
	json_version(out, m, "{");
	d = writer_reserve(out, 64);
	d = WRITER_LIT_AT(d, "\"status\":");
	if (m->unknown & HTTP_U_STATUS)
		d = WRITER_LIT_AT(d, "null");
	else
		d = writer_fmt_int(d, m->status);
	writer_commit(out, d);
	JSON_SLICE(out, ",\"reason\":", m, m->reason_off, m->reason_len);
	writer_putc(out, ',');
	json_headers(out, m);
	json_body(out, m, o);
	writer_putc(out, '}');
}

/* A gRPC call (issue 11), or null. */
static void json_grpc(struct writer_line *out, const struct txn *t)
{
	const struct txn_grpc *g = t->grpc;
	const char *name;

	if (!g) {
		WRITER_LIT(out, "null");
		return;
	}
	WRITER_LIT(out, "{\"service\":");
	if (g->service_len)
		JSON_SLICE(out, "", &t->req, g->service_off, g->service_len);
	else
		WRITER_LIT(out, "null");
	WRITER_LIT(out, ",\"method\":");
	if (g->method_len)
		JSON_SLICE(out, "", &t->req, g->method_off, g->method_len);
	else
		WRITER_LIT(out, "null");
	WRITER_LIT(out, ",\"status\":");
	if (g->status >= 0)
		writer_put_int(out, g->status);
	else
		WRITER_LIT(out, "null");
	WRITER_LIT(out, ",\"status_name\":");
	name = txn_grpc_status_name(g->status);
	json_cstr(out, name);
	WRITER_LIT(out, ",\"message\":");
	json_cstr(out, g->message);
	WRITER_LIT(out, ",\"request_messages\":");
	writer_put_u64(out, g->msgs[0]);
	WRITER_LIT(out, ",\"response_messages\":");
	writer_put_u64(out, g->msgs[1]);
	WRITER_LIT(out, ",\"request_preview\":");
	json_cstr(out, g->preview[0]);
	WRITER_LIT(out, ",\"response_preview\":");
	json_cstr(out, g->preview[1]);
	writer_putc(out, '}');
}

/* Per thread: a sink formats on its caller's. */
static _Thread_local struct writer_memo json_memo;

/* What every record begins with: when, who, and the connection. */
static void json_conn(struct writer_line *out, const struct conn_info *c,
		      uint64_t ns)
{
	struct writer_memo_slot *slot;
	unsigned drains;
	size_t start;
	bool hit;
	char *d;

	d = writer_reserve(out, sizeof("{\"ts\":") - 1 + JSON_TIME_LEN + WRITER_MEMO_MAX);
	d = WRITER_LIT_AT(d, "{\"ts\":");
	d = json_time(d, ns);
	slot = writer_memo_find(&json_memo, c, &hit);
	if (hit) {
		memcpy(d, slot->buf, slot->len);
		writer_commit(out, d + slot->len);
		return;
	}
	writer_commit(out, d);
	start = out->len;
	drains = out->drains;
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
	writer_memo_keep(slot, c, out, start, drains);
}

/* A number or null at d (room for 20 bytes); the end. */
static char *json_opt_u64(char *d, bool known, uint64_t v)
{
	return known ? writer_fmt_u64(d, v) : WRITER_LIT_AT(d, "null");
}

static void json_txn(struct writer_line *out, const struct txn *t,
		     const struct sink_config *o)
{
	uint64_t ns = 0;
	const char *name;
	bool known;
	size_t n;
	char *d;

	json_conn(out, &t->conn, txn_time(t, o->clock_offset_ns));
	/* The protocol, the stream, up to the request: one run. */
	name = txn_proto_name(t);
	n = strlen(name);
	d = writer_reserve(out, 96 + n);
	d = WRITER_LIT_AT(d, ",\"protocol\":\"");
	memcpy(d, name, n);
	d += n;
	if (t->proto != TXN_H2 && !t->pushed) {
		d = WRITER_LIT_AT(d, "\",\"stream_id\":null,\"pushed\":false,\"request\":");
	} else {
		d = WRITER_LIT_AT(d, "\",\"stream_id\":");
		d = json_opt_u64(d, t->proto == TXN_H2, t->stream_id);
		d = WRITER_LIT_AT(d, ",\"pushed\":");
		d = t->pushed ? WRITER_LIT_AT(d, "true") : WRITER_LIT_AT(d, "false");
		d = WRITER_LIT_AT(d, ",\"request\":");
	}
	writer_commit(out, d);
	json_request(out, &t->req, o);
	WRITER_LIT(out, ",\"response\":");
	json_response(out, &t->resp, o);
	/* The rest, but a gRPC call and an error, in one run. */
	d = writer_reserve(out, 256);
	if (!t->interim_status && !t->upgraded) {
		d = WRITER_LIT_AT(d, ",\"interim_status\":null,\"upgraded\":false,\"latency_ns\":");
	} else {
		d = WRITER_LIT_AT(d, ",\"interim_status\":");
		d = json_opt_u64(d, t->interim_status, (uint64_t)t->interim_status);
		d = WRITER_LIT_AT(d, ",\"upgraded\":");
		d = t->upgraded ? WRITER_LIT_AT(d, "true") : WRITER_LIT_AT(d, "false");
		d = WRITER_LIT_AT(d, ",\"latency_ns\":");
	}
	known = txn_latency(t, &ns);
	d = json_opt_u64(d, known, ns);
	d = WRITER_LIT_AT(d, ",\"ttfb_ns\":");
	known = txn_ttfb(t, &ns);
	d = json_opt_u64(d, known, ns);
	if (!t->grpc && !t->error) {
		d = WRITER_LIT_AT(d, ",\"grpc\":null,\"error\":null}\n");
		writer_commit(out, d);
		return;
	}
	writer_commit(out, d);
	WRITER_LIT(out, ",\"grpc\":");
	json_grpc(out, t);
	WRITER_LIT(out, ",\"error\":");
	json_cstr(out, t->error);
	WRITER_LIT(out, "}\n");
}

int json_format_txn(FILE *f, const struct txn *t, const struct sink_config *o)
{
	struct writer_line line;

	writer_begin(&line, f);
	json_txn(&line, t, o);
	return writer_end(&line);
}

/* A WebSocket message: the connection, then what it was.  The payload
 * is text when it reads as text, else base64, as bodies are. */
static void json_ws(struct writer_line *out, const struct ws_msg *m,
		    const struct sink_config *o)
{
	struct writer_body b;

	writer_ws_payload(m, o->max_body, &b);
	json_conn(out, &m->conn, txn_realtime(m->first_ts, o->clock_offset_ns));
	WRITER_LIT(out, ",\"protocol\":\"websocket\",\"direction\":");
	if (m->dir == HS_DIR_SEND)
		WRITER_LIT(out, "\"send\"");
	else
		WRITER_LIT(out, "\"recv\"");
	WRITER_LIT(out, ",\"from\":");
	if (m->from_client)
		WRITER_LIT(out, "\"client\"");
	else
		WRITER_LIT(out, "\"server\"");
	WRITER_LIT(out, ",\"opcode\":");
	json_cstr(out, ws_opcode_name(m->opcode));
	WRITER_LIT(out, ",\"frames\":");
	writer_put_u64(out, m->frames);
	WRITER_LIT(out, ",\"masked\":");
	json_bool(out, m->masked);
	WRITER_LIT(out, ",\"compressed\":");
	json_bool(out, m->compressed);
	WRITER_LIT(out, ",\"size\":");
	writer_put_u64(out, m->size);
	WRITER_LIT(out, ",\"missing\":");
	writer_put_u64(out, m->missing);
	json_preview(out, &b, &payload_keys);
	WRITER_LIT(out, ",\"close_code\":");
	writer_commit(out, json_opt_u64(writer_reserve(out, 20), m->close_code >= 0,
					(uint64_t)m->close_code));
	WRITER_LIT(out, ",\"error\":");
	json_cstr(out, m->error);
	WRITER_LIT(out, "}\n");
}

int json_format_ws(FILE *f, const struct ws_msg *m, const struct sink_config *o)
{
	struct writer_line line;

	writer_begin(&line, f);
	json_ws(&line, m, o);
	return writer_end(&line);
}

static const struct writer_fmt json_fmt = { SINK_JSON, json_txn, json_ws };

const struct sink_ops json_sink = WRITER_SINK("json", &json_fmt);
