/* buffer.c -- the records' way from the kernel: one BPF ring buffer, a ring buffer per CPU or per-CPU perf buffers, the last two put back in time order, behind one poll interface (probe_poll, probe_flush). */
#include "capture/buffer.h"
#include "capture/probe_impl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

#include "capture/rings.h"
#include "core/util.h"

#define MAX_CPUS 1024
#define MAX_READERS (2 * MAX_CPUS) /* perf buffers: two tables, one per CPU each */
/* The perf buffers of the few records that wake the reader at once
 * (hs_urgent: Unix names and execs, and closes from an older probe; a
 * record of those is at most a few hundred bytes). */
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
	/* The ring buffers (hs_events, or one per CPU in hs_rings), or none
	 * ... */
	struct ring *rings;
	int *ring_fds; /* the per-CPU rings' (hs_events' is the probe's) */
	int nrings, nring_fds;
	int epfd;     /* their wake-ups */
	bool pending; /* records left in them for the next poll */
	/* ... or the perf buffers. */
	struct perf_reader *readers[MAX_READERS];
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

/* Passes over the rings a poll makes at most while records keep coming,
 * before it lets the caller's timers run. */
#define RINGS_PASSES 16

/* Waits for a wake-up of any ring (or, with records left in them, at
 * most HELD_POLL_MS), then hands over what is safe: with one ring,
 * everything in it, in its order; with one per CPU, what was stamped
 * before the pass began, in time order (see rings_merge).  Passes go on
 * while they find records, as a busy producer keeps adding them: a
 * wait costs a syscall. */
static int rings_poll(struct buffer *b, int timeout_ms, bool all)
{
	struct epoll_event ev[8];
	int n, got, total = 0;

	if (b->pending && (timeout_ms < 0 || timeout_ms > HELD_POLL_MS))
		timeout_ms = HELD_POLL_MS;
	n = epoll_wait(b->epfd, ev, 8, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int pass = 0; pass < RINGS_PASSES; pass++) {
		got = rings_merge(b->rings, b->nrings,
				  all || b->nrings == 1 ? UINT64_MAX : util_now_ns(),
				  b->fn, b->ctx, &b->pending);
		total += got;
		if (!got)
			break;
	}
	return total;
}

/* Maps ring buffer fd (size bytes) as b's next ring, and has its wake-ups
 * end rings_poll's wait.  0 or -errno. */
static int rings_add(struct buffer *b, int fd, size_t size)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	err = ring_map(&b->rings[b->nrings], fd, size);
	if (!err)
		b->nrings++;
	return err;
}

/* Each CPU's share is at most kb, so that a busy CPU has the room one
 * ring for all would give it where there are few. */
size_t buffer_ring_bytes(unsigned kb, unsigned ncpu)
{
	size_t size = (size_t)sysconf(_SC_PAGESIZE), want = (size_t)kb * 1024;

	if (ncpu > 1 && want * 2 / ncpu < want)
		want = want * 2 / ncpu;
	while (size * 2 <= want)
		size *= 2;
	return size;
}

/* hs_events (map_fd) as one ring; or, with rings_fd >= 0, a ring for
 * each of ncpu CPUs (buffer_ring_bytes()), made here and put in the
 * probe's hs_rings.  0 or -errno, after saying why. */
static int rings_open(struct buffer *b, int map_fd, int rings_fd, unsigned ncpu,
		      unsigned kb)
{
	struct bpf_map_info info = { 0 };
	uint32_t ilen = sizeof(info);
	unsigned n = rings_fd >= 0 ? ncpu : 1;
	size_t size = buffer_ring_bytes(kb, n);
	int err;

	b->rings = calloc(n, sizeof(*b->rings));
	if (rings_fd >= 0) /* one ring's fd is the probe's */
		b->ring_fds = calloc(n, sizeof(*b->ring_fds));
	if (!b->rings || (rings_fd >= 0 && !b->ring_fds)) {
		warn("failed to set up the ring buffers: out of memory");
		return -ENOMEM;
	}
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		err = -errno;
		warn("failed to set up the ring buffers: %s", strerror(-err));
		return err;
	}
	if (rings_fd < 0) {
		err = bpf_obj_get_info(map_fd, &info, &ilen) ? -errno : 0;
		if (!err)
			err = rings_add(b, map_fd, info.max_entries);
		if (err)
			warn("failed to open the ring buffer: %s", strerror(-err));
		return err;
	}
	for (unsigned cpu = 0; cpu < ncpu; cpu++) {
		int fd = bcc_create_map(BPF_MAP_TYPE_RINGBUF, "hs_ring", 0, 0, (int)size, 0);

		err = 0;
		if (fd < 0)
			err = -errno;
		else
			b->ring_fds[b->nring_fds++] = fd;
		if (!err && bpf_update_elem(rings_fd, &cpu, &fd, 0))
			err = -errno;
		if (!err)
			err = rings_add(b, fd, size);
		if (err) {
			warn("failed to make the ring buffer of CPU %u (%zu KiB): %s", cpu,
			     size / 1024, strerror(-err));
			return err;
		}
	}
	return 0;
}

struct buffer *buffer_open(int map_fd, int urgent_fd, int rings_fd, unsigned ncpu,
			   bool ringbuf, unsigned kb, probe_record_fn fn, void *ctx)
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
	b->epfd = -1;
	if (ringbuf) {
		if (rings_open(b, map_fd, rings_fd, ncpu, kb)) {
			buffer_close(b);
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

	/* Records are mostly sent without a wake-up, so the poll is mostly
	 * a timed sleep. */
	return b->rings ? rings_poll(b, timeout_ms, false) : perf_poll(b, timeout_ms, false);
}

int probe_flush(struct probe *p)
{
	if (p->buf->rings)
		return rings_poll(p->buf, 0, true);
	return perf_poll(p->buf, 0, true);
}

uint64_t buffer_lost(const struct buffer *b)
{
	uint64_t n = b->lost;

	for (int i = 0; i < b->nrings; i++)
		n += b->rings[i].dropped;
	return n;
}

void buffer_close(struct buffer *b)
{
	if (!b)
		return;
	for (int i = 0; i < b->nrings; i++)
		ring_unmap(&b->rings[i]);
	for (int i = 0; i < b->nring_fds; i++)
		close(b->ring_fds[i]);
	free(b->rings);
	free(b->ring_fds);
	if (b->epfd >= 0)
		close(b->epfd);
	for (int i = 0; i < b->nreaders; i++)
		perf_reader_free(b->readers[i]);
	free(b->held);
	free(b->arena);
	free(b);
}
