/* test_hist.c -- unit test of the latency histogram: bucket layout, percentiles against exact ones on random and adversarial data, merge, reset, halving. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prof/hist.h"

#include "check.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p% of the values at or
 * below it. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	uint64_t rank;

	if (p >= 100)
		return sorted[n - 1];
	rank = (uint64_t)ceil(p * (double)n / 100.0);
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static void test_layout(void)
{
	uint64_t prev_high = 0;

	for (unsigned i = 0; i < HIST_NBUCKETS; i++) {
		uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);

		CHECK(hist_index(lo) == i, "index(low(%u)) = %u", i, hist_index(lo));
		CHECK(hist_index(hi) == i, "index(high(%u)) = %u", i, hist_index(hi));
		CHECK(i == 0 || lo == prev_high + 1, "bucket %u starts at %llu, not %llu",
		      i, (unsigned long long)lo, (unsigned long long)prev_high + 1);
		/* The reported middle is within the stated error of every
		 * value in the bucket. */
		CHECK((double)(hi - lo + 1) / 2 <= HIST_REL_ERROR * (double)lo || hi == lo,
		      "bucket %u [%llu, %llu] wider than the error allows", i,
		      (unsigned long long)lo, (unsigned long long)hi);
		prev_high = hi;
	}
	CHECK(prev_high == HIST_MAX_VALUE, "last bucket ends at %llu",
	      (unsigned long long)prev_high);
	CHECK(hist_index(UINT64_MAX) == HIST_NBUCKETS - 1, "huge values go last");
	CHECK(HIST_REL_ERROR <= 0.01, "stated error %.4f is over 1%%", HIST_REL_ERROR);
}

static const double pcts[] = { 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100 };

/* Records v[0..n), then checks every percentile against the exact one. */
static void check_data(const char *name, uint64_t *v, size_t n)
{
	struct hist h;
	uint64_t sum = 0;

	hist_init(&h);
	for (size_t i = 0; i < n; i++) {
		hist_record(&h, v[i]);
		sum += v[i];
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	CHECK(h.count == n, "%s: count %llu of %zu", name, (unsigned long long)h.count, n);
	CHECK(h.min == v[0] && h.max == v[n - 1], "%s: min/max", name);
	CHECK(h.sum == sum, "%s: sum", name);
	for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
		uint64_t want = exact_percentile(v, n, pcts[k]);
		uint64_t got = hist_percentile(&h, pcts[k]);
		double err = want ? fabs((double)got - (double)want) / (double)want : (double)got;

		CHECK(err <= HIST_REL_ERROR, "%s: p%g = %llu, exact %llu (error %.5f)", name,
		      pcts[k], (unsigned long long)got, (unsigned long long)want, err);
	}
	CHECK(hist_mem(&h) <= (size_t)HIST_NCHUNKS * HIST_SUB * 4, "%s: memory", name);
	hist_free(&h);
}

#define N 200000

static void test_random(void)
{
	uint64_t *v = malloc(N * sizeof(*v));
	size_t n;

	/* uniform over 1 ns .. 1 s */
	for (size_t i = 0; i < N; i++)
		v[i] = 1 + rng() % 1000000000;
	check_data("uniform", v, N);
	/* log-uniform over 100 ns .. 1000 s */
	for (size_t i = 0; i < N; i++)
		v[i] = (uint64_t)exp(log(100) + rng_unit() * (log(1e12) - log(100)));
	check_data("log-uniform", v, N);
	/* exponential, mean 2 ms (a server's latencies) */
	for (size_t i = 0; i < N; i++)
		v[i] = (uint64_t)(-log(1 - rng_unit()) * 2e6);
	check_data("exponential", v, N);
	/* a few values, and one */
	for (n = 1; n <= 7; n++) {
		for (size_t i = 0; i < n; i++)
			v[i] = 1000 + rng() % 5000000;
		check_data("few", v, n);
	}
	free(v);
}

static void test_adversarial(void)
{
	uint64_t *v = malloc(N * sizeof(*v));
	size_t n = 0;

	/* every bucket's edges: the worst case for the middle */
	for (unsigned i = 0; i < HIST_NBUCKETS; i += 1) {
		v[n++] = hist_bucket_low(i);
		v[n++] = hist_bucket_high(i);
	}
	check_data("bucket edges", v, n);
	/* all low edges only (the middle is furthest above) */
	n = 0;
	for (unsigned i = 0; i < HIST_NBUCKETS; i++)
		v[n++] = hist_bucket_low(i);
	check_data("low edges", v, n);
	n = 0;
	for (unsigned i = 0; i < HIST_NBUCKETS; i++)
		v[n++] = hist_bucket_high(i);
	check_data("high edges", v, n);
	/* one value repeated */
	for (n = 0; n < 1000; n++)
		v[n] = 123456789;
	check_data("constant", v, n);
	/* two clusters far apart: percentiles jump between them */
	for (n = 0; n < 10000; n++)
		v[n] = n % 100 == 0 ? 5000000000ULL + n : 20000 + n % 7;
	check_data("two clusters", v, n);
	/* small values are exact */
	for (n = 0; n < 64; n++)
		v[n] = n;
	check_data("small", v, n);
	/* 0 ns */
	v[0] = 0;
	check_data("zero", v, 1);
	/* a low edge and the next bucket's high edge, alternating */
	for (n = 0; n < 4096; n++)
		v[n] = n & 1 ? hist_bucket_high(2000 + n % 7) : hist_bucket_low(1999 + n % 7);
	check_data("neighbours", v, n);
	free(v);
}

