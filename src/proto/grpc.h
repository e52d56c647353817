/* grpc.h -- gRPC over HTTP/2: the length-prefixed messages of a stream's direction, status names, the method from :path. */
#ifndef HS_GRPC_H
#define HS_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The gRPC over HTTP/2 protocol (grpc/doc/PROTOCOL-HTTP2.md) frames each
 * message with a 5-byte prefix: a compressed flag and a 32-bit length. */
#define GRPC_PREFIX_LEN 5

/* Kept of the first message of each direction, as sent (compressed or
 * not), and decoded from it when compressed: previews need no more.
 * Larger messages are counted and sized, and previewed from their start. */
#define GRPC_KEEP_MAX (16 * 1024)
#define GRPC_DECODED_MAX (16 * 1024)

/* The message encodings (grpc-encoding) that are decoded. */
enum grpc_coding { GRPC_IDENTITY, GRPC_GZIP, GRPC_DEFLATE, GRPC_OTHER };

/* One direction of one call: DATA bytes in, messages counted. */
struct grpc_dir {
	uint8_t prefix[GRPC_PREFIX_LEN];
	size_t have;	     /* prefix bytes collected */
	uint64_t left;	     /* bytes of the current message to come */
	bool lost_sync;	     /* a loss hit a prefix: later messages are
			      * not counted */
	uint64_t messages;   /* messages begun */
	uint64_t bytes;	     /* their lengths, summed */
	uint64_t compressed; /* messages with the compressed flag */
	uint64_t lost_bytes; /* message bytes never captured */
	/* The first message, up to GRPC_KEEP_MAX bytes. */
	uint8_t *first;	     /* owned; NULL until a message begins */
	size_t first_len;
	uint32_t first_size; /* its length on the wire */
	bool first_compressed;
	bool first_lost;     /* bytes of it were never captured */
};

/* Starts empty (all zero).  Bytes of the direction's DATA frames in
 * order; data NULL means `len` bytes never captured. */
void grpc_dir_feed(struct grpc_dir *d, const uint8_t *data, size_t len);
/* Frees what d owns (not d) and empties it. */
void grpc_dir_free(struct grpc_dir *d);

/* Writes a preview of the first message (see pb_preview) to out, cap
 * bytes; a compressed message is decoded first (at most
 * GRPC_DECODED_MAX bytes), or shown as "(compressed: not decoded)" in an
 * encoding other than gzip and deflate, "(compressed: invalid data)" if
 * it does not decode.  Returns its length, or 0 if no message began.
 * *limited is set when decoding stopped at GRPC_DECODED_MAX. */
size_t grpc_dir_preview(const struct grpc_dir *d, enum grpc_coding coding,
			char *out, size_t cap, bool *limited);

/* True for a content-type of application/grpc, alone or followed by
 * '+' or ';' (application/grpc+proto, ...). */
bool grpc_is_grpc(const char *ctype, size_t len);
/* The grpc-encoding value's coding. */
enum grpc_coding grpc_coding_parse(const char *v, size_t len);
/* Splits ":path" = "/" service "/" method; returns 0, or -EINVAL if path
 * has another shape.  The slices point into path. */
int grpc_split_path(const char *path, size_t len, const char **svc,
		    size_t *svc_len, const char **method, size_t *method_len);
/* Percent-decodes a grpc-message value into out (cap bytes, NUL
 * included); returns the length.  A '%' not followed by two hex digits
 * is kept as is, as the protocol asks of decoders. */
size_t grpc_percent_decode(const char *in, size_t len, char *out, size_t cap);

#endif
