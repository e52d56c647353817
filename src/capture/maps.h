/* maps.h -- internal to the probe layer: the probe's tables as user space uses them: filters, arming, ignoring, sweeping and counters (probe.h's functions for them are in maps.c). */
#ifndef HS_MAPS_H
#define HS_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "capture/probe.h"

#define MAPS_MAX 64	  /* tables in a probe */
#define MAPS_NAME_LEN 130 /* a table's name, NUL included */

struct maps {
	struct {
		char name[MAPS_NAME_LEN];
		int fd;
	} t[MAPS_MAX];
	int n;
	int conns_fd; /* hs_conns, once maps_ready */
};

/* Keeps table `name` (an fd the compiling child sent).  0, or -E2BIG
 * when full. */
int maps_add(struct maps *m, const char *name, int fd);
/* The table `name`, or -1. */
int maps_fd(const struct maps *m, const char *name);
/* Once every table is in: fills the filters the options ask for.
 * Returns 0 or -EIO. */
int maps_ready(struct maps *m, const struct probe_opts *o);
/* Closes every table. */
void maps_close(struct maps *m);

#endif
