/* rings.c -- BPF ring buffers read in place, one per CPU, their records handed over in time order. */
#include "capture/rings.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int ring_map(struct ring *r, int fd, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *c, *p;

	memset(r, 0, sizeof(*r));
	c = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c == MAP_FAILED)
		return -errno;
	p = mmap(NULL, page + size, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(c, page);
		return err;
	}
	r->map_cons = c;
	r->map_prod = p;
	r->map_prod_len = page + size;
	r->cons_pos = c;
	r->prod_pos = p;
	r->data = (const uint8_t *)p + page;
	r->mask = size - 1;
	r->cons = __atomic_load_n(r->cons_pos, __ATOMIC_ACQUIRE);
	return 0;
}

void ring_unmap(struct ring *r)
{
	if (r->map_cons)
		munmap(r->map_cons, (size_t)sysconf(_SC_PAGESIZE));
	if (r->map_prod)
		munmap(r->map_prod, r->map_prod_len);
	free(r->bounce);
	memset(r, 0, sizeof(*r));
}

/* The record of n bytes at offset off of r's data, which runs past the
 * data's end: copied whole into r->bounce.  NULL without memory. */
static const uint8_t *ring_unwrap(struct ring *r, size_t off, uint32_t n)
{
	size_t first = r->mask + 1 - off;

	if (n > r->bounce_cap) {
		uint8_t *b = realloc(r->bounce, n);

		if (!b)
			return NULL;
		r->bounce = b;
		r->bounce_cap = n;
	}
	memcpy(r->bounce, r->data + off, first);
	memcpy(r->bounce + first, r->data, n - first);
	return r->bounce;
}

/* Finds the record at r->cons, passing over discarded ones; false when
 * there is none yet (the ring is empty up to r->prod, or its next record
 * is still being written). */
static bool ring_peek(struct ring *r)
{
	while (r->cons < r->prod) {
		/* Records start 8-aligned: a header never wraps. */
		size_t off = r->cons & r->mask;
		const uint8_t *h = r->data + off;
		uint32_t len = __atomic_load_n((const uint32_t *)h, __ATOMIC_ACQUIRE);
		uint32_t n = len & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		off += BPF_RINGBUF_HDR_SZ;
		r->head = h + BPF_RINGBUF_HDR_SZ;
		if (!(len & BPF_RINGBUF_DISCARD_BIT) && off + n > r->mask + 1 &&
		    !(r->head = ring_unwrap(r, off, n)))
			r->dropped++;
		if ((len & BPF_RINGBUF_DISCARD_BIT) || !r->head) {
			r->cons += (BPF_RINGBUF_HDR_SZ + n + 7) & ~7UL;
			__atomic_store_n(r->cons_pos, r->cons, __ATOMIC_RELEASE);
			continue;
		}
		r->head_len = n;
		r->head_ts = 0;
		if (n >= sizeof(struct hs_event))
			memcpy(&r->head_ts, r->head, sizeof(r->head_ts));
		return r->ready = true;
	}
	return r->ready = false;
}

int rings_merge(struct ring *rings, int n, uint64_t before,
		probe_record_fn fn, void *ctx, bool *pending)
{
	int done = 0;

	for (int i = 0; i < n; i++) {
		rings[i].prod = __atomic_load_n(rings[i].prod_pos, __ATOMIC_ACQUIRE);
		ring_peek(&rings[i]);
	}
	for (;;) {
		struct ring *best = NULL;

		for (int i = 0; i < n; i++)
			if (rings[i].ready && rings[i].head_ts < before &&
			    (!best || rings[i].head_ts < best->head_ts))
				best = &rings[i];
		if (!best)
			break;
		fn(ctx, best->head, best->head_len);
		done++;
		best->cons += (BPF_RINGBUF_HDR_SZ + best->head_len + 7) & ~7UL;
		__atomic_store_n(best->cons_pos, best->cons, __ATOMIC_RELEASE);
		ring_peek(best);
	}
	*pending = false;
	for (int i = 0; i < n; i++)
		*pending |= rings[i].ready;
	return done;
}
