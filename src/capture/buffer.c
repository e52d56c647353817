/* buffer.c -- the records' way from the kernel: a BPF ring buffer, or per-CPU perf buffers put back in time order, behind one poll interface (probe_poll, probe_flush). */
#include "capture/buffer.h"
#include "capture/probe_impl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

#include "core/util.h"

#define MAX_CPUS 1024
#define MAX_READERS (2 * MAX_CPUS) /* perf buffers: two tables, one per CPU each */
/* The perf buffers of the few records that wake the reader at once
 * (hs_urgent: Unix names, closes, execs; a record of those is at most a
 * few hundred bytes). */
#define URGENT_KB 64
/* With records held back, the poll comes back this soon (ms) to hand
 * them over. */
#define HELD_POLL_MS 10

/* A perf-buffer record read but not yet handed over: a copy in arena. */
struct held {
	uint64_t ts, seq; /* its time stamp, and the order it was read in */
	size_t off, len;  /* where the copy is in arena */
};

struct buffer {
	probe_record_fn fn;
	void *ctx;
	struct ring_buffer *rb; /* the ring buffer, or NULL ... */
	struct perf_reader *readers[MAX_READERS]; /* ... the perf buffers */
	int nreaders;
	uint64_t lost;
	/* Perf-buffer records read but not yet handed over (see
	 * perf_release): copies in arena, indexed by held. */
	uint8_t *arena;
	size_t arena_len, arena_cap;
	struct held *held;
	size_t nheld, held_cap;
	uint64_t seq;
};

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct buffer *b = ctx;

	b->fn(b->ctx, data, size);
	return 0;
}

/* Room in held and arena for one more record of len bytes.  0 or
 * -ENOMEM. */
static int hold_room(struct buffer *b, size_t len)
{
	size_t hc = b->held_cap ? b->held_cap * 2 : 256;
	size_t ac = b->arena_cap ? b->arena_cap : 65536;
	void *np;

	if (b->nheld < b->held_cap && b->arena_len + len <= b->arena_cap)
		return 0;
	while (ac < b->arena_len + len)
		ac *= 2;
	if (b->nheld == b->held_cap) {
		np = realloc(b->held, hc * sizeof(*b->held));
		if (!np)
			return -ENOMEM;
		b->held = np;
		b->held_cap = hc;
	}
	if (ac != b->arena_cap) {
		np = realloc(b->arena, ac);
		if (!np)
			return -ENOMEM;
		b->arena = np;
		b->arena_cap = ac;
	}
	return 0;
}

/* Perf buffers are per CPU, so records from different CPUs come in no
 * particular order: a server's response written on one CPU could be read
 * after its close(2) on another.  perf_cb therefore only keeps a copy, and
 * perf_release hands the records over in time order. */
static void perf_cb(void *ctx, void *raw, int size)
{
	struct buffer *b = ctx;
	const struct hs_event *ev = raw;
	size_t len = size;
	struct held *h;

	/* Perf samples are padded to 8 bytes: trim to the record. */
	if (len >= sizeof(*ev) && sizeof(*ev) + ev->captured <= len)
		len = sizeof(*ev) + ev->captured;
	if (hold_room(b, len)) {
		/* Out of memory: hand it over unordered rather than lose
		 * it. */
		b->fn(b->ctx, raw, len);
		return;
	}
	h = &b->held[b->nheld++];
	h->ts = len >= sizeof(*ev) ? ev->ts_ns : 0;
	h->seq = b->seq++;
	h->off = b->arena_len;
	h->len = len;
	memcpy(b->arena + b->arena_len, raw, len);
	b->arena_len += len;
}

static void perf_lost_cb(void *ctx, uint64_t lost)
{
	struct buffer *b = ctx;

	b->lost += lost;
}

