/* fuzz_pipeline.c -- libFuzzer harness: decodes an input into probe records and runs them through the stream tracker, the HTTP layer, both writers and a --record/--replay round trip.
 *
 * Built two ways (tests/fuzz/meson.build):
 *   - with -fsanitize=fuzzer: LLVMFuzzerTestOneInput for libFuzzer
 *     (scripts/fuzz);
 *   - with -DFUZZ_CORPUS_RUNNER: a plain program that runs every file of
 *     the directories (or files) named on its command line, so that every
 *     saved input -- seeds and crash-* reproducers -- is a unit test.
 *
 * Input encoding (all little-endian; a short input is padded with zeros,
 * so every byte string is valid):
 *
 *   header, 5 bytes:
 *     [0..1] max_body = u16 % 4097
 *     [2]    bit 0    also write through sinks_open() to /dev/null
 *            bit 1    ... in JSON (else text)
 *            bit 2    also record the records, replay the file into a
 *                     second pipeline and require identical output
 *            bit 3    ... but damage the recording first (no comparison)
 *            bits 4-5 max_conns: 64, 1, 2, 3
 *            bits 6-7 clock offset: realistic, 0, INT64_MIN, INT64_MAX
 *     [3]    bits 0-2 reorder_max: 64, 0, 1, 2, 3, 4, 8, 16
 *            bits 3-5 reorder_ns: 200 ms, 0, 100 ns, 1 us, 1 ms, 10 ms,
 *                     1 s, 60 s
 *            bits 6-7 idle_ns: 300 s, 1 ms, 100 ms, 10 s
 *     [4]    bit 0    --no-redact
 *            bit 1    also redact header X-Token, query token= and key=
 *            bit 2    stream_free() without stream_close_all() first
 *            bit 3    an admit callback that refuses connections whose
 *                     remote port is odd (as -P does)
 *            bit 4    ... that fills in unknown addresses (as /proc does)
 *            bit 5    ... that sets a container id from the comm
 *
 *   then ops, each a 6-byte head [op][conn][arg][flags][len u16] followed
 *   by len payload bytes for the ops that take a payload (cut short at the
 *   end of the input):
 *     (op & 15) % 10:
 *       0 DATA     a HS_EV_DATA record of conn (conn & 3), direction
 *                  (arg & 1), payload = captured bytes (at most
 *                  HS_CHUNK_MAX).  Its pos follows on from the previous
 *                  record of that conn and direction unless flags say:
 *                    flags bits 0-1 span: 0 = captured; 1 = captured +
 *                      A; 2 = A with nothing captured (payload ignored)
 *                      3 = captured + A + B
 *                    flags bits 2-3 pos: 0 = contiguous; 1 = a hole of B
 *                      bytes first; 2 = overlap: B bytes back; 3 =
 *                      contiguous but held back (delivered later by
 *                      RELEASE, i.e. out of order)
 *                    A = amount[(arg >> 1) & 15], B = amount[flags >> 4]
 *                  conn bits 2-3: none, HS_F_UNVERIFIED, HS_F_SENDFILE,
 *                    HS_F_TLS (with the TLS bit in the fd)
 *                  conn bit 4: carry addresses (bit 5: IPv6)
 *                  conn bits 6-7: time step +1 us, +1 ms, +1 s, -1 ms
 *                  op bit 4 (op & 16): comm taken from the payload
 *                  op bit 5 (op & 32): HS_F_START, which the probe sets
 *                    on the first record of a direction, flipped
 *       1 CLOSE    HS_EV_CLOSE of conn; flags bit 0 keeps the conn id
 *                  and positions (a record after it starts mid-stream)
 *       2 EXIT     HS_EV_EXIT of conn's process (conns 0/2 share one,
 *                  1/3 another); flags bit 0 as for CLOSE; flags bit 1:
 *                  HS_EV_EXEC instead (nothing ends)
 *       3 ROLE     role = flags % 3 for conn's next generation; flags
 *                  bit 2 starts that generation now
 *       4 TICK     time moves on by amount[arg & 15] * 1000 ns; a CLOSE
 *                  of a connection never seen carries the time, so a
 *                  replay sees the same clock
 *       5 RAW      payload straight to stream_feed (aligned copy)
 *       6 BAD      a DATA record of conn, then one field broken (flags
 *                  % 10 chooses), payload as its bytes
 *       7 RELEASE  held-back records, newest first (flags bit 0: oldest
 *                  first)
 *       8 NEWGEN   conn gets a new conn id without a close
 *       9 REPEAT   as DATA (contiguous, all captured), 1 + (flags & 63)
 *                  records of the same payload: many headers, long
 *                  heads and deep pipelines from a short input
 *
 * Records are fed as httpsnoop --replay feeds them (stream_feed, then
 * stream_tick at the newest record time).  Every transaction is checked
 * (slices inside its buffer), redacted as main.c does (then every listed
 * header and query value must read "[redacted N bytes]"), and formatted
 * by text_format_txn() and json_format_txn() into memory: JSON must
 * be one valid JSON object on one line of valid UTF-8, text must be valid
 * UTF-8 with no control character but \t and \n and none of the code
 * points writer_cp_unsafe() names, and each message's slices must lie in
 * its buffer.  A violation aborts, which libFuzzer saves as a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink/sink.h"
#include "sink/writer.h"
#include "capture/record.h"
#include "core/redact.h"
#include "core/stats.h"
#include "stream/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCONN 4
#define MAX_HELD 8     /* records held back for out-of-order delivery */
#define MAX_OPS 4096   /* ops decoded per input */
#define HEAD_LEN 5
#define OP_LEN 6
#define REC_BUF (sizeof(struct hs_event) + HS_CHUNK_MAX + 64)

