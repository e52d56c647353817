/* hist.h -- latency histogram: log-linear buckets (HdrHistogram-style), percentiles within 1%, merge and reset. */
#ifndef HS_HIST_H
#define HS_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values (ns) below 2^HIST_SUB_BITS are kept exactly; above, every
 * power of two is cut into 2^HIST_SUB_BITS equal buckets, so a bucket is
 * at most 1/64 of its lower bound wide.  A percentile is reported as the
 * middle of its bucket (clamped to the values seen), hence within
 * HIST_REL_ERROR of the exact value: half a bucket over its lower bound,
 * 1/128 = 0.78%.  That holds up to HIST_MAX_VALUE; larger values are
 * counted in the last bucket (max stays exact). */
#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)		       /* buckets per octave */
#define HIST_MAX_BITS 42			       /* 2^42 ns = 73 min */
#define HIST_MAX_VALUE ((UINT64_C(1) << HIST_MAX_BITS) - 1)
#define HIST_NBUCKETS ((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB) /* 2368 */
#define HIST_REL_ERROR (1.0 / (2 * HIST_SUB))	       /* 0.0078 */

/* Buckets are allocated in chunks of HIST_SUB (one octave), as one
 * window [lo, hi) of chunks that grows to cover the values seen: an
 * endpoint whose latencies span 8 octaves holds 8 * 256 bytes; the worst
 * case is HIST_NCHUNKS * 256 = 9,472 bytes. */
#define HIST_NCHUNKS (HIST_NBUCKETS / HIST_SUB)

struct hist {
	uint64_t count;	 /* values recorded */
	uint64_t sum;	 /* their sum in ns (saturates at UINT64_MAX) */
	uint64_t min, max; /* exact; min is UINT64_MAX when count is 0 */
	uint64_t nb;	 /* sum of the bucket counts: count, unless a
			  * bucket would have passed 2^32 and all were
			  * halved (the ranks then keep their proportions) */
	uint32_t *b;	 /* owned; counts of chunks [lo, hi) */
	uint8_t lo, hi;	 /* window of chunks; hi == 0 before the first */
};

/* A zeroed struct hist is not ready: call hist_init().  hist_free()
 * gives the buckets back and leaves h as after hist_init(). */
void hist_init(struct hist *h);
void hist_free(struct hist *h);

/* Index of v's bucket, and the smallest and largest value it holds. */
static inline unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	if (v > HIST_MAX_VALUE)
		v = HIST_MAX_VALUE;
	e = 63 - __builtin_clzll(v); /* v's top bit, >= HIST_SUB_BITS */
	return ((e - HIST_SUB_BITS + 1) << HIST_SUB_BITS) +
	       (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}
uint64_t hist_bucket_low(unsigned idx);
uint64_t hist_bucket_high(unsigned idx);

/* Grows the window (rarely: a value in a new octave); returns 0 or
 * -ENOMEM (the value is then counted in count, sum, min and max only). */
int hist_grow(struct hist *h, unsigned chunk);
void hist_halve(struct hist *h);

/* Records one value (ns).  Inline: it runs once per transaction. */
static inline void hist_record(struct hist *h, uint64_t v)
{
	unsigned i = hist_index(v), c = i >> HIST_SUB_BITS;
	uint32_t *p;

	h->count++;
	h->sum = h->sum + v < h->sum ? UINT64_MAX : h->sum + v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	if ((c < h->lo || c >= h->hi) && hist_grow(h, c))
		return;
	p = &h->b[i - ((unsigned)h->lo << HIST_SUB_BITS)];
	if (*p == UINT32_MAX) {
		hist_halve(h);
		p = &h->b[i - ((unsigned)h->lo << HIST_SUB_BITS)];
	}
	(*p)++;
	h->nb++;
}

/* The value at percentile p (0 < p <= 100), by nearest rank: the
 * smallest recorded value v such that at least p% of the values are <=
 * v, within HIST_REL_ERROR; p = 100 gives max exactly.  0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);

/* Adds src's values to dst.  Returns 0 or -ENOMEM (dst is then
 * unchanged). */
int hist_merge(struct hist *dst, const struct hist *src);

/* Forgets every value but keeps the buckets' memory for reuse. */
void hist_reset(struct hist *h);

/* Bytes of bucket memory h holds. */
size_t hist_mem(const struct hist *h);

#endif
