/* test_endpoint.c -- unit test of the endpoint table: keys, figures, fixed buckets, intervals, the bound and the sorted views. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "event.h"
#include "prof/endpoint.h"

#include "check.h"

static struct txn_facts tx(uint8_t side, const char *comm, const char *method, int status,
			   int64_t latency_ns, uint64_t req, uint64_t resp)
{
	struct txn_facts f = { 0 };

	f.side = side;
	f.proto = FACTS_HTTP11;
	f.comm = comm;
	f.container = "";
	f.method = method;
	f.method_len = method ? strlen(method) : 0;
	f.target = "/x";
	f.target_len = 2;
	f.status = status;
	f.has_latency = latency_ns >= 0;
	f.latency_ns = latency_ns >= 0 ? (uint64_t)latency_ns : 0;
	f.req_bytes = req;
	f.resp_bytes = resp;
	return f;
}

static void record(struct endpoint_table *t, const struct txn_facts *f, uint32_t route)
{
	struct endpoint_obs o;

	if (endpoint_observe(&o, f, route))
		endpoint_record(t, &o);
}

static void test_observe(void)
{
	struct endpoint_obs o;
	struct txn_facts f = tx(HS_ROLE_SERVER, "ng\x1b\"inx\\ with a long name", "GET", 200, 5, 0, 0);
	static const struct {
		const char *m;
		uint8_t want;
	} methods[] = {
		{ "GET", EM_GET }, { "HEAD", EM_HEAD }, { "POST", EM_POST }, { "PUT", EM_PUT },
		{ "DELETE", EM_DELETE }, { "CONNECT", EM_CONNECT }, { "OPTIONS", EM_OPTIONS },
		{ "TRACE", EM_TRACE }, { "PATCH", EM_PATCH }, { "get", EM_OTHER },
		{ "PROPFIND", EM_OTHER }, { "GETX", EM_OTHER }, { "GE", EM_OTHER }, { "", EM_OTHER },
	};

	f.container = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	CHECK(endpoint_observe(&o, &f, 7), "observe");
	CHECK(!strcmp(o.key.comm, "ng??inx? with a"), "comm '%s'", o.key.comm);
	CHECK(!strcmp(o.key.container, "0123456789ab"), "container '%s'", o.key.container);
	CHECK(o.key.route == 7 && o.key.side == HS_ROLE_SERVER && o.key.proto == FACTS_HTTP11 &&
	      o.key.status == 0 && !o.error, "key");
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		f.method = methods[i].m;
		f.method_len = strlen(methods[i].m);
		endpoint_observe(&o, &f, 0);
		CHECK(o.key.method == methods[i].want, "method '%s' -> %s", methods[i].m,
		      endpoint_method_name(o.key.method));
	}
	f.method = NULL;
	CHECK(!endpoint_observe(&o, &f, 0), "no request: not recorded");
	f = tx(HS_ROLE_CLIENT, "curl", "GET", 0, -1, 0, 0);
	CHECK(endpoint_observe(&o, &f, 0) && o.error && !o.has_latency, "no response is an error");
	f.status = 503;
	endpoint_observe(&o, &f, 0);
	CHECK(o.error, "5xx is an error");
	f.status = 404;
	endpoint_observe(&o, &f, 0);
	CHECK(!o.error, "4xx is not");
}

static void test_figures(void)
{
	struct endpoint_table *t = endpoint_table_new(100, ENDPOINT_PERCENTILES);
	static const int statuses[] = { 200, 201, 304, 404, 500, 503, 0, 101, 99, 600, 200 };
	const struct endpoint *e;
	uint64_t lat[1000];

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct txn_facts f = tx(HS_ROLE_SERVER, "nginx", "GET", statuses[i],
					statuses[i] ? 1000 * (int64_t)(i + 1) : -1, i, 10 * i);

		record(t, &f, 3);
	}
	CHECK(endpoint_count(t) == 1, "one row: %zu", endpoint_count(t));
	e = endpoint_at(t, 0);
	CHECK(e->count == 11, "count");
	CHECK(e->status[0] == 1 && e->status[1] == 1 && e->status[2] == 3 && e->status[3] == 1 &&
	      e->status[4] == 1 && e->status[5] == 2 && e->status[6] == 2,
	      "classes %llu %llu %llu %llu %llu %llu %llu", (unsigned long long)e->status[0],
	      (unsigned long long)e->status[1], (unsigned long long)e->status[2],
	      (unsigned long long)e->status[3], (unsigned long long)e->status[4],
	      (unsigned long long)e->status[5], (unsigned long long)e->status[6]);
	CHECK(e->errors == 3, "errors %llu", (unsigned long long)e->errors); /* 500 503 none */
	CHECK(e->req_bytes == 55 && e->resp_bytes == 550, "bytes");
	CHECK(e->time_ns == 1000 * (66 - 7) && e->lat.count == 10, "time %llu",
	      (unsigned long long)e->time_ns);
	CHECK(endpoint_at(t, 1) == NULL, "past the rows");
	endpoint_table_free(t);

	/* percentiles of one endpoint against the exact ones */
	t = endpoint_table_new(100, ENDPOINT_PERCENTILES);
	for (int i = 0; i < 1000; i++) {
		struct txn_facts f = tx(HS_ROLE_CLIENT, "curl", "POST", 200, 0, 0, 0);

		lat[i] = 50000 + rng() % 5000000;
		f.latency_ns = lat[i];
		record(t, &f, 1);
	}
	e = endpoint_at(t, 0);
	for (int i = 0; i < 1000; i++) /* insertion sort is enough here */
		for (int j = i; j > 0 && lat[j] < lat[j - 1]; j--) {
			uint64_t x = lat[j];

			lat[j] = lat[j - 1];
			lat[j - 1] = x;
		}
	CHECK(fabs((double)hist_percentile(&e->lat, 99) - (double)lat[989]) <=
		      HIST_REL_ERROR * (double)lat[989], "p99");
	CHECK(hist_percentile(&e->lat, 100) == lat[999], "max");
	endpoint_table_free(t);
}

