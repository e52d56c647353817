/* features.h -- internal to the probe layer: what the running kernel offers the probe, tested at start rather than assumed. */
#ifndef HS_FEATURES_H
#define HS_FEATURES_H

#include <stdbool.h>

struct features {
	bool ringbuf;	      /* BPF ring buffer (5.8); else perf buffers */
	bool sock_tp;	      /* sock:sock_{send,recv}_length (6.3) */
	int read_user_helper; /* BPF_FUNC_probe_read_user (5.5), or
			       * BPF_FUNC_probe_read */
	char desc[128];	      /* for --verbose */
};

/* Tests the kernel.  HTTPSNOOP_FORCE_PERF_BUFFER and
 * HTTPSNOOP_FORCE_NO_SOCK_TP in the environment turn the first two off,
 * so that the fallbacks can be tested on a kernel that has both. */
void features_detect(struct features *f);

#endif
