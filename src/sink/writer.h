/* writer.h -- what the text and JSON sinks share, private to the sink layer: the output stream, the line buffer, escaping, numbers, slices, addresses and the body view. */
#ifndef HS_WRITER_H
#define HS_WRITER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* event.h uses the kernel's fixed-width types and, being shared with the
 * probe, includes nothing itself. */
#include <linux/types.h>

#include "core/txn.h"
#include "sink/sink.h"

/* --- the output stream: a sink's state ------------------------------ */

/* Buffer of an output stream: large, so that a busy trace costs one
 * write(2) per 256 KiB rather than one per line. */
#define WRITER_BUF_SIZE (256 * 1024)

struct writer_line;

/* How a writing sink formats records: each op appends one record to a
 * line (below), which the writer hands to its output. */
struct writer_fmt {
	enum sink_format format; /* the -f that chooses it */
	void (*txn)(struct writer_line *out, const struct txn *t,
		    const struct sink_config *cfg);
	void (*ws)(struct writer_line *out, const struct ws_msg *m,
		   const struct sink_config *cfg);
};

/* The ops of a writing sink (sink.h): fmt, a struct writer_fmt, is its
 * arg.  wanted() when -f names fmt->format. */
#define WRITER_SINK(sink_name, fmt)                                          \
	{ .name = (sink_name), .arg = (fmt), .wanted = writer_wanted,         \
	  .open = writer_open, .txn = writer_txn, .ws = writer_ws,             \
	  .flush = writer_flush, .close = writer_close }

struct writer;

/* Opens cfg->output for writing ("-" or NULL = stdout).  A path is
 * opened with O_NOFOLLOW and created with mode 0600 (traffic may hold
 * secrets); a regular file is truncated, a FIFO or character device is
 * written as is, anything else fails with EINVAL.  stdout is flushed,
 * then written through a duplicate of fd 1 so that the fd and its
 * buffer are owned here.  When the target is a terminal every record is
 * flushed as it is written; otherwise the owner should call
 * writer_flush() when it goes idle (e.g. after each poll batch).
 * Returns NULL, with errno set and the reason printed, on failure.  cfg
 * is copied; fmt (a struct writer_fmt) must outlive the writer.  These
 * are a writing sink's ops. */
bool writer_wanted(const struct sink_config *cfg, const void *fmt);
/* The fd writer_open() writes to: a duplicate of stdout, or path
 * opened and checked as said above (also for --har).  -1 and errno on
 * failure. */
int writer_open_fd(const char *path);
void *writer_open(const struct sink_config *cfg, const void *fmt);
/* Formats one transaction.  A write error is remembered and reported by
 * the next writer_flush(). */
void writer_txn(void *w, const struct txn *t);
void writer_ws(void *w, const struct ws_msg *m);
/* Returns 0, or -errno of the first write error since the open. */
int writer_flush(void *w);
/* Flushes and closes; accepts NULL.  Call writer_flush() first to learn
 * about errors. */
void writer_close(void *w);

/* --- the line buffer -------------------------------------------------- */

/* Where a writer gathers records before they reach their output.  A
 * record is made of many small pieces (a quote, a comma, a number); each
 * costs a store here, where a call into stdio costs a hundred
 * instructions or so.  A writing sink's line is its output buffer
 * (WRITER_BUF_SIZE bytes) and goes to its fd with write(2) when full or
 * flushed: no stdio, no lock, no second copy.  A line on a stdio stream
 * (writer_begin(): a record formatted into memory, or the HAR sink)
 * gathers one record in own[] and hands it on in one fwrite; a record
 * larger than that goes in several. */
#define WRITER_LINE_MAX 8192
struct writer_line {
	char *buf;	 /* where bytes gather: own, or the writer's */
	size_t len;	 /* bytes waiting in buf */
	size_t cap;	 /* bytes buf holds, at least WRITER_LINE_MAX */
	unsigned drains; /* times buf was emptied (a record's bytes may
			  * then be partly gone) */
	FILE *f;	 /* where they go: a stream, or when NULL */
	int fd;		 /* this fd */
	int err;	 /* fd: first write error (positive errno), or 0 */
	char own[WRITER_LINE_MAX];
};

