/* h2_frame.h -- HTTP/2 frames over one direction's bytes (RFC 9113 sections 4 and 6): an incremental parser that survives capture gaps. */
#ifndef HS_H2_FRAME_H
#define HS_H2_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 9113 section 3.4: the client connection preface. */
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

/* RFC 9113 section 4.1: every frame opens with a 9-byte header. */
#define H2_FRAME_HDR_LEN 9

/* RFC 9113 section 4.2: SETTINGS_MAX_FRAME_SIZE starts at 2^14 and can
 * be raised to 2^24 - 1 at most. */
#define H2_FRAME_SIZE_DEFAULT 16384
#define H2_FRAME_SIZE_MAX 16777215

/* The frame types of RFC 9113 section 6; any other type is ignored
 * (section 4.1). */
enum h2_type {
	H2_DATA = 0x0,
	H2_HEADERS = 0x1,
	H2_PRIORITY = 0x2,
	H2_RST_STREAM = 0x3,
	H2_SETTINGS = 0x4,
	H2_PUSH_PROMISE = 0x5,
	H2_PING = 0x6,
	H2_GOAWAY = 0x7,
	H2_WINDOW_UPDATE = 0x8,
	H2_CONTINUATION = 0x9,
	H2_TYPE_COUNT
};

/* Flags (section 6): the same bit means different things by type. */
#define H2_FLAG_END_STREAM 0x01 /* DATA, HEADERS */
#define H2_FLAG_ACK 0x01	/* SETTINGS, PING */
#define H2_FLAG_END_HEADERS 0x04 /* HEADERS, PUSH_PROMISE, CONTINUATION */
#define H2_FLAG_PADDED 0x08	/* DATA, HEADERS, PUSH_PROMISE */
#define H2_FLAG_PRIORITY 0x20	/* HEADERS */

/* SETTINGS parameters (section 6.5.2; 8 is RFC 8441's). */
enum h2_setting {
	H2_SET_HEADER_TABLE_SIZE = 1,
	H2_SET_ENABLE_PUSH = 2,
	H2_SET_MAX_CONCURRENT_STREAMS = 3,
	H2_SET_INITIAL_WINDOW_SIZE = 4,
	H2_SET_MAX_FRAME_SIZE = 5,
	H2_SET_MAX_HEADER_LIST_SIZE = 6,
	H2_SET_ENABLE_CONNECT_PROTOCOL = 8,
	H2_SET_COUNT /* array size: ids 1..8 */
};

/* Who sent a direction's bytes, when known: stream id parity depends on
 * it (section 5.1.1: clients open odd streams, servers push even ones). */
enum h2_sender { H2_SENDER_UNKNOWN, H2_SENDER_CLIENT, H2_SENDER_SERVER };

/* The 9-byte frame header (section 4.1). */
struct h2_frame_hdr {
	uint32_t len;	    /* payload length, 24 bits */
	uint8_t type;	    /* enum h2_type, or an extension type */
	uint8_t flags;
	uint32_t stream_id; /* 31 bits; the reserved bit is in `reserved` */
	bool reserved;
};

/* A SETTINGS frame's parameters: value[id] is valid when bit id of
 * `has` is set; a parameter repeated in a frame keeps its last value
 * (section 6.5.3: they are processed in order). */
struct h2_settings {
	uint32_t has;
	uint32_t value[H2_SET_COUNT];
	uint32_t unknown; /* parameters with ids not listed above */
};

/* Kept of a GOAWAY frame's debug data (section 6.8); the rest is
 * skipped. */
#define H2_GOAWAY_DEBUG_MAX 128

/* A whole frame other than DATA and the header-block frames. */
struct h2_control {
	struct h2_frame_hdr hdr;
	bool lost; /* bytes of its payload were never captured: only hdr
		    * is known */
	union {
		struct {
			uint32_t dep;
			uint8_t weight; /* as sent: the weight minus 1 */
			bool exclusive;
		} priority;
		uint32_t error_code; /* RST_STREAM */
		struct h2_settings settings;
		uint8_t ping[8];
		struct {
			uint32_t last_stream_id;
			uint32_t error_code;
			uint8_t debug[H2_GOAWAY_DEBUG_MAX];
			size_t debug_len; /* bytes kept in debug */
		} goaway;
		uint32_t window_increment; /* WINDOW_UPDATE */
	} u;
};

/* A header block: a HEADERS or PUSH_PROMISE frame and its CONTINUATION
 * frames (section 4.3), assembled in wire order.  A block is kept up to
 * H2_BLOCK_MAX bytes; anything past that is counted and dropped (a
 * CONTINUATION flood or a HEADERS frame claiming 16 MiB costs at most
 * this much memory per direction). */
#define H2_BLOCK_MAX (256 * 1024)

struct h2_block {
	uint8_t type;	      /* H2_HEADERS or H2_PUSH_PROMISE */
	uint32_t stream_id;
	uint32_t promised_id; /* PUSH_PROMISE: the reserved stream */
	bool end_stream;      /* HEADERS with END_STREAM */
	bool has_priority;    /* HEADERS with the PRIORITY flag */
	uint32_t dep;
	uint8_t weight;
	bool exclusive;
	const uint8_t *data; /* the field block as kept; valid during the
			      * callback only */
	size_t len;
	uint64_t wire_len;   /* its length on the wire, lost bytes included */
	bool truncated;	     /* longer than H2_BLOCK_MAX: data is a prefix */
	bool broken;	     /* bytes of it were lost, or it was cut short by
			      * a frame that may not interrupt it: data holds
			      * only the bytes before that */
	uint32_t frames;     /* frames it came in (1 + CONTINUATIONs) */
};

