/* test_websocket.c -- unit test of the WebSocket protocol: connections upgraded by a 101, their frames (masked or not, fragmented, compressed, cut by gaps) fed through the stream tracker as probe records.
 *
 * The fixtures are built at run time (frames are masked and compressed
 * here) and fed in every way harness.c knows: whole, split at every
 * byte, one byte at a time, reordered; gaps are in the fixtures' chunks.
 * Exits 0 only if every check passed; an argument runs only the parts
 * whose name contains it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "harness.h"
#include "proto/websocket.h"

#define CLIENT_HELLO "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" \
		     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
		     "Sec-WebSocket-Version: 13\r\n\r\n"
#define SWITCH "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" \
	       "Connection: Upgrade\r\n"
#define SWITCH_PLAIN SWITCH "\r\n"
#define SWITCH_DEFLATE SWITCH "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"

static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* A frame of payload p[0..n) (RFC 6455 section 5.2), masked with key
 * when mask, in an owned buffer after prefix. */
static const uint8_t *frame(size_t *len, const char *prefix, bool fin, uint8_t op,
			    bool rsv1, bool mask, const void *p, size_t n)
{
	size_t pl = strlen(prefix), h = 2;
	uint8_t *b = own(xmalloc(pl + 14 + n)), *f = b + pl;

	memcpy(b, prefix, pl);
	f[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | op;
	if (n < 126) {
		f[1] = (uint8_t)n;
	} else if (n < 65536) {
		f[1] = 126;
		f[2] = (uint8_t)(n >> 8);
		f[3] = (uint8_t)n;
		h = 4;
	} else {
		f[1] = 127;
		for (int i = 0; i < 8; i++)
			f[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	if (mask) {
		f[1] |= 0x80;
		memcpy(f + h, key, 4);
		h += 4;
	}
	for (size_t i = 0; i < n; i++)
		f[h + i] = ((const uint8_t *)p)[i] ^ (mask ? key[i & 3] : 0);
	*len = pl + h + n;
	return b;
}

/* A close frame's payload: the code, then the reason. */
static const char *close_payload(size_t *n, int code, const char *reason)
{
	char *b = own(xmalloc(2 + strlen(reason)));

	b[0] = (char)(code >> 8);
	b[1] = (char)code;
	memcpy(b + 2, reason, strlen(reason));
	*n = 2 + strlen(reason);
	return b;
}

/* Adds a chunk of a frame to f (side: who sends it; a client masks). */
static void add(struct fixture *f, int *i, enum side side, const char *prefix,
		bool fin, uint8_t op, const void *p, size_t n)
{
	struct chunk *c = &f->chunks[(*i)++];

	c->side = side;
	c->data = frame(&c->len, prefix, fin, op, false, side == REQ, p, n);
}

static struct fixture rt[12];
static size_t nrt;

/* The handshake as the first transaction of every fixture. */
static struct fixture *begin(const char *name, uint8_t role)
{
	struct fixture *f = &rt[nrt++];

	f->name = name;
	f->role = role;
	f->ntxns = 1;
	f->upgrades = 1;
	f->txns[0] = (struct expect){ .method = "GET", .target = "/chat", .status = 101,
				      .reason = "Switching Protocols", .upgraded = true };
	return f;
}

static void add_both_ways(void)
{
	struct fixture *f = begin("text, binary and close, both ways", HS_ROLE_CLIENT);
	uint8_t bin[300];
	size_t n;
	const char *cp;
	int i = 0;

	for (size_t k = 0; k < sizeof(bin); k++)
		bin[k] = (uint8_t)(k * 7);
	f->chunks[i++] = (struct chunk){ .side = REQ, .data = CLIENT_HELLO };
	/* the server's first frame comes with the 101 */
	add(f, &i, RESP, SWITCH_PLAIN, true, WS_TEXT, "welcome", 7);
	add(f, &i, REQ, "", true, WS_TEXT, "hi there", 8);
	add(f, &i, REQ, "", true, WS_BINARY, bin, sizeof(bin));
	add(f, &i, RESP, "", true, WS_BINARY, "\x00\x01\x02", 3);
	cp = close_payload(&n, 1001, "going away");
	add(f, &i, REQ, "", true, WS_CLOSE, cp, n);
	cp = close_payload(&n, 1000, "bye");
	add(f, &i, RESP, "", true, WS_CLOSE, cp, n);
	f->nws = 6;
	f->ws[0] = (struct ws_expect){ RESP, WS_TEXT, .size = 7, .preview = "welcome" };
	f->ws[1] = (struct ws_expect){ REQ, WS_TEXT, .size = 8, .preview = "hi there" };
	f->ws[2] = (struct ws_expect){ REQ, WS_BINARY, .size = 300, .preview = (char *)own(xmalloc(300)),
				       .preview_len = 300 };
	memcpy((void *)f->ws[2].preview, bin, 300);
	f->ws[3] = (struct ws_expect){ RESP, WS_BINARY, .size = 3, .preview = "\x00\x01\x02",
				       .preview_len = 3 };
	f->ws[4] = (struct ws_expect){ REQ, WS_CLOSE, .size = 12, .close_code = 1001,
				       .preview = "going away" };
	f->ws[5] = (struct ws_expect){ RESP, WS_CLOSE, .size = 5, .close_code = 1000,
				       .preview = "bye" };
}

/* Section 5.4: a control frame may come between a message's fragments. */
static void add_fragmented(void)
{
	struct fixture *f = begin("fragmented text with a ping between", HS_ROLE_SERVER);
	int i = 0;

	f->chunks[i++] = (struct chunk){ .side = REQ, .data = CLIENT_HELLO };
	f->chunks[i++] = (struct chunk){ .side = RESP, .data = SWITCH_PLAIN };
	add(f, &i, REQ, "", false, WS_TEXT, "Hello, ", 7);
	add(f, &i, REQ, "", true, WS_PING, "p1", 2);
	add(f, &i, REQ, "", false, WS_CONTINUATION, "Web", 3);
	add(f, &i, RESP, "", true, WS_PONG, "p1", 2);
	add(f, &i, REQ, "", true, WS_CONTINUATION, "Socket!", 7);
	add(f, &i, REQ, "", true, WS_TEXT, "", 0);
	f->nws = 4;
	f->ws[0] = (struct ws_expect){ REQ, WS_PING, .size = 2, .preview = "p1" };
	f->ws[1] = (struct ws_expect){ RESP, WS_PONG, .size = 2, .preview = "p1" };
	f->ws[2] = (struct ws_expect){ REQ, WS_TEXT, .frames = 3, .size = 17,
				       .preview = "Hello, WebSocket!" };
	f->ws[3] = (struct ws_expect){ .side = REQ, .opcode = WS_TEXT };
}

/* RFC 7692: each message deflated with Z_SYNC_FLUSH, its 00 00 ff ff
 * tail taken out; with context takeover (the default) a message refers
 * to the ones before it, so one stream per direction. */
static const uint8_t *deflated(z_stream *z, const char *s, size_t *n)
{
	uint8_t *b = own(xmalloc(256));

	z->next_in = (Bytef *)s;
	z->avail_in = strlen(s);
	z->next_out = b;
	z->avail_out = 256;
	if (deflate(z, Z_SYNC_FLUSH) != Z_OK || z->avail_out < 4) {
		fprintf(stderr, "test_websocket: deflate failed\n");
		exit(2);
	}
	*n = 256 - z->avail_out - 4;
	return b;
}

/* Adds a chunk holding a compressed frame. */
static void add_deflated(struct fixture *f, int *i, enum side side, const uint8_t *p,
			 size_t n)
{
	struct chunk *c = &f->chunks[(*i)++];

	c->side = side;
	c->data = frame(&c->len, "", true, WS_TEXT, true, side == REQ, p, n);
}

static void add_deflate(void)
{
	struct fixture *f = begin("permessage-deflate, context taken over", HS_ROLE_CLIENT);
	const char *m1 = "the same words, the same words, the same words";
	z_stream zs = { 0 }, zc = { 0 };
	const uint8_t *p;
	size_t n1, n2, n3;
	int i = 0;

	if (deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK ||
	    deflateInit2(&zc, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		exit(2);
	f->chunks[i++] = (struct chunk){ .side = REQ, .data = CLIENT_HELLO };
	f->chunks[i++] = (struct chunk){ .side = RESP, .data = SWITCH_DEFLATE };
	p = deflated(&zs, m1, &n1);
	add_deflated(f, &i, RESP, p, n1);
	p = deflated(&zs, m1, &n2); /* refers back to the first */
	add_deflated(f, &i, RESP, p, n2);
	p = deflated(&zc, "from the client", &n3);
	add_deflated(f, &i, REQ, p, n3);
	f->nws = 3;
	f->ws[0] = (struct ws_expect){ RESP, WS_TEXT, .size = n1, .preview = m1, .compressed = true };
	f->ws[1] = (struct ws_expect){ RESP, WS_TEXT, .size = n2, .preview = m1, .compressed = true };
	f->ws[2] = (struct ws_expect){ REQ, WS_TEXT, .size = n3, .preview = "from the client",
				       .compressed = true };
	deflateEnd(&zs);
	deflateEnd(&zc);
}

/* A message longer than the preview, over many records. */
static void add_big(void)
{
	struct fixture *f = begin("a 70,000-byte message (64-bit length)", HS_ROLE_CLIENT);
	size_t n = 70000, len, off = 0;
	uint8_t *p = own(xmalloc(n));
	const uint8_t *fr;
	int i = 0;

	for (size_t k = 0; k < n; k++)
		p[k] = 'a' + k % 26;
	f->big = true;
	f->chunks[i++] = (struct chunk){ .side = REQ, .data = CLIENT_HELLO };
	f->chunks[i++] = (struct chunk){ .side = RESP, .data = SWITCH_PLAIN };
	fr = frame(&len, "", true, WS_TEXT, false, false, p, n);
	while (off < len) {
		size_t k = len - off < HS_CHUNK_MAX ? len - off : HS_CHUNK_MAX;

		f->chunks[i++] = (struct chunk){ RESP, .data = fr + off, .len = k };
		off += k;
	}
	f->nws = 1;
	f->ws[0] = (struct ws_expect){ RESP, WS_TEXT, .size = n, .preview = (char *)p,
				       .preview_len = MAX_BODY, .truncated = true };
}

/* A frame no sender may send ends the direction's parsing: its bytes
 * are skipped, counted; the other direction goes on. */
static void add_invalid(void)
{
	struct fixture *f = begin("reserved opcode ends the direction", HS_ROLE_CLIENT);
	int i = 0;

	f->chunks[i++] = (struct chunk){ .side = REQ, .data = CLIENT_HELLO };
	f->chunks[i++] = (struct chunk){ .side = RESP, .data = SWITCH_PLAIN };
	add(f, &i, RESP, "", true, 0x3, "??", 2);
	add(f, &i, RESP, "", true, WS_TEXT, "lost", 4);
	add(f, &i, REQ, "", true, WS_TEXT, "still here", 10);
	f->parse_errors = 1;
	f->nws = 1;
	f->ws[0] = (struct ws_expect){ REQ, WS_TEXT, .size = 10, .preview = "still here" };
}

/* A message whose last frame never came is reported at the close. */
static void add_unfinished(void)
{
	struct fixture *f = begin("connection closed mid-message", HS_ROLE_SERVER);
	int i = 0;

	f->chunks[i++] = (struct chunk){ .side = REQ, .data = CLIENT_HELLO };
	f->chunks[i++] = (struct chunk){ .side = RESP, .data = SWITCH_PLAIN };
	add(f, &i, REQ, "", false, WS_TEXT, "part one, ", 10);
	add(f, &i, REQ, "", false, WS_CONTINUATION, "part two", 8);
	f->nws = 1;
	f->ws[0] = (struct ws_expect){ REQ, WS_TEXT, .frames = 2, .size = 18,
				       .preview = "part one, part two",
				       .error = "connection ended before the message did" };
}

/* Gaps: inside a payload (its length is known) one is bridged; one that
 * covers a frame header ends the direction. */
static void add_gaps(void)
{
	struct fixture *f = begin("gaps in a payload and in a header", HS_ROLE_CLIENT);
	uint8_t p[100];
	int i = 0;
	struct chunk *c;

	memset(p, 'x', sizeof(p));
	f->chunks[i++] = (struct chunk){ .side = REQ, .data = CLIENT_HELLO };
	f->chunks[i++] = (struct chunk){ .side = RESP, .data = SWITCH_PLAIN };
	add(f, &i, RESP, "", true, WS_TEXT, p, 100);
	c = &f->chunks[i - 1];
	c->gap = 60;	/* the last 60 payload bytes */
	c->len -= 60;
	add(f, &i, RESP, "", true, WS_TEXT, "after", 5);
	add(f, &i, REQ, "", true, WS_BINARY, p, 100);
	c = &f->chunks[i - 1];
	c->gap = 70;	/* 60 of the payload, and what follows */
	c->len -= 60;
	add(f, &i, REQ, "", true, WS_TEXT, "lost", 4);
	f->nws = 3;
	f->ws[0] = (struct ws_expect){ RESP, WS_TEXT, .size = 100, .missing = 60,
				       .preview = (char *)own(xmalloc(40)), .preview_len = 40,
				       .truncated = true };
	memset((void *)f->ws[0].preview, 'x', 40);
	f->ws[1] = (struct ws_expect){ RESP, WS_TEXT, .size = 5, .preview = "after" };
	f->ws[2] = (struct ws_expect){ REQ, WS_BINARY, .size = 100, .missing = 60,
				       .preview = f->ws[0].preview, .preview_len = 40,
				       .truncated = true, .error = "message cut by a capture gap" };
}

int main(int argc, char **argv)
{
	const struct fixture *all[sizeof(rt) / sizeof(rt[0])];

	add_both_ways();
	add_fragmented();
	add_deflate();
	add_big();
	add_invalid();
	add_unfinished();
	add_gaps();
	for (size_t i = 0; i < nrt; i++)
		all[i] = &rt[i];
	return harness_main("test_websocket", argc, argv, all, nrt, NULL, 0);
}
