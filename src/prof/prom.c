/* prom.c -- Prometheus text exposition (format 0.0.4) of the endpoint table and of httpsnoop's own counters. */
#include "prof/prom.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <linux/types.h>

#include "event.h"

int prom_write_counters(FILE *f, const struct prom_counter *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *sfx = c[i].gauge ? "" : "_total";

		fprintf(f, "# HELP httpsnoop_%s%s %s\n", c[i].name, sfx, c[i].help);
		fprintf(f, "# TYPE httpsnoop_%s%s %s\n", c[i].name, sfx,
			c[i].gauge ? "gauge" : "counter");
		if (c[i].per > 1) {
			int digits = 0;

			for (uint32_t p = c[i].per; p > 1; p /= 10)
				digits++;
			fprintf(f, "httpsnoop_%s%s %llu.%0*llu\n", c[i].name, sfx,
				(unsigned long long)(c[i].value / c[i].per), digits,
				(unsigned long long)(c[i].value % c[i].per));
		} else {
			fprintf(f, "httpsnoop_%s%s %llu\n", c[i].name, sfx,
				(unsigned long long)c[i].value);
		}
	}
	return ferror(f) ? -EIO : 0;
}

void prom_name(const char *name, char *out)
{
	size_t o = 0;
	bool sep = false;

	for (; *name && o < PROM_NAME_MAX - 2; name++) {
		char c = *name;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (sep && o)
				out[o++] = '_';
			out[o++] = c;
			sep = false;
		} else {
			sep = true;
		}
	}
	out[o] = '\0';
}

/* A label value, escaped as the format asks: backslash, quote and
 * newline (routes and names hold none, but the writer does not rely on
 * it). */
