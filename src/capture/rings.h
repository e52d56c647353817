/* rings.h -- internal to the probe layer: BPF ring buffers read in place, one per CPU, their records handed over in time order. */
#ifndef HS_RINGS_H
#define HS_RINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/probe.h"

/* One BPF ring buffer as the kernel lays it out (Documentation/bpf/
 * ringbuf.rst): a page with the consumer's position, which the reader
 * writes, and a page with the producer's, followed by the data.  Each
 * record has an 8-byte header: its length, with a bit for "still being
 * written" and one for "discarded".  A record stays in the ring, where
 * the callback reads it, until the consumer's position passes it.
 *
 * The kernel offers the data mapped twice in a row, so that a record
 * that wraps reads straight on; every page of a mapping counts in the
 * reader's RSS, so it is mapped once here, and the rare record that
 * wraps is copied whole into `bounce`. */
struct ring {
	unsigned long *cons_pos;       /* shared with the kernel */
	const unsigned long *prod_pos; /* shared with the kernel */
	const uint8_t *data;	       /* size bytes */
	size_t mask;		       /* size - 1 (a power of two) */
	unsigned long cons;	       /* where the next record is */
	unsigned long prod;	       /* the producer's position, as read */
	/* The record at cons, when `ready`: */
	const uint8_t *head;
	uint32_t head_len;
	uint64_t head_ts;
	bool ready;
	uint8_t *bounce; /* a record that wraps, copied whole */
	size_t bounce_cap;
	uint64_t dropped; /* records that wrapped when bounce could not
			   * grow (out of memory) */
	/* What ring_map() mapped (NULL for rings made by hand). */
	void *map_cons, *map_prod;
	size_t map_prod_len;
};

/* Maps the ring buffer map fd (size bytes of data, a power of two pages)
 * into r.  0 or -errno. */
int ring_map(struct ring *r, int fd, size_t size);
/* Unmaps r and frees its bounce buffer (for a ring made by hand, only
 * that). */
void ring_unmap(struct ring *r);

/* Hands fn, in time order (hs_event.ts_ns; a record too short for one
 * counts as time 0, ties go to the lower ring), every record of rings[0..n)
 * that is written in full and stamped before `before`, and moves each
 * ring's consumer position past what it handed over.  A record stamped
 * later, and those after it in its ring, wait for the next call; *pending
 * says whether any is left so.  Returns how many were handed over.
 *
 * With `before` the time the call began, the order is the one the records
 * must have: a record that must come before another (a request before its
 * response, data before the close) was in its ring before the other's
 * syscall began, which is before `before` when the other is handed over. */
int rings_merge(struct ring *rings, int n, uint64_t before,
		probe_record_fn fn, void *ctx, bool *pending);

#endif
