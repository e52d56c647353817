/* har.h -- the HAR sink (--har): each transaction as a HAR 1.2 entry, appended so that the file is a complete document after every write. */
#ifndef HS_HAR_H
#define HS_HAR_H

#include <stddef.h>

/* Entries wait in memory until har_flush() or until this many bytes
 * wait, then go in one write. */
#define HAR_BUF_SIZE (256 * 1024)

struct har;

/* The file.  Opens path ("-" for stdout) as -o does (writer_open_fd():
 * O_NOFOLLOW, created 0600, a regular file truncated and made 0600, a
 * FIFO or character device written as is, anything else refused with
 * EINVAL), and writes an empty document.  creator_version is the "creator" object's version.  NULL
 * with errno set on failure. */
struct har *har_open(const char *path, const char *creator_version);

/* Adds one entry: entry[0..len) is a JSON object as it goes in
 * log.entries.  Returns 0 or -errno (of this or an earlier write). */
int har_add(struct har *h, const char *entry, size_t len);

/* Writes the entries waiting, followed by the document's closing
 * brackets, in one pwrite(2) over the previous closing brackets: a
 * regular file is a complete HAR document after every call here, so a
 * httpsnoop stopped between writes, even by SIGKILL, leaves one that
 * parses (SIGINT and SIGTERM end tracing and close the file properly).
 * Only a SIGKILL that lands inside a write can cut it: the kernel stops
 * a write at a page boundary for a fatal signal.  A pipe or terminal
 * cannot be written over: it gets the closing brackets at har_close().
 * Returns 0 or -errno. */
int har_flush(struct har *h);

/* Flushes and closes; accepts NULL.  Returns 0 or -errno. */
int har_close(struct har *h);

#endif
