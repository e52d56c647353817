/* proto.h -- the protocol interface: the stream tracker hands each connection's ordered bytes and gaps to the protocol the registry detects, through these ops, and never names a protocol itself. */
#ifndef HS_PROTO_H
#define HS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/stats.h"
#include "core/txn.h"

/* Where protocols report what they find.  A record is owned by the
 * protocol and valid only during the call; the callee may rewrite it (as
 * redaction does), since it is freed or reused right after. */
struct proto_emit {
	void (*txn)(void *ctx, struct txn *t);	 /* a finished transaction */
	void (*ws)(void *ctx, struct ws_msg *m); /* a WebSocket message;
						  * NULL drops them */
	void *ctx;
};

/* What every protocol instance of one tracker shares; it outlives them. */
struct proto_env {
	size_t max_body;	/* preview bytes kept per body (or message) */
	struct stats *stats;	/* counters to update */
	struct proto_emit emit;
	struct txn_pool *pool;	/* transactions for reuse, with max_body
				 * previews */
};

/* A protocol's answer to the first bytes of a connection. */
enum proto_guess {
	PROTO_NO,    /* not this protocol */
	PROTO_MAYBE, /* too few bytes to tell: show me more */
	PROTO_YES,
};

/* What data() returns besides 0: the connection left this protocol after
 * the first *used bytes of that call (101 Switching Protocols, a CONNECT
 * tunnel).  Those after, and every later byte in either direction, are
 * not this protocol's: the tracker asks switched() what follows. */
#define PROTO_SWITCH 1

/* How a connection left a protocol, as switched() tells it. */
struct proto_switch {
	const char *to;	       /* the protocol it switched to, as the
				* upgrade names it (RFC 9110 section 7.8:
				* "websocket", "h2c"); not NUL-terminated */
	size_t to_len;	       /* 0: none known (a CONNECT tunnel) */
	int req_dir;	       /* direction that carried requests, or -1 */
	const struct txn *txn; /* the transaction that switched (the
				* request and its 101), before redaction:
				* owned by the old protocol and valid
				* until it is freed; NULL if none */
	uint64_t ts;	       /* when */
};

/* One protocol.  An instance parses one connection; the tracker calls
 * its ops in the order the bytes were sent: data() and gap() per
 * direction as they become contiguous, close() once at the end, then
 * free().  `conn` is owned by the tracker and outlives the instance; it
 * may change (an address learned late), so copy it into a record only
 * when the record is emitted.  Many transactions may be open at once
 * (HTTP/2 streams): an instance emits each when it is finished. */
struct proto_ops {
	const char *name;    /* e.g. "http/1" */
	const char *upgrade; /* the Upgrade token that hands a connection
			      * to it ("websocket", "h2c"), or NULL */
	/* Looks at the first `len` bytes seen in direction dir (all of them
	 * so far: it is asked again with more after PROTO_MAYBE).  NULL for
	 * a protocol only an upgrade leads to. */
	enum proto_guess (*detect)(const uint8_t *data, size_t len, int dir,
				   const struct conn_info *conn);
	/* A parser for conn, or NULL when out of memory.  from is NULL for
	 * a detected connection, or what the previous protocol said when
	 * the connection switched to this one; what it points to lives only
	 * during the call (copy what is needed, e.g. h2c's upgraded
	 * request, which becomes stream 1). */
	void *(*new)(const struct proto_env *env, const struct conn_info *conn,
		     const struct proto_switch *from);
	/* Bytes of direction dir (enum hs_dir), contiguous with the
	 * previous call for that direction; a call starts at a syscall
	 * boundary.  Returns 0, or PROTO_SWITCH with *used set. */
	int (*data)(void *p, int dir, const uint8_t *data, size_t len,
		    uint64_t ts, size_t *used);
	/* `len` bytes of direction dir that were never captured. */
	void (*gap)(void *p, int dir, uint64_t len, uint64_t ts);
	/* After data() returned PROTO_SWITCH: fills sw. */
	void (*switched)(void *p, struct proto_switch *sw);
	/* The connection ended (why: "connection closed", "tracing stopped",
	 * ...): reports what is still open, with `why` as its error.  Also
	 * called on an instance the connection switched away from, for
	 * what it still owes. */
	void (*close)(void *p, uint64_t ts, const char *why);
	/* Frees without reporting anything; accepts NULL. */
	void (*free)(void *p);
};

/* --- the registry (proto.c) ------------------------------------------ */

/* Bytes a connection's first direction may hold while a protocol says
 * PROTO_MAYBE; past them the fallback is taken. */
#define PROTO_DETECT_MAX 4096

/* The protocol of a connection, from the first len bytes seen in
 * direction dir: the first registered one that says PROTO_YES; NULL
 * (ask again with more bytes) while an earlier one says PROTO_MAYBE and
 * len < PROTO_DETECT_MAX; else the fallback, HTTP/1, which also finds
 * its way through garbage to the next message. */
const struct proto_ops *proto_detect(const uint8_t *data, size_t len, int dir,
				     const struct conn_info *conn);
/* The fallback, for a connection ending before any byte was seen. */
const struct proto_ops *proto_fallback(void);

/* The protocol an Upgrade token names (ASCII case-insensitive; a
 * "/version" suffix is not part of the name), or NULL. */
const struct proto_ops *proto_by_upgrade(const char *token, size_t len);

#endif