enum op {
	OP_DATA,
	OP_CLOSE,
	OP_EXIT,
	OP_ROLE,
	OP_TICK,
	OP_RAW,
	OP_BAD,
	OP_RELEASE,
	OP_NEWGEN,
	OP_REPEAT,
	OP_COUNT,
};

/* Sizes for spans, holes and overlaps, up to a 4 GiB record and a 1 TiB
 * hole: a gap must cost the same whatever its size. */
static const uint64_t amount[16] = {
	0, 1, 2, 3, 7, 100, 1000, 4096, 16383, 16384, 65536, 65537,
	1 << 20, 10 << 20, 0xffffffffULL, 1ULL << 40,
};

/* Corpus runner with -v: show every transaction as text on stdout. */
static bool dump;

static void fail(const char *what, const char *detail, size_t dlen)
{
	fprintf(stderr, "fuzz_pipeline: %s\n", what);
	if (detail) {
		fprintf(stderr, "--- output (%zu bytes) ---\n", dlen);
		fwrite(detail, 1, dlen, stderr);
		fprintf(stderr, "\n---\n");
	}
	abort();
}

/* ---- output checks ------------------------------------------------- */

/* Valid UTF-8 with no control character other than those in `allowed`,
 * and no code point the writers promise to escape. */
static bool check_safe(const char *s, size_t n, const char *allowed)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	uint32_t cp;
	int l;

	while (i < n) {
		if (p[i] < 0x20 && !strchr(allowed, p[i]))
			return false;
		l = writer_utf8_len(p + i, n - i, &cp);
		if (l <= 0 || writer_cp_unsafe(cp))
			return false;
		i += l;
	}
	return true;
}

/* A small RFC 8259 recogniser, enough to prove that a line parses. */
struct json {
	const char *p, *end;
	int depth;
};

static bool json_value(struct json *j);

static void json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool json_lit(struct json *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

static bool json_string(struct json *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, j->p++)
				if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
					return false;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return false;
		}
	}
	return false;
}

