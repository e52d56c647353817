/* websocket.c -- WebSocket (RFC 6455) after an HTTP/1 upgrade: frames parsed in each direction, messages reassembled and reported.
 *
 * Each direction is a sequence of frames (section 5.2): a 2 to 14 byte
 * header (FIN, RSV1-3, opcode, MASK, payload length, masking key) and the
 * payload.  A data message is one frame, or a first frame and
 * continuations up to one with FIN; control frames (close, ping, pong)
 * may come between fragments, each a message of its own.  A frame
 * carries no marker to find the next one by, so a capture gap inside a
 * payload is bridged (its length is known), and one anywhere else ends
 * the direction's parsing: what was being read is reported with an
 * error, and the rest is counted as skipped.
 */
#include "proto/websocket.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/util.h"

/* A message being read, and what only the reading needs. */
struct wmsg {
	struct ws_msg m;
	bool open;	   /* it has frames, and waits for its last */
	bool stop;	   /* its preview cannot go on (a gap) */
	bool inflate;	   /* its payload is inflated into the preview */
	uint8_t code[2];   /* a close frame's status code, as it comes */
	uint8_t ncode;
};

struct ws_dir {
	uint8_t hdr[WS_HEADER_MAX]; /* the frame header being read */
	uint8_t hlen;		    /* bytes of it so far */
	uint64_t hts;		    /* when its first byte came */
	bool in_payload;
	bool fin, masked;
	uint8_t opcode;
	uint8_t key[4];
	uint64_t left;		    /* payload bytes still to come */
	uint64_t off;		    /* payload bytes so far (for the key) */
	struct wmsg data;	    /* a data message */
	struct wmsg ctl;	    /* a control frame */
	struct wmsg *cur;	    /* the one the frame belongs to */
	uint8_t ctl_buf[WS_CONTROL_MAX];
	z_stream *z;		    /* permessage-deflate's inflater */
	bool z_fresh;		    /* no context takeover: each message
				     * starts a new window */
	bool z_broken;		    /* a gap broke the window that later
				     * messages refer to */
	bool lost;		    /* frame boundaries lost: skip the rest */
};

struct ws {
	const struct proto_env *env;
	const struct conn_info *conn;
	int client_dir;		    /* the direction frames from the client
				     * take, or -1 until a masked one says */
	bool deflate;		    /* permessage-deflate was agreed */
	struct ws_dir d[2];
};

/* RFC 7692 section 7.2.2: the end of each compressed message, which the
 * sender takes out and the receiver puts back. */
static const uint8_t deflate_tail[4] = { 0x00, 0x00, 0xff, 0xff };

/* --- messages -------------------------------------------------------- */

static void msg_start(struct ws *w, struct ws_dir *d, int dir, struct wmsg *x,
		      uint8_t opcode, bool compressed)
{
	uint8_t *preview = x->m.preview;

	memset(x, 0, sizeof(*x));
	x->m.preview = preview;
	x->m.dir = dir;
	x->m.from_client = dir == w->client_dir;
	x->m.opcode = opcode;
	x->m.close_code = -1;
	x->m.first_ts = d->hts;
	x->open = true;
	if (compressed) {
		x->m.compressed = true;
		if (d->z && d->z_fresh)
			d->z_broken = inflateReset(d->z) != Z_OK;
		if (d->z && !d->z_broken)
			x->inflate = true;
		else if (d->z)
			x->m.error = "compressed message follows a capture gap";
		else
			x->m.error = "cannot inflate: out of memory";
	}
}

/* Inflates p[0..n) into x's preview, up to max bytes, and the rest
 * into nothing: the window must see all of it, for the next messages. */