static void test_keys(void)
{
	struct endpoint_table *t = endpoint_table_new(100, 0);
	struct endpoint_table *s = endpoint_table_new(100, ENDPOINT_BY_STATUS);
	struct txn_facts f;
	struct endpoint_obs o;

	/* each part of the key makes a row */
	f = tx(HS_ROLE_SERVER, "nginx", "GET", 200, 1, 0, 0);
	record(t, &f, 1);
	record(t, &f, 1);
	record(t, &f, 2);
	f.side = HS_ROLE_CLIENT;
	record(t, &f, 1);
	f.comm = "curl";
	record(t, &f, 1);
	f.container = "abcdef0123456789";
	record(t, &f, 1);
	f.proto = FACTS_HTTP10;
	record(t, &f, 1);
	f.method = "PUT";
	f.method_len = 3;
	record(t, &f, 1);
	f.status = 404;
	record(t, &f, 1); /* the status is not in this key */
	CHECK(endpoint_count(t) == 7, "rows %zu", endpoint_count(t));
	/* a by-status table keys by code */
	f = tx(HS_ROLE_SERVER, "nginx", "GET", 200, 1, 0, 0);
	static const int codes[] = { 200, 200, 404, 500, 0, 1000, 999 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		f.status = codes[i];
		endpoint_observe(&o, &f, 1);
		endpoint_record(s, &o);
	}
	CHECK(endpoint_count(s) == 5, "by status: %zu rows", endpoint_count(s)); /* 1000 -> 0 */
	CHECK(endpoint_at(s, 0)->key.status == 200 && endpoint_at(s, 0)->count == 2, "200 row");
	CHECK(endpoint_at(s, 3)->key.status == 0 && endpoint_at(s, 3)->count == 2, "0 row");
	endpoint_table_free(t);
	endpoint_table_free(s);
}

