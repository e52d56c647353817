/* facts.h -- what the profiler's filters and tables read of a finished transaction, gathered once. */
#ifndef HS_FACTS_H
#define HS_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The protocol a transaction spoke. */
enum facts_proto {
	FACTS_HTTP10,
	FACTS_HTTP11,
	FACTS_H2,	/* HTTP/2, not gRPC */
	FACTS_GRPC,	/* a gRPC call (over HTTP/2) */
	FACTS_NPROTO,
};

/* Strings are slices (not NUL-terminated) that live as long as the
 * transaction they were taken from. */
struct txn_facts {
	uint8_t side;		/* enum hs_role */
	uint8_t proto;		/* enum facts_proto */
	const char *comm;	/* the process's command name, NUL-terminated */
	const char *container;	/* its container id (hex), "" on the host */
	const char *method;	/* NULL when no request was seen */
	size_t method_len;
	const char *target;	/* the request target, query included */
	size_t target_len;
	const char *host;	/* Host (or :authority) value, or NULL */
	size_t host_len;
	int status;		/* final response status, 0 when none came */
	int grpc_status;	/* FACTS_GRPC: grpc-status, -1 when none came */
	bool has_latency;	/* latency_ns is known */
	uint64_t latency_ns;	/* request's first byte to response's last */
	uint64_t req_bytes;	/* request body bytes (after de-chunking) */
	uint64_t resp_bytes;	/* response body bytes */
};

#endif