/* Locks f (a record is written whole, even with threads) and starts
 * a line on it, in l->own. */
static inline void writer_begin(struct writer_line *l, FILE *f)
{
	errno = 0;
	flockfile(f);
	l->f = f;
	l->buf = l->own;
	l->cap = sizeof(l->own);
	l->len = 0;
	l->drains = 0;
}
/* Writes what waits to l->f and unlocks it; returns 0, or -errno (-EIO
 * when unknown) if the stream is in error. */
int writer_end(struct writer_line *l);

/* For writer_put(): a piece that does not fit in what is left. */
void writer_put_slow(struct writer_line *l, const void *p, size_t n);

/* Writes what waits to the line's output, and empties l. */
void writer_line_drain(struct writer_line *l);

/* Makes room for n bytes (n <= WRITER_LINE_MAX) and returns where they
 * go: the caller writes there, then sets l->len to the end of what it
 * wrote. */
static inline char *writer_reserve(struct writer_line *l, size_t n)
{
	if (n > l->cap - l->len)
		writer_line_drain(l);
	return l->buf + l->len;
}

static inline void writer_put(struct writer_line *l, const void *p, size_t n)
{
	if (n > l->cap - l->len) {
		writer_put_slow(l, p, n);
		return;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

static inline void writer_putc(struct writer_line *l, char c)
{
	if (l->len == l->cap)
		writer_put_slow(l, &c, 1);
	else
		l->buf[l->len++] = c;
}

static inline void writer_puts(struct writer_line *l, const char *s)
{
	writer_put(l, s, strlen(s));
}

/* Writes p[0..n) escaped, in steps of WRITER_STEP bytes straight into
 * the line: escape() turns p[0..stop) (and a little past stop, to end a
 * UTF-8 sequence; end is where the bytes end) into at most
 * grow * (stop - p) + slack bytes at *dp, advances *dp, and returns the
 * next byte.  lim (>= end) is how far the bytes at p may be read: a
 * block of sixteen may be read past end, up to lim, and its extra bytes
 * ignored.  slack must be at least 16, room for such a block.  Text and
 * JSON each have their escape().  Inline, so that the caller's escape()
 * is inlined into it. */
#define WRITER_STEP 1024
typedef const uint8_t *(*writer_escape_fn)(uint8_t **dp, const uint8_t *p,
					     const uint8_t *stop,
					     const uint8_t *end,
					     const uint8_t *lim);
static inline __attribute__((always_inline)) void
writer_put_escaped(struct writer_line *l, const uint8_t *p, size_t n,
		   const uint8_t *lim, writer_escape_fn escape, size_t grow,
		   size_t slack)
{
	const uint8_t *end = p + n, *stop;
	uint8_t *d;

	while (p < end) {
		stop = end - p > WRITER_STEP ? p + WRITER_STEP : end;
		d = (uint8_t *)writer_reserve(l, grow * (stop - p) + slack);
		p = escape(&d, p, stop, end, lim);
		l->len = (char *)d - l->buf;
	}
}

/* A string literal, its length known at compile time. */
#define WRITER_LIT(l, s) writer_put((l), (s), sizeof(s) - 1)

/* The same at d, in room made by writer_reserve(); evaluates to the end.
 * A run of pieces whose sizes are bounded (a record's fixed keys, a
 * number) takes one reservation so, and one writer_commit(): each
 * writer_put() would check the room and store the line's length, and
 * reload both after every byte it stores (a char store may alias the
 * line). */
#define WRITER_LIT_AT(d, s) ((char *)memcpy((d), (s), sizeof(s) - 1) + sizeof(s) - 1)

/* What was written up to d, from writer_reserve(), joins the line. */
static inline void writer_commit(struct writer_line *l, char *d)
{
	l->len = d - l->buf;
}

/* Decimal, without leading zeros: writer_fmt_u64() at d, which has room
 * for 20 bytes, and returns the end. */
char *writer_fmt_u64(char *d, uint64_t v);
void writer_put_u64(struct writer_line *l, uint64_t v);
void writer_put_int(struct writer_line *l, int64_t v);
/* With a sign when negative: room for 21 bytes. */
static inline char *writer_fmt_int(char *d, int64_t v)
{
	if (v < 0) {
		*d++ = '-';
		return writer_fmt_u64(d, -(uint64_t)v);
	}
	return writer_fmt_u64(d, (uint64_t)v);
}

/* Lowercase hex digits. */
extern const char writer_hex[16];
/* "00" to "99", two digits at 2 * n: two digits per division. */
extern const char writer_pairs[200];



/* Byte classes for the writers' scanning, which sees every byte of every
 * header and preview.  Bytes >= 0x80 are in no class: UTF-8 is decoded
 * separately. */
enum {
	WRITER_C_JSON = 1, /* goes into a JSON string as is: printable ASCII
			    * but quote and backslash */
	WRITER_C_TEXT = 2, /* printed by the text writer as is: printable
			    * ASCII and tab */
	WRITER_C_BODY = 4, /* allowed in a body shown as text: printable
			    * ASCII, tab, CR, LF */
};
extern const uint8_t writer_byte_class[256];

/* writer_span() is inline: the writers call it once per run of plain
 * bytes, and in a JSON body those are a few bytes long. */
#define WRITER_BYTES(v) (0x0101010101010101ULL * (v))

/* Flags (high bit) the zero bytes of w, and maybe bytes that follow a
 * zero one in memory (the borrow runs upwards); the lowest flag is
 * exact. */
static inline uint64_t writer_word_zero(uint64_t w)
{
	return (w - WRITER_BYTES(0x01)) & ~w & WRITER_BYTES(0x80);
}

/* Flags the bytes of w that are not printable ASCII, and with json also
 * quotes and backslashes: a byte below 0x20 borrows into its high bit
 * when 0x20 is taken away, one above 0x7e carries into it when 1 is
 * added.  As above, only the lowest flag is sure. */
static inline uint64_t writer_word_odd(uint64_t w, bool json)
{
	uint64_t odd = ((w - WRITER_BYTES(0x20)) & ~w) | w | (w + WRITER_BYTES(0x01));

	odd &= WRITER_BYTES(0x80);
	if (json)
		odd |= writer_word_zero(w ^ WRITER_BYTES('"')) |
		       writer_word_zero(w ^ WRITER_BYTES('\\'));
	return odd;
}

/* Where in memory the first flagged byte of a word is (on a big-endian
 * machine it may be one flagged in excess: the caller checks). */
static inline size_t writer_word_first(uint64_t odd)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_ctzll(odd) / 8;
#else
	return __builtin_clzll(odd) / 8;
#endif
}

#ifdef __SSE2__
/* Flags (bit i for byte i) the bytes of v that the word check above
 * would: not printable ASCII, and with json also quotes and
 * backslashes.  One is added to each byte first, so that one signed
 * comparison takes them all: DEL becomes -128 and 0xff zero, a byte
 * >= 0x80 is negative, and the printable ones go from 0x21 up.  Every
 * flag is exact; the table decides about tab, CR and LF. */
static inline unsigned writer_block_odd(__m128i v, bool json)
{
	__m128i odd = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(1)),
				     _mm_set1_epi8(0x21));

	if (json)
		odd = _mm_or_si128(odd, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
						     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
	return (unsigned)_mm_movemask_epi8(odd);
}

