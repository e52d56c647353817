/* sink.h -- where finished transactions go: the sink interface, the registry of sinks, and the list of those the options ask for, with display filters in front. */
#ifndef HS_SINK_H
#define HS_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/txn.h"

/* -f: how the output stream is written. */
enum sink_format { SINK_TEXT, SINK_JSON };

/* What the options say about the sinks.  Each sink reads what is its own
 * here; a new sink adds its fields. */
struct sink_config {
	enum sink_format format;
	const char *output;	 /* -o: path, or NULL or "-" for stdout */
	size_t max_body;	 /* preview bytes shown; the txn's preview
				  * never holds more.  0 shows no body bytes
				  * (sizes and flags are still written). */
	int64_t clock_offset_ns; /* add to CLOCK_MONOTONIC ns to get
				  * UNIX-epoch ns (realtime) */
};

/* One kind of sink.  A sink is one file defining these ops and one line
 * in the registry (sink.c).  Records are valid only during the call and
 * already redacted; a sink copies what it keeps. */
struct sink_ops {
	const char *name;
	const void *arg; /* the kind's own constant, given to wanted() and
			  * open() (the writers' format) */
	/* Whether the options ask for this sink. */
	bool (*wanted)(const struct sink_config *cfg, const void *arg);
	/* Opens it; NULL (errno set, the reason already printed with
	 * warn()) when it cannot. */
	void *(*open)(const struct sink_config *cfg, const void *arg);
	void (*txn)(void *s, const struct txn *t);
	void (*ws)(void *s, const struct ws_msg *m); /* optional */
	/* Periodic work, every 100 ms of a live run, at now
	 * (CLOCK_MONOTONIC ns); optional. */
	void (*tick)(void *s, uint64_t now);
	/* Hands on what is buffered; returns 0, or -errno of the first
	 * failure so far (sticky).  Optional. */
	int (*flush)(void *s);
	/* Finishes (a summary prints, a file is completed) and frees;
	 * accepts NULL. */
	void (*close)(void *s);
	bool unfiltered; /* sees every transaction, whatever the display
			  * filters say (metrics) */
};

/* A display filter: whether t is shown.  Filters are ANDed. */
typedef bool (*sink_filter_fn)(void *ctx, const struct txn *t);

/* Sinks and filters one list holds at most. */
#define SINKS_MAX 16
#define SINK_FILTERS_MAX 16

struct sinks;

/* Opens every registered sink that cfg asks for, in registry order.
 * NULL (errno set, the reason printed) when one cannot be opened. */
struct sinks *sinks_open(const struct sink_config *cfg);
/* Adds a filter in front of every sink but the unfiltered ones.
 * Returns 0 or -E2BIG. */
int sinks_add_filter(struct sinks *l, sink_filter_fn keep, void *ctx);
void sinks_txn(struct sinks *l, const struct txn *t);
void sinks_ws(struct sinks *l, const struct ws_msg *m);
void sinks_tick(struct sinks *l, uint64_t now);
/* Returns 0, or the first sink's -errno (see sink_ops.flush). */
int sinks_flush(struct sinks *l);
/* Closes every sink; accepts NULL.  Call sinks_flush() first to learn
 * about errors. */
void sinks_close(struct sinks *l);

/* The writers' formatters, for tests: one transaction (text: a block
 * ending in a blank line; JSON: exactly one line) to f; 0, or -errno
 * (-EIO when unknown) if the stream is in error. */
int text_format_txn(FILE *f, const struct txn *t, const struct sink_config *cfg);
int json_format_txn(FILE *f, const struct txn *t, const struct sink_config *cfg);

#endif
