/* summary.c -- the summary sink: endpoints aggregated while tracing, printed as a table (--summary) at the end and on SIGUSR1, and written as JSON (--summary-json) at the end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/util.h"
#include "prof/prof.h"
#include "prof/report.h"
#include "sink/sink.h"
#include "sink/writer.h"

/* Endpoints kept, per route kept: a route is usually served by one
 * process with a few methods. */
#define SUMMARY_ENDPOINTS_PER_ROUTE 4

struct summary {
	struct prof *prof;
	struct endpoint_table *t;
	bool text;	   /* --summary */
	FILE *out;	   /* where the table goes */
	FILE *json;	   /* --summary-json, opened at the start (the
			    * privileges are gone at the end) */
	const char *json_path;
	bool json_done;
	uint64_t start;	   /* first tick (live), 0 before it */
	uint64_t first_ts, last_ts; /* span of the transactions (replay) */
};

static bool summary_wanted(const struct sink_config *cfg, const void *arg)
{
	return cfg->summary || cfg->summary_json;
}

static void summary_close(void *p);

static void *summary_open(const struct sink_config *cfg, const void *arg)
{
	struct summary *s = calloc(1, sizeof(*s));
	int fd;

	if (!s) {
		warn("failed to allocate the summary: %s", strerror(ENOMEM));
		return NULL;
	}
	s->text = cfg->summary;
	/* stdout, unless the transactions are written there */
	s->out = cfg->stream && (!cfg->output || !strcmp(cfg->output, "-")) ? stderr : stdout;
	s->prof = prof_get(cfg->routes, cfg->nroutes, cfg->max_routes);
	s->t = endpoint_table_new(cfg->max_routes * SUMMARY_ENDPOINTS_PER_ROUTE,
				  ENDPOINT_PERCENTILES);
	if (!s->prof || !s->t) {
		warn("failed to allocate the summary: %s", strerror(ENOMEM));
		goto fail;
	}
	if (cfg->summary_json) {
		s->json_path = cfg->summary_json;
		fd = writer_open_fd(cfg->summary_json);
		s->json = fd < 0 ? NULL : fdopen(fd, "w");
		if (!s->json) {
			warn("failed to open %s: %s", cfg->summary_json, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto fail;
		}
	}
	return s;
fail:
	summary_close(s);
	errno = ENOMEM;
	return NULL;
}

static void summary_txn(void *p, const struct txn *t)
{
	struct summary *s = p;
	struct endpoint_obs o;

	if (!prof_observe(s->prof, t, &o))
		return;
	endpoint_record(s->t, &o);
	if (!s->first_ts || (t->req.first_ts && t->req.first_ts < s->first_ts))
		s->first_ts = t->req.first_ts;
	if (t->resp.last_ts > s->last_ts)
		s->last_ts = t->resp.last_ts;
}

static void summary_tick(void *p, uint64_t now)
{
	struct summary *s = p;

	if (!s->start)
		s->start = now;
}

/* Seconds the rates are over: since the first tick of a live run, else
 * (a replay) the span of the transactions. */
static double summary_elapsed(const struct summary *s)
{
	if (s->start)
		return (double)(util_now_ns() - s->start) / 1e9;
	return s->last_ts > s->first_ts ? (double)(s->last_ts - s->first_ts) / 1e9 : 0;
}

static void summary_write_json(struct summary *s)
{
	struct report_opts o = { .width = 80, .elapsed_s = summary_elapsed(s) };

	if (!s->json || s->json_done)
		return;
	s->json_done = true;
	if (report_json(s->json, s->t, prof_routes(s->prof), &o) || fflush(s->json))
		warn("failed to write %s: %s", s->json_path, strerror(errno ? errno : EIO));
}

static void summary_report(void *p, bool end)
{
	struct summary *s = p;
	struct report_opts o = { .width = 80, .elapsed_s = summary_elapsed(s) };
	struct winsize ws;

	if (s->text) {
		if (isatty(fileno(s->out)) && !ioctl(fileno(s->out), TIOCGWINSZ, &ws))
			o.width = ws.ws_col;
		fputc('\n', s->out);
		report_text(s->out, s->t, prof_routes(s->prof), &o);
	}
	if (end)
		summary_write_json(s);
}

static void summary_close(void *p)
{
	struct summary *s = p;

	if (!s)
		return;
	summary_write_json(s);
	if (s->json && fclose(s->json))
		warn("failed to write %s: %s", s->json_path, strerror(errno));
	endpoint_table_free(s->t);
	prof_put(s->prof);
	free(s);
}

const struct sink_ops summary_sink = {
	.name = "summary",
	.wanted = summary_wanted,
	.open = summary_open,
	.txn = summary_txn,
	.tick = summary_tick,
	.report = summary_report,
	.close = summary_close,
};
