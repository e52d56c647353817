/* test_h2conn.c -- unit test of the h2 protocol through the stream tracker: captures of real peers fed as probe records, their transactions checked against what Python's own HTTP/2 stack read in them.
 *
 * Each capture (tests/unit/h2/NAME.cap, recorded by h2_record.py) comes
 * with NAME.txns: one line per stream -- method, path, status, body
 * sizes, pushed, gRPC status and message counts -- worked out by
 * hyperframe and hpack, the independent ground truth.  The capture is fed
 * as the server saw it and as the client did, its records whole, split
 * in two and byte by byte; then joined midway at every record (role
 * unknown), where every transaction reported must be one of the lines,
 * with only the fields that could not be decoded shown unknown; then
 * with each record lost in turn, where nothing may be invented.
 * Arguments: the captures' folder, then optionally a capture name.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "core/txn.h"
#include "event.h"
#include "stream/stream.h"

static unsigned long checks, failures;
static const char *cur = "-";
static char cur_mode[96] = "-";
static int budget;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		checks++;                                                     \
		if (!(cond)) {                                                \
			failures++;                                           \
			if (budget-- > 0) {                                   \
				fprintf(stderr, "FAIL %s:%d [%s / %s]: ",     \
					__FILE__, __LINE__, cur, cur_mode);   \
				fprintf(stderr, __VA_ARGS__);                 \
				fputc('\n', stderr);                          \
			}                                                     \
		}                                                             \
	} while (0)

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 65536 > cap) {
			cap = (n + 65536) * 2;
			p = realloc(p, cap + 1);
			if (!p)
				abort();
		}
		r = fread(p + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	p[n] = '\0';
	*len = n;
	return p;
}

/* ---- the capture ----------------------------------------------------- */

struct record {
	int from_client;
	const uint8_t *p;
	size_t len;
};

struct capture {
	char *raw, *txns;
	struct record *recs;
	size_t nrecs;
	char **lines; /* of txns */
	size_t nlines;
};

static int capture_load(struct capture *c, const char *dir, const char *name)
{
	char path[4096];
	size_t len, off = 0, n;
	uint32_t rl;
	const uint8_t *r;
	char *line, *save;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/%s.cap", dir, name);
	c->raw = slurp(path, &len);
	snprintf(path, sizeof(path), "%s/%s.txns", dir, name);
	c->txns = slurp(path, &n);
	if (!c->raw || !c->txns)
		return -1;
	r = (const uint8_t *)c->raw;
	while (off + 5 <= len) {
		rl = (uint32_t)r[off + 1] << 24 | (uint32_t)r[off + 2] << 16 |
		     (uint32_t)r[off + 3] << 8 | r[off + 4];
		if (off + 5 + rl > len)
			return -1;
		c->recs = realloc(c->recs, (c->nrecs + 1) * sizeof(*c->recs));
		c->recs[c->nrecs++] = (struct record){ r[off] == 'C', r + off + 5, rl };
		off += 5 + rl;
	}
	for (line = strtok_r(c->txns, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		c->lines = realloc(c->lines, (c->nlines + 1) * sizeof(*c->lines));
		c->lines[c->nlines++] = line;
	}
	return 0;
}

static void capture_free(struct capture *c)
{
	free(c->raw);
	free(c->txns);
	free(c->recs);
	free(c->lines);
}

/* ---- transactions as lines ------------------------------------------ */

struct got {
	char **lines;
	size_t n;
	unsigned long h2; /* transactions of protocol h2 */
};

static void put_slice(char **p, size_t *room, const struct http_msg *m,
		      uint32_t off, uint32_t len, bool unknown)
{
	int n;

	if (unknown || !m->present)
		n = snprintf(*p, *room, "?");
	else
		n = snprintf(*p, *room, "%.*s", (int)len, http_str(m, off));
	if (n > 0 && (size_t)n < *room) {
		*p += n;
		*room -= (size_t)n;
	}
}

/* The .txns format (h2_record.py). */
static void on_txn(void *ctx, struct txn *t)
{
	struct got *g = ctx;
	char buf[1024], *p = buf, grpc[64] = "-", status[16] = "-";
	size_t room = sizeof(buf);
	int n;

	if (t->proto == TXN_H2)
		g->h2++;
	n = snprintf(p, room, "s=%u ", t->stream_id);
	p += n;
	room -= (size_t)n;
	put_slice(&p, &room, &t->req, t->req.method_off, t->req.method_len,
		  t->req.unknown & HTTP_U_METHOD);
	*p++ = ' ';
	room--;
	put_slice(&p, &room, &t->req, t->req.target_off, t->req.target_len,
		  t->req.unknown & HTTP_U_TARGET);
	if (t->resp.present && (t->resp.unknown & HTTP_U_STATUS))
		snprintf(status, sizeof(status), "?");
	else if (t->resp.present)
		snprintf(status, sizeof(status), "%d", t->resp.status);
	if (t->grpc) {
		if (t->grpc->status >= 0)
			snprintf(grpc, sizeof(grpc), "%d/%llu/%llu", t->grpc->status,
				 (unsigned long long)t->grpc->msgs[0],
				 (unsigned long long)t->grpc->msgs[1]);
		else
			snprintf(grpc, sizeof(grpc), "-/%llu/%llu",
				 (unsigned long long)t->grpc->msgs[0],
				 (unsigned long long)t->grpc->msgs[1]);
	}
	snprintf(p, room, " %s req=%llu resp=%llu pushed=%d grpc=%s", status,
		 (unsigned long long)t->req.body_size,
		 (unsigned long long)t->resp.body_size, t->pushed, grpc);
	g->lines = realloc(g->lines, (g->n + 1) * sizeof(*g->lines));
	g->lines[g->n++] = strdup(buf);
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->lines[i]);
	free(g->lines);
	memset(g, 0, sizeof(*g));
}

