/* filter.h -- display filters (--method, --path, --host, --status, --min-latency): parsers and the matcher. */
#ifndef HS_FILTER_H
#define HS_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/txn.h"
#include "prof/facts.h"

/* Each kind given more than once (or as a comma list) matches when any
 * of its values does; the kinds given are AND-ed.  A transaction without
 * a request never matches --method, --path or --host; one without a
 * response never matches --status or --min-latency. */
#define FILTER_VALUES_MAX 32 /* values of one kind */
#define FILTER_VALUES_MAX_STR "32"
#define FILTER_STATUS_MAX 999

struct filter {
	const char *methods[FILTER_VALUES_MAX]; /* tokens (slices of the
						 * argument), compared ASCII
						 * case-insensitively */
	size_t method_len[FILTER_VALUES_MAX];
	size_t nmethods;
	const char *paths[FILTER_VALUES_MAX];	/* globs */
	size_t npaths;
	const char *hosts[FILTER_VALUES_MAX];	/* globs */
	bool host_port[FILTER_VALUES_MAX];	/* the glob names a port */
	size_t nhosts;
	uint64_t status[(FILTER_STATUS_MAX + 64) / 64]; /* bit n: status n */
	bool by_status;
	bool by_latency;
	uint64_t min_latency_ns;
};

/* A zeroed struct filter matches everything; it owns nothing.  The
 * strings given must outlive it (they are argv's). */

/* The parsers.  Each returns NULL, or what is wrong with the value (a
 * static string saying what is expected; the caller prints it with the
 * option's name and value, then the usage, and exits 2).
 *  --method M[,M...]  HTTP methods (RFC 9110 section 9: tokens);
 *  --path GLOB        fnmatch(3) without flags on the path (the target
 *                     without its query: '*' and '?' match '/' too, [...]
 *                     classes, '\' escapes), case-sensitive;
 *  --host GLOB        fnmatch(3) with FNM_CASEFOLD on the Host header;
 *                     without the port unless the glob gives one (a
 *                     ':' after any ']': "*:8080", not "[[]::1]");
 *  --status SPEC      comma list of codes (404), classes (5xx) and
 *                     ranges (400-499), codes 100-999;
 *  --min-latency D    latency at least D: a number (decimals allowed)
 *                     and a unit, ns, us (or µs), ms, s, m or h, maybe
 *                     several ("1m30s"). */
const char *filter_add_method(struct filter *f, const char *arg);
const char *filter_add_path(struct filter *f, const char *glob);
const char *filter_add_host(struct filter *f, const char *glob);
const char *filter_add_status(struct filter *f, const char *spec);
const char *filter_set_min_latency(struct filter *f, const char *arg);

/* Parses a duration as --min-latency takes it into ns.  Returns 0,
 * -EINVAL or -ERANGE (past UINT64_MAX ns); prints nothing. */
int filter_parse_duration(const char *s, uint64_t *ns);

/* Whether any filter was given. */
bool filter_active(const struct filter *f);

/* Whether t passes every filter given. */
bool filter_match(const struct filter *f, const struct txn_facts *t);

/* The same for a transaction, as a display filter of the sinks
 * (sink_filter_fn; f is the struct filter). */
bool filter_txn(void *f, const struct txn *t);

#endif
