/* test_h2.c -- unit test of the HTTP/2 frame parser and the HPACK decoder: table-driven byte streams, fed whole, split at every byte, one byte at a time and with gaps.
 *
 * A direction's bytes go through h2_frame and hpack together, and what
 * they hand up is written as a log, one line per event (below, "log
 * format"), compared with the fixture's.  Three tables:
 *   - frame fixtures: hex byte streams and the log they must give, with
 *     an optional gap and the log it must give then;
 *   - HPACK fixtures: RFC 7541 appendix C's header blocks (C.3 to C.6),
 *     each block wrapped in HEADERS frames several ways (one frame;
 *     CONTINUATION frames of a few bytes; padding and priority), and
 *     decoded from the start and, table state unknown, from each later
 *     block: the fields that can be decoded and the count of those that
 *     cannot, never a guess;
 *   - captures (tests/unit/h2/NAME.cap) of real peers (nghttp, nghttpd,
 *     curl, nginx, python3-h2, grpcio) recorded by h2_record.py, which
 *     also wrote down what Python's own hyperframe and hpack decoded
 *     (NAME.expect): the independent ground truth.  Each capture is also
 *     joined midway at every frame boundary and at byte offsets, and
 *     every field decoded then must be the field that was sent.
 * Arguments: the captures' folder, then optionally a word: only the
 * parts whose name contains it run.  Exits 0 only if every check
 * passed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/h2_frame.h"
#include "proto/hpack.h"

/* ---- assertions ------------------------------------------------------ */

static unsigned long checks, failures;
static const char *cur = "-";
static char cur_mode[128] = "-";
static int budget;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		checks++;                                                     \
		if (!(cond)) {                                                \
			failures++;                                           \
			if (budget-- > 0) {                                   \
				fprintf(stderr, "FAIL %s:%d [%s / %s]: ",     \
					__FILE__, __LINE__, cur, cur_mode);   \
				fprintf(stderr, __VA_ARGS__);                 \
				fputc('\n', stderr);                          \
			}                                                     \
		}                                                             \
	} while (0)

static void family(const char *name)
{
	cur = name;
	budget = getenv("TEST_H2_VERBOSE") ? 1000 : 3;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	return p;
}

/* ---- byte buffers ---------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			perror("realloc");
			exit(2);
		}
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void buf_byte(struct buf *b, uint8_t c)
{
	buf_put(b, &c, 1);
}

static void buf_str(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_put(b, tmp, n < (int)sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Hex digits (spaces, '|' and newlines ignored) to bytes; a quoted run
 * "..." is taken as ASCII. */
static void buf_hex(struct buf *b, const char *hex)
{
	int hi = -1, v;

	for (; *hex; hex++) {
		if (*hex == '"') {
			for (hex++; *hex && *hex != '"'; hex++)
				buf_byte(b, (uint8_t)*hex);
			continue;
		}
		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if (*hex >= 'a' && *hex <= 'f')
			v = *hex - 'a' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			buf_byte(b, (uint8_t)(hi << 4 | v));
			hi = -1;
		}
	}
}