static unsigned long stream_of(const char *line)
{
	return strtoul(line + 2, NULL, 10);
}

static int by_stream(const void *a, const void *b)
{
	unsigned long x = stream_of(*(char *const *)a), y = stream_of(*(char *const *)b);

	return x < y ? -1 : x > y;
}

/* Whether got matches want, but for fields shown "?" in got (the
 * fields separated by spaces; "grpc=-", not known to be gRPC, fits
 * any).  lax, after a loss: only the stream,
 * method and path must match, and the status too unless the response
 * was lost ("-"). */
static bool line_fits(const char *got, const char *want, bool lax)
{
	char g[1024], w[1024], *gs, *ws, *gt, *wt;
	int field = 0;

	snprintf(g, sizeof(g), "%s", got);
	snprintf(w, sizeof(w), "%s", want);
	for (gt = strtok_r(g, " ", &gs), wt = strtok_r(w, " ", &ws); gt && wt;
	     gt = strtok_r(NULL, " ", &gs), wt = strtok_r(NULL, " ", &ws), field++) {
		if (lax && field == 3 && !strcmp(gt, "-"))
			return true;
		/* Joined midway, the content-type that says gRPC may be
		 * an entry of the table from before: not known, not
		 * guessed. */
		if (!strcmp(gt, "grpc=-"))
			continue;
		if (lax && field >= 4)
			return true;
		if (strcmp(gt, "?") && strcmp(gt, wt))
			return false;
	}
	return !gt && !wt;
}

/* ---- feeding --------------------------------------------------------- */

static uint8_t recbuf[sizeof(struct hs_event) + HS_CHUNK_MAX];

struct feed {
	struct stream *st;
	struct stats stats;
	struct got got;
	uint8_t role;
	uint64_t pos[2], ts;
	bool started[2];
};

static void feed_init(struct feed *f, uint8_t role)
{
	struct stream_opts o = {
		.max_conns = 16,
		.idle_ns = 300000000000ULL,
		.reorder_ns = 200000000ULL,
		.reorder_max = 64,
		.max_body = 64,
		.emit = { .txn = on_txn, .ctx = &f->got },
	};

	memset(f, 0, sizeof(*f));
	o.stats = &f->stats;
	o.emit.ctx = &f->got;
	f->st = stream_new(&o);
	if (!f->st)
		abort();
	f->role = role;
	f->ts = 1000000;
}

/* One record: captured bytes (data NULL: lost), `span` long. */
static void feed_rec(struct feed *f, bool from_client, const uint8_t *data,
		     size_t span)
{
	struct hs_event *ev = (struct hs_event *)recbuf;
	/* The traced process is the server unless its role says client. */
	int dir = (f->role == HS_ROLE_CLIENT) == from_client ? HS_DIR_SEND : HS_DIR_RECV;

	while (span) {
		size_t n = span < HS_CHUNK_MAX ? span : HS_CHUNK_MAX;

		memset(ev, 0, sizeof(*ev));
		ev->type = HS_EV_DATA;
		ev->ts_ns = f->ts += 1000;
		ev->conn_id = 1;
		ev->tgid = ev->tid = 4242;
		ev->fd = 5;
		ev->dir = (uint8_t)dir;
		ev->role = f->role;
		ev->pos = f->pos[dir];
		ev->span = (uint32_t)n;
		ev->captured = data ? (uint32_t)n : 0;
		ev->syscall_len = (uint32_t)n;
		if (!f->started[dir]) {
			ev->flags |= HS_F_START;
			f->started[dir] = true;
		}
		snprintf(ev->comm, sizeof(ev->comm), "test");
		if (data) {
			memcpy(ev + 1, data, n);
			data += n;
		}
		stream_feed(f->st, ev, sizeof(*ev) + ev->captured);
		f->pos[dir] += n;
		span -= n;
	}
}

static void feed_end(struct feed *f)
{
	stream_close_all(f->st, f->ts + 1000, "tracing stopped");
	stream_free(f->st);
	if (f->got.n) /* qsort(NULL, 0, ...) is undefined (UBSan says so) */
		qsort(f->got.lines, f->got.n, sizeof(*f->got.lines), by_stream);
}

/* ---- runs ------------------------------------------------------------ */

