/* hpack.c -- HPACK header blocks of one direction (RFC 7541) through libnghttp2's inflater, decoding what it can when the table state is unknown.
 *
 * While the table state is known (the direction was seen from its start,
 * with no loss) blocks go to nghttp2's inflater whole, in wire order.
 *
 * Otherwise (joined midway, bytes lost, a decoding error) the decoder
 * walks each block's representations itself (RFC 7541 section 6: prefix
 * integers and string lengths) and passes on to a fresh inflater only
 * those it can decode: literals, references to the static table, and
 * references to entries inserted since the loss.  The last are safe
 * because the table is a FIFO (section 2.3.3): an entry seen inserted
 * keeps its index, counted from the newest, until it is evicted, and a
 * conforming encoder never refers to an evicted entry.  A literal that
 * is added to the table under a name that cannot be known is inserted
 * under a placeholder name, so that the indices of later entries stay
 * right; a field carrying that name is counted as unknown, never shown.
 *
 * The table state is known again when the peer empties it (a table size
 * update to 0), or when an entry of known size evicts one of the
 * entries seen since the loss while the table's size is known (from a
 * size update): entries are evicted oldest first (section 4.4), so every
 * entry from before the loss went first.
 *
 * Most blocks repeat.  An encoder that indexes sends the same bytes for
 * the same fields once they are in the table (nghttp2's and gRPC's
 * clients, browsers), and one that never indexes sends the same
 * literals.  A block that neither inserts into the table nor resizes it
 * -- indexed fields and literals not indexed only -- leaves the decoder
 * as it found it, so its fields are a function of its bytes and the
 * table.  (nginx adds every response field to the table anew, so its
 * blocks do not qualify.)  The last such block is kept
 * with the fields it gave (the memo); the same bytes again, with the
 * table untouched since, give the same fields without the inflater.
 * Anything that may change the table (any other block, a reset, a new
 * table size) forgets the memo.
 */
#include "proto/hpack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <nghttp2/nghttp2.h>

/* The name a field gets in the table when its name cannot be known: a
 * NUL byte cannot begin a valid field name (RFC 9113 section 8.2.1). */
static const uint8_t placeholder[] = "\0hs-unknown";
#define PLACEHOLDER_LEN (sizeof(placeholder) - 1)

/* RFC 7541 appendix A: the static table's 61 entries. */
#define STATIC_ENTRIES 61

/* The largest block, and the most bytes of fields (each with a
 * 9-byte head), that the memo keeps: a block is most often 20 to 300
 * bytes.  The memo is as large as what it holds. */
#define MEMO_BLOCK_MAX 512
#define MEMO_FIELDS_MAX 2048

struct memo {
	bool valid;	  /* block and fields are the table's current
			   * answer */
	uint32_t cap;	  /* bytes of data */
	uint32_t blen;	  /* the block's bytes, first in data */
	uint32_t flen;	  /* the fields' bytes, after them: per field
			   * handed up, name length and value length (4
			   * bytes each, host order), sensitive (1), then
			   * name and value */
	uint32_t fields, invalid, dropped; /* its hpack_result counts */
	uint8_t data[];
};

struct hpack {
	nghttp2_hd_inflater *inf;
	struct memo *memo; /* allocated at the first block it may keep */
	struct hpack_stats *stats;
	bool synced;	 /* the table state is known */
	bool fresh;	 /* not synced and nothing fed to inf yet */
	bool size_known; /* not synced: a size update was seen since the
			  * loss, so inf's maximum is the encoder's */
	int64_t pending[HPACK_SETTINGS_PENDING_MAX]; /* unacknowledged
						      * SETTINGS: table size
						      * or -1 */
	size_t npending;
	bool settings_lost; /* their order is no longer known */
};

/* The block being decoded: where fields go, and the limits. */
struct out {
	hpack_field_fn fn;
	void *ctx;
	struct hpack_result *res;
	size_t list; /* bytes handed up, counted as section 6.5.2 does */
	uint8_t *rec;	  /* where the fields are copied for the memo
			   * (MEMO_FIELDS_MAX bytes), or NULL */
	size_t rec_len;
};

