/* stats.h -- counters of what was seen and what was lost, and the one table that names them for printing (at exit, on SIGUSR1) and for other readers. */
#ifndef HS_STATS_H
#define HS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/txn.h"

/* User space's counters; each module adds to its own.  A new counter is
 * a field here and a line in stats.c's table. */
struct stats {
	uint64_t events;	   /* records received */
	uint64_t bytes;		   /* payload bytes received */
	uint64_t txns;		   /* transactions written */
	uint64_t unpaired_reqs;	   /* requests that never got a response */
	uint64_t unpaired_resps;   /* responses with no request */
	uint64_t parse_errors;	   /* messages the parser rejected */
	uint64_t gap_bytes;	   /* stream bytes never seen by user space */
	uint64_t resync_bytes;	   /* bytes skipped looking for a message */
	uint64_t conns;		   /* connections tracked */
	uint64_t conns_evicted;	   /* dropped for the table cap or idleness */
	uint64_t reorder_overflow; /* out-of-order queues that hit their cap */
	uint64_t upgrades;	   /* connections that left HTTP/1 */
	uint64_t not_sockets;	   /* fds found not to be sockets */
	uint64_t filtered;	   /* connections dropped by -P, --unix or
				    * --container in user space (or found
				    * open on other ports at start) */
	uint64_t unix_not_stream;  /* Unix connections found to be datagram
				    * or seqpacket sockets by their type */
	uint64_t bad_records;	   /* malformed records (replay input) */
	uint64_t anomalies[HTTP_ANOM_MAX]; /* messages with each framing
					    * anomaly (core/txn.h) */
	uint64_t ws_messages;	   /* WebSocket messages reported */
	/* HTTP/2 and gRPC (proto/h2.c) */
	uint64_t h2_conns;	   /* connections parsed as HTTP/2 */
	uint64_t h2_midway;	   /* of those, recognised mid-stream */
	uint64_t h2_not_h2;	   /* taken for HTTP/2, found not to be */
	uint64_t h2_bad_frames;	   /* frames breaking RFC 9113 */
	uint64_t h2_streams_over;  /* streams past H2_STREAMS_MAX, untracked */
	uint64_t h2_resets;	   /* streams ended by RST_STREAM */
	uint64_t h2_undecoded;	   /* header blocks not decoded in full */
	uint64_t h2_fields_over;   /* header fields past the list limits */
	uint64_t grpc_decode_cut;  /* gRPC messages decoded only up to
				    * GRPC_DECODED_MAX (gzip bombs stop
				    * there) */
};

/* Where a statistic's value lives. */
enum stat_src {
	STAT_USER,   /* a field of struct stats: at is its offset */
	STAT_KERNEL, /* the probe's counters: at is an enum hs_stat */
	STAT_GAUGE,  /* a level, not a count: at is an enum stat_gauge */
	STAT_COST,   /* what tracing has cost so far: at is an enum stat_cost */
};

enum stat_gauge {
	STAT_G_OPEN,	     /* connections tracked in user space now */
	STAT_G_KERNEL_TABLE, /* entries in the probe's connection table */
	STAT_G_MAX,
};

/* What tracing has cost since it began (live only).  The probe's run
 * time is known only while the kernel keeps BPF statistics. */
enum stat_cost {
	STAT_C_CPU_US,	   /* httpsnoop's CPU, user and system, in us */
	STAT_C_PROBE_US,   /* its programs' run time, in us */
	STAT_C_PROBE_RUNS, /* times they ran */
	STAT_C_MAX,
};

struct stat_desc {
	const char *name; /* as printed: at most STATS_NAME_MAX chars */
	const char *help; /* what it counts, one line */
	uint8_t src;	  /* enum stat_src */
	uint16_t at;
	/* As a Prometheus metric (sink/metrics.c): its name when not the
	 * printed one's (a unit in Prometheus's base units), and how many
	 * of the value's units make one of the metric's (0: as is). */
	const char *metric;
	uint32_t metric_per;
};
#define STATS_NAME_MAX 19

/* Every statistic, in the order they are printed. */
extern const struct stat_desc stats_table[];
extern const size_t stats_count;

/* The values at one moment.  kernel is NULL in a replay (no probe), and
 * gauges NULL where they are not known: their statistics are left out,
 * as are the costs without their bit in cost_known. */
struct stats_view {
	const struct stats *user;
	const uint64_t *kernel; /* HS_STAT_MAX counters */
	const uint64_t *gauges; /* STAT_G_MAX levels */
	const uint64_t *cost;	/* STAT_C_MAX */
	unsigned cost_known;	/* bit (1 << enum stat_cost) per known one */
};

/* d's value in v; false when v does not have it. */
bool stats_value(const struct stat_desc *d, const struct stats_view *v,
		 uint64_t *out);

/* "\nhttpsnoop statistics:\n" and a line per statistic v has. */
void stats_print(FILE *f, const struct stats_view *v);

#endif
