/* framing.c -- HTTP/1 framing anomalies (RFC 9112): what llhttp accepts or refuses but peers may read otherwise, flagged on the message as an expert dissector would.
 *
 * llhttp parses leniently where peers are lenient (bare LF, obs-fold,
 * Transfer-Encoding with Content-Length), so that a message a server
 * accepted is reported; what it let through is flagged here.  A second
 * Content-Length, which llhttp refuses, is parsed by clearing llhttp's
 * record of the first (its flag and count are public fields of
 * llhttp_t) and keeping the first value, as python's http.server does.
 */
#include "proto/framing.h"

#include <string.h>

#include "core/util.h"

static void flag(struct framing *f, enum http_anomaly a)
{
	if (!f->msg || (f->msg->anomalies & (1u << a)))
		return;
	f->msg->anomalies |= 1u << a;
	f->stats->anomalies[a]++;
}

void framing_init(struct framing *f, struct stats *stats, bool is_request)
{
	memset(f, 0, sizeof(*f));
	f->stats = stats;
	f->is_request = is_request;
}

void framing_run(struct framing *f, const uint8_t *p)
{
	for (; p < f->end; p++) {
		if (*p == '\n') {
			if (f->prev != '\r')
				flag(f, HTTP_ANOM_BARE_LF);
			if (++f->lfs == 2) {
				f->run = false; /* the empty line: the body follows */
				return;
			}
		} else if (*p != '\r') {
			if (f->lfs && (*p == ' ' || *p == '\t'))
				flag(f, HTTP_ANOM_OBS_FOLD);
			f->run = false;
			return;
		}
		f->prev = *p;
	}
}

void framing_begin(struct framing *f, struct http_msg *m)
{
	f->msg = m;
	f->run = false;
	f->dup_cl = false;
	f->cl_differs = false;
	f->name_space = false;
	if (f->ambiguous && f->is_request)
		flag(f, HTTP_ANOM_AFTER_AMBIGUOUS);
	f->ambiguous = false;
}

void framing_abandon(struct framing *f)
{
	f->msg = NULL;
	f->run = false;
}

void framing_field_cl(struct framing *f, llhttp_t *p, const char *name)
{
	if (!util_token_eq(name, sizeof("Content-Length") - 1, "Content-Length") ||
	    !(p->flags & F_CONTENT_LENGTH))
		return;
	/* llhttp refuses a second Content-Length: let it count this one
	 * afresh, and compare at the end of the head. */
	if (!f->dup_cl) {
		f->dup_cl = true;
		f->first_cl = p->content_length;
	} else if (p->content_length != f->first_cl) {
		f->cl_differs = true;
	}
	p->flags &= ~F_CONTENT_LENGTH;
	p->content_length = 0;
}

bool framing_headers(struct framing *f, llhttp_t *p)
{
	const struct http_msg *m = f->msg;

	/* section 5.1: no whitespace between a name and its colon */
	for (size_t i = 0; f->name_space && m && i < m->nhdrs; i++) {
		const struct http_header *h = &m->hdrs[i];
		char c = h->name_len ? m->buf[h->name_off + h->name_len - 1] : 0;

		if (c == ' ' || c == '\t')
			flag(f, HTTP_ANOM_SPACE_COLON);
	}
	if (f->dup_cl && (f->cl_differs || p->content_length != f->first_cl)) {
		flag(f, HTTP_ANOM_CL_DIFFER);
		f->ambiguous = true;
	}
	if (f->dup_cl)
		p->content_length = f->first_cl;
	/* RFC 9112 section 6.3 item 3: Transfer-Encoding wins (llhttp
	 * does so leniently), but a server reading Content-Length would
	 * frame what follows otherwise. */
	if ((p->flags & F_CONTENT_LENGTH) && (p->flags & F_TRANSFER_ENCODING)) {
		flag(f, HTTP_ANOM_CL_TE);
		f->ambiguous = true;
	}
	/* Section 6.3 item 4: the length of such a request cannot be
	 * known (a server must answer 400 and close). */
	if (f->is_request && (p->flags & F_TRANSFER_ENCODING) &&
	    !(p->flags & F_CHUNKED)) {
		flag(f, HTTP_ANOM_TE_NOT_CHUNKED);
		f->ambiguous = true;
		return true;
	}
	return false;
}

/* The value after a list's comma in a Content-Length ("5, 6", RFC 9112
 * section 6.3 item 5), if it is all in [p, end). */
static bool next_cl(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	bool digits = false;

	*v = 0;
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	for (; p < end && *p >= '0' && *p <= '9' && *v < UINT64_MAX / 10; p++) {
		*v = *v * 10 + (*p - '0');
		digits = true;
	}
	return digits;
}

/* Whether pos is in a header's name: no colon since the line began.
 * llhttp reports a name only where it ends, or where a buffer does: a
 * line that began in an earlier buffer began a name if its span came
 * last, or if that buffer ended the line before. */
static bool in_field_name(const struct framing *f, const uint8_t *buf,
			  const uint8_t *pos, bool in_name)
{
	for (const uint8_t *q = pos; q > buf; q--) {
		if (q[-1] == '\n')
			return true;
		if (q[-1] == ':')
			return false;
	}
	return in_name || f->lfs;
}

void framing_error(struct framing *f, llhttp_t *p, llhttp_errno_t err,
		   const uint8_t *buf, const uint8_t *pos, bool in_name)
{
	uint64_t v;

	if (!pos || pos < buf || pos >= f->end)
		return;
	if (err == HPE_INVALID_HEADER_TOKEN && (*pos == ' ' || *pos == '\t') &&
	    in_field_name(f, buf, pos, in_name))
		flag(f, HTTP_ANOM_SPACE_COLON);
	/* a list that differs, or whose next value is past this buffer */
	if (err == HPE_INVALID_CONTENT_LENGTH && *pos == ',' &&
	    (!next_cl(pos, f->end, &v) || v != p->content_length)) {
		flag(f, HTTP_ANOM_CL_DIFFER);
		f->ambiguous = true;
	}
}