static void check_exact(struct feed *f, const struct capture *c)
{
	size_t i;

	CHECK(f->got.n == c->nlines, "%zu transactions, expected %zu", f->got.n,
	      c->nlines);
	for (i = 0; i < f->got.n && i < c->nlines; i++)
		CHECK(!strcmp(f->got.lines[i], c->lines[i]), "got \"%s\", expected \"%s\"",
		      f->got.lines[i], c->lines[i]);
	CHECK(f->got.h2 == f->got.n, "all h2");
	CHECK(f->stats.h2_conns == 1 && f->stats.h2_bad_frames == 0 &&
	      f->stats.resync_bytes == 0 && f->stats.h2_undecoded == 0 &&
	      f->stats.unpaired_resps == 0 && f->stats.unpaired_reqs == 0,
	      "stats: %llu conns, %llu bad frames, %llu resync bytes, %llu undecoded, "
	      "%llu unpaired", (unsigned long long)f->stats.h2_conns,
	      (unsigned long long)f->stats.h2_bad_frames,
	      (unsigned long long)f->stats.resync_bytes,
	      (unsigned long long)f->stats.h2_undecoded,
	      (unsigned long long)(f->stats.unpaired_resps + f->stats.unpaired_reqs));
}

/* Every transaction reported is one that happened, with nothing
 * guessed. */
static void check_subset(struct feed *f, const struct capture *c, bool lax)
{
	size_t i, j;

	for (i = 0; i < f->got.n; i++) {
		for (j = 0; j < c->nlines; j++)
			if (stream_of(c->lines[j]) == stream_of(f->got.lines[i]))
				break;
		CHECK(j < c->nlines, "invented stream: \"%s\"", f->got.lines[i]);
		if (j < c->nlines)
			CHECK(line_fits(f->got.lines[i], c->lines[j], lax),
			      "got \"%s\", expected \"%s\"", f->got.lines[i], c->lines[j]);
	}
}

static void run_capture(const char *dir, const char *name)
{
	struct capture c;
	struct feed f;
	size_t i, k, at;
	int role;

	cur = name;
	budget = getenv("TEST_H2_VERBOSE") ? 1000 : 4;
	snprintf(cur_mode, sizeof(cur_mode), "load");
	CHECK(capture_load(&c, dir, name) == 0, "cannot load %s/%s", dir, name);
	if (!c.nrecs) {
		capture_free(&c);
		return;
	}
	/* As the server and as the client saw it: whole records, each
	 * split in two at `at` (within its first 64 bytes), byte by byte. */
	for (role = HS_ROLE_CLIENT; role <= HS_ROLE_SERVER; role++) {
		for (at = 0; at <= 65; at++) {
			snprintf(cur_mode, sizeof(cur_mode), "%s, %s %zu",
				 role == HS_ROLE_CLIENT ? "client" : "server",
				 at == 0 ? "whole" : at == 65 ? "bytes" : "split at", at);
			feed_init(&f, (uint8_t)role);
			for (i = 0; i < c.nrecs; i++) {
				const struct record *r = &c.recs[i];

				if (at == 65) {
					for (k = 0; k < r->len; k++)
						feed_rec(&f, r->from_client, r->p + k, 1);
				} else if (at && at < r->len) {
					feed_rec(&f, r->from_client, r->p, at);
					feed_rec(&f, r->from_client, r->p + at, r->len - at);
				} else {
					feed_rec(&f, r->from_client, r->p, r->len);
				}
			}
			feed_end(&f);
			check_exact(&f, &c);
			got_free(&f.got);
		}
	}
	/* Joined midway: tracing starts at record k, role unknown. */
	for (k = 1; k < c.nrecs; k++) {
		snprintf(cur_mode, sizeof(cur_mode), "joined at record %zu", k);
		feed_init(&f, HS_ROLE_UNKNOWN);
		for (i = k; i < c.nrecs; i++)
			feed_rec(&f, c.recs[i].from_client, c.recs[i].p, c.recs[i].len);
		feed_end(&f);
		check_subset(&f, &c, false);
		got_free(&f.got);
	}
	/* Record k lost. */
	for (k = 0; k < c.nrecs; k++) {
		snprintf(cur_mode, sizeof(cur_mode), "record %zu lost", k);
		feed_init(&f, HS_ROLE_SERVER);
		for (i = 0; i < c.nrecs; i++)
			feed_rec(&f, c.recs[i].from_client, i == k ? NULL : c.recs[i].p,
				 c.recs[i].len);
		feed_end(&f);
		check_subset(&f, &c, true);
		got_free(&f.got);
	}
	capture_free(&c);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/unit/h2";
	const char *only = argc > 2 ? argv[2] : NULL;
	DIR *dp = opendir(dir);
	struct dirent *e;
	char name[256];
	size_t n;

	if (!dp) {
		perror(dir);
		return 1;
	}
	while ((e = readdir(dp))) {
		n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".cap") || n - 4 >= sizeof(name))
			continue;
		memcpy(name, e->d_name, n - 4);
		name[n - 4] = '\0';
		if (!only || strstr(name, only))
			run_capture(dir, name);
	}
	closedir(dp);
	printf("test_h2conn: %lu checks, %lu failures\n", checks, failures);
	return failures ? 1 : 0;
}
