/* test_report.c -- unit test of the renderers: figure formats, the --summary table's layout, and (with check_report.py and promtool) the summary JSON and the Prometheus exposition.
 *
 * Plain run: the C checks.
 * "--json RAW" / "--prom RAW": aggregates a seeded random set of
 * transactions, writes each of them to RAW as one JSON line (the ground
 * truth for check_report.py) and the summary JSON document, or the
 * exposition, to stdout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "event.h"
#include "prof/prom.h"
#include "prof/report.h"

#include "check.h"

static const struct {
	char kind; /* c count, n ns, b bytes */
	uint64_t v;
	unsigned width;
	const char *want;
} figs[] = {
	{ 'c', 0, 6, "0" },
	{ 'c', 41234, 6, "41234" },
	{ 'c', 999999, 6, "999999" },
	{ 'c', 1000000, 6, "1.00M" },
	{ 'c', 1234567, 6, "1.23M" },
	{ 'c', 123456, 5, "123k" },
	{ 'c', 99999, 5, "99999" },
	{ 'c', 999999, 5, "1.00M" },
	{ 'c', 12345678901ULL, 6, "12.35G" },
	{ 'c', UINT64_MAX, 6, "18.45E" },
	{ 'n', 0, 6, "0ns" },
	{ 'n', 850, 6, "850ns" },
	{ 'n', 999, 6, "999ns" },
	{ 'n', 1000, 6, "1.00µs" },
	{ 'n', 12345, 6, "12.3µs" }, /* "12.35µs" is 7 columns */
	{ 'n', 999600, 6, "1.00ms" },
	{ 'n', 1200000, 6, "1.20ms" },
	{ 'n', 123456789, 6, "123ms" },
	{ 'n', 3400000000ULL, 6, "3.40s" },
	{ 'n', 12345000000000ULL, 6, "12345s" },
	{ 'b', 0, 6, "0" },
	{ 'b', 512, 6, "512" },
	{ 'b', 1023, 6, "1023" },
	{ 'b', 1024, 6, "1.00K" },
	{ 'b', 1536, 6, "1.50K" },
	{ 'b', 6400000, 6, "6.10M" },
	{ 'b', 1073741824ULL * 3, 6, "3.00G" },
};

static void test_figures(void)
{
	char buf[REPORT_FIG_LEN];

	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		const char *want = figs[i].want;

		if (figs[i].kind == 'c')
			report_fmt_count(buf, figs[i].v, figs[i].width);
		else if (figs[i].kind == 'n')
			report_fmt_ns(buf, figs[i].v, figs[i].width);
		else
			report_fmt_bytes(buf, figs[i].v, figs[i].width);
		CHECK(!strcmp(buf, want), "%c %llu in %u: '%s', want '%s'", figs[i].kind,
		      (unsigned long long)figs[i].v, figs[i].width, buf, want);
	}
	/* every value fits its column */
	for (int i = 0; i < 100000; i++) {
		uint64_t v = rng() >> (rng() % 64);
		unsigned w = 5 + (unsigned)(rng() % 2);

		report_fmt_count(buf, v, w);
		CHECK(report_cols(buf) <= w, "count %llu: '%s' over %u", (unsigned long long)v, buf, w);
		report_fmt_bytes(buf, v, w);
		CHECK(report_cols(buf) <= w, "bytes %llu: '%s' over %u", (unsigned long long)v, buf, w);
		v %= 100000ULL * 1000000000ULL; /* durations under 100,000 s */
		report_fmt_ns(buf, v, 6);
		CHECK(report_cols(buf) <= 6, "ns %llu: '%s'", (unsigned long long)v, buf);
		report_fmt_rate(buf, (double)v / 1e6, 6);
		CHECK(report_cols(buf) <= 6, "rate %g: '%s'", (double)v / 1e6, buf);
	}
	report_fmt_rate(buf, 686.66, 6);
	CHECK(!strcmp(buf, "686.7"), "rate '%s'", buf);
	report_fmt_rate(buf, 0.05, 6);
	CHECK(!strcmp(buf, "0.05"), "rate '%s'", buf);
	report_fmt_rate(buf, 12345, 6);
	CHECK(!strcmp(buf, "12.35k"), "rate '%s'", buf);
}

/* ---- a data set ---- */

static const char *const comms[] = { "nginx", "curl", "python3" };
static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "PROPFIND" };
static const char *const targets[] = {
	"/", "/users/%d", "/users/%d/orders?page=2", "/static/app.js", "/health",
	"/api/v1/items/%d", "/search?q=x",
};
static const int statuses[] = { 200, 200, 200, 201, 204, 301, 304, 400, 404, 404, 500, 503, 0 };
/* gRPC calls: the :path, and grpc-status (-1: none came) */
static const char *const grpc_paths[] = {
	"/helloworld.Greeter/SayHello", "/grpc.health.v1.Health/Check",
	"/shop.v2.Orders/Get", "/Bare",
};
static const int grpc_statuses[] = { 0, 0, 0, 0, 1, 5, 13, 14, 16, 20, -1 };