static bool json_number(struct json *j)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return false;
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static bool json_container(struct json *j, char close, bool object)
{
	j->p++;
	json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		json_ws(j);
		if (object) {
			if (!json_string(j))
				return false;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!json_value(j))
			return false;
		json_ws(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == close) {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

static bool json_value(struct json *j)
{
	bool ok;

	json_ws(j);
	if (j->p >= j->end || ++j->depth > 32)
		return false;
	switch (*j->p) {
	case '{':
		ok = json_container(j, '}', true);
		break;
	case '[':
		ok = json_container(j, ']', false);
		break;
	case '"':
		ok = json_string(j);
		break;
	case 't':
		ok = json_lit(j, "true");
		break;
	case 'f':
		ok = json_lit(j, "false");
		break;
	case 'n':
		ok = json_lit(j, "null");
		break;
	default:
		ok = json_number(j);
		break;
	}
	j->depth--;
	return ok;
}

static void check_json(const char *s, size_t n)
{
	struct json j = { s, s + n, 0 };

	if (n < 3 || s[0] != '{' || s[n - 1] != '\n' || memchr(s, '\n', n) != s + n - 1)
		fail("JSON writer: not exactly one line holding an object", s, n);
	if (!check_safe(s, n, "\n"))
		fail("JSON writer: invalid UTF-8, raw control or unsafe code point", s, n);
	j.end--; /* the newline */
	if (!json_value(&j) || j.p != j.end)
		fail("JSON writer: line does not parse as JSON", s, n);
}

static void check_text(const char *s, size_t n)
{
	if (n < 2 || s[n - 1] != '\n' || s[n - 2] != '\n')
		fail("text writer: block does not end with a blank line", s, n);
	if (!check_safe(s, n, "\t\n"))
		fail("text writer: invalid UTF-8, raw control or unsafe code point", s, n);
}

static bool slice_ok(const struct http_msg *m, uint32_t off, uint32_t len)
{
	if (!len && !off)
		return true;
	return m->buf && off <= m->buf_len && len <= m->buf_len - off &&
	       off + len < m->buf_cap && m->buf[off + len] == '\0';
}

/* Before redaction (`raw`), the buffer holds network bytes only and keeps
 * to HTTP_MSG_BUF_MAX; redaction may append past it. */
static void check_msg(const struct http_msg *m, size_t max_body, bool raw)
{
	if (!m->present)
		return;
	if ((raw && m->buf_len > HTTP_MSG_BUF_MAX) || m->buf_len > m->buf_cap ||
	    (m->buf && m->buf_len >= m->buf_cap))
		fail("message buffer length out of range", NULL, 0);
	if (m->nhdrs > HTTP_MSG_HDRS_MAX || m->nhdrs > m->hdrs_cap)
		fail("message header count out of range", NULL, 0);
	if (!slice_ok(m, m->method_off, m->method_len) ||
	    !slice_ok(m, m->target_off, m->target_len) ||
	    !slice_ok(m, m->reason_off, m->reason_len))
		fail("start-line slice outside the message buffer", NULL, 0);
	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct http_header *h = &m->hdrs[i];
		char why[160];

		if (slice_ok(m, h->name_off, h->name_len) &&
		    slice_ok(m, h->value_off, h->value_len))
			continue;
		snprintf(why, sizeof(why),
			 "header %zu of %zu: name %u+%u, value %u+%u, buf_len %zu%s",
			 i, m->nhdrs, h->name_off, h->name_len, h->value_off,
			 h->value_len, m->buf_len, m->head_truncated ? ", truncated" : "");
		fail("header slice outside the message buffer", why, strlen(why));
	}
	if (m->preview_len > max_body || (m->preview_len && !m->preview))
		fail("body preview longer than max_body", NULL, 0);
	if (m->body_missing > m->body_size)
		fail("body_missing > body_size", NULL, 0);
}

static bool listed(const char *const *names, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && !strncasecmp(names[i], s, len))
			return true;
	return false;
}

/* Every listed header's value must read "[redacted N bytes]", maybe after
 * an auth scheme, and every listed query parameter's value too. */
static void check_redacted(const struct redact *r, const struct http_msg *m)
{
	static const char tag[] = "[redacted ", tail[] = " bytes]";
	const char *v, *sp, *t, *end, *p;

	if (r->off || !m->present || !m->buf)
		return;
	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct http_header *h = &m->hdrs[i];
		size_t n = h->value_len;

		if (!listed(r->headers, r->nheaders, m->buf + h->name_off, h->name_len))
			continue;
		v = m->buf + h->value_off;
		sp = memchr(v, ' ', n);
		if (sp && strncmp(v, tag, sizeof(tag) - 1)) {
			n -= sp + 1 - v;
			v = sp + 1;
		}
		if (n < sizeof(tag) + sizeof(tail) - 2 || strncmp(v, tag, sizeof(tag) - 1) ||
		    memcmp(v + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1))
			fail("a listed header is not redacted", v, h->value_len);
	}
	if (!r->nquery || !m->target_len)
		return;
	t = m->buf + m->target_off;
	end = t + m->target_len;
	p = memchr(t, '?', m->target_len);
	for (p = p ? p + 1 : end; p < end;) {
		const char *amp = memchr(p, '&', end - p), *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', pe - p);

		if (eq && listed(r->query, r->nquery, p, eq - p) &&
		    (pe - eq - 1 < (long)(sizeof(tag) + sizeof(tail) - 2) ||
		     strncmp(eq + 1, tag, sizeof(tag) - 1) ||
		     memcmp(pe - (sizeof(tail) - 1), tail, sizeof(tail) - 1)))
			fail("a listed query parameter is not redacted", t, m->target_len);
		p = amp ? amp + 1 : end;
	}
}

/* ---- one pipeline --------------------------------------------------- */

