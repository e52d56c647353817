/* redact.h -- hides credentials in headers and query parameters before a transaction is written. */
#ifndef HS_REDACT_H
#define HS_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/txn.h"

#define REDACT_MAX_NAMES 64 /* names per list, defaults included */

struct redact {
	bool off; /* --no-redact */
	const char *headers[REDACT_MAX_NAMES];
	size_t header_len[REDACT_MAX_NAMES]; /* strlen of each, kept so that
					      * most names are ruled out by
					      * length alone */
	size_t nheaders;
	uint64_t header_keys; /* a bit per listed name, chosen by its
			       * length and first letter (redact.c): most
			       * headers are ruled out by this alone */
	uint64_t header_ends; /* the same, by its length and last letter:
			       * rules out most of the others */
	const char *query[REDACT_MAX_NAMES];
	size_t query_len[REDACT_MAX_NAMES];
	size_t nquery;
};

/* Fills r with the default header list: Authorization,
 * Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key. */
void redact_init(struct redact *r);
/* Adds a header (or query parameter) name; the string must outlive r.
 * Returns 0 or -E2BIG. */
int redact_add_header(struct redact *r, const char *name);
int redact_add_query(struct redact *r, const char *name);

/* Rewrites t's credentials in place: a header value becomes
 * "[redacted N bytes]", keeping an Authorization scheme ("Bearer
 * [redacted 43 bytes]") so that debugging still works; a listed query
 * parameter's value becomes "[redacted N bytes]" too.  Returns how many
 * values were hidden. */
size_t redact_txn(const struct redact *r, struct txn *t);

#endif