static void buf_frame(struct buf *b, uint8_t type, uint8_t flags,
		      uint32_t stream, const uint8_t *payload, size_t len)
{
	uint8_t h[9] = { (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len,
			 type, flags, (uint8_t)(stream >> 24),
			 (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
			 (uint8_t)stream };

	buf_put(b, h, 9);
	buf_put(b, payload, len);
}

/* ---- the decoder under test and its log ------------------------------- *
 *
 * Log format, one line per event:
 *   HEADERS s=1 es {:method: GET; :path: /} unknown=1 partial
 *     (PUSH_PROMISE s=1 promised=2; flags es prio truncated broken;
 *     then hpack's: unknown=N dropped=N error partial incomplete)
 *   DATA s=1 "hello" lost=3 es
 *   RST_STREAM s=1 CANCEL
 *   SETTINGS 1=4096 4=65535 | SETTINGS ack
 *   PING 0102030405060708 | PING ack ...
 *   GOAWAY last=3 PROTOCOL_ERROR "debug"
 *   WINDOW_UPDATE s=0 +1000
 *   PRIORITY s=3 dep=1 w=15 excl
 *   (a control frame with lost bytes: TYPE s=N lost)
 *   LOST 12
 */

struct dec {
	struct h2_frame_parser *fp;
	struct hpack *hp;
	struct h2_frame_stats fst;
	struct hpack_stats hst;
	struct buf *log;     /* own_log, or one shared by both directions */
	struct buf own_log;
	struct dec *peer;    /* the other direction, if both are decoded */
	bool data_len_only;  /* DATA frames logged by length (captures) */
	struct buf data; /* the DATA frame being read */
	uint64_t data_lost;
	struct buf fields; /* of the block being decoded */
	/* Blocks, for the capture checks: raw bytes and fields. */
	struct blockrec *blocks;
	size_t nblocks, blocks_cap;
	bool keep_blocks;
};

struct blockrec {
	uint32_t stream;
	uint8_t type;
	uint8_t *raw;
	size_t raw_len;
	char **fields; /* "name: value" */
	size_t nfields;
	struct hpack_result res;
	bool whole;
};

static void put_text(struct buf *b, const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			buf_byte(b, s[i]);
		else
			buf_printf(b, "\\x%02x", s[i]);
	}
}

static void on_field(void *ctx, const uint8_t *name, size_t nlen,
		     const uint8_t *value, size_t vlen, bool sensitive)
{
	struct dec *d = ctx;
	struct blockrec *br;
	struct buf one = { 0 };

	if (d->fields.len)
		buf_str(&d->fields, "; ");
	put_text(&d->fields, name, nlen);
	buf_str(&d->fields, ": ");
	put_text(&d->fields, value, vlen);
	if (sensitive)
		buf_str(&d->fields, " (never indexed)");
	if (d->keep_blocks) {
		br = &d->blocks[d->nblocks];
		put_text(&one, name, nlen);
		buf_str(&one, ": ");
		put_text(&one, value, vlen);
		buf_byte(&one, 0);
		br->fields = realloc(br->fields,
				     (br->nfields + 1) * sizeof(*br->fields));
		br->fields[br->nfields++] = (char *)one.p;
	}
}

static void on_data(void *ctx, uint32_t stream, const uint8_t *data,
		    size_t len)
{
	struct dec *d = ctx;

	if (data)
		buf_put(&d->data, data, len);
	else
		d->data_lost += len;
}

static void on_data_end(void *ctx, const struct h2_frame_hdr *h)
{
	struct dec *d = ctx;

	if (d->data_len_only) {
		buf_printf(d->log, "DATA s=%u len=%zu", h->stream_id, d->data.len);
	} else {
		buf_printf(d->log, "DATA s=%u \"", h->stream_id);
		put_text(d->log, d->data.p, d->data.len);
		buf_str(d->log, "\"");
	}
	if (d->data_lost)
		buf_printf(d->log, " lost=%llu",
			   (unsigned long long)d->data_lost);
	if (h->flags & H2_FLAG_END_STREAM)
		buf_str(d->log, " es");
	buf_str(d->log, "\n");
	d->data.len = 0;
	d->data_lost = 0;
}

static void on_block(void *ctx, const struct h2_block *b)
{
	struct dec *d = ctx;
	struct hpack_result res;
	bool partial = !hpack_synced(d->hp);
	bool whole = !b->truncated && !b->broken;
	struct blockrec *br = NULL;

	if (d->keep_blocks) {
		if (d->nblocks == d->blocks_cap) {
			d->blocks_cap = d->blocks_cap * 2 + 16;
			d->blocks = realloc(d->blocks,
					    d->blocks_cap * sizeof(*d->blocks));
		}
		br = &d->blocks[d->nblocks];
		memset(br, 0, sizeof(*br));
		br->stream = b->stream_id;
		br->type = b->type;
		br->raw = xmalloc(b->len);
		memcpy(br->raw, b->data, b->len);
		br->raw_len = b->len;
		br->whole = whole;
	}
	d->fields.len = 0;
	hpack_decode(d->hp, b->data, b->len, whole, on_field, d, &res);
	if (br) {
		br->res = res;
		d->nblocks++;
	}
	buf_printf(d->log, "%s s=%u", h2_frame_type_name(b->type), b->stream_id);
	if (b->type == H2_PUSH_PROMISE)
		buf_printf(d->log, " promised=%u", b->promised_id);
	if (b->end_stream)
		buf_str(d->log, " es");
	if (b->has_priority)
		buf_printf(d->log, " prio dep=%u w=%u%s", b->dep, b->weight,
			   b->exclusive ? " excl" : "");
	if (b->truncated)
		buf_str(d->log, " truncated");
	if (b->broken)
		buf_str(d->log, " broken");
	buf_str(d->log, " {");
	buf_put(d->log, d->fields.p, d->fields.len);
	buf_str(d->log, "}");
	if (res.unknown)
		buf_printf(d->log, " unknown=%u", res.unknown);
	if (res.dropped)
		buf_printf(d->log, " dropped=%u", res.dropped);
	if (res.invalid)
		buf_printf(d->log, " invalid=%u", res.invalid);
	if (res.error)
		buf_str(d->log, " error");
	if (partial)
		buf_str(d->log, " partial");
	buf_str(d->log, "\n");
}

static void on_control(void *ctx, const struct h2_control *c)
{
	struct dec *d = ctx;
	const char *name;
	int i;

	buf_str(d->log, h2_frame_type_name(c->hdr.type));
	if (c->lost) {
		buf_printf(d->log, " s=%u lost\n", c->hdr.stream_id);
		if (c->hdr.type == H2_SETTINGS && !(c->hdr.flags & H2_FLAG_ACK))
			hpack_settings_lost(d->hp);
		return;
	}
	switch (c->hdr.type) {
	case H2_PRIORITY:
		buf_printf(d->log, " s=%u dep=%u w=%u%s", c->hdr.stream_id,
			   c->u.priority.dep, c->u.priority.weight,
			   c->u.priority.exclusive ? " excl" : "");
		break;
	case H2_RST_STREAM:
		name = h2_frame_error_name(c->u.error_code);
		buf_printf(d->log, " s=%u %s", c->hdr.stream_id,
			   name ? name : "?");
		break;
	case H2_SETTINGS:
		if (c->hdr.flags & H2_FLAG_ACK) {
			buf_str(d->log, " ack");
			/* This side acknowledges the other's oldest SETTINGS,
			 * whose table size then applies to this side's
			 * blocks.  In one-direction tests the ACK stands for
			 * the other side's, of this side's SETTINGS. */
			hpack_settings_acked(d->hp);
			break;
		}
		for (i = 1; i < H2_SET_COUNT; i++)
			if (c->u.settings.has & (1u << i))
				buf_printf(d->log, " %d=%u", i,
					   c->u.settings.value[i]);
		if (c->u.settings.unknown)
			buf_printf(d->log, " unknown=%u", c->u.settings.unknown);
		hpack_settings_sent(d->peer ? d->peer->hp : d->hp,
				    (c->u.settings.has &
				     (1u << H2_SET_HEADER_TABLE_SIZE)) ?
			(int64_t)c->u.settings.value[H2_SET_HEADER_TABLE_SIZE] : -1);
		/* The largest frame this side takes, for the other's frames
		 * (applied at once: lenient). */
		if (d->peer && (c->u.settings.has & (1u << H2_SET_MAX_FRAME_SIZE)))
			h2_frame_set_max_size(d->peer->fp,
					      c->u.settings.value[H2_SET_MAX_FRAME_SIZE]);
		break;
	case H2_PING:
		if (c->hdr.flags & H2_FLAG_ACK)
			buf_str(d->log, " ack");
		buf_str(d->log, " ");
		for (i = 0; i < 8; i++)
			buf_printf(d->log, "%02x", c->u.ping[i]);
		break;
	case H2_GOAWAY:
		name = h2_frame_error_name(c->u.goaway.error_code);
		buf_printf(d->log, " last=%u %s \"", c->u.goaway.last_stream_id,
			   name ? name : "?");
		put_text(d->log, c->u.goaway.debug, c->u.goaway.debug_len);
		buf_str(d->log, "\"");
		break;
	case H2_WINDOW_UPDATE:
		buf_printf(d->log, " s=%u +%u", c->hdr.stream_id,
			   c->u.window_increment);
		break;
	}
	buf_str(d->log, "\n");
}

static void on_lost(void *ctx, uint64_t len)
{
	struct dec *d = ctx;

	buf_printf(d->log, "LOST %llu\n", (unsigned long long)len);
	hpack_lost(d->hp);
}

static const struct h2_frame_cb callbacks = {
	.data = on_data,
	.data_end = on_data_end,
	.block = on_block,
	.control = on_control,
	.lost = on_lost,
};

static void dec_init(struct dec *d, enum h2_frame_start start,
		     enum h2_sender sender, int64_t table_size)
{
	struct h2_frame_opts o = {
		.start = start, .sender = sender, .cb = &callbacks, .ctx = d,
	};

	memset(d, 0, sizeof(*d));
	d->log = &d->own_log;
	o.stats = &d->fst;
	d->fp = h2_frame_new(&o);
	d->hp = hpack_new(start != H2_START_RESYNC, &d->hst);
	if (!d->fp || !d->hp) {
		fprintf(stderr, "test_h2: out of memory\n");
		exit(2);
	}
	if (table_size) {
		hpack_settings_sent(d->hp, table_size);
		hpack_settings_acked(d->hp);
	}
}

static void dec_free(struct dec *d)
{
	size_t i, j;

	h2_frame_free(d->fp);
	hpack_free(d->hp);
	free(d->own_log.p);
	free(d->data.p);
	free(d->fields.p);
	for (i = 0; i < d->nblocks; i++) {
		for (j = 0; j < d->blocks[i].nfields; j++)
			free(d->blocks[i].fields[j]);
		free(d->blocks[i].fields);
		free(d->blocks[i].raw);
	}
	free(d->blocks);
}

/* NUL-terminates the log and returns it. */
static const char *dec_log(struct dec *d)
{
	buf_byte(d->log, 0);
	d->log->len--;
	return (const char *)d->log->p;
}

/* Prints where two logs part, for a failure message. */
static void diff_logs(const char *got, const char *exp)
{
	size_t i = 0, line = 1;

	if (budget < 0)
		return;
	while (got[i] && got[i] == exp[i]) {
		if (got[i] == '\n')
			line++;
		i++;
	}
	fprintf(stderr, "  logs differ at line %zu\n  --- got:\n%s  --- expected:\n%s",
		line, got, exp);
}

/* ---- frame fixtures -------------------------------------------------- */

struct frame_fixture {
	const char *name;
	enum h2_frame_start start;
	enum h2_sender sender;
	const char *hex;    /* the bytes */
	const char *expect; /* the log */
	/* Optional: `gap_len` bytes from `gap_at` never captured. */
	size_t gap_at, gap_len;
	const char *expect_gap;
	/* The expected stats (frames parsed, bad frames) when fed whole. */
	int frames, bad;
};

/* Frame header fields, spaced: length (3) type (1) flags (1) stream (4). */
static const struct frame_fixture frame_fixtures[] = {
{
	.name = "preface-settings-headers-data",
	.start = H2_START_PREFACE, .sender = H2_SENDER_CLIENT,
	.hex = "\"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\""
	       "00000c 04 00 00000000 0003 00000064 0004 0000ffff"
	       "000004 08 00 00000000 00010000"
	       /* :method GET, :scheme http, :path /, :authority
		* www.example.com (RFC 7541 C.3.1) */
	       "000014 01 05 00000001 828684410f7777772e6578616d706c652e636f6d"
	       "000000 04 01 00000000",
	.expect = "SETTINGS 3=100 4=65535\n"
		  "WINDOW_UPDATE s=0 +65536\n"
		  "HEADERS s=1 es {:method: GET; :scheme: http; :path: /; :authority: www.example.com}\n"
		  "SETTINGS ack\n",
	.frames = 4,
},
{
	.name = "response-data-trailers",
	.start = H2_START_FRAME, .sender = H2_SENDER_SERVER,
	/* :status 200 (static 8), then DATA "hello" in two frames, then
	 * trailers grpc-status: 0 as a literal without indexing. */
	.hex = "000001 01 04 00000001 88"
	       "000003 00 00 00000001 \"hel\""
	       "000002 00 00 00000001 \"lo\""
	       "00000f 01 05 00000001 00 0b \"grpc-status\" 01 \"0\"",
	.expect = "HEADERS s=1 {:status: 200}\n"
		  "DATA s=1 \"hel\"\n"
		  "DATA s=1 \"lo\"\n"
		  "HEADERS s=1 es {grpc-status: 0}\n",
	/* Lose "el": the frame's length keeps the framing. */
	.gap_at = 20, .gap_len = 2,
	.expect_gap = "HEADERS s=1 {:status: 200}\n"
		      "DATA s=1 \"h\" lost=2\n"
		      "DATA s=1 \"lo\"\n"
		      "HEADERS s=1 es {grpc-status: 0}\n",
	.frames = 4,
},
{
	.name = "padding-and-priority",
	.start = H2_START_FRAME, .sender = H2_SENDER_CLIENT,
	/* HEADERS PADDED|PRIORITY|END_HEADERS: pad 3, exclusive dep 0,
	 * weight 15, block 82 84, padding; then DATA PADDED with 2 bytes of
	 * padding, END_STREAM. */
	.hex = "00000b 01 2c 00000003 03 80000000 0f 8284 000000"
	       "000006 00 09 00000003 02 \"abc\" 0000",
	.expect = "HEADERS s=3 prio dep=0 w=15 excl {:method: GET; :path: /}\n"
		  "DATA s=3 \"abc\" es\n",
	/* Lose the padding length of the DATA frame: its bytes are all
	 * counted lost, padding included (the split is unknown). */
	.gap_at = 29, .gap_len = 1,
	.expect_gap = "HEADERS s=3 prio dep=0 w=15 excl {:method: GET; :path: /}\n"
		      "DATA s=3 \"\" lost=5 es\n",
	.frames = 2,
},
{
	.name = "continuation",
	.start = H2_START_FRAME, .sender = H2_SENDER_CLIENT,
	/* C.3.1's block over HEADERS + two CONTINUATION frames. */
	.hex = "000005 01 01 00000001 828684410f"
	       "00000a 09 00 00000001 7777772e6578616d706c"
	       "000005 09 04 00000001 652e636f6d",
	.expect = "HEADERS s=1 es {:method: GET; :scheme: http; :path: /; :authority: www.example.com}\n",
	/* A gap inside the second CONTINUATION: the block is broken, the
	 * fields whole before the loss are kept, the table state is
	 * unknown after. */
	.gap_at = 43, .gap_len = 3,
	.expect_gap = "HEADERS s=1 es broken {:method: GET; :scheme: http; :path: /}\n",
	.frames = 3,
},
{
	.name = "continuation-interrupted",
	.start = H2_START_FRAME, .sender = H2_SENDER_CLIENT,
	/* HEADERS without END_HEADERS, then a PING: a connection error
	 * (RFC 9113 section 6.10).  The block ends broken, with the
	 * fields whole in it; the PING is read. */
	.hex = "000002 01 00 00000001 8286"
	       "000008 06 00 00000000 0102030405060708"
	       "000004 08 00 00000000 00000100",
	.expect = "HEADERS s=1 broken {:method: GET; :scheme: http}\n"
		  "PING 0102030405060708\n"
		  "WINDOW_UPDATE s=0 +256\n",
	.frames = 3, .bad = 1,
},
{
	.name = "rst-goaway-priority-ping",
	.start = H2_START_FRAME, .sender = H2_SENDER_SERVER,
	.hex = "000004 03 00 00000001 00000008"
	       "000005 02 00 00000003 00000001 0f"
	       "000008 06 01 00000000 0807060504030201"
	       "00000d 07 00 00000000 00000003 00000001 \"oops!\"",
	.expect = "RST_STREAM s=1 CANCEL\n"
		  "PRIORITY s=3 dep=1 w=15\n"
		  "PING ack 0807060504030201\n"
		  "GOAWAY last=3 PROTOCOL_ERROR \"oops!\"\n",
	/* A gap in GOAWAY's fixed fields: its framing holds, its content
	 * is lost. */
	.gap_at = 55, .gap_len = 4,
	.expect_gap = "RST_STREAM s=1 CANCEL\n"
		      "PRIORITY s=3 dep=1 w=15\n"
		      "PING ack 0807060504030201\n"
		      "GOAWAY s=0 lost\n",
	.frames = 4,
},
{
	.name = "unknown-type-ignored",
	.start = H2_START_FRAME, .sender = H2_SENDER_SERVER,
	/* Type 0xa (ALTSVC) and an unassigned type 0xf0 with flags. */
	.hex = "000003 0a 00 00000000 000161"
	       "000002 f0 ff 00000005 abcd"
	       "000001 01 04 00000001 88",
	.expect = "HEADERS s=1 {:status: 200}\n",
	.frames = 3,
},
{
	.name = "push-promise",
	.start = H2_START_FRAME, .sender = H2_SENDER_SERVER,
	/* PUSH_PROMISE on stream 1 promising 2 (PADDED, 1 byte of padding):
	 * :method GET, :path /index.html (static 5); then the pushed
	 * response on stream 2. */
	.hex = "000008 05 0c 00000001 01 00000002 8285 00"
	       "000001 01 04 00000002 88"
	       "000002 00 01 00000002 \"ok\"",
	.expect = "PUSH_PROMISE s=1 promised=2 {:method: GET; :path: /index.html}\n"
		  "HEADERS s=2 {:status: 200}\n"
		  "DATA s=2 \"ok\" es\n",
	.frames = 3,
},
{
	.name = "settings-unknown-and-repeated",
	.start = H2_START_FRAME, .sender = H2_SENDER_CLIENT,
	/* HEADER_TABLE_SIZE twice (the last counts), an unknown id 0x99. */
	.hex = "000012 04 00 00000000 0001 00001000 0001 00000100 0099 00000001",
	.expect = "SETTINGS 1=256 unknown=1\n",
	.frames = 1,
},
{
	.name = "bad-padding",
	.start = H2_START_FRAME, .sender = H2_SENDER_CLIENT,
	/* DATA PADDED whose padding is as long as the payload: a
	 * connection error.  Nothing after it looks like a frame. */
	.hex = "000003 00 08 00000001 05 \"ab\"",
	.expect = "LOST 0\n",
	.frames = 0, .bad = 1,
},
{
	.name = "frame-too-large",
	.start = H2_START_FRAME, .sender = H2_SENDER_CLIENT,
	/* A HEADERS frame claiming 16 MiB - 1 with the default
	 * SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR, nothing handed up
	 * but the loss; the parser finds the PING after it. */
	.hex = "ffffff 01 04 00000001 8286"
	       "000008 06 00 00000000 0102030405060708"
	       "000008 06 00 00000000 0102030405060708",
	.expect = "LOST 0\n"
		  "PING 0102030405060708\n"
		  "PING 0102030405060708\n",
	.frames = 2, .bad = 1,
},
{
	.name = "garbage-after-preface",
	.start = H2_START_PREFACE, .sender = H2_SENDER_CLIENT,
	.hex = "\"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\""
	       "\"GET / HTTP/1.1\r\nHost: x\r\n\r\n\"",
	.expect = "LOST 0\n",
	.frames = 0, .bad = 1,
},
{
	.name = "not-a-preface",
	.start = H2_START_PREFACE, .sender = H2_SENDER_CLIENT,
	.hex = "\"PRI * HTTP/1.1\r\n\"",
	.expect = "LOST 0\n",
	.frames = 0, .bad = 1,
},
{
	.name = "joined-midway",
	.start = H2_START_RESYNC, .sender = H2_SENDER_SERVER,
	/* The tail of a DATA frame, then frames: the first boundary that
	 * is followed by another plausible header is taken.  The table
	 * state is unknown: :status 200 is static, the indexed 0xbe is
	 * not known. */
	.hex = "\"tail of a body\""
	       "000002 01 04 00000003 88be"
	       "000002 00 01 00000003 \"ok\"",
	.expect = "HEADERS s=3 {:status: 200} unknown=1 partial\n"
		  "DATA s=3 \"ok\" es\n",
	.frames = 2,
},
{
	.name = "gap-over-frame-boundary",
	.start = H2_START_FRAME, .sender = H2_SENDER_SERVER,
	.hex = "000001 01 04 00000001 88"
	       "000005 00 00 00000001 \"hello\""
	       "000005 00 00 00000001 \"world\""
	       "000001 01 04 00000003 88"
	       "000002 00 01 00000003 \"ok\"",
	.expect = "HEADERS s=1 {:status: 200}\n"
		  "DATA s=1 \"hello\"\n"
		  "DATA s=1 \"world\"\n"
		  "HEADERS s=3 {:status: 200}\n"
		  "DATA s=3 \"ok\" es\n",
	/* Lose "lo" and the next frame's header and "wor": the rest of
	 * the DATA is lost, then the parser looks for frames and finds
	 * the HEADERS; :status 200 is static, so it is decoded. */
	.gap_at = 22, .gap_len = 14,
	.expect_gap = "HEADERS s=1 {:status: 200}\n"
		      "DATA s=1 \"hel\" lost=2\n"
		      "LOST 12\n"
		      "HEADERS s=3 {:status: 200} partial\n"
		      "DATA s=3 \"ok\" es\n",
	.frames = 5,
},
};

enum split { WHOLE, SPLIT_AT, BYTES };

/* Feeds data in the given way; returns the log. */
static void feed(struct dec *d, const uint8_t *p, size_t len, enum split how,
		 size_t at)
{
	size_t i;

	switch (how) {
	case WHOLE:
		h2_frame_feed(d->fp, p, len);
		break;
	case SPLIT_AT:
		h2_frame_feed(d->fp, p, at);
		h2_frame_feed(d->fp, p + at, len - at);
		break;
	case BYTES:
		for (i = 0; i < len; i++)
			h2_frame_feed(d->fp, p + i, 1);
		break;
	}
}

static void run_frame_fixture(const struct frame_fixture *f)
{
	struct buf in = { 0 };
	struct dec d;
	size_t at;
	const char *got;

	family(f->name);
	buf_hex(&in, f->hex);

	/* Whole, split in two at every byte, one byte at a time. */
	for (at = 0; at <= in.len + 1; at++) {
		enum split how = at == 0 ? WHOLE : at == in.len + 1 ? BYTES : SPLIT_AT;

		if (how == WHOLE)
			snprintf(cur_mode, sizeof(cur_mode), "whole");
		else if (how == BYTES)
			snprintf(cur_mode, sizeof(cur_mode), "one byte at a time");
		else
			snprintf(cur_mode, sizeof(cur_mode), "split at %zu", at);
		dec_init(&d, f->start, f->sender, 0);
		feed(&d, in.p, in.len, how, at);
		h2_frame_finish(d.fp);
		got = dec_log(&d);
		CHECK(strcmp(got, f->expect) == 0, "log");
		if (strcmp(got, f->expect))
			diff_logs(got, f->expect);
		if (how == WHOLE) {
			CHECK(d.fst.frames == (uint64_t)f->frames,
			      "frames %llu, expected %d",
			      (unsigned long long)d.fst.frames, f->frames);
			CHECK(d.fst.bad_frames == (uint64_t)f->bad,
			      "bad frames %llu, expected %d",
			      (unsigned long long)d.fst.bad_frames, f->bad);
		}
		dec_free(&d);
	}

	/* With the gap: before it whole or one byte at a time; after it
	 * whole, split at every byte, or one byte at a time. */
	if (f->gap_len) {
		size_t rest = f->gap_at + f->gap_len;
		const uint8_t *after = in.p + rest;
		size_t alen = in.len - rest;

		for (at = 0; at <= alen + 1; at++) {
			enum split how = at == 0 ? WHOLE : at == alen + 1 ? BYTES : SPLIT_AT;

			snprintf(cur_mode, sizeof(cur_mode), "gap, then %s %zu",
				 how == WHOLE ? "whole" : how == BYTES ? "bytes" : "split at",
				 at);
			dec_init(&d, f->start, f->sender, 0);
			feed(&d, in.p, f->gap_at, at & 1 ? BYTES : WHOLE, 0);
			h2_frame_gap(d.fp, f->gap_len);
			feed(&d, after, alen, how, at);
			h2_frame_finish(d.fp);
			got = dec_log(&d);
			CHECK(strcmp(got, f->expect_gap) == 0, "log");
			if (strcmp(got, f->expect_gap))
				diff_logs(got, f->expect_gap);
			CHECK(d.fst.gap_bytes == f->gap_len, "gap bytes");
			dec_free(&d);
		}
	}
	free(in.p);
}

/* ---- HPACK fixtures (RFC 7541 appendix C) ------------------------------ */

#define MAX_BLOCKS 4

struct hpack_fixture {
	const char *name;
	int64_t table_size; /* SETTINGS_HEADER_TABLE_SIZE acked first */
	const char *blocks[MAX_BLOCKS];
	/* The fields of each block decoded from the start. */
	const char *fields[MAX_BLOCKS];
	/* Decoded with the table state unknown, starting at block 1 (the
	 * second) or 2: fields and the count that cannot be decoded. */
	const char *partial[MAX_BLOCKS][MAX_BLOCKS];
	int unknown[MAX_BLOCKS][MAX_BLOCKS];
};

#define C3_FIELDS                                                             \
	{ ":method: GET; :scheme: http; :path: /; :authority: www.example.com", \
	  ":method: GET; :scheme: http; :path: /; :authority: www.example.com; cache-control: no-cache", \
	  ":method: GET; :scheme: https; :path: /index.html; :authority: www.example.com; custom-key: custom-value" }
#define C3_PARTIAL                                                            \
	{ [1] = { [1] = ":method: GET; :scheme: http; :path: /; cache-control: no-cache", \
		  [2] = ":method: GET; :scheme: https; :path: /index.html; custom-key: custom-value" }, \
	  [2] = { [2] = ":method: GET; :scheme: https; :path: /index.html; custom-key: custom-value" } }
/* Starting at block 1, its :authority (index 62) is unknown, and in
 * block 2 :authority is index 63, behind the one entry seen. */
#define C3_UNKNOWN { [1] = { [1] = 1, [2] = 1 }, [2] = { [2] = 1 } }

#define C5_FIELDS                                                             \
	{ ":status: 302; cache-control: private; date: Mon, 21 Oct 2013 20:13:21 GMT; location: https://www.example.com", \
	  ":status: 307; cache-control: private; date: Mon, 21 Oct 2013 20:13:21 GMT; location: https://www.example.com", \
	  ":status: 200; cache-control: private; date: Mon, 21 Oct 2013 20:13:22 GMT; location: https://www.example.com; content-encoding: gzip; set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1" }
#define C5_PARTIAL                                                            \
	{ [1] = { [1] = ":status: 307",                                       \
		  [2] = ":status: 200; date: Mon, 21 Oct 2013 20:13:22 GMT; content-encoding: gzip; set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1" }, \
	  [2] = { [2] = ":status: 200; date: Mon, 21 Oct 2013 20:13:22 GMT; content-encoding: gzip; set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1" } }
#define C5_UNKNOWN { [1] = { [1] = 3, [2] = 2 }, [2] = { [2] = 2 } }

static const struct hpack_fixture hpack_fixtures[] = {
{
	.name = "rfc7541-c3-requests",
	.blocks = { "828684410f7777772e6578616d706c652e636f6d",
		    "828684be58086e6f2d6361636865",
		    "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565" },
	.fields = C3_FIELDS, .partial = C3_PARTIAL, .unknown = C3_UNKNOWN,
},
{
	.name = "rfc7541-c4-requests-huffman",
	.blocks = { "828684418cf1e3c2e5f23a6ba0ab90f4ff",
		    "828684be5886a8eb10649cbf",
		    "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf" },
	.fields = C3_FIELDS, .partial = C3_PARTIAL, .unknown = C3_UNKNOWN,
},
{
	/* The table is 256 bytes (SETTINGS, acked; the encoder says so
	 * with a size update, 3fe101, at the first block): entries are
	 * evicted. */
	.name = "rfc7541-c5-responses",
	.table_size = 256,
	.blocks = { "3fe101"
		    "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
		    "4803333037c1c0bf",
		    "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31" },
	.fields = C5_FIELDS, .partial = C5_PARTIAL, .unknown = C5_UNKNOWN,
},
{
	.name = "rfc7541-c6-responses-huffman",
	.table_size = 256,
	.blocks = { "3fe101"
		    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
		    "4883640effc1c0bf",
		    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007" },
	.fields = C5_FIELDS, .partial = C5_PARTIAL, .unknown = C5_UNKNOWN,
},
};

enum wrap { ONE_FRAME, CONTINUATIONS, PADDED_PRIORITY, WRAP_COUNT };
static const char *const wrap_names[] = { "one HEADERS frame",
	"CONTINUATION every 3 bytes", "padded, with priority" };

/* Wraps a header block in frames on stream `sid`. */
static void wrap_block(struct buf *out, const struct buf *blk, uint32_t sid,
		       enum wrap how)
{
	struct buf pl = { 0 };
	size_t off, n;

	switch (how) {
	case ONE_FRAME:
		buf_frame(out, H2_HEADERS, H2_FLAG_END_HEADERS, sid, blk->p, blk->len);
		break;
	case CONTINUATIONS:
		for (off = 0; off == 0 || off < blk->len; off += n) {
			n = blk->len - off < 3 ? blk->len - off : 3;
			buf_frame(out, off ? H2_CONTINUATION : H2_HEADERS,
				  off + n == blk->len ? H2_FLAG_END_HEADERS : 0,
				  sid, blk->p + off, n);
		}
		break;
	case PADDED_PRIORITY:
		buf_byte(&pl, 7);
		buf_hex(&pl, "00000000 10");
		buf_put(&pl, blk->p, blk->len);
		buf_put(&pl, "\0\0\0\0\0\0\0", 7);
		buf_frame(out, H2_HEADERS,
			  H2_FLAG_END_HEADERS | H2_FLAG_PADDED | H2_FLAG_PRIORITY,
			  sid, pl.p, pl.len);
		free(pl.p);
		break;
	default:
		break;
	}
}

/* The log line a block gives. */
static void block_line(struct buf *exp, uint32_t sid, bool prio,
		       const char *fields, int unknown, bool partial)
{
	buf_printf(exp, "HEADERS s=%u%s {%s}", sid, prio ? " prio dep=0 w=16" : "",
		   fields);
	if (unknown)
		buf_printf(exp, " unknown=%d", unknown);
	if (partial)
		buf_str(exp, " partial");
	buf_str(exp, "\n");
}

static void run_hpack_fixture(const struct hpack_fixture *f)
{
	struct buf in = { 0 }, exp = { 0 }, blk = { 0 };
	int first, i, w;
	size_t at;
	struct dec d;
	const char *got;

	family(f->name);
	for (first = 0; first < MAX_BLOCKS && f->blocks[first]; first++) {
		for (w = 0; w < WRAP_COUNT; w++) {
			in.len = exp.len = 0;
			for (i = first; i < MAX_BLOCKS && f->blocks[i]; i++) {
				blk.len = 0;
				buf_hex(&blk, f->blocks[i]);
				wrap_block(&in, &blk, (uint32_t)(2 * i + 1), (enum wrap)w);
				if (first == 0)
					block_line(&exp, (uint32_t)(2 * i + 1),
						   w == PADDED_PRIORITY, f->fields[i], 0, false);
				else
					block_line(&exp, (uint32_t)(2 * i + 1),
						   w == PADDED_PRIORITY,
						   f->partial[first][i],
						   f->unknown[first][i], true);
			}
			buf_byte(&exp, 0);
			for (at = 0; at <= in.len + 1; at++) {
				enum split how = at == 0 ? WHOLE :
						 at == in.len + 1 ? BYTES : SPLIT_AT;

				snprintf(cur_mode, sizeof(cur_mode),
					 "from block %d, %s, %s %zu", first,
					 wrap_names[w],
					 how == WHOLE ? "whole" :
					 how == BYTES ? "bytes" : "split at", at);
				/* Joined at block `first`: the frames are in
				 * sync, the table is not. */
				dec_init(&d, H2_START_FRAME, H2_SENDER_CLIENT,
					 f->table_size);
				if (first)
					hpack_lost(d.hp);
				feed(&d, in.p, in.len, how, at);
				got = dec_log(&d);
				CHECK(strcmp(got, (const char *)exp.p) == 0, "log");
				if (strcmp(got, (const char *)exp.p))
					diff_logs(got, (const char *)exp.p);
				dec_free(&d);
			}
		}
	}
	free(in.p);
	free(exp.p);
	free(blk.p);
}

/* ---- HPACK: the table state, limits, bombs -------------------------- */

struct hp_case {
	const char *name;
	bool synced;
	int64_t table_size;	     /* acked before the blocks */
	const char *blocks[MAX_BLOCKS];
	const char *expect; /* the log */
	bool synced_after;  /* hpack_synced() at the end */
};

static const struct hp_case hp_cases[] = {
{
	/* Joined midway: a literal added under a name from an unknown
	 * entry (index 70) is kept under a placeholder name, so that the
	 * indices of the entries after it stay right: in the third block
	 * 62 is k: v, 63 the placeholder (unknown, not shown with a
	 * made-up name), 64 the :scheme: abc of the first block. */
	.name = "placeholder-keeps-indices",
	.synced = false,
	.blocks = { "46 03 \"abc\"",
		    "7f07 03 \"xyz\" 40 01 \"k\" 01 \"v\"",
		    "be bf c0" },
	.expect = "HEADERS s=1 {:scheme: abc} partial\n"
		  "HEADERS s=3 {k: v} unknown=1 partial\n"
		  "HEADERS s=5 {k: v; :scheme: abc} unknown=1 partial\n",
	.synced_after = false,
},
{
	/* Joined midway, the encoder sets the table to 100 bytes, then an
	 * entry (a: b, 34 bytes) and a larger one (c: 40 x's, 73 bytes)
	 * that must evict it: every older entry went first, so the state
	 * is known again and the third block decodes in full. */
	.name = "resync-by-eviction",
	.synced = false,
	.blocks = { "3f45 40 01 \"a\" 01 \"b\"",
		    "40 01 \"c\" 28 \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
		    "be 82" },
	.expect = "HEADERS s=1 {a: b} partial\n"
		  "HEADERS s=3 {c: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx} partial\n"
		  "HEADERS s=5 {c: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; :method: GET}\n",
	.synced_after = true,
},
{
	/* A size update after a field is an error (RFC 7541 section
	 * 4.2), also when the field was not decoded.  A size update to 0
	 * empties the table: known again at once (then back to 4096). */
	.name = "resync-by-size-zero",
	.synced = false,
	.blocks = { "be 20 82", "20 3fe11f 82 40 01 \"a\" 01 \"b\"", "be" },
	.expect = "HEADERS s=1 {} unknown=1 error partial\n"
		  "HEADERS s=3 {:method: GET; a: b} partial\n"
		  "HEADERS s=5 {a: b}\n",
	.synced_after = true,
},
{
	/* A size update above the decoder's setting (4096 by default) is
	 * an error: the state is unknown after it. */
	.name = "size-update-over-setting",
	.synced = true,
	.blocks = { "3fe21f 82", "82 be" },
	.expect = "HEADERS s=1 {} error\n"
		  "HEADERS s=3 {:method: GET} unknown=1 partial\n",
	.synced_after = false,
},
{
	/* SETTINGS_HEADER_TABLE_SIZE 8192 acked: a size update to 8192 is
	 * then fine. */
	.name = "table-size-setting",
	.synced = true,
	.table_size = 8192,
	.blocks = { "3fe13f 82" },
	.expect = "HEADERS s=1 {:method: GET}\n",
	.synced_after = true,
},
{
	/* Over HPACK_TABLE_MAX even when the peer allows it. */
	.name = "table-size-over-limit",
	.synced = true,
	.table_size = 1 << 20,
	.blocks = { "3fe1ff0f 82" },
	.expect = "HEADERS s=1 {} error\n",
	.synced_after = false,
},
};

/* Fields no HTTP/2 peer sends are counted, not handed up. */
static const struct hp_case hp_invalid = {
	.name = "invalid-fields",
	.synced = true,
	.blocks = { "00 01 \"X\" 01 \"v\"  00 01 \"x\" 02 \"a\" 0a  00 00 01 \"v\"  82" },
	.expect = "HEADERS s=1 {:method: GET} invalid=3\n",
	.synced_after = true,
};

static void run_hp_case(const struct hp_case *c)
{
	struct buf in = { 0 }, blk = { 0 };
	struct dec d;
	const char *got;
	int i;

	family(c->name);
	snprintf(cur_mode, sizeof(cur_mode), "whole");
	for (i = 0; i < MAX_BLOCKS && c->blocks[i]; i++) {
		blk.len = 0;
		buf_hex(&blk, c->blocks[i]);
		wrap_block(&in, &blk, (uint32_t)(2 * i + 1), ONE_FRAME);
	}
	dec_init(&d, H2_START_FRAME, H2_SENDER_CLIENT, c->table_size);
	if (!c->synced)
		hpack_lost(d.hp);
	feed(&d, in.p, in.len, WHOLE, 0);
	got = dec_log(&d);
	CHECK(strcmp(got, c->expect) == 0, "log");
	if (strcmp(got, c->expect))
		diff_logs(got, c->expect);
	CHECK(hpack_synced(d.hp) == c->synced_after, "synced after: %d",
	      hpack_synced(d.hp));
	dec_free(&d);
	free(in.p);
	free(blk.p);
}

/* ---- hostile streams: bombs and floods hit limits, not memory ---------- */

/* The last line of a log, NUL-terminated in place. */
static const char *last_line(struct dec *d, int back)
{
	char *log = (char *)dec_log(d), *p = log + strlen(log);

	while (back-- >= 0 && p > log) {
		p--;
		while (p > log && p[-1] != '\n')
			p--;
	}
	return p;
}

static void run_hostile(void)
{
	struct buf in = { 0 }, blk = { 0 };
	uint8_t big[4000];
	struct dec d;
	size_t i;

	/* An HPACK bomb: one 4000-byte entry referenced 1000 times.  The
	 * fields past HPACK_LIST_MAX are counted, and the table stays in
	 * step: the next block decodes in full. */
	family("hpack-bomb");
	snprintf(cur_mode, sizeof(cur_mode), "whole");
	memset(big, 'z', sizeof(big));
	buf_hex(&blk, "40 01 \"x\" 7f a1 1e"); /* value length 4000 */
	buf_put(&blk, big, sizeof(big));
	wrap_block(&in, &blk, 1, ONE_FRAME);
	blk.len = 0;
	for (i = 0; i < 1000; i++)
		buf_byte(&blk, 0xbe);
	wrap_block(&in, &blk, 3, ONE_FRAME);
	blk.len = 0;
	buf_hex(&blk, "82");
	wrap_block(&in, &blk, 5, ONE_FRAME);
	dec_init(&d, H2_START_FRAME, H2_SENDER_CLIENT, 0);
	feed(&d, in.p, in.len, WHOLE, 0);
	CHECK(strstr(dec_log(&d), " dropped=984\n") != NULL,
	      "16 fields of 4033 bytes fit HPACK_LIST_MAX, 984 dropped");
	CHECK(strcmp(last_line(&d, 0), "HEADERS s=5 {:method: GET}\n") == 0,
	      "the next block: %s", last_line(&d, 0));
	dec_free(&d);

	/* More fields than HPACK_FIELDS_MAX. */
	family("fields-max");
	in.len = blk.len = 0;
	for (i = 0; i < HPACK_FIELDS_MAX + 44; i++)
		buf_byte(&blk, 0x82);
	wrap_block(&in, &blk, 1, ONE_FRAME);
	dec_init(&d, H2_START_FRAME, H2_SENDER_CLIENT, 0);
	feed(&d, in.p, in.len, WHOLE, 0);
	CHECK(strstr(dec_log(&d), "} dropped=44\n") != NULL, "44 dropped");
	dec_free(&d);

	/* A CONTINUATION flood: 100,000 frames of 10 bytes, then
	 * END_HEADERS.  The block is kept up to H2_BLOCK_MAX. */
	family("continuation-flood");
	in.len = blk.len = 0;
	for (i = 0; i < 10; i++)
		buf_byte(&blk, 0x82);
	buf_frame(&in, H2_HEADERS, 0, 1, blk.p, blk.len);
	for (i = 0; i < 100000; i++)
		buf_frame(&in, H2_CONTINUATION, i == 99999 ? H2_FLAG_END_HEADERS : 0,
			  1, blk.p, blk.len);
	blk.len = 0;
	buf_hex(&blk, "82");
	wrap_block(&in, &blk, 3, ONE_FRAME);
	dec_init(&d, H2_START_FRAME, H2_SENDER_CLIENT, 0);
	for (i = 0; i < in.len; i += 4096)
		h2_frame_feed(d.fp, in.p + i, in.len - i < 4096 ? in.len - i : 4096);
	CHECK(d.fst.blocks_truncated == 1, "truncated");
	CHECK(d.fst.frames == 100002, "frames %llu", (unsigned long long)d.fst.frames);
	CHECK(strstr(dec_log(&d), "HEADERS s=1 truncated {:method: GET;") != NULL &&
	      strstr(dec_log(&d), "} dropped=") != NULL, "the truncated block");
	/* After a truncated block the table state is unknown. */
	CHECK(strcmp(last_line(&d, 0), "HEADERS s=3 {:method: GET} partial\n") == 0,
	      "the next block: %s", last_line(&d, 0));
	dec_free(&d);

	/* A HEADERS frame of 16 MiB - 1 once SETTINGS_MAX_FRAME_SIZE allows
	 * it: kept up to H2_BLOCK_MAX, the rest counted. */
	family("headers-16mib");
	in.len = 0;
	dec_init(&d, H2_START_FRAME, H2_SENDER_CLIENT, 0);
	h2_frame_set_max_size(d.fp, H2_FRAME_SIZE_MAX);
	buf_frame(&in, H2_HEADERS, H2_FLAG_END_HEADERS, 1, NULL, 0);
	in.p[0] = in.p[1] = in.p[2] = 0xff;
	h2_frame_feed(d.fp, in.p, in.len);
	memset(big, 0x82, sizeof(big));
	for (i = 0; i < H2_FRAME_SIZE_MAX; i += sizeof(big))
		h2_frame_feed(d.fp, big, H2_FRAME_SIZE_MAX - i < sizeof(big) ?
				   H2_FRAME_SIZE_MAX - i : sizeof(big));
	CHECK(d.fst.blocks_truncated == 1 && d.fst.frames == 1, "truncated");
	CHECK(strstr(dec_log(&d), "HEADERS s=1 truncated {:method: GET;") != NULL,
	      "%s", last_line(&d, 0));
	dec_free(&d);

	/* A SETTINGS flood: 10,000 frames never acknowledged.  The
	 * decoder stops tracking them (HPACK_SETTINGS_PENDING_MAX) and
	 * keeps decoding. */
	family("settings-flood");
	in.len = blk.len = 0;
	buf_hex(&blk, "0001 00000100");
	for (i = 0; i < 10000; i++)
		buf_frame(&in, H2_SETTINGS, 0, 0, blk.p, blk.len);
	blk.len = 0;
	buf_hex(&blk, "82");
	wrap_block(&in, &blk, 1, ONE_FRAME);
	dec_init(&d, H2_START_FRAME, H2_SENDER_CLIENT, 0);
	feed(&d, in.p, in.len, WHOLE, 0);
	CHECK(d.fst.frames == 10001, "frames");
	CHECK(strcmp(last_line(&d, 0), "HEADERS s=1 {:method: GET}\n") == 0,
	      "%s", last_line(&d, 0));
	dec_free(&d);

	free(in.p);
	free(blk.p);
}

/* ---- captures of real peers ------------------------------------------ */

struct record {
	int dir; /* 0: client to server, 1: server to client */
	const uint8_t *p;
	size_t len;
};

struct capture {
	struct buf raw;
	struct record *recs;
	size_t nrecs;
	char *expect;
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char tmp[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_put(&b, tmp, n);
	fclose(f);
	buf_byte(&b, 0);
	*len = b.len - 1;
	return (char *)b.p;
}

static int capture_load(struct capture *c, const char *dir, const char *name)
{
	char path[4096];
	size_t len, off = 0, n;
	uint32_t rl;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/%s.cap", dir, name);
	c->raw.p = (uint8_t *)slurp(path, &len);
	snprintf(path, sizeof(path), "%s/%s.expect", dir, name);
	c->expect = slurp(path, &n);
	if (!c->raw.p || !c->expect)
		return -1;
	c->raw.len = len;
	while (off + 5 <= len) {
		rl = (uint32_t)c->raw.p[off + 1] << 24 | (uint32_t)c->raw.p[off + 2] << 16 |
		     (uint32_t)c->raw.p[off + 3] << 8 | c->raw.p[off + 4];
		if (off + 5 + rl > len)
			return -1;
		c->recs = realloc(c->recs, (c->nrecs + 1) * sizeof(*c->recs));
		c->recs[c->nrecs].dir = c->raw.p[off] == 'S';
		c->recs[c->nrecs].p = c->raw.p + off + 5;
		c->recs[c->nrecs].len = rl;
		c->nrecs++;
		off += 5 + rl;
	}
	return off == len ? 0 : -1;
}

static void capture_free(struct capture *c)
{
	free(c->raw.p);
	free(c->recs);
	free(c->expect);
}

/* Both directions of a connection, sharing one log. */
struct conn {
	struct dec dir[2];
};

static void conn_init(struct conn *cn, bool midway)
{
	dec_init(&cn->dir[0], midway ? H2_START_RESYNC : H2_START_PREFACE,
		 H2_SENDER_CLIENT, 0);
	dec_init(&cn->dir[1], midway ? H2_START_RESYNC : H2_START_FRAME,
		 H2_SENDER_SERVER, 0);
	cn->dir[1].log = cn->dir[0].log;
	cn->dir[0].peer = &cn->dir[1];
	cn->dir[1].peer = &cn->dir[0];
	cn->dir[0].data_len_only = cn->dir[1].data_len_only = true;
	cn->dir[0].keep_blocks = cn->dir[1].keep_blocks = true;
}

static void conn_free(struct conn *cn)
{
	dec_free(&cn->dir[0]);
	dec_free(&cn->dir[1]);
}

/* Feeds records from `first` on, the first from byte `skip`; bytes:
 * each record one byte at a time. */
static void conn_feed(struct conn *cn, const struct capture *c, size_t first,
		      size_t skip, bool bytes)
{
	size_t i, j;

	for (i = first; i < c->nrecs; i++) {
		struct dec *d = &cn->dir[c->recs[i].dir];
		const uint8_t *p = c->recs[i].p;
		size_t len = c->recs[i].len;

		if (i == first) {
			p += skip;
			len -= skip;
		}
		if (bytes)
			for (j = 0; j < len; j++)
				h2_frame_feed(d->fp, p + j, 1);
		else
			h2_frame_feed(d->fp, p, len);
	}
	h2_frame_finish(cn->dir[0].fp);
	h2_frame_finish(cn->dir[1].fp);
}

/* Every block decoded midway must be a block that was sent, with a
 * subsequence of its fields, the rest counted unknown: never a guess. */
static void check_midway(const struct dec *ref, const struct dec *got)
{
	size_t i, j, k, f;
	const struct blockrec *g, *r;

	for (i = 0, j = 0; i < got->nblocks; i++) {
		g = &got->blocks[i];
		for (k = j; k < ref->nblocks; k++) {
			r = &ref->blocks[k];
			if (r->stream == g->stream && r->type == g->type &&
			    r->raw_len == g->raw_len && !memcmp(r->raw, g->raw, g->raw_len))
				break;
		}
		/* A block taken by mistake decodes to fields no peer would
		 * send (the h2 layer drops those); any other must be real. */
		if (k == ref->nblocks && (g->res.invalid || g->res.error) &&
		    !g->nfields)
			continue;
		CHECK(k < ref->nblocks, "block %zu on stream %u was never sent", i,
		      g->stream);
		if (k == ref->nblocks)
			return;
		r = &ref->blocks[k];
		j = k + 1;
		for (f = 0, k = 0; f < g->nfields && k < r->nfields; k++)
			if (!strcmp(g->fields[f], r->fields[k]))
				f++;
		CHECK(f == g->nfields, "block %zu on stream %u: field \"%s\" was not sent",
		      i, g->stream, g->fields[f < g->nfields ? f : 0]);
		if (g->whole && !g->res.error)
			CHECK(g->nfields + g->res.unknown + g->res.dropped +
			      g->res.invalid == r->nfields,
			      "block %zu on stream %u: %zu fields + %u unknown, sent %zu",
			      i, g->stream, g->nfields, g->res.unknown, r->nfields);
	}
}

static void run_capture(const char *dir, const char *name)
{
	struct capture c;
	struct conn ref, cn;
	size_t first, skip, maxskip;
	const char *got;
	int mode;

	family(name);
	snprintf(cur_mode, sizeof(cur_mode), "load");
	CHECK(capture_load(&c, dir, name) == 0, "cannot load %s/%s", dir, name);
	if (!c.nrecs) {
		capture_free(&c);
		return;
	}
	/* From the start: as recorded, and one byte at a time. */
	for (mode = 0; mode < 2; mode++) {
		snprintf(cur_mode, sizeof(cur_mode), mode ? "one byte at a time" :
			 "as recorded");
		conn_init(&cn, false);
		conn_feed(&cn, &c, 0, 0, mode);
		got = dec_log(&cn.dir[0]);
		CHECK(strcmp(got, c.expect) == 0, "log");
		if (strcmp(got, c.expect))
			diff_logs(got, c.expect);
		CHECK(cn.dir[0].fst.bad_frames + cn.dir[1].fst.bad_frames == 0 &&
		      cn.dir[0].fst.resync_bytes + cn.dir[1].fst.resync_bytes == 0,
		      "bad frames or resyncs");
		CHECK(cn.dir[0].hst.blocks_failed + cn.dir[1].hst.blocks_failed == 0,
		      "blocks failed");
		conn_free(&cn);
	}
	/* Joined midway: at every record, and at its first bytes. */
	conn_init(&ref, false);
	conn_feed(&ref, &c, 0, 0, false);
	for (first = 1; first < c.nrecs; first++) {
		maxskip = c.recs[first].len < 48 ? c.recs[first].len : 48;
		for (skip = 0; skip < maxskip; skip++) {
			snprintf(cur_mode, sizeof(cur_mode),
				 "joined at record %zu byte %zu", first, skip);
			unsigned long before = failures;

			conn_init(&cn, true);
			conn_feed(&cn, &c, first, skip, false);
			check_midway(&ref.dir[0], &cn.dir[0]);
			check_midway(&ref.dir[1], &cn.dir[1]);
			if (failures > before && budget >= 0)
				fprintf(stderr, "  the log:\n%s", dec_log(&cn.dir[0]));
			conn_free(&cn);
		}
	}
	conn_free(&ref);
	capture_free(&c);
}

static void run_captures(const char *dir, const char *only)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char name[256];
	size_t n;

	family("captures");
	CHECK(dp != NULL, "cannot open %s", dir);
	if (!dp)
		return;
	while ((e = readdir(dp))) {
		n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".cap") || n - 4 >= sizeof(name))
			continue;
		memcpy(name, e->d_name, n - 4);
		name[n - 4] = '\0';
		if (!only || strstr(name, only))
			run_capture(dir, name);
	}
	closedir(dp);
}

