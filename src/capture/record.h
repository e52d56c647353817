/* record.h -- --record/--replay files: the probe's raw records, so the user-space pipeline can run again without root or eBPF. */
#ifndef HS_RECORD_H
#define HS_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* File layout (little-endian, this machine's):
 *   "HSNOOPRC" magic, u32 HS_ABI_VERSION, u32 sizeof(struct hs_event),
 *   i64 clock offset (realtime - monotonic, ns) of the recording host;
 *   then per record: u32 length, then that many bytes.
 * A record is at most RECORD_MAX bytes. */
#define RECORD_MAX (4096 + 16384)

struct recorder;

/* Creates path (mode 0600, never through a symlink).  NULL and errno on
 * failure. */
struct recorder *recorder_open(const char *path, int64_t clock_offset);
int recorder_write(struct recorder *r, const void *rec, size_t len);
/* Flushes and closes; returns 0 or -errno of the first failed write.
 * Accepts NULL. */
int recorder_close(struct recorder *r);

/* Calls fn for every record of the file at path, in order; stops early
 * when fn returns non-zero.  *clock_offset receives the header's.
 * Returns 0, or -errno; -EBADMSG (with *bad_at the file offset) for a
 * file that is not a recording or is cut short. */
typedef int (*replay_fn)(void *ctx, const void *rec, size_t len);
int replay_file(const char *path, replay_fn fn, void *ctx,
		int64_t *clock_offset, long *bad_at);

/* Reads just the header's clock offset.  Returns 0 or -errno
 * (-EBADMSG when path is not a recording of this version). */
int replay_header(const char *path, int64_t *clock_offset);

#endif
