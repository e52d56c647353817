/* buffer.h -- internal to the probe layer: the records' way from the kernel, a BPF ring buffer or per-CPU perf buffers, behind one poll interface (probe_poll, probe_flush). */
#ifndef HS_BUFFER_H
#define HS_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/probe.h"

struct buffer;

/* Records a CPU writes between two wake-ups of the reader, on perf
 * buffers (their wakeup_events; ring buffers count bytes instead, see
 * wakeup_bytes() in probe.c: an edited probe of an older version still
 * has this as HS_WAKEUP_EVERY).  Each wake-up costs an irq_work and a
 * context switch: at one a record, the perf buffers cost about four
 * times the ring buffer's CPU per transaction. */
#define BUFFER_WAKEUP_EVERY 256

/* The size of each ring buffer when ncpu CPUs have one of their own:
 * twice kb KiB shared between them, kb at most each, a power of two
 * pages (ncpu 1: kb). */
size_t buffer_ring_bytes(unsigned kb, unsigned ncpu);

/* Opens the probe's hs_events table (map_fd) as a ring buffer; or, with
 * rings_fd >= 0 (the probe's hs_rings), makes a ring buffer for each of
 * ncpu CPUs, twice kb KiB shared between them and kb at most each, and
 * puts them there; or, with ringbuf false,
 * opens hs_events as one perf buffer per CPU of about kb / CPUs KiB each,
 * waking the reader every BUFFER_WAKEUP_EVERY records, then the hs_urgent
 * table (urgent_fd) as small perf buffers that wake it on each record.
 * urgent_fd < 0 (a probe without hs_urgent, or ring buffers): hs_events
 * wakes it on each record.  Records go to fn in the order they happened.
 * NULL on failure, after saying why. */
struct buffer *buffer_open(int map_fd, int urgent_fd, int rings_fd, unsigned ncpu,
			   bool ringbuf, unsigned kb, probe_record_fn fn, void *ctx);
/* Records lost on the way: those the kernel dropped for want of room in
 * a perf buffer, and those that wrapped around a ring buffer's end when
 * there was no memory to copy them (a ring buffer's want of room is
 * counted by the probe itself). */
uint64_t buffer_lost(const struct buffer *b);
/* Accepts NULL. */
void buffer_close(struct buffer *b);

#endif