struct pipe {
	struct stats stats;
	struct stream *st;
	struct sink_config oo;
	struct redact redact;
	struct sinks *out;     /* optional, /dev/null */
	FILE *log;	       /* everything written, for the comparison */
	char *log_buf;
	size_t log_len;
	uint64_t last_ts;
	uint64_t emitted;
	size_t max_conns;
	uint8_t admit_mode; /* header byte 4, bits 3-5 */
};

/* Stands in for main.c's admit_replay/admit_live. */
static bool admit(void *ctx, struct conn_info *c, unsigned ev_flags)
{
	struct pipe *p = ctx;

	(void)ev_flags;
	if ((p->admit_mode & 2) && c->local.family == 0) {
		c->local.family = c->remote.family = AF_INET6;
		c->local.port = 80;
		c->remote.port = (uint16_t)(50000 + c->conn_id);
		c->local.addr[15] = c->remote.addr[15] = 1;
	}
	if (p->admit_mode & 4)
		snprintf(c->container_id, sizeof(c->container_id), "%s%s",
			 c->comm, c->comm);
	return !(p->admit_mode & 1) || c->remote.family == 0 || !(c->remote.port & 1);
}

static void emit(void *ctx, struct txn *t)
{
	struct pipe *p = ctx;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	check_msg(&t->req, p->oo.max_body, true);
	check_msg(&t->resp, p->oo.max_body, true);
	redact_txn(&p->redact, t);
	check_msg(&t->req, p->oo.max_body, false);
	check_msg(&t->resp, p->oo.max_body, false);
	check_redacted(&p->redact, &t->req);
	check_redacted(&p->redact, &t->resp);
	for (int w = 0; w < 2; w++) {
		f = open_memstream(&buf, &len);
		if (!f)
			abort();
		if (w ? json_format_txn(f, t, &p->oo) : text_format_txn(f, t, &p->oo))
			fail("writer reported an error on a memory stream", NULL, 0);
		fclose(f);
		if (w)
			check_json(buf, len);
		else
			check_text(buf, len);
		if (dump && !w)
			fwrite(buf, 1, len, stdout);
		fwrite(buf, 1, len, p->log);
		free(buf);
		buf = NULL;
	}
	if (p->out)
		sinks_txn(p->out, t);
	p->emitted++;
}

static int pipe_init(struct pipe *p, const struct stream_opts *so_in,
		     const struct sink_config *oo, const struct redact *r,
		     bool devnull, uint8_t admit_mode)
{
	struct stream_opts so = *so_in;

	memset(p, 0, sizeof(*p));
	p->oo = *oo;
	p->redact = *r;
	p->max_conns = so.max_conns;
	so.emit = (struct proto_emit){ .txn = emit, .ctx = p };
	so.stats = &p->stats;
	p->admit_mode = admit_mode;
	so.admit = admit_mode ? admit : NULL;
	so.admit_ctx = p;
	p->log = open_memstream(&p->log_buf, &p->log_len);
	p->st = stream_new(&so);
	p->oo.output = "/dev/null";
	if (devnull)
		p->out = sinks_open(&p->oo);
	if (!p->log || !p->st || (devnull && !p->out))
		abort();
	return 0;
}

/* As httpsnoop --replay does it: on_record() then stream_tick(). */
static void pipe_feed(struct pipe *p, const void *rec, size_t len)
{
	const struct hs_event *ev = rec;

	if (len >= sizeof(*ev) && ev->ts_ns > p->last_ts)
		p->last_ts = ev->ts_ns;
	stream_feed(p->st, rec, len);
	stream_tick(p->st, p->last_ts);
	if (stream_count(p->st) > p->max_conns)
		fail("more connections tracked than max_conns", NULL, 0);
}

static void pipe_end(struct pipe *p, bool close_all)
{
	if (dump)
		fprintf(stderr, "txns %llu parse_err %llu events %llu bad %llu bytes %llu conns %llu gap %llu resync %llu\n",
			(unsigned long long)p->stats.txns, (unsigned long long)p->stats.parse_errors, (unsigned long long)p->stats.events, (unsigned long long)p->stats.bad_records,
			(unsigned long long)p->stats.bytes, (unsigned long long)p->stats.conns,
			(unsigned long long)p->stats.gap_bytes, (unsigned long long)p->stats.resync_bytes);
	if (close_all) {
		stream_close_all(p->st, p->last_ts, "recording ended");
		if (stream_count(p->st))
			fail("connections left after stream_close_all", NULL, 0);
	}
	if (p->stats.txns != p->emitted)
		fail("stats.txns differs from the transactions emitted", NULL, 0);
	stream_free(p->st);
	p->st = NULL;
	if (p->out) {
		sinks_flush(p->out);
		sinks_close(p->out);
		p->out = NULL;
	}
	fclose(p->log);
	p->log = NULL;
}