int hpack_int(const uint8_t **pp, const uint8_t *end, int n, uint32_t *out)
{
	const uint8_t *p = *pp;
	uint32_t max = (1u << n) - 1;
	uint64_t v;
	int shift = 0;

	if (p >= end)
		return -EAGAIN;
	v = *p++ & max;
	if (v == max) {
		for (;;) {
			if (p >= end)
				return -EAGAIN;
			if (shift > 28)
				return -ERANGE;
			v += (uint64_t)(*p & 0x7f) << shift;
			shift += 7;
			if (v > UINT32_MAX)
				return -ERANGE;
			if (!(*p++ & 0x80))
				break;
		}
	}
	*pp = p;
	*out = (uint32_t)v;
	return 0;
}

/* Encodes v with an n-bit prefix after the bits in `first`; returns the
 * length (at most 6 bytes). */
static size_t put_int(uint8_t *buf, uint8_t first, int n, uint32_t v)
{
	uint32_t max = (1u << n) - 1;
	size_t len = 1;

	if (v < max) {
		buf[0] = first | (uint8_t)v;
		return 1;
	}
	buf[0] = first | (uint8_t)max;
	v -= max;
	while (v >= 0x80) {
		buf[len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	buf[len++] = (uint8_t)v;
	return len;
}

/* Skips a string literal (section 5.2). */
static int skip_string(const uint8_t **pp, const uint8_t *end)
{
	uint32_t len;
	int r = hpack_int(pp, end, 7, &len);

	if (r)
		return r;
	if ((size_t)(end - *pp) < len)
		return -EAGAIN;
	*pp += len;
	return 0;
}

/* --- the inflater's memory ------------------------------------------ */

/* libnghttp2's inflater allocates for every literal it decodes (its
 * reference-counted buffer) and every entry it adds to the table, and
 * frees most of them a block or two later: eight pairs for an nginx
 * response.  Blocks of up to POOL_MAX bytes come from a free list
 * per 16-byte size class instead, each list keeping at most POOL_KEEP
 * (about 39 KB in all); the rest from malloc.  A block carries its
 * size before it, where free and realloc find it.  The lists are the
 * thread's: decoders of other threads, if any, keep theirs. */
#define POOL_STEP 16
#define POOL_MAX 256
#define POOL_CLASSES (POOL_MAX / POOL_STEP)
#define POOL_KEEP 16

struct pool_head {
	size_t size;  /* bytes asked for */
	size_t class; /* free list, or POOL_CLASSES for malloc's */
};

struct pool_free {
	struct pool_free *next;
};

static _Thread_local struct {
	struct pool_free *head;
	unsigned n;
} pool[POOL_CLASSES];

static void *pool_malloc(size_t size, void *ud)
{
	size_t c = size ? (size - 1) / POOL_STEP : 0;
	struct pool_head *h;

	(void)ud;
	if (size > POOL_MAX) {
		if (size > SIZE_MAX - sizeof(*h))
			return NULL;
		h = malloc(sizeof(*h) + size);
		c = POOL_CLASSES;
	} else if (pool[c].head) {
		h = (struct pool_head *)pool[c].head;
		pool[c].head = pool[c].head->next;
		pool[c].n--;
	} else {
		h = malloc(sizeof(*h) + (c + 1) * POOL_STEP);
	}
	if (!h)
		return NULL;
	h->size = size;
	h->class = c;
	return h + 1;
}

static void pool_free(void *p, void *ud)
{
	struct pool_head *h;
	size_t c;

	(void)ud;
	if (!p)
		return;
	h = (struct pool_head *)p - 1;
	c = h->class;
	if (c >= POOL_CLASSES || pool[c].n >= POOL_KEEP) {
		free(h);
		return;
	}
	((struct pool_free *)h)->next = pool[c].head;
	pool[c].head = (struct pool_free *)h;
	pool[c].n++;
}

static void *pool_calloc(size_t nmemb, size_t size, void *ud)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	p = pool_malloc(nmemb * size, ud);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

/* Not called by the inflater of libnghttp2 1.52, kept plain. */
static void *pool_realloc(void *p, size_t size, void *ud)
{
	size_t old;
	void *n;

	if (!p)
		return pool_malloc(size, ud);
	if (!size) {
		pool_free(p, ud);
		return NULL;
	}
	n = pool_malloc(size, ud);
	if (!n)
		return NULL;
	old = ((struct pool_head *)p - 1)->size;
	memcpy(n, p, old < size ? old : size);
	pool_free(p, ud);
	return n;
}

static nghttp2_mem pool_mem = {
	.malloc = pool_malloc,
	.free = pool_free,
	.calloc = pool_calloc,
	.realloc = pool_realloc,
};

static int inflater_new(nghttp2_hd_inflater **inf)
{
	return nghttp2_hd_inflate_new2(inf, &pool_mem);
}

/* --- the inflater --------------------------------------------------- */

static size_t dyn_entries(struct hpack *hp)
{
	return nghttp2_hd_inflate_get_num_table_entries(hp->inf) - STATIC_ENTRIES;
}

static bool is_placeholder(const uint8_t *name, size_t len)
{
	return len == PLACEHOLDER_LEN && !memcmp(name, placeholder, len);
}

/* RFC 9110 section 5.6.2: tchar, but for uppercase letters (RFC 9113
 * section 8.2.1: names are lowercase). */
static const bool name_char[256] = {
	['0' ... '9'] = true, ['a' ... 'z'] = true,
	['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true,
	['\''] = true, ['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true,
	['^'] = true, ['_'] = true, ['`'] = true, ['|'] = true, ['~'] = true,
};

/* RFC 9113 section 8.2.1: names are lowercase tokens (RFC 9110 section
 * 5.6.2), pseudo-header names a token after ':'; values hold no NUL, CR
 * or LF.  Every field of every block is checked: a table for the names,
 * and sixteen bytes of a value at a time where SSE2 is. */
static bool field_valid(const nghttp2_nv *nv)
{
	size_t i = nv->namelen && nv->name[0] == ':' ? 1 : 0;
	const uint8_t *v = nv->value;
	size_t n = nv->valuelen;
	uint8_t c;

	if (i == nv->namelen)
		return false;
	for (; i < nv->namelen; i++)
		if (!name_char[nv->name[i]])
			return false;
	i = 0;
#ifdef __SSE2__
	for (; n - i >= 16; i += 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)(v + i));
		__m128i bad = _mm_or_si128(
			_mm_cmpeq_epi8(b, _mm_setzero_si128()),
			_mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8('\r')),
				     _mm_cmpeq_epi8(b, _mm_set1_epi8('\n'))));

		if (_mm_movemask_epi8(bad))
			return false;
	}
#endif
	for (; i < n; i++) {
		c = v[i];
		if (c == 0 || c == '\r' || c == '\n')
			return false;
	}
	return true;
}

