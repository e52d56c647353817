/* topview.h -- the --top screen laid out as lines of text: busiest endpoints, last interval and since start. */
#ifndef HS_TOPVIEW_H
#define HS_TOPVIEW_H

#include <stddef.h>
#include <stdio.h>

#include "prof/endpoint.h"
#include "prof/route.h"

struct topview_opts {
	unsigned width, height;	  /* the terminal's */
	enum endpoint_sort sort;  /* ES_RATE, ES_P99, ES_ERRORS or ES_TIME */
	double interval_s;	  /* length of the last interval */
	double elapsed_s;	  /* since tracing began */
	const char *clock;	  /* "12:03:04", or NULL */
	const char *status;	  /* a line of the caller's (statistics), or NULL */
};

/* Lines 0 to TOPVIEW_HEAD - 1 are headings (the caller may show them in
 * reverse or bold); endpoint rows follow, as many as fit. */
#define TOPVIEW_HEAD 5

/* Writes the screen of t (a table made with ENDPOINT_INTERVAL) to f:
 * at most height lines, each ending in '\n' and at most width display
 * columns (at least 40 x 8 is assumed, at most 1000 columns used).  The columns are chosen by
 * importance as they fit (route, rate, p99 and errors of the last
 * interval first; process, side, since-start figures, protocol and
 * container as the width allows).  Returns the number of endpoint rows
 * shown. */
size_t topview_render(FILE *f, const struct endpoint_table *t,
		      const struct route_table *r, const struct topview_opts *o);

/* What a key does: the sort order it picks, TOPVIEW_QUIT, or
 * TOPVIEW_NONE. */
#define TOPVIEW_QUIT (-1)
#define TOPVIEW_NONE (-2)
int topview_key(int key);

#endif