/* n seeded random transactions into the tables; each also as a JSON line
 * to raw (when not NULL). */
static void fill(struct endpoint_table **tabs, size_t ntabs, struct route_table *r,
		 size_t n, FILE *raw)
{
	for (size_t i = 0; i < n; i++) {
		struct txn_facts f = { 0 };
		struct endpoint_obs o;
		char target[128];
		uint32_t route;
		const char *container = rng() % 4 ? "" : "4f2a9c0d1e3b5a6c7d8e9f00";

		f.side = rng() % 10 ? (rng() % 2 ? HS_ROLE_SERVER : HS_ROLE_CLIENT) : HS_ROLE_UNKNOWN;
		f.proto = rng() % 5 ? FACTS_HTTP11 : rng() % 2 ? FACTS_HTTP10 : rng() % 2 ? FACTS_H2 : FACTS_GRPC;
		f.comm = comms[rng() % 3];
		f.container = container;
		f.method = methods[rng() % 5];
		f.method_len = strlen(f.method);
		/* each target has at most one %d */
		snprintf(target, sizeof(target), "%s", targets[rng() % 7]);
		if (strstr(target, "%d")) {
			char rest[128];

			snprintf(rest, sizeof(rest), "%s", strstr(target, "%d") + 2);
			snprintf(strstr(target, "%d"), sizeof(target) - (size_t)(strstr(target, "%d") - target),
				 "%d%s", (int)(rng() % 1000), rest);
		}
		f.target = target;
		f.target_len = strlen(target);
		f.status = statuses[rng() % (sizeof(statuses) / sizeof(statuses[0]))];
		f.grpc_status = -1;
		if (f.proto == FACTS_GRPC) {
			f.method = "POST";
			f.method_len = 4;
			snprintf(target, sizeof(target), "%s", grpc_paths[rng() % 4]);
			f.grpc_status = grpc_statuses[rng() % (sizeof(grpc_statuses) / sizeof(grpc_statuses[0]))];
			f.status = f.grpc_status >= 0 || rng() % 2 ? 200 : 0;
		}
		f.has_latency = f.status != 0;
		/* log-uniform 10 us .. 20 s, so every duration bucket is used */
		f.latency_ns = f.has_latency ? (uint64_t)(10000.0 * __builtin_pow(2e6, (double)(rng() % 1000000) / 1e6)) : 0;
		f.req_bytes = rng() % 3 ? 0 : rng() % 20000;
		f.resp_bytes = rng() % 10000;
		route = f.proto == FACTS_GRPC ? route_lookup_name(r, target, strlen(target)) :
						route_lookup(r, target, strlen(target));
		if (!endpoint_observe(&o, &f, route))
			continue;
		for (size_t k = 0; k < ntabs; k++)
			endpoint_record(tabs[k], &o);
		if (raw)
			fprintf(raw, "{\"side\":\"%s\",\"process\":\"%s\",\"container\":\"%.12s\","
				     "\"protocol\":\"%s\",\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,"
				     "\"grpc_status\":%d,\"latency_ns\":%s%llu,\"request_bytes\":%llu,"
				     "\"response_bytes\":%llu}\n",
				endpoint_side_name(f.side), f.comm, container,
				endpoint_proto_name(f.proto), endpoint_method_name(o.key.method),
				route_name(r, route), f.status, f.grpc_status, f.has_latency ? "" : "-",
				(unsigned long long)(f.has_latency ? f.latency_ns : 1),
				(unsigned long long)f.req_bytes, (unsigned long long)f.resp_bytes);
	}
}

/* ---- the table's layout ---- */

static size_t lines_over(const char *text, size_t width, size_t *nlines)
{
	size_t over = 0;
	char *copy = strdup(text), *save = NULL;

	*nlines = 0;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		(*nlines)++;
		if (report_cols(l) > width) {
			over++;
			fprintf(stderr, "  %zu columns: %s\n", report_cols(l), l);
		}
	}
	free(copy);
	return over;
}

static char *render(const struct endpoint_table *t, const struct route_table *r, unsigned width,
		    size_t max_rows)
{
	struct report_opts o = { .width = width, .elapsed_s = 60, .max_rows = max_rows };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(report_text(f, t, r, &o) == 0, "report_text");
	fclose(f);
	return buf;
}

