/* route.h -- routes: request targets grouped by user patterns or by an identifier heuristic, in a bounded table. */
#ifndef HS_ROUTE_H
#define HS_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A route is the target's path, without query or fragment, in which
 *  - a user pattern (--route /orders/{id}/items) that matches the path
 *    segment for segment is taken as it is written; a placeholder {NAME}
 *    matches one non-empty segment, and where several patterns match, the
 *    one whose first differing segment is literal wins;
 *  - otherwise each identifier-like segment becomes {id} (see
 *    route_segment_is_id()), and "<id>.<ext>" becomes "{id}.<ext>" (ext:
 *    1 to 5 letters and digits, a letter among them).
 * A route holds only visible ASCII: other bytes, quotes, backslashes and
 * braces from the wire are percent-encoded (RFC 3986 section 2.1), so
 * that a route is safe in JSON, in a Prometheus label and on a terminal
 * as it is.  Routes are at most ROUTE_LEN_MAX - 1 bytes: a longer one is
 * cut after its last whole segment that fits, followed by "/{...}". */
#define ROUTE_LEN_MAX 128
#define ROUTE_PATTERNS_MAX 64	 /* --route patterns */
#define ROUTE_PATTERNS_MAX_STR "64"
#define ROUTE_MAX_DEFAULT 1000	 /* routes kept (--max-routes) */
#define ROUTE_MAX_LIMIT 1000000
#define ROUTE_OTHER 0		 /* id of "{other}" */
#define ROUTE_OTHER_NAME "{other}"

struct route_table;

/* A table of at most max_routes routes found by the heuristic, plus the
 * patterns, plus "{other}".  NULL on failure. */
struct route_table *route_table_new(size_t max_routes);
void route_table_free(struct route_table *t);

/* Adds a --route pattern: "/" followed by segments separated by "/",
 * each literal (visible ASCII but braces, '?', '#', '"' and '\\') or
 * a placeholder "{NAME}" (NAME of letters, digits, '_' and '-', maybe
 * empty).  Returns NULL, or what is wrong (a static string: a bad
 * pattern, one matching the same paths as another, more than
 * ROUTE_PATTERNS_MAX). */
const char *route_add_pattern(struct route_table *t, const char *pattern);

/* Writes the route of a request target (origin-form "/p?q",
 * absolute-form "http://h/p", authority-form "h:443", or "*"; RFC 9112
 * section 3.2) to out, which holds ROUTE_LEN_MAX bytes; returns its
 * length (out is NUL-terminated).  The pattern's text when one matches,
 * else the heuristic's.  No table lookup: route_lookup() does both. */
size_t route_normalise(const struct route_table *t, const char *target,
		       size_t len, char *out);

/* The id of the target's route, adding it to the table if there is
 * room; past the bound ROUTE_OTHER, and route_overflow() counts it.  The
 * cost is one pass over the path and one hash lookup. */
uint32_t route_lookup(struct route_table *t, const char *target, size_t len);

/* The same for a name taken as it is, with neither patterns nor the
 * heuristic: a gRPC call's :path ("/package.Service/Method", which names
 * a method, not a resource).  Percent-encoded and cut as routes are, and
 * bounded with them. */
uint32_t route_lookup_name(struct route_table *t, const char *name, size_t len);

/* The route called id, owned by the table and valid until it is freed;
 * "{other}" for an unknown id. */
const char *route_name(const struct route_table *t, uint32_t id);

/* Routes held (patterns and "{other}" included), and lookups that fell
 * into "{other}" because the table was full. */
size_t route_count(const struct route_table *t);
uint64_t route_overflow(const struct route_table *t);

/* Where the path of a request target is: *p, and its length up to the
 * query or fragment, of an origin-form or absolute-form target ("/" when
 * an absolute-form target has none: *n is then 0).  Returns false for
 * targets with no path (authority-form, asterisk-form, anything else). */
bool route_path(const char *target, size_t len, const char **p, size_t *n);

/* Whether a path segment (bytes between slashes) looks like an
 * identifier rather than a name:
 *  - digits only ("42"), or digits with separators - . _ ~ : , + and no
 *    letters ("2024-01-15", "1.2.3");
 *  - a UUID (8-4-4-4-12 hex digits);
 *  - hex digits only, at least 8 of them, one a decimal digit ("5f1c9a2e",
 *    a MongoDB ObjectId, a git hash; "deadbeef" and "facade" stay);
 *  - letters and digits with a run of 4 or more digits ("user12345",
 *    "IMG_20240115"), or at least 4 changes between a letter and a digit
 *    ("a1b2c3", "dQw4w9WgXcQ"), or 16 or more bytes with a digit among
 *    them (API keys, base64 tokens);
 *  - an '@' after the first byte (an e-mail address; "@scope" stays).
 * So "v1", "v2beta1", "oauth2", "sha256", "x86_64", "k8s", "i18n" and
 * "user123" stay: names with a few digits are common, and a bounded
 * table catches what the rules miss.  Letters-only tokens (a random
 * base64 token without a digit, 2% of 22-byte ones) are kept too: no
 * rule tells them from words without a dictionary. */
bool route_segment_is_id(const char *s, size_t n);

#endif