/* ---- HPACK: the memo of the last block that left the table alone ---- */

static void memo_field(void *ctx, const uint8_t *name, size_t nlen,
		       const uint8_t *value, size_t vlen, bool sensitive)
{
	struct buf *b = ctx;

	if (b->len)
		buf_str(b, "; ");
	buf_put(b, name, nlen);
	buf_str(b, ": ");
	buf_put(b, value, vlen);
	if (sensitive)
		buf_str(b, " (sensitive)");
}

/* Decodes a block given in hex; checks its fields, whether it was
 * answered from the memo, and whether it failed. */
static void memo_step(struct hpack *hp, struct hpack_stats *st,
		      const char *hex, const char *fields, bool memo, bool error)
{
	struct buf blk = { 0 }, got = { 0 };
	struct hpack_result res;
	uint64_t before = st->blocks_memo;

	buf_hex(&blk, hex);
	hpack_decode(hp, blk.p, blk.len, true, memo_field, &got, &res);
	buf_byte(&got, 0);
	CHECK(res.error == error, "block %s: error %d", hex, res.error);
	if (!error)
		CHECK(strcmp((const char *)got.p, fields) == 0,
		      "block %s: fields {%s}, want {%s}", hex, (const char *)got.p, fields);
	CHECK((st->blocks_memo - before == 1) == memo, "block %s: from the memo %d, want %d",
	      hex, (int)(st->blocks_memo - before), memo);
	free(blk.p);
	free(got.p);
}

