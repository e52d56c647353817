/* writer.c -- what the text and JSON sinks share: the output stream, the line buffer, escaping, numbers, slices, addresses and the body view. */
#include "sink/writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#ifdef __SSE2__
#include <tmmintrin.h> /* SSSE3, for writer_quote_run() alone */
#endif

struct writer {
	struct writer_line line; /* its buf: the output buffer, for fd */
	struct sink_config cfg;
	const struct writer_fmt *fmt;
	bool flush_each; /* a terminal: show each record at once */
};

/* A duplicate of stdout, or path checked as writer_open() says. */
int writer_open_fd(const char *path)
{
	struct stat st;
	int fd, err;

	if (!path || strcmp(path, "-") == 0) {
		/* A private duplicate lets us own the stream and its buffer
		 * without touching the global stdout; flushing first keeps
		 * whatever the caller already printed in order. */
		fflush(stdout);
		return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	}
	/* No O_TRUNC: the file is checked before anything is lost, and
	 * O_NOFOLLOW keeps a planted symlink from redirecting a root-owned
	 * trace of secrets elsewhere. */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISREG(st.st_mode)) {
		/* 0600 even if it existed: it holds credentials. */
		if (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0)
			goto fail;
	} else if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

bool writer_wanted(const struct sink_config *cfg, const void *fmt)
{
	/* A view alone (--summary, --top...) replaces the stream, unless
	 * -o or -f asks for it too. */
	return cfg->format == ((const struct writer_fmt *)fmt)->format &&
	       (cfg->stream || !sink_views(cfg));
}

void *writer_open(const struct sink_config *cfg, const void *fmt)
{
	struct writer *o;
	int fd = -1, err;

	o = calloc(1, sizeof(*o));
	if (!o)
		goto fail;
	o->cfg = *cfg;
	o->fmt = fmt;
	o->line.buf = malloc(WRITER_BUF_SIZE);
	if (!o->line.buf)
		goto fail;
	o->line.cap = WRITER_BUF_SIZE;
	fd = writer_open_fd(cfg->output);
	if (fd < 0)
		goto fail;
	o->line.fd = fd;
	o->flush_each = isatty(fd);
	return o;

fail:
	err = errno;
	if (o)
		free(o->line.buf);
	free(o);
	warn("failed to open output %s: %s", cfg->output, strerror(err));
	errno = err;
	return NULL;
}

/* After a record: shows it at once on a terminal. */
static void writer_done(struct writer *o)
{
	if (o->flush_each)
		writer_line_drain(&o->line);
}

void writer_txn(void *w, const struct txn *t)
{
	struct writer *o = w;

	if (o && t) {
		o->fmt->txn(&o->line, t, &o->cfg);
		writer_done(o);
	}
}

void writer_ws(void *w, const struct ws_msg *m)
{
	struct writer *o = w;

	if (o && m) {
		o->fmt->ws(&o->line, m, &o->cfg);
		writer_done(o);
	}
}

int writer_flush(void *w)
{
	struct writer *o = w;

	if (!o)
		return -EINVAL;
	writer_line_drain(&o->line);
	return o->line.err ? -o->line.err : 0;
}

void writer_close(void *w)
{
	struct writer *o = w;

	if (!o)
		return;
	writer_line_drain(&o->line);
	close(o->line.fd);
	free(o->line.buf);
	free(o);
}

/* --- the line buffer ------------------------------------------------- */

const char writer_hex[16] = "0123456789abcdef";

/* All of p[0..n) to fd; the first error is kept in *err (and what it
 * cut is lost, as a failed stream's buffer is). */
static void writer_write(int fd, const char *p, size_t n, int *err)
{
	ssize_t r;

	while (n && !*err) {
		r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*err = r < 0 ? errno : EIO;
			return;
		}
		p += r;
		n -= (size_t)r;
	}
}

void writer_line_drain(struct writer_line *l)
{
	if (l->len) {
		if (l->f)
			fwrite_unlocked(l->buf, 1, l->len, l->f);
		else
			writer_write(l->fd, l->buf, l->len, &l->err);
	}
	l->len = 0;
	l->drains++;
}

int writer_end(struct writer_line *l)
{
	int err;

	writer_line_drain(l);
	err = ferror_unlocked(l->f) ? (errno ? -errno : -EIO) : 0;
	funlockfile(l->f);
	return err;
}

void writer_put_slow(struct writer_line *l, const void *p, size_t n)
{
	writer_line_drain(l);
	if (n >= l->cap) {
		/* A large preview: no point in copying it twice. */
		if (l->f)
			fwrite_unlocked(p, 1, n, l->f);
		else
			writer_write(l->fd, p, n, &l->err);
		return;
	}
	memcpy(l->buf, p, n);
	l->len = n;
}

const char writer_pairs[200] =
	"0001020304050607080910111213141516171819"
	"2021222324252627282930313233343536373839"
	"4041424344454647484950515253545556575859"
	"6061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Powers of ten, for the digit count of writer_fmt_u64(). */
static const uint64_t writer_pow10[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL,
};

