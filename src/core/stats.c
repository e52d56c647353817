/* stats.c -- the table of statistics: their names, what they count, where their values live, and how they are printed. */
#include "core/stats.h"

#include <linux/types.h>

#include "event.h"

#define USER(name, field, help) \
	{ name, help, STAT_USER, offsetof(struct stats, field), NULL, 0 }
#define KERNEL(name, idx, help) { name, help, STAT_KERNEL, idx, NULL, 0 }
#define GAUGE(name, idx, help) { name, help, STAT_GAUGE, idx, NULL, 0 }
#define COST(name, idx, help, metric, per) { name, help, STAT_COST, idx, metric, per }

const struct stat_desc stats_table[] = {
	USER("transactions", txns, "transactions written"),
	USER("WebSocket messages", ws_messages, "WebSocket messages written"),
	USER("unpaired requests", unpaired_reqs, "requests that never got a response"),
	USER("unpaired responses", unpaired_resps, "responses with no request"),
	USER("parse errors", parse_errors, "messages the parser rejected"),
	USER("events", events, "records received from the probe"),
	USER("bytes", bytes, "payload bytes received"),
	USER("connections", conns, "connections tracked"),
	USER("upgraded", upgrades, "connections that left HTTP/1 (101, CONNECT)"),
	USER("gap bytes", gap_bytes, "stream bytes never seen by user space"),
	USER("resync bytes", resync_bytes, "bytes skipped looking for a message start"),
	USER("reorder overflows", reorder_overflow, "out-of-order queues that hit their cap"),
	USER("evicted connections", conns_evicted, "connections dropped for the table cap or idleness"),
	USER("not sockets", not_sockets, "fds found not to be sockets"),
	USER("filtered", filtered, "connections dropped by -P, --unix or --container in user space"),
	USER("non-stream conns", unix_not_stream, "Unix connections found to be datagram or seqpacket sockets"),
	USER("bad records", bad_records, "malformed records"),
	USER("CL with TE", anomalies[HTTP_ANOM_CL_TE],
	     "messages with Content-Length and Transfer-Encoding"),
	USER("CL values differ", anomalies[HTTP_ANOM_CL_DIFFER],
	     "messages whose Content-Length values differ"),
	USER("TE not chunked", anomalies[HTTP_ANOM_TE_NOT_CHUNKED],
	     "requests whose Transfer-Encoding does not end in chunked"),
	USER("obs-fold", anomalies[HTTP_ANOM_OBS_FOLD],
	     "messages with a header continued on the next line"),
	USER("space before colon", anomalies[HTTP_ANOM_SPACE_COLON],
	     "messages with whitespace before a header's colon"),
	USER("bare LF", anomalies[HTTP_ANOM_BARE_LF],
	     "messages with a line ending in LF without CR"),
	USER("after ambiguous", anomalies[HTTP_ANOM_AFTER_AMBIGUOUS],
	     "requests following one whose framing was ambiguous"),
	USER("h2 connections", h2_conns, "connections parsed as HTTP/2"),
	USER("h2 joined midway", h2_midway, "HTTP/2 connections recognised mid-stream"),
	USER("h2 not HTTP/2", h2_not_h2, "connections taken for HTTP/2 that were not"),
	USER("h2 bad frames", h2_bad_frames, "HTTP/2 frames breaking RFC 9113"),
	USER("h2 streams over cap", h2_streams_over, "HTTP/2 streams past the per-connection cap, not reported"),
	USER("h2 streams reset", h2_resets, "HTTP/2 streams ended by RST_STREAM"),
	USER("h2 undecoded blocks", h2_undecoded, "header blocks with fields that could not be decoded"),
	USER("h2 fields over cap", h2_fields_over, "header fields past the header list limits"),
	USER("grpc decode cut", grpc_decode_cut, "gRPC messages decoded only up to the limit"),
	KERNEL("lost events", HS_STAT_LOST, "records the ring buffer had no room for"),
	KERNEL("lost bytes", HS_STAT_LOST_BYTES, "stream bytes in lost records"),
	KERNEL("kernel gap bytes", HS_STAT_GAP_BYTES, "bytes past the per-syscall capture cap"),
	KERNEL("conn table full", HS_STAT_CONN_FULL, "connections the probe's table had no room for"),
	KERNEL("unreadable buffers", HS_STAT_READ_FAIL, "user memory the probe could not read"),
	KERNEL("non-HTTP bytes", HS_STAT_NON_HTTP_BYTES, "bytes on connections found not HTTP"),
	KERNEL("TLS without socket", HS_STAT_TLS_NO_FD, "SSL calls whose socket was never seen"),
	KERNEL("Unix non-HTTP conns", HS_STAT_UNIX_OTHER, "Unix stream connections found not HTTP"),
	KERNEL("Unix non-stream", HS_STAT_UNIX_NOT_STREAM, "Unix datagram and seqpacket sockets made while tracing, left out"),
	KERNEL("no-buffer bytes", HS_STAT_NO_USER_BUF, "bytes of traced connections moved with no buffer to read (io_uring, 32-bit tasks): gaps"),
	KERNEL("kernel records", HS_STAT_EVENTS, "records the probe submitted"),
	GAUGE("open connections", STAT_G_OPEN, "connections tracked in user space now"),
	GAUGE("kernel table", STAT_G_KERNEL_TABLE, "entries in the probe's connection table now"),
	COST("tracer CPU us", STAT_C_CPU_US,
	     "CPU time (user and system) httpsnoop used since tracing began",
	     "tracer_cpu_seconds", 1000000),
	COST("probe run us", STAT_C_PROBE_US,
	     "time the probe's programs ran since tracing began (with sysctl kernel.bpf_stats_enabled=1)",
	     "probe_run_seconds", 1000000),
	COST("probe runs", STAT_C_PROBE_RUNS,
	     "times the probe's programs ran since tracing began (with sysctl kernel.bpf_stats_enabled=1)",
	     NULL, 0),
};
const size_t stats_count = sizeof(stats_table) / sizeof(stats_table[0]);

bool stats_value(const struct stat_desc *d, const struct stats_view *v,
		 uint64_t *out)
{
	switch (d->src) {
	case STAT_USER:
		*out = *(const uint64_t *)((const char *)v->user + d->at);
		return true;
	case STAT_KERNEL:
		if (!v->kernel)
			return false;
		*out = v->kernel[d->at];
		return true;
	case STAT_GAUGE:
		if (!v->gauges)
			return false;
		*out = v->gauges[d->at];
		return true;
	default:
		if (!v->cost || !(v->cost_known & (1u << d->at)))
			return false;
		*out = v->cost[d->at];
		return true;
	}
}

void stats_print(FILE *f, const struct stats_view *v)
{
	uint64_t n;

	fputs("\nhttpsnoop statistics:\n", f);
	for (size_t i = 0; i < stats_count; i++)
		if (stats_value(&stats_table[i], v, &n))
			fprintf(f, "  %-*s %llu\n", STATS_NAME_MAX, stats_table[i].name,
				(unsigned long long)n);
}
