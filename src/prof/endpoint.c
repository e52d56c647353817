/* endpoint.c -- endpoint table: transactions aggregated by side, process, protocol, method and route, in bounded memory. */
#include "prof/endpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "event.h"
#include "core/util.h"

const double endpoint_dur_bounds[ENDPOINT_NDUR] = {
	0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
};
/* The same in ns, for the comparisons per transaction. */
static const uint64_t endpoint_dur_ns[ENDPOINT_NDUR] = {
	5000000, 10000000, 25000000, 50000000, 75000000, 100000000,
	250000000, 500000000, 750000000, 1000000000, 2500000000ULL,
	5000000000ULL, 7500000000ULL, 10000000000ULL,
};
const uint64_t endpoint_size_bounds[ENDPOINT_NSIZE] = {
	0, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192,
};

static const char *const endpoint_methods[EM_NMETHODS] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
	"TRACE", "PATCH", "_OTHER",
};

struct endpoint_table {
	unsigned flags;
	size_t max;		/* rows before the overflow rows */
	struct endpoint *rows;	/* owned, dense */
	size_t nrows, cap;
	uint32_t *slots;	/* row index + 1, 0 when free */
	size_t nslots;		/* power of two, at least twice nrows */
	uint64_t overflow, dropped;
};

const char *endpoint_method_name(uint8_t m)
{
	return m < EM_NMETHODS ? endpoint_methods[m] : "_OTHER";
}

const char *endpoint_side_name(uint8_t side)
{
	return side == HS_ROLE_CLIENT ? "client" :
	       side == HS_ROLE_SERVER ? "server" : "unknown";
}

const char *endpoint_proto_name(uint8_t proto)
{
	static const char *const names[FACTS_NPROTO] = {
		"http/1.0", "http/1.1", "h2", "grpc",
	};

	return proto < FACTS_NPROTO ? names[proto] : "?";
}

/* Method names are matched exactly: RFC 9110 section 9.1 makes them
 * case-sensitive. */
static uint8_t endpoint_method_of(const char *m, size_t n)
{
	for (uint8_t i = 0; i < EM_OTHER; i++)
		if (strlen(endpoint_methods[i]) == n && !memcmp(endpoint_methods[i], m, n))
			return i;
	return EM_OTHER;
}

bool endpoint_observe(struct endpoint_obs *o, const struct txn_facts *f,
		      uint32_t route)
{
	const char *c;
	size_t i;

	if (!f->method)
		return false;
	memset(o, 0, sizeof(*o));
	o->key.route = route;
	o->key.side = f->side;
	o->key.proto = f->proto;
	o->key.method = endpoint_method_of(f->method, f->method_len);
	for (i = 0, c = f->comm; c && c[i] && i < ENDPOINT_COMM_LEN - 1; i++) {
		unsigned char ch = (unsigned char)c[i];

		o->key.comm[i] = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' ? (char)ch : '?';
	}
	for (i = 0, c = f->container; c && c[i] && i < ENDPOINT_CONTAINER_LEN - 1; i++) {
		unsigned char ch = (unsigned char)c[i];

		o->key.container[i] = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ? (char)ch : '?';
	}
	o->status = f->status;
	/* gRPC carries its outcome in grpc-status; the HTTP status is
	 * 200 for failed calls too (grpc/doc/PROTOCOL-HTTP2.md). */
	o->grpc_status = f->proto == FACTS_GRPC ? f->grpc_status : -1;
	o->error = f->proto == FACTS_GRPC ? f->grpc_status != 0 :
		   f->status <= 0 || (f->status >= 500 && f->status < 600);
	o->has_latency = f->has_latency;
	o->latency_ns = f->latency_ns;
	o->req_bytes = f->req_bytes;
	o->resp_bytes = f->resp_bytes;
	return true;
}

static uint64_t endpoint_hash(const struct endpoint_key *k)
{
	uint64_t w[6] = { 0 }, h;

	memcpy(w, k, sizeof(*k));
	/* independent multiplies, one finalizer */
	h = w[0] * 0x9e3779b97f4a7c15ULL + w[1] * 0xc2b2ae3d27d4eb4fULL +
	    w[2] * 0x165667b19e3779f9ULL + w[3] * 0x27d4eb2f165667c5ULL +
	    w[4] * 0xff51afd7ed558ccdULL + w[5] * 0xc4ceb9fe1a85ec53ULL;
	return util_hash64(h ^ (h >> 31));
}

