/* output.h -- output writers: one transaction as readable text or as a JSON Lines object. */
#ifndef HS_OUTPUT_H
#define HS_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* event.h uses the kernel's fixed-width types and, being shared with the
 * probe, includes nothing itself. */
#include <linux/types.h>

#include "core/txn.h"

enum output_format { OUTPUT_TEXT, OUTPUT_JSON };

struct output_opts {
	enum output_format format;
	size_t max_body;	 /* preview bytes shown; the txn's preview
				  * never holds more.  0 shows no body bytes
				  * (sizes and flags are still written). */
	int64_t clock_offset_ns; /* add to CLOCK_MONOTONIC ns to get
				  * UNIX-epoch ns (realtime) */
};

/* Buffer of an output stream: large, so that a busy trace costs one
 * write(2) per 256 KiB rather than one per line. */
#define OUTPUT_BUF_SIZE (256 * 1024)

struct output;

/* Opens path for writing ("-" or NULL = stdout).  A path is opened with
 * O_NOFOLLOW and created with mode 0600 (traffic may hold secrets); a
 * regular file is truncated, a FIFO or character device is written as
 * is, anything else fails with EINVAL.  stdout is flushed, then written
 * through a duplicate of fd 1 so that the stream and its buffer are owned
 * here.  When the target is a terminal every transaction is flushed as it
 * is written; otherwise the caller should call output_flush() when it
 * goes idle (e.g. after each poll batch).  Returns NULL and sets errno on
 * failure.  opts is copied. */
struct output *output_open(const char *path, const struct output_opts *opts);
/* Formats one transaction.  A write error is remembered and reported by
 * the next output_flush(). */
void output_txn(struct output *o, const struct txn *t);
/* Returns 0, or -errno of the first write error since the open. */
int output_flush(struct output *o);
/* Flushes and closes; accepts NULL.  Call output_flush() first to learn
 * about errors. */
void output_close(struct output *o);

/* The two formatters, exported for tests.  They write one transaction
 * (text: a block ending in a blank line; JSON: exactly one line) and
 * return 0, or -errno (-EIO when unknown) if the stream is in error. */
int text_format_txn(FILE *f, const struct txn *t, const struct output_opts *o);
int json_format_txn(FILE *f, const struct txn *t, const struct output_opts *o);

/* Helpers shared by text.c and json.c (implemented in output.c). */

/* Where a writer gathers a transaction before it reaches stdio.  A line
 * is made of many small pieces (a quote, a comma, a number); each costs a
 * store here, where a call into stdio costs a hundred instructions or so.
 * output_line_end() hands the line on in one fwrite; a transaction larger
 * than the buffer goes in several. */
#define OUTPUT_LINE_MAX 8192
struct output_line {
	FILE *f;
	size_t len; /* bytes waiting in buf */
	char buf[OUTPUT_LINE_MAX];
};

static inline void output_line_begin(struct output_line *l, FILE *f)
{
	l->f = f;
	l->len = 0;
}

/* Writes what waits to l->f; returns 0, or -errno (-EIO when unknown) if
 * the stream is in error.  The caller holds the stream's lock. */
int output_line_end(struct output_line *l);

/* For output_put(): a piece that does not fit in what is left. */
void output_put_slow(struct output_line *l, const void *p, size_t n);

/* Writes what waits to l->f, and empties l. */
void output_line_drain(struct output_line *l);

/* Makes room for n bytes (n <= OUTPUT_LINE_MAX) and returns where they
 * go: the caller writes there, then sets l->len to the end of what it
 * wrote. */
static inline char *output_reserve(struct output_line *l, size_t n)
{
	if (n > sizeof(l->buf) - l->len)
		output_line_drain(l);
	return l->buf + l->len;
}

