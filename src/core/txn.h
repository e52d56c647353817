/* txn.h -- the transaction model: what protocols report and sinks consume (a request and its response, or a WebSocket message), with its accessors. */
#ifndef HS_TXN_H
#define HS_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "event.h"

/* Who the traced process is on a connection, and where it talks. */
struct conn_info {
	uint64_t conn_id;
	uint64_t cgroup_id;
	uint32_t pid;
	uint32_t tid; /* thread of the first event seen */
	int32_t fd;
	uint8_t role; /* enum hs_role */
	bool tls;     /* plaintext from the TLS library */
	char comm[HS_COMM_LEN + 1];
	char container_id[65]; /* CONTAINER_ID_LEN hex digits, "" on the
				* host or when unknown */
	struct hs_addr local;
	struct hs_addr remote;
	/* A Unix socket's (family AF_UNIX): its names, from its HS_EV_UNIX
	 * record (completed: text), owned by the stream tracker and valid
	 * while the connection's records are written; NULL when none came
	 * (then both ends show as "unix:"). */
	const struct hs_unix *unx;
	/* The process at the other end where the kernel told (Unix
	 * sockets), 0 and "" when not known. */
	uint32_t peer_pid;
	char peer_comm[HS_COMM_LEN + 1];
};

/* A header is two slices of msg->buf. */
struct http_header {
	uint32_t name_off, name_len;
	uint32_t value_off, value_len;
};

/* Limits on what one message keeps; anything past them is counted and
 * flagged, never kept. */
#define HTTP_MSG_BUF_MAX (64 * 1024) /* start line + headers */
#define HTTP_MSG_HDRS_MAX 256	     /* headers kept per message */

/* Framing anomalies of a message, flagged as an expert dissector flags
 * them: things peers disagree on, which is how requests are smuggled
 * (RFC 9112 section 11.2).  http_msg.anomalies holds a bit (1 << a) for
 * each one seen. */
enum http_anomaly {
	HTTP_ANOM_CL_TE,	   /* Content-Length with Transfer-Encoding
				    * (RFC 9112 section 6.3 item 3) */
	HTTP_ANOM_CL_DIFFER,	   /* Content-Length values that differ
				    * (section 6.3 item 5) */
	HTTP_ANOM_TE_NOT_CHUNKED,  /* a request's Transfer-Encoding whose
				    * last coding is not chunked (section
				    * 6.3 item 4): its length is unknown */
	HTTP_ANOM_OBS_FOLD,	   /* a header continued on the next line
				    * (section 5.2) */
	HTTP_ANOM_SPACE_COLON,	   /* whitespace between a header's name and
				    * its colon (section 5.1) */
	HTTP_ANOM_BARE_LF,	   /* a line ending in LF without CR
				    * (section 2.2) */
	HTTP_ANOM_AFTER_AMBIGUOUS, /* a request that follows one whose
				    * framing was ambiguous: the server may
				    * have read it otherwise */
	HTTP_ANOM_MAX,
};
/* What an HTTP/2 message's header block could not tell (the HPACK table
 * state was unknown): shown as null, never guessed. */
#define HTTP_U_METHOD 0x01 /* no :method */
#define HTTP_U_TARGET 0x02 /* no :path */
#define HTTP_U_STATUS 0x04 /* no :status */

/* One request or response.  Strings are slices of buf, NUL-terminated.
 * The preview holds at most the writer's max-body bytes of the decoded
 * (de-chunked, gunzipped/inflated) body.
 *
 * HTTP/2: the header fields are kept as sent, pseudo-headers (":method",
 * ":path", ...) first; a request's :method and :path are also the method
 * and target slices, a response's :status the status (no reason phrase),
 * so that what reads HTTP/1 messages reads them too.  Trailers are a
 * second header array over the same buf. */
