/* report.c -- the endpoint summary as a table for people (--summary) and as one JSON document (--summary-json). */
#include "prof/report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/txn.h"

size_t report_cols(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* value / unit with the most decimals (2 at most) that fits width. */
static bool report_scaled(char *buf, double x, const char *suffix, unsigned width)
{
	for (int prec = 2; prec >= 0; prec--) {
		snprintf(buf, REPORT_FIG_LEN, "%.*f%s", prec, x, suffix);
		if (report_cols(buf) <= width)
			return true;
	}
	return false;
}

/* Picks the first unit (of n, growing) under which x rounds below 1000,
 * or the last one. */
static void report_units(char *buf, double x, const double *units,
			 const char *const *names, size_t n, unsigned width)
{
	size_t u = 0;

	while (u + 1 < n && x >= units[u + 1])
		u++;
	for (; u < n; u++) {
		double v = x / units[u];
		char probe[REPORT_FIG_LEN];

		/* 999.7 µs printed with no decimal is "1000µs": go up. */
		if (u + 1 < n && report_scaled(probe, v, names[u], width) &&
		    strtod(probe, NULL) >= 1000)
			continue;
		if (report_scaled(buf, v, names[u], width))
			return;
	}
	snprintf(buf, REPORT_FIG_LEN, "%.0f%s", x / units[n - 1], names[n - 1]);
}

void report_fmt_count(char *buf, uint64_t v, unsigned width)
{
	static const double units[] = { 1, 1e3, 1e6, 1e9, 1e12, 1e15, 1e18 };
	static const char *const names[] = { "", "k", "M", "G", "T", "P", "E" };

	snprintf(buf, REPORT_FIG_LEN, "%llu", (unsigned long long)v);
	if (strlen(buf) <= width)
		return;
	report_units(buf, (double)v, units + 1, names + 1, 6, width);
}

void report_fmt_ns(char *buf, uint64_t ns, unsigned width)
{
	static const double units[] = { 1, 1e3, 1e6, 1e9 };
	static const char *const names[] = { "ns", "\xc2\xb5s", "ms", "s" };

	if (ns < 1000) {
		snprintf(buf, REPORT_FIG_LEN, "%lluns", (unsigned long long)ns);
		return;
	}
	report_units(buf, (double)ns, units, names, 4, width);
}

void report_fmt_bytes(char *buf, uint64_t v, unsigned width)
{
	static const double units[] = { 1024.0, 1048576.0, 1073741824.0,
					1099511627776.0, 1125899906842624.0,
					1152921504606846976.0 };
	static const char *const names[] = { "K", "M", "G", "T", "P", "E" };

	snprintf(buf, REPORT_FIG_LEN, "%llu", (unsigned long long)v);
	if (v < 1024 && strlen(buf) <= width)
		return;
	report_units(buf, (double)v, units, names, 6, width);
}

void report_fmt_rate(char *buf, double r, unsigned width)
{
	static const double units[] = { 1, 1e3, 1e6, 1e9 };
	static const char *const names[] = { "", "k", "M", "G" };

	if (r < 0)
		r = 0;
	if (r < 1000) {
		snprintf(buf, REPORT_FIG_LEN, "%.*f", r < 10 ? 2 : 1, r);
		if (report_cols(buf) <= width)
			return;
	}
	report_units(buf, r, units, names, 4, width);
}

/* ---- the table ---- */

/* A cell: s cut to width columns (ending in "…" when cut), padded on
 * the left (right-aligned), on the right, or not at all (pad false). */
static void report_put(FILE *f, const char *s, size_t width, bool right, bool pad_it)
{
	size_t cols = report_cols(s), pad;

	if (cols > width) {
		size_t keep = width ? width - 1 : 0, n = 0;
		const char *p = s;

		/* whole characters only */
		while (*p && n < keep) {
			p++;
			while (((unsigned char)*p & 0xc0) == 0x80)
				p++;
			n++;
		}
		fwrite(s, 1, (size_t)(p - s), f);
		if (width)
			fputs("\xe2\x80\xa6", f);
		return;
	}
	pad = pad_it ? width - cols : 0;
	if (right)
		fprintf(f, "%*s%s", (int)pad, "", s);
	else
		fprintf(f, "%s%*s", s, (int)pad, "");
}

static void report_cell(FILE *f, const char *s, size_t width, bool right)
{
	report_put(f, s, width, right, true);
}

/* The figure columns: 79 columns with their separators. */
static const struct {
	const char *name;
	unsigned width;
} report_figs[] = {
	{ "COUNT", 6 }, { "RATE/s", 6 }, { "2xx", 5 }, { "3xx", 5 }, { "4xx", 5 },
	{ "5xx", 5 }, { "p50", 6 }, { "p90", 6 }, { "p99", 6 }, { "max", 6 },
	{ "REQ", 6 }, { "RESP", 6 },
};
#define REPORT_NFIGS (sizeof(report_figs) / sizeof(report_figs[0]))

static void report_fig_header(FILE *f)
{
	for (size_t i = 0; i < REPORT_NFIGS; i++) {
		if (i)
			fputc(' ', f);
		report_cell(f, report_figs[i].name, report_figs[i].width, true);
	}
}

static void report_figures(FILE *f, const struct endpoint_table *t,
			   const struct endpoint *e, const struct report_opts *o,
			   struct hist *scratch)
{
	const struct hist *h = endpoint_latency(t, e, scratch);
	char v[REPORT_NFIGS][REPORT_FIG_LEN];
	static const double pct[] = { 50, 90, 99, 100 };

	report_fmt_count(v[0], e->count, report_figs[0].width);
	report_fmt_rate(v[1], o->elapsed_s > 0 ? (double)e->count / o->elapsed_s : 0,
			report_figs[1].width);
	for (int c = 2; c <= 5; c++)
		report_fmt_count(v[c], e->status[c], report_figs[c].width);
	/* A gRPC call's outcome is its grpc-status, not its HTTP status
	 * (200 for failed calls too): OK under 2xx, the others under 5xx,
	 * as the note under the table says. */
	if (e->key.proto == FACTS_GRPC) {
		report_fmt_count(v[2], e->count - e->errors, report_figs[2].width);
		strcpy(v[3], "-");
		strcpy(v[4], "-");
		report_fmt_count(v[5], e->errors, report_figs[5].width);
	}
	for (int k = 0; k < 4; k++) {
		if (h->count)
			report_fmt_ns(v[6 + k], hist_percentile(h, pct[k]), report_figs[6 + k].width);
		else
			strcpy(v[6 + k], "-");
	}
	report_fmt_bytes(v[10], e->req_bytes, report_figs[10].width);
	report_fmt_bytes(v[11], e->resp_bytes, report_figs[11].width);
	for (size_t i = 0; i < REPORT_NFIGS; i++) {
		if (i)
			fputc(' ', f);
		report_cell(f, v[i], report_figs[i].width, true);
	}
}

/* The rows to show, highest total time first; NULL when there are none
 * or memory ran out (*n is then 0). */
static const struct endpoint **report_rows(const struct endpoint_table *t,
					   const struct route_table *r,
					   const struct report_opts *o, size_t *n)
{
	size_t want = endpoint_count(t);
	const struct endpoint **rows;

	if (o->max_rows && o->max_rows < want)
		want = o->max_rows;
	*n = 0;
	if (!want)
		return NULL;
	rows = malloc(want * sizeof(*rows));
	if (rows)
		*n = endpoint_sorted(t, ES_TIME, r, rows, want);
	return rows;
}

static uint64_t report_total(const struct endpoint_table *t)
{
	uint64_t n = 0;

	for (size_t i = 0; i < endpoint_count(t); i++)
		n += endpoint_at(t, i)->count;
	return n;
}

/* How the table is laid out. */
struct report_layout {
	unsigned width;
	bool wide;	  /* one line per endpoint */
	bool containers;  /* a container column (wide) */
	size_t route_w;	  /* the route's column (wide) */
};

static void report_layout(struct report_layout *L, const struct endpoint **rows, size_t n,
			  const struct route_table *r, unsigned width)
{
	size_t fixed;

	L->width = width < 80 ? 80 : width;
	L->route_w = 5;
	L->containers = false;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(route_name(r, rows[i]->key.route));

		L->route_w = len > L->route_w ? len : L->route_w;
		L->containers |= rows[i]->key.container[0] != '\0';
	}
	/* side, process, [container,] protocol, method, route, figures */
	fixed = 8 + 16 + (L->containers ? 13 : 0) + 9 + 8 + 1 + 79;
	L->wide = L->width >= REPORT_WIDE + (L->containers ? 13 : 0);
	if (L->wide && L->route_w > L->width - fixed)
		L->route_w = L->width - fixed;
}

