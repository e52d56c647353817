/* test_route.c -- unit test of routes: the identifier heuristic, user patterns, target forms, encoding, cuts and the bounded table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "prof/route.h"

#include "check.h"

static const struct {
	const char *seg;
	bool id;
} segments[] = {
	/* numbers */
	{ "42", true }, { "7", true }, { "0", true }, { "18446744073709551616", true },
	{ "-5", true }, { "2024-01-15", true }, { "1.2.3", true }, { "12:30:00", true },
	{ "3,14", true }, { "1+1", true },
	/* UUIDs, hex */
	{ "550e8400-e29b-41d4-a716-446655440000", true },
	{ "550E8400-E29B-41D4-A716-446655440000", true },
	{ "550e8400e29b41d4a716446655440000", true },
	{ "507f1f77bcf86cd799439011", true }, /* MongoDB ObjectId */
	{ "5f1c9a2e", true }, { "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", true },
	{ "deadbeef", false }, { "facade", false }, { "cafe", false }, { "decade1", false },
	{ "abc123", false },
	/* tokens */
	{ "user12345", true }, { "IMG_20240115", true }, { "rfc9110", true },
	{ "a1b2c3", true }, { "dQw4w9WgXcQ", true }, { "cus_J2kL9xYzQ1", true },
	{ "AKIAIOSFODNN7EXAMPLE", true }, { "my-post-about-http2-servers", true },
	{ "K7gNU3sdo-OL0wNhqoVWhr", true },
	/* e-mail, scopes */
	{ "alice@example.com", true }, { "@types", false },
	/* names */
	{ "v1", false }, { "v2", false }, { "v10", false }, { "v2beta1", false },
	{ "api2", false }, { "oauth2", false }, { "sha256", false }, { "x86_64", false },
	{ "k8s", false }, { "i18n", false }, { "e2e", false }, { "s3", false },
	{ "utf-8", false }, { "html5", false }, { "2fa", false }, { "page-2", false },
	{ "user123", false }, { "ipv6", false }, { "users", false }, { "k6-test-runs", false },
	{ "getUserById", false }, { "internationalization", false }, { "index.html", false },
	{ "caf%C3%A9", false }, { "", false }, { "-", false }, { ".", false }, { "..", false },
	{ "XgHtQwLpRzKmNbVcXzAs", false }, /* letters only: kept, as documented */
};

static void test_segments(void)
{
	for (size_t i = 0; i < sizeof(segments) / sizeof(segments[0]); i++)
		CHECK(route_segment_is_id(segments[i].seg, strlen(segments[i].seg)) == segments[i].id,
		      "segment '%s' should %sbe an id", segments[i].seg, segments[i].id ? "" : "not ");
}

static const struct {
	const char *target, *route;
} heuristic[] = {
	{ "/user/42", "/user/{id}" },
	{ "/user/7", "/user/{id}" },
	{ "/v1/users", "/v1/users" },
	{ "/v1/users/42/orders/550e8400-e29b-41d4-a716-446655440000", "/v1/users/{id}/orders/{id}" },
	{ "/user/42?tab=1&x=2", "/user/{id}" },
	{ "/user/42#frag", "/user/{id}" },
	{ "/search?q=/a/1", "/search" },
	{ "/", "/" },
	{ "", "/" },
	{ "/?q=1", "/" },
	{ "/users/", "/users/" },
	{ "//x//1", "//x//{id}" },
	{ "/avatars/42.png", "/avatars/{id}.png" },
	{ "/files/5f1c9a2e.tar.gz", "/files/{id}.gz" },
	{ "/files/5f1c9a2e.gz", "/files/{id}.gz" },
	{ "/files/report.tar.gz", "/files/report.tar.gz" },
	{ "/files/report.pdf", "/files/report.pdf" },
	{ "/static/main.css", "/static/main.css" },
	{ "/a/1.2.3", "/a/{id}" },
	{ "/a/v1.2", "/a/v1.2" },
	{ "/a/12.", "/a/{id}" },
	{ "/a/.42", "/a/{id}" },
	{ "/a/42.x.png", "/a/42.x.png" },
	{ "/users/alice@example.com/keys", "/users/{id}/keys" },
	{ "/@types/node", "/@types/node" },
	/* absolute-form (to a proxy), authority-form, asterisk-form */
	{ "http://example.com/user/42?x", "/user/{id}" },
	{ "https://example.com:8443/a/b", "/a/b" },
	{ "http://example.com", "/" },
	{ "http://example.com?x=1", "/" },
	{ "example.com:443", "example.com:443" },
	{ "*", "*" },
	/* bytes that must not pass raw */
	{ "/caf\xc3\xa9/1", "/caf%C3%A9/{id}" },
	{ "/a b/\"q\"/\\/{x}", "/a%20b/%22q%22/%5C/%7Bx%7D" },
	{ "/\x1b[31m/\x7f", "/%1B[31m/%7F" },
	{ "/tab\there", "/tab%09here" },
};

