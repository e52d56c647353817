/* metrics.c -- the metrics sink (--metrics): every transaction counted by endpoint and status, and served as Prometheus metrics with httpsnoop's own statistics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "prof/prof.h"
#include "prof/prom.h"
#include "sink/promserve.h"
#include "sink/sink.h"

/* Series sets (endpoint and status) kept, per route kept: the labels'
 * cardinality follows the route bound. */
#define METRICS_SERIES_PER_ROUTE 4
/* Counters of the metrics themselves, after the statistics; room for
 * both (the statistics table has 26 rows). */
#define METRICS_OWN 5
#define METRICS_COUNTERS_MAX 64

struct metrics {
	struct prof *prof;
	struct endpoint_table *t;
	struct promserve *srv;
	bool running;	     /* its thread started */
	const char *addr;    /* --metrics as given */
	void (*stats)(void *ctx, struct stats_view *v, uint64_t *kernel, uint64_t *gauges);
	void *stats_ctx;
};

static bool metrics_wanted(const struct sink_config *cfg, const void *arg)
{
	return cfg->metrics != NULL;
}

static void metrics_close(void *p);

static void *metrics_open(const struct sink_config *cfg, const void *arg)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m) {
		warn("failed to allocate the metrics: %s", strerror(ENOMEM));
		return NULL;
	}
	m->stats = cfg->stats;
	m->stats_ctx = cfg->stats_ctx;
	m->addr = cfg->metrics;
	m->prof = prof_get(cfg->routes, cfg->nroutes, cfg->max_routes);
	m->t = endpoint_table_new(cfg->max_routes * METRICS_SERIES_PER_ROUTE,
				  ENDPOINT_BY_STATUS | ENDPOINT_BUCKETS);
	if (!m->prof || !m->t) {
		warn("failed to allocate the metrics: %s", strerror(ENOMEM));
		metrics_close(m);
		errno = ENOMEM;
		return NULL;
	}
	/* Bound now, while the privileges (a port below 1024) are here;
	 * served from the first flush on, once they are gone. */
	m->srv = promserve_bind(&cfg->metrics_addr, cfg->metrics_addr_len);
	if (!m->srv) {
		int err = errno;

		warn("failed to serve --metrics on %s: %s", cfg->metrics, strerror(err));
		metrics_close(m);
		errno = err;
		return NULL;
	}
	return m;
}

static void metrics_txn(void *p, const struct txn *t)
{
	struct metrics *m = p;
	struct endpoint_obs o;

	if (prof_observe(m->prof, t, &o))
		endpoint_record(m->t, &o);
}

/* httpsnoop's statistics and the metrics' own counters, as counters and
 * gauges; returns how many are in c (which holds METRICS_COUNTERS_MAX),
 * their names in names. */
static size_t metrics_counters(struct metrics *m, struct prom_counter *c,
			       char (*names)[PROM_NAME_MAX])
{
	uint64_t kernel[HS_STAT_MAX] = { 0 }, gauges[STAT_G_MAX] = { 0 };
	struct stats_view v = { 0 };
	size_t n = 0;

	if (m->stats)
		m->stats(m->stats_ctx, &v, kernel, gauges);
	for (size_t i = 0; v.user && i < stats_count && n < METRICS_COUNTERS_MAX - METRICS_OWN; i++) {
		uint64_t val;

		if (!stats_value(&stats_table[i], &v, &val))
			continue;
		if (stats_table[i].metric)
			snprintf(names[n], PROM_NAME_MAX, "%s", stats_table[i].metric);
		else
			prom_name(stats_table[i].name, names[n]);
		c[n] = (struct prom_counter){ names[n], stats_table[i].help, val,
					      stats_table[i].src == STAT_GAUGE,
					      stats_table[i].metric_per };
		n++;
	}
	c[n++] = (struct prom_counter){ "route_overflow",
		"transactions whose route was past --max-routes (counted as {other})",
		route_overflow(prof_routes(m->prof)), false, 0 };
	c[n++] = (struct prom_counter){ "routes", "routes known (patterns and {other} included)",
		route_count(prof_routes(m->prof)), true, 0 };
	c[n++] = (struct prom_counter){ "series_overflow",
		"transactions past the series bound (counted with process {other})",
		endpoint_overflow(m->t) + endpoint_dropped(m->t), false, 0 };
	c[n++] = (struct prom_counter){ "scrapes", "scrapes of /metrics answered",
		promserve_scrapes(m->srv), false, 0 };
	c[n++] = (struct prom_counter){ "stale_scrapes",
		"scrapes answered with an older page (the event loop was busy)",
		promserve_stale(m->srv), false, 0 };
	return n;
}

/* A scrape waits: the page is rendered here, in the event loop, which
 * owns the tables. */
static int metrics_flush(void *p)
{
	struct metrics *m = p;
	struct prom_counter c[METRICS_COUNTERS_MAX];
	char names[METRICS_COUNTERS_MAX][PROM_NAME_MAX];
	char *page = NULL;
	size_t len = 0, n;
	FILE *f;

	if (!m->running) {
		int err = promserve_run(m->srv);

		if (err) {
			warn("failed to serve --metrics on %s: %s", m->addr, strerror(-err));
			return err;
		}
		m->running = true;
	}
	if (!promserve_wanted(m->srv))
		return 0;
	f = open_memstream(&page, &len);
	if (!f)
		return 0; /* the scrape gets the last page */
	n = metrics_counters(m, c, names);
	prom_write_http(f, m->t, prof_routes(m->prof));
	prom_write_rpc(f, m->t, prof_routes(m->prof));
	prom_write_counters(f, c, n);
	if (fclose(f)) {
		free(page);
		return 0;
	}
	promserve_publish(m->srv, page, len);
	return 0;
}

static void metrics_close(void *p)
{
	struct metrics *m = p;

	if (!m)
		return;
	promserve_stop(m->srv);
	endpoint_table_free(m->t);
	prof_put(m->prof);
	free(m);
}

const struct sink_ops metrics_sink = {
	.name = "metrics",
	.wanted = metrics_wanted,
	.open = metrics_open,
	.txn = metrics_txn,
	.flush = metrics_flush,
	.close = metrics_close,
	.unfiltered = true,
};
