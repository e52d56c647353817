/* endpoint.h -- endpoint table: transactions aggregated by side, process, protocol, method and route, in bounded memory. */
#ifndef HS_ENDPOINT_H
#define HS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prof/facts.h"
#include "prof/hist.h"
#include "prof/route.h"

/* Methods as OpenTelemetry's http.request.method has them: the nine of
 * RFC 9110 section 9 and RFC 5789, any other as "_OTHER", so that a
 * client sending random methods cannot grow the table. */
enum endpoint_method {
	EM_GET, EM_HEAD, EM_POST, EM_PUT, EM_DELETE, EM_CONNECT, EM_OPTIONS,
	EM_TRACE, EM_PATCH, EM_OTHER, EM_NMETHODS,
};

/* Status classes: [0] no response, [1]..[5] 1xx..5xx, [6] anything
 * else (a status outside 100-599). */
#define ENDPOINT_NCLASSES 7

/* gRPC rows count their calls by grpc-status (grpc/doc/statuscodes.md):
 * [0] OK .. [16] UNAUTHENTICATED, [ENDPOINT_GRPC_OTHER] a code past 16,
 * [ENDPOINT_GRPC_NOSTATUS] no grpc-status (the call was cut, or its
 * response ended without one).  In a by-status table the key's status
 * of a gRPC row is the code, or ENDPOINT_GRPC_NONE when none came. */
#define ENDPOINT_GRPC_CODES 17
#define ENDPOINT_GRPC_OTHER 17
#define ENDPOINT_GRPC_NOSTATUS 18
#define ENDPOINT_GRPC_NCOUNTS 19
#define ENDPOINT_GRPC_NONE 0xffff

#define ENDPOINT_COMM_LEN 16	 /* comm, NUL included */
#define ENDPOINT_CONTAINER_LEN 13 /* short container id (12 hex), NUL */
#define ENDPOINT_MAX_DEFAULT 4000 /* endpoints kept (--max-routes * 4) */
#define ENDPOINT_OTHER_COMM "{other}"

/* Compared and hashed as bytes: built zeroed, then filled. */
struct endpoint_key {
	uint32_t route;	 /* id in the route table */
	uint16_t status; /* by-status tables only, else 0; gRPC rows:
			  * the grpc-status or ENDPOINT_GRPC_NONE */
	uint8_t side;	 /* enum hs_role */
	uint8_t proto;	 /* enum facts_proto */
	uint8_t method;	 /* enum endpoint_method */
	uint8_t pad[3];
	char comm[ENDPOINT_COMM_LEN];	       /* visible ASCII and spaces
						* but '"' and '\\' ('?') */
	char container[ENDPOINT_CONTAINER_LEN]; /* hex, "" on the host */
	uint8_t pad2[3];
};
_Static_assert(sizeof(struct endpoint_key) == 44, "endpoint_key has no holes");

/* The fixed buckets of the Prometheus histograms (upper bounds): the
 * durations OpenTelemetry advises for http.server.request.duration (s),
 * and the body sizes Beyla uses (bytes); an implicit +Inf follows. */
#define ENDPOINT_NDUR 14
#define ENDPOINT_NSIZE 10
extern const double endpoint_dur_bounds[ENDPOINT_NDUR];	  /* seconds */
extern const uint64_t endpoint_size_bounds[ENDPOINT_NSIZE]; /* bytes */

/* Counts in the fixed buckets, not cumulative ([N] is +Inf). */
struct endpoint_buckets {
	uint64_t dur[ENDPOINT_NDUR + 1];
	uint64_t dur_count;	/* transactions with a latency */
	uint64_t dur_sum_ns;
	uint64_t req[ENDPOINT_NSIZE + 1];
	uint64_t resp[ENDPOINT_NSIZE + 1];
};

struct endpoint {
	struct endpoint_key key;
	uint64_t count;		/* transactions */
	uint64_t errors;	/* of those: 5xx or no response; gRPC: a
				 * grpc-status other than OK, or none */
	uint64_t status[ENDPOINT_NCLASSES]; /* by HTTP status class */
	uint64_t req_bytes, resp_bytes; /* body bytes, summed */
	uint64_t time_ns;	/* latencies, summed (saturating) */
	struct hist lat;	/* since start, up to the last tick
				 * (ENDPOINT_PERCENTILES) */
	/* ENDPOINT_INTERVAL: this interval and the last one. */
	struct hist lat_cur, lat_last;
	uint64_t count_cur, count_last;
	uint64_t errors_cur, errors_last;
	struct endpoint_buckets *buckets; /* owned (ENDPOINT_BUCKETS) */
	uint64_t *grpc;		/* owned: gRPC rows, ENDPOINT_GRPC_NCOUNTS
				 * counts by grpc-status; else NULL */
};

