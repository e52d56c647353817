/* stream.c -- stream tracker: puts each connection's records in byte order, finds gaps, and feeds the HTTP layer.
 *
 * The probe numbers every byte per connection and direction, so order is
 * exact: a record at the expected offset is delivered at once, a later
 * one waits (bounded in count and time) for the hole before it, and a
 * hole that never fills becomes a gap the HTTP layer is told about.
 */
#include "stream/stream.h"

#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pending {
	struct pending *next;
	uint64_t pos, span, ts;
	uint32_t captured;
	uint8_t data[];
};

struct dirstate {
	bool started;
	uint64_t next;	       /* offset of the next byte to deliver */
	struct pending *queue; /* waiting records, by pos */
	size_t queued;
	uint64_t oldest_ts;    /* arrival of the oldest waiting record */
};

struct conn {
	struct conn_info info;
	struct conn *hnext;		/* hash chain, by conn_id */
	struct conn *pnext, **pprev;	/* hash chain, by process */
	struct conn *lru_prev, *lru_next; /* by last activity */
	uint64_t last_ts;
	bool ignored;
	struct dirstate d[2];
	struct http1 *http;
};

struct stream {
	struct stream_opts o;
	struct conn **buckets;
	struct conn **pid_buckets; /* so that an exit finds its process's
				    * connections without a walk of all */
	size_t nbuckets, count;
	struct conn *lru_head, *lru_tail; /* head = least recently active */
	size_t waiting; /* connections with queued records */
	struct txn_pool *pool; /* transactions for reuse, shared by all
				  * connections */
};

static size_t bucket_of(const struct stream *st, uint64_t id)
{
	return util_hash64(id) & (st->nbuckets - 1);
}

struct stream *stream_new(const struct stream_opts *opts)
{
	struct stream *st = calloc(1, sizeof(*st));
	size_t n = 1024;

	if (!st)
		return NULL;
	st->o = *opts;
	while (n < opts->max_conns)
		n <<= 1;
	st->nbuckets = n;
	st->buckets = calloc(n, sizeof(*st->buckets));
	st->pid_buckets = calloc(n, sizeof(*st->pid_buckets));
	st->pool = txn_pool_new(opts->max_body);
	if (!st->buckets || !st->pid_buckets || !st->pool) {
		txn_pool_free(st->pool);
		free(st->buckets);
		free(st->pid_buckets);
		free(st);
		return NULL;
	}
	return st;
}

