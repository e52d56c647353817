/* prom.h -- Prometheus text exposition (format 0.0.4) of the endpoint table and of httpsnoop's own counters. */
#ifndef HS_PROM_H
#define HS_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prof/endpoint.h"
#include "prof/route.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One of httpsnoop's counters, exposed as httpsnoop_<name>_total, or a
 * gauge, as httpsnoop_<name>. */
struct prom_counter {
	const char *name; /* [a-z0-9_]+, without prefix and suffix */
	const char *help; /* one line */
	uint64_t value;
	bool gauge;
	uint32_t per; /* 10, 100, ...: value is in 1/per of the metric's
		       * unit, written with decimals; 0 or 1: as is */
};

/* Writes the counters.  Returns 0 or -errno of a write error. */
int prom_write_counters(FILE *f, const struct prom_counter *c, size_t n);

/* A metric name from a statistic's: lowercase, each run of other
 * characters one '_' ("non-HTTP bytes" -> "non_http_bytes"); out holds
 * PROM_NAME_MAX bytes. */
#define PROM_NAME_MAX 64
void prom_name(const char *name, char *out);

/* Writes the HTTP metrics of a table made with ENDPOINT_BY_STATUS |
 * ENDPOINT_BUCKETS, named as OpenTelemetry's semantic conventions are
 * when exported to Prometheus, so that dashboards made for them (and
 * for Beyla) work unchanged:
 *   http_{server,client}_request_duration_seconds    histogram
 *   http_{server,client}_request_body_size_bytes     histogram
 *   http_{server,client}_response_body_size_bytes    histogram
 * labelled http_request_method, http_response_status_code (absent when
 * no response came), http_route, network_protocol_version, process and
 * container (absent on the host).  A transaction without a latency (no
 * response) is in the body size histograms only.  Rows whose side is
 * unknown (a connection open before tracing began) are left out, and so
 * are gRPC rows (prom_write_rpc()).  Returns 0 or -errno. */
int prom_write_http(FILE *f, const struct endpoint_table *t,
		    const struct route_table *r);

/* Writes the gRPC calls of the same table as OpenTelemetry's RPC
 * conventions are exported (as Beyla does):
 *   rpc_{server,client}_duration_seconds    histogram
 * with the buckets of the HTTP durations, labelled rpc_system="grpc",
 * rpc_service and rpc_method (the route "/package.Service/Method" split
 * at its last '/'), rpc_grpc_status_code (absent when no grpc-status
 * came), process and container (absent on the host).  Calls without a
 * latency and rows whose side is unknown are left out.  Returns 0 or
 * -errno. */
int prom_write_rpc(FILE *f, const struct endpoint_table *t,
		   const struct route_table *r);

#endif