static void msg_inflate(struct ws_dir *d, struct wmsg *x, size_t max,
			const uint8_t *p, size_t n)
{
	uint8_t sink[256];
	z_stream *z = d->z;
	int r;

	z->next_in = (Bytef *)p;
	z->avail_in = n;
	do {
		size_t room = max - x->m.preview_len;

		z->next_out = room ? x->m.preview + x->m.preview_len : sink;
		z->avail_out = room ? room : sizeof(sink);
		r = inflate(z, Z_SYNC_FLUSH);
		if (room)
			x->m.preview_len = max - z->avail_out;
		else if (z->avail_out < sizeof(sink))
			x->m.preview_truncated = true;
		/* a sender may end a message's stream (BFINAL): what
		 * follows starts a new one */
		if (r == Z_STREAM_END)
			r = inflateReset(z);
		if (r != Z_OK && r != Z_BUF_ERROR) {
			x->m.error = "invalid compressed data";
			x->inflate = false;
			d->z_broken = true;
			return;
		}
	} while (z->avail_in || !z->avail_out);
}

/* Reports x, and makes it ready for the next message. */
static void msg_emit(struct ws *w, struct wmsg *x, uint64_t ts)
{
	/* the tail ends the message's last deflate block */
	if (x->inflate)
		msg_inflate(&w->d[x->m.dir], x, w->env->max_body, deflate_tail,
			    sizeof(deflate_tail));
	x->m.last_ts = ts;
	x->m.conn = *w->conn;
	w->env->stats->ws_messages++;
	if (w->env->emit.ws)
		w->env->emit.ws(w->env->emit.ctx, &x->m);
	x->open = false;
}

/* The frame's payload bytes p[0..n), unmasked, into x. */
static void msg_payload(struct ws *w, struct ws_dir *d, struct wmsg *x,
			const uint8_t *p, size_t n)
{
	size_t max = w->env->max_body;

	if (x == &d->ctl && max > WS_CONTROL_MAX)
		max = WS_CONTROL_MAX;

	/* section 5.5.1: a close frame's payload is a code and a reason */
	if (x->m.opcode == WS_CLOSE && x->ncode < 2) {
		while (n && x->ncode < 2) {
			x->code[x->ncode++] = *p++;
			n--;
		}
		if (x->ncode == 2)
			x->m.close_code = x->code[0] << 8 | x->code[1];
	}
	if (!n || x->stop)
		return;
	if (x->inflate) {
		msg_inflate(d, x, max, p, n);
		return;
	}
	if (n > max - x->m.preview_len) {
		x->m.preview_truncated = true;
		n = max - x->m.preview_len;
	}
	if (n && x->m.preview)
		memcpy(x->m.preview + x->m.preview_len, p, n);
	if (x->m.preview)
		x->m.preview_len += n;
}

/* --- frames ---------------------------------------------------------- */

/* Bytes in the header at its start, and the header's whole size once
 * hdr[0..1] are known. */
static size_t header_size(const uint8_t *h)
{
	size_t n = 2 + ((h[1] & 0x80) ? 4 : 0);

	if ((h[1] & 0x7f) == 126)
		n += 2;
	else if ((h[1] & 0x7f) == 127)
		n += 8;
	return n;
}

/* Sections 5.2 and 5.5: what a frame header may say, given what came
 * before it. */
static const char *frame_check(const struct ws *w, const struct ws_dir *d,
			       uint64_t len)
{
	uint8_t b0 = d->hdr[0], op = b0 & 0x0f;
	bool control = op & 0x8;

	if ((b0 & 0x30) || ((b0 & 0x40) && (!w->deflate || control || op == WS_CONTINUATION)))
		return "invalid frame: reserved bits";
	if ((op > WS_BINARY && op < WS_CLOSE) || op > WS_PONG)
		return "invalid frame: reserved opcode";
	if (control && (!(b0 & 0x80) || len > WS_CONTROL_MAX))
		return "invalid frame: control frame fragmented or too long";
	if (op == WS_CONTINUATION && !d->data.open)
		return "invalid frame: continuation without a message";
	if (!control && op != WS_CONTINUATION && d->data.open)
		return "invalid frame: new message before the last one ended";
	if (len >> 63)
		return "invalid frame: length";
	return NULL;
}

