/* app.h -- the running program: its options, the pipeline's parts, and the two ways to drive them (live tracing, replay of a recording). */
#ifndef HS_APP_H
#define HS_APP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/filter.h"
#include "app/options.h"
#include "capture/probe.h"
#include "core/stats.h"
#include "core/txn.h"

/* The stream tracker's settings. */
#define APP_MAX_CONNS 65536			/* tracked at once */
#define APP_IDLE_NS (300ULL * 1000000000ULL)	/* idle connection closed */
#define APP_REORDER_NS (200ULL * 1000000ULL)	/* a hole waits this long */
#define APP_REORDER_MAX 64			/* records held per direction */

/* The live run's settings. */
#define APP_RINGBUF_KB 16384		   /* the probe's ring buffer */
#define APP_POLL_MS 100			   /* longest wait for records */
#define APP_MAX_PROBE_FILE (1 << 20)	   /* --probe file size, bytes */
#define APP_PENDING_MAX 256		   /* exec'd and exited processes
					    * noted between two turns */

struct app {
	struct options *o;
	struct stats stats;
	struct stream *stream;
	struct sinks *sinks;
	struct probe *probe;		     /* live only */
	struct tls *tls;		     /* live, with TLS */
	struct recorder *rec;		     /* --record */
	struct container_cache *containers;
	struct unixsock *unix_socks;	     /* Unix sockets' names and
					      * peers (live), and the
					      * sockets noted from the
					      * records (both) */
	uint64_t last_ts;		     /* newest record time, the
					      * replay's clock */
	uint32_t exited[APP_PENDING_MAX];    /* processes whose kernel
					      * entries await a sweep */
	size_t nexited;
	uint32_t execed[APP_PENDING_MAX];    /* processes to look at for
					      * TLS libraries */
	size_t nexeced;
	bool kernel_cgroups;		     /* --container is filtered in
					      * the kernel */
	uint64_t cgroups[HS_MAX_CGROUPS]; /* its cgroups, when it is */
	size_t ncgroups;
	bool stop;			     /* the live loop ends */
	struct known_sock *known;	     /* live: the TCP sockets open
					      * at the start, by pid and fd */
	size_t nknown, capknown;
	/* What tracing has cost (enum stat_cost): the counts when it
	 * began (app_cost_start()), and the last reading's costs. */
	uint64_t cost0[STAT_C_MAX];
	uint64_t cost[STAT_C_MAX];
	bool cost_started;
};

/* Set by the signal handlers: SIGINT/SIGTERM end the run, SIGUSR1 asks
 * for the statistics. */
extern volatile sig_atomic_t app_exiting, app_want_stats;

/* A finished transaction: redacted, then handed to the sinks. */
void app_on_txn(void *ctx, struct txn *t);
/* A WebSocket message, to the sinks (payloads are not redacted). */
void app_on_ws(void *ctx, struct ws_msg *m);
/* One record from the probe or a recording: recorded, noted for the
 * bookkeeping it needs (TLS scans, containers, sweeps), fed to the
 * tracker. */
void app_on_record(void *ctx, const void *rec, size_t len);
/* Both admit callbacks' verdict on a Unix connection that turned out to
 * be a datagram or seqpacket socket (made before tracing, or by accept
 * on a seqpacket listener): false, counted. */
bool app_unix_stream(struct app *a, const struct conn_info *c);
/* The tracker's admit callbacks (stream.h): live tracing asks /proc
 * what the probe could not see, a replay filters by -P alone. */
bool app_admit_live(void *ctx, struct conn_info *c, unsigned flags);
bool app_admit_replay(void *ctx, struct conn_info *c, unsigned flags);
/* A connection found to be no protocol httpsnoop parses: the probe
 * stops sending its bytes (live only). */
void app_ignore_live(void *ctx, const struct conn_info *c);

/* Live, once tracing begins: from now on the statistics say what
 * tracing has cost (enum stat_cost). */
void app_cost_start(struct app *a);

/* The statistics to stderr, after the sinks' reports (end: tracing is
 * over); kernel NULL in a replay, gauges NULL when not known (see
 * stats_view).  With what tracing has cost, the cost of a transaction
 * follows them. */
void app_print_stats(struct app *a, const uint64_t *kernel,
		     const uint64_t *gauges, bool end);
/* The statistics now, for the sinks that show them (sink_config.stats;
 * ctx is the app). */
void app_read_stats(void *ctx, struct stats_view *v, uint64_t *kernel,
		    uint64_t *gauges);

/* Runs the pipeline on the probe (app/live.c) or on --replay's file
 * (app/app.c).  Return the exit status. */
int app_run_live(struct app *a);
int app_run_replay(struct app *a);

#endif
