/* protobuf.c -- schema-less preview of a protobuf message (field numbers and values) as one line of text.
 *
 * The wire format (protobuf's encoding guide): a message is a run of
 * fields, each a varint tag (field number << 3 | wire type) and a value:
 * a varint (type 0), 8 bytes (1), a varint length and that many bytes
 * (2), or 4 bytes (5).  Types 3 and 4 (groups) are deprecated and taken
 * as "not a message".  Without the schema a length-delimited value may
 * be a string, bytes or a nested message; it is shown nested when it
 * parses as one, unless it reads as text that does not begin with a
 * control byte (which every nested field 1 or 2 does).
 */
#include "proto/protobuf.h"

#include <stdio.h>
#include <string.h>

/* Protobuf's limits: varints are at most 10 bytes, field numbers at most
 * 2^29 - 1. */
#define PB_VARINT_MAX 10
#define PB_FIELD_MAX ((1u << 29) - 1)

/* Reads a varint at buf[*pos]; returns 0, or -1 if it is cut short or too
 * long. */
static int varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < PB_VARINT_MAX && *pos + i < len; i++) {
		v |= (uint64_t)(buf[*pos + i] & 0x7f) << (7 * i);
		if (!(buf[*pos + i] & 0x80)) {
			*pos += i + 1;
			*out = v;
			return 0;
		}
	}
	return -1;
}

struct field {
	uint32_t num;
	uint8_t type;
	uint64_t v;	    /* varint, fixed32, fixed64 */
	const uint8_t *data; /* length-delimited */
	size_t len;
};

/* Reads the field at buf[*pos]: 0, or -1 if it is not a valid field
 * within len. */
static int field_next(const uint8_t *buf, size_t len, size_t *pos,
		      struct field *f)
{
	uint64_t tag, n;
	size_t p = *pos;

	if (varint(buf, len, &p, &tag) || (tag >> 3) < 1 || (tag >> 3) > PB_FIELD_MAX)
		return -1;
	f->num = (uint32_t)(tag >> 3);
	f->type = tag & 7;
	switch (f->type) {
	case 0:
		if (varint(buf, len, &p, &f->v))
			return -1;
		break;
	case 1:
	case 5:
		n = f->type == 1 ? 8 : 4;
		if (len - p < n)
			return -1;
		f->v = 0;
		while (n--)
			f->v |= (uint64_t)buf[p + n] << (8 * n);
		p += f->type == 1 ? 8 : 4;
		break;
	case 2:
		if (varint(buf, len, &p, &n) || n > len - p)
			return -1;
		f->data = buf + p;
		f->len = (size_t)n;
		p += (size_t)n;
		break;
	default:
		return -1;
	}
	*pos = p;
	return 0;
}

bool pb_is_message(const uint8_t *buf, size_t len)
{
	struct field f;
	size_t pos = 0;

	while (pos < len)
		if (field_next(buf, len, &pos, &f))
			return false;
	return true;
}

/* The length of the UTF-8 sequence at s (RFC 3629), or 0 if invalid. */
static size_t utf8_len(const uint8_t *s, size_t len)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/* Printable UTF-8: no control characters but tab, CR and LF. */
static bool is_text(const uint8_t *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
		if (s[i] == 0x7f)
			return false;
		n = utf8_len(s + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

/* The output: cap bytes, the last kept for the NUL; full once something
 * did not fit. */
struct sb {
	char *out;
	size_t cap, len;
	bool full;
};

static void put(struct sb *b, const char *s, size_t n)
{
	if (b->full)
		return;
	if (n >= b->cap - b->len) {
		b->full = true;
		return;
	}
	memcpy(b->out + b->len, s, n);
	b->len += n;
}

static void puts_(struct sb *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_dec(struct sb *b, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);

	put(b, tmp, (size_t)n);
}

/* fixed32 and fixed64 as 0x and 8 or 16 hex digits. */
static void put_fixed(struct sb *b, uint64_t v, int digits)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "0x%0*llx", digits,
			 (unsigned long long)v);

	put(b, tmp, (size_t)n);
}

static void put_text(struct sb *b, const uint8_t *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char esc[4];
	size_t i;

	put(b, "\"", 1);
	for (i = 0; i < len && !b->full; i++) {
		switch (s[i]) {
		case '"':
			put(b, "\\\"", 2);
			break;
		case '\\':
			put(b, "\\\\", 2);
			break;
		case '\n':
			put(b, "\\n", 2);
			break;
		case '\r':
			put(b, "\\r", 2);
			break;
		case '\t':
			put(b, "\\t", 2);
			break;
		default:
			if (s[i] < 0x20 || s[i] == 0x7f) {
				esc[0] = '\\';
				esc[1] = 'x';
				esc[2] = hex[s[i] >> 4];
				esc[3] = hex[s[i] & 15];
				put(b, esc, 4);
			} else {
				put(b, (const char *)s + i, 1);
			}
		}
	}
	put(b, "\"", 1);
}