static void test_table(void)
{
	struct endpoint_table *t = endpoint_table_new(ENDPOINT_MAX_DEFAULT, ENDPOINT_PERCENTILES);
	struct route_table *r = route_table_new(ROUTE_MAX_DEFAULT);
	char *text;
	size_t nlines;
	static const unsigned widths[] = { 20, 80, 100, 143, 144, 160, 200, 300 };

	fill(&t, 1, r, 20000, NULL);
	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		size_t w = widths[i] < 80 ? 80 : widths[i];

		text = render(t, r, widths[i], 0);
		CHECK(lines_over(text, w, &nlines) == 0, "width %u: lines too long", widths[i]);
		/* title and header, then one or two lines per endpoint, then
		 * the note of the gRPC rows */
		CHECK(strstr(text, "\ngrpc rows: ") != NULL, "width %u: no gRPC note", widths[i]);
		CHECK(nlines == 3 + endpoint_count(t) * (w >= REPORT_WIDE + 13 ? 1 : 2),
		      "width %u: %zu lines for %zu endpoints", widths[i], nlines, endpoint_count(t));
		free(text);
	}
	/* a few rows, then a note of the rest */
	text = render(t, r, 80, 3);
	CHECK(lines_over(text, 80, &nlines) == 0 &&
	      nlines == 2 + 3 * 2 + 1 + (strstr(text, "\ngrpc rows: ") != NULL), "3 rows: %zu lines", nlines);
	CHECK(strstr(text, "more endpoints not shown") != NULL, "rest noted");
	free(text);
	endpoint_table_free(t);
	route_table_free(r);

	/* known rows, known figures */
	t = endpoint_table_new(10, ENDPOINT_PERCENTILES);
	r = route_table_new(1);
	{
		struct txn_facts f = { .side = HS_ROLE_SERVER, .proto = FACTS_HTTP11, .comm = "nginx",
				       .container = "", .method = "GET", .method_len = 3,
				       .target = "/users/42", .target_len = 9 };
		struct endpoint_obs o;
		uint32_t route = route_lookup(r, f.target, f.target_len);

		for (int i = 1; i <= 120; i++) {
			f.status = i % 40 == 0 ? 503 : i % 10 == 0 ? 404 : 200;
			f.has_latency = true;
			f.latency_ns = (uint64_t)i * 1000000; /* 1..120 ms */
			f.resp_bytes = 1024;
			endpoint_observe(&o, &f, route);
			endpoint_record(t, &o);
		}
		/* the route table is full: the next route is {other} */
		f.target = "/orders";
		f.target_len = 7;
		f.latency_ns = 5;
		endpoint_observe(&o, &f, route_lookup(r, f.target, f.target_len));
		endpoint_record(t, &o);
	}
	text = render(t, r, 80, 0);
	CHECK(strstr(text, "server nginx http/1.1 GET /users/{id}\n") != NULL, "who line:\n%s", text);
	/* count 120, rate 2.00/s, 2xx 108, 3xx 0, 4xx 9, 5xx 3, p50 60 ms,
	 * p90 108 ms (107.48 reported: 0.48% off), p99 119 ms, max 120 ms,
	 * no request bytes, 120 KiB of responses */
	CHECK(strstr(text, "\n   120   2.00   108     0     9     3 60.0ms  107ms  119ms  120ms      0 120.0K\n") != NULL,
	      "figures:\n%s", text);
	CHECK(strstr(text, "server nginx http/1.1 GET {other}\n") != NULL, "{other} row");
	CHECK(strstr(text, "1 transactions had a route past the route bound") != NULL, "overflow noted");
	free(text);
	text = render(t, r, 200, 0);
	CHECK(strstr(text, "server  nginx           http/1.1 GET     /users/{id} ") != NULL, "wide row:\n%s",
	      text);
	free(text);
	endpoint_table_free(t);
	route_table_free(r);

	/* a gRPC row: OK under 2xx, the rest under 5xx, a note under the
	 * table; the JSON counts each grpc-status */
	t = endpoint_table_new(10, ENDPOINT_PERCENTILES);
	r = route_table_new(10);
	{
		static const int codes[] = { 0, 0, 5, 0, 0, 14, 0, 0, -1, 0 };
		struct txn_facts f = { .side = HS_ROLE_SERVER, .proto = FACTS_GRPC, .comm = "greeter",
				       .container = "", .method = "POST", .method_len = 4,
				       .target = "/helloworld.Greeter/SayHello", .target_len = 28 };
		struct endpoint_obs o;
		uint32_t route = route_lookup_name(r, f.target, f.target_len);

		for (int i = 0; i < 10; i++) {
			f.grpc_status = codes[i];
			f.status = codes[i] < 0 ? 0 : 200;
			f.has_latency = codes[i] >= 0;
			f.latency_ns = 2000000;
			endpoint_observe(&o, &f, route);
			endpoint_record(t, &o);
		}
	}
	text = render(t, r, 80, 0);
	CHECK(strstr(text, "server greeter grpc POST /helloworld.Greeter/SayHello\n") != NULL,
	      "grpc who line:\n%s", text);
	CHECK(strstr(text, "\n    10   0.17     7     -     -     3 2.00ms ") != NULL, "grpc figures:\n%s",
	      text);
	CHECK(strstr(text, "\ngrpc rows: 2xx counts calls with grpc-status OK") != NULL, "grpc note");
	free(text);
	{
		struct report_opts o = { .width = 80, .elapsed_s = 60 };
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		CHECK(report_json(f, t, r, &o) == 0, "report_json");
		fclose(f);
		CHECK(strstr(buf, "\"protocol\":\"grpc\",\"method\":\"POST\",\"route\":"
				  "\"/helloworld.Greeter/SayHello\",\"count\":10,") != NULL &&
		      strstr(buf, "\"errors\":3,") != NULL &&
		      strstr(buf, "\"grpc_status\":{\"OK\":7,\"NOT_FOUND\":1,\"UNAVAILABLE\":1,\"none\":1}") != NULL,
		      "grpc JSON: %s", buf);
		free(buf);
	}
	endpoint_table_free(t);
	route_table_free(r);

	/* a long route in a wide table is cut with an ellipsis */
	t = endpoint_table_new(10, ENDPOINT_PERCENTILES);
	r = route_table_new(10);
	{
		char target[200];
		struct txn_facts f = { .side = HS_ROLE_CLIENT, .proto = FACTS_HTTP11, .comm = "curl",
				       .container = "", .method = "GET", .method_len = 3,
				       .status = 200, .has_latency = true, .latency_ns = 1000 };
		struct endpoint_obs o;

		memset(target, 'a', sizeof(target));
		target[0] = '/';
		f.target = target;
		f.target_len = 100;
		endpoint_observe(&o, &f, route_lookup(r, target, 100));
		endpoint_record(t, &o);
	}
	text = render(t, r, REPORT_WIDE, 0);
	CHECK(lines_over(text, REPORT_WIDE, &nlines) == 0 && nlines == 3, "wide cut");
	CHECK(strstr(text, "aaa\xe2\x80\xa6 ") != NULL, "ellipsis:\n%s", text);
	free(text);
	endpoint_table_free(t);
	route_table_free(r);
}