static void report_head(FILE *f, const struct report_layout *L)
{
	if (L->wide) {
		fputs("SIDE    PROCESS         ", f);
		if (L->containers)
			fputs("CONTAINER    ", f);
		fputs("PROTOCOL METHOD  ", f);
		report_cell(f, "ROUTE", L->route_w, false);
		fputc(' ', f);
	}
	report_fig_header(f);
	fputc('\n', f);
}

/* Who and what: cells of the wide line, or a line of its own. */
static void report_who(FILE *f, const struct report_layout *L, const struct endpoint *e,
		       const char *route)
{
	char who[256];

	if (!L->wide) {
		snprintf(who, sizeof(who), "%s %s%s%s %s %s %s", endpoint_side_name(e->key.side),
			 e->key.comm, e->key.container[0] ? " container " : "", e->key.container,
			 endpoint_proto_name(e->key.proto), endpoint_method_name(e->key.method), route);
		report_put(f, who, L->width, false, false);
		fputc('\n', f);
		return;
	}
	report_cell(f, endpoint_side_name(e->key.side), 7, false);
	fputc(' ', f);
	report_cell(f, e->key.comm, 15, false);
	fputc(' ', f);
	if (L->containers) {
		report_cell(f, e->key.container[0] ? e->key.container : "-", 12, false);
		fputc(' ', f);
	}
	report_cell(f, endpoint_proto_name(e->key.proto), 8, false);
	fputc(' ', f);
	report_cell(f, endpoint_method_name(e->key.method), 7, false);
	fputc(' ', f);
	report_cell(f, route, L->route_w, false);
	fputc(' ', f);
}