static void lru_unlink(struct stream *st, struct conn *c)
{
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else
		st->lru_head = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else
		st->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void lru_push(struct stream *st, struct conn *c)
{
	c->lru_prev = st->lru_tail;
	c->lru_next = NULL;
	if (st->lru_tail)
		st->lru_tail->lru_next = c;
	else
		st->lru_head = c;
	st->lru_tail = c;
}

static void queue_free(struct stream *st, struct dirstate *d)
{
	struct pending *p, *next;

	for (p = d->queue; p; p = next) {
		next = p->next;
		free(p);
	}
	if (d->queue)
		st->waiting--;
	d->queue = NULL;
	d->queued = 0;
}

static void conn_free(struct stream *st, struct conn *c)
{
	queue_free(st, &c->d[0]);
	queue_free(st, &c->d[1]);
	http1_free(c->http);
	free(c);
}

static void conn_unlink(struct stream *st, struct conn *c)
{
	struct conn **pp = &st->buckets[bucket_of(st, c->info.conn_id)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	if (c->pnext)
		c->pnext->pprev = c->pprev;
	*c->pprev = c->pnext;
	lru_unlink(st, c);
	st->count--;
}

void stream_free(struct stream *st)
{
	struct conn *c, *next;

	if (!st)
		return;
	for (c = st->lru_head; c; c = next) {
		next = c->lru_next;
		conn_free(st, c);
	}
	txn_pool_free(st->pool);
	free(st->buckets);
	free(st->pid_buckets);
	free(st);
}

size_t stream_count(const struct stream *st)
{
	return st->count;
}

static struct conn *conn_find(struct stream *st, uint64_t id)
{
	struct conn *c = st->buckets[bucket_of(st, id)];

	while (c && c->info.conn_id != id)
		c = c->hnext;
	return c;
}

/* Delivers what a record holds past `from`, the next expected offset. */
static void deliver(struct stream *st, struct conn *c, int dir, uint64_t pos,
		    uint64_t span, uint32_t captured, const uint8_t *data,
		    uint64_t ts)
{
	struct dirstate *d = &c->d[dir];
	uint64_t skip = d->next - pos; /* bytes already delivered */

	if (pos + span <= d->next)
		return;
	if (skip < captured) {
		if (c->http)
			http1_data(c->http, dir, data + skip, captured - skip, ts);
		skip = captured;
	}
	if (span > skip) {
		st->o.stats->gap_bytes += span - skip;
		if (c->http)
			http1_gap(c->http, dir, span - skip, ts);
	}
	d->next = pos + span;
}

/* The reorder timeout runs from the earliest arrival among the waiting
 * records, which need not be the head (at most reorder_max of them). */
static uint64_t oldest_arrival(const struct pending *p)
{
	uint64_t ts = p->ts;

	for (; p; p = p->next)
		if (p->ts < ts)
			ts = p->ts;
	return ts;
}

/* Delivers waiting records that have become contiguous; with `force`,
 * first declares the hole before the oldest one a gap. */
static void drain(struct stream *st, struct conn *c, int dir, bool force,
		  uint64_t ts)
{
	struct dirstate *d = &c->d[dir];
	bool had = d->queue != NULL;
	struct pending *p;

	if (force && d->queue && !d->started) {
		/* The first record never came: start at the oldest. */
		d->started = true;
		d->next = d->queue->pos;
	}
	if (force && d->queue && d->queue->pos > d->next) {
		uint64_t hole = d->queue->pos - d->next;

		st->o.stats->gap_bytes += hole;
		if (c->http)
			http1_gap(c->http, dir, hole, ts);
		d->next = d->queue->pos;
	}
	while ((p = d->queue) && p->pos <= d->next) {
		d->queue = p->next;
		d->queued--;
		deliver(st, c, dir, p->pos, p->span, p->captured, p->data, p->ts);
		free(p);
	}
	if (d->queue)
		d->oldest_ts = oldest_arrival(d->queue);
	else if (had)
		st->waiting--;
}

static void enqueue(struct stream *st, struct conn *c, int dir, uint64_t pos,
		    uint64_t span, uint32_t captured, const uint8_t *data,
		    uint64_t ts)
{
	struct dirstate *d = &c->d[dir];
	struct pending *p, **pp;

	if (d->queued >= st->o.reorder_max) {
		/* The hole is not going to fill in time: call it lost. */
		st->o.stats->reorder_overflow++;
		drain(st, c, dir, true, ts);
		if (pos <= d->next) {
			deliver(st, c, dir, pos, span, captured, data, ts);
			drain(st, c, dir, false, ts);
			return;
		}
	}
	p = malloc(sizeof(*p) + captured);
	if (!p) {
		st->o.stats->gap_bytes += span;
		return;
	}
	p->pos = pos;
	p->span = span;
	p->captured = captured;
	p->ts = ts;
	memcpy(p->data, data, captured);
	for (pp = &d->queue; *pp && (*pp)->pos <= pos; pp = &(*pp)->next)
		;
	p->next = *pp;
	*pp = p;
	if (d->queued++ == 0) {
		st->waiting++;
		d->oldest_ts = ts;
	}
}

static void dir_feed(struct stream *st, struct conn *c, int dir, uint64_t pos,
		     uint64_t span, uint32_t captured, const uint8_t *data,
		     uint64_t ts, unsigned flags)
{
	struct dirstate *d = &c->d[dir];

	if (!d->started) {
		/* The probe saw accept/connect, so both directions start at
		 * 0; a connection first seen mid-stream starts at the record
		 * the probe marked as its first.  Records before that one
		 * arrives wait in the queue. */
		if (c->info.role != HS_ROLE_UNKNOWN) {
			d->started = true;
			d->next = 0;
		} else if (flags & HS_F_START) {
			d->started = true;
			d->next = pos;
		} else {
			enqueue(st, c, dir, pos, span, captured, data, ts);
			return;
		}
	}
	if (pos > d->next) {
		enqueue(st, c, dir, pos, span, captured, data, ts);
		return;
	}
	deliver(st, c, dir, pos, span, captured, data, ts);
	drain(st, c, dir, false, ts);
}

/* Delivers the one waiting record that is oldest across both
 * directions, declaring the hole before it lost: at a close, requests
 * and responses must reach the HTTP layer in the order they happened. */
static void force_oldest(struct stream *st, struct conn *c, uint64_t ts)
{
	struct pending *a = c->d[0].queue, *b = c->d[1].queue, *p;
	int dir = !a ? 1 : !b ? 0 : a->ts <= b->ts ? 0 : 1;
	struct dirstate *d = &c->d[dir];

	p = d->queue;
	d->queue = p->next;
	d->queued--;
	if (!d->queue)
		st->waiting--;
	else
		d->oldest_ts = oldest_arrival(d->queue);
	if (!d->started) {
		d->started = true;
		d->next = p->pos;
	}
	if (p->pos > d->next) {
		st->o.stats->gap_bytes += p->pos - d->next;
		if (c->http)
			http1_gap(c->http, dir, p->pos - d->next, ts);
		d->next = p->pos;
	}
	deliver(st, c, dir, p->pos, p->span, p->captured, p->data, p->ts);
	free(p);
}

static void conn_end(struct stream *st, struct conn *c, uint64_t ts,
		     const char *why)
{
	while (c->d[0].queue || c->d[1].queue)
		force_oldest(st, c, ts);
	if (c->http)
		http1_close(c->http, ts, why);
	conn_unlink(st, c);
	conn_free(st, c);
}

static struct conn *conn_new(struct stream *st, const struct hs_event *ev)
{
	struct conn *c;
	size_t b;

	if (st->count >= st->o.max_conns && st->lru_head) {
		st->o.stats->conns_evicted++;
		conn_end(st, st->lru_head, ev->ts_ns, "evicted: too many connections");
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->info.conn_id = ev->conn_id;
	c->info.cgroup_id = ev->cgroup_id;
	c->info.pid = ev->tgid;
	c->info.tid = ev->tid;
	c->info.fd = ev->fd;
	c->info.role = ev->role;
	c->info.tls = ev->flags & HS_F_TLS;
	memcpy(c->info.comm, ev->comm, HS_COMM_LEN);
	c->info.comm[HS_COMM_LEN] = '\0';
	c->info.local = ev->local;
	c->info.remote = ev->remote;
	if (st->o.admit && !st->o.admit(st->o.admit_ctx, &c->info, ev->flags))
		c->ignored = true;
	if (!c->ignored) {
		struct http1_opts ho = {
			.max_body = st->o.max_body,
			.emit = st->o.emit,
			.ctx = st->o.emit_ctx,
			.stats = st->o.stats,
			.pool = st->pool,
		};

		c->http = http1_new(&ho, &c->info);
		if (!c->http) {
			free(c);
			return NULL;
		}
	}
	b = bucket_of(st, c->info.conn_id);
	c->hnext = st->buckets[b];
	st->buckets[b] = c;
	b = bucket_of(st, c->info.pid);
	c->pnext = st->pid_buckets[b];
	if (c->pnext)
		c->pnext->pprev = &c->pnext;
	c->pprev = &st->pid_buckets[b];
	st->pid_buckets[b] = c;
	lru_push(st, c);
	st->count++;
	st->o.stats->conns++;
	return c;
}

int stream_check(const void *rec, size_t len)
{
	const struct hs_event *ev = rec;

	if (len < sizeof(*ev))
		return -EINVAL;
	if (ev->type < HS_EV_DATA || ev->type > HS_EV_EXEC)
		return -EINVAL;
	if (ev->type != HS_EV_DATA)
		return len == sizeof(*ev) ? 0 : -EINVAL;
	if (ev->dir > HS_DIR_RECV || ev->captured > HS_CHUNK_MAX ||
	    ev->captured > ev->span || len != sizeof(*ev) + ev->captured ||
	    ev->role > HS_ROLE_SERVER)
		return -EINVAL;
	return 0;
}

int stream_feed(struct stream *st, const void *rec, size_t len)
{
	const struct hs_event *ev = rec;
	struct conn *c;

	if (stream_check(rec, len)) {
		st->o.stats->bad_records++;
		return -EINVAL;
	}
	st->o.stats->events++;
	if (ev->type == HS_EV_EXEC)
		return 0; /* for the TLS library scan, not the streams */
	if (ev->type == HS_EV_EXIT) {
		struct conn *next;

		for (c = st->pid_buckets[bucket_of(st, ev->tgid)]; c; c = next) {
			next = c->pnext;
			if (c->info.pid == ev->tgid)
				conn_end(st, c, ev->ts_ns, "process exited");
		}
		return 0;
	}
	c = conn_find(st, ev->conn_id);
	if (ev->type == HS_EV_CLOSE) {
		if (c)
			conn_end(st, c, ev->ts_ns, "connection closed before a response");
		return 0;
	}
	st->o.stats->bytes += ev->captured;
	if (!c) {
		c = conn_new(st, ev);
		if (!c)
			return -ENOMEM;
	}
	c->last_ts = ev->ts_ns;
	lru_unlink(st, c);
	lru_push(st, c);
	if (c->ignored)
		return 0;
	if (c->info.local.family == 0 && ev->local.family != 0) {
		c->info.local = ev->local;
		c->info.remote = ev->remote;
	}
	dir_feed(st, c, ev->dir, ev->pos, ev->span, ev->captured,
		 (const uint8_t *)(ev + 1), ev->ts_ns, ev->flags);
	if (c->http && http1_upgraded(c->http))
		c->ignored = true; /* keep the entry: later bytes are not HTTP */
	return 0;
}

void stream_tick(struct stream *st, uint64_t now)
{
	struct conn *c, *next;

	if (st->waiting) {
		for (c = st->lru_head; c; c = c->lru_next) {
			for (int dir = 0; dir < 2; dir++) {
				struct dirstate *d = &c->d[dir];

				if (d->queue && now > d->oldest_ts + st->o.reorder_ns)
					drain(st, c, dir, true, now);
			}
		}
	}
	for (c = st->lru_head; c && now > c->last_ts + st->o.idle_ns; c = next) {
		next = c->lru_next;
		st->o.stats->conns_evicted++;
		conn_end(st, c, now, "connection idle");
	}
}

void stream_close_all(struct stream *st, uint64_t now, const char *why)
{
	while (st->lru_head)
		conn_end(st, st->lru_head, now, why);
}