static void prom_value_n(FILE *f, const char *s, size_t n)
{
	for (const char *end = s + n; s < end; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void prom_value(FILE *f, const char *s)
{
	prom_value_n(f, s, strlen(s));
}

static const char *prom_version(uint8_t proto)
{
	switch (proto) {
	case FACTS_HTTP10:
		return "1.0";
	case FACTS_HTTP11:
		return "1.1";
	default:
		return "2";
	}
}

/* A gRPC row's labels: its route "/package.Service/Method" split at
 * its last '/' (a route without one is all service). */
static void prom_rpc_labels(FILE *f, const struct endpoint *e, const char *route)
{
	const char *svc = route[0] == '/' ? route + 1 : route, *slash = strrchr(svc, '/');

	fputs("rpc_system=\"grpc\",rpc_service=\"", f);
	prom_value_n(f, svc, slash ? (size_t)(slash - svc) : strlen(svc));
	fputs("\",rpc_method=\"", f);
	prom_value(f, slash ? slash + 1 : "");
	fputc('"', f);
	if (e->key.status != ENDPOINT_GRPC_NONE)
		fprintf(f, ",rpc_grpc_status_code=\"%u\"", e->key.status);
}

/* The labels of a row, without braces; le is added by the caller. */
static void prom_labels(FILE *f, const struct endpoint *e, const struct route_table *r)
{
	if (e->key.proto == FACTS_GRPC) {
		prom_rpc_labels(f, e, route_name(r, e->key.route));
		goto who;
	}
	fprintf(f, "http_request_method=\"%s\"", endpoint_method_name(e->key.method));
	if (e->key.status)
		fprintf(f, ",http_response_status_code=\"%u\"", e->key.status);
	fputs(",http_route=\"", f);
	prom_value(f, route_name(r, e->key.route));
	fprintf(f, "\",network_protocol_version=\"%s\"", prom_version(e->key.proto));
who:
	fputs(",process=\"", f);
	prom_value(f, e->key.comm);
	fputc('"', f);
	if (e->key.container[0]) {
		fputs(",container=\"", f);
		prom_value(f, e->key.container);
		fputc('"', f);
	}
}

enum prom_kind { PROM_DURATION, PROM_REQ_SIZE, PROM_RESP_SIZE };

/* HELP reads "<help> <side> <help2>". */
static const struct {
	const char *name, *help, *help2;
} prom_families[] = {
	[PROM_DURATION] = { "request_duration_seconds", "Duration of HTTP",
			    "requests, from the request's first byte to the response's last." },
	[PROM_REQ_SIZE] = { "request_body_size_bytes", "Size of HTTP",
			    "request bodies (after de-chunking)." },
	[PROM_RESP_SIZE] = { "response_body_size_bytes", "Size of HTTP",
			     "response bodies (after de-chunking)." },
};

static void prom_series(FILE *f, const char *name, const struct endpoint *e,
			const struct route_table *r, enum prom_kind kind)
{
	const struct endpoint_buckets *b = e->buckets;
	const uint64_t *counts = kind == PROM_DURATION ? b->dur : kind == PROM_REQ_SIZE ? b->req : b->resp;
	unsigned nb = kind == PROM_DURATION ? ENDPOINT_NDUR : ENDPOINT_NSIZE;
	uint64_t cum = 0, count, sum;

	for (unsigned i = 0; i <= nb; i++) {
		cum += counts[i];
		fprintf(f, "%s_bucket{", name);
		prom_labels(f, e, r);
		if (i == nb)
			fputs(",le=\"+Inf\"", f);
		else if (kind == PROM_DURATION)
			fprintf(f, ",le=\"%g\"", endpoint_dur_bounds[i]);
		else
			fprintf(f, ",le=\"%llu\"", (unsigned long long)endpoint_size_bounds[i]);
		fprintf(f, "} %llu\n", (unsigned long long)cum);
	}
	fprintf(f, "%s_sum{", name);
	prom_labels(f, e, r);
	if (kind == PROM_DURATION) {
		sum = b->dur_sum_ns;
		count = b->dur_count;
		fprintf(f, "} %llu.%09llu\n", (unsigned long long)(sum / 1000000000),
			(unsigned long long)(sum % 1000000000));
	} else {
		sum = kind == PROM_REQ_SIZE ? e->req_bytes : e->resp_bytes;
		count = e->count;
		fprintf(f, "} %llu\n", (unsigned long long)sum);
	}
	fprintf(f, "%s_count{", name);
	prom_labels(f, e, r);
	fprintf(f, "} %llu\n", (unsigned long long)count);
}

int prom_write_http(FILE *f, const struct endpoint_table *t,
		    const struct route_table *r)
{
	static const uint8_t sides[] = { HS_ROLE_SERVER, HS_ROLE_CLIENT };

	for (size_t s = 0; s < sizeof(sides) / sizeof(sides[0]); s++) {
		const char *side = sides[s] == HS_ROLE_SERVER ? "server" : "client";

		for (int k = PROM_DURATION; k <= PROM_RESP_SIZE; k++) {
			char name[96];

			snprintf(name, sizeof(name), "http_%s_%s", side, prom_families[k].name);
			fprintf(f, "# HELP %s %s %s %s\n", name, prom_families[k].help, side,
				prom_families[k].help2);
			fprintf(f, "# TYPE %s histogram\n", name);
			for (size_t i = 0; i < endpoint_count(t); i++) {
				const struct endpoint *e = endpoint_at(t, i);

				if (e->key.side != sides[s] || !e->buckets ||
				    e->key.proto == FACTS_GRPC)
					continue;
				if (k == PROM_DURATION && !e->buckets->dur_count)
					continue;
				prom_series(f, name, e, r, (enum prom_kind)k);
			}
		}
	}
	return ferror(f) ? -EIO : 0;
}

int prom_write_rpc(FILE *f, const struct endpoint_table *t,
		   const struct route_table *r)
{
	static const uint8_t sides[] = { HS_ROLE_SERVER, HS_ROLE_CLIENT };

	for (size_t s = 0; s < sizeof(sides) / sizeof(sides[0]); s++) {
		const char *side = sides[s] == HS_ROLE_SERVER ? "server" : "client";
		char name[64];

		snprintf(name, sizeof(name), "rpc_%s_duration_seconds", side);
		fprintf(f, "# HELP %s Duration of gRPC calls, %s side, from the request's first "
			   "byte to the response's last.\n", name, side);
		fprintf(f, "# TYPE %s histogram\n", name);
		for (size_t i = 0; i < endpoint_count(t); i++) {
			const struct endpoint *e = endpoint_at(t, i);

			if (e->key.side != sides[s] || !e->buckets || e->key.proto != FACTS_GRPC ||
			    !e->buckets->dur_count)
				continue;
			prom_series(f, name, e, r, PROM_DURATION);
		}
	}
	return ferror(f) ? -EIO : 0;
}
