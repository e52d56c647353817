/* stream.c -- stream tracker: puts each connection's records in byte order, finds gaps, and feeds the protocol the registry detects.
 *
 * The probe numbers every byte per connection and direction, so order is
 * exact: a record at the expected offset is delivered at once, a later
 * one waits (bounded in count and time) for the hole before it, and a
 * hole that never fills becomes a gap the protocol is told about.
 *
 * Which protocol parses a connection is the registry's choice (proto.h),
 * made on its first bytes; until it is made, what arrives is held and
 * then replayed to the chosen one in the same pieces.  A protocol that
 * ends (an HTTP/1 upgrade) hands the rest of the connection to the one
 * its upgrade names, or, when none is registered, the connection's later
 * bytes are dropped.
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

/* What reaches a connection before its protocol is chosen: bytes per
 * direction, and the order of data and gaps, to replay.  At most
 * HELD_EVENTS events; past them the fallback protocol is taken. */
#define HELD_EVENTS 32
struct held {
	uint8_t *buf[2];
	size_t len[2], cap[2];
	struct held_ev {
		uint8_t dir;
		bool gap;
		uint64_t len, ts;
	} ev[HELD_EVENTS];
	size_t nev;
};

enum conn_state {
	C_DETECT, /* no protocol chosen yet */
	C_PARSE,  /* ops/proto parse it */
	C_LEFT,	  /* it left its protocol for one nobody parses */
};

/* Chains in each connection table at first (2 KB a table). */
#define STREAM_BUCKETS_MIN 256

/* Protocol switches one connection may make (a guard against two
 * protocols handing it to each other forever). */
#define SWITCH_MAX 4

/* What each record reads and writes comes first, in the 64 bytes the
 * lookup brings in: its chain, its LRU links (a neighbour's are written
 * too), its state and protocol; conn_id ends them.  (Allocated on a
 * cache line of its own, a connection took 65 bytes more of the heap.) */
struct conn {
	struct conn *hnext;		  /* hash chain, by conn_id */
	struct conn *lru_prev, *lru_next; /* by last activity */
	uint64_t last_ts;
	bool ignored;
	bool admit_again; /* admitted before its addresses were known */
	uint8_t state;	  /* enum conn_state */
	uint8_t switches; /* protocol switches so far */
	const struct proto_ops *ops; /* the protocol parsing it */
	void *proto;
	struct conn_info info;
	struct dirstate d[2];
	struct conn *pnext, **pprev;	/* hash chain, by process */
	const struct proto_ops *old_ops; /* the one it switched from,
					  * closed at the end for what it
					  * still owes */
	void *old;
	struct held *held; /* C_DETECT only, NULL until needed */
	struct hs_unix *unx; /* a Unix connection's names: info.unx */
};

struct stream {
	struct stream_opts o;
	/* Both tables have nbuckets chains, a power of two that doubles
	 * with the connections tracked (up to the first power of two at
	 * or past max_conns), so that they stay as small as the hot set:
	 * every record looks its connection up in buckets. */
	struct conn **buckets;
	struct conn **pid_buckets; /* so that an exit finds its process's
				    * connections without a walk of all */
	size_t nbuckets, max_buckets, count;
	struct conn *lru_head, *lru_tail; /* head = least recently active */
	size_t waiting; /* connections with queued records */
	struct proto_env env; /* what every protocol instance shares */
};

static size_t bucket_of(const struct stream *st, uint64_t id)
{
	return util_hash64(id) & (st->nbuckets - 1);
}

/* Puts c at the head of its chains in both tables. */
static void conn_hash(struct stream *st, struct conn *c)
{
	size_t b = bucket_of(st, c->info.conn_id);

	c->hnext = st->buckets[b];
	st->buckets[b] = c;
	b = bucket_of(st, c->info.pid);
	c->pnext = st->pid_buckets[b];
	if (c->pnext)
		c->pnext->pprev = &c->pnext;
	c->pprev = &st->pid_buckets[b];
	st->pid_buckets[b] = c;
}

/* Doubles both tables and moves every connection (all of them are on
 * the LRU list) into the new chains.  Without the memory the old
 * tables stay: their chains are only longer. */
static void grow_tables(struct stream *st)
{
	size_t n = st->nbuckets * 2;
	struct conn **b = calloc(n, sizeof(*b));
	struct conn **pb = calloc(n, sizeof(*pb));

	if (!b || !pb) {
		free(b);
		free(pb);
		return;
	}
	free(st->buckets);
	free(st->pid_buckets);
	st->buckets = b;
	st->pid_buckets = pb;
	st->nbuckets = n;
	for (struct conn *c = st->lru_head; c; c = c->lru_next)
		conn_hash(st, c);
}