static void frame_end(struct ws *w, struct ws_dir *d, uint64_t ts)
{
	struct wmsg *x = d->cur;

	d->in_payload = false;
	d->hlen = 0;
	if (x->m.opcode & 0x8 || d->fin)
		msg_emit(w, x, ts);
}

/* Reports what was being read with error why, and gives the direction
 * up: its frame boundaries are lost. */
static void dir_lose(struct ws *w, struct ws_dir *d, uint64_t missing,
		     const char *why, uint64_t ts)
{
	struct wmsg *x = d->in_payload ? d->cur : d->data.open ? &d->data : NULL;

	if (x && x->open) {
		x->m.missing += missing; /* the frame's length is in size */
		x->m.preview_truncated |= missing > 0;
		x->m.error = why;
		msg_emit(w, x, ts);
	}
	if (x != &d->data && d->data.open) {
		d->data.m.error = why;
		msg_emit(w, &d->data, ts);
	}
	d->lost = true;
	d->in_payload = false;
	d->hlen = 0;
}

/* The header in d->hdr is whole: starts its frame. */
static void frame_begin(struct ws *w, struct ws_dir *d, int dir, uint64_t ts)
{
	const uint8_t *h = d->hdr;
	uint64_t len = h[1] & 0x7f;
	size_t k = 2;
	const char *bad;
	uint8_t op = h[0] & 0x0f;

	if (len >= 126) {
		int n = len == 126 ? 2 : 8;

		for (len = 0; n--; )
			len = len << 8 | h[k++];
	}
	bad = frame_check(w, d, len);
	if (bad) {
		w->env->stats->parse_errors++;
		dir_lose(w, d, 0, bad, ts);
		return;
	}
	d->fin = h[0] & 0x80;
	d->masked = h[1] & 0x80;
	if (d->masked)
		memcpy(d->key, h + k, 4);
	/* section 5.3: only a client masks */
	if (w->client_dir < 0)
		w->client_dir = d->masked ? dir : 1 - dir;
	if (op & 0x8)
		msg_start(w, d, dir, &d->ctl, op, false);
	else if (op != WS_CONTINUATION)
		msg_start(w, d, dir, &d->data, op, h[0] & 0x40);
	d->cur = op & 0x8 ? &d->ctl : &d->data;
	d->cur->m.frames++;
	d->cur->m.masked |= d->masked;
	d->cur->m.size += len;
	d->left = len;
	d->off = 0;
	d->in_payload = true;
	if (!len)
		frame_end(w, d, ts);
}

/* The payload's next n bytes at p, unmasked a step at a time. */
static void frame_payload(struct ws *w, struct ws_dir *d, const uint8_t *p,
			  size_t n)
{
	uint8_t buf[4096];

	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		if (d->masked) {
			for (size_t i = 0; i < k; i++)
				buf[i] = p[i] ^ d->key[(d->off + i) & 3];
		}
		msg_payload(w, d, d->cur, d->masked ? buf : p, k);
		d->off += k;
		d->left -= k;
		p += k;
		n -= k;
	}
}

/* --- the protocol's ops ---------------------------------------------- */

static int ws_data(void *p, int dir, const uint8_t *data, size_t len,
		   uint64_t ts, size_t *used)
{
	struct ws *w = p;
	struct ws_dir *d = &w->d[dir];

	(void)used;
	while (len && !d->lost) {
		if (d->in_payload) {
			size_t k = len < d->left ? len : d->left;

			frame_payload(w, d, data, k);
			data += k;
			len -= k;
			if (!d->left)
				frame_end(w, d, ts);
			continue;
		}
		if (!d->hlen)
			d->hts = ts;
		d->hdr[d->hlen++] = *data++;
		len--;
		if (d->hlen >= 2 && d->hlen == header_size(d->hdr))
			frame_begin(w, d, dir, ts);
	}
	if (d->lost)
		w->env->stats->resync_bytes += len;
	return 0;
}