static int replay_cb(void *ctx, const void *rec, size_t len)
{
	pipe_feed(ctx, rec, len);
	return 0;
}

/* ---- the decoder ----------------------------------------------------- */

struct conn_state {
	uint64_t gen;
	uint8_t role;	    /* for records of the current generation */
	uint8_t next_role;  /* from the next generation on */
	uint64_t pos[2];
	bool sent[2];	    /* a DATA record went out in this direction */
};

struct held {
	size_t len;
	uint64_t rec[]; /* aligned as a record */
};

struct fuzz {
	const uint8_t *in;
	size_t size, at;
	struct pipe p;
	struct recorder *rec;
	bool record_oversize; /* a record replay_file must refuse */
	bool close_all;
	uint64_t ts;
	struct conn_state c[NCONN];
	struct held *held[MAX_HELD];
	size_t nheld;
	uint64_t *buf; /* REC_BUF bytes, 8-aligned */
};

static char tmp_dir[PATH_MAX - 8];
static char rec_path[PATH_MAX];

static void cleanup_tmp(void)
{
	if (rec_path[0])
		unlink(rec_path);
	if (tmp_dir[0])
		rmdir(tmp_dir);
}

static void setup_tmp(void)
{
	const char *base = getenv("TMPDIR");

	if (tmp_dir[0])
		return;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/httpsnoop-fuzz-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmp_dir)) {
		perror("fuzz_pipeline: mkdtemp");
		abort();
	}
	snprintf(rec_path, sizeof(rec_path), "%s/rec", tmp_dir);
	atexit(cleanup_tmp);
}

static uint8_t in_byte(struct fuzz *z)
{
	return z->at < z->size ? z->in[z->at++] : 0;
}

static uint64_t conn_id(const struct fuzz *z, int i)
{
	return 1 + (uint64_t)i + NCONN * z->c[i].gen;
}

static uint32_t conn_pid(int i)
{
	return 1000 + (i & 1);
}

static void new_gen(struct fuzz *z, int i)
{
	z->c[i].gen++;
	z->c[i].pos[0] = z->c[i].pos[1] = 0;
	z->c[i].sent[0] = z->c[i].sent[1] = false;
	z->c[i].role = z->c[i].next_role;
}

static void feed(struct fuzz *z, const void *rec, size_t len)
{
	if (z->rec) {
		recorder_write(z->rec, rec, len);
		if (len > RECORD_MAX)
			z->record_oversize = true;
	}
	pipe_feed(&z->p, rec, len);
}

static struct hs_event *ev_init(struct fuzz *z, uint8_t type, int i)
{
	struct hs_event *ev = (struct hs_event *)z->buf;

	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = z->ts;
	ev->type = type;
	if (i >= 0) {
		ev->conn_id = conn_id(z, i);
		ev->cgroup_id = 4242;
		ev->tgid = conn_pid(i);
		ev->tid = ev->tgid + 100;
		ev->fd = 3 + i;
		ev->role = z->c[i].role;
		memcpy(ev->comm, "fuzz", 4);
	}
	return ev;
}

static void step_time(struct fuzz *z, unsigned sel)
{
	static const int64_t steps[4] = { 1000, 1000000, 1000000000, -1000000 };
	int64_t d = steps[sel & 3];

	if (d < 0 && z->ts < (uint64_t)-d)
		z->ts = 0;
	else
		z->ts += d;
}

static void release(struct fuzz *z, bool oldest_first)
{
	while (z->nheld) {
		struct held *h;

		if (oldest_first) {
			h = z->held[0];
			memmove(z->held, z->held + 1, (z->nheld - 1) * sizeof(z->held[0]));
		} else {
			h = z->held[z->nheld - 1];
		}
		z->nheld--;
		feed(z, h->rec, h->len);
		free(h);
	}
}

static void hold(struct fuzz *z, const void *rec, size_t len)
{
	struct held *h;

	if (z->nheld == MAX_HELD)
		release(z, true);
	h = malloc(sizeof(*h) + len);
	if (!h)
		abort();
	h->len = len;
	memcpy(h->rec, rec, len);
	z->held[z->nheld++] = h;
}

