/* probe_impl.h -- internal to the probe layer: struct probe, whose parts each own their state, shared by the files that implement probe.h. */
#ifndef HS_PROBE_IMPL_H
#define HS_PROBE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "capture/attach.h"
#include "capture/buffer.h"
#include "capture/features.h"
#include "capture/gouprobe.h"
#include "capture/maps.h"
#include "capture/probe.h"
#include "capture/uprobe.h"

/* The processes in which the uprobes (OpenSSL's, Go's) trap: -p's, when
 * it names at most PROBE_UPROBE_PIDS (probe.h).  Else n is 0 and they
 * trap in every process that maps the file, the probe's filter then
 * dropping the calls of processes it does not trace. */
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

/* probe.h's functions live with the part they concern: probe.c (open,
 * close, features), maps.c (arm, stats, filters, ignore, sweep), buffer.c
 * (poll, flush), uprobe.c (attach_tls, has_tls) and gouprobe.c (attach_go,
 * has_go). */
struct probe {
	struct features feat;	    /* what the kernel offers */
	struct maps maps;	    /* the probe's tables */
	struct attach att;	    /* its programs and tracepoints */
	struct uprobe up;	    /* its OpenSSL uprobes */
	struct gouprobe go;	    /* its Go crypto/tls uprobes */
	struct probe_pids upids;    /* where both kinds of uprobe trap */
	struct buffer *buf;	    /* its records' way here */
	const struct probe_opts *o; /* during probe_open only */
};

#endif