static void ws_gap(void *p, int dir, uint64_t len, uint64_t ts)
{
	struct ws *w = p;
	struct ws_dir *d = &w->d[dir];
	struct wmsg *x = d->cur;

	if (d->lost)
		return;
	if (!d->in_payload || len > d->left) {
		dir_lose(w, d, d->in_payload ? d->left : 0,
			 "message cut by a capture gap", ts);
		return;
	}
	/* inside a payload of known length: bridged */
	x->m.missing += len;
	x->stop = true;
	if (x->inflate) {
		x->inflate = false;
		x->m.error = "compressed message has a capture gap";
		d->z_broken = true;
	}
	x->m.preview_truncated = true;
	d->off += len;
	d->left -= len;
	if (!d->left)
		frame_end(w, d, ts);
}

static void ws_close(void *p, uint64_t ts, const char *why)
{
	struct ws *w = p;

	(void)why;
	for (int dir = 0; dir < 2; dir++) {
		struct ws_dir *d = &w->d[dir];

		if (!d->lost && (d->in_payload || d->data.open))
			dir_lose(w, d, d->in_payload ? d->left : 0,
				 "connection ended before the message did", ts);
	}
}

static void ws_free(void *p)
{
	struct ws *w = p;

	if (!w)
		return;
	for (int dir = 0; dir < 2; dir++) {
		free(w->d[dir].data.m.preview);
		if (w->d[dir].z) {
			inflateEnd(w->d[dir].z);
			free(w->d[dir].z);
		}
	}
	free(w);
}

/* RFC 7692 section 7: permessage-deflate, with or without context
 * takeover per side, as the 101's Sec-WebSocket-Extensions agreed. */
static void ws_extensions(struct ws *w, const struct proto_switch *from)
{
	const char *v;
	size_t len = 0;
	bool no_takeover[2];

	if (!from || !from->txn ||
	    !(v = http_msg_header(&from->txn->resp, "Sec-WebSocket-Extensions", &len)) ||
	    !memmem(v, len, "permessage-deflate", 18))
		return;
	w->deflate = true;
	/* index 1: the client's messages, 0: the server's */
	no_takeover[1] = memmem(v, len, "client_no_context_takeover", 26) != NULL;
	no_takeover[0] = memmem(v, len, "server_no_context_takeover", 26) != NULL;
	for (int dir = 0; dir < 2; dir++) {
		struct ws_dir *d = &w->d[dir];

		d->z = calloc(1, sizeof(*d->z));
		if (d->z && inflateInit2(d->z, -MAX_WBITS) != Z_OK) {
			free(d->z);
			d->z = NULL;
		}
		d->z_fresh = w->client_dir >= 0 && no_takeover[dir == w->client_dir];
	}
}

static void *ws_new(const struct proto_env *env, const struct conn_info *conn,
		    const struct proto_switch *from)
{
	struct ws *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->env = env;
	w->conn = conn;
	/* the client sent the request that switched */
	w->client_dir = from && from->req_dir >= 0 ? from->req_dir : -1;
	for (int dir = 0; dir < 2; dir++) {
		w->d[dir].ctl.m.preview = w->d[dir].ctl_buf;
		if (env->max_body && !(w->d[dir].data.m.preview = malloc(env->max_body))) {
			ws_free(w);
			return NULL;
		}
	}
	ws_extensions(w, from);
	return w;
}

static void ws_switched(void *p, struct proto_switch *sw)
{
	(void)p;
	memset(sw, 0, sizeof(*sw));
	sw->req_dir = -1;
}

const struct proto_ops websocket_proto = {
	.name = "websocket",
	.upgrade = "websocket",
	.new = ws_new,
	.data = ws_data,
	.gap = ws_gap,
	.switched = ws_switched,
	.close = ws_close,
	.free = ws_free,
};
