/* prof.h -- what the profiler's sinks share: a transaction's facts and its route, worked out once per transaction, in one route table. */
#ifndef HS_PROF_H
#define HS_PROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/txn.h"
#include "prof/endpoint.h"
#include "prof/facts.h"
#include "prof/route.h"

/* Gathers what the filters and tables read of t (its slices stay t's). */
void prof_facts(const struct txn *t, struct txn_facts *f);

/* The summary, top and metrics sinks each keep their tables, since the
 * display filters stand in front of some of them and not of others;
 * they share the route table (one bound, one {other}) and the work of
 * each transaction: prof_observe() is asked for the same transaction by
 * each sink in turn, and answers the later ones from memory.
 *
 * prof_get() returns the one profiler (made at the first call, with the
 * patterns, which were checked when the options were read, and the
 * bound); each prof_get() is matched by a prof_put(), the last of which
 * frees it.  NULL when out of memory. */
struct prof;
struct prof *prof_get(const char *const *patterns, size_t npatterns,
		      size_t max_routes);
void prof_put(struct prof *p);

/* o for t (route included); false when t has no request (no table
 * records it). */
bool prof_observe(struct prof *p, const struct txn *t, struct endpoint_obs *o);

const struct route_table *prof_routes(const struct prof *p);

#endif