struct stream *stream_new(const struct stream_opts *opts)
{
	struct stream *st = calloc(1, sizeof(*st));
	size_t n = STREAM_BUCKETS_MIN;

	if (!st)
		return NULL;
	st->o = *opts;
	while (n < opts->max_conns)
		n <<= 1;
	st->max_buckets = n;
	st->nbuckets = STREAM_BUCKETS_MIN;
	st->buckets = calloc(st->nbuckets, sizeof(*st->buckets));
	st->pid_buckets = calloc(st->nbuckets, sizeof(*st->pid_buckets));
	st->env = (struct proto_env){
		.max_body = opts->max_body,
		.stats = opts->stats,
		.emit = opts->emit,
		.pool = txn_pool_new(opts->max_body),
	};
	if (!st->buckets || !st->pid_buckets || !st->env.pool) {
		txn_pool_free(st->env.pool);
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

static void held_free(struct held *h)
{
	if (!h)
		return;
	free(h->buf[0]);
	free(h->buf[1]);
	free(h);
}

static void conn_free(struct stream *st, struct conn *c)
{
	queue_free(st, &c->d[0]);
	queue_free(st, &c->d[1]);
	held_free(c->held);
	if (c->old_ops)
		c->old_ops->free(c->old);
	if (c->ops)
		c->ops->free(c->proto);
	free(c->unx);
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
	txn_pool_free(st->env.pool);
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

/* --- the connection's protocol ------------------------------------- */

static void proto_data(struct stream *st, struct conn *c, int dir,
		       const uint8_t *data, size_t len, uint64_t ts);
static void proto_gap(struct stream *st, struct conn *c, int dir, uint64_t len,
		      uint64_t ts);

/* The connection left its protocol (data() said PROTO_SWITCH): the one
 * the upgrade names takes the rest, if it is registered; the old one is
 * kept for what it still owes (requests waiting) until the end. */
static void proto_switch(struct stream *st, struct conn *c, uint64_t ts)
{
	struct proto_switch sw = { .req_dir = -1, .ts = ts };
	const struct proto_ops *next = NULL;
	void *np;

	c->ops->switched(c->proto, &sw);
	if (sw.to_len && ++c->switches <= SWITCH_MAX)
		next = proto_by_upgrade(sw.to, sw.to_len);
	if (c->old_ops) {
		c->old_ops->close(c->old, ts, "connection switched protocols again");
		c->old_ops->free(c->old);
	}
	c->old_ops = c->ops;
	c->old = c->proto;
	c->ops = NULL;
	c->proto = NULL;
	c->state = C_LEFT;
	if (next && (np = next->new(&st->env, &c->info, &sw))) {
		c->ops = next;
		c->proto = np;
		c->state = C_PARSE;
	}
}

/* The connection is not its protocol after all (PROTO_NOT_MINE): the
 * instance reports what it owes and goes, and the connection is left. */
static void proto_drop(struct stream *st, struct conn *c, uint64_t ts)
{
	c->ops->close(c->proto, ts, "not this protocol");
	c->ops->free(c->proto);
	c->ops = NULL;
	c->proto = NULL;
	c->state = C_LEFT;
	if (st->o.ignore)
		st->o.ignore(st->o.admit_ctx, &c->info);
}

static void parse_data(struct stream *st, struct conn *c, int dir,
		       const uint8_t *data, size_t len, uint64_t ts)
{
	size_t used;
	int r;

	while ((r = c->ops->data(c->proto, dir, data, len, ts, &used)) != 0) {
		if (r == PROTO_NOT_MINE) {
			proto_drop(st, c, ts);
			return;
		}
		proto_switch(st, c, ts);
		if (c->state != C_PARSE || used >= len)
			return;
		data += used;
		len -= used;
	}
}

/* Starts ops on the connection and gives it what was held. */
static void proto_start(struct stream *st, struct conn *c,
			const struct proto_ops *ops)
{
	struct held *h = c->held;
	size_t off[2] = { 0, 0 };

	c->held = NULL;
	c->proto = ops->new(&st->env, &c->info, NULL);
	c->ops = c->proto ? ops : NULL;
	c->state = c->proto ? C_PARSE : C_LEFT;
	for (size_t i = 0; h && i < h->nev; i++) {
		const struct held_ev *e = &h->ev[i];

		if (e->gap) {
			proto_gap(st, c, e->dir, e->len, e->ts);
		} else {
			proto_data(st, c, e->dir, h->buf[e->dir] + off[e->dir], e->len, e->ts);
			off[e->dir] += e->len;
		}
	}
	held_free(h);
}

/* Holds an event until a protocol is chosen; false when out of room
 * (events) or memory, and the caller chooses now. */
static bool held_add(struct conn *c, int dir, const uint8_t *data, uint64_t len,
		     uint64_t ts)
{
	struct held *h = c->held;
	struct held_ev *e;

	if (!h && !(h = c->held = calloc(1, sizeof(*h))))
		return false;
	if (h->nev == HELD_EVENTS)
		return false;
	if (data && h->len[dir] + len > h->cap[dir]) {
		size_t cap = h->len[dir] + len;
		uint8_t *nb = realloc(h->buf[dir], cap);

		if (!nb)
			return false;
		h->buf[dir] = nb;
		h->cap[dir] = cap;
	}
	if (data) {
		memcpy(h->buf[dir] + h->len[dir], data, len);
		h->len[dir] += len;
	}
	e = &h->ev[h->nev++];
	*e = (struct held_ev){ .dir = dir, .gap = !data, .len = len, .ts = ts };
	return true;
}

static void detect_data(struct stream *st, struct conn *c, int dir,
			const uint8_t *data, size_t len, uint64_t ts)
{
	const struct proto_ops *ops;

	if (!c->held) {
		ops = proto_detect(data, len, dir, &c->info);
		if (ops) {
			proto_start(st, c, ops);
			proto_data(st, c, dir, data, len, ts);
			return;
		}
	}
	if (!held_add(c, dir, data, len, ts)) {
		proto_start(st, c, proto_fallback());
		proto_data(st, c, dir, data, len, ts);
		return;
	}
	ops = proto_detect(c->held->buf[dir], c->held->len[dir], dir, &c->info);
	if (ops)
		proto_start(st, c, ops);
}

static void proto_data(struct stream *st, struct conn *c, int dir,
		       const uint8_t *data, size_t len, uint64_t ts)
{
	if (c->state == C_PARSE)
		parse_data(st, c, dir, data, len, ts);
	else if (c->state == C_DETECT)
		detect_data(st, c, dir, data, len, ts);
}

static void proto_gap(struct stream *st, struct conn *c, int dir, uint64_t len,
		      uint64_t ts)
{
	if (c->state == C_PARSE) {
		c->ops->gap(c->proto, dir, len, ts);
	} else if (c->state == C_DETECT && !held_add(c, dir, NULL, len, ts)) {
		proto_start(st, c, proto_fallback());
		proto_gap(st, c, dir, len, ts);
	}
}

/* The connection ended: what was held goes to the fallback (bytes are
 * never dropped unparsed), then each protocol reports what it owes. */
static void proto_end(struct stream *st, struct conn *c, uint64_t ts,
		      const char *why)
{
	if (c->state == C_DETECT && c->held &&
	    (c->held->len[0] || c->held->len[1]))
		proto_start(st, c, proto_fallback());
	if (c->old_ops)
		c->old_ops->close(c->old, ts, why);
	if (c->ops)
		c->ops->close(c->proto, ts, why);
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
		if (c->state == C_PARSE) /* the common case, without a call */
			parse_data(st, c, dir, data + skip, captured - skip, ts);
		else
			proto_data(st, c, dir, data + skip, captured - skip, ts);
		skip = captured;
	}
	if (span > skip) {
		st->o.stats->gap_bytes += span - skip;
		proto_gap(st, c, dir, span - skip, ts);
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
		proto_gap(st, c, dir, hole, ts);
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
	if (d->queue) /* the usual case, in order, has nothing waiting */
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
		proto_gap(st, c, dir, p->pos - d->next, ts);
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
	proto_end(st, c, ts, why);
	conn_unlink(st, c);
	conn_free(st, c);
}

/* Asks the admission filter again once a TLS stream is tied to its socket
 * (its records carry the fd, and the addresses if the probe knows them;
 * the filter may find them in /proc otherwise).  A refused one is dropped
 * whole: what it parsed so far is not reported.  Returns true if it was
 * refused. */
static bool readmit(struct stream *st, struct conn *c, const struct hs_event *ev)
{
	c->admit_again = false;
	c->info.fd = ev->fd;
	if (ev->local.family != 0) {
		c->info.local = ev->local;
		c->info.remote = ev->remote;
	}
	if (c->info.role == HS_ROLE_UNKNOWN)
		c->info.role = ev->role;
	if (st->o.admit(st->o.admit_ctx, &c->info, ev->flags))
		return false;
	queue_free(st, &c->d[0]);
	queue_free(st, &c->d[1]);
	held_free(c->held);
	c->held = NULL;
	if (c->old_ops)
		c->old_ops->free(c->old);
	if (c->ops)
		c->ops->free(c->proto);
	c->old_ops = c->ops = NULL;
	c->old = c->proto = NULL;
	c->ignored = true;
	return true;
}

/* Attaches a Unix connection's names (owned from here on) to it; the
 * peer they name is the connection's peer. */
static void conn_set_unix(struct conn *c, struct hs_unix *u)
{
	if (!u)
		return;
	/* A recording is input like any other: lengths are clamped, and
	 * names are text only once resolved. */
	if (u->local_len > HS_UNIX_PATH_MAX)
		u->local_len = HS_UNIX_PATH_MAX;
	if (u->remote_len > HS_UNIX_PATH_MAX)
		u->remote_len = HS_UNIX_PATH_MAX;
	if (!u->resolved)
		u->local_len = u->remote_len = 0;
	free(c->unx);
	c->unx = u;
	c->info.unx = u;
	c->info.peer_pid = u->peer_pid;
	memcpy(c->info.peer_comm, u->peer_comm, HS_COMM_LEN);
	c->info.peer_comm[HS_COMM_LEN] = '\0';
}

/* A new connection, from its first record; a Unix connection's names
 * (unx, owned from here on, or NULL) come with it, so that admit sees
 * them. */
static struct conn *conn_new(struct stream *st, const struct hs_event *ev,
			     struct hs_unix *unx)
{
	struct conn *c;

	if (st->count >= st->o.max_conns && st->lru_head) {
		st->o.stats->conns_evicted++;
		conn_end(st, st->lru_head, ev->ts_ns, "evicted: too many connections");
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		free(unx);
		return NULL;
	}
	conn_set_unix(c, unx);
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
	/* A TLS stream keyed by its SSL object (fd -1) learns its socket
	 * when the probe ties the two: the filters, if any, are asked
	 * again then. */
	c->admit_again = st->o.admit && !c->ignored && ev->fd < 0 && ev->local.family == 0;
	if (st->count >= st->nbuckets && st->nbuckets < st->max_buckets)
		grow_tables(st);
	conn_hash(st, c);
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
	if (ev->type < HS_EV_DATA || ev->type > HS_EV_UNIX)
		return -EINVAL;
	if (ev->type == HS_EV_UNIX)
		return len == sizeof(*ev) + sizeof(struct hs_unix) &&
		       ev->captured == sizeof(struct hs_unix) &&
		       ev->role <= HS_ROLE_SERVER ? 0 : -EINVAL;
	if (ev->type != HS_EV_DATA)
		return len == sizeof(*ev) ? 0 : -EINVAL;
	if (ev->dir > HS_DIR_RECV || ev->captured > HS_CHUNK_MAX ||
	    ev->captured > ev->span || len != sizeof(*ev) + ev->captured ||
	    ev->role > HS_ROLE_SERVER)
		return -EINVAL;
	return 0;
}

/* An HS_EV_UNIX record: a Unix connection's names, which come before its
 * first bytes; the connection starts with them. */
static int unix_names(struct stream *st, struct conn *c, const struct hs_event *ev)
{
	struct hs_unix *u = malloc(sizeof(*u));

	if (!u)
		return -ENOMEM;
	memcpy(u, ev + 1, sizeof(*u));
	if (!c) {
		c = conn_new(st, ev, u);
		if (!c)
			return -ENOMEM;
		/* Active now: the idle sweep must not end it before its
		 * first bytes come. */
		c->last_ts = ev->ts_ns;
		return 0;
	}
	conn_set_unix(c, u);
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
	if (ev->type == HS_EV_UNIX)
		return unix_names(st, c, ev);
	if (ev->type == HS_EV_CLOSE) {
		if (c)
			conn_end(st, c, ev->ts_ns, "connection closed before a response");
		return 0;
	}
	st->o.stats->bytes += ev->captured;
	if (!c) {
		c = conn_new(st, ev, NULL);
		if (!c)
			return -ENOMEM;
	}
	c->last_ts = ev->ts_ns;
	if (c != st->lru_tail) {
		lru_unlink(st, c);
		lru_push(st, c);
	}
	if (c->ignored)
		return 0;
	if (c->admit_again && ev->fd >= 0 && readmit(st, c, ev))
		return 0;
	if (c->info.local.family == 0 && ev->local.family != 0) {
		c->info.local = ev->local;
		c->info.remote = ev->remote;
		if (c->info.role == HS_ROLE_UNKNOWN)
			c->info.role = ev->role;
	}
	dir_feed(st, c, ev->dir, ev->pos, ev->span, ev->captured,
		 (const uint8_t *)(ev + 1), ev->ts_ns, ev->flags);
	if (c->state == C_LEFT)
		c->ignored = true; /* keep the entry: later bytes are not parsed */
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