/* ---- the documents for check_report.py ---- */

static int emit(const char *what, const char *raw_path)
{
	FILE *raw = fopen(raw_path, "w");
	struct route_table *r = route_table_new(ROUTE_MAX_DEFAULT);
	struct endpoint_table *tabs[2];
	struct report_opts o = { .width = 80, .elapsed_s = 12.5 };
	int err;

	if (!raw)
		return 2;
	tabs[0] = endpoint_table_new(ENDPOINT_MAX_DEFAULT, ENDPOINT_PERCENTILES | ENDPOINT_INTERVAL);
	/* big enough for every series: no overflow rows here */
	tabs[1] = endpoint_table_new(100000, ENDPOINT_BY_STATUS | ENDPOINT_BUCKETS);
	size_t n = strcmp(what, "--json") ? 8000 : 30000; /* the checker's time */

	fill(tabs, 2, r, n, raw);
	endpoint_tick(tabs[0]); /* half before a tick, half after */
	fill(tabs, 2, r, n, raw);
	fclose(raw);
	if (!strcmp(what, "--json")) {
		err = report_json(stdout, tabs[0], r, &o);
	} else {
		struct prom_counter c[] = {
			{ "lost_events", "Records the kernel could not hand over.", 3, false, 0 },
			{ "route_overflow", "Transactions past the route bound.", route_overflow(r), false, 0 },
			{ "open_connections", "Connections tracked now.", 7, true, 0 },
			/* microseconds, as seconds */
			{ "tracer_cpu_seconds", "CPU time used.", 12000034, false, 1000000 },
		};
		char name[PROM_NAME_MAX];

		err = prom_write_http(stdout, tabs[1], r);
		err = err ? err : prom_write_rpc(stdout, tabs[1], r);
		err = err ? err : prom_write_counters(stdout, c, 4);
		/* statistic names become metric names */
		prom_name("non-HTTP bytes", name);
		if (strcmp(name, "non_http_bytes"))
			err = -EINVAL;
		prom_name("  TLS without socket ", name);
		if (strcmp(name, "tls_without_socket"))
			err = -EINVAL;
	}
	endpoint_table_free(tabs[0]);
	endpoint_table_free(tabs[1]);
	route_table_free(r);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3)
		return emit(argv[1], argv[2]);
	test_figures();
	test_table();
	return check_result("test_report");
}
