/* uprobe.h -- internal to the probe layer: the probe's OpenSSL uprobe programs, and their attachment to each TLS library (probe_attach_tls). */
#ifndef HS_UPROBE_H
#define HS_UPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/attach.h"
#include "capture/probe.h"
#include "event.h"

#define UPROBE_LIBS 32 /* libraries attached to, at most */
/* Attachments at most: a perf event each, per slot of each library, and
 * with -p per process (probe.h's PROBE_UPROBE_PIDS). */
#define UPROBE_MAX (UPROBE_LIBS * HS_UPROBE_SLOTS * 4)
#define UPROBE_EV_LEN 32 /* an attachment's event name, NUL included */

/* The processes in which the uprobes (OpenSSL's, Go's) trap: -p's, when
 * it names at most PROBE_UPROBE_PIDS (probe.h) and this process may open
 * perf events on each.  Else n is 0 and they trap in every process that
 * maps the file, the probe's filter then dropping the calls of
 * processes it does not trace. */
struct probe_pids {
	uint32_t pid[PROBE_UPROBE_PIDS];
	size_t n;
};

/* How many perf events one uprobe takes: one per process of t, or one
 * for every process. */
static inline size_t probe_pids_count(const struct probe_pids *t)
{
	return t->n ? t->n : 1;
}

/* perf_event_open()'s pid for the k-th: a process of t, or -1 (every
 * process). */
static inline int probe_pids_at(const struct probe_pids *t, size_t k)
{
	return t->n ? (int)t->pid[k] : -1;
}

/* Sets *t for -p's npids processes pids (see above); with verbose, says
 * why they trap everywhere when a process refuses its perf events. */
void uprobe_pids_set(struct probe_pids *t, const uint32_t *pids, size_t npids,
		     bool verbose);

struct uprobe {
	int prog_fd[HS_UPROBE_SLOTS]; /* by slot; -1: the probe has none */
	char ev[UPROBE_MAX][UPROBE_EV_LEN]; /* attachments, to detach */
	int nev;
	char how[320]; /* where the last library's reads and writes are
			* probed, and why there, for --verbose */
};

/* Marks every slot empty. */
void uprobe_init(struct uprobe *u);
/* In the compiling child: loads the uprobe programs that the module mod
 * has (an edited probe may have none) and sends them to the parent.
 * Returns 0 or -errno. */
int uprobe_load(struct attach *a, void *mod, int sock);
/* In the parent: keeps the program of one slot.  0, or -E2BIG for a
 * slot out of range. */
int uprobe_set_prog(struct uprobe *u, int slot, int fd);
/* Where the last probe_attach_tls put the uprobes of reads and writes
 * (at the internal function SSL_read and SSL_read_ex share, see
 * sslbin.h, or why at the exported functions).  Valid until the next
 * call. */
struct probe;
const char *uprobe_tls_how(const struct probe *p);
/* Detaches everything and closes the programs. */
void uprobe_close(struct uprobe *u);

#endif