/* Field validity (RFC 9113 section 8.2.1), byte by byte: a literal
 * field (without indexing, a new name) whose name or value holds byte b
 * at position p, for every b, p and length up to 40, must count as
 * invalid exactly when b may not be there.  The decoder checks words of
 * eight and four bytes, overlapping at the end: every position of every
 * length reaches each of those paths. */
static void count_field(void *ctx, const uint8_t *name, size_t nlen,
			const uint8_t *value, size_t vlen, bool sensitive)
{
	(void)name, (void)nlen, (void)value, (void)vlen, (void)sensitive;
	++*(int *)ctx;
}

static bool name_byte_ok(uint8_t b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
	       (b && strchr("!#$%&'*+-.^_`|~", b));
}

static void run_hpack_valid(void)
{
	struct hpack_stats st = { 0 };
	struct hpack *hp = hpack_new(true, &st);
	uint8_t blk[2 + 2 * 41];
	int bad = 0;

	family("hpack-valid");
	snprintf(cur_mode, sizeof(cur_mode), "synced");
	CHECK(hp != NULL, "hpack_new");
	if (!hp)
		return;
	for (int side = 0; side < 2; side++) {
		for (size_t len = 1; len <= 40; len++) {
			for (size_t p = 0; p < len; p++) {
				for (int b = 0; b < 256; b++) {
					struct hpack_result res;
					uint8_t *f = blk + 2 + (side ? 2 : 0);
					int got = 0;
					bool want;

					/* 0x00: literal without indexing, new name;
					 * side 0: name of len bytes, value "v";
					 * side 1: name "n", value of len bytes */
					blk[0] = 0x00;
					if (side) {
						blk[1] = 1, blk[2] = 'n', blk[3] = (uint8_t)len;
					} else {
						blk[1] = (uint8_t)len;
					}
					memset(f, side ? 'v' : 'n', len);
					f[p] = (uint8_t)b;
					if (!side)
						f[len] = 1, f[len + 1] = 'v';
					if (side)
						want = b != 0 && b != '\r' && b != '\n';
					else if (p == 0 && b == ':')
						want = len > 1; /* a pseudo-header's name */
					else
						want = name_byte_ok((uint8_t)b);
					hpack_decode(hp, blk, 2 + len + 2, true, count_field, &got, &res);
					if ((got == 1) != want || res.invalid != !want || res.error) {
						if (bad++ < 5)
							CHECK(false, "%s of %zu bytes, 0x%02x at %zu: %s, want %s",
							      side ? "value" : "name", len, b, p,
							      got ? "valid" : "invalid", want ? "valid" : "invalid");
					}
				}
			}
		}
	}
	CHECK(bad == 0, "%d fields judged wrongly", bad);
	hpack_free(hp);
}