static int endpoint_rehash(struct endpoint_table *t, size_t nslots)
{
	uint32_t *s = calloc(nslots, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t r = 0; r < t->nrows; r++) {
		size_t i = endpoint_hash(&t->rows[r].key) & (nslots - 1);

		while (s[i])
			i = (i + 1) & (nslots - 1);
		s[i] = (uint32_t)r + 1;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = nslots;
	return 0;
}

struct endpoint_table *endpoint_table_new(size_t max, unsigned flags)
{
	struct endpoint_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->flags = flags;
	t->max = max;
	if (endpoint_rehash(t, 64)) {
		free(t);
		return NULL;
	}
	return t;
}

static void endpoint_free_row(struct endpoint *e)
{
	hist_free(&e->lat);
	hist_free(&e->lat_cur);
	hist_free(&e->lat_last);
	free(e->buckets);
	free(e->grpc);
}

void endpoint_table_free(struct endpoint_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows; i++)
		endpoint_free_row(&t->rows[i]);
	free(t->rows);
	free(t->slots);
	free(t);
}

/* The row of key k, made if need be; NULL when out of memory or when the
 * table is full and make_full is false. */
static struct endpoint *endpoint_get(struct endpoint_table *t,
				     const struct endpoint_key *k, bool make_full)
{
	uint64_t h = endpoint_hash(k);
	size_t i;
	struct endpoint *e;

	for (i = h & (t->nslots - 1); t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
		e = &t->rows[t->slots[i] - 1];
		if (!memcmp(&e->key, k, sizeof(*k)))
			return e;
	}
	if (t->nrows >= t->max && !make_full)
		return NULL;
	if ((t->nrows + 1) * 2 > t->nslots) {
		if (endpoint_rehash(t, t->nslots * 2))
			return NULL;
		for (i = h & (t->nslots - 1); t->slots[i]; i = (i + 1) & (t->nslots - 1))
			;
	}
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct endpoint *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return NULL;
		t->rows = rows;
		t->cap = cap;
	}
	e = &t->rows[t->nrows];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	hist_init(&e->lat);
	hist_init(&e->lat_cur);
	hist_init(&e->lat_last);
	if (t->flags & ENDPOINT_BUCKETS) {
		e->buckets = calloc(1, sizeof(*e->buckets));
		if (!e->buckets)
			return NULL;
	}
	if (k->proto == FACTS_GRPC) {
		e->grpc = calloc(ENDPOINT_GRPC_NCOUNTS, sizeof(*e->grpc));
		if (!e->grpc) {
			free(e->buckets);
			return NULL;
		}
	}
	t->slots[i] = (uint32_t)++t->nrows;
	return e;
}