/* --- the memo ------------------------------------------------------- */

/* Whether decoding the block leaves the table as it is: every
 * representation an indexed field (section 6.1) or a literal without
 * indexing or never indexed (6.2.2, 6.2.3); none adds an entry (6.2.1)
 * or resizes the table (6.3).  A block that does not parse is not. */
static bool table_neutral(const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	uint32_t v;

	while (p < end) {
		uint8_t b = *p;

		if (b & 0x80) {
			if (hpack_int(&p, end, 7, &v) || !v)
				return false;
		} else if (b & 0x60) {
			return false; /* 01: incremental; 001: size update */
		} else if (hpack_int(&p, end, 4, &v) ||
			   (!v && skip_string(&p, end)) || skip_string(&p, end)) {
			return false;
		}
	}
	return true;
}

/* Copies a field handed up to the memo being made; one that does not
 * fit ends the making. */
static void memo_add(struct out *o, const nghttp2_nv *nv)
{
	uint32_t n = (uint32_t)nv->namelen, v = (uint32_t)nv->valuelen;
	uint8_t *d;

	if (nv->namelen + nv->valuelen > MEMO_FIELDS_MAX ||
	    MEMO_FIELDS_MAX - o->rec_len < 9 + nv->namelen + nv->valuelen) {
		o->rec = NULL;
		return;
	}
	d = o->rec + o->rec_len;
	memcpy(d, &n, 4);
	memcpy(d + 4, &v, 4);
	d[8] = (nv->flags & NGHTTP2_NV_FLAG_NO_INDEX) != 0;
	if (n)
		memcpy(d + 9, nv->name, n);
	if (v)
		memcpy(d + 9 + n, nv->value, v);
	o->rec_len += 9 + n + v;
}