int report_text(FILE *f, const struct endpoint_table *t,
		const struct route_table *r, const struct report_opts *o)
{
	size_t n;
	const struct endpoint **rows = report_rows(t, r, o, &n);
	struct report_layout L;
	struct hist scratch;
	char total[REPORT_FIG_LEN], title[256];
	bool grpc = false;

	report_layout(&L, rows, n, r, o->width);
	report_fmt_count(total, report_total(t), 20);
	snprintf(title, sizeof(title), "Endpoints by total time, %zu of %zu: %s transactions "
		 "in %.1f s; latency \xc2\xb1%.1f%%",
		 n, endpoint_count(t), total, o->elapsed_s, 100 * HIST_REL_ERROR);
	report_put(f, title, L.width, false, false);
	fputc('\n', f);
	report_head(f, &L);
	hist_init(&scratch);
	for (size_t i = 0; i < n; i++) {
		report_who(f, &L, rows[i], route_name(r, rows[i]->key.route));
		report_figures(f, t, rows[i], o, &scratch);
		fputc('\n', f);
		grpc |= rows[i]->key.proto == FACTS_GRPC;
	}
	hist_free(&scratch);
	if (grpc)
		fputs("grpc rows: 2xx counts calls with grpc-status OK, 5xx the others "
		      "(or none)\n", f);
	if (n < endpoint_count(t))
		fprintf(f, "(%zu more endpoints not shown)\n", endpoint_count(t) - n);
	if (route_overflow(r))
		fprintf(f, "%llu transactions had a route past the route bound: counted as {other} "
			   "(raise --max-routes, or name routes with --route)\n",
			(unsigned long long)route_overflow(r));
	if (endpoint_overflow(t))
		fprintf(f, "%llu transactions had an endpoint past the endpoint bound: counted "
			   "in the rows of process {other}\n",
			(unsigned long long)endpoint_overflow(t));
	free(rows);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---- */

/* Routes, process names and container ids hold visible ASCII (and
 * spaces) but '"' and '\\' (route.c and endpoint.c make sure), so they
 * go into a JSON string as they are. */
static void report_jstr(FILE *f, const char *s)
{
	fputc('"', f);
	fputs(s, f);
	fputc('"', f);
}

static void report_json_row(FILE *f, const struct endpoint_table *t,
			    const struct route_table *r, const struct endpoint *e,
			    const struct report_opts *o, struct hist *scratch)
{
	const struct hist *h = endpoint_latency(t, e, scratch);
	static const char *const classes[ENDPOINT_NCLASSES] = {
		"none", "1xx", "2xx", "3xx", "4xx", "5xx", "other",
	};

	fputs("{\"side\":", f);
	report_jstr(f, endpoint_side_name(e->key.side));
	fputs(",\"process\":", f);
	report_jstr(f, e->key.comm);
	fputs(",\"container\":", f);
	if (e->key.container[0])
		report_jstr(f, e->key.container);
	else
		fputs("null", f);
	fputs(",\"protocol\":", f);
	report_jstr(f, endpoint_proto_name(e->key.proto));
	fputs(",\"method\":", f);
	report_jstr(f, endpoint_method_name(e->key.method));
	fputs(",\"route\":", f);
	report_jstr(f, route_name(r, e->key.route));
	fprintf(f, ",\"count\":%llu,\"rate\":%.3f,\"errors\":%llu,\"status\":{",
		(unsigned long long)e->count,
		o->elapsed_s > 0 ? (double)e->count / o->elapsed_s : 0.0,
		(unsigned long long)e->errors);
	for (int c = 1; c <= ENDPOINT_NCLASSES; c++) /* 1xx..5xx, other, none */
		fprintf(f, "%s\"%s\":%llu", c > 1 ? "," : "", classes[c % ENDPOINT_NCLASSES],
			(unsigned long long)e->status[c % ENDPOINT_NCLASSES]);
	fputs("},\"grpc_status\":", f);
	if (e->grpc) {
		bool first = true;

		fputc('{', f);
		for (int c = 0; c < ENDPOINT_GRPC_NCOUNTS; c++) {
			if (!e->grpc[c])
				continue;
			fprintf(f, "%s\"%s\":%llu", first ? "" : ",",
				c < ENDPOINT_GRPC_CODES ? txn_grpc_status_name(c) :
				c == ENDPOINT_GRPC_OTHER ? "other" : "none",
				(unsigned long long)e->grpc[c]);
			first = false;
		}
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"latency_ns\":", f);
	if (h->count)
		fprintf(f, "{\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"max\":%llu,\"mean\":%llu}",
			(unsigned long long)hist_percentile(h, 50),
			(unsigned long long)hist_percentile(h, 90),
			(unsigned long long)hist_percentile(h, 99),
			(unsigned long long)h->max, (unsigned long long)(h->sum / h->count));
	else
		fputs("{\"p50\":null,\"p90\":null,\"p99\":null,\"max\":null,\"mean\":null}", f);
	fprintf(f, ",\"time_ns\":%llu,\"request_bytes\":%llu,\"response_bytes\":%llu}",
		(unsigned long long)e->time_ns, (unsigned long long)e->req_bytes,
		(unsigned long long)e->resp_bytes);
}

int report_json(FILE *f, const struct endpoint_table *t,
		const struct route_table *r, const struct report_opts *o)
{
	size_t n;
	const struct endpoint **rows = report_rows(t, r, o, &n);
	struct hist scratch;

	fprintf(f, "{\"elapsed_s\":%.3f,\"percentile_error\":%.4f,\"routes\":%zu,"
		   "\"route_overflow\":%llu,\"endpoint_overflow\":%llu,\"endpoints\":[",
		o->elapsed_s, HIST_REL_ERROR, route_count(r),
		(unsigned long long)route_overflow(r), (unsigned long long)endpoint_overflow(t));
	hist_init(&scratch);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		report_json_row(f, t, r, rows[i], o, &scratch);
	}
	hist_free(&scratch);
	fputs("]}\n", f);
	free(rows);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
