/* hist.c -- latency histogram: log-linear buckets (HdrHistogram-style), percentiles within 1%, merge and reset. */
#include "prof/hist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void hist_free(struct hist *h)
{
	if (!h)
		return;
	free(h->b);
	hist_init(h);
}

uint64_t hist_bucket_low(unsigned idx)
{
	unsigned c = idx >> HIST_SUB_BITS;

	if (c == 0)
		return idx;
	return (uint64_t)(HIST_SUB + (idx & (HIST_SUB - 1))) << (c - 1);
}

uint64_t hist_bucket_high(unsigned idx)
{
	unsigned c = idx >> HIST_SUB_BITS;

	if (c == 0)
		return idx;
	return hist_bucket_low(idx) + (UINT64_C(1) << (c - 1)) - 1;
}

/* Resizes h's window to chunks [lo, hi), which covers the old one. */
static int hist_window(struct hist *h, unsigned lo, unsigned hi)
{
	uint32_t *b = calloc((size_t)(hi - lo) * HIST_SUB, sizeof(*b));

	if (!b)
		return -ENOMEM;
	if (h->hi)
		memcpy(b + (size_t)(h->lo - lo) * HIST_SUB, h->b,
		       (size_t)(h->hi - h->lo) * HIST_SUB * sizeof(*b));
	free(h->b);
	h->b = b;
	h->lo = (uint8_t)lo;
	h->hi = (uint8_t)hi;
	return 0;
}

int hist_grow(struct hist *h, unsigned chunk)
{
	unsigned lo = chunk, hi = chunk + 1;

	if (h->hi) {
		lo = chunk < h->lo ? chunk : h->lo;
		hi = chunk + 1 > h->hi ? chunk + 1 : h->hi;
	}
	return hist_window(h, lo, hi);
}

/* A bucket is about to pass 2^32 (4 billion values in 1/64 of an
 * octave): halving every bucket keeps each rank's proportion to within
 * one count per bucket, far below the stated error. */
void hist_halve(struct hist *h)
{
	size_t n = (size_t)(h->hi - h->lo) * HIST_SUB;

	h->nb = 0;
	for (size_t i = 0; i < n; i++) {
		h->b[i] = h->b[i] / 2 + (h->b[i] & 1);
		h->nb += h->b[i];
	}
}

/* The value reported for a bucket: its middle, or the values seen when
 * they lie inside it. */
static uint64_t hist_value(const struct hist *h, unsigned idx)
{
	uint64_t lo = hist_bucket_low(idx), hi = hist_bucket_high(idx);
	uint64_t v = lo + (hi - lo + 1) / 2;

	if (lo == hi)
		v = lo;
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, cum = 0;
	double x;
	size_t n;

	if (!h->count)
		return 0;
	if (p >= 100)
		return h->max;
	if (p <= 0 || !h->nb)
		return p <= 0 ? h->min : h->max;
	x = p * (double)h->nb / 100.0;
	rank = (uint64_t)x;
	if ((double)rank < x)
		rank++; /* ceil, without libm */
	if (rank < 1)
		rank = 1;
	if (rank > h->nb)
		rank = h->nb;
	n = (size_t)(h->hi - h->lo) * HIST_SUB;
	for (size_t i = 0; i < n; i++) {
		cum += h->b[i];
		if (cum >= rank)
			return hist_value(h, (unsigned)(i + (size_t)h->lo * HIST_SUB));
	}
	return h->max;
}

int hist_merge(struct hist *dst, const struct hist *src)
{
	size_t n, off;
	bool halve = false;
	uint32_t *d;

	if (!src->count)
		return 0;
	if (src->hi) {
		unsigned lo = src->lo, hi = src->hi;

		if (dst->hi) {
			lo = lo < dst->lo ? lo : dst->lo;
			hi = hi > dst->hi ? hi : dst->hi;
		}
		if ((!dst->hi || lo != dst->lo || hi != dst->hi) &&
		    hist_window(dst, lo, hi))
			return -ENOMEM;
		n = (size_t)(src->hi - src->lo) * HIST_SUB;
		off = (size_t)(src->lo - dst->lo) * HIST_SUB;
		d = dst->b + off;
		for (size_t i = 0; i < n && !halve; i++)
			halve = (uint64_t)d[i] + src->b[i] > UINT32_MAX;
		/* Both halved keep their proportions, as in hist_halve(). */
		if (halve)
			hist_halve(dst);
		for (size_t i = 0; i < n; i++) {
			uint64_t add = halve ? src->b[i] / 2 + (src->b[i] & 1) : src->b[i];

			add = d[i] + add > UINT32_MAX ? UINT32_MAX - d[i] : add;
			d[i] += (uint32_t)add;
			dst->nb += add;
		}
	}
	dst->count += src->count;
	dst->sum = dst->sum + src->sum < dst->sum ? UINT64_MAX : dst->sum + src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	return 0;
}

void hist_reset(struct hist *h)
{
	if (h->hi)
		memset(h->b, 0, (size_t)(h->hi - h->lo) * HIST_SUB * sizeof(*h->b));
	h->count = h->sum = h->nb = h->max = 0;
	h->min = UINT64_MAX;
}

size_t hist_mem(const struct hist *h)
{
	return (size_t)(h->hi - h->lo) * HIST_SUB * sizeof(*h->b);
}
