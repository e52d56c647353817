/* timer.c -- periodic work as a table of timed callbacks (after redis's aeCreateTimeEvent): each runs once its period has passed since it last ran. */
#include "app/timer.h"

void timers_start(struct timer *t, size_t n, uint64_t now)
{
	for (size_t i = 0; i < n; i++)
		t[i].last = t[i].at_start ? 0 : now;
}

void timers_run(struct timer *t, size_t n, void *ctx, uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t since = now - t[i].last;

		if (t[i].period_ns && since <= t[i].period_ns)
			continue;
		if (t[i].fn(ctx, now, since))
			t[i].last = now;
	}
}