/* What a table keeps, chosen when it is made. */
enum {
	ENDPOINT_BY_STATUS = 1,	 /* the key holds the status code */
	ENDPOINT_PERCENTILES = 2, /* lat: the latency histogram */
	ENDPOINT_INTERVAL = 4,	 /* lat_cur/lat_last, counts per tick */
	ENDPOINT_BUCKETS = 8,	 /* Prometheus buckets */
};

/* One transaction's part of the key, and its figures, worked out once
 * for every table that records it. */
struct endpoint_obs {
	struct endpoint_key key; /* status 0 */
	int status;		 /* 0 when no response came */
	int grpc_status;	 /* FACTS_GRPC: -1 when none came */
	bool error;
	bool has_latency;
	uint64_t latency_ns;
	uint64_t req_bytes, resp_bytes;
};

/* Fills o from f and the route id; returns false (o unusable) when the
 * transaction has no request, which no table records. */
bool endpoint_observe(struct endpoint_obs *o, const struct txn_facts *f,
		      uint32_t route);

/* A table of at most max endpoints; past it, a new endpoint is counted
 * in its side's and protocol's overflow row (comm "{other}", route
 * ROUTE_OTHER, method _OTHER, status 0), so the rows are bounded by max
 * + 12.  Memory: 360 bytes per row (and 152 more for a gRPC row) and 8 in the index, plus per
 * histogram 256 bytes per octave its values span (HIST_NCHUNKS * 256 =
 * 9.5 KB at worst): one histogram a row with ENDPOINT_PERCENTILES, three
 * with ENDPOINT_INTERVAL; plus 312 bytes with ENDPOINT_BUCKETS.  NULL on
 * failure. */
struct endpoint_table;
struct endpoint_table *endpoint_table_new(size_t max, unsigned flags);
void endpoint_table_free(struct endpoint_table *t);

/* Counts o in its endpoint.  Out of memory, the transaction is counted
 * in endpoint_dropped() instead. */
void endpoint_record(struct endpoint_table *t, const struct endpoint_obs *o);

/* Closes an interval (ENDPOINT_INTERVAL): this interval becomes the last
 * one, and is added to the since-start histogram. */
void endpoint_tick(struct endpoint_table *t);

/* Rows, in the order they were made; valid until the next record. */
size_t endpoint_count(const struct endpoint_table *t);
const struct endpoint *endpoint_at(const struct endpoint_table *t, size_t i);

/* Transactions that went to an overflow row because the table was full,
 * and those lost to a failed allocation. */
uint64_t endpoint_overflow(const struct endpoint_table *t);
uint64_t endpoint_dropped(const struct endpoint_table *t);

/* The since-start latency histogram of e, with the current interval
 * merged in when the table keeps intervals (into scratch, which the
 * caller initialised with hist_init() and frees). */
const struct hist *endpoint_latency(const struct endpoint_table *t,
				    const struct endpoint *e,
				    struct hist *scratch);

/* Sort orders of the views. */
enum endpoint_sort {
	ES_TIME,   /* total latency since start */
	ES_RATE,   /* transactions in the last interval, then since start */
	ES_P99,	   /* p99 of the last interval, then since start */
	ES_ERRORS, /* errors in the last interval, then since start */
};

/* Fills out with up to n rows, highest first; returns how many.  Ties
 * go by count, then by route name, so a view is stable. */
size_t endpoint_sorted(const struct endpoint_table *t, enum endpoint_sort by,
		       const struct route_table *routes,
		       const struct endpoint **out, size_t n);

/* Names for labels and tables. */
const char *endpoint_method_name(uint8_t m);
const char *endpoint_side_name(uint8_t side);	/* client server unknown */
const char *endpoint_proto_name(uint8_t proto); /* http/1.0 ... grpc */

#endif