static void put_hex(struct sb *b, const uint8_t *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char two[2];
	size_t i;

	put(b, "<", 1);
	for (i = 0; i < len && !b->full; i++) {
		two[0] = hex[s[i] >> 4];
		two[1] = hex[s[i] & 15];
		put(b, two, 2);
	}
	put(b, ">", 1);
}

static void put_message(struct sb *b, const uint8_t *buf, size_t len,
			int depth, bool *cut);

/* A length-delimited field at buf[pos] whose value runs past len: f gets
 * what there is of it. */
static bool cut_field(const uint8_t *buf, size_t len, size_t pos,
		      struct field *f)
{
	uint64_t tag, n;

	if (varint(buf, len, &pos, &tag) || (tag & 7) != 2 || (tag >> 3) < 1 ||
	    (tag >> 3) > PB_FIELD_MAX || varint(buf, len, &pos, &n) || n <= len - pos)
		return false;
	f->num = (uint32_t)(tag >> 3);
	f->type = 2;
	f->data = buf + pos;
	f->len = len - pos;
	return true;
}

static void put_field(struct sb *b, const struct field *f, int depth)
{
	bool text, cut = false;

	put_dec(b, f->num);
	switch (f->type) {
	case 0:
		put(b, ": ", 2);
		put_dec(b, f->v);
		return;
	case 1:
	case 5:
		put(b, ": ", 2);
		put_fixed(b, f->v, f->type == 1 ? 16 : 8);
		return;
	}
	text = is_text(f->data, f->len);
	if (f->len && depth < PB_DEPTH_MAX && pb_is_message(f->data, f->len) &&
	    (!text || f->data[0] < 0x20)) {
		put(b, " {", 2);
		put_message(b, f->data, f->len, depth + 1, &cut);
		put(b, "}", 1);
		return;
	}
	put(b, ": ", 2);
	if (text)
		put_text(b, f->data, f->len);
	else
		put_hex(b, f->data, f->len);
}

/* The fields of buf, space-separated; *cut is set if a field did not
 * parse (the rest is not shown).  At the top a field may be cut only when
 * buf is the start of a longer message: what there is of a
 * length-delimited field cut short is shown. */
static void put_message(struct sb *b, const uint8_t *buf, size_t len,
			int depth, bool *cut)
{
	struct field f;
	size_t pos = 0;
	bool first = true;

	while (pos < len && !b->full) {
		if (field_next(buf, len, &pos, &f)) {
			*cut = true;
			break;
		}
		if (!first)
			put(b, " ", 1);
		first = false;
		put_field(b, &f, depth);
	}
	if (*cut && depth == 0 && cut_field(buf, len, pos, &f)) {
		if (!first)
			put(b, " ", 1);
		put_dec(b, f.num);
		put(b, ": ", 2);
		if (is_text(f.data, f.len))
			put_text(b, f.data, f.len);
		else
			put_hex(b, f.data, f.len);
	}
}

size_t pb_preview(const uint8_t *buf, size_t len, bool truncated, char *out,
		  size_t cap)
{
	struct sb b = { .out = out, .cap = cap };
	bool cut = false;
	size_t pos = 0;
	struct field f;

	if (!cap)
		return 0;
	if (!len) {
		puts_(&b, truncated ? "..." : "{}");
	} else if (pb_is_message(buf, len) ||
		   (truncated && (field_next(buf, len, &pos, &f) == 0 ||
				  cut_field(buf, len, 0, &f)))) {
		put_message(&b, buf, len, 0, &cut);
	} else if (is_text(buf, len)) {
		put_text(&b, buf, len);
	} else {
		put_hex(&b, buf, len);
	}
	if (b.full || (truncated && len)) {
		/* " ..." after what fits, not inside a UTF-8 sequence. */
		const char *ell = " ...";
		size_t el = 4;

		if (b.len + el >= cap) {
			b.len = cap > el ? cap - el - 1 : 0;
			while (b.len && ((uint8_t)out[b.len] & 0xc0) == 0x80)
				b.len--;
		}
		while (b.len && out[b.len - 1] == ' ')
			b.len--;
		if (!b.len)
			ell = "...", el = 3;
		if (el < cap) {
			memcpy(out + b.len, ell, el);
			b.len += el;
		}
	}
	out[b.len] = '\0';
	return b.len;
}
