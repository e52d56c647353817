/* http1.h -- HTTP/1.x over a reassembled connection: parses both directions with llhttp and pairs requests with responses. */
#ifndef HS_HTTP1_H
#define HS_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/stats.h"
#include "core/txn.h"

/* Called once per finished transaction.  The txn is owned by the HTTP
 * layer and valid only during the call; the callee may rewrite it (as
 * redaction does), since it is freed or reused right after. */
typedef void (*http1_emit_fn)(void *ctx, struct txn *t);

struct http1_opts {
	size_t max_body; /* preview bytes kept per body */
	http1_emit_fn emit;
	void *ctx;
	struct stats *stats; /* counters to update; required */
	struct txn_pool *pool; /* optional; shared by the connections of
				* one stream, with the same max_body */
};

/* Requests that may wait for responses on one connection; past this the
 * oldest is reported without a response. */
#define HTTP1_PIPELINE_MAX 256

struct http1;

/* `conn` is owned by the caller and must outlive the http1; it is copied
 * into each transaction when it is emitted, so later updates to it (an
 * address learned late) show.  Returns NULL on allocation failure. */
struct http1 *http1_new(const struct http1_opts *opts,
			const struct conn_info *conn);
/* Frees without emitting anything; accepts NULL. */
void http1_free(struct http1 *h);

/* Bytes of direction dir (enum hs_dir), contiguous with the previous call
 * for that direction; a call starts at a syscall boundary, which is where
 * the parser looks for a message start after losing sync. */
void http1_data(struct http1 *h, int dir, const uint8_t *data, size_t len,
		uint64_t ts);
/* `len` bytes of direction dir that were never captured. */
void http1_gap(struct http1 *h, int dir, uint64_t len, uint64_t ts);
/* The connection ended (why: "connection closed", "tracing stopped",
 * ...): completes close-delimited bodies and reports every request still
 * waiting, with `why` as its error. */
void http1_close(struct http1 *h, uint64_t ts, const char *why);
/* True once the connection left HTTP/1 (101 Upgrade, CONNECT tunnel). */
bool http1_upgraded(const struct http1 *h);

/* True if data begins like a request (is_request) or a response, as the
 * probe's inference does; exported for tests. */
bool http1_looks_like_start(const uint8_t *data, size_t len, bool is_request);

#endif