/* Keeps block and the fields copied while it was decoded as the memo. */
static void memo_keep(struct hpack *hp, const uint8_t *block, size_t len,
		      const struct out *o)
{
	size_t need = len + o->rec_len;
	struct memo *m = hp->memo;

	if (!m || m->cap < need) {
		m = realloc(m, sizeof(*m) + need);
		if (!m)
			return; /* the old one stays, forgotten */
		m->cap = (uint32_t)need;
		hp->memo = m;
	}
	m->blen = (uint32_t)len;
	m->flen = (uint32_t)o->rec_len;
	memcpy(m->data, block, len);
	if (o->rec_len)
		memcpy(m->data + len, o->rec, o->rec_len);
	m->fields = o->res->fields;
	m->invalid = o->res->invalid;
	m->dropped = o->res->dropped;
	m->valid = true;
}

/* Hands up the memo's fields, as the block gave them. */
static void memo_replay(const struct memo *m, hpack_field_fn fn, void *ctx,
			struct hpack_result *res)
{
	const uint8_t *p = m->data + m->blen, *end = p + m->flen;
	uint32_t n, v;

	res->fields = m->fields;
	res->invalid = m->invalid;
	res->dropped = m->dropped;
	if (!fn)
		return;
	while (p < end) {
		memcpy(&n, p, 4);
		memcpy(&v, p + 4, 4);
		fn(ctx, p + 9, n, p + 9 + n, v, p[8]);
		p += 9 + n + v;
	}
}

static void memo_forget(struct hpack *hp)
{
	if (hp->memo)
		hp->memo->valid = false;
}

static void emit(struct out *o, const nghttp2_nv *nv)
{
	struct hpack_result *res = o->res;
	size_t cost = nv->namelen + nv->valuelen + 32;

	if (is_placeholder(nv->name, nv->namelen)) {
		res->unknown++;
		return;
	}
	if (!field_valid(nv)) {
		res->invalid++;
		return;
	}
	if (res->fields >= HPACK_FIELDS_MAX || o->list + cost > HPACK_LIST_MAX) {
		res->dropped++;
		return;
	}
	o->list += cost;
	res->fields++;
	if (o->fn)
		o->fn(o->ctx, nv->name, nv->namelen, nv->value, nv->valuelen,
		      nv->flags & NGHTTP2_NV_FLAG_NO_INDEX);
	if (o->rec)
		memo_add(o, nv);
}

/* Feeds bytes to the inflater, handing up what it emits.  final: the
 * block ends here.  Returns 0 or -1 on a decoding error. */
static int inflate_run(struct hpack *hp, const uint8_t *in, size_t len,
		       bool final, struct out *o)
{
	nghttp2_nv nv;
	ssize_t rv;
	int flags;

	for (;;) {
		flags = 0;
		rv = nghttp2_hd_inflate_hd2(hp->inf, &nv, &flags, in, len, final);
		if (rv < 0)
			return -1;
		if (rv) { /* in may be NULL when len is 0 */
			in += rv;
			len -= (size_t)rv;
		}
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			emit(o, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(hp->inf);
			return 0;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && !len)
			return 0;
	}
}

/* A new inflater for an unknown table state. */
static void reset(struct hpack *hp)
{
	nghttp2_hd_inflater *inf = NULL;

	if (inflater_new(&inf) == 0) {
		/* Accept any size update up to the limit: the peer's
		 * setting is not known. */
		nghttp2_hd_inflate_change_table_size(inf, HPACK_TABLE_MAX);
		nghttp2_hd_inflate_del(hp->inf);
		hp->inf = inf;
	} else if (hp->inf) {
		/* Out of memory: keep the old one, emptied below by a size
		 * update to 0 in the next block. */
		nghttp2_hd_inflate_end_headers(hp->inf);
	}
	memo_forget(hp);
	hp->synced = false;
	hp->fresh = true;
	hp->size_known = false;
}

/* --- an unknown table state ----------------------------------------- */

enum rep { R_INDEXED, R_INCREMENTAL, R_SIZE, R_LITERAL };

/* Whether index idx can be decoded now. */
static bool known(struct hpack *hp, uint32_t idx)
{
	return idx >= 1 && idx <= STATIC_ENTRIES + dyn_entries(hp);
}

