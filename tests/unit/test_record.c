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

static void test_record(void)
{
	const struct fixture *f = &fixtures[0];
	struct plan pl = { .mode = M_WHOLE };
	struct recs r = { 0 };
	struct collector col = { 0 };
	struct stats stats = { 0 };
	struct replay_ctx rc;
	struct recorder *rec;
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300], cut[300], link[300];
	uint8_t closebuf[sizeof(struct hs_event)];
	uint8_t *file;
	size_t flen, last_at = FILE_HEADER;
	int64_t off = 0;
	long bad_at = 0;
	int err;

	section("record/replay");
	snprintf(dir, sizeof(dir), "%s/test_record.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/rec", dir);
	snprintf(cut, sizeof(cut), "%s/cut", dir);
	snprintf(link, sizeof(link), "%s/link", dir);

	build(f, &pl, &r);
	for (size_t i = 0; i < r.n; i++)
		((struct hs_event *)r.v[i].buf)->ts_ns = 1000 * (i + 1);
	mkctl(closebuf, HS_EV_CLOSE, CONN_ID, TGID, 1000 * (r.n + 1));
	{
		uint8_t *c = xmalloc(sizeof(closebuf));

		memcpy(c, closebuf, sizeof(closebuf));
		recs_push(&r, c, sizeof(closebuf), 0);
	}

	rec = recorder_open(path, -123456789012345LL);
	CHECK(rec != NULL, "recorder_open: %s", strerror(errno));
	if (!rec)
		goto out;
	for (size_t i = 0; i < r.n; i++) {
		if (i + 1 == r.n)
			last_at = FILE_HEADER;
		CHECK(recorder_write(rec, r.v[i].buf, r.v[i].len) == 0, "recorder_write %zu", i);
	}
	CHECK(recorder_close(rec) == 0, "recorder_close");
	CHECK(recorder_close(NULL) == 0, "recorder_close(NULL)");
	for (size_t i = 0; i + 1 < r.n; i++)
		last_at += 4 + r.v[i].len;

	err = replay_header(path, &off);
	CHECK(err == 0 && off == -123456789012345LL, "replay_header: %d, offset %lld",
	      err, (long long)off);

	/* the round trip gives back the records, and the transactions */
	memset(&rc, 0, sizeof(rc));
	rc.want = &r;
	rc.st = new_stream(&stats, &col, MAX_BODY);
	off = 0;
	err = replay_file(path, replay_cb, &rc, &off, &bad_at);
	CHECK(err == 0, "replay_file: %d", err);
	CHECK(off == -123456789012345LL, "clock offset %lld", (long long)off);
	CHECK(!rc.mismatch && rc.n == r.n, "replayed %zu records (%s), expected %zu",
	      rc.n, rc.mismatch ? "some differ" : "identical", r.n);
	CHECK_U64("stream_count after replay", stream_count(rc.st), 0);
	stream_free(rc.st);
	CHECK_U64("replayed transactions", col.n, f->ntxns);
	for (size_t k = 0; k < col.n && k < f->ntxns; k++)
		check_txn(f, k, &col.v[k], &f->txns[k], true);
	collector_free(&col);

	/* fn stops the replay early */
	memset(&rc, 0, sizeof(rc));
	rc.stop_after = 2;
	err = replay_file(path, replay_cb, &rc, &off, &bad_at);
	CHECK(err == 0 && rc.n == 2, "early stop: %d after %zu records", err, rc.n);

	file = read_file(path, &flen);
	{
		size_t want = FILE_HEADER;

		for (size_t i = 0; i < r.n; i++)
			want += 4 + r.v[i].len;
		CHECK_U64("file size", flen, want);
	}

	/* cut inside the last record's payload */
	write_file(cut, file, flen - 3);
	memset(&rc, 0, sizeof(rc));
	err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
	CHECK(err == -EBADMSG, "payload cut short: got %d, expected -EBADMSG", err);
	CHECK(bad_at == (long)last_at, "payload cut short: bad_at %ld, expected %zu",
	      bad_at, last_at);
	CHECK(rc.n == r.n - 1, "payload cut short: %zu records before it, expected %zu",
	      rc.n, r.n - 1);

	/* cut inside the last record's length word */
	write_file(cut, file, last_at + 2);
	memset(&rc, 0, sizeof(rc));
	err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
	CHECK(err == -EBADMSG, "length word cut short: got %d, expected -EBADMSG", err);
	CHECK(bad_at == (long)last_at, "length word cut short: bad_at %ld, expected %zu",
	      bad_at, last_at);

	/* cut inside the file header */
	write_file(cut, file, 10);
	err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
	CHECK(err == -EBADMSG, "header cut short: got %d", err);
	CHECK(replay_header(cut, &off) == -EBADMSG, "replay_header of a cut header");

	/* a header and no records is an empty recording */
	write_file(cut, file, FILE_HEADER);
	memset(&rc, 0, sizeof(rc));
	err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
	CHECK(err == 0 && rc.n == 0, "empty recording: %d, %zu records", err, rc.n);

	/* not a recording; another ABI version */
	write_file(cut, "hello, this is not a recording at all", 37);
	CHECK(replay_file(cut, replay_cb, &rc, &off, &bad_at) == -EBADMSG,
	      "a text file replayed");
	file[8]++;
	write_file(cut, file, flen);
	CHECK(replay_file(cut, replay_cb, &rc, &off, &bad_at) == -EBADMSG,
	      "a recording of another ABI version replayed");
	CHECK(replay_header(cut, &off) == -EBADMSG, "replay_header of another ABI version");
	file[8]--;
	/* a record longer than RECORD_MAX */
	{
		uint32_t big = RECORD_MAX + 1;

		memcpy(file + FILE_HEADER, &big, 4);
		write_file(cut, file, flen);
		memset(&rc, 0, sizeof(rc));
		err = replay_file(cut, replay_cb, &rc, &off, &bad_at);
		CHECK(err == -EBADMSG && bad_at == FILE_HEADER && rc.n == 0,
		      "oversized record: %d at %ld after %zu", err, bad_at, rc.n);
	}
	free(file);

	snprintf(path, sizeof(path), "%s/absent", dir);
	CHECK(replay_file(path, replay_cb, &rc, &off, &bad_at) == -ENOENT,
	      "a missing file replayed");
	CHECK(replay_header(path, &off) == -ENOENT, "replay_header of a missing file");

	/* recorder_open refuses a symlink, and truncates a regular file */
	CHECK(symlink(cut, link) == 0, "symlink: %s", strerror(errno));
	rec = recorder_open(link, 0);
	CHECK(rec == NULL, "recorder_open followed a symlink");
	recorder_close(rec);
	rec = recorder_open(cut, 7);
	CHECK(rec != NULL, "recorder_open over a file: %s", strerror(errno));
	if (rec) {
		CHECK(recorder_write(rec, closebuf, sizeof(closebuf)) == 0, "recorder_write");
		CHECK(recorder_close(rec) == 0, "recorder_close");
		file = read_file(cut, &flen);
		CHECK_U64("rewritten file size", flen, FILE_HEADER + 4 + sizeof(closebuf));
		free(file);
	}
	{
		struct stat sb;

		CHECK(stat(cut, &sb) == 0 && (sb.st_mode & 0777) == 0600 ,
		      "recording mode %o", (unsigned)(sb.st_mode & 0777));
	}
	unlink(link);
	unlink(cut);
	snprintf(path, sizeof(path), "%s/rec", dir);
	unlink(path);
out:
	rmdir(dir);
	recs_free(&r);
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
