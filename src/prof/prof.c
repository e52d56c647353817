/* prof.c -- what the profiler's sinks share: a transaction's facts and its route, worked out once per transaction, in one route table. */
#include "prof/prof.h"

#include <stdlib.h>
#include <string.h>

struct prof {
	struct route_table *routes;
	unsigned refs;
	/* The last transaction observed.  Transactions come from a pool,
	 * so an address is reused: the connection and the messages' times
	 * tell two apart (one connection's messages never share a first
	 * byte). */
	const struct txn *last;
	uint64_t last_conn, last_req_ts, last_resp_ts;
	bool last_ok;
	struct endpoint_obs obs;
};

static struct prof *prof_one;

void prof_facts(const struct txn *t, struct txn_facts *f)
{
	const struct http_msg *rq = &t->req, *rs = &t->resp;

	memset(f, 0, sizeof(*f));
	f->side = t->conn.role;
	if (t->grpc) {
		f->proto = FACTS_GRPC;
		f->grpc_status = t->grpc->status;
	} else if (t->proto == TXN_H2) {
		f->proto = FACTS_H2;
	} else {
		f->proto = rq->present ? (rq->version_major == 1 && rq->version_minor == 0 ?
						  FACTS_HTTP10 : FACTS_HTTP11) :
					 (rs->version_minor == 0 ? FACTS_HTTP10 : FACTS_HTTP11);
	}
	f->comm = t->conn.comm;
	f->container = t->conn.container_id;
	if (rq->present && rq->buf) {
		f->method = http_str(rq, rq->method_off);
		f->method_len = rq->method_len;
		f->target = http_str(rq, rq->target_off);
		f->target_len = rq->target_len;
		f->host = http_msg_header(rq, "Host", &f->host_len);
		if (!f->host && t->proto == TXN_H2) /* RFC 9113 section 8.3.1 */
			f->host = http_msg_header(rq, ":authority", &f->host_len);
		f->req_bytes = rq->body_size;
	}
	if (rs->present) {
		f->status = rs->status;
		f->resp_bytes = rs->body_size;
	}
	f->has_latency = txn_latency(t, &f->latency_ns);
}

struct prof *prof_get(const char *const *patterns, size_t npatterns,
		      size_t max_routes)
{
	struct prof *p = prof_one;

	if (p) {
		p->refs++;
		return p;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->routes = route_table_new(max_routes);
	if (!p->routes) {
		free(p);
		return NULL;
	}
	for (size_t i = 0; i < npatterns; i++) {
		if (route_add_pattern(p->routes, patterns[i])) {
			route_table_free(p->routes);
			free(p);
			return NULL;
		}
	}
	p->refs = 1;
	prof_one = p;
	return p;
}

void prof_put(struct prof *p)
{
	if (!p || --p->refs)
		return;
	route_table_free(p->routes);
	free(p);
	prof_one = NULL;
}

/* A gRPC call's route is its :path without the query, as it is
 * ("/package.Service/Method"); anything else's goes by the patterns
 * and the heuristic. */
static uint32_t prof_route(struct route_table *r, const struct txn_facts *f)
{
	const char *p;
	size_t n;

	if (f->proto == FACTS_GRPC && route_path(f->target, f->target_len, &p, &n) && n)
		return route_lookup_name(r, p, n);
	return route_lookup(r, f->target, f->target_len);
}

bool prof_observe(struct prof *p, const struct txn *t, struct endpoint_obs *o)
{
	struct txn_facts f;

	if (t == p->last && t->conn.conn_id == p->last_conn &&
	    t->req.first_ts == p->last_req_ts && t->resp.last_ts == p->last_resp_ts) {
		*o = p->obs;
		return p->last_ok;
	}
	prof_facts(t, &f);
	p->last = t;
	p->last_conn = t->conn.conn_id;
	p->last_req_ts = t->req.first_ts;
	p->last_resp_ts = t->resp.last_ts;
	p->last_ok = f.method && endpoint_observe(&p->obs, &f, prof_route(p->routes, &f));
	*o = p->obs;
	return p->last_ok;
}

const struct route_table *prof_routes(const struct prof *p)
{
	return p->routes;
}