/* True if no entry of the table is a placeholder (so all their sizes
 * are the encoder's). */
static bool no_placeholders(struct hpack *hp)
{
	size_t i, n = dyn_entries(hp);
	const nghttp2_nv *nv;

	for (i = 0; i < n; i++) {
		nv = nghttp2_hd_inflate_get_table_entry(hp->inf,
							STATIC_ENTRIES + 1 + i);
		if (nv && is_placeholder(nv->name, nv->namelen))
			return false;
	}
	return true;
}

/* Decodes one representation of a partial block at *pp.  Returns 0, 1
 * at a representation cut short (the block's end), or -1 on an error. */
static int partial_rep(struct hpack *hp, const uint8_t **pp,
		       const uint8_t *end, struct out *o, size_t *inserted,
		       bool *zeroed, bool *fields)
{
	static const int prefix[] = { 7, 6, 5, 4 };
	const uint8_t *start = *pp, *p = *pp, *value;
	uint8_t head[8 + PLACEHOLDER_LEN];
	enum rep kind;
	uint32_t idx;
	size_t n;
	int r;

	kind = (*p & 0x80) ? R_INDEXED : (*p & 0x40) ? R_INCREMENTAL :
	       (*p & 0x20) ? R_SIZE : R_LITERAL;
	r = hpack_int(&p, end, prefix[kind], &idx);
	if (!r && (kind == R_INCREMENTAL || kind == R_LITERAL)) {
		if (idx == 0)
			r = skip_string(&p, end);
		value = p;
		if (!r)
			r = skip_string(&p, end);
	}
	if (r == -EAGAIN)
		return 1;
	if (r)
		return -1;
	*pp = p;
	/* Section 4.2: size updates come first in a block.  The inflater
	 * cannot tell when fields before one were not passed on. */
	if (kind == R_SIZE && *fields)
		return -1;
	if (kind != R_SIZE)
		*fields = true;
	switch (kind) {
	case R_SIZE:
		hp->size_known = true;
		if (idx == 0)
			*zeroed = true;
		break;
	case R_INDEXED:
		if (idx == 0)
			return -1; /* section 6.1 */
		if (!known(hp, idx)) {
			o->res->unknown++;
			return 0;
		}
		break;
	case R_INCREMENTAL:
		++*inserted;
		if (idx && !known(hp, idx)) {
			/* Keep the indices right: the value is real, the
			 * name a placeholder. */
			n = put_int(head, 0x40, 6, 0);
			head[n++] = PLACEHOLDER_LEN;
			memcpy(head + n, placeholder, PLACEHOLDER_LEN);
			n += PLACEHOLDER_LEN;
			if (inflate_run(hp, head, n, false, o) ||
			    inflate_run(hp, value, (size_t)(p - value), false, o))
				return -1;
			return 0;
		}
		break;
	case R_LITERAL:
		if (idx && !known(hp, idx)) {
			o->res->unknown++;
			return 0;
		}
		break;
	}
	return inflate_run(hp, start, (size_t)(p - start), false, o) ? -1 : 0;
}

static void partial_decode(struct hpack *hp, const uint8_t *block, size_t len,
			   bool whole, struct out *o)
{
	const uint8_t *p = block, *end = block + len;
	size_t before, inserted = 0;
	bool zeroed = false, fields = false, placeholders_free;
	uint8_t head[8];
	int r = 0;

	hp->stats->blocks_partial++;
	if (hp->fresh) {
		/* Raise the table to the limit with a size update at the
		 * block's start (nghttp2 starts at 4096): a smaller table
		 * than the encoder's would lose entries still in use. */
		size_t n = put_int(head, 0x20, 5, HPACK_TABLE_MAX);

		if (inflate_run(hp, head, n, false, o))
			goto fail;
		hp->fresh = false;
	}
	before = dyn_entries(hp);
	while (p < end) {
		r = partial_rep(hp, &p, end, o, &inserted, &zeroed, &fields);
		if (r)
			break;
	}
	if (r < 0 || (r > 0 && whole))
		goto fail;
	if (!whole) {
		reset(hp);
		return;
	}
	if (inflate_run(hp, NULL, 0, true, o))
		goto fail;
	placeholders_free = no_placeholders(hp);
	if (placeholders_free &&
	    (zeroed || (hp->size_known && dyn_entries(hp) < before + inserted))) {
		hp->synced = true;
		hp->stats->resyncs++;
	}
	return;
fail:
	o->res->error = true;
	hp->stats->blocks_failed++;
	reset(hp);
}