/* Flags the quotes and backslashes of v: the bytes JSON escapes with a
 * backslash alone. */
static inline unsigned writer_block_quotes(__m128i v)
{
	return (unsigned)_mm_movemask_epi8(
		_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
}

/* Writes v, the block at p, to d with a backslash before each byte m
 * flags (some of its quotes and backslashes, m not 0): each is followed
 * by a copy of the sixteen bytes from it, so that the rest of the block
 * goes one byte further on without looking at it again.  p may be read
 * 32 bytes on, d written as far as the block's end plus 16 and one per
 * flag.  Returns the backslashes written. */
static inline size_t writer_block_backslash(uint8_t *d, const uint8_t *p,
					    __m128i v, unsigned m)
{
	size_t extra = 0, k;

	_mm_storeu_si128((__m128i *)d, v);
	do {
		k = __builtin_ctz(m);
		d[k + extra] = '\\';
		_mm_storeu_si128((__m128i *)(d + k + extra + 1),
				 _mm_loadu_si128((const __m128i *)(p + k)));
		extra++;
		m &= m - 1;
	} while (m);
	return extra;
}

/* Whether the CPU has SSSE3 (x86-64 CPUs since about 2006-2011 do; the
 * baseline the program is built for does not promise it), so that
 * writer_quote_run() may be called.  Set before main(); a test may
 * clear it to take the SSE2 way. */
extern bool writer_ssse3;

/* Copies the 16-byte blocks at p to d, each with a backslash before
 * its quotes and backslashes, as JSON escapes them: one shuffle of each
 * half of a block, whatever its count of them (writer_block_backslash()
 * takes a step for each).  Goes on while a whole block is left before
 * stop and p may be read 32 bytes on, and stops before a block with any
 * other byte to escape (a control, DEL, or one past 0x7f).  d may be
 * written as far as writer_block_backslash() writes.  Returns where it
 * stopped in both, by value: a cursor whose address was taken would be
 * kept in memory by the caller's loop. */
struct writer_cursor {
	const uint8_t *p;
	uint8_t *d;
};
struct writer_cursor writer_quote_run(uint8_t *d, const uint8_t *p,
				      const uint8_t *stop, const uint8_t *lim);
#endif

/* How many bytes at p, of n, are all in class cls (one class).  Headers
 * and text bodies are mostly printable ASCII: sixteen bytes are checked
 * at a time where SSE2 is (every x86-64) -- the last few too, as a block
 * of sixteen, when the bytes may be read that far (lim >= p + n) --
 * then eight, and the table decides about each byte flagged.
 * Every flag is checked, so one flagged in excess (on a big-endian
 * machine the borrow runs towards the first byte) only costs a step. */
static inline size_t writer_span(const uint8_t *p, size_t n,
				 const uint8_t *lim, uint8_t cls)
{
	bool json = cls & WRITER_C_JSON;
	size_t i = 0;
	uint64_t w, odd;

#ifdef __SSE2__
	while (n - i >= 16) {
		unsigned m = writer_block_odd(_mm_loadu_si128((const __m128i *)(p + i)), json);

		if (!m) {
			i += 16;
			continue;
		}
		i += __builtin_ctz(m);
		if (!(writer_byte_class[p[i]] & cls))
			return i;
		i++; /* tab, CR or LF, in a class that has them */
	}
	if (i < n && lim - (p + i) >= 16) {
		unsigned m = writer_block_odd(_mm_loadu_si128((const __m128i *)(p + i)), json) &
			     ((1u << (n - i)) - 1);

		for (; m; m &= m - 1)
			if (!(writer_byte_class[p[i + __builtin_ctz(m)]] & cls))
				return i + __builtin_ctz(m);
		return n;
	}
#endif
	while (n - i >= sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		odd = writer_word_odd(w, json);
		if (!odd) {
			i += sizeof(w);
			continue;
		}
		i += writer_word_first(odd);
		if (!(writer_byte_class[p[i]] & cls))
			return i;
		i++; /* tab, CR or LF, in a class that has them */
	}
	while (i < n && (writer_byte_class[p[i]] & cls))
		i++;
	return i;
}

/* Copies to d the bytes at p, up to stop, that are in class cls, and
 * returns how many.  d has room for stop - p + 16, and bytes past those
 * copied may be written too.  Sixteen bytes (SSE2) or eight go as one
 * block.  The last few go as one block of sixteen when the bytes may be
 * read that far (lim: a short header inside its message's buffer), or
 * else as the block that ends with them, when it is all plain: its
 * first bytes were then copied as they are, just before d, if that was
 * in the same step (begin is where the step started in p). */
static inline __attribute__((always_inline)) size_t
writer_copy_span(uint8_t *d, const uint8_t *p,
				      const uint8_t *stop, const uint8_t *begin,
				      const uint8_t *lim, uint8_t cls)
{
	bool json = cls & WRITER_C_JSON;
	size_t i = 0, n = stop - p;
	uint64_t w, odd;

#ifdef __SSE2__
	__m128i v;
	unsigned m;

	while (n - i >= 16) {
		v = _mm_loadu_si128((const __m128i *)(p + i));
		_mm_storeu_si128((__m128i *)(d + i), v);
		m = writer_block_odd(v, json);
		if (m)
			return i + __builtin_ctz(m);
		i += 16;
	}
	if (i < n && lim - (p + i) >= 16) {
		v = _mm_loadu_si128((const __m128i *)(p + i));
		_mm_storeu_si128((__m128i *)(d + i), v);
		m = writer_block_odd(v, json) & ((1u << (n - i)) - 1);
		return m ? i + __builtin_ctz(m) : n;
	}
	if (i < n && (size_t)(stop - begin) >= 16) {
		v = _mm_loadu_si128((const __m128i *)(stop - 16));
		if (!writer_block_odd(v, json)) {
			_mm_storeu_si128((__m128i *)(d + n - 16), v);
			return n;
		}
	}
#endif
	while (n - i >= sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		memcpy(d + i, &w, sizeof(w));
		odd = writer_word_odd(w, json);
		if (odd)
			return i + writer_word_first(odd);
		i += sizeof(w);
	}
	if (i < n && (size_t)(stop - begin) >= sizeof(w)) {
		memcpy(&w, stop - sizeof(w), sizeof(w));
		if (!writer_word_odd(w, json)) {
			memcpy(d + n - sizeof(w), &w, sizeof(w));
			return n;
		}
	}
	for (; i < n && (writer_byte_class[p[i]] & cls); i++)
		d[i] = p[i];
	return i;
}

/* The usual header name or value: shorter than two blocks, readable as
 * many (lim, as for writer_copy_span()), all plain.  Then it is copied
 * to *dp (which has room for 16 bytes, and for 32 when n >= 16) and true
 * returned; else nothing is done.  Two blocks take a date (29 bytes)
 * without a call to the escaping loop. */
static inline __attribute__((always_inline)) bool
writer_copy_short(uint8_t **dp, const uint8_t *p, size_t n,
		  const uint8_t *lim, bool json)
{
#ifdef __SSE2__
	if (n < 16 && lim - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);

		if (!(writer_block_odd(v, json) & ((1u << n) - 1))) {
			_mm_storeu_si128((__m128i *)*dp, v);
			*dp += n;
			return true;
		}
	} else if (n < 32 && lim - p >= 32) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		__m128i w = _mm_loadu_si128((const __m128i *)(p + 16));

		if (!((writer_block_odd(v, json) |
		       writer_block_odd(w, json) << 16) & ((1u << n) - 1))) {
			_mm_storeu_si128((__m128i *)*dp, v);
			_mm_storeu_si128((__m128i *)(*dp + 16), w);
			*dp += n;
			return true;
		}
	}