char *writer_fmt_u64(char *d, uint64_t v)
{
	/* The count first (bits times log10(2), then one comparison), so
	 * that the digits go straight to their place, two per division. */
	unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;
	char *e = d + t + ((v | 1) >= writer_pow10[t]), *end = e;

	while (v >= 100) {
		e -= 2;
		memcpy(e, writer_pairs + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(e - 2, writer_pairs + v * 2, 2);
	else
		e[-1] = (char)('0' + v);
	return end;
}

void writer_put_u64(struct writer_line *l, uint64_t v)
{
	char *d = writer_reserve(l, 20);

	l->len = writer_fmt_u64(d, v) - l->buf;
}

void writer_put_int(struct writer_line *l, int64_t v)
{
	char *d = writer_reserve(l, 21);

	l->len = writer_fmt_int(d, v) - l->buf;
}


#define WRITER_PRINTABLE(c) ((c) >= 0x20 && (c) < 0x7f)
#define WRITER_CLASS(c)                                                        \
	((WRITER_PRINTABLE(c) && (c) != '"' && (c) != '\\' ? WRITER_C_JSON : 0) | \
	 (WRITER_PRINTABLE(c) || (c) == '\t' ? WRITER_C_TEXT : 0) |              \
	 (WRITER_PRINTABLE(c) || (c) == '\t' || (c) == '\n' || (c) == '\r'      \
		  ? WRITER_C_BODY                                               \
		  : 0))
#define WRITER_CLASS4(c) WRITER_CLASS(c), WRITER_CLASS((c) + 1), \
			 WRITER_CLASS((c) + 2), WRITER_CLASS((c) + 3)
#define WRITER_CLASS16(c) WRITER_CLASS4(c), WRITER_CLASS4((c) + 4), \
			  WRITER_CLASS4((c) + 8), WRITER_CLASS4((c) + 12)
#define WRITER_CLASS64(c) WRITER_CLASS16(c), WRITER_CLASS16((c) + 16), \
			  WRITER_CLASS16((c) + 32), WRITER_CLASS16((c) + 48)

const uint8_t writer_byte_class[256] = {
	WRITER_CLASS64(0x00), WRITER_CLASS64(0x40),
	WRITER_CLASS64(0x80), WRITER_CLASS64(0xc0),
};

#ifdef __SSE2__
bool writer_ssse3;

/* For each set m of flagged bytes in eight: the shuffle that spreads the
 * eight out, a gap before each flagged one, and how long they then are.
 * A gap's lane is 0x80 | '\\', a lane past the end 0x80: the shuffle
 * writes zero for both (high bit set), and the lane less 0x80,
 * saturated, is the backslash for a gap, zero elsewhere. */
static uint8_t writer_spread[256][16] __attribute__((aligned(16)));
static uint8_t writer_spread_len[256];

static __attribute__((constructor)) void writer_spread_init(void)
{
	__builtin_cpu_init();
	writer_ssse3 = __builtin_cpu_supports("ssse3");
	for (unsigned m = 0; m < 256; m++) {
		unsigned j = 0;

		for (unsigned i = 0; i < 8; i++) {
			if (m >> i & 1)
				writer_spread[m][j++] = 0x80 | '\\';
			writer_spread[m][j++] = (uint8_t)i;
		}
		writer_spread_len[m] = (uint8_t)j;
		while (j < 16)
			writer_spread[m][j++] = 0x80;
	}
}

__attribute__((target("ssse3"))) struct writer_cursor
writer_quote_run(uint8_t *d, const uint8_t *p, const uint8_t *stop,
		 const uint8_t *lim)
{
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i one = _mm_set1_epi8(1);
	const __m128i low = _mm_set1_epi8(0x21);
	const __m128i high = _mm_set1_epi8((char)0x80);
	ptrdiff_t room = stop - p - 16, far = lim - p - 32;

	/* the blocks there are room for, counted once */
	if (far < room)
		room = far;
	for (; room >= 0; room -= 16, p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p), s;
		__m128i qs = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
		/* controls, DEL and bytes past 0x7f: see writer_block_odd() */
		__m128i odd = _mm_cmplt_epi8(_mm_add_epi8(v, one), low);
		unsigned q = (unsigned)_mm_movemask_epi8(qs);

		if (_mm_movemask_epi8(odd))
			break;
		s = _mm_load_si128((const __m128i *)writer_spread[q & 0xff]);
		_mm_storeu_si128((__m128i *)d, _mm_or_si128(_mm_shuffle_epi8(v, s),
							    _mm_subs_epu8(s, high)));
		d += writer_spread_len[q & 0xff];
		s = _mm_load_si128((const __m128i *)writer_spread[q >> 8]);
		_mm_storeu_si128((__m128i *)d,
				 _mm_or_si128(_mm_shuffle_epi8(_mm_srli_si128(v, 8), s),
					      _mm_subs_epu8(s, high)));
		d += writer_spread_len[q >> 8];
	}
	return (struct writer_cursor){ p, d };
}
#endif

int writer_utf8_len(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	uint32_t v;
	int len, i;

	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	}
	/* Unicode 15, table 3-7: the second byte's range is what rules out
	 * overlong forms (E0, F0), surrogates (ED) and > U+10FFFF (F4). */
	if (c < 0xc2) {
		return 0;
	} else if (c < 0xe0) {
		len = 2;
		v = c & 0x1f;
	} else if (c < 0xf0) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (cp)
		*cp = v;
	return len;
}

