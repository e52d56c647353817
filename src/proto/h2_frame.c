/* h2_frame.c -- HTTP/2 frames over one direction's bytes (RFC 9113 sections 4 and 6): an incremental parser that survives capture gaps.
 *
 * The parser follows frames by their 9-byte headers.  Each frame is read
 * in three parts: its fixed fields (pad length, priority, promised stream,
 * or a control frame's whole fixed payload), its content (DATA bytes,
 * header block fragments, SETTINGS parameters, GOAWAY debug data), and
 * its padding.  Any part can arrive split at any byte, or be lost: a loss
 * inside a frame keeps the framing, since the header said how long the
 * frame is.
 *
 * A loss that swallows a frame header, or a frame that breaks RFC 9113 in
 * a way a peer would close the connection for (a connection error,
 * section 5.4.1), leaves the parser at an unknown offset.  It then copies
 * the bytes into a window and looks for a frame boundary it can trust: a
 * run of plausible frames up to the end of a syscall's bytes, or three
 * plausible frame headers in a row (candidate()).
 */
#include "proto/h2_frame.h"

#include <stdlib.h>
#include <string.h>

enum state {
	S_PREFACE, /* matching the client preface */
	S_HDR,	   /* collecting a frame header */
	S_FRAME,   /* inside a frame: fixed fields, content, padding */
	S_RESYNC,  /* looking for a frame boundary in the window */
};

/* What a frame's content is. */
enum content {
	C_IGNORE,   /* skipped: an extension frame (section 4.1), or a
		     * CONTINUATION with no block to continue */
	C_DATA,	    /* DATA bytes, handed up */
	C_BLOCK,    /* a header block fragment, assembled */
	C_SETTINGS, /* SETTINGS parameters, 6 bytes each */
	C_DEBUG,    /* GOAWAY debug data */
	C_NONE,	    /* a frame that is all fixed fields, or one whose
		     * fixed fields were lost: skipped, then handed up */
};

/* The window a lost parser searches: a candidate frame and the next,
 * each of up to H2_RESYNC_FRAME_MAX bytes of payload, and the header
 * after them always fit, so that every candidate can be decided.
 * Frames longer than that are not accepted as the first frames after a
 * loss (the default SETTINGS_MAX_FRAME_SIZE: larger frames are rare). */
#define H2_RESYNC_FRAME_MAX H2_FRAME_SIZE_DEFAULT
#define H2_RESYNC_WINDOW (3 * H2_FRAME_HDR_LEN + 2 * H2_RESYNC_FRAME_MAX)

/* A header block buffer larger than this is freed once its block has
 * been handed up, so that an idle connection keeps little. */
#define H2_BLOCK_KEEP 4096

struct h2_frame_parser {
	struct h2_frame_opts o;
	enum state state;
	uint32_t max_len;    /* SETTINGS_MAX_FRAME_SIZE in effect */
	size_t preface_have; /* S_PREFACE: bytes matched */

	/* The frame being read. */
	uint8_t hdr_buf[H2_FRAME_HDR_LEN];
	size_t hdr_have;
	struct h2_frame_hdr hdr;
	uint32_t left;	      /* payload bytes still to come */
	uint8_t fix[8];	      /* fixed fields */
	size_t fix_need, fix_have;
	bool fix_lost;	      /* bytes of fix were never captured */
	enum content content;
	uint32_t content_left;
	bool content_lost;    /* the fixed fields said where the content
			       * ends and were lost: it counts as lost */
	uint32_t pad;	      /* padding bytes at the frame's end */
	uint8_t setting[6];   /* a SETTINGS parameter being collected */
	size_t setting_have;
	struct h2_control ctl;

	/* The header block being assembled (section 4.3). */
	bool in_block;	 /* waiting for CONTINUATION frames */
	struct h2_block blk;
	uint8_t *buf;	 /* the kept bytes of the block */
	size_t buf_cap;

	/* S_RESYNC (and draining after it): bytes [woff, wlen) of win are
	 * still to be looked at. */
	uint8_t *win;
	size_t woff, wlen;
	size_t call_at;	 /* window offset where the latest call began */
	bool call_seen;	 /* call_at is valid */
	bool call_whole; /* all of that call's bytes are in the window */
};

/* --- names ---------------------------------------------------------- */

const char *h2_frame_type_name(uint8_t type)
{
	static const char *const names[H2_TYPE_COUNT] = {
		"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
		"PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE",
		"CONTINUATION",
	};

	return type < H2_TYPE_COUNT ? names[type] : "UNKNOWN";
}

