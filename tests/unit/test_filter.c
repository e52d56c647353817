/* test_filter.c -- unit test of the display filters: each parser's accepted and refused values, and the matcher on hand-made transactions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "prof/filter.h"

#include "check.h"

static const struct {
	const char *s;
	int err;
	uint64_t ns;
} durations[] = {
	{ "250us", 0, 250000 },
	{ "100ms", 0, 100000000 },
	{ "2s", 0, 2000000000 },
	{ "1ns", 0, 1 },
	{ "0s", 0, 0 },
	{ "1.5s", 0, 1500000000 },
	{ "0.1ms", 0, 100000 },
	{ ".5s", 0, 500000000 },
	{ "1.000000001s", 0, 1000000001 },
	{ "1.0000000019s", 0, 1000000001 }, /* past ns: dropped */
	{ "2.5us", 0, 2500 },
	{ "1.5ns", 0, 1 },
	{ "250\xc2\xb5s", 0, 250000 }, /* µ, U+00B5 */
	{ "250\xce\xbcs", 0, 250000 }, /* μ, U+03BC */
	{ "1m", 0, 60000000000ULL },
	{ "1min", 0, 60000000000ULL },
	{ "1h", 0, 3600000000000ULL },
	{ "1m30s", 0, 90000000000ULL },
	{ "1h2m3s4ms", 0, 3723004000000ULL },
	{ "5124095h", 0, 18446742000000000000ULL },
	{ "18446744073709551615ns", 0, UINT64_MAX },
	{ "18446744073709551616ns", -ERANGE, 0 },
	{ "5124096h", -ERANGE, 0 },
	{ "5124095h34m", 0, 18446744040000000000ULL },
	{ "5124095h35m", -ERANGE, 0 },
	{ "100", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "ms", -EINVAL, 0 },
	{ "1.s", 0, 1000000000 }, /* a digit before the dot is enough */
	{ "-1s", -EINVAL, 0 },
	{ "1 s", -EINVAL, 0 },
	{ "1sec", -EINVAL, 0 },
	{ "1S", -EINVAL, 0 },
	{ "1d", -EINVAL, 0 },
	{ "1.2.3s", -EINVAL, 0 },
	{ "s1", -EINVAL, 0 },
	{ "1e3ms", -EINVAL, 0 },
	{ "0x10s", -EINVAL, 0 },
};

static void test_durations(void)
{
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		uint64_t ns = 12345;
		int err = filter_parse_duration(durations[i].s, &ns);
		int want = durations[i].err;

		CHECK(err == want, "'%s': %d, want %d", durations[i].s, err, want);
		if (!want)
			CHECK(ns == durations[i].ns, "'%s' = %llu, want %llu", durations[i].s,
			      (unsigned long long)ns, (unsigned long long)durations[i].ns);
	}
}

static bool status_in(const struct filter *f, int s)
{
	struct txn_facts t = { .status = s, .method = "GET", .method_len = 3 };

	return filter_match(f, &t);
}

static const struct {
	const char *spec;
	int err;
	const char *in, *out; /* codes that match, codes that do not */
} statuses[] = {
	{ "404", 0, "404", "400 403 405 200 0" },
	{ "5xx", 0, "500 501 599", "499 600 200 0" },
	{ "5XX", 0, "500 599", "600" },
	{ "400-499", 0, "400 404 499", "399 500" },
	{ "200,404,5xx", 0, "200 404 500 503", "201 403 499" },
	{ "100-999", 0, "100 999 600", "0" },
	{ "1xx,3xx", 0, "101 304", "200" },
	{ "404-404", 0, "404", "403 405" },
	{ "", -EINVAL, "", "" },
	{ "4", -EINVAL, "", "" },
	{ "0404", -EINVAL, "", "" },
	{ "099", -EINVAL, "", "" },
	{ "1000", -EINVAL, "", "" },
	{ "abc", -EINVAL, "", "" },
	{ "4xy", -EINVAL, "", "" },
	{ "0xx", -EINVAL, "", "" },
	{ "499-400", -EINVAL, "", "" },
	{ "400-", -EINVAL, "", "" },
	{ "-400", -EINVAL, "", "" },
	{ "404,", -EINVAL, "", "" },
	{ ",404", -EINVAL, "", "" },
	{ "404,,500", -EINVAL, "", "" },
	{ "404 ", -EINVAL, "", "" },
	{ "4xx-5xx", -EINVAL, "", "" },
};