struct http_msg {
	/* What a pool keeps from one message to the next (txn_put()):
	 * the allocations, first, so that the rest is cleared at once. */
	char *buf;	     /* owned; grows to HTTP_MSG_BUF_MAX */
	size_t buf_cap;	     /* bytes allocated at buf (the writers read
			      * that far, past a slice) */
	struct http_header *hdrs; /* owned */
	size_t hdrs_cap;
	struct http_header *trailers; /* owned; h2 (HTTP/1 trailers are
				       * parsed as headers) */
	size_t trailers_cap;
	uint8_t *preview;      /* owned; decoded body, max_body bytes */
	size_t preview_cap;    /* bytes allocated at preview, 0 when not
				* known: the writers may read that far, past
				* preview_len */
	/* What the message says. */
	bool present;
	bool complete;	     /* the parser saw its end */
	bool head_truncated; /* start line + headers overflowed buf */
	size_t buf_len;
	uint32_t method_off, method_len; /* request */
	uint32_t target_off, target_len; /* request */
	uint32_t reason_off, reason_len; /* response */
	int status;			 /* response */
	int version_major, version_minor;
	size_t nhdrs;
	size_t ntrailers;
	uint8_t unknown;	  /* HTTP_U_*: what could not be decoded */
	uint32_t hdrs_undecoded;  /* header fields that could not be
				   * decoded (h2, table state unknown) */
	bool hdrs_incomplete;	  /* hdrs is not every field sent: some
				   * could not be decoded, were past the
				   * limits, or were lost */
	uint64_t body_size;    /* body bytes on the wire after de-chunking,
				* including bytes lost to gaps */
	uint64_t body_missing; /* of those, bytes never captured */
	bool chunked;
	size_t preview_len;
	bool preview_truncated; /* the body had more than the preview holds */
	bool preview_decoded;	/* preview is the decoded content-coding */
	const char *decode_error; /* static string, or NULL */
	uint16_t anomalies;	/* bit (1 << enum http_anomaly) per kind */
	uint64_t first_ts;	/* CLOCK_MONOTONIC ns of first byte */
	uint64_t last_ts;	/* of last byte */
};

/* Which protocol carried a transaction. */
enum txn_proto {
	TXN_HTTP1, /* HTTP/1.x: the version is the messages' */
	TXN_H2,	   /* HTTP/2, one stream */
};

/* A gRPC call (grpc/doc/PROTOCOL-HTTP2.md), owned by its transaction:
 * set by the h2 protocol when the request's content-type is
 * application/grpc.  Index 0 is the request side, 1 the response. */
struct txn_grpc {
	uint32_t service_off, service_len; /* slices of the request's buf */
	uint32_t method_off, method_len;   /* (:path = /service/method) */
	int status;	     /* grpc-status (trailers, or the headers of a
			      * Trailers-Only response); -1 if none came */
	char *message;	     /* owned: grpc-message, percent-decoded; NULL
			      * if none */
	uint64_t msgs[2];    /* length-prefixed messages begun */
	uint64_t bytes[2];   /* their lengths, summed */
	bool msgs_lost[2];   /* bytes lost over a message boundary: the
			      * counts are lower bounds */
	char *preview[2];    /* owned: the first message as schema-less
			      * protobuf (proto/protobuf.h), NUL-terminated;
			      * NULL if none */
};

/* A request and its response (response.present false if none came).
 * Writers must not assume HTTP/1 beyond what these fields say. */
struct txn {
	struct conn_info conn;
	struct http_msg req;
	struct http_msg resp;
	int interim_status;  /* last 1xx (not 101) seen before the final
			      * response, or 0 */
	bool upgraded;	     /* 101 or CONNECT 2xx: the connection left
			      * HTTP/1 after this transaction */
	const char *error;   /* static string: why the response is missing
			      * or incomplete; NULL when all is well */
	uint8_t proto;	     /* enum txn_proto */
	bool pushed;	     /* h2: the server pushed it (PUSH_PROMISE) */
	uint32_t stream_id;  /* h2: its stream; 0 for HTTP/1 */
	struct txn_grpc *grpc; /* owned; NULL unless a gRPC call */
	struct txn *next;    /* FIFO link, owned by the protocol */
};

/* One WebSocket message (RFC 6455 section 5.4), reported once its last
 * frame is seen: not a request/response pair, so a record of its own,
 * which sinks take through their ws op.  Control frames (close, ping,
 * pong) are messages of one frame. */
enum ws_opcode {
	WS_CONTINUATION = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xa,
};

struct ws_msg {
	struct conn_info conn;
	uint8_t dir;	      /* enum hs_dir: sent or received by the
			       * traced process */
	bool from_client;     /* client to server */
	uint8_t opcode;	      /* enum ws_opcode, of the first frame */
	bool masked;	      /* its frames were masked (section 5.3: a
			       * client's must be) */
	bool compressed;      /* permessage-deflate (RFC 7692): the
			       * preview is inflated */
	uint32_t frames;      /* frames it was made of */
	uint64_t size;	      /* payload bytes of all frames on the wire,
			       * including bytes lost to gaps */
	uint64_t missing;     /* of those, bytes never captured */
	uint8_t *preview;     /* owned by the protocol; the unmasked (and
			       * inflated) payload, max_body bytes at most;
			       * for a close, its reason */
	size_t preview_len;
	bool preview_truncated; /* the payload had more */
	int close_code;	      /* a close frame's status code (section
			       * 7.4), or -1 */
	const char *error;    /* static string: why the message is cut or
			       * its payload unreadable, or NULL */
	uint64_t first_ts;    /* CLOCK_MONOTONIC ns of its first byte */
	uint64_t last_ts;     /* of its last byte */
};

/* "text", "binary", "close", "ping", "pong", or "opcode-N". */
const char *ws_opcode_name(uint8_t opcode);

/* --- accessors: the returned pointers live as long as the message ---- */

