/* test_topview.c -- unit test of the --top screen's layout: sizes from 40x8 to 300x60, the columns kept as it narrows, each sort order, and the keys. */
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "event.h"
#include "prof/report.h"
#include "prof/topview.h"

#include "check.h"

static void feed(struct endpoint_table *t, struct route_table *r, int rounds)
{
	static const char *const paths[] = { "/users/1", "/orders", "/health", "/static/app.js",
					     "/api/v1/items/7/reviews", "/login", "/search?q=x" };

	for (int round = 0; round < rounds; round++) {
		for (int i = 0; i < 3000; i++) {
			struct txn_facts f = { 0 };
			struct endpoint_obs o;
			int k = (int)(rng() % 7);

			/* endpoint k gets rate ~ (k+1), latency ~ 1/(k+1), errors on 5 */
			if (rng() % 7 > (uint64_t)k)
				continue;
			f.side = k % 2 ? HS_ROLE_CLIENT : HS_ROLE_SERVER;
			f.proto = FACTS_HTTP11;
			f.comm = k % 3 ? "nginx" : "python3";
			f.container = k == 4 ? "abcdef0123456789" : "";
			f.method = k == 1 ? "POST" : "GET";
			f.method_len = strlen(f.method);
			f.target = paths[k];
			f.target_len = strlen(paths[k]);
			f.status = k == 5 && rng() % 2 ? 503 : 200;
			f.has_latency = true;
			f.latency_ns = 1000000 / (k + 1) + rng() % 1000;
			endpoint_observe(&o, &f, route_lookup(r, f.target, f.target_len));
			endpoint_record(t, &o);
		}
		endpoint_tick(t);
	}
}

static char *render(const struct endpoint_table *t, const struct route_table *r, unsigned w,
		    unsigned h, enum endpoint_sort sort, size_t *rows)
{
	struct topview_opts o = { .width = w, .height = h, .sort = sort, .interval_s = 1,
				  .elapsed_s = 125, .clock = "12:03:04", .status = "lost 0, gaps 0" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*rows = topview_render(f, t, r, &o);
	fclose(f);
	return buf;
}

static const char *line_n(const char *text, int n, char *out, size_t cap)
{
	const char *p = text;

	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return NULL;
	snprintf(out, cap, "%.*s", (int)strcspn(p, "\n"), p);
	return out;
}

static void test_sizes(const struct endpoint_table *t, const struct route_table *r)
{
	static const unsigned ws[] = { 10, 40, 60, 80, 100, 132, 200, 300 };
	static const unsigned hs[] = { 3, 8, 10, 24, 60 };

	for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
		for (size_t j = 0; j < sizeof(hs) / sizeof(hs[0]); j++) {
			unsigned w = ws[i] < 40 ? 40 : ws[i], h = hs[j] < 8 ? 8 : hs[j];
			size_t rows, lines = 0;
			char *text = render(t, r, ws[i], hs[j], ES_RATE, &rows);
			char *save = NULL, *copy = strdup(text);

			for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
				CHECK(report_cols(l) <= w, "%ux%u: %zu columns: %s", ws[i], hs[j],
				      report_cols(l), l);
			for (char *p = text; (p = strchr(p, '\n')); p++)
				lines++;
			CHECK(lines <= h && lines == TOPVIEW_HEAD + rows, "%ux%u: %zu lines, %zu rows",
			      ws[i], hs[j], lines, rows);
			CHECK(rows == (h - TOPVIEW_HEAD < endpoint_count(t) ? h - TOPVIEW_HEAD : endpoint_count(t)),
			      "%ux%u: %zu rows", ws[i], hs[j], rows);
			free(copy);
			free(text);
		}
	}
}