static void test_beyond(void)
{
	struct hist h;

	/* Past HIST_MAX_VALUE: counted in the last bucket, max exact. */
	hist_init(&h);
	hist_record(&h, UINT64_MAX / 2);
	hist_record(&h, 10);
	CHECK(hist_percentile(&h, 100) == UINT64_MAX / 2, "max of a huge value");
	CHECK(hist_percentile(&h, 50) == 10, "p50 of two");
	CHECK(h.count == 2, "count");
	hist_free(&h);
	/* the sum saturates */
	hist_init(&h);
	hist_record(&h, UINT64_MAX - 1);
	hist_record(&h, 5);
	CHECK(h.sum == UINT64_MAX, "sum saturates");
	hist_free(&h);
	/* empty */
	hist_init(&h);
	CHECK(hist_percentile(&h, 50) == 0 && hist_percentile(&h, 100) == 0, "empty");
	CHECK(hist_mem(&h) == 0, "an empty histogram holds no buckets");
	hist_free(&h);
}

static void test_merge_reset(void)
{
	struct hist a, b, all, empty;
	uint64_t va;

	hist_init(&a);
	hist_init(&b);
	hist_init(&all);
	hist_init(&empty);
	for (int i = 0; i < 50000; i++) {
		/* a spans low octaves, b high ones: the merge must widen
		 * a's window on both sides over time */
		va = i % 2 ? 1000 + rng() % 100000 : 5 + rng() % 50;
		hist_record(&a, va);
		hist_record(&all, va);
		va = 1000000 + rng() % 100000000000ULL;
		hist_record(&b, va);
		hist_record(&all, va);
	}
	CHECK(hist_merge(&a, &empty) == 0 && a.count == 50000, "merge of an empty one");
	CHECK(hist_merge(&a, &b) == 0, "merge");
	CHECK(a.count == all.count && a.sum == all.sum && a.min == all.min &&
	      a.max == all.max && a.nb == all.nb, "merged figures");
	for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++)
		CHECK(hist_percentile(&a, pcts[k]) == hist_percentile(&all, pcts[k]),
		      "merged p%g differs", pcts[k]);
	/* into an empty one */
	CHECK(hist_merge(&empty, &all) == 0, "merge into empty");
	CHECK(hist_percentile(&empty, 99) == hist_percentile(&all, 99) && empty.count == all.count,
	      "merged into empty");
	/* reset keeps the memory, forgets the values */
	{
		size_t mem = hist_mem(&a);

		hist_reset(&a);
		CHECK(a.count == 0 && a.nb == 0 && a.sum == 0 && hist_percentile(&a, 50) == 0,
		      "reset");
		CHECK(hist_mem(&a) == mem, "reset keeps the buckets");
		hist_record(&a, 777);
		CHECK(hist_percentile(&a, 50) == 777 && a.min == 777 && a.max == 777,
		      "record after reset");
	}
	hist_free(&a);
	hist_free(&b);
	hist_free(&all);
	hist_free(&empty);
}

static void test_halving(void)
{
	struct hist h, m;
	unsigned i1 = hist_index(1000000), i2 = hist_index(9000000);

	/* Bring a bucket to the edge of 2^32 without 4 billion calls. */
	hist_init(&h);
	hist_record(&h, 1000000);
	hist_record(&h, 9000000);
	h.b[i1 - h.lo * HIST_SUB] = UINT32_MAX;
	h.b[i2 - h.lo * HIST_SUB] = UINT32_MAX / 3;
	h.nb = (uint64_t)UINT32_MAX + UINT32_MAX / 3;
	hist_record(&h, 1000000);
	CHECK(h.b[i1 - h.lo * HIST_SUB] == UINT32_MAX / 2 + 2, "halved bucket %u",
	      h.b[i1 - h.lo * HIST_SUB]);
	CHECK(h.nb == (uint64_t)h.b[i1 - h.lo * HIST_SUB] + h.b[i2 - h.lo * HIST_SUB],
	      "nb follows the halving");
	/* 3/4 of the values are at 1 ms: p70 there, p80 at 9 ms */
	CHECK(hist_percentile(&h, 70) == hist_percentile(&h, 1) &&
	      fabs((double)hist_percentile(&h, 80) - 9e6) <= 9e6 * HIST_REL_ERROR,
	      "proportions kept: p70 %llu p80 %llu",
	      (unsigned long long)hist_percentile(&h, 70),
	      (unsigned long long)hist_percentile(&h, 80));
	/* merging two nearly full ones halves too, without overflow */
	hist_init(&m);
	CHECK(hist_merge(&m, &h) == 0 && hist_merge(&m, &h) == 0, "merge full");
	CHECK(m.b[i1 - m.lo * HIST_SUB] >= UINT32_MAX / 2, "merged full bucket %u",
	      m.b[i1 - m.lo * HIST_SUB]);
	CHECK(hist_percentile(&m, 70) == hist_percentile(&m, 1), "merged proportions");
	hist_free(&h);
	hist_free(&m);
}

static void test_memory(void)
{
	struct hist h;

	hist_init(&h);
	for (int i = 0; i < 10000; i++)
		hist_record(&h, 20000 + rng() % 20000); /* 20-40 us: 2 octaves */
	CHECK(hist_mem(&h) == 2 * HIST_SUB * sizeof(uint32_t), "window of 2 octaves: %zu",
	      hist_mem(&h));
	hist_record(&h, 3);
	hist_record(&h, UINT64_MAX);
	CHECK(hist_mem(&h) == HIST_NCHUNKS * HIST_SUB * sizeof(uint32_t), "full window: %zu",
	      hist_mem(&h));
	hist_free(&h);
}

int main(void)
{
	test_layout();
	test_random();
	test_adversarial();
	test_beyond();
	test_merge_reset();
	test_halving();
	test_memory();
	return check_result("test_hist");
}
