/* body.h -- body preview: keeps the first bytes of a message body, decoding gzip/deflate. */
#ifndef HS_BODY_H
#define HS_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "core/txn.h"

struct z_stream_s;

enum body_coding { BODY_IDENTITY, BODY_GZIP, BODY_DEFLATE };

/* Fills msg->preview with at most `max` bytes.  The decoder's state is
 * owned here and freed by body_end() (also safe without body_begin). */
struct body {
	struct http_msg *msg;
	size_t max;
	enum body_coding coding;
	struct z_stream_s *z; /* NULL unless coding != BODY_IDENTITY */
	int wbits;	      /* zlib window bits in use */
	int done;	      /* preview full, or decoding stopped */
	uint8_t head[2];      /* "deflate": the first bytes, held until
			       * they tell zlib-wrapped from raw */
	int nhead;
};

/* content_encoding is the header value (may be NULL). */
void body_begin(struct body *b, struct http_msg *msg, size_t max,
		const char *content_encoding, size_t ce_len);
/* data NULL means `len` bytes lost to a capture gap. */
void body_feed(struct body *b, const uint8_t *data, size_t len);
void body_end(struct body *b);

#endif
