/* check.h -- the CHECK macro and a seeded random generator for the unit tests. */
#ifndef HS_TEST_CHECK_H
#define HS_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>

static int failures;
static int checks __attribute__((unused)); /* conditions checked */

/* Counts the condition, and prints it when it fails; the test goes on. */
#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		checks++;                                                     \
		if (!(cond)) {                                                \
			failures++;                                           \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
		}                                                             \
	} while (0)

/* xorshift64*: the same sequence on every run, so a failure repeats. */
static uint64_t rng_state __attribute__((unused)) = 0x9e3779b97f4a7c15ULL;

static inline uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, 1). */
static inline double rng_unit(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

static inline int check_result(const char *name)
{
	if (failures)
		fprintf(stderr, "%s: %d failures\n", name, failures);
	else
		printf("%s: all checks passed\n", name);
	return failures ? 1 : 0;
}

#endif
