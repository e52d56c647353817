/* filter.c -- display filters (--method, --path, --host, --status, --min-latency): parsers and the matcher. */
#include "prof/filter.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prof/prof.h"
#include "prof/route.h"

/* RFC 9110 section 5.6.2: tchar. */
static bool filter_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

const char *filter_add_method(struct filter *f, const char *arg)
{
	const char *s = arg;

	do {
		size_t n = strcspn(s, ",");

		if (!n)
			return "expected a method such as GET, or a comma list (GET,POST)";
		for (size_t i = 0; i < n; i++)
			if (!filter_tchar((unsigned char)s[i]))
				return "a method is a token of letters, digits and "
				       "!#$%&'*+-.^_`|~ (RFC 9110 section 9)";
		if (f->nmethods == FILTER_VALUES_MAX)
			return "too many methods (" FILTER_VALUES_MAX_STR " at most)";
		f->methods[f->nmethods] = s;
		f->method_len[f->nmethods++] = n;
		s += n;
	} while (*s++ == ',');
	return NULL;
}

static const char *filter_add_glob(const char **list, size_t *n, const char *glob,
				   const char *example)
{
	if (!*glob)
		return example;
	if (*n == FILTER_VALUES_MAX)
		return "given too often (" FILTER_VALUES_MAX_STR " at most)";
	list[(*n)++] = glob;
	return NULL;
}

const char *filter_add_path(struct filter *f, const char *glob)
{
	return filter_add_glob(f->paths, &f->npaths, glob, "expected a glob such as '/api/*'");
}

const char *filter_add_host(struct filter *f, const char *glob)
{
	size_t k = f->nhosts;
	const char *why = filter_add_glob(f->hosts, &f->nhosts, glob,
					  "expected a glob such as '*.example.com'");

	/* A port is given when the last ':' follows the last ']' (so
	 * "[[]::1]" names an IPv6 host without a port). */
	if (!why) {
		const char *colon = strrchr(glob, ':'), *bracket = strrchr(glob, ']');

		f->host_port[k] = colon && (!bracket || colon > bracket);
	}
	return why;
}

/* A three-digit code at s; returns it, or -1. */
static int filter_code(const char *s, size_t n)
{
	int v = 0;

	if (n != 3)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 100 ? v : -1;
}

const char *filter_add_status(struct filter *f, const char *spec)
{
	uint64_t bits[sizeof(f->status) / sizeof(f->status[0])] = { 0 };
	const char *s = spec;

	do {
		size_t n = strcspn(s, ",");
		const char *dash = memchr(s, '-', n);
		int lo, hi;

		if (n == 3 && s[0] >= '1' && s[0] <= '9' && (s[1] | 0x20) == 'x' &&
		    (s[2] | 0x20) == 'x') {
			lo = (s[0] - '0') * 100;
			hi = lo + 99;
		} else if (dash) {
			lo = filter_code(s, (size_t)(dash - s));
			hi = filter_code(dash + 1, n - (size_t)(dash - s) - 1);
			if (lo < 0 || hi < 0 || lo > hi)
				goto bad;
		} else {
			lo = hi = filter_code(s, n);
			if (lo < 0)
				goto bad;
		}
		for (int c = lo; c <= hi; c++)
			bits[c / 64] |= UINT64_C(1) << (c % 64);
		s += n;
	} while (*s++ == ',');
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		f->status[i] |= bits[i];
	f->by_status = true;
	return NULL;
bad:
	return "expected codes (404), classes (5xx) or ranges (400-499) of codes 100-999, "
	       "comma-separated";
}

/* Units of a duration, longest names first where one is a prefix of
 * another ("ms" before "m"). */
static const struct {
	const char *name;
	uint64_t ns;
} filter_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 }, /* U+00B5 MICRO SIGN */
	{ "\xce\xbcs", 1000 }, /* U+03BC GREEK SMALL LETTER MU */
	{ "ms", 1000000 },
	{ "s", 1000000000 },
	{ "min", 60000000000ULL },
	{ "m", 60000000000ULL },
	{ "h", 3600000000000ULL },
};