/* --- the interface -------------------------------------------------- */

struct hpack *hpack_new(bool synced, struct hpack_stats *stats)
{
	struct hpack *hp = calloc(1, sizeof(*hp));

	if (!hp)
		return NULL;
	hp->stats = stats;
	if (inflater_new(&hp->inf)) {
		free(hp);
		return NULL;
	}
	if (synced)
		hp->synced = true;
	else
		reset(hp);
	if (!hp->inf) {
		free(hp);
		return NULL;
	}
	return hp;
}

void hpack_free(struct hpack *hp)
{
	if (!hp)
		return;
	nghttp2_hd_inflate_del(hp->inf);
	free(hp->memo);
	free(hp);
}

bool hpack_synced(const struct hpack *hp)
{
	return hp->synced;
}

void hpack_lost(struct hpack *hp)
{
	reset(hp);
}

/* The fields of the block being decoded, copied for its memo. */
static _Thread_local uint8_t memo_fields[MEMO_FIELDS_MAX];

void hpack_decode(struct hpack *hp, const uint8_t *block, size_t len,
		  bool whole, hpack_field_fn fn, void *ctx,
		  struct hpack_result *res)
{
	static const uint8_t empty[1];
	struct out o = { .fn = fn, .ctx = ctx, .res = res };

	if (!block)
		block = empty;
	memset(res, 0, sizeof(*res));
	hp->stats->blocks++;
	if (hp->synced && whole && hp->memo && hp->memo->valid &&
	    hp->memo->blen == len && !memcmp(hp->memo->data, block, len)) {
		memo_replay(hp->memo, fn, ctx, res);
		hp->stats->blocks_memo++;
	} else if (!hp->synced) {
		partial_decode(hp, block, len, whole, &o);
	} else {
		memo_forget(hp);
		if (whole && len <= MEMO_BLOCK_MAX && table_neutral(block, len))
			o.rec = memo_fields;
		if (inflate_run(hp, block, len, whole, &o)) {
			res->error = true;
			hp->stats->blocks_failed++;
			reset(hp);
		} else if (!whole) {
			reset(hp);
		} else if (o.rec) {
			memo_keep(hp, block, len, &o);
		}
	}
	res->incomplete = res->unknown || res->dropped || res->invalid ||
			  res->error || !whole;
	hp->stats->fields_unknown += res->unknown;
	hp->stats->fields_dropped += res->dropped;
	hp->stats->fields_invalid += res->invalid;
}

/* --- SETTINGS_HEADER_TABLE_SIZE ------------------------------------- */

static void apply_limit(struct hpack *hp, size_t max)
{
	if (max > HPACK_TABLE_MAX)
		max = HPACK_TABLE_MAX;
	/* Not synced, the inflater keeps the limit: the encoder's table
	 * size is learnt from its size updates. */
	if (hp->synced)
		nghttp2_hd_inflate_change_table_size(hp->inf, max);
	memo_forget(hp); /* the table may be cut, or a size update due */
}

void hpack_settings_sent(struct hpack *hp, int64_t table_size)
{
	if (hp->settings_lost)
		return;
	if (hp->npending == HPACK_SETTINGS_PENDING_MAX) {
		hpack_settings_lost(hp);
		return;
	}
	hp->pending[hp->npending++] = table_size;
}

void hpack_settings_acked(struct hpack *hp)
{
	int64_t v;

	if (hp->settings_lost || !hp->npending)
		return;
	v = hp->pending[0];
	memmove(hp->pending, hp->pending + 1,
		--hp->npending * sizeof(hp->pending[0]));
	if (v >= 0)
		apply_limit(hp, (size_t)v);
}

void hpack_settings_lost(struct hpack *hp)
{
	/* Which ACK answers which frame is unknown from here: accept any
	 * size update up to the limit. */
	hp->settings_lost = true;
	hp->npending = 0;
	apply_limit(hp, HPACK_TABLE_MAX);
}
