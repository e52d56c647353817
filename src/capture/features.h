/* features.h -- internal to the probe layer: what the running kernel offers the probe, tested at start rather than assumed. */
#ifndef HS_FEATURES_H
#define HS_FEATURES_H

#include <stdbool.h>

#include "capture/probe.h"

struct features {
	bool ringbuf;	      /* BPF ring buffer (5.8); else perf buffers */
	unsigned ring_cpus;   /* with it: a ring buffer per CPU, for this
			       * many CPUs (an array of ring buffers); 0:
			       * one ring for all */
	size_t ring_bytes;    /* the size of each */
	bool sock_tp;	      /* sock:sock_{send,recv}_length (6.3) */
	int read_user_helper; /* BPF_FUNC_probe_read_user (5.5), or
			       * BPF_FUNC_probe_read */
	bool task_regs;	      /* a syscall's arguments from the task's
			       * registers (5.15, BTF, x86-64) */
	bool sock_hooks;      /* the socket-level hooks are in use: they
			       * need sock_tp and task_regs */
	bool tcp_send_tp;     /* with them, tcp:tcp_sendmsg_locked (6.12)
			       * dates a TCP send at its start */
	bool ssl_session;     /* with them, OpenSSL's writes in a uprobe
			       * session (6.13): most reported at their
			       * entry, without a return probe */
	char desc[256];	      /* for --verbose */
};

/* Tests the kernel, and chooses the hook path `hooks` asks for
 * (PROBE_HOOKS_AUTO: the socket-level hooks where the kernel has them,
 * unless HTTPSNOOP_HOOKS=sock|syscall in the environment chooses).
 * A ring buffer per CPU where there are two CPUs or more, each of their
 * rings (twice ring_kb KiB in all, ring_kb at most each) has 2 MiB or
 * more, and the kernel takes ring buffers in an array of maps.
 * HTTPSNOOP_FORCE_PERF_BUFFER, HTTPSNOOP_FORCE_SHARED_RING,
 * HTTPSNOOP_FORCE_NO_SOCK_TP, HTTPSNOOP_FORCE_NO_TASK_REGS,
 * HTTPSNOOP_FORCE_NO_TCP_SEND_TP and HTTPSNOOP_FORCE_NO_UPROBE_SESSION in
 * the environment turn those off, so
 * that the fallbacks can be tested on a kernel that has them.  Returns
 * 0, or -ENOTSUP after saying why when the socket-level hooks were asked
 * for and the kernel cannot have them. */
int features_detect(struct features *f, enum probe_hooks hooks, unsigned ring_kb);
/* f->desc again, after a change of plan (a probe without hs_rings). */
void features_describe(struct features *f);

#endif
