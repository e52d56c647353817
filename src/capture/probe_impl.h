/* probe_impl.h -- internal to the probe layer: struct probe, whose parts each own their state, shared by the files that implement probe.h. */
#ifndef HS_PROBE_IMPL_H
#define HS_PROBE_IMPL_H

#include "capture/attach.h"
#include "capture/buffer.h"
#include "capture/features.h"
#include "capture/gouprobe.h"
#include "capture/maps.h"
#include "capture/probe.h"
#include "capture/uprobe.h"

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
	struct buffer *buf;	    /* its records' way here */
	const struct probe_opts *o; /* during probe_open only */
};

#endif
