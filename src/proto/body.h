/* body.h -- body preview: keeps the first bytes of a message body, decoding gzip/deflate. */
#ifndef HS_BODY_H
#define HS_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "core/txn.h"

struct z_stream_s;

/* Bytes allocated past a preview's max, which writers may read (not
 * use): a block of them is checked at a time (msg->preview_cap). */
#define BODY_PREVIEW_SLACK 32

/* Fills msg->preview with at most `max` bytes.  The decoder's state is
 * owned here and freed by body_end() (also safe without body_begin). */
struct body {
	struct http_msg *msg;
	size_t max;
	enum http_coding coding; /* the message's Content-Encoding */
	struct z_stream_s *z; /* NULL unless decoding gzip or deflate */
	int wbits;	      /* zlib window bits in use */
	int done;	      /* preview full, or decoding stopped */
	uint8_t head[2];      /* "deflate": the first bytes, held until
			       * they tell zlib-wrapped from raw */
	int nhead;
};

/* The content-coding is msg's Content-Encoding (its headers are
 * complete). */
void body_begin(struct body *b, struct http_msg *msg, size_t max);
/* data NULL means `len` bytes lost to a capture gap. */
void body_feed(struct body *b, const uint8_t *data, size_t len);
void body_end(struct body *b);

#endif
