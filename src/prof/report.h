/* report.h -- the endpoint summary as a table for people (--summary) and as one JSON document (--summary-json). */
#ifndef HS_REPORT_H
#define HS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prof/endpoint.h"
#include "prof/route.h"

struct report_opts {
	unsigned width;	  /* terminal columns; below 80 counts as 80 */
	double elapsed_s; /* since tracing began: rates are per second of it */
	size_t max_rows;  /* rows shown, highest total time first; 0: all */
};

/* Writes the table of t's endpoints, sorted by total time.  A gRPC
 * row counts its calls with grpc-status OK under 2xx and the others
 * (none included) under 5xx, with "-" under 3xx and 4xx.  Below
 * REPORT_WIDE columns each endpoint takes two lines (who and what, then
 * the figures) that fit 80 columns; from REPORT_WIDE on, one line, the
 * route's column as wide as the terminal allows.  Returns 0 or -errno
 * of a write error. */
#define REPORT_WIDE 144
int report_text(FILE *f, const struct endpoint_table *t,
		const struct route_table *r, const struct report_opts *o);

/* Writes one JSON document (RFC 8259) and a newline:
 *   {"elapsed_s", "percentile_error", "routes", "route_overflow",
 *    "endpoint_overflow", "endpoints": [...]}
 * each endpoint {"side", "process", "container", "protocol", "method",
 * "route", "count", "rate", "errors", "status": {"1xx" ... "5xx",
 * "none", "other"}, "grpc_status" (gRPC rows: {"OK": n, "NOT_FOUND": n,
 * ... "other", "none"}, the codes seen; else null), "latency_ns": {"p50", "p90", "p99", "max", "mean"},
 * "time_ns", "request_bytes", "response_bytes"}, sorted by total time.
 * README.md documents each field.  Returns 0 or -errno. */
int report_json(FILE *f, const struct endpoint_table *t,
		const struct route_table *r, const struct report_opts *o);

/* Figures in at most width display columns (µ is one column; buf holds
 * 32 bytes): counts as "41234" or "1.23M", durations as "850ns",
 * "12.3µs", "1.20ms", "3.4s", byte counts as "512", "1.5K" (K = 1024),
 * rates as "686.7" or "12.3k".  Shared with --top. */
#define REPORT_FIG_LEN 32
void report_fmt_count(char *buf, uint64_t v, unsigned width);
void report_fmt_ns(char *buf, uint64_t ns, unsigned width);
void report_fmt_bytes(char *buf, uint64_t v, unsigned width);
void report_fmt_rate(char *buf, double r, unsigned width);

/* Display columns of a UTF-8 string (one per character). */
size_t report_cols(const char *s);

#endif