static void test_heuristic(struct route_table *t)
{
	char out[ROUTE_LEN_MAX];

	for (size_t i = 0; i < sizeof(heuristic) / sizeof(heuristic[0]); i++) {
		size_t n = route_normalise(t, heuristic[i].target, strlen(heuristic[i].target), out);

		CHECK(n == strlen(out) && !strcmp(out, heuristic[i].route), "'%s' -> '%s', want '%s'",
		      heuristic[i].target, out, heuristic[i].route);
	}
}

static void test_cut(void)
{
	char target[4096], out[ROUTE_LEN_MAX];
	size_t n, len;

	/* many short segments: cut after a whole one, then the mark */
	len = 0;
	for (int i = 0; i < 200; i++)
		len += (size_t)sprintf(target + len, "/seg%c", 'a' + i % 26);
	n = route_normalise(NULL, target, len, out);
	CHECK(n <= ROUTE_LEN_MAX - 1 && n == strlen(out), "cut length %zu", n);
	CHECK(n >= 6 && !strcmp(out + n - 6, "/{...}"), "cut mark: %s", out);
	CHECK(!strncmp(out, target, n - 6) && target[n - 6] == '/', "cut at a segment: %s", out);
	/* one huge segment */
	memset(target, 'x', 3000);
	target[0] = '/';
	n = route_normalise(NULL, target, 3000, out);
	CHECK(!strcmp(out, "/{...}"), "huge segment: %s", out);
	/* escapes are never split, at any length */
	for (size_t k = 1; k < 200; k++) {
		target[0] = '/';
		memset(target + 1, 'a', k);
		memset(target + 1 + k, ' ', 100);
		n = route_normalise(NULL, target, 1 + k + 100, out);
		CHECK(n == strlen(out) && n < ROUTE_LEN_MAX, "length at %zu", k);
		CHECK(!strcmp(out, "/{...}") || (n >= 6 && !strcmp(out + n - 6, "/{...}")),
		      "mark at %zu: %s", k, out);
	}
	/* a long authority-form target */
	memset(target, 'h', 300);
	n = route_normalise(NULL, target, 300, out);
	CHECK(n == ROUTE_LEN_MAX - 1 && !strcmp(out + n - 6, "/{...}"), "long authority: %s", out);
	/* a route exactly at the limit is not cut */
	target[0] = '/';
	memset(target + 1, 'q', ROUTE_LEN_MAX - 2);
	n = route_normalise(NULL, target, ROUTE_LEN_MAX - 1, out);
	CHECK(n == ROUTE_LEN_MAX - 1 && out[n - 1] == 'q', "limit: %s", out);
	n = route_normalise(NULL, target, ROUTE_LEN_MAX, out);
	CHECK(!strcmp(out, "/{...}"), "limit + 1: %s", out);
}

static const struct {
	const char *target, *route;
} patterned[] = {
	{ "/orders/42/items", "/orders/{id}/items" },
	{ "/orders/abc/items", "/orders/{id}/items" }, /* the heuristic keeps abc */
	{ "/orders/new/items", "/orders/new/items" },  /* literal beats placeholder */
	{ "/orders/new", "/orders/new" },
	{ "/orders/42", "/orders/{order}" },
	{ "/orders/42/items/3", "/orders/{id}/items/{id}" }, /* no pattern: heuristic */
	{ "/orders//items", "/orders//items" }, /* empty: no placeholder */
	{ "/orders/42/items?x=1", "/orders/{id}/items" },
	{ "http://h/orders/9/items", "/orders/{id}/items" },
	{ "/blog/how-to-cook/comments", "/blog/{slug}/comments" },
	{ "/blog/x/y", "/blog/{a}/y" },
	{ "/blog/x/comments/", "/blog/x/comments/" },
	{ "/", "/" },
};