static void run_hpack_memo(void)
{
	/* RFC 7541 C.3.1: adds :authority (index 62) */
	static const char add_auth[] = "828684410f7777772e6578616d706c652e636f6d";
	/* indexed only, 62 among them */
	static const char idx[] = "828684be";
	/* adds custom-key: custom-value, which becomes 62 */
	static const char add_custom[] = "400a637573746f6d2d6b65790c637573746f6d2d76616c7565";
	/* never indexed, a new name: password: secret */
	static const char never[] = "100870617373776f726406736563726574";
	struct hpack_stats st = { 0 };
	struct hpack *hp = hpack_new(true, &st);

	family("hpack-memo");
	snprintf(cur_mode, sizeof(cur_mode), "synced");
	CHECK(hp != NULL, "hpack_new");
	if (!hp)
		return;
	memo_step(hp, &st, add_auth, ":method: GET; :scheme: http; :path: /; :authority: www.example.com",
		  false, false);
	memo_step(hp, &st, add_auth, ":method: GET; :scheme: http; :path: /; :authority: www.example.com",
		  false, false); /* it inserts: never from the memo */
	memo_step(hp, &st, idx, ":method: GET; :scheme: http; :path: /; :authority: www.example.com",
		  false, false);
	memo_step(hp, &st, idx, ":method: GET; :scheme: http; :path: /; :authority: www.example.com",
		  true, false);
	/* Another block that leaves the table alone replaces the memo. */
	memo_step(hp, &st, never, "password: secret (sensitive)", false, false);
	memo_step(hp, &st, never, "password: secret (sensitive)", true, false);
	memo_step(hp, &st, idx, ":method: GET; :scheme: http; :path: /; :authority: www.example.com",
		  false, false);
	/* An insertion moves index 62: the same bytes now mean another
	 * field. */
	memo_step(hp, &st, add_custom, "custom-key: custom-value", false, false);
	memo_step(hp, &st, idx, ":method: GET; :scheme: http; :path: /; custom-key: custom-value",
		  false, false);
	memo_step(hp, &st, idx, ":method: GET; :scheme: http; :path: /; custom-key: custom-value",
		  true, false);
	/* Fields past what the memo keeps (2 KB): decoded each time. */
	{
		static char add_big[2 * (5 + 3 + 1500) + 1], one[5 + 1500 + 1],
			two[2 * sizeof(one) + 2];
		char *p = add_big;

		p += sprintf(p, "4003626967" "7fdd0a"); /* big: 1,500 bytes */
		for (int i = 0; i < 1500; i++)
			p += sprintf(p, "61");
		memcpy(one, "big: ", 5);
		memset(one + 5, 'a', 1500);
		one[5 + 1500] = '\0';
		snprintf(two, sizeof(two), "%s; %s", one, one);
		memo_step(hp, &st, add_big, one, false, false);
		memo_step(hp, &st, "bebe", two, false, false);
		memo_step(hp, &st, "bebe", two, false, false);
	}
	/* A smaller table, acknowledged: the next block must begin with a
	 * size update (RFC 7541 section 4.2), so the same bytes are an
	 * error now, not the memo's fields. */
	hpack_settings_sent(hp, 0);
	hpack_settings_acked(hp);
	memo_step(hp, &st, idx, "", false, true);
	CHECK(st.blocks == 14 && st.blocks_memo == 3, "blocks %llu, from the memo %llu",
	      (unsigned long long)st.blocks, (unsigned long long)st.blocks_memo);
	hpack_free(hp);
}