const char *h2_frame_error_name(uint32_t code)
{
	/* RFC 9113 section 7. */
	static const char *const names[] = {
		"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR",
		"FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
		"FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
		"COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
		"INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}

/* --- plausibility --------------------------------------------------- */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void h2_frame_hdr_parse(const uint8_t *p, struct h2_frame_hdr *h)
{
	h->len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	h->type = p[3];
	h->flags = p[4];
	h->reserved = p[5] & 0x80;
	h->stream_id = get32(p + 5) & 0x7fffffff;
}

/* Per type (section 6): the flags it defines, whether its stream id is
 * zero (0), non-zero (1) or either (2), and its payload length when fixed
 * (-1 otherwise). */
static const struct {
	uint8_t flags;
	uint8_t stream;
	int8_t len;
} type_rules[H2_TYPE_COUNT] = {
	[H2_DATA] = { H2_FLAG_END_STREAM | H2_FLAG_PADDED, 1, -1 },
	[H2_HEADERS] = { H2_FLAG_END_STREAM | H2_FLAG_END_HEADERS |
				 H2_FLAG_PADDED | H2_FLAG_PRIORITY, 1, -1 },
	[H2_PRIORITY] = { 0, 1, 5 },
	[H2_RST_STREAM] = { 0, 1, 4 },
	[H2_SETTINGS] = { H2_FLAG_ACK, 0, -1 },
	[H2_PUSH_PROMISE] = { H2_FLAG_END_HEADERS | H2_FLAG_PADDED, 1, -1 },
	[H2_PING] = { H2_FLAG_ACK, 0, 8 },
	[H2_GOAWAY] = { 0, 0, -1 },
	[H2_WINDOW_UPDATE] = { 0, 2, 4 },
	[H2_CONTINUATION] = { H2_FLAG_END_HEADERS, 1, -1 },
};

/* The bytes a frame needs before its content: padding and priority of
 * HEADERS and DATA, the promised stream of PUSH_PROMISE. */
static uint32_t overhead(const struct h2_frame_hdr *h)
{
	uint32_t n = (h->flags & H2_FLAG_PADDED) ? 1 : 0;

	if (h->type == H2_PUSH_PROMISE)
		n += 4;
	else if (h->type == H2_HEADERS && (h->flags & H2_FLAG_PRIORITY))
		n += 5;
	return n;
}

/* The lengths section 6 requires beyond the fixed ones: SETTINGS is a
 * list of 6-byte parameters and empty when an ACK; GOAWAY has 8 bytes
 * before its debug data; the fields before a frame's content fit. */
static bool length_fits(const struct h2_frame_hdr *h)
{
	switch (h->type) {
	case H2_SETTINGS:
		return (h->flags & H2_FLAG_ACK) ? h->len == 0 : h->len % 6 == 0;
	case H2_GOAWAY:
		return h->len >= 8;
	case H2_DATA:
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		return h->len >= overhead(h);
	default:
		return true;
	}
}

bool h2_frame_plausible(const struct h2_frame_hdr *h, uint32_t max_len,
			enum h2_sender sender)
{
	if (h->type >= H2_TYPE_COUNT || h->reserved || h->len > max_len)
		return false;
	if (h->flags & ~type_rules[h->type].flags)
		return false;
	if (type_rules[h->type].len >= 0 &&
	    h->len != (uint32_t)type_rules[h->type].len)
		return false;
	if ((type_rules[h->type].stream == 0 && h->stream_id) ||
	    (type_rules[h->type].stream == 1 && !h->stream_id))
		return false;
	if (!length_fits(h))
		return false;
	/* Legal but pointless, and what runs of zero bytes look like: an
	 * empty DATA frame that does not end its stream, a header block
	 * fragment with no bytes. */
	if (h->type == H2_DATA && !h->len && !(h->flags & H2_FLAG_END_STREAM))
		return false;
	if ((h->type == H2_HEADERS || h->type == H2_PUSH_PROMISE ||
	     h->type == H2_CONTINUATION) && h->len == overhead(h))
		return false;
	/* Section 5.1.1: a client opens odd streams and sends nothing on a
	 * pushed (even) stream but frames that close or steer it; only a
	 * server pushes, on a stream the client opened. */
	if (sender == H2_SENDER_CLIENT && h->stream_id && !(h->stream_id & 1) &&
	    h->type != H2_RST_STREAM && h->type != H2_PRIORITY &&
	    h->type != H2_WINDOW_UPDATE)
		return false;
	if (h->type == H2_PUSH_PROMISE &&
	    (sender == H2_SENDER_CLIENT || !(h->stream_id & 1)))
		return false;
	return true;
}

/* Section 6.10: a frame that leaves a header block open must be followed
 * by a CONTINUATION of the same stream, and only then may one come. */
static bool follows(const struct h2_frame_hdr *prev,
		    const struct h2_frame_hdr *next)
{
	bool open = (prev->type == H2_HEADERS || prev->type == H2_PUSH_PROMISE ||
		     prev->type == H2_CONTINUATION) &&
		    !(prev->flags & H2_FLAG_END_HEADERS);

	if (open)
		return next->type == H2_CONTINUATION &&
		       next->stream_id == prev->stream_id;
	return next->type != H2_CONTINUATION;
}

/* The length of the run of whole plausible frames at data, or 0 if the
 * first is not; *frames receives their count and *partial whether a
 * plausible header follows whose frame is not whole. */
static size_t frame_run(const uint8_t *data, size_t len, uint32_t max_len,
			enum h2_sender sender, size_t *frames, bool *partial)
{
	struct h2_frame_hdr h, prev = { 0 }; /* prev: read once pos > 0 */
	size_t pos = 0;

	*frames = 0;
	*partial = false;
	while (len - pos >= H2_FRAME_HDR_LEN) {
		h2_frame_hdr_parse(data + pos, &h);
		if (!h2_frame_plausible(&h, max_len, sender) ||
		    (pos && !follows(&prev, &h)))
			break;
		prev = h;
		if (h.len > len - pos - H2_FRAME_HDR_LEN) {
			*partial = true;
			break;
		}
		pos += H2_FRAME_HDR_LEN + h.len;
		(*frames)++;
	}
	return pos;
}

enum h2_detect h2_frame_detect(const uint8_t *data, size_t len,
			       enum h2_sender sender)
{
	size_t n, frames;
	bool partial;

	if (!len)
		return H2_DETECT_MORE;
	if (memcmp(data, H2_PREFACE, len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN) == 0)
		return len < H2_PREFACE_LEN ? H2_DETECT_MORE : H2_DETECT_PREFACE;
	if (len < H2_FRAME_HDR_LEN) {
		/* The length's top byte and what follows may still say no. */
		return data[0] == 0 ? H2_DETECT_MORE : H2_DETECT_NO;
	}
	n = frame_run(data, len, H2_FRAME_SIZE_DEFAULT, sender, &frames, &partial);
	if ((frames && n == len) || frames + partial >= H2_DETECT_MIN_FRAMES)
		return H2_DETECT_FRAMES;
	if (!frames && partial)
		return H2_DETECT_MORE; /* one plausible frame, not yet whole */
	return H2_DETECT_NO;
}

/* --- handing up ----------------------------------------------------- */

static void lost(struct h2_frame_parser *p, uint64_t len)
{
	if (p->o.cb->lost)
		p->o.cb->lost(p->o.ctx, len);
}

static void block_reset(struct h2_frame_parser *p)
{
	p->in_block = false;
	memset(&p->blk, 0, sizeof(p->blk));
	if (p->buf_cap > H2_BLOCK_KEEP) {
		free(p->buf);
		p->buf = NULL;
		p->buf_cap = 0;
	}
}

static void block_deliver(struct h2_frame_parser *p)
{
	static const uint8_t empty[1];

	p->blk.data = p->buf ? p->buf : empty;
	if (p->blk.truncated)
		p->o.stats->blocks_truncated++;
	if (p->blk.broken)
		p->o.stats->blocks_broken++;
	if (p->o.cb->block)
		p->o.cb->block(p->o.ctx, &p->blk);
	block_reset(p);
}

/* Adds a fragment (NULL: lost bytes) to the block. */
static void block_add(struct h2_frame_parser *p, const uint8_t *d, size_t n)
{
	struct h2_block *b = &p->blk;
	size_t room, want;
	uint8_t *nb;

	b->wire_len += n;
	if (b->broken || b->truncated)
		return;
	if (!d) {
		b->broken = true;
		return;
	}
	room = H2_BLOCK_MAX - b->len;
	if (n > room) {
		b->truncated = true;
		n = room;
	}
	if (b->len + n > p->buf_cap) {
		want = p->buf_cap ? p->buf_cap : 512;
		while (want < b->len + n)
			want *= 2;
		if (want > H2_BLOCK_MAX)
			want = H2_BLOCK_MAX;
		nb = realloc(p->buf, want);
		if (!nb) {
			/* Out of memory: what is kept stays usable. */
			b->truncated = true;
			return;
		}
		p->buf = nb;
		p->buf_cap = want;
	}
	memcpy(p->buf + b->len, d, n);
	b->len += n;
}

/* --- losing and finding sync ---------------------------------------- */

static void win_reset(struct h2_frame_parser *p)
{
	p->woff = p->wlen = 0;
	p->call_seen = false;
}

static int win_alloc(struct h2_frame_parser *p)
{
	if (!p->win)
		p->win = malloc(H2_RESYNC_WINDOW);
	return p->win ? 0 : -1;
}

/* The parser no longer knows where frames begin.  A header block in
 * progress ends broken.  gap: bytes lost (0: the bytes were not
 * HTTP/2). */
static void desync(struct h2_frame_parser *p, uint64_t gap)
{
	if (p->in_block) {
		p->blk.broken = true;
		block_deliver(p);
	}
	p->state = S_RESYNC;
	p->hdr_have = 0;
	lost(p, gap);
}

/* Whether a whole frame's payload is sound where section 6 says what it
 * holds: padding shorter than the payload, a non-zero window increment,
 * a promised stream the server may open, known error codes, SETTINGS
 * values in their ranges (section 6.5.2). */
static bool payload_plausible(const struct h2_frame_hdr *h, const uint8_t *p)
{
	uint32_t i, v;
	uint16_t id;

	if ((h->flags & H2_FLAG_PADDED) &&
	    (h->type == H2_DATA || h->type == H2_HEADERS ||
	     h->type == H2_PUSH_PROMISE) && p[0] > h->len - overhead(h))
		return false;
	switch (h->type) {
	case H2_WINDOW_UPDATE:
		return (get32(p) & 0x7fffffff) != 0;
	case H2_PUSH_PROMISE:
		v = get32(p + ((h->flags & H2_FLAG_PADDED) ? 1 : 0)) & 0x7fffffff;
		return v && !(v & 1);
	case H2_RST_STREAM:
		return h2_frame_error_name(get32(p)) != NULL;
	case H2_GOAWAY:
		return h2_frame_error_name(get32(p + 4)) != NULL;
	case H2_SETTINGS:
		for (i = 0; i + 6 <= h->len; i += 6) {
			id = (uint16_t)(p[i] << 8 | p[i + 1]);
			v = get32(p + i + 2);
			if ((id == H2_SET_ENABLE_PUSH && v > 1) ||
			    (id == H2_SET_INITIAL_WINDOW_SIZE && v > 0x7fffffff) ||
			    (id == H2_SET_MAX_FRAME_SIZE &&
			     (v < H2_FRAME_SIZE_DEFAULT || v > H2_FRAME_SIZE_MAX)))
				return false;
		}
		return true;
	default:
		return true;
	}
}

/* Whether the frame at win[off] is a boundary to trust: 1 yes, 0 no, -1
 * not yet known (more bytes needed).  Trusted: a run of whole plausible
 * frames from it to the end of a syscall's bytes (writers write whole
 * frames; a run of one frame must also start where a syscall's bytes
 * do), or a plausible frame whose next one is whole and plausible too
 * and followed by a third plausible header.  One plausible header
 * after a frame is not enough: runs of zero bytes (SETTINGS values,
 * gRPC length prefixes) often look like one. */
static int candidate(struct h2_frame_parser *p, size_t off)
{
	uint32_t max = p->max_len < H2_RESYNC_FRAME_MAX ? p->max_len :
							   H2_RESYNC_FRAME_MAX;
	size_t avail = p->wlen - off, end, end2, frames, run;
	struct h2_frame_hdr h, next, third;
	bool partial;

	if (avail < H2_FRAME_HDR_LEN)
		return -1;
	h2_frame_hdr_parse(p->win + off, &h);
	if (!h2_frame_plausible(&h, max, p->o.sender))
		return 0;
	end = H2_FRAME_HDR_LEN + h.len;
	if (end > avail)
		return -1;
	if (!payload_plausible(&h, p->win + off + H2_FRAME_HDR_LEN))
		return 0;
	if (p->call_whole) {
		/* One frame must also begin where a syscall's bytes do: a
		 * 9-byte frame ending where a read happened to stop is
		 * easily made of zeros. */
		run = frame_run(p->win + off, avail, max, p->o.sender, &frames,
				&partial);
		if (run == avail &&
		    (frames >= 2 || (p->call_seen && off == p->call_at)))
			return 1;
	}
	if (avail - end < H2_FRAME_HDR_LEN)
		return -1;
	h2_frame_hdr_parse(p->win + off + end, &next);
	if (!h2_frame_plausible(&next, max, p->o.sender) || !follows(&h, &next))
		return 0;
	end2 = end + H2_FRAME_HDR_LEN + next.len;
	if (end2 > avail)
		return -1;
	if (!payload_plausible(&next, p->win + off + end + H2_FRAME_HDR_LEN))
		return 0;
	if (avail - end2 < H2_FRAME_HDR_LEN)
		return -1;
	h2_frame_hdr_parse(p->win + off + end2, &third);
	return h2_frame_plausible(&third, max, p->o.sender) &&
	       follows(&next, &third) ? 1 : 0;
}

/* Looks for a boundary in the window: the first confirmed candidate,
 * even past one not yet decided (a frame with two plausible headers
 * beats one with one).  Returns true if one was found (the parser is
 * then at S_HDR with woff on it); otherwise the bytes before the first
 * undecided candidate are dropped and more are needed. */
static bool resync_search(struct h2_frame_parser *p)
{
	size_t off, keep = p->wlen;
	int r;

	for (off = p->woff; off < p->wlen; off++) {
		r = candidate(p, off);
		if (r == 1) {
			p->o.stats->resync_bytes += off - p->woff;
			p->o.stats->resyncs++;
			p->woff = off;
			p->state = S_HDR;
			p->hdr_have = 0;
			return true;
		}
		if (r < 0 && keep == p->wlen)
			keep = off;
	}
	/* Compact: keep only what may still hold a boundary. */
	p->o.stats->resync_bytes += keep - p->woff;
	memmove(p->win, p->win + keep, p->wlen - keep);
	if (p->call_seen && p->call_at >= keep)
		p->call_at -= keep;
	else
		p->call_seen = false;
	p->wlen -= keep;
	p->woff = 0;
	return false;
}

/* Appends call bytes to the window; returns how many fit. */
static size_t win_append(struct h2_frame_parser *p, const uint8_t *d,
			 size_t n, bool call_start)
{
	size_t room;

	if (win_alloc(p)) {
		/* Out of memory: the bytes cannot be looked at. */
		p->o.stats->resync_bytes += n;
		return n;
	}
	if (call_start) {
		p->call_at = p->wlen;
		p->call_seen = true;
	}
	room = H2_RESYNC_WINDOW - p->wlen;
	if (n > room)
		n = room;
	memcpy(p->win + p->wlen, d, n);
	p->wlen += n;
	return n;
}

/* --- one frame ------------------------------------------------------ */

static void frame_end(struct h2_frame_parser *p)
{
	const struct h2_frame_cb *cb = p->o.cb;

	p->o.stats->frames++;
	p->state = S_HDR;
	p->hdr_have = 0;
	switch (p->content) {
	case C_IGNORE:
		return;
	case C_DATA:
		if (cb->data_end)
			cb->data_end(p->o.ctx, &p->hdr);
		return;
	case C_BLOCK:
		if (p->hdr.flags & H2_FLAG_END_HEADERS)
			block_deliver(p);
		return;
	default:
		if (cb->control)
			cb->control(p->o.ctx, &p->ctl);
		return;
	}
}

/* The fixed fields are in (or lost): decode them and size the rest. */
static int fixed_done(struct h2_frame_parser *p)
{
	struct h2_frame_hdr *h = &p->hdr;
	struct h2_control *c = &p->ctl;
	const uint8_t *f = p->fix;
	uint32_t rest = p->left;

	p->pad = 0;
	if (p->fix_lost) {
		c->lost = true;
		/* Without the pad length, the content's end is unknown: the
		 * rest of the frame counts as lost content.  Without the
		 * priority or the promised stream, the block is still
		 * whole. */
		p->content_left = rest;
		p->content_lost = h->flags & H2_FLAG_PADDED;
		if (p->content == C_BLOCK && p->content_lost)
			p->blk.broken = true;
		else if (p->content == C_DEBUG)
			p->content = C_NONE;
		return 0;
	}
	switch (h->type) {
	case H2_DATA:
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		if (h->flags & H2_FLAG_PADDED) {
			p->pad = *f++;
			/* Section 6.1: padding as long as the payload or
			 * longer is a connection error. */
			if (p->pad > rest)
				return -1;
		}
		if (h->type == H2_HEADERS && (h->flags & H2_FLAG_PRIORITY)) {
			p->blk.has_priority = true;
			p->blk.exclusive = f[0] & 0x80;
			p->blk.dep = get32(f) & 0x7fffffff;
			p->blk.weight = f[4];
		}
		if (h->type == H2_PUSH_PROMISE)
			p->blk.promised_id = get32(f) & 0x7fffffff;
		break;
	case H2_PRIORITY:
		c->u.priority.exclusive = f[0] & 0x80;
		c->u.priority.dep = get32(f) & 0x7fffffff;
		c->u.priority.weight = f[4];
		break;
	case H2_RST_STREAM:
		c->u.error_code = get32(f);
		break;
	case H2_PING:
		memcpy(c->u.ping, f, 8);
		break;
	case H2_GOAWAY:
		c->u.goaway.last_stream_id = get32(f) & 0x7fffffff;
		c->u.goaway.error_code = get32(f + 4);
		break;
	case H2_WINDOW_UPDATE:
		c->u.window_increment = get32(f) & 0x7fffffff;
		break;
	default:
		break;
	}
	p->content_left = rest - p->pad;
	return 0;
}

/* A frame header is in: check it and set up reading the frame.  Returns
 * -1 if the frame breaks the connection (the parser has lost sync). */
static int frame_begin(struct h2_frame_parser *p)
{
	struct h2_frame_hdr *h = &p->hdr;
	bool known;

	h2_frame_hdr_parse(p->hdr_buf, h);
	known = h->type < H2_TYPE_COUNT;
	memset(&p->ctl, 0, sizeof(p->ctl));
	p->ctl.hdr = *h;
	p->left = h->len;
	p->fix_have = p->fix_need = 0;
	p->fix_lost = false;
	p->setting_have = 0;
	p->pad = 0;
	p->content = C_NONE;
	p->content_left = 0;
	p->content_lost = false;

	if (h->len > p->max_len)
		return -1; /* section 4.2: FRAME_SIZE_ERROR */
	/* Section 6.10: a header block is a contiguous run of frames; any
	 * other frame in it is a connection error.  The frame itself is
	 * most likely sound (its header passed), so the block ends broken
	 * and the frame is read; a CONTINUATION with no block to continue
	 * is skipped, and the table state is then unknown. */
	if (p->in_block && (h->type != H2_CONTINUATION ||
			    h->stream_id != p->blk.stream_id)) {
		p->o.stats->bad_frames++;
		p->blk.broken = true;
		block_deliver(p);
	}
	if (!p->in_block && h->type == H2_CONTINUATION) {
		p->o.stats->bad_frames++;
		lost(p, 0);
		p->content = C_IGNORE;
		p->content_left = h->len;
		return 0;
	}
	if (!known) {
		p->o.stats->unknown_frames++;
		p->content = C_IGNORE;
		p->content_left = h->len;
		return 0;
	}
	/* Unknown flags are ignored (section 4.1): only the stream, the
	 * lengths and the padding are checked here. */
	if ((type_rules[h->type].stream == 0 && h->stream_id) ||
	    (type_rules[h->type].stream == 1 && !h->stream_id))
		return -1;
	{
		struct h2_frame_hdr defined = *h;

		defined.flags &= type_rules[h->type].flags;
		if ((type_rules[h->type].len >= 0 &&
		     h->len != (uint32_t)type_rules[h->type].len) ||
		    !length_fits(&defined))
			return -1;
		h->flags = defined.flags;
		p->ctl.hdr.flags = defined.flags;
	}

	switch (h->type) {
	case H2_DATA:
		p->fix_need = (h->flags & H2_FLAG_PADDED) ? 1 : 0;
		p->content = C_DATA;
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		p->fix_need = ((h->flags & H2_FLAG_PADDED) ? 1 : 0) +
			      (h->type == H2_PUSH_PROMISE ? 4 :
			       (h->flags & H2_FLAG_PRIORITY) ? 5 : 0);
		memset(&p->blk, 0, sizeof(p->blk));
		p->blk.type = h->type;
		p->blk.stream_id = h->stream_id;
		p->blk.end_stream = h->type == H2_HEADERS &&
				    (h->flags & H2_FLAG_END_STREAM);
		p->blk.frames = 1;
		p->in_block = !(h->flags & H2_FLAG_END_HEADERS);
		p->content = C_BLOCK;
		break;
	case H2_CONTINUATION:
		p->blk.frames++;
		p->in_block = !(h->flags & H2_FLAG_END_HEADERS);
		p->content = C_BLOCK;
		break;
	case H2_SETTINGS:
		p->content = C_SETTINGS;
		break;
	case H2_GOAWAY:
		p->fix_need = 8;
		p->content = C_DEBUG;
		break;
	default: /* PRIORITY, RST_STREAM, PING, WINDOW_UPDATE */
		p->fix_need = h->len;
		p->content = C_NONE;
		break;
	}
	p->content_left = h->len - p->fix_need;
	return 0;
}

static void setting_add(struct h2_frame_parser *p)
{
	struct h2_settings *s = &p->ctl.u.settings;
	uint16_t id = (uint16_t)(p->setting[0] << 8 | p->setting[1]);

	if (id >= 1 && id < H2_SET_COUNT && id != 7) {
		s->has |= 1u << id;
		s->value[id] = get32(p->setting + 2);
	} else {
		s->unknown++;
	}
}

/* Content bytes (NULL: lost). */
static void content(struct h2_frame_parser *p, const uint8_t *d, size_t n)
{
	struct h2_control *c = &p->ctl;
	size_t k;

	if (p->content_lost)
		d = NULL;
	switch (p->content) {
	case C_DATA:
		if (p->o.cb->data && n)
			p->o.cb->data(p->o.ctx, p->hdr.stream_id, d, n);
		break;
	case C_BLOCK:
		block_add(p, d, n);
		break;
	case C_SETTINGS:
		if (!d) {
			c->lost = true;
			break;
		}
		while (n) {
			k = 6 - p->setting_have;
			if (k > n)
				k = n;
			memcpy(p->setting + p->setting_have, d, k);
			p->setting_have += k;
			d += k;
			n -= k;
			if (p->setting_have == 6) {
				setting_add(p);
				p->setting_have = 0;
			}
		}
		break;
	case C_DEBUG:
		if (!d) {
			c->lost = true;
			break;
		}
		k = H2_GOAWAY_DEBUG_MAX - c->u.goaway.debug_len;
		if (k > n)
			k = n;
		memcpy(c->u.goaway.debug + c->u.goaway.debug_len, d, k);
		c->u.goaway.debug_len += k;
		break;
	case C_NONE:
		if (!d)
			c->lost = true;
		break;
	case C_IGNORE:
		break;
	}
}

/* Consumes bytes of the current frame (data NULL: lost); returns how
 * many, or -1 if the frame broke the connection. */
static long frame_bytes(struct h2_frame_parser *p, const uint8_t *d, size_t n)
{
	size_t k;

	if (p->fix_have < p->fix_need) {
		k = p->fix_need - p->fix_have;
		if (k > n)
			k = n;
		if (d)
			memcpy(p->fix + p->fix_have, d, k);
		else
			p->fix_lost = true;
		p->fix_have += k;
		p->left -= k;
		if (p->fix_have == p->fix_need && fixed_done(p))
			return -1;
	} else if (p->content_left) {
		k = p->content_left < n ? p->content_left : n;
		content(p, d, k);
		p->content_left -= k;
		p->left -= k;
	} else {
		k = p->left < n ? p->left : n; /* padding */
		p->left -= k;
	}
	if (!p->left)
		frame_end(p);
	return (long)k;
}

/* A frame header broke the connection, so it may have been the middle
 * of a frame: the search for a boundary starts again at its second
 * byte.  k of its bytes came from the input being parsed; returns how
 * many of those to look at again.  Its earlier bytes (from an earlier
 * call; never when parsing the window, which starts at a header) go
 * into the window. */
static size_t bad_header(struct h2_frame_parser *p, size_t k, bool from_win)
{
	size_t back = k < H2_FRAME_HDR_LEN - 1 ? k : H2_FRAME_HDR_LEN - 1;
	size_t pre = H2_FRAME_HDR_LEN - 1 - back;

	p->o.stats->bad_frames++;
	p->o.stats->resync_bytes++; /* its first byte */
	desync(p, 0);
	if (pre && !from_win) {
		win_reset(p);
		win_append(p, p->hdr_buf + 1, pre, false);
	} else {
		p->o.stats->resync_bytes += pre;
	}
	return back;
}

/* Parses bytes in sync; returns how many were consumed (fewer than n
 * only when sync was lost).  from_win: d is the window. */
static size_t parse(struct h2_frame_parser *p, const uint8_t *d, size_t n,
		    bool from_win)
{
	size_t used = 0, k;
	long r;

	while (used < n) {
		switch (p->state) {
		case S_PREFACE:
			k = H2_PREFACE_LEN - p->preface_have;
			if (k > n - used)
				k = n - used;
			if (memcmp(d + used, &H2_PREFACE[p->preface_have], k)) {
				p->o.stats->bad_frames++;
				desync(p, 0);
				return used;
			}
			p->preface_have += k;
			used += k;
			if (p->preface_have == H2_PREFACE_LEN)
				p->state = S_HDR;
			break;
		case S_HDR:
			k = H2_FRAME_HDR_LEN - p->hdr_have;
			if (k > n - used)
				k = n - used;
			memcpy(p->hdr_buf + p->hdr_have, d + used, k);
			p->hdr_have += k;
			used += k;
			if (p->hdr_have < H2_FRAME_HDR_LEN)
				break;
			if (frame_begin(p))
				return used - bad_header(p, k, from_win);
			p->state = S_FRAME;
			if (!p->left && p->fix_need == 0)
				frame_end(p);
			break;
		case S_FRAME:
			r = frame_bytes(p, d + used, n - used);
			if (r < 0) {
				p->o.stats->bad_frames++;
				desync(p, 0);
				return used;
			}
			used += (size_t)r;
			break;
		case S_RESYNC:
			return used;
		}
	}
	return used;
}

/* --- the interface -------------------------------------------------- */

struct h2_frame_parser *h2_frame_new(const struct h2_frame_opts *opts)
{
	struct h2_frame_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->o = *opts;
	switch (opts->start) {
	case H2_START_PREFACE:
		p->state = S_PREFACE;
		p->max_len = H2_FRAME_SIZE_DEFAULT;
		break;
	case H2_START_FRAME:
		p->state = S_HDR;
		p->max_len = H2_FRAME_SIZE_DEFAULT;
		break;
	case H2_START_RESYNC:
		p->state = S_RESYNC;
		p->max_len = H2_FRAME_SIZE_MAX;
		break;
	}
	return p;
}

void h2_frame_free(struct h2_frame_parser *p)
{
	if (!p)
		return;
	free(p->buf);
	free(p->win);
	free(p);
}

void h2_frame_set_max_size(struct h2_frame_parser *p, uint32_t max)
{
	if (max >= H2_FRAME_SIZE_DEFAULT && max <= H2_FRAME_SIZE_MAX)
		p->max_len = max;
}

bool h2_frame_synced(const struct h2_frame_parser *p)
{
	return p->state != S_RESYNC;
}

void h2_frame_feed(struct h2_frame_parser *p, const uint8_t *data,
		   size_t len)
{
	bool call_start = true;
	size_t k;

	p->call_whole = false;
	for (;;) {
		if (p->woff < p->wlen) {
			/* Window bytes come first. */
			if (p->state == S_RESYNC) {
				if (!resync_search(p)) {
					if (!len)
						break;
					k = win_append(p, data, len, call_start);
					call_start = false;
					data += k;
					len -= k;
					if (!len)
						p->call_whole = true;
				}
				continue;
			}
			p->woff += parse(p, p->win + p->woff, p->wlen - p->woff,
					 true);
			if (p->woff == p->wlen && p->state != S_RESYNC)
				win_reset(p);
			continue;
		}
		if (!len)
			break;
		if (p->state == S_RESYNC) {
			win_reset(p);
			k = win_append(p, data, len, call_start);
			call_start = false;
			data += k;
			len -= k;
			if (!len)
				p->call_whole = true;
			continue;
		}
		k = parse(p, data, len, false);
		call_start = false;
		data += k;
		len -= k;
	}
}

void h2_frame_gap(struct h2_frame_parser *p, uint64_t len)
{
	long r;

	if (!len)
		return;
	p->o.stats->gap_bytes += len;
	if (p->state == S_FRAME) {
		/* Within the frame: the framing holds. */
		while (len && p->state == S_FRAME) {
			size_t n = len > p->left ? p->left : (size_t)len;

			/* Lost fixed fields never break the frame. */
			r = frame_bytes(p, NULL, n);
			len -= (uint64_t)r;
		}
		if (!len)
			return;
	}
	if (p->state == S_RESYNC) {
		/* The window's bytes cannot join those after the loss. */
		p->o.stats->resync_bytes += p->wlen - p->woff;
		win_reset(p);
		lost(p, len);
		return;
	}
	/* S_PREFACE or S_HDR: a frame header, whole frames maybe, lost. */
	desync(p, len + p->hdr_have);
}

void h2_frame_finish(struct h2_frame_parser *p)
{
	if (p->in_block || (p->state == S_FRAME && p->content == C_BLOCK)) {
		p->blk.broken = true;
		block_deliver(p);
	}
}