static void test_patterns(void)
{
	struct route_table *t = route_table_new(100);
	char out[ROUTE_LEN_MAX];
	static const char *const bad[] = {
		"orders/{id}", "/orders/{id", "/orders/{i d}", "/orders/x{id}",
		"/a?b", "/a#b", "/a\"b", "/a\\b", "/a b", "", "/{id}}",
	};

	CHECK(route_add_pattern(t, "/orders/{order}") == NULL, "add");
	CHECK(route_add_pattern(t, "/orders/{id}/items") == NULL, "add");
	CHECK(route_add_pattern(t, "/orders/new/items") == NULL, "add");
	CHECK(route_add_pattern(t, "/orders/new") == NULL, "add");
	CHECK(route_add_pattern(t, "/blog/{slug}/comments") == NULL, "add");
	CHECK(route_add_pattern(t, "/blog/{a}/y") == NULL, "add");
	CHECK(route_add_pattern(t, "/orders/{x}/items") != NULL, "same paths as another");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(route_add_pattern(t, bad[i]) != NULL, "bad pattern '%s' accepted", bad[i]);
	for (size_t i = 0; i < sizeof(patterned) / sizeof(patterned[0]); i++) {
		route_normalise(t, patterned[i].target, strlen(patterned[i].target), out);
		CHECK(!strcmp(out, patterned[i].route), "'%s' -> '%s', want '%s'",
		      patterned[i].target, out, patterned[i].route);
	}
	/* patterns are never pushed into {other} */
	for (int i = 0; i < 1000; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/fill/name%c%c", 'a' + i % 26, 'a' + i / 26);
		route_lookup(t, p, strlen(p));
	}
	CHECK(route_overflow(t) > 0, "table full");
	CHECK(!strcmp(route_name(t, route_lookup(t, "/orders/5/items", 15)), "/orders/{id}/items"),
	      "pattern route when full");
	/* too many */
	for (int i = 0; i < ROUTE_PATTERNS_MAX; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/many/%d/{x}", i);
		route_add_pattern(t, p);
	}
	CHECK(route_add_pattern(t, "/one/more") != NULL, "pattern limit");
	route_table_free(t);
}

static void test_table(void)
{
	struct route_table *t = route_table_new(100);
	uint32_t ids[300];
	char p[64];

	CHECK(t && route_count(t) == 1 && !strcmp(route_name(t, ROUTE_OTHER), "{other}"), "new");
	/* the same route gets the same id, different numbers one route */
	CHECK(route_lookup(t, "/user/1", 7) == route_lookup(t, "/user/2?x", 9), "one route");
	CHECK(route_count(t) == 2, "count %zu", route_count(t));
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "/w/%c%c%c", 'a' + i % 26, 'a' + i / 26 % 26, 'k');
		ids[i] = route_lookup(t, p, strlen(p));
	}
	/* 1 + 99 fit, 201 overflow */
	CHECK(route_count(t) == 101, "bounded: %zu", route_count(t));
	CHECK(route_overflow(t) == 201, "overflow %llu", (unsigned long long)route_overflow(t));
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "/w/%c%c%c", 'a' + i % 26, 'a' + i / 26 % 26, 'k');
		if (i < 99) {
			CHECK(ids[i] != ROUTE_OTHER && !strcmp(route_name(t, ids[i]), p),
			      "kept %s", p);
			CHECK(route_lookup(t, p, strlen(p)) == ids[i], "same id again");
		} else {
			CHECK(ids[i] == ROUTE_OTHER, "past the bound %s", p);
		}
	}
	CHECK(route_overflow(t) == 201, "known routes do not overflow");
	CHECK(!strcmp(route_name(t, 99999), "{other}"), "unknown id");
	route_table_free(t);
	/* a big table rehashes */
	t = route_table_new(100000);
	for (int i = 0; i < 50000; i++) {
		snprintf(p, sizeof(p), "/r/n%c%c%c%c", 'a' + i % 26, 'a' + i / 26 % 26,
			 'a' + i / 676 % 26, 'a' + i / 17576);
		ids[i % 300] = route_lookup(t, p, strlen(p));
		CHECK(ids[i % 300] == (uint32_t)i + 1, "id %u for %d", ids[i % 300], i);
	}
	CHECK(route_count(t) == 50001 && route_overflow(t) == 0, "big table");
	route_table_free(t);
	/* no room at all: everything is {other} */
	t = route_table_new(0);
	CHECK(route_lookup(t, "/a", 2) == ROUTE_OTHER && route_overflow(t) == 1, "max 0");
	route_table_free(t);
}

int main(void)
{
	test_segments();
	test_heuristic(NULL);
	{
		struct route_table *t = route_table_new(10);

		test_heuristic(t); /* no patterns: the same */
		route_table_free(t);
	}
	test_cut();
	test_patterns();
	test_table();
	return check_result("test_route");
}