static void test_buckets(void)
{
	struct endpoint_table *t = endpoint_table_new(10, ENDPOINT_BUCKETS);
	static const struct {
		int64_t ns;
		unsigned bucket;
	} durs[] = {
		{ 0, 0 }, { 5000000, 0 }, { 5000001, 1 }, { 10000000, 1 }, { 999999999, 9 },
		{ 1000000000, 9 }, { 1000000001, 10 }, { 10000000000LL, 13 },
		{ 10000000001LL, 14 }, { INT64_MAX, 14 },
	};
	static const struct {
		uint64_t bytes;
		unsigned bucket;
	} sizes[] = {
		{ 0, 0 }, { 1, 1 }, { 32, 1 }, { 33, 2 }, { 8192, 9 }, { 8193, 10 },
		{ UINT64_MAX, 10 },
	};
	const struct endpoint_buckets *b;
	uint64_t sum = 0;

	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		struct txn_facts f = tx(HS_ROLE_SERVER, "s", "GET", 200, durs[i].ns, 0, 0);

		record(t, &f, 1);
		sum += (uint64_t)durs[i].ns;
		b = endpoint_at(t, 0)->buckets;
		CHECK(b->dur[durs[i].bucket] > 0, "%lld ns in bucket %u", (long long)durs[i].ns,
		      durs[i].bucket);
	}
	b = endpoint_at(t, 0)->buckets;
	CHECK(b->dur_count == 10 && b->dur_sum_ns == sum, "duration count and sum");
	CHECK(b->dur[0] == 2 && b->dur[1] == 2 && b->dur[9] == 2 && b->dur[10] == 1 &&
	      b->dur[13] == 1 && b->dur[14] == 2, "duration buckets");
	CHECK(b->req[0] == 10 && b->resp[0] == 10, "sizes of empty bodies");
	/* no latency: sizes counted, duration not */
	{
		struct txn_facts f = tx(HS_ROLE_SERVER, "s", "GET", 0, -1, 5, 5);

		record(t, &f, 1);
		CHECK(b->dur_count == 10 && b->req[1] == 1, "no latency");
	}
	endpoint_table_free(t);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct txn_facts f = tx(HS_ROLE_SERVER, "s", "GET", 200, 1, sizes[i].bytes, sizes[i].bytes);

		t = endpoint_table_new(10, ENDPOINT_BUCKETS);
		record(t, &f, 1);
		b = endpoint_at(t, 0)->buckets;
		CHECK(b->req[sizes[i].bucket] == 1 && b->resp[sizes[i].bucket] == 1,
		      "%llu bytes in bucket %u", (unsigned long long)sizes[i].bytes, sizes[i].bucket);
		endpoint_table_free(t);
	}
}

static void test_bound(void)
{
	struct endpoint_table *t = endpoint_table_new(10, ENDPOINT_PERCENTILES | ENDPOINT_INTERVAL);
	uint64_t total = 0;
	size_t other = 0;

	for (int i = 0; i < 1000; i++) {
		struct txn_facts f = tx(i % 2 ? HS_ROLE_SERVER : HS_ROLE_CLIENT, "p", "GET", 200,
					1000 + i, 0, 0);

		record(t, &f, (uint32_t)i); /* 1000 routes */
	}
	CHECK(endpoint_count(t) == 12, "10 rows and two overflow rows: %zu", endpoint_count(t));
	CHECK(endpoint_overflow(t) == 990, "overflow %llu", (unsigned long long)endpoint_overflow(t));
	for (size_t i = 0; i < endpoint_count(t); i++) {
		const struct endpoint *e = endpoint_at(t, i);

		total += e->count;
		if (!strcmp(e->key.comm, ENDPOINT_OTHER_COMM)) {
			other++;
			CHECK(e->key.route == ROUTE_OTHER && e->key.method == EM_OTHER && e->count == 495,
			      "overflow row count %llu", (unsigned long long)e->count);
		}
	}
	CHECK(other == 2 && total == 1000, "all counted: %llu in %zu overflow rows",
	      (unsigned long long)total, other);
	CHECK(endpoint_dropped(t) == 0, "none dropped");
	endpoint_table_free(t);
}

static void test_interval(void)
{
	struct endpoint_table *t = endpoint_table_new(10, ENDPOINT_PERCENTILES | ENDPOINT_INTERVAL);
	const struct endpoint *e;
	struct hist scratch;

	hist_init(&scratch);
	for (int i = 0; i < 100; i++) {
		struct txn_facts f = tx(HS_ROLE_SERVER, "s", "GET", i < 10 ? 500 : 200, 1000000, 0, 0);

		record(t, &f, 1);
	}
	e = endpoint_at(t, 0);
	CHECK(e->count_cur == 100 && e->count_last == 0 && e->lat.count == 0, "before a tick");
	CHECK(endpoint_latency(t, e, &scratch)->count == 100, "since start includes the interval");
	endpoint_tick(t);
	e = endpoint_at(t, 0);
	CHECK(e->count_last == 100 && e->errors_last == 10 && e->count_cur == 0 &&
	      e->lat_last.count == 100 && e->lat.count == 100, "after a tick");
	for (int i = 0; i < 50; i++) {
		struct txn_facts f = tx(HS_ROLE_SERVER, "s", "GET", 200, 9000000, 0, 0);

		record(t, &f, 1);
	}
	e = endpoint_at(t, 0);
	CHECK(fabs((double)hist_percentile(endpoint_latency(t, e, &scratch), 90) - 9e6) <= 9e6 * HIST_REL_ERROR,
	      "since start p90 sees the new interval");
	CHECK(hist_percentile(&e->lat_last, 90) == 1000000, "last interval p90");
	endpoint_tick(t);
	e = endpoint_at(t, 0);
	CHECK(e->count_last == 50 && e->errors_last == 0 && e->lat.count == 150 &&
	      e->count == 150 && e->errors == 10, "second tick");
	CHECK(hist_percentile(&e->lat_last, 50) == 9000000 ||
	      fabs((double)hist_percentile(&e->lat_last, 50) - 9e6) <= 9e6 * HIST_REL_ERROR,
	      "last interval is the second");
	endpoint_tick(t);
	e = endpoint_at(t, 0);
	CHECK(e->count_last == 0 && e->lat_last.count == 0 && e->lat.count == 150, "idle tick");
	hist_free(&scratch);
	endpoint_table_free(t);
}

