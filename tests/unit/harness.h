/* harness.h -- the unit tests' harness: checks that count and report, fixtures fed to the stream tracker as probe records, and what the protocols emit, kept for checking. */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/stats.h"
#include "core/txn.h"
#include "event.h"
#include "fixture.h"
#include "stream/stream.h"

/* The test program's name, for messages (set by harness_main). */
extern const char *harness_prog;

/* ---- checks ----------------------------------------------------------- */

/* Counters shared with the child each fixture runs in, so that a crash
 * in one (a src/ bug) is reported and the others still run. */
struct counters {
	unsigned long checks, failures, runs;
};
extern struct counters *cnt;
extern const char *cur_fixture; /* what is being checked, for messages */
extern char cur_mode[96];	 /* how it is fed */
extern int budget;		 /* failures still printed for this family */

/* Counts a failure; true if it should be printed (a few per fixture and
 * mode family, so that a bug seen at every split point does not flood). */
bool fail_begin(const char *file, int line);
void family_begin(void);
void family_end(const char *family);
/* Starts a named group of checks (not a fixture). */
void section(const char *name);
bool str_eq(const char *a, const char *b);
const char *nz(const char *s);

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		cnt->checks++;                                                \
		if (!(cond) && fail_begin(__FILE__, __LINE__)) {              \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
		}                                                             \
	} while (0)

#define CHECK_U64(what, got, exp)                                             \
	CHECK((uint64_t)(got) == (uint64_t)(exp),                             \
	      "%s: got %llu, expected %llu", (what),                          \
	      (unsigned long long)(got), (unsigned long long)(exp))

#define CHECK_INT(what, got, exp)                                             \
	CHECK((long long)(got) == (long long)(exp),                           \
	      "%s: got %lld, expected %lld", (what), (long long)(got),        \
	      (long long)(exp))

#define CHECK_STR(what, got, exp)                                             \
	CHECK(str_eq((got), (exp)), "%s: got \"%s\", expected \"%s\"",        \
	      (what), nz(got), nz(exp))

/* ---- memory ---------------------------------------------------------- */

void *xmalloc(size_t n);
char *xstrndup(const char *s, size_t n);
/* Keeps p, to be freed at exit (at most 64). */
void *own(void *p);
/* hdr followed by len bytes of body, as one owned buffer. */
uint8_t *cat(size_t *out_len, const char *hdr, const void *body, size_t len);
/* An owned, formatted string. */
char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* Compresses in with zlib: wbits 16+15 gzip, 15 zlib, -15 raw deflate. */
size_t zcompress(int wbits, const void *in, size_t len, uint8_t *out,
		 size_t cap);

/* ---- what the emit callback keeps ------------------------------------ */

struct got_hdr {
	char *name, *value;
};

struct got_msg {
	bool present, complete, head_truncated, chunked;
	char *method, *target, *reason;
	int status, version;	/* version as major * 10 + minor */
	struct got_hdr *hdrs;
	size_t nhdrs;
	uint64_t body_size, body_missing;
	uint8_t *preview;
	size_t preview_len;
	bool preview_truncated, preview_decoded;
	const char *decode_error;
	uint16_t anomalies;
	uint64_t first_ts, last_ts;
};

struct got_txn {
	struct conn_info conn;	/* conn.unx is NULL: see unx */
	bool has_unx;		/* a Unix connection's names came */
	struct hs_unix unx;	/* a copy of them */
	struct got_msg req, resp;
	int interim;
	bool upgraded;
	const char *error; /* static in the HTTP layer */
};

struct got_ws {
	struct ws_msg m;  /* preview: a copy, NUL-terminated */
};

struct collector {
	struct got_txn *v;
	size_t n, cap;
	struct got_ws *ws;
	size_t nws, wscap;
};

/* The tracker's emit.txn and emit.ws: copy t or m into the collector
 * ctx. */
void on_emit(void *ctx, struct txn *t);
void on_emit_ws(void *ctx, struct ws_msg *m);
void collector_free(struct collector *c);
const char *got_hdr(const struct got_msg *g, const char *name);
/* Prints what was collected (after a failure). */
void dump(const struct collector *col);

/* ---- probe records ---------------------------------------------------- */

