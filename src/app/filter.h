/* filter.h -- which connections -P and --unix keep: TCP ones by port, Unix ones by path. */
#ifndef HS_APP_FILTER_H
#define HS_APP_FILTER_H

#include <stdbool.h>

#include "app/options.h"
#include "core/txn.h"

/* -P: whether a connection is on a wanted port (true without -P). */
bool app_port_wanted(const struct options *o, const struct conn_info *c);
/* --unix: whether a Unix connection's path is wanted. */
bool app_unix_wanted(const struct options *o, const struct conn_info *c);
/* -P and --unix together: a TCP connection must pass -P, a Unix one
 * --unix; when only one is given, the other kind of connection is not
 * wanted; when neither is, every connection is. */
bool app_conn_wanted(const struct options *o, const struct conn_info *c);

#endif
