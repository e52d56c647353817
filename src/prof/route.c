/* route.c -- routes: request targets grouped by user patterns or by an identifier heuristic, in a bounded table. */
#include "prof/route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define ROUTE_CUT "/{...}"
#define ROUTE_CAP (ROUTE_LEN_MAX - 1) /* bytes of a route, NUL excluded */
/* A pattern is at most ROUTE_CAP bytes, so it has fewer than 64
 * segments: one bit each in a mask. */
#define ROUTE_PAT_SEGS 64

struct route_pat {
	char text[ROUTE_LEN_MAX]; /* as the user wrote it */
	uint32_t id;		  /* its route id */
	uint16_t nsegs;
	uint64_t holes;		  /* bit i: segment i is a placeholder */
	uint8_t seg_off[ROUTE_PAT_SEGS]; /* into text */
	uint8_t seg_len[ROUTE_PAT_SEGS];
};

struct route_slot {
	uint32_t hash; /* high half of the route's hash */
	uint32_t id1;  /* id + 1; 0 when the slot is free */
};

struct route_table {
	size_t max;	     /* routes the heuristic may add */
	size_t nheur;	     /* routes it added */
	char **names;	     /* by id; owned */
	size_t nnames, cap;
	struct route_slot *slots; /* open addressing, linear probing */
	size_t nslots;		  /* power of two, at least twice nnames */
	struct route_pat pats[ROUTE_PATTERNS_MAX]; /* most specific first */
	size_t npats;
	uint64_t overflow;
};

/* Eight bytes a step (routes are short, and this runs once per
 * transaction), then murmur3's finalizer. */
static uint64_t route_hash(const char *s, size_t n)
{
	uint64_t h = n * 0x9e3779b97f4a7c15ULL, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	if (n) {
		w = 0;
		memcpy(&w, s, n);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
	}
	return util_hash64(h);
}

static int route_rehash(struct route_table *t, size_t nslots)
{
	struct route_slot *s = calloc(nslots, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t id = 0; id < t->nnames; id++) {
		uint64_t h = route_hash(t->names[id], strlen(t->names[id]));
		size_t i = h & (nslots - 1);

		while (s[i].id1)
			i = (i + 1) & (nslots - 1);
		s[i].hash = (uint32_t)(h >> 32);
		s[i].id1 = (uint32_t)id + 1;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = nslots;
	return 0;
}

/* Adds a name known not to be in the table; returns its id or -errno. */
static int64_t route_insert(struct route_table *t, const char *s, size_t n)
{
	char *name;

	if ((t->nnames + 1) * 2 > t->nslots &&
	    route_rehash(t, t->nslots * 2))
		return -ENOMEM;
	if (t->nnames == t->cap) {
		size_t cap = t->cap * 2;
		char **names = realloc(t->names, cap * sizeof(*names));

		if (!names)
			return -ENOMEM;
		t->names = names;
		t->cap = cap;
	}
	name = strndup(s, n);
	if (!name)
		return -ENOMEM;
	t->names[t->nnames] = name;
	{
		uint64_t h = route_hash(s, n);
		size_t i = h & (t->nslots - 1);

		while (t->slots[i].id1)
			i = (i + 1) & (t->nslots - 1);
		t->slots[i].hash = (uint32_t)(h >> 32);
		t->slots[i].id1 = (uint32_t)t->nnames + 1;
	}
	return (int64_t)t->nnames++;
}

struct route_table *route_table_new(size_t max_routes)
{
	struct route_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max = max_routes;
	t->cap = 64;
	t->names = malloc(t->cap * sizeof(*t->names));
	if (!t->names || route_rehash(t, 128) ||
	    route_insert(t, ROUTE_OTHER_NAME, strlen(ROUTE_OTHER_NAME)) != ROUTE_OTHER) {
		route_table_free(t);
		return NULL;
	}
	return t;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	free(t->slots);
	free(t);
}

/* ---- the heuristic ---- */

static bool route_is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool route_is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!route_is_hex(s[i])) {
			return false;
		}
	}
	return true;
}

/* Byte classes for the heuristic. */
enum { RC_DIGIT = 1, RC_LETTER = 2, RC_HEX = 4, RC_SEP = 8, RC_AT = 16 };
static const uint8_t route_class[256] = {
	['0' ... '9'] = RC_DIGIT | RC_HEX,
	['a' ... 'f'] = RC_LETTER | RC_HEX,
	['A' ... 'F'] = RC_LETTER | RC_HEX,
	['g' ... 'z'] = RC_LETTER,
	['G' ... 'Z'] = RC_LETTER,
	['-'] = RC_SEP, ['.'] = RC_SEP, ['_'] = RC_SEP, ['~'] = RC_SEP,
	[':'] = RC_SEP, [','] = RC_SEP, ['+'] = RC_SEP,
	['@'] = RC_AT,
};