/* What the parser hands up.  Each callback may be NULL. */
struct h2_frame_cb {
	/* Payload bytes of a DATA frame on stream_id, padding removed, in
	 * pieces as they arrive; data NULL means `len` bytes never
	 * captured. */
	void (*data)(void *ctx, uint32_t stream_id, const uint8_t *data,
		     size_t len);
	/* A DATA frame ended. */
	void (*data_end)(void *ctx, const struct h2_frame_hdr *hdr);
	/* A header block ended (END_HEADERS, or broken off). */
	void (*block)(void *ctx, const struct h2_block *b);
	/* A PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY or WINDOW_UPDATE
	 * frame ended. */
	void (*control)(void *ctx, const struct h2_control *c);
	/* `len` bytes were lost (or skipped as not HTTP/2) where frames may
	 * have been: whole frames, header blocks among them, may be
	 * missing.  Comes once per loss, before the parser looks for a
	 * frame boundary again. */
	void (*lost)(void *ctx, uint64_t len);
};

/* Counters; the parser adds to them, so several parsers may share one. */
struct h2_frame_stats {
	uint64_t frames;	   /* whole frames parsed */
	uint64_t unknown_frames;   /* of extension types, ignored */
	uint64_t bad_frames;	   /* breaking RFC 9113 (a connection error
				    * there): the parser looks for a frame
				    * boundary again */
	uint64_t blocks_truncated; /* header blocks over H2_BLOCK_MAX */
	uint64_t blocks_broken;	   /* header blocks cut short */
	uint64_t resyncs;	   /* frame boundaries found again */
	uint64_t resync_bytes;	   /* bytes skipped looking for one */
	uint64_t gap_bytes;	   /* bytes never captured */
};

/* Where the parser starts. */
enum h2_frame_start {
	H2_START_PREFACE, /* the client's bytes from the connection start */
	H2_START_FRAME,	  /* a frame boundary: the server's first bytes,
			   * or the client's after the preface */
	H2_START_RESYNC,  /* unknown: joined midway, look for frames */
};

struct h2_frame_opts {
	enum h2_frame_start start;
	enum h2_sender sender;
	const struct h2_frame_cb *cb;
	void *ctx;
	struct h2_frame_stats *stats; /* required */
};

struct h2_frame_parser;

/* Returns NULL on allocation failure.  h2_frame_free() accepts NULL. */
struct h2_frame_parser *h2_frame_new(const struct h2_frame_opts *opts);
void h2_frame_free(struct h2_frame_parser *p);

/* Bytes of this direction, contiguous with the previous call.  A call
 * starts where a syscall's bytes start; that is where the parser, once
 * it has lost sync, prefers to look for a frame boundary. */
void h2_frame_feed(struct h2_frame_parser *p, const uint8_t *data,
		   size_t len);
/* `len` bytes of this direction were never captured.  A loss inside a
 * frame whose length is known keeps the framing (DATA bytes are handed
 * up as lost); any other loss makes the parser look for a frame
 * boundary again. */
void h2_frame_gap(struct h2_frame_parser *p, uint64_t len);
/* The direction ended: a header block still waiting for CONTINUATION
 * frames is handed up as broken. */
void h2_frame_finish(struct h2_frame_parser *p);

/* The receiver's SETTINGS_MAX_FRAME_SIZE, once known (section 6.5.2);
 * until then frames up to H2_FRAME_SIZE_DEFAULT are accepted, or up to
 * H2_FRAME_SIZE_MAX on a connection joined midway. */
void h2_frame_set_max_size(struct h2_frame_parser *p, uint32_t max);
/* True when the parser is at a known frame boundary or inside a frame
 * it is following (not looking for one). */
bool h2_frame_synced(const struct h2_frame_parser *p);

/* --- recognising HTTP/2 --------------------------------------------- */

/* Decodes the 9 bytes at p. */
void h2_frame_hdr_parse(const uint8_t *p, struct h2_frame_hdr *h);

/* True if h could be a frame sent by `sender`: a defined type, a length
 * up to max_len and fitting its type, only the flags its type defines,
 * the reserved bit clear, a stream id that the type allows (zero or
 * not) with the parity the sender uses.  Stricter than RFC 9113, which
 * ignores unknown types and flags: this recognises frames in bytes of
 * unknown meaning. */
bool h2_frame_plausible(const struct h2_frame_hdr *h, uint32_t max_len,
			enum h2_sender sender);

enum h2_detect {
	H2_DETECT_NO,	   /* not HTTP/2 */
	H2_DETECT_MORE,	   /* could be: too few bytes to tell */
	H2_DETECT_PREFACE, /* opens with the client preface */
	H2_DETECT_FRAMES,  /* a run of well-formed frames */
};

/* Looks at one syscall's bytes, from a syscall boundary, on a connection
 * whose state is not known: the client preface (or a prefix of it), or
 * whole plausible frames that end exactly at len, or at least
 * H2_DETECT_MIN_FRAMES plausible frames in a row (the last may be
 * partial). */
#define H2_DETECT_MIN_FRAMES 2
enum h2_detect h2_frame_detect(const uint8_t *data, size_t len,
			       enum h2_sender sender);

/* Names for output: "DATA", ..., "UNKNOWN"; "NO_ERROR", ...,
 * "HTTP_1_1_REQUIRED" (section 7), or NULL for other codes. */
const char *h2_frame_type_name(uint8_t type);
const char *h2_frame_error_name(uint32_t code);

#endif