static inline void output_put(struct output_line *l, const void *p, size_t n)
{
	if (n > sizeof(l->buf) - l->len) {
		output_put_slow(l, p, n);
		return;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

static inline void output_putc(struct output_line *l, char c)
{
	if (l->len == sizeof(l->buf))
		output_put_slow(l, &c, 1);
	else
		l->buf[l->len++] = c;
}

static inline void output_puts(struct output_line *l, const char *s)
{
	output_put(l, s, strlen(s));
}

/* A string literal, its length known at compile time. */
#define OUTPUT_LIT(l, s) output_put((l), (s), sizeof(s) - 1)

/* Decimal, without leading zeros. */
void output_put_u64(struct output_line *l, uint64_t v);

/* Byte classes for the writers' scanning, which sees every byte of every
 * header and preview.  Bytes >= 0x80 are in no class: UTF-8 is decoded
 * separately. */
enum {
	OUTPUT_C_JSON = 1, /* goes into a JSON string as is: printable ASCII
			    * but quote and backslash */
	OUTPUT_C_TEXT = 2, /* printed by the text writer as is: printable
			    * ASCII and tab */
	OUTPUT_C_BODY = 4, /* allowed in a body shown as text: printable
			    * ASCII, tab, CR, LF */
};
extern const uint8_t output_byte_class[256];

/* output_span() is inline: the writers call it once per run of plain
 * bytes, and in a JSON body those are a few bytes long. */
#define OUTPUT_BYTES(v) (0x0101010101010101ULL * (v))

/* Flags (high bit) the zero bytes of w, and maybe bytes that follow a
 * zero one in memory (the borrow runs upwards); the lowest flag is
 * exact. */
static inline uint64_t output_word_zero(uint64_t w)
{
	return (w - OUTPUT_BYTES(0x01)) & ~w & OUTPUT_BYTES(0x80);
}

/* Flags the bytes of w that are not printable ASCII, and with json also
 * quotes and backslashes: a byte below 0x20 borrows into its high bit
 * when 0x20 is taken away, one above 0x7e carries into it when 1 is
 * added.  As above, only the lowest flag is sure. */
static inline uint64_t output_word_odd(uint64_t w, bool json)
{
	uint64_t odd = ((w - OUTPUT_BYTES(0x20)) & ~w) | w | (w + OUTPUT_BYTES(0x01));

	odd &= OUTPUT_BYTES(0x80);
	if (json)
		odd |= output_word_zero(w ^ OUTPUT_BYTES('"')) |
		       output_word_zero(w ^ OUTPUT_BYTES('\\'));
	return odd;
}

/* Where in memory the first flagged byte of a word is (on a big-endian
 * machine it may be one flagged in excess: the caller checks). */
static inline size_t output_word_first(uint64_t odd)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_ctzll(odd) / 8;
#else
	return __builtin_clzll(odd) / 8;
#endif
}

/* How many bytes at p, of n, are all in class cls (one class).  Headers
 * and text bodies are mostly printable ASCII: eight bytes are checked at
 * a time, and the table decides about each byte flagged.
 * Every flag is checked, so one flagged in excess (on a big-endian
 * machine the borrow runs towards the first byte) only costs a step. */
static inline size_t output_span(const uint8_t *p, size_t n, uint8_t cls)
{
	bool json = cls & OUTPUT_C_JSON;
	size_t i = 0;
	uint64_t w, odd;

	while (n - i >= sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		odd = output_word_odd(w, json);
		if (!odd) {
			i += sizeof(w);
			continue;
		}
		i += output_word_first(odd);
		if (!(output_byte_class[p[i]] & cls))
			return i;
		i++; /* tab, CR or LF, in a class that has them */
	}
	while (i < n && (output_byte_class[p[i]] & cls))
		i++;
	return i;
}

/* Copies to d the bytes at p, up to stop, that are in class cls, and
 * returns how many.  d has room for stop - p, and bytes past those
 * copied may be written too.  Eight bytes go as one word; the last few
 * go as the word that ends with them, when it is all plain: its first
 * bytes were then copied as they are, just before d, if that was in the
 * same step (begin is where the step started in p). */
static inline size_t output_copy_span(uint8_t *d, const uint8_t *p,
				      const uint8_t *stop, const uint8_t *begin,
				      uint8_t cls)
{
	bool json = cls & OUTPUT_C_JSON;
	size_t i = 0, n = stop - p;
	uint64_t w, odd;

	while (n - i >= sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		memcpy(d + i, &w, sizeof(w));
		odd = output_word_odd(w, json);
		if (odd)
			return i + output_word_first(odd);
		i += sizeof(w);
	}
	if (i < n && (size_t)(stop - begin) >= sizeof(w)) {
		memcpy(&w, stop - sizeof(w), sizeof(w));
		if (!output_word_odd(w, json)) {
			memcpy(d + n - sizeof(w), &w, sizeof(w));
			return n;
		}
	}
	for (; i < n && (output_byte_class[p[i]] & cls); i++)
		d[i] = p[i];
	return i;
}

/* A slice of m->buf as bytes; empty when it does not lie inside buf, so
 * that a parser bug cannot make a writer read out of bounds. */
static inline size_t output_slice(const struct http_msg *m, uint32_t off,
				  uint32_t len, const uint8_t **p)
{
	if (!m->buf || off > m->buf_len || len > m->buf_len - off) {
		*p = (const uint8_t *)"";
		return 0;
	}
	*p = (const uint8_t *)m->buf + off;
	return len;
}

/* Length of the valid UTF-8 sequence at p (1-4), 0 if p[0] cannot start
 * one, or -1 if p[0..n) is a valid but incomplete prefix.  Overlong
 * forms, surrogates and code points past U+10FFFF are invalid.  n > 0.
 * *cp receives the code point when the result is positive. */
int output_utf8_len(const uint8_t *p, size_t n, uint32_t *cp);

/* Code points neither writer lets through raw, though valid: DEL and
 * C1 controls (a terminal acts on them, e.g. U+009B is CSI), and those
 * that rewrite how a line reads -- bidi marks, embeddings, overrides and
 * isolates (the "Trojan Source" trick) and the Unicode line separators. */
static inline bool output_cp_unsafe(uint32_t cp)
{
	return (cp >= 0x7f && cp < 0xa0) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* What the writers show of a body. */
struct output_body {
	const uint8_t *data; /* the preview */
	size_t len;	     /* bytes shown (<= max_body) */
	bool text;	     /* valid UTF-8 with no controls but \t \r \n */
	size_t text_len;     /* when text: len minus an incomplete UTF-8
			      * tail cut off by the preview cap */
	bool truncated;	     /* the body had more than is shown */
	const char *coding;  /* "gzip"/"deflate"/other when preview_decoded,
			      * else NULL; points into the message or a
			      * static string */
	size_t coding_len;
};
void output_body_get(const struct http_msg *m, const struct output_opts *o,
		     struct output_body *b);

/* Formats "1.2.3.4:80" or "[::1]:80" into buf; returns false (and writes
 * "?") when the family is unknown. */
#define OUTPUT_ADDR_LEN 56
bool output_addr_str(const struct hs_addr *a, char *buf);

#endif
