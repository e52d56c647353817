/* test_rings.c -- rings_merge(): the records of per-CPU ring buffers handed over in time order, in rings laid out by hand as the kernel lays them out. */
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "capture/rings.h"

#include "check.h"

#define SIZE 4096 /* data bytes of each ring */

/* A ring as the kernel keeps it: the two positions and the data, which
 * user space sees twice in a row (data[SIZE..] mirrors data[0..]). */
struct fake {
	unsigned long cons, prod;
	uint8_t data[2 * SIZE];
};

static void ring_of(struct ring *r, struct fake *f)
{
	memset(r, 0, sizeof(*r));
	r->cons_pos = &f->cons;
	r->prod_pos = &f->prod;
	r->data = f->data;
	r->mask = SIZE - 1;
	r->cons = f->cons;
}

static void put_bytes(struct fake *f, unsigned long pos, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t at = (pos + i) & (SIZE - 1);

		f->data[at] = f->data[at + SIZE] = ((const uint8_t *)p)[i];
	}
}

/* Appends a record of len bytes: an hs_event stamped ts whose conn_id is
 * id, the rest bytes of a pattern on_rec() checks (or, with len short,
 * only its first len bytes), its header flags as given.  Returns where
 * its header is. */
static unsigned long put(struct fake *f, uint64_t ts, uint64_t id, uint32_t len,
			 uint32_t flags)
{
	uint8_t rec[256];
	struct hs_event ev;
	uint32_t hdr[2] = { len | flags, 0 };
	unsigned long at = f->prod;

	for (uint32_t i = 0; i < len && i < sizeof(rec); i++)
		rec[i] = (uint8_t)(id + i);
	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.conn_id = id;
	memcpy(rec, &ev, len < sizeof(ev) ? len : sizeof(ev));
	put_bytes(f, at, hdr, sizeof(hdr));
	put_bytes(f, at + BPF_RINGBUF_HDR_SZ, rec, len);
	f->prod += (BPF_RINGBUF_HDR_SZ + len + 7) & ~7UL;
	return at;
}

static void set_flags(struct fake *f, unsigned long at, uint32_t len, uint32_t flags)
{
	uint32_t v = len | flags;

	put_bytes(f, at, &v, sizeof(v));
}

/* What fn was handed: each record's conn_id, or 1000 + its length for a
 * record too short to have one. */
static uint64_t got[64];
static int ngot;

static void on_rec(void *ctx, const void *rec, size_t len)
{
	const struct hs_event *ev = rec;
	uint64_t id = len >= sizeof(*ev) ? ev->conn_id : 1000 + len;

	(void)ctx;
	for (size_t i = sizeof(*ev); i < len; i++)
		CHECK(((const uint8_t *)rec)[i] == (uint8_t)(id + i),
		      "record %llu: byte %zu differs", (unsigned long long)id, i);
	if (ngot < 64)
		got[ngot++] = id;
}

static void expect(const char *what, const uint64_t *want, int n)
{
	CHECK(ngot == n, "%s: %d records, want %d", what, ngot, n);
	for (int i = 0; i < n && i < ngot; i++)
		CHECK(got[i] == want[i], "%s: record %d is %llu, want %llu", what, i,
		      (unsigned long long)got[i], (unsigned long long)want[i]);
	ngot = 0;
}

static struct fake fk[3];
static struct ring rs[3];

static void reset(int n, unsigned long start)
{
	for (int i = 0; i < 3; i++)
		ring_unmap(&rs[i]); /* made by hand: frees only its bounce */
	for (int i = 0; i < n; i++) {
		memset(&fk[i], 0, sizeof(fk[i]));
		fk[i].cons = fk[i].prod = start;
		ring_of(&rs[i], &fk[i]);
	}
	ngot = 0;
}