static void check_codes(const struct filter *f, const char *list, bool want,
			const char *spec)
{
	char *copy = strdup(list), *save = NULL;

	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		CHECK(status_in(f, atoi(w)) == want, "--status %s: %s should %smatch", spec, w,
		      want ? "" : "not ");
	free(copy);
}

static void test_statuses(void)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct filter f = { 0 };
		int err = filter_add_status(&f, statuses[i].spec) ? -EINVAL : 0;

		CHECK(err == statuses[i].err, "--status '%s': %d", statuses[i].spec, err);
		if (err) {
			CHECK(!filter_active(&f), "--status '%s' refused but active", statuses[i].spec);
			continue;
		}
		check_codes(&f, statuses[i].in, true, statuses[i].spec);
		check_codes(&f, statuses[i].out, false, statuses[i].spec);
	}
	/* given twice: either */
	{
		struct filter f = { 0 };

		filter_add_status(&f, "404");
		filter_add_status(&f, "5xx");
		CHECK(status_in(&f, 404) && status_in(&f, 502) && !status_in(&f, 200), "twice");
	}
}

static void test_methods(void)
{
	struct filter f = { 0 };
	static const char *const bad[] = { "", ",", "GET,", ",GET", "GE T", "GET,,POST",
					   "G\"T", "GET/1", "(GET)" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct filter g = { 0 };

		CHECK(filter_add_method(&g, bad[i]) != NULL, "--method '%s' accepted", bad[i]);
	}
	CHECK(filter_add_method(&f, "GET,POST") == NULL, "list");
	CHECK(filter_add_method(&f, "M-SEARCH") == NULL, "token");
	CHECK(f.nmethods == 3, "three methods: %zu", f.nmethods);
	for (int i = 0; i < FILTER_VALUES_MAX; i++)
		filter_add_method(&f, "X");
	CHECK(filter_add_method(&f, "Y") != NULL, "limit");
}

static void test_globs(void)
{
	struct filter f = { 0 };

	CHECK(filter_add_path(&f, "") != NULL, "empty path glob");
	CHECK(filter_add_host(&f, "") != NULL, "empty host glob");
	CHECK(filter_add_path(&f, "/api/*") == NULL && filter_add_host(&f, "*.example.com") == NULL,
	      "globs");
	CHECK(f.npaths == 1 && f.nhosts == 1 && !f.host_port[0], "stored");
	for (int i = 1; i < FILTER_VALUES_MAX; i++)
		filter_add_path(&f, "/x");
	CHECK(filter_add_path(&f, "/y") != NULL, "limit");
}

/* ---- the matcher ---- */

struct tx {
	const char *method, *target, *host;
	int status;
	int64_t latency_ns; /* -1: unknown */
};

static struct txn_facts facts(const struct tx *x)
{
	struct txn_facts t = { 0 };

	t.method = x->method;
	t.method_len = x->method ? strlen(x->method) : 0;
	t.target = x->target;
	t.target_len = x->target ? strlen(x->target) : 0;
	t.host = x->host;
	t.host_len = x->host ? strlen(x->host) : 0;
	t.status = x->status;
	t.has_latency = x->latency_ns >= 0;
	t.latency_ns = x->latency_ns >= 0 ? (uint64_t)x->latency_ns : 0;
	return t;
}

/* Filters as the command line gives them: "opt=value;opt=value". */
static const char *build(struct filter *f, char *spec)
{
	char *save = NULL;

	memset(f, 0, sizeof(*f));
	for (char *w = strtok_r(spec, ";", &save); w; w = strtok_r(NULL, ";", &save)) {
		char *v = strchr(w, '=');
		const char *err;

		*v++ = '\0';
		if (!strcmp(w, "method"))
			err = filter_add_method(f, v);
		else if (!strcmp(w, "path"))
			err = filter_add_path(f, v);
		else if (!strcmp(w, "host"))
			err = filter_add_host(f, v);
		else if (!strcmp(w, "status"))
			err = filter_add_status(f, v);
		else
			err = filter_set_min_latency(f, v);
		if (err)
			return err;
	}
	return NULL;
}