#endif
	return false;
}

/* A message's buf as the writers read its slices (writer_slice()).  It
 * is taken once for all the fields of a message: each byte a writer
 * stores may alias the message, so that m->buf and its bounds, read at
 * each slice, would be read again after every store. */
struct writer_msgbuf {
	const uint8_t *base; /* m->buf, or "" when it has none */
	size_t len;	     /* m->buf_len, 0 when it has none */
	const uint8_t *end;  /* how far it may be read: its allocation
			      * (buf_cap), past its last slice */
};

static inline void writer_msgbuf_get(const struct http_msg *m,
				     struct writer_msgbuf *b)
{
	if (!m->buf) {
		b->base = b->end = (const uint8_t *)"";
		b->len = 0;
		return;
	}
	b->base = (const uint8_t *)m->buf;
	b->len = m->buf_len;
	b->end = b->base + m->buf_cap;
}

/* A slice of a message's buf as bytes, at *p, and how far they may be
 * read, *lim: past the slice to the end of the allocation.  Empty when
 * it does not lie inside buf, so that a parser bug cannot make a writer
 * read out of bounds. */
static inline size_t writer_slice(const struct writer_msgbuf *b, uint32_t off,
				  uint32_t len, const uint8_t **p,
				  const uint8_t **lim)
{
	/* one comparison: off and len are 32 bits, their sum cannot wrap */
	if ((uint64_t)off + len > b->len) {
		*p = *lim = (const uint8_t *)"";
		return 0;
	}
	*p = b->base + off;
	*lim = b->end;
	return len;
}

