/* test_record.c -- unit test of --record/--replay files: a round trip gives back the records and the transactions; cut, foreign and damaged files are refused where they go wrong; files are made safely.
 *
 * Exits 0 only if every check passed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/record.h"
#include "fixtures.h"
#include "harness.h"

struct replay_ctx {
	const struct recs *want; /* records the file must hold, or NULL */
	struct stream *st;	 /* fed each record, or NULL */
	size_t n, stop_after;
	bool mismatch;
};

static int replay_cb(void *ctx, const void *rec, size_t len)
{
	struct replay_ctx *c = ctx;

	if (c->want && (c->n >= c->want->n || c->want->v[c->n].len != len ||
			memcmp(c->want->v[c->n].buf, rec, len)))
		c->mismatch = true;
	if (c->st)
		stream_feed(c->st, rec, len);
	c->n++;
	return c->stop_after && c->n == c->stop_after;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(2);
	}
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	uint8_t *p = xmalloc(1 << 20);

	if (!f) {
		perror(path);
		exit(2);
	}
	*len = fread(p, 1, 1 << 20, f);
	fclose(f);
	return p;
}

#define FILE_HEADER 24 /* magic, abi, event size, clock offset */
#define OFFSET (-123456789012345LL)

/* One recording made of fixture 0's records and a close, and the files
 * made from it. */
struct rec_test {
	char dir[256], path[300], cut[300], link[300];
	struct recs r;
	size_t last_at; /* file offset of the last record */
	uint8_t closebuf[sizeof(struct hs_event)];
};

/* Writes the recording; false if it could not be created. */
static bool record_write(struct rec_test *x)
{
	struct recorder *rec;
	struct plan pl = { .mode = M_WHOLE };
	uint8_t *c;

	build(&fixtures[0], &pl, &x->r);
	for (size_t i = 0; i < x->r.n; i++)
		((struct hs_event *)x->r.v[i].buf)->ts_ns = 1000 * (i + 1);
	mkctl(x->closebuf, HS_EV_CLOSE, CONN_ID, TGID, 1000 * (x->r.n + 1));
	c = xmalloc(sizeof(x->closebuf));
	memcpy(c, x->closebuf, sizeof(x->closebuf));
	recs_push(&x->r, c, sizeof(x->closebuf), 0);

	rec = recorder_open(x->path, OFFSET);
	CHECK(rec != NULL, "recorder_open: %s", strerror(errno));
	if (!rec)
		return false;
	x->last_at = FILE_HEADER;
	for (size_t i = 0; i < x->r.n; i++)
		CHECK(recorder_write(rec, x->r.v[i].buf, x->r.v[i].len) == 0,
		      "recorder_write %zu", i);
	CHECK(recorder_close(rec) == 0, "recorder_close");
	CHECK(recorder_close(NULL) == 0, "recorder_close(NULL)");
	for (size_t i = 0; i + 1 < x->r.n; i++)
		x->last_at += 4 + x->r.v[i].len;
	return true;
}

/* The round trip gives back the records, and the transactions. */
static void record_round_trip(struct rec_test *x)
{
	const struct fixture *f = &fixtures[0];
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct replay_ctx rc = { .want = &x->r };
	int64_t off = 0;
	long bad_at = 0;
	int err;

	err = replay_header(x->path, &off);
	CHECK(err == 0 && off == OFFSET, "replay_header: %d, offset %lld", err, (long long)off);
	rc.st = new_stream(&stats, &col, MAX_BODY);
	off = 0;
	err = replay_file(x->path, replay_cb, &rc, &off, &bad_at);
	CHECK(err == 0, "replay_file: %d", err);
	CHECK(off == OFFSET, "clock offset %lld", (long long)off);
	CHECK(!rc.mismatch && rc.n == x->r.n, "replayed %zu records (%s), expected %zu",
	      rc.n, rc.mismatch ? "some differ" : "identical", x->r.n);
	CHECK_U64("stream_count after replay", stream_count(rc.st), 0);
	stream_free(rc.st);
	CHECK_U64("replayed transactions", col.n, f->ntxns);
	for (size_t k = 0; k < col.n && k < f->ntxns; k++)
		check_txn(f, k, &col.v[k], &f->txns[k], true);
	collector_free(&col);

	/* fn stops the replay early */
	memset(&rc, 0, sizeof(rc));
	rc.stop_after = 2;
	err = replay_file(x->path, replay_cb, &rc, &off, &bad_at);
	CHECK(err == 0 && rc.n == 2, "early stop: %d after %zu records", err, rc.n);
}

/* Replays the first len bytes of file, written to x->cut. */
static int replay_cut(struct rec_test *x, const uint8_t *file, size_t len,
		      struct replay_ctx *rc, long *bad_at)
{
	int64_t off;

	write_file(x->cut, file, len);
	memset(rc, 0, sizeof(*rc));
	return replay_file(x->cut, replay_cb, rc, &off, bad_at);
}