bool route_segment_is_id(const char *s, size_t n)
{
	size_t digits = 0, letters = 0, hex = 0, seps = 0, run = 0, max_run = 0;
	size_t turns = 0;
	uint8_t all = 0, prev = 0;

	if (!n)
		return false;
	/* Most segments are words: one pass over their classes decides. */
	for (size_t i = 1; i < n; i++)
		all |= route_class[(unsigned char)s[i]];
	if (all & RC_AT)
		return true;
	if (!((all | route_class[(unsigned char)s[0]]) & RC_DIGIT))
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = route_class[(unsigned char)s[i]];
		uint8_t cls = c & (RC_DIGIT | RC_LETTER);

		digits += c & RC_DIGIT;
		letters += (c & RC_LETTER) != 0;
		hex += (c & RC_HEX) != 0;
		seps += (c & RC_SEP) != 0;
		run = c & RC_DIGIT ? run + 1 : 0;
		max_run = run > max_run ? run : max_run;
		turns += cls && prev && cls != prev;
		prev = cls;
	}
	if (!letters)
		return digits + seps == n;
	if (route_is_uuid(s, n))
		return true;
	if (hex == n && n >= 8)
		return true;
	return max_run >= 4 || turns >= 4 || n >= 16;
}

/* Writes s[0..n) to d (room for cap bytes), percent-encoded where it
 * must be; returns the length written, and *fit false when not all of
 * s fitted (an escape is never split). */
static size_t route_put_literal(char *d, size_t cap, const char *s, size_t n,
				bool *fit)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	*fit = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '{' &&
		    c != '}') {
			if (o + 1 > cap)
				return o;
			d[o++] = (char)c;
		} else {
			if (o + 3 > cap)
				return o;
			d[o++] = '%';
			d[o++] = hex[c >> 4];
			d[o++] = hex[c & 15];
		}
	}
	*fit = true;
	return o;
}

/* Whether s[0..n) is a file name extension: 1 to 5 letters and digits,
 * a letter among them ("png", "mp4"; not the "3" of "1.2.3"). */
static bool route_is_ext(const char *s, size_t n)
{
	bool letter = false;

	if (n < 1 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			letter = true;
		else if (c < '0' || c > '9')
			return false;
	}
	return letter;
}

/* A segment as the route shows it ({id}.ext, {id} or itself) to d,
 * with room for cap bytes; returns its length, or cap + 1 if it did not
 * fit. */
static size_t route_put_segment(char *d, size_t cap, const char *s, size_t n)
{
	const char *dot = memrchr(s, '.', n);
	size_t k;
	bool fit;

	/* An e-mail address's ".com" is no extension. */
	if (dot && dot > s && route_is_ext(dot + 1, n - (size_t)(dot - s) - 1) &&
	    !(n > 1 && memchr(s + 1, '@', n - 1)) &&
	    route_segment_is_id(s, (size_t)(dot - s))) {
		if (cap < 4)
			return cap + 1;
		memcpy(d, "{id}", 4);
		k = route_put_literal(d + 4, cap - 4, dot, n - (size_t)(dot - s), &fit);
		return fit ? 4 + k : cap + 1;
	}
	if (route_segment_is_id(s, n)) {
		if (cap < 4)
			return cap + 1;
		memcpy(d, "{id}", 4);
		return 4;
	}
	k = route_put_literal(d, cap, s, n, &fit);
	return fit ? k : cap + 1;
}

/* The path p[0..n) (starting with '/', no query) by the heuristic. */
static size_t route_heuristic(const char *p, size_t n, char *out)
{
	size_t o = 0, i = 0;

	while (i < n) {
		const char *seg = p + i + 1, *end = memchr(seg, '/', n - i - 1);
		size_t len = end ? (size_t)(end - seg) : n - i - 1, k;

		if (o + 1 > ROUTE_CAP)
			goto cut;
		out[o] = '/';
		k = route_put_segment(out + o + 1, ROUTE_CAP - o - 1, seg, len);
		if (k > ROUTE_CAP - o - 1)
			goto cut;
		o += 1 + k;
		i += 1 + len;
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	return o;
cut:
	/* Back to the last whole segment after which the mark fits. */
	while (o > ROUTE_CAP - strlen(ROUTE_CUT))
		o = (size_t)((char *)memrchr(out, '/', o) - out);
	memcpy(out + o, ROUTE_CUT, strlen(ROUTE_CUT) + 1);
	return o + strlen(ROUTE_CUT);
}

/* ---- patterns ---- */

static bool route_pat_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '{' && c != '}' && c != '?' &&
	       c != '#' && c != '"' && c != '\\' && c != '/';
}