static void test_sorted(void)
{
	struct endpoint_table *t = endpoint_table_new(10, ENDPOINT_PERCENTILES | ENDPOINT_INTERVAL);
	struct route_table *r = route_table_new(10);
	const struct endpoint *out[10];
	/* route, count, latency (us), errors */
	static const struct {
		const char *path;
		int count, lat_us, errors;
	} rows[] = {
		{ "/a", 100, 10, 0 },	/* time 1000 us, rate 100 */
		{ "/b", 10, 500, 5 },	/* time 5000 us, p99 500 */
		{ "/c", 1, 2000, 1 },	/* time 2000 us */
		{ "/d", 50, 1, 20 },	/* time 50 us, errors 20 */
	};
	size_t n;

	for (size_t i = 0; i < 4; i++) {
		uint32_t id = route_lookup(r, rows[i].path, 2);

		for (int k = 0; k < rows[i].count; k++) {
			struct txn_facts f = tx(HS_ROLE_SERVER, "s", "GET", k < rows[i].errors ? 500 : 200,
						rows[i].lat_us * 1000LL, 0, 0);

			record(t, &f, id);
		}
	}
	endpoint_tick(t);
	n = endpoint_sorted(t, ES_TIME, r, out, 10);
	CHECK(n == 4 && !strcmp(route_name(r, out[0]->key.route), "/b") &&
	      !strcmp(route_name(r, out[1]->key.route), "/c") &&
	      !strcmp(route_name(r, out[2]->key.route), "/a") &&
	      !strcmp(route_name(r, out[3]->key.route), "/d"), "by time");
	n = endpoint_sorted(t, ES_RATE, r, out, 2);
	CHECK(n == 2 && !strcmp(route_name(r, out[0]->key.route), "/a") &&
	      !strcmp(route_name(r, out[1]->key.route), "/d"), "by rate, 2 rows");
	n = endpoint_sorted(t, ES_P99, r, out, 10);
	CHECK(!strcmp(route_name(r, out[0]->key.route), "/c") &&
	      !strcmp(route_name(r, out[1]->key.route), "/b"), "by p99");
	n = endpoint_sorted(t, ES_ERRORS, r, out, 10);
	CHECK(!strcmp(route_name(r, out[0]->key.route), "/d") &&
	      !strcmp(route_name(r, out[1]->key.route), "/b"), "by errors");
	/* after an idle tick the since-start figures decide */
	endpoint_tick(t);
	n = endpoint_sorted(t, ES_RATE, r, out, 10);
	CHECK(!strcmp(route_name(r, out[0]->key.route), "/a"), "by rate since start");
	/* ties go by route name */
	endpoint_table_free(t);
	t = endpoint_table_new(10, ENDPOINT_PERCENTILES);
	{
		static const char *const p[] = { "/z", "/m", "/a" };

		for (int i = 0; i < 3; i++) {
			struct txn_facts f = tx(HS_ROLE_SERVER, "s", "GET", 200, 5, 0, 0);

			record(t, &f, route_lookup(r, p[i], 2));
		}
	}
	n = endpoint_sorted(t, ES_TIME, r, out, 10);
	CHECK(n == 3 && !strcmp(route_name(r, out[0]->key.route), "/a") &&
	      !strcmp(route_name(r, out[2]->key.route), "/z"), "ties by name");
	endpoint_table_free(t);
	route_table_free(r);
}