struct rec {
	uint8_t *buf;
	size_t len;
	int dir;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

/* A record header of the fixtures' connection (CONN_ID, TGID, FD). */
void fill_header(struct hs_event *ev, uint8_t type, uint8_t role);
void recs_push(struct recs *r, uint8_t *buf, size_t len, int dir);
/* Appends a DATA record: `captured` bytes of data, covering `span`. */
void add_data(struct recs *r, const struct fixture *f, int dir,
	      uint64_t *pos, const uint8_t *data, size_t captured,
	      uint64_t span);
void recs_free(struct recs *r);
/* A DATA record in buf (at least sizeof(hs_event) + len bytes). */
size_t mkdata(uint8_t *buf, uint64_t conn, uint32_t tgid, uint8_t role,
	      int dir, uint64_t pos, const char *s, uint64_t ts);
struct hs_event *mkctl(uint8_t *buf, uint8_t type, uint64_t conn,
		       uint32_t tgid, uint64_t ts);
/* A buffer for one record. */
extern uint8_t scratch[sizeof(struct hs_event) + HS_CHUNK_MAX];
/* Feeds s as the next bytes of conn's direction dir (pos: the next
 * offset of each direction, updated). */
void feed_str(struct stream *st, uint64_t conn, uint32_t tgid, int dir,
	      uint64_t pos[2], const char *s, uint64_t ts);
void feed_ctl(struct stream *st, uint8_t type, uint64_t conn, uint32_t tgid,
	      uint64_t ts);

/* ---- feeding fixtures ----------------------------------------------- */

enum mode {
	M_WHOLE,	 /* one record per chunk */
	M_SPLIT,	 /* one chunk in two records */
	M_BYTES,	 /* one byte per record */
	M_REORDER_WHOLE, /* whole, adjacent same-direction records swapped */
	M_REORDER_BYTES, /* bytes, adjacent same-direction records swapped */
	M_REORDER_FIRST, /* bytes, the first two records of each direction
			  * swapped */
	M_SPLIT_SWAP,	 /* one chunk in two records, delivered last first */
	M_BODY_GAP,	 /* whole, with fixture->body_gap */
	M_HDR_GAP,	 /* whole, with fixture->hdr_gap */
};

struct plan {
	enum mode mode;
	int chunk;		/* M_SPLIT, M_SPLIT_SWAP */
	size_t at;
	const struct gapspec *gap; /* M_BODY_GAP, M_HDR_GAP */
};

/* The records of fixture f fed as plan pl says. */
void build(const struct fixture *f, const struct plan *pl, struct recs *r);
/* Checks the WebSocket messages collected against f's (their times too,
 * with check_ts). */
void check_ws(const struct fixture *f, const struct collector *col,
	      bool check_ts);
/* Checks transaction k against what e expects. */
void check_txn(const struct fixture *f, size_t k, const struct got_txn *g,
	       const struct expect *e, bool check_ts);
/* A tracker that keeps everything (no idleness, no reorder timeout). */
struct stream *new_stream(struct stats *stats, struct collector *col,
			  size_t max_body);
/* A tracker with these limits (stream_opts) and MAX_BODY previews. */
struct stream *new_stream_limits(struct stats *stats, struct collector *col,
				 size_t max_conns, uint64_t idle_ns,
				 uint64_t reorder_ns, size_t reorder_max);
/* Ends the fixture's connection as it says (close, exit, close all). */
void feed_end(struct stream *st, const struct fixture *f, uint64_t ts);
/* One feeding of f, checked. */
void run(const struct fixture *f, const struct plan *pl);
/* f fed in every way: whole, split at every byte, one byte at a time,
 * reordered, with its gaps. */
void run_fixture(const struct fixture *f);

/* ---- running ----------------------------------------------------------- */

/* Runs fn in a child, so that a crash (or a sanitizer report) in src/ is
 * counted as a failure of that part and the rest still runs. */
void isolate(const char *name, void (*fn)(const void *), const void *arg);

struct harness_test {
	const char *name;
	void (*fn)(void);
};

/* Runs each fixture of fix, then each test, whose name holds argv[1]
 * (all without it), each in a child; prints "PROG: N fixtures in R runs,
 * C checks, F failed" and returns the exit status: 0 only if every check
 * passed. */
int harness_main(const char *prog, int argc, char **argv,
		 const struct fixture *const *fix, size_t nfix,
		 const struct harness_test *tests, size_t ntests);

#endif
