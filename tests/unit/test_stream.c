/* test_stream.c -- unit test of the stream tracker: record checks, byte order, holes and gaps, connection lifetimes (close, exit, eviction, idleness), admission, and the protocol chosen for a connection.
 *
 * Exits 0 only if every check passed; an argument runs only the parts
 * whose name contains it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zlib.h>

#include "fixtures.h"
#include "harness.h"

static void test_check(void)
{
	size_t n = sizeof(struct hs_event);
	uint8_t *buf = calloc(1, n + HS_CHUNK_MAX + 2);
	struct hs_event *ev = (struct hs_event *)buf;
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st;

	section("stream_check");
	if (!buf)
		exit(2);
	fill_header(ev, HS_EV_DATA, HS_ROLE_CLIENT);
	ev->span = ev->captured = 10;
	CHECK(stream_check(buf, n + 10) == 0, "valid DATA record refused");
	ev->span = 100000;
	CHECK(stream_check(buf, n + 10) == 0, "DATA record with a gap refused");
	ev->span = ev->captured = 0;
	CHECK(stream_check(buf, n) == 0, "empty DATA record refused");
	ev->span = ev->captured = HS_CHUNK_MAX;
	CHECK(stream_check(buf, n + HS_CHUNK_MAX) == 0, "HS_CHUNK_MAX record refused");

	ev->span = ev->captured = 10;
	CHECK(stream_check(buf, n - 1) == -EINVAL, "short record accepted");
	CHECK(stream_check(buf, 0) == -EINVAL, "empty record accepted");
	CHECK(stream_check(buf, n + 9) == -EINVAL, "record shorter than captured accepted");
	CHECK(stream_check(buf, n + 11) == -EINVAL, "record longer than captured accepted");
	ev->span = 9;
	CHECK(stream_check(buf, n + 10) == -EINVAL, "captured > span accepted");
	ev->span = ev->captured = HS_CHUNK_MAX + 1;
	CHECK(stream_check(buf, n + HS_CHUNK_MAX + 1) == -EINVAL,
	      "captured > HS_CHUNK_MAX accepted");
	ev->span = ev->captured = 10;
	for (int t = 0; t < 256; t++) {
		ev->type = (uint8_t)t;
		if (t < HS_EV_DATA || t > HS_EV_UNIX)
			CHECK(stream_check(buf, n + 10) == -EINVAL && stream_check(buf, n) == -EINVAL,
			      "record of type %d accepted", t);
	}
	ev->type = HS_EV_DATA;
	ev->dir = 2;
	CHECK(stream_check(buf, n + 10) == -EINVAL, "dir 2 accepted");
	ev->dir = 255;
	CHECK(stream_check(buf, n + 10) == -EINVAL, "dir 255 accepted");
	ev->dir = HS_DIR_RECV;
	ev->role = 3;
	CHECK(stream_check(buf, n + 10) == -EINVAL, "role 3 accepted");
	ev->role = HS_ROLE_SERVER;
	CHECK(stream_check(buf, n + 10) == 0, "valid RECV record refused");

	ev->type = HS_EV_CLOSE;
	CHECK(stream_check(buf, n) == 0, "CLOSE record refused");
	CHECK(stream_check(buf, n + 1) == -EINVAL, "CLOSE record with payload accepted");
	CHECK(stream_check(buf, n - 1) == -EINVAL, "short CLOSE record accepted");
	ev->type = HS_EV_EXIT;
	CHECK(stream_check(buf, n) == 0, "EXIT record refused");
	CHECK(stream_check(buf, n + 4) == -EINVAL, "EXIT record with payload accepted");
	/* HS_EV_UNIX: exactly a struct hs_unix, captured says so */
	ev->type = HS_EV_UNIX;
	ev->captured = sizeof(struct hs_unix);
	ev->span = 0;
	CHECK(stream_check(buf, n + sizeof(struct hs_unix)) == 0, "UNIX record refused");
	CHECK(stream_check(buf, n + sizeof(struct hs_unix) - 1) == -EINVAL,
	      "short UNIX record accepted");
	CHECK(stream_check(buf, n + sizeof(struct hs_unix) + 1) == -EINVAL,
	      "long UNIX record accepted");
	CHECK(stream_check(buf, n) == -EINVAL, "UNIX record without payload accepted");
	ev->captured = 0;
	CHECK(stream_check(buf, n + sizeof(struct hs_unix)) == -EINVAL,
	      "UNIX record with captured 0 accepted");
	ev->captured = sizeof(struct hs_unix);
	ev->role = 3;
	CHECK(stream_check(buf, n + sizeof(struct hs_unix)) == -EINVAL,
	      "UNIX record of role 3 accepted");

	/* stream_feed counts a malformed record and drops it */
	st = new_stream(&stats, &col, MAX_BODY);
	fill_header(ev, HS_EV_DATA, HS_ROLE_CLIENT);
	ev->span = ev->captured = 4;
	memcpy(buf + n, "GET ", 4);
	CHECK(stream_feed(st, buf, n + 3) == -EINVAL, "stream_feed took a bad record");
	ev->captured = 5;
	CHECK(stream_feed(st, buf, n + 5) == -EINVAL, "stream_feed took captured > span");
	CHECK_U64("stats.bad_records", stats.bad_records, 2);
	CHECK_U64("stats.events", stats.events, 0);
	CHECK_U64("stats.conns", stats.conns, 0);
	CHECK_U64("stream_count", stream_count(st), 0);
	/* a CLOSE for a connection never seen is harmless */
	mkctl(buf, HS_EV_CLOSE, 99, TGID, 1);
	CHECK(stream_feed(st, buf, n) == 0, "CLOSE of an unknown connection refused");
	CHECK_U64("transactions", col.n, 0);
	stream_free(st);
	collector_free(&col);
	free(buf);
	family_end("-");
}