/* Writes a slice p[0..n) (from writer_slice(), with its lim) at *dp,
 * which has room for what escape() makes of it plus 16 bytes, and
 * advances *dp: as it is when it is short and plain (the usual header
 * name or value), else through escape() (json: the JSON writer's, else
 * the text writer's).  Both writers show each header's name and value
 * so. */
static inline __attribute__((always_inline)) void
writer_put_slice(uint8_t **dp, const uint8_t *p, size_t n, const uint8_t *lim,
		 writer_escape_fn escape, bool json)
{
	uint8_t *d;

	if (writer_copy_short(dp, p, n, lim, json))
		return;
#ifdef __SSE2__
	if (json && n < 16 && lim - p >= 32) {
		/* A short string whose only odd bytes are quotes and
		 * backslashes (an ETag): no call either. */
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		unsigned keep = (1u << n) - 1, m = writer_block_odd(v, true) & keep;

		if (m == (writer_block_quotes(v) & keep)) {
			*dp += n + writer_block_backslash(*dp, p, v, m);
			return;
		}
	}
#endif
	/* escape() is given a copy: had the caller's cursor been passed,
	 * its address would have been taken, and the cursor kept in
	 * memory and read again after each byte the caller stores. */
	d = *dp;
	escape(&d, p, p + n, p + n, lim);
	*dp = d;
}

