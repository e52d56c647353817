/* util.h -- error reporting and checked number parsing shared by all modules. */
#ifndef HS_UTIL_H
#define HS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* All diagnostics go through warn(): "httpsnoop: failed to <verb> <thing>:
 * <strerror>", lowercase, one line. */
#define warn(...) util_warn(__VA_ARGS__)
void util_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a whole decimal string into [min, max].  Returns 0, or -EINVAL
 * (not a number, trailing junk) or -ERANGE. */
int util_parse_long(const char *s, long min, long max, long *out);

/* RFC 9110 section 5.6.3: optional whitespace (OWS) is spaces and tabs.
 * Narrows s[0..*len) to what lies between it at both ends. */
static inline void util_trim_ows(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t'))
		(*s)++, (*len)--;
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* Whether s[0..len) is the string tok, ASCII case-insensitively, as field
 * names and tokens compare (RFC 9110 sections 5.1 and 5.6.2). */
static inline bool util_token_eq(const char *s, size_t len, const char *tok)
{
	return strlen(tok) == len && strncasecmp(s, tok, len) == 0;
}

/* Mixes the bits of a 64-bit key (murmur3's finalizer), so that its low
 * bits index a power-of-two table well even when keys are sequential (ids)
 * or share low bits (pointers). */
static inline uint64_t util_hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

/* CLOCK_MONOTONIC in ns: the probe's clock (bpf_ktime_get_ns). */
uint64_t util_now_ns(void);

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns: turns probe timestamps
 * into wall-clock time. */
int64_t util_clock_offset(void);

/* Keeps only CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (to read
 * /proc/PID/fd of other users' processes), and with keep_uprobes also
 * CAP_SYS_ADMIN (to attach uprobes to TLS libraries found later), in
 * every capability set, and sets no_new_privs.  Called once the probe is
 * attached.  Returns 0 or -errno. */
int util_drop_privileges(bool keep_uprobes);

#endif