int main(int argc, char **argv)
{
	const char *only = argc > 2 ? argv[2] : NULL;
	const char *capdir = argc > 1 ? argv[1] : "tests/unit/h2";
	size_t i;

	for (i = 0; i < sizeof(frame_fixtures) / sizeof(frame_fixtures[0]); i++)
		if (!only || strstr(frame_fixtures[i].name, only))
			run_frame_fixture(&frame_fixtures[i]);
	for (i = 0; i < sizeof(hpack_fixtures) / sizeof(hpack_fixtures[0]); i++)
		if (!only || strstr(hpack_fixtures[i].name, only))
			run_hpack_fixture(&hpack_fixtures[i]);
	for (i = 0; i < sizeof(hp_cases) / sizeof(hp_cases[0]); i++)
		if (!only || strstr(hp_cases[i].name, only))
			run_hp_case(&hp_cases[i]);
	if (!only || strstr(hp_invalid.name, only))
		run_hp_case(&hp_invalid);
	if (!only || strstr("hostile", only))
		run_hostile();
	if (!only || strstr("hpack-memo", only))
		run_hpack_memo();
	if (!only || strstr("hpack-valid", only))
		run_hpack_valid();
	run_captures(capdir, only);
	printf("test_h2: %lu checks, %lu failures\n", checks, failures);
	return failures ? 1 : 0;
}