/* gRPC calls: the outcome is grpc-status, whatever the HTTP status;
 * a by-status table keys them by the code; the rows count each code. */
static void test_grpc(void)
{
	static const struct {
		int http, grpc;	   /* statuses; grpc -1: none came */
		bool error;
		uint16_t key;	   /* in a by-status table */
		int idx;	   /* counter of e->grpc */
	} cases[] = {
		{ 200, 0, false, 0, 0 },
		{ 200, 5, true, 5, 5 },		  /* NOT_FOUND */
		{ 200, 16, true, 16, 16 },	  /* UNAUTHENTICATED */
		{ 200, 17, true, 17, ENDPOINT_GRPC_OTHER },
		{ 200, -1, true, ENDPOINT_GRPC_NONE, ENDPOINT_GRPC_NOSTATUS },
		{ 0, -1, true, ENDPOINT_GRPC_NONE, ENDPOINT_GRPC_NOSTATUS },
		{ 503, -1, true, ENDPOINT_GRPC_NONE, ENDPOINT_GRPC_NOSTATUS },
		{ 500, 0, false, 0, 0 },	  /* grpc-status wins */
		{ 404, 14, true, 14, 14 },	  /* UNAVAILABLE */
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	struct endpoint_table *t = endpoint_table_new(100, ENDPOINT_BY_STATUS | ENDPOINT_BUCKETS);
	struct endpoint_table *all = endpoint_table_new(100, ENDPOINT_PERCENTILES);
	uint64_t errors = 0;

	for (size_t i = 0; i < n; i++) {
		struct txn_facts f = tx(HS_ROLE_SERVER, "srv", "POST", cases[i].http, 1000, 5, 7);
		struct endpoint_obs o;
		const struct endpoint *e = NULL;

		f.proto = FACTS_GRPC;
		f.grpc_status = cases[i].grpc;
		CHECK(endpoint_observe(&o, &f, 3), "case %zu: observe", i);
		CHECK(o.error == cases[i].error, "case %zu: error %d", i, o.error);
		errors += cases[i].error;
		endpoint_record(t, &o);
		endpoint_record(all, &o);
		for (size_t k = 0; k < endpoint_count(t); k++)
			if (endpoint_at(t, k)->key.status == cases[i].key)
				e = endpoint_at(t, k);
		CHECK(e && e->key.proto == FACTS_GRPC && e->grpc && e->grpc[cases[i].idx] >= 1,
		      "case %zu: no row keyed %u", i, cases[i].key);
		/* an HTTP/2 row, not gRPC, of the same call keeps its HTTP outcome */
		f.proto = FACTS_H2;
		CHECK(endpoint_observe(&o, &f, 3) && o.grpc_status == -1 &&
		      o.error == (cases[i].http == 0 || cases[i].http >= 500), "case %zu: h2", i);
	}
	/* one row for all the calls in a table without statuses */
	CHECK(endpoint_count(all) == 1, "%zu rows", endpoint_count(all));
	if (endpoint_count(all) == 1) {
		const struct endpoint *e = endpoint_at(all, 0);
		uint64_t sum = 0;

		for (int c = 0; c < ENDPOINT_GRPC_NCOUNTS; c++)
			sum += e->grpc[c];
		CHECK(e->count == n && e->errors == errors && sum == n &&
		      e->grpc[0] == 2 && e->grpc[ENDPOINT_GRPC_NOSTATUS] == 3,
		      "counts %llu errors %llu", (unsigned long long)e->count,
		      (unsigned long long)e->errors);
		/* HTTP classes are still counted, for what they are */
		CHECK(e->status[2] == 5 && e->status[5] == 2 && e->status[4] == 1 && e->status[0] == 1,
		      "HTTP classes");
	}
	/* HTTP rows have no gRPC counters */
	{
		struct txn_facts f = tx(HS_ROLE_SERVER, "srv", "GET", 200, 1000, 0, 0);

		record(all, &f, 4);
		CHECK(endpoint_count(all) == 2 && endpoint_at(all, 1)->grpc == NULL, "HTTP row");
	}
	endpoint_table_free(t);
	endpoint_table_free(all);
}

int main(void)
{
	test_observe();
	test_figures();
	test_keys();
	test_buckets();
	test_bound();
	test_interval();
	test_sorted();
	test_grpc();
	printf("sizeof(struct endpoint) = %zu, buckets %zu\n", sizeof(struct endpoint),
	       sizeof(struct endpoint_buckets));
	return check_result("test_endpoint");
}