/* Length of the valid UTF-8 sequence at p (1-4), 0 if p[0] cannot start
 * one, or -1 if p[0..n) is a valid but incomplete prefix.  Overlong
 * forms, surrogates and code points past U+10FFFF are invalid.  n > 0.
 * *cp receives the code point when the result is positive. */
int writer_utf8_len(const uint8_t *p, size_t n, uint32_t *cp);

/* Code points neither writer lets through raw, though valid: DEL and
 * C1 controls (a terminal acts on them, e.g. U+009B is CSI), and those
 * that rewrite how a line reads -- bidi marks, embeddings, overrides and
 * isolates (the "Trojan Source" trick) and the Unicode line separators. */
static inline bool writer_cp_unsafe(uint32_t cp)
{
	return (cp >= 0x7f && cp < 0xa0) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* --- what a writer printed for a connection --------------------------- */

/* Every record begins with its connection -- process, fd, addresses --
 * the same bytes for every transaction of a kept-alive connection.  A
 * writer keeps what it printed for a few connections (a slot each, by
 * conn_id) and copies those bytes when the conn_info is the same, byte
 * for byte.  Unix sockets are not kept: their names (conn_info.unx) are
 * the stream tracker's and complete later. */
/* 256: a busy server keeps many connections open, and its records come
 * in their turn.  Under 64 kept-alive clients traced at both ends (128
 * connections), 32 slots missed nearly every time: 8,632 instructions
 * a JSON record against 7,283 with 256 (callgrind), and 3.08 against
 * 2.83 us of tracer CPU a transaction live.  A slot is 640 bytes: 160
 * KB a writing thread. */
#define WRITER_MEMO_SLOTS 256
#define WRITER_MEMO_MAX 448 /* bytes kept per connection; longer: not kept */
struct writer_memo_slot {
	struct conn_info key; /* what buf was made from */
	size_t len;	      /* 0: empty */
	char buf[WRITER_MEMO_MAX];
};
struct writer_memo {
	struct writer_memo_slot slot[WRITER_MEMO_SLOTS];
};

/* c's slot in m, NULL when c is not kept; *hit says whether its bytes
 * are c's. */
static inline struct writer_memo_slot *
writer_memo_find(struct writer_memo *m, const struct conn_info *c, bool *hit)
{
	struct writer_memo_slot *s;

	*hit = false;
	if (c->local.family == AF_UNIX || c->remote.family == AF_UNIX)
		return NULL;
	s = &m->slot[c->conn_id % WRITER_MEMO_SLOTS];
	*hit = s->len && !memcmp(&s->key, c, sizeof(*c));
	return s;
}

/* Keeps in s (from writer_memo_find(), may be NULL) what l gathered for
 * c since start, l->len then and drains then d, unless l went to its
 * stream in between or it is too long. */
static inline void writer_memo_keep(struct writer_memo_slot *s,
				    const struct conn_info *c,
				    const struct writer_line *l, size_t start,
				    unsigned d)
{
	if (!s)
		return;
	s->len = 0;
	if (l->drains != d || l->len - start > WRITER_MEMO_MAX)
		return;
	s->key = *c;
	memcpy(s->buf, l->buf + start, l->len - start);
	s->len = l->len - start;
}

/* --- JSON strings (json.c), also for the HAR sink -------------------- */

/* p[0..n) as a JSON string, escaped as the JSON writer does (valid UTF-8
 * and safe on a terminal whatever the bytes). */
void json_put_str(struct writer_line *out, const uint8_t *p, size_t n);
/* p[0..n) in base64 (RFC 4648 section 4), quoted. */
void json_put_base64(struct writer_line *out, const uint8_t *p, size_t n);

/* --- what the writers show of a message ---------------------------- */

/* What the writers show of a body. */
struct writer_body {
	const uint8_t *data; /* the preview */
	size_t len;	     /* bytes shown (<= max_body) */
	const uint8_t *lim;  /* how far data may be read (>= data + len):
			      * the preview's allocation, when known */
	bool text;	     /* valid UTF-8 with no controls but \t \r \n */
	size_t text_len;     /* when text: len minus an incomplete UTF-8
			      * tail cut off by the preview cap */
	bool truncated;	     /* the body had more than is shown */
	const char *coding;  /* "gzip"/"deflate"/other when preview_decoded,
			      * else NULL; points into the message or a
			      * static string */
	size_t coding_len;
};
void writer_body_get(const struct http_msg *m, size_t max_body,
		     struct writer_body *b);
/* writer_body_get() in two: the view, with text still false, then
 * whether it reads as text (a writer that can tell on its way may skip
 * the second). */
void writer_body_view(const struct http_msg *m, size_t max_body,
		      struct writer_body *b);
void writer_body_text(struct writer_body *b);
/* The same view of a WebSocket message's payload. */
void writer_ws_payload(const struct ws_msg *m, size_t max_body,
		       struct writer_body *b);

/* Formats "1.2.3.4:80" or "[::1]:80" into buf; returns false (and writes
 * "?") when the family is unknown. */
#define WRITER_ADDR_LEN 56
bool writer_addr_str(const struct hs_addr *a, char *buf);

/* One end of a connection (local or remote) into buf: writer_addr_str's
 * form, or "unix:NAME" for a Unix socket, NAME as its completed
 * HS_EV_UNIX record has it ("unix:" when unnamed or unknown; a name may
 * hold any byte but NUL: escape it).  Returns the length, 0 (and "?")
 * when nothing is known. */
#define WRITER_END_LEN (sizeof("unix:") + HS_UNIX_PATH_MAX)
size_t writer_end_str(const struct conn_info *c, bool local, char *buf);

#endif