static void test_columns(const struct endpoint_table *t, const struct route_table *r)
{
	char l[2048];
	size_t rows;
	char *text = render(t, r, 80, 24, ES_RATE, &rows);

	line_n(text, TOPVIEW_HEAD - 1, l, sizeof(l));
	/* at 80 columns: the route, the last interval's rate, p99, errors,
	 * p50 and the method, the count and p99 since start */
	CHECK(strstr(l, "METHOD") && strstr(l, "ROUTE") && strstr(l, "RATE/s") && strstr(l, "ERR%") &&
	      strstr(l, "p50") && strstr(l, "p99") && strstr(l, "COUNT"), "80 columns: %s", l);
	CHECK(!strstr(l, "CONTAINER") && !strstr(l, "PROTOCOL"), "80 columns: %s", l);
	line_n(text, TOPVIEW_HEAD - 2, l, sizeof(l));
	CHECK(strstr(l, "last 1.0 s") && strstr(l, "since start"), "groups: %s", l);
	line_n(text, 0, l, sizeof(l));
	CHECK(strstr(l, "12:03:04") && strstr(l, "up 2m05s") && strstr(l, "7 endpoints"), "title: %s", l);
	line_n(text, 1, l, sizeof(l));
	CHECK(!strcmp(l, "lost 0, gaps 0"), "status: %s", l);
	free(text);
	text = render(t, r, 40, 24, ES_RATE, &rows);
	line_n(text, TOPVIEW_HEAD - 1, l, sizeof(l));
	CHECK(strstr(l, "ROUTE") && strstr(l, "RATE/s") && strstr(l, "p99") && !strstr(l, "COUNT"),
	      "40 columns: %s", l);
	free(text);
	text = render(t, r, 300, 24, ES_RATE, &rows);
	line_n(text, TOPVIEW_HEAD - 1, l, sizeof(l));
	CHECK(strstr(l, "CONTAINER") && strstr(l, "PROTOCOL") && strstr(l, "SIDE") && strstr(l, "max"),
	      "300 columns: %s", l);
	line_n(text, TOPVIEW_HEAD, l, sizeof(l));
	free(text);
}

static void test_sorts(const struct endpoint_table *t, const struct route_table *r)
{
	static const struct {
		enum endpoint_sort by;
		const char *first, *name;
	} want[] = {
		{ ES_RATE, "/search", "rate" },	     /* k = 6: the most often */
		{ ES_P99, "/users/{id}", "p99" },    /* k = 0: the slowest */
		{ ES_ERRORS, "/login", "errors" },   /* k = 5: 503 half the time */
		{ ES_TIME, "/search", "total time" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char l[2048];
		size_t rows;
		char *text = render(t, r, 100, 24, want[i].by, &rows);
		char head[64];

		line_n(text, TOPVIEW_HEAD, l, sizeof(l));
		CHECK(strstr(l, want[i].first) != NULL, "sort %s: first row %s", want[i].name, l);
		line_n(text, 2, l, sizeof(l));
		snprintf(head, sizeof(head), "Sort: %s ", want[i].name);
		CHECK(!strncmp(l, head, strlen(head)), "sort line: %s", l);
		free(text);
	}
	(void)t;
}

static void test_keys(void)
{
	CHECK(topview_key('r') == ES_RATE && topview_key('R') == ES_RATE, "r");
	CHECK(topview_key('p') == ES_P99 && topview_key('e') == ES_ERRORS && topview_key('t') == ES_TIME,
	      "p e t");
	CHECK(topview_key('q') == TOPVIEW_QUIT && topview_key('Q') == TOPVIEW_QUIT && topview_key(3) == TOPVIEW_QUIT,
	      "quit");
	CHECK(topview_key('x') == TOPVIEW_NONE && topview_key(-1) == TOPVIEW_NONE, "others");
}

int main(void)
{
	struct endpoint_table *t = endpoint_table_new(100, ENDPOINT_PERCENTILES | ENDPOINT_INTERVAL);
	struct route_table *r = route_table_new(100);

	feed(t, r, 3);
	CHECK(endpoint_count(t) == 7, "7 endpoints: %zu", endpoint_count(t));
	test_sizes(t, r);
	test_columns(t, r);
	test_sorts(t, r);
	test_keys();
	if (getenv("TOPVIEW_SHOW")) {
		size_t rows;
		char *text = render(t, r, (unsigned)atoi(getenv("TOPVIEW_SHOW")), 16, ES_RATE, &rows);

		fputs(text, stdout);
		free(text);
	}
	endpoint_table_free(t);
	route_table_free(r);
	return check_result("test_topview");
}