static void test_exit(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream(&stats, &col, MAX_BODY);
	uint64_t pos[5][2] = { { 0 } };

	section("HS_EV_EXIT");
	feed_str(st, 1, 100, HS_DIR_SEND, pos[1], "GET /a HTTP/1.1\r\n\r\n", 10);
	feed_str(st, 2, 100, HS_DIR_SEND, pos[2], "GET /b HTTP/1.1\r\n\r\n", 20);
	feed_str(st, 3, 200, HS_DIR_SEND, pos[3], "GET /c HTTP/1.1\r\n\r\n", 30);
	CHECK_U64("stream_count", stream_count(st), 3);
	feed_ctl(st, HS_EV_EXIT, 0, 100, 40);
	CHECK_U64("transactions after exit of 100", col.n, 2);
	for (size_t i = 0; i < col.n; i++) {
		CHECK_STR("error", col.v[i].error, "process exited");
		CHECK_U64("pid", col.v[i].conn.pid, 100);
		CHECK(!col.v[i].resp.present, "response present");
	}
	CHECK_U64("stream_count", stream_count(st), 1);
	/* the other process goes on */
	feed_str(st, 3, 200, HS_DIR_RECV, pos[3], OK200_0, 50);
	CHECK_U64("transactions", col.n, 3);
	if (col.n == 3) {
		CHECK_STR("target", col.v[2].req.target, "/c");
		CHECK_INT("status", col.v[2].resp.status, 200);
		CHECK_STR("error", col.v[2].error, NULL);
	}
	/* an exit of a process with nothing tracked */
	feed_ctl(st, HS_EV_EXIT, 0, 300, 60);
	CHECK_U64("stream_count", stream_count(st), 1);
	feed_ctl(st, HS_EV_EXIT, 0, 200, 70);
	CHECK_U64("stream_count", stream_count(st), 0);
	CHECK_U64("transactions", col.n, 3);
	CHECK_U64("stats.unpaired_reqs", stats.unpaired_reqs, 2);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

static void test_evict(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream_limits(&stats, &col, 2, 1000000, 1000000, 16);
	uint64_t pos[5][2] = { { 0 } };

	section("eviction and idleness");
	feed_str(st, 1, TGID, HS_DIR_SEND, pos[1], "GET /a HTTP/1.1\r\n\r\n", 10);
	feed_str(st, 2, TGID, HS_DIR_SEND, pos[2], "GET /b HTTP/1.1\r\n\r\n", 20);
	CHECK_U64("transactions", col.n, 0);
	feed_str(st, 3, TGID, HS_DIR_SEND, pos[3], "GET /c HTTP/1.1\r\n\r\n", 30);
	CHECK_U64("stats.conns_evicted", stats.conns_evicted, 1);
	CHECK_U64("stream_count", stream_count(st), 2);
	CHECK_U64("transactions", col.n, 1);
	if (col.n >= 1) {
		CHECK_U64("evicted conn_id", col.v[0].conn.conn_id, 1);
		CHECK_STR("evicted target", col.v[0].req.target, "/a");
		CHECK_STR("error", col.v[0].error, "evicted: too many connections");
		CHECK(!col.v[0].resp.present, "response present");
	}
	/* activity on 2 makes 3 the least recently active */
	feed_str(st, 2, TGID, HS_DIR_RECV, pos[2], OK200_0, 40);
	CHECK_U64("transactions", col.n, 2);
	feed_str(st, 4, TGID, HS_DIR_SEND, pos[4], "GET /d HTTP/1.1\r\n\r\n", 50);
	CHECK_U64("stats.conns_evicted", stats.conns_evicted, 2);
	CHECK_U64("transactions", col.n, 3);
	if (col.n >= 3) {
		CHECK_U64("evicted conn_id", col.v[2].conn.conn_id, 3);
		CHECK_STR("evicted target", col.v[2].req.target, "/c");
	}
	CHECK_U64("stats.unpaired_reqs", stats.unpaired_reqs, 2);

	/* idleness: 4 waits since 50, 2 since 40 */
	stream_tick(st, 1000040);
	CHECK_U64("stream_count before idle_ns", stream_count(st), 2);
	stream_tick(st, 1000041);
	CHECK_U64("stream_count", stream_count(st), 1);
	stream_tick(st, 1000051);
	CHECK_U64("stream_count", stream_count(st), 0);
	CHECK_U64("stats.conns_evicted", stats.conns_evicted, 4);
	CHECK_U64("transactions", col.n, 4);
	if (col.n >= 4) {
		CHECK_STR("idle target", col.v[3].req.target, "/d");
		CHECK_STR("error", col.v[3].error, "connection idle");
	}
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

/* The connection tables grow with the connections (from 256 chains):
 * every connection is still found, by its id and by its process, after
 * the tables have doubled four times. */
static void test_many(void)
{
	enum { N = 3000, PROCS = 7 };
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream_limits(&stats, &col, 65536, UINT64_MAX / 4,
					      UINT64_MAX / 4, 1 << 20);
	static uint64_t pos[N + 1][2];
	size_t want[PROCS] = { 0 };
	uint64_t ts = 10;
	bool ok = true;
	char req[64];

	section("many connections");
	memset(pos, 0, sizeof(pos));
	for (uint64_t c = 1; c <= N; c++) {
		snprintf(req, sizeof(req), "GET /r%llu HTTP/1.1\r\n\r\n",
			 (unsigned long long)c);
		feed_str(st, c, 1000 + c % PROCS, HS_DIR_SEND, pos[c], req, ts++);
	}
	CHECK_U64("stream_count", stream_count(st), N);
	/* every odd one answered, in reverse order: found by id */
	for (int64_t c = N - (N % 2 == 0); c >= 1; c -= 2)
		feed_str(st, (uint64_t)c, 1000 + c % PROCS, HS_DIR_RECV, pos[c], OK200_0, ts++);
	CHECK_U64("transactions", col.n, N / 2 + N % 2);
	for (size_t i = 0; i < col.n; i++) {
		uint64_t c = col.v[i].conn.conn_id;

		snprintf(req, sizeof(req), "/r%llu", (unsigned long long)c);
		if (c % 2 == 0 || col.v[i].resp.status != 200 ||
		    !str_eq(col.v[i].req.target, req))
			ok = false;
	}
	CHECK(ok, "an answer went to the wrong connection");
	/* a close of each multiple of 10, then the exit of each process:
	 * found by id and by process in the grown tables */
	for (uint64_t c = 10; c <= N; c += 10)
		feed_ctl(st, HS_EV_CLOSE, c, 1000 + c % PROCS, ts++);
	CHECK_U64("stream_count after closes", stream_count(st), N - N / 10);
	for (uint64_t c = 2; c <= N; c += 2)
		if (c % 10)
			want[c % PROCS]++;
	for (uint32_t p = 0; p < PROCS; p++) {
		size_t before = col.n, k = 0;

		feed_ctl(st, HS_EV_EXIT, 0, 1000 + p, ts++);
		for (size_t i = before; i < col.n; i++)
			k += col.v[i].conn.pid == 1000 + p &&
			     str_eq(col.v[i].error, "process exited");
		CHECK_U64("unanswered requests ended by their process's exit", k, want[p]);
	}
	CHECK_U64("stream_count after exits", stream_count(st), 0);
	CHECK_U64("stats.conns", stats.conns, N);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

/* A hole that never fills becomes a gap after reorder_ns, or when too
 * many records wait behind it. */
static void test_reorder_limits(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream_limits(&stats, &col, 16, UINT64_MAX / 4, 5000, 2);
	const char *r0 = "GET /0 HTTP/1.1\r\n\r\n", *lost = "GET /lost HTTP/1.1\r\n\r\n";
	uint64_t p[2] = { 0, 0 }, lost_at;
	size_t n;

	section("reorder timeout and overflow");
	feed_str(st, 1, TGID, HS_DIR_SEND, p, r0, 1000);
	feed_str(st, 1, TGID, HS_DIR_RECV, p, OK200_0, 1500);
	CHECK_U64("transactions", col.n, 1);
	lost_at = p[HS_DIR_SEND];
	p[HS_DIR_SEND] += strlen(lost); /* never delivered */
	feed_str(st, 1, TGID, HS_DIR_SEND, p, "GET /2 HTTP/1.1\r\n\r\n", 3000);
	stream_tick(st, 7999);
	CHECK_U64("stats.gap_bytes before reorder_ns", stats.gap_bytes, 0);
	stream_tick(st, 8001);
	CHECK_U64("stats.gap_bytes", stats.gap_bytes, strlen(lost));
	feed_str(st, 1, TGID, HS_DIR_RECV, p,
		 "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 9000);
	CHECK_U64("transactions", col.n, 2);
	if (col.n >= 2) {
		CHECK_STR("target after the hole", col.v[1].req.target, "/2");
		CHECK_INT("status", col.v[1].resp.status, 201);
		CHECK_STR("error", col.v[1].error, NULL);
	}
	/* the lost record turning up late is ignored */
	n = mkdata(scratch, 1, TGID, HS_ROLE_CLIENT, HS_DIR_SEND, lost_at, lost, 9500);
	CHECK(stream_feed(st, scratch, n) == 0, "late record refused");

	/* overflow: with reorder_max 2, the third record waiting behind a
	 * hole declares it a gap */
	p[HS_DIR_SEND] += strlen(lost); /* another hole */
	feed_str(st, 1, TGID, HS_DIR_SEND, p, "GET /3 HTTP/1.1\r\n\r\n", 10000);
	feed_str(st, 1, TGID, HS_DIR_SEND, p, "GET /4 HTTP/1.1\r\n\r\n", 10001);
	CHECK_U64("stats.reorder_overflow", stats.reorder_overflow, 0);
	feed_str(st, 1, TGID, HS_DIR_SEND, p, "GET /5 HTTP/1.1\r\n\r\n", 10002);
	CHECK_U64("stats.reorder_overflow", stats.reorder_overflow, 1);
	CHECK_U64("stats.gap_bytes", stats.gap_bytes, 2 * strlen(lost));
	feed_str(st, 1, TGID, HS_DIR_RECV, p, OK200_0 OK200_0 OK200_0, 11000);
	CHECK_U64("transactions", col.n, 5);
	for (size_t i = 2; i < col.n && i < 5; i++) {
		char t[8];

		snprintf(t, sizeof(t), "/%zu", i + 1);
		CHECK_STR("target", col.v[i].req.target, t);
		CHECK_INT("status", col.v[i].resp.status, 200);
	}
	feed_ctl(st, HS_EV_CLOSE, 1, TGID, 12000);
	CHECK_U64("transactions", col.n, 5);
	CHECK_U64("stats.parse_errors", stats.parse_errors, 0);
	CHECK_U64("stats.unpaired_reqs", stats.unpaired_reqs, 0);
	CHECK_U64("stats.unpaired_resps", stats.unpaired_resps, 0);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

/* A connection first seen mid-stream whose first record (HS_F_START)
 * was lost: what came after it waits, then is taken as the start. */
static void test_midstream_start_lost(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream_limits(&stats, &col, 16, UINT64_MAX / 4, 5000, 64);
	struct hs_event *ev = (struct hs_event *)scratch;
	size_t n;

	section("mid-stream start lost");
	n = mkdata(scratch, 1, TGID, HS_ROLE_UNKNOWN, HS_DIR_RECV, 9000,
		   "GET /m HTTP/1.1\r\nHost: h\r\n\r\n", 1000);
	CHECK(stream_feed(st, scratch, n) == 0, "record refused");
	stream_tick(st, 2000);
	CHECK_U64("transactions", col.n, 0);
	stream_tick(st, 7000);
	n = mkdata(scratch, 1, TGID, HS_ROLE_UNKNOWN, HS_DIR_SEND, 300,
		   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 8000);
	ev->flags = HS_F_START;
	CHECK(stream_feed(st, scratch, n) == 0, "record refused");
	CHECK_U64("transactions", col.n, 1);
	if (col.n == 1) {
		CHECK_STR("target", col.v[0].req.target, "/m");
		CHECK_INT("status", col.v[0].resp.status, 200);
		CHECK_STR("preview", (const char *)col.v[0].resp.preview, "ok");
		CHECK_INT("role", col.v[0].conn.role, HS_ROLE_UNKNOWN);
	}
	CHECK_U64("stats.parse_errors", stats.parse_errors, 0);
	feed_ctl(st, HS_EV_CLOSE, 1, TGID, 9000);
	CHECK_U64("transactions", col.n, 1);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

struct admit_ctx {
	unsigned calls, flags;
};

static bool admit(void *ctx, struct conn_info *conn, unsigned ev_flags)
{
	struct admit_ctx *a = ctx;

	a->calls++;
	a->flags = ev_flags;
	conn->remote.port = 9999; /* an address learned here shows */
	return conn->conn_id != 66;
}

static void test_admit(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct admit_ctx a = { 0 };
	struct stream_opts o = {
		.max_conns = 16, .idle_ns = UINT64_MAX / 4,
		.reorder_ns = UINT64_MAX / 4, .reorder_max = 16,
		.max_body = MAX_BODY, .emit = { .txn = on_emit, .ctx = &col }, 
		.stats = &stats, .admit = admit, .admit_ctx = &a,
	};
	struct stream *st = stream_new(&o);
	uint64_t pos[2][2] = { { 0 } };
	size_t n;

	section("admit callback");
	n = mkdata(scratch, 66, TGID, HS_ROLE_CLIENT, HS_DIR_SEND, 0,
		   "GET /no HTTP/1.1\r\n\r\n", 10);
	((struct hs_event *)scratch)->flags = HS_F_UNVERIFIED;
	CHECK(stream_feed(st, scratch, n) == 0, "record refused");
	CHECK(a.calls == 1 && a.flags == HS_F_UNVERIFIED, "admit: %u calls, flags %u",
	      a.calls, a.flags);
	pos[0][0] = n - sizeof(struct hs_event);
	feed_str(st, 66, TGID, HS_DIR_RECV, pos[0], OK200_0, 20);
	feed_str(st, 77, TGID, HS_DIR_SEND, pos[1], "GET /yes HTTP/1.1\r\n\r\n", 30);
	feed_str(st, 77, TGID, HS_DIR_RECV, pos[1], OK200_0, 40);
	CHECK(a.calls == 2, "admit called %u times, expected 2", a.calls);
	CHECK_U64("transactions", col.n, 1);
	if (col.n >= 1) {
		CHECK_STR("target", col.v[0].req.target, "/yes");
		CHECK_INT("remote port set by admit", col.v[0].conn.remote.port, 9999);
	}
	CHECK_U64("stats.unpaired_resps", stats.unpaired_resps, 0);
	stream_close_all(st, 50, "tracing stopped");
	CHECK_U64("transactions", col.n, 1);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

/* An HS_EV_UNIX record in buf for conn: local and remote as text
 * (resolved) or raw, and a peer. */
static size_t mkunix(uint8_t *buf, uint64_t conn, uint8_t role, uint64_t ts,
		     const char *local, const char *remote, bool resolved,
		     uint32_t peer_pid, const char *peer_comm)
{
	struct hs_event *ev = mkctl(buf, HS_EV_UNIX, conn, TGID, ts);
	struct hs_unix *u = (struct hs_unix *)(ev + 1);

	ev->role = role;
	ev->local.family = ev->remote.family = AF_UNIX;
	ev->local.port = ev->remote.port = 0;
	memset(ev->local.addr, 0, sizeof(ev->local.addr));
	memset(ev->remote.addr, 0, sizeof(ev->remote.addr));
	ev->captured = sizeof(*u);
	memset(u, 0, sizeof(*u));
	u->listen_fd = role == HS_ROLE_SERVER ? 3 : -1;
	u->local_len = (uint8_t)strlen(local);
	u->remote_len = (uint8_t)strlen(remote);
	memcpy(u->local, local, u->local_len);
	memcpy(u->remote, remote, u->remote_len);
	u->resolved = resolved;
	u->type = SOCK_STREAM;
	u->peer_pid = peer_pid;
	snprintf(u->peer_comm, sizeof(u->peer_comm), "%s", peer_comm);
	return sizeof(*ev) + sizeof(*u);
}

/* A Unix data record: mkdata with family AF_UNIX. */
static size_t mkudata(uint8_t *buf, uint64_t conn, uint8_t role, int dir,
		      uint64_t pos, const char *s, uint64_t ts)
{
	size_t n = mkdata(buf, conn, TGID, role, dir, pos, s, ts);
	struct hs_event *ev = (struct hs_event *)buf;

	memset(&ev->local, 0, sizeof(ev->local));
	memset(&ev->remote, 0, sizeof(ev->remote));
	ev->local.family = ev->remote.family = AF_UNIX;
	return n;
}

struct unix_admit {
	unsigned calls;
	bool had_names;
	char local[HS_UNIX_PATH_MAX + 1];
};

static bool admit_unix(void *ctx, struct conn_info *c, unsigned flags)
{
	struct unix_admit *a = ctx;

	(void)flags;
	a->calls++;
	a->had_names = c->unx && c->unx->resolved;
	if (a->had_names)
		snprintf(a->local, sizeof(a->local), "%.*s", c->unx->local_len,
			 c->unx->local);
	return true;
}

/* A Unix connection: its names come first, in an HS_EV_UNIX record, then
 * its bytes; what its transactions carry, what admit sees, and the cases
 * a recording may hold (unresolved names, lengths past sun_path, names
 * for a connection already seen). */
static void test_unix(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct unix_admit a = { 0 };
	/* Short idleness: the names alone must keep a connection alive. */
	struct stream_opts o = {
		.max_conns = 16, .idle_ns = 1000, .reorder_ns = UINT64_MAX / 4,
		.reorder_max = 16, .max_body = MAX_BODY,
		.emit = { .txn = on_emit, .ctx = &col },
		.stats = &stats, .admit = admit_unix, .admit_ctx = &a,
	};
	struct stream *st = stream_new(&o);
	const char *path = "/run/podman/podman.sock";
	uint64_t t0 = 5000000000ULL;
	struct hs_unix *u;
	size_t n;

	section("Unix connection names");
	if (!st)
		exit(2);
	/* server side: names, then (the tracker ticking between) the bytes */
	n = mkunix(scratch, 1, HS_ROLE_SERVER, t0, path, "", true, 4242, "docker");
	CHECK(stream_feed(st, scratch, n) == 0, "UNIX record refused");
	CHECK(a.calls == 1 && a.had_names && !strcmp(a.local, path),
	      "admit: %u calls, names %d, local '%s'", a.calls, a.had_names, a.local);
	stream_tick(st, t0 + 500);
	CHECK_U64("connections after a tick", stream_count(st), 1);
	n = mkudata(scratch, 1, HS_ROLE_SERVER, HS_DIR_RECV, 0,
		    "GET /v1.41/version HTTP/1.1\r\nHost: d\r\n\r\n", t0 + 600);
	CHECK(stream_feed(st, scratch, n) == 0, "data refused");
	n = mkudata(scratch, 1, HS_ROLE_SERVER, HS_DIR_SEND, 0, OK200_0, t0 + 900);
	CHECK(stream_feed(st, scratch, n) == 0, "data refused");
	CHECK_U64("transactions", col.n, 1);
	CHECK_U64("admit calls", a.calls, 1);
	if (col.n == 1) {
		struct got_txn *g = &col.v[0];

		CHECK(g->has_unx && g->unx.resolved && g->unx.local_len == strlen(path) &&
		      !memcmp(g->unx.local, path, strlen(path)) && g->unx.remote_len == 0,
		      "server's names not carried");
		CHECK_INT("peer_pid", g->conn.peer_pid, 4242);
		CHECK_STR("peer_comm", g->conn.peer_comm, "docker");
		CHECK_STR("target", g->req.target, "/v1.41/version");
	}

	/* names not resolved (a recording damaged, or edited): none shown,
	 * whatever the lengths say */
	n = mkunix(scratch, 2, HS_ROLE_CLIENT, t0 + 1000, "", "\0abstract", false, 0, "");
	((struct hs_unix *)(scratch + sizeof(struct hs_event)))->remote_len = 9;
	CHECK(stream_feed(st, scratch, n) == 0, "UNIX record refused");
	feed_ctl(st, HS_EV_CLOSE, 2, TGID, t0 + 1100);
	/* lengths past sun_path are cut to it */
	n = mkunix(scratch, 3, HS_ROLE_CLIENT, t0 + 2000, "", path, true, 0, "");
	u = (struct hs_unix *)(scratch + sizeof(struct hs_event));
	u->remote_len = 255;
	u->local_len = 200;
	memset(u->local, 'l', sizeof(u->local));
	memset(u->remote, 'r', sizeof(u->remote));
	CHECK(stream_feed(st, scratch, n) == 0, "UNIX record refused");
	n = mkudata(scratch, 3, HS_ROLE_CLIENT, HS_DIR_SEND, 0, "GET /c HTTP/1.1\r\n\r\n",
		    t0 + 2100);
	stream_feed(st, scratch, n);
	n = mkudata(scratch, 3, HS_ROLE_CLIENT, HS_DIR_RECV, 0, OK200_0, t0 + 2200);
	stream_feed(st, scratch, n);
	CHECK_U64("transactions", col.n, 2);
	if (col.n == 2)
		CHECK(col.v[1].has_unx && col.v[1].unx.local_len == HS_UNIX_PATH_MAX &&
		      col.v[1].unx.remote_len == HS_UNIX_PATH_MAX,
		      "lengths not cut to sun_path: %u %u", col.v[1].unx.local_len,
		      col.v[1].unx.remote_len);

	/* names for a connection already seen (its first bytes came first)
	 * are taken, and a later copy replaces an earlier one */
	n = mkudata(scratch, 4, HS_ROLE_CLIENT, HS_DIR_SEND, 0, "GET /late HTTP/1.1\r\n\r\n",
		    t0 + 3000);
	stream_feed(st, scratch, n);
	n = mkunix(scratch, 4, HS_ROLE_CLIENT, t0 + 3001, "", "/first", true, 0, "");
	stream_feed(st, scratch, n);
	n = mkunix(scratch, 4, HS_ROLE_CLIENT, t0 + 3002, "", path, true, 7, "podman");
	stream_feed(st, scratch, n);
	n = mkudata(scratch, 4, HS_ROLE_CLIENT, HS_DIR_RECV, 0, OK200_0, t0 + 3100);
	stream_feed(st, scratch, n);
	CHECK_U64("transactions", col.n, 3);
	if (col.n == 3) {
		CHECK(col.v[2].has_unx && col.v[2].unx.remote_len == strlen(path) &&
		      !memcmp(col.v[2].unx.remote, path, strlen(path)),
		      "late names not taken");
		CHECK_INT("late peer_pid", col.v[2].conn.peer_pid, 7);
	}
	CHECK_U64("stats.bad_records", stats.bad_records, 0);
	stream_close_all(st, t0 + 4000, "tracing stopped");
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

/* Freeing a stream with requests waiting reports nothing and leaks
 * nothing (ASan checks the second half). */
static void test_free_pending(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream(&stats, &col, MAX_BODY);
	uint64_t pos[2] = { 0, 0 };
	uint8_t z[64];
	size_t zl = zcompress(16 + MAX_WBITS, "abcabcabc", 9, z, sizeof(z));
	char hdr[128];
	size_t n;

	section("stream_free with work pending");
	feed_str(st, 1, TGID, HS_DIR_SEND, pos, "GET /a HTTP/1.1\r\n\r\n", 10);
	/* a gzip body cut short keeps an inflate state alive */
	snprintf(hdr, sizeof(hdr),
		 "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zl);
	n = strlen(hdr);
	memcpy(hdr + n, z, 4);
	{
		struct hs_event *ev = (struct hs_event *)scratch;

		fill_header(ev, HS_EV_DATA, HS_ROLE_CLIENT);
		ev->conn_id = 1;
		ev->dir = HS_DIR_RECV;
		ev->span = ev->captured = (uint32_t)(n + 4);
		memcpy(scratch + sizeof(*ev), hdr, n + 4);
		CHECK(stream_feed(st, scratch, sizeof(*ev) + n + 4) == 0, "record refused");
	}
	/* and a record waiting behind a hole */
	pos[0] += 100;
	feed_str(st, 1, TGID, HS_DIR_SEND, pos, "GET /b HTTP/1.1\r\n\r\n", 20);
	stream_free(st);
	stream_free(NULL);
	CHECK_U64("transactions", col.n, 0);
	collector_free(&col);
	family_end("-");
}

/* Two connections' records interleaved one byte at a time: each keeps
 * its own order and its own transactions. */
static void test_interleaved(void)
{
	const struct fixture *f = &fixtures[0];
	struct plan pl = { .mode = M_BYTES };
	struct recs r[2] = { { 0 }, { 0 } };
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream(&stats, &col, MAX_BODY);
	uint64_t ts = 0;
	size_t seen[2] = { 0, 0 };

	section("interleaved connections");
	build(f, &pl, &r[0]);
	build(f, &pl, &r[1]);
	for (size_t i = 0; i < r[1].n; i++) {
		struct hs_event *ev = (struct hs_event *)r[1].v[i].buf;

		ev->conn_id = CONN_ID + 1;
		ev->fd = FD + 1;
	}
	for (size_t i = 0; i < r[0].n; i++) {
		for (int c = 0; c < 2; c++) {
			((struct hs_event *)r[c].v[i].buf)->ts_ns = ts += 10;
			CHECK(stream_feed(st, r[c].v[i].buf, r[c].v[i].len) == 0,
			      "record refused");
		}
	}
	CHECK_U64("stream_count", stream_count(st), 2);
	feed_ctl(st, HS_EV_CLOSE, CONN_ID, TGID, ts + 10);
	feed_ctl(st, HS_EV_CLOSE, CONN_ID + 1, TGID, ts + 20);
	CHECK_U64("transactions", col.n, 2 * f->ntxns);
	for (size_t i = 0; i < col.n; i++) {
		const struct got_txn *g = &col.v[i];
		int c = g->conn.conn_id == CONN_ID + 1;
		size_t k = seen[c]++;

		CHECK_INT("fd", g->conn.fd, FD + c);
		if (k >= f->ntxns)
			continue;
		CHECK_STR("target", g->req.target, f->txns[k].target);
		CHECK_INT("status", g->resp.status, f->txns[k].status);
		CHECK_U64("response body_size", g->resp.body_size, f->txns[k].resp_body);
		CHECK_STR("error", g->error, NULL);
	}
	CHECK_U64("stats.conns", stats.conns, 2);
	stream_free(st);
	collector_free(&col);
	recs_free(&r[0]);
	recs_free(&r[1]);
	family_end("-");
}

/* What reaches a connection before its protocol is chosen is held and
 * given to it in order: a gap before the first byte makes HTTP/1 look
 * for the next message start, so the rest of the lost request is skipped,
 * not taken for a request. */
static void test_held_gap(void)
{
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct stream *st = new_stream(&stats, &col, MAX_BODY);
	struct hs_event *ev = (struct hs_event *)scratch;
	const char *rest = "Host: h\r\n\r\n";
	uint64_t pos[2] = { 20, 0 };
	size_t n;

	section("held until a protocol is chosen");
	n = mkdata(scratch, 1, TGID, HS_ROLE_CLIENT, HS_DIR_SEND, 0, "", 10);
	ev->span = ev->syscall_len = 20; /* nothing of it copied */
	CHECK(stream_feed(st, scratch, n) == 0, "record refused");
	feed_str(st, 1, TGID, HS_DIR_SEND, pos, rest, 20);
	feed_str(st, 1, TGID, HS_DIR_RECV, pos, OK200_0, 30);
	feed_str(st, 1, TGID, HS_DIR_SEND, pos, "GET /b HTTP/1.1\r\n\r\n", 40);
	feed_str(st, 1, TGID, HS_DIR_RECV, pos, OK200_0, 50);
	feed_ctl(st, HS_EV_CLOSE, 1, TGID, 60);
	CHECK_U64("transactions", col.n, 1);
	if (col.n == 1) {
		CHECK_STR("target", col.v[0].req.target, "/b");
		CHECK_INT("status", col.v[0].resp.status, 200);
		CHECK_STR("error", col.v[0].error, NULL);
	}
	CHECK_U64("stats.parse_errors", stats.parse_errors, 0);
	CHECK_U64("stats.resync_bytes", stats.resync_bytes, strlen(rest));
	CHECK_U64("stats.gap_bytes", stats.gap_bytes, 20);
	CHECK_U64("stats.unpaired_resps", stats.unpaired_resps, 1);
	stream_free(st);
	collector_free(&col);
	family_end("-");
}

static const struct harness_test tests[] = {
	{ "stream_check", test_check },
	{ "HS_EV_EXIT", test_exit },
	{ "eviction and idleness", test_evict },
	{ "many connections", test_many },
	{ "reorder timeout and overflow", test_reorder_limits },
	{ "admit callback", test_admit },
	{ "stream_free with work pending", test_free_pending },
	{ "interleaved connections", test_interleaved },
	{ "mid-stream start lost", test_midstream_start_lost },
	{ "held until a protocol is chosen", test_held_gap },
	{ "Unix connection names", test_unix },
};

/* Usage: test_stream [SUBSTRING] -- runs only the parts whose name holds it. */
int main(int argc, char **argv)
{
	return harness_main("test_stream", argc, argv, NULL, 0, tests,
			    sizeof(tests) / sizeof(tests[0]));
}