int filter_parse_duration(const char *s, uint64_t *ns)
{
	uint64_t total = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		uint64_t whole = 0, frac = 0, scale = 1, unit = 0, v;
		bool digits = false;
		size_t k;

		for (; *s >= '0' && *s <= '9'; s++, digits = true) {
			uint64_t d = (uint64_t)(*s - '0');

			if (whole > UINT64_MAX / 10 ||
			    (whole == UINT64_MAX / 10 && d > UINT64_MAX % 10))
				return -ERANGE;
			whole = whole * 10 + d;
		}
		if (*s == '.') {
			/* Nine decimals reach 1 ns in any unit; more are
			 * dropped. */
			for (s++; *s >= '0' && *s <= '9'; s++, digits = true) {
				if (scale < 1000000000ULL) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					scale *= 10;
				}
			}
		}
		if (!digits)
			return -EINVAL;
		for (k = 0; k < sizeof(filter_units) / sizeof(filter_units[0]); k++) {
			size_t n = strlen(filter_units[k].name);

			if (!strncmp(s, filter_units[k].name, n) &&
			    !(s[n] >= 'a' && s[n] <= 'z')) {
				unit = filter_units[k].ns;
				s += n;
				break;
			}
		}
		if (!unit)
			return -EINVAL;
		if (whole > UINT64_MAX / unit)
			return -ERANGE;
		v = whole * unit;
		/* frac / scale of a unit: unit <= 3.6e12 and frac < 1e9,
		 * so the product fits in 128 bits; in 64 only when small. */
		v += (uint64_t)((unsigned __int128)frac * unit / scale);
		if (v < whole * unit || total + v < total)
			return -ERANGE;
		total += v;
	}
	*ns = total;
	return 0;
}

const char *filter_set_min_latency(struct filter *f, const char *arg)
{
	int err = filter_parse_duration(arg, &f->min_latency_ns);

	if (err == -ERANGE)
		return "too large";
	if (err)
		return "expected a number and a unit (ns, us, ms, s, m, h), e.g. 250us, "
		       "100ms, 1.5s or 1m30s";
	f->by_latency = true;
	return NULL;
}

bool filter_active(const struct filter *f)
{
	return f->nmethods || f->npaths || f->nhosts || f->by_status || f->by_latency;
}

/* fnmatch() on a slice, through a copy. */
static bool filter_glob(const char *glob, const char *s, size_t n, int flags)
{
	char small[512], *buf = small;
	bool ok;

	if (n >= sizeof(small)) {
		buf = malloc(n + 1);
		if (!buf)
			return false;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	ok = fnmatch(glob, buf, flags) == 0;
	if (buf != small)
		free(buf);
	return ok;
}

/* The host without its port: "[::1]:80" -> "[::1]", "a.b:80" -> "a.b". */
static size_t filter_host_len(const char *h, size_t n)
{
	const char *end;

	if (n && h[0] == '[') {
		end = memchr(h, ']', n);
		return end ? (size_t)(end - h) + 1 : n;
	}
	end = memchr(h, ':', n);
	return end ? (size_t)(end - h) : n;
}

static bool filter_host(const struct filter *f, const struct txn_facts *t)
{
	const char *h = t->host;
	size_t n = t->host_len;

	if (!h)
		return false;
	while (n && (*h == ' ' || *h == '\t'))
		h++, n--;
	while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < f->nhosts; i++) {
		size_t len = f->host_port[i] ? n : filter_host_len(h, n);

		if (filter_glob(f->hosts[i], h, len, FNM_CASEFOLD))
			return true;
	}
	return false;
}

static bool filter_path(const struct filter *f, const struct txn_facts *t)
{
	const char *p;
	size_t n;

	if (!t->target)
		return false;
	if (!route_path(t->target, t->target_len, &p, &n)) {
		p = t->target;
		n = t->target_len;
	} else if (!n) {
		p = "/";
		n = 1;
	}
	for (size_t i = 0; i < f->npaths; i++)
		if (filter_glob(f->paths[i], p, n, 0))
			return true;
	return false;
}

static bool filter_method(const struct filter *f, const struct txn_facts *t)
{
	if (!t->method)
		return false;
	for (size_t i = 0; i < f->nmethods; i++)
		if (f->method_len[i] == t->method_len &&
		    !strncasecmp(f->methods[i], t->method, t->method_len))
			return true;
	return false;
}

bool filter_match(const struct filter *f, const struct txn_facts *t)
{
	if (f->by_status &&
	    (t->status <= 0 || t->status > FILTER_STATUS_MAX ||
	     !(f->status[t->status / 64] & (UINT64_C(1) << (t->status % 64)))))
		return false;
	if (f->by_latency && (!t->has_latency || t->latency_ns < f->min_latency_ns))
		return false;
	if (f->nmethods && !filter_method(f, t))
		return false;
	if (f->nhosts && !filter_host(f, t))
		return false;
	if (f->npaths && !filter_path(f, t))
		return false;
	return true;
}

bool filter_txn(void *f, const struct txn *t)
{
	struct txn_facts facts;

	prof_facts(t, &facts);
	return filter_match(f, &facts);
}
