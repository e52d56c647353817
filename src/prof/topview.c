/* topview.c -- the --top screen laid out as lines of text: busiest endpoints, last interval and since start. */
#include "prof/topview.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "prof/report.h"

enum topview_col {
	TC_SIDE, TC_PROC, TC_CONT, TC_PROTO, TC_METHOD, TC_ROUTE,
	TC_RATE, TC_ERR, TC_P50, TC_P90, TC_P99,    /* last interval */
	TC_COUNT, TC_ERR_T, TC_P50_T, TC_P99_T, TC_MAX_T, /* since start */
	TC_NCOLS,
};

/* In screen order; prio 0 is kept first as the width shrinks. */
static const struct {
	const char *head;
	unsigned width;
	unsigned prio;
	bool right;
} topview_cols[TC_NCOLS] = {
	[TC_SIDE] = { "SIDE", 6, 8, false },
	[TC_PROC] = { "PROCESS", 15, 9, false },
	[TC_CONT] = { "CONTAINER", 12, 15, false },
	[TC_PROTO] = { "PROTOCOL", 8, 14, false },
	[TC_METHOD] = { "METHOD", 7, 4, false },
	[TC_ROUTE] = { "ROUTE", 16, 0, false }, /* at least; takes the rest */
	[TC_RATE] = { "RATE/s", 6, 1, true },
	[TC_ERR] = { "ERR%", 5, 3, true },
	[TC_P50] = { "p50", 6, 5, true },
	[TC_P90] = { "p90", 6, 11, true },
	[TC_P99] = { "p99", 6, 2, true },
	[TC_COUNT] = { "COUNT", 6, 6, true },
	[TC_ERR_T] = { "ERR%", 5, 10, true },
	[TC_P50_T] = { "p50", 6, 13, true },
	[TC_P99_T] = { "p99", 6, 7, true },
	[TC_MAX_T] = { "max", 6, 12, true },
};

int topview_key(int key)
{
	switch (key) {
	case 'r':
	case 'R':
		return ES_RATE;
	case 'p':
	case 'P':
		return ES_P99;
	case 'e':
	case 'E':
		return ES_ERRORS;
	case 't':
	case 'T':
		return ES_TIME;
	case 'q':
	case 'Q':
	case 3: /* Ctrl-C where the terminal passes it as a key */
		return TOPVIEW_QUIT;
	default:
		return TOPVIEW_NONE;
	}
}

/* Writes s cut or padded to width columns. */
static void topview_cell(FILE *f, const char *s, unsigned width, bool right)
{
	size_t cols = report_cols(s);

	if (cols > width) {
		size_t n = 0;
		const char *p = s;

		while (*p && n + 1 < width) {
			p++;
			while (((unsigned char)*p & 0xc0) == 0x80)
				p++;
			n++;
		}
		fwrite(s, 1, (size_t)(p - s), f);
		fputs("\xe2\x80\xa6", f);
		return;
	}
	if (right)
		fprintf(f, "%*s%s", (int)(width - cols), "", s);
	else
		fprintf(f, "%s%*s", s, (int)(width - cols), "");
}

/* A line cut to width columns, no padding. */
static void topview_line(FILE *f, const char *s, unsigned width)
{
	if (report_cols(s) > width)
		topview_cell(f, s, width, false);
	else
		fputs(s, f);
	fputc('\n', f);
}

static void topview_pct(char *buf, uint64_t part, uint64_t whole)
{
	double p;

	if (!whole) {
		strcpy(buf, "-");
		return;
	}
	p = 100.0 * (double)part / (double)whole;
	snprintf(buf, REPORT_FIG_LEN, p < 10 && p > 0 ? "%.1f%%" : "%.0f%%", p);
}

static void topview_ns(char *buf, const struct hist *h, double pct, unsigned width)
{
	if (!h->count)
		strcpy(buf, "-");
	else
		report_fmt_ns(buf, hist_percentile(h, pct), width);
}

static void topview_duration(char *buf, size_t len, double s)
{
	unsigned long t = (unsigned long)s;

	if (t < 60)
		snprintf(buf, len, "%lus", t);
	else if (t < 3600)
		snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
	else
		snprintf(buf, len, "%luh%02lum", t / 3600, t / 60 % 60);
}

/* Chooses the columns that fit; returns the route's width. */
static unsigned topview_layout(unsigned width, bool show[TC_NCOLS])
{
	unsigned used = topview_cols[TC_ROUTE].width;

	memset(show, 0, TC_NCOLS * sizeof(*show));
	show[TC_ROUTE] = true;
	for (unsigned prio = 1; prio < TC_NCOLS; prio++) {
		for (int c = 0; c < TC_NCOLS; c++) {
			if (topview_cols[c].prio != prio)
				continue;
			if (used + 1 + topview_cols[c].width <= width) {
				show[c] = true;
				used += 1 + topview_cols[c].width;
			}
		}
	}
	return topview_cols[TC_ROUTE].width + (width - used);
}