static bool route_name_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       c == '_' || c == '-';
}

/* Parses text into p; returns NULL or what is wrong. */
static const char *route_pat_parse(struct route_pat *p, const char *text)
{
	size_t n = strlen(text), i = 0;

	if (text[0] != '/')
		return "a route starts with '/', e.g. /orders/{id}/items";
	if (n > ROUTE_CAP)
		return "too long (127 bytes at most)";
	memcpy(p->text, text, n + 1);
	p->nsegs = 0;
	p->holes = 0;
	while (i < n) {
		size_t s = i + 1, e = s;

		while (e < n && text[e] != '/')
			e++;
		if (text[s] == '{') {
			for (size_t j = s + 1; j + 1 < e; j++)
				if (!route_name_char((unsigned char)text[j]))
					return "a placeholder is a whole segment {NAME}, NAME of "
					       "letters, digits, '_' and '-'";
			if (e - s < 2 || text[e - 1] != '}')
				return "a placeholder is a whole segment {NAME}, NAME of letters, "
				       "digits, '_' and '-'";
			p->holes |= UINT64_C(1) << p->nsegs;
		} else {
			for (size_t j = s; j < e; j++)
				if (!route_pat_char((unsigned char)text[j]))
					return "a segment holds visible ASCII but { } ? # \" and \\ "
					       "(or is a placeholder {NAME})";
		}
		p->seg_off[p->nsegs] = (uint8_t)s;
		p->seg_len[p->nsegs] = (uint8_t)(e - s);
		p->nsegs++;
		i = e;
	}
	return NULL;
}

/* <0 when a comes first: fewer segments, then literal before placeholder
 * at the first segment where they differ. */
static int route_pat_order(const struct route_pat *a, const struct route_pat *b)
{
	uint64_t diff;

	if (a->nsegs != b->nsegs)
		return a->nsegs < b->nsegs ? -1 : 1;
	diff = a->holes ^ b->holes;
	if (diff) {
		uint64_t first = diff & -diff;

		return (a->holes & first) ? 1 : -1;
	}
	return 0;
}

static bool route_pat_same(const struct route_pat *a, const struct route_pat *b)
{
	if (route_pat_order(a, b))
		return false;
	for (unsigned i = 0; i < a->nsegs; i++) {
		if (a->holes & (UINT64_C(1) << i))
			continue;
		if (a->seg_len[i] != b->seg_len[i] ||
		    memcmp(a->text + a->seg_off[i], b->text + b->seg_off[i], a->seg_len[i]))
			return false;
	}
	return true;
}

const char *route_add_pattern(struct route_table *t, const char *pattern)
{
	struct route_pat p;
	const char *why = route_pat_parse(&p, pattern);
	int64_t id;
	size_t at;

	if (why)
		return why;
	if (t->npats == ROUTE_PATTERNS_MAX)
		return "too many routes (" ROUTE_PATTERNS_MAX_STR " at most)";
	for (size_t i = 0; i < t->npats; i++)
		if (route_pat_same(&t->pats[i], &p))
			return "it matches the same paths as another --route";
	id = route_insert(t, pattern, strlen(pattern));
	if (id < 0)
		return "out of memory";
	p.id = (uint32_t)id;
	for (at = t->npats; at > 0 && route_pat_order(&p, &t->pats[at - 1]) < 0; at--)
		t->pats[at] = t->pats[at - 1];
	t->pats[at] = p;
	t->npats++;
	return NULL;
}

