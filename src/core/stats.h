/* stats.h -- user-space counters, printed at exit so that nothing is lost silently. */
#ifndef HS_STATS_H
#define HS_STATS_H

#include <stdint.h>

struct stats {
	uint64_t events;	   /* records received */
	uint64_t bytes;		   /* payload bytes received */
	uint64_t txns;		   /* transactions written */
	uint64_t unpaired_reqs;	   /* requests that never got a response */
	uint64_t unpaired_resps;   /* responses with no request */
	uint64_t parse_errors;	   /* messages the parser rejected */
	uint64_t gap_bytes;	   /* stream bytes never seen by user space */
	uint64_t resync_bytes;	   /* bytes skipped looking for a message */
	uint64_t conns;		   /* connections tracked */
	uint64_t conns_evicted;	   /* dropped for the table cap or idleness */
	uint64_t reorder_overflow; /* out-of-order queues that hit their cap */
	uint64_t upgrades;	   /* connections that left HTTP/1 */
	uint64_t not_sockets;	   /* fds found not to be sockets */
	uint64_t filtered;	   /* connections dropped by -P in user space
				    * (or found open on other ports at start) */
	uint64_t bad_records;	   /* malformed records (replay input) */
};

#endif
