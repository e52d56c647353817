/* sink.c -- the registry of sinks, and the list of those the options ask for: each finished record goes to every sink, through the display filters to those that take them. */
#include "sink/sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

extern const struct sink_ops text_sink, json_sink;

/* Every kind of sink, in the order they are opened and fed.  A new sink
 * is one file and one line here. */
static const struct sink_ops *const sink_types[] = {
	&text_sink,
	&json_sink,
};

struct sink_entry {
	const struct sink_ops *ops;
	void *s;
};

struct sink_filter {
	sink_filter_fn keep;
	void *ctx;
};

struct sinks {
	struct sink_entry v[SINKS_MAX];
	size_t n;
	struct sink_filter f[SINK_FILTERS_MAX];
	size_t nf;
};

struct sinks *sinks_open(const struct sink_config *cfg)
{
	struct sinks *l = calloc(1, sizeof(*l));
	int err;

	if (!l) {
		warn("failed to allocate the sinks: %s", strerror(ENOMEM));
		return NULL;
	}
	for (size_t i = 0; i < sizeof(sink_types) / sizeof(sink_types[0]); i++) {
		const struct sink_ops *ops = sink_types[i];
		void *s;

		if (!ops->wanted(cfg, ops->arg))
			continue;
		s = ops->open(cfg, ops->arg);
		if (!s) {
			err = errno;
			sinks_close(l);
			errno = err;
			return NULL;
		}
		l->v[l->n++] = (struct sink_entry){ ops, s };
	}
	return l;
}

int sinks_add_filter(struct sinks *l, sink_filter_fn keep, void *ctx)
{
	if (l->nf == SINK_FILTERS_MAX)
		return -E2BIG;
	l->f[l->nf++] = (struct sink_filter){ keep, ctx };
	return 0;
}

void sinks_txn(struct sinks *l, const struct txn *t)
{
	bool keep = true;

	for (size_t i = 0; i < l->nf && keep; i++)
		keep = l->f[i].keep(l->f[i].ctx, t);
	for (size_t i = 0; i < l->n; i++)
		if (keep || l->v[i].ops->unfiltered)
			l->v[i].ops->txn(l->v[i].s, t);
}

void sinks_ws(struct sinks *l, const struct ws_msg *m)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ops->ws)
			l->v[i].ops->ws(l->v[i].s, m);
}

void sinks_tick(struct sinks *l, uint64_t now)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ops->tick)
			l->v[i].ops->tick(l->v[i].s, now);
}

int sinks_flush(struct sinks *l)
{
	int err = 0, r;

	for (size_t i = 0; i < l->n; i++) {
		if (!l->v[i].ops->flush)
			continue;
		r = l->v[i].ops->flush(l->v[i].s);
		if (r && !err)
			err = r;
	}
	return err;
}

void sinks_close(struct sinks *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		l->v[i].ops->close(l->v[i].s);
	free(l);
}