static int held_cmp(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int held_by_off(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Hands over, in time order, the held records stamped before `before`,
 * the time at which the buffers' last reading began.  That is safe: a
 * record that must come first (the request before its response, data
 * before the close) was written before the later one's syscall began,
 * so before `before`, and the reading found it.  Records stamped later
 * wait for the next reading. */
static int perf_release(struct buffer *b, uint64_t before)
{
	size_t n = 0, keep;

	if (!b->nheld)
		return 0;
	qsort(b->held, b->nheld, sizeof(*b->held), held_cmp);
	while (n < b->nheld && b->held[n].ts < before) {
		b->fn(b->ctx, b->arena + b->held[n].off, b->held[n].len);
		n++;
	}
	/* The few kept move to the front of the arena in the order they
	 * lie there, so that each moves down (the next release sorts them
	 * again). */
	keep = b->nheld - n;
	memmove(b->held, b->held + n, keep * sizeof(*b->held));
	qsort(b->held, keep, sizeof(*b->held), held_by_off);
	b->arena_len = 0;
	for (size_t i = 0; i < keep; i++) {
		memmove(b->arena + b->arena_len, b->arena + b->held[i].off, b->held[i].len);
		b->held[i].off = b->arena_len;
		b->arena_len += b->held[i].len;
	}
	b->nheld = keep;
	return (int)n;
}

/* Waits for any perf buffer, notes the time, then reads every buffer
 * (not only those that woke the poll) and releases what is safe. */
static int perf_poll(struct buffer *b, int timeout_ms, bool all)
{
	struct pollfd fds[MAX_READERS];
	uint64_t before;
	int n;

	for (int i = 0; i < b->nreaders; i++) {
		fds[i].fd = perf_reader_fd(b->readers[i]);
		fds[i].events = POLLIN;
	}
	if (b->nheld && (timeout_ms < 0 || timeout_ms > HELD_POLL_MS))
		timeout_ms = HELD_POLL_MS;
	n = poll(fds, b->nreaders, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	before = util_now_ns();
	perf_reader_consume(b->nreaders, b->readers);
	return perf_release(b, all ? UINT64_MAX : before);
}

/* Opens a perf buffer per CPU of about kb / CPUs KiB for the table
 * map_fd, each waking the reader every `wakeup` records, into
 * b->readers.  Returns how many it opened. */
static int perf_open(struct buffer *b, int map_fd, unsigned kb, int wakeup)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	int opened = 0;

	for (long cpu = 0; cpu < ncpu && cpu < MAX_CPUS; cpu++) {
		struct bcc_perf_buffer_opts o = { .pid = -1, .cpu = (int)cpu,
						  .wakeup_events = wakeup };
		struct perf_reader *r;
		int key = cpu, rfd;
		unsigned pages = 1;

		while (pages * 4 < kb / (ncpu ? ncpu : 1))
			pages <<= 1;
		r = bpf_open_perf_buffer_opts(perf_cb, perf_lost_cb, b, pages, &o);
		if (!r)
			continue; /* offline CPU */
		rfd = perf_reader_fd(r);
		if (bpf_update_elem(map_fd, &key, &rfd, 0)) {
			perf_reader_free(r);
			continue;
		}
		b->readers[b->nreaders++] = r;
		opened++;
	}
	return opened;
}

struct buffer *buffer_open(int map_fd, int urgent_fd, bool ringbuf,
			   unsigned kb, probe_record_fn fn, void *ctx)
{
	struct buffer *b;

	if (map_fd < 0) {
		warn("the probe has no hs_events table");
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->fn = fn;
	b->ctx = ctx;
	if (ringbuf) {
		b->rb = bpf_new_ringbuf(map_fd, ring_cb, b);
		if (!b->rb) {
			warn("failed to open the ring buffer: %s", strerror(errno));
			free(b);
			return NULL;
		}
		return b;
	}
	/* hs_urgent's buffers first: they are read first, and of two records
	 * of the same time the one read first goes first.  The probe writes
	 * an urgent record before the data records that share its time (a
	 * Unix connection's names). */
	if ((urgent_fd >= 0 && !perf_open(b, urgent_fd, URGENT_KB, 1)) ||
	    !perf_open(b, map_fd, kb, urgent_fd < 0 ? 1 : BUFFER_WAKEUP_EVERY)) {
		warn("failed to open the perf buffers");
		buffer_close(b);
		return NULL;
	}
	return b;
}

int probe_poll(struct probe *p, int timeout_ms)
{
	struct buffer *b = p->buf;
	int n;

	if (!b->rb)
		return perf_poll(b, timeout_ms, false);
	/* Records are mostly sent without a wake-up, so the poll is a timed
	 * sleep and the consume does the work. */
	n = bpf_poll_ringbuf(b->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	n = bpf_consume_ringbuf(b->rb);
	return n < 0 ? 0 : n;
}

int probe_flush(struct probe *p)
{
	if (p->buf->rb)
		return probe_poll(p, 0);
	return perf_poll(p->buf, 0, true);
}

uint64_t buffer_lost(const struct buffer *b)
{
	return b->lost;
}

void buffer_close(struct buffer *b)
{
	if (!b)
		return;
	if (b->rb)
		bpf_free_ringbuf(b->rb);
	for (int i = 0; i < b->nreaders; i++)
		perf_reader_free(b->readers[i]);
	free(b->held);
	free(b->arena);
	free(b);
}