static void op_data(struct fuzz *z, uint8_t op, int i, uint8_t conn,
		    uint8_t arg, uint8_t flags, const uint8_t *pl, size_t plen)
{
	struct hs_event *ev = ev_init(z, HS_EV_DATA, i);
	int dir = arg & 1;
	uint64_t a = amount[(arg >> 1) & 15], b = amount[flags >> 4];
	uint64_t *pos = &z->c[i].pos[dir];
	uint64_t span, captured = plen > HS_CHUNK_MAX ? HS_CHUNK_MAX : plen;

	switch (flags & 3) {
	case 0:
		span = captured;
		break;
	case 1:
		span = captured + a;
		break;
	case 2:
		captured = 0;
		span = a;
		break;
	default:
		span = captured + a + b;
		break;
	}
	if (span > UINT32_MAX)
		span = UINT32_MAX;
	switch ((flags >> 2) & 3) {
	case 1:
		*pos += b;
		break;
	case 2:
		*pos -= b < *pos ? b : *pos;
		break;
	default:
		break;
	}
	ev->pos = *pos;
	ev->span = (uint32_t)span;
	ev->captured = (uint32_t)captured;
	ev->syscall_len = (uint32_t)span;
	ev->dir = dir;
	switch ((conn >> 2) & 3) {
	case 1:
		ev->flags = HS_F_UNVERIFIED;
		break;
	case 2:
		ev->flags = HS_F_SENDFILE;
		break;
	case 3:
#ifdef HS_F_TLS
		ev->flags = HS_F_TLS;
		ev->fd |= HS_TLS_FD;
#endif
		break;
	default:
		break;
	}
#ifdef HS_F_START
	/* The probe marks the first record of each direction; op bit 5
	 * turns that around (a lost first record, or a stray mark). */
	if (!z->c[i].sent[dir] != !(op & 32))
		ev->flags |= HS_F_START;
#endif
	z->c[i].sent[dir] = true;
	if (conn & 16) {
		ev->local.family = conn & 32 ? AF_INET6 : AF_INET;
		ev->local.port = 8080;
		ev->local.addr[0] = 127;
		ev->local.addr[3] = 1;
		ev->remote = ev->local;
		ev->remote.port = 40000 + i;
	}
	if ((op & 16) && plen)
		memcpy(ev->comm, pl, plen < HS_COMM_LEN ? plen : HS_COMM_LEN);
	memcpy(ev + 1, pl, captured);
	*pos += span;
	step_time(z, conn >> 6);
	ev->ts_ns = z->ts;
	if (((flags >> 2) & 3) == 3)
		hold(z, ev, sizeof(*ev) + captured);
	else
		feed(z, ev, sizeof(*ev) + captured);
}

static void op_bad(struct fuzz *z, int i, uint8_t arg, uint8_t flags,
		   const uint8_t *pl, size_t plen)
{
	struct hs_event *ev = ev_init(z, HS_EV_DATA, i);
	size_t captured = plen > HS_CHUNK_MAX ? HS_CHUNK_MAX : plen;
	size_t len = sizeof(*ev) + captured;
	uint8_t v = plen ? pl[0] : arg;

	ev->dir = arg & 1;
	ev->pos = z->c[i].pos[ev->dir];
	ev->span = ev->captured = (uint32_t)captured;
	memcpy(ev + 1, pl, captured);
	switch (flags % 10) {
	case 0:
		ev->type = v; /* maybe a valid one, with a payload */
		break;
	case 1:
		ev->dir = 2 + (v & 0x7f);
		break;
	case 2:
		ev->role = 3 + (v & 0x7f);
		break;
	case 3:
		ev->span = ev->captured ? ev->captured - 1 : 0; /* captured > span */
		if (!ev->captured)
			ev->captured = 1, len = sizeof(*ev);
		break;
	case 4:
		ev->captured = HS_CHUNK_MAX + 1 + v;
		ev->span = ev->captured;
		break;
	case 5:
		len = v % sizeof(*ev); /* shorter than a header */
		break;
	case 6:
		len = sizeof(*ev) + captured - (captured ? 1 : 0);
		if (!captured)
			ev->captured = 1;
		break;
	case 7:
		ev->captured += 1 + v; /* claims more than it holds */
		ev->span = ev->captured;
		break;
	case 8:
		ev->type = HS_EV_CLOSE + (v & 1); /* CLOSE/EXIT with a payload */
		if (!captured)
			len++;
		break;
	default:
		ev->pos = UINT64_MAX - (v & 15); /* pos + span wraps */
		break;
	}
	feed(z, ev, len);
}

