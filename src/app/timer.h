/* timer.h -- periodic work as a table of timed callbacks (after redis's aeCreateTimeEvent): each runs once its period has passed since it last ran. */
#ifndef HS_TIMER_H
#define HS_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timer {
	const char *name;
	uint64_t period_ns; /* 0: at every turn of the loop */
	/* The work, at now; since: ns since it last ran.  Returns false
	 * when it had nothing to do yet: it is asked again at the next
	 * turn, and its period does not start over. */
	bool (*fn)(void *ctx, uint64_t now, uint64_t since);
	bool at_start; /* first due at the first turn, not one period
			* after timers_start() */
	uint64_t last; /* when it last ran (timers_start sets it) */
};

/* Starts the table's clocks at now (CLOCK_MONOTONIC ns). */
void timers_start(struct timer *t, size_t n, uint64_t now);
/* Runs, in table order, each timer whose period has passed. */
void timers_run(struct timer *t, size_t n, void *ctx, uint64_t now);

#endif