/* The first pattern matching the path p[0..n), or NULL. */
static const struct route_pat *route_match(const struct route_table *t,
					   const char *p, size_t n)
{
	size_t nsegs = 0;

	if (!t || !t->npats)
		return NULL;
	for (size_t i = 0; i < n; i++)
		nsegs += p[i] == '/';
	for (size_t k = 0; k < t->npats; k++) {
		const struct route_pat *pat = &t->pats[k];
		size_t i = 0;
		unsigned s;

		if (pat->nsegs != nsegs)
			continue;
		for (s = 0; s < pat->nsegs; s++) {
			const char *seg = p + i + 1, *end = memchr(seg, '/', n - i - 1);
			size_t len = end ? (size_t)(end - seg) : n - i - 1;

			if (pat->holes & (UINT64_C(1) << s)) {
				if (!len)
					break;
			} else if (len != pat->seg_len[s] ||
				   memcmp(seg, pat->text + pat->seg_off[s], len)) {
				break;
			}
			i += 1 + len;
		}
		if (s == pat->nsegs)
			return pat;
	}
	return NULL;
}

/* ---- targets ---- */

bool route_path(const char *target, size_t len, const char **p, size_t *n)
{
	const char *s = target, *end = target + len, *q;

	if (len && s[0] != '/') {
		/* absolute-form: scheme "://" authority [path] */
		size_t i = 0;

		while (i < len && (route_name_char((unsigned char)s[i]) || s[i] == '+' || s[i] == '.'))
			i++;
		if (i == 0 || len - i < 3 || memcmp(s + i, "://", 3))
			return false;
		s += i + 3;
		while (s < end && *s != '/' && *s != '?' && *s != '#')
			s++;
	}
	for (q = s; q < end && *q != '?' && *q != '#'; q++)
		;
	*p = s;
	*n = (size_t)(q - s);
	return true;
}

size_t route_normalise(const struct route_table *t, const char *target,
		       size_t len, char *out)
{
	const struct route_pat *pat;
	const char *p;
	size_t n, k;

	if (!route_path(target, len, &p, &n)) {
		bool fit;

		k = route_put_literal(out, ROUTE_CAP, target, len, &fit);
		if (!fit) {
			k = route_put_literal(out, ROUTE_CAP - strlen(ROUTE_CUT),
					      target, len, &fit);
			memcpy(out + k, ROUTE_CUT, strlen(ROUTE_CUT));
			k += strlen(ROUTE_CUT);
		}
		out[k] = '\0';
		return k;
	}
	if (!n) {
		memcpy(out, "/", 2);
		return 1;
	}
	pat = route_match(t, p, n);
	if (pat) {
		k = strlen(pat->text);
		memcpy(out, pat->text, k + 1);
		return k;
	}
	return route_heuristic(p, n, out);
}

/* The id of the route buf[0..n), added if there is room. */
static uint32_t route_intern(struct route_table *t, const char *buf, size_t n)
{
	size_t i;
	uint64_t h = route_hash(buf, n);
	uint32_t h32 = (uint32_t)(h >> 32);
	int64_t id;

	for (i = h & (t->nslots - 1); t->slots[i].id1; i = (i + 1) & (t->nslots - 1)) {
		const char *name;

		if (t->slots[i].hash != h32)
			continue;
		name = t->names[t->slots[i].id1 - 1];
		if (!strncmp(name, buf, n) && name[n] == '\0')
			return t->slots[i].id1 - 1;
	}
	if (t->nheur >= t->max) {
		t->overflow++;
		return ROUTE_OTHER;
	}
	id = route_insert(t, buf, n);
	if (id < 0) {
		t->overflow++;
		return ROUTE_OTHER;
	}
	t->nheur++;
	return (uint32_t)id;
}

uint32_t route_lookup(struct route_table *t, const char *target, size_t len)
{
	char buf[ROUTE_LEN_MAX];
	size_t n = route_normalise(t, target, len, buf);

	return route_intern(t, buf, n);
}

uint32_t route_lookup_name(struct route_table *t, const char *name, size_t len)
{
	char buf[ROUTE_LEN_MAX];
	bool fit;
	size_t n = route_put_literal(buf, ROUTE_CAP, name, len, &fit);

	if (!fit) {
		n = route_put_literal(buf, ROUTE_CAP - strlen(ROUTE_CUT), name, len, &fit);
		memcpy(buf + n, ROUTE_CUT, strlen(ROUTE_CUT));
		n += strlen(ROUTE_CUT);
	}
	buf[n] = '\0';
	return route_intern(t, buf, n);
}

const char *route_name(const struct route_table *t, uint32_t id)
{
	return id < t->nnames ? t->names[id] : ROUTE_OTHER_NAME;
}

size_t route_count(const struct route_table *t)
{
	return t->nnames;
}

uint64_t route_overflow(const struct route_table *t)
{
	return t->overflow;
}