static void run_ops(struct fuzz *z)
{
	for (int n = 0; n < MAX_OPS && z->at < z->size; n++) {
		uint8_t op = in_byte(z), conn = in_byte(z), arg = in_byte(z);
		uint8_t flags = in_byte(z);
		size_t len = in_byte(z);
		const uint8_t *pl;
		int i = conn & (NCONN - 1), kind;
		struct hs_event *ev;

		len |= (size_t)in_byte(z) << 8;
		pl = z->in + z->at;
		kind = (op & 15) % OP_COUNT;
		if (len > z->size - z->at)
			len = z->size - z->at;
		switch (kind) {
		case OP_DATA:
			z->at += len;
			op_data(z, op, i, conn, arg, flags, pl, len);
			break;
		case OP_CLOSE:
		case OP_EXIT:
			step_time(z, conn >> 6);
			ev = ev_init(z, kind == OP_CLOSE ? HS_EV_CLOSE : HS_EV_EXIT, i);
			if (kind == OP_EXIT) {
				uint32_t pid = ev->tgid;

				memset(ev, 0, sizeof(*ev));
				ev->type = HS_EV_EXIT;
				ev->ts_ns = z->ts;
				ev->tgid = pid;
#ifdef HS_F_TLS
				if (flags & 2)
					ev->type = HS_EV_EXEC;
#endif
			}
			feed(z, ev, sizeof(*ev));
			if (flags & 1 || (kind == OP_EXIT && flags & 2))
				break;
			for (int k = 0; k < NCONN; k++)
				if (k == i || (kind == OP_EXIT &&
					       conn_pid(k) == conn_pid(i)))
					new_gen(z, k);
			break;
		case OP_ROLE:
			z->c[i].next_role = flags % 3;
			if (flags & 4)
				new_gen(z, i);
			break;
		case OP_TICK:
			z->ts += amount[arg & 15] * 1000;
			ev = ev_init(z, HS_EV_CLOSE, -1);
			ev->conn_id = UINT64_MAX; /* never a connection */
			feed(z, ev, sizeof(*ev));
			break;
		case OP_RAW: {
			size_t rn = len > REC_BUF ? REC_BUF : len;

			z->at += len;
			memcpy(z->buf, pl, rn);
			feed(z, z->buf, rn);
			break;
		}
		case OP_BAD:
			z->at += len;
			op_bad(z, i, arg, flags, pl, len);
			break;
		case OP_RELEASE:
			release(z, flags & 1);
			break;
		case OP_NEWGEN:
			new_gen(z, i);
			break;
		default:
			z->at += len;
			for (int k = 0; k <= (flags & 63); k++)
				op_data(z, 0, i, conn, arg & 1, 0, pl, len);
			break;
		}
	}
	release(z, false);
}

/* Replays the recording into a second pipeline, which must write exactly
 * what the first one did. */