static inline const char *http_str(const struct http_msg *m, uint32_t off)
{
	return m->buf ? m->buf + off : "";
}

/* Returns the value of the first header called name[0..n) (ASCII
 * case-insensitive), or NULL; *len receives its length.  Headers whose
 * slices do not lie inside buf are passed over. */
const char *http_msg_header_n(const struct http_msg *m, const char *name,
			      size_t n, size_t *len);
/* The same for a NUL-terminated name; inline, so that a literal's
 * length is known when compiling. */
static inline const char *http_msg_header(const struct http_msg *m,
					  const char *name, size_t *len)
{
	return http_msg_header_n(m, name, __builtin_strlen(name), len);
}

/* The content-coding of a message's body, from its first
 * Content-Encoding header (RFC 9110 section 8.4.1: x-gzip is gzip;
 * "deflate" is zlib, raw deflate being a common mistake the decoder
 * accepts). */
enum http_coding {
	HTTP_CODING_NONE,    /* no Content-Encoding */
	HTTP_CODING_GZIP,
	HTTP_CODING_DEFLATE,
	HTTP_CODING_OTHER,   /* one we do not decode */
};
/* *name and *len receive the coding's name: "gzip" or "deflate" for
 * those, the header's value (without surrounding whitespace) for
 * HTTP_CODING_OTHER, "unknown" for HTTP_CODING_NONE. */
enum http_coding http_msg_coding(const struct http_msg *m, const char **name,
				 size_t *len);

/* Frees what m owns and zeroes it. */
void http_msg_reset(struct http_msg *m);
/* Makes dst (empty) a deep copy of src.  Returns 0 or -ENOMEM (dst is
 * then empty).  The copy's preview holds preview_len bytes, not
 * max_body: it must never go to a pool (txn_put). */
int http_msg_copy(struct http_msg *dst, const struct http_msg *src);

/* Realtime ns of a CLOCK_MONOTONIC time: plus clock_offset_ns (realtime
 * minus CLOCK_MONOTONIC); 0 if that is negative, UINT64_MAX past it. */
uint64_t txn_realtime(uint64_t mono, int64_t clock_offset_ns);
/* Realtime ns of a transaction: its request's first byte (its
 * response's if no request was seen). */
uint64_t txn_time(const struct txn *t, int64_t clock_offset_ns);

/* Latency (request's first byte to response's last) and time to first
 * byte (request's last byte to response's first).  Return false when not
 * computable: no response, the needed message incomplete, or clocks out
 * of order. */
bool txn_latency(const struct txn *t, uint64_t *ns);
bool txn_ttfb(const struct txn *t, uint64_t *ns);

/* "client", "server" or "unknown" (enum hs_role). */
const char *txn_role_name(uint8_t role);

/* An anomaly's name ("cl-te"), and one line saying what it means. */
const char *http_anomaly_name(enum http_anomaly a);
const char *http_anomaly_text(enum http_anomaly a);
/* "h2", or for HTTP/1 "http/1.0" or "http/1.1" by the version of the
 * request (the response's when no request was seen). */
const char *txn_proto_name(const struct txn *t);

/* gRPC's status name: "OK", ... "UNAUTHENTICATED" (0 to 16), else
 * NULL. */
const char *txn_grpc_status_name(int status);

/* Frees a gRPC block and what it owns; accepts NULL. */
void txn_grpc_free(struct txn_grpc *g);

/* --- allocation ------------------------------------------------------ */

/* Finished transactions kept, with their buffers, for the next ones:
 * once it is warm, a transaction costs no allocation.  A pool holds at
 * most TXN_POOL_MAX transactions, and keeps no buffer larger than
 * TXN_POOL_KEEP bytes (96 KB at most in all).  Previews are of max_body
 * bytes (kept when max_body is at most TXN_POOL_KEEP), plus the body
 * decoder's few bytes of slack (BODY_PREVIEW_SLACK).  One pool serves
 * the connections of one stream tracker. */
#define TXN_POOL_MAX 16
#define TXN_POOL_KEEP 1024
struct txn_pool;

/* Returns NULL on allocation failure. */
struct txn_pool *txn_pool_new(size_t max_body);
/* Frees the pool and what it holds; accepts NULL.  Transactions taken
 * from it may be freed (txn_free) or put back before or after. */
void txn_pool_free(struct txn_pool *pool);
/* A zeroed transaction (buffers kept from an earlier one may be
 * attached), from the pool when it has one; NULL when out of memory.
 * pool may be NULL. */
struct txn *txn_get(struct txn_pool *pool);
/* Gives t back: kept in the pool, emptied, or freed when the pool is
 * full or NULL. */
void txn_put(struct txn_pool *pool, struct txn *t);
/* Frees t and what it owns; accepts NULL. */
void txn_free(struct txn *t);

#endif
