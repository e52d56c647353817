/* framing.h -- HTTP/1 framing anomalies (RFC 9112): what llhttp accepts or refuses but peers may read otherwise, flagged on the message as an expert dissector would. */
#ifndef HS_FRAMING_H
#define HS_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <llhttp.h>

#include "core/stats.h"
#include "core/txn.h"

/* One direction's state.  A line of the head ends right after the span
 * llhttp reports last on it (a request's version, a response's reason, a
 * header's value): the CR and LF bytes there are looked at, across
 * buffers if need be. */
struct framing {
	struct http_msg *msg;	/* the message being parsed, or NULL */
	struct stats *stats;	/* counts each anomaly flagged */
	bool is_request;
	const uint8_t *end;	/* of the buffer llhttp is given */
	bool run;		/* in the line break after a line's last span */
	uint8_t prev;		/* the byte before, in it */
	uint8_t lfs;		/* LFs in it */
	bool dup_cl;		/* a second Content-Length was seen */
	bool cl_differs;	/* one after the first differed */
	uint64_t first_cl;	/* the first one's value */
	bool ambiguous;		/* the last message's framing was ambiguous:
				 * flag the next request */
	bool name_space;	/* a piece of a header's name ended in
				 * whitespace: look at the names */
};

/* Where it reports; called once. */
void framing_init(struct framing *f, struct stats *stats, bool is_request);
/* A message begins (m is where it is parsed), or is given up. */
void framing_begin(struct framing *f, struct http_msg *m);
void framing_abandon(struct framing *f);

/* Looks at a line break from p (see framing_line_end). */
void framing_run(struct framing *f, const uint8_t *p);

/* A buffer is given to llhttp: a line break begun in the last one goes
 * on in it. */
static inline void framing_buffer(struct framing *f, const uint8_t *data,
				  size_t len)
{
	f->end = data + len;
	if (f->run)
		framing_run(f, data);
}

/* A line of the head ended its last span at e (in the current buffer):
 * RFC 9112 section 2.2 ends it in CRLF, section 5.2 makes a line that
 * goes on with whitespace an obs-fold. */
static inline void framing_line_end(struct framing *f, const uint8_t *e)
{
	/* the usual cases: CRLF, and the next line begins, or the empty
	 * line ends the head */
	if (!f->msg || (f->end - e > 2 && !memcmp(e, "\r\n", 2) &&
			(e[2] > ' ' || (f->end - e >= 4 && !memcmp(e + 2, "\r\n", 2)))))
		return;
	f->run = true;
	f->prev = 0;
	f->lfs = 0;
	framing_run(f, e);
}

/* A piece of a header's name ends with c. */
static inline void framing_name_piece(struct framing *f, char c)
{
	/* most end in a letter: one comparison */
	if ((uint8_t)c <= ' ' && (c == ' ' || c == '\t'))
		f->name_space = true;
}

/* For framing_field(): name, as long as "Content-Length", may be a
 * second one. */
void framing_field_cl(struct framing *f, llhttp_t *p, const char *name);

/* A header's name is complete, name[0..len), and llhttp has seen a
 * Content-Length before it.  Inline, as it runs for each header after
 * one: most are ruled out by their length without a call. */
static inline void framing_field(struct framing *f, llhttp_t *p,
				 const char *name, size_t len)
{
	if (len == sizeof("Content-Length") - 1)
		framing_field_cl(f, p, name);
}

/* The head is complete.  Returns true when the body's length cannot be
 * known (a request's Transfer-Encoding not ending in chunked): the
 * caller treats it as having none, then looks for the next message. */
bool framing_headers(struct framing *f, llhttp_t *p);
/* llhttp refused the message with err at pos, in the buffer [buf, end)
 * (pos may be NULL); in_name: the last span was a header's name.  Flags
 * what the error shows: whitespace before a colon, a Content-Length list
 * whose values differ (or whose next value is in the next buffer). */
void framing_error(struct framing *f, llhttp_t *p, llhttp_errno_t err,
		   const uint8_t *buf, const uint8_t *pos, bool in_name);

#endif