static unsigned endpoint_bucket(const uint64_t *bounds, unsigned n, uint64_t v)
{
	unsigned lo = 0, hi = n;

	/* The first bound >= v (Prometheus buckets are le). */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (bounds[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void endpoint_record(struct endpoint_table *t, const struct endpoint_obs *o)
{
	struct endpoint_key k = o->key;
	struct endpoint *e;
	int st = o->status, gs = o->grpc_status;

	if ((t->flags & ENDPOINT_BY_STATUS) && k.proto == FACTS_GRPC)
		k.status = gs >= 0 && gs < ENDPOINT_GRPC_NONE ? (uint16_t)gs : ENDPOINT_GRPC_NONE;
	else if (t->flags & ENDPOINT_BY_STATUS)
		k.status = st > 0 && st <= 999 ? (uint16_t)st : 0;
	e = endpoint_get(t, &k, false);
	if (!e && t->nrows >= t->max) {
		memset(&k, 0, sizeof(k));
		k.side = o->key.side;
		k.proto = o->key.proto;
		k.route = ROUTE_OTHER;
		k.method = EM_OTHER;
		memcpy(k.comm, ENDPOINT_OTHER_COMM, sizeof(ENDPOINT_OTHER_COMM));
		if ((t->flags & ENDPOINT_BY_STATUS) && k.proto == FACTS_GRPC)
			k.status = ENDPOINT_GRPC_NONE;
		t->overflow++;
		e = endpoint_get(t, &k, true);
	}
	if (!e) {
		t->dropped++;
		return;
	}
	e->count++;
	e->errors += o->error;
	e->status[st <= 0 ? 0 : st < 600 && st >= 100 ? st / 100 : 6]++;
	if (e->grpc)
		e->grpc[gs < 0 ? ENDPOINT_GRPC_NOSTATUS :
			gs < ENDPOINT_GRPC_CODES ? gs : ENDPOINT_GRPC_OTHER]++;
	e->req_bytes += o->req_bytes;
	e->resp_bytes += o->resp_bytes;
	if (o->has_latency)
		e->time_ns = e->time_ns + o->latency_ns < e->time_ns ?
				     UINT64_MAX : e->time_ns + o->latency_ns;
	if (t->flags & ENDPOINT_INTERVAL) {
		e->count_cur++;
		e->errors_cur += o->error;
		if (o->has_latency)
			hist_record(&e->lat_cur, o->latency_ns);
	} else if ((t->flags & ENDPOINT_PERCENTILES) && o->has_latency) {
		hist_record(&e->lat, o->latency_ns);
	}
	if (e->buckets) {
		struct endpoint_buckets *b = e->buckets;

		if (o->has_latency) {
			b->dur[endpoint_bucket(endpoint_dur_ns, ENDPOINT_NDUR, o->latency_ns)]++;
			b->dur_count++;
			b->dur_sum_ns += o->latency_ns;
		}
		b->req[endpoint_bucket(endpoint_size_bounds, ENDPOINT_NSIZE, o->req_bytes)]++;
		b->resp[endpoint_bucket(endpoint_size_bounds, ENDPOINT_NSIZE, o->resp_bytes)]++;
	}
}

void endpoint_tick(struct endpoint_table *t)
{
	if (!(t->flags & ENDPOINT_INTERVAL))
		return;
	for (size_t i = 0; i < t->nrows; i++) {
		struct endpoint *e = &t->rows[i];
		struct hist h;

		/* A failed merge leaves the interval out of the since-start
		 * percentiles only; count and errors stay exact. */
		if (hist_merge(&e->lat, &e->lat_cur))
			t->dropped += e->lat_cur.count;
		h = e->lat_last;
		e->lat_last = e->lat_cur;
		e->lat_cur = h;
		hist_reset(&e->lat_cur);
		e->count_last = e->count_cur;
		e->errors_last = e->errors_cur;
		e->count_cur = e->errors_cur = 0;
	}
}

size_t endpoint_count(const struct endpoint_table *t)
{
	return t->nrows;
}

const struct endpoint *endpoint_at(const struct endpoint_table *t, size_t i)
{
	return i < t->nrows ? &t->rows[i] : NULL;
}

uint64_t endpoint_overflow(const struct endpoint_table *t)
{
	return t->overflow;
}

uint64_t endpoint_dropped(const struct endpoint_table *t)
{
	return t->dropped;
}

const struct hist *endpoint_latency(const struct endpoint_table *t,
				    const struct endpoint *e,
				    struct hist *scratch)
{
	if (!(t->flags & ENDPOINT_INTERVAL) || !e->lat_cur.count)
		return &e->lat;
	hist_reset(scratch);
	if (hist_merge(scratch, &e->lat) || hist_merge(scratch, &e->lat_cur))
		return &e->lat;
	return scratch;
}

/* ---- sorted views ---- */

struct endpoint_rank {
	const struct endpoint *e;
	uint64_t k1, k2; /* sort keys, highest first */
};

static int endpoint_rank_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct endpoint_rank *a = pa, *b = pb;
	const struct route_table *routes = ctx;
	int c;

	if (a->k1 != b->k1)
		return a->k1 > b->k1 ? -1 : 1;
	if (a->k2 != b->k2)
		return a->k2 > b->k2 ? -1 : 1;
	if (a->e->count != b->e->count)
		return a->e->count > b->e->count ? -1 : 1;
	if (routes) {
		c = strcmp(route_name(routes, a->e->key.route),
			   route_name(routes, b->e->key.route));
		if (c)
			return c;
	}
	return memcmp(&a->e->key, &b->e->key, sizeof(a->e->key));
}

size_t endpoint_sorted(const struct endpoint_table *t, enum endpoint_sort by,
		       const struct route_table *routes,
		       const struct endpoint **out, size_t n)
{
	struct endpoint_rank *r;
	struct hist scratch;

	if (!t->nrows || !n)
		return 0;
	r = malloc(t->nrows * sizeof(*r));
	if (!r)
		return 0;
	hist_init(&scratch);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct endpoint *e = &t->rows[i];

		r[i].e = e;
		switch (by) {
		case ES_TIME:
			r[i].k1 = e->time_ns;
			r[i].k2 = 0;
			break;
		case ES_RATE:
			r[i].k1 = e->count_last;
			r[i].k2 = e->count;
			break;
		case ES_P99:
			r[i].k1 = hist_percentile(&e->lat_last, 99);
			r[i].k2 = hist_percentile(endpoint_latency(t, e, &scratch), 99);
			break;
		case ES_ERRORS:
			r[i].k1 = e->errors_last;
			r[i].k2 = e->errors;
			break;
		}
	}
	hist_free(&scratch);
	qsort_r(r, t->nrows, sizeof(*r), endpoint_rank_cmp, (void *)routes);
	if (n > t->nrows)
		n = t->nrows;
	for (size_t i = 0; i < n; i++)
		out[i] = r[i].e;
	free(r);
	return n;
}