static const struct tx txs[] = {
	/* 0 */ { "GET", "/api/users/42?x=1", "api.example.com", 200, 1500000 },
	/* 1 */ { "POST", "/api/orders", "api.example.com:8080", 201, 250000 },
	/* 2 */ { "get", "/static/app.js", "cdn.example.com", 304, 100000 },
	/* 3 */ { "DELETE", "/api/users/7", "API.EXAMPLE.COM", 404, 2000000000 },
	/* 4 */ { "GET", "/health", "localhost:9000", 503, 249999 },
	/* 5 */ { "GET", "/api/slow", "[::1]:8080", 0, -1 },	/* no response */
	/* 6 */ { NULL, NULL, NULL, 200, 5000 },		/* no request */
	/* 7 */ { "GET", "http://proxy.test/api/x?y", "proxy.test", 200, 300000 },
	/* 8 */ { "GET", "/a?b=/api/", "h", 200, 1 },
	/* 9 */ { "PUT", "/api/*literal", "h", 500, 1 },
};
#define NTX (sizeof(txs) / sizeof(txs[0]))

static const struct {
	const char *spec;
	const char *match; /* indexes of txs that pass, as a string */
} cases[] = {
	{ "", "0123456789" },
	{ "method=GET", "024578" }, /* case-insensitive */
	{ "method=GET,POST", "0124578" },
	{ "method=DELETE;method=PUT", "39" },
	{ "path=/api/*", "013579" },   /* '*' matches '/', query ignored */
	{ "path=/api/users/[0-9]*", "03" },
	{ "path=/api/???", "" },
	{ "path=/api/?low", "5" },
	{ "path=/api/\\*literal", "9" },
	{ "path=/health;path=/static/*", "24" },
	{ "path=/a", "8" },
	{ "path=/a?b=*", "" },
	{ "host=api.example.com", "013" }, /* port dropped, case folded */
	{ "host=*.example.com", "0123" },
	{ "host=*:8080", "15" },
	{ "host=[[]::1]", "5" },
	{ "host=localhost", "4" },
	{ "host=localhost:9000", "4" },
	{ "host=localhost:90", "" },
	{ "status=2xx", "01678" },
	{ "status=404,5xx", "349" },
	{ "status=200-399", "012678" },
	{ "min-latency=250us", "0137" },
	{ "min-latency=2s", "3" },
	{ "min-latency=0s", "012346789" }, /* unknown latency never passes */
	{ "method=GET;status=2xx;min-latency=1ms", "0" },
	{ "method=GET;path=/api/*;host=*.example.com", "0" },
	{ "path=/api/*;status=4xx,5xx", "39" },
	{ "method=POST;status=404", "" },
};

static void test_match(void)
{
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct filter f;
		char spec[256], got[NTX + 1];
		size_t n = 0;

		snprintf(spec, sizeof(spec), "%s", cases[c].spec);
		CHECK(build(&f, spec) == NULL, "filters '%s' refused", cases[c].spec);
		CHECK(filter_active(&f) == (cases[c].spec[0] != '\0'), "active '%s'", cases[c].spec);
		for (size_t i = 0; i < NTX; i++) {
			struct txn_facts t = facts(&txs[i]);

			if (filter_match(&f, &t))
				got[n++] = (char)('0' + i);
		}
		got[n] = '\0';
		CHECK(!strcmp(got, cases[c].match), "'%s' matched %s, want %s", cases[c].spec,
		      got, cases[c].match);
	}
}

static void test_long_path(void)
{
	struct filter f = { 0 };
	char *target = malloc(70000);
	struct txn_facts t = { 0 };

	memset(target, 'a', 70000);
	target[0] = '/';
	memcpy(target + 69990, "/end?q=1", 8);
	t.method = "GET";
	t.method_len = 3;
	t.target = target;
	t.target_len = 69998;
	filter_add_path(&f, "/a*/end");
	CHECK(filter_match(&f, &t), "a 70 KB path");
	free(target);
}

int main(void)
{
	test_durations();
	test_statuses();
	test_methods();
	test_globs();
	test_match();
	test_long_path();
	return check_result("test_filter");
}