/* --- what the writers show of a message ---------------------------- */

/* Text means printable: valid UTF-8 with no C0/C1 control other than
 * tab, CR and LF.  When the preview was cut, its last character may be
 * cut too; that tail is dropped rather than calling the body binary. */
static bool writer_is_text(const uint8_t *p, size_t n, const uint8_t *lim,
			   bool cut, size_t *text_len)
{
	size_t i = 0;
	uint32_t cp;
	int l;

	while (i < n) {
		uint8_t c;

		i += writer_span(p + i, n - i, lim, WRITER_C_BODY);
		if (i == n)
			break;
		c = p[i];
		if (c < 0x80)
			return false;
		l = writer_utf8_len(p + i, n - i, &cp);
		if (l < 0 && cut)
			break;
		if (l <= 0 || cp < 0xa0)
			return false;
		i += l;
	}
	*text_len = i;
	return true;
}

/* The first max bytes of preview p[0..len) (never NULL, so that writers
 * need no special case); the caller says whether more was left out, and
 * then whether it reads as text. */
static void writer_view(struct writer_body *b, const uint8_t *p, size_t len,
			size_t max)
{
	memset(b, 0, sizeof(*b));
	b->data = p ? p : (const uint8_t *)"";
	b->len = p ? len : 0;
	if (b->len > max)
		b->len = max;
	b->lim = b->data + b->len;
}

void writer_ws_payload(const struct ws_msg *m, size_t max_body,
		       struct writer_body *b)
{
	writer_view(b, m->preview, m->preview_len, max_body);
	b->truncated = m->preview_truncated || b->len < m->preview_len;
	b->text = writer_is_text(b->data, b->len, b->lim, b->truncated, &b->text_len);
}

void writer_body_view(const struct http_msg *m, size_t max_body,
		      struct writer_body *b)
{
	writer_view(b, m->preview, m->preview_len, max_body);
	/* body_size counts encoded bytes, so it only says "more" when the
	 * preview was not decoded. */
	b->truncated = m->preview_truncated || b->len < m->preview_len ||
		       (!m->preview_decoded && m->body_size > b->len);
	if (m->preview && m->preview_cap >= b->len)
		b->lim = m->preview + m->preview_cap;
	if (m->preview_decoded)
		http_msg_coding(m, &b->coding, &b->coding_len);
}

void writer_body_text(struct writer_body *b)
{
	b->text = writer_is_text(b->data, b->len, b->lim, b->truncated, &b->text_len);
}

void writer_body_get(const struct http_msg *m, size_t max_body,
		     struct writer_body *b)
{
	writer_body_view(m, max_body, b);
	writer_body_text(b);
}

/* Decimal digits of v (< 100000: an octet or a port) at b; returns the
 * end.  Digits are written in place, largest first: no loop, no copy. */
static char *writer_fmt_short(char *b, unsigned v)
{
	if (v >= 10000)
		*b++ = (char)('0' + v / 10000);
	if (v >= 1000)
		*b++ = (char)('0' + v / 1000 % 10);
	if (v >= 100)
		*b++ = (char)('0' + v / 100 % 10);
	if (v >= 10)
		*b++ = (char)('0' + v / 10 % 10);
	*b++ = (char)('0' + v % 10);
	return b;
}

/* Every transaction shows two addresses: IPv4 is written here directly,
 * which costs a tenth of inet_ntop() and snprintf(); IPv6, with its
 * RFC 5952 zero compression, is left to inet_ntop(). */
bool writer_addr_str(const struct hs_addr *a, char *buf)
{
	char *p = buf;

	if (a->family == AF_INET) {
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = writer_fmt_short(p, a->addr[i]);
		}
	} else if (a->family == AF_INET6 &&
		   inet_ntop(AF_INET6, a->addr, buf + 1, INET6_ADDRSTRLEN)) {
		buf[0] = '[';
		p = buf + 1 + strlen(buf + 1);
		*p++ = ']';
	} else {
		strcpy(buf, "?");
		return false;
	}
	*p++ = ':';
	p = writer_fmt_short(p, a->port);
	*p = '\0';
	return true;
}

size_t writer_end_str(const struct conn_info *c, bool local, char *buf)
{
	const struct hs_addr *a = local ? &c->local : &c->remote;
	const struct hs_unix *u = c->unx;
	size_t n = 0;

	_Static_assert(WRITER_END_LEN >= WRITER_ADDR_LEN, "room for an IP end");
	if (a->family != AF_UNIX)
		return writer_addr_str(a, buf) ? strlen(buf) : 0;
	memcpy(buf, "unix:", 5);
	if (u && u->resolved) {
		n = local ? u->local_len : u->remote_len;
		if (n > HS_UNIX_PATH_MAX)
			n = HS_UNIX_PATH_MAX;
		memcpy(buf + 5, local ? u->local : u->remote, n);
	}
	buf[5 + n] = '\0';
	return 5 + n;
}