/* The title, the status and the sort lines. */
static void topview_title(FILE *f, const struct endpoint_table *t,
			  const struct topview_opts *o, unsigned width)
{
	static const char *const sorts[] = {
		[ES_TIME] = "total time", [ES_RATE] = "rate", [ES_P99] = "p99",
		[ES_ERRORS] = "errors",
	};
	char line[512], up[32], rate[REPORT_FIG_LEN], err[REPORT_FIG_LEN];
	uint64_t count = 0, errors = 0;

	for (size_t i = 0; i < endpoint_count(t); i++) {
		count += endpoint_at(t, i)->count_last;
		errors += endpoint_at(t, i)->errors_last;
	}
	topview_duration(up, sizeof(up), o->elapsed_s);
	report_fmt_rate(rate, o->interval_s > 0 ? (double)count / o->interval_s : 0, 8);
	topview_pct(err, errors, count);
	snprintf(line, sizeof(line), "httpsnoop top  %s  up %s  %zu endpoints  %s tx/s  errors %s",
		 o->clock ? o->clock : "", up, endpoint_count(t), rate, err);
	topview_line(f, line, width);
	topview_line(f, o->status ? o->status : "", width);
	snprintf(line, sizeof(line), "Sort: %s   (r rate, p p99, e errors, t total time; q quits)",
		 sorts[o->sort]);
	topview_line(f, line, width);
}

/* The groups' headings over the figures, and the columns' headings. */
static void topview_headings(FILE *f, const bool show[TC_NCOLS], unsigned route_w,
			     double interval_s, unsigned width)
{
	char line[1024], iv[32];
	static const char since[] = "since start";
	unsigned x = 0, last_x = 0, since_x = 0, end;

	for (int c = 0; c < TC_NCOLS; c++) {
		if (!show[c])
			continue;
		if (c >= TC_RATE && c <= TC_P99 && !last_x)
			last_x = x + 1;
		if (c >= TC_COUNT && !since_x)
			since_x = x + 1;
		x += (c == TC_ROUTE ? route_w : topview_cols[c].width) + 1;
	}
	memset(line, ' ', sizeof(line));
	snprintf(iv, sizeof(iv), "last %.1f s", interval_s);
	if (last_x)
		memcpy(line + last_x - 1, iv, strlen(iv));
	if (since_x)
		memcpy(line + since_x - 1, since, strlen(since));
	end = since_x ? since_x - 1 + (unsigned)strlen(since) :
	      last_x ? last_x - 1 + (unsigned)strlen(iv) : 0;
	line[end] = '\0';
	topview_line(f, line, width);
	x = 0;
	for (int c = 0; c < TC_NCOLS; c++) {
		if (!show[c])
			continue;
		if (x++)
			fputc(' ', f);
		topview_cell(f, topview_cols[c].head, c == TC_ROUTE ? route_w : topview_cols[c].width,
			     topview_cols[c].right);
	}
	fputc('\n', f);
}

/* One endpoint's row. */
static void topview_row(FILE *f, const struct endpoint_table *t, const struct route_table *r,
			const struct endpoint *e, const struct topview_opts *o,
			const bool show[TC_NCOLS], unsigned route_w, struct hist *scratch)
{
	const struct hist *all = endpoint_latency(t, e, scratch);
	char v[TC_NCOLS][REPORT_FIG_LEN + ROUTE_LEN_MAX];
	unsigned x = 0;

	snprintf(v[TC_SIDE], sizeof(v[0]), "%s", endpoint_side_name(e->key.side));
	snprintf(v[TC_PROC], sizeof(v[0]), "%s", e->key.comm);
	snprintf(v[TC_CONT], sizeof(v[0]), "%s", e->key.container[0] ? e->key.container : "-");
	snprintf(v[TC_PROTO], sizeof(v[0]), "%s", endpoint_proto_name(e->key.proto));
	snprintf(v[TC_METHOD], sizeof(v[0]), "%s", endpoint_method_name(e->key.method));
	snprintf(v[TC_ROUTE], sizeof(v[0]), "%s", route_name(r, e->key.route));
	report_fmt_rate(v[TC_RATE], o->interval_s > 0 ? (double)e->count_last / o->interval_s : 0,
			topview_cols[TC_RATE].width);
	topview_pct(v[TC_ERR], e->errors_last, e->count_last);
	topview_ns(v[TC_P50], &e->lat_last, 50, 6);
	topview_ns(v[TC_P90], &e->lat_last, 90, 6);
	topview_ns(v[TC_P99], &e->lat_last, 99, 6);
	report_fmt_count(v[TC_COUNT], e->count, topview_cols[TC_COUNT].width);
	topview_pct(v[TC_ERR_T], e->errors, e->count);
	topview_ns(v[TC_P50_T], all, 50, 6);
	topview_ns(v[TC_P99_T], all, 99, 6);
	topview_ns(v[TC_MAX_T], all, 100, 6);
	for (int c = 0; c < TC_NCOLS; c++) {
		if (!show[c])
			continue;
		if (x++)
			fputc(' ', f);
		topview_cell(f, v[c], c == TC_ROUTE ? route_w : topview_cols[c].width,
			     topview_cols[c].right);
	}
	fputc('\n', f);
}

size_t topview_render(FILE *f, const struct endpoint_table *t,
		      const struct route_table *r, const struct topview_opts *o)
{
	unsigned width = o->width < 40 ? 40 : o->width > 1000 ? 1000 : o->width;
	unsigned height = o->height < 8 ? 8 : o->height;
	bool show[TC_NCOLS];
	unsigned route_w = topview_layout(width, show);
	size_t nrows = height - TOPVIEW_HEAD, n;
	const struct endpoint **rows = malloc(nrows * sizeof(*rows));
	struct hist scratch;

	topview_title(f, t, o, width);
	topview_headings(f, show, route_w, o->interval_s, width);
	n = rows ? endpoint_sorted(t, o->sort, r, rows, nrows) : 0;
	hist_init(&scratch);
	for (size_t i = 0; i < n; i++)
		topview_row(f, t, r, rows[i], o, show, route_w, &scratch);
	hist_free(&scratch);
	free(rows);
	return n;
}
