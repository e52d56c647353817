/* stream.h -- stream tracker: puts each connection's records in byte order, finds gaps, and feeds the protocol the registry detects. */
#ifndef HS_STREAM_H
#define HS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/stats.h"
#include "core/txn.h"
#include "proto/proto.h"

/* Decides about a connection the first time it is seen: may fill in
 * addresses (conn->local/remote) and returns true to trace it, false to
 * ignore its records from then on.  ev_flags are the first record's
 * HS_F_* flags. */
typedef bool (*stream_admit_fn)(void *ctx, struct conn_info *conn,
				unsigned ev_flags);

struct stream_opts {
	size_t max_conns;	/* tracked at once; the least recently
				 * active is evicted past it (counted) */
	uint64_t idle_ns;	/* a connection idle this long is closed */
	uint64_t reorder_ns;	/* how long a hole may wait for its bytes */
	size_t reorder_max;	/* records held out of order per direction */
	size_t max_body;	/* preview bytes per body */
	struct proto_emit emit; /* where the protocols report */
	stream_admit_fn admit;	/* optional */
	void *admit_ctx;
	struct stats *stats;	/* required */
};

struct stream;

struct stream *stream_new(const struct stream_opts *opts);
/* Frees everything without reporting; accepts NULL. */
void stream_free(struct stream *st);

/* Checks one raw record (as the probe or a recording delivers it).
 * Returns 0, or -EINVAL for a malformed one. */
int stream_check(const void *rec, size_t len);

/* Takes one record: `rec` is a struct hs_event followed by its payload,
 * `len` bytes in all.  Malformed records are counted and dropped
 * (-EINVAL).  Nothing is kept pointing into rec. */
int stream_feed(struct stream *st, const void *rec, size_t len);

/* Housekeeping at time now (CLOCK_MONOTONIC ns, or the latest record
 * time in a replay): fills holes that waited too long, closes idle
 * connections. */
void stream_tick(struct stream *st, uint64_t now);

/* Ends every connection, reporting waiting requests with `why`. */
void stream_close_all(struct stream *st, uint64_t now, const char *why);

/* Connections tracked now. */
size_t stream_count(const struct stream *st);

#endif