/* Cut, foreign and damaged files are refused where they go wrong. */
static void record_damaged(struct rec_test *x)
{
	struct replay_ctx rc;
	uint8_t *file;
	size_t flen, want = FILE_HEADER;
	uint32_t big = RECORD_MAX + 1;
	int64_t off;
	long bad_at = 0;
	int err;

	file = read_file(x->path, &flen);
	for (size_t i = 0; i < x->r.n; i++)
		want += 4 + x->r.v[i].len;
	CHECK_U64("file size", flen, want);

	err = replay_cut(x, file, flen - 3, &rc, &bad_at); /* in the last payload */
	CHECK(err == -EBADMSG, "payload cut short: got %d, expected -EBADMSG", err);
	CHECK(bad_at == (long)x->last_at, "payload cut short: bad_at %ld, expected %zu",
	      bad_at, x->last_at);
	CHECK(rc.n == x->r.n - 1, "payload cut short: %zu records before it, expected %zu",
	      rc.n, x->r.n - 1);
	err = replay_cut(x, file, x->last_at + 2, &rc, &bad_at); /* in its length */
	CHECK(err == -EBADMSG, "length word cut short: got %d, expected -EBADMSG", err);
	CHECK(bad_at == (long)x->last_at, "length word cut short: bad_at %ld, expected %zu",
	      bad_at, x->last_at);
	err = replay_cut(x, file, 10, &rc, &bad_at); /* in the file header */
	CHECK(err == -EBADMSG, "header cut short: got %d", err);
	CHECK(replay_header(x->cut, &off) == -EBADMSG, "replay_header of a cut header");
	/* a header and no records is an empty recording */
	err = replay_cut(x, file, FILE_HEADER, &rc, &bad_at);
	CHECK(err == 0 && rc.n == 0, "empty recording: %d, %zu records", err, rc.n);

	/* not a recording; another ABI version */
	err = replay_cut(x, (const uint8_t *)"hello, this is not a recording at all", 37,
			 &rc, &bad_at);
	CHECK(err == -EBADMSG, "a text file replayed");
	file[8]++;
	err = replay_cut(x, file, flen, &rc, &bad_at);
	CHECK(err == -EBADMSG, "a recording of another ABI version replayed");
	CHECK(replay_header(x->cut, &off) == -EBADMSG, "replay_header of another ABI version");
	file[8]--;
	/* a record longer than RECORD_MAX */
	memcpy(file + FILE_HEADER, &big, 4);
	err = replay_cut(x, file, flen, &rc, &bad_at);
	CHECK(err == -EBADMSG && bad_at == FILE_HEADER && rc.n == 0,
	      "oversized record: %d at %ld after %zu", err, bad_at, rc.n);
	free(file);
}

/* A missing file is said so; recorder_open refuses a symlink, and
 * truncates a regular file, which it leaves 0600. */
static void record_files(struct rec_test *x)
{
	char absent[300];
	struct replay_ctx rc = { 0 };
	struct recorder *rec;
	struct stat sb;
	uint8_t *file;
	size_t flen;
	int64_t off;
	long bad_at;

	snprintf(absent, sizeof(absent), "%s/absent", x->dir);
	CHECK(replay_file(absent, replay_cb, &rc, &off, &bad_at) == -ENOENT,
	      "a missing file replayed");
	CHECK(replay_header(absent, &off) == -ENOENT, "replay_header of a missing file");

	CHECK(symlink(x->cut, x->link) == 0, "symlink: %s", strerror(errno));
	rec = recorder_open(x->link, 0);
	CHECK(rec == NULL, "recorder_open followed a symlink");
	recorder_close(rec);
	rec = recorder_open(x->cut, 7);
	CHECK(rec != NULL, "recorder_open over a file: %s", strerror(errno));
	if (rec) {
		CHECK(recorder_write(rec, x->closebuf, sizeof(x->closebuf)) == 0,
		      "recorder_write");
		CHECK(recorder_close(rec) == 0, "recorder_close");
		file = read_file(x->cut, &flen);
		CHECK_U64("rewritten file size", flen, FILE_HEADER + 4 + sizeof(x->closebuf));
		free(file);
	}
	CHECK(stat(x->cut, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "recording mode %o", (unsigned)(sb.st_mode & 0777));
}

static void test_record(void)
{
	static struct rec_test x;
	const char *tmp = getenv("TMPDIR");

	section("record/replay");
	snprintf(x.dir, sizeof(x.dir), "%s/test_record.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(x.dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(x.path, sizeof(x.path), "%s/rec", x.dir);
	snprintf(x.cut, sizeof(x.cut), "%s/cut", x.dir);
	snprintf(x.link, sizeof(x.link), "%s/link", x.dir);
	if (record_write(&x)) {
		record_round_trip(&x);
		record_damaged(&x);
		record_files(&x);
	}
	unlink(x.link);
	unlink(x.cut);
	unlink(x.path);
	rmdir(x.dir);
	recs_free(&x.r);
	family_end("-");
}

static const struct harness_test tests[] = {
	{ "record/replay", test_record },
};

int main(int argc, char **argv)
{
	return harness_main("test_record", argc, argv, NULL, 0, tests,
			    sizeof(tests) / sizeof(tests[0]));
}