static void replay_and_compare(struct fuzz *z, const struct stream_opts *so,
			       const struct sink_config *oo, uint8_t damage)
{
	struct pipe p2;
	int64_t offset = 0;
	long bad_at = 0;
	struct stat sb;
	int err;

	if (recorder_close(z->rec))
		fail("recorder_close failed", NULL, 0);
	z->rec = NULL;
	if (damage) {
		/* Cut the file somewhere, maybe inside the header. */
		if (stat(rec_path, &sb) == 0 && truncate(rec_path, sb.st_size * damage / 256))
			abort();
	}
	err = replay_header(rec_path, &offset);
	if (!damage && (err || offset != oo->clock_offset_ns))
		fail("replay_header does not read back the recorder's header", NULL, 0);
	pipe_init(&p2, so, oo, &z->p.redact, false, z->p.admit_mode);
	err = replay_file(rec_path, replay_cb, &p2, &offset, &bad_at);
	pipe_end(&p2, z->close_all);
	if (!damage) {
		if (z->record_oversize ? err != -EBADMSG : err != 0)
			fail("replay_file does not read back what recorder_write wrote", NULL, 0);
		if (!err && (p2.log_len != z->p.log_len ||
			     memcmp(p2.log_buf, z->p.log_buf, p2.log_len)))
			fail("a replay of the recording writes different output", NULL, 0);
	}
	free(p2.log_buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t conns_sel[4] = { 64, 1, 2, 3 };
	static const int64_t offset_sel[4] = { 1700000000000000000LL, 0,
					       INT64_MIN, INT64_MAX };
	static const size_t reorder_max_sel[8] = { 64, 0, 1, 2, 3, 4, 8, 16 };
	static const uint64_t reorder_ns_sel[8] = {
		200000000, 0, 100, 1000, 1000000, 10000000, 1000000000,
		60000000000ULL,
	};
	static const uint64_t idle_ns_sel[4] = {
		300000000000ULL, 1000000, 100000000, 10000000000ULL,
	};
	struct fuzz z = { .in = data, .size = size, .ts = 1000000000 };
	struct stream_opts so = { 0 };
	struct sink_config oo = { 0 };
	struct redact rd;
	uint8_t h[HEAD_LEN], damage = 0;

	for (int k = 0; k < HEAD_LEN; k++)
		h[k] = in_byte(&z);
	oo.max_body = (h[0] | (size_t)h[1] << 8) % 4097;
	oo.format = h[2] & 2 ? SINK_JSON : SINK_TEXT;
	oo.clock_offset_ns = offset_sel[h[2] >> 6];
	so.max_conns = conns_sel[(h[2] >> 4) & 3];
	so.reorder_max = reorder_max_sel[h[3] & 7];
	so.reorder_ns = reorder_ns_sel[(h[3] >> 3) & 7];
	so.idle_ns = idle_ns_sel[h[3] >> 6];
	so.max_body = oo.max_body;
	for (int k = 0; k < NCONN; k++) {
		static const uint8_t roles[NCONN] = { HS_ROLE_CLIENT, HS_ROLE_SERVER,
						      HS_ROLE_UNKNOWN, HS_ROLE_CLIENT };

		z.c[k].role = z.c[k].next_role = roles[k];
	}
	z.buf = aligned_alloc(8, (REC_BUF + 7) / 8 * 8);
	if (!z.buf)
		abort();
	redact_init(&rd);
	rd.off = h[4] & 1;
	if (h[4] & 2) {
		redact_add_header(&rd, "X-Token");
		redact_add_query(&rd, "token");
		redact_add_query(&rd, "key");
	}
	pipe_init(&z.p, &so, &oo, &rd, h[2] & 1, (h[4] >> 3) & 7);
	if (h[2] & 4) {
		setup_tmp();
		z.rec = recorder_open(rec_path, oo.clock_offset_ns);
		if (!z.rec) {
			perror("fuzz_pipeline: recorder_open");
			abort();
		}
		if (h[2] & 8)
			damage = 1 + (size % 255);
	}

	run_ops(&z);
	z.close_all = !(h[4] & 4);
	pipe_end(&z.p, z.close_all);
	if (z.rec)
		replay_and_compare(&z, &so, &oo, damage);
	free(z.p.log_buf);
	free(z.buf);
	return 0;
}

#ifdef FUZZ_CORPUS_RUNNER
/* The corpus runner: every file of the directories (or the files) named
 * on the command line, in name order. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f) {
		fprintf(stderr, "fuzz-corpus: failed to open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -1;
	}
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n) {
		fprintf(stderr, "fuzz-corpus: failed to read %s\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	fprintf(stderr, "fuzz-corpus: %s\n", path);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	size_t ran = 0, bad = 0;
	int first = 1;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		dump = true;
		first++;
	}
	if (argc <= first) {
		fprintf(stderr, "usage: %s [-v] DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int a = first; a < argc; a++) {
		struct stat sb;
		struct dirent *de;
		char **names = NULL;
		size_t nn = 0;
		DIR *d;

		if (stat(argv[a], &sb)) {
			fprintf(stderr, "fuzz-corpus: failed to open %s: %s\n", argv[a], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(sb.st_mode)) {
			bad += run_file(argv[a]) != 0;
			ran++;
			continue;
		}
		d = opendir(argv[a]);
		if (!d)
			return 1;
		while ((de = readdir(d))) {
			char *p;

			if (de->d_name[0] == '.')
				continue;
			if (asprintf(&p, "%s/%s", argv[a], de->d_name) < 0)
				return 1;
			names = realloc(names, (nn + 1) * sizeof(*names));
			if (!names)
				return 1;
			names[nn++] = p;
		}
		closedir(d);
		qsort(names, nn, sizeof(*names), cmp_names);
		for (size_t k = 0; k < nn; k++) {
			if (stat(names[k], &sb) == 0 && S_ISREG(sb.st_mode)) {
				bad += run_file(names[k]) != 0;
				ran++;
			}
			free(names[k]);
		}
		free(names);
	}
	printf("fuzz-corpus: %zu inputs run, %zu unreadable\n", ran, bad);
	return bad || !ran ? 1 : 0;
}
#endif