int main(void)
{
	const uint32_t ev = sizeof(struct hs_event);
	bool pending;
	unsigned long at;

	/* Three rings, each in time order, merged; ties go to the lower
	 * ring; every consumer position ends at its producer's. */
	reset(3, 0);
	put(&fk[0], 10, 1, ev, 0);
	put(&fk[1], 20, 2, ev, 0);
	put(&fk[2], 25, 3, ev, 0);
	put(&fk[0], 30, 4, ev, 0);
	put(&fk[1], 30, 5, ev, 0);
	put(&fk[2], 40, 6, ev, 0);
	CHECK(rings_merge(rs, 3, UINT64_MAX, on_rec, NULL, &pending) == 6, "merge: count");
	expect("merge", (const uint64_t[]){ 1, 2, 3, 4, 5, 6 }, 6);
	CHECK(!pending, "merge: nothing should be left");
	for (int i = 0; i < 3; i++)
		CHECK(fk[i].cons == fk[i].prod, "merge: ring %d consumed to %lu of %lu", i,
		      fk[i].cons, fk[i].prod);

	/* Stamped at or after `before`: left, with what follows it in its
	 * ring, for the next call. */
	reset(2, 0);
	put(&fk[0], 10, 1, ev, 0);
	at = put(&fk[0], 50, 2, ev, 0);
	put(&fk[0], 20, 3, ev, 0); /* behind the later one */
	put(&fk[1], 30, 4, ev, 0);
	put(&fk[1], 60, 5, ev, 0);
	CHECK(rings_merge(rs, 2, 50, on_rec, NULL, &pending) == 2, "before: count");
	expect("before", (const uint64_t[]){ 1, 4 }, 2);
	CHECK(pending, "before: records should be left");
	CHECK(fk[0].cons == at, "before: ring 0 consumed to %lu, want %lu", fk[0].cons, at);
	CHECK(rings_merge(rs, 2, UINT64_MAX, on_rec, NULL, &pending) == 3, "before: rest");
	expect("before, rest", (const uint64_t[]){ 2, 3, 5 }, 3);
	CHECK(!pending, "before: nothing should be left at the end");

	/* A record still being written stops its ring there (and is not
	 * "pending": its wake-up or the next poll brings it); the other
	 * ring goes on. */
	reset(2, 0);
	at = put(&fk[0], 10, 1, ev, BPF_RINGBUF_BUSY_BIT);
	put(&fk[0], 20, 2, ev, 0);
	put(&fk[1], 30, 3, ev, 0);
	CHECK(rings_merge(rs, 2, UINT64_MAX, on_rec, NULL, &pending) == 1, "busy: count");
	expect("busy", (const uint64_t[]){ 3 }, 1);
	CHECK(!pending && fk[0].cons == 0, "busy: ring 0 should wait at 0, is at %lu", fk[0].cons);
	set_flags(&fk[0], at, ev, 0);
	CHECK(rings_merge(rs, 2, UINT64_MAX, on_rec, NULL, &pending) == 2, "busy: written");
	expect("busy, written", (const uint64_t[]){ 1, 2 }, 2);

	/* A discarded record is passed over, and its room given back. */
	reset(1, 0);
	put(&fk[0], 10, 1, ev, BPF_RINGBUF_DISCARD_BIT);
	put(&fk[0], 20, 2, ev, 0);
	CHECK(rings_merge(rs, 1, UINT64_MAX, on_rec, NULL, &pending) == 1, "discard: count");
	expect("discard", (const uint64_t[]){ 2 }, 1);
	CHECK(fk[0].cons == fk[0].prod, "discard: room not given back");

	/* A record too short to carry a time counts as time 0: first. */
	reset(2, 0);
	put(&fk[0], 10, 1, ev, 0);
	put(&fk[1], 0, 0, 12, 0);
	rings_merge(rs, 2, 5, on_rec, NULL, &pending);
	expect("short", (const uint64_t[]){ 1012 }, 1);
	CHECK(pending, "short: the later record should be left");
	rings_merge(rs, 2, UINT64_MAX, on_rec, NULL, &pending);
	expect("short, rest", (const uint64_t[]){ 1 }, 1);

	/* Positions far from 0, and records that wrap past the data's end
	 * (copied whole; the data is mapped once): one whose bytes start
	 * there, one whose header is the data's last 8 bytes. */
	reset(2, 5 * SIZE - 24);
	put(&fk[0], 10, 7, ev + 40, 0);
	put(&fk[0], 11, 8, ev, 0);
	put(&fk[1], 5, 9, ev, 0);
	memset(fk[0].data + SIZE, 0xee, SIZE); /* the mirror is not read */
	CHECK(rings_merge(rs, 2, UINT64_MAX, on_rec, NULL, &pending) == 3, "wrap: count");
	expect("wrap", (const uint64_t[]){ 9, 7, 8 }, 3);
	CHECK(fk[0].cons == fk[0].prod && fk[1].cons == fk[1].prod, "wrap: not consumed");
	reset(1, 3 * SIZE - 8);
	put(&fk[0], 10, 11, ev + 3, 0);
	memset(fk[0].data + SIZE, 0xee, SIZE);
	rings_merge(rs, 1, UINT64_MAX, on_rec, NULL, &pending);
	expect("wrap at a header", (const uint64_t[]){ 11 }, 1);

	/* No records: nothing happens. */
	reset(2, 128);
	CHECK(rings_merge(rs, 2, UINT64_MAX, on_rec, NULL, &pending) == 0 && !pending &&
		      fk[0].cons == 128,
	      "empty rings");
	reset(0, 0);
	return check_result("test_rings");
}
